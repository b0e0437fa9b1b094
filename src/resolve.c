/*
 * resolve.c: the one walk from an address space to what answers, through
 * every IOMMU on the way; and its first piece, which DMA mapping, region
 * caches and ms_as_get_iotlb_entry() use.
 *
 * The walk cuts [addr, addr + len) of a view at range and hole edges. An
 * IOMMU range with a class is translated one IOMMU page at a time (iommu.c:
 * permission, index, cycle and chain checks), and each page is walked again,
 * recursively, in its target's view; so a piece never crosses a range, a
 * hole or an IOMMU page of its path, pieces come out in address order, and
 * each translation is made just before the pieces it leads to. Recursion is
 * at most MS_IOMMU_MAX_CHAIN deep: ms__iommu_translate_hop() refuses deeper.
 * Cost matters on the uncached IOMMU access path, where every store and
 * indirect call shows: the loops keep their state in arguments and locals,
 * the path is written into the levels only when the caller asks
 * (w->record), and the last piece can go back to the caller instead of
 * through the callback (w->last), so a one-piece walk calls nothing
 * indirectly.
 *
 * Locking: none. Runs inside the caller's RCU read-side section and reads
 * each view once it is reached; piece callbacks may run device callbacks,
 * which may change the topology (the walk keeps the views it read).
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <string.h>

#include "resolve.h"

/* Last address of the hole that contains @addr (nothing of @fv maps it). */
static uint64_t hole_last(const ms_flatview *fv, uint64_t addr)
{
	const ms__range *next = ms__dispatch_next_after(fv, addr);

	return next ? next->start - 1 : UINT64_MAX;
}

/* A walk in progress: the caller's request and where the walk ends. */
typedef struct walker {
	const ms__walk *w;
	uint64_t end; /* the walk's length: a piece ending there is the last */
} walker;

/*
 * Hand one piece that ends in @level's view to the caller. The piece is
 * built here, not by the loops, so that their state stays in registers.
 */
static int emit(const walker *wk, ms__resolve_level *level, ms__piece_kind kind, int error,
		const ms__range *r, uint64_t addr, uint64_t pos, uint64_t len, uint64_t stretch)
{
	const ms__walk *w = wk->w;

	if (w->last && pos + len == wk->end) {
		/* Nothing happens in the walk after its last piece: hand it back. */
		*w->last = (ms__piece){kind, error, r, NULL, addr, pos, len, stretch};
		return 0;
	}
	if (w->record && kind != MS__PIECE_FAULT) {
		/* The path ends here: nothing is translated in this view. */
		level->iommu = NULL;
		level->gen = 0;
	}
	return w->fn(
		&(ms__piece){kind, error, r, w->record ? level : NULL, addr, pos, len, stretch},
		w->arg);
}

static int walk_view(const walker *wk, ms__resolve_level *level, const ms_flatview *view,
		     uint64_t addr, uint64_t len, uint64_t pos, const ms__range *first);

/*
 * The @n bytes at @addr of @level's view lie in IOMMU range @r (its region
 * has a class): translate page by page, walking each page in its target.
 */
static int walk_iommu(const walker *wk, ms__resolve_level *level, const ms__range *r, uint64_t addr,
		      uint64_t n, uint64_t pos)
{
	const ms__walk *w = wk->w;
	const ms_region *mr = r->region;
	uint64_t offset = r->offset_in_region + (addr - r->start);
	int stop = 0;

	while (n > 0 && !stop) {
		const ms_flatview *view;
		ms__resolve_level inner; /* only hops is set unless w->record */
		ms__iommu_hop hop;
		ms_iotlb_entry e;
		uint64_t xlat, l;
		int rc;

		if (w->record) {
			level->iommu = mr;
			level->gen = ms__iommu_notify_gen(mr);
		}
		rc = ms__iommu_translate_hop(&e, &hop, mr, offset, w->is_write, w->attrs,
					     level->hops);
		if (rc < 0) /* the rest of the range fails with it */
			return emit(wk, level, MS__PIECE_FAULT, rc, r, addr, pos, n, n);
		xlat = ms__iommu_xlat(&e, offset);
		l = ms__clamp_len(n, e.addr_mask - (xlat & e.addr_mask));
		view = ms__deref(e.target_as->view);
		inner.hops = &hop;
		if (w->record) {
			inner.as = e.target_as;
			inner.view = view;
			inner.iommu = NULL;
			inner.gen = 0;
			inner.mask = level->mask & e.addr_mask;
			inner.perm = level->perm & e.perm;
			inner.depth = level->depth + 1;
			inner.outer = level;
		}
		stop = walk_view(wk, &inner, view, xlat, l, pos, NULL);
		offset += l;
		addr += l;
		pos += l;
		n -= l;
	}
	return stop;
}

/*
 * The @len bytes at @addr of @view, byte @pos of the walk on; @level
 * records the path (only hops is set unless w->record). @first, when not
 * NULL, is the range at @addr.
 */
static int walk_view(const walker *wk, ms__resolve_level *level, const ms_flatview *view,
		     uint64_t addr, uint64_t len, uint64_t pos, const ms__range *first)
{
	uint64_t done = 0;
	int stop = 0;

	while (done < len && !stop) {
		uint64_t cur = addr + done, rest = len - done, n;
		const ms__range *r;

		if (cur < addr) /* past the top of the address space: no wrap to 0 */
			return emit(wk, level, MS__PIECE_HOLE, 0, NULL, cur, pos + done, rest,
				    rest);
		r = first ? first : ms__dispatch_lookup(view, cur);
		first = NULL;
		if (!r) {
			n = ms__clamp_len(rest, hole_last(view, cur) - cur);
			stop = emit(wk, level, MS__PIECE_HOLE, 0, NULL, cur, pos + done, n, rest);
		} else if (r->region->kind == MS_REGION_IOMMU && r->region->iommu) {
			n = ms__clamp_len(rest, r->last - cur);
			stop = walk_iommu(wk, level, r, cur, n, pos + done);
		} else {
			n = ms__clamp_len(rest, r->last - cur);
			stop = emit(wk, level, MS__PIECE_RANGE, 0, r, cur, pos + done, n, rest);
		}
		done += n;
	}
	return stop;
}

int ms__resolve_walk(const ms__walk *w, ms_as *as, const ms_flatview *view, uint64_t addr,
		     uint64_t len)
{
	walker wk = {w, len};
	ms__resolve_level top;

	top.hops = NULL;
	if (w->record) {
		top.as = as;
		top.view = view;
		top.iommu = NULL;
		top.gen = 0;
		top.mask = UINT64_MAX;
		top.perm = MS_IOMMU_RW;
		top.depth = 0;
		top.outer = NULL;
	}
	return walk_view(&wk, &top, view, addr, len, 0, w->first);
}

/* ---- the first piece -------------------------------------------------------- */

typedef struct first_piece {
	ms__resolved *out;
	ms__resolve_hop *hops;
	size_t max_hops;
	size_t nr_hops;
	int rc;
} first_piece;

static int take_first(const ms__piece *p, void *arg)
{
	first_piece *f = arg;
	const ms__resolve_level *l = p->level;

	*f->out = (ms__resolved){
		.range = p->kind == MS__PIECE_RANGE ? p->range : NULL,
		.as = l->as,
		.view = l->view,
		.addr = p->addr,
		.len = p->kind == MS__PIECE_RANGE ? p->stretch : p->len,
		.mask = l->mask,
		.perm = l->perm,
		.translated = l->depth > 0,
	};
	f->rc = p->kind == MS__PIECE_FAULT ? p->error : 0;
	f->nr_hops = (size_t)l->depth + 1;
	for (; f->hops && l; l = l->outer)
		if (l->depth < f->max_hops)
			f->hops[l->depth] = (ms__resolve_hop){l->as, l->view, l->iommu, l->gen};
	return 1;
}

int ms__resolve(ms__resolved *out, ms_as *as, const ms_flatview *view, uint64_t addr, uint64_t len,
		bool is_write, ms_attrs attrs, ms__resolve_hop *hops, size_t max_hops,
		size_t *nr_hops)
{
	first_piece f = {out, hops, max_hops, 0, 0};
	ms__walk w = {is_write, attrs, true, NULL, take_first, &f, NULL};

	memset(out, 0, sizeof(*out));
	ms__resolve_walk(&w, as, view, addr, len);
	if (nr_hops)
		*nr_hops = f.nr_hops;
	return f.rc;
}

/* ---- public ------------------------------------------------------------------ */

int ms_iotlb_ram_ptr(void **out, ms_region **region, bool *readonly, const ms_iotlb_entry *e)
{
	bool is_write = e && (e->perm & MS_IOMMU_WO);
	uint64_t base, offset;
	ms__resolved res;
	int rc;

	if (out)
		*out = NULL;
	if (region)
		*region = NULL;
	if (!out || !e || !e->target_as)
		return -EINVAL;
	if (e->addr_mask == UINT64_MAX)
		return -EFAULT; /* no memory covers 2^64 bytes */
	base = e->translated_addr & ~e->addr_mask;
	ms__rcu_read_lock();
	rc = ms__resolve(&res, e->target_as, ms__deref(e->target_as->view), base, e->addr_mask + 1,
			 is_write, MS_ATTRS_UNSPECIFIED, NULL, 0, NULL);
	if (rc == 0 && !res.range)
		rc = -ENOENT;
	if (rc == 0 &&
	    (!ms__region_kind_is_ram(res.range->region->kind) || !res.range->region->ram ||
	     res.len <= e->addr_mask || res.range->last - res.addr < e->addr_mask))
		rc = -EFAULT; /* not RAM, or the entry runs past it */
	if (rc == 0) {
		const ms__range *r = res.range;

		offset = r->offset_in_region + (res.addr - r->start);
		*out = (uint8_t *)r->region->ram + offset + (e->translated_addr & e->addr_mask);
		if (readonly)
			*readonly = (r->flags & MS__RANGE_READONLY) != 0;
		if (region)
			*region = ms_region_ref(r->region);
	}
	ms__rcu_read_unlock();
	return rc;
}

int ms_as_get_iotlb_entry(ms_iotlb_entry *out, ms_as *as, uint64_t addr, bool is_write,
			  ms_attrs attrs)
{
	ms__resolved res;
	uint64_t mask;
	int rc;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (!as)
		return -EINVAL;
	ms__rcu_read_lock();
	rc = ms__resolve(&res, as, ms__deref(as->view), addr, 1, is_write, attrs, NULL, 0, NULL);
	if (rc == 0 && (!res.range || res.range->region->kind == MS_REGION_IOMMU))
		rc = -ENOENT; /* a hole, or an IOMMU region without a class */
	if (rc == 0) {
		mask = res.translated ? res.mask : MS_IOMMU_PAGE_SIZE_DEFAULT - 1;
		*out = (ms_iotlb_entry){
			.target_as = res.as,
			.iova = addr & ~mask,
			.translated_addr = res.addr & ~mask,
			.addr_mask = mask,
			.perm = res.perm,
		};
	}
	ms__rcu_read_unlock();
	return rc;
}
