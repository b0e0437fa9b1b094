/*
 * test_errors.c: the rows of docs/errors.md that no other unit test checks
 * exactly, for ctx.h, region.h, as.h, listener.h and mtree.h (access.h,
 * map.h, iommu.h and cache.h are in test_errors_access.c).
 *
 * Each test provokes one documented error of one or more public calls and
 * asserts the code (or the NULL return) and that the failed call changed
 * nothing: a text snapshot of the tree, the region properties and reference
 * counts, the published view, the pending change records and a recording
 * listener's log is taken before and compared after.
 * tests/errors_doc_check.sh checks that every row of docs/errors.md names a
 * test that exists.
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
#include "ms_recorder.h"
#include "test_errors_support.h"

/* ---- the machine of the topology tests ------------------------------------ */

/*
 * root (container 0x10000, address space "as", listener "rec")
 *   ram0   RAM 0x1000 at 0
 *   box    container 0x1000 at 0x2000
 *     io   I/O reservation 0x100 at 0
 *   al     alias of ram0 [0, 0x1000) at 0x4000
 *   flash  ROM device 0x1000 at 0x6000 (romd mode)
 * loose: an I/O reservation in no container.
 */
enum {
	W_ROOT,
	W_RAM0,
	W_BOX,
	W_IO,
	W_AL,
	W_FLASH,
	W_LOOSE,
	W_NR
};

typedef struct world {
	ms_ctx *ctx;
	ms_region *r[W_NR];
	ms_as *as;
	recorder rec; /* unnamed: its lines have no prefix */
	strbuf log;   /* rec's */
	dev flash_dev;
	strbuf before, after;
} world;

static int world_setup(void **state)
{
	world *w = calloc(1, sizeof(*w));
	ms_region **r;

	assert_non_null(w);
	r = w->r;
	w->ctx = new_ctx();
	dev_init(&w->flash_dev);
	assert_int_equal(ms_region_new_container(&r[W_ROOT], w->ctx, "root", 0x10000), 0);
	assert_int_equal(ms_region_new_ram(&r[W_RAM0], w->ctx, "ram0", 0x1000), 0);
	assert_int_equal(ms_region_new_container(&r[W_BOX], w->ctx, "box", 0x1000), 0);
	assert_int_equal(
		ms_region_new_io(&r[W_IO], w->ctx,
				 &(ms_region_io_opts){.name = "io", .size = 0x100, .ops = NULL}),
		0);
	assert_int_equal(ms_region_new_alias(&r[W_AL], w->ctx,
					     &(ms_region_alias_opts){.name = "al",
								     .target = r[W_RAM0],
								     .offset = 0,
								     .size = 0x1000}),
			 0);
	assert_int_equal(ms_region_new_rom_device(&r[W_FLASH], w->ctx,
						  &(ms_region_io_opts){.name = "flash",
								       .size = 0x1000,
								       .ops = &w->flash_dev.ops,
								       .opaque = &w->flash_dev}),
			 0);
	assert_int_equal(
		ms_region_new_io(&r[W_LOOSE], w->ctx,
				 &(ms_region_io_opts){.name = "loose", .size = 0x100, .ops = NULL}),
		0);
	assert_int_equal(ms_as_new(&w->as, w->ctx, r[W_ROOT], "as"), 0);
	ms_transaction_begin(w->ctx);
	assert_int_equal(ms_region_add_subregion(r[W_ROOT], 0, r[W_RAM0]), 0);
	assert_int_equal(ms_region_add_subregion(r[W_BOX], 0, r[W_IO]), 0);
	assert_int_equal(ms_region_add_subregion(r[W_ROOT], 0x2000, r[W_BOX]), 0);
	assert_int_equal(ms_region_add_subregion(r[W_ROOT], 0x4000, r[W_AL]), 0);
	assert_int_equal(ms_region_add_subregion(r[W_ROOT], 0x6000, r[W_FLASH]), 0);
	assert_int_equal(ms_transaction_commit(w->ctx), 0);
	recorder_init(&w->rec, NULL, &w->log, 0);
	rec_listen(&w->rec, w->as);
	assert_string_equal(w->log.text, "begin\n"
					 "add 0000-0fff ram0 @0\n"
					 "add 2000-20ff io @0\n"
					 "add 4000-4fff ram0 @0\n"
					 "add 6000-6fff flash @0 romd\n"
					 "commit\n");
	sb_reset(&w->log);
	*state = w;
	return 0;
}

static int world_teardown(void **state)
{
	world *w = *state;
	int i;

	ms_ctx_test_control(w->ctx, MS_TEST_FAIL_ALLOC_AFTER, 0);
	assert_int_equal(ms_listener_unregister(w->rec.l), 0);
	ms_as_free(w->as);
	for (i = 0; i < W_NR; i++)
		ms_region_unref(w->r[i]);
	assert_int_equal(live_regions(w->ctx), 0);
	ms_ctx_free(w->ctx);
	free(w);
	return 0;
}

static void region_props(strbuf *sb, const ms_region *r)
{
	const ms_region *c = ms_region_container(r);
	uint32_t refs = region_refs(r); /* change records hold references too */

	sb_printf(sb, "%s size=%" PRIx64 " in=%s@%" PRIx64 "/%d%s%s%s%s%s log=%x",
		  ms_region_name(r), ms_region_size(r), c ? ms_region_name(c) : "-",
		  ms_region_addr(r), ms_region_priority(r), ms_region_enabled(r) ? "" : " off",
		  ms_region_readonly(r) ? " ro" : "", ms_region_nonvolatile(r) ? " nv" : "",
		  ms_region_unmergeable(r) ? " um" : "", ms_region_romd(r) ? " romd" : "",
		  r->dirty_log_mask);
	if (ms_region_get_kind(r) == MS_REGION_ALIAS)
		sb_printf(sb, " alias=%s+%" PRIx64, ms_region_name(ms_region_alias_target(r)),
			  ms_region_alias_offset(r));
	sb_printf(sb, " refs=%u\n", refs);
}

/*
 * Everything a failed call must leave alone: tree, properties, reference
 * counts (after deferred view frees), the published view, pending change
 * records, address spaces, listeners, global dirty logging, the listener log.
 */
static const char *world_snapshot(strbuf *sb, world *w)
{
	strbuf tmp;
	int i;

	rcu_barrier_bp();
	sb_reset(sb);
	sb_printf(sb, "%s\n", tree_str(&tmp, w->r[W_ROOT]));
	for (i = 0; i < W_NR; i++)
		region_props(sb, w->r[i]);
	sb_printf(sb, "view:\n%s", as_view_str(&tmp, w->as));
	sb_printf(sb, "touched=%zu depth=%u as=%zu listeners=%zu global=%d live=%zu\n",
		  w->ctx->nr_touched, ms_transaction_depth(w->ctx), ms_ctx_nr_as(w->ctx),
		  w->ctx->nr_listeners, (int)ms_ctx_dirty_log_global(w->ctx), live_regions(w->ctx));
	sb_printf(sb, "log:\n%s", w->log.text);
	return sb->text;
}

/* ---- NULL objects, every header -------------------------------------------- */

/* NULL objects: free/unref/unregister are no-ops, ref returns NULL. */
static void test_null_objects_are_no_ops(void **state)
{
	(void)state;
	ms_ctx_free(NULL);
	assert_null(ms_region_ref(NULL));
	ms_region_unref(NULL);
	assert_null(ms_flatview_ref(NULL));
	ms_flatview_unref(NULL);
	ms_as_free(NULL);
	assert_int_equal(ms_listener_unregister(NULL), 0);
	ms_as_unregister_map_client(NULL);
}

/* ---- region.h: constructors ------------------------------------------------ */

static const ms_region_ops plain_ops = {
	.version = MS_REGION_OPS_VERSION,
	.read_with_attrs = dev_read,
	.write_with_attrs = dev_write,
};

enum {
	K_CONTAINER,
	K_IO,
	K_RAM,
	K_ROM,
	K_ROM_DEVICE,
	K_RAM_DEVICE,
	K_RAM_PTR,
	K_ALIAS,
	K_IOMMU
};

static const char *const kind_names[] = {"container",  "io",      "ram",   "rom",  "rom_device",
					 "ram_device", "ram_ptr", "alias", "iommu"};

static uint64_t host_memory[64];

/* Call constructor @kind with the given out, ctx and name; the rest valid. */
static int construct(int kind, ms_region **out, ms_ctx *ctx, const char *name, ms_region *target)
{
	switch (kind) {
	case K_CONTAINER:
		return ms_region_new_container(out, ctx, name, 0x100);
	case K_IO:
		return ms_region_new_io(
			out, ctx,
			&(ms_region_io_opts){.name = name, .size = 0x100, .ops = &plain_ops});
	case K_RAM:
		return ms_region_new_ram(out, ctx, name, 0x100);
	case K_ROM:
		return ms_region_new_rom(out, ctx, name, 0x100);
	case K_ROM_DEVICE:
		return ms_region_new_rom_device(
			out, ctx,
			&(ms_region_io_opts){.name = name, .size = 0x100, .ops = &plain_ops});
	case K_RAM_DEVICE:
		return ms_region_new_ram_device(out, ctx, name, sizeof(host_memory), host_memory);
	case K_RAM_PTR:
		return ms_region_new_ram_ptr(out, ctx, name, sizeof(host_memory), host_memory);
	case K_ALIAS:
		return ms_region_new_alias(
			out, ctx,
			&(ms_region_alias_opts){
				.name = name, .target = target, .offset = 0, .size = 0x10});
	default:
		return ms_iommu_new(out, ctx, &(ms_iommu_opts){.name = name, .size = 0x100});
	}
}

static void test_constructors_refuse_each_null_argument(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *target, *r;
	int kind;

	(void)state;
	assert_int_equal(ms_region_new_ram(&target, ctx, "target", 0x100), 0);
	for (kind = K_CONTAINER; kind <= K_IOMMU; kind++) {
		int rc;

		rc = construct(kind, NULL, ctx, "x", target);
		if (rc != -EINVAL)
			fail_msg("%s with out NULL: %d", kind_names[kind], rc);
		r = (ms_region *)&r;
		rc = construct(kind, &r, NULL, "x", target);
		if (rc != -EINVAL || r != NULL)
			fail_msg("%s with ctx NULL: %d, out %p", kind_names[kind], rc, (void *)r);
		r = (ms_region *)&r;
		rc = construct(kind, &r, ctx, NULL, target);
		if (rc != -EINVAL || r != NULL)
			fail_msg("%s with name NULL: %d, out %p", kind_names[kind], rc, (void *)r);
		/* Control: the same call with every argument valid succeeds. */
		assert_int_equal(construct(kind, &r, ctx, "x", target), 0);
		assert_non_null(r);
		ms_region_unref(r);
	}
	/* The kind-specific pointers. */
	r = (ms_region *)&r;
	assert_int_equal(ms_region_new_alias(
				 &r, ctx,
				 &(ms_region_alias_opts){
					 .name = "x", .target = NULL, .offset = 0, .size = 0x10}),
			 -EINVAL);
	assert_null(r);
	r = (ms_region *)&r;
	assert_int_equal(
		ms_region_new_rom_device(
			&r, ctx, &(ms_region_io_opts){.name = "x", .size = 0x100, .ops = NULL}),
		-EINVAL);
	assert_null(r);
	r = (ms_region *)&r;
	assert_int_equal(ms_region_new_ram_device(&r, ctx, "x", 0x100, NULL), -EINVAL);
	assert_null(r);
	r = (ms_region *)&r;
	assert_int_equal(ms_region_new_ram_ptr(&r, ctx, "x", 0x100, NULL), -EINVAL);
	assert_null(r);
	/* Nothing was left behind: only the target lives, and no alias holds it. */
	assert_int_equal(live_regions(ctx), 1);
	assert_int_equal(region_refs(target), 1);
	assert_int_equal(target->nr_aliased_by, 0);
	ms_region_unref(target);
	assert_int_equal(live_regions(ctx), 0);
	ms_ctx_free(ctx);
}

static void test_rom_device_too_large_is_enomem(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *r = (ms_region *)&r;

	(void)state;
	assert_int_equal(ms_region_new_rom_device(&r, ctx,
						  &(ms_region_io_opts){.name = "huge",
								       .size = MS_SIZE_2_64,
								       .ops = &plain_ops}),
			 -ENOMEM);
	assert_null(r);
	assert_int_equal(live_regions(ctx), 0);
	ms_ctx_free(ctx);
}

/* ---- region.h: getters -------------------------------------------------------- */

static void test_getters_return_null_where_nothing_applies(void **state)
{
	world *w = *state;
	strbuf sb;

	world_snapshot(&w->before, w);
	assert_null(ms_region_subregion(w->r[W_BOX], 1));
	assert_null(ms_region_subregion(w->r[W_BOX], SIZE_MAX));
	assert_null(ms_region_subregion(w->r[W_IO], 0));
	assert_ptr_equal(ms_region_subregion(w->r[W_BOX], 0), w->r[W_IO]);
	assert_null(ms_region_alias_target(w->r[W_RAM0]));
	assert_null(ms_region_alias_target(w->r[W_BOX]));
	assert_ptr_equal(ms_region_alias_target(w->r[W_AL]), w->r[W_RAM0]);
	assert_null(ms_region_ram_ptr(w->r[W_BOX]));
	assert_null(ms_region_ram_ptr(w->r[W_IO]));
	assert_null(ms_region_ram_ptr(w->r[W_AL]));
	assert_non_null(ms_region_ram_ptr(w->r[W_FLASH]));
	assert_null(ms_region_container(w->r[W_LOOSE]));
	assert_null(ms_region_owner(w->r[W_RAM0]));
	assert_string_equal(tree_str(&sb, w->r[W_BOX]), "box@2000/0{io@0/0}");
	assert_string_equal(world_snapshot(&w->after, w), w->before.text);
}

/* ---- region.h: mutations ------------------------------------------------------ */

static void test_add_subregion_overlap_refuses_like_add_subregion(void **state)
{
	world *w = *state;
	ms_region *self;

	EXPECT_REFUSED(w, ms_region_add_subregion_overlap(w->r[W_AL], 0, w->r[W_LOOSE], 1),
		       -EINVAL);
	EXPECT_REFUSED(w, ms_region_add_subregion_overlap(w->r[W_BOX], 0, w->r[W_BOX], 1), -EINVAL);
	EXPECT_REFUSED(w, ms_region_add_subregion_overlap(w->r[W_ROOT], 0, NULL, 1), -EINVAL);
	/* root contains box: root inside box would be a cycle. */
	EXPECT_REFUSED(w, ms_region_add_subregion_overlap(w->r[W_BOX], 0x10, w->r[W_ROOT], 1),
		       -ELOOP);
	/* An alias of root placed at 0 with offset 0 shows itself without end. */
	assert_int_equal(ms_region_new_alias(&self, w->ctx,
					     &(ms_region_alias_opts){.name = "self",
								     .target = w->r[W_ROOT],
								     .offset = 0,
								     .size = 0x10000}),
			 0);
	EXPECT_REFUSED(w, ms_region_add_subregion_overlap(w->r[W_ROOT], 0, self, 1), -ELOOP);
	assert_null(ms_region_container(self));
	assert_int_equal(ms_region_priority(self), 0);
	assert_int_equal(region_refs(self), 1);
	ms_region_unref(self);
}

/* The calls test_txn.c does not try from inside a callback. */
typedef struct callback_tries {
	world *w;
	bool done; /* the calls are tried once, from the first region_add */
	int rc[9];
} callback_tries;

static void try_from_callback(recorder *rec, const ms_section *s)
{
	callback_tries *t = rec->data;
	world *w = t->w;
	int i = 0;

	(void)s;
	if (t->done)
		return;
	t->done = true;
	t->rc[i++] = ms_region_add_subregion_overlap(w->r[W_ROOT], 0x8000, w->r[W_LOOSE], 2);
	t->rc[i++] = ms_region_set_size(w->r[W_BOX], 0x800);
	t->rc[i++] = ms_region_set_nonvolatile(w->r[W_RAM0], true);
	t->rc[i++] = ms_region_set_unmergeable(w->r[W_RAM0], true);
	t->rc[i++] = ms_region_set_alias_offset(w->r[W_AL], 0x100);
	t->rc[i++] = ms_region_set_romd(w->r[W_FLASH], false);
	t->rc[i++] = ms_region_set_priority(w->r[W_BOX], 3);
	t->rc[i++] = ms_ctx_dirty_log_global_stop(w->ctx);
	/* Not a topology change: allowed from a callback (see docs/errors.md). */
	t->rc[i++] = ms_region_set_owner(w->r[W_RAM0], "board");
}

static void test_remaining_mutations_from_a_callback_are_ebusy(void **state)
{
	static const char *const names[] = {
		"add_subregion_overlap",
		"set_size",
		"set_nonvolatile",
		"set_unmergeable",
		"set_alias_offset",
		"set_romd",
		"set_priority",
		"dirty_log_global_stop",
		"set_owner",
	};
	world *w = *state;
	callback_tries t = {.w = w};
	recorder tryer;
	strbuf log;
	size_t i;

	assert_int_equal(ms_ctx_dirty_log_global_start(w->ctx), 0);
	sb_reset(&w->log);
	world_snapshot(&w->before, w);
	/* The registration's replay calls region_add, which tries everything. */
	sb_reset(&log);
	recorder_init(&tryer, NULL, &log, 0);
	tryer.on_add = try_from_callback;
	tryer.data = &t;
	rec_listen(&tryer, w->as);
	assert_true(t.done);
	for (i = 0; i < 9; i++) {
		int expected = i == 8 ? 0 : -EBUSY;

		if (t.rc[i] != expected)
			fail_msg("%s from a callback returned %d, expected %d", names[i], t.rc[i],
				 expected);
	}
	assert_int_equal(ms_listener_unregister(tryer.l), 0);
	/* Only the owner changed; the replay called only the new listener. */
	assert_string_equal(ms_region_owner(w->r[W_RAM0]), "board");
	assert_int_equal(ms_region_set_owner(w->r[W_RAM0], NULL), 0);
	assert_string_equal(world_snapshot(&w->after, w), w->before.text);
	/* Global logging is on: MIGRATION logs the RAM and romd ranges. */
	assert_string_equal(log.text, "begin\n"
				      "log_global_start\n"
				      "add 0000-0fff ram0 @0 log=4\n"
				      "log_start 0000-0fff ram0 @0 log=4 0->4\n"
				      "add 2000-20ff io @0\n"
				      "add 4000-4fff ram0 @0 log=4\n"
				      "log_start 4000-4fff ram0 @0 log=4 0->4\n"
				      "add 6000-6fff flash @0 romd log=4\n"
				      "log_start 6000-6fff flash @0 romd log=4 0->4\n"
				      "commit\n"
				      "begin\n"
				      "log_stop 0000-0fff ram0 @0 log=4 4->0\n"
				      "del 0000-0fff ram0 @0 log=4\n"
				      "del 2000-20ff io @0\n"
				      "log_stop 4000-4fff ram0 @0 log=4 4->0\n"
				      "del 4000-4fff ram0 @0 log=4\n"
				      "log_stop 6000-6fff flash @0 romd log=4 4->0\n"
				      "del 6000-6fff flash @0 romd log=4\n"
				      "commit\n");
	assert_int_equal(ms_ctx_dirty_log_global_stop(w->ctx), 0);
}

/*
 * A failed transaction commit leaves an alias loop pending (ctx.h): every
 * later mutation outside a transaction commits, fails with -ELOOP, and is
 * undone, including its own change record: the pending records and every
 * reference count are exactly as before the call (the snapshot compares
 * ctx->nr_touched and the counts, which include the records' references).
 */
static void test_mutations_fail_with_eloop_while_a_loop_is_pending(void **state)
{
	world *w = *state;
	ms_region *self, *grow;
	ms_as *ram_only;
	size_t pending;
	uint32_t ram0_refs;
	strbuf sb;

	/* An address space that renders ram0 alone: only a record of ram0 re-renders it. */
	assert_int_equal(ms_as_new(&ram_only, w->ctx, w->r[W_RAM0], "ram-only"), 0);
	assert_int_equal(ms_region_new_alias(&self, w->ctx,
					     &(ms_region_alias_opts){.name = "self",
								     .target = w->r[W_ROOT],
								     .offset = 0,
								     .size = 0x10000}),
			 0);
	ms_transaction_begin(w->ctx);
	assert_int_equal(ms_region_add_subregion_overlap(w->r[W_ROOT], 0, self, -1), 0);
	assert_int_equal(ms_transaction_commit(w->ctx), -ELOOP);
	pending = w->ctx->nr_touched;
	assert_true(pending > 0);

	EXPECT_REFUSED(w, ms_region_del_subregion(w->r[W_BOX], w->r[W_IO]), -ELOOP);
	EXPECT_REFUSED(w, ms_region_set_size(w->r[W_BOX], 0x800), -ELOOP);
	EXPECT_REFUSED(w, ms_region_set_readonly(w->r[W_RAM0], true), -ELOOP);
	EXPECT_REFUSED(w, ms_region_set_nonvolatile(w->r[W_RAM0], true), -ELOOP);
	EXPECT_REFUSED(w, ms_region_set_unmergeable(w->r[W_RAM0], true), -ELOOP);
	EXPECT_REFUSED(w, ms_region_set_romd(w->r[W_FLASH], false), -ELOOP);
	EXPECT_REFUSED(w, ms_region_set_priority(w->r[W_BOX], 5), -ELOOP);
	EXPECT_REFUSED(w, ms_region_set_dirty_log(w->r[W_RAM0], 0, true), -ELOOP);
	EXPECT_REFUSED(w, ms_region_add_subregion_overlap(w->r[W_ROOT], 0x9000, w->r[W_LOOSE], 1),
		       -ELOOP);
	/* The same, spelled out for one call: its record (and reference) is gone. */
	ram0_refs = region_refs(w->r[W_RAM0]);
	assert_int_equal(ms_region_set_readonly(w->r[W_RAM0], true), -ELOOP);
	assert_int_equal(w->ctx->nr_touched, pending);
	for (size_t i = 0; i < w->ctx->nr_touched; i++)
		assert_ptr_not_equal(w->ctx->touched[i], w->r[W_RAM0]);
	assert_int_equal(region_refs(w->r[W_RAM0]), ram0_refs);
	assert_ptr_equal(ms_region_container(w->r[W_IO]), w->r[W_BOX]);
	assert_null(ms_region_container(w->r[W_LOOSE]));
	assert_string_equal(w->log.text, "");

	/*
	 * The dropped record does not hide a later change of ram0 in the same
	 * round of pending changes: it is recorded again, so the commit that
	 * removes the loop re-renders the ram-only view too.
	 */
	ms_transaction_begin(w->ctx);
	assert_int_equal(ms_region_set_readonly(w->r[W_RAM0], true), 0);
	assert_int_equal(ms_region_del_subregion(w->r[W_ROOT], self), 0);
	assert_int_equal(ms_transaction_commit(w->ctx), 0);
	assert_string_equal(as_view_str(&sb, ram_only), "0000-0fff ram0 @0 ro\n");
	assert_string_equal(as_view_str(&sb, w->as), "0000-0fff ram0 @0 ro\n"
						     "2000-20ff io @0\n"
						     "4000-4fff ram0 @0 ro\n"
						     "6000-6fff flash @0 romd\n");
	assert_int_equal(w->ctx->nr_touched, 0);
	ms_region_unref(self);
	assert_int_equal(ms_region_set_readonly(w->r[W_RAM0], false), 0);
	ms_as_free(ram_only);

	/* Without anything pending: an empty self-alias that grows loops. */
	assert_int_equal(ms_region_new_alias(&grow, w->ctx,
					     &(ms_region_alias_opts){.name = "grow",
								     .target = w->r[W_ROOT],
								     .offset = 0,
								     .size = 0}),
			 0);
	assert_int_equal(ms_region_add_subregion(w->r[W_ROOT], 0, grow), 0);
	sb_reset(&w->log);
	EXPECT_REFUSED(w, ms_region_set_size(grow, 0x100), -ELOOP);
	assert_int_equal(ms_region_size(grow), 0);
	assert_int_equal(ms_region_del_subregion(w->r[W_ROOT], grow), 0);
	ms_region_unref(grow);
	sb_reset(&w->log);
}

/* Fail each allocation of @op in turn until it succeeds. Return: failures seen. */
static unsigned enomem_loop(world *w, const char *what, int (*op)(world *w))
{
	unsigned n;

	for (n = 1; n < 100; n++) {
		int rc;

		world_snapshot(&w->before, w);
		ms_ctx_test_control(w->ctx, MS_TEST_FAIL_ALLOC_AFTER, n);
		rc = op(w);
		ms_ctx_test_control(w->ctx, MS_TEST_FAIL_ALLOC_AFTER, 0);
		if (rc == 0)
			return n - 1;
		if (rc != -ENOMEM)
			fail_msg("%s with allocation %u failing: %d", what, n, rc);
		assert_string_equal(world_snapshot(&w->after, w), w->before.text);
	}
	fail_msg("%s never succeeded", what);
	return 0;
}

static int op_set_nonvolatile(world *w)
{
	return ms_region_set_nonvolatile(w->r[W_RAM0], true);
}

static int op_set_unmergeable(world *w)
{
	return ms_region_set_unmergeable(w->r[W_RAM0], true);
}

static int op_set_romd(world *w)
{
	return ms_region_set_romd(w->r[W_FLASH], false);
}

static void test_flag_setters_fail_cleanly_on_enomem(void **state)
{
	world *w = *state;
	strbuf sb;

	assert_true(enomem_loop(w, "set_nonvolatile", op_set_nonvolatile) > 0);
	assert_true(enomem_loop(w, "set_unmergeable", op_set_unmergeable) > 0);
	assert_true(enomem_loop(w, "set_romd", op_set_romd) > 0);
	/* Each call then succeeded exactly once. */
	assert_string_equal(as_view_str(&sb, w->as), "0000-0fff ram0 @0 nv um\n"
						     "2000-20ff io @0\n"
						     "4000-4fff ram0 @0 nv um\n"
						     "6000-6fff flash @0\n");
	assert_true(ms_region_nonvolatile(w->r[W_RAM0]));
	assert_true(ms_region_unmergeable(w->r[W_RAM0]));
	assert_false(ms_region_romd(w->r[W_FLASH]));
}

/* ---- as.h and listener.h ------------------------------------------------------ */

static void test_flatview_find_and_range_refuse_null(void **state)
{
	world *w = *state;
	ms_flatview *fv = ms_as_get_flatview(w->as);
	ms_section s, untouched;

	memset(&s, 0x5a, sizeof(s));
	untouched = s;
	assert_int_equal(ms_flatview_find(NULL, fv, 0), -EINVAL);
	assert_int_equal(ms_flatview_find(&s, NULL, 0), -EINVAL);
	/* The exported function too (calls compile to the inline form). */
	assert_int_equal((ms_flatview_find)(NULL, fv, 0), -EINVAL);
	assert_int_equal((ms_flatview_find)(&s, NULL, 0), -EINVAL);
	/* The header documents -ERANGE for a bad index only; NULL gives it too. */
	assert_int_equal(ms_flatview_range(NULL, fv, 0), -ERANGE);
	assert_int_equal(ms_flatview_range(&s, NULL, 0), -ERANGE);
	assert_memory_equal(&s, &untouched, sizeof(s));
	/* Controls. */
	assert_int_equal(ms_flatview_find(&s, fv, 0), 0);
	assert_int_equal(ms_flatview_range(&s, fv, 0), 0);
	ms_flatview_unref(fv);
}

static void test_dirty_log_calls_refuse_null(void **state)
{
	world *w = *state;

	EXPECT_REFUSED(w, ms_ctx_dirty_log_global_start(NULL), -EINVAL);
	EXPECT_REFUSED(w, ms_ctx_dirty_log_global_stop(NULL), -EINVAL);
	EXPECT_REFUSED(w, ms_as_log_sync(NULL), -EINVAL);
	assert_false(ms_ctx_dirty_log_global(w->ctx));
}

/* ---- mtree.h ------------------------------------------------------------------------ */

/*
 * A buffered stream reports a full device only when it is flushed:
 * ms_mtree_fprint() flushes, so the error is its own -EIO.
 */
static void test_mtree_fprint_reports_a_failed_flush(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *sys, *ram;
	ms_as *as;
	FILE *f;

	(void)state;
	f = fopen("/dev/full", "w");
	if (!f) {
		ms_ctx_free(ctx);
		skip(); /* no /dev/full on this system */
	}
	assert_int_equal(ms_region_new_container(&sys, ctx, "system", MS_SIZE_2_64), 0);
	assert_int_equal(ms_region_new_ram(&ram, ctx, "ram", 0x1000), 0);
	assert_int_equal(ms_region_add_subregion(sys, 0, ram), 0);
	assert_int_equal(ms_as_new(&as, ctx, sys, "memory"), 0);
	/* The dump is far smaller than the stream's buffer: fwrite() succeeds. */
	assert_int_equal(setvbuf(f, NULL, _IOFBF, 1 << 16), 0);
	assert_int_equal(ms_mtree_fprint(f, ctx, MS_MTREE_FLAT), -EIO);
	assert_true(ferror(f));
	fclose(f);
	/* Control: the same dump to a writable stream. */
	f = tmpfile();
	assert_non_null(f);
	assert_int_equal(ms_mtree_fprint(f, ctx, MS_MTREE_FLAT), 0);
	assert_true(ftell(f) > 0);
	fclose(f);
	ms_region_unref(ram);
	ms_region_unref(sys);
	ms_ctx_free(ctx);
}

#define WORLD_TEST(t) cmocka_unit_test_setup_teardown(t, world_setup, world_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_null_objects_are_no_ops),
		cmocka_unit_test(test_constructors_refuse_each_null_argument),
		cmocka_unit_test(test_rom_device_too_large_is_enomem),
		WORLD_TEST(test_getters_return_null_where_nothing_applies),
		WORLD_TEST(test_add_subregion_overlap_refuses_like_add_subregion),
		WORLD_TEST(test_remaining_mutations_from_a_callback_are_ebusy),
		WORLD_TEST(test_mutations_fail_with_eloop_while_a_loop_is_pending),
		WORLD_TEST(test_flag_setters_fail_cleanly_on_enomem),
		WORLD_TEST(test_flatview_find_and_range_refuse_null),
		WORLD_TEST(test_dirty_log_calls_refuse_null),
		cmocka_unit_test(test_mtree_fprint_reports_a_failed_flush),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
