/*
 * test_concurrency_dirty.c: dirty bitmaps under concurrent writers.
 *
 * 1. Writers store sequence numbers into RAM while the main thread runs
 *    migration rounds: snapshot_and_clear the MIGRATION bits, copy the
 *    dirty pages. After the writers stop, one last round must make the copy
 *    equal the memory byte for byte, and every slot must hold its writer's
 *    last sequence number: a write whose bit was lost between the snapshot
 *    and the copy would leave the copy stale.
 * 2. Writers store while another thread turns a client's logging and
 *    global logging on and off: a write made while logging was on from
 *    before it started to after it ended must be marked.
 *
 * 3. Global logging starts while the RCU thread drops the last reference
 *    of a region (the last view that showed it): the start must not revive
 *    that region (found by fuzz_topology: use after free).
 *
 * Writers use the library's stores. Under TSan, the copier's reads of RAM
 * would race (in TSan's eyes) with the library's plain memcpy into guest
 * memory, which is the nature of guest RAM, not a bug; there the writers
 * of test 1 store with atomics through the RAM pointer and mark with
 * ms_region_set_dirty(), which reaches the same bitmap code. Runs under
 * TSan in CI (label "concurrency").
 *
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "ms_unit.h"

#include "base.h"
#include "ms_rng.h"
#include "region.h"

#define ATTRS MS_ATTRS_UNSPECIFIED
#define PAGE 4096u
#define NPAGES 256u
#define RAM_SIZE (NPAGES * PAGE)
#define WRITERS 3u
#define WRITES_PER_WRITER 200000u

typedef struct shared {
	ms_ctx *ctx;
	ms_region *sys, *ram;
	ms_as *as;
	uint64_t *mem;     /* the RAM, as words */
	int stop;          /* atomic */
	unsigned finished; /* atomic: writers through */
	unsigned started;  /* atomic: writers running */
	/* test 1: [writer][page] the last sequence number whose store returned */
	uint64_t done[WRITERS][NPAGES]; /* atomic */
	unsigned failures;              /* atomic: a call in a thread failed */
	/* test 2: toggled by the toggler, read by the writers */
	unsigned epoch; /* atomic: odd while VGA logging is surely on */
} shared;

typedef struct writer {
	shared *sh;
	unsigned id;
	pthread_t thread;
	uint64_t last_seq[NPAGES]; /* the last sequence number stored per page */
	bool must_be_marked[NPAGES];
} writer;

static void machine_new(shared *sh)
{
	memset(sh, 0, sizeof(*sh)); /* done[] too */
	sh->ctx = new_ctx();
	sh->sys = new_container(sh->ctx, "sys", MS_SIZE_2_64);
	sh->ram = place_ram(sh->ctx, sh->sys, "ram", 0, RAM_SIZE);
	sh->as = new_as(sh->ctx, sh->sys, "as");
	sh->mem = ms_region_ram_ptr(sh->ram);
}

static void machine_free(shared *sh)
{
	ms_as_free(sh->as);
	ms_region_unref(sh->sys);
	ms_ctx_free(sh->ctx);
}

/* Writer @w's word of @page: word w of the page. */
static uint64_t slot_offset(unsigned page, unsigned w)
{
	return (uint64_t)page * PAGE + (uint64_t)w * 8;
}

/* ---- 1. no write lost between snapshot and copy -------------------------------------- */

static void store_seq(writer *w, unsigned page, uint64_t seq)
{
	shared *sh = w->sh;
	uint64_t off = slot_offset(page, w->id);

	bool ok;

#ifdef MS__TSAN
	__atomic_store_n(&sh->mem[off / 8], seq, __ATOMIC_RELAXED);
	ok = ms_region_set_dirty(sh->ram, off, 8) == 0;
#else
	ok = ms_as_stq_le(sh->as, off, ATTRS, seq) == MS_RESULT_OK;
#endif
	if (!ok)
		__atomic_fetch_add(&sh->failures, 1, __ATOMIC_RELAXED);
}

static void *seq_writer(void *arg)
{
	writer *w = arg;
	ms_rng g;

	ms_rng_seed(&g, 1000 + w->id);
	for (uint64_t seq = 1; seq <= WRITES_PER_WRITER; seq++) {
		/* Half the writes hit a few hot pages, so races with the copy happen. */
		unsigned page = (unsigned)(ms_rng_percent(&g, 50) ? ms_rng_below(&g, 4)
								  : ms_rng_below(&g, NPAGES));

		store_seq(w, page, seq);
		w->last_seq[page] = seq;
		__atomic_store_n(&w->sh->done[w->id][page], seq, __ATOMIC_RELEASE);
	}
	__atomic_fetch_add(&w->sh->finished, 1, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * After a round: a store that returned before now (its sequence number is
 * in sh->done) either is in the copy or has its page's bit set again, for
 * the round took the bit only after the bytes were in memory. Return: the
 * slots where neither holds (lost writes).
 */
static unsigned lost_writes(shared *sh, const uint64_t *copy)
{
	unsigned lost = 0;

	for (unsigned i = 0; i < WRITERS; i++)
		for (unsigned p = 0; p < NPAGES; p++) {
			uint64_t d = __atomic_load_n(&sh->done[i][p], __ATOMIC_ACQUIRE);

			if (copy[slot_offset(p, i) / 8] < d &&
			    !ms_region_get_dirty(sh->ram, (uint64_t)p * PAGE, PAGE,
						 MS_DIRTY_MIGRATION))
				lost++;
		}
	return lost;
}

/* One migration round: take the dirty pages, copy each. Return: pages copied. */
static unsigned migration_round(shared *sh, uint64_t *copy)
{
	ms_dirty_snapshot *snap = NULL;
	uint64_t next = 0;
	unsigned n = 0;

	assert_int_equal(
		ms_region_snapshot_and_clear_dirty(&snap, sh->ram, 0, RAM_SIZE, MS_DIRTY_MIGRATION),
		0);
	while (ms_dirty_snapshot_next(snap, next, &next)) {
		/* Word by word with atomic loads: a writer may be storing now. */
		for (uint64_t i = next / 8; i < (next + PAGE) / 8; i++)
			copy[i] = __atomic_load_n(&sh->mem[i], __ATOMIC_RELAXED);
		next += PAGE;
		n++;
	}
	ms_dirty_snapshot_free(snap);
	return n;
}

static void test_no_write_is_lost_between_snapshot_and_copy(void **state)
{
	static shared sh;
	static writer w[WRITERS];
	uint64_t *copy = calloc(RAM_SIZE / 8, 8);
	unsigned rounds = 0, copied = 0, lost = 0;

	(void)state;
	assert_non_null(copy);
	machine_new(&sh);
	assert_int_equal(ms_ctx_dirty_log_global_start(sh.ctx), 0);
	/* Round 0: everything, as migration's first pass sends every page. */
	memcpy(copy, sh.mem, RAM_SIZE);
	for (unsigned i = 0; i < WRITERS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].sh = &sh;
		w[i].id = i;
		assert_int_equal(pthread_create(&w[i].thread, NULL, seq_writer, &w[i]), 0);
	}
	while (__atomic_load_n(&sh.finished, __ATOMIC_ACQUIRE) < WRITERS) {
		copied += migration_round(&sh, copy);
		lost += lost_writes(&sh, copy);
		rounds++;
	}
	for (unsigned i = 0; i < WRITERS; i++)
		assert_int_equal(pthread_join(w[i].thread, NULL), 0);
	assert_int_equal(sh.failures, 0);
	assert_int_equal(lost, 0);
	/* The last round, with the writers stopped. */
	copied += migration_round(&sh, copy);
	/* Only dirty pages were copied, and the copy is the memory. */
	assert_memory_equal(copy, sh.mem, RAM_SIZE);
	for (unsigned i = 0; i < WRITERS; i++)
		for (unsigned p = 0; p < NPAGES; p++)
			assert_int_equal(sh.mem[slot_offset(p, i) / 8], w[i].last_seq[p]);
	/* Nothing left dirty. */
	assert_int_equal(migration_round(&sh, copy), 0);
	assert_true(copied > 0);
	print_message("%u rounds, %u pages copied\n", rounds, copied);
	assert_int_equal(ms_ctx_dirty_log_global_stop(sh.ctx), 0);
	free(copy);
	machine_free(&sh);
}

/* ---- 2. logging turned on and off under writers ----------------------------------------- */

static void *marking_writer(void *arg)
{
	writer *w = arg;
	shared *sh = w->sh;
	ms_rng g;
	uint64_t seq = 0;

	ms_rng_seed(&g, 2000 + w->id);
	__atomic_fetch_add(&sh->started, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE)) {
		unsigned page = (unsigned)ms_rng_below(&g, NPAGES);
		unsigned before = __atomic_load_n(&sh->epoch, __ATOMIC_ACQUIRE);

		if (ms_as_stq_le(sh->as, slot_offset(page, w->id), ATTRS, ++seq) != MS_RESULT_OK)
			__atomic_fetch_add(&sh->failures, 1, __ATOMIC_RELAXED);
		/* On (odd) across the whole write, with no change in between. */
		if ((before & 1) && __atomic_load_n(&sh->epoch, __ATOMIC_ACQUIRE) == before)
			w->must_be_marked[page] = true;
	}
	return NULL;
}

static void test_logging_switched_under_writers_marks_every_covered_write(void **state)
{
	static shared sh;
	static writer w[WRITERS];

	(void)state;
	machine_new(&sh);
	for (unsigned i = 0; i < WRITERS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].sh = &sh;
		w[i].id = i;
		assert_int_equal(pthread_create(&w[i].thread, NULL, marking_writer, &w[i]), 0);
	}
	while (__atomic_load_n(&sh.started, __ATOMIC_ACQUIRE) < WRITERS)
		sched_yield();
	for (unsigned i = 0; i < 2000; i++) {
		/* VGA: on, then say so; say off, then off. */
		assert_int_equal(ms_region_set_dirty_log(sh.ram, MS_DIRTY_VGA, true), 0);
		__atomic_fetch_add(&sh.epoch, 1, __ATOMIC_ACQ_REL); /* odd */
		assert_int_equal(ms_ctx_dirty_log_global_start(sh.ctx), 0);
		assert_int_equal(ms_ctx_dirty_log_global_stop(sh.ctx), 0);
		if (i % 2)
			assert_int_equal(ms_region_set_dirty_log(sh.ram, 5, i % 4 == 1), 0);
		__atomic_fetch_add(&sh.epoch, 1, __ATOMIC_ACQ_REL); /* even */
		assert_int_equal(ms_region_set_dirty_log(sh.ram, MS_DIRTY_VGA, false), 0);
	}
	/* End with VGA on, then stop the writers. */
	assert_int_equal(ms_region_set_dirty_log(sh.ram, MS_DIRTY_VGA, true), 0);
	__atomic_fetch_add(&sh.epoch, 1, __ATOMIC_ACQ_REL);
	for (volatile unsigned spin = 0; spin < 2000000; spin++)
		;
	__atomic_store_n(&sh.stop, 1, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < WRITERS; i++)
		assert_int_equal(pthread_join(w[i].thread, NULL), 0);
	assert_int_equal(sh.failures, 0);
	unsigned covered = 0;

	for (unsigned i = 0; i < WRITERS; i++)
		for (unsigned p = 0; p < NPAGES; p++)
			if (w[i].must_be_marked[p]) {
				covered++;
				if (!ms_region_get_dirty(sh.ram, (uint64_t)p * PAGE, PAGE,
							 MS_DIRTY_VGA))
					fail_msg(
						"writer %u page %u: written while logged, not marked",
						i, p);
			}
	print_message("%u pages written while logged\n", covered);
	/* Global logging is off: MIGRATION has bits only from while it was on. */
	assert_false(ms_ctx_dirty_log_global(sh.ctx));
	assert_int_equal(ms_region_dirty_log_mask(sh.ram), 1u << MS_DIRTY_VGA);
	assert_int_equal(ms_region_reset_dirty(sh.ram, 0, RAM_SIZE, MS_DIRTY_MIGRATION), 0);
	assert_int_equal(ms_as_stq_le(sh.as, 0, ATTRS, 1), MS_RESULT_OK);
	assert_false(ms_region_get_dirty(sh.ram, 0, RAM_SIZE, MS_DIRTY_MIGRATION));
	assert_true(ms_region_get_dirty(sh.ram, 0, PAGE, MS_DIRTY_VGA));
	machine_free(&sh);
}

/*
 * The last reference of a region is the old view's, freed through call_rcu.
 * A listener's log_global_start (topology lock held) waits until the RCU
 * thread has dropped that reference, so the region is dying but still on
 * the context's list, its destroyer blocked on the lock: the start's walk
 * over the regions must skip it, not take a reference that a destroyer
 * would later free under it.
 */
struct dying {
	ms_region *ram;
	bool reached_zero;
};

static void wait_for_zero(void *opaque)
{
	struct dying *d = opaque;

	for (int i = 0; i < 2000000 && __atomic_load_n(&d->ram->refcount, __ATOMIC_ACQUIRE); i++)
		sched_yield();
	d->reached_zero = __atomic_load_n(&d->ram->refcount, __ATOMIC_ACQUIRE) == 0;
}

static void test_global_start_does_not_revive_a_dying_region(void **state)
{
	static const ms_listener_ops ops = {.version = MS_LISTENER_OPS_VERSION,
					    .log_global_start = wait_for_zero};
	struct dying d = {0};
	ms_ctx *ctx = new_ctx();
	ms_region *root = new_container(ctx, "root", MS_SIZE_2_64);
	ms_as *as = new_as(ctx, root, "as");
	ms_listener *l;

	(void)state;
	d.ram = new_ram(ctx, "ram", 0x10000);
	assert_int_equal(ms_region_add_subregion(root, 0, d.ram), 0);
	/* Only the published view references the RAM now; the next commit drops it. */
	assert_int_equal(ms_region_del_subregion(root, d.ram), 0);
	assert_int_equal(ms_listener_register(&l, as, &ops, &d), 0);
	ms_region_unref(d.ram);
	assert_int_equal(ms_ctx_dirty_log_global_start(ctx), 0);
	assert_true(d.reached_zero);
	assert_int_equal(ms_ctx_dirty_log_global_stop(ctx), 0);
	assert_int_equal(ms_listener_unregister(l), 0);
	ms_as_free(as);
	ms_region_unref(root);
	ms_ctx_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_write_is_lost_between_snapshot_and_copy),
		cmocka_unit_test(test_logging_switched_under_writers_marks_every_covered_write),
		cmocka_unit_test(test_global_start_does_not_revive_a_dying_region),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
