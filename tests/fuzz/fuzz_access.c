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
