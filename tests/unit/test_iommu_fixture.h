/*
 * test_iommu_fixture.h: the machine of the IOMMU tests (not a test itself),
 * shared by test_iommu.c and test_iommu_notify.c.
 *
 * Address space "mem" is RAM at 0 (RAM_SIZE, filled with a known pattern);
 * address space "dma" has the test IOMMU (test_iommu_support.h: a page table
 * in a C array, 64 pages of 4 KiB) at 0, translating into "mem".
 *
 * Include after <cmocka.h>, ms_unit.h and test_iommu_support.h.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TEST_IOMMU_FIXTURE_H
#define TEST_IOMMU_FIXTURE_H

#define ATTRS MS_ATTRS_UNSPECIFIED
#define SECURE ((ms_attrs){.secure = 1})
#define PAGE 0x1000u
#define RAM_SIZE 0x100000u

typedef struct fixture {
	ms_ctx *ctx;
	ms_region *memroot, *ram, *dmaroot;
	ms_as *mem, *dma;
	uint8_t *ramp;
	test_iommu t;
	recorder rec[3];
	strbuf sb;
} fixture;

static inline int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->ctx = new_ctx();
	assert_int_equal(ms_region_new_container(&f->memroot, f->ctx, "memroot", MS_SIZE_2_64), 0);
	assert_int_equal(ms_region_new_ram(&f->ram, f->ctx, "ram", RAM_SIZE), 0);
	assert_int_equal(ms_region_add_subregion(f->memroot, 0, f->ram), 0);
	assert_int_equal(ms_as_new(&f->mem, f->ctx, f->memroot, "mem"), 0);
	assert_int_equal(ms_region_new_container(&f->dmaroot, f->ctx, "dmaroot", MS_SIZE_2_64), 0);
	assert_int_equal(ms_as_new(&f->dma, f->ctx, f->dmaroot, "dma"), 0);
	pt_init(&f->t, f->ctx, "iommu", PT_PAGES * PAGE, f->mem, 2);
	assert_int_equal(ms_region_add_subregion(f->dmaroot, 0, f->t.region), 0);
	f->ramp = ms_region_ram_ptr(f->ram);
	for (unsigned i = 0; i < RAM_SIZE; i++)
		f->ramp[i] = (uint8_t)(i * 7 + (i >> 12));
	*state = f;
	return 0;
}

static inline int teardown(void **state)
{
	fixture *f = *state;

	ms_region_unref(f->t.region);
	ms_region_unref(f->ram);
	ms_region_unref(f->memroot);
	ms_region_unref(f->dmaroot);
	ms_ctx_free(f->ctx);
	free(f);
	return 0;
}

#endif /* TEST_IOMMU_FIXTURE_H */
