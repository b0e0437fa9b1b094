/*
 * internal.h: the access-path modules' shared declarations (access.c,
 * iommu.c, map.c, cache.c), on top of the core layers.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_INTERNAL_H
#define MEMSPACE_INTERNAL_H

#include "interval.h"
#include "txn.h"
#include "flatview_int.h" /* TEMPORARY */

/* ---- access path (access.c) ---------------------------------------------- */

/*
 * Whether a read (or, with @is_write, a write) can use the host memory behind @r
 * directly (memcpy or a host mapping) rather than going through the access
 * engine: RAM-backed kinds for reads (ROM devices only in romd mode), and for
 * writes only RAM-backed kinds whose range is not readonly. RAM devices are
 * never direct (they need exact-width accesses). Callers still apply the
 * attrs.memory rule: a ROM device is direct for reads in romd mode, yet it is
 * not RAM.
 */
bool ms__range_is_direct(const ms__range *r, bool is_write);

/* ---- DMA map/unmap (map.c) ------------------------------------------------ */

/*
 * Record that [offset, offset + len) of @r's memory was written behind the
 * access path's back (through a direct DMA mapping). A no-op until dirty
 * tracking exists; see map.c.
 */
void ms__ram_mark_dirty(ms_region *r, uint64_t offset, uint64_t len);
/* Debug checker of the map pool of @as (budget accounting, client lists). 0 or -EINVAL. */
int ms__as_map_check(ms_as *as);

/* ---- IOMMU regions (iommu.c, interval.c) --------------------------------- */

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
static inline uint64_t ms__iotlb_xlat(const ms_iotlb_entry *e, uint64_t offset)
{
	return (e->translated_addr & ~e->addr_mask) | (offset & e->addr_mask);
}

/* The IOMMU's notification count (atomic), for region caches; 0 without a class. */
uint64_t ms__iommu_notify_gen(const ms_region *mr);

/* One address space passed on the way to a final range (ms__resolve()). */
typedef struct ms__resolve_hop {
	ms_as *as;
	const ms_flatview *view;
	const ms_region *iommu; /* the IOMMU translated in this view, or NULL at the end */
	uint64_t gen;           /* its notification count, read before translating */
} ms__resolve_hop;

/*
 * What an access of @len bytes at @addr of @as (view @view) reaches first,
 * through every IOMMU: the final range (NULL in a hole), the address in
 * the final view, how many of the @len bytes get there contiguously
 * (clamped to every IOMMU page on the path, and in a hole to the hole; not
 * to the final range, so callers can extend over following ranges), the
 * smallest page mask and the intersection of the permissions on the path.
 * An IOMMU region without a class is a final range like any other.
 * When @hops is not NULL, up to @max_hops address spaces passed are stored
 * there (the last one is where the path ends) and their number in @nr_hops
 * (which may exceed @max_hops). Inside an RCU read-side section.
 * Return: 0 (also in a hole: range NULL); the errors of ms__iommu_translate_hop().
 */
typedef struct ms__resolved {
	const ms__range *range;
	ms_as *as;
	const ms_flatview *view;
	uint64_t addr;
	uint64_t len;
	uint64_t mask;
	ms_iommu_perm perm;
	bool translated; /* at least one IOMMU on the path */
} ms__resolved;

int ms__resolve(ms__resolved *out, ms_as *as, const ms_flatview *view, uint64_t addr, uint64_t len,
		bool is_write, ms_attrs attrs, ms__resolve_hop *hops, size_t max_hops,
		size_t *nr_hops);

/* Last address of the hole of @fv that contains @addr (access.c). */
uint64_t ms__hole_last(const ms_flatview *fv, uint64_t addr);

/*
 * Run @fn(@arg) with @mr on the calling thread's access chain (access.c):
 * false, without calling it, when @mr is already on the chain or the chain
 * is as deep as @mr's context allows.
 */
bool ms__access_chain_run(const ms_region *mr, void (*fn)(void *arg), void *arg);

#endif /* MEMSPACE_INTERNAL_H */
