/*
 * test_qemu_parity.c: places where memspace once differed from what QEMU
 * or its own headers promise, each checked as a scenario a user met: the
 * render limit of a windowed commit, IOMMU events the header forbids, what
 * a listener's section says, error texts, and unplugging a device to plug
 * it back.
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

#include "test_iommu_support.h"
#include "test_iommu_fixture.h"

/*
 * With a limit of 2 ranges and a view of 2, adding a third range used to
 * commit: only the re-rendered window was checked. A fresh render of the
 * same tree is refused, and so must the commit be.
 */
static void test_render_limit_bounds_the_view_not_the_window(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *root = new_container(ctx, "root", 0x10000);
	ms_region *third = new_ram(ctx, "c", 0x1000);
	ms_as *as;
	static strbuf sb;

	(void)state;
	place_ram(ctx, root, "a", 0x0000, 0x1000);
	place_ram(ctx, root, "b", 0x4000, 0x1000);
	as = new_as(ctx, root, "as");
	assert_int_equal(ms_ctx_set_render_limit(ctx, 2), 0);
	assert_int_equal(ms_region_add_subregion(root, 0x8000, third), -E2BIG);
	/* Nothing changed: the tree, the view, the pending changes. */
	assert_null(ms_region_container(third));
	assert_string_equal(as_view_str(&sb, as), "0000-0fff a @0\n4000-4fff b @0\n");
	assert_int_equal(ctx->nr_touched, 0);
	/* A fresh render agrees. */
	assert_int_equal(ms_region_add_subregion(root, 0x8000, third), -E2BIG);
	assert_int_equal(ms_ctx_set_render_limit(ctx, 3), 0);
	assert_int_equal(ms_region_add_subregion(root, 0x8000, third), 0);
	assert_string_equal(as_view_str(&sb, as),
			    "0000-0fff a @0\n4000-4fff b @0\n8000-8fff c @0\n");
	/* Lowering the limit does not re-check published views; the next render does. */
	assert_int_equal(ms_ctx_set_render_limit(ctx, 2), 0);
	assert_int_equal(ms_region_set_enabled(third, false), 0); /* 2 ranges: fits */
	assert_int_equal(ms_region_set_enabled(third, true), -E2BIG);
	assert_false(ms_region_enabled(third));
	assert_int_equal(ms__as_check(ctx), 0);
	ms_region_unref(third);
	ms_region_unref(root);
	ms_ctx_free(ctx);
}

/*
 * iommu.h calls an entry without a target address space a failed
 * translation, and promises masks of the form 2^n - 1 with the iova aligned
 * to them. ms_iommu_notify() used to deliver such events anyway.
 */
static void test_notify_refuses_events_the_header_forbids(void **state)
{
	fixture *f = *state;
	ms_iommu_notifier *n =
		watch(f->t.region, &f->rec[0], MS_IOMMU_NOTIFIER_ALL, 0, UINT64_MAX, 0);
	ms_ctx *other_ctx = new_ctx();
	ms_region *other_root = new_container(other_ctx, "root", 0x1000);
	ms_as *other_as = new_as(other_ctx, other_root, "elsewhere");
	ms_iommu_event good = {
		.type = MS_IOMMU_NOTIFIER_MAP,
		.entry = {.target_as = f->mem,
			  .iova = 0x2000,
			  .translated_addr = 0x5000,
			  .addr_mask = PAGE - 1,
			  .perm = MS_IOMMU_RW},
	};
	ms_iommu_event ev;

	ev = good;
	ev.entry.target_as = NULL; /* a failed translation, not a mapping */
	assert_int_equal(ms_iommu_notify(f->t.region, 0, &ev), -EINVAL);
	assert_int_equal(ms_iommu_notify_one(n, &ev), -EINVAL);
	ev = good;
	ev.entry.target_as = other_as; /* another context's address space */
	assert_int_equal(ms_iommu_notify(f->t.region, 0, &ev), -EINVAL);
	ev = good;
	ev.entry.addr_mask = 0x17ff; /* not 2^n - 1 */
	assert_int_equal(ms_iommu_notify(f->t.region, 0, &ev), -EINVAL);
	ev = good;
	ev.entry.iova = 0x2800; /* not aligned to the mask */
	assert_int_equal(ms_iommu_notify(f->t.region, 0, &ev), -EINVAL);
	assert_int_equal(ms_iommu_notify_one(n, &ev), -EINVAL);
	ev = good;
	ev.type = MS_IOMMU_NOTIFIER_UNMAP;
	ev.entry.perm = MS_IOMMU_NONE;
	ev.entry.addr_mask = 0x3fff; /* an unmap is checked the same way */
	ev.entry.iova = 0x2000;
	assert_int_equal(ms_iommu_notify(f->t.region, 0, &ev), -EINVAL);
	assert_int_equal(f->rec[0].calls, 0);
	/* The well-formed events go through. */
	assert_int_equal(ms_iommu_notify(f->t.region, 0, &good), 0);
	ev.entry.iova = 0;
	assert_int_equal(ms_iommu_notify(f->t.region, 0, &ev), 0);
	assert_int_equal(f->rec[0].calls, 2);
	/* A notifier's own range need not be a power of two. */
	assert_int_equal(ms_iommu_unmap_notifier_range(n), 0);
	assert_int_equal(f->rec[0].calls, 3);
	ms_iommu_unregister_notifier(n);
	ms_as_free(other_as);
	ms_region_unref(other_root);
	ms_ctx_free(other_ctx);
}

/* What a listener hears: each section's address space and size. */
typedef struct section_probe {
	ms_as *as[8];
	uint64_t size[8];
	int n;
} section_probe;

static void probe_section(const ms_section *sec, void *opaque)
{
	section_probe *p = opaque;

	if (p->n < 8) {
		p->as[p->n] = sec->as;
		p->size[p->n] = sec->size;
		p->n++;
	}
}

static const ms_listener_ops section_probe_ops = {
	.version = MS_LISTENER_OPS_VERSION,
	.region_add = probe_section,
};

static void test_listener_sections_carry_their_address_space_and_size(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *root = new_container(ctx, "root", MS_SIZE_2_64);
	ms_region *big = new_container(ctx, "big", MS_SIZE_2_64);
	section_probe p1 = {0}, p2 = {0};
	ms_listener *l1, *l2;
	ms_flatview *fv;
	ms_section sec;
	ms_as *a1, *a2;

	(void)state;
	place_ram(ctx, root, "ram", 0x1000, 0x3000);
	a1 = new_as(ctx, root, "one");
	a2 = new_as(ctx, root, "two"); /* shares the view of "one" */
	assert_int_equal(ms_listener_register(&l1, a1, &section_probe_ops, &p1), 0);
	assert_int_equal(ms_listener_register(&l2, a2, &section_probe_ops, &p2), 0);
	assert_int_equal(p1.n, 1);
	assert_ptr_equal(p1.as[0], a1);
	assert_int_equal(p1.size[0], 0x3000);
	assert_ptr_equal(p2.as[0], a2);
	place_ram(ctx, root, "more", 0x8000, 0x100); /* a commit's difference */
	assert_int_equal(p1.n, 2);
	assert_ptr_equal(p1.as[1], a1);
	assert_int_equal(p1.size[1], 0x100);
	assert_ptr_equal(p2.as[1], a2);
	/* A view is shared: its own sections name no address space. */
	fv = ms_as_get_flatview(a1);
	assert_int_equal(ms_flatview_find(&sec, fv, 0x1000), 0);
	assert_null(sec.as);
	assert_int_equal(sec.size, 0x3000);
	ms_flatview_unref(fv);
	/* The whole 64-bit space has the size convention of regions. */
	assert_int_equal(ms_region_add_subregion(big, 0, new_io(ctx, "all", MS_SIZE_2_64)), 0);
	fv = ms_as_get_flatview(new_as(ctx, big, "big"));
	assert_int_equal(ms_flatview_range(&sec, fv, 0), 0);
	assert_int_equal(sec.size, MS_SIZE_2_64);
	ms_flatview_unref(fv);
	assert_int_equal(ms_listener_unregister(l1), 0);
	assert_int_equal(ms_listener_unregister(l2), 0);
	ms_region_unref(root);
	ms_region_unref(big);
	ms_ctx_free(ctx);
}

static void test_strerror_explains_every_code_the_library_returns(void **state)
{
	static const int codes[] = {EINVAL, ENOMEM, EBUSY,  EXDEV,  ELOOP, E2BIG,
				    ENOENT, EPERM,  ERANGE, EACCES, EIO,   EFAULT};

	(void)state;
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		const char *text = ms_strerror(-codes[i]);

		assert_non_null(text);
		assert_string_equal(text, ms_strerror(codes[i]));
		assert_string_not_equal(text, "unknown error");
		assert_non_null(strchr(text, ':'));
	}
	assert_string_equal(ms_strerror(-EBUSY),
			    "EBUSY: busy: the region already has a container, or a listener "
			    "callback is running (the topology cannot change there)");
	assert_string_equal(ms_strerror(0), "0: success");
	assert_string_equal(ms_strerror(-ENOTTY), "unknown error");
}

/*
 * Hot-plug: the guide used to advise dropping your reference once a region
 * is placed; removing it with ms_region_del_subregion() then freed it after
 * the grace period, and adding it back read freed memory (seen only with
 * valgrind or ASan and a grace period in between). ms_region_take_subregion()
 * hands the container's reference back.
 */
static void test_unplug_and_replug_across_a_grace_period(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *bus = new_container(ctx, "bus", 0x100000);
	ms_region *bar = new_ram(ctx, "bar", 0x1000);
	ms_region *gone = new_ram(ctx, "gone", 0x1000);
	ms_as *as;
	size_t live;
	static strbuf sb;

	(void)state;
	assert_int_equal(ms_region_add_subregion(bus, 0x1000, bar), 0);
	assert_int_equal(ms_region_add_subregion(bus, 0x4000, gone), 0);
	ms_region_unref(bar); /* the bus holds the only references */
	ms_region_unref(gone);
	as = new_as(ctx, bus, "as");
	live = live_regions(ctx);
	assert_int_equal(ms_region_take_subregion(bus, bar), 0);
	assert_int_equal(ms_region_del_subregion(bus, gone), 0);
	assert_null(ms_region_container(bar));
	/* A grace period: the views that showed both are reclaimed. */
	rcu_barrier_bp();
	assert_int_equal(live_regions(ctx), live - 1); /* "gone" is freed, "bar" is not */
	assert_int_equal(ms_region_add_subregion(bus, 0x2000, bar), 0); /* plugged back */
	ms_region_unref(bar);
	assert_string_equal(as_view_str(&sb, as), "2000-2fff bar @0\n");
	assert_int_equal(ms_as_write(as, 0x2000, MS_ATTRS_UNSPECIFIED, "\x5a", 1), MS_RESULT_OK);
	/* Errors as for ms_region_del_subregion(); nothing is handed over. */
	assert_int_equal(ms_region_take_subregion(bus, bus), -ENOENT);
	assert_int_equal(ms_region_take_subregion(NULL, bar), -EINVAL);
	assert_int_equal(region_refs(bar), 2); /* the bus and the view */
	ms_as_free(as);
	ms_region_unref(bus);
	ms_ctx_free(ctx);
}

/* memory_region_find(): the answer as the top of the tree sees it, with a reference. */
static void test_region_find_answers_from_the_top_of_the_tree(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *sys = new_container(ctx, "system", 0x100000);
	ms_region *pci = new_container(ctx, "pci", 0x10000);
	ms_region *bar = new_ram(ctx, "bar", 0x2000);
	ms_region *over = new_io(ctx, "over", 0x100);
	ms_section sec;
	uint32_t refs;

	(void)state;
	assert_int_equal(ms_region_add_subregion(pci, 0x1000, bar), 0);
	assert_int_equal(ms_region_add_subregion(sys, 0x40000, pci), 0);
	/* A sibling of pci above it in priority hides part of the BAR. */
	assert_int_equal(ms_region_add_subregion_overlap(sys, 0x41800, over, 1), 0);
	refs = region_refs(bar);
	assert_int_equal(ms_region_find(&sec, pci, 0x1400, 0x1000), 0);
	assert_ptr_equal(sec.region, bar);
	assert_int_equal(sec.start, 0x41400); /* an address of the top region */
	assert_int_equal(sec.offset_in_region, 0x400);
	assert_int_equal(sec.size, 0x400); /* up to "over", which wins there */
	assert_int_equal(region_refs(bar), refs + 1);
	ms_region_unref(sec.region);
	assert_int_equal(ms_region_find(&sec, bar, 0x800, 4), 0);
	assert_ptr_equal(sec.region, over);
	assert_int_equal(sec.offset_in_region, 0);
	ms_region_unref(sec.region);
	/* The top region's own address shifts what it renders, as for a root. */
	assert_int_equal(ms_region_set_address(sys, 0x100000), 0);
	assert_int_equal(ms_region_find(&sec, pci, 0x1400, 4), 0);
	assert_ptr_equal(sec.region, bar);
	assert_int_equal(sec.start, 0x141400);
	ms_region_unref(sec.region);
	/* Holes, bad arguments. */
	assert_int_equal(ms_region_find(&sec, pci, 0x8000, 1), -ENOENT);
	assert_null(sec.region);
	assert_int_equal(ms_region_find(&sec, pci, 0x1000, 0), -EINVAL);
	assert_int_equal(ms_region_find(NULL, pci, 0x1000, 1), -EINVAL);
	assert_int_equal(ms_region_find(&sec, NULL, 0x1000, 1), -EINVAL);
	/* Rendering the window can fail; nothing changes and no reference is taken. */
	refs = region_refs(bar);
	ms_ctx_test_control(ctx, MS_TEST_FAIL_ALLOC_AFTER, 1);
	assert_int_equal(ms_region_find(&sec, pci, 0x1400, 0x1000), -ENOMEM);
	ms_ctx_test_control(ctx, MS_TEST_FAIL_ALLOC_AFTER, 0);
	assert_int_equal(ms_ctx_set_render_limit(ctx, 1), 0);
	assert_int_equal(ms_region_find(&sec, pci, 0x1400, 0x1000), -E2BIG);
	assert_int_equal(region_refs(bar), refs);
	ms_region_unref(bar);
	ms_region_unref(over);
	ms_region_unref(pci);
	ms_region_unref(sys);
	ms_ctx_free(ctx);
}

/* memory_get_xlat_addr(): host memory behind an IOTLB entry, RAM only. */
static void test_iotlb_entry_gives_its_ram_or_a_clear_error(void **state)
{
	fixture *f = *state;
	ms_region *dev = new_io(f->ctx, "dev", 0x1000), *got = NULL;
	ms_iotlb_entry e = {.target_as = f->mem,
			    .iova = 0x4000,
			    .translated_addr = 0x7000,
			    .addr_mask = PAGE - 1,
			    .perm = MS_IOMMU_RW};
	bool ro = true;
	void *p = (void *)1;
	uint32_t refs;

	assert_int_equal(ms_region_add_subregion(f->memroot, 0x200000, dev), 0);
	rcu_barrier_bp(); /* the view the commit replaced lets go of its references */
	refs = region_refs(f->ram);
	assert_int_equal(ms_iotlb_ram_ptr(&p, &got, &ro, &e), 0);
	assert_ptr_equal(p, f->ramp + 0x7000);
	assert_ptr_equal(got, f->ram);
	assert_false(ro);
	assert_int_equal(region_refs(f->ram), refs + 1);
	ms_region_unref(got);
	e.translated_addr = 0x7123; /* an unaligned address keeps its offset */
	assert_int_equal(ms_iotlb_ram_ptr(&p, NULL, NULL, &e), 0);
	assert_ptr_equal(p, f->ramp + 0x7123);
	/* Not RAM, larger than the RAM, a hole, no target: clear errors. */
	e.translated_addr = 0x200000;
	assert_int_equal(ms_iotlb_ram_ptr(&p, &got, NULL, &e), -EFAULT);
	assert_null(p);
	assert_null(got);
	e.translated_addr = 0;
	e.addr_mask = 2 * RAM_SIZE - 1;
	assert_int_equal(ms_iotlb_ram_ptr(&p, NULL, NULL, &e), -EFAULT);
	e.addr_mask = PAGE - 1;
	e.translated_addr = 0x100000; /* just past the RAM */
	assert_int_equal(ms_iotlb_ram_ptr(&p, NULL, NULL, &e), -ENOENT);
	e.target_as = NULL;
	assert_int_equal(ms_iotlb_ram_ptr(&p, NULL, NULL, &e), -EINVAL);
	assert_int_equal(ms_iotlb_ram_ptr(NULL, NULL, NULL, &e), -EINVAL);
	assert_int_equal(region_refs(f->ram), refs);
	ms_region_unref(dev);
}

/* A listener whose registration replay frees its own address space. */
static void free_own_space(const ms_section *sec, void *opaque)
{
	(void)opaque;
	ms_as_free(sec->as);
}

static const ms_listener_ops free_own_space_ops = {
	.version = MS_LISTENER_OPS_VERSION,
	.region_add = free_own_space,
};

static void test_register_whose_replay_frees_the_space_reports_it(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *root = new_container(ctx, "root", 0x10000);
	ms_listener *l = (ms_listener *)&l;
	ms_as *as;

	(void)state;
	place_ram(ctx, root, "ram", 0, 0x1000);
	as = new_as(ctx, root, "as");
	assert_int_equal(ms_listener_register(&l, as, &free_own_space_ops, NULL), -ENOENT);
	assert_null(l);
	assert_int_equal(ms_ctx_nr_as(ctx), 0);
	assert_int_equal(ctx->nr_listeners, 0);
	ms_region_unref(root);
	ms_ctx_free(ctx);
}

/* A device that answers 0x1000 + offset and counts its callbacks. */
typedef struct probe_dev {
	int reads, writes;
	unsigned last_size;
	uint64_t last_written;
} probe_dev;

static uint64_t probe_read(uint64_t addr, unsigned size, void *opaque)
{
	probe_dev *d = opaque;

	d->reads++;
	d->last_size = size;
	return 0x1000 + addr;
}

static void probe_write(uint64_t addr, uint64_t data, unsigned size, void *opaque)
{
	probe_dev *d = opaque;

	(void)addr;
	d->writes++;
	d->last_size = size;
	d->last_written = data;
}

static const ms_region_ops probe_ops = {
	.version = MS_REGION_OPS_VERSION,
	.read = probe_read,
	.write = probe_write,
	.endianness = MS_ENDIAN_LITTLE,
	.valid.min_access_size = 2,
	.valid.max_access_size = 4,
};

static const ms_region_ops wide_ops = {
	.version = MS_REGION_OPS_VERSION,
	.read = probe_read,
	.write = probe_write,
	.endianness = MS_ENDIAN_LITTLE,
}; /* valid.max 0: every size; impl 1..4 */

/* memory_region_dispatch_read/write(): one region, its own rules, no address space. */
static void test_region_dispatch_reaches_one_region_by_its_rules(void **state)
{
	ms_ctx *ctx = new_ctx();
	probe_dev pd = {0}, wd = {0};
	ms_region *dev, *wide, *ram = new_ram(ctx, "ram", 0x100), *rom = new_rom(ctx, "rom", 0x100);
	ms_region *box = new_container(ctx, "box", 0x100);
	uint64_t v = 1;

	(void)state;
	assert_int_equal(ms_region_new_io(&dev, ctx,
					  &(ms_region_io_opts){.name = "dev",
							       .size = 0x100,
							       .ops = &probe_ops,
							       .opaque = &pd}),
			 0);
	assert_int_equal(ms_region_new_io(&wide, ctx,
					  &(ms_region_io_opts){.name = "wide",
							       .size = 0x100,
							       .ops = &wide_ops,
							       .opaque = &wd}),
			 0);
	/* A device: its value, one callback. */
	assert_int_equal(ms_region_dispatch_read(dev, 0x10, &v, 4, MS_ATTRS_UNSPECIFIED),
			 MS_RESULT_OK);
	assert_int_equal(v, 0x1010);
	assert_int_equal(pd.reads, 1);
	assert_int_equal(ms_region_dispatch_write(dev, 0x20, 0xbeef, 2, MS_ATTRS_UNSPECIFIED),
			 MS_RESULT_OK);
	assert_int_equal(pd.last_written, 0xbeef);
	assert_int_equal(pd.last_size, 2);
	/* Its valid rules refuse: a decode error, no callback. */
	assert_int_equal(ms_region_dispatch_read(dev, 0x10, &v, 1, MS_ATTRS_UNSPECIFIED),
			 MS_RESULT_DECODE_ERROR);
	assert_int_equal(v, 0);
	assert_int_equal(ms_region_dispatch_read(dev, 0x10, &v, 8, MS_ATTRS_UNSPECIFIED),
			 MS_RESULT_DECODE_ERROR);
	assert_int_equal(pd.reads, 1);
	/* valid.max 0 takes 8 bytes; impl splits them into two 4-byte callbacks. */
	assert_int_equal(ms_region_dispatch_read(wide, 0x10, &v, 8, MS_ATTRS_UNSPECIFIED),
			 MS_RESULT_OK);
	assert_int_equal(wd.reads, 2);
	assert_int_equal(wd.last_size, 4);
	assert_int_equal(v, ((uint64_t)0x1014 << 32) | 0x1010);
	/* Memory: host order, ROM ignores writes. */
	assert_int_equal(
		ms_region_dispatch_write(ram, 8, 0x1122334455667788ull, 8, MS_ATTRS_UNSPECIFIED),
		MS_RESULT_OK);
	assert_int_equal(ms_region_dispatch_read(ram, 8, &v, 8, MS_ATTRS_UNSPECIFIED),
			 MS_RESULT_OK);
	assert_int_equal(v, 0x1122334455667788ull);
	assert_int_equal(ms_region_dispatch_write(rom, 0, 0xff, 1, MS_ATTRS_UNSPECIFIED),
			 MS_RESULT_OK);
	assert_int_equal(ms_region_dispatch_read(rom, 0, &v, 1, MS_ATTRS_UNSPECIFIED),
			 MS_RESULT_OK);
	assert_int_equal(v, 0);
	/* Where nothing answers, and bad arguments. */
	assert_int_equal(ms_region_dispatch_read(ram, 0xfc, &v, 8, MS_ATTRS_UNSPECIFIED),
			 MS_RESULT_DECODE_ERROR);
	assert_int_equal(ms_region_dispatch_read(box, 0, &v, 4, MS_ATTRS_UNSPECIFIED),
			 MS_RESULT_DECODE_ERROR);
	assert_int_equal(ms_region_dispatch_read(ram, 0, &v, 3, MS_ATTRS_UNSPECIFIED),
			 MS_RESULT_ACCESS_ERROR);
	assert_int_equal(ms_region_dispatch_read(ram, 0, &v, 100, MS_ATTRS_UNSPECIFIED),
			 MS_RESULT_ACCESS_ERROR); /* once overflowed the 8-byte scratch */
	assert_int_equal(ms_region_dispatch_write(ram, 0, 0, 16, MS_ATTRS_UNSPECIFIED),
			 MS_RESULT_ACCESS_ERROR);
	assert_int_equal(ms_region_dispatch_read(ram, 0, NULL, 4, MS_ATTRS_UNSPECIFIED),
			 MS_RESULT_ACCESS_ERROR);
	assert_int_equal(ms_region_dispatch_write(NULL, 0, 0, 4, MS_ATTRS_UNSPECIFIED),
			 MS_RESULT_ACCESS_ERROR);
	ms_region_unref(dev);
	ms_region_unref(wide);
	ms_region_unref(ram);
	ms_region_unref(rom);
	ms_region_unref(box);
	ms_ctx_free(ctx);
}

/* dma_memory_rw/read/write/set(): a direction, a result. */
static void test_dma_helpers_take_a_direction_and_return_the_result(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *root = new_container(ctx, "root", 0x10000);
	ms_region *ram = place_ram(ctx, root, "ram", 0x1000, 0x1000);
	uint8_t *mem = ms_region_ram_ptr(ram);
	uint8_t buf[4] = {1, 2, 3, 4}, got[4] = {0};
	ms_as *as;

	(void)state;
	as = new_as(ctx, root, "dma");
	assert_int_equal(ms_as_dma_rw(as, 0x1010, buf, 4, MS_DMA_FROM_DEVICE), MS_RESULT_OK);
	assert_memory_equal(mem + 0x10, buf, 4);
	assert_int_equal(ms_as_dma_rw(as, 0x1010, got, 4, MS_DMA_TO_DEVICE), MS_RESULT_OK);
	assert_memory_equal(got, buf, 4);
	assert_int_equal(ms_as_dma_set(as, 0x1010, 0xab, 2, MS_ATTRS_UNSPECIFIED), MS_RESULT_OK);
	assert_int_equal(mem[0x10], 0xab);
	assert_int_equal(mem[0x12], 3);
	assert_int_equal(ms_as_dma_write(as, 0x1ffe, buf, 4, MS_ATTRS_UNSPECIFIED),
			 MS_RESULT_DECODE_ERROR); /* runs into a hole */
	assert_int_equal(ms_as_dma_read(as, 0x1ffe, got, 4, MS_ATTRS_UNSPECIFIED),
			 MS_RESULT_DECODE_ERROR);
	assert_int_equal(got[2], 0);
	assert_int_equal(ms_as_dma_rw(as, 0x1010, got, 4, (ms_dma_direction)7),
			 MS_RESULT_ACCESS_ERROR);
	assert_int_equal(ms_as_dma_rw(NULL, 0x1010, got, 4, MS_DMA_TO_DEVICE),
			 MS_RESULT_ACCESS_ERROR);
	ms_as_free(as);
	ms_region_unref(root);
	ms_ctx_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_limit_bounds_the_view_not_the_window),
		cmocka_unit_test_setup_teardown(test_notify_refuses_events_the_header_forbids,
						setup, teardown),
		cmocka_unit_test(test_listener_sections_carry_their_address_space_and_size),
		cmocka_unit_test(test_strerror_explains_every_code_the_library_returns),
		cmocka_unit_test(test_unplug_and_replug_across_a_grace_period),
		cmocka_unit_test(test_region_find_answers_from_the_top_of_the_tree),
		cmocka_unit_test(test_register_whose_replay_frees_the_space_reports_it),
		cmocka_unit_test(test_region_dispatch_reaches_one_region_by_its_rules),
		cmocka_unit_test(test_dma_helpers_take_a_direction_and_return_the_result),
		cmocka_unit_test_setup_teardown(test_iotlb_entry_gives_its_ram_or_a_clear_error,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
