/*
 * test_dispatch.c: the flat-view lookup index against a linear scan.
 *
 * Views of every size from 0 to 300 ranges (and a few large ones), with gaps
 * and adjacent ranges, ranges at both ends of the address space, and lookups
 * at every boundary (reference: linear scan, or binary search for big views), in random order and sequentially (so the hint is used
 * and invalidated).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>

#include "internal.h"

static uint64_t rng_state;

static uint64_t next_random(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Reference: a linear scan for small views, a textbook binary search for large ones. */
static const ms__range *linear_lookup(const ms_flatview *fv, uint64_t addr)
{
	size_t i, lo = 0, hi = fv->nr;

	if (fv->nr <= 300) {
		for (i = 0; i < fv->nr; i++)
			if (fv->ranges[i].start <= addr && addr <= fv->ranges[i].last)
				return &fv->ranges[i];
		return NULL;
	}
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (fv->ranges[mid].start <= addr)
			lo = mid;
		else
			hi = mid;
	}
	if (fv->ranges[lo].start <= addr && addr <= fv->ranges[lo].last)
		return &fv->ranges[lo];
	return NULL;
}

/* @n sorted disjoint ranges; gaps and adjacency chosen at random. */
static ms_flatview *make_view(ms_ctx *ctx, ms_region *region, size_t n, bool touch_ends)
{
	ms__range *ranges = calloc(n ? n : 1, sizeof(*ranges));
	uint64_t cur = touch_ends ? 0 : 1 + next_random() % 64;
	ms_flatview *fv;
	size_t i;

	for (i = 0; i < n; i++) {
		uint64_t len = 1 + next_random() % 5000;

		ranges[i].start = cur;
		ranges[i].last = cur + len - 1;
		ranges[i].region = region;
		ranges[i].offset_in_region = i;
		cur += len + ((next_random() & 1) ? next_random() % 300 : 0);
	}
	if (touch_ends && n > 0)
		ranges[n - 1].last = UINT64_MAX;
	assert_int_equal(ms__flatview_new(&fv, ctx, region, ranges, n), 0);
	return fv;
}

static void check_addr(const ms_flatview *fv, uint64_t addr)
{
	const ms__range *want = linear_lookup(fv, addr);
	const ms__range *got = ms__flatview_lookup(fv, addr);

	if (want != got)
		fail_msg("addr 0x%llx: index gave %p (#%td), linear scan %p (#%td)",
			 (unsigned long long)addr, (const void *)got, got ? got - fv->ranges : -1,
			 (const void *)want, want ? want - fv->ranges : -1);
}

static void check_view(const ms_flatview *fv)
{
	size_t i;

	check_addr(fv, 0);
	check_addr(fv, UINT64_MAX);
	for (i = 0; i < fv->nr; i++) {
		check_addr(fv, fv->ranges[i].start);
		check_addr(fv, fv->ranges[i].last);
		check_addr(fv, fv->ranges[i].start - 1);
		check_addr(fv, fv->ranges[i].last + 1);
	}
	for (i = 0; i < 4 * fv->nr + 16; i++) {
		uint64_t base = fv->nr ? fv->ranges[next_random() % fv->nr].start : 0;

		check_addr(fv, base + next_random() % 8192);
	}
}

static void test_lookup_matches_linear_scan_for_every_size(void **state)
{
	ms_region *region;
	ms_ctx *ctx;
	size_t n;

	(void)state;
	rng_state = 1;
	assert_int_equal(ms_ctx_new(&ctx), 0);
	assert_int_equal(ms_region_new_io(&region, ctx, "r", 0x1000, NULL, NULL), 0);
	for (n = 0; n <= 300; n++) {
		ms_flatview *fv = make_view(ctx, region, n, n % 3 == 0);

		check_view(fv);
		ms_flatview_unref(fv);
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
	rng_state = 2;
	assert_int_equal(ms_ctx_new(&ctx), 0);
	assert_int_equal(ms_region_new_io(&region, ctx, "r", 0x1000, NULL, NULL), 0);
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		ms_flatview *fv = make_view(ctx, region, sizes[s], s & 1);
		uint64_t addr, end = fv->ranges[fv->nr - 1].start + 10000;

		check_view(fv);
		/* Sequential walk: exercises the hint and its successor. */
		for (addr = fv->ranges[0].start; addr < end && addr < fv->ranges[0].start + 2000000;
		     addr += 97)
			check_addr(fv, addr);
		ms_flatview_unref(fv);
	}
	ms_region_unref(region);
	ms_ctx_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup_matches_linear_scan_for_every_size),
		cmocka_unit_test(test_lookup_large_views_and_sequential_walk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
