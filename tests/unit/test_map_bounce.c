/*
 * test_map_bounce.c: DMA maps that go through a bounce buffer (map.h):
 * devices, RAM devices and ROM devices outside romd mode (fill at map,
 * write-back of exactly access_len bytes at unmap), the bounce budget, and
 * the map clients that wait for it.
 *
 * The device, fixture and map client are those of test_map_support.h.
 *
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "ms_unit.h"
#include "test_map_support.h"

/* ---- bounce buffers ------------------------------------------------------------------ */

static void test_mmio_read_map_fills_bounce_buffer_through_the_device(void **state)
{
	fixture *f = *state;
	uint64_t len = 64;
	uint8_t *p;

	add_dev(f, 0x20000);
	for (size_t i = 0; i < 64; i++)
		f->dev->mem[0x100 + i] = (uint8_t)(0xa0 + i);
	p = ms_as_map(f->as, 0x20100, &len, false, ATTRS);
	assert_non_null(p);
	assert_int_equal(len, 64);
	assert_memory_equal(p, f->dev->mem + 0x100, 64);
	assert_int_equal(f->dev->reads, 8); /* 8-byte accesses */
	assert_int_equal(f->dev->writes, 0);
	assert_int_equal(ms_as_unmap(f->as, p, len, false, 0), 0);
	assert_int_equal(f->dev->writes, 0);
}

static void test_mmio_write_map_writes_back_exactly_access_len_on_unmap(void **state)
{
	fixture *f = *state;
	ms_attrs attrs = {.secure = 1, .requester_id = 0x42};
	uint8_t old[64];
	uint64_t len = 64;
	uint8_t *p;

	add_dev(f, 0x20000);
	memset(f->dev->mem + 0x200, 0x11, 64);
	memcpy(old, f->dev->mem + 0x200, sizeof(old));
	p = ms_as_map(f->as, 0x20200, &len, true, attrs);
	assert_non_null(p);
	assert_int_equal(len, 64);
	assert_int_equal(f->dev->reads + f->dev->writes, 0); /* nothing at map time */
	for (size_t i = 0; i < 64; i++)
		assert_int_equal(p[i], 0); /* starts zeroed */
	for (size_t i = 0; i < 64; i++)
		p[i] = (uint8_t)(0xc0 + i);

	assert_int_equal(ms_as_unmap(f->as, p, len, true, 24), 0);
	assert_int_equal(f->dev->bytes_written, 24);
	assert_int_equal(f->dev->lowest_write, 0x200);
	assert_int_equal(f->dev->highest_write, 0x200 + 24);
	assert_int_equal(f->dev->reads, 0);
	assert_true(f->dev->last_write_attrs.secure);
	assert_int_equal(f->dev->last_write_attrs.requester_id, 0x42);
	for (size_t i = 0; i < 24; i++)
		assert_int_equal(f->dev->mem[0x200 + i], 0xc0 + i);
	assert_memory_equal(f->dev->mem + 0x200 + 24, old + 24, 64 - 24);
}

static void test_mmio_write_map_with_zero_access_len_writes_nothing(void **state)
{
	fixture *f = *state;
	uint64_t len = 64;
	uint8_t *p;

	add_dev(f, 0x20000);
	p = ms_as_map(f->as, 0x20000, &len, true, ATTRS);
	assert_non_null(p);
	assert_int_equal(ms_as_unmap(f->as, p, len, true, 0), 0);
	assert_int_equal(f->dev->writes, 0);
}

static void test_bounce_map_covers_one_range_only(void **state)
{
	fixture *f = *state;
	uint64_t len = 2 * DEV_SIZE;
	uint8_t *p;

	assert_int_equal(ms_as_set_bounce_budget(f->as, 4 * DEV_SIZE), 0);
	add_dev(f, 0);
	add_ram(f, "ram", DEV_SIZE, 0x1000);
	p = ms_as_map(f->as, DEV_SIZE - 0x10, &len, false, ATTRS);
	assert_non_null(p);
	assert_int_equal(len, 0x10);
	assert_int_equal(ms_as_unmap(f->as, p, len, false, 0), 0);
}

static void test_ram_device_is_mapped_through_a_bounce_buffer(void **state)
{
	fixture *f = *state;
	static uint64_t bar[64];
	ms_region *r;
	uint64_t len = 16;
	uint8_t *p;

	for (size_t i = 0; i < 64; i++)
		bar[i] = 0x0101010101010101ull * i;
	assert_int_equal(ms_region_new_ram_device(&r, f->ctx, "bar", sizeof(bar), bar), 0);
	place(f, 0x8000, r);
	p = ms_as_map(f->as, 0x8008, &len, false, ATTRS);
	assert_non_null(p);
	assert_false(points_into(p, r));
	assert_int_equal(len, 16);
	assert_memory_equal(p, &bar[1], 16);
	assert_int_equal(ms_as_unmap(f->as, p, len, false, 0), 0);

	len = 8;
	p = ms_as_map(f->as, 0x8000, &len, true, ATTRS);
	assert_non_null(p);
	memset(p, 0x77, 8);
	assert_int_equal(ms_as_unmap(f->as, p, len, true, 8), 0);
	assert_int_equal(bar[0], 0x7777777777777777ull);
}

static void test_rom_device_maps_ram_in_romd_mode_and_bounces_otherwise(void **state)
{
	fixture *f = *state;
	ms_region *r;
	uint64_t len = 32;
	uint8_t *p;

	assert_int_equal(ms_region_new_rom_device(&r, f->ctx,
						  &(ms_region_io_opts){.name = "flash",
								       .size = DEV_SIZE,
								       .ops = &f->dev->ops,
								       .opaque = f->dev}),
			 0);
	place(f, 0x40000, r);
	memset(f->dev->mem, 0x3c, 64);

	/* romd: reads are its RAM, in place. */
	p = ms_as_map(f->as, 0x40010, &len, false, ATTRS);
	assert_ptr_equal(p, (uint8_t *)ms_region_ram_ptr(r) + 0x10);
	assert_int_equal(ms_as_unmap(f->as, p, len, false, 0), 0);

	/* Writes always go through the ops. */
	len = 8;
	p = ms_as_map(f->as, 0x40000, &len, true, ATTRS);
	assert_false(points_into(p, r));
	memset(p, 0x99, 8);
	assert_int_equal(ms_as_unmap(f->as, p, len, true, 8), 0);
	assert_int_equal(f->dev->bytes_written, 8);
	assert_int_equal(f->dev->mem[0], 0x99);

	/* Outside romd mode reads go through the ops too. */
	assert_int_equal(ms_region_set_romd(r, false), 0);
	len = 8;
	p = ms_as_map(f->as, 0x40020, &len, false, ATTRS);
	assert_false(points_into(p, r));
	assert_int_equal(p[0], 0x3c);
	assert_int_equal(f->dev->reads, 1);
	assert_int_equal(ms_as_unmap(f->as, p, len, false, 0), 0);
}

static void test_memory_attr_maps_ram_and_refuses_devices(void **state)
{
	fixture *f = *state;
	ms_attrs memory = {.memory = 1};
	ms_region *ram = add_ram(f, "ram", 0, 0x1000);
	uint64_t len = 16;
	uint8_t *p;

	add_dev(f, 0x20000);
	p = ms_as_map(f->as, 0, &len, true, memory);
	assert_ptr_equal(p, ms_region_ram_ptr(ram));
	assert_int_equal(ms_as_unmap(f->as, p, len, true, len), 0);

	len = 16;
	assert_null(ms_as_map(f->as, 0x20000, &len, false, memory));
	assert_int_equal(len, 0);
	len = 16;
	assert_null(ms_as_map(f->as, 0x20000, &len, true, memory));
	assert_int_equal(len, 0);
	assert_int_equal(f->dev->reads + f->dev->writes, 0);
}

static void test_failed_read_fill_returns_null_and_gives_the_budget_back(void **state)
{
	fixture *f = *state;
	uint64_t len = 64;

	add_dev(f, 0);
	f->dev->result = MS_RESULT_ERROR;
	assert_null(ms_as_map(f->as, 0, &len, false, ATTRS));
	assert_int_equal(len, 0);
	assert_int_equal(ms__map_check(f->as), 0);
	f->dev->result = MS_RESULT_OK;
	write_through_map(f, 0, MS_BOUNCE_BUDGET_DEFAULT, 1); /* the whole budget is free */
}

static void test_unassigned_space_maps_nothing(void **state)
{
	fixture *f = *state;
	ms_region *resv, *iommu;
	uint64_t len;

	assert_int_equal(
		ms_region_new_io(&resv, f->ctx,
				 &(ms_region_io_opts){.name = "resv", .size = 0x1000, .ops = NULL}),
		0);
	assert_int_equal(
		ms_iommu_new(&iommu, f->ctx, &(ms_iommu_opts){.name = "iommu", .size = 0x1000}), 0);
	place(f, 0x1000, resv);
	place(f, 0x2000, iommu);
	for (int is_write = 0; is_write < 2; is_write++) {
		const uint64_t addrs[] = {0, 0x1000, 0x2000, UINT64_MAX};

		for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
			len = 16;
			assert_null(ms_as_map(f->as, addrs[i], &len, is_write, ATTRS));
			assert_int_equal(len, 0);
		}
	}
	assert_int_equal(ms__map_check(f->as), 0);
}

/* ---- the budget ------------------------------------------------------------------------- */

static void test_bounce_budget_defaults_to_64k_and_partial_map_clamps(void **state)
{
	fixture *f = *state;
	uint64_t len = 2 * MS_BOUNCE_BUDGET_DEFAULT;
	uint8_t *p, *q;

	assert_int_equal(ms_as_bounce_budget(f->as), 64 * KIB);
	add_dev(f, 0);
	p = ms_as_map(f->as, 0, &len, true, ATTRS);
	assert_non_null(p);
	assert_int_equal(len, 64 * KIB);

	/* Exhausted: NULL and 0. */
	len = 1;
	assert_null(ms_as_map(f->as, 0x20000, &len, false, ATTRS));
	assert_int_equal(len, 0);
	assert_int_equal(ms_as_unmap(f->as, p, 64 * KIB, true, 0), 0);

	/* 48 KiB in use: a 32 KiB map gets the 16 KiB left. */
	len = 48 * KIB;
	p = ms_as_map(f->as, 0, &len, true, ATTRS);
	assert_int_equal(len, 48 * KIB);
	len = 32 * KIB;
	q = ms_as_map(f->as, 0x10000, &len, true, ATTRS);
	assert_non_null(q);
	assert_int_equal(len, 16 * KIB);
	assert_int_equal(ms__map_check(f->as), 0);
	assert_int_equal(ms_as_unmap(f->as, p, 48 * KIB, true, 0), 0);
	assert_int_equal(ms_as_unmap(f->as, q, 16 * KIB, true, 0), 0);
}

static void test_several_bounce_maps_are_live_at_once_up_to_the_budget(void **state)
{
	fixture *f = *state;
	uint8_t *p[4];
	uint64_t len;

	add_dev(f, 0);
	for (size_t i = 0; i < 4; i++) {
		len = 16 * KIB;
		p[i] = ms_as_map(f->as, i * 16 * KIB, &len, false, ATTRS);
		assert_non_null(p[i]);
		assert_int_equal(len, 16 * KIB);
		for (size_t j = 0; j < i; j++)
			assert_ptr_not_equal(p[i], p[j]);
	}
	len = 1;
	assert_null(ms_as_map(f->as, 0, &len, true, ATTRS));
	assert_int_equal(len, 0);
	assert_int_equal(ms__map_check(f->as), 0);

	/* Direct maps do not use the budget. */
	add_ram(f, "ram", 0x100000, 0x1000);
	len = 0x1000;
	uint8_t *r = ms_as_map(f->as, 0x100000, &len, true, ATTRS);
	assert_non_null(r);
	assert_int_equal(ms_as_unmap(f->as, r, len, true, 0), 0);

	for (size_t i = 0; i < 4; i++)
		assert_int_equal(ms_as_unmap(f->as, p[i], 16 * KIB, false, 0), 0);
}

static void test_set_bounce_budget_rejects_bad_input(void **state)
{
	fixture *f = *state;

	assert_int_equal(ms_as_set_bounce_budget(NULL, MS_BOUNCE_BUDGET_DEFAULT), -EINVAL);
	assert_int_equal(ms_as_set_bounce_budget(f->as, 0), -EINVAL);
	assert_int_equal(ms_as_set_bounce_budget(f->as, MS_BOUNCE_BUDGET_MIN - 1), -EINVAL);
	assert_int_equal(ms_as_set_bounce_budget(f->as, MS_BOUNCE_BUDGET_MAX + 1), -EINVAL);
	assert_int_equal(ms_as_bounce_budget(f->as), MS_BOUNCE_BUDGET_DEFAULT);
	assert_int_equal(ms_as_set_bounce_budget(f->as, MS_BOUNCE_BUDGET_MIN), 0);
	assert_int_equal(ms_as_bounce_budget(f->as), 4096);
}

static void test_smaller_budget_limits_new_maps_and_keeps_live_ones(void **state)
{
	fixture *f = *state;
	uint64_t len = 32 * KIB;
	uint8_t *p;

	add_dev(f, 0);
	p = ms_as_map(f->as, 0, &len, false, ATTRS);
	assert_int_equal(len, 32 * KIB);
	assert_int_equal(ms_as_set_bounce_budget(f->as, 8 * KIB), 0);
	len = 1;
	assert_null(ms_as_map(f->as, 0, &len, false, ATTRS));
	assert_int_equal(ms_as_unmap(f->as, p, 32 * KIB, false, 0), 0);
	len = 32 * KIB;
	p = ms_as_map(f->as, 0, &len, false, ATTRS);
	assert_int_equal(len, 8 * KIB);
	assert_int_equal(ms_as_unmap(f->as, p, len, false, 0), 0);
}

/* ---- map clients ------------------------------------------------------------------------- */

static void test_unmap_frees_budget_and_fires_a_map_client_exactly_once(void **state)
{
	fixture *f = *state;
	client_state s = {.f = f};
	uint64_t len = 64 * KIB;
	uint8_t *p, *q;

	add_dev(f, 0);
	p = ms_as_map(f->as, 0, &len, true, ATTRS);
	assert_int_equal(len, 64 * KIB);
	register_client(&s);
	assert_non_null(s.handle);
	assert_int_equal(s.calls, 0); /* no budget: it waits */

	assert_int_equal(ms_as_unmap(f->as, p, len, true, 0), 0);
	assert_int_equal(s.calls, 1);

	len = 4 * KIB;
	q = ms_as_map(f->as, 0, &len, true, ATTRS);
	assert_non_null(q);
	assert_int_equal(ms_as_unmap(f->as, q, len, true, 0), 0);
	assert_int_equal(s.calls, 1); /* once, then done */
	assert_int_equal(ms__map_check(f->as), 0);
	ms_as_unregister_map_client(s.handle);
}

static void test_map_client_registered_while_budget_is_free_fires_immediately(void **state)
{
	fixture *f = *state;
	client_state s = {.f = f};

	register_client(&s);
	assert_int_equal(s.calls, 1);
	ms_as_unregister_map_client(s.handle);
}

static void test_direct_unmap_does_not_fire_map_clients(void **state)
{
	fixture *f = *state;
	client_state s = {.f = f};
	uint64_t len = 64 * KIB, rlen = 0x100;
	uint8_t *p, *r;

	add_dev(f, 0);
	add_ram(f, "ram", 0x100000, 0x1000);
	p = ms_as_map(f->as, 0, &len, true, ATTRS);
	r = ms_as_map(f->as, 0x100000, &rlen, true, ATTRS);
	assert_non_null(r);
	register_client(&s);
	assert_int_equal(ms_as_unmap(f->as, r, rlen, true, rlen), 0);
	assert_int_equal(s.calls, 0);
	assert_int_equal(ms_as_unmap(f->as, p, len, true, 0), 0);
	assert_int_equal(s.calls, 1);
	ms_as_unregister_map_client(s.handle);
}

static void test_map_clients_fire_oldest_first_while_budget_remains(void **state)
{
	fixture *f = *state;
	client_state first = {.f = f, .map_everything = true};
	client_state second = {.f = f};
	uint64_t len = 64 * KIB;
	uint8_t *p;

	add_dev(f, 0);
	p = ms_as_map(f->as, 0, &len, true, ATTRS);
	register_client(&first);
	register_client(&second);

	/* The first takes the whole budget back: the second keeps waiting. */
	assert_int_equal(ms_as_unmap(f->as, p, len, true, 0), 0);
	assert_int_equal(first.calls, 1);
	assert_int_equal(first.mapped_len, 64 * KIB);
	assert_int_equal(second.calls, 0);

	assert_int_equal(ms_as_unmap(f->as, first.mapped, first.mapped_len, true, 0), 0);
	assert_int_equal(second.calls, 1);
	assert_int_equal(first.calls, 1);
	ms_as_unregister_map_client(first.handle);
	ms_as_unregister_map_client(second.handle);
}

static void test_unregistered_map_client_never_fires(void **state)
{
	fixture *f = *state;
	client_state s = {.f = f};
	uint64_t len = 64 * KIB;
	uint8_t *p;

	add_dev(f, 0);
	p = ms_as_map(f->as, 0, &len, true, ATTRS);
	register_client(&s);
	ms_as_unregister_map_client(s.handle);
	assert_int_equal(ms__map_check(f->as), 0);
	assert_int_equal(ms_as_unmap(f->as, p, len, true, 0), 0);
	assert_int_equal(s.calls, 0);
	ms_as_unregister_map_client(NULL); /* no-op */
}

static void test_map_client_may_unregister_itself_from_its_callback(void **state)
{
	fixture *f = *state;
	client_state s = {.f = f, .unregister_self = true};
	uint64_t len = 64 * KIB;
	uint8_t *p;

	add_dev(f, 0);
	p = ms_as_map(f->as, 0, &len, true, ATTRS);
	register_client(&s);
	assert_int_equal(ms_as_unmap(f->as, p, len, true, 0), 0);
	assert_int_equal(s.calls, 1);
	assert_null(s.handle); /* freed when the callback returned (ASan checks) */
	assert_int_equal(ms__map_check(f->as), 0);
}

static void test_raising_the_budget_fires_waiting_map_clients(void **state)
{
	fixture *f = *state;
	client_state s = {.f = f};
	uint64_t len = 64 * KIB;
	uint8_t *p;

	add_dev(f, 0);
	p = ms_as_map(f->as, 0, &len, true, ATTRS);
	register_client(&s);
	assert_int_equal(ms_as_set_bounce_budget(f->as, 32 * KIB), 0);
	assert_int_equal(s.calls, 0); /* still over budget */
	assert_int_equal(ms_as_set_bounce_budget(f->as, 128 * KIB), 0);
	assert_int_equal(s.calls, 1);
	assert_int_equal(ms_as_unmap(f->as, p, len, true, 0), 0);
	ms_as_unregister_map_client(s.handle);
}

static void test_register_map_client_rejects_bad_arguments(void **state)
{
	fixture *f = *state;
	ms_map_client *c = (ms_map_client *)&c;

	assert_int_equal(ms_as_register_map_client(NULL, f->as, client_cb, NULL), -EINVAL);
	assert_int_equal(ms_as_register_map_client(&c, NULL, client_cb, NULL), -EINVAL);
	assert_null(c);
	c = (ms_map_client *)&c;
	assert_int_equal(ms_as_register_map_client(&c, f->as, NULL, NULL), -EINVAL);
	assert_null(c);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_mmio_read_map_fills_bounce_buffer_through_the_device),
		T(test_mmio_write_map_writes_back_exactly_access_len_on_unmap),
		T(test_mmio_write_map_with_zero_access_len_writes_nothing),
		T(test_bounce_map_covers_one_range_only),
		T(test_ram_device_is_mapped_through_a_bounce_buffer),
		T(test_rom_device_maps_ram_in_romd_mode_and_bounces_otherwise),
		T(test_memory_attr_maps_ram_and_refuses_devices),
		T(test_failed_read_fill_returns_null_and_gives_the_budget_back),
		T(test_unassigned_space_maps_nothing),
		T(test_bounce_budget_defaults_to_64k_and_partial_map_clamps),
		T(test_several_bounce_maps_are_live_at_once_up_to_the_budget),
		T(test_set_bounce_budget_rejects_bad_input),
		T(test_smaller_budget_limits_new_maps_and_keeps_live_ones),
		T(test_unmap_frees_budget_and_fires_a_map_client_exactly_once),
		T(test_map_client_registered_while_budget_is_free_fires_immediately),
		T(test_direct_unmap_does_not_fire_map_clients),
		T(test_map_clients_fire_oldest_first_while_budget_remains),
		T(test_unregistered_map_client_never_fires),
		T(test_map_client_may_unregister_itself_from_its_callback),
		T(test_raising_the_budget_fires_waiting_map_clients),
		T(test_register_map_client_rejects_bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
