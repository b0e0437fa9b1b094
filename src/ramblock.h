/*
 * ramblock.h: the host memory behind a RAM-backed region, and its dirty
 * bitmaps (ramblock.c: backends; bitmap.c: dirty bitmaps).
 *
 * A RAM block is what a region with memory owns: where the memory came
 * from (backend.h), how long it is (the used length is the region's size;
 * the reservation is max_size and never moves), and one dirty bitmap per
 * logging client. The block knows nothing of regions: region.c creates
 * one per RAM-backed region and frees it with the region.
 *
 * Locking: the backend fields are fixed at creation. log_mask and the
 * bitmap pointers are [atomic]: they change with the topology lock held
 * and are read by accesses in any thread; a bitmap, once allocated, lives
 * as long as the block. Bits are set and cleared with atomic operations.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_RAMBLOCK_H
#define MEMSPACE_RAMBLOCK_H

#include <memspace/backend.h>
#include <memspace/dirty.h>

#include "ctx.h"

typedef struct ms__ramblock {
	ms_ram_backend backend;
	unsigned flags; /* MS_RAM_* as created */
	void *host;     /* the memory; NULL for MS_RAM_NONE */
	uint64_t max_size;
	int fd; /* owned (closed with the block), or -1 */
	uint64_t fd_offset;
	uint64_t page_size; /* the backend's page size */
	uint64_t align;     /* as asked */
	bool shared, readonly;
	bool resizeable; /* made with a max_size */
	/* What ms__ramblock_free() unmaps: the whole reservation (alignment
	 * slack included); map_len 0 when the memory is not ours. */
	void *map_base;
	size_t map_len;
	/* A small anonymous block carved from one of the context's slabs
	 * (ramblock.c) instead of mapped on its own: given back there. */
	struct ms__ramslab *slab;

	/* bitmap.c */
	unsigned page_shift;                /* dirty page size, from the context at creation */
	uint64_t nr_pages;                  /* pages of max_size (rounded up) */
	uint8_t log_mask;                   /* [atomic] clients whose bits writes set */
	uint64_t *bitmap[MS_DIRTY_CLIENTS]; /* [atomic] NULL until a client first logs */

	/* backend.h: resizeable RAM */
	void (*resized)(ms_region *r, uint64_t old_size, uint64_t new_size, void *opaque);
	void *opaque;
} ms__ramblock;

/* ---- ramblock.c ---------------------------------------------------------- */

/*
 * Check @opts and create the memory. Checks everything documented for
 * ms_region_new_ram_with() except the name and size (the region does).
 * On failure nothing is left behind (no mapping, no fd, no new file).
 * Return: 0, or the errors ms_region_new_ram_with() documents.
 */
int ms__ramblock_new(ms__ramblock **out, ms_ctx *ctx, const ms_ram_opts *opts);
/* Unmap and close what the block owns, free its bitmaps and the block. */
void ms__ramblock_free(ms__ramblock *rb);
/*
 * Discard [offset, offset + len) of the memory: it reads as zeros after
 * (page-aligned parts are given back to the host, the rest cleared).
 */
int ms__ramblock_discard(ms__ramblock *rb, uint64_t offset, uint64_t len);
/* Fill @info (size is the caller's: the region's used length). */
void ms__ramblock_info(const ms__ramblock *rb, ms_ram_info *info);

/* ---- bitmap.c ------------------------------------------------------------ */

/* Set up the (empty) dirty state: @page_shift from the context. */
void ms__bitmap_init(ms__ramblock *rb, unsigned page_shift);
/* Free the bitmaps (ms__ramblock_free() calls it). */
void ms__bitmap_fini(ms__ramblock *rb);
/* Allocate the bitmaps of @mask's clients that are missing. 0 or -ENOMEM. */
int ms__bitmap_alloc(ms__ramblock *rb, ms_ctx *ctx, uint8_t mask);
/*
 * Make @mask the clients whose bits writes set (lock held); clients
 * without a bitmap (ms__bitmap_alloc()) are skipped by the writers.
 */
void ms__bitmap_set_log_mask(ms__ramblock *rb, uint8_t mask);
/* Set the bits of @mask's clients for [offset, offset + len), len > 0. */
void ms__bitmap_mark(ms__ramblock *rb, uint8_t mask, uint64_t offset, uint64_t len);
/* Clear / test @client's bits of the pages of [offset, offset + len), len > 0. */
void ms__bitmap_clear(ms__ramblock *rb, unsigned client, uint64_t offset, uint64_t len);
bool ms__bitmap_test(const ms__ramblock *rb, unsigned client, uint64_t offset, uint64_t len);
/*
 * Move @nwords words of @client's bitmap from @first_word on into @dst,
 * clearing them (zeros when the client never logged the block).
 */
void ms__bitmap_take(ms__ramblock *rb, unsigned client, uint64_t first_word, uint64_t nwords,
		     uint64_t *dst);

/*
 * A write of [offset, offset + len) reached @rb's memory: mark it for the
 * clients logging @rb. The cost when nothing logs is one atomic load.
 */
static inline void ms__ramblock_written(ms__ramblock *rb, uint64_t offset, uint64_t len)
{
	uint8_t mask;

	if (!rb || !len)
		return;
	mask = __atomic_load_n(&rb->log_mask, __ATOMIC_RELAXED);
	if (mask)
		ms__bitmap_mark(rb, mask, offset, len);
}

#endif /* MEMSPACE_RAMBLOCK_H */
