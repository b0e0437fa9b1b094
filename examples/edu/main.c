/*
 * main.c: a small machine for the edu device (edu.c), built with the
 * QEMU-compatible API. It has 16 MiB of RAM at 0, the device's BAR0 in the
 * PCI hole at 0xfea00000, and an IOMMU between the device and memory: a
 * single-level table of 4 KiB pages over the device's 256 MiB DMA space,
 * written as a QEMU IOMMU class (translate, notify_flag_changed, replay).
 * A shadow notifier (what VFIO or vhost would register) follows the
 * IOMMU's mappings.
 *
 * The program then plays the guest driver through the CPU's address space:
 * it checks the identification and liveness registers, runs the factorial
 * unit, and moves a page RAM -> device -> RAM by DMA through the IOMMU,
 * including a write to a read-only mapping and a read of an unmapped page,
 * which must both fail. Exit status 0 when every check holds.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <memspace.h>

#include "edu.h"

#define RAM_SIZE (16u << 20)
#define EDU_BAR_ADDR 0xfea00000ull
#define IOMMU_PAGE_BITS 12
#define IOMMU_PAGES ((EDU_DMA_MASK_DEFAULT + 1) >> IOMMU_PAGE_BITS)

/* ---- the machine's IOMMU ---------------------------------------------------- */

typedef struct PageIOMMU {
	IOMMUMemoryRegion iommu;
	AddressSpace *target; /* system memory */
	uint64_t *table;      /* per page: target address | IOMMU_RO / IOMMU_WO */
	IOMMUNotifierFlag notify_flags;
} PageIOMMU;

static PageIOMMU *page_iommu_of(IOMMUMemoryRegion *iommu)
{
	return (PageIOMMU *)(void *)((char *)iommu - offsetof(PageIOMMU, iommu));
}

static IOMMUTLBEntry page_iommu_entry(PageIOMMU *p, hwaddr iova)
{
	uint64_t pte = p->table[iova >> IOMMU_PAGE_BITS];
	IOMMUTLBEntry e = {
		.target_as = p->target,
		.iova = iova & ~(hwaddr)((1u << IOMMU_PAGE_BITS) - 1),
		.translated_addr = pte & ~(uint64_t)((1u << IOMMU_PAGE_BITS) - 1),
		.addr_mask = (1u << IOMMU_PAGE_BITS) - 1,
		.perm = (IOMMUAccessFlags)(pte & IOMMU_RW),
	};

	return e;
}

static IOMMUTLBEntry page_iommu_translate(IOMMUMemoryRegion *iommu, hwaddr addr,
					  IOMMUAccessFlags flag, int iommu_idx)
{
	(void)flag; /* the entry never depends on the access */
	(void)iommu_idx;
	return page_iommu_entry(page_iommu_of(iommu), addr);
}

static int page_iommu_notify_flag_changed(IOMMUMemoryRegion *iommu, IOMMUNotifierFlag old_flags,
					  IOMMUNotifierFlag new_flags, Error **errp)
{
	(void)old_flags;
	(void)errp;
	page_iommu_of(iommu)->notify_flags = new_flags;
	return 0;
}

/* Walk the table, not the whole space page by page. */
static void page_iommu_replay(IOMMUMemoryRegion *iommu, IOMMUNotifier *n)
{
	PageIOMMU *p = page_iommu_of(iommu);

	for (uint64_t i = 0; i < IOMMU_PAGES; i++) {
		if (p->table[i] & IOMMU_RW) {
			IOMMUTLBEvent ev = {
				.type = IOMMU_NOTIFIER_MAP,
				.entry = page_iommu_entry(p, i << IOMMU_PAGE_BITS),
			};
			memory_region_notify_iommu_one(n, &ev);
		}
	}
}

static uint64_t page_iommu_min_page(IOMMUMemoryRegion *iommu)
{
	(void)iommu;
	return 1u << IOMMU_PAGE_BITS;
}

static const IOMMUMemoryRegionClass page_iommu_class = {
	.translate = page_iommu_translate,
	.get_min_page_size = page_iommu_min_page,
	.notify_flag_changed = page_iommu_notify_flag_changed,
	.replay = page_iommu_replay,
};

/* Set one page's entry (0 unmaps), announcing the change as QEMU models do. */
static void page_iommu_set(PageIOMMU *p, hwaddr iova, uint64_t pte)
{
	uint64_t i = iova >> IOMMU_PAGE_BITS;
	IOMMUTLBEvent ev;

	if (p->table[i] & IOMMU_RW) {
		ev.type = IOMMU_NOTIFIER_UNMAP;
		ev.entry = page_iommu_entry(p, iova);
		ev.entry.perm = IOMMU_NONE;
		p->table[i] = 0;
		memory_region_notify_iommu(&p->iommu, 0, ev);
	}
	p->table[i] = pte;
	if (pte & IOMMU_RW) {
		ev.type = IOMMU_NOTIFIER_MAP;
		ev.entry = page_iommu_entry(p, iova);
		memory_region_notify_iommu(&p->iommu, 0, ev);
	}
}

/* ---- a shadow of the IOMMU's mappings ------------------------------------ */

typedef struct Shadow {
	IOMMUNotifier n;
	unsigned maps, unmaps;
} Shadow;

static void shadow_notify(IOMMUNotifier *n, IOMMUTLBEntry *e)
{
	Shadow *s = (Shadow *)(void *)((char *)n - offsetof(Shadow, n));

	if (e->perm == IOMMU_NONE)
		s->unmaps++;
	else
		s->maps++;
}

/* ---- the machine ------------------------------------------------------------- */

typedef struct Machine {
	Object obj;
	QemuCompat qc;
	MemoryRegion sysmem, ram;
	AddressSpace memory; /* what the CPU sees */
	PageIOMMU iommu;
	AddressSpace edu_dma; /* what the device sees: the IOMMU */
	EduState edu;
	Shadow shadow;
} Machine;

static int failures;

#define CHECK(cond)                                                                           \
	do {                                                                                  \
		if (!(cond)) {                                                                \
			fprintf(stderr, "edu: %s:%d: check failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                       \
			failures++;                                                           \
		}                                                                             \
	} while (0)

static int machine_init(Machine *m, ms_ctx *ctx)
{
	int err = qemu_compat_init(&m->qc, ctx);

	if (err)
		return err;
	qemu_compat_object_init(&m->obj, &m->qc, "machine");
	memory_region_init(&m->sysmem, &m->obj, "system", UINT64_MAX);
	memory_region_init_ram(&m->ram, &m->obj, "pc.ram", RAM_SIZE, NULL);
	memory_region_add_subregion(&m->sysmem, 0, &m->ram);
	address_space_init(&m->memory, &m->sysmem, "memory");

	m->iommu.target = &m->memory;
	m->iommu.table = calloc(IOMMU_PAGES, sizeof(*m->iommu.table));
	if (!m->iommu.table)
		return -ENOMEM;
	memory_region_init_iommu(&m->iommu.iommu, sizeof(m->iommu.iommu), &page_iommu_class,
				 &m->obj, "page-iommu", EDU_DMA_MASK_DEFAULT + 1);
	address_space_init(&m->edu_dma, MEMORY_REGION(&m->iommu.iommu), "edu-dma");

	err = edu_realize(&m->edu, &m->qc, "edu", &m->edu_dma);
	if (err)
		return err;
	memory_region_add_subregion(&m->sysmem, EDU_BAR_ADDR, m->edu.pdev.bar0);

	iommu_notifier_init(&m->shadow.n, shadow_notify, IOMMU_NOTIFIER_IOTLB_EVENTS, 0,
			    EDU_DMA_MASK_DEFAULT, 0);
	memory_region_register_iommu_notifier(MEMORY_REGION(&m->iommu.iommu), &m->shadow.n, NULL);
	return qemu_compat_error(&m->qc, NULL);
}

/* The driver's register accessors: 32-bit little-endian MMIO. */
static uint32_t edu_readl(Machine *m, hwaddr reg)
{
	return ldl_le_phys(&m->memory, EDU_BAR_ADDR + reg);
}

static void edu_writel(Machine *m, hwaddr reg, uint32_t val)
{
	stl_le_phys(&m->memory, EDU_BAR_ADDR + reg, val);
}

static void edu_writeq(Machine *m, hwaddr reg, uint64_t val)
{
	stq_le_phys(&m->memory, EDU_BAR_ADDR + reg, val);
}

/* Start a DMA, let the device run it, and acknowledge its interrupt. */
static void edu_dma(Machine *m, uint64_t src, uint64_t dst, uint64_t count, uint32_t dir)
{
	edu_writeq(m, EDU_REG_DMA_SRC, src);
	edu_writeq(m, EDU_REG_DMA_DST, dst);
	edu_writeq(m, EDU_REG_DMA_COUNT, count);
	edu_writeq(m, EDU_REG_DMA_CMD, EDU_DMA_START | EDU_DMA_IRQ | dir);
	CHECK(edu_readl(m, EDU_REG_DMA_CMD) & EDU_DMA_START);
	edu_tick(&m->edu);
	CHECK(!(edu_readl(m, EDU_REG_DMA_CMD) & EDU_DMA_START));
	CHECK(edu_readl(m, EDU_REG_IRQ_STATUS) == EDU_IRQ_DMA);
	CHECK(m->edu.pdev.irq_level);
	edu_writel(m, EDU_REG_IRQ_ACK, EDU_IRQ_DMA);
	CHECK(!m->edu.pdev.irq_level);
}

static void drive(Machine *m)
{
	static uint8_t pattern[EDU_DMA_BUF_SIZE], back[EDU_DMA_BUF_SIZE];
	MemTxResult r;

	/* Identification, liveness (inversion), an 8-bit access refused. */
	CHECK(edu_readl(m, EDU_REG_ID) == EDU_ID);
	edu_writel(m, EDU_REG_LIVENESS, 0x12345678);
	CHECK(edu_readl(m, EDU_REG_LIVENESS) == (uint32_t)~0x12345678u);
	(void)address_space_ldub(&m->memory, EDU_BAR_ADDR, MEMTXATTRS_UNSPECIFIED, &r);
	CHECK(r == MEMTX_DECODE_ERROR);

	/* Factorial with its interrupt: busy until the device has run. */
	edu_writel(m, EDU_REG_STATUS, EDU_STATUS_IRQ_FACT);
	edu_writel(m, EDU_REG_FACTORIAL, 10);
	CHECK(edu_readl(m, EDU_REG_STATUS) == (EDU_STATUS_IRQ_FACT | EDU_STATUS_COMPUTING));
	edu_writel(m, EDU_REG_FACTORIAL, 3); /* ignored while computing */
	edu_tick(&m->edu);
	CHECK(edu_readl(m, EDU_REG_STATUS) == EDU_STATUS_IRQ_FACT);
	CHECK(edu_readl(m, EDU_REG_FACTORIAL) == 3628800);
	CHECK(edu_readl(m, EDU_REG_IRQ_STATUS) == EDU_IRQ_FACT);
	CHECK(m->edu.pdev.irq_level);
	edu_writel(m, EDU_REG_IRQ_ACK, EDU_IRQ_FACT);
	CHECK(!m->edu.pdev.irq_level);

	/* Raise and acknowledge by hand. */
	edu_writel(m, EDU_REG_IRQ_RAISE, 0x40000000);
	CHECK(m->edu.pdev.irq_level && edu_readl(m, EDU_REG_IRQ_STATUS) == 0x40000000);
	edu_writel(m, EDU_REG_IRQ_ACK, 0x40000000);
	CHECK(!m->edu.pdev.irq_level);

	/* The IOMMU: bus page 0x100000 -> RAM 0x200000 (RW), 0x101000 -> RAM
	 * 0x300000 (read-only), 0x102000 -> RAM 0x400000 (RW). */
	page_iommu_set(&m->iommu, 0x100000, 0x200000 | IOMMU_RW);
	page_iommu_set(&m->iommu, 0x101000, 0x300000 | IOMMU_RO);
	page_iommu_set(&m->iommu, 0x102000, 0x400000 | IOMMU_RW);
	CHECK(m->shadow.maps == 3);

	/* RAM -> device buffer -> another RAM page, through the IOMMU. */
	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)(i * 37 + 11);
	CHECK(address_space_write(&m->memory, 0x200000, MEMTXATTRS_UNSPECIFIED, pattern,
				  sizeof(pattern)) == MEMTX_OK);
	edu_dma(m, 0x100000, EDU_DMA_BUF_ADDR, EDU_DMA_BUF_SIZE, 0);
	edu_dma(m, EDU_DMA_BUF_ADDR, 0x102000, EDU_DMA_BUF_SIZE, EDU_DMA_TO_RAM);
	CHECK(address_space_read(&m->memory, 0x400000, MEMTXATTRS_UNSPECIFIED, back,
				 sizeof(back)) == MEMTX_OK);
	CHECK(memcmp(back, pattern, sizeof(back)) == 0);
	CHECK(m->edu.dma_errors == 0);

	/* A write through the read-only mapping fails; RAM is untouched. */
	edu_dma(m, EDU_DMA_BUF_ADDR, 0x101000, 16, EDU_DMA_TO_RAM);
	CHECK(m->edu.dma_errors == 1);
	CHECK(ldq_le_phys(&m->memory, 0x300000) == 0);

	/* Unmapped: the read fails and the shadow saw the unmap. */
	page_iommu_set(&m->iommu, 0x100000, 0);
	CHECK(m->shadow.unmaps == 1);
	edu_dma(m, 0x100000, EDU_DMA_BUF_ADDR, 16, 0);
	CHECK(m->edu.dma_errors == 2);

	/* Outside the device's buffer or its DMA mask: refused before the bus. */
	edu_dma(m, 0x102000, EDU_DMA_BUF_ADDR + 4000, 200, 0);
	edu_dma(m, 1ull << 28, EDU_DMA_BUF_ADDR, 16, 0);
	CHECK(m->edu.dma_errors == 4);

	/* A replay announces the two mappings left. */
	unsigned maps = m->shadow.maps;
	memory_region_iommu_replay(&m->iommu.iommu, &m->shadow.n);
	CHECK(m->shadow.maps == maps + 2);
}

int main(void)
{
	Machine *m = calloc(1, sizeof(*m));
	ms_ctx *ctx = NULL;
	const char *call = NULL;
	char *dump = NULL;
	int err;

	if (!m || ms_ctx_new(&ctx)) {
		fprintf(stderr, "edu: out of memory\n");
		return 1;
	}
	err = machine_init(m, ctx);
	if (err) {
		qemu_compat_error(&m->qc, &call);
		fprintf(stderr, "edu: machine: %s: %s\n", call ? call : "init", ms_strerror(err));
		failures++;
	} else {
		drive(m);
		err = qemu_compat_error(&m->qc, &call);
		if (err) {
			fprintf(stderr, "edu: %s: %s\n", call, ms_strerror(err));
			failures++;
		}
		if (!ms_mtree_dump(&dump, NULL, ctx, MS_MTREE_OWNER))
			fputs(dump, stdout);
		free(dump);
		memory_region_unregister_iommu_notifier(MEMORY_REGION(&m->iommu.iommu),
							&m->shadow.n);
		edu_unrealize(&m->edu);
	}
	ms_ctx_free(ctx); /* frees every region and address space of the machine */
	free(m->iommu.table);
	free(m);
	if (failures) {
		fprintf(stderr, "edu: %d check(s) failed\n", failures);
		return 1;
	}
	printf("edu: all checks passed\n");
	return 0;
}
