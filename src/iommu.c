/*
 * iommu.c: IOMMU regions - the class, translation hops, notifiers, replay.
 *
 * Translation: ms__iommu_translate_hop() makes one translation for the
 * resolve walk (resolve.c), which every access, DMA mapping, region cache
 * and ms_as_get_iotlb_entry() goes through: index from attrs, the class's
 * translate (with the IOMMU on the thread's access chain, chain.c, so a
 * page-table read that comes back to it fails instead of recursing), entry
 * checks, the permission check, and cycle detection against the hops
 * already made on the path (the same IOMMU, offset and index again is a
 * cycle: translate depends on nothing else). Lock-free, inside the caller's
 * RCU read-side section. This file calls no module above it (access,
 * resolve, map, cache).
 *
 * Notifiers: one interval index (interval.c) per translation index, keyed
 * by range start and registration number. A delivery walks the index of
 * its index for the ranges that intersect the event. Callbacks may register
 * and unregister: every change bumps tree_gen, and a delivery that sees it
 * change resumes from the last notifier it called with a fresh search,
 * never touching a node it held before; a notifier unregistered while its
 * callback runs (busy) is marked dead and freed by whoever called it.
 *
 * Region caches: every notification bumps the IOMMU's notify_gen (atomic)
 * before delivering; a cache that translated through the IOMMU compares it
 * before each access and translates again when it moved (cache.c). An UNMAP
 * covering the cache is what makes that necessary; a MAP lets a cache whose
 * translation failed find the new mapping.
 *
 * Locking: notifier state is [lock] (the topology lock); class, opaque and
 * nr_indexes are fixed at creation; notify_gen is atomic.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "interval.h"
#include "iommu.h"

struct ms__iommu {
	const ms_iommu_ops *ops;
	void *opaque;
	unsigned nr_indexes; /* 1 .. MS_IOMMU_MAX_INDEXES */
	uint64_t notify_gen; /* atomic: notifications so far (region caches compare it) */

	ms__interval_node **roots;     /* [lock] one notifier index per translation index */
	size_t flag_users[3];          /* [lock] notifiers having each flag bit */
	ms_iommu_notifier_flags flags; /* [lock] union, as told to notify_flag_changed */
	uint64_t seq;                  /* [lock] last registration number */
	uint64_t tree_gen;             /* [lock] bumped by every (un)registration */
};

struct ms_iommu_notifier {
	ms__interval_node node; /* [start, end] as node.start / node.last */
	ms_region *iommu; /* the IOMMU region (reference held while registered) */
	ms_iommu_notifier_flags flags;
	unsigned idx;
	ms_iommu_notify_fn notify;
	void *opaque;
	unsigned busy; /* [lock] callers between calling it and finishing */
	bool dead;     /* [lock] unregistered while busy: the last caller frees it */
};

#define NOTIFIER_OF(nodep) \
	((ms_iommu_notifier *)((char *)(nodep)-offsetof(ms_iommu_notifier, node)))

static bool is_mask(uint64_t mask)
{
	return (mask & (mask + 1)) == 0;
}

/* The IOMMU region with a class behind @r (through aliases), or NULL. */
static ms_region *iommu_region(ms_region *r)
{
	while (r && r->kind == MS_REGION_ALIAS)
		r = r->alias;
	return r && r->kind == MS_REGION_IOMMU && r->iommu ? r : NULL;
}

/* ---- creation and teardown ------------------------------------------------ */

static int iommu_init(ms_region *r);
static void iommu_destroy(ms_region *r);

int ms_iommu_new(ms_region **out, ms_ctx *ctx, const ms_iommu_opts *opts)
{
	const ms_iommu_ops *ops = opts ? opts->ops : NULL;
	struct ms__iommu *st;
	int rc;

	if (out)
		*out = NULL;
	if (!out || !ctx || !opts || !opts->name || opts->size == 0)
		return -EINVAL;
	if (!ops) /* no class: translates nothing */
		return ms__region_new_iommu(out, ctx, opts->name, opts->size, NULL, NULL, NULL);
	if (ops->version != MS_IOMMU_OPS_VERSION || !ops->translate)
		return -EINVAL;
	st = ms__ctx_calloc(ctx, 1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->ops = ops;
	st->opaque = opts->opaque;
	rc = ms__region_new_iommu(out, ctx, opts->name, opts->size, st, iommu_init, iommu_destroy);
	if (rc < 0) {
		free(st->roots);
		free(st);
	}
	return rc;
}

/* Ask the class for its index count; one notifier index per translation index. */
static int iommu_init(ms_region *r)
{
	struct ms__iommu *st = r->iommu;
	unsigned n = st->ops->num_indexes ? st->ops->num_indexes(r, st->opaque) : 1;

	if (n == 0 || n > MS_IOMMU_MAX_INDEXES)
		return -EINVAL;
	st->roots = ms__ctx_calloc(r->ctx, n, sizeof(*st->roots));
	if (!st->roots)
		return -ENOMEM;
	st->nr_indexes = n;
	return 0;
}

static void free_tree(ms__interval_node *t)
{
	while (t) {
		ms__interval_node *right = t->right;

		free_tree(t->left);
		free(NOTIFIER_OF(t));
		t = right;
	}
}

/* Free the IOMMU state of a dying region, notifiers included. */
static void iommu_destroy(ms_region *r)
{
	struct ms__iommu *st = r->iommu;

	if (!st)
		return;
	/* Only a dying context frees an IOMMU with notifiers (they hold references). */
	for (unsigned i = 0; i < st->nr_indexes; i++)
		free_tree(st->roots[i]);
	free(st->roots);
	free(st);
	r->iommu = NULL;
}

uint64_t ms__iommu_notify_gen(const ms_region *mr)
{
	return mr->iommu ? __atomic_load_n(&mr->iommu->notify_gen, __ATOMIC_ACQUIRE) : 0;
}

/* ---- translation ------------------------------------------------------------- */

typedef struct translate_call {
	ms_iotlb_entry *out;
	ms_region *mr;
	uint64_t addr;
	ms_iommu_perm flags;
	unsigned idx;
} translate_call;

static void call_translate(void *arg)
{
	translate_call *c = arg;
	const struct ms__iommu *st = c->mr->iommu;

	st->ops->translate(c->out, c->mr, c->addr, c->flags, c->idx, st->opaque);
}

/* The class's translate with @mr on the access chain. False when refused. */
static bool translate(ms_iotlb_entry *out, ms_region *mr, uint64_t addr, ms_iommu_perm flags,
		      unsigned idx)
{
	translate_call c = {out, mr, addr, flags, idx};

	memset(out, 0, sizeof(*out));
	return ms__chain_run(mr, call_translate, &c);
}

/* 0 for a usable mapping of @offset; -EACCES for no mapping; -EIO if malformed. */
static int check_entry(const ms_iotlb_entry *e, const ms_region *mr, uint64_t offset)
{
	if (e->perm == MS_IOMMU_NONE)
		return -EACCES;
	if ((unsigned)e->perm > MS_IOMMU_RW || !e->target_as || e->target_as->ctx != mr->ctx ||
	    !is_mask(e->addr_mask) || offset < e->iova || offset - e->iova > e->addr_mask)
		return -EIO;
	return 0;
}

static int index_of(const ms_region *mr, ms_attrs attrs, unsigned *idx)
{
	const struct ms__iommu *st = mr->iommu;

	*idx = st->ops->attrs_to_index ? st->ops->attrs_to_index((ms_region *)mr, attrs, st->opaque)
				       : 0;
	return *idx < st->nr_indexes ? 0 : -EIO;
}

int ms__iommu_translate_hop(ms_iotlb_entry *entry, ms__iommu_hop *hop, const ms_region *mr,
			    uint64_t offset, bool is_write, ms_attrs attrs,
			    const ms__iommu_hop *outer)
{
	unsigned depth = outer ? outer->depth + 1 : 1;
	const ms__iommu_hop *h;
	unsigned idx;
	int rc;

	if (!mr->iommu)
		return -ENOENT;
	if (depth > MS_IOMMU_MAX_CHAIN)
		return -ELOOP;
	rc = index_of(mr, attrs, &idx);
	if (rc < 0)
		return rc;
	/* translate depends only on (offset, idx): meeting them again never ends. */
	for (h = outer; h; h = h->outer)
		if (h->iommu == mr && h->offset == offset && h->idx == idx)
			return -ELOOP;
	if (!translate(entry, (ms_region *)mr, offset, is_write ? MS_IOMMU_WO : MS_IOMMU_RO, idx))
		return -EACCES;
	rc = check_entry(entry, mr, offset);
	if (rc < 0)
		return rc;
	if (!(entry->perm & (is_write ? MS_IOMMU_WO : MS_IOMMU_RO)))
		return -EACCES;
	*hop = (ms__iommu_hop){mr, offset, idx, depth, outer};
	return 0;
}

int ms_iommu_translate(ms_iotlb_entry *out, ms_region *iommu, uint64_t addr, ms_iommu_perm flags,
		       unsigned iommu_idx)
{
	ms_region *mr = iommu_region(iommu);

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (!mr || (unsigned)flags > MS_IOMMU_RW || iommu_idx >= mr->iommu->nr_indexes ||
	    (ms__u128)addr >= mr->size)
		return -EINVAL;
	ms__rcu_read_lock();
	if (!translate(out, mr, addr, flags, iommu_idx))
		memset(out, 0, sizeof(*out)); /* re-entered: no mapping */
	ms__rcu_read_unlock();
	return 0;
}

/* ---- class queries -------------------------------------------------------------- */

static uint64_t min_page_size(ms_region *mr)
{
	const struct ms__iommu *st = mr->iommu;
	uint64_t size;

	if (!st->ops->get_min_page_size)
		return MS_IOMMU_PAGE_SIZE_DEFAULT;
	size = st->ops->get_min_page_size(mr, st->opaque);
	return size && !(size & (size - 1)) ? size : 0;
}

uint64_t ms_iommu_get_min_page_size(ms_region *iommu)
{
	ms_region *mr = iommu_region(iommu);

	return mr ? min_page_size(mr) : 0;
}

unsigned ms_iommu_num_indexes(ms_region *iommu)
{
	ms_region *mr = iommu_region(iommu);

	return mr ? mr->iommu->nr_indexes : 0;
}

int ms_iommu_attrs_to_index(ms_region *iommu, ms_attrs attrs)
{
	ms_region *mr = iommu_region(iommu);
	unsigned idx;

	if (!mr || index_of(mr, attrs, &idx) < 0)
		return -EINVAL;
	return (int)idx;
}

int ms_iommu_get_attr(ms_region *iommu, ms_iommu_attr attr, void *data)
{
	ms_region *mr = iommu_region(iommu);

	if (!mr || !data || !mr->iommu->ops->get_attr)
		return -EINVAL;
	return mr->iommu->ops->get_attr(mr, attr, data, mr->iommu->opaque);
}

ms_iommu_notifier_flags ms_iommu_notify_flags(ms_region *iommu)
{
	ms_region *mr = iommu_region(iommu);
	ms_iommu_notifier_flags flags;

	if (!mr)
		return 0;
	ms__ctx_lock(mr->ctx);
	flags = mr->iommu->flags;
	ms__ctx_unlock(mr->ctx);
	return flags;
}

/* ---- notifiers ---------------------------------------------------------------------- */

/* The union of the flags of the registered notifiers. Lock held. */
static ms_iommu_notifier_flags flags_in_use(const struct ms__iommu *st)
{
	ms_iommu_notifier_flags flags = 0;

	for (unsigned bit = 0; bit < 3; bit++)
		if (st->flag_users[bit])
			flags |= 1u << bit;
	return flags;
}

static void count_flags(struct ms__iommu *st, ms_iommu_notifier_flags flags, bool add)
{
	for (unsigned bit = 0; bit < 3; bit++)
		if (flags & (1u << bit)) {
			if (add)
				st->flag_users[bit]++;
			else
				st->flag_users[bit]--;
		}
}

int ms_iommu_register_notifier(ms_iommu_notifier **out, ms_region *iommu,
			       const ms_iommu_notifier_opts *opts)
{
	ms_region *mr = iommu_region(iommu);
	ms_iommu_notifier_flags wanted;
	struct ms__iommu *st;
	ms_iommu_notifier *n;
	int rc = 0;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!mr || !opts || !opts->notify || !opts->flags ||
	    (opts->flags & ~MS_IOMMU_NOTIFIER_ALL) || opts->start > opts->end ||
	    opts->iommu_idx >= mr->iommu->nr_indexes)
		return -EINVAL;
	st = mr->iommu;
	n = ms__ctx_calloc(mr->ctx, 1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->node.start = opts->start;
	n->node.last = opts->end;
	n->flags = opts->flags;
	n->idx = opts->iommu_idx;
	n->notify = opts->notify;
	n->opaque = opts->opaque;
	n->iommu = mr;

	ms__ctx_lock(mr->ctx);
	wanted = st->flags | opts->flags;
	if (wanted != st->flags && st->ops->notify_flag_changed)
		rc = st->ops->notify_flag_changed(mr, st->flags, wanted, st->opaque);
	if (rc < 0) {
		ms__ctx_unlock(mr->ctx);
		free(n);
		return rc;
	}
	count_flags(st, n->flags, true);
	st->flags = flags_in_use(st);
	n->node.seq = ++st->seq;
	ms__interval_insert(&st->roots[n->idx], &n->node);
	st->tree_gen++;
	ms_region_ref(mr);
	ms__ctx_unlock(mr->ctx);
	*out = n;
	return 0;
}

void ms_iommu_unregister_notifier(ms_iommu_notifier *n)
{
	ms_region *mr;
	struct ms__iommu *st;
	ms_iommu_notifier_flags old_flags;

	if (!n)
		return;
	mr = n->iommu;
	st = mr->iommu;
	ms__ctx_lock(mr->ctx);
	ms__interval_remove(&st->roots[n->idx], &n->node);
	st->tree_gen++;
	count_flags(st, n->flags, false);
	old_flags = st->flags;
	st->flags = flags_in_use(st);
	/* The class cannot keep a notifier alive: its answer is ignored. */
	if (st->flags != old_flags && st->ops->notify_flag_changed)
		(void)st->ops->notify_flag_changed(mr, old_flags, st->flags, st->opaque);
	if (n->busy)
		n->dead = true;
	else
		free(n);
	ms__ctx_unlock(mr->ctx);
	ms_region_unref(mr);
}

/*
 * What iommu.h promises of an event: one type bit; a mask 2^n - 1 with the
 * iova aligned to it; a MAP with a permission and a target address space of
 * @ctx (an entry without one is a failed translation, not a mapping); an
 * unmap without permissions.
 */
static bool event_ok(const ms_iommu_event *event, const ms_ctx *ctx)
{
	const ms_iotlb_entry *e = &event->entry;

	if (event->type != MS_IOMMU_NOTIFIER_MAP && event->type != MS_IOMMU_NOTIFIER_UNMAP &&
	    event->type != MS_IOMMU_NOTIFIER_DEVIOTLB_UNMAP)
		return false;
	if ((unsigned)e->perm > MS_IOMMU_RW || !is_mask(e->addr_mask) || (e->iova & e->addr_mask))
		return false;
	if (event->type == MS_IOMMU_NOTIFIER_MAP)
		return e->perm != MS_IOMMU_NONE && e->target_as && e->target_as->ctx == ctx;
	return e->perm == MS_IOMMU_NONE;
}

/*
 * Crop @event to @n's range, filter by flags, call. The caller holds the
 * lock and has checked the event. Frees @n when it was unregistered during
 * its own callback and nobody else is calling it.
 */
static int call_notifier(ms_iommu_notifier *n, const ms_iommu_event *event)
{
	uint64_t first = event->entry.iova, last = first + event->entry.addr_mask;
	uint64_t lo, hi;
	ms_iommu_event cropped;
	int rc;

	if (n->dead || !(n->flags & event->type) || n->node.start > last || n->node.last < first)
		return 0;
	lo = first > n->node.start ? first : n->node.start;
	hi = last < n->node.last ? last : n->node.last;
	cropped = *event;
	cropped.entry.iova = lo;
	cropped.entry.addr_mask = hi - lo;
	cropped.entry.translated_addr += lo - first;
	n->busy++;
	rc = n->notify(n, &cropped, n->opaque);
	n->busy--;
	if (n->dead && n->busy == 0)
		free(n);
	return rc < 0 ? rc : 0;
}

typedef struct delivery {
	const struct ms__iommu *st;
	const ms_iommu_event *event;
	uint64_t tree_gen; /* at the start of the current walk */
	int first_error;
} delivery;

static int deliver(ms__interval_node *node, void *arg)
{
	delivery *d = arg;
	int rc = call_notifier(NOTIFIER_OF(node), d->event);

	if (rc < 0 && d->first_error == 0)
		d->first_error = rc;
	/* The index changed under the walk: stop, the caller searches again. */
	return d->st->tree_gen != d->tree_gen;
}

int ms_iommu_notify(ms_region *iommu, unsigned iommu_idx, const ms_iommu_event *event)
{
	ms_region *mr = iommu_region(iommu);
	struct ms__iommu *st;
	delivery d;
	ms__interval_key after = {0, 0}; /* registration numbers start at 1 */
	uint64_t first, last;

	if (!mr || !event || iommu_idx >= mr->iommu->nr_indexes || !event_ok(event, mr->ctx))
		return -EINVAL;
	st = mr->iommu;
	__atomic_add_fetch(&st->notify_gen, 1, __ATOMIC_SEQ_CST);
	first = event->entry.iova;
	last = first + event->entry.addr_mask;
	d = (delivery){st, event, 0, 0};
	ms__ctx_lock(mr->ctx);
	do
		d.tree_gen = st->tree_gen;
	while (ms__interval_visit(st->roots[iommu_idx], first, last, &after, deliver, &d));
	ms__ctx_unlock(mr->ctx);
	return d.first_error;
}

/* Deliver @event to @n alone; the lock is taken here. */
static int notify_one(ms_iommu_notifier *n, const ms_iommu_event *event)
{
	ms_ctx *ctx = n->iommu->ctx;
	int rc;

	ms__ctx_lock(ctx);
	rc = call_notifier(n, event);
	ms__ctx_unlock(ctx);
	return rc;
}

int ms_iommu_notify_one(ms_iommu_notifier *n, const ms_iommu_event *event)
{
	if (!n || !event || !event_ok(event, n->iommu->ctx))
		return -EINVAL;
	return notify_one(n, event);
}

/* The notifier's whole range, which need not be a power of two: not through event_ok(). */
int ms_iommu_unmap_notifier_range(ms_iommu_notifier *n)
{
	ms_iommu_event event = {.type = MS_IOMMU_NOTIFIER_UNMAP};

	if (!n)
		return -EINVAL;
	event.entry.iova = n->node.start;
	event.entry.addr_mask = n->node.last - n->node.start;
	event.entry.perm = MS_IOMMU_NONE;
	return notify_one(n, &event);
}

/* ---- replay ------------------------------------------------------------------------ */

/* The default replay: every minimum page of region ∩ range. Lock held, @n busy. */
static int default_replay(ms_region *mr, ms_iommu_notifier *n)
{
	uint64_t page = min_page_size(mr);
	uint64_t first, last, addr;

	if (page == 0)
		return -EINVAL;
	first = n->node.start;
	last = mr->size - 1 < n->node.last ? (uint64_t)(mr->size - 1) : n->node.last;
	if (first > last)
		return 0;
	addr = first & ~(page - 1);
	if ((last - addr) / page >= MS_IOMMU_REPLAY_MAX_PAGES)
		return -ERANGE;
	for (;;) {
		uint64_t next = addr + page; /* 0 past the top */
		bool done = next == 0;
		ms_iotlb_entry e;
		int rc;

		ms__rcu_read_lock();
		if (!translate(&e, mr, addr, MS_IOMMU_NONE, n->idx))
			memset(&e, 0, sizeof(e));
		ms__rcu_read_unlock();
		rc = check_entry(&e, mr, addr);
		if (rc == -EIO)
			return rc;
		if (rc == 0) {
			ms_iommu_event event = {.type = MS_IOMMU_NOTIFIER_MAP, .entry = e};
			uint64_t page_end = addr | e.addr_mask;

			rc = call_notifier(n, &event);
			if (rc < 0)
				return rc;
			if (n->dead)
				return 0;
			/* A mapping larger than the step is announced once. */
			if (page_end == UINT64_MAX)
				done = true;
			else if (!done && page_end + 1 > next)
				next = page_end + 1;
		}
		if (done || next > last)
			return 0;
		addr = next;
	}
}

int ms_iommu_replay(ms_region *iommu, ms_iommu_notifier *n)
{
	ms_region *mr = iommu_region(iommu);
	const struct ms__iommu *st;
	int rc;

	if (!mr || !n || n->iommu != mr)
		return -EINVAL;
	st = mr->iommu;
	ms__ctx_lock(mr->ctx);
	n->busy++;
	if (st->ops->replay)
		rc = st->ops->replay(mr, n, st->opaque);
	else
		rc = default_replay(mr, n);
	n->busy--;
	if (n->dead && n->busy == 0)
		free(n);
	ms__ctx_unlock(mr->ctx);
	return rc < 0 ? rc : 0;
}
