/*
 * The reference byte model of the access fuzz target (fuzz_access.c).
 *
 * Written from docs/access.md and docs/map.md, not from the code: it knows
 * the machine's layout itself (the tables below, from which the harness
 * builds the library's machine), keeps its own copy of every byte of memory
 * and every device register, and predicts for each call the data, the
 * ms_result, and the exact list of device callbacks (offset, size, value)
 * that the valid/impl rules produce, including the DMA device's nested
 * accesses, the reentrancy guard and the depth bound. Every write it
 * carries out to memory marks the written pages for the clients logging
 * that block (docs/dirty.md), so the harness can compare dirty bits.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <string.h>

#include "fuzz_access.h"

static bool host_big_endian(void)
{
	const uint16_t one = 1;

	return *(const uint8_t *)&one == 0;
}

bool dev_big_endian(ms_endian e)
{
	return e == MS_ENDIAN_BIG || (e == MS_ENDIAN_NATIVE && host_big_endian());
}

uint64_t get_value(const uint8_t *p, unsigned size, bool big)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)p[big ? size - 1 - i : i] << (8 * i);
	return v;
}

void put_value(uint8_t *p, unsigned size, uint64_t v, bool big)
{
	for (unsigned i = 0; i < size; i++)
		p[big ? size - 1 - i : i] = (uint8_t)(v >> (8 * i));
}

void log_call(struct calls *log, int dev, bool is_write, uint64_t addr, unsigned size,
	      uint64_t value)
{
	if (log->n == LOG_CAP) {
		log->overflow = true;
		return;
	}
	log->c[log->n++] = (struct call){dev, is_write, addr, size, value};
}

/* ---- The layout ------------------------------------------------------------------- */

const struct dev_config configs[NDEV] = {
	[D0] = {MS_ENDIAN_LITTLE, 0, 0, 0, 0, false, false, false, false, false},
	[D1] = {MS_ENDIAN_BIG, 1, 8, 4, 4, false, false, true, false, false},
	[D2] = {MS_ENDIAN_LITTLE, 1, 8, 2, 8, true, true, false, false, false},
	[D3] = {MS_ENDIAN_NATIVE, 2, 4, 1, 2, false, false, true, true, true},
	[D4] = {MS_ENDIAN_BIG, 1, 8, 1, 8, true, false, true, true, false},
	[D5] = {MS_ENDIAN_LITTLE, 4, 8, 8, 8, false, false, false, false, false},
	[DROMD] = {MS_ENDIAN_LITTLE, 0, 0, 0, 0, false, false, false, false, false},
	[DDMA] = {MS_ENDIAN_LITTLE, 1, 8, 1, 8, false, false, false, false, false},
};

const uint64_t mem_size[NMEM] = {0x1000, 0x800, 0x400, 0x200, 0x100, 0x1000, 0x10};

#define SEG(n, st, sz, k, m, d, b, ro, tog, ov)                                                \
	{                                                                                      \
		.name = (n), .start = (st), .size = (sz), .kind = (k), .mem = (m), .dev = (d), \
		.base = (b), .readonly = (ro), .toggled = (tog), .over = (ov)                  \
	}

const struct seg segs[NSEG] = {
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
	[R_IOMMU] = SEG("iommu", 0x4900, 0x100, S_IOMMU, -1, 0, 0, false, false, false),
	[R_TOP] =
		SEG("top", 0xfffffffffffff000ull, 0x1000, S_RAM, M_TOP, -1, 0, false, false, false),
	/* The RAM again at its own place, nonvolatile: one region, split ranges. */
	[R_RAMNV] = SEG("ram-nv", 0x400, 0x100, S_RAM, M_RAM, -1, 0x400, false, true, true),
	/* RAM over the middle of d0: the device is split into two ranges. */
	[R_PATCH] = SEG("patch", 0x4040, 0x10, S_RAM, M_PATCH, -1, 0, false, true, true),
	[R_RAMDRO] = SEG("ramd-ro", 0x3a00, 0x80, S_RAMD, M_RAMD, -1, 0x100, true, false, false),
	[R_DMA] = SEG("dma", 0x4a00, 0x100, S_DEV, -1, DDMA, 0, false, false, false),
	[R_IOMMU2] = SEG("iommu2", 0x4b00, 0x100, S_IOMMU, -1, 1, 0, false, false, false),
	[R_IOMMU3] = SEG("iommu3", 0x4c00, 0x100, S_IOMMU, -1, 2, 0, false, true, false),
};

struct io_entry io_tab[NIOMMU][IO_MAX_IDX][IO_SLOTS];

unsigned io_nidx(int i)
{
	return i == 2 ? 1 : 2;
}

unsigned io_index(int i, ms_attrs attrs)
{
	return io_nidx(i) == 2 && attrs.secure ? 1 : 0;
}

/* The model's state. */
struct model model;

/* ---- Dirty bits (docs/dirty.md) ---------------------------------------------------- */

uint64_t blk_size(int b)
{
	return b == M_BIG ? BIG_SIZE : mem_size[b];
}

unsigned blk_pages(int b)
{
	return (unsigned)((blk_size(b) + DIRTY_PAGE - 1) / DIRTY_PAGE);
}

bool blk_migratable(int b)
{
	return b != M_RAMD;
}

uint8_t m_log_mask(int b)
{
	uint8_t mask = model.log_own[b];

	if (model.log_global && blk_migratable(b))
		mask |= 1u << MS_DIRTY_MIGRATION;
	return mask;
}

/* "Every write that reaches a block's memory through the library marks its pages." */
void m_mark(int b, uint64_t offset, uint64_t n)
{
	uint8_t mask = m_log_mask(b);

	if (n == 0)
		return;
	for (unsigned c = 0; c < MS_DIRTY_CLIENTS; c++) {
		if (!(mask & (1u << c)))
			continue;
		for (uint64_t p = offset / DIRTY_PAGE; p <= (offset + n - 1) / DIRTY_PAGE; p++)
			model.dirty[b][c][p / 64] |= (uint64_t)1 << (p % 64);
	}
}

bool m_dirty(int b, unsigned client, uint64_t page)
{
	return (model.dirty[b][client][page / 64] >> (page % 64)) & 1;
}

void m_dirty_clear(int b, unsigned client, uint64_t first, uint64_t last)
{
	for (uint64_t p = first; p <= last && p < blk_pages(b); p++)
		model.dirty[b][client][p / 64] &= ~((uint64_t)1 << (p % 64));
}

/* ---- The reference model -------------------------------------------------------- */

static bool seg_has(int i, uint64_t addr)
{
	return model.enabled[i] && addr >= segs[i].start && addr - segs[i].start < segs[i].size;
}

/* What answers at @addr: segments placed over the others first. */
const struct seg *seg_at(uint64_t addr, int *index)
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
uint64_t piece_len(const struct seg *s, uint64_t addr, uint64_t want)
{
	uint64_t left = piece_last(s, addr) - addr + 1; /* 0 means 2^64 */

	return left == 0 || left > want ? want : left;
}

/* First mapped address above @addr, or 0 when none (the hole runs to 2^64). */
uint64_t next_start(uint64_t addr)
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

	if (!c->vunaligned && offset % size)
		return false;
	/* A valid.max of 0 takes every size, whatever valid.min says. */
	if (c->vmax && (size < c->vmin || size > c->vmax))
		return false;
	if (c->veto && q->is_write && q->attrs.user && (offset & 0x40))
		return false;
	return true;
}

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

		/* Only impl.unaligned lifts the alignment (an unaligned piece may then be refused). */
		if (!c->iunaligned)
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

/* Bytes [pos, pos + n) of @q to or from block @b at @offset; a write marks its pages. */
static void m_copy(const struct req *q, int b, uint64_t offset, uint64_t pos, uint64_t n)
{
	uint8_t *mem = &model.mem[b][offset];

	if (q->probe)
		return;
	if (q->is_write) {
		memcpy(mem, q->data + pos, n);
		m_mark(b, offset, n);
	} else {
		memcpy(q->data + pos, mem, n);
	}
}

bool is_ram_target(const struct seg *s)
{
	return s->kind == S_RAM || s->kind == S_RAMD;
}

/* The IOMMUs translated so far on the path of a piece (docs/iommu.md). */
struct hop {
	int iommu;
	uint64_t offset;
	unsigned idx, depth;
	const struct hop *outer;
};

/*
 * One translation at @offset of IOMMU @i: the chain bound, the cycle check
 * (the same IOMMU, offset and index again), the entry and its permission.
 * 0 with *@e and *@h filled, or -EACCES.
 */
static int m_translate_hop(int i, uint64_t offset, bool is_write, ms_attrs attrs,
			   const struct hop *outer, struct io_entry *e, struct hop *h)
{
	unsigned depth = outer ? outer->depth + 1 : 1, idx = io_index(i, attrs);

	if (depth > MS_IOMMU_MAX_CHAIN)
		return -EACCES;
	/*
	 * translate runs on the thread's access chain (src/chain.c): from a
	 * device callback it needs a frame of its own under the depth bound.
	 */
	if (model.depth >= model.max_depth)
		return -EACCES;
	for (const struct hop *o = outer; o; o = o->outer)
		if (o->iommu == i && o->offset == offset && o->idx == idx)
			return -EACCES;
	*e = io_tab[i][idx][offset / IO_PAGE];
	if (e->broken || !e->set || !(e->perm & (is_write ? MS_IOMMU_WO : MS_IOMMU_RO)))
		return -EACCES;
	*h = (struct hop){i, offset, idx, depth, outer};
	return 0;
}

/* The translated address of @offset, and how many of @n bytes stay in its page. */
static uint64_t m_xlat(const struct io_entry *e, uint64_t offset, uint64_t n, uint64_t *l)
{
	uint64_t mask = ((uint64_t)1 << e->shift) - 1;
	uint64_t xlat = (e->target & ~mask) | (offset & mask);
	uint64_t left = mask - (xlat & mask); /* bytes after the first */

	*l = n - 1 <= left ? n : left + 1;
	return xlat;
}

static ms_result m_walk(uint64_t addr, uint64_t len, uint64_t pos, const struct req *q,
			const struct hop *outer);

/* Bytes [pos, pos + n) in IOMMU @s from @offset on: page by page, each walked again. */
static ms_result m_iommu(const struct seg *s, uint64_t offset, uint64_t pos, uint64_t n,
			 const struct req *q, const struct hop *outer)
{
	ms_result result = MS_RESULT_OK;

	while (n > 0) {
		struct io_entry e;
		struct hop h;
		uint64_t xlat, l;

		if (m_translate_hop(s->dev, offset, q->is_write, q->attrs, outer, &e, &h) != 0) {
			/* The rest of the range fails with it; the loader skips it. */
			if (q->loader)
				return result;
			m_fail_read(q, pos, n);
			return result | MS_RESULT_ACCESS_ERROR;
		}
		xlat = m_xlat(&e, offset, n, &l);
		result |= m_walk(xlat, l, pos, q, &h);
		offset += l;
		pos += l;
		n -= l;
	}
	return result;
}

int m_resolve(uint64_t addr, uint64_t want, bool is_write, ms_attrs attrs, uint64_t *final,
	      uint64_t *len, int *index)
{
	struct hop hops[MS_IOMMU_MAX_CHAIN + 1];
	const struct hop *outer = NULL;
	unsigned d = 0;

	for (;;) {
		const struct seg *s = seg_at(addr, index);
		struct io_entry e;

		*final = addr;
		if (!s) {
			uint64_t next = next_start(addr);

			*len = next == 0 || next - addr > want ? want : next - addr;
			return -ENOENT;
		}
		want = piece_len(s, addr, want);
		*len = want;
		if (s->kind != S_IOMMU)
			return 0;
		if (d == MS_IOMMU_MAX_CHAIN || m_translate_hop(s->dev, addr - s->start, is_write,
							       attrs, outer, &e, &hops[d]) != 0)
			return -EACCES;
		addr = m_xlat(&e, addr - s->start, want, &want);
		outer = &hops[d++];
	}
}

static ms_result m_piece(const struct seg *s, uint64_t addr, uint64_t pos, uint64_t n,
			 const struct req *q, const struct hop *outer)
{
	uint64_t offset = s->base + (addr - s->start);

	if (s->kind == S_IOMMU)
		return m_iommu(s, offset, pos, n, q, outer);
	if (q->loader) {
		/* Host memory only, whatever readonly says; devices are skipped. */
		if (s->kind == S_RAM || s->kind == S_RAMD || (s->kind == S_ROMD && model.romd))
			m_copy(q, s->mem, offset, pos, n);
		return MS_RESULT_OK;
	}
	if (q->attrs.memory && !is_ram_target(s)) {
		m_fail_read(q, pos, n);
		return MS_RESULT_ACCESS_ERROR;
	}
	switch (s->kind) {
	case S_RAM:
		if (!q->is_write || !s->readonly || q->attrs.debug)
			m_copy(q, s->mem, offset, pos, n);
		return MS_RESULT_OK;
	case S_RAMD:
		if (!q->is_write || !s->readonly || q->attrs.debug)
			m_copy(q, s->mem, offset, pos, n);
		return MS_RESULT_OK;
	case S_ROMD:
		if (model.romd && (!q->is_write || q->attrs.debug)) {
			m_copy(q, s->mem, offset, pos, n);
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

/* The @len bytes at @addr, byte @pos of @q on, behind the IOMMUs @outer. */
static ms_result m_walk(uint64_t addr, uint64_t len, uint64_t pos, const struct req *q,
			const struct hop *outer)
{
	ms_result result = MS_RESULT_OK;
	uint64_t done = 0;

	while (done < len) {
		uint64_t cur = addr + done, n;
		const struct seg *s;

		if (cur < addr) { /* past 2^64 - 1 */
			if (!q->loader) {
				m_fail_read(q, pos + done, len - done);
				result |= MS_RESULT_DECODE_ERROR;
			}
			break;
		}
		s = seg_at(cur, NULL);
		if (s) {
			n = piece_len(s, cur, len - done);
			result |= m_piece(s, cur, pos + done, n, q, outer);
		} else {
			uint64_t next = next_start(cur);

			n = next == 0 || next - cur > len - done ? len - done : next - cur;
			if (!q->loader) {
				m_fail_read(q, pos + done, n);
				result |= MS_RESULT_DECODE_ERROR;
			}
		}
		done += n;
	}
	return result;
}

ms_result m_access(const struct req *q)
{
	return m_walk(q->addr, q->len, 0, q, NULL);
}
