/*
 * test_vtd.c: the VT-d-like remapping unit (include/memspace/models/vtd.h):
 * page sizes, permissions, reserved bits, faults, the notifier-flag rules,
 * remapping on/off, each invalidation kind (exactly the changed
 * translations are notified), replay, malformed tables, and a property
 * test against a reference translation written here from the entry format.
 *
 * Fixture: address space "mem" is a 4 GiB container with 64 MiB of RAM at
 * 0 and a counting MMIO device at 0x10000000; unit "vtd" (caching mode and
 * device IOTLB on) reads its tables from "mem"; the table writer's pool is
 * [32 MiB, 64 MiB). Device 00:03.0 is in domain 1 (48-bit), device 00:04.0
 * in domain 2 (39-bit); both have DMA address spaces with remapping on.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <memspace.h>
#include <memspace/models/vtd.h>

#include "ms_rng.h"

#define ATTRS MS_ATTRS_UNSPECIFIED
#define K4 ((uint64_t)0x1000)
#define M2 ((uint64_t)0x200000)
#define G1 ((uint64_t)0x40000000)
#define RAM_SIZE ((uint64_t)0x4000000)
#define POOL ((uint64_t)0x2000000)
#define POOL_SIZE ((uint64_t)0x2000000)
#define MMIO_ADDR ((uint64_t)0x10000000)
#define DEV1 MS_VTD_BDF(0, 3, 0)
#define DEV2 MS_VTD_BDF(0, 4, 0)
#define RW MS_VTD_PTE_RW
#define RO MS_VTD_PTE_READ
#define WO MS_VTD_PTE_WRITE

typedef struct recorder {
	char text[16384];
	size_t len;
	unsigned events;
} recorder;

typedef struct fixture {
	ms_ctx *ctx;
	ms_region *memroot, *ram, *mmio;
	ms_as *mem, *dev1, *dev2;
	ms_vtd *v;
	ms_vtd_pt *pt;
	unsigned mmio_reads;
	pthread_mutex_t fault_lock; /* on_fault runs on the DMA threads too */
	unsigned faults_seen;
	ms_vtd_fault last_fault;
} fixture;

static uint64_t mmio_read(uint64_t addr, unsigned size, void *opaque)
{
	fixture *f = opaque;

	(void)addr;
	(void)size;
	f->mmio_reads++;
	return 0x1003; /* looks like a present directory entry */
}

static void mmio_write(uint64_t addr, uint64_t data, unsigned size, void *opaque)
{
	(void)addr;
	(void)data;
	(void)size;
	(void)opaque;
}

static const ms_region_ops mmio_ops = {
	.version = MS_REGION_OPS_VERSION, .read = mmio_read, .write = mmio_write};

static void on_fault(const ms_vtd_fault *fault, void *opaque)
{
	fixture *f = opaque;

	pthread_mutex_lock(&f->fault_lock);
	f->faults_seen++;
	f->last_fault = *fault;
	pthread_mutex_unlock(&f->fault_lock);
}

static int record(ms_iommu_notifier *n, const ms_iommu_event *ev, void *opaque)
{
	recorder *r = opaque;
	const char *type = ev->type == MS_IOMMU_NOTIFIER_MAP     ? "MAP"
			   : ev->type == MS_IOMMU_NOTIFIER_UNMAP ? "UNMAP"
								 : "DEVIOTLB";
	int len;

	(void)n;
	r->events++;
	if (ev->type == MS_IOMMU_NOTIFIER_MAP)
		len = snprintf(r->text + r->len, sizeof(r->text) - r->len,
			       "%s %#llx+%#llx->%#llx/%d;", type,
			       (unsigned long long)ev->entry.iova,
			       (unsigned long long)ev->entry.addr_mask + 1,
			       (unsigned long long)ev->entry.translated_addr, (int)ev->entry.perm);
	else
		len = snprintf(r->text + r->len, sizeof(r->text) - r->len, "%s %#llx+%#llx;", type,
			       (unsigned long long)ev->entry.iova,
			       (unsigned long long)ev->entry.addr_mask + 1);
	assert_true(len > 0 && (size_t)len < sizeof(r->text) - r->len);
	r->len += (size_t)len;
	return 0;
}

static void rec_reset(recorder *r)
{
	r->len = 0;
	r->text[0] = '\0';
	r->events = 0;
}

static ms_iommu_notifier *listen(ms_region *iommu, recorder *r, ms_iommu_notifier_flags flags)
{
	ms_iommu_notifier_opts opts = MS_IOMMU_NOTIFIER_OPTS_INIT;
	ms_iommu_notifier *n = NULL;

	opts.flags = flags;
	opts.notify = record;
	opts.opaque = r;
	assert_int_equal(ms_iommu_register_notifier(&n, iommu, &opts), 0);
	rec_reset(r);
	return n;
}

static ms_vtd *new_unit(fixture *f, bool cm, bool dt, unsigned ring, uint64_t walk_max)
{
	ms_vtd *v = NULL;
	ms_vtd_opts opts = {.name = "vtd",
			    .memory = f->mem,
			    .caching_mode = cm,
			    .dev_iotlb = dt,
			    .fault_ring_size = ring,
			    .on_fault = on_fault,
			    .fault_opaque = f,
			    .walk_max_tables = walk_max};

	assert_int_equal(ms_vtd_new(&v, f->ctx, &opts), 0);
	assert_int_equal(ms_vtd_set_root_table(v, ms_vtd_pt_root(f->pt)), 0);
	return v;
}

static ms_as *dev_as(ms_vtd *v, uint16_t bdf)
{
	ms_as *as = NULL;

	assert_int_equal(ms_vtd_device_as(&as, v, bdf), 0);
	assert_non_null(as);
	return as;
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(pthread_mutex_init(&f->fault_lock, NULL), 0);
	assert_int_equal(ms_ctx_new(&f->ctx), 0);
	assert_int_equal(ms_region_new_container(&f->memroot, f->ctx, "memroot", (uint64_t)1 << 32),
			 0);
	assert_int_equal(ms_region_new_ram(&f->ram, f->ctx, "ram", RAM_SIZE), 0);
	assert_int_equal(ms_region_add_subregion(f->memroot, 0, f->ram), 0);
	assert_int_equal(ms_region_new_io(&f->mmio, f->ctx,
					  &(ms_region_io_opts){.name = "mmio",
							       .size = 0x100000,
							       .ops = &mmio_ops,
							       .opaque = f}),
			 0);
	assert_int_equal(ms_region_add_subregion(f->memroot, MMIO_ADDR, f->mmio), 0);
	assert_int_equal(ms_as_new(&f->mem, f->ctx, f->memroot, "mem"), 0);
	/* A pattern in the first 16 MiB: each word holds its address. */
	{
		uint32_t *words = malloc(0x1000000);

		assert_non_null(words);
		for (uint32_t i = 0; i < 0x1000000 / 4; i++)
			words[i] = i * 4; /* little-endian hosts: the tests read with ldl_le */
		assert_int_equal(ms_as_write(f->mem, 0, ATTRS, words, 0x1000000), MS_RESULT_OK);
		free(words);
	}
	assert_int_equal(ms_vtd_pt_new(&f->pt, f->mem, POOL, POOL_SIZE), 0);
	assert_int_equal(ms_vtd_pt_set_context(f->pt, DEV1, 1, 48), 0);
	assert_int_equal(ms_vtd_pt_set_context(f->pt, DEV2, 2, 39), 0);
	f->v = new_unit(f, true, true, 0, 0);
	f->dev1 = dev_as(f->v, DEV1);
	f->dev2 = dev_as(f->v, DEV2);
	assert_int_equal(ms_vtd_set_dmar(f->v, DEV1, true), 0);
	assert_int_equal(ms_vtd_set_dmar(f->v, DEV2, true), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	ms_vtd_free(f->v);
	ms_vtd_pt_free(f->pt);
	ms_as_free(f->mem);
	ms_region_unref(f->mmio);
	ms_region_unref(f->ram);
	ms_region_unref(f->memroot);
	ms_ctx_free(f->ctx);
	pthread_mutex_destroy(&f->fault_lock);
	free(f);
	return 0;
}

static ms_iotlb_entry xlate(ms_vtd *v, uint16_t bdf, uint64_t addr, ms_iommu_perm flags)
{
	ms_iotlb_entry e;

	assert_int_equal(ms_iommu_translate(&e, ms_vtd_device_iommu(v, bdf), addr, flags, 0), 0);
	return e;
}

static ms_vtd_fault pop_fault(ms_vtd *v)
{
	ms_vtd_fault fault;

	assert_int_equal(ms_vtd_fault_pop(&fault, v), 0);
	return fault;
}

static void no_fault(ms_vtd *v)
{
	ms_vtd_fault fault;

	assert_int_equal(ms_vtd_fault_pop(&fault, v), -ENOENT);
}

/* The address of the level-@level entry (4 or 3: top) of @bdf's walk for @iova. */
static uint64_t pte_addr(fixture *f, uint16_t bdf, uint64_t iova, unsigned level)
{
	uint64_t rt = ms_vtd_pt_root(f->pt), root_lo, ctx, table;
	ms_result res = MS_RESULT_OK;
	unsigned levels;

	root_lo = ms_as_ldq_le(f->mem, rt + (uint64_t)(bdf >> 8) * 16, ATTRS, &res);
	ctx = (root_lo & MS_VTD_ADDR_MASK) + (bdf & 0xff) * 16u;
	table = ms_as_ldq_le(f->mem, ctx, ATTRS, &res) & MS_VTD_ADDR_MASK;
	levels = (ms_as_ldq_le(f->mem, ctx + 8, ATTRS, &res) & 7) == MS_VTD_CTX_AW_39 ? 3 : 4;
	for (unsigned l = levels; l > level; l--) {
		uint64_t pte = ms_as_ldq_le(
			f->mem, table + ((iova >> (12 + 9 * (l - 1))) & 511) * 8, ATTRS, &res);

		table = pte & MS_VTD_ADDR_MASK;
	}
	assert_int_equal(res, MS_RESULT_OK);
	return table + ((iova >> (12 + 9 * (level - 1))) & 511) * 8;
}

static void poke_pte(fixture *f, uint16_t bdf, uint64_t iova, unsigned level, uint64_t val)
{
	assert_int_equal(ms_as_stq_le(f->mem, pte_addr(f, bdf, iova, level), ATTRS, val),
			 MS_RESULT_OK);
}

/* ---- page sizes and permissions ---- */

static void every_page_size_translates(void **state)
{
	fixture *f = *state;
	ms_iotlb_entry e;
	ms_result res;

	assert_int_equal(ms_vtd_pt_map(f->pt, 1, 0x1000, 0x5000, K4, RW, K4), 0);
	assert_int_equal(ms_vtd_pt_map(f->pt, 1, 0x600000, 0x400000, M2, RO, M2), 0);
	assert_int_equal(ms_vtd_pt_map(f->pt, 1, 3 * G1, 0, G1, RW, G1), 0);

	e = xlate(f->v, DEV1, 0x1234, MS_IOMMU_NONE);
	assert_int_equal(e.iova, 0x1000);
	assert_int_equal(e.addr_mask, K4 - 1);
	assert_int_equal(e.translated_addr, 0x5000);
	assert_int_equal(e.perm, MS_IOMMU_RW);
	assert_ptr_equal(e.target_as, f->mem);
	e = xlate(f->v, DEV1, 0x612345, MS_IOMMU_NONE);
	assert_int_equal(e.iova, 0x600000);
	assert_int_equal(e.addr_mask, M2 - 1);
	assert_int_equal(e.translated_addr, 0x400000);
	assert_int_equal(e.perm, MS_IOMMU_RO);
	e = xlate(f->v, DEV1, 3 * G1 + 0x123456, MS_IOMMU_NONE);
	assert_int_equal(e.iova, 3 * G1);
	assert_int_equal(e.addr_mask, G1 - 1);
	assert_int_equal(e.translated_addr, 0);

	/* DMA through the device's address space reaches the pattern. */
	assert_int_equal(ms_as_ldl_le(f->dev1, 0x1008, ATTRS, &res), 0x5008);
	assert_int_equal(res, MS_RESULT_OK);
	assert_int_equal(ms_as_ldl_le(f->dev1, 0x612344, ATTRS, &res), 0x412344);
	assert_int_equal(res, MS_RESULT_OK);
	assert_int_equal(ms_as_ldl_le(f->dev1, 3 * G1 + 0x123454, ATTRS, &res), 0x123454);
	assert_int_equal(res, MS_RESULT_OK);
	/* 39-bit domain: 3 levels, a 1 GiB page at the top level. */
	assert_int_equal(ms_vtd_pt_map(f->pt, 2, G1, 0, G1, RW, G1), 0);
	assert_int_equal(ms_as_ldl_le(f->dev2, G1 + 0x40, ATTRS, &res), 0x40);
	assert_int_equal(res, MS_RESULT_OK);
	no_fault(f->v);
}

static void permissions_are_enforced_and_anded(void **state)
{
	fixture *f = *state;
	ms_result res;
	ms_vtd_fault fault;

	assert_int_equal(ms_vtd_pt_map(f->pt, 1, 0x1000, 0x5000, K4, RO, K4), 0);
	assert_int_equal(ms_vtd_pt_map(f->pt, 1, 0x2000, 0x6000, K4, WO, K4), 0);
	assert_int_equal(ms_as_ldl_le(f->dev1, 0x1000, ATTRS, &res), 0x5000);
	assert_int_equal(res, MS_RESULT_OK);
	assert_int_equal(ms_as_stl_le(f->dev1, 0x1000, ATTRS, 7), MS_RESULT_ACCESS_ERROR);
	fault = pop_fault(f->v);
	assert_int_equal(fault.reason, MS_VTD_FR_WRITE_DENIED);
	assert_int_equal(fault.bdf, DEV1);
	assert_int_equal(fault.addr, 0x1000);
	assert_true(fault.is_write);
	assert_int_equal(ms_as_ldl_le(f->mem, 0x5000, ATTRS, &res), 0x5000); /* unchanged */

	(void)ms_as_ldl_le(f->dev1, 0x2004, ATTRS, &res);
	assert_int_equal(res, MS_RESULT_ACCESS_ERROR);
	fault = pop_fault(f->v);
	assert_int_equal(fault.reason, MS_VTD_FR_READ_DENIED);
	assert_false(fault.is_write);
	assert_int_equal(ms_as_stl_le(f->dev1, 0x2004, ATTRS, 0xabcd), MS_RESULT_OK);
	assert_int_equal(ms_as_ldl_le(f->mem, 0x6004, ATTRS, &res), 0xabcd);

	/* A read-only directory makes the RW leaf below it read-only. */
	assert_int_equal(ms_vtd_pt_map(f->pt, 1, 0x3000, 0x7000, K4, RW, K4), 0);
	poke_pte(f, DEV1, 0x3000, 2,
		 (ms_as_ldq_le(f->mem, pte_addr(f, DEV1, 0x3000, 2), ATTRS, &res) & ~WO));
	assert_int_equal(xlate(f->v, DEV1, 0x3000, MS_IOMMU_NONE).perm, MS_IOMMU_RO);
	assert_int_equal(xlate(f->v, DEV1, 0x1000, MS_IOMMU_NONE).perm, MS_IOMMU_RO);
	assert_int_equal(xlate(f->v, DEV1, 0x2000, MS_IOMMU_NONE).perm, MS_IOMMU_NONE);
	/* Lookups without access flags record nothing. */
	no_fault(f->v);
}

static void reserved_bits_fault_instead_of_mapping(void **state)
{
	fixture *f = *state;
	ms_result res;
	static const struct {
		uint64_t bit;
	} bad_leaf[] = {{1u << 2},           {1u << 6},           {1u << 8},      {1u << 11},
			{(uint64_t)1 << 52}, {(uint64_t)1 << 63}, {MS_VTD_PTE_PS}};

	assert_int_equal(ms_vtd_pt_map(f->pt, 1, 0x1000, 0x5000, K4, RW, K4), 0);
	for (size_t i = 0; i < sizeof(bad_leaf) / sizeof(bad_leaf[0]); i++) {
		ms_iotlb_entry e;

		poke_pte(f, DEV1, 0x1000, 1, 0x5000 | RW | bad_leaf[i].bit);
		e = xlate(f->v, DEV1, 0x1000, MS_IOMMU_RO);
		assert_int_equal(e.perm, MS_IOMMU_NONE);
		assert_null(e.target_as);
		assert_int_equal(pop_fault(f->v).reason, MS_VTD_FR_PTE_RESERVED);
	}
	/* A 2 MiB page whose address is not 2 MiB aligned. */
	assert_int_equal(ms_vtd_pt_map(f->pt, 1, 0x800000, 0x400000, M2, RW, M2), 0);
	assert_int_equal(xlate(f->v, DEV1, 0x800000, MS_IOMMU_NONE).perm, MS_IOMMU_RW);
	poke_pte(f, DEV1, 0x800000, 2, 0x401000 | RW | MS_VTD_PTE_PS);
	(void)ms_as_ldl_le(f->dev1, 0x800000, ATTRS, &res);
	assert_int_equal(res, MS_RESULT_ACCESS_ERROR);
	assert_int_equal(pop_fault(f->v).reason, MS_VTD_FR_PTE_RESERVED);
	/* The page-size bit at the top level (no 512 GiB pages). */
	poke_pte(f, DEV1, 0x800000, 4, 0 | RW | MS_VTD_PTE_PS);
	assert_int_equal(xlate(f->v, DEV1, 0x800000, MS_IOMMU_RO).perm, MS_IOMMU_NONE);
	assert_int_equal(pop_fault(f->v).reason, MS_VTD_FR_PTE_RESERVED);
	no_fault(f->v);
}

static void context_and_root_errors_fault(void **state)
{
	fixture *f = *state;
	uint64_t rt = ms_vtd_pt_root(f->pt);
	ms_result res;
	uint64_t root_lo = ms_as_ldq_le(f->mem, rt, ATTRS, &res);
	uint64_t ctx = (root_lo & MS_VTD_ADDR_MASK) + (DEV1 & 0xff) * 16u;
	uint64_t ctx_hi = ms_as_ldq_le(f->mem, ctx + 8, ATTRS, &res);

	assert_int_equal(ms_vtd_pt_map(f->pt, 1, 0x1000, 0x5000, K4, RW, K4), 0);
	/* Beyond the address width: 48 bits for domain 1, 39 for domain 2. */
	(void)xlate(f->v, DEV1, (uint64_t)1 << 48, MS_IOMMU_RO);
	assert_int_equal(pop_fault(f->v).reason, MS_VTD_FR_ADDR_BEYOND_AW);
	(void)xlate(f->v, DEV2, (uint64_t)1 << 39, MS_IOMMU_RO);
	assert_int_equal(pop_fault(f->v).reason, MS_VTD_FR_ADDR_BEYOND_AW);
	/* An unknown address width, a reserved context bit. */
	ms_as_stq_le(f->mem, ctx + 8, ATTRS, (ctx_hi & ~7ull) | 3);
	(void)xlate(f->v, DEV1, 0x1000, MS_IOMMU_RO);
	assert_int_equal(pop_fault(f->v).reason, MS_VTD_FR_CONTEXT_RESERVED);
	ms_as_stq_le(f->mem, ctx + 8, ATTRS, ctx_hi | (1u << 4));
	(void)xlate(f->v, DEV1, 0x1000, MS_IOMMU_RO);
	assert_int_equal(pop_fault(f->v).reason, MS_VTD_FR_CONTEXT_RESERVED);
	ms_as_stq_le(f->mem, ctx + 8, ATTRS, ctx_hi);
	assert_int_equal(xlate(f->v, DEV1, 0x1000, MS_IOMMU_RO).perm, MS_IOMMU_RW);
	/* Root entry: a reserved bit in its high qword; not present. */
	ms_as_stq_le(f->mem, rt + 8, ATTRS, 1);
	(void)xlate(f->v, DEV1, 0x1000, MS_IOMMU_RO);
	assert_int_equal(pop_fault(f->v).reason, MS_VTD_FR_ROOT_RESERVED);
	ms_as_stq_le(f->mem, rt + 8, ATTRS, 0);
	ms_as_stq_le(f->mem, rt, ATTRS, root_lo & ~1ull);
	(void)xlate(f->v, DEV1, 0x1000, MS_IOMMU_WO);
	assert_int_equal(pop_fault(f->v).reason, MS_VTD_FR_ROOT_NOT_PRESENT);
	ms_as_stq_le(f->mem, rt, ATTRS, root_lo);
	/* Context not present. */
	assert_int_equal(ms_vtd_pt_clear_context(f->pt, DEV1), 0);
	(void)xlate(f->v, DEV1, 0x1000, MS_IOMMU_RO);
	assert_int_equal(pop_fault(f->v).reason, MS_VTD_FR_CONTEXT_NOT_PRESENT);
	/* A unit without a root table. */
	{
		ms_vtd *v = NULL;
		ms_as *as;

		assert_int_equal(
			ms_vtd_new(&v, f->ctx, &(ms_vtd_opts){.name = "bare", .memory = f->mem}),
			0);
		as = dev_as(v, DEV1);
		assert_int_equal(ms_vtd_set_dmar(v, DEV1, true), 0);
		(void)ms_as_ldl_le(as, 0, ATTRS, &res);
		assert_int_equal(res, MS_RESULT_ACCESS_ERROR);
		assert_int_equal(pop_fault(v).reason, MS_VTD_FR_NO_ROOT_TABLE);
		ms_vtd_free(v);
	}
	no_fault(f->v);
}

/* ---- faults ---- */

static void fault_ring_keeps_the_oldest_and_counts_the_lost(void **state)
{
	fixture *f = *state;
	ms_vtd *v = new_unit(f, false, false, 4, 0);
	ms_as *as = dev_as(v, DEV1);
	uint64_t pending = 9, lost = 9;
	ms_result res;

	assert_int_equal(ms_vtd_set_dmar(v, DEV1, true), 0);
	f->faults_seen = 0;
	for (unsigned i = 0; i < 6; i++)
		(void)ms_as_ldub(as, 0x10000 + i * K4, ATTRS, &res);
	assert_int_equal(f->faults_seen, 6);
	assert_int_equal(f->last_fault.addr, 0x15000);
	assert_int_equal(f->last_fault.reason, MS_VTD_FR_PTE_NOT_PRESENT);
	assert_int_equal(ms_vtd_fault_counts(v, &pending, &lost), 0);
	assert_int_equal(pending, 4);
	assert_int_equal(lost, 2);
	for (unsigned i = 0; i < 4; i++) {
		ms_vtd_fault fault = pop_fault(v);

		assert_int_equal(fault.addr, 0x10000 + i * K4);
		assert_int_equal(fault.bdf, DEV1);
		assert_int_equal(fault.reason, MS_VTD_FR_PTE_NOT_PRESENT);
	}
	no_fault(v);
	assert_int_equal(ms_vtd_fault_counts(v, &pending, NULL), 0);
	assert_int_equal(pending, 0);
	/* Bad arguments. */
	assert_int_equal(ms_vtd_fault_pop(NULL, v), -EINVAL);
	assert_int_equal(ms_vtd_fault_counts(NULL, &pending, &lost), -EINVAL);
	assert_string_equal(ms_vtd_fault_reason_name(MS_VTD_FR_PTE_RESERVED), "pte-reserved");
	assert_string_equal(ms_vtd_fault_reason_name((ms_vtd_fault_reason)99), "unknown");
	ms_vtd_free(v);
}

/* ---- notifier flag rules ---- */

static void map_notifiers_need_caching_mode(void **state)
{
	fixture *f = *state;
	ms_vtd *v = new_unit(f, false, false, 0, 0);
	ms_iommu_notifier_opts opts = MS_IOMMU_NOTIFIER_OPTS_INIT;
	ms_iommu_notifier *n = NULL;
	recorder r = {0};

	(void)dev_as(v, DEV1);
	opts.notify = record;
	opts.opaque = &r;
	opts.flags = MS_IOMMU_NOTIFIER_IOTLB_EVENTS;
	assert_int_equal(ms_iommu_register_notifier(&n, ms_vtd_device_iommu(v, DEV1), &opts),
			 -ENOTSUP);
	assert_null(n);
	assert_int_equal(ms_iommu_notify_flags(ms_vtd_device_iommu(v, DEV1)), 0);
	/* UNMAP alone is fine; an invalidation then unmaps the whole range. */
	opts.flags = MS_IOMMU_NOTIFIER_UNMAP;
	assert_int_equal(ms_iommu_register_notifier(&n, ms_vtd_device_iommu(v, DEV1), &opts), 0);
	assert_int_equal(ms_vtd_set_dmar(v, DEV1, true), 0);
	assert_int_equal(ms_vtd_pt_map(f->pt, 1, 0x1000, 0x5000, K4, RW, K4), 0);
	assert_int_equal(ms_vtd_invalidate_page(v, 1, 0x1000, 0), 0);
	assert_string_equal(r.text, "UNMAP 0x1000+0x1000;");
	ms_iommu_unregister_notifier(n);
	ms_vtd_free(v);

	/* With caching mode, MAP notifiers are accepted. */
	n = listen(ms_vtd_device_iommu(f->v, DEV1), &r, MS_IOMMU_NOTIFIER_IOTLB_EVENTS);
	ms_iommu_unregister_notifier(n);
}

static void deviotlb_notifiers_need_device_iotlb(void **state)
{
	fixture *f = *state;
	ms_vtd *v = new_unit(f, true, false, 0, 0);
	ms_iommu_notifier_opts opts = MS_IOMMU_NOTIFIER_OPTS_INIT;
	ms_iommu_notifier *n = NULL;
	recorder r = {0};

	(void)dev_as(v, DEV1);
	opts.notify = record;
	opts.opaque = &r;
	opts.flags = MS_IOMMU_NOTIFIER_DEVIOTLB_UNMAP;
	assert_int_equal(ms_iommu_register_notifier(&n, ms_vtd_device_iommu(v, DEV1), &opts),
			 -ENOTSUP);
	assert_int_equal(ms_vtd_invalidate_dev_iotlb(v, DEV1, 0, 0), -ENOTSUP);
	ms_vtd_free(v);

	n = listen(ms_vtd_device_iommu(f->v, DEV1), &r, MS_IOMMU_NOTIFIER_DEVIOTLB_UNMAP);
	assert_int_equal(ms_vtd_invalidate_dev_iotlb(f->v, DEV1, 0x200000, 9), 0);
	assert_string_equal(r.text, "DEVIOTLB 0x200000+0x200000;");
	assert_int_equal(ms_vtd_invalidate_dev_iotlb(f->v, DEV1, 0x201000, 9), -EINVAL);
	assert_int_equal(ms_vtd_invalidate_dev_iotlb(f->v, DEV1, 0, 53), -EINVAL);
	assert_int_equal(ms_vtd_invalidate_dev_iotlb(f->v, MS_VTD_BDF(9, 0, 0), 0, 0), -ENOENT);
	ms_iommu_unregister_notifier(n);
}

/* ---- remapping on/off ---- */

typedef struct lrec {
	char text[2048];
	size_t len;
} lrec;

static void l_add(const ms_section *s, void *opaque)
{
	lrec *r = opaque;

	r->len += (size_t)snprintf(r->text + r->len, sizeof(r->text) - r->len, "add %s;",
				   ms_region_name(s->region));
}

static void l_del(const ms_section *s, void *opaque)
{
	lrec *r = opaque;

	r->len += (size_t)snprintf(r->text + r->len, sizeof(r->text) - r->len, "del %s;",
				   ms_region_name(s->region));
}

static void l_commit(void *opaque)
{
	lrec *r = opaque;

	r->len += (size_t)snprintf(r->text + r->len, sizeof(r->text) - r->len, "commit;");
}

static void dmar_switch_is_one_transaction(void **state)
{
	fixture *f = *state;
	static const ms_listener_ops ops = {.version = MS_LISTENER_OPS_VERSION,
					    .region_add = l_add,
					    .region_del = l_del,
					    .commit = l_commit};
	ms_listener *l = NULL;
	lrec r = {0};
	ms_as *as = dev_as(f->v, MS_VTD_BDF(1, 0, 0));
	ms_result res;

	assert_int_equal(ms_vtd_pt_set_context(f->pt, MS_VTD_BDF(1, 0, 0), 1, 48), 0);
	assert_int_equal(ms_vtd_pt_map(f->pt, 1, 0x1000, 0x5000, K4, RW, K4), 0);
	assert_int_equal(ms_vtd_dmar_enabled(f->v, MS_VTD_BDF(1, 0, 0)), 0);
	/* Off: pass-through. */
	assert_int_equal(ms_as_ldl_le(as, 0x1000, ATTRS, &res), 0x1000);
	assert_int_equal(ms_listener_register(&l, as, &ops, &r), 0);
	assert_string_equal(r.text, "add ram;add mmio;commit;");
	r.len = 0;
	r.text[0] = 0;
	assert_int_equal(ms_vtd_set_dmar(f->v, MS_VTD_BDF(1, 0, 0), true), 0);
	assert_string_equal(r.text, "del ram;del mmio;add vtd.01:00.0;commit;");
	assert_int_equal(ms_vtd_dmar_enabled(f->v, MS_VTD_BDF(1, 0, 0)), 1);
	assert_int_equal(ms_as_ldl_le(as, 0x1000, ATTRS, &res), 0x5000);
	/* Setting the current state does nothing. */
	r.len = 0;
	r.text[0] = 0;
	assert_int_equal(ms_vtd_set_dmar(f->v, MS_VTD_BDF(1, 0, 0), true), 0);
	assert_string_equal(r.text, "");
	assert_int_equal(ms_vtd_set_dmar(f->v, MS_VTD_BDF(1, 0, 0), false), 0);
	assert_string_equal(r.text, "del vtd.01:00.0;add ram;add mmio;commit;");
	assert_int_equal(ms_as_ldl_le(as, 0x1000, ATTRS, &res), 0x1000);
	assert_int_equal(ms_listener_unregister(l), 0);
	assert_int_equal(ms_vtd_set_dmar(f->v, MS_VTD_BDF(7, 0, 0), true), -ENOENT);
	assert_int_equal(ms_vtd_dmar_enabled(f->v, MS_VTD_BDF(7, 0, 0)), -ENOENT);
	assert_int_equal(ms_vtd_set_dmar(NULL, 0, true), -EINVAL);
	assert_int_equal(ms_vtd_dmar_enabled(NULL, 0), -EINVAL);
	assert_null(ms_vtd_device_iommu(f->v, MS_VTD_BDF(7, 0, 0)));
	assert_null(ms_vtd_device_iommu(NULL, 0));
}

static void dmar_on_announces_and_off_unmaps(void **state)
{
	fixture *f = *state;
	ms_as *as = dev_as(f->v, MS_VTD_BDF(1, 0, 0));
	ms_iommu_notifier *n;
	recorder r = {0};

	(void)as;
	assert_int_equal(ms_vtd_pt_set_context(f->pt, MS_VTD_BDF(1, 0, 0), 5, 48), 0);
	assert_int_equal(ms_vtd_pt_map(f->pt, 5, 0x1000, 0x5000, K4, RW, K4), 0);
	assert_int_equal(ms_vtd_pt_map(f->pt, 5, M2, 0, M2, RO, M2), 0);
	n = listen(ms_vtd_device_iommu(f->v, MS_VTD_BDF(1, 0, 0)), &r,
		   MS_IOMMU_NOTIFIER_IOTLB_EVENTS);
	assert_int_equal(ms_vtd_set_dmar(f->v, MS_VTD_BDF(1, 0, 0), true), 0);
	assert_string_equal(r.text, "MAP 0x1000+0x1000->0x5000/3;MAP 0x200000+0x200000->0/1;");
	rec_reset(&r);
	assert_int_equal(ms_vtd_set_dmar(f->v, MS_VTD_BDF(1, 0, 0), false), 0);
	assert_string_equal(r.text, "UNMAP 0x1000+0x1000;UNMAP 0x200000+0x200000;");
	/* Off: invalidations and replay say nothing. */
	rec_reset(&r);
	assert_int_equal(ms_vtd_invalidate_global(f->v), 0);
	assert_int_equal(ms_iommu_replay(ms_vtd_device_iommu(f->v, MS_VTD_BDF(1, 0, 0)), n), 0);
	assert_string_equal(r.text, "");
	ms_iommu_unregister_notifier(n);
}

/* ---- invalidation ---- */

static void page_invalidation_notifies_exactly_the_changes(void **state)
{
	fixture *f = *state;
	recorder r = {0};
	ms_iommu_notifier *n =
		listen(ms_vtd_device_iommu(f->v, DEV1), &r, MS_IOMMU_NOTIFIER_IOTLB_EVENTS);

	assert_int_equal(ms_vtd_pt_map(f->pt, 1, 0x10000, 0x5000, 3 * K4, RW, K4), 0);
	assert_int_equal(ms_vtd_invalidate_page(f->v, 1, 0x10000, 2), 0);
	assert_string_equal(r.text, "MAP 0x10000+0x1000->0x5000/3;MAP 0x11000+0x1000->0x6000/3;"
				    "MAP 0x12000+0x1000->0x7000/3;");
	/* Change one, remove one, leave one; invalidate all four pages. */
	rec_reset(&r);
	assert_int_equal(ms_vtd_pt_map(f->pt, 1, 0x11000, 0x9000, K4, RO, K4), 0);
	assert_int_equal(ms_vtd_pt_unmap(f->pt, 1, 0x12000, K4), 0);
	assert_int_equal(ms_vtd_pt_map(f->pt, 1, 0x13000, 0xa000, K4, WO, K4), 0);
	assert_int_equal(ms_vtd_invalidate_page(f->v, 1, 0x10000, 2), 0);
	assert_string_equal(r.text, "UNMAP 0x11000+0x1000;MAP 0x11000+0x1000->0x9000/1;"
				    "UNMAP 0x12000+0x1000;MAP 0x13000+0x1000->0xa000/2;");
	/* Nothing changed: nothing notified. */
	rec_reset(&r);
	assert_int_equal(ms_vtd_invalidate_page(f->v, 1, 0x10000, 2), 0);
	assert_int_equal(r.events, 0);
	/* A change outside the invalidated range is not seen yet. */
	assert_int_equal(ms_vtd_pt_unmap(f->pt, 1, 0x10000, K4), 0);
	assert_int_equal(ms_vtd_invalidate_page(f->v, 1, 0x11000, 0), 0);
	assert_int_equal(r.events, 0);
	assert_int_equal(ms_vtd_invalidate_page(f->v, 1, 0x10000, 0), 0);
	assert_string_equal(r.text, "UNMAP 0x10000+0x1000;");
	/* Another domain's invalidation does not touch this device. */
	rec_reset(&r);
	assert_int_equal(ms_vtd_pt_unmap(f->pt, 1, 0x11000, K4), 0);
	assert_int_equal(ms_vtd_invalidate_page(f->v, 2, 0x11000, 0), 0);
	assert_int_equal(r.events, 0);
	/* Bad arguments. */
	assert_int_equal(ms_vtd_invalidate_page(f->v, 1, 0x11000, 1), -EINVAL);
	assert_int_equal(ms_vtd_invalidate_page(f->v, 1, 0, MS_VTD_INV_MAX_AM + 1), -EINVAL);
	assert_int_equal(ms_vtd_invalidate_page(NULL, 1, 0, 0), -EINVAL);
	ms_iommu_unregister_notifier(n);
}

static void large_page_split_and_merge_are_unmap_then_map(void **state)
{
	fixture *f = *state;
	recorder r = {0};
	ms_iommu_notifier *n =
		listen(ms_vtd_device_iommu(f->v, DEV1), &r, MS_IOMMU_NOTIFIER_IOTLB_EVENTS);

	assert_int_equal(ms_vtd_pt_map(f->pt, 1, M2, 0x400000, M2, RW, M2), 0);
	assert_int_equal(ms_vtd_invalidate_page(f->v, 1, M2, 9), 0);
	assert_string_equal(r.text, "MAP 0x200000+0x200000->0x400000/3;");
	/* The guest replaces the 2 MiB page by two 4 KiB pages, then invalidates one page
	 * inside it: the range widens to the whole old page. */
	rec_reset(&r);
	assert_int_equal(ms_vtd_pt_unmap(f->pt, 1, M2, M2), 0);
	poke_pte(f, DEV1, M2, 2, 0);
	assert_int_equal(ms_vtd_pt_map(f->pt, 1, M2 + K4, 0x5000, K4, RW, K4), 0);
	assert_int_equal(ms_vtd_pt_map(f->pt, 1, M2 + 5 * K4, 0x6000, K4, RO, K4), 0);
	assert_int_equal(ms_vtd_invalidate_page(f->v, 1, M2 + 8 * K4, 0), 0);
	assert_string_equal(r.text, "UNMAP 0x200000+0x200000;MAP 0x201000+0x1000->0x5000/3;"
				    "MAP 0x205000+0x1000->0x6000/1;");
	/* And back: one 2 MiB page replaces them. */
	rec_reset(&r);
	poke_pte(f, DEV1, M2, 2, 0x600000 | RW | MS_VTD_PTE_PS);
	assert_int_equal(ms_vtd_invalidate_page(f->v, 1, M2 + 5 * K4, 0), 0);
	assert_string_equal(r.text, "UNMAP 0x201000+0x1000;UNMAP 0x205000+0x1000;"
				    "MAP 0x200000+0x200000->0x600000/3;");
	ms_iommu_unregister_notifier(n);
}

static void domain_and_global_invalidation_pick_their_devices(void **state)
{
	fixture *f = *state;
	recorder r1 = {0}, r2 = {0};
	ms_iommu_notifier *n1 =
		listen(ms_vtd_device_iommu(f->v, DEV1), &r1, MS_IOMMU_NOTIFIER_IOTLB_EVENTS);
	ms_iommu_notifier *n2 =
		listen(ms_vtd_device_iommu(f->v, DEV2), &r2, MS_IOMMU_NOTIFIER_IOTLB_EVENTS);

	assert_int_equal(ms_vtd_pt_map(f->pt, 1, 0x1000, 0x5000, K4, RW, K4), 0);
	assert_int_equal(ms_vtd_pt_map(f->pt, 2, 0x1000, 0x6000, K4, RO, K4), 0);
	assert_int_equal(ms_vtd_invalidate_domain(f->v, 2), 0);
	assert_int_equal(r1.events, 0);
	assert_string_equal(r2.text, "MAP 0x1000+0x1000->0x6000/1;");
	rec_reset(&r2);
	assert_int_equal(ms_vtd_invalidate_domain(f->v, 1), 0);
	assert_string_equal(r1.text, "MAP 0x1000+0x1000->0x5000/3;");
	assert_int_equal(r2.events, 0);
	rec_reset(&r1);
	/* Move device 2 into domain 1: a domain-1 invalidation covers it (its
	 * new domain), and so would a domain-2 one (its old one). */
	assert_int_equal(ms_vtd_pt_map(f->pt, 1, 0x7000, 0x7000, K4, WO, K4), 0);
	assert_int_equal(ms_vtd_pt_set_context(f->pt, DEV2, 1, 39), -EINVAL); /* width kept */
	assert_int_equal(ms_vtd_pt_set_context(f->pt, DEV2, 3, 48), 0);
	assert_int_equal(ms_vtd_invalidate_domain(f->v, 2), 0);
	assert_int_equal(r1.events, 0);
	assert_string_equal(r2.text, "UNMAP 0x1000+0x1000;");
	rec_reset(&r2);
	/* Global: everything, every device. */
	assert_int_equal(ms_vtd_pt_map(f->pt, 3, 0x3000, 0x3000, K4, RW, K4), 0);
	assert_int_equal(ms_vtd_invalidate_global(f->v), 0);
	assert_string_equal(r1.text, "MAP 0x7000+0x1000->0x7000/2;");
	assert_string_equal(r2.text, "MAP 0x3000+0x1000->0x3000/3;");
	rec_reset(&r1);
	rec_reset(&r2);
	assert_int_equal(ms_vtd_invalidate_global(f->v), 0);
	assert_int_equal(r1.events + r2.events, 0);
	assert_int_equal(ms_vtd_invalidate_global(NULL), -EINVAL);
	assert_int_equal(ms_vtd_invalidate_domain(NULL, 1), -EINVAL);
	ms_iommu_unregister_notifier(n1);
	ms_iommu_unregister_notifier(n2);
}

/* ---- replay ---- */

static void replay_announces_exactly_the_present_mappings(void **state)
{
	fixture *f = *state;
	recorder r = {0};
	ms_iommu_notifier *n = listen(ms_vtd_device_iommu(f->v, DEV1), &r, MS_IOMMU_NOTIFIER_MAP);

	assert_int_equal(ms_vtd_pt_map(f->pt, 1, 0x1000, 0x5000, 2 * K4, RW, K4), 0);
	assert_int_equal(ms_vtd_pt_map(f->pt, 1, 0x600000, 0x400000, M2, RO, M2), 0);
	assert_int_equal(ms_vtd_pt_map(f->pt, 1, 5 * G1, G1, G1, WO, G1), 0);
	assert_int_equal(ms_vtd_pt_map(f->pt, 1, ((uint64_t)1 << 47) + 0x3000, 0x8000, K4, RW, K4),
			 0);
	/* Entries that are not mappings: reserved bits; a directory granting nothing. */
	assert_int_equal(ms_vtd_pt_map(f->pt, 1, 0x20000, 0x9000, K4, RW, K4), 0);
	poke_pte(f, DEV1, 0x20000, 1, 0x9000 | RW | (1u << 9));
	assert_int_equal(ms_vtd_pt_map(f->pt, 1, 7 * G1 + 0x5000, 0x9000, K4, RW, K4), 0);
	poke_pte(f, DEV1, 7 * G1, 2,
		 ms_as_ldq_le(f->mem, pte_addr(f, DEV1, 7 * G1, 2), ATTRS, NULL) & ~RW & ~0ull);
	assert_int_equal(ms_iommu_replay(ms_vtd_device_iommu(f->v, DEV1), n), 0);
	assert_string_equal(r.text, "MAP 0x1000+0x1000->0x5000/3;MAP 0x2000+0x1000->0x6000/3;"
				    "MAP 0x600000+0x200000->0x400000/1;"
				    "MAP 0x140000000+0x40000000->0x40000000/2;"
				    "MAP 0x800000003000+0x1000->0x8000/3;");
	ms_iommu_unregister_notifier(n);
}

/* ---- malformed tables ---- */

static void self_pointing_table_is_a_loop_fault(void **state)
{
	fixture *f = *state;
	recorder r = {0};
	ms_iommu_notifier *n = listen(ms_vtd_device_iommu(f->v, DEV1), &r, MS_IOMMU_NOTIFIER_MAP);
	uint64_t top;
	ms_result res;

	assert_int_equal(ms_vtd_pt_map(f->pt, 1, 0x1000, 0x5000, K4, RW, K4), 0);
	top = pte_addr(f, DEV1, 0, 4) & ~0xfffull;
	/* Entry 1 of the top table points at the top table itself. */
	ms_as_stq_le(f->mem, top + 8, ATTRS, top | RW);
	(void)ms_as_ldl_le(f->dev1, (uint64_t)1 << 39, ATTRS, &res);
	assert_int_equal(res, MS_RESULT_ACCESS_ERROR);
	assert_int_equal(pop_fault(f->v).reason, MS_VTD_FR_TABLE_LOOP);
	/* Replay and invalidation terminate and see only the real page. */
	assert_int_equal(ms_iommu_replay(ms_vtd_device_iommu(f->v, DEV1), n), 0);
	assert_string_equal(r.text, "MAP 0x1000+0x1000->0x5000/3;");
	rec_reset(&r);
	assert_int_equal(ms_vtd_invalidate_global(f->v), 0);
	assert_string_equal(r.text, "MAP 0x1000+0x1000->0x5000/3;");
	ms_iommu_unregister_notifier(n);
}

static int count_events(ms_iommu_notifier *n, const ms_iommu_event *ev, void *opaque)
{
	(void)n;
	(void)ev;
	(*(unsigned *)opaque)++;
	return 0;
}

static void shared_tables_are_bounded_by_the_walk_budget(void **state)
{
	fixture *f = *state;
	ms_vtd *v = new_unit(f, true, false, 0, 100);
	uint64_t t[4] = {0x100000, 0x101000, 0x102000, 0x103000};
	recorder r = {0};
	ms_iommu_notifier *n;

	/* Four tables whose 512 entries all point at the next one: 2^36 pages. */
	for (unsigned l = 0; l < 3; l++)
		for (unsigned i = 0; i < 512; i++)
			ms_as_stq_le(f->mem, t[l] + i * 8, ATTRS, t[l + 1] | RW);
	for (unsigned i = 0; i < 512; i++)
		ms_as_stq_le(f->mem, t[3] + i * 8, ATTRS, 0x5000 | RW);
	assert_int_equal(ms_vtd_pt_set_context(f->pt, MS_VTD_BDF(2, 0, 0), 9, 48), 0);
	{
		uint64_t rt = ms_vtd_pt_root(f->pt), ctx;
		ms_result res;

		ctx = (ms_as_ldq_le(f->mem, rt + 2 * 16, ATTRS, &res) & MS_VTD_ADDR_MASK);
		ms_as_stq_le(f->mem, ctx, ATTRS, t[0] | 1);
	}
	(void)dev_as(v, MS_VTD_BDF(2, 0, 0));
	n = listen(ms_vtd_device_iommu(v, MS_VTD_BDF(2, 0, 0)), &r, MS_IOMMU_NOTIFIER_MAP);
	assert_int_equal(ms_vtd_set_dmar(v, MS_VTD_BDF(2, 0, 0), true), -E2BIG);
	assert_int_equal(ms_vtd_dmar_enabled(v, MS_VTD_BDF(2, 0, 0)), 1);
	assert_int_equal(r.events, 0);
	ms_iommu_unregister_notifier(n);
	/* Replay delivers as it walks: at most 512 leaves per table read, then stops. */
	{
		ms_iommu_notifier_opts opts = MS_IOMMU_NOTIFIER_OPTS_INIT;
		unsigned count = 0;

		opts.flags = MS_IOMMU_NOTIFIER_MAP;
		opts.notify = count_events;
		opts.opaque = &count;
		assert_int_equal(ms_iommu_register_notifier(
					 &n, ms_vtd_device_iommu(v, MS_VTD_BDF(2, 0, 0)), &opts),
				 0);
		assert_int_equal(ms_iommu_replay(ms_vtd_device_iommu(v, MS_VTD_BDF(2, 0, 0)), n),
				 -E2BIG);
		assert_true(count > 0 && count <= 100 * 512);
	}
	assert_int_equal(ms_vtd_invalidate_global(v), -E2BIG);
	/* Translation of one address is still exact. */
	assert_int_equal(
		xlate(v, MS_VTD_BDF(2, 0, 0), 0x123456789000, MS_IOMMU_NONE).translated_addr,
		0x5000);
	ms_iommu_unregister_notifier(n);
	ms_vtd_free(v);
}

static void tables_outside_ram_or_in_mmio_fault(void **state)
{
	fixture *f = *state;
	ms_result res;
	recorder r = {0};
	ms_iommu_notifier *n = listen(ms_vtd_device_iommu(f->v, DEV1), &r, MS_IOMMU_NOTIFIER_MAP);

	assert_int_equal(ms_vtd_pt_map(f->pt, 1, 0x1000, 0x5000, K4, RW, K4), 0);
	/* A directory outside RAM (beyond the 4 GiB container, and in a hole). */
	poke_pte(f, DEV1, G1, 3, ((uint64_t)1 << 40) | RW);
	(void)ms_as_ldl_le(f->dev1, G1, ATTRS, &res);
	assert_int_equal(res, MS_RESULT_ACCESS_ERROR);
	assert_int_equal(pop_fault(f->v).reason, MS_VTD_FR_TABLE_READ);
	poke_pte(f, DEV1, G1, 3, (uint64_t)0x20000000 | RW);
	(void)ms_as_ldl_le(f->dev1, G1, ATTRS, &res);
	assert_int_equal(pop_fault(f->v).reason, MS_VTD_FR_TABLE_READ);
	/* A directory in MMIO: the device is never read. */
	f->mmio_reads = 0;
	poke_pte(f, DEV1, G1, 3, MMIO_ADDR | RW);
	(void)ms_as_ldl_le(f->dev1, G1, ATTRS, &res);
	assert_int_equal(res, MS_RESULT_ACCESS_ERROR);
	assert_int_equal(pop_fault(f->v).reason, MS_VTD_FR_TABLE_READ);
	/* A root table in MMIO. */
	assert_int_equal(ms_vtd_set_root_table(f->v, MMIO_ADDR), 0);
	(void)ms_as_ldl_le(f->dev1, 0x1000, ATTRS, &res);
	assert_int_equal(pop_fault(f->v).reason, MS_VTD_FR_TABLE_READ);
	assert_int_equal(ms_vtd_invalidate_global(f->v), 0);
	assert_int_equal(ms_vtd_set_root_table(f->v, ms_vtd_pt_root(f->pt)), 0);
	assert_int_equal(ms_iommu_replay(ms_vtd_device_iommu(f->v, DEV1), n), 0);
	assert_string_equal(r.text, "MAP 0x1000+0x1000->0x5000/3;");
	assert_int_equal(f->mmio_reads, 0);
	assert_int_equal(ms_vtd_set_root_table(f->v, 0x1001), -EINVAL);
	assert_int_equal(ms_vtd_set_root_table(f->v, (uint64_t)1 << 52), -EINVAL);
	assert_int_equal(ms_vtd_set_root_table(NULL, 0), -EINVAL);
	ms_iommu_unregister_notifier(n);
}

/* ---- creation and the table writer ---- */

static void bad_arguments_are_refused(void **state)
{
	fixture *f = *state;
	ms_vtd *v = (ms_vtd *)f;
	ms_vtd_pt *pt = (ms_vtd_pt *)f;
	ms_as *as = (ms_as *)f;
	ms_ctx *other = NULL;
	ms_region *oroot = NULL;
	ms_as *oas = NULL;

	assert_int_equal(ms_vtd_new(&v, f->ctx, NULL), -EINVAL);
	assert_null(v);
	assert_int_equal(ms_vtd_new(&v, f->ctx, &(ms_vtd_opts){.memory = f->mem}), -EINVAL);
	assert_int_equal(ms_vtd_new(&v, f->ctx, &(ms_vtd_opts){.name = "x"}), -EINVAL);
	assert_int_equal(ms_vtd_new(NULL, f->ctx, &(ms_vtd_opts){.name = "x", .memory = f->mem}),
			 -EINVAL);
	assert_int_equal(ms_vtd_new(&v, f->ctx,
				    &(ms_vtd_opts){.name = "x",
						   .memory = f->mem,
						   .fault_ring_size = MS_VTD_FAULT_RING_MAX + 1}),
			 -EINVAL);
	assert_int_equal(ms_ctx_new(&other), 0);
	assert_int_equal(ms_region_new_container(&oroot, other, "o", 0x1000), 0);
	assert_int_equal(ms_as_new(&oas, other, oroot, "o"), 0);
	assert_int_equal(ms_vtd_new(&v, f->ctx, &(ms_vtd_opts){.name = "x", .memory = oas}),
			 -EINVAL);
	ms_as_free(oas);
	ms_region_unref(oroot);
	ms_ctx_free(other);
	assert_int_equal(ms_vtd_device_as(&as, NULL, 0), -EINVAL);
	assert_null(as);
	assert_int_equal(ms_vtd_device_as(NULL, f->v, 0), -EINVAL);
	ms_vtd_free(NULL);

	assert_int_equal(ms_vtd_pt_new(&pt, f->mem, 0x1001, K4), -EINVAL);
	assert_null(pt);
	assert_int_equal(ms_vtd_pt_new(&pt, f->mem, 0, 0), -EINVAL);
	assert_int_equal(ms_vtd_pt_new(&pt, f->mem, 0, K4 + 1), -EINVAL);
	assert_int_equal(ms_vtd_pt_new(&pt, NULL, 0, K4), -EINVAL);
	assert_int_equal(ms_vtd_pt_new(&pt, f->mem, MMIO_ADDR, K4), -EFAULT);
	assert_int_equal(ms_vtd_pt_new(&pt, f->mem, 0x100000, K4), 0);
	assert_int_equal(ms_vtd_pt_used(pt), K4);
	assert_int_equal(ms_vtd_pt_set_context(pt, DEV1, 1, 48), -ENOSPC);
	assert_int_equal(ms_vtd_pt_set_context(pt, DEV1, 1, 40), -EINVAL);
	ms_vtd_pt_free(pt);
	ms_vtd_pt_free(NULL);
	assert_int_equal(ms_vtd_pt_root(NULL), 0);
	assert_int_equal(ms_vtd_pt_used(NULL), 0);
	assert_int_equal(ms_vtd_pt_set_context(NULL, 0, 0, 48), -EINVAL);
	assert_int_equal(ms_vtd_pt_clear_context(NULL, 0), -EINVAL);
	/* Map: unknown domain, alignment, permissions, page size, width. */
	assert_int_equal(ms_vtd_pt_map(f->pt, 77, 0, 0, K4, RW, K4), -EINVAL);
	assert_int_equal(ms_vtd_pt_map(f->pt, 1, 0x800, 0, K4, RW, K4), -EINVAL);
	assert_int_equal(ms_vtd_pt_map(f->pt, 1, 0, 0x800, K4, RW, K4), -EINVAL);
	assert_int_equal(ms_vtd_pt_map(f->pt, 1, 0, 0, K4, 0, K4), -EINVAL);
	assert_int_equal(ms_vtd_pt_map(f->pt, 1, 0, 0, K4, 4, K4), -EINVAL);
	assert_int_equal(ms_vtd_pt_map(f->pt, 1, 0, 0, 0x10000, RW, 0x10000), -EINVAL);
	assert_int_equal(ms_vtd_pt_map(f->pt, 1, 0, 0, 0, RW, K4), -EINVAL);
	assert_int_equal(ms_vtd_pt_map(f->pt, 2, (uint64_t)1 << 39, 0, K4, RW, K4), -EINVAL);
	assert_int_equal(ms_vtd_pt_map(f->pt, 1, 0, (uint64_t)1 << 52, K4, RW, K4), -EINVAL);
	assert_int_equal(ms_vtd_pt_map(NULL, 1, 0, 0, K4, RW, K4), -EINVAL);
	/* A 4 KiB page under a 2 MiB one, and a 2 MiB page over a directory. */
	assert_int_equal(ms_vtd_pt_map(f->pt, 1, 0, 0, M2, RW, M2), 0);
	assert_int_equal(ms_vtd_pt_map(f->pt, 1, 0x1000, 0, K4, RW, K4), -EBUSY);
	assert_int_equal(ms_vtd_pt_map(f->pt, 1, M2 + K4, 0, K4, RW, K4), 0);
	assert_int_equal(ms_vtd_pt_map(f->pt, 1, M2, 0, M2, RW, M2), -EBUSY);
	assert_int_equal(ms_vtd_pt_unmap(f->pt, 1, 0, 0), -EINVAL);
	assert_int_equal(ms_vtd_pt_unmap(f->pt, 77, 0, K4), -EINVAL);
	assert_int_equal(ms_vtd_pt_unmap(f->pt, 1, UINT64_MAX, 2), -EINVAL);
	assert_int_equal(ms_vtd_pt_unmap(NULL, 1, 0, K4), -EINVAL);
	/* Unmap of one byte drops the whole 2 MiB page. */
	assert_int_equal(ms_vtd_pt_unmap(f->pt, 1, 0x1234, 1), 0);
	assert_int_equal(xlate(f->v, DEV1, 0, MS_IOMMU_NONE).perm, MS_IOMMU_NONE);
	assert_int_equal(xlate(f->v, DEV1, M2 + K4, MS_IOMMU_NONE).perm, MS_IOMMU_RW);
}

static void pool_exhaustion_is_enospc(void **state)
{
	fixture *f = *state;
	ms_vtd_pt *pt = NULL;

	assert_int_equal(ms_vtd_pt_new(&pt, f->mem, 0x100000, 3 * K4), 0);
	assert_int_equal(ms_vtd_pt_set_context(pt, DEV1, 1, 48), 0); /* root, context, top */
	assert_int_equal(ms_vtd_pt_used(pt), 3 * K4);
	assert_int_equal(ms_vtd_pt_map(pt, 1, 0, 0, K4, RW, K4), -ENOSPC);
	ms_vtd_pt_free(pt);
	assert_int_equal(ms_vtd_pt_new(&pt, f->mem, 0x100000, 4 * K4), 0);
	for (unsigned i = 0; i < MS_VTD_PT_MAX_DOMAINS + 1; i++) {
		int rc = ms_vtd_pt_set_context(pt, DEV1, (uint16_t)i, 48);

		if (rc < 0) {
			assert_int_equal(rc, -ENOSPC);
			break;
		}
	}
	ms_vtd_pt_free(pt);
}

static int refuse_maps(ms_iommu_notifier *n, const ms_iommu_event *ev, void *opaque)
{
	(void)n;
	(*(unsigned *)opaque)++;
	return ev->type == MS_IOMMU_NOTIFIER_MAP ? -EFAULT : 0;
}

static void refused_notifications_are_reported_and_kept(void **state)
{
	fixture *f = *state;
	ms_iommu_notifier_opts opts = MS_IOMMU_NOTIFIER_OPTS_INIT;
	ms_iommu_notifier *n = NULL;
	recorder r = {0};
	ms_iommu_notifier *rn =
		listen(ms_vtd_device_iommu(f->v, DEV1), &r, MS_IOMMU_NOTIFIER_IOTLB_EVENTS);
	unsigned calls = 0;

	opts.flags = MS_IOMMU_NOTIFIER_IOTLB_EVENTS;
	opts.notify = refuse_maps;
	opts.opaque = &calls;
	assert_int_equal(ms_iommu_register_notifier(&n, ms_vtd_device_iommu(f->v, DEV1), &opts), 0);
	assert_int_equal(ms_vtd_pt_map(f->pt, 1, 0x1000, 0x5000, 2 * K4, RW, K4), 0);
	/* Both MAPs are sent (to both notifiers) and the first refusal is returned. */
	assert_int_equal(ms_vtd_invalidate_page(f->v, 1, 0, 2), -EFAULT);
	assert_int_equal(calls, 2);
	assert_string_equal(r.text, "MAP 0x1000+0x1000->0x5000/3;MAP 0x2000+0x1000->0x6000/3;");
	/* The unit counts them as announced: their removal is an UNMAP. */
	rec_reset(&r);
	assert_int_equal(ms_vtd_pt_unmap(f->pt, 1, 0x1000, 2 * K4), 0);
	assert_int_equal(ms_vtd_invalidate_page(f->v, 1, 0, 2), 0);
	assert_string_equal(r.text, "UNMAP 0x1000+0x1000;UNMAP 0x2000+0x1000;");
	/* Switching remapping on announces too, and reports the refusal. */
	assert_int_equal(ms_vtd_set_dmar(f->v, DEV1, false), 0);
	assert_int_equal(ms_vtd_pt_map(f->pt, 1, 0x1000, 0x5000, K4, RW, K4), 0);
	assert_int_equal(ms_vtd_set_dmar(f->v, DEV1, true), -EFAULT);
	assert_int_equal(ms_vtd_dmar_enabled(f->v, DEV1), 1);
	ms_iommu_unregister_notifier(n);
	ms_iommu_unregister_notifier(rn);
}

/* The writer's own reads and writes are checked: a table in a hole is -EFAULT. */
static void writer_tables_in_holes_are_efault(void **state)
{
	fixture *f = *state;
	uint64_t rt = ms_vtd_pt_root(f->pt), hole = 0x30000000;
	ms_result res;
	uint64_t root_lo = ms_as_ldq_le(f->mem, rt, ATTRS, &res);

	assert_int_equal(ms_vtd_pt_map(f->pt, 1, 0x1000, 0x5000, K4, RW, K4), 0);
	poke_pte(f, DEV1, 0x1000, 2, hole | RW);
	assert_int_equal(ms_vtd_pt_map(f->pt, 1, 0x1000, 0x5000, K4, RW, K4), -EFAULT);
	assert_int_equal(ms_vtd_pt_unmap(f->pt, 1, 0x1000, K4), -EFAULT);
	ms_as_stq_le(f->mem, rt, ATTRS, hole | 1);
	assert_int_equal(ms_vtd_pt_set_context(f->pt, DEV1, 1, 48), -EFAULT);
	assert_int_equal(ms_vtd_pt_clear_context(f->pt, DEV1), -EFAULT);
	ms_as_stq_le(f->mem, rt, ATTRS, root_lo);
	assert_int_equal(ms_vtd_pt_clear_context(f->pt, DEV1), 0);
	assert_int_equal(ms_vtd_pt_clear_context(f->pt, MS_VTD_BDF(0x80, 0, 0)), 0); /* no bus */
}

/* ---- concurrency: DMA on other threads while the guest edits and invalidates ---- */

typedef struct dma_thread {
	fixture *f;
	int stop;
	unsigned ok, refused;
} dma_thread;

static void *dma_loop(void *opaque)
{
	dma_thread *t = opaque;

	while (!__atomic_load_n(&t->stop, __ATOMIC_ACQUIRE)) {
		for (uint64_t page = 0; page < 8; page++) {
			ms_result res = MS_RESULT_OK;
			uint32_t v = ms_as_ldl_le(t->f->dev1, 0x10000 + page * K4 + 4, ATTRS, &res);

			/* A page maps one of two frames, or nothing: never anything else. */
			if (res == MS_RESULT_OK && v != 0x5004 + page * K4 &&
			    v != 0x25004 + page * K4)
				abort();
			if (res == MS_RESULT_OK)
				t->ok++;
			else
				t->refused++;
		}
	}
	return NULL;
}

/*
 * The guest switches between two prebuilt table sets by moving the root
 * table pointer, and invalidates; nothing writes guest memory while the
 * DMA threads run (a guest editing a table under a running walk is a data
 * race in the guest, not in the unit).
 */
static void dma_runs_while_tables_change(void **state)
{
	fixture *f = *state;
	dma_thread t[2] = {{.f = f}, {.f = f}};
	pthread_t threads[2];
	recorder r = {0};
	ms_iommu_notifier *n =
		listen(ms_vtd_device_iommu(f->v, DEV1), &r, MS_IOMMU_NOTIFIER_IOTLB_EVENTS);
	ms_vtd_pt *other = NULL;
	ms_vtd_fault fault;

	assert_int_equal(ms_vtd_pt_map(f->pt, 1, 0x10000, 0x5000, 8 * K4, RW, K4), 0);
	assert_int_equal(ms_vtd_pt_new(&other, f->mem, 60u << 20, 4u << 20), 0);
	assert_int_equal(ms_vtd_pt_set_context(other, DEV1, 1, 48), 0);
	for (uint64_t page = 0; page < 8; page++)
		if (page % 3 != 2)
			assert_int_equal(ms_vtd_pt_map(other, 1, 0x10000 + page * K4,
						       0x25000 + page * K4, K4, RO, K4),
					 0);
	assert_int_equal(ms_vtd_invalidate_global(f->v), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&threads[i], NULL, dma_loop, &t[i]), 0);
	for (unsigned i = 0; i < 400; i++) {
		ms_vtd_pt *pt = i % 2 ? other : f->pt;

		assert_int_equal(ms_vtd_set_root_table(f->v, ms_vtd_pt_root(pt)), 0);
		if (i % 4 == 3)
			assert_int_equal(ms_vtd_invalidate_page(f->v, 1, 0x10000, 3), 0);
		else
			assert_int_equal(ms_vtd_invalidate_global(f->v), 0);
		while (ms_vtd_fault_pop(&fault, f->v) == 0)
			assert_int_equal(fault.reason, MS_VTD_FR_PTE_NOT_PRESENT);
		rec_reset(&r);
	}
	for (int i = 0; i < 2; i++) {
		__atomic_store_n(&t[i].stop, 1, __ATOMIC_RELEASE);
		pthread_join(threads[i], NULL);
	}
	assert_true(t[0].ok + t[1].ok > 0);
	ms_iommu_unregister_notifier(n);
	ms_vtd_pt_free(other);
}

/* ---- property: translate equals a reference walk over random tables ---- */

/*
 * The tables live in NT pages of a host array mirrored into guest RAM at
 * TBASE. Entries are random: not present, directories pointing at any of
 * the pages (loops included) or outside RAM, leaves of every size, with
 * occasional reserved bits. ref_translate() below follows the format as
 * vtd.h states it, on the host copy.
 */
#define NT 12u
#define TBASE ((uint64_t)0x1000000)

typedef struct ref_result {
	bool ok;
	uint64_t iova, size, gpa;
	unsigned perm;
	ms_vtd_fault_reason reason;
} ref_result;

static uint64_t tables[NT][512];

static ms_as *ref_mem; /* the rest of RAM, for directories pointing outside the tables */

static bool ref_read(uint64_t addr, uint64_t *val)
{
	ms_result res = MS_RESULT_OK;

	if (addr >= TBASE && addr < TBASE + NT * K4) {
		*val = tables[(addr - TBASE) / K4][(addr % K4) / 8];
		return true;
	}
	if (addr >= RAM_SIZE) /* holes, MMIO, beyond the container */
		return false;
	*val = ms_as_ldq_le(ref_mem, addr, ATTRS, &res);
	return res == MS_RESULT_OK;
}

static ref_result ref_translate(uint64_t top, unsigned levels, uint64_t addr)
{
	ref_result r = {0};
	uint64_t table = top, visited[4];
	unsigned perm = 3, aw = levels == 3 ? 39 : 48;

	if (addr >= ((uint64_t)1 << aw)) {
		r.reason = MS_VTD_FR_ADDR_BEYOND_AW;
		return r;
	}
	for (unsigned n = 0; n < levels; n++) {
		unsigned level = levels - n;
		unsigned shift = 12 + 9 * (level - 1);
		uint64_t pte;
		bool big;

		for (unsigned k = 0; k < n; k++)
			if (visited[k] == table) {
				r.reason = MS_VTD_FR_TABLE_LOOP;
				return r;
			}
		visited[n] = table;
		if (!ref_read(table + ((addr >> shift) % 512) * 8, &pte)) {
			r.reason = MS_VTD_FR_TABLE_READ;
			return r;
		}
		if ((pte & 3) == 0) {
			r.reason = MS_VTD_FR_PTE_NOT_PRESENT;
			return r;
		}
		big = (pte >> 7) & 1;
		if ((pte >> 52) || ((pte >> 2) & 0x1f) || ((pte >> 8) & 0xf) ||
		    (big && level != 2 && level != 3) ||
		    (big && ((pte >> 12) & ((1ull << (shift - 12)) - 1)))) {
			r.reason = MS_VTD_FR_PTE_RESERVED;
			return r;
		}
		perm &= (unsigned)(pte & 3);
		if (level == 1 || big) {
			r.ok = true;
			r.size = 1ull << shift;
			r.iova = addr / r.size * r.size;
			r.gpa = (pte & 0x000ffffffffff000ull) / r.size * r.size;
			r.perm = perm;
			return r;
		}
		table = pte & 0x000ffffffffff000ull;
	}
	return r;
}

static uint64_t random_pte(ms_rng *g, unsigned level)
{
	uint64_t pte = 0;
	unsigned kind = (unsigned)ms_rng_below(g, 100);

	if (kind < 30)
		return ms_rng_percent(g, 20) ? ms_rng_next(g) & ~3ull : 0; /* not present */
	pte = ms_rng_range(g, 1, 3);
	if (kind < 75 && level > 1) { /* a directory */
		uint64_t t = ms_rng_percent(g, 5) ? 0x30000000 : TBASE + ms_rng_below(g, NT) * K4;

		pte |= t;
	} else { /* a leaf */
		bool big = level > 1 && ms_rng_percent(g, 80);

		pte |= ms_rng_below(g, 1ull << 28) << 12;
		if (big) {
			pte |= MS_VTD_PTE_PS;
			if (!ms_rng_percent(g, 10))
				pte &= ~((1ull << (12 + 9 * (level - 1))) - 1) | 0xfff;
		}
	}
	if (ms_rng_percent(g, 5))
		pte |= 1ull << (unsigned)ms_rng_range(g, 2, 63);
	return pte;
}

static void translate_matches_a_reference_walk(void **state)
{
	fixture *f = *state;
	ms_rng g;
	uint64_t rt = ms_vtd_pt_root(f->pt), ctx_table;
	ms_result res;
	unsigned checked_ok = 0;

	ms_rng_seed(&g, 0x7654321);
	ref_mem = f->mem;
	ctx_table = ms_as_ldq_le(f->mem, rt, ATTRS, &res) & MS_VTD_ADDR_MASK;
	for (unsigned round = 0; round < 40; round++) {
		unsigned levels = ms_rng_percent(&g, 50) ? 3 : 4;
		uint64_t top = TBASE + ms_rng_below(&g, NT) * K4;

		for (unsigned t = 0; t < NT; t++)
			for (unsigned i = 0; i < 512; i++)
				tables[t][i] = random_pte(&g, 1 + (unsigned)ms_rng_below(&g, 4));
		/* Make some entries meaningful at the level they will be read. */
		for (unsigned t = 0; t < NT; t++)
			for (unsigned i = 0; i < 512; i += 7)
				tables[t][i] = random_pte(&g, 1 + t % 4);
		assert_int_equal(ms_as_write(f->mem, TBASE, ATTRS, tables, sizeof(tables)),
				 MS_RESULT_OK);
		ms_as_stq_le(f->mem, ctx_table + (DEV1 & 0xff) * 16u + 8, ATTRS,
			     (levels == 3 ? MS_VTD_CTX_AW_39 : MS_VTD_CTX_AW_48) | (1u << 8));
		ms_as_stq_le(f->mem, ctx_table + (DEV1 & 0xff) * 16u, ATTRS, top | 1);
		for (unsigned i = 0; i < 2000; i++) {
			uint64_t addr =
				ms_rng_next(&g) &
				(ms_rng_percent(&g, 90) ? ((1ull << (levels == 3 ? 39 : 48)) - 1)
							: UINT64_MAX);
			ref_result want = ref_translate(top, levels, addr);
			ms_iotlb_entry e = xlate(f->v, DEV1, addr, MS_IOMMU_RO);
			ms_vtd_fault fault;
			int frc = ms_vtd_fault_pop(&fault, f->v);

			if (want.ok && want.perm) {
				assert_int_equal(e.perm, want.perm);
				assert_int_equal(e.iova, want.iova);
				assert_int_equal(e.addr_mask, want.size - 1);
				assert_int_equal(e.translated_addr, want.gpa);
				checked_ok++;
			} else {
				assert_int_equal(e.perm, MS_IOMMU_NONE);
			}
			if (want.ok && (want.perm & 1)) {
				assert_int_equal(frc, -ENOENT);
			} else {
				assert_int_equal(frc, 0);
				assert_int_equal(fault.reason,
						 want.ok ? MS_VTD_FR_READ_DENIED : want.reason);
				assert_int_equal(fault.addr, addr);
			}
		}
	}
	assert_true(checked_ok > 100);
}

/* Replay over random tables announces leaves the reference agrees with, in order. */
typedef struct replay_check {
	uint64_t top;
	unsigned levels;
	uint64_t next_free;
	unsigned count;
	uint64_t starts[8192], sizes[8192];
} replay_check;

/* A random address along present entries of the reference tables. */
static uint64_t probe_addr(ms_rng *g, uint64_t top, unsigned levels)
{
	uint64_t addr = ms_rng_below(g, K4), table = top;

	for (unsigned level = levels; level >= 1; level--) {
		unsigned shift = 12 + 9 * (level - 1), i = 0;
		uint64_t pte = 0;

		for (unsigned tries = 0; tries < 64 && !(pte & 3); tries++) {
			i = (unsigned)ms_rng_below(g, 512);
			if (!ref_read(table + i * 8, &pte))
				return addr;
		}
		addr |= (uint64_t)i << shift;
		if (!(pte & 3) || level == 1 || (pte & MS_VTD_PTE_PS))
			return addr | (ms_rng_next(g) & ((1ull << shift) - 1) & ~0xfffull);
		table = pte & 0x000ffffffffff000ull;
	}
	return addr;
}

static bool replayed(const replay_check *c, uint64_t addr)
{
	for (unsigned i = 0; i < c->count; i++)
		if (addr - c->starts[i] < c->sizes[i])
			return true;
	return false;
}

static int check_replayed(ms_iommu_notifier *n, const ms_iommu_event *ev, void *opaque)
{
	replay_check *c = opaque;
	ref_result a = ref_translate(c->top, c->levels, ev->entry.iova);
	ref_result b = ref_translate(c->top, c->levels, ev->entry.iova + ev->entry.addr_mask);

	(void)n;
	assert_true(ev->entry.iova >= c->next_free);
	c->next_free = ev->entry.iova + ev->entry.addr_mask + 1;
	/* Both ends agree, unless a loop the walk skipped sits under this path. */
	assert_true(a.ok && b.ok);
	assert_int_equal(a.iova, ev->entry.iova);
	assert_int_equal(a.size, ev->entry.addr_mask + 1);
	assert_int_equal(a.gpa, ev->entry.translated_addr);
	assert_int_equal(a.perm, ev->entry.perm);
	assert_int_equal(b.gpa, a.gpa);
	assert_true(c->count < 8192);
	c->starts[c->count] = ev->entry.iova;
	c->sizes[c->count] = ev->entry.addr_mask + 1;
	c->count++;
	return 0;
}

static void replay_matches_the_reference_walk(void **state)
{
	fixture *f = *state;
	ms_rng g;
	uint64_t rt = ms_vtd_pt_root(f->pt), ctx_table;
	ms_result res;
	unsigned total = 0;

	ms_rng_seed(&g, 99);
	ref_mem = f->mem;
	ctx_table = ms_as_ldq_le(f->mem, rt, ATTRS, &res) & MS_VTD_ADDR_MASK;
	for (unsigned round = 0; round < 20; round++) {
		static replay_check c;
		ms_iommu_notifier_opts opts = MS_IOMMU_NOTIFIER_OPTS_INIT;
		ms_iommu_notifier *n = NULL;

		unsigned hits = 0;

		memset(&c, 0, sizeof(c));
		c.top = TBASE;
		c.levels = ms_rng_percent(&g, 50) ? 3 : 4;
		memset(tables, 0, sizeof(tables));
		for (unsigned t = 0; t < NT; t++)
			for (unsigned i = 0; i < 512; i++)
				if (ms_rng_percent(&g, 3))
					tables[t][i] = random_pte(&g, c.levels - t % c.levels);
		for (unsigned t = 0; t + 1 < NT; t++)
			for (unsigned i = 0; i < 512; i++)
				if (tables[t][i] && !(tables[t][i] & MS_VTD_PTE_PS) &&
				    (tables[t][i] & 3) && t % c.levels + 1 < c.levels &&
				    ms_rng_percent(&g, 20))
					tables[t][i] =
						(tables[t][i] & 0xfff) | (TBASE + (t + 1) * K4);
		assert_int_equal(ms_as_write(f->mem, TBASE, ATTRS, tables, sizeof(tables)),
				 MS_RESULT_OK);
		ms_as_stq_le(f->mem, ctx_table + (DEV1 & 0xff) * 16u + 8, ATTRS,
			     (c.levels == 3 ? MS_VTD_CTX_AW_39 : MS_VTD_CTX_AW_48) | (1u << 8));
		ms_as_stq_le(f->mem, ctx_table + (DEV1 & 0xff) * 16u, ATTRS, c.top | 1);
		opts.flags = MS_IOMMU_NOTIFIER_MAP;
		opts.notify = check_replayed;
		opts.opaque = &c;
		assert_int_equal(
			ms_iommu_register_notifier(&n, ms_vtd_device_iommu(f->v, DEV1), &opts), 0);
		assert_int_equal(ms_iommu_replay(ms_vtd_device_iommu(f->v, DEV1), n), 0);
		ms_iommu_unregister_notifier(n);
		total += c.count;
		/* Completeness: every probe the reference maps lies in a replayed leaf. */
		for (unsigned i = 0; i < 3000; i++) {
			uint64_t addr = probe_addr(&g, c.top, c.levels);
			ref_result want = ref_translate(c.top, c.levels, addr);

			assert_int_equal(want.ok && want.perm != 0, replayed(&c, addr));
			hits += want.ok && want.perm;
		}
		assert_true(hits > 0 || c.count == 0);
	}
	assert_true(total > 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(every_page_size_translates, setup, teardown),
		cmocka_unit_test_setup_teardown(permissions_are_enforced_and_anded, setup,
						teardown),
		cmocka_unit_test_setup_teardown(reserved_bits_fault_instead_of_mapping, setup,
						teardown),
		cmocka_unit_test_setup_teardown(context_and_root_errors_fault, setup, teardown),
		cmocka_unit_test_setup_teardown(fault_ring_keeps_the_oldest_and_counts_the_lost,
						setup, teardown),
		cmocka_unit_test_setup_teardown(map_notifiers_need_caching_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(deviotlb_notifiers_need_device_iotlb, setup,
						teardown),
		cmocka_unit_test_setup_teardown(dmar_switch_is_one_transaction, setup, teardown),
		cmocka_unit_test_setup_teardown(dmar_on_announces_and_off_unmaps, setup, teardown),
		cmocka_unit_test_setup_teardown(page_invalidation_notifies_exactly_the_changes,
						setup, teardown),
		cmocka_unit_test_setup_teardown(large_page_split_and_merge_are_unmap_then_map,
						setup, teardown),
		cmocka_unit_test_setup_teardown(domain_and_global_invalidation_pick_their_devices,
						setup, teardown),
		cmocka_unit_test_setup_teardown(replay_announces_exactly_the_present_mappings,
						setup, teardown),
		cmocka_unit_test_setup_teardown(self_pointing_table_is_a_loop_fault, setup,
						teardown),
		cmocka_unit_test_setup_teardown(shared_tables_are_bounded_by_the_walk_budget, setup,
						teardown),
		cmocka_unit_test_setup_teardown(tables_outside_ram_or_in_mmio_fault, setup,
						teardown),
		cmocka_unit_test_setup_teardown(bad_arguments_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(pool_exhaustion_is_enospc, setup, teardown),
		cmocka_unit_test_setup_teardown(refused_notifications_are_reported_and_kept, setup,
						teardown),
		cmocka_unit_test_setup_teardown(writer_tables_in_holes_are_efault, setup, teardown),
		cmocka_unit_test_setup_teardown(dma_runs_while_tables_change, setup, teardown),
		cmocka_unit_test_setup_teardown(translate_matches_a_reference_walk, setup,
						teardown),
		cmocka_unit_test_setup_teardown(replay_matches_the_reference_walk, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
