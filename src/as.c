/*
 * as.c: address spaces.
 *
 * An address space is a root region and the view published for it. Each
 * space gets its view when it is created (rendered, or shared with a space
 * of the same flatview root); later views are published by the commit
 * (txn.c). The flatview-root rule, the full render of a root and the
 * consistency check live here because both creation and commit use them.
 *
 * Locking: everything runs with the topology lock held, except the reader
 * entry points (ms_as_get_flatview, ms_as_rcu_view, ms_rcu_read_lock/unlock).
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "as.h"

/* QEMU's flatview-root rule (qemu-mtree README F4). */
int ms__as_flatview_root_of(ms_region **out, ms_region *mr)
{
	unsigned steps = 0;

	while (mr && mr->enabled) {
		if (++steps > MS_RENDER_MAX_DEPTH)
			return -ELOOP;
		if (mr->kind == MS_REGION_ALIAS) {
			if (mr->alias_offset == 0 && mr->size >= mr->alias->size) {
				mr = mr->alias;
				continue;
			}
		} else if (!ms__region_terminates(mr)) {
			ms_region *only = NULL, *sub;
			size_t enabled = 0;

			for (sub = ms__region_first_sub(mr); sub && enabled < 2;
			     sub = ms__region_next_sub(sub)) {
				if (sub->enabled) {
					enabled++;
					only = sub;
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

int ms__as_render_view(ms_flatview **out, ms_ctx *ctx, ms_region *root)
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
	ms__ctx_count_render(ctx, false);
	return 0;
}

void ms__as_set_fv_root(ms_as *as, ms_region *root)
{
	if (as->fv_root == root)
		return;
	if (as->fv_root)
		as->fv_root->fv_root_users--;
	if (root)
		root->fv_root_users++;
	as->fv_root = root;
}

int ms__as_check(ms_ctx *ctx)
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
			rc = ms__as_flatview_root_of(&root, as->root);
		if (rc == 0 && (root != as->fv_root || root != ms_flatview_root(as->view)))
			rc = -EINVAL;
		if (rc == 0)
			rc = ms__render(&ranges, &nr, ctx, root);
		if (rc == 0 && nr != ms_flatview_nr_ranges(as->view))
			rc = -EINVAL;
		for (j = 0; rc == 0 && j < nr; j++) {
			const ms__range *have = ms__flatview_at(as->view, j);

			if (!ms__render_range_equal(&ranges[j], have) ||
			    ranges[j].dirty_log_mask != have->dirty_log_mask)
				rc = -EINVAL;
		}
		free(ranges);
	}
	__atomic_store_n(&ctx->alloc_countdown, saved, __ATOMIC_RELAXED);
	return rc;
}

/* ---- address spaces ------------------------------------------------------- */

/* Free @as, already out of the context's list; lock held. */
static void as_destroy(ms_as *as)
{
	int stage;

	for (stage = 0; stage < MS__AS_FREE_NR_STAGES; stage++) {
		void (*fn)(ms_as *) = __atomic_load_n(&as->on_free[stage], __ATOMIC_RELAXED);

		if (fn)
			fn(as);
	}
	ms__as_set_fv_root(as, NULL);
	ms_flatview_unref(as->view);
	ms_region_unref(as->root);
	free(as->name);
	free(as);
}

/* Context teardown: every address space, then the empty view. */
static void free_all(ms_ctx *ctx)
{
	while (ctx->nr_as > 0)
		as_destroy(ctx->as[--ctx->nr_as]);
	free(ctx->as);
	ctx->as = NULL;
	ctx->cap_as = 0;
	ms_flatview_unref(ctx->empty_view);
	ctx->empty_view = NULL;
}

/* The empty view exists once the first address space does. 0 or -ENOMEM. */
static int ensure_empty_view(ms_ctx *ctx)
{
	if (ctx->empty_view)
		return 0;
	ms__ctx_on_free(ctx, MS__FREE_AS, free_all);
	return ms__flatview_new(&ctx->empty_view, ctx, NULL, NULL, 0);
}

ms_flatview *ms__as_empty_view(ms_ctx *ctx)
{
	return ctx->empty_view;
}

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

	rc = ms__as_flatview_root_of(&root, as->root);
	if (rc < 0)
		return rc;
	if (!root) {
		as->view = ms_flatview_ref(ctx->empty_view);
		return 0;
	}
	for (i = 0; i < ctx->nr_as; i++) {
		if (ctx->as[i]->fv_root == root) {
			as->view = ms_flatview_ref(ctx->as[i]->view);
			ms__as_set_fv_root(as, root);
			return 0;
		}
	}
	rc = ms__as_render_view(&as->view, ctx, root);
	if (rc == 0)
		ms__as_set_fv_root(as, root);
	return rc;
}

int ms_as_new(ms_as **out, ms_ctx *ctx, ms_region *root, const char *name)
{
	ms_as *as;
	int rc;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!ctx || !root || !name)
		return -EINVAL;
	if (root->ctx != ctx)
		return -EXDEV;
	as = ms__ctx_calloc(ctx, 1, sizeof(*as));
	if (!as)
		return -ENOMEM;
	as->ctx = ctx;
	as->name = ms__ctx_strdup(ctx, name);
	if (!as->name) {
		free(as);
		return -ENOMEM;
	}
	/* Nothing else changes: no commit, so no listener hears of it. */
	ms__ctx_lock(ctx);
	rc = ctx->in_listener ? -EBUSY : ensure_empty_view(ctx);
	if (rc == 0)
		rc = ms__ctx_grow(ctx, (void **)&ctx->as, &ctx->cap_as, ctx->nr_as + 1,
				  sizeof(*ctx->as));
	as->root = root;
	if (rc == 0)
		rc = initial_view(as);
	if (rc == 0) {
		ms_region_ref(root);
		ctx->as[ctx->nr_as++] = as;
	}
	ms__ctx_unlock(ctx);
	if (rc < 0) {
		free(as->name);
		free(as);
		return rc;
	}
	*out = as;
	return 0;
}

void ms__as_on_free(ms_as *as, ms__as_free_stage stage, void (*fn)(ms_as *as))
{
	__atomic_store_n(&as->on_free[stage], fn, __ATOMIC_RELAXED);
}

/* Take @as out of the context's list and free it. Lock held. */
static void as_unlink_and_destroy(ms_as *as)
{
	ms_ctx *ctx = as->ctx;
	size_t i;

	for (i = 0; i < ctx->nr_as; i++) {
		if (ctx->as[i] == as) {
			memmove(&ctx->as[i], &ctx->as[i + 1],
				(ctx->nr_as - i - 1) * sizeof(*ctx->as));
			ctx->nr_as--;
			break;
		}
	}
	as_destroy(as);
}

void ms__as_reap(ms_ctx *ctx)
{
	size_t i = 0;

	while (i < ctx->nr_as) {
		if (ctx->as[i]->free_pending)
			as_unlink_and_destroy(ctx->as[i]);
		else
			i++;
	}
}

void ms_as_free(ms_as *as)
{
	ms_ctx *ctx;

	if (!as)
		return;
	ctx = as->ctx;
	ms__ctx_lock(ctx);
	if (ctx->in_listener) {
		as->free_pending = true; /* ms__as_reap() frees it after the callbacks */
	} else {
		as_unlink_and_destroy(as);
		ms__as_reap(ctx); /* spaces its listeners' last callbacks freed */
	}
	ms__ctx_unlock(ctx);
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
