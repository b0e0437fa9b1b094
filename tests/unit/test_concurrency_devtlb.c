/*
 * test_concurrency_devtlb.c: device threads DMA through vhost-like device
 * IOTLBs (include/memspace/models/devtlb.h) while a writer thread maps,
 * unmaps and remaps the IOMMU pages they use; a history proves that no DMA
 * used a translation after the UNMAP that revoked it had been notified.
 *
 * Layout. Address space "phys" is NPOOL pages of RAM. The IOMMU "io"
 * (NV pages of 4 KiB, page table in atomics) sits at DEV_BASE in the
 * device address space "dev", next to a churn RAM the writer toggles (a
 * view change, which flushes the caches). Two caches follow "dev": device
 * A, used by two threads at once, and device B, used by one.
 *
 * Mappings. Mapping k of virtual page v takes a free physical page from a
 * pool and stamps it first: word 0 holds v << 32 | k and the write slots
 * (one word per device thread) are zeroed. The writer changes a page either
 * in place (PTE := new, UNMAP old, MAP new) or through a gap (PTE := none,
 * UNMAP old, ..., PTE := new, MAP new), as iommu.h asks. Once the UNMAP
 * notification has returned it takes a time stamp trev from the global
 * clock and records it as revoked[v][k]. Then it waits until every device
 * thread is idle or busy with a DMA that began after trev (DMAs that began
 * before may still use the old page: the documented guarantee covers DMAs
 * that begin after the notification). Then it checks the old page's write
 * slots and only then puts the page back in the pool, where a later
 * mapping restamps it. Now and then the writer also sends a DEVIOTLB_UNMAP
 * of the whole 2^64 space, or toggles the churn RAM.
 *
 * Device threads. Each DMA takes its start time t0 from the clock (after
 * publishing "busy"), reads word 0 of a random virtual page (70 %), or
 * writes t0 << 16 | v << 8 | thread into its write slot of the page, and
 * logs (t0, v, result, stamp, gap counters before and after).
 *
 * Pacing: a device thread runs at most two writer steps (2 * AHEAD DMAs)
 * ahead, and the writer waits for every thread to reach its step, so
 * the threads overlap every step of the writer. The test IOMMU yields the
 * CPU in one translation of four, between reading the PTE and returning, to
 * widen the window in which a fill holds an answer the writer revokes (a
 * cache that cached such an answer after the invalidation fails this test
 * at once).
 *
 * The checks, offline after the threads joined (all revocation times are
 * then final), for every logged read:
 *   - a successful read's stamp names page v and a mapping k that had
 *     been installed, and that was not revoked before the DMA began:
 *     revoked[v][k] is 0 (never) or later than t0;
 *   - a failed read is allowed only if a gap of page v overlapped the DMA
 *     (gaps begun after it > gaps ended before it).
 * and, by the writer before it recycles a page, for every write slot: the
 * write came from a DMA on the same virtual page that began before the
 * mapping was revoked. A stale write or read would also be a data race on
 * the recycled page, which the TSan stage reports.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <memspace.h>
#include <memspace/models/devtlb.h>

#include "ms_rng.h"

#define PAGE ((uint64_t)4096)
#define NV 8     /* virtual pages */
#define NPOOL 32 /* physical pages */
#define DEV_BASE ((uint64_t)0x100000)
#define CHURN_ADDR ((uint64_t)0x800000)
#define NR_DEV_THREADS 3
#define STEPS 20000
#define AHEAD 6 /* DMAs per device thread per writer step (it may run 2 steps ahead) */
#define MAX_MAPS (STEPS + 1)
#define MAX_LOG ((size_t)(STEPS + 3) * AHEAD)
#define PTE_VALID ((uint64_t)1 << 63)
#define SLOT_OFF 64 /* first write slot */
#define BUSY_ENTERING UINT64_MAX

typedef struct dma_rec {
	uint64_t t0;
	uint64_t stamp;
	uint32_t gaps_ended_before, gaps_begun_after;
	uint8_t v;
	bool write;
	ms_result res;
} dma_rec;

typedef struct world {
	ms_ctx *ctx;
	ms_region *physroot, *ram, *devroot, *iommu, *churn;
	ms_as *phys, *dev;
	ms_devtlb *dev_a, *dev_b;
	uint8_t *ram_ptr;
	/* The IOMMU's page table: PTE_VALID | physical page, or 0 (atomic). */
	uint64_t pte[NV];
	uint64_t translations; /* atomic */
	/* Oracle. */
	uint64_t clock;                          /* atomic */
	uint64_t revoked[NV][MAX_MAPS];          /* written by the writer, read after the join */
	uint32_t nr_maps[NV];                    /* writer only */
	uint32_t gaps_begun[NV], gaps_ended[NV]; /* atomic */
	uint64_t busy[NR_DEV_THREADS]; /* atomic: 0 idle, BUSY_ENTERING, or the DMA's t0 */
	uint64_t done[NR_DEV_THREADS]; /* atomic: DMAs completed */
	uint64_t step;                 /* atomic: writer steps completed */
	bool stop;                     /* atomic */
	dma_rec *log[NR_DEV_THREADS];
	size_t nr_log[NR_DEV_THREADS];
	/* Writer-side results. */
	uint64_t bad_writes, checked_writes;
	char why[256];
} world;

typedef struct dev_arg {
	world *w;
	unsigned tid;
	ms_devtlb *d;
} dev_arg;

/* ---- the IOMMU ----------------------------------------------------------------- */

static void io_translate(ms_iotlb_entry *out, ms_region *iommu, uint64_t addr, ms_iommu_perm flags,
			 unsigned idx, void *opaque)
{
	world *w = opaque;
	uint64_t page = addr / PAGE, pte;

	(void)iommu;
	(void)flags;
	(void)idx;
	memset(out, 0, sizeof(*out));
	out->iova = addr & ~(PAGE - 1);
	out->addr_mask = PAGE - 1;
	if (page >= NV)
		return;
	pte = __atomic_load_n(&w->pte[page], __ATOMIC_ACQUIRE);
	/* Widen the window in which a fill holds an answer the writer may revoke. */
	if (__atomic_add_fetch(&w->translations, 1, __ATOMIC_RELAXED) % 4 == 0)
		sched_yield();
	if (!(pte & PTE_VALID))
		return;
	out->target_as = w->phys;
	out->translated_addr = (pte & ~PTE_VALID) * PAGE;
	out->perm = MS_IOMMU_RW;
}

static const ms_iommu_ops io_ops = {
	.version = MS_IOMMU_OPS_VERSION,
	.translate = io_translate,
};

static void notify(world *w, ms_iommu_notifier_flags type, uint64_t v, uint64_t phys_page)
{
	ms_iommu_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.entry.iova = v * PAGE;
	ev.entry.addr_mask = PAGE - 1;
	ev.entry.translated_addr = phys_page * PAGE;
	if (type == MS_IOMMU_NOTIFIER_MAP) {
		ev.entry.target_as = w->phys;
		ev.entry.perm = MS_IOMMU_RW;
	}
	assert_int_equal(ms_iommu_notify(w->iommu, 0, &ev), 0);
}

/* ---- device threads ------------------------------------------------------------ */

static uint64_t tick(world *w)
{
	return __atomic_add_fetch(&w->clock, 1, __ATOMIC_SEQ_CST);
}

static void *device_thread(void *p)
{
	dev_arg *a = p;
	world *w = a->w;
	ms_rng g;

	ms_rng_seed(&g, 0xd0 + a->tid);
	while (!__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE)) {
		uint64_t done = __atomic_load_n(&w->done[a->tid], __ATOMIC_RELAXED);
		dma_rec *r;

		if (done >= (__atomic_load_n(&w->step, __ATOMIC_ACQUIRE) + 2) * AHEAD) {
			sched_yield();
			continue;
		}
		assert_true(w->nr_log[a->tid] < MAX_LOG); /* (STEPS + 2) * AHEAD at most */
		r = &w->log[a->tid][w->nr_log[a->tid]++];
		memset(r, 0, sizeof(*r));
		r->v = (uint8_t)ms_rng_below(&g, NV);
		r->write = ms_rng_percent(&g, 30);
		__atomic_store_n(&w->busy[a->tid], BUSY_ENTERING, __ATOMIC_SEQ_CST);
		r->t0 = tick(w);
		__atomic_store_n(&w->busy[a->tid], r->t0, __ATOMIC_SEQ_CST);
		r->gaps_ended_before = __atomic_load_n(&w->gaps_ended[r->v], __ATOMIC_SEQ_CST);
		if (r->write) {
			uint64_t val = r->t0 << 16 | (uint64_t)r->v << 8 | a->tid;

			r->res = ms_devtlb_write(
				a->d, DEV_BASE + r->v * PAGE + SLOT_OFF + 8 * a->tid, &val, 8);
		} else {
			r->res = ms_devtlb_read(a->d, DEV_BASE + r->v * PAGE, &r->stamp, 8);
		}
		r->gaps_begun_after = __atomic_load_n(&w->gaps_begun[r->v], __ATOMIC_SEQ_CST);
		__atomic_store_n(&w->busy[a->tid], 0, __ATOMIC_SEQ_CST);
		__atomic_store_n(&w->done[a->tid], done + 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

/* ---- the writer ---------------------------------------------------------------- */

typedef struct pool {
	uint64_t free[NPOOL];
	unsigned nr;
} pool;

static uint64_t pool_take(pool *p, ms_rng *g)
{
	unsigned i = (unsigned)ms_rng_below(g, p->nr);
	uint64_t page = p->free[i];

	p->free[i] = p->free[--p->nr];
	return page;
}

/* Stamp a free page for mapping @k of @v (no DMA can reach it). */
static void stamp(world *w, uint64_t page, uint64_t v, uint64_t k)
{
	uint64_t word = v << 32 | k;

	memset(w->ram_ptr + page * PAGE, 0, SLOT_OFF + 8 * NR_DEV_THREADS);
	memcpy(w->ram_ptr + page * PAGE, &word, 8);
}

/* Wait until no device thread runs a DMA that began before @trev. */
static void quiesce(world *w, uint64_t trev)
{
	for (unsigned t = 0; t < NR_DEV_THREADS; t++) {
		for (;;) {
			uint64_t b = __atomic_load_n(&w->busy[t], __ATOMIC_SEQ_CST);

			if (b == 0 || (b != BUSY_ENTERING && b > trev))
				break;
			sched_yield();
		}
	}
}

/* Check the write slots of a page leaving mapping (v, k), revoked at @trev. */
static void check_slots(world *w, uint64_t page, uint64_t v, uint64_t trev)
{
	for (unsigned t = 0; t < NR_DEV_THREADS; t++) {
		uint64_t val;

		memcpy(&val, w->ram_ptr + page * PAGE + SLOT_OFF + 8 * t, 8);
		if (!val)
			continue;
		w->checked_writes++;
		if ((val >> 16) >= trev || ((val >> 8) & 0xff) != v || (val & 0xff) != t) {
			if (!w->bad_writes)
				snprintf(w->why, sizeof(w->why),
					 "write %#" PRIx64 " landed on page %" PRIu64
					 " of virtual page %" PRIu64 " revoked at %" PRIu64,
					 val, page, v, trev);
			w->bad_writes++;
		}
	}
}

/* Wait until every device thread has completed @n DMAs. */
static void wait_for_devices(world *w, uint64_t n)
{
	for (unsigned t = 0; t < NR_DEV_THREADS; t++)
		while (__atomic_load_n(&w->done[t], __ATOMIC_ACQUIRE) < n)
			sched_yield();
}

/* Mapping 1 of each page, before the device threads start. */
static void map_all(world *w, pool *p, uint64_t *page_of, ms_rng *g)
{
	for (uint64_t i = 0; i < NPOOL; i++)
		p->free[p->nr++] = i;
	for (uint64_t v = 0; v < NV; v++) {
		page_of[v] = pool_take(p, g);
		w->nr_maps[v] = 1;
		stamp(w, page_of[v], v, 1);
		__atomic_store_n(&w->pte[v], PTE_VALID | page_of[v], __ATOMIC_RELEASE);
		notify(w, MS_IOMMU_NOTIFIER_MAP, v, page_of[v]);
	}
}

static void run_writer(world *w, pool *pp, uint64_t *page_of, ms_rng *gp)
{
	pool p = *pp;
	ms_rng g = *gp;

	for (uint64_t step = 1; step <= STEPS; step++) {
		unsigned kind = (unsigned)ms_rng_below(&g, 100);
		uint64_t v = ms_rng_below(&g, NV), old = page_of[v], k_old = w->nr_maps[v];
		uint64_t fresh, trev;

		if (kind < 5) { /* an oversized device-IOTLB invalidation: nothing changes */
			ms_iommu_event ev = {.type = MS_IOMMU_NOTIFIER_DEVIOTLB_UNMAP,
					     .entry = {.iova = 0, .addr_mask = UINT64_MAX}};

			assert_int_equal(ms_iommu_notify(w->iommu, 0, &ev), 0);
		} else if (kind < 10) { /* a view change of the device address space */
			assert_int_equal(
				ms_region_set_enabled(w->churn, !ms_region_enabled(w->churn)), 0);
		} else if (kind < 80) { /* in place */
			fresh = pool_take(&p, &g);
			stamp(w, fresh, v, ++w->nr_maps[v]);
			__atomic_store_n(&w->pte[v], PTE_VALID | fresh, __ATOMIC_RELEASE);
			notify(w, MS_IOMMU_NOTIFIER_UNMAP, v, old);
			trev = tick(w);
			w->revoked[v][k_old] = trev;
			notify(w, MS_IOMMU_NOTIFIER_MAP, v, fresh);
			page_of[v] = fresh;
			quiesce(w, trev);
			check_slots(w, old, v, trev);
			p.free[p.nr++] = old;
		} else { /* through a gap */
			__atomic_add_fetch(&w->gaps_begun[v], 1, __ATOMIC_SEQ_CST);
			__atomic_store_n(&w->pte[v], 0, __ATOMIC_RELEASE);
			notify(w, MS_IOMMU_NOTIFIER_UNMAP, v, old);
			trev = tick(w);
			w->revoked[v][k_old] = trev;
			quiesce(w, trev);
			check_slots(w, old, v, trev);
			p.free[p.nr++] = old;
			if (ms_rng_percent(&g, 50))
				wait_for_devices(w, step * AHEAD - AHEAD / 2); /* DMAs in the gap */
			fresh = pool_take(&p, &g);
			stamp(w, fresh, v, ++w->nr_maps[v]);
			__atomic_store_n(&w->pte[v], PTE_VALID | fresh, __ATOMIC_RELEASE);
			__atomic_add_fetch(&w->gaps_ended[v], 1, __ATOMIC_SEQ_CST);
			notify(w, MS_IOMMU_NOTIFIER_MAP, v, fresh);
			page_of[v] = fresh;
		}
		__atomic_store_n(&w->step, step, __ATOMIC_RELEASE);
		wait_for_devices(w, step * AHEAD);
	}
}

/* ---- the test ------------------------------------------------------------------ */

static void build(world *w)
{
	assert_int_equal(ms_ctx_new(&w->ctx), 0);
	assert_int_equal(ms_region_new_container(&w->physroot, w->ctx, "physroot", NPOOL * PAGE),
			 0);
	assert_int_equal(ms_region_new_ram(&w->ram, w->ctx, "ram", NPOOL * PAGE), 0);
	assert_int_equal(ms_region_add_subregion(w->physroot, 0, w->ram), 0);
	assert_int_equal(ms_as_new(&w->phys, w->ctx, w->physroot, "phys"), 0);
	w->ram_ptr = ms_region_ram_ptr(w->ram);
	assert_int_equal(
		ms_iommu_new(&w->iommu, w->ctx,
			     &(ms_iommu_opts){
				     .name = "io", .size = NV * PAGE, .ops = &io_ops, .opaque = w}),
		0);
	assert_int_equal(ms_region_new_container(&w->devroot, w->ctx, "devroot", MS_SIZE_2_64), 0);
	assert_int_equal(ms_region_add_subregion(w->devroot, DEV_BASE, w->iommu), 0);
	assert_int_equal(ms_region_new_ram(&w->churn, w->ctx, "churn", PAGE), 0);
	assert_int_equal(ms_region_add_subregion(w->devroot, CHURN_ADDR, w->churn), 0);
	assert_int_equal(ms_as_new(&w->dev, w->ctx, w->devroot, "dev"), 0);
	assert_int_equal(ms_devtlb_new(&w->dev_a, w->ctx, &(ms_devtlb_opts){.as = w->dev}), 0);
	assert_int_equal(
		ms_devtlb_new(&w->dev_b, w->ctx, &(ms_devtlb_opts){.as = w->dev, .nr_entries = 4}),
		0);
	for (unsigned t = 0; t < NR_DEV_THREADS; t++) {
		w->log[t] = calloc(MAX_LOG, sizeof(dma_rec));
		assert_non_null(w->log[t]);
	}
}

static void destroy(world *w)
{
	ms_devtlb_free(w->dev_a);
	ms_devtlb_free(w->dev_b);
	ms_as_free(w->dev);
	ms_as_free(w->phys);
	ms_region_unref(w->churn);
	ms_region_unref(w->devroot);
	ms_region_unref(w->iommu);
	ms_region_unref(w->ram);
	ms_region_unref(w->physroot);
	ms_ctx_free(w->ctx);
	for (unsigned t = 0; t < NR_DEV_THREADS; t++)
		free(w->log[t]);
}

/* The offline check of every logged read; returns the number of reads checked. */
static uint64_t check_log(world *w, uint64_t *gaps_seen)
{
	uint64_t reads = 0;

	for (unsigned t = 0; t < NR_DEV_THREADS; t++) {
		for (size_t i = 0; i < w->nr_log[t]; i++) {
			const dma_rec *r = &w->log[t][i];
			bool gap = r->gaps_begun_after > r->gaps_ended_before;
			uint64_t sv = r->stamp >> 32, k = r->stamp & 0xffffffffu;

			if (r->write) {
				if (r->res != MS_RESULT_OK &&
				    !(gap && r->res == MS_RESULT_ACCESS_ERROR))
					fail_msg(
						"thread %u DMA %zu: write to page %u gave %#x without a gap",
						t, i, r->v, r->res);
				continue;
			}
			reads++;
			if (r->res != MS_RESULT_OK) {
				if (!gap || r->res != MS_RESULT_ACCESS_ERROR)
					fail_msg(
						"thread %u DMA %zu: read of page %u gave %#x without a gap",
						t, i, r->v, r->res);
				(*gaps_seen)++;
				continue;
			}
			if (sv != r->v || k == 0 || k > w->nr_maps[r->v])
				fail_msg("thread %u DMA %zu: page %u read stamp %#" PRIx64, t, i,
					 r->v, r->stamp);
			if (w->revoked[r->v][k] != 0 && w->revoked[r->v][k] < r->t0)
				fail_msg("thread %u DMA %zu began at %" PRIu64
					 " and used mapping %" PRIu64
					 " of page %u, revoked at %" PRIu64,
					 t, i, r->t0, k, r->v, w->revoked[r->v][k]);
		}
	}
	return reads;
}

static void no_dma_uses_a_revoked_translation(void **state)
{
	world *w = calloc(1, sizeof(*w));
	pthread_t th[NR_DEV_THREADS];
	dev_arg args[NR_DEV_THREADS];
	ms_devtlb_stats sa, sb;
	uint64_t reads, gaps_seen = 0, page_of[NV];
	pool p = {.nr = 0};
	ms_rng g;

	(void)state;
	assert_non_null(w);
	build(w);
	ms_rng_seed(&g, 0x5eed);
	map_all(w, &p, page_of, &g);
	for (unsigned t = 0; t < NR_DEV_THREADS; t++) {
		args[t] = (dev_arg){.w = w, .tid = t, .d = t < 2 ? w->dev_a : w->dev_b};
		assert_int_equal(pthread_create(&th[t], NULL, device_thread, &args[t]), 0);
	}
	run_writer(w, &p, page_of, &g);
	__atomic_store_n(&w->stop, true, __ATOMIC_RELEASE);
	for (unsigned t = 0; t < NR_DEV_THREADS; t++)
		assert_int_equal(pthread_join(th[t], NULL), 0);

	if (w->bad_writes)
		fail_msg("%" PRIu64 " stale writes; first: %s", w->bad_writes, w->why);
	reads = check_log(w, &gaps_seen);
	assert_int_equal(ms_devtlb_get_stats(&sa, w->dev_a), 0);
	assert_int_equal(ms_devtlb_get_stats(&sb, w->dev_b), 0);
	print_message("devtlb stress: %" PRIu64 " reads, %" PRIu64 " writes checked, %" PRIu64
		      " failed reads in gaps; A: %" PRIu64 " hits %" PRIu64 " misses %" PRIu64
		      " invalidations %" PRIu64 " dropped; B: %" PRIu64 " hits %" PRIu64
		      " misses\n",
		      reads, w->checked_writes, gaps_seen, sa.hits, sa.misses, sa.invalidations,
		      sa.entries_dropped, sb.hits, sb.misses);
	/* The run exercised what it claims to. */
	assert_true(reads > STEPS);
	assert_true(w->checked_writes > 0);
	assert_true(sa.hits > 0 && sb.hits > 0);
	assert_true(sa.invalidations > STEPS / 2);
	assert_true(sa.entries_dropped > STEPS / 10 && sb.entries_dropped > STEPS / 10);
	assert_int_equal(sa.nr_deviotlb, 1);
	destroy(w);
	free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(no_dma_uses_a_revoked_translation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
