/*
 * base.h: helpers every module of the library may use, with no state.
 *
 * 128-bit arithmetic for region sizes (which go up to 2^64 inclusive), the
 * conversions between the API's size convention and exact sizes, and the
 * RCU wrappers through which views are published and read. Nothing here
 * knows about contexts, regions or views.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_BASE_H
#define MEMSPACE_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

#endif /* MEMSPACE_BASE_H */
