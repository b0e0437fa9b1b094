/*
 * test_errors_access.c: the rows of docs/errors.md that no other unit test
 * checks exactly, for access.h, map.h, iommu.h and cache.h (the other
 * headers are in test_errors.c).
 *
 * Each test drives every entry point of access.h (reads, writes, set, every
 * scalar load and store) into one documented failure and asserts the
 * ms_result bits or the errno, that device callbacks did not run, that bytes
 * that failed read as zero, and that memory did not change.
 * tests/errors_doc_check.sh checks that every row of docs/errors.md names a
 * test that exists.
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
#include "test_bus_support.h"
#include "test_errors_support.h"

/* ---- access.h --------------------------------------------------------------------- */

/*
 * One entry point of access.h: do an access of @width bytes at @addr. Reads
 * store what they got in @bytes in bus order (scalar loads convert their
 * value back with their own byte order); writes take their data from
 * @bytes (ms_as_set() writes bytes[0] everywhere). Stores the result.
 */
typedef struct entry {
	const char *name;
	unsigned width;
	bool is_write;
	bool scalar; /* one guest access of @width bytes (loads and stores) */
	ms_result (*run)(ms_as *as, uint64_t addr, ms_attrs attrs, uint8_t *bytes);
} entry;

static void put_value(uint8_t *bytes, unsigned width, uint64_t v, bool big_endian)
{
	for (unsigned i = 0; i < width; i++)
		bytes[i] = (uint8_t)(v >> 8 * (big_endian ? width - 1 - i : i));
}

static uint64_t get_value(const uint8_t *bytes, unsigned width, bool big_endian)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < width; i++)
		v |= (uint64_t)bytes[i] << 8 * (big_endian ? width - 1 - i : i);
	return v;
}

static ms_result run_read(ms_as *as, uint64_t addr, ms_attrs attrs, uint8_t *bytes)
{
	return ms_as_read(as, addr, attrs, bytes, 4);
}

static ms_result run_write(ms_as *as, uint64_t addr, ms_attrs attrs, uint8_t *bytes)
{
	return ms_as_write(as, addr, attrs, bytes, 4);
}

static ms_result run_set(ms_as *as, uint64_t addr, ms_attrs attrs, uint8_t *bytes)
{
	return ms_as_set(as, addr, attrs, bytes[0], 4);
}

#define LOAD(fn, width, big)                                                                \
	static ms_result run_##fn(ms_as *as, uint64_t addr, ms_attrs attrs, uint8_t *bytes) \
	{                                                                                   \
		ms_result res = 0xdead;                                                     \
		put_value(bytes, width, ms_as_##fn(as, addr, attrs, &res), big);            \
		return res;                                                                 \
	}
#define STORE(fn, type, width, big)                                                         \
	static ms_result run_##fn(ms_as *as, uint64_t addr, ms_attrs attrs, uint8_t *bytes) \
	{                                                                                   \
		return ms_as_##fn(as, addr, attrs, (type)get_value(bytes, width, big));     \
	}

LOAD(ldub, 1, false)
LOAD(lduw_le, 2, false)
LOAD(lduw_be, 2, true)
LOAD(ldl_le, 4, false)
LOAD(ldl_be, 4, true)
LOAD(ldq_le, 8, false)
LOAD(ldq_be, 8, true)
STORE(stb, uint8_t, 1, false)
STORE(stw_le, uint16_t, 2, false)
STORE(stw_be, uint16_t, 2, true)
STORE(stl_le, uint32_t, 4, false)
STORE(stl_be, uint32_t, 4, true)
STORE(stq_le, uint64_t, 8, false)
STORE(stq_be, uint64_t, 8, true)

static const entry entries[] = {
	{"ms_as_read", 4, false, false, run_read},
	{"ms_as_write", 4, true, false, run_write},
	{"ms_as_set", 4, true, false, run_set},
	{"ms_as_ldub", 1, false, true, run_ldub},
	{"ms_as_lduw_le", 2, false, true, run_lduw_le},
	{"ms_as_lduw_be", 2, false, true, run_lduw_be},
	{"ms_as_ldl_le", 4, false, true, run_ldl_le},
	{"ms_as_ldl_be", 4, false, true, run_ldl_be},
	{"ms_as_ldq_le", 8, false, true, run_ldq_le},
	{"ms_as_ldq_be", 8, false, true, run_ldq_be},
	{"ms_as_stb", 1, true, true, run_stb},
	{"ms_as_stw_le", 2, true, true, run_stw_le},
	{"ms_as_stw_be", 2, true, true, run_stw_be},
	{"ms_as_stl_le", 4, true, true, run_stl_le},
	{"ms_as_stl_be", 4, true, true, run_stl_be},
	{"ms_as_stq_le", 8, true, true, run_stq_le},
	{"ms_as_stq_be", 8, true, true, run_stq_be},
};

#define NR_ENTRIES (sizeof(entries) / sizeof(entries[0]))
#define FILL 0x5a  /* what writes write */
#define STALE 0xaa /* what read buffers hold before the access */
#define TOP_RAM 0xfffffffffffff000ull

/*
 * system (container 2^64, address space "memory")
 *   low    RAM 0x1000 at 0 (0x77 in every byte)
 *   dev    device 0x100 at 0x1000 (valid 1..8, impl 1..4)
 *   dev2   device 0x100 at 0x1100
 *   resv   I/O reservation 0x100 at 0x2000
 *   iommu  IOMMU region 0x100 at 0x3000
 *   top    RAM 0x1000 at 2^64 - 0x1000 (0x33 in every byte)
 * and a hole at 0x8000.
 */
typedef struct machine {
	ms_ctx *ctx;
	ms_region *sys, *low, *top;
	ms_as *as;
	dev dev, dev2;
} machine;

static void place(machine *m, uint64_t addr, ms_region *r)
{
	bus_place(m->sys, addr, r);
}

/* @d as a 0x100-byte I/O region named @name. */
static ms_region *dev_region(machine *m, dev *d, const char *name)
{
	assert_int_equal(
		ms_region_new_io(&d->region, m->ctx,
				 &(ms_region_io_opts){
					 .name = name, .size = 0x100, .ops = &d->ops, .opaque = d}),
		0);
	return d->region;
}

static int machine_setup(void **state)
{
	machine *m = calloc(1, sizeof(*m));
	ms_region *r;

	assert_non_null(m);
	bus_new(&m->ctx, &m->sys, &m->as);
	dev_init(&m->dev);
	dev_init(&m->dev2);
	m->low = new_ram(m->ctx, "low", 0x1000);
	memset(ms_region_ram_ptr(m->low), 0x77, 0x1000);
	place(m, 0, m->low);
	place(m, 0x1000, dev_region(m, &m->dev, "dev"));
	place(m, 0x1100, dev_region(m, &m->dev2, "dev2"));
	place(m, 0x2000, new_io(m->ctx, "resv", 0x100));
	assert_int_equal(ms_iommu_new(&r, m->ctx, &(ms_iommu_opts){.name = "iommu", .size = 0x100}),
			 0);
	place(m, 0x3000, r);
	m->top = new_ram(m->ctx, "top", 0x1000);
	memset(ms_region_ram_ptr(m->top), 0x33, 0x1000);
	place(m, TOP_RAM, m->top);
	*state = m;
	return 0;
}

static int machine_teardown(void **state)
{
	machine *m = *state;

	ms_ctx_free(m->ctx);
	free(m);
	return 0;
}

static void assert_bytes_are(const char *what, const uint8_t *p, uint8_t value, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != value)
			fail_msg("%s: byte %zu is %#x, expected %#x", what, i, p[i], value);
}

/* The memory of the RAM regions and devices, to compare before and after. */
typedef struct memory_state {
	uint8_t low[0x1000], top[0x1000], dev[0x100], dev2[0x100];
	unsigned dev_calls, dev2_calls;
} memory_state;

static void memory_state_get(memory_state *s, const machine *m)
{
	memcpy(s->low, ms_region_ram_ptr(m->low), sizeof(s->low));
	memcpy(s->top, ms_region_ram_ptr(m->top), sizeof(s->top));
	memcpy(s->dev, m->dev.mem, sizeof(s->dev));
	memcpy(s->dev2, m->dev2.mem, sizeof(s->dev2));
	s->dev_calls = m->dev.calls;
	s->dev2_calls = m->dev2.calls;
}

static void assert_memory_unchanged(const char *what, const machine *m, const memory_state *before)
{
	static memory_state now;

	memory_state_get(&now, m);
	if (memcmp(&now, before, sizeof(now)) != 0)
		fail_msg("%s changed memory or called a device", what);
}

/* Which entry points expect_refused() runs. */
typedef enum which_entries {
	ALL_ENTRIES,
	READ_ENTRIES,
	WRITE_ENTRIES,
} which_entries;

/*
 * Run the @which entry points at @addr with @attrs and expect @expected
 * with no memory changed and no device called; reads must return zero
 * bytes, and ms_as_access_valid() must say no.
 */
static void expect_refused(machine *m, uint64_t addr, ms_attrs attrs, ms_result expected,
			   which_entries which)
{
	static memory_state before;

	for (size_t i = 0; i < NR_ENTRIES; i++) {
		const entry *e = &entries[i];
		uint8_t bytes[8];
		ms_result res;

		if ((which == READ_ENTRIES && e->is_write) ||
		    (which == WRITE_ENTRIES && !e->is_write))
			continue;
		memset(bytes, e->is_write ? FILL : STALE, sizeof(bytes));
		memory_state_get(&before, m);
		res = e->run(m->as, addr, attrs, bytes);
		if (res != expected)
			fail_msg("%s at %#" PRIx64 ": result %#x, expected %#x", e->name, addr, res,
				 expected);
		assert_memory_unchanged(e->name, m, &before);
		if (!e->is_write)
			assert_bytes_are(e->name, bytes, 0, e->width);
		assert_false(ms_as_access_valid(m->as, addr, e->width, e->is_write, attrs));
	}
}

static void expect_refused_everywhere(machine *m, uint64_t addr, ms_attrs attrs, ms_result expected)
{
	expect_refused(m, addr, attrs, expected, ALL_ENTRIES);
}

static void test_access_calls_with_null_arguments_are_access_errors(void **state)
{
	machine *m = *state;
	static memory_state before;
	uint8_t buf[4] = {1, 2, 3, 4};
	ms_result res;

	memory_state_get(&before, m);
	for (size_t i = 0; i < NR_ENTRIES; i++) {
		const entry *e = &entries[i];
		uint8_t bytes[8];

		memset(bytes, STALE, sizeof(bytes));
		res = e->run(NULL, 0, ATTRS, bytes);
		if (res != MS_RESULT_ACCESS_ERROR)
			fail_msg("%s(NULL as): %#x", e->name, res);
		if (e->scalar && !e->is_write)
			assert_bytes_are(e->name, bytes, 0, e->width); /* loads return 0 */
	}
	/* A load may pass a NULL result pointer. */
	assert_int_equal(ms_as_ldq_be(NULL, 0, ATTRS, NULL), 0);
	assert_int_equal(ms_as_read(m->as, 0, ATTRS, NULL, 4), MS_RESULT_ACCESS_ERROR);
	assert_int_equal(ms_as_write(m->as, 0, ATTRS, NULL, 4), MS_RESULT_ACCESS_ERROR);
	assert_int_equal(ms_as_write_rom(m->as, 0, NULL, 4), MS_RESULT_ACCESS_ERROR);
	assert_int_equal(ms_as_write_rom(NULL, 0, buf, 4), MS_RESULT_ACCESS_ERROR);
	assert_memory_unchanged("NULL arguments", m, &before);
	/* NULL with length 0 is no access at all. */
	assert_int_equal(ms_as_read(m->as, 0, ATTRS, NULL, 0), MS_RESULT_OK);
	assert_int_equal(ms_as_write(m->as, 0, ATTRS, NULL, 0), MS_RESULT_OK);
	assert_int_equal(ms_as_write_rom(m->as, 0, NULL, 0), MS_RESULT_OK);
	assert_false(ms_as_access_valid(NULL, 0, 4, false, ATTRS));
}

static void test_access_calls_to_holes_are_decode_errors(void **state)
{
	machine *m = *state;
	static memory_state before;

	expect_refused_everywhere(m, 0x8000, ATTRS, MS_RESULT_DECODE_ERROR);

	/* Past the top: the bytes below 2^64 are accessed, the rest fail, nothing wraps. */
	for (size_t i = 0; i < NR_ENTRIES; i++) {
		const entry *e = &entries[i];
		unsigned in = e->width / 2; /* bytes below 2^64 */
		uint64_t addr = UINT64_MAX - in + 1;
		uint8_t bytes[8];
		ms_result res;

		if (e->width < 2)
			continue;
		memset(ms_region_ram_ptr(m->top), 0x33, 0x1000);
		memset(bytes, e->is_write ? FILL : STALE, sizeof(bytes));
		memory_state_get(&before, m);
		res = e->run(m->as, addr, ATTRS, bytes);
		if (res != MS_RESULT_DECODE_ERROR)
			fail_msg("%s past the top: %#x", e->name, res);
		if (e->is_write) {
			assert_bytes_are(e->name,
					 (uint8_t *)ms_region_ram_ptr(m->top) + 0x1000 - in, FILL,
					 in);
			memset((uint8_t *)ms_region_ram_ptr(m->top) + 0x1000 - in, 0x33, in);
		} else {
			assert_bytes_are(e->name, bytes, 0x33, in);
			assert_bytes_are(e->name, bytes + in, 0, e->width - in);
		}
		assert_memory_unchanged(e->name, m, &before); /* low RAM: no wrap */
		assert_false(ms_as_access_valid(m->as, addr, e->width, e->is_write, ATTRS));
	}
}

static void test_access_calls_to_reservations_and_iommus_are_decode_errors(void **state)
{
	machine *m = *state;

	expect_refused_everywhere(m, 0x2000, ATTRS, MS_RESULT_DECODE_ERROR);
	expect_refused_everywhere(m, 0x3000, ATTRS, MS_RESULT_DECODE_ERROR);
}

static void test_access_calls_refused_by_valid_rules_are_decode_errors(void **state)
{
	machine *m = *state;

	m->dev.refuse_all = true;
	expect_refused_everywhere(m, 0x1000, ATTRS, MS_RESULT_DECODE_ERROR);
	m->dev.refuse_all = false;
	/*
	 * An unaligned scalar access without valid.unaligned (ms_as_ldub at
	 * 0x1001 is aligned and succeeds). Bulk calls split into aligned pieces.
	 */
	for (size_t i = 0; i < NR_ENTRIES; i++) {
		const entry *e = &entries[i];
		unsigned calls = m->dev.calls;
		uint8_t bytes[8];
		ms_result res;

		if (!e->scalar || e->width == 1)
			continue;
		memset(bytes, e->is_write ? FILL : STALE, sizeof(bytes));
		res = e->run(m->as, 0x1001, ATTRS, bytes);
		if (res != MS_RESULT_DECODE_ERROR)
			fail_msg("%s unaligned: %#x", e->name, res);
		assert_int_equal(m->dev.calls, calls);
		if (!e->is_write)
			assert_bytes_are(e->name, bytes, 0, e->width);
	}
}

static void test_access_calls_under_attrs_memory_to_devices_are_access_errors(void **state)
{
	machine *m = *state;
	ms_attrs memory = {.memory = 1};

	expect_refused_everywhere(m, 0x1000, memory, MS_RESULT_ACCESS_ERROR);
	/* A reservation is not RAM either; an IOMMU without a class stays a decode error. */
	expect_refused_everywhere(m, 0x2000, memory, MS_RESULT_ACCESS_ERROR);
	expect_refused_everywhere(m, 0x3000, memory, MS_RESULT_DECODE_ERROR);
}

static void test_access_calls_report_device_errors(void **state)
{
	machine *m = *state;

	m->dev.result = MS_RESULT_ERROR;
	for (size_t i = 0; i < NR_ENTRIES; i++) {
		const entry *e = &entries[i];
		uint8_t bytes[8];
		unsigned calls = m->dev.calls;
		ms_result res;

		memset(bytes, e->is_write ? FILL : STALE, sizeof(bytes));
		res = e->run(m->as, 0x1000, ATTRS, bytes);
		if (res != MS_RESULT_ERROR)
			fail_msg("%s: %#x, expected MS_RESULT_ERROR", e->name, res);
		assert_true(m->dev.calls > calls); /* the device did run */
		/* Not predicted: the probe calls no callback. */
		calls = m->dev.calls;
		assert_true(ms_as_access_valid(m->as, 0x1000, e->width, e->is_write, ATTRS));
		assert_int_equal(m->dev.calls, calls);
	}
}

/* Nested access from inside dev's callback, made with the entry under test. */
typedef struct nested {
	ms_as *as;
	const entry *e;
	uint64_t addr;
	ms_result result;
	uint8_t bytes[8];
	unsigned runs;
} nested;

static void hook_nested(dev *d)
{
	nested *n = d->hook_data;

	memset(n->bytes, n->e->is_write ? FILL : STALE, sizeof(n->bytes));
	n->result |= n->e->run(n->as, n->addr, ATTRS, n->bytes);
	n->runs++;
}

static void nested_from_dev(machine *m, uint64_t target, const char *what)
{
	static memory_state before;

	m->dev.hook = hook_nested;
	for (size_t i = 0; i < NR_ENTRIES; i++) {
		nested n = {.as = m->as, .e = &entries[i], .addr = target};
		unsigned dev2_calls = m->dev2.calls;

		m->dev.hook_data = &n;
		memory_state_get(&before, m);
		assert_int_equal(ms_as_stl_le(m->as, 0x1000, ATTRS, 0x01020304), MS_RESULT_OK);
		assert_true(n.runs > 0);
		if (n.result != MS_RESULT_ACCESS_ERROR)
			fail_msg("%s with %s: %#x", what, n.e->name, n.result);
		if (!n.e->is_write)
			assert_bytes_are(n.e->name, n.bytes, 0, n.e->width);
		/* Only the outer access reached a device. */
		assert_int_equal(m->dev2.calls, dev2_calls);
		assert_memory_equal(m->dev2.mem, before.dev2, sizeof(before.dev2));
		assert_int_equal(m->dev.calls - before.dev_calls, n.runs);
	}
	m->dev.hook = NULL;
}

static void test_access_calls_reentering_a_device_are_access_errors(void **state)
{
	machine *m = *state;

	nested_from_dev(m, 0x1010, "reentry");
}

static void test_access_calls_past_the_depth_bound_are_access_errors(void **state)
{
	machine *m = *state;

	assert_int_equal(ms_ctx_set_max_access_depth(m->ctx, 1), 0);
	nested_from_dev(m, 0x1100, "depth 1");
	assert_int_equal(ms_ctx_set_max_access_depth(m->ctx, MS_ACCESS_DEPTH_DEFAULT), 0);
}

static void test_translate_bad_arguments_change_nothing(void **state)
{
	machine *m = *state;
	ms_section s, untouched;
	uint64_t len;

	memset(&s, 0x5a, sizeof(s));
	untouched = s;
	ms_rcu_read_lock();
	len = 0;
	assert_int_equal(ms_as_translate(&s, &len, m->as, 0,
					 &(ms_access_opts){.is_write = false, .attrs = ATTRS}),
			 -EINVAL);
	assert_int_equal(len, 0);
	len = 16;
	assert_int_equal(ms_as_translate(NULL, &len, m->as, 0,
					 &(ms_access_opts){.is_write = false, .attrs = ATTRS}),
			 -EINVAL);
	assert_int_equal(len, 16);
	assert_int_equal(ms_as_translate(&s, NULL, m->as, 0,
					 &(ms_access_opts){.is_write = false, .attrs = ATTRS}),
			 -EINVAL);
	assert_int_equal(ms_as_translate(&s, &len, NULL, 0,
					 &(ms_access_opts){.is_write = false, .attrs = ATTRS}),
			 -EINVAL);
	assert_int_equal(len, 16);
	assert_memory_equal(&s, &untouched, sizeof(s));
	/* Control. */
	assert_int_equal(ms_as_translate(&s, &len, m->as, 0,
					 &(ms_access_opts){.is_write = false, .attrs = ATTRS}),
			 0);
	assert_ptr_equal(s.region, m->low);
	ms_rcu_read_unlock();
}

static void test_set_max_access_depth_refusal_keeps_the_bound(void **state)
{
	machine *m = *state;

	assert_int_equal(ms_ctx_set_max_access_depth(m->ctx, 1), 0);
	assert_int_equal(ms_ctx_set_max_access_depth(m->ctx, 0), -EINVAL);
	assert_int_equal(ms_ctx_set_max_access_depth(NULL, 4), -EINVAL);
	/* Still 1: a nested device access fails. */
	nested_from_dev(m, 0x1100, "depth 1 after refusals");
	assert_int_equal(ms_ctx_set_max_access_depth(m->ctx, MS_ACCESS_DEPTH_DEFAULT), 0);
}

/* ---- IOMMU translations that fail (iommu.h) ---------------------------------- */

/*
 * A small IOMMU class: one 4 KiB page at IOVA 0 that maps onto "low"
 * (address 0 of the machine's own address space), or fails the way @mode
 * says. It sits at XL_AT, 0x100 bytes, in the machine.
 */
#define XL_AT 0x4000u

typedef enum xl_mode {
	XL_RW,          /* a good mapping, read and write */
	XL_RO,          /* read only */
	XL_WO,          /* write only */
	XL_NONE,        /* no mapping */
	XL_BAD_MASK,    /* addr_mask not 2^k - 1 */
	XL_NULL_TARGET, /* a permission but no target address space */
	XL_OUTSIDE,     /* the address is not inside the entry */
	XL_BAD_INDEX,   /* attrs_to_index answers an index out of range */
	XL_CYCLE,       /* back to the same IOMMU at the same offset */
	XL_SHIFT,       /* back to the same IOMMU one byte further on: never repeats */
	XL_HOLE,        /* a good mapping onto a hole */
	XL_NR_MODES
} xl_mode;

typedef struct xl {
	ms_as *as;
	xl_mode mode;
	unsigned calls;
} xl;

static void xl_translate(ms_iotlb_entry *out, ms_region *iommu, uint64_t addr, ms_iommu_perm flags,
			 unsigned idx, void *opaque)
{
	xl *x = opaque;

	(void)iommu;
	(void)flags;
	(void)idx;
	x->calls++;
	*out = (ms_iotlb_entry){x->as, addr & ~0xfffull, 0, 0xfff, MS_IOMMU_RW};
	switch (x->mode) {
	case XL_RO:
		out->perm = MS_IOMMU_RO;
		break;
	case XL_WO:
		out->perm = MS_IOMMU_WO;
		break;
	case XL_NONE:
		out->perm = MS_IOMMU_NONE;
		break;
	case XL_BAD_MASK:
		out->addr_mask = 0x1234;
		break;
	case XL_NULL_TARGET:
		out->target_as = NULL;
		break;
	case XL_OUTSIDE:
		out->iova = addr + 1;
		out->addr_mask = 0;
		break;
	case XL_CYCLE:
		out->translated_addr = XL_AT;
		break;
	case XL_SHIFT:
		out->iova = addr;
		out->addr_mask = 0;
		out->translated_addr = XL_AT + ((addr + 1) & 0xff);
		break;
	case XL_HOLE:
		out->translated_addr = 0x8000;
		break;
	default:
		break;
	}
}

static unsigned xl_index(ms_region *iommu, ms_attrs attrs, void *opaque)
{
	const xl *x = opaque;

	(void)iommu;
	(void)attrs;
	return x->mode == XL_BAD_INDEX ? 1 : 0;
}

static const ms_iommu_ops xl_ops = {
	.version = MS_IOMMU_OPS_VERSION,
	.translate = xl_translate,
	.attrs_to_index = xl_index,
};

static ms_region *xl_place(machine *m, xl *x)
{
	ms_region *r;

	x->as = m->as;
	x->mode = XL_RW;
	assert_int_equal(
		ms_iommu_new(
			&r, m->ctx,
			&(ms_iommu_opts){.name = "xl", .size = 0x100, .ops = &xl_ops, .opaque = x}),
		0);
	place(m, XL_AT, r);
	return r;
}

/* What ms_as_translate() and ms_as_get_iotlb_entry() return in each mode. */
static int xl_expected_errno(xl_mode mode, bool is_write)
{
	switch (mode) {
	case XL_RW:
		return 0;
	case XL_RO:
		return is_write ? -EACCES : 0;
	case XL_WO:
		return is_write ? 0 : -EACCES;
	case XL_NONE:
		return -EACCES;
	case XL_BAD_MASK:
	case XL_NULL_TARGET:
	case XL_OUTSIDE:
	case XL_BAD_INDEX:
		return -EIO;
	case XL_CYCLE:
	case XL_SHIFT:
		return -ELOOP;
	default:
		return -ENOENT;
	}
}

static void test_access_calls_through_failing_iommus_are_access_errors(void **state)
{
	static const xl_mode failing[] = {XL_NONE,      XL_BAD_MASK, XL_NULL_TARGET, XL_OUTSIDE,
					  XL_BAD_INDEX, XL_CYCLE,    XL_SHIFT};
	machine *m = *state;
	static memory_state before;
	uint8_t image[4] = {1, 2, 3, 4};
	xl x;

	xl_place(m, &x);
	/* Control: a good mapping reaches "low" for every entry point. */
	for (size_t i = 0; i < NR_ENTRIES; i++) {
		uint8_t bytes[8];

		memset(bytes, 0x77, sizeof(bytes));
		assert_int_equal(entries[i].run(m->as, XL_AT, ATTRS, bytes), MS_RESULT_OK);
	}
	memset(ms_region_ram_ptr(m->low), 0x77, 0x1000);

	for (size_t i = 0; i < sizeof(failing) / sizeof(failing[0]); i++) {
		x.mode = failing[i];
		expect_refused_everywhere(m, XL_AT, ATTRS, MS_RESULT_ACCESS_ERROR);
		/* The loader skips it silently. */
		memory_state_get(&before, m);
		assert_int_equal(ms_as_write_rom(m->as, XL_AT, image, sizeof(image)), MS_RESULT_OK);
		assert_memory_unchanged("ms_as_write_rom", m, &before);
	}
	/* A missing permission fails only that direction (the loader needs write). */
	x.mode = XL_RO;
	expect_refused(m, XL_AT, ATTRS, MS_RESULT_ACCESS_ERROR, WRITE_ENTRIES);
	memory_state_get(&before, m);
	assert_int_equal(ms_as_write_rom(m->as, XL_AT, image, sizeof(image)), MS_RESULT_OK);
	assert_memory_unchanged("ms_as_write_rom", m, &before);
	x.mode = XL_WO;
	expect_refused(m, XL_AT, ATTRS, MS_RESULT_ACCESS_ERROR, READ_ENTRIES);
	/* Behind the IOMMU every rule applies again: a hole there is a decode error. */
	x.mode = XL_HOLE;
	expect_refused_everywhere(m, XL_AT, ATTRS, MS_RESULT_DECODE_ERROR);
	/* translate counts as a callback on the thread's chain: at depth 1 it cannot run. */
	x.mode = XL_RW;
	assert_int_equal(ms_ctx_set_max_access_depth(m->ctx, 1), 0);
	nested_from_dev(m, XL_AT, "IOMMU at depth 1");
	assert_int_equal(ms_ctx_set_max_access_depth(m->ctx, MS_ACCESS_DEPTH_DEFAULT), 0);
}

static void test_translate_and_map_through_failing_iommus(void **state)
{
	machine *m = *state;
	ms_section s, cleared;
	ms_iotlb_entry e;
	ms_region *r;
	xl x;

	r = xl_place(m, &x);
	memset(&cleared, 0, sizeof(cleared));
	for (int mode = XL_RW; mode < XL_NR_MODES; mode++) {
		for (int is_write = 0; is_write < 2; is_write++) {
			int expected = xl_expected_errno((xl_mode)mode, is_write);
			uint64_t len = 16;
			void *p;
			int rc;

			x.mode = (xl_mode)mode;
			memset(&s, 0x5a, sizeof(s));
			ms_rcu_read_lock();
			rc = ms_as_translate(
				&s, &len, m->as, XL_AT,
				&(ms_access_opts){.is_write = is_write, .attrs = ATTRS});
			ms_rcu_read_unlock(); /* s.region is only compared below */
			if (rc != expected)
				fail_msg("translate, mode %d, write %d: %d, expected %d", mode,
					 is_write, rc, expected);
			if (expected == 0) {
				assert_ptr_equal(s.region, m->low);
				assert_int_equal(s.start, XL_AT);
			} else {
				/* Cleared; *len unchanged, or on -ENOENT the hole behind. */
				assert_memory_equal(&s, &cleared, sizeof(s));
			}
			assert_int_equal(len, 16);

			rc = ms_as_get_iotlb_entry(&e, m->as, XL_AT, is_write, ATTRS);
			assert_int_equal(rc, expected);

			len = 16;
			p = ms_as_map(m->as, XL_AT, &len, is_write, ATTRS);
			if (expected == 0) {
				assert_ptr_equal(p, ms_region_ram_ptr(m->low));
				assert_int_equal(len, 16);
				assert_int_equal(ms_as_unmap(m->as, p, len, is_write, 0), 0);
			} else {
				if (p != NULL || len != 0)
					fail_msg("map, mode %d, write %d: %p, len %" PRIu64, mode,
						 is_write, p, len);
			}
			assert_int_equal(ms__map_check(m->as), 0);
		}
	}
	/* ms_iommu_translate() refuses an address past the region's 0x100 bytes. */
	x.mode = XL_RW;
	assert_int_equal(ms_iommu_translate(&e, r, 0x1000, MS_IOMMU_NONE, 0), -EINVAL);
	assert_int_equal(e.perm, MS_IOMMU_NONE);
	assert_int_equal(ms_iommu_translate(&e, r, 0xff, MS_IOMMU_NONE, 0), 0);
	assert_int_equal(e.perm, MS_IOMMU_RW);
}

/* ---- cache.h ------------------------------------------------------------------------ */

/* @load(@cache, 0, &result) must return 0 and report an access error. */
#define EXPECT_LOAD_REFUSED(load, cache)                           \
	do {                                                       \
		ms_result result_ = MS_RESULT_OK;                  \
		assert_int_equal(load((cache), 0, &result_), 0);   \
		assert_int_equal(result_, MS_RESULT_ACCESS_ERROR); \
	} while (0)

/*
 * A NULL cache leaves the caller's buffer alone; a destroyed cache, or bytes
 * outside the stretch, read as zeros. Every load and store refuses both.
 */
static void test_cache_calls_refuse_null_destroyed_and_outside(void **state)
{
	machine *m = *state;
	static memory_state before;
	uint8_t buf[4];
	ms_cache c;

	memory_state_get(&before, m);
	memset(buf, STALE, sizeof(buf));
	assert_int_equal(ms_cache_read(NULL, 0, buf, sizeof(buf)), MS_RESULT_ACCESS_ERROR);
	assert_bytes_are("NULL cache", buf, 0, sizeof(buf));
	assert_int_equal(ms_cache_init(&c, m->as, 0, 16, true), 0);
	assert_int_equal(ms_cache_read(&c, 14, buf, sizeof(buf)), MS_RESULT_ACCESS_ERROR);
	assert_bytes_are("outside", buf, 0, sizeof(buf));
	ms_cache_destroy(&c);
	for (int i = 0; i < 2; i++) {
		ms_cache *cache = i ? NULL : &c; /* destroyed, then NULL */

		memset(buf, STALE, sizeof(buf));
		assert_int_equal(ms_cache_read(cache, 0, buf, sizeof(buf)), MS_RESULT_ACCESS_ERROR);
		assert_bytes_are("read", buf, 0, sizeof(buf));
		assert_int_equal(ms_cache_write(cache, 0, buf, sizeof(buf)),
				 MS_RESULT_ACCESS_ERROR);
		EXPECT_LOAD_REFUSED(ms_cache_ldub, cache);
		EXPECT_LOAD_REFUSED(ms_cache_lduw_le, cache);
		EXPECT_LOAD_REFUSED(ms_cache_lduw_be, cache);
		EXPECT_LOAD_REFUSED(ms_cache_ldl_le, cache);
		EXPECT_LOAD_REFUSED(ms_cache_ldl_be, cache);
		EXPECT_LOAD_REFUSED(ms_cache_ldq_le, cache);
		EXPECT_LOAD_REFUSED(ms_cache_ldq_be, cache);
		assert_int_equal(ms_cache_stb(cache, 0, 1), MS_RESULT_ACCESS_ERROR);
		assert_int_equal(ms_cache_stw_le(cache, 0, 1), MS_RESULT_ACCESS_ERROR);
		assert_int_equal(ms_cache_stw_be(cache, 0, 1), MS_RESULT_ACCESS_ERROR);
		assert_int_equal(ms_cache_stl_le(cache, 0, 1), MS_RESULT_ACCESS_ERROR);
		assert_int_equal(ms_cache_stl_be(cache, 0, 1), MS_RESULT_ACCESS_ERROR);
		assert_int_equal(ms_cache_stq_le(cache, 0, 1), MS_RESULT_ACCESS_ERROR);
		assert_int_equal(ms_cache_stq_be(cache, 0, 1), MS_RESULT_ACCESS_ERROR);
	}
	assert_memory_unchanged("refused cache calls", m, &before);
}

#define MACHINE_TEST(t) cmocka_unit_test_setup_teardown(t, machine_setup, machine_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		MACHINE_TEST(test_access_calls_with_null_arguments_are_access_errors),
		MACHINE_TEST(test_access_calls_to_holes_are_decode_errors),
		MACHINE_TEST(test_access_calls_to_reservations_and_iommus_are_decode_errors),
		MACHINE_TEST(test_access_calls_refused_by_valid_rules_are_decode_errors),
		MACHINE_TEST(test_access_calls_under_attrs_memory_to_devices_are_access_errors),
		MACHINE_TEST(test_access_calls_report_device_errors),
		MACHINE_TEST(test_access_calls_reentering_a_device_are_access_errors),
		MACHINE_TEST(test_access_calls_past_the_depth_bound_are_access_errors),
		MACHINE_TEST(test_translate_bad_arguments_change_nothing),
		MACHINE_TEST(test_set_max_access_depth_refusal_keeps_the_bound),
		MACHINE_TEST(test_access_calls_through_failing_iommus_are_access_errors),
		MACHINE_TEST(test_translate_and_map_through_failing_iommus),
		MACHINE_TEST(test_cache_calls_refuse_null_destroyed_and_outside),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
