/*
 * test_faults.c: allocation-failure injection.
 *
 * For each operation, with ms_ctx_test_control(ctx, MS_TEST_FAIL_ALLOC_AFTER, n) for n = 1, 2, ...
 * on a freshly built machine, until the operation succeeds:
 *
 *   - the call returns -ENOMEM, and the context is exactly as before: a
 *     fingerprint of every address space (flat ranges, flatview root, which
 *     view object it holds and that view's reference count), of every named
 *     region (container, address, priority, flags, size, reference count,
 *     subregion list), of the context (address spaces, listeners, pending
 *     change records, live regions) is unchanged, and no listener callback
 *     ran;
 *   - the same operation then succeeds on that machine without injection and
 *     leaves the same state and callback log as on a machine that never saw
 *     a failure (so a failure leaves nothing behind that a later commit
 *     would trip over);
 *   - when the operation finally succeeds under injection, state and log
 *     equal that reference too.
 *
 * Transactions are the exception documented at ms_transaction_commit(): a
 * failed commit keeps the tree changes pending, publishes nothing, calls no
 * listener, and the next commit publishes them.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>

#include "ms_unit.h"
#include "ms_recorder.h"

#define MAX_FAULT_POINTS 1000
#define BANK_REGIONS 64 /* enough painted ranges to make the renderer grow its pool */

/* ---- the machine -------------------------------------------------------------- */

/*
 * system (container 2^64): address spaces "cpu" and "cpu2" (one shared view)
 *   ram0   RAM 0x1000 at 0
 *   dev    I/O 0x100 at 0x2000
 *   box    container 0x1000 at 0x4000
 *     boxram  RAM 0x100 at 0
 *   bank   container 0x10000 at 0x100000, BANK_REGIONS I/O regions "b"
 * dmaroot (container 2^64): address space "dma"
 *   window  alias of system [0, 0x10000) at 0x80000000
 *   iommu   IOMMU 0x1000 at 0x1000
 * extra: RAM 0x1000 in no container.
 * Listeners: "L" on cpu, "D" on dma.
 */
enum {
	R_SYSTEM,
	R_RAM0,
	R_DEV,
	R_BOX,
	R_BOXRAM,
	R_BANK,
	R_DMAROOT,
	R_WINDOW,
	R_IOMMU,
	R_EXTRA,
	NR_NAMED
};

typedef struct world {
	ms_ctx *ctx;
	ms_region *r[NR_NAMED];
	ms_as *cpu, *cpu2, *dma;
	recorder lcpu, ldma;
	strbuf log;
	/* Results of the operation under test, released by world_free(). */
	ms_region *created;
	ms_as *new_as;
	recorder lnew;
	unsigned char host[0x100];
} world;

static world *world_new(void)
{
	world *w = calloc(1, sizeof(*w));
	ms_ctx *ctx;
	int i;

	assert_non_null(w);
	ctx = w->ctx = new_ctx();
	assert_int_equal(ms_region_new_container(&w->r[R_SYSTEM], ctx, "system", MS_SIZE_2_64), 0);
	assert_int_equal(ms_region_new_ram(&w->r[R_RAM0], ctx, "ram0", 0x1000), 0);
	assert_int_equal(ms_region_new_io(&w->r[R_DEV], ctx,
					  &(ms_region_io_opts){
						  .name = "dev", .size = 0x100, .ops = nop_ops()}),
			 0);
	assert_int_equal(ms_region_new_container(&w->r[R_BOX], ctx, "box", 0x1000), 0);
	assert_int_equal(ms_region_new_ram(&w->r[R_BOXRAM], ctx, "boxram", 0x100), 0);
	assert_int_equal(ms_region_new_container(&w->r[R_BANK], ctx, "bank", 0x10000), 0);
	assert_int_equal(ms_region_new_container(&w->r[R_DMAROOT], ctx, "dmaroot", MS_SIZE_2_64),
			 0);
	assert_int_equal(ms_region_new_alias(&w->r[R_WINDOW], ctx,
					     &(ms_region_alias_opts){.name = "window",
								     .target = w->r[R_SYSTEM],
								     .offset = 0,
								     .size = 0x10000}),
			 0);
	assert_int_equal(ms_iommu_new(&w->r[R_IOMMU], ctx,
				      &(ms_iommu_opts){.name = "iommu", .size = 0x1000}),
			 0);
	assert_int_equal(ms_region_new_ram(&w->r[R_EXTRA], ctx, "extra", 0x1000), 0);

	ms_transaction_begin(ctx);
	assert_int_equal(ms_region_add_subregion(w->r[R_SYSTEM], 0, w->r[R_RAM0]), 0);
	assert_int_equal(ms_region_add_subregion(w->r[R_SYSTEM], 0x2000, w->r[R_DEV]), 0);
	assert_int_equal(ms_region_add_subregion(w->r[R_BOX], 0, w->r[R_BOXRAM]), 0);
	assert_int_equal(ms_region_add_subregion(w->r[R_SYSTEM], 0x4000, w->r[R_BOX]), 0);
	for (i = 0; i < BANK_REGIONS; i++) {
		ms_region *b;

		assert_int_equal(ms_region_new_io(&b, ctx,
						  &(ms_region_io_opts){
							  .name = "b", .size = 0x10, .ops = NULL}),
				 0);
		assert_int_equal(ms_region_add_subregion(w->r[R_BANK], (uint64_t)i * 0x100, b), 0);
		ms_region_unref(b);
	}
	assert_int_equal(ms_region_add_subregion(w->r[R_SYSTEM], 0x100000, w->r[R_BANK]), 0);
	assert_int_equal(ms_region_add_subregion(w->r[R_DMAROOT], 0x80000000, w->r[R_WINDOW]), 0);
	assert_int_equal(ms_region_add_subregion(w->r[R_DMAROOT], 0x1000, w->r[R_IOMMU]), 0);
	assert_int_equal(ms_transaction_commit(ctx), 0);

	assert_int_equal(ms_as_new(&w->cpu, ctx, w->r[R_SYSTEM], "cpu"), 0);
	assert_int_equal(ms_as_new(&w->cpu2, ctx, w->r[R_SYSTEM], "cpu2"), 0);
	assert_int_equal(ms_as_new(&w->dma, ctx, w->r[R_DMAROOT], "dma"), 0);
	recorder_init(&w->lcpu, "L", &w->log, 0);
	recorder_init(&w->ldma, "D", &w->log, 0);
	rec_listen(&w->lcpu, w->cpu);
	rec_listen(&w->ldma, w->dma);
	sb_reset(&w->log);
	return w;
}

/*
 * Release everything. With @check, also verify that dropping the caller's
 * references freed every region (that waits for deferred view frees, about
 * one RCU callback batch, so the fault loops check it only in their
 * reference runs).
 */
static void world_free_checked(world *w, bool check)
{
	int i;

	ms_ctx_test_control(w->ctx, MS_TEST_FAIL_ALLOC_AFTER, 0);
	if (w->lnew.l)
		assert_int_equal(ms_listener_unregister(w->lnew.l), 0);
	assert_int_equal(ms_listener_unregister(w->lcpu.l), 0);
	assert_int_equal(ms_listener_unregister(w->ldma.l), 0);
	ms_as_free(w->new_as);
	ms_as_free(w->cpu);
	ms_as_free(w->cpu2);
	ms_as_free(w->dma);
	ms_region_unref(w->created);
	for (i = 0; i < NR_NAMED; i++)
		ms_region_unref(w->r[i]);
	if (check)
		assert_int_equal(live_regions(w->ctx), 0);
	ms_ctx_free(w->ctx);
	free(w);
}

static void world_free(world *w)
{
	world_free_checked(w, true);
}

/* ---- fingerprints ------------------------------------------------------------- */

static void fingerprint_region(strbuf *sb, const ms_region *r)
{
	const ms_region *c = ms_region_container(r);
	strbuf tmp;

	sb_printf(sb, "%s kind=%d size=%" PRIx64 " in=%s@%" PRIx64 "/%d%s%s%s%s%s log=%x",
		  ms_region_name(r), (int)ms_region_get_kind(r), ms_region_size(r),
		  c ? ms_region_name(c) : "-", ms_region_addr(r), ms_region_priority(r),
		  ms_region_enabled(r) ? "" : " off", ms_region_readonly(r) ? " ro" : "",
		  ms_region_nonvolatile(r) ? " nv" : "", ms_region_unmergeable(r) ? " um" : "",
		  ms_region_romd(r) ? " romd" : "", r->dirty_log_mask);
	if (ms_region_get_kind(r) == MS_REGION_ALIAS)
		sb_printf(sb, " alias=%s+%" PRIx64, ms_region_name(ms_region_alias_target(r)),
			  ms_region_alias_offset(r));
	sb_printf(sb, " owner=%s refs=%u subs=[%s]\n",
		  ms_region_owner(r) ? ms_region_owner(r) : "-", region_refs(r), subs_str(&tmp, r));
}

/*
 * Everything observable about @w, without pointers (so that two machines
 * built alike compare equal). Which address spaces share a view object is
 * written as the index of the first address space holding the same view.
 */
static const char *fingerprint(strbuf *sb, world *w)
{
	ms_ctx *ctx = w->ctx;
	strbuf tmp;
	size_t i, j;
	int k;

	sb_reset(sb);
	/* Let deferred view frees run, so reference counts are settled. */
	sb_printf(sb, "live=%zu depth=%u touched=%zu listeners=%zu global=%d\n", live_regions(ctx),
		  ms_transaction_depth(ctx), ctx->nr_touched, ctx->nr_listeners,
		  (int)ms_ctx_dirty_log_global(ctx));
	for (i = 0; i < ms_ctx_nr_as(ctx); i++) {
		ms_as *as = ms_ctx_as(ctx, i);
		ms_region *root = ms_as_flatview_root(as);
		const ms_flatview *fv = as->view;
		size_t same = i;

		for (j = 0; j < i; j++)
			if (ms_ctx_as(ctx, j)->view == fv)
				same = j;
		sb_printf(sb, "as %s root=%s fvroot=%s view-of=%zu view-refs=%u\n", ms_as_name(as),
			  ms_region_name(ms_as_root(as)), root ? ms_region_name(root) : "-", same,
			  fv->refcount);
		sb_printf(sb, "%s", view_str(&tmp, fv));
	}
	for (k = 0; k < NR_NAMED; k++)
		fingerprint_region(sb, w->r[k]);
	sb_printf(sb, "bank: %s\n", tree_str(&tmp, w->r[R_BANK]));
	return sb->text;
}

/* The view objects of the three address spaces (identity must survive a failure). */
typedef struct views {
	const ms_flatview *v[3];
} views;

static views views_of(world *w)
{
	return (views){{w->cpu->view, w->cpu2->view, w->dma->view}};
}

static void assert_same_views(const views *a, const views *b)
{
	int i;

	for (i = 0; i < 3; i++)
		assert_ptr_equal(a->v[i], b->v[i]);
}

/* ---- the loop ------------------------------------------------------------------- */

typedef int (*operation)(world *w);

typedef struct outcome {
	strbuf state;
	strbuf log;
} outcome;

/* Run @op on a fresh machine without injection: the reference outcome. */
static void reference_run(operation op, outcome *out)
{
	world *w = world_new();

	assert_int_equal(op(w), 0);
	fingerprint(&out->state, w);
	out->log = w->log;
	world_free(w);
}

/* The fingerprint of a freshly built machine (the same for every build). */
static void fresh_fingerprint(strbuf *sb)
{
	world *w = world_new();

	fingerprint(sb, w);
	world_free(w);
}

/*
 * Fail the n-th allocation of @op for n = 1, 2, ... until it succeeds.
 * Return: the number of allocations that could fail.
 */
static unsigned fault_loop(const char *what, operation op)
{
	static outcome ref, got;
	static strbuf before, after;
	unsigned n;

	reference_run(op, &ref);
	fresh_fingerprint(&before);
	for (n = 1; n <= MAX_FAULT_POINTS; n++) {
		world *w = world_new();
		views v_before, v_after;
		int rc;

		v_before = views_of(w);
		ms_ctx_test_control(w->ctx, MS_TEST_FAIL_ALLOC_AFTER, n);
		rc = op(w);
		ms_ctx_test_control(w->ctx, MS_TEST_FAIL_ALLOC_AFTER, 0);
		if (rc == 0) {
			assert_string_equal(fingerprint(&got.state, w), ref.state.text);
			assert_string_equal(w->log.text, ref.log.text);
			world_free_checked(w, false);
			return n - 1;
		}
		if (rc != -ENOMEM)
			fail_msg("%s with allocation %u failing: returned %d, expected %d", what, n,
				 rc, -ENOMEM);
		fingerprint(&after, w);
		if (strcmp(after.text, before.text) != 0) {
			print_error("%s with allocation %u failing changed the context\n", what, n);
			assert_string_equal(after.text, before.text);
		}
		v_after = views_of(w);
		assert_same_views(&v_after, &v_before);
		if (w->log.len != 0) {
			print_error("%s with allocation %u failing called listeners\n", what, n);
			assert_string_equal(w->log.text, "");
		}
		/* Nothing was left behind: the operation now does what it should. */
		rc = op(w);
		if (rc != 0)
			fail_msg("%s after a failure at allocation %u: retry returned %d", what, n,
				 rc);
		assert_string_equal(fingerprint(&got.state, w), ref.state.text);
		assert_string_equal(w->log.text, ref.log.text);
		world_free_checked(w, false);
	}
	fail_msg("%s still failing after %u injected failures", what, MAX_FAULT_POINTS);
	return 0;
}

#define FAULT_TEST(name, ...)                                                                \
	static int op_##name(world *w)                                                       \
	{                                                                                    \
		__VA_ARGS__                                                                  \
	}                                                                                    \
	static void test_##name##_fails_cleanly(void **state)                                \
	{                                                                                    \
		unsigned points = fault_loop(#name, op_##name);                              \
		(void)state;                                                                 \
		print_message("      %s: %u allocation(s) failed in turn\n", #name, points); \
		assert_true(points > 0);                                                     \
	}

/* ---- region creation --------------------------------------------------------- */

FAULT_TEST(new_container, { return ms_region_new_container(&w->created, w->ctx, "new", 0x1000); })

FAULT_TEST(new_io, {
	return ms_region_new_io(
		&w->created, w->ctx,
		&(ms_region_io_opts){.name = "new", .size = 0x1000, .ops = nop_ops()});
})

FAULT_TEST(new_ram, { return ms_region_new_ram(&w->created, w->ctx, "new", 0x1000); })

FAULT_TEST(new_rom, { return ms_region_new_rom(&w->created, w->ctx, "new", 0x1000); })

FAULT_TEST(new_rom_device, {
	return ms_region_new_rom_device(
		&w->created, w->ctx,
		&(ms_region_io_opts){.name = "new", .size = 0x1000, .ops = nop_ops()});
})

FAULT_TEST(new_ram_device, {
	return ms_region_new_ram_device(&w->created, w->ctx, "new", sizeof(w->host), w->host);
})

FAULT_TEST(new_ram_ptr,
	   { return ms_region_new_ram_ptr(&w->created, w->ctx, "new", sizeof(w->host), w->host); })

/* ram0 has no alias yet: its back-reference list is allocated. */
FAULT_TEST(new_alias, {
	return ms_region_new_alias(
		&w->created, w->ctx,
		&(ms_region_alias_opts){
			.name = "new", .target = w->r[R_RAM0], .offset = 0x10, .size = 0x100});
})

FAULT_TEST(new_iommu, {
	return ms_iommu_new(&w->created, w->ctx, &(ms_iommu_opts){.name = "new", .size = 0x1000});
})

/* A failed constructor stores NULL; check that on top of the loop above. */
static void test_failed_constructors_store_null(void **state)
{
	world *w = world_new();
	ms_region *r;

	(void)state;
	r = (ms_region *)&r;
	ms_ctx_test_control(w->ctx, MS_TEST_FAIL_ALLOC_AFTER, 1);
	assert_int_equal(ms_region_new_ram(&r, w->ctx, "x", 0x1000), -ENOMEM);
	assert_null(r);
	r = (ms_region *)&r;
	ms_ctx_test_control(w->ctx, MS_TEST_FAIL_ALLOC_AFTER, 3); /* the RAM itself */
	assert_int_equal(ms_region_new_ram(&r, w->ctx, "x", 0x1000), -ENOMEM);
	assert_null(r);
	r = (ms_region *)&r;
	ms_ctx_test_control(w->ctx, MS_TEST_FAIL_ALLOC_AFTER,
			    3); /* the target's back-reference list */
	assert_int_equal(ms_region_new_alias(&r, w->ctx,
					     &(ms_region_alias_opts){.name = "x",
								     .target = w->r[R_EXTRA],
								     .offset = 0,
								     .size = 0x10}),
			 -ENOMEM);
	assert_null(r);
	assert_int_equal(w->r[R_EXTRA]->nr_aliased_by, 0);
	world_free(w);
}

/* ---- tree mutations (each commits at once) ----------------------------------- */

FAULT_TEST(add_subregion, { return ms_region_add_subregion(w->r[R_BOX], 0x800, w->r[R_EXTRA]); })

FAULT_TEST(add_subregion_overlap,
	   { return ms_region_add_subregion_overlap(w->r[R_SYSTEM], 0x1800, w->r[R_EXTRA], 3); })

FAULT_TEST(del_subregion, { return ms_region_del_subregion(w->r[R_SYSTEM], w->r[R_DEV]); })

FAULT_TEST(set_enabled, { return ms_region_set_enabled(w->r[R_RAM0], false); })

FAULT_TEST(set_address, { return ms_region_set_address(w->r[R_RAM0], 0x3000); })

FAULT_TEST(set_priority, { return ms_region_set_priority(w->r[R_BOX], 7); })

FAULT_TEST(set_readonly, { return ms_region_set_readonly(w->r[R_BOX], true); })

FAULT_TEST(set_size, { return ms_region_set_size(w->r[R_BOX], 0x80); })

FAULT_TEST(set_alias_offset, { return ms_region_set_alias_offset(w->r[R_WINDOW], 0x1000); })

FAULT_TEST(set_dirty_log, { return ms_region_set_dirty_log(w->r[R_RAM0], 1, true); })

FAULT_TEST(set_owner, { return ms_region_set_owner(w->r[R_RAM0], "board"); })

/* ---- address spaces and listeners --------------------------------------------- */

/* A new root: its view must be rendered. */
FAULT_TEST(as_new_rendered, { return ms_as_new(&w->new_as, w->ctx, w->r[R_BOX], "new"); })

/* The root of "cpu": the view is shared, nothing is rendered. */
FAULT_TEST(as_new_shared, { return ms_as_new(&w->new_as, w->ctx, w->r[R_SYSTEM], "new"); })

FAULT_TEST(listener_register, {
	recorder_init(&w->lnew, "N", &w->log, 0);
	return ms_listener_register(&w->lnew.l, w->cpu, &w->lnew.ops, &w->lnew);
})

/* ---- transactions -------------------------------------------------------------- */

static int op_add_subregion_in_transaction(world *w)
{
	int rc;

	ms_transaction_begin(w->ctx);
	rc = ms_region_add_subregion(w->r[R_BANK], 0x8000, w->r[R_EXTRA]);
	ms_ctx_test_control(w->ctx, MS_TEST_FAIL_ALLOC_AFTER, 0);
	assert_int_equal(ms_transaction_commit(w->ctx), 0);
	return rc;
}

/*
 * A mutation inside a transaction only records its change, in arrays whose
 * room earlier commits left, and subregions are stored in nodes embedded in
 * them: adding one allocates nothing, so it cannot fail for memory.
 */
static void test_add_subregion_in_transaction_allocates_nothing(void **state)
{
	(void)state;
	assert_int_equal(
		fault_loop("add_subregion_in_transaction", op_add_subregion_in_transaction), 0);
}

static void several_mutations(world *w)
{
	ms_transaction_begin(w->ctx);
	assert_int_equal(ms_region_add_subregion(w->r[R_SYSTEM], 0x8000, w->r[R_EXTRA]), 0);
	assert_int_equal(ms_region_set_address(w->r[R_RAM0], 0x1000), 0);
	assert_int_equal(ms_region_del_subregion(w->r[R_BOX], w->r[R_BOXRAM]), 0);
	assert_int_equal(ms_region_set_enabled(w->r[R_IOMMU], false), 0);
	assert_int_equal(ms_region_set_readonly(w->r[R_DEV], true), 0);
	assert_int_equal(ms_region_set_alias_offset(w->r[R_WINDOW], 0x2000), 0);
}

/* The published views of every address space, as text. */
static const char *all_views(strbuf *sb, world *w)
{
	strbuf tmp;
	size_t i;

	sb_reset(sb);
	for (i = 0; i < ms_ctx_nr_as(w->ctx); i++)
		sb_printf(sb, "%s:\n%s", ms_as_name(ms_ctx_as(w->ctx, i)),
			  view_str(&tmp, ms_ctx_as(w->ctx, i)->view));
	return sb->text;
}

static void test_transaction_commit_failure_keeps_changes_pending(void **state)
{
	static strbuf ref_tree, ref_state, ref_log, got, views_before, views_after;
	unsigned n, points = 0;

	(void)state;
	/* Reference: the same transaction without injection. */
	{
		world *w = world_new();

		several_mutations(w);
		tree_str(&ref_tree, w->r[R_SYSTEM]);
		assert_int_equal(ms_transaction_commit(w->ctx), 0);
		fingerprint(&ref_state, w);
		ref_log = w->log;
		world_free(w);
	}
	for (n = 1; n <= MAX_FAULT_POINTS; n++) {
		world *w = world_new();
		views v_before, v_after;
		int rc;

		all_views(&views_before, w);
		v_before = views_of(w);
		several_mutations(w);
		ms_ctx_test_control(w->ctx, MS_TEST_FAIL_ALLOC_AFTER, n);
		rc = ms_transaction_commit(w->ctx);
		ms_ctx_test_control(w->ctx, MS_TEST_FAIL_ALLOC_AFTER, 0);
		assert_int_equal(ms_transaction_depth(w->ctx), 0);
		if (rc == 0) {
			assert_string_equal(fingerprint(&got, w), ref_state.text);
			assert_string_equal(w->log.text, ref_log.text);
			world_free_checked(w, false);
			break;
		}
		assert_int_equal(rc, -ENOMEM);
		points++;
		/* No view changed and no listener ran ... */
		v_after = views_of(w);
		assert_same_views(&v_after, &v_before);
		assert_string_equal(all_views(&views_after, w), views_before.text);
		assert_string_equal(w->log.text, "");
		/* ... the tree kept the changes ... */
		assert_string_equal(tree_str(&got, w->r[R_SYSTEM]), ref_tree.text);
		assert_null(ms_region_container(w->r[R_BOXRAM]));
		assert_false(ms_region_enabled(w->r[R_IOMMU]));
		assert_int_equal(ms_region_alias_offset(w->r[R_WINDOW]), 0x2000);
		/* ... and the next commit publishes them, as if nothing had failed. */
		ms_transaction_begin(w->ctx);
		assert_int_equal(ms_transaction_commit(w->ctx), 0);
		assert_string_equal(fingerprint(&got, w), ref_state.text);
		assert_string_equal(w->log.text, ref_log.text);
		world_free_checked(w, false);
	}
	print_message("      transaction commit: %u allocation(s) failed in turn\n", points);
	assert_true(points > 0);
	assert_true(n <= MAX_FAULT_POINTS);
}

/*
 * A single mutation that fails to commit while an earlier failed transaction
 * is still pending undoes only itself; the earlier changes stay pending and
 * the next successful commit publishes both.
 */
static void test_failed_mutation_on_top_of_pending_changes_undoes_only_itself(void **state)
{
	world *w = world_new();
	strbuf sb;

	(void)state;
	ms_transaction_begin(w->ctx);
	assert_int_equal(ms_region_set_address(w->r[R_RAM0], 0x1000), 0);
	ms_ctx_test_control(w->ctx, MS_TEST_FAIL_ALLOC_AFTER, 1);
	assert_int_equal(ms_transaction_commit(w->ctx), -ENOMEM);
	ms_ctx_test_control(w->ctx, MS_TEST_FAIL_ALLOC_AFTER, 1);
	assert_int_equal(ms_region_set_enabled(w->r[R_DEV], false), -ENOMEM);
	ms_ctx_test_control(w->ctx, MS_TEST_FAIL_ALLOC_AFTER, 0);
	assert_true(ms_region_enabled(w->r[R_DEV]));
	assert_int_equal(ms_region_addr(w->r[R_RAM0]), 0x1000);
	assert_string_equal(w->log.text, "");
	assert_int_equal(ms_region_set_address(w->r[R_BOX], 0x5000), 0);
	as_view_str(&sb, w->cpu);
	assert_non_null(
		strstr(sb.text, "1000-1fff ram0 @0\n2000-20ff dev @0\n5000-50ff boxram @0\n"));
	world_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_container_fails_cleanly),
		cmocka_unit_test(test_new_io_fails_cleanly),
		cmocka_unit_test(test_new_ram_fails_cleanly),
		cmocka_unit_test(test_new_rom_fails_cleanly),
		cmocka_unit_test(test_new_rom_device_fails_cleanly),
		cmocka_unit_test(test_new_ram_device_fails_cleanly),
		cmocka_unit_test(test_new_ram_ptr_fails_cleanly),
		cmocka_unit_test(test_new_alias_fails_cleanly),
		cmocka_unit_test(test_new_iommu_fails_cleanly),
		cmocka_unit_test(test_failed_constructors_store_null),
		cmocka_unit_test(test_add_subregion_fails_cleanly),
		cmocka_unit_test(test_add_subregion_overlap_fails_cleanly),
		cmocka_unit_test(test_del_subregion_fails_cleanly),
		cmocka_unit_test(test_set_enabled_fails_cleanly),
		cmocka_unit_test(test_set_address_fails_cleanly),
		cmocka_unit_test(test_set_priority_fails_cleanly),
		cmocka_unit_test(test_set_readonly_fails_cleanly),
		cmocka_unit_test(test_set_size_fails_cleanly),
		cmocka_unit_test(test_set_alias_offset_fails_cleanly),
		cmocka_unit_test(test_set_dirty_log_fails_cleanly),
		cmocka_unit_test(test_set_owner_fails_cleanly),
		cmocka_unit_test(test_as_new_rendered_fails_cleanly),
		cmocka_unit_test(test_as_new_shared_fails_cleanly),
		cmocka_unit_test(test_listener_register_fails_cleanly),
		cmocka_unit_test(test_add_subregion_in_transaction_allocates_nothing),
		cmocka_unit_test(test_transaction_commit_failure_keeps_changes_pending),
		cmocka_unit_test(test_failed_mutation_on_top_of_pending_changes_undoes_only_itself),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
