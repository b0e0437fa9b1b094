/*
 * memspace: RAM backends, resizeable RAM, sharing RAM with another process
 * and remapping guest RAM into one contiguous host range.
 *
 * Every RAM-backed region (RAM, ROM, ROM device, RAM device, RAM at a
 * caller's pointer) has a backend: where its host memory comes from.
 * ms_region_new_ram() and ms_region_new_rom() use anonymous private memory;
 * ms_region_new_ram_with() chooses:
 *
 *   MS_RAM_ANON    anonymous memory, private, zeroed, committed lazily;
 *   MS_RAM_MEMFD   a memfd, always shared: its fd can be handed to another
 *                  process (ms_ram_share_send()), which sees the same pages;
 *   MS_RAM_FILE    a file at @path, created when missing (unless readonly)
 *                  and grown to @offset + max size; shared or private;
 *   MS_RAM_FD      a file the caller opened (@fd, dup()ed: the caller keeps
 *                  its own), mapped from @offset; shared or private;
 *   MS_RAM_PTR     the caller's memory at @ptr (as ms_region_new_ram_ptr());
 *   MS_RAM_NONE    layout only: the region keeps its kind and size but has
 *                  no memory at all. Accesses to it fail with
 *                  MS_RESULT_ACCESS_ERROR, it cannot be mapped or cached,
 *                  and ms_region_ram_ptr() is NULL. The dump importer uses
 *                  it to load machines with more RAM than this host can map.
 *
 * Resizeable RAM (@max_size > @size): the host memory is reserved for the
 * maximum once and never moves; the region's size is the used length.
 * ms_region_ram_resize() changes the used length: views are re-rendered
 * and listeners told as for any size change, the new used range is marked
 * dirty for every client (its contents changed meaning), and the resize
 * callback runs after the commit.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_BACKEND_H
#define MEMSPACE_BACKEND_H

#include "as.h"
#include "region.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/** enum ms_ram_backend - where a RAM region's host memory comes from. */
typedef enum ms_ram_backend {
	MS_RAM_ANON = 0,
	MS_RAM_MEMFD,
	MS_RAM_FILE,
	MS_RAM_FD,
	MS_RAM_PTR,
	MS_RAM_NONE,
} ms_ram_backend;

/* ms_ram_opts.flags */
/** Map the file shared (MAP_SHARED); memfd RAM is always shared. */
#define MS_RAM_SHARED (1u << 0)
/** Map read-only (PROT_READ): the region is a ROM that even loaders and
 *  debug writes cannot change; for FILE, an existing file opened O_RDONLY. */
#define MS_RAM_READONLY (1u << 1)
/** Commit every page now (fallocate() for shared files, then populate the
 *  mapping); an impossible preallocation fails the creation (-ENOMEM,
 *  -ENOSPC, -EFBIG). */
#define MS_RAM_PREALLOC (1u << 2)
/** Skipped by the RAM stream (migrate.h): device memory, scratch. */
#define MS_RAM_NOT_MIGRATABLE (1u << 3)
/** Create a ROM (the region's readonly flag set; loaders fill it). */
#define MS_RAM_ROM (1u << 4)
#define MS_RAM_FLAGS_ALL 0x1fu /* every flag above; any other bit is -EINVAL */

/**
 * struct ms_ram_opts - what ms_region_new_ram_with() creates.
 * @name: the region's name (copied).
 * @size: the region's size, the used length; not 0.
 * @max_size: 0 for fixed-size RAM; else the most ms_region_ram_resize() may
 *            grow to (>= @size): the region is resizeable.
 * @backend: where the memory comes from.
 * @flags: MS_RAM_* flags.
 * @path: MS_RAM_FILE: the file.
 * @fd: MS_RAM_FD: an open file descriptor (duplicated).
 * @offset: MS_RAM_FILE, MS_RAM_FD: where the memory starts in the file; a
 *          multiple of the file's page size.
 * @ptr: MS_RAM_PTR: the caller's memory (@size bytes; must outlive the
 *       region); not allowed with @max_size.
 * @align: 0, or a power of two: the host address of the memory is a
 *         multiple of it (a 2 MiB alignment lets the host back guest RAM
 *         with huge pages). Not for MS_RAM_PTR or MS_RAM_NONE.
 * @resized: resizeable RAM: called after every resize that changed the size
 *           (topology lock not held; may change the topology).
 * @opaque: passed to @resized.
 */
typedef struct ms_ram_opts {
	const char *name;
	uint64_t size;
	uint64_t max_size;
	ms_ram_backend backend;
	unsigned int flags;
	const char *path;
	int fd;
	uint64_t offset;
	void *ptr;
	uint64_t align;
	void (*resized)(ms_region *r, uint64_t old_size, uint64_t new_size, void *opaque);
	void *opaque;
} ms_ram_opts;

/**
 * ms_region_new_ram_with - create a RAM (or ROM) region on a chosen backend.
 * @out: receives the region (NULL on failure).
 * @ctx: the context.
 * @opts: what to create (read during the call only).
 *
 * Return: 0; -EINVAL for NULL arguments, a size of 0, unknown flags, a
 * @max_size below @size, an @align that is not a power of two, an @offset
 * that is not page aligned, a missing @path/@fd/@ptr, or a combination the
 * backend does not take (@path but MS_RAM_FILE, @offset but MS_RAM_FILE or
 * MS_RAM_FD, @ptr but MS_RAM_PTR; MS_RAM_PTR with @max_size, @align or
 * flags other than MS_RAM_ROM and MS_RAM_NOT_MIGRATABLE; MS_RAM_NONE with
 * anything but @name, @size, @max_size and MS_RAM_ROM; MS_RAM_ANON with
 * MS_RAM_SHARED; MS_RAM_MEMFD with MS_RAM_READONLY); -ENOMEM when the
 * memory cannot be reserved (layout only has no size limit);
 * -ENOENT, -EACCES, -EBADF, -EFBIG, -ENOSPC and the like from the file
 * system. On failure nothing is created and no file is left behind that
 * was not there before.
 * Context: any thread; takes the topology lock.
 */
MS_API int ms_region_new_ram_with(ms_region **out, ms_ctx *ctx, const ms_ram_opts *opts);

/**
 * struct ms_ram_info - a RAM-backed region's backend.
 * @backend: where the memory comes from (RAM devices and regions made by
 *           ms_region_new_ram_ptr() report MS_RAM_PTR).
 * @fd: the backend's file descriptor (owned by the region: do not close;
 *      dup() it to keep it), or -1 when there is none (anonymous, pointer,
 *      layout only).
 * @fd_offset: where the memory starts in @fd's file.
 * @page_size: the backend's page size (the file system's block size for
 *             hugetlbfs files, else the host page size).
 * @shared: writes reach the file / other mappers (memfd, shared file/fd).
 * @readonly: mapped read-only (MS_RAM_READONLY).
 * @migratable: the RAM stream includes it (not MS_RAM_NOT_MIGRATABLE).
 * @resizeable: created resizeable (ms_region_ram_resize() may change @size).
 * @size: the used length (the region's size).
 * @max_size: the reserved length (== @size unless resizeable).
 * @host: the host address of the memory (NULL for layout only).
 * @align: the alignment that was asked for (0: the page size).
 */
typedef struct ms_ram_info {
	ms_ram_backend backend;
	int fd;
	uint64_t fd_offset;
	uint64_t page_size;
	bool shared;
	bool readonly;
	bool migratable;
	bool resizeable;
	uint64_t size;
	uint64_t max_size;
	void *host;
	uint64_t align;
} ms_ram_info;

/**
 * ms_region_ram_info - describe @r's backend.
 * Return: 0; -EINVAL when an argument is NULL or @r is not RAM-backed.
 * Context: any thread.
 */
MS_API int ms_region_ram_info(const ms_region *r, ms_ram_info *info);

/**
 * ms_region_ram_resize - change the used length of resizeable RAM.
 * @r: a region created with @max_size.
 * @new_size: 1 .. max_size.
 *
 * Shrinking discards the memory past the new size (it reads as zeros when
 * the region grows again). The region's size changes as with
 * ms_region_set_size() (views, listeners); then the new used range is marked
 * dirty for every client and the resize callback runs. A resize to the
 * current size does nothing.
 * Return: 0; -EINVAL for NULL, a region that is not resizeable or a size of
 * 0 or above the maximum; the errors of the implicit commit (nothing
 * changes then); -EBUSY inside a listener callback.
 * Context: any thread but not in a transaction (-EBUSY); takes the
 * topology lock.
 */
MS_API int ms_region_ram_resize(ms_region *r, uint64_t new_size);

/* ---- sharing with another process ---------------------------------------- */

/**
 * struct ms_ram_share - what ms_ram_share_recv() received.
 * @name: the sender's region name (NUL-terminated, at most 63 bytes).
 * @fd: the received file descriptor, owned by the caller (close() it, or
 *      pass it to ms_region_new_ram_with() as MS_RAM_FD, which dup()s it).
 * @offset: where the region's memory starts in @fd's file.
 * @size: the region's size.
 * @page_size: the sender's backend page size.
 * @readonly: the sender mapped it read-only.
 */
typedef struct ms_ram_share {
	char name[64];
	int fd;
	uint64_t offset;
	uint64_t size;
	uint64_t page_size;
	bool readonly;
} ms_ram_share;

/**
 * ms_ram_share_send - send a shared RAM region's fd over a UNIX socket.
 * @sock: a connected AF_UNIX socket (stream or seqpacket).
 * @r: a region whose backend is shared (memfd, or a shared file or fd).
 *
 * One message of 96 bytes: a fixed little-endian header (magic, version,
 * flags (readonly), offset, size, page size, name cut to 63 bytes) with the
 * fd attached (SCM_RIGHTS); docs/sharing.md has the table. The size is the
 * region's size now (the used length of resizeable RAM). The receiver maps
 * the same pages: writes on either side are seen by the other. Sent with
 * MSG_NOSIGNAL: a closed peer is -EPIPE, never SIGPIPE. @r keeps its fd;
 * the receiver gets its own.
 * Return: 0; -EINVAL for a negative @sock, a NULL @r or a region without
 * memory of its own (container, alias, I/O, IOMMU); -ENOTSUP for a region
 * whose memory is not shared (anonymous, private file, pointer, layout
 * only); a negative errno from sendmsg() (-EPIPE, -ENOTSOCK, ...); -EIO
 * when a stream socket took only part of the header.
 * Context: any thread; takes the topology lock briefly.
 */
MS_API int ms_ram_share_send(int sock, const ms_region *r);

/**
 * ms_ram_share_recv - receive what ms_ram_share_send() sent.
 * @sock: the other end of the socket.
 * @out: filled in; @out->fd is -1 (and the rest zero) on failure.
 *
 * The message is taken whole, in one recvmsg(), and everything in it is
 * checked: its exact length, the magic and version, no unknown flag bits,
 * exactly one fd attached and no truncated control data, a name that is
 * terminated (and zero after its end), a size that is not 0, a page size
 * that is a power of two dividing the offset, an offset and size whose sum
 * does not pass INT64_MAX, and an fd that is a regular file (or block
 * device) at least offset + size long. A message that fails a check is
 * consumed and every fd it carried is closed. On a stream socket a
 * malformed message may leave the stream out of step: close it then.
 * The received fd has FD_CLOEXEC set.
 * Return: 0; -EINVAL for a NULL @out or a negative @sock; -EPROTO for a
 * malformed message; -ECONNRESET when the peer closed the socket first (or,
 * on a seqpacket socket, sent an empty message); a negative errno from
 * recvmsg().
 * Context: any thread.
 */
MS_API int ms_ram_share_recv(int sock, ms_ram_share *out);

/* ---- remapping guest RAM into one host range ---------------------------- */

/** struct ms_ram_range - @len bytes of guest memory at @addr. */
typedef struct ms_ram_range {
	uint64_t addr; /* guest physical address of the first byte */
	uint64_t len;  /* length in bytes */
} ms_ram_range;

/** struct ms_remap - a contiguous host view of guest RAM ranges (opaque). */
typedef struct ms_remap ms_remap;

/**
 * ms_as_remap - map guest RAM ranges into one contiguous host range.
 * @out: receives the mapping (NULL on failure).
 * @as: the address space the addresses are in.
 * @ranges: the ranges, in the order they appear in the host range; each
 *          starts and ends on a host page boundary and may span several
 *          RAM regions of @as. Read during the call only.
 * @n: how many (at least 1).
 *
 * Each range is resolved in @as's current view. The host range shares its
 * pages with the regions: a write through either view is seen in the
 * other. Every byte of every range must be writable RAM (not ROM, not
 * readonly, not a ROM or RAM device, not I/O, not a hole, not an IOMMU
 * region) whose backend is shared (memfd, or a shared file or fd): a
 * private mapping cannot share its pages. Every piece must start at a
 * multiple of its backend's page size in the backend's file and be a
 * multiple of it long (an alias at an odd offset is refused).
 *
 * The regions stay referenced until ms_remap_free(), so they cannot
 * disappear under the host range, even when removed from the tree; a
 * topology change afterwards does not move the host range (it keeps
 * showing the memory it was made from). Free every remap before
 * ms_ctx_free(), which frees regions whatever their references.
 *
 * Writes through the host range are not seen by dirty logging (dirty.h):
 * the library does not make them. A caller that writes there marks what
 * it wrote with ms_region_set_dirty().
 * Return: 0; -EINVAL for a NULL argument, @n of 0, a range that is empty,
 * not page aligned or past 2^64, lengths whose sum overflows, or a piece
 * not aligned to its backend's page size; -EFAULT when a range touches
 * something that is not writable RAM (the first such byte decides);
 * -ENOTSUP when it touches RAM that is not shared; -ENOMEM (also when the
 * total length cannot be mapped); another negative errno from mmap().
 * On failure nothing is mapped and no reference is kept.
 * Context: any thread; not inside an RCU read-side section of the caller
 * (a failure drops region references).
 */
MS_API int ms_as_remap(ms_remap **out, ms_as *as, const ms_ram_range *ranges, size_t n);

/**
 * ms_remap_ptr - the start of the host range (page aligned).
 * @m: a mapping, or NULL.
 * Return: the host address, valid until ms_remap_free(@m); NULL for NULL.
 * Context: any thread.
 */
MS_API void *ms_remap_ptr(const ms_remap *m);

/**
 * ms_remap_len - the length of the host range: the sum of the ranges' lengths.
 * @m: a mapping, or NULL.
 * Return: the length in bytes; 0 for NULL.
 * Context: any thread.
 */
MS_API uint64_t ms_remap_len(const ms_remap *m);

/**
 * ms_remap_free - unmap the host range and drop the region references.
 * @m: the mapping, or NULL (no-op).
 *
 * A region whose last reference was the mapping's is freed here.
 * Context: any thread; not inside an RCU read-side section; before
 * ms_ctx_free() of the mapping's context.
 */
MS_API void ms_remap_free(ms_remap *m);

#ifdef __cplusplus
}
#endif

#endif /* MEMSPACE_BACKEND_H */
