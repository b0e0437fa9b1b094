/*
 * ramblock.c: RAM backends, the host memory behind RAM-backed regions.
 *
 * Each backend ends in one mmap() of max_size bytes at an address that
 * honours the alignment asked for: a PROT_NONE reservation of max_size +
 * align is made first, and the memory is mapped over its aligned part with
 * MAP_FIXED, so the slack stays reserved with the block (and is unmapped
 * with it). Files are grown to offset + max_size when they are shorter;
 * preallocation uses fallocate() for shared files (so a full file system
 * is an error now, not a SIGBUS later) and MADV_POPULATE_WRITE for memory.
 *
 * Except small anonymous blocks: those come from the context's slabs (see
 * "slabs" below), so that machines with many small regions do not pay two
 * mmap() calls to create each one and a munmap() to drop it.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "ramblock.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#ifndef HUGETLBFS_MAGIC
#define HUGETLBFS_MAGIC 0x958458f6
#endif

static uint64_t host_page_size(void)
{
	long sz = sysconf(_SC_PAGESIZE);

	return sz > 0 ? (uint64_t)sz : 4096;
}

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

static int neg_errno(void)
{
	return errno ? -errno : -EIO;
}

/* Which options each backend takes; 0 or -EINVAL (-ENOMEM: too big to reserve). */
static int check_opts(const ms_ram_opts *o)
{
	uint64_t max = o->max_size ? o->max_size : o->size;
	bool file = o->backend == MS_RAM_FILE || o->backend == MS_RAM_FD;

	if (o->flags & ~MS_RAM_FLAGS_ALL)
		return -EINVAL;
	if (o->max_size && o->max_size < o->size)
		return -EINVAL;
	if (o->align && !is_pow2(o->align))
		return -EINVAL;
	/* What only some backends take (@fd cannot be told apart from 0). */
	if ((o->path && o->backend != MS_RAM_FILE) || (o->ptr && o->backend != MS_RAM_PTR) ||
	    (o->offset && !file))
		return -EINVAL;
	switch (o->backend) {
	case MS_RAM_ANON:
		if (o->flags & MS_RAM_SHARED)
			return -EINVAL;
		break;
	case MS_RAM_MEMFD:
		if (o->flags & MS_RAM_READONLY)
			return -EINVAL;
		break;
	case MS_RAM_FILE:
		if (!o->path || !*o->path)
			return -EINVAL;
		break;
	case MS_RAM_FD:
		if (o->fd < 0)
			return -EINVAL;
		break;
	case MS_RAM_PTR:
		if (!o->ptr || o->max_size || o->align)
			return -EINVAL;
		return o->flags & ~(MS_RAM_NOT_MIGRATABLE | MS_RAM_ROM) ? -EINVAL : 0;
	case MS_RAM_NONE:
		if (o->align)
			return -EINVAL;
		return o->flags & ~MS_RAM_ROM ? -EINVAL : 0; /* no memory: any size */
	default:
		return -EINVAL;
	}
	/* The reservation (max + alignment slack) must fit a size_t and mmap(). */
	if (max > (uint64_t)(SIZE_MAX / 2) - o->align)
		return -ENOMEM;
	return 0;
}

/* The page size of the file system @fd is on (hugetlbfs: its huge page). */
static uint64_t fd_page_size(int fd)
{
	struct statfs fs;

	if (fstatfs(fd, &fs) == 0 && fs.f_type == HUGETLBFS_MAGIC && fs.f_bsize > 0)
		return (uint64_t)fs.f_bsize;
	return host_page_size();
}

/*
 * Make sure the file behind @fd holds [0, end): grow it when shorter
 * (a read-only mapping cannot grow it: -EINVAL). *@grown tells whether it
 * did, and @old_len what it was, so a failure can undo it.
 */
static int fd_fit(int fd, uint64_t end, bool readonly, bool *grown, off_t *old_len)
{
	struct stat st;

	*grown = false;
	if (fstat(fd, &st) < 0)
		return neg_errno();
	*old_len = st.st_size;
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return -EINVAL;
	if (S_ISBLK(st.st_mode) || (uint64_t)st.st_size >= end)
		return 0;
	if (readonly)
		return -EINVAL;
	if (end > (uint64_t)INT64_MAX)
		return -EFBIG;
	if (ftruncate(fd, (off_t)end) < 0)
		return neg_errno();
	*grown = true;
	return 0;
}

/* ---- slabs of small anonymous blocks -------------------------------------- */

/*
 * Anonymous private blocks of at most SLAB_MAX_PAGES pages, neither
 * resizeable, preallocated, read-only nor over-aligned, are carved from
 * 2 MiB slabs, one size class per slab (1, 2, 4, 8 or 16 pages), instead of
 * being mapped on their own. Giving one back clears a bit, where a munmap()
 * would take the address-space lock and interrupt every other thread of the
 * process to flush its TLB: the last reference of a region is often dropped
 * on liburcu's callback thread while another thread commits, and 100,000
 * small regions freed one by one made that the cost of deleting them. A
 * block handed out again is cleared first (a fresh slab is zero already). A
 * slab whose last block is given back is unmapped, unless it is its class's
 * only slab; the rest go with the context.
 */
#define SLAB_BYTES ((size_t)2 << 20)
#define SLAB_CLASSES 5
#define SLAB_MAX_PAGES ((size_t)1 << (SLAB_CLASSES - 1))
#define SLAB_WORDS 8 /* bitmap words: 512 blocks, a slab of 4 KiB pages */

struct ms__ramslab {
	struct ms__ramslab *next, *prev; /* the class's slabs with free blocks */
	struct ms__ramslabs *owner;
	uint8_t *base;
	size_t block; /* bytes */
	unsigned cls, nr_blocks, used;
	bool listed;
	uint64_t busy[SLAB_WORDS];
	uint64_t touched[SLAB_WORDS]; /* handed out before: clear when reused */
};

struct ms__ramslabs {
	pthread_mutex_t lock; /* blocks come back from liburcu's thread too */
	struct ms__ramslab *partial[SLAB_CLASSES];
	size_t nr_slabs[SLAB_CLASSES];
};

static void slab_list(struct ms__ramslabs *ss, struct ms__ramslab *s)
{
	s->prev = NULL;
	s->next = ss->partial[s->cls];
	if (s->next)
		s->next->prev = s;
	ss->partial[s->cls] = s;
	s->listed = true;
}

static void slab_unlist(struct ms__ramslabs *ss, struct ms__ramslab *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		ss->partial[s->cls] = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->next = s->prev = NULL;
	s->listed = false;
}

static void slabs_free(ms_ctx *ctx)
{
	struct ms__ramslabs *ss = ctx->ramslabs;
	unsigned c;

	if (!ss)
		return;
	for (c = 0; c < SLAB_CLASSES; c++) {
		while (ss->partial[c]) {
			struct ms__ramslab *s = ss->partial[c];

			slab_unlist(ss, s);
			munmap(s->base, SLAB_BYTES);
			free(s);
		}
	}
	pthread_mutex_destroy(&ss->lock);
	free(ss);
	ctx->ramslabs = NULL;
}

/* The context's slabs, made on first use. NULL when out of memory. */
static struct ms__ramslabs *slabs_of(ms_ctx *ctx)
{
	struct ms__ramslabs *ss;

	ms__ctx_lock(ctx);
	ss = ctx->ramslabs;
	if (!ss) {
		ss = calloc(1, sizeof(*ss));
		if (ss && pthread_mutex_init(&ss->lock, NULL) != 0) {
			free(ss);
			ss = NULL;
		}
		if (ss) {
			ctx->ramslabs = ss;
			ms__ctx_on_free(ctx, MS__FREE_RAM, slabs_free);
		}
	}
	ms__ctx_unlock(ctx);
	return ss;
}

/* Whether @o asks for a block the slabs serve, and its size class. */
static bool slab_class(const ms_ram_opts *o, size_t len, unsigned *cls)
{
	size_t page = (size_t)host_page_size();
	unsigned c;

	if (o->backend != MS_RAM_ANON || (o->max_size && o->max_size != o->size) ||
	    (o->flags & (MS_RAM_PREALLOC | MS_RAM_READONLY)) || o->align > page ||
	    SLAB_BYTES / page > 64 * SLAB_WORDS)
		return false;
	for (c = 0; c < SLAB_CLASSES; c++) {
		if (len <= page << c) {
			*cls = c;
			return true;
		}
	}
	return false;
}

/*
 * A new slab, aligned to its size. A class's second and later slabs ask
 * for transparent huge pages (@huge): a machine with thousands of small
 * regions then reaches them through a few hundred TLB entries, while one
 * with a handful does not commit 2 MiB for its first small block.
 */
static void *slab_map(bool huge)
{
	uint8_t *p = mmap(NULL, 2 * SLAB_BYTES, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	uint8_t *base;
	size_t head;

	if (p == MAP_FAILED)
		return NULL;
	base = (uint8_t *)(((uintptr_t)p + SLAB_BYTES - 1) & ~((uintptr_t)SLAB_BYTES - 1));
	head = (size_t)(base - p);
	if (head)
		munmap(p, head);
	munmap(base + SLAB_BYTES, SLAB_BYTES - head);
#ifdef MADV_HUGEPAGE
	if (huge)
		(void)madvise(base, SLAB_BYTES, MADV_HUGEPAGE); /* a hint: failure is harmless */
#else
	(void)huge;
#endif
	return base;
}

/* A block of class @cls for @rb from @ctx's slabs: 0, or -ENOMEM. */
static int slab_get(ms__ramblock *rb, ms_ctx *ctx, unsigned cls)
{
	struct ms__ramslabs *ss = slabs_of(ctx);
	struct ms__ramslab *s;
	bool reused;
	unsigned w, i;
	uint8_t *p;

	if (!ss)
		return -ENOMEM;
	pthread_mutex_lock(&ss->lock);
	s = ss->partial[cls];
	if (!s) {
		void *base = slab_map(ss->nr_slabs[cls] > 0);

		s = base ? calloc(1, sizeof(*s)) : NULL;
		if (!s) {
			if (base)
				munmap(base, SLAB_BYTES);
			pthread_mutex_unlock(&ss->lock);
			return -ENOMEM;
		}
		s->owner = ss;
		s->base = base;
		s->cls = cls;
		s->block = (size_t)host_page_size() << cls;
		s->nr_blocks = (unsigned)(SLAB_BYTES / s->block);
		ss->nr_slabs[cls]++;
		slab_list(ss, s);
	}
	for (w = 0; ~s->busy[w] == 0; w++)
		;
	i = w * 64 + (unsigned)__builtin_ctzll(~s->busy[w]);
	s->busy[w] |= 1ull << (i % 64);
	reused = s->touched[w] & (1ull << (i % 64));
	s->touched[w] |= 1ull << (i % 64);
	if (++s->used == s->nr_blocks)
		slab_unlist(ss, s);
	pthread_mutex_unlock(&ss->lock);
	p = s->base + (size_t)i * s->block;
	if (reused)
		memset(p, 0, s->block);
	rb->host = p;
	rb->slab = s;
	return 0;
}

static void slab_put(ms__ramblock *rb)
{
	struct ms__ramslab *s = rb->slab;
	struct ms__ramslabs *ss = s->owner;
	size_t i = (size_t)((uint8_t *)rb->host - s->base) / s->block;
	bool drop = false;

	pthread_mutex_lock(&ss->lock);
	s->busy[i / 64] &= ~(1ull << (i % 64));
	s->used--;
	if (s->used == 0 && ss->nr_slabs[s->cls] > 1) {
		if (s->listed)
			slab_unlist(ss, s);
		ss->nr_slabs[s->cls]--;
		drop = true;
	} else if (!s->listed) {
		slab_list(ss, s);
	}
	pthread_mutex_unlock(&ss->lock);
	if (drop) {
		munmap(s->base, SLAB_BYTES);
		free(s);
	}
}

/* Map @len bytes at an address aligned to @align (0: page); @fd -1: anonymous. */
static int map_aligned(ms__ramblock *rb, size_t len, uint64_t align, int prot, int flags, int fd,
		       uint64_t offset)
{
	size_t slack = align > host_page_size() ? (size_t)align : 0;
	uint8_t *base, *at;
	void *p;

	base = mmap(NULL, len + slack, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
		    0);
	if (base == MAP_FAILED)
		return -ENOMEM;
	at = base;
	if (slack)
		at = (uint8_t *)(((uintptr_t)base + slack - 1) & ~((uintptr_t)slack - 1));
	p = mmap(at, len, prot, flags | MAP_FIXED, fd, (off_t)offset);
	if (p == MAP_FAILED) {
		int rc = errno == ENOMEM ? -ENOMEM : neg_errno();

		munmap(base, len + slack);
		return rc;
	}
	rb->map_base = base;
	rb->map_len = len + slack;
	rb->host = at;
	return 0;
}

/* Commit every page of the mapping, or say why it cannot be done. */
static int populate(ms__ramblock *rb, size_t len)
{
	if (rb->fd >= 0 && rb->shared && !rb->readonly) {
		/* A private copy never writes the file: only shared pages need blocks. */
		int err = posix_fallocate(rb->fd, (off_t)rb->fd_offset, (off_t)len);

		if (err)
			return -err;
	}
	if (rb->readonly)
		return madvise(rb->host, len, MADV_WILLNEED) < 0 ? neg_errno() : 0;
	if (madvise(rb->host, len, MADV_POPULATE_WRITE) == 0)
		return 0;
	if (errno != EINVAL)
		return errno == EFAULT || errno == EHWPOISON ? -ENOMEM : neg_errno();
	/* Kernels before 5.14: touch every page (zero stays zero). */
	for (size_t off = 0; off < len; off += (size_t)rb->page_size) {
		volatile uint8_t *b = (uint8_t *)rb->host + off;

		*b = *b;
	}
	return 0;
}

/* Open the backend's file (FILE, FD, MEMFD) into rb->fd; *@created for a new file. */
static int open_backing(ms__ramblock *rb, const ms_ram_opts *o, bool *created)
{
	*created = false;
	switch (o->backend) {
	case MS_RAM_MEMFD: {
		/* memfd_create() refuses names over 249 bytes: keep a prefix. */
		char name[64];

		snprintf(name, sizeof(name), "%s", o->name ? o->name : "memspace");
		rb->fd = memfd_create(name, MFD_CLOEXEC);
		return rb->fd < 0 ? neg_errno() : 0;
	}
	case MS_RAM_FD:
		rb->fd = fcntl(o->fd, F_DUPFD_CLOEXEC, 0);
		return rb->fd < 0 ? neg_errno() : 0;
	case MS_RAM_FILE:
		if (rb->readonly) {
			rb->fd = open(o->path, O_RDONLY | O_CLOEXEC);
			return rb->fd < 0 ? neg_errno() : 0;
		}
		rb->fd = open(o->path, O_RDWR | O_CLOEXEC);
		if (rb->fd < 0 && errno == ENOENT) {
			rb->fd = open(o->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
			*created = rb->fd >= 0;
		}
		return rb->fd < 0 ? neg_errno() : 0;
	default:
		return 0;
	}
}

static int create_memory(ms__ramblock *rb, const ms_ram_opts *o, size_t len)
{
	int prot = rb->readonly ? PROT_READ : PROT_READ | PROT_WRITE;
	bool created = false, grown = false;
	off_t old_len = 0;
	int rc;

	rc = open_backing(rb, o, &created);
	if (rc < 0)
		return rc;
	if (rb->fd < 0) { /* anonymous */
		rc = map_aligned(rb, len, rb->align, prot,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	} else {
		rb->page_size = fd_page_size(rb->fd);
		if (rb->fd_offset % rb->page_size || len % rb->page_size) {
			rc = -EINVAL;
			goto fail;
		}
		rc = fd_fit(rb->fd, rb->fd_offset + len, rb->readonly, &grown, &old_len);
		if (rc < 0)
			goto fail;
		rc = map_aligned(rb, len, rb->align, prot, rb->shared ? MAP_SHARED : MAP_PRIVATE,
				 rb->fd, rb->fd_offset);
	}
	if (rc == 0 && (rb->flags & MS_RAM_PREALLOC)) {
		rc = populate(rb, len);
		if (rc < 0) {
			munmap(rb->map_base, rb->map_len);
			rb->map_base = rb->host = NULL;
			rb->map_len = 0;
		}
	}
	if (rc == 0)
		return 0;
fail:
	if (grown)
		(void)!ftruncate(rb->fd, old_len);
	if (created)
		unlink(o->path);
	if (rb->fd >= 0)
		close(rb->fd);
	rb->fd = -1;
	return rc;
}

int ms__ramblock_new(ms__ramblock **out, ms_ctx *ctx, const ms_ram_opts *o)
{
	uint64_t max = o->max_size ? o->max_size : o->size;
	ms__ramblock *rb;
	int rc;

	*out = NULL;
	rc = check_opts(o);
	if (rc < 0)
		return rc;
	rb = ms__ctx_calloc(ctx, 1, sizeof(*rb));
	if (!rb)
		return -ENOMEM;
	rb->backend = o->backend;
	rb->flags = o->flags;
	rb->max_size = max;
	rb->resizeable = o->max_size != 0;
	rb->fd = -1;
	rb->fd_offset = o->offset;
	rb->page_size = host_page_size();
	rb->align = o->align;
	rb->readonly = o->flags & MS_RAM_READONLY;
	rb->shared = o->backend == MS_RAM_MEMFD ||
		     ((o->backend == MS_RAM_FILE || o->backend == MS_RAM_FD) &&
		      (o->flags & MS_RAM_SHARED));
	rb->resized = o->resized;
	rb->opaque = o->opaque;
	if (o->backend != MS_RAM_FILE && o->backend != MS_RAM_FD)
		rb->fd_offset = 0;
	if (o->backend == MS_RAM_PTR) {
		rb->host = o->ptr;
	} else if (o->backend != MS_RAM_NONE) {
		/* Whole pages: a file mapping must cover whole pages anyway. */
		uint64_t page = host_page_size();
		size_t len = (size_t)((max + page - 1) & ~(page - 1));

		unsigned cls;

		if (ms__ctx_inject_failure(ctx))
			rc = -ENOMEM;
		else if (slab_class(o, len, &cls))
			rc = slab_get(rb, ctx, cls);
		else
			rc = create_memory(rb, o, len);
		if (rc < 0) {
			free(rb);
			return rc;
		}
	}
	*out = rb;
	return 0;
}

void ms__ramblock_free(ms__ramblock *rb)
{
	if (!rb)
		return;
	if (rb->slab)
		slab_put(rb);
	if (rb->map_len)
		munmap(rb->map_base, rb->map_len);
	if (rb->fd >= 0)
		close(rb->fd);
	ms__bitmap_fini(rb);
	free(rb);
}

int ms__ramblock_discard(ms__ramblock *rb, uint64_t offset, uint64_t len)
{
	uint64_t page = rb->page_size, lo, hi;
	uint8_t *host = rb->host;

	if (!host || rb->readonly || !len || offset >= rb->max_size)
		return 0;
	if (len > rb->max_size - offset)
		len = rb->max_size - offset;
	if (!rb->map_len) { /* the caller's memory: clear it */
		memset(host + offset, 0, (size_t)len);
		return 0;
	}
	lo = (offset + page - 1) & ~(page - 1);
	hi = (offset + len) & ~(page - 1);
	if (lo >= hi) {
		memset(host + offset, 0, (size_t)len);
		return 0;
	}
	memset(host + offset, 0, (size_t)(lo - offset));
	memset(host + hi, 0, (size_t)(offset + len - hi));
	if (rb->fd >= 0 && rb->shared) {
		/* Shared file pages: punch them out of the file. */
		if (fallocate(rb->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      (off_t)(rb->fd_offset + lo), (off_t)(hi - lo)) == 0)
			return 0;
		memset(host + lo, 0, (size_t)(hi - lo));
		return 0;
	}
	if (rb->fd < 0 && madvise(host + lo, (size_t)(hi - lo), MADV_DONTNEED) == 0)
		return 0;                        /* anonymous private: fresh zero pages */
	memset(host + lo, 0, (size_t)(hi - lo)); /* private file copy: zero it */
	return 0;
}

void ms__ramblock_info(const ms__ramblock *rb, ms_ram_info *info)
{
	memset(info, 0, sizeof(*info));
	info->backend = rb->backend;
	info->fd = rb->fd;
	info->fd_offset = rb->fd_offset;
	info->page_size = rb->page_size;
	info->shared = rb->shared;
	info->readonly = rb->readonly;
	info->migratable = !(rb->flags & MS_RAM_NOT_MIGRATABLE);
	info->max_size = rb->max_size;
	info->host = rb->host;
	info->align = rb->align;
}
