/*
 * Fuzz target: ms_ram_load() (migrate.h) on arbitrary RAM streams.
 *
 * Every input loads into the same machine: RAM blocks "a" (4096 bytes),
 * "b" (5000 bytes: its second page is short) and "c" (8192 bytes), filled
 * with a fixed pattern, plus a block that is not migratable. The first
 * byte picks how the rest is used:
 *
 *   even  the rest is the stream itself, fed through a memfd;
 *   odd   the rest is a program that builds a stream with valid checksums
 *         (so the checks behind them are reached): a header whose block
 *         list, sizes and page sizes come from the input (mostly the real
 *         ones), then chunk, round and end records, each maybe damaged on
 *         purpose. A model of the blocks follows the chunks (the last copy
 *         of a page wins).
 *
 * After a failed load every byte of every block must be unchanged; after a
 * successful one of a built stream the blocks must equal the model, and a
 * raw stream must have changed nothing but the migratable blocks. Any
 * difference aborts.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include <memspace.h>

#include "fuzz_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                         \
	do {                                                                                \
		if (!(cond)) {                                                              \
			fprintf(stderr, "fuzz_ram_stream: %s:%d: %s\n", __FILE__, __LINE__, \
				#cond);                                                     \
			abort();                                                            \
		}                                                                           \
	} while (0)

#define NR_BLOCKS 3
#define PAGE 4096u
#define MAX_STREAM (1u << 20)

static const char *const names[NR_BLOCKS] = {"a", "b", "c"};
static const uint64_t sizes[NR_BLOCKS] = {4096, 5000, 8192};

struct machine {
	ms_ctx *ctx;
	ms_region *blk[NR_BLOCKS + 1]; /* the last one is not migratable */
	uint64_t page_size;            /* the backend's */
};

static void fill(uint8_t *p, uint64_t len, unsigned seed)
{
	for (uint64_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 31 + seed * 7 + (i >> 8));
}

static void machine_new(struct machine *m)
{
	ms_ram_info info;

	CHECK(ms_ctx_new(&m->ctx) == 0);
	for (int i = 0; i < NR_BLOCKS; i++) {
		CHECK(ms_region_new_ram(&m->blk[i], m->ctx, names[i], sizes[i]) == 0);
		fill(ms_region_ram_ptr(m->blk[i]), sizes[i], (unsigned)i);
	}
	CHECK(ms_region_new_ram_with(&m->blk[NR_BLOCKS], m->ctx,
				     &(ms_ram_opts){.name = "scratch",
						    .size = PAGE,
						    .flags = MS_RAM_NOT_MIGRATABLE}) == 0);
	fill(ms_region_ram_ptr(m->blk[NR_BLOCKS]), PAGE, 9);
	CHECK(ms_region_ram_info(m->blk[0], &info) == 0);
	m->page_size = info.page_size;
}

static void machine_free(struct machine *m)
{
	for (int i = 0; i <= NR_BLOCKS; i++)
		ms_region_unref(m->blk[i]);
	ms_ctx_free(m->ctx);
}

static bool block_equals(struct machine *m, int i, const uint8_t *want)
{
	uint64_t len = i < NR_BLOCKS ? sizes[i] : PAGE;

	return memcmp(ms_region_ram_ptr(m->blk[i]), want, len) == 0;
}

/* A growing byte buffer: the stream being built. */
struct buf {
	uint8_t *p;
	size_t len, cap;
};

static void put(struct buf *b, const void *src, size_t len)
{
	if (len == 0)
		return;
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;

		while (cap < b->len + len)
			cap *= 2;
		b->p = realloc(b->p, cap);
		CHECK(b->p);
		b->cap = cap;
	}
	memcpy(b->p + b->len, src, len);
	b->len += len;
}

static void put_le(struct buf *b, uint64_t v, int bytes)
{
	uint8_t t[8];

	for (int i = 0; i < bytes; i++)
		t[i] = (uint8_t)(v >> (8 * i));
	put(b, t, (size_t)bytes);
}

static uint32_t crc_of(const uint8_t *p, size_t len)
{
	return (uint32_t)crc32(0, p, (uInt)len);
}

/*
 * Build a stream from the program in @r; @model receives the blocks as a
 * successful load must leave them; *@valid says whether the builder knows
 * the stream to be good (every block once with its true size, every page
 * sent, no damage).
 */
static void build(struct reader *r, struct buf *b, uint8_t model[NR_BLOCKS][8192],
		  const struct machine *m, bool *valid)
{
	uint64_t chunks = 0, round = 0;
	unsigned nblk = 0, map[8];
	uint8_t got[NR_BLOCKS] = {0}; /* pages received, bit per page */
	uint8_t ctl = rd8(r);
	size_t hdr_start;

	*valid = true;
	put(b, "MSRAMSTR", 8);
	put_le(b, 1, 4);
	put_le(b, PAGE, 8);
	/* The block list: the three blocks in some order, or not. */
	if (ctl & 0x80) {
		nblk = rd8(r) % 5;
		*valid = false;
		for (unsigned i = 0; i < nblk; i++)
			map[i] = rd8(r) % (NR_BLOCKS + 1);
	} else {
		unsigned rot = ctl % NR_BLOCKS;

		nblk = NR_BLOCKS;
		for (unsigned i = 0; i < nblk; i++)
			map[i] = (i + rot) % NR_BLOCKS;
	}
	put_le(b, nblk, 4);
	for (unsigned i = 0; i < nblk; i++) {
		const char *name = map[i] < NR_BLOCKS ? names[map[i]] : "nope";
		uint64_t size = map[i] < NR_BLOCKS ? sizes[map[i]] : 4096;
		uint64_t psize = m->page_size;

		if (ctl & 0x40) {
			/* Sometimes another size or page size. */
			uint8_t t = rd8(r);

			if (t & 1)
				size += (t >> 1) - 64;
			if (t & 2)
				psize *= 2;
			if (t & 3)
				*valid = false;
		}
		put_le(b, strlen(name), 2);
		put(b, name, strlen(name));
		put_le(b, size, 8);
		put_le(b, psize, 8);
	}
	hdr_start = 0;
	put_le(b, crc_of(b->p + hdr_start, b->len), 4);

	/* Records until the input ends or the end record. */
	while (r->n > 0 && b->len < MAX_STREAM) {
		uint8_t op = rd8(r);
		size_t rec = b->len;
		uint8_t damage = (op & 0xe0) == 0xe0 ? rd8(r) : 0;

		if (op % 8 < 5) {
			/* A chunk of block (op / 8) % nblk, pages from the input. */
			uint32_t bi = nblk ? (uint32_t)((op / 8) % nblk) : 0;
			uint64_t first = rd8(r) % 3, count = 1 + rd8(r) % 2;
			uint8_t fillb = rd8(r);
			unsigned blkno = nblk ? map[bi] : NR_BLOCKS;
			uint64_t bsize = blkno < NR_BLOCKS ? sizes[blkno] : 4096;
			uint64_t off = first * PAGE, len;

			if (off >= bsize || first + count > (bsize + PAGE - 1) / PAGE)
				*valid = false;
			len = off < bsize ? bsize - off : 0;
			if (len > count * PAGE)
				len = count * PAGE;
			if (off >= bsize)
				len = count * PAGE; /* past the block: refused by bounds */
			put_le(b, 1, 4);
			put_le(b, bi, 4);
			put_le(b, first, 8);
			put_le(b, count, 8);
			for (uint64_t i = 0; i < len; i++) {
				uint8_t v = (uint8_t)(fillb + i * 13);

				put(b, &v, 1);
				if (blkno < NR_BLOCKS && off + i < bsize)
					model[blkno][off + i] = v;
			}
			if (blkno < NR_BLOCKS)
				for (uint64_t p = first; p < first + count && p < 3; p++)
					got[blkno] |= (uint8_t)(1u << p);
			put_le(b, crc_of(b->p + rec, b->len - rec), 4);
			chunks++;
		} else if (op % 8 < 7) {
			put_le(b, 2, 4);
			put_le(b, 0, 4);
			put_le(b, ++round, 8);
			put_le(b, 0, 8);
			put_le(b, crc_of(b->p + rec, b->len - rec), 4);
		} else {
			put_le(b, 3, 4);
			put_le(b, 0, 4);
			put_le(b, 0, 8);
			put_le(b, chunks, 8);
			put_le(b, crc_of(b->p, b->len), 4);
			if (damage) {
				b->p[rec + damage % (b->len - rec)] ^= (uint8_t)(damage | 1);
				*valid = false;
			}
			break;
		}
		if (damage) {
			/* Flip a byte of the record just written. */
			b->p[rec + damage % (b->len - rec)] ^= (uint8_t)(damage | 1);
			*valid = false;
		}
		if (r->n == 0 || b->len >= MAX_STREAM)
			*valid = false; /* no end record */
	}
	for (unsigned i = 0; i < NR_BLOCKS; i++)
		if (got[i] != (1u << ((sizes[i] + PAGE - 1) / PAGE)) - 1)
			*valid = false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t before[NR_BLOCKS + 1][8192];
	static uint8_t model[NR_BLOCKS][8192];
	struct reader r = {data, size};
	struct machine m;
	struct buf b = {0};
	bool built = size > 0 && (data[0] & 1), valid = false;
	int fd, rc;

	machine_new(&m);
	for (int i = 0; i <= NR_BLOCKS; i++)
		memcpy(before[i], ms_region_ram_ptr(m.blk[i]), i < NR_BLOCKS ? sizes[i] : PAGE);
	if (built) {
		rd8(&r);
		for (int i = 0; i < NR_BLOCKS; i++)
			memcpy(model[i], before[i], sizes[i]);
		build(&r, &b, model, &m, &valid);
	} else if (size > 0) {
		put(&b, data + 1, size - 1);
	}
	fd = memfd_create("fuzz-ram-stream", 0);
	CHECK(fd >= 0);
	if (b.len)
		CHECK(write(fd, b.p, b.len) == (ssize_t)b.len);
	CHECK(lseek(fd, 0, SEEK_SET) == 0);
	rc = ms_ram_load(m.ctx, fd);
	close(fd);
	CHECK(rc == 0 || rc == -EBADMSG || rc == -ENODATA || rc == -ENOENT || rc == -ERANGE);
	/* The block that is not migratable never changes. */
	CHECK(block_equals(&m, NR_BLOCKS, before[NR_BLOCKS]));
	if (rc < 0) {
		CHECK(!valid);
		for (int i = 0; i < NR_BLOCKS; i++)
			CHECK(block_equals(&m, i, before[i]));
	} else if (built) {
		for (int i = 0; i < NR_BLOCKS; i++)
			CHECK(block_equals(&m, i, model[i]));
	}
	if (valid)
		CHECK(rc == 0);
	free(b.p);
	machine_free(&m);
	return 0;
}
