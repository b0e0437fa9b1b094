/*
 * as.c: address spaces and the commit.
 *
 * A commit (1) marks every region from which a touched region can be
 * reached, walking up containers and alias back references; (2) for each
 * address space whose root is marked, finds its flatview root and builds
 * the new view off to the side: when the root is unchanged, only the
 * windows that the mutations recorded (ms__region_dirty(), below) are
 * re-rendered and spliced into the old view, whose other chunks are shared;
 * otherwise the root is rendered in full. One view is shared between
 * address spaces with the same flatview root; (3) publishes each new view with one
 * rcu_assign_pointer(); (4) tells the listeners the differences; (5) drops
 * the old views through call_rcu(). Steps 1-2 may fail; then nothing is
 * published and the pending changes stay recorded. Steps 3-5 cannot fail.
 * Views whose roots were not touched are neither rendered nor compared, so
 * commit work follows what changed, not the size of the machine.
 *
 * Locking: everything here runs with the topology lock held, except the
 * reader entry points (ms_as_get_flatview, ms_as_rcu_view).
 *
 * SPDX-License-Identifier: MIT
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* QEMU's flatview-root rule (qemu-mtree README F4). */
static int flatview_root_of(ms_region **out, ms_region *mr)
{
	unsigned steps = 0;

	while (mr && mr->enabled) {
		if (++steps > MS__RENDER_MAX_DEPTH)
			return -ELOOP;
		if (mr->kind == MS_REGION_ALIAS) {
			if (mr->alias_offset == 0 && mr->size >= mr->alias->size) {
				mr = mr->alias;
				continue;
			}
		} else if (!ms__region_terminates(mr)) {
			ms_region *only = NULL;
			size_t i, enabled = 0;

			for (i = 0; i < mr->nr_subs && enabled < 2; i++) {
				if (mr->subs[i]->enabled) {
					enabled++;
					only = mr->subs[i];
				}
			}
			if (enabled == 0) {
				*out = NULL;
				return 0;
			}
			if (enabled == 1 && only->addr == 0 && only->size <= mr->size) {
				mr = only;
				continue;
			}
		}
		*out = mr;
		return 0;
	}
	*out = NULL;
	return 0;
}

/* Mark every region from which a touched region is reachable. */
static int mark_ancestors(ms_ctx *ctx, uint64_t mark)
{
	ms_region **stack = NULL;
	size_t depth = 0, cap = 0, i;
	int rc = 0;

	for (i = 0; i < ctx->nr_touched && rc == 0; i++) {
		rc = ms__grow(ctx, (void **)&stack, &cap, depth + 1, sizeof(*stack));
		if (rc < 0)
			break;
		stack[depth++] = ctx->touched[i];
		while (depth > 0) {
			ms_region *r = stack[--depth];
			size_t need = 1 + r->nr_aliased_by;
			size_t j;

			if (r->mark == mark)
				continue;
			rc = ms__grow(ctx, (void **)&stack, &cap, depth + need, sizeof(*stack));
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
	/* Not through ms__grow(): a failure here is no error (the views are
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

void ms__region_dirty(ms_region *r, ms__u128 lo, ms__u128 hi, ms__u128 clip)
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
			stack[depth++] = (dirty_step){
				a, e.lo > a->alias_offset ? e.lo - a->alias_offset : 0,
				e.hi - a->alias_offset, a->size};
		}
	}
}

void ms__dirty_reset(ms_ctx *ctx)
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
static int update_view(ms_flatview **out, ms_ctx *ctx, ms_flatview *old, ms__window *w,
		       size_t nr)
{
	size_t i;
	int rc = 0;

	*out = NULL;
	if (nr == 0) {
		*out = ms_flatview_ref(old); /* nothing it shows changed */
		return 0;
	}
	for (i = 0; i < nr && rc == 0; i++)
		rc = ms__render_window(&w[i].ranges, &w[i].nr, ctx, old->root, w[i].lo, w[i].hi);
	if (rc == 0)
		rc = ms__flatview_splice(out, old, old->root, w, nr);
	for (i = 0; i < nr; i++) {
		free(w[i].ranges);
		w[i].ranges = NULL;
	}
	if (rc == 0) {
		__atomic_fetch_add(&ctx->render_count, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&ctx->splice_count, 1, __ATOMIC_RELAXED);
	}
	return rc;
}

static int render_view(ms_flatview **out, ms_ctx *ctx, ms_region *root)
{
	ms__range *ranges;
	size_t nr;
	int rc;

	rc = ms__render(&ranges, &nr, ctx, root);
	if (rc < 0)
		return rc;
	rc = ms__flatview_new(out, ctx, root, ranges, nr);
	free(ranges);
	if (rc < 0)
		return rc;
	__atomic_fetch_add(&ctx->render_count, 1, __ATOMIC_RELAXED);
	return 0;
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
		rc = flatview_root_of(&root, as->root);
		if (rc < 0)
			return rc;
		upd[i].fv_root = root;
		if (!root) {
			upd[i].view = ms_flatview_ref(ctx->empty_view);
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
				rc = render_view(&upd[i].view, ctx, root);
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

static void set_fv_root(ms_as *as, ms_region *root)
{
	if (as->fv_root == root)
		return;
	if (as->fv_root)
		as->fv_root->fv_root_users--;
	if (root)
		root->fv_root_users++;
	as->fv_root = root;
}

int ms__commit(ms_ctx *ctx)
{
	ms_flatview **old_views = NULL;
	ms__window *windows = NULL;
	as_update *upd = NULL;
	bool changed = false;
	uint64_t mark;
	size_t i;
	int rc;

	if (ctx->nr_touched == 0)
		return 0;
	mark = ++ctx->epoch;
	upd = ms__calloc(ctx, ctx->nr_as + 1, sizeof(*upd));
	old_views = ms__calloc(ctx, ctx->nr_as + 1, sizeof(*old_views));
	windows = ms__calloc(ctx, WINDOWS_MAX, sizeof(*windows));
	rc = upd && old_views && windows ? 0 : -ENOMEM;
	if (rc == 0)
		rc = mark_ancestors(ctx, mark);
	if (rc == 0) {
		if (ctx->nr_dirty > 1)
			qsort(ctx->dirty, ctx->nr_dirty, sizeof(*ctx->dirty), dirty_cmp);
		rc = prepare_views(ctx, upd, mark, windows);
	}
	free(windows);
	if (rc < 0) {
		for (i = 0; upd && i < ctx->nr_as; i++)
			ms_flatview_unref(upd[i].view);
		free(upd);
		free(old_views);
		return rc;
	}

	/* Publish: cannot fail from here on. */
	for (i = 0; i < ctx->nr_as; i++) {
		ms_as *as = ctx->as[i];

		if (!upd[i].view)
			continue;
		set_fv_root(as, upd[i].fv_root);
		if (upd[i].view == as->view) {
			ms_flatview_unref(upd[i].view);
			upd[i].view = NULL;
			continue;
		}
		old_views[i] = as->view;
		ms__publish(as->view, upd[i].view);
		changed = true;
	}

	if (changed && ctx->nr_listeners > 0) {
		ctx->in_listener = true;
		ms__listeners_begin(ctx);
		for (i = 0; i < ctx->nr_as; i++)
			if (upd[i].view)
				ms__listeners_diff(ctx->as[i], old_views[i], upd[i].view);
		ms__listeners_commit(ctx);
		ctx->in_listener = false;
	}

	for (i = 0; i < ctx->nr_as; i++)
		ms_flatview_unref(old_views[i]);
	free(upd);
	free(old_views);
	ms__discard_pending(ctx);
#ifndef NDEBUG
	assert(ms__ctx_check(ctx) == 0);
#endif
	return 0;
}

int ms__ctx_check(ms_ctx *ctx)
{
	uint64_t saved = __atomic_exchange_n(&ctx->alloc_countdown, 0, __ATOMIC_RELAXED);
	int rc = 0;
	size_t i, j;

	for (i = 0; i < ctx->nr_as && rc == 0; i++) {
		ms_as *as = ctx->as[i];
		ms__range *ranges = NULL;
		ms_region *root;
		size_t nr = 0;

		rc = ms__flatview_check(as->view);
		if (rc == 0)
			rc = flatview_root_of(&root, as->root);
		if (rc == 0 && (root != as->fv_root || root != as->view->root))
			rc = -EINVAL;
		if (rc == 0)
			rc = ms__render(&ranges, &nr, ctx, root);
		if (rc == 0 && nr != as->view->nr)
			rc = -EINVAL;
		for (j = 0; rc == 0 && j < nr; j++) {
			const ms__range *have = ms__flatview_at(as->view, j);

			if (!ms__range_equal(&ranges[j], have) ||
			    ranges[j].dirty_log_mask != have->dirty_log_mask)
				rc = -EINVAL;
		}
		free(ranges);
	}
	__atomic_store_n(&ctx->alloc_countdown, saved, __ATOMIC_RELAXED);
	return rc;
}

/* ---- address spaces ------------------------------------------------------- */

/*
 * Give a new address space its view at once, even inside a transaction:
 * share the view of an address space with the same flatview root, or
 * render one from the current tree.
 */
static int initial_view(ms_as *as)
{
	ms_ctx *ctx = as->ctx;
	ms_region *root;
	size_t i;
	int rc;

	rc = flatview_root_of(&root, as->root);
	if (rc < 0)
		return rc;
	if (!root) {
		as->view = ms_flatview_ref(ctx->empty_view);
		return 0;
	}
	for (i = 0; i < ctx->nr_as; i++) {
		if (ctx->as[i]->fv_root == root) {
			as->view = ms_flatview_ref(ctx->as[i]->view);
			set_fv_root(as, root);
			return 0;
		}
	}
	rc = render_view(&as->view, ctx, root);
	if (rc == 0)
		set_fv_root(as, root);
	return rc;
}

int ms_as_new(ms_as **out, ms_ctx *ctx, ms_region *root, const char *name)
{
	ms_as *as;
	bool clean;
	int rc;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!ctx || !root || !name)
		return -EINVAL;
	if (root->ctx != ctx)
		return -EXDEV;
	as = ms__calloc(ctx, 1, sizeof(*as));
	if (!as)
		return -ENOMEM;
	as->ctx = ctx;
	as->name = ms__strdup(ctx, name);
	if (!as->name) {
		free(as);
		return -ENOMEM;
	}
	rc = ms__mutation_begin(ctx, &clean);
	if (rc == 0) {
		rc = ms__grow(ctx, (void **)&ctx->as, &ctx->cap_as, ctx->nr_as + 1,
			      sizeof(*ctx->as));
		as->root = root;
		if (rc == 0)
			rc = initial_view(as);
		if (rc == 0) {
			ms_region_ref(root);
			ctx->as[ctx->nr_as++] = as;
		}
		/* Nothing else changed: no commit, so no listener hears of it. */
		ms__mutation_cancel(ctx);
	}
	if (rc < 0) {
		free(as->name);
		free(as);
		return rc;
	}
	*out = as;
	return 0;
}

int ms_as_free(ms_as *as)
{
	ms_ctx *ctx;
	size_t i;

	if (!as)
		return 0;
	ctx = as->ctx;
	ms__lock(ctx);
	if (ctx->in_listener) {
		ms__unlock(ctx);
		return -EBUSY;
	}
	for (i = 0; i < ctx->nr_listeners; i++) {
		if (ctx->listeners[i]->as == as) {
			ms__unlock(ctx);
			return -EBUSY;
		}
	}
	for (i = 0; i < ctx->nr_as; i++) {
		if (ctx->as[i] == as) {
			memmove(&ctx->as[i], &ctx->as[i + 1],
				(ctx->nr_as - i - 1) * sizeof(*ctx->as));
			ctx->nr_as--;
			break;
		}
	}
	ms__as_map_destroy(as);
	set_fv_root(as, NULL);
	ms_flatview_unref(as->view);
	ms_region_unref(as->root);
	free(as->name);
	free(as);
	ms__unlock(ctx);
	return 0;
}

const char *ms_as_name(const ms_as *as)
{
	return as->name;
}

ms_region *ms_as_root(const ms_as *as)
{
	return as->root;
}

ms_ctx *ms_as_ctx(const ms_as *as)
{
	return as->ctx;
}

size_t ms_ctx_nr_as(const ms_ctx *ctx)
{
	return ctx->nr_as;
}

ms_as *ms_ctx_as(const ms_ctx *ctx, size_t index)
{
	return index < ctx->nr_as ? ctx->as[index] : NULL;
}

ms_region *ms_as_flatview_root(const ms_as *as)
{
	return as->fv_root;
}

void ms_rcu_read_lock(void)
{
	ms__rcu_read_lock();
}

void ms_rcu_read_unlock(void)
{
	ms__rcu_read_unlock();
}

ms_flatview *ms_as_rcu_view(ms_as *as)
{
	return ms__deref(as->view);
}

ms_flatview *ms_as_get_flatview(ms_as *as)
{
	ms_flatview *fv;

	ms__rcu_read_lock();
	do {
		fv = ms__deref(as->view);
	} while (!ms__flatview_tryref(fv));
	ms__rcu_read_unlock();
	return fv;
}
