/*
 * cradix.c: builds the compressed radix table of cradix.h.
 *
 * Offsets (address minus the lowest range's start) are what the table
 * splits. A node over a block of offsets is given the ranges that intersect
 * the block; its slots split the block at the separation of those ranges
 * (the lowest bit position at which some range's last byte and the next
 * range's first byte differ), so each slot's block meets at most one range,
 * and span only the bits where the ranges' clipped extent differs.
 * Invariant: a slot's block meets exactly the range its leaf names, or none
 * for CRADIX_NONE; a child node's block is the slot's block.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cradix.h"

/* Root slots allowed per range before the root takes children instead. */
#define ROOT_SLOTS_PER_RANGE 2
#define ROOT_SLOTS_MIN 64
/* Slot bits of an inner node: at most this, and at most 2 more than its ranges need. */
#define NODE_BITS_MAX 16

static unsigned high_bit(uint64_t x)
{
	return 63u - (unsigned)__builtin_clzll(x);
}

static uint64_t start_offset(const cradix *t, size_t i)
{
	return t->ranges[i].start - t->base;
}

static uint64_t last_offset(const cradix *t, size_t i)
{
	return t->ranges[i].last - t->base;
}

/* The separation of ranges [from, to), to - from >= 2. */
static unsigned separation(const cradix *t, size_t from, size_t to)
{
	unsigned sep = 63;

	for (size_t i = from; i + 1 < to; i++) {
		unsigned bit = high_bit(last_offset(t, i) ^ start_offset(t, i + 1));

		if (bit < sep)
			sep = bit;
	}
	return sep;
}

/* First index in [from, to) whose range ends at or after @offset (to if none). */
static size_t first_ending_after(const cradix *t, size_t from, size_t to, uint64_t offset)
{
	while (from < to) {
		size_t mid = from + (to - from) / 2;

		if (last_offset(t, mid) < offset)
			from = mid + 1;
		else
			to = mid;
	}
	return from;
}

/* First index in [from, to) whose range starts after @offset (to if none). */
static size_t first_starting_after(const cradix *t, size_t from, size_t to, uint64_t offset)
{
	while (from < to) {
		size_t mid = from + (to - from) / 2;

		if (start_offset(t, mid) <= offset)
			from = mid + 1;
		else
			to = mid;
	}
	return from;
}

static int reserve_slots(cradix *t, size_t more)
{
	size_t cap = t->cap_slots ? t->cap_slots : 64;
	uint32_t *p;

	if (t->nr_slots + more <= t->cap_slots)
		return 0;
	if (t->nr_slots + more >= CRADIX_NONE)
		return -ENOMEM;
	while (cap < t->nr_slots + more)
		cap *= 2;
	p = realloc(t->slots, cap * sizeof(*p));
	if (!p)
		return -ENOMEM;
	t->slots = p;
	t->cap_slots = cap;
	return 0;
}

static int make_slot(uint32_t *out, cradix *t, uint64_t first, uint64_t last, size_t from,
		     size_t to, unsigned depth);

/* A node over offsets [first, last] for ranges [from, to), which all meet it. */
static int make_node(uint32_t *out, cradix *t, uint64_t first, uint64_t last, size_t from,
		     size_t to, unsigned depth)
{
	uint64_t lo = start_offset(t, from) > first ? start_offset(t, from) : first;
	uint64_t hi = last_offset(t, to - 1) < last ? last_offset(t, to - 1) : last;
	unsigned top = high_bit(lo ^ hi) + 1; /* bits from here up are shared */
	unsigned shift = separation(t, from, to);
	unsigned max_bits = high_bit(to - from) + 3;
	uint64_t prefix = top == 64 ? 0 : lo >> top << top;
	size_t index, slot0, nr;
	int rc;

	if (max_bits > NODE_BITS_MAX)
		max_bits = NODE_BITS_MAX;
	if (top - shift > max_bits)
		shift = top - max_bits;
	nr = (size_t)1 << (top - shift);
	if (t->nr_nodes >= CRADIX_NODE - 1)
		return -ENOMEM;
	if (t->nr_nodes == t->cap_nodes) {
		size_t cap = t->cap_nodes ? 2 * t->cap_nodes : 16;
		cradix_node *p = realloc(t->nodes, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		t->nodes = p;
		t->cap_nodes = cap;
	}
	rc = reserve_slots(t, nr);
	if (rc)
		return rc;
	index = t->nr_nodes++;
	slot0 = t->nr_slots;
	t->nr_slots += nr;
	t->nodes[index] =
		(cradix_node){.first = (uint32_t)slot0, .mask = (uint32_t)(nr - 1), .shift = shift};
	for (size_t c = 0; c < nr; c++) {
		uint64_t child_first = prefix | ((uint64_t)c << shift);
		uint32_t slot;

		/* make_slot() may grow slots[]: store through the index, after. */
		rc = make_slot(&slot, t, child_first, child_first + (((uint64_t)1 << shift) - 1),
			       from, to, depth + 1);
		if (rc)
			return rc;
		t->slots[slot0 + c] = slot;
	}
	*out = CRADIX_NODE | (uint32_t)index;
	return 0;
}

/* The slot for offsets [first, last], given that only ranges [from, to) may meet them. */
static int make_slot(uint32_t *out, cradix *t, uint64_t first, uint64_t last, size_t from,
		     size_t to, unsigned depth)
{
	size_t a = first_ending_after(t, from, to, first);
	size_t b = first_starting_after(t, a, to, last);

	if (depth > t->depth)
		t->depth = depth;
	if (b - a == 0)
		*out = CRADIX_NONE;
	else if (b - a == 1)
		*out = (uint32_t)a;
	else
		return make_node(out, t, first, last, a, b, depth);
	return 0;
}

int cradix_new(cradix *t, const bench_range *ranges, size_t nr)
{
	size_t nr_root, max_root;
	int rc = 0;

	memset(t, 0, sizeof(*t));
	if (nr >= CRADIX_NONE)
		return -EINVAL;
	for (size_t i = 0; i < nr; i++) {
		if (ranges[i].last < ranges[i].start ||
		    (i > 0 && ranges[i - 1].last >= ranges[i].start))
			return -EINVAL;
	}
	t->ranges = ranges;
	t->nr_ranges = nr;
	t->root_shift = 63;
	if (nr > 0) {
		t->base = ranges[0].start;
		t->span_last = ranges[nr - 1].last - t->base;
	}
	if (nr >= 2)
		t->root_shift = separation(t, 0, nr);
	max_root = nr * ROOT_SLOTS_PER_RANGE > ROOT_SLOTS_MIN ? nr * ROOT_SLOTS_PER_RANGE
							      : ROOT_SLOTS_MIN;
	while ((t->span_last >> t->root_shift) >= max_root) /* slots > max_root */
		t->root_shift++;
	nr_root = (size_t)(t->span_last >> t->root_shift) + 1;
	rc = reserve_slots(t, nr_root);
	t->nr_slots = nr_root;
	for (size_t b = 0; b < nr_root && rc == 0; b++) {
		uint64_t first = (uint64_t)b << t->root_shift;
		uint64_t last = first + (((uint64_t)1 << t->root_shift) - 1);
		uint32_t slot;

		rc = make_slot(&slot, t, first, last, 0, nr, 1);
		if (rc == 0)
			t->slots[b] = slot;
	}
	if (rc)
		cradix_free(t);
	return rc;
}

void cradix_free(cradix *t)
{
	free(t->slots);
	free(t->nodes);
	memset(t, 0, sizeof(*t));
}

size_t cradix_memory(const cradix *t)
{
	return t->nr_slots * sizeof(*t->slots) + t->nr_nodes * sizeof(*t->nodes);
}
