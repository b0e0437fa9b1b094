/*
 * iommu.c: `memspace-bench iommu` and `memspace-bench cache`.
 *
 * iommu: the cost of delivering one IOMMU notification that touches one
 *        page, with n = 100, 1000 and 10000 disjoint one-page notifiers
 *        registered: ms_iommu_notify() (interval index, plus its topology
 *        lock and checks) against a linear scan over the same notifiers
 *        (QEMU's list walk: test every notifier's index and range, crop,
 *        call). Both call the same callback; each notification matches
 *        exactly one notifier, which is checked.
 * cache: a 4-byte load at random offsets of a 1 MiB stretch of RAM, through
 *        a region cache (ms_cache_ldl_le) against ms_as_ldl_le() and a plain
 *        host load; and the same behind an IOMMU (identity mapping in 2 MiB
 *        pages), where the uncached load translates every time.
 * Every figure is the median ns per operation over the samples.
 *
 * SPDX-License-Identifier: MIT
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "memspace.h"

#include "bench.h"

#define PAGE ((uint64_t)4096)

/* ---- a minimal IOMMU class ------------------------------------------------------- */

typedef struct identity_iommu {
	ms_as *target;
	uint64_t page_mask; /* identity mapping in pages of mask + 1 bytes */
} identity_iommu;

static void identity_translate(ms_iotlb_entry *out, ms_region *iommu, uint64_t addr,
			       ms_iommu_perm flags, unsigned idx, void *opaque)
{
	const identity_iommu *b = opaque;

	(void)iommu;
	(void)flags;
	(void)idx;
	out->target_as = b->target;
	out->iova = addr & ~b->page_mask;
	out->translated_addr = addr & ~b->page_mask;
	out->addr_mask = b->page_mask;
	out->perm = MS_IOMMU_RW;
}

static const ms_iommu_ops identity_ops = {.version = MS_IOMMU_OPS_VERSION,
					  .translate = identity_translate};

/* ---- notify: index against linear scan --------------------------------------------- */

typedef struct counter {
	uint64_t calls;
	uint64_t last_iova;
} counter;

static int count_event(ms_iommu_notifier *n, const ms_iommu_event *event, void *opaque)
{
	counter *c = opaque;

	(void)n;
	c->calls++;
	c->last_iova = event->entry.iova;
	return 0;
}

/* What QEMU keeps per notifier, walked as a list. */
typedef struct linear_notifier {
	ms_iommu_notifier_flags flags;
	uint64_t start, end;
	unsigned idx;
	ms_iommu_notify_fn notify;
	void *opaque;
} linear_notifier;

static int linear_notify(const linear_notifier *list, size_t n, unsigned idx,
			 const ms_iommu_event *event)
{
	uint64_t first = event->entry.iova, last = first + event->entry.addr_mask;
	int first_error = 0;

	for (size_t i = 0; i < n; i++) {
		const linear_notifier *l = &list[i];
		ms_iommu_event cropped;
		int rc;

		if (l->idx != idx || !(l->flags & event->type) || l->start > last || l->end < first)
			continue;
		cropped = *event;
		cropped.entry.iova = first > l->start ? first : l->start;
		cropped.entry.addr_mask = (last < l->end ? last : l->end) - cropped.entry.iova;
		rc = l->notify(NULL, &cropped, l->opaque);
		if (rc < 0 && first_error == 0)
			first_error = rc;
	}
	return first_error;
}

static double time_notify(ms_region *iommu, const linear_notifier *list, size_t n, bool linear,
			  const uint64_t *pages, size_t nr_pages, size_t iters)
{
	uint64_t t0 = bench_now_ns();

	for (size_t i = 0; i < iters; i++) {
		ms_iommu_event ev = {.type = MS_IOMMU_NOTIFIER_UNMAP};

		ev.entry.iova = pages[i & (nr_pages - 1)] * PAGE;
		ev.entry.addr_mask = PAGE - 1;
		ev.entry.perm = MS_IOMMU_NONE;
		if (linear)
			linear_notify(list, n, 0, &ev);
		else
			ms_iommu_notify(iommu, 0, &ev);
	}
	return (double)(bench_now_ns() - t0) / (double)iters;
}

int bench_iommu(const bench_opts *opts, bench_json *json)
{
	static const size_t sizes[] = {100, 1000, 10000};
	size_t nr_pages = 1 << 12;
	uint64_t *pages = malloc(nr_pages * sizeof(*pages));
	double *samples = malloc(2 * opts->samples * sizeof(*samples));
	ms_rng rng;

	if (!pages || !samples)
		bench_die("out of memory");
	ms_rng_seed(&rng, 0x696f6d6d75u); /* "iommu" */
	if (!opts->json)
		printf("iommu: median ns per ms_iommu_notify() of a one-page UNMAP, n disjoint "
		       "one-page notifiers\n");
	bench_json_open(json, "iommu");
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		size_t n = sizes[s];
		linear_notifier *list = calloc(n, sizeof(*list));
		ms_iommu_notifier **regs = calloc(n, sizeof(*regs));
		identity_iommu b = {NULL, PAGE - 1};
		counter c = {0, 0};
		ms_region *iommu;
		ms_ctx *ctx;
		size_t iters = opts->quick ? 20000 : 200000;
		double index_ns, linear_ns;

		if (opts->quick && n > 1000) {
			free(list);
			free(regs);
			continue; /* a smoke test needs no 10,000 registrations */
		}
		if (!list || !regs)
			bench_die("out of memory");
		bench_check(ms_ctx_new(&ctx), "ms_ctx_new");
		bench_check(ms_iommu_new(&iommu, ctx,
					 &(ms_iommu_opts){.name = "iommu",
							  .size = n * PAGE,
							  .ops = &identity_ops,
							  .opaque = &b}),
			    "ms_iommu_new");
		for (size_t i = 0; i < n; i++) {
			ms_iommu_notifier_opts o = MS_IOMMU_NOTIFIER_OPTS_INIT;

			o.flags = MS_IOMMU_NOTIFIER_IOTLB_EVENTS;
			o.start = i * PAGE;
			o.end = i * PAGE + PAGE - 1;
			o.notify = count_event;
			o.opaque = &c;
			bench_check(ms_iommu_register_notifier(&regs[i], iommu, &o),
				    "ms_iommu_register_notifier");
			list[i] = (linear_notifier){o.flags, o.start, o.end, 0, count_event, &c};
		}
		for (size_t i = 0; i < nr_pages; i++)
			pages[i] = ms_rng_below(&rng, n);
		/* Self-check: each notification reaches exactly its page's notifier. */
		for (int linear = 0; linear < 2; linear++) {
			c.calls = 0;
			time_notify(iommu, list, n, linear, pages, nr_pages, nr_pages);
			if (c.calls != nr_pages || c.last_iova != pages[nr_pages - 1] * PAGE)
				bench_die("notify delivered %" PRIu64 " events for %zu", c.calls,
					  nr_pages);
		}
		for (unsigned k = 0; k < opts->samples; k++) {
			samples[k] = time_notify(iommu, list, n, false, pages, nr_pages, iters);
			/* The scan is O(n): fewer iterations keep its samples as long. */
			samples[opts->samples + k] = time_notify(
				iommu, list, n, true, pages, nr_pages, iters / (n / 100 + 1) + 1);
		}
		index_ns = bench_median(samples, opts->samples);
		linear_ns = bench_median(samples + opts->samples, opts->samples);
		if (!opts->json)
			printf("  n=%-6zu index %8.1f   linear scan %9.1f   linear/index %6.1fx\n",
			       n, index_ns, linear_ns, linear_ns / index_ns);
		bench_json_open(json, n == 100 ? "n100" : n == 1000 ? "n1000" : "n10000");
		bench_json_number(json, "index_ns", index_ns);
		bench_json_number(json, "linear_ns", linear_ns);
		bench_json_number(json, "linear_over_index", linear_ns / index_ns);
		bench_json_close(json);
		for (size_t i = 0; i < n; i++)
			ms_iommu_unregister_notifier(regs[i]);
		ms_region_unref(iommu);
		ms_ctx_free(ctx);
		free(regs);
		free(list);
	}
	bench_json_close(json);
	free(samples);
	free(pages);
	return 0;
}

/* ---- cache: cached against uncached 4-byte loads ------------------------------------ */

#define RAM_SIZE ((uint64_t)16 << 20)
#define SPAN ((uint64_t)1 << 20)
#define IOMMU_BASE ((uint64_t)1 << 32)

enum {
	C_RAW,
	C_AS_LDL,
	C_CACHE_LDL,
	C_IOMMU_AS_LDL,
	C_IOMMU_CACHE_LDL,
	NR_C
};

typedef struct cache_env {
	ms_as *as;
	const uint8_t *ram;
	ms_cache *ram_cache, *iommu_cache;
	const uint64_t *offsets;
	size_t nr_offsets;
} cache_env;

static uint64_t run_cache_variant(const cache_env *env, int v, size_t iters)
{
	ms_attrs attrs = MS_ATTRS_UNSPECIFIED;
	uint64_t sum = 0;

	for (size_t i = 0; i < iters; i++) {
		uint64_t off = env->offsets[i & (env->nr_offsets - 1)];
		uint32_t word;

		switch (v) {
		case C_RAW:
			memcpy(&word, env->ram + off, 4);
			sum += word;
			break;
		case C_AS_LDL:
			sum += ms_as_ldl_le(env->as, off, attrs, NULL);
			break;
		case C_CACHE_LDL:
			sum += ms_cache_ldl_le(env->ram_cache, off, NULL);
			break;
		case C_IOMMU_AS_LDL:
			sum += ms_as_ldl_le(env->as, IOMMU_BASE + off, attrs, NULL);
			break;
		default:
			sum += ms_cache_ldl_le(env->iommu_cache, off, NULL);
			break;
		}
	}
	return sum;
}

int bench_cache(const bench_opts *opts, bench_json *json)
{
	static const char *const names[NR_C] = {"raw", "as_ldl", "cache_ldl", "iommu_as_ldl",
						"iommu_cache_ldl"};
	uint64_t target_ns = opts->quick ? 5000000 : 50000000;
	size_t nr_offsets = 1 << 16;
	uint64_t *offsets = malloc(nr_offsets * sizeof(*offsets));
	double *samples = malloc(NR_C * opts->samples * sizeof(*samples));
	double median[NR_C];
	size_t iters[NR_C];
	ms_rng rng;
	ms_region *root, *ram, *iommu;
	ms_cache ram_cache, iommu_cache;
	identity_iommu b;
	cache_env env;
	ms_ctx *ctx;
	uint8_t *mem;

	if (!offsets || !samples)
		bench_die("out of memory");
	ms_rng_seed(&rng, 0x6361636865u); /* "cache" */
	for (size_t i = 0; i < nr_offsets; i++)
		offsets[i] = ms_rng_below(&rng, SPAN / 4) * 4;
	bench_check(ms_ctx_new(&ctx), "ms_ctx_new");
	bench_check(ms_region_new_container(&root, ctx, "system", MS_SIZE_2_64),
		    "ms_region_new_container");
	bench_check(ms_as_new(&env.as, ctx, root, "memory"), "ms_as_new");
	b = (identity_iommu){env.as, ((uint64_t)2 << 20) - 1};
	bench_check(ms_region_new_ram(&ram, ctx, "ram", RAM_SIZE), "ms_region_new_ram");
	bench_check(ms_iommu_new(&iommu, ctx,
				 &(ms_iommu_opts){.name = "iommu",
						  .size = RAM_SIZE,
						  .ops = &identity_ops,
						  .opaque = &b}),
		    "ms_iommu_new");
	bench_check(ms_region_add_subregion(root, 0, ram), "ms_region_add_subregion");
	bench_check(ms_region_add_subregion(root, IOMMU_BASE, iommu), "ms_region_add_subregion");
	mem = ms_region_ram_ptr(ram);
	for (uint64_t i = 0; i < RAM_SIZE; i++)
		mem[i] = (uint8_t)ms_rng_next(&rng);
	bench_check(ms_cache_init(&ram_cache, env.as, 0, SPAN, false), "ms_cache_init");
	bench_check(ms_cache_init(&iommu_cache, env.as, IOMMU_BASE, SPAN, false), "ms_cache_init");
	if (!ms_cache_is_direct(&ram_cache, false) || !ms_cache_is_direct(&iommu_cache, false))
		bench_die("caches over RAM are not direct");
	env.ram = mem;
	env.ram_cache = &ram_cache;
	env.iommu_cache = &iommu_cache;
	env.offsets = offsets;
	env.nr_offsets = nr_offsets;
	for (size_t i = 0; i < 4096; i++) {
		uint32_t raw;

		memcpy(&raw, mem + offsets[i], 4);
		for (int v = C_AS_LDL; v < NR_C; v++) {
			cache_env one = env;

			one.offsets = &offsets[i];
			one.nr_offsets = 1;
			if (run_cache_variant(&one, v, 1) != raw)
				bench_die("%s at 0x%" PRIx64 " disagrees with RAM", names[v],
					  offsets[i]);
		}
	}
	for (int v = 0; v < NR_C; v++) {
		size_t n = 16;

		run_cache_variant(&env, v, 1000);
		for (;;) {
			uint64_t t0 = bench_now_ns(), elapsed;

			run_cache_variant(&env, v, n);
			elapsed = bench_now_ns() - t0;
			if (elapsed >= target_ns / 4 || n >= ((size_t)1 << 30)) {
				iters[v] = (size_t)((double)n * (double)target_ns /
						    (double)(elapsed ? elapsed : 1)) +
					   1;
				break;
			}
			n *= 4;
		}
	}
	for (unsigned s = 0; s < opts->samples; s++)
		for (int v = 0; v < NR_C; v++) {
			uint64_t t0 = bench_now_ns();

			run_cache_variant(&env, v, iters[v]);
			samples[v * opts->samples + s] =
				(double)(bench_now_ns() - t0) / (double)iters[v];
		}
	for (int v = 0; v < NR_C; v++)
		median[v] = bench_median(&samples[v * opts->samples], opts->samples);
	if (!opts->json) {
		printf("cache: median ns per 4-byte load, %u samples of ~%.0f ms each\n",
		       opts->samples, (double)target_ns / 1e6);
		printf("  RAM        raw load %6.2f   ms_as_ldl_le %6.2f   ms_cache_ldl_le %6.2f   "
		       "uncached/cached %.1fx\n",
		       median[C_RAW], median[C_AS_LDL], median[C_CACHE_LDL],
		       median[C_AS_LDL] / median[C_CACHE_LDL]);
		printf("  via IOMMU                     ms_as_ldl_le %6.2f   ms_cache_ldl_le %6.2f   "
		       "uncached/cached %.1fx\n",
		       median[C_IOMMU_AS_LDL], median[C_IOMMU_CACHE_LDL],
		       median[C_IOMMU_AS_LDL] / median[C_IOMMU_CACHE_LDL]);
		fflush(stdout);
	}
	bench_json_open(json, "cache");
	bench_json_open(json, "ns");
	for (int v = 0; v < NR_C; v++)
		bench_json_number(json, names[v], median[v]);
	bench_json_close(json);
	bench_json_number(json, "ram_uncached_over_cached", median[C_AS_LDL] / median[C_CACHE_LDL]);
	bench_json_number(json, "iommu_uncached_over_cached",
			  median[C_IOMMU_AS_LDL] / median[C_IOMMU_CACHE_LDL]);
	bench_json_close(json);

	ms_cache_destroy(&ram_cache);
	ms_cache_destroy(&iommu_cache);
	ms_region_unref(ram);
	ms_region_unref(iommu);
	ms_region_unref(root);
	ms_ctx_free(ctx);
	free(samples);
	free(offsets);
	return 0;
}
