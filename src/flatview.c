/*
 * flatview.c: immutable, reference-counted flat views that share structure.
 *
 * A view is a table of segments of chunks (flatview_int.h). Chunks are
 * immutable sorted runs of at most MS__CHUNK_MAX ranges with their own small
 * search keys; segments are immutable runs of at most MS__SEG_MAX chunks
 * with the keys that find a chunk. Both are reference-counted and shared: a
 * commit that re-renders a few windows of the address space (txn.c) builds
 * new chunks only around those windows, new segments only around those
 * chunks, and copies the pointers of every other segment, so a commit costs
 * O(segments) pointer copies plus the work around its windows, and takes no
 * reference per unchanged chunk. A chunk holds a reference on the region of
 * each of its ranges, so a region that a reader can reach through a
 * published view is never freed. A view's last reference is dropped through
 * call_rcu(), so readers that found it through rcu_dereference() finish
 * first. The callback, on liburcu's thread, drops the references and hands
 * the dead blocks to the context (ms__ctx_defer_free()); the next view
 * built frees them on the committing thread (ms__ctx_reap()): freeing them
 * on liburcu's thread contended with the commits' allocations for the
 * allocator's lock, a futex wake-up per commit.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "flatview_int.h"

/* ---- direct maps ------------------------------------------------------------ */

/* Set up @m over [@base, @last]: the block size and the number of blocks. */
static void map_span(ms__map *m, uint64_t base, uint64_t last)
{
	uint64_t span = last - base;
	unsigned shift = 0;

	if (span >> MS__MAP_BITS)
		shift = 64u - (unsigned)__builtin_clzll(span) - MS__MAP_BITS;
	m->base = base;
	m->shift = shift;
	m->limit = (uint32_t)((span >> shift) + 1); /* <= MS__MAP_SLOTS */
}

/* First and last address of block @b of @m (the last block may end early). */
static void map_block(const ms__map *m, uint64_t b, uint64_t *first, uint64_t *last)
{
	*first = m->base + (b << m->shift);
	*last = *first + ((((uint64_t)1) << m->shift) - 1);
	if (*last < *first)
		*last = UINT64_MAX;
}

/*
 * Fill slots [@from, @to) of @m with @v, eight at a time: the stores may
 * run past @to, into slots that the builders fill later (runs come in
 * increasing order, each starts where the last ended, and the slots from
 * the last run's end are filled with MS__MAP_SLOW at the end), but never
 * past the map. Runs are mostly one to three slots: one store each, where
 * a byte loop took a compare and a branch per slot and memset() a call.
 */
static inline void map_run(ms__map *m, uint32_t from, uint32_t to, uint8_t v)
{
	uint64_t eight = (uint64_t)v * 0x0101010101010101u;
	uint32_t b;

	for (b = from; b < to && b + 8 <= MS__MAP_SLOTS; b += 8)
		memcpy(&m->slot[b], &eight, sizeof(eight));
	for (; b < to; b++)
		m->slot[b] = v;
}

/*
 * The map of a chunk's @nr sorted, disjoint ranges: slot b is the first
 * range ending in or after block b when no range after the next one
 * starts in the block. Whatever address of the block a look-up has, the
 * range holding it, if any, is then that range or the next one.
 *
 * Built range by range, O(ranges + slots): range j is the slot of the
 * blocks that start after range j - 1 ends and at or before range j ends,
 * and of those only the last can also hold the start of range j + 2.
 * map_ref_ranges() is the same map block by block, from the definition.
 */
static void map_fill_ranges(ms__map *m, const ms__range *r, size_t nr)
{
	uint64_t base = r[0].start;
	uint32_t from = 0;

	map_span(m, base, r[nr - 1].last);
	for (size_t j = 0; j < nr; j++) {
		uint32_t to = (uint32_t)((r[j].last - base) >> m->shift) + 1;

		if (to <= from)
			continue; /* ends in a block that an earlier range's run has */
		map_run(m, from, to, (uint8_t)j);
		if (j + 2 < nr && ((r[j + 2].start - base) >> m->shift) == to - 1)
			m->slot[to - 1] = MS__MAP_SLOW;
		from = to;
	}
	memset(m->slot + m->limit, MS__MAP_SLOW, MS__MAP_SLOTS - m->limit);
}

/*
 * The map of a segment whose chunks start at @firsts (@nr of them, padded
 * with UINT64_MAX) and whose last range ends at @last: slot b is the chunk
 * holding block b's first address when at most one more chunk starts in
 * the block, so that the chunk of an address of the block is that one or
 * the next. A view's map over its segments is built the same way (a slot
 * names one of the first 128 segments). The block holding UINT64_MAX,
 * which the padding would count, is searched.
 *
 * Built key by key, O(keys + slots): key k is the slot of the blocks that
 * start in [firsts[k], firsts[k + 1]), and of those only the last can also
 * hold firsts[k + 2]. map_ref_keys() is the same map from the definition.
 */
static void map_fill_keys(ms__map *m, const uint64_t *firsts, size_t nr, uint64_t last)
{
	uint64_t base = firsts[0], first, end;
	uint64_t mask;
	uint32_t from = 0;

	map_span(m, base, last);
	mask = ((uint64_t)1 << m->shift) - 1;
	for (size_t k = 0; k < nr && from < m->limit; k++) {
		uint32_t to = m->limit;

		if (k + 1 < nr) {
			uint64_t off = firsts[k + 1] - base;

			/* The first block starting at or after firsts[k + 1]. */
			to = (uint32_t)(off >> m->shift) + ((off & mask) != 0);
		}
		if (to <= from)
			continue;
		map_run(m, from, to, k < MS__MAP_SLOW ? (uint8_t)k : (uint8_t)MS__MAP_SLOW);
		if (k + 2 < nr && ((firsts[k + 2] - base) >> m->shift) == to - 1)
			m->slot[to - 1] = MS__MAP_SLOW;
		from = to;
	}
	map_block(m, m->limit - 1, &first, &end);
	if (end == UINT64_MAX)
		m->slot[m->limit - 1] = MS__MAP_SLOW;
	memset(m->slot + m->limit, MS__MAP_SLOW, MS__MAP_SLOTS - m->limit);
}

/* Whether every slot of @m that a look-up uses names its answer. */
static bool map_direct(const ms__map *m)
{
	for (uint32_t b = 0; b < m->limit; b++)
		if (m->slot[b] == MS__MAP_SLOW)
			return false;
	return true;
}

/* The view's copy of the direct map @src of its one chunk: slots past the
 * span name range 0, which holds no address there (the look-up of a view
 * with a direct map then bounds a block by MS__MAP_SLOTS, not the limit). */
static void map_direct_copy(ms__map *dst, const ms__map *src)
{
	*dst = *src;
	memset(dst->slot + dst->limit, 0, MS__MAP_SLOTS - dst->limit);
}

/* map_fill_ranges() block by block, from the definition (for ms__flatview_check()). */
static void map_ref_ranges(ms__map *m, const ms__range *r, size_t nr)
{
	size_t j = 0;

	map_span(m, r[0].start, r[nr - 1].last);
	for (uint32_t b = 0; b < m->limit; b++) {
		uint64_t first, last;

		map_block(m, b, &first, &last);
		while (r[j].last < first)
			j++; /* stops at nr - 1 at the latest: first <= r[nr - 1].last */
		m->slot[b] = j + 2 < nr && r[j + 2].start <= last ? MS__MAP_SLOW : (uint8_t)j;
	}
	memset(m->slot + m->limit, MS__MAP_SLOW, MS__MAP_SLOTS - m->limit);
}

/* map_fill_keys() block by block, from the definition (for ms__flatview_check()). */
static void map_ref_keys(ms__map *m, const uint64_t *firsts, size_t nr, uint64_t last)
{
	size_t v = 0, w = 0;

	map_span(m, firsts[0], last);
	for (uint32_t b = 0; b < m->limit; b++) {
		uint64_t first, end;

		map_block(m, b, &first, &end);
		while (v < nr && firsts[v] <= first)
			v++; /* v >= 1: firsts[0] = base <= first */
		if (w < v)
			w = v;
		while (w < nr && firsts[w] <= end)
			w++;
		m->slot[b] = w - v > 1 || end == UINT64_MAX || v - 1 >= MS__MAP_SLOW
				     ? MS__MAP_SLOW
				     : (uint8_t)(v - 1);
	}
	memset(m->slot + m->limit, MS__MAP_SLOW, MS__MAP_SLOTS - m->limit);
}

/* ---- chunks ---------------------------------------------------------------- */

static ms__chunk *chunk_new(ms_ctx *ctx, const ms__range *ranges, size_t nr)
{
	ms__chunk *ch;
	size_t i;

	if (ms__ctx_inject_failure(ctx) ||
	    posix_memalign((void **)&ch, 64, sizeof(*ch) + (nr + 1) * sizeof(ms__range)) != 0)
		return NULL;
	ch->refcount = 1;
	ch->nr = (uint32_t)nr;
	for (i = 0; i < MS__CHUNK_MAX; i++)
		ch->keys[i] = i < nr ? ranges[i].start : UINT64_MAX;
	for (i = 0; i < 8; i++)
		ch->sep[i] = i < 7 ? ch->keys[8 * (i + 1)] : UINT64_MAX;
	memcpy(ch->ranges, ranges, nr * sizeof(*ranges));
	ch->ranges[nr] = ranges[nr - 1];
	map_fill_ranges(&ch->map, ranges, nr);
	for (i = 0; i < nr; i++)
		ms_region_ref(ranges[i].region);
	return ch;
}

static void chunk_ref(ms__chunk *ch)
{
	__atomic_fetch_add(&ch->refcount, 1, __ATOMIC_RELAXED);
}

/* A list of blocks reclaimed on liburcu's thread, for ms__ctx_defer_free(). */
typedef struct garbage_list {
	ms__garbage *head, *tail;
} garbage_list;

/* free(@p), or with @gl, add it to @gl. */
static void dispose(garbage_list *gl, void *p)
{
	ms__garbage *g = p;

	if (!gl) {
		free(p);
		return;
	}
	g->next = gl->head;
	gl->head = g;
	if (!gl->tail)
		gl->tail = g;
}

static void chunk_unref(ms__chunk *ch, garbage_list *gl)
{
	size_t i;

	if (__atomic_sub_fetch(&ch->refcount, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	for (i = 0; i < ch->nr; i++)
		ms_region_unref(ch->ranges[i].region);
	dispose(gl, ch);
}

/* ---- segments ----------------------------------------------------------------- */

/* The last address of the last range of @seg. */
static uint64_t seg_last(const ms__seg *seg)
{
	const ms__chunk *ch = seg->chunks[seg->nr - 1];

	return ch->ranges[ch->nr - 1].last;
}

/* A segment of @nr chunks (1 .. MS__SEG_MAX); takes over their references. */
static ms__seg *seg_new(ms_ctx *ctx, ms__chunk *const *chunks, size_t nr)
{
	ms__seg *seg;
	size_t i;

	if (ms__ctx_inject_failure(ctx) ||
	    posix_memalign((void **)&seg, 64,
			   sizeof(*seg) + nr * (sizeof(seg->seps[0]) + sizeof(*seg->chunks)) +
				   (nr + 1) * sizeof(*seg->cum)) != 0)
		return NULL;
	seg->refcount = 1;
	seg->nr = (uint32_t)nr;
	seg->chunks = (ms__chunk **)&seg->seps[nr];
	seg->cum = (uint32_t *)&seg->chunks[nr];
	seg->cum[0] = 0;
	for (i = 0; i <= MS__SEG_MAX; i++) {
		seg->firsts[i] = i < nr ? chunks[i]->ranges[0].start : UINT64_MAX;
		if (i < nr) {
			seg->chunks[i] = chunks[i];
			memcpy(seg->seps[i], chunks[i]->sep, sizeof(seg->seps[i]));
			seg->cum[i + 1] = seg->cum[i] + chunks[i]->nr;
		}
	}
	for (i = 0; i < 8; i++)
		seg->fsep[i] = i < 7 ? seg->firsts[8 * (i + 1)] : UINT64_MAX;
	map_fill_keys(&seg->map, seg->firsts, nr, seg_last(seg));
	return seg;
}

static void seg_unref(ms__seg *seg, garbage_list *gl)
{
	size_t i;

	if (__atomic_sub_fetch(&seg->refcount, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	for (i = 0; i < seg->nr; i++)
		chunk_unref(seg->chunks[i], gl);
	dispose(gl, seg);
}

/* ---- building views ---------------------------------------------------------- */

/*
 * The arrays of a splice, kept in the context from one commit to the next
 * (under its lock) instead of being allocated and grown again by each.
 */
typedef struct ms__splice_scratch {
	ms__seg **segs;
	ms__chunk **pend;
	ms__range *buf, *cut;
	size_t cap_segs, cap_pend, cap_buf, cap_cut;
} ms__splice_scratch;

static void scratch_free(ms_ctx *ctx)
{
	ms__splice_scratch *sc = ctx->splice;

	if (!sc)
		return;
	free(sc->segs);
	free(sc->pend);
	free(sc->buf);
	free(sc->cut);
	free(sc);
	ctx->splice = NULL;
}

/* The context's scratch arrays (made on first use), or NULL without memory. */
static ms__splice_scratch *scratch_get(ms_ctx *ctx)
{
	if (!ctx->splice) {
		ctx->splice = calloc(1, sizeof(*ctx->splice));
		if (ctx->splice)
			ms__ctx_on_free(ctx, MS__FREE_SPLICE, scratch_free);
	}
	return ctx->splice;
}

/*
 * A view under construction: finished segments, then chunks not yet grouped
 * (each with a reference the builder owns). With @sc, the arrays are the
 * scratch's, handed back when the builder is done.
 */
typedef struct builder {
	ms_ctx *ctx;
	size_t fill; /* chunks per new segment */
	ms__seg **segs;
	size_t nr_segs, cap_segs;
	ms__chunk **pend;
	size_t nr_pend, cap_pend;
	ms__splice_scratch *sc;
} builder;

/* Give the arrays of @b back to its scratch, or free them, and clear @b. */
static void builder_release(builder *b)
{
	if (b->sc) {
		b->sc->segs = b->segs;
		b->sc->cap_segs = b->cap_segs;
		b->sc->pend = b->pend;
		b->sc->cap_pend = b->cap_pend;
	} else {
		free(b->segs);
		free(b->pend);
	}
	memset(b, 0, sizeof(*b));
}

static int builder_push_seg(builder *b, ms__seg *seg)
{
	int rc = 0;

	if (b->nr_segs == b->cap_segs)
		rc = ms__ctx_grow(b->ctx, (void **)&b->segs, &b->cap_segs, b->nr_segs + 1,
				  sizeof(*b->segs));

	if (rc < 0)
		return rc;
	b->segs[b->nr_segs++] = seg;
	return 0;
}

/* Group the pending chunks into ceil(n / fill) segments of nearly equal size. */
static int builder_flush(builder *b)
{
	size_t n = b->nr_pend, parts = (n + b->fill - 1) / b->fill, done = 0, p;
	int rc = 0;

	for (p = 0; p < parts && rc == 0; p++) {
		size_t take = (n - done) / (parts - p);
		ms__seg *seg = seg_new(b->ctx, b->pend + done, take);

		if (!seg)
			rc = -ENOMEM;
		else if ((rc = builder_push_seg(b, seg)) < 0)
			free(seg); /* its chunks' references stay pending */
		else
			done += take;
	}
	/* What is left (on failure) stays pending, for builder_drop(). */
	if (done > 0 && done < n)
		memmove(b->pend, b->pend + done, (n - done) * sizeof(*b->pend));
	b->nr_pend = n - done;
	return rc;
}

/* Add a chunk whose reference the builder takes over. */
static int builder_chunk(builder *b, ms__chunk *ch)
{
	int rc = 0;

	if (b->nr_pend == b->cap_pend)
		rc = ms__ctx_grow(b->ctx, (void **)&b->pend, &b->cap_pend, b->nr_pend + 1,
				  sizeof(*b->pend));

	if (rc < 0) {
		chunk_unref(ch, NULL);
		return rc;
	}
	b->pend[b->nr_pend++] = ch;
	return 0;
}

/* Add an old view's chunk, which the new view shares. */
static int builder_share_chunk(builder *b, ms__chunk *ch)
{
	chunk_ref(ch);
	return builder_chunk(b, ch);
}

/* Add an old view's segment whole, which the new view shares. */
static int builder_share_seg(builder *b, ms__seg *seg)
{
	int rc = builder_flush(b);

	if (rc == 0)
		rc = builder_push_seg(b, seg);
	if (rc == 0)
		__atomic_fetch_add(&seg->refcount, 1, __ATOMIC_RELAXED);
	return rc;
}

/*
 * Cut @nr ranges into ceil(nr / @fill) chunks of nearly equal size. A full
 * render packs chunks (fill MS__CHUNK_MAX: fewer chunks, fewer index
 * levels); a splice leaves room (MS__CHUNK_FILL) so that later splices
 * nearby stay within one or two chunks.
 */
static int builder_append(builder *b, const ms__range *ranges, size_t nr, size_t fill)
{
	size_t parts = (nr + fill - 1) / fill, done = 0, p;

	for (p = 0; p < parts; p++) {
		size_t take = (nr - done) / (parts - p);
		ms__chunk *ch = chunk_new(b->ctx, ranges + done, take);
		int rc;

		if (!ch)
			return -ENOMEM;
		rc = builder_chunk(b, ch);
		if (rc < 0)
			return rc;
		done += take;
	}
	return 0;
}

static void builder_drop(builder *b)
{
	size_t i;

	for (i = 0; i < b->nr_segs; i++)
		seg_unref(b->segs[i], NULL);
	for (i = 0; i < b->nr_pend; i++)
		chunk_unref(b->pend[i], NULL);
	builder_release(b);
}

static size_t round64(size_t n)
{
	return (n + 63) & ~(size_t)63;
}

/*
 * Turn the segments of @b into a view (consumes @b, also on failure). The
 * view is one allocation: the struct, its index, the segment table, cum
 * and ccum, so that freeing it on liburcu's thread is one free() that
 * contends with the committing thread's allocations once, not five times.
 */
static int builder_finish(ms_flatview **out, builder *b, ms_region *root)
{
	ms_ctx *ctx = b->ctx;
	size_t n, keys, at_index, at_segs, at_cum, at_firsts, total, s;
	uint64_t *firsts;
	ms_flatview *fv = NULL;
	uint8_t *block;
	int rc;

	*out = NULL;
	rc = builder_flush(b);
	if (rc < 0)
		goto fail;
	n = b->nr_segs;
	keys = ms__dispatch_size(n);
	rc = -ENOMEM;
	if (keys == SIZE_MAX)
		goto fail;
	at_index = round64(sizeof(*fv));
	at_segs = at_index + keys * sizeof(uint64_t);
	at_cum = at_segs + n * sizeof(*fv->segs);
	at_firsts = at_cum + 2 * (n + 1) * sizeof(*fv->cum);
	total = at_firsts + (n + 1) * sizeof(*fv->firsts);
	if (ms__ctx_inject_failure(ctx) || posix_memalign((void **)&block, 64, total) != 0)
		goto fail;
	fv = (ms_flatview *)block;
	memset(fv, 0, sizeof(*fv));
	fv->segs = (ms__seg **)(block + at_segs);
	fv->cum = (size_t *)(block + at_cum);
	fv->ccum = fv->cum + n + 1;
	fv->firsts = (uint64_t *)(block + at_firsts);
	if (n > 0)
		memcpy(fv->segs, b->segs, n * sizeof(*fv->segs));
	fv->cum[0] = fv->ccum[0] = 0;
	/* The index keys are the segments' first starts: build them in the
	 * index's own level 0 (ms__dispatch_fill() reads them before it
	 * writes the levels above). */
	firsts = (uint64_t *)(block + at_index);
	for (s = 0; s < n; s++) {
		fv->cum[s + 1] = fv->cum[s] + b->segs[s]->cum[b->segs[s]->nr];
		fv->ccum[s + 1] = fv->ccum[s] + b->segs[s]->nr;
		firsts[s] = fv->firsts[s] = b->segs[s]->firsts[0];
	}
	fv->firsts[n] = UINT64_MAX;
	if (n > 1) /* the look-up goes straight to a lone segment */
		map_fill_keys(&fv->map, fv->firsts, n, seg_last(b->segs[n - 1]));
	ms__dispatch_fill(&fv->index, firsts, firsts, n);
	fv->refcount = 1;
	fv->ctx = ctx;
	fv->root = ms_region_ref(root);
	fv->nr = fv->cum[n];
	fv->nr_chunks = fv->ccum[n];
	fv->nr_segs = n;
	fv->chunk0 = fv->nr_chunks == 1 ? fv->segs[0]->chunks[0] : NULL;
	fv->hint = MS__HINT_COLD; /* no range yet: the look-up tests one bit */
	if (fv->chunk0 && map_direct(&fv->chunk0->map)) {
		fv->direct = fv->chunk0->ranges;
		map_direct_copy(&fv->map, &fv->chunk0->map);
	}
	/* A view of one chunk whose map needs no search is as direct already. */
	fv->flat_after = fv->direct ? UINT32_MAX : ms__flat_after(fv->nr);
	builder_release(b);
	*out = fv;
	return 0;
fail:
	builder_drop(b);
	return rc;
}

int ms__flatview_new(ms_flatview **out, ms_ctx *ctx, ms_region *root, const ms__range *ranges,
		     size_t nr)
{
	builder b = {.ctx = ctx, .fill = MS__SEG_MAX};
	int rc;

	*out = NULL;
	ms__ctx_reap(ctx);
	rc = builder_append(&b, ranges, nr, MS__CHUNK_MAX);
	if (rc < 0) {
		builder_drop(&b);
		return rc;
	}
	return builder_finish(out, &b, root);
}

/* ---- splicing windows into a view ------------------------------------------- */

typedef struct range_buf {
	ms_ctx *ctx;
	ms__range *r;
	size_t nr, cap;
} range_buf;

/* Append @n ranges from @r. */
static inline int buf_push_n(range_buf *buf, const ms__range *r, size_t n)
{
	int rc = 0;

	if (buf->cap - buf->nr < n)
		rc = ms__ctx_grow(buf->ctx, (void **)&buf->r, &buf->cap, buf->nr + n,
				  sizeof(*buf->r));
	if (rc == 0) {
		memcpy(buf->r + buf->nr, r, n * sizeof(*r));
		buf->nr += n;
	}
	return rc;
}

static inline int buf_push(range_buf *buf, const ms__range *r)
{
	return buf_push_n(buf, r, 1);
}

/* The segment holding global chunk @c (< fv->nr_chunks). */
static size_t seg_of_chunk(const ms_flatview *fv, size_t c)
{
	return ms__cum_find(fv->ccum, fv->nr_segs, c);
}

/* The chunk (global index) holding the range at or before @addr (0 if none). */
static size_t chunk_at_or_before(const ms_flatview *fv, uint64_t addr)
{
	size_t s = ms__dispatch_rank(&fv->index, addr);

	if (s == 0)
		return 0;
	return fv->ccum[s - 1] + ms__seg_rank(fv->segs[s - 1], addr) - 1;
}

/* First chunk a window starting at @lo may change or merge with. */
static size_t span_first(const ms_flatview *fv, uint64_t lo)
{
	return chunk_at_or_before(fv, lo > 0 ? lo - 1 : 0);
}

/* Last chunk a window ending at @hi may change or merge with. */
static size_t span_last(const ms_flatview *fv, uint64_t hi)
{
	return chunk_at_or_before(fv, hi < UINT64_MAX ? hi + 1 : hi);
}

/* Append to @buf the parts of the ranges of chunks [a, b] outside windows [w0, w1). */
static int cut_old(range_buf *buf, const ms_flatview *old, size_t a, size_t b, const ms__window *w,
		   size_t w0, size_t w1)
{
	size_t c, i, j = w0, s = a < old->nr_chunks ? seg_of_chunk(old, a) : 0;
	int rc;

	for (c = a; c <= b && c < old->nr_chunks; c++) {
		const ms__chunk *ch;

		/* The chunks in order, segment by segment (no search per chunk). */
		while (c >= old->ccum[s + 1])
			s++;
		ch = old->segs[s]->chunks[c - old->ccum[s]];
		/* A chunk that no window meets is copied whole. */
		while (j < w1 && w[j].hi < ch->ranges[0].start)
			j++;
		if (j >= w1 || w[j].lo > ch->ranges[ch->nr - 1].last) {
			rc = buf_push_n(buf, ch->ranges, ch->nr);
			if (rc < 0)
				return rc;
			continue;
		}
		for (i = 0; i < ch->nr; i++) {
			ms__range piece = ch->ranges[i];
			size_t k;

			while (j < w1 && w[j].hi < piece.start)
				j++;
			for (k = j;; k++) {
				ms__range left = piece;

				if (k >= w1 || w[k].lo > piece.last) {
					rc = buf_push(buf, &piece);
					if (rc < 0)
						return rc;
					break;
				}
				if (w[k].lo > piece.start) {
					left.last = w[k].lo - 1;
					rc = buf_push(buf, &left);
					if (rc < 0)
						return rc;
				}
				if (w[k].hi >= piece.last)
					break; /* the rest is inside window k */
				piece.offset_in_region += w[k].hi + 1 - piece.start;
				if (piece.host)
					piece.host += w[k].hi + 1 - piece.start;
				piece.start = w[k].hi + 1;
			}
		}
	}
	return 0;
}

/* Merge @a (old pieces, outside the windows) with the windows' ranges into @buf. */
static int merge_streams(range_buf *buf, const range_buf *a, const ms__window *w, size_t w0,
			 size_t w1)
{
	size_t i = 0, j = w0, k = 0;
	int rc = 0;

	while (rc == 0) {
		const ms__range *next_w;

		while (j < w1 && k >= w[j].nr) {
			j++;
			k = 0;
		}
		next_w = j < w1 ? &w[j].ranges[k] : NULL;
		if (i < a->nr && (!next_w || a->r[i].start < next_w->start)) {
			rc = buf_push(buf, &a->r[i++]);
		} else if (next_w) {
			rc = buf_push(buf, next_w);
			k++;
		} else {
			break;
		}
	}
	return rc;
}

static bool at_window_edge(uint64_t start, const ms__window *w, size_t w0, size_t w1)
{
	size_t j;

	for (j = w0; j < w1; j++)
		if (start == w[j].lo || (w[j].hi < UINT64_MAX && start == w[j].hi + 1))
			return true;
	return false;
}

/*
 * Merge neighbours that continue each other (only possible across window
 * edges: both the old view and each window's render are merged already).
 * An unmergeable range meeting another range at a window edge may have
 * been split by the edge where a full render would not split it: -EAGAIN.
 */
static int merge_seams(range_buf *buf, const ms__window *w, size_t w0, size_t w1)
{
	size_t i, n = 0;

	for (i = 0; i < buf->nr; i++) {
		ms__range *cur = &buf->r[i];

		if (n > 0 && buf->r[n - 1].last + 1 == cur->start && cur->start != 0 &&
		    ((buf->r[n - 1].flags | cur->flags) & MS__RANGE_UNMERGEABLE) &&
		    at_window_edge(cur->start, w, w0, w1))
			return -EAGAIN;
		if (n > 0 && ms__render_can_merge(&buf->r[n - 1], cur))
			buf->r[n - 1].last = cur->last;
		else
			buf->r[n++] = *cur;
	}
	buf->nr = n;
	return 0;
}

int ms__flatview_splice(ms_flatview **out, const ms_flatview *old, ms_region *root,
			const ms__window *w, size_t nr_windows)
{
	builder b = {.ctx = old->ctx, .fill = MS__SEG_FILL, .sc = scratch_get(old->ctx)};
	range_buf buf = {.ctx = old->ctx}, cut = {.ctx = old->ctx};
	size_t seg = 0, i = 0, c;
	int rc = 0;

	ms__ctx_reap(old->ctx);
	*out = NULL;
	if (b.sc) {
		b.segs = b.sc->segs;
		b.cap_segs = b.sc->cap_segs;
		b.pend = b.sc->pend;
		b.cap_pend = b.sc->cap_pend;
		buf.r = b.sc->buf;
		buf.cap = b.sc->cap_buf;
		cut.r = b.sc->cut;
		cut.cap = b.sc->cap_cut;
	}
	/* Room for the old view's segments and a few more, and for the chunks
	 * of two segments pending, in one allocation each (kept in the scratch
	 * for the next splice). */
	rc = ms__ctx_grow(b.ctx, (void **)&b.segs, &b.cap_segs, old->nr_segs + 4, sizeof(*b.segs));
	if (rc == 0)
		rc = ms__ctx_grow(b.ctx, (void **)&b.pend, &b.cap_pend, 2 * MS__SEG_MAX,
				  sizeof(*b.pend));
	while (i < nr_windows && rc == 0) {
		size_t first = 0, last = 0, end = i + 1, sf = 0, sl = 0;

		if (old->nr_chunks > 0) {
			first = span_first(old, w[i].lo);
			last = span_last(old, w[i].hi);
			/* Windows whose segments meet are cut together. */
			sl = seg_of_chunk(old, last);
			while (end < nr_windows &&
			       seg_of_chunk(old, span_first(old, w[end].lo)) <= sl) {
				size_t l = span_last(old, w[end].hi);

				last = l > last ? l : last;
				sl = seg_of_chunk(old, last);
				end++;
			}
			sf = seg_of_chunk(old, first);
		} else {
			end = nr_windows;
		}
		/* Untouched segments before the span are shared whole. */
		for (; seg < sf && rc == 0; seg++)
			rc = builder_share_seg(&b, old->segs[seg]);
		/* The chunks of the span's segments outside [first, last] are
		 * shared into the new segments built around the windows. */
		for (c = old->nr_chunks > 0 ? old->ccum[sf] : 0; c < first && rc == 0; c++)
			rc = builder_share_chunk(&b, old->segs[sf]->chunks[c - old->ccum[sf]]);
		buf.nr = cut.nr = 0;
		/* One allocation each for what the span and its windows hold. */
		if (rc == 0) {
			size_t want = old->nr_chunks > 0 ? (last - first + 1) * MS__CHUNK_MAX : 0,
			       k;

			for (k = i; k < end; k++)
				want += w[k].nr;
			want += 2 * (end - i); /* pieces cut around the windows */
			rc = ms__ctx_grow(cut.ctx, (void **)&cut.r, &cut.cap, want, sizeof(*cut.r));
			if (rc == 0)
				rc = ms__ctx_grow(buf.ctx, (void **)&buf.r, &buf.cap, want,
						  sizeof(*buf.r));
		}
		if (rc == 0)
			rc = cut_old(&cut, old, first, last, w, i, end);
		if (rc == 0)
			rc = merge_streams(&buf, &cut, w, i, end);
		if (rc == 0)
			rc = merge_seams(&buf, w, i, end);
		if (rc == 0)
			rc = builder_append(&b, buf.r, buf.nr, MS__CHUNK_FILL);
		if (old->nr_chunks > 0) {
			for (c = last + 1; c < old->ccum[sl + 1] && rc == 0; c++)
				rc = builder_share_chunk(&b,
							 old->segs[sl]->chunks[c - old->ccum[sl]]);
			seg = sl + 1;
		} else {
			seg = 0;
		}
		i = end;
	}
	for (; seg < old->nr_segs && rc == 0; seg++)
		rc = builder_share_seg(&b, old->segs[seg]);
	if (b.sc) {
		b.sc->buf = buf.r;
		b.sc->cap_buf = buf.cap;
		b.sc->cut = cut.r;
		b.sc->cap_cut = cut.cap;
	} else {
		free(buf.r);
		free(cut.r);
	}
	if (rc < 0) {
		builder_drop(&b);
		return rc;
	}
	return builder_finish(out, &b, root);
}

/* ---- lifetime ------------------------------------------------------------------ */

static void flatview_free(ms_flatview *fv, garbage_list *gl)
{
	size_t i;

	for (i = 0; i < fv->nr_segs; i++)
		seg_unref(fv->segs[i], gl);
	ms_region_unref(fv->root);
	if (__atomic_load_n(&fv->flat, __ATOMIC_ACQUIRE))
		dispose(gl, (void *)fv->flat);
	dispose(gl, fv); /* its index, segment table, cum and ccum too */
}

static void flatview_free_rcu(struct rcu_head *head)
{
	ms_flatview *fv = caa_container_of(head, ms_flatview, rcu);
	garbage_list gl = {NULL, NULL};
	ms_ctx *ctx;

	ms__rcu_reclaiming(); /* before the first read of the view */
	ctx = fv->ctx;
	flatview_free(fv, &gl);
	ms__ctx_defer_free(ctx, gl.head, gl.tail);
	ms__rcu_released(); /* regions unreferenced here may be freed by others */
}

ms_flatview *ms_flatview_ref(ms_flatview *fv)
{
	if (fv)
		__atomic_fetch_add(&fv->refcount, 1, __ATOMIC_RELAXED);
	return fv;
}

bool ms__flatview_tryref(ms_flatview *fv)
{
	uint32_t n = __atomic_load_n(&fv->refcount, __ATOMIC_RELAXED);

	while (n != 0) {
		if (__atomic_compare_exchange_n(&fv->refcount, &n, n + 1, true, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return true;
	}
	return false;
}

void ms_flatview_unref(ms_flatview *fv)
{
	if (fv && __atomic_sub_fetch(&fv->refcount, 1, __ATOMIC_ACQ_REL) == 0) {
		ms__rcu_released(); /* hand-over to the call_rcu thread */
		call_rcu_bp(&fv->rcu, flatview_free_rcu);
	}
}

/* ---- queries --------------------------------------------------------------------- */

size_t ms_flatview_nr_ranges(const ms_flatview *fv)
{
	return fv->nr;
}

ms_region *ms_flatview_root(const ms_flatview *fv)
{
	return fv->root;
}

/* The position {seg, chunk, index} of the range at sorted position @i. */
static ms__fvpos position_of(const ms_flatview *fv, size_t i)
{
	size_t lo = 0, hi;
	const ms__seg *seg;
	ms__fvpos p;

	p.seg = ms__cum_find(fv->cum, fv->nr_segs, i);
	seg = fv->segs[p.seg];
	i -= fv->cum[p.seg];
	hi = seg->nr;
	/* Invariant: seg->cum[lo] <= i < seg->cum[hi]. */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (seg->cum[mid] <= i)
			lo = mid;
		else
			hi = mid;
	}
	p.chunk = lo;
	p.index = i - seg->cum[lo];
	return p;
}

const ms__range *ms__flatview_at(const ms_flatview *fv, size_t i)
{
	ms__fvpos p = position_of(fv, i);

	return &fv->segs[p.seg]->chunks[p.chunk]->ranges[p.index];
}

const ms__range *ms__flatview_peek(const ms_flatview *fv, const ms__fvpos *p)
{
	return fv && p->seg < fv->nr_segs ? &fv->segs[p->seg]->chunks[p->chunk]->ranges[p->index]
					  : NULL;
}

const ms__range *ms__flatview_next(const ms_flatview *fv, ms__fvpos *p)
{
	const ms__range *r = ms__flatview_peek(fv, p);

	if (r && ++p->index == fv->segs[p->seg]->chunks[p->chunk]->nr) {
		p->index = 0;
		if (++p->chunk == fv->segs[p->seg]->nr) {
			p->chunk = 0;
			p->seg++;
		}
	}
	return r;
}

bool ms__flatview_skip_shared(const ms_flatview *a, ms__fvpos *pa, const ms_flatview *b,
			      ms__fvpos *pb)
{
	const ms__seg *sa, *sb;

	if (!a || !b || pa->index != 0 || pb->index != 0 || pa->seg >= a->nr_segs ||
	    pb->seg >= b->nr_segs)
		return false;
	sa = a->segs[pa->seg];
	sb = b->segs[pb->seg];
	if (sa == sb && pa->chunk == 0 && pb->chunk == 0) {
		pa->seg++;
		pb->seg++;
		return true;
	}
	if (sa->chunks[pa->chunk] != sb->chunks[pb->chunk])
		return false;
	if (++pa->chunk == sa->nr) {
		pa->chunk = 0;
		pa->seg++;
	}
	if (++pb->chunk == sb->nr) {
		pb->chunk = 0;
		pb->seg++;
	}
	return true;
}

void ms__flatview_section(ms_section *s, const ms__range *r)
{
	ms_flat_entry_section(s, r);
}

int ms_flatview_range(ms_section *out, const ms_flatview *fv, size_t index)
{
	if (!out || !fv || index >= fv->nr)
		return -ERANGE;
	ms__flatview_section(out, ms__flatview_at(fv, index));
	return 0;
}

MS__HOT_ENTRY const ms_flat_entry *ms_flatview_lookup(const ms_flatview *fv, uint64_t addr)
{
	return fv ? ms__dispatch_find(fv, addr) : NULL;
}

/* In parentheses: the name is also the macro over ms_flatview_find_inline(). */
MS__HOT_ENTRY int(ms_flatview_find)(ms_section *out, const ms_flatview *fv, uint64_t addr)
{
	const ms__range *r;

	if (!out || !fv)
		return -EINVAL;
	r = ms__dispatch_find(fv, addr);
	if (!r)
		return -ENOENT;
	ms__flatview_section(out, r);
	return 0;
}

/*
 * QEMU's memory_region_find(): what answers at @addr of @mr's tree, seen
 * from the top of the tree @mr is in. Only the one window is rendered.
 */
int ms_region_find(ms_section *out, ms_region *mr, uint64_t addr, uint64_t len)
{
	ms__u128 abs = addr, end;
	ms__range *ranges = NULL;
	ms_region *top;
	size_t nr = 0;
	int rc;

	if (!out || !mr || len == 0)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	ms__ctx_lock(mr->ctx);
	/* Every region on the way up, the top one too, renders at its address. */
	for (top = mr;; top = top->container) {
		abs += top->addr;
		if (!top->container)
			break;
	}
	end = abs + len - 1;
	rc = abs >= MS__2_64 ? -ENOENT : 0;
	if (rc == 0)
		rc = ms__render_window(&ranges, &nr, mr->ctx, top, (uint64_t)abs,
				       end >= MS__2_64 ? UINT64_MAX : (uint64_t)end);
	/* The first range of the window, clipped to it, when it starts at abs. */
	if (rc == 0 && (nr == 0 || ranges[0].start != (uint64_t)abs))
		rc = -ENOENT;
	if (rc == 0) {
		ms__flatview_section(out, &ranges[0]);
		ms_region_ref(out->region);
	}
	free(ranges);
	ms__ctx_unlock(mr->ctx);
	return rc;
}

/* The look-up, not counted towards the view's flat table. */
static const ms__range *check_find(const ms_flatview *fv, uint64_t addr)
{
	return ms__dispatch_find_counting(fv, addr, MS__FIND_QUIET);
}

int ms__flatview_check(const ms_flatview *fv)
{
	const ms__range *prev = NULL, *r;
	ms__map map;
	ms__fvpos pos = {0};
	size_t s, c, i, n = 0, nc = 0;

	for (s = 0; s < fv->nr_segs; s++) {
		const ms__seg *seg = fv->segs[s];

		if (seg->nr == 0 || seg->nr > MS__SEG_MAX || fv->cum[s] != n || fv->ccum[s] != nc ||
		    seg->cum[0] != 0)
			return -EINVAL;
		if (seg->firsts[MS__SEG_MAX] != UINT64_MAX)
			return -EINVAL;
		for (c = 0; c < MS__SEG_MAX; c++) {
			const ms__chunk *ch = c < seg->nr ? seg->chunks[c] : NULL;

			if (seg->firsts[c] != (ch ? ch->ranges[0].start : UINT64_MAX))
				return -EINVAL;
			if (c < 7 && seg->fsep[c] != seg->firsts[8 * (c + 1)])
				return -EINVAL;
			if (!ch)
				continue;
			if (ch->nr == 0 || ch->nr > MS__CHUNK_MAX ||
			    seg->cum[c + 1] != seg->cum[c] + ch->nr ||
			    memcmp(seg->seps[c], ch->sep, sizeof(ch->sep)) != 0)
				return -EINVAL;
			for (i = 0; i < MS__CHUNK_MAX; i++)
				if (ch->keys[i] != (i < ch->nr ? ch->ranges[i].start : UINT64_MAX))
					return -EINVAL;
			map_ref_ranges(&map, ch->ranges, ch->nr);
			if (memcmp(&map, &ch->map, sizeof(map)) != 0)
				return -EINVAL;
			n += ch->nr;
		}
		map_ref_keys(&map, seg->firsts, seg->nr, seg_last(seg));
		if (memcmp(&map, &seg->map, sizeof(map)) != 0)
			return -EINVAL;
		nc += seg->nr;
	}
	if (fv->nr_segs > 0) {
		for (s = 0; s <= fv->nr_segs; s++)
			if (fv->firsts[s] !=
			    (s < fv->nr_segs ? fv->segs[s]->firsts[0] : UINT64_MAX))
				return -EINVAL;
	}
	if (fv->nr_segs > 1) {
		map_ref_keys(&map, fv->firsts, fv->nr_segs, seg_last(fv->segs[fv->nr_segs - 1]));
		if (memcmp(&map, &fv->map, sizeof(map)) != 0)
			return -EINVAL;
	}
	if (fv->cum[fv->nr_segs] != n || fv->nr != n || fv->ccum[fv->nr_segs] != nc ||
	    fv->nr_chunks != nc || fv->chunk0 != (nc == 1 ? fv->segs[0]->chunks[0] : NULL) ||
	    !fv->direct != !(fv->chunk0 && map_direct(&fv->chunk0->map)) ||
	    (fv->direct && fv->direct != fv->chunk0->ranges))
		return -EINVAL;
	if (fv->direct) {
		map_direct_copy(&map, &fv->chunk0->map);
		if (memcmp(&map, &fv->map, sizeof(map)) != 0)
			return -EINVAL;
	}
	while ((r = ms__flatview_next(fv, &pos))) {
		if (r->last < r->start || !r->region || r->kind != (uint8_t)r->region->kind ||
		    r->host != ms__render_host(r->region, r->offset_in_region) ||
		    !(r->flags & MS__RANGE_HOST_READ) != !ms__render_host_reads(r))
			return -EINVAL;
		if (prev && prev->last >= r->start)
			return -EINVAL; /* unsorted or overlapping */
		if (prev && ms__render_can_merge(prev, r))
			return -EINVAL; /* should have been merged */
		if (check_find(fv, r->start) != r || check_find(fv, r->last) != r)
			return -EINVAL;
		/* Both ends of the hole before it, if any, are unmapped. */
		if (((prev && prev->last + 1 < r->start) || (!prev && r->start > 0)) &&
		    (check_find(fv, r->start - 1) || check_find(fv, prev ? prev->last + 1 : 0)))
			return -EINVAL;
		prev = r;
	}
	return ms__dispatch_flat_check(fv);
}
