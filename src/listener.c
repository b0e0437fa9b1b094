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
 * Coalesced windows and ioeventfds (version 3 tables) are not part of the
 * ranges: at a commit each address space with listeners gets a sorted set
 * of what its new view shows (events_of()), and the listeners hear the
 * difference from the set they were last told of, which the space keeps.
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

typedef enum direction {
	FORWARD,
	REVERSE
} direction;

/* Run @body for each listener @l of @only_as (all when NULL), in @dir order. */
#define FOR_EACH_LISTENER(ctx_, only_as, dir, l, body)                                           \
	do {                                                                                     \
		size_t i_, n_ = (ctx_)->nr_listeners;                                            \
		for (i_ = 0; i_ < n_; i_++) {                                                    \
			ms_listener *l = (ctx_)->listeners[(dir) == FORWARD ? i_ : n_ - 1 - i_]; \
			if ((only_as) == NULL || l->as == (only_as)) {                           \
				body;                                                            \
			}                                                                        \
		}                                                                                \
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
	ms__fvpos po = {0}, pn = {0};

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

/* ---- coalesced windows and ioeventfds ------------------------------------------ */

/* One coalesced window or ioeventfd as an address space shows it. */
typedef struct ms__event {
	bool is_eventfd;
	uint64_t addr, last; /* in the address space */
	ms_region *region;
	uint64_t offset_in_region;
	ms_ioeventfd e;  /* ioeventfds */
	ms__range range; /* the flat range that shows it */
} ms__event;

struct ms__events {
	size_t nr;
	ms__event ev[];
};

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

/* Order of a set; 0 exactly when two entries are the same event. */
static int event_cmp(const ms__event *a, const ms__event *b)
{
	int c;

	if ((c = cmp_u64(a->is_eventfd, b->is_eventfd)) || (c = cmp_u64(a->addr, b->addr)) ||
	    (c = cmp_u64(a->last, b->last)) ||
	    (c = cmp_u64((uintptr_t)a->region, (uintptr_t)b->region)) ||
	    (c = cmp_u64(a->offset_in_region, b->offset_in_region)))
		return c;
	if (!a->is_eventfd)
		return 0;
	if ((c = cmp_u64(a->e.size, b->e.size)) ||
	    (c = cmp_u64(a->e.match_data, b->e.match_data)) || (c = cmp_u64(a->e.data, b->e.data)))
		return c;
	return cmp_u64((uint64_t)(int64_t)a->e.fd, (uint64_t)(int64_t)b->e.fd);
}

static int event_qsort_cmp(const void *a, const void *b)
{
	return event_cmp(a, b);
}

/*
 * The events @r shows; with @ev NULL only counted. The window of the
 * region @r shows is [off, off + (last - start)].
 */
static size_t range_events(const ms__range *r, ms__event *ev)
{
	const ms_region *mr = r->region;
	uint64_t off = r->offset_in_region, off_last = off + (r->last - r->start);
	size_t n = 0, i;

	for (i = 0; i < mr->nr_coalesced; i++) {
		uint64_t lo = mr->coalesced[i].offset, hi = mr->coalesced[i].last;

		if (lo < off)
			lo = off;
		if (hi > off_last)
			hi = off_last;
		if (lo > hi)
			continue;
		if (ev)
			ev[n] = (ms__event){.addr = r->start + (lo - off),
					    .last = r->start + (hi - off),
					    .region = r->region,
					    .offset_in_region = lo,
					    .range = *r};
		n++;
	}
	for (i = 0; mr->eventfds && i < mr->eventfds->nr; i++) {
		const ms_ioeventfd *e = &mr->eventfds->e[i];
		uint64_t addr, width = e->size ? e->size : 1;

		if (e->offset < off || e->offset > off_last)
			continue;
		addr = r->start + (e->offset - off);
		if (ev)
			ev[n] = (ms__event){.is_eventfd = true,
					    .addr = addr,
					    .last = addr + (width - 1) < addr ? UINT64_MAX
									      : addr + (width - 1),
					    .region = r->region,
					    .offset_in_region = e->offset,
					    .e = *e,
					    .range = *r};
		n++;
	}
	return n;
}

/* The sorted set of what @view shows. 0 or -ENOMEM. */
static int events_of(struct ms__events **out, ms_ctx *ctx, const ms_flatview *view)
{
	struct ms__events *set;
	ms__fvpos pos = {0};
	const ms__range *r;
	size_t nr = 0;

	if (ctx->nr_event_regions > 0)
		while ((r = ms__flatview_next(view, &pos)))
			if (ms__region_has_events(r->region))
				nr += range_events(r, NULL);
	set = ms__ctx_malloc(ctx, sizeof(*set) + nr * sizeof(set->ev[0]));
	if (!set)
		return -ENOMEM;
	set->nr = 0;
	pos = (ms__fvpos){0};
	if (nr > 0) {
		while ((r = ms__flatview_next(view, &pos)))
			if (ms__region_has_events(r->region))
				set->nr += range_events(r, set->ev + set->nr);
		qsort(set->ev, set->nr, sizeof(set->ev[0]), event_qsort_cmp);
	}
	*out = set;
	return 0;
}

static bool has_listener(const ms_as *as)
{
	FOR_EACH_LISTENER(as->ctx, as, FORWARD, l, { return true; });
	return false;
}

int ms__listener_events_prepare(struct ms__events **out, ms_as *as, const ms_flatview *view,
				bool view_changed)
{
	ms_ctx *ctx = as->ctx;
	int rc;

	*out = NULL;
	if (!has_listener(as) || (!view_changed && !ctx->events_dirty))
		return 0;
	/* Nothing shown before and nothing that could be shown now. */
	if (ctx->nr_event_regions == 0 && (!as->events || as->events->nr == 0))
		return 0;
	rc = events_of(out, ctx, view);
	return rc < 0 ? rc : 1;
}

void ms__listener_events_free(struct ms__events *set)
{
	free(set);
}

/* One event to one listener. */
static void notify_event_one(ms_listener *l, const ms__event *ev, bool adding)
{
	const ms_listener_ops *ops = l->ops;
	ms_section s;

	if (ops->version < 3)
		return;
	ms__flatview_section(&s, &ev->range);
	s.as = l->as;
	if (!ev->is_eventfd) {
		void (*fn)(const ms_section *, uint64_t, uint64_t, void *) =
			adding ? ops->coalesced_io_add : ops->coalesced_io_del;
		uint64_t size = ev->last - ev->addr + 1;

		if (fn)
			fn(&s, ev->addr, size == 0 ? MS_SIZE_2_64 : size, l->opaque);
	} else {
		void (*fn)(const ms_section *, const ms_ioeventfd *, void *) =
			adding ? ops->eventfd_add : ops->eventfd_del;

		s.start = ev->addr;
		s.last = ev->last;
		s.offset_in_region = ev->e.offset;
		s.size = ev->e.size;
		if (fn)
			fn(&s, &ev->e, l->opaque);
	}
}

/* One event to every listener of @as, in the order of its kind. */
static void notify_event(ms_as *as, const ms__event *ev, bool adding)
{
	FOR_EACH_LISTENER(as->ctx, as, adding ? FORWARD : REVERSE, l,
			  { notify_event_one(l, ev, adding); });
}

/*
 * Merge walk over two sorted sets: @adding reports what only @b holds,
 * otherwise what only @a holds. Either may be NULL (empty).
 */
static void events_pass(ms_as *as, const struct ms__events *a, const struct ms__events *b,
			bool adding)
{
	size_t na = a ? a->nr : 0, nb = b ? b->nr : 0, i = 0, j = 0;

	while (i < na || j < nb) {
		int c = i == na ? 1 : j == nb ? -1 : event_cmp(&a->ev[i], &b->ev[j]);

		if (c < 0) {
			if (!adding)
				notify_event(as, &a->ev[i], false);
			i++;
		} else if (c > 0) {
			if (adding)
				notify_event(as, &b->ev[j], true);
			j++;
		} else {
			i++;
			j++;
		}
	}
}

void ms__listener_events_diff(ms_as *as, struct ms__events *set)
{
	if (!set)
		return;
	events_pass(as, as->events, set, false);
	events_pass(as, as->events, set, true);
	free(as->events);
	as->events = set;
}

/* Replay the stored set to @l alone. */
static void replay_events(ms_listener *l, bool adding)
{
	const struct ms__events *set = l->as->events;
	size_t i;

	for (i = 0; set && i < set->nr; i++)
		notify_event_one(l, &set->ev[i], adding);
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
	ms__fvpos pos = {0};
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
	if (!adding)
		replay_events(l, false);
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
	if (adding)
		replay_events(l, true);
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
	free(as->events);
	as->events = NULL;
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
	struct ms__events *fresh = NULL;
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
	/* The first listener of @as: what its view shows now, to replay and
	 * to keep (the set of a space without listeners is not kept current). */
	if (rc == 0 && (!as->events || !has_listener(as)))
		rc = events_of(&fresh, ctx, as->view);
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
	if (fresh) {
		free(as->events);
		as->events = fresh;
	}
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
	ms__fvpos pos = {0};
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
	ms__fvpos pos = {0};
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
