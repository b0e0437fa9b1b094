/*
 * listener.c: memory listeners and the per-commit difference.
 *
 * Listeners are kept sorted by (priority, registration sequence); add-type
 * callbacks walk the array forwards, del-type ones backwards. The difference
 * between two views is computed with one merge-like walk over both sorted
 * range sequences per pass, skipping the chunks the views share (QEMU's
 * two-pass scheme): pass 1 reports what went away, pass 2 what stayed and
 * what appeared, so a consumer never sees two live mappings of one address.
 *
 * Locking: all callbacks run with the topology lock held and ctx->in_listener
 * set, which makes topology changes from inside a callback fail with -EBUSY.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "listener.h"

typedef enum direction { FORWARD, REVERSE } direction;

/* Run @body for each listener @l of @only_as (all when NULL), in @dir order. */
#define FOR_EACH_LISTENER(ctx_, only_as, dir, l, body)                                        \
	do {                                                                                  \
		size_t i_, n_ = (ctx_)->nr_listeners;                                         \
		for (i_ = 0; i_ < n_; i_++) {                                                 \
			ms_listener *l = (ctx_)->listeners[(dir) == FORWARD ? i_ : n_ - 1 - i_]; \
			if ((only_as) == NULL || l->as == (only_as)) {                        \
				body;                                                         \
			}                                                                     \
		}                                                                             \
	} while (0)

typedef enum section_event {
	EV_ADD,
	EV_DEL,
	EV_NOP,
	EV_LOG_START,
	EV_LOG_STOP,
	EV_LOG_SYNC,
} section_event;

/* Deliver one event about one range to the listeners of @as. */
static void notify_range(ms_as *as, section_event ev, const ms__range *range, uint8_t old_mask,
			 uint8_t new_mask)
{
	direction dir = (ev == EV_DEL || ev == EV_LOG_STOP) ? REVERSE : FORWARD;
	ms_ctx *ctx = as->ctx;
	ms_section s;

	ms__flatview_section(&s, range);
	s.as = as;
	FOR_EACH_LISTENER(ctx, as, dir, l, {
		const ms_listener_ops *ops = l->ops;

		switch (ev) {
		case EV_ADD:
			if (ops->region_add)
				ops->region_add(&s, l->opaque);
			break;
		case EV_DEL:
			if (ops->region_del)
				ops->region_del(&s, l->opaque);
			break;
		case EV_NOP:
			if (ops->region_nop)
				ops->region_nop(&s, l->opaque);
			break;
		case EV_LOG_START:
			if (ops->log_start)
				ops->log_start(&s, old_mask, new_mask, l->opaque);
			break;
		case EV_LOG_STOP:
			if (ops->log_stop)
				ops->log_stop(&s, old_mask, new_mask, l->opaque);
			break;
		case EV_LOG_SYNC:
			if (ops->log_sync)
				ops->log_sync(&s, l->opaque);
			break;
		}
	});
}

void ms__listener_begin(ms_ctx *ctx)
{
	FOR_EACH_LISTENER(ctx, (ms_as *)NULL, FORWARD, l, {
		if (l->ops->begin)
			l->ops->begin(l->opaque);
	});
}

void ms__listener_commit(ms_ctx *ctx)
{
	FOR_EACH_LISTENER(ctx, (ms_as *)NULL, FORWARD, l, {
		if (l->ops->commit)
			l->ops->commit(l->opaque);
	});
}

/*
 * One pass of the difference. With @skip_shared, a chunk that both views
 * share (same pointer, both walks at its start) is skipped whole: its ranges
 * are equal, so the only events it could produce are region_nop calls.
 */
static void diff_pass(ms_as *as, const ms_flatview *old_view, const ms_flatview *new_view,
		      bool adding, bool skip_shared)
{
	ms__fvpos po = {0, 0}, pn = {0, 0};

	for (;;) {
		const ms__range *frold, *frnew;

		if (skip_shared && ms__flatview_skip_shared(old_view, &po, new_view, &pn))
			continue;
		frold = ms__flatview_peek(old_view, &po);
		frnew = ms__flatview_peek(new_view, &pn);
		if (!frold && !frnew)
			break;
		if (frold &&
		    (!frnew || frold->start < frnew->start ||
		     (frold->start == frnew->start && !ms__render_range_equal(frold, frnew)))) {
			/* Gone, or changed in place. */
			if (!adding)
				notify_range(as, EV_DEL, frold, 0, 0);
			ms__flatview_next(old_view, &po);
		} else if (frold && frnew && ms__render_range_equal(frold, frnew)) {
			if (adding) {
				uint8_t was = frold->dirty_log_mask, now = frnew->dirty_log_mask;

				notify_range(as, EV_NOP, frnew, 0, 0);
				if (now & ~was)
					notify_range(as, EV_LOG_START, frnew, was, now);
				if (was & ~now)
					notify_range(as, EV_LOG_STOP, frnew, was, now);
			}
			ms__flatview_next(old_view, &po);
			ms__flatview_next(new_view, &pn);
		} else {
			if (adding) {
				notify_range(as, EV_ADD, frnew, 0, 0);
				if (frnew->dirty_log_mask)
					notify_range(as, EV_LOG_START, frnew, 0,
						     frnew->dirty_log_mask);
			}
			ms__flatview_next(new_view, &pn);
		}
	}
}

/*
 * QEMU calls region_nop for every range that stayed: a commit then costs
 * every nop-listening consumer O(ranges). Chunks shared by both views are
 * skipped unless a listener of @as wants those calls.
 */
void ms__listener_diff(ms_as *as, const ms_flatview *old_view, const ms_flatview *new_view)
{
	bool skip_shared = true;

	FOR_EACH_LISTENER(as->ctx, as, FORWARD, l, {
		if (l->ops->region_nop)
			skip_shared = false;
	});
	diff_pass(as, old_view, new_view, false, skip_shared);
	diff_pass(as, old_view, new_view, true, skip_shared);
}

static int global_start_one(ms_listener *l);

/*
 * Replay @view to the single listener @l (registration or unregistration).
 * Return: 0, or the error of a listener that refused global logging (then
 * begin and commit were its only other callbacks).
 */
static int replay(ms_listener *l, const ms_flatview *view, bool adding)
{
	const ms_listener_ops *ops = l->ops;
	ms__fvpos pos = {0, 0};
	const ms__range *r;

	if (ops->begin)
		ops->begin(l->opaque);
	if (adding && l->ctx->global_dirty_log) {
		int rc = global_start_one(l);

		if (rc < 0) {
			if (ops->commit)
				ops->commit(l->opaque);
			return rc;
		}
	}
	while ((r = ms__flatview_next(view, &pos))) {
		ms_section s;

		ms__flatview_section(&s, r);
		s.as = l->as;
		if (adding) {
			if (ops->region_add)
				ops->region_add(&s, l->opaque);
			if (r->dirty_log_mask && ops->log_start)
				ops->log_start(&s, 0, r->dirty_log_mask, l->opaque);
		} else {
			if (r->dirty_log_mask && ops->log_stop)
				ops->log_stop(&s, r->dirty_log_mask, 0, l->opaque);
			if (ops->region_del)
				ops->region_del(&s, l->opaque);
		}
	}
	if (ops->commit)
		ops->commit(l->opaque);
	return 0;
}

/* Take @l out of the context's sorted array (lock held). */
static void unlink_listener(ms_listener *l)
{
	ms_ctx *ctx = l->ctx;

	for (size_t i = 0; i < ctx->nr_listeners; i++) {
		if (ctx->listeners[i] == l) {
			memmove(&ctx->listeners[i], &ctx->listeners[i + 1],
				(ctx->nr_listeners - i - 1) * sizeof(*ctx->listeners));
			ctx->nr_listeners--;
			return;
		}
	}
}

/* Replay the removal of everything to @l, then forget and free it. Lock held. */
static void unregister(ms_listener *l)
{
	ms_ctx *ctx = l->ctx;

	ctx->in_listener = true;
	(void)replay(l, l->as->view, false);
	unlink_listener(l);
	free(l);
}

/* Address-space teardown: unregister the listeners still on @as. */
static void drop_listeners_of(ms_as *as)
{
	ms_ctx *ctx = as->ctx;
	bool was_in_listener = ctx->in_listener;
	size_t i = 0;

	while (i < ctx->nr_listeners) {
		if (ctx->listeners[i]->as == as)
			unregister(ctx->listeners[i]); /* shifts the rest down */
		else
			i++;
	}
	ctx->in_listener = was_in_listener;
}

/*
 * Callbacks are over: topology changes are allowed again, and address
 * spaces freed from inside the callbacks go now.
 */
static void callbacks_end(ms_ctx *ctx)
{
	ctx->in_listener = false;
	ms__as_reap(ctx);
}

/* Context teardown: the listeners (their address spaces go next). */
static void free_all(ms_ctx *ctx)
{
	size_t i;

	for (i = 0; i < ctx->nr_listeners; i++)
		free(ctx->listeners[i]);
	free(ctx->listeners);
	ctx->listeners = NULL;
	ctx->nr_listeners = ctx->cap_listeners = 0;
}

static int lock_for_callbacks(ms_ctx *ctx)
{
	ms__ctx_lock(ctx);
	if (ctx->in_listener) {
		ms__ctx_unlock(ctx);
		return -EBUSY;
	}
	return 0;
}

int ms_listener_register(ms_listener **out, ms_as *as, const ms_listener_ops *ops, void *opaque)
{
	ms_listener *l;
	ms_ctx *ctx;
	size_t pos;
	int rc;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!as || !ops || ops->version < 1 || ops->version > MS_LISTENER_OPS_VERSION)
		return -EINVAL;
	ctx = as->ctx;
	rc = lock_for_callbacks(ctx);
	if (rc < 0)
		return rc;
	l = ms__ctx_calloc(ctx, 1, sizeof(*l));
	rc = l ? ms__ctx_grow(ctx, (void **)&ctx->listeners, &ctx->cap_listeners,
			      ctx->nr_listeners + 1, sizeof(*ctx->listeners))
	       : -ENOMEM;
	if (rc < 0) {
		free(l);
		ms__ctx_unlock(ctx);
		return rc;
	}
	l->ctx = ctx;
	l->as = as;
	l->ops = ops;
	l->opaque = opaque;
	l->seq = ctx->listener_seq++;
	ms__ctx_on_free(ctx, MS__FREE_LISTENERS, free_all);
	ms__as_on_free(as, MS__AS_FREE_LISTENERS, drop_listeners_of);
	for (pos = ctx->nr_listeners; pos > 0; pos--)
		if (ctx->listeners[pos - 1]->ops->priority <= ops->priority)
			break;
	memmove(&ctx->listeners[pos + 1], &ctx->listeners[pos],
		(ctx->nr_listeners - pos) * sizeof(*ctx->listeners));
	ctx->listeners[pos] = l;
	ctx->nr_listeners++;

	ctx->in_listener = true;
	rc = replay(l, as->view, true);
	if (rc < 0) {
		/* It refused global dirty logging: no registration. */
		unlink_listener(l);
		free(l);
	} else if (as->free_pending) {
		/* A callback freed @as, and with it this registration. */
		rc = -ENOENT;
	}
	*out = rc ? NULL : l;
	callbacks_end(ctx);
	ms__ctx_unlock(ctx);
	return rc;
}

int ms_listener_unregister(ms_listener *l)
{
	ms_ctx *ctx;
	int rc;

	if (!l)
		return 0;
	ctx = l->ctx;
	rc = lock_for_callbacks(ctx);
	if (rc < 0)
		return rc;
	unregister(l);
	callbacks_end(ctx);
	ms__ctx_unlock(ctx);
	return 0;
}

/* Version 2 fields of @ops, or NULL for a version 1 table. */
static int (*try_start_of(const ms_listener_ops *ops))(void *)
{
	return ops->version >= 2 ? ops->log_global_try_start : NULL;
}

/*
 * Start global logging at @l; with try_start, the listener may refuse.
 * Return: 0 or the listener's negative errno.
 */
static int global_start_one(ms_listener *l)
{
	int (*try_start)(void *) = try_start_of(l->ops);
	int rc;

	if (try_start) {
		rc = try_start(l->opaque);
		return rc < 0 ? rc : 0;
	}
	if (l->ops->log_global_start)
		l->ops->log_global_start(l->opaque);
	return 0;
}

int ms__listener_global_start(ms_ctx *ctx)
{
	size_t started;
	int rc = 0;

	ctx->in_listener = true;
	for (started = 0; started < ctx->nr_listeners; started++) {
		rc = global_start_one(ctx->listeners[started]);
		if (rc < 0)
			break;
	}
	if (rc < 0) {
		/* Roll back: stop the listeners that started, newest first. */
		while (started-- > 0) {
			ms_listener *l = ctx->listeners[started];

			if (l->ops->log_global_stop)
				l->ops->log_global_stop(l->opaque);
		}
	}
	callbacks_end(ctx);
	return rc;
}

void ms__listener_global_stop(ms_ctx *ctx)
{
	ctx->in_listener = true;
	FOR_EACH_LISTENER(ctx, (ms_as *)NULL, REVERSE, l, {
		if (l->ops->log_global_stop)
			l->ops->log_global_stop(l->opaque);
	});
	callbacks_end(ctx);
}

bool ms_ctx_dirty_log_global(const ms_ctx *ctx)
{
	return ctx->global_dirty_log;
}

int ms_as_log_sync(ms_as *as)
{
	ms__fvpos pos = {0, 0};
	const ms__range *r;
	ms_ctx *ctx;
	int rc;

	if (!as)
		return -EINVAL;
	ctx = as->ctx;
	rc = lock_for_callbacks(ctx);
	if (rc < 0)
		return rc;
	ctx->in_listener = true;
	while ((r = ms__flatview_next(as->view, &pos)))
		if (r->dirty_log_mask)
			notify_range(as, EV_LOG_SYNC, r, 0, 0);
	callbacks_end(ctx);
	ms__ctx_unlock(ctx);
	return 0;
}

/*
 * log_clear to @as's listeners for every logged range of its view that
 * shows [offset, last] of @mr, cropped to that part (lock held, in_listener).
 */
static void clear_in(ms_as *as, const ms_region *mr, uint64_t offset, uint64_t last)
{
	ms__fvpos pos = {0, 0};
	const ms__range *r;

	while ((r = ms__flatview_next(as->view, &pos))) {
		uint64_t lo, hi;
		ms_section s;

		if (r->region != mr || !r->dirty_log_mask)
			continue;
		lo = r->offset_in_region > offset ? r->offset_in_region : offset;
		hi = r->offset_in_region + (r->last - r->start);
		if (hi > last)
			hi = last;
		if (lo > hi)
			continue;
		ms__flatview_section(&s, r);
		s.as = as;
		s.start = r->start + (lo - r->offset_in_region);
		s.last = s.start + (hi - lo);
		s.offset_in_region = lo;
		s.size = hi - lo + 1;
		FOR_EACH_LISTENER(as->ctx, as, FORWARD, l, {
			if (l->ops->version >= 2 && l->ops->log_clear)
				l->ops->log_clear(&s, l->opaque);
		});
	}
}

int ms_region_clear_dirty(ms_region *r, uint64_t offset, uint64_t size)
{
	ms_ctx *ctx;
	int rc;

	if (!r || !r->ram || size == 0 || offset >= r->size || size > r->size - offset)
		return -EINVAL;
	ctx = r->ctx;
	rc = lock_for_callbacks(ctx);
	if (rc < 0)
		return rc;
	ctx->in_listener = true;
	for (size_t i = 0; i < ctx->nr_as; i++)
		clear_in(ctx->as[i], r, offset, offset + size - 1);
	callbacks_end(ctx);
	ms__ctx_unlock(ctx);
	return 0;
}
