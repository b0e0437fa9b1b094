/*
 * migrate.c: the RAM stream (migrate.h): saving every migratable RAM block
 * of a context, loading it all or nothing, and iterative dirty pre-copy.
 *
 * Format (docs/migration.md, "RAM stream"), every integer little-endian:
 *
 *   header  magic "MSRAMSTR", u32 version, u64 dirty page size, u32 block
 *           count, per block { u16 name length, name, u64 size, u64 page
 *           size }, u32 CRC-32 of the header's bytes before it;
 *   record  u32 type, u32 block, u64 page, u64 count (24 bytes), then
 *           for a chunk the data of pages [page, page + count) of the block
 *           (the last page of a block may be short), then u32 CRC-32 of the
 *           record header and data; a round marker has page = round number;
 *           the end record has count = number of chunks and, as its CRC,
 *           the CRC-32 of every byte of the stream before that CRC.
 *
 * Senders copy each chunk into a buffer before checksumming and writing it,
 * so a guest write racing with a round cannot make the record disagree
 * with its checksum; the dirty bits were cleared before the copy, so such
 * a write is sent again in a later round. The loader reads everything into
 * anonymous staging memory first and touches the destination only once the
 * end record has checked out.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include <memspace/listener.h>
#include <memspace/migrate.h>

#include "region.h"

#define STREAM_MAGIC "MSRAMSTR"
#define STREAM_VERSION 1u
#define REC_CHUNK 1u
#define REC_ROUND 2u
#define REC_END 3u
#define REC_HDR 24u
#define MAX_NAME 65535u
#define MAX_BLOCKS (1u << 20)
/* Data bytes per chunk record (at least one page). */
#define CHUNK_BYTES ((uint64_t)1 << 20)

/* One migratable block as the stream sees it. */
struct blk {
	ms_region *r; /* reference held */
	const char *name;
	uint64_t size;      /* bytes, fixed for the stream */
	uint64_t page_size; /* the backend's */
	uint8_t *host;
};

/* ---- little-endian helpers ------------------------------------------------ */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* zlib's crc32() takes a uInt length: feed it in pieces. */
static uint32_t crc_update(uint32_t crc, const void *buf, uint64_t len)
{
	const uint8_t *p = buf;

	while (len) {
		uInt n = len > (1u << 30) ? (1u << 30) : (uInt)len;

		crc = (uint32_t)crc32(crc, p, n);
		p += n;
		len -= n;
	}
	return crc;
}

/* ---- the blocks of a context ---------------------------------------------- */

static bool migratable(const ms_region *r)
{
	return r->rb && r->ram && r->kind != MS_REGION_RAM_DEVICE &&
	       !(r->rb->flags & MS_RAM_NOT_MIGRATABLE) && !r->rb->readonly;
}

static void blocks_put(struct blk *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ms_region_unref(b[i].r);
	free(b);
}

/*
 * The migratable blocks of @ctx, each referenced. Return: 0, -ENOTUNIQ
 * when two share a name, -ENOMEM.
 */
static int blocks_get(ms_ctx *ctx, struct blk **out, size_t *nout)
{
	struct blk *b = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	*out = NULL;
	*nout = 0;
	ms__ctx_lock(ctx);
	for (ms_region *r = ctx->regions; r; r = r->next) {
		const char *name = r->name ? r->name : "";

		if (!migratable(r))
			continue;
		/* A region whose last reference went is still listed until its
		 * destroyer gets the lock: skip it, never revive it. */
		if (!ms__region_tryget(r))
			continue;
		for (size_t i = 0; i < n; i++)
			if (strcmp(b[i].name, name) == 0)
				rc = -ENOTUNIQ;
		if (rc == 0 && strlen(name) > MAX_NAME)
			rc = -EINVAL;
		if (rc == 0)
			rc = ms__ctx_grow(ctx, (void **)&b, &cap, n + 1, sizeof(*b));
		if (rc < 0) {
			ms_region_unref(r); /* the lock is recursive: the last unref may run here */
			break;
		}
		b[n].r = r;
		b[n].name = name;
		b[n].size = (uint64_t)r->size;
		b[n].page_size = r->rb->page_size;
		b[n].host = r->ram;
		n++;
	}
	ms__ctx_unlock(ctx);
	if (rc < 0) {
		blocks_put(b, n);
		return rc;
	}
	*out = b;
	*nout = n;
	return 0;
}

/* ---- writing -------------------------------------------------------------- */

struct ms_precopy {
	ms_ctx *ctx;
	int fd;
	struct blk *blocks;
	size_t nr_blocks;
	unsigned shift; /* dirty page size of the stream */
	uint8_t *buf;   /* one record */
	size_t buf_size;
	uint32_t crc;    /* of everything written */
	uint64_t chunks; /* chunk records written */
	ms_precopy_stats stats;
	int error;       /* the first failure: the migration is dead */
	bool logging;    /* we turned global dirty logging on */
	bool registered; /* ctx->precopy_running is ours */
	bool done;
};

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Write @len bytes of m->buf (or @p) and account for them. */
static int emit(ms_precopy *m, const uint8_t *p, size_t len)
{
	int rc;

	if (m->error)
		return m->error;
	rc = write_all(m->fd, p, len);
	if (rc < 0) {
		m->error = rc;
		return rc;
	}
	m->crc = crc_update(m->crc, p, len);
	m->stats.bytes_sent += len;
	return 0;
}

static uint64_t blk_pages(const ms_precopy *m, const struct blk *b)
{
	uint64_t page = (uint64_t)1 << m->shift;

	return b->size / page + (b->size % page != 0);
}

static int write_header(ms_precopy *m)
{
	size_t len = 8 + 4 + 8 + 4 + 4, off = 0;
	uint8_t *h;
	int rc;

	for (size_t i = 0; i < m->nr_blocks; i++)
		len += 2 + strlen(m->blocks[i].name) + 8 + 8;
	h = ms__ctx_malloc(m->ctx, len);
	if (!h)
		return -ENOMEM;
	memcpy(h, STREAM_MAGIC, 8);
	put32(h + 8, STREAM_VERSION);
	put64(h + 12, (uint64_t)1 << m->shift);
	put32(h + 20, (uint32_t)m->nr_blocks);
	off = 24;
	for (size_t i = 0; i < m->nr_blocks; i++) {
		size_t nl = strlen(m->blocks[i].name);

		put16(h + off, (uint16_t)nl);
		memcpy(h + off + 2, m->blocks[i].name, nl);
		off += 2 + nl;
		put64(h + off, m->blocks[i].size);
		put64(h + off + 8, m->blocks[i].page_size);
		off += 16;
	}
	put32(h + off, crc_update(0, h, off));
	rc = emit(m, h, len);
	free(h);
	return rc;
}

static void rec_header(uint8_t *p, uint32_t type, uint32_t block, uint64_t page, uint64_t count)
{
	put32(p, type);
	put32(p + 4, block);
	put64(p + 8, page);
	put64(p + 16, count);
}

/*
 * Copy guest memory that the guest may be writing meanwhile. The race is
 * intended (a torn page is sent again: its dirty bit was set after the
 * write), so TSan builds copy without instrumentation, through volatile
 * loads that the compiler cannot turn into an intercepted memcpy().
 */
#ifdef MS__TSAN
__attribute__((no_sanitize("thread"))) static void guest_copy(uint8_t *dst, const uint8_t *src,
							      size_t len)
{
	const volatile uint8_t *s = src;

	for (size_t i = 0; i < len; i++)
		dst[i] = s[i];
}
#else
static void guest_copy(uint8_t *dst, const uint8_t *src, size_t len)
{
	memcpy(dst, src, len);
}
#endif

/* A chunk of pages [page, page + count) of block @bi, copied then sent. */
static int send_chunk(ms_precopy *m, uint32_t bi, uint64_t page, uint64_t count)
{
	const struct blk *b = &m->blocks[bi];
	uint64_t off = page << m->shift;
	uint64_t len = count << m->shift;

	if (len > b->size - off)
		len = b->size - off;
	rec_header(m->buf, REC_CHUNK, bi, page, count);
	guest_copy(m->buf + REC_HDR, b->host + off, len);
	put32(m->buf + REC_HDR + len, crc_update(0, m->buf, REC_HDR + len));
	if (emit(m, m->buf, REC_HDR + len + 4) < 0)
		return m->error;
	m->chunks++;
	m->stats.pages_sent += count;
	return 0;
}

static int send_round_marker(ms_precopy *m)
{
	uint8_t rec[REC_HDR + 4];

	rec_header(rec, REC_ROUND, 0, m->stats.rounds + 1, 0);
	put32(rec + REC_HDR, crc_update(0, rec, REC_HDR));
	return emit(m, rec, sizeof(rec));
}

static int send_end(ms_precopy *m)
{
	uint8_t rec[REC_HDR + 4];

	rec_header(rec, REC_END, 0, 0, m->chunks);
	put32(rec + REC_HDR, crc_update(m->crc, rec, REC_HDR));
	return emit(m, rec, sizeof(rec));
}

static uint64_t chunk_pages(const ms_precopy *m)
{
	uint64_t page = (uint64_t)1 << m->shift;

	return page >= CHUNK_BYTES ? 1 : CHUNK_BYTES / page;
}

/* Every page of every block. */
static int send_all(ms_precopy *m, bool clear_migration)
{
	uint64_t max = chunk_pages(m);

	for (size_t i = 0; i < m->nr_blocks; i++) {
		struct blk *b = &m->blocks[i];
		uint64_t n = blk_pages(m, b);

		/* Clear first: a write from now on is either in the copy or
		 * logged again for the next round. */
		if (clear_migration)
			ms__bitmap_clear(b->r->rb, MS_DIRTY_MIGRATION, 0, b->size);
		for (uint64_t p = 0; p < n; p += max) {
			int rc = send_chunk(m, (uint32_t)i, p, n - p < max ? n - p : max);

			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

/* The pages of a block dirty in @snap, runs coalesced into chunks. */
static int send_dirty(ms_precopy *m, uint32_t bi, const ms_dirty_snapshot *snap)
{
	uint64_t page = (uint64_t)1 << m->shift, max = chunk_pages(m);
	uint64_t n = blk_pages(m, &m->blocks[bi]), at = 0, next;

	while (ms_dirty_snapshot_next(snap, at, &next)) {
		uint64_t first = next >> m->shift, count = 1;
		int rc;

		if (first >= n)
			break;
		while (count < max && first + count < n &&
		       ms_dirty_snapshot_get_dirty(snap, (first + count) << m->shift, page))
			count++;
		rc = send_chunk(m, bi, first, count);
		if (rc < 0)
			return rc;
		at = (first + count) << m->shift;
		if (first + count >= n)
			break;
	}
	return 0;
}

/* Pages whose MIGRATION bit is set now (the next round's work, at least). */
static uint64_t count_dirty(const ms_precopy *m)
{
	uint64_t total = 0;

	for (size_t i = 0; i < m->nr_blocks; i++) {
		ms__ramblock *rb = m->blocks[i].r->rb;
		const uint64_t *bm =
			__atomic_load_n(&rb->bitmap[MS_DIRTY_MIGRATION], __ATOMIC_ACQUIRE);
		uint64_t n = blk_pages(m, &m->blocks[i]);

		if (!bm)
			continue;
		for (uint64_t w = 0; w < (n + 63) / 64; w++) {
			uint64_t v = __atomic_load_n(&bm[w], __ATOMIC_RELAXED);

			if (w == n / 64)
				v &= ((uint64_t)1 << (n % 64)) - 1;
			total += (uint64_t)__builtin_popcountll(v);
		}
	}
	return total;
}

/* Every block still has the size the header gave it. */
static int check_sizes(ms_precopy *m)
{
	int rc = 0;

	ms__ctx_lock(m->ctx);
	for (size_t i = 0; i < m->nr_blocks; i++)
		if ((uint64_t)m->blocks[i].r->size != m->blocks[i].size)
			rc = -ERANGE;
	ms__ctx_unlock(m->ctx);
	return rc;
}

/* A later round: sync, snapshot and clear, send. */
static int send_round_dirty(ms_precopy *m)
{
	int rc;

	/* The lock is recursive: address spaces cannot come and go meanwhile. */
	ms__ctx_lock(m->ctx);
	for (size_t a = 0; a < ms_ctx_nr_as(m->ctx); a++)
		(void)ms_as_log_sync(ms_ctx_as(m->ctx, a)); /* -EBUSY only inside a callback */
	ms__ctx_unlock(m->ctx);
	for (size_t i = 0; i < m->nr_blocks; i++) {
		ms_dirty_snapshot *snap;

		rc = ms_region_snapshot_and_clear_dirty(&snap, m->blocks[i].r, 0, m->blocks[i].size,
							MS_DIRTY_MIGRATION);
		if (rc < 0)
			return rc;
		rc = send_dirty(m, (uint32_t)i, snap);
		ms_dirty_snapshot_free(snap);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int precopy_round(ms_precopy *m, ms_precopy_stats *stats)
{
	int rc;

	if (m->error)
		return m->error;
	rc = check_sizes(m);
	if (rc == 0)
		rc = send_round_marker(m);
	if (rc == 0)
		rc = m->stats.rounds == 0 ? send_all(m, true) : send_round_dirty(m);
	if (rc < 0) {
		m->error = rc;
		return rc;
	}
	m->stats.rounds++;
	m->stats.dirty_pages = count_dirty(m);
	if (stats)
		*stats = m->stats;
	return 0;
}

/* A stream object for @ctx and @fd with its blocks and buffer. */
static int stream_new(ms_precopy **out, ms_ctx *ctx, int fd)
{
	ms_precopy *m;
	uint64_t page, data;
	int rc;

	*out = NULL;
	m = ms__ctx_calloc(ctx, 1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->ctx = ctx;
	m->fd = fd;
	ms__ctx_lock(ctx);
	m->shift = ctx->dirty_page_shift;
	ms__ctx_unlock(ctx);
	rc = blocks_get(ctx, &m->blocks, &m->nr_blocks);
	if (rc < 0) {
		free(m);
		return rc;
	}
	page = (uint64_t)1 << m->shift;
	data = page >= CHUNK_BYTES ? page : CHUNK_BYTES;
	m->buf_size = (size_t)(REC_HDR + data + 4);
	m->buf = ms__ctx_malloc(ctx, m->buf_size);
	if (!m->buf) {
		blocks_put(m->blocks, m->nr_blocks);
		free(m);
		return -ENOMEM;
	}
	*out = m;
	return 0;
}

static void stream_free(ms_precopy *m)
{
	blocks_put(m->blocks, m->nr_blocks);
	free(m->buf);
	free(m);
}

int ms_ram_save(ms_ctx *ctx, int fd)
{
	ms_precopy *m;
	int rc;

	if (!ctx || fd < 0)
		return -EINVAL;
	rc = stream_new(&m, ctx, fd);
	if (rc < 0)
		return rc;
	rc = write_header(m);
	if (rc == 0)
		rc = send_all(m, false);
	if (rc == 0)
		rc = send_end(m);
	stream_free(m);
	return rc;
}

int ms_precopy_start(ms_precopy **out, ms_ctx *ctx, int fd)
{
	ms_precopy *m;
	int rc;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!ctx || fd < 0)
		return -EINVAL;
	rc = stream_new(&m, ctx, fd);
	if (rc < 0)
		return rc;
	ms__ctx_lock(ctx);
	if (ctx->precopy_running)
		rc = -EBUSY;
	else
		ctx->precopy_running = m->registered = true;
	ms__ctx_unlock(ctx);
	if (rc == 0 && !ms_ctx_dirty_log_global(ctx)) {
		rc = ms_ctx_dirty_log_global_start(ctx);
		m->logging = rc == 0;
	}
	if (rc == 0)
		rc = write_header(m);
	if (rc < 0) {
		ms_precopy_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

int ms_precopy_iterate(ms_precopy *m, ms_precopy_stats *stats)
{
	if (!m || m->done)
		return -EINVAL;
	return precopy_round(m, stats);
}

static void logging_off(ms_precopy *m)
{
	if (m->logging) {
		(void)ms_ctx_dirty_log_global_stop(m->ctx);
		m->logging = false;
	}
}

int ms_precopy_complete(ms_precopy *m, ms_precopy_stats *stats)
{
	int rc;

	if (!m || m->done)
		return -EINVAL;
	rc = precopy_round(m, stats);
	if (rc == 0)
		rc = send_end(m);
	if (rc < 0)
		return rc;
	m->done = true;
	logging_off(m);
	if (stats)
		*stats = m->stats;
	return 0;
}

void ms_precopy_free(ms_precopy *m)
{
	if (!m)
		return;
	logging_off(m);
	if (m->registered) {
		ms__ctx_lock(m->ctx);
		m->ctx->precopy_running = false;
		ms__ctx_unlock(m->ctx);
	}
	stream_free(m);
}

/* ---- loading -------------------------------------------------------------- */

struct stage {
	char *name;
	uint64_t size, page_size;
	struct blk *dst; /* the destination block of that name */
	uint8_t *mem;    /* staging: anonymous, size bytes */
	uint64_t *got;   /* pages received */
	uint64_t pages;
};

struct loader {
	ms_ctx *ctx;
	int fd;
	uint32_t crc; /* of everything read */
	unsigned shift;
	struct stage *st;
	size_t nr_st;
};

/* Read exactly @len bytes: 0, -ENODATA at an early end, or -errno. */
static int read_all(struct loader *l, void *buf, uint64_t len)
{
	uint8_t *p = buf;
	uint64_t left = len;

	while (left) {
		size_t want = left > ((size_t)1 << 30) ? ((size_t)1 << 30) : (size_t)left;
		ssize_t n = read(l->fd, p, want);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -ENODATA;
		p += n;
		left -= (uint64_t)n;
	}
	l->crc = crc_update(l->crc, buf, len);
	return 0;
}

static void stages_free(struct loader *l)
{
	for (size_t i = 0; i < l->nr_st; i++) {
		free(l->st[i].name);
		free(l->st[i].got);
		if (l->st[i].mem)
			munmap(l->st[i].mem, (size_t)l->st[i].size);
	}
	free(l->st);
}

static int read_header(struct loader *l)
{
	uint8_t h[24], b[16];
	uint32_t count, crc;
	uint64_t page;
	size_t cap = 0;
	int rc;

	rc = read_all(l, h, sizeof(h));
	if (rc < 0)
		return rc;
	if (memcmp(h, STREAM_MAGIC, 8) != 0 || get32(h + 8) != STREAM_VERSION)
		return -EBADMSG;
	page = get64(h + 12);
	if (page < 512 || page > ((uint64_t)1 << 30) || (page & (page - 1)))
		return -EBADMSG;
	while (((uint64_t)1 << l->shift) < page)
		l->shift++;
	count = get32(h + 20);
	if (count > MAX_BLOCKS)
		return -EBADMSG;
	for (uint32_t i = 0; i < count; i++) {
		struct stage *s;
		uint16_t nl;

		rc = read_all(l, b, 2);
		if (rc < 0)
			return rc;
		nl = get16(b);
		rc = ms__ctx_grow(l->ctx, (void **)&l->st, &cap, l->nr_st + 1, sizeof(*l->st));
		if (rc < 0)
			return rc;
		s = &l->st[l->nr_st];
		memset(s, 0, sizeof(*s));
		s->name = ms__ctx_malloc(l->ctx, (size_t)nl + 1);
		if (!s->name)
			return -ENOMEM;
		l->nr_st++;
		rc = read_all(l, s->name, nl);
		if (rc < 0)
			return rc;
		s->name[nl] = '\0';
		if (memchr(s->name, '\0', nl))
			return -EBADMSG;
		rc = read_all(l, b, 16);
		if (rc < 0)
			return rc;
		s->size = get64(b);
		s->page_size = get64(b + 8);
	}
	crc = l->crc;
	rc = read_all(l, b, 4);
	if (rc < 0)
		return rc;
	if (get32(b) != crc)
		return -EBADMSG;
	for (size_t i = 0; i < l->nr_st; i++) {
		if (l->st[i].size == 0)
			return -EBADMSG;
		for (size_t j = 0; j < i; j++)
			if (strcmp(l->st[i].name, l->st[j].name) == 0)
				return -EBADMSG;
	}
	return 0;
}

/* Pair every stream block with a destination block; then allocate staging. */
static int match_blocks(struct loader *l, struct blk *d, size_t nd)
{
	uint64_t page = (uint64_t)1 << l->shift;

	for (size_t i = 0; i < l->nr_st; i++) {
		struct stage *s = &l->st[i];

		for (size_t j = 0; j < nd && !s->dst; j++)
			if (strcmp(d[j].name, s->name) == 0)
				s->dst = &d[j];
		if (!s->dst)
			return -ENOENT;
		if (s->dst->size != s->size || s->dst->page_size != s->page_size)
			return -ERANGE;
	}
	/* Names are unique on both sides: equal counts mean every block matched. */
	if (l->nr_st != nd)
		return -ENOENT;
	for (size_t i = 0; i < l->nr_st; i++) {
		struct stage *s = &l->st[i];
		void *mem;

		s->pages = s->size / page + (s->size % page != 0);
		s->got = ms__ctx_calloc(l->ctx, (size_t)((s->pages + 63) / 64), sizeof(uint64_t));
		if (!s->got)
			return -ENOMEM;
		if (ms__ctx_inject_failure(l->ctx))
			return -ENOMEM;
		mem = mmap(NULL, (size_t)s->size, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (mem == MAP_FAILED)
			return -ENOMEM;
		s->mem = mem;
	}
	return 0;
}

/* Read records up to the end record, into staging. */
static int read_records(struct loader *l)
{
	uint64_t chunks = 0, round = 0;
	uint8_t h[REC_HDR], c[4];
	int rc;

	for (;;) {
		uint32_t type, bi, rec_crc, total;
		uint64_t page, count;

		rc = read_all(l, h, sizeof(h));
		if (rc < 0)
			return rc;
		total = l->crc;
		rec_crc = crc_update(0, h, sizeof(h));
		type = get32(h);
		bi = get32(h + 4);
		page = get64(h + 8);
		count = get64(h + 16);
		if (type == REC_CHUNK) {
			struct stage *s;
			uint64_t off, len;

			if (bi >= l->nr_st)
				return -EBADMSG;
			s = &l->st[bi];
			if (page >= s->pages || count == 0 || count > s->pages - page)
				return -EBADMSG;
			off = page << l->shift;
			len = count << l->shift;
			if (len > s->size - off)
				len = s->size - off;
			rc = read_all(l, s->mem + off, len);
			if (rc < 0)
				return rc;
			rec_crc = crc_update(rec_crc, s->mem + off, len);
			rc = read_all(l, c, 4);
			if (rc < 0)
				return rc;
			if (get32(c) != rec_crc)
				return -EBADMSG;
			for (uint64_t p = page; p < page + count; p++)
				s->got[p / 64] |= (uint64_t)1 << (p % 64);
			chunks++;
		} else if (type == REC_ROUND) {
			rc = read_all(l, c, 4);
			if (rc < 0)
				return rc;
			if (get32(c) != rec_crc || bi != 0 || count != 0 || page != round + 1)
				return -EBADMSG;
			round = page;
		} else if (type == REC_END) {
			rc = read_all(l, c, 4);
			if (rc < 0)
				return rc;
			if (get32(c) != total || bi != 0 || page != 0 || count != chunks)
				return -EBADMSG;
			return 0;
		} else {
			return -EBADMSG;
		}
	}
}

/* Every page of every block was sent at least once. */
static int check_complete(const struct loader *l)
{
	for (size_t i = 0; i < l->nr_st; i++) {
		const struct stage *s = &l->st[i];

		for (uint64_t w = 0; w < s->pages / 64; w++)
			if (s->got[w] != ~(uint64_t)0)
				return -EBADMSG;
		if (s->pages % 64 && s->got[s->pages / 64] != ((uint64_t)1 << (s->pages % 64)) - 1)
			return -EBADMSG;
	}
	return 0;
}

/* Copy staging into the destination (lock held, sizes checked first). */
static int commit_load(struct loader *l)
{
	int rc = 0;

	ms__ctx_lock(l->ctx);
	for (size_t i = 0; i < l->nr_st; i++)
		if ((uint64_t)l->st[i].dst->r->size != l->st[i].size)
			rc = -ERANGE; /* resized meanwhile */
	for (size_t i = 0; rc == 0 && i < l->nr_st; i++) {
		struct stage *s = &l->st[i];

		memcpy(s->dst->host, s->mem, (size_t)s->size);
		ms__ramblock_written(s->dst->r->rb, 0, s->size);
	}
	ms__ctx_unlock(l->ctx);
	return rc;
}

int ms_ram_load(ms_ctx *ctx, int fd)
{
	struct loader l = {.ctx = ctx, .fd = fd};
	struct blk *d = NULL;
	size_t nd = 0;
	int rc;

	if (!ctx || fd < 0)
		return -EINVAL;
	rc = blocks_get(ctx, &d, &nd);
	if (rc < 0)
		return rc;
	rc = read_header(&l);
	if (rc == 0)
		rc = match_blocks(&l, d, nd);
	if (rc == 0)
		rc = read_records(&l);
	if (rc == 0)
		rc = check_complete(&l);
	if (rc == 0)
		rc = commit_load(&l);
	stages_free(&l);
	blocks_put(d, nd);
	return rc;
}
