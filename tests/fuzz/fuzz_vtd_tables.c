/*
 * Fuzz target: the VT-d-like remapping unit (include/memspace/models/vtd.h)
 * over page tables built from arbitrary bytes.
 *
 * Every input builds the same machine: "mem" is a 4 GiB container with
 * 1 MiB of RAM at 0 and an MMIO device at 0x200000; the unit reads its
 * tables from it, with a walk bound of 32 tables (bounded time). Four
 * devices (00:00.0, 00:01.0, 01:00.0, 02:05.3) have address spaces.
 * Byte 0 chooses caching mode (bit 0) and device-IOTLB support (bit 1).
 * The rest is a sequence of operations, each an opcode byte (modulo 9)
 * and its arguments:
 *
 *   0 raw store      u16 slot, u64 value: the qword at slot * 8 (first 512 KiB)
 *   1 table entry    u8 page, u16 index, u8 target page, u8 flags, u8 junk:
 *                    entry index of table page (0..127, 4 KiB each) points at
 *                    target page (or, for some target values, MMIO, a hole or
 *                    beyond the container) with flags as bits 0..1, 7 and a
 *                    junk byte shifted into the reserved bits now and then
 *   2 root table     u8: a RAM page, MMIO or a hole
 *   3 DMAR switch    u8 device, u8 on
 *   4 invalidate     u8 kind, u16 domain, u64 address, u8 mask
 *   5 DMA            u8 device, u64 address, u8 write
 *   6 replay         u8 device
 *   7 dev-IOTLB      u8 device, u64 address, u8 mask
 *   8 fault drain
 *
 * Checks (any failure aborts): with caching mode, a MAP|UNMAP notifier per
 * device keeps a shadow of what it was told: a MAP must not overlap a
 * mapping it holds (changes come as UNMAP then MAP), an UNMAP must remove
 * exactly mappings it holds, and after a global invalidation that
 * succeeded the shadow must equal a fresh replay. Every translation has a
 * well-formed entry (a 4 KiB, 2 MiB or 1 GiB aligned page, a permission
 * only with the memory address space); every replayed mapping translates
 * to itself. The unit never reads the MMIO device.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <memspace.h>
#include <memspace/models/vtd.h>

#include "fuzz_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_OPS 64
#define RAM_SIZE 0x100000u
#define MMIO_BASE 0x200000u
#define NDEV 4u
#define WALK_MAX 32u
#define MAX_SHADOW (WALK_MAX * 512u + 16u)

#define CHECK(cond)                                                                         \
	do {                                                                                \
		if (!(cond)) {                                                              \
			fprintf(stderr, "fuzz_vtd_tables: %s:%d: %s\n", __FILE__, __LINE__, \
				#cond);                                                     \
			abort();                                                            \
		}                                                                           \
	} while (0)

typedef struct mapping {
	uint64_t iova, size, gpa;
	unsigned perm;
} mapping;

typedef struct shadow {
	mapping *m;
	size_t n;
} shadow;

typedef struct machine {
	ms_ctx *ctx;
	ms_region *root, *ram, *mmio;
	ms_as *mem;
	ms_vtd *v;
	bool cm;
	unsigned mmio_reads;
	uint16_t bdf[NDEV];
	ms_as *as[NDEV];
	ms_iommu_notifier *n[NDEV];
	shadow sh[NDEV];
} machine;

static uint64_t mmio_read(uint64_t addr, unsigned size, void *opaque)
{
	machine *m = opaque;

	(void)addr;
	(void)size;
	m->mmio_reads++;
	return 0x1003;
}

static void mmio_write(uint64_t addr, uint64_t data, unsigned size, void *opaque)
{
	(void)addr;
	(void)data;
	(void)size;
	(void)opaque;
}

static const ms_region_ops mmio_ops = {
	.version = MS_REGION_OPS_VERSION, .read = mmio_read, .write = mmio_write};

/* Field by field: the struct has padding. */
static bool same(const mapping *a, const mapping *b)
{
	return a->iova == b->iova && a->size == b->size && a->gpa == b->gpa && a->perm == b->perm;
}

/* Index of the first shadow mapping that ends after @iova. */
static size_t shadow_find(const shadow *s, uint64_t iova)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (s->m[mid].iova + (s->m[mid].size - 1) < iova)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int follow(ms_iommu_notifier *n, const ms_iommu_event *ev, void *opaque)
{
	shadow *s = opaque;
	uint64_t first = ev->entry.iova, last = first + ev->entry.addr_mask;
	size_t i = shadow_find(s, first);

	(void)n;
	if (ev->type == MS_IOMMU_NOTIFIER_MAP) {
		CHECK(i == s->n || s->m[i].iova > last); /* no overlap */
		CHECK(s->n < MAX_SHADOW * 4);
		memmove(&s->m[i + 1], &s->m[i], (s->n - i) * sizeof(*s->m));
		s->m[i] = (mapping){first, ev->entry.addr_mask + 1, ev->entry.translated_addr,
				    ev->entry.perm};
		s->n++;
		return 0;
	}
	/* UNMAP: exactly the mappings held inside the range, none straddling it. */
	CHECK(i == s->n || s->m[i].iova >= first);
	{
		size_t j = i;

		while (j < s->n && s->m[j].iova <= last) {
			CHECK(s->m[j].iova + (s->m[j].size - 1) <= last);
			j++;
		}
		memmove(&s->m[i], &s->m[j], (s->n - j) * sizeof(*s->m));
		s->n -= j - i;
	}
	return 0;
}

typedef struct collect {
	mapping *m;
	size_t n;
	ms_region *iommu;
} collect;

static int collect_map(ms_iommu_notifier *n, const ms_iommu_event *ev, void *opaque)
{
	collect *c = opaque;
	ms_iotlb_entry e;

	(void)n;
	CHECK(ev->type == MS_IOMMU_NOTIFIER_MAP);
	CHECK(c->n < MAX_SHADOW);
	CHECK(c->n == 0 || c->m[c->n - 1].iova + c->m[c->n - 1].size <= ev->entry.iova);
	c->m[c->n++] = (mapping){ev->entry.iova, ev->entry.addr_mask + 1, ev->entry.translated_addr,
				 ev->entry.perm};
	/* A replayed mapping translates to itself. */
	CHECK(ms_iommu_translate(&e, c->iommu, ev->entry.iova, MS_IOMMU_NONE, 0) == 0);
	CHECK(e.iova == ev->entry.iova && e.addr_mask == ev->entry.addr_mask &&
	      e.translated_addr == ev->entry.translated_addr && e.perm == ev->entry.perm);
	return 0;
}

/* Replay device @d into a fresh notifier; the mappings land in @out (MAX_SHADOW). */
static int replay(machine *m, unsigned d, mapping *out, size_t *nr)
{
	collect c = {.m = out, .iommu = ms_vtd_device_iommu(m->v, m->bdf[d])};
	ms_iommu_notifier_opts opts = MS_IOMMU_NOTIFIER_OPTS_INIT;
	ms_iommu_notifier *n = NULL;
	int rc;

	*nr = 0;
	if (!m->cm)
		return -ENOTSUP; /* MAP notifiers need caching mode */
	opts.flags = MS_IOMMU_NOTIFIER_MAP;
	opts.notify = collect_map;
	opts.opaque = &c;
	CHECK(ms_iommu_register_notifier(&n, c.iommu, &opts) == 0);
	rc = ms_iommu_replay(c.iommu, n);
	ms_iommu_unregister_notifier(n);
	*nr = c.n;
	return rc;
}

static void check_entry(machine *m, const ms_iotlb_entry *e, uint64_t addr)
{
	CHECK(e->addr_mask == 0xfff || e->addr_mask == 0x1fffff || e->addr_mask == 0x3fffffff);
	CHECK((e->iova & e->addr_mask) == 0 && addr - e->iova <= e->addr_mask);
	CHECK(e->perm <= MS_IOMMU_RW);
	if (e->perm) {
		CHECK(e->target_as == m->mem);
		CHECK((e->translated_addr & e->addr_mask) == 0);
	}
}

static uint64_t table_target(uint8_t t)
{
	switch (t) {
	case 250:
		return MMIO_BASE;
	case 251:
		return 0x40000000; /* a hole */
	case 252:
		return (uint64_t)1 << 40; /* beyond the container */
	default:
		return (uint64_t)(t & 127) << 12;
	}
}

static void run(machine *m, struct reader *r, mapping *scratch)
{
	for (unsigned op = 0; op < MAX_OPS && r->n; op++) {
		unsigned code = rd8(r) % 9, mmio_reads = m->mmio_reads;

		switch (code) {
		case 0: {
			uint64_t slot = rd16(r) % (RAM_SIZE / 2 / 8), val = rd64(r);

			ms_as_stq_le(m->mem, slot * 8, MS_ATTRS_UNSPECIFIED, val);
			break;
		}
		case 1: {
			uint64_t page = rd8(r) & 127, index = rd16(r) & 511;
			uint64_t val = table_target(rd8(r)), flags = rd8(r), junk = rd8(r);

			val |= flags & (MS_VTD_PTE_RW | MS_VTD_PTE_PS);
			if (flags & 0x40)
				val |= junk << ((flags >> 2) & 7) * 8 % 64;
			ms_as_stq_le(m->mem, (page << 12) + index * 8, MS_ATTRS_UNSPECIFIED, val);
			break;
		}
		case 2: {
			uint8_t t = rd8(r);

			CHECK(ms_vtd_set_root_table(m->v, table_target(t)) ==
			      (table_target(t) >> 52 ? -EINVAL : 0));
			break;
		}
		case 3: {
			unsigned d = rd8(r) % NDEV;
			bool on = rd8(r) & 1;
			int rc = ms_vtd_set_dmar(m->v, m->bdf[d], on);

			CHECK(rc == 0 || rc == -E2BIG);
			CHECK(ms_vtd_dmar_enabled(m->v, m->bdf[d]) == (int)on);
			break;
		}
		case 4: {
			unsigned kind = rd8(r) % 3;
			uint16_t did = (uint16_t)(rd16(r) & 7);
			uint64_t addr = rd64(r) & 0xffffffffffffull;
			unsigned am = rd8(r) % (MS_VTD_INV_MAX_AM + 2);
			int rc;

			if (kind == 0) {
				rc = ms_vtd_invalidate_global(m->v);
				CHECK(rc == 0 || rc == -E2BIG);
				if (rc == 0 && m->cm) {
					/* Everything told equals what is there now. */
					for (unsigned d = 0; d < NDEV; d++) {
						size_t nr;

						if (ms_vtd_dmar_enabled(m->v, m->bdf[d]) != 1)
							continue;
						if (replay(m, d, scratch, &nr) != 0)
							continue;
						CHECK(nr == m->sh[d].n);
						for (size_t k = 0; k < nr; k++)
							CHECK(same(&scratch[k], &m->sh[d].m[k]));
					}
				}
			} else if (kind == 1) {
				rc = ms_vtd_invalidate_domain(m->v, did);
				CHECK(rc == 0 || rc == -E2BIG);
			} else {
				if (am <= MS_VTD_INV_MAX_AM)
					addr &= ~((((uint64_t)1 << am) << 12) - 1);
				rc = ms_vtd_invalidate_page(m->v, did, addr, am);
				CHECK(rc == 0 || rc == -E2BIG ||
				      (rc == -EINVAL && am > MS_VTD_INV_MAX_AM));
			}
			break;
		}
		case 5: {
			unsigned d = rd8(r) % NDEV;
			uint64_t addr = rd64(r);
			bool write = rd8(r) & 1;
			ms_iotlb_entry e;
			ms_result res;

			if (ms_vtd_dmar_enabled(m->v, m->bdf[d]) == 1) {
				CHECK(ms_iommu_translate(&e, ms_vtd_device_iommu(m->v, m->bdf[d]),
							 addr, write ? MS_IOMMU_WO : MS_IOMMU_RO,
							 0) == 0);
				check_entry(m, &e, addr);
			}
			addr &= 0xffffffffffffull;
			if (addr >= MMIO_BASE && addr < MMIO_BASE + 0x1000)
				break; /* a pass-through access would read the device itself */
			if (write)
				res = ms_as_stl_le(m->as[d], addr, MS_ATTRS_UNSPECIFIED,
						   0x5a5a5a5a);
			else
				(void)ms_as_ldl_le(m->as[d], addr, MS_ATTRS_UNSPECIFIED, &res);
			(void)res;
			break;
		}
		case 6: {
			size_t nr;
			int rc = replay(m, rd8(r) % NDEV, scratch, &nr);

			CHECK(rc == 0 || rc == -E2BIG || rc == -ENOTSUP);
			break;
		}
		case 7: {
			unsigned d = rd8(r) % NDEV;
			uint64_t addr = rd64(r);
			unsigned am = rd8(r) % 54;
			int rc;

			if (am <= 52)
				addr &= ~((((uint64_t)1 << am) << 12) - 1);
			rc = ms_vtd_invalidate_dev_iotlb(m->v, m->bdf[d], addr, am);
			CHECK(rc == 0 || rc == -ENOTSUP || rc == -EINVAL);
			break;
		}
		case 8: {
			ms_vtd_fault f;
			unsigned k = 0;

			while (ms_vtd_fault_pop(&f, m->v) == 0) {
				CHECK(f.reason > MS_VTD_FR_NONE &&
				      f.reason <= MS_VTD_FR_WRITE_DENIED);
				CHECK(++k <= 8);
			}
			break;
		}
		}
		/* Table reads never reach the device; only DMA (op 5) may. */
		CHECK(code == 5 || m->mmio_reads == mmio_reads);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reader r = {data, size};
	machine m;
	mapping *scratch = malloc(MAX_SHADOW * sizeof(*scratch));
	uint8_t mode = rd8(&r);
	static const uint16_t bdfs[NDEV] = {MS_VTD_BDF(0, 0, 0), MS_VTD_BDF(0, 1, 0),
					    MS_VTD_BDF(1, 0, 0), MS_VTD_BDF(2, 5, 3)};

	CHECK(scratch);
	memset(&m, 0, sizeof(m));
	m.cm = mode & 1;
	CHECK(ms_ctx_new(&m.ctx) == 0);
	CHECK(ms_region_new_container(&m.root, m.ctx, "mem", (uint64_t)1 << 32) == 0);
	CHECK(ms_region_new_ram(&m.ram, m.ctx, "ram", RAM_SIZE) == 0);
	CHECK(ms_region_add_subregion(m.root, 0, m.ram) == 0);
	CHECK(ms_region_new_io(&m.mmio, m.ctx,
			       &(ms_region_io_opts){.name = "mmio",
						    .size = 0x1000,
						    .ops = &mmio_ops,
						    .opaque = &m}) == 0);
	CHECK(ms_region_add_subregion(m.root, MMIO_BASE, m.mmio) == 0);
	CHECK(ms_as_new(&m.mem, m.ctx, m.root, "mem") == 0);
	CHECK(ms_vtd_new(&m.v, m.ctx,
			 &(ms_vtd_opts){.name = "vtd",
					.memory = m.mem,
					.caching_mode = m.cm,
					.dev_iotlb = (mode & 2) != 0,
					.fault_ring_size = 8,
					.walk_max_tables = WALK_MAX}) == 0);
	CHECK(ms_vtd_set_root_table(m.v, 0) == 0);
	for (unsigned d = 0; d < NDEV; d++) {
		m.bdf[d] = bdfs[d];
		CHECK(ms_vtd_device_as(&m.as[d], m.v, m.bdf[d]) == 0);
		if (m.cm) {
			ms_iommu_notifier_opts opts = MS_IOMMU_NOTIFIER_OPTS_INIT;

			m.sh[d].m = malloc(MAX_SHADOW * 4 * sizeof(mapping));
			CHECK(m.sh[d].m);
			opts.flags = MS_IOMMU_NOTIFIER_IOTLB_EVENTS;
			opts.notify = follow;
			opts.opaque = &m.sh[d];
			CHECK(ms_iommu_register_notifier(
				      &m.n[d], ms_vtd_device_iommu(m.v, m.bdf[d]), &opts) == 0);
		}
	}

	run(&m, &r, scratch);

	for (unsigned d = 0; d < NDEV; d++) {
		ms_iommu_unregister_notifier(m.n[d]);
		free(m.sh[d].m);
	}
	ms_vtd_free(m.v);
	ms_as_free(m.mem);
	ms_region_unref(m.mmio);
	ms_region_unref(m.ram);
	ms_region_unref(m.root);
	ms_ctx_free(m.ctx);
	free(scratch);
	return 0;
}
