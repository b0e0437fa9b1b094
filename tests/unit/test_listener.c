/*
 * test_listener.c: the exact sequence of listener callbacks.
 *
 * Recording listeners (ms_recorder.h) append one line per callback to a log
 * shared by all listeners of a test, tagged with the listener's name:
 *
 *   "A begin", "A commit", "A add 0000-0fff ram0 @0", "A del ...", "A nop ...",
 *   "A log_start <range> 0->1", "A log_stop <range> 5->4", "A log_sync <range>",
 *   "A log_global_start", "A log_global_stop"
 *
 * where <range> is "start-last region @offset" plus the section's flags
 * (ro, nv, um, romd, log=<mask>). Tests compare the whole log, so order,
 * arguments and the absence of extra calls are all checked.
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

#define LOG_IS(f, expected)                                     \
	do {                                                    \
		assert_string_equal((f)->log.text, (expected)); \
		sb_reset(&(f)->log);                            \
	} while (0)

/* ---- registration ------------------------------------------------------------- */

static void test_register_replays_the_view_to_the_new_listener_only(void **state)
{
	listen_machine *f = *state;
	recorder a, b;

	recorder_init(&a, "A", &f->log, 0);
	recorder_init(&b, "B", &f->log, -10);
	rec_listen(&a, f->as);
	LOG_IS(f, "A begin\n"
		  "A add 0000-0fff ram0 @0\n"
		  "A add 2000-20ff dev @0\n"
		  "A add 8000-8fff rom @0 ro\n"
		  "A commit\n");
	/* B has a lower priority, so it would run first in a commit; still only B. */
	rec_listen(&b, f->as);
	LOG_IS(f, "B begin\n"
		  "B add 0000-0fff ram0 @0\n"
		  "B add 2000-20ff dev @0\n"
		  "B add 8000-8fff rom @0 ro\n"
		  "B commit\n");
	rec_unlisten(&b);
	rec_unlisten(&a);
}

static void test_register_inside_a_transaction_replays_the_published_view(void **state)
{
	listen_machine *f = *state;
	recorder a;

	ms_transaction_begin(f->ctx);
	assert_int_equal(ms_region_add_subregion(f->root, 0x4000, f->extra), 0);
	recorder_init(&a, "A", &f->log, 0);
	rec_listen(&a, f->as);
	/* The pending change is not published yet, so it is not replayed ... */
	LOG_IS(f, "A begin\n"
		  "A add 0000-0fff ram0 @0\n"
		  "A add 2000-20ff dev @0\n"
		  "A add 8000-8fff rom @0 ro\n"
		  "A commit\n");
	/* ... the commit reports it. */
	assert_int_equal(ms_transaction_commit(f->ctx), 0);
	LOG_IS(f, "A begin\n"
		  "A nop 0000-0fff ram0 @0\n"
		  "A nop 2000-20ff dev @0\n"
		  "A add 4000-4fff extra @0\n"
		  "A nop 8000-8fff rom @0 ro\n"
		  "A commit\n");
	/* Unregistering inside a transaction replays the published view too. */
	ms_transaction_begin(f->ctx);
	assert_int_equal(ms_region_del_subregion(f->root, f->extra), 0);
	rec_unlisten(&a);
	LOG_IS(f, "A begin\n"
		  "A del 0000-0fff ram0 @0\n"
		  "A del 2000-20ff dev @0\n"
		  "A del 4000-4fff extra @0\n"
		  "A del 8000-8fff rom @0 ro\n"
		  "A commit\n");
	assert_int_equal(ms_transaction_commit(f->ctx), 0);
	LOG_IS(f, "");
}

static void test_unregister_replays_deletions_to_that_listener_only(void **state)
{
	listen_machine *f = *state;
	recorder a, b;

	listen_from_now(&a, f, "A", 0);
	listen_from_now(&b, f, "B", 0);
	rec_unlisten(&a);
	LOG_IS(f, "A begin\n"
		  "A del 0000-0fff ram0 @0\n"
		  "A del 2000-20ff dev @0\n"
		  "A del 8000-8fff rom @0 ro\n"
		  "A commit\n");
	/* A is gone: a change reaches only B. */
	assert_int_equal(ms_region_set_enabled(f->dev, false), 0);
	LOG_IS(f, "B begin\n"
		  "B del 2000-20ff dev @0\n"
		  "B nop 0000-0fff ram0 @0\n"
		  "B nop 8000-8fff rom @0 ro\n"
		  "B commit\n");
	rec_unlisten(&b);
}

static void test_register_and_unregister_refuse_bad_input(void **state)
{
	listen_machine *f = *state;
	ms_listener *l = (ms_listener *)&l;
	recorder a;

	recorder_init(&a, "A", &f->log, 0);
	assert_int_equal(ms_listener_register(NULL, f->as, &a.ops, &a), -EINVAL);
	assert_int_equal(ms_listener_register(&l, NULL, &a.ops, &a), -EINVAL);
	assert_null(l);
	l = (ms_listener *)&l;
	assert_int_equal(ms_listener_register(&l, f->as, NULL, &a), -EINVAL);
	assert_null(l);
	/* A table of another version: its fields cannot be trusted. */
	a.ops.version = 0;
	assert_int_equal(ms_listener_register(&l, f->as, &a.ops, &a), -EINVAL);
	a.ops.version = MS_LISTENER_OPS_VERSION + 1;
	assert_int_equal(ms_listener_register(&l, f->as, &a.ops, &a), -EINVAL);
	assert_null(l);
	assert_int_equal(f->ctx->nr_listeners, 0);
	assert_int_equal(ms_listener_unregister(NULL), 0);
	assert_int_equal(ms_as_log_sync(NULL), -EINVAL);
	LOG_IS(f, "");
}

/* ---- topology changes ---------------------------------------------------------- */

static void test_adding_a_region_reports_nop_for_the_others_and_add_for_it(void **state)
{
	listen_machine *f = *state;
	recorder a;

	listen_from_now(&a, f, "A", 0);
	assert_int_equal(ms_region_add_subregion(f->root, 0x4000, f->extra), 0);
	LOG_IS(f, "A begin\n"
		  "A nop 0000-0fff ram0 @0\n"
		  "A nop 2000-20ff dev @0\n"
		  "A add 4000-4fff extra @0\n"
		  "A nop 8000-8fff rom @0 ro\n"
		  "A commit\n");
	rec_unlisten(&a);
	assert_int_equal(ms_region_del_subregion(f->root, f->extra), 0);
}

static void test_removing_a_region_reports_del_before_the_nops(void **state)
{
	listen_machine *f = *state;
	recorder a;

	listen_from_now(&a, f, "A", 0);
	assert_int_equal(ms_region_del_subregion(f->root, f->dev), 0);
	LOG_IS(f, "A begin\n"
		  "A del 2000-20ff dev @0\n"
		  "A nop 0000-0fff ram0 @0\n"
		  "A nop 8000-8fff rom @0 ro\n"
		  "A commit\n");
	rec_unlisten(&a);
}

static void test_moving_a_region_is_del_then_add(void **state)
{
	listen_machine *f = *state;
	recorder a;

	listen_from_now(&a, f, "A", 0);
	assert_int_equal(ms_region_set_address(f->dev, 0x9000), 0);
	LOG_IS(f, "A begin\n"
		  "A del 2000-20ff dev @0\n"
		  "A nop 0000-0fff ram0 @0\n"
		  "A nop 8000-8fff rom @0 ro\n"
		  "A add 9000-90ff dev @0\n"
		  "A commit\n");
	/* Onto the ROM: equal priority, re-added later, so it wins and cuts the
	 * ROM in two. Both changed ranges go first, then the new ones. */
	assert_int_equal(ms_region_set_address(f->dev, 0x8800), 0);
	LOG_IS(f, "A begin\n"
		  "A del 8000-8fff rom @0 ro\n"
		  "A del 9000-90ff dev @0\n"
		  "A nop 0000-0fff ram0 @0\n"
		  "A add 8000-87ff rom @0 ro\n"
		  "A add 8800-88ff dev @0\n"
		  "A add 8900-8fff rom @900 ro\n"
		  "A commit\n");
	rec_unlisten(&a);
}

static void test_disable_and_enable(void **state)
{
	listen_machine *f = *state;
	recorder a;

	listen_from_now(&a, f, "A", 0);
	assert_int_equal(ms_region_set_enabled(f->ram0, false), 0);
	LOG_IS(f, "A begin\n"
		  "A del 0000-0fff ram0 @0\n"
		  "A nop 2000-20ff dev @0\n"
		  "A nop 8000-8fff rom @0 ro\n"
		  "A commit\n");
	assert_int_equal(ms_region_set_enabled(f->ram0, true), 0);
	LOG_IS(f, "A begin\n"
		  "A add 0000-0fff ram0 @0\n"
		  "A nop 2000-20ff dev @0\n"
		  "A nop 8000-8fff rom @0 ro\n"
		  "A commit\n");
	rec_unlisten(&a);
}

static void test_readonly_change_is_del_then_add_not_nop(void **state)
{
	listen_machine *f = *state;
	recorder a;

	listen_from_now(&a, f, "A", 0);
	assert_int_equal(ms_region_set_readonly(f->ram0, true), 0);
	LOG_IS(f, "A begin\n"
		  "A del 0000-0fff ram0 @0\n"
		  "A add 0000-0fff ram0 @0 ro\n"
		  "A nop 2000-20ff dev @0\n"
		  "A nop 8000-8fff rom @0 ro\n"
		  "A commit\n");
	/* Inherited from the container: every range changes. */
	assert_int_equal(ms_region_set_readonly(f->ram0, false), 0);
	sb_reset(&f->log);
	assert_int_equal(ms_region_set_nonvolatile(f->root, true), 0);
	LOG_IS(f, "A begin\n"
		  "A del 0000-0fff ram0 @0\n"
		  "A del 2000-20ff dev @0\n"
		  "A del 8000-8fff rom @0 ro\n"
		  "A add 0000-0fff ram0 @0 nv\n"
		  "A add 2000-20ff dev @0 nv\n"
		  "A add 8000-8fff rom @0 ro nv\n"
		  "A commit\n");
	rec_unlisten(&a);
}

static void test_romd_change_is_del_then_add(void **state)
{
	listen_machine *f = *state;
	ms_region *flash;
	recorder a;

	assert_int_equal(
		ms_region_new_rom_device(
			&flash, f->ctx,
			&(ms_region_io_opts){.name = "flash", .size = 0x1000, .ops = nop_ops()}),
		0);
	assert_int_equal(ms_region_add_subregion(f->root, 0xc000, flash), 0);
	listen_from_now(&a, f, "A", 0);
	assert_int_equal(ms_region_set_romd(flash, false), 0);
	LOG_IS(f, "A begin\n"
		  "A del c000-cfff flash @0 romd\n"
		  "A nop 0000-0fff ram0 @0\n"
		  "A nop 2000-20ff dev @0\n"
		  "A nop 8000-8fff rom @0 ro\n"
		  "A add c000-cfff flash @0\n"
		  "A commit\n");
	rec_unlisten(&a);
	assert_int_equal(ms_region_del_subregion(f->root, flash), 0);
	ms_region_unref(flash);
}

static void test_listener_priorities_order_add_and_del_types(void **state)
{
	listen_machine *f = *state;
	recorder hi, lo;

	listen_from_now(&hi, f, "H", 10);
	listen_from_now(&lo, f, "L", -5);
	assert_int_equal(ms_region_set_address(f->dev, 0x3000), 0);
	LOG_IS(f, "L begin\n"
		  "H begin\n"
		  "H del 2000-20ff dev @0\n"
		  "L del 2000-20ff dev @0\n"
		  "L nop 0000-0fff ram0 @0\n"
		  "H nop 0000-0fff ram0 @0\n"
		  "L add 3000-30ff dev @0\n"
		  "H add 3000-30ff dev @0\n"
		  "L nop 8000-8fff rom @0 ro\n"
		  "H nop 8000-8fff rom @0 ro\n"
		  "L commit\n"
		  "H commit\n");
	rec_unlisten(&lo);
	rec_unlisten(&hi);
}

static void test_equal_priorities_run_in_registration_order_reversed_for_del(void **state)
{
	listen_machine *f = *state;
	recorder a, b, c;

	listen_from_now(&a, f, "A", 3);
	listen_from_now(&b, f, "B", 3);
	listen_from_now(&c, f, "C", 3);
	assert_int_equal(ms_region_del_subregion(f->root, f->rom), 0);
	LOG_IS(f, "A begin\n"
		  "B begin\n"
		  "C begin\n"
		  "C del 8000-8fff rom @0 ro\n"
		  "B del 8000-8fff rom @0 ro\n"
		  "A del 8000-8fff rom @0 ro\n"
		  "A nop 0000-0fff ram0 @0\n"
		  "B nop 0000-0fff ram0 @0\n"
		  "C nop 0000-0fff ram0 @0\n"
		  "A nop 2000-20ff dev @0\n"
		  "B nop 2000-20ff dev @0\n"
		  "C nop 2000-20ff dev @0\n"
		  "A commit\n"
		  "B commit\n"
		  "C commit\n");
	/* Unregistering B keeps A and C in order. */
	rec_unlisten(&b);
	sb_reset(&f->log);
	assert_int_equal(ms_region_add_subregion(f->root, 0x8000, f->rom), 0);
	LOG_IS(f, "A begin\n"
		  "C begin\n"
		  "A nop 0000-0fff ram0 @0\n"
		  "C nop 0000-0fff ram0 @0\n"
		  "A nop 2000-20ff dev @0\n"
		  "C nop 2000-20ff dev @0\n"
		  "A add 8000-8fff rom @0 ro\n"
		  "C add 8000-8fff rom @0 ro\n"
		  "A commit\n"
		  "C commit\n");
	rec_unlisten(&c);
	rec_unlisten(&a);
}

static void test_listeners_of_two_address_spaces(void **state)
{
	/*
	 * listener.h: begin and commit go to every listener of the context;
	 * region callbacks only to the listeners of the re-rendered address
	 * space, address space by address space.
	 */
	listen_machine *f = *state;
	ms_region *root2, *r2;
	recorder a, b;
	ms_as *as2;

	assert_int_equal(ms_region_new_container(&root2, f->ctx, "root2", 0x10000), 0);
	r2 = new_ram(f->ctx, "r2", 0x100);
	assert_int_equal(ms_region_add_subregion(root2, 0x100, r2), 0);
	assert_int_equal(ms_as_new(&as2, f->ctx, root2, "as2"), 0);
	recorder_init(&a, "A", &f->log, 0);
	recorder_init(&b, "B", &f->log, 1);
	rec_listen(&a, f->as);
	rec_listen(&b, as2);
	LOG_IS(f, "A begin\n"
		  "A add 0000-0fff ram0 @0\n"
		  "A add 2000-20ff dev @0\n"
		  "A add 8000-8fff rom @0 ro\n"
		  "A commit\n"
		  "B begin\n"
		  "B add 0100-01ff r2 @0\n"
		  "B commit\n");
	/* A change in as2 only: A sees begin and commit, nothing else. */
	assert_int_equal(ms_region_set_address(r2, 0x200), 0);
	LOG_IS(f, "A begin\n"
		  "B begin\n"
		  "B del 0100-01ff r2 @0\n"
		  "B add 0200-02ff r2 @0\n"
		  "A commit\n"
		  "B commit\n");
	/* Both in one transaction: address spaces in creation order. */
	ms_transaction_begin(f->ctx);
	assert_int_equal(ms_region_set_enabled(r2, false), 0);
	assert_int_equal(ms_region_set_enabled(f->dev, false), 0);
	assert_int_equal(ms_transaction_commit(f->ctx), 0);
	LOG_IS(f, "A begin\n"
		  "B begin\n"
		  "A del 2000-20ff dev @0\n"
		  "A nop 0000-0fff ram0 @0\n"
		  "A nop 8000-8fff rom @0 ro\n"
		  "B del 0200-02ff r2 @0\n"
		  "A commit\n"
		  "B commit\n");
	assert_int_equal(ms_region_set_enabled(f->dev, true), 0);
	sb_reset(&f->log);
	rec_unlisten(&b);
	rec_unlisten(&a);
	ms_as_free(as2);
	ms_region_unref(r2);
	ms_region_unref(root2);
}

static void test_address_spaces_sharing_a_view_each_get_the_difference(void **state)
{
	listen_machine *f = *state;
	recorder a, b;
	ms_as *as2;

	assert_int_equal(ms_as_new(&as2, f->ctx, f->root, "as2"), 0);
	recorder_init(&a, "A", &f->log, 0);
	recorder_init(&b, "B", &f->log, 0);
	rec_listen(&a, f->as);
	rec_listen(&b, as2);
	sb_reset(&f->log);
	assert_int_equal(ms_region_del_subregion(f->root, f->ram0), 0);
	LOG_IS(f, "A begin\n"
		  "B begin\n"
		  "A del 0000-0fff ram0 @0\n"
		  "A nop 2000-20ff dev @0\n"
		  "A nop 8000-8fff rom @0 ro\n"
		  "B del 0000-0fff ram0 @0\n"
		  "B nop 2000-20ff dev @0\n"
		  "B nop 8000-8fff rom @0 ro\n"
		  "A commit\n"
		  "B commit\n");
	rec_unlisten(&b);
	rec_unlisten(&a);
	ms_as_free(as2);
}

/* ---- dirty logging ------------------------------------------------------------- */

static void test_set_dirty_log_is_nop_then_log_start_or_stop_with_masks(void **state)
{
	listen_machine *f = *state;
	recorder a, b;

	listen_from_now(&a, f, "A", 0);
	listen_from_now(&b, f, "B", 1);
	assert_int_equal(ms_region_set_dirty_log(f->ram0, 0, true), 0);
	LOG_IS(f, "A begin\n"
		  "B begin\n"
		  "A nop 0000-0fff ram0 @0 log=1\n"
		  "B nop 0000-0fff ram0 @0 log=1\n"
		  "A log_start 0000-0fff ram0 @0 log=1 0->1\n"
		  "B log_start 0000-0fff ram0 @0 log=1 0->1\n"
		  "A nop 2000-20ff dev @0\n"
		  "B nop 2000-20ff dev @0\n"
		  "A nop 8000-8fff rom @0 ro\n"
		  "B nop 8000-8fff rom @0 ro\n"
		  "A commit\n"
		  "B commit\n");
	assert_int_equal(ms_region_set_dirty_log(f->ram0, 2, true), 0);
	assert_non_null(strstr(f->log.text, "A log_start 0000-0fff ram0 @0 log=5 1->5\n"
					    "B log_start 0000-0fff ram0 @0 log=5 1->5\n"));
	sb_reset(&f->log);
	/* Already on: not a change, nothing is called. */
	assert_int_equal(ms_region_set_dirty_log(f->ram0, 2, true), 0);
	LOG_IS(f, "");
	/* log_stop is del-type: descending priority. */
	assert_int_equal(ms_region_set_dirty_log(f->ram0, 0, false), 0);
	LOG_IS(f, "A begin\n"
		  "B begin\n"
		  "A nop 0000-0fff ram0 @0 log=4\n"
		  "B nop 0000-0fff ram0 @0 log=4\n"
		  "B log_stop 0000-0fff ram0 @0 log=4 5->4\n"
		  "A log_stop 0000-0fff ram0 @0 log=4 5->4\n"
		  "A nop 2000-20ff dev @0\n"
		  "B nop 2000-20ff dev @0\n"
		  "A nop 8000-8fff rom @0 ro\n"
		  "B nop 8000-8fff rom @0 ro\n"
		  "A commit\n"
		  "B commit\n");
	rec_unlisten(&b);
	LOG_IS(f, "B begin\n"
		  "B log_stop 0000-0fff ram0 @0 log=4 4->0\n"
		  "B del 0000-0fff ram0 @0 log=4\n"
		  "B del 2000-20ff dev @0\n"
		  "B del 8000-8fff rom @0 ro\n"
		  "B commit\n");
	rec_unlisten(&a);
}

static void test_mask_that_grows_and_shrinks_at_once_gets_start_then_stop(void **state)
{
	listen_machine *f = *state;
	recorder a, b;

	assert_int_equal(ms_region_set_dirty_log(f->ram0, 0, true), 0);
	listen_from_now(&a, f, "A", 0);
	listen_from_now(&b, f, "B", 1);
	ms_transaction_begin(f->ctx);
	assert_int_equal(ms_region_set_dirty_log(f->ram0, 0, false), 0);
	assert_int_equal(ms_region_set_dirty_log(f->ram0, 1, true), 0);
	assert_int_equal(ms_transaction_commit(f->ctx), 0);
	LOG_IS(f, "A begin\n"
		  "B begin\n"
		  "A nop 0000-0fff ram0 @0 log=2\n"
		  "B nop 0000-0fff ram0 @0 log=2\n"
		  "A log_start 0000-0fff ram0 @0 log=2 1->2\n"
		  "B log_start 0000-0fff ram0 @0 log=2 1->2\n"
		  "B log_stop 0000-0fff ram0 @0 log=2 1->2\n"
		  "A log_stop 0000-0fff ram0 @0 log=2 1->2\n"
		  "A nop 2000-20ff dev @0\n"
		  "B nop 2000-20ff dev @0\n"
		  "A nop 8000-8fff rom @0 ro\n"
		  "B nop 8000-8fff rom @0 ro\n"
		  "A commit\n"
		  "B commit\n");
	rec_unlisten(&b);
	rec_unlisten(&a);
}

static void test_logged_ranges_in_replay_and_add(void **state)
{
	listen_machine *f = *state;
	ms_region *al;
	recorder a;

	assert_int_equal(ms_region_set_dirty_log(f->ram0, 3, true), 0);
	recorder_init(&a, "A", &f->log, 0);
	rec_listen(&a, f->as);
	LOG_IS(f, "A begin\n"
		  "A add 0000-0fff ram0 @0 log=8\n"
		  "A log_start 0000-0fff ram0 @0 log=8 0->8\n"
		  "A add 2000-20ff dev @0\n"
		  "A add 8000-8fff rom @0 ro\n"
		  "A commit\n");
	/* A logged region appearing a second time, through an alias. */
	assert_int_equal(ms_region_new_alias(&al, f->ctx,
					     &(ms_region_alias_opts){.name = "al",
								     .target = f->ram0,
								     .offset = 0x800,
								     .size = 0x800}),
			 0);
	assert_int_equal(ms_region_add_subregion(f->root, 0x4000, al), 0);
	LOG_IS(f, "A begin\n"
		  "A nop 0000-0fff ram0 @0 log=8\n"
		  "A nop 2000-20ff dev @0\n"
		  "A add 4000-47ff ram0 @800 log=8\n"
		  "A log_start 4000-47ff ram0 @800 log=8 0->8\n"
		  "A nop 8000-8fff rom @0 ro\n"
		  "A commit\n");
	rec_unlisten(&a);
	LOG_IS(f, "A begin\n"
		  "A log_stop 0000-0fff ram0 @0 log=8 8->0\n"
		  "A del 0000-0fff ram0 @0 log=8\n"
		  "A del 2000-20ff dev @0\n"
		  "A log_stop 4000-47ff ram0 @800 log=8 8->0\n"
		  "A del 4000-47ff ram0 @800 log=8\n"
		  "A del 8000-8fff rom @0 ro\n"
		  "A commit\n");
	assert_int_equal(ms_region_del_subregion(f->root, al), 0);
	ms_region_unref(al);
}

static void test_global_dirty_log_start_ascending_stop_descending_idempotent(void **state)
{
	listen_machine *f = *state;
	recorder a, b, c;

	listen_from_now(&a, f, "A", 0);
	listen_from_now(&b, f, "B", 5);
	recorder_init(&c, "C", &f->log, -5);
	assert_false(ms_ctx_dirty_log_global(f->ctx));
	assert_int_equal(ms_ctx_dirty_log_global_stop(f->ctx), 0); /* already stopped */
	LOG_IS(f, "");
	assert_int_equal(ms_ctx_dirty_log_global_start(f->ctx), 0);
	assert_true(ms_ctx_dirty_log_global(f->ctx));
	/*
	 * As in QEMU: log_global_start, then the views render again with
	 * MIGRATION in the mask of every migratable RAM range (ROM included),
	 * so each listener hears log_start for them.
	 */
	LOG_IS(f, "A log_global_start\n"
		  "B log_global_start\n"
		  "A begin\n"
		  "B begin\n"
		  "A nop 0000-0fff ram0 @0 log=4\n"
		  "B nop 0000-0fff ram0 @0 log=4\n"
		  "A log_start 0000-0fff ram0 @0 log=4 0->4\n"
		  "B log_start 0000-0fff ram0 @0 log=4 0->4\n"
		  "A nop 2000-20ff dev @0\n"
		  "B nop 2000-20ff dev @0\n"
		  "A nop 8000-8fff rom @0 ro log=4\n"
		  "B nop 8000-8fff rom @0 ro log=4\n"
		  "A log_start 8000-8fff rom @0 ro log=4 0->4\n"
		  "B log_start 8000-8fff rom @0 ro log=4 0->4\n"
		  "A commit\n"
		  "B commit\n");
	assert_int_equal(ms_ctx_dirty_log_global_start(f->ctx), 0);
	LOG_IS(f, "");
	/* A listener registered while it is on hears about it in its replay. */
	rec_listen(&c, f->as);
	LOG_IS(f, "C begin\n"
		  "C log_global_start\n"
		  "C add 0000-0fff ram0 @0 log=4\n"
		  "C log_start 0000-0fff ram0 @0 log=4 0->4\n"
		  "C add 2000-20ff dev @0\n"
		  "C add 8000-8fff rom @0 ro log=4\n"
		  "C log_start 8000-8fff rom @0 ro log=4 0->4\n"
		  "C commit\n");
	assert_int_equal(ms_ctx_dirty_log_global_stop(f->ctx), 0);
	assert_false(ms_ctx_dirty_log_global(f->ctx));
	/* Stopping: the commit (log_stop on those ranges), then log_global_stop. */
	LOG_IS(f, "C begin\n"
		  "A begin\n"
		  "B begin\n"
		  "C nop 0000-0fff ram0 @0\n"
		  "A nop 0000-0fff ram0 @0\n"
		  "B nop 0000-0fff ram0 @0\n"
		  "B log_stop 0000-0fff ram0 @0 4->0\n"
		  "A log_stop 0000-0fff ram0 @0 4->0\n"
		  "C log_stop 0000-0fff ram0 @0 4->0\n"
		  "C nop 2000-20ff dev @0\n"
		  "A nop 2000-20ff dev @0\n"
		  "B nop 2000-20ff dev @0\n"
		  "C nop 8000-8fff rom @0 ro\n"
		  "A nop 8000-8fff rom @0 ro\n"
		  "B nop 8000-8fff rom @0 ro\n"
		  "B log_stop 8000-8fff rom @0 ro 4->0\n"
		  "A log_stop 8000-8fff rom @0 ro 4->0\n"
		  "C log_stop 8000-8fff rom @0 ro 4->0\n"
		  "C commit\n"
		  "A commit\n"
		  "B commit\n"
		  "B log_global_stop\n"
		  "A log_global_stop\n"
		  "C log_global_stop\n");
	assert_int_equal(ms_ctx_dirty_log_global_stop(f->ctx), 0);
	LOG_IS(f, "");
	assert_int_equal(ms_ctx_dirty_log_global_start(NULL), -EINVAL);
	rec_unlisten(&c);
	rec_unlisten(&b);
	rec_unlisten(&a);
}

static void test_log_sync_visits_only_logged_ranges_of_that_address_space(void **state)
{
	listen_machine *f = *state;
	ms_region *al;
	recorder a, b, other;
	ms_as *as2;

	assert_int_equal(ms_as_new(&as2, f->ctx, f->root, "as2"), 0);
	assert_int_equal(ms_region_new_alias(&al, f->ctx,
					     &(ms_region_alias_opts){.name = "al",
								     .target = f->ram0,
								     .offset = 0,
								     .size = 0x1000}),
			 0);
	assert_int_equal(ms_region_add_subregion(f->root, 0x4000, al), 0);
	assert_int_equal(ms_region_set_dirty_log(f->ram0, 1, true), 0);
	recorder_init(&a, "A", &f->log, 2);
	recorder_init(&b, "B", &f->log, 1);
	recorder_init(&other, "O", &f->log, 0);
	rec_listen(&a, f->as);
	rec_listen(&b, f->as);
	rec_listen(&other, as2);
	sb_reset(&f->log);
	assert_int_equal(ms_as_log_sync(f->as), 0);
	LOG_IS(f, "B log_sync 0000-0fff ram0 @0 log=2\n"
		  "A log_sync 0000-0fff ram0 @0 log=2\n"
		  "B log_sync 4000-4fff ram0 @0 log=2\n"
		  "A log_sync 4000-4fff ram0 @0 log=2\n");
	assert_int_equal(ms_region_set_dirty_log(f->ram0, 1, false), 0);
	sb_reset(&f->log);
	assert_int_equal(ms_as_log_sync(f->as), 0);
	LOG_IS(f, "");
	rec_unlisten(&other);
	rec_unlisten(&b);
	rec_unlisten(&a);
	ms_as_free(as2);
	assert_int_equal(ms_region_del_subregion(f->root, al), 0);
	ms_region_unref(al);
}

/* ---- commits that call nothing -------------------------------------------------- */

static void test_commit_that_renders_nothing_calls_nothing(void **state)
{
	listen_machine *f = *state;
	ms_region *loose;
	recorder a;

	listen_from_now(&a, f, "A", 0);
	assert_int_equal(ms_region_new_container(&loose, f->ctx, "loose", 0x10000), 0);
	assert_int_equal(ms_region_add_subregion(loose, 0, f->extra), 0);
	assert_int_equal(ms_region_set_address(f->extra, 0x1000), 0);
	assert_int_equal(ms_region_del_subregion(loose, f->extra), 0);
	assert_int_equal(ms_region_set_enabled(f->ram0, true), 0);       /* unchanged */
	assert_int_equal(ms_region_set_address(f->dev, 0x2000), 0);      /* unchanged */
	assert_int_equal(ms_region_set_readonly(f->rom, true), 0);       /* a ROM already is */
	assert_int_equal(ms_region_set_dirty_log(f->ram0, 0, false), 0); /* not logged */
	ms_transaction_begin(f->ctx);
	assert_int_equal(ms_transaction_commit(f->ctx), 0);
	assert_int_equal(ms_region_set_owner(f->ram0, "board"), 0);
	LOG_IS(f, "");
	rec_unlisten(&a);
	ms_region_unref(loose);
}

static void test_new_address_space_sharing_a_view_calls_nothing(void **state)
{
	/* listener.h: "A commit that re-renders nothing calls nothing." */
	listen_machine *f = *state;
	uint64_t renders;
	recorder a;
	ms_as *as2;

	listen_from_now(&a, f, "A", 0);
	renders = ms_ctx_render_count(f->ctx);
	assert_int_equal(ms_as_new(&as2, f->ctx, f->root, "as2"), 0);
	assert_int_equal(ms_ctx_render_count(f->ctx), renders);
	ms_as_free(as2);
	rec_unlisten(&a);
	/* Only the unregistration's own replay may be in the log. */
	assert_string_equal(f->log.text, "A begin\n"
					 "A del 0000-0fff ram0 @0\n"
					 "A del 2000-20ff dev @0\n"
					 "A del 8000-8fff rom @0 ro\n"
					 "A commit\n");
}

static size_t count_lines_starting(const char *text, const char *prefix)
{
	size_t n = 0, len = strlen(prefix);
	const char *p = text;

	while (p && *p) {
		if (strncmp(p, prefix, len) == 0)
			n++;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return n;
}

/*
 * A commit that changes one range of a 300-range view tells a listener
 * without region_nop about that range only (the unchanged chunks are
 * skipped); a listener with region_nop still hears a nop for every range
 * that stayed, as in QEMU.
 */
static void test_diff_cost_follows_changes_unless_nop_is_wanted(void **state)
{
	ms_ctx *ctx;
	ms_region *root, *devs[302];
	recorder a, b;
	static strbuf log_a, log_b;
	char name[16];
	ms_as *as;
	size_t i;

	(void)state;
	assert_int_equal(ms_ctx_new(&ctx), 0);
	assert_int_equal(ms_region_new_container(&root, ctx, "root", MS_SIZE_2_64), 0);
	assert_int_equal(ms_as_new(&as, ctx, root, "as"), 0);
	ms_transaction_begin(ctx);
	for (i = 0; i < 302; i++) {
		snprintf(name, sizeof(name), "d%zu", i);
		assert_int_equal(
			ms_region_new_io(
				&devs[i], ctx,
				&(ms_region_io_opts){.name = name, .size = 0x1000, .ops = NULL}),
			0);
		if (i < 300)
			assert_int_equal(ms_region_add_subregion(root, i * 0x2000, devs[i]), 0);
	}
	assert_int_equal(ms_transaction_commit(ctx), 0);

	recorder_init(&a, "A", &log_a, 0);
	a.ops.region_nop = NULL;
	rec_listen(&a, as);
	sb_reset(&log_a);
	assert_int_equal(ms_region_add_subregion(root, 150 * 0x2000 + 0x1000, devs[300]), 0);
	assert_string_equal(log_a.text, "A begin\n"
					"A add 12d000-12dfff d300 @0\n"
					"A commit\n");

	recorder_init(&b, "B", &log_b, 1);
	rec_listen(&b, as);
	sb_reset(&log_a);
	sb_reset(&log_b);
	assert_int_equal(ms_region_add_subregion(root, 10 * 0x2000 + 0x1000, devs[301]), 0);
	assert_int_equal(count_lines_starting(log_a.text, "A add"), 1);
	assert_int_equal(count_lines_starting(log_a.text, "A del"), 0);
	assert_int_equal(count_lines_starting(log_b.text, "B add"), 1);
	assert_int_equal(count_lines_starting(log_b.text, "B nop"), 301);

	rec_unlisten(&b);
	rec_unlisten(&a);
	ms_as_free(as);
	for (i = 0; i < 302; i++)
		ms_region_unref(devs[i]);
	ms_region_unref(root);
	ms_ctx_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diff_cost_follows_changes_unless_nop_is_wanted),
		LISTEN_TEST(test_register_replays_the_view_to_the_new_listener_only),
		LISTEN_TEST(test_register_inside_a_transaction_replays_the_published_view),
		LISTEN_TEST(test_unregister_replays_deletions_to_that_listener_only),
		LISTEN_TEST(test_register_and_unregister_refuse_bad_input),
		LISTEN_TEST(test_adding_a_region_reports_nop_for_the_others_and_add_for_it),
		LISTEN_TEST(test_removing_a_region_reports_del_before_the_nops),
		LISTEN_TEST(test_moving_a_region_is_del_then_add),
		LISTEN_TEST(test_disable_and_enable),
		LISTEN_TEST(test_readonly_change_is_del_then_add_not_nop),
		LISTEN_TEST(test_romd_change_is_del_then_add),
		LISTEN_TEST(test_listener_priorities_order_add_and_del_types),
		LISTEN_TEST(test_equal_priorities_run_in_registration_order_reversed_for_del),
		LISTEN_TEST(test_listeners_of_two_address_spaces),
		LISTEN_TEST(test_address_spaces_sharing_a_view_each_get_the_difference),
		LISTEN_TEST(test_set_dirty_log_is_nop_then_log_start_or_stop_with_masks),
		LISTEN_TEST(test_mask_that_grows_and_shrinks_at_once_gets_start_then_stop),
		LISTEN_TEST(test_logged_ranges_in_replay_and_add),
		LISTEN_TEST(test_global_dirty_log_start_ascending_stop_descending_idempotent),
		LISTEN_TEST(test_log_sync_visits_only_logged_ranges_of_that_address_space),
		LISTEN_TEST(test_commit_that_renders_nothing_calls_nothing),
		LISTEN_TEST(test_new_address_space_sharing_a_view_calls_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
