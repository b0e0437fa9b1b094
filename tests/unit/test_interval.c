/*
 * test_interval.c: the interval index behind notifier delivery
 * (src/interval.c), checked against a brute-force list: random inserts,
 * removals and stabbing queries, visit order, resuming after a stop, the
 * n-th node and the next one in key order, and the structural invariants
 * (counts included) after every operation.
 *
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "ms_rng.h"
#include "ms_unit.h"

#define MAX_NODES 512

typedef struct model {
	ms__interval_node nodes[MAX_NODES];
	bool in_tree[MAX_NODES];
	ms__interval_node *root;
	ms_rng rng;
} model;

typedef struct visit_log {
	size_t nr;
	const ms__interval_node *seen[MAX_NODES];
	size_t stop_after; /* stop (return 1) after this many visits; 0 = never */
} visit_log;

static int record(ms__interval_node *node, void *arg)
{
	visit_log *log = arg;

	assert_true(log->nr < MAX_NODES);
	log->seen[log->nr++] = node;
	return log->stop_after && log->nr % log->stop_after == 0;
}

static int by_key(const void *a, const void *b)
{
	const ms__interval_node *x = *(const ms__interval_node *const *)a,
				*y = *(const ms__interval_node *const *)b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The nodes of the model that intersect [first, last], in key order. */
static size_t expected(const model *m, uint64_t first, uint64_t last, const ms__interval_node **out)
{
	size_t n = 0;

	for (size_t i = 0; i < MAX_NODES; i++)
		if (m->in_tree[i] && m->nodes[i].start <= last && m->nodes[i].last >= first)
			out[n++] = &m->nodes[i];
	qsort(out, n, sizeof(*out), by_key);
	return n;
}

/* ms__interval_nth() and ms__interval_next() walk the model's nodes in key order. */
static void check_order(model *m)
{
	const ms__interval_node *want[MAX_NODES];
	size_t nr_want = expected(m, 0, UINT64_MAX, want);
	const ms__interval_node *node = ms__interval_nth(m->root, 0);

	assert_int_equal(ms__interval_count(m->root), nr_want);
	for (size_t i = 0; i < nr_want; i++) {
		assert_ptr_equal(ms__interval_nth(m->root, i), want[i]);
		assert_ptr_equal(node, want[i]);
		node = ms__interval_next(m->root, node);
	}
	assert_null(node);
	assert_null(ms__interval_nth(m->root, nr_want));
	assert_null(ms__interval_nth(m->root, SIZE_MAX));
}

static void check_query(model *m, uint64_t first, uint64_t last, size_t stop_after)
{
	const ms__interval_node *want[MAX_NODES];
	size_t nr_want = expected(m, first, last, want);
	visit_log log = {.stop_after = stop_after};
	ms__interval_key after = {0, 0};

	while (ms__interval_visit(m->root, first, last, &after, record, &log))
		;
	assert_int_equal(log.nr, nr_want);
	for (size_t i = 0; i < nr_want; i++)
		assert_ptr_equal(log.seen[i], want[i]);
}

/* Small coordinates make overlaps, nesting and equal starts common. */
static uint64_t coord(model *m, unsigned bits)
{
	return ms_rng_next(&m->rng) & (((uint64_t)1 << bits) - 1);
}

static void run_random(unsigned bits, unsigned rounds, uint64_t seed)
{
	model *m = calloc(1, sizeof(*m));
	uint64_t seq = 0;

	assert_non_null(m);
	ms_rng_seed(&m->rng, seed);
	for (unsigned round = 0; round < rounds; round++) {
		size_t i = (size_t)ms_rng_below(&m->rng, MAX_NODES);

		if (m->in_tree[i]) {
			ms__interval_remove(&m->root, &m->nodes[i]);
			m->in_tree[i] = false;
		} else {
			uint64_t a = coord(m, bits), b = coord(m, bits);

			m->nodes[i].start = a < b ? a : b;
			m->nodes[i].last = a < b ? b : a;
			m->nodes[i].seq = ++seq;
			ms__interval_insert(&m->root, &m->nodes[i]);
			m->in_tree[i] = true;
		}
		size_t live = 0;

		for (size_t k = 0; k < MAX_NODES; k++)
			live += m->in_tree[k];
		assert_int_equal(ms__interval_check(m->root), (long)live);
		if (round % 7 == 0) {
			uint64_t a = coord(m, bits), b = coord(m, bits);

			check_query(m, a < b ? a : b, a < b ? b : a, 0);
			check_query(m, a, a, 0);
			check_query(m, a < b ? a : b, a < b ? b : a, 1 + round % 3);
		}
		if (round % 13 == 0)
			check_order(m);
	}
	check_query(m, 0, UINT64_MAX, 0);
	check_order(m);
	free(m);
}

static void test_index_matches_brute_force_with_overlaps(void **state)
{
	(void)state;
	run_random(10, 4000, 1);
}

static void test_index_matches_brute_force_with_sparse_ranges(void **state)
{
	(void)state;
	run_random(62, 4000, 2);
}

static void test_index_handles_extreme_ranges(void **state)
{
	ms__interval_node a = {.start = 0, .last = UINT64_MAX, .seq = 1};
	ms__interval_node b = {.start = UINT64_MAX, .last = UINT64_MAX, .seq = 2};
	ms__interval_node c = {.start = 0, .last = 0, .seq = 3};
	ms__interval_node *root = NULL;
	visit_log log = {0};
	ms__interval_key after = {0, 0};

	(void)state;
	ms__interval_insert(&root, &b);
	ms__interval_insert(&root, &a);
	ms__interval_insert(&root, &c);
	assert_int_equal(ms__interval_check(root), 3);
	assert_int_equal(ms__interval_visit(root, UINT64_MAX, UINT64_MAX, &after, record, &log), 0);
	assert_int_equal(log.nr, 2);
	assert_ptr_equal(log.seen[0], &a);
	assert_ptr_equal(log.seen[1], &b);
	ms__interval_remove(&root, &a);
	ms__interval_remove(&root, &c);
	ms__interval_remove(&root, &b);
	assert_null(root);
	assert_int_equal(ms__interval_check(root), 0);
}

static void test_sorted_insertion_keeps_the_tree_shallow(void **state)
{
	enum {
		N = 10000
	};
	ms__interval_node *nodes = calloc(N, sizeof(*nodes));
	ms__interval_node *root = NULL;
	visit_log log = {0};
	ms__interval_key after = {0, 0};

	(void)state;
	assert_non_null(nodes);
	for (size_t i = 0; i < N; i++) {
		nodes[i] = (ms__interval_node){
			.start = i * 4096, .last = i * 4096 + 4095, .seq = i + 1};
		ms__interval_insert(&root, &nodes[i]);
	}
	assert_int_equal(ms__interval_check(root), N);
	/* Depth: walk the leftmost and rightmost paths; a random BST of 10^4 is ~30 deep. */
	unsigned depth = 0;
	for (const ms__interval_node *t = root; t; t = t->left)
		depth++;
	assert_true(depth < 80);
	assert_int_equal(
		ms__interval_visit(root, 5000 * 4096 + 10, 5000 * 4096 + 10, &after, record, &log),
		0);
	assert_int_equal(log.nr, 1);
	assert_ptr_equal(log.seen[0], &nodes[5000]);
	free(nodes);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_index_matches_brute_force_with_overlaps),
		cmocka_unit_test(test_index_matches_brute_force_with_sparse_ranges),
		cmocka_unit_test(test_index_handles_extreme_ranges),
		cmocka_unit_test(test_sorted_insertion_keeps_the_tree_shallow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
