/*
 * test_dispatch.c: the flat-view lookup index (src/dispatch.c) against a
 * linear scan, and its static index's rank function.
 *
 * Views of every size from 0 to 300 ranges (and a few large ones), with gaps
 * and adjacent ranges, ranges at both ends of the address space, and lookups
 * at every boundary (reference: linear scan, or binary search for big
 * views), in random order and sequentially (so the hint is used and
 * invalidated); the direct maps in front of the view's, segments' and
 * chunks' searches on regular and mixed-scale layouts. Splicing windows
 * into views is tested in test_flatview.c.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>

#include "map.h"
#include "txn.h"
#include "flatview_int.h"
#include "ms_rng.h"

/* Each test seeds the file's generator with its own fixed seed. */
static ms_rng rng;

static uint64_t below(uint64_t bound)
{
	return ms_rng_below(&rng, bound);
}

/* A view together with the ranges it was built from (the reference). */
typedef struct ref_view {
	ms_flatview *fv;
	ms__range *ranges;
	size_t nr;
} ref_view;

/* Reference: a linear scan for small views, a textbook binary search for large ones. */
static const ms__range *linear_lookup(const ref_view *v, uint64_t addr)
{
	size_t i, lo = 0, hi = v->nr;

	if (v->nr == 0)
		return NULL;
	if (v->nr <= 300) {
		for (i = 0; i < v->nr; i++)
			if (v->ranges[i].start <= addr && addr <= v->ranges[i].last)
				return &v->ranges[i];
		return NULL;
	}
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (v->ranges[mid].start <= addr)
			lo = mid;
		else
			hi = mid;
	}
	if (v->ranges[lo].start <= addr && addr <= v->ranges[lo].last)
		return &v->ranges[lo];
	return NULL;
}

static void fill_ranges(ms__range *ranges, size_t n, ms_region *region, bool touch_ends)
{
	uint64_t cur = touch_ends ? 0 : 1 + below(64);
	size_t i;

	for (i = 0; i < n; i++) {
		uint64_t len = 1 + below(5000);

		ranges[i].start = cur;
		ranges[i].last = cur + len - 1;
		ranges[i].region = region;
		ranges[i].kind = (uint8_t)ms_region_get_kind(region);
		ranges[i].offset_in_region = i * 10000; /* never mergeable */
		cur += len + (ms_rng_percent(&rng, 50) ? below(300) : 0);
	}
	if (touch_ends && n > 0)
		ranges[n - 1].last = UINT64_MAX;
}

/* A context and the I/O region every test range points at. */
static void new_ctx_and_region(ms_ctx **ctx, ms_region **region)
{
	assert_int_equal(ms_ctx_new(ctx), 0);
	assert_int_equal(
		ms_region_new_io(region, *ctx,
				 &(ms_region_io_opts){.name = "r", .size = 0x1000, .ops = NULL}),
		0);
}

/* The view of @v's ranges (filled by the caller), checked. */
static void build_view(ref_view *v, ms_ctx *ctx, ms_region *region)
{
	assert_int_equal(ms__flatview_new(&v->fv, ctx, region, v->ranges, v->nr), 0);
	assert_int_equal(ms__flatview_check(v->fv), 0);
}

/* @n sorted disjoint ranges; gaps and adjacency chosen at random. */
static ref_view make_view(ms_ctx *ctx, ms_region *region, size_t n, bool touch_ends)
{
	ref_view v = {NULL, calloc(n ? n : 1, sizeof(ms__range)), n};

	fill_ranges(v.ranges, n, region, touch_ends);
	build_view(&v, ctx, region);
	return v;
}

static void free_view(ref_view *v)
{
	ms_flatview_unref(v->fv);
	free(v->ranges);
}

static bool same_range(const ms__range *a, const ms__range *b)
{
	return a == b || (a && b && ms__render_range_equal(a, b));
}

static void check_addr(const ref_view *v, uint64_t addr)
{
	const ms__range *want = linear_lookup(v, addr);
	const ms__range *got = ms__dispatch_lookup(v->fv, addr);
	const ms__range *next = ms__dispatch_next_after(v->fv, addr);
	const ms__range *want_next = NULL;
	size_t i;

	if (!same_range(want, got))
		fail_msg("addr 0x%llx: index gave [0x%llx..], reference [0x%llx..]",
			 (unsigned long long)addr, got ? (unsigned long long)got->start : 0ull,
			 want ? (unsigned long long)want->start : 0ull);
	if (v->nr <= 300) {
		for (i = 0; i < v->nr && !want_next; i++)
			if (v->ranges[i].start > addr)
				want_next = &v->ranges[i];
		assert_true(same_range(want_next, next));
	}
}

static void check_view(const ref_view *v)
{
	size_t i;

	assert_int_equal(ms_flatview_nr_ranges(v->fv), v->nr);
	check_addr(v, 0);
	check_addr(v, UINT64_MAX);
	for (i = 0; i < v->nr; i++) {
		assert_true(same_range(ms__flatview_at(v->fv, i), &v->ranges[i]));
		check_addr(v, v->ranges[i].start);
		check_addr(v, v->ranges[i].last);
		check_addr(v, v->ranges[i].start - 1);
		check_addr(v, v->ranges[i].last + 1);
	}
	for (i = 0; i < 4 * v->nr + 16; i++) {
		uint64_t base = v->nr ? v->ranges[below(v->nr)].start : 0;

		check_addr(v, base + below(8192));
	}
}

static void test_lookup_matches_linear_scan_for_every_size(void **state)
{
	ms_region *region;
	ms_ctx *ctx;
	size_t n;

	(void)state;
	ms_rng_seed(&rng, 1);
	new_ctx_and_region(&ctx, &region);
	for (n = 0; n <= 300; n++) {
		ref_view v = make_view(ctx, region, n, n % 3 == 0);

		check_view(&v);
		free_view(&v);
	}
	ms_region_unref(region);
	ms_ctx_free(ctx);
}

static void test_lookup_large_views_and_sequential_walk(void **state)
{
	static const size_t sizes[] = {1000, 4095, 4096, 4097, 100000};
	ms_region *region;
	ms_ctx *ctx;
	size_t s;

	(void)state;
	ms_rng_seed(&rng, 2);
	new_ctx_and_region(&ctx, &region);
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		ref_view v = make_view(ctx, region, sizes[s], s & 1);
		uint64_t addr, end = v.ranges[v.nr - 1].start + 10000;

		check_view(&v);
		/* Sequential walk: exercises the hint and its successor. */
		for (addr = v.ranges[0].start; addr < end && addr < v.ranges[0].start + 2000000;
		     addr += 97)
			check_addr(&v, addr);
		free_view(&v);
	}
	ms_region_unref(region);
	ms_ctx_free(ctx);
}

/* A view of @n 4 KiB ranges 8 KiB apart from 4 GiB, checked. */
static ref_view make_regular_view(ms_ctx *ctx, ms_region *region, size_t n)
{
	ref_view v = {NULL, calloc(n, sizeof(ms__range)), n};
	size_t i;

	for (i = 0; i < n; i++) {
		v.ranges[i].start = ((uint64_t)1 << 32) + i * 8192;
		v.ranges[i].last = v.ranges[i].start + 4095;
		v.ranges[i].region = region;
		v.ranges[i].kind = (uint8_t)ms_region_get_kind(region);
		v.ranges[i].offset_in_region = i * 10000;
	}
	build_view(&v, ctx, region);
	return v;
}

/* The slots of @m that its look-up uses (below limit) and that must search. */
static size_t slow_slots(const ms__map *m)
{
	size_t b, n = 0;

	for (b = 0; b < m->limit; b++)
		n += m->slot[b] == MS__MAP_SLOW;
	return n;
}

/*
 * The direct maps in front of the view's, each segment's and each chunk's
 * search. A layout of equal ranges and holes (each block meets one or two
 * candidates) must be served by the maps alone, or the look-up silently
 * falls back to the search; layouts that mix range sizes from 1 byte to
 * 2^40 bytes leave many slots to the search, and both kinds must agree
 * with the reference at every boundary, in random order and in walks that
 * leave and re-enter the hint's chunk.
 */
static void test_lookup_direct_maps(void **state)
{
	static const uint64_t lens[] = {1, 2, 7, 64, 4096, 1 << 20, (uint64_t)1 << 40};
	ms_region *region;
	ms_ctx *ctx;
	size_t n, i, k;

	(void)state;
	ms_rng_seed(&rng, 3);
	new_ctx_and_region(&ctx, &region);
	/* Regular: 4 KiB ranges 8 KiB apart, as many machines' RAM and devices. */
	for (n = 1; n <= 20000; n = n * 3 + 1) {
		ref_view v = make_regular_view(ctx, region, n);
		size_t slow = 0;

		slow += slow_slots(&v.fv->map);
		for (i = 0; i < v.fv->nr_segs; i++) {
			const ms__seg *seg = v.fv->segs[i];

			slow += slow_slots(&seg->map);
			for (k = 0; k < seg->nr; k++)
				slow += slow_slots(&seg->chunks[k]->map);
		}
		assert_int_equal(slow, 0);
		check_view(&v);
		if (n <= MS__CHUNK_MAX) {
			/* One chunk whose map answers alone: the view's copy of
			 * it, and a hint that no look-up moves (check_view()
			 * looked up every range). */
			assert_ptr_equal(v.fv->direct, v.fv->chunk0->ranges);
			assert_int_equal(v.fv->hint, MS__HINT_COLD);
			assert_int_equal(v.fv->flat_after, UINT32_MAX);
			/* The checker sees a copy that differs from the chunk's. */
			v.fv->map.slot[0] ^= 1;
			assert_int_equal(ms__flatview_check(v.fv), -EINVAL);
			v.fv->map.slot[0] ^= 1;
			assert_int_equal(ms__flatview_check(v.fv), 0);
		} else {
			assert_null(v.fv->direct);
		}
		free_view(&v);
	}
	/* Mixed sizes, some ranges touching the top of the address space. */
	for (n = 2; n <= 6000; n = n * 2 + 3) {
		ref_view v = {NULL, calloc(n, sizeof(ms__range)), n};
		uint64_t cur = ms_rng_percent(&rng, 50) ? 0 : below(1 << 20);
		size_t slow = 0;

		for (i = 0; i < n; i++) {
			uint64_t len = lens[below(7)] + below(3);

			v.ranges[i].start = cur;
			v.ranges[i].last = cur + len - 1;
			v.ranges[i].region = region;
			v.ranges[i].kind = (uint8_t)ms_region_get_kind(region);
			v.ranges[i].offset_in_region = i * 10000;
			cur += len + (ms_rng_percent(&rng, 50) ? lens[below(6)] : 0);
		}
		if (n % 3 == 0)
			v.ranges[n - 1].last = UINT64_MAX;
		build_view(&v, ctx, region);
		for (i = 0; i < v.fv->nr_segs; i++) {
			slow += slow_slots(&v.fv->segs[i]->map);
			for (k = 0; k < v.fv->segs[i]->nr; k++)
				slow += slow_slots(&v.fv->segs[i]->chunks[k]->map);
		}
		if (n > 100)
			assert_true(slow > 0); /* the search behind the map is exercised */
		check_view(&v);
		/* Addresses at every scale around random ranges. */
		for (i = 0; i < 8 * n; i++) {
			const ms__range *r = &v.ranges[below(n)];
			uint64_t off = below(lens[below(7)] + 1);

			check_addr(&v, r->start + off);
			check_addr(&v, r->start - off);
		}
		/* Walks from random ranges over the next hundred, one address per
		 * range, broken by random look-ups (hint warm, cold, warm again). */
		for (k = 0; k < 20; k++) {
			size_t from = below(n);

			for (i = from; i < n && i < from + 100; i++) {
				check_addr(&v, v.ranges[i].start + below(v.ranges[i].last -
									 v.ranges[i].start + 1));
				if (ms_rng_percent(&rng, 5))
					check_addr(&v, v.ranges[below(n)].last);
			}
		}
		free_view(&v);
	}
	ms_region_unref(region);
	ms_ctx_free(ctx);
}

/* Slots of @fv's flat table left to the search. */
static size_t crowded_slots(const ms_flatview *fv)
{
	size_t b, n = 0;

	for (b = 0; b < fv->flat->limit; b++)
		n += fv->flat->slot[b] == NULL;
	return n;
}

/*
 * The flat table a view builds once its hint has missed often enough: on
 * regular layouts every block names its one range or a range that does
 * not meet it, and the table answers every look-up the reference does; a
 * layout whose ranges crowd into a few blocks keeps no table; a view
 * builds it after flat_after look-ups the hint missed, and not during
 * walks that the hint answers; the checker catches a wrong slot.
 */
static void test_lookup_flat_table(void **state)
{
	static const size_t sizes[] = {2, 3, 10, 64, 65, 1000, 4097, 20000};
	ms_region *region;
	ms_ctx *ctx;
	size_t s, i, n;

	(void)state;
	ms_rng_seed(&rng, 5);
	new_ctx_and_region(&ctx, &region);
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		ref_view v = make_regular_view(ctx, region, sizes[s]);
		const ms__range *saved;

		assert_null(v.fv->flat);
		ms__dispatch_flat_build(v.fv);
		assert_non_null(v.fv->flat);
		assert_int_equal(v.fv->flat_after, UINT32_MAX);
		assert_int_equal(crowded_slots(v.fv), 0);
		assert_true(v.fv->flat->limit <= 2 * v.nr);
		assert_int_equal(ms__flatview_check(v.fv), 0);
		check_view(&v);
		/* The checker sees a slot naming the wrong range (block 2 is range 1). */
		saved = v.fv->flat->slot[2];
		((ms__flat *)v.fv->flat)->slot[2] = &v.fv->segs[0]->chunks[0]->ranges[0];
		assert_int_equal(ms__dispatch_flat_check(v.fv), -EINVAL);
		((ms__flat *)v.fv->flat)->slot[2] = saved;
		assert_int_equal(ms__dispatch_flat_check(v.fv), 0);
		free_view(&v);
	}
	/* Built by the look-ups themselves: random ones that the hint misses,
	 * not a walk over enough ranges that the hint answers it. */
	for (n = 10; n <= 4000; n *= 20) {
		ref_view v = make_regular_view(ctx, region, n);
		uint32_t after = v.fv->flat_after;

		if (v.fv->direct) {
			/* As direct without a table: it never builds one. */
			assert_int_equal(after, UINT32_MAX);
			for (i = 0; i < 4 * MS__FLAT_AFTER_MIN; i++)
				check_addr(&v, v.ranges[below(n)].start + below(8192));
			assert_null(v.fv->flat);
			free_view(&v);
			continue;
		}
		assert_int_equal(after, ms__flat_after(n));
		for (i = 0; i < 4 * (size_t)after; i++) {
			const ms_flat_entry *e =
				ms_flatview_lookup(v.fv, v.ranges[i % n].start + 8);

			assert_non_null(e);
			assert_int_equal(e->start, v.ranges[i % n].start);
		}
		assert_null(v.fv->flat);
		for (i = 0; i < 2 * (size_t)after && !v.fv->flat; i++)
			check_addr(&v, v.ranges[below(n)].start + below(8192));
		assert_non_null(v.fv->flat);
		assert_int_equal(ms__flatview_check(v.fv), 0);
		check_view(&v);
		free_view(&v);
	}
	/* Ranges of 1 byte next to one of 2^40: the small ones share a block,
	 * so the view keeps no table and stops counting. */
	for (n = 3; n <= 3000; n *= 10) {
		ref_view v = {NULL, calloc(n, sizeof(ms__range)), n};

		for (i = 0; i < n; i++) {
			v.ranges[i].start = 2 * i;
			v.ranges[i].last = i + 1 < n ? 2 * i : ((uint64_t)1 << 40);
			v.ranges[i].region = region;
			v.ranges[i].kind = (uint8_t)ms_region_get_kind(region);
			v.ranges[i].offset_in_region = i * 10000;
		}
		build_view(&v, ctx, region);
		ms__dispatch_flat_build(v.fv);
		assert_null(v.fv->flat);
		assert_int_equal(v.fv->flat_after, UINT32_MAX);
		check_view(&v);
		free_view(&v);
	}
	/* Random layouts with gaps and adjacent ranges, some from 0 to the top
	 * of the address space: whatever the table keeps, it agrees. */
	for (n = 2; n <= 5000; n = n * 3 + 1) {
		ref_view v = make_view(ctx, region, n, n % 2 == 0);

		ms__dispatch_flat_build(v.fv);
		assert_int_equal(ms__flatview_check(v.fv), 0);
		check_view(&v);
		for (i = 0; i < 8 * n; i++) {
			const ms__range *r = &v.ranges[below(n)];

			check_addr(&v, r->start + below(r->last - r->start + 2));
			check_addr(&v, r->start - below(300));
		}
		free_view(&v);
	}
	ms_region_unref(region);
	ms_ctx_free(ctx);
}

/* The static index: rank = number of keys <= value, for every size up to 600. */
static void test_static_index_rank(void **state)
{
	ms_ctx *ctx;
	size_t n, i, k;

	(void)state;
	ms_rng_seed(&rng, 3);
	assert_int_equal(ms_ctx_new(&ctx), 0);
	for (n = 0; n <= 600; n += (n < 80 ? 1 : 37)) {
		uint64_t *keys = calloc(n + 1, sizeof(*keys));
		uint64_t cur = below(4);
		ms__sidx x;

		for (i = 0; i < n; i++) {
			keys[i] = cur;
			cur += 1 + below(3);
		}
		if (n > 2)
			keys[n - 1] = UINT64_MAX;
		assert_int_equal(ms__dispatch_build(&x, ctx, keys, n), 0);
		for (k = 0; k < 3 * n + 8; k++) {
			uint64_t probe = k == 0   ? UINT64_MAX
					 : k == 1 ? UINT64_MAX - 1
						  : below(cur + 2);
			size_t want = 0;

			for (i = 0; i < n; i++)
				want += keys[i] <= probe;
			assert_int_equal(ms__dispatch_rank(&x, probe), want);
		}
		ms__dispatch_free(&x);
		free(keys);
	}
	ms_ctx_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup_matches_linear_scan_for_every_size),
		cmocka_unit_test(test_lookup_large_views_and_sequential_walk),
		cmocka_unit_test(test_lookup_direct_maps),
		cmocka_unit_test(test_lookup_flat_table),
		cmocka_unit_test(test_static_index_rank),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
