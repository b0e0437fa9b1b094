/*
 * test_resolve.c: the resolve walk (src/resolve.c) on its own: the pieces
 * it hands out and their order across ranges, IOMMU pages and holes, when
 * it translates, what it records of the path, stopping early, the last
 * piece handed back, failed translations, the top of the address space,
 * and ms__resolve().
 *
 * Layout of the fixture: address space "mem" is RAM at 0 (1 MiB). Address
 * space "dma" has the test IOMMU (test_iommu_support.h: 64 pages of 4 KiB,
 * into "mem") at 0, a hole up to 0x50000, RAM "tail" (4 KiB) at 0x50000 and
 * RAM "top" in the last 4 KiB of the address space.
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

#include "resolve.h"
#include "test_iommu_support.h"

#define ATTRS MS_ATTRS_UNSPECIFIED
#define PAGE 0x1000u
#define IOMMU_END ((uint64_t)PT_PAGES * PAGE)
#define TAIL 0x50000u
#define TOP (UINT64_MAX - 0xfff)

typedef struct fixture {
	ms_ctx *ctx;
	ms_region *memroot, *ram, *dmaroot, *tail, *top;
	ms_as *mem, *dma;
	test_iommu t;
	strbuf sb;
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->ctx = new_ctx();
	assert_int_equal(ms_region_new_container(&f->memroot, f->ctx, "memroot", MS_SIZE_2_64), 0);
	assert_int_equal(ms_region_new_ram(&f->ram, f->ctx, "ram", 0x100000), 0);
	assert_int_equal(ms_region_add_subregion(f->memroot, 0, f->ram), 0);
	assert_int_equal(ms_as_new(&f->mem, f->ctx, f->memroot, "mem"), 0);
	assert_int_equal(ms_region_new_container(&f->dmaroot, f->ctx, "dmaroot", MS_SIZE_2_64), 0);
	assert_int_equal(ms_as_new(&f->dma, f->ctx, f->dmaroot, "dma"), 0);
	pt_init(&f->t, f->ctx, "iommu", IOMMU_END, f->mem, 1);
	assert_int_equal(ms_region_add_subregion(f->dmaroot, 0, f->t.region), 0);
	assert_int_equal(ms_region_new_ram(&f->tail, f->ctx, "tail", PAGE), 0);
	assert_int_equal(ms_region_add_subregion(f->dmaroot, TAIL, f->tail), 0);
	assert_int_equal(ms_region_new_ram(&f->top, f->ctx, "top", PAGE), 0);
	assert_int_equal(ms_region_add_subregion(f->dmaroot, TOP, f->top), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	ms_region_unref(f->t.region);
	ms_region_unref(f->ram);
	ms_region_unref(f->tail);
	ms_region_unref(f->top);
	ms_region_unref(f->memroot);
	ms_region_unref(f->dmaroot);
	ms_ctx_free(f->ctx);
	free(f);
	return 0;
}

/* ---- a recording walk ------------------------------------------------------------- */

typedef struct recording {
	fixture *f;
	strbuf *sb;
	unsigned pieces;
	unsigned stop_after; /* return 1 from this piece on; 0: never */
} recording;

/*
 * One line per piece: kind, depth (when recorded), region, address and
 * length, byte of the walk, stretch, and how many translations the IOMMU
 * had made when the piece arrived.
 */
static int record_piece(const ms__piece *p, void *arg)
{
	static const char *const kinds[] = {"range", "hole", "fault"};
	recording *rec = arg;

	rec->pieces++;
	sb_printf(rec->sb, "%s", kinds[p->kind]);
	if (p->level)
		sb_printf(rec->sb, " d%u", p->level->depth);
	if (p->range)
		sb_printf(rec->sb, " %s", p->range->region->name);
	if (p->kind == MS__PIECE_FAULT)
		sb_printf(rec->sb, " %d", p->error);
	sb_printf(rec->sb, " %" PRIx64 "+%" PRIx64 " @%" PRIx64 " s%" PRIx64 " t%u\n", p->addr,
		  p->len, p->pos, p->stretch,
		  __atomic_load_n(&rec->f->t.translations, __ATOMIC_RELAXED));
	return rec->stop_after && rec->pieces >= rec->stop_after;
}

/* Walk @len bytes at @addr of "dma" for a read; the pieces as text. */
static const char *walk_str(fixture *f, uint64_t addr, uint64_t len, bool record,
			    unsigned stop_after, int *rc)
{
	recording rec = {f, &f->sb, 0, stop_after};
	ms__walk w = {false, ATTRS, record, NULL, record_piece, &rec, NULL};
	int ret;

	sb_reset(&f->sb);
	f->t.translations = 0;
	ms__rcu_read_lock();
	ret = ms__resolve_walk(&w, f->dma, ms__deref(f->dma->view), addr, len);
	ms__rcu_read_unlock();
	if (rc)
		*rc = ret;
	return f->sb.text;
}

/* ---- pieces and their order --------------------------------------------------------- */

static void test_walk_splits_at_iommu_pages_and_translates_each_in_turn(void **state)
{
	fixture *f = *state;
	int rc;

	f->t.table[0][1] = (pte){0x5000, MS_IOMMU_RW};
	f->t.table[0][2] = (pte){0x9000, MS_IOMMU_RW};
	/* Page 2 is translated only after the piece of page 1 was handed out. */
	assert_string_equal(walk_str(f, 2 * PAGE - 4, 8, false, 0, &rc),
			    "range ram 5ffc+4 @0 s4 t1\n"
			    "range ram 9000+4 @4 s4 t2\n");
	assert_int_equal(rc, 0);
}

static void test_walk_goes_on_through_a_hole_to_the_next_range(void **state)
{
	fixture *f = *state;

	f->t.table[0][PT_PAGES - 1] = (pte){0x7000, MS_IOMMU_RW};
	assert_string_equal(walk_str(f, IOMMU_END - 8, 8 + (TAIL - IOMMU_END) + 8, false, 0, NULL),
			    "range ram 7ff8+8 @0 s8 t1\n"
			    "hole 40000+10000 @8 s10008 t1\n"
			    "range tail 50000+8 @10008 s8 t1\n");
}

static void test_walk_stretch_is_not_clamped_to_the_range(void **state)
{
	fixture *f = *state;

	/* The range ends at 0x50fff; the stretch counts every byte asked for. */
	assert_string_equal(walk_str(f, TAIL + PAGE - 4, 12, false, 0, NULL),
			    "range tail 50ffc+4 @0 sc t0\n"
			    "hole 51000+8 @4 s8 t0\n");
}

static void test_walk_stops_when_the_callback_says_so(void **state)
{
	fixture *f = *state;
	int rc;

	f->t.table[0][1] = (pte){0x5000, MS_IOMMU_RW};
	f->t.table[0][2] = (pte){0x9000, MS_IOMMU_RW};
	assert_string_equal(walk_str(f, 2 * PAGE - 4, 8, false, 1, &rc),
			    "range ram 5ffc+4 @0 s4 t1\n");
	assert_int_equal(rc, 1);
	assert_int_equal(f->t.translations, 1); /* page 2 never translated */
}

static void test_walk_fault_takes_the_rest_of_the_iommu_range(void **state)
{
	fixture *f = *state;

	/* Page 62 is unmapped: the fault covers pages 62 and 63, untranslated. */
	f->t.table[0][PT_PAGES - 1] = (pte){0x7000, MS_IOMMU_RW};
	assert_string_equal(walk_str(f, IOMMU_END - 2 * PAGE, 2 * PAGE + 16, true, 0, NULL),
			    "fault d0 iommu -13 3e000+2000 @0 s2000 t1\n"
			    "hole d0 40000+10 @2000 s10 t1\n");
}

static void test_walk_stops_at_the_top_of_the_address_space(void **state)
{
	fixture *f = *state;

	assert_string_equal(walk_str(f, UINT64_MAX - 7, 16, false, 0, NULL),
			    "range top fffffffffffffff8+8 @0 s10 t0\n"
			    "hole 0+8 @8 s8 t0\n");
}

static void test_walk_uses_the_range_the_caller_found(void **state)
{
	fixture *f = *state;
	recording rec = {f, &f->sb, 0, 0};
	ms__walk w = {false, ATTRS, false, NULL, record_piece, &rec, NULL};
	const ms_flatview *view;

	sb_reset(&f->sb);
	ms__rcu_read_lock();
	view = ms__deref(f->dma->view);
	w.first = ms__dispatch_lookup(view, TAIL);
	assert_non_null(w.first);
	assert_int_equal(ms__resolve_walk(&w, f->dma, view, TAIL, 4), 0);
	ms__rcu_read_unlock();
	assert_string_equal(f->sb.text, "range tail 50000+4 @0 s4 t0\n");
}

static void test_walk_hands_the_last_piece_back(void **state)
{
	fixture *f = *state;
	recording rec = {f, &f->sb, 0, 0};
	ms__piece last = {.kind = MS__PIECE_FAULT};
	ms__walk w = {false, ATTRS, true, NULL, record_piece, &rec, &last};

	f->t.table[0][1] = (pte){0x5000, MS_IOMMU_RW};
	f->t.table[0][2] = (pte){0x9000, MS_IOMMU_RW};
	sb_reset(&f->sb);
	f->t.translations = 0;
	ms__rcu_read_lock();
	assert_int_equal(ms__resolve_walk(&w, f->dma, ms__deref(f->dma->view), 2 * PAGE - 4, 8), 0);
	ms__rcu_read_unlock();
	/* The callback had the first piece; the second came back, without levels. */
	assert_string_equal(f->sb.text, "range d1 ram 5ffc+4 @0 s4 t1\n");
	assert_int_equal(last.kind, MS__PIECE_RANGE);
	assert_ptr_equal(last.range->region, f->ram);
	assert_null(last.level);
	assert_int_equal(last.addr, 0x9000);
	assert_int_equal(last.pos, 4);
	assert_int_equal(last.len, 4);
	assert_int_equal(f->t.translations, 2);
}

static void test_walk_stopped_early_leaves_the_last_piece_alone(void **state)
{
	fixture *f = *state;
	recording rec = {f, &f->sb, 0, 1};
	ms__piece last = {.kind = MS__PIECE_FAULT, .len = 0x1234};
	ms__walk w = {false, ATTRS, false, NULL, record_piece, &rec, &last};

	f->t.table[0][1] = (pte){0x5000, MS_IOMMU_RW};
	sb_reset(&f->sb);
	ms__rcu_read_lock();
	assert_int_equal(ms__resolve_walk(&w, f->dma, ms__deref(f->dma->view), 2 * PAGE - 4, 8), 1);
	ms__rcu_read_unlock();
	assert_int_equal(rec.pieces, 1);
	assert_int_equal(last.kind, MS__PIECE_FAULT);
	assert_int_equal(last.len, 0x1234);
}

/* ---- the recorded path -------------------------------------------------------------- */

typedef struct path_check {
	fixture *f;
	const ms_flatview *dma_view, *mem_view;
	uint64_t gen;
	unsigned pieces;
} path_check;

static int check_path(const ms__piece *p, void *arg)
{
	path_check *c = arg;
	const ms__resolve_level *inner = p->level, *outer;

	c->pieces++;
	assert_non_null(inner);
	assert_int_equal(inner->depth, 1);
	assert_ptr_equal(inner->as, c->f->mem);
	assert_ptr_equal(inner->view, c->mem_view);
	assert_null(inner->iommu);
	assert_int_equal(inner->mask, PAGE - 1);
	assert_int_equal(inner->perm, MS_IOMMU_RO);
	outer = inner->outer;
	assert_non_null(outer);
	assert_int_equal(outer->depth, 0);
	assert_ptr_equal(outer->as, c->f->dma);
	assert_ptr_equal(outer->view, c->dma_view);
	assert_ptr_equal(outer->iommu, c->f->t.region);
	assert_int_equal(outer->gen, c->gen);
	assert_int_equal(outer->mask, UINT64_MAX);
	assert_int_equal(outer->perm, MS_IOMMU_RW);
	assert_null(outer->outer);
	return 0;
}

static void test_walk_records_the_path_of_each_piece(void **state)
{
	fixture *f = *state;
	path_check c = {f, NULL, NULL, 0, 0};
	ms__walk w = {false, ATTRS, true, NULL, check_path, &c, NULL};

	f->t.table[0][1] = (pte){0x5000, MS_IOMMU_RO};
	f->t.table[0][2] = (pte){0x9000, MS_IOMMU_RO};
	pt_unmap(&f->t, 0, 5); /* a notification: the count is no longer 0 */
	c.gen = ms__iommu_notify_gen(f->t.region);
	assert_int_not_equal(c.gen, 0);
	ms__rcu_read_lock();
	c.dma_view = ms__deref(f->dma->view);
	c.mem_view = ms__deref(f->mem->view);
	assert_int_equal(ms__resolve_walk(&w, f->dma, c.dma_view, 2 * PAGE - 4, 8), 0);
	ms__rcu_read_unlock();
	assert_int_equal(c.pieces, 2);
}

static void test_walk_without_recording_gives_no_levels(void **state)
{
	fixture *f = *state;

	f->t.table[0][1] = (pte){0x5000, MS_IOMMU_RW};
	assert_string_equal(walk_str(f, PAGE, 4, false, 0, NULL), "range ram 5000+4 @0 s4 t1\n");
	assert_string_equal(walk_str(f, PAGE, 4, true, 0, NULL), "range d1 ram 5000+4 @0 s4 t1\n");
}

/* ---- ms__resolve() -------------------------------------------------------------- */

static void test_resolve_reports_the_first_piece_and_its_hops(void **state)
{
	fixture *f = *state;
	ms__resolve_hop hops[MS_CACHE_MAX_HOPS];
	ms__resolved res;
	size_t nr = 0;

	f->t.table[0][1] = (pte){0x5000, MS_IOMMU_RW};
	f->t.table[0][2] = (pte){0x6000, MS_IOMMU_RW};
	f->t.translations = 0;
	ms__rcu_read_lock();
	assert_int_equal(ms__resolve(&res, f->dma, ms__deref(f->dma->view), PAGE + 0x10, 2 * PAGE,
				     false, ATTRS, hops, MS_CACHE_MAX_HOPS, &nr),
			 0);
	assert_non_null(res.range);
	assert_ptr_equal(res.range->region, f->ram);
	assert_ptr_equal(res.as, f->mem);
	assert_ptr_equal(res.view, ms__deref(f->mem->view));
	ms__rcu_read_unlock();
	/* Only the first page: the rest would need a second translation. */
	assert_int_equal(f->t.translations, 1);
	assert_int_equal(res.addr, 0x5010);
	assert_int_equal(res.len, PAGE - 0x10);
	assert_int_equal(res.mask, PAGE - 1);
	assert_int_equal(res.perm, MS_IOMMU_RW);
	assert_true(res.translated);
	assert_int_equal(nr, 2);
	assert_ptr_equal(hops[0].as, f->dma);
	assert_ptr_equal(hops[0].iommu, f->t.region);
	assert_ptr_equal(hops[1].as, f->mem);
	assert_null(hops[1].iommu);
}

static void test_resolve_counts_hops_it_cannot_store(void **state)
{
	fixture *f = *state;
	ms__resolve_hop hop;
	ms__resolved res;
	size_t nr = 0;

	f->t.table[0][1] = (pte){0x5000, MS_IOMMU_RW};
	ms__rcu_read_lock();
	assert_int_equal(ms__resolve(&res, f->dma, ms__deref(f->dma->view), PAGE, 4, false, ATTRS,
				     &hop, 1, &nr),
			 0);
	ms__rcu_read_unlock();
	assert_int_equal(nr, 2);
	assert_ptr_equal(hop.as, f->dma);
}

static void test_resolve_returns_the_failed_translation(void **state)
{
	fixture *f = *state;
	ms__resolve_hop hops[2];
	ms__resolved res;
	size_t nr = 0;

	ms__rcu_read_lock();
	assert_int_equal(ms__resolve(&res, f->dma, ms__deref(f->dma->view), 3 * PAGE + 8, 0x100,
				     true, ATTRS, hops, 2, &nr),
			 -EACCES);
	ms__rcu_read_unlock();
	assert_null(res.range);
	assert_ptr_equal(res.as, f->dma);
	assert_int_equal(res.addr, 3 * PAGE + 8);
	assert_int_equal(res.len, 0x100);
	assert_false(res.translated);
	assert_int_equal(nr, 1);
	assert_ptr_equal(hops[0].iommu, f->t.region);
}

static void test_resolve_in_a_hole_clamps_to_the_hole(void **state)
{
	fixture *f = *state;
	ms__resolved res;

	ms__rcu_read_lock();
	assert_int_equal(ms__resolve(&res, f->dma, ms__deref(f->dma->view), TAIL - 0x10, 0x100,
				     false, ATTRS, NULL, 0, NULL),
			 0);
	ms__rcu_read_unlock();
	assert_null(res.range);
	assert_int_equal(res.addr, TAIL - 0x10);
	assert_int_equal(res.len, 0x10);
	assert_int_equal(res.mask, UINT64_MAX);
	assert_int_equal(res.perm, MS_IOMMU_RW);
	assert_false(res.translated);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_walk_splits_at_iommu_pages_and_translates_each_in_turn, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_walk_goes_on_through_a_hole_to_the_next_range,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_walk_stretch_is_not_clamped_to_the_range,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_walk_stops_when_the_callback_says_so, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_walk_fault_takes_the_rest_of_the_iommu_range,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_walk_stops_at_the_top_of_the_address_space,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_walk_uses_the_range_the_caller_found, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_walk_hands_the_last_piece_back, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_walk_stopped_early_leaves_the_last_piece_alone,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_walk_records_the_path_of_each_piece, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_walk_without_recording_gives_no_levels, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_resolve_reports_the_first_piece_and_its_hops,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolve_counts_hops_it_cannot_store, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_resolve_returns_the_failed_translation, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_resolve_in_a_hole_clamps_to_the_hole, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
