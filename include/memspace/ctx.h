/*
 * memspace: the memory-system context.
 *
 * An ms_ctx owns every region, address space and listener created in it, the
 * topology lock that serialises changes to them, and its limits. Transactions
 * are in transaction.h.
 * Contexts share nothing: a process may create thousands of them.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_CTX_H
#define MEMSPACE_CTX_H

#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * MS_RENDER_MAX_DEPTH - the deepest nesting of regions a view may render.
 *
 * Every container and alias on the path from a view's root to a region
 * counts one level. An alias inside its own target renders its target again
 * one level deeper; clipping ends such a chain after a few levels when the
 * window shifts, and never when it maps onto itself. Rendering past this
 * depth fails with -ELOOP, and the change that caused it is refused.
 */
#define MS_RENDER_MAX_DEPTH 1024

/**
 * MS_RENDER_MAX_RANGES_DEFAULT - default bound on the size of one render.
 *
 * A small tree can describe an enormous view: each level of aliases that
 * show the level below twice doubles it, so 30 levels would render 2^30
 * ranges. A render that would produce more ranges than the context's bound
 * (ms_ctx_set_render_limit()), or visit more than 8 times that many regions,
 * fails with -E2BIG, and the change that caused it is refused.
 */
#define MS_RENDER_MAX_RANGES_DEFAULT (1u << 22)

/**
 * MS_ACCESS_DEPTH_DEFAULT - default bound on nested device callbacks per
 * thread (see ms_ctx_set_max_access_depth()).
 */
#define MS_ACCESS_DEPTH_DEFAULT 16u

/**
 * ms_ctx_new - create an empty memory system.
 * @out: receives the new context.
 *
 * Return: 0, -EINVAL when @out is NULL, or -ENOMEM (then *@out is NULL).
 * Context: any thread.
 */
MS_API int ms_ctx_new(ms_ctx **out);

/**
 * ms_ctx_free - destroy a context and everything in it.
 * @ctx: the context, or NULL (no-op).
 *
 * Frees every address space, listener registration and region of the context,
 * whatever their reference counts, after waiting for RCU readers of published
 * views to finish. No thread may use the context or anything in it, nor be
 * inside a transaction on it, during or after the call.
 * Context: any thread that is not inside an RCU read-side section.
 */
MS_API void ms_ctx_free(ms_ctx *ctx);

/**
 * ms_ctx_render_count - how many flat views this context has rendered.
 * @ctx: the context.
 *
 * A counter for tests and benchmarks: it shows that commits touching only
 * unreachable regions, or one root of many, render nothing else.
 * Context: any thread.
 */
MS_API uint64_t ms_ctx_render_count(const ms_ctx *ctx);

/**
 * ms_ctx_set_render_limit - bound the ranges one render of a view may
 * produce (and, 8 times that, the regions it may visit).
 * @ctx: the context.
 * @max_ranges: the bound; 0 restores MS_RENDER_MAX_RANGES_DEFAULT.
 *
 * Mutations, commits and ms_as_new() that would render more fail with
 * -E2BIG and change nothing (a failed explicit transaction keeps its
 * changes pending). Views already published are not re-checked.
 * Return: 0, or -EINVAL for a NULL @ctx.
 * Context: any thread; takes the topology lock.
 */
MS_API int ms_ctx_set_render_limit(ms_ctx *ctx, uint64_t max_ranges);

/**
 * ms_ctx_nr_as / ms_ctx_as - the context's address spaces in creation order.
 * Context: topology lock held, or no concurrent address-space changes.
 */
MS_API size_t ms_ctx_nr_as(const ms_ctx *ctx);
MS_API ms_as *ms_ctx_as(const ms_ctx *ctx, size_t index);

/**
 * ms_ctx_set_max_access_depth - bound nested device callbacks.
 * @ctx: the context.
 * @depth: how many device callbacks of one thread's access chain may be
 *         running at once (the outermost access's device counts as 1).
 *
 * An access that would call into a device of @ctx while @depth device
 * callbacks (of any context) are already running on the calling thread
 * fails with MS_RESULT_ACCESS_ERROR. The default is MS_ACCESS_DEPTH_DEFAULT.
 *
 * Return: 0; -EINVAL when @ctx is NULL or @depth is 0 (nothing changes).
 * Context: any thread; accesses already running may see the old bound.
 */
MS_API int ms_ctx_set_max_access_depth(ms_ctx *ctx, unsigned depth);

/**
 * ms_ctx_dirty_log_global_start / _stop - turn global dirty logging on or
 * off, as QEMU does. While it is on, the MIGRATION client logs every
 * migratable RAM block (dirty.h) and is part of the dirty_log_mask of every
 * flat range of one. Start: log_global_start (or log_global_try_start) on
 * every listener (ascending priority), then one commit renders the views
 * again, so listeners see log_start on those ranges. Stop: that commit
 * (log_stop), then log_global_stop (descending). Starting when started, or
 * stopping when stopped, calls nothing. When a listener refuses the start
 * or the commit fails, the listeners that had started are stopped again
 * (descending) and logging stays off.
 * Return: 0; -EINVAL when @ctx is NULL; -EBUSY from a listener callback or
 * inside an open transaction; -ENOMEM when a bitmap could not be
 * allocated; the commit's errors (-ENOMEM, -E2BIG, -ELOOP); or the refusing
 * listener's error. Nothing changes on an error.
 * Context: any thread; takes the topology lock.
 */
MS_API int ms_ctx_dirty_log_global_start(ms_ctx *ctx);
MS_API int ms_ctx_dirty_log_global_stop(ms_ctx *ctx);
MS_API bool ms_ctx_dirty_log_global(const ms_ctx *ctx);

/**
 * ms_strerror - what an error code of this library means.
 * @err: a code a call returned, negative (-EBUSY) or positive (EBUSY).
 *
 * The library returns a handful of errno values, each with one meaning
 * across the API; the header of each call says which it returns when.
 * This gives the symbolic name and that meaning, as the memspace command
 * prints them ("EBUSY: busy: the region already has a container, or a
 * listener callback is running").
 * Return: a static string, never NULL; "0: success" for 0 and
 * "unknown error" for a code the library does not use.
 * Context: any thread.
 */
MS_API const char *ms_strerror(int err);

/**
 * enum ms_test_op - operations of ms_ctx_test_control().
 * @MS_TEST_FAIL_ALLOC_AFTER: fail the N-th allocation made for the context
 *	from now on (1 = the next one); 0 disables injection. Every
 *	allocation the library makes on behalf of a context goes through one
 *	counter, so a test can fail each allocation of an operation in turn and
 *	check that the operation returns -ENOMEM and changes nothing.
 * @MS_TEST_SPLICE_COUNT: no argument; returns how many renders re-rendered
 *	windows of an old view instead of the whole root.
 */
typedef enum ms_test_op {
	MS_TEST_FAIL_ALLOC_AFTER = 1,
	MS_TEST_SPLICE_COUNT = 2,
} ms_test_op;

/**
 * ms_ctx_test_control - hooks for tests and fuzzers, in one entry point.
 * @ctx: the context.
 * @op: what to do (enum ms_test_op).
 * @arg: the operation's argument.
 * Not for production code: the operations may change between versions.
 * Return: the operation's result (0 when it has none), or -EINVAL for a
 * NULL @ctx or an unknown @op.
 * Context: topology lock not held by another thread.
 */
MS_API int64_t ms_ctx_test_control(ms_ctx *ctx, ms_test_op op, uint64_t arg);

#ifdef __cplusplus
}
#endif

#endif /* MEMSPACE_CTX_H */
