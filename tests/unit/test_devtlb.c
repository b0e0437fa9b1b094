/*
 * test_devtlb.c: the vhost-like device IOTLB (include/memspace/models/devtlb.h):
 * fills and hits, invalidation by UNMAP and DEVIOTLB_UNMAP (also of the
 * whole 2^64 space), permissions, DMA across pages, view changes, the UNMAP
 * fallback for an IOMMU that refuses device-IOTLB notifiers (the TCE
 * model), a fill raced by an invalidation, and bad input.
 *
 * Fixture: address space "mem" is 1 MiB of RAM at 0 whose 32-bit words
 * hold their own address. The device address space "dev" shows the test
 * IOMMU "pt" (NP pages of 4 KiB translating into "mem") at DEV_BASE and
 * RAM "direct" (no IOMMU) at 0. The cache "d" follows "dev".
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
#include <memspace/models/devtlb.h>
#include <memspace/models/mpc.h>
#include <memspace/models/tce.h>

#define PAGE 0x1000u
#define NP 16u
#define DEV_BASE 0x100000u
#define MEM_SIZE 0x100000u
#define ATTRS MS_ATTRS_UNSPECIFIED

/* A page-table IOMMU of NP pages into one target. */
typedef struct pt {
	ms_region *region;
	ms_as *target;
	uint64_t pte[NP]; /* target page | perm (low bits); 0 = none */
	bool deviotlb_ok;
	int refuse; /* notify_flag_changed refuses every notifier with this error (0: none) */
	int unmap_in_translate; /* >= 0: translate notifies an UNMAP of that page once */
} pt;

static void pt_translate(ms_iotlb_entry *out, ms_region *iommu, uint64_t addr, ms_iommu_perm flags,
			 unsigned idx, void *opaque)
{
	pt *p = opaque;
	uint64_t page = addr / PAGE, pte;

	(void)iommu;
	(void)flags;
	(void)idx;
	memset(out, 0, sizeof(*out));
	out->iova = addr & ~(uint64_t)(PAGE - 1);
	out->addr_mask = PAGE - 1;
	if (page >= NP)
		return;
	pte = p->pte[page];
	out->target_as = p->target;
	out->translated_addr = pte & ~(uint64_t)(PAGE - 1);
	out->perm = (ms_iommu_perm)(pte & 3);
	if (p->unmap_in_translate >= 0) {
		ms_iommu_event ev = {.type = MS_IOMMU_NOTIFIER_UNMAP,
				     .entry = {.iova = (uint64_t)p->unmap_in_translate * PAGE,
					       .addr_mask = PAGE - 1}};

		p->unmap_in_translate = -1;
		assert_int_equal(ms_iommu_notify(p->region, 0, &ev), 0);
	}
}

static int pt_flags(ms_region *iommu, ms_iommu_notifier_flags old_flags,
		    ms_iommu_notifier_flags new_flags, void *opaque)
{
	pt *p = opaque;

	(void)iommu;
	(void)old_flags;
	if (p->refuse && new_flags)
		return p->refuse;
	return (new_flags & MS_IOMMU_NOTIFIER_DEVIOTLB_UNMAP) && !p->deviotlb_ok ? -EINVAL : 0;
}

static const ms_iommu_ops pt_ops = {
	.version = MS_IOMMU_OPS_VERSION,
	.translate = pt_translate,
	.notify_flag_changed = pt_flags,
};

static void pt_notify(pt *p, ms_iommu_notifier_flags type, uint64_t page, uint64_t pte)
{
	ms_iommu_event ev = {.type = type,
			     .entry = {.iova = page * PAGE,
				       .addr_mask = PAGE - 1,
				       .translated_addr = pte & ~(uint64_t)(PAGE - 1)}};

	if (type == MS_IOMMU_NOTIFIER_MAP) {
		ev.entry.target_as = p->target;
		ev.entry.perm = (ms_iommu_perm)(pte & 3);
	}
	assert_int_equal(ms_iommu_notify(p->region, 0, &ev), 0);
}

/* Map @page to @target with @perm, as the contract asks: UNMAP the old one first. */
static void pt_map(pt *p, uint64_t page, uint64_t target, ms_iommu_perm perm)
{
	uint64_t old = p->pte[page];

	p->pte[page] = target | perm;
	if (old & 3)
		pt_notify(p, MS_IOMMU_NOTIFIER_UNMAP, page, old);
	if (perm)
		pt_notify(p, MS_IOMMU_NOTIFIER_MAP, page, p->pte[page]);
}

typedef struct fixture {
	ms_ctx *ctx;
	ms_region *memroot, *ram, *devroot, *direct;
	ms_as *mem, *dev;
	pt p;
	ms_devtlb *d;
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(ms_ctx_new(&f->ctx), 0);
	assert_int_equal(ms_region_new_container(&f->memroot, f->ctx, "memroot", MEM_SIZE), 0);
	assert_int_equal(ms_region_new_ram(&f->ram, f->ctx, "ram", MEM_SIZE), 0);
	assert_int_equal(ms_region_add_subregion(f->memroot, 0, f->ram), 0);
	assert_int_equal(ms_as_new(&f->mem, f->ctx, f->memroot, "mem"), 0);
	for (uint32_t a = 0; a < MEM_SIZE; a += 4)
		memcpy((uint8_t *)ms_region_ram_ptr(f->ram) + a, &a, 4);
	f->p.target = f->mem;
	f->p.deviotlb_ok = true;
	f->p.unmap_in_translate = -1;
	assert_int_equal(ms_iommu_new(&f->p.region, f->ctx,
				      &(ms_iommu_opts){.name = "pt",
						       .size = NP * PAGE,
						       .ops = &pt_ops,
						       .opaque = &f->p}),
			 0);
	assert_int_equal(ms_region_new_container(&f->devroot, f->ctx, "devroot", MS_SIZE_2_64), 0);
	assert_int_equal(ms_region_add_subregion(f->devroot, DEV_BASE, f->p.region), 0);
	assert_int_equal(ms_region_new_ram(&f->direct, f->ctx, "direct", PAGE), 0);
	assert_int_equal(ms_region_add_subregion(f->devroot, 0, f->direct), 0);
	assert_int_equal(ms_as_new(&f->dev, f->ctx, f->devroot, "dev"), 0);
	assert_int_equal(ms_devtlb_new(&f->d, f->ctx, &(ms_devtlb_opts){.as = f->dev}), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	ms_devtlb_free(f->d);
	ms_as_free(f->dev);
	ms_as_free(f->mem);
	ms_region_unref(f->p.region);
	ms_region_unref(f->direct);
	ms_region_unref(f->devroot);
	ms_region_unref(f->ram);
	ms_region_unref(f->memroot);
	ms_ctx_free(f->ctx);
	free(f);
	return 0;
}

static uint32_t dma_ld(fixture *f, uint64_t addr, ms_result *res)
{
	uint32_t v = 0xdeadbeef;

	*res = ms_devtlb_read(f->d, addr, &v, 4);
	return v;
}

static ms_devtlb_stats stats(fixture *f)
{
	ms_devtlb_stats s;

	assert_int_equal(ms_devtlb_get_stats(&s, f->d), 0);
	return s;
}

/* ---- fills, hits, invalidation ---- */

static void miss_fills_then_hits(void **state)
{
	fixture *f = *state;
	ms_iotlb_entry e;
	ms_devtlb_stats s;
	ms_result res;

	pt_map(&f->p, 1, 0x5000, MS_IOMMU_RW);
	assert_int_equal(dma_ld(f, DEV_BASE + PAGE + 8, &res), 0x5008);
	assert_int_equal(res, MS_RESULT_OK);
	assert_int_equal(dma_ld(f, DEV_BASE + PAGE + 12, &res), 0x500c);
	s = stats(f);
	assert_int_equal(s.misses, 1);
	assert_int_equal(s.hits, 1);
	assert_int_equal(s.nr_cached, 1);
	assert_int_equal(s.nr_entries, MS_DEVTLB_DEFAULT_ENTRIES);
	assert_int_equal(s.nr_iommus, 1);
	assert_int_equal(s.nr_deviotlb, 1);
	assert_int_equal(s.invalidations, 0);
	assert_int_equal(ms_devtlb_translate(&e, f->d, DEV_BASE + PAGE + 0x10, true), 0);
	assert_ptr_equal(e.target_as, f->mem);
	assert_int_equal(e.iova, DEV_BASE + PAGE);
	assert_int_equal(e.translated_addr, 0x5000);
	assert_int_equal(e.addr_mask, PAGE - 1);
	assert_int_equal(e.perm, MS_IOMMU_RW);
	assert_int_equal(stats(f).hits, 2);
	/* The untranslated part of the view is cached too (identity, 4 KiB). */
	assert_int_equal(ms_devtlb_write(f->d, 0x10, "abcd", 4), MS_RESULT_OK);
	assert_int_equal(dma_ld(f, 0x10, &res), 0x64636261);
	assert_int_equal(stats(f).nr_cached, 2);
}

static void unmap_invalidates_the_entry(void **state)
{
	fixture *f = *state;
	ms_result res;

	pt_map(&f->p, 1, 0x5000, MS_IOMMU_RW);
	pt_map(&f->p, 2, 0x9000, MS_IOMMU_RW);
	(void)dma_ld(f, DEV_BASE + PAGE, &res);
	(void)dma_ld(f, DEV_BASE + 2 * PAGE, &res);
	assert_int_equal(stats(f).nr_cached, 2);
	pt_map(&f->p, 1, 0, MS_IOMMU_NONE);
	assert_int_equal(stats(f).invalidations, 1);
	assert_int_equal(stats(f).entries_dropped, 1);
	assert_int_equal(stats(f).nr_cached, 1); /* page 2 stays */
	assert_int_equal(dma_ld(f, DEV_BASE + PAGE, &res), 0);
	assert_int_equal(res, MS_RESULT_ACCESS_ERROR);
	assert_int_equal(stats(f).faults, 1);
	assert_int_equal(dma_ld(f, DEV_BASE + 2 * PAGE + 4, &res), 0x9004);
	/* An in-place change (UNMAP, then MAP) reaches the new page at once. */
	pt_map(&f->p, 2, 0x7000, MS_IOMMU_RW);
	assert_int_equal(dma_ld(f, DEV_BASE + 2 * PAGE + 4, &res), 0x7004);
	assert_int_equal(res, MS_RESULT_OK);
}

static void deviotlb_unmap_of_the_whole_space_drops_every_translated_entry(void **state)
{
	fixture *f = *state;
	ms_iommu_event ev = {.type = MS_IOMMU_NOTIFIER_DEVIOTLB_UNMAP,
			     .entry = {.iova = 0, .addr_mask = UINT64_MAX}};
	ms_devtlb_stats s;
	ms_result res;

	/* Pages 5 to 8 take slots of their own (page 4 would share the direct page's slot). */
	for (unsigned pg = 5; pg <= 8; pg++) {
		pt_map(&f->p, pg, 0x10000 + pg * PAGE, MS_IOMMU_RW);
		(void)dma_ld(f, DEV_BASE + pg * PAGE, &res);
	}
	(void)dma_ld(f, 0, &res); /* the direct page */
	assert_int_equal(stats(f).nr_cached, 5);
	assert_int_equal(ms_iommu_notify(f->p.region, 0, &ev), 0);
	s = stats(f);
	assert_int_equal(s.invalidations, 1);
	assert_int_equal(s.entries_dropped, 4);
	assert_int_equal(s.nr_cached, 1); /* outside the IOMMU's window */
	/* The IOMMU did not change: the next DMA refills. */
	assert_int_equal(dma_ld(f, DEV_BASE + 6 * PAGE + 4, &res), 0x16004);
	assert_int_equal(res, MS_RESULT_OK);
	assert_int_equal(stats(f).misses, 6);
}

static void cached_permissions_refuse_a_write(void **state)
{
	fixture *f = *state;
	ms_result res;

	pt_map(&f->p, 0, 0x2000, MS_IOMMU_RO);
	assert_int_equal(dma_ld(f, DEV_BASE, &res), 0x2000);
	assert_int_equal(ms_devtlb_write(f->d, DEV_BASE, "xxxx", 4), MS_RESULT_ACCESS_ERROR);
	assert_int_equal(stats(f).hits, 1);
	assert_int_equal(stats(f).faults, 1);
	assert_int_equal(ms_as_ldl_le(f->mem, 0x2000, ATTRS, NULL), 0x2000);
}

static void dma_across_pages_follows_each_translation(void **state)
{
	fixture *f = *state;
	uint32_t w[4];
	uint8_t buf[16];

	pt_map(&f->p, 4, 0x30000, MS_IOMMU_RW);
	pt_map(&f->p, 5, 0x20000, MS_IOMMU_RW);
	assert_int_equal(ms_devtlb_read(f->d, DEV_BASE + 5 * PAGE - 8, w, 16), MS_RESULT_OK);
	assert_int_equal(w[0], 0x30ff8);
	assert_int_equal(w[1], 0x30ffc);
	assert_int_equal(w[2], 0x20000);
	assert_int_equal(w[3], 0x20004);
	memset(buf, 0x5a, sizeof(buf));
	assert_int_equal(ms_devtlb_write(f->d, DEV_BASE + 5 * PAGE - 8, buf, 16), MS_RESULT_OK);
	assert_int_equal(ms_as_ldl_le(f->mem, 0x30ffc, ATTRS, NULL), 0x5a5a5a5a);
	assert_int_equal(ms_as_ldl_le(f->mem, 0x20004, ATTRS, NULL), 0x5a5a5a5a);
	/* Page 6 unmapped: the rest of the access fails and reads zero. */
	memset(w, 0xff, sizeof(w));
	assert_int_equal(ms_devtlb_read(f->d, DEV_BASE + 6 * PAGE - 8, w, 16),
			 MS_RESULT_ACCESS_ERROR);
	assert_int_equal(w[1], 0x20ffc);
	assert_int_equal(w[2], 0);
	assert_int_equal(w[3], 0);
	/* A hole of the device's view is a decode error. */
	assert_int_equal(ms_devtlb_read(f->d, 0x50000, w, 4), MS_RESULT_DECODE_ERROR);
	assert_int_equal(ms_devtlb_read(f->d, 0, NULL, 0), MS_RESULT_OK);
}

static void view_change_flushes_and_follows_the_iommus(void **state)
{
	fixture *f = *state;
	ms_result res;

	pt_map(&f->p, 0, 0x2000, MS_IOMMU_RW);
	(void)dma_ld(f, DEV_BASE, &res);
	assert_int_equal(ms_region_set_enabled(f->p.region, false), 0);
	assert_int_equal(stats(f).nr_cached, 0);
	assert_int_equal(stats(f).nr_iommus, 0);
	(void)dma_ld(f, DEV_BASE, &res);
	assert_int_equal(res, MS_RESULT_DECODE_ERROR);
	assert_int_equal(ms_region_set_address(f->p.region, 2 * DEV_BASE), 0);
	assert_int_equal(ms_region_set_enabled(f->p.region, true), 0);
	assert_int_equal(stats(f).nr_iommus, 1);
	assert_int_equal(dma_ld(f, 2 * DEV_BASE + 4, &res), 0x2004);
	/* Events of the moved window reach the cache at its new address. */
	pt_map(&f->p, 0, 0x3000, MS_IOMMU_RW);
	assert_int_equal(dma_ld(f, 2 * DEV_BASE + 4, &res), 0x3004);
}

static void iommu_without_deviotlb_is_followed_by_unmap(void **state)
{
	fixture *f = *state;
	ms_tce_table *t;
	ms_devtlb *d;
	ms_as *pci;
	ms_devtlb_stats s;
	uint32_t v;

	assert_int_equal(ms_tce_new(&t, f->ctx, "tce", f->mem), 0);
	assert_int_equal(ms_tce_window_create(t, 0, 8 * PAGE, 12), 0);
	assert_int_equal(ms_as_new(&pci, f->ctx, ms_tce_root(t), "pci"), 0);
	assert_int_equal(ms_devtlb_new(&d, f->ctx, &(ms_devtlb_opts){.as = pci, .nr_entries = 4}),
			 0);
	assert_int_equal(ms_devtlb_get_stats(&s, d), 0);
	assert_int_equal(s.nr_iommus, 1);
	assert_int_equal(s.nr_deviotlb, 0);
	assert_int_equal(ms_tce_put(t, PAGE, 0x8000 | MS_TCE_RW), 0);
	assert_int_equal(ms_devtlb_read(d, PAGE + 4, &v, 4), MS_RESULT_OK);
	assert_int_equal(v, 0x8004);
	assert_int_equal(ms_tce_put(t, PAGE, 0x9000 | MS_TCE_RW), 0);
	assert_int_equal(ms_devtlb_read(d, PAGE + 4, &v, 4), MS_RESULT_OK);
	assert_int_equal(v, 0x9004);
	assert_int_equal(ms_tce_put(t, PAGE, 0), 0);
	assert_int_equal(ms_devtlb_read(d, PAGE + 4, &v, 4), MS_RESULT_ACCESS_ERROR);
	assert_int_equal(ms_devtlb_get_stats(&s, d), 0);
	assert_int_equal(s.misses, 3);
	assert_int_equal(s.hits, 0);
	assert_int_equal(s.invalidations, 2);
	ms_devtlb_free(d);
	ms_as_free(pci);
	ms_tce_free(t);
}

static void fill_raced_by_an_invalidation_is_not_cached(void **state)
{
	fixture *f = *state;
	ms_result res;

	pt_map(&f->p, 3, 0x4000, MS_IOMMU_RW);
	f->p.unmap_in_translate = 9; /* an invalidation lands during the fill */
	assert_int_equal(dma_ld(f, DEV_BASE + 3 * PAGE, &res), 0x4000);
	assert_int_equal(res, MS_RESULT_OK);
	assert_int_equal(stats(f).nr_cached, 0);
	assert_int_equal(stats(f).invalidations, 1);
	(void)dma_ld(f, DEV_BASE + 3 * PAGE, &res);
	assert_int_equal(stats(f).misses, 2);
	assert_int_equal(stats(f).nr_cached, 1);
}

static void slots_collide_and_flush_empties(void **state)
{
	fixture *f = *state;
	ms_devtlb *d;
	ms_devtlb_stats s;
	uint32_t v;

	assert_int_equal(
		ms_devtlb_new(&d, f->ctx, &(ms_devtlb_opts){.as = f->dev, .nr_entries = 1}), 0);
	pt_map(&f->p, 0, 0x2000, MS_IOMMU_RW);
	pt_map(&f->p, 1, 0x3000, MS_IOMMU_RW);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(ms_devtlb_read(d, DEV_BASE + (i % 2) * PAGE, &v, 4), MS_RESULT_OK);
	assert_int_equal(ms_devtlb_get_stats(&s, d), 0);
	assert_int_equal(s.misses, 4); /* one slot: each page evicts the other */
	assert_int_equal(s.nr_cached, 1);
	assert_int_equal(ms_devtlb_flush(d), 0);
	assert_int_equal(ms_devtlb_get_stats(&s, d), 0);
	assert_int_equal(s.nr_cached, 0);
	assert_int_equal(s.invalidations, 1); /* the maps notified no UNMAP: the flush alone */
	ms_devtlb_free(d);
}

static void too_many_iommus_is_enospc(void **state)
{
	fixture *f = *state;
	ms_region *many[MS_DEVTLB_MAX_IOMMUS + 1];
	ms_devtlb *d = (ms_devtlb *)1;

	for (unsigned i = 0; i <= MS_DEVTLB_MAX_IOMMUS; i++) {
		assert_int_equal(ms_iommu_new(&many[i], f->ctx,
					      &(ms_iommu_opts){.name = "many",
							       .size = PAGE,
							       .ops = &pt_ops,
							       .opaque = &f->p}),
				 0);
		assert_int_equal(
			ms_region_add_subregion(f->devroot, 0x1000000 + i * 2 * PAGE, many[i]), 0);
	}
	assert_int_equal(ms_devtlb_new(&d, f->ctx, &(ms_devtlb_opts){.as = f->dev}), -ENOSPC);
	assert_null(d);
	for (unsigned i = 0; i <= MS_DEVTLB_MAX_IOMMUS; i++) {
		assert_int_equal(ms_region_del_subregion(f->devroot, many[i]), 0);
		ms_region_unref(many[i]);
	}
}

static void small_translations_of_one_page_do_not_evict_each_other(void **state)
{
	fixture *f = *state;
	ms_region *sram, *sys;
	ms_devtlb_stats st;
	ms_devtlb *d;
	ms_mpc *m;
	ms_as *as;
	uint8_t v;

	assert_int_equal(ms_region_new_ram(&sram, f->ctx, "sram", 16 * 64), 0);
	assert_int_equal(ms_region_new_container(&sys, f->ctx, "sys", MS_SIZE_2_64), 0);
	assert_int_equal(
		ms_mpc_new(&m, f->ctx,
			   &(ms_mpc_opts){.name = "mpc", .downstream = sram, .block_size = 64}),
		0);
	assert_int_equal(ms_region_add_subregion(sys, 0, ms_mpc_region(m)), 0);
	assert_int_equal(ms_as_new(&as, f->ctx, sys, "sys"), 0);
	assert_int_equal(
		ms_devtlb_new(&d, f->ctx, &(ms_devtlb_opts){.as = as, .attrs = {.secure = 1}}), 0);
	/* 16 blocks of 64 bytes in one 4 KiB page: 16 entries, then only hits. */
	for (unsigned round = 0; round < 2; round++)
		for (unsigned b = 0; b < 16; b++)
			assert_int_equal(ms_devtlb_read(d, b * 64 + 8, &v, 1), MS_RESULT_OK);
	assert_int_equal(ms_devtlb_get_stats(&st, d), 0);
	assert_int_equal(st.misses, 16);
	assert_int_equal(st.hits, 16);
	assert_int_equal(st.nr_cached, 16);
	/* A LUT change of one block drops that block's entry alone. */
	assert_int_equal(ms_mpc_lut_set(m, 3, 1, true), 1);
	assert_int_equal(ms_devtlb_get_stats(&st, d), 0);
	assert_int_equal(st.nr_cached, 15);
	assert_int_equal(ms_devtlb_read(d, 3 * 64, &v, 1), MS_RESULT_ERROR);
	ms_devtlb_free(d);
	ms_as_free(as);
	ms_mpc_free(m);
	ms_region_unref(sys);
	ms_region_unref(sram);
}

static void refused_notifier_fails_creation(void **state)
{
	fixture *f = *state;
	ms_devtlb *d = (ms_devtlb *)1;

	ms_devtlb_free(f->d); /* the IOMMU has no notifier left */
	f->d = NULL;
	f->p.refuse = -EPERM; /* neither DEVIOTLB_UNMAP nor UNMAP can be followed */
	assert_int_equal(ms_devtlb_new(&d, f->ctx, &(ms_devtlb_opts){.as = f->dev}), -EPERM);
	assert_null(d);
	assert_int_equal(ms_iommu_notify_flags(f->p.region), 0);
	f->p.refuse = 0;
}

static void bad_input_is_refused(void **state)
{
	fixture *f = *state;
	ms_devtlb *d = (ms_devtlb *)1;
	ms_iotlb_entry e;
	ms_devtlb_stats s;
	ms_ctx *other;
	uint32_t v;

	assert_int_equal(ms_devtlb_new(NULL, f->ctx, &(ms_devtlb_opts){.as = f->dev}), -EINVAL);
	assert_int_equal(ms_devtlb_new(&d, NULL, &(ms_devtlb_opts){.as = f->dev}), -EINVAL);
	assert_null(d);
	assert_int_equal(ms_devtlb_new(&d, f->ctx, NULL), -EINVAL);
	assert_int_equal(ms_devtlb_new(&d, f->ctx, &(ms_devtlb_opts){.as = NULL}), -EINVAL);
	assert_int_equal(
		ms_devtlb_new(&d, f->ctx, &(ms_devtlb_opts){.as = f->dev, .nr_entries = 3}),
		-EINVAL);
	assert_int_equal(ms_devtlb_new(&d, f->ctx,
				       &(ms_devtlb_opts){.as = f->dev,
							 .nr_entries = MS_DEVTLB_MAX_ENTRIES * 2}),
			 -EINVAL);
	assert_int_equal(ms_ctx_new(&other), 0);
	assert_int_equal(ms_devtlb_new(&d, other, &(ms_devtlb_opts){.as = f->dev}), -EINVAL);
	ms_ctx_free(other);
	assert_int_equal(ms_devtlb_translate(NULL, f->d, 0, false), -EINVAL);
	e.perm = MS_IOMMU_RW;
	assert_int_equal(ms_devtlb_translate(&e, NULL, 0, false), -EINVAL);
	assert_int_equal(e.perm, MS_IOMMU_NONE);
	assert_int_equal(ms_devtlb_translate(&e, f->d, DEV_BASE, false), -EACCES);
	assert_int_equal(ms_devtlb_translate(&e, f->d, 0x50000, false), -ENOENT);
	assert_int_equal(ms_devtlb_read(NULL, 0, &v, 4), MS_RESULT_ACCESS_ERROR);
	assert_int_equal(ms_devtlb_read(f->d, 0, NULL, 4), MS_RESULT_ACCESS_ERROR);
	assert_int_equal(ms_devtlb_write(NULL, 0, &v, 4), MS_RESULT_ACCESS_ERROR);
	assert_int_equal(ms_devtlb_write(f->d, 0, NULL, 4), MS_RESULT_ACCESS_ERROR);
	assert_int_equal(ms_devtlb_flush(NULL), -EINVAL);
	assert_int_equal(ms_devtlb_get_stats(NULL, f->d), -EINVAL);
	s.hits = 5;
	assert_int_equal(ms_devtlb_get_stats(&s, NULL), -EINVAL);
	assert_int_equal(s.hits, 0);
	ms_devtlb_free(NULL);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(miss_fills_then_hits),
		T(unmap_invalidates_the_entry),
		T(deviotlb_unmap_of_the_whole_space_drops_every_translated_entry),
		T(cached_permissions_refuse_a_write),
		T(dma_across_pages_follows_each_translation),
		T(view_change_flushes_and_follows_the_iommus),
		T(iommu_without_deviotlb_is_followed_by_unmap),
		T(fill_raced_by_an_invalidation_is_not_cached),
		T(slots_collide_and_flush_empties),
		T(too_many_iommus_is_enospc),
		T(small_translations_of_one_page_do_not_evict_each_other),
		T(refused_notifier_fails_creation),
		T(bad_input_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
