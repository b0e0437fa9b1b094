/*
 * Fuzz target: accesses against the reference byte model of fuzz_access_model.c.
 *
 * One machine, built once from the model's layout tables: RAM, ROM, aliases, ROM and RAM
 * devices, six MMIO devices with different valid/impl rules, a DMA device, a reservation, an
 * IOMMU region, holes and RAM below 2^64. Every input starts from the same state and decodes
 * into reads, writes, fills, loader writes, scalar loads and stores, access_valid and translate
 * probes, DMA map/unmap, romd switches and enable/disable, with random addresses, lengths,
 * alignment and attributes. The devices are byte arrays read and written in their byte order.
 * After every call the library's memory, the devices' registers and the callback log must
 * equal the model's; any difference aborts with a report.
 *
 * Dirty logging (codes from DIRTY_CODE up): clients of each block on and off, global logging,
 * ms_as_log_sync() through a listener that marks memory written behind the library's back,
 * snapshots, resets, ms_region_set_dirty(). The model marks the pages of every write it
 * predicts to reach memory (accesses, DMA helpers, the DMA device through IOMMUs, the loader,
 * caches, direct mappings at unmap, bounce write-back), so after every call each logging
 * client's bits equal the model's page for page; reads and ignored writes mark nothing.
 *
 * SPDX-License-Identifier: MIT
 */
#include <inttypes.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <memspace.h>

#include "fuzz_access.h"
#include "fuzz_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FUZZ_OPS 200
#define MAX_LEN 0x120 /* longest byte access */

/* ---- Devices ------------------------------------------------------------------ */

struct device {
	int index;
	ms_region_ops ops;
	uint8_t regs[REG_BYTES];
	bool error_window; /* callbacks at offsets >= 0xf0 report MS_RESULT_ERROR */
	bool veto;         /* accepts() refuses user writes to offsets with bit 6 set */
};

static struct device devs[NDEV];
static struct calls lib_log;
static ms_as *dma_as;

/* Register bytes a callback covers; out of bounds would be a library bug. */
static uint8_t *dev_regs(struct device *d, uint64_t addr, unsigned size)
{
	if (size == 0 || size > 8 || (size & (size - 1)) || addr > REG_BYTES - size) {
		fprintf(stderr, "fuzz_access: device %d called at 0x%" PRIx64 " size %u\n",
			d->index, addr, size);
		abort();
	}
	return d->regs + addr;
}

static ms_result dev_result(const struct device *d, uint64_t addr)
{
	return d->error_window && addr >= 0xf0 ? MS_RESULT_ERROR : MS_RESULT_OK;
}

static uint64_t dev_read(uint64_t addr, unsigned size, void *opaque)
{
	struct device *d = opaque;
	uint64_t v = get_value(dev_regs(d, addr, size), size, dev_big_endian(d->ops.endianness));

	log_call(&lib_log, d->index, false, addr, size, v);
	return v;
}

static void dev_write(uint64_t addr, uint64_t data, unsigned size, void *opaque)
{
	struct device *d = opaque;

	if (size < 8 && (data >> (8 * size)))
		abort(); /* the value must fit its size */
	log_call(&lib_log, d->index, true, addr, size, data);
	put_value(dev_regs(d, addr, size), size, data, dev_big_endian(d->ops.endianness));
	if (d->index == DDMA && addr == 0) {
		uint64_t target = get_value(d->regs + DMA_ADDR, 8, false);
		size_t len = d->regs[DMA_LEN] % 33;
		ms_result r = d->regs[DMA_DIR] & 1
				      ? ms_as_write(dma_as, target, MS_ATTRS_UNSPECIFIED,
						    d->regs + DMA_DATA, len)
				      : ms_as_read(dma_as, target, MS_ATTRS_UNSPECIFIED,
						   d->regs + DMA_DATA, len);

		d->regs[DMA_RESULT] = (uint8_t)r;
	}
}

static ms_result dev_read_attrs(uint64_t addr, uint64_t *data, unsigned size, ms_attrs attrs,
				void *opaque)
{
	(void)attrs;
	*data = dev_read(addr, size, opaque);
	return dev_result(opaque, addr);
}

static ms_result dev_write_attrs(uint64_t addr, uint64_t data, unsigned size, ms_attrs attrs,
				 void *opaque)
{
	(void)attrs;
	dev_write(addr, data, size, opaque);
	return dev_result(opaque, addr);
}

static bool dev_accepts(uint64_t addr, unsigned size, bool is_write, ms_attrs attrs, void *opaque)
{
	(void)size;
	(void)opaque;
	return !(is_write && attrs.user && (addr & 0x40));
}

static void device_init(int i)
{
	const struct dev_config *c = &configs[i];
	struct device *d = &devs[i];

	d->index = i;
	d->ops.version = MS_REGION_OPS_VERSION;
	d->ops.endianness = c->endian;
	d->ops.valid.min_access_size = c->vmin;
	d->ops.valid.max_access_size = c->vmax;
	d->ops.valid.unaligned = c->vunaligned;
	d->ops.valid.accepts = c->veto ? dev_accepts : NULL;
	d->ops.impl.min_access_size = c->imin;
	d->ops.impl.max_access_size = c->imax;
	d->ops.impl.unaligned = c->iunaligned;
	if (c->with_attrs) {
		d->ops.read_with_attrs = dev_read_attrs;
		d->ops.write_with_attrs = dev_write_attrs;
	} else {
		d->ops.read = dev_read;
		d->ops.write = dev_write;
	}
	d->error_window = c->error_window;
	d->veto = c->veto;
}

/* ---- The IOMMU class and its notifiers ----------------------------------------------- */

static struct machine_iommus {
	ms_region *region[NIOMMU];
} io;

static ms_as *io_target; /* every entry goes to the machine's address space */

static void io_translate(ms_iotlb_entry *out, ms_region *iommu, uint64_t addr, ms_iommu_perm flags,
			 unsigned idx, void *opaque)
{
	int i = (int)(intptr_t)opaque;
	const struct io_entry *e = &io_tab[i][idx % IO_MAX_IDX][(addr / IO_PAGE) % IO_SLOTS];
	uint64_t mask = e->set ? ((uint64_t)1 << e->shift) - 1 : IO_PAGE - 1;

	(void)iommu;
	(void)flags;
	out->target_as = io_target;
	out->iova = addr & ~mask;
	out->addr_mask = mask;
	out->translated_addr = e->target & ~mask;
	out->perm = e->set ? (ms_iommu_perm)e->perm : MS_IOMMU_NONE;
	if (e->broken) {
		out->addr_mask = 5; /* not 2^k - 1: a malformed entry */
		out->perm = MS_IOMMU_RW;
	}
}

static uint64_t io_page_size(ms_region *iommu, void *opaque)
{
	(void)iommu;
	(void)opaque;
	return IO_PAGE;
}

static unsigned io_attrs_to_index(ms_region *iommu, ms_attrs attrs, void *opaque)
{
	(void)iommu;
	return io_index((int)(intptr_t)opaque, attrs);
}

static unsigned io_num_indexes(ms_region *iommu, void *opaque)
{
	(void)iommu;
	return io_nidx((int)(intptr_t)opaque);
}

/* What a notifier was told, or (who < 0) a flag change of IOMMU -1 - who. */
struct nev {
	int who;
	unsigned type;
	uint64_t iova, mask, xlat;
	int perm;
};

struct nevs {
	struct nev e[256];
	size_t n;
	bool overflow;
};

static struct nevs lib_nev, model_nev;

static void log_nev(struct nevs *l, struct nev e)
{
	if (l->n == 256)
		l->overflow = true;
	else
		l->e[l->n++] = e;
}

static ms_iommu_notifier_flags io_flags[NIOMMU]; /* the model's union */

static int io_flag_changed(ms_region *iommu, ms_iommu_notifier_flags old_flags,
			   ms_iommu_notifier_flags new_flags, void *opaque)
{
	(void)iommu;
	log_nev(&lib_nev, (struct nev){-1 - (int)(intptr_t)opaque, old_flags, new_flags, 0, 0, 0});
	return 0;
}

static const ms_iommu_ops io_ops = {
	.version = MS_IOMMU_OPS_VERSION,
	.translate = io_translate,
	.get_min_page_size = io_page_size,
	.notify_flag_changed = io_flag_changed,
	.attrs_to_index = io_attrs_to_index,
	.num_indexes = io_num_indexes,
};

#define NNOT 8

struct nslot {
	ms_iommu_notifier *n; /* NULL: free */
	int iommu;
	unsigned idx, flags;
	uint64_t start, end, seq;
	bool fail; /* the callback returns -EIO */
};

static struct nslot nots[NNOT];
static uint64_t not_seq;

static int io_notify_cb(ms_iommu_notifier *n, const ms_iommu_event *ev, void *opaque)
{
	struct nslot *ns = opaque;

	(void)n;
	log_nev(&lib_nev,
		(struct nev){(int)(ns - nots), ev->type, ev->entry.iova, ev->entry.addr_mask,
			     ev->entry.translated_addr, (int)ev->entry.perm});
	return ns->fail ? -EIO : 0;
}

/* The model's delivery of an event to one notifier: filtered and cropped. */
static int m_deliver(int k, unsigned type, uint64_t iova, uint64_t mask, uint64_t xlat, int perm)
{
	const struct nslot *ns = &nots[k];
	uint64_t last = iova + mask, lo, hi;

	if (!(ns->flags & type) || ns->start > last || ns->end < iova)
		return 0;
	lo = iova > ns->start ? iova : ns->start;
	hi = last < ns->end ? last : ns->end;
	log_nev(&model_nev, (struct nev){k, type, lo, hi - lo, xlat + (lo - iova), perm});
	return ns->fail ? -EIO : 0;
}

/* The model of ms_iommu_notify(): in order of range start, then of registration. */
static int m_notify(int i, unsigned idx, unsigned type, uint64_t iova, uint64_t mask, uint64_t xlat,
		    int perm)
{
	bool done[NNOT] = {false};
	int first_error = 0;

	for (;;) {
		int best = -1;

		for (int k = 0; k < NNOT; k++)
			if (nots[k].n && !done[k] && nots[k].iommu == i && nots[k].idx == idx &&
			    (best < 0 || nots[k].start < nots[best].start ||
			     (nots[k].start == nots[best].start && nots[k].seq < nots[best].seq)))
				best = k;
		if (best < 0)
			return first_error;
		done[best] = true;
		int rc = m_deliver(best, type, iova, mask, xlat, perm);

		if (rc < 0 && first_error == 0)
			first_error = rc;
	}
}

/* ---- The machine ---------------------------------------------------------------- */

static void check_rc(int rc, const char *what)
{
	if (rc != 0) {
		fprintf(stderr, "fuzz_access: %s returned %d\n", what, rc);
		abort();
	}
}

struct machine {
	ms_ctx *ctx;
	ms_as *as;
	ms_region *root;
	ms_region *regions[NSEG]; /* as placed (the aliases for alias segments) */
	ms_region *target[NSEG];  /* the region a section reports */
	uint8_t *mem[NMEM];       /* library memory */
	uint8_t *ramd_mem;
	uint8_t *ramp_mem;
	ms_region *big;             /* block M_BIG: RAM in no address space */
	ms_region *blk[NBLK];       /* the region owning each block's bits */
	ms_listener *sync_listener; /* its log_sync marks memory written behind our back */
};

static struct machine mach;

/*
 * Memory written behind the library's back (through the block's pointer),
 * per block: pages not yet marked. The listener's log_sync marks them with
 * ms_region_set_dirty(), as a hypervisor back end fetching its own dirty
 * log would (docs/dirty.md, "Memory written behind the library's back").
 */
static uint64_t behind[NBLK];
static bool synced[NBLK]; /* blocks whose ranges log_sync visited */

static int region_block(const ms_region *r)
{
	for (int b = 0; b < NBLK; b++)
		if (mach.blk[b] == r)
			return b;
	return -1;
}

static void on_log_sync(const ms_section *sec, void *opaque)
{
	int b = region_block(sec->region);
	uint64_t first = sec->offset_in_region, last = first + (sec->last - sec->start);

	(void)opaque;
	if (b < 0) {
		fprintf(stderr, "fuzz_access: log_sync of a range of no memory block\n");
		abort();
	}
	synced[b] = true;
	for (uint64_t p = first / DIRTY_PAGE; p <= last / DIRTY_PAGE; p++) {
		uint64_t lo = p * DIRTY_PAGE > first ? p * DIRTY_PAGE : first;
		uint64_t hi = p * DIRTY_PAGE + DIRTY_PAGE - 1 < last
				      ? p * DIRTY_PAGE + DIRTY_PAGE - 1
				      : last;

		if ((behind[b] >> p) & 1)
			check_rc(ms_region_set_dirty(sec->region, lo, hi - lo + 1), "set_dirty");
	}
}

static const ms_listener_ops sync_ops = {
	.version = MS_LISTENER_OPS_VERSION,
	.log_sync = on_log_sync,
};

/* Segment @s as an alias of @target, starting at the segment's base in @target. */
static int new_seg_alias(ms_region **r, const struct seg *s, ms_region *target)
{
	return ms_region_new_alias(
		r, mach.ctx,
		&(ms_region_alias_opts){
			.name = s->name, .target = target, .offset = s->base, .size = s->size});
}

static void build_machine(void)
{
	ms_region *r;

	for (int i = 0; i < NDEV; i++)
		device_init(i);
	mach.ramd_mem = aligned_alloc(64, 0x200);
	mach.ramp_mem = aligned_alloc(64, 0x100);
	if (!mach.ramd_mem || !mach.ramp_mem)
		abort();
	check_rc(ms_ctx_new(&mach.ctx), "ms_ctx_new");
	check_rc(ms_ctx_set_dirty_page_size(mach.ctx, DIRTY_PAGE), "set_dirty_page_size");
	check_rc(ms_region_new_container(&mach.root, mach.ctx, "sys", MS_SIZE_2_64), "root");
	for (int i = 0; i < NSEG; i++) {
		const struct seg *s = &segs[i];
		int rc = 0;

		r = NULL;
		switch (i) {
		case R_RAM:
		case R_TOP:
		case R_PATCH:
			rc = ms_region_new_ram(&r, mach.ctx, s->name, s->size);
			break;
		case R_RAMNV:
			rc = new_seg_alias(&r, s, mach.regions[R_RAM]);
			if (rc == 0)
				rc = ms_region_set_nonvolatile(r, true);
			break;
		case R_RAMDRO:
			rc = new_seg_alias(&r, s, mach.regions[R_RAMD]);
			if (rc == 0)
				rc = ms_region_set_readonly(r, true);
			break;
		case R_ROM:
			rc = ms_region_new_rom(&r, mach.ctx, s->name, s->size);
			break;
		case R_RAMRO:
			rc = new_seg_alias(&r, s, mach.regions[R_RAM]);
			if (rc == 0)
				rc = ms_region_set_readonly(r, true);
			break;
		case R_ROMD:
			rc = ms_region_new_rom_device(&r, mach.ctx,
						      &(ms_region_io_opts){.name = s->name,
									   .size = s->size,
									   .ops = &devs[DROMD].ops,
									   .opaque = &devs[DROMD]});
			break;
		case R_RAMD:
			rc = ms_region_new_ram_device(&r, mach.ctx, s->name, s->size,
						      mach.ramd_mem);
			break;
		case R_RAMP:
			rc = ms_region_new_ram_ptr(&r, mach.ctx, s->name, s->size, mach.ramp_mem);
			break;
		case R_D4A:
			rc = new_seg_alias(&r, s, mach.regions[R_D0 + D4]);
			break;
		case R_RESV:
			rc = ms_region_new_io(&r, mach.ctx,
					      &(ms_region_io_opts){.name = s->name,
								   .size = s->size,
								   .ops = NULL});
			break;
		case R_IOMMU:
		case R_IOMMU2:
		case R_IOMMU3:
			rc = ms_iommu_new(&r, mach.ctx,
					  &(ms_iommu_opts){.name = s->name,
							   .size = s->size,
							   .ops = &io_ops,
							   .opaque = (void *)(intptr_t)s->dev});
			if (rc == 0)
				io.region[s->dev] = r;
			break;
		default:
			rc = ms_region_new_io(&r, mach.ctx,
					      &(ms_region_io_opts){.name = s->name,
								   .size = s->size,
								   .ops = &devs[s->dev].ops,
								   .opaque = &devs[s->dev]});
			break;
		}
		check_rc(rc, s->name);
		check_rc(ms_region_add_subregion_overlap(mach.root, s->start, r, s->over), "add");
		mach.regions[i] = r;
		mach.target[i] =
			ms_region_get_kind(r) == MS_REGION_ALIAS ? ms_region_alias_target(r) : r;
		ms_region_unref(r);
	}
	mach.mem[M_RAM] = ms_region_ram_ptr(mach.regions[R_RAM]);
	mach.mem[M_ROM] = ms_region_ram_ptr(mach.regions[R_ROM]);
	mach.mem[M_ROMD] = ms_region_ram_ptr(mach.regions[R_ROMD]);
	mach.mem[M_RAMD] = mach.ramd_mem;
	mach.mem[M_RAMP] = mach.ramp_mem;
	mach.mem[M_TOP] = ms_region_ram_ptr(mach.regions[R_TOP]);
	mach.mem[M_PATCH] = ms_region_ram_ptr(mach.regions[R_PATCH]);
	check_rc(ms_as_new(&mach.as, mach.ctx, mach.root, "sys"), "ms_as_new");
	dma_as = mach.as;
	io_target = mach.as;
	check_rc(ms_region_new_ram(&mach.big, mach.ctx, "big", BIG_SIZE), "big");
	mach.blk[M_RAM] = mach.regions[R_RAM];
	mach.blk[M_ROM] = mach.regions[R_ROM];
	mach.blk[M_ROMD] = mach.regions[R_ROMD];
	mach.blk[M_RAMD] = mach.regions[R_RAMD];
	mach.blk[M_RAMP] = mach.regions[R_RAMP];
	mach.blk[M_TOP] = mach.regions[R_TOP];
	mach.blk[M_PATCH] = mach.regions[R_PATCH];
	mach.blk[M_BIG] = mach.big;
	check_rc(ms_listener_register(&mach.sync_listener, mach.as, &sync_ops, NULL), "listener");
}

/* Logging off, every bit clear, as a fresh machine has them. */
static void reset_dirty(void)
{
	if (model.log_global)
		check_rc(ms_ctx_dirty_log_global_stop(mach.ctx), "global stop");
	for (int b = 0; b < NBLK; b++) {
		for (unsigned c = 0; c < MS_DIRTY_CLIENTS; c++) {
			if (model.log_own[b] & (1u << c))
				check_rc(ms_region_set_dirty_log(mach.blk[b], c, false), "log off");
			if (model.log_seen[b] & (1u << c))
				check_rc(ms_region_reset_dirty(mach.blk[b], 0, blk_size(b), c),
					 "reset_dirty");
		}
	}
	memset(model.dirty, 0, sizeof(model.dirty));
	memset(model.log_own, 0, sizeof(model.log_own));
	memset(model.log_seen, 0, sizeof(model.log_seen));
	memset(behind, 0, sizeof(behind));
	model.log_global = false;
}

/* Every input starts from the same state, in the library and in the model. */
static void reset(void)
{
	for (int m = 0; m < NMEM; m++) {
		for (uint64_t i = 0; i < mem_size[m]; i++)
			model.mem[m][i] = (uint8_t)(i * 7 + (uint64_t)m * 0x31 + (i >> 8));
		memcpy(mach.mem[m], model.mem[m], mem_size[m]);
	}
	for (int d = 0; d < NDEV; d++) {
		for (int i = 0; i < REG_BYTES; i++)
			model.regs[d][i] = (uint8_t)(0x80 + i * 3 + d * 0x11);
		memcpy(devs[d].regs, model.regs[d], REG_BYTES);
	}
	model.max_depth = MS_ACCESS_DEPTH_DEFAULT;
	check_rc(ms_ctx_set_max_access_depth(mach.ctx, MS_ACCESS_DEPTH_DEFAULT), "max depth");
	model.romd = true;
	if (!ms_region_romd(mach.regions[R_ROMD]))
		check_rc(ms_region_set_romd(mach.regions[R_ROMD], true), "set_romd");
	for (int i = 0; i < NSEG; i++) {
		model.enabled[i] = true;
		if (!ms_region_enabled(mach.regions[i]))
			check_rc(ms_region_set_enabled(mach.regions[i], true), "set_enabled");
	}
	for (int k = 0; k < NNOT; k++) {
		ms_iommu_unregister_notifier(nots[k].n);
		nots[k].n = NULL;
	}
	memset(io_flags, 0, sizeof(io_flags));
	/*
	 * The starting tables: IOMMU 0 maps its pages onto the RAM (index 0)
	 * and read-only onto the ROM (index 1); IOMMU 1 onto IOMMU 0 (a chain of
	 * two), IOMMU 2 onto the devices d0..d1.
	 */
	memset(io_tab, 0, sizeof(io_tab));
	for (unsigned v = 0; v < IO_SLOTS; v++) {
		io_tab[0][0][v] =
			(struct io_entry){true, false, MS_IOMMU_RW, 4, 0x100 + v * IO_PAGE};
		io_tab[0][1][v] =
			(struct io_entry){true, false, MS_IOMMU_RO, 4, 0x2000 + v * IO_PAGE};
		io_tab[1][0][v] =
			(struct io_entry){true, false, MS_IOMMU_RW, 4, 0x4900 + (v ^ 1) * IO_PAGE};
		io_tab[2][0][v] =
			(struct io_entry){true, false, MS_IOMMU_RW, 4, 0x4000 + v * IO_PAGE};
	}
	reset_dirty();
	model.log.n = 0;
	model.log.overflow = false;
	lib_log.n = 0;
	lib_log.overflow = false;
	model_nev.n = lib_nev.n = 0;
	model_nev.overflow = lib_nev.overflow = false;
}

/* ---- Comparing ------------------------------------------------------------------- */

struct fuzz {
	char trace[8192]; /* the calls made so far, for reports */
	size_t trace_len;
	int op;
};

static struct fuzz fz;

/* Statistics (MS_FUZZ_STATS=1): results seen, device callbacks compared. */
static unsigned long stat_results[8], stat_callbacks, stat_direct, stat_bounce, stat_events,
	stat_xlat, stat_dirty_ops, stat_dirty_pages;

static void trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void trace(const char *fmt, ...)
{
	va_list ap;
	int n;

	if (fz.trace_len >= sizeof(fz.trace) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(fz.trace + fz.trace_len, sizeof(fz.trace) - fz.trace_len, fmt, ap);
	va_end(ap);
	if (n > 0)
		fz.trace_len += (size_t)n;
	if (fz.trace_len > sizeof(fz.trace) - 1)
		fz.trace_len = sizeof(fz.trace) - 1;
}

static void print_calls(const char *who, const struct calls *log)
{
	fprintf(stderr, "  %s device callbacks (%zu%s):\n", who, log->n,
		log->overflow ? ", overflowed" : "");
	for (size_t i = 0; i < log->n && i < 64; i++)
		fprintf(stderr, "    d%d %s 0x%" PRIx64 " size %u value 0x%" PRIx64 "\n",
			log->c[i].dev, log->c[i].is_write ? "write" : "read ", log->c[i].addr,
			log->c[i].size, log->c[i].value);
}

static void divergence(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void divergence(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fuzz_access: divergence at op %d: ", fz.op);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\ncalls so far (romd=%d):\n%s", model.romd, fz.trace);
	print_calls("expected", &model.log);
	print_calls("actual", &lib_log);
	abort();
}

static void compare_bytes(const char *what, const uint8_t *want, const uint8_t *got, size_t n)
{
	if (memcmp(want, got, n) == 0)
		return;
	for (size_t i = 0; i < n; i++)
		if (want[i] != got[i])
			divergence("%s: byte %zu is 0x%02x, the model says 0x%02x", what, i, got[i],
				   want[i]);
}

/*
 * @clients' bits of block @b against the model, page by page. Exact: a
 * write marks exactly the pages of the bytes that reached memory, a read
 * or an ignored write nothing (docs/dirty.md, "Which writes mark").
 */
static void compare_dirty(int b, uint8_t clients)
{
	uint64_t size = blk_size(b);

	for (unsigned c = 0; c < MS_DIRTY_CLIENTS; c++) {
		if (!(clients & (1u << c)))
			continue;
		for (uint64_t p = 0; p < blk_pages(b); p++) {
			uint64_t off = p * DIRTY_PAGE,
				 n = size - off < DIRTY_PAGE ? size - off : DIRTY_PAGE;
			bool got = ms_region_get_dirty(mach.blk[b], off, n, c);

			if (got != m_dirty(b, c, p))
				divergence("block %d, client %u: page %" PRIu64
					   " reads %s, the model says %s",
					   b, c, p, got ? "dirty" : "clean",
					   m_dirty(b, c, p) ? "dirty" : "clean");
		}
	}
	stat_dirty_pages += blk_pages(b);
}

/*
 * Only the dirty calls reach block M_BIG (it is in no address space): its
 * 129 pages are compared after those, not after every access.
 */
static bool dirty_call;

/* The clients logging every block, and the bits of those that ever logged in this input. */
static void compare_dirty_state(void)
{
	for (int b = 0; b < NBLK; b++) {
		uint8_t got = ms_region_dirty_log_mask(mach.blk[b]);

		if (got != m_log_mask(b))
			divergence("block %d: dirty_log_mask 0x%x, the model says 0x%x", b, got,
				   m_log_mask(b));
		if (model.log_seen[b] && (b != M_BIG || dirty_call))
			compare_dirty(b, model.log_seen[b]);
	}
}

/* After every call: results, memory, registers and callbacks. */
static void compare_state(void)
{
	if (model.log.overflow || lib_log.overflow || model.log.n != lib_log.n)
		divergence("%zu device callbacks, the model expects %zu", lib_log.n, model.log.n);
	for (size_t i = 0; i < model.log.n; i++) {
		const struct call *a = &lib_log.c[i], *b = &model.log.c[i];

		if (a->dev != b->dev || a->is_write != b->is_write || a->addr != b->addr ||
		    a->size != b->size || a->value != b->value)
			divergence("device callback %zu differs", i);
	}
	stat_callbacks += model.log.n;
	model.log.n = 0;
	lib_log.n = 0;
	if (model_nev.overflow || lib_nev.overflow || model_nev.n != lib_nev.n)
		divergence("%zu notifier events, the model expects %zu", lib_nev.n, model_nev.n);
	for (size_t i = 0; i < model_nev.n; i++) {
		const struct nev *a = &lib_nev.e[i], *b = &model_nev.e[i];

		if (a->who != b->who || a->type != b->type || a->iova != b->iova ||
		    a->mask != b->mask || a->xlat != b->xlat || a->perm != b->perm)
			divergence("notifier event %zu: who %d type %u 0x%" PRIx64 "+0x%" PRIx64
				   " -> 0x%" PRIx64 " perm %d; the model says who %d type %u "
				   "0x%" PRIx64 "+0x%" PRIx64 " -> 0x%" PRIx64 " perm %d",
				   i, a->who, a->type, a->iova, a->mask, a->xlat, a->perm, b->who,
				   b->type, b->iova, b->mask, b->xlat, b->perm);
	}
	stat_events += model_nev.n;
	model_nev.n = lib_nev.n = 0;
	for (int m = 0; m < NMEM; m++)
		compare_bytes("memory", model.mem[m], mach.mem[m], mem_size[m]);
	for (int d = 0; d < NDEV; d++)
		compare_bytes("device registers", model.regs[d], devs[d].regs, REG_BYTES);
	compare_dirty_state();
}

static void compare_result(const char *what, ms_result got, ms_result want)
{
	stat_results[want & 7]++;
	if (got != want)
		divergence("%s returned result 0x%x, the model says 0x%x", what, got, want);
}

/* ---- Input decoding ---------------------------------------------------------------- */

/* Near a segment's start or end, anywhere inside it, in a hole, or anything. */
static uint64_t rd_addr(struct reader *r)
{
	uint8_t sel = rd8(r);
	const struct seg *s = &segs[rd8(r) % NSEG];
	int8_t delta = (int8_t)rd8(r);

	switch (sel % 6) {
	case 0:
	case 1:
		return s->start + (uint64_t)(int64_t)(delta % 16);
	case 2:
		return s->start + s->size + (uint64_t)(int64_t)(delta % 16);
	case 3:
		return s->start + (uint8_t)delta % s->size;
	case 4:
		return s->start + ((uint8_t)delta * 8) % s->size;
	default:
		return sel & 0x80 ? rd64(r) : 0x1000 + (uint64_t)rd8(r);
	}
}

static uint64_t rd_len(struct reader *r)
{
	uint8_t sel = rd8(r);

	switch (sel % 4) {
	case 0:
		return 1u << (rd8(r) % 4);
	case 1:
		return rd8(r) % 17;
	default:
		return rd8(r) % MAX_LEN + 1;
	}
}

static ms_attrs rd_attrs(struct reader *r)
{
	uint8_t b = rd8(r);
	ms_attrs a = MS_ATTRS_UNSPECIFIED;

	if (b & 0x80)
		return a;
	a.unspecified = 0;
	a.memory = (b & 7) == 0;
	a.debug = (b & 0x18) == 0x18;
	a.user = (b >> 5) & 1;
	a.secure = (b >> 6) & 1;
	return a;
}

static const char *attrs_text(ms_attrs a, char out[48])
{
	snprintf(out, 48, "{%s%s%s%s%s}", a.unspecified ? "unspec" : "", a.memory ? " memory" : "",
		 a.debug ? " debug" : "", a.user ? " user" : "", a.secure ? " secure" : "");
	return out;
}

/* ---- Operations ---------------------------------------------------------------------- */

static void op_read_write(struct reader *r, int code)
{
	uint64_t addr = rd_addr(r), len = rd_len(r);
	ms_attrs attrs = rd_attrs(r);
	bool is_write = code & 1;
	bool dma = code & 2; /* the DMA helpers (ms_as_rw() before 0.2.0) */
	uint8_t got[MAX_LEN], want[MAX_LEN];
	struct req q = {
		.addr = addr, .len = len, .is_write = is_write, .attrs = attrs, .data = want};
	ms_result res, mres;
	char at[48];

	trace("%d: %s%s 0x%016" PRIx64 " len %" PRIu64 " %s\n", fz.op, dma ? "dma_" : "",
	      is_write ? "write" : "read", addr, len, attrs_text(attrs, at));
	if (is_write) {
		for (uint64_t i = 0; i < len; i++)
			got[i] = want[i] = rd8(r) ^ (uint8_t)i;
		res = dma ? ms_as_dma_write(mach.as, addr, got, len, attrs)
			  : ms_as_write(mach.as, addr, attrs, got, len);
	} else {
		memset(got, 0xa5, sizeof(got));
		memset(want, 0x5a, sizeof(want));
		res = dma ? ms_as_dma_read(mach.as, addr, got, len, attrs)
			  : ms_as_read(mach.as, addr, attrs, got, len);
	}
	mres = m_access(&q);
	compare_result(is_write ? "write" : "read", res, mres);
	if (!is_write)
		compare_bytes("read data", want, got, len);
	compare_state();
}

static void op_set(struct reader *r)
{
	uint64_t addr = rd_addr(r), len = rd_len(r);
	ms_attrs attrs = rd_attrs(r);
	uint8_t byte = rd8(r), bytes[MAX_LEN];
	struct req q = {.addr = addr, .len = len, .is_write = true, .attrs = attrs, .data = bytes};
	char at[48];

	trace("%d: set 0x%016" PRIx64 " len %" PRIu64 " byte 0x%02x %s\n", fz.op, addr, len, byte,
	      attrs_text(attrs, at));
	memset(bytes, byte, sizeof(bytes));
	compare_result("set", ms_as_set(mach.as, addr, attrs, byte, len), m_access(&q));
	compare_state();
}

static void op_write_rom(struct reader *r)
{
	uint64_t addr = rd_addr(r), len = rd_len(r);
	uint8_t bytes[MAX_LEN], copy[MAX_LEN];
	struct req q = {.addr = addr, .len = len, .is_write = true, .loader = true, .data = bytes};

	trace("%d: write_rom 0x%016" PRIx64 " len %" PRIu64 "\n", fz.op, addr, len);
	for (uint64_t i = 0; i < len; i++)
		copy[i] = bytes[i] = rd8(r) + 0x40;
	compare_result("write_rom", ms_as_write_rom(mach.as, addr, copy, len), m_access(&q));
	compare_state();
}

static uint64_t scalar_load(uint64_t addr, ms_attrs attrs, unsigned size, bool big, ms_result *res)
{
	switch (size) {
	case 1:
		return ms_as_ldub(mach.as, addr, attrs, res);
	case 2:
		return big ? ms_as_lduw_be(mach.as, addr, attrs, res)
			   : ms_as_lduw_le(mach.as, addr, attrs, res);
	case 4:
		return big ? ms_as_ldl_be(mach.as, addr, attrs, res)
			   : ms_as_ldl_le(mach.as, addr, attrs, res);
	default:
		return big ? ms_as_ldq_be(mach.as, addr, attrs, res)
			   : ms_as_ldq_le(mach.as, addr, attrs, res);
	}
}

static ms_result scalar_store(uint64_t addr, ms_attrs attrs, unsigned size, bool big, uint64_t v)
{
	switch (size) {
	case 1:
		return ms_as_stb(mach.as, addr, attrs, (uint8_t)v);
	case 2:
		return big ? ms_as_stw_be(mach.as, addr, attrs, (uint16_t)v)
			   : ms_as_stw_le(mach.as, addr, attrs, (uint16_t)v);
	case 4:
		return big ? ms_as_stl_be(mach.as, addr, attrs, (uint32_t)v)
			   : ms_as_stl_le(mach.as, addr, attrs, (uint32_t)v);
	default:
		return big ? ms_as_stq_be(mach.as, addr, attrs, v)
			   : ms_as_stq_le(mach.as, addr, attrs, v);
	}
}

static void op_scalar(struct reader *r, bool is_write)
{
	uint8_t sel = rd8(r);
	unsigned size = 1u << (sel % 4);
	bool big = sel & 4;
	uint64_t addr = rd_addr(r), value = rd64(r);
	ms_attrs attrs = rd_attrs(r);
	uint8_t bytes[8];
	struct req q = {.addr = addr,
			.len = size,
			.is_write = is_write,
			.single = true,
			.attrs = attrs,
			.data = bytes};
	ms_result res, mres;
	char at[48];

	if (size < 8)
		value &= ((uint64_t)1 << (8 * size)) - 1;
	trace("%d: %s%u_%s 0x%016" PRIx64 " value 0x%" PRIx64 " %s\n", fz.op,
	      is_write ? "st" : "ld", size, big ? "be" : "le", addr, value, attrs_text(attrs, at));
	if (is_write) {
		put_value(bytes, size, value, big);
		res = scalar_store(addr, attrs, size, big, value);
		mres = m_access(&q);
		compare_result("store", res, mres);
	} else {
		uint64_t got;

		res = 0xdead;
		got = scalar_load(addr, attrs, size, big, &res);
		mres = m_access(&q);
		compare_result("load", res, mres);
		if (got != get_value(bytes, size, big))
			divergence("load returned 0x%" PRIx64 ", the model says 0x%" PRIx64, got,
				   get_value(bytes, size, big));
	}
	compare_state();
}

static void op_access_valid(struct reader *r)
{
	uint64_t addr = rd_addr(r), len = rd_len(r);
	ms_attrs attrs = rd_attrs(r);
	bool is_write = rd8(r) & 1;
	struct req q = {
		.addr = addr, .len = len, .is_write = is_write, .probe = true, .attrs = attrs};
	bool got = ms_as_access_valid(mach.as, addr, len, is_write, attrs);
	bool want = m_access(&q) == MS_RESULT_OK;
	char at[48];

	trace("%d: access_valid 0x%016" PRIx64 " len %" PRIu64 " %s %s\n", fz.op, addr, len,
	      is_write ? "write" : "read", attrs_text(attrs, at));
	if (got != want)
		divergence("access_valid returned %d, the model says %d", got, want);
	compare_state(); /* no callback may run */
}

static void op_translate(struct reader *r)
{
	uint64_t addr = rd_addr(r), want_len = rd_len(r) + 1, len = want_len, expect_len;
	ms_section sec;
	int index = -1, rc;
	const struct seg *s = seg_at(addr, &index);

	trace("%d: translate 0x%016" PRIx64 " len %" PRIu64 "\n", fz.op, addr, want_len);
	ms_rcu_read_lock();
	rc = ms_as_translate(&sec, &len, mach.as, addr,
			     &(ms_access_opts){.is_write = false, .attrs = MS_ATTRS_UNSPECIFIED});
	ms_rcu_read_unlock();
	if (s && s->kind == S_IOMMU) {
		uint64_t final, flen;
		int mrc = m_resolve(addr, want_len, false, MS_ATTRS_UNSPECIFIED, &final, &flen,
				    &index);

		stat_xlat++;
		if (mrc == -EACCES) {
			if (rc != -EACCES && rc != -EIO && rc != -ELOOP)
				divergence("translate through an IOMMU returned %d, the model "
					   "says a failed translation",
					   rc);
			return;
		}
		if (mrc == -ENOENT) {
			if (rc != -ENOENT)
				divergence("translate through an IOMMU into a hole returned %d",
					   rc);
			return;
		}
		s = &segs[index];
		if (rc != 0 || len != flen || sec.region != mach.target[index] ||
		    sec.start != addr || sec.offset_in_region != s->base + (final - s->start) ||
		    sec.readonly != s->readonly || sec.romd != (s->kind == S_ROMD && model.romd))
			divergence("translate through an IOMMU returned %d, len %" PRIu64
				   " (model %" PRIu64 "), offset 0x%" PRIx64
				   ", a section that differs from %s at 0x%" PRIx64,
				   rc, len, flen, sec.offset_in_region, s->name, final);
		return;
	}
	if (!s) {
		uint64_t next = next_start(addr);

		expect_len = next == 0 || next - addr > want_len ? want_len : next - addr;
		if (rc != -ENOENT || len != expect_len)
			divergence("translate of a hole returned %d, len %" PRIu64
				   "; the model says -ENOENT, len %" PRIu64,
				   rc, len, expect_len);
		return;
	}
	expect_len = piece_len(s, addr, want_len);
	if (rc != 0 || len != expect_len || sec.region != mach.target[index] || sec.start != addr ||
	    sec.offset_in_region != s->base + (addr - s->start) || sec.readonly != s->readonly ||
	    sec.romd != (s->kind == S_ROMD && model.romd))
		divergence("translate returned %d, len %" PRIu64 " (model %" PRIu64
			   "), offset 0x%" PRIx64 ", a section that differs from %s",
			   rc, len, expect_len, sec.offset_in_region, s->name);
}

static bool map_direct(const struct seg *s, bool is_write)
{
	return (s->kind == S_RAM && (!is_write || !s->readonly)) ||
	       (s->kind == S_ROMD && model.romd && !is_write);
}

static void op_map(struct reader *r)
{
	uint64_t addr = rd_addr(r), want = rd_len(r), len = want;
	ms_attrs attrs = rd_attrs(r);
	bool is_write = rd8(r) & 1;
	int index = -1, rc = -ENOENT;
	const struct seg *s = NULL;
	uint64_t final = addr, expect_len = 0;
	uint8_t model_buf[MAX_LEN];
	uint8_t *p;
	char at[48];

	trace("%d: map 0x%016" PRIx64 " len %" PRIu64 " %s %s\n", fz.op, addr, want,
	      is_write ? "write" : "read", attrs_text(attrs, at));
	p = ms_as_map(mach.as, addr, &len, is_write, attrs);
	if (want > 0)
		rc = m_resolve(addr, want, is_write, attrs, &final, &expect_len, &index);
	if (rc == 0)
		s = &segs[index];

	/* Nothing at holes, reservations, failed translations, non-RAM under attrs.memory. */
	if (want == 0 || !s || s->kind == S_RESV || (attrs.memory && !is_ram_target(s))) {
		if (p || len != 0)
			divergence("map returned %p, len %" PRIu64 " where nothing can be mapped",
				   (void *)p, len);
		compare_state();
		return;
	}
	uint64_t offset = s->base + (final - s->start);
	bool direct = map_direct(s, is_write);

	/*
	 * A direct map goes on over pieces of the same memory at contiguous
	 * offsets, through IOMMU pages as well (each translated in turn).
	 */
	while (direct && expect_len < want && addr + expect_len != 0) {
		uint64_t next = addr + expect_len, nfinal, nlen;
		int nindex;
		const struct seg *t;

		if (m_resolve(next, want - expect_len, is_write, attrs, &nfinal, &nlen, &nindex) !=
		    0)
			break;
		t = &segs[nindex];
		if (t->mem != s->mem || !map_direct(t, is_write) ||
		    t->base + (nfinal - t->start) != offset + expect_len)
			break;
		expect_len += nlen;
	}

	if (direct) {
		stat_direct++;
		if (p != mach.mem[s->mem] + offset || len != expect_len)
			divergence("direct map returned %p len %" PRIu64 ", the model says %p len "
				   "%" PRIu64,
				   (void *)p, len, (void *)(mach.mem[s->mem] + offset), expect_len);
		if (is_write) {
			uint64_t n = rd8(r) % (len + 1);

			for (uint64_t i = 0; i < n; i++)
				p[i] = model.mem[s->mem][offset + i] = rd8(r);
			/* Nothing is marked while the mapping is held; its first n bytes at unmap. */
			compare_dirty_state();
			check_rc(ms_as_unmap(mach.as, p, len, true, n), "unmap");
			m_mark(s->mem, offset, n);
		} else {
			compare_bytes("direct read map", &model.mem[s->mem][offset], p, len);
			check_rc(ms_as_unmap(mach.as, p, len, false, 0), "unmap");
		}
		compare_state();
		return;
	}

	/* A bounce buffer: filled by a read now, or written back at unmap. */
	stat_bounce++;
	if (!is_write) {
		struct req q = {.addr = addr, .len = expect_len, .attrs = attrs, .data = model_buf};
		ms_result mres = m_access(&q);

		if (mres != MS_RESULT_OK) {
			if (p || len != 0)
				divergence("bounce read map over a failing read (0x%x) returned %p",
					   mres, (void *)p);
			compare_state();
			return;
		}
		if (!p || len != expect_len)
			divergence("bounce read map returned %p len %" PRIu64
				   ", the model says len %" PRIu64,
				   (void *)p, len, expect_len);
		compare_bytes("bounce read map", model_buf, p, len);
		check_rc(ms_as_unmap(mach.as, p, len, false, 0), "unmap");
		compare_state();
		return;
	}
	if (!p || len != expect_len)
		divergence("bounce write map returned %p len %" PRIu64
			   ", the model says len %" PRIu64,
			   (void *)p, len, expect_len);
	for (uint64_t i = 0; i < len; i++)
		if (p[i] != 0)
			divergence("bounce write map: byte %" PRIu64 " is not zero", i);
	compare_state();
	uint64_t n = rd8(r) % (len + 1);

	for (uint64_t i = 0; i < n; i++)
		p[i] = model_buf[i] = rd8(r);
	/* A wrong length is refused and changes nothing. */
	if (ms_as_unmap(mach.as, p, len + 1, true, 0) != -EINVAL)
		divergence("unmap with a wrong length was not refused");
	check_rc(ms_as_unmap(mach.as, p, len, true, n), "unmap");
	struct req q = {
		.addr = addr, .len = n, .is_write = true, .attrs = attrs, .data = model_buf};

	m_access(&q);
	compare_state();
}

/* ---- IOMMU operations -------------------------------------------------------------- */

/* Announce a change of IOMMU @i's index @idx and predict its deliveries. */
static void io_event(int i, unsigned idx, unsigned type, uint64_t iova, uint64_t mask,
		     uint64_t xlat, int perm)
{
	ms_iommu_event ev = {
		.type = type,
		.entry = {.target_as = type == MS_IOMMU_NOTIFIER_MAP ? io_target : NULL,
			  .iova = iova,
			  .translated_addr = xlat,
			  .addr_mask = mask,
			  .perm = (ms_iommu_perm)perm}};
	int rc = ms_iommu_notify(io.region[i], idx, &ev);
	int want = m_notify(i, idx, type, iova, mask, xlat, perm);

	if (rc != want)
		divergence("ms_iommu_notify returned %d, the model says %d", rc, want);
}

/*
 * Change a page table entry: UNMAP every mapping it overlaps (whole), then
 * MAP the new one, as docs/iommu.md asks.
 */
static void op_io_set(struct reader *r)
{
	uint8_t sel = rd8(r), b = rd8(r);
	int i = (sel & 3) % NIOMMU;
	unsigned idx = ((sel >> 2) & 3) % io_nidx(i);
	unsigned slot = (sel >> 4) % IO_SLOTS;
	static const uint8_t shifts[8] = {4, 4, 4, 4, 5, 5, 6, 8};
	uint8_t shift = shifts[b % 8];
	int perm = (b >> 3) & 3;
	bool broken = (b >> 5) == 7;
	uint64_t target = rd_addr(r);
	unsigned span = 1u << (shift - 4), first = slot & ~(span - 1);
	struct io_entry *tab = io_tab[i][idx];

	if (broken) {
		span = 1;
		first = slot;
	}
	target &= ~(((uint64_t)1 << shift) - 1);
	trace("%d: io_set iommu%d idx %u slot %u shift %u perm %d%s -> 0x%" PRIx64 "\n", fz.op, i,
	      idx, first, shift, perm, broken ? " broken" : "", target);
	for (unsigned v = first; v < first + span; v++) {
		struct io_entry old = tab[v];

		if (old.broken) {
			tab[v] = (struct io_entry){0};
			continue;
		}
		if (!old.set)
			continue;
		uint64_t mask = ((uint64_t)1 << old.shift) - 1;
		uint64_t iova = (v * IO_PAGE) & ~mask;

		for (uint64_t u = iova / IO_PAGE; u <= (iova + mask) / IO_PAGE && u < IO_SLOTS; u++)
			tab[u] = (struct io_entry){0};
		io_event(i, idx, MS_IOMMU_NOTIFIER_UNMAP, iova, mask, old.target & ~mask,
			 MS_IOMMU_NONE);
	}
	if (broken) {
		tab[first] = (struct io_entry){false, true, MS_IOMMU_RW, 4, target};
	} else if (perm != MS_IOMMU_NONE) {
		for (unsigned v = first; v < first + span; v++)
			tab[v] = (struct io_entry){true, false, (uint8_t)perm, shift, target};
		io_event(i, idx, MS_IOMMU_NOTIFIER_MAP, first * IO_PAGE, ((uint64_t)1 << shift) - 1,
			 target, perm);
	}
	compare_state();
}

static void m_flags_changed(int i)
{
	ms_iommu_notifier_flags f = 0;

	for (int k = 0; k < NNOT; k++)
		if (nots[k].n && nots[k].iommu == i)
			f |= nots[k].flags;
	if (f != io_flags[i])
		log_nev(&model_nev, (struct nev){-1 - i, io_flags[i], f, 0, 0, 0});
	io_flags[i] = f;
}

/* Register a notifier in a free slot, or unregister the one there. */
static void op_notifier(struct reader *r)
{
	uint8_t sel = rd8(r), f = rd8(r);
	int k = sel % NNOT;
	struct nslot *ns = &nots[k];

	if (ns->n) {
		trace("%d: unregister notifier %d\n", fz.op, k);
		ms_iommu_unregister_notifier(ns->n);
		ns->n = NULL;
		m_flags_changed(ns->iommu);
		compare_state();
		return;
	}
	int i = ((sel >> 3) & 3) % NIOMMU;
	unsigned idx = (sel >> 5) % 3;
	unsigned flags = f & 7;
	uint64_t start, end;

	switch ((f >> 3) % 4) {
	case 0:
		start = 0;
		end = UINT64_MAX;
		break;
	case 1:
		start = (uint64_t)rd8(r);
		end = start + rd8(r);
		break;
	case 2:
		start = rd8(r) * (uint64_t)IO_PAGE;
		end = start + rd8(r) % 0x40 * IO_PAGE + IO_PAGE - 1;
		break;
	default:
		start = rd64(r);
		end = rd64(r);
		break;
	}
	bool fail = (f >> 5) == 7;
	ms_iommu_notifier *n = NULL;
	int rc = ms_iommu_register_notifier(&n, io.region[i],
					    &(ms_iommu_notifier_opts){.flags = flags,
								      .start = start,
								      .end = end,
								      .iommu_idx = idx,
								      .notify = io_notify_cb,
								      .opaque = ns});
	int want = flags == 0 || start > end || idx >= io_nidx(i) ? -EINVAL : 0;

	trace("%d: register notifier %d iommu%d idx %u flags %u [0x%" PRIx64 ", 0x%" PRIx64
	      "]%s: %d\n",
	      fz.op, k, i, idx, flags, start, end, fail ? " failing" : "", rc);
	if (rc != want || (rc == 0) != (n != NULL))
		divergence("register_notifier returned %d, the model says %d", rc, want);
	if (rc == 0) {
		*ns = (struct nslot){n, i, idx, flags, start, end, ++not_seq, fail};
		m_flags_changed(i);
	}
	compare_state();
}

/* The model of the default replay: every page of the range, a larger mapping once. */
static int m_replay(int k)
{
	const struct nslot *ns = &nots[k];
	uint64_t size = IO_SLOTS * IO_PAGE;
	uint64_t first = ns->start, last = ns->end < size - 1 ? ns->end : size - 1, addr;

	if (first > last)
		return 0;
	addr = first & ~(uint64_t)(IO_PAGE - 1);
	for (;;) {
		const struct io_entry *e = &io_tab[ns->iommu][ns->idx][addr / IO_PAGE];
		uint64_t next = addr + IO_PAGE;

		if (e->broken)
			return -EIO;
		if (e->set) {
			uint64_t mask = ((uint64_t)1 << e->shift) - 1;
			int rc = m_deliver(k, MS_IOMMU_NOTIFIER_MAP, addr & ~mask, mask,
					   e->target & ~mask, e->perm);

			if (rc < 0)
				return rc;
			if ((addr | mask) + 1 > next)
				next = (addr | mask) + 1;
		}
		if (next > last)
			return 0;
		addr = next;
	}
}

/* Replay the mappings to a notifier, or tell it everything is unmapped. */
static void op_replay(struct reader *r)
{
	uint8_t sel = rd8(r);
	int k = sel % NNOT, rc, want;
	struct nslot *ns = &nots[k];

	if (!ns->n)
		return;
	if (sel & 0x80) {
		trace("%d: unmap_notifier_range %d\n", fz.op, k);
		rc = ms_iommu_unmap_notifier_range(ns->n);
		want = m_deliver(k, MS_IOMMU_NOTIFIER_UNMAP, ns->start, ns->end - ns->start, 0,
				 MS_IOMMU_NONE);
	} else {
		trace("%d: replay %d\n", fz.op, k);
		rc = ms_iommu_replay(io.region[ns->iommu], ns->n);
		want = m_replay(k);
	}
	if (rc != want)
		divergence("replay/unmap_notifier_range returned %d, the model says %d", rc, want);
	compare_state();
}

/*
 * A region cache over a stretch: reads and writes through it, table changes
 * and invalidations between them. Every access must be what the same access
 * through the address space gives.
 */
static void op_cache(struct reader *r)
{
	uint64_t addr = rd_addr(r), len = rd8(r) % 0x40 + 1;
	bool is_write = rd8(r) & 1;
	unsigned steps = rd8(r) % 8 + 1;
	ms_cache c;

	trace("%d: cache 0x%016" PRIx64 " len %" PRIu64 " %s\n", fz.op, addr, len,
	      is_write ? "write" : "read");
	if (addr + len - 1 < addr) {
		if (ms_cache_init(&c, mach.as, addr, len, is_write) != -EINVAL)
			divergence("cache_init of a wrapping stretch was not refused");
		return;
	}
	check_rc(ms_cache_init(&c, mach.as, addr, len, is_write), "cache_init");
	for (unsigned i = 0; i < steps && r->n > 0; i++) {
		uint8_t sel = rd8(r);
		uint64_t off = rd8(r) % (len + 2), n = rd8(r) % 17;
		uint8_t got[17], want[17];
		bool inside = off + n <= len;
		struct req q = {.addr = addr + off,
				.len = n,
				.is_write = sel & 1,
				.attrs = MS_ATTRS_UNSPECIFIED,
				.data = want};
		ms_result res, mres;

		if ((sel & 6) == 6) {
			op_io_set(r);
			continue;
		}
		if ((sel & 6) == 4) {
			trace("%d:   cache invalidate\n", fz.op);
			ms_cache_invalidate(&c);
			continue;
		}
		trace("%d:   cache %s +0x%" PRIx64 " len %" PRIu64 "\n", fz.op,
		      sel & 1 ? "write" : "read", off, n);
		if (sel & 1) {
			for (uint64_t j = 0; j < n; j++)
				got[j] = want[j] = rd8(r);
			res = ms_cache_write(&c, off, got, n);
		} else {
			memset(got, 0xa5, sizeof(got));
			memset(want, 0x5a, sizeof(want));
			res = ms_cache_read(&c, off, got, n);
		}
		if (n == 0) {
			mres = MS_RESULT_OK;
		} else if (!inside) {
			memset(want, 0, sizeof(want));
			mres = MS_RESULT_ACCESS_ERROR;
		} else {
			mres = m_access(&q);
		}
		compare_result(sel & 1 ? "cache write" : "cache read", res, mres);
		if (!(sel & 1))
			compare_bytes("cache read data", want, got, n);
		compare_state();
	}
	ms_cache_destroy(&c);
}

static void op_toggle(struct reader *r)
{
	uint8_t sel = rd8(r);
	int rc;

	if ((sel & 7) == 7) {
		model.max_depth = model.max_depth == 1 ? MS_ACCESS_DEPTH_DEFAULT : 1;
		trace("%d: set_max_access_depth %u\n", fz.op, model.max_depth);
		rc = ms_ctx_set_max_access_depth(mach.ctx, model.max_depth);
	} else if (sel & 1) {
		model.romd = !model.romd;
		trace("%d: set_romd %d\n", fz.op, model.romd);
		rc = ms_region_set_romd(mach.regions[R_ROMD], model.romd);
	} else {
		int i = (sel >> 1) % NSEG;

		if (!segs[i].toggled)
			return;
		model.enabled[i] = !model.enabled[i];
		trace("%d: set_enabled %s %d\n", fz.op, segs[i].name, model.enabled[i]);
		rc = ms_region_set_enabled(mach.regions[i], model.enabled[i]);
	}
	check_rc(rc, "toggle");
	compare_state();
}

/* ---- Dirty logging ------------------------------------------------------------------ */

/* Op codes from DIRTY_CODE up are dirty-logging calls (they were codes 0-3 mod 18 before). */
#define DIRTY_CODE 252

static void seen_update(void)
{
	for (int b = 0; b < NBLK; b++)
		model.log_seen[b] |= m_log_mask(b);
}

/* A range of block @b: all of it, whole pages, bytes anywhere, or anything (maybe invalid). */
static void rd_range(struct reader *r, int b, uint64_t *offset, uint64_t *size)
{
	uint8_t sel = rd8(r), x = rd8(r), y = rd8(r);
	uint64_t bs = blk_size(b), pages = blk_pages(b);

	switch (sel % 4) {
	case 0:
		*offset = 0;
		*size = bs;
		break;
	case 1:
		*offset = x % pages * DIRTY_PAGE;
		*size = (y % (pages - x % pages) + 1) * DIRTY_PAGE;
		if (*size > bs - *offset)
			*size = bs - *offset;
		break;
	case 2:
		*offset = x * bs / 256;
		*size = (uint64_t)y * (sel & 4 ? 64 : 1);
		break;
	default:
		*offset = sel & 4 ? rd64(r) : rd16(r);
		*size = sel & 8 ? rd64(r) : rd16(r);
		break;
	}
}

/* What the dirty calls accept: a non-empty range inside the region (docs/errors.md). */
static bool range_valid(int b, uint64_t offset, uint64_t size)
{
	return size > 0 && offset < blk_size(b) && size <= blk_size(b) - offset;
}

/* Does any page of [offset, offset + size) of block @b have @client's bit in the model? */
static bool m_range_dirty(int b, unsigned client, uint64_t offset, uint64_t size)
{
	for (uint64_t p = offset / DIRTY_PAGE; p <= (offset + size - 1) / DIRTY_PAGE; p++)
		if (m_dirty(b, client, p))
			return true;
	return false;
}

/* Is any segment showing block @b's memory enabled (then its ranges show all of it)? */
static bool blk_visible(int b)
{
	for (int i = 0; i < NSEG; i++)
		if (segs[i].mem == b && segs[i].kind != S_DEV && model.enabled[i])
			return true;
	return false;
}

/*
 * ms_as_log_sync(): the listener visits every logged range of the view
 * (listener.h) and marks what was written behind the library's back there;
 * then every bit of every block and client, and ranges of them, against the
 * model.
 */
static void dirty_sync(struct reader *r)
{
	unsigned queries = rd8(r) % 4;

	trace("%d: log_sync\n", fz.op);
	memset(synced, 0, sizeof(synced));
	check_rc(ms_as_log_sync(mach.as), "log_sync");
	for (int b = 0; b < NBLK; b++) {
		bool want = b != M_BIG && blk_visible(b) && m_log_mask(b) != 0;

		if (synced[b] != want)
			divergence("log_sync %s block %d, the model says it %s",
				   synced[b] ? "visited" : "skipped", b,
				   want ? "is logged and visible" : "is not");
		for (uint64_t p = 0; want && p < blk_pages(b); p++)
			if ((behind[b] >> p) & 1)
				m_mark(b, p * DIRTY_PAGE, 1);
		if (want)
			behind[b] = 0;
		compare_dirty(b, 0xff);
	}
	for (unsigned i = 0; i < queries; i++) {
		int b = rd8(r) % NBLK;
		unsigned client = rd8(r) % (MS_DIRTY_CLIENTS + 1);
		uint64_t offset, size;

		rd_range(r, b, &offset, &size);
		bool got = ms_region_get_dirty(mach.blk[b], offset, size, client);
		bool want = range_valid(b, offset, size) && client < MS_DIRTY_CLIENTS &&
			    m_range_dirty(b, client, offset, size);

		if (got != want)
			divergence("get_dirty(block %d, 0x%" PRIx64 ", 0x%" PRIx64
				   ", %u) is %d, the model says %d",
				   b, offset, size, client, got, want);
	}
}

/*
 * ms_region_snapshot_and_clear_dirty(). docs/dirty.md ("Rounding of
 * snapshots") says exactly which bits are taken: whole 64-page words around
 * the range, clipped to the block. So the model predicts the snapshot's
 * range, every bit in it and every bit left behind exactly: nothing here is
 * over-reported, and the check is equality, not inclusion.
 */
static void dirty_snapshot(struct reader *r)
{
	int b = rd8(r) % NBLK;
	unsigned client = rd8(r) % (MS_DIRTY_CLIENTS + 1);
	uint64_t offset, size, got_off = 1, got_size = 1, first, last, count = 0;
	ms_dirty_snapshot *snap = (ms_dirty_snapshot *)&snap; /* a refusal must set it to NULL */
	int rc;

	rd_range(r, b, &offset, &size);
	trace("%d: snapshot block %d 0x%" PRIx64 "+0x%" PRIx64 " client %u\n", fz.op, b, offset,
	      size, client);
	rc = ms_region_snapshot_and_clear_dirty(&snap, mach.blk[b], offset, size, client);
	if (!range_valid(b, offset, size) || client >= MS_DIRTY_CLIENTS) {
		if (rc != -EINVAL || snap)
			divergence("a snapshot of a bad range or client returned %d", rc);
		compare_state();
		return;
	}
	if (rc != 0 || !snap)
		divergence("snapshot returned %d", rc);
	first = offset / DIRTY_PAGE / 64 * 64;
	last = ((offset + size - 1) / DIRTY_PAGE / 64 + 1) * 64 - 1;
	if (last >= blk_pages(b))
		last = blk_pages(b) - 1;
	ms_dirty_snapshot_range(snap, &got_off, &got_size);
	uint64_t want_size =
		((last + 1) * DIRTY_PAGE < blk_size(b) ? (last + 1) * DIRTY_PAGE : blk_size(b)) -
		first * DIRTY_PAGE;

	if (got_off != first * DIRTY_PAGE || got_size != want_size)
		divergence("snapshot covers 0x%" PRIx64 "+0x%" PRIx64 ", the model says 0x%" PRIx64
			   "+0x%" PRIx64,
			   got_off, got_size, first * DIRTY_PAGE, want_size);
	uint64_t from = 0, next = 0;

	for (uint64_t p = first; p <= last; p++) {
		uint64_t off = p * DIRTY_PAGE;
		uint64_t n = blk_size(b) - off < DIRTY_PAGE ? blk_size(b) - off : DIRTY_PAGE;
		bool want = m_dirty(b, client, p);

		if (ms_dirty_snapshot_get_dirty(snap, off, n) != want)
			divergence("snapshot page %" PRIx64 " is not %s", p,
				   want ? "dirty" : "clean");
		if (!want)
			continue;
		count++;
		/* The walk finds exactly the dirty pages, in order. */
		if (!ms_dirty_snapshot_next(snap, from, &next) || next != off)
			divergence("snapshot_next from 0x%" PRIx64 " gave 0x%" PRIx64
				   ", the model says 0x%" PRIx64,
				   from, next, off);
		/* On from anywhere inside the page found: its first or last byte after. */
		from = next + 1 + (p % 2 ? DIRTY_PAGE - 2 : 0);
	}
	if (ms_dirty_snapshot_next(snap, from, &next))
		divergence("snapshot_next from 0x%" PRIx64 " found 0x%" PRIx64
			   " past the last dirty page",
			   from, next);
	if (ms_dirty_snapshot_count(snap) != count)
		divergence("snapshot_count %" PRIu64 ", the model says %" PRIu64,
			   ms_dirty_snapshot_count(snap), count);
	/* A range inside answers for any page of it; one outside is false. */
	uint64_t lo = got_off + rd8(r) % got_size, hi = lo + rd8(r) % (got_off + got_size - lo);

	if (ms_dirty_snapshot_get_dirty(snap, lo, hi - lo + 1) !=
	    m_range_dirty(b, client, lo, hi - lo + 1))
		divergence("snapshot get_dirty(0x%" PRIx64 ", 0x%" PRIx64
			   ") differs from the model",
			   lo, hi - lo + 1);
	if ((got_off > 0 && ms_dirty_snapshot_get_dirty(snap, got_off - 1, 1)) ||
	    ms_dirty_snapshot_get_dirty(snap, got_off + got_size, 1))
		divergence("snapshot get_dirty outside its range is true");
	m_dirty_clear(b, client, first, last);
	ms_dirty_snapshot_free(snap);
	compare_state();
}

static void op_dirty(struct reader *r)
{
	uint8_t sel = rd8(r);
	uint64_t offset, size;
	int b, rc, want;

	stat_dirty_ops++;
	dirty_call = true;
	switch (sel % 8) {
	case 0:
	case 1: {
		uint8_t t = rd8(r);
		unsigned client = rd8(r) % (MS_DIRTY_CLIENTS + 1);
		bool enable = sel & 8;
		/* A block's region, or any segment's (aliases, devices, IOMMUs are refused). */
		ms_region *region = t & 0x80 ? mach.regions[t % NSEG] : mach.blk[t % NBLK];

		b = region_block(region);
		trace("%d: set_dirty_log %s client %u %d\n", fz.op, ms_region_name(region), client,
		      enable);
		rc = ms_region_set_dirty_log(region, client, enable);
		want = b < 0 || client >= MS_DIRTY_CLIENTS ? -EINVAL : 0;
		if (rc != want)
			divergence("set_dirty_log returned %d, the model says %d", rc, want);
		if (rc == 0)
			model.log_own[b] = enable ? model.log_own[b] | (1u << client)
						  : model.log_own[b] & ~(1u << client);
		break;
	}
	case 2:
		model.log_global = !(sel & 8);
		trace("%d: dirty_log_global %s\n", fz.op, model.log_global ? "start" : "stop");
		rc = model.log_global ? ms_ctx_dirty_log_global_start(mach.ctx)
				      : ms_ctx_dirty_log_global_stop(mach.ctx);
		check_rc(rc, "global logging");
		if (ms_ctx_dirty_log_global(mach.ctx) != model.log_global)
			divergence("ms_ctx_dirty_log_global is not %d", model.log_global);
		break;
	case 3:
		dirty_sync(r);
		break;
	case 4:
		dirty_snapshot(r);
		dirty_call = false;
		return;
	case 5: {
		unsigned client;

		b = rd8(r) % NBLK;
		client = rd8(r) % (MS_DIRTY_CLIENTS + 1);
		rd_range(r, b, &offset, &size);
		trace("%d: reset_dirty block %d 0x%" PRIx64 "+0x%" PRIx64 " client %u\n", fz.op, b,
		      offset, size, client);
		rc = ms_region_reset_dirty(mach.blk[b], offset, size, client);
		want = range_valid(b, offset, size) && client < MS_DIRTY_CLIENTS ? 0 : -EINVAL;
		if (rc != want)
			divergence("reset_dirty returned %d, the model says %d", rc, want);
		if (rc == 0) /* whole pages, even those the range covers in part */
			m_dirty_clear(b, client, offset / DIRTY_PAGE,
				      (offset + size - 1) / DIRTY_PAGE);
		break;
	}
	case 6:
		if (sel & 8) {
			b = rd8(r) % NBLK;
			rd_range(r, b, &offset, &size);
			trace("%d: set_dirty block %d 0x%" PRIx64 "+0x%" PRIx64 "\n", fz.op, b,
			      offset, size);
			rc = ms_region_set_dirty(mach.blk[b], offset, size);
			want = range_valid(b, offset, size) ? 0 : -EINVAL;
			if (rc != want)
				divergence("set_dirty returned %d, the model says %d", rc, want);
			if (rc == 0)
				m_mark(b, offset, size);
		} else {
			/* A write behind the library's back: marked at the next log_sync. */
			b = rd8(r) % NMEM;
			offset = rd16(r) % mem_size[b];
			size = rd8(r) % 64 + 1;
			if (size > mem_size[b] - offset)
				size = mem_size[b] - offset;
			trace("%d: behind block %d 0x%" PRIx64 "+0x%" PRIx64 "\n", fz.op, b, offset,
			      size);
			for (uint64_t i = 0; i < size; i++)
				mach.mem[b][offset + i] = model.mem[b][offset + i] = rd8(r);
			for (uint64_t p = offset / DIRTY_PAGE;
			     p <= (offset + size - 1) / DIRTY_PAGE; p++)
				behind[b] |= (uint64_t)1 << p;
		}
		break;
	default: {
		static const uint64_t sizes[4] = {DIRTY_PAGE, 4096, 1000, 256};
		uint64_t ps = sizes[(sel >> 3) % 4];

		/* The page size is fixed once RAM exists: the same size again is accepted. */
		trace("%d: set_dirty_page_size %" PRIu64 "\n", fz.op, ps);
		rc = ms_ctx_set_dirty_page_size(mach.ctx, ps);
		want = ps == DIRTY_PAGE ? 0 : ps == 4096 ? -EBUSY : -EINVAL;
		if (rc != want || ms_ctx_dirty_page_size(mach.ctx) != DIRTY_PAGE)
			divergence("set_dirty_page_size(%" PRIu64
				   ") returned %d, the model says %d",
				   ps, rc, want);
		break;
	}
	}
	seen_update();
	compare_state();
	dirty_call = false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reader rd = {data, size};

	if (!mach.ctx)
		build_machine();
	reset();
	fz.trace_len = 0;
	fz.trace[0] = '\0';
	for (fz.op = 0; fz.op < MAX_FUZZ_OPS && rd.n > 0; fz.op++) {
		uint8_t code = rd8(&rd);

		if (code >= DIRTY_CODE) {
			op_dirty(&rd);
			continue;
		}
		switch (code % 18) {
		case 0:
		case 1:
		case 2:
		case 3:
			op_read_write(&rd, code % 14);
			break;
		case 4:
			op_set(&rd);
			break;
		case 5:
			op_write_rom(&rd);
			break;
		case 6:
		case 7:
			op_scalar(&rd, false);
			break;
		case 8:
			op_scalar(&rd, true);
			break;
		case 9:
			op_access_valid(&rd);
			break;
		case 10:
			op_translate(&rd);
			break;
		case 11:
		case 12:
			op_map(&rd);
			break;
		case 13:
			op_toggle(&rd);
			break;
		case 14:
			op_io_set(&rd);
			break;
		case 15:
			op_notifier(&rd);
			break;
		case 16:
			op_replay(&rd);
			break;
		default:
			op_cache(&rd);
			break;
		}
	}
	if (getenv("MS_FUZZ_TRACE"))
		fputs(fz.trace, stderr);
	if (getenv("MS_FUZZ_STATS"))
		fprintf(stderr,
			"fuzz_access: %d ops; results ok %lu, error %lu, decode %lu, access %lu, "
			"mixed %lu; %lu device callbacks; %lu direct and %lu bounce maps; %lu "
			"notifier events; %lu IOMMU translates; %lu dirty calls, %lu pages compared\n",
			fz.op, stat_results[0], stat_results[1], stat_results[2], stat_results[4],
			stat_results[3] + stat_results[5] + stat_results[6] + stat_results[7],
			stat_callbacks, stat_direct, stat_bounce, stat_events, stat_xlat,
			stat_dirty_ops, stat_dirty_pages);
	return 0;
}
