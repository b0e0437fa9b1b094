/*
 * render.c: region tree -> sorted, disjoint, merged flat ranges.
 *
 * A pure function of the tree: it reads regions under the topology lock,
 * takes no references and changes nothing. It follows QEMU 7.2's rendering
 * rules (qemu-mtree README §3): regions are visited in priority order and
 * "paint" the address space; whatever is painted first owns the address. A
 * terminating region fills every gap left inside its clip; a pure container
 * only renders its children; an alias renders a window of its target.
 *
 * The painted set lives in a treap keyed by range start (nodes in one pool,
 * linked by index), so each gap lookup and insertion is O(log n) instead of
 * QEMU's O(n) array insertion. Invariant: the ranges in the treap are
 * pairwise disjoint, so ordering by start equals ordering by last.
 *
 * A container's children come from its rendering-order list when the clip
 * covers the whole container or it has few children, and otherwise from its
 * address index (region.h), which yields only the children meeting the
 * clip: a window of a container of n children that meets k of them costs
 * O((k + 1) log n), not a compare per child. A budget of visits and
 * children looked at bounds the work of trees whose aliases describe
 * exponentially many paths.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdlib.h>

#include "render.h"

#define NIL 0u

typedef struct node {
	ms__range range;
	uint32_t left, right;
	uint32_t heap_key;
} node;

typedef struct painter {
	ms_ctx *ctx;
	uint64_t max_ranges; /* ranges this render may paint */
	uint64_t budget;     /* region visits and children looked at, left */
	node *nodes;         /* nodes[0] is the nil sentinel */
	size_t nr, cap;
	uint32_t root;
	/* Children found through address indexes: a stack of runs, one per
	 * container being rendered (render_children()). */
	ms_region **found;
	size_t nr_found, cap_found;
} painter;

/* Inherited state along the path from the root. */
typedef struct path_flags {
	bool readonly, nonvolatile, unmergeable;
} path_flags;

static uint32_t mix32(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return (uint32_t)x;
}

/* Split @t into ranges starting before @key (*l) and the rest (*r). */
static void split(painter *p, uint32_t t, uint64_t key, uint32_t *l, uint32_t *r)
{
	if (t == NIL) {
		*l = *r = NIL;
	} else if (p->nodes[t].range.start < key) {
		split(p, p->nodes[t].right, key, &p->nodes[t].right, r);
		*l = t;
	} else {
		split(p, p->nodes[t].left, key, l, &p->nodes[t].left);
		*r = t;
	}
}

static uint32_t insert_node(painter *p, uint32_t t, uint32_t n)
{
	node *nodes = p->nodes;

	if (t == NIL)
		return n;
	if (nodes[n].heap_key > nodes[t].heap_key) {
		split(p, t, nodes[n].range.start, &nodes[n].left, &nodes[n].right);
		return n;
	}
	if (nodes[n].range.start < nodes[t].range.start)
		nodes[t].left = insert_node(p, nodes[t].left, n);
	else
		nodes[t].right = insert_node(p, nodes[t].right, n);
	return t;
}

static int paint(painter *p, const ms__range *range)
{
	uint32_t n;
	int rc;

	if (p->nr > p->max_ranges)
		return -E2BIG;
	rc = ms__ctx_grow(p->ctx, (void **)&p->nodes, &p->cap, p->nr + 1, sizeof(node));
	if (rc < 0)
		return rc;
	n = (uint32_t)p->nr++;
	p->nodes[n].range = *range;
	p->nodes[n].left = p->nodes[n].right = NIL;
	p->nodes[n].heap_key = mix32(n);
	p->root = insert_node(p, p->root, n);
	return 0;
}

/* The first painted range (in address order) whose last address >= @addr. */
static const ms__range *first_ending_at_or_after(const painter *p, uint64_t addr)
{
	const ms__range *best = NULL;
	uint32_t t = p->root;

	while (t != NIL) {
		const node *n = &p->nodes[t];

		if (n->range.last >= addr) {
			best = &n->range;
			t = n->left;
		} else {
			t = n->right;
		}
	}
	return best;
}

/*
 * Fill the gaps of [lo, hi) (absolute, hi <= 2^64) with @mr, whose offset 0
 * sits at absolute address @base.
 */
static int fill_gaps(painter *p, ms_region *mr, ms__i128 base, ms__i128 lo, ms__i128 hi,
		     path_flags flags)
{
	ms__range piece = {
		.region = mr,
		.flags = (uint8_t)((flags.readonly ? MS__RANGE_READONLY : 0) |
				   (flags.nonvolatile ? MS__RANGE_NONVOLATILE : 0) |
				   (flags.unmergeable ? MS__RANGE_UNMERGEABLE : 0) |
				   (mr->kind == MS_REGION_ROM_DEVICE && mr->romd ? MS__RANGE_ROMD
										 : 0)),
		.dirty_log_mask = ms__region_render_log_mask(mr),
		.kind = (uint8_t)mr->kind,
	};
	ms__i128 cur = lo;
	int rc;

	while (cur < hi) {
		const ms__range *next = first_ending_at_or_after(p, (uint64_t)cur);
		ms__i128 gap_end = hi;

		if (next && (ms__i128)next->start <= cur) {
			/* Already painted: skip past it. */
			cur = (ms__i128)next->last + 1;
			continue;
		}
		if (next && (ms__i128)next->start < hi)
			gap_end = next->start;
		piece.start = (uint64_t)cur;
		piece.last = (uint64_t)(gap_end - 1);
		piece.offset_in_region = (uint64_t)(cur - base);
		piece.host = ms__render_host(mr, piece.offset_in_region);
		piece.flags = (uint8_t)((piece.flags & ~MS__RANGE_HOST_READ) |
					(ms__render_host_reads(&piece) ? MS__RANGE_HOST_READ : 0));
		rc = paint(p, &piece);
		if (rc < 0)
			return rc;
		cur = gap_end;
	}
	return 0;
}

static int render_region(painter *p, ms_region *mr, ms__i128 base, ms__i128 clip_lo,
			 ms__i128 clip_hi, path_flags flags, unsigned depth);

/*
 * Up to this many children a container is scanned rather than searched:
 * a one-child window of a container whose children are all in cache costs
 * about the same either way at 24 to 32 children (Release, 2026-12-07), and
 * the index wins from there on, more so when the children are cold.
 */
#define SCAN_MAX_CHILDREN 16

/* Charge @cost to the render budget: false when it is spent. */
static bool charge(painter *p, uint64_t cost)
{
	if (p->budget < cost)
		return false;
	p->budget -= cost;
	return true;
}

/* Address-index visit: push one child that meets the window. */
static int push_found(ms__interval_node *where, void *arg)
{
	painter *p = arg;
	int rc;

	if (!charge(p, 1))
		return -E2BIG;
	rc = ms__ctx_grow(p->ctx, (void **)&p->found, &p->cap_found, p->nr_found + 1,
			  sizeof(*p->found));
	if (rc < 0)
		return rc;
	p->found[p->nr_found++] = ms__region_of_where(where);
	return 0;
}

static int cmp_rendering_order(const void *pa, const void *pb)
{
	const ms_region *a = *(ms_region *const *)pa, *b = *(ms_region *const *)pb;

	return ms__region_sub_before(a, b) ? -1 : ms__region_sub_before(b, a);
}

/* Sort @nr children of one container into rendering order. */
static void sort_rendering_order(ms_region **child, size_t nr)
{
	size_t i, j;

	if (nr > 16) {
		qsort(child, nr, sizeof(*child), cmp_rendering_order);
		return;
	}
	for (i = 1; i < nr; i++) {
		ms_region *r = child[i];

		for (j = i; j > 0 && ms__region_sub_before(r, child[j - 1]); j--)
			child[j] = child[j - 1];
		child[j] = r;
	}
}

/*
 * Render the children of @mr that meet the absolute window [lo, hi), a part
 * of @mr itself, whose offset 0 sits at absolute @base (lo >= base), in
 * rendering order. When the window covers all of @mr, or @mr has few
 * children, the rendering-order list is scanned; otherwise the address
 * index yields just the children that meet the window, which are then
 * sorted. The budget is charged one per child looked at either way.
 */
static int render_children(painter *p, ms_region *mr, ms__i128 base, ms__i128 lo, ms__i128 hi,
			   path_flags flags, unsigned depth)
{
	/* The window in @mr's own coordinates: lo >= base and hi <= base +
	 * size, so both fit in 64 bits. */
	uint64_t first = (uint64_t)(lo - base), last = (uint64_t)(hi - 1 - base);
	ms__interval_key after = {0, 0}; /* seq numbers start at 1 */
	size_t mark, end, i;
	ms_region *sub;
	int rc;

	if (mr->nr_subs <= SCAN_MAX_CHILDREN || (lo == base && hi == base + (ms__i128)mr->size)) {
		if (!charge(p, mr->nr_subs))
			return -E2BIG;
		for (sub = ms__region_first_sub(mr); sub; sub = ms__region_next_sub(sub)) {
			if (!sub->sib.indexed || sub->sib.where.start > last ||
			    sub->sib.where.last < first)
				continue;
			rc = render_region(p, sub, base, lo, hi, flags, depth + 1);
			if (rc < 0)
				return rc;
		}
		return 0;
	}
	/* Nested renders push their own runs above this one and pop them
	 * before returning, so [mark, end) stays this container's; p->found
	 * may move as it grows. */
	mark = p->nr_found;
	rc = ms__interval_visit(mr->sub_where, first, last, &after, push_found, p);
	end = p->nr_found;
	if (rc == 0 && end - mark > 1) /* p->found is still NULL when nothing was found */
		sort_rendering_order(p->found + mark, end - mark);
	for (i = mark; rc == 0 && i < end; i++)
		rc = render_region(p, p->found[i], base, lo, hi, flags, depth + 1);
	p->nr_found = mark;
	return rc;
}

/*
 * Render @mr whose container's offset 0 is at absolute @base, inside the
 * absolute window [clip_lo, clip_hi).
 */
static int render_region(painter *p, ms_region *mr, ms__i128 base, ms__i128 clip_lo,
			 ms__i128 clip_hi, path_flags flags, unsigned depth)
{
	ms__i128 lo, hi;
	int rc;

	if (!mr->enabled)
		return 0;
	if (depth > MS_RENDER_MAX_DEPTH)
		return -ELOOP;
	/* Visits, and children looked at, are bounded too: aliases can make a
	 * small tree describe an exponential number of paths. */
	if (!charge(p, 1))
		return -E2BIG;

	base += mr->addr;
	flags.readonly |= mr->readonly;
	flags.nonvolatile |= mr->nonvolatile;
	flags.unmergeable |= mr->unmergeable;

	lo = base > clip_lo ? base : clip_lo;
	hi = base + (ms__i128)mr->size;
	if (hi > clip_hi)
		hi = clip_hi;
	if (lo >= hi)
		return 0;

	if (mr->kind == MS_REGION_ALIAS) {
		base -= (ms__i128)mr->alias->addr + (ms__i128)mr->alias_offset;
		return render_region(p, mr->alias, base, lo, hi, flags, depth + 1);
	}

	if (mr->nr_subs > 0) {
		rc = render_children(p, mr, base, lo, hi, flags, depth);
		if (rc < 0)
			return rc;
	}

	if (!ms__region_terminates(mr))
		return 0;
	return fill_gaps(p, mr, base, lo, hi, flags);
}

bool ms__render_can_merge(const ms__range *prev, const ms__range *next)
{
	/* Offsets compare in 128 bits: a range ending at the last byte of a
	 * 2^64-byte region must not merge with one at its offset 0. */
	return prev->last + 1 == next->start && prev->region == next->region &&
	       (ms__u128)prev->offset_in_region + (next->start - prev->start) ==
		       (ms__u128)next->offset_in_region &&
	       prev->flags == next->flags && prev->dirty_log_mask == next->dirty_log_mask &&
	       !(prev->flags & MS__RANGE_UNMERGEABLE);
}

/* In-order walk with an explicit stack; appends and merges into @out. */
static int flatten(const painter *p, ms__range *out, size_t *nr)
{
	uint32_t *stack;
	size_t depth = 0, n = 0;
	uint32_t t = p->root;

	/* A treap's depth is O(log n) with high probability, but bound it by n. */
	stack = ms__ctx_malloc(p->ctx, (p->nr + 1) * sizeof(*stack));
	if (!stack)
		return -ENOMEM;
	while (t != NIL || depth > 0) {
		while (t != NIL) {
			stack[depth++] = t;
			t = p->nodes[t].left;
		}
		t = stack[--depth];
		if (n > 0 && ms__render_can_merge(&out[n - 1], &p->nodes[t].range))
			out[n - 1].last = p->nodes[t].range.last;
		else
			out[n++] = p->nodes[t].range;
		t = p->nodes[t].right;
	}
	free(stack);
	*nr = n;
	return 0;
}

int ms__render(ms__range **out, size_t *nr, ms_ctx *ctx, ms_region *root)
{
	return ms__render_window(out, nr, ctx, root, 0, UINT64_MAX);
}

uint64_t ms__render_limit(const ms_ctx *ctx)
{
	return ctx->render_limit ? ctx->render_limit : MS_RENDER_MAX_RANGES_DEFAULT;
}

int ms__render_window(ms__range **out, size_t *nr, ms_ctx *ctx, ms_region *root, uint64_t lo,
		      uint64_t hi)
{
	painter p = {.ctx = ctx};
	uint64_t limit = ms__render_limit(ctx);
	path_flags flags = {false, false, false};
	ms__range *ranges = NULL;
	int rc;

	*out = NULL;
	*nr = 0;
	if (!root)
		return 0;
	/* Node 0 is the nil sentinel. */
	rc = ms__ctx_grow(ctx, (void **)&p.nodes, &p.cap, 64, sizeof(node));
	if (rc < 0)
		return rc;
	p.nr = 1;
	p.max_ranges = limit < UINT32_MAX - 2 ? limit : UINT32_MAX - 2; /* node indexes */
	p.budget = limit > UINT64_MAX / 8 ? UINT64_MAX : limit * 8;
	rc = render_region(&p, root, 0, (ms__i128)lo, (ms__i128)hi + 1, flags, 0);
	if (rc == 0 && p.nr > 1) {
		ranges = ms__ctx_malloc(ctx, (p.nr - 1) * sizeof(*ranges));
		if (!ranges)
			rc = -ENOMEM;
		else
			rc = flatten(&p, ranges, nr);
		if (rc < 0) {
			free(ranges);
			ranges = NULL;
			*nr = 0;
		}
	}
	free(p.nodes);
	free(p.found);
	*out = ranges;
	return rc;
}

bool ms__render_range_equal(const ms__range *a, const ms__range *b)
{
	return a->start == b->start && a->last == b->last && a->region == b->region &&
	       a->offset_in_region == b->offset_in_region && a->flags == b->flags;
}
