/*
 * ctx.c: the memory-system context (the bottom layer).
 *
 * A context owns the topology lock (a recursive mutex, so a thread inside a
 * transaction can keep mutating), allocation with fault injection, limits
 * and counters, and its own lifetime. Modules above hang their state off
 * the context and register their teardown with ms__ctx_on_free();
 * ms_ctx_free() runs those stages in order, so this file calls no module
 * above it. Nothing in the library is process-global except liburcu's own
 * reader registry and call_rcu worker.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"

#ifdef MS__TSAN
const char ms__rcu_sync_token;
#endif

bool ms__ctx_inject_failure(ms_ctx *ctx)
{
	uint64_t n = __atomic_load_n(&ctx->alloc_countdown, __ATOMIC_RELAXED);

	while (n != 0) {
		if (__atomic_compare_exchange_n(&ctx->alloc_countdown, &n, n - 1, false,
						__ATOMIC_RELAXED, __ATOMIC_RELAXED))
			return n == 1;
	}
	return false;
}

void *ms__ctx_malloc(ms_ctx *ctx, size_t size)
{
	if (ms__ctx_inject_failure(ctx))
		return NULL;
	return malloc(size ? size : 1);
}

void *ms__ctx_calloc(ms_ctx *ctx, size_t n, size_t size)
{
	if (ms__ctx_inject_failure(ctx))
		return NULL;
	return calloc(n ? n : 1, size ? size : 1);
}

void *ms__ctx_realloc(ms_ctx *ctx, void *p, size_t size)
{
	if (ms__ctx_inject_failure(ctx))
		return NULL;
	return realloc(p, size ? size : 1);
}

char *ms__ctx_strdup(ms_ctx *ctx, const char *s)
{
	size_t len = strlen(s) + 1;
	char *copy = ms__ctx_malloc(ctx, len);

	if (copy)
		memcpy(copy, s, len);
	return copy;
}

int ms__ctx_grow(ms_ctx *ctx, void **array, size_t *cap, size_t need, size_t elem)
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
	p = ms__ctx_realloc(ctx, *array, new_cap * elem);
	if (!p)
		return -ENOMEM;
	*array = p;
	*cap = new_cap;
	return 0;
}

void ms__ctx_lock(ms_ctx *ctx)
{
	pthread_mutex_lock(&ctx->lock);
}

void ms__ctx_unlock(ms_ctx *ctx)
{
	pthread_mutex_unlock(&ctx->lock);
}

void ms__ctx_on_free(ms_ctx *ctx, ms__free_stage stage, void (*fn)(ms_ctx *ctx))
{
	ctx->on_free[stage] = fn;
}

void ms__ctx_count_render(ms_ctx *ctx, bool windowed)
{
	__atomic_fetch_add(&ctx->render_count, 1, __ATOMIC_RELAXED);
	if (windowed)
		__atomic_fetch_add(&ctx->splice_count, 1, __ATOMIC_RELAXED);
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
	ctx->dirty_page_shift = 12;
	*out = ctx;
	return 0;
}

void ms__ctx_defer_free(ms_ctx *ctx, ms__garbage *head, ms__garbage *tail)
{
	void *top = __atomic_load_n(&ctx->garbage, __ATOMIC_RELAXED);

	do
		tail->next = top;
	while (!__atomic_compare_exchange_n(&ctx->garbage, &top, head, true, __ATOMIC_RELEASE,
					    __ATOMIC_RELAXED));
}

void ms__ctx_reap(ms_ctx *ctx)
{
	ms__garbage *g, *next;

	if (!__atomic_load_n(&ctx->garbage, __ATOMIC_RELAXED))
		return;
	for (g = __atomic_exchange_n(&ctx->garbage, NULL, __ATOMIC_ACQUIRE); g; g = next) {
		next = g->next;
		free(g);
	}
}

static void run_stage(ms_ctx *ctx, ms__free_stage stage)
{
	if (ctx->on_free[stage])
		ctx->on_free[stage](ctx);
}

void ms_ctx_free(ms_ctx *ctx)
{
	int stage;

	if (!ctx)
		return;
	ms__ctx_lock(ctx);
	for (stage = 0; stage < MS__FREE_REGIONS; stage++)
		run_stage(ctx, (ms__free_stage)stage);
	ms__ctx_unlock(ctx);
	/* Views unreferenced above are freed by call_rcu callbacks; wait for
	 * them (they unreference regions) before freeing the regions. */
	rcu_barrier_bp();
	ms__rcu_reclaiming();
	ms__ctx_reap(ctx);
	ms__ctx_lock(ctx);
	run_stage(ctx, MS__FREE_REGIONS);
	run_stage(ctx, MS__FREE_RAM);
	ms__ctx_unlock(ctx);
	pthread_mutex_destroy(&ctx->lock);
	free(ctx);
}

int ms_ctx_set_render_limit(ms_ctx *ctx, uint64_t max_ranges)
{
	if (!ctx)
		return -EINVAL;
	ms__ctx_lock(ctx);
	ctx->render_limit = max_ranges;
	ms__ctx_unlock(ctx);
	return 0;
}

uint64_t ms_ctx_render_count(const ms_ctx *ctx)
{
	return __atomic_load_n(&ctx->render_count, __ATOMIC_RELAXED);
}

int ms_ctx_set_max_access_depth(ms_ctx *ctx, unsigned depth)
{
	if (!ctx || depth == 0)
		return -EINVAL;
	__atomic_store_n(&ctx->max_access_depth, depth, __ATOMIC_RELAXED);
	return 0;
}

int64_t ms_ctx_test_control(ms_ctx *ctx, ms_test_op op, uint64_t arg)
{
	if (!ctx)
		return -EINVAL;
	switch (op) {
	case MS_TEST_FAIL_ALLOC_AFTER:
		__atomic_store_n(&ctx->alloc_countdown, arg, __ATOMIC_RELAXED);
		return 0;
	case MS_TEST_SPLICE_COUNT:
		return (int64_t)__atomic_load_n(&ctx->splice_count, __ATOMIC_RELAXED);
	}
	return -EINVAL;
}

const char *ms_strerror(int err)
{
	static const struct {
		int err;
		const char *text;
	} table[] = {
		{0, "0: success"},
		{EINVAL,
		 "EINVAL: invalid argument: a NULL or out-of-range argument, a region of the "
		 "wrong kind, or a callback table of another version"},
		{ENOMEM, "ENOMEM: out of memory; nothing changed"},
		{EBUSY, "EBUSY: busy: the region already has a container, or a listener callback "
			"is running (the topology cannot change there)"},
		{EXDEV, "EXDEV: the objects belong to different contexts"},
		{ELOOP, "ELOOP: a loop: the region would contain itself, an alias leads back into "
			"itself, or IOMMUs translate in a cycle"},
		{E2BIG, "E2BIG: a view would exceed the context's render limit"},
		{ENOENT, "ENOENT: not found: nothing is mapped there, or the region is not in that "
			 "container"},
		{EPERM, "EPERM: no transaction is open"},
		{ERANGE, "ERANGE: out of range: an index past the end, or more pages than a "
			 "default replay walks"},
		{EACCES,
		 "EACCES: access refused: an IOMMU gives no mapping or not this permission"},
		{EIO, "EIO: an IOMMU class returned a malformed entry or index"},
		{EFAULT, "EFAULT: the memory cannot be used that way (not RAM)"},
	};
	int code = err < 0 ? -err : err;

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].err == code)
			return table[i].text;
	return "unknown error";
}

unsigned int ms_version(void)
{
	return MS_VERSION_HEX;
}

const char *ms_version_string(void)
{
	return MS_VERSION_STRING;
}
