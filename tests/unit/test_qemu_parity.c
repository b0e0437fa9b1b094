/*
 * test_qemu_parity.c: places where memspace once differed from what QEMU
 * or its own headers promise, each checked as a scenario a user met: the
 * render limit of a windowed commit, and IOMMU events the header forbids.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "ms_unit.h"

#include "test_iommu_support.h"
#include "test_iommu_fixture.h"

/* RAM of @size at @addr in @root; the container keeps the only reference. */
static ms_region *place_ram(ms_ctx *ctx, ms_region *root, const char *name, uint64_t addr,
			    uint64_t size)
{
	ms_region *r = new_ram(ctx, name, size);

	assert_int_equal(ms_region_add_subregion(root, addr, r), 0);
	ms_region_unref(r);
	return r;
}

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_limit_bounds_the_view_not_the_window),
		cmocka_unit_test_setup_teardown(test_notify_refuses_events_the_header_forbids,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
