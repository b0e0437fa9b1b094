/*
 * runner.c: runs programs of API calls on the library and on the reference
 * model (refmodel.c) in lockstep. Every call the model accepts must succeed
 * in the library; at each check and after the last op, the library's tree
 * getters, every address space's flatview root (F4), which address spaces
 * share a view, and every published view (ranges, lookups, merging) are
 * compared with the reference. Inside a transaction no view may change.
 * Declared in runner.h; only public headers are used.
 *
 * SPDX-License-Identifier: MIT
 */
#include "runner.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ms_rng.h"

/* Random addresses compared per view, besides range ends and region edges. */
#define RANDOM_POINTS 24

static uint64_t dummy_read(uint64_t addr, unsigned size, void *opaque)
{
	(void)addr;
	(void)size;
	(void)opaque;
	return 0;
}

static void dummy_write(uint64_t addr, uint64_t data, unsigned size, void *opaque)
{
	(void)addr;
	(void)data;
	(void)size;
	(void)opaque;
}

static const ms_region_ops dummy_ops = {
	.version = MS_REGION_OPS_VERSION,
	.read = dummy_read,
	.write = dummy_write,
};

static uint8_t ram_buffer[0x4000];

static const char *region_label(const struct runner *run, const ms_region *h, char out[32])
{
	if (!h) {
		snprintf(out, 32, "(none)");
		return out;
	}
	for (int i = 0; i < MAX_REGIONS; i++)
		if (run->m.r[i].exists && run->m.r[i].handle == h) {
			snprintf(out, 32, "[%d] %s", i, run->m.r[i].name);
			return out;
		}
	snprintf(out, 32, "(unknown %p)", (const void *)h);
	return out;
}

static void dump_sections(struct report *rp, const struct runner *run, const ms_section *s,
			  size_t n)
{
	char l[32];

	if (n == 0)
		rep(rp, "    (no ranges)\n");
	for (size_t i = 0; i < n; i++)
		rep(rp, "    %016" PRIx64 "-%016" PRIx64 " %s @0x%" PRIx64 "%s%s%s%s\n", s[i].start,
		    s[i].last, region_label(run, s[i].region, l), s[i].offset_in_region,
		    s[i].readonly ? " ro" : "", s[i].nonvolatile ? " nv" : "",
		    s[i].unmergeable ? " unm" : "", s[i].romd ? " romd" : "");
}

static void dump_xranges(struct report *rp, const struct model *m, const struct xrange *x, size_t n)
{
	if (n == 0)
		rep(rp, "    (no ranges)\n");
	for (size_t i = 0; i < n; i++)
		rep(rp, "    %016" PRIx64 "-%016" PRIx64 " [%d] %s @0x%" PRIx64 "%s%s%s%s\n",
		    x[i].start, x[i].last, x[i].leaf, m->r[x[i].leaf].name, x[i].offset,
		    x[i].readonly ? " ro" : "", x[i].nonvolatile ? " nv" : "",
		    x[i].unmergeable ? " unm" : "", x[i].romd ? " romd" : "");
}

static void dump_answer(struct report *rp, const struct model *m, const char *who,
			const struct answer *a)
{
	if (!a->mapped) {
		rep(rp, "    %s: unmapped\n", who);
		return;
	}
	rep(rp, "    %s: [%d] %s offset=0x%" PRIx64 "%s%s%s%s\n", who, a->leaf, m->r[a->leaf].name,
	    a->offset, a->readonly ? " ro" : "", a->nonvolatile ? " nv" : "",
	    a->unmergeable ? " unm" : "", a->romd ? " romd" : "");
}

/* Start a failure message; returns false so callers can `return failf(...)`. */
bool failf(struct runner *run, const char *fmt, ...)
{
	va_list ap;
	char line[512];

	if (!run->why)
		return false;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	rep(run->why, "FAILED at op %d (check #%u): %s\n", run->op_index, run->check_no, line);
	return false;
}

static int find_index(const ms_section *s, size_t n, uint64_t addr)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s[mid].last < addr)
			lo = mid + 1;
		else if (s[mid].start > addr)
			hi = mid;
		else
			return (int)mid;
	}
	return -1;
}

static int slot_of(const struct runner *run, const ms_region *h)
{
	for (int i = 0; i < MAX_REGIONS; i++)
		if (run->m.r[i].exists && run->m.r[i].handle == h)
			return i;
	return -1;
}

/* The library's answer at @addr, in the model's terms. */
static struct answer view_answer(const struct runner *run, const ms_section *s, int idx,
				 uint64_t addr)
{
	struct answer a;

	memset(&a, 0, sizeof(a));
	a.leaf = -1;
	if (idx < 0)
		return a;
	a.mapped = true;
	a.leaf = slot_of(run, s[idx].region);
	a.offset = s[idx].offset_in_region + (addr - s[idx].start);
	a.readonly = s[idx].readonly;
	a.nonvolatile = s[idx].nonvolatile;
	a.unmergeable = s[idx].unmergeable;
	a.romd = s[idx].romd;
	return a;
}

static bool answers_equal(const struct answer *x, const struct answer *y)
{
	if (x->mapped != y->mapped)
		return false;
	if (!x->mapped)
		return true;
	return x->leaf == y->leaf && x->offset == y->offset && x->readonly == y->readonly &&
	       x->nonvolatile == y->nonvolatile && x->unmergeable == y->unmergeable &&
	       x->romd == y->romd;
}

/* The view must end a range between @a and @a + 1 exactly when these differ. */
static bool ref_boundary(const struct answer *a, const struct answer *b)
{
	if (!a->mapped || !b->mapped)
		return a->mapped || b->mapped;
	if (a->path == b->path)
		return false;
	return !(a->leaf == b->leaf && (u128)a->offset + 1 == b->offset &&
		 a->readonly == b->readonly && a->nonvolatile == b->nonvolatile &&
		 a->romd == b->romd && !a->unmergeable && !b->unmergeable);
}

static void view_failure_context(struct runner *run, int root, const ms_section *s, size_t n,
				 const struct xrange *x, size_t nx, bool have_x)
{
	char l[32];

	if (!run->why)
		return;
	rep(run->why, "  view rendered from %s; actual ranges:\n",
	    root >= 0 ? region_label(run, run->m.r[root].handle, l) : "(none)");
	dump_sections(run->why, run, s, n);
	if (have_x) {
		rep(run->why, "  expected ranges:\n");
		dump_xranges(run->why, &run->m, x, nx);
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Every draw is its own statement: argument order must not change the stream. */
static uint64_t random_point(ms_rng *g, bool full64)
{
	uint64_t r = ms_rng_below(g, 100);

	if (full64) {
		uint64_t v, shift;

		if (r < 50)
			return ms_rng_next(g);
		v = ms_rng_next(g);
		shift = ms_rng_below(g, 64);
		return r < 75 ? v >> shift : UINT64_MAX - (v >> shift);
	}
	if (r < 70)
		return ms_rng_below(g, 0x8000);
	if (r < 90)
		return UINT64_MAX - ms_rng_below(g, 0x8000);
	return ms_rng_next(g);
}

/* Compare one view with the reference rendering of @root. */
static bool check_view(struct runner *run, ms_flatview *fv, int root, bool full64)
{
	size_t n = ms_flatview_nr_ranges(fv);
	ms_section *s = calloc(n ? n : 1, sizeof(*s));
	struct points p = {.complete = true};
	struct xrange *x = NULL;
	size_t nx = 0;
	uint64_t *addrs = NULL;
	size_t naddrs = 0;
	bool ok = false;
	ms_section probe;
	ms_rng g;
	int rc;

	run->stats->views++;
	run->stats->ranges += n;
	run->stats->nonempty_views += n > 0;
	run->stats->views_ge5 += n >= 5;
	if (n > run->stats->max_ranges)
		run->stats->max_ranges = n;
	if (!s)
		goto out;
	for (size_t i = 0; i < n; i++) {
		rc = ms_flatview_range(&s[i], fv, i);
		if (rc != 0) {
			failf(run, "ms_flatview_range(%zu of %zu) returned %d", i, n, rc);
			goto out;
		}
	}
	rc = ms_flatview_range(&probe, fv, n);
	if (rc != -ERANGE) {
		failf(run, "ms_flatview_range(index %zu == count) returned %d, want -ERANGE", n,
		      rc);
		goto out;
	}

	/* View invariants. */
	for (size_t i = 0; i < n; i++) {
		int slot = slot_of(run, s[i].region);

		if (s[i].last < s[i].start) {
			failf(run, "range %zu is empty or inverted", i);
			goto fail_ctx;
		}
		if (slot < 0 || !kind_terminates(run->m.r[slot].kind)) {
			failf(run,
			      "range %zu maps a region that is not a terminating region of the "
			      "model",
			      i);
			goto fail_ctx;
		}
		if (i == 0)
			continue;
		if (s[i].start == s[i - 1].last + 1 && s[i].region == s[i - 1].region &&
		    (u128)s[i - 1].offset_in_region + ((u128)s[i - 1].last - s[i - 1].start + 1) ==
			    s[i].offset_in_region &&
		    s[i].readonly == s[i - 1].readonly &&
		    s[i].nonvolatile == s[i - 1].nonvolatile && s[i].unmergeable &&
		    s[i - 1].unmergeable)
			run->stats->unmergeable_splits++;
		if (s[i].start <= s[i - 1].last) {
			failf(run, "ranges %zu and %zu are unsorted or overlap", i - 1, i);
			goto fail_ctx;
		}
		if (s[i].start == s[i - 1].last + 1 && s[i].region == s[i - 1].region &&
		    (u128)s[i - 1].offset_in_region + ((u128)s[i - 1].last - s[i - 1].start + 1) ==
			    s[i].offset_in_region &&
		    s[i].readonly == s[i - 1].readonly &&
		    s[i].nonvolatile == s[i - 1].nonvolatile && s[i].romd == s[i - 1].romd &&
		    !s[i].unmergeable && !s[i - 1].unmergeable) {
			failf(run, "ranges %zu and %zu should have been merged", i - 1, i);
			goto fail_ctx;
		}
	}

	/* Region edges projected into view coordinates, and the expected list. */
	points_add(&p, 0);
	points_add(&p, TWO_64);
	if (root >= 0)
		enumerate_edges(&run->m, root, 0, 0, (i128)TWO_64, &p);
	qsort(p.v, p.n, sizeof(*p.v), cmp_u128);
	{
		size_t u = 0;

		for (size_t i = 0; i < p.n; i++)
			if (u == 0 || p.v[u - 1] != p.v[i])
				p.v[u++] = p.v[i];
		p.n = u;
	}
	run->stats->incomplete += !p.complete;
	if (p.complete) {
		x = calloc(p.n, sizeof(*x));
		if (!x)
			goto out;
		nx = expected_ranges(&run->m, root, p.v, p.n, x);
	}

	/* Addresses to compare: range ends and their neighbours, edges, random points. */
	addrs = calloc(4 * n + 2 * p.n + RANDOM_POINTS + 2, sizeof(*addrs));
	if (!addrs)
		goto out;
	for (size_t i = 0; i < n; i++) {
		addrs[naddrs++] = s[i].start;
		addrs[naddrs++] = s[i].last;
		if (s[i].start > 0)
			addrs[naddrs++] = s[i].start - 1;
		if (s[i].last < UINT64_MAX)
			addrs[naddrs++] = s[i].last + 1;
	}
	for (size_t i = 0; i < p.n; i++) {
		if (p.v[i] > 0)
			addrs[naddrs++] = (uint64_t)(p.v[i] - 1);
		if (p.v[i] < TWO_64)
			addrs[naddrs++] = (uint64_t)p.v[i];
	}
	ms_rng_seed(&g, run->check_seed ^ ((uint64_t)run->check_no << 32) ^ run->stats->views);
	for (int i = 0; i < RANDOM_POINTS; i++)
		addrs[naddrs++] = random_point(&g, full64);
	qsort(addrs, naddrs, sizeof(*addrs), cmp_u64);

	for (size_t i = 0; i < naddrs; i++) {
		uint64_t a = addrs[i];
		int idx = find_index(s, n, a);
		struct answer want, got;

		if (i > 0 && addrs[i - 1] == a)
			continue;
		run->stats->addresses++;
		rc = ms_flatview_find(&probe, fv, a);
		if (rc != (idx >= 0 ? 0 : -ENOENT) ||
		    (idx >= 0 && (probe.start != s[idx].start || probe.last != s[idx].last ||
				  probe.region != s[idx].region ||
				  probe.offset_in_region != s[idx].offset_in_region))) {
			failf(run,
			      "ms_flatview_find(0x%" PRIx64 ") returned %d and a range that "
			      "disagrees with the range list (index %d)",
			      a, rc, idx);
			goto fail_ctx;
		}
		want = ref_lookup(&run->m, root, a);
		got = view_answer(run, s, idx, a);
		if (!answers_equal(&want, &got)) {
			failf(run, "first differing address 0x%016" PRIx64, a);
			dump_answer(run->why, &run->m, "expected (reference)", &want);
			dump_answer(run->why, &run->m, "actual (flat view)  ", &got);
			goto fail_ctx;
		}
	}

	/* Range boundaries: where the reference needs one and where the view has one. */
	for (size_t i = 0; i < p.n; i++) {
		if (p.v[i] == 0 || p.v[i] == TWO_64)
			continue;
		uint64_t b = (uint64_t)p.v[i];
		struct answer x0 = ref_lookup(&run->m, root, b - 1);
		struct answer x1 = ref_lookup(&run->m, root, b);
		int i0 = find_index(s, n, b - 1), i1 = find_index(s, n, b);
		bool view_split = i0 != i1 || i0 < 0;

		if (x0.mapped && x1.mapped && ref_boundary(&x0, &x1) != view_split) {
			failf(run,
			      "between 0x%" PRIx64 " and 0x%" PRIx64 " the view %s range "
			      "boundary; the reference %s",
			      b - 1, b, view_split ? "has a" : "has no",
			      view_split ? "merges" : "splits");
			goto fail_ctx;
		}
	}

	/* The whole list, when every edge was enumerated. */
	if (p.complete) {
		bool same = nx == n;

		for (size_t i = 0; same && i < n; i++)
			same = x[i].start == s[i].start && x[i].last == s[i].last &&
			       run->m.r[x[i].leaf].handle == s[i].region &&
			       x[i].offset == s[i].offset_in_region &&
			       x[i].readonly == s[i].readonly &&
			       x[i].nonvolatile == s[i].nonvolatile &&
			       x[i].unmergeable == s[i].unmergeable && x[i].romd == s[i].romd;
		if (!same) {
			failf(run, "range list differs from the expected one");
			goto fail_ctx;
		}
	}
	ok = true;
	goto out;

fail_ctx:
	view_failure_context(run, root, s, n, x, nx, p.complete && x);
out:
	free(addrs);
	free(x);
	free(p.v);
	free(s);
	return ok;
}

/* The library's getters and subregion lists against the model. */
bool check_tree(struct runner *run)
{
	const struct model *m = &run->m;
	char a[24], b[24];

	for (int i = 0; i < MAX_REGIONS; i++) {
		const struct mregion *r = &m->r[i];
		ms_region *h = r->handle;

		if (!r->exists)
			continue;
		if (size_from_api(ms_region_size(h)) != r->size)
			return failf(run, "[%d] size %s, model %s", i,
				     fmt_u128(a, size_from_api(ms_region_size(h))),
				     fmt_u128(b, r->size));
		if (ms_region_addr(h) != r->addr)
			return failf(run, "[%d] addr 0x%" PRIx64 ", model 0x%" PRIx64, i,
				     ms_region_addr(h), r->addr);
		if (ms_region_enabled(h) != r->enabled || ms_region_readonly(h) != r->readonly ||
		    ms_region_nonvolatile(h) != r->nonvolatile ||
		    ms_region_unmergeable(h) != r->unmergeable)
			return failf(run, "[%d] flags differ from the model", i);
		if (r->kind == MS_REGION_ROM_DEVICE && ms_region_romd(h) != r->romd)
			return failf(run, "[%d] romd differs from the model", i);
		if (ms_region_container(h) !=
		    (r->container >= 0 ? m->r[r->container].handle : NULL))
			return failf(run, "[%d] container differs from the model", i);
		if (r->container >= 0 && ms_region_priority(h) != r->priority)
			return failf(run, "[%d] priority %d, model %d", i, ms_region_priority(h),
				     r->priority);
		if (ms_region_is_terminating(h) != kind_terminates(r->kind))
			return failf(run, "[%d] is_terminating differs from the kind", i);
		if (r->kind == MS_REGION_ALIAS &&
		    (ms_region_alias_target(h) != m->r[r->target].handle ||
		     ms_region_alias_offset(h) != r->alias_offset))
			return failf(run, "[%d] alias target or offset differs from the model", i);
		if (ms_region_nr_subregions(h) != (size_t)r->nkids)
			return failf(run, "[%d] has %zu subregions, model %d", i,
				     ms_region_nr_subregions(h), r->nkids);
		for (int k = 0; k < r->nkids; k++)
			if (ms_region_subregion(h, (size_t)k) != m->r[r->kids[k]].handle) {
				char l[32];

				return failf(
					run,
					"[%d] subregion %d in rendering order is %s, model "
					"[%d] (priority desc, later added first)",
					i, k,
					region_label(run, ms_region_subregion(h, (size_t)k), l),
					r->kids[k]);
			}
	}
	return true;
}

bool check_all(struct runner *run, bool full64)
{
	struct model *m = &run->m;
	ms_flatview *fv[MAX_AS];
	int fvroot[MAX_AS];
	bool ok = true;
	char l1[32], l2[32];

	run->check_no++;
	run->stats->checks++;
	if (m->depth > 0) {
		/* Inside a transaction nothing is published. */
		for (int i = 0; i < run->txn_nas; i++) {
			ms_flatview *now;

			if (m->as_freed[i])
				continue;
			now = ms_as_get_flatview(run->as[i]);
			ms_flatview_unref(now);
			if (now != run->txn_views[i])
				return failf(run, "AS%d's view changed inside a transaction", i);
		}
		return true;
	}
	if (!check_tree(run))
		return false;
	for (int i = 0; i < m->nas; i++) {
		fvroot[i] = ref_flatview_root(m, m->as_root[i]);
		fv[i] = m->as_freed[i] ? NULL : ms_as_get_flatview(run->as[i]);
	}
	for (int i = 0; ok && i < m->nas; i++) {
		ms_region *want = fvroot[i] >= 0 ? m->r[fvroot[i]].handle : NULL;

		if (m->as_freed[i])
			continue;
		if (!fv[i]) {
			ok = failf(run, "AS%d: ms_as_get_flatview returned NULL", i);
			break;
		}
		if (ms_as_flatview_root(run->as[i]) != want) {
			ok = failf(run, "AS%d: flatview root is %s, rule F4 says %s", i,
				   region_label(run, ms_as_flatview_root(run->as[i]), l1),
				   region_label(run, want, l2));
			break;
		}
		if (ms_flatview_root(fv[i]) != want) {
			ok = failf(run, "AS%d: its view was rendered from %s, rule F4 says %s", i,
				   region_label(run, ms_flatview_root(fv[i]), l1),
				   region_label(run, want, l2));
			break;
		}
		for (int j = 0; ok && j < i; j++) {
			if (m->as_freed[j])
				continue;
			run->stats->shared_across_roots +=
				fv[i] == fv[j] && m->as_root[i] != m->as_root[j] && fvroot[i] >= 0;
			if ((fv[i] == fv[j]) != (fvroot[i] == fvroot[j]))
				ok = failf(
					run,
					"AS%d and AS%d %s one view, but their flatview roots "
					"are %s and %s",
					j, i, fv[i] == fv[j] ? "share" : "do not share",
					region_label(run,
						     fvroot[j] >= 0 ? m->r[fvroot[j]].handle : NULL,
						     l1),
					region_label(run, want, l2));
		}
		if (!ok)
			break;
		bool seen = false;

		for (int j = 0; j < i; j++)
			seen |= !m->as_freed[j] && fv[j] == fv[i];
		if (!seen && !check_view(run, fv[i], fvroot[i], full64)) {
			if (run->why)
				rep(run->why, "  (view of AS%d)\n", i);
			ok = false;
		}
	}
	for (int i = 0; i < m->nas; i++)
		ms_flatview_unref(fv[i]);
	return ok;
}

int lib_region_call(ms_region *h, ms_region *other, const struct op *op)
{
	switch (op->kind) {
	case OP_ADD:
		return op->flag
			       ? ms_region_add_subregion(other, op->value, h)
			       : ms_region_add_subregion_overlap(other, op->value, h, op->priority);
	case OP_DEL:
		return ms_region_del_subregion(other, h);
	case OP_SET_ADDR:
		return ms_region_set_address(h, op->value);
	case OP_SET_SIZE:
		return ms_region_set_size(h, op->value);
	case OP_SET_ENABLED:
		return ms_region_set_enabled(h, op->flag);
	case OP_SET_READONLY:
		return ms_region_set_readonly(h, op->flag);
	case OP_SET_NONVOLATILE:
		return ms_region_set_nonvolatile(h, op->flag);
	case OP_SET_UNMERGEABLE:
		return ms_region_set_unmergeable(h, op->flag);
	case OP_SET_ALIAS_OFFSET:
		return ms_region_set_alias_offset(h, op->value);
	case OP_SET_PRIORITY:
		return ms_region_set_priority(h, op->priority);
	case OP_SET_ROMD:
		return ms_region_set_romd(h, op->flag);
	default:
		return -ENOSYS;
	}
}

bool lib_apply(struct runner *run, const struct op *op)
{
	struct model *m = &run->m;
	ms_region *h = op->slot >= 0 && op->slot < MAX_REGIONS ? m->r[op->slot].handle : NULL;
	ms_region *other =
		op->other >= 0 && op->other < MAX_REGIONS ? m->r[op->other].handle : NULL;
	char name[16];
	int rc = 0;

	switch (op->kind) {
	case OP_NEW: {
		ms_region *out = NULL;

		snprintf(name, sizeof(name), "%s%d", kind_prefix(op->rkind), op->slot);
		switch (op->rkind) {
		case MS_REGION_CONTAINER:
			rc = ms_region_new_container(&out, run->ctx, name, op->value);
			break;
		case MS_REGION_IO:
			rc = ms_region_new_io(
				&out, run->ctx,
				&(ms_region_io_opts){.name = name,
						     .size = op->value,
						     .ops = op->flag ? &dummy_ops : NULL});
			break;
		case MS_REGION_RAM:
			rc = ms_region_new_ram(&out, run->ctx, name, op->value);
			break;
		case MS_REGION_ROM:
			rc = ms_region_new_rom(&out, run->ctx, name, op->value);
			break;
		case MS_REGION_ROM_DEVICE:
			rc = ms_region_new_rom_device(&out, run->ctx,
						      &(ms_region_io_opts){.name = name,
									   .size = op->value,
									   .ops = &dummy_ops});
			break;
		case MS_REGION_RAM_DEVICE:
			rc = ms_region_new_ram_device(&out, run->ctx, name, op->value, ram_buffer);
			break;
		case MS_REGION_RAM_PTR:
			rc = ms_region_new_ram_ptr(&out, run->ctx, name, op->value, ram_buffer);
			break;
		case MS_REGION_ALIAS:
			rc = ms_region_new_alias(&out, run->ctx,
						 &(ms_region_alias_opts){.name = name,
									 .target = other,
									 .offset = op->value2,
									 .size = op->value});
			break;
		case MS_REGION_IOMMU:
			rc = ms_iommu_new(&out, run->ctx,
					  &(ms_iommu_opts){.name = name, .size = op->value});
			break;
		}
		if (rc == 0 && !out)
			return failf(run, "constructor returned 0 without a region");
		m->r[op->slot].handle = out;
		break;
	}
	case OP_ADD:
	case OP_DEL:
	case OP_SET_ADDR:
	case OP_SET_SIZE:
	case OP_SET_ENABLED:
	case OP_SET_READONLY:
	case OP_SET_NONVOLATILE:
	case OP_SET_UNMERGEABLE:
	case OP_SET_ALIAS_OFFSET:
	case OP_SET_PRIORITY:
	case OP_SET_ROMD:
		rc = lib_region_call(h, other, op);
		break;
	case OP_NEW_AS:
		snprintf(name, sizeof(name), "as%d", m->nas);
		rc = ms_as_new(&run->as[m->nas], run->ctx, h, name);
		if (rc == 0 && run->hooks && run->hooks->as_created &&
		    !run->hooks->as_created(run, m->nas))
			return false;
		break;
	case OP_FREE_AS:
		if (run->hooks && run->hooks->as_freeing && !run->hooks->as_freeing(run, op->slot))
			return false;
		ms_as_free(run->as[op->slot]);
		run->as[op->slot] = NULL;
		rc = 0;
		break;
	case OP_BEGIN:
		if (m->depth == 0) {
			run->txn_nas = m->nas;
			for (int i = 0; i < m->nas; i++)
				run->txn_views[i] =
					m->as_freed[i] ? NULL : ms_as_get_flatview(run->as[i]);
		}
		ms_transaction_begin(run->ctx);
		if (ms_transaction_depth(run->ctx) != (unsigned)m->depth + 1)
			return failf(run, "transaction depth %u after begin, want %d",
				     ms_transaction_depth(run->ctx), m->depth + 1);
		break;
	case OP_COMMIT:
		rc = ms_transaction_commit(run->ctx);
		if (m->depth == 1) {
			for (int i = 0; i < run->txn_nas; i++)
				ms_flatview_unref(run->txn_views[i]);
			run->txn_nas = 0;
		}
		break;
	case OP_CHECK:
		break;
	}
	run->last_rc = rc;
	if (rc != 0) {
		struct report *why = run->why;

		failf(run, "the call returned %d (%s)", rc, strerror(-rc));
		if (why) {
			rep(why, "  call: ");
			dump_op(why, op);
			rep(why, "\n");
		}
		return false;
	}
	return true;
}

/* Free the address spaces still alive (telling the hook first). */
static bool free_address_spaces(struct runner *run, bool ok)
{
	for (int i = 0; i < run->m.nas; i++) {
		if (run->m.as_freed[i])
			continue;
		if (run->hooks && run->hooks->as_freeing && !run->hooks->as_freeing(run, i))
			ok = false;
		ms_as_free(run->as[i]);
	}
	return ok;
}

struct runner *runner_new(ms_ctx *shared_ctx, uint64_t check_seed, struct report *why,
			  struct stats *stats)
{
	struct runner *run = calloc(1, sizeof(*run));

	if (!run)
		abort();
	model_init(&run->m);
	run->why = why;
	run->stats = stats;
	run->check_seed = check_seed;
	run->shared_ctx = shared_ctx != NULL;
	stats->programs++;
	if (shared_ctx)
		run->ctx = shared_ctx;
	else if (ms_ctx_new(&run->ctx) != 0)
		abort();
	return run;
}

bool runner_step(struct runner *run, const struct op *op, bool full64)
{
	if (!model_valid(&run->m, op))
		return true;
	if (op->kind == OP_CHECK)
		return check_all(run, full64);
	if (!lib_apply(run, op))
		return false;
	model_apply(&run->m, op);
	return true;
}

bool runner_finish(struct runner *run, bool ok, bool full64, bool free_as_first)
{
	struct report *why = run->why;

	/* A program ends with everything committed: check the final state. */
	while (ok && run->m.depth > 0) {
		struct op commit = {.kind = OP_COMMIT};

		ok = lib_apply(run, &commit);
		if (ok)
			model_apply(&run->m, &commit);
	}
	if (ok)
		ok = check_all(run, full64);
	if (!ok && why)
		dump_model(why, &run->m);
	if (ok && why && getenv("MS_PROP_VERBOSE")) {
		struct report r = {0};

		dump_model(&r, &run->m);
		for (int i = 0; i < run->m.nas; i++) {
			if (run->m.as_freed[i])
				continue;
			ms_flatview *fv = ms_as_get_flatview(run->as[i]);
			size_t n = ms_flatview_nr_ranges(fv);
			ms_section *sec = calloc(n + 1, sizeof(*sec));

			for (size_t k = 0; k < n; k++)
				ms_flatview_range(&sec[k], fv, k);
			rep(&r, "  final view of AS%d:\n", i);
			dump_sections(&r, run, sec, n);
			free(sec);
			ms_flatview_unref(fv);
		}
		printf("%s", r.buf ? r.buf : "");
		rep_free(&r);
	}

	/* Teardown; a failure above may leave a transaction open. */
	for (int i = 0; i < run->txn_nas; i++)
		ms_flatview_unref(run->txn_views[i]);
	while (ms_transaction_depth(run->ctx) > 0)
		ms_transaction_commit(run->ctx);
	if (free_as_first)
		ok = free_address_spaces(run, ok);
	for (int i = 0; i < MAX_REGIONS; i++)
		if (run->m.r[i].exists)
			ms_region_unref(run->m.r[i].handle);
	if (!free_as_first)
		ok = free_address_spaces(run, ok);
	if (!run->shared_ctx)
		ms_ctx_free(run->ctx);
	free(run);
	return ok;
}

/*
 * Run @p: each op valid for the model is applied to the library and the
 * model; ops that became invalid (after shrinking) are skipped. Returns true
 * when every check passed.
 */
bool run_program_in(const struct program *p, ms_ctx *shared_ctx, struct report *why,
		    struct stats *stats)
{
	struct runner *run = runner_new(shared_ctx, p->seed, why, stats);
	bool ok = true;

	for (int i = 0; ok && i < p->nops; i++) {
		run->op_index = i;
		ok = runner_step(run, &p->ops[i], p->full64);
	}
	run->op_index = p->nops;
	return runner_finish(run, ok, p->full64, p->free_as_first);
}

bool run_program(const struct program *p, struct report *why, struct stats *stats)
{
	return run_program_in(p, NULL, why, stats);
}
