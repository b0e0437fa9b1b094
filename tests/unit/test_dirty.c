/*
 * test_dirty.c: dirty tracking (dirty.h): every write path marks the pages
 * of the clients logging the region written and only those; client and
 * global-logging semantics; the edge cases of get/set/reset; snapshots and
 * their rounding to 64-page words; the dirty page size; the listener hooks
 * (log_clear, log_global_try_start with rollback); and a property test
 * against a reference model of one byte per page per client.
 *
 * The machine: "ram" (16 pages) at 0 and "other" (16 pages) at 0x100000 of
 * "sys", an alias of "ram" at 0x200000, a ROM at 0x300000, and a DMA
 * address space behind a test IOMMU that maps its pages onto "sys".
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

#include "ms_rng.h"
#include "test_iommu_support.h"

#define ATTRS MS_ATTRS_UNSPECIFIED
#define PAGE 0x1000u
#define NPAGES 16u
#define RAM_SIZE (NPAGES * PAGE)
#define OTHER_BASE 0x100000u
#define ALIAS_BASE 0x200000u
#define ROM_BASE 0x300000u

typedef struct fixture {
	ms_ctx *ctx;
	ms_region *sys, *ram, *other, *alias, *rom, *dmaroot;
	ms_as *as, *dma;
	test_iommu t;
	/* The region a writer writes, and its address in "sys". */
	ms_region *target;
	uint64_t target_base;
	strbuf sb;
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->ctx = new_ctx();
	f->sys = new_container(f->ctx, "sys", MS_SIZE_2_64);
	f->ram = place_ram(f->ctx, f->sys, "ram", 0, RAM_SIZE);
	f->other = place_ram(f->ctx, f->sys, "other", OTHER_BASE, RAM_SIZE);
	f->alias = new_alias(f->ctx, "ram-alias", f->ram, 0, RAM_SIZE);
	assert_int_equal(ms_region_add_subregion(f->sys, ALIAS_BASE, f->alias), 0);
	f->rom = new_rom(f->ctx, "rom", RAM_SIZE);
	assert_int_equal(ms_region_add_subregion(f->sys, ROM_BASE, f->rom), 0);
	f->as = new_as(f->ctx, f->sys, "as");
	f->dmaroot = new_container(f->ctx, "dmaroot", MS_SIZE_2_64);
	pt_init(&f->t, f->ctx, "iommu", PT_PAGES * PAGE, f->as, 1);
	assert_int_equal(ms_region_add_subregion(f->dmaroot, 0, f->t.region), 0);
	f->dma = new_as(f->ctx, f->dmaroot, "dma");
	/* IOMMU page i -> "ram" page NPAGES - 1 - i (reversed, so a mistake shows). */
	for (unsigned i = 0; i < NPAGES; i++)
		f->t.table[0][i] = (pte){(NPAGES - 1 - i) * PAGE, MS_IOMMU_RW};
	f->target = f->ram;
	f->target_base = 0;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	ms_as_free(f->dma);
	ms_as_free(f->as);
	ms_region_unref(f->t.region);
	ms_region_unref(f->dmaroot);
	ms_region_unref(f->alias);
	ms_region_unref(f->rom);
	ms_region_unref(f->sys);
	ms_ctx_free(f->ctx);
	free(f);
	return 0;
}

/* One character per page of @r: '1' dirty for @client, '0' clean. */
static const char *dirty_str(fixture *f, ms_region *r, unsigned client)
{
	uint64_t size = ms_region_size(r);

	sb_reset(&f->sb);
	for (uint64_t off = 0; off < size; off += PAGE) {
		uint64_t n = size - off < PAGE ? size - off : PAGE;

		sb_printf(&f->sb, "%c", ms_region_get_dirty(r, off, n, client) ? '1' : '0');
	}
	return f->sb.text;
}

/* The pages [@first, @last] of a 16-page region as dirty_str() shows them. */
static const char *pages_str(char buf[NPAGES + 1], unsigned first, unsigned last)
{
	for (unsigned i = 0; i < NPAGES; i++)
		buf[i] = i >= first && i <= last ? '1' : '0';
	buf[NPAGES] = '\0';
	return buf;
}

#define CLEAN "0000000000000000"

/* ---- every write path ----------------------------------------------------------- */

/* Write [offset, offset + len) of f->target through one path. */
typedef void writer_fn(fixture *f, uint64_t offset, size_t len);

/*
 * With no client logging (client 5 logged once, so its bitmap exists) the
 * write marks nothing; with VGA and client 3 logging f->target and CODE
 * logging another region, it marks exactly its pages for VGA and 3.
 */
static void check_write_path(fixture *f, writer_fn *write, uint64_t offset, size_t len)
{
	ms_region *elsewhere = f->target == f->other ? f->ram : f->other;
	char want[NPAGES + 1];

	assert_int_equal(ms_region_set_dirty_log(f->target, 5, true), 0);
	assert_int_equal(ms_region_set_dirty_log(f->target, 5, false), 0);
	assert_int_equal(ms_region_dirty_log_mask(f->target), 0);
	write(f, offset, len);
	for (unsigned c = 0; c < MS_DIRTY_CLIENTS; c++)
		assert_string_equal(dirty_str(f, f->target, c), CLEAN);

	assert_int_equal(ms_region_set_dirty_log(f->target, MS_DIRTY_VGA, true), 0);
	assert_int_equal(ms_region_set_dirty_log(f->target, 3, true), 0);
	assert_int_equal(ms_region_set_dirty_log(elsewhere, MS_DIRTY_CODE, true), 0);
	assert_int_equal(ms_region_dirty_log_mask(f->target), (1u << MS_DIRTY_VGA) | (1u << 3));
	write(f, offset, len);
	pages_str(want, (unsigned)(offset / PAGE), (unsigned)((offset + len - 1) / PAGE));
	assert_string_equal(dirty_str(f, f->target, MS_DIRTY_VGA), want);
	assert_string_equal(dirty_str(f, f->target, 3), want);
	for (unsigned c = 0; c < MS_DIRTY_CLIENTS; c++)
		if (c != MS_DIRTY_VGA && c != 3)
			assert_string_equal(dirty_str(f, f->target, c), CLEAN);
	assert_string_equal(dirty_str(f, elsewhere, MS_DIRTY_CODE), CLEAN);
	assert_string_equal(dirty_str(f, elsewhere, MS_DIRTY_VGA), CLEAN);
}

static void fill_pattern(uint8_t *buf, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 31 + seed);
}

static void expect_bytes(fixture *f, uint64_t offset, size_t len, unsigned seed)
{
	uint8_t *mem = (uint8_t *)ms_region_ram_ptr(f->target) + offset;

	for (size_t i = 0; i < len; i++)
		assert_int_equal(mem[i], (uint8_t)(i * 31 + seed));
}

static void w_as_write(fixture *f, uint64_t offset, size_t len)
{
	uint8_t buf[4 * PAGE];

	assert_true(len <= sizeof(buf));
	fill_pattern(buf, len, 1);
	assert_int_equal(ms_as_write(f->as, f->target_base + offset, ATTRS, buf, len),
			 MS_RESULT_OK);
	expect_bytes(f, offset, len, 1);
}

static void test_as_write_marks_the_pages_it_writes(void **state)
{
	check_write_path(*state, w_as_write, 0x1800, 2 * PAGE); /* pages 1..3 */
}

static void test_as_write_of_one_byte_marks_one_page(void **state)
{
	check_write_path(*state, w_as_write, 0xffff, 1); /* the last byte */
}

static unsigned store_width;
static bool store_big_endian;

static void w_store(fixture *f, uint64_t offset, size_t len)
{
	uint64_t addr = f->target_base + offset;
	ms_result res = MS_RESULT_ACCESS_ERROR;

	assert_int_equal(len, store_width);
	switch (store_width) {
	case 1:
		res = ms_as_stb(f->as, addr, ATTRS, 0xab);
		break;
	case 2:
		res = store_big_endian ? ms_as_stw_be(f->as, addr, ATTRS, 0xabcd)
				       : ms_as_stw_le(f->as, addr, ATTRS, 0xabcd);
		break;
	case 4:
		res = store_big_endian ? ms_as_stl_be(f->as, addr, ATTRS, 0xabcdef01)
				       : ms_as_stl_le(f->as, addr, ATTRS, 0xabcdef01);
		break;
	default:
		res = store_big_endian ? ms_as_stq_be(f->as, addr, ATTRS, 0x0123456789abcdefull)
				       : ms_as_stq_le(f->as, addr, ATTRS, 0x0123456789abcdefull);
		break;
	}
	assert_int_equal(res, MS_RESULT_OK);
	/* The value landed, in the byte order asked for. */
	switch (store_width) {
	case 1:
		assert_int_equal(ms_as_ldub(f->as, addr, ATTRS, NULL), 0xab);
		break;
	case 2:
		assert_int_equal(store_big_endian ? ms_as_lduw_be(f->as, addr, ATTRS, NULL)
						  : ms_as_lduw_le(f->as, addr, ATTRS, NULL),
				 0xabcd);
		break;
	case 4:
		assert_int_equal(store_big_endian ? ms_as_ldl_be(f->as, addr, ATTRS, NULL)
						  : ms_as_ldl_le(f->as, addr, ATTRS, NULL),
				 0xabcdef01);
		break;
	default:
		assert_int_equal(store_big_endian ? ms_as_ldq_be(f->as, addr, ATTRS, NULL)
						  : ms_as_ldq_le(f->as, addr, ATTRS, NULL),
				 0x0123456789abcdefull);
		break;
	}
}

/* Each store width and byte order; the wider ones straddle pages 4 and 5. */
static void store_case(void **state, unsigned width, bool big_endian, uint64_t offset)
{
	fixture *f = *state;

	store_width = width;
	store_big_endian = big_endian;
	check_write_path(f, w_store, offset, width);
}

static void test_stb_marks_its_page(void **state)
{
	store_case(state, 1, false, 0x4fff);
}

static void test_stw_le_marks_both_pages_it_straddles(void **state)
{
	store_case(state, 2, false, 0x4fff);
}

static void test_stw_be_marks_both_pages_it_straddles(void **state)
{
	store_case(state, 2, true, 0x4fff);
}

static void test_stl_le_marks_both_pages_it_straddles(void **state)
{
	store_case(state, 4, false, 0x4ffe);
}

static void test_stl_be_marks_its_page(void **state)
{
	store_case(state, 4, true, 0x4000);
}

static void test_stq_le_marks_both_pages_it_straddles(void **state)
{
	store_case(state, 8, false, 0x4ffc);
}

static void test_stq_be_marks_both_pages_it_straddles(void **state)
{
	store_case(state, 8, true, 0x4ffc);
}

static void w_as_set(fixture *f, uint64_t offset, size_t len)
{
	assert_int_equal(ms_as_set(f->as, f->target_base + offset, ATTRS, 0x5a, len), MS_RESULT_OK);
	assert_int_equal(((uint8_t *)ms_region_ram_ptr(f->target))[offset + len - 1], 0x5a);
}

static void test_as_set_marks_the_pages_it_fills(void **state)
{
	check_write_path(*state, w_as_set, 0x2000, 3 * PAGE + 1); /* pages 2..5 */
}

static void w_write_rom(fixture *f, uint64_t offset, size_t len)
{
	uint8_t buf[4 * PAGE];

	fill_pattern(buf, len, 2);
	assert_int_equal(ms_as_write_rom(f->as, f->target_base + offset, buf, len), MS_RESULT_OK);
	expect_bytes(f, offset, len, 2);
}

static void test_loader_into_rom_marks_the_rom(void **state)
{
	fixture *f = *state;

	f->target = f->rom;
	f->target_base = ROM_BASE;
	check_write_path(f, w_write_rom, 0x3000, 2 * PAGE); /* pages 3..4 */
}

static void test_plain_write_to_rom_marks_nothing(void **state)
{
	fixture *f = *state;
	uint8_t buf[16] = {1};

	assert_int_equal(ms_region_set_dirty_log(f->rom, MS_DIRTY_VGA, true), 0);
	assert_int_equal(ms_as_write(f->as, ROM_BASE, ATTRS, buf, sizeof(buf)), MS_RESULT_OK);
	assert_string_equal(dirty_str(f, f->rom, MS_DIRTY_VGA), CLEAN);
}

static void w_dispatch(fixture *f, uint64_t offset, size_t len)
{
	assert_int_equal(ms_region_dispatch_write(f->target, offset, 0x1122334455667788ull,
						  (unsigned)len, ATTRS),
			 MS_RESULT_OK);
}

static void test_dispatch_write_marks_the_pages_it_writes(void **state)
{
	check_write_path(*state, w_dispatch, 0x6ffc, 8); /* pages 6..7 */
}

static void w_dma_write(fixture *f, uint64_t offset, size_t len)
{
	uint8_t buf[4 * PAGE];

	fill_pattern(buf, len, 3);
	assert_int_equal(ms_as_dma_write(f->as, f->target_base + offset, buf, len, ATTRS),
			 MS_RESULT_OK);
	expect_bytes(f, offset, len, 3);
}

static void w_dma_set(fixture *f, uint64_t offset, size_t len)
{
	assert_int_equal(ms_as_dma_set(f->as, f->target_base + offset, 0x77, len, ATTRS),
			 MS_RESULT_OK);
}

static void test_dma_write_marks_the_pages_it_writes(void **state)
{
	check_write_path(*state, w_dma_write, 0x8000, PAGE); /* page 8 */
}

static void test_dma_set_marks_the_pages_it_fills(void **state)
{
	check_write_path(*state, w_dma_set, 0x8fff, PAGE + 2); /* pages 8..9 */
}

static void w_map_direct(fixture *f, uint64_t offset, size_t len)
{
	uint64_t got = len;
	uint8_t *p = ms_as_map(f->as, f->target_base + offset, &got, true, ATTRS);

	assert_ptr_equal(p, (uint8_t *)ms_region_ram_ptr(f->target) + offset);
	assert_int_equal(got, len);
	fill_pattern(p, len, 4);
	/* Nothing is marked while the mapping is held: the write is not over. */
	for (unsigned c = 0; c < MS_DIRTY_CLIENTS; c++)
		assert_string_equal(dirty_str(f, f->target, c), CLEAN);
	assert_int_equal(ms_as_unmap(f->as, p, got, true, len), 0);
}

static void test_direct_mapping_marks_at_unmap(void **state)
{
	check_write_path(*state, w_map_direct, 0xa000, 2 * PAGE); /* pages 10..11 */
}

static void test_unmap_marks_only_access_len(void **state)
{
	fixture *f = *state;
	uint64_t len = 4 * PAGE;
	uint8_t *p;

	assert_int_equal(ms_region_set_dirty_log(f->ram, MS_DIRTY_VGA, true), 0);
	p = ms_as_map(f->as, 0x2000, &len, true, ATTRS);
	assert_non_null(p);
	assert_int_equal(len, 4 * PAGE);
	assert_int_equal(ms_as_unmap(f->as, p, len, true, PAGE + 1), 0);
	assert_string_equal(dirty_str(f, f->ram, MS_DIRTY_VGA), "0011000000000000");
	/* A read mapping, or a write one with access_len 0, marks nothing. */
	assert_int_equal(ms_region_reset_dirty(f->ram, 0, RAM_SIZE, MS_DIRTY_VGA), 0);
	len = PAGE;
	p = ms_as_map(f->as, 0x2000, &len, false, ATTRS);
	assert_int_equal(ms_as_unmap(f->as, p, len, false, len), 0);
	len = PAGE;
	p = ms_as_map(f->as, 0x2000, &len, true, ATTRS);
	assert_int_equal(ms_as_unmap(f->as, p, len, true, 0), 0);
	assert_string_equal(dirty_str(f, f->ram, MS_DIRTY_VGA), CLEAN);
}

/* A debugger's write mapping of ROM is a bounce buffer written back at unmap. */
static void w_map_bounce(fixture *f, uint64_t offset, size_t len)
{
	ms_attrs debug = {.debug = 1};
	uint64_t got = len;
	uint8_t *p = ms_as_map(f->as, f->target_base + offset, &got, true, debug);

	assert_non_null(p);
	assert_ptr_not_equal(p, (uint8_t *)ms_region_ram_ptr(f->target) + offset);
	assert_int_equal(got, len);
	fill_pattern(p, len, 5);
	for (unsigned c = 0; c < MS_DIRTY_CLIENTS; c++)
		assert_string_equal(dirty_str(f, f->target, c), CLEAN);
	assert_int_equal(ms_as_unmap(f->as, p, got, true, len), 0);
	expect_bytes(f, offset, len, 5);
}

static void test_bounce_mapping_marks_when_written_back(void **state)
{
	fixture *f = *state;

	f->target = f->rom;
	f->target_base = ROM_BASE;
	check_write_path(f, w_map_bounce, 0x1000, 100); /* page 1 */
}

static void w_cache_write(fixture *f, uint64_t offset, size_t len)
{
	ms_cache cache;
	uint8_t buf[4 * PAGE];

	assert_int_equal(ms_cache_init(&cache, f->as, f->target_base, RAM_SIZE, true), 0);
	assert_true(ms_cache_is_direct(&cache, true));
	fill_pattern(buf, len, 6);
	assert_int_equal(ms_cache_write(&cache, offset, buf, len), MS_RESULT_OK);
	ms_cache_destroy(&cache);
	expect_bytes(f, offset, len, 6);
}

static void test_cache_write_marks_the_pages_it_writes(void **state)
{
	check_write_path(*state, w_cache_write, 0xc800, PAGE); /* pages 12..13 */
}

static void w_cache_stores(fixture *f, uint64_t offset, size_t len)
{
	ms_cache cache;

	/* Seven stores cover [offset, offset + 29): one of each width and order. */
	assert_int_equal(len, 29);
	assert_int_equal(ms_cache_init(&cache, f->as, f->target_base, RAM_SIZE, true), 0);
	assert_int_equal(ms_cache_stb(&cache, offset, 1), MS_RESULT_OK);
	assert_int_equal(ms_cache_stw_le(&cache, offset + 1, 2), MS_RESULT_OK);
	assert_int_equal(ms_cache_stw_be(&cache, offset + 3, 3), MS_RESULT_OK);
	assert_int_equal(ms_cache_stl_le(&cache, offset + 5, 4), MS_RESULT_OK);
	assert_int_equal(ms_cache_stl_be(&cache, offset + 9, 5), MS_RESULT_OK);
	assert_int_equal(ms_cache_stq_le(&cache, offset + 13, 6), MS_RESULT_OK);
	assert_int_equal(ms_cache_stq_be(&cache, offset + 21, 7), MS_RESULT_OK);
	ms_cache_destroy(&cache);
}

static void test_cache_stores_mark_the_pages_they_write(void **state)
{
	check_write_path(*state, w_cache_stores, 0xe000 - 14, 29); /* pages 13..14 */
}

/* Each cache store alone marks its own page (and the last one its own only). */
static void test_each_cache_store_marks_its_page(void **state)
{
	fixture *f = *state;
	ms_cache cache;
	char want[NPAGES + 1];

	assert_int_equal(ms_region_set_dirty_log(f->ram, MS_DIRTY_VGA, true), 0);
	assert_int_equal(ms_cache_init(&cache, f->as, 0, RAM_SIZE, true), 0);
	for (unsigned i = 0; i < 7; i++) {
		uint64_t off = (uint64_t)(i + 1) * PAGE + 16;
		ms_result res;

		switch (i) {
		case 0:
			res = ms_cache_stb(&cache, off, 1);
			break;
		case 1:
			res = ms_cache_stw_le(&cache, off, 1);
			break;
		case 2:
			res = ms_cache_stw_be(&cache, off, 1);
			break;
		case 3:
			res = ms_cache_stl_le(&cache, off, 1);
			break;
		case 4:
			res = ms_cache_stl_be(&cache, off, 1);
			break;
		case 5:
			res = ms_cache_stq_le(&cache, off, 1);
			break;
		default:
			res = ms_cache_stq_be(&cache, off, 1);
			break;
		}
		assert_int_equal(res, MS_RESULT_OK);
		assert_string_equal(dirty_str(f, f->ram, MS_DIRTY_VGA),
				    pages_str(want, i + 1, i + 1));
		assert_int_equal(ms_region_reset_dirty(f->ram, 0, RAM_SIZE, MS_DIRTY_VGA), 0);
	}
	ms_cache_destroy(&cache);
}

static void w_alias(fixture *f, uint64_t offset, size_t len)
{
	uint8_t buf[4 * PAGE];

	fill_pattern(buf, len, 7);
	assert_int_equal(ms_as_write(f->as, ALIAS_BASE + offset, ATTRS, buf, len), MS_RESULT_OK);
	expect_bytes(f, offset, len, 7);
}

static void test_write_through_an_alias_marks_the_target(void **state)
{
	fixture *f = *state;

	check_write_path(f, w_alias, 0xf000, PAGE); /* page 15 */
	/* The alias itself has no memory and no bits. */
	assert_int_equal(ms_region_dirty_log_mask(f->alias), 0);
	assert_false(ms_region_get_dirty(f->alias, 0, PAGE, MS_DIRTY_VGA));
	assert_int_equal(ms_region_set_dirty(f->alias, 0, PAGE), -EINVAL);
}

/*
 * A RAM device is written with exact-width stores, not memcpy, and those
 * mark too: by ms_as_write(), the loader and ms_region_dispatch_write()
 * (the access fuzzer found the first two marking nothing). Reads mark
 * nothing.
 */
static void test_ram_device_writes_mark_the_pages_they_write(void **state)
{
	fixture *f = *state;
	uint8_t *mem = aligned_alloc(PAGE, RAM_SIZE);
	uint8_t buf[2 * PAGE];
	ms_region *ramd = NULL;

	assert_non_null(mem);
	memset(buf, 0x5a, sizeof(buf));
	assert_int_equal(ms_region_new_ram_device(&ramd, f->ctx, "ramd", RAM_SIZE, mem), 0);
	assert_int_equal(ms_region_add_subregion(f->sys, ROM_BASE + RAM_SIZE, ramd), 0);
	assert_int_equal(ms_region_set_dirty_log(ramd, MS_DIRTY_VGA, true), 0);
	assert_int_equal(ms_as_read(f->as, ROM_BASE + RAM_SIZE, ATTRS, buf, sizeof(buf)),
			 MS_RESULT_OK);
	assert_string_equal(dirty_str(f, ramd, MS_DIRTY_VGA), CLEAN);
	assert_int_equal(ms_as_write(f->as, ROM_BASE + RAM_SIZE + 0x2ffc, ATTRS, buf, 8),
			 MS_RESULT_OK);
	assert_string_equal(dirty_str(f, ramd, MS_DIRTY_VGA), "0011000000000000");
	assert_int_equal(ms_as_write_rom(f->as, ROM_BASE + RAM_SIZE + 0x5000, buf, 1),
			 MS_RESULT_OK);
	assert_int_equal(ms_region_dispatch_write(ramd, 0x7000, 0x11, 4, ATTRS), MS_RESULT_OK);
	assert_string_equal(dirty_str(f, ramd, MS_DIRTY_VGA), "0011010100000000");
	assert_int_equal(ms_region_del_subregion(f->sys, ramd), 0);
	ms_region_unref(ramd);
	free(mem);
}

/* IOMMU page i is "ram" page 15 - i: bus offset 0x3000 is page 12. */
static void w_iommu(fixture *f, uint64_t offset, size_t len)
{
	uint8_t buf[PAGE];
	uint64_t page = offset / PAGE;
	uint64_t bus = (NPAGES - 1 - page) * PAGE + offset % PAGE;

	assert_true(offset % PAGE + len <= PAGE);
	fill_pattern(buf, len, 8);
	assert_int_equal(ms_as_write(f->dma, bus, ATTRS, buf, len), MS_RESULT_OK);
	expect_bytes(f, offset, len, 8);
}

static void test_write_through_an_iommu_marks_the_ram(void **state)
{
	check_write_path(*state, w_iommu, 0xc010, 0x100); /* page 12 */
}

static void test_write_through_an_iommu_across_pages_marks_each_target_page(void **state)
{
	fixture *f = *state;
	uint8_t buf[PAGE] = {0};

	assert_int_equal(ms_region_set_dirty_log(f->ram, MS_DIRTY_VGA, true), 0);
	/* Bus pages 1 and 2 are "ram" pages 14 and 13. */
	assert_int_equal(ms_as_write(f->dma, 2 * PAGE - 8, ATTRS, buf, 16), MS_RESULT_OK);
	assert_string_equal(dirty_str(f, f->ram, MS_DIRTY_VGA), "0000000000000110");
}

/* ---- clients and global logging ---------------------------------------------------- */

static void test_clients_are_independent(void **state)
{
	fixture *f = *state;

	for (unsigned c = 0; c < MS_DIRTY_CLIENTS; c++) {
		assert_int_equal(ms_region_set_dirty_log(f->ram, c, true), 0);
		assert_int_equal(ms_region_set_dirty(f->ram, (uint64_t)c * PAGE, 1), 0);
		assert_int_equal(ms_region_set_dirty_log(f->ram, c, false), 0);
	}
	assert_int_equal(ms_region_dirty_log_mask(f->ram), 0);
	for (unsigned c = 0; c < MS_DIRTY_CLIENTS; c++) {
		char want[NPAGES + 1];

		/* Each client saw the writes while it logged, and keeps its bits after. */
		assert_string_equal(dirty_str(f, f->ram, c), pages_str(want, c, c));
	}
}

static void test_client_bits_stay_after_logging_stops(void **state)
{
	fixture *f = *state;

	assert_int_equal(ms_region_set_dirty_log(f->ram, MS_DIRTY_VGA, true), 0);
	assert_int_equal(ms_as_stb(f->as, 0x3000, ATTRS, 1), MS_RESULT_OK);
	assert_int_equal(ms_region_set_dirty_log(f->ram, MS_DIRTY_VGA, false), 0);
	assert_int_equal(ms_as_stb(f->as, 0x4000, ATTRS, 1), MS_RESULT_OK);
	assert_string_equal(dirty_str(f, f->ram, MS_DIRTY_VGA), "0001000000000000");
}

static void test_set_dirty_log_refuses_bad_arguments(void **state)
{
	fixture *f = *state;

	assert_int_equal(ms_region_set_dirty_log(NULL, 0, true), -EINVAL);
	assert_int_equal(ms_region_set_dirty_log(f->ram, MS_DIRTY_CLIENTS, true), -EINVAL);
	assert_int_equal(ms_region_set_dirty_log(f->sys, 0, true), -EINVAL);
	assert_int_equal(ms_region_dirty_log_mask(f->ram), 0);
	assert_int_equal(ms_region_dirty_log_mask(NULL), 0);
}

static void test_client_logging_shows_in_the_view(void **state)
{
	fixture *f = *state;
	ms_flatview *fv;
	ms_section s;

	assert_int_equal(ms_region_set_dirty_log(f->ram, MS_DIRTY_VGA, true), 0);
	assert_int_equal(ms_region_set_dirty_log(f->ram, 6, true), 0);
	fv = ms_as_get_flatview(f->as);
	assert_int_equal(ms_flatview_range(&s, fv, 0), 0);
	assert_ptr_equal(s.region, f->ram);
	assert_int_equal(s.dirty_log_mask, (1u << MS_DIRTY_VGA) | (1u << 6));
	ms_flatview_unref(fv);
}

static void test_global_logging_logs_migration_on_every_block(void **state)
{
	fixture *f = *state;
	ms_region *late;
	uint8_t mig = 1u << MS_DIRTY_MIGRATION;

	assert_int_equal(ms_region_set_dirty_log(f->ram, MS_DIRTY_VGA, true), 0);
	assert_int_equal(ms_ctx_dirty_log_global_start(f->ctx), 0);
	assert_true(ms_ctx_dirty_log_global(f->ctx));
	assert_int_equal(ms_region_dirty_log_mask(f->ram), mig | (1u << MS_DIRTY_VGA));
	assert_int_equal(ms_region_dirty_log_mask(f->other), mig);
	assert_int_equal(ms_region_dirty_log_mask(f->rom), mig);
	assert_int_equal(ms_region_dirty_log_mask(f->alias), 0);
	assert_int_equal(ms_as_stb(f->as, OTHER_BASE + 0x5000, ATTRS, 1), MS_RESULT_OK);
	assert_string_equal(dirty_str(f, f->other, MS_DIRTY_MIGRATION), "0000010000000000");

	/* RAM created while logging is on logs MIGRATION from the start. */
	late = place_ram(f->ctx, f->sys, "late", 0x400000, 2 * PAGE);
	assert_int_equal(ms_region_dirty_log_mask(late), mig);
	assert_int_equal(ms_as_stb(f->as, 0x401000, ATTRS, 1), MS_RESULT_OK);
	assert_true(ms_region_get_dirty(late, PAGE, 1, MS_DIRTY_MIGRATION));
	assert_false(ms_region_get_dirty(late, 0, 1, MS_DIRTY_MIGRATION));

	assert_int_equal(ms_ctx_dirty_log_global_stop(f->ctx), 0);
	assert_false(ms_ctx_dirty_log_global(f->ctx));
	assert_int_equal(ms_region_dirty_log_mask(f->ram), 1u << MS_DIRTY_VGA);
	assert_int_equal(ms_region_dirty_log_mask(f->other), 0);
	assert_int_equal(ms_region_dirty_log_mask(late), 0);
	assert_int_equal(ms_as_stb(f->as, OTHER_BASE + 0x6000, ATTRS, 1), MS_RESULT_OK);
	assert_string_equal(dirty_str(f, f->other, MS_DIRTY_MIGRATION), "0000010000000000");
	/* A region's own MIGRATION logging outlives the global stop. */
	assert_int_equal(ms_region_set_dirty_log(f->other, MS_DIRTY_MIGRATION, true), 0);
	assert_int_equal(ms_ctx_dirty_log_global_start(f->ctx), 0);
	assert_int_equal(ms_ctx_dirty_log_global_stop(f->ctx), 0);
	assert_int_equal(ms_region_dirty_log_mask(f->other), mig);
	assert_int_equal(ms_ctx_dirty_log_global_start(NULL), -EINVAL);
	assert_int_equal(ms_ctx_dirty_log_global_stop(NULL), -EINVAL);
}

/* ---- get / set / reset ------------------------------------------------------------- */

static void test_set_dirty_marks_partial_pages_whole(void **state)
{
	fixture *f = *state;

	assert_int_equal(ms_region_set_dirty_log(f->ram, MS_DIRTY_VGA, true), 0);
	assert_int_equal(ms_region_set_dirty(f->ram, PAGE - 1, 2), 0);
	assert_string_equal(dirty_str(f, f->ram, MS_DIRTY_VGA), "1100000000000000");
	assert_int_equal(ms_region_set_dirty(f->ram, 3 * PAGE, PAGE), 0);
	assert_string_equal(dirty_str(f, f->ram, MS_DIRTY_VGA), "1101000000000000");
	/* get_dirty of a range: any page of it. */
	assert_true(ms_region_get_dirty(f->ram, 2 * PAGE, PAGE + 1, MS_DIRTY_VGA));
	assert_false(ms_region_get_dirty(f->ram, 2 * PAGE, PAGE, MS_DIRTY_VGA));
	assert_true(ms_region_get_dirty(f->ram, 2 * PAGE - 1, 1, MS_DIRTY_VGA));
	assert_true(ms_region_get_dirty(f->ram, 0, RAM_SIZE, MS_DIRTY_VGA));
	/* reset clears whole pages, even partly covered ones. */
	assert_int_equal(ms_region_reset_dirty(f->ram, PAGE - 1, 2, MS_DIRTY_VGA), 0);
	assert_string_equal(dirty_str(f, f->ram, MS_DIRTY_VGA), "0001000000000000");
	assert_int_equal(ms_region_reset_dirty(f->ram, 4 * PAGE - 1, 1, MS_DIRTY_VGA), 0);
	assert_string_equal(dirty_str(f, f->ram, MS_DIRTY_VGA), CLEAN);
}

static void test_a_range_across_a_bitmap_word_is_marked_and_cleared(void **state)
{
	fixture *f = *state;
	ms_region *big = place_ram(f->ctx, f->sys, "big", 0x1000000, 200 * PAGE);

	assert_int_equal(ms_region_set_dirty_log(big, 4, true), 0);
	assert_int_equal(ms_region_set_dirty(big, 60 * PAGE, 70 * PAGE), 0); /* 60..129 */
	assert_false(ms_region_get_dirty(big, 0, 60 * PAGE, 4));
	assert_true(ms_region_get_dirty(big, 129 * PAGE, PAGE, 4));
	assert_false(ms_region_get_dirty(big, 130 * PAGE, 70 * PAGE, 4));
	assert_int_equal(ms_region_reset_dirty(big, 62 * PAGE, 66 * PAGE, 4), 0); /* 62..127 */
	for (unsigned p = 55; p < 135; p++)
		assert_int_equal(ms_region_get_dirty(big, (uint64_t)p * PAGE, PAGE, 4),
				 p == 60 || p == 61 || p == 128 || p == 129);
}

static void test_last_partial_page_of_an_odd_sized_region(void **state)
{
	fixture *f = *state;
	ms_region *odd = place_ram(f->ctx, f->sys, "odd", 0x500000, 3 * PAGE + 100);

	assert_int_equal(ms_region_set_dirty_log(odd, MS_DIRTY_VGA, true), 0);
	assert_string_equal(dirty_str(f, odd, MS_DIRTY_VGA), "0000");
	/* The last byte is in page 3, which has only 100 bytes. */
	assert_int_equal(ms_as_stb(f->as, 0x500000 + 3 * PAGE + 99, ATTRS, 1), MS_RESULT_OK);
	assert_string_equal(dirty_str(f, odd, MS_DIRTY_VGA), "0001");
	assert_true(ms_region_get_dirty(odd, 3 * PAGE + 99, 1, MS_DIRTY_VGA));
	assert_false(ms_region_get_dirty(odd, 3 * PAGE + 99, 2, MS_DIRTY_VGA)); /* past the end */
	assert_int_equal(ms_region_reset_dirty(odd, 3 * PAGE, 100, MS_DIRTY_VGA), 0);
	assert_string_equal(dirty_str(f, odd, MS_DIRTY_VGA), "0000");
	assert_int_equal(ms_region_set_dirty(odd, 0, 3 * PAGE + 100), 0);
	assert_string_equal(dirty_str(f, odd, MS_DIRTY_VGA), "1111");
	assert_int_equal(ms_region_set_dirty(odd, 3 * PAGE + 100, 1), -EINVAL);
}

/*
 * A snapshot covers the region's bytes, not the rest of its last page: a
 * range past the region's end is outside it (false), as
 * ms_dirty_snapshot_range() says (the access fuzzer found it answering for
 * the page).
 */
static void test_snapshot_of_an_odd_sized_region_ends_at_its_last_byte(void **state)
{
	fixture *f = *state;
	ms_region *odd = place_ram(f->ctx, f->sys, "odd", 0x500000, 3 * PAGE + 100);
	ms_dirty_snapshot *snap = NULL;
	uint64_t offset = 1, size = 1;

	assert_int_equal(ms_region_set_dirty_log(odd, MS_DIRTY_VGA, true), 0);
	assert_int_equal(ms_region_set_dirty(odd, 3 * PAGE + 99, 1), 0);
	assert_int_equal(
		ms_region_snapshot_and_clear_dirty(&snap, odd, 3 * PAGE, 100, MS_DIRTY_VGA), 0);
	ms_dirty_snapshot_range(snap, &offset, &size);
	assert_int_equal(offset, 0);
	assert_int_equal(size, 3 * PAGE + 100);
	assert_true(ms_dirty_snapshot_get_dirty(snap, 3 * PAGE + 99, 1));
	assert_false(ms_dirty_snapshot_get_dirty(snap, 3 * PAGE + 100, 1));
	assert_false(ms_dirty_snapshot_get_dirty(snap, 3 * PAGE + 99, 2));
	ms_dirty_snapshot_free(snap);
}

static void test_get_set_reset_refuse_bad_arguments(void **state)
{
	fixture *f = *state;

	assert_int_equal(ms_region_set_dirty_log(f->ram, MS_DIRTY_VGA, true), 0);
	assert_int_equal(ms_region_set_dirty(f->ram, 0, RAM_SIZE), 0);
	/* Each refusal changes nothing. */
	assert_int_equal(ms_region_set_dirty(NULL, 0, 1), -EINVAL);
	assert_int_equal(ms_region_set_dirty(f->ram, 0, 0), -EINVAL);
	assert_int_equal(ms_region_set_dirty(f->ram, RAM_SIZE, 1), -EINVAL);
	assert_int_equal(ms_region_set_dirty(f->ram, 1, RAM_SIZE), -EINVAL);
	assert_int_equal(ms_region_set_dirty(f->ram, 1, UINT64_MAX), -EINVAL);
	assert_int_equal(ms_region_set_dirty(f->sys, 0, 1), -EINVAL);
	assert_int_equal(ms_region_reset_dirty(NULL, 0, 1, 0), -EINVAL);
	assert_int_equal(ms_region_reset_dirty(f->ram, 0, 0, 0), -EINVAL);
	assert_int_equal(ms_region_reset_dirty(f->ram, 0, RAM_SIZE + 1, 0), -EINVAL);
	assert_int_equal(ms_region_reset_dirty(f->ram, 0, PAGE, MS_DIRTY_CLIENTS), -EINVAL);
	assert_int_equal(ms_region_reset_dirty(f->ram, UINT64_MAX, 2, 0), -EINVAL);
	assert_string_equal(dirty_str(f, f->ram, MS_DIRTY_VGA), "1111111111111111");
	assert_false(ms_region_get_dirty(NULL, 0, 1, 0));
	assert_false(ms_region_get_dirty(f->ram, 0, 0, 0));
	assert_false(ms_region_get_dirty(f->ram, RAM_SIZE, 1, 0));
	assert_false(ms_region_get_dirty(f->ram, 0, RAM_SIZE + 1, 0));
	assert_false(ms_region_get_dirty(f->ram, 0, 1, MS_DIRTY_CLIENTS));
	assert_false(ms_region_get_dirty(f->sys, 0, 1, 0));
	/* A client that never logged reads clean. */
	assert_false(ms_region_get_dirty(f->ram, 0, RAM_SIZE, 7));
}

static void test_layout_only_ram_has_no_bits(void **state)
{
	fixture *f = *state;
	ms_region *r = NULL;

	assert_int_equal(ms_region_new_ram_with(&r, f->ctx,
						&(ms_ram_opts){.name = "layout",
							       .size = 4 * PAGE,
							       .backend = MS_RAM_NONE,
							       .fd = -1}),
			 0);
	assert_int_equal(ms_region_set_dirty_log(r, MS_DIRTY_VGA, true), 0);
	assert_int_equal(ms_region_dirty_log_mask(r), 0);
	assert_int_equal(ms_region_set_dirty(r, 0, PAGE), -EINVAL);
	assert_false(ms_region_get_dirty(r, 0, PAGE, MS_DIRTY_VGA));
	ms_region_unref(r);
}

/* ---- snapshots ---------------------------------------------------------------------- */

static ms_region *big_region(fixture *f, uint64_t pages)
{
	ms_region *big = place_ram(f->ctx, f->sys, "big", 0x1000000, pages * PAGE);

	assert_int_equal(ms_region_set_dirty_log(big, MS_DIRTY_VGA, true), 0);
	return big;
}

static void test_snapshot_rounds_out_to_whole_words(void **state)
{
	fixture *f = *state;
	ms_region *big = big_region(f, 300);
	ms_dirty_snapshot *snap = NULL;
	uint64_t off, size, next;

	/* Pages 0, 63, 64, 100, 127, 128, 299. */
	const unsigned dirty[] = {0, 63, 64, 100, 127, 128, 299};

	for (unsigned i = 0; i < 7; i++)
		assert_int_equal(ms_region_set_dirty(big, (uint64_t)dirty[i] * PAGE, 1), 0);
	/* Ask for page 70 only: the word of pages 64..127 is taken, whole. */
	assert_int_equal(
		ms_region_snapshot_and_clear_dirty(&snap, big, 70 * PAGE + 5, 10, MS_DIRTY_VGA), 0);
	assert_non_null(snap);
	ms_dirty_snapshot_range(snap, &off, &size);
	assert_int_equal(off, 64 * PAGE);
	assert_int_equal(size, 64 * PAGE);
	assert_int_equal(ms_dirty_snapshot_count(snap), 3);
	assert_false(ms_dirty_snapshot_get_dirty(snap, 70 * PAGE, PAGE));
	assert_true(ms_dirty_snapshot_get_dirty(snap, 64 * PAGE, 1));
	assert_true(ms_dirty_snapshot_get_dirty(snap, 65 * PAGE, 63 * PAGE));
	assert_false(ms_dirty_snapshot_get_dirty(snap, 63 * PAGE, 2 * PAGE)); /* outside */
	assert_false(ms_dirty_snapshot_get_dirty(snap, 128 * PAGE, 1));       /* outside */
	assert_true(ms_dirty_snapshot_next(snap, 0, &next));
	assert_int_equal(next, 64 * PAGE);
	assert_true(ms_dirty_snapshot_next(snap, 64 * PAGE + 1, &next));
	assert_int_equal(next, 100 * PAGE);
	assert_true(ms_dirty_snapshot_next(snap, 101 * PAGE, &next));
	assert_int_equal(next, 127 * PAGE);
	assert_false(ms_dirty_snapshot_next(snap, 127 * PAGE + 1, &next));
	ms_dirty_snapshot_free(snap);
	/* The whole word was cleared; the neighbours were not. */
	for (unsigned p = 0; p < 300; p++)
		assert_int_equal(ms_region_get_dirty(big, (uint64_t)p * PAGE, PAGE, MS_DIRTY_VGA),
				 p == 0 || p == 63 || p == 128 || p == 299);
}

static void test_snapshot_across_words_and_the_last_partial_word(void **state)
{
	fixture *f = *state;
	ms_region *big = big_region(f, 300);
	ms_dirty_snapshot *snap = NULL;
	uint64_t off, size, next;

	for (unsigned p = 0; p < 300; p += 7)
		assert_int_equal(ms_region_set_dirty(big, (uint64_t)p * PAGE, PAGE), 0);
	/* Pages 63..257: words 0..4, pages 0..299 (the last word clipped). */
	assert_int_equal(
		ms_region_snapshot_and_clear_dirty(&snap, big, 63 * PAGE, 195 * PAGE, MS_DIRTY_VGA),
		0);
	ms_dirty_snapshot_range(snap, &off, &size);
	assert_int_equal(off, 0);
	assert_int_equal(size, 300 * PAGE);
	assert_int_equal(ms_dirty_snapshot_count(snap), 43); /* 0, 7, ..., 294 */
	next = 0;
	for (unsigned p = 0; p < 300; p += 7) {
		assert_true(ms_dirty_snapshot_next(snap, next, &next));
		assert_int_equal(next, (uint64_t)p * PAGE);
		next++;
	}
	assert_false(ms_dirty_snapshot_next(snap, next, &next));
	assert_false(ms_region_get_dirty(big, 0, 300 * PAGE, MS_DIRTY_VGA));
	ms_dirty_snapshot_free(snap);
	/* A second snapshot right away is empty. */
	assert_int_equal(
		ms_region_snapshot_and_clear_dirty(&snap, big, 0, 300 * PAGE, MS_DIRTY_VGA), 0);
	assert_int_equal(ms_dirty_snapshot_count(snap), 0);
	assert_false(ms_dirty_snapshot_next(snap, 0, &next));
	ms_dirty_snapshot_free(snap);
}

static void test_snapshot_of_a_client_that_never_logged_is_empty(void **state)
{
	fixture *f = *state;
	ms_dirty_snapshot *snap = NULL;
	uint64_t off, size;

	assert_int_equal(ms_region_snapshot_and_clear_dirty(&snap, f->ram, 0, RAM_SIZE, 6), 0);
	assert_int_equal(ms_dirty_snapshot_count(snap), 0);
	ms_dirty_snapshot_range(snap, &off, &size);
	assert_int_equal(off, 0);
	assert_int_equal(size, RAM_SIZE);
	ms_dirty_snapshot_free(snap);
}

static void test_snapshot_keeps_its_region_alive(void **state)
{
	fixture *f = *state;
	ms_region *r = new_ram(f->ctx, "alone", 2 * PAGE);
	ms_dirty_snapshot *snap = NULL;
	uint64_t off, size;

	assert_int_equal(ms_region_set_dirty_log(r, 3, true), 0);
	assert_int_equal(ms_region_set_dirty(r, PAGE, 1), 0);
	assert_int_equal(ms_region_snapshot_and_clear_dirty(&snap, r, 0, 2 * PAGE, 3), 0);
	ms_region_unref(r);
	ms_dirty_snapshot_range(snap, &off, &size);
	assert_int_equal(size, 2 * PAGE);
	assert_true(ms_dirty_snapshot_get_dirty(snap, PAGE, PAGE));
	ms_dirty_snapshot_free(snap); /* the last reference: valgrind sees no leak */
}

static void test_snapshot_refuses_bad_arguments(void **state)
{
	fixture *f = *state;
	ms_dirty_snapshot *snap = (ms_dirty_snapshot *)f; /* must be cleared */
	uint64_t off = 1, size = 1, next = 5;

	assert_int_equal(ms_region_snapshot_and_clear_dirty(NULL, f->ram, 0, 1, 0), -EINVAL);
	assert_int_equal(ms_region_snapshot_and_clear_dirty(&snap, f->ram, 0, 0, 0), -EINVAL);
	assert_null(snap);
	assert_int_equal(ms_region_snapshot_and_clear_dirty(&snap, NULL, 0, 1, 0), -EINVAL);
	assert_int_equal(ms_region_snapshot_and_clear_dirty(&snap, f->ram, RAM_SIZE, 1, 0),
			 -EINVAL);
	assert_int_equal(ms_region_snapshot_and_clear_dirty(&snap, f->ram, 0, 1, 8), -EINVAL);
	assert_int_equal(ms_region_snapshot_and_clear_dirty(&snap, f->sys, 0, 1, 0), -EINVAL);
	assert_null(snap);
	assert_false(ms_dirty_snapshot_get_dirty(NULL, 0, 1));
	assert_false(ms_dirty_snapshot_next(NULL, 0, &next));
	assert_int_equal(next, 5);
	assert_int_equal(ms_dirty_snapshot_count(NULL), 0);
	ms_dirty_snapshot_range(NULL, &off, &size);
	assert_int_equal(off, 0);
	assert_int_equal(size, 0);
	ms_dirty_snapshot_free(NULL);
	/* A range wrapping past 2^64 is outside any snapshot. */
	assert_int_equal(ms_region_snapshot_and_clear_dirty(&snap, f->ram, 0, PAGE, 0), 0);
	assert_false(ms_dirty_snapshot_get_dirty(snap, UINT64_MAX, 2));
	assert_false(ms_dirty_snapshot_get_dirty(snap, 0, 0));
	assert_false(ms_dirty_snapshot_next(snap, 0, NULL));
	ms_dirty_snapshot_free(snap);
}

/* ---- page size ----------------------------------------------------------------------- */

static void test_page_size_is_fixed_once_ram_exists(void **state)
{
	fixture *f = *state;

	assert_int_equal(ms_ctx_dirty_page_size(f->ctx), 4096);
	assert_int_equal(ms_ctx_set_dirty_page_size(f->ctx, 65536), -EBUSY);
	assert_int_equal(ms_ctx_set_dirty_page_size(f->ctx, 4096), 0); /* no change */
	assert_int_equal(ms_ctx_set_dirty_page_size(f->ctx, 3000), -EINVAL);
	assert_int_equal(ms_ctx_set_dirty_page_size(f->ctx, 256), -EINVAL);
	assert_int_equal(ms_ctx_set_dirty_page_size(f->ctx, (uint64_t)1 << 31), -EINVAL);
	assert_int_equal(ms_ctx_set_dirty_page_size(NULL, 4096), -EINVAL);
	assert_int_equal(ms_ctx_dirty_page_size(NULL), 0);
	assert_int_equal(ms_ctx_dirty_page_size(f->ctx), 4096);
}

static void test_a_64k_page_size_tracks_64k_pages(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *sys, *r;
	ms_as *as;
	ms_dirty_snapshot *snap = NULL;
	uint64_t next;

	(void)state;
	assert_int_equal(ms_ctx_set_dirty_page_size(ctx, 512), 0);
	assert_int_equal(ms_ctx_set_dirty_page_size(ctx, 65536), 0); /* before any RAM */
	assert_int_equal(ms_ctx_dirty_page_size(ctx), 65536);
	sys = new_container(ctx, "sys", MS_SIZE_2_64);
	r = place_ram(ctx, sys, "ram", 0, 1u << 20); /* 16 pages of 64 KiB */
	as = new_as(ctx, sys, "as");
	assert_int_equal(ms_ctx_set_dirty_page_size(ctx, 4096), -EBUSY);
	assert_int_equal(ms_region_set_dirty_log(r, MS_DIRTY_VGA, true), 0);
	assert_int_equal(ms_as_stl_le(as, 0x2fffe, ATTRS, 1), MS_RESULT_OK); /* pages 2..3 */
	assert_false(ms_region_get_dirty(r, 0, 0x20000, MS_DIRTY_VGA));
	assert_true(ms_region_get_dirty(r, 0x20000, 1, MS_DIRTY_VGA));
	assert_true(ms_region_get_dirty(r, 0x3ffff, 1, MS_DIRTY_VGA));
	assert_false(ms_region_get_dirty(r, 0x40000, 0xc0000, MS_DIRTY_VGA));
	assert_int_equal(ms_region_snapshot_and_clear_dirty(&snap, r, 0, 1u << 20, MS_DIRTY_VGA),
			 0);
	assert_int_equal(ms_dirty_snapshot_count(snap), 2);
	assert_true(ms_dirty_snapshot_next(snap, 0, &next));
	assert_int_equal(next, 0x20000);
	ms_dirty_snapshot_free(snap);
	ms_as_free(as);
	ms_region_unref(sys);
	ms_ctx_free(ctx);
}

/* ---- listener hooks -------------------------------------------------------------------- */

typedef struct hook_log {
	strbuf sb;
	int refuse; /* log_global_try_start returns it */
	const char *name;
} hook_log;

static void h_global_start(void *opaque)
{
	hook_log *h = opaque;

	sb_printf(&h->sb, "%s start\n", h->name);
}

static int h_global_try_start(void *opaque)
{
	hook_log *h = opaque;

	sb_printf(&h->sb, "%s try_start=%d\n", h->name, h->refuse);
	return h->refuse;
}

static void h_global_stop(void *opaque)
{
	hook_log *h = opaque;

	sb_printf(&h->sb, "%s stop\n", h->name);
}

static void h_log_clear(const ms_section *s, void *opaque)
{
	hook_log *h = opaque;

	sb_printf(&h->sb, "%s clear %" PRIx64 "-%" PRIx64 " %s @%" PRIx64 "\n", h->name, s->start,
		  s->last, ms_region_name(s->region), s->offset_in_region);
}

static const ms_listener_ops v2_ops = {
	.version = 2,
	.log_global_try_start = h_global_try_start,
	.log_global_stop = h_global_stop,
	.log_clear = h_log_clear,
};

static const ms_listener_ops v1_ops = {
	.version = 1,
	.log_global_start = h_global_start,
	.log_global_stop = h_global_stop,
};

static void test_clear_dirty_calls_log_clear_with_cropped_sections(void **state)
{
	fixture *f = *state;
	hook_log h = {.name = "L"};
	ms_listener *l = NULL;
	ms_region *hole = new_io(f->ctx, "hole", 2 * PAGE);

	sb_reset(&h.sb);
	/* "ram" shows at 0 (pages 0..3 and 6..15: a reservation covers 4..5) and in the alias. */
	assert_int_equal(ms_region_add_subregion_overlap(f->sys, 4 * PAGE, hole, 1), 0);
	ms_region_unref(hole);
	assert_int_equal(ms_listener_register(&l, f->as, &v2_ops, &h), 0);
	assert_int_equal(ms_region_clear_dirty(f->ram, 0, RAM_SIZE), 0);
	assert_string_equal(h.sb.text, ""); /* nothing logs */
	assert_int_equal(ms_region_set_dirty_log(f->ram, MS_DIRTY_VGA, true), 0);
	assert_int_equal(ms_region_set_dirty(f->ram, 0, RAM_SIZE), 0);
	assert_int_equal(ms_region_clear_dirty(f->ram, 3 * PAGE + 0x10, 4 * PAGE), 0);
	assert_string_equal(h.sb.text, "L clear 3010-3fff ram @3010\n"
				       "L clear 6000-700f ram @6000\n"
				       "L clear 203010-20700f ram @3010\n");
	/* The library's own bits are not touched. */
	assert_string_equal(dirty_str(f, f->ram, MS_DIRTY_VGA), "1111111111111111");
	assert_int_equal(ms_region_clear_dirty(f->ram, 0, 0), -EINVAL);
	assert_int_equal(ms_region_clear_dirty(f->ram, RAM_SIZE, 1), -EINVAL);
	assert_int_equal(ms_region_clear_dirty(NULL, 0, 1), -EINVAL);
	assert_int_equal(ms_region_clear_dirty(f->sys, 0, 1), -EINVAL);
	assert_int_equal(ms_listener_unregister(l), 0);
}

static void test_version_1_listener_gets_no_log_clear_and_global_start(void **state)
{
	fixture *f = *state;
	hook_log h = {.name = "V1"};
	ms_listener *l = NULL;

	sb_reset(&h.sb);
	assert_int_equal(ms_listener_register(&l, f->as, &v1_ops, &h), 0);
	assert_int_equal(ms_region_set_dirty_log(f->ram, MS_DIRTY_VGA, true), 0);
	assert_int_equal(ms_region_clear_dirty(f->ram, 0, RAM_SIZE), 0);
	assert_int_equal(ms_ctx_dirty_log_global_start(f->ctx), 0);
	assert_int_equal(ms_ctx_dirty_log_global_stop(f->ctx), 0);
	assert_string_equal(h.sb.text, "V1 start\nV1 stop\n");
	assert_int_equal(ms_listener_unregister(l), 0);
}

static void test_global_start_rolls_back_when_a_listener_refuses(void **state)
{
	fixture *f = *state;
	hook_log a = {.name = "A"}, b = {.name = "B"}, c = {.name = "C", .refuse = -EPERM};
	ms_listener *la = NULL, *lb = NULL, *lc = NULL;

	sb_reset(&a.sb);
	sb_reset(&b.sb);
	sb_reset(&c.sb);
	assert_int_equal(ms_region_set_dirty_log(f->ram, MS_DIRTY_VGA, true), 0);
	assert_int_equal(ms_listener_register(&la, f->as, &v2_ops, &a), 0);
	assert_int_equal(ms_listener_register(&lb, f->dma, &v1_ops, &b), 0);
	assert_int_equal(ms_listener_register(&lc, f->as, &v2_ops, &c), 0);
	assert_int_equal(ms_ctx_dirty_log_global_start(f->ctx), -EPERM);
	assert_false(ms_ctx_dirty_log_global(f->ctx));
	assert_string_equal(a.sb.text, "A try_start=0\nA stop\n");
	assert_string_equal(b.sb.text, "B start\nB stop\n");
	assert_string_equal(c.sb.text, "C try_start=-1\n");
	/* The blocks' masks are as before; no write marks MIGRATION. */
	assert_int_equal(ms_region_dirty_log_mask(f->ram), 1u << MS_DIRTY_VGA);
	assert_int_equal(ms_region_dirty_log_mask(f->other), 0);
	assert_int_equal(ms_as_stb(f->as, OTHER_BASE, ATTRS, 1), MS_RESULT_OK);
	assert_false(ms_region_get_dirty(f->other, 0, RAM_SIZE, MS_DIRTY_MIGRATION));
	/* Once C accepts, the start goes through to all three. */
	c.refuse = 0;
	sb_reset(&a.sb);
	assert_int_equal(ms_ctx_dirty_log_global_start(f->ctx), 0);
	assert_string_equal(a.sb.text, "A try_start=0\n");
	assert_int_equal(ms_region_dirty_log_mask(f->other), 1u << MS_DIRTY_MIGRATION);
	assert_int_equal(ms_ctx_dirty_log_global_stop(f->ctx), 0);
	assert_int_equal(ms_listener_unregister(la), 0);
	assert_int_equal(ms_listener_unregister(lb), 0);
	assert_int_equal(ms_listener_unregister(lc), 0);
}

/* Inside an open transaction, starting or stopping global logging is refused. */
static void test_global_logging_inside_a_transaction_is_ebusy(void **state)
{
	fixture *f = *state;
	hook_log h = {.name = "T"};
	ms_listener *l = NULL;

	sb_reset(&h.sb);
	assert_int_equal(ms_listener_register(&l, f->as, &v2_ops, &h), 0);
	assert_int_equal(ms_transaction_begin(f->ctx), 0);
	assert_int_equal(ms_ctx_dirty_log_global_start(f->ctx), -EBUSY);
	assert_int_equal(ms_ctx_dirty_log_global_stop(f->ctx), 0); /* stopped already: a no-op */
	assert_int_equal(ms_transaction_commit(f->ctx), 0);
	assert_false(ms_ctx_dirty_log_global(f->ctx));
	assert_string_equal(h.sb.text, "");
	assert_int_equal(ms_region_dirty_log_mask(f->other), 0);
	assert_int_equal(ms_ctx_dirty_log_global_start(f->ctx), 0);
	assert_int_equal(ms_transaction_begin(f->ctx), 0);
	assert_int_equal(ms_ctx_dirty_log_global_stop(f->ctx), -EBUSY);
	assert_int_equal(ms_ctx_dirty_log_global_start(f->ctx), 0); /* started already */
	assert_int_equal(ms_transaction_commit(f->ctx), 0);
	assert_true(ms_ctx_dirty_log_global(f->ctx));
	assert_int_equal(ms_ctx_dirty_log_global_stop(f->ctx), 0);
	assert_string_equal(h.sb.text, "T try_start=0\nT stop\n");
	assert_int_equal(ms_listener_unregister(l), 0);
}

/*
 * The commit that renders the views with MIGRATION fails: the listeners
 * that started are stopped again, logging and the block masks stay as they
 * were, and the flat view still has the old masks.
 */
static void test_global_logging_commit_failure_rolls_back(void **state)
{
	fixture *f = *state;
	hook_log h = {.name = "C"};
	ms_listener *l = NULL;
	ms_flatview *fv;
	ms_section sec;
	int rc = -ENOMEM;
	unsigned commit_failures = 0;

	sb_reset(&h.sb);
	assert_int_equal(ms_listener_register(&l, f->as, &v2_ops, &h), 0);
	/* Fail the n-th allocation, for growing n, until the start gets through. */
	for (uint64_t n = 1; rc == -ENOMEM && n < 200; n++) {
		sb_reset(&h.sb);
		ms_ctx_test_control(f->ctx, MS_TEST_FAIL_ALLOC_AFTER, n);
		rc = ms_ctx_dirty_log_global_start(f->ctx);
		ms_ctx_test_control(f->ctx, MS_TEST_FAIL_ALLOC_AFTER, 0);
		if (rc == 0)
			break;
		assert_int_equal(rc, -ENOMEM);
		assert_false(ms_ctx_dirty_log_global(f->ctx));
		assert_int_equal(ms_region_dirty_log_mask(f->other), 0);
		/* Either no listener ran (a bitmap) or it was started and stopped (the commit). */
		if (h.sb.text[0]) {
			assert_string_equal(h.sb.text, "C try_start=0\nC stop\n");
			commit_failures++;
		}
		fv = ms_as_get_flatview(f->as);
		assert_int_equal(ms_flatview_find(&sec, fv, OTHER_BASE), 0);
		assert_int_equal(sec.dirty_log_mask, 0);
		ms_flatview_unref(fv);
	}
	assert_int_equal(rc, 0);
	assert_true(commit_failures > 0); /* the commit itself failed at least once */
	assert_true(ms_ctx_dirty_log_global(f->ctx));
	fv = ms_as_get_flatview(f->as);
	assert_int_equal(ms_flatview_find(&sec, fv, OTHER_BASE), 0);
	assert_int_equal(sec.dirty_log_mask, 1u << MS_DIRTY_MIGRATION);
	ms_flatview_unref(fv);
	assert_int_equal(ms_ctx_dirty_log_global_stop(f->ctx), 0);
	assert_int_equal(ms_listener_unregister(l), 0);
}

/* Global logging leaves RAM made with MS_RAM_NOT_MIGRATABLE alone, as QEMU does. */
static void test_global_logging_skips_blocks_that_are_not_migratable(void **state)
{
	fixture *f = *state;
	ms_ram_opts o = {.name = "scratch",
			 .size = RAM_SIZE,
			 .backend = MS_RAM_ANON,
			 .fd = -1,
			 .flags = MS_RAM_NOT_MIGRATABLE};
	ms_region *scratch;
	ms_flatview *fv;
	ms_section sec;

	assert_int_equal(ms_region_new_ram_with(&scratch, f->ctx, &o), 0);
	assert_int_equal(ms_region_add_subregion(f->sys, 0x40000000, scratch), 0);
	assert_int_equal(ms_ctx_dirty_log_global_start(f->ctx), 0);
	assert_int_equal(ms_region_dirty_log_mask(scratch), 0);
	assert_int_equal(ms_region_dirty_log_mask(f->other), 1u << MS_DIRTY_MIGRATION);
	assert_int_equal(ms_as_stb(f->as, 0x40000000, ATTRS, 1), MS_RESULT_OK);
	assert_false(ms_region_get_dirty(scratch, 0, RAM_SIZE, MS_DIRTY_MIGRATION));
	fv = ms_as_get_flatview(f->as);
	assert_int_equal(ms_flatview_find(&sec, fv, 0x40000000), 0);
	assert_int_equal(sec.dirty_log_mask, 0);
	assert_int_equal(ms_flatview_find(&sec, fv, OTHER_BASE), 0);
	assert_int_equal(sec.dirty_log_mask, 1u << MS_DIRTY_MIGRATION);
	ms_flatview_unref(fv);
	assert_int_equal(ms_ctx_dirty_log_global_stop(f->ctx), 0);
	assert_int_equal(ms_region_del_subregion(f->sys, scratch), 0);
	ms_region_unref(scratch);
}

/* The rollback stops the started listeners newest first. */
static strbuf order_log;

static int o_try_start(void *opaque)
{
	sb_printf(&order_log, "%s+ ", (const char *)opaque);
	return strcmp(opaque, "3") == 0 ? -EAGAIN : 0;
}

static void o_stop(void *opaque)
{
	sb_printf(&order_log, "%s- ", (const char *)opaque);
}

static const ms_listener_ops order_ops = {
	.version = 2, .log_global_try_start = o_try_start, .log_global_stop = o_stop};

static void test_global_start_rollback_runs_in_reverse(void **state)
{
	fixture *f = *state;
	ms_listener *l[4] = {NULL};
	static char names[4][2] = {"1", "2", "3", "4"};

	sb_reset(&order_log);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(ms_listener_register(&l[i], f->as, &order_ops, names[i]), 0);
	assert_int_equal(ms_ctx_dirty_log_global_start(f->ctx), -EAGAIN);
	assert_string_equal(order_log.text, "1+ 2+ 3+ 2- 1- ");
	assert_false(ms_ctx_dirty_log_global(f->ctx));
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(ms_listener_unregister(l[i]), 0);
}

static void test_registration_refused_while_global_logging_is_on(void **state)
{
	fixture *f = *state;
	hook_log h = {.name = "R", .refuse = -EOPNOTSUPP};
	ms_listener *l = (ms_listener *)f;

	sb_reset(&h.sb);
	assert_int_equal(ms_ctx_dirty_log_global_start(f->ctx), 0);
	assert_int_equal(ms_listener_register(&l, f->as, &v2_ops, &h), -EOPNOTSUPP);
	assert_null(l);
	assert_string_equal(h.sb.text, "R try_start=-95\n");
	/* Not registered: the stop does not reach it. */
	assert_int_equal(ms_ctx_dirty_log_global_stop(f->ctx), 0);
	assert_string_equal(h.sb.text, "R try_start=-95\n");
	assert_true(ms_ctx_dirty_log_global(f->ctx) == false);
	/* Accepting, it registers and is started. */
	h.refuse = 0;
	assert_int_equal(ms_ctx_dirty_log_global_start(f->ctx), 0);
	sb_reset(&h.sb);
	assert_int_equal(ms_listener_register(&l, f->as, &v2_ops, &h), 0);
	assert_string_equal(h.sb.text, "R try_start=0\n");
	assert_int_equal(ms_ctx_dirty_log_global_stop(f->ctx), 0);
	assert_string_equal(h.sb.text, "R try_start=0\nR stop\n");
	assert_int_equal(ms_listener_unregister(l), 0);
}

static void test_global_start_out_of_memory_changes_nothing(void **state)
{
	fixture *f = *state;
	hook_log h = {.name = "M"};
	ms_listener *l = NULL;

	sb_reset(&h.sb);
	assert_int_equal(ms_listener_register(&l, f->as, &v2_ops, &h), 0);
	assert_int_equal(ms_region_set_dirty_log(f->ram, MS_DIRTY_VGA, true), 0);
	/*
	 * Each block needs a MIGRATION bitmap: the second allocation fails
	 * after one block was switched (it is switched back), then the first.
	 */
	for (unsigned n = 2; n >= 1; n--) {
		ms_ctx_test_control(f->ctx, MS_TEST_FAIL_ALLOC_AFTER, n);
		assert_int_equal(ms_ctx_dirty_log_global_start(f->ctx), -ENOMEM);
		ms_ctx_test_control(f->ctx, MS_TEST_FAIL_ALLOC_AFTER, 0);
		assert_false(ms_ctx_dirty_log_global(f->ctx));
		assert_string_equal(h.sb.text, ""); /* no listener was started */
		assert_int_equal(ms_region_dirty_log_mask(f->ram), 1u << MS_DIRTY_VGA);
		assert_int_equal(ms_region_dirty_log_mask(f->other), 0);
		assert_int_equal(ms_region_dirty_log_mask(f->rom), 0);
		assert_int_equal(ms_as_stb(f->as, OTHER_BASE, ATTRS, 1), MS_RESULT_OK);
		assert_int_equal(ms_as_stb(f->as, 0, ATTRS, 1), MS_RESULT_OK);
		assert_false(ms_region_get_dirty(f->other, 0, RAM_SIZE, MS_DIRTY_MIGRATION));
		assert_false(ms_region_get_dirty(f->ram, 0, RAM_SIZE, MS_DIRTY_MIGRATION));
	}
	assert_int_equal(ms_ctx_dirty_log_global_start(f->ctx), 0);
	assert_int_equal(ms_region_dirty_log_mask(f->other), 1u << MS_DIRTY_MIGRATION);
	assert_int_equal(ms_ctx_dirty_log_global_stop(f->ctx), 0);
	assert_int_equal(ms_listener_unregister(l), 0);
}

static void test_snapshot_out_of_memory_takes_nothing(void **state)
{
	fixture *f = *state;
	ms_dirty_snapshot *snap = (ms_dirty_snapshot *)f;

	assert_int_equal(ms_region_set_dirty_log(f->ram, MS_DIRTY_VGA, true), 0);
	assert_int_equal(ms_region_set_dirty(f->ram, PAGE, 1), 0);
	ms_ctx_test_control(f->ctx, MS_TEST_FAIL_ALLOC_AFTER, 1);
	assert_int_equal(ms_region_snapshot_and_clear_dirty(&snap, f->ram, 0, RAM_SIZE, 0),
			 -ENOMEM);
	ms_ctx_test_control(f->ctx, MS_TEST_FAIL_ALLOC_AFTER, 0);
	assert_null(snap);
	assert_string_equal(dirty_str(f, f->ram, MS_DIRTY_VGA), "0100000000000000");
}

/* Calls from inside a listener callback are refused. */
static ms_region *inner_region;
static int inner_clear_rc, inner_start_rc;

static int clearing_try_start(void *opaque)
{
	(void)opaque;
	inner_clear_rc = ms_region_clear_dirty(inner_region, 0, PAGE);
	inner_start_rc = ms_ctx_dirty_log_global_stop(ms_region_ctx(inner_region));
	return 0;
}

static const ms_listener_ops clearing_ops = {.version = 2,
					     .log_global_try_start = clearing_try_start};

static void test_clear_dirty_from_a_callback_is_ebusy(void **state)
{
	fixture *f = *state;
	ms_listener *l = NULL;

	inner_region = f->ram;
	assert_int_equal(ms_listener_register(&l, f->as, &clearing_ops, NULL), 0);
	assert_int_equal(ms_ctx_dirty_log_global_start(f->ctx), 0);
	assert_int_equal(inner_clear_rc, -EBUSY);
	assert_int_equal(inner_start_rc, -EBUSY);
	assert_true(ms_ctx_dirty_log_global(f->ctx));
	assert_int_equal(ms_ctx_dirty_log_global_stop(f->ctx), 0);
	assert_int_equal(ms_listener_unregister(l), 0);
}

/* ---- property test -------------------------------------------------------------------- */

#define PROP_PAGES 150u
#define PROP_SIZE (PROP_PAGES * PAGE - 1000) /* the last page is partial */
#define PROP_BASE 0x2000000u

typedef struct model {
	uint8_t bits[MS_DIRTY_CLIENTS][PROP_PAGES];
	bool logs[MS_DIRTY_CLIENTS]; /* ms_region_set_dirty_log() */
	bool global;
} model;

static bool model_logs(const model *m, unsigned c)
{
	return m->logs[c] || (c == MS_DIRTY_MIGRATION && m->global);
}

static void model_mark(model *m, uint64_t offset, uint64_t len)
{
	for (unsigned c = 0; c < MS_DIRTY_CLIENTS; c++)
		if (model_logs(m, c))
			for (uint64_t p = offset / PAGE; p <= (offset + len - 1) / PAGE; p++)
				m->bits[c][p] = 1;
}

static void model_compare(const model *m, ms_region *r, unsigned step)
{
	uint8_t mask = 0;

	for (unsigned c = 0; c < MS_DIRTY_CLIENTS; c++) {
		if (model_logs(m, c))
			mask |= (uint8_t)(1u << c);
		for (unsigned p = 0; p < PROP_PAGES; p++) {
			bool got = ms_region_get_dirty(r, (uint64_t)p * PAGE, 1, c);

			if (got != (m->bits[c][p] != 0))
				fail_msg("step %u: client %u page %u: library %d, model %d", step,
					 c, p, got, m->bits[c][p]);
		}
	}
	assert_int_equal(ms_region_dirty_log_mask(r), mask);
}

static void test_random_operations_match_a_reference_model(void **state)
{
	fixture *f = *state;
	ms_region *r = new_ram(f->ctx, "prop", PROP_SIZE);
	static model m;
	ms_rng g;
	static uint8_t buf[8 * PAGE];

	assert_int_equal(ms_region_add_subregion(f->sys, PROP_BASE, r), 0);
	memset(&m, 0, sizeof(m));
	ms_rng_seed(&g, 0x6469727479ull);
	memset(buf, 0xa5, sizeof(buf));
	for (unsigned step = 0; step < 3000; step++) {
		unsigned op = (unsigned)ms_rng_below(&g, 100);
		unsigned c = (unsigned)ms_rng_below(&g, MS_DIRTY_CLIENTS);
		uint64_t offset = ms_rng_below(&g, PROP_SIZE);
		uint64_t max = PROP_SIZE - offset < sizeof(buf) ? PROP_SIZE - offset : sizeof(buf);
		uint64_t len = ms_rng_range(&g, 1, max);

		if (op < 40) {
			assert_int_equal(ms_as_write(f->as, PROP_BASE + offset, ATTRS, buf, len),
					 MS_RESULT_OK);
			model_mark(&m, offset, len);
		} else if (op < 50) {
			assert_int_equal(ms_region_set_dirty(r, offset, len), 0);
			model_mark(&m, offset, len);
		} else if (op < 60) {
			assert_int_equal(ms_region_reset_dirty(r, offset, len, c), 0);
			for (uint64_t p = offset / PAGE; p <= (offset + len - 1) / PAGE; p++)
				m.bits[c][p] = 0;
		} else if (op < 75) {
			bool on = ms_rng_percent(&g, 60);

			assert_int_equal(ms_region_set_dirty_log(r, c, on), 0);
			m.logs[c] = on;
		} else if (op < 80) {
			bool on = ms_rng_percent(&g, 50);

			assert_int_equal(on ? ms_ctx_dirty_log_global_start(f->ctx)
					    : ms_ctx_dirty_log_global_stop(f->ctx),
					 0);
			m.global = on;
		} else {
			ms_dirty_snapshot *snap = NULL;
			uint64_t first = (offset / PAGE) & ~(uint64_t)63;
			uint64_t last = ((offset + len - 1) / PAGE) | 63;
			uint64_t soff, ssize;

			if (last >= PROP_PAGES)
				last = PROP_PAGES - 1;
			assert_int_equal(
				ms_region_snapshot_and_clear_dirty(&snap, r, offset, len, c), 0);
			ms_dirty_snapshot_range(snap, &soff, &ssize);
			assert_int_equal(soff, first * PAGE);
			assert_int_equal(soff + ssize,
					 last == PROP_PAGES - 1 ? PROP_SIZE : (last + 1) * PAGE);
			uint64_t count = 0, next = soff;

			for (uint64_t p = first; p <= last; p++) {
				uint64_t n = p == PROP_PAGES - 1 ? PROP_SIZE - p * PAGE : PAGE;

				assert_int_equal(ms_dirty_snapshot_get_dirty(snap, p * PAGE, n),
						 m.bits[c][p] != 0);
				if (m.bits[c][p]) {
					assert_true(ms_dirty_snapshot_next(snap, next, &next));
					assert_int_equal(next, p * PAGE);
					next++;
				}
				count += m.bits[c][p];
				m.bits[c][p] = 0;
			}
			assert_false(ms_dirty_snapshot_next(snap, next, &next));
			assert_int_equal(ms_dirty_snapshot_count(snap), count);
			ms_dirty_snapshot_free(snap);
		}
		model_compare(&m, r, step);
	}
	ms_region_unref(r);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_as_write_marks_the_pages_it_writes),
		T(test_as_write_of_one_byte_marks_one_page),
		T(test_stb_marks_its_page),
		T(test_stw_le_marks_both_pages_it_straddles),
		T(test_stw_be_marks_both_pages_it_straddles),
		T(test_stl_le_marks_both_pages_it_straddles),
		T(test_stl_be_marks_its_page),
		T(test_stq_le_marks_both_pages_it_straddles),
		T(test_stq_be_marks_both_pages_it_straddles),
		T(test_as_set_marks_the_pages_it_fills),
		T(test_loader_into_rom_marks_the_rom),
		T(test_plain_write_to_rom_marks_nothing),
		T(test_dispatch_write_marks_the_pages_it_writes),
		T(test_dma_write_marks_the_pages_it_writes),
		T(test_dma_set_marks_the_pages_it_fills),
		T(test_direct_mapping_marks_at_unmap),
		T(test_unmap_marks_only_access_len),
		T(test_bounce_mapping_marks_when_written_back),
		T(test_cache_write_marks_the_pages_it_writes),
		T(test_cache_stores_mark_the_pages_they_write),
		T(test_each_cache_store_marks_its_page),
		T(test_write_through_an_alias_marks_the_target),
		T(test_ram_device_writes_mark_the_pages_they_write),
		T(test_write_through_an_iommu_marks_the_ram),
		T(test_write_through_an_iommu_across_pages_marks_each_target_page),
		T(test_clients_are_independent),
		T(test_client_bits_stay_after_logging_stops),
		T(test_set_dirty_log_refuses_bad_arguments),
		T(test_client_logging_shows_in_the_view),
		T(test_global_logging_logs_migration_on_every_block),
		T(test_set_dirty_marks_partial_pages_whole),
		T(test_a_range_across_a_bitmap_word_is_marked_and_cleared),
		T(test_last_partial_page_of_an_odd_sized_region),
		T(test_snapshot_of_an_odd_sized_region_ends_at_its_last_byte),
		T(test_get_set_reset_refuse_bad_arguments),
		T(test_layout_only_ram_has_no_bits),
		T(test_snapshot_rounds_out_to_whole_words),
		T(test_snapshot_across_words_and_the_last_partial_word),
		T(test_snapshot_of_a_client_that_never_logged_is_empty),
		T(test_snapshot_keeps_its_region_alive),
		T(test_snapshot_refuses_bad_arguments),
		T(test_page_size_is_fixed_once_ram_exists),
		T(test_a_64k_page_size_tracks_64k_pages),
		T(test_clear_dirty_calls_log_clear_with_cropped_sections),
		T(test_version_1_listener_gets_no_log_clear_and_global_start),
		T(test_global_start_rolls_back_when_a_listener_refuses),
		T(test_global_logging_inside_a_transaction_is_ebusy),
		T(test_global_logging_commit_failure_rolls_back),
		T(test_global_logging_skips_blocks_that_are_not_migratable),
		T(test_global_start_rollback_runs_in_reverse),
		T(test_registration_refused_while_global_logging_is_on),
		T(test_global_start_out_of_memory_changes_nothing),
		T(test_snapshot_out_of_memory_takes_nothing),
		T(test_clear_dirty_from_a_callback_is_ebusy),
		T(test_random_operations_match_a_reference_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
