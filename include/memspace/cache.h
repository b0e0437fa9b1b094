/*
 * memspace: region caches - repeated accesses to one stretch of an address
 * space at the cost of a bounds check and a host memory access.
 *
 * A device that touches the same guest structure over and over (a virtio
 * ring, a descriptor table) initialises a cache over it once. Accesses
 * through the cache take offsets from the start of the stretch. When the
 * whole stretch translates (through any IOMMUs) to one range of RAM usable
 * in place for the access's direction, the access is a memcpy from or to the
 * host memory; otherwise it goes through the address space like
 * ms_as_read() / ms_as_write() (the slow path, always correct).
 *
 * Unlike QEMU's MemoryRegionCache, a cache notices when its translation goes
 * stale and translates again before the access: when any address space on
 * its path has published a new flat view since (a commit), or any IOMMU on
 * its path has sent a notification (an UNMAP that covers the stretch is what
 * makes this necessary). So a cache never reads or writes memory that is no
 * longer mapped there when the access starts. As with every access, an
 * access that started before a commit or notification may finish after it.
 * docs/iommu.md explains the mechanism.
 *
 * Translations use MS_ATTRS_UNSPECIFIED (IOMMU index and permissions for
 * that), as do slow-path accesses.
 *
 * Ownership and lifetime: the caller owns the ms_cache object (embed it in
 * the device). A cache holds references on the flat views of its path
 * (so the memory it points into stays allocated) until it translates again,
 * ms_cache_invalidate() or ms_cache_destroy(). The address spaces on its path
 * (the cache's own and every IOMMU target) must outlive it, and it must be
 * destroyed before its context is freed.
 *
 * Concurrency: one cache must not be used by two threads at once (its
 * translation is updated in place); the caller serialises, as a device does
 * with its own lock. Different caches, and caches and other accesses, may
 * be used concurrently from any thread, including device callbacks.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_CACHE_H
#define MEMSPACE_CACHE_H

#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * MS_CACHE_MAX_HOPS - the most address spaces a cache's path may pass
 * (one more than the IOMMUs on it) and still be tracked; a longer path
 * makes every access of that cache take the slow path.
 */
#define MS_CACHE_MAX_HOPS 4

/**
 * MS_CACHE_SIZE - the size of struct ms_cache in bytes. Fixed, so that the
 * library's private state can change without changing the ABI.
 */
#define MS_CACHE_SIZE 256

/**
 * struct ms_cache - a region cache, embedded where the caller keeps its
 * state (a device model's struct, say), so that a cached access needs no
 * allocation and no pointer chase. Every byte is private to the library:
 * use the calls below. A zero-filled object is a destroyed cache.
 */
typedef struct ms_cache {
	uint64_t private_[MS_CACHE_SIZE / 8]; /* the library's state: do not touch */
} ms_cache;

/**
 * ms_cache_init - set up a cache over [@addr, @addr + @len) of @as.
 * @cache: the object to initialise (its old contents are ignored).
 * @as: the address space.
 * @addr: first address.
 * @len: bytes, at least 1; the stretch must not wrap past 2^64 - 1.
 * @is_write: the cache will be written (writes can then be direct; reads
 *            are direct too when the mapping allows them).
 *
 * Translates once. Nothing needs to answer yet: accesses to a stretch that
 * does not translate to RAM take the slow path and report what it reports.
 *
 * Return: 0; -EINVAL for a NULL argument, @len 0 or a wrapping stretch
 * (@cache is then zero-filled).
 * Context: any thread, including device callbacks.
 */
MS_API int ms_cache_init(ms_cache *cache, ms_as *as, uint64_t addr, uint64_t len, bool is_write);

/**
 * ms_cache_destroy - release what the cache holds and zero-fill it.
 * @cache: the cache, or NULL (no-op). Destroying twice is harmless.
 * Context: any thread.
 */
MS_API void ms_cache_destroy(ms_cache *cache);

/**
 * ms_cache_invalidate - forget the translation now: drop the view
 * references it holds; the next access translates again. For a device
 * that knows its stretch changed in a way the cache cannot see, or that
 * wants the old views released early.
 * @cache: the cache, or NULL (no-op).
 * Context: any thread.
 */
MS_API void ms_cache_invalidate(ms_cache *cache);

/**
 * ms_cache_is_direct - whether the cache's current translation lets an
 * access of that direction use host memory directly (for tests and
 * statistics; it does not re-check freshness).
 * @cache: the cache (NULL: false).
 * @is_write: the direction asked about.
 * Context: any thread (one at a time per cache).
 */
MS_API bool ms_cache_is_direct(const ms_cache *cache, bool is_write);

/**
 * ms_cache_read / ms_cache_write - bytes at @offset .. @offset + @len - 1 of
 * the stretch.
 * Return: MS_RESULT_OK on the fast path; on the slow path what ms_as_read()
 * / ms_as_write() return; MS_RESULT_ACCESS_ERROR, with nothing accessed (a
 * read fills @buf with zeros), when the bytes are not all inside the
 * stretch or an argument is NULL. @len 0 does nothing.
 * Context: any thread (one at a time per cache).
 */
MS_API ms_result ms_cache_read(ms_cache *cache, uint64_t offset, void *buf, size_t len);
MS_API ms_result ms_cache_write(ms_cache *cache, uint64_t offset, const void *buf, size_t len);

/*
 * Scalar loads and stores at @offset, as the ms_as_ld* and ms_as_st* calls (access.h):
 * loads return the value (0 in failed bytes) and store the result in
 * *@result unless it is NULL. Out of the stretch: MS_RESULT_ACCESS_ERROR.
 * Context: any thread, including device callbacks (one at a time per cache).
 */
MS_API uint8_t ms_cache_ldub(ms_cache *cache, uint64_t offset, ms_result *result);
MS_API uint16_t ms_cache_lduw_le(ms_cache *cache, uint64_t offset, ms_result *result);
MS_API uint16_t ms_cache_lduw_be(ms_cache *cache, uint64_t offset, ms_result *result);
MS_API uint32_t ms_cache_ldl_le(ms_cache *cache, uint64_t offset, ms_result *result);
MS_API uint32_t ms_cache_ldl_be(ms_cache *cache, uint64_t offset, ms_result *result);
MS_API uint64_t ms_cache_ldq_le(ms_cache *cache, uint64_t offset, ms_result *result);
MS_API uint64_t ms_cache_ldq_be(ms_cache *cache, uint64_t offset, ms_result *result);

MS_API ms_result ms_cache_stb(ms_cache *cache, uint64_t offset, uint8_t val);
MS_API ms_result ms_cache_stw_le(ms_cache *cache, uint64_t offset, uint16_t val);
MS_API ms_result ms_cache_stw_be(ms_cache *cache, uint64_t offset, uint16_t val);
MS_API ms_result ms_cache_stl_le(ms_cache *cache, uint64_t offset, uint32_t val);
MS_API ms_result ms_cache_stl_be(ms_cache *cache, uint64_t offset, uint32_t val);
MS_API ms_result ms_cache_stq_le(ms_cache *cache, uint64_t offset, uint64_t val);
MS_API ms_result ms_cache_stq_be(ms_cache *cache, uint64_t offset, uint64_t val);

#ifdef __cplusplus
}
#endif

#endif /* MEMSPACE_CACHE_H */
