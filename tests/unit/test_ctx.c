/*
 * test_ctx.c: the context (src/ctx.c): creation and destruction with
 * everything still in it, the version calls, the render count and the render
 * limit, and the allocation-failure countdown that test_faults.c builds on.
 * Transactions, which the context also keeps, are tested in test_txn.c.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>

#include "ms_unit.h"

/* ---- lifetime -------------------------------------------------------------------- */

static void test_ctx_new_without_out_is_einval(void **state)
{
	(void)state;
	assert_int_equal(ms_ctx_new(NULL), -EINVAL);
}

static const ms_listener_ops no_callbacks = {.version = MS_LISTENER_OPS_VERSION};

static void test_ctx_free_releases_live_address_spaces_and_listeners(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *root = new_container(ctx, "root", 0x10000);
	ms_listener *l;
	ms_as *as;

	(void)state;
	assert_int_equal(ms_region_add_subregion(root, 0, new_ram(ctx, "r", 0x1000)), 0);
	as = new_as(ctx, root, "as");
	new_as(ctx, root, "as2");
	assert_int_equal(ms_listener_register(&l, as, &no_callbacks, NULL), 0);
	/* Nothing is released by the caller: ms_ctx_free() frees it all. */
	ms_ctx_free(ctx);
	ms_ctx_free(NULL);
}

/* ---- version ---------------------------------------------------------------------- */

static void test_version_calls_match_the_header(void **state)
{
	char text[32];

	(void)state;
	assert_int_equal(ms_version(), MS_VERSION_HEX);
	assert_int_equal(ms_version() >> 16, MS_VERSION_MAJOR);
	assert_int_equal((ms_version() >> 8) & 0xff, MS_VERSION_MINOR);
	assert_int_equal(ms_version() & 0xff, MS_VERSION_PATCH);
	assert_string_equal(ms_version_string(), MS_VERSION_STRING);
	snprintf(text, sizeof(text), "%d.%d.%d", MS_VERSION_MAJOR, MS_VERSION_MINOR,
		 MS_VERSION_PATCH);
	assert_string_equal(ms_version_string(), text);
}

/* ---- render count and render limit ------------------------------------------------ */

static void test_render_count_starts_at_zero_and_is_per_context(void **state)
{
	ms_ctx *ctx = new_ctx(), *other = new_ctx();
	ms_region *root = new_container(ctx, "root", 0x10000);
	ms_region *r = new_ram(ctx, "r", 0x1000);
	ms_as *as;

	(void)state;
	assert_int_equal(ms_ctx_render_count(ctx), 0);
	/* No address space yet: nothing to render. */
	assert_int_equal(ms_region_add_subregion(root, 0x1000, r), 0);
	assert_int_equal(ms_ctx_render_count(ctx), 0);
	as = new_as(ctx, root, "as");
	assert_int_equal(ms_ctx_render_count(ctx), 1);
	assert_int_equal(ms_region_set_address(r, 0x2000), 0);
	assert_int_equal(ms_ctx_render_count(ctx), 2);
	assert_int_equal(ms_ctx_render_count(other), 0);
	ms_as_free(as);
	ms_region_unref(r);
	ms_region_unref(root);
	ms_ctx_free(ctx);
	ms_ctx_free(other);
}

/*
 * Each level shows the level below twice (two aliases), so level k renders
 * 2^k ranges of "leaf": 24 levels describe 16 million ranges in 50 regions.
 * A render beyond the context's limit fails with -E2BIG and changes nothing.
 */
static void test_exponential_alias_tree_hits_the_render_limit(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *level[25], *aliases[48], *root = new_container(ctx, "root", MS_SIZE_2_64);
	uint64_t size = 0x10;
	char name[32];
	ms_flatview *fv;
	ms_as *as;
	int k;

	(void)state;
	as = new_as(ctx, root, "as");
	assert_int_equal(ms_ctx_set_render_limit(NULL, 5), -EINVAL);
	assert_int_equal(ms_ctx_set_render_limit(ctx, 1000), 0);
	level[0] = new_io(ctx, "leaf", size);
	for (k = 1; k <= 24; k++) {
		snprintf(name, sizeof(name), "level%d", k);
		level[k] = new_container(ctx, name, 2 * size);
		for (int j = 0; j < 2; j++) {
			snprintf(name, sizeof(name), "a%d.%d", k, j);
			assert_int_equal(
				ms_region_new_alias(&aliases[2 * (k - 1) + j], ctx,
						    &(ms_region_alias_opts){.name = name,
									    .target = level[k - 1],
									    .offset = 0,
									    .size = size}),
				0);
			assert_int_equal(ms_region_add_subregion(level[k], j * size,
								 aliases[2 * (k - 1) + j]),
					 0);
		}
		size *= 2;
	}
	/* 2^9 = 512 ranges: fine; 2^10 ranges would be 1024 > 1000. */
	assert_int_equal(ms_region_add_subregion(root, 0, level[9]), 0);
	fv = ms_as_get_flatview(as);
	assert_int_equal(ms_flatview_nr_ranges(fv), 512);
	ms_flatview_unref(fv);
	assert_int_equal(ms_region_add_subregion(root, 1ull << 40, level[10]), -E2BIG);
	assert_null(ms_region_container(level[10]));
	fv = ms_as_get_flatview(as);
	assert_int_equal(ms_flatview_nr_ranges(fv), 512);
	ms_flatview_unref(fv);
	/* The whole tree (16 million ranges): refused after 64K, not hours of work. */
	assert_int_equal(ms_ctx_set_render_limit(ctx, 1 << 16), 0);
	assert_int_equal(ms_region_del_subregion(root, level[9]), 0);
	assert_int_equal(ms_region_add_subregion(root, 1ull << 40, level[24]), -E2BIG);
	assert_null(ms_region_container(level[24]));
	{
		ms_as *big;

		big = (ms_as *)&big;
		assert_int_equal(ms_as_new(&big, ctx, level[24], "big"), -E2BIG);
		assert_null(big);
		assert_int_equal(ms_ctx_nr_as(ctx), 1);
	}
	/* In a transaction: the commit fails and the change stays pending. */
	ms_transaction_begin(ctx);
	assert_int_equal(ms_region_add_subregion(root, 1ull << 40, level[24]), 0);
	assert_int_equal(ms_transaction_commit(ctx), -E2BIG);
	assert_ptr_equal(ms_region_container(level[24]), root);
	assert_int_equal(ms_region_del_subregion(root, level[24]), 0); /* commits the pair */
	assert_int_equal(ms_region_add_subregion(root, 1ull << 40, level[12]), 0);
	fv = ms_as_get_flatview(as);
	assert_int_equal(ms_flatview_nr_ranges(fv), 4096);
	ms_flatview_unref(fv);
	assert_int_equal(ms_ctx_set_render_limit(ctx, 0), 0); /* the default again */

	ms_as_free(as);
	for (k = 0; k < 48; k++)
		ms_region_unref(aliases[k]);
	for (k = 0; k <= 24; k++)
		ms_region_unref(level[k]);
	ms_region_unref(root);
	ms_ctx_free(ctx);
}

/* ---- allocation-failure injection --------------------------------------------------- */

static void test_fail_alloc_after_fails_one_allocation_of_that_context(void **state)
{
	ms_ctx *ctx = new_ctx(), *other = new_ctx();
	ms_region *r = (ms_region *)&r;

	(void)state;
	ms_ctx_test_control(ctx, MS_TEST_FAIL_ALLOC_AFTER, 1);
	/* Another context allocates as usual. */
	ms_region_unref(new_container(other, "other", 0x100));
	assert_int_equal(ms_region_new_container(&r, ctx, "c", 0x100), -ENOMEM);
	assert_null(r);
	/* The countdown is spent: the same call now succeeds. */
	ms_region_unref(new_container(ctx, "c", 0x100));
	/* A later allocation fails when the countdown reaches it ... */
	ms_ctx_test_control(ctx, MS_TEST_FAIL_ALLOC_AFTER, 2);
	assert_int_equal(ms_region_new_container(&r, ctx, "c", 0x100), -ENOMEM);
	/* ... and 0 turns injection off before it fires. */
	ms_ctx_test_control(ctx, MS_TEST_FAIL_ALLOC_AFTER, 1);
	ms_ctx_test_control(ctx, MS_TEST_FAIL_ALLOC_AFTER, 0);
	ms_region_unref(new_container(ctx, "c", 0x100));
	assert_int_equal(live_regions(ctx), 0);
	ms_ctx_free(ctx);
	ms_ctx_free(other);
}

static void test_test_control_and_begin_refuse_bad_input(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *root = new_container(ctx, "root", 0x1000);
	ms_as *as = new_as(ctx, root, "as");
	int64_t splices;

	(void)state;
	assert_int_equal(ms_ctx_test_control(NULL, MS_TEST_FAIL_ALLOC_AFTER, 1), -EINVAL);
	assert_int_equal(ms_ctx_test_control(ctx, (ms_test_op)0, 1), -EINVAL);
	assert_int_equal(ms_ctx_test_control(ctx, (ms_test_op)99, 1), -EINVAL);
	/* Nothing was armed: the next allocation succeeds. */
	assert_non_null(new_ram(ctx, "ram", 0x1000));
	splices = ms_ctx_test_control(ctx, MS_TEST_SPLICE_COUNT, 0);
	assert_true(splices >= 0);
	assert_int_equal(ms_transaction_begin(NULL), -EINVAL);
	assert_int_equal(ms_transaction_depth(ctx), 0);
	ms_as_free(as);
	ms_region_unref(root);
	ms_ctx_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ctx_new_without_out_is_einval),
		cmocka_unit_test(test_ctx_free_releases_live_address_spaces_and_listeners),
		cmocka_unit_test(test_version_calls_match_the_header),
		cmocka_unit_test(test_render_count_starts_at_zero_and_is_per_context),
		cmocka_unit_test(test_exponential_alias_tree_hits_the_render_limit),
		cmocka_unit_test(test_fail_alloc_after_fails_one_allocation_of_that_context),
		cmocka_unit_test(test_test_control_and_begin_refuse_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
