/*
 * memspace CLI: the built-in IOMMU model - a translating IOMMU region whose
 * page table the script edits (`iommu NAME SIZE target=AS`, `iommu-map`,
 * `iommu-unmap`; docs/script.md).
 *
 * The table is a sorted array of mappings per translation index: [iova,
 * iova + size) -> [addr, addr + size) in the target address space, with a
 * permission. translate() answers the naturally aligned power-of-two block
 * of the mapping that holds the address (the greedy split of the mapping
 * from its start, as large as the alignment of both the IOVA and the
 * translated address allows), so an entry never crosses a mapping's edge.
 * Every change is announced with ms_iommu_notify() as the contract of
 * iommu.h requires: removed pieces as UNMAP, a new mapping as MAP, and a
 * change in place as UNMAP of the old then MAP of the new. replay walks the
 * table (cost proportional to the mappings, not to the IOMMU's size).
 *
 * The model owns the ms_iommu_ops opaque the region points at, so it must
 * outlive the region: sessions free models after the context.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_CLI_IOMMU_MODEL_H
#define MEMSPACE_CLI_IOMMU_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <memspace.h>

typedef struct msc_iommu msc_iommu;

/** struct msc_iommu_config - what to build. */
typedef struct msc_iommu_config {
	const char *name;    /* the region's name (copied by the library) */
	uint64_t size;       /* the input space (MS_SIZE_2_64 convention) */
	ms_as *target;       /* where translated addresses live; must outlive the model */
	uint64_t page;       /* minimum page size, a power of two */
	unsigned nr_indexes; /* 1 .. MS_IOMMU_MAX_INDEXES */
	/* replay asks which index a notifier follows; UINT_MAX when unknown (-EINVAL). */
	unsigned (*notifier_index)(ms_iommu_notifier *n, void *arg);
	void *arg;
} msc_iommu_config;

/**
 * msc_iommu_new - create the model and its region (ms_iommu_new()).
 * @region: receives the region (one reference, the caller's).
 * Return: 0; the error of ms_iommu_new(); -ENOMEM.
 */
int msc_iommu_new(msc_iommu **out, ms_region **region, ms_ctx *ctx, const msc_iommu_config *cfg);

/**
 * msc_iommu_blocks - how many naturally aligned power-of-two blocks a
 * mapping of @size bytes from @iova to @addr is translated and announced in;
 * counts at most @limit + 1 (a mapping whose IOVA and address are aligned
 * differently falls into blocks no larger than that alignment).
 */
uint64_t msc_iommu_blocks(uint64_t iova, uint64_t addr, uint64_t size, uint64_t limit);

/** msc_iommu_free - free the model (NULL is a no-op); its region must be gone. */
void msc_iommu_free(msc_iommu *m);

/** msc_iommu_name - the name the region was created with (the model's copy). */
const char *msc_iommu_name(const msc_iommu *m);
ms_as *msc_iommu_target(const msc_iommu *m);
uint64_t msc_iommu_page(const msc_iommu *m);
unsigned msc_iommu_nr_indexes(const msc_iommu *m);
/** msc_iommu_nr_entries - mappings in the table (all indexes). */
size_t msc_iommu_nr_entries(const msc_iommu *m);

/**
 * msc_iommu_pages - pages (of the model's page size) its mappings cover,
 * over every index: what a container shadowing it would pin.
 */
uint64_t msc_iommu_pages(const msc_iommu *m);

/**
 * msc_iommu_entries_after - how many mappings the table would hold after
 * msc_iommu_update() with these arguments (nothing changes).
 */
size_t msc_iommu_entries_after(const msc_iommu *m, unsigned idx, uint64_t iova, uint64_t size,
			       bool map);

/**
 * msc_iommu_update - map [@iova, @iova + @size) at index @idx to @addr with
 * @perm, replacing what was there, or unmap it (@perm MS_IOMMU_NONE).
 * The caller has checked alignment, bounds and the index. Sends UNMAP for
 * every removed piece, then MAP for the new mapping (in blocks).
 * Return: 0; -ENOMEM (nothing changed); else the table changed and the
 * value is the first error a notifier returned.
 */
int msc_iommu_update(msc_iommu *m, unsigned idx, uint64_t iova, uint64_t size, uint64_t addr,
		     ms_iommu_perm perm);

/**
 * msc_iommu_invalidate - send one DEVIOTLB_UNMAP event for [@iova, @iova +
 * @size) at @idx; the table does not change.
 * Return: 0 or the first error a notifier returned.
 */
int msc_iommu_invalidate(msc_iommu *m, unsigned idx, uint64_t iova, uint64_t size);

#endif /* MEMSPACE_CLI_IOMMU_MODEL_H */
