/*
 * test_access_sizes.c: which device accesses and callbacks an access becomes
 * (access.h, docs/access.md "Devices"), as a table of cases.
 *
 * Each case is a device (its valid and impl rules), one access (a byte
 * access through ms_as_read()/ms_as_write(), or a scalar load or store) and
 * what QEMU's rules make of it: the exact sequence of callbacks (offset,
 * size, value), the value read, the ms_result, and ms_as_access_valid()'s
 * answer for the same bytes. The rules checked, with QEMU's code that has
 * them:
 *  - valid.max_access_size 0 accepts every size, and then valid.min is not
 *    looked at either (memory_region_access_valid());
 *  - valid.min_access_size 0 is no lower bound;
 *  - valid.unaligned is checked whatever the sizes say;
 *  - impl sizes of 0 are 1 and 4 (access_with_adjusted_size());
 *  - a byte access is cut into pieces of at most valid.max (4 when 0), the
 *    largest power of two that fits and, unless impl.unaligned, that the
 *    offset's alignment allows (memory_access_size()); a scalar inside one
 *    region is a single device access of its own size.
 * Every case runs on its own machine, as its own cmocka test.
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

#define DEV_BASE 0x1000

typedef enum access_via {
	VIA_READ,  /* ms_as_read() of .size bytes */
	VIA_WRITE, /* ms_as_write() of .size bytes, the value in little-endian order */
	VIA_LDUB,
	VIA_LDUW,
	VIA_LDL,
	VIA_LDQ,
	VIA_STB,
	VIA_STW,
	VIA_STL,
	VIA_STQ,
} access_via;

typedef struct dev_rules {
	unsigned vmin, vmax;
	bool vunaligned;
	unsigned imin, imax;
	bool iunaligned;
} dev_rules;

typedef struct expected_call {
	uint64_t offset;
	unsigned size;
	uint64_t value;
} expected_call;

typedef struct size_case {
	const char *name;
	dev_rules rules;
	access_via via;
	uint64_t offset; /* inside the device */
	unsigned size;   /* bytes accessed (scalars: their width) */
	uint64_t value;  /* reads: the value read (0 when refused); writes: the value written */
	ms_result result;
	bool valid; /* ms_as_access_valid() of the same bytes */
	size_t nr_calls;
	expected_call calls[4];
} size_case;

#define OK MS_RESULT_OK
#define DECODE MS_RESULT_DECODE_ERROR

/*
 * The device is little-endian and its registers hold the bytes 10 11 12 ...
 * (test_access_support.h), so a read callback of size s at offset o returns
 * the bytes 0x10 + o .. 0x10 + o + s - 1, the first one least significant.
 */
/* clang-format off */
static const size_case cases[] = {
	/* valid.max 0: every size is valid (QEMU's compatibility rule). */
	{"ldq_on_zeroed_valid_is_two_impl_default_callbacks", {0},
	 VIA_LDQ, 0, 8, 0x1716151413121110, OK, true,
	 2, {{0, 4, 0x13121110}, {4, 4, 0x17161514}}},
	{"stq_on_zeroed_valid_is_two_impl_default_callbacks", {0},
	 VIA_STQ, 8, 8, 0x8877665544332211, OK, true,
	 2, {{8, 4, 0x44332211}, {12, 4, 0x88776655}}},
	{"ldq_on_zeroed_valid_with_impl_max_8_is_one_callback", {.imax = 8},
	 VIA_LDQ, 0, 8, 0x1716151413121110, OK, true,
	 1, {{0, 8, 0x1716151413121110}}},
	/* valid true: a byte access of the same 8 bytes is two valid 4-byte pieces. */
	{"ldq_refused_by_explicit_valid_max_4", {.vmax = 4},
	 VIA_LDQ, 0, 8, 0, DECODE, true,
	 0, {{0}}},
	{"stl_on_zeroed_valid_is_one_callback", {0},
	 VIA_STL, 4, 4, 0x44332211, OK, true,
	 1, {{4, 4, 0x44332211}}},
	{"valid_max_0_ignores_valid_min_for_ldub", {.vmin = 4},
	 VIA_LDUB, 1, 1, 0x11, OK, true,
	 1, {{1, 1, 0x11}}},
	{"valid_max_0_ignores_valid_min_for_lduw", {.vmin = 4},
	 VIA_LDUW, 2, 2, 0x1312, OK, true,
	 1, {{2, 2, 0x1312}}},
	{"valid_max_0_ignores_valid_min_for_stb", {.vmin = 4},
	 VIA_STB, 3, 1, 0xab, OK, true,
	 1, {{3, 1, 0xab}}},
	{"valid_max_0_ignores_valid_min_for_write", {.vmin = 4},
	 VIA_WRITE, 2, 2, 0xbbaa, OK, true,
	 1, {{2, 2, 0xbbaa}}},
	{"valid_min_applies_when_valid_max_is_set", {.vmin = 4, .vmax = 8},
	 VIA_LDUB, 1, 1, 0, DECODE, false,
	 0, {{0}}},
	{"valid_min_0_is_no_lower_bound", {.vmax = 8},
	 VIA_LDUB, 3, 1, 0x13, OK, true,
	 1, {{3, 1, 0x13}}},

	/* valid.unaligned is checked whatever the sizes say. */
	{"ldq_at_4_on_zeroed_valid_is_unaligned", {0},
	 VIA_LDQ, 4, 8, 0, DECODE, true,
	 0, {{0}}},
	{"ldl_at_2_on_zeroed_valid_is_unaligned", {0},
	 VIA_LDL, 2, 4, 0, DECODE, true,
	 0, {{0}}},
	{"unaligned_ldq_on_valid_max_0_gets_aligned_impl_callbacks", {.vunaligned = true},
	 VIA_LDQ, 2, 8, 0x1918171615141312, OK, true,
	 3, {{2, 2, 0x1312}, {4, 4, 0x17161514}, {8, 2, 0x1918}}},
	{"unaligned_ldq_with_impl_unaligned_gets_callbacks_from_its_offset",
	 {.vunaligned = true, .iunaligned = true},
	 VIA_LDQ, 1, 8, 0x1817161514131211, OK, true,
	 2, {{1, 4, 0x14131211}, {5, 4, 0x18171615}}},

	/* impl sizes of 0 are 1 and 4. */
	{"impl_min_0_is_one_byte", {.vmax = 8},
	 VIA_LDUB, 5, 1, 0x15, OK, true,
	 1, {{5, 1, 0x15}}},
	{"impl_max_0_is_four_bytes", {.vmax = 8},
	 VIA_WRITE, 0, 8, 0x8877665544332211, OK, true,
	 2, {{0, 4, 0x44332211}, {4, 4, 0x88776655}}},
	{"impl_min_widens_on_zeroed_valid", {.imin = 4},
	 VIA_LDUB, 1, 1, 0x11, OK, true,
	 1, {{0, 4, 0x13121110}}},

	/* Byte accesses: pieces of at most valid.max (4 when 0), aligned. */
	{"read_8_on_zeroed_valid_is_cut_at_4", {0},
	 VIA_READ, 0, 8, 0x1716151413121110, OK, true,
	 2, {{0, 4, 0x13121110}, {4, 4, 0x17161514}}},
	{"read_8_at_2_is_cut_by_alignment", {0},
	 VIA_READ, 2, 8, 0x1918171615141312, OK, true,
	 3, {{2, 2, 0x1312}, {4, 4, 0x17161514}, {8, 2, 0x1918}}},
	{"read_7_at_1_is_cut_into_powers_of_two", {0},
	 VIA_READ, 1, 7, 0x0017161514131211, OK, true,
	 3, {{1, 1, 0x11}, {2, 2, 0x1312}, {4, 4, 0x17161514}}},
	{"read_8_with_valid_and_impl_max_8_is_one_piece", {.vmax = 8, .imax = 8},
	 VIA_READ, 0, 8, 0x1716151413121110, OK, true,
	 1, {{0, 8, 0x1716151413121110}}},
	{"read_with_only_valid_unaligned_is_cut_by_alignment", {.vunaligned = true},
	 VIA_READ, 2, 4, 0x15141312, OK, true,
	 2, {{2, 2, 0x1312}, {4, 2, 0x1514}}},
	{"read_with_only_impl_unaligned_makes_a_piece_valid_refuses", {.iunaligned = true},
	 VIA_READ, 2, 4, 0, DECODE, false,
	 0, {{0}}},
	{"read_with_only_impl_unaligned_at_aligned_offset", {.iunaligned = true},
	 VIA_READ, 4, 4, 0x17161514, OK, true,
	 1, {{4, 4, 0x17161514}}},
	{"read_with_both_unaligned_is_one_unaligned_piece", {.vunaligned = true, .iunaligned = true},
	 VIA_READ, 2, 4, 0x15141312, OK, true,
	 1, {{2, 4, 0x15141312}}},
	{"read_8_at_1_with_both_unaligned_is_cut_at_4", {.vunaligned = true, .iunaligned = true},
	 VIA_READ, 1, 8, 0x1817161514131211, OK, true,
	 2, {{1, 4, 0x14131211}, {5, 4, 0x18171615}}},
};
/* clang-format on */

#define NR_CASES (sizeof(cases) / sizeof(cases[0]))

static bool via_is_write(access_via via)
{
	return via == VIA_WRITE || via >= VIA_STB;
}

/* Runs the case's access; reads store what they read in *@value. */
static ms_result run_access(ms_as *as, const size_case *c, uint64_t *value)
{
	uint64_t addr = DEV_BASE + c->offset;
	uint8_t bytes[8];
	ms_result res = 0xff;

	*value = 0;
	switch (c->via) {
	case VIA_READ:
		memset(bytes, 0xee, sizeof(bytes));
		res = ms_as_read(as, addr, ATTRS, bytes, c->size);
		*value = get_bytes(bytes, c->size, false);
		break;
	case VIA_WRITE:
		put_bytes(bytes, c->size, c->value, false);
		res = ms_as_write(as, addr, ATTRS, bytes, c->size);
		break;
	case VIA_LDUB:
		*value = ms_as_ldub(as, addr, ATTRS, &res);
		break;
	case VIA_LDUW:
		*value = ms_as_lduw_le(as, addr, ATTRS, &res);
		break;
	case VIA_LDL:
		*value = ms_as_ldl_le(as, addr, ATTRS, &res);
		break;
	case VIA_LDQ:
		*value = ms_as_ldq_le(as, addr, ATTRS, &res);
		break;
	case VIA_STB:
		res = ms_as_stb(as, addr, ATTRS, (uint8_t)c->value);
		break;
	case VIA_STW:
		res = ms_as_stw_le(as, addr, ATTRS, (uint16_t)c->value);
		break;
	case VIA_STL:
		res = ms_as_stl_le(as, addr, ATTRS, (uint32_t)c->value);
		break;
	case VIA_STQ:
		res = ms_as_stq_le(as, addr, ATTRS, c->value);
		break;
	}
	return res;
}

/* The state of one case's test: its own machine and the case. */
typedef struct case_state {
	void *fixture;
	const size_case *c;
} case_state;

static int case_setup(void **state)
{
	case_state *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	s->c = *state; /* the test's initial state */
	setup(&s->fixture);
	*state = s;
	return 0;
}

static int case_teardown(void **state)
{
	case_state *s = *state;

	teardown(&s->fixture);
	free(s);
	return 0;
}

static void test_size_case(void **state)
{
	case_state *s = *state;
	const size_case *c = s->c;
	fixture *f = s->fixture;
	dev *d = new_dev(f, MS_ENDIAN_LITTLE);
	bool is_write = via_is_write(c->via);
	uint64_t value;

	d->ops.valid.min_access_size = c->rules.vmin;
	d->ops.valid.max_access_size = c->rules.vmax;
	d->ops.valid.unaligned = c->rules.vunaligned;
	d->ops.impl.min_access_size = c->rules.imin;
	d->ops.impl.max_access_size = c->rules.imax;
	d->ops.impl.unaligned = c->rules.iunaligned;
	map_dev(f, d, DEV_BASE, 0x40);

	assert_int_equal(ms_as_access_valid(f->as, DEV_BASE + c->offset, c->size, is_write, ATTRS),
			 c->valid);
	assert_int_equal(d->nr_log, 0);

	assert_int_equal(run_access(f->as, c, &value), c->result);
	if (!is_write)
		assert_int_equal(value, c->value);
	assert_int_equal(d->nr_log, c->nr_calls);
	for (size_t i = 0; i < c->nr_calls; i++)
		assert_call(d, i, is_write, c->calls[i].offset, c->calls[i].size,
			    c->calls[i].value);
}

int main(void)
{
	struct CMUnitTest tests[NR_CASES];

	for (size_t i = 0; i < NR_CASES; i++)
		tests[i] = (struct CMUnitTest){
			.name = cases[i].name,
			.test_func = test_size_case,
			.setup_func = case_setup,
			.teardown_func = case_teardown,
			.initial_state = (void *)&cases[i],
		};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
