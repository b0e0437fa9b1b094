/*
 * vfu_server.c: a small PCI device built on libvfio-user, the peer of
 * tests/unit/test_vfio_user.c (not part of memspace).
 *
 *   vfu_server SOCKET
 *
 * BAR0 (4 KiB, message-only): bytes 0x000-0x7ff are plain registers (what is
 * written is read back, any size); 0x800.. is a DMA engine:
 *   0x800  u64  guest address
 *   0x808  u64  length (at most 64 KiB; 1 MiB for commands 3 and 4)
 *   0x810  u64  BAR1 offset
 *   0x818  u32  command (write): 1 guest -> BAR1, 2 BAR1 -> guest; the
 *               transfer runs inside the write. 3 guest -> scratch and
 *               4 scratch -> guest do the same with a 1 MiB buffer of the
 *               server's (the BAR1 offset is then one in it), for
 *               transfers up to 1 MiB (memspace-bench vfio-user)
 *   0x820  u32  status: 0 or the errno of the last command
 *   0x824  u32  1 when the last command reached guest memory directly
 *               (a mapped fd), 0 when it used DMA_READ/DMA_WRITE messages
 *   0x828  u32  number of DMA regions the client has mapped
 *   0x830  u32  (write) trigger the MSI-X interrupt of this vector;
 *               0x834 then holds 0 or the errno of the trigger. A vector
 *               the client masked (SET_IRQS ACTION_MASK) is held pending
 *               instead, and fires when the client unmasks it
 *   0x838  u32  the MSI-X vectors held pending, one bit each
 * BAR1 (64 KiB, memfd): [0, 32K) and [48K, 64K) mmappable; [32K, 48K)
 * reached by messages only.
 * The server exits when the client disconnects.
 *
 * SPDX-License-Identifier: MIT
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "libvfio-user.h"

#define BAR1_SIZE (64u * 1024)
#define SCRATCH_SIZE (1024u * 1024)

static uint8_t regs[4096];
static uint8_t *bar1;
static uint8_t scratch[SCRATCH_SIZE];
static uint32_t nr_dma;
static uint32_t msix_masked, msix_pending; /* one bit per vector */

static uint64_t reg64(unsigned off)
{
	uint64_t v;
	memcpy(&v, regs + off, 8);
	return v;
}

static void set32(unsigned off, uint32_t v)
{
	memcpy(regs + off, &v, 4);
}

static void run_dma(vfu_ctx_t *ctx, uint32_t cmd)
{
	uint64_t addr = reg64(0x800), len = reg64(0x808), off = reg64(0x810);
	dma_sg_t *sg = alloca(dma_sg_size());
	int prot = cmd == 1 || cmd == 3 ? PROT_READ : PROT_WRITE;
	uint8_t *mem = cmd <= 2 ? bar1 : scratch;
	uint64_t size = cmd <= 2 ? BAR1_SIZE : SCRATCH_SIZE;
	int ret;

	set32(0x824, 0);
	if (cmd < 1 || cmd > 4 || len == 0 || len > size || off > size - len) {
		set32(0x820, EINVAL);
		return;
	}
	ret = vfu_addr_to_sgl(ctx, (vfu_dma_addr_t)(uintptr_t)addr, len, sg, 1, prot);
	if (ret != 1) {
		set32(0x820, ret < 0 && errno ? (uint32_t)errno : ENOENT);
		return;
	}
	set32(0x824, vfu_sg_is_mappable(ctx, sg) ? 1 : 0);
	if (prot == PROT_READ)
		ret = vfu_sgl_read(ctx, sg, 1, mem + off, VFU_SGL_DIRECT_ACCESS);
	else
		ret = vfu_sgl_write(ctx, sg, 1, mem + off, VFU_SGL_DIRECT_ACCESS);
	set32(0x820, ret < 0 ? (uint32_t)errno : 0);
}

static ssize_t bar0_access(vfu_ctx_t *ctx, char *buf, size_t count, loff_t offset, bool is_write)
{
	if (offset < 0 || (size_t)offset > sizeof(regs) || count > sizeof(regs) - (size_t)offset) {
		errno = EINVAL;
		return -1;
	}
	if (!is_write) {
		set32(0x828, nr_dma);
		set32(0x838, msix_pending);
		memcpy(buf, regs + offset, count);
		return (ssize_t)count;
	}
	if (offset == 0x818 && count == 4) {
		uint32_t cmd;
		memcpy(&cmd, buf, 4);
		run_dma(ctx, cmd);
		return (ssize_t)count;
	}
	if (offset == 0x830 && count == 4) {
		uint32_t vector;
		memcpy(&vector, buf, 4);
		if (vector < 32 && (msix_masked >> vector & 1)) {
			msix_pending |= 1u << vector;
			set32(0x834, 0);
		} else {
			set32(0x834, vfu_irq_trigger(ctx, vector) < 0 ? (uint32_t)errno : 0);
		}
		return (ssize_t)count;
	}
	memcpy(regs + offset, buf, count);
	return (ssize_t)count;
}

static ssize_t bar1_access(vfu_ctx_t *ctx, char *buf, size_t count, loff_t offset, bool is_write)
{
	(void)ctx;
	if (offset < 0 || (size_t)offset > BAR1_SIZE || count > BAR1_SIZE - (size_t)offset) {
		errno = EINVAL;
		return -1;
	}
	if (is_write)
		memcpy(bar1 + offset, buf, count);
	else
		memcpy(buf, bar1 + offset, count);
	return (ssize_t)count;
}

static void dma_register(vfu_ctx_t *ctx, vfu_dma_info_t *info)
{
	(void)ctx;
	(void)info;
	nr_dma++;
}

static void dma_unregister(vfu_ctx_t *ctx, vfu_dma_info_t *info)
{
	(void)ctx;
	(void)info;
	nr_dma--;
}

/* SET_IRQS ACTION_MASK / ACTION_UNMASK of MSI-X vectors; unmasking fires what is pending. */
static void msix_state(vfu_ctx_t *ctx, uint32_t start, uint32_t count, bool mask)
{
	for (uint32_t v = start; v < start + count && v < 32; v++) {
		if (mask) {
			msix_masked |= 1u << v;
			continue;
		}
		msix_masked &= ~(1u << v);
		if (msix_pending >> v & 1) {
			msix_pending &= ~(1u << v);
			vfu_irq_trigger(ctx, v);
		}
	}
}

static void die(const char *what)
{
	fprintf(stderr, "vfu_server: %s: %s\n", what, strerror(errno));
	exit(1);
}

int main(int argc, char **argv)
{
	struct iovec areas[2] = {{(void *)0, 32u * 1024}, {(void *)(48u * 1024), 16u * 1024}};
	vfu_ctx_t *ctx;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: vfu_server SOCKET\n");
		return 2;
	}
	fd = memfd_create("bar1", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, BAR1_SIZE) < 0)
		die("memfd");
	bar1 = mmap(NULL, BAR1_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (bar1 == MAP_FAILED)
		die("mmap");
	ctx = vfu_create_ctx(VFU_TRANS_SOCK, argv[1], 0, NULL, VFU_DEV_TYPE_PCI);
	if (!ctx)
		die("vfu_create_ctx");
	if (vfu_pci_init(ctx, VFU_PCI_TYPE_CONVENTIONAL, PCI_HEADER_TYPE_NORMAL, 0) < 0)
		die("vfu_pci_init");
	vfu_pci_set_id(ctx, 0x1b36, 0x0042, 0x1af4, 0x1100);
	if (vfu_setup_region(ctx, VFU_PCI_DEV_BAR0_REGION_IDX, sizeof(regs), bar0_access,
			     VFU_REGION_FLAG_RW, NULL, 0, -1, 0) < 0)
		die("BAR0");
	if (vfu_setup_region(ctx, VFU_PCI_DEV_BAR1_REGION_IDX, BAR1_SIZE, bar1_access,
			     VFU_REGION_FLAG_RW | VFU_REGION_FLAG_MEM, areas, 2, fd, 0) < 0)
		die("BAR1");
	if (vfu_setup_device_dma(ctx, LIBVFIO_USER_MAX_DMA_REGIONS, dma_register, dma_unregister) <
	    0)
		die("dma");
	if (vfu_setup_device_nr_irqs(ctx, VFU_DEV_INTX_IRQ, 1) < 0 ||
	    vfu_setup_device_nr_irqs(ctx, VFU_DEV_MSIX_IRQ, 4) < 0 ||
	    vfu_setup_irq_state_callback(ctx, VFU_DEV_MSIX_IRQ, msix_state) < 0)
		die("irqs");
	if (vfu_realize_ctx(ctx) < 0)
		die("vfu_realize_ctx");
	if (vfu_attach_ctx(ctx) < 0)
		die("vfu_attach_ctx");
	for (;;) {
		if (vfu_run_ctx(ctx) < 0) {
			if (errno == EINTR)
				continue;
			break; /* ENOTCONN: the client went away */
		}
	}
	vfu_destroy_ctx(ctx);
	return 0;
}
