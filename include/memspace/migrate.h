/*
 * memspace: saving and restoring RAM, with iterative dirty pre-copy.
 *
 * The RAM stream carries the contents of every migratable RAM block of a
 * context (every region with memory not created with
 * MS_RAM_NOT_MIGRATABLE; RAM devices, layout-only regions and memory
 * mapped read-only with MS_RAM_READONLY, whose contents are their file's,
 * are never in it), identified by name, size (the used length of
 * resizeable RAM) and backend page size, so the destination must have the
 * same blocks (created the same way, resized to the same length) before it
 * loads. Block names must be unique among a context's migratable blocks.
 *
 * The stream is a header listing the blocks, then chunks of pages, each
 * with a CRC-32 of its header and data, then an end record with the count
 * of chunks and a CRC-32 of the whole stream. A page may be sent several
 * times (pre-copy rounds): the last copy wins. Every page of every block
 * is sent at least once. The format is described in docs/migration.md.
 * Each chunk is copied out of guest memory before it is checksummed, so a
 * write racing with the copy cannot make a record disagree with its CRC.
 *
 * Loading is all or nothing: the stream is read into staging memory and
 * checked to the end before anything of the destination is written. A
 * truncated or corrupted stream, a block missing on either side or of
 * another size or page size gives an error and leaves the destination
 * unchanged. Loaded pages are marked dirty as written. The loader reads
 * exactly up to the end record, so a stream may be followed by other data
 * on the same fd.
 *
 * Writing to a pipe or socket whose reader is gone raises SIGPIPE unless
 * the caller ignores it (then the call fails with -EPIPE): the library
 * never changes signal dispositions.
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
 * @ctx: the context whose RAM is saved.
 * @fd: a file or pipe open for writing (written sequentially).
 * Return: 0; -EINVAL for bad arguments (NULL, a negative fd, a block name
 * longer than 65535 bytes); -ENOTUNIQ when two migratable blocks share a
 * name (nothing written); -ENOMEM; a negative errno from write() (-EBADF,
 * -EPIPE, -ENOSPC, ...; part of the stream may have been written).
 * Context: any thread; the contents are read while other threads may
 * still write (use pre-copy for a consistent copy of a running machine).
 */
MS_API int ms_ram_save(ms_ctx *ctx, int fd);

/**
 * ms_ram_load - read a stream from @fd into @ctx's blocks.
 * Return: 0; -EINVAL for bad arguments; -EBADMSG for a corrupted stream
 * (bad magic, version, checksum, record, a record past its block, a page
 * never sent, a chunk count that disagrees); -ENODATA for a truncated one;
 * -ENOENT when a block of the stream is missing in @ctx, or a migratable
 * block of @ctx is not in the stream; -ERANGE when a block's size or page
 * size differ (also when a block was resized while the stream was read);
 * -ENOTUNIQ when two migratable blocks of @ctx share a name; -ENOMEM; a
 * negative errno from read(). On any error @ctx is unchanged.
 * Context: any thread; nothing else should write @ctx's RAM meanwhile. The
 * stream is staged in anonymous memory as large as the blocks it fills
 * (reserved without commitment: only the pages received are touched); the
 * copy into the blocks runs with the topology lock held.
 */
MS_API int ms_ram_load(ms_ctx *ctx, int fd);

/** struct ms_precopy - an outgoing iterative migration (opaque). */
typedef struct ms_precopy ms_precopy;

/**
 * struct ms_precopy_stats - progress of a pre-copy.
 * @rounds: rounds sent so far (the first, full one included).
 * @pages_sent: pages written to the stream, every round together.
 * @bytes_sent: bytes written to the stream (headers and checksums too).
 * @dirty_pages: pages dirty when the last round ended, written while it
 *               ran: what the next round will send, at least (its own
 *               listener sync may find more).
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
 * @ctx: the context whose RAM is migrated.
 * @fd: a file or pipe open for writing (written sequentially).
 *
 * Writes the stream header and turns global dirty logging on (the
 * MIGRATION client then logs every block), unless it was on already: it is
 * then left on at the end. Nothing is sent yet. The blocks are fixed now:
 * blocks created later are not in the stream, blocks deleted meanwhile
 * stay alive (referenced) until ms_precopy_free(). Nobody else should turn
 * global logging off or take the MIGRATION bits while it runs.
 * Return: 0; -EINVAL for NULL arguments or a negative fd; -ENOTUNIQ;
 * -EBUSY when a listener refused global logging or a pre-copy of @ctx is
 * already running; a negative errno from write(); -ENOMEM. On failure
 * *@out is NULL and logging is as it was.
 * Context: any thread; takes the topology lock.
 */
MS_API int ms_precopy_start(ms_precopy **out, ms_ctx *ctx, int fd);

/**
 * ms_precopy_iterate - send one round while the machine keeps running.
 * @m: the migration.
 *
 * The first round clears the MIGRATION bits of each block, then sends all
 * its pages; each later round syncs the listeners of every address space
 * (log_sync), takes and clears the MIGRATION bits of every block and sends
 * the pages that were dirty, runs of them in one chunk. Each round starts
 * with a round marker. Writers may run concurrently: a write that races
 * with a round is sent again by a later one.
 * @stats: NULL, or receives the totals so far.
 * Return: 0; -EINVAL for NULL or a completed migration; -ERANGE when a
 * block was resized since the start; -ENOMEM; a negative errno from
 * write(). After an error the migration is failed: every later call
 * returns the same error and only ms_precopy_free() is useful.
 * Context: the thread that owns @m (one call at a time).
 */
MS_API int ms_precopy_iterate(ms_precopy *m, ms_precopy_stats *stats);

/**
 * ms_precopy_complete - the final round: the caller has stopped every
 * writer; sends what is still dirty (its size is the downtime: the
 * difference in @stats from the last iterate) and the end record, and
 * turns global dirty logging off (when start turned it on). The stream on
 * @fd is then complete; only ms_precopy_free() may follow.
 * Return: 0; the errors of ms_precopy_iterate().
 */
MS_API int ms_precopy_complete(ms_precopy *m, ms_precopy_stats *stats);

/**
 * ms_precopy_free - end the migration (complete or not) and free it; turns
 * global dirty logging off if ms_precopy_start() turned it on and it is
 * still on, and drops the references on the blocks. NULL: no-op. Free a
 * migration before its context.
 */
MS_API void ms_precopy_free(ms_precopy *m);

#ifdef __cplusplus
}
#endif

#endif /* MEMSPACE_MIGRATE_H */
