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

typedef struct radix_table radix_table;

/* Addresses the table can map: [0, RADIX_ADDR_LIMIT). */
#define RADIX_ADDR_LIMIT ((uint64_t)1 << 48)

/*
 * Build a table over @nr sorted, disjoint ranges, all below RADIX_ADDR_LIMIT.
 * Return: 0, -EINVAL (unsorted, overlapping or too high), -ENOMEM.
 */
int radix_new(radix_table **out, const bench_range *ranges, size_t nr);
void radix_free(radix_table *t);
/* Bytes of nodes, subpages and sections (what a lookup may touch). */
size_t radix_memory(const radix_table *t);
/*
 * The section answering at @addr (section 0, unassigned, when none). Updates
 * the table's most-recently-used section, as QEMU does.
 */
const radix_section *radix_lookup(radix_table *t, uint64_t addr);

#endif /* MEMSPACE_BENCH_RADIX_H */
