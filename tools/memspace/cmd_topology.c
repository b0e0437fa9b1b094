/*
 * memspace CLI: changing and showing the region tree (add, del, set,
 * enable, disable, drop, show), address spaces (as, as-free, use) and
 * transactions (begin, commit).
 *
 * set checks every value before it applies any; as-free refuses while a
 * device, an IOMMU model, a TCE table, a container or a cache still works
 * in the address space, and
 * forgets the mappings and map clients ms_as_free() released.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "script_int.h"

int msc_do_add(msc_session *s, msc_call *c)
{
	msc_region_ent *container, *sub;
	uint64_t addr;
	int prio = 0, rc;

	if (msc_arg_region(s, c->pos[0], &container) ||
	    msc_arg_number(s, c->pos[1], "address", false, &addr) ||
	    msc_arg_region(s, c->pos[2], &sub) || msc_opt_prio(s, c, "prio", &prio))
		return 1;
	rc = ms_region_add_subregion_overlap(container->r, addr, sub->r, prio);
	if (rc)
		return msc_lib_error(s, c->word->col, "add", rc,
				     msc_add_error(rc, container->r, sub->r));
	return 0;
}

int msc_do_del(msc_session *s, msc_call *c)
{
	msc_region_ent *sub, *container = NULL;
	ms_region *parent;
	int rc;

	if (msc_arg_region(s, c->pos[0], &sub) || msc_opt_region(s, c, "from", &container))
		return 1;
	if (container) {
		parent = container->r;
	} else {
		parent = ms_region_container(sub->r);
		if (!parent)
			return msc_error(s, c->pos[0]->col, "del: %s is not in a container",
					 msc_quote_word(s, c->pos[0]));
	}
	rc = ms_region_del_subregion(parent, sub->r);
	if (rc)
		return msc_lib_error(
			s, c->word->col, "del", rc,
			rc == -ENOENT ? "the region is not a subregion of that container" : NULL);
	return 0;
}

/* Apply property @p->arg of set to @e; 0 or the library's error. */
static int set_property(msc_region_ent *e, const msc_param *p, const msc_value *v)
{
	switch (p->arg) {
	case MSC_SET_ADDR:
		return ms_region_set_address(e->r, v->number);
	case MSC_SET_SIZE:
		return ms_region_set_size(e->r, v->number);
	case MSC_SET_PRIO:
		return ms_region_set_priority(e->r, v->prio);
	case MSC_SET_ENABLED:
		return ms_region_set_enabled(e->r, v->on);
	case MSC_SET_READONLY:
		return ms_region_set_readonly(e->r, v->on);
	case MSC_SET_NONVOLATILE:
		return ms_region_set_nonvolatile(e->r, v->on);
	case MSC_SET_UNMERGEABLE:
		return ms_region_set_unmergeable(e->r, v->on);
	case MSC_SET_ROMD:
		return ms_region_set_romd(e->r, v->on);
	case MSC_SET_ALIAS_OFFSET:
		return ms_region_set_alias_offset(e->r, v->number);
	default:
		return ms_region_set_owner(e->r, v->text.len ? v->text.text : NULL);
	}
}

/* What -EINVAL from setting property @arg means. */
static const char *set_einval(int arg)
{
	switch (arg) {
	case MSC_SET_SIZE:
		return "the size of a region with memory is fixed, and only containers, I/O and "
		       "alias regions may be 0";
	case MSC_SET_PRIO:
		return "the region is not in a container";
	case MSC_SET_ROMD:
		return "the region is not a ROM device";
	case MSC_SET_READONLY:
		return "the region's memory is mapped read-only (ram/rom ... readonly)";
	case MSC_SET_ALIAS_OFFSET:
		return "the region is not an alias";
	default:
		return NULL;
	}
}

int msc_do_set(msc_session *s, msc_call *c)
{
	msc_region_ent *e;
	size_t i;
	msc_value v;
	int rc;

	if (msc_arg_region(s, c->pos[0], &e))
		return 1;
	if (c->nopt == 0)
		return msc_error(s, c->word->col, "set: nothing to set (e.g. set %s readonly=on)",
				 msc_quote_str(s, e->name));
	/* Check every value first, then apply them in order. */
	for (i = 0; i < c->nopt; i++)
		if (msc_read_value(s, msc_option_of(c->cmd, c->opt[i]), c->opt[i], &v))
			return 1;
	for (i = 0; i < c->nopt; i++) {
		const msc_param *p = msc_option_of(c->cmd, c->opt[i]);

		msc_read_value(s, p, c->opt[i], &v);
		rc = set_property(e, p, &v);
		if (rc)
			return msc_lib_error(s, c->opt[i]->col, p->name, rc,
					     rc == -EINVAL ? set_einval(p->arg) : NULL);
	}
	return 0;
}

int msc_do_enable(msc_session *s, msc_call *c)
{
	bool on = c->cmd->arg;
	msc_region_ent *e;
	size_t i;
	int rc;

	for (i = 0; i < c->npos; i++)
		if (msc_arg_region(s, c->pos[i], &e))
			return 1;
	for (i = 0; i < c->npos; i++) {
		e = msc_find_region(s, c->pos[i]->text, c->pos[i]->len);
		rc = ms_region_set_enabled(e->r, on);
		if (rc)
			return msc_lib_error(s, c->pos[i]->col, c->cmd->name, rc, NULL);
	}
	return 0;
}

int msc_do_drop(msc_session *s, msc_call *c)
{
	msc_region_ent *e;
	size_t i;

	if (msc_arg_region(s, c->pos[0], &e))
		return 1;
	for (i = 0; i < s->spaces.nr; i++)
		if (ms_as_root(msc_table_item(&s->spaces, i)) == e->r)
			return msc_error(
				s, c->pos[0]->col,
				"drop: %s is the root of address space %s (as-free it first)",
				msc_quote_word(s, c->pos[0]),
				msc_quote_str(s, msc_table_name(&s->spaces, i)));
	ms_region_unref(e->r);
	msc_table_remove(&s->regions, msc_table_index_of(&s->regions, e));
	free(e);
	return 0;
}

static const msc_name kind_names[] = {
	{"container", MS_REGION_CONTAINER},
	{"io", MS_REGION_IO},
	{"ram", MS_REGION_RAM},
	{"rom", MS_REGION_ROM},
	{"romdevice", MS_REGION_ROM_DEVICE},
	{"ramdevice", MS_REGION_RAM_DEVICE},
	{"ramptr", MS_REGION_RAM_PTR},
	{"alias", MS_REGION_ALIAS},
	{"iommu", MS_REGION_IOMMU},
	{NULL, 0},
};

static msc_region_ent *region_of(msc_session *s, const ms_region *r)
{
	for (size_t i = 0; i < s->regions.nr; i++) {
		msc_region_ent *e = msc_table_item(&s->regions, i);

		if (e->r == r)
			return e;
	}
	return NULL;
}

int msc_do_show(msc_session *s, msc_call *c)
{
	msc_region_ent *e, *parent;
	ms_region *r, *target;
	FILE *o = s->o.out;
	uint64_t size;
	size_t i, n;

	if (msc_arg_region(s, c->pos[0], &e))
		return 1;
	r = e->r;
	size = ms_region_size(r);
	fprintf(o, "%s: %s, size ", e->name,
		msc_name_text(kind_names, (int)ms_region_get_kind(r), "?"));
	if (size == MS_SIZE_2_64)
		fputs("2^64", o);
	else
		fprintf(o, "0x%" PRIx64, size);
	if (ms_region_container(r)) {
		parent = region_of(s, ms_region_container(r));
		fprintf(o, ", in %s at 0x%" PRIx64 " prio %d",
			parent ? parent->name : ms_region_name(ms_region_container(r)),
			ms_region_addr(r), ms_region_priority(r));
	} else {
		fputs(", not in a container", o);
	}
	fputc('\n', o);
	fprintf(o, "  enabled=%s readonly=%s nonvolatile=%s unmergeable=%s",
		ms_region_enabled(r) ? "on" : "off", ms_region_readonly(r) ? "on" : "off",
		ms_region_nonvolatile(r) ? "on" : "off", ms_region_unmergeable(r) ? "on" : "off");
	if (ms_region_get_kind(r) == MS_REGION_ROM_DEVICE)
		fprintf(o, " romd=%s", ms_region_romd(r) ? "on" : "off");
	if (ms_region_owner(r))
		fprintf(o, " owner=%s", ms_region_owner(r));
	fputc('\n', o);
	target = ms_region_alias_target(r);
	if (target)
		fprintf(o, "  alias of %s at offset 0x%" PRIx64 "\n", ms_region_name(target),
			ms_region_alias_offset(r));
	if (e->dev)
		fprintf(o, "  device model attached\n");
	if (e->mmu) {
		ms_iommu_notifier_flags fl = ms_iommu_notify_flags(r);

		fprintf(o,
			"  translates into %s, page 0x%" PRIx64
			", %u index%s, %zu mapping%s, notifiers follow%s%s%s%s\n",
			ms_as_name(msc_iommu_target(e->mmu)), msc_iommu_page(e->mmu),
			msc_iommu_nr_indexes(e->mmu), msc_iommu_nr_indexes(e->mmu) == 1 ? "" : "es",
			msc_iommu_nr_entries(e->mmu), msc_iommu_nr_entries(e->mmu) == 1 ? "" : "s",
			fl ? "" : " nothing", fl & MS_IOMMU_NOTIFIER_MAP ? " map" : "",
			fl & MS_IOMMU_NOTIFIER_UNMAP ? " unmap" : "",
			fl & MS_IOMMU_NOTIFIER_DEVIOTLB_UNMAP ? " deviotlb" : "");
	}
	n = ms_region_nr_subregions(r);
	for (i = 0; i < n; i++) {
		ms_region *sub = ms_region_subregion(r, i);

		fprintf(o, "  subregion %s at 0x%" PRIx64 " prio %d%s\n", ms_region_name(sub),
			ms_region_addr(sub), ms_region_priority(sub),
			ms_region_enabled(sub) ? "" : " (disabled)");
	}
	return 0;
}

int msc_do_as(msc_session *s, msc_call *c)
{
	msc_region_ent *root;
	ms_as *as;
	int rc;

	if (msc_check_new_name(s, c->pos[0], "address space", &s->spaces) ||
	    msc_arg_region(s, c->pos[1], &root))
		return 1;
	if (s->spaces.nr == MSC_MAX_AS)
		return msc_error(s, c->word->col, "as: too many address spaces (the limit is %u)",
				 MSC_MAX_AS);
	rc = ms_as_new(&as, s->ctx, root->r, c->pos[0]->text);
	if (rc)
		return msc_lib_error(s, c->word->col, "as", rc, NULL);
	if (!msc_table_add(&s->spaces, c->pos[0]->text, c->pos[0]->len, as)) {
		ms_as_free(as);
		return msc_lib_error(s, c->word->col, "as", -ENOMEM, NULL);
	}
	if (!s->current)
		s->current = as;
	return 0;
}

int msc_do_as_free(msc_session *s, msc_call *c)
{
	ms_as *as;
	size_t i;

	if (msc_arg_as(s, c->pos[0], &as))
		return 1;
	for (i = 0; i < s->nr_devices; i++)
		if (msc_device_dma_as(s->devices[i]) == as)
			return msc_error(s, c->pos[0]->col,
					 "as-free: dma device %s works in address space %s",
					 msc_quote_str(s, msc_device_name(s->devices[i])),
					 msc_quote_word(s, c->pos[0]));
	for (i = 0; i < s->nr_models; i++)
		if (msc_iommu_target(s->models[i]) == as)
			return msc_error(s, c->pos[0]->col,
					 "as-free: iommu %s translates into address space %s",
					 msc_quote_str(s, msc_iommu_name(s->models[i])),
					 msc_quote_word(s, c->pos[0]));
	for (i = 0; i < s->caches.nr; i++)
		if (((msc_cache_ent *)msc_table_item(&s->caches, i))->as == as)
			return msc_error(s, c->pos[0]->col,
					 "as-free: cache %s works in address space %s",
					 msc_quote_str(s, msc_table_name(&s->caches, i)),
					 msc_quote_word(s, c->pos[0]));
	for (i = 0; i < s->tces.nr; i++)
		if (((msc_tce_ent *)msc_table_item(&s->tces, i))->target == as)
			return msc_error(s, c->pos[0]->col,
					 "as-free: TCE table %s translates into address space %s",
					 msc_quote_str(s, msc_table_name(&s->tces, i)),
					 msc_quote_word(s, c->pos[0]));
	for (i = 0; i < s->containers.nr; i++)
		if (((msc_container_ent *)msc_table_item(&s->containers, i))->group == as)
			return msc_error(
				s, c->pos[0]->col,
				"as-free: container %s holds address space %s (vfio-detach "
				"it first)",
				msc_quote_str(s, msc_table_name(&s->containers, i)),
				msc_quote_word(s, c->pos[0]));
	for (i = 0; i < s->devtlbs.nr; i++)
		if (((msc_devtlb_ent *)msc_table_item(&s->devtlbs, i))->as == as)
			return msc_error(s, c->pos[0]->col,
					 "as-free: device IOTLB %s follows address space %s",
					 msc_quote_str(s, msc_table_name(&s->devtlbs, i)),
					 msc_quote_word(s, c->pos[0]));
	{
		const char *unit;
		bool is_memory;

		if (msc_vtd_uses_as(s, as, &unit, &is_memory))
			return msc_error(
				s, c->pos[0]->col,
				is_memory
					? "as-free: VT-d unit %s reads its tables from address space %s"
					: "as-free: VT-d unit %s owns address space %s (a device's view)",
				msc_quote_str(s, unit), msc_quote_word(s, c->pos[0]));
	}
	{
		const char *dev;

		if (msc_vfio_user_uses_as(s, as, &dev))
			return msc_error(s, c->pos[0]->col,
					 "as-free: vfio-user device %s works in address space %s "
					 "(vfio-user-close it first)",
					 msc_quote_str(s, dev), msc_quote_word(s, c->pos[0]));
	}
	/* The library would unregister them; the script makes that explicit. */
	for (i = 0; i < s->listeners.nr; i++)
		if (((msc_listener_ent *)msc_table_item(&s->listeners, i))->as == as)
			return msc_lib_error(
				s, c->word->col, "as-free", -EBUSY,
				"listeners are still registered (unlisten them first)");
	ms_as_free(as);
	/* ms_as_free() released the mappings and map clients of @as. */
	for (i = 0; i < s->nr_mappings;)
		if (s->mappings[i].as == as)
			s->mappings[i] = s->mappings[--s->nr_mappings];
		else
			i++;
	for (i = 0; i < s->clients.nr;) {
		msc_client_ent *e = msc_table_item(&s->clients, i);

		if (e->as == as)
			free(msc_table_remove(&s->clients, i));
		else
			i++;
	}
	msc_table_remove(&s->spaces, msc_table_index_of(&s->spaces, as));
	if (s->current == as)
		s->current = s->spaces.nr ? msc_table_item(&s->spaces, 0) : NULL;
	return 0;
}

int msc_do_use(msc_session *s, msc_call *c)
{
	return msc_arg_as(s, c->pos[0], &s->current);
}

int msc_do_begin(msc_session *s, msc_call *c)
{
	(void)c;
	if (s->txn_depth == 0)
		s->txn_line = s->lineno;
	if (s->txn_depth >= 1000)
		return msc_error(s, c->word->col,
				 "begin: transactions nested too deeply (the limit is 1000)");
	ms_transaction_begin(s->ctx);
	s->txn_depth++;
	return 0;
}

int msc_do_commit(msc_session *s, msc_call *c)
{
	int rc;

	if (s->txn_depth == 0)
		return msc_error(s, c->word->col, "commit without begin");
	rc = ms_transaction_commit(s->ctx);
	s->txn_depth--;
	if (rc)
		return msc_lib_error(s, c->word->col, "commit", rc,
				     rc == -ELOOP
					     ? "the view would nest deeper than 1024 levels (an "
					       "alias that leads back into itself without end); "
					       "the changes stay pending"
					     : NULL);
	return 0;
}
