/*
 * util.c: timing, statistics and the JSON writer of
 * memspace-bench. The JSON writer streams straight to its FILE and only
 * tracks, per nesting level, whether the next member needs a comma.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

static void json_key(bench_json *j, const char *key)
{
	if (j->need_comma[j->depth])
		fputc(',', j->out);
	j->need_comma[j->depth] = true;
	fputc('\n', j->out);
	for (unsigned i = 0; i < j->depth; i++)
		fputs("  ", j->out);
	if (key)
		fprintf(j->out, "\"%s\": ", key);
}

static void json_open_with(bench_json *j, const char *key, char opener, char closer)
{
	if (!j->out)
		return;
	if (j->depth + 1 >= sizeof(j->need_comma) / sizeof(j->need_comma[0]))
		bench_die("JSON nested too deeply");
	if (j->depth > 0 || key)
		json_key(j, key);
	fputc(opener, j->out);
	j->depth++;
	j->need_comma[j->depth] = false;
	j->closer[j->depth] = closer;
}

void bench_json_open(bench_json *j, const char *key)
{
	json_open_with(j, key, '{', '}');
}

void bench_json_open_array(bench_json *j, const char *key)
{
	json_open_with(j, key, '[', ']');
}

void bench_json_close(bench_json *j)
{
	if (!j->out)
		return;
	if (j->depth == 0)
		bench_die("JSON closed more often than opened");
	fputc('\n', j->out);
	for (unsigned i = 1; i < j->depth; i++)
		fputs("  ", j->out);
	fputc(j->closer[j->depth], j->out);
	j->depth--;
	if (j->depth == 0)
		fputc('\n', j->out);
}

void bench_json_number(bench_json *j, const char *key, double value)
{
	if (!j->out)
		return;
	json_key(j, key);
	if (isfinite(value))
		fprintf(j->out, "%.6g", value);
	else
		fputs("null", j->out);
}

void bench_json_uint(bench_json *j, const char *key, uint64_t value)
{
	if (!j->out)
		return;
	json_key(j, key);
	fprintf(j->out, "%llu", (unsigned long long)value);
}

void bench_json_string(bench_json *j, const char *key, const char *value)
{
	if (!j->out)
		return;
	json_key(j, key);
	fputc('"', j->out);
	for (const char *c = value; *c; c++) {
		if (*c == '"' || *c == '\\')
			fprintf(j->out, "\\%c", *c);
		else if ((unsigned char)*c < 0x20)
			fprintf(j->out, "\\u%04x", (unsigned)(unsigned char)*c);
		else
			fputc(*c, j->out);
	}
	fputc('"', j->out);
}

void bench_json_bool(bench_json *j, const char *key, bool value)
{
	if (!j->out)
		return;
	json_key(j, key);
	fputs(value ? "true" : "false", j->out);
}

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		bench_die("clock_gettime: %s", strerror(errno));
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double bench_median(double *values, size_t n)
{
	if (n == 0)
		return NAN;
	qsort(values, n, sizeof(*values), compare_doubles);
	if (n % 2)
		return values[n / 2];
	return (values[n / 2 - 1] + values[n / 2]) / 2;
}

void bench_die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("memspace-bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

void bench_check(int rc, const char *what)
{
	if (rc != 0)
		bench_die("%s failed: %s", what, strerror(-rc));
}

size_t bench_calibrate(uint64_t (*run)(const void *env, int v, size_t iters), const void *env,
		       int v, uint64_t target_ns)
{
	size_t iters = 16;

	for (;;) {
		uint64_t t0 = bench_now_ns(), elapsed;

		run(env, v, iters);
		elapsed = bench_now_ns() - t0;
		if (elapsed >= target_ns / 4 || iters >= ((size_t)1 << 30))
			return (size_t)((double)iters * (double)target_ns /
					(double)(elapsed ? elapsed : 1)) +
			       1;
		iters *= 4;
	}
}
