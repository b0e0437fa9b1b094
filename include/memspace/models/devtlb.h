/*
 * memspace models: a vhost-like device IOTLB.
 *
 * A device behind an IOMMU that caches translations itself: vhost's IOTLB
 * (the kernel asks QEMU on a miss, QEMU answers with
 * address_space_get_iotlb_entry() and forwards the IOMMU's invalidations),
 * or a PCIe device with Address Translation Services. The cache belongs to
 * one device, whose DMA address space and transaction attributes are given
 * at creation. The device's DMA (ms_devtlb_read(), ms_devtlb_write())
 * translates through the cache, filling it on a miss with
 * ms_as_get_iotlb_entry(), then accesses the address space the translation
 * ends in.
 *
 * The cache follows the device's address space with a listener. On every
 * IOMMU region of its view it registers a notifier for DEVIOTLB_UNMAP and
 * UNMAP events, or UNMAP alone when the IOMMU refuses device-IOTLB
 * notifiers (as QEMU's vhost falls back), over the range the view shows;
 * each such event drops every cached translation that intersects it,
 * whatever its size (an invalidation of the whole 2^64 space is fine).
 * Any change of the device address space's view drops every entry.
 *
 * The guarantee: a DMA that begins after an UNMAP or DEVIOTLB_UNMAP
 * notification covering a translation has returned never uses that
 * translation. (A DMA already running may finish with it, as with the
 * library's region caches.)
 *
 * Limits: only the IOMMUs of the device address space's own view are
 * followed. A translation through a chain of IOMMUs is invalidated by the
 * first IOMMU's events and by changes of the device address space, not by
 * the deeper IOMMUs' events (vhost has the same limit); the deeper address
 * spaces' topology changes need no invalidation (the access after the
 * translation renders them as they are).
 *
 * Locking: ms_devtlb_read(), ms_devtlb_write(), ms_devtlb_translate(),
 * ms_devtlb_flush() and ms_devtlb_get_stats() may run on any number of
 * threads at once: a hit takes no lock (each slot has a sequence count),
 * misses, fills and invalidations take the cache's mutex, which is not held
 * during the fill's translation or the access. The cache's notifier and
 * listener callbacks run with the topology lock held and take that mutex. ms_devtlb_new() and
 * ms_devtlb_free() take the topology lock; free must not run concurrently
 * with the device's DMA.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_MODELS_DEVTLB_H
#define MEMSPACE_MODELS_DEVTLB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../iommu.h"
#include "../types.h"

#ifdef __cplusplus
extern "C" {
#endif

/** MS_DEVTLB_MAX_ENTRIES - the largest cache (entries). */
#define MS_DEVTLB_MAX_ENTRIES 65536u

/** MS_DEVTLB_DEFAULT_ENTRIES - the cache size when ms_devtlb_opts.nr_entries is 0. */
#define MS_DEVTLB_DEFAULT_ENTRIES 64u

/** MS_DEVTLB_MAX_IOMMUS - the most IOMMU ranges the device's view may show. */
#define MS_DEVTLB_MAX_IOMMUS 16u

/** struct ms_devtlb - one device's translation cache (opaque). */
typedef struct ms_devtlb ms_devtlb;

/**
 * struct ms_devtlb_opts - a device IOTLB (ms_devtlb_new()).
 * @as: the device's DMA address space; must outlive the cache.
 * @attrs: the device's transaction attributes (they choose the IOMMU
 *         indexes, and go with every access).
 * @nr_entries: cache slots, a power of two up to MS_DEVTLB_MAX_ENTRIES;
 *         0 for MS_DEVTLB_DEFAULT_ENTRIES. The cache is direct-mapped:
 *         translations of 4 KiB or more on the 4 KiB page number of the
 *         address (its higher bits folded onto the low ones), smaller ones
 *         on its 32-byte granule (hashed).
 *
 * Later versions may append fields: zero-initialise the struct.
 */
typedef struct ms_devtlb_opts {
	ms_as *as;
	ms_attrs attrs;
	unsigned nr_entries;
} ms_devtlb_opts;

/**
 * struct ms_devtlb_stats - what ms_devtlb_get_stats() reports.
 * @hits: translations answered by the cache.
 * @misses: translations that asked the address space (a fill, or a fault).
 * @faults: misses whose translation failed (nothing is cached for them),
 *          and hits whose cached permissions refuse the access.
 * @invalidations: invalidation events received (UNMAP, DEVIOTLB_UNMAP),
 *          and flushes (ms_devtlb_flush(), view changes).
 * @entries_dropped: cached entries those dropped.
 * @nr_cached: entries in the cache now.
 * @nr_entries: cache slots.
 * @nr_iommus: IOMMU ranges followed.
 * @nr_deviotlb: of those, how many send DEVIOTLB_UNMAP (the others were
 *          followed with UNMAP only).
 */
typedef struct ms_devtlb_stats {
	uint64_t hits;
	uint64_t misses;
	uint64_t faults;
	uint64_t invalidations;
	uint64_t entries_dropped;
	uint64_t nr_cached;
	unsigned nr_entries;
	unsigned nr_iommus;
	unsigned nr_deviotlb;
} ms_devtlb_stats;

/**
 * ms_devtlb_new - create an empty cache and start following @opts->as.
 * @out: receives the cache (NULL on error).
 * @ctx: the context.
 * @opts: copied.
 *
 * Return: 0; -EINVAL for a NULL argument, an address space of another
 * context, or a bad @nr_entries; -ENOSPC when the view shows more than
 * MS_DEVTLB_MAX_IOMMUS IOMMU ranges; -ENOMEM; an error of the listener's
 * or a notifier's registration.
 * Context: any thread; takes the topology lock.
 */
MS_API int ms_devtlb_new(ms_devtlb **out, ms_ctx *ctx, const ms_devtlb_opts *opts);

/**
 * ms_devtlb_free - stop following and free the cache.
 * @d: the cache, or NULL (no-op).
 * Context: any thread; takes the topology lock; not while the device's DMA
 * runs.
 */
MS_API void ms_devtlb_free(ms_devtlb *d);

/**
 * ms_devtlb_translate - the translation the device would use for @addr.
 * @out: receives the entry (as ms_as_get_iotlb_entry() describes it);
 *       cleared on error.
 * @d: the cache.
 * @addr: the device's DMA address.
 * @is_write: the access needs write permission (otherwise read).
 *
 * A hit answers from the cache; a miss asks ms_as_get_iotlb_entry() and
 * caches the answer unless an invalidation ran meanwhile. Counts as the
 * DMA calls do.
 * Return: 0; -EINVAL for a NULL argument; -EACCES when the mapping (cached
 * or not) does not grant the permission; the other errors of
 * ms_as_get_iotlb_entry() (-ENOENT, -EIO, -ELOOP).
 * Context: any thread.
 */
MS_API int ms_devtlb_translate(ms_iotlb_entry *out, ms_devtlb *d, uint64_t addr, bool is_write);

/**
 * ms_devtlb_read - the device reads memory by DMA.
 * @d: the cache.
 * @addr: first DMA address.
 * @buf: receives @len bytes.
 * @len: bytes; 0 does nothing.
 *
 * Translates page by page through the cache, and reads each piece from the
 * address space its translation ends in, with the device's attributes.
 * A translation that fails fails the rest of the access: those bytes read
 * as zero.
 * Return: the ORed results of the pieces (access.h);
 * MS_RESULT_ACCESS_ERROR for a failed translation (no mapping, no
 * permission, a malformed entry or a cycle), MS_RESULT_DECODE_ERROR when
 * nothing answers where the path ends; MS_RESULT_ACCESS_ERROR with nothing
 * read for a NULL @d, or a NULL @buf with @len not 0.
 * Context: any thread, including device callbacks (the rules of access.h).
 */
MS_API ms_result ms_devtlb_read(ms_devtlb *d, uint64_t addr, void *buf, size_t len);

/**
 * ms_devtlb_write - the device writes memory by DMA.
 * As ms_devtlb_read(), for writes: a translation that fails stops the
 * access there (the bytes before it are written).
 * Context: any thread, including device callbacks.
 */
MS_API ms_result ms_devtlb_write(ms_devtlb *d, uint64_t addr, const void *buf, size_t len);

/**
 * ms_devtlb_flush - drop every cached translation (the device's own
 * invalidate-all). Counts one invalidation.
 * Return: 0; -EINVAL for a NULL @d.
 * Context: any thread.
 */
MS_API int ms_devtlb_flush(ms_devtlb *d);

/**
 * ms_devtlb_get_stats - the cache's counters.
 * @out: receives them (cleared on error).
 * @d: the cache.
 * Return: 0; -EINVAL for a NULL argument.
 * Context: any thread.
 */
MS_API int ms_devtlb_get_stats(ms_devtlb_stats *out, ms_devtlb *d);

#ifdef __cplusplus
}
#endif

#endif /* MEMSPACE_MODELS_DEVTLB_H */
