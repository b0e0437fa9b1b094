/*
 * flatview.c: immutable, reference-counted flat views.
 *
 * A view is built once from rendered ranges and never changes. It holds a
 * reference on its root and on the region of every range, so a region that
 * a reader can reach through a published view is never freed. The last
 * reference is dropped through call_rcu(), so readers that found the view
 * through rcu_dereference() inside a read-side section finish first.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdlib.h>

#include "internal.h"

#ifdef MS__TSAN
const char ms__rcu_sync_token;
#endif

int ms__flatview_new(ms_flatview **out, ms_ctx *ctx, ms_region *root, ms__range *ranges,
		     size_t nr)
{
	ms_flatview *fv;
	size_t i;

	*out = NULL;
	fv = ms__calloc(ctx, 1, sizeof(*fv));
	if (!fv)
		return -ENOMEM;
	fv->refcount = 1;
	fv->ctx = ctx;
	fv->root = ms_region_ref(root);
	fv->ranges = ranges;
	fv->nr = nr;
	if (ms__flatview_build_index(fv) < 0) {
		ms_region_unref(fv->root);
		free(fv);
		return -ENOMEM;
	}
	for (i = 0; i < nr; i++)
		ms_region_ref(ranges[i].region);
	*out = fv;
	return 0;
}

static void flatview_free_rcu(struct rcu_head *head)
{
	ms_flatview *fv = caa_container_of(head, ms_flatview, rcu);
	size_t i;

	ms__rcu_reclaiming();
	for (i = 0; i < fv->nr; i++)
		ms_region_unref(fv->ranges[i].region);
	ms_region_unref(fv->root);
	free(fv->index_keys);
	free(fv->index_pos);
	free(fv->ranges);
	free(fv);
	ms__rcu_released(); /* regions unreferenced here may be freed by others */
}

ms_flatview *ms_flatview_ref(ms_flatview *fv)
{
	if (fv)
		__atomic_fetch_add(&fv->refcount, 1, __ATOMIC_RELAXED);
	return fv;
}

void ms_flatview_unref(ms_flatview *fv)
{
	if (fv && __atomic_sub_fetch(&fv->refcount, 1, __ATOMIC_ACQ_REL) == 0) {
		ms__rcu_released(); /* hand-over to the call_rcu thread */
		call_rcu_bp(&fv->rcu, flatview_free_rcu);
	}
}

size_t ms_flatview_nr_ranges(const ms_flatview *fv)
{
	return fv->nr;
}

ms_region *ms_flatview_root(const ms_flatview *fv)
{
	return fv->root;
}

void ms__section_from_range(ms_section *s, const ms__range *r)
{
	s->region = r->region;
	s->start = r->start;
	s->last = r->last;
	s->offset_in_region = r->offset_in_region;
	s->readonly = r->flags & MS__RANGE_READONLY;
	s->nonvolatile = r->flags & MS__RANGE_NONVOLATILE;
	s->unmergeable = r->flags & MS__RANGE_UNMERGEABLE;
	s->romd = r->flags & MS__RANGE_ROMD;
	s->dirty_log_mask = r->dirty_log_mask;
}

int ms_flatview_range(ms_section *out, const ms_flatview *fv, size_t index)
{
	if (!out || !fv || index >= fv->nr)
		return -ERANGE;
	ms__section_from_range(out, &fv->ranges[index]);
	return 0;
}

int ms_flatview_find(ms_section *out, const ms_flatview *fv, uint64_t addr)
{
	const ms__range *r;

	if (!out || !fv)
		return -EINVAL;
	r = ms__flatview_lookup(fv, addr);
	if (!r)
		return -ENOENT;
	ms__section_from_range(out, r);
	return 0;
}

int ms__flatview_check(const ms_flatview *fv)
{
	size_t i;

	for (i = 0; i < fv->nr; i++) {
		const ms__range *r = &fv->ranges[i];

		if (r->last < r->start || !r->region)
			return -EINVAL;
		if (i == 0)
			continue;
		if (fv->ranges[i - 1].last >= r->start)
			return -EINVAL; /* unsorted or overlapping */
		if (ms__range_can_merge(&fv->ranges[i - 1], r))
			return -EINVAL; /* should have been merged */
	}
	return 0;
}
