/*
 * txn.h: transactions, pending changes and the commit (txn.c).
 *
 * Every change to the topology is a mutation inside a transaction: it
 * records the regions it touched and the windows of flatview roots it may
 * have changed, and the outermost end commits them. A mutation that fails
 * at commit is undone, so a failed call changes nothing:
 *
 *	ms__txn_mutation m;
 *	rc = ms__txn_mutation_begin(&m, ctx);   // lock; -EBUSY inside listeners
 *	...check; on error: ms__txn_mutation_cancel(&m)...
 *	rc = ms__txn_touch(r);                   // before changing @r
 *	ms__txn_dirty(r, lo, hi, clip);          // with the tree as it is now
 *	...change the tree...
 *	return ms__txn_mutation_end(&m, undo, state);  // commit or undo; unlock
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_TXN_INT_H
#define MEMSPACE_TXN_INT_H

#include "listener.h"

/* A window [lo, hi] of a flatview root's render (absolute addresses). */
typedef struct ms__dirty {
	ms_region *root;
	uint64_t lo, hi;
} ms__dirty;

/* One mutation in progress (on the caller's stack). */
typedef struct ms__txn_mutation {
	ms_ctx *ctx;
	bool clean;            /* nothing was pending when it began */
	size_t touched_before; /* the touched records made before it */
} ms__txn_mutation;

/* Take the lock and open a transaction level. 0, or -EBUSY inside listener callbacks. */
int ms__txn_mutation_begin(ms__txn_mutation *m, ms_ctx *ctx);
/* Close the level without committing and unlock: the mutation changed nothing. */
void ms__txn_mutation_cancel(ms__txn_mutation *m);
/*
 * Close the level; commit when it was the outermost. When that commit
 * fails, run @undo(@state) so the tree is as before and forget the change
 * records this mutation added. Unlocks. Return: 0 or the commit's error.
 */
int ms__txn_mutation_end(ms__txn_mutation *m, void (*undo)(void *state), void *state);

/* Record that @r is about to change in a way that can alter rendering. 0 or -ENOMEM. */
int ms__txn_touch(ms_region *r);
/*
 * Record that [lo, hi] of @r (offsets in @r, inclusive, clipped to @clip
 * bytes) may render differently after the pending change, by mapping the
 * window up through containers and aliases to every flatview root that
 * shows it, with the topology as it is now. Cannot fail: when the windows
 * cannot be tracked every touched view is rendered in full instead.
 */
void ms__txn_dirty(ms_region *r, ms__u128 lo, ms__u128 hi, ms__u128 clip);
/* Every pending window is unknown: render the touched views in full. */
void ms__txn_dirty_all(ms_ctx *ctx);

#endif /* MEMSPACE_TXN_INT_H */
