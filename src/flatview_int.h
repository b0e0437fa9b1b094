/*
 * flatview_int.h: the layout of a flat view, shared by flatview.c (building,
 * splicing, lifetime) and dispatch.c (the lookup index), and its inline
 * look-up, which the access path compiles into its own code; every other
 * module goes through flatview.h.
 *
 * A view is a sequence of immutable chunks of at most MS__CHUNK_MAX ranges,
 * grouped into immutable segments of at most MS__SEG_MAX chunks. Both are
 * reference-counted and shared between successive views: a commit that
 * changes a few ranges builds new chunks only where they changed, new
 * segments only around those chunks, and copies the pointers of the other
 * segments, so its cost is O(ranges / (MS__CHUNK_FILL * MS__SEG_FILL)) plus
 * the changed segments, not one reference per chunk. A chunk holds a
 * reference on the region of each of its ranges, a segment on each of its
 * chunks, a view on its root and its segments.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_FLATVIEW_LAYOUT_H
#define MEMSPACE_FLATVIEW_LAYOUT_H

#include "flatview.h"

#define MS__CHUNK_MAX 64
#define MS__CHUNK_FILL 48 /* target size when re-chunking around a window */

/*
 * A direct map in front of the search of a chunk, a segment or a view (over
 * its segments): the span from @base to the structure's last address is cut into at most
 * MS__MAP_SLOTS blocks of 1 << @shift bytes (the smallest power of two that
 * does it), and @slot[b] says where block b's answer is, as flatview.c's
 * map builders describe, or MS__MAP_SLOW when the block holds too many
 * boundaries for that and the look-up must search the keys. Addresses
 * before @base or in blocks from @limit on are searched too. On the
 * layouts emulated machines have (regions of comparable size), each block
 * meets one or two ranges, and a look-up is one slot load and one compare
 * instead of two lines of compares.
 */
#define MS__MAP_BITS 7
#define MS__MAP_SLOTS (1u << MS__MAP_BITS)
#define MS__MAP_SLOW 0x80u

typedef struct ms__map {
	uint64_t base;
	uint32_t limit; /* blocks mapped: 0 .. MS__MAP_SLOTS */
	uint32_t shift; /* 0 .. 63 */
	uint8_t slot[MS__MAP_SLOTS];
} ms__map;

/* The slot of @addr in @m, or MS__MAP_SLOW when @m does not map it. */
static inline unsigned ms__map_slot(const ms__map *m, uint64_t addr)
{
	uint64_t b = (addr - m->base) >> m->shift; /* huge below base */

	return b < m->limit ? m->slot[b] : MS__MAP_SLOW;
}

typedef struct ms__chunk {
	/* Block b of the map: the first range ending in or after it, when at
	 * most that range and the next one meet the block. */
	ms__map map;
	/* Range starts, UINT64_MAX beyond nr; sep[j] = keys[8 * (j + 1)]. */
	uint64_t keys[MS__CHUNK_MAX];
	uint64_t sep[8];
	uint32_t refcount; /* atomic */
	uint32_t nr;       /* 1 .. MS__CHUNK_MAX */
	/* nr ranges, then a copy of the last one (the hint's successor check
	 * reads it; it holds no region reference). */
	ms__range ranges[];
} ms__chunk;

/*
 * Static search index over a sorted key array (the first start of every
 * chunk): levels of 8-key nodes, one cache line each, where a key of
 * level l + 1 is every 8th key of level l; the top level has 1 or 2 nodes.
 * ms__dispatch_rank() returns how many keys are <= a value.
 */
typedef struct ms__sidx {
	uint64_t *mem;      /* all levels (64-byte aligned) */
	uint64_t *level[8]; /* level[0] = the keys padded with UINT64_MAX */
	unsigned nr_levels;
	size_t top_len; /* keys in the top level: 8 or 16 */
	size_t nr;
} ms__sidx;

#define MS__SEG_MAX 64
#define MS__SEG_FILL 48 /* target size when regrouping around a window */

/* One allocation: the header, then seps, chunks and cum sized to nr. */
typedef struct ms__seg {
	/* Block b of the map: the chunk holding the block's first address,
	 * when at most one more chunk starts in the block. */
	ms__map map;
	/* First start of each chunk, UINT64_MAX from nr on (firsts[MS__SEG_MAX]
	 * too, which the map's look-up may read); fsep[j] = firsts[8 * (j + 1)]. */
	uint64_t firsts[MS__SEG_MAX + 1];
	uint64_t fsep[8];
	ms__chunk **chunks; /* nr, references held */
	uint32_t *cum;      /* nr + 1: ranges before chunk c; cum[nr] = all */
	uint32_t refcount;  /* atomic */
	uint32_t nr;        /* chunks, 1 .. MS__SEG_MAX */
	/* seps[c] = chunks[c]->sep, copied so that a look-up loads it in
	 * parallel with chunks[c] instead of after it. */
	uint64_t seps[][8] __attribute__((aligned(64)));
} ms__seg;

/* One allocation: the struct, then its index keys, segment table, cum, ccum and firsts. */
struct ms_flatview {
	uint32_t refcount; /* atomic */
	/* A view of one chunk whose map needs no search (no slot left to
	 * it): that chunk's ranges, and its map copied into @map, so that
	 * the look-up of small views is the view's map, one slot and one
	 * range, with no hint (a random look-up would only store it).
	 * NULL otherwise. In the first line, with the head of @map. */
	const ms__range *direct;
	/* Block b of the map: for a view of several segments, the segment
	 * holding the block's first address, when at most one more segment
	 * starts in the block; for a view with @direct, its chunk's map;
	 * unset otherwise. */
	ms__map map;
	/* The last range found | its MS__HINT_* state (relaxed atomic); a new
	 * view's is NULL | MS__HINT_COLD (unused in a view with @direct). In
	 * a line of its own with the flat table and the miss count, not in
	 * @direct's: a walk stores it at every range, and loads of @direct
	 * and the map then wait on nothing (irregular layout, four look-ups
	 * per range, 1,000 ranges: 2.3 ns, 2.6 to 2.9 in the first line). */
	uintptr_t hint;
	const struct ms__flat *flat; /* atomic (release/acquire): NULL until built */
	/* Look-ups the hint did not answer (relaxed, lost updates allowed; in
	 * the hint's line, which those look-ups write anyway); at flat_after,
	 * the view builds its flat table (UINT32_MAX: never). */
	uint32_t misses;
	uint32_t flat_after; /* relaxed atomic: UINT32_MAX once the build is taken */
	uint8_t flat_tried;  /* atomic: a thread took the table's build */
	ms_ctx *ctx;
	ms_region *root; /* reference held; NULL for the empty view */
	size_t nr;       /* ranges */
	size_t nr_chunks;
	size_t nr_segs;
	ms__seg **segs; /* references held */
	size_t *cum;    /* cum[s]: ranges before segment s; cum[nr_segs] = nr */
	size_t *ccum; /* ccum[s]: chunks before segment s; ccum[nr_segs] = nr_chunks (in cum's block) */
	ms__sidx index;   /* over segs[s]->firsts[0] */
	uint64_t *firsts; /* nr_segs + 1: segs[s]->firsts[0], then UINT64_MAX */
	/* The chunk of a view of one chunk (up to 64 ranges), else NULL: the
	 * look-up of small views goes straight to it. */
	const ms__chunk *chunk0;
	struct rcu_head rcu;
};

/*
 * A view's flat table: the span of its ranges cut into @limit blocks of
 * 1 << @shift bytes (one to four per range), and for each block the
 * one range that meets it, or a range that does not meet it when none
 * does, or NULL when several do (the look-up then searches). A view that
 * lives long enough to answer MS__FLAT_AFTER_MIN, or four per range,
 * look-ups that its hint does not builds it on the reader's thread that
 * reaches the count, and keeps it when it answers directly for at least
 * half the ranges; a look-up is then one slot and one range. A view of one
 * chunk whose map needs no search (@direct) is as direct without it.
 */
typedef struct ms__flat {
	uint64_t base;
	uint64_t limit;
	unsigned shift;
	const ms__range *slot[];
} ms__flat;

/* The range @t's slot names for @addr, or NULL when @addr is outside the
 * table or in a crowded block (the look-up then searches). */
static inline __attribute__((always_inline)) const ms__range *ms__flat_slot(const ms__flat *t,
									    uint64_t addr)
{
	uint64_t b = (addr - t->base) >> t->shift; /* huge below base */

	return __builtin_expect(b < t->limit, 1) ? t->slot[b] : NULL;
}

#define MS__FLAT_AFTER_MIN 4096
#define MS__FLAT_MAX_RANGES ((size_t)1 << 18) /* at most 2^19 slots, 4 MiB */

/* The misses after which a view of @nr ranges builds its table. */
static inline uint32_t ms__flat_after(size_t nr)
{
	if (nr < 2 || nr > MS__FLAT_MAX_RANGES)
		return UINT32_MAX;
	return 4 * nr > MS__FLAT_AFTER_MIN ? (uint32_t)(4 * nr) : MS__FLAT_AFTER_MIN;
}

/* Build @fv's flat table, once (dispatch.c; the first caller does it). */
void ms__dispatch_flat_build(ms_flatview *fv);
/* ms__dispatch_flat_build(), then the look-up of @addr. */
const ms__range *ms__dispatch_flat_build_find(ms_flatview *fv, uint64_t addr);
/* 0 when @fv has no table or a table that says what its ranges say, else -EINVAL. */
int ms__dispatch_flat_check(const ms_flatview *fv);

/*
 * Static index (dispatch.c): ms__dispatch_size() is how many keys an index
 * of @nr keys takes (SIZE_MAX when too many), ms__dispatch_fill() builds it
 * in @mem (64-byte aligned, that many keys, owned by the caller);
 * ms__dispatch_build() allocates it (x->mem, for ms__dispatch_free()).
 */
size_t ms__dispatch_size(size_t nr);
void ms__dispatch_fill(ms__sidx *x, uint64_t *mem, const uint64_t *keys, size_t nr);
int ms__dispatch_build(ms__sidx *x, ms_ctx *ctx, const uint64_t *keys, size_t nr);
void ms__dispatch_free(ms__sidx *x);
size_t ms__dispatch_rank(const ms__sidx *x, uint64_t key);

/* The s < @n with cum[s] <= @i < cum[s + 1], for cum ascending from cum[0] = 0
 * and @i < cum[n]: which segment holds a range (cum) or a chunk (ccum). */
static inline size_t ms__cum_find(const size_t *cum, size_t n, size_t i)
{
	size_t lo = 0, hi = n;

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (cum[mid] <= i)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* ---- the look-up (dispatch.c explains it), inline for the access path ---- */

#define MS__NODE 8 /* keys per node: 8 x 8 bytes = one cache line */

/* Keys <= @key among the 8 at @node: two independent sums of four, so the
 * compare-and-add chain is half as long. */
static inline size_t ms__node_rank(const uint64_t *node, uint64_t key)
{
	size_t a =
		(size_t)(node[0] <= key) + (node[1] <= key) + (node[2] <= key) + (node[3] <= key);
	size_t b =
		(size_t)(node[4] <= key) + (node[5] <= key) + (node[6] <= key) + (node[7] <= key);

	return a + b;
}

/* Inlined into the look-up; ms__dispatch_rank() is the out-of-line form. */
static inline __attribute__((always_inline)) size_t ms__sidx_rank(const ms__sidx *x, uint64_t key)
{
	size_t pos = 0;
	unsigned l;

	if (x->nr == 0 || key == UINT64_MAX)
		return x->nr; /* padding is UINT64_MAX too: do not count it */
	/* The top level: one or two nodes. */
	l = x->nr_levels - 1;
	pos = ms__node_rank(x->level[l], key);
	/* Count the second node whatever the first gave (its keys are all
	 * greater unless the first counted 8): a per-view branch, where
	 * testing pos would mispredict half the time. */
	if (x->top_len > MS__NODE)
		pos += ms__node_rank(x->level[l] + MS__NODE, key);
	/* Invariant: pos is the rank of @key among the keys of level l, which
	 * is also the node of level l - 1 to search. */
	while (l-- > 0)
		pos = pos * MS__NODE + ms__node_rank(&x->level[l][pos * MS__NODE], key);
	return pos;
}

/* Keys <= @addr among the 64 at @keys, whose separators are @sep (every
 * 8th key): one line of separators, then one line of keys. */
static inline size_t ms__rank64(const uint64_t *keys, const uint64_t *sep, uint64_t addr)
{
	size_t block;

	block = (size_t)(sep[0] <= addr) + (sep[1] <= addr) + (sep[2] <= addr) + (sep[3] <= addr);
	block += (size_t)(sep[4] <= addr) + (sep[5] <= addr) + (sep[6] <= addr);
	return block * MS__NODE + ms__node_rank(&keys[block * MS__NODE], addr);
}

/* Ranges of @ch starting at or below @addr (at least 1 when ch->keys[0] <= addr). */
static inline size_t ms__chunk_rank(const ms__chunk *ch, const uint64_t *sep, uint64_t addr)
{
	if (addr == UINT64_MAX)
		return ch->nr; /* padding is UINT64_MAX too: do not count it */
	return ms__rank64(ch->keys, sep, addr);
}

/* Chunks of @seg starting at or below @addr (at least 1 when seg->firsts[0] <= addr). */
static inline size_t ms__seg_rank(const ms__seg *seg, uint64_t addr)
{
	if (addr == UINT64_MAX)
		return seg->nr;
	if (seg->nr == 1)
		return 1; /* the caller knows firsts[0] <= addr: a per-view branch */
	return ms__rank64(seg->firsts, seg->fsep, addr);
}

static inline bool ms__range_contains(const ms__range *r, uint64_t addr)
{
	return addr - r->start <= r->last - r->start;
}

/* The chunk of @seg that holds @addr, given seg->firsts[0] <= addr. */
static inline __attribute__((always_inline)) size_t ms__seg_find(const ms__seg *seg, uint64_t addr)
{
	unsigned v = ms__map_slot(&seg->map, addr);

	/* The map leaves UINT64_MAX, the padding's value, to the search. */
	if (__builtin_expect(v != MS__MAP_SLOW, 1))
		return v + (seg->firsts[v + 1] <= addr);
	return ms__seg_rank(seg, addr) - 1;
}

/* The range of @ch that holds @addr, or NULL; @sep are @ch's separators. */
static inline __attribute__((always_inline)) const ms__range *
ms__chunk_find(const ms__chunk *ch, const uint64_t *sep, uint64_t addr)
{
	unsigned v = ms__map_slot(&ch->map, addr);
	const ms__range *r;

	if (__builtin_expect(v != MS__MAP_SLOW, 1)) {
		/* ranges[v + 1] is readable: at worst the copy of the last range,
		 * which cannot hold an address past ranges[v]. */
		r = &ch->ranges[v];
		r += addr > r->last;
	} else {
		size_t i = ms__chunk_rank(ch, sep, addr);

		if (i == 0)
			return NULL;
		r = &ch->ranges[i - 1];
	}
	return ms__range_contains(r, addr) ? r : NULL;
}

/* The hint's state, in the low bits of the range pointer (entries are
 * 8-byte aligned): warm (0) is tried, the others are not. */
#define MS__HINT_STATE ((uintptr_t)3)
_Static_assert(_Alignof(ms__range) > MS__HINT_STATE, "range entries leave the hint's state bits");
#define MS__HINT_LUKEWARM ((uintptr_t)1) /* warm if the next look-up lands there again */
#define MS__HINT_COLD ((uintptr_t)2)     /* >> 1 is MS__HINT_LUKEWARM */

/* Whether @r, just found, is the range @last of the previous look-up or
 * follows it: the next one in its chunk or, when @last ends its chunk
 * (@last + 1 is the chunk's copy of it), a later one, so that a walk
 * keeps the hint warm across chunks. */
static inline bool ms__hint_follows(const ms__range *last, const ms__range *r)
{
	if (!last)
		return false;
	return r == last || r == last + 1 ||
	       (last[1].start == last->start && r->start > last->start);
}

/* The hint after a look-up found @r where the hint held @last: @r, warm if
 * it is @last or follows it (a walk), else cold. */
static inline uintptr_t ms__hint_after(const ms__range *last, const ms__range *r)
{
	uintptr_t next = (uintptr_t)r;

	if (!ms__hint_follows(last, r))
		next |= MS__HINT_COLD;
	return next;
}

/* Make @next @fv's hint, which was @hint. Written only when it moves:
 * readers of one hot range then share the cache line instead of bouncing
 * it between cores. */
static inline void ms__hint_set(const ms_flatview *fv, uintptr_t hint, uintptr_t next)
{
	if (next != hint)
		__atomic_store_n(&((ms_flatview *)fv)->hint, next, __ATOMIC_RELAXED);
}

/*
 * The rest of the look-up of @addr in a view of several chunks, whose hint
 * was @hint: the view's map or index, then the segment's and the chunk's
 * (dispatch.c, out of line).
 */
const ms__range *ms__dispatch_search(const ms_flatview *fv, uint64_t addr, uintptr_t hint);

/* What the inline look-up does about the view's flat table. */
enum {
	MS__FIND_QUIET, /* nothing: does not count towards it (the invariant checker) */
	MS__FIND_COUNT, /* counts, and the look-up that reaches the count builds it */
	/* only a direct view's map, the flat table's slots or, in a view
	 * without a table, the warm hint's range; for anything else (a walk
	 * to the next range, a search, a miss to count, the table's build) the
	 * look-up returns MS__FIND_AGAIN, and the caller tail-calls code that
	 * looks up again with MS__FIND_COUNT: its fast path then makes no
	 * call and is small enough to need few registers */
	MS__FIND_FAST,
};
#define MS__FIND_AGAIN ((const ms__range *)1)

/* The look-up, inline, going on as @mode (MS__FIND_*) says. */
static inline __attribute__((always_inline)) const ms__range *
ms__dispatch_find_counting(const ms_flatview *fv, uint64_t addr, int mode)
{
	const ms__range *r, *last;
	const ms__flat *t;
	uintptr_t hint, next;

	r = fv->direct;
	if (r) {
		/* A direct view: its map, one slot and one range, no hint. An
		 * address outside the map is outside the chunk's span, and
		 * slot 0 answers for it, as the view's copy does for the
		 * blocks past the span: below the span the first range does
		 * not hold it, above it neither does the next (or the copy of
		 * the last) that the check below moves on to. The range a
		 * slot names is the first that ends in or after its block, so
		 * when it ends after @addr, @addr is in it or in the hole
		 * before it. */
		uint64_t b = (addr - fv->map.base) >> fv->map.shift; /* huge below base */

		if (__builtin_expect(b < MS__MAP_SLOTS, 1))
			r += fv->map.slot[b];
		if (__builtin_expect(addr > r->last, 0) && addr > (++r)->last)
			return NULL;
		return addr >= r->start ? r : NULL;
	}
	if (mode == MS__FIND_FAST) {
		/* The flat table's slot where there is one (no hint: a slot
		 * and a range answer as fast), else the hint's range when it
		 * is warm and holds @addr; nothing else, and no store, so that
		 * the fast path stays small. */
		t = __atomic_load_n(&fv->flat, __ATOMIC_ACQUIRE);
		if (t) {
			if ((r = ms__flat_slot(t, addr)) != NULL)
				return ms__range_contains(r, addr) ? r : NULL;
		} else {
			hint = __atomic_load_n(&((ms_flatview *)fv)->hint, __ATOMIC_RELAXED);
			if (!(hint & MS__HINT_STATE) &&
			    ms__range_contains((const ms__range *)hint, addr))
				return (const ms__range *)hint;
		}
		return MS__FIND_AGAIN;
	}
	/* The hint is the last range found (a relaxed guess into this view's
	 * chunks) with a state: a look-up that did not find the range the
	 * hint held or one after it leaves it cold, and a cold hint is not
	 * tried, so random look-ups do not pay two unpredictable branches for
	 * it; a look-up that lands where the hint points, or after it, warms
	 * it again. Each chunk's ranges end with a copy of its last range, so
	 * hint + 1 is always readable and matches only where the hint did
	 * not. */
	hint = __atomic_load_n(&((ms_flatview *)fv)->hint, __ATOMIC_RELAXED);
	if (__builtin_expect(!(hint & MS__HINT_STATE), 1)) {  /* never NULL then */
		const ms__range *h = (const ms__range *)hint; /* warm: no state bits */

		if (__builtin_expect(ms__range_contains(h, addr), 1))
			return h;
		if (ms__range_contains(h + 1, addr)) {
			/* A walk: the hint moves on, warm. */
			__atomic_store_n(&((ms_flatview *)fv)->hint, (uintptr_t)(h + 1),
					 __ATOMIC_RELAXED);
			return h + 1;
		}
	}
	last = (const ms__range *)(hint & ~MS__HINT_STATE);
	t = __atomic_load_n(&fv->flat, __ATOMIC_ACQUIRE);
	if (t) {
		if ((r = ms__flat_slot(t, addr)) != NULL) {
			if (!ms__range_contains(r, addr))
				return NULL;
			/* A slot and a range are as quick as the hint, so it
			 * warms only after two more look-ups in a row land on
			 * the range it holds or the next: random look-ups over
			 * few ranges do that once by chance too often for once
			 * to say anything. A branch decides, where a conditional
			 * move would make the hint stored depend on the hint
			 * loaded and queue look-ups behind each other's store
			 * of it: tables serve views whose random look-ups
			 * rarely follow the hint. */
			next = (uintptr_t)r | MS__HINT_COLD;
			if (__builtin_expect((uintptr_t)r - (uintptr_t)last <= sizeof(*r), 0)) {
				next = (uintptr_t)r | (hint & MS__HINT_COLD) >> 1;
				__asm__("" : "+r"(next)); /* no conditional move */
			}
			goto store;
		}
		/* Outside the table, or a crowded block: the search. */
	} else if (mode != MS__FIND_QUIET) {
		uint32_t after = __atomic_load_n(&fv->flat_after, __ATOMIC_RELAXED);

		if (after != UINT32_MAX) {
			uint32_t n = __atomic_load_n(&fv->misses, __ATOMIC_RELAXED);

			if (__builtin_expect(n < after, 1))
				__atomic_store_n(&((ms_flatview *)fv)->misses, n + 1,
						 __ATOMIC_RELAXED);
			else /* a tail call where the look-up is: no registers to keep */
				return ms__dispatch_flat_build_find((ms_flatview *)fv, addr);
		}
	}
	if (fv->chunk0) {
		r = ms__chunk_find(fv->chunk0, fv->chunk0->sep, addr);
		if (!r)
			return NULL;
		next = ms__hint_after(last, r);
		goto store;
	}
	/* The searches of views of several chunks, out of line: on its way
	 * to the hint, a chunk or the flat table, the look-up inlined into
	 * its callers then makes no call, so that their fast paths need save
	 * no registers for it (a tail call where the look-up is). */
	return ms__dispatch_search(fv, addr, hint);
store:
	ms__hint_set(fv, hint, next);
	return r;
}

/* ms__dispatch_lookup() inline, for the access path and the public look-ups. */
static inline __attribute__((always_inline)) const ms__range *
ms__dispatch_find(const ms_flatview *fv, uint64_t addr)
{
	return ms__dispatch_find_counting(fv, addr, MS__FIND_COUNT);
}

#endif /* MEMSPACE_FLATVIEW_LAYOUT_H */
