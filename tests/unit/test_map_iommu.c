/*
 * test_map_iommu.c: DMA maps through an IOMMU (map.h): a direct mapping runs
 * on across IOMMU pages while each translates to the same RAM region at the
 * next offset and grants the mapping's permission, and stops at the first
 * page that does not; a bounce buffer covers one IOMMU page; unmapping gives
 * every region reference back.
 *
 * The machine is that of test_iommu_fixture.h: address space "dma" has the
 * page-table IOMMU (4 KiB pages, every page unmapped until a test fills
 * its entry) at 0, translating into address space "mem", which has RAM of
 * RAM_SIZE bytes at 0.
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
#include "test_iommu_fixture.h"

/* References on @r once pending view frees (call_rcu) have run. */
static uint32_t settled_refs(const ms_region *r)
{
	rcu_barrier_bp();
	return region_refs(r);
}

/* A device of @size bytes that reads zeros and ignores writes. */
static ms_region *new_dev(fixture *f, uint64_t size)
{
	ms_region *r = NULL;

	assert_int_equal(ms_region_new_io(&r, f->ctx,
					  &(ms_region_io_opts){
						  .name = "dev", .size = size, .ops = nop_ops()}),
			 0);
	return r;
}

/*
 * Map @len bytes at @addr of "dma": expect @want covering @want_len bytes,
 * then unmap; the RAM's references are as before.
 */
static void expect_map(fixture *f, uint64_t addr, uint64_t len, bool is_write, const void *want,
		       uint64_t want_len)
{
	uint32_t refs = settled_refs(f->ram);
	uint8_t *p = ms_as_map(f->dma, addr, &len, is_write, ATTRS);

	assert_ptr_equal(p, want);
	assert_int_equal(len, want_len);
	assert_int_equal(ms__map_check(f->dma), 0);
	if (p)
		assert_int_equal(ms_as_unmap(f->dma, p, len, is_write, 0), 0);
	assert_int_equal(settled_refs(f->ram), refs);
	assert_int_equal(ms__map_check(f->dma), 0);
}

/* Map IOMMU page @page (and its index-1 twin) to @target with @perm. */
static void pt_set(fixture *f, unsigned page, uint64_t target, ms_iommu_perm perm)
{
	f->t.table[0][page] = (pte){target, perm};
	f->t.table[1][page] = (pte){target, perm};
}

/* ---- contiguous pages ------------------------------------------------------------ */

static void test_three_contiguous_iommu_pages_map_as_one_direct_mapping(void **state)
{
	fixture *f = *state;

	pt_set(f, 0, 0x8000, MS_IOMMU_RW);
	pt_set(f, 1, 0x9000, MS_IOMMU_RW);
	pt_set(f, 2, 0xa000, MS_IOMMU_RW);
	expect_map(f, 0, 3 * PAGE, false, f->ramp + 0x8000, 3 * PAGE);
	expect_map(f, 0, 3 * PAGE, true, f->ramp + 0x8000, 3 * PAGE);
	/* Unaligned at both ends: from inside the first page into the third. */
	expect_map(f, 0x10, 2 * PAGE + 0x20, true, f->ramp + 0x8010, 2 * PAGE + 0x20);
	/* Page 3 is unmapped: a longer map ends after page 2. */
	expect_map(f, 0x10, 8 * PAGE, false, f->ramp + 0x8010, 3 * PAGE - 0x10);
}

static void test_mapping_through_the_iommu_writes_the_ram(void **state)
{
	fixture *f = *state;
	uint64_t len = 2 * PAGE;
	uint8_t buf[2 * PAGE], *p;

	pt_set(f, 4, 0x20000, MS_IOMMU_RW);
	pt_set(f, 5, 0x21000, MS_IOMMU_RW);
	p = ms_as_map(f->dma, 4 * PAGE, &len, true, ATTRS);
	assert_ptr_equal(p, f->ramp + 0x20000);
	assert_int_equal(len, 2 * PAGE);
	for (unsigned i = 0; i < sizeof(buf); i++)
		p[i] = buf[i] = (uint8_t)(i * 13 + 1);
	assert_int_equal(ms_as_unmap(f->dma, p, len, true, len), 0);
	assert_memory_equal(f->ramp + 0x20000, buf, sizeof(buf));
	memset(buf, 0, sizeof(buf));
	assert_int_equal(ms_as_read(f->dma, 4 * PAGE, ATTRS, buf, sizeof(buf)), MS_RESULT_OK);
	assert_memory_equal(f->ramp + 0x20000, buf, sizeof(buf));
}

/* ---- where the mapping stops ------------------------------------------------------ */

static void test_pages_that_translate_non_contiguously_stop_the_mapping(void **state)
{
	fixture *f = *state;

	/* A gap: page 1 skips a page of RAM. */
	pt_set(f, 0, 0x8000, MS_IOMMU_RW);
	pt_set(f, 1, 0xa000, MS_IOMMU_RW);
	pt_set(f, 2, 0xb000, MS_IOMMU_RW);
	expect_map(f, 0, 3 * PAGE, false, f->ramp + 0x8000, PAGE);
	/* From page 1 on the pages are contiguous again. */
	expect_map(f, PAGE, 2 * PAGE, false, f->ramp + 0xa000, 2 * PAGE);
	/* Backwards: page 1 is the RAM page before page 0's. */
	pt_set(f, 1, 0x7000, MS_IOMMU_RW);
	expect_map(f, 0, 2 * PAGE, true, f->ramp + 0x8000, PAGE);
	/* The same RAM page twice. */
	pt_set(f, 1, 0x8000, MS_IOMMU_RW);
	expect_map(f, 0, 2 * PAGE, true, f->ramp + 0x8000, PAGE);
}

static void test_a_page_into_a_different_region_stops_the_mapping(void **state)
{
	fixture *f = *state;
	ms_region *ram2 = new_ram(f->ctx, "ram2", 4 * PAGE);
	ms_region *io = new_dev(f, 4 * PAGE);

	/* ram2 follows the RAM in "mem", so the guest addresses are contiguous. */
	assert_int_equal(ms_region_add_subregion(f->memroot, RAM_SIZE, ram2), 0);
	assert_int_equal(ms_region_add_subregion(f->memroot, RAM_SIZE + 4 * PAGE, io), 0);
	pt_set(f, 0, RAM_SIZE - PAGE, MS_IOMMU_RW);
	pt_set(f, 1, RAM_SIZE, MS_IOMMU_RW);
	pt_set(f, 2, RAM_SIZE + PAGE, MS_IOMMU_RW);
	expect_map(f, 0, 3 * PAGE, false, f->ramp + RAM_SIZE - PAGE, PAGE);
	expect_map(f, 0, 3 * PAGE, true, f->ramp + RAM_SIZE - PAGE, PAGE);
	/* Within ram2 the mapping goes on. */
	expect_map(f, PAGE, 2 * PAGE, true, (uint8_t *)ms_region_ram_ptr(ram2), 2 * PAGE);
	/* RAM followed by a device page: the device is not part of the direct mapping. */
	pt_set(f, 3, RAM_SIZE + 4 * PAGE, MS_IOMMU_RW);
	pt_set(f, 2, RAM_SIZE + 3 * PAGE, MS_IOMMU_RW);
	expect_map(f, 2 * PAGE, 2 * PAGE, false, (uint8_t *)ms_region_ram_ptr(ram2) + 3 * PAGE,
		   PAGE);
	/* So does a page into a hole of "mem". */
	pt_set(f, 4, RAM_SIZE - 2 * PAGE, MS_IOMMU_RW);
	pt_set(f, 5, RAM_SIZE + 64 * PAGE, MS_IOMMU_RW);
	expect_map(f, 4 * PAGE, 2 * PAGE, false, f->ramp + RAM_SIZE - 2 * PAGE, PAGE);

	assert_int_equal(ms_region_del_subregion(f->memroot, io), 0);
	assert_int_equal(ms_region_del_subregion(f->memroot, ram2), 0);
	ms_region_unref(io);
	ms_region_unref(ram2);
}

static void test_a_page_without_the_permission_stops_the_mapping(void **state)
{
	fixture *f = *state;

	pt_set(f, 0, 0x8000, MS_IOMMU_RW);
	pt_set(f, 1, 0x9000, MS_IOMMU_RW);
	pt_set(f, 2, 0xa000, MS_IOMMU_RO);
	/* A write mapping stops before the read-only page; a read mapping does not. */
	expect_map(f, 0, 3 * PAGE, true, f->ramp + 0x8000, 2 * PAGE);
	expect_map(f, 0, 3 * PAGE, false, f->ramp + 0x8000, 3 * PAGE);
	/* A read mapping stops before a write-only page, or one with no permission. */
	pt_set(f, 1, 0x9000, MS_IOMMU_WO);
	expect_map(f, 0, 3 * PAGE, false, f->ramp + 0x8000, PAGE);
	pt_set(f, 1, 0x9000, MS_IOMMU_NONE);
	expect_map(f, 0, 3 * PAGE, false, f->ramp + 0x8000, PAGE);
	expect_map(f, 0, 3 * PAGE, true, f->ramp + 0x8000, PAGE);
	/* Starting on the read-only page, a write maps nothing. */
	expect_map(f, 2 * PAGE, PAGE, true, NULL, 0);
}

static void test_an_iommu_page_leads_on_into_a_plain_range_of_the_same_ram(void **state)
{
	fixture *f = *state;
	ms_region *window = new_alias(f->ctx, "window", f->ram, 0x9000, PAGE);

	/* "dma": the IOMMU's last page, then RAM seen directly through an alias. */
	assert_int_equal(ms_region_add_subregion(f->dmaroot, PT_PAGES * PAGE, window), 0);
	pt_set(f, PT_PAGES - 1, 0x8000, MS_IOMMU_RW);
	expect_map(f, (PT_PAGES - 1) * PAGE, 2 * PAGE, true, f->ramp + 0x8000, 2 * PAGE);
	/* Not contiguous any more: the IOMMU page ends it. */
	pt_set(f, PT_PAGES - 1, 0x6000, MS_IOMMU_RW);
	expect_map(f, (PT_PAGES - 1) * PAGE, 2 * PAGE, true, f->ramp + 0x6000, PAGE);
	assert_int_equal(ms_region_del_subregion(f->dmaroot, window), 0);
	ms_region_unref(window);
}

/* ---- bounce buffers and release ----------------------------------------------------- */

static void test_bounce_buffer_behind_the_iommu_covers_one_page(void **state)
{
	fixture *f = *state;
	ms_region *io = new_dev(f, 4 * PAGE);
	uint64_t len = 3 * PAGE;
	uint8_t *p;

	assert_int_equal(ms_region_add_subregion(f->memroot, RAM_SIZE, io), 0);
	pt_set(f, 0, RAM_SIZE, MS_IOMMU_RW);
	pt_set(f, 1, RAM_SIZE + PAGE, MS_IOMMU_RW);
	pt_set(f, 2, RAM_SIZE + 2 * PAGE, MS_IOMMU_RW);
	for (int is_write = 0; is_write <= 1; is_write++) {
		len = 3 * PAGE;
		p = ms_as_map(f->dma, 0x10, &len, is_write, ATTRS);
		assert_non_null(p);
		assert_true((uintptr_t)p - (uintptr_t)f->ramp >= RAM_SIZE); /* not the RAM */
		assert_int_equal(len, PAGE - 0x10);
		assert_int_equal(ms__map_check(f->dma), 0);
		assert_int_equal(ms_as_unmap(f->dma, p, len, is_write, 0), 0);
		assert_int_equal(ms__map_check(f->dma), 0);
	}
	assert_int_equal(ms_region_del_subregion(f->memroot, io), 0);
	ms_region_unref(io);
}

static void test_unmapping_releases_every_reference(void **state)
{
	fixture *f = *state;
	uint32_t refs = settled_refs(f->ram);
	uint8_t *p[3];
	uint64_t len[3];

	for (unsigned i = 0; i < 8; i++)
		pt_set(f, i, 0x10000 + i * PAGE, MS_IOMMU_RW);
	for (unsigned i = 0; i < 3; i++) {
		len[i] = (i + 2) * PAGE;
		p[i] = ms_as_map(f->dma, i * PAGE, &len[i], i == 1, ATTRS);
		assert_ptr_equal(p[i], f->ramp + 0x10000 + i * PAGE);
		assert_int_equal(len[i], (i + 2) * PAGE);
		assert_int_equal(ms__map_check(f->dma), 0);
	}
	/* One reference per mapping, however many pages it spans. */
	assert_int_equal(settled_refs(f->ram), refs + 3);
	/* A wrong length (one page, as the old clamp gave) is refused. */
	assert_int_equal(ms_as_unmap(f->dma, p[0], PAGE, false, 0), -EINVAL);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(ms_as_unmap(f->dma, p[i], len[i], i == 1, i == 1 ? len[i] : 0), 0);
		assert_int_equal(ms__map_check(f->dma), 0);
		assert_int_equal(settled_refs(f->ram), refs + 2 - i);
	}
	/* A second unmap finds nothing. */
	assert_int_equal(ms_as_unmap(f->dma, p[2], len[2], false, 0), -EINVAL);
	assert_int_equal(ms__map_check(f->dma), 0);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_three_contiguous_iommu_pages_map_as_one_direct_mapping),
		T(test_mapping_through_the_iommu_writes_the_ram),
		T(test_pages_that_translate_non_contiguously_stop_the_mapping),
		T(test_a_page_into_a_different_region_stops_the_mapping),
		T(test_a_page_without_the_permission_stops_the_mapping),
		T(test_an_iommu_page_leads_on_into_a_plain_range_of_the_same_ram),
		T(test_bounce_buffer_behind_the_iommu_covers_one_page),
		T(test_unmapping_releases_every_reference),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
