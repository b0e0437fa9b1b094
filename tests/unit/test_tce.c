/*
 * test_tce.c: the sPAPR TCE table IOMMU (include/memspace/models/tce.h):
 * hypercalls and what they notify, translation, every bad input, windows
 * (DDW) and the class methods (replay, attributes, page size, flags).
 *
 * Fixture: address space "mem" is 16 MiB of RAM at 0; table "tce" targets
 * it with window 0 at bus address 0, 64 pages of 4 KiB; address space
 * "dma" renders the table's root. A recorder notifier follows window 0.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <memspace.h>
#include <memspace/models/tce.h>

#define ATTRS MS_ATTRS_UNSPECIFIED
#define PAGE 0x1000u
#define NPAGES 64u
#define RAM_SIZE 0x1000000u

typedef struct recorder {
	char text[8192];
	size_t len;
	unsigned events;
	uint64_t fail_map_at; /* refuse a MAP of this translated address (0: never) */
	unsigned fail_skip;   /* ... after accepting this many of them */
} recorder;

typedef struct fixture {
	ms_ctx *ctx;
	ms_region *memroot, *ram;
	ms_as *mem, *dma;
	ms_tce_table *t;
	ms_iommu_notifier *n;
	recorder rec;
} fixture;

static int record(ms_iommu_notifier *n, const ms_iommu_event *ev, void *opaque)
{
	recorder *r = opaque;
	int len;

	(void)n;
	r->events++;
	if (ev->type == MS_IOMMU_NOTIFIER_MAP && r->fail_map_at &&
	    ev->entry.translated_addr == r->fail_map_at && r->fail_skip-- == 0)
		return -EFAULT;
	len = snprintf(r->text + r->len, sizeof(r->text) - r->len, "%s %#llx+%#llx->%#llx/%d;",
		       ev->type == MS_IOMMU_NOTIFIER_MAP ? "MAP" : "UNMAP",
		       (unsigned long long)ev->entry.iova,
		       (unsigned long long)ev->entry.addr_mask + 1,
		       (unsigned long long)ev->entry.translated_addr, (int)ev->entry.perm);
	assert_true(len > 0 && (size_t)len < sizeof(r->text) - r->len);
	r->len += (size_t)len;
	return 0;
}

static void rec_reset(recorder *r)
{
	r->len = 0;
	r->text[0] = '\0';
	r->events = 0;
}

static ms_iommu_notifier *listen(ms_region *iommu, recorder *r, ms_iommu_notifier_flags flags)
{
	ms_iommu_notifier_opts opts = MS_IOMMU_NOTIFIER_OPTS_INIT;
	ms_iommu_notifier *n = NULL;

	opts.flags = flags;
	opts.notify = record;
	opts.opaque = r;
	assert_int_equal(ms_iommu_register_notifier(&n, iommu, &opts), 0);
	return n;
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(ms_ctx_new(&f->ctx), 0);
	assert_int_equal(ms_region_new_container(&f->memroot, f->ctx, "memroot", RAM_SIZE), 0);
	assert_int_equal(ms_region_new_ram(&f->ram, f->ctx, "ram", RAM_SIZE), 0);
	assert_int_equal(ms_region_add_subregion(f->memroot, 0, f->ram), 0);
	assert_int_equal(ms_as_new(&f->mem, f->ctx, f->memroot, "mem"), 0);
	assert_int_equal(ms_tce_new(&f->t, f->ctx, "tce", f->mem), 0);
	assert_int_equal(ms_tce_window_create(f->t, 0, NPAGES * PAGE, 12), 0);
	assert_int_equal(ms_as_new(&f->dma, f->ctx, ms_tce_root(f->t), "dma"), 0);
	f->n = listen(ms_tce_window_region(f->t, 0), &f->rec, MS_IOMMU_NOTIFIER_IOTLB_EVENTS);
	rec_reset(&f->rec);
	for (unsigned i = 0; i < RAM_SIZE; i += 4)
		ms_as_stl_le(f->mem, i, ATTRS, i);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	ms_iommu_unregister_notifier(f->n);
	ms_as_free(f->dma);
	ms_tce_free(f->t);
	ms_region_unref(f->ram);
	ms_region_unref(f->memroot);
	ms_ctx_free(f->ctx);
	free(f);
	return 0;
}

static uint64_t get(fixture *f, uint64_t ioba)
{
	uint64_t tce = 0xdead;

	assert_int_equal(ms_tce_get(&tce, f->t, ioba), 0);
	return tce;
}

/* ---- hypercalls and translation ---- */

static void put_makes_dma_reach_the_page(void **state)
{
	fixture *f = *state;
	ms_result res;

	assert_int_equal(ms_tce_put(f->t, 3 * PAGE, 0x5000 | MS_TCE_RW), 0);
	assert_int_equal(ms_as_ldl_le(f->dma, 3 * PAGE + 8, ATTRS, &res), 0x5008);
	assert_int_equal(res, MS_RESULT_OK);
	assert_int_equal(get(f, 3 * PAGE), 0x5000 | MS_TCE_RW);
}

static void cleared_entry_gives_no_permission(void **state)
{
	fixture *f = *state;
	ms_iotlb_entry e;
	ms_result res;

	assert_int_equal(ms_tce_put(f->t, 0, 0x5000 | MS_TCE_RW), 0);
	assert_int_equal(ms_tce_put(f->t, 0, 0x5000), 0); /* no permission bit: clear */
	assert_int_equal(get(f, 0), 0);
	assert_int_equal(ms_iommu_translate(&e, ms_tce_window_region(f->t, 0), 0, MS_IOMMU_NONE, 0),
			 0);
	assert_int_equal(e.perm, MS_IOMMU_NONE);
	(void)ms_as_ldl_le(f->dma, 0, ATTRS, &res);
	assert_int_equal(res, MS_RESULT_ACCESS_ERROR);
}

static void permission_bits_become_iotlb_permissions(void **state)
{
	fixture *f = *state;
	ms_iotlb_entry e;
	ms_result res;

	assert_int_equal(ms_tce_put(f->t, PAGE, 0x7000 | MS_TCE_READ), 0);
	assert_int_equal(
		ms_iommu_translate(&e, ms_tce_window_region(f->t, 0), PAGE + 5, MS_IOMMU_NONE, 0),
		0);
	assert_int_equal(e.perm, MS_IOMMU_RO);
	assert_int_equal(e.iova, PAGE);
	assert_int_equal(e.translated_addr, 0x7000);
	assert_int_equal(e.addr_mask, PAGE - 1);
	assert_ptr_equal(e.target_as, f->mem);
	res = ms_as_stl_le(f->dma, PAGE, ATTRS, 1);
	assert_int_equal(res, MS_RESULT_ACCESS_ERROR);
	assert_int_equal(ms_tce_put(f->t, 2 * PAGE, 0x7000 | MS_TCE_WRITE), 0);
	assert_int_equal(ms_as_stl_le(f->dma, 2 * PAGE, ATTRS, 0xabcd), MS_RESULT_OK);
	assert_int_equal(ms_as_ldl_le(f->mem, 0x7000, ATTRS, NULL), 0xabcd);
}

static void put_notifies_map_unmap_and_unmap_then_map(void **state)
{
	fixture *f = *state;

	assert_int_equal(ms_tce_put(f->t, PAGE, 0x5000 | MS_TCE_READ), 0);
	assert_int_equal(ms_tce_put(f->t, PAGE, 0x6000 | MS_TCE_RW), 0);
	assert_int_equal(ms_tce_put(f->t, PAGE, 0), 0);
	assert_string_equal(f->rec.text, "MAP 0x1000+0x1000->0x5000/1;"
					 "UNMAP 0x1000+0x1000->0x5000/0;"
					 "MAP 0x1000+0x1000->0x6000/3;"
					 "UNMAP 0x1000+0x1000->0x6000/0;");
}

static void unchanged_entry_notifies_nothing(void **state)
{
	fixture *f = *state;

	assert_int_equal(ms_tce_put(f->t, 0, 0), 0);
	assert_int_equal(ms_tce_put(f->t, PAGE, 0x5000 | MS_TCE_READ), 0);
	rec_reset(&f->rec);
	assert_int_equal(ms_tce_put(f->t, PAGE, 0x5000 | MS_TCE_READ), 0);
	assert_int_equal(f->rec.events, 0);
}

static void stuff_sets_and_notifies_each_entry(void **state)
{
	fixture *f = *state;

	assert_int_equal(ms_tce_stuff(f->t, 2 * PAGE, 0x9000 | MS_TCE_WRITE, 3), 0);
	assert_string_equal(f->rec.text, "MAP 0x2000+0x1000->0x9000/2;"
					 "MAP 0x3000+0x1000->0x9000/2;"
					 "MAP 0x4000+0x1000->0x9000/2;");
	assert_int_equal(get(f, 4 * PAGE), 0x9000 | MS_TCE_WRITE);
	rec_reset(&f->rec);
	assert_int_equal(ms_tce_stuff(f->t, 0, 0, NPAGES), 0); /* clear all */
	assert_int_equal(f->rec.events, 3);
	assert_int_equal(get(f, 3 * PAGE), 0);
}

static void put_indirect_reads_a_big_endian_list(void **state)
{
	fixture *f = *state;

	assert_int_equal(ms_as_stq_be(f->mem, 0x10000, ATTRS, 0xa000 | MS_TCE_READ), MS_RESULT_OK);
	assert_int_equal(ms_as_stq_be(f->mem, 0x10008, ATTRS, 0), MS_RESULT_OK);
	assert_int_equal(ms_as_stq_be(f->mem, 0x10010, ATTRS, 0xb000 | MS_TCE_RW), MS_RESULT_OK);
	assert_int_equal(ms_tce_put_indirect(f->t, 8 * PAGE, 0x10000, 3), 0);
	assert_int_equal(get(f, 8 * PAGE), 0xa000 | MS_TCE_READ);
	assert_int_equal(get(f, 9 * PAGE), 0);
	assert_int_equal(get(f, 10 * PAGE), 0xb000 | MS_TCE_RW);
	assert_string_equal(f->rec.text, "MAP 0x8000+0x1000->0xa000/1;"
					 "MAP 0xa000+0x1000->0xb000/3;");
}

/* ---- bad input: an error, nothing changed, nothing notified ---- */

static void bad_input_changes_nothing(void **state)
{
	fixture *f = *state;
	uint64_t tce;

	assert_int_equal(ms_tce_put(f->t, 5 * PAGE, 0x5000 | MS_TCE_RW), 0);
	rec_reset(&f->rec);
	/* ioba outside the window, misaligned, at the end */
	assert_int_equal(ms_tce_put(f->t, NPAGES * PAGE, 0x5000 | MS_TCE_RW), -EINVAL);
	assert_int_equal(ms_tce_put(f->t, UINT64_MAX & ~0xfffull, 0x5000 | MS_TCE_RW), -EINVAL);
	assert_int_equal(ms_tce_put(f->t, 5 * PAGE + 8, 0x6000 | MS_TCE_RW), -EINVAL);
	/* TCE beyond the target, straddling its end, with reserved bits */
	assert_int_equal(ms_tce_put(f->t, 5 * PAGE, RAM_SIZE | MS_TCE_RW), -EINVAL);
	assert_int_equal(ms_tce_put(f->t, 5 * PAGE, 0xfffffffffffff000ull | MS_TCE_READ), -EINVAL);
	assert_int_equal(ms_tce_put(f->t, 5 * PAGE, 0x6004 | MS_TCE_RW), -EINVAL);
	/* stuff: 0 pages, overflowing the window, huge counts */
	assert_int_equal(ms_tce_stuff(f->t, 5 * PAGE, 0, 0), -EINVAL);
	assert_int_equal(ms_tce_stuff(f->t, 5 * PAGE, 0, NPAGES - 4), -EINVAL);
	assert_int_equal(ms_tce_stuff(f->t, 5 * PAGE, 0, UINT64_MAX), -EINVAL);
	assert_int_equal(ms_tce_stuff(f->t, 0, RAM_SIZE | MS_TCE_READ, 2), -EINVAL);
	/* indirect: n out of range, list misaligned or unreadable, a bad TCE in it */
	assert_int_equal(ms_tce_put_indirect(f->t, 0, 0x10000, 0), -EINVAL);
	assert_int_equal(ms_tce_put_indirect(f->t, 0, 0x10000, MS_TCE_INDIRECT_MAX + 1), -EINVAL);
	assert_int_equal(ms_tce_put_indirect(f->t, 0, 0x10008, 1), -EINVAL);
	assert_int_equal(ms_tce_put_indirect(f->t, 0, RAM_SIZE, 1), -EFAULT);
	assert_int_equal(ms_tce_put_indirect(f->t, 62 * PAGE, 0x10000, 3), -EINVAL);
	assert_int_equal(ms_as_stq_be(f->mem, 0x10000, ATTRS, 0x1000 | MS_TCE_READ), MS_RESULT_OK);
	assert_int_equal(ms_as_stq_be(f->mem, 0x10008, ATTRS, RAM_SIZE | MS_TCE_READ),
			 MS_RESULT_OK);
	assert_int_equal(ms_tce_put_indirect(f->t, 4 * PAGE, 0x10000, 2), -EINVAL);
	/* get outside the window; NULL arguments */
	assert_int_equal(ms_tce_get(&tce, f->t, NPAGES * PAGE), -EINVAL);
	assert_int_equal(tce, 0);
	assert_int_equal(ms_tce_get(NULL, f->t, 0), -EINVAL);
	assert_int_equal(ms_tce_put(NULL, 0, 0), -EINVAL);
	assert_int_equal(ms_tce_stuff(NULL, 0, 0, 1), -EINVAL);
	assert_int_equal(ms_tce_put_indirect(NULL, 0, 0, 1), -EINVAL);

	assert_int_equal(f->rec.events, 0);
	assert_int_equal(get(f, 5 * PAGE), 0x5000 | MS_TCE_RW);
	assert_int_equal(get(f, 4 * PAGE), 0);
}

static void refused_map_restores_the_entry(void **state)
{
	fixture *f = *state;

	assert_int_equal(ms_tce_put(f->t, PAGE, 0x5000 | MS_TCE_READ), 0);
	f->rec.fail_map_at = 0x6000;
	rec_reset(&f->rec);
	assert_int_equal(ms_tce_put(f->t, PAGE, 0x6000 | MS_TCE_READ), -EFAULT);
	assert_int_equal(get(f, PAGE), 0x5000 | MS_TCE_READ);
	/* UNMAP old, (refused MAP), UNMAP refused, MAP old again */
	assert_string_equal(f->rec.text, "UNMAP 0x1000+0x1000->0x5000/0;"
					 "UNMAP 0x1000+0x1000->0x6000/0;"
					 "MAP 0x1000+0x1000->0x5000/1;");
}

static void refused_stuff_restores_every_entry(void **state)
{
	fixture *f = *state;

	assert_int_equal(ms_tce_put(f->t, 3 * PAGE, 0x5000 | MS_TCE_READ), 0);
	f->rec.fail_map_at = 0x6000;
	f->rec.fail_skip = 2; /* the third page's MAP is refused */
	assert_int_equal(ms_tce_stuff(f->t, PAGE, 0x6000 | MS_TCE_READ, 4), -EFAULT);
	for (unsigned i = 1; i < 5; i++)
		assert_int_equal(get(f, i * PAGE), i == 3 ? (0x5000 | MS_TCE_READ) : 0);
}

/* ---- windows ---- */

static void window_create_refuses_bad_geometry(void **state)
{
	fixture *f = *state;

	assert_int_equal(ms_tce_window_create(f->t, 1ull << 32, 1ull << 24, 13), -EINVAL);
	assert_int_equal(ms_tce_window_create(f->t, 1ull << 32, 0, 16), -EINVAL);
	assert_int_equal(ms_tce_window_create(f->t, 1ull << 32, 0x1800, 12), -EINVAL);
	assert_int_equal(ms_tce_window_create(f->t, (1ull << 32) + 0x1000, 1ull << 16, 16),
			 -EINVAL);
	assert_int_equal(ms_tce_window_create(f->t, UINT64_MAX - 0xffff, 0x20000, 16), -EINVAL);
	assert_int_equal(ms_tce_window_create(f->t, 1ull << 32, (MS_TCE_MAX_ENTRIES + 1) << 12, 12),
			 -E2BIG);
	assert_int_equal(ms_tce_window_create(f->t, PAGE * 8, 1ull << 16, 16), -EINVAL);
	assert_int_equal(ms_tce_window_create(f->t, 0, 1ull << 16, 16), -EBUSY); /* overlap */
	assert_int_equal(ms_tce_window_create(NULL, 0, 1ull << 16, 16), -EINVAL);
	/* a window may end at 2^64 - 1 */
	assert_int_equal(ms_tce_window_create(f->t, 0ull - (1ull << 24), 1ull << 24, 24), 1);
	assert_int_equal(ms_tce_window_create(f->t, 1ull << 40, 1ull << 24, 24), -EBUSY); /* full */
}

static void second_window_with_large_pages(void **state)
{
	fixture *f = *state;
	ms_tce_table_info info;

	assert_int_equal(ms_tce_window_create(f->t, 1ull << 59, 1ull << 24, 21), 1);
	assert_int_equal(ms_tce_window_info(&info, f->t, 1), 0);
	assert_int_equal(info.window_start, 1ull << 59);
	assert_int_equal(info.nr_entries, 8);
	assert_int_equal(ms_iommu_get_min_page_size(ms_tce_window_region(f->t, 1)), 1u << 21);
	assert_int_equal(ms_tce_put(f->t, (1ull << 59) + (2u << 21), (2u << 21) | MS_TCE_RW), 0);
	assert_int_equal(ms_as_ldl_le(f->dma, (1ull << 59) + (2u << 21) + 0x1234, ATTRS, NULL),
			 (2u << 21) + 0x1234);
	assert_int_equal(ms_tce_put(f->t, (1ull << 59) + 0x1000, MS_TCE_RW), -EINVAL);
}

static void window_remove_unmaps_every_present_entry(void **state)
{
	fixture *f = *state;
	ms_tce_table_info info;
	ms_result res;

	assert_int_equal(ms_tce_put(f->t, 7 * PAGE, 0x5000 | MS_TCE_RW), 0);
	assert_int_equal(ms_tce_put(f->t, 63 * PAGE, 0x6000 | MS_TCE_READ), 0);
	rec_reset(&f->rec);
	assert_int_equal(ms_tce_window_remove(f->t, 0), 0);
	assert_string_equal(f->rec.text, "UNMAP 0x7000+0x1000->0x5000/0;"
					 "UNMAP 0x3f000+0x1000->0x6000/0;");
	assert_int_equal(ms_tce_window_info(&info, f->t, 0), -ENOENT);
	assert_int_equal(ms_tce_window_remove(f->t, 0), -ENOENT);
	assert_int_equal(ms_tce_window_remove(f->t, 7), -ENOENT);
	assert_int_equal(ms_tce_put(f->t, 7 * PAGE, 0x5000 | MS_TCE_RW), -EINVAL);
	(void)ms_as_ldl_le(f->dma, 7 * PAGE, ATTRS, &res);
	assert_int_equal(res, MS_RESULT_DECODE_ERROR);
	/* The slot is reused. */
	assert_int_equal(ms_tce_window_create(f->t, 0, 1u << 16, 16), 0);
	assert_int_equal(ms_tce_window_info(&info, f->t, 0), 0);
	assert_int_equal(info.page_shift, 16);
}

/*
 * A window removed while commits fail (an alias loop added in a transaction,
 * which its commit refuses with -ELOOP and the tree keeps) is still removed:
 * its entries are unmapped and the table frees cleanly (the soak campaign's
 * script input regressions/script/tce-window-remove-while-commits-fail ended a session
 * that way).
 */
static void window_remove_while_commits_fail(void **state)
{
	fixture *f = *state;
	ms_region *loop, *self;

	assert_int_equal(ms_tce_put(f->t, 3 * PAGE, 0x3000 | MS_TCE_RW), 0);
	rec_reset(&f->rec);
	assert_int_equal(ms_region_new_container(&loop, f->ctx, "loop", 0x1000), 0);
	assert_int_equal(
		ms_region_new_alias(
			&self, f->ctx,
			&(ms_region_alias_opts){.name = "self", .target = loop, .size = 0x1000}),
		0);
	assert_int_equal(ms_region_add_subregion(f->memroot, RAM_SIZE - 0x1000, loop), 0);
	assert_int_equal(ms_transaction_begin(f->ctx), 0);
	assert_int_equal(ms_region_add_subregion(loop, 0, self), 0); /* checked at the commit */
	assert_int_equal(ms_transaction_commit(f->ctx), -ELOOP);     /* the tree keeps it */
	assert_int_equal(ms_tce_window_remove(f->t, 0), 0);
	assert_string_equal(f->rec.text, "UNMAP 0x3000+0x1000->0x3000/0;");
	assert_int_equal(ms_tce_window_remove(f->t, 0), -ENOENT);
	assert_int_equal(ms_region_del_subregion(loop, self), 0);
	ms_region_unref(self);
	ms_region_unref(loop);
}

/* ---- class methods ---- */

static void replay_announces_present_entries_only(void **state)
{
	fixture *f = *state;
	recorder rep;
	ms_iommu_notifier *n;

	memset(&rep, 0, sizeof(rep));
	assert_int_equal(ms_tce_put(f->t, 40 * PAGE, 0x8000 | MS_TCE_READ), 0);
	assert_int_equal(ms_tce_put(f->t, 2 * PAGE, 0x9000 | MS_TCE_RW), 0);
	assert_int_equal(ms_tce_put(f->t, 63 * PAGE, 0xa000 | MS_TCE_WRITE), 0);
	assert_int_equal(ms_tce_put(f->t, 63 * PAGE, 0), 0);
	n = listen(ms_tce_window_region(f->t, 0), &rep, MS_IOMMU_NOTIFIER_MAP);
	assert_int_equal(ms_iommu_replay(ms_tce_window_region(f->t, 0), n), 0);
	assert_string_equal(rep.text, "MAP 0x2000+0x1000->0x9000/3;"
				      "MAP 0x28000+0x1000->0x8000/1;");
	ms_iommu_unregister_notifier(n);
}

static void replay_of_a_large_sparse_window_visits_present_entries(void **state)
{
	fixture *f = *state;
	recorder rep;
	ms_iommu_notifier *n;
	uint64_t base = 1ull << 40;
	int w;

	memset(&rep, 0, sizeof(rep));
	w = ms_tce_window_create(f->t, base, MS_TCE_MAX_ENTRIES << 12, 12);
	assert_int_equal(w, 1);
	assert_int_equal(
		ms_tce_put(f->t, base + ((MS_TCE_MAX_ENTRIES - 1) << 12), 0x3000 | MS_TCE_READ), 0);
	assert_int_equal(ms_tce_put(f->t, base + (12345ull << 12), 0x4000 | MS_TCE_READ), 0);
	n = listen(ms_tce_window_region(f->t, 1), &rep, MS_IOMMU_NOTIFIER_MAP);
	assert_int_equal(ms_iommu_replay(ms_tce_window_region(f->t, 1), n), 0);
	assert_int_equal(rep.events, 2);
	assert_string_equal(rep.text, "MAP 0x3039000+0x1000->0x4000/1;"
				      "MAP 0x3fffff000+0x1000->0x3000/1;");
	ms_iommu_unregister_notifier(n);
}

static void table_info_attribute_describes_the_window(void **state)
{
	fixture *f = *state;
	ms_tce_table_info info;
	int fd;

	assert_int_equal(ms_tce_put(f->t, 0, 0x5000 | MS_TCE_READ), 0);
	assert_int_equal(
		ms_iommu_get_attr(ms_tce_window_region(f->t, 0), MS_TCE_ATTR_TABLE_INFO, &info), 0);
	assert_int_equal(info.window_start, 0);
	assert_int_equal(info.window_size, NPAGES * PAGE);
	assert_int_equal(info.page_shift, 12);
	assert_int_equal(info.page_sizes, MS_TCE_PAGE_SIZES);
	assert_int_equal(info.nr_entries, NPAGES);
	assert_int_equal(info.nr_present, 1);
	assert_int_equal(
		ms_iommu_get_attr(ms_tce_window_region(f->t, 0), MS_IOMMU_ATTR_SPAPR_TCE_FD, &fd),
		-EINVAL);
	assert_int_equal(ms_iommu_get_min_page_size(ms_tce_window_region(f->t, 0)), PAGE);
}

static void deviotlb_unmap_notifiers_are_refused(void **state)
{
	fixture *f = *state;
	ms_iommu_notifier_opts opts = MS_IOMMU_NOTIFIER_OPTS_INIT;
	ms_iommu_notifier *n = NULL;

	opts.flags = MS_IOMMU_NOTIFIER_DEVIOTLB_UNMAP;
	opts.notify = record;
	opts.opaque = &f->rec;
	assert_int_equal(ms_iommu_register_notifier(&n, ms_tce_window_region(f->t, 0), &opts),
			 -EINVAL);
	assert_null(n);
}

static void new_refuses_bad_arguments(void **state)
{
	fixture *f = *state;
	ms_tce_table *t = (ms_tce_table *)1;
	ms_ctx *other;

	assert_int_equal(ms_tce_new(&t, f->ctx, NULL, f->mem), -EINVAL);
	assert_null(t);
	assert_int_equal(ms_tce_new(&t, NULL, "x", f->mem), -EINVAL);
	assert_int_equal(ms_tce_new(&t, f->ctx, "x", NULL), -EINVAL);
	assert_int_equal(ms_ctx_new(&other), 0);
	assert_int_equal(ms_tce_new(&t, other, "x", f->mem), -EINVAL);
	ms_ctx_free(other);
	ms_tce_free(NULL);
	assert_null(ms_tce_root(NULL));
	assert_null(ms_tce_window_region(f->t, 1));
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(put_makes_dma_reach_the_page),
		T(cleared_entry_gives_no_permission),
		T(permission_bits_become_iotlb_permissions),
		T(put_notifies_map_unmap_and_unmap_then_map),
		T(unchanged_entry_notifies_nothing),
		T(stuff_sets_and_notifies_each_entry),
		T(put_indirect_reads_a_big_endian_list),
		T(bad_input_changes_nothing),
		T(refused_map_restores_the_entry),
		T(refused_stuff_restores_every_entry),
		T(window_create_refuses_bad_geometry),
		T(second_window_with_large_pages),
		T(window_remove_unmaps_every_present_entry),
		T(window_remove_while_commits_fail),
		T(replay_announces_present_entries_only),
		T(replay_of_a_large_sparse_window_visits_present_entries),
		T(table_info_attribute_describes_the_window),
		T(deviotlb_unmap_notifiers_are_refused),
		T(new_refuses_bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
