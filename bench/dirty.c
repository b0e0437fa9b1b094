/*
 * dirty.c: `memspace-bench dirty`, what dirty tracking costs.
 *
 *   store4    a 4-byte ms_as_stl_le() store to RAM with no client logging,
 *             with one (VGA), and with three (VGA, CODE, client 3). Stores
 *             go to random aligned offsets in 1 MiB, so after the first pass
 *             the pages' bits are already set: the common case of a guest
 *             writing pages it wrote since the last snapshot.
 *   bulk64k   a 64 KiB ms_as_write() to RAM, logging off and on (one client).
 *   snapshot  ms_region_snapshot_and_clear_dirty() of the whole of a 16 GiB
 *             anonymous RAM region (1 GiB with --quick; never touched, so
 *             the host commits none of it) with 1% of its pages dirty,
 *             against a plain atomic bitmap of the same page count written
 *             here (a uint64_t array emptied with an atomic exchange per
 *             word). Each sample dirties the same pages again first (not
 *             timed), through ms_region_set_dirty() and the plain bitmap.
 * Every figure is a median over samples; results are checked once before
 * timing (the snapshot finds exactly the pages dirtied).
 *
 * SPDX-License-Identifier: MIT
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "memspace.h"

#include "bench.h"

#define RAM_SIZE ((uint64_t)16 << 20)
#define SPAN ((uint64_t)1 << 20)
#define PAGE ((uint64_t)4096)

enum {
	V_STORE_OFF,
	V_STORE_ONE,
	V_STORE_THREE,
	V_BULK_OFF,
	V_BULK_ON,
	NR_ACCESS
};

typedef struct dirty_env {
	ms_ctx *ctx;
	ms_as *as;
	ms_region *ram;
	const uint64_t *offsets; /* 4-aligned, < SPAN; a power-of-two count */
	size_t nr_offsets;
	uint8_t *buf; /* 64 KiB of source bytes */
} dirty_env;

/* The clients logging "ram" for variant @v. */
static void set_clients(dirty_env *env, int v)
{
	unsigned n = v == V_STORE_THREE ? 3 : v == V_STORE_ONE || v == V_BULK_ON ? 1 : 0;
	static const unsigned clients[3] = {MS_DIRTY_VGA, MS_DIRTY_CODE, 3};

	for (unsigned i = 0; i < 3; i++)
		bench_check(ms_region_set_dirty_log(env->ram, clients[i], i < n),
			    "ms_region_set_dirty_log");
	if (ms_region_dirty_log_mask(env->ram) != (n == 3 ? 0x0b : n == 1 ? 0x01 : 0))
		bench_die("dirty log mask 0x%x for %u clients", ms_region_dirty_log_mask(env->ram),
			  n);
}

static uint64_t run_access(const void *arg, int v, size_t iters)
{
	const dirty_env *env = arg;
	ms_attrs attrs = MS_ATTRS_UNSPECIFIED;
	uint64_t sum = 0;

	for (size_t i = 0; i < iters; i++) {
		if (v == V_BULK_OFF || v == V_BULK_ON) {
			sum += ms_as_write(env->as, (i & 15) * (64 << 10), attrs, env->buf,
					   64 << 10);
			continue;
		}
		sum += ms_as_stl_le(env->as, env->offsets[i & (env->nr_offsets - 1)], attrs,
				    (uint32_t)i);
	}
	return sum;
}

/* ---- snapshot against a plain atomic bitmap ---------------------------------------- */

typedef struct snap_env {
	ms_region *big;
	uint64_t size, nr_pages, nr_words;
	uint64_t *pages; /* the dirty ones, 1% */
	uint64_t nr_dirty;
	uint64_t *plain; /* the baseline bitmap */
	uint64_t *taken; /* the baseline's snapshot */
} snap_env;

static void dirty_again(snap_env *s)
{
	for (uint64_t i = 0; i < s->nr_dirty; i++) {
		uint64_t p = s->pages[i];

		bench_check(ms_region_set_dirty(s->big, p * PAGE, 1), "ms_region_set_dirty");
		__atomic_fetch_or(&s->plain[p / 64], (uint64_t)1 << (p % 64), __ATOMIC_RELEASE);
	}
}

static double time_library(snap_env *s, uint64_t *count)
{
	ms_dirty_snapshot *snap = NULL;
	uint64_t t0 = bench_now_ns(), t;

	bench_check(
		ms_region_snapshot_and_clear_dirty(&snap, s->big, 0, s->size, MS_DIRTY_MIGRATION),
		"ms_region_snapshot_and_clear_dirty");
	t = bench_now_ns() - t0;
	*count = ms_dirty_snapshot_count(snap);
	ms_dirty_snapshot_free(snap);
	return (double)t;
}

/* The baseline: every word moved out with an atomic exchange, into a fresh copy. */
static double time_plain(snap_env *s, uint64_t *count)
{
	uint64_t t0 = bench_now_ns(), t, n = 0;
	uint64_t *taken = malloc(s->nr_words * sizeof(uint64_t));

	if (!taken)
		bench_die("out of memory");
	for (uint64_t w = 0; w < s->nr_words; w++)
		taken[w] = __atomic_exchange_n(&s->plain[w], 0, __ATOMIC_ACQ_REL);
	t = bench_now_ns() - t0;
	for (uint64_t w = 0; w < s->nr_words; w++)
		n += (uint64_t)__builtin_popcountll(taken[w]);
	free(taken);
	*count = n;
	return (double)t;
}

static void bench_snapshot(const bench_opts *opts, dirty_env *env, bench_json *json)
{
	snap_env s = {0};
	double *lib = malloc(opts->samples * sizeof(double));
	double *plain = malloc(opts->samples * sizeof(double));
	double lib_med, plain_med;
	uint64_t count;
	ms_rng rng;

	if (!lib || !plain)
		bench_die("out of memory");
	s.size = opts->quick ? (uint64_t)1 << 30 : (uint64_t)16 << 30;
	s.nr_pages = s.size / PAGE;
	s.nr_words = (s.nr_pages + 63) / 64;
	s.nr_dirty = s.nr_pages / 100;
	s.pages = malloc(s.nr_dirty * sizeof(uint64_t));
	s.plain = calloc(s.nr_words, sizeof(uint64_t));
	if (!s.pages || !s.plain)
		bench_die("out of memory");
	/* 1% of the pages, distinct: one page picked at random in each run of 100. */
	ms_rng_seed(&rng, 0x6469727479u); /* "dirty" */
	for (uint64_t i = 0; i < s.nr_dirty; i++)
		s.pages[i] = i * 100 + ms_rng_below(&rng, 100);

	bench_check(ms_region_new_ram(&s.big, env->ctx, "big", s.size), "ms_region_new_ram");
	bench_check(ms_region_set_dirty_log(s.big, MS_DIRTY_MIGRATION, true),
		    "ms_region_set_dirty_log");
	/* Check once: both find exactly the pages dirtied. */
	dirty_again(&s);
	time_library(&s, &count);
	if (count != s.nr_dirty)
		bench_die("snapshot found %" PRIu64 " dirty pages, %" PRIu64 " were dirtied", count,
			  s.nr_dirty);
	time_plain(&s, &count);
	if (count != s.nr_dirty)
		bench_die("the plain bitmap found %" PRIu64 " dirty pages", count);
	for (unsigned i = 0; i < opts->samples; i++) {
		dirty_again(&s);
		lib[i] = time_library(&s, &count);
		plain[i] = time_plain(&s, &count);
	}
	lib_med = bench_median(lib, opts->samples);
	plain_med = bench_median(plain, opts->samples);
	if (!opts->json) {
		printf("  snapshot_and_clear of %" PRIu64 " GiB (%" PRIu64 " pages, 1%% dirty)\n",
		       s.size >> 30, s.nr_pages);
		printf("    library %9.1f us   plain atomic bitmap %9.1f us   library/plain %.3f\n",
		       lib_med / 1e3, plain_med / 1e3, lib_med / plain_med);
	}
	bench_json_open(json, "snapshot");
	bench_json_uint(json, "region_bytes", s.size);
	bench_json_uint(json, "pages", s.nr_pages);
	bench_json_uint(json, "dirty_pages", s.nr_dirty);
	bench_json_number(json, "library_us", lib_med / 1e3);
	bench_json_number(json, "plain_bitmap_us", plain_med / 1e3);
	bench_json_number(json, "library_over_plain", lib_med / plain_med);
	bench_json_close(json);
	ms_region_unref(s.big);
	free(s.pages);
	free(s.plain);
	free(lib);
	free(plain);
}

int bench_dirty(const bench_opts *opts, bench_json *json)
{
	static const char *const names[NR_ACCESS] = {"store4_off", "store4_one_client",
						     "store4_three_clients", "bulk64k_off",
						     "bulk64k_on"};
	uint64_t target_ns = opts->quick ? 5000000 : 50000000;
	double *samples = malloc(opts->samples * sizeof(*samples) * NR_ACCESS);
	double median[NR_ACCESS];
	size_t iters[NR_ACCESS], nr_offsets = 1 << 16;
	uint64_t *offsets = malloc(nr_offsets * sizeof(*offsets));
	ms_region *system;
	dirty_env env = {0};
	ms_rng rng;

	if (!samples || !offsets)
		bench_die("out of memory");
	ms_rng_seed(&rng, 0x73746f7265u); /* "store" */
	for (size_t i = 0; i < nr_offsets; i++)
		offsets[i] = ms_rng_below(&rng, SPAN / 4) * 4;
	env.offsets = offsets;
	env.nr_offsets = nr_offsets;
	env.buf = malloc(64 << 10);
	if (!env.buf)
		bench_die("out of memory");
	memset(env.buf, 0x5a, 64 << 10);
	bench_check(ms_ctx_new(&env.ctx), "ms_ctx_new");
	bench_check(ms_region_new_container(&system, env.ctx, "system", MS_SIZE_2_64),
		    "ms_region_new_container");
	bench_check(ms_as_new(&env.as, env.ctx, system, "memory"), "ms_as_new");
	bench_check(ms_region_new_ram(&env.ram, env.ctx, "ram", RAM_SIZE), "ms_region_new_ram");
	bench_check(ms_region_add_subregion(system, 0, env.ram), "ms_region_add_subregion");
	memset(ms_region_ram_ptr(env.ram), 0, RAM_SIZE);

	/* Check once: a logged store marks its page, an unlogged one does not. */
	set_clients(&env, V_STORE_ONE);
	if (ms_as_stl_le(env.as, 0x3000, MS_ATTRS_UNSPECIFIED, 1) != MS_RESULT_OK ||
	    !ms_region_get_dirty(env.ram, 0x3000, 4, MS_DIRTY_VGA) ||
	    ms_region_get_dirty(env.ram, 0x4000, 4, MS_DIRTY_VGA))
		bench_die("a logged store did not mark its page alone");

	for (int v = 0; v < NR_ACCESS; v++) {
		set_clients(&env, v);
		run_access(&env, v, 100000); /* warm up: bits set, pages touched */
		iters[v] = bench_calibrate(run_access, &env, v, target_ns);
	}
	for (unsigned s = 0; s < opts->samples; s++) {
		for (int v = 0; v < NR_ACCESS; v++) {
			uint64_t t0;

			set_clients(&env, v);
			t0 = bench_now_ns();
			run_access(&env, v, iters[v]);
			samples[v * opts->samples + s] =
				(double)(bench_now_ns() - t0) / (double)iters[v];
		}
	}
	for (int v = 0; v < NR_ACCESS; v++)
		median[v] = bench_median(&samples[v * opts->samples], opts->samples);

	if (!opts->json) {
		printf("dirty: median ns per access, %u samples of ~%.0f ms each\n", opts->samples,
		       (double)target_ns / 1e6);
		printf("  4-byte store     off %6.2f   one client %6.2f (x%.2f)   three clients "
		       "%6.2f (x%.2f)\n",
		       median[V_STORE_OFF], median[V_STORE_ONE],
		       median[V_STORE_ONE] / median[V_STORE_OFF], median[V_STORE_THREE],
		       median[V_STORE_THREE] / median[V_STORE_OFF]);
		printf("  64 KiB write     off %8.0f   on %8.0f (x%.3f)\n", median[V_BULK_OFF],
		       median[V_BULK_ON], median[V_BULK_ON] / median[V_BULK_OFF]);
		fflush(stdout);
	}
	bench_json_open(json, "dirty");
	bench_json_open(json, "ns");
	for (int v = 0; v < NR_ACCESS; v++)
		bench_json_number(json, names[v], median[v]);
	bench_json_close(json);
	bench_json_number(json, "store4_one_over_off", median[V_STORE_ONE] / median[V_STORE_OFF]);
	bench_json_number(json, "store4_three_over_off",
			  median[V_STORE_THREE] / median[V_STORE_OFF]);
	bench_json_number(json, "bulk64k_on_over_off", median[V_BULK_ON] / median[V_BULK_OFF]);
	bench_snapshot(opts, &env, json);
	bench_json_close(json);

	ms_as_free(env.as);
	ms_region_unref(env.ram);
	ms_region_unref(system);
	ms_ctx_free(env.ctx);
	free(env.buf);
	free(offsets);
	free(samples);
	return 0;
}
