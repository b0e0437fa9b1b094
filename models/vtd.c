/*
 * vtd.c: the VT-d-like remapping unit (include/memspace/models/vtd.h), built
 * only on the public API.
 *
 * Every table read goes through the unit's memory address space with
 * attrs.memory set, and its ms_result is checked: a table outside RAM or in
 * MMIO is a fault, never a host access. Walks are bounded: translation by
 * the page-table depth (and a directory that points back at a table on its
 * path is a loop fault); replay and invalidation walks also by the number
 * of tables they read (walk_max_tables).
 *
 * Per device, a treap keyed by IOVA holds what the unit announced (MAP
 * events not yet UNMAPped). Invariants (vtd_check_tree() in debug builds):
 * its entries are aligned blocks of 4 KiB, 2 MiB or 1 GiB with a
 * permission, pairwise disjoint, and the treap is ordered by IOVA with
 * heap-ordered priorities. An invalidation of [lo, hi] first widens the
 * range to the blocks (announced or current) that contain lo and hi; since
 * blocks are aligned powers of two, every block that meets the widened
 * range then lies inside it, so the treap splits at its ends into "before",
 * "inside" and "after", and only "inside" is compared with a fresh walk.
 *
 * Locking: changes (root table, DMAR switches, invalidations, device
 * creation) are serialised by the caller; translation is lock-free except
 * for the fault ring's mutex, taken when a fault is recorded.
 *
 * SPDX-License-Identifier: MIT
 */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <memspace.h>
#include <memspace/models/vtd.h>

#define PAGE_SHIFT 12
#define PAGE_SIZE ((uint64_t)1 << PAGE_SHIFT)
#define TABLE_ENTRIES 512u
#define MAX_AW_BITS 48u
#define MAX_LEVELS 4u

/* Reserved bits of a page-table entry at every level (bits 2..6, 8..11, 52..63). */
#define PTE_RESERVED_ALL ((uint64_t)0xfff0000000000f7c)
#define ROOT_RESERVED_LO (~(MS_VTD_ADDR_MASK | MS_VTD_PRESENT))
#define CTX_RESERVED_HI (~(MS_VTD_CTX_AW_MASK | MS_VTD_CTX_DID_MASK))

/* One announced (or current) mapping: an aligned block with a permission. */
typedef struct vtd_map {
	uint64_t iova;
	uint64_t size;
	uint64_t gpa;
	unsigned perm;
} vtd_map;

typedef struct tnode tnode;
struct tnode {
	vtd_map m;
	uint64_t prio;
	tnode *left, *right;
};

typedef struct map_vec {
	vtd_map *items;
	size_t nr, cap;
} map_vec;

typedef struct vtd_dev {
	ms_vtd *v;
	uint16_t bdf;
	bool dmar;    /* read by translate: atomic */
	int last_did; /* domain of the last walk, -1 when none */
	ms_region *root, *iommu, *alias;
	ms_as *as;
	tnode *tree;
	uint64_t nr_mapped;
	struct vtd_dev *next;
} vtd_dev;

struct ms_vtd {
	ms_ctx *ctx;
	ms_as *mem;
	char *name;
	bool caching_mode, dev_iotlb;
	uint64_t walk_max_tables;
	uint64_t root_table; /* atomic; 0 with !root_set */
	bool root_set;       /* atomic */
	uint64_t seed;       /* treap priorities */
	vtd_dev **buses[256];
	vtd_dev *devices; /* every device, newest first */

	pthread_mutex_t fault_lock;
	ms_vtd_fault *ring;
	unsigned ring_size, ring_head, ring_count;
	uint64_t lost;
	ms_vtd_fault_fn on_fault;
	void *fault_opaque;
};

/* The resolved context of a device. */
typedef struct vtd_context {
	uint64_t slpt;
	unsigned levels;
	unsigned aw_bits;
	uint16_t did;
} vtd_context;

static const ms_attrs table_attrs = {.memory = 1};

static uint64_t le64(const uint8_t *b)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | b[i];
	return v;
}

static uint64_t level_shift(unsigned level)
{
	return PAGE_SHIFT + 9 * (uint64_t)(level - 1);
}

/*
 * Whether @pte (present) sets a bit reserved at @level: the common reserved
 * bits, the page-size bit where no large page exists (levels 1 and 4), and
 * the low address bits of a 2 MiB or 1 GiB page.
 */
static bool pte_reserved(uint64_t pte, unsigned level)
{
	if (pte & PTE_RESERVED_ALL)
		return true;
	if (pte & MS_VTD_PTE_PS) {
		if (level != 2 && level != 3)
			return true;
		if (pte & MS_VTD_ADDR_MASK & (((uint64_t)1 << level_shift(level)) - 1))
			return true;
	}
	return false;
}

/* ---- root and context entries ------------------------------------------------- */

static ms_vtd_fault_reason read_entry16(ms_vtd *v, uint64_t addr, uint64_t *lo, uint64_t *hi)
{
	uint8_t b[16];

	if (ms_as_read(v->mem, addr, table_attrs, b, sizeof(b)) != MS_RESULT_OK)
		return MS_VTD_FR_TABLE_READ;
	*lo = le64(b);
	*hi = le64(b + 8);
	return MS_VTD_FR_NONE;
}

static ms_vtd_fault_reason resolve_context(vtd_context *out, ms_vtd *v, uint16_t bdf)
{
	uint64_t lo, hi, rt;
	ms_vtd_fault_reason fr;

	if (!__atomic_load_n(&v->root_set, __ATOMIC_ACQUIRE))
		return MS_VTD_FR_NO_ROOT_TABLE;
	rt = __atomic_load_n(&v->root_table, __ATOMIC_ACQUIRE);
	fr = read_entry16(v, rt + (uint64_t)(bdf >> 8) * 16, &lo, &hi);
	if (fr)
		return fr;
	if (!(lo & MS_VTD_PRESENT))
		return MS_VTD_FR_ROOT_NOT_PRESENT;
	if ((lo & ROOT_RESERVED_LO) || hi)
		return MS_VTD_FR_ROOT_RESERVED;
	fr = read_entry16(v, (lo & MS_VTD_ADDR_MASK) + (uint64_t)(bdf & 0xff) * 16, &lo, &hi);
	if (fr)
		return fr;
	if (!(lo & MS_VTD_PRESENT))
		return MS_VTD_FR_CONTEXT_NOT_PRESENT;
	if ((lo & ROOT_RESERVED_LO) || (hi & CTX_RESERVED_HI))
		return MS_VTD_FR_CONTEXT_RESERVED;
	switch (hi & MS_VTD_CTX_AW_MASK) {
	case MS_VTD_CTX_AW_39:
		out->levels = 3;
		out->aw_bits = 39;
		break;
	case MS_VTD_CTX_AW_48:
		out->levels = 4;
		out->aw_bits = 48;
		break;
	default:
		return MS_VTD_FR_CONTEXT_RESERVED;
	}
	out->slpt = lo & MS_VTD_ADDR_MASK;
	out->did = (uint16_t)((hi & MS_VTD_CTX_DID_MASK) >> MS_VTD_CTX_DID_SHIFT);
	return MS_VTD_FR_NONE;
}

/* ---- translation ---------------------------------------------------------------- */

/*
 * The leaf that maps @addr for device @bdf: MS_VTD_FR_NONE with *@out
 * filled (its perm may still be 0: directories that grant nothing), or the
 * reason it has none.
 */
static ms_vtd_fault_reason lookup(vtd_map *out, ms_vtd *v, uint16_t bdf, uint64_t addr)
{
	uint64_t path[MAX_LEVELS], table;
	unsigned perm = (unsigned)MS_VTD_PTE_RW;
	vtd_context c;
	ms_vtd_fault_reason fr;

	fr = resolve_context(&c, v, bdf);
	if (fr)
		return fr;
	if (addr >> c.aw_bits)
		return MS_VTD_FR_ADDR_BEYOND_AW;
	table = c.slpt;
	for (unsigned level = c.levels, depth = 0; level >= 1; level--, depth++) {
		uint64_t shift = level_shift(level), pte;
		ms_result res = MS_RESULT_OK;

		for (unsigned d = 0; d < depth; d++)
			if (path[d] == table)
				return MS_VTD_FR_TABLE_LOOP;
		path[depth] = table;
		pte = ms_as_ldq_le(v->mem, table + ((addr >> shift) & (TABLE_ENTRIES - 1)) * 8,
				   table_attrs, &res);
		if (res != MS_RESULT_OK)
			return MS_VTD_FR_TABLE_READ;
		if (!(pte & MS_VTD_PTE_RW))
			return MS_VTD_FR_PTE_NOT_PRESENT;
		if (pte_reserved(pte, level))
			return MS_VTD_FR_PTE_RESERVED;
		perm &= (unsigned)(pte & MS_VTD_PTE_RW);
		if (level == 1 || (pte & MS_VTD_PTE_PS)) {
			out->size = (uint64_t)1 << shift;
			out->iova = addr & ~(out->size - 1);
			out->gpa = pte & MS_VTD_ADDR_MASK & ~(out->size - 1);
			out->perm = perm;
			return MS_VTD_FR_NONE;
		}
		table = pte & MS_VTD_ADDR_MASK;
	}
	return MS_VTD_FR_PTE_NOT_PRESENT; /* not reached: level 1 is a leaf */
}

static void record_fault(ms_vtd *v, uint16_t bdf, uint64_t addr, ms_vtd_fault_reason reason,
			 bool is_write)
{
	ms_vtd_fault f = {.bdf = bdf, .addr = addr, .reason = reason, .is_write = is_write};

	pthread_mutex_lock(&v->fault_lock);
	if (v->ring_count < v->ring_size) {
		v->ring[(v->ring_head + v->ring_count) % v->ring_size] = f;
		v->ring_count++;
	} else {
		v->lost++;
	}
	pthread_mutex_unlock(&v->fault_lock);
	if (v->on_fault)
		v->on_fault(&f, v->fault_opaque);
}

static void vtd_translate(ms_iotlb_entry *out, ms_region *iommu, uint64_t addr, ms_iommu_perm flags,
			  unsigned iommu_idx, void *opaque)
{
	vtd_dev *d = opaque;
	ms_vtd *v = d->v;
	ms_vtd_fault_reason fr = MS_VTD_FR_NONE;
	vtd_map m;

	(void)iommu;
	(void)iommu_idx;
	memset(out, 0, sizeof(*out));
	out->iova = addr & ~(PAGE_SIZE - 1);
	out->addr_mask = PAGE_SIZE - 1;
	if (!__atomic_load_n(&d->dmar, __ATOMIC_ACQUIRE))
		return; /* not reachable by accesses: the alias answers */
	fr = lookup(&m, v, d->bdf, addr);
	if (fr == MS_VTD_FR_NONE) {
		out->iova = m.iova;
		out->addr_mask = m.size - 1;
		out->perm = (ms_iommu_perm)m.perm;
		if (m.perm) {
			out->translated_addr = m.gpa;
			out->target_as = v->mem;
		}
		if ((flags & MS_IOMMU_RO) && !(m.perm & MS_IOMMU_RO))
			fr = MS_VTD_FR_READ_DENIED;
		else if ((flags & MS_IOMMU_WO) && !(m.perm & MS_IOMMU_WO))
			fr = MS_VTD_FR_WRITE_DENIED;
	}
	/* A request without access flags is a lookup (replay, IOTLB fill), not DMA. */
	if (fr != MS_VTD_FR_NONE && flags != MS_IOMMU_NONE)
		record_fault(v, d->bdf, addr, fr, (flags & MS_IOMMU_WO) != 0);
}

/* ---- page-table walks ---------------------------------------------------------- */

typedef struct walk_ctx walk_ctx;
struct walk_ctx {
	ms_vtd *v;
	uint64_t lo, hi; /* inclusive range of interest */
	uint64_t budget; /* tables left to read */
	uint64_t path[MAX_LEVELS];
	int (*leaf)(walk_ctx *w, const vtd_map *m);
	void *opaque;
};

/*
 * Visit the leaves of @table (a level-@level table covering [base, base +
 * 512 * span)) that meet [w->lo, w->hi], in increasing order. Non-present
 * entries are skipped whole, so the work is the tables read (bounded by the
 * budget) times 512 host-memory entry checks.
 */
static int walk_table(walk_ctx *w, uint64_t table, unsigned level, uint64_t base, unsigned perm,
		      unsigned depth)
{
	uint8_t buf[TABLE_ENTRIES * 8];
	uint64_t shift = level_shift(level), span = (uint64_t)1 << shift;
	uint64_t first, last;

	for (unsigned d = 0; d < depth; d++)
		if (w->path[d] == table)
			return 0; /* a loop: no mapping below (translate reports it) */
	if (w->budget == 0)
		return -E2BIG;
	w->budget--;
	w->path[depth] = table;
	if (ms_as_read(w->v->mem, table, table_attrs, buf, sizeof(buf)) != MS_RESULT_OK)
		return 0; /* unreadable: nothing maps through it */
	first = w->lo > base ? (w->lo - base) >> shift : 0;
	last = (w->hi - base) >> shift;
	if (last > TABLE_ENTRIES - 1)
		last = TABLE_ENTRIES - 1;
	for (uint64_t i = first; i <= last; i++) {
		uint64_t pte = le64(buf + i * 8), a = base + i * span;
		unsigned p = perm & (unsigned)(pte & MS_VTD_PTE_RW);
		int rc;

		if (!p || pte_reserved(pte, level))
			continue;
		if (level == 1 || (pte & MS_VTD_PTE_PS)) {
			vtd_map m = {.iova = a,
				     .size = span,
				     .gpa = pte & MS_VTD_ADDR_MASK & ~(span - 1),
				     .perm = p};

			rc = w->leaf(w, &m);
		} else {
			rc = walk_table(w, pte & MS_VTD_ADDR_MASK, level - 1, a, p, depth + 1);
		}
		if (rc)
			return rc;
	}
	return 0;
}

/* Walk device @bdf's tables over [lo, hi]; a context that does not resolve maps nothing. */
static int walk_device(walk_ctx *w, uint16_t bdf, int *did)
{
	vtd_context c;

	if (did)
		*did = -1;
	if (resolve_context(&c, w->v, bdf) != MS_VTD_FR_NONE)
		return 0;
	if (did)
		*did = c.did;
	if (w->lo >> c.aw_bits)
		return 0;
	if (w->hi >> c.aw_bits)
		w->hi = ((uint64_t)1 << c.aw_bits) - 1;
	return walk_table(w, c.slpt, c.levels, 0, (unsigned)MS_VTD_PTE_RW, 0);
}

/* ---- the announced-mapping tree (a treap keyed by IOVA) -------------------------- */

static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* Split @t into the nodes with iova < @key (*@a) and the rest (*@b). */
static void tree_split(tnode *t, uint64_t key, tnode **a, tnode **b)
{
	if (!t) {
		*a = *b = NULL;
	} else if (t->m.iova < key) {
		tree_split(t->right, key, &t->right, b);
		*a = t;
	} else {
		tree_split(t->left, key, a, &t->left);
		*b = t;
	}
}

/* Join @a and @b, every key of @a below every key of @b. */
static tnode *tree_merge(tnode *a, tnode *b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	if (a->prio > b->prio) {
		a->right = tree_merge(a->right, b);
		return a;
	}
	b->left = tree_merge(a, b->left);
	return b;
}

/* The entry containing @addr, or NULL. */
static const vtd_map *tree_find(const tnode *t, uint64_t addr)
{
	const tnode *best = NULL;

	while (t) {
		if (t->m.iova <= addr) {
			best = t;
			t = t->right;
		} else {
			t = t->left;
		}
	}
	return best && addr - best->m.iova < best->m.size ? &best->m : NULL;
}

static void tree_free(tnode *t)
{
	while (t) {
		tnode *r = t->right;

		tree_free(t->left);
		free(t);
		t = r;
	}
}

static int vec_push(map_vec *v, const vtd_map *m)
{
	if (v->nr == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 64;
		vtd_map *items = realloc(v->items, cap * sizeof(*items));

		if (!items)
			return -ENOMEM;
		v->items = items;
		v->cap = cap;
	}
	v->items[v->nr++] = *m;
	return 0;
}

static int tree_to_vec(const tnode *t, map_vec *out)
{
	while (t) {
		int rc = tree_to_vec(t->left, out);

		if (rc == 0)
			rc = vec_push(out, &t->m);
		if (rc)
			return rc;
		t = t->right;
	}
	return 0;
}

/*
 * A treap of @n sorted maps in O(n): the right spine is kept on a stack;
 * each new node pops the spine nodes of lower priority as its left child.
 * Return: 0 and *@out; -ENOMEM (nothing allocated is kept).
 */
static int tree_build(tnode **out, const ms_vtd *v, const vtd_map *items, size_t n)
{
	tnode **spine = n ? malloc(n * sizeof(*spine)) : NULL;
	size_t top = 0;

	*out = NULL;
	if (n && !spine)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		tnode *node = malloc(sizeof(*node)), *last = NULL;

		if (!node) {
			if (top)
				tree_free(spine[0]);
			free(spine);
			return -ENOMEM;
		}
		node->m = items[i];
		node->prio = mix64(items[i].iova ^ v->seed);
		node->right = NULL;
		while (top && spine[top - 1]->prio < node->prio)
			last = spine[--top];
		node->left = last;
		if (top)
			spine[top - 1]->right = node;
		spine[top++] = node;
	}
	*out = top ? spine[0] : NULL;
	free(spine);
	return 0;
}

#ifndef NDEBUG
/* Order, disjointness, heap order; returns the number of nodes. */
static uint64_t check_tree(const tnode *t, uint64_t *next_free)
{
	uint64_t count;

	if (!t)
		return 0;
	count = check_tree(t->left, next_free);
	assert(!t->left || t->left->prio <= t->prio);
	assert(!t->right || t->right->prio <= t->prio);
	assert(t->m.perm && (t->m.perm & ~3u) == 0);
	assert(t->m.size == PAGE_SIZE || t->m.size == (PAGE_SIZE << 9) ||
	       t->m.size == (PAGE_SIZE << 18));
	assert((t->m.iova & (t->m.size - 1)) == 0);
	assert(t->m.iova >= *next_free);
	*next_free = t->m.iova + t->m.size;
	return count + 1 + check_tree(t->right, next_free);
}

static void vtd_check_tree(const vtd_dev *d)
{
	uint64_t next_free = 0;

	assert(check_tree(d->tree, &next_free) == d->nr_mapped);
}
#else
static void vtd_check_tree(const vtd_dev *d)
{
	(void)d;
}
#endif

/* ---- notification --------------------------------------------------------------- */

static int notify_map(vtd_dev *d, ms_iommu_notifier_flags type, const vtd_map *m)
{
	ms_iommu_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.entry.iova = m->iova;
	ev.entry.addr_mask = m->size - 1;
	ev.entry.translated_addr = m->gpa;
	if (type == MS_IOMMU_NOTIFIER_MAP) {
		ev.entry.target_as = d->v->mem;
		ev.entry.perm = (ms_iommu_perm)m->perm;
	}
	return ms_iommu_notify(d->iommu, 0, &ev);
}

/* UNMAP (or DEVIOTLB_UNMAP) of [lo, hi] as aligned power-of-two blocks. */
static int notify_range(vtd_dev *d, ms_iommu_notifier_flags type, uint64_t lo, uint64_t hi)
{
	int first = 0;

	for (;;) {
		unsigned k = lo ? (unsigned)__builtin_ctzll(lo) : 63;
		uint64_t size, rest = hi - lo;
		vtd_map m;
		int rc;

		while (k > 0 && ((uint64_t)1 << k) - 1 > rest)
			k--;
		size = (uint64_t)1 << k;
		m = (vtd_map){.iova = lo, .size = size};
		rc = notify_map(d, type, &m);
		if (rc < 0 && first == 0)
			first = rc;
		if (size - 1 == rest)
			return first;
		lo += size;
	}
}

static int collect_leaf(walk_ctx *w, const vtd_map *m)
{
	return vec_push(w->opaque, m);
}

static bool map_equal(const vtd_map *a, const vtd_map *b)
{
	return a->iova == b->iova && a->size == b->size && a->gpa == b->gpa && a->perm == b->perm;
}

/*
 * Bring device @d's announced mappings in [lo, hi] in line with its tables,
 * notifying the differences. Return: 0; -E2BIG / -ENOMEM with nothing
 * changed or sent; the first error a notifier returned (every event is
 * still sent and recorded).
 */
static int sync_range(vtd_dev *d, uint64_t lo, uint64_t hi)
{
	ms_vtd *v = d->v;
	map_vec cur = {0}, old = {0};
	walk_ctx w = {.v = v, .budget = v->walk_max_tables, .leaf = collect_leaf};
	tnode *before, *inside, *after, *fresh;
	const vtd_map *t;
	vtd_map m;
	size_t i = 0, j = 0, keep = 0;
	int rc, first = 0;

	/* Widen to the blocks, announced or current, that hold the ends. */
	if ((t = tree_find(d->tree, lo)) != NULL && t->iova < lo)
		lo = t->iova;
	if ((t = tree_find(d->tree, hi)) != NULL && t->iova + (t->size - 1) > hi)
		hi = t->iova + (t->size - 1);
	if (lookup(&m, v, d->bdf, lo) == MS_VTD_FR_NONE && m.iova < lo)
		lo = m.iova;
	if (lookup(&m, v, d->bdf, hi) == MS_VTD_FR_NONE && m.iova + (m.size - 1) > hi)
		hi = m.iova + (m.size - 1);

	w.lo = lo;
	w.hi = hi;
	w.opaque = &cur;
	rc = walk_device(&w, d->bdf, &d->last_did);
	if (rc)
		goto out;
	/* Tables changed under the widening (another thread writing them): keep what fits. */
	for (size_t k = 0; k < cur.nr; k++)
		if (cur.items[k].iova >= lo && cur.items[k].iova + (cur.items[k].size - 1) <= hi)
			cur.items[keep++] = cur.items[k];
	cur.nr = keep;
	rc = tree_build(&fresh, v, cur.items, cur.nr);
	if (rc)
		goto out;

	tree_split(d->tree, lo, &before, &inside);
	tree_split(inside, hi + 1, &inside, &after); /* hi < 2^48: no wrap */
	rc = tree_to_vec(inside, &old);
	if (rc) {
		tree_free(fresh);
		d->tree = tree_merge(tree_merge(before, inside), after);
		goto out;
	}

	/* Merge the two sorted lists: equal blocks stay silent. */
	while (i < old.nr || j < cur.nr) {
		const vtd_map *o = i < old.nr ? &old.items[i] : NULL;
		const vtd_map *c = j < cur.nr ? &cur.items[j] : NULL;

		if (o && c && map_equal(o, c)) {
			i++;
			j++;
			continue;
		}
		if (o && (!c || o->iova < c->iova + c->size)) {
			/* @o ends before @c or overlaps it: it vanished or changed. */
			rc = notify_map(d, MS_IOMMU_NOTIFIER_UNMAP, o);
			d->nr_mapped--;
			i++;
		} else {
			rc = notify_map(d, MS_IOMMU_NOTIFIER_MAP, c);
			d->nr_mapped++;
			j++;
		}
		if (rc < 0 && first == 0)
			first = rc;
	}
	tree_free(inside);
	d->tree = tree_merge(tree_merge(before, fresh), after);
	vtd_check_tree(d);
	rc = first;
out:
	free(cur.items);
	free(old.items);
	return rc;
}

/* UNMAP everything announced for @d (and, without caching mode, the whole space). */
static int unmap_all(vtd_dev *d)
{
	map_vec old = {0};
	int rc, first = 0;

	if (!d->v->caching_mode)
		return notify_range(d, MS_IOMMU_NOTIFIER_UNMAP, 0,
				    ((uint64_t)1 << MAX_AW_BITS) - 1);
	rc = tree_to_vec(d->tree, &old);
	if (rc)
		return rc;
	for (size_t i = 0; i < old.nr; i++) {
		rc = notify_map(d, MS_IOMMU_NOTIFIER_UNMAP, &old.items[i]);
		if (rc < 0 && first == 0)
			first = rc;
	}
	free(old.items);
	tree_free(d->tree);
	d->tree = NULL;
	d->nr_mapped = 0;
	return first;
}

/* An invalidation of [lo, hi] for device @d. */
static int invalidate_dev(vtd_dev *d, uint64_t lo, uint64_t hi)
{
	if (!d->dmar)
		return 0;
	if (hi >> MAX_AW_BITS)
		hi = ((uint64_t)1 << MAX_AW_BITS) - 1;
	if (lo > hi)
		return 0;
	if (!d->v->caching_mode) {
		vtd_context c;

		if (resolve_context(&c, d->v, d->bdf) == MS_VTD_FR_NONE)
			d->last_did = c.did;
		return notify_range(d, MS_IOMMU_NOTIFIER_UNMAP, lo, hi);
	}
	return sync_range(d, lo, hi);
}

/* ---- the IOMMU class ------------------------------------------------------------ */

static uint64_t vtd_min_page_size(ms_region *iommu, void *opaque)
{
	(void)iommu;
	(void)opaque;
	return PAGE_SIZE;
}

/* QEMU's rules: MAP needs caching mode, DEVIOTLB_UNMAP needs device-IOTLB support. */
static int vtd_notify_flag_changed(ms_region *iommu, ms_iommu_notifier_flags old_flags,
				   ms_iommu_notifier_flags new_flags, void *opaque)
{
	vtd_dev *d = opaque;

	(void)iommu;
	(void)old_flags;
	if ((new_flags & MS_IOMMU_NOTIFIER_MAP) && !d->v->caching_mode)
		return -ENOTSUP;
	if ((new_flags & MS_IOMMU_NOTIFIER_DEVIOTLB_UNMAP) && !d->v->dev_iotlb)
		return -ENOTSUP;
	return 0;
}

typedef struct replay_ctx {
	ms_iommu_notifier *n;
	vtd_dev *d;
} replay_ctx;

static int replay_leaf(walk_ctx *w, const vtd_map *m)
{
	replay_ctx *r = w->opaque;
	ms_iommu_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = MS_IOMMU_NOTIFIER_MAP;
	ev.entry.target_as = r->d->v->mem;
	ev.entry.iova = m->iova;
	ev.entry.addr_mask = m->size - 1;
	ev.entry.translated_addr = m->gpa;
	ev.entry.perm = (ms_iommu_perm)m->perm;
	return ms_iommu_notify_one(r->n, &ev);
}

/* Walk the present tables, clamped to the address width: nothing when remapping is off. */
static int vtd_replay(ms_region *iommu, ms_iommu_notifier *n, void *opaque)
{
	vtd_dev *d = opaque;
	replay_ctx r = {.n = n, .d = d};
	walk_ctx w = {.v = d->v,
		      .lo = 0,
		      .hi = UINT64_MAX,
		      .budget = d->v->walk_max_tables,
		      .leaf = replay_leaf,
		      .opaque = &r};

	(void)iommu;
	if (!d->dmar)
		return 0;
	return walk_device(&w, d->bdf, NULL);
}

static const ms_iommu_ops vtd_iommu_ops = {
	.version = MS_IOMMU_OPS_VERSION,
	.translate = vtd_translate,
	.get_min_page_size = vtd_min_page_size,
	.notify_flag_changed = vtd_notify_flag_changed,
	.replay = vtd_replay,
};

/* ---- the unit ------------------------------------------------------------------- */

int ms_vtd_new(ms_vtd **out, ms_ctx *ctx, const ms_vtd_opts *opts)
{
	ms_vtd *v;
	unsigned ring;

	if (out)
		*out = NULL;
	if (!out || !ctx || !opts || !opts->name || !opts->memory || ms_as_ctx(opts->memory) != ctx)
		return -EINVAL;
	ring = opts->fault_ring_size ? opts->fault_ring_size : MS_VTD_FAULT_RING_DEFAULT;
	if (ring > MS_VTD_FAULT_RING_MAX)
		return -EINVAL;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->name = strdup(opts->name);
	v->ring = calloc(ring, sizeof(*v->ring));
	if (!v->name || !v->ring || pthread_mutex_init(&v->fault_lock, NULL) != 0) {
		free(v->name);
		free(v->ring);
		free(v);
		return -ENOMEM;
	}
	v->ctx = ctx;
	v->mem = opts->memory;
	v->caching_mode = opts->caching_mode;
	v->dev_iotlb = opts->dev_iotlb;
	v->walk_max_tables = opts->walk_max_tables ? opts->walk_max_tables : MS_VTD_WALK_MAX_TABLES;
	v->ring_size = ring;
	v->on_fault = opts->on_fault;
	v->fault_opaque = opts->fault_opaque;
	v->seed = mix64((uint64_t)(uintptr_t)v);
	*out = v;
	return 0;
}

static void dev_free(vtd_dev *d)
{
	ms_as_free(d->as);
	if (d->root) {
		if (d->iommu)
			(void)ms_region_del_subregion(d->root, d->iommu);
		if (d->alias)
			(void)ms_region_del_subregion(d->root, d->alias);
	}
	ms_region_unref(d->iommu);
	ms_region_unref(d->alias);
	ms_region_unref(d->root);
	tree_free(d->tree);
	free(d);
}

void ms_vtd_free(ms_vtd *v)
{
	if (!v)
		return;
	while (v->devices) {
		vtd_dev *d = v->devices;

		v->devices = d->next;
		if (d->dmar)
			(void)unmap_all(d);
		dev_free(d);
	}
	for (unsigned b = 0; b < 256; b++)
		free(v->buses[b]);
	pthread_mutex_destroy(&v->fault_lock);
	free(v->ring);
	free(v->name);
	free(v);
}

int ms_vtd_set_root_table(ms_vtd *v, uint64_t addr)
{
	if (!v || (addr & ~MS_VTD_ADDR_MASK))
		return -EINVAL;
	__atomic_store_n(&v->root_table, addr, __ATOMIC_RELEASE);
	__atomic_store_n(&v->root_set, true, __ATOMIC_RELEASE);
	return 0;
}

static vtd_dev *find_dev(const ms_vtd *v, uint16_t bdf)
{
	vtd_dev **bus = v->buses[bdf >> 8];

	return bus ? bus[bdf & 0xff] : NULL;
}

int ms_vtd_device_as(ms_as **out, ms_vtd *v, uint16_t bdf)
{
	ms_region *mem_root;
	vtd_dev *d;
	char *name = NULL;
	int rc = -ENOMEM;

	if (out)
		*out = NULL;
	if (!out || !v)
		return -EINVAL;
	d = find_dev(v, bdf);
	if (d) {
		*out = d->as;
		return 0;
	}
	if (!v->buses[bdf >> 8]) {
		v->buses[bdf >> 8] = calloc(256, sizeof(vtd_dev *));
		if (!v->buses[bdf >> 8])
			return -ENOMEM;
	}
	d = calloc(1, sizeof(*d));
	name = malloc(strlen(v->name) + 32);
	if (!d || !name)
		goto fail;
	d->v = v;
	d->bdf = bdf;
	d->last_did = -1;
	mem_root = ms_as_root(v->mem);
	sprintf(name, "%s.%02x:%02x.%x", v->name, bdf >> 8, (bdf >> 3) & 0x1f, bdf & 7);
	rc = ms_region_new_container(&d->root, v->ctx, name, MS_SIZE_2_64);
	if (rc == 0)
		rc = ms_iommu_new(&d->iommu, v->ctx,
				  &(ms_iommu_opts){.name = name,
						   .size = MS_SIZE_2_64,
						   .ops = &vtd_iommu_ops,
						   .opaque = d});
	if (rc == 0)
		rc = ms_region_new_alias(&d->alias, v->ctx,
					 &(ms_region_alias_opts){.name = name,
								 .target = mem_root,
								 .offset = 0,
								 .size = ms_region_size(mem_root)});
	if (rc == 0)
		rc = ms_region_set_enabled(d->iommu, false);
	if (rc == 0)
		rc = ms_region_add_subregion(d->root, 0, d->iommu);
	if (rc == 0)
		rc = ms_region_add_subregion(d->root, 0, d->alias);
	if (rc == 0)
		rc = ms_as_new(&d->as, v->ctx, d->root, name);
	if (rc < 0)
		goto fail;
	free(name);
	v->buses[bdf >> 8][bdf & 0xff] = d;
	d->next = v->devices;
	v->devices = d;
	*out = d->as;
	return 0;
fail:
	free(name);
	if (d)
		dev_free(d);
	return rc;
}

ms_region *ms_vtd_device_iommu(ms_vtd *v, uint16_t bdf)
{
	vtd_dev *d = v ? find_dev(v, bdf) : NULL;

	return d ? d->iommu : NULL;
}

int ms_vtd_set_dmar(ms_vtd *v, uint16_t bdf, bool enabled)
{
	vtd_dev *d;
	int rc, first = 0;

	if (!v)
		return -EINVAL;
	d = find_dev(v, bdf);
	if (!d)
		return -ENOENT;
	if (d->dmar == enabled)
		return 0;
	if (!enabled)
		first = unmap_all(d);
	rc = ms_transaction_begin(v->ctx);
	if (rc < 0)
		return rc;
	__atomic_store_n(&d->dmar, enabled, __ATOMIC_RELEASE);
	rc = ms_region_set_enabled(d->iommu, enabled);
	if (rc == 0)
		rc = ms_region_set_enabled(d->alias, !enabled);
	if (rc == 0 && enabled && v->caching_mode) {
		/* Announce before the commit: consumers that appear with it replay. */
		rc = sync_range(d, 0, ((uint64_t)1 << MAX_AW_BITS) - 1);
		if (rc == -E2BIG || rc == -ENOMEM)
			first = first ? first : rc;
		else if (rc < 0 && first == 0)
			first = rc;
		rc = 0;
	}
	if (rc < 0) {
		/* Undo the half-made switch inside the same transaction. */
		__atomic_store_n(&d->dmar, !enabled, __ATOMIC_RELEASE);
		(void)ms_region_set_enabled(d->iommu, !enabled);
		(void)ms_region_set_enabled(d->alias, enabled);
	}
	{
		int crc = ms_transaction_commit(v->ctx);

		if (rc == 0)
			rc = crc;
	}
	return rc < 0 ? rc : first;
}

int ms_vtd_dmar_enabled(ms_vtd *v, uint16_t bdf)
{
	vtd_dev *d;

	if (!v)
		return -EINVAL;
	d = find_dev(v, bdf);
	if (!d)
		return -ENOENT;
	return __atomic_load_n(&d->dmar, __ATOMIC_ACQUIRE) ? 1 : 0;
}

/* Whether device @d belongs to domain @did now, or did at its last walk. */
static bool dev_in_domain(vtd_dev *d, uint16_t did)
{
	vtd_context c;

	if (d->last_did == (int)did)
		return true;
	return resolve_context(&c, d->v, d->bdf) == MS_VTD_FR_NONE && c.did == did;
}

static int invalidate(ms_vtd *v, bool all, uint16_t did, uint64_t lo, uint64_t hi)
{
	int first = 0;

	for (vtd_dev *d = v->devices; d; d = d->next) {
		int rc;

		if (!d->dmar || (!all && !dev_in_domain(d, did)))
			continue;
		rc = invalidate_dev(d, lo, hi);
		if (rc < 0 && (first == 0 || rc == -E2BIG || rc == -ENOMEM))
			first = rc;
	}
	return first;
}

int ms_vtd_invalidate_global(ms_vtd *v)
{
	if (!v)
		return -EINVAL;
	return invalidate(v, true, 0, 0, UINT64_MAX);
}

int ms_vtd_invalidate_domain(ms_vtd *v, uint16_t did)
{
	if (!v)
		return -EINVAL;
	return invalidate(v, false, did, 0, UINT64_MAX);
}

int ms_vtd_invalidate_page(ms_vtd *v, uint16_t did, uint64_t addr, unsigned am)
{
	uint64_t size;

	if (!v || am > MS_VTD_INV_MAX_AM)
		return -EINVAL;
	size = PAGE_SIZE << am;
	if (addr & (size - 1))
		return -EINVAL;
	return invalidate(v, false, did, addr, addr + (size - 1));
}

int ms_vtd_invalidate_dev_iotlb(ms_vtd *v, uint16_t bdf, uint64_t addr, unsigned am)
{
	vtd_dev *d;
	uint64_t size;
	vtd_map m;

	if (!v || am > 52)
		return -EINVAL;
	size = PAGE_SIZE << am;
	if (addr & (size - 1))
		return -EINVAL;
	if (!v->dev_iotlb)
		return -ENOTSUP;
	d = find_dev(v, bdf);
	if (!d)
		return -ENOENT;
	m = (vtd_map){.iova = addr, .size = size};
	return notify_map(d, MS_IOMMU_NOTIFIER_DEVIOTLB_UNMAP, &m);
}

/* ---- faults --------------------------------------------------------------------- */

int ms_vtd_fault_pop(ms_vtd_fault *out, ms_vtd *v)
{
	int rc = -ENOENT;

	if (out)
		memset(out, 0, sizeof(*out));
	if (!out || !v)
		return -EINVAL;
	pthread_mutex_lock(&v->fault_lock);
	if (v->ring_count) {
		*out = v->ring[v->ring_head];
		v->ring_head = (v->ring_head + 1) % v->ring_size;
		v->ring_count--;
		rc = 0;
	}
	pthread_mutex_unlock(&v->fault_lock);
	return rc;
}

int ms_vtd_fault_counts(ms_vtd *v, uint64_t *pending, uint64_t *lost)
{
	if (!v)
		return -EINVAL;
	pthread_mutex_lock(&v->fault_lock);
	if (pending)
		*pending = v->ring_count;
	if (lost)
		*lost = v->lost;
	pthread_mutex_unlock(&v->fault_lock);
	return 0;
}

const char *ms_vtd_fault_reason_name(ms_vtd_fault_reason reason)
{
	static const char *const names[] = {
		[MS_VTD_FR_NONE] = "none",
		[MS_VTD_FR_NO_ROOT_TABLE] = "no-root-table",
		[MS_VTD_FR_ROOT_NOT_PRESENT] = "root-not-present",
		[MS_VTD_FR_ROOT_RESERVED] = "root-reserved",
		[MS_VTD_FR_CONTEXT_NOT_PRESENT] = "context-not-present",
		[MS_VTD_FR_CONTEXT_RESERVED] = "context-reserved",
		[MS_VTD_FR_TABLE_READ] = "table-read",
		[MS_VTD_FR_TABLE_LOOP] = "table-loop",
		[MS_VTD_FR_ADDR_BEYOND_AW] = "addr-beyond-aw",
		[MS_VTD_FR_PTE_NOT_PRESENT] = "pte-not-present",
		[MS_VTD_FR_PTE_RESERVED] = "pte-reserved",
		[MS_VTD_FR_READ_DENIED] = "read-denied",
		[MS_VTD_FR_WRITE_DENIED] = "write-denied",
	};

	if ((unsigned)reason >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[reason];
}

/* ---- guest-side table writer ------------------------------------------------------ */

typedef struct pt_domain {
	uint16_t did;
	unsigned levels;
	uint64_t top;
} pt_domain;

struct ms_vtd_pt {
	ms_as *mem;
	uint64_t pool, pool_size, used;
	pt_domain domains[MS_VTD_PT_MAX_DOMAINS];
	unsigned nr_domains;
};

static const ms_attrs pt_attrs = MS_ATTRS_UNSPECIFIED;

static int pt_alloc(ms_vtd_pt *pt, uint64_t *out)
{
	uint64_t addr;

	if (pt->pool_size - pt->used < PAGE_SIZE)
		return -ENOSPC;
	addr = pt->pool + pt->used;
	if (ms_as_set(pt->mem, addr, table_attrs, 0, PAGE_SIZE) != MS_RESULT_OK)
		return -EFAULT;
	pt->used += PAGE_SIZE;
	*out = addr;
	return 0;
}

static int pt_ld(ms_vtd_pt *pt, uint64_t addr, uint64_t *val)
{
	ms_result res = MS_RESULT_OK;

	*val = ms_as_ldq_le(pt->mem, addr, table_attrs, &res);
	return res == MS_RESULT_OK ? 0 : -EFAULT;
}

static int pt_st(ms_vtd_pt *pt, uint64_t addr, uint64_t val)
{
	return ms_as_stq_le(pt->mem, addr, pt_attrs, val) == MS_RESULT_OK ? 0 : -EFAULT;
}

int ms_vtd_pt_new(ms_vtd_pt **out, ms_as *memory, uint64_t pool, uint64_t pool_size)
{
	ms_vtd_pt *pt;
	uint64_t root;
	int rc;

	if (out)
		*out = NULL;
	if (!out || !memory || (pool & (PAGE_SIZE - 1)) || (pool_size & (PAGE_SIZE - 1)) ||
	    pool_size < PAGE_SIZE || pool_size - 1 > UINT64_MAX - pool ||
	    ((pool + (pool_size - 1)) & ~MS_VTD_ADDR_MASK & ~(PAGE_SIZE - 1)))
		return -EINVAL;
	pt = calloc(1, sizeof(*pt));
	if (!pt)
		return -ENOMEM;
	pt->mem = memory;
	pt->pool = pool;
	pt->pool_size = pool_size;
	rc = pt_alloc(pt, &root);
	if (rc < 0) {
		free(pt);
		return rc;
	}
	*out = pt;
	return 0;
}

void ms_vtd_pt_free(ms_vtd_pt *pt)
{
	free(pt);
}

uint64_t ms_vtd_pt_root(const ms_vtd_pt *pt)
{
	return pt ? pt->pool : 0;
}

uint64_t ms_vtd_pt_used(const ms_vtd_pt *pt)
{
	return pt ? pt->used : 0;
}

static pt_domain *pt_find_domain(ms_vtd_pt *pt, uint16_t did)
{
	for (unsigned i = 0; i < pt->nr_domains; i++)
		if (pt->domains[i].did == did)
			return &pt->domains[i];
	return NULL;
}

int ms_vtd_pt_set_context(ms_vtd_pt *pt, uint16_t bdf, uint16_t did, unsigned aw_bits)
{
	uint64_t root_entry = pt ? pt->pool + (uint64_t)(bdf >> 8) * 16 : 0, lo, ctp;
	unsigned levels = aw_bits == 39 ? 3 : aw_bits == 48 ? 4 : 0;
	pt_domain *dom;
	int rc;

	if (!pt || !levels)
		return -EINVAL;
	dom = pt_find_domain(pt, did);
	if (dom && dom->levels != levels)
		return -EINVAL;
	if (!dom) {
		uint64_t top;

		if (pt->nr_domains == MS_VTD_PT_MAX_DOMAINS)
			return -ENOSPC;
		rc = pt_alloc(pt, &top);
		if (rc < 0)
			return rc;
		dom = &pt->domains[pt->nr_domains++];
		*dom = (pt_domain){.did = did, .levels = levels, .top = top};
	}
	rc = pt_ld(pt, root_entry, &lo);
	if (rc < 0)
		return rc;
	if (lo & MS_VTD_PRESENT) {
		ctp = lo & MS_VTD_ADDR_MASK;
	} else {
		rc = pt_alloc(pt, &ctp);
		if (rc == 0)
			rc = pt_st(pt, root_entry + 8, 0);
		if (rc == 0)
			rc = pt_st(pt, root_entry, ctp | MS_VTD_PRESENT);
		if (rc < 0)
			return rc;
	}
	ctp += (uint64_t)(bdf & 0xff) * 16;
	rc = pt_st(pt, ctp + 8,
		   (levels == 3 ? MS_VTD_CTX_AW_39 : MS_VTD_CTX_AW_48) |
			   ((uint64_t)did << MS_VTD_CTX_DID_SHIFT));
	if (rc == 0)
		rc = pt_st(pt, ctp, dom->top | MS_VTD_PRESENT);
	return rc;
}

int ms_vtd_pt_clear_context(ms_vtd_pt *pt, uint16_t bdf)
{
	uint64_t lo;
	int rc;

	if (!pt)
		return -EINVAL;
	rc = pt_ld(pt, pt->pool + (uint64_t)(bdf >> 8) * 16, &lo);
	if (rc < 0 || !(lo & MS_VTD_PRESENT))
		return rc;
	return pt_st(pt, (lo & MS_VTD_ADDR_MASK) + (uint64_t)(bdf & 0xff) * 16, 0);
}

/* Write one leaf of level @leaf_level for @iova, creating directories. */
static int pt_map_one(ms_vtd_pt *pt, const pt_domain *dom, uint64_t iova, uint64_t gpa,
		      uint64_t perm, unsigned leaf_level)
{
	uint64_t table = dom->top;

	for (unsigned level = dom->levels;; level--) {
		uint64_t slot = table + ((iova >> level_shift(level)) & (TABLE_ENTRIES - 1)) * 8;
		uint64_t pte;
		int rc = pt_ld(pt, slot, &pte);

		if (rc < 0)
			return rc;
		if (level == leaf_level) {
			if ((pte & MS_VTD_PTE_RW) && level > 1 && !(pte & MS_VTD_PTE_PS))
				return -EBUSY; /* a directory is there */
			return pt_st(pt, slot, gpa | perm | (level > 1 ? MS_VTD_PTE_PS : 0));
		}
		if (pte & MS_VTD_PTE_RW) {
			if (pte & MS_VTD_PTE_PS)
				return -EBUSY; /* a larger page is there */
			table = pte & MS_VTD_ADDR_MASK;
			continue;
		}
		rc = pt_alloc(pt, &table);
		if (rc == 0)
			rc = pt_st(pt, slot, table | MS_VTD_PTE_RW);
		if (rc < 0)
			return rc;
	}
}

int ms_vtd_pt_map(ms_vtd_pt *pt, uint16_t did, uint64_t iova, uint64_t gpa, uint64_t size,
		  uint64_t perm, uint64_t page_size)
{
	unsigned leaf_level = page_size == PAGE_SIZE           ? 1
			      : page_size == (PAGE_SIZE << 9)  ? 2
			      : page_size == (PAGE_SIZE << 18) ? 3
							       : 0;
	const pt_domain *dom;
	uint64_t aw_size;

	if (!pt || !leaf_level || !perm || (perm & ~MS_VTD_PTE_RW))
		return -EINVAL;
	dom = pt_find_domain(pt, did);
	if (!dom)
		return -EINVAL;
	aw_size = (uint64_t)1 << (dom->levels == 3 ? 39 : 48);
	if (!size || (size & (page_size - 1)) || (iova & (page_size - 1)) ||
	    (gpa & (page_size - 1)) || iova >= aw_size || size > aw_size - iova ||
	    (gpa & ~MS_VTD_ADDR_MASK) || size - 1 > (MS_VTD_ADDR_MASK | (PAGE_SIZE - 1)) - gpa)
		return -EINVAL;
	for (uint64_t off = 0; off < size; off += page_size) {
		int rc = pt_map_one(pt, dom, iova + off, gpa + off, perm, leaf_level);

		if (rc < 0)
			return rc;
	}
	return 0;
}

int ms_vtd_pt_unmap(ms_vtd_pt *pt, uint16_t did, uint64_t iova, uint64_t size)
{
	const pt_domain *dom;
	uint64_t last, a;

	if (!pt || !size || size - 1 > UINT64_MAX - iova)
		return -EINVAL;
	dom = pt_find_domain(pt, did);
	if (!dom)
		return -EINVAL;
	last = iova + (size - 1);
	if (last >> (dom->levels == 3 ? 39 : 48))
		last = ((uint64_t)1 << (dom->levels == 3 ? 39 : 48)) - 1;
	a = iova;
	while (a <= last) {
		uint64_t table = dom->top, span = 0;

		for (unsigned level = dom->levels; level >= 1; level--) {
			uint64_t slot =
				table + ((a >> level_shift(level)) & (TABLE_ENTRIES - 1)) * 8;
			uint64_t pte;
			int rc = pt_ld(pt, slot, &pte);

			if (rc < 0)
				return rc;
			span = (uint64_t)1 << level_shift(level);
			if (!(pte & MS_VTD_PTE_RW))
				break;
			if (level == 1 || (pte & MS_VTD_PTE_PS)) {
				rc = pt_st(pt, slot, 0);
				if (rc < 0)
					return rc;
				break;
			}
			table = pte & MS_VTD_ADDR_MASK;
		}
		a = (a & ~(span - 1)) + span;
		if (a == 0)
			break;
	}
	return 0;
}
