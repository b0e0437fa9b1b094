/*
 * memspace: saving and restoring RAM, with iterative dirty pre-copy.
 *
 * The RAM stream carries the contents of every migratable RAM block of a
 * context (every region with memory not created with
 * MS_RAM_NOT_MIGRATABLE; RAM devices and layout-only regions are never in
 * it), identified by name, size and page size, so the destination must
 * have the same blocks (created the same way) before it loads. Block names
 * must be unique among a context's migratable blocks.
 *
 * The stream is a header listing the blocks, then chunks of pages, each
 * with a CRC-32 of its header and data, then an end record with the count
 * of chunks. A page may be sent several times (pre-copy rounds): the last
 * copy wins. The format is described in docs/ram.md.
 *
 * Loading is all or nothing: the stream is read into staging memory and
 * checked to the end before anything of the destination is written. A
 * truncated or corrupted stream, a block missing on either side or of
 * another size or page size gives an error and leaves the destination
 * unchanged. Loaded pages are marked dirty as written.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_MIGRATE_H
#define MEMSPACE_MIGRATE_H

#include "ctx.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * ms_ram_save - write every migratable block of @ctx to @fd in one pass.
 * @fd: a file or pipe open for writing (written sequentially).
 * Return: 0; -EINVAL for bad arguments; -ENOTUNIQ when two migratable
 * blocks share a name; a negative errno from write().
 * Context: any thread; the contents are read while other threads may
 * still write (use pre-copy for a consistent copy of a running machine).
 */
MS_API int ms_ram_save(ms_ctx *ctx, int fd);

/**
 * ms_ram_load - read a stream from @fd into @ctx's blocks.
 * Return: 0; -EINVAL for bad arguments; -EBADMSG for a corrupted stream
 * (bad magic, version, checksum, record); -ENODATA for a truncated one;
 * -ENOENT when a block of the stream is missing in @ctx, or a migratable
 * block of @ctx is not in the stream; -ERANGE when a block's size or page
 * size differ; -ENOTUNIQ as ms_ram_save(); -ENOMEM; a negative errno from
 * read(). On any error @ctx is unchanged.
 * Context: any thread; nothing else should write @ctx's RAM meanwhile.
 */
MS_API int ms_ram_load(ms_ctx *ctx, int fd);

/** struct ms_precopy - an outgoing iterative migration (opaque). */
typedef struct ms_precopy ms_precopy;

/**
 * struct ms_precopy_stats - progress of a pre-copy.
 * @rounds: rounds sent so far (the first, full one included).
 * @pages_sent: pages written to the stream, every round together.
 * @bytes_sent: bytes written to the stream (headers and checksums too).
 * @dirty_pages: pages found dirty by the last round's snapshot (what the
 *               next round would send).
 */
typedef struct ms_precopy_stats {
	uint64_t rounds;
	uint64_t pages_sent;
	uint64_t bytes_sent;
	uint64_t dirty_pages;
} ms_precopy_stats;

/**
 * ms_precopy_start - begin migrating @ctx's RAM to @fd.
 * @out: receives the migration.
 *
 * Writes the stream header and turns global dirty logging on (the
 * MIGRATION client then logs every block). Nothing is sent yet.
 * Return: 0; -EINVAL; -ENOTUNIQ; -EBUSY when a listener refused global
 * logging or a pre-copy of @ctx is already running; a negative errno from
 * write(); -ENOMEM.
 * Context: any thread; takes the topology lock.
 */
MS_API int ms_precopy_start(ms_precopy **out, ms_ctx *ctx, int fd);

/**
 * ms_precopy_iterate - send one round while the machine keeps running.
 *
 * The first round sends every page; each later round syncs the listeners
 * (log_sync), takes and clears the MIGRATION bits of every block and sends
 * the pages that were dirty. Writers may run concurrently.
 * Return: 0; a negative errno from write() (the migration is then failed:
 * only ms_precopy_free() is allowed).
 * Context: the thread that owns @m.
 */
MS_API int ms_precopy_iterate(ms_precopy *m, ms_precopy_stats *stats);

/**
 * ms_precopy_complete - the final round: the caller has stopped every
 * writer; sends what is still dirty and the end record, and turns global
 * dirty logging off. The stream on @fd is then complete.
 * Return: 0 or a negative errno from write().
 */
MS_API int ms_precopy_complete(ms_precopy *m, ms_precopy_stats *stats);

/**
 * ms_precopy_free - end the migration (complete or not) and free it; turns
 * global dirty logging off if still on. NULL: no-op.
 */
MS_API void ms_precopy_free(ms_precopy *m);

#ifdef __cplusplus
}
#endif

#endif /* MEMSPACE_MIGRATE_H */
