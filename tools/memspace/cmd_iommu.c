/*
 * memspace CLI: IOMMUs - regions translated by a page table (iommu_model.c),
 * iommu-map, iommu-unmap, iommu-invalidate, notifiers, replay and iotlb.
 *
 * Page-table entries are counted over every IOMMU of the session
 * (MSC_MAX_IOMMU_ENTRIES) before a change is made. A notifier that refuses
 * events (fail=on) makes the command report an error after the table has
 * changed, as the library's contract says.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "buffer.h"
#include "script_int.h"

/*
 * The index notifier @n follows, for replay. The library has no getter for
 * it, so the session answers for the notifiers it made; any other is a
 * VFIO container's, which follows index 0 (vfio.h).
 */
static unsigned notifier_index(ms_iommu_notifier *n, void *arg)
{
	msc_session *s = arg;

	for (size_t i = 0; i < s->notifiers.nr; i++) {
		msc_notifier_ent *e = msc_table_item(&s->notifiers, i);

		if (e->n == n)
			return e->idx;
	}
	return 0;
}

/* iommu NAME SIZE: with target=AS a translating IOMMU (iommu_model.c), else class-less. */
int msc_do_iommu(msc_session *s, msc_call *c)
{
	msc_word *target = msc_opt_word(c, "target"), *page_w = msc_opt_word(c, "page"),
		 *idx_w = msc_opt_word(c, "indexes");
	msc_iommu_config cfg = {0};
	msc_placement place;
	msc_iommu *m;
	ms_region *r;
	uint64_t size, page = MS_IOMMU_PAGE_SIZE_DEFAULT, nr = 1;
	int rc;

	if (!target) {
		if (page_w || idx_w)
			return msc_error(s, (page_w ? page_w : idx_w)->col,
					 "iommu: page= and indexes= need target=AS");
		return msc_do_region(s, c); /* the command's arg is MS_REGION_IOMMU */
	}
	if (msc_check_region_budget(s, c) ||
	    msc_check_new_name(s, c->pos[0], "region", &s->regions) ||
	    msc_arg_number(s, c->pos[1], "size", true, &size))
		return 1;
	if (msc_opt_as(s, c, "target", &cfg.target) || msc_opt_number(s, c, "page", &page))
		return 1;
	if (page == 0 || (page & (page - 1)))
		return msc_error(s, msc_value_of(page_w).col,
				 "iommu: the page size must be a power of two, not 0x%" PRIx64,
				 page);
	if (msc_opt_number(s, c, "indexes", &nr))
		return 1;
	if (nr == 0 || nr > MS_IOMMU_MAX_INDEXES)
		return msc_error(s, msc_value_of(idx_w).col, "iommu: indexes= takes 1 to %u",
				 MS_IOMMU_MAX_INDEXES);
	if (size == 0)
		return msc_error(s, c->pos[1]->col, "iommu: the size cannot be 0");
	if (msc_parse_placement(s, c, &place))
		return 1;
	if (msc_grow((void **)&s->models, &s->cap_models, s->nr_models, sizeof(*s->models), 16))
		return msc_lib_error(s, c->word->col, "iommu", -ENOMEM, NULL);
	cfg.name = c->pos[0]->text;
	cfg.size = size;
	cfg.page = page;
	cfg.nr_indexes = (unsigned)nr;
	cfg.notifier_index = notifier_index;
	cfg.arg = s;
	rc = msc_iommu_new(&m, &r, s->ctx, &cfg);
	if (rc)
		return msc_lib_error(s, c->word->col, "iommu", rc, NULL);
	if (msc_finish_region(s, c, r, NULL, &place, NULL)) {
		msc_iommu_free(m);
		return 1;
	}
	msc_find_region(s, c->pos[0]->text, c->pos[0]->len)->mmu = m;
	s->models[s->nr_models++] = m;
	return 0;
}

static int index_opt(msc_session *s, msc_call *c, unsigned nr_indexes, unsigned *out)
{
	uint64_t idx = 0;

	*out = 0;
	if (msc_opt_number(s, c, "index", &idx))
		return 1;
	if (idx >= nr_indexes)
		return msc_error(s, msc_value_of(msc_opt_word(c, "index")).col,
				 "%s: index %" PRIu64 " is out of range (the IOMMU has %u index%s)",
				 c->cmd->name, idx, nr_indexes, nr_indexes == 1 ? "" : "es");
	*out = (unsigned)idx;
	return 0;
}

/* iommu-map IOMMU IOVA ADDR SIZE, iommu-unmap IOMMU IOVA SIZE, iommu-invalidate IOMMU IOVA SIZE. */
int msc_do_iommu_range(msc_session *s, msc_call *c)
{
	const char *name = c->cmd->name;
	bool map = c->cmd->arg == MSC_IOMMU_MAP, inval = c->cmd->arg == MSC_IOMMU_INVALIDATE;
	const msc_word *size_w = c->pos[map ? 3 : 2];
	uint64_t iova, addr = 0, size, page, rsize, lim;
	int perm = map ? MS_IOMMU_RW : MS_IOMMU_NONE;
	msc_region_ent *e;
	unsigned idx;
	size_t cur, after;
	int rc;

	if (msc_arg_region(s, c->pos[0], &e))
		return 1;
	if (!e->mmu)
		return msc_error(s, c->pos[0]->col,
				 "%s: %s is not an IOMMU with a page table (create it with "
				 "'iommu NAME SIZE target=AS')",
				 name, msc_quote_word(s, c->pos[0]));
	page = msc_iommu_page(e->mmu);
	if (msc_arg_number(s, c->pos[1], "IOVA", false, &iova) ||
	    (map && msc_arg_number(s, c->pos[2], "address", false, &addr)) ||
	    msc_arg_number(s, size_w, "size", false, &size) ||
	    index_opt(s, c, msc_iommu_nr_indexes(e->mmu), &idx))
		return 1;
	if (msc_opt_keyword(s, c, "perm", &perm))
		return 1;
	if (size == 0)
		return msc_error(s, size_w->col, "%s: the size cannot be 0", name);
	if (!inval) {
		const msc_word *bad = iova & (page - 1)   ? c->pos[1]
				      : addr & (page - 1) ? c->pos[2]
				      : size & (page - 1) ? size_w
							  : NULL;

		if (bad)
			return msc_error(s, bad->col,
					 "%s: %s is not a multiple of the page size (0x%" PRIx64
					 ")",
					 name, msc_quote_word(s, bad), page);
	}
	rsize = ms_region_size(e->r);
	lim = rsize == MS_SIZE_2_64 ? UINT64_MAX : rsize - 1;
	if (size - 1 > lim || iova > lim - (size - 1))
		return msc_error(s, size_w->col,
				 "%s: 0x%" PRIx64 " bytes at 0x%" PRIx64
				 " do not fit in the IOMMU (0x%" PRIx64 " bytes)",
				 name, size, iova, rsize);
	if (map && size - 1 > UINT64_MAX - addr)
		return msc_error(s, c->pos[2]->col, "%s: the target range wraps past 2^64", name);
	if (map && msc_iommu_blocks(iova, addr, size, MSC_MAX_IOMMU_BLOCKS) > MSC_MAX_IOMMU_BLOCKS)
		return msc_error(
			s, size_w->col,
			"%s: the mapping falls into more than %u aligned blocks (align IOVA "
			"and ADDR alike, or map less)",
			name, MSC_MAX_IOMMU_BLOCKS);
	if (inval) {
		rc = msc_iommu_invalidate(e->mmu, idx, iova, size);
		return rc ? msc_lib_error(s, c->word->col, name, rc,
					  rc == -EIO ? "a notifier refused the event" : NULL)
			  : 0;
	}
	cur = msc_iommu_nr_entries(e->mmu);
	after = msc_iommu_entries_after(e->mmu, idx, iova, size, map);
	if (after > cur && s->iommu_entries - cur + after > MSC_MAX_IOMMU_ENTRIES)
		return msc_error(s, c->word->col,
				 "%s: too many page-table entries (the limit is %u per session)",
				 name, MSC_MAX_IOMMU_ENTRIES);
	/* Conservatively, as if nothing were mapped there yet (script.h). */
	if (map && msc_any_attached(s) &&
	    msc_session_iommu_pages(s) + size / page > MSC_MAX_PINNABLE)
		return msc_error(
			s, size_w->col,
			"%s: with a container attached, the IOMMUs may map at most %u pages "
			"(it pins each)",
			name, MSC_MAX_PINNABLE);
	rc = msc_iommu_update(e->mmu, idx, iova, size, addr, (ms_iommu_perm)perm);
	if (rc == -ENOMEM && msc_iommu_nr_entries(e->mmu) == cur)
		return msc_lib_error(s, c->word->col, name, rc, NULL);
	s->iommu_entries = s->iommu_entries - cur + msc_iommu_nr_entries(e->mmu);
	if (rc)
		return msc_lib_error(s, c->word->col, name, rc,
				     rc == -EIO ? "a notifier refused an event (the table has "
						  "changed; every notifier was told)"
				     : rc == -EFAULT
					     ? "a VFIO container cannot pin a page: it is not RAM "
					       "(the table has changed; every notifier was told)"
					     : NULL);
	return 0;
}

static const char *perm_name(ms_iommu_perm p)
{
	return msc_name_text(msc_perm_names, p & 3, "none");
}

static int on_iommu_event(ms_iommu_notifier *n, const ms_iommu_event *ev, void *opaque)
{
	msc_notifier_ent *e = opaque;
	FILE *o = e->s->o.out;
	const ms_iotlb_entry *t = &ev->entry;

	(void)n;
	fprintf(o, "[%s] %s 0x%" PRIx64 "-0x%" PRIx64, e->name,
		ev->type == MS_IOMMU_NOTIFIER_MAP     ? "map"
		: ev->type == MS_IOMMU_NOTIFIER_UNMAP ? "unmap"
						      : "deviotlb-unmap",
		t->iova, t->iova + t->addr_mask);
	if (ev->type == MS_IOMMU_NOTIFIER_MAP)
		fprintf(o, " -> %s 0x%" PRIx64 " %s", t->target_as ? ms_as_name(t->target_as) : "?",
			t->translated_addr, perm_name(t->perm));
	fputs(e->fail ? " (refused)\n" : "\n", o);
	return e->fail ? -EIO : 0;
}

int msc_do_notifier(msc_session *s, msc_call *c)
{
	ms_iommu_notifier_opts opts = MS_IOMMU_NOTIFIER_OPTS_INIT;
	msc_notifier_ent *e;
	msc_region_ent *re;
	unsigned nr, flags = MS_IOMMU_NOTIFIER_IOTLB_EVENTS;
	bool fail = false;
	int rc;

	if (msc_check_new_name(s, c->pos[0], "notifier", &s->notifiers) ||
	    msc_arg_region(s, c->pos[1], &re))
		return 1;
	nr = ms_iommu_num_indexes(re->r);
	if (nr == 0)
		return msc_error(s, c->pos[1]->col,
				 "notifier: %s is not an IOMMU with a translation class (create it "
				 "with 'iommu NAME SIZE target=AS')",
				 msc_quote_word(s, c->pos[1]));
	if (msc_opt_number(s, c, "start", &opts.start) || msc_opt_number(s, c, "end", &opts.end) ||
	    index_opt(s, c, nr, &opts.iommu_idx))
		return 1;
	if (opts.start > opts.end)
		return msc_error(s, msc_opt_word(c, "start")->col,
				 "notifier: start= is after end=");
	if (msc_opt_keywords(s, c, "flags", &flags) || msc_opt_bool(s, c, "fail", &fail))
		return 1;
	opts.flags = flags;
	e = msc_new_entry(s, c, &s->notifiers, sizeof(*e), MSC_MAX_NOTIFIERS, "notifiers");
	if (!e)
		return 1;
	e->s = s;
	e->iommu = re->r;
	e->idx = opts.iommu_idx;
	e->fail = fail;
	opts.notify = on_iommu_event;
	opts.opaque = e;
	rc = ms_iommu_register_notifier(&e->n, re->r, &opts);
	if (rc) {
		msc_drop_new_entry(&s->notifiers);
		return msc_lib_error(s, c->word->col, "notifier", rc,
				     rc == -ENOTSUP
					     ? "the IOMMU cannot send those events (a VT-d unit "
					       "needs cm=on for map, devtlb=on for deviotlb)"
					     : NULL);
	}
	return 0;
}

static int notifier_arg(msc_session *s, const msc_word *w, msc_notifier_ent **out)
{
	*out = msc_arg_entry(s, w, &s->notifiers, "notifier", false);
	return *out ? 0 : 1;
}

int msc_do_notifier_free(msc_session *s, msc_call *c)
{
	msc_notifier_ent *e;
	int rc = 0;

	if (notifier_arg(s, c->pos[0], &e))
		return 1;
	if (msc_opt_word(c, "unmap"))
		rc = ms_iommu_unmap_notifier_range(e->n);
	msc_table_remove(&s->notifiers, msc_table_index_of(&s->notifiers, e));
	ms_iommu_unregister_notifier(e->n);
	free(e);
	if (rc)
		return msc_lib_error(s, c->word->col, "notifier-free", rc,
				     rc == -EIO
					     ? "the notifier refused the event (it is unregistered "
					       "anyway)"
					     : NULL);
	return 0;
}

int msc_do_replay(msc_session *s, msc_call *c)
{
	msc_notifier_ent *e;
	int rc;

	if (notifier_arg(s, c->pos[0], &e))
		return 1;
	rc = ms_iommu_replay(e->iommu, e->n);
	return rc ? msc_lib_error(s, c->word->col, "replay", rc,
				  rc == -EIO
					  ? "the notifier refused an event (replay stopped there)"
					  : NULL)
		  : 0;
}

int msc_do_iotlb(msc_session *s, msc_call *c)
{
	bool w = msc_opt_word(c, "write") != NULL;
	ms_iotlb_entry t;
	uint64_t addr;
	ms_attrs attrs;
	const char *why;
	ms_as *as;
	int rc;

	if (msc_arg_number(s, c->pos[0], "address", false, &addr) || msc_access_as(s, c, &as) ||
	    msc_access_attrs(s, c, &attrs))
		return 1;
	rc = ms_as_get_iotlb_entry(&t, as, addr, w, attrs);
	fprintf(s->o.out, "iotlb 0x%" PRIx64 " %s -> ", addr, w ? "write" : "read");
	if (rc == 0) {
		fprintf(s->o.out, "iova 0x%" PRIx64 " mask 0x%" PRIx64 " = %s 0x%" PRIx64 " %s\n",
			t.iova, t.addr_mask, ms_as_name(t.target_as), t.translated_addr,
			perm_name(t.perm));
		return 0;
	}
	switch (-rc) {
	case ENOENT:
		why = "nothing answers where the path ends";
		break;
	case EACCES:
		why = "an IOMMU refuses the access";
		break;
	case EIO:
		why = "an IOMMU returned a malformed entry";
		break;
	case ELOOP:
		why = "a cycle of IOMMUs, or a chain longer than 16";
		break;
	default:
		fputs("?\n", s->o.out);
		return msc_lib_error(s, c->word->col, "iotlb", rc, NULL);
	}
	fprintf(s->o.out, "%s (%s)\n", msc_errno_name(rc), why);
	return 0;
}
