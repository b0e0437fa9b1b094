/*
 * Test support: the reference model, the brute-force resolver, the runner
 * and the program generator declared in refmodel.h. Only public headers.
 *
 * SPDX-License-Identifier: MIT
 */
#include "refmodel.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Reports: a growable text buffer.                                          */

void rep(struct report *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!r)
		return;
	for (;;) {
		size_t room = r->cap - r->len;

		va_start(ap, fmt);
		n = vsnprintf(r->buf ? r->buf + r->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < room) {
			r->len += (size_t)n;
			return;
		}
		size_t cap = r->cap ? r->cap * 2 : 4096;
		while (cap - r->len <= (size_t)n)
			cap *= 2;
		char *p = realloc(r->buf, cap);
		if (!p)
			return;
		r->buf = p;
		r->cap = cap;
	}
}

void rep_free(struct report *r)
{
	free(r->buf);
	r->buf = NULL;
	r->len = r->cap = 0;
}

/* "0x..." for 64-bit values, "2^64" for the one value past them. */
const char *fmt_u128(char out[24], u128 v)
{
	if (v == TWO_64)
		snprintf(out, 24, "2^64");
	else
		snprintf(out, 24, "0x%" PRIx64, (uint64_t)v);
	return out;
}

/* API size encoding (MS_SIZE_2_64) to exact size. */
u128 size_from_api(uint64_t size)
{
	return size == MS_SIZE_2_64 ? TWO_64 : (u128)size;
}

const char *size_api_text(char out[24], uint64_t size)
{
	if (size == MS_SIZE_2_64)
		snprintf(out, 24, "MS_SIZE_2_64");
	else
		snprintf(out, 24, "0x%" PRIx64, size);
	return out;
}

/* ------------------------------------------------------------------------ */
/* Programs: the API calls a case makes, replayable and shrinkable.          */

/* ------------------------------------------------------------------------ */
/* The model.                                                                */

/*
 * Moving a region (a new address) or giving it a new priority counts as
 * adding it again: it goes first among its equal-priority siblings. QEMU
 * re-adds on an address change (memory_region_readd_subregion), and only when
 * the address really changes; a priority change is treated the same way, and
 * setting the current value changes nothing.
 */

bool kind_terminates(ms_region_kind k)
{
	return k != MS_REGION_CONTAINER && k != MS_REGION_ALIAS;
}

bool kind_has_ram(ms_region_kind k)
{
	return k == MS_REGION_RAM || k == MS_REGION_ROM || k == MS_REGION_ROM_DEVICE ||
	       k == MS_REGION_RAM_DEVICE || k == MS_REGION_RAM_PTR;
}

bool kind_resizable(ms_region_kind k)
{
	return !kind_has_ram(k);
}

const char *kind_name(ms_region_kind k)
{
	switch (k) {
	case MS_REGION_CONTAINER:
		return "container";
	case MS_REGION_IO:
		return "io";
	case MS_REGION_RAM:
		return "ram";
	case MS_REGION_ROM:
		return "rom";
	case MS_REGION_ROM_DEVICE:
		return "rom_device";
	case MS_REGION_RAM_DEVICE:
		return "ram_device";
	case MS_REGION_RAM_PTR:
		return "ram_ptr";
	case MS_REGION_ALIAS:
		return "alias";
	case MS_REGION_IOMMU:
		return "iommu";
	}
	return "?";
}

const char *kind_prefix(ms_region_kind k)
{
	switch (k) {
	case MS_REGION_CONTAINER:
		return "c";
	case MS_REGION_IO:
		return "io";
	case MS_REGION_RAM:
		return "ram";
	case MS_REGION_ROM:
		return "rom";
	case MS_REGION_ROM_DEVICE:
		return "romd";
	case MS_REGION_RAM_DEVICE:
		return "ramd";
	case MS_REGION_RAM_PTR:
		return "ramp";
	case MS_REGION_ALIAS:
		return "a";
	case MS_REGION_IOMMU:
		return "iommu";
	}
	return "?";
}

void model_init(struct model *m)
{
	memset(m, 0, sizeof(*m));
	for (int i = 0; i < MAX_REGIONS; i++) {
		m->r[i].target = -1;
		m->r[i].container = -1;
	}
}

bool slot_ok(const struct model *m, int slot)
{
	return slot >= 0 && slot < MAX_REGIONS && m->r[slot].exists;
}

/* Can @from reach @to through subregion and alias-target edges? */
bool reaches(const struct model *m, int from, int to)
{
	const struct mregion *r = &m->r[from];

	if (from == to)
		return true;
	if (r->target >= 0 && reaches(m, r->target, to))
		return true;
	for (int k = 0; k < r->nkids; k++)
		if (reaches(m, r->kids[k], to))
			return true;
	return false;
}

/* Insert as QEMU does: before the first sibling whose priority is <= ours. */
static void kid_insert(struct model *m, int parent, int sub)
{
	struct mregion *p = &m->r[parent];
	int pos = 0;

	while (pos < p->nkids && m->r[p->kids[pos]].priority > m->r[sub].priority)
		pos++;
	memmove(&p->kids[pos + 1], &p->kids[pos], sizeof(int) * (size_t)(p->nkids - pos));
	p->kids[pos] = sub;
	p->nkids++;
	m->r[sub].container = parent;
}

static void kid_remove(struct model *m, int sub)
{
	struct mregion *p = &m->r[m->r[sub].container];
	int pos = 0;

	while (p->kids[pos] != sub)
		pos++;
	memmove(&p->kids[pos], &p->kids[pos + 1], sizeof(int) * (size_t)(p->nkids - pos - 1));
	p->nkids--;
	m->r[sub].container = -1;
}

bool model_valid(const struct model *m, const struct op *op)
{
	switch (op->kind) {
	case OP_NEW:
		if (op->slot < 0 || op->slot >= MAX_REGIONS || m->r[op->slot].exists)
			return false;
		if (op->rkind == MS_REGION_ALIAS && !slot_ok(m, op->other))
			return false;
		if (kind_has_ram(op->rkind) && (op->value == 0 || op->value > 0x4000))
			return false;
		if (op->rkind == MS_REGION_IOMMU && op->value == 0)
			return false;
		return true;
	case OP_ADD:
		return slot_ok(m, op->slot) && slot_ok(m, op->other) && op->slot != op->other &&
		       m->r[op->slot].container < 0 && m->r[op->other].kind != MS_REGION_ALIAS &&
		       !reaches(m, op->slot, op->other);
	case OP_DEL:
		return slot_ok(m, op->slot) && slot_ok(m, op->other) &&
		       m->r[op->slot].container == op->other;
	case OP_SET_ADDR:
	case OP_SET_ENABLED:
	case OP_SET_READONLY:
	case OP_SET_NONVOLATILE:
	case OP_SET_UNMERGEABLE:
		return slot_ok(m, op->slot);
	case OP_SET_SIZE:
		return slot_ok(m, op->slot) && kind_resizable(m->r[op->slot].kind) &&
		       !(m->r[op->slot].kind == MS_REGION_IOMMU && op->value == 0);
	case OP_SET_ALIAS_OFFSET:
		return slot_ok(m, op->slot) && m->r[op->slot].kind == MS_REGION_ALIAS;
	case OP_SET_PRIORITY:
		return slot_ok(m, op->slot) && m->r[op->slot].container >= 0;
	case OP_SET_ROMD:
		return slot_ok(m, op->slot) && m->r[op->slot].kind == MS_REGION_ROM_DEVICE;
	case OP_NEW_AS:
		return slot_ok(m, op->slot) && m->depth == 0 && m->nas < MAX_AS;
	case OP_FREE_AS:
		return op->slot >= 0 && op->slot < m->nas && !m->as_freed[op->slot] &&
		       m->depth == 0;
	case OP_BEGIN:
		return true;
	case OP_COMMIT:
		return m->depth > 0;
	case OP_CHECK:
		return true;
	}
	return false;
}

void model_apply(struct model *m, const struct op *op)
{
	struct mregion *r = op->slot >= 0 && op->slot < MAX_REGIONS ? &m->r[op->slot] : NULL;

	switch (op->kind) {
	case OP_NEW:
		r->exists = true;
		r->kind = op->rkind;
		snprintf(r->name, sizeof(r->name), "%s%d", kind_prefix(op->rkind), op->slot);
		r->addr = 0;
		r->size = size_from_api(op->value);
		r->priority = 0;
		r->enabled = true;
		r->readonly = op->rkind == MS_REGION_ROM;
		r->nonvolatile = false;
		r->unmergeable = false;
		r->romd = op->rkind == MS_REGION_ROM_DEVICE;
		r->target = op->rkind == MS_REGION_ALIAS ? op->other : -1;
		r->alias_offset = op->rkind == MS_REGION_ALIAS ? op->value2 : 0;
		r->container = -1;
		r->nkids = 0;
		break;
	case OP_ADD:
		r->addr = op->value;
		r->priority = op->flag ? 0 : op->priority;
		kid_insert(m, op->other, op->slot);
		break;
	case OP_DEL:
		kid_remove(m, op->slot);
		break;
	case OP_SET_ADDR:
		if (r->addr != op->value) {
			r->addr = op->value;
			if (r->container >= 0) {
				int parent = r->container;

				kid_remove(m, op->slot);
				kid_insert(m, parent, op->slot);
			}
		}
		break;
	case OP_SET_SIZE:
		r->size = size_from_api(op->value);
		break;
	case OP_SET_ENABLED:
		r->enabled = op->flag;
		break;
	case OP_SET_READONLY:
		r->readonly = op->flag;
		break;
	case OP_SET_NONVOLATILE:
		r->nonvolatile = op->flag;
		break;
	case OP_SET_UNMERGEABLE:
		r->unmergeable = op->flag;
		break;
	case OP_SET_ALIAS_OFFSET:
		r->alias_offset = op->value;
		break;
	case OP_SET_PRIORITY:
		if (r->priority != op->priority) {
			int parent = r->container;

			kid_remove(m, op->slot);
			r->priority = op->priority;
			kid_insert(m, parent, op->slot);
		}
		break;
	case OP_SET_ROMD:
		r->romd = op->flag;
		break;
	case OP_NEW_AS:
		m->as_root[m->nas++] = op->slot;
		break;
	case OP_FREE_AS:
		m->as_freed[op->slot] = true;
		break;
	case OP_BEGIN:
		m->depth++;
		break;
	case OP_COMMIT:
		m->depth--;
		break;
	case OP_CHECK:
		break;
	}
}

/* ------------------------------------------------------------------------ */
/* The reference: rule F4 and a per-address resolver (rules R1-R8).          */

/* Rule F4: the region a view is rendered from, or -1 for none. */
int ref_flatview_root(const struct model *m, int slot)
{
	while (slot >= 0 && m->r[slot].enabled) {
		const struct mregion *r = &m->r[slot];

		if (r->kind == MS_REGION_ALIAS) {
			if (r->alias_offset == 0 && r->size >= m->r[r->target].size) {
				slot = r->target;
				continue;
			}
			return slot;
		}
		if (r->kind == MS_REGION_CONTAINER) {
			int found = 0, next = -1;

			for (int k = 0; k < r->nkids; k++) {
				const struct mregion *c = &m->r[r->kids[k]];

				if (!c->enabled)
					continue;
				if (++found > 1) {
					next = -1;
					break;
				}
				if (c->addr == 0 && r->size >= c->size)
					next = r->kids[k];
			}
			if (found == 0)
				return -1;
			if (next >= 0) {
				slot = next;
				continue;
			}
		}
		return slot;
	}
	return -1;
}

static uint64_t path_step(uint64_t path, int slot)
{
	uint64_t s = path ^ ((uint64_t)slot + 1) * 0x9e3779b97f4a7c15ull;

	return ms_rng_splitmix64(&s);
}

/*
 * Who answers at @rel, an address relative to the start of region @slot
 * (any integer: the caller's base may lie below 0 or past 2^64)? The first
 * child in list order that answers wins; a terminating region answers for
 * itself where none does. An alias answers what its target answers at
 * rel + alias_offset, relative to the target's start: the target's own
 * address plays no part.
 */
static bool resolve(const struct model *m, int slot, i128 rel, bool ro, bool nv, bool unm,
		    uint64_t path, struct answer *out)
{
	const struct mregion *r = &m->r[slot];

	if (!r->enabled)
		return false;
	if (rel < 0 || rel >= (i128)r->size)
		return false;
	ro |= r->readonly;
	nv |= r->nonvolatile;
	unm |= r->unmergeable;
	path = path_step(path, slot);
	if (r->kind == MS_REGION_ALIAS)
		return resolve(m, r->target, rel + (i128)r->alias_offset, ro, nv, unm, path, out);
	for (int k = 0; k < r->nkids; k++) {
		int c = r->kids[k];

		if (resolve(m, c, rel - (i128)m->r[c].addr, ro, nv, unm, path, out))
			return true;
	}
	if (!kind_terminates(r->kind))
		return false;
	out->mapped = true;
	out->leaf = slot;
	out->offset = (uint64_t)rel;
	out->readonly = ro;
	out->nonvolatile = nv;
	out->unmergeable = unm;
	out->romd = r->kind == MS_REGION_ROM_DEVICE && r->romd;
	out->path = path;
	return true;
}

/* The answer of a view rendered from @root (base 0: the root's own address counts). */
struct answer ref_lookup(const struct model *m, int root, uint64_t addr)
{
	struct answer a;

	memset(&a, 0, sizeof(a));
	a.leaf = -1;
	if (root >= 0 &&
	    !resolve(m, root, (i128)addr - (i128)m->r[root].addr, false, false, false, 0, &a)) {
		memset(&a, 0, sizeof(a));
		a.leaf = -1;
	}
	return a;
}

/* Every region edge, clipped and projected into view coordinates. */
void points_add(struct points *p, u128 v)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 256;
		u128 *nv = realloc(p->v, cap * sizeof(*nv));

		if (!nv) {
			p->complete = false;
			return;
		}
		p->v = nv;
		p->cap = cap;
	}
	p->v[p->n++] = v;
}

void enumerate_edges(const struct model *m, int slot, i128 base, i128 lo, i128 hi, struct points *p)
{
	const struct mregion *r = &m->r[slot];
	i128 start, end;

	if (!r->enabled)
		return;
	if (++p->visits > ENUM_VISIT_CAP) {
		p->complete = false;
		return;
	}
	base += r->addr;
	start = base > lo ? base : lo;
	end = base + (i128)r->size < hi ? base + (i128)r->size : hi;
	if (start >= end)
		return;
	points_add(p, (u128)start);
	points_add(p, (u128)end);
	if (r->kind == MS_REGION_ALIAS) {
		const struct mregion *t = &m->r[r->target];

		enumerate_edges(m, r->target, base - (i128)t->addr - (i128)r->alias_offset, start,
				end, p);
		return;
	}
	for (int k = 0; k < r->nkids; k++)
		enumerate_edges(m, r->kids[k], base, start, end, p);
}

int cmp_u128(const void *a, const void *b)
{
	u128 x = *(const u128 *)a, y = *(const u128 *)b;

	return x < y ? -1 : x > y;
}

int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* One expected range. */
/*
 * Rebuild the view the rules promise from sorted, unique edges: between two
 * consecutive edges one rendering of one leaf answers, linearly. Pieces of
 * one rendering are one range; rule R9 merges the rest.
 */
size_t expected_ranges(const struct model *m, int root, const u128 *edges, size_t nedges,
		       struct xrange *out)
{
	size_t n = 0;

	for (size_t i = 0; i + 1 < nedges; i++) {
		uint64_t start = (uint64_t)edges[i];
		uint64_t last = (uint64_t)(edges[i + 1] - 1);
		struct answer a = ref_lookup(m, root, start);

		if (!a.mapped)
			continue;
		if (n > 0) {
			struct xrange *p = &out[n - 1];
			bool adjacent = (u128)p->last + 1 == (u128)start;
			bool same_piece = adjacent && p->path == a.path;
			bool mergeable =
				adjacent && p->leaf == a.leaf &&
				(u128)p->offset + ((u128)p->last - p->start + 1) == a.offset &&
				p->readonly == a.readonly && p->nonvolatile == a.nonvolatile &&
				p->romd == a.romd && !p->unmergeable && !a.unmergeable;

			if (same_piece || mergeable) {
				p->last = last;
				p->path = a.path;
				continue;
			}
		}
		out[n].start = start;
		out[n].last = last;
		out[n].offset = a.offset;
		out[n].leaf = a.leaf;
		out[n].readonly = a.readonly;
		out[n].nonvolatile = a.nonvolatile;
		out[n].unmergeable = a.unmergeable;
		out[n].romd = a.romd;
		out[n].path = a.path;
		n++;
	}
	return n;
}

/* ------------------------------------------------------------------------ */
/* Dumps.                                                                    */

static void dump_region_line(struct report *rp, const struct model *m, int slot, int depth)
{
	const struct mregion *r = &m->r[slot];
	char a[24], b[24];

	rep(rp, "  %*s[%d] %s \"%s\" addr=0x%" PRIx64 " size=%s prio=%d%s%s%s%s%s", depth * 2, "",
	    slot, kind_name(r->kind), r->name, r->addr, fmt_u128(a, r->size), r->priority,
	    r->enabled ? "" : " DISABLED", r->readonly ? " readonly" : "",
	    r->nonvolatile ? " nonvolatile" : "", r->unmergeable ? " unmergeable" : "",
	    r->kind == MS_REGION_ROM_DEVICE ? (r->romd ? " romd" : " mmio-mode") : "");
	if (r->kind == MS_REGION_ALIAS)
		rep(rp, " -> [%d] %s offset=%s", r->target, m->r[r->target].name,
		    fmt_u128(b, r->alias_offset));
	rep(rp, "\n");
}

static void dump_tree(struct report *rp, const struct model *m, int slot, int depth)
{
	dump_region_line(rp, m, slot, depth);
	for (int k = 0; k < m->r[slot].nkids; k++)
		dump_tree(rp, m, m->r[slot].kids[k], depth + 1);
}

void dump_model(struct report *rp, const struct model *m)
{
	rep(rp, "model (children in rendering order):\n");
	for (int i = 0; i < MAX_REGIONS; i++)
		if (m->r[i].exists && m->r[i].container < 0)
			dump_tree(rp, m, i, 0);
	for (int i = 0; i < m->nas; i++) {
		int fvr = ref_flatview_root(m, m->as_root[i]);

		if (m->as_freed[i]) {
			rep(rp, "  AS%d root=[%d] %s (freed)\n", i, m->as_root[i],
			    m->r[m->as_root[i]].name);
			continue;
		}
		rep(rp, "  AS%d root=[%d] %s, expected flatview root=", i, m->as_root[i],
		    m->r[m->as_root[i]].name);
		if (fvr >= 0)
			rep(rp, "[%d] %s\n", fvr, m->r[fvr].name);
		else
			rep(rp, "(none)\n");
	}
}

void dump_op(struct report *rp, const struct op *op)
{
	char a[24], b[24];

	switch (op->kind) {
	case OP_NEW:
		switch (op->rkind) {
		case MS_REGION_CONTAINER:
			rep(rp, "ms_region_new_container(&r[%d], ctx, \"c%d\", %s);", op->slot,
			    op->slot, size_api_text(a, op->value));
			break;
		case MS_REGION_IO:
			rep(rp, "ms_region_new_io(&r[%d], ctx, \"io%d\", %s, %s, NULL);", op->slot,
			    op->slot, size_api_text(a, op->value), op->flag ? "&ops" : "NULL");
			break;
		case MS_REGION_RAM:
		case MS_REGION_ROM:
		case MS_REGION_IOMMU:
			rep(rp, "ms_region_new_%s(&r[%d], ctx, \"%s%d\", %s);",
			    kind_name(op->rkind), op->slot, kind_prefix(op->rkind), op->slot,
			    size_api_text(a, op->value));
			break;
		case MS_REGION_ROM_DEVICE:
			rep(rp,
			    "ms_region_new_rom_device(&r[%d], ctx, \"romd%d\", %s, &ops, NULL);",
			    op->slot, op->slot, size_api_text(a, op->value));
			break;
		case MS_REGION_RAM_DEVICE:
		case MS_REGION_RAM_PTR:
			rep(rp, "ms_region_new_%s(&r[%d], ctx, \"%s%d\", %s, buf);",
			    kind_name(op->rkind), op->slot, kind_prefix(op->rkind), op->slot,
			    size_api_text(a, op->value));
			break;
		case MS_REGION_ALIAS:
			rep(rp,
			    "ms_region_new_alias(&r[%d], ctx, \"a%d\", r[%d], 0x%" PRIx64 ", %s);",
			    op->slot, op->slot, op->other, op->value2, size_api_text(b, op->value));
			break;
		}
		break;
	case OP_ADD:
		if (op->flag)
			rep(rp, "ms_region_add_subregion(r[%d], 0x%" PRIx64 ", r[%d]);", op->other,
			    op->value, op->slot);
		else
			rep(rp, "ms_region_add_subregion_overlap(r[%d], 0x%" PRIx64 ", r[%d], %d);",
			    op->other, op->value, op->slot, op->priority);
		break;
	case OP_DEL:
		rep(rp, "ms_region_del_subregion(r[%d], r[%d]);", op->other, op->slot);
		break;
	case OP_SET_ADDR:
		rep(rp, "ms_region_set_address(r[%d], 0x%" PRIx64 ");", op->slot, op->value);
		break;
	case OP_SET_SIZE:
		rep(rp, "ms_region_set_size(r[%d], %s);", op->slot, size_api_text(a, op->value));
		break;
	case OP_SET_ENABLED:
		rep(rp, "ms_region_set_enabled(r[%d], %s);", op->slot, op->flag ? "true" : "false");
		break;
	case OP_SET_READONLY:
		rep(rp, "ms_region_set_readonly(r[%d], %s);", op->slot,
		    op->flag ? "true" : "false");
		break;
	case OP_SET_NONVOLATILE:
		rep(rp, "ms_region_set_nonvolatile(r[%d], %s);", op->slot,
		    op->flag ? "true" : "false");
		break;
	case OP_SET_UNMERGEABLE:
		rep(rp, "ms_region_set_unmergeable(r[%d], %s);", op->slot,
		    op->flag ? "true" : "false");
		break;
	case OP_SET_ALIAS_OFFSET:
		rep(rp, "ms_region_set_alias_offset(r[%d], 0x%" PRIx64 ");", op->slot, op->value);
		break;
	case OP_SET_PRIORITY:
		rep(rp, "ms_region_set_priority(r[%d], %d);", op->slot, op->priority);
		break;
	case OP_SET_ROMD:
		rep(rp, "ms_region_set_romd(r[%d], %s);", op->slot, op->flag ? "true" : "false");
		break;
	case OP_NEW_AS:
		rep(rp, "ms_as_new(&as[n++], ctx, r[%d], \"as\");", op->slot);
		break;
	case OP_FREE_AS:
		rep(rp, "ms_as_free(as[%d]);", op->slot);
		break;
	case OP_BEGIN:
		rep(rp, "ms_transaction_begin(ctx);");
		break;
	case OP_COMMIT:
		rep(rp, "ms_transaction_commit(ctx);");
		break;
	case OP_CHECK:
		rep(rp, "/* check */");
		break;
	}
}

void dump_program(struct report *rp, const struct program *p)
{
	rep(rp, "program (%d ops, %s universe):\n", p->nops, p->full64 ? "64-bit" : "small");
	for (int i = 0; i < p->nops; i++) {
		rep(rp, "  /* %3d */ ", i);
		dump_op(rp, &p->ops[i]);
		rep(rp, "\n");
	}
}

/* ------------------------------------------------------------------------ */
/* Running a program against the library.                                    */

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
	.read = dummy_read,
	.write = dummy_write,
};

static uint8_t ram_buffer[0x4000];

const char *region_label(const struct runner *run, const ms_region *h, char out[32])
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

void dump_sections(struct report *rp, const struct runner *run, const ms_section *s, size_t n)
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

int slot_of(const struct runner *run, const ms_region *h)
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
bool check_view(struct runner *run, ms_flatview *fv, int root, bool full64)
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
			rc = ms_region_new_io(&out, run->ctx, name, op->value,
					      op->flag ? &dummy_ops : NULL, NULL);
			break;
		case MS_REGION_RAM:
			rc = ms_region_new_ram(&out, run->ctx, name, op->value);
			break;
		case MS_REGION_ROM:
			rc = ms_region_new_rom(&out, run->ctx, name, op->value);
			break;
		case MS_REGION_ROM_DEVICE:
			rc = ms_region_new_rom_device(&out, run->ctx, name, op->value, &dummy_ops,
						      NULL);
			break;
		case MS_REGION_RAM_DEVICE:
			rc = ms_region_new_ram_device(&out, run->ctx, name, op->value, ram_buffer);
			break;
		case MS_REGION_RAM_PTR:
			rc = ms_region_new_ram_ptr(&out, run->ctx, name, op->value, ram_buffer);
			break;
		case MS_REGION_ALIAS:
			rc = ms_region_new_alias(&out, run->ctx, name, other, op->value2,
						 op->value);
			break;
		case MS_REGION_IOMMU:
			rc = ms_region_new_iommu(&out, run->ctx, name, op->value);
			break;
		}
		if (rc == 0 && !out)
			return failf(run, "constructor returned 0 without a region");
		m->r[op->slot].handle = out;
		break;
	}
	case OP_ADD:
		rc = op->flag ? ms_region_add_subregion(other, op->value, h)
			      : ms_region_add_subregion_overlap(other, op->value, h, op->priority);
		break;
	case OP_DEL:
		rc = ms_region_del_subregion(other, h);
		break;
	case OP_SET_ADDR:
		rc = ms_region_set_address(h, op->value);
		break;
	case OP_SET_SIZE:
		rc = ms_region_set_size(h, op->value);
		break;
	case OP_SET_ENABLED:
		rc = ms_region_set_enabled(h, op->flag);
		break;
	case OP_SET_READONLY:
		rc = ms_region_set_readonly(h, op->flag);
		break;
	case OP_SET_NONVOLATILE:
		rc = ms_region_set_nonvolatile(h, op->flag);
		break;
	case OP_SET_UNMERGEABLE:
		rc = ms_region_set_unmergeable(h, op->flag);
		break;
	case OP_SET_ALIAS_OFFSET:
		rc = ms_region_set_alias_offset(h, op->value);
		break;
	case OP_SET_PRIORITY:
		rc = ms_region_set_priority(h, op->priority);
		break;
	case OP_SET_ROMD:
		rc = ms_region_set_romd(h, op->flag);
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
		rc = ms_as_free(run->as[op->slot]);
		run->as[op->slot] = NULL;
		break;
	case OP_BEGIN:
		if (m->depth == 0) {
			run->txn_nas = m->nas;
			for (int i = 0; i < m->nas; i++)
				run->txn_views[i] =
					m->as_freed[i] ? NULL : ms_as_get_flatview(run->as[i]);
		}
		ms_transaction_begin(run->ctx);
		if (ms_ctx_transaction_depth(run->ctx) != (unsigned)m->depth + 1)
			return failf(run, "transaction depth %u after begin, want %d",
				     ms_ctx_transaction_depth(run->ctx), m->depth + 1);
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
		if (ms_as_free(run->as[i]) != 0 && ok)
			ok = failf(run, "ms_as_free(AS%d) failed", i);
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
	while (ms_ctx_transaction_depth(run->ctx) > 0)
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

/* ------------------------------------------------------------------------ */
/* Generating programs.                                                      */

struct gen {
	ms_rng rng;
	struct program *p;
	struct model m; /* the model as the program so far leaves it */
	bool full64;
	uint64_t universe; /* small universes: most addresses below this */
	uint64_t pool[12]; /* 64-bit universes: interesting addresses */
	int nslots;
};

/* Draws from the generator's stream (ms_rng.h). */
static uint64_t rand_u64(struct gen *g)
{
	return ms_rng_next(&g->rng);
}

static uint64_t rand_below(struct gen *g, uint64_t bound)
{
	return ms_rng_below(&g->rng, bound);
}

static bool rand_percent(struct gen *g, unsigned percent)
{
	return ms_rng_percent(&g->rng, percent);
}

static void emit(struct gen *g, const struct op *op)
{
	if (g->p->nops >= MAX_OPS || !model_valid(&g->m, op))
		return;
	model_apply(&g->m, op);
	g->p->ops[g->p->nops++] = *op;
}

static uint64_t pool_value(struct gen *g)
{
	uint64_t v = g->pool[rand_below(g, 12)];
	uint64_t r = rand_below(g, 10);

	if (r == 0)
		v += 0x1000;
	else if (r == 1)
		v -= 0x1000;
	else if (r == 2)
		v += rand_below(g, 0x100);
	return v;
}

static uint64_t gen_addr(struct gen *g)
{
	uint64_t r = rand_below(g, 100);
	uint64_t u = g->universe;

	if (g->full64) {
		if (r < 20)
			return 0;
		if (r < 75)
			return pool_value(g);
		if (r < 85)
			return 0xfffffffffffff000ull;
		if (r < 92)
			return (uint64_t)0 - 1 - rand_below(g, 0x2000);
		return rand_u64(g);
	}
	if (r < 30)
		return 0;
	if (r < 65)
		return rand_below(g, u);
	if (r < 75)
		return rand_below(g, u) & ~(uint64_t)0xf;
	if (r < 82)
		return 0xfffffffffffff000ull;
	if (r < 90)
		return (uint64_t)0 - 1 - rand_below(g, u);
	if (r < 96)
		return u * rand_below(g, 4);
	return rand_u64(g);
}

/* A size in API encoding, valid for @kind. */
static uint64_t gen_size(struct gen *g, ms_region_kind kind)
{
	uint64_t r = rand_below(g, 100);
	uint64_t u = g->universe;
	/* 2^64 terminating regions hide everything below them: keep them rare. */
	unsigned full = kind_terminates(kind) ? 5 : 15;

	if (kind_has_ram(kind)) {
		uint64_t max = g->full64 || u > 0x2000 ? 0x2000 : u;

		if (r < 15)
			return max < 0x1000 ? max : 0x1000;
		if (r < 55)
			return 1 + rand_below(g, max / 8 + 1);
		return 1 + rand_below(g, max);
	}
	if (r < 4)
		return kind == MS_REGION_IOMMU ? 1 : 0;
	if (r < 4 + full)
		return MS_SIZE_2_64;
	r = rand_below(g, 100);
	if (g->full64) {
		if (r < 25)
			return (uint64_t)1 << rand_below(g, 64);
		if (r < 50) {
			uint64_t a = pool_value(g), b = pool_value(g);

			return a > b ? a - b : b - a;
		}
		if (r < 60)
			return 0x1000;
		return 1 + rand_below(g, 0x10000);
	}
	if (r < 10)
		return u;
	if (r < 13)
		return (uint64_t)1 << (32 + rand_below(g, 32));
	if (r < 18)
		return 0x1000;
	if (r < 55)
		return 1 + rand_below(g, u / 8 + 1);
	return 1 + rand_below(g, u);
}

static uint64_t gen_alias_offset(struct gen *g, int target)
{
	uint64_t r = rand_below(g, 100);
	u128 tsize = g->m.r[target].size;

	if (r < 40)
		return 0;
	if (r < 55) {
		/* Near the target's end: windows that run past it, or wrap at 2^64. */
		uint64_t back = 1 + rand_below(g, g->full64 ? 0x2000 : g->universe);

		return (uint64_t)(tsize - (tsize > back ? back : tsize));
	}
	if (r < 80) {
		uint64_t lim = tsize == 0 ? 1 : tsize >= TWO_64 ? UINT64_MAX : (uint64_t)tsize;

		if (!g->full64 && lim > g->universe)
			lim = g->universe;
		return rand_below(g, lim + (lim < UINT64_MAX));
	}
	return gen_addr(g);
}

static int gen_priority(struct gen *g)
{
	static const int prios[] = {-1, 0, 0, 0, 1, 1, 2, -2};

	return prios[rand_below(g, 8)];
}

static int pick_slot(struct gen *g)
{
	for (int tries = 0; tries < 50; tries++) {
		int s = (int)rand_below(g, (uint64_t)g->nslots);

		if (g->m.r[s].exists)
			return s;
	}
	return 0;
}

static int pick_slot_where(struct gen *g, bool (*pred)(const struct model *, int))
{
	int cand[MAX_REGIONS], n = 0;

	for (int s = 0; s < g->nslots; s++)
		if (g->m.r[s].exists && pred(&g->m, s))
			cand[n++] = s;
	return n ? cand[rand_below(g, (uint64_t)n)] : -1;
}

static bool is_placed(const struct model *m, int s)
{
	return m->r[s].container >= 0;
}

static bool is_detached(const struct model *m, int s)
{
	return m->r[s].container < 0;
}

static bool is_alias(const struct model *m, int s)
{
	return m->r[s].kind == MS_REGION_ALIAS;
}

static bool is_resizable(const struct model *m, int s)
{
	return kind_resizable(m->r[s].kind);
}

static bool is_rom_device(const struct model *m, int s)
{
	return m->r[s].kind == MS_REGION_ROM_DEVICE;
}

/* A parent for @sub: mostly containers, some I/O and RAM; never a cycle. */
static int pick_parent(struct gen *g, int sub)
{
	int cand[MAX_REGIONS * 4], n = 0;

	for (int s = 0; s < g->nslots; s++) {
		const struct mregion *r = &g->m.r[s];
		int weight;

		if (!r->exists || s == sub || r->kind == MS_REGION_ALIAS || reaches(&g->m, sub, s))
			continue;
		weight = r->kind == MS_REGION_CONTAINER ? 4 : r->kind == MS_REGION_IO ? 2 : 1;
		if (s == 0)
			weight += 8;
		while (weight-- > 0)
			cand[n++] = s;
	}
	return n ? cand[rand_below(g, (uint64_t)n)] : -1;
}

static void gen_add(struct gen *g, int sub)
{
	struct op op = {.kind = OP_ADD, .slot = sub};

	op.other = pick_parent(g, sub);
	if (op.other < 0)
		return;
	/* Mostly inside the parent, so that clipping leaves something to see. */
	if (rand_percent(g, 60)) {
		u128 psize = g->m.r[op.other].size;
		uint64_t lim = g->full64 ? UINT64_MAX : g->universe;

		if (psize < lim)
			lim = (uint64_t)psize;
		op.value = lim ? rand_below(g, lim) : 0;
		if (g->full64 && rand_percent(g, 50))
			op.value = pool_value(g);
	} else {
		op.value = gen_addr(g);
	}
	op.priority = gen_priority(g);
	op.flag = rand_percent(g, 15);
	emit(g, &op);
}

static ms_region_kind gen_kind(struct gen *g)
{
	uint64_t r = rand_below(g, 100);

	if (r < 28)
		return MS_REGION_CONTAINER;
	if (r < 48)
		return MS_REGION_IO;
	if (r < 58)
		return MS_REGION_RAM;
	if (r < 63)
		return MS_REGION_ROM;
	if (r < 67)
		return MS_REGION_ROM_DEVICE;
	if (r < 69)
		return MS_REGION_RAM_DEVICE;
	if (r < 71)
		return MS_REGION_RAM_PTR;
	if (r < 73)
		return MS_REGION_IOMMU;
	return MS_REGION_ALIAS;
}

static int gen_new(struct gen *g, ms_region_kind kind)
{
	struct op op = {.kind = OP_NEW, .rkind = kind, .other = -1};

	if (g->nslots >= MAX_REGIONS)
		return -1;
	op.slot = g->nslots;
	if (kind == MS_REGION_ALIAS) {
		if (g->nslots == 0)
			return -1;
		op.other = pick_slot(g);
		op.value2 = gen_alias_offset(g, op.other);
		/* Windows: the target's size, a part of it, past it, or everything. */
		uint64_t r = rand_below(g, 100);
		u128 tsize = g->m.r[op.other].size;

		if (r < 25)
			op.value = tsize >= TWO_64 ? MS_SIZE_2_64 : (uint64_t)tsize;
		else
			op.value = gen_size(g, kind);
	} else {
		op.value = gen_size(g, kind);
		op.flag = rand_percent(g, 50);
	}
	g->nslots++;
	emit(g, &op);
	return op.slot;
}

static void gen_flags(struct gen *g, int slot)
{
	struct op op = {.slot = slot, .flag = true};

	if (rand_percent(g, 10)) {
		op.kind = OP_SET_READONLY;
		emit(g, &op);
	}
	if (rand_percent(g, 8)) {
		op.kind = OP_SET_NONVOLATILE;
		emit(g, &op);
	}
	if (rand_percent(g, 8)) {
		op.kind = OP_SET_UNMERGEABLE;
		emit(g, &op);
	}
	if (rand_percent(g, 10)) {
		op.kind = OP_SET_ENABLED;
		op.flag = false;
		emit(g, &op);
	}
	if (g->m.r[slot].kind == MS_REGION_ROM_DEVICE && rand_percent(g, 30)) {
		op.kind = OP_SET_ROMD;
		op.flag = false;
		emit(g, &op);
	}
}

/*
 * Two windows onto one target, side by side in one parent, whose offsets
 * usually continue each other: their pieces must merge into one range
 * (rule R9, pieces of different aliases) unless unmergeable, or unless the
 * offsets only "continue" modulo 2^64.
 */
static void gen_split_window(struct gen *g)
{
	int target = pick_slot(g);
	int parent = -1;
	u128 tsize = g->m.r[target].size;
	uint64_t w1 = 1 + rand_below(g, g->full64 ? 0x2000 : g->universe / 2 + 1);
	uint64_t w2 = 1 + rand_below(g, g->full64 ? 0x2000 : g->universe / 2 + 1);
	uint64_t o1, o2, at;
	struct op op;
	int a1, a2;

	if (g->nslots + 2 > MAX_REGIONS)
		return;
	if (rand_percent(g, 40))
		o1 = (uint64_t)(tsize - (tsize > w1 ? w1 : tsize)); /* the first ends at the end */
	else
		o1 = rand_below(g, tsize ? (uint64_t)(tsize > UINT64_MAX ? UINT64_MAX : tsize) : 1);
	o2 = rand_percent(g, 85) ? o1 + w1 : gen_alias_offset(g, target);
	op = (struct op){.kind = OP_NEW,
			 .rkind = MS_REGION_ALIAS,
			 .slot = g->nslots++,
			 .other = target,
			 .value = w1,
			 .value2 = o1};
	emit(g, &op);
	a1 = op.slot;
	op = (struct op){.kind = OP_NEW,
			 .rkind = MS_REGION_ALIAS,
			 .slot = g->nslots++,
			 .other = target,
			 .value = w2,
			 .value2 = o2};
	emit(g, &op);
	a2 = op.slot;
	if (!g->m.r[a1].exists || !g->m.r[a2].exists)
		return;
	/* A flag on one side only must keep the two ranges apart. */
	{
		static const enum op_kind flag_ops[] = {OP_SET_UNMERGEABLE, OP_SET_READONLY,
							OP_SET_NONVOLATILE};

		for (int i = 0; i < 3; i++)
			if (rand_percent(g, 15)) {
				op = (struct op){.kind = flag_ops[i],
						 .slot = rand_percent(g, 50) ? a1 : a2,
						 .flag = true};
				emit(g, &op);
			}
	}
	parent = pick_parent(g, a1);
	if (parent < 0 || reaches(&g->m, a2, parent))
		return;
	at = rand_percent(g, 30) ? 0xfffffffffffff000ull
				 : rand_below(g, g->full64 ? UINT64_MAX : g->universe);
	op = (struct op){.kind = OP_ADD,
			 .slot = a1,
			 .other = parent,
			 .value = at,
			 .priority = gen_priority(g)};
	emit(g, &op);
	op = (struct op){.kind = OP_ADD,
			 .slot = a2,
			 .other = parent,
			 .value = at + w1,
			 .priority = gen_priority(g)};
	emit(g, &op);
}

static void gen_check(struct gen *g)
{
	struct op op = {.kind = OP_CHECK};

	emit(g, &op);
}

/* One random mutation (two ops for a move). */
static void gen_mutation(struct gen *g)
{
	for (int tries = 0; tries < 20; tries++) {
		struct op op = {.slot = -1, .other = -1};
		uint64_t r = rand_below(g, 100);

		if (r < 12) {
			op.kind = OP_SET_ADDR;
			op.slot = pick_slot(g);
			op.value = rand_percent(g, 50)
					   ? g->m.r[op.slot].addr + rand_below(g, 0x40) - 0x20
					   : gen_addr(g);
		} else if (r < 24) {
			op.kind = OP_SET_SIZE;
			op.slot = pick_slot_where(g, is_resizable);
			if (op.slot >= 0)
				op.value = gen_size(g, g->m.r[op.slot].kind);
		} else if (r < 34) {
			op.kind = OP_DEL;
			op.slot = pick_slot_where(g, is_placed);
			if (op.slot >= 0)
				op.other = g->m.r[op.slot].container;
		} else if (r < 44) {
			int s = pick_slot_where(g, is_detached);

			if (s < 0 || s == 0)
				continue;
			gen_add(g, s);
			return;
		} else if (r < 52) {
			int s = pick_slot_where(g, is_placed);

			if (s < 0)
				continue;
			op.kind = OP_DEL;
			op.slot = s;
			op.other = g->m.r[s].container;
			emit(g, &op);
			gen_add(g, s);
			return;
		} else if (r < 66) {
			op.kind = OP_SET_ENABLED;
			op.slot = pick_slot(g);
			op.flag = !g->m.r[op.slot].enabled;
		} else if (r < 72) {
			op.kind = OP_SET_READONLY;
			op.slot = pick_slot(g);
			op.flag = !g->m.r[op.slot].readonly;
		} else if (r < 76) {
			op.kind = OP_SET_NONVOLATILE;
			op.slot = pick_slot(g);
			op.flag = !g->m.r[op.slot].nonvolatile;
		} else if (r < 80) {
			op.kind = OP_SET_UNMERGEABLE;
			op.slot = pick_slot(g);
			op.flag = !g->m.r[op.slot].unmergeable;
		} else if (r < 87) {
			op.kind = OP_SET_ALIAS_OFFSET;
			op.slot = pick_slot_where(g, is_alias);
			if (op.slot >= 0)
				op.value = gen_alias_offset(g, g->m.r[op.slot].target);
		} else if (r < 89 && g->m.depth == 0) {
			/* Address spaces come and go; the others keep their views. */
			if (g->m.nas > 0 && rand_percent(g, 60)) {
				op.kind = OP_FREE_AS;
				op.slot = (int)rand_below(g, (uint64_t)g->m.nas);
			} else {
				op.kind = OP_NEW_AS;
				op.slot = pick_slot(g);
			}
		} else if (r < 93) {
			op.kind = OP_SET_PRIORITY;
			op.slot = pick_slot_where(g, is_placed);
			op.priority = gen_priority(g);
		} else if (r < 96) {
			op.kind = OP_SET_ROMD;
			op.slot = pick_slot_where(g, is_rom_device);
			if (op.slot >= 0)
				op.flag = !g->m.r[op.slot].romd;
		} else {
			int s = gen_new(g, gen_kind(g));

			if (s >= 0)
				gen_add(g, s);
			return;
		}
		if (op.slot < 0 || !model_valid(&g->m, &op))
			continue;
		emit(g, &op);
		return;
	}
}

void gen_program(struct program *p, uint64_t seed, bool full64)
{
	struct gen *g = calloc(1, sizeof(*g));
	struct op op;
	int nregions, root;
	bool root_as = false;

	if (!g)
		abort();
	memset(p, 0, sizeof(*p));
	p->seed = seed;
	p->full64 = full64;
	g->p = p;
	g->full64 = full64;
	ms_rng_seed(&g->rng, seed);
	model_init(&g->m);
	{
		static const uint64_t universes[] = {0x40, 0x100, 0x1000, 0x4000};

		g->universe = universes[rand_below(g, 4)];
	}
	g->pool[0] = 0;
	g->pool[1] = (uint64_t)1 << 32;
	g->pool[2] = (uint64_t)1 << 63;
	g->pool[3] = 0xfffffffffffff000ull;
	for (int i = 4; i < 12; i++)
		g->pool[i] = rand_percent(g, 50) ? rand_u64(g) & ~(uint64_t)0xfff : rand_u64(g);
	p->free_as_first = rand_percent(g, 50);
	nregions = 2 + (int)rand_below(g, rand_percent(g, 30) ? 12 : 36);

	/* The root: usually a 2^64 container, sometimes smaller or terminating. */
	{
		uint64_t r = rand_below(g, 100);
		ms_region_kind kind = r < 80   ? MS_REGION_CONTAINER
				      : r < 92 ? MS_REGION_IO
					       : MS_REGION_RAM;

		root = gen_new(g, kind);
		if (kind != MS_REGION_RAM && rand_percent(g, 85)) {
			op = (struct op){.kind = OP_SET_SIZE, .slot = root, .value = MS_SIZE_2_64};
			emit(g, &op);
		}
		if (rand_percent(g, 8)) {
			op = (struct op){.kind = OP_SET_ADDR, .slot = root, .value = gen_addr(g)};
			emit(g, &op);
		}
		if (rand_percent(g, 5))
			gen_flags(g, root);
		if (rand_percent(g, 50)) {
			op = (struct op){.kind = OP_NEW_AS, .slot = root};
			emit(g, &op);
			root_as = true;
		}
	}

	/* The tree; checks along the way when an address space already exists. */
	for (int i = 1; i < nregions; i++) {
		int s = gen_new(g, gen_kind(g));

		if (s < 0)
			break;
		gen_flags(g, s);
		if (rand_percent(g, 85))
			gen_add(g, s);
		if (root_as && rand_percent(g, 12))
			gen_check(g);
	}

	for (int i = rand_percent(g, 40) ? 1 + (int)rand_below(g, 3) : 0; i > 0; i--)
		gen_split_window(g);

	/* Wrappers whose flatview root is the root region: share its view. */
	if (rand_percent(g, 35) && g->m.r[root].container < 0) {
		int w = gen_new(g, MS_REGION_CONTAINER);

		if (w >= 0) {
			if (rand_percent(g, 70)) {
				op = (struct op){
					.kind = OP_SET_SIZE, .slot = w, .value = MS_SIZE_2_64};
				emit(g, &op);
			}
			uint64_t at = rand_percent(g, 85) ? 0 : gen_addr(g);
			int prio = gen_priority(g);

			op = (struct op){.kind = OP_ADD,
					 .slot = root,
					 .other = w,
					 .value = at,
					 .priority = prio};
			emit(g, &op);
			op = (struct op){.kind = OP_NEW_AS, .slot = w};
			emit(g, &op);
		}
	}
	if (rand_percent(g, 35) && g->nslots < MAX_REGIONS) {
		op = (struct op){
			.kind = OP_NEW, .rkind = MS_REGION_ALIAS, .slot = g->nslots, .other = root};
		op.value = rand_percent(g, 70) ? MS_SIZE_2_64 : gen_size(g, MS_REGION_ALIAS);
		op.value2 = rand_percent(g, 80) ? 0 : gen_alias_offset(g, root);
		g->nslots++;
		emit(g, &op);
		op = (struct op){.kind = OP_NEW_AS, .slot = op.slot};
		emit(g, &op);
	}
	if (!root_as) {
		op = (struct op){.kind = OP_NEW_AS, .slot = root};
		emit(g, &op);
	}
	for (int i = (int)rand_below(g, 4); i > 0; i--) {
		op = (struct op){.kind = OP_NEW_AS, .slot = pick_slot(g)};
		emit(g, &op);
	}
	gen_check(g);

	/* Mutations, alone (each commits) or batched in transactions. */
	for (int round = (int)rand_below(g, 7); round > 0; round--) {
		if (rand_percent(g, 50)) {
			int k = 1 + (int)rand_below(g, 5);

			op = (struct op){.kind = OP_BEGIN};
			emit(g, &op);
			while (k-- > 0) {
				bool nested = rand_percent(g, 15);

				if (nested) {
					op = (struct op){.kind = OP_BEGIN};
					emit(g, &op);
				}
				gen_mutation(g);
				if (nested) {
					op = (struct op){.kind = OP_COMMIT};
					emit(g, &op);
				}
			}
			if (rand_percent(g, 50))
				gen_check(g);
			op = (struct op){.kind = OP_COMMIT};
			emit(g, &op);
		} else {
			gen_mutation(g);
		}
		gen_check(g);
	}
	free(g);
}
