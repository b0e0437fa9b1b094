/*
 * dirty.c: the public dirty-tracking calls (dirty.h) on top of the RAM
 * blocks' bitmaps (bitmap.c). Nothing here takes the topology lock except
 * the page-size setting: bitmaps are read and written atomically, and a
 * region's block never changes while the caller holds the region.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "txn.h"

struct ms_dirty_snapshot {
	ms_region *region; /* reference held */
	unsigned page_shift;
	uint64_t first_page; /* a multiple of 64 */
	uint64_t nr_pages;   /* pages covered (clipped to the block) */
	uint64_t words[];
};

/* ---- global dirty logging ---------------------------------------------------- */

/* Every RAM block of @ctx logs MIGRATION or not, as ctx->global_dirty_log says. */
static int update_blocks(ms_ctx *ctx)
{
	for (ms_region *r = ctx->regions; r; r = r->next) {
		int rc = ms__region_update_log(r);

		if (rc < 0)
			return rc;
	}
	return 0;
}

static void undo_global(void *state)
{
	ms_ctx *ctx = state;

	ctx->global_dirty_log = !ctx->global_dirty_log;
	(void)update_blocks(ctx); /* back to what it was: the bitmaps exist */
}

/*
 * Turn global logging on or off as QEMU does: the MIGRATION client becomes
 * part of every migratable RAM range's dirty_log_mask, so the views are
 * rendered again and listeners see log_start / log_stop on those ranges.
 * Starting calls log_global_start first, then commits; stopping commits,
 * then calls log_global_stop. A failed commit or allocation rolls back
 * (the listeners that started are stopped again).
 */
static int set_global(ms_ctx *ctx, bool on)
{
	ms__txn_mutation m;
	int rc;

	if (!ctx)
		return -EINVAL;
	ms__ctx_lock(ctx); /* held across the commit and the stop callbacks */
	rc = ms__txn_mutation_begin(&m, ctx);
	if (rc < 0)
		goto out;
	if (ctx->global_dirty_log == on || ctx->depth > 1) {
		/* Nothing to do; or inside a transaction, where the listeners
		 * would hear of it before its ranges change. */
		rc = ctx->global_dirty_log == on ? 0 : -EBUSY;
		ms__txn_mutation_cancel(&m);
		goto out;
	}
	if (on) {
		/* The bitmaps first: nothing can fail after the listeners start
		 * but the commit. */
		for (ms_region *r = ctx->regions; r && rc == 0; r = r->next)
			if (ms__region_logs_migration(r))
				rc = ms__bitmap_alloc(r->rb, ctx, 1u << MS_DIRTY_MIGRATION);
		if (rc == 0)
			rc = ms__listener_global_start(ctx);
		if (rc < 0) {
			ms__txn_mutation_cancel(&m);
			goto out;
		}
	}
	for (ms_region *r = ctx->regions; r && rc == 0; r = r->next) {
		/*
		 * A region whose last reference is going away (in no view any
		 * more) is skipped: touching it would revive it, and its
		 * destroyer would free it under the touch's reference.
		 */
		if (!ms__region_logs_migration(r) || !ms__region_tryget(r))
			continue;
		rc = ms__txn_touch(r);
		if (rc == 0)
			ms__txn_dirty(r, 0, r->size - 1, r->size);
		ms_region_unref(r); /* the touch holds its own (the lock is recursive) */
	}
	if (rc == 0) {
		ctx->global_dirty_log = on;
		(void)update_blocks(ctx); /* cannot fail: the bitmaps exist */
	}
	if (rc < 0) {
		ms__txn_mutation_cancel(&m);
	} else {
		rc = ms__txn_mutation_end(&m, undo_global, ctx);
	}
	if (rc < 0 && on)
		ms__listener_global_stop(ctx); /* roll the start back */
	if (rc == 0 && !on)
		ms__listener_global_stop(ctx);
out:
	ms__ctx_unlock(ctx);
	return rc;
}

int ms_ctx_dirty_log_global_start(ms_ctx *ctx)
{
	return set_global(ctx, true);
}

int ms_ctx_dirty_log_global_stop(ms_ctx *ctx)
{
	return set_global(ctx, false);
}

/* ---- page size, marks and snapshots ----------------------------------------- */

int ms_ctx_set_dirty_page_size(ms_ctx *ctx, uint64_t size)
{
	unsigned shift = 0;
	int rc = 0;

	if (!ctx || size < 512 || size > ((uint64_t)1 << 30) || (size & (size - 1)))
		return -EINVAL;
	while (((uint64_t)1 << shift) < size)
		shift++;
	ms__ctx_lock(ctx);
	if (ctx->made_ramblock && ctx->dirty_page_shift != shift)
		rc = -EBUSY;
	else
		ctx->dirty_page_shift = shift;
	ms__ctx_unlock(ctx);
	return rc;
}

uint64_t ms_ctx_dirty_page_size(const ms_ctx *ctx)
{
	return ctx ? (uint64_t)1 << ctx->dirty_page_shift : 0;
}

uint8_t ms_region_dirty_log_mask(const ms_region *r)
{
	return r && r->rb ? __atomic_load_n(&r->rb->log_mask, __ATOMIC_ACQUIRE) : 0;
}

/* A range of a region with memory: true when usable. */
static bool range_ok(const ms_region *r, uint64_t offset, uint64_t size)
{
	return r && r->rb && r->ram && size > 0 && offset < r->size && size <= r->size - offset;
}

bool ms_region_get_dirty(const ms_region *r, uint64_t offset, uint64_t size, unsigned int client)
{
	if (!range_ok(r, offset, size) || client >= MS_DIRTY_CLIENTS)
		return false;
	return ms__bitmap_test(r->rb, client, offset, size);
}

int ms_region_set_dirty(ms_region *r, uint64_t offset, uint64_t size)
{
	if (!range_ok(r, offset, size))
		return -EINVAL;
	ms__ramblock_written(r->rb, offset, size);
	return 0;
}

int ms_region_reset_dirty(ms_region *r, uint64_t offset, uint64_t size, unsigned int client)
{
	if (!range_ok(r, offset, size) || client >= MS_DIRTY_CLIENTS)
		return -EINVAL;
	ms__bitmap_clear(r->rb, client, offset, size);
	return 0;
}

int ms_region_snapshot_and_clear_dirty(ms_dirty_snapshot **out, ms_region *r, uint64_t offset,
				       uint64_t size, unsigned int client)
{
	ms__ramblock *rb;
	ms_dirty_snapshot *snap;
	uint64_t first, last, nwords;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!range_ok(r, offset, size) || client >= MS_DIRTY_CLIENTS)
		return -EINVAL;
	rb = r->rb;
	/* Whole words: pages [first, last], first a multiple of 64. */
	first = (offset >> rb->page_shift) & ~(uint64_t)63;
	last = (offset + size - 1) >> rb->page_shift;
	nwords = last / 64 - first / 64 + 1;
	snap = ms__ctx_malloc(r->ctx, sizeof(*snap) + nwords * sizeof(uint64_t));
	if (!snap)
		return -ENOMEM;
	snap->region = ms_region_ref(r);
	snap->page_shift = rb->page_shift;
	snap->first_page = first;
	snap->nr_pages = nwords * 64;
	if (first + snap->nr_pages > rb->nr_pages)
		snap->nr_pages = rb->nr_pages - first;
	ms__bitmap_take(rb, client, first / 64, nwords, snap->words);
	*out = snap;
	return 0;
}

static bool snap_bit(const ms_dirty_snapshot *snap, uint64_t page)
{
	uint64_t i = page - snap->first_page;

	return (snap->words[i / 64] >> (i % 64)) & 1;
}

/* The end of what @snap covers: its last word's end, clipped to the region. */
static uint64_t snap_end(const ms_dirty_snapshot *snap)
{
	uint64_t end = (snap->first_page + snap->nr_pages) << snap->page_shift;

	return end > (uint64_t)snap->region->size ? (uint64_t)snap->region->size : end;
}

bool ms_dirty_snapshot_get_dirty(const ms_dirty_snapshot *snap, uint64_t offset, uint64_t size)
{
	uint64_t first, last;

	/* Bytes past the region's end are outside, even inside its last page. */
	if (!snap || size == 0 || offset + size - 1 < offset || offset + size > snap_end(snap))
		return false;
	first = offset >> snap->page_shift;
	last = (offset + size - 1) >> snap->page_shift;
	if (first < snap->first_page || last >= snap->first_page + snap->nr_pages)
		return false;
	for (uint64_t p = first; p <= last; p++) {
		uint64_t i = p - snap->first_page;

		if (i % 64 == 0 && p + 63 <= last) {
			if (snap->words[i / 64])
				return true;
			p += 63;
			continue;
		}
		if (snap_bit(snap, p))
			return true;
	}
	return false;
}

bool ms_dirty_snapshot_next(const ms_dirty_snapshot *snap, uint64_t from, uint64_t *next)
{
	uint64_t i, end;

	if (!snap || !next)
		return false;
	i = from >> snap->page_shift;
	if ((from & (((uint64_t)1 << snap->page_shift) - 1)) != 0)
		i++; /* the page @from is inside started before it */
	i = i < snap->first_page ? 0 : i - snap->first_page;
	end = snap->nr_pages;
	while (i < end) {
		uint64_t w = snap->words[i / 64] >> (i % 64);

		if (w) {
			i += (uint64_t)__builtin_ctzll(w);
			if (i >= end)
				return false;
			*next = (snap->first_page + i) << snap->page_shift;
			return true;
		}
		i = (i / 64 + 1) * 64;
	}
	return false;
}

uint64_t ms_dirty_snapshot_count(const ms_dirty_snapshot *snap)
{
	uint64_t n = 0;

	if (!snap)
		return 0;
	for (uint64_t w = 0; w < (snap->nr_pages + 63) / 64; w++)
		n += (uint64_t)__builtin_popcountll(snap->words[w]);
	return n;
}

void ms_dirty_snapshot_range(const ms_dirty_snapshot *snap, uint64_t *offset, uint64_t *size)
{
	uint64_t lo = 0, len = 0;

	if (snap) {
		uint64_t end = snap_end(snap);

		lo = snap->first_page << snap->page_shift;
		len = end > lo ? end - lo : 0;
	}
	if (offset)
		*offset = lo;
	if (size)
		*size = len;
}

void ms_dirty_snapshot_free(ms_dirty_snapshot *snap)
{
	if (!snap)
		return;
	ms_region_unref(snap->region);
	free(snap);
}
