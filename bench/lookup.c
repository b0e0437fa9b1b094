/*
 * lookup.c: `memspace-bench lookup`, nanoseconds per address lookup.
 *
 * For each size (10, 1,000 and 100,000 flat ranges) one deterministic layout
 * is built through the public API (a 2^64 container "system" holding I/O
 * reservations, all added in one transaction, and an address space on it).
 * The view's ranges then feed three implementations that answer the same
 * question, "which range holds this address":
 *   index    the library's ms__dispatch_lookup() (src/flatview.h);
 *   bsearch  a plain binary search over a sorted {start, last} array;
 *   radix    the QEMU-style page table of radix.c.
 * Before any timing, all three must agree on every address of the run (the
 * program aborts otherwise). Each is then timed over the same address array,
 * round-robin, several samples; the table shows medians.
 *
 * Every lookup is one out-of-line call (the library's by linkage, the two
 * baselines marked noinline), and the loop adds the start of the range found
 * (1 for none) to a checksum that the three must also agree on.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "map.h"
#include "txn.h"

#include "bench.h"
#include "radix.h"

#define PAGE ((uint64_t)4096)
#define LAYOUT_BASE ((uint64_t)1 << 30)
#define LAYOUT_SEED 0x6d656d7370616365u /* "memspace" */

enum {
	IMPL_INDEX,
	IMPL_BSEARCH,
	IMPL_RADIX,
	NR_IMPLS
};
static const char *const impl_names[NR_IMPLS] = {"index", "bsearch", "radix"};

enum {
	PATTERN_RANDOM,
	PATTERN_SEQUENTIAL,
	NR_PATTERNS
};
static const char *const pattern_names[NR_PATTERNS] = {"random", "sequential"};

static uint64_t align_up(uint64_t value, uint64_t alignment)
{
	return (value + alignment - 1) & ~(alignment - 1);
}

/*
 * A deterministic layout of @n disjoint ranges in increasing order, below
 * 2^48. A quarter are smaller than a page (16 B to 1 KiB, several sharing a
 * page, so the radix table needs subpages); the rest are page-sized to
 * 64 KiB (most), 64 KiB to 2 MiB, 2 MiB-aligned runs of 2 to 128 MiB, or
 * start and end inside a page. About a quarter are followed by a gap.
 */
static void make_layout(bench_range *out, size_t n, uint64_t seed)
{
	uint64_t cursor = LAYOUT_BASE;
	ms_rng rng;

	ms_rng_seed(&rng, seed);
	for (size_t i = 0; i < n; i++) {
		uint64_t start, size;

		if (ms_rng_below(&rng, 4) == 0) {
			size = 16 * (1 + ms_rng_below(&rng, 64));
			start = cursor + 16 * ms_rng_below(&rng, 8);
			if ((start & (PAGE - 1)) + size > PAGE)
				start = align_up(cursor, PAGE) + 16 * ms_rng_below(&rng, 16);
		} else {
			uint64_t kind = ms_rng_below(&rng, 100);

			start = align_up(cursor, PAGE);
			if (kind < 10) {
				start += 256 * (1 + ms_rng_below(&rng, 15));
				size = PAGE * (1 + ms_rng_below(&rng, 4)) +
				       256 * ms_rng_below(&rng, 16);
			} else if (kind < 80) {
				size = PAGE * (1 + ms_rng_below(&rng, 16));
			} else if (kind < 95) {
				size = PAGE * (16 + ms_rng_below(&rng, 497));
			} else {
				start = align_up(start, (uint64_t)2 << 20);
				size = ((uint64_t)2 << 20) * (1 + ms_rng_below(&rng, 64));
			}
		}
		out[i].start = start;
		out[i].last = start + size - 1;
		cursor = start + size;
		if (ms_rng_below(&rng, 4) == 0)
			cursor += PAGE * (1 + ms_rng_below(&rng, 16));
	}
	if (n > 0 && out[n - 1].last >= RADIX_ADDR_LIMIT)
		bench_die("layout of %zu ranges exceeds 48 bits", n);
}

/*
 * Addresses, "mostly mapped". random: a uniformly chosen range, a uniform
 * offset inside it (95%), or just past a range's end, often a hole (5%).
 * sequential: increasing addresses, four per range at quarter steps, so
 * consecutive lookups hit the same range or the next one; wraps around.
 */
static void make_addresses(uint64_t *out, size_t count, const bench_range *ranges, size_t n,
			   int pattern)
{
	ms_rng rng;

	ms_rng_seed(&rng, LAYOUT_SEED ^ n ^ ((uint64_t)pattern << 32));
	for (size_t k = 0; k < count; k++) {
		const bench_range *r;
		uint64_t size;

		if (pattern == PATTERN_SEQUENTIAL) {
			r = &ranges[(k / 4) % n];
			size = r->last - r->start + 1;
			out[k] = r->start + (size / 4) * (k % 4);
		} else {
			r = &ranges[ms_rng_below(&rng, n)];
			size = r->last - r->start + 1;
			if (ms_rng_below(&rng, 20) == 0)
				out[k] = r->last + 1 + ms_rng_below(&rng, 256);
			else
				out[k] = r->start + ms_rng_below(&rng, size);
		}
	}
}

/* Baseline (b): lower bound on `last`, as in QEMU's flatview_lookup(). */
__attribute__((noinline)) static const bench_range *bsearch_lookup(const bench_range *ranges,
								   size_t n, uint64_t addr)
{
	size_t lo = 0, hi = n;

	/* Invariant: ranges before lo end below addr; none from hi on does. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ranges[mid].last < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == n || ranges[lo].start > addr)
		return NULL;
	return &ranges[lo];
}

__attribute__((noinline)) static const radix_section *radix_lookup_noinline(radix_table *t,
									    uint64_t addr)
{
	return radix_lookup(t, addr);
}

typedef struct lookup_subject {
	const ms_flatview *fv;
	const bench_range *ranges;
	size_t nr;
	radix_table *radix;
} lookup_subject;

/* One timed pass of implementation @impl over @addrs; returns the checksum. */
static uint64_t run_pass(const lookup_subject *s, int impl, const uint64_t *addrs, size_t count)
{
	uint64_t sum = 0;

	switch (impl) {
	case IMPL_INDEX:
		for (size_t k = 0; k < count; k++) {
			const ms__range *r = ms__dispatch_lookup(s->fv, addrs[k]);

			sum += r ? r->start : 1;
		}
		break;
	case IMPL_BSEARCH:
		for (size_t k = 0; k < count; k++) {
			const bench_range *r = bsearch_lookup(s->ranges, s->nr, addrs[k]);

			sum += r ? r->start : 1;
		}
		break;
	default:
		for (size_t k = 0; k < count; k++)
			sum += radix_lookup_noinline(s->radix, addrs[k])->range_start;
		break;
	}
	return sum;
}

/*
 * Abort unless the three implementations answer every address alike.
 * Return: how many of the addresses are mapped.
 */
static size_t verify(const lookup_subject *s, const uint64_t *addrs, size_t count)
{
	size_t mapped = 0;

	for (size_t k = 0; k < count; k++) {
		uint64_t addr = addrs[k];
		const ms__range *lib = ms__dispatch_lookup(s->fv, addr);
		const bench_range *bs = bsearch_lookup(s->ranges, s->nr, addr);
		const radix_section *rx = radix_lookup(s->radix, addr);
		size_t expect = bs ? (size_t)(bs - s->ranges) : SIZE_MAX;

		if (bs && (addr < bs->start || addr > bs->last))
			bench_die("bsearch: 0x%" PRIx64 " is not in the range it found", addr);
		if ((lib == NULL) != (bs == NULL) ||
		    (lib && (lib->start != bs->start || lib->last != bs->last)))
			bench_die("index and bsearch disagree at 0x%" PRIx64 ": index %s "
				  "[0x%" PRIx64 ", 0x%" PRIx64 "], bsearch range %lld",
				  addr, lib ? "found" : "found nothing", lib ? lib->start : 0,
				  lib ? lib->last : 0, bs ? (long long)expect : (long long)-1);
		if (rx->range != expect)
			bench_die("radix and bsearch disagree at 0x%" PRIx64 ": radix range %lld, "
				  "bsearch range %lld",
				  addr,
				  rx->range == SIZE_MAX ? (long long)-1 : (long long)rx->range,
				  bs ? (long long)expect : (long long)-1);
		mapped += bs != NULL;
	}
	return mapped;
}

/* Build the topology of @layout through the public API; return its view. */
static ms_flatview *build_view(ms_ctx *ctx, const bench_range *layout, size_t n)
{
	ms_region *system;
	ms_flatview *fv;
	ms_as *as;
	char name[32];

	bench_check(ms_region_new_container(&system, ctx, "system", MS_SIZE_2_64),
		    "ms_region_new_container");
	bench_check(ms_as_new(&as, ctx, system, "memory"), "ms_as_new");
	ms_region_unref(system);
	ms_transaction_begin(ctx);
	for (size_t i = 0; i < n; i++) {
		ms_region *dev;

		snprintf(name, sizeof(name), "dev%zu", i);
		bench_check(ms_region_new_io(&dev, ctx,
					     &(ms_region_io_opts){.name = name,
								  .size = layout[i].last -
									  layout[i].start + 1,
								  .ops = NULL}),
			    "ms_region_new_io");
		bench_check(ms_region_add_subregion(system, layout[i].start, dev),
			    "ms_region_add_subregion");
		ms_region_unref(dev);
	}
	bench_check(ms_transaction_commit(ctx), "ms_transaction_commit");
	fv = ms_as_get_flatview(as);

	/* The bench measures the ranges it asked for: check the view has exactly those. */
	if (ms_flatview_nr_ranges(fv) != n)
		bench_die("view has %zu ranges, expected %zu", ms_flatview_nr_ranges(fv), n);
	for (size_t i = 0; i < n; i++) {
		ms_section sec;

		bench_check(ms_flatview_range(&sec, fv, i), "ms_flatview_range");
		if (sec.start != layout[i].start || sec.last != layout[i].last)
			bench_die("range %zu is [0x%" PRIx64 ", 0x%" PRIx64 "], expected "
				  "[0x%" PRIx64 ", 0x%" PRIx64 "]",
				  i, sec.start, sec.last, layout[i].start, layout[i].last);
	}
	return fv;
}

int bench_lookup(const bench_opts *opts, bench_json *json)
{
	static const size_t full_sizes[] = {10, 1000, 100000};
	static const size_t quick_sizes[] = {10, 1000, 10000};
	const size_t *sizes = opts->quick ? quick_sizes : full_sizes;
	size_t nr_sizes = 3;
	size_t count = opts->quick ? (size_t)1 << 16 : (size_t)1 << 20;
	uint64_t *addrs = malloc(count * sizeof(*addrs));
	double *samples = malloc(opts->samples * sizeof(*samples) * NR_IMPLS);

	if (!addrs || !samples)
		bench_die("out of memory");
	if (!opts->json) {
		printf("lookup: median ns per lookup, %u samples of %zu lookups each\n",
		       opts->samples, count);
		printf("  %7s  %-10s  %7s  %7s  %7s  %13s  %11s  %9s\n", "ranges", "pattern",
		       "index", "bsearch", "radix", "bsearch/index", "radix/index", "radix MiB");
	}
	bench_json_open(json, "lookup");
	bench_json_uint(json, "lookups_per_sample", count);
	bench_json_uint(json, "samples", opts->samples);
	bench_json_open_array(json, "results");

	for (size_t si = 0; si < nr_sizes; si++) {
		size_t n = sizes[si];
		bench_range *layout = malloc(n * sizeof(*layout));
		lookup_subject subject = {.ranges = layout, .nr = n};
		ms_flatview *fv;
		ms_ctx *ctx;

		if (!layout)
			bench_die("out of memory");
		make_layout(layout, n, LAYOUT_SEED + n);
		bench_check(ms_ctx_new(&ctx), "ms_ctx_new");
		fv = build_view(ctx, layout, n);
		subject.fv = fv;
		bench_check(radix_new(&subject.radix, layout, n), "radix_new");

		for (int pattern = 0; pattern < NR_PATTERNS; pattern++) {
			double median[NR_IMPLS];
			uint64_t checksum[NR_IMPLS];
			size_t mapped;

			make_addresses(addrs, count, layout, n, pattern);
			mapped = verify(&subject, addrs, count);
			/* Warm-up pass, then samples round-robin so drift hits all alike. */
			for (int impl = 0; impl < NR_IMPLS; impl++)
				checksum[impl] = run_pass(&subject, impl, addrs, count);
			for (unsigned s = 0; s < opts->samples; s++) {
				for (int impl = 0; impl < NR_IMPLS; impl++) {
					uint64_t t0 = bench_now_ns(), sum;

					sum = run_pass(&subject, impl, addrs, count);
					samples[impl * opts->samples + s] =
						(double)(bench_now_ns() - t0) / (double)count;
					if (sum != checksum[impl])
						bench_die("%s: checksum changed between passes",
							  impl_names[impl]);
				}
			}
			for (int impl = 0; impl < NR_IMPLS; impl++) {
				if (checksum[impl] != checksum[IMPL_INDEX])
					bench_die("%s checksum 0x%" PRIx64 " != index 0x%" PRIx64,
						  impl_names[impl], checksum[impl],
						  checksum[IMPL_INDEX]);
				median[impl] =
					bench_median(&samples[impl * opts->samples], opts->samples);
			}

			if (!opts->json) {
				printf("  %7zu  %-10s  %7.2f  %7.2f  %7.2f  %12.2fx  %10.2fx  %9.1f\n",
				       n, pattern_names[pattern], median[IMPL_INDEX],
				       median[IMPL_BSEARCH], median[IMPL_RADIX],
				       median[IMPL_BSEARCH] / median[IMPL_INDEX],
				       median[IMPL_RADIX] / median[IMPL_INDEX],
				       (double)radix_memory(subject.radix) / (1 << 20));
				fflush(stdout);
			}
			bench_json_open(json, NULL);
			bench_json_uint(json, "ranges", n);
			bench_json_string(json, "pattern", pattern_names[pattern]);
			bench_json_open(json, "ns_per_lookup");
			for (int impl = 0; impl < NR_IMPLS; impl++)
				bench_json_number(json, impl_names[impl], median[impl]);
			bench_json_close(json);
			bench_json_number(json, "bsearch_over_index",
					  median[IMPL_BSEARCH] / median[IMPL_INDEX]);
			bench_json_number(json, "radix_over_index",
					  median[IMPL_RADIX] / median[IMPL_INDEX]);
			bench_json_number(json, "mapped_fraction", (double)mapped / (double)count);
			bench_json_uint(json, "radix_bytes", radix_memory(subject.radix));
			bench_json_close(json);
		}
		radix_free(subject.radix);
		ms_flatview_unref(fv);
		ms_ctx_free(ctx);
		free(layout);
	}
	bench_json_close(json);
	bench_json_close(json);
	free(samples);
	free(addrs);
	return 0;
}
