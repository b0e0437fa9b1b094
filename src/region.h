/*
 * region.h: memory-region objects and the tree structure (region.c).
 *
 * region.c owns what a region is: its creation, references and lifetime,
 * its properties, and the storage of subregions (struct ms__sibling: a list
 * in rendering order, an ordered set and an address index). It knows
 * nothing of transactions or views: the public calls that change the tree
 * (region_edit.c) are built on top of it, together with the transaction
 * layer.
 *
 * Locking: every field marked [lock] is read and written only with the
 * context's topology lock held. The reference count is atomic.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_REGION_INT_H
#define MEMSPACE_REGION_INT_H

#include "interval.h"
#include "ramblock.h"

struct ms__iommu;

/*
 * Subregion storage. A container keeps its subregions in three views of one
 * set, all threaded through nodes embedded in the subregions (a region has
 * at most one container, so a subregion needs one set of nodes):
 *
 * - a doubly linked list in rendering order: priority descending, and
 *   among equal priorities the most recently added first (QEMU's order).
 *   Walkers that want every subregion (render of a whole container, mtree,
 *   freeing) follow it;
 * - an ordered set (an interval treap of points, interval.h) keyed by
 *   (INT_MAX - priority, UINT64_MAX - seq), where seq is the container's
 *   insertion counter: its in-order walk is rendering order, and it finds
 *   a new subregion's neighbours for the list and the index-th subregion
 *   (ms_region_subregion()) in O(log n);
 * - an address index (an interval treap keyed by the extent [lo, last] in
 *   the container, clipped to 2^64 - 1) holding the enabled non-empty
 *   subregions, so a windowed render visits only the children that meet
 *   its window.
 *
 * So an insertion or a removal costs O(log n) expected whatever the
 * priorities and the order of removals, with no array to move, and needs
 * no allocation (it cannot fail). The seq of a subregion is unique in its
 * container and never reused, so putting a subregion back with its old seq
 * (an undo) restores exactly its old position.
 */
struct ms__sibling {
	ms__interval_node order; /* rendering-order key (above) */
	ms__interval_node where; /* [lo, last] in the container, while indexed */
	bool indexed;            /* whether `where` is in the container's address index */
	ms_region *next, *prev;  /* neighbours in rendering order */
};

/* A coalesced MMIO window of a device region: offsets [offset, last] (ioevent.c). */
struct ms__coalesced {
	uint64_t offset, last;
};

/*
 * A device region's ioeventfds (ioevent.c): an immutable table, replaced
 * whole under the topology lock and read by the access path inside its RCU
 * read-side section; a replaced table is freed after a grace period.
 */
struct ms__eventfds {
	struct rcu_head rcu;
	size_t nr;
	ms_ioeventfd e[];
};

struct ms_region {
	ms_ctx *ctx;
	uint32_t refcount; /* atomic */
	ms_region_kind kind;
	char *name;
	char *owner;

	ms__u128 size; /* [lock] 0 .. 2^64 */
	uint64_t addr; /* [lock] position inside the container */
	int priority;  /* [lock] */
	bool enabled, readonly, nonvolatile, unmergeable, romd; /* [lock] */
	uint8_t dirty_log_mask;                                 /* [lock] */

	uint32_t fv_root_users; /* [lock] address spaces whose flatview root this is (as.c) */

	ms_region *container; /* [lock] at most one */
	struct ms__sibling sib; /* [lock] this region's place in its container's views */
	/* [lock] the subregions (each holds a reference), see struct ms__sibling:
	 * the list in rendering order, the rendering-order set, the address
	 * index, and the last insertion sequence number given out. */
	ms_region *sub_first, *sub_last;
	size_t nr_subs;
	ms__interval_node *sub_order;
	ms__interval_node *sub_where;
	uint64_t sub_seq;

	ms_region *alias;      /* target of an alias (reference held) */
	uint64_t alias_offset; /* [lock] */
	/* [lock] aliases whose target is this region (back references). */
	ms_region **aliased_by;
	size_t nr_aliased_by, cap_aliased_by;

	const ms_region_ops *ops;
	void *opaque;
	/* ioevent.c: the ioeventfds ([lock] to replace, [rcu] to read), beside
	 * ops for the device write that tests it; NULL when there are none,
	 * which is the access path's only test. */
	struct ms__eventfds *eventfds;
	void *ram; /* host memory, or NULL (== rb->host) */
	/* The RAM block (ramblock.h) of every kind with memory; fixed at creation. */
	struct ms__ramblock *rb;

	/* txn.c: commit bookkeeping */
	uint64_t mark;    /* [lock] epoch at which it was marked during commit */
	uint64_t touched; /* [lock] touch_epoch at which it entered ctx->touched */
	/* [lock] during a commit: the view rendered from this region, if any. */
	ms_flatview *commit_view;
	uint64_t commit_view_epoch;

	ms_region *next, *prev; /* [lock] ctx->regions links */

	/* IOMMU regions made by ms_iommu_new(): the class and notifiers, owned
	 * by iommu.c and freed by iommu_destroy. NULL for every other region;
	 * fixed at creation. */
	struct ms__iommu *iommu;
	void (*iommu_destroy)(ms_region *r);

	/* ioevent.c: coalesced windows [lock]. */
	struct ms__coalesced *coalesced;
	size_t nr_coalesced;
};

/* Whether @r has coalesced windows or ioeventfds (lock held). */
static inline bool ms__region_has_events(const ms_region *r)
{
	return r->nr_coalesced > 0 || r->eventfds != NULL;
}

/* Terminating = fills the gaps under its children (not container or alias). */
static inline bool ms__region_terminates(const ms_region *r)
{
	return r->kind != MS_REGION_CONTAINER && r->kind != MS_REGION_ALIAS;
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

/* Kinds backed by host memory (RAM, ROM, ROM device, RAM device, caller's pointer). */
bool ms__region_kind_has_memory(ms_region_kind kind);

/*
 * Create a region of @kind (RAM, ROM, ROM device, RAM device or RAM at a
 * pointer) whose memory the backend options @opts describe; @ops and
 * @opaque for ROM devices. Return: 0 or ms_region_new_ram_with()'s errors.
 */
int ms__region_new_memory(ms_region **out, ms_ctx *ctx, ms_region_kind kind,
			  const ms_ram_opts *opts, const ms_region_ops *ops, void *opaque);

/*
 * Bring @r's RAM block's logging clients up to date: the region's own
 * dirty_log_mask plus MIGRATION while global logging is on (lock held).
 * Return: 0, or -ENOMEM when a bitmap could not be allocated (the clients
 * then stay as they were). A region without a block: 0.
 */
int ms__region_update_log(ms_region *r);
/* The mask ms__region_update_log() would give @r's block, for @global. */
uint8_t ms__region_log_mask(const ms_region *r, bool global);
/*
 * Whether global dirty logging makes the MIGRATION client log @r: RAM with
 * memory that is migratable (not a RAM device, not MS_RAM_NOT_MIGRATABLE),
 * as QEMU logs migratable RAM blocks.
 */
/*
 * Take a reference on @r unless its count already reached 0: a region whose
 * last reference is being dropped (by another thread, say call_rcu freeing
 * the last view that showed it) stays on ctx->regions until region_destroy()
 * gets the topology lock, and must not be brought back. True when taken.
 */
bool ms__region_tryget(ms_region *r);
bool ms__region_logs_migration(const ms_region *r);
/* The dirty_log_mask @r renders with: its own clients, plus MIGRATION as above. */
uint8_t ms__region_render_log_mask(const ms_region *r);

/* Printed kind: "ram", "rom", "romd", "ramd" or "i/o" (QEMU's rule). */
const char *ms__region_type_name(const ms_region *r);

/*
 * Create an IOMMU region that owns @state (NULL: no class). When @state is
 * given, @init runs on the new region before anyone can see it (a failure
 * is returned and nothing is created; the caller keeps @state), and
 * @destroy frees the state with the region.
 * Return: 0, -EINVAL or -ENOMEM, or @init's error.
 */
int ms__region_new_iommu(ms_region **out, ms_ctx *ctx, const char *name, uint64_t size,
			 struct ms__iommu *state, int (*init)(ms_region *r),
			 void (*destroy)(ms_region *r));

/*
 * Subregion storage, for the tree edits of region_edit.c (lock held). Each
 * subregion holds a reference, which the callers manage; none of these
 * calls allocates or fails.
 */
/* Add @sub (container unset, priority and address set) to @container as its
 * newest subregion: first among those of its priority. O(log n). */
void ms__region_sub_add(ms_region *container, ms_region *sub);
/* Put @sub back into @container with the sequence number @seq it had there
 * (ms__region_sub_seq()), so at exactly its old position: an undo. */
void ms__region_sub_restore(ms_region *container, ms_region *sub, uint64_t seq);
/* Remove @sub, a subregion of @container, from every view. O(log n). */
void ms__region_sub_remove(ms_region *container, ms_region *sub);
/* @sub's insertion sequence number in its container (0 when it has none). */
uint64_t ms__region_sub_seq(const ms_region *sub);
/* Refresh @sub's entry in its container's address index after its size or
 * enabled changed (its address only changes by a remove and an add). */
void ms__region_sub_refresh(ms_region *sub);
/* The first subregion of @container in rendering order, or NULL. */
static inline ms_region *ms__region_first_sub(const ms_region *container)
{
	return container->sub_first;
}
/* The subregion after @sub in its container's rendering order, or NULL. */
static inline ms_region *ms__region_next_sub(const ms_region *sub)
{
	return sub->sib.next;
}
/* The subregion of @node, an entry of some container's address index. */
static inline ms_region *ms__region_of_where(const ms__interval_node *node)
{
	return (ms_region *)((const char *)node - offsetof(ms_region, sib.where));
}
/* Whether @a renders before @b, two subregions of one container. */
static inline bool ms__region_sub_before(const ms_region *a, const ms_region *b)
{
	return a->sib.order.start < b->sib.order.start ||
	       (a->sib.order.start == b->sib.order.start && a->sib.order.seq < b->sib.order.seq);
}
/*
 * Checker: @container's three views hold the same subregions, each once, in
 * rendering order with consistent keys, and the address index holds
 * exactly the enabled non-empty ones with their current extents.
 * Return: 0 or -EINVAL. O(n log n); for tests and fuzzers.
 */
int ms__region_subs_check(const ms_region *container);

#endif /* MEMSPACE_REGION_INT_H */
