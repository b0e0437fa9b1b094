/*
 * memspace models: a VT-d-like DMA remapping unit (an Intel IOMMU).
 *
 * A simplified model of Intel VT-d's legacy (second-level) translation, as
 * QEMU's intel_iommu emulates it. Every table lives in guest memory and is
 * read, at every use, through the unit's "memory" address space (given at
 * creation) with ms_as_read() / ms_as_ldq_le() and attrs.memory set: a
 * table that is not RAM, or not readable, is a fault, never a host access.
 *
 * Tables (all 64-bit fields little-endian, 4 KiB tables, 4 KiB aligned):
 *
 *   root table   at the address given to ms_vtd_set_root_table(): 256
 *                16-byte entries, one per bus. Low qword: bit 0 present,
 *                bits 12..51 the context table's address; every other bit
 *                of both qwords is reserved (must be 0).
 *   context table  256 16-byte entries, one per devfn. Low qword: bit 0
 *                present, bits 12..51 the second-level page table's
 *                address (the top directory); bits 1..11 and 52..63
 *                reserved. High qword: bits 0..2 the address width
 *                (MS_VTD_CTX_AW_39: 3 levels, MS_VTD_CTX_AW_48: 4 levels;
 *                anything else is a reserved value), bits 8..23 the domain
 *                id; every other bit reserved.
 *   page tables  512 8-byte entries per table. Bit 0 read, bit 1 write
 *                (an entry with neither is not present), bit 7 page size
 *                (a leaf: valid at level 2 (2 MiB) and level 3 (1 GiB)
 *                only), bits 12..51 the next table's or the page's address
 *                (a 2 MiB / 1 GiB page's address must be aligned: its low
 *                bits are reserved). Bits 2..6, 8..11 and 52..63 are
 *                reserved. A level-1 entry is a 4 KiB page. Permissions of
 *                the directories on the way are ANDed, as in VT-d.
 *
 * An entry with a reserved bit set, an address width the unit does not
 * know, an input address at or above 2^aw, a table that cannot be read as
 * RAM, or a directory pointing at a table already on the walk's path (a
 * loop) fails the translation: the access is refused (no mapping) and,
 * for a real access, a fault is recorded (ms_vtd_fault_pop()).
 *
 * Devices: each requester (bus/devfn, MS_VTD_BDF()) gets, on demand, an
 * address space whose root holds two regions: an IOMMU region (2^64 bytes,
 * translating through the device's context entry) and a pass-through
 * alias of the memory address space's root. ms_vtd_set_dmar() switches
 * between them in one transaction, so listeners see one change.
 *
 * Invalidation (ms_vtd_invalidate_*): the guest changes its tables, then
 * invalidates. The unit keeps, per device, a sorted tree of the mappings
 * it announced; an invalidation re-walks the affected range and notifies
 * only what changed (UNMAP of vanished mappings, MAP of new ones, UNMAP
 * then MAP of changed ones). This needs caching mode (a guest that
 * invalidates after making entries present too); without it, MAP
 * notifiers are refused (QEMU's rule) and an invalidation announces one
 * UNMAP of the whole invalidated range instead.
 *
 * Locking: ms_vtd_set_root_table(), ms_vtd_set_dmar(), the invalidations,
 * ms_vtd_device_as() and ms_vtd_free() must be serialised by the caller
 * (the lock the guest's register writes run under). Translation (any
 * access through a device's address space) and the fault calls may run on
 * any thread at any time.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_MODELS_VTD_H
#define MEMSPACE_MODELS_VTD_H

#include <stdbool.h>
#include <stdint.h>

#include "../iommu.h"
#include "../types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Root and context entries (the low qword unless said). */
#define MS_VTD_PRESENT ((uint64_t)1)                    /* present bit of a root or context entry */
#define MS_VTD_ADDR_MASK ((uint64_t)0x000ffffffffff000) /* table address of an entry */
/* Context entry, high qword: address width (bits 0..2) and domain id (bits 8..23). */
#define MS_VTD_CTX_AW_39 ((uint64_t)1)   /* 39-bit address width: 3-level tables */
#define MS_VTD_CTX_AW_48 ((uint64_t)2)   /* 48-bit address width: 4-level tables */
#define MS_VTD_CTX_AW_MASK ((uint64_t)7) /* the address-width field */
#define MS_VTD_CTX_DID_SHIFT 8           /* position of the domain id */
#define MS_VTD_CTX_DID_MASK ((uint64_t)0xffff << MS_VTD_CTX_DID_SHIFT) /* the domain-id field */

/* Second-level page-table entries. */
#define MS_VTD_PTE_READ ((uint64_t)1)                      /* the device may read */
#define MS_VTD_PTE_WRITE ((uint64_t)2)                     /* the device may write */
#define MS_VTD_PTE_RW (MS_VTD_PTE_READ | MS_VTD_PTE_WRITE) /* both */
#define MS_VTD_PTE_PS ((uint64_t)1 << 7) /* page size: the entry maps a 2 MiB or 1 GiB page */

/** MS_VTD_BDF - the requester id of bus @b, device @d, function @f. */
#define MS_VTD_BDF(b, d, f) ((uint16_t)((((b)&0xff) << 8) | (((d)&0x1f) << 3) | ((f)&7)))

/**
 * MS_VTD_WALK_MAX_TABLES - default bound on the tables one replay or
 * invalidation walk reads (ms_vtd_opts.walk_max_tables). Page tables may
 * share tables legitimately, so a small guest table can describe 2^36
 * mappings; a walk that reaches the bound stops and fails with -E2BIG.
 */
#define MS_VTD_WALK_MAX_TABLES ((uint64_t)1 << 20)

/** MS_VTD_FAULT_RING_DEFAULT - fault records kept when the options say 0. */
#define MS_VTD_FAULT_RING_DEFAULT 256u
/** MS_VTD_FAULT_RING_MAX - the largest fault ring. */
#define MS_VTD_FAULT_RING_MAX 65536u

/** MS_VTD_INV_MAX_AM - the largest address mask of a page-selective invalidation (2^30 pages). */
#define MS_VTD_INV_MAX_AM 30u

/**
 * enum ms_vtd_fault_reason - why a translation failed (modelled on VT-d's
 * fault reasons).
 * @MS_VTD_FR_NONE: not a fault (never recorded).
 * @MS_VTD_FR_NO_ROOT_TABLE: no root table was set.
 * @MS_VTD_FR_ROOT_NOT_PRESENT: the bus's root entry is not present.
 * @MS_VTD_FR_ROOT_RESERVED: the root entry sets a reserved bit.
 * @MS_VTD_FR_CONTEXT_NOT_PRESENT: the device's context entry is not present.
 * @MS_VTD_FR_CONTEXT_RESERVED: the context entry sets a reserved bit or an
 *	unknown address width.
 * @MS_VTD_FR_TABLE_READ: a root, context or page table could not be read as
 *	RAM (outside memory, MMIO, a hole).
 * @MS_VTD_FR_TABLE_LOOP: a directory points at a table already on the walk's
 *	path (itself, say).
 * @MS_VTD_FR_ADDR_BEYOND_AW: the address is at or above 2^aw.
 * @MS_VTD_FR_PTE_NOT_PRESENT: a page-table entry on the way is not present.
 * @MS_VTD_FR_PTE_RESERVED: a page-table entry sets a reserved bit.
 * @MS_VTD_FR_READ_DENIED: a read of a mapping without read permission.
 * @MS_VTD_FR_WRITE_DENIED: a write of a mapping without write permission.
 */
typedef enum ms_vtd_fault_reason {
	MS_VTD_FR_NONE = 0,
	MS_VTD_FR_NO_ROOT_TABLE,
	MS_VTD_FR_ROOT_NOT_PRESENT,
	MS_VTD_FR_ROOT_RESERVED,
	MS_VTD_FR_CONTEXT_NOT_PRESENT,
	MS_VTD_FR_CONTEXT_RESERVED,
	MS_VTD_FR_TABLE_READ,
	MS_VTD_FR_TABLE_LOOP,
	MS_VTD_FR_ADDR_BEYOND_AW,
	MS_VTD_FR_PTE_NOT_PRESENT,
	MS_VTD_FR_PTE_RESERVED,
	MS_VTD_FR_READ_DENIED,
	MS_VTD_FR_WRITE_DENIED,
} ms_vtd_fault_reason;

/**
 * struct ms_vtd_fault - one fault record.
 * @bdf: the requester (MS_VTD_BDF()).
 * @addr: the input address of the access.
 * @reason: why it failed.
 * @is_write: the access was a write (otherwise a read).
 */
typedef struct ms_vtd_fault {
	uint16_t bdf;
	uint64_t addr;
	ms_vtd_fault_reason reason;
	bool is_write;
} ms_vtd_fault;

/**
 * typedef ms_vtd_fault_fn - called for every fault, recorded or lost.
 * @fault: the record, borrowed for the call.
 * @opaque: ms_vtd_opts.fault_opaque.
 *
 * Runs in the thread of the access that faulted, inside its RCU read-side
 * section and its translation: it may read the fault ring, but must not
 * access memory through the faulting device's address space nor change the
 * topology.
 */
typedef void (*ms_vtd_fault_fn)(const ms_vtd_fault *fault, void *opaque);

/**
 * struct ms_vtd_opts - a remapping unit (ms_vtd_new()).
 * @name: copied; names the devices' regions and address spaces.
 * @memory: the address space the tables are read from and every device
 *          translates into (the machine's memory); must outlive the unit.
 * @caching_mode: VT-d's CM bit: the guest invalidates after making entries
 *          present, so MAP notifiers can be served.
 * @dev_iotlb: device-IOTLB support: DEVIOTLB_UNMAP notifiers are accepted
 *          and ms_vtd_invalidate_dev_iotlb() works.
 * @fault_ring_size: fault records kept, 0 for MS_VTD_FAULT_RING_DEFAULT,
 *          at most MS_VTD_FAULT_RING_MAX.
 * @on_fault: called for every fault, or NULL.
 * @fault_opaque: passed to @on_fault.
 * @walk_max_tables: bound on the tables one walk reads; 0 for
 *          MS_VTD_WALK_MAX_TABLES.
 *
 * Zero-initialise; later versions may append fields.
 */
typedef struct ms_vtd_opts {
	const char *name;
	ms_as *memory;
	bool caching_mode;
	bool dev_iotlb;
	unsigned fault_ring_size;
	ms_vtd_fault_fn on_fault;
	void *fault_opaque;
	uint64_t walk_max_tables;
} ms_vtd_opts;

/** struct ms_vtd - a remapping unit (opaque). */
typedef struct ms_vtd ms_vtd;

/**
 * ms_vtd_new - create a remapping unit with no root table and no device.
 * @out: receives the unit (NULL on error).
 * @ctx: the context.
 * @opts: copied.
 * Return: 0; -EINVAL for a NULL argument or name, a memory address space of
 * another context, or a fault ring larger than MS_VTD_FAULT_RING_MAX;
 * -ENOMEM.
 * Context: any thread.
 */
MS_API int ms_vtd_new(ms_vtd **out, ms_ctx *ctx, const ms_vtd_opts *opts);

/**
 * ms_vtd_free - free the unit and its devices' address spaces and regions.
 * @v: the unit, or NULL (no-op).
 *
 * Every device's announced mappings are UNMAPped first. No access may run
 * through the devices' address spaces during or after the call, and their
 * ms_as pointers become invalid. Unregister the notifiers of the devices'
 * IOMMU regions (and detach consumers such as VFIO-like containers) first:
 * a registration keeps its region alive, but the class behind it is gone.
 * Context: any thread, serialised with the unit's other changes; takes the
 * topology lock.
 */
MS_API void ms_vtd_free(ms_vtd *v);

/**
 * ms_vtd_set_root_table - set the root table's address (VT-d's SRTP).
 * @v: the unit.
 * @addr: guest address of the root table, 4 KiB aligned, below 2^52.
 *
 * Takes effect for the next translation; announced mappings are not
 * re-checked until the guest invalidates (global invalidation).
 * Return: 0; -EINVAL for a NULL @v or a misaligned or too high @addr.
 * Context: any thread, serialised with the unit's other changes.
 */
MS_API int ms_vtd_set_root_table(ms_vtd *v, uint64_t addr);

/**
 * ms_vtd_device_as - the DMA address space of requester @bdf, created on
 * first use (with remapping off: the pass-through alias is enabled).
 * @out: receives the address space, owned by the unit (valid until
 *       ms_vtd_free()); NULL on error.
 * @v: the unit.
 * @bdf: the requester id.
 * Return: 0; -EINVAL for a NULL argument; -ENOMEM; an error of the region
 * or address space calls.
 * Context: any thread, serialised with the unit's other changes; takes the
 * topology lock.
 */
MS_API int ms_vtd_device_as(ms_as **out, ms_vtd *v, uint16_t bdf);

/**
 * ms_vtd_device_iommu - the IOMMU region of requester @bdf (for notifiers).
 * Return: the region, borrowed (valid until ms_vtd_free()); NULL when @v
 * is NULL or the device has no address space yet.
 * Context: any thread.
 */
MS_API ms_region *ms_vtd_device_iommu(ms_vtd *v, uint16_t bdf);

/**
 * ms_vtd_set_dmar - switch DMA remapping of requester @bdf on or off.
 * @v: the unit.
 * @bdf: a device with an address space (ms_vtd_device_as()).
 * @enabled: true: accesses translate through the IOMMU region; false:
 *           they pass through to the memory address space.
 *
 * Both regions change in one transaction: listeners see the IOMMU region
 * replace the alias (or the reverse) in one commit. Switching off first
 * UNMAPs every mapping announced for the device; switching on in caching
 * mode announces (MAP) every current mapping before the commit, so that a
 * consumer that replays at the commit and the unit agree. Setting the
 * current state does nothing.
 * Return: 0; -EINVAL for a NULL @v; -ENOENT when the device has no address
 * space; -E2BIG when the walk exceeded its table bound; an error of the
 * commit or the first error a notifier returned (the switch is still made).
 * Context: any thread, serialised with the unit's other changes, not inside
 * a transaction of the caller's; takes the topology lock.
 */
MS_API int ms_vtd_set_dmar(ms_vtd *v, uint16_t bdf, bool enabled);

/**
 * ms_vtd_dmar_enabled - whether remapping is on for requester @bdf.
 * Return: 1 (on), 0 (off); -EINVAL for a NULL @v; -ENOENT when the device
 * has no address space. Context: any thread.
 */
MS_API int ms_vtd_dmar_enabled(ms_vtd *v, uint16_t bdf);

/**
 * ms_vtd_invalidate_global - global IOTLB and context-cache invalidation:
 * every device with remapping on is re-walked over its whole address width
 * and the differences are notified (see the header comment).
 * @v: the unit.
 * Return: 0; -EINVAL for a NULL @v; -E2BIG when a walk exceeded its table
 * bound (that device's announced mappings are kept as they were); the
 * first error a notifier returned (the other events are still sent).
 * Context: any thread, serialised with the unit's other changes; takes the
 * topology lock.
 */
MS_API int ms_vtd_invalidate_global(ms_vtd *v);

/**
 * ms_vtd_invalidate_domain - domain-selective invalidation: as
 * ms_vtd_invalidate_global() for the devices whose context entry names
 * domain @did now, or named it at their last walk.
 * @v: the unit.
 * @did: the domain id.
 * Return: as ms_vtd_invalidate_global().
 * Context: as ms_vtd_invalidate_global().
 */
MS_API int ms_vtd_invalidate_domain(ms_vtd *v, uint16_t did);

/**
 * ms_vtd_invalidate_page - page-selective invalidation of 2^@am pages.
 * @v: the unit.
 * @did: the domain id (devices chosen as for ms_vtd_invalidate_domain()).
 * @addr: first address, aligned to 2^(12 + @am).
 * @am: the address mask, 0 .. MS_VTD_INV_MAX_AM.
 *
 * Re-walks [@addr, @addr + 2^(12 + @am)) (widened to the whole pages of
 * any mapping that straddles its ends) and notifies the differences.
 * Return: 0; -EINVAL for a NULL @v, @am too large or a misaligned @addr;
 * otherwise as ms_vtd_invalidate_global().
 * Context: as ms_vtd_invalidate_global().
 */
MS_API int ms_vtd_invalidate_page(ms_vtd *v, uint16_t did, uint64_t addr, unsigned am);

/**
 * ms_vtd_invalidate_dev_iotlb - a device-IOTLB invalidation: one
 * DEVIOTLB_UNMAP event of [@addr, @addr + 2^(12 + @am)) to the notifiers of
 * requester @bdf (the IOTLB of the unit itself is not touched).
 * @v: the unit.
 * @bdf: a device with an address space.
 * @addr: aligned to 2^(12 + @am).
 * @am: 0 .. 52.
 * Return: 0; -EINVAL for a NULL @v, a bad @am or misaligned @addr;
 * -ENOTSUP without device-IOTLB support; -ENOENT when the device has no
 * address space; the first error a notifier returned.
 * Context: any thread; takes the topology lock.
 */
MS_API int ms_vtd_invalidate_dev_iotlb(ms_vtd *v, uint16_t bdf, uint64_t addr, unsigned am);

/**
 * ms_vtd_fault_pop - take the oldest fault record off the ring.
 * @out: receives it (cleared when there is none).
 * @v: the unit.
 * Return: 0; -EINVAL for a NULL argument; -ENOENT when the ring is empty.
 * Context: any thread.
 */
MS_API int ms_vtd_fault_pop(ms_vtd_fault *out, ms_vtd *v);

/**
 * ms_vtd_fault_counts - how many faults wait in the ring and how many were
 * lost because it was full (VT-d's overflow: new faults are dropped).
 * @v: the unit.
 * @pending: receives the records in the ring, or NULL.
 * @lost: receives the faults dropped since creation, or NULL.
 * Return: 0; -EINVAL for a NULL @v. Context: any thread.
 */
MS_API int ms_vtd_fault_counts(ms_vtd *v, uint64_t *pending, uint64_t *lost);

/**
 * ms_vtd_fault_reason_name - a short name for @reason ("pte-reserved").
 * Return: a static string; "unknown" for a value outside the enum.
 * Context: any thread.
 */
MS_API const char *ms_vtd_fault_reason_name(ms_vtd_fault_reason reason);

/* ---- guest-side table writer ------------------------------------------------- */

/**
 * struct ms_vtd_pt - a guest driver's view of its tables (opaque): it
 * allocates table pages from a pool of guest RAM and writes root, context
 * and page-table entries with ordinary stores through an address space,
 * as a guest OS would. The unit never uses it: it reads what is in memory.
 * Tests, benchmarks and the CLI build tables with it.
 */
typedef struct ms_vtd_pt ms_vtd_pt;

/** MS_VTD_PT_MAX_DOMAINS - domains one table writer keeps page tables for. */
#define MS_VTD_PT_MAX_DOMAINS 64u

/**
 * ms_vtd_pt_new - a table writer with an empty root table.
 * @out: receives the writer (NULL on error).
 * @memory: where the tables are written (the unit's memory address space).
 * @pool: first address of the pool, 4 KiB aligned.
 * @pool_size: bytes in the pool, a multiple of 4 KiB, at least 4 KiB.
 *
 * The root table is the pool's first page, zeroed. Pages taken from the
 * pool are never given back.
 * Return: 0; -EINVAL for a NULL argument, a misaligned or empty pool or
 * one that wraps; -EFAULT when the root table cannot be written as RAM;
 * -ENOMEM.
 * Context: any thread; serialise the calls on one writer.
 */
MS_API int ms_vtd_pt_new(ms_vtd_pt **out, ms_as *memory, uint64_t pool, uint64_t pool_size);

/** ms_vtd_pt_free - free the writer (the tables stay in memory); NULL is a no-op. */
MS_API void ms_vtd_pt_free(ms_vtd_pt *pt);

/**
 * ms_vtd_pt_root - the root table's address (for ms_vtd_set_root_table()).
 * Return: the address; 0 for a NULL @pt. Context: any thread.
 */
MS_API uint64_t ms_vtd_pt_root(const ms_vtd_pt *pt);

/**
 * ms_vtd_pt_used - bytes of the pool taken so far (root table included).
 * Return: the count; 0 for a NULL @pt. Context: any thread.
 */
MS_API uint64_t ms_vtd_pt_used(const ms_vtd_pt *pt);

/**
 * ms_vtd_pt_set_context - point requester @bdf at domain @did's page table,
 * allocating the bus's context table and the domain's top directory on
 * first use.
 * @pt: the writer.
 * @bdf: the requester.
 * @did: the domain id.
 * @aw_bits: 39 (3 levels) or 48 (4 levels); a domain keeps the width it
 *           was first given.
 * Return: 0; -EINVAL for a NULL @pt, a bad @aw_bits or one that differs
 * from the domain's; -ENOSPC when the pool is full or the writer knows
 * MS_VTD_PT_MAX_DOMAINS domains; -EFAULT when a table cannot be written.
 * Context: as ms_vtd_pt_new().
 */
MS_API int ms_vtd_pt_set_context(ms_vtd_pt *pt, uint16_t bdf, uint16_t did, unsigned aw_bits);

/**
 * ms_vtd_pt_clear_context - make requester @bdf's context entry not present.
 * Return: 0; -EINVAL for a NULL @pt; -EFAULT when it cannot be written.
 * Context: as ms_vtd_pt_new().
 */
MS_API int ms_vtd_pt_clear_context(ms_vtd_pt *pt, uint16_t bdf);

/**
 * ms_vtd_pt_map - map [@iova, @iova + @size) of domain @did to @gpa with
 * pages of @page_size, allocating directories as needed.
 * @pt: the writer.
 * @did: a domain given to ms_vtd_pt_set_context().
 * @iova: aligned to @page_size, the range below 2^aw.
 * @gpa: aligned to @page_size, below 2^52 with the range.
 * @size: a non-zero multiple of @page_size.
 * @perm: MS_VTD_PTE_READ and/or MS_VTD_PTE_WRITE (0 is refused: use unmap).
 * @page_size: 4 KiB, 2 MiB or 1 GiB.
 *
 * An existing leaf of the same size is overwritten (a changed mapping).
 * Return: 0; -EINVAL for a bad argument or an unknown domain; -EBUSY when
 * a page would need a directory where a larger leaf is, or a leaf where a
 * directory is (pages mapped before that one stay mapped); -ENOSPC when
 * the pool is full; -EFAULT when a table cannot be read or written.
 * Context: as ms_vtd_pt_new().
 */
MS_API int ms_vtd_pt_map(ms_vtd_pt *pt, uint16_t did, uint64_t iova, uint64_t gpa, uint64_t size,
			 uint64_t perm, uint64_t page_size);

/**
 * ms_vtd_pt_unmap - clear every leaf of domain @did that intersects
 * [@iova, @iova + @size) (whole leaves: a 2 MiB page touched by one byte
 * goes away entirely). Directories stay.
 * Return: 0; -EINVAL for a NULL @pt, an unknown domain, a size of 0 or a
 * range that wraps; -EFAULT when a table cannot be read or written.
 * Context: as ms_vtd_pt_new().
 */
MS_API int ms_vtd_pt_unmap(ms_vtd_pt *pt, uint16_t did, uint64_t iova, uint64_t size);

#ifdef __cplusplus
}
#endif

#endif /* MEMSPACE_MODELS_VTD_H */
