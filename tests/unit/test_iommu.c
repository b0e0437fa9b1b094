/*
 * test_iommu.c: IOMMU regions (iommu.h): translation in accesses, maps and
 * ms_as_translate(), chains and cycles, permissions and indexes, IOTLB
 * entries, and the class (ms_iommu_new() checks, get_attr, direct
 * translation and page size).
 *
 * Notifiers and replay are tested in test_iommu_notify.c; the machine is
 * that of test_iommu_fixture.h.
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

static uint8_t ram_byte(unsigned i)
{
	return (uint8_t)(i * 7 + (i >> 12));
}

/* ---- translation in accesses ----------------------------------------------------- */

static void test_access_translates_through_the_iommu(void **state)
{
	fixture *f = *state;
	uint8_t buf[16];
	uint32_t v;
	ms_result r;

	f->t.table[0][1] = (pte){0x5000, MS_IOMMU_RW};
	assert_int_equal(ms_as_read(f->dma, PAGE + 0x10, ATTRS, buf, sizeof(buf)), MS_RESULT_OK);
	for (unsigned i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], ram_byte(0x5010 + i));
	assert_int_equal(f->t.last_flags, MS_IOMMU_RO);
	assert_int_equal(ms_as_stl_le(f->dma, PAGE + 0x20, ATTRS, 0xdeadbeef), MS_RESULT_OK);
	assert_int_equal(f->t.last_flags, MS_IOMMU_WO);
	memcpy(&v, f->ramp + 0x5020, 4);
	assert_int_equal(v, 0xdeadbeef);
	assert_int_equal(ms_as_ldl_le(f->dma, PAGE + 0x20, ATTRS, &r), 0xdeadbeef);
	assert_int_equal(r, MS_RESULT_OK);
}

static void test_access_is_split_at_iommu_pages(void **state)
{
	fixture *f = *state;
	uint8_t buf[8];

	/* Two adjacent IOVA pages map to distant, reversed physical pages. */
	f->t.table[0][2] = (pte){0x9000, MS_IOMMU_RW};
	f->t.table[0][3] = (pte){0x3000, MS_IOMMU_RW};
	assert_int_equal(ms_as_read(f->dma, 3 * PAGE - 4, ATTRS, buf, 8), MS_RESULT_OK);
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(buf[i], ram_byte(0x9ffc + i));
		assert_int_equal(buf[4 + i], ram_byte(0x3000 + i));
	}
	/* A scalar that crosses the page boundary too. */
	assert_int_equal(ms_as_stq_le(f->dma, 3 * PAGE - 4, ATTRS, 0x1122334455667788u),
			 MS_RESULT_OK);
	assert_int_equal(f->ramp[0x9ffc], 0x88);
	assert_int_equal(f->ramp[0x3003], 0x11);
}

static void test_translate_reports_the_final_region_clamped_to_the_page(void **state)
{
	fixture *f = *state;
	ms_section s;
	uint64_t len = 0x3000;

	f->t.table[0][4] = (pte){0x7000, MS_IOMMU_RW};
	ms_rcu_read_lock();
	assert_int_equal(ms_as_translate(&s, &len, f->dma, 4 * PAGE + 0x100,
					 &(ms_access_opts){.is_write = false, .attrs = ATTRS}),
			 0);
	assert_ptr_equal(s.region, f->ram);
	assert_int_equal(s.offset_in_region, 0x7100);
	assert_int_equal(s.start, 4 * PAGE + 0x100);
	assert_int_equal(len, PAGE - 0x100);
	assert_int_equal(s.last, 5 * PAGE - 1);
	ms_rcu_read_unlock();
	len = 4;
	assert_int_equal(ms_as_translate(&s, &len, f->dma, 5 * PAGE,
					 &(ms_access_opts){.is_write = false, .attrs = ATTRS}),
			 -EACCES);
	assert_null(s.region);
	assert_int_equal(len, 4);
}

static void test_permission_fault_is_an_access_error(void **state)
{
	fixture *f = *state;
	uint8_t before = f->ramp[0x6000], buf[4] = {1, 2, 3, 4};
	ms_result r;

	f->t.table[0][1] = (pte){0x6000, MS_IOMMU_RO};
	f->t.table[0][2] = (pte){0x6000, MS_IOMMU_WO};
	assert_int_equal(ms_as_stb(f->dma, PAGE, ATTRS, 0x55), MS_RESULT_ACCESS_ERROR);
	assert_int_equal(f->ramp[0x6000], before);
	assert_int_equal(ms_as_ldub(f->dma, PAGE, ATTRS, &r), before);
	assert_int_equal(r, MS_RESULT_OK);
	/* Write-only: reads fail and return 0; writes go through. */
	assert_int_equal(ms_as_read(f->dma, 2 * PAGE, ATTRS, buf, 4), MS_RESULT_ACCESS_ERROR);
	assert_memory_equal(buf, "\0\0\0\0", 4);
	assert_int_equal(ms_as_stb(f->dma, 2 * PAGE, ATTRS, 0x55), MS_RESULT_OK);
	assert_int_equal(f->ramp[0x6000], 0x55);
	/* Unmapped: access error too, and access_valid says no. */
	assert_int_equal(ms_as_ldub(f->dma, 9 * PAGE, ATTRS, &r), 0);
	assert_int_equal(r, MS_RESULT_ACCESS_ERROR);
	assert_false(ms_as_access_valid(f->dma, 9 * PAGE, 1, false, ATTRS));
	assert_true(ms_as_access_valid(f->dma, PAGE, PAGE, false, ATTRS));
	assert_false(ms_as_access_valid(f->dma, PAGE, PAGE, true, ATTRS));
	assert_false(ms_as_access_valid(f->dma, PAGE, PAGE + 1, false, ATTRS));
	/* The loader skips what it may not write. */
	assert_int_equal(ms_as_write_rom(f->dma, PAGE, "\x66", 1), MS_RESULT_OK);
	assert_int_equal(f->ramp[0x6000], 0x55);
	assert_int_equal(ms_as_write_rom(f->dma, 2 * PAGE + 1, "\x66", 1), MS_RESULT_OK);
	assert_int_equal(f->ramp[0x6001], 0x66);
}

static void test_index_comes_from_attrs(void **state)
{
	fixture *f = *state;
	ms_result r;

	f->t.table[0][1] = (pte){0x1000, MS_IOMMU_RW};
	f->t.table[1][1] = (pte){0x2000, MS_IOMMU_RW};
	assert_int_equal(ms_as_ldub(f->dma, PAGE, ATTRS, &r), ram_byte(0x1000));
	assert_int_equal(ms_as_ldub(f->dma, PAGE, SECURE, &r), ram_byte(0x2000));
	assert_int_equal(ms_iommu_attrs_to_index(f->t.region, SECURE), 1);
	assert_int_equal(ms_iommu_attrs_to_index(f->t.region, ATTRS), 0);
	assert_int_equal(ms_iommu_num_indexes(f->t.region), 2);
}

static unsigned bad_index(ms_region *iommu, ms_attrs attrs, void *opaque)
{
	(void)iommu;
	(void)attrs;
	(void)opaque;
	return 7;
}

static void test_index_out_of_range_fails_the_access(void **state)
{
	fixture *f = *state;
	ms_iommu_ops ops = pt_ops;
	ms_region *bad;
	ms_iotlb_entry e;
	ms_result r;

	ops.attrs_to_index = bad_index;
	f->t.table[0][0] = (pte){0, MS_IOMMU_RW};
	assert_int_equal(
		ms_iommu_new(&bad, f->ctx,
			     &(ms_iommu_opts){
				     .name = "bad", .size = PAGE, .ops = &ops, .opaque = &f->t}),
		0);
	assert_int_equal(ms_region_add_subregion(f->dmaroot, 0x100000, bad), 0);
	(void)ms_as_ldub(f->dma, 0x100000, ATTRS, &r);
	assert_int_equal(r, MS_RESULT_ACCESS_ERROR);
	assert_int_equal(ms_as_get_iotlb_entry(&e, f->dma, 0x100000, false, ATTRS), -EIO);
	assert_int_equal(ms_iommu_attrs_to_index(bad, ATTRS), -EINVAL);
	assert_int_equal(ms_region_del_subregion(f->dmaroot, bad), 0);
	ms_region_unref(bad);
}

static void test_malformed_entry_fails_the_access(void **state)
{
	fixture *f = *state;
	ms_iotlb_entry e;
	ms_result r;

	f->t.table[0][0] = (pte){0, MS_IOMMU_RW};
	f->t.malformed = true;
	(void)ms_as_ldub(f->dma, 0, ATTRS, &r);
	assert_int_equal(r, MS_RESULT_ACCESS_ERROR);
	assert_int_equal(ms_as_get_iotlb_entry(&e, f->dma, 0, false, ATTRS), -EIO);
	f->t.malformed = false;
	f->t.target[0] = NULL;
	assert_int_equal(ms_as_get_iotlb_entry(&e, f->dma, 0, false, ATTRS), -EIO);
}

static void test_translate_that_reenters_its_iommu_fails(void **state)
{
	fixture *f = *state;
	ms_result r;

	f->t.table[0][0] = (pte){0, MS_IOMMU_RW};
	f->t.table[0][1] = (pte){0x1000, MS_IOMMU_RW};
	/* A page-table read through "mem" is fine... */
	f->t.walk_as = f->mem;
	f->t.walk_addr = 0x10;
	assert_int_equal(ms_as_ldub(f->dma, 0, ATTRS, &r), ram_byte(0));
	assert_int_equal(r, MS_RESULT_OK);
	assert_int_equal(f->t.walk_result, MS_RESULT_OK);
	/* ...one through the IOMMU itself fails instead of recursing. */
	f->t.walk_as = f->dma;
	f->t.walk_addr = PAGE;
	assert_int_equal(ms_as_ldub(f->dma, 0, ATTRS, &r), ram_byte(0));
	assert_int_equal(r, MS_RESULT_OK);
	assert_int_equal(f->t.walk_result, MS_RESULT_ACCESS_ERROR);
}

static void test_map_goes_through_the_iommu(void **state)
{
	fixture *f = *state;
	uint64_t len = 3 * PAGE;
	uint8_t *p;

	f->t.table[0][1] = (pte){0x8000, MS_IOMMU_RW};
	f->t.table[0][2] = (pte){0x9000, MS_IOMMU_RO};
	p = ms_as_map(f->dma, PAGE + 0x10, &len, true, ATTRS);
	assert_ptr_equal(p, f->ramp + 0x8010);
	assert_int_equal(len, PAGE - 0x10);
	assert_int_equal(ms_as_unmap(f->dma, p, len, true, 0), 0);
	len = 16;
	assert_null(ms_as_map(f->dma, 2 * PAGE, &len, true, ATTRS));
	assert_int_equal(len, 0);
	len = 16;
	p = ms_as_map(f->dma, 2 * PAGE, &len, false, ATTRS);
	assert_ptr_equal(p, f->ramp + 0x9000);
	assert_int_equal(ms_as_unmap(f->dma, p, len, false, 0), 0);
}

static void test_iommu_without_class_is_still_a_reservation(void **state)
{
	fixture *f = *state;
	ms_region *plain;
	ms_iotlb_entry e;
	ms_section s;
	uint64_t len = 8;
	ms_result r;

	assert_int_equal(
		ms_iommu_new(&plain, f->ctx, &(ms_iommu_opts){.name = "plain", .size = PAGE}), 0);
	assert_int_equal(ms_region_add_subregion(f->dmaroot, 0x200000, plain), 0);
	(void)ms_as_ldub(f->dma, 0x200000, ATTRS, &r);
	assert_int_equal(r, MS_RESULT_DECODE_ERROR);
	assert_int_equal(ms_as_get_iotlb_entry(&e, f->dma, 0x200000, false, ATTRS), -ENOENT);
	ms_rcu_read_lock();
	assert_int_equal(ms_as_translate(&s, &len, f->dma, 0x200000,
					 &(ms_access_opts){.is_write = false, .attrs = ATTRS}),
			 0);
	assert_ptr_equal(s.region, plain);
	ms_rcu_read_unlock();
	assert_int_equal(ms_iommu_num_indexes(plain), 0);
	assert_int_equal(ms_iommu_get_min_page_size(plain), 0);
	assert_int_equal(ms_region_del_subregion(f->dmaroot, plain), 0);
	ms_region_unref(plain);
}

/* ---- chains and cycles -------------------------------------------------------------- */

static void test_chain_of_two_iommus(void **state)
{
	fixture *f = *state;
	test_iommu *outer = calloc(1, sizeof(*outer));
	ms_region *root2;
	ms_as *bus;
	ms_iotlb_entry e;
	ms_section s;
	uint64_t len = 0x10000;
	ms_result r;

	/* "bus" -> outer IOMMU (2 MiB pages) -> "dma" -> inner IOMMU (4 KiB) -> "mem". */
	assert_non_null(outer);
	assert_int_equal(ms_region_new_container(&root2, f->ctx, "root2", MS_SIZE_2_64), 0);
	assert_int_equal(ms_as_new(&bus, f->ctx, root2, "bus"), 0);
	pt_init(outer, f->ctx, "outer", (uint64_t)PT_PAGES << 21, f->dma, 1);
	outer->page_size = (uint64_t)1 << 21;
	assert_int_equal(ms_region_add_subregion(root2, 0, outer->region), 0);
	outer->table[0][3] = (pte){0, MS_IOMMU_RW}; /* bus 6 MiB.. -> dma 0.. */
	f->t.table[0][5] = (pte){0xa000, MS_IOMMU_RO};

	assert_int_equal(ms_as_ldub(bus, (3u << 21) + 5 * PAGE + 7, ATTRS, &r), ram_byte(0xa007));
	assert_int_equal(r, MS_RESULT_OK);
	assert_int_equal(ms_as_stb(bus, (3u << 21) + 5 * PAGE, ATTRS, 1), MS_RESULT_ACCESS_ERROR);

	assert_int_equal(ms_as_get_iotlb_entry(&e, bus, (3u << 21) + 5 * PAGE + 7, false, ATTRS),
			 0);
	assert_ptr_equal(e.target_as, f->mem);
	assert_int_equal(e.iova, (3u << 21) + 5 * PAGE);
	assert_int_equal(e.translated_addr, 0xa000);
	assert_int_equal(e.addr_mask, PAGE - 1); /* the smaller page on the path */
	assert_int_equal(e.perm, MS_IOMMU_RO);   /* what both grant */
	assert_int_equal(ms_as_get_iotlb_entry(&e, bus, (3u << 21) + 5 * PAGE, true, ATTRS),
			 -EACCES);

	ms_rcu_read_lock();
	assert_int_equal(ms_as_translate(&s, &len, bus, (3u << 21) + 5 * PAGE + 7,
					 &(ms_access_opts){.is_write = false, .attrs = ATTRS}),
			 0);
	assert_ptr_equal(s.region, f->ram);
	assert_int_equal(s.offset_in_region, 0xa007);
	assert_int_equal(len, PAGE - 7);
	ms_rcu_read_unlock();

	assert_int_equal(ms_region_del_subregion(root2, outer->region), 0);
	ms_region_unref(outer->region);
	ms_as_free(bus);
	ms_region_unref(root2);
	free(outer);
}

static void test_iommu_cycle_is_detected(void **state)
{
	fixture *f = *state;
	test_iommu *back = calloc(1, sizeof(*back));
	ms_iotlb_entry e;
	ms_section s;
	uint64_t len = 1;
	ms_result r;

	/* dma:0 -> mem:0x80000, where a second IOMMU sends it back to dma:0. */
	assert_non_null(back);
	pt_init(back, f->ctx, "back", PT_PAGES * PAGE, f->dma, 1);
	assert_int_equal(ms_region_add_subregion_overlap(f->memroot, 0x80000, back->region, 1), 0);
	back->table[0][0] = (pte){0, MS_IOMMU_RW};
	f->t.table[0][0] = (pte){0x80000, MS_IOMMU_RW};

	assert_int_equal(ms_as_ldub(f->dma, 0x10, ATTRS, &r), 0);
	assert_int_equal(r, MS_RESULT_ACCESS_ERROR);
	assert_int_equal(ms_as_stb(f->dma, 0x10, ATTRS, 1), MS_RESULT_ACCESS_ERROR);
	assert_false(ms_as_access_valid(f->dma, 0x10, 1, false, ATTRS));
	assert_int_equal(ms_as_get_iotlb_entry(&e, f->dma, 0x10, false, ATTRS), -ELOOP);
	assert_int_equal(ms_as_translate(&s, &len, f->dma, 0x10,
					 &(ms_access_opts){.is_write = false, .attrs = ATTRS}),
			 -ELOOP);
	len = 16;
	assert_null(ms_as_map(f->dma, 0x10, &len, false, ATTRS));
	/* Each IOMMU was asked once per lap, and the loop stopped after one lap. */
	assert_true(f->t.translations <= 16 && back->translations <= 16);

	/* A chain that shifts the address at every lap never repeats: the bound stops it. */
	back->table[0][0] = (pte){PAGE, MS_IOMMU_RW};
	for (unsigned i = 1; i < PT_PAGES; i++) {
		f->t.table[0][i] = (pte){0x80000 + i * PAGE, MS_IOMMU_RW};
		back->table[0][i] = (pte){(i + 1) * PAGE, MS_IOMMU_RW};
	}
	assert_int_equal(ms_as_get_iotlb_entry(&e, f->dma, 0x10, false, ATTRS), -ELOOP);

	assert_int_equal(ms_region_del_subregion(f->memroot, back->region), 0);
	ms_region_unref(back->region);
	free(back);
}

static void test_iotlb_entry_without_iommu_and_errors(void **state)
{
	fixture *f = *state;
	ms_iotlb_entry e;

	assert_int_equal(ms_as_get_iotlb_entry(&e, f->mem, 0x12345, true, ATTRS), 0);
	assert_ptr_equal(e.target_as, f->mem);
	assert_int_equal(e.iova, 0x12000);
	assert_int_equal(e.translated_addr, 0x12000);
	assert_int_equal(e.addr_mask, MS_IOMMU_PAGE_SIZE_DEFAULT - 1);
	assert_int_equal(e.perm, MS_IOMMU_RW);
	assert_int_equal(ms_as_get_iotlb_entry(&e, f->mem, 0x10000000, false, ATTRS), -ENOENT);
	assert_null(e.target_as);
	assert_int_equal(ms_as_get_iotlb_entry(&e, f->dma, 0, false, ATTRS), -EACCES);
	assert_int_equal(ms_as_get_iotlb_entry(&e, NULL, 0, false, ATTRS), -EINVAL);
	assert_int_equal(ms_as_get_iotlb_entry(NULL, f->dma, 0, false, ATTRS), -EINVAL);
}

/* ---- the class ------------------------------------------------------------------------ */

static int attr_fd(ms_region *iommu, ms_iommu_attr attr, void *data, void *opaque)
{
	(void)iommu;
	(void)opaque;
	if (attr != MS_IOMMU_ATTR_SPAPR_TCE_FD)
		return -EINVAL;
	*(int *)data = 42;
	return 0;
}

static void test_get_attr_defaults_to_einval(void **state)
{
	fixture *f = *state;
	ms_iommu_ops ops = pt_ops;
	ms_region *with_attr;
	int fd = -1;

	assert_int_equal(ms_iommu_get_attr(f->t.region, MS_IOMMU_ATTR_SPAPR_TCE_FD, &fd), -EINVAL);
	assert_int_equal(fd, -1);
	ops.get_attr = attr_fd;
	assert_int_equal(
		ms_iommu_new(&with_attr, f->ctx,
			     &(ms_iommu_opts){
				     .name = "attr", .size = PAGE, .ops = &ops, .opaque = &f->t}),
		0);
	assert_int_equal(ms_iommu_get_attr(with_attr, MS_IOMMU_ATTR_SPAPR_TCE_FD, &fd), 0);
	assert_int_equal(fd, 42);
	assert_int_equal(ms_iommu_get_attr(with_attr, MS_IOMMU_ATTR_SPAPR_TCE_FD, NULL), -EINVAL);
	assert_int_equal(ms_iommu_get_attr(f->ram, MS_IOMMU_ATTR_SPAPR_TCE_FD, &fd), -EINVAL);
	ms_region_unref(with_attr);
}

static unsigned zero_indexes(ms_region *iommu, void *opaque)
{
	(void)iommu;
	(void)opaque;
	return 0;
}

static void test_iommu_new_rejects_bad_input(void **state)
{
	fixture *f = *state;
	ms_iommu_ops ops = pt_ops;
	ms_region *r = (ms_region *)1;
	size_t live = live_regions(f->ctx);

	assert_int_equal(ms_iommu_new(NULL, f->ctx,
				      &(ms_iommu_opts){.name = "x", .size = PAGE, .ops = &pt_ops}),
			 -EINVAL);
	assert_int_equal(
		ms_iommu_new(&r, NULL, &(ms_iommu_opts){.name = "x", .size = PAGE, .ops = &pt_ops}),
		-EINVAL);
	assert_null(r);
	assert_int_equal(ms_iommu_new(&r, f->ctx,
				      &(ms_iommu_opts){.name = NULL, .size = PAGE, .ops = &pt_ops}),
			 -EINVAL);
	assert_int_equal(
		ms_iommu_new(&r, f->ctx, &(ms_iommu_opts){.name = "x", .size = 0, .ops = &pt_ops}),
		-EINVAL);
	ops.version = 0;
	assert_int_equal(
		ms_iommu_new(&r, f->ctx, &(ms_iommu_opts){.name = "x", .size = PAGE, .ops = &ops}),
		-EINVAL);
	ops.version = MS_IOMMU_OPS_VERSION + 1;
	assert_int_equal(
		ms_iommu_new(&r, f->ctx, &(ms_iommu_opts){.name = "x", .size = PAGE, .ops = &ops}),
		-EINVAL);
	ops = pt_ops;
	ops.translate = NULL;
	assert_int_equal(
		ms_iommu_new(&r, f->ctx, &(ms_iommu_opts){.name = "x", .size = PAGE, .ops = &ops}),
		-EINVAL);
	ops = pt_ops;
	ops.num_indexes = zero_indexes;
	assert_int_equal(
		ms_iommu_new(&r, f->ctx, &(ms_iommu_opts){.name = "x", .size = PAGE, .ops = &ops}),
		-EINVAL);
	f->t.nr_indexes = MS_IOMMU_MAX_INDEXES + 1;
	assert_int_equal(
		ms_iommu_new(&r, f->ctx,
			     &(ms_iommu_opts){
				     .name = "x", .size = PAGE, .ops = &pt_ops, .opaque = &f->t}),
		-EINVAL);
	f->t.nr_indexes = 2;
	for (uint64_t n = 1; n < 8; n++) {
		ms_ctx_test_control(f->ctx, MS_TEST_FAIL_ALLOC_AFTER, n);
		int rc = ms_iommu_new(
			&r, f->ctx,
			&(ms_iommu_opts){
				.name = "x", .size = PAGE, .ops = &pt_ops, .opaque = &f->t});

		ms_ctx_test_control(f->ctx, MS_TEST_FAIL_ALLOC_AFTER, 0);
		if (rc == 0) {
			ms_region_unref(r);
			break;
		}
		assert_int_equal(rc, -ENOMEM);
		assert_null(r);
	}
	assert_int_equal(live_regions(f->ctx), live);
}

static void test_direct_translate_and_page_size(void **state)
{
	fixture *f = *state;
	ms_iotlb_entry e;

	f->t.table[1][3] = (pte){0x4000, MS_IOMMU_WO};
	assert_int_equal(ms_iommu_translate(&e, f->t.region, 3 * PAGE + 5, MS_IOMMU_NONE, 1), 0);
	assert_int_equal(f->t.last_flags, MS_IOMMU_NONE);
	assert_int_equal(e.iova, 3 * PAGE);
	assert_int_equal(e.translated_addr, 0x4000);
	assert_int_equal(e.perm, MS_IOMMU_WO);
	assert_int_equal(ms_iommu_translate(&e, f->t.region, 0, MS_IOMMU_NONE, 2), -EINVAL);
	assert_int_equal(ms_iommu_translate(&e, f->t.region, 0, (ms_iommu_perm)4, 0), -EINVAL);
	assert_int_equal(ms_iommu_translate(&e, f->ram, 0, MS_IOMMU_NONE, 0), -EINVAL);
	assert_int_equal(ms_iommu_translate(NULL, f->t.region, 0, MS_IOMMU_NONE, 0), -EINVAL);
	assert_int_equal(ms_iommu_get_min_page_size(f->t.region), PAGE);
	f->t.page_size = 3000;
	assert_int_equal(ms_iommu_get_min_page_size(f->t.region), 0);
	f->t.page_size = PAGE;
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_access_translates_through_the_iommu),
		T(test_access_is_split_at_iommu_pages),
		T(test_translate_reports_the_final_region_clamped_to_the_page),
		T(test_permission_fault_is_an_access_error),
		T(test_index_comes_from_attrs),
		T(test_index_out_of_range_fails_the_access),
		T(test_malformed_entry_fails_the_access),
		T(test_translate_that_reenters_its_iommu_fails),
		T(test_map_goes_through_the_iommu),
		T(test_iommu_without_class_is_still_a_reservation),
		T(test_chain_of_two_iommus),
		T(test_iommu_cycle_is_detected),
		T(test_iotlb_entry_without_iommu_and_errors),
		T(test_get_attr_defaults_to_einval),
		T(test_iommu_new_rejects_bad_input),
		T(test_direct_translate_and_page_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
