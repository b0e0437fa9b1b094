/*
 * test_as.c: address spaces, flat-view sharing and commit cost.
 * Transactions are tested in test_txn.c, flat views in test_flatview.c.
 *
 * Commit cost is observed through ms_ctx_render_count(); view sharing through
 * the identity of the ms_flatview objects that ms_as_get_flatview() returns.
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

/* ---- creation, names, roots ---------------------------------------------- */

static void test_as_new_records_name_root_and_creation_order(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *root = new_container(ctx, "root", 0x1000);
	char name[] = "cpu-memory";
	ms_as *a, *b, *c;

	(void)state;
	assert_int_equal(ms_ctx_nr_as(ctx), 0);
	a = new_as(ctx, root, name);
	name[0] = 'X';
	b = new_as(ctx, root, "dma");
	c = new_as(ctx, root, "io");
	assert_string_equal(ms_as_name(a), "cpu-memory");
	assert_string_equal(ms_as_name(b), "dma");
	assert_ptr_equal(ms_as_root(a), root);
	assert_ptr_equal(ms_as_ctx(a), ctx);
	assert_int_equal(ms_ctx_nr_as(ctx), 3);
	assert_ptr_equal(ms_ctx_as(ctx, 0), a);
	assert_ptr_equal(ms_ctx_as(ctx, 1), b);
	assert_ptr_equal(ms_ctx_as(ctx, 2), c);
	assert_null(ms_ctx_as(ctx, 3));
	ms_as_free(b);
	assert_int_equal(ms_ctx_nr_as(ctx), 2);
	assert_ptr_equal(ms_ctx_as(ctx, 0), a);
	assert_ptr_equal(ms_ctx_as(ctx, 1), c);
	ms_as_free(NULL);
	ms_as_free(a);
	ms_as_free(c);
	assert_int_equal(ms_ctx_nr_as(ctx), 0);
	ms_region_unref(root);
	assert_int_equal(live_regions(ctx), 0);
	ms_ctx_free(ctx);
}

static void test_as_new_refuses_bad_arguments(void **state)
{
	ms_ctx *ctx = new_ctx(), *other = new_ctx();
	ms_region *root = new_container(ctx, "root", 0x1000);
	ms_region *foreign = new_container(other, "foreign", 0x1000);
	ms_as *as;

	(void)state;
	assert_int_equal(ms_as_new(NULL, ctx, root, "x"), -EINVAL);
	as = (ms_as *)&as;
	assert_int_equal(ms_as_new(&as, NULL, root, "x"), -EINVAL);
	assert_null(as);
	as = (ms_as *)&as;
	assert_int_equal(ms_as_new(&as, ctx, NULL, "x"), -EINVAL);
	assert_null(as);
	as = (ms_as *)&as;
	assert_int_equal(ms_as_new(&as, ctx, root, NULL), -EINVAL);
	assert_null(as);
	as = (ms_as *)&as;
	assert_int_equal(ms_as_new(&as, ctx, foreign, "x"), -EXDEV);
	assert_null(as);
	assert_int_equal(ms_ctx_nr_as(ctx), 0);
	assert_int_equal(region_refs(root), 1);
	assert_int_equal(region_refs(foreign), 1);
	ms_region_unref(root);
	ms_region_unref(foreign);
	ms_ctx_free(ctx);
	ms_ctx_free(other);
}

static void test_as_keeps_its_root_alive(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *root = new_container(ctx, "root", 0x10000);
	ms_region *r = new_ram(ctx, "r", 0x1000);
	ms_as *as;
	strbuf sb;

	(void)state;
	assert_int_equal(ms_region_add_subregion(root, 0x1000, r), 0);
	as = new_as(ctx, root, "as");
	ms_region_unref(r);
	ms_region_unref(root);
	assert_int_equal(live_regions(ctx), 2);
	assert_string_equal(as_view_str(&sb, as), "1000-1fff r @0\n");
	assert_ptr_equal(ms_as_root(as), root);
	ms_as_free(as);
	assert_int_equal(live_regions(ctx), 0);
	ms_ctx_free(ctx);
}

static void test_rcu_view_is_the_published_view(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *root = new_container(ctx, "root", 0x10000);
	ms_flatview *held;
	ms_as *as;

	(void)state;
	as = new_as(ctx, root, "as");
	held = ms_as_get_flatview(as);
	ms_rcu_read_lock();
	assert_ptr_equal(ms_as_rcu_view(as), held);
	ms_rcu_read_unlock();
	assert_ptr_equal(ms_flatview_ref(held), held);
	ms_flatview_unref(held);
	ms_flatview_unref(held);
	ms_flatview_unref(NULL);
	ms_as_free(as);
	ms_region_unref(root);
	ms_ctx_free(ctx);
}

/* ---- view sharing by flatview root --------------------------------------- */

static void test_address_spaces_with_one_root_share_one_view(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *root = new_container(ctx, "root", 0x10000);
	ms_region *r = new_ram(ctx, "r", 0x1000);
	const ms_flatview *v1;
	uint64_t renders;
	ms_as *a, *b;

	(void)state;
	assert_int_equal(ms_region_add_subregion(root, 0, r), 0);
	assert_int_equal(ms_region_add_subregion(root, 0x8000, new_io(ctx, "dev", 0x10)), 0);
	ms_region_unref(ms_region_subregion(root, 0));
	a = new_as(ctx, root, "a");
	renders = ms_ctx_render_count(ctx);
	b = new_as(ctx, root, "b");
	assert_int_equal(ms_ctx_render_count(ctx), renders); /* shared, not rendered */
	v1 = view_of(a);
	assert_ptr_equal(view_of(b), v1);
	assert_ptr_equal(ms_flatview_root(v1), root);
	assert_ptr_equal(ms_as_flatview_root(a), root);
	assert_ptr_equal(ms_as_flatview_root(b), root);
	/* A change renders one new view, still shared. */
	assert_int_equal(ms_region_set_address(r, 0x1000), 0);
	assert_int_equal(ms_ctx_render_count(ctx), renders + 1);
	assert_ptr_not_equal(view_of(a), v1);
	assert_ptr_equal(view_of(b), view_of(a));
	ms_as_free(a);
	ms_as_free(b);
	ms_region_unref(r);
	ms_region_unref(root);
	assert_int_equal(live_regions(ctx), 0);
	ms_ctx_free(ctx);
}

static void test_container_with_one_full_alias_shares_the_targets_view(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *sysmem = new_container(ctx, "system", MS_SIZE_2_64);
	ms_region *pci = new_container(ctx, "bus master container", MS_SIZE_2_64);
	ms_region *al = new_alias(ctx, "bus master", sysmem, 0, MS_SIZE_2_64);
	ms_region *r = new_ram(ctx, "ram", 0x1000), *d = new_io(ctx, "dev", 0x100);
	ms_as *sys, *dma;
	uint64_t renders;
	strbuf sb;

	(void)state;
	assert_int_equal(ms_region_add_subregion(sysmem, 0, r), 0);
	assert_int_equal(ms_region_add_subregion(sysmem, 0x10000, d), 0);
	assert_int_equal(ms_region_add_subregion(pci, 0, al), 0);
	sys = new_as(ctx, sysmem, "memory");
	renders = ms_ctx_render_count(ctx);
	dma = new_as(ctx, pci, "pci");
	assert_int_equal(ms_ctx_render_count(ctx), renders);
	assert_ptr_equal(ms_as_flatview_root(dma), sysmem);
	assert_ptr_equal(view_of(dma), view_of(sys));
	assert_string_equal(as_view_str(&sb, dma), "0000-0fff ram @0\n"
						   "10000-100ff dev @0\n");

	/* A window that starts elsewhere is not the whole target: own view. */
	assert_int_equal(ms_region_set_alias_offset(al, 0x10000), 0);
	assert_ptr_equal(ms_as_flatview_root(dma), al);
	assert_ptr_not_equal(view_of(dma), view_of(sys));
	assert_string_equal(as_view_str(&sb, dma), "0000-00ff dev @0\n");
	assert_int_equal(ms_region_set_alias_offset(al, 0), 0);
	assert_ptr_equal(view_of(dma), view_of(sys));

	/* A change under the target re-renders one view for both. */
	renders = ms_ctx_render_count(ctx);
	assert_int_equal(ms_region_set_enabled(d, false), 0);
	assert_int_equal(ms_ctx_render_count(ctx), renders + 1);
	assert_ptr_equal(view_of(dma), view_of(sys));
	assert_string_equal(as_view_str(&sb, dma), "0000-0fff ram @0\n");

	ms_as_free(dma);
	ms_as_free(sys);
	ms_region_unref(al);
	ms_region_unref(pci);
	ms_region_unref(r);
	ms_region_unref(d);
	ms_region_unref(sysmem);
	assert_int_equal(live_regions(ctx), 0);
	ms_ctx_free(ctx);
}

static void test_container_whose_only_alias_is_disabled_has_an_empty_view(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *sysmem = new_container(ctx, "system", MS_SIZE_2_64);
	ms_region *pci = new_container(ctx, "bus master container", MS_SIZE_2_64);
	ms_region *pci2 = new_container(ctx, "other container", MS_SIZE_2_64);
	ms_region *al = new_alias(ctx, "bus master", sysmem, 0, MS_SIZE_2_64);
	ms_region *al2 = new_alias(ctx, "other master", sysmem, 0, MS_SIZE_2_64);
	ms_region *r = new_ram(ctx, "ram", 0x1000), *d = new_io(ctx, "dev", 0x100);
	ms_as *sys, *dma, *dma2;
	ms_flatview *fv;

	(void)state;
	assert_int_equal(ms_region_add_subregion(sysmem, 0, r), 0);
	assert_int_equal(ms_region_add_subregion(sysmem, 0x10000, d), 0);
	assert_int_equal(ms_region_set_enabled(al, false), 0);
	assert_int_equal(ms_region_set_enabled(al2, false), 0);
	assert_int_equal(ms_region_add_subregion(pci, 0, al), 0);
	assert_int_equal(ms_region_add_subregion(pci2, 0, al2), 0);
	sys = new_as(ctx, sysmem, "memory");
	dma = new_as(ctx, pci, "pci");
	dma2 = new_as(ctx, pci2, "pci2");
	assert_null(ms_as_flatview_root(dma));
	fv = ms_as_get_flatview(dma);
	assert_int_equal(ms_flatview_nr_ranges(fv), 0);
	assert_null(ms_flatview_root(fv));
	ms_flatview_unref(fv);
	/* Every address space with no flatview root shares the one empty view. */
	assert_ptr_equal(view_of(dma2), view_of(dma));

	/* Enabling the alias makes the address space follow the target again. */
	assert_int_equal(ms_region_set_enabled(al, true), 0);
	assert_ptr_equal(ms_as_flatview_root(dma), sysmem);
	assert_ptr_equal(view_of(dma), view_of(sys));
	assert_int_equal(ms_region_set_enabled(al, false), 0);
	assert_null(ms_as_flatview_root(dma));
	assert_ptr_equal(view_of(dma), view_of(dma2));

	ms_as_free(dma);
	ms_as_free(dma2);
	ms_as_free(sys);
	ms_region_unref(al);
	ms_region_unref(al2);
	ms_region_unref(pci);
	ms_region_unref(pci2);
	ms_region_unref(r);
	ms_region_unref(d);
	ms_region_unref(sysmem);
	assert_int_equal(live_regions(ctx), 0);
	ms_ctx_free(ctx);
}

static void test_flatview_root_stops_at_containers_that_do_more(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *c = new_container(ctx, "c", 0x10000);
	ms_region *r = new_ram(ctx, "r", 0x1000), *d = new_io(ctx, "d", 0x10);
	ms_as *as;

	(void)state;
	as = new_as(ctx, c, "as");
	assert_null(ms_as_flatview_root(as)); /* no child at all */
	assert_int_equal(ms_region_add_subregion(c, 0, r), 0);
	assert_ptr_equal(ms_as_flatview_root(as), r); /* one child at 0, inside */
	assert_int_equal(ms_region_set_address(r, 0x1000), 0);
	assert_ptr_equal(ms_as_flatview_root(as), c); /* not at 0 */
	assert_int_equal(ms_region_set_address(r, 0), 0);
	assert_int_equal(ms_region_add_subregion(c, 0x8000, d), 0);
	assert_ptr_equal(ms_as_flatview_root(as), c); /* two enabled children */
	assert_int_equal(ms_region_set_enabled(d, false), 0);
	assert_ptr_equal(ms_as_flatview_root(as), r); /* the other is disabled */
	assert_int_equal(ms_region_set_size(c, 0x800), 0);
	assert_ptr_equal(ms_as_flatview_root(as), c); /* the child sticks out */
	assert_int_equal(ms_region_set_enabled(c, false), 0);
	assert_null(ms_as_flatview_root(as)); /* the root itself is disabled */
	ms_as_free(as);
	ms_region_unref(r);
	ms_region_unref(d);
	ms_region_unref(c);
	assert_int_equal(live_regions(ctx), 0);
	ms_ctx_free(ctx);
}

/* ---- ms_as_free ------------------------------------------------------------ */

/* Counts what a listener hears; frees its own address space on demand. */
typedef struct as_free_probe {
	ms_as *as;
	int adds, dels;
	bool free_on_add;
	size_t nr_as_in_callback;
} as_free_probe;

static void probe_add(const ms_section *s, void *opaque)
{
	as_free_probe *p = opaque;

	(void)s;
	p->adds++;
	if (p->free_on_add) {
		p->free_on_add = false;
		ms_as_free(p->as); /* deferred: callbacks are running */
		p->nr_as_in_callback = ms_ctx_nr_as(ms_as_ctx(p->as));
	}
}

static void probe_del(const ms_section *s, void *opaque)
{
	(void)s;
	((as_free_probe *)opaque)->dels++;
}

static const ms_listener_ops probe_ops = {
	.version = MS_LISTENER_OPS_VERSION,
	.region_add = probe_add,
	.region_del = probe_del,
};

static void test_as_free_unregisters_the_listeners_left_on_it(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *root = new_container(ctx, "root", 0x10000);
	as_free_probe on_as = {0}, on_other = {0};
	ms_listener *l, *l_other;
	ms_as *as, *other;

	(void)state;
	place_ram(ctx, root, "a", 0x0000, 0x1000);
	place_ram(ctx, root, "b", 0x4000, 0x1000);
	as = new_as(ctx, root, "as");
	other = new_as(ctx, root, "other");
	assert_int_equal(ms_listener_register(&l, as, &probe_ops, &on_as), 0);
	assert_int_equal(ms_listener_register(&l_other, other, &probe_ops, &on_other), 0);
	assert_int_equal(on_as.adds, 2);
	ms_as_free(as);
	/* Unregistered as by ms_listener_unregister(): a region_del per range. */
	assert_int_equal(on_as.dels, 2);
	assert_int_equal(ms_ctx_nr_as(ctx), 1);
	assert_ptr_equal(ms_ctx_as(ctx, 0), other);
	/* The other space's listener is untouched and still follows changes. */
	assert_int_equal(on_other.dels, 0);
	place_ram(ctx, root, "c", 0x8000, 0x1000);
	assert_int_equal(on_other.adds, 3);
	assert_int_equal(ms_listener_unregister(l_other), 0);
	ms_as_free(other);
	ms_as_free(NULL); /* no-op */
	assert_int_equal(ms_ctx_nr_as(ctx), 0);
	ms_region_unref(root);
	ms_ctx_free(ctx);
}

static void test_as_free_from_a_listener_callback_waits_for_the_callbacks(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *root = new_container(ctx, "root", 0x10000);
	as_free_probe probe = {0};
	ms_listener *l;

	(void)state;
	probe.as = new_as(ctx, root, "as");
	assert_int_equal(ms_listener_register(&l, probe.as, &probe_ops, &probe), 0);
	probe.free_on_add = true;
	place_ram(ctx, root, "a", 0x1000, 0x1000); /* commits: region_add frees the space */
	assert_false(probe.free_on_add);
	assert_int_equal(probe.nr_as_in_callback, 1); /* still there inside the callback */
	assert_int_equal(ms_ctx_nr_as(ctx), 0);       /* gone once the commit returned */
	assert_int_equal(probe.dels, 1);              /* its listener was unregistered */
	assert_int_equal(ms__as_check(ctx), 0);
	ms_region_unref(root);
	ms_ctx_free(ctx);
}

/* ---- commit cost -------------------------------------------------------------- */

static void test_unreachable_mutations_render_nothing(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *root = new_container(ctx, "root", 0x10000);
	ms_region *loose = new_container(ctx, "loose", 0x10000);
	ms_region *r = new_ram(ctx, "r", 0x1000), *d = new_io(ctx, "d", 0x10);
	ms_region *al = new_alias(ctx, "al", loose, 0, 0x1000);
	const ms_flatview *v;
	uint64_t renders;
	ms_as *as;

	(void)state;
	assert_int_equal(ms_region_add_subregion(root, 0, new_io(ctx, "dev", 0x10)), 0);
	ms_region_unref(ms_region_subregion(root, 0));
	as = new_as(ctx, root, "as");
	v = view_of(as);
	renders = ms_ctx_render_count(ctx);
	assert_int_equal(ms_region_add_subregion(loose, 0x100, r), 0);
	assert_int_equal(ms_region_add_subregion_overlap(loose, 0x100, d, 1), 0);
	assert_int_equal(ms_region_set_address(r, 0x200), 0);
	assert_int_equal(ms_region_set_priority(d, 2), 0);
	assert_int_equal(ms_region_set_enabled(r, false), 0);
	assert_int_equal(ms_region_set_readonly(loose, true), 0);
	assert_int_equal(ms_region_set_size(loose, 0x800), 0);
	assert_int_equal(ms_region_set_dirty_log(r, 0, true), 0);
	assert_int_equal(ms_region_set_alias_offset(al, 0x100), 0);
	assert_int_equal(ms_region_del_subregion(loose, d), 0);
	ms_transaction_begin(ctx);
	assert_int_equal(ms_region_set_enabled(r, true), 0);
	assert_int_equal(ms_transaction_commit(ctx), 0);
	assert_int_equal(ms_ctx_render_count(ctx), renders);
	assert_ptr_equal(view_of(as), v);
	ms_as_free(as);
	ms_region_unref(al);
	ms_region_unref(r);
	ms_region_unref(d);
	ms_region_unref(loose);
	ms_region_unref(root);
	assert_int_equal(live_regions(ctx), 0);
	ms_ctx_free(ctx);
}

static void test_change_under_one_root_renders_only_that_view(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *ra = new_container(ctx, "a", 0x10000), *rb = new_container(ctx, "b", 0x10000);
	ms_region *x = new_ram(ctx, "x", 0x1000), *y = new_ram(ctx, "y", 0x1000);
	ms_region *inner = new_container(ctx, "inner", 0x2000);
	const ms_flatview *va, *vb;
	uint64_t renders;
	ms_as *a, *b;
	strbuf sb;

	(void)state;
	assert_int_equal(ms_region_add_subregion(ra, 0x4000, inner), 0);
	assert_int_equal(ms_region_add_subregion(rb, 0, y), 0);
	a = new_as(ctx, ra, "a");
	b = new_as(ctx, rb, "b");
	va = view_of(a);
	vb = view_of(b);
	renders = ms_ctx_render_count(ctx);
	assert_int_equal(ms_region_add_subregion(inner, 0x1000, x), 0);
	assert_int_equal(ms_ctx_render_count(ctx), renders + 1);
	assert_ptr_not_equal(view_of(a), va);
	assert_ptr_equal(view_of(b), vb);
	assert_string_equal(as_view_str(&sb, a), "5000-5fff x @0\n");
	/* And the other way round. */
	va = view_of(a);
	assert_int_equal(ms_region_set_readonly(y, true), 0);
	assert_int_equal(ms_ctx_render_count(ctx), renders + 2);
	assert_ptr_equal(view_of(a), va);
	assert_string_equal(as_view_str(&sb, b), "0000-0fff y @0 ro\n");
	/* One transaction touching both renders both, once each. */
	ms_transaction_begin(ctx);
	assert_int_equal(ms_region_set_readonly(y, false), 0);
	assert_int_equal(ms_region_set_readonly(x, true), 0);
	assert_int_equal(ms_region_set_nonvolatile(x, true), 0);
	assert_int_equal(ms_transaction_commit(ctx), 0);
	assert_int_equal(ms_ctx_render_count(ctx), renders + 4);
	ms_as_free(a);
	ms_as_free(b);
	ms_region_unref(x);
	ms_region_unref(y);
	ms_region_unref(inner);
	ms_region_unref(ra);
	ms_region_unref(rb);
	assert_int_equal(live_regions(ctx), 0);
	ms_ctx_free(ctx);
}

static void test_change_seen_through_an_alias_renders_the_aliasing_view(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *root = new_container(ctx, "root", 0x10000);
	ms_region *lib = new_container(ctx, "lib", 0x1000);
	ms_region *al = new_alias(ctx, "al", lib, 0, 0x1000), *r = new_ram(ctx, "r", 0x100);
	uint64_t renders;
	ms_as *as;
	strbuf sb;

	(void)state;
	assert_int_equal(ms_region_add_subregion(root, 0x3000, al), 0);
	assert_int_equal(ms_region_add_subregion(root, 0, new_io(ctx, "dev", 0x10)), 0);
	ms_region_unref(ms_region_subregion(root, 0));
	as = new_as(ctx, root, "as");
	renders = ms_ctx_render_count(ctx);
	/* lib is in no container: only the alias reaches it. */
	assert_int_equal(ms_region_add_subregion(lib, 0x80, r), 0);
	assert_int_equal(ms_ctx_render_count(ctx), renders + 1);
	assert_string_equal(as_view_str(&sb, as), "0000-000f dev @0\n"
						  "3080-317f r @0\n");
	ms_as_free(as);
	ms_region_unref(r);
	ms_region_unref(al);
	ms_region_unref(lib);
	ms_region_unref(root);
	assert_int_equal(live_regions(ctx), 0);
	ms_ctx_free(ctx);
}

/* ---- ms_as_new inside a transaction ------------------------------------------------ */

static void test_as_new_inside_a_transaction_has_a_view_at_once(void **state)
{
	/* as.h: "The address space's view is rendered (or shared) at once." */
	ms_ctx *ctx = new_ctx();
	ms_region *root = new_container(ctx, "root", 0x10000);
	ms_region *r = new_ram(ctx, "r", 0x1000);
	bool had_view;
	size_t nr = 0;
	ms_as *as;

	(void)state;
	assert_int_equal(ms_region_add_subregion(root, 0, r), 0);
	ms_transaction_begin(ctx);
	assert_int_equal(ms_as_new(&as, ctx, root, "as"), 0);
	/* Reading the new address space inside the transaction must be safe
	 * (ms_as_get_flatview() on a NULL view crashes, so look first). */
	had_view = as->view != NULL;
	if (had_view) {
		ms_flatview *fv = ms_as_get_flatview(as);

		nr = ms_flatview_nr_ranges(fv);
		ms_flatview_unref(fv);
	}
	assert_int_equal(ms_transaction_commit(ctx), 0);
	ms_as_free(as);
	ms_region_unref(r);
	ms_region_unref(root);
	ms_ctx_free(ctx);
	assert_true(had_view);
	assert_int_equal(nr, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_as_new_records_name_root_and_creation_order),
		cmocka_unit_test(test_as_new_refuses_bad_arguments),
		cmocka_unit_test(test_as_keeps_its_root_alive),
		cmocka_unit_test(test_rcu_view_is_the_published_view),
		cmocka_unit_test(test_address_spaces_with_one_root_share_one_view),
		cmocka_unit_test(test_container_with_one_full_alias_shares_the_targets_view),
		cmocka_unit_test(test_container_whose_only_alias_is_disabled_has_an_empty_view),
		cmocka_unit_test(test_flatview_root_stops_at_containers_that_do_more),
		cmocka_unit_test(test_as_free_unregisters_the_listeners_left_on_it),
		cmocka_unit_test(test_as_free_from_a_listener_callback_waits_for_the_callbacks),
		cmocka_unit_test(test_unreachable_mutations_render_nothing),
		cmocka_unit_test(test_change_under_one_root_renders_only_that_view),
		cmocka_unit_test(test_change_seen_through_an_alias_renders_the_aliasing_view),
		cmocka_unit_test(test_as_new_inside_a_transaction_has_a_view_at_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
