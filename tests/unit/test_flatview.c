/*
 * test_flatview.c: flat views (src/flatview.c): ranges and lookups at the
 * edges of the 64-bit space, views that stay as they were while later
 * commits publish new ones, and chunks shared between a view and the next:
 * a commit splices re-rendered windows into the old view's chunks, checked
 * against a reference splice of random views and windows.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ms_rng.h"
#include "ms_unit.h"

/* ---- ranges and lookups --------------------------------------------------- */

/*
 * ms_flatview_find() as callers compile it (the inline form) and as the
 * library exports it, called by name in parentheses and through a pointer:
 * the same return and, field by field, the same section.
 */
static int find_every_way(ms_section *s, const ms_flatview *fv, uint64_t addr)
{
	int (*const exported)(ms_section *, const ms_flatview *, uint64_t) = ms_flatview_find;
	ms_section by_name, by_pointer;
	int rc;

	memset(s, 0xa5, sizeof(*s));
	memset(&by_name, 0xa5, sizeof(by_name));
	memset(&by_pointer, 0xa5, sizeof(by_pointer));
	rc = ms_flatview_find(s, fv, addr);
	assert_int_equal((ms_flatview_find)(&by_name, fv, addr), rc);
	assert_int_equal(exported(&by_pointer, fv, addr), rc);
	assert_memory_equal(s, &by_name, sizeof(*s));
	assert_memory_equal(s, &by_pointer, sizeof(*s));
	return rc;
}

static void expect_find(const ms_flatview *fv, uint64_t addr, const char *name, uint64_t start,
			uint64_t last)
{
	ms_section s;
	int rc = find_every_way(&s, fv, addr);

	if (!name) {
		if (rc != -ENOENT)
			fail_msg("find(%#" PRIx64 "): rc %d, expected -ENOENT", addr, rc);
		return;
	}
	if (rc != 0)
		fail_msg("find(%#" PRIx64 "): rc %d, expected %s", addr, rc, name);
	assert_string_equal(ms_region_name(s.region), name);
	assert_int_equal(s.start, start);
	assert_int_equal(s.last, last);
}

static void test_flatview_find_at_range_edges_and_holes(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *root = new_container(ctx, "root", MS_SIZE_2_64);
	ms_region *a = new_ram(ctx, "a", 0x1000), *b = new_io(ctx, "b", 0x10);
	ms_region *c = new_ram(ctx, "c", 0x100);
	ms_flatview *fv;
	ms_section s;
	ms_as *as;

	(void)state;
	assert_int_equal(ms_region_add_subregion(root, 0x1000, a), 0);
	assert_int_equal(ms_region_add_subregion(root, 0x2000, b), 0); /* adjacent to a */
	assert_int_equal(ms_region_add_subregion(root, 0x3000, c), 0);
	as = new_as(ctx, root, "as");
	fv = ms_as_get_flatview(as);
	assert_int_equal(ms_flatview_nr_ranges(fv), 3);
	expect_find(fv, 0, NULL, 0, 0);
	expect_find(fv, 0xfff, NULL, 0, 0);
	expect_find(fv, 0x1000, "a", 0x1000, 0x1fff);
	expect_find(fv, 0x1800, "a", 0x1000, 0x1fff);
	expect_find(fv, 0x1fff, "a", 0x1000, 0x1fff);
	expect_find(fv, 0x2000, "b", 0x2000, 0x200f);
	expect_find(fv, 0x200f, "b", 0x2000, 0x200f);
	expect_find(fv, 0x2010, NULL, 0, 0);
	expect_find(fv, 0x2fff, NULL, 0, 0);
	expect_find(fv, 0x3000, "c", 0x3000, 0x30ff);
	expect_find(fv, 0x30ff, "c", 0x3000, 0x30ff);
	expect_find(fv, 0x3100, NULL, 0, 0);
	expect_find(fv, UINT64_MAX, NULL, 0, 0);
	assert_int_equal(ms_flatview_range(&s, fv, 2), 0);
	assert_int_equal(ms_flatview_range(&s, fv, 3), -ERANGE);
	assert_int_equal(ms_flatview_range(&s, fv, SIZE_MAX), -ERANGE);
	ms_flatview_unref(fv);
	/* The empty view finds nothing. */
	assert_int_equal(ms_region_set_enabled(root, false), 0);
	fv = ms_as_get_flatview(as);
	expect_find(fv, 0, NULL, 0, 0);
	expect_find(fv, UINT64_MAX, NULL, 0, 0);
	assert_int_equal(ms_flatview_range(&s, fv, 0), -ERANGE);
	ms_flatview_unref(fv);
	ms_as_free(as);
	ms_region_unref(a);
	ms_region_unref(b);
	ms_region_unref(c);
	ms_region_unref(root);
	assert_int_equal(live_regions(ctx), 0);
	ms_ctx_free(ctx);
}

/* The lean look-up hands out the view's entries: same ranges as
 * ms_flatview_find(), with the host address and kind an access needs. */
static void test_flatview_lookup_entries_carry_host_and_kind(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *root = new_container(ctx, "root", MS_SIZE_2_64);
	ms_region *ram = new_ram(ctx, "ram", 0x2000), *io = new_io(ctx, "io", 0x100);
	ms_region *rom = new_rom(ctx, "rom", 0x1000);
	ms_region *al = new_alias(ctx, "al", ram, 0x1000, 0x800);
	uint8_t *host = ms_region_ram_ptr(ram);
	const ms_flat_entry *e;
	ms_flatview *fv;
	ms_section s;
	ms_as *as;
	uint64_t a;

	(void)state;
	assert_int_equal(ms_region_add_subregion(root, 0x10000, ram), 0);
	assert_int_equal(ms_region_add_subregion(root, 0x20000, io), 0);
	assert_int_equal(ms_region_add_subregion(root, 0x30000, rom), 0);
	assert_int_equal(ms_region_set_readonly(al, true), 0);
	assert_int_equal(ms_region_add_subregion(root, 0x40000, al), 0);
	as = new_as(ctx, root, "as");
	fv = ms_as_get_flatview(as);
	assert_null(ms_flatview_lookup(NULL, 0x10000));
	assert_null(ms_flatview_lookup(fv, 0xffff));
	assert_null(ms_flatview_lookup(fv, 0x12000));
	e = ms_flatview_lookup(fv, 0x11234);
	assert_non_null(e);
	assert_ptr_equal(e->region, ram);
	assert_int_equal(e->start, 0x10000);
	assert_int_equal(e->last, 0x11fff);
	assert_int_equal(e->kind, MS_REGION_RAM);
	assert_ptr_equal(e->host, host);
	assert_int_equal(e->flags, MS_FLAT_HOST_READ);
	e = ms_flatview_lookup(fv, 0x200ff);
	assert_non_null(e);
	assert_int_equal(e->kind, MS_REGION_IO);
	assert_null(e->host);
	assert_int_equal(e->flags, 0);
	e = ms_flatview_lookup(fv, 0x30000);
	assert_int_equal(e->kind, MS_REGION_ROM);
	assert_ptr_equal(e->host, ms_region_ram_ptr(rom));
	assert_int_equal(e->flags, MS_FLAT_READONLY | MS_FLAT_HOST_READ);
	/* Through the alias: the host address of the entry's start, readonly. */
	e = ms_flatview_lookup(fv, 0x40400);
	assert_non_null(e);
	assert_ptr_equal(e->region, ram);
	assert_int_equal(e->offset_in_region, 0x1000);
	assert_ptr_equal(e->host, host + 0x1000);
	assert_int_equal(e->flags, MS_FLAT_READONLY | MS_FLAT_HOST_READ);
	/* Every address agrees with ms_flatview_find(). */
	for (a = 0xff00; a < 0x48000; a += 0x80) {
		e = ms_flatview_lookup(fv, a);
		if (find_every_way(&s, fv, a) != 0) {
			assert_null(e);
			continue;
		}
		assert_non_null(e);
		assert_ptr_equal(e->region, s.region);
		assert_int_equal(e->start, s.start);
		assert_int_equal(e->last, s.last);
		assert_int_equal(e->offset_in_region, s.offset_in_region);
		assert_int_equal(!!(e->flags & MS_FLAT_READONLY), s.readonly);
		assert_int_equal(!!(e->flags & MS_FLAT_NONVOLATILE), s.nonvolatile);
		assert_int_equal(!!(e->flags & MS_FLAT_UNMERGEABLE), s.unmergeable);
		assert_int_equal(!!(e->flags & MS_FLAT_ROMD), s.romd);
		assert_int_equal(e->dirty_log_mask, s.dirty_log_mask);
		assert_int_equal(s.size, e->last - e->start + 1);
		assert_null(s.as);
	}
	ms_flatview_unref(fv);
	ms_as_free(as);
	ms_region_unref(al);
	ms_region_unref(ram);
	ms_region_unref(io);
	ms_region_unref(rom);
	ms_region_unref(root);
	ms_ctx_free(ctx);
}

static void test_region_at_the_top_of_the_space(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *root = new_container(ctx, "root", MS_SIZE_2_64);
	ms_region *top = new_ram(ctx, "top", 0x1000), *low = new_ram(ctx, "low", 0x1000);
	ms_region *over = new_io(ctx, "over", 0x1000);
	ms_flatview *fv;
	ms_section s;
	ms_as *as;
	strbuf sb;

	(void)state;
	assert_int_equal(ms_region_add_subregion(root, 0xfffffffffffff000ull, top), 0);
	assert_int_equal(ms_region_add_subregion(root, 0, low), 0);
	as = new_as(ctx, root, "as");
	assert_string_equal(as_view_str(&sb, as), "0000-0fff low @0\n"
						  "fffffffffffff000-ffffffffffffffff top @0\n");
	fv = ms_as_get_flatview(as);
	expect_find(fv, UINT64_MAX, "top", 0xfffffffffffff000ull, UINT64_MAX);
	expect_find(fv, 0xfffffffffffff000ull, "top", 0xfffffffffffff000ull, UINT64_MAX);
	expect_find(fv, 0xffffffffffffefffull, NULL, 0, 0);
	assert_int_equal(ms_flatview_range(&s, fv, 1), 0);
	assert_int_equal(s.last - s.start + 1, 0x1000);
	ms_flatview_unref(fv);
	/* A region that would cross 2^64 is clipped there. */
	assert_int_equal(ms_region_add_subregion_overlap(root, 0xfffffffffffff800ull, over, 1), 0);
	assert_string_equal(as_view_str(&sb, as), "0000-0fff low @0\n"
						  "fffffffffffff000-fffffffffffff7ff top @0\n"
						  "fffffffffffff800-ffffffffffffffff over @0\n");
	ms_as_free(as);
	ms_region_unref(top);
	ms_region_unref(low);
	ms_region_unref(over);
	ms_region_unref(root);
	assert_int_equal(live_regions(ctx), 0);
	ms_ctx_free(ctx);
}

static void test_io_region_of_2_64_bytes_is_one_range(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *whole = new_io(ctx, "unassigned", MS_SIZE_2_64);
	ms_region *root = new_container(ctx, "root", MS_SIZE_2_64);
	ms_region *whole2 = new_io(ctx, "io", MS_SIZE_2_64);
	ms_region *r = new_ram(ctx, "r", 0x1000);
	ms_flatview *fv;
	ms_section s;
	ms_as *direct, *nested;
	strbuf sb;

	(void)state;
	direct = new_as(ctx, whole, "direct");
	fv = ms_as_get_flatview(direct);
	assert_int_equal(ms_flatview_nr_ranges(fv), 1);
	assert_int_equal(ms_flatview_range(&s, fv, 0), 0);
	assert_ptr_equal(s.region, whole);
	assert_int_equal(s.start, 0);
	assert_int_equal(s.last, UINT64_MAX);
	assert_int_equal(s.offset_in_region, 0);
	assert_int_equal(s.last - s.start + 1, 0); /* the size wraps to 0 */
	expect_find(fv, 0, "unassigned", 0, UINT64_MAX);
	expect_find(fv, UINT64_MAX, "unassigned", 0, UINT64_MAX);
	expect_find(fv, 0x8000000000000000ull, "unassigned", 0, UINT64_MAX);
	ms_flatview_unref(fv);

	/* Inside a 2^64 container, with RAM punched in above it. */
	assert_int_equal(ms_region_add_subregion_overlap(root, 0, whole2, -1), 0);
	assert_int_equal(ms_region_add_subregion(root, 0x1000, r), 0);
	nested = new_as(ctx, root, "nested");
	assert_string_equal(as_view_str(&sb, nested), "0000-0fff io @0\n"
						      "1000-1fff r @0\n"
						      "2000-ffffffffffffffff io @2000\n");
	assert_int_equal(ms_region_set_enabled(r, false), 0);
	assert_string_equal(as_view_str(&sb, nested), "0000-ffffffffffffffff io @0\n");
	assert_ptr_equal(ms_as_flatview_root(nested), whole2);
	ms_as_free(direct);
	ms_as_free(nested);
	ms_region_unref(whole);
	ms_region_unref(whole2);
	ms_region_unref(r);
	ms_region_unref(root);
	assert_int_equal(live_regions(ctx), 0);
	ms_ctx_free(ctx);
}

static void test_held_view_is_unchanged_by_later_commits(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *root = new_container(ctx, "root", 0x10000);
	ms_region *r = new_ram(ctx, "r", 0x1000);
	ms_flatview *old;
	ms_as *as;
	strbuf sb;

	(void)state;
	assert_int_equal(ms_region_add_subregion(root, 0, r), 0);
	as = new_as(ctx, root, "as");
	old = ms_as_get_flatview(as);
	assert_int_equal(ms_region_set_address(r, 0x2000), 0);
	assert_int_equal(ms_region_set_readonly(r, true), 0);
	assert_string_equal(view_str(&sb, old), "0000-0fff r @0\n");
	assert_ptr_equal(ms_flatview_root(old), r);
	assert_string_equal(as_view_str(&sb, as), "2000-2fff r @0 ro\n");
	ms_flatview_unref(old);
	ms_as_free(as);
	ms_region_unref(r);
	ms_region_unref(root);
	ms_ctx_free(ctx);
}

/* ---- chunks shared between views ---------------------------------------------- */

/* Global chunk @c of @fv. */
static const ms__chunk *chunk_of(const ms_flatview *fv, size_t c)
{
	size_t s = 0;

	while (c >= fv->segs[s]->nr)
		c -= fv->segs[s++]->nr;
	return fv->segs[s]->chunks[c];
}

/* Chunks of @b that are also chunks of @a (same pointer). */
static size_t shared_chunks(const ms_flatview *a, const ms_flatview *b)
{
	size_t i, j, n = 0;

	for (i = 0; i < b->nr_chunks; i++)
		for (j = 0; j < a->nr_chunks; j++)
			if (chunk_of(b, i) == chunk_of(a, j))
				n++;
	return n;
}

/* Segments of @b that are also segments of @a (same pointer). */
static size_t shared_segs(const ms_flatview *a, const ms_flatview *b)
{
	size_t i, j, n = 0;

	for (i = 0; i < b->nr_segs; i++)
		for (j = 0; j < a->nr_segs; j++)
			if (b->segs[i] == a->segs[j])
				n++;
	return n;
}

/*
 * A commit in a big view takes no reference per unchanged chunk: every
 * segment away from the change is shared whole, and the look-up agrees with
 * the ranges everywhere (the debug checker runs on every commit too).
 */
static void test_commit_shares_untouched_segments(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *root = new_container(ctx, "root", MS_SIZE_2_64);
	ms_region *extra[3];
	ms_flatview *before, *after;
	char name[16];
	ms_as *as;
	size_t i;

	(void)state;
	as = new_as(ctx, root, "as");
	ms_transaction_begin(ctx);
	for (i = 0; i < 20000; i++) {
		ms_region *r;

		snprintf(name, sizeof(name), "d%zu", i);
		r = new_io(ctx, name, 0x1000);
		assert_int_equal(ms_region_add_subregion(root, 0x100000000 + i * 0x2000, r), 0);
		ms_region_unref(r);
	}
	assert_int_equal(ms_transaction_commit(ctx), 0);
	before = ms_as_get_flatview(as);
	assert_int_equal(ms_flatview_nr_ranges(before), 20000);
	assert_true(before->nr_segs >= 4);
	/* One region in the middle, one before everything, one after. */
	for (i = 0; i < 3; i++) {
		static const uint64_t at[3] = {0x100000000 + 10000 * 0x2000 + 0x1000, 0x1000,
					       0x200000000};

		snprintf(name, sizeof(name), "x%zu", i);
		extra[i] = new_io(ctx, name, 0x800);
		assert_int_equal(ms_region_add_subregion(root, at[i], extra[i]), 0);
		after = ms_as_get_flatview(as);
		assert_int_equal(ms_flatview_nr_ranges(after), 20001 + i);
		assert_int_equal(ms__flatview_check(after), 0);
		assert_true(shared_segs(before, after) + 1 + i >= before->nr_segs);
		assert_ptr_equal(ms_flatview_lookup(after, at[i] + 0x7ff)->region, extra[i]);
		assert_null(ms_flatview_lookup(after, at[i] + 0x800));
		ms_flatview_unref(after);
	}
	/* Removing them again shares the untouched segments too. */
	for (i = 0; i < 3; i++) {
		assert_int_equal(ms_region_del_subregion(root, extra[i]), 0);
		ms_region_unref(extra[i]);
	}
	after = ms_as_get_flatview(as);
	assert_int_equal(ms_flatview_nr_ranges(after), 20000);
	assert_int_equal(ms__flatview_check(after), 0);
	assert_true(shared_segs(before, after) + 3 >= before->nr_segs);
	for (i = 0; i < 20000; i += 7) {
		const ms_flat_entry *e =
			ms_flatview_lookup(after, 0x100000000 + i * 0x2000 + 0xfff);

		assert_non_null(e);
		assert_int_equal(e->start, 0x100000000 + i * 0x2000);
		assert_null(ms_flatview_lookup(after, 0x100000000 + i * 0x2000 + 0x1000));
	}
	ms_flatview_unref(after);
	ms_flatview_unref(before);
	ms_as_free(as);
	ms_region_unref(root);
	ms_ctx_free(ctx);
}

/* Blocks waiting in @ctx's garbage, reclaimed but not yet freed. */
static size_t garbage_blocks(ms_ctx *ctx)
{
	const ms__garbage *g;
	size_t n = 0;

	for (g = __atomic_load_n(&ctx->garbage, __ATOMIC_ACQUIRE); g; g = g->next)
		n++;
	return n;
}

/*
 * The memory of a view replaced by a commit (the view, and the segments and
 * chunks no other view shares) is reclaimed on liburcu's thread after a
 * grace period and freed by the next commit: it stays bounded by the blocks
 * of the last views retired, however many commits run, and ms_ctx_free()
 * frees the rest (the sanitizer and valgrind runs would report it lost).
 */
static void test_reclaimed_view_memory_is_freed_by_the_next_commit(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *root = new_container(ctx, "root", MS_SIZE_2_64);
	size_t i, most = 0, seen = 0;
	char name[16];
	ms_as *as;

	(void)state;
	as = new_as(ctx, root, "as");
	for (i = 0; i < 300; i++) {
		ms_region *r;
		size_t n;

		snprintf(name, sizeof(name), "r%zu", i);
		r = new_io(ctx, name, 0x1000);
		assert_int_equal(ms_region_add_subregion(root, 0x100000000 + i * 0x2000, r), 0);
		ms_region_unref(r);
		rcu_barrier_bp(); /* the view this commit replaced is reclaimed */
		n = garbage_blocks(ctx);
		seen += n > 0;
		if (n > most)
			most = n;
	}
	/* Each commit retires one view with one new segment and at most two
	 * new chunks; the one before it may have been reclaimed after this
	 * commit freed the garbage. Without the frees, 300 views' blocks. */
	assert_true(seen > 0);
	assert_true(most <= 2 * (1 + 1 + 2));
	ms_as_free(as);
	ms_region_unref(root);
	ms_ctx_free(ctx);
}

/*
 * A commit re-renders only the windows that changed and shares every other
 * chunk with the previous view; the debug build's checker compares each
 * result with a full render.
 */
static void test_commit_splices_changed_windows_into_shared_chunks(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *root = new_container(ctx, "root", MS_SIZE_2_64);
	ms_region *devs[1001], *big;
	ms_flatview *before, *after;
	uint64_t renders, splices;
	char name[16];
	ms_as *as;
	size_t i;

	(void)state;
	as = new_as(ctx, root, "as");
	ms_transaction_begin(ctx);
	for (i = 0; i < 1001; i++) {
		snprintf(name, sizeof(name), "d%zu", i);
		devs[i] = new_io(ctx, name, 0x1000);
		if (i < 1000)
			assert_int_equal(
				ms_region_add_subregion(root, 0x100000 + i * 0x1000, devs[i]), 0);
	}
	assert_int_equal(ms_transaction_commit(ctx), 0);
	before = ms_as_get_flatview(as);
	assert_int_equal(ms_flatview_nr_ranges(before), 1000);
	assert_true(before->nr_chunks >= 10);

	/* One more region: one windowed render, all but two chunks shared. */
	renders = ms_ctx_render_count(ctx);
	splices = ctx->splice_count;
	assert_int_equal(
		ms_region_add_subregion(root, 0x100000 + 500 * 0x1000 + 0x800000, devs[1000]), 0);
	after = ms_as_get_flatview(as);
	assert_int_equal(ms_ctx_render_count(ctx), renders + 1);
	assert_int_equal(ctx->splice_count, splices + 1);
	assert_int_equal(ms_flatview_nr_ranges(after), 1001);
	assert_true(shared_chunks(before, after) + 2 >= before->nr_chunks);
	ms_flatview_unref(after);

	/* A move in the middle, a removal at the start, a disable at the end. */
	assert_int_equal(ms_region_set_address(devs[300], 0x50000), 0);
	assert_int_equal(ms_region_del_subregion(root, devs[0]), 0);
	assert_int_equal(ms_region_set_enabled(devs[999], false), 0);
	assert_int_equal(ctx->splice_count, splices + 4);
	after = ms_as_get_flatview(as);
	assert_int_equal(ms_flatview_nr_ranges(after), 999);
	assert_true(shared_chunks(before, after) + 8 >= before->nr_chunks);
	ms_flatview_unref(after);

	/* An overlapping region over everything: one window, the whole view. */
	big = new_ram(ctx, "big", 0x10000000);
	assert_int_equal(ms_region_add_subregion_overlap(root, 0, big, 1), 0);
	after = ms_as_get_flatview(as);
	assert_int_equal(ms_flatview_nr_ranges(after), 1);
	assert_int_equal(ctx->splice_count, splices + 5);
	ms_flatview_unref(after);
	assert_int_equal(ms_region_del_subregion(root, big), 0);
	after = ms_as_get_flatview(as);
	assert_int_equal(ms_flatview_nr_ranges(after), 999);
	ms_flatview_unref(after);

	ms_flatview_unref(before);
	ms_as_free(as);
	for (i = 0; i < 1001; i++)
		ms_region_unref(devs[i]);
	ms_region_unref(big);
	ms_region_unref(root);
	ms_ctx_free(ctx);
}

/*
 * Where a window edge would split an unmergeable range that a full render
 * keeps whole, the commit renders in full instead (and the result is the
 * full render's: one range).
 */
static void test_unmergeable_range_at_a_window_edge_renders_in_full(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *root = new_container(ctx, "root", 0x100000);
	ms_region *r = new_ram(ctx, "r", 0x10000);
	ms_region *hole = new_io(ctx, "dev", 0x1000);
	ms_flatview *fv;
	uint64_t splices;
	ms_section s;
	ms_as *as;

	(void)state;
	assert_int_equal(ms_region_set_unmergeable(r, true), 0);
	assert_int_equal(ms_region_add_subregion(root, 0, r), 0);
	assert_int_equal(ms_region_add_subregion_overlap(root, 0x4000, hole, 1), 0);
	as = new_as(ctx, root, "as");
	fv = ms_as_get_flatview(as);
	assert_int_equal(ms_flatview_nr_ranges(fv), 3);
	ms_flatview_unref(fv);
	splices = ctx->splice_count;
	assert_int_equal(ms_region_del_subregion(root, hole), 0);
	assert_int_equal(ctx->splice_count, splices); /* fell back to a full render */
	fv = ms_as_get_flatview(as);
	assert_int_equal(ms_flatview_nr_ranges(fv), 1);
	assert_int_equal(ms_flatview_range(&s, fv, 0), 0);
	assert_true(s.start == 0 && s.last == 0xffff && s.unmergeable);
	ms_flatview_unref(fv);
	ms_as_free(as);
	ms_region_unref(hole);
	ms_region_unref(r);
	ms_region_unref(root);
	ms_ctx_free(ctx);
}

/* ---- splicing windows into a view ------------------------------------------------ */

/* The splice test's generator, seeded with a fixed seed. */
static ms_rng rng;

static uint64_t below(uint64_t bound)
{
	return ms_rng_below(&rng, bound);
}

static bool same_range(const ms__range *a, const ms__range *b)
{
	return a == b || (a && b && ms__render_range_equal(a, b));
}

/*
 * A lookup at either end of each range of @ref finds that range; just
 * outside a range that no neighbour touches, it finds nothing.
 */
static void check_lookups(const ms_flatview *fv, const ms__range *ref, size_t nr)
{
	for (size_t i = 0; i < nr; i++) {
		assert_true(same_range(ms__dispatch_lookup(fv, ref[i].start), &ref[i]));
		assert_true(same_range(ms__dispatch_lookup(fv, ref[i].last), &ref[i]));
		if (ref[i].start > 0 && (i == 0 || ref[i - 1].last + 1 != ref[i].start))
			assert_null(ms__dispatch_lookup(fv, ref[i].start - 1));
		if (ref[i].last < UINT64_MAX &&
		    (i + 1 == nr || ref[i].last + 1 != ref[i + 1].start))
			assert_null(ms__dispatch_lookup(fv, ref[i].last + 1));
	}
}

/*
 * Splicing windows into a view: reference = old ranges cut at the windows,
 * plus the windows' ranges, sorted, with mergeable neighbours merged.
 */
static size_t reference_splice(ms__range *out, const ms__range *old, size_t nr_old,
			       const ms__window *w, size_t nr_w)
{
	size_t n = 0, i, j, k;

	for (i = 0; i < nr_old; i++) {
		ms__range piece = old[i];
		bool gone = false;

		/* Addresses of this piece inside no window survive. */
		for (j = 0; j < nr_w && !gone; j++) {
			if (w[j].hi < piece.start || w[j].lo > piece.last)
				continue;
			if (w[j].lo > piece.start) {
				out[n] = piece;
				out[n++].last = w[j].lo - 1;
			}
			if (w[j].hi >= piece.last) {
				gone = true;
			} else {
				piece.offset_in_region += w[j].hi + 1 - piece.start;
				piece.start = w[j].hi + 1;
			}
		}
		if (!gone)
			out[n++] = piece;
	}
	for (j = 0; j < nr_w; j++)
		for (k = 0; k < w[j].nr; k++)
			out[n++] = w[j].ranges[k];
	/* Sort (insertion sort is enough here) and merge. */
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && out[j - 1].start > out[j].start; j--) {
			ms__range t = out[j];

			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	for (i = 0, k = 0; i < n; i++) {
		if (k > 0 && ms__render_can_merge(&out[k - 1], &out[i]))
			out[k - 1].last = out[i].last;
		else
			out[k++] = out[i];
	}
	return k;
}

static void test_splice_matches_reference(void **state)
{
	ms_region *regions[3];
	ms_ctx *ctx;
	int iter;

	(void)state;
	ms_rng_seed(&rng, 4);
	ctx = new_ctx();
	for (int r = 0; r < 3; r++)
		regions[r] = new_io(ctx, "r", 0x1000);
	for (iter = 0; iter < 400; iter++) {
		size_t nr_old = below(iter < 200 ? 40 : 400);
		ms__range *old = calloc(nr_old + 1, sizeof(*old));
		ms__window w[4];
		size_t nr_w = 1 + below(4), total_new = 0, j, k, nr_ref;
		uint64_t span = 1 + nr_old * 8, pos = 0;
		ms__range *ref;
		ms_flatview *old_fv, *fv;
		int rc;

		/* Small ranges over [0, span): mostly adjacent, often mergeable. */
		for (j = 0, k = 0; j < nr_old; j++) {
			uint64_t len = 1 + below(8);

			pos += below(3) == 0 ? below(4) : 0;
			old[k].start = pos;
			old[k].last = pos + len - 1;
			old[k].region = regions[below(3)];
			old[k].kind = MS_REGION_IO;
			old[k].offset_in_region = pos;
			pos += len;
			if (k > 0 && ms__render_can_merge(&old[k - 1], &old[k]))
				old[k - 1].last = old[k].last;
			else
				k++;
		}
		nr_old = k;
		span = pos + 16;
		/* Sorted disjoint windows with ranges that stay inside them. */
		pos = below(8);
		for (j = 0; j < nr_w; j++) {
			uint64_t len = 1 + below(span / 2 + 1), cur;

			w[j].lo = pos;
			w[j].hi = pos + len - 1;
			w[j].ranges = calloc(len, sizeof(ms__range));
			w[j].nr = 0;
			for (cur = w[j].lo; cur <= w[j].hi;) {
				uint64_t piece = 1 + below(6);

				if (cur + piece - 1 > w[j].hi)
					piece = w[j].hi - cur + 1;
				if (below(4)) {
					ms__range *r = &w[j].ranges[w[j].nr];

					r->start = cur;
					r->last = cur + piece - 1;
					r->region = regions[below(3)];
					r->kind = MS_REGION_IO;
					r->offset_in_region = cur;
					if (w[j].nr > 0 && ms__render_can_merge(r - 1, r))
						(r - 1)->last = r->last;
					else
						w[j].nr++;
				}
				cur += piece;
			}
			total_new += w[j].nr;
			pos = w[j].hi + 1 + below(20);
		}
		assert_int_equal(ms__flatview_new(&old_fv, ctx, regions[0], old, nr_old), 0);
		ref = calloc(nr_old + total_new + 2 * nr_w + 1, sizeof(*ref));
		nr_ref = reference_splice(ref, old, nr_old, w, nr_w);
		rc = ms__flatview_splice(&fv, old_fv, regions[0], w, nr_w);
		assert_int_equal(rc, 0);
		assert_int_equal(ms__flatview_check(fv), 0);
		assert_int_equal(ms_flatview_nr_ranges(fv), nr_ref);
		for (j = 0; j < nr_ref; j++)
			assert_true(same_range(ms__flatview_at(fv, j), &ref[j]));
		check_lookups(fv, ref, nr_ref);
		ms_flatview_unref(fv);
		ms_flatview_unref(old_fv);
		for (j = 0; j < nr_w; j++)
			free(w[j].ranges);
		free(ref);
		free(old);
	}
	for (int r = 0; r < 3; r++)
		ms_region_unref(regions[r]);
	ms_ctx_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flatview_find_at_range_edges_and_holes),
		cmocka_unit_test(test_flatview_lookup_entries_carry_host_and_kind),
		cmocka_unit_test(test_region_at_the_top_of_the_space),
		cmocka_unit_test(test_io_region_of_2_64_bytes_is_one_range),
		cmocka_unit_test(test_held_view_is_unchanged_by_later_commits),
		cmocka_unit_test(test_commit_splices_changed_windows_into_shared_chunks),
		cmocka_unit_test(test_commit_shares_untouched_segments),
		cmocka_unit_test(test_reclaimed_view_memory_is_freed_by_the_next_commit),
		cmocka_unit_test(test_unmergeable_range_at_a_window_edge_renders_in_full),
		cmocka_unit_test(test_splice_matches_reference),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
