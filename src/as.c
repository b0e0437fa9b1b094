/*
 * as.c: address spaces and the commit.
 *
 * A commit (1) marks every region from which a touched region can be
 * reached, walking up containers and alias back references; (2) for each
 * address space whose root is marked, finds its flatview
 * root and renders it off to the side, sharing one view between address
 * spaces with the same flatview root; (3) publishes each new view with one
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

static int render_view(ms_flatview **out, ms_ctx *ctx, ms_region *root)
{
	ms__range *ranges;
	size_t nr;
	int rc;

	rc = ms__render(&ranges, &nr, ctx, root);
	if (rc < 0)
		return rc;
	rc = ms__flatview_new(out, ctx, root, ranges, nr);
	if (rc < 0) {
		free(ranges);
		return rc;
	}
	__atomic_fetch_add(&ctx->render_count, 1, __ATOMIC_RELAXED);
	return 0;
}

typedef struct as_update {
	ms_flatview *view; /* new view (a reference), or NULL to keep the old one */
	ms_region *fv_root;
} as_update;

/* Decide and build the new views; publishes nothing. */
static int prepare_views(ms_ctx *ctx, as_update *upd, uint64_t mark)
{
	size_t i;
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

int ms__commit(ms_ctx *ctx)
{
	ms_flatview **old_views = NULL;
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
	rc = upd && old_views ? 0 : -ENOMEM;
	if (rc == 0)
		rc = mark_ancestors(ctx, mark);
	if (rc == 0)
		rc = prepare_views(ctx, upd, mark);
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
		as->fv_root = upd[i].fv_root;
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
		for (j = 0; rc == 0 && j < nr; j++)
			if (!ms__range_equal(&ranges[j], &as->view->ranges[j]) ||
			    ranges[j].dirty_log_mask != as->view->ranges[j].dirty_log_mask)
				rc = -EINVAL;
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
	as->fv_root = root;
	if (!root) {
		as->view = ms_flatview_ref(ctx->empty_view);
		return 0;
	}
	for (i = 0; i < ctx->nr_as; i++) {
		if (ctx->as[i]->fv_root == root) {
			as->view = ms_flatview_ref(ctx->as[i]->view);
			return 0;
		}
	}
	return render_view(&as->view, ctx, root);
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

/* Take a reference unless the count already dropped to 0 (being freed). */
static bool flatview_tryref(ms_flatview *fv)
{
	uint32_t n = __atomic_load_n(&fv->refcount, __ATOMIC_RELAXED);

	while (n != 0) {
		if (__atomic_compare_exchange_n(&fv->refcount, &n, n + 1, true, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return true;
	}
	return false;
}

ms_flatview *ms_as_get_flatview(ms_as *as)
{
	ms_flatview *fv;

	ms__rcu_read_lock();
	do {
		fv = ms__deref(as->view);
	} while (!flatview_tryref(fv));
	ms__rcu_read_unlock();
	return fv;
}
