/*
 * base.h: helpers every module of the library may use, with no state: the
 * 128-bit arithmetic of region sizes (which go up to 2^64 inclusive) and
 * the conversions between the API's size convention and exact sizes, the
 * RCU wrappers through which views are published and read, length
 * clamping, and the host byte order with conversions between scalar
 * values and their bytes. Nothing here knows about contexts, regions or
 * views; everything is safe in any context.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_BASE_H
#define MEMSPACE_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * liburcu's inline read-side primitives (its LGPL-2.1 headers allow them in
 * code under an LGPL-compatible licence, which MIT is; README's licence
 * section records it): an access then takes its read-side section without
 * two calls into liburcu-bp. ASan+UBSan builds define MS_RCU_OUT_OF_LINE
 * (CMakeLists.txt): liburcu-bp allocates its reader records less aligned
 * than their type says, which UBSan reports in the inline form.
 */
#if !defined(_LGPL_SOURCE) && !defined(MS_RCU_OUT_OF_LINE)
#define _LGPL_SOURCE
#endif
#include <urcu-bp.h>

#include "memspace.h"

/* 128-bit integers for region sizes (up to 2^64) and render arithmetic. */
__extension__ typedef unsigned __int128 ms__u128;
__extension__ typedef __int128 ms__i128;

#define MS__2_64 ((ms__u128)1 << 64)

/* API size (MS_SIZE_2_64 convention) <-> exact size. */
static inline ms__u128 ms__size_from_api(uint64_t size)
{
	return size == MS_SIZE_2_64 ? MS__2_64 : (ms__u128)size;
}

static inline uint64_t ms__size_to_api(ms__u128 size)
{
	return size >= MS__2_64 ? MS_SIZE_2_64 : (uint64_t)size;
}

/*
 * View publication: rcu_assign_pointer() / rcu_dereference(). liburcu's
 * barriers are inline assembly that ThreadSanitizer cannot see, so TSan
 * builds use the equivalent release store / acquire load, which it can.
 */
#if defined(__SANITIZE_THREAD__)
#define MS__TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define MS__TSAN 1
#endif
#endif
#ifdef MS__TSAN
#define ms__publish(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELEASE)
#define ms__deref(p) __atomic_load_n(&(p), __ATOMIC_ACQUIRE)
/*
 * Nor can TSan see a grace period: every read-side unlock releases, and
 * every reclamation after a grace period acquires, one sync token, which
 * tells TSan what the grace period guarantees.
 */
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
extern const char ms__rcu_sync_token;
#define ms__rcu_released() __tsan_release((void *)&ms__rcu_sync_token)
#define ms__rcu_reclaiming() __tsan_acquire((void *)&ms__rcu_sync_token)
#else
#define ms__publish(p, v) rcu_assign_pointer((p), (v))
#define ms__deref(p) rcu_dereference(p)
#define ms__rcu_released() ((void)0)
#define ms__rcu_reclaiming() ((void)0)
#endif

/* Read-side sections of the library: rcu_read_lock_bp() and its unlock. */
static inline void ms__rcu_read_lock(void)
{
	rcu_read_lock_bp();
}

static inline void ms__rcu_read_unlock(void)
{
	ms__rcu_released();
	rcu_read_unlock_bp();
}

/*
 * Whether this thread's read-side sections need no first-time set-up
 * (liburcu-bp registers a thread in its first section, a call): a fast
 * path that must make no call tests it first and takes its general path
 * when not. Always true where the read lock is out of line (a call anyway).
 */
static inline bool ms__rcu_ready(void)
{
#ifdef _LGPL_SOURCE
	return URCU_TLS(urcu_bp_reader) != NULL;
#else
	return true;
#endif
}

/*
 * The entry points of the hot paths (the look-ups, the scalar loads) start
 * on a cache line, so that what they cost does not move with where the
 * link puts them: the 10-region look-up, six or seven cycles, took one
 * more when it straddled a line.
 */
#define MS__HOT_ENTRY __attribute__((aligned(64)))

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

#endif /* MEMSPACE_BASE_H */
