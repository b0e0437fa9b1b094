/*
 * test_migrate.c: the RAM stream (migrate.h): save and load round trips on
 * every backend, mismatched destinations, truncated and corrupted streams
 * (the destination must stay unchanged), pipes, and pre-copy with a writer
 * thread dirtying pages while the rounds run.
 *
 * SPDX-License-Identifier: MIT
 */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "ms_rng.h"
#include "ms_unit.h"

#define MAX_BLOCKS 12

/* A machine: a root container with an address space, and its RAM blocks. */
typedef struct machine {
	ms_ctx *ctx;
	ms_region *root;
	ms_as *as;
	ms_region *blk[MAX_BLOCKS]; /* not referenced: the root holds them */
	size_t nr;
	char path[64];                /* the file backend's file, removed at teardown */
	uint64_t dev[512], ptr[1024]; /* behind the RAM device and the pointer RAM */
} machine;

/* Layout options, to build mismatched destinations. */
enum {
	L_FULL = 0,
	L_NO_MEMFD = 1 << 0,   /* the memfd block is missing */
	L_EXTRA = 1 << 1,      /* one more migratable block */
	L_RAM0_SMALL = 1 << 2, /* "ram0" one page shorter */
	L_DUP = 1 << 3,        /* a second block named "ram0" (not placed) */
	L_SMALL = 1 << 4,      /* only two small blocks (for byte-wise tests) */
};

static void add_block(machine *m, const ms_ram_opts *o, uint64_t addr, bool place)
{
	ms_region *r = NULL;

	assert_int_equal(ms_region_new_ram_with(&r, m->ctx, o), 0);
	assert_true(m->nr < MAX_BLOCKS);
	m->blk[m->nr++] = r;
	if (place)
		assert_int_equal(ms_region_add_subregion(m->root, addr, r), 0);
	else
		assert_int_equal(ms_region_add_subregion_overlap(m->root, addr, r, -1), 0);
	ms_region_unref(r);
}

static void machine_new(machine *m, unsigned layout)
{
	static unsigned seq;

	memset(m, 0, sizeof(*m));
	m->ctx = new_ctx();
	m->root = new_container(m->ctx, "root", 1ull << 32);
	m->as = new_as(m->ctx, m->root, "mem");
	if (layout & L_SMALL) {
		add_block(m, &(ms_ram_opts){.name = "a", .size = 4096}, 0, true);
		add_block(m, &(ms_ram_opts){.name = "b", .size = 5000}, 0x10000, true);
		return;
	}
	add_block(
		m,
		&(ms_ram_opts){.name = "ram0", .size = (layout & L_RAM0_SMALL) ? 0x3f000 : 0x40000},
		0, true);
	if (!(layout & L_NO_MEMFD))
		add_block(m,
			  &(ms_ram_opts){.name = "memfd", .size = 0x10000, .backend = MS_RAM_MEMFD},
			  0x100000, true);
	snprintf(m->path, sizeof(m->path), "/tmp/ms-test-migrate-%d-%u", (int)getpid(), seq++);
	add_block(m,
		  &(ms_ram_opts){.name = "file",
				 .size = 0x8000,
				 .backend = MS_RAM_FILE,
				 .path = m->path,
				 .flags = MS_RAM_SHARED},
		  0x200000, true);
	add_block(m, &(ms_ram_opts){.name = "rom", .size = 0x4000, .flags = MS_RAM_ROM}, 0x300000,
		  true);
	add_block(m,
		  &(ms_ram_opts){.name = "scratch", .size = 0x4000, .flags = MS_RAM_NOT_MIGRATABLE},
		  0x400000, true);
	add_block(m, &(ms_ram_opts){.name = "resz", .size = 0x4000, .max_size = 0x10000}, 0x500000,
		  true);
	/* The used length ends inside a page: the last page of the stream is short. */
	assert_int_equal(ms_region_ram_resize(m->blk[m->nr - 1], 0x6801), 0);
	/* RAM at the caller's pointer is migrated; a RAM device and layout-only
	 * RAM are not. */
	assert_int_equal(
		ms_region_new_ram_ptr(&m->blk[m->nr], m->ctx, "ptr", sizeof(m->ptr), m->ptr), 0);
	assert_int_equal(ms_region_add_subregion(m->root, 0x580000, m->blk[m->nr]), 0);
	ms_region_unref(m->blk[m->nr++]);
	assert_int_equal(
		ms_region_new_ram_device(&m->blk[m->nr], m->ctx, "dev", sizeof(m->dev), m->dev), 0);
	assert_int_equal(ms_region_add_subregion(m->root, 0x590000, m->blk[m->nr]), 0);
	ms_region_unref(m->blk[m->nr++]);
	add_block(m, &(ms_ram_opts){.name = "layout", .size = 0x10000, .backend = MS_RAM_NONE},
		  0x5a0000, true);
	if (layout & L_EXTRA)
		add_block(m, &(ms_ram_opts){.name = "extra", .size = 0x1000}, 0x600000, true);
	if (layout & L_DUP)
		add_block(m, &(ms_ram_opts){.name = "ram0", .size = 0x1000}, 0x700000, false);
}

static void machine_free(machine *m)
{
	ms_as_free(m->as);
	ms_region_unref(m->root);
	ms_ctx_free(m->ctx);
	if (m->path[0])
		unlink(m->path);
}

static void machine_fill(machine *m, uint64_t seed)
{
	ms_rng g;

	ms_rng_seed(&g, seed);
	for (size_t i = 0; i < m->nr; i++) {
		uint8_t *p = ms_region_ram_ptr(m->blk[i]);

		if (!p)
			continue; /* layout only */
		for (uint64_t b = 0; b < ms_region_size(m->blk[i]); b++)
			p[b] = (uint8_t)ms_rng_next(&g);
	}
}

/* A checksum of every byte of every block (migratable or not). */
static uint32_t machine_sum(machine *m)
{
	uint32_t crc = 0;

	for (size_t i = 0; i < m->nr; i++)
		if (ms_region_ram_ptr(m->blk[i]))
			crc = (uint32_t)crc32(crc, ms_region_ram_ptr(m->blk[i]),
					      (uInt)ms_region_size(m->blk[i]));
	return crc;
}

static ms_region *block(machine *m, const char *name)
{
	for (size_t i = 0; i < m->nr; i++)
		if (strcmp(ms_region_name(m->blk[i]), name) == 0)
			return m->blk[i];
	fail_msg("no block %s", name);
	return NULL;
}

static bool same_block(machine *a, machine *b, const char *name)
{
	ms_region *x = block(a, name), *y = block(b, name);

	return ms_region_size(x) == ms_region_size(y) &&
	       memcmp(ms_region_ram_ptr(x), ms_region_ram_ptr(y), ms_region_size(x)) == 0;
}

static const char *const migratable_names[] = {"ram0", "memfd", "file", "rom", "resz", "ptr"};

static void assert_same_migratable(machine *a, machine *b)
{
	for (size_t i = 0; i < sizeof(migratable_names) / sizeof(migratable_names[0]); i++)
		assert_true(same_block(a, b, migratable_names[i]));
}

/* ---- streams in memory ---------------------------------------------------- */

typedef struct stream {
	uint8_t *data;
	size_t len;
} stream;

static int memfd(void)
{
	int fd = memfd_create("ms-test-stream", 0);

	assert_true(fd >= 0);
	return fd;
}

static void stream_from_fd(stream *s, int fd)
{
	off_t len = lseek(fd, 0, SEEK_END);

	assert_true(len > 0);
	s->len = (size_t)len;
	s->data = malloc(s->len);
	assert_non_null(s->data);
	assert_int_equal(pread(fd, s->data, s->len, 0), (ssize_t)s->len);
}

static void save(stream *s, machine *m)
{
	int fd = memfd();

	assert_int_equal(ms_ram_save(m->ctx, fd), 0);
	stream_from_fd(s, fd);
	close(fd);
}

static int load(machine *m, const uint8_t *data, size_t len)
{
	int fd = memfd(), rc;

	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	rc = ms_ram_load(m->ctx, fd);
	close(fd);
	return rc;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* The header's length (up to and with its CRC), walking the block list. */
static size_t header_len(const stream *s)
{
	uint32_t count = le32(s->data + 20);
	size_t off = 24;

	for (uint32_t i = 0; i < count; i++)
		off += 2 + (size_t)(s->data[off] | s->data[off + 1] << 8) + 16;
	return off + 4;
}

/* Recompute the header CRC after the test edited the header. */
static void fix_header_crc(stream *s)
{
	size_t hl = header_len(s);

	put_le32(s->data + hl - 4, (uint32_t)crc32(0, s->data, (uInt)(hl - 4)));
}

/* ---- round trips ------------------------------------------------------------ */

static void test_save_and_load_round_trip_every_backend(void **state)
{
	machine src, dst;
	stream s;
	uint32_t scratch, dev;

	(void)state;
	machine_new(&src, L_FULL);
	machine_new(&dst, L_FULL);
	machine_fill(&src, 1);
	machine_fill(&dst, 2);
	scratch = (uint32_t)crc32(0, ms_region_ram_ptr(block(&dst, "scratch")), 0x4000);
	dev = (uint32_t)crc32(0, (const uint8_t *)dst.dev, sizeof(dst.dev));
	save(&s, &src);
	assert_memory_equal(s.data, "MSRAMSTR", 8);
	assert_int_equal(load(&dst, s.data, s.len), 0);
	assert_same_migratable(&src, &dst);
	/* The block that is not migratable was neither sent nor touched. */
	assert_false(same_block(&src, &dst, "scratch"));
	assert_int_equal(crc32(0, ms_region_ram_ptr(block(&dst, "scratch")), 0x4000), scratch);
	assert_false(same_block(&src, &dst, "dev"));
	assert_int_equal(crc32(0, (const uint8_t *)dst.dev, sizeof(dst.dev)), dev);
	/* A second load of the same stream is harmless. */
	assert_int_equal(load(&dst, s.data, s.len), 0);
	assert_same_migratable(&src, &dst);
	free(s.data);
	machine_free(&src);
	machine_free(&dst);
}

static void test_loaded_pages_are_marked_dirty(void **state)
{
	machine src, dst;
	ms_region *r;
	stream s;

	(void)state;
	machine_new(&src, L_SMALL);
	machine_new(&dst, L_SMALL);
	machine_fill(&src, 3);
	r = block(&dst, "b");
	assert_int_equal(ms_region_set_dirty_log(r, MS_DIRTY_VGA, true), 0);
	assert_false(ms_region_get_dirty(r, 0, 5000, MS_DIRTY_VGA));
	save(&s, &src);
	assert_int_equal(load(&dst, s.data, s.len), 0);
	assert_true(ms_region_get_dirty(r, 0, 1, MS_DIRTY_VGA));
	assert_true(ms_region_get_dirty(r, 4999, 1, MS_DIRTY_VGA));
	free(s.data);
	machine_free(&src);
	machine_free(&dst);
}

/* Page numbers are in the stream's dirty page size, whatever the destination's. */
static void test_another_dirty_page_size_loads(void **state)
{
	machine src, dst;
	ms_region *r = NULL;
	stream s;

	(void)state;
	memset(&src, 0, sizeof(src));
	src.ctx = new_ctx();
	assert_int_equal(ms_ctx_set_dirty_page_size(src.ctx, 512), 0);
	src.root = new_container(src.ctx, "root", 1ull << 32);
	src.as = new_as(src.ctx, src.root, "mem");
	assert_int_equal(ms_region_new_ram(&r, src.ctx, "a", 4096), 0);
	src.blk[src.nr++] = r;
	assert_int_equal(ms_region_add_subregion(src.root, 0, r), 0);
	ms_region_unref(r);
	assert_int_equal(ms_region_new_ram(&r, src.ctx, "b", 5000), 0);
	src.blk[src.nr++] = r;
	assert_int_equal(ms_region_add_subregion(src.root, 0x10000, r), 0);
	ms_region_unref(r);
	machine_new(&dst, L_SMALL);
	machine_fill(&src, 20);
	machine_fill(&dst, 21);
	save(&s, &src);
	assert_int_equal(le32(s.data + 12), 512);
	assert_int_equal(load(&dst, s.data, s.len), 0);
	assert_true(same_block(&src, &dst, "a"));
	assert_true(same_block(&src, &dst, "b"));
	free(s.data);
	machine_free(&src);
	machine_free(&dst);
}

static void *save_thread(void *arg)
{
	machine *m = arg;
	int *fds = (int *)(m + 1);
	intptr_t rc = ms_ram_save(m->ctx, fds[1]);

	close(fds[1]);
	return (void *)rc;
}

static void test_stream_through_a_pipe(void **state)
{
	struct {
		machine m;
		int fds[2];
	} src;
	machine dst;
	pthread_t t;
	void *ret;

	(void)state;
	machine_new(&src.m, L_FULL);
	machine_new(&dst, L_FULL);
	machine_fill(&src.m, 4);
	machine_fill(&dst, 5);
	assert_int_equal(pipe(src.fds), 0);
	/* The stream (over 400 KiB) is far larger than the pipe's buffer. */
	assert_int_equal(pthread_create(&t, NULL, save_thread, &src), 0);
	assert_int_equal(ms_ram_load(dst.ctx, src.fds[0]), 0);
	assert_int_equal(pthread_join(t, &ret), 0);
	assert_int_equal((intptr_t)ret, 0);
	close(src.fds[0]);
	assert_same_migratable(&src.m, &dst);
	machine_free(&src.m);
	machine_free(&dst);
}

/* ---- refusals --------------------------------------------------------------- */

/* Load @s into a fresh machine of @layout: @want, and nothing changed. */
static void expect_refused(const stream *s, unsigned layout, int want)
{
	machine dst;
	uint32_t before;

	machine_new(&dst, layout);
	machine_fill(&dst, 6);
	before = machine_sum(&dst);
	assert_int_equal(load(&dst, s->data, s->len), want);
	assert_int_equal(machine_sum(&dst), before);
	machine_free(&dst);
}

static void test_mismatched_destinations_are_refused_unchanged(void **state)
{
	machine src;
	stream s;

	(void)state;
	machine_new(&src, L_FULL);
	machine_fill(&src, 7);
	save(&s, &src);
	expect_refused(&s, L_NO_MEMFD, -ENOENT);   /* in the stream, not here */
	expect_refused(&s, L_EXTRA, -ENOENT);      /* here, not in the stream */
	expect_refused(&s, L_RAM0_SMALL, -ERANGE); /* another size */
	expect_refused(&s, L_DUP, -ENOTUNIQ);      /* two blocks of one name here */
	free(s.data);
	machine_free(&src);
}

static void test_other_page_size_is_refused(void **state)
{
	machine src;
	stream s;

	(void)state;
	machine_new(&src, L_SMALL);
	save(&s, &src);
	/* The first block's page size (after name "a": 24 + 2 + 1 + 8). */
	assert_int_equal(s.data[24], 1);
	assert_int_equal(le32(s.data + 35), 4096);
	put_le32(s.data + 35, 8192);
	fix_header_crc(&s);
	expect_refused(&s, L_SMALL, -ERANGE);
	free(s.data);
	machine_free(&src);
}

static void test_save_refuses_duplicate_names_and_bad_arguments(void **state)
{
	machine m;
	int fd;

	(void)state;
	machine_new(&m, L_DUP);
	fd = memfd();
	assert_int_equal(ms_ram_save(m.ctx, fd), -ENOTUNIQ);
	assert_int_equal(lseek(fd, 0, SEEK_END), 0); /* nothing written */
	close(fd);
	machine_free(&m);

	machine_new(&m, L_SMALL);
	assert_int_equal(ms_ram_save(NULL, 1), -EINVAL);
	assert_int_equal(ms_ram_save(m.ctx, -1), -EINVAL);
	assert_int_equal(ms_ram_load(NULL, 0), -EINVAL);
	assert_int_equal(ms_ram_load(m.ctx, -1), -EINVAL);
	/* Errors of write() and read() come back as they are. */
	fd = open("/dev/null", O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(ms_ram_save(m.ctx, fd), -EBADF);
	close(fd);
	fd = open("/dev/null", O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(ms_ram_load(m.ctx, fd), -EBADF);
	close(fd);
	/* An empty stream is a truncated one. */
	fd = open("/dev/null", O_RDONLY);
	assert_int_equal(ms_ram_load(m.ctx, fd), -ENODATA);
	close(fd);
	machine_free(&m);
}

static void test_bad_magic_and_version_are_refused(void **state)
{
	machine src;
	stream s;

	(void)state;
	machine_new(&src, L_SMALL);
	save(&s, &src);
	s.data[0] ^= 1;
	expect_refused(&s, L_SMALL, -EBADMSG);
	s.data[0] ^= 1;
	s.data[8] = 2; /* version 2, with a good CRC */
	fix_header_crc(&s);
	expect_refused(&s, L_SMALL, -EBADMSG);
	free(s.data);
	machine_free(&src);
}

static void test_truncation_at_every_offset_is_refused_unchanged(void **state)
{
	machine src, dst;
	uint32_t before;
	stream s;

	(void)state;
	machine_new(&src, L_SMALL);
	machine_new(&dst, L_SMALL);
	machine_fill(&src, 8);
	machine_fill(&dst, 9);
	before = machine_sum(&dst);
	save(&s, &src);
	for (size_t len = 0; len < s.len; len++) {
		int rc = load(&dst, s.data, len);

		if (rc != -ENODATA)
			fail_msg("a stream cut at %zu of %zu: %d", len, s.len, rc);
		assert_int_equal(machine_sum(&dst), before);
	}
	assert_int_equal(load(&dst, s.data, s.len), 0);
	assert_int_equal(machine_sum(&dst), machine_sum(&src));
	free(s.data);
	machine_free(&src);
	machine_free(&dst);
}

static void test_every_corrupted_byte_is_refused_unchanged(void **state)
{
	static const uint8_t flips[] = {0x01, 0x80, 0xff};
	machine src, dst;
	uint32_t before;
	stream s;

	(void)state;
	machine_new(&src, L_SMALL);
	machine_new(&dst, L_SMALL);
	machine_fill(&src, 10);
	machine_fill(&dst, 11);
	before = machine_sum(&dst);
	save(&s, &src);
	for (size_t i = 0; i < s.len; i++) {
		for (size_t f = 0; f < sizeof(flips); f++) {
			int rc;

			s.data[i] ^= flips[f];
			rc = load(&dst, s.data, s.len);
			s.data[i] ^= flips[f];
			/* A length field may now ask for more than there is. */
			if (rc != -EBADMSG && rc != -ENODATA && rc != -ENOENT && rc != -ERANGE)
				fail_msg("byte %zu ^ 0x%02x: %d", i, flips[f], rc);
			assert_int_equal(machine_sum(&dst), before);
		}
	}
	free(s.data);
	machine_free(&src);
	machine_free(&dst);
}

/* A stream with every record but with one page never sent is refused. */
static void test_a_stream_missing_pages_is_refused(void **state)
{
	machine src;
	stream s, cut;
	size_t hl, chunk;

	(void)state;
	machine_new(&src, L_SMALL);
	save(&s, &src);
	hl = header_len(&s);
	/* Block "a" is 4096 bytes: its one chunk is the first record. */
	assert_int_equal(le32(s.data + hl), 1);
	assert_int_equal(le32(s.data + hl + 4), 0);
	chunk = 24 + 4096 + 4;
	cut.len = s.len - chunk;
	cut.data = malloc(cut.len);
	assert_non_null(cut.data);
	memcpy(cut.data, s.data, hl);
	memcpy(cut.data + hl, s.data + hl + chunk, s.len - hl - chunk);
	/* End record: one chunk, and the CRC of everything before. */
	cut.data[cut.len - 12] = 1;
	put_le32(cut.data + cut.len - 4, (uint32_t)crc32(0, cut.data, (uInt)(cut.len - 4)));
	expect_refused(&cut, L_SMALL, -EBADMSG);
	free(cut.data);
	free(s.data);
	machine_free(&src);
}

/* ---- pre-copy ------------------------------------------------------------------ */

typedef struct writer {
	machine *m;
	unsigned stop;        /* atomic */
	uint64_t writes;      /* atomic */
	unsigned interval_us; /* between writes */
	uint64_t seed;
} writer;

static void *writer_main(void *arg)
{
	writer *w = arg;
	static const struct {
		uint64_t base, size;
	} targets[] = {{0, 0x40000}, {0x100000, 0x10000}, {0x200000, 0x8000}, {0x500000, 0x6801}};
	ms_rng g;

	ms_rng_seed(&g, w->seed);
	while (!__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE)) {
		size_t t = (size_t)ms_rng_below(&g, 4);
		uint64_t v = ms_rng_next(&g);
		uint64_t addr = targets[t].base + ms_rng_below(&g, targets[t].size - 8);
		struct timespec ts = {0, (long)w->interval_us * 1000};

		if (ms_as_write(w->m->as, addr, MS_ATTRS_UNSPECIFIED, &v, 8) != MS_RESULT_OK)
			break;
		__atomic_fetch_add(&w->writes, 1, __ATOMIC_RELEASE);
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static bool migration_logged(machine *m)
{
	for (size_t i = 0; i < m->nr; i++)
		if (ms_region_dirty_log_mask(m->blk[i]) & (1u << MS_DIRTY_MIGRATION))
			return true;
	return false;
}

static void test_precopy_with_a_running_writer_converges_and_loads(void **state)
{
	machine src, dst;
	writer w = {.m = &src, .interval_us = 20, .seed = 12};
	ms_precopy_stats st = {0}, prev;
	ms_precopy *mig = NULL, *other = NULL;
	uint64_t total_pages = 0, seen;
	pthread_t t;
	int fd = memfd();
	stream s;

	(void)state;
	machine_new(&src, L_FULL);
	machine_new(&dst, L_FULL);
	machine_fill(&src, 13);
	machine_fill(&dst, 14);
	for (size_t i = 0; i < sizeof(migratable_names) / sizeof(migratable_names[0]); i++)
		total_pages += (ms_region_size(block(&src, migratable_names[i])) + 4095) / 4096;
	assert_int_equal(pthread_create(&t, NULL, writer_main, &w), 0);
	assert_int_equal(ms_precopy_start(&mig, src.ctx, fd), 0);
	assert_true(ms_ctx_dirty_log_global(src.ctx));
	assert_int_equal(ms_precopy_start(&other, src.ctx, fd), -EBUSY);
	assert_null(other);
	assert_int_equal(ms_precopy_iterate(mig, &st), 0);
	assert_int_equal(st.rounds, 1);
	assert_int_equal(st.pages_sent, total_pages);
	/* Let the writer dirty pages behind the first round. */
	seen = __atomic_load_n(&w.writes, __ATOMIC_ACQUIRE);
	while (__atomic_load_n(&w.writes, __ATOMIC_ACQUIRE) < seen + 200)
		sched_yield();
	do {
		prev = st;
		assert_int_equal(ms_precopy_iterate(mig, &st), 0);
		assert_int_equal(st.rounds, prev.rounds + 1);
		assert_true(st.pages_sent >= prev.pages_sent);
		assert_true(st.bytes_sent > prev.bytes_sent);
	} while (st.dirty_pages >= 16 && st.rounds < 200);
	assert_true(st.pages_sent > total_pages); /* later rounds sent pages again */
	__atomic_store_n(&w.stop, 1, __ATOMIC_RELEASE);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(ms_precopy_complete(mig, &st), 0);
	assert_int_equal(ms_precopy_iterate(mig, &st), -EINVAL); /* complete: nothing more */
	assert_false(ms_ctx_dirty_log_global(src.ctx));
	assert_false(migration_logged(&src));
	ms_precopy_free(mig);
	stream_from_fd(&s, fd);
	close(fd);
	assert_int_equal(s.len, st.bytes_sent);
	assert_int_equal(load(&dst, s.data, s.len), 0);
	assert_same_migratable(&src, &dst);
	free(s.data);
	machine_free(&src);
	machine_free(&dst);
}

static void test_precopy_leaves_global_logging_on_when_it_was(void **state)
{
	machine src;
	ms_precopy *mig;
	ms_precopy_stats st;
	int fd = open("/dev/null", O_WRONLY);

	(void)state;
	assert_true(fd >= 0);
	machine_new(&src, L_SMALL);
	assert_int_equal(ms_ctx_dirty_log_global_start(src.ctx), 0);
	assert_int_equal(ms_precopy_start(&mig, src.ctx, fd), 0);
	assert_int_equal(ms_precopy_iterate(mig, &st), 0);
	assert_int_equal(st.pages_sent, 3);
	assert_int_equal(st.dirty_pages, 0);
	assert_int_equal(ms_precopy_complete(mig, &st), 0);
	assert_int_equal(st.rounds, 2);
	assert_int_equal(st.pages_sent, 3);
	ms_precopy_free(mig);
	assert_true(ms_ctx_dirty_log_global(src.ctx));
	assert_true(migration_logged(&src));
	/* A second migration may start once the first is freed. */
	assert_int_equal(ms_precopy_start(&mig, src.ctx, fd), 0);
	ms_precopy_free(mig);
	ms_precopy_free(NULL);
	close(fd);
	machine_free(&src);
}

static void test_precopy_write_failure_fails_the_migration(void **state)
{
	machine src;
	ms_precopy *mig;
	ms_precopy_stats st;
	struct sigaction ign = {.sa_handler = SIG_IGN}, old;
	int fds[2];

	(void)state;
	assert_int_equal(sigaction(SIGPIPE, &ign, &old), 0);
	machine_new(&src, L_SMALL);
	assert_int_equal(ms_precopy_start(&mig, NULL, 1), -EINVAL);
	assert_int_equal(ms_precopy_start(NULL, src.ctx, 1), -EINVAL);
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(ms_precopy_start(&mig, src.ctx, fds[1]), 0);
	close(fds[0]);
	assert_int_equal(ms_precopy_iterate(mig, &st), -EPIPE);
	assert_int_equal(ms_precopy_iterate(mig, &st), -EPIPE);
	assert_int_equal(ms_precopy_complete(mig, &st), -EPIPE);
	ms_precopy_free(mig);
	assert_false(ms_ctx_dirty_log_global(src.ctx));
	close(fds[1]);
	/* A header that cannot be written: nothing stays on. */
	fds[1] = open("/dev/null", O_RDONLY);
	assert_int_equal(ms_precopy_start(&mig, src.ctx, fds[1]), -EBADF);
	assert_null(mig);
	assert_false(ms_ctx_dirty_log_global(src.ctx));
	close(fds[1]);
	machine_free(&src);
	assert_int_equal(sigaction(SIGPIPE, &old, NULL), 0);
}

static void test_precopy_fails_when_a_block_is_resized(void **state)
{
	machine src;
	ms_precopy *mig;
	ms_precopy_stats st;
	int fd = open("/dev/null", O_WRONLY);

	(void)state;
	assert_true(fd >= 0);
	machine_new(&src, L_FULL);
	assert_int_equal(ms_precopy_start(&mig, src.ctx, fd), 0);
	assert_int_equal(ms_precopy_iterate(mig, &st), 0);
	assert_int_equal(ms_region_ram_resize(block(&src, "resz"), 0x8000), 0);
	assert_int_equal(ms_precopy_iterate(mig, &st), -ERANGE);
	assert_int_equal(ms_precopy_complete(mig, &st), -ERANGE);
	ms_precopy_free(mig);
	assert_false(ms_ctx_dirty_log_global(src.ctx));
	close(fd);
	machine_free(&src);
}

static void test_allocation_failures_leave_everything_unchanged(void **state)
{
	machine src, dst;
	uint32_t before;
	stream s;
	int rc;

	(void)state;
	machine_new(&src, L_SMALL);
	machine_new(&dst, L_SMALL);
	machine_fill(&src, 15);
	machine_fill(&dst, 16);
	before = machine_sum(&dst);
	save(&s, &src);
	for (uint64_t n = 1;; n++) {
		ms_ctx_test_control(dst.ctx, MS_TEST_FAIL_ALLOC_AFTER, n);
		rc = load(&dst, s.data, s.len);
		ms_ctx_test_control(dst.ctx, MS_TEST_FAIL_ALLOC_AFTER, 0);
		if (rc == 0)
			break;
		assert_int_equal(rc, -ENOMEM);
		assert_int_equal(machine_sum(&dst), before);
	}
	assert_int_equal(machine_sum(&dst), machine_sum(&src));
	free(s.data);
	machine_free(&src);
	machine_free(&dst);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_save_and_load_round_trip_every_backend),
		cmocka_unit_test(test_loaded_pages_are_marked_dirty),
		cmocka_unit_test(test_another_dirty_page_size_loads),
		cmocka_unit_test(test_stream_through_a_pipe),
		cmocka_unit_test(test_mismatched_destinations_are_refused_unchanged),
		cmocka_unit_test(test_other_page_size_is_refused),
		cmocka_unit_test(test_save_refuses_duplicate_names_and_bad_arguments),
		cmocka_unit_test(test_bad_magic_and_version_are_refused),
		cmocka_unit_test(test_truncation_at_every_offset_is_refused_unchanged),
		cmocka_unit_test(test_every_corrupted_byte_is_refused_unchanged),
		cmocka_unit_test(test_a_stream_missing_pages_is_refused),
		cmocka_unit_test(test_precopy_with_a_running_writer_converges_and_loads),
		cmocka_unit_test(test_precopy_leaves_global_logging_on_when_it_was),
		cmocka_unit_test(test_precopy_write_failure_fails_the_migration),
		cmocka_unit_test(test_precopy_fails_when_a_block_is_resized),
		cmocka_unit_test(test_allocation_failures_leave_everything_unchanged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
