/*
 * edu.c: an "edu"-style PCI device (see edu.h for the register map), in
 * QEMU's style: a MemoryRegionOps table, memory_region_init_io() for BAR0,
 * pci_dma_read()/pci_dma_write() for the DMA engine. Nothing here calls
 * the memspace API directly: the device sees only qemu-compat.h.
 *
 * Registers below 0x80 take 4-byte accesses only; the DMA registers
 * (64 bits each) take 4- or 8-byte ones, a 4-byte access reaching one
 * half. The factorial and DMA units start on a register write and finish
 * in edu_tick(), so that a driver can see the "busy" state in between.
 *
 * SPDX-License-Identifier: MIT
 */
#include "edu.h"

static void edu_update_irq(EduState *s)
{
	pci_set_irq(&s->pdev, s->irq_status != 0);
}

static void edu_raise_irq(EduState *s, uint32_t bits)
{
	s->irq_status |= bits;
	edu_update_irq(s);
}

/* The 64-bit DMA register at @reg (offset of its low half). */
static uint64_t *edu_dma_reg(EduState *s, hwaddr reg)
{
	switch (reg) {
	case EDU_REG_DMA_SRC:
		return &s->dma_src;
	case EDU_REG_DMA_DST:
		return &s->dma_dst;
	case EDU_REG_DMA_COUNT:
		return &s->dma_count;
	case EDU_REG_DMA_CMD:
		return &s->dma_cmd;
	default:
		return NULL;
	}
}

static bool edu_mmio_accepts(void *opaque, hwaddr addr, unsigned size, bool is_write,
			     MemTxAttrs attrs)
{
	(void)opaque;
	(void)is_write;
	(void)attrs;
	if (addr < EDU_REG_DMA_SRC)
		return size == 4;
	return size == 4 || (size == 8 && addr % 8 == 0);
}

static uint64_t edu_mmio_read(void *opaque, hwaddr addr, unsigned size)
{
	EduState *s = opaque;
	uint64_t *reg;

	switch (addr) {
	case EDU_REG_ID:
		return EDU_ID;
	case EDU_REG_LIVENESS:
		return s->liveness;
	case EDU_REG_FACTORIAL:
		return s->factorial;
	case EDU_REG_STATUS:
		return s->status;
	case EDU_REG_IRQ_STATUS:
		return s->irq_status;
	}
	reg = edu_dma_reg(s, addr & ~(hwaddr)7);
	if (!reg)
		return 0; /* unassigned registers read as zero */
	if (size == 8)
		return *reg;
	return addr % 8 ? *reg >> 32 : (uint32_t)*reg;
}

static void edu_mmio_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
	EduState *s = opaque;
	uint64_t *reg;

	switch (addr) {
	case EDU_REG_LIVENESS:
		s->liveness = ~(uint32_t)val;
		return;
	case EDU_REG_FACTORIAL:
		/* A new operand only when the unit is idle. */
		if (!(s->status & EDU_STATUS_COMPUTING)) {
			s->factorial = (uint32_t)val;
			s->status |= EDU_STATUS_COMPUTING;
		}
		return;
	case EDU_REG_STATUS:
		/* Only the interrupt-enable bit is the driver's. */
		s->status =
			(s->status & ~EDU_STATUS_IRQ_FACT) | ((uint32_t)val & EDU_STATUS_IRQ_FACT);
		return;
	case EDU_REG_IRQ_RAISE:
		edu_raise_irq(s, (uint32_t)val);
		return;
	case EDU_REG_IRQ_ACK:
		s->irq_status &= ~(uint32_t)val;
		edu_update_irq(s);
		return;
	}
	reg = edu_dma_reg(s, addr & ~(hwaddr)7);
	/* The DMA registers are frozen while a transfer is pending. */
	if (!reg || (s->dma_cmd & EDU_DMA_START))
		return;
	if (size == 8)
		*reg = val;
	else if (addr % 8)
		*reg = (*reg & 0xffffffffu) | (val << 32);
	else
		*reg = (*reg & ~(uint64_t)0xffffffffu) | (uint32_t)val;
}

static const MemoryRegionOps edu_mmio_ops = {
	.read = edu_mmio_read,
	.write = edu_mmio_write,
	.endianness = DEVICE_LITTLE_ENDIAN,
	.valid = {.min_access_size = 4, .max_access_size = 8, .accepts = edu_mmio_accepts},
	.impl = {.min_access_size = 4, .max_access_size = 8},
};

/* Is [addr, addr + len) inside the device's buffer? Sets *@offset. */
static bool edu_buf_range(uint64_t addr, uint64_t len, uint64_t *offset)
{
	if (addr < EDU_DMA_BUF_ADDR || addr - EDU_DMA_BUF_ADDR > EDU_DMA_BUF_SIZE ||
	    len > EDU_DMA_BUF_SIZE - (addr - EDU_DMA_BUF_ADDR))
		return false;
	*offset = addr - EDU_DMA_BUF_ADDR;
	return true;
}

/* Can the device address [addr, addr + len) on the bus? */
static bool edu_bus_range(const EduState *s, uint64_t addr, uint64_t len)
{
	return len && addr <= s->dma_mask && len - 1 <= s->dma_mask - addr;
}

static void edu_run_dma(EduState *s)
{
	bool to_ram = s->dma_cmd & EDU_DMA_TO_RAM;
	uint64_t bus = to_ram ? s->dma_dst : s->dma_src;
	uint64_t dev = to_ram ? s->dma_src : s->dma_dst;
	uint64_t offset;
	MemTxResult r;

	if (!edu_buf_range(dev, s->dma_count, &offset) || !edu_bus_range(s, bus, s->dma_count)) {
		s->dma_errors++;
	} else {
		if (to_ram)
			r = pci_dma_write(&s->pdev, bus, s->dma_buf + offset, s->dma_count);
		else
			r = pci_dma_read(&s->pdev, bus, s->dma_buf + offset, s->dma_count);
		if (r != MEMTX_OK)
			s->dma_errors++;
	}
	s->dma_cmd &= ~(uint64_t)EDU_DMA_START;
	if (s->dma_cmd & EDU_DMA_IRQ)
		edu_raise_irq(s, EDU_IRQ_DMA);
}

void edu_tick(EduState *s)
{
	if (s->status & EDU_STATUS_COMPUTING) {
		uint32_t n = s->factorial, fact = 1;

		while (n > 1)
			fact *= n--;
		s->factorial = fact;
		s->status &= ~EDU_STATUS_COMPUTING;
		if (s->status & EDU_STATUS_IRQ_FACT)
			edu_raise_irq(s, EDU_IRQ_FACT);
	}
	if (s->dma_cmd & EDU_DMA_START)
		edu_run_dma(s);
}

int edu_realize(EduState *s, QemuCompat *qc, const char *id, AddressSpace *dma_as)
{
	memset(s, 0, sizeof(*s));
	qemu_compat_object_init(OBJECT(s), qc, id);
	s->pdev.dma_as = dma_as;
	s->dma_mask = EDU_DMA_MASK_DEFAULT;
	memory_region_init_io(&s->mmio, OBJECT(s), &edu_mmio_ops, s, "edu-mmio", EDU_MMIO_SIZE);
	if (!qemu_compat_region(&s->mmio))
		return qemu_compat_error(qc, NULL);
	pci_register_bar(&s->pdev, 0, &s->mmio);
	return 0;
}

void edu_unrealize(EduState *s)
{
	memory_region_destroy(&s->mmio);
}
