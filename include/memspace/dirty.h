/*
 * memspace: dirty memory tracking.
 *
 * Every RAM-backed region with memory (a "RAM block") has one bitmap per
 * dirty-logging client, one bit per dirty page (ms_ctx_dirty_page_size(),
 * the target page size: 4 KiB unless set). A client logs a region when
 * ms_region_set_dirty_log() turned it on for that region; the MIGRATION
 * client also logs every migratable RAM block (RAM, ROM, ROM devices; not
 * RAM devices or blocks made with MS_RAM_NOT_MIGRATABLE) while global dirty
 * logging is on (ms_ctx_dirty_log_global_start()). The clients are QEMU's:
 *
 *   MS_DIRTY_VGA        display: which parts of the frame buffer to redraw;
 *   MS_DIRTY_CODE       translated code: which pages to invalidate;
 *   MS_DIRTY_MIGRATION  live migration: which pages to send again.
 *
 * Clients 3..7 are free for the caller's own use.
 *
 * Every write that reaches RAM memory sets the bits of the clients logging
 * that region: ms_as_write() and the stores, ms_as_set(), the loader
 * (ms_as_write_rom()), ms_region_dispatch_write(), ms_as_dma_*(), writes
 * through a region cache, and direct mappings when they are unmapped
 * (ms_as_unmap() with access_len). Memory written behind the library's back
 * (a pointer kept from ms_region_ram_ptr(), a remapped host range, a
 * device in another process) is marked with ms_region_set_dirty().
 * A write marks its pages after its bytes are in memory, so a reader that
 * snapshots (and clears) the bits and then copies the pages never misses a
 * write: the write either landed before the copy, or its bit is set again
 * for the next round.
 *
 * Bits are set and cleared with atomic operations: marking, testing,
 * snapshots and resets may run in any thread, concurrently with accesses,
 * without a lock. Offsets and sizes are in bytes inside the region.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_DIRTY_H
#define MEMSPACE_DIRTY_H

#include "region.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Dirty-logging clients (bit numbers of a dirty_log_mask). */
#define MS_DIRTY_VGA 0u       /* display refresh (QEMU's DIRTY_MEMORY_VGA) */
#define MS_DIRTY_CODE 1u      /* translated-code invalidation (DIRTY_MEMORY_CODE) */
#define MS_DIRTY_MIGRATION 2u /* RAM migration (DIRTY_MEMORY_MIGRATION) */
#define MS_DIRTY_CLIENTS 8u   /* client numbers are 0 .. MS_DIRTY_CLIENTS - 1 */

/**
 * ms_ctx_set_dirty_page_size - the granularity of dirty bitmaps.
 * @ctx: the context.
 * @size: a power of two from 512 to 1 GiB (4096 by default).
 * Return: 0; -EINVAL for a NULL @ctx or a bad size; -EBUSY once a RAM
 * block (a region with memory) was created in @ctx and @size is not the
 * current size (setting the current size again succeeds).
 * Context: any thread; takes the topology lock.
 */
MS_API int ms_ctx_set_dirty_page_size(ms_ctx *ctx, uint64_t size);
/** ms_ctx_dirty_page_size - the granularity of @ctx's dirty bitmaps, in bytes. */
MS_API uint64_t ms_ctx_dirty_page_size(const ms_ctx *ctx);

/**
 * ms_region_dirty_log_mask - the clients logging writes to @r now: those
 * turned on with ms_region_set_dirty_log(), plus MS_DIRTY_MIGRATION while
 * global dirty logging is on and @r is migratable. 0 for a region without
 * memory.
 * Context: any thread.
 */
MS_API uint8_t ms_region_dirty_log_mask(const ms_region *r);

/**
 * ms_region_get_dirty - is any page of [@offset, @offset + @size) of @r
 * dirty for @client?
 * Return: true or false; false for bad arguments (NULL, no memory, a range
 * past the region, @client >= MS_DIRTY_CLIENTS) and for a client that never
 * logged @r.
 * Context: any thread.
 */
MS_API bool ms_region_get_dirty(const ms_region *r, uint64_t offset, uint64_t size,
				unsigned int client);

/**
 * ms_region_set_dirty - mark the pages of [@offset, @offset + @size) of @r
 * dirty for every client logging @r (ms_region_dirty_log_mask()), as a
 * write through the library would.
 * Return: 0; -EINVAL for NULL, a region without memory, a size of 0 or a
 * range past the region (nothing marked).
 * Context: any thread.
 */
MS_API int ms_region_set_dirty(ms_region *r, uint64_t offset, uint64_t size);

/**
 * ms_region_reset_dirty - clear @client's bits of the pages of
 * [@offset, @offset + @size) of @r (whole pages: the first and last page
 * are cleared even when the range covers them only in part).
 * Return: 0; -EINVAL as ms_region_set_dirty(), or a bad client.
 * Context: any thread.
 */
MS_API int ms_region_reset_dirty(ms_region *r, uint64_t offset, uint64_t size, unsigned int client);

/**
 * ms_region_clear_dirty - ask the listeners of every address space where
 * @r is visible to clear their own dirty state of [@offset, @offset +
 * @size) (their log_clear callback, with the part of each logged section
 * that overlaps the range), as QEMU's memory_region_clear_dirty_bitmap()
 * does for hypervisors that track dirty pages themselves. memspace's
 * bitmaps are not touched.
 * Return: 0; -EINVAL as ms_region_set_dirty(); -EBUSY inside a listener
 * callback.
 * Context: any thread; takes the topology lock.
 */
MS_API int ms_region_clear_dirty(ms_region *r, uint64_t offset, uint64_t size);

/** struct ms_dirty_snapshot - a copy of part of a bitmap (opaque). */
typedef struct ms_dirty_snapshot ms_dirty_snapshot;

/**
 * ms_region_snapshot_and_clear_dirty - atomically take and clear @client's
 * bits of a range of @r.
 * @out: receives the snapshot (NULL on failure).
 * @r: the region.
 * @offset: first byte of the range, in @r.
 * @size: bytes in the range.
 * @client: the dirty-logging client (MS_DIRTY_*).
 *
 * The range is rounded out to whole bitmap words (64 pages, as QEMU rounds
 * to its longs): every bit of those words is moved into the snapshot with
 * an atomic exchange, so a write that races with the snapshot is either in
 * it or stays set in the bitmap, never lost.
 * Return: 0; -EINVAL as ms_region_reset_dirty(); -ENOMEM.
 * Context: any thread.
 */
MS_API int ms_region_snapshot_and_clear_dirty(ms_dirty_snapshot **out, ms_region *r,
					      uint64_t offset, uint64_t size, unsigned int client);

/**
 * ms_dirty_snapshot_get_dirty - is any page of [@offset, @offset + @size)
 * of the snapshot's region dirty in @snap? The range must lie inside the
 * (rounded) range the snapshot was taken of.
 * Return: true or false; false for NULL or a range outside the snapshot.
 * Context: any thread.
 */
MS_API bool ms_dirty_snapshot_get_dirty(const ms_dirty_snapshot *snap, uint64_t offset,
					uint64_t size);

/**
 * ms_dirty_snapshot_next - the first dirty page of @snap that starts at or
 * after @from (a @from inside a page starts the search at the next page,
 * so `from = *next + 1` walks on).
 * @snap: the snapshot.
 * @from: offset in the region to start the search at.
 * @next: receives the page's offset in the region; untouched at the end.
 * Return: true when there is one; false at the end (or for NULL).
 * Context: any thread.
 */
MS_API bool ms_dirty_snapshot_next(const ms_dirty_snapshot *snap, uint64_t from, uint64_t *next);

/**
 * ms_dirty_snapshot_count - how many pages of @snap are dirty (0 for NULL).
 * Context: any thread.
 */
MS_API uint64_t ms_dirty_snapshot_count(const ms_dirty_snapshot *snap);

/**
 * ms_dirty_snapshot_range - the range the snapshot covers (the rounded one),
 * as a region offset and a size in bytes (clipped to the region); 0 and 0
 * for NULL. Either out-pointer may be NULL.
 * Context: any thread.
 */
MS_API void ms_dirty_snapshot_range(const ms_dirty_snapshot *snap, uint64_t *offset,
				    uint64_t *size);

/**
 * ms_dirty_snapshot_free - free @snap and drop its reference on the region
 * (NULL: no-op).
 * Context: any thread.
 */
MS_API void ms_dirty_snapshot_free(ms_dirty_snapshot *snap);

#ifdef __cplusplus
}
#endif

#endif /* MEMSPACE_DIRTY_H */
