/*
 * cache.h: the private state of a region cache (cache.c), kept inside the
 * caller's struct ms_cache. Tests read it; nothing else does.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_CACHE_INT_H
#define MEMSPACE_CACHE_INT_H

#include "map.h"

/* may_alias: the storage is the caller's ms_cache, declared with another type. */
typedef struct __attribute__((may_alias)) ms__cache_priv {
	ms_as *as;
	uint64_t addr;
	uint64_t len;
	bool is_write;
	bool tracked;      /* hops[] describe the last translation */
	bool stale;        /* invalidated: translate before the next access */
	bool direct_read;  /* ptr may be read */
	bool direct_write; /* ptr may be written */
	uint8_t *ptr;
	ms_region *region;
	uint64_t region_offset;
	unsigned nr_hops;
	ms__resolve_hop hops[MS_CACHE_MAX_HOPS]; /* each view referenced while tracked */
} ms__cache_priv;

_Static_assert(sizeof(ms__cache_priv) <= sizeof(ms_cache), "ms_cache is too small");
_Static_assert(_Alignof(ms__cache_priv) <= _Alignof(ms_cache), "ms_cache is under-aligned");

static inline ms__cache_priv *ms__cache_state(ms_cache *cache)
{
	return (ms__cache_priv *)(void *)cache;
}

static inline const ms__cache_priv *ms__cache_cstate(const ms_cache *cache)
{
	return (const ms__cache_priv *)(const void *)cache;
}

#endif /* MEMSPACE_CACHE_INT_H */
