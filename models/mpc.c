/*
 * mpc.c: the TZ-MPC-like memory protection controller
 * (include/memspace/models/mpc.h), built only on the public API.
 *
 * State: the LUT is an array of 64-bit words, one bit per block (set =
 * non-secure), read with atomic loads by translate and ms_mpc_lut_get()
 * and written only by ms_mpc_lut_set() (serialised by the caller). The
 * blocked path keeps atomic counters, and the latched interrupt state
 * (pending flag and first fault) under a mutex: it is the slow path.
 * Invariant: nr_nonsecure counts the set bits of the LUT.
 *
 * Translation is block-granular and the identity: block b of the IOMMU
 * region goes to offset b * block_size of either the downstream address
 * space (whose root is the downstream region) or the blocked address space
 * (whose root is an I/O region of the same size), with full permissions:
 * the blocked region, not the IOMMU, refuses the access, so that a blocked
 * access is counted and can read as zero, as QEMU's tz-mpc does.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <memspace.h>
#include <memspace/models/mpc.h>

struct ms_mpc {
	ms_ctx *ctx;
	ms_region *iommu;      /* our reference */
	ms_region *downstream; /* our reference */
	ms_region *blocked;    /* our reference: the blocked I/O region */
	ms_as *down_as;
	ms_as *blocked_as;
	uint64_t block_size;
	unsigned block_shift;
	uint64_t nr_blocks;
	uint64_t *lut; /* bit per block; atomic */
	uint64_t nr_nonsecure;
	bool raz_wi; /* atomic */
	ms_mpc_irq_fn irq;
	void *opaque;
	/* Counters (atomic). */
	uint64_t blocked_reads, blocked_writes, blocked_secure, blocked_nonsecure;
	/* The latched interrupt, under @lock. */
	pthread_mutex_t lock;
	bool irq_pending;
	ms_mpc_fault first_fault;
};

static bool lut_bit(const ms_mpc *m, uint64_t block)
{
	return (__atomic_load_n(&m->lut[block / 64], __ATOMIC_ACQUIRE) >> (block % 64)) & 1;
}

/* The target of @block for @idx: downstream when the block's world is the index's. */
static ms_as *block_target(const ms_mpc *m, uint64_t block, unsigned idx)
{
	return lut_bit(m, block) == (idx == MS_MPC_IDX_NONSECURE) ? m->down_as : m->blocked_as;
}

/* ---- the IOMMU class ------------------------------------------------------------ */

static void mpc_translate(ms_iotlb_entry *out, ms_region *iommu, uint64_t addr, ms_iommu_perm flags,
			  unsigned iommu_idx, void *opaque)
{
	ms_mpc *m = opaque;
	uint64_t block = addr >> m->block_shift;

	(void)iommu;
	(void)flags;
	memset(out, 0, sizeof(*out));
	out->addr_mask = m->block_size - 1;
	out->iova = addr & ~out->addr_mask;
	out->translated_addr = out->iova;
	if (block >= m->nr_blocks || iommu_idx >= MS_MPC_NR_INDEXES)
		return; /* no mapping */
	out->target_as = block_target(m, block, iommu_idx);
	out->perm = MS_IOMMU_RW;
}

static uint64_t mpc_min_page_size(ms_region *iommu, void *opaque)
{
	(void)iommu;
	return ((ms_mpc *)opaque)->block_size;
}

static unsigned mpc_attrs_to_index(ms_region *iommu, ms_attrs attrs, void *opaque)
{
	(void)iommu;
	(void)opaque;
	return attrs.secure ? MS_MPC_IDX_SECURE : MS_MPC_IDX_NONSECURE;
}

static unsigned mpc_num_indexes(ms_region *iommu, void *opaque)
{
	(void)iommu;
	(void)opaque;
	return MS_MPC_NR_INDEXES;
}

static const ms_iommu_ops mpc_iommu_ops = {
	.version = MS_IOMMU_OPS_VERSION,
	.translate = mpc_translate,
	.get_min_page_size = mpc_min_page_size,
	.attrs_to_index = mpc_attrs_to_index,
	.num_indexes = mpc_num_indexes,
};

/* ---- the blocked region --------------------------------------------------------- */

static ms_result blocked_access(ms_mpc *m, uint64_t addr, unsigned size, bool is_write,
				ms_attrs attrs)
{
	ms_mpc_fault f = {.addr = addr, .size = size, .is_write = is_write, .secure = attrs.secure};

	__atomic_add_fetch(is_write ? &m->blocked_writes : &m->blocked_reads, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(f.secure ? &m->blocked_secure : &m->blocked_nonsecure, 1,
			   __ATOMIC_RELAXED);
	pthread_mutex_lock(&m->lock);
	if (!m->irq_pending) {
		m->irq_pending = true;
		m->first_fault = f;
	}
	pthread_mutex_unlock(&m->lock);
	if (m->irq)
		m->irq(m, &f, m->opaque);
	return __atomic_load_n(&m->raz_wi, __ATOMIC_RELAXED) ? MS_RESULT_OK : MS_RESULT_ERROR;
}

static ms_result blocked_read(uint64_t addr, uint64_t *data, unsigned size, ms_attrs attrs,
			      void *opaque)
{
	*data = 0;
	return blocked_access(opaque, addr, size, false, attrs);
}

static ms_result blocked_write(uint64_t addr, uint64_t data, unsigned size, ms_attrs attrs,
			       void *opaque)
{
	(void)data;
	return blocked_access(opaque, addr, size, true, attrs);
}

static const ms_region_ops blocked_ops = {
	.version = MS_REGION_OPS_VERSION,
	.read_with_attrs = blocked_read,
	.write_with_attrs = blocked_write,
	.endianness = MS_ENDIAN_LITTLE,
	.valid = {.min_access_size = 1, .max_access_size = 8, .unaligned = true},
	.impl = {.min_access_size = 1, .max_access_size = 8, .unaligned = true},
};

/* ---- creation ------------------------------------------------------------------- */

static char *suffixed(const char *name, const char *suffix)
{
	size_t n = strlen(name), s = strlen(suffix);
	char *p = malloc(n + s + 1);

	if (p) {
		memcpy(p, name, n);
		memcpy(p + n, suffix, s + 1);
	}
	return p;
}

static void mpc_destroy(ms_mpc *m)
{
	ms_region *c;

	if (m->iommu) {
		c = ms_region_container(m->iommu);
		if (c)
			(void)ms_region_del_subregion(c, m->iommu);
		ms_region_unref(m->iommu);
	}
	ms_as_free(m->down_as);
	ms_as_free(m->blocked_as);
	ms_region_unref(m->blocked);
	ms_region_unref(m->downstream);
	pthread_mutex_destroy(&m->lock);
	free(m->lut);
	free(m);
}

int ms_mpc_new(ms_mpc **out, ms_ctx *ctx, const ms_mpc_opts *opts)
{
	char *bname = NULL, *dname = NULL;
	uint64_t size, bs;
	ms_mpc *m;
	int rc;

	if (out)
		*out = NULL;
	if (!out || !ctx || !opts || !opts->name || !opts->downstream ||
	    ms_region_ctx(opts->downstream) != ctx)
		return -EINVAL;
	bs = opts->block_size;
	size = ms_region_size(opts->downstream);
	if (bs < MS_MPC_MIN_BLOCK || (bs & (bs - 1)) || size == MS_SIZE_2_64 || size == 0 ||
	    (size & (bs - 1)))
		return -EINVAL;
	if (size / bs > MS_MPC_MAX_BLOCKS)
		return -E2BIG;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	if (pthread_mutex_init(&m->lock, NULL) != 0) {
		free(m);
		return -ENOMEM;
	}
	m->ctx = ctx;
	m->block_size = bs;
	m->block_shift = (unsigned)__builtin_ctzll(bs);
	m->nr_blocks = size / bs;
	m->raz_wi = opts->raz_wi;
	m->irq = opts->irq;
	m->opaque = opts->opaque;
	m->downstream = ms_region_ref(opts->downstream);
	m->lut = calloc((m->nr_blocks + 63) / 64, sizeof(*m->lut));
	bname = suffixed(opts->name, ".blocked");
	dname = suffixed(opts->name, ".downstream");
	rc = -ENOMEM;
	if (!m->lut || !bname || !dname)
		goto fail;
	rc = ms_region_new_io(
		&m->blocked, ctx,
		&(ms_region_io_opts){
			.name = bname, .size = size, .ops = &blocked_ops, .opaque = m});
	if (rc < 0)
		goto fail;
	rc = ms_as_new(&m->down_as, ctx, m->downstream, dname);
	if (rc < 0)
		goto fail;
	rc = ms_as_new(&m->blocked_as, ctx, m->blocked, bname);
	if (rc < 0)
		goto fail;
	rc = ms_iommu_new(
		&m->iommu, ctx,
		&(ms_iommu_opts){
			.name = opts->name, .size = size, .ops = &mpc_iommu_ops, .opaque = m});
	if (rc < 0)
		goto fail;
	free(bname);
	free(dname);
	*out = m;
	return 0;
fail:
	free(bname);
	free(dname);
	mpc_destroy(m);
	return rc;
}

void ms_mpc_free(ms_mpc *m)
{
	if (m)
		mpc_destroy(m);
}

ms_region *ms_mpc_region(ms_mpc *m)
{
	return m ? m->iommu : NULL;
}

/* ---- the LUT -------------------------------------------------------------------- */

static void notify_block(ms_mpc *m, uint64_t block, ms_iommu_notifier_flags type, bool ns)
{
	for (unsigned idx = 0; idx < MS_MPC_NR_INDEXES; idx++) {
		ms_iommu_event ev;

		memset(&ev, 0, sizeof(ev));
		ev.type = type;
		ev.entry.iova = block << m->block_shift;
		ev.entry.translated_addr = ev.entry.iova;
		ev.entry.addr_mask = m->block_size - 1;
		ev.entry.target_as =
			ns == (idx == MS_MPC_IDX_NONSECURE) ? m->down_as : m->blocked_as;
		ev.entry.perm = type == MS_IOMMU_NOTIFIER_MAP ? MS_IOMMU_RW : MS_IOMMU_NONE;
		(void)ms_iommu_notify(m->iommu, idx, &ev);
	}
}

int ms_mpc_lut_set(ms_mpc *m, uint64_t first, uint64_t count, bool nonsecure)
{
	int changed = 0;

	if (!m || count == 0 || first >= m->nr_blocks || count > m->nr_blocks - first)
		return -EINVAL;
	for (uint64_t b = first; b < first + count; b++) {
		uint64_t bit = (uint64_t)1 << (b % 64);
		uint64_t word = __atomic_load_n(&m->lut[b / 64], __ATOMIC_RELAXED);

		if (((word & bit) != 0) == nonsecure)
			continue;
		/* The LUT changes first: a translation after the UNMAP sees the new target. */
		__atomic_store_n(&m->lut[b / 64], nonsecure ? word | bit : word & ~bit,
				 __ATOMIC_RELEASE);
		if (nonsecure)
			__atomic_add_fetch(&m->nr_nonsecure, 1, __ATOMIC_RELAXED);
		else
			__atomic_sub_fetch(&m->nr_nonsecure, 1, __ATOMIC_RELAXED);
		notify_block(m, b, MS_IOMMU_NOTIFIER_UNMAP, !nonsecure);
		notify_block(m, b, MS_IOMMU_NOTIFIER_MAP, nonsecure);
		changed++;
	}
	return changed;
}

int ms_mpc_lut_get(bool *nonsecure, ms_mpc *m, uint64_t block)
{
	if (nonsecure)
		*nonsecure = false;
	if (!nonsecure || !m || block >= m->nr_blocks)
		return -EINVAL;
	*nonsecure = lut_bit(m, block);
	return 0;
}

int ms_mpc_set_raz_wi(ms_mpc *m, bool raz_wi)
{
	if (!m)
		return -EINVAL;
	__atomic_store_n(&m->raz_wi, raz_wi, __ATOMIC_RELAXED);
	return 0;
}

int ms_mpc_get_stats(ms_mpc_stats *out, ms_mpc *m)
{
	if (out)
		memset(out, 0, sizeof(*out));
	if (!out || !m)
		return -EINVAL;
	out->blocked_reads = __atomic_load_n(&m->blocked_reads, __ATOMIC_RELAXED);
	out->blocked_writes = __atomic_load_n(&m->blocked_writes, __ATOMIC_RELAXED);
	out->blocked_secure = __atomic_load_n(&m->blocked_secure, __ATOMIC_RELAXED);
	out->blocked_nonsecure = __atomic_load_n(&m->blocked_nonsecure, __ATOMIC_RELAXED);
	pthread_mutex_lock(&m->lock);
	out->irq_pending = m->irq_pending;
	out->first_fault = m->first_fault;
	pthread_mutex_unlock(&m->lock);
	out->nr_blocks = m->nr_blocks;
	out->block_size = m->block_size;
	out->nr_nonsecure = __atomic_load_n(&m->nr_nonsecure, __ATOMIC_RELAXED);
	return 0;
}

int ms_mpc_irq_clear(ms_mpc *m)
{
	if (!m)
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	m->irq_pending = false;
	memset(&m->first_fault, 0, sizeof(m->first_fault));
	pthread_mutex_unlock(&m->lock);
	return 0;
}
