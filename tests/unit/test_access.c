/*
 * test_access.c: reads, writes, loads and stores through address spaces
 * (access.h): RAM, holes and results, ROM, ROM devices, RAM devices, the
 * reentrancy and depth guard, two threads in one device, topology changes
 * during an access, scalars across ranges, set, translate and access_valid.
 *
 * The MMIO valid/impl rules, endianness and callback forms are tested in
 * test_access_mmio.c; the test devices are those of test_access_support.h.
 *
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <cmocka.h>

#include "ms_unit.h"
#include "test_access_support.h"

/* ---- RAM, holes, results ----------------------------------------------------- */

static void test_ram_access_spans_adjacent_ranges(void **state)
{
	fixture *f = *state;
	ms_region *ram0 = add_ram(f, "ram0", 0x1000, 0x1000);
	ms_region *ram1 = add_ram(f, "ram1", 0x2000, 0x1000);
	uint8_t in[64], out[64];

	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i + 1);
	assert_int_equal(ms_as_write(f->as, 0x1fe0, ATTRS, in, sizeof(in)), MS_RESULT_OK);
	assert_memory_equal(ram(ram0) + 0xfe0, in, 32);
	assert_memory_equal(ram(ram1), in + 32, 32);
	assert_int_equal(ms_as_read(f->as, 0x1fe0, ATTRS, out, sizeof(out)), MS_RESULT_OK);
	assert_memory_equal(out, in, sizeof(in));
}

static void test_unassigned_bytes_read_zero_with_decode_error(void **state)
{
	fixture *f = *state;
	ms_region *r = add_ram(f, "ram", 0x1000, 0x100);
	uint8_t buf[0x40], ones[0x20];

	memset(ram(r), 0x5a, 0x100);
	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(ms_as_read(f->as, 0x10e0, ATTRS, buf, sizeof(buf)),
			 MS_RESULT_DECODE_ERROR);
	assert_bytes(buf, 0x5a, 0x20);
	assert_bytes(buf + 0x20, 0, 0x20);

	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(ms_as_read(f->as, 0x8000, ATTRS, buf, sizeof(buf)),
			 MS_RESULT_DECODE_ERROR);
	assert_bytes(buf, 0, sizeof(buf));

	/* A write that runs into the hole still writes the RAM part. */
	memset(ones, 0x11, sizeof(ones));
	assert_int_equal(ms_as_write(f->as, 0x10f0, ATTRS, ones, sizeof(ones)),
			 MS_RESULT_DECODE_ERROR);
	assert_bytes(ram(r) + 0xf0, 0x11, 0x10);
}

static void test_results_of_pieces_are_ored(void **state)
{
	fixture *f = *state;
	dev *d = new_dev(f, MS_ENDIAN_LITTLE);
	uint8_t buf[0x28];

	add_ram(f, "ram", 0x1000, 0x1000);
	d->result = MS_RESULT_ERROR;
	map_dev(f, d, 0x2000, 0x10); /* hole from 0x2010 on */

	assert_int_equal(ms_as_read(f->as, 0x1ff8, ATTRS, buf, 0x18), MS_RESULT_ERROR);
	assert_int_equal(d->nr_log, 4); /* 16 device bytes in 4-byte pieces */
	assert_int_equal(ms_as_read(f->as, 0x1ff8, ATTRS, buf, sizeof(buf)),
			 MS_RESULT_ERROR | MS_RESULT_DECODE_ERROR);
}

static void test_access_does_not_wrap_past_top_of_address_space(void **state)
{
	fixture *f = *state;
	ms_region *top = add_ram(f, "top", 0xfffffffffffff000, 0x1000);
	ms_region *low = add_ram(f, "low", 0, 0x1000);
	uint8_t buf[32], in[16];

	memset(ram(top) + 0xff0, 0x33, 16);
	memset(ram(low), 0x77, 0x1000);
	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(ms_as_read(f->as, UINT64_MAX - 15, ATTRS, buf, sizeof(buf)),
			 MS_RESULT_DECODE_ERROR);
	assert_bytes(buf, 0x33, 16);
	assert_bytes(buf + 16, 0, 16);

	memset(in, 0x44, sizeof(in));
	assert_int_equal(ms_as_write(f->as, UINT64_MAX - 7, ATTRS, in, sizeof(in)),
			 MS_RESULT_DECODE_ERROR);
	assert_bytes(ram(top) + 0xff8, 0x44, 8);
	assert_bytes(ram(low), 0x77, 8); /* nothing wrapped to address 0 */

	assert_int_equal(ms_as_write_rom(f->as, UINT64_MAX - 7, in, sizeof(in)), MS_RESULT_OK);
	assert_bytes(ram(low), 0x77, 8);

	ms_result res = 0;
	assert_int_equal(ms_as_ldl_le(f->as, UINT64_MAX - 1, ATTRS, &res), 0x4444);
	assert_int_equal(res, MS_RESULT_DECODE_ERROR);
}

/* ---- ROM, readonly, loader, debug ------------------------------------------------ */

static void test_rom_ignores_writes(void **state)
{
	fixture *f = *state;
	ms_region *rom = add_rom(f, "rom", 0, 0x100);
	uint8_t in[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	ms_result res = 1;

	assert_int_equal(ms_as_write(f->as, 0x10, ATTRS, in, sizeof(in)), MS_RESULT_OK);
	assert_int_equal(ms_as_stl_le(f->as, 0x20, ATTRS, 0xdeadbeef), MS_RESULT_OK);
	assert_int_equal(ms_as_set(f->as, 0, ATTRS, 0xff, 0x100), MS_RESULT_OK);
	assert_bytes(ram(rom), 0, 0x100);
	assert_int_equal(ms_as_ldl_le(f->as, 0x20, ATTRS, &res), 0);
	assert_int_equal(res, MS_RESULT_OK);
}

static void test_write_rom_fills_rom_and_skips_devices_and_holes(void **state)
{
	fixture *f = *state;
	ms_region *rom = add_rom(f, "rom", 0, 0x10);
	dev *d = new_dev(f, MS_ENDIAN_LITTLE);
	ms_region *r;
	uint8_t in[0x30], before[sizeof(d->mem)];

	map_dev(f, d, 0x20, 0x10);
	r = add_ram(f, "ram", 0x30, 0x10);
	memcpy(before, d->mem, sizeof(before));
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(0x80 + i);

	assert_int_equal(ms_as_write_rom(f->as, 0x8, in, sizeof(in)), MS_RESULT_OK);
	assert_memory_equal(ram(rom) + 8, in, 8);
	assert_int_equal(d->nr_log, 0);
	assert_memory_equal(d->mem, before, sizeof(before));
	assert_memory_equal(ram(r), in + 0x28, 8);
}

static void test_debug_attr_writes_rom(void **state)
{
	fixture *f = *state;
	ms_region *rom = add_rom(f, "rom", 0, 0x100);
	ms_attrs debug = {.debug = 1};

	assert_int_equal(ms_as_stl_le(f->as, 0x40, debug, 0x11223344), MS_RESULT_OK);
	assert_int_equal(get_bytes(ram(rom) + 0x40, 4, false), 0x11223344);
	assert_int_equal(ms_as_stl_le(f->as, 0x40, ATTRS, 0x55667788), MS_RESULT_OK);
	assert_int_equal(ms_as_ldl_le(f->as, 0x40, ATTRS, NULL), 0x11223344);
}

static void test_readonly_alias_over_ram_ignores_writes(void **state)
{
	fixture *f = *state;
	ms_region *r = new_ram(f->ctx, "ram", 0x100);
	ms_region *ro = new_alias(f->ctx, "ro", r, 0, 0x100);
	ms_region *rw = new_alias(f->ctx, "rw", r, 0, 0x100);

	ms_region_unref(r); /* the aliases hold it */
	assert_int_equal(ms_region_set_readonly(ro, true), 0);
	map(f, 0x1000, ro);
	map(f, 0x2000, rw);

	assert_int_equal(ms_as_stl_le(f->as, 0x1010, ATTRS, 0xaaaaaaaa), MS_RESULT_OK);
	assert_int_equal(ms_as_ldl_le(f->as, 0x2010, ATTRS, NULL), 0);
	assert_int_equal(ms_as_stl_le(f->as, 0x2010, ATTRS, 0xbbbbbbbb), MS_RESULT_OK);
	assert_int_equal(ms_as_ldl_le(f->as, 0x1010, ATTRS, NULL), 0xbbbbbbbb);
	assert_int_equal(ms_as_stl_le(f->as, 0x1010, (ms_attrs){.debug = 1}, 0xcccccccc),
			 MS_RESULT_OK);
	assert_int_equal(ms_as_ldl_le(f->as, 0x2010, ATTRS, NULL), 0xcccccccc);
}

/* ---- ROM devices ---------------------------------------------------------------- */

static void test_rom_device_reads_ram_in_romd_mode_and_writes_through_ops(void **state)
{
	fixture *f = *state;
	dev *d = new_dev(f, MS_ENDIAN_LITTLE);
	ms_region *rd = add_rom_device(f, d, 0x1000, 0x40);
	const uint8_t image[4] = {0xa1, 0xa2, 0xa3, 0xa4};

	assert_int_equal(ms_as_write_rom(f->as, 0x1000, image, sizeof(image)), MS_RESULT_OK);
	assert_int_equal(ms_as_ldl_le(f->as, 0x1000, ATTRS, NULL), 0xa4a3a2a1);
	assert_int_equal(d->nr_log, 0);

	assert_int_equal(ms_as_stl_le(f->as, 0x1000, ATTRS, 0x01020304), MS_RESULT_OK);
	assert_int_equal(d->nr_log, 1);
	assert_call(d, 0, true, 0, 4, 0x01020304);
	assert_memory_equal(ram(rd), image, sizeof(image)); /* the RAM is untouched */
	assert_int_equal(ms_as_ldl_le(f->as, 0x1000, ATTRS, NULL), 0xa4a3a2a1);
}

static void test_rom_device_outside_romd_mode_reads_through_ops(void **state)
{
	fixture *f = *state;
	dev *d = new_dev(f, MS_ENDIAN_LITTLE);
	ms_region *rd = add_rom_device(f, d, 0x1000, 0x40);
	const uint8_t image[4] = {0xa1, 0xa2, 0xa3, 0xa4};

	assert_int_equal(ms_as_write_rom(f->as, 0x1000, image, sizeof(image)), MS_RESULT_OK);
	assert_int_equal(ms_region_set_romd(rd, false), 0);
	assert_int_equal(ms_as_ldl_le(f->as, 0x1000, ATTRS, NULL), 0x13121110);
	assert_int_equal(d->nr_log, 1);
	assert_call(d, 0, false, 0, 4, 0x13121110);

	assert_int_equal(ms_region_set_romd(rd, true), 0);
	assert_int_equal(ms_as_ldl_le(f->as, 0x1000, ATTRS, NULL), 0xa4a3a2a1);
	assert_int_equal(d->nr_log, 1);
}

static void test_write_rom_skips_rom_device_outside_romd_mode(void **state)
{
	fixture *f = *state;
	dev *d = new_dev(f, MS_ENDIAN_LITTLE);
	ms_region *rd = add_rom_device(f, d, 0x1000, 0x40);
	const uint8_t image[4] = {0xa1, 0xa2, 0xa3, 0xa4};

	assert_int_equal(ms_region_set_romd(rd, false), 0);
	assert_int_equal(ms_as_write_rom(f->as, 0x1000, image, sizeof(image)), MS_RESULT_OK);
	assert_bytes(ram(rd), 0, 4);
	assert_int_equal(d->nr_log, 0);
}

static void test_debug_write_to_rom_device_in_romd_mode_writes_its_ram(void **state)
{
	fixture *f = *state;
	dev *d = new_dev(f, MS_ENDIAN_LITTLE);
	ms_region *rd = add_rom_device(f, d, 0x1000, 0x40);

	assert_int_equal(ms_as_stw_le(f->as, 0x1002, (ms_attrs){.debug = 1}, 0xbeef), MS_RESULT_OK);
	assert_int_equal(get_bytes(ram(rd) + 2, 2, false), 0xbeef);
	assert_int_equal(d->nr_log, 0);
}

/* ---- RAM devices ------------------------------------------------------------------ */

static void test_ram_device_accesses_land_at_any_alignment(void **state)
{
	fixture *f = *state;
	uint64_t backing[8] = {0};
	uint8_t *mem = (uint8_t *)backing;
	uint8_t in[13], out[13], expect[64] = {0};
	ms_region *r;
	ms_result res = 1;

	assert_int_equal(ms_region_new_ram_device(&r, f->ctx, "bar", sizeof(backing), backing), 0);
	map(f, 0x4000, r);

	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(0xc0 + i);
	assert_int_equal(ms_as_write(f->as, 0x4003, ATTRS, in, sizeof(in)), MS_RESULT_OK);
	memcpy(expect + 3, in, sizeof(in));
	assert_memory_equal(mem, expect, sizeof(expect));
	assert_int_equal(ms_as_read(f->as, 0x4003, ATTRS, out, sizeof(out)), MS_RESULT_OK);
	assert_memory_equal(out, in, sizeof(in));

	assert_int_equal(ms_as_stq_le(f->as, 0x4020, ATTRS, 0x0102030405060708), MS_RESULT_OK);
	assert_int_equal(get_bytes(mem + 0x20, 8, false), 0x0102030405060708);
	assert_int_equal(ms_as_stl_be(f->as, 0x402d, ATTRS, 0xa1b2c3d4), MS_RESULT_OK);
	assert_int_equal(get_bytes(mem + 0x2d, 4, true), 0xa1b2c3d4);
	assert_int_equal(ms_as_ldl_be(f->as, 0x402d, ATTRS, &res), 0xa1b2c3d4);
	assert_int_equal(res, MS_RESULT_OK);
	assert_int_equal(ms_as_ldq_le(f->as, 0x4020, ATTRS, NULL), get_bytes(mem + 0x20, 8, false));

	/* Past its end: the hole reads zero. */
	assert_int_equal(ms_as_stw_le(f->as, 0x403e, ATTRS, 0x1234), MS_RESULT_OK);
	assert_int_equal(ms_as_ldl_le(f->as, 0x403e, ATTRS, &res), 0x1234);
	assert_int_equal(res, MS_RESULT_DECODE_ERROR);
}

/* ---- reentrancy and depth --------------------------------------------------------------- */

static void hook_write_target(dev *d, const call *c)
{
	if (c->is_write)
		d->nested_result = ms_as_stl_le(d->as, d->target, ATTRS, 0x5a5a5a5a);
}

static void test_reentrant_access_to_same_device_is_access_error(void **state)
{
	fixture *f = *state;
	dev *d = add_dev(f, 0x1000, MS_ENDIAN_LITTLE);

	d->hook = hook_write_target;
	d->target = 0x1010; /* itself, another register */
	assert_int_equal(ms_as_stl_le(f->as, 0x1000, ATTRS, 1), MS_RESULT_OK);
	assert_int_equal(d->nested_result, MS_RESULT_ACCESS_ERROR);
	assert_int_equal(d->nr_log, 1);

	/* The guard is released when the outer access ends. */
	d->hook = NULL;
	assert_int_equal(ms_as_stl_le(f->as, 0x1000, ATTRS, 2), MS_RESULT_OK);
	assert_int_equal(d->nr_log, 2); /* the guard was released */
}

static void test_nested_access_to_other_device_succeeds(void **state)
{
	fixture *f = *state;
	dev *a = add_dev(f, 0x1000, MS_ENDIAN_LITTLE);
	dev *b = add_dev(f, 0x2000, MS_ENDIAN_LITTLE);

	a->hook = hook_write_target;
	a->target = 0x2004;
	assert_int_equal(ms_as_stl_le(f->as, 0x1000, ATTRS, 1), MS_RESULT_OK);
	assert_int_equal(a->nested_result, MS_RESULT_OK);
	assert_int_equal(b->nr_log, 1);
	assert_call(b, 0, true, 4, 4, 0x5a5a5a5a);
}

static void test_reentry_through_a_chain_of_devices_is_access_error(void **state)
{
	fixture *f = *state;
	dev *a = add_dev(f, 0x1000, MS_ENDIAN_LITTLE);
	dev *b = add_dev(f, 0x2000, MS_ENDIAN_LITTLE);

	a->hook = hook_write_target;
	a->target = 0x2000;
	b->hook = hook_write_target;
	b->target = 0x1000; /* back into a, which is still running */
	assert_int_equal(ms_as_stl_le(f->as, 0x1000, ATTRS, 1), MS_RESULT_OK);
	assert_int_equal(a->nested_result, MS_RESULT_OK);
	assert_int_equal(b->nested_result, MS_RESULT_ACCESS_ERROR);
	assert_int_equal(a->nr_log, 1);
	assert_int_equal(b->nr_log, 1);
}

static void test_nesting_depth_is_bounded_per_context(void **state)
{
	fixture *f = *state;
	dev *chain[5];

	for (int i = 0; i < 5; i++)
		chain[i] = add_dev(f, 0x1000 * (uint64_t)(i + 1), MS_ENDIAN_LITTLE);
	for (int i = 0; i < 4; i++) {
		chain[i]->hook = hook_write_target;
		chain[i]->target = chain[i + 1]->base;
	}
	assert_int_equal(ms_ctx_set_max_access_depth(f->ctx, 0), -EINVAL);
	assert_int_equal(ms_ctx_set_max_access_depth(NULL, 3), -EINVAL);
	assert_int_equal(ms_ctx_set_max_access_depth(f->ctx, 3), 0);

	assert_int_equal(ms_as_stl_le(f->as, 0x1000, ATTRS, 1), MS_RESULT_OK);
	assert_int_equal(chain[0]->nr_log, 1);
	assert_int_equal(chain[1]->nr_log, 1);
	assert_int_equal(chain[2]->nr_log, 1);
	assert_int_equal(chain[3]->nr_log, 0);
	assert_int_equal(chain[2]->nested_result, MS_RESULT_ACCESS_ERROR);
	assert_int_equal(chain[1]->nested_result, MS_RESULT_OK);

	assert_int_equal(ms_ctx_set_max_access_depth(f->ctx, MS_ACCESS_DEPTH_DEFAULT), 0);
	assert_int_equal(ms_as_stl_le(f->as, 0x1000, ATTRS, 1), MS_RESULT_OK);
	assert_int_equal(chain[4]->nr_log, 1);
	assert_int_equal(chain[3]->nested_result, MS_RESULT_OK);
}

/* Both threads must be inside the same device's callback at once. */
static void hook_wait_for_other_thread(dev *d, const call *c)
{
	struct timespec start, now;

	(void)c;
	__atomic_add_fetch(&d->inside, 1, __ATOMIC_SEQ_CST);
	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		if (__atomic_load_n(&d->inside, __ATOMIC_SEQ_CST) >= 2) {
			__atomic_store_n(&d->saw_other_thread, true, __ATOMIC_SEQ_CST);
			return;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec - start.tv_sec < 10);
}

typedef struct reader {
	ms_as *as;
	uint64_t addr;
	ms_result result;
} reader;

static void *read_thread(void *arg)
{
	reader *r = arg;

	(void)ms_as_ldl_le(r->as, r->addr, ATTRS, &r->result);
	return NULL;
}

static void test_two_threads_may_access_one_device_at_once(void **state)
{
	fixture *f = *state;
	dev *d = add_dev(f, 0x1000, MS_ENDIAN_LITTLE);
	reader readers[2] = {{f->as, 0x1000, 1}, {f->as, 0x1004, 1}};
	pthread_t threads[2];

	d->hook = hook_wait_for_other_thread;
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&threads[i], NULL, read_thread, &readers[i]), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_join(threads[i], NULL), 0);
	assert_int_equal(readers[0].result, MS_RESULT_OK);
	assert_int_equal(readers[1].result, MS_RESULT_OK);
	assert_true(d->saw_other_thread);
	assert_int_equal(d->nr_log, 2);
}

/* ---- topology changes during an access ---------------------------------------------------- */

static void hook_add_ram_once(dev *d, const call *c)
{
	ms_region *late;

	(void)c;
	if (d->nr_log != 1)
		return;
	d->nested_rc = ms_region_new_ram(&late, ms_region_ctx(d->region), "late", 0x10);
	if (d->nested_rc == 0) {
		d->nested_rc =
			ms_region_add_subregion(ms_region_container(d->region), d->target, late);
		ms_region_unref(late);
	}
}

static void test_callback_may_change_topology_during_access(void **state)
{
	fixture *f = *state;
	dev *d = new_dev(f, MS_ENDIAN_LITTLE);
	uint8_t in[0x20];
	ms_section s;
	uint64_t len = 0x10;

	map_dev(f, d, 0x1000, 0x10);
	d->hook = hook_add_ram_once;
	d->target = 0x1010; /* right after the device */
	memset(in, 0xee, sizeof(in));

	/* The access keeps the view it started with: the new RAM is not in it. */
	assert_int_equal(ms_as_write(f->as, 0x1000, ATTRS, in, sizeof(in)), MS_RESULT_DECODE_ERROR);
	assert_int_equal(d->nested_rc, 0);
	assert_int_equal(d->nr_log, 4);

	/* The next access sees it. */
	ms_rcu_read_lock();
	assert_int_equal(ms_as_translate(&s, &len, f->as, 0x1010,
					 &(ms_access_opts){.is_write = true, .attrs = ATTRS}),
			 0);
	assert_string_equal(ms_region_name(s.region), "late");
	assert_bytes(ms_region_ram_ptr(s.region), 0, 0x10);
	ms_rcu_read_unlock();
	assert_int_equal(ms_as_write(f->as, 0x1000, ATTRS, in, sizeof(in)), MS_RESULT_OK);
	assert_int_equal(ms_as_ldub(f->as, 0x101f, ATTRS, NULL), 0xee);
}

/* ---- scalars across ranges, rw, set ----------------------------------------------------------- */

static void test_scalar_across_ranges_is_assembled_from_pieces(void **state)
{
	fixture *f = *state;
	ms_region *ram0 = add_ram(f, "ram0", 0x1000, 0x10);
	dev *d = new_dev(f, MS_ENDIAN_BIG);
	ms_result res = 1;

	add_ram(f, "ram1", 0x1010, 0x10);
	map_dev(f, d, 0x1020, 0x40);
	assert_int_equal(ms_as_stq_be(f->as, 0x100c, ATTRS, 0x0102030405060708), MS_RESULT_OK);
	assert_int_equal(get_bytes(ram(ram0) + 0xc, 4, true), 0x01020304);
	assert_int_equal(ms_as_ldq_be(f->as, 0x100c, ATTRS, &res), 0x0102030405060708);
	assert_int_equal(res, MS_RESULT_OK);
	assert_int_equal(ms_as_ldl_le(f->as, 0x100e, ATTRS, NULL), 0x06050403);

	/* RAM then device: the device's 3 bytes are bulk pieces (2 + 1). */
	assert_int_equal(ms_as_stl_be(f->as, 0x101f, ATTRS, 0xaabbccdd), MS_RESULT_OK);
	assert_int_equal(d->nr_log, 2);
	assert_call(d, 0, true, 0, 2, 0xbbcc);
	assert_call(d, 1, true, 2, 1, 0xdd);
	assert_int_equal(ms_as_ldl_be(f->as, 0x101f, ATTRS, &res), 0xaabbccdd);
	assert_int_equal(res, MS_RESULT_OK);
}

static void test_set_fills_ram_devices_and_reports_holes(void **state)
{
	fixture *f = *state;
	ms_region *r = add_ram(f, "ram", 0, 0x100);
	dev *d = new_dev(f, MS_ENDIAN_LITTLE);

	map_dev(f, d, 0x100, 0x10);
	assert_int_equal(ms_as_set(f->as, 0x80, ATTRS, 0x3c, 0x100), MS_RESULT_DECODE_ERROR);
	assert_bytes(ram(r) + 0x80, 0x3c, 0x80);
	assert_bytes(d->mem, 0x3c, 0x10);
	assert_int_equal(d->nr_log, 4);
	assert_int_equal(ms_as_set(f->as, 0x0, ATTRS, 0, 0), MS_RESULT_OK);
}

/* ---- translate and access_valid ------------------------------------------------------------------ */

static void test_translate_clamps_length_to_range(void **state)
{
	fixture *f = *state;
	ms_region *r = add_ram(f, "ram", 0x1000, 0x1000);
	ms_section s;
	uint64_t len = 0x2000;

	ms_rcu_read_lock();
	assert_int_equal(ms_as_translate(&s, &len, f->as, 0x1800,
					 &(ms_access_opts){.is_write = false, .attrs = ATTRS}),
			 0);
	assert_ptr_equal(s.region, r);
	assert_int_equal(len, 0x800);
	assert_int_equal(s.start, 0x1800);
	assert_int_equal(s.last, 0x1fff);
	assert_int_equal(s.offset_in_region, 0x800);
	assert_false(s.readonly);

	len = 0x10;
	assert_int_equal(ms_as_translate(&s, &len, f->as, 0x1ff8,
					 &(ms_access_opts){.is_write = true, .attrs = ATTRS}),
			 0);
	assert_int_equal(len, 0x8);
	len = 4;
	assert_int_equal(ms_as_translate(&s, &len, f->as, 0x1000,
					 &(ms_access_opts){.is_write = true, .attrs = ATTRS}),
			 0);
	assert_int_equal(len, 4);
	assert_int_equal(s.last, 0x1003);
	ms_rcu_read_unlock();
}

static void test_translate_reports_holes_and_bad_arguments(void **state)
{
	fixture *f = *state;
	ms_section s;
	uint64_t len = 0x10000;
	ms_region *rom;

	add_ram(f, "ram", 0x8000, 0x1000);
	rom = add_rom(f, "rom", 0x10000, 0x1000);
	ms_rcu_read_lock();
	assert_int_equal(ms_as_translate(&s, &len, f->as, 0x3000,
					 &(ms_access_opts){.is_write = false, .attrs = ATTRS}),
			 -ENOENT);
	assert_null(s.region);
	assert_int_equal(len, 0x5000);
	len = UINT64_MAX;
	assert_int_equal(ms_as_translate(&s, &len, f->as, 0x11000,
					 &(ms_access_opts){.is_write = false, .attrs = ATTRS}),
			 -ENOENT);
	assert_int_equal(len, UINT64_MAX - 0x11000 + 1);

	len = 0x100;
	assert_int_equal(ms_as_translate(&s, &len, f->as, 0x10010,
					 &(ms_access_opts){.is_write = false, .attrs = ATTRS}),
			 0);
	assert_ptr_equal(s.region, rom);
	assert_true(s.readonly);

	len = 0;
	assert_int_equal(ms_as_translate(&s, &len, f->as, 0x8000,
					 &(ms_access_opts){.is_write = false, .attrs = ATTRS}),
			 -EINVAL);
	len = 1;
	assert_int_equal(ms_as_translate(NULL, &len, f->as, 0x8000,
					 &(ms_access_opts){.is_write = false, .attrs = ATTRS}),
			 -EINVAL);
	assert_int_equal(ms_as_translate(&s, NULL, f->as, 0x8000,
					 &(ms_access_opts){.is_write = false, .attrs = ATTRS}),
			 -EINVAL);
	assert_int_equal(ms_as_translate(&s, &len, NULL, 0x8000,
					 &(ms_access_opts){.is_write = false, .attrs = ATTRS}),
			 -EINVAL);
	ms_rcu_read_unlock();
}

static void test_access_valid_probes_without_calling_devices(void **state)
{
	fixture *f = *state;
	dev *d = add_dev(f, 0x2000, MS_ENDIAN_LITTLE);

	add_ram(f, "ram", 0x1000, 0x1000);
	add_rom(f, "rom", 0x3000, 0x1000);
	assert_true(ms_as_access_valid(f->as, 0x1000, 0x1000, true, ATTRS));
	assert_true(ms_as_access_valid(f->as, 0x1800, 0x840, false, ATTRS));  /* RAM + device */
	assert_false(ms_as_access_valid(f->as, 0x1800, 0x900, false, ATTRS)); /* into a hole */
	assert_true(ms_as_access_valid(f->as, 0x3000, 0x10, true, ATTRS));    /* ROM: ignored */
	assert_true(ms_as_access_valid(f->as, 0x5000, 0, true, ATTRS));
	assert_false(ms_as_access_valid(NULL, 0x1000, 1, true, ATTRS));

	/* Bulk pieces of one byte are refused (valid.min counts only with a valid.max). */
	d->ops.valid.min_access_size = 2;
	d->ops.valid.max_access_size = 4;
	assert_false(ms_as_access_valid(f->as, 0x2001, 2, false, ATTRS));
	assert_true(ms_as_access_valid(f->as, 0x2002, 6, false, ATTRS));
	assert_int_equal(d->nr_log, 0);
}

static void test_null_arguments_are_access_errors(void **state)
{
	fixture *f = *state;
	uint8_t buf[4];
	ms_result res = 0;

	add_ram(f, "ram", 0, 0x100);
	assert_int_equal(ms_as_read(NULL, 0, ATTRS, buf, 4), MS_RESULT_ACCESS_ERROR);
	assert_int_equal(ms_as_read(f->as, 0, ATTRS, NULL, 4), MS_RESULT_ACCESS_ERROR);
	assert_int_equal(ms_as_read(f->as, 0, ATTRS, NULL, 0), MS_RESULT_OK);
	assert_int_equal(ms_as_write(f->as, 0, ATTRS, NULL, 4), MS_RESULT_ACCESS_ERROR);
	assert_int_equal(ms_as_write_rom(NULL, 0, buf, 4), MS_RESULT_ACCESS_ERROR);
	assert_int_equal(ms_as_set(NULL, 0, ATTRS, 0, 4), MS_RESULT_ACCESS_ERROR);
	assert_int_equal(ms_as_ldq_le(NULL, 0, ATTRS, &res), 0);
	assert_int_equal(res, MS_RESULT_ACCESS_ERROR);
	assert_int_equal(ms_as_stb(NULL, 0, ATTRS, 1), MS_RESULT_ACCESS_ERROR);
}

/*
 * Scalar loads through a view that builds its flat table under them: the
 * loads that reach the count leave the build to their general path, and
 * every width reads the right bytes before, during and after, in RAM, in
 * holes (decode errors) and across the end of a region (assembled from
 * pieces); a new thread's first load takes the general path too.
 */
static void *load_once(void *arg)
{
	fixture *f = arg;
	ms_result res = MS_RESULT_ACCESS_ERROR;
	uint32_t v = ms_as_ldl_le(f->as, 0x100000 + 5 * 0x2000 + 8, ATTRS, &res);

	return (void *)(uintptr_t)(res == MS_RESULT_OK && v == 0x05050505u);
}

static void test_scalar_loads_while_the_view_builds_its_flat_table(void **state)
{
	fixture *f = *state;
	enum {
		N = 300
	};
	ms_flatview *fv;
	pthread_t thread;
	void *ok = NULL;
	size_t i, loads;
	uint64_t x = 0x9e3779b97f4a7c15u;

	for (i = 0; i < N; i++) {
		char name[16];
		ms_region *r;

		snprintf(name, sizeof(name), "ram%zu", i);
		r = add_ram(f, name, 0x100000 + i * 0x2000, 0x1000);
		memset(ms_region_ram_ptr(r), (int)(i & 0xff), 0x1000);
	}
	fv = ms_as_get_flatview(f->as);
	assert_null(fv->flat);
	loads = 8 * (size_t)fv->flat_after + 64; /* flat_after changes with the build */
	for (i = 0; i < loads; i++) {
		uint64_t k, off, addr;
		ms_result res = 0;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		k = x % N;
		off = (x >> 32) % 0x2000;
		addr = 0x100000 + k * 0x2000 + off;
		if (off <= 0x1000 - 8) {
			uint8_t b = (uint8_t)k;

			assert_int_equal(ms_as_ldub(f->as, addr, ATTRS, &res), b);
			assert_int_equal(ms_as_lduw_be(f->as, addr, ATTRS, &res), b * 0x101u);
			assert_int_equal(ms_as_ldl_le(f->as, addr, ATTRS, &res), b * 0x01010101u);
			assert_int_equal(ms_as_ldq_be(f->as, addr, ATTRS, &res),
					 b * 0x0101010101010101u);
			assert_int_equal(res, MS_RESULT_OK);
		} else if (off < 0x1000) {
			/* The last bytes of the region, then the hole: no fast path. */
			assert_int_equal(ms_as_ldq_le(f->as, addr, ATTRS, &res) & 0xff, (uint8_t)k);
			assert_int_equal(res, MS_RESULT_DECODE_ERROR);
		} else if (off <= 0x2000 - 4) {
			assert_int_equal(ms_as_ldl_le(f->as, addr, ATTRS, &res), 0);
			assert_int_equal(res, MS_RESULT_DECODE_ERROR);
		}
	}
	assert_non_null(fv->flat);
	assert_int_equal(ms__flatview_check(fv), 0);
	ms_flatview_unref(fv);
	assert_int_equal(pthread_create(&thread, NULL, load_once, f), 0);
	assert_int_equal(pthread_join(thread, &ok), 0);
	assert_non_null(ok);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_ram_access_spans_adjacent_ranges),
		T(test_unassigned_bytes_read_zero_with_decode_error),
		T(test_results_of_pieces_are_ored),
		T(test_access_does_not_wrap_past_top_of_address_space),
		T(test_rom_ignores_writes),
		T(test_write_rom_fills_rom_and_skips_devices_and_holes),
		T(test_debug_attr_writes_rom),
		T(test_readonly_alias_over_ram_ignores_writes),
		T(test_rom_device_reads_ram_in_romd_mode_and_writes_through_ops),
		T(test_rom_device_outside_romd_mode_reads_through_ops),
		T(test_write_rom_skips_rom_device_outside_romd_mode),
		T(test_debug_write_to_rom_device_in_romd_mode_writes_its_ram),
		T(test_ram_device_accesses_land_at_any_alignment),
		T(test_reentrant_access_to_same_device_is_access_error),
		T(test_nested_access_to_other_device_succeeds),
		T(test_reentry_through_a_chain_of_devices_is_access_error),
		T(test_nesting_depth_is_bounded_per_context),
		T(test_two_threads_may_access_one_device_at_once),
		T(test_callback_may_change_topology_during_access),
		T(test_scalar_across_ranges_is_assembled_from_pieces),
		T(test_set_fills_ram_devices_and_reports_holes),
		T(test_translate_clamps_length_to_range),
		T(test_translate_reports_holes_and_bad_arguments),
		T(test_access_valid_probes_without_calling_devices),
		T(test_null_arguments_are_access_errors),
		T(test_scalar_loads_while_the_view_builds_its_flat_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
