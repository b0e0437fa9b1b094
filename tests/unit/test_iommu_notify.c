/*
 * test_iommu_notify.c: IOMMU notifiers and replay (iommu.h): cropping, flag
 * and index filtering, UNMAP then MAP for an in-place change, failing
 * consumers, registration rules, notify_flag_changed, unregistering from
 * callbacks, replay and its class method, and notifiers still registered
 * when the context is freed.
 *
 * The machine is that of test_iommu_fixture.h.
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

/* References on @r once pending view frees have run (views hold references). */
static uint32_t settled_refs(const ms_region *r)
{
	rcu_barrier_bp();
	return region_refs(r);
}

/* ---- notifiers ---------------------------------------------------------------------- */

static void test_notify_crops_events_to_the_notifier_range(void **state)
{
	fixture *f = *state;
	ms_iommu_event ev = {.type = MS_IOMMU_NOTIFIER_MAP};
	ms_iommu_notifier *n;

	n = watch(f->t.region, &f->rec[0], MS_IOMMU_NOTIFIER_ALL, 0x1800, 0x27ff, 0);
	ev.entry = (ms_iotlb_entry){f->mem, 0, 0x100000, 0x3fff, MS_IOMMU_RW};
	assert_int_equal(ms_iommu_notify(f->t.region, 0, &ev), 0);
	ev.entry = (ms_iotlb_entry){f->mem, 0x2000, 0x7000, 0xfff, MS_IOMMU_RO};
	assert_int_equal(ms_iommu_notify(f->t.region, 0, &ev), 0);
	ev.entry = (ms_iotlb_entry){f->mem, 0x3000, 0x7000, 0xfff, MS_IOMMU_RO};
	assert_int_equal(ms_iommu_notify(f->t.region, 0, &ev), 0); /* outside: not seen */
	assert_string_equal(f->rec[0].log.text, "map 1800+fff->101800 rw;map 2000+7ff->7000 ro;");
	ms_iommu_unregister_notifier(n);
}

static void test_notify_filters_by_flags(void **state)
{
	fixture *f = *state;
	ms_iommu_notifier *maps, *unmaps, *dev;

	maps = watch(f->t.region, &f->rec[0], MS_IOMMU_NOTIFIER_MAP, 0, UINT64_MAX, 0);
	unmaps = watch(f->t.region, &f->rec[1], MS_IOMMU_NOTIFIER_UNMAP, 0, UINT64_MAX, 0);
	dev = watch(f->t.region, &f->rec[2], MS_IOMMU_NOTIFIER_DEVIOTLB_UNMAP, 0, UINT64_MAX, 0);
	assert_int_equal(pt_map(&f->t, 0, 1, 0x4000, MS_IOMMU_RW), 0);
	assert_int_equal(pt_unmap(&f->t, 0, 1), 0);
	ms_iommu_event ev = pt_event(&f->t, 0, 2, MS_IOMMU_NOTIFIER_DEVIOTLB_UNMAP);
	assert_int_equal(ms_iommu_notify(f->t.region, 0, &ev), 0);
	assert_string_equal(f->rec[0].log.text, "map 1000+fff->4000 rw;");
	assert_string_equal(f->rec[1].log.text, "unmap 1000+fff->4000 none;");
	assert_string_equal(f->rec[2].log.text, "devunmap 2000+fff->0 none;");
	ms_iommu_unregister_notifier(maps);
	ms_iommu_unregister_notifier(unmaps);
	ms_iommu_unregister_notifier(dev);
}

static void test_notify_filters_by_index(void **state)
{
	fixture *f = *state;
	ms_iommu_notifier *n0, *n1;

	n0 = watch(f->t.region, &f->rec[0], MS_IOMMU_NOTIFIER_MAP, 0, UINT64_MAX, 0);
	n1 = watch(f->t.region, &f->rec[1], MS_IOMMU_NOTIFIER_MAP, 0, UINT64_MAX, 1);
	assert_int_equal(pt_map(&f->t, 1, 3, 0x4000, MS_IOMMU_RO), 0);
	assert_int_equal(pt_map(&f->t, 0, 4, 0x5000, MS_IOMMU_RW), 0);
	assert_string_equal(f->rec[0].log.text, "map 4000+fff->5000 rw;");
	assert_string_equal(f->rec[1].log.text, "map 3000+fff->4000 ro;");
	ms_iotlb_entry e = {0};
	ms_iommu_event ev = {.type = MS_IOMMU_NOTIFIER_MAP, .entry = e};
	ev.entry.perm = MS_IOMMU_RO;
	assert_int_equal(ms_iommu_notify(f->t.region, 2, &ev), -EINVAL);
	ms_iommu_unregister_notifier(n0);
	ms_iommu_unregister_notifier(n1);
}

static void test_in_place_change_is_unmap_then_map(void **state)
{
	fixture *f = *state;
	ms_iommu_notifier *n;

	n = watch(f->t.region, &f->rec[0], MS_IOMMU_NOTIFIER_IOTLB_EVENTS, 0, UINT64_MAX, 0);
	assert_int_equal(pt_map(&f->t, 0, 6, 0x4000, MS_IOMMU_RO), 0);
	assert_int_equal(pt_map(&f->t, 0, 6, 0x9000, MS_IOMMU_RW), 0);
	assert_string_equal(f->rec[0].log.text, "map 6000+fff->4000 ro;"
						"unmap 6000+fff->4000 none;"
						"map 6000+fff->9000 rw;");
	ms_iommu_unregister_notifier(n);
}

static void test_failed_consumer_is_reported_and_others_still_see_the_event(void **state)
{
	fixture *f = *state;
	ms_iommu_notifier *a, *b, *c;

	a = watch(f->t.region, &f->rec[0], MS_IOMMU_NOTIFIER_MAP, 0, 0xffff, 0);
	b = watch(f->t.region, &f->rec[1], MS_IOMMU_NOTIFIER_MAP, 0x1000, 0xffff, 0);
	c = watch(f->t.region, &f->rec[2], MS_IOMMU_NOTIFIER_MAP, 0x2000, 0xffff, 0);
	f->rec[0].fail = -ENOSPC;
	f->rec[1].fail = -EIO;
	assert_int_equal(pt_map(&f->t, 0, 3, 0x4000, MS_IOMMU_RW), -ENOSPC);
	assert_int_equal(f->rec[0].calls, 1);
	assert_int_equal(f->rec[1].calls, 1);
	assert_int_equal(f->rec[2].calls, 1);
	f->rec[0].fail = 0;
	assert_int_equal(pt_map(&f->t, 0, 4, 0x4000, MS_IOMMU_RW), -EIO);
	assert_int_equal(f->rec[2].calls, 2);
	ms_iommu_unregister_notifier(a);
	ms_iommu_unregister_notifier(b);
	ms_iommu_unregister_notifier(c);
}

static void test_notify_rejects_bad_events(void **state)
{
	fixture *f = *state;
	ms_iommu_event ev = pt_event(&f->t, 0, 1, MS_IOMMU_NOTIFIER_UNMAP);
	ms_iommu_notifier *n =
		watch(f->t.region, &f->rec[0], MS_IOMMU_NOTIFIER_ALL, 0, UINT64_MAX, 0);

	ev.entry.perm = MS_IOMMU_RW; /* UNMAP events carry NONE */
	assert_int_equal(ms_iommu_notify(f->t.region, 0, &ev), -EINVAL);
	ev = pt_event(&f->t, 0, 1, MS_IOMMU_NOTIFIER_MAP); /* page 1 unmapped: perm NONE */
	assert_int_equal(ms_iommu_notify(f->t.region, 0, &ev), -EINVAL);
	ev.entry.perm = MS_IOMMU_RW;
	ev.type = MS_IOMMU_NOTIFIER_MAP | MS_IOMMU_NOTIFIER_UNMAP;
	assert_int_equal(ms_iommu_notify(f->t.region, 0, &ev), -EINVAL);
	ev.type = MS_IOMMU_NOTIFIER_MAP;
	ev.entry.iova = UINT64_MAX - 10; /* wraps */
	assert_int_equal(ms_iommu_notify(f->t.region, 0, &ev), -EINVAL);
	ev.entry.iova = 0;
	assert_int_equal(ms_iommu_notify(f->ram, 0, &ev), -EINVAL);
	assert_int_equal(ms_iommu_notify(f->t.region, 0, NULL), -EINVAL);
	assert_int_equal(ms_iommu_notify_one(n, NULL), -EINVAL);
	assert_int_equal(ms_iommu_notify_one(NULL, &ev), -EINVAL);
	assert_int_equal(f->rec[0].calls, 0);
	assert_int_equal(ms_iommu_notify_one(n, &ev), 0);
	assert_int_equal(f->rec[0].calls, 1);
	ms_iommu_unregister_notifier(n);
}

static void test_register_rejects_bad_input(void **state)
{
	fixture *f = *state;
	ms_iommu_notifier_opts opts = MS_IOMMU_NOTIFIER_OPTS_INIT;
	ms_iommu_notifier *n = (ms_iommu_notifier *)1;
	ms_region *plain;

	opts.notify = record_event;
	opts.opaque = &f->rec[0];
	opts.flags = MS_IOMMU_NOTIFIER_MAP;
	uint32_t refs = settled_refs(f->t.region);
	assert_int_equal(
		ms_iommu_new(&plain, f->ctx, &(ms_iommu_opts){.name = "plain", .size = PAGE}), 0);
	assert_int_equal(ms_iommu_register_notifier(NULL, f->t.region, &opts), -EINVAL);
	assert_int_equal(ms_iommu_register_notifier(&n, f->t.region, NULL), -EINVAL);
	assert_null(n);
	assert_int_equal(ms_iommu_register_notifier(&n, NULL, &opts), -EINVAL);
	assert_int_equal(ms_iommu_register_notifier(&n, f->ram, &opts), -EINVAL);
	assert_int_equal(ms_iommu_register_notifier(&n, plain, &opts), -EINVAL);
	opts.flags = 0;
	assert_int_equal(ms_iommu_register_notifier(&n, f->t.region, &opts), -EINVAL);
	opts.flags = 8;
	assert_int_equal(ms_iommu_register_notifier(&n, f->t.region, &opts), -EINVAL);
	opts.flags = MS_IOMMU_NOTIFIER_MAP;
	opts.start = 0x2000;
	opts.end = 0x1fff;
	assert_int_equal(ms_iommu_register_notifier(&n, f->t.region, &opts), -EINVAL);
	opts.start = 0;
	opts.iommu_idx = 2;
	assert_int_equal(ms_iommu_register_notifier(&n, f->t.region, &opts), -EINVAL);
	opts.iommu_idx = 0;
	opts.notify = NULL;
	assert_int_equal(ms_iommu_register_notifier(&n, f->t.region, &opts), -EINVAL);
	opts.notify = record_event;
	ms_ctx_test_control(f->ctx, MS_TEST_FAIL_ALLOC_AFTER, 1);
	assert_int_equal(ms_iommu_register_notifier(&n, f->t.region, &opts), -ENOMEM);
	ms_ctx_test_control(f->ctx, MS_TEST_FAIL_ALLOC_AFTER, 0);
	assert_null(n);
	assert_int_equal(ms_iommu_notify_flags(f->t.region), 0);
	assert_string_equal(f->t.flag_log.text, "");
	assert_int_equal(settled_refs(f->t.region), refs);
	ms_region_unref(plain);
}

static void test_refused_registration_leaves_no_notifier(void **state)
{
	fixture *f = *state;
	ms_iommu_notifier_opts opts = MS_IOMMU_NOTIFIER_OPTS_INIT;
	ms_iommu_notifier *n = (ms_iommu_notifier *)1, *m;

	uint32_t refs = settled_refs(f->t.region);

	opts.flags = MS_IOMMU_NOTIFIER_MAP;
	opts.notify = record_event;
	opts.opaque = &f->rec[0];
	f->t.refuse = -EOPNOTSUPP;
	assert_int_equal(ms_iommu_register_notifier(&n, f->t.region, &opts), -EOPNOTSUPP);
	assert_null(n);
	assert_string_equal(f->t.flag_log.text, "0>1 ");
	assert_int_equal(ms_iommu_notify_flags(f->t.region), 0);
	assert_int_equal(pt_map(&f->t, 0, 1, 0x1000, MS_IOMMU_RW), 0);
	assert_int_equal(f->rec[0].calls, 0);
	assert_int_equal(settled_refs(f->t.region), refs);
	/* Flags that do not grow the union are not asked about again. */
	f->t.refuse = 0;
	m = watch(f->t.region, &f->rec[1], MS_IOMMU_NOTIFIER_MAP, 0, UINT64_MAX, 0);
	f->t.refuse = -EOPNOTSUPP;
	assert_int_equal(ms_iommu_register_notifier(&n, f->t.region, &opts), 0);
	assert_string_equal(f->t.flag_log.text, "0>1 0>1 ");
	ms_iommu_unregister_notifier(n);
	ms_iommu_unregister_notifier(m);
	assert_string_equal(f->t.flag_log.text, "0>1 0>1 1>0 ");
}

static void test_flag_union_is_recomputed(void **state)
{
	fixture *f = *state;
	uint32_t refs = settled_refs(f->t.region);
	ms_iommu_notifier *a, *b;

	a = watch(f->t.region, &f->rec[0], MS_IOMMU_NOTIFIER_MAP, 0, 0xfff, 0);
	assert_int_equal(settled_refs(f->t.region), refs + 1);
	assert_int_equal(ms_iommu_notify_flags(f->t.region), MS_IOMMU_NOTIFIER_MAP);
	b = watch(f->t.region, &f->rec[1], MS_IOMMU_NOTIFIER_IOTLB_EVENTS, 0, 0xfff, 1);
	assert_int_equal(ms_iommu_notify_flags(f->t.region), MS_IOMMU_NOTIFIER_IOTLB_EVENTS);
	ms_iommu_unregister_notifier(a);
	assert_int_equal(ms_iommu_notify_flags(f->t.region), MS_IOMMU_NOTIFIER_IOTLB_EVENTS);
	ms_iommu_unregister_notifier(b);
	assert_int_equal(ms_iommu_notify_flags(f->t.region), 0);
	assert_string_equal(f->t.flag_log.text, "0>1 1>3 3>0 ");
	assert_int_equal(settled_refs(f->t.region), refs);
}

static void test_register_through_an_alias(void **state)
{
	fixture *f = *state;
	ms_region *alias, *alias2;
	ms_iommu_notifier *n;

	assert_int_equal(ms_region_new_alias(&alias, f->ctx,
					     &(ms_region_alias_opts){.name = "a",
								     .target = f->t.region,
								     .offset = 0,
								     .size = PAGE}),
			 0);
	assert_int_equal(ms_region_new_alias(
				 &alias2, f->ctx,
				 &(ms_region_alias_opts){
					 .name = "a2", .target = alias, .offset = 0, .size = PAGE}),
			 0);
	n = watch(alias2, &f->rec[0], MS_IOMMU_NOTIFIER_MAP, 0, UINT64_MAX, 0);
	assert_int_equal(ms_iommu_notify_flags(f->t.region), MS_IOMMU_NOTIFIER_MAP);
	assert_int_equal(ms_iommu_notify_flags(alias), MS_IOMMU_NOTIFIER_MAP);
	assert_int_equal(pt_map(&f->t, 0, 2, 0x3000, MS_IOMMU_RO), 0);
	assert_string_equal(f->rec[0].log.text, "map 2000+fff->3000 ro;");
	ms_iommu_unregister_notifier(n);
	ms_region_unref(alias2);
	ms_region_unref(alias);
}

static void test_unregister_from_callbacks(void **state)
{
	fixture *f = *state;
	uint32_t refs = settled_refs(f->t.region);
	ms_iommu_notifier *a, *b, *c;

	/* a unregisters itself, b unregisters c before c is reached. */
	a = watch(f->t.region, &f->rec[0], MS_IOMMU_NOTIFIER_MAP, 0, 0xffff, 0);
	b = watch(f->t.region, &f->rec[1], MS_IOMMU_NOTIFIER_MAP, 0x1000, 0xffff, 0);
	c = watch(f->t.region, &f->rec[2], MS_IOMMU_NOTIFIER_MAP, 0x2000, 0xffff, 0);
	f->rec[0].unregister_on_call = a;
	f->rec[1].unregister_on_call = c;
	assert_int_equal(pt_map(&f->t, 0, 3, 0x4000, MS_IOMMU_RW), 0);
	assert_int_equal(f->rec[0].calls, 1);
	assert_int_equal(f->rec[1].calls, 1);
	assert_int_equal(f->rec[2].calls, 0);
	assert_int_equal(pt_map(&f->t, 0, 4, 0x4000, MS_IOMMU_RW), 0);
	assert_int_equal(f->rec[0].calls, 1);
	assert_int_equal(f->rec[1].calls, 2);
	ms_iommu_unregister_notifier(b);
	assert_int_equal(ms_iommu_notify_flags(f->t.region), 0);
	assert_int_equal(settled_refs(f->t.region), refs);
}

static void test_unmap_notifier_range_sends_one_unmap(void **state)
{
	fixture *f = *state;
	ms_iommu_notifier *n, *maps_only;

	n = watch(f->t.region, &f->rec[0], MS_IOMMU_NOTIFIER_IOTLB_EVENTS, 0x3000, 0x8fff, 0);
	maps_only = watch(f->t.region, &f->rec[1], MS_IOMMU_NOTIFIER_MAP, 0, 0xffff, 0);
	assert_int_equal(ms_iommu_unmap_notifier_range(n), 0);
	assert_int_equal(ms_iommu_unmap_notifier_range(maps_only), 0);
	assert_string_equal(f->rec[0].log.text, "unmap 3000+5fff->0 none;");
	assert_string_equal(f->rec[1].log.text, "");
	f->rec[0].fail = -EIO;
	assert_int_equal(ms_iommu_unmap_notifier_range(n), -EIO);
	assert_int_equal(ms_iommu_unmap_notifier_range(NULL), -EINVAL);
	ms_iommu_unregister_notifier(n);
	ms_iommu_unregister_notifier(maps_only);
}

/* ---- replay ---------------------------------------------------------------------------- */

static void test_replay_announces_only_valid_entries(void **state)
{
	fixture *f = *state;
	ms_iommu_notifier *n;

	f->t.table[0][1] = (pte){0x4000, MS_IOMMU_RO};
	f->t.table[0][5] = (pte){0x6000, MS_IOMMU_RW};
	f->t.table[0][9] = (pte){0x7000, MS_IOMMU_WO};
	f->t.table[1][2] = (pte){0x8000, MS_IOMMU_RW}; /* other index */
	n = watch(f->t.region, &f->rec[0], MS_IOMMU_NOTIFIER_MAP, 0x1800, 0x5fff, 0);
	f->t.translations = 0;
	assert_int_equal(ms_iommu_replay(f->t.region, n), 0);
	/* Pages 1..5 only (region ∩ range), entries cropped to the range. */
	assert_int_equal(f->t.translations, 5);
	assert_int_equal(f->t.last_flags, MS_IOMMU_NONE);
	assert_string_equal(f->rec[0].log.text, "map 1800+7ff->4800 ro;map 5000+fff->6000 rw;");
	/* A failing consumer stops the replay with its error. */
	f->rec[0].fail = -ENOSPC;
	sb_reset(&f->rec[0].log);
	assert_int_equal(ms_iommu_replay(f->t.region, n), -ENOSPC);
	assert_string_equal(f->rec[0].log.text, "map 1800+7ff->4800 ro;");
	ms_iommu_unregister_notifier(n);
}

static void test_replay_through_an_alias_and_its_rules(void **state)
{
	fixture *f = *state;
	ms_region *alias;
	ms_iommu_notifier *n, *unmaps;
	test_iommu *other = calloc(1, sizeof(*other));

	assert_non_null(other);
	f->t.table[0][7] = (pte){0x4000, MS_IOMMU_RW};
	assert_int_equal(ms_region_new_alias(&alias, f->ctx,
					     &(ms_region_alias_opts){.name = "a",
								     .target = f->t.region,
								     .offset = 0,
								     .size = PAGE}),
			 0);
	n = watch(alias, &f->rec[0], MS_IOMMU_NOTIFIER_MAP, 0, UINT64_MAX, 0);
	assert_int_equal(ms_iommu_replay(alias, n), 0);
	assert_string_equal(f->rec[0].log.text, "map 7000+fff->4000 rw;");
	/* Nothing for a notifier without MAP. */
	unmaps = watch(f->t.region, &f->rec[1], MS_IOMMU_NOTIFIER_UNMAP, 0, UINT64_MAX, 0);
	assert_int_equal(ms_iommu_replay(f->t.region, unmaps), 0);
	assert_int_equal(f->rec[1].calls, 0);
	/* Bad arguments. */
	pt_init(other, f->ctx, "other", PAGE, f->mem, 1);
	assert_int_equal(ms_iommu_replay(other->region, n), -EINVAL);
	assert_int_equal(ms_iommu_replay(f->t.region, NULL), -EINVAL);
	assert_int_equal(ms_iommu_replay(f->ram, n), -EINVAL);
	f->t.page_size = 3000;
	assert_int_equal(ms_iommu_replay(f->t.region, n), -EINVAL);
	f->t.page_size = PAGE;
	/* A malformed entry with a permission stops the default replay. */
	f->t.malformed = true;
	assert_int_equal(ms_iommu_replay(f->t.region, n), -EIO);
	f->t.malformed = false;
	assert_int_equal(f->rec[0].calls, 1);
	ms_iommu_unregister_notifier(n);
	ms_iommu_unregister_notifier(unmaps);
	ms_region_unref(alias);
	ms_region_unref(other->region);
	free(other);
}

static void test_default_replay_refuses_huge_ranges(void **state)
{
	fixture *f = *state;
	test_iommu *big = calloc(1, sizeof(*big));
	ms_iommu_notifier *all, *window;

	assert_non_null(big);
	pt_init(big, f->ctx, "big", MS_SIZE_2_64, f->mem, 1);
	big->table[0][3] = (pte){0x1000, MS_IOMMU_RW};
	all = watch(big->region, &f->rec[0], MS_IOMMU_NOTIFIER_MAP, 0, UINT64_MAX, 0);
	assert_int_equal(ms_iommu_replay(big->region, all), -ERANGE);
	assert_int_equal(big->translations, 0);
	window = watch(big->region, &f->rec[1], MS_IOMMU_NOTIFIER_MAP, 0,
		       MS_IOMMU_REPLAY_MAX_PAGES * PAGE - 1, 0);
	assert_int_equal(ms_iommu_replay(big->region, window), 0);
	assert_int_equal(big->translations, MS_IOMMU_REPLAY_MAX_PAGES);
	assert_string_equal(f->rec[1].log.text, "map 3000+fff->1000 rw;");
	ms_iommu_unregister_notifier(all);
	ms_iommu_unregister_notifier(window);
	ms_region_unref(big->region);
	free(big);
}

static int class_replay(ms_region *iommu, ms_iommu_notifier *n, void *opaque)
{
	test_iommu *t = opaque;
	ms_iommu_event ev = pt_event(t, 0, 0, MS_IOMMU_NOTIFIER_MAP);

	(void)iommu;
	ev.entry.perm = MS_IOMMU_RO;
	ev.entry.translated_addr = 0xabc000;
	return ms_iommu_notify_one(n, &ev);
}

static void test_replay_uses_the_class_method(void **state)
{
	fixture *f = *state;
	ms_iommu_ops ops = pt_ops;
	ms_region *r;
	ms_iommu_notifier *n;

	ops.replay = class_replay;
	assert_int_equal(ms_iommu_new(&r, f->ctx,
				      &(ms_iommu_opts){.name = "replaying",
						       .size = MS_SIZE_2_64,
						       .ops = &ops,
						       .opaque = &f->t}),
			 0);
	n = watch(r, &f->rec[0], MS_IOMMU_NOTIFIER_MAP, 0, UINT64_MAX, 0);
	f->t.translations = 0;
	assert_int_equal(ms_iommu_replay(r, n), 0);
	assert_int_equal(f->t.translations, 0);
	assert_string_equal(f->rec[0].log.text, "map 0+fff->abc000 ro;");
	f->rec[0].fail = -EIO;
	assert_int_equal(ms_iommu_replay(r, n), -EIO);
	ms_iommu_unregister_notifier(n);
	ms_region_unref(r);
}

static void test_replay_of_a_notifier_that_unregisters_itself(void **state)
{
	fixture *f = *state;
	ms_iommu_notifier *n;

	f->t.table[0][1] = (pte){0x4000, MS_IOMMU_RO};
	f->t.table[0][2] = (pte){0x5000, MS_IOMMU_RO};
	n = watch(f->t.region, &f->rec[0], MS_IOMMU_NOTIFIER_MAP, 0, UINT64_MAX, 0);
	f->rec[0].unregister_on_call = n;
	assert_int_equal(ms_iommu_replay(f->t.region, n), 0);
	assert_int_equal(f->rec[0].calls, 1);
	assert_int_equal(ms_iommu_notify_flags(f->t.region), 0);
}

static void test_context_free_releases_registered_notifiers(void **state)
{
	fixture *f = *state;

	uint32_t refs = settled_refs(f->t.region);

	/* Left registered: ms_ctx_free() (in teardown) frees them; valgrind checks. */
	(void)watch(f->t.region, &f->rec[0], MS_IOMMU_NOTIFIER_MAP, 0, UINT64_MAX, 0);
	(void)watch(f->t.region, &f->rec[1], MS_IOMMU_NOTIFIER_UNMAP, 0x1000, 0x1fff, 1);
	assert_int_equal(settled_refs(f->t.region), refs + 2);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_notify_crops_events_to_the_notifier_range),
		T(test_notify_filters_by_flags),
		T(test_notify_filters_by_index),
		T(test_in_place_change_is_unmap_then_map),
		T(test_failed_consumer_is_reported_and_others_still_see_the_event),
		T(test_notify_rejects_bad_events),
		T(test_register_rejects_bad_input),
		T(test_refused_registration_leaves_no_notifier),
		T(test_flag_union_is_recomputed),
		T(test_register_through_an_alias),
		T(test_unregister_from_callbacks),
		T(test_unmap_notifier_range_sends_one_unmap),
		T(test_replay_announces_only_valid_entries),
		T(test_replay_through_an_alias_and_its_rules),
		T(test_default_replay_refuses_huge_ranges),
		T(test_replay_uses_the_class_method),
		T(test_replay_of_a_notifier_that_unregisters_itself),
		T(test_context_free_releases_registered_notifiers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
