/*
 * Fuzz target: accesses against a reference byte model.
 *
 * One machine, built once: RAM, ROM, a readonly alias onto the RAM, a ROM
 * device (romd on and off), a RAM device, RAM at a pointer, six MMIO devices
 * with different valid/impl rules, endianness and callback forms, an alias
 * onto a device at an odd offset, an I/O reservation, an IOMMU region, holes
 * and RAM just below 2^64. Every input starts from the same memory contents
 * and decodes into a sequence of reads, writes, fills, loader writes, scalar
 * loads and stores of every width and byte order, access_valid and
 * translate probes, DMA map/unmap (direct and bounce), romd switches and
 * enable/disable of some regions, with random addresses, lengths, alignment
 * and attributes (memory, debug, user, secure).
 *
 * The model below is written from docs/access.md and docs/map.md, not from
 * the code: it knows the machine's layout itself, keeps its own copy of every
 * byte of memory and every device register, and predicts for each call the
 * data, the ms_result, and the exact list of device callbacks (offset, size,
 * value) that the valid/impl rules produce. The devices are byte arrays: a
 * callback reads or writes its register bytes in the device's byte order, so
 * the bus bytes of a correct access equal the register bytes, and a widened
 * write's zero lanes land in the registers where the model expects them.
 * After every call the library's memory, the devices' registers and the
 * callback log must equal the model's; any difference aborts with a report.
 *
 * SPDX-License-Identifier: MIT
 */
#include <inttypes.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <memspace.h>

#include "fuzz_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FUZZ_OPS 200
#define MAX_LEN 0x120   /* longest byte access */
#define REG_BYTES 0x410 /* device registers: the largest device plus room for widening */
#define LOG_CAP 1024

static bool host_big_endian(void)
{
	const uint16_t one = 1;

	return *(const uint8_t *)&one == 0;
}

/* ---- Devices ------------------------------------------------------------------ */

enum {
	D0,
	D1,
	D2,
	D3,
	D4,
	D5,
	DROMD,
	DDMA,
	NDEV
};

/*
 * The DMA device: a write callback at offset 0 starts a DMA of regs[0x10] % 33
 * bytes between regs[0x20...] and the address in regs[0x08..0x0f] (little
 * endian), a bus write when regs[0x11] & 1, else a read; its result lands in
 * regs[0x12]. Accesses that reach the DMA device from its own DMA are
 * reentrant and refused.
 */
#define DMA_ADDR 0x08
#define DMA_LEN 0x10
#define DMA_DIR 0x11
#define DMA_RESULT 0x12
#define DMA_DATA 0x20

struct call {
	int dev;
	bool is_write;
	uint64_t addr;
	unsigned size;
	uint64_t value;
};

struct calls {
	struct call c[LOG_CAP];
	size_t n;
	bool overflow;
};

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

static bool dev_big_endian(ms_endian e)
{
	return e == MS_ENDIAN_BIG || (e == MS_ENDIAN_NATIVE && host_big_endian());
}

static uint64_t get_value(const uint8_t *p, unsigned size, bool big)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)p[big ? size - 1 - i : i] << (8 * i);
	return v;
}

static void put_value(uint8_t *p, unsigned size, uint64_t v, bool big)
{
	for (unsigned i = 0; i < size; i++)
		p[big ? size - 1 - i : i] = (uint8_t)(v >> (8 * i));
}

static void log_call(struct calls *log, int dev, bool is_write, uint64_t addr, unsigned size,
		     uint64_t value)
{
	if (log->n == LOG_CAP) {
		log->overflow = true;
		return;
	}
	log->c[log->n++] = (struct call){dev, is_write, addr, size, value};
}

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

static ms_result dev_read_attrs(uint64_t *data, uint64_t addr, unsigned size, ms_attrs attrs,
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

struct dev_config {
	ms_endian endian;
	unsigned vmin, vmax, imin, imax;
	bool vunaligned, iunaligned, with_attrs, error_window, veto;
};

static const struct dev_config configs[NDEV] = {
	[D0] = {MS_ENDIAN_LITTLE, 0, 0, 0, 0, false, false, false, false, false},
	[D1] = {MS_ENDIAN_BIG, 1, 8, 4, 4, false, false, true, false, false},
	[D2] = {MS_ENDIAN_LITTLE, 1, 8, 2, 8, true, true, false, false, false},
	[D3] = {MS_ENDIAN_NATIVE, 2, 4, 1, 2, false, false, true, true, true},
	[D4] = {MS_ENDIAN_BIG, 1, 8, 1, 8, true, false, true, true, false},
	[D5] = {MS_ENDIAN_LITTLE, 4, 8, 8, 8, false, false, false, false, false},
	[DROMD] = {MS_ENDIAN_LITTLE, 0, 0, 0, 0, false, false, false, false, false},
	[DDMA] = {MS_ENDIAN_LITTLE, 1, 8, 1, 8, false, false, false, false, false},
};

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

/* ---- The machine ---------------------------------------------------------------- */

enum seg_kind {
	S_RAM,   /* RAM, ROM, RAM at a pointer: memory */
	S_ROMD,  /* ROM device: RAM in romd mode, device D_ROMD otherwise */
	S_RAMD,  /* RAM device */
	S_DEV,   /* I/O device */
	S_RESV,  /* I/O reservation */
	S_IOMMU, /* IOMMU region */
};

enum {
	R_RAM,
	R_ROM,
	R_RAMRO,
	R_ROMD,
	R_RAMD,
	R_RAMP,
	R_D0,
	R_D5 = R_D0 + 5,
	R_D4A,
	R_RESV,
	R_IOMMU,
	R_TOP,
	R_RAMNV,
	R_PATCH,
	R_RAMDRO,
	R_DMA,
	NSEG
};

struct seg {
	const char *name;
	uint64_t start, size;
	enum seg_kind kind;
	int mem;       /* index of the memory block (RAM-backed kinds) */
	int dev;       /* device (S_DEV, S_ROMD) */
	uint64_t base; /* offset in the region of start (aliases) */
	bool readonly;
	bool toggled; /* may be disabled by the fuzzer */
	bool over;    /* placed with priority 1 over the others */
};

enum {
	M_RAM,
	M_ROM,
	M_ROMD,
	M_RAMD,
	M_RAMP,
	M_TOP,
	M_PATCH,
	NMEM
};

static const uint64_t mem_size[NMEM] = {0x1000, 0x800, 0x400, 0x200, 0x100, 0x1000, 0x10};

#define SEG(n, st, sz, k, m, d, b, ro, tog, ov)                                                \
	{                                                                                      \
		.name = (n), .start = (st), .size = (sz), .kind = (k), .mem = (m), .dev = (d), \
		.base = (b), .readonly = (ro), .toggled = (tog), .over = (ov)                  \
	}

static const struct seg segs[NSEG] = {
	[R_RAM] = SEG("ram", 0x0, 0x1000, S_RAM, M_RAM, -1, 0, false, false, false),
	[R_ROM] = SEG("rom", 0x2000, 0x800, S_RAM, M_ROM, -1, 0, true, false, false),
	[R_RAMRO] = SEG("ram-ro", 0x2800, 0x400, S_RAM, M_RAM, -1, 0x800, true, true, false),
	[R_ROMD] = SEG("romd", 0x3000, 0x400, S_ROMD, M_ROMD, DROMD, 0, false, false, false),
	[R_RAMD] = SEG("ramd", 0x3800, 0x200, S_RAMD, M_RAMD, -1, 0, false, false, false),
	[R_RAMP] = SEG("ramp", 0x3c00, 0x100, S_RAM, M_RAMP, -1, 0, false, true, false),
	[R_D0 + 0] = SEG("d0", 0x4000, 0x100, S_DEV, -1, D0, 0, false, false, false),
	[R_D0 + 1] = SEG("d1", 0x4100, 0x100, S_DEV, -1, D1, 0, false, false, false),
	[R_D0 + 2] = SEG("d2", 0x4200, 0x100, S_DEV, -1, D2, 0, false, true, false),
	[R_D0 + 3] = SEG("d3", 0x4300, 0x100, S_DEV, -1, D3, 0, false, false, false),
	[R_D0 + 4] = SEG("d4", 0x4400, 0x100, S_DEV, -1, D4, 0, false, false, false),
	[R_D0 + 5] = SEG("d5", 0x4500, 0x100, S_DEV, -1, D5, 0, false, false, false),
	[R_D4A] = SEG("d4-alias", 0x4600, 0x80, S_DEV, -1, D4, 0x1, false, true, false),
	[R_RESV] = SEG("resv", 0x4800, 0x100, S_RESV, -1, -1, 0, false, true, false),
	[R_IOMMU] = SEG("iommu", 0x4900, 0x100, S_IOMMU, -1, -1, 0, false, false, false),
	[R_TOP] =
		SEG("top", 0xfffffffffffff000ull, 0x1000, S_RAM, M_TOP, -1, 0, false, false, false),
	/* The RAM again at its own place, nonvolatile: one region, split ranges. */
	[R_RAMNV] = SEG("ram-nv", 0x400, 0x100, S_RAM, M_RAM, -1, 0x400, false, true, true),
	/* RAM over the middle of d0: the device is split into two ranges. */
	[R_PATCH] = SEG("patch", 0x4040, 0x10, S_RAM, M_PATCH, -1, 0, false, true, true),
	[R_RAMDRO] = SEG("ramd-ro", 0x3a00, 0x80, S_RAMD, M_RAMD, -1, 0x100, true, false, false),
	[R_DMA] = SEG("dma", 0x4a00, 0x100, S_DEV, -1, DDMA, 0, false, false, false),
};

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

/* The model's state. */
struct model {
	uint8_t mem[NMEM][0x1000];
	uint8_t regs[NDEV][REG_BYTES];
	bool romd;
	bool enabled[NSEG];
	unsigned max_depth; /* ms_ctx_set_max_access_depth() */
	unsigned depth;     /* device callbacks running (the access chain) */
	bool dev_busy[NDEV];
	struct calls log;
};

static struct model model;

static void check_rc(int rc, const char *what)
{
	if (rc != 0) {
		fprintf(stderr, "fuzz_access: %s returned %d\n", what, rc);
		abort();
	}
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
			rc = ms_region_new_alias(
				&r, mach.ctx,
				&(ms_region_alias_opts){.name = s->name,
							.target = mach.regions[R_RAM],
							.offset = s->base,
							.size = s->size});
			if (rc == 0)
				rc = ms_region_set_nonvolatile(r, true);
			break;
		case R_RAMDRO:
			rc = ms_region_new_alias(
				&r, mach.ctx,
				&(ms_region_alias_opts){.name = s->name,
							.target = mach.regions[R_RAMD],
							.offset = s->base,
							.size = s->size});
			if (rc == 0)
				rc = ms_region_set_readonly(r, true);
			break;
		case R_ROM:
			rc = ms_region_new_rom(&r, mach.ctx, s->name, s->size);
			break;
		case R_RAMRO:
			rc = ms_region_new_alias(
				&r, mach.ctx,
				&(ms_region_alias_opts){.name = s->name,
							.target = mach.regions[R_RAM],
							.offset = s->base,
							.size = s->size});
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
			rc = ms_region_new_alias(
				&r, mach.ctx,
				&(ms_region_alias_opts){.name = s->name,
							.target = mach.regions[R_D0 + D4],
							.offset = s->base,
							.size = s->size});
			break;
		case R_RESV:
			rc = ms_region_new_io(&r, mach.ctx,
					      &(ms_region_io_opts){.name = s->name,
								   .size = s->size,
								   .ops = NULL});
			break;
		case R_IOMMU:
			rc = ms_iommu_new(&r, mach.ctx,
					  &(ms_iommu_opts){.name = s->name, .size = s->size});
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
	model.log.n = 0;
	model.log.overflow = false;
	lib_log.n = 0;
	lib_log.overflow = false;
}

/* ---- The reference model -------------------------------------------------------- */

struct req {
	uint64_t addr, len;
	bool is_write, single, loader, probe;
	ms_attrs attrs;
	uint8_t *data; /* reads: filled; writes: the bytes */
};

static bool seg_has(int i, uint64_t addr)
{
	return model.enabled[i] && addr >= segs[i].start && addr - segs[i].start < segs[i].size;
}

/* What answers at @addr: segments placed over the others first. */
static const struct seg *seg_at(uint64_t addr, int *index)
{
	for (int pass = 1; pass >= 0; pass--)
		for (int i = 0; i < NSEG; i++)
			if (segs[i].over == pass && seg_has(i, addr)) {
				if (index)
					*index = i;
				return &segs[i];
			}
	return NULL;
}

/* The last address of the piece of @s that answers from @addr on. */
static uint64_t piece_last(const struct seg *s, uint64_t addr)
{
	uint64_t last = s->start + (s->size - 1);

	if (!s->over)
		for (int i = 0; i < NSEG; i++)
			if (segs[i].over && model.enabled[i] && segs[i].start > addr &&
			    segs[i].start <= last)
				last = segs[i].start - 1;
	return last;
}

/* How many of @want bytes from @addr (inside @s) fall in its piece. */
static uint64_t piece_len(const struct seg *s, uint64_t addr, uint64_t want)
{
	uint64_t left = piece_last(s, addr) - addr + 1; /* 0 means 2^64 */

	return left == 0 || left > want ? want : left;
}

/* First mapped address above @addr, or 0 when none (the hole runs to 2^64). */
static uint64_t next_start(uint64_t addr)
{
	uint64_t best = 0;

	for (int i = 0; i < NSEG; i++)
		if (model.enabled[i] && segs[i].start > addr && (best == 0 || segs[i].start < best))
			best = segs[i].start;
	return best;
}

static unsigned or_default(unsigned v, unsigned d)
{
	return v ? v : d;
}

static bool m_valid(int dev, uint64_t offset, unsigned size, const struct req *q)
{
	const struct dev_config *c = &configs[dev];

	if (size < or_default(c->vmin, 1) || size > or_default(c->vmax, 4))
		return false;
	if (!c->vunaligned && offset % size)
		return false;
	if (c->veto && q->is_write && q->attrs.user && (offset & 0x40))
		return false;
	return true;
}

static ms_result m_access(const struct req *q);

/* The DMA device's DMA, started by a write callback at offset 0. */
static void m_dma(void)
{
	uint8_t *regs = model.regs[DDMA];
	struct req q = {
		.addr = get_value(regs + DMA_ADDR, 8, false),
		.len = regs[DMA_LEN] % 33,
		.is_write = regs[DMA_DIR] & 1,
		.attrs = MS_ATTRS_UNSPECIFIED,
		.data = regs + DMA_DATA,
	};

	regs[DMA_RESULT] = (uint8_t)m_access(&q);
}

/* One valid guest access carried out by callbacks (docs/access.md, "impl"). */
static ms_result m_device_rw(int dev, uint64_t offset, unsigned size, const struct req *q,
			     uint8_t *bytes)
{
	const struct dev_config *c = &configs[dev];
	unsigned imin = or_default(c->imin, 1), imax = or_default(c->imax, 4);
	bool big = dev_big_endian(c->endian);
	uint64_t end = offset + size, pos = offset;
	ms_result result = MS_RESULT_OK;

	while (pos < end) {
		uint64_t start;
		unsigned w;

		if (c->iunaligned) {
			w = size < imin ? imin : size > imax ? imax : size;
			start = pos;
		} else {
			w = imax;
			while (w > 1 && (pos % w || pos + w > end))
				w /= 2;
			start = pos;
			if (w < imin) {
				w = imin;
				start = pos - pos % imin;
			}
		}
		uint64_t lo = start > offset ? start : offset;
		uint64_t hi = start + w < end ? start + w : end;
		uint8_t *regs = &model.regs[dev][start];

		if (q->is_write) {
			uint8_t lane[8] = {0};

			memcpy(lane + (lo - start), bytes + (lo - offset), hi - lo);
			log_call(&model.log, dev, true, start, w, get_value(lane, w, big));
			memcpy(regs, lane, w);
			if (dev == DDMA && start == 0)
				m_dma();
		} else {
			log_call(&model.log, dev, false, start, w, get_value(regs, w, big));
			memcpy(bytes + (lo - offset), regs + (lo - start), hi - lo);
		}
		if (c->error_window && start >= 0xf0)
			result |= MS_RESULT_ERROR;
		pos = start + w;
	}
	return result;
}

static ms_result m_dispatch(int dev, uint64_t offset, unsigned size, const struct req *q,
			    uint64_t pos)
{
	uint8_t bytes[8];
	ms_result result;

	if (!m_valid(dev, offset, size, q)) {
		if (!q->is_write && !q->probe)
			memset(q->data + pos, 0, size);
		return MS_RESULT_DECODE_ERROR;
	}
	if (q->probe)
		return MS_RESULT_OK;
	/* The access chain: no reentry into a running device, bounded depth. */
	if (model.dev_busy[dev] || model.depth >= model.max_depth) {
		if (!q->is_write)
			memset(q->data + pos, 0, size);
		return MS_RESULT_ACCESS_ERROR;
	}
	model.dev_busy[dev] = true;
	model.depth++;
	if (q->is_write)
		memcpy(bytes, q->data + pos, size);
	result = m_device_rw(dev, offset, size, q, bytes);
	if (!q->is_write)
		memcpy(q->data + pos, bytes, size);
	model.depth--;
	model.dev_busy[dev] = false;
	return result;
}

/* Bytes [pos, pos + n) to device @dev from @offset: one access or bulk pieces. */
static ms_result m_device(int dev, uint64_t offset, uint64_t pos, uint64_t n, const struct req *q)
{
	const struct dev_config *c = &configs[dev];
	ms_result result = MS_RESULT_OK;

	if (q->single && n == q->len)
		return m_dispatch(dev, offset, (unsigned)n, q, pos);
	while (n > 0) {
		unsigned l = or_default(c->vmax, 4);

		if (!(c->vunaligned && c->iunaligned))
			while (l > 1 && offset % l)
				l /= 2;
		while (l > n)
			l /= 2;
		result |= m_dispatch(dev, offset, l, q, pos);
		offset += l;
		pos += l;
		n -= l;
	}
	return result;
}

static void m_fail_read(const struct req *q, uint64_t pos, uint64_t n)
{
	if (!q->is_write && !q->probe)
		memset(q->data + pos, 0, n);
}

static void m_copy(const struct req *q, uint8_t *mem, uint64_t pos, uint64_t n)
{
	if (q->probe)
		return;
	if (q->is_write)
		memcpy(mem, q->data + pos, n);
	else
		memcpy(q->data + pos, mem, n);
}

static bool is_ram_target(const struct seg *s)
{
	return s->kind == S_RAM || s->kind == S_RAMD;
}

static ms_result m_piece(const struct seg *s, uint64_t addr, uint64_t pos, uint64_t n,
			 const struct req *q)
{
	uint64_t offset = s->base + (addr - s->start);
	uint8_t *mem = s->mem >= 0 ? &model.mem[s->mem][offset] : NULL;

	if (s->kind == S_IOMMU) {
		if (q->loader)
			return MS_RESULT_OK;
		m_fail_read(q, pos, n);
		return MS_RESULT_DECODE_ERROR;
	}
	if (q->loader) {
		/* Host memory only, whatever readonly says; devices are skipped. */
		if (s->kind == S_RAM || s->kind == S_RAMD || (s->kind == S_ROMD && model.romd))
			m_copy(q, mem, pos, n);
		return MS_RESULT_OK;
	}
	if (q->attrs.memory && !is_ram_target(s)) {
		m_fail_read(q, pos, n);
		return MS_RESULT_ACCESS_ERROR;
	}
	switch (s->kind) {
	case S_RAM:
		if (!q->is_write || !s->readonly || q->attrs.debug)
			m_copy(q, mem, pos, n);
		return MS_RESULT_OK;
	case S_RAMD:
		if (!q->is_write || !s->readonly || q->attrs.debug)
			m_copy(q, mem, pos, n);
		return MS_RESULT_OK;
	case S_ROMD:
		if (model.romd && (!q->is_write || q->attrs.debug)) {
			m_copy(q, mem, pos, n);
			return MS_RESULT_OK;
		}
		return m_device(s->dev, offset, pos, n, q);
	case S_DEV:
		return m_device(s->dev, offset, pos, n, q);
	default:
		m_fail_read(q, pos, n);
		return MS_RESULT_DECODE_ERROR;
	}
}

static ms_result m_access(const struct req *q)
{
	ms_result result = MS_RESULT_OK;
	uint64_t pos = 0;

	while (pos < q->len) {
		uint64_t cur = q->addr + pos, n;
		const struct seg *s;

		if (cur < q->addr) { /* past 2^64 - 1 */
			if (!q->loader) {
				m_fail_read(q, pos, q->len - pos);
				result |= MS_RESULT_DECODE_ERROR;
			}
			break;
		}
		s = seg_at(cur, NULL);
		if (s) {
			n = piece_len(s, cur, q->len - pos);
			result |= m_piece(s, cur, pos, n, q);
		} else {
			uint64_t next = next_start(cur);

			n = next == 0 || next - cur > q->len - pos ? q->len - pos : next - cur;
			if (!q->loader) {
				m_fail_read(q, pos, n);
				result |= MS_RESULT_DECODE_ERROR;
			}
		}
		pos += n;
	}
	return result;
}

/* ---- Comparing ------------------------------------------------------------------- */

struct fuzz {
	char trace[8192]; /* the calls made so far, for reports */
	size_t trace_len;
	int op;
};

static struct fuzz fz;

/* Statistics (MS_FUZZ_STATS=1): results seen, device callbacks compared. */
static unsigned long stat_results[8], stat_callbacks, stat_direct, stat_bounce;

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
	int index = -1;
	const struct seg *s = seg_at(addr, &index);
	uint8_t model_buf[MAX_LEN];
	uint8_t *p;
	char at[48];

	trace("%d: map 0x%016" PRIx64 " len %" PRIu64 " %s %s\n", fz.op, addr, want,
	      is_write ? "write" : "read", attrs_text(attrs, at));
	p = ms_as_map(mach.as, addr, &len, is_write, attrs);

	/* Nothing at holes, reservations, IOMMUs, non-RAM under attrs.memory. */
	if (want == 0 || !s || s->kind == S_RESV || s->kind == S_IOMMU ||
	    (attrs.memory && !is_ram_target(s))) {
		if (p || len != 0)
			divergence("map returned %p, len %" PRIu64 " where nothing can be mapped",
				   (void *)p, len);
		compare_state();
		return;
	}
	uint64_t expect_len = piece_len(s, addr, want);
	uint64_t offset = s->base + (addr - s->start);
	bool direct = map_direct(s, is_write);

	/* A direct map goes on over pieces of the same memory at contiguous offsets. */
	while (direct && expect_len < want && addr + expect_len != 0) {
		uint64_t next = addr + expect_len;
		const struct seg *t = seg_at(next, NULL);

		if (!t || t->mem != s->mem || !map_direct(t, is_write) ||
		    t->base + (next - t->start) != offset + expect_len)
			break;
		expect_len += piece_len(t, next, want - expect_len);
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

		switch (code % 14) {
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
		default:
			op_toggle(&rd);
			break;
		}
	}
	if (getenv("MS_FUZZ_STATS"))
		fprintf(stderr,
			"fuzz_access: %d ops; results ok %lu, error %lu, decode %lu, access %lu, "
			"mixed %lu; %lu device callbacks; %lu direct and %lu bounce maps\n",
			fz.op, stat_results[0], stat_results[1], stat_results[2], stat_results[4],
			stat_results[3] + stat_results[5] + stat_results[6] + stat_results[7],
			stat_callbacks, stat_direct, stat_bounce);
	return 0;
}
