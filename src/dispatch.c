/*
 * dispatch.c: the lookup of a flat view (address -> flat range).
 *
 * Every access goes through this look-up (ms__dispatch_find(), inline in
 * flatview_int.h; ms__dispatch_lookup() out of line). A view is a table of
 * segments of chunks of up to 64 ranges (flatview.c), so a lookup has up to
 * four steps:
 *   - a view of one chunk whose map needs no search (no slot left to it)
 *     has a copy of that map in the view, and its look-up is the map, one
 *     slot and one range, nothing else: no hint, which at that cost would
 *     only add a store that each look-up makes and the next one waits
 *     for;
 *   - a hint: the last range found, checked first together with its
 *     successor in the chunk, so sequential accesses cost two compares
 *     (also a walk that moves to the next range at every access). It is
 *     only a guess, validated on every use, and read and written with
 *     relaxed atomics, so concurrent readers may overwrite each other
 *     harmlessly. A look-up that finds neither marks it cold, and a cold
 *     hint is not tried until a look-up lands on it or after it again
 *     (twice in a row when the flat table answered, as a slot and a range
 *     cost less than a mispredicted test): random look-ups then skip it
 *     without a mispredicted branch;
 *   - the segment (skipped for one segment, up to ~4,000 ranges after a
 *     full render), the chunk inside it, then the range inside the chunk:
 *     each first through a direct map (flatview_int.h) of up to 128 slots
 *     over the view's, segment's or chunk's span, one byte that names the
 *     answer or its predecessor when the address's block meets at most two
 *     candidates. Otherwise the range is counted: the segment through a
 *     static index over the first start of every segment (level 0 is
 *     those keys padded to a multiple of 8; each key of level l + 1 is the
 *     first key of an 8-key node of level l, except node 0's; every node is
 *     one cache line searched by counting its keys <= addr without
 *     branches; the top level may have 16 keys), the chunk and the range
 *     through the same count over 8 separators and 64 keys, two lines.
 * Any other view of one chunk goes straight to the chunk's map.
 * A view that keeps answering look-ups its hint misses (MS__FLAT_AFTER_MIN,
 * or four per range) builds a flat table on the reader's thread that
 * reaches the count: one pointer per block of its span (one to four blocks
 * per range), naming the one range that meets the block or, in a hole, a
 * range that does not; it is kept when it answers at least half the ranges
 * directly, and a look-up is then one slot and one range (crowded blocks
 * and addresses outside the span take the steps above). Building it in a
 * look-up rather than in the commit keeps commits O(changed segments): a
 * view replaced before it has served many look-ups never pays for it.
 * The view's index and map are rebuilt for each view, O(segments); a
 * chunk's or a segment's keys and map are built with it, once (flatview.c).
 * The look-up itself is inline in flatview_int.h, so that the access path
 * compiles it into its own loop, up to the searches of views of several
 * chunks (ms__dispatch_search(), here); this file also builds the index.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "flatview_int.h"

static size_t round_node(size_t n)
{
	return (n + MS__NODE - 1) / MS__NODE * MS__NODE;
}

/* Level sizes of an index of @nr keys into @len; the number of levels, or 0 past 8. */
static unsigned level_sizes(size_t nr, size_t len[8])
{
	size_t n = nr;
	unsigned l;

	/* Level l + 1 holds one key per node of level l but the first. The top
	 * level may have two nodes (16 keys in two adjacent lines), which saves
	 * a level for views of 9 to 16 segments. */
	for (l = 0; l < 8; l++) {
		len[l] = round_node(n);
		if (len[l] <= 2 * MS__NODE)
			return l + 1;
		n = len[l] / MS__NODE - 1;
	}
	return 0;
}

size_t ms__dispatch_size(size_t nr)
{
	size_t len[8], total = 0;
	unsigned l, levels;

	if (nr == 0)
		return 0;
	levels = level_sizes(nr, len);
	if (levels == 0)
		return SIZE_MAX; /* more than 8^8 keys */
	for (l = 0; l < levels; l++)
		total += len[l];
	return total;
}

void ms__dispatch_fill(ms__sidx *x, uint64_t *mem, const uint64_t *keys, size_t nr)
{
	size_t len[8], i;
	unsigned l;

	memset(x, 0, sizeof(*x));
	x->nr = nr;
	if (nr == 0)
		return;
	x->nr_levels = level_sizes(nr, len);
	x->top_len = len[x->nr_levels - 1];
	for (l = 0; l < x->nr_levels; l++) {
		x->level[l] = mem;
		for (i = 0; i < len[l]; i++) {
			if (l == 0)
				mem[i] = i < nr ? keys[i] : UINT64_MAX;
			else
				mem[i] = (i + 1) * MS__NODE < len[l - 1]
						 ? x->level[l - 1][(i + 1) * MS__NODE]
						 : UINT64_MAX;
		}
		mem += len[l];
	}
}

int ms__dispatch_build(ms__sidx *x, ms_ctx *ctx, const uint64_t *keys, size_t nr)
{
	size_t total = ms__dispatch_size(nr);
	uint64_t *mem = NULL;

	memset(x, 0, sizeof(*x));
	if (total == SIZE_MAX)
		return -ENOMEM;
	if (total > 0 && (ms__ctx_inject_failure(ctx) ||
			  posix_memalign((void **)&mem, 64, total * sizeof(*mem)) != 0))
		return -ENOMEM;
	ms__dispatch_fill(x, mem, keys, nr);
	x->mem = mem;
	return 0;
}

void ms__dispatch_free(ms__sidx *x)
{
	free(x->mem);
	x->mem = NULL;
}

size_t ms__dispatch_rank(const ms__sidx *x, uint64_t key)
{
	return ms__sidx_rank(x, key);
}

const ms__range *ms__dispatch_search(const ms_flatview *fv, uint64_t addr, uintptr_t hint)
{
	const ms__range *r, *last = (const ms__range *)(hint & ~MS__HINT_STATE);
	const ms__seg *seg;
	size_t s, c;

	if (fv->nr_segs <= 1) {
		/* A per-view branch: no segment, or one. */
		if (fv->nr_segs == 0 || fv->firsts[0] > addr)
			return NULL;
		s = 0;
	} else {
		s = ms__map_slot(&fv->map, addr);
		if (__builtin_expect(s != MS__MAP_SLOW, 1)) {
			s += fv->firsts[s + 1] <= addr; /* the map leaves UINT64_MAX out */
		} else {
			s = ms__sidx_rank(&fv->index, addr);
			if (s-- == 0)
				return NULL;
		}
	}
	seg = fv->segs[s];
	c = ms__seg_find(seg, addr);
	r = ms__chunk_find(seg->chunks[c], seg->seps[c], addr);
	if (!r)
		return NULL;
	ms__hint_set(fv, hint, ms__hint_after(last, r));
	return r;
}

MS__HOT_ENTRY const ms__range *ms__dispatch_lookup(const ms_flatview *fv, uint64_t addr)
{
	return ms__dispatch_find(fv, addr);
}

/* ---- the flat table (flatview_int.h) ------------------------------------------ */

/* A block that several ranges meet, while the table is built. */
#define FLAT_CROWDED ((const ms__range *)&flat_crowded)
static const char flat_crowded;

/* The first address of block @b of @t. */
static uint64_t flat_block(const ms__flat *t, uint64_t b)
{
	return t->base + (b << t->shift);
}

/* Whether @r meets block @b of @t. */
static bool flat_meets(const ms__flat *t, uint64_t b, const ms__range *r)
{
	uint64_t lo = flat_block(t, b), hi = lo + (((uint64_t)1 << t->shift) - 1);

	if (hi < lo)
		hi = UINT64_MAX; /* the last block of the address space */
	return r->start <= hi && r->last >= lo;
}

/* @fv's table, or NULL without memory or when it would answer directly for
 * fewer than half the ranges. O(ranges + blocks). */
static ms__flat *flat_make(const ms_flatview *fv)
{
	const ms__range *r, *prev = NULL, *counted = NULL;
	ms__fvpos pos = {0};
	uint64_t span, limit, b, b0, b1, next = 0;
	size_t cap = 1, direct = 0;
	unsigned shift = 0;
	ms__flat *t;

	if (fv->nr < 2)
		return NULL;
	while (cap < 2 * fv->nr)
		cap <<= 1;
	span = ms__flatview_at(fv, fv->nr - 1)->last - ms__flatview_at(fv, 0)->start;
	while (shift < 63 && (span >> shift) >= cap)
		shift++;
	limit = (span >> shift) + 1;
	t = malloc(sizeof(*t) + limit * sizeof(t->slot[0]));
	if (!t)
		return NULL;
	t->base = ms__flatview_at(fv, 0)->start;
	t->shift = shift;
	t->limit = limit;
	/* Ranges are sorted and disjoint, so a range can only share its first
	 * block, with the ranges before it; the blocks of a hole name the range
	 * before it, which does not meet them. */
	while ((r = ms__flatview_next(fv, &pos))) {
		b0 = (r->start - t->base) >> shift;
		b1 = (r->last - t->base) >> shift;
		for (b = next; b < b0; b++)
			t->slot[b] = prev;
		b = b0;
		if (b0 < next)
			t->slot[b++] = FLAT_CROWDED;
		for (; b <= b1; b++)
			t->slot[b] = r;
		next = b1 + 1;
		prev = r;
	}
	for (b = 0; b < limit; b++) {
		if (t->slot[b] == FLAT_CROWDED) {
			t->slot[b] = NULL;
		} else if (t->slot[b] != counted && flat_meets(t, b, t->slot[b])) {
			counted = t->slot[b];
			direct++;
		}
	}
	if (2 * direct < fv->nr) {
		free(t);
		return NULL;
	}
	return t;
}

void ms__dispatch_flat_build(ms_flatview *fv)
{
	ms__flat *t;

	if (__atomic_exchange_n(&fv->flat_tried, 1, __ATOMIC_RELAXED))
		return;
	__atomic_store_n(&fv->flat_after, UINT32_MAX, __ATOMIC_RELAXED);
	t = flat_make(fv);
	if (t)
		__atomic_store_n(&fv->flat, t, __ATOMIC_RELEASE);
}

const ms__range *ms__dispatch_flat_build_find(ms_flatview *fv, uint64_t addr)
{
	ms__dispatch_flat_build(fv);
	return ms__dispatch_find_counting(fv, addr, MS__FIND_QUIET);
}

int ms__dispatch_flat_check(const ms_flatview *fv)
{
	const ms__flat *t = __atomic_load_n(&fv->flat, __ATOMIC_ACQUIRE);
	const ms__range *r, *after;
	ms__fvpos pos = {0};
	uint64_t b;

	if (!t)
		return 0;
	if (fv->nr < 2 || t->base != ms__flatview_at(fv, 0)->start || t->limit == 0 ||
	    t->limit > 4 * fv->nr)
		return -EINVAL;
	/* For each block, the first range ending in or after it and the next. */
	r = ms__flatview_next(fv, &pos);
	for (b = 0; b < t->limit; b++) {
		const ms__range *slot = t->slot[b];
		bool one, two;

		while (r && r->last < flat_block(t, b))
			r = ms__flatview_next(fv, &pos);
		after = ms__flatview_peek(fv, &pos);
		one = r && flat_meets(t, b, r);
		two = one && after && flat_meets(t, b, after);
		if (two ? slot != NULL : one ? slot != r : !slot || flat_meets(t, b, slot))
			return -EINVAL;
	}
	return 0;
}

const ms__range *ms__dispatch_next_after(const ms_flatview *fv, uint64_t addr)
{
	const ms__chunk *ch;
	const ms__seg *seg;
	size_t s, c, i;

	if (fv->nr_segs == 0)
		return NULL;
	s = ms__dispatch_rank(&fv->index, addr);
	if (s == 0)
		return &fv->segs[0]->chunks[0]->ranges[0];
	seg = fv->segs[s - 1];
	c = ms__seg_rank(seg, addr);
	ch = seg->chunks[c - 1];
	i = ms__chunk_rank(ch, ch->sep, addr);
	if (i < ch->nr)
		return &ch->ranges[i];
	if (c < seg->nr)
		return &seg->chunks[c]->ranges[0];
	return s < fv->nr_segs ? &fv->segs[s]->chunks[0]->ranges[0] : NULL;
}

void ms__dispatch_shape(const ms_flatview *fv, size_t *nr_chunks, unsigned *nr_levels)
{
	*nr_chunks = fv->nr_chunks;
	/* The key levels a look-up searches above the chunks: the segment
	 * index (skipped for one segment), then the segment's chunk keys. */
	if (fv->nr_segs == 0)
		*nr_levels = 0;
	else if (fv->nr_segs == 1)
		*nr_levels = 1;
	else
		*nr_levels = fv->index.nr_levels + 1;
}

void ms__dispatch_chunk(const ms_flatview *fv, size_t c, size_t *first, size_t *nr)
{
	size_t s = ms__cum_find(fv->ccum, fv->nr_segs, c);
	const ms__seg *seg = fv->segs[s];

	c -= fv->ccum[s];
	*first = fv->cum[s] + seg->cum[c];
	*nr = seg->chunks[c]->nr;
}
