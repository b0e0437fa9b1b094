/*
 * test_region_edit.c: the calls that change the tree (region_edit.c): add and
 * del subregion, the property setters, their errors, and the subregion list
 * order they maintain.
 *
 * Every misuse test takes a text snapshot of the tree (list order, addresses,
 * priorities, container back pointers) and of the published flat view before
 * the bad call and compares it afterwards: a refused call changes nothing.
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

/* ---- a small machine for the misuse tests -------------------------------- */

/*
 * root (container 0x10000, address space "as")
 *   ram0  RAM 0x1000 at 0
 *   box   container 0x1000 at 0x2000
 *     dev  I/O 0x100 at 0
 *   al    alias of ram0 (offset 0, 0x1000) at 0x4000
 * loose: an I/O region in no container.
 */
typedef struct world {
	ms_ctx *ctx;
	ms_region *root, *ram0, *box, *dev, *al, *loose;
	ms_as *as;
	strbuf before, after;
} world;

static const char world_view[] = "0000-0fff ram0 @0\n"
				 "2000-20ff dev @0\n"
				 "4000-4fff ram0 @0\n";

static int world_setup(void **state)
{
	world *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	w->ctx = new_ctx();
	w->root = new_container(w->ctx, "root", 0x10000);
	assert_int_equal(ms_region_new_ram(&w->ram0, w->ctx, "ram0", 0x1000), 0);
	w->box = new_container(w->ctx, "box", 0x1000);
	assert_int_equal(ms_region_new_io(&w->dev, w->ctx,
					  &(ms_region_io_opts){
						  .name = "dev", .size = 0x100, .ops = nop_ops()}),
			 0);
	assert_int_equal(ms_region_new_alias(&w->al, w->ctx,
					     &(ms_region_alias_opts){.name = "al",
								     .target = w->ram0,
								     .offset = 0,
								     .size = 0x1000}),
			 0);
	assert_int_equal(
		ms_region_new_io(&w->loose, w->ctx,
				 &(ms_region_io_opts){.name = "loose", .size = 0x100, .ops = NULL}),
		0);
	w->as = new_as(w->ctx, w->root, "as");
	assert_int_equal(ms_region_add_subregion(w->root, 0, w->ram0), 0);
	assert_int_equal(ms_region_add_subregion(w->box, 0, w->dev), 0);
	assert_int_equal(ms_region_add_subregion(w->root, 0x2000, w->box), 0);
	assert_int_equal(ms_region_add_subregion(w->root, 0x4000, w->al), 0);
	assert_string_equal(as_view_str(&w->before, w->as), world_view);
	*state = w;
	return 0;
}

static int world_teardown(void **state)
{
	world *w = *state;

	ms_as_free(w->as);
	ms_region_unref(w->loose);
	ms_region_unref(w->al);
	ms_region_unref(w->dev);
	ms_region_unref(w->box);
	ms_region_unref(w->ram0);
	ms_region_unref(w->root);
	assert_int_equal(live_regions(w->ctx), 0);
	ms_ctx_free(w->ctx);
	free(w);
	return 0;
}

/* Tree, loose region and published view, as one string. */
static const char *world_snapshot(strbuf *sb, world *w)
{
	strbuf tmp;

	sb_reset(sb);
	sb_printf(sb, "%s\n", tree_str(&tmp, w->root));
	sb_printf(sb, "loose in %s at %" PRIx64 "/%d\n",
		  ms_region_container(w->loose) ? ms_region_name(ms_region_container(w->loose))
						: "-",
		  ms_region_addr(w->loose), ms_region_priority(w->loose));
	sb_printf(sb, "%s", as_view_str(&tmp, w->as));
	assert_int_equal(w->ctx->nr_touched, 0); /* no change left pending */
	return sb->text;
}

static void test_world_tree_and_view(void **state)
{
	world *w = *state;
	strbuf sb;

	assert_string_equal(tree_str(&sb, w->root),
			    "root@0/0{al@4000/0,box@2000/0{dev@0/0},ram0@0/0}");
	assert_ptr_equal(ms_region_container(w->dev), w->box);
	assert_ptr_equal(ms_region_container(w->box), w->root);
	assert_null(ms_region_container(w->root));
}

static void test_add_region_that_has_a_container_is_ebusy(void **state)
{
	world *w = *state;

	EXPECT_REFUSED(w, ms_region_add_subregion(w->root, 0x8000, w->dev), -EBUSY);
	EXPECT_REFUSED(w, ms_region_add_subregion_overlap(w->box, 0x80, w->dev, 3), -EBUSY);
	EXPECT_REFUSED(w, ms_region_add_subregion(w->box, 0x800, w->ram0), -EBUSY);
	assert_ptr_equal(ms_region_container(w->dev), w->box);
}

static void test_add_subregion_to_an_alias_is_einval(void **state)
{
	world *w = *state;

	EXPECT_REFUSED(w, ms_region_add_subregion(w->al, 0, w->loose), -EINVAL);
	assert_null(ms_region_container(w->loose));
	assert_int_equal(ms_region_nr_subregions(w->al), 0);
}

static void test_add_region_to_itself_is_einval(void **state)
{
	world *w = *state;

	EXPECT_REFUSED(w, ms_region_add_subregion(w->loose, 0, w->loose), -EINVAL);
	EXPECT_REFUSED(w, ms_region_add_subregion(w->box, 0, w->box), -EINVAL);
}

static void test_add_region_into_its_own_descendant_is_eloop(void **state)
{
	world *w = *state;
	ms_region *a, *b, *c;
	strbuf sb;

	/* root is the container of box: root into box would be a cycle. */
	EXPECT_REFUSED(w, ms_region_add_subregion(w->box, 0x10, w->root), -ELOOP);
	/* A three-level chain outside any address space. */
	a = new_container(w->ctx, "a", 0x100);
	b = new_container(w->ctx, "b", 0x100);
	c = new_container(w->ctx, "c", 0x100);
	assert_int_equal(ms_region_add_subregion(a, 0, b), 0);
	assert_int_equal(ms_region_add_subregion(b, 0, c), 0);
	EXPECT_REFUSED(w, ms_region_add_subregion(c, 0, a), -ELOOP);
	assert_string_equal(tree_str(&sb, a), "a@0/0{b@0/0{c@0/0}}");
	assert_null(ms_region_container(a));
	ms_region_unref(c);
	ms_region_unref(b);
	ms_region_unref(a);
}

static void test_regions_of_two_contexts_never_mix(void **state)
{
	world *w = *state;
	ms_ctx *other = new_ctx();
	ms_region *foreign, *alias = (ms_region *)&alias;
	ms_as *as = (ms_as *)&as;

	foreign = new_container(other, "foreign", 0x100);
	EXPECT_REFUSED(w, ms_region_add_subregion(w->root, 0x8000, foreign), -EXDEV);
	EXPECT_REFUSED(w, ms_region_add_subregion(foreign, 0, w->loose), -EXDEV);
	EXPECT_REFUSED(w, ms_region_add_subregion_overlap(foreign, 0, w->loose, 1), -EXDEV);
	EXPECT_REFUSED(w, ms_region_del_subregion(foreign, w->ram0), -EXDEV);
	EXPECT_REFUSED(w,
		       ms_region_new_alias(
			       &alias, w->ctx,
			       &(ms_region_alias_opts){
				       .name = "x", .target = foreign, .offset = 0, .size = 0x10}),
		       -EXDEV);
	assert_null(alias);
	EXPECT_REFUSED(w, ms_as_new(&as, w->ctx, foreign, "x"), -EXDEV);
	assert_null(as);
	assert_int_equal(ms_ctx_nr_as(w->ctx), 1);
	assert_int_equal(ms_ctx_nr_as(other), 0);
	assert_int_equal(ms_region_nr_subregions(foreign), 0);
	assert_int_equal(region_refs(foreign), 1);
	ms_region_unref(foreign);
	assert_int_equal(live_regions(other), 0);
	ms_ctx_free(other);
}

static void test_del_of_a_non_child_is_enoent(void **state)
{
	world *w = *state;

	EXPECT_REFUSED(w, ms_region_del_subregion(w->root, w->loose), -ENOENT);
	EXPECT_REFUSED(w, ms_region_del_subregion(w->root, w->dev), -ENOENT); /* grandchild */
	EXPECT_REFUSED(w, ms_region_del_subregion(w->box, w->ram0), -ENOENT); /* sibling's */
	EXPECT_REFUSED(w, ms_region_del_subregion(w->root, w->root), -ENOENT);
}

static void test_property_setters_refuse_wrong_kinds(void **state)
{
	world *w = *state;

	EXPECT_REFUSED(w, ms_region_set_alias_offset(w->ram0, 0x10), -EINVAL);
	EXPECT_REFUSED(w, ms_region_set_alias_offset(w->box, 0x10), -EINVAL);
	EXPECT_REFUSED(w, ms_region_set_romd(w->ram0, false), -EINVAL);
	EXPECT_REFUSED(w, ms_region_set_romd(w->dev, true), -EINVAL);
	EXPECT_REFUSED(w, ms_region_set_size(w->ram0, 0x2000), -EINVAL);
	EXPECT_REFUSED(w, ms_region_set_size(w->ram0, 0x800), -EINVAL);
	EXPECT_REFUSED(w, ms_region_set_size(w->ram0, 0), -EINVAL);
	EXPECT_REFUSED(w, ms_region_set_priority(w->loose, 1), -EINVAL);
	EXPECT_REFUSED(w, ms_region_set_priority(w->root, 0), -EINVAL);
	assert_int_equal(ms_region_priority(w->loose), 0);
	assert_int_equal(ms_region_size(w->ram0), 0x1000);
	assert_false(ms_region_romd(w->ram0));
	/* Setting RAM to its own size is not a change. */
	EXPECT_REFUSED(w, ms_region_set_size(w->ram0, 0x1000), 0);
}

static void test_memory_kinds_cannot_be_resized(void **state)
{
	static char buf[0x100];
	ms_ctx *ctx = new_ctx();
	ms_region *r[5];
	size_t i;

	(void)state;
	assert_int_equal(ms_region_new_ram(&r[0], ctx, "ram", 0x100), 0);
	assert_int_equal(ms_region_new_rom(&r[1], ctx, "rom", 0x100), 0);
	assert_int_equal(
		ms_region_new_rom_device(
			&r[2], ctx,
			&(ms_region_io_opts){.name = "romd", .size = 0x100, .ops = nop_ops()}),
		0);
	assert_int_equal(ms_region_new_ram_device(&r[3], ctx, "ramd", 0x100, buf), 0);
	assert_int_equal(ms_region_new_ram_ptr(&r[4], ctx, "ramp", 0x100, buf), 0);
	for (i = 0; i < 5; i++) {
		assert_int_equal(ms_region_set_size(r[i], 0x200), -EINVAL);
		assert_int_equal(ms_region_set_size(r[i], MS_SIZE_2_64), -EINVAL);
		assert_int_equal(ms_region_size(r[i]), 0x100);
		ms_region_unref(r[i]);
	}
	ms_ctx_free(ctx);
}

static void test_resizable_kinds_accept_any_size(void **state)
{
	world *w = *state;

	assert_int_equal(ms_region_set_size(w->box, 0), 0);
	assert_int_equal(ms_region_size(w->box), 0);
	assert_int_equal(ms_region_set_size(w->dev, MS_SIZE_2_64), 0);
	assert_int_equal(ms_region_size(w->dev), MS_SIZE_2_64);
	assert_int_equal(ms_region_set_size(w->al, 0x800), 0);
	assert_int_equal(ms_region_size(w->al), 0x800);
	assert_string_equal(as_view_str(&w->after, w->as), "0000-0fff ram0 @0\n"
							   "4000-47ff ram0 @0\n");
	assert_int_equal(ms_region_set_size(w->box, 0x100), 0);
	assert_string_equal(as_view_str(&w->after, w->as), "0000-0fff ram0 @0\n"
							   "2000-20ff dev @0\n"
							   "4000-47ff ram0 @0\n");
}

static void test_dirty_log_only_on_ram_backed_regions_and_clients_0_to_7(void **state)
{
	world *w = *state;
	ms_region *iommu;

	assert_int_equal(
		ms_iommu_new(&iommu, w->ctx, &(ms_iommu_opts){.name = "iommu", .size = 0x1000}), 0);
	EXPECT_REFUSED(w, ms_region_set_dirty_log(w->dev, 0, true), -EINVAL);
	EXPECT_REFUSED(w, ms_region_set_dirty_log(w->box, 0, true), -EINVAL);
	EXPECT_REFUSED(w, ms_region_set_dirty_log(w->al, 0, true), -EINVAL);
	EXPECT_REFUSED(w, ms_region_set_dirty_log(w->root, 0, true), -EINVAL);
	EXPECT_REFUSED(w, ms_region_set_dirty_log(iommu, 0, true), -EINVAL);
	EXPECT_REFUSED(w, ms_region_set_dirty_log(w->ram0, 8, true), -EINVAL);
	EXPECT_REFUSED(w, ms_region_set_dirty_log(w->ram0, 8, false), -EINVAL);
	EXPECT_REFUSED(w, ms_region_set_dirty_log(NULL, 0, true), -EINVAL);
	assert_int_equal(ms_region_set_dirty_log(w->ram0, 7, true), 0);
	assert_string_equal(as_view_str(&w->after, w->as), "0000-0fff ram0 @0 log=80\n"
							   "2000-20ff dev @0\n"
							   "4000-4fff ram0 @0 log=80\n");
	ms_region_unref(iommu);
}

static void test_mutations_refuse_null(void **state)
{
	world *w = *state;

	EXPECT_REFUSED(w, ms_region_add_subregion(NULL, 0, w->loose), -EINVAL);
	EXPECT_REFUSED(w, ms_region_add_subregion(w->root, 0, NULL), -EINVAL);
	EXPECT_REFUSED(w, ms_region_add_subregion_overlap(NULL, 0, NULL, 0), -EINVAL);
	EXPECT_REFUSED(w, ms_region_del_subregion(NULL, w->ram0), -EINVAL);
	EXPECT_REFUSED(w, ms_region_del_subregion(w->root, NULL), -EINVAL);
	EXPECT_REFUSED(w, ms_region_set_address(NULL, 0), -EINVAL);
	EXPECT_REFUSED(w, ms_region_set_size(NULL, 0), -EINVAL);
	EXPECT_REFUSED(w, ms_region_set_enabled(NULL, false), -EINVAL);
	EXPECT_REFUSED(w, ms_region_set_readonly(NULL, true), -EINVAL);
	EXPECT_REFUSED(w, ms_region_set_nonvolatile(NULL, true), -EINVAL);
	EXPECT_REFUSED(w, ms_region_set_unmergeable(NULL, true), -EINVAL);
	EXPECT_REFUSED(w, ms_region_set_alias_offset(NULL, 0), -EINVAL);
	EXPECT_REFUSED(w, ms_region_set_romd(NULL, true), -EINVAL);
	EXPECT_REFUSED(w, ms_region_set_priority(NULL, 1), -EINVAL);
}

/* ---- subregion list order ----------------------------------------------- */

static void test_subregions_are_sorted_by_priority_descending(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *c, *a, *b, *m, *d, *e;
	strbuf sb;

	(void)state;
	c = new_container(ctx, "c", 0x1000);
	a = new_io(ctx, "a", 0x10);
	b = new_io(ctx, "b", 0x10);
	m = new_io(ctx, "m", 0x10);
	d = new_io(ctx, "d", 0x10);
	e = new_io(ctx, "e", 0x10);
	assert_int_equal(ms_region_add_subregion_overlap(c, 0x000, a, 0), 0);
	assert_int_equal(ms_region_add_subregion_overlap(c, 0x100, b, 5), 0);
	assert_int_equal(ms_region_add_subregion_overlap(c, 0x200, m, -1), 0);
	assert_int_equal(ms_region_add_subregion_overlap(c, 0x300, d, 5), 0);
	assert_int_equal(ms_region_add_subregion(c, 0x400, e), 0);
	assert_string_equal(subs_str(&sb, c), "d,b,e,a,m");
	assert_int_equal(ms_region_priority(b), 5);
	assert_int_equal(ms_region_priority(m), -1);
	assert_int_equal(ms_region_addr(d), 0x300);
	ms_region_unref(a);
	ms_region_unref(b);
	ms_region_unref(m);
	ms_region_unref(d);
	ms_region_unref(e);
	ms_region_unref(c);
	assert_int_equal(live_regions(ctx), 0);
	ms_ctx_free(ctx);
}

static void test_equal_priority_later_added_wins_the_overlap(void **state)
{
	rig m = rig_new(0x10000);
	ms_region *first, *second, *low;
	strbuf sb;

	(void)state;
	first = new_ram(m.ctx, "first", 0x2000);
	second = new_ram(m.ctx, "second", 0x1000);
	low = new_ram(m.ctx, "low", 0x4000);
	assert_int_equal(ms_region_add_subregion(m.root, 0, first), 0);
	assert_int_equal(ms_region_add_subregion(m.root, 0x1800, second), 0);
	assert_int_equal(ms_region_add_subregion_overlap(m.root, 0, low, -1), 0);
	assert_string_equal(subs_str(&sb, m.root), "second,first,low");
	assert_string_equal(as_view_str(&sb, m.as), "0000-17ff first @0\n"
						    "1800-27ff second @0\n"
						    "2800-3fff low @2800\n");
	ms_region_unref(first);
	ms_region_unref(second);
	ms_region_unref(low);
	rig_free(&m);
}

static void test_set_address_readds_in_front_of_equal_priorities(void **state)
{
	rig m = rig_new(0x10000);
	ms_region *a, *b, *c, *hi;
	strbuf sb;

	(void)state;
	a = new_ram(m.ctx, "a", 0x1000);
	b = new_ram(m.ctx, "b", 0x1000);
	c = new_ram(m.ctx, "c", 0x1000);
	hi = new_io(m.ctx, "hi", 0x10);
	assert_int_equal(ms_region_add_subregion_overlap(m.root, 0x8000, hi, 1), 0);
	assert_int_equal(ms_region_add_subregion(m.root, 0x0000, a), 0);
	assert_int_equal(ms_region_add_subregion(m.root, 0x2000, b), 0);
	assert_int_equal(ms_region_add_subregion(m.root, 0x4000, c), 0);
	assert_string_equal(subs_str(&sb, m.root), "hi,c,b,a");
	/* Moving a onto b: a is re-added, so it is first among equals and wins. */
	assert_int_equal(ms_region_set_address(a, 0x2800), 0);
	assert_int_equal(ms_region_addr(a), 0x2800);
	assert_string_equal(subs_str(&sb, m.root), "hi,a,c,b");
	assert_string_equal(as_view_str(&sb, m.as), "2000-27ff b @0\n"
						    "2800-37ff a @0\n"
						    "4000-4fff c @0\n"
						    "8000-800f hi @0\n");
	/* The same address is no move: the order stays. */
	assert_int_equal(ms_region_set_address(b, 0x2000), 0);
	assert_string_equal(subs_str(&sb, m.root), "hi,a,c,b");
	/* Moving b re-adds it in front of a (never in front of a higher priority). */
	assert_int_equal(ms_region_set_address(b, 0x3000), 0);
	assert_string_equal(subs_str(&sb, m.root), "hi,b,a,c");
	assert_string_equal(as_view_str(&sb, m.as), "2800-2fff a @0\n"
						    "3000-3fff b @0\n"
						    "4000-4fff c @0\n"
						    "8000-800f hi @0\n");
	/* A region without a container just records its address. */
	assert_int_equal(ms_region_del_subregion(m.root, c), 0);
	assert_int_equal(ms_region_set_address(c, 0x1234), 0);
	assert_int_equal(ms_region_addr(c), 0x1234);
	assert_null(ms_region_container(c));
	ms_region_unref(a);
	ms_region_unref(b);
	ms_region_unref(c);
	ms_region_unref(hi);
	rig_free(&m);
}

static void test_set_priority_reorders_siblings(void **state)
{
	rig m = rig_new(0x10000);
	ms_region *a, *b, *c;
	strbuf sb;

	(void)state;
	a = new_ram(m.ctx, "a", 0x1000);
	b = new_ram(m.ctx, "b", 0x1000);
	c = new_ram(m.ctx, "c", 0x1000);
	assert_int_equal(ms_region_add_subregion_overlap(m.root, 0, a, 2), 0);
	assert_int_equal(ms_region_add_subregion_overlap(m.root, 0, b, 1), 0);
	assert_int_equal(ms_region_add_subregion_overlap(m.root, 0, c, 0), 0);
	assert_string_equal(subs_str(&sb, m.root), "a,b,c");
	assert_string_equal(as_view_str(&sb, m.as), "0000-0fff a @0\n");
	assert_int_equal(ms_region_set_priority(c, 10), 0);
	assert_int_equal(ms_region_priority(c), 10);
	assert_string_equal(subs_str(&sb, m.root), "c,a,b");
	assert_string_equal(as_view_str(&sb, m.as), "0000-0fff c @0\n");
	/* Equal to a's priority: re-added, so in front of a. */
	assert_int_equal(ms_region_set_priority(b, 2), 0);
	assert_string_equal(subs_str(&sb, m.root), "c,b,a");
	assert_int_equal(ms_region_set_priority(c, -3), 0);
	assert_string_equal(subs_str(&sb, m.root), "b,a,c");
	assert_string_equal(as_view_str(&sb, m.as), "0000-0fff b @0\n");
	/* Same priority: no change, no reorder. */
	assert_int_equal(ms_region_set_priority(a, 2), 0);
	assert_string_equal(subs_str(&sb, m.root), "b,a,c");
	ms_region_unref(a);
	ms_region_unref(b);
	ms_region_unref(c);
	rig_free(&m);
}

#define WORLD_TEST(f) cmocka_unit_test_setup_teardown(f, world_setup, world_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		WORLD_TEST(test_world_tree_and_view),
		WORLD_TEST(test_add_region_that_has_a_container_is_ebusy),
		WORLD_TEST(test_add_subregion_to_an_alias_is_einval),
		WORLD_TEST(test_add_region_to_itself_is_einval),
		WORLD_TEST(test_add_region_into_its_own_descendant_is_eloop),
		WORLD_TEST(test_regions_of_two_contexts_never_mix),
		WORLD_TEST(test_del_of_a_non_child_is_enoent),
		WORLD_TEST(test_property_setters_refuse_wrong_kinds),
		cmocka_unit_test(test_memory_kinds_cannot_be_resized),
		WORLD_TEST(test_resizable_kinds_accept_any_size),
		WORLD_TEST(test_dirty_log_only_on_ram_backed_regions_and_clients_0_to_7),
		WORLD_TEST(test_mutations_refuse_null),
		cmocka_unit_test(test_subregions_are_sorted_by_priority_descending),
		cmocka_unit_test(test_equal_priority_later_added_wins_the_overlap),
		cmocka_unit_test(test_set_address_readds_in_front_of_equal_priorities),
		cmocka_unit_test(test_set_priority_reorders_siblings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
