/*
 * test_concurrency_ioevent.c: ioeventfds added and removed while other
 * threads write to the device. Every write must land exactly once: in the
 * device's callback or as one signal of the eventfd, never both, never
 * neither, and never through a freed table (TSan and ASan stages).
 *
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <cmocka.h>

#include "ms_unit.h"

#define WRITERS 2
#define WRITES 20000

static uint64_t device_writes; /* atomic */

static uint64_t count_read(uint64_t addr, unsigned size, void *opaque)
{
	(void)addr;
	(void)size;
	(void)opaque;
	return 0;
}

static void count_write(uint64_t addr, uint64_t data, unsigned size, void *opaque)
{
	(void)addr;
	(void)data;
	(void)size;
	(void)opaque;
	__atomic_fetch_add(&device_writes, 1, __ATOMIC_RELAXED);
}

static const ms_region_ops count_ops = {
	.version = MS_REGION_OPS_VERSION, .read = count_read, .write = count_write};

static void *writer(void *arg)
{
	ms_as *as = arg;

	for (unsigned i = 0; i < WRITES; i++)
		assert_int_equal(ms_as_stl_le(as, 0x1010, MS_ATTRS_UNSPECIFIED, i), MS_RESULT_OK);
	return NULL;
}

static uint64_t drain(int fd)
{
	uint64_t n = 0;

	if (read(fd, &n, sizeof(n)) != (ssize_t)sizeof(n))
		return 0;
	return n;
}

static void test_every_write_lands_once_while_eventfds_change(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *root = new_container(ctx, "root", 0x10000);
	ms_region *io = NULL;
	ms_as *as = new_as(ctx, root, "as");
	pthread_t threads[WRITERS];
	int fd = eventfd(0, EFD_NONBLOCK);
	ms_ioeventfd any = {.offset = 0x10, .size = 0, .fd = fd};
	ms_ioeventfd other = {.offset = 0x20, .size = 4, .fd = fd};
	uint64_t signals = 0;
	unsigned i, round = 0;
	bool done;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(ms_region_new_io(&io, ctx,
					  &(ms_region_io_opts){
						  .name = "dev", .size = 0x100, .ops = &count_ops}),
			 0);
	assert_int_equal(ms_region_add_subregion(root, 0x1000, io), 0);
	__atomic_store_n(&device_writes, 0, __ATOMIC_RELAXED);
	for (i = 0; i < WRITERS; i++)
		assert_int_equal(pthread_create(&threads[i], NULL, writer, as), 0);
	do {
		/* Tables of one and two entries, and none, in turn. */
		assert_int_equal(ms_region_add_eventfd(io, &any), 0);
		assert_int_equal(ms_region_add_eventfd(io, &other), 0);
		assert_int_equal(ms_region_del_eventfd(io, &any), 0);
		assert_int_equal(ms_region_del_eventfd(io, &other), 0);
		signals += drain(fd);
		round++;
		done = __atomic_load_n(&device_writes, __ATOMIC_RELAXED) + signals >=
		       (uint64_t)WRITERS * WRITES;
	} while (!done && round < 1000000);
	for (i = 0; i < WRITERS; i++)
		assert_int_equal(pthread_join(threads[i], NULL), 0);
	signals += drain(fd);
	print_message("%llu writes reached the device, %llu signalled, in %u rounds\n",
		      (unsigned long long)__atomic_load_n(&device_writes, __ATOMIC_RELAXED),
		      (unsigned long long)signals, round);
	assert_int_equal(__atomic_load_n(&device_writes, __ATOMIC_RELAXED) + signals,
			 (uint64_t)WRITERS * WRITES);
	ms_region_unref(io);
	ms_as_free(as);
	ms_region_unref(root);
	ms_ctx_free(ctx);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_write_lands_once_while_eventfds_change),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
