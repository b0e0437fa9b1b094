/*
 * test_access_mmio.c: accesses to MMIO devices (access.h): the valid rules
 * that refuse an access (sizes, alignment, the accepts veto), the impl rules
 * that split, widen and align it into callbacks, the device's byte order
 * for loads, stores and bulk accesses, the callback forms and attributes,
 * and the targets attrs.memory and reservations refuse.
 *
 * The test devices are those of test_access_support.h.
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
#include "test_access_support.h"

/* ---- MMIO: valid ------------------------------------------------------------------ */

static void test_mmio_valid_min_size_refuses_narrow_access(void **state)
{
	fixture *f = *state;
	dev *d = new_dev(f, MS_ENDIAN_LITTLE);
	ms_result res = 0;

	/* valid.min counts only with a valid.max: QEMU ignores it when max is 0. */
	d->ops.valid.min_access_size = 4;
	d->ops.valid.max_access_size = 4;
	map_dev(f, d, 0x1000, 0x40);
	assert_int_equal(ms_as_ldub(f->as, 0x1000, ATTRS, &res), 0);
	assert_int_equal(res, MS_RESULT_DECODE_ERROR);
	assert_int_equal(ms_as_stw_le(f->as, 0x1000, ATTRS, 1), MS_RESULT_DECODE_ERROR);
	assert_int_equal(d->nr_log, 0);
	assert_int_equal(ms_as_ldl_le(f->as, 0x1000, ATTRS, &res), 0x13121110);
	assert_int_equal(res, MS_RESULT_OK);
}

static void test_mmio_valid_max_size_refuses_wide_access(void **state)
{
	fixture *f = *state;
	dev *narrow = new_dev(f, MS_ENDIAN_LITTLE);
	dev *wide = new_dev(f, MS_ENDIAN_LITTLE);
	ms_result res = 0;

	/* A valid.max of 0 would take every size (test_access_sizes.c). */
	narrow->ops.valid.max_access_size = 4;
	map_dev(f, narrow, 0x1000, 0x40);
	wide->ops.valid.max_access_size = 8;
	map_dev(f, wide, 0x2000, 0x40);
	assert_int_equal(ms_as_ldq_le(f->as, 0x1000, ATTRS, &res), 0);
	assert_int_equal(res, MS_RESULT_DECODE_ERROR);
	assert_int_equal(ms_as_stq_le(f->as, 0x1000, ATTRS, 1), MS_RESULT_DECODE_ERROR);
	assert_int_equal(narrow->nr_log, 0);
	assert_int_equal(ms_as_ldq_le(f->as, 0x2000, ATTRS, &res), 0x1716151413121110);
	assert_int_equal(res, MS_RESULT_OK);
}

static void test_mmio_valid_refuses_unaligned_access_unless_allowed(void **state)
{
	fixture *f = *state;
	dev *strict = add_dev(f, 0x1000, MS_ENDIAN_LITTLE);
	dev *loose = new_dev(f, MS_ENDIAN_LITTLE);
	ms_result res = 0;

	loose->ops.valid.unaligned = true;
	loose->ops.impl.unaligned = true;
	map_dev(f, loose, 0x2000, 0x40);

	assert_int_equal(ms_as_ldl_le(f->as, 0x1002, ATTRS, &res), 0);
	assert_int_equal(res, MS_RESULT_DECODE_ERROR);
	assert_int_equal(strict->nr_log, 0);

	assert_int_equal(ms_as_ldl_le(f->as, 0x2002, ATTRS, &res), 0x15141312);
	assert_int_equal(res, MS_RESULT_OK);
	assert_int_equal(loose->nr_log, 1);
	assert_call(loose, 0, false, 2, 4, 0x15141312);
}

static ms_attrs seen_attrs;

static bool refuse_writes_at_8(uint64_t addr, unsigned size, bool is_write, ms_attrs attrs,
			       void *opaque)
{
	(void)size;
	(void)opaque;
	seen_attrs = attrs;
	return !(is_write && addr == 8);
}

static void test_mmio_accepts_callback_vetoes_access(void **state)
{
	fixture *f = *state;
	dev *d = new_dev(f, MS_ENDIAN_LITTLE);

	d->ops.valid.accepts = refuse_writes_at_8;
	map_dev(f, d, 0x1000, 0x40);
	assert_int_equal(ms_as_stl_le(f->as, 0x1008, (ms_attrs){.secure = 1}, 1),
			 MS_RESULT_DECODE_ERROR);
	assert_int_equal(seen_attrs.secure, 1);
	assert_int_equal(d->nr_log, 0);
	assert_int_equal(ms_as_ldl_le(f->as, 0x1008, ATTRS, NULL), 0x1b1a1918);
	assert_int_equal(ms_as_stl_le(f->as, 0x100c, ATTRS, 2), MS_RESULT_OK);
	assert_int_equal(d->nr_log, 2);
	assert_false(ms_as_access_valid(f->as, 0x1008, 4, true, ATTRS));
	assert_true(ms_as_access_valid(f->as, 0x1008, 4, false, ATTRS));
}

/* ---- MMIO: impl --------------------------------------------------------------------- */

static dev *add_wide_dev(fixture *f, uint64_t addr, ms_endian endianness, unsigned impl_min,
			 unsigned impl_max)
{
	dev *d = new_dev(f, endianness);

	d->ops.valid.max_access_size = 8;
	d->ops.impl.min_access_size = impl_min;
	d->ops.impl.max_access_size = impl_max;
	return map_dev(f, d, addr, 0x40);
}

static void test_mmio_impl_max_splits_wide_access_le(void **state)
{
	fixture *f = *state;
	dev *d = add_wide_dev(f, 0x1000, MS_ENDIAN_LITTLE, 0, 4);

	assert_int_equal(ms_as_stq_le(f->as, 0x1008, ATTRS, 0x1122334455667788), MS_RESULT_OK);
	assert_int_equal(d->nr_log, 2);
	assert_call(d, 0, true, 8, 4, 0x55667788);
	assert_call(d, 1, true, 12, 4, 0x11223344);
	assert_int_equal(ms_as_ldq_le(f->as, 0x1008, ATTRS, NULL), 0x1122334455667788);
	assert_int_equal(d->nr_log, 4);
	assert_call(d, 2, false, 8, 4, 0x55667788);
	assert_call(d, 3, false, 12, 4, 0x11223344);
}

static void test_mmio_impl_max_splits_wide_access_be(void **state)
{
	fixture *f = *state;
	dev *d = add_wide_dev(f, 0x1000, MS_ENDIAN_BIG, 0, 4);

	assert_int_equal(ms_as_stq_be(f->as, 0x1008, ATTRS, 0x1122334455667788), MS_RESULT_OK);
	assert_int_equal(d->nr_log, 2);
	assert_call(d, 0, true, 8, 4, 0x11223344);
	assert_call(d, 1, true, 12, 4, 0x55667788);
	assert_int_equal(ms_as_ldq_be(f->as, 0x1008, ATTRS, NULL), 0x1122334455667788);
	assert_call(d, 2, false, 8, 4, 0x11223344);
	assert_call(d, 3, false, 12, 4, 0x55667788);

	/* Two-byte pieces of a BE device: highest half first. */
	dev *narrow = add_wide_dev(f, 0x2000, MS_ENDIAN_BIG, 0, 2);
	assert_int_equal(ms_as_stl_be(f->as, 0x2004, ATTRS, 0xa1a2a3a4), MS_RESULT_OK);
	assert_call(narrow, 0, true, 4, 2, 0xa1a2);
	assert_call(narrow, 1, true, 6, 2, 0xa3a4);
}

static void test_mmio_impl_min_widens_narrow_read(void **state)
{
	fixture *f = *state;
	dev *le = add_wide_dev(f, 0x1000, MS_ENDIAN_LITTLE, 4, 4);
	dev *be = add_wide_dev(f, 0x2000, MS_ENDIAN_BIG, 4, 4);

	/* Registers hold bytes 10 11 12 13 ...: byte 1 is 0x11 either way. */
	assert_int_equal(ms_as_ldub(f->as, 0x1001, ATTRS, NULL), 0x11);
	assert_call(le, 0, false, 0, 4, 0x13121110);
	assert_int_equal(ms_as_ldub(f->as, 0x2001, ATTRS, NULL), 0x11);
	assert_call(be, 0, false, 0, 4, 0x10111213);
	assert_int_equal(ms_as_lduw_le(f->as, 0x1006, ATTRS, NULL), 0x1716);
	assert_call(le, 1, false, 4, 4, 0x17161514);
	assert_int_equal(ms_as_lduw_be(f->as, 0x2006, ATTRS, NULL), 0x1617);
	assert_call(be, 1, false, 4, 4, 0x14151617);
}

static void test_mmio_impl_min_widens_narrow_write_with_zero_lanes(void **state)
{
	fixture *f = *state;
	dev *le = add_wide_dev(f, 0x1000, MS_ENDIAN_LITTLE, 4, 4);
	dev *be = add_wide_dev(f, 0x2000, MS_ENDIAN_BIG, 4, 4);

	assert_int_equal(ms_as_stb(f->as, 0x1002, ATTRS, 0xab), MS_RESULT_OK);
	assert_call(le, 0, true, 0, 4, 0x00ab0000);
	assert_int_equal(ms_as_stb(f->as, 0x2002, ATTRS, 0xab), MS_RESULT_OK);
	assert_call(be, 0, true, 0, 4, 0x0000ab00);
	assert_int_equal(ms_as_stw_le(f->as, 0x1004, ATTRS, 0xcdef), MS_RESULT_OK);
	assert_call(le, 1, true, 4, 4, 0x0000cdef);
}

static void test_mmio_unaligned_access_is_cut_into_aligned_impl_accesses(void **state)
{
	fixture *f = *state;
	dev *d = new_dev(f, MS_ENDIAN_LITTLE);

	d->ops.valid.unaligned = true; /* impl stays aligned-only */
	map_dev(f, d, 0x1000, 0x40);
	assert_int_equal(ms_as_ldl_le(f->as, 0x1002, ATTRS, NULL), 0x15141312);
	assert_int_equal(d->nr_log, 2);
	assert_call(d, 0, false, 2, 2, 0x1312);
	assert_call(d, 1, false, 4, 2, 0x1514);

	/* Wider than impl.min and unaligned: two aligned impl.min accesses. */
	dev *w = add_wide_dev(f, 0x2000, MS_ENDIAN_LITTLE, 4, 4);
	w->ops.valid.unaligned = true;
	assert_int_equal(ms_as_lduw_le(f->as, 0x2003, ATTRS, NULL), 0x1413);
	assert_int_equal(w->nr_log, 2);
	assert_call(w, 0, false, 0, 4, 0x13121110);
	assert_call(w, 1, false, 4, 4, 0x17161514);
}

/* ---- MMIO: endianness ----------------------------------------------------------------- */

static uint64_t bswap(uint64_t v, unsigned size)
{
	uint8_t b[8];

	put_bytes(b, size, v, false);
	return get_bytes(b, size, true);
}

static uint64_t load_sized(ms_as *as, uint64_t addr, unsigned size, bool be)
{
	ms_result res = 1;
	uint64_t v = 0;

	switch (size) {
	case 1:
		v = ms_as_ldub(as, addr, ATTRS, &res);
		break;
	case 2:
		v = be ? ms_as_lduw_be(as, addr, ATTRS, &res)
		       : ms_as_lduw_le(as, addr, ATTRS, &res);
		break;
	case 4:
		v = be ? ms_as_ldl_be(as, addr, ATTRS, &res) : ms_as_ldl_le(as, addr, ATTRS, &res);
		break;
	default:
		v = be ? ms_as_ldq_be(as, addr, ATTRS, &res) : ms_as_ldq_le(as, addr, ATTRS, &res);
		break;
	}
	assert_int_equal(res, MS_RESULT_OK);
	return v;
}

static void store_sized(ms_as *as, uint64_t addr, unsigned size, bool be, uint64_t v)
{
	ms_result res;

	switch (size) {
	case 1:
		res = ms_as_stb(as, addr, ATTRS, (uint8_t)v);
		break;
	case 2:
		res = be ? ms_as_stw_be(as, addr, ATTRS, (uint16_t)v)
			 : ms_as_stw_le(as, addr, ATTRS, (uint16_t)v);
		break;
	case 4:
		res = be ? ms_as_stl_be(as, addr, ATTRS, (uint32_t)v)
			 : ms_as_stl_le(as, addr, ATTRS, (uint32_t)v);
		break;
	default:
		res = be ? ms_as_stq_be(as, addr, ATTRS, v) : ms_as_stq_le(as, addr, ATTRS, v);
		break;
	}
	assert_int_equal(res, MS_RESULT_OK);
}

static void test_mmio_device_endianness_converts_loads_and_stores(void **state)
{
	fixture *f = *state;
	const ms_endian endians[3] = {MS_ENDIAN_LITTLE, MS_ENDIAN_BIG, MS_ENDIAN_NATIVE};
	const uint64_t pattern = 0x0123456789abcdef;

	for (int e = 0; e < 3; e++) {
		dev *d = add_wide_dev(f, 0x1000 * (uint64_t)(e + 1), endians[e], 0, 8);
		bool dev_be = dev_big_endian(d);

		for (unsigned size = 1; size <= 8; size *= 2) {
			uint64_t v = size == 8 ? pattern : pattern & ((1ull << 8 * size) - 1);

			for (int be = 0; be < 2; be++) {
				size_t n = d->nr_log;
				/* The device sees the value as it reads in its own order. */
				uint64_t as_dev = (bool)be == dev_be ? v : bswap(v, size);

				store_sized(f->as, d->base + 8, size, be, v);
				assert_int_equal(d->nr_log, n + 1);
				assert_call(d, n, true, 8, size, as_dev);
				assert_int_equal(load_sized(f->as, d->base + 8, size, be), v);
				assert_call(d, n + 1, false, 8, size, as_dev);
				/* And the bytes on the bus are the order the access chose. */
				uint8_t bus[8];
				assert_int_equal(ms_as_read(f->as, d->base + 8, ATTRS, bus, size),
						 MS_RESULT_OK);
				assert_int_equal(get_bytes(bus, size, be), v);
			}
		}
	}
}

static void test_bulk_device_access_uses_largest_aligned_valid_sizes(void **state)
{
	fixture *f = *state;
	dev *d = add_dev(f, 0x1000, MS_ENDIAN_LITTLE);
	dev *w = add_wide_dev(f, 0x2000, MS_ENDIAN_BIG, 0, 8);
	uint8_t buf[16];

	assert_int_equal(ms_as_read(f->as, 0x1001, ATTRS, buf, 11), MS_RESULT_OK);
	assert_int_equal(d->nr_log, 4);
	assert_call(d, 0, false, 1, 1, 0x11);
	assert_call(d, 1, false, 2, 2, 0x1312);
	assert_call(d, 2, false, 4, 4, 0x17161514);
	assert_call(d, 3, false, 8, 4, 0x1b1a1918);
	for (int i = 0; i < 11; i++)
		assert_int_equal(buf[i], 0x11 + i);

	assert_int_equal(ms_as_read(f->as, 0x2000, ATTRS, buf, 16), MS_RESULT_OK);
	assert_int_equal(w->nr_log, 2);
	assert_call(w, 0, false, 0, 8, 0x1011121314151617);
	assert_call(w, 1, false, 8, 8, 0x18191a1b1c1d1e1f);
	for (int i = 0; i < 16; i++)
		assert_int_equal(buf[i], 0x10 + i);

	/* ms_as_set writes the same pieces with the fill byte. */
	assert_int_equal(ms_as_set(f->as, 0x1001, ATTRS, 0x5c, 3), MS_RESULT_OK);
	assert_call(d, 4, true, 1, 1, 0x5c);
	assert_call(d, 5, true, 2, 2, 0x5c5c);
}

/* ---- MMIO: attrs and results -------------------------------------------------------- */

static void test_with_attrs_callbacks_receive_attrs(void **state)
{
	fixture *f = *state;
	dev *d = add_dev(f, 0x1000, MS_ENDIAN_LITTLE);
	ms_attrs attrs = {.secure = 1, .user = 1, .requester_id = 0x1234};

	assert_int_equal(ms_as_stw_le(f->as, 0x1000, attrs, 7), MS_RESULT_OK);
	(void)ms_as_ldub(f->as, 0x1001, attrs, NULL);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(d->log[i].attrs.secure, 1);
		assert_int_equal(d->log[i].attrs.user, 1);
		assert_int_equal(d->log[i].attrs.requester_id, 0x1234);
		assert_int_equal(d->log[i].attrs.unspecified, 0);
	}
}

static void test_plain_callbacks_report_ok(void **state)
{
	fixture *f = *state;
	dev *d = new_dev(f, MS_ENDIAN_LITTLE);
	ms_result res = 1;

	d->ops.read_with_attrs = NULL;
	d->ops.write_with_attrs = NULL;
	d->ops.read = dev_read_plain;
	d->ops.write = dev_write_plain;
	d->result = MS_RESULT_ERROR; /* ignored: plain callbacks cannot fail */
	map_dev(f, d, 0x1000, 0x40);
	assert_int_equal(ms_as_stl_le(f->as, 0x1004, ATTRS, 0xfeedf00d), MS_RESULT_OK);
	assert_int_equal(ms_as_ldl_le(f->as, 0x1004, ATTRS, &res), 0xfeedf00d);
	assert_int_equal(res, MS_RESULT_OK);
	assert_int_equal(d->nr_log, 2);
}

static void test_memory_attr_refuses_non_ram_targets(void **state)
{
	fixture *f = *state;
	dev *d = add_dev(f, 0x1000, MS_ENDIAN_LITTLE);
	dev *rd = new_dev(f, MS_ENDIAN_LITTLE);
	ms_attrs memory = {.memory = 1};
	ms_result res = 0;

	add_ram(f, "ram", 0x8000, 0x100);
	add_rom_device(f, rd, 0x2000, 0x40);
	assert_int_equal(ms_as_ldl_le(f->as, 0x1000, memory, &res), 0);
	assert_int_equal(res, MS_RESULT_ACCESS_ERROR);
	assert_int_equal(ms_as_stl_le(f->as, 0x1000, memory, 1), MS_RESULT_ACCESS_ERROR);
	assert_int_equal(ms_as_ldl_le(f->as, 0x2000, memory, &res), 0);
	assert_int_equal(res, MS_RESULT_ACCESS_ERROR);
	assert_int_equal(d->nr_log + rd->nr_log, 0);
	assert_int_equal(ms_as_stl_le(f->as, 0x8000, memory, 5), MS_RESULT_OK);
	assert_int_equal(ms_as_ldl_le(f->as, 0x8000, memory, &res), 5);
	assert_int_equal(res, MS_RESULT_OK);
	assert_false(ms_as_access_valid(f->as, 0x1000, 4, false, memory));
	assert_true(ms_as_access_valid(f->as, 0x8000, 4, false, memory));
}

static void test_reservation_and_iommu_regions_are_decode_errors(void **state)
{
	fixture *f = *state;
	ms_region *resv, *iommu;
	ms_result res = 0;

	assert_int_equal(
		ms_region_new_io(&resv, f->ctx,
				 &(ms_region_io_opts){.name = "resv", .size = 0x100, .ops = NULL}),
		0);
	map(f, 0x1000, resv);
	assert_int_equal(
		ms_iommu_new(&iommu, f->ctx, &(ms_iommu_opts){.name = "iommu", .size = 0x100}), 0);
	map(f, 0x2000, iommu);
	assert_int_equal(ms_as_ldl_le(f->as, 0x1000, ATTRS, &res), 0);
	assert_int_equal(res, MS_RESULT_DECODE_ERROR);
	assert_int_equal(ms_as_stl_le(f->as, 0x2000, ATTRS, 1), MS_RESULT_DECODE_ERROR);
	assert_false(ms_as_access_valid(f->as, 0x1000, 1, false, ATTRS));
	assert_false(ms_as_access_valid(f->as, 0x2000, 1, false, ATTRS));
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_mmio_valid_min_size_refuses_narrow_access),
		T(test_mmio_valid_max_size_refuses_wide_access),
		T(test_mmio_valid_refuses_unaligned_access_unless_allowed),
		T(test_mmio_accepts_callback_vetoes_access),
		T(test_mmio_impl_max_splits_wide_access_le),
		T(test_mmio_impl_max_splits_wide_access_be),
		T(test_mmio_impl_min_widens_narrow_read),
		T(test_mmio_impl_min_widens_narrow_write_with_zero_lanes),
		T(test_mmio_unaligned_access_is_cut_into_aligned_impl_accesses),
		T(test_mmio_device_endianness_converts_loads_and_stores),
		T(test_bulk_device_access_uses_largest_aligned_valid_sizes),
		T(test_with_attrs_callbacks_receive_attrs),
		T(test_plain_callbacks_report_ok),
		T(test_memory_attr_refuses_non_ram_targets),
		T(test_reservation_and_iommu_regions_are_decode_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
