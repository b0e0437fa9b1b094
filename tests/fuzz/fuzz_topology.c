/*
 * Fuzz target: region-tree topologies against the reference renderer.
 *
 * The input is decoded into a program of API calls on a pool of up to
 * MAX_REGIONS regions of every kind: create, place (with priorities and
 * overlap), remove, move, resize, enable/disable, readonly, nonvolatile,
 * unmergeable, alias offsets, romd, address spaces, nested transactions. The
 * runner of tests/support/runner.c makes the calls on the library and on the
 * reference model of tests/support/refmodel.c in lockstep. After every
 * commit each address space's published view is compared with the
 * brute-force reference (F4 root, sharing, every range,
 * sorted/disjoint/merged) and the library's own checker
 * (ms__as_check) runs, again with each view's flat table built. One
 * listener per address space replays region_add /
 * region_del / region_nop onto its own copy of the view, which must equal the
 * new view after every commit.
 *
 * Calls the model knows must fail (a region in two containers, a container
 * cycle, a subregion on an alias, a resize of RAM, a commit with no
 * transaction...) are made too: each must return one of the errors its
 * documentation lists and leave the tree, the views and the listeners
 * unchanged. An alias placed inside its own target's subtree is legal but
 * outside the model: the library may render it (internal checks only) or
 * refuse it with -ELOOP (nothing changes); it is removed again at once.
 *
 * Dirty logging, inside transactions too: a client of a region on or off
 * (every region's mask follows at once; views and listeners only at the
 * outermost commit, whose log_start/log_stop must follow its adds and nops),
 * global logging (refused with -EBUSY inside a transaction, changing
 * nothing), log_sync of an address space.
 *
 * Any call may also run with allocation-failure injection
 * (ms_ctx_test_control(MS_TEST_FAIL_ALLOC_AFTER)): a call that fails with -ENOMEM must change
 * nothing, except that a failed outermost commit keeps the tree's changes
 * unpublished (no view changes, no listener runs) for the next commit.
 *
 * On any divergence the target prints the program and the report, then
 * aborts (a crash for libFuzzer, a failure for the replay test).
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flatview_int.h"
#include "fuzz_reader.h"
#include "map.h"
#include "txn.h"
#include "runner.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FUZZ_OPS 160
/* Inputs run in one context this many at a time (freeing one waits for RCU). */
#define INPUTS_PER_CTX 256

/* ---- Input decoding ------------------------------------------------------- */

/* Addresses and offsets: small ones, aligned ones, near 2^64, anything. */
static uint64_t rd_addr(struct reader *r)
{
	uint8_t sel = rd8(r);

	switch (sel % 8) {
	case 0:
		return 0;
	case 1:
		return rd8(r);
	case 2:
		return rd16(r) % 0x4000;
	case 3:
		return (rd16(r) % 0x4000) & ~(uint64_t)0xff;
	case 4:
		return 0xfffffffffffff000ull + (rd16(r) & 0xfff);
	case 5:
		return UINT64_MAX - rd8(r);
	case 6: {
		uint64_t v = rd8(r);

		return v << (rd8(r) % 64);
	}
	default:
		return rd64(r);
	}
}

/* Sizes in API encoding; memory kinds stay within the model's 0x4000. */
static uint64_t rd_size(struct reader *r, ms_region_kind kind)
{
	uint8_t sel = rd8(r);

	if (kind_has_ram(kind))
		return sel % 16 == 0 ? 0 : 1 + rd16(r) % 0x4000;
	switch (sel % 9) {
	case 0:
		return MS_SIZE_2_64;
	case 1:
		return 0;
	case 2:
		return 1 + (uint64_t)rd8(r);
	case 3:
		return 1 + rd16(r) % 0x4000;
	case 4:
		return 0x1000;
	case 5:
		return (uint64_t)1 << (rd8(r) % 64);
	case 6:
		return rd64(r);
	case 7:
		return 0x100;
	default:
		return MS_SIZE_2_64 - 0x1000;
	}
}

static int rd_priority(struct reader *r)
{
	return (int)(rd8(r) % 7) - 3;
}

/* ---- Listeners: replay the callbacks onto a copy of the view --------------- */

struct mirror {
	struct runner *run;
	int as_index;
	ms_listener *listener;
	ms_section *s; /* sorted, disjoint */
	size_t n, cap;
	bool in_commit;
	bool seen_add_pass; /* an add or nop in this commit: no more dels */
	bool have_last;
	uint64_t last_start; /* address order within a pass */
	uint64_t events;
	char error[256];
	/* Dirty logging: what must follow an add or a nop, global state, syncs. */
	bool want_start, want_stop;
	uint64_t want_at;
	uint8_t want_old, want_new;
	bool global_on;
	bool unregistering;
	unsigned syncs;
	bool sync_have_last;
	uint64_t sync_last;
};

struct fuzz_state {
	struct runner *run;
	struct mirror mirrors[MAX_AS];
	struct program prog;                /* what ran, for reports */
	int refused, cycles, loops, enomem; /* statistics (MS_FUZZ_STATS=1) */
	/* The dirty-logging model: clients each slot's region logs, global logging. */
	uint8_t dlog[MAX_REGIONS];
	bool global;
	int dirty_ops, log_events, txn_dirty_ops, txn_global_refused;
};

static void mirror_fail(struct mirror *mi, const char *what, const ms_section *s)
{
	if (mi->error[0])
		return;
	if (s)
		snprintf(mi->error, sizeof(mi->error),
			 "listener of AS%d: %s (%016" PRIx64 "-%016" PRIx64 " @0x%" PRIx64 ")",
			 mi->as_index, what, s->start, s->last, s->offset_in_region);
	else
		snprintf(mi->error, sizeof(mi->error), "listener of AS%d: %s", mi->as_index, what);
}

static bool sections_equal(const ms_section *a, const ms_section *b)
{
	return a->region == b->region && a->start == b->start && a->last == b->last &&
	       a->offset_in_region == b->offset_in_region && a->readonly == b->readonly &&
	       a->nonvolatile == b->nonvolatile && a->unmergeable == b->unmergeable &&
	       a->romd == b->romd && a->dirty_log_mask == b->dirty_log_mask;
}

static bool sections_equal_but_log(const ms_section *a, const ms_section *b)
{
	ms_section c = *b;

	c.dirty_log_mask = a->dirty_log_mask;
	return sections_equal(a, &c);
}

/* Every log_start / log_stop an add or a nop announced must have come. */
static void mirror_no_pending(struct mirror *mi, const ms_section *s)
{
	if (mi->want_start || mi->want_stop)
		mirror_fail(mi, mi->want_start ? "log_start missing" : "log_stop missing", s);
	mi->want_start = mi->want_stop = false;
}

/* Index of the first range with last >= @addr. */
static size_t mirror_lower(const struct mirror *mi, uint64_t addr)
{
	size_t lo = 0, hi = mi->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (mi->s[mid].last < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void mirror_order(struct mirror *mi, const ms_section *s)
{
	if (!mi->in_commit)
		mirror_fail(mi, "callback outside begin/commit", s);
	if (mi->have_last && s->start <= mi->last_start)
		mirror_fail(mi, "callbacks of one pass out of address order", s);
	mi->have_last = true;
	mi->last_start = s->start;
}

static void on_begin(void *opaque)
{
	struct mirror *mi = opaque;
	ms_region *root = ms_as_root(mi->run->as[mi->as_index]);
	int rc;

	if (mi->in_commit)
		mirror_fail(mi, "begin twice", NULL);
	mi->in_commit = true;
	mi->seen_add_pass = false;
	mi->have_last = false;
	mi->events++;
	/* Callbacks must not change the topology. */
	rc = ms_region_set_enabled(root, !ms_region_enabled(root));
	if (rc != -EBUSY)
		mirror_fail(mi, "a mutation from a listener callback was not refused", NULL);
}

static void on_commit(void *opaque)
{
	struct mirror *mi = opaque;

	if (!mi->in_commit)
		mirror_fail(mi, "commit without begin", NULL);
	mirror_no_pending(mi, NULL);
	mi->in_commit = false;
	mi->events++;
}

static void on_del(const ms_section *s, void *opaque)
{
	struct mirror *mi = opaque;
	size_t i = mirror_lower(mi, s->start);

	mi->events++;
	mirror_no_pending(mi, s);
	if (mi->seen_add_pass)
		mirror_fail(mi, "region_del after the add pass started", s);
	mirror_order(mi, s);
	if (i >= mi->n || !sections_equal(&mi->s[i], s)) {
		mirror_fail(mi, "region_del of a range that is not in the view", s);
		return;
	}
	memmove(&mi->s[i], &mi->s[i + 1], (mi->n - i - 1) * sizeof(*mi->s));
	mi->n--;
}

static void add_pass_starts(struct mirror *mi)
{
	if (!mi->seen_add_pass) {
		mi->seen_add_pass = true;
		mi->have_last = false;
	}
}

static void on_add(const ms_section *s, void *opaque)
{
	struct mirror *mi = opaque;
	size_t i = mirror_lower(mi, s->start);

	mi->events++;
	mirror_no_pending(mi, s);
	add_pass_starts(mi);
	mirror_order(mi, s);
	if (s->dirty_log_mask) {
		mi->want_start = true;
		mi->want_at = s->start;
		mi->want_old = 0;
		mi->want_new = s->dirty_log_mask;
	}
	if (s->last < s->start) {
		mirror_fail(mi, "region_add of an empty range", s);
		return;
	}
	if (i < mi->n && mi->s[i].start <= s->last) {
		mirror_fail(mi, "region_add overlaps a range still in the view", s);
		return;
	}
	if (mi->n == mi->cap) {
		size_t cap = mi->cap ? 2 * mi->cap : 16;
		ms_section *p = realloc(mi->s, cap * sizeof(*p));

		if (!p)
			abort();
		mi->s = p;
		mi->cap = cap;
	}
	memmove(&mi->s[i + 1], &mi->s[i], (mi->n - i) * sizeof(*mi->s));
	mi->s[i] = *s;
	mi->n++;
}

static void on_nop(const ms_section *s, void *opaque)
{
	struct mirror *mi = opaque;
	size_t i = mirror_lower(mi, s->start);

	mi->events++;
	mirror_no_pending(mi, s);
	add_pass_starts(mi);
	mirror_order(mi, s);
	if (i >= mi->n || !sections_equal_but_log(&mi->s[i], s)) {
		mirror_fail(mi, "region_nop of a range that is not in the view", s);
		return;
	}
	/* A changed dirty-log mask: log_start when it grew, then log_stop when it shrank. */
	mi->want_at = s->start;
	mi->want_old = mi->s[i].dirty_log_mask;
	mi->want_new = s->dirty_log_mask;
	mi->want_start = mi->want_new & ~mi->want_old;
	mi->want_stop = mi->want_old & ~mi->want_new;
	mi->s[i].dirty_log_mask = s->dirty_log_mask;
}

static void on_log_start(const ms_section *s, uint8_t old_mask, uint8_t new_mask, void *opaque)
{
	struct mirror *mi = opaque;

	mi->events++;
	if (!mi->want_start || s->start != mi->want_at || old_mask != mi->want_old ||
	    new_mask != mi->want_new || s->dirty_log_mask != new_mask)
		mirror_fail(mi, "log_start that no add or nop announced", s);
	mi->want_start = false;
}

static void on_log_stop(const ms_section *s, uint8_t old_mask, uint8_t new_mask, void *opaque)
{
	struct mirror *mi = opaque;
	size_t i = mirror_lower(mi, s->start);

	mi->events++;
	if (mi->unregistering) {
		/* Unregistration: log_stop (to 0) of a logged range, then its region_del. */
		if (i >= mi->n || !sections_equal(&mi->s[i], s) || old_mask != s->dirty_log_mask ||
		    old_mask == 0 || new_mask != 0)
			mirror_fail(mi, "log_stop at unregistration of a range not logged", s);
		return;
	}
	if (mi->want_start || !mi->want_stop || s->start != mi->want_at ||
	    old_mask != mi->want_old || new_mask != mi->want_new || s->dirty_log_mask != new_mask)
		mirror_fail(mi, "log_stop that no nop announced (or before its log_start)", s);
	mi->want_stop = false;
}

static void on_log_sync(const ms_section *s, void *opaque)
{
	struct mirror *mi = opaque;
	size_t i = mirror_lower(mi, s->start);

	mi->events++;
	if (mi->in_commit || i >= mi->n || !sections_equal(&mi->s[i], s) || !s->dirty_log_mask ||
	    (mi->sync_have_last && s->start <= mi->sync_last))
		mirror_fail(mi, "log_sync of a range not logged, or out of order", s);
	mi->sync_have_last = true;
	mi->sync_last = s->start;
	mi->syncs++;
}

static void on_log_global_start(void *opaque)
{
	struct mirror *mi = opaque;

	mi->events++;
	/* Inside begin/commit only when registration replays the view. */
	if (mi->global_on || (mi->in_commit && mi->seen_add_pass))
		mirror_fail(mi, "log_global_start while started, or after ranges", NULL);
	mi->global_on = true;
}

static void on_log_global_stop(void *opaque)
{
	struct mirror *mi = opaque;

	mi->events++;
	if (!mi->global_on || mi->in_commit)
		mirror_fail(mi, "log_global_stop while stopped, or inside a commit", NULL);
	mi->global_on = false;
}

static const ms_listener_ops mirror_ops = {
	.version = MS_LISTENER_OPS_VERSION,
	.begin = on_begin,
	.commit = on_commit,
	.region_add = on_add,
	.region_del = on_del,
	.region_nop = on_nop,
	.log_start = on_log_start,
	.log_stop = on_log_stop,
	.log_sync = on_log_sync,
	.log_global_start = on_log_global_start,
	.log_global_stop = on_log_global_stop,
};

/* The mirror must equal the published view. */
static bool mirror_check(struct runner *run, struct mirror *mi)
{
	ms_flatview *fv;
	size_t n;
	bool ok = true;

	if (mi->error[0])
		return failf(run, "%s", mi->error);
	if (mi->in_commit)
		return failf(run, "listener of AS%d: no commit after begin", mi->as_index);
	fv = ms_as_get_flatview(run->as[mi->as_index]);
	n = ms_flatview_nr_ranges(fv);
	if (n != mi->n)
		ok = failf(run, "listener of AS%d replayed %zu ranges, the view has %zu",
			   mi->as_index, mi->n, n);
	for (size_t i = 0; ok && i < n; i++) {
		ms_section s;

		if (ms_flatview_range(&s, fv, i) != 0 || !sections_equal(&s, &mi->s[i]))
			ok = failf(run,
				   "listener of AS%d: replayed range %zu differs from the view",
				   mi->as_index, i);
	}
	ms_flatview_unref(fv);
	return ok;
}

static bool hook_as_created(struct runner *run, int as_index)
{
	struct fuzz_state *st = run->hook_opaque;
	struct mirror *mi = &st->mirrors[as_index];
	int rc;

	memset(mi, 0, sizeof(*mi));
	mi->run = run;
	mi->as_index = as_index;
	rc = ms_listener_register(&mi->listener, run->as[as_index], &mirror_ops, mi);
	if (rc != 0)
		return failf(run, "ms_listener_register returned %d", rc);
	/* Registration replays the view: begin, region_add for each range, commit. */
	return mirror_check(run, mi);
}

static bool hook_as_freeing(struct runner *run, int as_index)
{
	struct fuzz_state *st = run->hook_opaque;
	struct mirror *mi = &st->mirrors[as_index];
	bool ok = true;

	if (!mi->listener)
		return true;
	mi->unregistering = true;
	if (ms_listener_unregister(mi->listener) != 0)
		ok = failf(run, "ms_listener_unregister failed");
	else if (mi->n != 0 || mi->error[0])
		ok = failf(run, "listener of AS%d: unregistering left %zu ranges (%s)", as_index,
			   mi->n, mi->error);
	mi->listener = NULL;
	free(mi->s);
	mi->s = NULL;
	mi->n = mi->cap = 0;
	return ok;
}

static const struct runner_hooks hooks = {
	.as_created = hook_as_created,
	.as_freeing = hook_as_freeing,
};

/* ---- Checks ----------------------------------------------------------------- */

static bool dirty_check(struct fuzz_state *st);

/*
 * The flat table a view builds once it has answered enough look-ups, built
 * now on the published view of AS @i: the checker then compares every
 * slot with the ranges and looks up both ends of every range and hole
 * through it (whatever the table keeps: on these small crowded layouts it
 * often keeps none).
 */
static bool flat_table_check(struct runner *run, int i)
{
	ms_flatview *fv = ms_as_get_flatview(run->as[i]);
	int rc;

	ms__dispatch_flat_build(fv);
	rc = ms__flatview_check(fv);
	ms_flatview_unref(fv);
	return rc == 0 || failf(run, "AS%d: the checker found %d with the flat table", i, rc);
}

/* Published state after a commit: reference, library checker, listeners,
 * the flat table. */
static bool check_committed(struct fuzz_state *st, bool full64, bool with_model)
{
	struct runner *run = st->run;
	int rc;

	if (with_model && !check_all(run, full64))
		return false;
	rc = ms__as_check(run->ctx);
	if (rc != 0)
		return failf(run, "ms__as_check returned %d", rc);
	for (int i = 0; i < run->m.nas; i++) {
		if (run->m.as_freed[i])
			continue;
		if (!mirror_check(run, &st->mirrors[i]) || !flat_table_check(run, i))
			return false;
	}
	return run->m.depth > 0 || dirty_check(st);
}

struct snapshot {
	ms_flatview *views[MAX_AS];
	uint64_t events[MAX_AS];
};

static void snapshot_take(struct fuzz_state *st, struct snapshot *snap)
{
	struct runner *run = st->run;

	for (int i = 0; i < run->m.nas; i++) {
		snap->views[i] = run->m.as_freed[i] ? NULL : ms_as_get_flatview(run->as[i]);
		snap->events[i] = st->mirrors[i].events;
	}
}

/* Nothing visible changed since @snap (releases it). */
static bool snapshot_unchanged(struct fuzz_state *st, struct snapshot *snap, const char *what)
{
	struct runner *run = st->run;
	bool ok = true;

	for (int i = 0; i < run->m.nas; i++) {
		if (run->m.as_freed[i])
			continue;
		ms_flatview *now = ms_as_get_flatview(run->as[i]);

		if (ok && now != snap->views[i])
			ok = failf(run, "%s: AS%d's view changed", what, i);
		if (ok && st->mirrors[i].events != snap->events[i])
			ok = failf(run, "%s: listeners of AS%d were called", what, i);
		ms_flatview_unref(now);
		ms_flatview_unref(snap->views[i]);
	}
	return ok;
}

/* ---- Calls the model refuses ------------------------------------------------ */

#define E(x) ((uint64_t)1 << (x))

/* Is @sub on the container chain of @container (itself included)? */
static bool container_chain_has(const struct model *m, int container, int sub)
{
	for (int up = container; up >= 0; up = m->r[up].container)
		if (up == sub)
			return true;
	return false;
}

/*
 * The errno set a call the model refuses must return; 0 when the call is
 * legal for the library (or not worth making) and must be handled elsewhere.
 * *@no_call says the library must not be called at all.
 */
static uint64_t expected_errors(const struct model *m, const struct op *op, bool *no_call)
{
	const struct mregion *r = slot_ok(m, op->slot) ? &m->r[op->slot] : NULL;
	uint64_t e = 0;

	*no_call = false;
	switch (op->kind) {
	case OP_NEW:
		if (kind_has_ram(op->rkind) && op->value == 0)
			return E(EINVAL);
		if (op->rkind == MS_REGION_IOMMU && op->value == 0)
			return E(EINVAL);
		break;
	case OP_ADD:
		if (op->slot == op->other || m->r[op->other].kind == MS_REGION_ALIAS)
			e |= E(EINVAL);
		if (r->container >= 0)
			e |= E(EBUSY);
		if (container_chain_has(m, op->other, op->slot))
			e |= E(ELOOP);
		return e;
	case OP_DEL:
		return r->container != op->other ? E(ENOENT) : 0;
	case OP_SET_SIZE:
		if (kind_has_ram(r->kind) && size_from_api(op->value) != r->size)
			return E(EINVAL);
		if (r->kind == MS_REGION_IOMMU && op->value == 0)
			return E(EINVAL);
		break;
	case OP_SET_ALIAS_OFFSET:
		return r->kind != MS_REGION_ALIAS ? E(EINVAL) : 0;
	case OP_SET_PRIORITY:
		return r->container < 0 ? E(EINVAL) : 0;
	case OP_SET_ROMD:
		return r->kind != MS_REGION_ROM_DEVICE ? E(EINVAL) : 0;
	case OP_COMMIT:
		return m->depth == 0 ? E(EPERM) : 0;
	default:
		break;
	}
	*no_call = true;
	return 0;
}

/* Make a call the library must refuse; it must change nothing. */
static bool refused_call(struct fuzz_state *st, const struct op *op, uint64_t errors)
{
	struct runner *run = st->run;
	struct snapshot snap;
	ms_region *h = slot_ok(&run->m, op->slot) ? run->m.r[op->slot].handle : NULL;
	ms_region *other = slot_ok(&run->m, op->other) ? run->m.r[op->other].handle : NULL;
	ms_region *out = NULL;
	int rc = 0;

	snapshot_take(st, &snap);
	switch (op->kind) {
	case OP_NEW:
		if (op->rkind == MS_REGION_IOMMU)
			rc = ms_iommu_new(&out, run->ctx,
					  &(ms_iommu_opts){.name = "bad", .size = op->value});
		else if (op->rkind == MS_REGION_ROM)
			rc = ms_region_new_rom(&out, run->ctx, "bad", op->value);
		else
			rc = ms_region_new_ram(&out, run->ctx, "bad", op->value);
		if (out) {
			ms_region_unref(out);
			snapshot_unchanged(st, &snap, "constructor");
			return failf(run, "a constructor of size 0 returned a region");
		}
		break;
	case OP_ADD:
	case OP_DEL:
	case OP_SET_SIZE:
	case OP_SET_ALIAS_OFFSET:
	case OP_SET_PRIORITY:
	case OP_SET_ROMD:
		rc = lib_region_call(h, other, op);
		break;
	case OP_COMMIT:
		rc = ms_transaction_commit(run->ctx);
		break;
	default:
		break;
	}
	if (rc >= 0 || rc <= -64 || !(errors & E(-rc))) {
		struct report *why = run->why;

		snapshot_unchanged(st, &snap, "refused call");
		failf(run, "a call the model refuses returned %d (errno set 0x%" PRIx64 ")", rc,
		      errors);
		rep(why, "  call: ");
		dump_op(why, op);
		rep(why, "\n");
		return false;
	}
	if (!snapshot_unchanged(st, &snap, "refused call"))
		return false;
	if (ms_transaction_depth(run->ctx) != (unsigned)run->m.depth)
		return failf(run, "transaction depth %u after a refused call, model %d",
			     ms_transaction_depth(run->ctx), run->m.depth);
	return check_tree(run);
}

/*
 * @op places an alias inside its own target's subtree (legal, outside the
 * model). Outside a transaction the add renders at once: -ELOOP (endless
 * nesting) or -E2BIG (a cycle that branches: exponentially many paths hit
 * the render limit) changes nothing, success is checked by the library's
 * checker and the listeners. With @via_txn the add is wrapped in a
 * transaction whose commit may fail the same ways (then no view changes
 * and the tree keeps the alias). Either
 * way the alias is removed again and the model catches up.
 */
static bool alias_cycle(struct fuzz_state *st, const struct op *op, bool full64, bool via_txn)
{
	struct runner *run = st->run;
	ms_region *h = run->m.r[op->slot].handle;
	ms_region *other = run->m.r[op->other].handle;
	bool outer = run->m.depth == 0;
	struct snapshot snap;
	struct op del = {.kind = OP_DEL, .slot = op->slot, .other = op->other};
	bool refused_commit = false;
	int rc;

	snapshot_take(st, &snap);
	if (via_txn && outer)
		ms_transaction_begin(run->ctx);
	rc = op->flag ? ms_region_add_subregion(other, op->value, h)
		      : ms_region_add_subregion_overlap(other, op->value, h, op->priority);
	if (via_txn && outer) {
		if (rc != 0) {
			snapshot_unchanged(st, &snap, "cycle");
			return failf(run, "add inside a transaction returned %d", rc);
		}
		rc = ms_transaction_commit(run->ctx);
		if (rc == -ELOOP || rc == -E2BIG) {
			if (!snapshot_unchanged(st, &snap, "commit refused with -ELOOP/-E2BIG"))
				return false;
			if (ms_region_container(h) != other)
				return failf(run, "a failed commit dropped the alias");
			rc = 0; /* the tree keeps the change, unpublished */
			refused_commit = true;
			st->loops++;
		} else {
			for (int i = 0; i < run->m.nas; i++)
				ms_flatview_unref(snap.views[i]);
		}
	} else if ((rc == -ELOOP || rc == -E2BIG) && outer) {
		st->loops++;
		if (!snapshot_unchanged(st, &snap, "add refused with -ELOOP/-E2BIG"))
			return false;
		if (!check_tree(run))
			return false;
		return true;
	} else {
		for (int i = 0; i < run->m.nas; i++)
			ms_flatview_unref(snap.views[i]);
	}
	if (rc != 0)
		return failf(run, "placing an alias inside its target returned %d", rc);
	if (outer && !refused_commit && !check_committed(st, full64, false))
		return false;
	model_apply(&run->m, op); /* addr and priority, for the getters */
	rc = ms_region_del_subregion(other, h);
	model_apply(&run->m, &del);
	if (rc != 0)
		return failf(run, "removing the alias again returned %d", rc);
	return !outer || check_committed(st, full64, true);
}

/* ---- Allocation failures ---------------------------------------------------------- */

/*
 * Run @op (valid for the model) with the @countdown-th allocation failing.
 * Success continues as usual; -ENOMEM must change nothing visible, and after
 * a failed outermost commit a plain commit must publish the kept changes.
 * *@committed says whether the caller should check the published state.
 */
static bool injected_call(struct fuzz_state *st, const struct op *op, unsigned countdown,
			  bool *committed)
{
	struct runner *run = st->run;
	struct report *why = run->why;
	struct snapshot snap;
	bool ok, outer_commit = op->kind == OP_COMMIT && run->m.depth == 1;

	*committed = false;
	snapshot_take(st, &snap);
	run->why = NULL;
	ms_ctx_test_control(run->ctx, MS_TEST_FAIL_ALLOC_AFTER, countdown);
	ok = lib_apply(run, op);
	ms_ctx_test_control(run->ctx, MS_TEST_FAIL_ALLOC_AFTER, 0);
	run->why = why;
	if (ok) {
		for (int i = 0; i < run->m.nas; i++)
			ms_flatview_unref(snap.views[i]);
		model_apply(&run->m, op);
		*committed = true;
		return true;
	}
	if (run->last_rc != -ENOMEM) {
		snapshot_unchanged(st, &snap, "injected call");
		failf(run, "a call with allocation failures returned %d", run->last_rc);
		rep(why, "  call: ");
		dump_op(why, op);
		rep(why, "\n");
		return false;
	}
	st->enomem++;
	if (!snapshot_unchanged(st, &snap, "a call that failed with -ENOMEM"))
		return false;
	if (outer_commit) {
		/* The transaction is over; its changes wait for the next commit. */
		struct op begin = {.kind = OP_BEGIN}, commit = {.kind = OP_COMMIT};

		model_apply(&run->m, op);
		if (ms_transaction_depth(run->ctx) != 0)
			return failf(run, "a failed commit left depth %u",
				     ms_transaction_depth(run->ctx));
		if (!runner_step(run, &begin, false) || !runner_step(run, &commit, false))
			return false;
		*committed = true;
		return true;
	}
	if (ms_transaction_depth(run->ctx) != (unsigned)run->m.depth)
		return failf(run, "transaction depth %u after -ENOMEM, model %d",
			     ms_transaction_depth(run->ctx), run->m.depth);
	return check_tree(run);
}

/* ---- The program ------------------------------------------------------------ */

static ms_region_kind rd_kind(struct reader *r)
{
	static const ms_region_kind kinds[] = {
		MS_REGION_CONTAINER, MS_REGION_CONTAINER,  MS_REGION_CONTAINER,
		MS_REGION_IO,        MS_REGION_IO,         MS_REGION_RAM,
		MS_REGION_ROM,       MS_REGION_ROM_DEVICE, MS_REGION_RAM_DEVICE,
		MS_REGION_RAM_PTR,   MS_REGION_IOMMU,      MS_REGION_ALIAS,
		MS_REGION_ALIAS,     MS_REGION_ALIAS,      MS_REGION_CONTAINER,
		MS_REGION_IO,
	};

	return kinds[rd8(r) % 16];
}

static int nslots(const struct model *m)
{
	int n = 0;

	while (n < MAX_REGIONS && m->r[n].exists)
		n++;
	return n;
}

/*
 * Decode one op; false when the input is used up. *@inject receives the
 * allocation to fail during the call (0: none).
 */
static bool decode_op(struct reader *r, const struct model *m, struct op *op, unsigned *inject)
{
	int n = nslots(m);
	uint8_t code;

	if (r->n == 0)
		return false;
	code = rd8(r);
	*inject = 0;
	if (code % 21 == 20) {
		*inject = 1 + rd8(r) % 8;
		code = rd8(r);
	}
	memset(op, 0, sizeof(*op));
	op->slot = op->other = -1;
	if (n == 0)
		code = 0;
	switch (code % 21 % 20) {
	case 0:
	case 1:
		op->kind = OP_NEW;
		op->slot = n < MAX_REGIONS ? n : -1;
		op->rkind = rd_kind(r);
		if (op->rkind == MS_REGION_ALIAS) {
			if (n == 0)
				op->rkind = MS_REGION_CONTAINER;
			else {
				op->other = rd8(r) % n;
				op->value2 = rd8(r) % 2 ? 0 : rd_addr(r);
			}
		}
		op->value =
			op->rkind == MS_REGION_ALIAS && rd8(r) % 4 == 0
				? (m->r[op->other].size >= TWO_64 ? MS_SIZE_2_64
								  : (uint64_t)m->r[op->other].size)
				: rd_size(r, op->rkind);
		op->flag = rd8(r) % 2; /* I/O: with ops or a reservation */
		break;
	case 2:
	case 3:
	case 4:
		op->kind = OP_ADD;
		op->slot = rd8(r) % n;
		op->other = rd8(r) % n;
		op->value = rd_addr(r);
		op->priority = rd_priority(r);
		op->flag = rd8(r) % 4 == 0;
		break;
	case 5:
		op->kind = OP_DEL;
		op->slot = rd8(r) % n;
		op->other = rd8(r) % 8 ? m->r[op->slot].container : (int)(rd8(r) % n);
		if (op->other < 0)
			op->other = 0;
		break;
	case 6:
		op->kind = OP_SET_ADDR;
		op->slot = rd8(r) % n;
		op->value = rd_addr(r);
		break;
	case 7:
		op->kind = OP_SET_SIZE;
		op->slot = rd8(r) % n;
		op->value = rd_size(r, m->r[op->slot].kind);
		if (kind_has_ram(m->r[op->slot].kind) && rd8(r) % 2)
			op->value = m->r[op->slot].size >= TWO_64 ? MS_SIZE_2_64
								  : (uint64_t)m->r[op->slot].size;
		break;
	case 8:
	case 9:
		op->kind = OP_SET_ENABLED;
		op->slot = rd8(r) % n;
		op->flag = !m->r[op->slot].enabled;
		break;
	case 10:
		op->kind = OP_SET_READONLY + rd8(r) % 3; /* readonly, nonvolatile, unmergeable */
		op->slot = rd8(r) % n;
		op->flag = rd8(r) % 2;
		break;
	case 11:
		op->kind = OP_SET_ALIAS_OFFSET;
		op->slot = rd8(r) % n;
		op->value = rd_addr(r);
		break;
	case 12:
		op->kind = OP_SET_PRIORITY;
		op->slot = rd8(r) % n;
		op->priority = rd_priority(r);
		break;
	case 13:
		op->kind = OP_SET_ROMD;
		op->slot = rd8(r) % n;
		op->flag = rd8(r) % 2;
		break;
	case 14:
	case 15:
		op->kind = OP_NEW_AS;
		op->slot = rd8(r) % n;
		break;
	case 16:
		op->kind = OP_FREE_AS;
		op->slot = m->nas ? rd8(r) % m->nas : 0;
		break;
	case 17:
		op->kind = OP_BEGIN;
		break;
	case 18:
	case 19:
		op->kind = OP_COMMIT;
		break;
	}
	return true;
}

/* Does @op commit (a mutation outside a transaction, or the outermost commit)? */
static bool commits(const struct model *before, const struct op *op)
{
	if (op->kind == OP_COMMIT)
		return before->depth == 1;
	if (op->kind == OP_BEGIN || op->kind == OP_NEW_AS || op->kind == OP_FREE_AS ||
	    op->kind == OP_NEW || op->kind == OP_CHECK)
		return false;
	return before->depth == 0;
}

/* ---- Dirty logging --------------------------------------------------------------- */

static bool kind_has_memory(ms_region_kind k)
{
	return k == MS_REGION_RAM || k == MS_REGION_ROM || k == MS_REGION_ROM_DEVICE ||
	       k == MS_REGION_RAM_DEVICE || k == MS_REGION_RAM_PTR;
}

/* The mask a range of @region must carry (docs/dirty.md, "Who logs what"). */
static uint8_t expected_log_mask(const struct fuzz_state *st, const ms_region *region)
{
	const struct model *m = &st->run->m;

	for (int k = 0; k < MAX_REGIONS; k++) {
		if (!m->r[k].exists || m->r[k].handle != region)
			continue;
		if (!kind_has_memory(m->r[k].kind))
			return 0;
		/* Global logging: MIGRATION on every migratable block (not RAM devices). */
		return st->dlog[k] | (st->global && m->r[k].kind != MS_REGION_RAM_DEVICE
					      ? 1u << MS_DIRTY_MIGRATION
					      : 0);
	}
	return 0xff; /* not a region of the model: never right */
}

/* After a commit: every listener's masks and global state against the model. */
static bool dirty_check(struct fuzz_state *st)
{
	struct runner *run = st->run;

	if (ms_ctx_dirty_log_global(run->ctx) != st->global)
		return failf(run, "ms_ctx_dirty_log_global says %d, the model %d",
			     ms_ctx_dirty_log_global(run->ctx), st->global);
	for (int i = 0; i < run->m.nas; i++) {
		const struct mirror *mi = &st->mirrors[i];

		if (run->m.as_freed[i] || !mi->listener)
			continue;
		if (mi->global_on != st->global)
			return failf(run, "listener of AS%d: global logging %d, the model %d", i,
				     mi->global_on, st->global);
		for (size_t j = 0; j < mi->n; j++) {
			uint8_t want = expected_log_mask(st, mi->s[j].region);

			if (mi->s[j].dirty_log_mask != want)
				return failf(run,
					     "listener of AS%d: range %016" PRIx64
					     " has dirty_log_mask 0x%x, the model says 0x%x",
					     i, mi->s[j].start, mi->s[j].dirty_log_mask, want);
		}
	}
	return true;
}

/*
 * Every region's ms_region_dirty_log_mask(), the mask its writes use: it
 * follows ms_region_set_dirty_log() at once, inside a transaction too (only
 * the listeners wait for the commit).
 */
static bool region_masks_check(struct fuzz_state *st)
{
	struct runner *run = st->run;
	const struct model *m = &run->m;

	for (int k = 0; k < MAX_REGIONS; k++) {
		if (!m->r[k].exists)
			continue;
		uint8_t got = ms_region_dirty_log_mask(m->r[k].handle);
		uint8_t want = expected_log_mask(st, m->r[k].handle);

		if (got != want)
			return failf(run,
				     "ms_region_dirty_log_mask(r[%d]) is 0x%x, the model says 0x%x",
				     k, got, want);
	}
	return true;
}

static bool check_committed(struct fuzz_state *st, bool full64, bool with_model);

/*
 * A dirty-logging call: a client of a region on or off, global logging on
 * or off, or a sync of an address space. Outside a transaction the usual
 * checks follow. Inside one (docs/dirty.md): a region's logging changes no
 * view and calls no listener until the outermost commit, whose log_start /
 * log_stop the mirrors check like any other; global logging is refused
 * with -EBUSY and changes nothing (a start while started, or a stop while
 * stopped, is the no-op it is outside and returns 0).
 */
static bool dirty_op(struct fuzz_state *st, struct reader *r, bool full64)
{
	struct runner *run = st->run;
	struct model *m = &run->m;
	uint8_t b = rd8(r), which = rd8(r);
	bool in_txn = m->depth > 0;
	struct snapshot snap;
	int rc, want;

	st->dirty_ops++;
	if (in_txn && b % 4 != 3)
		snapshot_take(st, &snap);
	switch (b % 4) {
	case 0:
	case 1: {
		int n = 0, slot;
		unsigned client = (b >> 2) & 7;
		bool enable = (b >> 5) & 1;

		while (n < MAX_REGIONS && m->r[n].exists)
			n++;
		if (n == 0)
			return !in_txn || snapshot_unchanged(st, &snap, "no call");
		slot = which % n;
		rc = ms_region_set_dirty_log(m->r[slot].handle, client, enable);
		want = kind_has_memory(m->r[slot].kind) ? 0 : -EINVAL;
		if (rc != want)
			return failf(run,
				     "ms_region_set_dirty_log(r[%d], %u, %d) returned %d, not %d",
				     slot, client, enable, rc, want);
		if (rc == 0)
			st->dlog[slot] = enable ? st->dlog[slot] | (1u << client)
						: st->dlog[slot] & ~(1u << client);
		break;
	}
	case 2:
		if (in_txn) {
			bool on = !(b & 4);

			rc = on ? ms_ctx_dirty_log_global_start(run->ctx)
				: ms_ctx_dirty_log_global_stop(run->ctx);
			want = on == st->global ? 0 : -EBUSY;
			st->txn_global_refused += rc == -EBUSY;
			if (rc != want) {
				snapshot_unchanged(st, &snap, "global logging in a transaction");
				return failf(
					run,
					"global dirty logging %s inside a transaction returned "
					"%d, not %d",
					on ? "start" : "stop", rc, want);
			}
			if (ms_ctx_dirty_log_global(run->ctx) != st->global) {
				snapshot_unchanged(st, &snap, "global logging in a transaction");
				return failf(run, "a refused global %s changed the global state",
					     on ? "start" : "stop");
			}
			break;
		}
		if (b & 4) {
			rc = ms_ctx_dirty_log_global_stop(run->ctx);
			st->global = false;
		} else {
			rc = ms_ctx_dirty_log_global_start(run->ctx);
			st->global = true;
		}
		if (rc != 0)
			return failf(run, "global dirty logging %s returned %d",
				     b & 4 ? "stop" : "start", rc);
		break;
	default: {
		struct mirror *mi;
		unsigned logged = 0;

		if (m->nas == 0 || m->as_freed[which % m->nas])
			return true;
		mi = &st->mirrors[which % m->nas];
		mi->syncs = 0;
		mi->sync_have_last = false;
		rc = ms_as_log_sync(run->as[which % m->nas]);
		for (size_t j = 0; j < mi->n; j++)
			logged += mi->s[j].dirty_log_mask != 0;
		if (rc != 0 || mi->syncs != logged)
			return failf(run, "ms_as_log_sync returned %d after %u log_sync, not %u",
				     rc, mi->syncs, logged);
		st->log_events += (int)logged;
		return true;
	}
	}
	if (!in_txn)
		return check_committed(st, full64, true) && region_masks_check(st);
	/* Nothing is published before the commit: no view, no listener changed. */
	if (!snapshot_unchanged(st, &snap, "a dirty-logging call inside a transaction"))
		return false;
	if (ms_transaction_depth(run->ctx) != (unsigned)m->depth)
		return failf(run, "transaction depth %u after a dirty-logging call, model %d",
			     ms_transaction_depth(run->ctx), m->depth);
	st->txn_dirty_ops++;
	return region_masks_check(st);
}

static ms_ctx *shared_ctx;
static unsigned inputs_in_ctx;

static void run_input(const uint8_t *data, size_t size)
{
	struct reader rd = {data, size};
	struct fuzz_state *st = calloc(1, sizeof(*st));
	struct report why = {0};
	struct stats stats = {0};
	uint8_t flags = rd8(&rd);
	bool full64 = flags & 1, free_as_first = flags & 2, ok = true;
	struct op op;
	unsigned inject;

	if (!st)
		abort();
	if (getenv("MS_FUZZ_FRESH_CTX") || inputs_in_ctx++ % INPUTS_PER_CTX == 0) {
		ms_ctx_free(shared_ctx);
		shared_ctx = NULL;
		if (!getenv("MS_FUZZ_FRESH_CTX") && ms_ctx_new(&shared_ctx) != 0)
			abort();
	}
	st->run = runner_new(shared_ctx, size, &why, &stats);
	/* Universes are small: a render beyond 64K ranges is a branching alias
	 * cycle, refused with -E2BIG in milliseconds instead of seconds. */
	ms_ctx_set_render_limit(st->run->ctx, 1 << 16);
	st->run->hooks = &hooks;
	st->run->hook_opaque = st;
	st->prog.full64 = full64;
	st->prog.free_as_first = free_as_first;
	while (ok && st->prog.nops < MAX_FUZZ_OPS) {
		struct runner *run = st->run;

		/* Codes 21 and 22 (mod 23): dirty logging (older inputs decode differently). */
		if (rd.n > 0 && rd.p[0] % 23 >= 21) {
			rd8(&rd);
			ok = dirty_op(st, &rd, full64);
			continue;
		}
		if (!decode_op(&rd, &st->run->m, &op, &inject))
			break;
		bool no_call, commit = commits(&run->m, &op);
		uint64_t errors;

		if (op.kind == OP_NEW && op.slot < 0)
			continue;
		run->op_index = st->prog.nops;
		st->prog.ops[st->prog.nops++] = op;
		if (model_valid(&run->m, &op) && inject && op.kind != OP_NEW_AS &&
		    op.kind != OP_FREE_AS) {
			bool committed;

			ok = injected_call(st, &op, inject, &committed);
			if (ok && committed && commit)
				ok = check_committed(st, full64, true);
			else if (ok && run->m.depth > 0)
				ok = check_all(run, full64);
			continue;
		}
		if (model_valid(&run->m, &op)) {
			ok = runner_step(run, &op, full64);
			if (ok && commit)
				ok = check_committed(st, full64, true);
			else if (ok && run->m.depth > 0)
				ok = check_all(run, full64); /* nothing published meanwhile */
			continue;
		}
		errors = expected_errors(&run->m, &op, &no_call);
		if (errors) {
			st->refused++;
			ok = refused_call(st, &op, errors);
		} else if (op.kind == OP_ADD && !no_call) {
			/* Legal, but the target's subtree reaches the container. */
			st->cycles++;
			ok = alias_cycle(st, &op, full64, flags & 4);
		}
	}
	ok = runner_finish(st->run, ok, full64, free_as_first) && ok;
	/* A shared context outlives the input: leave global logging off. */
	if (st->global && shared_ctx && ms_ctx_dirty_log_global_stop(shared_ctx) != 0) {
		fprintf(stderr, "fuzz_topology: global dirty logging stop at the end failed\n");
		abort();
	}
	for (int i = 0; i < MAX_AS; i++)
		free(st->mirrors[i].s);
	if (!ok) {
		struct report full = {0};

		dump_program(&full, &st->prog);
		fprintf(stderr, "fuzz_topology: divergence\n%s%s", full.buf ? full.buf : "",
			why.buf ? why.buf : "");
		rep_free(&full);
		rep_free(&why);
		abort();
	}
	if (getenv("MS_FUZZ_STATS"))
		fprintf(stderr,
			"fuzz_topology: %d ops, %d refused, %d alias cycles (%d -ELOOP), %d -ENOMEM; %" PRIu64
			" checks, %" PRIu64 " views, %" PRIu64
			" ranges; %d dirty-log calls (%d in transactions, %d global refused), %d "
			"log_sync\n",
			st->prog.nops, st->refused, st->cycles, st->loops, st->enomem, stats.checks,
			stats.views, stats.ranges, st->dirty_ops, st->txn_dirty_ops,
			st->txn_global_refused, st->log_events);
	rep_free(&why);
	free(st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	run_input(data, size);
	return 0;
}
