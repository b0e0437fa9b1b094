/*
 * memspace: DMA map/unmap - host pointers onto guest memory.
 *
 * ms_as_map() hands a bus master a host pointer through which it can read
 * or write a stretch of an address space without one ms_as_read() /
 * ms_as_write() per piece: the zero-copy path of device DMA. Where the
 * address is RAM the pointer is the RAM itself. Anywhere else that answers
 * (a device, a ROM device outside romd mode, a RAM device, readonly memory
 * for a write) the pointer is a bounce buffer: a read mapping is filled with
 * ms_as_read() when it is made, a write mapping is written back with
 * ms_as_write() when ms_as_unmap() releases it. docs/map.md states every
 * rule with its QEMU counterpart (address_space_map()/_unmap()).
 *
 * Bounce buffers come from a per-address-space budget (QEMU has one 4 KiB
 * buffer per address space): several may be live at once, up to the budget
 * (ms_as_set_bounce_budget(), MS_BOUNCE_BUDGET_DEFAULT); a map that does not
 * fit is shortened to what is left, and fails when nothing is left. A bus
 * master whose map failed registers a map client (ms_as_register_map_client())
 * and is called back once budget has been given back.
 *
 * Lifetime: a mapping lives until ms_as_unmap(). A direct mapping holds a
 * reference on its region, so the pointer stays valid even if the region is
 * removed from the tree and its last other reference dropped meanwhile; the
 * memory is freed at the unmap. (QEMU has the same rule: unmap before the
 * region goes away, and until then it is kept alive.) What a device writes
 * through a direct pointer is not an access: no device callback or listener
 * sees it, and dirty bitmaps only see it at the unmap (@access_len).
 *
 * Concurrency: every call here may run on any thread at the same time as
 * any other call on the same or another address space, including from device
 * callbacks (nested DMA). The budget, the live mappings and the map clients
 * of an address space are protected by a mutex of that address space, never
 * by the topology lock; the lookup runs inside an RCU read-side section like
 * an access (access.h). Device callbacks (filling and writing back bounce
 * buffers) and map-client callbacks run with no memspace lock held.
 * ms_as_free() must not run concurrently with any call here on that address
 * space; it releases what is still mapped or registered (without writing
 * anything back), after which those pointers and handles are invalid.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_MAP_H
#define MEMSPACE_MAP_H

#include <stdint.h>

#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/** MS_BOUNCE_BUDGET_DEFAULT - bounce-buffer budget of a new address space (64 KiB). */
#define MS_BOUNCE_BUDGET_DEFAULT ((size_t)64 * 1024)
/** MS_BOUNCE_BUDGET_MIN - the smallest budget ms_as_set_bounce_budget() takes (one page). */
#define MS_BOUNCE_BUDGET_MIN ((size_t)4096)
/** MS_BOUNCE_BUDGET_MAX - the largest budget ms_as_set_bounce_budget() takes. */
#define MS_BOUNCE_BUDGET_MAX (SIZE_MAX / 2)

/** struct ms_map_client - a registered map-client callback (opaque). */
typedef struct ms_map_client ms_map_client;

/**
 * ms_as_map - map guest memory into the host address space for DMA.
 * @as: the address space.
 * @addr: first guest address.
 * @len: in: the number of bytes wanted; out: how many are mapped from @addr
 *       on (at most the number wanted; 0 on failure).
 * @is_write: the bus master will write through the pointer (otherwise it
 *            only reads).
 * @attrs: transaction attributes: they choose what may be mapped
 *         (attrs.memory refuses targets that are not RAM) and are used for
 *         the bounce buffer's fill and write-back.
 *
 * Direct: when the range at @addr is RAM the caller may use in place (RAM,
 * ROM and RAM at a pointer for reads, the same without readonly ranges for
 * writes, a ROM device in romd mode for reads) the result points into the
 * region's memory (ms_region_ram_ptr() plus the offset), and the mapping
 * continues across the following ranges for as long as they are the same
 * region at contiguous offsets and usable in place, even where the view
 * splits them (a readonly or nonvolatile window, say). A different region
 * ends it, even if its memory happens to follow.
 *
 * Bounce: any other range that answers (a device, a ROM device outside romd
 * mode, a RAM device, readonly memory for a write) is mapped through a
 * buffer of the address space's bounce budget, covering at most that one
 * range and at most the budget left (a partial map). A read mapping is
 * filled by ms_as_read() before this call returns (device callbacks run in
 * this thread); if that read reports anything but MS_RESULT_OK the map fails.
 *
 * IOMMUs (iommu.h) on the way are translated with @is_write and @attrs, page
 * by page. A direct mapping goes on across IOMMU pages for as long as each
 * next page translates to the same region at the next offset, usable in
 * place, and grants the mapping's permission (a write mapping stops before a
 * read-only page); a page whose translation fails, or that leads elsewhere,
 * ends it there (the caller maps the rest afterwards). A bounce buffer
 * covers at most the one IOMMU page at @addr.
 * A write mapping starts zeroed and reaches memory only at ms_as_unmap().
 *
 * Nothing is mapped (NULL, *@len = 0) at a hole, an I/O reservation, an
 * IOMMU region without a class or whose translation fails, a target that is not RAM
 * under attrs.memory, or when the bounce budget is used up (register a map
 * client to learn when to retry).
 *
 * Return: the host pointer, valid for *@len bytes until ms_as_unmap() (see
 * the header comment for what keeps it valid). NULL with *@len = 0 when
 * nothing could be mapped, when @as is NULL, *@len is 0, or an allocation
 * failed (nothing changes). NULL when @len is NULL.
 * Context: any thread, including device callbacks; takes no topology lock.
 */
MS_API void *ms_as_map(ms_as *as, uint64_t addr, uint64_t *len, bool is_write, ms_attrs attrs);

/**
 * ms_as_unmap - release a mapping made by ms_as_map().
 * @as: the address space it was made in.
 * @buffer: the pointer ms_as_map() returned.
 * @len: the length ms_as_map() returned in *len.
 * @is_write: as given to ms_as_map().
 * @access_len: how many bytes, from @buffer on, the bus master actually
 *              wrote (0 .. @len); ignored for read mappings.
 *
 * Bounce buffer: a write mapping first writes its first @access_len bytes
 * back with ms_as_write() at the mapped address and with the attrs given to
 * ms_as_map() (device callbacks run in this thread; like QEMU, the result of
 * that write is not reported). Then the buffer is freed, its bytes return to
 * the budget, and waiting map clients are called (in this thread) while
 * budget is available.
 *
 * Direct mapping: a write mapping marks [offset, offset + @access_len) of the
 * region dirty for the clients logging it (dirty.h), as QEMU's unmap does.
 * Then the region reference the mapping held is dropped, which may free the
 * region.
 *
 * Unlike QEMU, which asserts, an unknown mapping is refused: the pair
 * (@buffer, @len) must be a live mapping of @as made with the same
 * @is_write. When several live direct mappings share that pair (two bus
 * masters mapped the same RAM), any one of them is released.
 *
 * Return: 0; -EINVAL when @as or @buffer is NULL, @access_len exceeds @len,
 * or no such live mapping exists (nothing changes).
 * Context: any thread, including device callbacks and map-client callbacks;
 * not inside an RCU read-side section that uses the region (the region may
 * be freed here).
 */
MS_API int ms_as_unmap(ms_as *as, void *buffer, uint64_t len, bool is_write, uint64_t access_len);

/**
 * ms_as_set_bounce_budget - set how many bytes of bounce buffers may be live.
 * @as: the address space.
 * @bytes: the budget, MS_BOUNCE_BUDGET_MIN .. MS_BOUNCE_BUDGET_MAX.
 *
 * Live bounce buffers are not affected: a budget below what is in use only
 * makes new bounce maps fail until enough is unmapped. A budget that leaves
 * room calls waiting map clients (in this thread).
 *
 * Return: 0; -EINVAL when @as is NULL or @bytes is out of bounds (nothing
 * changes).
 * Context: any thread; maps already running may still see the old budget.
 */
MS_API int ms_as_set_bounce_budget(ms_as *as, size_t bytes);

/**
 * ms_as_bounce_budget - the current bounce budget of @as.
 * Return: the budget in bytes (MS_BOUNCE_BUDGET_DEFAULT unless set).
 * Context: any thread.
 */
MS_API size_t ms_as_bounce_budget(const ms_as *as);

/**
 * ms_as_register_map_client - be called back when bounce budget is free.
 * @out: receives the client handle (set before the callback can run).
 * @as: the address space.
 * @callback: called once, with @opaque, as soon as bounce budget is
 *            available: right away (inside this call, in this thread) when
 *            some is available now, otherwise inside the ms_as_unmap() or
 *            ms_as_set_bounce_budget() that makes some available, in that
 *            thread. Then the client is done and never called again.
 * @opaque: passed to @callback.
 *
 * The pattern is QEMU's: a bus master whose ms_as_map() returned NULL
 * registers a client, and the callback retries (or, better, schedules the
 * retry: it may run on whatever thread unmaps). Registering closes the race
 * with an unmap between the failed map and the registration, because a
 * client registered while budget is available is called at once. Waiting
 * clients are called oldest first, each only while some budget remains
 * available, so one that maps may use up the budget and leave the rest
 * waiting for the next unmap. Clients registered while others are being
 * called wait for the next release unless budget is available when they
 * register.
 *
 * The callback runs with no memspace lock held and may call anything in this
 * header, including ms_as_map() and ms_as_unregister_map_client() on its own
 * handle. Because it may run inside this call, do not register while
 * holding a lock the callback takes.
 *
 * The handle stays valid, also after the callback ran, until
 * ms_as_unregister_map_client(), which must be called exactly once for
 * every client (ms_as_free() releases the ones left).
 *
 * Return: 0; -EINVAL when an argument other than @opaque is NULL; -ENOMEM.
 * On error *@out is NULL and @callback is never called.
 * Context: any thread, including device callbacks and map-client callbacks.
 */
MS_API int ms_as_register_map_client(ms_map_client **out, ms_as *as, void (*callback)(void *opaque),
				     void *opaque);

/**
 * ms_as_unregister_map_client - cancel (if still waiting) and free a client.
 * @client: the handle, or NULL (no-op).
 *
 * After this call returns the callback is not running and will not run. If
 * the callback is running on another thread, this waits for it to return;
 * so do not call it while holding a lock that callback takes. Called from
 * the client's own callback, it returns at once and the handle is freed
 * when the callback returns.
 *
 * Context: any thread, including device callbacks and map-client callbacks.
 */
MS_API void ms_as_unregister_map_client(ms_map_client *client);

/** enum ms_dma_direction - which way a device's DMA goes (QEMU's DMADirection). */
typedef enum ms_dma_direction {
	MS_DMA_TO_DEVICE = 0,   /* the device reads memory */
	MS_DMA_FROM_DEVICE = 1, /* the device writes memory */
} ms_dma_direction;

/**
 * ms_as_dma_rw - a device's DMA of @len bytes at @addr of @as, in direction
 * @dir (QEMU's dma_memory_rw()).
 * @as: the device's DMA address space.
 * @addr: first bus address.
 * @buf: what the device reads into (MS_DMA_TO_DEVICE) or writes from
 *       (MS_DMA_FROM_DEVICE).
 * @len: bytes; 0 does nothing.
 * @dir: the direction.
 *
 * A full memory barrier comes first, as QEMU's DMA helpers do, so the
 * device sees what the thread that started it wrote before. Then it is
 * ms_as_read() or ms_as_write() with MS_ATTRS_UNSPECIFIED.
 * Return: what those return; MS_RESULT_ACCESS_ERROR for a NULL @as, a NULL
 * @buf with @len not 0, or another @dir (nothing is accessed).
 * Context: any thread, including device callbacks.
 */
MS_API ms_result ms_as_dma_rw(ms_as *as, uint64_t addr, void *buf, size_t len,
			      ms_dma_direction dir);

/**
 * ms_as_dma_read / ms_as_dma_write / ms_as_dma_set - the same with @attrs,
 * one direction each (QEMU's dma_memory_read/write/set()): the barrier, then
 * ms_as_read(), ms_as_write() or ms_as_set().
 * Return: what those return. Context: any thread, including device callbacks.
 */
MS_API ms_result ms_as_dma_read(ms_as *as, uint64_t addr, void *buf, size_t len, ms_attrs attrs);
MS_API ms_result ms_as_dma_write(ms_as *as, uint64_t addr, const void *buf, size_t len,
				 ms_attrs attrs);
MS_API ms_result ms_as_dma_set(ms_as *as, uint64_t addr, uint8_t byte, size_t len, ms_attrs attrs);

#ifdef __cplusplus
}
#endif

#endif /* MEMSPACE_MAP_H */
