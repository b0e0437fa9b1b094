/*
 * access.c: `memspace-bench access`, the cost of the access path.
 *
 *   ram4   a 4-byte RAM read through ms_as_read() and ms_as_ldl_le(),
 *          against a plain load from the same host memory;
 *   bulk   64 KiB and 1 MiB RAM reads through ms_as_read(), against memcpy()
 *          of the same bytes (throughput ratio memcpy time / read time);
 *   mmio4  a 4-byte read of an I/O region whose read callback returns 0,
 *          through ms_as_ldl_le() and ms_as_read(), against calling that
 *          callback through a function pointer: the difference is what
 *          dispatch (RCU section, lookup, size rules) costs.
 * Addresses for the 4-byte reads come from one precomputed random array
 * (aligned, within 1 MiB of RAM), the same for every variant. Results are
 * checked against the direct path once before timing.
 *
 * SPDX-License-Identifier: MIT
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "memspace.h"

#include "bench.h"

#define RAM_BASE ((uint64_t)0)
#define RAM_SIZE ((uint64_t)16 << 20)
#define DEV_BASE ((uint64_t)0x10000000)
#define DEV_SIZE ((uint64_t)4096)
#define SMALL_SPAN ((uint64_t)1 << 20)

typedef struct access_env {
	ms_ctx *ctx;
	ms_as *as;
	uint8_t *ram;
	const uint64_t *offsets; /* 4-aligned, < SMALL_SPAN */
	size_t nr_offsets;
	uint8_t *buf; /* bulk destination */
} access_env;

static uint64_t read_zero(uint64_t addr, unsigned size, void *opaque)
{
	(void)addr;
	(void)size;
	(void)opaque;
	return 0;
}

static void write_nothing(uint64_t addr, uint64_t data, unsigned size, void *opaque)
{
	(void)addr;
	(void)data;
	(void)size;
	(void)opaque;
}

static const ms_region_ops empty_ops = {
	.version = MS_REGION_OPS_VERSION,
	.read = read_zero,
	.write = write_nothing,
	.endianness = MS_ENDIAN_NATIVE,
};

/* Called through these so the compiler can neither inline nor elide them. */
static uint64_t (*volatile direct_read)(uint64_t, unsigned, void *) = read_zero;
static void *(*volatile copy_bytes)(void *, const void *, size_t) = memcpy;

enum {
	V_RAM_RAW,
	V_RAM_READ,
	V_RAM_LDL,
	V_BULK64_MEMCPY,
	V_BULK64_READ,
	V_BULK1M_MEMCPY,
	V_BULK1M_READ,
	V_MMIO_DIRECT,
	V_MMIO_LDL,
	V_MMIO_READ,
	NR_VARIANTS
};

/* Run variant @v @iters times; returns a checksum. */
static uint64_t run_variant(const void *arg, int v, size_t iters)
{
	const access_env *env = arg;
	ms_attrs attrs = MS_ATTRS_UNSPECIFIED;
	uint64_t sum = 0;

	for (size_t i = 0; i < iters; i++) {
		uint64_t off = env->offsets[i & (env->nr_offsets - 1)]; /* a power of two */
		uint32_t word;

		switch (v) {
		case V_RAM_RAW:
			memcpy(&word, env->ram + off, sizeof(word));
			sum += word;
			break;
		case V_RAM_READ:
			sum += ms_as_read(env->as, RAM_BASE + off, attrs, &word, sizeof(word));
			sum += word;
			break;
		case V_RAM_LDL:
			sum += ms_as_ldl_le(env->as, RAM_BASE + off, attrs, NULL);
			break;
		case V_BULK64_MEMCPY:
			copy_bytes(env->buf, env->ram, 64 << 10);
			sum += env->buf[i & 0xffff];
			break;
		case V_BULK64_READ:
			sum += ms_as_read(env->as, RAM_BASE, attrs, env->buf, 64 << 10);
			sum += env->buf[i & 0xffff];
			break;
		case V_BULK1M_MEMCPY:
			copy_bytes(env->buf, env->ram, 1 << 20);
			sum += env->buf[i & 0xfffff];
			break;
		case V_BULK1M_READ:
			sum += ms_as_read(env->as, RAM_BASE, attrs, env->buf, 1 << 20);
			sum += env->buf[i & 0xfffff];
			break;
		case V_MMIO_DIRECT:
			sum += direct_read(off & (DEV_SIZE - 1), 4, NULL);
			break;
		case V_MMIO_LDL:
			sum += ms_as_ldl_le(env->as, DEV_BASE + (off & (DEV_SIZE - 1)), attrs,
					    NULL);
			break;
		default:
			sum += ms_as_read(env->as, DEV_BASE + (off & (DEV_SIZE - 1)), attrs, &word,
					  sizeof(word));
			sum += word;
			break;
		}
	}
	return sum;
}

/* Check the library's answers against the direct paths once. */
static void verify(const access_env *env)
{
	ms_attrs attrs = MS_ATTRS_UNSPECIFIED;
	ms_result rc = 0;
	uint32_t word, raw;

	for (size_t i = 0; i < env->nr_offsets && i < 4096; i++) {
		uint64_t off = env->offsets[i];

		memcpy(&raw, env->ram + off, sizeof(raw));
		if (ms_as_read(env->as, RAM_BASE + off, attrs, &word, 4) != MS_RESULT_OK ||
		    word != raw)
			bench_die("ms_as_read at 0x%" PRIx64 " gave 0x%x, RAM holds 0x%x", off,
				  word, raw);
		if (ms_as_ldl_le(env->as, RAM_BASE + off, attrs, &rc) != raw || rc)
			bench_die("ms_as_ldl_le at 0x%" PRIx64 " disagrees with RAM", off);
		if (ms_as_ldl_le(env->as, DEV_BASE + (off & (DEV_SIZE - 1)), attrs, &rc) != 0 || rc)
			bench_die("MMIO read at 0x%" PRIx64 " failed (result %u)", off, rc);
	}
	if (ms_as_read(env->as, RAM_BASE, attrs, env->buf, 1 << 20) != MS_RESULT_OK ||
	    memcmp(env->buf, env->ram, 1 << 20) != 0)
		bench_die("1 MiB ms_as_read differs from RAM");
}

int bench_access(const bench_opts *opts, bench_json *json)
{
	static const char *const names[NR_VARIANTS] = {
		"ram4_raw",      "ram4_as_read", "ram4_ldl",     "bulk64k_memcpy", "bulk64k_read",
		"bulk1m_memcpy", "bulk1m_read",  "mmio4_direct", "mmio4_ldl",      "mmio4_as_read"};
	uint64_t target_ns = opts->quick ? 5000000 : 50000000;
	double *samples = malloc(opts->samples * sizeof(*samples) * NR_VARIANTS);
	double median[NR_VARIANTS];
	size_t iters[NR_VARIANTS], nr_offsets = 1 << 16;
	uint64_t *offsets = malloc(nr_offsets * sizeof(*offsets));
	ms_rng rng;
	ms_region *system, *ram, *dev;
	access_env env = {0};

	if (!samples || !offsets)
		bench_die("out of memory");
	ms_rng_seed(&rng, 0x616363657373u); /* "access" */
	for (size_t i = 0; i < nr_offsets; i++)
		offsets[i] = ms_rng_below(&rng, SMALL_SPAN / 4) * 4;
	env.offsets = offsets;
	env.nr_offsets = nr_offsets;
	env.buf = malloc(1 << 20);
	if (!env.buf)
		bench_die("out of memory");

	bench_check(ms_ctx_new(&env.ctx), "ms_ctx_new");
	bench_check(ms_region_new_container(&system, env.ctx, "system", MS_SIZE_2_64),
		    "ms_region_new_container");
	bench_check(ms_as_new(&env.as, env.ctx, system, "memory"), "ms_as_new");
	bench_check(ms_region_new_ram(&ram, env.ctx, "ram", RAM_SIZE), "ms_region_new_ram");
	bench_check(ms_region_new_io(&dev, env.ctx,
				     &(ms_region_io_opts){
					     .name = "dev", .size = DEV_SIZE, .ops = &empty_ops}),
		    "ms_region_new_io");
	ms_transaction_begin(env.ctx);
	bench_check(ms_region_add_subregion(system, RAM_BASE, ram), "ms_region_add_subregion");
	bench_check(ms_region_add_subregion(system, DEV_BASE, dev), "ms_region_add_subregion");
	bench_check(ms_transaction_commit(env.ctx), "ms_transaction_commit");
	env.ram = ms_region_ram_ptr(ram);
	for (uint64_t i = 0; i < RAM_SIZE; i++)
		env.ram[i] = (uint8_t)ms_rng_next(&rng);
	verify(&env);

	for (int v = 0; v < NR_VARIANTS; v++) {
		run_variant(&env, v, 1000); /* warm up */
		iters[v] = bench_calibrate(run_variant, &env, v, target_ns);
	}
	for (unsigned s = 0; s < opts->samples; s++) {
		for (int v = 0; v < NR_VARIANTS; v++) {
			uint64_t t0 = bench_now_ns();

			run_variant(&env, v, iters[v]);
			samples[v * opts->samples + s] =
				(double)(bench_now_ns() - t0) / (double)iters[v];
		}
	}
	for (int v = 0; v < NR_VARIANTS; v++)
		median[v] = bench_median(&samples[v * opts->samples], opts->samples);

	if (!opts->json) {
		printf("access: median ns per access, %u samples of ~%.0f ms each\n", opts->samples,
		       (double)target_ns / 1e6);
		printf("  4-byte RAM read    raw load %7.2f   ms_as_read %7.2f   ms_as_ldl_le %7.2f\n",
		       median[V_RAM_RAW], median[V_RAM_READ], median[V_RAM_LDL]);
		printf("  64 KiB RAM read    memcpy %9.0f   ms_as_read %9.0f   ratio %.3f (%.1f vs "
		       "%.1f GB/s)\n",
		       median[V_BULK64_MEMCPY], median[V_BULK64_READ],
		       median[V_BULK64_MEMCPY] / median[V_BULK64_READ],
		       65536.0 / median[V_BULK64_MEMCPY], 65536.0 / median[V_BULK64_READ]);
		printf("  1 MiB RAM read     memcpy %9.0f   ms_as_read %9.0f   ratio %.3f (%.1f vs "
		       "%.1f GB/s)   target >= 0.9\n",
		       median[V_BULK1M_MEMCPY], median[V_BULK1M_READ],
		       median[V_BULK1M_MEMCPY] / median[V_BULK1M_READ],
		       1048576.0 / median[V_BULK1M_MEMCPY], 1048576.0 / median[V_BULK1M_READ]);
		printf("  4-byte MMIO read   direct call %7.2f   ms_as_ldl_le %7.2f   ms_as_read "
		       "%7.2f   dispatch overhead %.2f (ldl)\n",
		       median[V_MMIO_DIRECT], median[V_MMIO_LDL], median[V_MMIO_READ],
		       median[V_MMIO_LDL] - median[V_MMIO_DIRECT]);
		fflush(stdout);
	}
	bench_json_open(json, "access");
	bench_json_open(json, "ns");
	for (int v = 0; v < NR_VARIANTS; v++)
		bench_json_number(json, names[v], median[v]);
	bench_json_close(json);
	bench_json_number(json, "bulk64k_memcpy_over_read",
			  median[V_BULK64_MEMCPY] / median[V_BULK64_READ]);
	bench_json_number(json, "bulk1m_memcpy_over_read",
			  median[V_BULK1M_MEMCPY] / median[V_BULK1M_READ]);
	bench_json_number(json, "mmio4_dispatch_overhead_ns",
			  median[V_MMIO_LDL] - median[V_MMIO_DIRECT]);
	bench_json_close(json);

	ms_region_unref(ram);
	ms_region_unref(dev);
	ms_region_unref(system);
	ms_ctx_free(env.ctx);
	free(env.buf);
	free(offsets);
	free(samples);
	return 0;
}
