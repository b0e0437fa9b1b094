/*
 * devtlb.c: `memspace-bench devtlb`, the vhost-like device IOTLB model
 * (models/devtlb.c).
 *
 * The machine: 64 MiB of RAM behind an sPAPR TCE window of 1024 pages of
 * 4 KiB, every page mapped (read-write) to a scattered RAM page. The
 * device reads 4 bytes at a time, at WORKING addresses spread over the
 * first 64 pages (a fixed seeded list), in four ways:
 *   iommu     ms_as_read() on the device address space: a view lookup and
 *             the TCE model's translate on every access (no device cache);
 *   hit       ms_devtlb_read() with a 64-entry cache that holds all 64
 *             pages after the first pass: lookup under the cache's mutex,
 *             then ms_as_read() on the target;
 *   miss      ms_devtlb_read() with a 1-entry cache and addresses that
 *             alternate between two pages: every access fills the cache
 *             through ms_as_get_iotlb_entry(), the cost of a miss;
 *   direct    ms_as_read() on the target address space at the translated
 *             address: the floor (what the access costs once translated).
 * Median ns per read over the samples. The figures are checked: every read
 * returns what the RAM holds there.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <memspace.h>
#include <memspace/models/devtlb.h>
#include <memspace/models/tce.h>

#include "devtlb.h"

#define PAGE ((uint64_t)4096)
#define RAM_SIZE ((uint64_t)64 << 20)
#define WINDOW_PAGES 1024u
#define HOT_PAGES 64u
#define WORKING 4096u

typedef struct machine {
	ms_ctx *ctx;
	ms_region *ram;
	ms_as *mem, *dma;
	ms_tce_table *t;
	uint64_t addr[WORKING]; /* device addresses */
	uint64_t phys[WORKING]; /* their translations */
} machine;

/* Window page i maps RAM page (i * 37) mod (RAM pages): scattered, one-to-one. */
static uint64_t target_page(uint64_t i)
{
	return (i * 37) % (RAM_SIZE / PAGE);
}

static void machine_new(machine *m)
{
	ms_rng g;

	bench_check(ms_ctx_new(&m->ctx), "ms_ctx_new");
	bench_check(ms_region_new_ram(&m->ram, m->ctx, "ram", RAM_SIZE), "ms_region_new_ram");
	bench_check(ms_as_new(&m->mem, m->ctx, m->ram, "mem"), "ms_as_new");
	bench_check(ms_tce_new(&m->t, m->ctx, "tce", m->mem), "ms_tce_new");
	bench_check(ms_tce_window_create(m->t, 0, WINDOW_PAGES * PAGE, 12) == 0 ? 0 : -EINVAL,
		    "ms_tce_window_create");
	bench_check(ms_as_new(&m->dma, m->ctx, ms_tce_root(m->t), "dma"), "ms_as_new");
	for (uint64_t i = 0; i < WINDOW_PAGES; i++)
		bench_check(ms_tce_put(m->t, i * PAGE, target_page(i) * PAGE | MS_TCE_RW),
			    "ms_tce_put");
	for (uint64_t a = 0; a < RAM_SIZE; a += 4) {
		uint32_t v = (uint32_t)a;

		memcpy((uint8_t *)ms_region_ram_ptr(m->ram) + a, &v, 4);
	}
	ms_rng_seed(&g, 0xde71b);
	for (unsigned i = 0; i < WORKING; i++) {
		uint64_t page = ms_rng_below(&g, HOT_PAGES), off = ms_rng_below(&g, PAGE / 4) * 4;

		m->addr[i] = page * PAGE + off;
		m->phys[i] = target_page(page) * PAGE + off;
	}
}

static void machine_free(machine *m)
{
	ms_as_free(m->dma);
	ms_tce_free(m->t);
	ms_as_free(m->mem);
	ms_region_unref(m->ram);
	ms_ctx_free(m->ctx);
}

enum {
	WAY_IOMMU,
	WAY_HIT,
	WAY_MISS,
	WAY_DIRECT,
	NR_WAYS
};

/* ns per read over @rounds passes of the working set; checks every value. */
static double time_reads(machine *m, ms_devtlb *d, int way, unsigned rounds)
{
	uint64_t t0, t1, n = 0;
	uint32_t v = 0;

	t0 = bench_now_ns();
	for (unsigned r = 0; r < rounds; r++) {
		for (unsigned i = 0; i < WORKING; i++) {
			uint64_t addr = m->addr[i], phys = m->phys[i];
			ms_result res;

			if (way == WAY_MISS) { /* alternate between window pages 0 and 1 */
				addr = (i & 1) * PAGE + (addr & (PAGE - 1));
				phys = target_page(i & 1) * PAGE + (addr & (PAGE - 1));
			}
			if (way == WAY_IOMMU)
				res = ms_as_read(m->dma, addr, MS_ATTRS_UNSPECIFIED, &v, 4);
			else if (way == WAY_DIRECT)
				res = ms_as_read(m->mem, phys, MS_ATTRS_UNSPECIFIED, &v, 4);
			else
				res = ms_devtlb_read(d, addr, &v, 4);
			if (res != MS_RESULT_OK || v != (uint32_t)phys)
				bench_die(
					"devtlb: read at %#llx gave %#x (result %#x), expected %#x",
					(unsigned long long)addr, v, res, (uint32_t)phys);
			n++;
		}
	}
	t1 = bench_now_ns();
	return (double)(t1 - t0) / (double)n;
}

int bench_devtlb(const bench_opts *opts, bench_json *json)
{
	static const char *const names[NR_WAYS] = {"iommu", "hit", "miss", "direct"};
	unsigned rounds = opts->quick ? 4 : 64;
	double *samples = malloc(opts->samples * sizeof(*samples));
	double ns[NR_WAYS];
	ms_devtlb_stats st[NR_WAYS];
	machine m;

	if (!samples)
		bench_die("out of memory");
	machine_new(&m);
	for (int way = 0; way < NR_WAYS; way++) {
		ms_devtlb *d = NULL;

		memset(&st[way], 0, sizeof(st[way]));
		if (way == WAY_HIT || way == WAY_MISS)
			bench_check(ms_devtlb_new(
					    &d, m.ctx,
					    &(ms_devtlb_opts){
						    .as = m.dma,
						    .nr_entries = way == WAY_HIT ? HOT_PAGES : 1}),
				    "ms_devtlb_new");
		(void)time_reads(&m, d, way, 1); /* warm up (fills the cache) */
		for (unsigned s = 0; s < opts->samples; s++)
			samples[s] = time_reads(&m, d, way, rounds);
		ns[way] = bench_median(samples, opts->samples);
		if (d) {
			bench_check(ms_devtlb_get_stats(&st[way], d), "ms_devtlb_get_stats");
			ms_devtlb_free(d);
		}
	}
	machine_free(&m);
	if (st[WAY_HIT].misses != HOT_PAGES || st[WAY_MISS].hits != 0)
		bench_die("devtlb: the hit run missed %llu times, the miss run hit %llu times",
			  (unsigned long long)st[WAY_HIT].misses,
			  (unsigned long long)st[WAY_MISS].hits);

	if (!opts->json) {
		printf("devtlb: ns per 4-byte DMA read through a TCE IOMMU (%u addresses over %u "
		       "pages), median of %u samples\n",
		       WORKING, HOT_PAGES, opts->samples);
		printf("  no device IOTLB (ms_as_read via the IOMMU) %8.1f ns\n", ns[WAY_IOMMU]);
		printf("  device IOTLB, every read a hit              %8.1f ns  (%.2fx)\n",
		       ns[WAY_HIT], ns[WAY_IOMMU] / ns[WAY_HIT]);
		printf("  device IOTLB, every read a miss             %8.1f ns\n", ns[WAY_MISS]);
		printf("  translated address, no IOMMU (the floor)    %8.1f ns\n", ns[WAY_DIRECT]);
	}
	bench_json_open(json, "devtlb");
	for (int way = 0; way < NR_WAYS; way++)
		bench_json_number(json, names[way], ns[way]);
	bench_json_close(json);
	free(samples);
	return 0;
}
