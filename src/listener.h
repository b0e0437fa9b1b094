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
 * Coalesced windows and ioeventfds at a commit (txn.c), lock held.
 * ms__listener_events_prepare() decides whether @as's listeners need a
 * difference (they exist, and @view_changed or ctx->events_dirty) and then
 * computes what @view shows into *@out: 1 when it did, 0 when nothing is
 * needed (*@out NULL), -ENOMEM. ms__listener_events_diff() (in_listener set)
 * tells @as's listeners the difference from what they were last told and
 * keeps @set (NULL: nothing to do).
 */
struct ms__events;
int ms__listener_events_prepare(struct ms__events **out, ms_as *as, const ms_flatview *view,
				bool view_changed);
void ms__listener_events_diff(ms_as *as, struct ms__events *set);
/* Free a set that was prepared and not handed to ms__listener_events_diff(). */
void ms__listener_events_free(struct ms__events *set);

/*
 * Global dirty logging (dirty.c), lock held: log_global_start (or
 * log_global_try_start) on every listener, ascending; when one refuses,
 * log_global_stop on those that started, in reverse, and its error is
 * returned. / log_global_stop on every listener, descending.
 */
int ms__listener_global_start(ms_ctx *ctx);
void ms__listener_global_stop(ms_ctx *ctx);

#endif /* MEMSPACE_LISTENER_INT_H */
