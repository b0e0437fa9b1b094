/*
 * test_concurrency_iommu.c: lock-free readers through IOMMUs against a writer
 * that remaps IOMMU pages and commits topology changes.
 *
 * Layout. The device address space "dev" shows two windows of NV pages:
 * at 0 the IOMMU io1, which translates into "phys"; at CHAIN_BASE the IOMMU
 * c1, which translates into "mid", where the IOMMU c2 translates into "phys"
 * (a chain of two). "phys" holds RAM A (NPH pages) at 0 and RAM B (NPH pages,
 * higher priority) that the writer moves between 0 and FAR and enables and
 * disables, so a physical page shows A or B. Every 32-bit word of both RAMs
 * says where it is: tag (A or B) << 28 | page << 12 | offset in the page.
 * "dev" and "mid" also hold a churn RAM, far from the windows, that the
 * writer toggles so that every address space on a path changes views.
 *
 * The test IOMMUs keep their page tables in atomics (one PTE per page:
 * valid bit and target page), read with acquire in translate, so the IOMMU
 * itself is race-free. The writer thread remaps pages as the contract asks
 * (docs/iommu.md): either in place (PTE := new, UNMAP old, MAP new) or
 * through a gap (PTE := none, UNMAP old, PTE := new, MAP new), and commits
 * topology transactions. Two reader threads meanwhile make random accesses
 * through both windows: ms_as_ldl_le(), ms_as_read() (also across a page
 * boundary), ms_as_translate(), ms_as_get_iotlb_entry(), and loads and
 * reads through their own region caches (one per page, one across two
 * pages), which they sometimes re-initialise or invalidate.
 *
 * The oracle. Per IOMMU page, the writer keeps the history of its mappings
 * (mapping k goes to hist[k]) and publishes, with release stores:
 *   inst     the last mapping whose PTE store has begun (stored before it);
 *   gone     how many mappings have left the page table (stored after the
 *            PTE store that removed the last of them);
 *   revoked  how many mappings have been revoked: stored after the UNMAP
 *            notification of the last of them returned;
 *   gap_begun / gap_ended  gaps (PTE none) begun (before the PTE store) and
 *            ended (after the PTE store that ends it).
 * and for the topology: lay[k], whether B covers phys page 0.. in layout k,
 * lay_started before and lay_done after each commit. A reader snapshots the
 * "lower" counters (acquire) before each access and the "upper" ones after
 * it, and checks every word it got:
 *   - the offset in the page is the one it asked for;
 *   - the tag is that of a layout in [lay_done before, lay_started after]:
 *     no access that starts after a commit returned sees an older view;
 *   - the page is the target of a mapping in [lo, inst after], composed
 *     through c1 and c2 for the chain, where lo is, for a region cache,
 *     revoked before the access: a cache keeps a translation until an UNMAP
 *     covering it (the documented contract), never after one that returned
 *     before the access began; and for every other call gone before the
 *     access: they translate during the access, so they never see a
 *     mapping that had left the page table before the access began;
 *   - a word that failed (0, with MS_RESULT_ACCESS_ERROR, or -EACCES) is
 *     only allowed if a gap on its path overlapped the access, or an
 *     earlier word of the same access failed (a failed translation fails
 *     the rest of the access's bytes in that IOMMU region, as in QEMU);
 *   - the result says an error exactly when some word failed.
 * The writer waits for the readers to make progress between steps (never
 * for time), and a reader makes at most AHEAD operations per such wait, so
 * the interleaving is rich but the run is bounded by REMAPS + COMMITS
 * steps; readers stop when the writer is done.
 *
 * The second test forces, deterministically, the interleaving in which a
 * cache translates against a view that a commit replaces (and frees through
 * call_rcu) before the cache takes its reference on it.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "cache.h"
#include "map.h"
#include "txn.h"
#include "ms_rng.h"

#define PAGE_SHIFT 12
#define PAGE ((uint64_t)1 << PAGE_SHIFT)
#define NPH 32  /* pages of RAM A and of RAM B */
#define NV 8    /* pages of each dev window (io1, c1) */
#define NMID 16 /* pages of c2 (mid space) */
#define MAXP 16 /* the most pages of one test IOMMU */
#define CHAIN_BASE 0x10000u
#define CHURN_ADDR 0x40000u
#define FAR 0x100000u
#define TAG_A 0xAu
#define TAG_B 0xBu
#define TAG_ANY 0xFu /* the caller cannot tell the RAM: skip the layout check */
#define PTE_VALID ((uint64_t)1 << 63)

#define REMAPS 12000
#define COMMITS 3000
#define NR_READERS 2
#define MAX_READERS 8
#define AHEAD 4 /* reader operations per writer step, at most */

enum {
	IO1,
	C1,
	C2,
	NR_IOMMUS
};

/*
 * The size of a run. CI runs REMAPS remaps and COMMITS commits against
 * NR_READERS readers; the soak mode (MS_SOAK=1, docs/testing.md) runs
 * MS_SOAK_COMMITS commits (default 10^6) against four readers, once with
 * as many remaps and region caches, once with neither.
 */
typedef struct run_params {
	unsigned remaps, commits, readers;
	uint32_t max_maps; /* history entries per IOMMU page */
	bool caches;       /* readers use region caches */
} run_params;

static run_params run = {REMAPS, COMMITS, NR_READERS, REMAPS + 1, true};

/* ---- a race-free test IOMMU with an oracle log ------------------------------------- */

typedef struct tiommu {
	ms_region *region;
	ms_as *target;
	unsigned pages;
	uint64_t pte[MAXP]; /* atomic: PTE_VALID | target page, or 0 */
	/* Oracle (see the header comment). hist[v][k] is written before inst[v] = k. */
	uint32_t *hist[MAXP];                      /* run.max_maps entries each */
	uint32_t nr_maps[MAXP];                    /* writer only */
	uint32_t inst[MAXP];                       /* atomic */
	uint32_t gone[MAXP];                       /* atomic */
	uint32_t revoked[MAXP];                    /* atomic */
	uint32_t gap_begun[MAXP], gap_ended[MAXP]; /* atomic */
	/* Deterministic test only: toggled (committed) from the next translate. */
	ms_region *toggle_on_translate;
} tiommu;

static void tio_translate(ms_iotlb_entry *out, ms_region *iommu, uint64_t addr, ms_iommu_perm flags,
			  unsigned idx, void *opaque)
{
	tiommu *t = opaque;
	uint64_t page = addr >> PAGE_SHIFT, pte;

	(void)iommu;
	(void)flags;
	if (t->toggle_on_translate) {
		ms_region *r = t->toggle_on_translate;

		t->toggle_on_translate = NULL;
		(void)ms_region_set_enabled(r, !ms_region_enabled(r));
	}
	out->target_as = t->target;
	out->iova = addr & ~(PAGE - 1);
	out->addr_mask = PAGE - 1;
	if (page >= t->pages || idx != 0) {
		out->perm = MS_IOMMU_NONE;
		return;
	}
	pte = __atomic_load_n(&t->pte[page], __ATOMIC_ACQUIRE);
	out->translated_addr = (pte & ~PTE_VALID) << PAGE_SHIFT;
	out->perm = (pte & PTE_VALID) ? MS_IOMMU_RW : MS_IOMMU_NONE;
}

static uint64_t tio_page_size(ms_region *iommu, void *opaque)
{
	(void)iommu;
	(void)opaque;
	return PAGE;
}

static const ms_iommu_ops tio_ops = {
	.version = MS_IOMMU_OPS_VERSION,
	.translate = tio_translate,
	.get_min_page_size = tio_page_size,
};

/* Page v maps to first + v * stride (mod modulo) at first. */
static void tio_init(tiommu *t, ms_ctx *ctx, const char *name, unsigned pages, ms_as *target,
		     unsigned first, unsigned stride, unsigned modulo)
{
	t->pages = pages;
	t->target = target;
	for (unsigned v = 0; v < pages; v++) {
		t->hist[v] = calloc(run.max_maps, sizeof(uint32_t));
		assert_non_null(t->hist[v]);
		t->hist[v][0] = (first + v * stride) % modulo;
		t->pte[v] = PTE_VALID | t->hist[v][0];
	}
	assert_int_equal(ms_iommu_new(&t->region, ctx,
				      &(ms_iommu_opts){.name = name,
						       .size = pages * PAGE,
						       .ops = &tio_ops,
						       .opaque = t}),
			 0);
}

static ms_iommu_event tio_event(const tiommu *t, unsigned v, uint32_t target,
				ms_iommu_notifier_flags type)
{
	ms_iommu_event ev = {.type = type};

	ev.entry.target_as = t->target;
	ev.entry.iova = v * PAGE;
	ev.entry.addr_mask = PAGE - 1;
	ev.entry.translated_addr = (uint64_t)target << PAGE_SHIFT;
	ev.entry.perm = type == MS_IOMMU_NOTIFIER_MAP ? MS_IOMMU_RW : MS_IOMMU_NONE;
	return ev;
}

/* ---- shared state ------------------------------------------------------------------ */

typedef struct shared {
	ms_ctx *ctx;
	ms_as *dev, *mid, *phys;
	ms_region *dev_root, *mid_root, *phys_root;
	ms_region *ram_a, *ram_b, *dev_churn, *mid_churn;
	tiommu io[NR_IOMMUS];
	/* Topology oracle: lay[k] is written before lay_started = k. */
	bool *lay;                      /* run.commits + 1 entries */
	uint32_t lay_started, lay_done; /* atomic */
	/* Writer-only topology state. */
	bool b_enabled, b_at_zero;

	int stop;              /* atomic */
	uint64_t ticks;        /* atomic: times the writer waited for the readers */
	uint64_t progress;     /* atomic: reader operations done */
	uint64_t ops[8];       /* atomic: per kind of operation */
	uint64_t words;        /* atomic: words checked */
	uint64_t failed_words; /* atomic: words that failed (allowed by a gap) */
	int failures;          /* atomic */
	pthread_mutex_t msg_lock;
	char msg[512]; /* [msg_lock] the first failure */
} shared;

static void __attribute__((format(printf, 2, 3))) report(shared *sh, const char *fmt, ...)
{
	int nr = __atomic_fetch_add(&sh->failures, 1, __ATOMIC_RELAXED);
	va_list ap;

	pthread_mutex_lock(&sh->msg_lock);
	va_start(ap, fmt);
	if (nr == 0)
		vsnprintf(sh->msg, sizeof(sh->msg), fmt, ap);
	else if (nr < 10) /* a few more, for the diagnosis */
		vfprintf(stderr, fmt, ap), fputc('\n', stderr);
	va_end(ap);
	pthread_mutex_unlock(&sh->msg_lock);
}

static uint32_t get_le32(const uint8_t *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static void put_le32(uint8_t *b, uint32_t w)
{
	for (unsigned i = 0; i < 4; i++)
		b[i] = (uint8_t)(w >> (8 * i));
}

/* ---- the oracle ------------------------------------------------------------------------ */

typedef struct snap {
	/* before the access */
	uint32_t gone[NR_IOMMUS][MAXP], revoked[NR_IOMMUS][MAXP], gap_ended[NR_IOMMUS][MAXP];
	uint32_t lay_lo;
	/* after it */
	uint32_t inst[NR_IOMMUS][MAXP], gap_begun[NR_IOMMUS][MAXP];
	uint32_t lay_hi;
} snap;

static void snap_before(const shared *sh, snap *s)
{
	s->lay_lo = __atomic_load_n(&sh->lay_done, __ATOMIC_ACQUIRE);
	for (unsigned i = 0; i < NR_IOMMUS; i++)
		for (unsigned v = 0; v < sh->io[i].pages; v++) {
			s->gone[i][v] = __atomic_load_n(&sh->io[i].gone[v], __ATOMIC_ACQUIRE);
			s->revoked[i][v] = __atomic_load_n(&sh->io[i].revoked[v], __ATOMIC_ACQUIRE);
			s->gap_ended[i][v] =
				__atomic_load_n(&sh->io[i].gap_ended[v], __ATOMIC_ACQUIRE);
		}
}

static void snap_after(const shared *sh, snap *s)
{
	for (unsigned i = 0; i < NR_IOMMUS; i++)
		for (unsigned v = 0; v < sh->io[i].pages; v++) {
			s->inst[i][v] = __atomic_load_n(&sh->io[i].inst[v], __ATOMIC_ACQUIRE);
			s->gap_begun[i][v] =
				__atomic_load_n(&sh->io[i].gap_begun[v], __ATOMIC_ACQUIRE);
		}
	s->lay_hi = __atomic_load_n(&sh->lay_started, __ATOMIC_ACQUIRE);
}

/* The first mapping of page v of IOMMU i the access may have used. */
static uint32_t lo_of(const snap *s, unsigned i, unsigned v, bool cached)
{
	return cached ? s->revoked[i][v] : s->gone[i][v];
}

/* Some mapping k in [lo, inst after] of page v of IOMMU i goes to target. */
static bool maps_to(const shared *sh, const snap *s, unsigned i, unsigned v, bool cached,
		    uint32_t target)
{
	for (uint32_t k = lo_of(s, i, v, cached); k <= s->inst[i][v]; k++)
		if (sh->io[i].hist[v][k] == target)
			return true;
	return false;
}

static bool gap_overlapped(const snap *s, unsigned i, unsigned v)
{
	return s->gap_ended[i][v] < s->gap_begun[i][v];
}

/* Window of dev address a: IO1 or C1 and the page in it; false outside both. */
static bool window_of(uint64_t a, unsigned *iommu, unsigned *v)
{
	if (a < NV * PAGE) {
		*iommu = IO1;
		*v = (unsigned)(a >> PAGE_SHIFT);
		return true;
	}
	if (a >= CHAIN_BASE && a < CHAIN_BASE + NV * PAGE) {
		*iommu = C1;
		*v = (unsigned)((a - CHAIN_BASE) >> PAGE_SHIFT);
		return true;
	}
	return false;
}

/* Physical page p is a possible translation of dev address a. */
static bool page_ok(const shared *sh, const snap *s, uint64_t a, bool cached, uint32_t p)
{
	unsigned i, v;

	if (!window_of(a, &i, &v))
		return false;
	if (i == IO1)
		return maps_to(sh, s, IO1, v, cached, p);
	for (uint32_t k = lo_of(s, C1, v, cached); k <= s->inst[C1][v]; k++)
		if (maps_to(sh, s, C2, sh->io[C1].hist[v][k], cached, p))
			return true;
	return false;
}

/* A failed translation of dev address a is possible: a gap on its path overlapped. */
static bool failure_ok(const shared *sh, const snap *s, uint64_t a)
{
	unsigned i, v;

	if (!window_of(a, &i, &v))
		return false;
	if (gap_overlapped(s, i, v))
		return true;
	if (i == IO1)
		return false;
	/* Failures come from a translation made during the access (not cached). */
	for (uint32_t k = lo_of(s, C1, v, false); k <= s->inst[C1][v]; k++)
		if (gap_overlapped(s, C2, sh->io[C1].hist[v][k]))
			return true;
	return false;
}

static bool layout_ok(const shared *sh, const snap *s, unsigned tag)
{
	for (uint32_t k = s->lay_lo; k <= s->lay_hi; k++)
		if (sh->lay[k] == (tag == TAG_B))
			return true;
	return false;
}

static const char *const op_names[] = {"ldl",       "read",       "translate", "iotlb",
				       "cache_ldl", "cache_read", "cache_2pg", "cache_reinit"};

/*
 * Check word w read at dev address a (4-aligned): 0 is a failed word; tag
 * TAG_ANY means the caller cannot tell the RAM (skip the layout check).
 * @rest_may_fail: an earlier word of the same access failed legitimately;
 * a failed translation fails the rest of the access's bytes in that IOMMU
 * region (like QEMU's unassigned fallback), not only its page.
 * Returns whether the word failed.
 */
static bool check_word(shared *sh, const snap *s, unsigned op, uint64_t a, uint32_t w, bool cached,
		       bool rest_may_fail)
{
	unsigned tag = w >> 28;
	uint32_t p = (w >> PAGE_SHIFT) & 0xffff;

	__atomic_fetch_add(&sh->words, 1, __ATOMIC_RELAXED);
	if (w == 0) {
		__atomic_fetch_add(&sh->failed_words, 1, __ATOMIC_RELAXED);
		if (!rest_may_fail && !failure_ok(sh, s, a))
			report(sh, "%s at 0x%" PRIx64 ": failed with no gap on its path",
			       op_names[op], a);
		return true;
	}
	if ((w & (PAGE - 1)) != (a & (PAGE - 1)) || p >= NPH)
		report(sh, "%s at 0x%" PRIx64 ": read 0x%08x, wrong offset or page", op_names[op],
		       a, w);
	else if (tag != TAG_ANY && tag != TAG_A && tag != TAG_B)
		report(sh, "%s at 0x%" PRIx64 ": read 0x%08x, bad tag", op_names[op], a, w);
	else if (tag != TAG_ANY && !layout_ok(sh, s, tag))
		report(sh, "%s at 0x%" PRIx64 ": read 0x%08x: RAM %X in no layout of [%u, %u]",
		       op_names[op], a, w, tag, s->lay_lo, s->lay_hi);
	else if (!page_ok(sh, s, a, cached, p))
		report(sh,
		       "%s at 0x%" PRIx64 ": read 0x%08x: page %u not mapped during the access%s",
		       op_names[op], a, w, p, cached ? " (cache: UNMAP before the access)" : "");
	return false;
}

static void check_buf(shared *sh, const snap *s, unsigned op, uint64_t a, const uint8_t *buf,
		      size_t len, ms_result res, bool cached)
{
	bool any_failed = false;

	for (size_t off = 0; off < len; off += 4)
		any_failed |=
			check_word(sh, s, op, a + off, get_le32(buf + off), cached, any_failed);
	if (any_failed != (res != MS_RESULT_OK))
		report(sh, "%s at 0x%" PRIx64 ": result %u does not match the bytes", op_names[op],
		       a, (unsigned)res);
}

/* ---- readers --------------------------------------------------------------------------- */

typedef struct reader {
	shared *sh;
	ms_rng rng;            /* each thread draws from its own */
	ms_cache cache[2][NV]; /* [window][page] */
	ms_cache two_pages[2]; /* pages 2-3 of each window: always the slow path */
} reader;

static uint64_t window_base(unsigned w)
{
	return w ? CHAIN_BASE : 0;
}

static void reader_op(reader *rd, snap *s)
{
	shared *sh = rd->sh;
	/* Without caches: loads, reads, translations and IOTLB entries only. */
	unsigned op = (unsigned)ms_rng_below(&rd->rng, run.caches ? 8 : 4);
	unsigned w = (unsigned)ms_rng_below(&rd->rng, 2);
	unsigned v = (unsigned)ms_rng_below(&rd->rng, NV);
	uint64_t off = ms_rng_below(&rd->rng, PAGE / 4) * 4;
	uint64_t a = window_base(w) + v * PAGE + off;
	uint8_t buf[64];
	ms_result res = MS_RESULT_OK;
	uint32_t val;

	snap_before(sh, s);
	switch (op) {
	case 0:
		val = ms_as_ldl_le(sh->dev, a, MS_ATTRS_UNSPECIFIED, &res);
		snap_after(sh, s);
		put_le32(buf, val);
		check_buf(sh, s, op, a, buf, 4, res, false);
		break;
	case 1: {
		/* Up to 64 bytes, possibly across the next page of the window. */
		size_t len = 4 * (1 + ms_rng_below(&rd->rng, 16));

		if (v == NV - 1 && off + len > PAGE)
			off = PAGE - len;
		a = window_base(w) + v * PAGE + off;
		res = ms_as_read(sh->dev, a, MS_ATTRS_UNSPECIFIED, buf, len);
		snap_after(sh, s);
		check_buf(sh, s, op, a, buf, len, res, false);
		break;
	}
	case 2: {
		ms_section sec;
		uint64_t len = 4;
		int rc;

		ms_rcu_read_lock();
		rc = ms_as_translate(
			&sec, &len, sh->dev, a,
			&(ms_access_opts){.is_write = false, .attrs = MS_ATTRS_UNSPECIFIED});
		ms_rcu_read_unlock();
		snap_after(sh, s);
		if (rc == -EACCES) {
			check_word(sh, s, op, a, 0, false, false);
		} else if (rc != 0 || len != 4 ||
			   (sec.region != sh->ram_a && sec.region != sh->ram_b)) {
			report(sh, "translate at 0x%" PRIx64 ": rc %d len %" PRIu64, a, rc, len);
		} else {
			unsigned tag = sec.region == sh->ram_b ? TAG_B : TAG_A;

			check_word(sh, s, op, a, (uint32_t)(tag << 28 | sec.offset_in_region),
				   false, false);
		}
		break;
	}
	case 3: {
		ms_iotlb_entry e;
		int rc = ms_as_get_iotlb_entry(&e, sh->dev, a, false, MS_ATTRS_UNSPECIFIED);

		snap_after(sh, s);
		if (rc == -EACCES) {
			check_word(sh, s, op, a, 0, false, false);
		} else if (rc != 0 || e.target_as != sh->phys || e.addr_mask != PAGE - 1 ||
			   e.iova != (a & ~(PAGE - 1)) || e.perm != MS_IOMMU_RW ||
			   (e.translated_addr & (PAGE - 1))) {
			report(sh,
			       "iotlb entry at 0x%" PRIx64 ": rc %d, entry %" PRIx64 "+%" PRIx64
			       "->%" PRIx64 " perm %d",
			       a, rc, e.iova, e.addr_mask, e.translated_addr, (int)e.perm);
		} else {
			/* No tag: the entry names an address, not a region. */
			check_word(sh, s, op, a,
				   TAG_ANY << 28 | (uint32_t)(e.translated_addr | (a & (PAGE - 1))),
				   false, false);
		}
		break;
	}
	case 4:
		val = ms_cache_ldl_le(&rd->cache[w][v], off, &res);
		snap_after(sh, s);
		put_le32(buf, val);
		check_buf(sh, s, op, a, buf, 4, res, true);
		break;
	case 5: {
		size_t len = 4 * (1 + ms_rng_below(&rd->rng, 16));

		if (off + len > PAGE)
			off = PAGE - len;
		a = window_base(w) + v * PAGE + off;
		res = ms_cache_read(&rd->cache[w][v], off, buf, len);
		snap_after(sh, s);
		check_buf(sh, s, op, a, buf, len, res, true);
		break;
	}
	case 6: {
		/* Offsets 0x1000 - 32 .. 0x1000 + 32 of pages 2-3: across the boundary. */
		uint64_t o = PAGE - 32 + ms_rng_below(&rd->rng, 8) * 4;

		a = window_base(w) + 2 * PAGE + o;
		res = ms_cache_read(&rd->two_pages[w], o, buf, 32);
		snap_after(sh, s);
		check_buf(sh, s, op, a, buf, 32, res, true);
		break;
	}
	default:
		/* Start over, or drop the translation now; the next access checks it. */
		if (ms_rng_percent(&rd->rng, 50)) {
			ms_cache_destroy(&rd->cache[w][v]);
			if (ms_cache_init(&rd->cache[w][v], sh->dev, window_base(w) + v * PAGE,
					  PAGE, false) != 0)
				report(sh, "cache init failed");
		} else {
			ms_cache_invalidate(&rd->cache[w][v]);
		}
		snap_after(sh, s);
		break;
	}
	__atomic_fetch_add(&sh->ops[op], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&sh->progress, 1, __ATOMIC_RELEASE);
}

static void *reader_main(void *arg)
{
	reader *rd = arg;
	shared *sh = rd->sh;
	snap *s = calloc(1, sizeof(*s));

	if (!s) {
		report(sh, "out of memory");
		return NULL;
	}
	for (unsigned w = 0; w < 2; w++) {
		for (unsigned v = 0; v < NV; v++)
			if (ms_cache_init(&rd->cache[w][v], sh->dev, window_base(w) + v * PAGE,
					  PAGE, false) != 0)
				report(sh, "cache init failed");
		if (ms_cache_init(&rd->two_pages[w], sh->dev, window_base(w) + 2 * PAGE, 2 * PAGE,
				  false) != 0)
			report(sh, "cache init failed");
	}
	for (uint64_t done = 0; !__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE);) {
		/* At most AHEAD operations per writer step: bounded work, no starving. */
		if (done >= AHEAD * (__atomic_load_n(&sh->ticks, __ATOMIC_ACQUIRE) + 1)) {
			sched_yield();
			continue;
		}
		reader_op(rd, s);
		done++;
	}
	for (unsigned w = 0; w < 2; w++) {
		for (unsigned v = 0; v < NV; v++)
			ms_cache_destroy(&rd->cache[w][v]);
		ms_cache_destroy(&rd->two_pages[w]);
	}
	free(s);
	return NULL;
}

/* ---- the writer ------------------------------------------------------------------------ */

/*
 * Let each reader make AHEAD more operations, and wait (yielding, not
 * timing) until they made @n (at most AHEAD) of them.
 */
static void wait_for_readers(shared *sh, uint64_t n)
{
	uint64_t start = __atomic_load_n(&sh->progress, __ATOMIC_ACQUIRE);

	__atomic_fetch_add(&sh->ticks, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&sh->progress, __ATOMIC_ACQUIRE) - start < n)
		sched_yield();
}

static void notify(shared *sh, tiommu *t, unsigned v, uint32_t target, ms_iommu_notifier_flags type)
{
	ms_iommu_event ev = tio_event(t, v, target, type);
	int rc = ms_iommu_notify(t->region, 0, &ev);

	if (rc != 0)
		report(sh, "ms_iommu_notify: %d", rc);
}

/* Remap a random page; false (nothing done) when its history is full. */
static bool remap(shared *sh, ms_rng *rng)
{
	unsigned i = (unsigned)ms_rng_below(rng, NR_IOMMUS);
	tiommu *t = &sh->io[i];
	unsigned v = (unsigned)ms_rng_below(rng, t->pages);
	uint32_t target = (uint32_t)ms_rng_below(rng, i == C1 ? NMID : NPH);
	bool gap = ms_rng_below(rng, 3) == 0;
	uint32_t k = t->nr_maps[v];
	uint32_t old = t->hist[v][k];

	if (k + 1 >= run.max_maps)
		return false;

	t->hist[v][k + 1] = target;
	t->nr_maps[v] = k + 1;
	if (gap) {
		__atomic_store_n(&t->gap_begun[v], t->gap_begun[v] + 1, __ATOMIC_RELEASE);
		__atomic_store_n(&t->pte[v], 0, __ATOMIC_RELEASE);
	} else {
		__atomic_store_n(&t->inst[v], k + 1, __ATOMIC_RELEASE);
		__atomic_store_n(&t->pte[v], PTE_VALID | target, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&t->gone[v], k + 1, __ATOMIC_RELEASE);
	notify(sh, t, v, old, MS_IOMMU_NOTIFIER_UNMAP);
	__atomic_store_n(&t->revoked[v], k + 1, __ATOMIC_RELEASE);
	if (gap) {
		/* Let the readers meet the hole now and then. */
		if (ms_rng_percent(rng, 50))
			wait_for_readers(sh, 2);
		__atomic_store_n(&t->inst[v], k + 1, __ATOMIC_RELEASE);
		__atomic_store_n(&t->pte[v], PTE_VALID | target, __ATOMIC_RELEASE);
		__atomic_store_n(&t->gap_ended[v], t->gap_ended[v] + 1, __ATOMIC_RELEASE);
	}
	notify(sh, t, v, target, MS_IOMMU_NOTIFIER_MAP);
	return true;
}

static void commit(shared *sh, ms_rng *rng)
{
	uint32_t k = sh->lay_started;
	unsigned what = (unsigned)ms_rng_below(rng, 4);
	int rc = 0;

	ms_transaction_begin(sh->ctx);
	if (what == 0 || what == 2) {
		sh->b_at_zero = !sh->b_at_zero;
		rc |= ms_region_set_address(sh->ram_b, sh->b_at_zero ? 0 : FAR);
	}
	if (what == 1 || what == 2) {
		sh->b_enabled = !sh->b_enabled;
		rc |= ms_region_set_enabled(sh->ram_b, sh->b_enabled);
	}
	if (what == 3 || ms_rng_percent(rng, 50))
		rc |= ms_region_set_enabled(sh->dev_churn, !ms_region_enabled(sh->dev_churn));
	if (what == 3 || ms_rng_percent(rng, 50))
		rc |= ms_region_set_enabled(sh->mid_churn, !ms_region_enabled(sh->mid_churn));
	sh->lay[k + 1] = sh->b_enabled && sh->b_at_zero;
	__atomic_store_n(&sh->lay_started, k + 1, __ATOMIC_RELEASE);
	rc |= ms_transaction_commit(sh->ctx);
	__atomic_store_n(&sh->lay_done, k + 1, __ATOMIC_RELEASE);
	if (rc != 0)
		report(sh, "topology change failed: %d", rc);
}

static void *writer_main(void *arg)
{
	shared *sh = arg;
	unsigned remaps = 0, commits = 0;
	ms_rng rng;

	ms_rng_seed(&rng, 0x9e3779b97f4a7c15ull);
	/* Start when both readers run (they never wait for the writer). */
	wait_for_readers(sh, run.readers);
	while (remaps < run.remaps || commits < run.commits) {
		bool do_commit = commits < run.commits &&
				 (remaps == run.remaps || ms_rng_below(&rng, 5) == 0);

		if (do_commit) {
			commit(sh, &rng);
			commits++;
		} else if (remap(sh, &rng)) {
			remaps++;
		} else {
			continue; /* a full history: draw again */
		}
		wait_for_readers(sh, 1 + ms_rng_below(&rng, 3));
	}
	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* ---- setup ----------------------------------------------------------------------------- */

static void fill_pattern(ms_region *ram, unsigned tag)
{
	uint8_t *mem = ms_region_ram_ptr(ram);

	for (uint32_t p = 0; p < NPH; p++)
		for (uint32_t o = 0; o < PAGE; o += 4)
			put_le32(mem + p * PAGE + o, tag << 28 | p << PAGE_SHIFT | o);
}

static void setup(shared *sh)
{
	pthread_mutex_init(&sh->msg_lock, NULL);
	sh->lay = calloc((size_t)run.commits + 1, sizeof(bool));
	assert_non_null(sh->lay);
	assert_int_equal(ms_ctx_new(&sh->ctx), 0);
	assert_int_equal(ms_region_new_container(&sh->phys_root, sh->ctx, "phys", MS_SIZE_2_64), 0);
	assert_int_equal(ms_region_new_container(&sh->mid_root, sh->ctx, "mid", MS_SIZE_2_64), 0);
	assert_int_equal(ms_region_new_container(&sh->dev_root, sh->ctx, "dev", MS_SIZE_2_64), 0);
	assert_int_equal(ms_as_new(&sh->phys, sh->ctx, sh->phys_root, "phys"), 0);
	assert_int_equal(ms_as_new(&sh->mid, sh->ctx, sh->mid_root, "mid"), 0);
	assert_int_equal(ms_as_new(&sh->dev, sh->ctx, sh->dev_root, "dev"), 0);

	assert_int_equal(ms_region_new_ram(&sh->ram_a, sh->ctx, "ram-a", NPH * PAGE), 0);
	assert_int_equal(ms_region_new_ram(&sh->ram_b, sh->ctx, "ram-b", NPH * PAGE), 0);
	fill_pattern(sh->ram_a, TAG_A);
	fill_pattern(sh->ram_b, TAG_B);
	assert_int_equal(ms_region_add_subregion(sh->phys_root, 0, sh->ram_a), 0);
	assert_int_equal(ms_region_add_subregion_overlap(sh->phys_root, FAR, sh->ram_b, 1), 0);
	sh->b_enabled = true;
	sh->b_at_zero = false;
	sh->lay[0] = false;

	/* io1: page v -> phys page v; c1: page v -> mid page 2v; c2: page q -> phys q + 7. */
	tio_init(&sh->io[IO1], sh->ctx, "io1", NV, sh->phys, 0, 1, NPH);
	tio_init(&sh->io[C1], sh->ctx, "c1", NV, sh->mid, 0, 2, NMID);
	tio_init(&sh->io[C2], sh->ctx, "c2", NMID, sh->phys, 7, 1, NPH);
	assert_int_equal(ms_region_add_subregion(sh->dev_root, 0, sh->io[IO1].region), 0);
	assert_int_equal(ms_region_add_subregion(sh->dev_root, CHAIN_BASE, sh->io[C1].region), 0);
	assert_int_equal(ms_region_add_subregion(sh->mid_root, 0, sh->io[C2].region), 0);

	assert_int_equal(ms_region_new_ram(&sh->dev_churn, sh->ctx, "dev-churn", PAGE), 0);
	assert_int_equal(ms_region_add_subregion(sh->dev_root, CHURN_ADDR, sh->dev_churn), 0);
	assert_int_equal(ms_region_new_ram(&sh->mid_churn, sh->ctx, "mid-churn", PAGE), 0);
	assert_int_equal(ms_region_add_subregion(sh->mid_root, CHURN_ADDR, sh->mid_churn), 0);
}

static void teardown(shared *sh)
{
	ms_as_free(sh->dev);
	ms_as_free(sh->mid);
	ms_as_free(sh->phys);
	for (unsigned i = 0; i < NR_IOMMUS; i++)
		ms_region_unref(sh->io[i].region);
	ms_region_unref(sh->ram_a);
	ms_region_unref(sh->ram_b);
	ms_region_unref(sh->dev_churn);
	ms_region_unref(sh->mid_churn);
	ms_region_unref(sh->dev_root);
	ms_region_unref(sh->mid_root);
	ms_region_unref(sh->phys_root);
	ms_ctx_free(sh->ctx);
	for (unsigned i = 0; i < NR_IOMMUS; i++)
		for (unsigned v = 0; v < sh->io[i].pages; v++)
			free(sh->io[i].hist[v]);
	free(sh->lay);
	pthread_mutex_destroy(&sh->msg_lock);
}

static void readers_through_iommus(void)
{
	shared *sh = calloc(1, sizeof(*sh));
	reader *readers = calloc(run.readers, sizeof(*readers));
	pthread_t threads[MAX_READERS + 1];
	uint64_t total = 0;
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_non_null(sh);
	assert_non_null(readers);
	setup(sh);

	for (unsigned i = 0; i < run.readers; i++) {
		readers[i].sh = sh;
		ms_rng_seed(&readers[i].rng, 0x243f6a8885a308d3ull * (i + 1));
		assert_int_equal(pthread_create(&threads[i], NULL, reader_main, &readers[i]), 0);
	}
	assert_int_equal(pthread_create(&threads[run.readers], NULL, writer_main, sh), 0);
	for (unsigned i = 0; i <= run.readers; i++)
		assert_int_equal(pthread_join(threads[i], NULL), 0);

	if (sh->failures)
		print_error("%d failures; the first: %s\n", sh->failures, sh->msg);
	assert_int_equal(sh->failures, 0);
	for (unsigned op = 0; op < 8; op++)
		total += sh->ops[op];
	/* The writer waited for at least one reader operation per step. */
	assert_true(total >= (uint64_t)run.remaps + run.commits);
	assert_int_equal(sh->lay_done, run.commits);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (getenv("MS_TEST_VERBOSE") || getenv("MS_SOAK")) {
		print_message("%u commits, %u remaps, %u readers, caches %s: %.1f s\n", run.commits,
			      run.remaps, run.readers, run.caches ? "on" : "off",
			      (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
		print_message("%" PRIu64 " reader operations, %" PRIu64 " words (%" PRIu64
			      " failed in gaps):",
			      total, sh->words, sh->failed_words);
		for (unsigned op = 0; op < 8; op++)
			print_message(" %s %" PRIu64, op_names[op], sh->ops[op]);
		print_message("\n");
	}
	teardown(sh);
	free(readers);
	free(sh);
}

static void test_readers_through_iommus_see_only_valid_mappings(void **state)
{
	(void)state;
	readers_through_iommus();
}

/* The soak mode (MS_SOAK=1): long runs with and without remapping and caches. */
static void test_soak_readers_through_iommus(void **state)
{
	const char *env = getenv("MS_SOAK_COMMITS");
	unsigned long commits = env ? strtoul(env, NULL, 0) : 1000000ul;

	(void)state;
	if (!getenv("MS_SOAK")) {
		skip();
		return;
	}
	assert_true(commits > 0 && commits <= 100000000ul);
	run = (run_params){(unsigned)commits, (unsigned)commits, 4, (uint32_t)(commits / 8 + 64),
			   true};
	readers_through_iommus();
	run = (run_params){0, (unsigned)commits, 4, 1, false};
	readers_through_iommus();
	run = (run_params){REMAPS, COMMITS, NR_READERS, REMAPS + 1, true};
}

/*
 * A cache translates against the device view; before it takes its
 * reference on that view, a commit replaces the view and drops the last
 * other reference, so call_rcu frees it once the cache's read-side section
 * ends. The translate method commits here to force that interleaving, which
 * a writer thread produces by chance in the test above. The cache must not
 * keep (and later unreference) the freed view: it may translate again or
 * take the slow path, but its accesses stay correct.
 */
static void test_cache_translating_across_a_commit_keeps_no_freed_view(void **state)
{
	shared *sh = calloc(1, sizeof(*sh));
	uintptr_t old_view;
	ms_result res;
	ms_cache c;

	(void)state;
	assert_non_null(sh);
	setup(sh);

	old_view = (uintptr_t)ms_as_rcu_view(sh->dev);
	sh->io[IO1].toggle_on_translate = sh->dev_churn;
	assert_int_equal(ms_cache_init(&c, sh->dev, 3 * PAGE, PAGE, false), 0);
	assert_null(sh->io[IO1].toggle_on_translate); /* the commit happened */
	assert_true((uintptr_t)ms_as_rcu_view(sh->dev) != old_view);
	/* Let call_rcu free every view whose count dropped to 0. */
	rcu_barrier_bp();
	for (unsigned i = 0; i < ms__cache_state(&c)->nr_hops; i++)
		assert_true((uintptr_t)ms__cache_state(&c)->hops[i].view != old_view);

	assert_int_equal(ms_cache_ldl_le(&c, 8, &res), TAG_A << 28 | 3 << PAGE_SHIFT | 8);
	assert_int_equal(res, MS_RESULT_OK);
	assert_true(ms_cache_is_direct(&c, false));
	ms_cache_destroy(&c);
	teardown(sh);
	free(sh);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_readers_through_iommus_see_only_valid_mappings),
		cmocka_unit_test(test_cache_translating_across_a_commit_keeps_no_freed_view),
		cmocka_unit_test(test_soak_readers_through_iommus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
