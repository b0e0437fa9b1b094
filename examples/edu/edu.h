/*
 * edu.h: an "edu"-style PCI device written against the QEMU-compatible API
 * (memspace/qemu-compat.h), and the little PCI layer it needs.
 *
 * The device follows the register map of QEMU's educational device: an
 * identification register, a liveness check that inverts what is written,
 * a factorial unit with a "computing" status bit, interrupt status, raise
 * and acknowledge registers, and a DMA engine (source, destination, count,
 * command) that copies between the bus and a 4 KiB buffer inside the
 * device, seen by the device at EDU_DMA_BUF_ADDR.
 *
 * PCI is reduced to what the example needs: a device has an Object (the
 * owner of its regions), a bus-master address space given by the machine
 * (behind an IOMMU in main.c), one memory BAR, and an interrupt line whose
 * level is kept in a variable instead of going to an interrupt controller.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef EXAMPLES_EDU_H
#define EXAMPLES_EDU_H

#include <memspace/qemu-compat.h>

/* ---- the PCI layer ------------------------------------------------------ */

typedef struct PCIDevice {
	Object qdev;          /* first, so that OBJECT(dev) works */
	AddressSpace *dma_as; /* where the device's DMA goes (its bus's view) */
	MemoryRegion *bar0;   /* registered by the device, mapped by the machine */
	int irq_level;        /* the INTx line */
	unsigned irq_raises;  /* how many times the line went up */
} PCIDevice;

static inline AddressSpace *pci_get_address_space(PCIDevice *dev)
{
	return dev->dma_as;
}

static inline void pci_register_bar(PCIDevice *dev, int region_num, MemoryRegion *mr)
{
	(void)region_num; /* one BAR in this layer */
	dev->bar0 = mr;
}

static inline void pci_set_irq(PCIDevice *dev, int level)
{
	if (level && !dev->irq_level)
		dev->irq_raises++;
	dev->irq_level = level;
}

static inline MemTxResult pci_dma_read(PCIDevice *dev, dma_addr_t addr, void *buf, dma_addr_t len)
{
	return dma_memory_read(pci_get_address_space(dev), addr, buf, len, MEMTXATTRS_UNSPECIFIED);
}

static inline MemTxResult pci_dma_write(PCIDevice *dev, dma_addr_t addr, const void *buf,
					dma_addr_t len)
{
	return dma_memory_write(pci_get_address_space(dev), addr, buf, len, MEMTXATTRS_UNSPECIFIED);
}

/* ---- the device ---------------------------------------------------------- */

#define EDU_MMIO_SIZE 0x100000u /* BAR0: 1 MiB */
#define EDU_ID 0x010000edu      /* version 1.0 */

/* Register offsets in BAR0. */
#define EDU_REG_ID 0x00
#define EDU_REG_LIVENESS 0x04
#define EDU_REG_FACTORIAL 0x08
#define EDU_REG_STATUS 0x20
#define EDU_REG_IRQ_STATUS 0x24
#define EDU_REG_IRQ_RAISE 0x60
#define EDU_REG_IRQ_ACK 0x64
#define EDU_REG_DMA_SRC 0x80
#define EDU_REG_DMA_DST 0x88
#define EDU_REG_DMA_COUNT 0x90
#define EDU_REG_DMA_CMD 0x98

#define EDU_STATUS_COMPUTING 0x01u /* read-only: the factorial is being computed */
#define EDU_STATUS_IRQ_FACT 0x80u  /* raise EDU_IRQ_FACT when it is done */

#define EDU_DMA_START 0x01u
#define EDU_DMA_TO_RAM 0x02u /* direction: device buffer to the bus (else bus to buffer) */
#define EDU_DMA_IRQ 0x04u    /* raise EDU_IRQ_DMA when done */

#define EDU_IRQ_FACT 0x001u
#define EDU_IRQ_DMA 0x100u

#define EDU_DMA_BUF_ADDR 0x40000u /* the buffer's address on the device's side */
#define EDU_DMA_BUF_SIZE 4096u
#define EDU_DMA_MASK_DEFAULT ((1ull << 28) - 1)

typedef struct EduState {
	PCIDevice pdev; /* first: the device is a PCIDevice, and an Object */
	MemoryRegion mmio;

	uint32_t liveness;
	uint32_t factorial;
	uint32_t status;
	uint32_t irq_status;
	uint64_t dma_src, dma_dst, dma_count, dma_cmd;
	uint64_t dma_mask;
	uint8_t dma_buf[EDU_DMA_BUF_SIZE];

	unsigned dma_errors; /* transfers refused or failed on the bus */
} EduState;

/**
 * edu_realize - set the device up: @dma_as is its bus-master view, @id
 * its name (the owner of its regions). Return: 0, or the negative errno
 * the BAR's creation recorded on @qc.
 */
int edu_realize(EduState *s, QemuCompat *qc, const char *id, AddressSpace *dma_as);

/**
 * edu_tick - run the device's deferred work: a factorial started by a
 * write (QEMU's edu computes it in a thread) and a DMA transfer started by
 * a command (QEMU's edu runs it from a timer). The machine's main loop
 * calls it.
 */
void edu_tick(EduState *s);

/** edu_unrealize - give the BAR up. */
void edu_unrealize(EduState *s);

#endif /* EXAMPLES_EDU_H */
