/*
 * memspace: address spaces.
 *
 * An address space is what one bus master sees: a root region rendered into
 * a flat view, a sorted list of disjoint ranges, each mapping a piece of the
 * address space to a piece of one terminating region. Views are immutable
 * and reference counted; address spaces whose effective ("flatview") root is
 * the same region share one view. A commit (transaction.h) builds new views off to
 * the side and publishes each with one RCU pointer swap, so readers never
 * lock and never see a half-built view.
 *
 * Which operations may run concurrently (per context):
 *
 * | operation                                   | may run concurrently with |
 * |---------------------------------------------|---------------------------|
 * | region / address-space / listener mutation, | nothing else of its kind: |
 * |   transaction begin/commit                  |   serialised by the lock  |
 * | ms_as_get_flatview, flat view getters       | everything                |
 * | ms_as_rcu_view (inside rcu read section)    | everything                |
 * | ms_flatview_unref                           | everything                |
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_AS_H
#define MEMSPACE_AS_H

#include "flatview.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * ms_as_new - create an address space rendering @root.
 * @out: receives the address space.
 * @ctx: the context.
 * @root: the root region (a reference is taken).
 * @name: copied; shown in dumps.
 *
 * The address space's view is rendered (or shared with an address space of
 * the same flatview root) at once, even inside a transaction: it shows the
 * tree as it is, changes still pending in the transaction included. Creating
 * an address space is not a topology change: no listener is called.
 *
 * A root that is also placed in a container at a non-zero address shifts
 * the address space's view by that address (as in QEMU): the root's offset
 * x appears at address addr + x.
 * Return: 0; -EINVAL for NULL arguments; -EXDEV when @root belongs to
 * another context; -EBUSY from a listener callback; -ENOMEM; -ELOOP (see
 * MS_RENDER_MAX_DEPTH).
 * Context: any thread; takes the topology lock.
 */
MS_API int ms_as_new(ms_as **out, ms_ctx *ctx, ms_region *root, const char *name);

/**
 * ms_as_free - destroy an address space.
 * @as: the address space, or NULL (no-op).
 *
 * Listeners still registered on @as are unregistered first, as by
 * ms_listener_unregister() (each sees region_del for every range), and
 * their handles become invalid. DMA mappings still live are released
 * without write-back and map clients are dropped. Called from a listener
 * callback of the same context, the space is freed when the callbacks
 * return: until then it keeps its view and answers accesses.
 * Context: any thread; takes the topology lock. Not while another thread
 * accesses @as.
 */
MS_API void ms_as_free(ms_as *as);

/** ms_as_name - the name given at creation. Valid while @as lives. */
MS_API const char *ms_as_name(const ms_as *as);
/** ms_as_root - the root region. Valid while @as lives. */
MS_API ms_region *ms_as_root(const ms_as *as);
/** ms_as_ctx - the context of @as. */
MS_API ms_ctx *ms_as_ctx(const ms_as *as);

/**
 * ms_as_flatview_root - the region the view of @as is rendered from (QEMU's
 * flatview-root rule: pass through full-size, offset-0 aliases and
 * containers with one enabled child at 0), or NULL when nothing is enabled.
 * Reflects the last commit. Context: topology lock held or quiescent.
 */
MS_API ms_region *ms_as_flatview_root(const ms_as *as);

/**
 * ms_as_get_flatview - take a reference on the current view of @as.
 *
 * Return: the view (never NULL); release it with ms_flatview_unref().
 * Context: any thread.
 */
MS_API ms_flatview *ms_as_get_flatview(ms_as *as);

/**
 * ms_rcu_read_lock / ms_rcu_read_unlock - open and close an RCU read-side
 * section (liburcu's bulletproof flavour, urcu-bp: no thread registration).
 *
 * Inside a section, views found through ms_as_rcu_view() and the regions
 * they map stay valid. Sections nest and are cheap; they must not block for
 * long (reclamation of old views waits for them), and a thread must not
 * free its context or wait for a grace period inside one. Use these calls
 * rather than liburcu's own: a program needs no liburcu header or library
 * of its own for them, and only they are visible to ThreadSanitizer builds
 * of the library.
 * Context: any thread.
 */
MS_API void ms_rcu_read_lock(void);
MS_API void ms_rcu_read_unlock(void);

/**
 * ms_as_rcu_view - the current view of @as, without a reference.
 * Context: inside a read-side section (ms_rcu_read_lock()); valid until the
 * section ends.
 */
MS_API ms_flatview *ms_as_rcu_view(ms_as *as);

#ifdef __cplusplus
}
#endif

#endif /* MEMSPACE_AS_H */
