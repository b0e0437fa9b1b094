/*
 * render.h: region tree -> flat ranges (render.c), a pure function.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_RENDER_INT_H
#define MEMSPACE_RENDER_INT_H

#include "region.h"

#define MS__RANGE_READONLY (1u << 0)
#define MS__RANGE_NONVOLATILE (1u << 1)
#define MS__RANGE_UNMERGEABLE (1u << 2)
#define MS__RANGE_ROMD (1u << 3)

/* One flat range: [start, last] maps to region at offset_in_region. */
typedef struct ms__range {
	uint64_t start;
	uint64_t last;
	uint64_t offset_in_region;
	ms_region *region;
	uint8_t flags;
	uint8_t dirty_log_mask;
} ms__range;

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
