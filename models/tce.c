/*
 * tce.c: the sPAPR TCE table IOMMU (include/memspace/models/tce.h), built
 * only on the public API.
 *
 * A window is an array of 64-bit TCEs, one per page, plus a two-level
 * presence bitmap (bit per entry, and a summary bit per 64-bit word of
 * it) so that replay visits the present entries only: its cost is the
 * number of present entries plus nr_entries / 4096 summary words.
 * Invariants (checked by tce_window_check() in debug builds): an entry is
 * present iff it has a permission bit, iff its presence bit is set;
 * a summary bit is set iff its word of presence bits is non-zero;
 * nr_present counts the present entries; a cleared entry is exactly 0.
 *
 * Translation reads the entries lock-free (atomic loads), as do
 * ms_tce_get() and replay; everything that writes is serialised by the
 * caller (tce.h). A removed window's memory is kept until the table is
 * freed, because an RCU reader may still translate through a view that
 * shows it; its region answers "no mapping" from the removal on.
 *
 * SPDX-License-Identifier: MIT
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <memspace.h>
#include <memspace/models/tce.h>

typedef struct tce_window tce_window;

struct tce_window {
	ms_tce_table *table;
	ms_region *region; /* our reference, dropped at table free */
	tce_window *next_retired;
	uint64_t bus_offset;
	uint64_t size;
	uint64_t nr_entries;
	uint64_t nr_present;
	unsigned page_shift;
	bool live;         /* false once removed: translate answers no mapping */
	uint64_t *entries; /* nr_entries TCEs */
	uint64_t *present; /* bit per entry */
	uint64_t *summary; /* bit per word of present */
};

struct ms_tce_table {
	ms_ctx *ctx;
	ms_as *target;
	ms_region *root;
	char *name;
	tce_window *windows[MS_TCE_MAX_WINDOWS];
	tce_window *retired; /* removed windows, freed with the table */
};

static uint64_t page_size(const tce_window *w)
{
	return (uint64_t)1 << w->page_shift;
}

static uint64_t load_entry(const tce_window *w, uint64_t index)
{
	return __atomic_load_n(&w->entries[index], __ATOMIC_ACQUIRE);
}

static bool tce_present(uint64_t tce)
{
	return (tce & MS_TCE_RW) != 0;
}

static ms_iommu_perm tce_perm(uint64_t tce)
{
	return (ms_iommu_perm)(((tce & MS_TCE_READ) ? MS_IOMMU_RO : 0) |
			       ((tce & MS_TCE_WRITE) ? MS_IOMMU_WO : 0));
}

/* The IOTLB entry of page @index holding @tce (no permission when cleared). */
static ms_iotlb_entry entry_of(const tce_window *w, uint64_t index, uint64_t tce)
{
	ms_iotlb_entry e;

	memset(&e, 0, sizeof(e));
	e.iova = index << w->page_shift;
	e.addr_mask = page_size(w) - 1;
	e.perm = tce_perm(tce);
	if (e.perm != MS_IOMMU_NONE) {
		e.target_as = w->table->target;
		e.translated_addr = tce & ~e.addr_mask;
	}
	return e;
}

#ifndef NDEBUG
static void tce_window_check(const tce_window *w)
{
	uint64_t count = 0;

	for (uint64_t word = 0; word < (w->nr_entries + 63) / 64; word++) {
		bool summary = (w->summary[word / 64] >> (word % 64)) & 1;

		assert(summary == (w->present[word] != 0));
		for (unsigned bit = 0; bit < 64 && word * 64 + bit < w->nr_entries; bit++) {
			uint64_t tce = w->entries[word * 64 + bit];
			bool present = (w->present[word] >> bit) & 1;

			assert(present == tce_present(tce));
			assert(present || tce == 0);
			count += present;
		}
	}
	assert(count == w->nr_present);
}
#endif

/* Store @tce in entry @index, keeping the bitmaps and the count exact. */
static void store_entry(tce_window *w, uint64_t index, uint64_t tce)
{
	uint64_t word = index / 64, bit = (uint64_t)1 << (index % 64);
	bool was = (w->present[word] & bit) != 0, now = tce_present(tce);

	if (!now)
		tce = 0;
	__atomic_store_n(&w->entries[index], tce, __ATOMIC_RELEASE);
	if (was == now)
		return;
	if (now) {
		w->present[word] |= bit;
		w->summary[word / 64] |= (uint64_t)1 << (word % 64);
		__atomic_add_fetch(&w->nr_present, 1, __ATOMIC_RELAXED);
	} else {
		w->present[word] &= ~bit;
		if (!w->present[word])
			w->summary[word / 64] &= ~((uint64_t)1 << (word % 64));
		__atomic_sub_fetch(&w->nr_present, 1, __ATOMIC_RELAXED);
	}
}

static int notify(tce_window *w, ms_iommu_notifier_flags type, uint64_t index, uint64_t tce)
{
	ms_iommu_event ev;

	ev.type = type;
	ev.entry = entry_of(w, index, type == MS_IOMMU_NOTIFIER_MAP ? tce : 0);
	if (type != MS_IOMMU_NOTIFIER_MAP)
		ev.entry.translated_addr = tce & ~ev.entry.addr_mask;
	return ms_iommu_notify(w->region, 0, &ev);
}

/*
 * Change entry @index to @tce and announce it. When a consumer refuses the
 * MAP, the old entry is put back and that too is announced (UNMAP of the
 * refused entry, for the consumers that took it, then MAP of the old one).
 * UNMAP failures cannot be undone and are not reported: the entry is gone
 * whatever a consumer says.
 */
static int set_entry(tce_window *w, uint64_t index, uint64_t tce)
{
	uint64_t old = load_entry(w, index);
	int rc;

	if (!tce_present(tce))
		tce = 0;
	if (old == tce)
		return 0;
	store_entry(w, index, tce);
	if (tce_present(old))
		(void)notify(w, MS_IOMMU_NOTIFIER_UNMAP, index, old);
	if (!tce_present(tce))
		return 0;
	rc = notify(w, MS_IOMMU_NOTIFIER_MAP, index, tce);
	if (rc < 0) {
		store_entry(w, index, old);
		(void)notify(w, MS_IOMMU_NOTIFIER_UNMAP, index, tce);
		if (tce_present(old))
			(void)notify(w, MS_IOMMU_NOTIFIER_MAP, index, old);
	}
	return rc;
}

/* ---- the IOMMU class ------------------------------------------------------------ */

static void tce_translate(ms_iotlb_entry *out, ms_region *iommu, uint64_t addr, ms_iommu_perm flags,
			  unsigned iommu_idx, void *opaque)
{
	tce_window *w = opaque;
	uint64_t index = addr >> w->page_shift;

	(void)iommu;
	(void)flags;
	(void)iommu_idx;
	if (!__atomic_load_n(&w->live, __ATOMIC_ACQUIRE) || index >= w->nr_entries) {
		memset(out, 0, sizeof(*out));
		out->iova = addr & ~(page_size(w) - 1);
		out->addr_mask = page_size(w) - 1;
		return;
	}
	*out = entry_of(w, index, load_entry(w, index));
}

static uint64_t tce_min_page_size(ms_region *iommu, void *opaque)
{
	(void)iommu;
	return page_size(opaque);
}

/* QEMU's sPAPR IOMMU cannot send device-IOTLB invalidations: refuse them. */
static int tce_notify_flag_changed(ms_region *iommu, ms_iommu_notifier_flags old_flags,
				   ms_iommu_notifier_flags new_flags, void *opaque)
{
	(void)iommu;
	(void)old_flags;
	(void)opaque;
	return (new_flags & MS_IOMMU_NOTIFIER_DEVIOTLB_UNMAP) ? -EINVAL : 0;
}

/*
 * Walk the summary words, then the presence words they point at: the loop
 * visits nr_entries / 4096 summary words plus one step per present entry.
 */
static int tce_replay(ms_region *iommu, ms_iommu_notifier *n, void *opaque)
{
	tce_window *w = opaque;
	uint64_t nr_words = (w->nr_entries + 63) / 64;

	(void)iommu;
	if (!__atomic_load_n(&w->live, __ATOMIC_ACQUIRE))
		return 0;
	for (uint64_t s = 0; s < (nr_words + 63) / 64; s++) {
		uint64_t sbits = __atomic_load_n(&w->summary[s], __ATOMIC_ACQUIRE);

		while (sbits) {
			uint64_t word = s * 64 + (uint64_t)__builtin_ctzll(sbits);
			uint64_t bits = __atomic_load_n(&w->present[word], __ATOMIC_ACQUIRE);

			sbits &= sbits - 1;
			while (bits) {
				uint64_t index = word * 64 + (uint64_t)__builtin_ctzll(bits);
				uint64_t tce = load_entry(w, index);
				ms_iommu_event ev;
				int rc;

				bits &= bits - 1;
				if (!tce_present(tce))
					continue; /* cleared meanwhile */
				ev.type = MS_IOMMU_NOTIFIER_MAP;
				ev.entry = entry_of(w, index, tce);
				rc = ms_iommu_notify_one(n, &ev);
				if (rc < 0)
					return rc;
			}
		}
	}
	return 0;
}

static void window_info(ms_tce_table_info *out, const tce_window *w)
{
	out->window_start = w->bus_offset;
	out->window_size = w->size;
	out->page_shift = w->page_shift;
	out->page_sizes = MS_TCE_PAGE_SIZES;
	out->nr_entries = w->nr_entries;
	out->nr_present = __atomic_load_n(&w->nr_present, __ATOMIC_RELAXED);
}

static int tce_get_attr(ms_region *iommu, ms_iommu_attr attr, void *data, void *opaque)
{
	(void)iommu;
	if (attr != MS_TCE_ATTR_TABLE_INFO)
		return -EINVAL; /* no in-kernel table: MS_IOMMU_ATTR_SPAPR_TCE_FD too */
	window_info(data, opaque);
	return 0;
}

static const ms_iommu_ops tce_iommu_ops = {
	.version = MS_IOMMU_OPS_VERSION,
	.translate = tce_translate,
	.get_min_page_size = tce_min_page_size,
	.notify_flag_changed = tce_notify_flag_changed,
	.replay = tce_replay,
	.get_attr = tce_get_attr,
};

/* ---- table and windows ---------------------------------------------------------- */

int ms_tce_new(ms_tce_table **out, ms_ctx *ctx, const char *name, ms_as *target)
{
	ms_tce_table *t;
	int rc;

	if (out)
		*out = NULL;
	if (!out || !ctx || !name || !target || ms_as_ctx(target) != ctx)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->name = strdup(name);
	if (!t->name) {
		free(t);
		return -ENOMEM;
	}
	rc = ms_region_new_container(&t->root, ctx, name, MS_SIZE_2_64);
	if (rc < 0) {
		free(t->name);
		free(t);
		return rc;
	}
	t->ctx = ctx;
	t->target = target;
	*out = t;
	return 0;
}

static void window_free(tce_window *w)
{
	ms_region_unref(w->region);
	free(w->entries);
	free(w->present);
	free(w->summary);
	free(w);
}

void ms_tce_free(ms_tce_table *t)
{
	if (!t)
		return;
	for (unsigned i = 0; i < MS_TCE_MAX_WINDOWS; i++)
		if (t->windows[i])
			(void)ms_tce_window_remove(t, i);
	while (t->retired) {
		tce_window *w = t->retired;

		t->retired = w->next_retired;
		window_free(w);
	}
	ms_region_unref(t->root);
	free(t->name);
	free(t);
}

ms_region *ms_tce_root(ms_tce_table *t)
{
	return t ? t->root : NULL;
}

static bool valid_page_shift(unsigned shift)
{
	return shift < 64 && ((MS_TCE_PAGE_SIZES >> shift) & 1);
}

int ms_tce_window_create(ms_tce_table *t, uint64_t bus_offset, uint64_t size, unsigned page_shift)
{
	uint64_t psize, nr_entries, nr_words;
	unsigned slot = MS_TCE_MAX_WINDOWS;
	tce_window *w;
	char *rname;
	int rc;

	if (!t || !valid_page_shift(page_shift))
		return -EINVAL;
	psize = (uint64_t)1 << page_shift;
	if (size == 0 || (size & (psize - 1)) || (bus_offset & (psize - 1)) ||
	    size - 1 > UINT64_MAX - bus_offset)
		return -EINVAL;
	nr_entries = size >> page_shift;
	if (nr_entries > MS_TCE_MAX_ENTRIES)
		return -E2BIG;
	for (unsigned i = 0; i < MS_TCE_MAX_WINDOWS; i++) {
		tce_window *o = t->windows[i];

		if (!o) {
			if (slot == MS_TCE_MAX_WINDOWS)
				slot = i;
			continue;
		}
		/* Inclusive ends: a window may end at 2^64 - 1. */
		if (bus_offset <= o->bus_offset + (o->size - 1) &&
		    o->bus_offset <= bus_offset + (size - 1))
			return -EBUSY;
	}
	if (slot == MS_TCE_MAX_WINDOWS)
		return -EBUSY;

	nr_words = (nr_entries + 63) / 64;
	w = calloc(1, sizeof(*w));
	rname = malloc(strlen(t->name) + 16);
	if (!w || !rname)
		goto nomem;
	w->entries = calloc(nr_entries, sizeof(*w->entries));
	w->present = calloc(nr_words, sizeof(*w->present));
	w->summary = calloc((nr_words + 63) / 64, sizeof(*w->summary));
	if (!w->entries || !w->present || !w->summary)
		goto nomem;
	w->table = t;
	w->bus_offset = bus_offset;
	w->size = size;
	w->nr_entries = nr_entries;
	w->page_shift = page_shift;
	w->live = true;
	sprintf(rname, "%s.window%u", t->name, slot);
	rc = ms_iommu_new(
		&w->region, t->ctx,
		&(ms_iommu_opts){.name = rname, .size = size, .ops = &tce_iommu_ops, .opaque = w});
	free(rname);
	rname = NULL;
	if (rc < 0)
		goto fail;
	rc = ms_region_add_subregion(t->root, bus_offset, w->region);
	if (rc < 0)
		goto fail;
	t->windows[slot] = w;
	return (int)slot;
nomem:
	rc = -ENOMEM;
fail:
	free(rname);
	if (w)
		window_free(w);
	return rc;
}

int ms_tce_window_remove(ms_tce_table *t, unsigned index)
{
	tce_window *w;
	int rc;

	if (!t)
		return -EINVAL;
	if (index >= MS_TCE_MAX_WINDOWS || !t->windows[index])
		return -ENOENT;
	w = t->windows[index];
	/* Clear every present entry, each with its UNMAP. */
	for (uint64_t word = 0; word < (w->nr_entries + 63) / 64; word++) {
		while (w->present[word]) {
			uint64_t i = word * 64 + (uint64_t)__builtin_ctzll(w->present[word]);

			(void)set_entry(w, i, 0);
		}
	}
	__atomic_store_n(&w->live, false, __ATOMIC_RELEASE);
	/*
	 * A failed commit (-ENOMEM, -E2BIG, or -ELOOP while the topology holds a
	 * loop, as a transaction left open with one can) keeps the change in
	 * the tree: the region is out of it, and views not yet re-rendered keep
	 * it translating nothing (live is false).
	 */
	rc = ms_region_del_subregion(t->root, w->region);
	(void)rc;
	t->windows[index] = NULL;
	w->next_retired = t->retired;
	t->retired = w;
	return 0;
}

int ms_tce_window_info(ms_tce_table_info *out, ms_tce_table *t, unsigned index)
{
	tce_window *w;

	if (out)
		memset(out, 0, sizeof(*out));
	if (!out || !t)
		return -EINVAL;
	w = index < MS_TCE_MAX_WINDOWS ? __atomic_load_n(&t->windows[index], __ATOMIC_ACQUIRE)
				       : NULL;
	if (!w)
		return -ENOENT;
	window_info(out, w);
	return 0;
}

ms_region *ms_tce_window_region(ms_tce_table *t, unsigned index)
{
	tce_window *w;

	if (!t || index >= MS_TCE_MAX_WINDOWS)
		return NULL;
	w = __atomic_load_n(&t->windows[index], __ATOMIC_ACQUIRE);
	return w ? w->region : NULL;
}

/* ---- hypercalls ----------------------------------------------------------------- */

/* The window holding @npages pages from @ioba, and the first page's index. */
static int find_pages(tce_window **out, uint64_t *index, ms_tce_table *t, uint64_t ioba,
		      uint64_t npages)
{
	for (unsigned i = 0; i < MS_TCE_MAX_WINDOWS; i++) {
		tce_window *w = __atomic_load_n(&t->windows[i], __ATOMIC_ACQUIRE);
		uint64_t first;

		if (!w || ioba < w->bus_offset || ioba - w->bus_offset > w->size - 1)
			continue;
		if (ioba & (page_size(w) - 1))
			return -EINVAL;
		first = (ioba - w->bus_offset) >> w->page_shift;
		if (npages == 0 || npages > w->nr_entries - first)
			return -EINVAL;
		*out = w;
		*index = first;
		return 0;
	}
	return -EINVAL;
}

/* Reserved bits clear and, for a present TCE, the whole page inside the target. */
static int check_tce(const tce_window *w, uint64_t tce)
{
	uint64_t mask = page_size(w) - 1, addr = tce & ~mask, target_size;

	if (!tce_present(tce))
		return 0;
	if (tce & mask & ~MS_TCE_RW)
		return -EINVAL;
	target_size = ms_region_size(ms_as_root(w->table->target));
	if (target_size != MS_SIZE_2_64 &&
	    (target_size < page_size(w) || addr > target_size - page_size(w)))
		return -EINVAL;
	return 0;
}

/* Set entries [index, index + n) to @tces (or @tces[0] for all when !step); undo on error. */
static int set_entries(tce_window *w, uint64_t index, const uint64_t *tces, bool step, uint64_t n)
{
	uint64_t *old = malloc(n * sizeof(*old));
	int rc = 0;

	if (!old)
		return -ENOMEM;
	for (uint64_t i = 0; i < n; i++)
		old[i] = load_entry(w, index + i);
	for (uint64_t i = 0; i < n; i++) {
		rc = set_entry(w, index + i, tces[step ? i : 0]);
		if (rc < 0) {
			while (i-- > 0)
				(void)set_entry(w, index + i, old[i]);
			break;
		}
	}
	free(old);
#ifndef NDEBUG
	if (w->nr_entries <= 4096)
		tce_window_check(w);
#endif
	return rc;
}

int ms_tce_put(ms_tce_table *t, uint64_t ioba, uint64_t tce)
{
	tce_window *w;
	uint64_t index;
	int rc;

	if (!t)
		return -EINVAL;
	rc = find_pages(&w, &index, t, ioba, 1);
	if (rc == 0)
		rc = check_tce(w, tce);
	if (rc == 0)
		rc = set_entry(w, index, tce);
	return rc;
}

int ms_tce_stuff(ms_tce_table *t, uint64_t ioba, uint64_t tce, uint64_t npages)
{
	tce_window *w;
	uint64_t index;
	int rc;

	if (!t)
		return -EINVAL;
	rc = find_pages(&w, &index, t, ioba, npages);
	if (rc == 0)
		rc = check_tce(w, tce);
	if (rc == 0)
		rc = set_entries(w, index, &tce, false, npages);
	return rc;
}

int ms_tce_put_indirect(ms_tce_table *t, uint64_t ioba, uint64_t list_addr, unsigned n)
{
	uint8_t raw[MS_TCE_INDIRECT_MAX * 8];
	uint64_t tces[MS_TCE_INDIRECT_MAX];
	tce_window *w;
	uint64_t index;
	int rc;

	if (!t || n == 0 || n > MS_TCE_INDIRECT_MAX || (list_addr & 0xfff))
		return -EINVAL;
	rc = find_pages(&w, &index, t, ioba, n);
	if (rc < 0)
		return rc;
	if (ms_as_read(t->target, list_addr, MS_ATTRS_UNSPECIFIED, raw, (size_t)n * 8) !=
	    MS_RESULT_OK)
		return -EFAULT;
	for (unsigned i = 0; i < n; i++) {
		uint64_t v = 0;

		for (unsigned b = 0; b < 8; b++)
			v = v << 8 | raw[i * 8 + b];
		tces[i] = v;
		rc = check_tce(w, v);
		if (rc < 0)
			return rc;
	}
	return set_entries(w, index, tces, true, n);
}

int ms_tce_get(uint64_t *out, ms_tce_table *t, uint64_t ioba)
{
	tce_window *w;
	uint64_t index;
	int rc;

	if (out)
		*out = 0;
	if (!out || !t)
		return -EINVAL;
	rc = find_pages(&w, &index, t, ioba, 1);
	if (rc < 0)
		return rc;
	*out = load_entry(w, index);
	return 0;
}
