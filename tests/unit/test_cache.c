/*
 * test_cache.c: region caches (cache.h): the direct path over RAM, the slow
 * path over devices and failed translations, bounds, byte order, and
 * staleness: a commit that moves the memory, an IOMMU UNMAP (with and
 * without a new MAP) and ms_cache_invalidate(), with checks that stale
 * memory is never touched.
 *
 * Layout: "mem" has RAM at 0 (1 MiB) and a device at 0x200000 (a byte
 * register file); "dma" has the test IOMMU (test_iommu_support.h) at 0
 * translating into "mem".
 *
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "ms_unit.h"

#include "test_iommu_support.h"

#define ATTRS MS_ATTRS_UNSPECIFIED
#define PAGE 0x1000u
#define RAM_SIZE 0x100000u
#define DEV_BASE 0x200000u

typedef struct fixture {
	ms_ctx *ctx;
	ms_region *memroot, *ram, *ram2, *dev, *dmaroot;
	ms_as *mem, *dma;
	uint8_t *ramp;
	uint8_t regs[64];
	unsigned dev_calls;
	test_iommu t;
} fixture;

static uint64_t dev_read(uint64_t addr, unsigned size, void *opaque)
{
	fixture *f = opaque;
	uint64_t v = 0;

	f->dev_calls++;
	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)f->regs[addr + i] << (8 * i);
	return v;
}

static void dev_write(uint64_t addr, uint64_t data, unsigned size, void *opaque)
{
	fixture *f = opaque;

	f->dev_calls++;
	for (unsigned i = 0; i < size; i++)
		f->regs[addr + i] = (uint8_t)(data >> (8 * i));
}

static const ms_region_ops dev_ops = {
	.version = MS_REGION_OPS_VERSION,
	.read = dev_read,
	.write = dev_write,
	.endianness = MS_ENDIAN_LITTLE,
	.valid = {.max_access_size = 8},
	.impl = {.max_access_size = 8},
};

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->ctx = new_ctx();
	assert_int_equal(ms_region_new_container(&f->memroot, f->ctx, "memroot", MS_SIZE_2_64), 0);
	assert_int_equal(ms_region_new_ram(&f->ram, f->ctx, "ram", RAM_SIZE), 0);
	assert_int_equal(ms_region_new_ram(&f->ram2, f->ctx, "ram2", RAM_SIZE), 0);
	assert_int_equal(
		ms_region_new_io(&f->dev, f->ctx,
				 &(ms_region_io_opts){
					 .name = "dev", .size = 64, .ops = &dev_ops, .opaque = f}),
		0);
	assert_int_equal(ms_region_add_subregion(f->memroot, 0, f->ram), 0);
	assert_int_equal(ms_region_add_subregion(f->memroot, DEV_BASE, f->dev), 0);
	assert_int_equal(ms_as_new(&f->mem, f->ctx, f->memroot, "mem"), 0);
	assert_int_equal(ms_region_new_container(&f->dmaroot, f->ctx, "dmaroot", MS_SIZE_2_64), 0);
	assert_int_equal(ms_as_new(&f->dma, f->ctx, f->dmaroot, "dma"), 0);
	pt_init(&f->t, f->ctx, "iommu", PT_PAGES * PAGE, f->mem, 1);
	assert_int_equal(ms_region_add_subregion(f->dmaroot, 0, f->t.region), 0);
	f->ramp = ms_region_ram_ptr(f->ram);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	ms_region_unref(f->t.region);
	ms_region_unref(f->ram);
	ms_region_unref(f->ram2);
	ms_region_unref(f->dev);
	ms_region_unref(f->memroot);
	ms_region_unref(f->dmaroot);
	ms_ctx_free(f->ctx);
	free(f);
	return 0;
}

static void test_cache_over_ram_is_direct(void **state)
{
	fixture *f = *state;
	ms_cache c;
	uint8_t buf[4];
	ms_result r;

	assert_int_equal(ms_cache_init(&c, f->mem, 0x1000, 0x100, true), 0);
	assert_true(ms_cache_is_direct(&c, false));
	assert_true(ms_cache_is_direct(&c, true));
	assert_int_equal(ms_cache_stl_le(&c, 0x10, 0x11223344), MS_RESULT_OK);
	assert_int_equal(f->ramp[0x1010], 0x44);
	assert_int_equal(ms_cache_ldl_le(&c, 0x10, &r), 0x11223344);
	assert_int_equal(r, MS_RESULT_OK);
	assert_int_equal(ms_cache_ldl_be(&c, 0x10, &r), 0x44332211);
	assert_int_equal(ms_cache_stw_be(&c, 0x20, 0xabcd), MS_RESULT_OK);
	assert_int_equal(f->ramp[0x1020], 0xab);
	assert_int_equal(ms_cache_lduw_le(&c, 0x20, NULL), 0xcdab);
	assert_int_equal(ms_cache_stq_be(&c, 0x30, 0x0102030405060708u), MS_RESULT_OK);
	assert_int_equal(ms_cache_ldq_le(&c, 0x30, NULL), 0x0807060504030201u);
	assert_int_equal(ms_cache_ldq_be(&c, 0x30, NULL), 0x0102030405060708u);
	assert_int_equal(ms_cache_stb(&c, 0xff, 0x5a), MS_RESULT_OK);
	assert_int_equal(ms_cache_ldub(&c, 0xff, NULL), 0x5a);
	assert_int_equal(ms_cache_stw_le(&c, 0x40, 0x1234), MS_RESULT_OK);
	assert_int_equal(ms_cache_lduw_be(&c, 0x40, NULL), 0x3412);
	assert_int_equal(ms_cache_stl_be(&c, 0x44, 0x01020304), MS_RESULT_OK);
	assert_int_equal(ms_cache_stq_le(&c, 0x48, 1), MS_RESULT_OK);
	assert_int_equal(ms_cache_write(&c, 0x50, "abcd", 4), MS_RESULT_OK);
	assert_memory_equal(f->ramp + 0x1050, "abcd", 4);
	assert_int_equal(ms_cache_read(&c, 0x50, buf, 4), MS_RESULT_OK);
	assert_memory_equal(buf, "abcd", 4);
	ms_cache_destroy(&c);
	ms_cache_destroy(&c); /* twice is harmless */
	ms_cache_destroy(NULL);
}

static void test_cache_read_only_over_rom_like_ranges(void **state)
{
	fixture *f = *state;
	ms_region *rom;
	ms_cache c;

	assert_int_equal(ms_region_new_rom(&rom, f->ctx, "rom", PAGE), 0);
	assert_int_equal(ms_region_add_subregion(f->memroot, 0x300000, rom), 0);
	assert_int_equal(ms_cache_init(&c, f->mem, 0x300000, 16, true), 0);
	assert_true(ms_cache_is_direct(&c, false));
	assert_false(ms_cache_is_direct(&c, true));
	/* Writes take the slow path: ignored like any write to ROM. */
	assert_int_equal(ms_cache_stl_le(&c, 0, 0xffffffff), MS_RESULT_OK);
	assert_int_equal(ms_cache_ldl_le(&c, 0, NULL), 0);
	ms_cache_destroy(&c);
	assert_int_equal(ms_region_del_subregion(f->memroot, rom), 0);
	ms_region_unref(rom);
}

static void test_cache_over_a_device_takes_the_slow_path(void **state)
{
	fixture *f = *state;
	ms_cache c;
	ms_result r;

	assert_int_equal(ms_cache_init(&c, f->mem, DEV_BASE, 64, true), 0);
	assert_false(ms_cache_is_direct(&c, false));
	assert_int_equal(ms_cache_stl_le(&c, 8, 0xcafef00d), MS_RESULT_OK);
	assert_int_equal(f->dev_calls, 1); /* one 4-byte device access */
	assert_int_equal(ms_cache_ldl_le(&c, 8, &r), 0xcafef00d);
	assert_int_equal(f->dev_calls, 2);
	ms_cache_destroy(&c);
	/* A stretch across RAM and a hole: slow path, with the hole's decode error. */
	assert_int_equal(ms_cache_init(&c, f->mem, RAM_SIZE - 2, 4, false), 0);
	assert_false(ms_cache_is_direct(&c, false));
	(void)ms_cache_ldl_le(&c, 0, &r);
	assert_int_equal(r, MS_RESULT_DECODE_ERROR);
	ms_cache_destroy(&c);
}

static void test_cache_bounds_and_bad_input(void **state)
{
	fixture *f = *state;
	ms_cache c;
	uint8_t buf[4] = {1, 2, 3, 4};
	ms_result r = MS_RESULT_OK;

	assert_int_equal(ms_cache_init(NULL, f->mem, 0, 1, false), -EINVAL);
	assert_int_equal(ms_cache_init(&c, NULL, 0, 1, false), -EINVAL);
	assert_int_equal(ms_cache_init(&c, f->mem, 0, 0, false), -EINVAL);
	assert_int_equal(ms_cache_init(&c, f->mem, UINT64_MAX, 2, false), -EINVAL);
	assert_null(ms__cache_state(&c)->as); /* zero-filled: a destroyed cache */
	assert_int_equal(ms_cache_init(&c, f->mem, UINT64_MAX, 1, false), 0);
	ms_cache_destroy(&c);
	assert_int_equal(ms_cache_init(&c, f->mem, 0x1000, 16, true), 0);
	assert_int_equal(ms_cache_read(&c, 14, buf, 4), MS_RESULT_ACCESS_ERROR);
	assert_memory_equal(buf, "\0\0\0\0", 4);
	assert_int_equal(ms_cache_write(&c, 13, "abcd", 4), MS_RESULT_ACCESS_ERROR);
	assert_int_equal(f->ramp[0x100d], 0);
	assert_int_equal(ms_cache_ldl_le(&c, 13, &r), 0);
	assert_int_equal(r, MS_RESULT_ACCESS_ERROR);
	assert_int_equal(ms_cache_stq_le(&c, UINT64_MAX, 1), MS_RESULT_ACCESS_ERROR);
	assert_int_equal(ms_cache_read(&c, 0, NULL, 1), MS_RESULT_ACCESS_ERROR);
	assert_int_equal(ms_cache_read(&c, 0, NULL, 0), MS_RESULT_OK);
	assert_int_equal(ms_cache_write(NULL, 0, buf, 1), MS_RESULT_ACCESS_ERROR);
	assert_int_equal(ms_cache_ldub(NULL, 0, &r), 0);
	assert_int_equal(r, MS_RESULT_ACCESS_ERROR);
	ms_cache_destroy(&c);
	/* A destroyed cache refuses accesses. */
	assert_int_equal(ms_cache_stb(&c, 0, 1), MS_RESULT_ACCESS_ERROR);
}

static void test_cache_follows_a_commit(void **state)
{
	fixture *f = *state;
	uint8_t *ram2 = ms_region_ram_ptr(f->ram2);
	ms_cache c;

	assert_int_equal(ms_cache_init(&c, f->mem, 0x2000, 16, true), 0);
	assert_int_equal(ms_cache_stb(&c, 0, 1), MS_RESULT_OK);
	assert_int_equal(f->ramp[0x2000], 1);
	/* ram2 now covers 0x2000 (higher priority): the cache must write there. */
	assert_int_equal(ms_region_add_subregion_overlap(f->memroot, 0, f->ram2, 1), 0);
	assert_int_equal(ms_cache_stb(&c, 0, 2), MS_RESULT_OK);
	assert_int_equal(ram2[0x2000], 2);
	assert_int_equal(f->ramp[0x2000], 1);
	/* And the memory it points into is gone from the map: nothing answers. */
	assert_int_equal(ms_region_del_subregion(f->memroot, f->ram2), 0);
	assert_int_equal(ms_region_del_subregion(f->memroot, f->ram), 0);
	assert_int_equal(ms_cache_stb(&c, 0, 3), MS_RESULT_DECODE_ERROR);
	assert_int_equal(f->ramp[0x2000], 1);
	assert_int_equal(ram2[0x2000], 2);
	assert_int_equal(ms_region_add_subregion(f->memroot, 0, f->ram), 0);
	ms_cache_destroy(&c);
}

static void test_cache_is_stale_after_an_iommu_unmap(void **state)
{
	fixture *f = *state;
	ms_cache c;
	ms_result r;

	f->t.table[0][1] = (pte){0x5000, MS_IOMMU_RW};
	assert_int_equal(ms_cache_init(&c, f->dma, PAGE + 0x10, 0x20, true), 0);
	assert_true(ms_cache_is_direct(&c, true));
	assert_int_equal(ms_cache_stl_le(&c, 0, 0xaaaaaaaa), MS_RESULT_OK);
	assert_int_equal(f->ramp[0x5010], 0xaa);

	/* Moved in place: UNMAP then MAP. The cache writes the new page only. */
	assert_int_equal(pt_map(&f->t, 0, 1, 0x7000, MS_IOMMU_RW), 0);
	assert_int_equal(ms_cache_stl_le(&c, 0, 0xbbbbbbbb), MS_RESULT_OK);
	assert_int_equal(f->ramp[0x7010], 0xbb);
	assert_int_equal(f->ramp[0x5010], 0xaa);
	assert_int_equal(ms_cache_ldl_le(&c, 0, &r), 0xbbbbbbbb);

	/* Unmapped: access error, and the old page is left alone. */
	assert_int_equal(pt_unmap(&f->t, 0, 1), 0);
	assert_int_equal(ms_cache_stl_le(&c, 0, 0xcccccccc), MS_RESULT_ACCESS_ERROR);
	assert_int_equal(ms_cache_ldl_le(&c, 0, &r), 0);
	assert_int_equal(r, MS_RESULT_ACCESS_ERROR);
	assert_int_equal(f->ramp[0x7010], 0xbb);
	assert_false(ms_cache_is_direct(&c, true));

	/* Mapped again (read-only): the cache finds it after the MAP. */
	assert_int_equal(pt_map(&f->t, 0, 1, 0x9000, MS_IOMMU_RO), 0);
	f->ramp[0x9010] = 0x42;
	assert_int_equal(ms_cache_ldub(&c, 0, &r), 0x42);
	assert_int_equal(r, MS_RESULT_OK);
	/* A write cache translates for writing: read-only means the slow path. */
	assert_false(ms_cache_is_direct(&c, false));
	assert_int_equal(ms_cache_stb(&c, 0, 1), MS_RESULT_ACCESS_ERROR);
	assert_int_equal(f->ramp[0x9010], 0x42);
	ms_cache_destroy(&c);
	/* A read cache over the same page is direct. */
	assert_int_equal(ms_cache_init(&c, f->dma, PAGE + 0x10, 0x20, false), 0);
	assert_true(ms_cache_is_direct(&c, false));
	assert_int_equal(ms_cache_ldub(&c, 0, &r), 0x42);
	ms_cache_destroy(&c);
}

static void test_cache_across_iommu_pages_is_slow_but_correct(void **state)
{
	fixture *f = *state;
	ms_cache c;

	f->t.table[0][1] = (pte){0x5000, MS_IOMMU_RW};
	f->t.table[0][2] = (pte){0x3000, MS_IOMMU_RW};
	assert_int_equal(ms_cache_init(&c, f->dma, 2 * PAGE - 2, 4, true), 0);
	assert_false(ms_cache_is_direct(&c, true));
	assert_int_equal(ms_cache_stl_le(&c, 0, 0x44332211), MS_RESULT_OK);
	assert_int_equal(f->ramp[0x5ffe], 0x11);
	assert_int_equal(f->ramp[0x3001], 0x44);
	ms_cache_destroy(&c);
}

static void test_invalidate_drops_the_translation(void **state)
{
	fixture *f = *state;
	ms_flatview *view = ms_as_get_flatview(f->mem);
	uint32_t refs = __atomic_load_n(&view->refcount, __ATOMIC_RELAXED);
	ms_cache c;

	assert_int_equal(ms_cache_init(&c, f->mem, 0x1000, 16, false), 0);
	assert_int_equal(__atomic_load_n(&view->refcount, __ATOMIC_RELAXED), refs + 1);
	ms_cache_invalidate(&c);
	assert_int_equal(__atomic_load_n(&view->refcount, __ATOMIC_RELAXED), refs);
	assert_false(ms_cache_is_direct(&c, false));
	f->ramp[0x1003] = 9;
	assert_int_equal(ms_cache_ldub(&c, 3, NULL), 9);
	assert_true(ms_cache_is_direct(&c, false));
	ms_cache_invalidate(NULL);
	ms_cache_destroy(&c);
	assert_int_equal(__atomic_load_n(&view->refcount, __ATOMIC_RELAXED), refs);
	ms_flatview_unref(view);
}

static void test_cache_path_longer_than_tracked_still_works(void **state)
{
	fixture *f = *state;
	test_iommu *hop[MS_CACHE_MAX_HOPS];
	ms_region *root[MS_CACHE_MAX_HOPS];
	ms_as *as[MS_CACHE_MAX_HOPS];
	ms_as *target = f->dma;
	ms_cache c;

	/* as[k] -> hop[k] -> ... -> dma -> iommu -> mem: MS_CACHE_MAX_HOPS + 2 spaces. */
	f->t.table[0][0] = (pte){0x4000, MS_IOMMU_RW};
	for (int k = 0; k < MS_CACHE_MAX_HOPS; k++) {
		hop[k] = calloc(1, sizeof(*hop[k]));
		assert_non_null(hop[k]);
		pt_init(hop[k], f->ctx, "hop", PT_PAGES * PAGE, target, 1);
		hop[k]->table[0][0] = (pte){0, MS_IOMMU_RW};
		assert_int_equal(ms_region_new_container(&root[k], f->ctx, "r", MS_SIZE_2_64), 0);
		assert_int_equal(ms_region_add_subregion(root[k], 0, hop[k]->region), 0);
		assert_int_equal(ms_as_new(&as[k], f->ctx, root[k], "as"), 0);
		target = as[k];
	}
	assert_int_equal(ms_cache_init(&c, target, 0, 16, true), 0);
	assert_false(ms_cache_is_direct(&c, true));
	assert_int_equal(ms_cache_stb(&c, 1, 0x77), MS_RESULT_OK);
	assert_int_equal(f->ramp[0x4001], 0x77);
	ms_cache_destroy(&c);
	for (int k = MS_CACHE_MAX_HOPS - 1; k >= 0; k--) {
		ms_as_free(as[k]);
		ms_region_unref(root[k]);
		ms_region_unref(hop[k]->region);
		free(hop[k]);
	}
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_cache_over_ram_is_direct),
		T(test_cache_read_only_over_rom_like_ranges),
		T(test_cache_over_a_device_takes_the_slow_path),
		T(test_cache_bounds_and_bad_input),
		T(test_cache_follows_a_commit),
		T(test_cache_is_stale_after_an_iommu_unmap),
		T(test_cache_across_iommu_pages_is_slow_but_correct),
		T(test_invalidate_drops_the_translation),
		T(test_cache_path_longer_than_tracked_still_works),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
