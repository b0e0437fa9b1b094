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

struct machine {
	ms_ctx *ctx;
	ms_as *as;
	ms_region *root;
	ms_region *regions[NSEG]; /* as placed (the aliases for alias segments) */
	ms_region *target[NSEG];  /* the region a section reports */
	uint8_t *mem[NMEM];       /* library memory */
	uint8_t *ramd_mem;
	uint8_t *ramp_mem;
};

static struct machine mach;

static void check_rc(int rc, const char *what)
{
	if (rc != 0) {
		fprintf(stderr, "fuzz_access: %s returned %d\n", what, rc);
		abort();
	}
}

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
	stat_xlat;

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
	bool is_write = code & 1; /* bit 1 chose ms_as_rw() before 0.2.0: kept for the corpus */
	uint8_t got[MAX_LEN], want[MAX_LEN];
	struct req q = {
		.addr = addr, .len = len, .is_write = is_write, .attrs = attrs, .data = want};
	ms_result res, mres;
	char at[48];

	trace("%d: %s 0x%016" PRIx64 " len %" PRIu64 " %s\n", fz.op, is_write ? "write" : "read",
	      addr, len, attrs_text(attrs, at));
	if (is_write) {
		for (uint64_t i = 0; i < len; i++)
			got[i] = want[i] = rd8(r) ^ (uint8_t)i;
		res = ms_as_write(mach.as, addr, attrs, got, len);
	} else {
		memset(got, 0xa5, sizeof(got));
		memset(want, 0x5a, sizeof(want));
		res = ms_as_read(mach.as, addr, attrs, got, len);
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
			check_rc(ms_as_unmap(mach.as, p, len, true, n), "unmap");
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
			"notifier events; %lu IOMMU translates\n",
			fz.op, stat_results[0], stat_results[1], stat_results[2], stat_results[4],
			stat_results[3] + stat_results[5] + stat_results[6] + stat_results[7],
			stat_callbacks, stat_direct, stat_bounce, stat_events, stat_xlat);
	return 0;
}
