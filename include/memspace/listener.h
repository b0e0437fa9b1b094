/*
 * memspace: memory listeners.
 *
 * A listener follows one address space: it is told, after every commit that
 * re-rendered that address space's view, which flat ranges went away, which
 * stayed and which appeared. Hypervisor back ends (KVM-style memory slots),
 * VFIO-style DMA maps and vhost-style tables are built on this.
 *
 * Callback order within one commit:
 *   1. begin, on every listener of the context, ascending priority;
 *   2. per re-rendered address space, to its listeners:
 *      pass 1: region_del for every range of the old view that is not in
 *              the new view unchanged, in address order, listeners in
 *              descending priority;
 *      pass 2: in address order, region_nop for an unchanged range (followed
 *              by log_start / log_stop when its dirty-log mask grew / shrank)
 *              and region_add (followed by log_start when logged) for a new
 *              one, listeners in ascending priority;
 *   3. commit, on every listener of the context, ascending priority.
 * The ranges are the outer loop and the listeners the inner one: every
 * listener hears about one range before any hears about the next.
 * A commit that re-renders nothing calls nothing (unless coalesced MMIO or
 * ioeventfds changed: see version 3 below). "Add-type" callbacks run in
 * ascending priority, "del-type" ones (region_del, log_stop, log_global_stop)
 * in descending priority; listeners of equal priority run in registration
 * order (reversed for del-type).
 *
 * Callbacks run with the topology lock held, in the committing thread. They
 * must not change the topology (such calls fail with -EBUSY) and cannot
 * fail, except log_global_try_start (version 2), which may refuse.
 * Each section names the address space it belongs to (@section->as).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_LISTENER_H
#define MEMSPACE_LISTENER_H

#include "as.h"
#include "region.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/** struct ms_listener - a registration (opaque). */
typedef struct ms_listener ms_listener;

/** MS_LISTENER_OPS_VERSION - the version of struct ms_listener_ops this header declares. */
#define MS_LISTENER_OPS_VERSION 3u

/**
 * struct ms_listener_ops - callbacks; any may be NULL.
 * @version: MS_LISTENER_OPS_VERSION (fields of later versions are appended,
 *           and the library reads only those of the version given).
 * @priority: ordering among listeners (see above).
 * @begin: a commit that re-renders a view starts (before any other callback
 *     of that commit).
 * @commit: every change of the commit has been reported.
 * @region_add: @section is new in the view (or changed: its old form got a
 *     region_del first).
 * @region_del: @section of the old view is not in the new view unchanged.
 * @region_nop: @section is in both the old and the new view, unchanged.
 * @log_start: the dirty-log clients of @section grew from @old_mask to
 *     @new_mask.
 * @log_stop: the dirty-log clients of @section shrank from @old_mask to
 *     @new_mask.
 * @log_sync: bring the library's dirty bitmaps of @section up to date
 *     (ms_as_log_sync() asks for it).
 * @log_global_start: global dirty logging was turned on.
 * @log_global_stop: global dirty logging was turned off.
 *
 * Sections are borrowed for the duration of the callback; take a reference
 * on section->region to keep it longer.
 *
 * Version 2 adds:
 * @log_global_try_start: global dirty logging starts, and this listener may
 *     refuse it (return a negative errno, 0 to accept). Used instead of
 *     @log_global_start when set. When one listener refuses,
 *     ms_ctx_dirty_log_global_start() rolls back: log_global_stop on the
 *     listeners that had started (in reverse), logging stays off and the
 *     refusal is returned. At registration while global logging is on, a
 *     refusal fails the registration (begin and commit were called).
 * @log_clear: ms_region_clear_dirty() asks the listener to clear its own
 *     dirty state of @section (the part of a logged range the call covers),
 *     as a hypervisor that tracks dirty pages itself must (QEMU's
 *     log_clear).
 *
 * Version 3 adds the coalesced MMIO ranges and ioeventfds of device regions
 * (region.h), as QEMU's listeners see them:
 * @coalesced_io_add: the part [@addr, @addr + @size) of the range @section
 *     (the whole flat range that shows the coalesced part, @section->region
 *     the device) is coalesced MMIO.
 * @coalesced_io_del: that part stops being coalesced MMIO.
 * @eventfd_add: the ioeventfd @e of @section->region is visible at address
 *     @section->start of this address space; @section->offset_in_region is
 *     @e->offset, @section->size is @e->size (0 for any width) and
 *     @section->last is @section->start + (the width, or 1) - 1.
 * @eventfd_del: that ioeventfd stops being visible there.
 * At each commit these are the difference between what the new views show
 * and what the listener was last told, per address space: every _del (in
 * descending priority) before any _add (ascending), each kind in address
 * order, after the range callbacks of that address space. A coalesced part
 * is the same when its address, size, region and offset are; an ioeventfd
 * when its address and all its fields are. A commit that changes only these
 * still calls begin and commit. Registration replays the _add calls after
 * the ranges; unregistration the _del calls before them.
 * Tables of versions 1 and 2 are still accepted; fields of later versions
 * are never read.
 */
typedef struct ms_listener_ops {
	unsigned int version;
	void (*begin)(void *opaque);
	void (*commit)(void *opaque);
	void (*region_add)(const ms_section *section, void *opaque);
	void (*region_del)(const ms_section *section, void *opaque);
	void (*region_nop)(const ms_section *section, void *opaque);
	void (*log_start)(const ms_section *section, uint8_t old_mask, uint8_t new_mask,
			  void *opaque);
	void (*log_stop)(const ms_section *section, uint8_t old_mask, uint8_t new_mask,
			 void *opaque);
	void (*log_sync)(const ms_section *section, void *opaque);
	void (*log_global_start)(void *opaque);
	void (*log_global_stop)(void *opaque);
	int priority;
	/* version 2 */
	int (*log_global_try_start)(void *opaque);
	void (*log_clear)(const ms_section *section, void *opaque);
	/* version 3 */
	void (*coalesced_io_add)(const ms_section *section, uint64_t addr, uint64_t size,
				 void *opaque);
	void (*coalesced_io_del)(const ms_section *section, uint64_t addr, uint64_t size,
				 void *opaque);
	void (*eventfd_add)(const ms_section *section, const ms_ioeventfd *e, void *opaque);
	void (*eventfd_del)(const ms_section *section, const ms_ioeventfd *e, void *opaque);
} ms_listener_ops;

/**
 * ms_listener_register - follow @as.
 * @out: receives the registration.
 * @as: the address space.
 * @ops: callbacks; not copied, must outlive the registration.
 * @opaque: passed to every callback.
 *
 * Replays the current view to this listener only: begin; log_global_start
 * when global dirty logging is on; for every range in address order
 * region_add (then log_start when the range is logged); commit.
 *
 * Return: 0; -EINVAL for NULL arguments or an ops table of another
 * version; -EBUSY from a listener callback; -ENOMEM (no callback is
 * invoked); -ENOENT when one of the replay's callbacks freed @as
 * (ms_as_free()): the registration went with it and *@out is NULL.
 * Context: any thread; takes the topology lock.
 */
MS_API int ms_listener_register(ms_listener **out, ms_as *as, const ms_listener_ops *ops,
				void *opaque);

/**
 * ms_listener_unregister - stop following; frees the registration.
 * @l: the registration, or NULL (no-op).
 *
 * The mirror image of registration, to this listener only: begin; for every
 * range in address order log_stop (when logged) then region_del; commit.
 * Return: 0, or -EBUSY from a listener callback (nothing changes).
 * Context: any thread; takes the topology lock.
 */
MS_API int ms_listener_unregister(ms_listener *l);

/**
 * ms_as_log_sync - ask @as's listeners to sync dirty state: log_sync for
 * every logged range of the current view, in address order, listeners in
 * ascending priority.
 * Return: 0, -EINVAL when @as is NULL, or -EBUSY from a listener callback.
 * Context: any thread; takes the topology lock.
 */
MS_API int ms_as_log_sync(ms_as *as);

#ifdef __cplusplus
}
#endif

#endif /* MEMSPACE_LISTENER_H */
