/*
 * memspace models: an sPAPR TCE table IOMMU.
 *
 * The IOMMU of IBM POWER (pseries) PCI host bridges, as QEMU's spapr_iommu
 * and Linux's sPAPR TCE driver model it: a DMA window of the PCI bus
 * [bus_offset, bus_offset + size) is cut into pages of 2^page_shift bytes
 * and each page is described by one 64-bit Translation Control Entry: the
 * real (guest-physical) page address in the high bits, MS_TCE_READ and
 * MS_TCE_WRITE in the low bits. The guest edits the table with hypercalls
 * (H_PUT_TCE, H_STUFF_TCE, H_PUT_TCE_INDIRECT, H_GET_TCE); here they are
 * ms_tce_put(), ms_tce_stuff(), ms_tce_put_indirect() and ms_tce_get().
 *
 * One ms_tce_table is the DMA side of one host bridge: a pure container
 * region of 2^64 bytes (ms_tce_root()) holding one IOMMU region per window,
 * at the window's bus offset. Make it (or an alias of it) the root of the
 * devices' DMA address space. Windows translate into one target address
 * space, given at creation (the machine's memory). A bridge has at most
 * MS_TCE_MAX_WINDOWS windows at once: the default 32-bit one and, after
 * dynamic DMA window (DDW) negotiation, a second one with larger pages.
 *
 * Every change of an entry is announced through the IOMMU notifiers
 * (iommu.h): MAP for a new entry, UNMAP for a cleared one, UNMAP then MAP
 * for an entry changed in place. If a notifier refuses a MAP (a consumer
 * that cannot follow it, like a VFIO container given an MMIO target), the
 * whole call is undone, announced as such, and fails with the consumer's
 * error: a failed call leaves the table as it was.
 *
 * Locking: calls that change a table (window create/remove, put, stuff,
 * put_indirect, free) must be serialised by the caller (in a machine, the
 * lock its hypercalls run under); they take the topology lock to notify.
 * ms_tce_get(), ms_tce_window_info() and translation (any access through
 * the windows) may run on any thread at any time, also concurrently with
 * those changes.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_MODELS_TCE_H
#define MEMSPACE_MODELS_TCE_H

#include <stdint.h>

#include "../iommu.h"
#include "../types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Permission bits of a TCE; the rest of the low page bits must be zero. */
#define MS_TCE_READ ((uint64_t)1)              /* the device may read the page */
#define MS_TCE_WRITE ((uint64_t)2)             /* the device may write the page */
#define MS_TCE_RW (MS_TCE_READ | MS_TCE_WRITE) /* both */

/** MS_TCE_MAX_WINDOWS - windows one table may have at once (default + DDW). */
#define MS_TCE_MAX_WINDOWS 2u

/**
 * MS_TCE_MAX_ENTRIES - the most pages one window may have (2^22: a 32 MiB
 * table, which covers 16 GiB with 4 KiB pages and 64 TiB with 16 MiB pages).
 * Larger windows are refused with -E2BIG.
 */
#define MS_TCE_MAX_ENTRIES ((uint64_t)1 << 22)

/** MS_TCE_INDIRECT_MAX - the most TCEs one ms_tce_put_indirect() takes (PAPR's 512). */
#define MS_TCE_INDIRECT_MAX 512u

/**
 * MS_TCE_PAGE_SIZES - the supported page sizes as a mask (bit k set: pages
 * of 2^k bytes): 4 KiB, 64 KiB, 2 MiB and 16 MiB, the sizes of PAPR's DDW.
 */
#define MS_TCE_PAGE_SIZES \
	(((uint64_t)1 << 12) | ((uint64_t)1 << 16) | ((uint64_t)1 << 21) | ((uint64_t)1 << 24))

/**
 * MS_TCE_ATTR_TABLE_INFO - the window's IOMMU regions answer this attribute
 * of ms_iommu_get_attr() with a struct ms_tce_table_info. A value outside
 * the core's enum ms_iommu_attr, owned by this model.
 */
#define MS_TCE_ATTR_TABLE_INFO ((ms_iommu_attr)(MS_IOMMU_ATTR_MODEL_BASE + 0x5443))

/** struct ms_tce_table - the TCE windows of one host bridge (opaque). */
typedef struct ms_tce_table ms_tce_table;

/**
 * struct ms_tce_table_info - one window, as MS_TCE_ATTR_TABLE_INFO and
 * ms_tce_window_info() describe it.
 * @window_start: bus address of the window's first byte.
 * @window_size: bytes in the window (nr_entries << page_shift).
 * @page_shift: log2 of the page size: 12, 16, 21 or 24.
 * @page_sizes: MS_TCE_PAGE_SIZES: what a new window may use.
 * @nr_entries: TCEs in the table.
 * @nr_present: TCEs with a permission bit (a racy snapshot).
 */
typedef struct ms_tce_table_info {
	uint64_t window_start;
	uint64_t window_size;
	unsigned page_shift;
	uint64_t page_sizes;
	uint64_t nr_entries;
	uint64_t nr_present;
} ms_tce_table_info;

/**
 * ms_tce_new - create a table with no window.
 * @out: receives the table (NULL on error).
 * @ctx: the context.
 * @name: copied; names the root container and the windows' regions.
 * @target: the address space every window translates into; must live as
 *          long as the table.
 *
 * Return: 0; -EINVAL for a NULL argument or a @target of another context;
 * -ENOMEM.
 * Context: any thread; takes the topology lock.
 */
MS_API int ms_tce_new(ms_tce_table **out, ms_ctx *ctx, const char *name, ms_as *target);

/**
 * ms_tce_free - remove every window (each one UNMAPs its entries first) and
 * free the table.
 * @t: the table, or NULL (no-op).
 *
 * The root region loses the table's reference but keeps whatever
 * references others hold. Memory of the windows is kept until this call
 * (translation may run on other threads until the views that showed a
 * removed window are gone), so no access may run through the table's
 * regions during or after it: remove the root from the address spaces
 * that use it, or free the context, first.
 * Context: any thread; takes the topology lock.
 */
MS_API void ms_tce_free(ms_tce_table *t);

/**
 * ms_tce_root - the container region holding the windows.
 * Return: the region (2^64 bytes), borrowed: valid while @t lives; take a
 * reference to keep it longer. Context: any thread.
 */
MS_API ms_region *ms_tce_root(ms_tce_table *t);

/**
 * ms_tce_window_create - add a window (H_CREATE_PE_DMA_WINDOW, or the
 * bridge's default window).
 * @t: the table.
 * @bus_offset: bus address of the window, a multiple of the page size.
 * @size: bytes, a non-zero multiple of the page size, at most
 *        MS_TCE_MAX_ENTRIES pages, with @bus_offset + @size <= 2^64.
 * @page_shift: 12, 16, 21 or 24.
 *
 * The window starts with every entry cleared; its IOMMU region is placed
 * in the root at @bus_offset (a topology change: listeners see it).
 * Return: the window's index (0 .. MS_TCE_MAX_WINDOWS - 1); -EINVAL for a
 * bad argument; -E2BIG for a window of more than MS_TCE_MAX_ENTRIES pages;
 * -EBUSY when the table has MS_TCE_MAX_WINDOWS windows or the new one
 * would overlap another; -ENOMEM; an error of the commit.
 * Context: any thread, serialised with the table's other changes; takes
 * the topology lock.
 */
MS_API int ms_tce_window_create(ms_tce_table *t, uint64_t bus_offset, uint64_t size,
				unsigned page_shift);

/**
 * ms_tce_window_remove - remove a window (H_REMOVE_PE_DMA_WINDOW).
 * @t: the table.
 * @index: as ms_tce_window_create() returned.
 *
 * Every present entry is cleared with an UNMAP event, then the window's
 * region leaves the root. Its index may be reused by the next create.
 * Return: 0; -EINVAL for a NULL @t; -ENOENT when no such window exists.
 * Context: any thread, serialised with the table's other changes; takes
 * the topology lock.
 */
MS_API int ms_tce_window_remove(ms_tce_table *t, unsigned index);

/**
 * ms_tce_window_info - describe window @index.
 * @out: receives the description (cleared on error).
 * @t: the table.
 * @index: the window, as ms_tce_window_create() returned.
 * Return: 0; -EINVAL for a NULL argument; -ENOENT when no such window.
 * Context: any thread.
 */
MS_API int ms_tce_window_info(ms_tce_table_info *out, ms_tce_table *t, unsigned index);

/**
 * ms_tce_window_region - the IOMMU region of window @index.
 * Return: the region, borrowed (valid while the window exists); NULL when
 * @t is NULL or there is no such window. Context: any thread.
 */
MS_API ms_region *ms_tce_window_region(ms_tce_table *t, unsigned index);

/**
 * ms_tce_put - set the entry of one page (H_PUT_TCE).
 * @t: the table.
 * @ioba: a bus address inside a window, aligned to its page size.
 * @tce: the page's target address (aligned to the page size, its whole
 *       page inside the target address space) ORed with MS_TCE_READ and/or
 *       MS_TCE_WRITE; a TCE with neither bit clears the entry (its address
 *       bits are then ignored).
 *
 * Notifies UNMAP of the old entry and/or MAP of the new one (nothing when
 * the entry does not change).
 * Return: 0; -EINVAL (PAPR's H_PARAMETER) for a NULL @t, an @ioba outside
 * every window or misaligned, a @tce with reserved low bits set or whose
 * page lies beyond the target; the error of a notifier that refused the
 * MAP (the entry is then restored). Nothing changes on error.
 * Context: any thread, serialised with the table's other changes; takes
 * the topology lock.
 */
MS_API int ms_tce_put(ms_tce_table *t, uint64_t ioba, uint64_t tce);

/**
 * ms_tce_stuff - set @npages consecutive entries to the same TCE
 * (H_STUFF_TCE: the same page for all, or a clear of a range).
 * @t: the table.
 * @ioba: first page, as for ms_tce_put().
 * @tce: as for ms_tce_put().
 * @npages: pages, at least 1; they must all lie in @ioba's window.
 *
 * Notifies each changed entry as ms_tce_put() would, in increasing order.
 * Return: 0; -EINVAL for what ms_tce_put() refuses, @npages 0 or running
 * past the window's end; -ENOMEM; a notifier's error (every entry is then
 * restored). Nothing changes on error.
 * Context: as ms_tce_put().
 */
MS_API int ms_tce_stuff(ms_tce_table *t, uint64_t ioba, uint64_t tce, uint64_t npages);

/**
 * ms_tce_put_indirect - set @n consecutive entries from a list of TCEs in
 * guest memory (H_PUT_TCE_INDIRECT).
 * @t: the table.
 * @ioba: first page, as for ms_tce_put().
 * @list_addr: address of the list in the table's target address space:
 *             @n big-endian 64-bit TCEs, 4 KiB aligned (PAPR's rule).
 * @n: 1 .. MS_TCE_INDIRECT_MAX; the pages must lie in @ioba's window.
 *
 * The list is read first, then every TCE is checked; only then is the
 * table changed, entry by entry, notifying as ms_tce_put() does.
 * Return: 0; -EINVAL for what ms_tce_stuff() refuses (any TCE of the list),
 * a misaligned @list_addr or @n out of range; -EFAULT when the list cannot
 * be read; a notifier's error (every entry is then restored). Nothing
 * changes on error.
 * Context: as ms_tce_put(); reads memory, so not from a device callback of
 * the memory holding the list.
 */
MS_API int ms_tce_put_indirect(ms_tce_table *t, uint64_t ioba, uint64_t list_addr, unsigned n);

/**
 * ms_tce_get - read the entry of one page (H_GET_TCE).
 * @out: receives the TCE (0 for a cleared entry).
 * @t: the table.
 * @ioba: as for ms_tce_put().
 * Return: 0; -EINVAL for a NULL argument, or an @ioba outside every window
 * or misaligned (*@out is then 0).
 * Context: any thread.
 */
MS_API int ms_tce_get(uint64_t *out, ms_tce_table *t, uint64_t ioba);

#ifdef __cplusplus
}
#endif

#endif /* MEMSPACE_MODELS_TCE_H */
