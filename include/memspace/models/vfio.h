/*
 * memspace models: a VFIO-like container, the consumer of IOMMU notifiers.
 *
 * What Linux's VFIO type1 / sPAPR TCE v2 containers and QEMU's
 * hw/vfio/container do for a device assigned to a guest: keep a shadow of
 * the guest's IOMMU mappings, iova -> host pointer, with every mapped page
 * pinned, so that the device (here ms_vfio_dma_rw()) reaches guest RAM
 * without going through the guest's IOMMU at all.
 *
 * A container holds one group at a time: the DMA address space of a
 * device (ms_vfio_attach()). It follows that address space with a
 * listener; for every IOMMU range of its view (a TCE window, say) it
 * registers a MAP|UNMAP notifier and replays the IOMMU, and it drops the
 * window when the range goes away. Each MAP event pins its pages with
 * ms_as_map() on the IOMMU's target address space and keeps the host
 * pointers; each UNMAP releases them with ms_as_unmap(). Since the device
 * reaches RAM behind the library's back, the container marks dirty pages
 * itself with ms_region_set_dirty() (dirty.h): the bytes ms_vfio_dma_rw()
 * writes, and every page of a writable mapping when it is released ("dirty
 * on release": the device may have written it at any time). Only RAM can be shadowed: a MAP whose
 * target is anything else (MMIO, a RAM device, a ROM device outside romd
 * mode, a write mapping of ROM, a page that is not one RAM region) is
 * refused with -EFAULT returned to the notifier, and the container keeps
 * its state as before the event.
 *
 * Invariant (ms_vfio_check()): the shadow of every window equals a fresh
 * replay of its IOMMU.
 *
 * Locking: attach, detach and free take the topology lock and run the
 * listener and notifier callbacks in the calling thread; the callbacks
 * run whenever the group's view or an IOMMU changes, in the thread making
 * the change. ms_vfio_dma_rw() and ms_vfio_get_info() may run on any
 * thread at any time (a mutex of the container orders them with the
 * callbacks); they must not be called from the container's own callbacks'
 * context, which never happens to a device model using the public calls.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_MODELS_VFIO_H
#define MEMSPACE_MODELS_VFIO_H

#include <stddef.h>
#include <stdint.h>

#include "../types.h"

#ifdef __cplusplus
extern "C" {
#endif

/** MS_VFIO_MAX_WINDOWS - IOMMU ranges one container shadows at once. */
#define MS_VFIO_MAX_WINDOWS 8u

/**
 * MS_VFIO_MAX_PAGES - the most pages (of the IOMMU's minimum page size) one
 * shadowed window may span; the shadow keeps one slot per page. A larger
 * IOMMU range is not shadowed (ms_vfio_last_error() says -E2BIG).
 */
#define MS_VFIO_MAX_PAGES ((uint64_t)1 << 22)

/** struct ms_vfio_container - a container (opaque). */
typedef struct ms_vfio_container ms_vfio_container;

/**
 * struct ms_vfio_window - one DMA window as the container sees it.
 * @iova_start: first bus address (an address of the group's space).
 * @iova_last: last bus address (inclusive).
 * @page_size: the IOMMU's minimum page size, the shadow's granule.
 * @nr_mapped: pages of the window shadowed now.
 */
typedef struct ms_vfio_window {
	uint64_t iova_start;
	uint64_t iova_last;
	uint64_t page_size;
	uint64_t nr_mapped;
} ms_vfio_window;

/**
 * struct ms_vfio_info - what VFIO_IOMMU_GET_INFO (and the sPAPR
 * VFIO_IOMMU_SPAPR_TCE_GET_INFO) would say.
 * @nr_windows: valid entries of @windows, in bus address order.
 * @windows: the shadowed windows.
 * @page_sizes: supported page sizes, bit k for 2^k bytes: what each
 *              window's IOMMU answers to MS_TCE_ATTR_TABLE_INFO (its
 *              supported sizes), or else its minimum page size.
 */
typedef struct ms_vfio_info {
	unsigned nr_windows;
	ms_vfio_window windows[MS_VFIO_MAX_WINDOWS];
	uint64_t page_sizes;
} ms_vfio_info;

/**
 * ms_vfio_container_new - create an empty container.
 * @out: receives the container (NULL on error).
 * @ctx: the context of the groups it will hold.
 * Return: 0; -EINVAL for a NULL argument; -ENOMEM.
 * Context: any thread.
 */
MS_API int ms_vfio_container_new(ms_vfio_container **out, ms_ctx *ctx);

/**
 * ms_vfio_container_free - detach the group, if any (every mapping is
 * released and every pin dropped), and free the container.
 * @c: the container, or NULL (no-op).
 * Context: any thread but the container's callbacks; takes the topology lock.
 */
MS_API void ms_vfio_container_free(ms_vfio_container *c);

/**
 * ms_vfio_attach - attach a group: shadow the IOMMUs of @group.
 * @c: the container.
 * @group: the device's DMA address space; must outlive the attachment.
 *
 * Every IOMMU range of @group's view is replayed into the shadow; a later
 * change of the view (a window created or removed) is followed.
 * Return: 0; -EINVAL for a NULL argument or a group of another context;
 * -EBUSY when a group is attached already; -ENOMEM; -EFAULT when a
 * current mapping cannot be shadowed, or the error of the first window that
 * cannot be shadowed (-ENOSPC beyond MS_VFIO_MAX_WINDOWS, -E2BIG beyond
 * MS_VFIO_MAX_PAGES, -EINVAL for a window not aligned to its pages). On
 * error nothing stays attached, mapped or pinned.
 * Context: any thread; takes the topology lock.
 */
MS_API int ms_vfio_attach(ms_vfio_container *c, ms_as *group);

/**
 * ms_vfio_detach - release every mapping and pin of @group and stop
 * following it.
 * Return: 0; -EINVAL for a NULL @c; -ENOENT when @group is not the
 * attached group.
 * Context: any thread; takes the topology lock.
 */
MS_API int ms_vfio_detach(ms_vfio_container *c, ms_as *group);

/**
 * ms_vfio_get_info - the windows and the supported page sizes.
 * @out: receives the description (cleared first; empty when detached).
 * @c: the container.
 * Return: 0; -EINVAL for a NULL argument.
 * Context: any thread.
 */
MS_API int ms_vfio_get_info(ms_vfio_info *out, ms_vfio_container *c);

/**
 * ms_vfio_dma_rw - a device access through the shadow only.
 * @c: the container.
 * @iova: first bus address.
 * @buf: @len bytes to write, or to fill.
 * @len: bytes; 0 does nothing.
 * @is_write: the device writes guest memory (otherwise it reads).
 *
 * Every page the access touches must be shadowed with the needed
 * permission; the bytes are then copied from or to the pinned host memory
 * (no device callback, no IOMMU translation).
 * Return: 0; -EINVAL for a NULL argument; -EFAULT when a byte is not
 * mapped; -EACCES when a mapping lacks the permission. Nothing is copied
 * on error.
 * Context: any thread.
 */
MS_API int ms_vfio_dma_rw(ms_vfio_container *c, uint64_t iova, void *buf, size_t len,
			  bool is_write);

/**
 * ms_vfio_nr_mapped - pages shadowed (and pinned) now, over every window.
 * Context: any thread.
 */
MS_API uint64_t ms_vfio_nr_mapped(ms_vfio_container *c);

/**
 * ms_vfio_dirty_bytes - bytes of writable mappings released so far; each
 * released page was marked dirty with ms_region_set_dirty() for the
 * clients logging its region (the "dirty on release" rule). Bytes written
 * by ms_vfio_dma_rw() are marked as they are written and not counted here.
 * Context: any thread.
 */
MS_API uint64_t ms_vfio_dirty_bytes(ms_vfio_container *c);

/**
 * ms_vfio_last_error - the last error the container met in a callback (a
 * refused MAP, a window it could not shadow), or 0; attach clears it.
 * Context: any thread.
 */
MS_API int ms_vfio_last_error(ms_vfio_container *c);

/**
 * ms_vfio_check - verify the invariant: each window's shadow equals a
 * fresh replay of its IOMMU (same pages, targets and permissions).
 * Return: 0; -EIO when they differ; -EINVAL for a NULL @c; the error of
 * the replay.
 * Context: any thread, with no change of the group's view or IOMMUs
 * running meanwhile; takes the topology lock.
 */
MS_API int ms_vfio_check(ms_vfio_container *c);

#ifdef __cplusplus
}
#endif

#endif /* MEMSPACE_MODELS_VFIO_H */
