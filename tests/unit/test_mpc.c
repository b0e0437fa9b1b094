/*
 * test_mpc.c: the TZ-MPC-like memory protection controller
 * (include/memspace/models/mpc.h): worlds per block, blocked accesses
 * (error and read-as-zero / write-ignored), the interrupt state, LUT
 * notifications, the IOMMU class, bad input, and a property test against an
 * independent reference model.
 *
 * Fixture: RAM "sram" (NBLK blocks of BLK bytes) is the downstream region
 * of MPC "mpc", placed at MPC_BASE in container "sys" rendered by address
 * space "sys". Every 32-bit word of the SRAM holds its own offset.
 *
 * The property test (mpc_matches_reference_model) draws, per seed, a block
 * size and a block count, then random LUT changes, mode changes and random
 * accesses (secure or not, read or write, any length, across blocks), and
 * checks after each: the data and result of the access, the SRAM contents,
 * the interrupt state, ms_iommu_translate() on both indexes and a shadow
 * of each index's mappings kept from the MAP/UNMAP events alone, against
 * a reference (a bit array and a byte array). Environment: MS_PROP_SEED
 * (one seed) and MS_PROP_COUNT (operations per seed).
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <memspace.h>
#include <memspace/models/mpc.h>

#include "ms_rng.h"

#define BLK 0x400u
#define NBLK 16u
#define MPC_BASE 0x10000u
#define SEC ((ms_attrs){.secure = 1})
#define NONSEC ((ms_attrs){.secure = 0})

typedef struct fixture {
	ms_ctx *ctx;
	ms_region *sys, *sram;
	ms_as *as;
	ms_mpc *m;
	unsigned irqs;
	ms_mpc_fault last;
	char log[4096];
	size_t len;
} fixture;

static void on_irq(ms_mpc *m, const ms_mpc_fault *fault, void *opaque)
{
	fixture *f = opaque;

	(void)m;
	f->irqs++;
	f->last = *fault;
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(ms_ctx_new(&f->ctx), 0);
	assert_int_equal(ms_region_new_container(&f->sys, f->ctx, "sys", MS_SIZE_2_64), 0);
	assert_int_equal(ms_region_new_ram(&f->sram, f->ctx, "sram", NBLK * BLK), 0);
	assert_int_equal(ms_as_new(&f->as, f->ctx, f->sys, "sys"), 0);
	assert_int_equal(ms_mpc_new(&f->m, f->ctx,
				    &(ms_mpc_opts){.name = "mpc",
						   .downstream = f->sram,
						   .block_size = BLK,
						   .irq = on_irq,
						   .opaque = f}),
			 0);
	assert_int_equal(ms_region_add_subregion(f->sys, MPC_BASE, ms_mpc_region(f->m)), 0);
	for (uint32_t i = 0; i < NBLK * BLK; i += 4)
		memcpy((uint8_t *)ms_region_ram_ptr(f->sram) + i, &i, 4);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	ms_mpc_free(f->m);
	ms_as_free(f->as);
	ms_region_unref(f->sram);
	ms_region_unref(f->sys);
	ms_ctx_free(f->ctx);
	free(f);
	return 0;
}

static uint32_t ld(fixture *f, uint64_t off, ms_attrs attrs, ms_result *res)
{
	return ms_as_ldl_le(f->as, MPC_BASE + off, attrs, res);
}

static ms_mpc_stats stats(fixture *f)
{
	ms_mpc_stats s;

	assert_int_equal(ms_mpc_get_stats(&s, f->m), 0);
	return s;
}

/* ---- worlds and blocked accesses ---- */

static void reset_state_is_all_secure(void **state)
{
	fixture *f = *state;
	ms_mpc_stats s;
	ms_result res;

	assert_int_equal(ld(f, 3 * BLK + 8, SEC, &res), 3 * BLK + 8);
	assert_int_equal(res, MS_RESULT_OK);
	assert_int_equal(ld(f, 3 * BLK + 8, NONSEC, &res), 0);
	assert_int_equal(res, MS_RESULT_ERROR);
	assert_int_equal(f->irqs, 1);
	assert_int_equal(f->last.addr, 3 * BLK + 8);
	assert_int_equal(f->last.size, 4);
	assert_false(f->last.is_write);
	assert_false(f->last.secure);
	s = stats(f);
	assert_int_equal(s.blocked_reads, 1);
	assert_int_equal(s.blocked_writes, 0);
	assert_int_equal(s.blocked_nonsecure, 1);
	assert_int_equal(s.blocked_secure, 0);
	assert_true(s.irq_pending);
	assert_int_equal(s.first_fault.addr, 3 * BLK + 8);
	assert_int_equal(s.nr_blocks, NBLK);
	assert_int_equal(s.block_size, BLK);
	assert_int_equal(s.nr_nonsecure, 0);
}

static void lut_set_moves_blocks_between_worlds(void **state)
{
	fixture *f = *state;
	ms_result res;
	bool ns = true;

	assert_int_equal(ms_mpc_lut_set(f->m, 2, 3, true), 3);
	assert_int_equal(ms_mpc_lut_set(f->m, 3, 3, true), 1); /* 3, 4 already */
	for (unsigned b = 0; b < NBLK; b++) {
		bool want = b >= 2 && b <= 5;

		assert_int_equal(ms_mpc_lut_get(&ns, f->m, b), 0);
		assert_int_equal(ns, want);
		(void)ld(f, b * BLK, want ? NONSEC : SEC, &res);
		assert_int_equal(res, MS_RESULT_OK);
		(void)ld(f, b * BLK, want ? SEC : NONSEC, &res);
		assert_int_equal(res, MS_RESULT_ERROR);
	}
	assert_int_equal(stats(f).nr_nonsecure, 4);
	assert_int_equal(ms_mpc_lut_set(f->m, 0, NBLK, false), 4);
	assert_int_equal(stats(f).nr_nonsecure, 0);
	assert_int_equal(ms_as_stl_le(f->as, MPC_BASE + 4 * BLK, NONSEC, 7), MS_RESULT_ERROR);
	assert_int_equal(ld(f, 4 * BLK, SEC, NULL), 4 * BLK); /* the write did not land */
	assert_int_equal(stats(f).blocked_writes, 1);
	assert_int_equal(stats(f).blocked_secure, 4);
	assert_int_equal(stats(f).blocked_nonsecure, NBLK - 4 + 1);
}

static void raz_wi_reads_zero_and_ignores_writes(void **state)
{
	fixture *f = *state;
	ms_result res;

	assert_int_equal(ms_mpc_set_raz_wi(f->m, true), 0);
	assert_int_equal(ld(f, BLK + 4, NONSEC, &res), 0);
	assert_int_equal(res, MS_RESULT_OK);
	assert_int_equal(ms_as_stl_le(f->as, MPC_BASE + BLK + 4, NONSEC, 0x55), MS_RESULT_OK);
	assert_int_equal(ld(f, BLK + 4, SEC, &res), BLK + 4);
	assert_int_equal(stats(f).blocked_reads, 1);
	assert_int_equal(stats(f).blocked_writes, 1);
	assert_int_equal(f->irqs, 2);
	assert_true(f->last.is_write);
	assert_int_equal(ms_mpc_set_raz_wi(f->m, false), 0);
	(void)ld(f, BLK + 4, NONSEC, &res);
	assert_int_equal(res, MS_RESULT_ERROR);
}

static void irq_latches_the_first_fault_until_cleared(void **state)
{
	fixture *f = *state;
	ms_mpc_stats s;
	ms_result res;

	assert_int_equal(ms_as_stb(f->as, MPC_BASE + 0x20, NONSEC, 1), MS_RESULT_ERROR);
	(void)ld(f, 0x40, NONSEC, &res);
	s = stats(f);
	assert_true(s.irq_pending);
	assert_int_equal(s.first_fault.addr, 0x20);
	assert_int_equal(s.first_fault.size, 1);
	assert_true(s.first_fault.is_write);
	assert_int_equal(ms_mpc_irq_clear(f->m), 0);
	s = stats(f);
	assert_false(s.irq_pending);
	assert_int_equal(s.first_fault.addr, 0);
	assert_int_equal(s.blocked_reads + s.blocked_writes, 2); /* counters keep counting */
	(void)ld(f, 0x80, NONSEC, &res);
	assert_int_equal(stats(f).first_fault.addr, 0x80);
}

static void access_across_blocks_of_two_worlds(void **state)
{
	fixture *f = *state;
	uint8_t buf[16];
	uint32_t w[4];
	ms_result res;

	assert_int_equal(ms_mpc_lut_set(f->m, 1, 1, true), 1);
	/* 8 bytes at the end of block 0 (secure), 8 at the start of block 1 (non-secure). */
	res = ms_as_read(f->as, MPC_BASE + BLK - 8, NONSEC, buf, sizeof(buf));
	assert_int_equal(res, MS_RESULT_ERROR);
	memcpy(w, buf, sizeof(w));
	assert_int_equal(w[0], 0);
	assert_int_equal(w[1], 0);
	assert_int_equal(w[2], BLK);
	assert_int_equal(w[3], BLK + 4);
	assert_int_equal(stats(f).first_fault.addr, BLK - 8);
	/* A write does its allowed part. */
	memset(buf, 0xab, sizeof(buf));
	res = ms_as_write(f->as, MPC_BASE + BLK - 8, SEC, buf, sizeof(buf));
	assert_int_equal(res, MS_RESULT_ERROR);
	assert_int_equal(ld(f, BLK - 4, SEC, NULL), 0xabababab);
	assert_int_equal(ld(f, BLK, NONSEC, NULL), BLK);
}

/* ---- the IOMMU class and notifications ---- */

static void translate_names_the_target_per_index(void **state)
{
	fixture *f = *state;
	ms_region *r = ms_mpc_region(f->m);
	ms_iotlb_entry e;

	assert_int_equal(ms_iommu_num_indexes(r), 2);
	assert_int_equal(ms_iommu_get_min_page_size(r), BLK);
	assert_int_equal(ms_iommu_attrs_to_index(r, SEC), MS_MPC_IDX_SECURE);
	assert_int_equal(ms_iommu_attrs_to_index(r, NONSEC), MS_MPC_IDX_NONSECURE);
	assert_int_equal(ms_iommu_attrs_to_index(r, MS_ATTRS_UNSPECIFIED), MS_MPC_IDX_NONSECURE);
	assert_int_equal(ms_mpc_lut_set(f->m, 5, 1, true), 1);
	assert_int_equal(
		ms_iommu_translate(&e, r, 5 * BLK + 0x13, MS_IOMMU_NONE, MS_MPC_IDX_NONSECURE), 0);
	assert_string_equal(ms_as_name(e.target_as), "mpc.downstream");
	assert_int_equal(e.iova, 5 * BLK);
	assert_int_equal(e.translated_addr, 5 * BLK);
	assert_int_equal(e.addr_mask, BLK - 1);
	assert_int_equal(e.perm, MS_IOMMU_RW);
	assert_int_equal(ms_iommu_translate(&e, r, 5 * BLK, MS_IOMMU_RO, MS_MPC_IDX_SECURE), 0);
	assert_string_equal(ms_as_name(e.target_as), "mpc.blocked");
	assert_int_equal(e.perm, MS_IOMMU_RW);
	assert_int_equal(ms_as_get_iotlb_entry(&e, f->as, MPC_BASE + 5 * BLK + 4, false, SEC), 0);
	assert_string_equal(ms_as_name(e.target_as), "mpc.blocked");
	assert_int_equal(e.translated_addr, 5 * BLK);
	assert_int_equal(ms_as_get_iotlb_entry(&e, f->as, MPC_BASE + 5 * BLK + 4, true, NONSEC), 0);
	assert_string_equal(ms_as_name(e.target_as), "mpc.downstream");
}

static int record(ms_iommu_notifier *n, const ms_iommu_event *ev, void *opaque)
{
	fixture *f = opaque;
	int len;

	(void)n;
	len = snprintf(
		f->log + f->len, sizeof(f->log) - f->len, "%s %#" PRIx64 "+%#" PRIx64 " %s/%d;",
		ev->type == MS_IOMMU_NOTIFIER_MAP ? "MAP" : "UNMAP", ev->entry.iova,
		ev->entry.addr_mask + 1, ms_as_name(ev->entry.target_as), (int)ev->entry.perm);
	assert_true(len > 0 && (size_t)len < sizeof(f->log) - f->len);
	f->len += (size_t)len;
	return 0;
}

static void lut_change_notifies_unmap_then_map_on_both_indexes(void **state)
{
	fixture *f = *state;
	ms_iommu_notifier *n[2];

	for (unsigned idx = 0; idx < 2; idx++) {
		ms_iommu_notifier_opts o = {MS_IOMMU_NOTIFIER_OPTS_DEFAULTS,
					    .flags = MS_IOMMU_NOTIFIER_IOTLB_EVENTS,
					    .iommu_idx = idx, .notify = record, .opaque = f};

		assert_int_equal(ms_iommu_register_notifier(&n[idx], ms_mpc_region(f->m), &o), 0);
	}
	assert_int_equal(ms_mpc_lut_set(f->m, 1, 2, true), 2);
	assert_int_equal(ms_mpc_lut_set(f->m, 1, 1, true), 0); /* no change, no event */
	assert_string_equal(f->log,
			    "UNMAP 0x400+0x400 mpc.downstream/0;UNMAP 0x400+0x400 mpc.blocked/0;"
			    "MAP 0x400+0x400 mpc.blocked/3;MAP 0x400+0x400 mpc.downstream/3;"
			    "UNMAP 0x800+0x400 mpc.downstream/0;UNMAP 0x800+0x400 mpc.blocked/0;"
			    "MAP 0x800+0x400 mpc.blocked/3;MAP 0x800+0x400 mpc.downstream/3;");
	f->len = 0;
	f->log[0] = '\0';
	assert_int_equal(ms_mpc_lut_set(f->m, 2, 1, false), 1);
	assert_string_equal(f->log,
			    "UNMAP 0x800+0x400 mpc.blocked/0;UNMAP 0x800+0x400 mpc.downstream/0;"
			    "MAP 0x800+0x400 mpc.downstream/3;MAP 0x800+0x400 mpc.blocked/3;");
	/* Replay (the default walk) announces every block of an index. */
	f->len = 0;
	f->log[0] = '\0';
	assert_int_equal(ms_iommu_replay(ms_mpc_region(f->m), n[1]), 0);
	assert_int_equal(strlen(f->log) > 0, 1);
	assert_non_null(
		strstr(f->log, "MAP 0x400+0x400 mpc.downstream/3;MAP 0x800+0x400 mpc.blocked/3;"));
	ms_iommu_unregister_notifier(n[0]);
	ms_iommu_unregister_notifier(n[1]);
}

static void region_caches_follow_lut_changes(void **state)
{
	fixture *f = *state;
	ms_cache c;
	ms_result res;

	assert_int_equal(ms_cache_init(&c, f->as, MPC_BASE, BLK, false), 0);
	(void)ms_cache_ldl_le(&c, 0, &res);
	assert_int_equal(res, MS_RESULT_ERROR);
	assert_int_equal(ms_mpc_lut_set(f->m, 0, 1, true), 1);
	assert_int_equal(ms_cache_ldl_le(&c, 8, &res), 8);
	assert_int_equal(res, MS_RESULT_OK);
	assert_int_equal(ms_mpc_lut_set(f->m, 0, 1, false), 1);
	(void)ms_cache_ldl_le(&c, 8, &res);
	assert_int_equal(res, MS_RESULT_ERROR);
	ms_cache_destroy(&c);
}

/* ---- bad input ---- */

static void new_refuses_bad_arguments(void **state)
{
	fixture *f = *state;
	ms_mpc_opts o = {.name = "x", .downstream = f->sram, .block_size = BLK};
	ms_region *odd, *big;
	ms_mpc *m = (ms_mpc *)1;
	ms_ctx *other;

	assert_int_equal(ms_mpc_new(NULL, f->ctx, &o), -EINVAL);
	assert_int_equal(ms_mpc_new(&m, NULL, &o), -EINVAL);
	assert_null(m);
	assert_int_equal(ms_mpc_new(&m, f->ctx, NULL), -EINVAL);
	o.name = NULL;
	assert_int_equal(ms_mpc_new(&m, f->ctx, &o), -EINVAL);
	o.name = "x";
	o.downstream = NULL;
	assert_int_equal(ms_mpc_new(&m, f->ctx, &o), -EINVAL);
	o.downstream = f->sram;
	o.block_size = 0x300; /* not a power of two */
	assert_int_equal(ms_mpc_new(&m, f->ctx, &o), -EINVAL);
	o.block_size = 16; /* below the minimum */
	assert_int_equal(ms_mpc_new(&m, f->ctx, &o), -EINVAL);
	o.block_size = NBLK * BLK * 2; /* larger than the region */
	assert_int_equal(ms_mpc_new(&m, f->ctx, &o), -EINVAL);
	assert_int_equal(ms_region_new_ram(&odd, f->ctx, "odd", BLK + 32), 0);
	o.downstream = odd;
	o.block_size = BLK; /* size not a multiple */
	assert_int_equal(ms_mpc_new(&m, f->ctx, &o), -EINVAL);
	assert_int_equal(ms_region_new_container(&big, f->ctx, "big", 32 * MS_MPC_MAX_BLOCKS * 2),
			 0);
	o.downstream = big;
	o.block_size = 32;
	assert_int_equal(ms_mpc_new(&m, f->ctx, &o), -E2BIG);
	assert_int_equal(ms_ctx_new(&other), 0);
	o.downstream = f->sram;
	o.block_size = BLK;
	assert_int_equal(ms_mpc_new(&m, other, &o), -EINVAL);
	ms_ctx_free(other);
	assert_null(m);
	ms_region_unref(odd);
	ms_region_unref(big);
	ms_mpc_free(NULL);
	assert_null(ms_mpc_region(NULL));
}

static void lut_calls_refuse_bad_arguments(void **state)
{
	fixture *f = *state;
	ms_mpc_stats s;
	bool ns = true;

	assert_int_equal(ms_mpc_lut_set(NULL, 0, 1, true), -EINVAL);
	assert_int_equal(ms_mpc_lut_set(f->m, 0, 0, true), -EINVAL);
	assert_int_equal(ms_mpc_lut_set(f->m, NBLK, 1, true), -EINVAL);
	assert_int_equal(ms_mpc_lut_set(f->m, NBLK - 1, 2, true), -EINVAL);
	assert_int_equal(ms_mpc_lut_set(f->m, 1, UINT64_MAX, true), -EINVAL);
	assert_int_equal(stats(f).nr_nonsecure, 0); /* nothing changed */
	assert_int_equal(ms_mpc_lut_get(&ns, f->m, NBLK), -EINVAL);
	assert_false(ns);
	assert_int_equal(ms_mpc_lut_get(NULL, f->m, 0), -EINVAL);
	assert_int_equal(ms_mpc_lut_get(&ns, NULL, 0), -EINVAL);
	assert_int_equal(ms_mpc_set_raz_wi(NULL, true), -EINVAL);
	assert_int_equal(ms_mpc_irq_clear(NULL), -EINVAL);
	assert_int_equal(ms_mpc_get_stats(NULL, f->m), -EINVAL);
	s.nr_blocks = 99;
	assert_int_equal(ms_mpc_get_stats(&s, NULL), -EINVAL);
	assert_int_equal(s.nr_blocks, 0);
}

static void free_takes_the_region_out_of_its_container(void **state)
{
	fixture *f = *state;
	ms_result res;

	ms_mpc_free(f->m);
	f->m = NULL;
	(void)ld(f, 0, SEC, &res);
	assert_int_equal(res, MS_RESULT_DECODE_ERROR);
	assert_int_equal(ms_region_nr_subregions(f->sys), 0);
}

/* ---- property test ---- */

typedef struct shadow {
	ms_as *target[2][64]; /* per index and block: the mapped target, NULL = none */
	bool bad;             /* an event broke the protocol */
} shadow;

static int shadow_event(ms_iommu_notifier *n, const ms_iommu_event *ev, void *opaque, unsigned idx)
{
	shadow *s = opaque;
	uint64_t bs = ev->entry.addr_mask + 1, b = ev->entry.iova / bs;

	(void)n;
	if (b >= 64) {
		s->bad = true;
		return 0;
	}
	if (ev->type == MS_IOMMU_NOTIFIER_MAP) {
		if (s->target[idx][b] || ev->entry.perm != MS_IOMMU_RW)
			s->bad = true; /* a bare MAP over a mapping */
		s->target[idx][b] = ev->entry.target_as;
	} else {
		if (s->target[idx][b] != ev->entry.target_as)
			s->bad = true; /* UNMAP of something else */
		s->target[idx][b] = NULL;
	}
	return 0;
}

static int shadow_s(ms_iommu_notifier *n, const ms_iommu_event *ev, void *opaque)
{
	return shadow_event(n, ev, opaque, 0);
}

static int shadow_ns(ms_iommu_notifier *n, const ms_iommu_event *ev, void *opaque)
{
	return shadow_event(n, ev, opaque, 1);
}

static bool env_u64(const char *name, uint64_t *out)
{
	const char *v = getenv(name);
	char *end;

	if (!v || !*v)
		return false;
	*out = strtoull(v, &end, 0);
	return *end == '\0';
}

static void run_property(uint64_t seed, uint64_t ops)
{
	ms_rng g;
	ms_ctx *ctx;
	ms_region *sys, *ram, *mr;
	ms_as *as, *down = NULL, *blocked = NULL;
	ms_mpc *m;
	ms_iommu_notifier *n[2];
	shadow sh;
	uint64_t bs, nblk, size;
	bool lut[64] = {false}, raz = false;
	uint8_t *ref, *ram_ptr, buf[300], want[300];
	char where[96];

	ms_rng_seed(&g, seed);
	bs = (uint64_t)32 << ms_rng_below(&g, 6); /* 32 .. 1024 */
	nblk = ms_rng_range(&g, 1, 64);
	size = bs * nblk;
	assert_int_equal(ms_ctx_new(&ctx), 0);
	assert_int_equal(ms_region_new_container(&sys, ctx, "sys", MS_SIZE_2_64), 0);
	assert_int_equal(ms_region_new_ram(&ram, ctx, "ram", size), 0);
	assert_int_equal(ms_as_new(&as, ctx, sys, "sys"), 0);
	assert_int_equal(
		ms_mpc_new(&m, ctx,
			   &(ms_mpc_opts){.name = "p", .downstream = ram, .block_size = bs}),
		0);
	mr = ms_mpc_region(m);
	assert_int_equal(ms_region_add_subregion(sys, 0x1000, mr), 0);
	ram_ptr = ms_region_ram_ptr(ram);
	ref = malloc(size);
	assert_non_null(ref);
	for (uint64_t i = 0; i < size; i++)
		ref[i] = ram_ptr[i] = (uint8_t)ms_rng_next(&g);
	memset(&sh, 0, sizeof(sh));
	for (unsigned idx = 0; idx < 2; idx++) {
		ms_iommu_notifier_opts o = {
			MS_IOMMU_NOTIFIER_OPTS_DEFAULTS, .flags = MS_IOMMU_NOTIFIER_IOTLB_EVENTS,
			.iommu_idx = idx, .notify = idx ? shadow_ns : shadow_s, .opaque = &sh};

		assert_int_equal(ms_iommu_register_notifier(&n[idx], mr, &o), 0);
		assert_int_equal(ms_iommu_replay(mr, n[idx]), 0);
	}
	/* The two address spaces, as the class names them. */
	for (unsigned i = 0; i < ms_ctx_nr_as(ctx); i++) {
		ms_as *a = ms_ctx_as(ctx, i);

		if (strcmp(ms_as_name(a), "p.downstream") == 0)
			down = a;
		if (strcmp(ms_as_name(a), "p.blocked") == 0)
			blocked = a;
	}
	assert_non_null(down);
	assert_non_null(blocked);

	for (uint64_t op = 0; op < ops; op++) {
		unsigned kind = (unsigned)ms_rng_below(&g, 10);

		snprintf(where, sizeof(where), "MS_PROP_SEED=%#" PRIx64 " op %" PRIu64 " kind %u",
			 seed, op, kind);
		if (kind < 3) { /* LUT change */
			uint64_t first = ms_rng_below(&g, nblk);
			uint64_t count = ms_rng_range(&g, 1, nblk - first);
			bool ns = ms_rng_percent(&g, 50);
			int changed = 0;

			for (uint64_t b = first; b < first + count; b++) {
				changed += lut[b] != ns;
				lut[b] = ns;
			}
			if (ms_mpc_lut_set(m, first, count, ns) != changed)
				fail_msg("%s: lut_set returned another count", where);
		} else if (kind == 3) {
			raz = ms_rng_percent(&g, 50);
			assert_int_equal(ms_mpc_set_raz_wi(m, raz), 0);
		} else { /* an access */
			bool secure = ms_rng_percent(&g, 50), write = ms_rng_percent(&g, 40);
			ms_attrs attrs = {.secure = secure};
			uint64_t len = ms_rng_range(&g, 1, sizeof(buf) < size ? sizeof(buf) : size);
			uint64_t addr = ms_rng_below(&g, size - len + 1);
			uint64_t first_blocked = UINT64_MAX;
			ms_result res, want_res = MS_RESULT_OK;
			ms_mpc_stats st;

			assert_int_equal(ms_mpc_irq_clear(m), 0);
			for (uint64_t i = 0; i < len; i++) {
				bool ok = lut[(addr + i) / bs] != secure;

				if (!ok && first_blocked == UINT64_MAX)
					first_blocked = addr + i;
				if (!ok && !raz)
					want_res = MS_RESULT_ERROR;
				if (write) {
					buf[i] = want[i] = (uint8_t)ms_rng_next(&g);
					if (ok)
						ref[addr + i] = want[i];
				} else {
					want[i] = ok ? ref[addr + i] : 0;
				}
			}
			if (write)
				res = ms_as_write(as, 0x1000 + addr, attrs, buf, len);
			else
				res = ms_as_read(as, 0x1000 + addr, attrs, buf, len);
			if (res != want_res)
				fail_msg("%s: %s of %" PRIu64 " at %#" PRIx64 " gave %#x, want %#x",
					 where, write ? "write" : "read", len, addr, res, want_res);
			if (!write && memcmp(buf, want, len) != 0)
				fail_msg("%s: read data differs", where);
			assert_int_equal(ms_mpc_get_stats(&st, m), 0);
			if (st.irq_pending != (first_blocked != UINT64_MAX))
				fail_msg("%s: irq_pending %d", where, st.irq_pending);
			if (st.irq_pending &&
			    (st.first_fault.addr != first_blocked ||
			     st.first_fault.is_write != write || st.first_fault.secure != secure))
				fail_msg("%s: first fault at %#" PRIx64 ", want %#" PRIx64, where,
					 st.first_fault.addr, first_blocked);
		}
		/* The memory, the translations and the notified shadow match the reference. */
		if (memcmp(ram_ptr, ref, size) != 0)
			fail_msg("%s: RAM differs from the reference", where);
		if (sh.bad)
			fail_msg("%s: a notification broke the MAP/UNMAP protocol", where);
		for (uint64_t b = 0; b < nblk; b++) {
			for (unsigned idx = 0; idx < 2; idx++) {
				ms_as *t = lut[b] == (idx == 1) ? down : blocked;
				ms_iotlb_entry e;

				assert_int_equal(ms_iommu_translate(&e, mr,
								    b * bs + ms_rng_below(&g, bs),
								    MS_IOMMU_NONE, idx),
						 0);
				if (e.target_as != t || e.iova != b * bs || e.addr_mask != bs - 1 ||
				    e.perm != MS_IOMMU_RW || sh.target[idx][b] != t)
					fail_msg("%s: block %" PRIu64 " index %u translates wrong",
						 where, b, idx);
			}
		}
	}
	ms_iommu_unregister_notifier(n[0]);
	ms_iommu_unregister_notifier(n[1]);
	free(ref);
	ms_mpc_free(m);
	ms_as_free(as);
	ms_region_unref(ram);
	ms_region_unref(sys);
	ms_ctx_free(ctx);
}

static void mpc_matches_reference_model(void **state)
{
	static const uint64_t seeds[] = {1, 2, 3, 0x5eed, 0xfeedface, 42, 7, 99};
	uint64_t count = 400, one;

	(void)state;
	env_u64("MS_PROP_COUNT", &count);
	if (env_u64("MS_PROP_SEED", &one)) {
		run_property(one, count);
		return;
	}
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++)
		run_property(seeds[i], count);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(reset_state_is_all_secure),
		T(lut_set_moves_blocks_between_worlds),
		T(raz_wi_reads_zero_and_ignores_writes),
		T(irq_latches_the_first_fault_until_cleared),
		T(access_across_blocks_of_two_worlds),
		T(translate_names_the_target_per_index),
		T(lut_change_notifies_unmap_then_map_on_both_indexes),
		T(region_caches_follow_lut_changes),
		T(new_refuses_bad_arguments),
		T(lut_calls_refuse_bad_arguments),
		T(free_takes_the_region_out_of_its_container),
		cmocka_unit_test(mpc_matches_reference_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
