/*
 * test_txn.c: transactions (ms_transaction_begin/commit, src/ctx.c and the
 * commit in src/as.c): nesting and its depth, one render and one listener
 * round per outermost commit however many mutations it holds, a commit
 * without a transaction, a failed commit that keeps its changes pending for
 * the next one, transactions that stay in their own context, and topology
 * changes refused with -EBUSY from inside listener callbacks.
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

/* ---- nesting and batching ----------------------------------------------------------- */

static void test_transaction_renders_once_at_commit(void **state)
{
	rig m = rig_new(0x100000);
	ms_region *r[16];
	const ms_flatview *v;
	uint64_t renders;
	char name[8];
	strbuf sb;
	int i;

	(void)state;
	v = view_of(m.as);
	renders = ms_ctx_render_count(m.ctx);
	ms_transaction_begin(m.ctx);
	assert_int_equal(ms_transaction_depth(m.ctx), 1);
	for (i = 0; i < 16; i++) {
		snprintf(name, sizeof(name), "r%d", i);
		r[i] = new_ram(m.ctx, name, 0x1000);
		assert_int_equal(ms_region_add_subregion(m.root, (uint64_t)i * 0x2000, r[i]), 0);
		assert_int_equal(ms_region_set_address(r[i], (uint64_t)i * 0x1000), 0);
	}
	assert_int_equal(ms_region_set_readonly(r[3], true), 0);
	assert_int_equal(ms_region_set_enabled(r[5], false), 0);
	assert_int_equal(ms_region_del_subregion(m.root, r[15]), 0);
	assert_int_equal(ms_ctx_render_count(m.ctx), renders);
	assert_ptr_equal(view_of(m.as), v);
	assert_string_equal(as_view_str(&sb, m.as), "");
	assert_int_equal(ms_transaction_commit(m.ctx), 0);
	assert_int_equal(ms_transaction_depth(m.ctx), 0);
	assert_int_equal(ms_ctx_render_count(m.ctx), renders + 1);
	assert_int_equal(ms_flatview_nr_ranges(view_of(m.as)), 14);
	assert_string_equal(as_view_str(&sb, m.as), "0000-0fff r0 @0\n"
						    "1000-1fff r1 @0\n"
						    "2000-2fff r2 @0\n"
						    "3000-3fff r3 @0 ro\n"
						    "4000-4fff r4 @0\n"
						    "6000-6fff r6 @0\n"
						    "7000-7fff r7 @0\n"
						    "8000-8fff r8 @0\n"
						    "9000-9fff r9 @0\n"
						    "a000-afff r10 @0\n"
						    "b000-bfff r11 @0\n"
						    "c000-cfff r12 @0\n"
						    "d000-dfff r13 @0\n"
						    "e000-efff r14 @0\n");
	for (i = 0; i < 16; i++)
		ms_region_unref(r[i]);
	rig_free(&m);
}

static void test_commit_without_begin_is_eperm(void **state)
{
	ms_ctx *ctx = new_ctx();

	(void)state;
	assert_int_equal(ms_transaction_commit(ctx), -EPERM);
	ms_transaction_begin(ctx);
	assert_int_equal(ms_transaction_commit(ctx), 0);
	assert_int_equal(ms_transaction_commit(ctx), -EPERM);
	assert_int_equal(ms_transaction_depth(ctx), 0);
	ms_ctx_free(ctx);
}

static void test_nested_transactions_publish_at_the_outermost_commit(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *root = new_container(ctx, "root", 0x10000);
	ms_region *a = new_ram(ctx, "a", 0x1000), *b = new_ram(ctx, "b", 0x1000);
	const ms_flatview *v;
	uint64_t renders;
	ms_as *as;
	strbuf sb;

	(void)state;
	assert_int_equal(ms_region_add_subregion(root, 0, a), 0);
	as = new_as(ctx, root, "as");
	v = view_of(as);
	renders = ms_ctx_render_count(ctx);
	ms_transaction_begin(ctx);
	assert_int_equal(ms_region_set_address(a, 0x1000), 0);
	ms_transaction_begin(ctx);
	assert_int_equal(ms_transaction_depth(ctx), 2);
	assert_int_equal(ms_region_add_subregion(root, 0x4000, b), 0);
	assert_int_equal(ms_transaction_commit(ctx), 0);
	assert_int_equal(ms_transaction_depth(ctx), 1);
	/* The inner commit published nothing. */
	assert_ptr_equal(view_of(as), v);
	assert_string_equal(as_view_str(&sb, as), "0000-0fff a @0\n");
	assert_int_equal(ms_ctx_render_count(ctx), renders);
	assert_int_equal(ms_transaction_commit(ctx), 0);
	assert_int_equal(ms_transaction_depth(ctx), 0);
	assert_string_equal(as_view_str(&sb, as), "1000-1fff a @0\n"
						  "4000-4fff b @0\n");
	assert_int_equal(ms_ctx_render_count(ctx), renders + 1);
	ms_as_free(as);
	ms_region_unref(a);
	ms_region_unref(b);
	ms_region_unref(root);
	assert_int_equal(live_regions(ctx), 0);
	ms_ctx_free(ctx);
}

static void test_failed_commit_keeps_the_changes_for_the_next_commit(void **state)
{
	rig m = rig_new(0x1000);
	ms_region *r = new_ram(m.ctx, "r", 0x100);
	ms_region *self = new_alias(m.ctx, "self", m.root, 0, 0x1000);
	const ms_flatview *v;
	strbuf sb;

	(void)state;
	v = view_of(m.as);
	ms_transaction_begin(m.ctx);
	assert_int_equal(ms_region_add_subregion(m.root, 0x800, r), 0);
	assert_int_equal(ms_region_add_subregion(m.root, 0, self), 0);
	assert_int_equal(ms_transaction_commit(m.ctx), -ELOOP);
	assert_int_equal(ms_transaction_depth(m.ctx), 0);
	/* No view changed; the tree kept both changes. */
	assert_ptr_equal(view_of(m.as), v);
	assert_string_equal(as_view_str(&sb, m.as), "");
	assert_string_equal(tree_str(&sb, m.root), "root@0/0{self@0/0,r@800/0}");
	/* A mutation that commits while the loop is still there fails and is undone. */
	assert_int_equal(ms_region_set_address(r, 0x900), -ELOOP);
	assert_int_equal(ms_region_addr(r), 0x800);
	/* Removing the loop commits everything that was pending. */
	assert_int_equal(ms_region_del_subregion(m.root, self), 0);
	assert_string_equal(as_view_str(&sb, m.as), "0800-08ff r @0\n");
	ms_region_unref(self);
	ms_region_unref(r);
	rig_free(&m);
}

static void test_empty_transaction_publishes_nothing(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *root = new_container(ctx, "root", 0x10000);
	ms_region *r = new_ram(ctx, "r", 0x1000);
	const ms_flatview *v;
	uint64_t renders;
	ms_as *as;

	(void)state;
	assert_int_equal(ms_region_add_subregion(root, 0, r), 0);
	as = new_as(ctx, root, "as");
	v = view_of(as);
	renders = ms_ctx_render_count(ctx);
	ms_transaction_begin(ctx);
	ms_transaction_begin(ctx);
	assert_int_equal(ms_transaction_commit(ctx), 0);
	assert_int_equal(ms_transaction_commit(ctx), 0);
	assert_int_equal(ms_ctx_render_count(ctx), renders);
	assert_ptr_equal(view_of(as), v);
	ms_as_free(as);
	ms_region_unref(r);
	ms_region_unref(root);
	ms_ctx_free(ctx);
}

/* A transaction holds back its own context only: another one commits at once. */
static void test_transaction_defers_only_its_own_context(void **state)
{
	ms_ctx *ctx = new_ctx(), *other = new_ctx();
	ms_region *root = new_container(ctx, "root", 0x10000), *r = new_ram(ctx, "r", 0x1000);
	ms_region *root2 = new_container(other, "root2", 0x10000);
	ms_region *r2 = new_ram(other, "r2", 0x1000);
	ms_as *as = new_as(ctx, root, "as"), *as2 = new_as(other, root2, "as2");
	strbuf sb;

	(void)state;
	ms_transaction_begin(ctx);
	assert_int_equal(ms_region_add_subregion(root, 0x1000, r), 0);
	assert_int_equal(ms_region_add_subregion(root2, 0x2000, r2), 0);
	assert_int_equal(ms_transaction_depth(other), 0);
	assert_string_equal(as_view_str(&sb, as2), "2000-2fff r2 @0\n");
	/* The tree changed at once; the view waits for the commit. */
	assert_ptr_equal(ms_region_container(r), root);
	assert_string_equal(as_view_str(&sb, as), "");
	assert_int_equal(ms_transaction_commit(ctx), 0);
	assert_string_equal(as_view_str(&sb, as), "1000-1fff r @0\n");
	ms_as_free(as);
	ms_as_free(as2);
	ms_region_unref(r);
	ms_region_unref(root);
	ms_region_unref(r2);
	ms_region_unref(root2);
	ms_ctx_free(ctx);
	ms_ctx_free(other);
}

/* Listeners hear one begin ... commit per outermost commit, with the net difference. */
static void test_listeners_hear_one_round_per_outermost_commit(void **state)
{
	listen_machine *f = *state;
	recorder a;

	listen_from_now(&a, f, "A", 0);
	ms_transaction_begin(f->ctx);
	assert_int_equal(ms_region_set_enabled(f->dev, false), 0);
	ms_transaction_begin(f->ctx);
	assert_int_equal(ms_region_add_subregion(f->root, 0x4000, f->extra), 0);
	assert_int_equal(ms_region_set_address(f->extra, 0x5000), 0);
	assert_int_equal(ms_transaction_commit(f->ctx), 0);
	assert_string_equal(f->log.text, "");
	assert_int_equal(ms_region_set_enabled(f->dev, true), 0); /* back as it was */
	assert_int_equal(ms_transaction_commit(f->ctx), 0);
	assert_string_equal(f->log.text, "A begin\n"
					 "A nop 0000-0fff ram0 @0\n"
					 "A nop 2000-20ff dev @0\n"
					 "A add 5000-5fff extra @0\n"
					 "A nop 8000-8fff rom @0 ro\n"
					 "A commit\n");
	sb_reset(&f->log);
	rec_unlisten(&a);
	assert_int_equal(ms_region_del_subregion(f->root, f->extra), 0);
}

/* ---- mutations from inside listener callbacks ---------------------------------------- */

typedef struct reentry {
	listen_machine *f;
	recorder *victim; /* another registered listener */
	bool done;
	int rc[14];
} reentry;

static void try_everything(recorder *rec, const ms_section *s)
{
	reentry *re = rec->data;
	listen_machine *f = re->f;
	ms_listener *l = (ms_listener *)&l;
	ms_as *as = (ms_as *)&as;
	int i = 0;

	(void)s;
	if (re->done)
		return;
	re->done = true;
	re->rc[i++] = ms_region_set_enabled(f->dev, false);
	re->rc[i++] = ms_region_add_subregion(f->root, 0x4000, f->extra);
	re->rc[i++] = ms_region_del_subregion(f->root, f->rom);
	re->rc[i++] = ms_region_set_address(f->ram0, 0x5000);
	re->rc[i++] = ms_region_set_readonly(f->ram0, true);
	re->rc[i++] = ms_region_set_dirty_log(f->ram0, 0, true);
	re->rc[i++] = ms_as_new(&as, f->ctx, f->root, "nested");
	re->rc[i++] = as == NULL ? 0 : 1;
	re->rc[i++] = ms_transaction_begin(f->ctx);
	re->rc[i++] = ms_listener_register(&l, f->as, &rec->ops, rec);
	re->rc[i++] = ms_listener_unregister(re->victim->l);
	re->rc[i++] = ms_ctx_dirty_log_global_start(f->ctx);
	re->rc[i++] = ms_as_log_sync(f->as);
	re->rc[i++] = l == NULL ? 0 : 1;
}

static void test_topology_change_from_a_callback_is_ebusy(void **state)
{
	listen_machine *f = *state;
	reentry re = {.f = f};
	recorder a, victim;
	strbuf tree, tree_after;
	ms_region *r;
	size_t i;

	recorder_init(&victim, "V", &f->log, 9);
	rec_listen(&victim, f->as);
	recorder_init(&a, "A", &f->log, 0);
	a.on_add = try_everything;
	a.data = &re;
	re.victim = &victim;
	rec_listen(&a, f->as); /* the replay's first add tries everything */
	assert_true(re.done);
	for (i = 0; i < 14; i++) {
		int expected = (i == 7 || i == 13) ? 0 : -EBUSY;

		if (re.rc[i] != expected)
			fail_msg("call %zu from the callback returned %d, expected %d", i, re.rc[i],
				 expected);
	}
	sb_reset(&f->log);
	tree_str(&tree, f->root);
	assert_string_equal(tree.text, "root@0/0{rom@8000/0,dev@2000/0,ram0@0/0}");
	assert_false(ms_ctx_dirty_log_global(f->ctx));
	assert_int_equal(ms_ctx_nr_as(f->ctx), 1);
	assert_int_equal(f->ctx->nr_listeners, 2);
	assert_int_equal(f->ctx->nr_touched, 0);

	/* The same from inside a commit's callbacks. */
	re.done = false;
	r = new_ram(f->ctx, "new", 0x100);
	assert_int_equal(ms_region_add_subregion(f->root, 0xa000, r), 0);
	assert_true(re.done);
	for (i = 0; i < 14; i++) {
		int expected = (i == 7 || i == 13) ? 0 : -EBUSY;

		if (re.rc[i] != expected)
			fail_msg("call %zu from the commit callback returned %d, expected %d", i,
				 re.rc[i], expected);
	}
	tree_str(&tree_after, f->root);
	assert_string_equal(tree_after.text, "root@0/0{new@a000/0,rom@8000/0,dev@2000/0,ram0@0/0}");
	assert_string_equal(as_view_str(&tree, f->as), "0000-0fff ram0 @0\n"
						       "2000-20ff dev @0\n"
						       "8000-8fff rom @0 ro\n"
						       "a000-a0ff new @0\n");
	assert_int_equal(f->ctx->nr_touched, 0);
	sb_reset(&f->log);
	rec_unlisten(&a);
	rec_unlisten(&victim);
	assert_int_equal(ms_region_del_subregion(f->root, r), 0);
	ms_region_unref(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transaction_renders_once_at_commit),
		cmocka_unit_test(test_commit_without_begin_is_eperm),
		cmocka_unit_test(test_nested_transactions_publish_at_the_outermost_commit),
		cmocka_unit_test(test_failed_commit_keeps_the_changes_for_the_next_commit),
		cmocka_unit_test(test_empty_transaction_publishes_nothing),
		cmocka_unit_test(test_transaction_defers_only_its_own_context),
		LISTEN_TEST(test_listeners_hear_one_round_per_outermost_commit),
		LISTEN_TEST(test_topology_change_from_a_callback_is_ebusy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
