/*
 * test_region_cycles.c: alias cycles through containment. An add, move,
 * resize, offset change or enable that would make an alias lead back into
 * its own subtree without end is refused with -ELOOP and undone; a loop
 * outside any address space is found when one is created over it. Trees
 * that only look like loops (shifting aliases, finite chains, deep nesting)
 * still render, and an alias inside its own target is a reference cycle the
 * context frees.
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

/* ---- alias cycles through containment ------------------------------------ */

/* root (container 0x1000, address space "as") with RAM "ram" at 0 (0x100). */
typedef struct loop_world {
	ms_ctx *ctx;
	ms_region *root, *ram;
	ms_as *as;
	strbuf before, after;
} loop_world;

static void loop_world_init(loop_world *w)
{
	w->ctx = new_ctx();
	w->root = new_container(w->ctx, "root", 0x1000);
	w->ram = new_ram(w->ctx, "ram", 0x100);
	assert_int_equal(ms_region_add_subregion(w->root, 0, w->ram), 0);
	w->as = new_as(w->ctx, w->root, "as");
}

static void loop_world_fini(loop_world *w)
{
	ms_as_free(w->as);
	ms_region_unref(w->ram);
	ms_region_unref(w->root);
	assert_int_equal(live_regions(w->ctx), 0);
	ms_ctx_free(w->ctx);
}

static const char *loop_snapshot(strbuf *sb, loop_world *w, ms_region *al)
{
	strbuf tmp;

	sb_reset(sb);
	sb_printf(sb, "%s\n", tree_str(&tmp, w->root));
	sb_printf(sb, "%s at %" PRIx64 " size %" PRIx64 " offset %" PRIx64 "%s in %s\n",
		  ms_region_name(al), ms_region_addr(al), ms_region_size(al),
		  ms_region_alias_offset(al), ms_region_enabled(al) ? "" : " (off)",
		  ms_region_container(al) ? ms_region_name(ms_region_container(al)) : "-");
	sb_printf(sb, "%s", as_view_str(&tmp, w->as));
	assert_int_equal(w->ctx->nr_touched, 0);
	return sb->text;
}

static void test_alias_covering_its_own_container_is_eloop(void **state)
{
	loop_world w;
	ms_region *al, *more;
	uint64_t renders;
	strbuf sb;

	(void)state;
	loop_world_init(&w);
	assert_int_equal(ms_region_new_alias(&al, w.ctx,
					     &(ms_region_alias_opts){.name = "self",
								     .target = w.root,
								     .offset = 0,
								     .size = 0x1000}),
			 0);
	loop_snapshot(&w.before, &w, al);
	renders = ms_ctx_render_count(w.ctx);
	assert_int_equal(ms_region_add_subregion(w.root, 0, al), -ELOOP);
	assert_string_equal(loop_snapshot(&w.after, &w, al), w.before.text);
	assert_string_equal(as_view_str(&sb, w.as), "0000-00ff ram @0\n");
	assert_int_equal(ms_ctx_render_count(w.ctx), renders);
	assert_int_equal(region_refs(al), 1);

	/* The context still works: the next change commits normally. */
	more = new_ram(w.ctx, "more", 0x100);
	assert_int_equal(ms_region_add_subregion(w.root, 0x800, more), 0);
	assert_string_equal(as_view_str(&sb, w.as), "0000-00ff ram @0\n"
						    "0800-08ff more @0\n");
	assert_int_equal(ms_region_del_subregion(w.root, more), 0);
	ms_region_unref(more);
	ms_region_unref(al);
	loop_world_fini(&w);
}

static void test_alias_loop_through_flatview_root_is_eloop(void **state)
{
	/* The alias is the container's only child: the flatview-root walk
	 * (container -> only child -> alias target -> ...) must not spin. */
	ms_ctx *ctx = new_ctx();
	ms_region *c, *al;
	ms_as *as;
	strbuf sb;

	(void)state;
	c = new_container(ctx, "c", 0x1000);
	as = new_as(ctx, c, "as");
	assert_int_equal(ms_region_new_alias(
				 &al, ctx,
				 &(ms_region_alias_opts){
					 .name = "self", .target = c, .offset = 0, .size = 0x1000}),
			 0);
	assert_int_equal(ms_region_add_subregion(c, 0, al), -ELOOP);
	assert_int_equal(ms_region_nr_subregions(c), 0);
	assert_null(ms_region_container(al));
	assert_string_equal(as_view_str(&sb, as), "");
	assert_null(ms_as_flatview_root(as));
	ms_as_free(as);
	ms_region_unref(al);
	ms_region_unref(c);
	assert_int_equal(live_regions(ctx), 0);
	ms_ctx_free(ctx);
}

static void test_alias_loop_through_a_nested_container_is_eloop(void **state)
{
	loop_world w;
	ms_region *inner, *al;
	strbuf sb;

	(void)state;
	loop_world_init(&w);
	assert_int_equal(ms_region_new_container(&inner, w.ctx, "inner", 0x800), 0);
	assert_int_equal(ms_region_add_subregion(w.root, 0x400, inner), 0);
	assert_int_equal(ms_region_new_alias(&al, w.ctx,
					     &(ms_region_alias_opts){.name = "back",
								     .target = w.root,
								     .offset = 0x400,
								     .size = 0x400}),
			 0);
	loop_snapshot(&w.before, &w, al);
	/* At 0x400 the alias shows root[0x400, 0x800) in place: inner again. */
	assert_int_equal(ms_region_add_subregion(inner, 0, al), -ELOOP);
	assert_string_equal(loop_snapshot(&w.after, &w, al), w.before.text);
	assert_string_equal(tree_str(&sb, w.root), "root@0/0{inner@400/0,ram@0/0}");
	assert_int_equal(ms_region_del_subregion(w.root, inner), 0);
	ms_region_unref(inner);
	ms_region_unref(al);
	loop_world_fini(&w);
}

static void test_mutations_that_would_close_an_alias_loop_are_undone(void **state)
{
	loop_world w;
	ms_region *al;
	strbuf sb;

	(void)state;
	loop_world_init(&w);
	/* At 0x800 with a 0x800 window from offset 0 the alias shows root[0,
	 * 0x800): the ram at 0x800, and itself shifted out of the window. */
	assert_int_equal(ms_region_new_alias(&al, w.ctx,
					     &(ms_region_alias_opts){.name = "win",
								     .target = w.root,
								     .offset = 0,
								     .size = 0x800}),
			 0);
	assert_int_equal(ms_region_add_subregion(w.root, 0x800, al), 0);
	assert_string_equal(as_view_str(&sb, w.as), "0000-00ff ram @0\n"
						    "0800-08ff ram @0\n");
	loop_snapshot(&w.before, &w, al);
	/* Window offset 0x800 maps root[0x800, 0x1000): the alias itself. */
	assert_int_equal(ms_region_set_alias_offset(al, 0x800), -ELOOP);
	assert_string_equal(loop_snapshot(&w.after, &w, al), w.before.text);
	/* At 0 the window covers itself. */
	assert_int_equal(ms_region_set_address(al, 0), -ELOOP);
	assert_string_equal(loop_snapshot(&w.after, &w, al), w.before.text);
	assert_int_equal(ms_region_set_priority(al, 1), 0);
	assert_int_equal(ms_region_set_priority(al, 0), 0);
	/* Disabled, it may move anywhere; enabling it is what closes the loop. */
	assert_int_equal(ms_region_set_enabled(al, false), 0);
	assert_int_equal(ms_region_set_address(al, 0), 0);
	assert_string_equal(as_view_str(&sb, w.as), "0000-00ff ram @0\n");
	loop_snapshot(&w.before, &w, al);
	assert_int_equal(ms_region_set_enabled(al, true), -ELOOP);
	assert_string_equal(loop_snapshot(&w.after, &w, al), w.before.text);
	assert_false(ms_region_enabled(al));

	assert_int_equal(ms_region_del_subregion(w.root, al), 0);
	ms_region_unref(al);
	loop_world_fini(&w);
}

static void test_alias_loop_outside_any_address_space_is_found_at_as_new(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *c, *al;
	ms_as *as = (ms_as *)&as;
	uint64_t renders;

	(void)state;
	c = new_container(ctx, "c", 0x1000);
	assert_int_equal(ms_region_new_alias(
				 &al, ctx,
				 &(ms_region_alias_opts){
					 .name = "self", .target = c, .offset = 0, .size = 0x1000}),
			 0);
	/* Nothing renders c yet, so nothing can loop. */
	assert_int_equal(ms_region_add_subregion(c, 0, al), 0);
	renders = ms_ctx_render_count(ctx);
	assert_int_equal(ms_as_new(&as, ctx, c, "as"), -ELOOP);
	assert_null(as);
	assert_int_equal(ms_ctx_nr_as(ctx), 0);
	assert_int_equal(ms_ctx_render_count(ctx), renders);
	assert_int_equal(region_refs(c), 1 + 1); /* caller + alias */
	assert_int_equal(ms_region_del_subregion(c, al), 0);
	as = new_as(ctx, c, "as");
	ms_as_free(as);
	ms_region_unref(al);
	ms_region_unref(c);
	assert_int_equal(live_regions(ctx), 0);
	ms_ctx_free(ctx);
}

static void test_shifting_alias_onto_its_own_container_renders(void **state)
{
	/*
	 * QEMU's arm-mps2-an505: "alias 1" at 0x10000000, 0x10000000 bytes of
	 * the system container from offset 0. The window shows the system's
	 * first 256 MiB again; the alias itself lands outside its own window,
	 * so rendering ends after one step.
	 */
	ms_ctx *ctx = new_ctx();
	ms_region *sys, *sram, *uart, *ssram, *al;
	ms_section s;
	ms_flatview *fv;
	ms_as *as;
	strbuf sb;

	(void)state;
	sys = new_container(ctx, "system", MS_SIZE_2_64);
	as = new_as(ctx, sys, "memory");
	sram = new_ram(ctx, "sram", 0x1000);
	assert_int_equal(ms_region_new_io(&uart, ctx,
					  &(ms_region_io_opts){
						  .name = "uart", .size = 0x100, .ops = nop_ops()}),
			 0);
	ssram = new_ram(ctx, "ssram", 0x80);
	assert_int_equal(ms_region_new_alias(&al, ctx,
					     &(ms_region_alias_opts){.name = "alias 1",
								     .target = sys,
								     .offset = 0,
								     .size = 0x10000000}),
			 0);
	assert_int_equal(ms_region_add_subregion(sys, 0, sram), 0);
	assert_int_equal(ms_region_add_subregion(sys, 0x2000, uart), 0);
	assert_int_equal(ms_region_add_subregion_overlap(sys, 0x10000000, al, -1), 0);
	assert_int_equal(ms_region_add_subregion(sys, 0x10002000, ssram), 0);
	assert_string_equal(as_view_str(&sb, as), "0000-0fff sram @0\n"
						  "2000-20ff uart @0\n"
						  "10000000-10000fff sram @0\n"
						  "10002000-1000207f ssram @0\n"
						  "10002080-100020ff uart @80\n");
	assert_ptr_equal(ms_as_flatview_root(as), sys);
	fv = ms_as_get_flatview(as);
	assert_int_equal(ms_flatview_find(&s, fv, 0x100020ff), 0);
	assert_ptr_equal(s.region, uart);
	assert_int_equal(s.offset_in_region, 0x80);
	ms_flatview_unref(fv);
	/* A smaller shift nests three windows, and still ends. */
	assert_int_equal(ms_region_set_size(al, 0x3000), 0);
	assert_int_equal(ms_region_set_address(al, 0x1000), 0);
	assert_string_equal(as_view_str(&sb, as), "0000-0fff sram @0\n"
						  "1000-1fff sram @0\n"
						  "2000-20ff uart @0\n"
						  "2100-2fff sram @100\n"
						  "3000-30ff uart @0\n"
						  "3100-3fff sram @100\n"
						  "10002000-1000207f ssram @0\n");
	ms_as_free(as);
	/* The alias and its container reference each other: break the cycle. */
	assert_int_equal(ms_region_del_subregion(sys, al), 0);
	ms_region_unref(sram);
	ms_region_unref(uart);
	ms_region_unref(ssram);
	ms_region_unref(al);
	ms_region_unref(sys);
	assert_int_equal(live_regions(ctx), 0);
	ms_ctx_free(ctx);
}

static void test_alias_inside_its_own_target_is_a_reference_cycle(void **state)
{
	/*
	 * The container holds the alias, the alias holds the container: once the
	 * caller drops both, neither is reachable, yet both stay allocated until
	 * the alias is removed or the context is freed (which frees them).
	 */
	ms_ctx *ctx = new_ctx();
	ms_region *c, *al;

	(void)state;
	c = new_container(ctx, "c", 0x2000);
	assert_int_equal(ms_region_new_alias(
				 &al, ctx,
				 &(ms_region_alias_opts){
					 .name = "al", .target = c, .offset = 0, .size = 0x1000}),
			 0);
	assert_int_equal(ms_region_add_subregion(c, 0x1000, al), 0);
	ms_region_unref(al);
	ms_region_unref(c);
	assert_int_equal(live_regions(ctx), 2);
	ms_ctx_free(ctx);
}

/*
 * Rendering depth is bounded by MS_RENDER_MAX_DEPTH (1024) to stop alias
 * loops. A finite shifting chain of 256 levels, or 300 levels of plain
 * nesting, stays within the bound and must render.
 */
static void test_finite_shifting_alias_chain_renders_past_the_depth_bound(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *c, *r, *al;
	strbuf got, expected;
	ms_flatview *fv;
	ms_as *as;
	size_t k;
	int rc;

	(void)state;
	c = new_container(ctx, "c", 0x10000);
	as = new_as(ctx, c, "as");
	r = new_ram(ctx, "r", 0x100);
	assert_int_equal(ms_region_add_subregion(c, 0, r), 0);
	/* Each level shows c again 0x100 higher: 255 levels, then the window is empty. */
	assert_int_equal(ms_region_new_alias(&al, ctx,
					     &(ms_region_alias_opts){.name = "shift",
								     .target = c,
								     .offset = 0,
								     .size = 0xff00}),
			 0);
	rc = ms_region_add_subregion(c, 0x100, al);
	sb_reset(&expected);
	for (k = 0; k < 0x100; k++)
		sb_printf(&expected, "%04zx-%04zx r @0\n", k * 0x100, k * 0x100 + 0xff);
	fv = ms_as_get_flatview(as);
	view_str(&got, fv);
	ms_flatview_unref(fv);
	/* Clean up first, so that a failure below leaks nothing. */
	if (rc == 0)
		assert_int_equal(ms_region_del_subregion(c, al), 0);
	ms_as_free(as);
	ms_region_unref(al);
	ms_region_unref(r);
	ms_region_unref(c);
	assert_int_equal(live_regions(ctx), 0);
	ms_ctx_free(ctx);
	assert_int_equal(rc, 0);
	assert_string_equal(got.text, expected.text);
}

static void test_deep_nesting_without_aliases_renders(void **state)
{
	enum {
		LEVELS = 300
	};
	ms_ctx *ctx = new_ctx();
	ms_region *top, *c, *inner, *r;
	int i, rc = 0, failed_at = -1;
	strbuf sb;
	ms_as *as;

	(void)state;
	top = new_container(ctx, "top", 0x100000);
	as = new_as(ctx, top, "as");
	c = ms_region_ref(top);
	for (i = 0; i < LEVELS && rc == 0; i++) {
		inner = new_container(ctx, "level", 0x100000);
		rc = ms_region_add_subregion(c, 0x10, inner);
		if (rc != 0)
			failed_at = i;
		ms_region_unref(c);
		c = inner;
	}
	r = new_ram(ctx, "r", 0x100);
	if (rc == 0)
		rc = ms_region_add_subregion(c, 0, r);
	ms_region_unref(c);
	as_view_str(&sb, as);
	ms_as_free(as);
	ms_region_unref(r);
	ms_region_unref(top);
	assert_int_equal(live_regions(ctx), 0);
	ms_ctx_free(ctx);
	if (rc != 0)
		fail_msg("adding nesting level %d returned %d, expected 0", failed_at, rc);
	assert_string_equal(sb.text, "12c0-13bf r @0\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alias_covering_its_own_container_is_eloop),
		cmocka_unit_test(test_alias_loop_through_flatview_root_is_eloop),
		cmocka_unit_test(test_alias_loop_through_a_nested_container_is_eloop),
		cmocka_unit_test(test_mutations_that_would_close_an_alias_loop_are_undone),
		cmocka_unit_test(test_alias_loop_outside_any_address_space_is_found_at_as_new),
		cmocka_unit_test(test_shifting_alias_onto_its_own_container_renders),
		cmocka_unit_test(test_alias_inside_its_own_target_is_a_reference_cycle),
		cmocka_unit_test(test_finite_shifting_alias_chain_renders_past_the_depth_bound),
		cmocka_unit_test(test_deep_nesting_without_aliases_renders),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
