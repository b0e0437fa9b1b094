/*
 * test_concurrency_mpc.c: threads read through a TZ-MPC-like filter
 * (include/memspace/models/mpc.h), directly and through a device IOTLB
 * (devtlb.h) that caches the MPC's secure translations, while a writer
 * thread flips blocks between the worlds.
 *
 * Layout. RAM "sram" (NB blocks of BLK bytes, each 8-byte word holding
 * block << 32 | offset, never written) is the downstream region of MPC
 * "mpc" at 0 of address space "sys". Device IOTLB "dev" follows "sys" with
 * secure attributes.
 *
 * The oracle. Every block starts secure and each flip toggles it. The
 * writer counts, per block, flips begun (before ms_mpc_lut_set()) and flips
 * done (after it returned, its notifications included). A reader snapshots
 * flips done before an 8-byte read of a random word in either world, by
 * ms_as_read() or (secure) ms_devtlb_read(), and flips begun after it. When
 * the two are equal no flip overlapped the read, so the block's world is
 * known (secure after an even number of flips): a read of that world must
 * return the word with MS_RESULT_OK, a read of the other world zeros with
 * MS_RESULT_ERROR. When they differ either answer is allowed, but a
 * successful read must still return the word. A device-IOTLB read that
 * kept a translation after the MPC's UNMAP would fail the first rule. At
 * the end, the MPC's blocked-read count lies between the blocked reads the
 * oracle was sure of and all reads that may have been blocked, and equals
 * the number of interrupt callbacks. TSan checks the MPC's and the cache's
 * shared state.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <memspace.h>
#include <memspace/models/devtlb.h>
#include <memspace/models/mpc.h>

#include "ms_rng.h"

#define BLK 64u
#define NB 16u
#define FLIPS 6000
#define AHEAD 8 /* reads per reader per flip (it may run 2 flips ahead) */
#define NR_READERS 2

typedef struct world {
	ms_ctx *ctx;
	ms_region *sys, *sram;
	ms_as *as;
	ms_mpc *m;
	ms_devtlb *dev;
	uint32_t begun[NB], done_flips[NB]; /* atomic */
	uint64_t step;                      /* atomic: flips completed */
	uint64_t reads[NR_READERS];         /* atomic: reads completed */
	uint64_t irqs;                      /* atomic */
	bool stop;                          /* atomic */
	/* Per reader, read after the join. */
	uint64_t sure_blocked[NR_READERS], maybe_blocked[NR_READERS], bad[NR_READERS];
	char why[NR_READERS][200];
} world;

typedef struct reader_arg {
	world *w;
	unsigned id;
} reader_arg;

static void on_irq(ms_mpc *m, const ms_mpc_fault *f, void *opaque)
{
	(void)m;
	(void)f;
	__atomic_add_fetch(&((world *)opaque)->irqs, 1, __ATOMIC_RELAXED);
}

static void *reader(void *p)
{
	reader_arg *a = p;
	world *w = a->w;
	ms_rng g;

	ms_rng_seed(&g, 0x3c0 + a->id);
	while (!__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE)) {
		uint64_t n = __atomic_load_n(&w->reads[a->id], __ATOMIC_RELAXED);
		uint64_t b = ms_rng_below(&g, NB), off = ms_rng_below(&g, BLK / 8) * 8;
		bool secure = ms_rng_percent(&g, 50), via_cache = secure && ms_rng_percent(&g, 50);
		uint64_t want = b << 32 | off, got = 0xdeadbeef;
		uint32_t before, after;
		ms_result res;

		if (n >= (__atomic_load_n(&w->step, __ATOMIC_ACQUIRE) + 2) * AHEAD) {
			sched_yield();
			continue;
		}
		before = __atomic_load_n(&w->done_flips[b], __ATOMIC_SEQ_CST);
		if (via_cache)
			res = ms_devtlb_read(w->dev, b * BLK + off, &got, 8);
		else
			res = ms_as_read(w->as, b * BLK + off, (ms_attrs){.secure = secure}, &got,
					 8);
		after = __atomic_load_n(&w->begun[b], __ATOMIC_SEQ_CST);
		if (before == after) {
			bool ns_block = before % 2 == 1, allowed = ns_block != secure;

			if (allowed ? (res != MS_RESULT_OK || got != want)
				    : (res != MS_RESULT_ERROR || got != 0)) {
				if (!w->bad[a->id])
					snprintf(w->why[a->id], sizeof(w->why[a->id]),
						 "%s read of block %" PRIu64
						 " (%s, %u flips)%s gave %#x "
						 "and %#" PRIx64,
						 secure ? "secure" : "non-secure", b,
						 ns_block ? "non-secure" : "secure", before,
						 via_cache ? " via the device IOTLB" : "", res,
						 got);
				w->bad[a->id]++;
			}
			w->sure_blocked[a->id] += !allowed;
			w->maybe_blocked[a->id] += !allowed;
		} else {
			if ((res == MS_RESULT_OK && got != want) ||
			    (res != MS_RESULT_OK && (res != MS_RESULT_ERROR || got != 0))) {
				if (!w->bad[a->id])
					snprintf(w->why[a->id], sizeof(w->why[a->id]),
						 "read of block %" PRIu64
						 " during a flip gave %#x and %#" PRIx64,
						 b, res, got);
				w->bad[a->id]++;
			}
			w->maybe_blocked[a->id]++;
		}
		__atomic_store_n(&w->reads[a->id], n + 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void lut_flips_race_reads_directly_and_through_a_device_iotlb(void **state)
{
	world *w = calloc(1, sizeof(*w));
	pthread_t th[NR_READERS];
	reader_arg args[NR_READERS];
	bool ns[NB] = {false};
	uint64_t sure = 0, maybe = 0;
	ms_devtlb_stats ds;
	ms_mpc_stats st;
	ms_rng g;

	(void)state;
	assert_non_null(w);
	assert_int_equal(ms_ctx_new(&w->ctx), 0);
	assert_int_equal(ms_region_new_container(&w->sys, w->ctx, "sys", MS_SIZE_2_64), 0);
	assert_int_equal(ms_region_new_ram(&w->sram, w->ctx, "sram", NB * BLK), 0);
	for (uint64_t b = 0; b < NB; b++)
		for (uint64_t off = 0; off < BLK; off += 8) {
			uint64_t v = b << 32 | off;

			memcpy((uint8_t *)ms_region_ram_ptr(w->sram) + b * BLK + off, &v, 8);
		}
	assert_int_equal(ms_as_new(&w->as, w->ctx, w->sys, "sys"), 0);
	assert_int_equal(ms_mpc_new(&w->m, w->ctx,
				    &(ms_mpc_opts){.name = "mpc",
						   .downstream = w->sram,
						   .block_size = BLK,
						   .irq = on_irq,
						   .opaque = w}),
			 0);
	assert_int_equal(ms_region_add_subregion(w->sys, 0, ms_mpc_region(w->m)), 0);
	assert_int_equal(ms_devtlb_new(&w->dev, w->ctx,
				       &(ms_devtlb_opts){.as = w->as, .attrs = {.secure = 1}}),
			 0);
	for (unsigned i = 0; i < NR_READERS; i++) {
		args[i] = (reader_arg){.w = w, .id = i};
		assert_int_equal(pthread_create(&th[i], NULL, reader, &args[i]), 0);
	}
	ms_rng_seed(&g, 0xf11b);
	for (uint64_t step = 1; step <= FLIPS; step++) {
		uint64_t b = ms_rng_below(&g, NB);

		__atomic_add_fetch(&w->begun[b], 1, __ATOMIC_SEQ_CST);
		ns[b] = !ns[b];
		assert_int_equal(ms_mpc_lut_set(w->m, b, 1, ns[b]), 1);
		__atomic_add_fetch(&w->done_flips[b], 1, __ATOMIC_SEQ_CST);
		__atomic_store_n(&w->step, step, __ATOMIC_RELEASE);
		for (unsigned i = 0; i < NR_READERS; i++)
			while (__atomic_load_n(&w->reads[i], __ATOMIC_ACQUIRE) < step * AHEAD)
				sched_yield();
	}
	__atomic_store_n(&w->stop, true, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < NR_READERS; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);

	for (unsigned i = 0; i < NR_READERS; i++) {
		if (w->bad[i])
			fail_msg("reader %u: %" PRIu64 " wrong reads; first: %s", i, w->bad[i],
				 w->why[i]);
		sure += w->sure_blocked[i];
		maybe += w->maybe_blocked[i];
	}
	assert_int_equal(ms_mpc_get_stats(&st, w->m), 0);
	assert_int_equal(ms_devtlb_get_stats(&ds, w->dev), 0);
	print_message("mpc stress: %" PRIu64 " blocked reads (%" PRIu64 " certain, %" PRIu64
		      " possible); device IOTLB %" PRIu64 " hits %" PRIu64 " misses\n",
		      st.blocked_reads, sure, maybe, ds.hits, ds.misses);
	assert_true(st.blocked_reads >= sure && st.blocked_reads <= maybe);
	assert_int_equal(st.blocked_writes, 0);
	assert_int_equal(__atomic_load_n(&w->irqs, __ATOMIC_RELAXED), st.blocked_reads);
	assert_true(sure > FLIPS / 2);
	assert_true(ds.hits > 0 && ds.misses > 0);
	ms_devtlb_free(w->dev);
	ms_mpc_free(w->m);
	ms_as_free(w->as);
	ms_region_unref(w->sram);
	ms_region_unref(w->sys);
	ms_ctx_free(w->ctx);
	free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lut_flips_race_reads_directly_and_through_a_device_iotlb),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
