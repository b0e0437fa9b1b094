/*
 * iommu.h: IOMMU regions (iommu.c), for the walk that translates through
 * them (resolve.c) and the region caches that watch them (cache.c).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_IOMMU_INT_H
#define MEMSPACE_IOMMU_INT_H

#include "as.h"

/*
 * One translation already made on the current path (a linked list on the
 * callers' stacks, innermost first), for cycle and depth detection.
 */
typedef struct ms__iommu_hop {
	const ms_region *iommu;
	uint64_t offset;
	unsigned idx;
	unsigned depth; /* 1 for the first translation of an access */
	const struct ms__iommu_hop *outer;
} ms__iommu_hop;

/*
 * Translate @offset of the IOMMU region @mr for an access (@is_write,
 * @attrs), as one hop after @outer (NULL for the first). On success fills
 * @entry (target_as non-NULL, of @mr's context; a valid mask) and @hop (to
 * pass as @outer of the next hop). Inside an RCU read-side section.
 * Return: 0; -ENOENT when @mr has no class; -EACCES when the permission is
 * missing or the translation would re-enter @mr on this thread's access
 * chain; -EIO for a malformed entry or an index out of range; -ELOOP for a
 * cycle or a chain longer than MS_IOMMU_MAX_CHAIN.
 */
int ms__iommu_translate_hop(ms_iotlb_entry *entry, ms__iommu_hop *hop, const ms_region *mr,
			    uint64_t offset, bool is_write, ms_attrs attrs,
			    const ms__iommu_hop *outer);

/* Where (entry) sends @offset: (translated & ~mask) | (offset & mask). */
static inline uint64_t ms__iommu_xlat(const ms_iotlb_entry *e, uint64_t offset)
{
	return (e->translated_addr & ~e->addr_mask) | (offset & e->addr_mask);
}

/* The IOMMU's notification count (atomic), for region caches; 0 without a class. */
uint64_t ms__iommu_notify_gen(const ms_region *mr);

#endif /* MEMSPACE_IOMMU_INT_H */
