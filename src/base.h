/*
 * base.h: small header-only helpers that several modules share - length
 * clamping, the host byte order and conversions between scalar values and
 * their bytes, and which region kinds count as RAM. Pure functions: no
 * state, no locking, safe in any context.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_BASE_H
#define MEMSPACE_BASE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "memspace.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define MS__HOST_BIG_ENDIAN true
#else
#define MS__HOST_BIG_ENDIAN false
#endif

/*
 * @want (at least 1) bytes clamped to the @avail_minus_1 + 1 bytes
 * available. Passing the count minus one lets "everything up to 2^64 - 1",
 * i.e. 2^64 bytes, be expressed without overflow.
 */
static inline uint64_t ms__clamp_len(uint64_t want, uint64_t avail_minus_1)
{
	return want - 1 <= avail_minus_1 ? want : avail_minus_1 + 1;
}

/* The value of the @size (1 to 8) bytes at @bytes, read in the given byte order. */
static inline uint64_t ms__bytes_to_value(const uint8_t *bytes, unsigned size, bool big_endian)
{
	uint64_t value = 0;

	/* Host order first: the bytes sit at the low-order end of @value. */
	memcpy((uint8_t *)&value + (MS__HOST_BIG_ENDIAN ? 8 - size : 0), bytes, size);
	if (big_endian != MS__HOST_BIG_ENDIAN)
		value = __builtin_bswap64(value) >> (64 - 8 * size);
	return value;
}

/* Store the low @size (1 to 8) bytes of @value at @bytes in the given byte order. */
static inline void ms__value_to_bytes(uint8_t *bytes, unsigned size, uint64_t value,
				      bool big_endian)
{
	if (big_endian != MS__HOST_BIG_ENDIAN)
		value = __builtin_bswap64(value << (64 - 8 * size));
	memcpy(bytes, (const uint8_t *)&value + (MS__HOST_BIG_ENDIAN ? 8 - size : 0), size);
}

/*
 * RAM-backed kinds, RAM devices included: the only ones an access with
 * attrs.memory may reach. ROM devices are not RAM even in romd mode.
 */
static inline bool ms__region_kind_is_ram(ms_region_kind kind)
{
	return kind == MS_REGION_RAM || kind == MS_REGION_ROM || kind == MS_REGION_RAM_PTR ||
	       kind == MS_REGION_RAM_DEVICE;
}

#endif /* MEMSPACE_BASE_H */
