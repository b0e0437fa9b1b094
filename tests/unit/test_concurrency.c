/*
 * test_concurrency.c: lock-free readers against a committing writer.
 *
 * Two reader threads look up addresses in the published views (by reference
 * and inside their own RCU read-side sections) while the main thread commits
 * thousands of topology changes. Every view a reader sees must satisfy the
 * view invariants and show one of the states the writer published, never a
 * mix: the writer swaps two regions inside one transaction, so the swapped
 * address is always mapped by exactly one of them. Readers of one fresh view
 * race to build its flat table while looking up through it. Runs under
 * TSan in CI.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <pthread.h>
#include <stdlib.h>
#include <cmocka.h>

#include "flatview_int.h"
#include "map.h"
#include "txn.h"

#define COMMITS 3000

typedef struct shared {
	ms_as *as;
	ms_region *a, *b;
	int stop;       /* atomic */
	uint64_t reads; /* atomic */
	int failures;   /* atomic */
} shared;

static void check_view(shared *sh, const ms_flatview *fv)
{
	const ms__range *r = ms__dispatch_lookup(fv, 0x1000);

	if (ms__flatview_check(fv) != 0 || !r || (r->region != sh->a && r->region != sh->b))
		__atomic_fetch_add(&sh->failures, 1, __ATOMIC_RELAXED);
	/* The churn region may or may not be there; if found it must contain the address. */
	r = ms__dispatch_lookup(fv, 0x20000);
	if (r && (r->start > 0x20000 || r->last < 0x20000))
		__atomic_fetch_add(&sh->failures, 1, __ATOMIC_RELAXED);
}

static void *reader(void *arg)
{
	shared *sh = arg;
	unsigned i = 0;

	while (!__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE)) {
		if (i++ & 1) {
			ms_flatview *fv = ms_as_get_flatview(sh->as);

			check_view(sh, fv);
			ms_flatview_unref(fv);
		} else {
			ms_rcu_read_lock();
			check_view(sh, ms_as_rcu_view(sh->as));
			ms_rcu_read_unlock();
		}
		__atomic_fetch_add(&sh->reads, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void test_readers_see_only_published_views(void **state)
{
	ms_region *system, *churn;
	pthread_t threads[2];
	shared sh = {0};
	ms_ctx *ctx;
	int i;

	(void)state;
	assert_int_equal(ms_ctx_new(&ctx), 0);
	assert_int_equal(ms_region_new_container(&system, ctx, "system", MS_SIZE_2_64), 0);
	assert_int_equal(ms_region_new_ram(&sh.a, ctx, "a", 0x10000), 0);
	assert_int_equal(
		ms_region_new_io(&sh.b, ctx,
				 &(ms_region_io_opts){.name = "b", .size = 0x2000, .ops = NULL}),
		0);
	assert_int_equal(ms_region_add_subregion(system, 0, sh.a), 0);
	assert_int_equal(ms_region_add_subregion_overlap(system, 0, sh.b, 1), 0);
	assert_int_equal(ms_region_set_enabled(sh.b, false), 0);
	assert_int_equal(ms_as_new(&sh.as, ctx, system, "memory"), 0);

	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&threads[i], NULL, reader, &sh), 0);

	for (i = 0; i < COMMITS; i++) {
		bool b_on = i & 1;

		ms_transaction_begin(ctx);
		assert_int_equal(ms_region_set_enabled(sh.b, b_on), 0);
		assert_int_equal(ms_region_set_enabled(sh.a, !b_on || (i & 2)), 0);
		assert_int_equal(ms_transaction_commit(ctx), 0);

		/* Regions come and go; readers may hold views that map them. */
		assert_int_equal(ms_region_new_ram(&churn, ctx, "churn", 0x1000 + (i % 7) * 0x100),
				 0);
		assert_int_equal(ms_region_add_subregion(system, 0x20000 + (i % 5) * 0x80, churn),
				 0);
		assert_int_equal(ms_region_del_subregion(system, churn), 0);
		ms_region_unref(churn);
	}
	__atomic_store_n(&sh.stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < 2; i++)
		pthread_join(threads[i], NULL);

	assert_int_equal(sh.failures, 0);
	assert_true(sh.reads > 0);
	ms_as_free(sh.as);
	ms_region_unref(sh.a);
	ms_region_unref(sh.b);
	ms_region_unref(system);
	ms_ctx_free(ctx);
}

/* ---- readers racing to build a view's flat table -------------------------- */

#define TABLE_RANGES 2000
#define TABLE_BASE ((uint64_t)1 << 32)

typedef struct table_shared {
	ms_flatview *fv;
	pthread_barrier_t start;
	int failures; /* atomic */
} table_shared;

/* Random look-ups over the view's 4 KiB ranges and 4 KiB holes, checked. */
static void *table_reader(void *arg)
{
	table_shared *sh = arg;
	uint64_t x = (uint64_t)(uintptr_t)&x | 1;
	size_t i;

	pthread_barrier_wait(&sh->start);
	for (i = 0; i < 8 * (size_t)ms__flat_after(TABLE_RANGES); i++) {
		uint64_t k, off, addr;
		const ms_flat_entry *e;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		k = x % TABLE_RANGES;
		off = (x >> 20) % 8192;
		addr = TABLE_BASE + k * 8192 + off;
		e = ms_flatview_lookup(sh->fv, addr);
		if (off < 4096 ? !e || e->start != addr - off : e != NULL)
			__atomic_fetch_add(&sh->failures, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void test_readers_build_the_flat_table_together(void **state)
{
	ms__range *ranges = calloc(TABLE_RANGES, sizeof(*ranges));
	pthread_t threads[2];
	ms_region *region;
	ms_ctx *ctx;
	int round, i;

	(void)state;
	assert_non_null(ranges);
	assert_int_equal(ms_ctx_new(&ctx), 0);
	assert_int_equal(
		ms_region_new_io(&region, ctx,
				 &(ms_region_io_opts){.name = "io", .size = 0x1000, .ops = NULL}),
		0);
	for (i = 0; i < TABLE_RANGES; i++) {
		ranges[i].start = TABLE_BASE + (uint64_t)i * 8192;
		ranges[i].last = ranges[i].start + 4095;
		ranges[i].region = region;
		ranges[i].kind = (uint8_t)ms_region_get_kind(region);
		ranges[i].offset_in_region = (uint64_t)i * 10000; /* never merged */
	}
	for (round = 0; round < 8; round++) {
		table_shared sh = {0};

		assert_int_equal(ms__flatview_new(&sh.fv, ctx, region, ranges, TABLE_RANGES), 0);
		assert_int_equal(pthread_barrier_init(&sh.start, NULL, 3), 0);
		for (i = 0; i < 2; i++)
			assert_int_equal(pthread_create(&threads[i], NULL, table_reader, &sh), 0);
		table_reader(&sh);
		for (i = 0; i < 2; i++)
			pthread_join(threads[i], NULL);
		pthread_barrier_destroy(&sh.start);
		assert_int_equal(sh.failures, 0);
		assert_non_null(sh.fv->flat);
		assert_int_equal(ms__flatview_check(sh.fv), 0);
		ms_flatview_unref(sh.fv);
	}
	free(ranges);
	ms_region_unref(region);
	ms_ctx_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_readers_see_only_published_views),
		cmocka_unit_test(test_readers_build_the_flat_table_together),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
