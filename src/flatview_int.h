/*
 * flatview_int.h: the layout of a flat view, shared by flatview.c (building,
 * splicing, lifetime) and dispatch.c (the lookup index) and by no other
 * module: everything else goes through flatview.h.
 *
 * A view is a sequence of immutable chunks of at most MS__CHUNK_MAX ranges.
 * Chunks are reference-counted and shared between successive views: a
 * commit that changes a few ranges builds new chunks only where they
 * changed and copies the pointers of the others (the chunk table is
 * O(ranges / MS__CHUNK_FILL)). A chunk holds a reference on the region of
 * each of its ranges; a view holds a reference on its root and its chunks.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_FLATVIEW_LAYOUT_H
#define MEMSPACE_FLATVIEW_LAYOUT_H

#include "flatview.h"

#define MS__CHUNK_MAX 64
#define MS__CHUNK_FILL 48 /* target size when re-chunking around a window */

typedef struct ms__chunk {
	/* Range starts, UINT64_MAX beyond nr; sep[j] = keys[8 * (j + 1)]. */
	uint64_t keys[MS__CHUNK_MAX];
	uint64_t sep[8];
	uint32_t refcount; /* atomic */
	uint32_t nr;       /* 1 .. MS__CHUNK_MAX */
	/* nr ranges, then a copy of the last one (the lookup hint's successor
	 * check reads it; it holds no region reference). */
	ms__range ranges[];
} ms__chunk;

/*
 * Static search index over a sorted key array (the first start of every
 * chunk): levels of 8-key nodes, one cache line each, where a key of
 * level l + 1 is every 8th key of level l; the top level has 1 or 2 nodes.
 * ms__dispatch_rank() returns how many keys are <= a value.
 */
typedef struct ms__sidx {
	uint64_t *mem;      /* all levels (64-byte aligned) */
	uint64_t *level[8]; /* level[0] = the keys padded with UINT64_MAX */
	unsigned nr_levels;
	size_t top_len; /* keys in the top level: 8 or 16 */
	size_t nr;
} ms__sidx;

struct ms_flatview {
	uint32_t refcount; /* atomic */
	ms_ctx *ctx;
	ms_region *root; /* reference held; NULL for the empty view */
	size_t nr;       /* ranges */
	size_t nr_chunks;
	ms__chunk **chunks; /* references held */
	size_t *cum;        /* cum[c]: ranges before chunk c; cum[nr_chunks] = nr */
	ms__sidx index;     /* over chunks[c]->ranges[0].start */
	/* seps[c] = chunks[c]->sep, copied so that a lookup loads it in
	 * parallel with chunks[c] instead of after it (64-byte aligned). */
	uint64_t (*seps)[8];
	const ms__range *hint; /* the last range found (relaxed atomic) */
	struct rcu_head rcu;
};

/* Static index build/free/rank (dispatch.c). */
int ms__dispatch_build(ms__sidx *x, ms_ctx *ctx, const uint64_t *keys, size_t nr);
void ms__dispatch_free(ms__sidx *x);
size_t ms__dispatch_rank(const ms__sidx *x, uint64_t key);

#endif /* MEMSPACE_FLATVIEW_LAYOUT_H */
