/*
 * dispatch.c: the lookup of a flat view (address -> flat range).
 *
 * Every access goes through ms__dispatch_lookup(). A view is a table of
 * chunks of up to 64 ranges (flatview.c), so a lookup has three steps:
 *   - a hint: the last range found, checked first together with its
 *     successor in the chunk, so sequential accesses cost two compares. It is
 *     only a guess, validated on every use, and read and written with
 *     relaxed atomics, so concurrent readers may overwrite each other
 *     harmlessly;
 *   - the chunk: a static index over the first start of every chunk. Level 0
 *     is those keys padded to a multiple of 8; each key of level l + 1 is the
 *     first key of an 8-key node of level l (except node 0's). Every node is
 *     one cache line and is searched by counting its keys <= addr without
 *     branches, so finding the chunk costs one line per level; the top
 *     level may have 16 keys. One level up to 16 chunks (~1,000 ranges
 *     after a full render), 4 at 100,000 ranges;
 *   - the range inside the chunk: the same two-level scheme with the chunk's
 *     own 8 separators (a copy in the view, loaded together with the chunk
 *     pointer) and 64 keys, two lines.
 * The index is rebuilt for each view, but it is O(chunks), not O(ranges).
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "flatview_int.h"

#define NODE 8 /* keys per node: 8 x 8 bytes = one cache line */

static size_t round_node(size_t n)
{
	return (n + NODE - 1) / NODE * NODE;
}

int ms__dispatch_build(ms__sidx *x, ms_ctx *ctx, const uint64_t *keys, size_t nr)
{
	size_t len[8], total = 0, l, i, n = nr;
	uint64_t *mem = NULL;

	memset(x, 0, sizeof(*x));
	x->nr = nr;
	if (nr == 0)
		return 0;
	/* Level sizes: level l + 1 holds one key per node of level l but the
	 * first. The top level may have two nodes (16 keys in two adjacent
	 * lines), which saves a level for views of 9 to 16 chunks. */
	for (l = 0;; l++) {
		if (l == 8)
			return -ENOMEM; /* more than 8^8 chunks */
		len[l] = round_node(n);
		total += len[l];
		if (len[l] <= 2 * NODE)
			break;
		n = len[l] / NODE - 1;
	}
	x->nr_levels = (unsigned)l + 1;
	x->top_len = len[l];
	if (ms__ctx_inject_failure(ctx) ||
	    posix_memalign((void **)&mem, 64, total * sizeof(*mem)) != 0)
		return -ENOMEM;
	x->mem = mem;
	for (l = 0; l < x->nr_levels; l++) {
		x->level[l] = mem;
		for (i = 0; i < len[l]; i++) {
			if (l == 0)
				mem[i] = i < nr ? keys[i] : UINT64_MAX;
			else
				mem[i] = (i + 1) * NODE < len[l - 1] ? x->level[l - 1][(i + 1) * NODE]
								 : UINT64_MAX;
		}
		mem += len[l];
	}
	return 0;
}

void ms__dispatch_free(ms__sidx *x)
{
	free(x->mem);
	x->mem = NULL;
}

/* Keys <= @key among the 8 at @node: two independent sums of four, so the
 * compare-and-add chain is half as long. */
static inline size_t node_rank(const uint64_t *node, uint64_t key)
{
	size_t a = (size_t)(node[0] <= key) + (node[1] <= key) + (node[2] <= key) + (node[3] <= key);
	size_t b = (size_t)(node[4] <= key) + (node[5] <= key) + (node[6] <= key) + (node[7] <= key);

	return a + b;
}

/* Inlined into the lookup; ms__dispatch_rank() is the out-of-line form. */
static inline __attribute__((always_inline)) size_t sidx_rank(const ms__sidx *x, uint64_t key)
{
	size_t pos = 0;
	unsigned l;

	if (x->nr == 0 || key == UINT64_MAX)
		return x->nr; /* padding is UINT64_MAX too: do not count it */
	/* The top level: one or two nodes. */
	l = x->nr_levels - 1;
	pos = node_rank(x->level[l], key);
	/* Count the second node whatever the first gave (its keys are all
	 * greater unless the first counted 8): a per-view branch, where
	 * testing pos would mispredict half the time. */
	if (x->top_len > NODE)
		pos += node_rank(x->level[l] + NODE, key);
	/* Invariant: pos is the rank of @key among the keys of level l, which
	 * is also the node of level l - 1 to search. */
	while (l-- > 0)
		pos = pos * NODE + node_rank(&x->level[l][pos * NODE], key);
	return pos;
}

size_t ms__dispatch_rank(const ms__sidx *x, uint64_t key)
{
	return sidx_rank(x, key);
}

/* Keys <= @addr in @ch, whose separators are @sep (at least 1 when
 * ch->keys[0] <= addr). */
static inline size_t chunk_rank(const ms__chunk *ch, const uint64_t *sep, uint64_t addr)
{
	size_t block;

	if (addr == UINT64_MAX)
		return ch->nr; /* padding is UINT64_MAX too: do not count it */
	block = (size_t)(sep[0] <= addr) + (sep[1] <= addr) + (sep[2] <= addr) + (sep[3] <= addr);
	block += (size_t)(sep[4] <= addr) + (sep[5] <= addr) + (sep[6] <= addr);
	return block * NODE + node_rank(&ch->keys[block * NODE], addr);
}

static inline bool range_contains(const ms__range *r, uint64_t addr)
{
	return addr - r->start <= r->last - r->start;
}

const ms__range *ms__dispatch_lookup(const ms_flatview *fv, uint64_t addr)
{
	const ms__range *hint, *r;
	const ms__chunk *ch;
	size_t c, i;

	/* The hint points into this view's chunks; each chunk's ranges end
	 * with a copy of its last range, so hint + 1 is always readable and
	 * matches only where the hint itself did not. */
	hint = __atomic_load_n(&((ms_flatview *)fv)->hint, __ATOMIC_RELAXED);
	if (hint) {
		if (range_contains(hint, addr))
			return hint;
		if (range_contains(hint + 1, addr)) {
			r = hint + 1;
			goto found;
		}
	}
	if (fv->nr_chunks == 0)
		return NULL;
	c = fv->nr_chunks == 1 ? 1 : sidx_rank(&fv->index, addr);
	if (c == 0)
		return NULL;
	ch = fv->chunks[c - 1];
	i = chunk_rank(ch, fv->seps[c - 1], addr);
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

const ms__range *ms__dispatch_next_after(const ms_flatview *fv, uint64_t addr)
{
	const ms__chunk *ch;
	size_t c, i;

	if (fv->nr_chunks == 0)
		return NULL;
	c = ms__dispatch_rank(&fv->index, addr);
	if (c == 0)
		return &fv->chunks[0]->ranges[0];
	ch = fv->chunks[c - 1];
	i = chunk_rank(ch, ch->sep, addr);
	if (i < ch->nr)
		return &ch->ranges[i];
	return c < fv->nr_chunks ? &fv->chunks[c]->ranges[0] : NULL;
}

void ms__dispatch_shape(const ms_flatview *fv, size_t *nr_chunks, unsigned *nr_levels)
{
	*nr_chunks = fv->nr_chunks;
	*nr_levels = fv->index.nr_levels;
}

void ms__dispatch_chunk(const ms_flatview *fv, size_t c, size_t *first, size_t *nr)
{
	*first = fv->cum[c];
	*nr = fv->chunks[c]->nr;
}
