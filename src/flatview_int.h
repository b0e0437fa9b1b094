/*
 * flatview_int.h: the layout of a flat view, shared by flatview.c (building,
 * splicing, lifetime) and dispatch.c (the lookup index), and its inline
 * look-up, which the access path compiles into its own code; every other
 * module goes through flatview.h.
 *
 * A view is a sequence of immutable chunks of at most MS__CHUNK_MAX ranges,
 * grouped into immutable segments of at most MS__SEG_MAX chunks. Both are
 * reference-counted and shared between successive views: a commit that
 * changes a few ranges builds new chunks only where they changed, new
 * segments only around those chunks, and copies the pointers of the other
 * segments, so its cost is O(ranges / (MS__CHUNK_FILL * MS__SEG_FILL)) plus
 * the changed segments, not one reference per chunk. A chunk holds a
 * reference on the region of each of its ranges, a segment on each of its
 * chunks, a view on its root and its segments.
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
	/* nr ranges, then a copy of the last one (the hint's successor check
	 * reads it; it holds no region reference). */
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

#define MS__SEG_MAX 64
#define MS__SEG_FILL 48 /* target size when regrouping around a window */

/* One allocation: the header, then seps, chunks and cum sized to nr. */
typedef struct ms__seg {
	/* First start of each chunk, UINT64_MAX beyond nr; fsep[j] = firsts[8 * (j + 1)]. */
	uint64_t firsts[MS__SEG_MAX];
	uint64_t fsep[8];
	ms__chunk **chunks; /* nr, references held */
	uint32_t *cum;      /* nr + 1: ranges before chunk c; cum[nr] = all */
	uint32_t refcount;  /* atomic */
	uint32_t nr;        /* chunks, 1 .. MS__SEG_MAX */
	/* seps[c] = chunks[c]->sep, copied so that a look-up loads it in
	 * parallel with chunks[c] instead of after it. */
	uint64_t seps[][8] __attribute__((aligned(64)));
} ms__seg;

/* One allocation: the struct, then its index keys, segment table, cum and ccum. */
struct ms_flatview {
	uint32_t refcount; /* atomic */
	ms_ctx *ctx;
	ms_region *root; /* reference held; NULL for the empty view */
	size_t nr;       /* ranges */
	size_t nr_chunks;
	size_t nr_segs;
	ms__seg **segs; /* references held */
	size_t *cum;    /* cum[s]: ranges before segment s; cum[nr_segs] = nr */
	size_t *ccum; /* ccum[s]: chunks before segment s; ccum[nr_segs] = nr_chunks (in cum's block) */
	ms__sidx index; /* over segs[s]->firsts[0] */
	/* The chunk of a view of one chunk (up to 64 ranges), else NULL: the
	 * look-up of small views goes straight to it. */
	const ms__chunk *chunk0;
	const ms__range *hint; /* the last range found (relaxed atomic) */
	struct rcu_head rcu;
};

/*
 * Static index (dispatch.c): ms__dispatch_size() is how many keys an index
 * of @nr keys takes (SIZE_MAX when too many), ms__dispatch_fill() builds it
 * in @mem (64-byte aligned, that many keys, owned by the caller);
 * ms__dispatch_build() allocates it (x->mem, for ms__dispatch_free()).
 */
size_t ms__dispatch_size(size_t nr);
void ms__dispatch_fill(ms__sidx *x, uint64_t *mem, const uint64_t *keys, size_t nr);
int ms__dispatch_build(ms__sidx *x, ms_ctx *ctx, const uint64_t *keys, size_t nr);
void ms__dispatch_free(ms__sidx *x);
size_t ms__dispatch_rank(const ms__sidx *x, uint64_t key);

/* The s < @n with cum[s] <= @i < cum[s + 1], for cum ascending from cum[0] = 0
 * and @i < cum[n]: which segment holds a range (cum) or a chunk (ccum). */
static inline size_t ms__cum_find(const size_t *cum, size_t n, size_t i)
{
	size_t lo = 0, hi = n;

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (cum[mid] <= i)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* ---- the look-up (dispatch.c explains it), inline for the access path ---- */

#define MS__NODE 8 /* keys per node: 8 x 8 bytes = one cache line */

/* Keys <= @key among the 8 at @node: two independent sums of four, so the
 * compare-and-add chain is half as long. */
static inline size_t ms__node_rank(const uint64_t *node, uint64_t key)
{
	size_t a =
		(size_t)(node[0] <= key) + (node[1] <= key) + (node[2] <= key) + (node[3] <= key);
	size_t b =
		(size_t)(node[4] <= key) + (node[5] <= key) + (node[6] <= key) + (node[7] <= key);

	return a + b;
}

/* Inlined into the look-up; ms__dispatch_rank() is the out-of-line form. */
static inline __attribute__((always_inline)) size_t ms__sidx_rank(const ms__sidx *x, uint64_t key)
{
	size_t pos = 0;
	unsigned l;

	if (x->nr == 0 || key == UINT64_MAX)
		return x->nr; /* padding is UINT64_MAX too: do not count it */
	/* The top level: one or two nodes. */
	l = x->nr_levels - 1;
	pos = ms__node_rank(x->level[l], key);
	/* Count the second node whatever the first gave (its keys are all
	 * greater unless the first counted 8): a per-view branch, where
	 * testing pos would mispredict half the time. */
	if (x->top_len > MS__NODE)
		pos += ms__node_rank(x->level[l] + MS__NODE, key);
	/* Invariant: pos is the rank of @key among the keys of level l, which
	 * is also the node of level l - 1 to search. */
	while (l-- > 0)
		pos = pos * MS__NODE + ms__node_rank(&x->level[l][pos * MS__NODE], key);
	return pos;
}

/* Keys <= @addr among the 64 at @keys, whose separators are @sep (every
 * 8th key): one line of separators, then one line of keys. */
static inline size_t ms__rank64(const uint64_t *keys, const uint64_t *sep, uint64_t addr)
{
	size_t block;

	block = (size_t)(sep[0] <= addr) + (sep[1] <= addr) + (sep[2] <= addr) + (sep[3] <= addr);
	block += (size_t)(sep[4] <= addr) + (sep[5] <= addr) + (sep[6] <= addr);
	return block * MS__NODE + ms__node_rank(&keys[block * MS__NODE], addr);
}

/* Ranges of @ch starting at or below @addr (at least 1 when ch->keys[0] <= addr). */
static inline size_t ms__chunk_rank(const ms__chunk *ch, const uint64_t *sep, uint64_t addr)
{
	if (addr == UINT64_MAX)
		return ch->nr; /* padding is UINT64_MAX too: do not count it */
	return ms__rank64(ch->keys, sep, addr);
}

/* Chunks of @seg starting at or below @addr (at least 1 when seg->firsts[0] <= addr). */
static inline size_t ms__seg_rank(const ms__seg *seg, uint64_t addr)
{
	if (addr == UINT64_MAX)
		return seg->nr;
	if (seg->nr == 1)
		return 1; /* the caller knows firsts[0] <= addr: a per-view branch */
	return ms__rank64(seg->firsts, seg->fsep, addr);
}

static inline bool ms__range_contains(const ms__range *r, uint64_t addr)
{
	return addr - r->start <= r->last - r->start;
}

/* ms__dispatch_lookup() inline, for the access path and the public look-ups. */
static inline __attribute__((always_inline)) const ms__range *
ms__dispatch_find(const ms_flatview *fv, uint64_t addr)
{
	const ms__range *hint, *r;
	const ms__chunk *ch;
	const ms__seg *seg;
	size_t s, c, i;

	/* The hint points into this view's chunks (a relaxed guess); each
	 * chunk's ranges end with a copy of its last range, so hint + 1 is
	 * always readable and matches only where the hint itself did not. */
	hint = __atomic_load_n(&((ms_flatview *)fv)->hint, __ATOMIC_RELAXED);
	if (hint) {
		if (ms__range_contains(hint, addr))
			return hint;
		if (ms__range_contains(hint + 1, addr)) {
			r = hint + 1;
			goto found;
		}
	}
	if (fv->chunk0) {
		ch = fv->chunk0;
		if (ch->keys[0] > addr)
			return NULL;
		i = ms__chunk_rank(ch, ch->sep, addr);
	} else {
		if (fv->nr_segs == 0)
			return NULL;
		s = fv->nr_segs == 1 ? (fv->segs[0]->firsts[0] <= addr)
				     : ms__sidx_rank(&fv->index, addr);
		if (s == 0)
			return NULL;
		seg = fv->segs[s - 1];
		c = ms__seg_rank(seg, addr);
		ch = seg->chunks[c - 1];
		i = ms__chunk_rank(ch, seg->seps[c - 1], addr);
	}
	if (i == 0 || addr > ch->ranges[i - 1].last)
		return NULL;
	r = &ch->ranges[i - 1];
found:
	/* Write the hint only when it moves: readers of one hot range then
	 * share the cache line instead of bouncing it between cores. */
	if (r != hint)
		__atomic_store_n(&((ms_flatview *)fv)->hint, r, __ATOMIC_RELAXED);
	return r;
}

#endif /* MEMSPACE_FLATVIEW_LAYOUT_H */
