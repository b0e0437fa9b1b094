/*
 * cache.c: region caches (cache.h).
 *
 * A cache remembers one translation of its stretch: the address spaces on
 * the path (ms__resolve()), the flat view each had then (a reference held,
 * so a view pointer cannot be recycled for a new view while we compare
 * against it) and, for each IOMMU on the path, its notification count
 * read before it translated. The translation is fresh while every address
 * space still publishes that view and every IOMMU count is unchanged: a
 * commit publishes a new view (views are immutable), and an IOMMU bumps its
 * count before delivering any notification. A fresh translation that ends
 * in RAM usable in place lets accesses copy host memory directly; the view
 * references keep that memory allocated. They are taken after the lookup,
 * so only while the count is not 0: a view replaced during the translation
 * may already be queued for call_rcu, and the cache is then stale at once.
 *
 * Invariant: tracked => hops[0 .. nr_hops) hold view references and
 * nr_hops >= 1; ptr != NULL => tracked and [ptr, ptr + len) is the host
 * memory of the whole stretch in the last view of the path; stale => nothing
 * is held (ms_cache_invalidate()) and the next access translates.
 *
 * Locking: none. The caller serialises uses of one cache; freshness checks
 * are atomic loads, translation runs in an RCU read-side section.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <string.h>

#include "cache.h"

static void release(ms__cache_priv *c)
{
	for (unsigned i = 0; i < c->nr_hops; i++)
		ms_flatview_unref((ms_flatview *)c->hops[i].view); /* the reference taken */
	memset(c->hops, 0, sizeof(c->hops));
	c->nr_hops = 0;
	c->tracked = false;
	c->direct_read = c->direct_write = false;
	c->ptr = NULL;
	c->region = NULL;
	c->region_offset = 0;
}

/* Translate the stretch again and record the path. */
static void translate(ms__cache_priv *c)
{
	ms__resolve_hop hops[MS_CACHE_MAX_HOPS];
	ms__resolved res;
	size_t nr = 0;
	int rc;

	release(c);
	c->stale = false;
	ms__rcu_read_lock();
	rc = ms__resolve(&res, c->as, ms__deref(c->as->view), c->addr, c->len, c->is_write,
			 MS_ATTRS_UNSPECIFIED, hops, MS_CACHE_MAX_HOPS, &nr);
	if (nr <= MS_CACHE_MAX_HOPS) {
		for (size_t i = 0; i < nr; i++) {
			if (!ms__flatview_tryref((ms_flatview *)hops[i].view)) {
				/* Replaced while we translated: stale already. */
				release(c);
				c->stale = true;
				ms__rcu_read_unlock();
				return;
			}
			c->hops[i] = hops[i];
			c->nr_hops = (unsigned)i + 1;
		}
		c->tracked = true;
	}
	if (c->tracked && rc == 0 && res.range && res.len == c->len &&
	    c->len - 1 <= res.range->last - res.addr) {
		const ms__range *r = res.range;
		bool readable = !res.translated || (res.perm & MS_IOMMU_RO);

		bool memory = r->region->ram != NULL; /* not layout-only RAM */

		c->direct_read = memory && readable && ms__access_is_direct(r, false);
		c->direct_write = memory && c->is_write && ms__access_is_direct(r, true);
		if (c->direct_read || c->direct_write) {
			c->region = r->region;
			c->region_offset = r->offset_in_region + (res.addr - r->start);
			c->ptr = (uint8_t *)r->region->ram + c->region_offset;
		}
	}
	ms__rcu_read_unlock();
}

static bool fresh(const ms__cache_priv *c)
{
	for (unsigned i = 0; i < c->nr_hops; i++) {
		const ms__resolve_hop *h = &c->hops[i];

		if (ms__deref(h->as->view) != h->view)
			return false;
		if (h->iommu && ms__iommu_notify_gen(h->iommu) != h->gen)
			return false;
	}
	return true;
}

/*
 * Host memory for [offset, offset + len) of the stretch in direction
 * @is_write, or NULL for the slow path. Translates again when stale.
 */
static uint8_t *direct(ms__cache_priv *c, uint64_t offset, bool is_write)
{
	if (c->stale || (c->tracked && !fresh(c)))
		translate(c);
	/* Untracked (a path too long to track): always the slow path. */
	if (!(is_write ? c->direct_write : c->direct_read))
		return NULL;
	return c->ptr + offset;
}

static bool inside(const ms__cache_priv *c, uint64_t offset, uint64_t len)
{
	return c->as && len <= c->len && offset <= c->len - len;
}

int ms_cache_init(ms_cache *cache, ms_as *as, uint64_t addr, uint64_t len, bool is_write)
{
	if (!cache)
		return -EINVAL;
	memset(cache, 0, sizeof(*cache));
	if (!as || len == 0 || addr + (len - 1) < addr)
		return -EINVAL;
	ms__cache_state(cache)->as = as;
	ms__cache_state(cache)->addr = addr;
	ms__cache_state(cache)->len = len;
	ms__cache_state(cache)->is_write = is_write;
	translate(ms__cache_state(cache));
	return 0;
}

void ms_cache_destroy(ms_cache *cache)
{
	if (!cache)
		return;
	release(ms__cache_state(cache));
	memset(cache, 0, sizeof(*cache));
}

void ms_cache_invalidate(ms_cache *cache)
{
	if (!cache || !ms__cache_state(cache)->as)
		return;
	release(ms__cache_state(cache));
	ms__cache_state(cache)->stale = true;
}

bool ms_cache_is_direct(const ms_cache *cache, bool is_write)
{
	return cache && (is_write ? ms__cache_cstate(cache)->direct_write
				  : ms__cache_cstate(cache)->direct_read);
}

ms_result ms_cache_read(ms_cache *cache, uint64_t offset, void *buf, size_t len)
{
	uint8_t *p;

	if (!buf && len)
		return MS_RESULT_ACCESS_ERROR;
	if (!cache) {
		if (len)
			memset(buf, 0, len); /* a refused read reads zeros */
		return MS_RESULT_ACCESS_ERROR;
	}
	if (len == 0)
		return MS_RESULT_OK;
	if (!inside(ms__cache_state(cache), offset, len)) {
		memset(buf, 0, len);
		return MS_RESULT_ACCESS_ERROR;
	}
	p = direct(ms__cache_state(cache), offset, false);
	if (p) {
		memcpy(buf, p, len);
		return MS_RESULT_OK;
	}
	return ms_as_read(ms__cache_state(cache)->as, ms__cache_state(cache)->addr + offset,
			  MS_ATTRS_UNSPECIFIED, buf, len);
}

ms_result ms_cache_write(ms_cache *cache, uint64_t offset, const void *buf, size_t len)
{
	uint8_t *p;

	if (!cache || (!buf && len))
		return MS_RESULT_ACCESS_ERROR;
	if (len == 0)
		return MS_RESULT_OK;
	if (!inside(ms__cache_state(cache), offset, len))
		return MS_RESULT_ACCESS_ERROR;
	p = direct(ms__cache_state(cache), offset, true);
	if (p) {
		memcpy(p, buf, len);
		ms__map_mark_dirty(ms__cache_state(cache)->region,
				   ms__cache_state(cache)->region_offset + offset, len);
		return MS_RESULT_OK;
	}
	return ms_as_write(ms__cache_state(cache)->as, ms__cache_state(cache)->addr + offset,
			   MS_ATTRS_UNSPECIFIED, buf, len);
}

/* ---- scalars ------------------------------------------------------------------ */

/*
 * One scalar: the fast path copies straight from host memory; the slow
 * path is the address space's own scalar access, so a device in one range
 * sees one access of that width.
 */
static uint64_t load(ms__cache_priv *c, uint64_t offset, unsigned size, bool big_endian,
		     ms_result *result)
{
	uint8_t bytes[8] = {0};
	ms_result res = MS_RESULT_ACCESS_ERROR;
	uint64_t value = 0;
	uint8_t *p;

	if (c && inside(c, offset, size)) {
		p = direct(c, offset, false);
		if (p) {
			memcpy(bytes, p, size);
			value = ms__bytes_to_value(bytes, size, big_endian);
			res = MS_RESULT_OK;
		} else {
			uint64_t addr = c->addr + offset;
			ms_attrs attrs = MS_ATTRS_UNSPECIFIED;

			switch (size) {
			case 1:
				value = ms_as_ldub(c->as, addr, attrs, &res);
				break;
			case 2:
				value = big_endian ? ms_as_lduw_be(c->as, addr, attrs, &res)
						   : ms_as_lduw_le(c->as, addr, attrs, &res);
				break;
			case 4:
				value = big_endian ? ms_as_ldl_be(c->as, addr, attrs, &res)
						   : ms_as_ldl_le(c->as, addr, attrs, &res);
				break;
			default:
				value = big_endian ? ms_as_ldq_be(c->as, addr, attrs, &res)
						   : ms_as_ldq_le(c->as, addr, attrs, &res);
				break;
			}
		}
	}
	if (result)
		*result = res;
	return value;
}

static ms_result store(ms__cache_priv *c, uint64_t offset, unsigned size, bool big_endian,
		       uint64_t value)
{
	uint64_t addr;
	ms_attrs attrs = MS_ATTRS_UNSPECIFIED;
	uint8_t *p;

	if (!c || !inside(c, offset, size))
		return MS_RESULT_ACCESS_ERROR;
	p = direct(c, offset, true);
	if (p) {
		uint8_t bytes[8];

		ms__value_to_bytes(bytes, size, value, big_endian);
		memcpy(p, bytes, size);
		ms__map_mark_dirty(c->region, c->region_offset + offset, size);
		return MS_RESULT_OK;
	}
	addr = c->addr + offset;
	switch (size) {
	case 1:
		return ms_as_stb(c->as, addr, attrs, (uint8_t)value);
	case 2:
		return big_endian ? ms_as_stw_be(c->as, addr, attrs, (uint16_t)value)
				  : ms_as_stw_le(c->as, addr, attrs, (uint16_t)value);
	case 4:
		return big_endian ? ms_as_stl_be(c->as, addr, attrs, (uint32_t)value)
				  : ms_as_stl_le(c->as, addr, attrs, (uint32_t)value);
	default:
		return big_endian ? ms_as_stq_be(c->as, addr, attrs, value)
				  : ms_as_stq_le(c->as, addr, attrs, value);
	}
}

uint8_t ms_cache_ldub(ms_cache *cache, uint64_t offset, ms_result *result)
{
	return (uint8_t)load(ms__cache_state(cache), offset, 1, false, result);
}

uint16_t ms_cache_lduw_le(ms_cache *cache, uint64_t offset, ms_result *result)
{
	return (uint16_t)load(ms__cache_state(cache), offset, 2, false, result);
}

uint16_t ms_cache_lduw_be(ms_cache *cache, uint64_t offset, ms_result *result)
{
	return (uint16_t)load(ms__cache_state(cache), offset, 2, true, result);
}

uint32_t ms_cache_ldl_le(ms_cache *cache, uint64_t offset, ms_result *result)
{
	return (uint32_t)load(ms__cache_state(cache), offset, 4, false, result);
}

uint32_t ms_cache_ldl_be(ms_cache *cache, uint64_t offset, ms_result *result)
{
	return (uint32_t)load(ms__cache_state(cache), offset, 4, true, result);
}

uint64_t ms_cache_ldq_le(ms_cache *cache, uint64_t offset, ms_result *result)
{
	return load(ms__cache_state(cache), offset, 8, false, result);
}

uint64_t ms_cache_ldq_be(ms_cache *cache, uint64_t offset, ms_result *result)
{
	return load(ms__cache_state(cache), offset, 8, true, result);
}

ms_result ms_cache_stb(ms_cache *cache, uint64_t offset, uint8_t val)
{
	return store(ms__cache_state(cache), offset, 1, false, val);
}

ms_result ms_cache_stw_le(ms_cache *cache, uint64_t offset, uint16_t val)
{
	return store(ms__cache_state(cache), offset, 2, false, val);
}

ms_result ms_cache_stw_be(ms_cache *cache, uint64_t offset, uint16_t val)
{
	return store(ms__cache_state(cache), offset, 2, true, val);
}

ms_result ms_cache_stl_le(ms_cache *cache, uint64_t offset, uint32_t val)
{
	return store(ms__cache_state(cache), offset, 4, false, val);
}

ms_result ms_cache_stl_be(ms_cache *cache, uint64_t offset, uint32_t val)
{
	return store(ms__cache_state(cache), offset, 4, true, val);
}

ms_result ms_cache_stq_le(ms_cache *cache, uint64_t offset, uint64_t val)
{
	return store(ms__cache_state(cache), offset, 8, false, val);
}

ms_result ms_cache_stq_be(ms_cache *cache, uint64_t offset, uint64_t val)
{
	return store(ms__cache_state(cache), offset, 8, true, val);
}
