/*
 * bitmap.c: the dirty bitmaps of a RAM block.
 *
 * One bitmap per client, one bit per dirty page of the block's whole
 * reservation (max_size), allocated the first time the client logs the
 * block and kept until the block goes (a writer may still hold the pointer
 * it loaded). Writers set bits with an atomic OR after their bytes are in
 * memory; snapshots move whole words out with an atomic exchange.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ramblock.h"

void ms__bitmap_init(ms__ramblock *rb, unsigned page_shift)
{
	uint64_t page = (uint64_t)1 << page_shift;

	rb->page_shift = page_shift;
	rb->nr_pages = rb->max_size / page + (rb->max_size % page != 0);
}

void ms__bitmap_fini(ms__ramblock *rb)
{
	for (unsigned c = 0; c < MS_DIRTY_CLIENTS; c++) {
		free(rb->bitmap[c]);
		rb->bitmap[c] = NULL;
	}
}

static size_t nr_words(const ms__ramblock *rb)
{
	return (size_t)((rb->nr_pages + 63) / 64);
}

int ms__bitmap_alloc(ms__ramblock *rb, ms_ctx *ctx, uint8_t mask)
{
	for (unsigned c = 0; c < MS_DIRTY_CLIENTS; c++) {
		uint64_t *bm;

		if (!(mask & (1u << c)) || rb->bitmap[c] || !rb->nr_pages)
			continue;
		bm = ms__ctx_calloc(ctx, nr_words(rb), sizeof(uint64_t));
		if (!bm)
			return -ENOMEM; /* the bitmaps made so far stay, unused */
		__atomic_store_n(&rb->bitmap[c], bm, __ATOMIC_RELEASE);
	}
	return 0;
}

void ms__bitmap_set_log_mask(ms__ramblock *rb, uint8_t mask)
{
	__atomic_store_n(&rb->log_mask, mask, __ATOMIC_RELEASE);
}

/* The bits of word @w that lie in [first, last]. */
static uint64_t word_mask(uint64_t w, uint64_t first, uint64_t last)
{
	uint64_t lo = w == first / 64 ? first % 64 : 0;
	uint64_t hi = w == last / 64 ? last % 64 : 63;
	uint64_t upto = hi == 63 ? ~(uint64_t)0 : ((uint64_t)1 << (hi + 1)) - 1;

	return upto & ~(((uint64_t)1 << lo) - 1);
}

/* Set (or, with @clear, clear) bits [first, last] of @bm. */
static void bits_update(uint64_t *bm, uint64_t first, uint64_t last, bool clear)
{
	uint64_t w = first / 64, lw = last / 64;

	for (; w <= lw; w++) {
		uint64_t m = word_mask(w, first, last);

		/*
		 * Setting is always a read-modify-write, even when the bits look
		 * set already: its release order is what puts the written bytes
		 * before the bit for a snapshot's exchange (acquire). Skipping it
		 * would let a snapshot clear the bit and copy the page before
		 * those bytes are visible, and the write would be lost.
		 */
		if (clear) {
			if (__atomic_load_n(&bm[w], __ATOMIC_RELAXED) & m)
				__atomic_fetch_and(&bm[w], ~m, __ATOMIC_ACQ_REL);
		} else {
			__atomic_fetch_or(&bm[w], m, __ATOMIC_RELEASE);
		}
	}
}

void ms__bitmap_mark(ms__ramblock *rb, uint8_t mask, uint64_t offset, uint64_t len)
{
	uint64_t first = offset >> rb->page_shift;
	uint64_t last = (offset + len - 1) >> rb->page_shift;

	if (offset >= rb->max_size || len == 0)
		return;
	if (last >= rb->nr_pages)
		last = rb->nr_pages - 1;
	for (unsigned c = 0; c < MS_DIRTY_CLIENTS; c++) {
		uint64_t *bm;

		if (!(mask & (1u << c)))
			continue;
		bm = __atomic_load_n(&rb->bitmap[c], __ATOMIC_ACQUIRE);
		if (bm)
			bits_update(bm, first, last, false);
	}
}

void ms__bitmap_clear(ms__ramblock *rb, unsigned client, uint64_t offset, uint64_t len)
{
	uint64_t *bm = __atomic_load_n(&rb->bitmap[client], __ATOMIC_ACQUIRE);
	uint64_t first = offset >> rb->page_shift;
	uint64_t last = (offset + len - 1) >> rb->page_shift;

	if (!bm || len == 0 || first >= rb->nr_pages)
		return;
	if (last >= rb->nr_pages)
		last = rb->nr_pages - 1;
	bits_update(bm, first, last, true);
}

bool ms__bitmap_test(const ms__ramblock *rb, unsigned client, uint64_t offset, uint64_t len)
{
	const uint64_t *bm = __atomic_load_n(&rb->bitmap[client], __ATOMIC_ACQUIRE);
	uint64_t first = offset >> rb->page_shift;
	uint64_t last = (offset + len - 1) >> rb->page_shift;

	if (!bm || len == 0 || first >= rb->nr_pages)
		return false;
	if (last >= rb->nr_pages)
		last = rb->nr_pages - 1;
	for (uint64_t w = first / 64; w <= last / 64; w++) {
		uint64_t m = word_mask(w, first, last);

		if (__atomic_load_n(&bm[w], __ATOMIC_ACQUIRE) & m)
			return true;
	}
	return false;
}

void ms__bitmap_take(ms__ramblock *rb, unsigned client, uint64_t first_word, uint64_t nwords,
		     uint64_t *dst)
{
	uint64_t *bm = __atomic_load_n(&rb->bitmap[client], __ATOMIC_ACQUIRE);

	for (uint64_t i = 0; i < nwords; i++) {
		uint64_t *w = bm ? &bm[first_word + i] : NULL;

		/* Skip the exchange (a locked write) for words with nothing set. */
		if (!w || !__atomic_load_n(w, __ATOMIC_RELAXED))
			dst[i] = 0;
		else
			dst[i] = __atomic_exchange_n(w, 0, __ATOMIC_ACQ_REL);
	}
}
