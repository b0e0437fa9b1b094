/*
 * radix.c: the QEMU-style page table (see radix.h for what it models).
 *
 * Build mirrors QEMU's flatview_add_to_dispatch(): each flat range is cut
 * into a head piece inside its first page, the whole pages, and a tail piece
 * inside its last page. Whole pages go through phys_page_set(), which writes
 * a leaf at the highest level whose aligned block the pages cover; partial
 * pages get a subpage whose per-byte array names the section at each
 * offset. A finished table is compacted once and never changes, except for
 * the most-recently-used pointer that lookups update. The lookup itself is in
 * radix.h, so that a timed loop can inline it.
 *
 * Invariant: nodes[] and sections[] are only reallocated between calls to
 * set_level(), never while it holds pointers into them (QEMU's reserve).
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "radix.h"

#define PAGE_SIZE ((uint64_t)1 << RADIX_PAGE_BITS)
#define MAX_SECTIONS (1u << 26)

static int grow(void **array, uint32_t *cap, uint32_t need, size_t elem)
{
	uint32_t new_cap = *cap ? *cap : 16;
	void *p;

	if (need <= *cap)
		return 0;
	while (new_cap < need)
		new_cap *= 2;
	p = realloc(*array, (size_t)new_cap * elem);
	if (!p)
		return -ENOMEM;
	*array = p;
	*cap = new_cap;
	return 0;
}

/* QEMU's phys_map_node_reserve(): room for @more nodes before a set. */
static int reserve_nodes(radix_table *t, uint32_t more)
{
	if (t->nr_nodes + more >= RADIX_NODE_NIL)
		return -ENOMEM;
	return grow((void **)&t->nodes, &t->cap_nodes, t->nr_nodes + more, sizeof(radix_node));
}

static uint32_t node_alloc(radix_table *t, bool leaf)
{
	uint32_t ret = t->nr_nodes++;
	radix_entry e = {.skip = leaf ? 0 : 1,
			 .ptr = leaf ? RADIX_SECTION_UNASSIGNED : RADIX_NODE_NIL};

	for (unsigned i = 0; i < RADIX_LEVEL_SIZE; i++)
		t->nodes[ret][i] = e;
	return ret;
}

static int section_add(uint32_t *out, radix_table *t, const radix_section *s)
{
	if (t->nr_sections >= MAX_SECTIONS)
		return -ENOMEM;
	if (grow((void **)&t->sections, &t->cap_sections, t->nr_sections + 1, sizeof(*s)))
		return -ENOMEM;
	t->sections[t->nr_sections] = *s;
	*out = t->nr_sections++;
	return 0;
}

/* QEMU's phys_page_set_level(): map *nb pages from *index to @leaf. */
static void set_level(radix_table *t, radix_entry *lp, uint64_t *index, uint64_t *nb, uint32_t leaf,
		      int level)
{
	uint64_t step = (uint64_t)1 << (level * RADIX_LEVEL_BITS);
	radix_entry *p;

	if (lp->skip && lp->ptr == RADIX_NODE_NIL)
		lp->ptr = node_alloc(t, level == 0);
	p = t->nodes[lp->ptr];
	lp = &p[(*index >> (level * RADIX_LEVEL_BITS)) & (RADIX_LEVEL_SIZE - 1)];
	while (*nb && lp < &p[RADIX_LEVEL_SIZE]) {
		if ((*index & (step - 1)) == 0 && *nb >= step) {
			lp->skip = 0;
			lp->ptr = leaf;
			*index += step;
			*nb -= step;
		} else {
			set_level(t, lp, index, nb, leaf, level - 1);
		}
		++lp;
	}
}

static int page_set(radix_table *t, uint64_t index, uint64_t nb, uint32_t leaf)
{
	/* Like QEMU, wildly over-reserve: a run allocates at most two nodes per level. */
	if (reserve_nodes(t, 3 * RADIX_LEVELS))
		return -ENOMEM;
	set_level(t, &t->root, &index, &nb, leaf, RADIX_LEVELS - 1);
	return 0;
}

/* QEMU's register_subpage(): a piece inside one page. */
static int register_subpage(radix_table *t, const radix_section *piece)
{
	uint64_t base = piece->start & ~(PAGE_SIZE - 1);
	const radix_section *existing = radix_page_find(t, base);
	radix_subpage *sp;
	uint32_t index;
	int rc;

	if (!existing->subpage) {
		radix_section s = {.start = base,
				   .last = base + PAGE_SIZE - 1,
				   .range_start = 1,
				   .range = SIZE_MAX};
		if (t->nr_subpages >= UINT32_MAX / 2)
			return -ENOMEM;
		rc = grow((void **)&t->subpages, &t->cap_subpages, t->nr_subpages + 1,
			  sizeof(*t->subpages));
		if (rc)
			return rc;
		sp = calloc(1, sizeof(*sp));
		if (!sp)
			return -ENOMEM;
		/* Wide while building; narrowed at the end if the indices fit. */
		sp->wide = calloc(PAGE_SIZE, sizeof(*sp->wide)); /* 0 = unassigned */
		if (!sp->wide) {
			free(sp);
			return -ENOMEM;
		}
		sp->base = base;
		t->subpages[t->nr_subpages++] = sp;
		s.subpage = sp;
		rc = section_add(&index, t, &s);
		if (rc)
			return rc;
		rc = page_set(t, base >> RADIX_PAGE_BITS, 1, index);
		if (rc)
			return rc;
	} else {
		sp = (radix_subpage *)existing->subpage;
	}
	rc = section_add(&index, t, piece);
	if (rc)
		return rc;
	for (uint64_t a = piece->start; a <= piece->last; a++)
		sp->wide[a - base] = index;
	return 0;
}

/* QEMU's register_multipage(): whole pages. */
static int register_multipage(radix_table *t, const radix_section *piece)
{
	uint32_t index;
	int rc = section_add(&index, t, piece);

	if (rc)
		return rc;
	return page_set(t, piece->start >> RADIX_PAGE_BITS,
			(piece->last - piece->start + 1) >> RADIX_PAGE_BITS, index);
}

/* QEMU's flatview_add_to_dispatch(): head subpage, whole pages, tail subpage. */
static int add_range(radix_table *t, const bench_range *r, size_t range_index)
{
	radix_section remain = {
		.start = r->start, .last = r->last, .range_start = r->start, .range = range_index};
	radix_section now;
	int rc;

	if (remain.start & (PAGE_SIZE - 1)) {
		uint64_t page_last = remain.start | (PAGE_SIZE - 1);

		now = remain;
		if (now.last > page_last)
			now.last = page_last;
		rc = register_subpage(t, &now);
		if (rc || now.last == remain.last)
			return rc;
		remain.start = now.last + 1;
	}
	if (remain.last - remain.start + 1 >= PAGE_SIZE) {
		now = remain;
		now.last = ((remain.last + 1) & ~(PAGE_SIZE - 1)) - 1;
		rc = register_multipage(t, &now);
		if (rc || now.last == remain.last)
			return rc;
		remain.start = now.last + 1;
	}
	return register_subpage(t, &remain);
}

/* QEMU's phys_page_compact(): fold chains of single-child nodes into skips. */
static void compact(radix_table *t, radix_entry *lp)
{
	unsigned valid_ptr = RADIX_LEVEL_SIZE;
	int valid = 0;
	radix_entry *p;

	if (lp->ptr == RADIX_NODE_NIL)
		return;
	p = t->nodes[lp->ptr];
	for (unsigned i = 0; i < RADIX_LEVEL_SIZE; i++) {
		if (p[i].ptr == RADIX_NODE_NIL)
			continue;
		valid_ptr = i;
		valid++;
		if (p[i].skip)
			compact(t, &p[i]);
	}
	if (valid != 1)
		return;
	lp->ptr = p[valid_ptr].ptr;
	if (!p[valid_ptr].skip)
		lp->skip = 0;
	else
		lp->skip += p[valid_ptr].skip;
}

/* Switch every subpage to 16-bit entries, as QEMU has them. */
static int narrow_subpages(radix_table *t)
{
	for (uint32_t i = 0; i < t->nr_subpages; i++) {
		radix_subpage *sp = t->subpages[i];

		sp->narrow = malloc(PAGE_SIZE * sizeof(*sp->narrow));
		if (!sp->narrow)
			return -ENOMEM;
		for (uint64_t off = 0; off < PAGE_SIZE; off++)
			sp->narrow[off] = (uint16_t)sp->wide[off];
		free(sp->wide);
		sp->wide = NULL;
	}
	return 0;
}

int radix_new(radix_table **out, const bench_range *ranges, size_t nr)
{
	radix_section unassigned = {
		.start = 0, .last = UINT64_MAX, .range_start = 1, .range = SIZE_MAX};
	radix_table *t;
	uint32_t index;
	int rc;

	*out = NULL;
	for (size_t i = 0; i < nr; i++) {
		if (ranges[i].last < ranges[i].start || ranges[i].last >= RADIX_ADDR_LIMIT ||
		    (i > 0 && ranges[i - 1].last >= ranges[i].start))
			return -EINVAL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->root = (radix_entry){.skip = 1, .ptr = RADIX_NODE_NIL};
	rc = section_add(&index, t, &unassigned);
	for (size_t i = 0; i < nr && rc == 0; i++)
		rc = add_range(t, &ranges[i], i);
	if (rc == 0 && t->root.skip)
		compact(t, &t->root);
	if (rc == 0 && t->nr_sections <= UINT16_MAX + 1u)
		rc = narrow_subpages(t);
	t->wide = t->nr_sections > UINT16_MAX + 1u;
	if (rc) {
		radix_free(t);
		return rc;
	}
	t->mru = &t->sections[RADIX_SECTION_UNASSIGNED];
	*out = t;
	return 0;
}

void radix_free(radix_table *t)
{
	if (!t)
		return;
	for (uint32_t i = 0; i < t->nr_subpages; i++) {
		free(t->subpages[i]->narrow);
		free(t->subpages[i]->wide);
		free(t->subpages[i]);
	}
	free(t->subpages);
	free(t->sections);
	free(t->nodes);
	free(t);
}

size_t radix_memory(const radix_table *t)
{
	size_t entry_size = t->wide ? sizeof(uint32_t) : sizeof(uint16_t);

	return (size_t)t->nr_nodes * sizeof(radix_node) +
	       (size_t)t->nr_subpages * PAGE_SIZE * entry_size +
	       (size_t)t->nr_sections * sizeof(radix_section);
}
