/*
 * memspace CLI: the built-in IOMMU model (see iommu_model.h).
 *
 * The page table is one array sorted by (index, IOVA) with no overlap
 * within an index. An update builds the new array off to the side and
 * swaps it in before it announces anything, so an allocation failure
 * changes nothing and notifiers always see the table they are told about.
 *
 * SPDX-License-Identifier: MIT
 */
#include "iommu_model.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

struct mapping {
	unsigned idx;
	uint64_t iova, size, addr;
	ms_iommu_perm perm;
};

struct msc_iommu {
	ms_region *region; /* not owned */
	char *name;
	ms_as *target;
	uint64_t page;
	unsigned nr_indexes;
	unsigned (*notifier_index)(ms_iommu_notifier *n, void *arg);
	void *arg;
	struct mapping *maps; /* sorted by (idx, iova); no overlap within an index */
	size_t nr_maps;
};

/* The block of a mapping that starts at @iova -> @addr with @remaining bytes left. */
static uint64_t block_size(uint64_t iova, uint64_t addr, uint64_t remaining)
{
	uint64_t b = (uint64_t)1 << (63 - __builtin_clzll(remaining));
	uint64_t a = iova | addr;

	if (a && (a & -a) < b)
		b = a & -a;
	return b;
}

uint64_t msc_iommu_blocks(uint64_t iova, uint64_t addr, uint64_t size, uint64_t limit)
{
	uint64_t n = 0;

	while (size && n <= limit) {
		uint64_t b = block_size(iova, addr, size);

		iova += b;
		addr += b;
		size -= b;
		n++;
	}
	return n;
}

static int cmp_key(unsigned idx_a, uint64_t iova_a, unsigned idx_b, uint64_t iova_b)
{
	if (idx_a != idx_b)
		return idx_a < idx_b ? -1 : 1;
	return iova_a < iova_b ? -1 : iova_a > iova_b;
}

static int cmp_map(const void *a, const void *b)
{
	const struct mapping *x = a, *y = b;

	return cmp_key(x->idx, x->iova, y->idx, y->iova);
}

static const struct mapping *lookup(const msc_iommu *m, unsigned idx, uint64_t addr)
{
	size_t lo = 0, hi = m->nr_maps;

	/* The first mapping whose key is above (idx, addr). */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cmp_key(m->maps[mid].idx, m->maps[mid].iova, idx, addr) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	if (m->maps[lo - 1].idx != idx || addr - m->maps[lo - 1].iova >= m->maps[lo - 1].size)
		return NULL;
	return &m->maps[lo - 1];
}

static void model_translate(ms_iotlb_entry *out, ms_region *iommu, uint64_t addr,
			    ms_iommu_perm flags, unsigned idx, void *opaque)
{
	const msc_iommu *m = opaque;
	const struct mapping *e = lookup(m, idx, addr);
	uint64_t pos, a, rem, b;

	(void)iommu;
	(void)flags;
	memset(out, 0, sizeof(*out));
	out->target_as = m->target;
	if (!e) {
		out->iova = addr & ~(m->page - 1);
		out->addr_mask = m->page - 1;
		out->perm = MS_IOMMU_NONE;
		return;
	}
	pos = e->iova;
	a = e->addr;
	rem = e->size;
	for (;;) {
		b = block_size(pos, a, rem);
		if (addr - pos < b)
			break;
		pos += b;
		a += b;
		rem -= b;
	}
	out->iova = pos;
	out->translated_addr = a;
	out->addr_mask = b - 1;
	out->perm = e->perm;
}

static uint64_t model_page(ms_region *iommu, void *opaque)
{
	(void)iommu;
	return ((const msc_iommu *)opaque)->page;
}

static unsigned model_indexes(ms_region *iommu, void *opaque)
{
	(void)iommu;
	return ((const msc_iommu *)opaque)->nr_indexes;
}

/* Index 1 for secure transactions when there are two or more indexes. */
static unsigned model_attrs_to_index(ms_region *iommu, ms_attrs attrs, void *opaque)
{
	(void)iommu;
	return attrs.secure && ((const msc_iommu *)opaque)->nr_indexes > 1 ? 1 : 0;
}

/* Announce @e in blocks, to every notifier (@n NULL) or to @n alone. */
static int announce(msc_iommu *m, ms_iommu_notifier *n, unsigned type, const struct mapping *e)
{
	uint64_t pos = e->iova, a = e->addr, rem = e->size;
	int first = 0, rc;

	while (rem) {
		uint64_t b = block_size(pos, a, rem);
		ms_iommu_event ev = {type,
				     {m->target, pos, a, b - 1,
				      type == MS_IOMMU_NOTIFIER_MAP ? e->perm : MS_IOMMU_NONE}};

		rc = n ? ms_iommu_notify_one(n, &ev) : ms_iommu_notify(m->region, e->idx, &ev);
		if (rc && !first)
			first = rc;
		if (rc && n)
			return rc; /* replay stops at the first failure */
		pos += b;
		a += b;
		rem -= b;
	}
	return first;
}

static int model_replay(ms_region *iommu, ms_iommu_notifier *n, void *opaque)
{
	msc_iommu *m = opaque;
	unsigned idx = m->notifier_index ? m->notifier_index(n, m->arg) : UINT_MAX;
	size_t i;
	int rc;

	(void)iommu;
	if (idx == UINT_MAX)
		return -EINVAL;
	for (i = 0; i < m->nr_maps; i++) {
		if (m->maps[i].idx != idx)
			continue;
		rc = announce(m, n, MS_IOMMU_NOTIFIER_MAP, &m->maps[i]);
		if (rc)
			return rc;
	}
	return 0;
}

static const ms_iommu_ops model_ops = {
	.version = MS_IOMMU_OPS_VERSION,
	.translate = model_translate,
	.get_min_page_size = model_page,
	.replay = model_replay,
	.attrs_to_index = model_attrs_to_index,
	.num_indexes = model_indexes,
};

int msc_iommu_new(msc_iommu **out, ms_region **region, ms_ctx *ctx, const msc_iommu_config *cfg)
{
	msc_iommu *m = calloc(1, sizeof(*m));
	int rc;

	*out = NULL;
	*region = NULL;
	if (!m)
		return -ENOMEM;
	m->name = strdup(cfg->name);
	if (!m->name) {
		free(m);
		return -ENOMEM;
	}
	m->target = cfg->target;
	m->page = cfg->page;
	m->nr_indexes = cfg->nr_indexes;
	m->notifier_index = cfg->notifier_index;
	m->arg = cfg->arg;
	rc = ms_iommu_new(
		region, ctx,
		&(ms_iommu_opts){
			.name = cfg->name, .size = cfg->size, .ops = &model_ops, .opaque = m});
	if (rc) {
		free(m->name);
		free(m);
		return rc;
	}
	m->region = *region;
	*out = m;
	return 0;
}

void msc_iommu_free(msc_iommu *m)
{
	if (!m)
		return;
	free(m->maps);
	free(m->name);
	free(m);
}

const char *msc_iommu_name(const msc_iommu *m)
{
	return m->name;
}

ms_as *msc_iommu_target(const msc_iommu *m)
{
	return m->target;
}

uint64_t msc_iommu_page(const msc_iommu *m)
{
	return m->page;
}

unsigned msc_iommu_nr_indexes(const msc_iommu *m)
{
	return m->nr_indexes;
}

size_t msc_iommu_nr_entries(const msc_iommu *m)
{
	return m->nr_maps;
}

uint64_t msc_iommu_pages(const msc_iommu *m)
{
	uint64_t n = 0;

	for (size_t i = 0; i < m->nr_maps; i++)
		n += m->maps[i].size / m->page;
	return n;
}

static bool overlaps(const struct mapping *e, unsigned idx, uint64_t iova, uint64_t size)
{
	if (e->idx != idx)
		return false;
	return e->iova >= iova ? e->iova - iova < size : iova - e->iova < e->size;
}

size_t msc_iommu_entries_after(const msc_iommu *m, unsigned idx, uint64_t iova, uint64_t size,
			       bool map)
{
	size_t i, n = map ? 1 : 0;

	for (i = 0; i < m->nr_maps; i++) {
		const struct mapping *e = &m->maps[i];

		if (!overlaps(e, idx, iova, size)) {
			n++;
			continue;
		}
		n += e->iova < iova;                              /* a piece on the left */
		n += e->iova + (e->size - 1) > iova + (size - 1); /* a piece on the right */
	}
	return n;
}

int msc_iommu_update(msc_iommu *m, unsigned idx, uint64_t iova, uint64_t size, uint64_t addr,
		     ms_iommu_perm perm)
{
	size_t cap = m->nr_maps + 2, n = 0, nr_removed = 0, i;
	uint64_t last = iova + (size - 1);
	struct mapping *maps = malloc(cap * sizeof(*maps));
	struct mapping *removed = malloc((m->nr_maps ? m->nr_maps : 1) * sizeof(*removed));
	int first = 0, rc;

	if (!maps || !removed) {
		free(maps);
		free(removed);
		return -ENOMEM;
	}
	for (i = 0; i < m->nr_maps; i++) {
		const struct mapping *e = &m->maps[i];
		uint64_t e_last = e->iova + (e->size - 1), lo, hi;

		if (!overlaps(e, idx, iova, size)) {
			maps[n++] = *e;
			continue;
		}
		if (e->iova < iova) {
			maps[n] = *e;
			maps[n++].size = iova - e->iova;
		}
		if (e_last > last) {
			maps[n] = *e;
			maps[n].iova = last + 1;
			maps[n].addr = e->addr + (last + 1 - e->iova);
			maps[n++].size = e_last - last;
		}
		lo = e->iova > iova ? e->iova : iova;
		hi = e_last < last ? e_last : last;
		removed[nr_removed] = *e;
		removed[nr_removed].iova = lo;
		removed[nr_removed].addr = e->addr + (lo - e->iova);
		removed[nr_removed++].size = hi - lo + 1;
	}
	if (perm != MS_IOMMU_NONE)
		maps[n++] = (struct mapping){idx, iova, size, addr, perm};
	qsort(maps, n, sizeof(*maps), cmp_map);
	free(m->maps);
	m->maps = maps;
	m->nr_maps = n;

	for (i = 0; i < nr_removed; i++) {
		rc = announce(m, NULL, MS_IOMMU_NOTIFIER_UNMAP, &removed[i]);
		if (rc && !first)
			first = rc;
	}
	free(removed);
	if (perm != MS_IOMMU_NONE) {
		struct mapping e = {idx, iova, size, addr, perm};

		rc = announce(m, NULL, MS_IOMMU_NOTIFIER_MAP, &e);
		if (rc && !first)
			first = rc;
	}
	return first;
}

int msc_iommu_invalidate(msc_iommu *m, unsigned idx, uint64_t iova, uint64_t size)
{
	ms_iommu_event ev = {MS_IOMMU_NOTIFIER_DEVIOTLB_UNMAP,
			     {m->target, iova, 0, size - 1, MS_IOMMU_NONE}};

	return ms_iommu_notify(m->region, idx, &ev);
}
