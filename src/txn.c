/*
 * txn.c: transactions, pending changes and the commit.
 *
 * A mutation (region_edit.c) records the regions it touches and the windows
 * of flatview roots it may change (ms__txn_dirty(): the window mapped up
 * through containers and alias back references, with the topology as it is
 * before the change). The outermost end of a transaction commits: (1) it
 * marks every region from which a touched region can be reached; (2) for
 * each address space whose root is marked, it finds the flatview root and
 * builds the new view off to the side: when the root is unchanged, only the
 * recorded windows are re-rendered and spliced into the old view, whose
 * other chunks are shared; otherwise the root is rendered in full. One view
 * is shared between spaces with the same flatview root; (3) it publishes
 * each new view with one RCU pointer store; (4) it tells the listeners the
 * differences; (5) it drops the old views through call_rcu(). Steps 1-2 may
 * fail; then nothing is published and the pending changes stay recorded,
 * and a mutation that failed this way is undone. Steps 3-5 cannot fail.
 * Views whose roots were not touched are neither rendered nor compared, so
 * commit work follows what changed, not the size of the machine.
 *
 * Invariant: ctx->depth > 0 exactly while some thread holds the lock inside
 * a transaction or a mutation. Locking: everything runs with the topology
 * lock held.
 *
 * SPDX-License-Identifier: MIT
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "txn.h"

/* ---- pending change records ------------------------------------------------- */

/* Context teardown: the touched list (its references die with the regions). */
static void free_pending(ms_ctx *ctx)
{
	free(ctx->touched);
	ctx->touched = NULL;
	ctx->nr_touched = ctx->cap_touched = 0;
	free(ctx->dirty);
	ctx->dirty = NULL;
	ctx->nr_dirty = ctx->cap_dirty = 0;
}

int ms__txn_touch(ms_region *r)
{
	ms_ctx *ctx = r->ctx;
	int rc;

	if (r->touched == ctx->touch_epoch)
		return 0;
	rc = ms__ctx_grow(ctx, (void **)&ctx->touched, &ctx->cap_touched, ctx->nr_touched + 1,
			  sizeof(*ctx->touched));
	if (rc < 0)
		return rc;
	ms__ctx_on_free(ctx, MS__FREE_TXN, free_pending);
	ctx->touched[ctx->nr_touched++] = ms_region_ref(r);
	r->touched = ctx->touch_epoch;
	return 0;
}

/* Drop the touched records after the first @nr (a failed mutation's own). */
static void touched_truncate(ms_ctx *ctx, size_t nr)
{
	while (ctx->nr_touched > nr) {
		ms_region *r = ctx->touched[--ctx->nr_touched];

		r->touched = 0; /* a later touch records it again */
		ms_region_unref(r);
	}
}

static void dirty_reset(ms_ctx *ctx);

/* Forget every pending change (after a commit, or after an undo). */
static void discard_pending(ms_ctx *ctx)
{
	size_t i, nr = ctx->nr_touched;

	ctx->nr_touched = 0;
	ctx->touch_epoch++;
	dirty_reset(ctx);
	for (i = 0; i < nr; i++)
		ms_region_unref(ctx->touched[i]);
}

/* Mark every region from which a touched region is reachable. */
static int mark_ancestors(ms_ctx *ctx, uint64_t mark)
{
	ms_region **stack = NULL;
	size_t depth = 0, cap = 0, i;
	int rc = 0;

	for (i = 0; i < ctx->nr_touched && rc == 0; i++) {
		rc = ms__ctx_grow(ctx, (void **)&stack, &cap, depth + 1, sizeof(*stack));
		if (rc < 0)
			break;
		stack[depth++] = ctx->touched[i];
		while (depth > 0) {
			ms_region *r = stack[--depth];
			size_t need = 1 + r->nr_aliased_by;
			size_t j;

			if (r->mark == mark)
				continue;
			rc = ms__ctx_grow(ctx, (void **)&stack, &cap, depth + need, sizeof(*stack));
			if (rc < 0)
				break;
			r->mark = mark;
			if (r->container)
				stack[depth++] = r->container;
			for (j = 0; j < r->nr_aliased_by; j++)
				stack[depth++] = r->aliased_by[j];
		}
	}
	free(stack);
	return rc;
}

/* ---- dirty windows ------------------------------------------------------------ */

#define DIRTY_MAX_STEPS 256    /* per recorded change */
#define DIRTY_MAX_RECORDS 4096 /* per commit */
#define WINDOWS_MAX 256        /* per view; beyond that a full render is cheaper */

static void dirty_record(ms_ctx *ctx, ms_region *root, ms__u128 lo, ms__u128 hi)
{
	if (lo >= MS__2_64)
		return;
	if (hi >= MS__2_64)
		hi = MS__2_64 - 1;
	if (ctx->nr_dirty >= DIRTY_MAX_RECORDS) {
		ctx->dirty_all = true;
		return;
	}
	/* Not through ms__ctx_grow(): a failure here is no error (the views are
	 * then rendered in full), so fault injection would only hide the
	 * allocations that can fail. */
	if (ctx->nr_dirty == ctx->cap_dirty) {
		size_t cap = ctx->cap_dirty ? 2 * ctx->cap_dirty : 16;
		ms__dirty *grown = realloc(ctx->dirty, cap * sizeof(*grown));

		if (!grown) {
			ctx->dirty_all = true;
			return;
		}
		ctx->dirty = grown;
		ctx->cap_dirty = cap;
	}
	ctx->dirty[ctx->nr_dirty++] = (ms__dirty){root, (uint64_t)lo, (uint64_t)hi};
}

typedef struct dirty_step {
	ms_region *r;
	ms__u128 lo, hi, clip;
} dirty_step;

void ms__txn_dirty(ms_region *r, ms__u128 lo, ms__u128 hi, ms__u128 clip)
{
	ms_ctx *ctx = r->ctx;
	dirty_step stack[32];
	size_t depth = 0, steps = 0, j;

	if (ctx->dirty_all)
		return;
	stack[depth++] = (dirty_step){r, lo, hi, clip};
	while (depth > 0 && !ctx->dirty_all) {
		dirty_step e = stack[--depth];

		if (++steps > DIRTY_MAX_STEPS) {
			ctx->dirty_all = true; /* e.g. an alias cycle through a container */
			break;
		}
		if (e.clip == 0)
			continue;
		if (e.hi > e.clip - 1)
			e.hi = e.clip - 1;
		if (e.lo > e.hi)
			continue;
		r = e.r;
		/* A flatview root renders offset x of itself at r->addr + x. */
		if (r->fv_root_users)
			dirty_record(ctx, r, e.lo + r->addr, e.hi + r->addr);
		if (depth + 1 + r->nr_aliased_by > sizeof(stack) / sizeof(stack[0])) {
			ctx->dirty_all = true;
			break;
		}
		if (r->container)
			stack[depth++] = (dirty_step){r->container, e.lo + r->addr, e.hi + r->addr,
						      r->container->size};
		/* An alias shows [alias_offset, alias_offset + size) of r at its 0. */
		for (j = 0; j < r->nr_aliased_by; j++) {
			ms_region *a = r->aliased_by[j];

			if (e.hi < a->alias_offset)
				continue;
			stack[depth++] =
				(dirty_step){a, e.lo > a->alias_offset ? e.lo - a->alias_offset : 0,
					     e.hi - a->alias_offset, a->size};
		}
	}
}

static void dirty_reset(ms_ctx *ctx)
{
	ctx->nr_dirty = 0;
	ctx->dirty_all = false;
}

static int dirty_cmp(const void *pa, const void *pb)
{
	const ms__dirty *a = pa, *b = pb;

	if (a->root != b->root)
		return (uintptr_t)a->root < (uintptr_t)b->root ? -1 : 1;
	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	return 0;
}

/*
 * The merged windows recorded for @root (ctx->dirty sorted): *nr of them,
 * written to @out (room for WINDOWS_MAX). Return: false when there are more.
 */
static bool windows_of(ms_ctx *ctx, ms_region *root, ms__window *out, size_t *nr)
{
	size_t lo = 0, hi = ctx->nr_dirty, i, n = 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if ((uintptr_t)ctx->dirty[mid].root < (uintptr_t)root)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = lo; i < ctx->nr_dirty && ctx->dirty[i].root == root; i++) {
		const ms__dirty *d = &ctx->dirty[i];

		if (n > 0 && (out[n - 1].hi == UINT64_MAX || d->lo <= out[n - 1].hi + 1)) {
			if (d->hi > out[n - 1].hi)
				out[n - 1].hi = d->hi;
			continue;
		}
		if (n == WINDOWS_MAX)
			return false;
		out[n++] = (ms__window){.lo = d->lo, .hi = d->hi};
	}
	*nr = n;
	return true;
}

/*
 * Re-render only the windows of @old's root that changed. Return: 0,
 * -ENOMEM, -ELOOP, or -EAGAIN when a full render is needed instead.
 */
static int update_view(ms_flatview **out, ms_ctx *ctx, ms_flatview *old, ms__window *w, size_t nr)
{
	size_t i;
	int rc = 0;

	*out = NULL;
	if (nr == 0) {
		*out = ms_flatview_ref(old); /* nothing it shows changed */
		return 0;
	}
	for (i = 0; i < nr && rc == 0; i++)
		rc = ms__render_window(&w[i].ranges, &w[i].nr, ctx, ms_flatview_root(old), w[i].lo,
				       w[i].hi);
	if (rc == 0)
		rc = ms__flatview_splice(out, old, ms_flatview_root(old), w, nr);
	/* The limit bounds the view, as for a full render, not each window. */
	if (rc == 0 && ms_flatview_nr_ranges(*out) > ms__render_limit(ctx)) {
		ms_flatview_unref(*out);
		*out = NULL;
		rc = -E2BIG;
	}
	for (i = 0; i < nr; i++) {
		free(w[i].ranges);
		w[i].ranges = NULL;
	}
	if (rc == 0)
		ms__ctx_count_render(ctx, true);
	return rc;
}

typedef struct as_update {
	ms_flatview *view; /* new view (a reference), or NULL to keep the old one */
	ms_region *fv_root;
} as_update;

/* Decide and build the new views; publishes nothing. */
static int prepare_views(ms_ctx *ctx, as_update *upd, uint64_t mark, ms__window *windows)
{
	size_t i, nr_windows;
	int rc;

	/* Views that stay valid can be shared with updated address spaces. */
	for (i = 0; i < ctx->nr_as; i++) {
		ms_as *as = ctx->as[i];

		if (as->root->mark != mark && as->fv_root) {
			as->fv_root->commit_view = as->view;
			as->fv_root->commit_view_epoch = mark;
		}
	}
	for (i = 0; i < ctx->nr_as; i++) {
		ms_as *as = ctx->as[i];
		ms_region *root;

		if (as->root->mark != mark)
			continue;
		rc = ms__as_flatview_root_of(&root, as->root);
		if (rc < 0)
			return rc;
		upd[i].fv_root = root;
		if (!root) {
			upd[i].view = ms_flatview_ref(ms__as_empty_view(ctx));
		} else if (root->commit_view_epoch == mark) {
			upd[i].view = ms_flatview_ref(root->commit_view);
		} else if (root == as->fv_root && root->mark != mark) {
			upd[i].view = ms_flatview_ref(as->view);
		} else {
			/* Same flatview root: re-render only what changed in it. */
			rc = -EAGAIN;
			if (root == as->fv_root && !ctx->dirty_all &&
			    windows_of(ctx, root, windows, &nr_windows))
				rc = update_view(&upd[i].view, ctx, as->view, windows, nr_windows);
			if (rc == -EAGAIN)
				rc = ms__as_render_view(&upd[i].view, ctx, root);
			if (rc < 0)
				return rc;
		}
		if (root) {
			root->commit_view = upd[i].view;
			root->commit_view_epoch = mark;
		}
	}
	return 0;
}

static int commit(ms_ctx *ctx)
{
	struct ms__events **events = NULL;
	ms_flatview **old_views = NULL;
	ms__window *windows = NULL;
	as_update *upd = NULL;
	bool changed = false, events_changed = false;
	uint64_t mark;
	size_t i;
	int rc;

	if (ctx->nr_touched == 0 && !ctx->events_dirty)
		return 0;
	mark = ++ctx->epoch;
	upd = ms__ctx_calloc(ctx, ctx->nr_as + 1, sizeof(*upd));
	old_views = ms__ctx_calloc(ctx, ctx->nr_as + 1, sizeof(*old_views));
	events = ms__ctx_calloc(ctx, ctx->nr_as + 1, sizeof(*events));
	/* windows_of() writes every entry it hands out: no need to clear 8 KiB a commit. */
	windows = ms__ctx_malloc(ctx, WINDOWS_MAX * sizeof(*windows));
	rc = upd && old_views && events && windows ? 0 : -ENOMEM;
	if (rc == 0)
		rc = mark_ancestors(ctx, mark);
	if (rc == 0) {
		if (ctx->nr_dirty > 1)
			qsort(ctx->dirty, ctx->nr_dirty, sizeof(*ctx->dirty), dirty_cmp);
		rc = prepare_views(ctx, upd, mark, windows);
	}
	free(windows);
	/* What the coalesced windows and ioeventfds of the new views are. */
	for (i = 0; rc >= 0 && i < ctx->nr_as; i++) {
		ms_as *as = ctx->as[i];
		bool view_changed = upd[i].view && upd[i].view != as->view;

		rc = ms__listener_events_prepare(
			&events[i], as, view_changed ? upd[i].view : as->view, view_changed);
		if (rc > 0)
			events_changed = true;
	}
	if (rc < 0) {
		for (i = 0; upd && i < ctx->nr_as; i++)
			ms_flatview_unref(upd[i].view);
		for (i = 0; events && i < ctx->nr_as; i++)
			ms__listener_events_free(events[i]);
		free(events);
		free(upd);
		free(old_views);
		return rc;
	}

	/* Publish: cannot fail from here on. */
	for (i = 0; i < ctx->nr_as; i++) {
		ms_as *as = ctx->as[i];

		if (!upd[i].view)
			continue;
		ms__as_set_fv_root(as, upd[i].fv_root);
		if (upd[i].view == as->view) {
			ms_flatview_unref(upd[i].view);
			upd[i].view = NULL;
			continue;
		}
		old_views[i] = as->view;
		ms__publish(as->view, upd[i].view);
		changed = true;
	}

	if ((changed || events_changed) && ctx->nr_listeners > 0) {
		ctx->in_listener = true;
		ms__listener_begin(ctx);
		for (i = 0; i < ctx->nr_as; i++) {
			if (upd[i].view)
				ms__listener_diff(ctx->as[i], old_views[i], upd[i].view);
			ms__listener_events_diff(ctx->as[i], events[i]);
		}
		ms__listener_commit(ctx);
		ctx->in_listener = false;
	} else {
		for (i = 0; i < ctx->nr_as; i++)
			ms__listener_events_free(events[i]);
	}
	ctx->events_dirty = false;

	for (i = 0; i < ctx->nr_as; i++)
		ms_flatview_unref(old_views[i]);
	free(events);
	free(upd);
	free(old_views);
	discard_pending(ctx);
	ms__as_reap(ctx); /* spaces freed by listener callbacks */
#ifndef NDEBUG
	assert(ms__as_check(ctx) == 0);
#endif
	return 0;
}

/* ---- transactions and mutations -------------------------------------------------- */

int ms_transaction_begin(ms_ctx *ctx)
{
	if (!ctx)
		return -EINVAL;
	ms__ctx_lock(ctx);
	if (ctx->in_listener) {
		ms__ctx_unlock(ctx);
		return -EBUSY;
	}
	ctx->depth++;
	return 0;
}

int ms_transaction_commit(ms_ctx *ctx)
{
	int rc = 0;

	ms__ctx_lock(ctx);
	if (ctx->depth == 0) {
		ms__ctx_unlock(ctx);
		return -EPERM;
	}
	if (--ctx->depth == 0 && !ctx->in_listener)
		rc = commit(ctx);
	ms__ctx_unlock(ctx); /* the lock taken above */
	ms__ctx_unlock(ctx); /* the lock taken by ms_transaction_begin() */
	return rc;
}

unsigned int ms_transaction_depth(const ms_ctx *ctx)
{
	return ctx->depth;
}

int ms__txn_mutation_begin(ms__txn_mutation *m, ms_ctx *ctx)
{
	ms__ctx_lock(ctx);
	if (ctx->in_listener) {
		ms__ctx_unlock(ctx);
		return -EBUSY;
	}
	m->ctx = ctx;
	m->clean = ctx->depth == 0 && ctx->nr_touched == 0;
	m->touched_before = ctx->nr_touched;
	ctx->depth++;
	return 0;
}

void ms__txn_mutation_cancel(ms__txn_mutation *m)
{
	m->ctx->depth--;
	ms__ctx_unlock(m->ctx);
}

/*
 * On a failed commit the tree goes back as it was (the touched records made
 * before the change still cover it), and the change records go too: all of
 * them when nothing else was pending before, else only the ones this
 * mutation added (its dirty windows stay: re-rendering a little more is
 * harmless).
 */
int ms__txn_mutation_end(ms__txn_mutation *m, void (*undo)(void *state), void *state)
{
	ms_ctx *ctx = m->ctx;
	int rc = 0;

	if (--ctx->depth == 0)
		rc = commit(ctx);
	if (rc < 0) {
		undo(state);
		if (m->clean)
			discard_pending(ctx);
		else
			touched_truncate(ctx, m->touched_before);
	}
	ms__ctx_unlock(ctx);
	return rc;
}

void ms__txn_dirty_all(ms_ctx *ctx)
{
	ctx->dirty_all = true;
}
