/*
 * radix.h: a QEMU-style multi-level page table from addresses to flat
 * ranges, the baseline the library's index is measured against.
 *
 * It follows QEMU's AddressSpaceDispatch (softmmu/physmem.c): 4 KiB pages,
 * 9 bits per level, 32-bit entries {skip:6, ptr:26}, leaves set at the
 * highest level a range covers whole (register_multipage), "subpage" tables
 * with one section index per byte of a page that several ranges share or a
 * range covers only partly (register_subpage), skip compaction of chains of
 * single-child nodes (phys_page_compact), and the most-recently-used section
 * checked before the walk (address_space_lookup_region). Addresses are 48
 * bits wide, so the walk has 4 levels (QEMU uses 64 bits: 6 levels).
 *
 * Differences from QEMU, all in the baseline's favour or neutral: subpage
 * entries are uint16_t as in QEMU when the table has at most 65,536
 * sections and uint32_t beyond (QEMU cannot represent that many: it asserts
 * fewer than 4,096 sections per dispatch); the section array has no
 * MemoryRegion pointers to chase.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_BENCH_RADIX_H
#define MEMSPACE_BENCH_RADIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One flat range [start, last] (inclusive), as the bench sees it. */
typedef struct bench_range {
	uint64_t start;
	uint64_t last;
} bench_range;

typedef struct radix_subpage radix_subpage;

/*
 * One section: a piece of one flat range (a range is cut into a partial
 * head page, whole pages and a partial tail page), a subpage, or section 0,
 * "unassigned", which covers everything.
 */
typedef struct radix_section {
	uint64_t start, last;         /* the piece this section covers */
	const radix_subpage *subpage; /* non-NULL: resolve again by page offset */
	uint64_t range_start;         /* start of the flat range; 1 when unassigned */
	size_t range;                 /* index of the flat range; SIZE_MAX when unassigned */
} radix_section;

/* Addresses the table can map: [0, RADIX_ADDR_LIMIT). */
#define RADIX_ADDR_LIMIT ((uint64_t)1 << 48)

/*
 * The table's layout is here rather than in radix.c so that radix_lookup()
 * can be inlined into a caller's loop (the scale subcommand times it that
 * way); only radix.c builds and changes it.
 *
 * 4 KiB pages, 9 bits per level; 48-bit addresses make 4 levels (QEMU's
 * 64 make 6, which compaction folds the same way: on a layout whose ranges
 * lie in a narrow band, both walk the same nodes after the root).
 */
#define RADIX_PAGE_BITS 12
#define RADIX_LEVEL_BITS 9
#define RADIX_LEVEL_SIZE (1u << RADIX_LEVEL_BITS)
#define RADIX_LEVELS (((48 - RADIX_PAGE_BITS - 1) / RADIX_LEVEL_BITS) + 1)
#define RADIX_NODE_NIL (UINT32_MAX >> 6)
#define RADIX_SECTION_UNASSIGNED 0u

/* A node entry: skip == 0 means ptr is a section (a leaf), else a node. */
typedef struct radix_entry {
	uint32_t skip : 6;
	uint32_t ptr : 26;
} radix_entry;

typedef radix_entry radix_node[RADIX_LEVEL_SIZE];

struct radix_subpage {
	uint64_t base;    /* page address */
	uint16_t *narrow; /* one section index per byte offset, or NULL ... */
	uint32_t *wide;   /* ... then this one */
};

typedef struct radix_table {
	radix_entry root;
	radix_node *nodes;
	uint32_t nr_nodes, cap_nodes;
	radix_section *sections;
	uint32_t nr_sections, cap_sections;
	radix_subpage **subpages;
	uint32_t nr_subpages, cap_subpages;
	bool wide; /* subpages use 32-bit entries (more than 65,536 sections) */
	const radix_section *mru;
} radix_table;

/*
 * Build a table over @nr sorted, disjoint ranges, all below RADIX_ADDR_LIMIT.
 * Return: 0, -EINVAL (unsorted, overlapping or too high), -ENOMEM.
 */
int radix_new(radix_table **out, const bench_range *ranges, size_t nr);
void radix_free(radix_table *t);
/* Bytes of nodes, subpages and sections (what a lookup may touch). */
size_t radix_memory(const radix_table *t);

static inline bool radix_section_covers(const radix_section *s, uint64_t addr)
{
	return addr - s->start <= s->last - s->start;
}

/* QEMU's phys_page_find(): the walk, honouring skips, then a bounds check. */
static inline const radix_section *radix_page_find(const radix_table *t, uint64_t addr)
{
	radix_entry lp = t->root;
	uint64_t index = addr >> RADIX_PAGE_BITS;
	int i;

	for (i = RADIX_LEVELS; lp.skip && (i -= lp.skip) >= 0;) {
		if (lp.ptr == RADIX_NODE_NIL)
			return &t->sections[RADIX_SECTION_UNASSIGNED];
		lp = t->nodes[lp.ptr][(index >> (i * RADIX_LEVEL_BITS)) & (RADIX_LEVEL_SIZE - 1)];
	}
	if (radix_section_covers(&t->sections[lp.ptr], addr))
		return &t->sections[lp.ptr];
	return &t->sections[RADIX_SECTION_UNASSIGNED];
}

/*
 * The section answering at @addr (section 0, unassigned, when none): QEMU's
 * address_space_lookup_region(), the most-recently-used section first, then
 * the walk, then the subpage. Updates the table's most-recently-used section,
 * as QEMU does.
 */
static inline const radix_section *radix_lookup(radix_table *t, uint64_t addr)
{
	const radix_section *s = t->mru;

	if (s == &t->sections[RADIX_SECTION_UNASSIGNED] || !radix_section_covers(s, addr)) {
		s = radix_page_find(t, addr);
		t->mru = s;
	}
	if (s->subpage) {
		uint64_t offset = addr & (((uint64_t)1 << RADIX_PAGE_BITS) - 1);

		if (t->wide)
			s = &t->sections[s->subpage->wide[offset]];
		else
			s = &t->sections[s->subpage->narrow[offset]];
	}
	return s;
}

#endif /* MEMSPACE_BENCH_RADIX_H */
