/*
 * test_concurrency_remap.c: ms_as_remap() against a thread that keeps
 * replacing the RAM it remaps.
 *
 * The main thread creates a new memfd region per round, writes the round
 * number into its first bytes, places it at HOT, then removes it and drops
 * its own reference: a region nobody else holds is freed at once. A second
 * thread remaps [HOT, HOT + 16 KiB) over and over. Each remap either finds
 * a hole (-EFAULT) or succeeds; a success must show some round's memory
 * (its number, never zeros of a freed or wrong mapping) and keep that
 * region alive until ms_remap_free(), which may be the region's last
 * reference. At the end no region is left. Runs under TSan in CI.
 *
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ms_unit.h"

#define ROUNDS 1500
#define HOT 0x200000u
#define HOT_SIZE 0x4000u

typedef struct shared {
	ms_as *as;
	int stop;        /* atomic */
	uint64_t mapped; /* atomic: successful remaps */
	uint64_t holes;  /* atomic: -EFAULT */
	int failures;    /* atomic */
} shared;

static void *remapper(void *arg)
{
	shared *sh = arg;
	const ms_ram_range range = {HOT, HOT_SIZE};

	while (!__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE)) {
		ms_remap *m = NULL;
		int rc = ms_as_remap(&m, sh->as, &range, 1);

		if (rc == -EFAULT) {
			__atomic_fetch_add(&sh->holes, 1, __ATOMIC_RELAXED);
			continue;
		}
		if (rc != 0 || !m) {
			__atomic_fetch_add(&sh->failures, 1, __ATOMIC_RELAXED);
			continue;
		}
		{
			volatile uint32_t *p = ms_remap_ptr(m);
			uint32_t round = p[0];

			/* A round's number, and the page past the first is that
			 * round's memory too (the main thread wrote it there). */
			if (round == 0 || round > ROUNDS || p[0x1000 / 4] != round)
				__atomic_fetch_add(&sh->failures, 1, __ATOMIC_RELAXED);
			p[2] = round; /* writable */
		}
		ms_remap_free(m);
		__atomic_fetch_add(&sh->mapped, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void test_remap_while_the_ram_is_replaced(void **state)
{
	rig m = rig_new(MS_SIZE_2_64);
	shared sh = {.as = m.as};
	pthread_t thread;

	(void)state;
	assert_int_equal(pthread_create(&thread, NULL, remapper, &sh), 0);
	for (uint32_t round = 1; round <= ROUNDS; round++) {
		ms_region *r = NULL;
		uint32_t *ram;

		assert_int_equal(ms_region_new_ram_with(&r, m.ctx,
							&(ms_ram_opts){.name = "hot",
								       .size = HOT_SIZE,
								       .backend = MS_RAM_MEMFD}),
				 0);
		ram = ms_region_ram_ptr(r);
		ram[0] = round;
		ram[0x1000 / 4] = round;
		assert_int_equal(ms_region_add_subregion(m.root, HOT, r), 0);
		assert_int_equal(ms_region_del_subregion(m.root, r), 0);
		ms_region_unref(r);
	}
	__atomic_store_n(&sh.stop, 1, __ATOMIC_RELEASE);
	assert_int_equal(pthread_join(thread, NULL), 0);
	assert_int_equal(__atomic_load_n(&sh.failures, __ATOMIC_RELAXED), 0);
	print_message("remaps: %" PRIu64 " mapped, %" PRIu64 " holes\n", sh.mapped, sh.holes);
	rig_free(&m); /* no region left: every remap dropped its references */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_remap_while_the_ram_is_replaced),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
