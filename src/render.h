/*
 * render.h: region tree -> flat ranges (render.c), a pure function.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_RENDER_INT_H
#define MEMSPACE_RENDER_INT_H

#include "region.h"

#define MS__RANGE_READONLY MS_FLAT_READONLY
#define MS__RANGE_NONVOLATILE MS_FLAT_NONVOLATILE
#define MS__RANGE_UNMERGEABLE MS_FLAT_UNMERGEABLE
#define MS__RANGE_ROMD MS_FLAT_ROMD
#define MS__RANGE_HOST_READ MS_FLAT_HOST_READ

/*
 * One flat range: [start, last] maps to region at offset_in_region. It is
 * the public struct ms_flat_entry (flatview.h), so that the lean look-up
 * hands out the view's own entries; host and kind are copied from the
 * region when it is painted (ms__render_host()), so an access reaches the
 * data from the entry alone.
 */
typedef ms_flat_entry ms__range;

/* The host address of offset @offset of @mr for a range entry, or NULL. */
static inline uint8_t *ms__render_host(const ms_region *mr, uint64_t offset)
{
	switch (mr->kind) {
	case MS_REGION_RAM:
	case MS_REGION_ROM:
	case MS_REGION_RAM_PTR:
	case MS_REGION_ROM_DEVICE:
		return mr->ram ? (uint8_t *)mr->ram + offset : NULL;
	default:
		return NULL;
	}
}

/* Whether reads of @r are plain loads at its host address (MS_FLAT_HOST_READ). */
static inline bool ms__render_host_reads(const ms__range *r)
{
	return r->host && (r->kind == MS_REGION_RAM || r->kind == MS_REGION_ROM ||
			   r->kind == MS_REGION_RAM_PTR);
}

/*
 * Render @root (may be NULL) into a new sorted, disjoint, merged array.
 * Pure: reads the tree, takes no references, changes nothing. At most the
 * context's render limit of ranges; nesting deeper than MS_RENDER_MAX_DEPTH
 * is a loop. Lock held.
 * Return: 0, -ENOMEM, -ELOOP or -E2BIG.
 */
int ms__render(ms__range **out, size_t *nr, ms_ctx *ctx, ms_region *root);
/* The same restricted to the addresses [lo, hi]: equals the full render cut
 * at lo and hi (rendering is pointwise), merged inside the window. */
int ms__render_window(ms__range **out, size_t *nr, ms_ctx *ctx, ms_region *root, uint64_t lo,
		      uint64_t hi);
/* The most ranges a view of @ctx may have (ms_ctx_set_render_limit()). */
uint64_t ms__render_limit(const ms_ctx *ctx);
bool ms__render_range_equal(const ms__range *a, const ms__range *b);
/* R9: @next directly follows @prev and continues it (same region, offsets, flags). */
bool ms__render_can_merge(const ms__range *prev, const ms__range *next);

#endif /* MEMSPACE_RENDER_INT_H */
