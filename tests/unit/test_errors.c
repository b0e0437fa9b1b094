/*
 * test_errors.c: the rows of docs/errors.md that no other unit test checks
 * exactly.
 *
 * Each test provokes one documented error of one or more public calls and
 * asserts the code (or the NULL return, or the ms_result bits) and that the
 * failed call changed nothing: a text snapshot of the tree, the region
 * properties and reference counts, the published view, the pending change
 * records and a recording listener's log is taken before and compared after.
 * Access tests check that device callbacks did not run and that bytes that
 * failed read as zero. tests/errors_doc_check.sh checks that every row of
 * docs/errors.md names a test that exists.
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

#define ATTRS MS_ATTRS_UNSPECIFIED

/* ---- a device that counts its callbacks ----------------------------------- */

typedef struct dev dev;
struct dev {
	ms_region_ops ops;
	ms_region *region;
	uint8_t mem[0x100];
	unsigned calls;   /* callbacks that ran */
	ms_result result; /* returned by every callback */
	bool refuse_all;  /* the valid.accepts veto refuses everything */
	/* Runs inside every callback (nested accesses). */
	void (*hook)(dev *d);
	void *hook_data;
};

static ms_result dev_read(uint64_t *data, uint64_t addr, unsigned size, ms_attrs attrs,
			  void *opaque)
{
	dev *d = opaque;
	uint64_t v = 0;

	(void)attrs;
	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)d->mem[(addr + i) % sizeof(d->mem)] << 8 * i;
	*data = v;
	d->calls++;
	if (d->hook)
		d->hook(d);
	return d->result;
}

static ms_result dev_write(uint64_t addr, uint64_t data, unsigned size, ms_attrs attrs,
			   void *opaque)
{
	dev *d = opaque;

	(void)attrs;
	for (unsigned i = 0; i < size; i++)
		d->mem[(addr + i) % sizeof(d->mem)] = (uint8_t)(data >> 8 * i);
	d->calls++;
	if (d->hook)
		d->hook(d);
	return d->result;
}

static bool dev_accepts(uint64_t addr, unsigned size, bool is_write, ms_attrs attrs, void *opaque)
{
	const dev *d = opaque;

	(void)addr;
	(void)size;
	(void)is_write;
	(void)attrs;
	return !d->refuse_all;
}

static void dev_init(dev *d)
{
	memset(d, 0, sizeof(*d));
	d->ops.version = MS_REGION_OPS_VERSION;
	d->ops.read_with_attrs = dev_read;
	d->ops.write_with_attrs = dev_write;
	d->ops.endianness = MS_ENDIAN_LITTLE;
	d->ops.valid.max_access_size = 8;
	d->ops.valid.accepts = dev_accepts;
	for (size_t i = 0; i < sizeof(d->mem); i++)
		d->mem[i] = (uint8_t)(0x80 + i);
}

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

#define EXPECT_REFUSED(w, call, err)                                                     \
	do {                                                                             \
		world_snapshot(&(w)->before, (w));                                       \
		assert_int_equal((call), (err));                                         \
		assert_string_equal(world_snapshot(&(w)->after, (w)), (w)->before.text); \
	} while (0)

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
	assert_string_equal(log.text, "begin\n"
				      "log_global_start\n"
				      "add 0000-0fff ram0 @0\n"
				      "add 2000-20ff io @0\n"
				      "add 4000-4fff ram0 @0\n"
				      "add 6000-6fff flash @0 romd\n"
				      "commit\n"
				      "begin\n"
				      "del 0000-0fff ram0 @0\n"
				      "del 2000-20ff io @0\n"
				      "del 4000-4fff ram0 @0\n"
				      "del 6000-6fff flash @0 romd\n"
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

/* ---- access.h --------------------------------------------------------------------- */

/*
 * One entry point of access.h: do an access of @width bytes at @addr. Reads
 * store what they got in @bytes in bus order (scalar loads convert their
 * value back with their own byte order); writes take their data from
 * @bytes (ms_as_set() writes bytes[0] everywhere). Stores the result.
 */
typedef struct entry {
	const char *name;
	unsigned width;
	bool is_write;
	bool scalar; /* one guest access of @width bytes (loads and stores) */
	ms_result (*run)(ms_as *as, uint64_t addr, ms_attrs attrs, uint8_t *bytes);
} entry;

static void put_value(uint8_t *bytes, unsigned width, uint64_t v, bool big_endian)
{
	for (unsigned i = 0; i < width; i++)
		bytes[i] = (uint8_t)(v >> 8 * (big_endian ? width - 1 - i : i));
}

static uint64_t get_value(const uint8_t *bytes, unsigned width, bool big_endian)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < width; i++)
		v |= (uint64_t)bytes[i] << 8 * (big_endian ? width - 1 - i : i);
	return v;
}

static ms_result run_read(ms_as *as, uint64_t addr, ms_attrs attrs, uint8_t *bytes)
{
	return ms_as_read(as, addr, attrs, bytes, 4);
}

static ms_result run_write(ms_as *as, uint64_t addr, ms_attrs attrs, uint8_t *bytes)
{
	return ms_as_write(as, addr, attrs, bytes, 4);
}

static ms_result run_set(ms_as *as, uint64_t addr, ms_attrs attrs, uint8_t *bytes)
{
	return ms_as_set(as, addr, attrs, bytes[0], 4);
}

#define LOAD(fn, width, big)                                                                \
	static ms_result run_##fn(ms_as *as, uint64_t addr, ms_attrs attrs, uint8_t *bytes) \
	{                                                                                   \
		ms_result res = 0xdead;                                                     \
		put_value(bytes, width, ms_as_##fn(as, addr, attrs, &res), big);            \
		return res;                                                                 \
	}
#define STORE(fn, type, width, big)                                                         \
	static ms_result run_##fn(ms_as *as, uint64_t addr, ms_attrs attrs, uint8_t *bytes) \
	{                                                                                   \
		return ms_as_##fn(as, addr, attrs, (type)get_value(bytes, width, big));     \
	}

LOAD(ldub, 1, false)
LOAD(lduw_le, 2, false)
LOAD(lduw_be, 2, true)
LOAD(ldl_le, 4, false)
LOAD(ldl_be, 4, true)
LOAD(ldq_le, 8, false)
LOAD(ldq_be, 8, true)
STORE(stb, uint8_t, 1, false)
STORE(stw_le, uint16_t, 2, false)
STORE(stw_be, uint16_t, 2, true)
STORE(stl_le, uint32_t, 4, false)
STORE(stl_be, uint32_t, 4, true)
STORE(stq_le, uint64_t, 8, false)
STORE(stq_be, uint64_t, 8, true)

static const entry entries[] = {
	{"ms_as_read", 4, false, false, run_read},
	{"ms_as_write", 4, true, false, run_write},
	{"ms_as_set", 4, true, false, run_set},
	{"ms_as_ldub", 1, false, true, run_ldub},
	{"ms_as_lduw_le", 2, false, true, run_lduw_le},
	{"ms_as_lduw_be", 2, false, true, run_lduw_be},
	{"ms_as_ldl_le", 4, false, true, run_ldl_le},
	{"ms_as_ldl_be", 4, false, true, run_ldl_be},
	{"ms_as_ldq_le", 8, false, true, run_ldq_le},
	{"ms_as_ldq_be", 8, false, true, run_ldq_be},
	{"ms_as_stb", 1, true, true, run_stb},
	{"ms_as_stw_le", 2, true, true, run_stw_le},
	{"ms_as_stw_be", 2, true, true, run_stw_be},
	{"ms_as_stl_le", 4, true, true, run_stl_le},
	{"ms_as_stl_be", 4, true, true, run_stl_be},
	{"ms_as_stq_le", 8, true, true, run_stq_le},
	{"ms_as_stq_be", 8, true, true, run_stq_be},
};

#define NR_ENTRIES (sizeof(entries) / sizeof(entries[0]))
#define FILL 0x5a  /* what writes write */
#define STALE 0xaa /* what read buffers hold before the access */
#define TOP_RAM 0xfffffffffffff000ull

/*
 * system (container 2^64, address space "memory")
 *   low    RAM 0x1000 at 0 (0x77 in every byte)
 *   dev    device 0x100 at 0x1000 (valid 1..8, impl 1..4)
 *   dev2   device 0x100 at 0x1100
 *   resv   I/O reservation 0x100 at 0x2000
 *   iommu  IOMMU region 0x100 at 0x3000
 *   top    RAM 0x1000 at 2^64 - 0x1000 (0x33 in every byte)
 * and a hole at 0x8000.
 */
typedef struct machine {
	ms_ctx *ctx;
	ms_region *sys, *low, *top;
	ms_as *as;
	dev dev, dev2;
} machine;

static void place(machine *m, uint64_t addr, ms_region *r)
{
	assert_int_equal(ms_region_add_subregion(m->sys, addr, r), 0);
	ms_region_unref(r);
}

static int machine_setup(void **state)
{
	machine *m = calloc(1, sizeof(*m));
	ms_region *r;

	assert_non_null(m);
	m->ctx = new_ctx();
	dev_init(&m->dev);
	dev_init(&m->dev2);
	assert_int_equal(ms_region_new_container(&m->sys, m->ctx, "system", MS_SIZE_2_64), 0);
	assert_int_equal(ms_as_new(&m->as, m->ctx, m->sys, "memory"), 0);
	assert_int_equal(ms_region_new_ram(&m->low, m->ctx, "low", 0x1000), 0);
	memset(ms_region_ram_ptr(m->low), 0x77, 0x1000);
	place(m, 0, m->low);
	assert_int_equal(ms_region_new_io(&m->dev.region, m->ctx,
					  &(ms_region_io_opts){.name = "dev",
							       .size = 0x100,
							       .ops = &m->dev.ops,
							       .opaque = &m->dev}),
			 0);
	place(m, 0x1000, m->dev.region);
	assert_int_equal(ms_region_new_io(&m->dev2.region, m->ctx,
					  &(ms_region_io_opts){.name = "dev2",
							       .size = 0x100,
							       .ops = &m->dev2.ops,
							       .opaque = &m->dev2}),
			 0);
	place(m, 0x1100, m->dev2.region);
	assert_int_equal(
		ms_region_new_io(&r, m->ctx,
				 &(ms_region_io_opts){.name = "resv", .size = 0x100, .ops = NULL}),
		0);
	place(m, 0x2000, r);
	assert_int_equal(ms_iommu_new(&r, m->ctx, &(ms_iommu_opts){.name = "iommu", .size = 0x100}),
			 0);
	place(m, 0x3000, r);
	assert_int_equal(ms_region_new_ram(&m->top, m->ctx, "top", 0x1000), 0);
	memset(ms_region_ram_ptr(m->top), 0x33, 0x1000);
	place(m, TOP_RAM, m->top);
	*state = m;
	return 0;
}

static int machine_teardown(void **state)
{
	machine *m = *state;

	ms_ctx_free(m->ctx);
	free(m);
	return 0;
}

static void assert_bytes_are(const char *what, const uint8_t *p, uint8_t value, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != value)
			fail_msg("%s: byte %zu is %#x, expected %#x", what, i, p[i], value);
}

/* The memory of the RAM regions and devices, to compare before and after. */
typedef struct memory_state {
	uint8_t low[0x1000], top[0x1000], dev[0x100], dev2[0x100];
	unsigned dev_calls, dev2_calls;
} memory_state;

static void memory_state_get(memory_state *s, const machine *m)
{
	memcpy(s->low, ms_region_ram_ptr(m->low), sizeof(s->low));
	memcpy(s->top, ms_region_ram_ptr(m->top), sizeof(s->top));
	memcpy(s->dev, m->dev.mem, sizeof(s->dev));
	memcpy(s->dev2, m->dev2.mem, sizeof(s->dev2));
	s->dev_calls = m->dev.calls;
	s->dev2_calls = m->dev2.calls;
}

static void assert_memory_unchanged(const char *what, const machine *m, const memory_state *before)
{
	static memory_state now;

	memory_state_get(&now, m);
	if (memcmp(&now, before, sizeof(now)) != 0)
		fail_msg("%s changed memory or called a device", what);
}

/* Which entry points expect_refused() runs. */
typedef enum which_entries {
	ALL_ENTRIES,
	READ_ENTRIES,
	WRITE_ENTRIES,
} which_entries;

/*
 * Run the @which entry points at @addr with @attrs and expect @expected
 * with no memory changed and no device called; reads must return zero
 * bytes, and ms_as_access_valid() must say no.
 */
static void expect_refused(machine *m, uint64_t addr, ms_attrs attrs, ms_result expected,
			   which_entries which)
{
	static memory_state before;

	for (size_t i = 0; i < NR_ENTRIES; i++) {
		const entry *e = &entries[i];
		uint8_t bytes[8];
		ms_result res;

		if ((which == READ_ENTRIES && e->is_write) ||
		    (which == WRITE_ENTRIES && !e->is_write))
			continue;
		memset(bytes, e->is_write ? FILL : STALE, sizeof(bytes));
		memory_state_get(&before, m);
		res = e->run(m->as, addr, attrs, bytes);
		if (res != expected)
			fail_msg("%s at %#" PRIx64 ": result %#x, expected %#x", e->name, addr, res,
				 expected);
		assert_memory_unchanged(e->name, m, &before);
		if (!e->is_write)
			assert_bytes_are(e->name, bytes, 0, e->width);
		assert_false(ms_as_access_valid(m->as, addr, e->width, e->is_write, attrs));
	}
}

static void expect_refused_everywhere(machine *m, uint64_t addr, ms_attrs attrs, ms_result expected)
{
	expect_refused(m, addr, attrs, expected, ALL_ENTRIES);
}

static void test_access_calls_with_null_arguments_are_access_errors(void **state)
{
	machine *m = *state;
	static memory_state before;
	uint8_t buf[4] = {1, 2, 3, 4};
	ms_result res;

	memory_state_get(&before, m);
	for (size_t i = 0; i < NR_ENTRIES; i++) {
		const entry *e = &entries[i];
		uint8_t bytes[8];

		memset(bytes, STALE, sizeof(bytes));
		res = e->run(NULL, 0, ATTRS, bytes);
		if (res != MS_RESULT_ACCESS_ERROR)
			fail_msg("%s(NULL as): %#x", e->name, res);
		if (e->scalar && !e->is_write)
			assert_bytes_are(e->name, bytes, 0, e->width); /* loads return 0 */
	}
	/* A load may pass a NULL result pointer. */
	assert_int_equal(ms_as_ldq_be(NULL, 0, ATTRS, NULL), 0);
	assert_int_equal(ms_as_read(m->as, 0, ATTRS, NULL, 4), MS_RESULT_ACCESS_ERROR);
	assert_int_equal(ms_as_write(m->as, 0, ATTRS, NULL, 4), MS_RESULT_ACCESS_ERROR);
	assert_int_equal(ms_as_write_rom(m->as, 0, NULL, 4), MS_RESULT_ACCESS_ERROR);
	assert_int_equal(ms_as_write_rom(NULL, 0, buf, 4), MS_RESULT_ACCESS_ERROR);
	assert_memory_unchanged("NULL arguments", m, &before);
	/* NULL with length 0 is no access at all. */
	assert_int_equal(ms_as_read(m->as, 0, ATTRS, NULL, 0), MS_RESULT_OK);
	assert_int_equal(ms_as_write(m->as, 0, ATTRS, NULL, 0), MS_RESULT_OK);
	assert_int_equal(ms_as_write_rom(m->as, 0, NULL, 0), MS_RESULT_OK);
	assert_false(ms_as_access_valid(NULL, 0, 4, false, ATTRS));
}

static void test_access_calls_to_holes_are_decode_errors(void **state)
{
	machine *m = *state;
	static memory_state before;

	expect_refused_everywhere(m, 0x8000, ATTRS, MS_RESULT_DECODE_ERROR);

	/* Past the top: the bytes below 2^64 are accessed, the rest fail, nothing wraps. */
	for (size_t i = 0; i < NR_ENTRIES; i++) {
		const entry *e = &entries[i];
		unsigned in = e->width / 2; /* bytes below 2^64 */
		uint64_t addr = UINT64_MAX - in + 1;
		uint8_t bytes[8];
		ms_result res;

		if (e->width < 2)
			continue;
		memset(ms_region_ram_ptr(m->top), 0x33, 0x1000);
		memset(bytes, e->is_write ? FILL : STALE, sizeof(bytes));
		memory_state_get(&before, m);
		res = e->run(m->as, addr, ATTRS, bytes);
		if (res != MS_RESULT_DECODE_ERROR)
			fail_msg("%s past the top: %#x", e->name, res);
		if (e->is_write) {
			assert_bytes_are(e->name,
					 (uint8_t *)ms_region_ram_ptr(m->top) + 0x1000 - in, FILL,
					 in);
			memset((uint8_t *)ms_region_ram_ptr(m->top) + 0x1000 - in, 0x33, in);
		} else {
			assert_bytes_are(e->name, bytes, 0x33, in);
			assert_bytes_are(e->name, bytes + in, 0, e->width - in);
		}
		assert_memory_unchanged(e->name, m, &before); /* low RAM: no wrap */
		assert_false(ms_as_access_valid(m->as, addr, e->width, e->is_write, ATTRS));
	}
}

static void test_access_calls_to_reservations_and_iommus_are_decode_errors(void **state)
{
	machine *m = *state;

	expect_refused_everywhere(m, 0x2000, ATTRS, MS_RESULT_DECODE_ERROR);
	expect_refused_everywhere(m, 0x3000, ATTRS, MS_RESULT_DECODE_ERROR);
}

static void test_access_calls_refused_by_valid_rules_are_decode_errors(void **state)
{
	machine *m = *state;

	m->dev.refuse_all = true;
	expect_refused_everywhere(m, 0x1000, ATTRS, MS_RESULT_DECODE_ERROR);
	m->dev.refuse_all = false;
	/*
	 * An unaligned scalar access without valid.unaligned (ms_as_ldub at
	 * 0x1001 is aligned and succeeds). Bulk calls split into aligned pieces.
	 */
	for (size_t i = 0; i < NR_ENTRIES; i++) {
		const entry *e = &entries[i];
		unsigned calls = m->dev.calls;
		uint8_t bytes[8];
		ms_result res;

		if (!e->scalar || e->width == 1)
			continue;
		memset(bytes, e->is_write ? FILL : STALE, sizeof(bytes));
		res = e->run(m->as, 0x1001, ATTRS, bytes);
		if (res != MS_RESULT_DECODE_ERROR)
			fail_msg("%s unaligned: %#x", e->name, res);
		assert_int_equal(m->dev.calls, calls);
		if (!e->is_write)
			assert_bytes_are(e->name, bytes, 0, e->width);
	}
}

static void test_access_calls_under_attrs_memory_to_devices_are_access_errors(void **state)
{
	machine *m = *state;
	ms_attrs memory = {.memory = 1};

	expect_refused_everywhere(m, 0x1000, memory, MS_RESULT_ACCESS_ERROR);
	/* A reservation is not RAM either; an IOMMU without a class stays a decode error. */
	expect_refused_everywhere(m, 0x2000, memory, MS_RESULT_ACCESS_ERROR);
	expect_refused_everywhere(m, 0x3000, memory, MS_RESULT_DECODE_ERROR);
}

static void test_access_calls_report_device_errors(void **state)
{
	machine *m = *state;

	m->dev.result = MS_RESULT_ERROR;
	for (size_t i = 0; i < NR_ENTRIES; i++) {
		const entry *e = &entries[i];
		uint8_t bytes[8];
		unsigned calls = m->dev.calls;
		ms_result res;

		memset(bytes, e->is_write ? FILL : STALE, sizeof(bytes));
		res = e->run(m->as, 0x1000, ATTRS, bytes);
		if (res != MS_RESULT_ERROR)
			fail_msg("%s: %#x, expected MS_RESULT_ERROR", e->name, res);
		assert_true(m->dev.calls > calls); /* the device did run */
		/* Not predicted: the probe calls no callback. */
		calls = m->dev.calls;
		assert_true(ms_as_access_valid(m->as, 0x1000, e->width, e->is_write, ATTRS));
		assert_int_equal(m->dev.calls, calls);
	}
}

/* Nested access from inside dev's callback, made with the entry under test. */
typedef struct nested {
	ms_as *as;
	const entry *e;
	uint64_t addr;
	ms_result result;
	uint8_t bytes[8];
	unsigned runs;
} nested;

static void hook_nested(dev *d)
{
	nested *n = d->hook_data;

	memset(n->bytes, n->e->is_write ? FILL : STALE, sizeof(n->bytes));
	n->result |= n->e->run(n->as, n->addr, ATTRS, n->bytes);
	n->runs++;
}

static void nested_from_dev(machine *m, uint64_t target, const char *what)
{
	static memory_state before;

	m->dev.hook = hook_nested;
	for (size_t i = 0; i < NR_ENTRIES; i++) {
		nested n = {.as = m->as, .e = &entries[i], .addr = target};
		unsigned dev2_calls = m->dev2.calls;

		m->dev.hook_data = &n;
		memory_state_get(&before, m);
		assert_int_equal(ms_as_stl_le(m->as, 0x1000, ATTRS, 0x01020304), MS_RESULT_OK);
		assert_true(n.runs > 0);
		if (n.result != MS_RESULT_ACCESS_ERROR)
			fail_msg("%s with %s: %#x", what, n.e->name, n.result);
		if (!n.e->is_write)
			assert_bytes_are(n.e->name, n.bytes, 0, n.e->width);
		/* Only the outer access reached a device. */
		assert_int_equal(m->dev2.calls, dev2_calls);
		assert_memory_equal(m->dev2.mem, before.dev2, sizeof(before.dev2));
		assert_int_equal(m->dev.calls - before.dev_calls, n.runs);
	}
	m->dev.hook = NULL;
}

static void test_access_calls_reentering_a_device_are_access_errors(void **state)
{
	machine *m = *state;

	nested_from_dev(m, 0x1010, "reentry");
}

static void test_access_calls_past_the_depth_bound_are_access_errors(void **state)
{
	machine *m = *state;

	assert_int_equal(ms_ctx_set_max_access_depth(m->ctx, 1), 0);
	nested_from_dev(m, 0x1100, "depth 1");
	assert_int_equal(ms_ctx_set_max_access_depth(m->ctx, MS_ACCESS_DEPTH_DEFAULT), 0);
}

static void test_translate_bad_arguments_change_nothing(void **state)
{
	machine *m = *state;
	ms_section s, untouched;
	uint64_t len;

	memset(&s, 0x5a, sizeof(s));
	untouched = s;
	ms_rcu_read_lock();
	len = 0;
	assert_int_equal(ms_as_translate(&s, &len, m->as, 0,
					 &(ms_access_opts){.is_write = false, .attrs = ATTRS}),
			 -EINVAL);
	assert_int_equal(len, 0);
	len = 16;
	assert_int_equal(ms_as_translate(NULL, &len, m->as, 0,
					 &(ms_access_opts){.is_write = false, .attrs = ATTRS}),
			 -EINVAL);
	assert_int_equal(len, 16);
	assert_int_equal(ms_as_translate(&s, NULL, m->as, 0,
					 &(ms_access_opts){.is_write = false, .attrs = ATTRS}),
			 -EINVAL);
	assert_int_equal(ms_as_translate(&s, &len, NULL, 0,
					 &(ms_access_opts){.is_write = false, .attrs = ATTRS}),
			 -EINVAL);
	assert_int_equal(len, 16);
	assert_memory_equal(&s, &untouched, sizeof(s));
	/* Control. */
	assert_int_equal(ms_as_translate(&s, &len, m->as, 0,
					 &(ms_access_opts){.is_write = false, .attrs = ATTRS}),
			 0);
	assert_ptr_equal(s.region, m->low);
	ms_rcu_read_unlock();
}

static void test_set_max_access_depth_refusal_keeps_the_bound(void **state)
{
	machine *m = *state;

	assert_int_equal(ms_ctx_set_max_access_depth(m->ctx, 1), 0);
	assert_int_equal(ms_ctx_set_max_access_depth(m->ctx, 0), -EINVAL);
	assert_int_equal(ms_ctx_set_max_access_depth(NULL, 4), -EINVAL);
	/* Still 1: a nested device access fails. */
	nested_from_dev(m, 0x1100, "depth 1 after refusals");
	assert_int_equal(ms_ctx_set_max_access_depth(m->ctx, MS_ACCESS_DEPTH_DEFAULT), 0);
}

/* ---- IOMMU translations that fail (iommu.h) ---------------------------------- */

/*
 * A small IOMMU class: one 4 KiB page at IOVA 0 that maps onto "low"
 * (address 0 of the machine's own address space), or fails the way @mode
 * says. It sits at XL_AT, 0x100 bytes, in the machine.
 */
#define XL_AT 0x4000u

typedef enum xl_mode {
	XL_RW,          /* a good mapping, read and write */
	XL_RO,          /* read only */
	XL_WO,          /* write only */
	XL_NONE,        /* no mapping */
	XL_BAD_MASK,    /* addr_mask not 2^k - 1 */
	XL_NULL_TARGET, /* a permission but no target address space */
	XL_OUTSIDE,     /* the address is not inside the entry */
	XL_BAD_INDEX,   /* attrs_to_index answers an index out of range */
	XL_CYCLE,       /* back to the same IOMMU at the same offset */
	XL_SHIFT,       /* back to the same IOMMU one byte further on: never repeats */
	XL_HOLE,        /* a good mapping onto a hole */
	XL_NR_MODES
} xl_mode;

typedef struct xl {
	ms_as *as;
	xl_mode mode;
	unsigned calls;
} xl;

static void xl_translate(ms_iotlb_entry *out, ms_region *iommu, uint64_t addr, ms_iommu_perm flags,
			 unsigned idx, void *opaque)
{
	xl *x = opaque;

	(void)iommu;
	(void)flags;
	(void)idx;
	x->calls++;
	*out = (ms_iotlb_entry){x->as, addr & ~0xfffull, 0, 0xfff, MS_IOMMU_RW};
	switch (x->mode) {
	case XL_RO:
		out->perm = MS_IOMMU_RO;
		break;
	case XL_WO:
		out->perm = MS_IOMMU_WO;
		break;
	case XL_NONE:
		out->perm = MS_IOMMU_NONE;
		break;
	case XL_BAD_MASK:
		out->addr_mask = 0x1234;
		break;
	case XL_NULL_TARGET:
		out->target_as = NULL;
		break;
	case XL_OUTSIDE:
		out->iova = addr + 1;
		out->addr_mask = 0;
		break;
	case XL_CYCLE:
		out->translated_addr = XL_AT;
		break;
	case XL_SHIFT:
		out->iova = addr;
		out->addr_mask = 0;
		out->translated_addr = XL_AT + ((addr + 1) & 0xff);
		break;
	case XL_HOLE:
		out->translated_addr = 0x8000;
		break;
	default:
		break;
	}
}

static unsigned xl_index(ms_region *iommu, ms_attrs attrs, void *opaque)
{
	const xl *x = opaque;

	(void)iommu;
	(void)attrs;
	return x->mode == XL_BAD_INDEX ? 1 : 0;
}

static const ms_iommu_ops xl_ops = {
	.version = MS_IOMMU_OPS_VERSION,
	.translate = xl_translate,
	.attrs_to_index = xl_index,
};

static ms_region *xl_place(machine *m, xl *x)
{
	ms_region *r;

	x->as = m->as;
	x->mode = XL_RW;
	assert_int_equal(
		ms_iommu_new(
			&r, m->ctx,
			&(ms_iommu_opts){.name = "xl", .size = 0x100, .ops = &xl_ops, .opaque = x}),
		0);
	place(m, XL_AT, r);
	return r;
}

/* What ms_as_translate() and ms_as_get_iotlb_entry() return in each mode. */
static int xl_expected_errno(xl_mode mode, bool is_write)
{
	switch (mode) {
	case XL_RW:
		return 0;
	case XL_RO:
		return is_write ? -EACCES : 0;
	case XL_WO:
		return is_write ? 0 : -EACCES;
	case XL_NONE:
		return -EACCES;
	case XL_BAD_MASK:
	case XL_NULL_TARGET:
	case XL_OUTSIDE:
	case XL_BAD_INDEX:
		return -EIO;
	case XL_CYCLE:
	case XL_SHIFT:
		return -ELOOP;
	default:
		return -ENOENT;
	}
}

static void test_access_calls_through_failing_iommus_are_access_errors(void **state)
{
	static const xl_mode failing[] = {XL_NONE,      XL_BAD_MASK, XL_NULL_TARGET, XL_OUTSIDE,
					  XL_BAD_INDEX, XL_CYCLE,    XL_SHIFT};
	machine *m = *state;
	static memory_state before;
	uint8_t image[4] = {1, 2, 3, 4};
	xl x;

	xl_place(m, &x);
	/* Control: a good mapping reaches "low" for every entry point. */
	for (size_t i = 0; i < NR_ENTRIES; i++) {
		uint8_t bytes[8];

		memset(bytes, 0x77, sizeof(bytes));
		assert_int_equal(entries[i].run(m->as, XL_AT, ATTRS, bytes), MS_RESULT_OK);
	}
	memset(ms_region_ram_ptr(m->low), 0x77, 0x1000);

	for (size_t i = 0; i < sizeof(failing) / sizeof(failing[0]); i++) {
		x.mode = failing[i];
		expect_refused_everywhere(m, XL_AT, ATTRS, MS_RESULT_ACCESS_ERROR);
		/* The loader skips it silently. */
		memory_state_get(&before, m);
		assert_int_equal(ms_as_write_rom(m->as, XL_AT, image, sizeof(image)), MS_RESULT_OK);
		assert_memory_unchanged("ms_as_write_rom", m, &before);
	}
	/* A missing permission fails only that direction (the loader needs write). */
	x.mode = XL_RO;
	expect_refused(m, XL_AT, ATTRS, MS_RESULT_ACCESS_ERROR, WRITE_ENTRIES);
	memory_state_get(&before, m);
	assert_int_equal(ms_as_write_rom(m->as, XL_AT, image, sizeof(image)), MS_RESULT_OK);
	assert_memory_unchanged("ms_as_write_rom", m, &before);
	x.mode = XL_WO;
	expect_refused(m, XL_AT, ATTRS, MS_RESULT_ACCESS_ERROR, READ_ENTRIES);
	/* Behind the IOMMU every rule applies again: a hole there is a decode error. */
	x.mode = XL_HOLE;
	expect_refused_everywhere(m, XL_AT, ATTRS, MS_RESULT_DECODE_ERROR);
	/* translate counts as a callback on the thread's chain: at depth 1 it cannot run. */
	x.mode = XL_RW;
	assert_int_equal(ms_ctx_set_max_access_depth(m->ctx, 1), 0);
	nested_from_dev(m, XL_AT, "IOMMU at depth 1");
	assert_int_equal(ms_ctx_set_max_access_depth(m->ctx, MS_ACCESS_DEPTH_DEFAULT), 0);
}

static void test_translate_and_map_through_failing_iommus(void **state)
{
	machine *m = *state;
	ms_section s, cleared;
	ms_iotlb_entry e;
	ms_region *r;
	xl x;

	r = xl_place(m, &x);
	memset(&cleared, 0, sizeof(cleared));
	for (int mode = XL_RW; mode < XL_NR_MODES; mode++) {
		for (int is_write = 0; is_write < 2; is_write++) {
			int expected = xl_expected_errno((xl_mode)mode, is_write);
			uint64_t len = 16;
			void *p;
			int rc;

			x.mode = (xl_mode)mode;
			memset(&s, 0x5a, sizeof(s));
			ms_rcu_read_lock();
			rc = ms_as_translate(
				&s, &len, m->as, XL_AT,
				&(ms_access_opts){.is_write = is_write, .attrs = ATTRS});
			ms_rcu_read_unlock(); /* s.region is only compared below */
			if (rc != expected)
				fail_msg("translate, mode %d, write %d: %d, expected %d", mode,
					 is_write, rc, expected);
			if (expected == 0) {
				assert_ptr_equal(s.region, m->low);
				assert_int_equal(s.start, XL_AT);
			} else {
				/* Cleared; *len unchanged, or on -ENOENT the hole behind. */
				assert_memory_equal(&s, &cleared, sizeof(s));
			}
			assert_int_equal(len, 16);

			rc = ms_as_get_iotlb_entry(&e, m->as, XL_AT, is_write, ATTRS);
			assert_int_equal(rc, expected);

			len = 16;
			p = ms_as_map(m->as, XL_AT, &len, is_write, ATTRS);
			if (expected == 0) {
				assert_ptr_equal(p, ms_region_ram_ptr(m->low));
				assert_int_equal(len, 16);
				assert_int_equal(ms_as_unmap(m->as, p, len, is_write, 0), 0);
			} else {
				if (p != NULL || len != 0)
					fail_msg("map, mode %d, write %d: %p, len %" PRIu64, mode,
						 is_write, p, len);
			}
			assert_int_equal(ms__map_check(m->as), 0);
		}
	}
	/* ms_iommu_translate() refuses an address past the region's 0x100 bytes. */
	x.mode = XL_RW;
	assert_int_equal(ms_iommu_translate(&e, r, 0x1000, MS_IOMMU_NONE, 0), -EINVAL);
	assert_int_equal(e.perm, MS_IOMMU_NONE);
	assert_int_equal(ms_iommu_translate(&e, r, 0xff, MS_IOMMU_NONE, 0), 0);
	assert_int_equal(e.perm, MS_IOMMU_RW);
}

/* ---- cache.h ------------------------------------------------------------------------ */

/*
 * A NULL cache leaves the caller's buffer alone; a destroyed cache, or bytes
 * outside the stretch, read as zeros. Every load and store refuses both.
 */
static void test_cache_calls_refuse_null_destroyed_and_outside(void **state)
{
	machine *m = *state;
	static memory_state before;
	uint8_t buf[4];
	ms_result r;
	ms_cache c;

	memory_state_get(&before, m);
	memset(buf, STALE, sizeof(buf));
	assert_int_equal(ms_cache_read(NULL, 0, buf, sizeof(buf)), MS_RESULT_ACCESS_ERROR);
	assert_bytes_are("NULL cache", buf, 0, sizeof(buf));
	assert_int_equal(ms_cache_init(&c, m->as, 0, 16, true), 0);
	assert_int_equal(ms_cache_read(&c, 14, buf, sizeof(buf)), MS_RESULT_ACCESS_ERROR);
	assert_bytes_are("outside", buf, 0, sizeof(buf));
	ms_cache_destroy(&c);
	for (int i = 0; i < 2; i++) {
		ms_cache *cache = i ? NULL : &c; /* destroyed, then NULL */

		memset(buf, STALE, sizeof(buf));
		assert_int_equal(ms_cache_read(cache, 0, buf, sizeof(buf)), MS_RESULT_ACCESS_ERROR);
		assert_bytes_are("read", buf, 0, sizeof(buf));
		assert_int_equal(ms_cache_write(cache, 0, buf, sizeof(buf)),
				 MS_RESULT_ACCESS_ERROR);
		r = MS_RESULT_OK;
		assert_int_equal(ms_cache_ldub(cache, 0, &r), 0);
		assert_int_equal(r, MS_RESULT_ACCESS_ERROR);
		r = MS_RESULT_OK;
		assert_int_equal(ms_cache_lduw_le(cache, 0, &r), 0);
		assert_int_equal(r, MS_RESULT_ACCESS_ERROR);
		r = MS_RESULT_OK;
		assert_int_equal(ms_cache_lduw_be(cache, 0, &r), 0);
		assert_int_equal(r, MS_RESULT_ACCESS_ERROR);
		r = MS_RESULT_OK;
		assert_int_equal(ms_cache_ldl_le(cache, 0, &r), 0);
		assert_int_equal(r, MS_RESULT_ACCESS_ERROR);
		r = MS_RESULT_OK;
		assert_int_equal(ms_cache_ldl_be(cache, 0, &r), 0);
		assert_int_equal(r, MS_RESULT_ACCESS_ERROR);
		r = MS_RESULT_OK;
		assert_int_equal(ms_cache_ldq_le(cache, 0, &r), 0);
		assert_int_equal(r, MS_RESULT_ACCESS_ERROR);
		r = MS_RESULT_OK;
		assert_int_equal(ms_cache_ldq_be(cache, 0, &r), 0);
		assert_int_equal(r, MS_RESULT_ACCESS_ERROR);
		assert_int_equal(ms_cache_stb(cache, 0, 1), MS_RESULT_ACCESS_ERROR);
		assert_int_equal(ms_cache_stw_le(cache, 0, 1), MS_RESULT_ACCESS_ERROR);
		assert_int_equal(ms_cache_stw_be(cache, 0, 1), MS_RESULT_ACCESS_ERROR);
		assert_int_equal(ms_cache_stl_le(cache, 0, 1), MS_RESULT_ACCESS_ERROR);
		assert_int_equal(ms_cache_stl_be(cache, 0, 1), MS_RESULT_ACCESS_ERROR);
		assert_int_equal(ms_cache_stq_le(cache, 0, 1), MS_RESULT_ACCESS_ERROR);
		assert_int_equal(ms_cache_stq_be(cache, 0, 1), MS_RESULT_ACCESS_ERROR);
	}
	assert_memory_unchanged("refused cache calls", m, &before);
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
#define MACHINE_TEST(t) cmocka_unit_test_setup_teardown(t, machine_setup, machine_teardown)

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
		MACHINE_TEST(test_access_calls_with_null_arguments_are_access_errors),
		MACHINE_TEST(test_access_calls_to_holes_are_decode_errors),
		MACHINE_TEST(test_access_calls_to_reservations_and_iommus_are_decode_errors),
		MACHINE_TEST(test_access_calls_refused_by_valid_rules_are_decode_errors),
		MACHINE_TEST(test_access_calls_under_attrs_memory_to_devices_are_access_errors),
		MACHINE_TEST(test_access_calls_report_device_errors),
		MACHINE_TEST(test_access_calls_reentering_a_device_are_access_errors),
		MACHINE_TEST(test_access_calls_past_the_depth_bound_are_access_errors),
		MACHINE_TEST(test_translate_bad_arguments_change_nothing),
		MACHINE_TEST(test_set_max_access_depth_refusal_keeps_the_bound),
		MACHINE_TEST(test_access_calls_through_failing_iommus_are_access_errors),
		MACHINE_TEST(test_translate_and_map_through_failing_iommus),
		MACHINE_TEST(test_cache_calls_refuse_null_destroyed_and_outside),
		cmocka_unit_test(test_mtree_fprint_reports_a_failed_flush),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
