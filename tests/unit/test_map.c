/*
 * test_map.c: DMA map/unmap (map.h): direct RAM pointers and how far they
 * extend, region lifetime while mapped, bad input, freeing an address space
 * or context with live mappings, allocation failures and threads.
 *
 * Bounce buffers, the bounce budget and map clients are tested in
 * test_map_bounce.c; the device and fixture are those of test_map_support.h.
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
#include "test_map_support.h"

/* ---- direct mappings ------------------------------------------------------------- */

static void test_ram_map_returns_region_pointer_and_writes_are_visible_to_reads(void **state)
{
	fixture *f = *state;
	ms_region *ram = add_ram(f, "ram", 0x10000, 64 * KIB);
	uint8_t expect[0x200], got_bytes[0x200];
	uint64_t len = sizeof(expect);
	uint8_t *p;

	p = ms_as_map(f->as, 0x10100, &len, true, ATTRS);
	assert_ptr_equal(p, (uint8_t *)ms_region_ram_ptr(ram) + 0x100);
	assert_int_equal(len, sizeof(expect));
	for (size_t i = 0; i < sizeof(expect); i++)
		expect[i] = (uint8_t)(i * 7 + 3);
	memcpy(p, expect, sizeof(expect));
	assert_int_equal(ms_as_unmap(f->as, p, len, true, len), 0);

	assert_int_equal(ms_as_read(f->as, 0x10100, ATTRS, got_bytes, sizeof(got_bytes)),
			 MS_RESULT_OK);
	assert_memory_equal(got_bytes, expect, sizeof(expect));

	/* A read mapping of the same bytes is the same memory. */
	len = sizeof(expect);
	p = ms_as_map(f->as, 0x10100, &len, false, ATTRS);
	assert_ptr_equal(p, (uint8_t *)ms_region_ram_ptr(ram) + 0x100);
	assert_memory_equal(p, expect, sizeof(expect));
	assert_int_equal(ms_as_unmap(f->as, p, len, false, 0), 0);
}

static void test_ram_map_is_clamped_at_the_end_of_the_ram(void **state)
{
	fixture *f = *state;
	ms_region *ram = add_ram(f, "ram", 0x10000, 0x1000);

	expect_in_place(f, 0x10800, 0x10000, false, (uint8_t *)ms_region_ram_ptr(ram) + 0x800,
			0x800);
}

static void test_ram_map_extends_across_adjacent_aliases_of_one_ram(void **state)
{
	fixture *f = *state;
	ms_region *ram = new_ram(f->ctx, "ram", 0x2000);
	strbuf sb;

	place(f, 0x100000, new_alias(f->ctx, "lo", ram, 0, 0x1000));
	place(f, 0x101000, new_alias(f->ctx, "hi", ram, 0x1000, 0x1000));
	/* Contiguous windows of one region merge into one range. */
	assert_string_equal(as_view_str(&sb, f->as), "100000-101fff ram @0\n");

	expect_in_place(f, 0x100000, 0x2000, true, ms_region_ram_ptr(ram), 0x2000);
	ms_region_unref(ram);
}

static void test_ram_map_extends_across_a_readonly_split_for_reads_only(void **state)
{
	fixture *f = *state;
	ms_region *ram = add_ram(f, "ram", 0, 0x2000);
	ms_region *ro;
	uint8_t before[16], after[16];
	strbuf sb;
	uint64_t len;
	uint8_t *p;

	/* A readonly window over the upper half splits the RAM in two ranges. */
	ro = new_alias(f->ctx, "ro", ram, 0x1000, 0x1000);
	assert_int_equal(ms_region_set_readonly(ro, true), 0);
	assert_int_equal(ms_region_add_subregion_overlap(f->sys, 0x1000, ro, 1), 0);
	ms_region_unref(ro);
	assert_string_equal(as_view_str(&sb, f->as), "0000-0fff ram @0\n1000-1fff ram @1000 ro\n");

	/* Reads: one region at contiguous offsets, both usable in place. */
	expect_in_place(f, 0, 0x2000, false, ms_region_ram_ptr(ram), 0x2000);

	/* Writes: the readonly range is not usable in place. */
	len = 0x2000;
	p = ms_as_map(f->as, 0, &len, true, ATTRS);
	assert_ptr_equal(p, ms_region_ram_ptr(ram));
	assert_int_equal(len, 0x1000);
	assert_int_equal(ms_as_unmap(f->as, p, len, true, len), 0);

	/* Readonly RAM for a write is bounced, and the write-back is ignored. */
	assert_int_equal(ms_as_read(f->as, 0x1000, ATTRS, before, sizeof(before)), MS_RESULT_OK);
	len = sizeof(before);
	p = ms_as_map(f->as, 0x1000, &len, true, ATTRS);
	assert_non_null(p);
	assert_false(points_into(p, ram));
	assert_int_equal(len, sizeof(before));
	memset(p, 0xee, (size_t)len);
	assert_int_equal(ms_as_unmap(f->as, p, len, true, len), 0);
	assert_int_equal(ms_as_read(f->as, 0x1000, ATTRS, after, sizeof(after)), MS_RESULT_OK);
	assert_memory_equal(after, before, sizeof(before));
}

static void test_ram_map_stops_at_a_different_region(void **state)
{
	fixture *f = *state;
	ms_region *a = add_ram(f, "a", 0, 0x1000);
	ms_region *b = add_ram(f, "b", 0x1000, 0x1000);

	expect_in_place(f, 0x800, 0x2000, false, (uint8_t *)ms_region_ram_ptr(a) + 0x800, 0x800);
	expect_in_place(f, 0x1000, 0x2000, false, ms_region_ram_ptr(b), 0x1000);
}

static void test_ram_map_stops_where_offsets_of_the_same_ram_jump(void **state)
{
	fixture *f = *state;
	ms_region *ram = new_ram(f->ctx, "ram", 0x4000);
	strbuf sb;

	place(f, 0, new_alias(f->ctx, "lo", ram, 0, 0x1000));
	place(f, 0x1000, new_alias(f->ctx, "hi", ram, 0x3000, 0x1000));
	assert_string_equal(as_view_str(&sb, f->as), "0000-0fff ram @0\n1000-1fff ram @3000\n");

	expect_in_place(f, 0, 0x2000, false, ms_region_ram_ptr(ram), 0x1000);
	ms_region_unref(ram);
}

static void test_ram_map_at_the_top_of_the_address_space_does_not_wrap(void **state)
{
	fixture *f = *state;
	ms_region *ram = add_ram(f, "top", UINT64_MAX - 0xfff, 0x1000);
	uint64_t len = 0x4000;
	uint8_t *p = ms_as_map(f->as, UINT64_MAX - 0xff, &len, true, ATTRS);

	assert_ptr_equal(p, (uint8_t *)ms_region_ram_ptr(ram) + 0xf00);
	assert_int_equal(len, 0x100);
	assert_int_equal(ms_as_unmap(f->as, p, len, true, len), 0);
}

static void test_ram_pointer_region_maps_to_the_callers_memory(void **state)
{
	fixture *f = *state;
	static uint8_t backing[0x1000];
	ms_region *r;
	uint64_t len = 0x100;
	uint8_t *p;

	assert_int_equal(ms_region_new_ram_ptr(&r, f->ctx, "ptr", sizeof(backing), backing), 0);
	place(f, 0x4000, r);
	p = ms_as_map(f->as, 0x4010, &len, true, ATTRS);
	assert_ptr_equal(p, backing + 0x10);
	assert_int_equal(ms_as_unmap(f->as, p, len, true, 0x10), 0);
}

static void test_mapped_region_stays_alive_after_removal_and_unref(void **state)
{
	fixture *f = *state;
	ms_region *ram = add_ram(f, "ram", 0, 0x1000);
	uint64_t len = 0x1000;
	size_t before;
	uint8_t *p;

	p = ms_as_map(f->as, 0, &len, true, ATTRS);
	assert_ptr_equal(p, ms_region_ram_ptr(ram));
	assert_int_equal(len, 0x1000);

	/* Out of the tree, the caller's reference gone, the view replaced. */
	before = live_regions(f->ctx);
	assert_int_equal(ms_region_del_subregion(f->sys, ram), 0);
	assert_int_equal(live_regions(f->ctx), before);
	assert_int_equal(settled_refs(ram), 1); /* the mapping's own */

	memset(p, 0x5a, (size_t)len); /* still valid memory (ASan/valgrind check) */
	assert_int_equal(p[len - 1], 0x5a);
	assert_int_equal(ms_as_unmap(f->as, p, len, true, len), 0);
	assert_int_equal(live_regions(f->ctx), before - 1);
}

/* ---- bad input --------------------------------------------------------------------------- */

static void test_unmap_refuses_unknown_buffers_and_mismatched_arguments(void **state)
{
	fixture *f = *state;
	uint8_t stack_buffer[16];
	uint64_t len = 0x100;
	uint8_t *p;

	/* Nothing ever mapped in this address space. */
	assert_int_equal(ms_as_unmap(f->as, stack_buffer, 16, false, 0), -EINVAL);
	add_ram(f, "ram", 0, 0x1000);
	p = ms_as_map(f->as, 0, &len, true, ATTRS);
	assert_non_null(p);
	assert_int_equal(ms_as_unmap(f->as, stack_buffer, 16, false, 0), -EINVAL);
	assert_int_equal(ms_as_unmap(f->as, p + 1, len, true, 0), -EINVAL);
	assert_int_equal(ms_as_unmap(f->as, p, len - 1, true, 0), -EINVAL);
	assert_int_equal(ms_as_unmap(f->as, p, len, false, 0), -EINVAL);
	assert_int_equal(ms_as_unmap(f->as, p, len, true, len + 1), -EINVAL);
	assert_int_equal(ms_as_unmap(NULL, p, len, true, 0), -EINVAL);
	assert_int_equal(ms_as_unmap(f->as, NULL, len, true, 0), -EINVAL);
	assert_int_equal(ms__map_check(f->as), 0);
	/* Still mapped after all that; released exactly once. */
	assert_int_equal(ms_as_unmap(f->as, p, len, true, len), 0);
	assert_int_equal(ms_as_unmap(f->as, p, len, true, len), -EINVAL);
}

static void test_map_refuses_null_arguments_and_zero_length(void **state)
{
	fixture *f = *state;
	uint64_t len = 16;

	add_ram(f, "ram", 0, 0x1000);
	assert_null(ms_as_map(f->as, 0, NULL, false, ATTRS));
	assert_null(ms_as_map(NULL, 0, &len, false, ATTRS));
	assert_int_equal(len, 0);
	len = 0;
	assert_null(ms_as_map(f->as, 0, &len, false, ATTRS));
	assert_int_equal(len, 0);
}

/* ---- teardown with live mappings -------------------------------------------------------- */

static void test_freeing_the_address_space_releases_live_mappings_and_clients(void **state)
{
	fixture *f = *state;
	client_state waiting = {.f = f}, done = {.f = f};
	ms_region *ram = add_ram(f, "ram", 0x100000, 0x1000);
	uint64_t len = 64 * KIB, rlen = 0x1000;
	ms_as *second;

	add_dev(f, 0);
	register_client(&done);
	assert_non_null(ms_as_map(f->as, 0, &len, true, ATTRS));
	assert_non_null(ms_as_map(f->as, 0x100000, &rlen, true, ATTRS));
	register_client(&waiting);
	assert_int_equal(settled_refs(ram), 3); /* tree, view, mapping */

	/* A second address space with mappings of its own. */
	assert_int_equal(ms_as_new(&second, f->ctx, f->sys, "second"), 0);
	rlen = 0x10;
	assert_non_null(ms_as_map(second, 0x100000, &rlen, false, ATTRS));
	len = 16;
	assert_non_null(ms_as_map(second, 0, &len, false, ATTRS));

	ms_as_free(f->as); /* no write-back, no callbacks */
	f->as = second;
	assert_int_equal(f->dev->writes, 0);
	assert_int_equal(waiting.calls, 0);
	assert_int_equal(settled_refs(ram), 3); /* tree, view, second's mapping */
	/* The teardown frees the second one with its mappings still live. */
}

static void test_freeing_the_context_releases_live_mappings(void **state)
{
	fixture *f = *state;
	uint64_t len = 16, rlen = 16;

	add_dev(f, 0);
	add_ram(f, "ram", 0x100000, 0x1000);
	assert_non_null(ms_as_map(f->as, 0, &len, true, ATTRS));
	assert_non_null(ms_as_map(f->as, 0x100000, &rlen, true, ATTRS));
	/* ms_ctx_free() with everything live: ASan and valgrind see no leak. */
	ms_ctx_free(f->ctx);
	bus_new(&f->ctx, &f->sys, &f->as);
}

/* ---- allocation failures ----------------------------------------------------------------- */

/*
 * Fail the 1st, 2nd, ... allocation of one call on a fresh address space
 * (so the pool's creation is covered too) until the call succeeds without
 * reaching the injected failure. Each failure must return NULL / 0, leave
 * the budget and the region references as they were, and leak nothing.
 */
static void map_under_fault_injection(fixture *f, uint64_t addr, bool is_write,
				      const ms_region *target)
{
	uint32_t refs = settled_refs(target);
	unsigned failures = 0;

	for (uint64_t n = 1;; n++) {
		uint64_t len = 32;
		ms_as *as;
		void *p;

		assert_int_equal(ms_as_new(&as, f->ctx, f->sys, "faulty"), 0);
		ms_ctx_test_control(f->ctx, MS_TEST_FAIL_ALLOC_AFTER, n);
		p = ms_as_map(as, addr, &len, is_write, ATTRS);
		ms_ctx_test_control(f->ctx, MS_TEST_FAIL_ALLOC_AFTER, 0);
		if (p) {
			assert_int_equal(len, 32);
			assert_int_equal(ms_as_unmap(as, p, len, is_write, len), 0);
			assert_int_equal(ms__map_check(as), 0);
			ms_as_free(as);
			break;
		}
		failures++;
		assert_int_equal(len, 0);
		assert_int_equal(ms__map_check(as), 0);
		assert_int_equal(settled_refs(target), refs);
		/* Nothing of the budget was kept. */
		len = MS_BOUNCE_BUDGET_DEFAULT;
		p = ms_as_map(as, addr, &len, is_write, ATTRS);
		assert_non_null(p);
		assert_true(len == MS_BOUNCE_BUDGET_DEFAULT || target != f->dev->region);
		assert_int_equal(ms_as_unmap(as, p, len, is_write, 0), 0);
		ms_as_free(as);
		assert_true(n < 16);
	}
	assert_int_equal(failures, 2); /* the pool, then the mapping */
	assert_int_equal(settled_refs(target), refs);
}

static void test_every_allocation_failure_in_map_returns_null_and_leaks_nothing(void **state)
{
	fixture *f = *state;
	ms_region *ram = add_ram(f, "ram", 0x100000, 0x1000);

	add_dev(f, 0);
	map_under_fault_injection(f, 0x100000, true, ram);
	map_under_fault_injection(f, 0x100000, false, ram);
	map_under_fault_injection(f, 0, true, f->dev->region);
	map_under_fault_injection(f, 0, false, f->dev->region);
}

static void test_allocation_failure_in_register_map_client_never_calls_back(void **state)
{
	fixture *f = *state;
	unsigned failures = 0;

	for (uint64_t n = 1;; n++) {
		client_state s = {.f = f};
		ms_as *as;
		int rc;

		assert_int_equal(ms_as_new(&as, f->ctx, f->sys, "faulty"), 0);
		ms_ctx_test_control(f->ctx, MS_TEST_FAIL_ALLOC_AFTER, n);
		rc = ms_as_register_map_client(&s.handle, as, client_cb, &s);
		ms_ctx_test_control(f->ctx, MS_TEST_FAIL_ALLOC_AFTER, 0);
		if (rc == 0) {
			assert_int_equal(s.calls, 1);
			ms_as_unregister_map_client(s.handle);
			ms_as_free(as);
			break;
		}
		failures++;
		assert_int_equal(rc, -ENOMEM);
		assert_null(s.handle);
		assert_int_equal(s.calls, 0);
		ms_as_free(as);
		assert_true(n < 16);
	}
	assert_int_equal(failures, 2); /* the pool and the client */
}

/* ---- threads ------------------------------------------------------------------------------ */

#define THREADS 4
#define ROUNDS 2000

typedef struct worker {
	fixture *f;
	unsigned index;
	unsigned bounced, direct, refused, errors;
} worker;

static void *worker_main(void *arg)
{
	worker *w = arg;
	ms_as *as = w->f->as;

	for (unsigned i = 0; i < ROUNDS; i++) {
		/* Each thread has its own 4 KiB of the device and of the RAM. */
		uint64_t dev_addr = w->index * 4 * KIB + (i % 16) * 64;
		uint64_t ram_addr = 0x100000 + w->index * 4 * KIB;
		uint64_t len = 2 * KIB;
		uint8_t *p = ms_as_map(as, dev_addr, &len, i & 1, ATTRS);

		/* Assert on the main thread: count what went wrong here. */
		if (p) {
			w->bounced++;
			if (i & 1)
				memset(p, (int)w->index, (size_t)len);
			w->errors += ms_as_unmap(as, p, len, i & 1, len) != 0;
		} else {
			w->refused += len == 0;
			w->errors += len != 0;
		}
		len = 4 * KIB;
		p = ms_as_map(as, ram_addr, &len, true, ATTRS);
		if (!p || len != 4 * KIB) {
			w->errors++;
			continue;
		}
		p[i % len] = (uint8_t)i;
		w->errors += ms_as_unmap(as, p, len, true, len) != 0;
		w->direct++;
	}
	return NULL;
}

static void test_threads_map_and_unmap_concurrently(void **state)
{
	fixture *f = *state;
	pthread_t threads[THREADS];
	worker workers[THREADS];
	unsigned bounced = 0, refused = 0;

	add_dev(f, 0);
	f->dev->concurrent = true;
	add_ram(f, "ram", 0x100000, THREADS * 4 * KIB);
	/* Room for two 2 KiB bounce buffers among four threads: some maps fail. */
	assert_int_equal(ms_as_set_bounce_budget(f->as, MS_BOUNCE_BUDGET_MIN), 0);
	for (unsigned t = 0; t < THREADS; t++) {
		workers[t] = (worker){.f = f, .index = t};
		assert_int_equal(pthread_create(&threads[t], NULL, worker_main, &workers[t]), 0);
	}
	for (unsigned t = 0; t < THREADS; t++) {
		assert_int_equal(pthread_join(threads[t], NULL), 0);
		assert_int_equal(workers[t].errors, 0);
		assert_int_equal(workers[t].direct, ROUNDS);
		bounced += workers[t].bounced;
		refused += workers[t].refused;
	}
	assert_int_equal(bounced + refused, THREADS * ROUNDS);
	assert_true(bounced > 0);
	assert_int_equal(ms__map_check(f->as), 0);
	/* Everything was given back. */
	write_through_map(f, 0, MS_BOUNCE_BUDGET_MIN, 0);
}

/* A client on another thread: unregister waits for its running callback. */
typedef struct slow_client {
	fixture *f;
	int in_callback; /* atomic: 1 while the callback runs */
	int may_return;  /* atomic: the test lets it return */
	int returned;    /* atomic */
	int register_rc;
	int returned_before_unregister;
	ms_map_client *handle;
} slow_client;

static void slow_cb(void *opaque)
{
	slow_client *s = opaque;

	__atomic_store_n(&s->in_callback, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&s->may_return, __ATOMIC_SEQ_CST))
		sched_yield();
	__atomic_store_n(&s->returned, 1, __ATOMIC_SEQ_CST);
}

static void *register_slow(void *arg)
{
	slow_client *s = arg;

	/* Budget is free: the callback runs inside this call, on this thread. */
	s->register_rc = ms_as_register_map_client(&s->handle, s->f->as, slow_cb, s);
	return NULL;
}

static void *unregister_slow(void *arg)
{
	slow_client *s = arg;

	ms_as_unregister_map_client(s->handle);
	/* The callback must have returned before unregister did. */
	s->returned_before_unregister = __atomic_load_n(&s->returned, __ATOMIC_SEQ_CST);
	return NULL;
}

static void test_unregister_waits_for_a_callback_running_on_another_thread(void **state)
{
	fixture *f = *state;
	slow_client s = {.f = f};
	pthread_t registrar, canceller;

	assert_int_equal(pthread_create(&registrar, NULL, register_slow, &s), 0);
	while (!__atomic_load_n(&s.in_callback, __ATOMIC_SEQ_CST))
		sched_yield();
	/* The handle is published before the callback runs. */
	assert_non_null(__atomic_load_n(&s.handle, __ATOMIC_SEQ_CST));
	assert_int_equal(pthread_create(&canceller, NULL, unregister_slow, &s), 0);
	for (int i = 0; i < 100; i++)
		sched_yield();
	assert_int_equal(__atomic_load_n(&s.returned, __ATOMIC_SEQ_CST), 0);
	__atomic_store_n(&s.may_return, 1, __ATOMIC_SEQ_CST);
	assert_int_equal(pthread_join(registrar, NULL), 0);
	assert_int_equal(pthread_join(canceller, NULL), 0);
	assert_int_equal(s.register_rc, 0);
	assert_int_equal(s.returned_before_unregister, 1);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_ram_map_returns_region_pointer_and_writes_are_visible_to_reads),
		T(test_ram_map_is_clamped_at_the_end_of_the_ram),
		T(test_ram_map_extends_across_adjacent_aliases_of_one_ram),
		T(test_ram_map_extends_across_a_readonly_split_for_reads_only),
		T(test_ram_map_stops_at_a_different_region),
		T(test_ram_map_stops_where_offsets_of_the_same_ram_jump),
		T(test_ram_map_at_the_top_of_the_address_space_does_not_wrap),
		T(test_ram_pointer_region_maps_to_the_callers_memory),
		T(test_mapped_region_stays_alive_after_removal_and_unref),
		T(test_unmap_refuses_unknown_buffers_and_mismatched_arguments),
		T(test_map_refuses_null_arguments_and_zero_length),
		T(test_freeing_the_address_space_releases_live_mappings_and_clients),
		T(test_freeing_the_context_releases_live_mappings),
		T(test_every_allocation_failure_in_map_returns_null_and_leaks_nothing),
		T(test_allocation_failure_in_register_map_client_never_calls_back),
		T(test_threads_map_and_unmap_concurrently),
		T(test_unregister_waits_for_a_callback_running_on_another_thread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
