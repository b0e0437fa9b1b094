/*
 * commit.c: `memspace-bench commit`, the cost of changing the topology.
 *
 *   batch        one transaction adding N 4 KiB I/O reservations to a
 *                container that an address space renders;
 *   single       the same N regions, each added in its own commit, so each
 *                addition is rendered and published before the next;
 *   unreachable  N moves of a region inside a container that no address
 *                space reaches (its address space has N ranges of its own),
 *                which must render nothing (ms_ctx_render_count).
 * Region creation is done before the clock starts: only topology work is
 * timed. "single" is stopped at a time cap and then reported as capped, with
 * how many commits it managed, rather than extrapolated.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>

#include "memspace.h"

#include "bench.h"

#define PAGE ((uint64_t)4096)
#define COMMIT_BASE ((uint64_t)1 << 32)

typedef struct commit_env {
	ms_ctx *ctx;
	ms_region *system;
	ms_region **devs;
	size_t n;
} commit_env;

/* A context with a 2^64 container "system" in an address space, and @n
 * unplaced 4 KiB reservations. */
static void env_new(commit_env *env, size_t n)
{
	char name[32];
	ms_as *as;

	env->n = n;
	bench_check(ms_ctx_new(&env->ctx), "ms_ctx_new");
	bench_check(ms_region_new_container(&env->system, env->ctx, "system", MS_SIZE_2_64),
		    "ms_region_new_container");
	bench_check(ms_as_new(&as, env->ctx, env->system, "memory"), "ms_as_new");
	env->devs = malloc(n * sizeof(*env->devs));
	if (!env->devs)
		bench_die("out of memory");
	for (size_t i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "dev%zu", i);
		bench_check(ms_region_new_io(
				    &env->devs[i], env->ctx,
				    &(ms_region_io_opts){.name = name, .size = PAGE, .ops = NULL}),
			    "ms_region_new_io");
	}
}

/* ms_ctx_free() frees every region and address space whatever their references. */
static void env_free(commit_env *env)
{
	ms_ctx_free(env->ctx);
	free(env->devs);
}

static void add_dev(commit_env *env, size_t i)
{
	bench_check(ms_region_add_subregion(env->system, COMMIT_BASE + i * PAGE, env->devs[i]),
		    "ms_region_add_subregion");
}

/* Seconds for one transaction adding every region; *renders gets the views rendered. */
static double run_batch(size_t n, uint64_t *renders)
{
	commit_env env;
	uint64_t t0, before;
	double seconds;

	env_new(&env, n);
	before = ms_ctx_render_count(env.ctx);
	t0 = bench_now_ns();
	ms_transaction_begin(env.ctx);
	for (size_t i = 0; i < n; i++)
		add_dev(&env, i);
	bench_check(ms_transaction_commit(env.ctx), "ms_transaction_commit");
	seconds = (double)(bench_now_ns() - t0) * 1e-9;
	*renders = ms_ctx_render_count(env.ctx) - before;
	env_free(&env);
	return seconds;
}

typedef struct single_run {
	double seconds;    /* for the commits done */
	size_t done;       /* commits done before the cap (n when not capped) */
	double last_tenth; /* seconds per commit over the last tenth done */
	uint64_t renders;
} single_run;

static void run_single(single_run *out, size_t n, double cap_seconds)
{
	uint64_t *done_at = malloc(n * sizeof(*done_at)); /* clock after commit i */
	uint64_t t0, before;
	size_t tenth_from;
	commit_env env;

	if (!done_at)
		bench_die("out of memory");
	env_new(&env, n);
	before = ms_ctx_render_count(env.ctx);
	t0 = bench_now_ns();
	out->done = 0;
	while (out->done < n) {
		add_dev(&env, out->done);
		done_at[out->done++] = bench_now_ns();
		if ((double)(done_at[out->done - 1] - t0) * 1e-9 > cap_seconds)
			break;
	}
	out->seconds = (double)(done_at[out->done - 1] - t0) * 1e-9;
	out->renders = ms_ctx_render_count(env.ctx) - before;
	env_free(&env);

	/* Per-commit cost near the final size: a renderer that redoes the whole
	 * root shows it growing with the number of regions already there. */
	tenth_from = out->done - out->done / 10;
	if (tenth_from == 0 || tenth_from == out->done)
		out->last_tenth = out->seconds / (double)out->done;
	else
		out->last_tenth = (double)(done_at[out->done - 1] - done_at[tenth_from - 1]) *
				  1e-9 / (double)(out->done - tenth_from);
	free(done_at);
}

/* Seconds for @n moves of a region no address space reaches. */
static double run_unreachable(size_t n, uint64_t *renders)
{
	ms_region *detached, *dev;
	commit_env env;
	uint64_t t0, before;
	double seconds;

	env_new(&env, n);
	ms_transaction_begin(env.ctx);
	for (size_t i = 0; i < n; i++)
		add_dev(&env, i);
	bench_check(ms_transaction_commit(env.ctx), "ms_transaction_commit");
	bench_check(ms_region_new_container(&detached, env.ctx, "detached", MS_SIZE_2_64),
		    "ms_region_new_container");
	bench_check(ms_region_new_io(
			    &dev, env.ctx,
			    &(ms_region_io_opts){.name = "unreachable", .size = PAGE, .ops = NULL}),
		    "ms_region_new_io");
	bench_check(ms_region_add_subregion(detached, 0, dev), "ms_region_add_subregion");

	before = ms_ctx_render_count(env.ctx);
	t0 = bench_now_ns();
	for (size_t i = 1; i <= n; i++)
		bench_check(ms_region_set_address(dev, i * PAGE), "ms_region_set_address");
	seconds = (double)(bench_now_ns() - t0) * 1e-9;
	*renders = ms_ctx_render_count(env.ctx) - before;
	env_free(&env);
	return seconds;
}

static void print_seconds(double seconds)
{
	if (seconds >= 1)
		printf("%9.3f s ", seconds);
	else
		printf("%9.3f ms", seconds * 1e3);
}

int bench_commit(const bench_opts *opts, bench_json *json)
{
	size_t n = opts->quick ? 1000 : 10000;
	unsigned reps = opts->quick ? 3 : (opts->samples < 5 ? opts->samples : 5);
	double cap = opts->quick ? 5.0 : 30.0;
	double batch[8], unreachable[8], single_seconds[3], single_last[3];
	uint64_t batch_renders = 0, unreachable_renders = 0, single_renders = 0;
	single_run run;
	unsigned single_reps = 0;
	bool capped = false;
	double median;

	if (reps == 0)
		reps = 1;
	for (unsigned r = 0; r < reps; r++)
		batch[r] = run_batch(n, &batch_renders);
	for (unsigned r = 0; r < reps; r++)
		unreachable[r] = run_unreachable(n, &unreachable_renders);
	/* Repeat "single" only while it is cheap: up to 3 runs, none after a
	 * capped one or once a run took more than 10 s. */
	do {
		run_single(&run, n, cap);
		single_seconds[single_reps] = run.seconds;
		single_last[single_reps] = run.last_tenth;
		single_reps++;
		single_renders = run.renders;
		capped = run.done < n;
	} while (!capped && single_reps < 3 && single_reps < reps && run.seconds < 10);

	if (!opts->json) {
		printf("commit: %zu regions of 4 KiB (median of %u runs; single: %u)\n", n, reps,
		       single_reps);
		printf("  %-44s", "one transaction adding all");
		print_seconds(bench_median(batch, reps));
		printf("   renders %llu\n", (unsigned long long)batch_renders);
		printf("  %-44s", "one commit per region");
		median = bench_median(single_seconds, single_reps);
		print_seconds(median);
		printf("   %.3f ms/commit, last tenth %.3f ms/commit, renders %llu%s\n",
		       median * 1e3 / (double)run.done,
		       bench_median(single_last, single_reps) * 1e3,
		       (unsigned long long)single_renders, n >= 10000 ? "; target < 0.5 s" : "");
		if (capped)
			printf("  %-44s%zu of %zu commits done in the %.0f s cap\n",
			       "  CAPPED:", run.done, n, cap);
		printf("  %-44s", "moves of a region no address space reaches");
		print_seconds(bench_median(unreachable, reps));
		printf("   renders %llu%s\n", (unsigned long long)unreachable_renders,
		       unreachable_renders ? "  (expected 0)" : "");
		fflush(stdout);
	}
	bench_json_open(json, "commit");
	bench_json_uint(json, "regions", n);
	bench_json_uint(json, "runs", reps);
	bench_json_open(json, "batch");
	bench_json_number(json, "seconds", bench_median(batch, reps));
	bench_json_uint(json, "renders", batch_renders);
	bench_json_close(json);
	bench_json_open(json, "single");
	bench_json_uint(json, "runs", single_reps);
	bench_json_uint(json, "commits_done", run.done);
	bench_json_bool(json, "capped", capped);
	bench_json_number(json, "cap_seconds", cap);
	bench_json_number(json, "seconds", bench_median(single_seconds, single_reps));
	bench_json_number(json, "ms_per_commit",
			  bench_median(single_seconds, single_reps) * 1e3 / (double)run.done);
	bench_json_number(json, "last_tenth_ms_per_commit",
			  bench_median(single_last, single_reps) * 1e3);
	bench_json_uint(json, "renders", single_renders);
	bench_json_close(json);
	bench_json_open(json, "unreachable");
	bench_json_number(json, "seconds", bench_median(unreachable, reps));
	bench_json_uint(json, "renders", unreachable_renders);
	bench_json_close(json);
	bench_json_close(json);
	return 0;
}
