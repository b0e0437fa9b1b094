/*
 * vfio.c: the VFIO-like container (include/memspace/models/vfio.h), built
 * only on the public API.
 *
 * A container follows its group's address space with a listener. Each
 * IOMMU range of the view becomes a window: a notifier on the IOMMU
 * covering the range, and a slot per page of the IOMMU's minimum page size.
 * A present slot holds a live ms_as_map() mapping of one whole page of the
 * target address space, which is RAM used in place: the pointer is the
 * pin (the mapping holds a reference on the RAM region) and ms_as_unmap()
 * is the release. Dirty tracking uses ms_region_set_dirty() (the device's
 * accesses bypass the library): ms_vfio_dma_rw() marks the bytes it writes,
 * and a writable slot marks its whole page when released.
 * Invariants: a slot is present iff perm != NONE, iff it holds a mapping
 * of exactly one page; window->nr_mapped counts present slots; windows are
 * sorted by bus address and disjoint (they are ranges of one view).
 *
 * Locking: the topology lock (held by every listener and notifier
 * callback) serialises changes; the container's mutex is taken, inside it,
 * around every change of the windows and slots, and alone by
 * ms_vfio_dma_rw() and ms_vfio_get_info(), which read them.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <memspace.h>
#include <memspace/models/tce.h>
#include <memspace/models/vfio.h>

typedef struct shadow_slot {
	void *host;         /* the page's host pointer (the ms_as_map() result) */
	uint64_t gpa;       /* its address in the target */
	ms_as *target;      /* the address space it was mapped in */
	ms_region *region;  /* the RAM region (the mapping holds a reference) */
	uint64_t offset;    /* the page's offset in @region */
	ms_iommu_perm perm; /* NONE: empty slot */
} shadow_slot;

typedef struct vfio_window {
	ms_vfio_container *container;
	ms_region *iommu; /* our reference */
	ms_iommu_notifier *notifier;
	uint64_t start, last;      /* bus addresses */
	uint64_t offset_in_region; /* IOMMU offset of @start */
	uint64_t page_size;
	uint64_t page_sizes; /* what get_info reports for it */
	uint64_t npages;
	uint64_t nr_mapped;
	shadow_slot *slots;
} vfio_window;

struct ms_vfio_container {
	ms_ctx *ctx;
	ms_as *group;
	ms_listener *listener;
	pthread_mutex_t lock;
	unsigned nr_windows;
	vfio_window *windows[MS_VFIO_MAX_WINDOWS];
	uint64_t dirty_bytes;
	int last_error;
};

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* ---- pinning ------------------------------------------------------------------- */

/*
 * Refuse what cannot be used in place: the page must be RAM (RAM, RAM at a
 * pointer; ROM and a ROM device in romd mode for a read-only mapping).
 */
static int check_target(ms_as *as, uint64_t gpa, bool is_write, void **expect, ms_region **region,
			uint64_t *offset)
{
	ms_section sec;
	uint64_t len = 1;
	bool ok;
	int rc;

	ms_rcu_read_lock();
	rc = ms_as_translate(
		&sec, &len, as, gpa,
		&(ms_access_opts){.is_write = is_write, .attrs = MS_ATTRS_UNSPECIFIED});
	if (rc < 0) {
		ms_rcu_read_unlock();
		return -EFAULT;
	}
	switch (ms_region_get_kind(sec.region)) {
	case MS_REGION_RAM:
	case MS_REGION_RAM_PTR:
		ok = !(is_write && sec.readonly);
		break;
	case MS_REGION_ROM:
		ok = !is_write;
		break;
	case MS_REGION_ROM_DEVICE:
		ok = !is_write && sec.romd;
		break;
	default:
		ok = false; /* MMIO, RAM device, reservation */
		break;
	}
	*expect = ok ? (uint8_t *)ms_region_ram_ptr(sec.region) + sec.offset_in_region : NULL;
	*region = sec.region;
	*offset = sec.offset_in_region;
	ms_rcu_read_unlock();
	return ok ? 0 : -EFAULT;
}

/*
 * Release a page. A writable page is dirty on release: the device may have
 * written it at any time through its own pointer (as a real VFIO device
 * does by DMA), so the whole page is marked for the clients logging its
 * region, while the mapping's reference still keeps the region alive.
 */
static void unpin(vfio_window *w, shadow_slot *s)
{
	bool is_write = (s->perm & MS_IOMMU_WO) != 0;

	if (is_write) {
		(void)ms_region_set_dirty(s->region, s->offset, w->page_size);
		w->container->dirty_bytes += w->page_size;
	}
	(void)ms_as_unmap(s->target, s->host, w->page_size, is_write, 0);
	memset(s, 0, sizeof(*s));
	w->nr_mapped--;
}

static int pin(vfio_window *w, shadow_slot *s, ms_as *as, uint64_t gpa, ms_iommu_perm perm)
{
	bool is_write = (perm & MS_IOMMU_WO) != 0;
	uint64_t len = w->page_size;
	void *expect, *host;
	ms_region *region;
	uint64_t offset;
	int rc;

	rc = check_target(as, gpa, is_write, &expect, &region, &offset);
	if (rc < 0)
		return rc;
	host = ms_as_map(as, gpa, &len, is_write, MS_ATTRS_UNSPECIFIED);
	if (!host)
		return len == 0 ? -EFAULT : -ENOMEM;
	if (host != expect || len != w->page_size) {
		/* A bounce buffer, or a page that is not one RAM region. */
		(void)ms_as_unmap(as, host, len, is_write, 0);
		return -EFAULT;
	}
	s->host = host;
	s->gpa = gpa;
	s->target = as;
	s->region = region;
	s->offset = offset;
	s->perm = perm;
	w->nr_mapped++;
	return 0;
}

/* ---- notifier ------------------------------------------------------------------ */

static int on_iommu_event(ms_iommu_notifier *n, const ms_iommu_event *ev, void *opaque)
{
	vfio_window *w = opaque;
	ms_vfio_container *c = w->container;
	uint64_t first, last, off;
	int rc = 0;

	(void)n;
	/* The notifier's range is the window's, so the event lies inside it. */
	off = ev->entry.iova - w->offset_in_region;
	first = off / w->page_size;
	last = (off + ev->entry.addr_mask) / w->page_size;
	if (last >= w->npages)
		last = w->npages - 1;
	pthread_mutex_lock(&c->lock);
	if (ev->type != MS_IOMMU_NOTIFIER_MAP) {
		for (uint64_t i = first; i <= last; i++)
			if (w->slots[i].perm != MS_IOMMU_NONE)
				unpin(w, &w->slots[i]);
		pthread_mutex_unlock(&c->lock);
		return 0;
	}
	if ((off & (w->page_size - 1)) || ((ev->entry.addr_mask + 1) & (w->page_size - 1)) ||
	    !ev->entry.target_as) {
		rc = -EINVAL; /* not whole pages: cannot be shadowed */
	} else {
		for (uint64_t i = first; i <= last; i++) {
			uint64_t gpa = ev->entry.translated_addr + (i - first) * w->page_size;

			if (w->slots[i].perm != MS_IOMMU_NONE)
				unpin(w, &w->slots[i]); /* a bare MAP over a mapping */
			rc = pin(w, &w->slots[i], ev->entry.target_as, gpa, ev->entry.perm);
			if (rc < 0) {
				while (i-- > first)
					unpin(w, &w->slots[i]);
				break;
			}
		}
	}
	if (rc < 0)
		c->last_error = rc;
	pthread_mutex_unlock(&c->lock);
	return rc;
}

/* ---- windows ------------------------------------------------------------------- */

static void window_release(vfio_window *w)
{
	ms_vfio_container *c = w->container;

	ms_iommu_unregister_notifier(w->notifier);
	pthread_mutex_lock(&c->lock);
	for (uint64_t i = 0; w->nr_mapped && i < w->npages; i++)
		if (w->slots[i].perm != MS_IOMMU_NONE)
			unpin(w, &w->slots[i]);
	pthread_mutex_unlock(&c->lock);
	ms_region_unref(w->iommu);
	free(w->slots);
	free(w);
}

static void window_unlink(ms_vfio_container *c, vfio_window *w)
{
	unsigned i;

	pthread_mutex_lock(&c->lock);
	for (i = 0; i < c->nr_windows && c->windows[i] != w; i++)
		;
	if (i < c->nr_windows) {
		memmove(&c->windows[i], &c->windows[i + 1],
			(c->nr_windows - i - 1) * sizeof(c->windows[0]));
		c->nr_windows--;
	}
	pthread_mutex_unlock(&c->lock);
}

static int window_add(ms_vfio_container *c, const ms_section *sec)
{
	ms_iommu_notifier_opts opts = MS_IOMMU_NOTIFIER_OPTS_INIT;
	uint64_t page = ms_iommu_get_min_page_size(sec->region);
	uint64_t span = sec->last - sec->start; /* bytes - 1 */
	ms_tce_table_info info;
	vfio_window *w;
	unsigned i;
	int rc;

	if (!is_pow2(page) || (sec->start & (page - 1)) || (sec->offset_in_region & (page - 1)) ||
	    ((span + 1) & (page - 1)))
		return -EINVAL;
	if (span / page >= MS_VFIO_MAX_PAGES)
		return -E2BIG;
	if (c->nr_windows == MS_VFIO_MAX_WINDOWS)
		return -ENOSPC;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->npages = span / page + 1;
	w->slots = calloc(w->npages, sizeof(*w->slots));
	if (!w->slots) {
		free(w);
		return -ENOMEM;
	}
	w->container = c;
	w->iommu = ms_region_ref(sec->region);
	w->start = sec->start;
	w->last = sec->last;
	w->offset_in_region = sec->offset_in_region;
	w->page_size = page;
	w->page_sizes = ms_iommu_get_attr(sec->region, MS_TCE_ATTR_TABLE_INFO, &info) == 0
				? info.page_sizes
				: page;
	opts.flags = MS_IOMMU_NOTIFIER_IOTLB_EVENTS;
	opts.start = sec->offset_in_region;
	opts.end = sec->offset_in_region + span;
	opts.notify = on_iommu_event;
	opts.opaque = w;
	rc = ms_iommu_register_notifier(&w->notifier, sec->region, &opts);
	if (rc < 0) {
		w->notifier = NULL;
		window_release(w);
		return rc;
	}
	pthread_mutex_lock(&c->lock);
	for (i = c->nr_windows; i > 0 && c->windows[i - 1]->start > w->start; i--)
		c->windows[i] = c->windows[i - 1];
	c->windows[i] = w;
	c->nr_windows++;
	pthread_mutex_unlock(&c->lock);
	rc = ms_iommu_replay(sec->region, w->notifier);
	if (rc < 0) {
		window_unlink(c, w);
		window_release(w);
	}
	return rc;
}

static void on_region_add(const ms_section *sec, void *opaque)
{
	ms_vfio_container *c = opaque;
	int rc;

	if (ms_region_get_kind(sec->region) != MS_REGION_IOMMU ||
	    ms_iommu_num_indexes(sec->region) == 0)
		return; /* not an IOMMU with a class: nothing to shadow */
	rc = window_add(c, sec);
	if (rc < 0)
		c->last_error = rc;
}

static void on_region_del(const ms_section *sec, void *opaque)
{
	ms_vfio_container *c = opaque;

	for (unsigned i = 0; i < c->nr_windows; i++) {
		vfio_window *w = c->windows[i];

		if (w->iommu == sec->region && w->start == sec->start) {
			window_unlink(c, w);
			window_release(w);
			return;
		}
	}
}

static const ms_listener_ops vfio_listener_ops = {
	.version = MS_LISTENER_OPS_VERSION,
	.region_add = on_region_add,
	.region_del = on_region_del,
};

/* ---- the container ------------------------------------------------------------- */

int ms_vfio_container_new(ms_vfio_container **out, ms_ctx *ctx)
{
	ms_vfio_container *c;

	if (out)
		*out = NULL;
	if (!out || !ctx)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	if (pthread_mutex_init(&c->lock, NULL) != 0) {
		free(c);
		return -ENOMEM;
	}
	c->ctx = ctx;
	*out = c;
	return 0;
}

void ms_vfio_container_free(ms_vfio_container *c)
{
	if (!c)
		return;
	if (c->group)
		(void)ms_vfio_detach(c, c->group);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

int ms_vfio_attach(ms_vfio_container *c, ms_as *group)
{
	ms_listener *l = NULL;
	int rc;

	if (!c || !group || ms_as_ctx(group) != c->ctx)
		return -EINVAL;
	if (c->group)
		return -EBUSY;
	c->last_error = 0;
	rc = ms_listener_register(&l, group, &vfio_listener_ops, c);
	if (rc < 0)
		return rc;
	if (c->last_error < 0) {
		rc = c->last_error;
		(void)ms_listener_unregister(l);
		return rc;
	}
	c->listener = l;
	c->group = group;
	return 0;
}

int ms_vfio_detach(ms_vfio_container *c, ms_as *group)
{
	int rc;

	if (!c)
		return -EINVAL;
	if (!group || group != c->group)
		return -ENOENT;
	rc = ms_listener_unregister(c->listener); /* region_del releases each window */
	if (rc < 0)
		return rc;
	c->listener = NULL;
	c->group = NULL;
	return 0;
}

int ms_vfio_get_info(ms_vfio_info *out, ms_vfio_container *c)
{
	if (out)
		memset(out, 0, sizeof(*out));
	if (!out || !c)
		return -EINVAL;
	pthread_mutex_lock(&c->lock);
	out->nr_windows = c->nr_windows;
	for (unsigned i = 0; i < c->nr_windows; i++) {
		const vfio_window *w = c->windows[i];

		out->windows[i].iova_start = w->start;
		out->windows[i].iova_last = w->last;
		out->windows[i].page_size = w->page_size;
		out->windows[i].nr_mapped = w->nr_mapped;
		out->page_sizes |= w->page_sizes;
	}
	pthread_mutex_unlock(&c->lock);
	return 0;
}

/* The slot holding @iova, or NULL; container lock held. */
static shadow_slot *find_slot(ms_vfio_container *c, uint64_t iova, vfio_window **wout)
{
	for (unsigned i = 0; i < c->nr_windows; i++) {
		vfio_window *w = c->windows[i];

		if (iova >= w->start && iova <= w->last) {
			*wout = w;
			return &w->slots[(iova - w->start) / w->page_size];
		}
	}
	return NULL;
}

int ms_vfio_dma_rw(ms_vfio_container *c, uint64_t iova, void *buf, size_t len, bool is_write)
{
	ms_iommu_perm need = is_write ? MS_IOMMU_WO : MS_IOMMU_RO;
	int rc = 0;

	if (!c || (!buf && len))
		return -EINVAL;
	if (len && len - 1 > UINT64_MAX - iova)
		return -EFAULT; /* past the top of the bus */
	pthread_mutex_lock(&c->lock);
	/* Two passes: check every page, then copy, so a failure copies nothing. */
	for (int pass = 0; pass < 2 && rc == 0; pass++) {
		uint64_t addr = iova;
		size_t done = 0;

		while (done < len) {
			vfio_window *w = NULL;
			shadow_slot *s = find_slot(c, addr, &w);
			uint64_t in_page, chunk;

			if (!s || s->perm == MS_IOMMU_NONE) {
				rc = -EFAULT;
				break;
			}
			if (!(s->perm & need)) {
				rc = -EACCES;
				break;
			}
			in_page = (addr - w->start) & (w->page_size - 1);
			chunk = w->page_size - in_page;
			if (chunk > len - done)
				chunk = len - done;
			if (pass == 1) {
				uint8_t *host = (uint8_t *)s->host + in_page;

				if (is_write) {
					/* Bytes first, then the bits (dirty.h). */
					memcpy(host, (const uint8_t *)buf + done, (size_t)chunk);
					(void)ms_region_set_dirty(s->region, s->offset + in_page,
								  chunk);
				} else
					memcpy((uint8_t *)buf + done, host, (size_t)chunk);
			}
			done += (size_t)chunk;
			addr += chunk;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

uint64_t ms_vfio_nr_mapped(ms_vfio_container *c)
{
	uint64_t n = 0;

	if (!c)
		return 0;
	pthread_mutex_lock(&c->lock);
	for (unsigned i = 0; i < c->nr_windows; i++)
		n += c->windows[i]->nr_mapped;
	pthread_mutex_unlock(&c->lock);
	return n;
}

uint64_t ms_vfio_dirty_bytes(ms_vfio_container *c)
{
	uint64_t n;

	if (!c)
		return 0;
	pthread_mutex_lock(&c->lock);
	n = c->dirty_bytes;
	pthread_mutex_unlock(&c->lock);
	return n;
}

int ms_vfio_last_error(ms_vfio_container *c)
{
	int rc;

	if (!c)
		return -EINVAL;
	pthread_mutex_lock(&c->lock);
	rc = c->last_error;
	pthread_mutex_unlock(&c->lock);
	return rc;
}

/* ---- invariant ----------------------------------------------------------------- */

typedef struct check_state {
	vfio_window *w;
	uint64_t pages;
	bool mismatch;
} check_state;

static int on_check_event(ms_iommu_notifier *n, const ms_iommu_event *ev, void *opaque)
{
	check_state *st = opaque;
	vfio_window *w = st->w;
	uint64_t off = ev->entry.iova - w->offset_in_region;
	uint64_t first = off / w->page_size;
	uint64_t count = (ev->entry.addr_mask + 1) / w->page_size;

	(void)n;
	if ((off & (w->page_size - 1)) || count == 0 || first + count > w->npages) {
		st->mismatch = true;
		return 0;
	}
	for (uint64_t i = 0; i < count; i++) {
		const shadow_slot *s = &w->slots[first + i];

		if (s->perm != ev->entry.perm || s->target != ev->entry.target_as ||
		    s->gpa != ev->entry.translated_addr + i * w->page_size)
			st->mismatch = true;
	}
	st->pages += count;
	return 0;
}

int ms_vfio_check(ms_vfio_container *c)
{
	if (!c)
		return -EINVAL;
	for (unsigned i = 0; i < c->nr_windows; i++) {
		vfio_window *w = c->windows[i];
		ms_iommu_notifier_opts opts = MS_IOMMU_NOTIFIER_OPTS_INIT;
		check_state st = {.w = w};
		ms_iommu_notifier *n = NULL;
		int rc;

		opts.flags = MS_IOMMU_NOTIFIER_MAP;
		opts.start = w->offset_in_region;
		opts.end = w->offset_in_region + (w->last - w->start);
		opts.notify = on_check_event;
		opts.opaque = &st;
		rc = ms_iommu_register_notifier(&n, w->iommu, &opts);
		if (rc < 0)
			return rc;
		rc = ms_iommu_replay(w->iommu, n);
		ms_iommu_unregister_notifier(n);
		if (rc < 0)
			return rc;
		if (st.mismatch || st.pages != w->nr_mapped)
			return -EIO;
	}
	return 0;
}
