/*
 * progen.c: random programs for the render property test. A program is
 * built from a seed alone (ms_rng.h): a tree of regions of every kind, with
 * flags, overlaps, aliases and windows that ought to merge, address spaces
 * (some sharing one view), then mutations, alone or batched in nested
 * transactions, with checks between them. The generator follows the
 * reference model (refmodel.c) as it goes and emits only calls the model
 * accepts. Declared in progen.h.
 *
 * SPDX-License-Identifier: MIT
 */
#include "progen.h"

#include <stdlib.h>
#include <string.h>

#include "ms_rng.h"

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
