/*
 * test_iommu_support.h: a small IOMMU for the unit tests (not a test itself).
 *
 * The IOMMU translates through a page table in a C array: per translation
 * index, PT_PAGES entries {target address, permission}, pages of
 * t->page_size bytes (a power of two, 4 KiB unless a test changes it),
 * all into one target address space per index. attrs.secure selects index
 * 1 when the IOMMU has two indexes. pt_map() / pt_unmap() change an entry
 * and send the notifications the contract asks for (UNMAP then MAP for an
 * in-place change). Every call of a class method is counted or logged, and
 * a notifier recorder turns events into text for assert_string_equal().
 *
 * Include after <cmocka.h> and ms_unit.h.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TEST_IOMMU_SUPPORT_H
#define TEST_IOMMU_SUPPORT_H

#define PT_PAGES 64

typedef struct pte {
	uint64_t target;
	ms_iommu_perm perm;
} pte;

typedef struct test_iommu {
	ms_region *region;
	ms_as *target[2];
	pte table[2][PT_PAGES];
	uint64_t page_size;
	unsigned nr_indexes;
	int refuse;            /* notify_flag_changed returns this when flags grow */
	strbuf flag_log;       /* "old>new " per notify_flag_changed call */
	unsigned translations; /* atomic */
	ms_iommu_perm last_flags;
	/* Optional: a memory access made from inside translate (page-table walk). */
	ms_as *walk_as;
	uint64_t walk_addr;
	ms_result walk_result;
	bool malformed; /* translate returns a mask that is not 2^k - 1 */
} test_iommu;

static inline void pt_translate(ms_iotlb_entry *out, ms_region *iommu, uint64_t addr,
				ms_iommu_perm flags, unsigned idx, void *opaque)
{
	test_iommu *t = opaque;
	uint64_t page = addr / t->page_size;

	(void)iommu;
	__atomic_fetch_add(&t->translations, 1, __ATOMIC_RELAXED);
	t->last_flags = flags;
	if (t->walk_as) {
		uint8_t byte;

		t->walk_result =
			ms_as_read(t->walk_as, t->walk_addr, MS_ATTRS_UNSPECIFIED, &byte, 1);
	}
	out->iova = addr & ~(t->page_size - 1);
	out->addr_mask = t->malformed ? 0x1234 : t->page_size - 1;
	if (page >= PT_PAGES || idx > 1) {
		out->perm = MS_IOMMU_NONE;
		return;
	}
	out->target_as = t->target[idx];
	out->translated_addr = t->table[idx][page].target;
	out->perm = t->table[idx][page].perm;
}

static inline uint64_t pt_page_size(ms_region *iommu, void *opaque)
{
	(void)iommu;
	return ((test_iommu *)opaque)->page_size;
}

static inline int pt_flag_changed(ms_region *iommu, ms_iommu_notifier_flags old_flags,
				  ms_iommu_notifier_flags new_flags, void *opaque)
{
	test_iommu *t = opaque;

	(void)iommu;
	sb_printf(&t->flag_log, "%x>%x ", old_flags, new_flags);
	return (new_flags & ~old_flags) ? t->refuse : 0;
}

static inline unsigned pt_attrs_to_index(ms_region *iommu, ms_attrs attrs, void *opaque)
{
	test_iommu *t = opaque;

	(void)iommu;
	return t->nr_indexes > 1 && attrs.secure ? 1 : 0;
}

static inline unsigned pt_num_indexes(ms_region *iommu, void *opaque)
{
	(void)iommu;
	return ((test_iommu *)opaque)->nr_indexes;
}

static const ms_iommu_ops pt_ops = {
	.version = MS_IOMMU_OPS_VERSION,
	.translate = pt_translate,
	.get_min_page_size = pt_page_size,
	.notify_flag_changed = pt_flag_changed,
	.attrs_to_index = pt_attrs_to_index,
	.num_indexes = pt_num_indexes,
};

/* A test IOMMU of @size bytes translating into @target (both indexes). */
static inline void pt_init(test_iommu *t, ms_ctx *ctx, const char *name, uint64_t size,
			   ms_as *target, unsigned nr_indexes)
{
	memset(t, 0, sizeof(*t));
	t->page_size = 4096;
	t->nr_indexes = nr_indexes;
	t->target[0] = t->target[1] = target;
	sb_reset(&t->flag_log);
	assert_int_equal(
		ms_iommu_new(
			&t->region, ctx,
			&(ms_iommu_opts){.name = name, .size = size, .ops = &pt_ops, .opaque = t}),
		0);
}

static inline ms_iommu_event pt_event(const test_iommu *t, unsigned idx, uint64_t page,
				      ms_iommu_notifier_flags type)
{
	ms_iommu_event ev = {.type = type};

	ev.entry.target_as = t->target[idx];
	ev.entry.iova = page * t->page_size;
	ev.entry.addr_mask = t->page_size - 1;
	if (type == MS_IOMMU_NOTIFIER_MAP) {
		ev.entry.translated_addr = t->table[idx][page].target;
		ev.entry.perm = t->table[idx][page].perm;
	}
	return ev;
}

/* Unmap @page of index @idx, announcing it. Returns the notify result. */
static inline int pt_unmap(test_iommu *t, unsigned idx, uint64_t page)
{
	ms_iommu_event ev = pt_event(t, idx, page, MS_IOMMU_NOTIFIER_UNMAP);

	ev.entry.translated_addr = t->table[idx][page].target;
	t->table[idx][page] = (pte){0, MS_IOMMU_NONE};
	return ms_iommu_notify(t->region, idx, &ev);
}

/* Map @page of index @idx to @target: UNMAP first when it was mapped. */
static inline int pt_map(test_iommu *t, unsigned idx, uint64_t page, uint64_t target,
			 ms_iommu_perm perm)
{
	int rc = 0, rc2;
	ms_iommu_event ev;

	if (t->table[idx][page].perm != MS_IOMMU_NONE)
		rc = pt_unmap(t, idx, page);
	t->table[idx][page] = (pte){target, perm};
	ev = pt_event(t, idx, page, MS_IOMMU_NOTIFIER_MAP);
	rc2 = ms_iommu_notify(t->region, idx, &ev);
	return rc ? rc : rc2;
}

/* ---- a notifier that records what it sees ------------------------------------- */

typedef struct recorder {
	strbuf log;
	int fail; /* returned by the callback */
	unsigned calls;
	ms_iommu_notifier *self;
	ms_iommu_notifier *unregister_on_call; /* unregistered from the callback */
} recorder;

static inline const char *event_name(ms_iommu_notifier_flags type)
{
	switch (type) {
	case MS_IOMMU_NOTIFIER_MAP:
		return "map";
	case MS_IOMMU_NOTIFIER_UNMAP:
		return "unmap";
	default:
		return "devunmap";
	}
}

static inline int record_event(ms_iommu_notifier *n, const ms_iommu_event *ev, void *opaque)
{
	recorder *r = opaque;
	static const char *const perms[] = {"none", "ro", "wo", "rw"};

	r->calls++;
	if (r->self)
		assert_ptr_equal(n, r->self);
	sb_printf(&r->log, "%s %" PRIx64 "+%" PRIx64 "->%" PRIx64 " %s;", event_name(ev->type),
		  ev->entry.iova, ev->entry.addr_mask, ev->entry.translated_addr,
		  perms[ev->entry.perm & 3]);
	if (r->unregister_on_call) {
		ms_iommu_notifier *victim = r->unregister_on_call;

		r->unregister_on_call = NULL;
		ms_iommu_unregister_notifier(victim);
	}
	return r->fail;
}

static inline ms_iommu_notifier *watch(ms_region *iommu, recorder *r, ms_iommu_notifier_flags flags,
				       uint64_t start, uint64_t end, unsigned idx)
{
	ms_iommu_notifier_opts opts = MS_IOMMU_NOTIFIER_OPTS_INIT;
	ms_iommu_notifier *n = NULL;

	opts.flags = flags;
	opts.start = start;
	opts.end = end;
	opts.iommu_idx = idx;
	opts.notify = record_event;
	opts.opaque = r;
	assert_int_equal(ms_iommu_register_notifier(&n, iommu, &opts), 0);
	assert_non_null(n);
	r->self = n;
	return n;
}

#endif /* TEST_IOMMU_SUPPORT_H */
