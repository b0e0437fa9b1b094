/*
 * test_render_window.c: windowed renders (ms__render_window()) of big
 * containers, which find the children meeting the window through the
 * container's address index (region.h) instead of looking at every child.
 *
 * Rendering is pointwise, so a window's render must equal the full render
 * cut at the window's ends; the full render of a container scans its
 * rendering-order list instead, so the two paths check each other. The
 * trees are random: thousands of overlapping children of mixed priorities
 * and kinds, some disabled, nested containers and terminating regions with
 * children of their own, aliases into them; they are edited between rounds
 * so that the index follows moves, resizes and enabling. Also: the render
 * budget is charged for what a window visits, not for every child of the
 * containers it passes, and still stops an exponential alias tree.
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

#define SPACE 0x100000u /* the root container: 1 MiB, crowded */

static void render_full(ms_ctx *ctx, ms_region *root, ms__range **out, size_t *nr)
{
	ms__ctx_lock(ctx);
	assert_int_equal(ms__render(out, nr, ctx, root), 0);
	ms__ctx_unlock(ctx);
}

/* @full cut to [lo, hi]: what the window render must produce. */
static size_t cut(const ms__range *full, size_t nr, uint64_t lo, uint64_t hi, ms__range *out)
{
	size_t n = 0;

	for (size_t i = 0; i < nr; i++) {
		ms__range r = full[i];

		if (r.last < lo || r.start > hi)
			continue;
		if (r.start < lo) {
			r.offset_in_region += lo - r.start;
			r.start = lo;
		}
		if (r.last > hi)
			r.last = hi;
		out[n++] = r;
	}
	return n;
}

static void print_ranges(const char *what, const ms__range *r, size_t nr)
{
	print_message("%s: %zu ranges\n", what, nr);
	for (size_t i = 0; i < nr; i++)
		print_message("  %06" PRIx64 "-%06" PRIx64 " %s @%" PRIx64 " flags %x log %x\n",
			      r[i].start, r[i].last, ms_region_name(r[i].region),
			      r[i].offset_in_region, r[i].flags, r[i].dirty_log_mask);
}

/* The window [lo, hi] renders as @full cut there. */
static void check_window(ms_ctx *ctx, ms_region *root, const ms__range *full, size_t nr_full,
			 uint64_t lo, uint64_t hi, ms__range *want)
{
	ms__range *got;
	size_t nr_got, nr_want = cut(full, nr_full, lo, hi, want);
	bool same;

	ms__ctx_lock(ctx);
	assert_int_equal(ms__render_window(&got, &nr_got, ctx, root, lo, hi), 0);
	ms__ctx_unlock(ctx);
	same = nr_got == nr_want;
	for (size_t i = 0; same && i < nr_got; i++)
		same = ms__render_range_equal(&got[i], &want[i]) &&
		       got[i].dirty_log_mask == want[i].dirty_log_mask;
	if (!same) {
		print_message("window [%" PRIx64 ", %" PRIx64 "]\n", lo, hi);
		print_ranges("window render", got, nr_got);
		print_ranges("full render cut", want, nr_want);
		fail();
	}
	free(got);
}

typedef struct forest {
	ms_ctx *ctx;
	ms_region *root;
	ms_region **all; /* every region placed, for edits */
	size_t nr, cap;
	ms_rng rng;
} forest;

static void keep(forest *f, ms_region *r)
{
	if (f->nr == f->cap) {
		f->cap = f->cap ? 2 * f->cap : 256;
		f->all = realloc(f->all, f->cap * sizeof(*f->all));
		assert_non_null(f->all);
	}
	f->all[f->nr++] = r;
}

static int priority(forest *f)
{
	return (int)ms_rng_below(&f->rng, 7) - 3;
}

/* A leaf of a random kind and size; the caller places it. */
static ms_region *random_leaf(forest *f, const char *name)
{
	uint64_t size = 0x10 << ms_rng_below(&f->rng, 11); /* 16 bytes .. 16 KiB */

	switch (ms_rng_below(&f->rng, 3)) {
	case 0:
		return new_ram(f->ctx, name, size);
	case 1:
		return new_rom(f->ctx, name, size);
	default:
		return new_io(f->ctx, name, size);
	}
}

/* Place @r in @c at a random address and priority (the container's reference). */
static void place_random(forest *f, ms_region *c, uint64_t span, ms_region *r)
{
	assert_int_equal(
		ms_region_add_subregion_overlap(c, ms_rng_below(&f->rng, span), r, priority(f)), 0);
	if (ms_rng_below(&f->rng, 10) == 0)
		assert_int_equal(ms_region_set_enabled(r, false), 0);
	if (ms_rng_below(&f->rng, 16) == 0)
		assert_int_equal(ms_region_set_readonly(r, true), 0);
	ms_region_unref(r);
	keep(f, r);
}

/*
 * @n leaves in the root, plus nested containers and RAM with children of
 * their own (more than a scan's worth, so windows that cut them use their
 * index too), and aliases of those into the root.
 */
static void grow(forest *f, size_t n)
{
	ms_region *parents[8];
	char name[32];
	size_t i, k;

	for (k = 0; k < 8; k++) {
		snprintf(name, sizeof(name), "p%zu", k);
		/* Half containers (holes show through), half RAM (fills its gaps). */
		parents[k] =
			k % 2 ? new_container(f->ctx, name, 0x8000) : new_ram(f->ctx, name, 0x8000);
		for (i = 0; i < 40; i++) {
			snprintf(name, sizeof(name), "p%zu.%zu", k, i);
			place_random(f, parents[k], 0x8000, random_leaf(f, name));
		}
		ms_region_ref(parents[k]); /* for the aliases below */
		place_random(f, f->root, SPACE, parents[k]);
	}
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "l%zu", i);
		if (i % 50 == 0) {
			ms_region *target = parents[ms_rng_below(&f->rng, 8)];
			uint64_t offset = ms_rng_below(&f->rng, 0x6000);

			snprintf(name, sizeof(name), "a%zu", i);
			place_random(f, f->root, SPACE,
				     new_alias(f->ctx, name, target, offset,
					       0x100 + ms_rng_below(&f->rng, 0x2000)));
		} else {
			place_random(f, f->root, SPACE, random_leaf(f, name));
		}
	}
	for (k = 0; k < 8; k++)
		ms_region_unref(parents[k]);
}

/* Random edits that move entries of the address indexes. */
static void edit(forest *f, unsigned count)
{
	for (unsigned e = 0; e < count; e++) {
		ms_region *r = f->all[ms_rng_below(&f->rng, f->nr)];
		ms_region *c = ms_region_container(r);
		uint64_t span = ms_region_size(c);

		switch (ms_rng_below(&f->rng, 4)) {
		case 0:
			assert_int_equal(ms_region_set_address(r, ms_rng_below(&f->rng, span)), 0);
			break;
		case 1:
			assert_int_equal(ms_region_set_priority(r, priority(f)), 0);
			break;
		case 2:
			assert_int_equal(ms_region_set_enabled(r, !ms_region_enabled(r)), 0);
			break;
		default:
			if (ms_region_get_kind(r) == MS_REGION_CONTAINER ||
			    ms_region_get_kind(r) == MS_REGION_ALIAS ||
			    ms_region_get_kind(r) == MS_REGION_IO)
				assert_int_equal(
					ms_region_set_size(r, 0x10 + ms_rng_below(&f->rng, 0x8000)),
					0);
			break;
		}
	}
}

static void check_rounds(forest *f, unsigned rounds, unsigned windows)
{
	ms__range *full, *want;
	size_t nr_full;

	for (unsigned round = 0; round < rounds; round++) {
		ms__ctx_lock(f->ctx);
		assert_int_equal(ms__region_subs_check(f->root), 0);
		ms__ctx_unlock(f->ctx);
		render_full(f->ctx, f->root, &full, &nr_full);
		assert_true(nr_full > 100);
		want = calloc(nr_full + 1, sizeof(*want));
		assert_non_null(want);
		for (unsigned w = 0; w < windows; w++) {
			uint64_t lo = ms_rng_below(&f->rng, SPACE + 0x1000);
			uint64_t len = ms_rng_below(&f->rng, 4) == 0
					       ? ms_rng_below(&f->rng, SPACE)
					       : ms_rng_below(&f->rng, 0x3000);

			check_window(f->ctx, f->root, full, nr_full, lo, lo + len, want);
		}
		/* The extremes: one byte, and the whole 64-bit space. */
		check_window(f->ctx, f->root, full, nr_full, 0, 0, want);
		check_window(f->ctx, f->root, full, nr_full, 0, UINT64_MAX, want);
		free(want);
		free(full);
		edit(f, 200);
	}
}

static void test_windows_of_a_crowded_container_equal_the_full_render_cut(void **state)
{
	forest f = {0};

	(void)state;
	ms_rng_seed(&f.rng, 0x15);
	f.ctx = new_ctx();
	f.root = new_container(f.ctx, "root", SPACE);
	grow(&f, 3000);
	check_rounds(&f, 6, 150);
	ms_region_unref(f.root);
	assert_int_equal(live_regions(f.ctx), 0);
	ms_ctx_free(f.ctx);
	free(f.all);
}

/* The same with the root seen through an alias at another base, and children near 2^64. */
static void test_windows_through_an_alias_near_the_top_of_the_space(void **state)
{
	forest f = {0};
	ms_region *top, *view;
	ms__range *full, *want;
	size_t nr_full;
	const uint64_t base = UINT64_MAX - SPACE + 1; /* the last MiB */

	(void)state;
	ms_rng_seed(&f.rng, 0x64);
	f.ctx = new_ctx();
	f.root = new_container(f.ctx, "root", SPACE);
	grow(&f, 1000);
	top = new_container(f.ctx, "top", MS_SIZE_2_64);
	view = new_alias(f.ctx, "view", f.root, 0x800, SPACE - 0x800);
	assert_int_equal(ms_region_add_subregion(top, base, view), 0);
	render_full(f.ctx, top, &full, &nr_full);
	want = calloc(nr_full + 1, sizeof(*want));
	assert_non_null(want);
	for (unsigned w = 0; w < 200; w++) {
		uint64_t lo = base + ms_rng_below(&f.rng, SPACE);
		uint64_t len = ms_rng_below(&f.rng, 0x4000);

		check_window(f.ctx, top, full, nr_full, lo,
			     len <= UINT64_MAX - lo ? lo + len : UINT64_MAX, want);
	}
	check_window(f.ctx, top, full, nr_full, base - 0x1000, UINT64_MAX, want);
	free(want);
	free(full);
	ms_region_unref(view);
	ms_region_unref(top);
	ms_region_unref(f.root);
	assert_int_equal(live_regions(f.ctx), 0);
	ms_ctx_free(f.ctx);
	free(f.all);
}

/*
 * With a render limit of 16 ranges (a budget of 128 visits), a window that
 * meets two of 10,000 children renders: only what it visits is charged. The
 * whole container is refused.
 */
static void test_window_render_charges_only_what_it_visits(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *root = new_container(ctx, "root", MS_SIZE_2_64);
	ms_region *mid;
	ms__range *got;
	size_t nr;
	char name[32];

	(void)state;
	for (size_t i = 0; i < 10000; i++) {
		ms_region *r;

		snprintf(name, sizeof(name), "r%zu", i);
		r = new_io(ctx, name, 0x1000);
		assert_int_equal(ms_region_add_subregion(root, i * 0x1000, r), 0);
		ms_region_unref(r);
	}
	assert_int_equal(ms_ctx_set_render_limit(ctx, 16), 0);
	mid = ms_region_subregion(root, 5000); /* newest first: r4999 */
	ms__ctx_lock(ctx);
	assert_int_equal(ms__render_window(&got, &nr, ctx, root, 4999 * 0x1000 + 0x800,
					   5000 * 0x1000 + 0x7ff),
			 0);
	assert_int_equal(nr, 2);
	assert_ptr_equal(got[0].region, mid);
	assert_int_equal(got[0].offset_in_region, 0x800);
	assert_string_equal(ms_region_name(got[1].region), "r5000");
	free(got);
	assert_int_equal(ms__render(&got, &nr, ctx, root), -E2BIG);
	assert_null(got);
	ms__ctx_unlock(ctx);
	ms_region_unref(root);
	assert_int_equal(live_regions(ctx), 0);
	ms_ctx_free(ctx);
}

/*
 * Level k holds two aliases of level k - 1 at the same place, the second
 * hidden by the first, beside 30 RAM regions elsewhere, so each level is
 * searched through its address index. 30 levels describe 2^30 paths that
 * paint almost nothing: the budget must still stop the render.
 */
static void test_window_budget_stops_an_exponential_alias_tree(void **state)
{
	enum {
		LEVELS = 30
	};
	ms_ctx *ctx = new_ctx();
	ms_region *level[LEVELS + 1];
	ms__range *got;
	size_t nr;
	char name[32];

	(void)state;
	assert_int_equal(ms_ctx_set_render_limit(ctx, 1000), 0);
	level[0] = new_ram(ctx, "leaf", 0x100);
	for (int k = 1; k <= LEVELS; k++) {
		snprintf(name, sizeof(name), "level%d", k);
		level[k] = new_container(ctx, name, 0x100000);
		for (int j = 0; j < 2; j++) {
			ms_region *a;

			snprintf(name, sizeof(name), "a%d.%d", k, j);
			a = new_alias(ctx, name, level[k - 1], 0, 0x100);
			assert_int_equal(ms_region_add_subregion(level[k], 0, a), 0);
			ms_region_unref(a);
		}
		for (int j = 0; j < 30; j++) {
			snprintf(name, sizeof(name), "pad%d.%d", k, j);
			place_ram(ctx, level[k], name, 0x10000 + j * 0x1000, 0x1000);
		}
	}
	ms__ctx_lock(ctx);
	/* Five levels: 32 paths, fine; the leaf shows once. */
	assert_int_equal(ms__render_window(&got, &nr, ctx, level[5], 0, 0xff), 0);
	assert_int_equal(nr, 1);
	assert_ptr_equal(got[0].region, level[0]);
	free(got);
	assert_int_equal(ms__render_window(&got, &nr, ctx, level[LEVELS], 0, 0xff), -E2BIG);
	assert_null(got);
	ms__ctx_unlock(ctx);
	for (int k = LEVELS; k >= 0; k--)
		ms_region_unref(level[k]);
	assert_int_equal(live_regions(ctx), 0);
	ms_ctx_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_windows_of_a_crowded_container_equal_the_full_render_cut),
		cmocka_unit_test(test_windows_through_an_alias_near_the_top_of_the_space),
		cmocka_unit_test(test_window_render_charges_only_what_it_visits),
		cmocka_unit_test(test_window_budget_stops_an_exponential_alias_tree),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
