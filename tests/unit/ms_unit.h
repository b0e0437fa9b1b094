/*
 * ms_unit.h: small helpers shared by the unit tests (not a test itself).
 *
 * They turn library state into text so that tests compare whole views and
 * trees with assert_string_equal(), which prints both sides on a mismatch:
 *
 *   view_str()  one line per flat range: "start-last name @offset[ flags]";
 *   tree_str()  a region and its subtree in list order, with address,
 *               priority and enabled state, checking every child's container
 *               back pointer on the way;
 *   live_regions()  how many regions of a context are still allocated, after
 *               letting pending RCU callbacks (view frees) run.
 *
 * and build machines in one line per object: new_ctx(), new_container(),
 * new_io() (a reservation), new_ram(), new_rom(), new_alias() and new_as()
 * fail the test unless the call succeeds; nop_ops() is a device that reads
 * zeros and ignores writes; rig_new() a context with a root container and an
 * address space on it. EXPECT_REFUSED() checks that a call fails and leaves
 * a test's world as it was.
 *
 * Include after <cmocka.h>. Everything is static inline so a test that uses
 * only part of it compiles without warnings.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MS_UNIT_H
#define MS_UNIT_H

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Unit tests may use every module's internals. */
#include "cache.h"
#include "flatview_int.h"
#include "interval.h"
#include "map.h"
#include "txn.h"

/* Fixed-size text buffer; overflowing it fails the test. */
typedef struct strbuf {
	char text[32768];
	size_t len;
} strbuf;

static inline void sb_reset(strbuf *sb)
{
	sb->len = 0;
	sb->text[0] = '\0';
}

__attribute__((format(printf, 2, 3))) static inline void sb_printf(strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(sb->text + sb->len, sizeof(sb->text) - sb->len, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof(sb->text) - sb->len);
	sb->len += (size_t)n;
}

static inline ms_ctx *new_ctx(void)
{
	ms_ctx *ctx = NULL;

	assert_int_equal(ms_ctx_new(&ctx), 0);
	assert_non_null(ctx);
	return ctx;
}

static inline ms_region *new_container(ms_ctx *ctx, const char *name, uint64_t size)
{
	ms_region *r = NULL;

	assert_int_equal(ms_region_new_container(&r, ctx, name, size), 0);
	return r;
}

/* An I/O region without ops: a reservation. */
static inline ms_region *new_io(ms_ctx *ctx, const char *name, uint64_t size)
{
	ms_region *r = NULL;

	assert_int_equal(
		ms_region_new_io(&r, ctx,
				 &(ms_region_io_opts){.name = name, .size = size, .ops = NULL}),
		0);
	return r;
}

static inline ms_region *new_ram(ms_ctx *ctx, const char *name, uint64_t size)
{
	ms_region *r = NULL;

	assert_int_equal(ms_region_new_ram(&r, ctx, name, size), 0);
	return r;
}

static inline ms_region *new_rom(ms_ctx *ctx, const char *name, uint64_t size)
{
	ms_region *r = NULL;

	assert_int_equal(ms_region_new_rom(&r, ctx, name, size), 0);
	return r;
}

static inline ms_region *new_alias(ms_ctx *ctx, const char *name, ms_region *target,
				   uint64_t offset, uint64_t size)
{
	ms_region *r = NULL;

	assert_int_equal(ms_region_new_alias(&r, ctx,
					     &(ms_region_alias_opts){.name = name,
								     .target = target,
								     .offset = offset,
								     .size = size}),
			 0);
	return r;
}

/* RAM of @size placed at @addr in @root; the container keeps the only reference. */
static inline ms_region *place_ram(ms_ctx *ctx, ms_region *root, const char *name, uint64_t addr,
				   uint64_t size)
{
	ms_region *r = new_ram(ctx, name, size);

	assert_int_equal(ms_region_add_subregion(root, addr, r), 0);
	ms_region_unref(r);
	return r;
}

static inline ms_as *new_as(ms_ctx *ctx, ms_region *root, const char *name)
{
	ms_as *as = NULL;

	assert_int_equal(ms_as_new(&as, ctx, root, name), 0);
	assert_non_null(as);
	return as;
}

static inline uint64_t nop_read(uint64_t addr, unsigned size, void *opaque)
{
	(void)addr;
	(void)size;
	(void)opaque;
	return 0;
}

static inline void nop_write(uint64_t addr, uint64_t data, unsigned size, void *opaque)
{
	(void)addr;
	(void)data;
	(void)size;
	(void)opaque;
}

/* The ops of a device that reads zeros and ignores writes. */
static inline const ms_region_ops *nop_ops(void)
{
	static const ms_region_ops ops = {
		.version = MS_REGION_OPS_VERSION, .read = nop_read, .write = nop_write};

	return &ops;
}

/* "0000-0fff ram0 @0" plus " ro", " nv", " um", " romd", " log=N" when set. */
static inline void section_append(strbuf *sb, const ms_section *s)
{
	sb_printf(sb, "%04" PRIx64 "-%04" PRIx64 " %s @%" PRIx64, s->start, s->last,
		  ms_region_name(s->region), s->offset_in_region);
	if (s->readonly)
		sb_printf(sb, " ro");
	if (s->nonvolatile)
		sb_printf(sb, " nv");
	if (s->unmergeable)
		sb_printf(sb, " um");
	if (s->romd)
		sb_printf(sb, " romd");
	if (s->dirty_log_mask)
		sb_printf(sb, " log=%x", s->dirty_log_mask);
}

/* All ranges of @fv, one per line (each line ends with '\n'). */
static inline const char *view_str(strbuf *sb, const ms_flatview *fv)
{
	size_t i;

	sb_reset(sb);
	for (i = 0; i < ms_flatview_nr_ranges(fv); i++) {
		ms_section s;

		assert_int_equal(ms_flatview_range(&s, fv, i), 0);
		section_append(sb, &s);
		sb_printf(sb, "\n");
	}
	return sb->text;
}

/* The current view object, without keeping a reference (for identity checks). */
static inline const ms_flatview *view_of(ms_as *as)
{
	ms_flatview *fv = ms_as_get_flatview(as);

	ms_flatview_unref(fv); /* the address space still holds one */
	return fv;
}

/* The current published view of @as as text. */
static inline const char *as_view_str(strbuf *sb, ms_as *as)
{
	ms_flatview *fv = ms_as_get_flatview(as);

	view_str(sb, fv);
	ms_flatview_unref(fv);
	return sb->text;
}

static inline void tree_append(strbuf *sb, const ms_region *r)
{
	size_t i, n = ms_region_nr_subregions(r);

	sb_printf(sb, "%s@%" PRIx64 "/%d%s", ms_region_name(r), ms_region_addr(r),
		  ms_region_priority(r), ms_region_enabled(r) ? "" : "(off)");
	if (n == 0)
		return;
	sb_printf(sb, "{");
	for (i = 0; i < n; i++) {
		const ms_region *sub = ms_region_subregion(r, i);

		assert_ptr_equal(ms_region_container(sub), r);
		if (i > 0)
			sb_printf(sb, ",");
		tree_append(sb, sub);
	}
	sb_printf(sb, "}");
}

/* "name@addr/prio{child,...}" in list order; "(off)" marks disabled regions. */
static inline const char *tree_str(strbuf *sb, const ms_region *r)
{
	sb_reset(sb);
	tree_append(sb, r);
	return sb->text;
}

/* The names of @r's subregions in list order, comma separated. */
static inline const char *subs_str(strbuf *sb, const ms_region *r)
{
	size_t i;

	sb_reset(sb);
	for (i = 0; i < ms_region_nr_subregions(r); i++)
		sb_printf(sb, "%s%s", i ? "," : "", ms_region_name(ms_region_subregion(r, i)));
	return sb->text;
}

/*
 * Regions of @ctx still allocated. Views are freed through call_rcu(), and a
 * view's free may drop the last reference on a region, so wait for pending
 * callbacks first. Call outside any RCU read-side section.
 */
static inline size_t live_regions(ms_ctx *ctx)
{
	const ms_region *r;
	size_t n = 0;

	rcu_barrier_bp();
	ms__ctx_lock(ctx);
	for (r = ctx->regions; r; r = r->next)
		n++;
	ms__ctx_unlock(ctx);
	return n;
}

/* Current reference count of a live region (after pending RCU frees). */
static inline uint32_t region_refs(const ms_region *r)
{
	return __atomic_load_n(&r->refcount, __ATOMIC_RELAXED);
}

/*
 * @call must return @err and change nothing. For tests of a "world" whose
 * file defines world_snapshot(strbuf *, world *), writing all the state the
 * test cares about as text, and whose world holds strbufs "before" and
 * "after": the two snapshots are compared whole, so a change prints both.
 */
#define EXPECT_REFUSED(w, call, err)                                                     \
	do {                                                                             \
		world_snapshot(&(w)->before, (w));                                       \
		assert_int_equal((call), (err));                                         \
		assert_string_equal(world_snapshot(&(w)->after, (w)), (w)->before.text); \
	} while (0)

/*
 * A rig: a context, a root container and an address space "as" on it, the
 * setting of many tests. rig_free() frees the address space and the root,
 * checks that no region of the context is left (so a test drops its own
 * references first) and frees the context.
 */
typedef struct rig {
	ms_ctx *ctx;
	ms_region *root;
	ms_as *as;
} rig;

static inline rig rig_new(uint64_t root_size)
{
	rig m;

	m.ctx = new_ctx();
	m.root = new_container(m.ctx, "root", root_size);
	m.as = new_as(m.ctx, m.root, "as");
	return m;
}

static inline void rig_free(rig *m)
{
	ms_as_free(m->as);
	ms_region_unref(m->root);
	assert_int_equal(live_regions(m->ctx), 0);
	ms_ctx_free(m->ctx);
}

#endif /* MS_UNIT_H */
