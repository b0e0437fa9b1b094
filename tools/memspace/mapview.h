/*
 * memspace CLI: a picture of the memory map (docs/memory-map.md).
 *
 * Draws one horizontal bar per address space from its published flat view:
 * every range a coloured box (RAM, ROM, romd, I/O, RAM device, IOMMU), every
 * hole a grey one, on a segmented axis where each box is as wide as a
 * logarithm of its size, with true addresses written at the boundaries.
 * Output is SVG, or a self-contained HTML page around the same SVG with
 * zooming and a hover panel. It depends only on what it is given, so the same
 * machine always gives the same bytes.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_CLI_MAPVIEW_H
#define MEMSPACE_CLI_MAPVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <memspace.h>

/**
 * typedef msc_mapview_target_fn - names where an IOMMU region translates to.
 * @iommu: an IOMMU region that a flat view shows.
 * @payload: msc_mapview_opts.payload.
 *
 * Return: the name of the target address space, or NULL when unknown (the
 * picture then says "target unknown"). The string must stay valid during
 * msc_mapview_write().
 */
typedef const char *(*msc_mapview_target_fn)(ms_region *iommu, void *payload);

/** struct msc_mapview_opts - how to draw. */
typedef struct msc_mapview_opts {
	bool html;                          /* an HTML page around the SVG */
	const char *title;                  /* shown at the top (the input's name); may be NULL */
	msc_mapview_target_fn iommu_target; /* may be NULL */
	void *payload;
} msc_mapview_opts;

/** struct msc_mapview_stats - what a picture holds. */
typedef struct msc_mapview_stats {
	size_t nr_spaces;  /* bars */
	size_t nr_regions; /* range boxes (class "region"), all bars together */
	size_t nr_holes;   /* hole boxes (class "hole") */
} msc_mapview_stats;

/**
 * msc_mapview_write - draw @nr address spaces, in the order given.
 * @out: where the SVG or HTML goes.
 * @spaces: the address spaces; each is drawn from its current flat view.
 * @nr: how many (0 gives an empty picture).
 * @opts: how to draw.
 * @stats: receives the counts (may be NULL).
 *
 * Return: 0; -ENOMEM; -EIO when writing to @out failed (part of the picture
 * may have been written).
 * Context: no other thread may change the address spaces' topology meanwhile.
 */
int msc_mapview_write(FILE *out, ms_as *const *spaces, size_t nr, const msc_mapview_opts *opts,
		      msc_mapview_stats *stats);

#endif /* MEMSPACE_CLI_MAPVIEW_H */
