/*
 * test_remap.c: remapping guest RAM into one contiguous host range
 * (backend.h, ms_as_remap(), remap.c): scattered ranges of memfd and shared
 * file RAM side by side, writes seen both ways, ranges across regions and
 * through aliases, every refusal (and that it leaves no reference and no
 * mapping behind), the regions' lifetime, allocation failures, and that
 * dirty logging does not see writes through the host range.
 *
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "ms_unit.h"

#define KIB 1024u
#define ATTRS MS_ATTRS_UNSPECIFIED

/*
 * The machine: memfd RAM "a" (64 KiB at 0x10000) with memfd RAM "d" right
 * after it (16 KiB at 0x20000), memfd RAM "b" (32 KiB at 0x40000), and
 * 16 KiB of a shared file "c" at file offset 8 KiB, at 0x100000.
 */
typedef struct fixture {
	ms_ctx *ctx;
	ms_region *root, *a, *b, *c, *d;
	ms_as *as;
	char dir[64], path[96];
} fixture;

static ms_region *place_with(fixture *f, uint64_t addr, const ms_ram_opts *o)
{
	ms_region *r = NULL;

	assert_int_equal(ms_region_new_ram_with(&r, f->ctx, o), 0);
	assert_int_equal(ms_region_add_subregion(f->root, addr, r), 0);
	ms_region_unref(r); /* the container holds it */
	return r;
}

static ms_region *place_memfd(fixture *f, const char *name, uint64_t addr, uint64_t size)
{
	return place_with(f, addr,
			  &(ms_ram_opts){.name = name, .size = size, .backend = MS_RAM_MEMFD});
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->ctx = new_ctx();
	f->root = new_container(f->ctx, "root", MS_SIZE_2_64);
	f->as = new_as(f->ctx, f->root, "as");
	snprintf(f->dir, sizeof(f->dir), "/tmp/ms-remap-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/ram", f->dir);
	f->a = place_memfd(f, "a", 0x10000, 64 * KIB);
	f->d = place_memfd(f, "d", 0x20000, 16 * KIB);
	f->b = place_memfd(f, "b", 0x40000, 32 * KIB);
	f->c = place_with(f, 0x100000,
			  &(ms_ram_opts){.name = "c",
					 .size = 16 * KIB,
					 .backend = MS_RAM_FILE,
					 .flags = MS_RAM_SHARED,
					 .path = f->path,
					 .offset = 8 * KIB});
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	ms_as_free(f->as);
	ms_region_unref(f->root);
	assert_int_equal(live_regions(f->ctx), 0);
	ms_ctx_free(f->ctx);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

/*
 * Mappings of the kinds a remap makes: shared ones (its pieces) and
 * inaccessible ones (its reservation). A failed remap must leave the same
 * number. Private writable mappings are not counted: sanitizers map and
 * split their shadow memory as they please.
 */
static int nr_mappings(void)
{
	FILE *fp = fopen("/proc/self/maps", "r");
	char line[512], perms[8];
	int n = 0;

	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp))
		if (sscanf(line, "%*s %7s", perms) == 1 &&
		    (perms[3] == 's' || strcmp(perms, "---p") == 0))
			n++;
	fclose(fp);
	return n;
}

static void fill(uint8_t *p, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 31 + seed + (i >> 12));
}

/* The guest bytes at @addr equal @want. */
static void expect_guest(fixture *f, uint64_t addr, const uint8_t *want, size_t len)
{
	uint8_t *got = malloc(len);

	assert_non_null(got);
	assert_int_equal(ms_as_read(f->as, addr, ATTRS, got, len), MS_RESULT_OK);
	assert_memory_equal(got, want, len);
	free(got);
}

/* ---- what a remap shows ------------------------------------------------------------- */

static void test_three_scattered_ranges_share_their_pages_both_ways(void **state)
{
	fixture *f = *state;
	const ms_ram_range ranges[] = {
		{0x12000, 0x4000},  /* a */
		{0x100000, 0x4000}, /* c, a shared file at an offset */
		{0x41000, 0x2000},  /* b */
	};
	uint8_t pattern[0xa000], back[0x1000];
	ms_remap *m = NULL;
	uint8_t *p;

	assert_int_equal(ms_as_remap(&m, f->as, ranges, 3), 0);
	assert_non_null(m);
	assert_int_equal(ms_remap_len(m), 0xa000);
	p = ms_remap_ptr(m);
	assert_non_null(p);
	assert_int_equal((uintptr_t)p % (uintptr_t)sysconf(_SC_PAGESIZE), 0);

	/* Host range -> guest. */
	fill(pattern, sizeof(pattern), 1);
	memcpy(p, pattern, sizeof(pattern));
	expect_guest(f, 0x12000, pattern, 0x4000);
	expect_guest(f, 0x100000, pattern + 0x4000, 0x4000);
	expect_guest(f, 0x41000, pattern + 0x8000, 0x2000);
	/* Guests's neighbours are untouched. */
	assert_int_equal(((uint8_t *)ms_region_ram_ptr(f->a))[0x1fff], 0);
	assert_int_equal(((uint8_t *)ms_region_ram_ptr(f->b))[0x3000], 0);

	/* Guest -> host range, across the seams. */
	fill(back, sizeof(back), 7);
	assert_int_equal(ms_as_write(f->as, 0x15800, ATTRS, back, 0x800), MS_RESULT_OK);
	assert_int_equal(ms_as_write(f->as, 0x100000, ATTRS, back + 0x800, 0x800), MS_RESULT_OK);
	assert_memory_equal(p + 0x3800, back, 0x1000);
	assert_int_equal(ms_as_write(f->as, 0x42ff0, ATTRS, "end", 4), MS_RESULT_OK);
	assert_string_equal((char *)p + 0x9ff0, "end");
	ms_remap_free(m);
}

static void test_a_range_may_span_regions_and_aliases(void **state)
{
	fixture *f = *state;
	ms_region *alias = new_alias(f->ctx, "a-window", f->a, 0x8000, 0x4000);
	const ms_ram_range ranges[] = {
		{0x1e000, 0x4000}, /* the last 8 KiB of a, the first 8 KiB of d */
		{0x80000, 0x2000}, /* a through the alias, at a's 0x8000 */
		{0x1e000, 0x1000}, /* the same guest page again */
	};
	uint32_t a_refs, d_refs;
	ms_remap *m;
	uint8_t *p, *a = ms_region_ram_ptr(f->a), *d = ms_region_ram_ptr(f->d);

	assert_int_equal(ms_region_add_subregion(f->root, 0x80000, alias), 0);
	rcu_barrier_bp(); /* the old view's references are gone */
	a_refs = region_refs(f->a);
	d_refs = region_refs(f->d);
	assert_int_equal(ms_as_remap(&m, f->as, ranges, 3), 0);
	/* Every region the host range shows holds a reference of it. */
	assert_true(region_refs(f->a) > a_refs);
	assert_true(region_refs(f->d) > d_refs);
	p = ms_remap_ptr(m);
	memset(p, 0x11, 0x2000);
	memset(p + 0x2000, 0x22, 0x2000);
	assert_int_equal(a[0xe000], 0x11);
	assert_int_equal(a[0xffff], 0x11);
	assert_int_equal(d[0], 0x22);
	assert_int_equal(d[0x1fff], 0x22);
	assert_int_equal(d[0x2000], 0);
	p[0x4000] = 0x33;
	assert_int_equal(a[0x8000], 0x33);
	/* The repeated page is the same memory as the first one. */
	assert_int_equal(p[0x6000], 0x11);
	p[0x6000] = 0x44;
	assert_int_equal(p[0], 0x44);
	assert_int_equal(a[0xe000], 0x44);
	ms_remap_free(m);
	assert_int_equal(region_refs(f->a), a_refs);
	assert_int_equal(region_refs(f->d), d_refs);
	assert_int_equal(ms_region_del_subregion(f->root, alias), 0);
	ms_region_unref(alias);
}

/* ---- refusals --------------------------------------------------------------------------- */

/* @ranges must be refused with @err, leaving no reference and no mapping. */
static void expect_refused(fixture *f, const ms_ram_range *ranges, size_t n, int err,
			   const char *what)
{
	uint32_t refs[4];
	int maps, rc;
	ms_remap *m = (ms_remap *)f; /* not NULL: a failure must clear it */

	/* Views replaced by earlier changes drop their references in RCU
	 * callbacks: let them run before counting. */
	rcu_barrier_bp();
	refs[0] = region_refs(f->a);
	refs[1] = region_refs(f->b);
	refs[2] = region_refs(f->c);
	refs[3] = region_refs(f->d);
	maps = nr_mappings();
	rc = ms_as_remap(&m, f->as, ranges, n);
	if (rc != err)
		fail_msg("%s: ms_as_remap() returned %d, expected %d", what, rc, err);
	assert_null(m);
	assert_int_equal(region_refs(f->a), refs[0]);
	assert_int_equal(region_refs(f->b), refs[1]);
	assert_int_equal(region_refs(f->c), refs[2]);
	assert_int_equal(region_refs(f->d), refs[3]);
	if (nr_mappings() != maps)
		fail_msg("%s: %d mappings before, %d after", what, maps, nr_mappings());
}

/* One range that starts in a (so a reference is taken first) and ends at @addr. */
static void expect_refused_after_a(fixture *f, uint64_t addr, uint64_t len, int err,
				   const char *what)
{
	const ms_ram_range ranges[] = {{0x10000, 0x1000}, {addr, len}};

	expect_refused(f, ranges, 2, err, what);
}

static void test_memory_that_is_not_shared_ram_is_refused(void **state)
{
	fixture *f = *state;
	static uint8_t backing[8192] __attribute__((aligned(4096)));
	char private_path[128];
	ms_region *r;

	/* -ENOTSUP: RAM whose pages cannot be mapped again. */
	r = new_ram(f->ctx, "anon", 8192);
	assert_int_equal(ms_region_add_subregion(f->root, 0x200000, r), 0);
	ms_region_unref(r);
	expect_refused_after_a(f, 0x200000, 0x1000, -ENOTSUP, "anonymous RAM");
	snprintf(private_path, sizeof(private_path), "%s/private", f->dir);
	place_with(f, 0x210000,
		   &(ms_ram_opts){.name = "private",
				  .size = 8192,
				  .backend = MS_RAM_FILE,
				  .path = private_path});
	expect_refused_after_a(f, 0x210000, 0x2000, -ENOTSUP, "a private file");
	place_with(f, 0x220000,
		   &(ms_ram_opts){.name = "ptr",
				  .size = sizeof(backing),
				  .backend = MS_RAM_PTR,
				  .ptr = backing});
	expect_refused_after_a(f, 0x220000, 0x1000, -ENOTSUP, "RAM at a pointer");
	place_with(f, 0x230000,
		   &(ms_ram_opts){.name = "layout", .size = 8192, .backend = MS_RAM_NONE});
	expect_refused_after_a(f, 0x230000, 0x1000, -ENOTSUP, "layout-only RAM");

	/* -EFAULT: not writable RAM at all. */
	r = new_rom(f->ctx, "rom", 8192);
	assert_int_equal(ms_region_add_subregion(f->root, 0x300000, r), 0);
	ms_region_unref(r);
	expect_refused_after_a(f, 0x300000, 0x1000, -EFAULT, "ROM");
	place_with(f, 0x310000,
		   &(ms_ram_opts){.name = "memfd-rom",
				  .size = 8192,
				  .backend = MS_RAM_MEMFD,
				  .flags = MS_RAM_ROM});
	expect_refused_after_a(f, 0x310000, 0x1000, -EFAULT, "ROM on a memfd");
	r = new_alias(f->ctx, "ro-alias", f->b, 0, 0x2000);
	assert_int_equal(ms_region_set_readonly(r, true), 0);
	assert_int_equal(ms_region_add_subregion(f->root, 0x320000, r), 0);
	ms_region_unref(r);
	expect_refused_after_a(f, 0x320000, 0x1000, -EFAULT, "a readonly alias of shared RAM");
	assert_int_equal(
		ms_region_new_io(
			&r, f->ctx,
			&(ms_region_io_opts){.name = "mmio", .size = 0x1000, .ops = nop_ops()}),
		0);
	assert_int_equal(ms_region_add_subregion(f->root, 0x330000, r), 0);
	ms_region_unref(r);
	expect_refused_after_a(f, 0x330000, 0x1000, -EFAULT, "MMIO");
	r = new_io(f->ctx, "reserved", 0x1000);
	assert_int_equal(ms_region_add_subregion(f->root, 0x340000, r), 0);
	ms_region_unref(r);
	expect_refused_after_a(f, 0x340000, 0x1000, -EFAULT, "a reservation");
	assert_int_equal(ms_region_new_ram_device(&r, f->ctx, "bar", sizeof(backing), backing), 0);
	assert_int_equal(ms_region_add_subregion(f->root, 0x350000, r), 0);
	ms_region_unref(r);
	expect_refused_after_a(f, 0x350000, 0x1000, -EFAULT, "a RAM device");
	assert_int_equal(
		ms_region_new_rom_device(
			&r, f->ctx,
			&(ms_region_io_opts){.name = "romd", .size = 0x1000, .ops = nop_ops()}),
		0);
	assert_int_equal(ms_region_add_subregion(f->root, 0x360000, r), 0);
	ms_region_unref(r);
	expect_refused_after_a(f, 0x360000, 0x1000, -EFAULT, "a ROM device");
	assert_int_equal(
		ms_iommu_new(&r, f->ctx, &(ms_iommu_opts){.name = "iommu", .size = 0x10000}), 0);
	assert_int_equal(ms_region_add_subregion(f->root, 0x400000, r), 0);
	ms_region_unref(r);
	expect_refused_after_a(f, 0x400000, 0x1000, -EFAULT, "an IOMMU region");
	expect_refused_after_a(f, 0x500000, 0x1000, -EFAULT, "a hole");
	/* Shared RAM running into a hole: b ends at 0x48000. */
	expect_refused_after_a(f, 0x47000, 0x2000, -EFAULT, "shared RAM, then a hole");
}

static void test_bad_ranges_are_einval(void **state)
{
	fixture *f = *state;
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	const ms_ram_range good = {0x10000, 0x1000};
	ms_remap *m = (ms_remap *)&good;
	ms_region *alias;

	assert_int_equal(ms_as_remap(NULL, f->as, &good, 1), -EINVAL);
	assert_int_equal(ms_as_remap(&m, NULL, &good, 1), -EINVAL);
	assert_null(m);
	assert_int_equal(ms_as_remap(&m, f->as, NULL, 1), -EINVAL);
	assert_int_equal(ms_as_remap(&m, f->as, &good, 0), -EINVAL);
	expect_refused_after_a(f, 0x40000, 0, -EINVAL, "an empty range");
	expect_refused_after_a(f, 0x40000 + page / 2, page, -EINVAL, "an unaligned start");
	expect_refused_after_a(f, 0x40000, page / 2, -EINVAL, "an unaligned length");
	expect_refused_after_a(f, UINT64_MAX - page + 1, 2 * page, -EINVAL, "a range past 2^64");
	{
		const ms_ram_range huge[] = {{0, UINT64_MAX - page + 1}, {0x10000, 2 * page}};

		expect_refused(f, huge, 2, -EINVAL, "lengths whose sum overflows");
	}
	/* An alias at an offset that is not a page multiple: the piece is not
	 * page aligned in the file although the guest range is. */
	alias = new_alias(f->ctx, "odd", f->b, 0x800, 0x2000);
	assert_int_equal(ms_region_add_subregion(f->root, 0x90000, alias), 0);
	expect_refused_after_a(f, 0x90000, 0x1000, -EINVAL, "an alias at an odd offset");
	assert_int_equal(ms_region_del_subregion(f->root, alias), 0);
	ms_region_unref(alias);
}

static void test_ram_that_ends_inside_a_page_is_einval(void **state)
{
	fixture *f = *state;
	ms_region *odd, *next;

	/* 0x1800 bytes of shared RAM, then more shared RAM: the seam is inside a page. */
	odd = place_memfd(f, "odd", 0x600000, 0x1800);
	next = place_memfd(f, "next", 0x601800, 0x2800);
	(void)odd;
	(void)next;
	expect_refused_after_a(f, 0x600000, 0x4000, -EINVAL, "a seam inside a page");
}

/* ---- lifetime ------------------------------------------------------------------------------- */

static void test_region_lives_until_remap_free_after_removal(void **state)
{
	fixture *f = *state;
	const ms_ram_range range = {0x40000, 0x8000};
	size_t live = live_regions(f->ctx);
	uint8_t buf[4];
	ms_remap *m;
	uint8_t *p;

	assert_int_equal(ms_as_remap(&m, f->as, &range, 1), 0);
	p = ms_remap_ptr(m);
	memcpy(p + 0x7ffc, "abc", 4);
	assert_int_equal(ms_region_del_subregion(f->root, f->b), 0);
	/* Out of the tree and out of the view, but not freed: the remap holds it. */
	assert_int_equal(ms_as_read(f->as, 0x47ffc, ATTRS, buf, 4), MS_RESULT_DECODE_ERROR);
	assert_int_equal(live_regions(f->ctx), live);
	assert_int_equal(region_refs(f->b), 1);
	assert_string_equal((char *)ms_region_ram_ptr(f->b) + 0x7ffc, "abc");
	p[0] = 0x5a;
	assert_int_equal(((uint8_t *)ms_region_ram_ptr(f->b))[0], 0x5a);
	ms_remap_free(m);
	assert_int_equal(live_regions(f->ctx), live - 1);
	f->b = NULL;
}

static void test_null_mapping_is_harmless(void **state)
{
	(void)state;
	assert_null(ms_remap_ptr(NULL));
	assert_int_equal(ms_remap_len(NULL), 0);
	ms_remap_free(NULL);
}

/* ---- dirty logging --------------------------------------------------------------------------- */

static void test_writes_through_the_host_range_are_not_logged(void **state)
{
	fixture *f = *state;
	const ms_ram_range range = {0x10000, 0x4000};
	ms_remap *m;
	uint8_t *p;

	assert_int_equal(ms_region_set_dirty_log(f->a, MS_DIRTY_VGA, true), 0);
	assert_false(ms_region_get_dirty(f->a, 0, 0x4000, MS_DIRTY_VGA));
	assert_int_equal(ms_as_remap(&m, f->as, &range, 1), 0);
	p = ms_remap_ptr(m);
	memset(p + 0x2000, 1, 16);
	assert_false(ms_region_get_dirty(f->a, 0, 0x4000, MS_DIRTY_VGA));
	/* The caller marks what it wrote, as the header says. */
	assert_int_equal(ms_region_set_dirty(f->a, 0x2000, 16), 0);
	assert_true(ms_region_get_dirty(f->a, 0x2000, 1, MS_DIRTY_VGA));
	assert_false(ms_region_get_dirty(f->a, 0, 0x2000, MS_DIRTY_VGA));
	ms_remap_free(m);
	assert_int_equal(ms_region_set_dirty_log(f->a, MS_DIRTY_VGA, false), 0);
}

/* ---- allocation failures ----------------------------------------------------------------------- */

static void test_every_failure_leaves_nothing_behind(void **state)
{
	fixture *f = *state;
	const ms_ram_range ranges[] = {
		{0x12000, 0x4000}, {0x100000, 0x4000}, {0x41000, 0x2000}, {0x1e000, 0x4000}};
	unsigned n, failures = 0;
	ms_remap *m;
	int rc;

	rcu_barrier_bp(); /* the setup's old views have dropped their references */
	for (n = 1;; n++) {
		uint32_t refs[4] = {region_refs(f->a), region_refs(f->b), region_refs(f->c),
				    region_refs(f->d)};
		int maps = nr_mappings();

		ms_ctx_test_control(f->ctx, MS_TEST_FAIL_ALLOC_AFTER, n);
		rc = ms_as_remap(&m, f->as, ranges, 4);
		ms_ctx_test_control(f->ctx, MS_TEST_FAIL_ALLOC_AFTER, 0);
		if (rc == 0)
			break;
		failures++;
		if (rc != -ENOMEM)
			fail_msg("allocation %u failing: returned %d, expected %d", n, rc, -ENOMEM);
		assert_null(m);
		assert_int_equal(region_refs(f->a), refs[0]);
		assert_int_equal(region_refs(f->b), refs[1]);
		assert_int_equal(region_refs(f->c), refs[2]);
		assert_int_equal(region_refs(f->d), refs[3]);
		if (nr_mappings() != maps)
			fail_msg("allocation %u failing: %d mappings before, %d after", n, maps,
				 nr_mappings());
	}
	/* The structure, the piece list, the reservation and each of the five
	 * piece mappings (a's two, b, c, d) can fail. */
	assert_true(failures >= 8);
	memset(ms_remap_ptr(m), 0x6b, (size_t)ms_remap_len(m));
	assert_int_equal(((uint8_t *)ms_region_ram_ptr(f->d))[0x1fff], 0x6b);
	ms_remap_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_three_scattered_ranges_share_their_pages_both_ways, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_range_may_span_regions_and_aliases, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_memory_that_is_not_shared_ram_is_refused,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_ranges_are_einval, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ram_that_ends_inside_a_page_is_einval, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_region_lives_until_remap_free_after_removal,
						setup, teardown),
		cmocka_unit_test(test_null_mapping_is_harmless),
		cmocka_unit_test_setup_teardown(test_writes_through_the_host_range_are_not_logged,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_failure_leaves_nothing_behind, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
