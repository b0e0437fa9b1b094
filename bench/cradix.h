/*
 * cradix.h: a compressed radix table from addresses to flat ranges, the
 * third baseline of `memspace-bench scale` (with a binary search and the
 * QEMU-style table of radix.h).
 *
 * Where QEMU's table walks fixed 9-bit levels from bit 63 down to the page,
 * this one only looks at the bits that tell the ranges apart:
 *
 *   - the bits every mapped address shares are skipped with one subtraction
 *     and one bound: an address is first made an offset from the lowest
 *     range's start, and offsets past the highest range's end miss;
 *   - a node is sized to its keys: its slots split its block at the highest
 *     bit position that still keeps any two neighbouring ranges in different
 *     slots (the "separation"), and only over the bits where its ranges
 *     differ, so a slot holds at most one candidate range. A node whose
 *     separation would need too many slots (ranges far smaller than the
 *     gaps between them) takes fewer and gives the crowded slots children;
 *   - a slot is one uint32_t: a range index, CRADIX_NONE, or a child node.
 *
 * A leaf is only a candidate: the look-up ends with the candidate's bounds
 * check, which also makes skipping bits safe (an address that differs from
 * the node's ranges in a skipped bit lands on some slot whose candidate does
 * not contain it, and misses). On the scale layout (4 KiB ranges 8 KiB
 * apart) the root alone separates every range: one slot load and one range
 * load per look-up.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_BENCH_CRADIX_H
#define MEMSPACE_BENCH_CRADIX_H

#include <stddef.h>
#include <stdint.h>

#include "radix.h" /* bench_range */

#define CRADIX_NODE 0x80000000u /* slot bit: the rest indexes nodes[] */
#define CRADIX_NONE 0x7fffffffu /* slot value: no range */

/* An inner node: its slots are slots[first + ((offset >> shift) & mask)]. */
typedef struct cradix_node {
	uint32_t first;
	uint32_t mask;
	uint32_t shift;
} cradix_node;

typedef struct cradix {
	uint64_t base;      /* start of the lowest range: offsets count from it */
	uint64_t span_last; /* offset of the highest range's last byte */
	unsigned root_shift;
	uint32_t *slots; /* the root's slots, then every node's */
	size_t nr_slots, cap_slots;
	cradix_node *nodes;
	size_t nr_nodes, cap_nodes;
	const bench_range *ranges; /* the caller's, borrowed */
	size_t nr_ranges;
	unsigned depth; /* slots on the longest path (1: the root separates all) */
} cradix;

/*
 * Build @t over @nr sorted, disjoint ranges (borrowed: they must outlive
 * @t). Return: 0, -EINVAL (unsorted or overlapping, or 2^31 ranges or more),
 * -ENOMEM. On error @t holds nothing to free.
 */
int cradix_new(cradix *t, const bench_range *ranges, size_t nr);
void cradix_free(cradix *t);
/* Bytes of slots and nodes (the ranges are the caller's). */
size_t cradix_memory(const cradix *t);

/* The range containing @addr, or NULL. */
static inline const bench_range *cradix_lookup(const cradix *t, uint64_t addr)
{
	uint64_t offset = addr - t->base;
	const bench_range *r;
	uint32_t slot;

	if (offset > t->span_last)
		return NULL;
	slot = t->slots[offset >> t->root_shift];
	while (slot & CRADIX_NODE) {
		const cradix_node *n = &t->nodes[slot & ~CRADIX_NODE];

		slot = t->slots[n->first + ((offset >> n->shift) & n->mask)];
	}
	if (slot == CRADIX_NONE)
		return NULL;
	r = &t->ranges[slot];
	return addr - r->start <= r->last - r->start ? r : NULL;
}

#endif /* MEMSPACE_BENCH_CRADIX_H */
