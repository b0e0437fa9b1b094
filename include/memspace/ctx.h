/*
 * memspace: the memory-system context.
 *
 * An ms_ctx owns every region, address space and listener created in it, the
 * topology lock that serialises changes to them, and the transaction depth.
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
 * ms_transaction_begin - open (or nest) a transaction.
 * @ctx: the context.
 *
 * Takes the topology lock (recursively) and defers rendering until the
 * matching outermost ms_transaction_commit(). Every mutation made outside a
 * transaction is its own transaction. Must be paired with
 * ms_transaction_commit() on the same thread.
 * Context: any thread; not from a listener callback.
 */
MS_API void ms_transaction_begin(ms_ctx *ctx);

/**
 * ms_transaction_commit - close a transaction; the outermost one publishes.
 * @ctx: the context.
 *
 * At depth 0, renders the views of the address spaces whose regions changed
 * (and only those), publishes them with one RCU pointer swap each, and tells
 * the listeners the differences. Releases the topology lock.
 *
 * Return: 0; -E2BIG when a view would exceed the render limit
 * (ms_ctx_set_render_limit(); the tree keeps the changes, as for -ENOMEM);
 * -ENOMEM when a new view could not be built (no view changed,
 * no listener was called; the tree keeps the changes and the next commit
 * tries again); -ELOOP when a view could not be rendered because it nests
 * deeper than MS_RENDER_MAX_DEPTH containers and aliases, which is what an
 * alias leading back into its own subtree without end does (same handling);
 * -EPERM when no transaction is open on this context.
 * Context: the thread that called ms_transaction_begin().
 */
MS_API int ms_transaction_commit(ms_ctx *ctx);

/**
 * ms_ctx_transaction_depth - how deeply transactions are nested right now.
 * @ctx: the context.
 *
 * Return: 0 outside any transaction. Context: topology lock held (inside a
 * transaction) for a meaningful answer.
 */
MS_API unsigned int ms_ctx_transaction_depth(const ms_ctx *ctx);

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
 * ms_ctx_fail_alloc_after - fault injection for tests.
 * @ctx: the context.
 * @countdown: fail the @countdown-th allocation made for this context from
 *             now on (1 = the next one); 0 disables injection.
 *
 * Every allocation the library makes on behalf of @ctx goes through one
 * counter, so a test can fail each allocation of an operation in turn and
 * check that the operation returns -ENOMEM and changes nothing.
 * Context: topology lock not held by another thread.
 */
MS_API void ms_ctx_fail_alloc_after(ms_ctx *ctx, uint64_t countdown);

#ifdef __cplusplus
}
#endif

#endif /* MEMSPACE_CTX_H */
