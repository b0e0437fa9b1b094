/*
 * memspace: a vfio-user client - a device emulated in another process,
 * reached over a UNIX socket with the vfio-user protocol (version 0.1).
 *
 * ms_vfio_user_connect() connects and negotiates the version; the device's
 * regions then become memspace regions (ms_vfio_user_region()): accesses
 * are REGION_READ / REGION_WRITE messages, except in the areas the server
 * lets the client mmap, which are RAM-device subregions over the mapping
 * (accesses skip the socket). Guest memory is made visible to the device
 * with ms_vfio_user_dma_map(): RAM with a shareable backend (memfd, shared
 * file or fd: backend.h) is passed by file descriptor and the server
 * accesses it directly; any other range is served through the server's
 * DMA_READ / DMA_WRITE messages, answered by accesses on the address space
 * given at connection (opts.dma_as).
 *
 * Concurrency: any number of threads may issue requests; they go out one at
 * a time (a server handling one may send DMA requests and expect their
 * replies before any other command), and each waits at most opts.timeout_ms
 * in all. The thread that made a request reads the server's messages until
 * its reply comes; between requests a receive thread of the connection
 * does. DMA_READ / DMA_WRITE requests are served by whichever of the two
 * reads them, so a server may issue them at any time, including while it
 * handles one of our requests. An access made while serving them to a
 * vfio-user region of the same connection (device-to-device DMA through
 * this client) is refused with MS_RESULT_ERROR rather than deadlocking.
 *
 * Failure: a server that closes the socket, sends a malformed message or
 * does not answer in time makes the connection dead: every later request
 * returns -ECONNRESET (accesses MS_RESULT_ERROR); nothing hangs and the
 * rest of the machine keeps working. Mapped areas stay mapped (the memory
 * remains valid) until ms_vfio_user_close().
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_VFIO_USER_H
#define MEMSPACE_VFIO_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "as.h"
#include "ctx.h"
#include "iommu.h"
#include "region.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/** struct ms_vfio_user - one connection to a vfio-user server (opaque). */
typedef struct ms_vfio_user ms_vfio_user;

/** MS_VFIO_USER_PCI_BAR0 - region index of a PCI device's BAR 0 (BARs 0-5 follow). */
#define MS_VFIO_USER_PCI_BAR0 0u
/** MS_VFIO_USER_PCI_ROM - region index of a PCI device's expansion ROM. */
#define MS_VFIO_USER_PCI_ROM 6u
/** MS_VFIO_USER_PCI_CONFIG - region index of a PCI device's config space. */
#define MS_VFIO_USER_PCI_CONFIG 7u

/** MS_VFIO_USER_REGION_READ - region flag: the region can be read. */
#define MS_VFIO_USER_REGION_READ 0x1u
/** MS_VFIO_USER_REGION_WRITE - region flag: the region can be written. */
#define MS_VFIO_USER_REGION_WRITE 0x2u
/** MS_VFIO_USER_REGION_MMAP - region flag: the region (or areas of it) can be mmapped. */
#define MS_VFIO_USER_REGION_MMAP 0x4u

/* At most this many mmappable areas per region are kept. */
#define MS_VFIO_USER_MAX_AREAS 16u

/**
 * struct ms_vfio_user_opts - how to connect (ms_vfio_user_connect()).
 * @socket: path of the server's UNIX socket.
 * @dma_as: the address space the device's DMA_READ / DMA_WRITE requests are
 *          served from; NULL refuses them (the server sees an error).
 * @timeout_ms: bound on the connection and on every wait for a reply; 0
 *              means 5000.
 *
 * Later versions may append fields: zero-initialise the struct.
 */
typedef struct ms_vfio_user_opts {
	const char *socket;
	ms_as *dma_as;
	unsigned timeout_ms;
} ms_vfio_user_opts;

/**
 * struct ms_vfio_user_info - what version negotiation and DEVICE_GET_INFO
 * said (ms_vfio_user_get_info()).
 * @major: the server's protocol major version (always 0).
 * @minor: the server's protocol minor version.
 * @max_msg_fds: fds the server accepts in one message.
 * @max_data_xfer_size: bytes of data in one REGION/DMA read or write.
 * @migration: the server offered the migration capability;
 * @migration_pgsize: its page size (0 when not given).
 * @flags: the device's flags (VFIO_DEVICE_FLAGS_*: 0x2 is PCI).
 * @num_regions: how many region indexes the device has.
 * @num_irqs: how many IRQ indexes the device has.
 */
typedef struct ms_vfio_user_info {
	uint16_t major;
	uint16_t minor;
	uint64_t max_msg_fds;
	uint64_t max_data_xfer_size;
	bool migration;
	uint64_t migration_pgsize;
	uint32_t flags;
	uint32_t num_regions;
	uint32_t num_irqs;
} ms_vfio_user_info;

/**
 * struct ms_vfio_user_region_info - one region (ms_vfio_user_get_region_info()).
 * @size: in bytes (0: the region does not exist).
 * @flags: MS_VFIO_USER_REGION_*.
 * @mmappable: the server passed a file descriptor the client may map;
 * @nr_areas: how many entries of @areas are used.
 * @areas: the mmappable areas (offset and size inside the region): from the
 *          sparse-mmap capability, or the whole region.
 */
typedef struct ms_vfio_user_region_info {
	uint64_t size;
	uint32_t flags;
	bool mmappable;
	uint32_t nr_areas;
	struct {
		uint64_t offset;
		uint64_t size;
	} areas[MS_VFIO_USER_MAX_AREAS]; /**< the mmappable areas (nr_areas of them) */
} ms_vfio_user_region_info;

/**
 * ms_vfio_user_connect - connect to a vfio-user server and negotiate.
 * @out: receives the connection, NULL on failure.
 * @ctx: the context the device's regions will belong to.
 * @opts: see struct ms_vfio_user_opts (copied).
 *
 * Sends VERSION (0.1, with our capabilities) and DEVICE_GET_INFO.
 * Return: 0; -EINVAL a NULL argument or socket path, or a path too long for
 * a UNIX socket; -ENOENT / -ECONNREFUSED and other connect() errors; -EPROTO
 * the server speaks another major version or its reply is malformed;
 * -ETIMEDOUT no reply within the timeout; -ECONNRESET the server closed the
 * connection; -ENOMEM.
 * Context: any thread.
 */
MS_API int ms_vfio_user_connect(ms_vfio_user **out, ms_ctx *ctx, const ms_vfio_user_opts *opts);

/**
 * ms_vfio_user_close - disconnect and free @dev (NULL is a no-op).
 *
 * Removes every DMA mapping still registered (best effort: the server may be
 * gone), stops the receive thread and unmaps the mmapped areas. Regions made
 * by ms_vfio_user_region() use @dev as their device: remove them from their
 * containers and drop every reference before closing (as for the memory of
 * a RAM device).
 * Context: any thread but one serving the device's DMA.
 */
MS_API void ms_vfio_user_close(ms_vfio_user *dev);

/**
 * ms_vfio_user_disconnect - end the connection, keep @dev for its regions.
 * @dev: the connection.
 *
 * Does the first half of ms_vfio_user_close(): unregisters the IOMMU
 * notifier, stops the interrupt thread, removes the DMA mappings (best
 * effort), shuts the socket down (the server sees the client leave) and
 * stops the receive thread. @dev stays valid: its regions may still be in
 * the machine and be accessed, as on a dead connection (MS_RESULT_ERROR,
 * reads return 0, the mmapped areas keep their memory), every request
 * fails with -ECONNRESET, and ms_vfio_user_close() frees it once the
 * regions are gone. Calling it again does nothing more.
 * Return: 0; -EINVAL a NULL @dev.
 * Context: any thread but one serving the device's DMA and the interrupt callback;
 * other threads may access the device's regions meanwhile.
 */
MS_API int ms_vfio_user_disconnect(ms_vfio_user *dev);

/**
 * ms_vfio_user_get_info - the negotiated capabilities and the device's info.
 * Return: 0; -EINVAL a NULL argument.
 * Context: any thread.
 */
MS_API int ms_vfio_user_get_info(ms_vfio_user *dev, ms_vfio_user_info *info);

/**
 * ms_vfio_user_get_region_info - DEVICE_GET_REGION_INFO for region @index.
 * Return: 0; -EINVAL a NULL argument or @index >= num_regions; -EPROTO a
 * malformed reply; the server's error (negative) when it refuses;
 * -ETIMEDOUT, -ECONNRESET (see the top of this file).
 * Context: any thread but one serving the device's DMA.
 */
MS_API int ms_vfio_user_get_region_info(ms_vfio_user *dev, uint32_t index,
					ms_vfio_user_region_info *info);

/**
 * ms_vfio_user_get_irq_info - DEVICE_GET_IRQ_INFO for IRQ index @index.
 * @dev: the connection.
 * @index: the IRQ index (MS_VFIO_USER_IRQ_*).
 * @count: receives how many interrupts the index has.
 * @flags: receives the index's VFIO_IRQ_INFO_* flags (may be NULL).
 * Return: as ms_vfio_user_get_region_info().
 * Context: any thread but one serving the device's DMA.
 */
MS_API int ms_vfio_user_get_irq_info(ms_vfio_user *dev, uint32_t index, uint32_t *count,
				     uint32_t *flags);

/**
 * ms_vfio_user_region_rw - one REGION_READ or REGION_WRITE of @len bytes
 * at @offset of region @index (PCI config space is region 7). @len is at
 * most max_data_xfer_size.
 * Return: 0; -EINVAL a NULL argument, @len 0 or too large, a range outside
 * the region; the server's error (negative) when it refuses; -EPROTO,
 * -ETIMEDOUT, -ECONNRESET.
 * Context: any thread but one serving the device's DMA.
 */
MS_API int ms_vfio_user_region_rw(ms_vfio_user *dev, uint32_t index, uint64_t offset, void *buf,
				  size_t len, bool is_write);

/**
 * ms_vfio_user_region - a memspace region for device region @index.
 * @dev: the connection.
 * @index: the device's region index (MS_VFIO_USER_PCI_BAR0 and on).
 * @name: the name of the new container (copied).
 * @out: receives a new container (one reference, the caller's) named
 *       @name of the region's size: an I/O region whose accesses are
 *       messages, with a RAM-device subregion over each mmappable area
 *       (priority 1) when the server passed a file descriptor.
 *
 * Accesses of 1, 2, 4 and 8 bytes go out as one message each; a failed
 * message gives MS_RESULT_ERROR (reads return 0).
 * Return: 0; -EINVAL a NULL argument, an index without a region (size 0);
 * -ENOMEM; errors of ms_vfio_user_get_region_info() and of mmap().
 * Context: any thread but one serving the device's DMA.
 */
MS_API int ms_vfio_user_region(ms_region **out, ms_vfio_user *dev, uint32_t index,
			       const char *name);

/**
 * ms_vfio_user_dma_map - DMA_MAP: let the device reach [@iova, @iova+@size).
 * @dev: the connection.
 * @iova: the first device address of the range.
 * @size: its length in bytes.
 * @offset: where the range starts in @ram's memory.
 * @ram: the RAM region holding the memory, from @offset; or NULL.
 * @writable: the device may write (else read only).
 *
 * When @ram has a shared backend with a file descriptor (memfd, shared
 * file or fd), the fd is passed and the server maps it; otherwise (@ram
 * NULL, anonymous or private RAM) the server reaches the range with
 * DMA_READ / DMA_WRITE messages, served from opts.dma_as at the same
 * addresses. Ranges may not overlap a mapped one.
 * Return: 0; -EINVAL a NULL @dev, @size 0, a range that wraps, or @offset +
 * @size beyond @ram; -EEXIST the range overlaps a mapping; -ENOMEM; the
 * server's error; -EPROTO, -ETIMEDOUT, -ECONNRESET.
 * Context: any thread but one serving the device's DMA.
 */
MS_API int ms_vfio_user_dma_map(ms_vfio_user *dev, uint64_t iova, uint64_t size, ms_region *ram,
				uint64_t offset, bool writable);

/**
 * ms_vfio_user_dma_unmap - DMA_UNMAP of a range mapped whole before.
 * When it returns 0 the server no longer uses the range.
 * Return: 0; -EINVAL a NULL @dev; -ENOENT no mapping is exactly
 * [@iova, @iova+@size) (nothing changes); the server's error; -EPROTO,
 * -ETIMEDOUT, -ECONNRESET (the mapping is forgotten locally either way:
 * the server is gone or does not answer).
 * Context: any thread but one serving the device's DMA.
 */
MS_API int ms_vfio_user_dma_unmap(ms_vfio_user *dev, uint64_t iova, uint64_t size);

/**
 * ms_vfio_user_attach_iommu - let an IOMMU decide what the device reaches.
 * @dev: the connection.
 * @iommu: the IOMMU region in front of the device (iommu.h).
 * @iommu_idx: the translation index followed.
 *
 * Registers a notifier on @iommu and replays its current mappings: every
 * MAP event becomes a DMA_MAP of the IOVA page (by fd when the page lies in
 * one shared RAM region, else served by messages from opts.dma_as, which
 * should then be the device's view through @iommu); every UNMAP event a
 * DMA_UNMAP of the mappings it touches, acknowledged by the server before
 * the notifier returns (so when ms_iommu_notify() returns, the device can
 * no longer reach the page). A mapping the event covers only in part (a
 * page out of a larger block) is unmapped whole, then what lies outside
 * the event is mapped again, so the device keeps reaching it (not during
 * the notifier). The notifier runs under the topology lock and
 * waits for the server: a server that answers slowly holds topology changes
 * up to the timeout. Mappings made with ms_vfio_user_dma_map() are left
 * alone. ms_vfio_user_close() unregisters the notifier.
 * Return: 0; -EINVAL a NULL argument or a bad region or index; -EBUSY an
 * IOMMU is attached already; -ECONNRESET (or why it died) the connection
 * is dead or disconnected; the errors of ms_iommu_register_notifier(),
 * ms_iommu_replay() and of DMA_MAP (the mappings replayed before a failure
 * are removed again).
 * Context: any thread but one serving the device's DMA; takes the topology lock.
 */
MS_API int ms_vfio_user_attach_iommu(ms_vfio_user *dev, ms_region *iommu, unsigned iommu_idx);

/** MS_VFIO_USER_IRQ_INTX - IRQ index of a PCI device's legacy interrupt (as in VFIO). */
#define MS_VFIO_USER_IRQ_INTX 0u
/** MS_VFIO_USER_IRQ_MSI - IRQ index of a PCI device's MSI vectors. */
#define MS_VFIO_USER_IRQ_MSI 1u
/** MS_VFIO_USER_IRQ_MSIX - IRQ index of a PCI device's MSI-X vectors. */
#define MS_VFIO_USER_IRQ_MSIX 2u

/**
 * typedef ms_vfio_user_irq_fn - an interrupt of the device.
 * @index: the IRQ index (MS_VFIO_USER_IRQ_*).
 * @vector: the vector in it.
 * @opaque: what ms_vfio_user_set_irqs() was given.
 * Runs on the connection's interrupt thread, one call at a time; triggers
 * that come before the callback ran are merged into one call.
 */
typedef void (*ms_vfio_user_irq_fn)(uint32_t index, uint32_t vector, void *opaque);

/**
 * ms_vfio_user_set_irqs - route interrupts to a callback (SET_IRQS).
 * @dev: the connection.
 * @index: the IRQ index.
 * @start: the first vector.
 * @count: how many vectors from @start.
 * @fn: called on each interrupt; NULL disables the whole index.
 * @opaque: passed to @fn.
 *
 * One eventfd per vector is handed to the server, which signals it; the
 * interrupt thread (started on first use) reads them and calls @fn. When
 * this returns, vectors routed before (in the range, or the whole index
 * when disabling) no longer call their old callback.
 * Return: 0; -EINVAL a NULL @dev, @count 0 with @fn, vectors beyond the
 * index's count, an index the device does not have; -E2BIG more vectors
 * than one message may carry fds for (the smaller of 8 and the server's
 * max_msg_fds: route them in several calls); the server's error; -ENOMEM,
 * -EMFILE; -EPROTO, -ETIMEDOUT, -ECONNRESET.
 * Context: any thread but one serving the device's DMA; may be called from @fn.
 */
MS_API int ms_vfio_user_set_irqs(ms_vfio_user *dev, uint32_t index, uint32_t start, uint32_t count,
				 ms_vfio_user_irq_fn fn, void *opaque);

/**
 * ms_vfio_user_mask_irqs - mask or unmask interrupts (SET_IRQS ACTION_MASK
 * / ACTION_UNMASK).
 * @dev: the connection.
 * @index: the IRQ index (MS_VFIO_USER_IRQ_*).
 * @start: the first vector.
 * @count: how many vectors from @start (at least one).
 * @mask: true to mask, false to unmask.
 *
 * A masked vector does not signal its eventfd: the device holds the
 * interrupt pending and raises it when it is unmasked (what a device does
 * while masked is its own: libvfio-user passes the request to the device's
 * IRQ-state callback). The routing of ms_vfio_user_set_irqs() is unchanged.
 * Return: 0; -EINVAL a NULL @dev, @count 0, vectors beyond the index's
 * count, an index the device does not have; the server's error (for
 * example an index that cannot be masked); -EPROTO, -ETIMEDOUT,
 * -ECONNRESET.
 * Context: any thread but one serving the device's DMA; may be called from
 * the interrupt callback.
 */
MS_API int ms_vfio_user_mask_irqs(ms_vfio_user *dev, uint32_t index, uint32_t start, uint32_t count,
				  bool mask);

/**
 * ms_vfio_user_reset - DEVICE_RESET.
 * Return: 0; -EINVAL a NULL @dev; the server's error; -EPROTO, -ETIMEDOUT,
 * -ECONNRESET.
 * Context: any thread but one serving the device's DMA.
 */
MS_API int ms_vfio_user_reset(ms_vfio_user *dev);

#ifdef __cplusplus
}
#endif

#endif /* MEMSPACE_VFIO_USER_H */
