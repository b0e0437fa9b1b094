/*
 * ctx.c: the memory-system context.
 *
 * A context owns the topology lock (a recursive mutex, so a thread inside a
 * transaction can keep mutating), the transaction depth, the lists of
 * regions, address spaces and listeners, and the allocation counter used for
 * fault injection. Nothing in the library is process-global except liburcu's
 * own reader registry and call_rcu worker.
 *
 * Invariant: ctx->depth > 0 exactly while some thread holds the lock inside
 * ms_transaction_begin()/commit().
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

bool ms__inject_failure(ms_ctx *ctx)
{
	uint64_t n = __atomic_load_n(&ctx->alloc_countdown, __ATOMIC_RELAXED);

	while (n != 0) {
		if (__atomic_compare_exchange_n(&ctx->alloc_countdown, &n, n - 1, false,
						__ATOMIC_RELAXED, __ATOMIC_RELAXED))
			return n == 1;
	}
	return false;
}

void *ms__malloc(ms_ctx *ctx, size_t size)
{
	if (ms__inject_failure(ctx))
		return NULL;
	return malloc(size ? size : 1);
}

void *ms__calloc(ms_ctx *ctx, size_t n, size_t size)
{
	if (ms__inject_failure(ctx))
		return NULL;
	return calloc(n ? n : 1, size ? size : 1);
}

void *ms__realloc(ms_ctx *ctx, void *p, size_t size)
{
	if (ms__inject_failure(ctx))
		return NULL;
	return realloc(p, size ? size : 1);
}

char *ms__strdup(ms_ctx *ctx, const char *s)
{
	size_t len = strlen(s) + 1;
	char *copy = ms__malloc(ctx, len);

	if (copy)
		memcpy(copy, s, len);
	return copy;
}

int ms__grow(ms_ctx *ctx, void **array, size_t *cap, size_t need, size_t elem)
{
	size_t new_cap;
	void *p;

	if (need <= *cap)
		return 0;
	new_cap = *cap ? *cap * 2 : 8;
	while (new_cap < need)
		new_cap *= 2;
	if (new_cap > SIZE_MAX / elem)
		return -ENOMEM;
	p = ms__realloc(ctx, *array, new_cap * elem);
	if (!p)
		return -ENOMEM;
	*array = p;
	*cap = new_cap;
	return 0;
}

void ms__lock(ms_ctx *ctx)
{
	pthread_mutex_lock(&ctx->lock);
}

void ms__unlock(ms_ctx *ctx)
{
	pthread_mutex_unlock(&ctx->lock);
}

int ms_ctx_new(ms_ctx **out)
{
	pthread_mutexattr_t attr;
	ms_ctx *ctx;
	int rc;

	if (!out)
		return -EINVAL;
	*out = NULL;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	rc = pthread_mutex_init(&ctx->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	if (rc != 0) {
		free(ctx);
		return -rc;
	}
	ctx->touch_epoch = 1;
	rc = ms__flatview_new(&ctx->empty_view, ctx, NULL, NULL, 0);
	if (rc < 0) {
		pthread_mutex_destroy(&ctx->lock);
		free(ctx);
		return rc;
	}
	*out = ctx;
	return 0;
}

void ms_ctx_free(ms_ctx *ctx)
{
	size_t i;

	if (!ctx)
		return;
	ms__lock(ctx);
	for (i = 0; i < ctx->nr_listeners; i++)
		free(ctx->listeners[i]);
	ctx->nr_listeners = 0;
	for (i = ctx->nr_as; i-- > 0;) {
		ms_as *as = ctx->as[i];

		ms__as_map_destroy(as);
		ms_flatview_unref(as->view);
		free(as->name);
		free(as);
	}
	ctx->nr_as = 0;
	ms_flatview_unref(ctx->empty_view);
	ctx->empty_view = NULL;
	ms__unlock(ctx);
	/* Views unreferenced above are freed by call_rcu callbacks; wait for
	 * them (they unreference regions) before freeing the regions. */
	rcu_barrier_bp();
	ms__rcu_reclaiming();
	ms__lock(ctx);
	ms__region_free_all(ctx);
	ms__unlock(ctx);
	free(ctx->touched);
	free(ctx->dirty);
	free(ctx->as);
	free(ctx->listeners);
	pthread_mutex_destroy(&ctx->lock);
	free(ctx);
}

void ms_transaction_begin(ms_ctx *ctx)
{
	ms__lock(ctx);
	ctx->depth++;
}

int ms_transaction_commit(ms_ctx *ctx)
{
	int rc = 0;

	ms__lock(ctx);
	if (ctx->depth == 0) {
		ms__unlock(ctx);
		return -EPERM;
	}
	if (--ctx->depth == 0 && !ctx->in_listener)
		rc = ms__commit(ctx);
	ms__unlock(ctx); /* the lock taken above */
	ms__unlock(ctx); /* the lock taken by ms_transaction_begin() */
	return rc;
}

int ms__mutation_begin(ms_ctx *ctx, bool *clean)
{
	ms__lock(ctx);
	if (ctx->in_listener) {
		ms__unlock(ctx);
		return -EBUSY;
	}
	*clean = ctx->depth == 0 && ctx->nr_touched == 0;
	if (ctx->depth == 0)
		ctx->mutation_touched = ctx->nr_touched;
	ctx->depth++;
	return 0;
}

int ms__mutation_commit(ms_ctx *ctx)
{
	if (--ctx->depth == 0)
		return ms__commit(ctx);
	return 0;
}

void ms__mutation_cancel(ms_ctx *ctx)
{
	ctx->depth--;
	ms__unlock(ctx);
}

void ms__touched_truncate(ms_ctx *ctx, size_t nr)
{
	while (ctx->nr_touched > nr) {
		ms_region *r = ctx->touched[--ctx->nr_touched];

		r->touched = 0; /* a later touch records it again */
		ms_region_unref(r);
	}
}

void ms__discard_pending(ms_ctx *ctx)
{
	size_t i, nr = ctx->nr_touched;

	ctx->nr_touched = 0;
	ctx->touch_epoch++;
	ms__dirty_reset(ctx);
	for (i = 0; i < nr; i++)
		ms_region_unref(ctx->touched[i]);
}

unsigned int ms_ctx_transaction_depth(const ms_ctx *ctx)
{
	return ctx->depth;
}

int ms_ctx_set_render_limit(ms_ctx *ctx, uint64_t max_ranges)
{
	if (!ctx)
		return -EINVAL;
	ms__lock(ctx);
	ctx->render_limit = max_ranges;
	ms__unlock(ctx);
	return 0;
}

uint64_t ms_ctx_render_count(const ms_ctx *ctx)
{
	return __atomic_load_n(&ctx->render_count, __ATOMIC_RELAXED);
}

void ms_ctx_fail_alloc_after(ms_ctx *ctx, uint64_t countdown)
{
	__atomic_store_n(&ctx->alloc_countdown, countdown, __ATOMIC_RELAXED);
}

unsigned int ms_version(void)
{
	return MS_VERSION_HEX;
}

const char *ms_version_string(void)
{
	return MS_VERSION_STRING;
}
