/*
 * test_vfio.c: the VFIO-like container (include/memspace/models/vfio.h)
 * shadowing the sPAPR TCE table: attach and replay, groups, pins, dirty on
 * release, refused non-RAM targets, info, DMA through the shadow, release,
 * and a property test of random hypercalls and window changes against a
 * reference table with the shadow invariant checked after every step.
 *
 * Fixture: "mem" (64 MiB) has RAM at 0 (16 MiB), an MMIO device at
 * MMIO_BASE and a ROM device at ROMD_BASE; table "tce" targets it with
 * window 0 at bus 0 (64 pages of 4 KiB); "dma" renders the table's root;
 * container c is attached to "dma".
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ms_unit.h"

#include <memspace/models/tce.h>
#include <memspace/models/vfio.h>

#define ATTRS MS_ATTRS_UNSPECIFIED
#define PAGE 0x1000u
#define NPAGES 64u
#define MEM_SIZE 0x4000000u
#define RAM_SIZE 0x1000000u
#define MMIO_BASE 0x2000000u
#define ROMD_BASE 0x3000000u

typedef struct fixture {
	ms_ctx *ctx;
	ms_region *memroot, *ram, *mmio, *romd;
	ms_as *mem, *dma;
	ms_tce_table *t;
	ms_vfio_container *c;
} fixture;

static uint64_t dev_read(uint64_t addr, unsigned size, void *opaque)
{
	(void)size;
	(void)opaque;
	return addr;
}

static void dev_write(uint64_t addr, uint64_t data, unsigned size, void *opaque)
{
	(void)addr;
	(void)data;
	(void)size;
	(void)opaque;
}

static const ms_region_ops dev_ops = {
	.version = MS_REGION_OPS_VERSION,
	.read = dev_read,
	.write = dev_write,
};

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->ctx = new_ctx();
	assert_int_equal(ms_region_new_container(&f->memroot, f->ctx, "memroot", MEM_SIZE), 0);
	assert_int_equal(ms_region_new_ram(&f->ram, f->ctx, "ram", RAM_SIZE), 0);
	assert_int_equal(ms_region_add_subregion(f->memroot, 0, f->ram), 0);
	assert_int_equal(
		ms_region_new_io(
			&f->mmio, f->ctx,
			&(ms_region_io_opts){.name = "mmio", .size = 0x10000, .ops = &dev_ops}),
		0);
	assert_int_equal(ms_region_add_subregion(f->memroot, MMIO_BASE, f->mmio), 0);
	assert_int_equal(
		ms_region_new_rom_device(
			&f->romd, f->ctx,
			&(ms_region_io_opts){.name = "romd", .size = 0x10000, .ops = &dev_ops}),
		0);
	assert_int_equal(ms_region_add_subregion(f->memroot, ROMD_BASE, f->romd), 0);
	assert_int_equal(ms_as_new(&f->mem, f->ctx, f->memroot, "mem"), 0);
	assert_int_equal(ms_tce_new(&f->t, f->ctx, "tce", f->mem), 0);
	assert_int_equal(ms_tce_window_create(f->t, 0, NPAGES * PAGE, 12), 0);
	assert_int_equal(ms_as_new(&f->dma, f->ctx, ms_tce_root(f->t), "dma"), 0);
	for (unsigned i = 0; i < RAM_SIZE; i += 4)
		ms_as_stl_le(f->mem, i, ATTRS, i);
	assert_int_equal(ms_vfio_container_new(&f->c, f->ctx), 0);
	assert_int_equal(ms_vfio_attach(f->c, f->dma), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	ms_vfio_container_free(f->c);
	ms_as_free(f->dma);
	ms_tce_free(f->t);
	ms_region_unref(f->ram);
	ms_region_unref(f->mmio);
	ms_region_unref(f->romd);
	ms_region_unref(f->memroot);
	ms_ctx_free(f->ctx);
	free(f);
	return 0;
}

static uint32_t dma_ld32(fixture *f, uint64_t iova, int *rc)
{
	uint32_t v = 0;

	*rc = ms_vfio_dma_rw(f->c, iova, &v, sizeof(v), false);
	return v;
}

static void put_is_shadowed_and_device_dma_reaches_ram(void **state)
{
	fixture *f = *state;
	uint32_t v = 0x11223344;
	int rc;

	assert_int_equal(ms_tce_put(f->t, 2 * PAGE, 0x8000 | MS_TCE_RW), 0);
	assert_int_equal(ms_vfio_nr_mapped(f->c), 1);
	assert_int_equal(dma_ld32(f, 2 * PAGE + 0x10, &rc), 0x8010);
	assert_int_equal(rc, 0);
	assert_int_equal(ms_vfio_dma_rw(f->c, 2 * PAGE + 4, &v, 4, true), 0);
	assert_int_equal(ms_as_ldl_le(f->mem, 0x8004, ATTRS, NULL), 0x11223344);
	assert_int_equal(ms_vfio_check(f->c), 0);
}

static void clear_makes_the_next_dma_fail(void **state)
{
	fixture *f = *state;
	int rc;

	assert_int_equal(ms_tce_put(f->t, 2 * PAGE, 0x8000 | MS_TCE_RW), 0);
	assert_int_equal(ms_tce_put(f->t, 2 * PAGE, 0), 0);
	(void)dma_ld32(f, 2 * PAGE, &rc);
	assert_int_equal(rc, -EFAULT);
	assert_int_equal(ms_vfio_nr_mapped(f->c), 0);
	(void)dma_ld32(f, NPAGES * PAGE, &rc); /* outside every window */
	assert_int_equal(rc, -EFAULT);
	assert_int_equal(ms_vfio_check(f->c), 0);
}

static void attach_replays_existing_entries(void **state)
{
	fixture *f = *state;
	ms_vfio_container *c2;
	uint32_t v = 0;

	assert_int_equal(ms_vfio_detach(f->c, f->dma), 0);
	assert_int_equal(ms_tce_stuff(f->t, 4 * PAGE, 0x3000 | MS_TCE_READ, 3), 0);
	assert_int_equal(ms_vfio_container_new(&c2, f->ctx), 0);
	assert_int_equal(ms_vfio_attach(c2, f->dma), 0);
	assert_int_equal(ms_vfio_nr_mapped(c2), 3);
	assert_int_equal(ms_vfio_dma_rw(c2, 6 * PAGE + 8, &v, 4, false), 0);
	assert_int_equal(v, 0x3008);
	assert_int_equal(ms_vfio_check(c2), 0);
	ms_vfio_container_free(c2);
}

static void one_group_per_container(void **state)
{
	fixture *f = *state;

	assert_int_equal(ms_vfio_attach(f->c, f->dma), -EBUSY);
	assert_int_equal(ms_vfio_attach(f->c, f->mem), -EBUSY);
	assert_int_equal(ms_vfio_detach(f->c, f->mem), -ENOENT);
	assert_int_equal(ms_vfio_detach(f->c, NULL), -ENOENT);
	assert_int_equal(ms_vfio_detach(f->c, f->dma), 0);
	assert_int_equal(ms_vfio_detach(f->c, f->dma), -ENOENT);
	assert_int_equal(ms_vfio_attach(f->c, f->dma), 0);
	assert_int_equal(ms_vfio_attach(NULL, f->dma), -EINVAL);
	assert_int_equal(ms_vfio_attach(f->c, NULL), -EINVAL);
}

static void mapping_pins_the_ram_region(void **state)
{
	fixture *f = *state;
	ms_region *ram2;
	uint32_t v = 0;

	assert_int_equal(ms_region_new_ram(&ram2, f->ctx, "ram2", 0x10000), 0);
	assert_int_equal(ms_region_add_subregion(f->memroot, 0x1800000, ram2), 0);
	assert_int_equal(ms_as_stl_le(f->mem, 0x1800000, ATTRS, 0xfeedf00d), MS_RESULT_OK);
	assert_int_equal(ms_tce_put(f->t, 0, 0x1800000 | MS_TCE_RW), 0);
	assert_int_equal(ms_region_del_subregion(f->memroot, ram2), 0);
	rcu_barrier_bp();
	assert_int_equal(region_refs(ram2), 2); /* ours and the pin */
	ms_region_unref(ram2);
	/* The region is out of the tree and unreferenced but for the pin. */
	assert_int_equal(ms_vfio_dma_rw(f->c, 0, &v, 4, false), 0);
	assert_int_equal(v, 0xfeedf00d);
	assert_int_equal(ms_tce_put(f->t, 0, 0), 0); /* unpins: the region is freed */
	assert_int_equal(ms_vfio_nr_mapped(f->c), 0);
}

static void writable_mapping_is_dirty_when_released(void **state)
{
	fixture *f = *state;

	assert_int_equal(ms_region_set_dirty_log(f->ram, MS_DIRTY_VGA, true), 0);
	assert_int_equal(ms_region_set_dirty_log(f->ram, 4, true), 0);
	assert_int_equal(ms_tce_put(f->t, 0, 0x5000 | MS_TCE_READ), 0);
	assert_int_equal(ms_tce_put(f->t, 0, 0), 0);
	assert_int_equal(ms_vfio_dirty_bytes(f->c), 0);
	assert_false(ms_region_get_dirty(f->ram, 0, RAM_SIZE, MS_DIRTY_VGA));
	assert_int_equal(ms_tce_put(f->t, 0, 0x5000 | MS_TCE_RW), 0);
	assert_int_equal(ms_tce_put(f->t, PAGE, 0x6000 | MS_TCE_WRITE), 0);
	assert_int_equal(ms_tce_put(f->t, 2 * PAGE, 0x8000 | MS_TCE_RW), 0);
	/* Mapping marks nothing: the device has not written yet. */
	assert_false(ms_region_get_dirty(f->ram, 0, RAM_SIZE, MS_DIRTY_VGA));
	assert_int_equal(ms_tce_stuff(f->t, 0, 0, 2), 0);
	/* Released: the two whole pages are dirty for every logging client. */
	assert_int_equal(ms_vfio_dirty_bytes(f->c), 2 * PAGE);
	for (unsigned c = 0; c < MS_DIRTY_CLIENTS; c++)
		for (uint64_t p = 0; p < 16; p++)
			assert_int_equal(ms_region_get_dirty(f->ram, p * PAGE, PAGE, c),
					 (c == MS_DIRTY_VGA || c == 4) && (p == 5 || p == 6));
	/* Page 0x8000 is still pinned, and clean. */
	assert_false(ms_region_get_dirty(f->ram, 0x8000, PAGE, MS_DIRTY_VGA));
}

static void device_writes_mark_the_bytes_they_write(void **state)
{
	fixture *f = *state;
	uint8_t buf[PAGE + 16];
	ms_dirty_snapshot *snap = NULL;
	uint64_t next;

	memset(buf, 0x3c, sizeof(buf));
	assert_int_equal(ms_ctx_dirty_log_global_start(f->ctx), 0);
	/* Bus pages 3 and 4 are "ram" pages 0x20 and 0x11 (not contiguous). */
	assert_int_equal(ms_tce_put(f->t, 3 * PAGE, 0x20000 | MS_TCE_RW), 0);
	assert_int_equal(ms_tce_put(f->t, 4 * PAGE, 0x11000 | MS_TCE_RW), 0);
	assert_int_equal(ms_vfio_dma_rw(f->c, 4 * PAGE - 8, buf, 16, true), 0);
	assert_int_equal(
		ms_region_snapshot_and_clear_dirty(&snap, f->ram, 0, 0x40000, MS_DIRTY_MIGRATION),
		0);
	assert_int_equal(ms_dirty_snapshot_count(snap), 2);
	assert_true(ms_dirty_snapshot_next(snap, 0, &next));
	assert_int_equal(next, 0x11000);
	assert_true(ms_dirty_snapshot_next(snap, next + 1, &next));
	assert_int_equal(next, 0x20000);
	ms_dirty_snapshot_free(snap);
	/* Reads mark nothing; a refused write copies and marks nothing. */
	assert_int_equal(ms_vfio_dma_rw(f->c, 3 * PAGE, buf, sizeof(buf), false), 0);
	assert_int_equal(ms_vfio_dma_rw(f->c, 4 * PAGE, buf, 2 * PAGE, true), -EFAULT);
	assert_false(ms_region_get_dirty(f->ram, 0, RAM_SIZE, MS_DIRTY_MIGRATION));
	/* The bytes landed. */
	assert_int_equal(ms_as_ldub(f->mem, 0x20ff8, ATTRS, NULL), 0x3c);
	assert_int_equal(ms_as_ldub(f->mem, 0x11007, ATTRS, NULL), 0x3c);
	assert_int_equal(ms_ctx_dirty_log_global_stop(f->ctx), 0);
}

static void non_ram_targets_are_refused_and_nothing_changes(void **state)
{
	fixture *f = *state;
	uint64_t tce;

	assert_int_equal(ms_tce_put(f->t, PAGE, 0x5000 | MS_TCE_RW), 0);
	assert_int_equal(ms_tce_put(f->t, PAGE, MMIO_BASE | MS_TCE_READ), -EFAULT);
	assert_int_equal(ms_vfio_last_error(f->c), -EFAULT);
	assert_int_equal(ms_tce_get(&tce, f->t, PAGE), 0);
	assert_int_equal(tce, 0x5000 | MS_TCE_RW);
	assert_int_equal(ms_vfio_nr_mapped(f->c), 1);
	assert_int_equal(ms_vfio_check(f->c), 0);
	/* ROM device in MMIO mode: refused; in romd mode: read-only mappings only. */
	assert_int_equal(ms_region_set_romd(f->romd, false), 0);
	assert_int_equal(ms_tce_put(f->t, 2 * PAGE, ROMD_BASE | MS_TCE_READ), -EFAULT);
	assert_int_equal(ms_region_set_romd(f->romd, true), 0);
	assert_int_equal(ms_tce_put(f->t, 2 * PAGE, ROMD_BASE | MS_TCE_READ), 0);
	assert_int_equal(ms_tce_put(f->t, 3 * PAGE, ROMD_BASE | MS_TCE_RW), -EFAULT);
	/* A stuff whose pages run into MMIO is undone as a whole. */
	assert_int_equal(ms_tce_stuff(f->t, 10 * PAGE, MMIO_BASE | MS_TCE_READ, 4), -EFAULT);
	assert_int_equal(ms_tce_get(&tce, f->t, 10 * PAGE), 0);
	assert_int_equal(tce, 0);
	assert_int_equal(ms_vfio_nr_mapped(f->c), 2);
	assert_int_equal(ms_vfio_check(f->c), 0);
}

static void attach_fails_when_a_mapping_cannot_be_shadowed(void **state)
{
	fixture *f = *state;

	assert_int_equal(ms_vfio_detach(f->c, f->dma), 0);
	assert_int_equal(ms_tce_put(f->t, 0, 0x5000 | MS_TCE_READ), 0);
	assert_int_equal(ms_tce_put(f->t, PAGE, MMIO_BASE | MS_TCE_READ), 0); /* nobody refuses */
	assert_int_equal(ms_vfio_attach(f->c, f->dma), -EFAULT);
	assert_int_equal(ms_vfio_nr_mapped(f->c), 0);
	assert_int_equal(ms_vfio_detach(f->c, f->dma), -ENOENT);
	assert_int_equal(ms_tce_put(f->t, PAGE, 0), 0);
	assert_int_equal(ms_vfio_attach(f->c, f->dma), 0);
	assert_int_equal(ms_vfio_nr_mapped(f->c), 1);
}

static void info_follows_ddw_windows(void **state)
{
	fixture *f = *state;
	ms_vfio_info info;
	uint64_t big = 1ull << 59;

	assert_int_equal(ms_vfio_get_info(&info, f->c), 0);
	assert_int_equal(info.nr_windows, 1);
	assert_int_equal(info.windows[0].iova_start, 0);
	assert_int_equal(info.windows[0].iova_last, NPAGES * PAGE - 1);
	assert_int_equal(info.windows[0].page_size, PAGE);
	assert_int_equal(info.page_sizes, MS_TCE_PAGE_SIZES);

	assert_int_equal(ms_tce_window_create(f->t, big, 1ull << 24, 21), 1);
	assert_int_equal(ms_tce_put(f->t, big + (1u << 21), (1u << 21) | MS_TCE_RW), 0);
	assert_int_equal(ms_vfio_get_info(&info, f->c), 0);
	assert_int_equal(info.nr_windows, 2);
	assert_int_equal(info.windows[1].iova_start, big);
	assert_int_equal(info.windows[1].page_size, 1u << 21);
	assert_int_equal(info.windows[1].nr_mapped, 1);
	assert_int_equal(ms_vfio_check(f->c), 0);

	assert_int_equal(ms_tce_window_remove(f->t, 1), 0);
	assert_int_equal(ms_vfio_get_info(&info, f->c), 0);
	assert_int_equal(info.nr_windows, 1);
	assert_int_equal(ms_vfio_nr_mapped(f->c), 0);
	assert_int_equal(ms_vfio_dirty_bytes(f->c), 1u << 21);
	assert_int_equal(ms_vfio_get_info(NULL, f->c), -EINVAL);
}

static void dma_checks_every_page_before_copying(void **state)
{
	fixture *f = *state;
	uint8_t buf[3 * PAGE];

	assert_int_equal(ms_tce_put(f->t, 0, 0x5000 | MS_TCE_RW), 0);
	assert_int_equal(ms_tce_put(f->t, PAGE, 0x9000 | MS_TCE_READ), 0);
	memset(buf, 0xab, sizeof(buf));
	/* Write spanning a RW and a RO page: refused, nothing written. */
	assert_int_equal(ms_vfio_dma_rw(f->c, PAGE - 4, buf, 8, true), -EACCES);
	assert_int_equal(ms_as_ldl_le(f->mem, 0x5ffc, ATTRS, NULL), 0x5ffc);
	/* Read spanning into an unmapped page: refused. */
	assert_int_equal(ms_vfio_dma_rw(f->c, 0, buf, sizeof(buf), false), -EFAULT);
	/* Read across two mapped pages lands in two places of RAM. */
	assert_int_equal(ms_vfio_dma_rw(f->c, PAGE - 4, buf, 8, false), 0);
	assert_memory_equal(buf, "\xfc\x5f\x00\x00\x00\x90\x00\x00", 8);
	assert_int_equal(ms_vfio_dma_rw(f->c, 0, NULL, 4, false), -EINVAL);
	assert_int_equal(ms_vfio_dma_rw(f->c, UINT64_MAX, buf, 2, false), -EFAULT);
	assert_int_equal(ms_vfio_dma_rw(f->c, 5, NULL, 0, false), 0);
}

static void release_drops_every_pin(void **state)
{
	fixture *f = *state;
	uint32_t before;

	rcu_barrier_bp();
	before = region_refs(f->ram);
	assert_int_equal(ms_tce_stuff(f->t, 0, 0x5000 | MS_TCE_RW, 8), 0);
	assert_int_equal(region_refs(f->ram), before + 8);
	assert_int_equal(ms_vfio_detach(f->c, f->dma), 0);
	assert_int_equal(region_refs(f->ram), before);
	assert_int_equal(ms_vfio_dirty_bytes(f->c), 8 * PAGE);
	assert_int_equal(ms_vfio_attach(f->c, f->dma), 0);
	assert_int_equal(region_refs(f->ram), before + 8);
	ms_vfio_container_free(f->c);
	f->c = NULL;
	assert_int_equal(region_refs(f->ram), before);
}

/* ---- property test -------------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

typedef struct ref_window {
	bool live;
	uint64_t base;
	unsigned shift;
	uint64_t n;
	uint64_t tce[64];
} ref_window;

static uint64_t random_tce(unsigned shift)
{
	static const uint64_t perms[] = {0, MS_TCE_READ, MS_TCE_WRITE, MS_TCE_RW};
	uint64_t pages = RAM_SIZE >> shift;

	if (rnd() % 16 == 0)
		return MMIO_BASE | MS_TCE_READ; /* refused by the container */
	return ((rnd() % pages) << shift) | perms[rnd() % 4];
}

static void random_operations_keep_table_and_shadow_exact(void **state)
{
	fixture *f = *state;
	ref_window ref[MS_TCE_MAX_WINDOWS];
	bool attached = true;

	memset(ref, 0, sizeof(ref));
	ref[0] = (ref_window){.live = true, .base = 0, .shift = 12, .n = NPAGES};
	for (unsigned step = 0; step < 3000; step++) {
		unsigned wi = (unsigned)(rnd() % MS_TCE_MAX_WINDOWS), op = (unsigned)(rnd() % 16);
		ref_window *w = &ref[wi];
		uint64_t present = 0;

		if (op == 0 && w->live) {
			assert_int_equal(ms_tce_window_remove(f->t, wi), 0);
			w->live = false;
		} else if (op == 0 || !w->live) {
			unsigned shift = rnd() % 2 ? 12 : 16, fs = 0;
			uint64_t n = 1 + rnd() % 64;
			int rc;

			while (fs < MS_TCE_MAX_WINDOWS && ref[fs].live)
				fs++;
			rc = ms_tce_window_create(f->t, (uint64_t)(fs + 1) << 32, n << shift,
						  shift);
			if (fs == MS_TCE_MAX_WINDOWS) {
				assert_int_equal(rc, -EBUSY);
			} else {
				assert_int_equal(rc, (int)fs);
				ref[fs] = (ref_window){.live = true,
						       .base = (uint64_t)(fs + 1) << 32,
						       .shift = shift,
						       .n = n};
			}
		} else if (op == 1) {
			if (attached)
				assert_int_equal(ms_vfio_detach(f->c, f->dma), 0);
			else
				assert_int_equal(ms_vfio_attach(f->c, f->dma), 0);
			attached = !attached;
		} else {
			uint64_t i = rnd() % w->n, tce = random_tce(w->shift);
			uint64_t n = op < 5 ? 1 + rnd() % (w->n - i + 2) : 1;
			bool fits = i + n <= w->n;
			int rc = op < 5 ? ms_tce_stuff(f->t, w->base + (i << w->shift), tce, n)
					: ms_tce_put(f->t, w->base + (i << w->shift), tce);
			bool mmio = (tce & MS_TCE_RW) && (tce & ~0xfffull) == MMIO_BASE;

			if (!fits) {
				assert_int_equal(rc, -EINVAL);
			} else if (mmio && attached) {
				assert_int_equal(rc, -EFAULT);
			} else if (mmio) {
				/* Accepted with nobody to refuse it; clear it again so that
				 * the next attach succeeds. */
				assert_int_equal(rc, 0);
				assert_int_equal(
					ms_tce_stuff(f->t, w->base + (i << w->shift), 0, n), 0);
				for (uint64_t k = 0; k < n; k++)
					w->tce[i + k] = 0;
			} else {
				assert_int_equal(rc, 0);
				for (uint64_t k = 0; k < n; k++)
					w->tce[i + k] = (tce & MS_TCE_RW) ? tce : 0;
			}
		}
		/* The table equals the reference; the shadow equals a fresh replay. */
		for (unsigned k = 0; k < MS_TCE_MAX_WINDOWS; k++) {
			if (!ref[k].live)
				continue;
			for (uint64_t p = 0; p < ref[k].n; p++) {
				uint64_t tce;

				assert_int_equal(
					ms_tce_get(&tce, f->t, ref[k].base + (p << ref[k].shift)),
					0);
				assert_int_equal(tce, ref[k].tce[p]);
				present += (tce & MS_TCE_RW) != 0;
			}
		}
		assert_int_equal(ms_vfio_check(f->c), 0);
		assert_int_equal(ms_vfio_nr_mapped(f->c), attached ? present : 0);
	}
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(put_is_shadowed_and_device_dma_reaches_ram),
		T(clear_makes_the_next_dma_fail),
		T(attach_replays_existing_entries),
		T(one_group_per_container),
		T(mapping_pins_the_ram_region),
		T(writable_mapping_is_dirty_when_released),
		T(device_writes_mark_the_bytes_they_write),
		T(non_ram_targets_are_refused_and_nothing_changes),
		T(attach_fails_when_a_mapping_cannot_be_shadowed),
		T(info_follows_ddw_windows),
		T(dma_checks_every_page_before_copying),
		T(release_drops_every_pin),
		T(random_operations_keep_table_and_shadow_exact),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
