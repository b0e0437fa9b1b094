/*
 * devtlb.c: the vhost-like device IOTLB (include/memspace/models/devtlb.h),
 * built only on the public API.
 *
 * The cache is a direct-mapped array of slots; a slot holds one whole
 * translation (an entry of ms_as_get_iotlb_entry(): page, mask, target and
 * permissions), and a lookup checks that the address lies in its page.
 * Translations of 4 KiB or more live in the slot of the address's 4 KiB
 * page number (hashed), smaller ones (a 32-byte MPC block) in the slot of its
 * 32-byte granule number (hashed), so that the small blocks of one page do
 * not evict each other; a lookup probes the first, then the second. A small
 * translation met through two granules may be cached twice: invalidation
 * walks every slot anyway.
 *
 * Windows: one per IOMMU range of the device address space's view, each
 * with a notifier over that range (IOMMU offsets) that converts events to
 * device addresses: start + (iova - offset_in_region).
 *
 * Hits read a slot without the lock (tlb_slot's sequence count); every
 * change of a slot happens under the mutex.
 *
 * The guarantee (devtlb.h) rests on a generation counter: every
 * invalidation bumps it under the mutex after dropping the entries it
 * covers, and a fill caches its answer only if the generation did not move
 * between the lookup that missed and the end of the fill. So an entry in
 * the cache after an invalidation came from a translation that began after
 * it, which saw the IOMMU's new state (the IOMMU changes its tables before
 * it notifies). A window whose notifier could not be registered (or a view
 * with too many IOMMU ranges) turns caching off until it goes away: an
 * IOMMU we cannot follow must not be cached.
 * Invariant: nr_cached counts the valid slots.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <memspace.h>
#include <memspace/models/devtlb.h>

#define SLOT_SHIFT 12 /* translations of 4 KiB or more: by page */
#define SMALL_SHIFT 5 /* smaller ones: by 32-byte granule */

/*
 * A slot, published with a sequence count: writers (under the cache's
 * mutex) make @seq odd, store the fields, and make it even again; a reader
 * without the mutex reads @seq, the fields, and @seq again, and uses what
 * it read only if @seq was even and did not move. Every field is accessed
 * atomically. @state is the permissions, with SLOT_VALID for a used slot.
 */
typedef struct tlb_slot {
	uint64_t seq;
	uint64_t state;
	uint64_t iova;
	uint64_t mask;
	uint64_t translated;
	ms_as *target;
} tlb_slot;

#define SLOT_VALID ((uint64_t)1 << 8)

typedef struct tlb_window {
	ms_devtlb *d;
	ms_region *iommu;            /* our reference */
	ms_iommu_notifier *notifier; /* NULL: not followed (caching is off) */
	uint64_t start, last;        /* device addresses */
	uint64_t offset_in_region;
	bool deviotlb;
} tlb_window;

struct ms_devtlb {
	ms_ctx *ctx;
	ms_as *as;
	ms_attrs attrs;
	ms_listener *listener;
	pthread_mutex_t lock;
	unsigned nr_slots;
	tlb_slot *slots;
	uint64_t gen;
	/* Counters: @hits and @faults atomic (the lock-free hit path counts them), the rest under @lock. */
	uint64_t hits, misses, faults, invalidations, dropped, nr_cached;
	/* Windows: changed only by listener callbacks (topology lock), read under @lock. */
	unsigned nr_windows;
	tlb_window *windows[MS_DEVTLB_MAX_IOMMUS];
	unsigned nr_unfollowed; /* windows without a notifier */
	bool overflow;          /* an IOMMU range found no window slot */
	bool view_changed;
	int last_error;
};

static bool intersects(uint64_t a0, uint64_t a1, uint64_t b0, uint64_t b1)
{
	return a0 <= b1 && b0 <= a1;
}

/* Store a slot (@state 0: empty it); @lock held. */
static void slot_store(tlb_slot *s, uint64_t state, const ms_iotlb_entry *e)
{
	uint64_t seq = __atomic_load_n(&s->seq, __ATOMIC_RELAXED);

	__atomic_store_n(&s->seq, seq + 1, __ATOMIC_RELAXED);
	/* Release stores: none of them moves before the odd count. */
	__atomic_store_n(&s->state, state, __ATOMIC_RELEASE);
	if (e) {
		__atomic_store_n(&s->iova, e->iova, __ATOMIC_RELEASE);
		__atomic_store_n(&s->mask, e->addr_mask, __ATOMIC_RELEASE);
		__atomic_store_n(&s->translated, e->translated_addr, __ATOMIC_RELEASE);
		__atomic_store_n(&s->target, e->target_as, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&s->seq, seq + 2, __ATOMIC_RELEASE);
}

/* Drop every slot meeting [first, last]; @lock held. */
static void invalidate_locked(ms_devtlb *d, uint64_t first, uint64_t last)
{
	for (unsigned i = 0; i < d->nr_slots && d->nr_cached; i++) {
		tlb_slot *s = &d->slots[i];
		uint64_t iova = __atomic_load_n(&s->iova, __ATOMIC_RELAXED);
		uint64_t mask = __atomic_load_n(&s->mask, __ATOMIC_RELAXED);

		if ((__atomic_load_n(&s->state, __ATOMIC_RELAXED) & SLOT_VALID) &&
		    intersects(iova, iova + mask, first, last)) {
			slot_store(s, 0, NULL);
			d->nr_cached--;
			d->dropped++;
		}
	}
	d->gen++;
	d->invalidations++;
}

static void invalidate(ms_devtlb *d, uint64_t first, uint64_t last)
{
	pthread_mutex_lock(&d->lock);
	invalidate_locked(d, first, last);
	pthread_mutex_unlock(&d->lock);
}

/* ---- following the IOMMUs ------------------------------------------------------- */

static int on_iommu_event(ms_iommu_notifier *n, const ms_iommu_event *ev, void *opaque)
{
	tlb_window *w = opaque;
	uint64_t off, first, last;

	(void)n;
	if (ev->type == MS_IOMMU_NOTIFIER_MAP)
		return 0; /* not registered for it; a miss fills */
	/* Cropped to the notifier's range, so inside the window; clamp anyway. */
	off = ev->entry.iova > w->offset_in_region ? ev->entry.iova - w->offset_in_region : 0;
	first = w->start + off;
	if (first > w->last)
		return 0;
	last = ev->entry.addr_mask > w->last - first ? w->last : first + ev->entry.addr_mask;
	invalidate(w->d, first, last);
	return 0;
}

static void window_free(tlb_window *w)
{
	ms_iommu_unregister_notifier(w->notifier);
	ms_region_unref(w->iommu);
	free(w);
}

static void on_region_add(const ms_section *sec, void *opaque)
{
	ms_devtlb *d = opaque;
	ms_iommu_notifier_opts opts = MS_IOMMU_NOTIFIER_OPTS_INIT;
	tlb_window *w;
	int idx, rc;

	d->view_changed = true;
	if (ms_region_get_kind(sec->region) != MS_REGION_IOMMU ||
	    ms_iommu_num_indexes(sec->region) == 0)
		return; /* no translation: nothing to follow */
	w = d->nr_windows < MS_DEVTLB_MAX_IOMMUS ? calloc(1, sizeof(*w)) : NULL;
	if (!w) {
		d->last_error = d->nr_windows < MS_DEVTLB_MAX_IOMMUS ? -ENOMEM : -ENOSPC;
		pthread_mutex_lock(&d->lock);
		d->overflow = true;
		pthread_mutex_unlock(&d->lock);
		return;
	}
	w->d = d;
	w->iommu = ms_region_ref(sec->region);
	w->start = sec->start;
	w->last = sec->last;
	w->offset_in_region = sec->offset_in_region;
	idx = ms_iommu_attrs_to_index(sec->region, d->attrs);
	rc = idx;
	if (idx >= 0) {
		opts.start = sec->offset_in_region;
		opts.end = sec->offset_in_region + (sec->last - sec->start);
		opts.iommu_idx = (unsigned)idx;
		opts.notify = on_iommu_event;
		opts.opaque = w;
		opts.flags = MS_IOMMU_NOTIFIER_UNMAP | MS_IOMMU_NOTIFIER_DEVIOTLB_UNMAP;
		rc = ms_iommu_register_notifier(&w->notifier, sec->region, &opts);
		w->deviotlb = rc == 0;
		if (rc < 0) {
			/* An IOMMU without device-IOTLB events: follow its UNMAPs. */
			opts.flags = MS_IOMMU_NOTIFIER_UNMAP;
			rc = ms_iommu_register_notifier(&w->notifier, sec->region, &opts);
		}
	}
	pthread_mutex_lock(&d->lock);
	if (rc < 0) {
		w->notifier = NULL;
		d->last_error = rc;
		d->nr_unfollowed++;
	}
	d->windows[d->nr_windows++] = w;
	invalidate_locked(d, 0, UINT64_MAX);
	pthread_mutex_unlock(&d->lock);
}

static void on_region_del(const ms_section *sec, void *opaque)
{
	ms_devtlb *d = opaque;
	tlb_window *w = NULL;

	d->view_changed = true;
	pthread_mutex_lock(&d->lock);
	for (unsigned i = 0; i < d->nr_windows; i++) {
		if (d->windows[i]->iommu == sec->region && d->windows[i]->start == sec->start) {
			w = d->windows[i];
			d->windows[i] = d->windows[--d->nr_windows];
			if (!w->notifier)
				d->nr_unfollowed--;
			break;
		}
	}
	invalidate_locked(d, 0, UINT64_MAX);
	pthread_mutex_unlock(&d->lock);
	if (w)
		window_free(w);
}

/* The new view is published before listeners run: flush after it too. */
static void on_commit(void *opaque)
{
	ms_devtlb *d = opaque;

	if (!d->view_changed)
		return;
	d->view_changed = false;
	invalidate(d, 0, UINT64_MAX);
}

static const ms_listener_ops devtlb_listener_ops = {
	.version = MS_LISTENER_OPS_VERSION,
	.region_add = on_region_add,
	.region_del = on_region_del,
	.commit = on_commit,
};

/* ---- the cache ------------------------------------------------------------------ */

int ms_devtlb_new(ms_devtlb **out, ms_ctx *ctx, const ms_devtlb_opts *opts)
{
	unsigned n;
	ms_devtlb *d;
	int rc;

	if (out)
		*out = NULL;
	if (!out || !ctx || !opts || !opts->as || ms_as_ctx(opts->as) != ctx)
		return -EINVAL;
	n = opts->nr_entries ? opts->nr_entries : MS_DEVTLB_DEFAULT_ENTRIES;
	if ((n & (n - 1)) || n > MS_DEVTLB_MAX_ENTRIES)
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->slots = calloc(n, sizeof(*d->slots));
	if (!d->slots || pthread_mutex_init(&d->lock, NULL) != 0) {
		free(d->slots);
		free(d);
		return -ENOMEM;
	}
	d->ctx = ctx;
	d->as = opts->as;
	d->attrs = opts->attrs;
	d->nr_slots = n;
	rc = ms_listener_register(&d->listener, d->as, &devtlb_listener_ops, d);
	if (rc == 0 && d->last_error < 0) {
		rc = d->last_error;
		(void)ms_listener_unregister(d->listener);
	}
	if (rc < 0) {
		pthread_mutex_destroy(&d->lock);
		free(d->slots);
		free(d);
		return rc;
	}
	d->invalidations = 0; /* the registration's flushes are not the device's */
	*out = d;
	return 0;
}

void ms_devtlb_free(ms_devtlb *d)
{
	if (!d)
		return;
	(void)ms_listener_unregister(d->listener); /* region_del frees each window */
	pthread_mutex_destroy(&d->lock);
	free(d->slots);
	free(d);
}

/*
 * The slot of a 4 KiB page: its number with the higher parts folded onto
 * the low bits. Contiguous pages of one aligned block of nr_slots pages
 * keep distinct slots, as with plain direct mapping, while pages at the
 * same offset of different windows (a guest's buffers at scattered 2 MiB
 * or 1 GiB slots) no longer all meet in the same few slots.
 */
static tlb_slot *big_slot(ms_devtlb *d, uint64_t addr)
{
	unsigned bits = (unsigned)__builtin_ctz(d->nr_slots);
	uint64_t pn = addr >> SLOT_SHIFT, h = pn;

	if (bits)
		for (unsigned sh = bits; sh < 64; sh += bits)
			h ^= pn >> sh;
	return &d->slots[h & (d->nr_slots - 1)];
}

static tlb_slot *small_slot(ms_devtlb *d, uint64_t addr)
{
	uint64_t g = addr >> SMALL_SHIFT;

	return &d->slots[(g ^ (g >> 7) ^ (g >> 17)) & (d->nr_slots - 1)];
}

/*
 * Read slot @s into *@out if it translates @addr. Without the lock: false
 * also when a writer is changing the slot (the caller then takes the lock).
 */
static bool slot_read(const tlb_slot *s, uint64_t addr, ms_iotlb_entry *out)
{
	uint64_t seq = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE), state;

	if (seq & 1)
		return false;
	/* Acquire loads: the second read of the count cannot move before them. */
	state = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
	out->iova = __atomic_load_n(&s->iova, __ATOMIC_ACQUIRE);
	out->addr_mask = __atomic_load_n(&s->mask, __ATOMIC_ACQUIRE);
	out->translated_addr = __atomic_load_n(&s->translated, __ATOMIC_ACQUIRE);
	out->target_as = __atomic_load_n(&s->target, __ATOMIC_ACQUIRE);
	if (__atomic_load_n(&s->seq, __ATOMIC_RELAXED) != seq)
		return false;
	out->perm = (ms_iommu_perm)(state & MS_IOMMU_RW);
	return (state & SLOT_VALID) && (addr & ~out->addr_mask) == out->iova;
}

/* The hit: its permissions decide. */
static int hit(ms_devtlb *d, ms_iotlb_entry *out, ms_iommu_perm need)
{
	__atomic_add_fetch(&d->hits, 1, __ATOMIC_RELAXED);
	if (out->perm & need)
		return 0;
	__atomic_add_fetch(&d->faults, 1, __ATOMIC_RELAXED);
	memset(out, 0, sizeof(*out));
	return -EACCES;
}

static int xlate(ms_iotlb_entry *out, ms_devtlb *d, uint64_t addr, bool is_write)
{
	ms_iommu_perm need = is_write ? MS_IOMMU_WO : MS_IOMMU_RO;
	tlb_slot *s;
	uint64_t gen;
	int rc;

	/* The hit path takes no lock. */
	if (slot_read(big_slot(d, addr), addr, out) || slot_read(small_slot(d, addr), addr, out))
		return hit(d, out, need);
	/* A miss, or a slot being written: look again under the lock. */
	pthread_mutex_lock(&d->lock);
	if (slot_read(big_slot(d, addr), addr, out) || slot_read(small_slot(d, addr), addr, out)) {
		pthread_mutex_unlock(&d->lock);
		return hit(d, out, need);
	}
	d->misses++;
	gen = d->gen;
	pthread_mutex_unlock(&d->lock);

	rc = ms_as_get_iotlb_entry(out, d->as, addr, is_write, d->attrs);

	pthread_mutex_lock(&d->lock);
	if (rc < 0) {
		__atomic_add_fetch(&d->faults, 1, __ATOMIC_RELAXED);
	} else if (d->gen == gen && !d->nr_unfollowed && !d->overflow) {
		s = out->addr_mask >= ((uint64_t)1 << SLOT_SHIFT) - 1 ? big_slot(d, addr)
								      : small_slot(d, addr);
		if (!(__atomic_load_n(&s->state, __ATOMIC_RELAXED) & SLOT_VALID))
			d->nr_cached++;
		slot_store(s, SLOT_VALID | (uint64_t)out->perm, out);
	}
	pthread_mutex_unlock(&d->lock);
	return rc;
}

int ms_devtlb_translate(ms_iotlb_entry *out, ms_devtlb *d, uint64_t addr, bool is_write)
{
	if (out)
		memset(out, 0, sizeof(*out));
	if (!out || !d)
		return -EINVAL;
	return xlate(out, d, addr, is_write);
}

static ms_result dma(ms_devtlb *d, uint64_t addr, uint8_t *buf, size_t len, bool is_write)
{
	ms_result res = MS_RESULT_OK;

	while (len) {
		ms_iotlb_entry e;
		uint64_t room, xaddr;
		size_t chunk;
		int rc = xlate(&e, d, addr, is_write);

		if (rc < 0) {
			if (!is_write)
				memset(buf, 0, len);
			return res |
			       (rc == -ENOENT ? MS_RESULT_DECODE_ERROR : MS_RESULT_ACCESS_ERROR);
		}
		room = e.addr_mask - (addr & e.addr_mask); /* bytes left in the page, - 1 */
		chunk = (uint64_t)(len - 1) <= room ? len : (size_t)(room + 1);
		xaddr = (e.translated_addr & ~e.addr_mask) | (addr & e.addr_mask);
		if (is_write)
			res |= ms_as_write(e.target_as, xaddr, d->attrs, buf, chunk);
		else
			res |= ms_as_read(e.target_as, xaddr, d->attrs, buf, chunk);
		buf += chunk;
		len -= chunk;
		addr += chunk;
		if (len && addr == 0) { /* past the top of the 64-bit space */
			if (!is_write)
				memset(buf, 0, len);
			return res | MS_RESULT_DECODE_ERROR;
		}
	}
	return res;
}

ms_result ms_devtlb_read(ms_devtlb *d, uint64_t addr, void *buf, size_t len)
{
	if (!d || (!buf && len))
		return MS_RESULT_ACCESS_ERROR;
	return dma(d, addr, buf, len, false);
}

ms_result ms_devtlb_write(ms_devtlb *d, uint64_t addr, const void *buf, size_t len)
{
	if (!d || (!buf && len))
		return MS_RESULT_ACCESS_ERROR;
	return dma(d, addr, (uint8_t *)(uintptr_t)buf, len, true);
}

int ms_devtlb_flush(ms_devtlb *d)
{
	if (!d)
		return -EINVAL;
	invalidate(d, 0, UINT64_MAX);
	return 0;
}

int ms_devtlb_get_stats(ms_devtlb_stats *out, ms_devtlb *d)
{
	if (out)
		memset(out, 0, sizeof(*out));
	if (!out || !d)
		return -EINVAL;
	pthread_mutex_lock(&d->lock);
	out->hits = __atomic_load_n(&d->hits, __ATOMIC_RELAXED);
	out->misses = d->misses;
	out->faults = __atomic_load_n(&d->faults, __ATOMIC_RELAXED);
	out->invalidations = d->invalidations;
	out->entries_dropped = d->dropped;
	out->nr_cached = d->nr_cached;
	out->nr_entries = d->nr_slots;
	out->nr_iommus = d->nr_windows;
	for (unsigned i = 0; i < d->nr_windows; i++)
		out->nr_deviotlb += d->windows[i]->deviotlb;
	pthread_mutex_unlock(&d->lock);
	return 0;
}
