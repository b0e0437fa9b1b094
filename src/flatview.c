/*
 * flatview.c: immutable, reference-counted flat views that share structure.
 *
 * A view is a table of chunks, each an immutable sorted run of at most
 * MS__CHUNK_MAX ranges with its own small search keys. Chunks are
 * reference-counted and shared: a commit that re-renders a few windows of
 * the address space (txn.c) builds new chunks only around those windows and
 * copies the pointers of all the others, so a commit costs
 * O(ranges / MS__CHUNK_FILL) pointer copies plus the work in its windows,
 * not O(ranges). A chunk holds a reference on the region of each of its
 * ranges, so a region that a reader can reach through a published view is
 * never freed. A view's last reference is dropped through call_rcu(), so
 * readers that found it through rcu_dereference() finish first.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "flatview_int.h"

/* ---- chunks ---------------------------------------------------------------- */

static ms__chunk *chunk_new(ms_ctx *ctx, const ms__range *ranges, size_t nr)
{
	ms__chunk *ch;
	size_t i;

	if (ms__ctx_inject_failure(ctx) ||
	    posix_memalign((void **)&ch, 64, sizeof(*ch) + nr * sizeof(ms__range)) != 0)
		return NULL;
	ch->refcount = 1;
	ch->nr = (uint32_t)nr;
	for (i = 0; i < MS__CHUNK_MAX; i++)
		ch->keys[i] = i < nr ? ranges[i].start : UINT64_MAX;
	for (i = 0; i < 8; i++)
		ch->sep[i] = i < 7 ? ch->keys[8 * (i + 1)] : UINT64_MAX;
	memcpy(ch->ranges, ranges, nr * sizeof(*ranges));
	for (i = 0; i < nr; i++)
		ms_region_ref(ranges[i].region);
	return ch;
}

static void chunk_unref(ms__chunk *ch)
{
	size_t i;

	if (__atomic_sub_fetch(&ch->refcount, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	for (i = 0; i < ch->nr; i++)
		ms_region_unref(ch->ranges[i].region);
	free(ch);
}

/* ---- building views ---------------------------------------------------------- */

typedef struct builder {
	ms_ctx *ctx;
	ms__chunk **chunks;
	size_t nr, cap;
} builder;

static int builder_push(builder *b, ms__chunk *ch)
{
	int rc = ms__ctx_grow(b->ctx, (void **)&b->chunks, &b->cap, b->nr + 1, sizeof(*b->chunks));

	if (rc < 0)
		return rc;
	b->chunks[b->nr++] = ch;
	return 0;
}

static int builder_share(builder *b, ms__chunk *ch)
{
	int rc = builder_push(b, ch);

	if (rc == 0)
		__atomic_fetch_add(&ch->refcount, 1, __ATOMIC_RELAXED);
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
		rc = builder_push(b, ch);
		if (rc < 0) {
			chunk_unref(ch);
			return rc;
		}
		done += take;
	}
	return 0;
}

static void builder_drop(builder *b)
{
	size_t i;

	for (i = 0; i < b->nr; i++)
		chunk_unref(b->chunks[i]);
	free(b->chunks);
	b->chunks = NULL;
	b->nr = b->cap = 0;
}

/* Turn the chunks of @b into a view (consumes @b, also on failure). */
static int builder_finish(ms_flatview **out, builder *b, ms_region *root)
{
	ms_ctx *ctx = b->ctx;
	uint64_t *firsts = NULL;
	ms_flatview *fv;
	size_t c;
	int rc = -ENOMEM;

	*out = NULL;
	fv = ms__ctx_calloc(ctx, 1, sizeof(*fv));
	if (!fv)
		goto fail;
	fv->cum = ms__ctx_malloc(ctx, (b->nr + 1) * sizeof(*fv->cum));
	firsts = ms__ctx_malloc(ctx, (b->nr + 1) * sizeof(*firsts));
	if (!fv->cum || !firsts)
		goto fail;
	fv->cum[0] = 0;
	for (c = 0; c < b->nr; c++) {
		fv->cum[c + 1] = fv->cum[c] + b->chunks[c]->nr;
		firsts[c] = b->chunks[c]->ranges[0].start;
	}
	rc = ms__dispatch_build(&fv->index, ctx, firsts, b->nr);
	if (rc < 0)
		goto fail;
	if (b->nr > 0 && (ms__ctx_inject_failure(ctx) ||
			  posix_memalign((void **)&fv->seps, 64, b->nr * sizeof(*fv->seps)) != 0)) {
		fv->seps = NULL;
		ms__dispatch_free(&fv->index);
		rc = -ENOMEM;
		goto fail;
	}
	for (c = 0; c < b->nr; c++)
		memcpy(fv->seps[c], b->chunks[c]->sep, sizeof(fv->seps[c]));
	free(firsts);
	fv->refcount = 1;
	fv->ctx = ctx;
	fv->root = ms_region_ref(root);
	fv->nr = fv->cum[b->nr];
	fv->nr_chunks = b->nr;
	fv->chunks = b->chunks;
	b->chunks = NULL;
	b->nr = b->cap = 0;
	*out = fv;
	return 0;
fail:
	free(firsts);
	if (fv)
		free(fv->cum);
	free(fv);
	builder_drop(b);
	return rc;
}

int ms__flatview_new(ms_flatview **out, ms_ctx *ctx, ms_region *root, const ms__range *ranges,
		     size_t nr)
{
	builder b = {.ctx = ctx};
	int rc;

	*out = NULL;
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

static int buf_push(range_buf *buf, const ms__range *r)
{
	int rc = ms__ctx_grow(buf->ctx, (void **)&buf->r, &buf->cap, buf->nr + 1, sizeof(*buf->r));

	if (rc == 0)
		buf->r[buf->nr++] = *r;
	return rc;
}

/* The chunk holding the range at or before @addr (0 if none). */
static size_t chunk_at_or_before(const ms_flatview *fv, uint64_t addr)
{
	size_t k = ms__dispatch_rank(&fv->index, addr);

	return k > 0 ? k - 1 : 0;
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
	size_t c, i, j = w0;
	int rc;

	for (c = a; c <= b && c < old->nr_chunks; c++) {
		const ms__chunk *ch = old->chunks[c];

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
	builder b = {.ctx = old->ctx};
	range_buf buf = {.ctx = old->ctx}, cut = {.ctx = old->ctx};
	size_t c = 0, i = 0;
	int rc = 0;

	*out = NULL;
	while (i < nr_windows && rc == 0) {
		size_t first = 0, last = 0, end = i + 1;

		if (old->nr_chunks > 0) {
			first = span_first(old, w[i].lo);
			last = span_last(old, w[i].hi);
			/* Windows whose spans meet are cut together. */
			while (end < nr_windows && span_first(old, w[end].lo) <= last) {
				size_t l = span_last(old, w[end].hi);

				last = l > last ? l : last;
				end++;
			}
		} else {
			end = nr_windows;
		}
		for (; c < first && rc == 0; c++)
			rc = builder_share(&b, old->chunks[c]);
		buf.nr = cut.nr = 0;
		if (rc == 0)
			rc = cut_old(&cut, old, first, last, w, i, end);
		if (rc == 0)
			rc = merge_streams(&buf, &cut, w, i, end);
		if (rc == 0)
			rc = merge_seams(&buf, w, i, end);
		if (rc == 0)
			rc = builder_append(&b, buf.r, buf.nr, MS__CHUNK_FILL);
		c = old->nr_chunks > 0 ? last + 1 : 0;
		i = end;
	}
	for (; c < old->nr_chunks && rc == 0; c++)
		rc = builder_share(&b, old->chunks[c]);
	free(buf.r);
	free(cut.r);
	if (rc < 0) {
		builder_drop(&b);
		return rc;
	}
	return builder_finish(out, &b, root);
}

/* ---- lifetime ------------------------------------------------------------------ */

static void flatview_free(ms_flatview *fv)
{
	size_t c;

	for (c = 0; c < fv->nr_chunks; c++)
		chunk_unref(fv->chunks[c]);
	ms_region_unref(fv->root);
	ms__dispatch_free(&fv->index);
	free(fv->seps);
	free(fv->chunks);
	free(fv->cum);
	free(fv);
}

static void flatview_free_rcu(struct rcu_head *head)
{
	ms__rcu_reclaiming();
	flatview_free(caa_container_of(head, ms_flatview, rcu));
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

const ms__range *ms__flatview_at(const ms_flatview *fv, size_t i)
{
	size_t lo = 0, hi = fv->nr_chunks;

	/* Invariant: cum[lo] <= i < cum[hi]. */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (fv->cum[mid] <= i)
			lo = mid;
		else
			hi = mid;
	}
	return &fv->chunks[lo]->ranges[i - fv->cum[lo]];
}

const ms__range *ms__flatview_peek(const ms_flatview *fv, const ms__fvpos *p)
{
	return fv && p->chunk < fv->nr_chunks ? &fv->chunks[p->chunk]->ranges[p->index] : NULL;
}

const ms__range *ms__flatview_next(const ms_flatview *fv, ms__fvpos *p)
{
	const ms__range *r = ms__flatview_peek(fv, p);

	if (r && ++p->index == fv->chunks[p->chunk]->nr) {
		p->chunk++;
		p->index = 0;
	}
	return r;
}

bool ms__flatview_skip_shared(const ms_flatview *a, ms__fvpos *pa, const ms_flatview *b,
			      ms__fvpos *pb)
{
	if (!a || !b || pa->index != 0 || pb->index != 0 || pa->chunk >= a->nr_chunks ||
	    pb->chunk >= b->nr_chunks || a->chunks[pa->chunk] != b->chunks[pb->chunk])
		return false;
	pa->chunk++;
	pb->chunk++;
	return true;
}

void ms__flatview_section(ms_section *s, const ms__range *r)
{
	s->region = r->region;
	s->start = r->start;
	s->last = r->last;
	s->offset_in_region = r->offset_in_region;
	s->readonly = r->flags & MS__RANGE_READONLY;
	s->nonvolatile = r->flags & MS__RANGE_NONVOLATILE;
	s->unmergeable = r->flags & MS__RANGE_UNMERGEABLE;
	s->romd = r->flags & MS__RANGE_ROMD;
	s->dirty_log_mask = r->dirty_log_mask;
	s->size = r->last - r->start == UINT64_MAX ? MS_SIZE_2_64 : r->last - r->start + 1;
	s->as = NULL;
}

int ms_flatview_range(ms_section *out, const ms_flatview *fv, size_t index)
{
	if (!out || !fv || index >= fv->nr)
		return -ERANGE;
	ms__flatview_section(out, ms__flatview_at(fv, index));
	return 0;
}

const ms_flat_entry *ms_flatview_lookup(const ms_flatview *fv, uint64_t addr)
{
	return fv ? ms__dispatch_find(fv, addr) : NULL;
}

int ms_flatview_find(ms_section *out, const ms_flatview *fv, uint64_t addr)
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

int ms__flatview_check(const ms_flatview *fv)
{
	const ms__range *prev = NULL, *r;
	ms__fvpos pos = {0, 0};
	size_t c, i, n = 0;

	for (c = 0; c < fv->nr_chunks; c++) {
		const ms__chunk *ch = fv->chunks[c];

		if (ch->nr == 0 || ch->nr > MS__CHUNK_MAX || fv->cum[c] != n)
			return -EINVAL;
		for (i = 0; i < MS__CHUNK_MAX; i++)
			if (ch->keys[i] != (i < ch->nr ? ch->ranges[i].start : UINT64_MAX))
				return -EINVAL;
		n += ch->nr;
	}
	if (fv->cum[fv->nr_chunks] != n || fv->nr != n)
		return -EINVAL;
	while ((r = ms__flatview_next(fv, &pos))) {
		if (r->last < r->start || !r->region || r->kind != (uint8_t)r->region->kind ||
		    r->host != ms__render_host(r->region, r->offset_in_region))
			return -EINVAL;
		if (prev && prev->last >= r->start)
			return -EINVAL; /* unsorted or overlapping */
		if (prev && ms__render_can_merge(prev, r))
			return -EINVAL; /* should have been merged */
		if (ms__dispatch_lookup(fv, r->start) != r || ms__dispatch_lookup(fv, r->last) != r)
			return -EINVAL;
		prev = r;
	}
	return 0;
}
