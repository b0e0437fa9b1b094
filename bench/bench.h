/*
 * memspace-bench: helpers shared by the benchmark subcommands.
 *
 * Every figure is the median of several samples, because the machines this
 * runs on are shared and noisy. Subcommands print a table on stdout, or, with
 * --json, emit their figures into one JSON object through bench_json (then
 * nothing else goes to stdout). None of this is part of the library.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_BENCH_H
#define MEMSPACE_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Random layouts and addresses come from the tests' generator
 * (tests/support/ms_rng.h), always with fixed seeds, so every run measures
 * the same layouts.
 */
#include "ms_rng.h"

/* Command-line options every subcommand sees. */
typedef struct bench_opts {
	bool quick;       /* fewer samples and smaller sizes: a smoke test */
	bool json;        /* figures go to the JSON object, not to a table */
	unsigned samples; /* samples per figure (median reported) */
	bool samples_given;  /* --samples was given (else samples is the default) */
	unsigned dirty_rate; /* precopy: pages the writer dirties per ms (0: default) */
} bench_opts;

/* Minimal streaming JSON writer: keys are literals, nesting up to 16. */
typedef struct bench_json {
	FILE *out; /* NULL: every call is a no-op (table mode) */
	unsigned depth;
	bool need_comma[16];
	char closer[16]; /* '}' or ']' per open level */
} bench_json;

void bench_json_open(bench_json *j, const char *key);       /* "key": {  (key NULL in arrays) */
void bench_json_open_array(bench_json *j, const char *key); /* "key": [ */
void bench_json_close(bench_json *j);                       /* } or ] as opened */
void bench_json_number(bench_json *j, const char *key, double value); /* null for NaN */
void bench_json_uint(bench_json *j, const char *key, uint64_t value);
void bench_json_string(bench_json *j, const char *key, const char *value);
void bench_json_bool(bench_json *j, const char *key, bool value);

/* Monotonic clock in nanoseconds. */
uint64_t bench_now_ns(void);
/*
 * Iterations so that one run of @run(@env, @v, iterations) lasts about
 * @target_ns: grows from 16 by fours until a run takes a quarter of it,
 * then scales.
 */
size_t bench_calibrate(uint64_t (*run)(const void *env, int v, size_t iters), const void *env,
		       int v, uint64_t target_ns);
/* Median of @n values (sorts @values in place); NaN when n == 0. */
double bench_median(double *values, size_t n);

/* Print "memspace-bench: <message>" on stderr and abort. */
__attribute__((noreturn, format(printf, 1, 2))) void bench_die(const char *fmt, ...);
/* Die unless @rc is 0, naming the call that failed. */
void bench_check(int rc, const char *what);

/* The subcommands. Each returns 0, or dies on an internal error. */
int bench_lookup(const bench_opts *opts, bench_json *json);
int bench_commit(const bench_opts *opts, bench_json *json);
int bench_iommu(const bench_opts *opts, bench_json *json);
int bench_cache(const bench_opts *opts, bench_json *json);
int bench_dirty(const bench_opts *opts, bench_json *json);
int bench_precopy(const bench_opts *opts, bench_json *json);
#ifdef MS_BENCH_HAVE_ACCESS
int bench_access(const bench_opts *opts, bench_json *json);
int bench_scale(const bench_opts *opts, bench_json *json);
#endif

#endif /* MEMSPACE_BENCH_H */
