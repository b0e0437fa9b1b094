/*
 * listener.h: memory listeners (listener.c).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_LISTENER_INT_H
#define MEMSPACE_LISTENER_INT_H

#include "as.h"

struct ms_listener {
	ms_ctx *ctx;
	ms_as *as;
	const ms_listener_ops *ops;
	void *opaque;
	uint64_t seq;
};

/*
 * A commit's listener calls (txn.c), with ctx->in_listener set by the
 * caller: begin to every listener, the two-pass difference between two
 * views of each changed space, commit to every listener. Lock held.
 */
void ms__listener_begin(ms_ctx *ctx);
void ms__listener_diff(ms_as *as, const ms_flatview *old_view, const ms_flatview *new_view);
void ms__listener_commit(ms_ctx *ctx);

/*
 * Global dirty logging (dirty.c), lock held: log_global_start (or
 * log_global_try_start) on every listener, ascending; when one refuses,
 * log_global_stop on those that started, in reverse, and its error is
 * returned. / log_global_stop on every listener, descending.
 */
int ms__listener_global_start(ms_ctx *ctx);
void ms__listener_global_stop(ms_ctx *ctx);

#endif /* MEMSPACE_LISTENER_INT_H */
