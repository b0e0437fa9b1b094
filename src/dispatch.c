/*
 * dispatch.c: the lookup index of a flat view (address -> flat range).
 *
 * Every access goes through ms__flatview_lookup(). The index is built once
 * per view (views are immutable) and has two parts:
 *   - a hint: the index of the last range found, checked first together with
 *     its successor, so sequential accesses cost two compares. It is only a
 *     guess, validated on every use, and read and written with relaxed
 *     atomics, so concurrent readers may overwrite each other harmlessly;
 *   - the range starts in Eytzinger (breadth-first) order, searched without
 *     branches on the data and with software prefetch four levels ahead: a
 *     search touches O(log n) cache lines that the prefetcher has already
 *     requested, instead of binary search's dependent misses.
 * Invariant: keys[1..n] holds the starts of ranges[0..n-1] in Eytzinger
 * order and pos[k] is the sorted index of keys[k].
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdlib.h>

#include "internal.h"

/* Fill keys/pos in Eytzinger order by an in-order walk of the implicit tree. */
static void build(ms_flatview *fv)
{
	size_t n = fv->nr, k = 1, i = 0;

	/* Descend left as far as possible, then alternate visit / right / left. */
	for (;;) {
		while (k <= n)
			k = 2 * k;
		/* Go up while we came from a right child (or fell off). */
		k >>= __builtin_ffsll((long long)~k);
		if (k == 0)
			break;
		fv->index_keys[k] = fv->ranges[i].start;
		fv->index_pos[k] = (uint32_t)i;
		i++;
		k = 2 * k + 1;
	}
}

int ms__flatview_build_index(ms_flatview *fv)
{
	if (fv->nr == 0)
		return 0;
	if (fv->nr >= UINT32_MAX)
		return -ENOMEM;
	fv->index_keys = ms__malloc(fv->ctx, (fv->nr + 1) * sizeof(*fv->index_keys));
	fv->index_pos = ms__malloc(fv->ctx, (fv->nr + 1) * sizeof(*fv->index_pos));
	if (!fv->index_keys || !fv->index_pos) {
		free(fv->index_keys);
		free(fv->index_pos);
		fv->index_keys = NULL;
		fv->index_pos = NULL;
		return -ENOMEM;
	}
	build(fv);
	return 0;
}

static inline bool range_contains(const ms__range *r, uint64_t addr)
{
	return addr - r->start <= r->last - r->start;
}

const ms__range *ms__flatview_lookup(const ms_flatview *fv, uint64_t addr)
{
	const uint64_t *keys = fv->index_keys;
	size_t n = fv->nr, k = 1, i;
	uint32_t hint;

	if (n == 0)
		return NULL;
	hint = __atomic_load_n(&((ms_flatview *)fv)->hint, __ATOMIC_RELAXED);
	if (range_contains(&fv->ranges[hint], addr))
		return &fv->ranges[hint];
	if (hint + 1 < n && range_contains(&fv->ranges[hint + 1], addr)) {
		i = hint + 1;
		goto found;
	}
	while (k <= n) {
		__builtin_prefetch(keys + 16 * k);
		k = 2 * k + (keys[k] <= addr);
	}
	/* k now names the first start > addr (0: none); its predecessor may hold addr. */
	k >>= __builtin_ffsll((long long)~k);
	i = k ? fv->index_pos[k] : n;
	if (i == 0)
		return NULL;
	i--;
	if (addr > fv->ranges[i].last)
		return NULL;
found:
	__atomic_store_n(&((ms_flatview *)fv)->hint, (uint32_t)i, __ATOMIC_RELAXED);
	return &fv->ranges[i];
}
