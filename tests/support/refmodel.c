/*
 * refmodel.c: the reference model of a region tree, its brute-force
 * per-address resolver (rules R1-R8, F4) and the range list rule R9
 * promises, plus the report buffer and the dumps that print a model and a
 * program as C calls. Declared in refmodel.h; only public headers are used.
 *
 * SPDX-License-Identifier: MIT
 */
#include "refmodel.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ms_rng.h"

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

/* Each kind's name in the API (ms_region_new_<name>) and the prefix of its regions' names. */
static const struct {
	const char *name, *prefix;
} kind_text[] = {
	[MS_REGION_CONTAINER] = {"container", "c"},
	[MS_REGION_IO] = {"io", "io"},
	[MS_REGION_RAM] = {"ram", "ram"},
	[MS_REGION_ROM] = {"rom", "rom"},
	[MS_REGION_ROM_DEVICE] = {"rom_device", "romd"},
	[MS_REGION_RAM_DEVICE] = {"ram_device", "ramd"},
	[MS_REGION_RAM_PTR] = {"ram_ptr", "ramp"},
	[MS_REGION_ALIAS] = {"alias", "a"},
	[MS_REGION_IOMMU] = {"iommu", "iommu"},
};

static bool kind_known(ms_region_kind k)
{
	return (unsigned)k < sizeof(kind_text) / sizeof(kind_text[0]) && kind_text[k].name;
}

const char *kind_name(ms_region_kind k)
{
	return kind_known(k) ? kind_text[k].name : "?";
}

const char *kind_prefix(ms_region_kind k)
{
	return kind_known(k) ? kind_text[k].prefix : "?";
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

/* The property an OP_SET_<flag> op sets, as in its ms_region_set_<flag>() call. */
static const char *flag_setter_name(enum op_kind kind)
{
	switch (kind) {
	case OP_SET_ENABLED:
		return "enabled";
	case OP_SET_READONLY:
		return "readonly";
	case OP_SET_NONVOLATILE:
		return "nonvolatile";
	case OP_SET_UNMERGEABLE:
		return "unmergeable";
	case OP_SET_ROMD:
		return "romd";
	default:
		return "?";
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
		case MS_REGION_ROM_DEVICE:
			/* A ROM device always has ops; an I/O region may be a reservation. */
			rep(rp,
			    "ms_region_new_%s(&r[%d], ctx, &(ms_region_io_opts){.name = \"%s%d\", "
			    ".size = %s, .ops = %s});",
			    kind_name(op->rkind), op->slot, kind_prefix(op->rkind), op->slot,
			    size_api_text(a, op->value),
			    op->flag || op->rkind == MS_REGION_ROM_DEVICE ? "&ops" : "NULL");
			break;
		case MS_REGION_IOMMU:
			rep(rp,
			    "ms_iommu_new(&r[%d], ctx, &(ms_iommu_opts){.name = \"iommu%d\", "
			    ".size = %s});",
			    op->slot, op->slot, size_api_text(a, op->value));
			break;
		case MS_REGION_RAM:
		case MS_REGION_ROM:
		case MS_REGION_RAM_DEVICE:
		case MS_REGION_RAM_PTR:
			/* The last two wrap the caller's buffer. */
			rep(rp, "ms_region_new_%s(&r[%d], ctx, \"%s%d\", %s%s);",
			    kind_name(op->rkind), op->slot, kind_prefix(op->rkind), op->slot,
			    size_api_text(a, op->value),
			    op->rkind == MS_REGION_RAM_DEVICE || op->rkind == MS_REGION_RAM_PTR
				    ? ", buf"
				    : "");
			break;
		case MS_REGION_ALIAS:
			rep(rp,
			    "ms_region_new_alias(&r[%d], ctx, &(ms_region_alias_opts){.name = \"a%d\", "
			    ".target = r[%d], .offset = 0x%" PRIx64 ", .size = %s});",
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
	case OP_SET_READONLY:
	case OP_SET_NONVOLATILE:
	case OP_SET_UNMERGEABLE:
	case OP_SET_ROMD:
		rep(rp, "ms_region_set_%s(r[%d], %s);", flag_setter_name(op->kind), op->slot,
		    op->flag ? "true" : "false");
		break;
	case OP_SET_ALIAS_OFFSET:
		rep(rp, "ms_region_set_alias_offset(r[%d], 0x%" PRIx64 ");", op->slot, op->value);
		break;
	case OP_SET_PRIORITY:
		rep(rp, "ms_region_set_priority(r[%d], %d);", op->slot, op->priority);
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
