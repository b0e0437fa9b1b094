/*
 * test_access_support.h: the devices and the machine of the access tests (not
 * a test itself), shared by test_access.c and test_access_mmio.c.
 *
 * A dev behaves like memory in its own byte order (a 64-byte register file
 * read and written in the device's endianness), so the bus bytes of any
 * access equal the register file's bytes; each callback is logged with its
 * offset, size, value and attributes, then runs the dev's hook, if any.
 * The fixture is a context with a 2^64 "system" container and an address
 * space "memory" on it; add_ram(), add_rom(), add_dev(), add_rom_device()
 * place regions in it and leave the reference to the container.
 *
 * The machine and the byte helpers come from test_bus_support.h.
 *
 * Include after <cmocka.h> and ms_unit.h. Everything is static inline so a
 * test that uses only part of it compiles without warnings.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TEST_ACCESS_SUPPORT_H
#define TEST_ACCESS_SUPPORT_H

#include "test_bus_support.h"

#define MAX_LOG 64
#define MAX_DEVS 8

typedef struct call {
	bool is_write;
	uint64_t addr;
	unsigned size;
	uint64_t data;
	ms_attrs attrs;
} call;

typedef struct dev dev;
struct dev {
	ms_region_ops ops;
	ms_region *region;
	uint64_t base; /* where it is mapped */
	uint8_t mem[64];
	call log[MAX_LOG];
	size_t nr_log;    /* atomic */
	ms_result result; /* returned by every callback */
	/* Runs inside every callback, after logging. */
	void (*hook)(dev *d, const call *c);
	ms_as *as;
	uint64_t target; /* for hooks: where to access */
	ms_result nested_result;
	int nested_rc;
	unsigned inside; /* atomic, for the concurrency test */
	bool saw_other_thread;
};

typedef struct fixture {
	ms_ctx *ctx;
	ms_region *sys;
	ms_as *as;
	dev devs[MAX_DEVS];
	size_t nr_devs;
} fixture;

static inline bool host_big_endian(void)
{
	const uint16_t one = 1;

	return *(const uint8_t *)&one == 0;
}

static inline bool dev_big_endian(const dev *d)
{
	return d->ops.endianness == MS_ENDIAN_BIG ||
	       (d->ops.endianness == MS_ENDIAN_NATIVE && host_big_endian());
}

static inline const call *log_call(dev *d, bool is_write, uint64_t addr, unsigned size,
				   uint64_t data, ms_attrs attrs)
{
	size_t i = __atomic_fetch_add(&d->nr_log, 1, __ATOMIC_RELAXED);

	assert_true(i < MAX_LOG);
	d->log[i] = (call){is_write, addr, size, data, attrs};
	return &d->log[i];
}

static inline ms_result dev_read_attrs(uint64_t addr, uint64_t *data, unsigned size, ms_attrs attrs,
				       void *opaque)
{
	dev *d = opaque;
	const call *c;

	assert_true(addr + size <= sizeof(d->mem));
	*data = get_bytes(d->mem + addr, size, dev_big_endian(d));
	c = log_call(d, false, addr, size, *data, attrs);
	if (d->hook)
		d->hook(d, c);
	return d->result;
}

static inline ms_result dev_write_attrs(uint64_t addr, uint64_t data, unsigned size, ms_attrs attrs,
					void *opaque)
{
	dev *d = opaque;
	const call *c;

	assert_true(addr + size <= sizeof(d->mem));
	put_bytes(d->mem + addr, size, data, dev_big_endian(d));
	c = log_call(d, true, addr, size, data, attrs);
	if (d->hook)
		d->hook(d, c);
	return d->result;
}

static inline uint64_t dev_read_plain(uint64_t addr, unsigned size, void *opaque)
{
	uint64_t data = 0;

	(void)dev_read_attrs(addr, &data, size, ATTRS, opaque);
	return data;
}

static inline void dev_write_plain(uint64_t addr, uint64_t data, unsigned size, void *opaque)
{
	(void)dev_write_attrs(addr, data, size, ATTRS, opaque);
}

/* ---- fixture -------------------------------------------------------------- */

static inline int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	bus_new(&f->ctx, &f->sys, &f->as);
	*state = f;
	return 0;
}

static inline int teardown(void **state)
{
	fixture *f = *state;

	ms_ctx_free(f->ctx);
	free(f);
	return 0;
}

static inline void map(fixture *f, uint64_t addr, ms_region *r)
{
	bus_place(f->sys, addr, r);
}

static inline ms_region *add_ram(fixture *f, const char *name, uint64_t addr, uint64_t size)
{
	return bus_place(f->sys, addr, new_ram(f->ctx, name, size));
}

static inline ms_region *add_rom(fixture *f, const char *name, uint64_t addr, uint64_t size)
{
	return bus_place(f->sys, addr, new_rom(f->ctx, name, size));
}

/* A device with *_with_attrs callbacks; adjust d->ops before map_dev(). */
static inline dev *new_dev(fixture *f, ms_endian endianness)
{
	dev *d;

	assert_true(f->nr_devs < MAX_DEVS);
	d = &f->devs[f->nr_devs++];
	d->ops.version = MS_REGION_OPS_VERSION;
	d->ops.read_with_attrs = dev_read_attrs;
	d->ops.write_with_attrs = dev_write_attrs;
	d->ops.endianness = endianness;
	d->as = f->as;
	for (size_t i = 0; i < sizeof(d->mem); i++)
		d->mem[i] = (uint8_t)(0x10 + i);
	return d;
}

static inline dev *map_dev(fixture *f, dev *d, uint64_t addr, uint64_t size)
{
	assert_int_equal(
		ms_region_new_io(&d->region, f->ctx,
				 &(ms_region_io_opts){
					 .name = "dev", .size = size, .ops = &d->ops, .opaque = d}),
		0);
	d->base = addr;
	map(f, addr, d->region);
	return d;
}

static inline dev *add_dev(fixture *f, uint64_t addr, ms_endian endianness)
{
	return map_dev(f, new_dev(f, endianness), addr, sizeof(f->devs[0].mem));
}

static inline void assert_call(const dev *d, size_t i, bool is_write, uint64_t addr, unsigned size,
			       uint64_t data)
{
	assert_true(i < d->nr_log);
	assert_int_equal(d->log[i].is_write, is_write);
	assert_int_equal(d->log[i].addr, addr);
	assert_int_equal(d->log[i].size, size);
	assert_int_equal(d->log[i].data, data);
}

static inline void assert_bytes(const uint8_t *p, uint8_t value, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(p[i], value);
}

static inline uint8_t *ram(ms_region *r)
{
	return ms_region_ram_ptr(r);
}

static inline ms_region *add_rom_device(fixture *f, dev *d, uint64_t addr, uint64_t size)
{
	assert_int_equal(ms_region_new_rom_device(&d->region, f->ctx,
						  &(ms_region_io_opts){.name = "romd",
								       .size = size,
								       .ops = &d->ops,
								       .opaque = d}),
			 0);
	d->base = addr;
	map(f, addr, d->region);
	return d->region;
}

#endif /* TEST_ACCESS_SUPPORT_H */
