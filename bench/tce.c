/*
 * tce.c: `memspace-bench tce`, the sPAPR TCE table model (models/tce.c).
 *
 * put: H_PUT_TCE (ms_tce_put) rate on a 1024-page window, each put an
 *      in-place change of a present entry (UNMAP then MAP), once with no
 *      consumer and once with a VFIO-like container attached (each put then
 *      unpins one page and pins another). Median puts per second.
 * replay: ms_iommu_replay() of a 2^20-page window (2^16 with --quick) into
 *      a counting notifier, with 1 % and 100 % of the entries present, and
 *      with none: the class's replay walks the present entries only, so the
 *      time must scale with them, not with the window. Median ms.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdlib.h>

#include <memspace.h>
#include <memspace/models/tce.h>
#include <memspace/models/vfio.h>

#include "tce.h"

#define PAGE ((uint64_t)4096)
#define RAM_SIZE ((uint64_t)64 << 20)
#define PUT_PAGES 1024u

typedef struct machine {
	ms_ctx *ctx;
	ms_region *ram;
	ms_as *mem, *dma;
	ms_tce_table *t;
} machine;

static void machine_new(machine *m, uint64_t window_pages)
{
	bench_check(ms_ctx_new(&m->ctx), "ms_ctx_new");
	bench_check(ms_region_new_ram(&m->ram, m->ctx, "ram", RAM_SIZE), "ms_region_new_ram");
	bench_check(ms_as_new(&m->mem, m->ctx, m->ram, "mem"), "ms_as_new");
	bench_check(ms_tce_new(&m->t, m->ctx, "tce", m->mem), "ms_tce_new");
	bench_check(ms_tce_window_create(m->t, 0, window_pages * PAGE, 12) == 0 ? 0 : -EINVAL,
		    "ms_tce_window_create");
	bench_check(ms_as_new(&m->dma, m->ctx, ms_tce_root(m->t), "dma"), "ms_as_new");
}

static void machine_free(machine *m)
{
	(void)ms_as_free(m->dma);
	ms_tce_free(m->t);
	ms_region_unref(m->ram);
	ms_ctx_free(m->ctx);
}

/* Puts per second over @iters in-place changes. */
static double time_puts(machine *m, unsigned iters, unsigned round)
{
	uint64_t t0 = bench_now_ns(), t1;

	for (unsigned i = 0; i < iters; i++) {
		uint64_t page = i % PUT_PAGES;
		uint64_t target =
			((page + (uint64_t)(i / PUT_PAGES + round) % 2 * PUT_PAGES) * PAGE);

		bench_check(ms_tce_put(m->t, page * PAGE, target | MS_TCE_RW), "ms_tce_put");
	}
	t1 = bench_now_ns();
	return (double)iters * 1e9 / (double)(t1 - t0);
}

static int count_map(ms_iommu_notifier *n, const ms_iommu_event *ev, void *opaque)
{
	(void)n;
	(void)ev;
	(*(uint64_t *)opaque)++;
	return 0;
}

/* Milliseconds for one replay of the window; checks the count. */
static double time_replay(machine *m, uint64_t expect)
{
	ms_iommu_notifier_opts opts = MS_IOMMU_NOTIFIER_OPTS_INIT;
	ms_region *iommu = ms_tce_window_region(m->t, 0);
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
		bench_die("tce replay announced %llu entries, expected %llu",
			  (unsigned long long)count, (unsigned long long)expect);
	return (double)(t1 - t0) / 1e6;
}

int bench_tce(const bench_opts *opts, bench_json *json)
{
	unsigned iters = opts->quick ? 20000 : 200000;
	uint64_t pages = opts->quick ? (uint64_t)1 << 16 : (uint64_t)1 << 20;
	double *samples = malloc(opts->samples * sizeof(*samples));
	double rate[2], replay_ms[3];
	static const unsigned percent[3] = {0, 1, 100};
	machine m;

	if (!samples)
		bench_die("out of memory");
	bench_json_open(json, "tce");

	/* H_PUT_TCE rate, without and with a container. */
	for (int with = 0; with < 2; with++) {
		ms_vfio_container *c = NULL;

		machine_new(&m, PUT_PAGES);
		bench_check(ms_tce_stuff(m.t, 0, MS_TCE_RW, PUT_PAGES), "ms_tce_stuff");
		if (with) {
			bench_check(ms_vfio_container_new(&c, m.ctx), "ms_vfio_container_new");
			bench_check(ms_vfio_attach(c, m.dma), "ms_vfio_attach");
		}
		for (unsigned s = 0; s < opts->samples; s++)
			samples[s] = time_puts(&m, iters, s);
		rate[with] = bench_median(samples, opts->samples);
		if (with && ms_vfio_nr_mapped(c) != PUT_PAGES)
			bench_die("tce: the container shadows %llu pages, expected %u",
				  (unsigned long long)ms_vfio_nr_mapped(c), PUT_PAGES);
		ms_vfio_container_free(c);
		machine_free(&m);
	}

	/* Replay by occupancy: every 100th entry, or all of them. */
	for (int p = 0; p < 3; p++) {
		uint64_t present = 0;

		machine_new(&m, pages);
		if (percent[p] == 100) {
			bench_check(ms_tce_stuff(m.t, 0, MS_TCE_READ, pages), "ms_tce_stuff");
			present = pages;
		} else if (percent[p] == 1) {
			for (uint64_t i = 0; i < pages; i += 100, present++)
				bench_check(ms_tce_put(m.t, i * PAGE,
						       ((i * PAGE) % RAM_SIZE) | MS_TCE_READ),
					    "ms_tce_put");
		}
		for (unsigned s = 0; s < opts->samples; s++)
			samples[s] = time_replay(&m, present);
		replay_ms[p] = bench_median(samples, opts->samples);
		machine_free(&m);
	}

	if (!opts->json) {
		printf("tce: H_PUT_TCE (in-place change), %u-page window, median of %u samples\n",
		       PUT_PAGES, opts->samples);
		printf("  no consumer          %12.0f puts/s\n", rate[0]);
		printf("  container attached   %12.0f puts/s\n", rate[1]);
		printf("tce: replay of a %llu-page window, median ms\n", (unsigned long long)pages);
		printf("  0 %% present          %12.3f ms\n", replay_ms[0]);
		printf("  1 %% present          %12.3f ms\n", replay_ms[1]);
		printf("  100 %% present        %12.3f ms  (%.1fx the 1 %% figure)\n", replay_ms[2],
		       replay_ms[2] / replay_ms[1]);
	}
	bench_json_uint(json, "put_window_pages", PUT_PAGES);
	bench_json_number(json, "puts_per_s_no_consumer", rate[0]);
	bench_json_number(json, "puts_per_s_container", rate[1]);
	bench_json_uint(json, "replay_window_pages", pages);
	bench_json_number(json, "replay_ms_empty", replay_ms[0]);
	bench_json_number(json, "replay_ms_1pct", replay_ms[1]);
	bench_json_number(json, "replay_ms_100pct", replay_ms[2]);
	bench_json_close(json);
	free(samples);
	return 0;
}
