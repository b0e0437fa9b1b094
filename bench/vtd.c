/*
 * vtd.c: `memspace-bench vtd`, the VT-d-like remapping unit (models/vtd.c).
 *
 * replay: ms_iommu_replay() of one device with a 48-bit (4-level) context
 *      and k = 10^2, 10^3, 10^4, 10^5 present 4 KiB mappings (up to 10^4
 *      with --quick), into a counting notifier. The mappings are runs of 64
 *      pages at random 2 MiB-aligned addresses spread over the whole 2^48
 *      space (a fixed seed), so the tables hold about k/64 leaf tables and
 *      as many directories: the time must grow linearly in k, not with the
 *      space. Median ms, and µs per mapping.
 * invalidate: with 10^4 mappings announced (caching mode), one
 *      page-selective invalidation (AM 0) after the guest changed that
 *      page's target (UNMAP then MAP), and one of an unchanged page (no
 *      event). Median ns per invalidation.
 * dma: ms_as_ldl_le() on the device's address space over the mapped pages,
 *      remapping on (every load walks root, context and four page-table
 *      levels through the memory address space) and off (the pass-through
 *      alias). Median ns per load.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdlib.h>

#include <memspace.h>
#include <memspace/models/devtlb.h>
#include <memspace/models/vtd.h>

#include "ms_rng.h"
#include "vtd.h"

#define PAGE ((uint64_t)4096)
#define RAM_SIZE ((uint64_t)128 << 20)
#define POOL ((uint64_t)16 << 20)
#define POOL_SIZE (RAM_SIZE - POOL)
#define RUN 64u
#define DEV MS_VTD_BDF(0, 2, 0)

typedef struct machine {
	ms_ctx *ctx;
	ms_region *ram;
	ms_as *mem, *dev;
	ms_vtd *v;
	ms_vtd_pt *pt;
	uint64_t *runs; /* IOVA of each run */
	uint64_t nr_runs;
} machine;

/* A unit with @k mappings in runs of RUN pages; remapping on (announces them all). */
static void machine_new(machine *m, uint64_t k, uint64_t seed)
{
	ms_rng g;

	ms_rng_seed(&g, seed);
	bench_check(ms_ctx_new(&m->ctx), "ms_ctx_new");
	bench_check(ms_region_new_ram(&m->ram, m->ctx, "ram", RAM_SIZE), "ms_region_new_ram");
	bench_check(ms_as_new(&m->mem, m->ctx, m->ram, "mem"), "ms_as_new");
	bench_check(
		ms_vtd_new(&m->v, m->ctx,
			   &(ms_vtd_opts){.name = "vtd", .memory = m->mem, .caching_mode = true}),
		"ms_vtd_new");
	bench_check(ms_vtd_pt_new(&m->pt, m->mem, POOL, POOL_SIZE), "ms_vtd_pt_new");
	bench_check(ms_vtd_set_root_table(m->v, ms_vtd_pt_root(m->pt)), "ms_vtd_set_root_table");
	bench_check(ms_vtd_pt_set_context(m->pt, DEV, 1, 48), "ms_vtd_pt_set_context");
	m->nr_runs = (k + RUN - 1) / RUN;
	m->runs = malloc(m->nr_runs * sizeof(*m->runs));
	if (!m->runs)
		bench_die("out of memory");
	for (uint64_t r = 0, left = k; r < m->nr_runs; r++) {
		uint64_t pages = left < RUN ? left : RUN;
		int rc;

		/* A random 2 MiB slot; a taken one (-EBUSY never: 4 KiB pages) is remapped. */
		m->runs[r] = (ms_rng_next(&g) & (((uint64_t)1 << 48) - 1)) & ~((PAGE << 9) - 1);
		rc = ms_vtd_pt_map(m->pt, 1, m->runs[r], (r * RUN * PAGE) % POOL, pages * PAGE,
				   MS_VTD_PTE_RW, PAGE);
		bench_check(rc, "ms_vtd_pt_map");
		left -= pages;
	}
	bench_check(ms_vtd_device_as(&m->dev, m->v, DEV), "ms_vtd_device_as");
	bench_check(ms_vtd_set_dmar(m->v, DEV, true), "ms_vtd_set_dmar");
}

static void machine_free(machine *m)
{
	ms_vtd_free(m->v);
	ms_vtd_pt_free(m->pt);
	ms_as_free(m->mem);
	ms_region_unref(m->ram);
	ms_ctx_free(m->ctx);
	free(m->runs);
}

static int count_map(ms_iommu_notifier *n, const ms_iommu_event *ev, void *opaque)
{
	(void)n;
	(void)ev;
	(*(uint64_t *)opaque)++;
	return 0;
}

static double time_replay(machine *m, uint64_t expect)
{
	ms_iommu_notifier_opts opts = MS_IOMMU_NOTIFIER_OPTS_INIT;
	ms_region *iommu = ms_vtd_device_iommu(m->v, DEV);
	ms_iommu_notifier *n;
	uint64_t count = 0, t0, t1;

	opts.flags = MS_IOMMU_NOTIFIER_MAP;
	opts.notify = count_map;
	opts.opaque = &count;
	bench_check(ms_iommu_register_notifier(&n, iommu, &opts), "ms_iommu_register_notifier");
	t0 = bench_now_ns();
	bench_check(ms_iommu_replay(iommu, n), "ms_iommu_replay");
	t1 = bench_now_ns();
	ms_iommu_unregister_notifier(n);
	if (count != expect)
		bench_die("vtd replay announced %llu mappings, expected %llu",
			  (unsigned long long)count, (unsigned long long)expect);
	return (double)(t1 - t0) / 1e6;
}

/* ns per page-selective invalidation; @change: the page's target changes before each. */
static double time_invalidate(machine *m, unsigned iters, bool change, unsigned round)
{
	uint64_t total = 0;

	for (unsigned i = 0; i < iters; i++) {
		uint64_t full = m->nr_runs - 1; /* the last run may be shorter */
		uint64_t iova = m->runs[i % full] + (i / full % RUN) * PAGE, t0;

		if (change)
			bench_check(ms_vtd_pt_map(m->pt, 1, iova,
						  ((uint64_t)(i + round) % 2048) * PAGE, PAGE,
						  MS_VTD_PTE_RW, PAGE),
				    "ms_vtd_pt_map");
		t0 = bench_now_ns();
		bench_check(ms_vtd_invalidate_page(m->v, 1, iova, 0), "ms_vtd_invalidate_page");
		total += bench_now_ns() - t0;
	}
	return (double)total / iters;
}

/* ns per load: through the mapped runs, or (@passthrough) over the same RAM untranslated. */
static double time_dma(machine *m, unsigned iters, bool passthrough)
{
	uint64_t t0 = bench_now_ns(), t1, sum = 0;
	ms_result res = MS_RESULT_OK, all = MS_RESULT_OK;

	for (unsigned i = 0; i < iters; i++) {
		/* Full runs only: the last one may be shorter. */
		uint64_t addr = m->runs[i % (m->nr_runs - 1)] + (i * 68u) % (RUN * PAGE);

		if (passthrough)
			addr = (i % (m->nr_runs - 1)) * RUN * PAGE % POOL +
			       (i * 68u) % (RUN * PAGE);

		sum += ms_as_ldl_le(m->dev, addr & ~3ull, MS_ATTRS_UNSPECIFIED, &res);
		all |= res;
	}
	t1 = bench_now_ns();
	if (all != MS_RESULT_OK)
		bench_die("vtd: a DMA load failed (%u)", all);
	(void)sum;
	return (double)(t1 - t0) / iters;
}

/* ns per 4-byte DMA read through a vhost-like device IOTLB over the unit (models/devtlb.h). */
static double time_dma_devtlb(machine *m, ms_devtlb *d, unsigned iters)
{
	uint64_t t0 = bench_now_ns(), t1, sum = 0;
	ms_result all = MS_RESULT_OK;

	for (unsigned i = 0; i < iters; i++) {
		uint64_t addr = m->runs[i % (m->nr_runs - 1)] + (i * 68u) % (RUN * PAGE);
		uint32_t v = 0;

		all |= ms_devtlb_read(d, addr & ~3ull, &v, sizeof(v));
		sum += v;
	}
	t1 = bench_now_ns();
	if (all != MS_RESULT_OK)
		bench_die("vtd: a DMA load through the device IOTLB failed (%u)", all);
	(void)sum;
	return (double)(t1 - t0) / iters;
}

int bench_vtd(const bench_opts *opts, bench_json *json)
{
	static const uint64_t ks[4] = {100, 1000, 10000, 100000};
	unsigned nk = opts->quick ? 3 : 4, inv_iters = opts->quick ? 2000 : 20000;
	unsigned dma_iters = opts->quick ? 100000 : 1000000;
	double *samples = malloc(opts->samples * sizeof(*samples));
	double replay_ms[4] = {0}, inv_ns[2], dma_ns[2], devtlb_ns;
	ms_devtlb *d;
	machine m;

	if (!samples)
		bench_die("out of memory");
	bench_json_open(json, "vtd");

	for (unsigned i = 0; i < nk; i++) {
		machine_new(&m, ks[i], 14 + i);
		for (unsigned s = 0; s < opts->samples; s++)
			samples[s] = time_replay(&m, ks[i]);
		replay_ms[i] = bench_median(samples, opts->samples);
		machine_free(&m);
	}

	machine_new(&m, 10000, 99);
	for (int change = 1; change >= 0; change--) {
		for (unsigned s = 0; s < opts->samples; s++)
			samples[s] = time_invalidate(&m, inv_iters, change, s);
		inv_ns[1 - change] = bench_median(samples, opts->samples);
	}
	for (int on = 1; on >= 0; on--) {
		bench_check(ms_vtd_set_dmar(m.v, DEV, on), "ms_vtd_set_dmar");
		for (unsigned s = 0; s < opts->samples; s++)
			samples[s] = time_dma(&m, dma_iters, !on);
		dma_ns[1 - on] = bench_median(samples, opts->samples);
	}
	/* Remapping on again, the device caching translations (65536 slots, the most: direct-mapped, so the 10^4 pages still meet in some). */
	bench_check(ms_vtd_set_dmar(m.v, DEV, true), "ms_vtd_set_dmar");
	bench_check(ms_devtlb_new(&d, m.ctx,
				  &(ms_devtlb_opts){.as = m.dev,
						    .attrs = MS_ATTRS_UNSPECIFIED,
						    .nr_entries = 65536}),
		    "ms_devtlb_new");
	for (unsigned s = 0; s < opts->samples; s++)
		samples[s] = time_dma_devtlb(&m, d, dma_iters);
	devtlb_ns = bench_median(samples, opts->samples);
	ms_devtlb_free(d);
	machine_free(&m);

	if (!opts->json) {
		printf("vtd: replay of a 48-bit (4-level) context, runs of %u pages at random "
		       "2 MiB slots, median ms\n",
		       RUN);
		for (unsigned i = 0; i < nk; i++)
			printf("  k = %-7llu           %12.3f ms  (%.3f us per mapping)\n",
			       (unsigned long long)ks[i], replay_ms[i],
			       replay_ms[i] * 1e3 / (double)ks[i]);
		printf("vtd: page-selective invalidation (AM 0), 10^4 mappings announced, median\n");
		printf("  changed page         %12.0f ns  (UNMAP + MAP)\n", inv_ns[0]);
		printf("  unchanged page       %12.0f ns  (no event)\n", inv_ns[1]);
		printf("vtd: ms_as_ldl_le on the device's address space, median\n");
		printf("  remapping on         %12.1f ns per load\n", dma_ns[0]);
		printf("  pass-through         %12.1f ns per load\n", dma_ns[1]);
		printf("  remapping on, through a device IOTLB (ms_devtlb_read)  %.1f ns per load\n",
		       devtlb_ns);
	}
	for (unsigned i = 0; i < nk; i++) {
		static const char *const keys[4] = {"replay_ms_k100", "replay_ms_k1000",
						    "replay_ms_k10000", "replay_ms_k100000"};

		bench_json_number(json, keys[i], replay_ms[i]);
	}
	bench_json_number(json, "invalidate_page_ns_changed", inv_ns[0]);
	bench_json_number(json, "invalidate_page_ns_unchanged", inv_ns[1]);
	bench_json_number(json, "dma_ldl_ns_remapped", dma_ns[0]);
	bench_json_number(json, "dma_ldl_ns_passthrough", dma_ns[1]);
	bench_json_number(json, "dma_read4_ns_devtlb", devtlb_ns);
	bench_json_close(json);
	free(samples);
	return 0;
}
