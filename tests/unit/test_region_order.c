/*
 * test_region_order.c: the subregion storage of a container (region.c,
 * struct ms__sibling in region.h) against a reference model.
 *
 * The model is a plain array kept in QEMU's order the obvious way: a new
 * subregion goes before the first one whose priority is lower or equal, so
 * priority descending and, among equals, the most recently added first; a
 * move (new address or priority) re-adds it. After every step the public
 * view (ms_region_nr_subregions(), ms_region_subregion() at every index, and
 * NULL past the end) must equal the model, and ms__region_subs_check() must
 * find the container's list, rendering-order set and address index
 * consistent. Removals run in insertion order, in reverse and at random; a
 * failed removal and a failed move must put the subregion back exactly where
 * it was.
 *
 * SPDX-License-Identifier: MIT
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "ms_rng.h"
#include "ms_unit.h"

typedef struct model {
	ms_region **order; /* QEMU's order */
	size_t nr;
} model;

static size_t model_index(const model *m, const ms_region *r)
{
	for (size_t i = 0; i < m->nr; i++)
		if (m->order[i] == r)
			return i;
	fail_msg("region %s not in the model", ms_region_name(r));
	return SIZE_MAX;
}

/* QEMU's insertion: before the first sibling whose priority is <= @r's. */
static void model_add(model *m, ms_region *r)
{
	size_t i;

	for (i = 0; i < m->nr; i++)
		if (ms_region_priority(m->order[i]) <= ms_region_priority(r))
			break;
	memmove(&m->order[i + 1], &m->order[i], (m->nr - i) * sizeof(*m->order));
	m->order[i] = r;
	m->nr++;
}

static void model_remove(model *m, const ms_region *r)
{
	size_t i = model_index(m, r);

	memmove(&m->order[i], &m->order[i + 1], (m->nr - i - 1) * sizeof(*m->order));
	m->nr--;
}

/* The library's view of @c equals the model, index by index. */
static void check_order(const ms_region *c, const model *m)
{
	assert_int_equal(ms__region_subs_check(c), 0);
	assert_int_equal(ms_region_nr_subregions(c), m->nr);
	for (size_t i = 0; i < m->nr; i++) {
		const ms_region *got = ms_region_subregion(c, i);

		if (got != m->order[i])
			fail_msg("index %zu: %s (priority %d), model %s (priority %d)", i,
				 got ? ms_region_name(got) : "NULL",
				 got ? ms_region_priority(got) : 0, ms_region_name(m->order[i]),
				 ms_region_priority(m->order[i]));
	}
	assert_null(ms_region_subregion(c, m->nr));
	assert_null(ms_region_subregion(c, SIZE_MAX));
}

/* Only a few indexes: for the big cases, where a full check every step is quadratic. */
static void spot_check(const ms_region *c, const model *m, ms_rng *rng)
{
	assert_int_equal(ms_region_nr_subregions(c), m->nr);
	for (int k = 0; k < 8 && m->nr > 0; k++) {
		size_t i = (size_t)ms_rng_below(rng, m->nr);

		assert_ptr_equal(ms_region_subregion(c, i), m->order[i]);
	}
}

typedef struct bench {
	ms_ctx *ctx;
	ms_region *root;
	ms_region **r;
	size_t n;
	model m;
} bench;

/* @n I/O reservations of 0x1000, not yet placed. */
static bench bench_new(size_t n)
{
	bench b = {.ctx = new_ctx(), .n = n};
	char name[32];

	b.root = new_container(b.ctx, "root", MS_SIZE_2_64);
	b.r = calloc(n, sizeof(*b.r));
	b.m.order = calloc(n, sizeof(*b.m.order));
	assert_non_null(b.r);
	assert_non_null(b.m.order);
	for (size_t i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "r%zu", i);
		b.r[i] = new_io(b.ctx, name, 0x1000);
	}
	return b;
}

static void bench_free(bench *b)
{
	for (size_t i = 0; i < b->n; i++)
		ms_region_unref(b->r[i]);
	ms_region_unref(b->root);
	assert_int_equal(live_regions(b->ctx), 0);
	ms_ctx_free(b->ctx);
	free(b->r);
	free(b->m.order);
}

static void place(bench *b, size_t i, uint64_t addr, int priority)
{
	assert_int_equal(ms_region_add_subregion_overlap(b->root, addr, b->r[i], priority), 0);
	model_add(&b->m, b->r[i]);
}

static void unplace(bench *b, size_t i)
{
	assert_int_equal(ms_region_del_subregion(b->root, b->r[i]), 0);
	model_remove(&b->m, b->r[i]);
}

/* A small spread of priorities, with the extremes now and then. */
static int random_priority(ms_rng *rng)
{
	switch (ms_rng_below(rng, 16)) {
	case 0:
		return INT_MIN;
	case 1:
		return INT_MAX;
	default:
		return (int)ms_rng_below(rng, 5) - 2;
	}
}

/*
 * Random adds, removals, priority changes and moves among 300 regions with
 * mixed priorities; the whole order is compared after every step.
 */
static void test_order_follows_qemu_rule_through_random_edits(void **state)
{
	bench b = bench_new(300);
	ms_rng rng;

	(void)state;
	ms_rng_seed(&rng, 15);
	for (unsigned step = 0; step < 4000; step++) {
		size_t i = (size_t)ms_rng_below(&rng, b.n);
		ms_region *r = b.r[i];

		if (!ms_region_container(r)) {
			place(&b, i, ms_rng_below(&rng, 64) * 0x800, random_priority(&rng));
		} else {
			switch (ms_rng_below(&rng, 4)) {
			case 0:
				unplace(&b, i);
				break;
			case 1: {
				int priority = random_priority(&rng);
				bool moves = priority != ms_region_priority(r);

				/* An unchanged priority is no move (QEMU's rule too). */
				assert_int_equal(ms_region_set_priority(r, priority), 0);
				if (moves) {
					model_remove(&b.m, r);
					model_add(&b.m, r);
				}
				break;
			}
			case 2: {
				uint64_t addr = ms_rng_below(&rng, 64) * 0x800;
				bool moves = addr != ms_region_addr(r);

				assert_int_equal(ms_region_set_address(r, addr), 0);
				if (moves) {
					model_remove(&b.m, r);
					model_add(&b.m, r);
				}
				break;
			}
			default:
				/* Disabling leaves the order alone (but not the address index). */
				assert_int_equal(ms_region_set_enabled(r, !ms_region_enabled(r)),
						 0);
				break;
			}
		}
		check_order(b.root, &b.m);
	}
	bench_free(&b);
}

enum removal {
	IN_INSERTION_ORDER,
	IN_REVERSE,
	AT_RANDOM
};

/* 3,000 regions with mixed priorities, all removed in the order given. */
static void remove_all(enum removal how, uint64_t seed)
{
	bench b = bench_new(3000);
	size_t *perm = calloc(b.n, sizeof(*perm));
	ms_rng rng;

	assert_non_null(perm);
	ms_rng_seed(&rng, seed);
	for (size_t i = 0; i < b.n; i++) {
		perm[i] = i;
		place(&b, i, 0x100000000ull + i * 0x2000, random_priority(&rng));
		if (i % 251 == 0)
			spot_check(b.root, &b.m, &rng);
	}
	check_order(b.root, &b.m);
	for (size_t i = 0; how == AT_RANDOM && i + 1 < b.n; i++) {
		size_t j = i + (size_t)ms_rng_below(&rng, b.n - i);
		size_t t = perm[i];

		perm[i] = perm[j];
		perm[j] = t;
	}
	for (size_t k = 0; k < b.n; k++) {
		unplace(&b, how == IN_REVERSE ? perm[b.n - 1 - k] : perm[k]);
		if (k % 97 == 0)
			spot_check(b.root, &b.m, &rng);
		if (k % 1009 == 0)
			check_order(b.root, &b.m);
	}
	check_order(b.root, &b.m);
	assert_int_equal(ms_region_nr_subregions(b.root), 0);
	free(perm);
	bench_free(&b);
}

static void test_removal_in_insertion_order_keeps_the_order(void **state)
{
	(void)state;
	remove_all(IN_INSERTION_ORDER, 1);
}

static void test_removal_in_reverse_order_keeps_the_order(void **state)
{
	(void)state;
	remove_all(IN_REVERSE, 2);
}

static void test_removal_at_random_keeps_the_order(void **state)
{
	(void)state;
	remove_all(AT_RANDOM, 3);
}

/*
 * After many removals from the middle, every index still names the right
 * subregion: the positions close up, with no holes left behind.
 */
static void test_subregion_index_after_removals_counts_only_live_ones(void **state)
{
	bench b = bench_new(10000);
	ms_rng rng;

	(void)state;
	ms_rng_seed(&rng, 4);
	for (size_t i = 0; i < b.n; i++)
		place(&b, i, i * 0x1000, 0);
	/* Same priority: newest first, so index k is r[n - 1 - k]. */
	assert_ptr_equal(ms_region_subregion(b.root, 0), b.r[b.n - 1]);
	assert_ptr_equal(ms_region_subregion(b.root, b.n - 1), b.r[0]);
	for (size_t i = 0; i < b.n; i += 2)
		unplace(&b, i);
	check_order(b.root, &b.m);
	/* Left: r[n-1], r[n-3], ..., r[1]. */
	for (size_t k = 0; k < b.n / 2; k++)
		assert_ptr_equal(ms_region_subregion(b.root, k), b.r[b.n - 1 - 2 * k]);
	assert_null(ms_region_subregion(b.root, b.n / 2));
	/* Removing all but three, then adding again, at another priority. */
	for (size_t i = 1; i + 6 < b.n; i += 2)
		unplace(&b, i);
	place(&b, 0, 0, 1);
	place(&b, 2, 0x2000, -1);
	check_order(b.root, &b.m);
	assert_ptr_equal(ms_region_subregion(b.root, 0), b.r[0]);
	assert_ptr_equal(ms_region_subregion(b.root, 4), b.r[2]);
	bench_free(&b);
}

/* INT_MIN and INT_MAX sort at the ends, with the usual order among equals. */
static void test_extreme_priorities_sort_at_the_ends(void **state)
{
	bench b = bench_new(6);
	static strbuf sb;

	(void)state;
	place(&b, 0, 0, 0);
	place(&b, 1, 0, INT_MIN);
	place(&b, 2, 0, INT_MAX);
	place(&b, 3, 0, INT_MIN);
	place(&b, 4, 0, INT_MAX);
	place(&b, 5, 0, -1);
	assert_string_equal(subs_str(&sb, b.root), "r4,r2,r0,r5,r3,r1");
	check_order(b.root, &b.m);
	bench_free(&b);
}

/*
 * A removal or a move whose commit fails is undone: the subregion is back at
 * exactly its old place, among siblings of its own priority too (it is not
 * re-added as the newest).
 */
static void test_failed_edits_restore_the_exact_position(void **state)
{
	bench b = bench_new(40);
	ms_as *as;
	ms_rng rng;
	size_t mid;

	(void)state;
	ms_rng_seed(&rng, 5);
	as = new_as(b.ctx, b.root, "as");
	for (size_t i = 0; i < b.n; i++)
		place(&b, i, i * 0x1000, (int)ms_rng_below(&rng, 3) - 1);
	check_order(b.root, &b.m);
	for (mid = 5; mid < b.n; mid += 7) {
		ms_region *r = b.m.order[mid];

		ms_ctx_test_control(b.ctx, MS_TEST_FAIL_ALLOC_AFTER, 1);
		assert_int_equal(ms_region_del_subregion(b.root, r), -ENOMEM);
		ms_ctx_test_control(b.ctx, MS_TEST_FAIL_ALLOC_AFTER, 1);
		assert_int_equal(ms_region_set_address(r, 0x100000), -ENOMEM);
		ms_ctx_test_control(b.ctx, MS_TEST_FAIL_ALLOC_AFTER, 1);
		assert_int_equal(ms_region_set_priority(r, ms_region_priority(r) + 1), -ENOMEM);
		ms_ctx_test_control(b.ctx, MS_TEST_FAIL_ALLOC_AFTER, 0);
		assert_ptr_equal(ms_region_container(r), b.root);
		check_order(b.root, &b.m);
	}
	/* And what failed works afterwards. */
	unplace(&b, 7);
	check_order(b.root, &b.m);
	ms_as_free(as);
	bench_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_follows_qemu_rule_through_random_edits),
		cmocka_unit_test(test_removal_in_insertion_order_keeps_the_order),
		cmocka_unit_test(test_removal_in_reverse_order_keeps_the_order),
		cmocka_unit_test(test_removal_at_random_keeps_the_order),
		cmocka_unit_test(test_subregion_index_after_removals_counts_only_live_ones),
		cmocka_unit_test(test_extreme_priorities_sort_at_the_ends),
		cmocka_unit_test(test_failed_edits_restore_the_exact_position),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
