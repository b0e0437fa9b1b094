/*
 * memspace: transactions.
 *
 * Every change to the region tree is part of a transaction. A change made
 * outside any transaction is its own and commits at once; changes made
 * between ms_transaction_begin() and the outermost ms_transaction_commit()
 * are rendered and published together, once.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_TRANSACTION_H
#define MEMSPACE_TRANSACTION_H

#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * ms_transaction_begin - open (or nest) a transaction.
 * @ctx: the context.
 * Takes the topology lock (recursively) and defers rendering until the
 * matching outermost ms_transaction_commit(). Every mutation made outside a
 * transaction is its own transaction. A successful call must be paired with
 * ms_transaction_commit() on the same thread; a refused one must not.
 * Return: 0; -EINVAL for a NULL @ctx; -EBUSY from a listener callback,
 * where the topology cannot change (nothing is opened, the lock is not
 * kept).
 * Context: any thread.
 */
MS_API int ms_transaction_begin(ms_ctx *ctx);

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
 * ms_transaction_depth - how deeply transactions are nested right now.
 * @ctx: the context.
 *
 * Return: 0 outside any transaction. Context: topology lock held (inside a
 * transaction) for a meaningful answer.
 */
MS_API unsigned int ms_transaction_depth(const ms_ctx *ctx);

#ifdef __cplusplus
}
#endif

#endif /* MEMSPACE_TRANSACTION_H */
