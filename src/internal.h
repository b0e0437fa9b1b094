/*
 * memspace internals shared between modules: the layouts of the opaque
 * objects and the module-to-module calls (ms__<module>_<verb>).
 *
 * Locking: every field marked [lock] is read and written only with the
 * context's topology lock held. Fields marked [rcu] are published with
 * rcu_assign_pointer() and read with rcu_dereference() inside an urcu-bp
 * read-side section. Flat views are immutable once published.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_INTERNAL_H
#define MEMSPACE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <urcu-bp.h>

#include "memspace.h"

#include "base.h"

/* 128-bit integers for region sizes (up to 2^64) and render arithmetic. */
__extension__ typedef unsigned __int128 ms__u128;
__extension__ typedef __int128 ms__i128;

#define MS__2_64 ((ms__u128)1 << 64)

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

/* API size (MS_SIZE_2_64 convention) <-> exact size. */
static inline ms__u128 ms__size_from_api(uint64_t size)
{
	return size == MS_SIZE_2_64 ? MS__2_64 : (ms__u128)size;
}

static inline uint64_t ms__size_to_api(ms__u128 size)
{
	return size >= MS__2_64 ? MS_SIZE_2_64 : (uint64_t)size;
}

/* ---- context (ctx.c) ---------------------------------------------------- */

struct ms_ctx {
	pthread_mutex_t lock; /* the topology lock (recursive) */
	unsigned depth;       /* [lock] transaction nesting */
	bool in_listener;     /* [lock] listener callbacks are running */
	bool global_dirty_log;

	/* [lock] regions changed since the last successful commit. */
	ms_region **touched;
	size_t nr_touched, cap_touched;
	size_t mutation_touched; /* [lock] nr_touched when the outermost mutation began */

	/* [lock] windows of flatview roots that pending changes may have
	 * altered (as.c); dirty_all when they are unknown or too many, and the
	 * touched views are then rendered in full. */
	struct ms__dirty *dirty;
	size_t nr_dirty, cap_dirty;
	bool dirty_all;

	uint64_t epoch;       /* [lock] commit epoch for region marks */
	uint64_t touch_epoch; /* [lock] generation of the touched list */

	ms_region *regions; /* [lock] all live regions (doubly linked) */
	ms_as **as;         /* [lock] address spaces in creation order */
	size_t nr_as, cap_as;
	ms_listener **listeners; /* [lock] sorted by priority, then sequence */
	size_t nr_listeners, cap_listeners;
	uint64_t listener_seq;

	ms_flatview *empty_view; /* shared view of NULL roots */

	uint64_t render_count;    /* atomic */
	uint64_t render_limit;    /* [lock] max ranges per render; 0 = default */
	uint64_t splice_count;    /* atomic: renders that were windowed (as.c) */
	uint64_t alloc_countdown; /* atomic; 0 = no fault injection */

	/* access path (access.c) */
	unsigned max_access_depth; /* atomic; 0 = MS_ACCESS_DEPTH_DEFAULT */
};

/* Allocation through the context, so tests can inject failures. */
void *ms__malloc(ms_ctx *ctx, size_t size);
void *ms__calloc(ms_ctx *ctx, size_t n, size_t size);
void *ms__realloc(ms_ctx *ctx, void *p, size_t size);
char *ms__strdup(ms_ctx *ctx, const char *s);
/* Grow *array (element size @elem) so it holds at least @need elements. */
int ms__grow(ms_ctx *ctx, void **array, size_t *cap, size_t need, size_t elem);

void ms__lock(ms_ctx *ctx);
void ms__unlock(ms_ctx *ctx);

/* Fault injection: true when this allocation must fail. */
bool ms__inject_failure(ms_ctx *ctx);

/*
 * A mutation runs as (part of) a transaction:
 *   ms__mutation_begin()  takes the lock, refuses (-EBUSY) while listener
 *                         callbacks run, opens a transaction level, and tells
 *                         whether nothing was pending before (*clean);
 *   ms__mutation_cancel() closes the level without committing and unlocks
 *                         (for a mutation that failed its checks);
 *   ms__mutation_commit() closes the level and commits when it was the
 *                         outermost; the lock stays held so the caller can
 *                         undo its change on failure, then ms__unlock();
 *   ms__discard_pending() forgets the touched records (after an undo, when
 *                         *clean said nothing else was pending).
 */
int ms__mutation_begin(ms_ctx *ctx, bool *clean);
void ms__mutation_cancel(ms_ctx *ctx);
int ms__mutation_commit(ms_ctx *ctx);
void ms__discard_pending(ms_ctx *ctx);
/* Drop the touched records after the first @nr (a failed mutation's own). */
void ms__touched_truncate(ms_ctx *ctx, size_t nr);

/* ---- regions (region.c) ------------------------------------------------- */

struct ms__extent {
	uint64_t lo, last;
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
	uint8_t dirty_log_mask; /* [lock] */

	uint32_t fv_root_users; /* [lock] address spaces whose flatview root this is */

	ms_region *container; /* [lock] at most one */
	/* [lock] subregions in rendering order (each holds a reference). */
	ms_region **subs;
	size_t nr_subs, cap_subs;
	/* [lock] sub_ext[i]: where subs[i] lies in this region, [lo, last]
	 * clipped to 2^64 - 1, empty (lo > last) when disabled or of size 0;
	 * the renderer skips children outside its clip without touching them. */
	struct ms__extent *sub_ext;
	size_t cap_ext;

	ms_region *alias;      /* target of an alias (reference held) */
	uint64_t alias_offset; /* [lock] */
	/* [lock] aliases whose target is this region (back references). */
	ms_region **aliased_by;
	size_t nr_aliased_by, cap_aliased_by;

	const ms_region_ops *ops;
	void *opaque;
	void *ram;       /* host memory, or NULL */
	bool ram_mapped; /* ram was mmap()ed by us (size ram_len) */
	size_t ram_len;

	uint64_t mark;     /* [lock] epoch at which it was marked during commit */
	uint64_t touched;  /* [lock] touch_epoch at which it entered ctx->touched */
	/* [lock] during a commit: the view rendered from this region, if any. */
	ms_flatview *commit_view;
	uint64_t commit_view_epoch;

	ms_region *next, *prev; /* [lock] ctx->regions links */

	/* IOMMU regions made by ms_iommu_new(): the class and notifiers (iommu.c). */
	struct ms__iommu *iommu; /* NULL for every other region; fixed at creation */
};

/* Record that @r changed in a way that can alter rendering. */
int ms__region_touch(ms_region *r);
/* Free a region whose refcount reached 0 (takes the lock). */
void ms__region_destroy(ms_region *r);
/* Free every region of a dying context regardless of references. */
void ms__region_free_all(ms_ctx *ctx);
/* Terminating = fills the gaps under its children (not container or alias). */
static inline bool ms__region_terminates(const ms_region *r)
{
	return r->kind != MS_REGION_CONTAINER && r->kind != MS_REGION_ALIAS;
}
/* Printed kind: "ram", "rom", "romd", "ramd" or "i/o" (QEMU's rule). */
const char *ms__region_type_name(const ms_region *r);

/* ---- render (render.c) -------------------------------------------------- */

#define MS__RANGE_READONLY (1u << 0)
#define MS__RANGE_NONVOLATILE (1u << 1)
#define MS__RANGE_UNMERGEABLE (1u << 2)
#define MS__RANGE_ROMD (1u << 3)

/* One flat range: [start, last] maps to region at offset_in_region. */
typedef struct ms__range {
	uint64_t start;
	uint64_t last;
	uint64_t offset_in_region;
	ms_region *region;
	uint8_t flags;
	uint8_t dirty_log_mask;
} ms__range;

/* Deepest nesting (containers + aliases) a render follows before -ELOOP. */
#define MS__RENDER_MAX_DEPTH MS_RENDER_MAX_DEPTH

/*
 * Render @root (may be NULL) into a new sorted, disjoint, merged array.
 * Pure: reads the tree, takes no references, changes nothing.
 * Return: 0, -ENOMEM, or -ELOOP.
 */
int ms__render(ms__range **out, size_t *nr, ms_ctx *ctx, ms_region *root);
/* The same restricted to the addresses [lo, hi]: equals the full render cut
 * at lo and hi (rendering is pointwise), merged inside the window. */
int ms__render_window(ms__range **out, size_t *nr, ms_ctx *ctx, ms_region *root, uint64_t lo,
		      uint64_t hi);
bool ms__range_equal(const ms__range *a, const ms__range *b);
/* R9: @next directly follows @prev and continues it (same region, offsets, flags). */
bool ms__range_can_merge(const ms__range *prev, const ms__range *next);

/* ---- flat views (flatview.c, dispatch.c) --------------------------------- */

/*
 * A view is a sequence of immutable chunks of at most MS__CHUNK_MAX ranges.
 * Chunks are reference-counted and shared between successive views: a
 * commit that changes a few ranges builds new chunks only where they
 * changed and copies the pointers of the others (the chunk table is
 * O(ranges / MS__CHUNK_FILL)). A chunk holds a reference on the region of
 * each of its ranges; a view holds a reference on its root and its chunks.
 */
#define MS__CHUNK_MAX 64
#define MS__CHUNK_FILL 48 /* target size when re-chunking around a window */

typedef struct ms__chunk {
	/* Range starts, UINT64_MAX beyond nr; sep[j] = keys[8 * (j + 1)]. */
	uint64_t keys[MS__CHUNK_MAX];
	uint64_t sep[8];
	uint32_t refcount; /* atomic */
	uint32_t nr;       /* 1 .. MS__CHUNK_MAX */
	/* nr ranges, then a copy of the last one (the lookup hint's successor
	 * check reads it; it holds no region reference). */
	ms__range ranges[];
} ms__chunk;

/*
 * Static search index over a sorted key array (the first start of every
 * chunk): levels of 8-key nodes, one cache line each, where a key of
 * level l + 1 is every 8th key of level l; the top level has 1 or 2 nodes. ms__sidx_rank() returns how
 * many keys are <= a value.
 */
typedef struct ms__sidx {
	uint64_t *mem;      /* all levels (64-byte aligned) */
	uint64_t *level[8]; /* level[0] = the keys padded with UINT64_MAX */
	unsigned nr_levels;
	size_t top_len; /* keys in the top level: 8 or 16 */
	size_t nr;
} ms__sidx;

struct ms_flatview {
	uint32_t refcount; /* atomic */
	ms_ctx *ctx;
	ms_region *root; /* reference held; NULL for the empty view */
	size_t nr;        /* ranges */
	size_t nr_chunks;
	ms__chunk **chunks; /* references held */
	size_t *cum;        /* cum[c]: ranges before chunk c; cum[nr_chunks] = nr */
	ms__sidx index;     /* over chunks[c]->ranges[0].start */
	/* seps[c] = chunks[c]->sep, copied so that a lookup loads it in
	 * parallel with chunks[c] instead of after it (64-byte aligned). */
	uint64_t (*seps)[8];
	const ms__range *hint; /* the last range found (relaxed atomic) */
	struct rcu_head rcu;
};

/* Position of a range in a view. */
typedef struct ms__fvpos {
	size_t chunk, index;
} ms__fvpos;

/*
 * Take a reference on a view found through rcu_dereference() unless its
 * count already dropped to 0: a commit replaced it and call_rcu frees it
 * when the caller's read-side section ends. Return: whether it was taken.
 */
bool ms__flatview_tryref(ms_flatview *fv);

/* Build a view from rendered ranges (copies them; takes references on the
 * root and every region). 0 or -ENOMEM. */
int ms__flatview_new(ms_flatview **out, ms_ctx *ctx, ms_region *root, const ms__range *ranges,
		     size_t nr);

/* A window of a view to re-render: [lo, hi] with the ranges rendered there. */
typedef struct ms__window {
	uint64_t lo, hi;
	ms__range *ranges;
	size_t nr;
} ms__window;

/*
 * Build the view that equals @old except inside the windows (sorted,
 * disjoint), where it has their rendered ranges; shares @old's chunks
 * outside them. Return: 0, -ENOMEM, or -EAGAIN when the result would not
 * equal a full render (an unmergeable range meets a window edge): the
 * caller then renders in full.
 */
int ms__flatview_splice(ms_flatview **out, const ms_flatview *old, ms_region *root,
			const ms__window *windows, size_t nr_windows);

/*
 * The range containing @addr, or NULL. The access path's lookup: any thread,
 * the view held (reference or RCU read-side section).
 */
const ms__range *ms__flatview_lookup(const ms_flatview *fv, uint64_t addr);
/* The first range starting after @addr, or NULL. */
const ms__range *ms__flatview_next_after(const ms_flatview *fv, uint64_t addr);
/* The range at sorted position @i (< fv->nr). */
const ms__range *ms__flatview_at(const ms_flatview *fv, size_t i);
/* Static index build/free (dispatch.c). */
int ms__sidx_build(ms__sidx *x, ms_ctx *ctx, const uint64_t *keys, size_t nr);
void ms__sidx_free(ms__sidx *x);
size_t ms__sidx_rank(const ms__sidx *x, uint64_t key);
/* Invariant checker: sorted, disjoint, non-empty, merged, chunks consistent. 0 or -EINVAL. */
int ms__flatview_check(const ms_flatview *fv);
void ms__section_from_range(ms_section *s, const ms__range *r);

/* Iterate the ranges of a view in order: for (ms__fvpos p = {0, 0}; (r = ms__fv_next(fv, &p));) */
static inline const ms__range *ms__fv_next(const ms_flatview *fv, ms__fvpos *p)
{
	const ms__range *r;

	if (p->chunk >= fv->nr_chunks)
		return NULL;
	r = &fv->chunks[p->chunk]->ranges[p->index];
	if (++p->index == fv->chunks[p->chunk]->nr) {
		p->chunk++;
		p->index = 0;
	}
	return r;
}

/* ---- address spaces and commit (as.c) ----------------------------------- */

struct ms_as {
	ms_ctx *ctx;
	char *name;
	ms_region *root;     /* reference held */
	ms_region *fv_root;  /* [lock] flatview root at the last commit */
	ms_flatview *view;   /* [rcu] reference held */

	/* DMA map/unmap (map.c) */
	struct ms__map_pool *map_pool; /* created on first use (atomic pointer), or NULL */
	size_t bounce_budget;          /* atomic; 0 means MS_BOUNCE_BUDGET_DEFAULT */
};

/* A window [lo, hi] of a flatview root's render (absolute addresses). */
typedef struct ms__dirty {
	ms_region *root;
	uint64_t lo, hi;
} ms__dirty;

/*
 * Record that [lo, hi] of @r (offsets in @r, inclusive, clipped to @clip
 * bytes) may render differently after the pending change, by mapping the
 * window up through containers and aliases to every flatview root that
 * shows it, with the topology as it is now. Cannot fail: when the windows
 * cannot be tracked it sets ctx->dirty_all instead. Lock held.
 */
void ms__region_dirty(ms_region *r, ms__u128 lo, ms__u128 hi, ms__u128 clip);
/* Forget the pending windows (after a commit, or with the pending changes). */
void ms__dirty_reset(ms_ctx *ctx);

/* Commit everything pending. Lock held, depth 0. */
int ms__commit(ms_ctx *ctx);
ms_region *ms__flatview_root_of(ms_region *root);
/* Debug checker: every address space's view equals a fresh render. */
int ms__ctx_check(ms_ctx *ctx);

/* ---- listeners (listener.c) --------------------------------------------- */

struct ms_listener {
	ms_ctx *ctx;
	ms_as *as;
	const ms_listener_ops *ops;
	void *opaque;
	uint64_t seq;
};

void ms__listeners_begin(ms_ctx *ctx);
void ms__listeners_commit(ms_ctx *ctx);
/* Deliver the two-pass difference between two views of @as. */
void ms__listeners_diff(ms_as *as, const ms_flatview *old_view, const ms_flatview *new_view);

/* ---- access path (access.c) ---------------------------------------------- */

/*
 * Whether a read (or, with @is_write, a write) can use the host memory behind @r
 * directly (memcpy or a host mapping) rather than going through the access
 * engine: RAM-backed kinds for reads (ROM devices only in romd mode), and for
 * writes only RAM-backed kinds whose range is not readonly. RAM devices are
 * never direct (they need exact-width accesses). Callers still apply the
 * attrs.memory rule: a ROM device is direct for reads in romd mode, yet it is
 * not RAM.
 */
bool ms__range_is_direct(const ms__range *r, bool is_write);

/* ---- DMA map/unmap (map.c) ------------------------------------------------ */

/*
 * Release everything map.c holds for @as: live mappings (bounce buffers are
 * freed without write-back, direct mappings drop their region references),
 * map clients, the pool itself. Called by ms_as_free() and ms_ctx_free();
 * nothing else may use @as meanwhile.
 */
void ms__as_map_destroy(ms_as *as);
/*
 * Record that [offset, offset + len) of @r's memory was written behind the
 * access path's back (through a direct DMA mapping). A no-op until dirty
 * tracking exists; see map.c.
 */
void ms__ram_mark_dirty(ms_region *r, uint64_t offset, uint64_t len);
/* Debug checker of the map pool of @as (budget accounting, client lists). 0 or -EINVAL. */
int ms__as_map_check(ms_as *as);

/* ---- IOMMU regions (iommu.c, interval.c) --------------------------------- */

/*
 * Interval index (interval.c): a treap of inclusive ranges ordered by
 * (start, seq), each node augmented with the largest last address of its
 * subtree. Nodes are embedded in their owners; seq must be unique within
 * one tree and below UINT64_MAX (it also derives the node's heap priority).
 */
typedef struct ms__ivnode {
	uint64_t start, last; /* the range [start, last] */
	uint64_t seq;         /* tie-breaker among equal starts, unique */
	uint64_t max_last;    /* largest last in this subtree */
	struct ms__ivnode *left, *right;
} ms__ivnode;

/* A position in (start, seq) order: visits go strictly after it. */
typedef struct ms__ivkey {
	uint64_t start, seq;
} ms__ivkey;

void ms__iv_insert(ms__ivnode **root, ms__ivnode *node);
void ms__iv_remove(ms__ivnode **root, ms__ivnode *node);
/*
 * Call @fn on every node after *@after (in (start, seq) order) whose range
 * intersects [first, last], in that order. *@after is set to each node's key
 * before @fn runs. A non-zero return of @fn stops the visit at once (no node
 * is touched afterwards, so @fn may change the tree if it then returns
 * non-zero) and is returned; resume with the same *@after.
 */
int ms__iv_visit(ms__ivnode *root, uint64_t first, uint64_t last, ms__ivkey *after,
		 int (*fn)(ms__ivnode *node, void *arg), void *arg);
/* Checker: order, heap and max_last invariants. Number of nodes, or -EINVAL. */
long ms__iv_check(const ms__ivnode *root);

/*
 * One translation already made on the current path (a linked list on the
 * callers' stacks, innermost first), for cycle and depth detection.
 */
typedef struct ms__iommu_hop {
	const ms_region *iommu;
	uint64_t offset;
	unsigned idx;
	unsigned depth; /* 1 for the first translation of an access */
	const struct ms__iommu_hop *outer;
} ms__iommu_hop;

/*
 * Translate @offset of the IOMMU region @mr for an access (@is_write,
 * @attrs), as one hop after @outer (NULL for the first). On success fills
 * @entry (target_as non-NULL, of @mr's context; a valid mask) and @hop (to
 * pass as @outer of the next hop). Inside an RCU read-side section.
 * Return: 0; -ENOENT when @mr has no class; -EACCES when the permission is
 * missing or the translation would re-enter @mr on this thread's access
 * chain; -EIO for a malformed entry or an index out of range; -ELOOP for a
 * cycle or a chain longer than MS_IOMMU_MAX_CHAIN.
 */
int ms__iommu_translate_hop(ms_iotlb_entry *entry, ms__iommu_hop *hop, const ms_region *mr,
			    uint64_t offset, bool is_write, ms_attrs attrs,
			    const ms__iommu_hop *outer);

/* Where (entry) sends @offset: (translated & ~mask) | (offset & mask). */
static inline uint64_t ms__iotlb_xlat(const ms_iotlb_entry *e, uint64_t offset)
{
	return (e->translated_addr & ~e->addr_mask) | (offset & e->addr_mask);
}

/* The IOMMU's notification count (atomic), for region caches; 0 without a class. */
uint64_t ms__iommu_notify_gen(const ms_region *mr);

/* Create an IOMMU region owning @state (NULL: no class) (region.c). */
int ms__region_new_iommu(ms_region **out, ms_ctx *ctx, const char *name, uint64_t size,
			 struct ms__iommu *state);
/*
 * Finish the IOMMU state of a new region (r->iommu set, not yet published):
 * ask the class for its index count, allocate the notifier indexes (iommu.c).
 * 0, -EINVAL or -ENOMEM.
 */
int ms__iommu_init(ms_region *r);
/* Free the IOMMU state of a dying region, notifiers included (iommu.c). */
void ms__iommu_destroy(ms_region *r);

#endif /* MEMSPACE_INTERNAL_H */
