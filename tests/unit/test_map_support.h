/*
 * test_map_support.h: the device, the fixture and the map client of the DMA
 * map tests (not a test itself), shared by test_map.c and test_map_bounce.c.
 *
 * The test device is memory in little-endian byte order (a register file
 * read and written through its callbacks), so a bounce buffer's bytes equal
 * the register file's bytes; every callback is counted. The fixture's
 * teardown frees the address space and root and checks that no region is
 * left alive, so a leaked mapping reference fails the test. client_cb()
 * counts its calls and can map the whole budget or unregister itself;
 * register_client() registers it.
 *
 * The machine and the byte helpers come from test_bus_support.h.
 *
 * Include after <cmocka.h> and ms_unit.h. Everything is static inline so a
 * test that uses only part of it compiles without warnings.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TEST_MAP_SUPPORT_H
#define TEST_MAP_SUPPORT_H

#include "test_bus_support.h"

#define KIB ((uint64_t)1024)
#define DEV_SIZE (256 * KIB)

typedef struct dev {
	ms_region_ops ops;
	ms_region *region;
	uint8_t mem[DEV_SIZE];
	unsigned reads, writes; /* atomic */
	uint64_t bytes_written; /* atomic */
	/* Tracked only while @concurrent is false (single-threaded tests). */
	uint64_t lowest_write;  /* smallest offset written */
	uint64_t highest_write; /* one past the last byte written */
	ms_attrs last_write_attrs;
	bool concurrent;
	ms_result result; /* returned by every callback */
} dev;

typedef struct fixture {
	ms_ctx *ctx;
	ms_region *sys;
	ms_as *as;
	dev *dev;
} fixture;

/* ---- the device ------------------------------------------------------------- */

static inline ms_result dev_read(uint64_t addr, uint64_t *data, unsigned size, ms_attrs attrs,
				 void *opaque)
{
	dev *d = opaque;

	(void)attrs;
	assert_true(addr + size <= DEV_SIZE);
	*data = get_bytes(d->mem + addr, size, false);
	__atomic_fetch_add(&d->reads, 1, __ATOMIC_RELAXED);
	return d->result;
}

static inline ms_result dev_write(uint64_t addr, uint64_t data, unsigned size, ms_attrs attrs,
				  void *opaque)
{
	dev *d = opaque;

	assert_true(addr + size <= DEV_SIZE);
	put_bytes(d->mem + addr, size, data, false);
	__atomic_fetch_add(&d->writes, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&d->bytes_written, size, __ATOMIC_RELAXED);
	if (d->concurrent)
		return d->result;
	if (addr < d->lowest_write)
		d->lowest_write = addr;
	if (addr + size > d->highest_write)
		d->highest_write = addr + size;
	d->last_write_attrs = attrs;
	return d->result;
}

static inline void dev_reset_counts(dev *d)
{
	d->reads = 0;
	d->writes = 0;
	d->bytes_written = 0;
	d->lowest_write = UINT64_MAX;
	d->highest_write = 0;
}

/* ---- fixture ------------------------------------------------------------------ */

static inline int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->dev = calloc(1, sizeof(*f->dev));
	assert_non_null(f->dev);
	f->dev->ops = (ms_region_ops){
		.version = MS_REGION_OPS_VERSION,
		.read_with_attrs = dev_read,
		.write_with_attrs = dev_write,
		.endianness = MS_ENDIAN_LITTLE,
		.valid = {.min_access_size = 1, .max_access_size = 8},
		.impl = {.min_access_size = 1, .max_access_size = 8},
	};
	dev_reset_counts(f->dev);
	bus_new(&f->ctx, &f->sys, &f->as);
	*state = f;
	return 0;
}

static inline int teardown(void **state)
{
	fixture *f = *state;

	if (f->as) {
		assert_int_equal(ms__map_check(f->as), 0);
		ms_as_free(f->as);
	}
	ms_region_unref(f->sys);
	/* Mappings hold region references: none may outlive the address space. */
	assert_int_equal(live_regions(f->ctx), 0);
	ms_ctx_free(f->ctx);
	free(f->dev);
	free(f);
	return 0;
}

static inline void place(fixture *f, uint64_t addr, ms_region *r)
{
	bus_place(f->sys, addr, r);
}

static inline ms_region *add_ram(fixture *f, const char *name, uint64_t addr, uint64_t size)
{
	return bus_place(f->sys, addr, new_ram(f->ctx, name, size));
}

static inline ms_region *add_dev(fixture *f, uint64_t addr)
{
	ms_region *r;

	assert_int_equal(ms_region_new_io(&r, f->ctx,
					  &(ms_region_io_opts){.name = "dev",
							       .size = DEV_SIZE,
							       .ops = &f->dev->ops,
							       .opaque = f->dev}),
			 0);
	place(f, addr, r);
	f->dev->region = r;
	return r;
}

/* References on @r once pending view frees (call_rcu) have run. */
static inline uint32_t settled_refs(const ms_region *r)
{
	rcu_barrier_bp();
	return region_refs(r);
}

/*
 * Map @len bytes at @addr, which must be RAM usable in place: the map must
 * return @want and cover @want_len bytes. Unmapped at once, nothing accessed.
 */
static inline void expect_in_place(fixture *f, uint64_t addr, uint64_t len, bool is_write,
				   const void *want, uint64_t want_len)
{
	uint8_t *p = ms_as_map(f->as, addr, &len, is_write, ATTRS);

	assert_ptr_equal(p, want);
	assert_int_equal(len, want_len);
	assert_int_equal(ms_as_unmap(f->as, p, len, is_write, 0), 0);
}

static inline bool points_into(const void *p, const ms_region *r)
{
	const uint8_t *base = ms_region_ram_ptr(r);

	return base && (const uint8_t *)p >= base && (const uint8_t *)p < base + ms_region_size(r);
}

/* Map for write, fill the buffer with @byte, unmap with access_len = len. */
static inline void write_through_map(fixture *f, uint64_t addr, uint64_t len, uint8_t byte)
{
	uint64_t got = len;
	uint8_t *p = ms_as_map(f->as, addr, &got, true, ATTRS);

	assert_non_null(p);
	assert_int_equal(got, len);
	memset(p, byte, (size_t)len);
	assert_int_equal(ms_as_unmap(f->as, p, got, true, got), 0);
}

/* ---- a map client that counts its calls ------------------------------------------ */

typedef struct client_state {
	fixture *f;
	unsigned calls;        /* atomic */
	ms_map_client *handle; /* for callbacks that unregister themselves */
	bool unregister_self;
	bool map_everything; /* take the whole budget from the callback */
	void *mapped;
	uint64_t mapped_len;
} client_state;

static inline void client_cb(void *opaque)
{
	client_state *s = opaque;

	__atomic_fetch_add(&s->calls, 1, __ATOMIC_RELAXED);
	if (s->map_everything) {
		s->mapped_len = UINT64_MAX >> 1;
		s->mapped = ms_as_map(s->f->as, 0, &s->mapped_len, true, ATTRS);
		assert_non_null(s->mapped);
	}
	if (s->unregister_self) {
		ms_as_unregister_map_client(s->handle);
		s->handle = NULL;
	}
}

/* Register @s (with client_cb) as a map client of its fixture's address space. */
static inline void register_client(client_state *s)
{
	assert_int_equal(ms_as_register_map_client(&s->handle, s->f->as, client_cb, s), 0);
}

#endif /* TEST_MAP_SUPPORT_H */
