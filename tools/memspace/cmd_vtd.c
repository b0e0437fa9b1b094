/*
 * memspace CLI: the VT-d-like remapping unit (models/vtd.h) - vtd,
 * vtd-device, vtd-map, vtd-unmap, vtd-dmar, vtd-invalidate, vtd-faults and
 * vtd-info.
 *
 * A unit comes with its guest-side table writer (ms_vtd_pt): the script
 * names a pool of guest RAM, and vtd-map / vtd-unmap write root, context
 * and page-table entries there with ordinary stores, as a guest driver
 * would; the unit itself only ever reads what is in memory. A device's
 * name is at once an address space (its DMA view, owned by the unit: as-free
 * refuses it) and a region (its IOMMU region, for notifier and replay).
 * Units live until the end of the session. Walks are bounded to
 * MSC_VTD_WALK_TABLES tables so that a script cannot make a replay or an
 * invalidation run for long.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "script_int.h"

static const char *bdf_text(char buf[16], uint16_t bdf)
{
	snprintf(buf, 16, "%02x:%02x.%x", bdf >> 8, (bdf >> 3) & 0x1f, bdf & 7);
	return buf;
}

static int unit_arg(msc_session *s, const msc_word *w, msc_vtd_ent **out)
{
	*out = msc_arg_entry(s, w, &s->vtds, "VT-d unit", true);
	return *out ? 0 : 1;
}

static int device_arg(msc_session *s, const msc_word *w, msc_vtd_dev_ent **out)
{
	*out = msc_arg_entry(s, w, &s->vtd_devs, "VT-d device", true);
	return *out ? 0 : 1;
}

bool msc_vtd_uses_as(msc_session *s, const ms_as *as, const char **unit, bool *is_memory)
{
	for (size_t i = 0; i < s->vtd_devs.nr; i++) {
		msc_vtd_dev_ent *d = msc_table_item(&s->vtd_devs, i);

		if (d->as == as) {
			*unit = d->unit->name;
			*is_memory = false;
			return true;
		}
	}
	for (size_t i = 0; i < s->vtds.nr; i++) {
		msc_vtd_ent *e = msc_table_item(&s->vtds, i);

		if (e->memory == as) {
			*unit = e->name;
			*is_memory = true;
			return true;
		}
	}
	return false;
}

void msc_vtd_free_all(msc_session *s)
{
	for (size_t i = 0; i < s->vtd_devs.nr; i++)
		free(msc_table_item(&s->vtd_devs, i));
	for (size_t i = 0; i < s->vtds.nr; i++) {
		msc_vtd_ent *e = msc_table_item(&s->vtds, i);

		ms_vtd_free(e->v);
		ms_vtd_pt_free(e->pt);
		free(e);
	}
	msc_table_free(&s->vtd_devs);
	msc_table_free(&s->vtds);
}

/* vtd NAME MEMORY POOL POOL_SIZE [cm=on|off] [devtlb=on|off] */
int msc_do_vtd(msc_session *s, msc_call *c)
{
	uint64_t pool, pool_size;
	bool cm = true, devtlb = false;
	msc_vtd_ent *e;
	ms_as *memory;
	int rc;

	if (msc_check_new_name(s, c->pos[0], "VT-d unit", &s->vtds) ||
	    msc_arg_as(s, c->pos[1], &memory) ||
	    msc_arg_number(s, c->pos[2], "pool address", false, &pool) ||
	    msc_arg_number(s, c->pos[3], "pool size", false, &pool_size) ||
	    msc_opt_bool(s, c, "cm", &cm) || msc_opt_bool(s, c, "devtlb", &devtlb))
		return 1;
	if ((pool | pool_size) & 0xfff)
		return msc_error(s, c->pos[(pool & 0xfff) ? 2 : 3]->col,
				 "vtd: the pool's address and size must be multiples of 4K");
	if (pool_size == 0 || pool_size - 1 > UINT64_MAX - pool)
		return msc_error(s, c->pos[3]->col, "vtd: the pool cannot be empty or wrap");
	e = msc_new_entry(s, c, &s->vtds, sizeof(*e), MSC_MAX_VTD_UNITS, "VT-d units");
	if (!e)
		return 1;
	e->memory = memory;
	rc = ms_vtd_pt_new(&e->pt, memory, pool, pool_size);
	if (rc == 0)
		rc = ms_vtd_new(&e->v, s->ctx,
				&(ms_vtd_opts){.name = e->name,
					       .memory = memory,
					       .caching_mode = cm,
					       .dev_iotlb = devtlb,
					       .walk_max_tables = MSC_VTD_WALK_TABLES});
	if (rc == 0)
		rc = ms_vtd_set_root_table(e->v, ms_vtd_pt_root(e->pt));
	if (rc) {
		ms_vtd_free(e->v);
		ms_vtd_pt_free(e->pt);
		msc_drop_new_entry(&s->vtds);
		return msc_lib_error(s, c->word->col, "vtd", rc,
				     rc == -EFAULT ? "the pool's first page is not RAM" : NULL);
	}
	fprintf(s->o.out,
		"vtd %s: memory %s, root table 0x%" PRIx64 ", pool 0x%" PRIx64 "-0x%" PRIx64
		", caching mode %s, device IOTLB %s\n",
		e->name, msc_table_name(&s->spaces, msc_table_index_of(&s->spaces, memory)), pool,
		pool, pool + (pool_size - 1), cm ? "on" : "off", devtlb ? "on" : "off");
	return 0;
}

/* vtd-device NAME UNIT BDF DOMAIN [aw=39|48] */
int msc_do_vtd_device(msc_session *s, msc_call *c)
{
	uint64_t bdf, did, aw = 48;
	msc_placement place = {0};
	msc_vtd_dev_ent *d;
	msc_vtd_ent *e;
	ms_region *iommu;
	ms_as *as;
	char buf[16];
	int rc;

	if (msc_check_region_budget(s, c) ||
	    msc_check_new_name(s, c->pos[0], "region", &s->regions) ||
	    msc_check_new_name(s, c->pos[0], "address space", &s->spaces) ||
	    msc_check_new_name(s, c->pos[0], "VT-d device", &s->vtd_devs) ||
	    unit_arg(s, c->pos[1], &e) || msc_arg_number(s, c->pos[2], "BDF", false, &bdf) ||
	    msc_arg_number(s, c->pos[3], "domain", false, &did) || msc_opt_number(s, c, "aw", &aw))
		return 1;
	if (bdf > 0xffff)
		return msc_error(
			s, c->pos[2]->col,
			"vtd-device: a requester id (bus << 8 | dev << 3 | fn) takes 16 bits");
	if (did > 0xffff)
		return msc_error(s, c->pos[3]->col, "vtd-device: a domain id takes 16 bits");
	if (aw != 39 && aw != 48)
		return msc_error(s, msc_value_of(msc_opt_word(c, "aw")).col,
				 "vtd-device: aw= takes 39 (3 levels) or 48 (4 levels)");
	if (ms_vtd_device_iommu(e->v, (uint16_t)bdf))
		return msc_error(s, c->pos[2]->col, "vtd-device: %s already has device %s",
				 msc_quote_str(s, e->name), bdf_text(buf, (uint16_t)bdf));
	if (s->spaces.nr == MSC_MAX_AS)
		return msc_error(s, c->word->col,
				 "vtd-device: too many address spaces (the limit is %u)",
				 MSC_MAX_AS);
	rc = ms_vtd_pt_set_context(e->pt, (uint16_t)bdf, (uint16_t)did, (unsigned)aw);
	if (rc)
		return msc_lib_error(s, c->word->col, "vtd-device", rc,
				     rc == -EINVAL   ? "the domain has the other address width"
				     : rc == -ENOSPC ? "the unit's table pool is full"
						     : NULL);
	d = msc_new_entry(s, c, &s->vtd_devs, sizeof(*d), MSC_MAX_VTD_DEVICES, "VT-d devices");
	if (!d)
		return 1;
	rc = ms_vtd_device_as(&as, e->v, (uint16_t)bdf);
	if (rc) {
		msc_drop_new_entry(&s->vtd_devs);
		return msc_lib_error(s, c->word->col, "vtd-device", rc, NULL);
	}
	iommu = ms_vtd_device_iommu(e->v, (uint16_t)bdf);
	if (!msc_table_add(&s->spaces, c->pos[0]->text, c->pos[0]->len, as)) {
		msc_drop_new_entry(&s->vtd_devs);
		return msc_lib_error(s, c->word->col, "vtd-device", -ENOMEM, NULL);
	}
	if (msc_finish_region(s, c, ms_region_ref(iommu), NULL, &place, NULL)) {
		(void)msc_table_remove(&s->spaces, s->spaces.nr - 1);
		msc_drop_new_entry(&s->vtd_devs);
		return 1;
	}
	d->unit = e;
	d->bdf = (uint16_t)bdf;
	d->did = (uint16_t)did;
	d->as = as;
	fprintf(s->o.out,
		"vtd-device %s: %s of %s, domain %" PRIu64 ", %" PRIu64 "-bit, remapping off\n",
		d->name, bdf_text(buf, d->bdf), e->name, did, aw);
	return 0;
}

static const char *perm_text(uint64_t perm)
{
	return msc_name_text(msc_tce_perm_names, (int)perm, "?");
}

/* vtd-map DEVICE IOVA GPA SIZE [perm=ro|wo|rw] [page=4K|2M|1G] */
int msc_do_vtd_map(msc_session *s, msc_call *c)
{
	uint64_t iova, gpa, size, page = 4096, used;
	int perm = (int)MS_VTD_PTE_RW;
	msc_vtd_dev_ent *d;
	int rc;

	if (device_arg(s, c->pos[0], &d) || msc_arg_number(s, c->pos[1], "IOVA", false, &iova) ||
	    msc_arg_number(s, c->pos[2], "address", false, &gpa) ||
	    msc_arg_number(s, c->pos[3], "size", false, &size) ||
	    msc_opt_keyword(s, c, "perm", &perm) || msc_opt_number(s, c, "page", &page))
		return 1;
	if (perm == 0)
		return msc_error(s, msc_value_of(msc_opt_word(c, "perm")).col,
				 "vtd-map: perm=none maps nothing (vtd-unmap clears pages)");
	if (page != 0x1000 && page != 0x200000 && page != 0x40000000)
		return msc_error(s, msc_value_of(msc_opt_word(c, "page")).col,
				 "vtd-map: page= takes 4K, 2M or 1G, not 0x%" PRIx64, page);
	if (size == 0 || (size | iova | gpa) & (page - 1))
		return msc_error(
			s,
			c->pos[size == 0 || (size & (page - 1)) ? 3
			       : iova & (page - 1)              ? 1
								: 2]
				->col,
			"vtd-map: IOVA, address and size must be non-zero multiples of the page size (0x%" PRIx64
			")",
			page);
	if (size / page > MSC_MAX_VTD_MAP_PAGES)
		return msc_error(s, c->pos[3]->col,
				 "vtd-map: %" PRIu64 " pages is over the limit of %u per call",
				 size / page, MSC_MAX_VTD_MAP_PAGES);
	used = ms_vtd_pt_used(d->unit->pt);
	rc = ms_vtd_pt_map(d->unit->pt, d->did, iova, gpa, size, (uint64_t)perm, page);
	if (rc)
		return msc_lib_error(
			s, c->word->col, "vtd-map", rc,
			rc == -EINVAL ? "the range lies beyond the domain's address width or 2^52"
			: rc == -EBUSY
				? "a page of another size is there (vtd-unmap it first); pages before it are mapped"
			: rc == -ENOSPC
				? "the unit's table pool is full; pages before it are mapped"
			: rc == -EFAULT ? "a table cannot be read or written as RAM"
					: NULL);
	fprintf(s->o.out,
		"vtd-map %s 0x%" PRIx64 "-0x%" PRIx64 " -> 0x%" PRIx64 " %s, %" PRIu64
		" page%s of 0x%" PRIx64 " (%" PRIu64 " new table%s)\n",
		d->name, iova, iova + (size - 1), gpa, perm_text((uint64_t)perm), size / page,
		size / page == 1 ? "" : "s", page, (ms_vtd_pt_used(d->unit->pt) - used) / 4096,
		ms_vtd_pt_used(d->unit->pt) - used == 4096 ? "" : "s");
	return 0;
}

/* vtd-unmap DEVICE IOVA SIZE */
int msc_do_vtd_unmap(msc_session *s, msc_call *c)
{
	uint64_t iova, size;
	msc_vtd_dev_ent *d;
	int rc;

	if (device_arg(s, c->pos[0], &d) || msc_arg_number(s, c->pos[1], "IOVA", false, &iova) ||
	    msc_arg_number(s, c->pos[2], "size", false, &size))
		return 1;
	if (size == 0 || size - 1 > UINT64_MAX - iova)
		return msc_error(s, c->pos[2]->col, "vtd-unmap: the size cannot be 0 or wrap");
	rc = ms_vtd_pt_unmap(d->unit->pt, d->did, iova, size);
	return rc ? msc_lib_error(s, c->word->col, "vtd-unmap", rc, NULL) : 0;
}

/* vtd-dmar DEVICE on|off */
int msc_do_vtd_dmar(msc_session *s, msc_call *c)
{
	msc_vtd_dev_ent *d;
	bool on;
	int rc;

	if (device_arg(s, c->pos[0], &d) || msc_arg_bool(s, c->pos[1], &on))
		return 1;
	rc = ms_vtd_set_dmar(d->unit->v, d->bdf, on);
	if (rc)
		return msc_lib_error(
			s, c->word->col, "vtd-dmar", rc,
			rc == -E2BIG
				? "the tables are too large to walk; remapping is on, nothing was announced"
				: "a notifier refused an event; the switch is made");
	return 0;
}

/* vtd-invalidate UNIT [domain=D [addr=A [am=N]]] */
int msc_do_vtd_invalidate(msc_session *s, msc_call *c)
{
	uint64_t did = 0, addr = 0, am = 0;
	msc_word *did_w = msc_opt_word(c, "domain"), *addr_w = msc_opt_word(c, "addr");
	msc_vtd_ent *e;
	int rc;

	if (unit_arg(s, c->pos[0], &e) || msc_opt_number(s, c, "domain", &did) ||
	    msc_opt_number(s, c, "addr", &addr) || msc_opt_number(s, c, "am", &am))
		return 1;
	if (did > 0xffff)
		return msc_error(s, msc_value_of(did_w).col,
				 "vtd-invalidate: a domain id takes 16 bits");
	if ((addr_w || msc_opt_word(c, "am")) && !did_w)
		return msc_error(s, c->word->col,
				 "vtd-invalidate: a page-selective invalidation needs domain=");
	if (am > MS_VTD_INV_MAX_AM)
		return msc_error(s, msc_value_of(msc_opt_word(c, "am")).col,
				 "vtd-invalidate: am= takes 0 to %u", MS_VTD_INV_MAX_AM);
	if (addr & (((uint64_t)0x1000 << am) - 1))
		return msc_error(s, msc_value_of(addr_w).col,
				 "vtd-invalidate: addr= must be a multiple of 0x%" PRIx64
				 " (4K << am)",
				 (uint64_t)0x1000 << am);
	if (!did_w)
		rc = ms_vtd_invalidate_global(e->v);
	else if (!addr_w && !msc_opt_word(c, "am"))
		rc = ms_vtd_invalidate_domain(e->v, (uint16_t)did);
	else
		rc = ms_vtd_invalidate_page(e->v, (uint16_t)did, addr, (unsigned)am);
	if (rc)
		return msc_lib_error(
			s, c->word->col, "vtd-invalidate", rc,
			rc == -E2BIG
				? "a walk exceeded its table bound; that device's mappings stay as announced"
				: "a notifier refused an event; every event was sent");
	return 0;
}

/* vtd-faults UNIT: print and clear the fault ring. */
int msc_do_vtd_faults(msc_session *s, msc_call *c)
{
	uint64_t pending = 0, lost = 0;
	ms_vtd_fault f;
	msc_vtd_ent *e;
	char buf[16];

	if (unit_arg(s, c->pos[0], &e))
		return 1;
	(void)ms_vtd_fault_counts(e->v, &pending, &lost);
	fprintf(s->o.out, "vtd-faults %s: %" PRIu64 " fault%s, %" PRIu64 " lost\n", e->name,
		pending, pending == 1 ? "" : "s", lost);
	while (ms_vtd_fault_pop(&f, e->v) == 0)
		fprintf(s->o.out, "  %s 0x%" PRIx64 " %s %s\n", bdf_text(buf, f.bdf), f.addr,
			f.is_write ? "write" : "read", ms_vtd_fault_reason_name(f.reason));
	return 0;
}

/* vtd-info UNIT */
int msc_do_vtd_info(msc_session *s, msc_call *c)
{
	msc_vtd_ent *e;
	char buf[16];
	unsigned nr = 0;

	if (unit_arg(s, c->pos[0], &e))
		return 1;
	for (size_t i = 0; i < s->vtd_devs.nr; i++)
		nr += ((msc_vtd_dev_ent *)msc_table_item(&s->vtd_devs, i))->unit == e;
	fprintf(s->o.out,
		"vtd-info %s: root table 0x%" PRIx64 ", 0x%" PRIx64
		" bytes of the pool used, %u device%s\n",
		e->name, ms_vtd_pt_root(e->pt), ms_vtd_pt_used(e->pt), nr, nr == 1 ? "" : "s");
	for (size_t i = 0; i < s->vtd_devs.nr; i++) {
		msc_vtd_dev_ent *d = msc_table_item(&s->vtd_devs, i);

		if (d->unit == e)
			fprintf(s->o.out, "  %s %s: domain %u, remapping %s\n", d->name,
				bdf_text(buf, d->bdf), d->did,
				ms_vtd_dmar_enabled(e->v, d->bdf) == 1 ? "on" : "off");
	}
	return 0;
}
