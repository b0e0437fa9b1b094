/*
 * precopy.c: `memspace-bench precopy`, iterative dirty pre-copy of RAM
 * (migrate.h) while a writer keeps dirtying it.
 *
 * The machine is one RAM block of 1 GiB (64 MiB with --quick), every page
 * written once beforehand so it is committed. A writer thread stores 8
 * bytes (ms_as_write) into each of --rate random pages per millisecond
 * (16 by default: 64 MiB/s of fresh dirt), paced by an absolute 1 ms clock.
 * The stream goes into a pipe that a drain thread reads and throws away.
 *
 * One sample: ms_precopy_start(), rounds until fewer than 64 pages are
 * dirty (or 30 rounds), stop the writer, ms_precopy_complete() (the
 * downtime), ms_precopy_free(). Reported, each the median over samples:
 * rounds, pages and bytes sent, total time, the downtime and the pages of
 * the last round. Also ms_ram_save() of the idle machine (GiB/s) as the
 * speed limit of a round.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <memspace.h>

#include "bench.h"

#define PAGE ((uint64_t)4096)
#define DIRTY_LIMIT 64u
#define MAX_ROUNDS 30u

typedef struct writer {
	ms_as *as;
	uint64_t pages;
	unsigned rate; /* pages per ms */
	unsigned stop; /* atomic */
	uint64_t writes;
	uint64_t seed;
} writer;

static void *writer_main(void *arg)
{
	writer *w = arg;
	struct timespec next;
	ms_rng g;

	ms_rng_seed(&g, w->seed);
	clock_gettime(CLOCK_MONOTONIC, &next);
	while (!__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE)) {
		for (unsigned i = 0; i < w->rate; i++) {
			uint64_t v = ms_rng_next(&g);
			uint64_t addr = ms_rng_below(&g, w->pages) * PAGE + (v & 0xff8);

			if (ms_as_write(w->as, addr, MS_ATTRS_UNSPECIFIED, &v, 8) != MS_RESULT_OK)
				bench_die("precopy: the writer's store failed");
		}
		w->writes += w->rate;
		next.tv_nsec += 1000000;
		if (next.tv_nsec >= 1000000000) {
			next.tv_nsec -= 1000000000;
			next.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
	}
	return NULL;
}

/* Read and discard the stream until the write end closes. */
static void *drain_main(void *arg)
{
	int fd = *(int *)arg;
	static char buf[1 << 16];

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n == 0)
			break;
		if (n < 0 && errno != EINTR)
			bench_die("precopy: reading the pipe: %s", strerror(errno));
	}
	return NULL;
}

typedef struct sample {
	double rounds, pages, bytes, total_ms, downtime_ms, last_pages;
} sample;

static void open_pipe(int fds[2], pthread_t *drain)
{
	if (pipe(fds) < 0)
		bench_die("precopy: pipe: %s", strerror(errno));
	(void)fcntl(fds[1], F_SETPIPE_SZ, 1 << 20); /* as large as allowed */
	if (pthread_create(drain, NULL, drain_main, &fds[0]) != 0)
		bench_die("precopy: pthread_create");
}

static void close_pipe(int fds[2], pthread_t drain)
{
	close(fds[1]);
	pthread_join(drain, NULL);
	close(fds[0]);
}

static sample run_once(ms_ctx *ctx, ms_as *as, uint64_t pages, unsigned rate, uint64_t seed)
{
	writer w = {.as = as, .pages = pages, .rate = rate, .seed = seed};
	ms_precopy_stats st = {0}, before;
	ms_precopy *m;
	pthread_t wt, drain;
	uint64_t t0, t1, t2;
	int fds[2];
	sample s;

	open_pipe(fds, &drain);
	if (pthread_create(&wt, NULL, writer_main, &w) != 0)
		bench_die("precopy: pthread_create");
	t0 = bench_now_ns();
	bench_check(ms_precopy_start(&m, ctx, fds[1]), "ms_precopy_start");
	do
		bench_check(ms_precopy_iterate(m, &st), "ms_precopy_iterate");
	while (st.dirty_pages >= DIRTY_LIMIT && st.rounds < MAX_ROUNDS);
	__atomic_store_n(&w.stop, 1, __ATOMIC_RELEASE);
	pthread_join(wt, NULL);
	before = st;
	t1 = bench_now_ns();
	bench_check(ms_precopy_complete(m, &st), "ms_precopy_complete");
	t2 = bench_now_ns();
	ms_precopy_free(m);
	close_pipe(fds, drain);
	s.rounds = (double)st.rounds;
	s.pages = (double)st.pages_sent;
	s.bytes = (double)st.bytes_sent;
	s.total_ms = (double)(t2 - t0) / 1e6;
	s.downtime_ms = (double)(t2 - t1) / 1e6;
	s.last_pages = (double)(st.pages_sent - before.pages_sent);
	return s;
}

/* GiB/s of ms_ram_save() of the idle machine into the drained pipe. */
static double save_rate(ms_ctx *ctx, uint64_t bytes)
{
	pthread_t drain;
	uint64_t t0, t1;
	int fds[2];

	open_pipe(fds, &drain);
	t0 = bench_now_ns();
	bench_check(ms_ram_save(ctx, fds[1]), "ms_ram_save");
	t1 = bench_now_ns();
	close_pipe(fds, drain);
	return (double)bytes / (double)(1u << 30) / ((double)(t1 - t0) / 1e9);
}

int bench_precopy(const bench_opts *opts, bench_json *json)
{
	uint64_t size = opts->quick ? (uint64_t)64 << 20 : (uint64_t)1 << 30;
	uint64_t pages = size / PAGE;
	unsigned rate = opts->dirty_rate ? opts->dirty_rate : 16;
	unsigned n = opts->samples;
	double *v[7];
	ms_region *ram;
	ms_ctx *ctx;
	ms_as *as;
	uint8_t *host;
	double med[7];

	bench_check(ms_ctx_new(&ctx), "ms_ctx_new");
	bench_check(ms_region_new_ram(&ram, ctx, "ram", size), "ms_region_new_ram");
	bench_check(ms_as_new(&as, ctx, ram, "mem"), "ms_as_new");
	host = ms_region_ram_ptr(ram);
	for (uint64_t p = 0; p < pages; p++)
		memset(host + p * PAGE, (int)(p & 0xff) | 1, PAGE);
	for (int k = 0; k < 7; k++) {
		v[k] = calloc(n, sizeof(double));
		if (!v[k])
			bench_die("precopy: out of memory");
	}
	for (unsigned i = 0; i < n; i++) {
		sample s = run_once(ctx, as, pages, rate, 100 + i);

		v[0][i] = s.rounds;
		v[1][i] = s.pages;
		v[2][i] = s.bytes;
		v[3][i] = s.total_ms;
		v[4][i] = s.downtime_ms;
		v[5][i] = s.last_pages;
		v[6][i] = save_rate(ctx, size);
	}
	for (int k = 0; k < 7; k++)
		med[k] = bench_median(v[k], n);
	if (json->out) {
		bench_json_open(json, "precopy");
		bench_json_uint(json, "ram_bytes", size);
		bench_json_uint(json, "dirty_pages_per_ms", rate);
		bench_json_uint(json, "dirty_limit_pages", DIRTY_LIMIT);
		bench_json_number(json, "rounds", med[0]);
		bench_json_number(json, "pages_sent", med[1]);
		bench_json_number(json, "bytes_sent", med[2]);
		bench_json_number(json, "total_ms", med[3]);
		bench_json_number(json, "downtime_ms", med[4]);
		bench_json_number(json, "downtime_pages", med[5]);
		bench_json_number(json, "save_gib_per_s", med[6]);
		bench_json_close(json);
	} else {
		printf("precopy: %llu MiB of RAM, writer dirtying %u pages/ms, rounds until < %u "
		       "dirty pages (median of %u)\n",
		       (unsigned long long)(size >> 20), rate, DIRTY_LIMIT, n);
		printf("  %-22s %12.0f\n", "rounds", med[0]);
		printf("  %-22s %12.0f  (%.2f x the RAM)\n", "pages sent", med[1],
		       med[1] / (double)pages);
		printf("  %-22s %12.0f\n", "bytes sent", med[2]);
		printf("  %-22s %12.1f\n", "total ms", med[3]);
		printf("  %-22s %12.3f\n", "downtime ms", med[4]);
		printf("  %-22s %12.0f\n", "downtime-round pages", med[5]);
		printf("  %-22s %12.2f\n", "ms_ram_save GiB/s", med[6]);
	}
	for (int k = 0; k < 7; k++)
		free(v[k]);
	ms_as_free(as);
	ms_region_unref(ram);
	ms_ctx_free(ctx);
	return 0;
}
