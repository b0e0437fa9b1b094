/*
 * test_bus_support.h: the machine under the access and the DMA map tests
 * (not a test itself), shared by test_access_support.h and
 * test_map_support.h.
 *
 * bus_new() builds a context with a 2^64 "system" container and an address
 * space "memory" on it; bus_place() maps a region into the container and
 * hands it the caller's reference. get_bytes() and put_bytes() read and
 * write a device's register file in a given byte order.
 *
 * Include after <cmocka.h> and ms_unit.h. Everything is static inline so a
 * test that uses only part of it compiles without warnings.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TEST_BUS_SUPPORT_H
#define TEST_BUS_SUPPORT_H

#define ATTRS MS_ATTRS_UNSPECIFIED

static inline void bus_new(ms_ctx **ctx, ms_region **sys, ms_as **as)
{
	*ctx = new_ctx();
	*sys = new_container(*ctx, "system", MS_SIZE_2_64);
	*as = new_as(*ctx, *sys, "memory");
}

/* Map @r at @addr in @sys; the container takes over the caller's reference. */
static inline ms_region *bus_place(ms_region *sys, uint64_t addr, ms_region *r)
{
	assert_int_equal(ms_region_add_subregion(sys, addr, r), 0);
	ms_region_unref(r);
	return r;
}

static inline uint64_t get_bytes(const uint8_t *p, unsigned size, bool big_endian)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)p[i] << 8 * (big_endian ? size - 1 - i : i);
	return v;
}

static inline void put_bytes(uint8_t *p, unsigned size, uint64_t v, bool big_endian)
{
	for (unsigned i = 0; i < size; i++)
		p[i] = (uint8_t)(v >> 8 * (big_endian ? size - 1 - i : i));
}

#endif /* TEST_BUS_SUPPORT_H */
