/*
 * memspace CLI: `memspace demo`, a PC-like machine built by a script.
 *
 * The machine is an ordinary script run by the interpreter, which keeps the
 * script language honest: whatever the demo shows, a user can write.
 * `memspace demo --script` prints it as a starting point.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "script.h"

static const char demo_script[] =
	"# The memspace demo: a small PC-like machine.\n"
	"# Run it with 'memspace demo'; 'memspace demo --script' prints this script,\n"
	"# and 'memspace run FILE' runs your edited copy.\n"
	"\n"
	"heading A PC-like machine\n"
	"echo 4 GiB of RAM split around the PCI hole, a BIOS ROM, a flash chip in romd mode,\n"
	"echo PCI devices, a DMA engine and an I/O port space.\n"
	"begin\n"
	"container system 2^64\n"
	"ram pc.ram 4G owner=pc\n"
	"alias ram-below-4g pc.ram 0 3G in=system at=0\n"
	"alias ram-above-4g pc.ram 3G 1G in=system at=4G\n"
	"# PCI sits below RAM (priority -1): it shows in the hole from 3 GiB to 4 GiB.\n"
	"container pci 2^64 in=system at=0 prio=-1\n"
	"rom pc.bios 256K in=pci at=0xfffc0000 owner=pc\n"
	"# The last 128K of the BIOS also answer below 1 MiB, over RAM.\n"
	"alias isa-bios pc.bios 0x20000 128K in=system at=0xe0000 prio=1\n"
	"romdevice pflash 64K regs in=pci at=0xff800000 owner=pflash\n"
	"as memory system\n"
	"io hpet 1K const value=0x8086a201 in=system at=0xfed00000 owner=hpet\n"
	"io nic.mmio 4K regs in=pci at=0xfebc0000 owner=nic\n"
	"io dma.mmio 0x100 dma as=memory in=pci at=0xfebd0000 owner=dma\n"
	"io broken.bar 4K error in=pci at=0xfebe0000\n"
	"container io 64K\n"
	"io serial 8 regs in=io at=0x3f8 owner=serial0\n"
	"as I/O io\n"
	"commit\n"
	"\n"
	"heading The memory tree (info mtree)\n"
	"mtree\n"
	"heading The flat views (info mtree -f)\n"
	"mtree -f\n"
	"\n"
	"heading RAM below and above 4 GiB\n"
	"write 0x1000 \"Hello, memspace!\"\n"
	"read 0x1000 16\n"
	"stq 0x100000000 0x1122334455667788\n"
	"ldq 0x100000000\n"
	"translate 0x100000000\n"
	"# The last bytes of low RAM, then the PCI hole, where nothing answers:\n"
	"read 0xbffffffc 8\n"
	"\n"
	"heading The BIOS ROM\n"
	"load 0xfffffff0 ea 5b e0 00 f0\n"
	"write 0xfffffff0 90 90\n"
	"read 0xfffffff0 5\n"
	"# The same bytes through the isa-bios alias:\n"
	"read 0xffff0 5\n"
	"\n"
	"heading The flash chip: a ROM device\n"
	"load 0xff800000 \"FLASH\"\n"
	"read 0xff800000 5\n"
	"stl 0xff800000 0x90\n"
	"set pflash romd=off\n"
	"ldl 0xff800000\n"
	"set pflash romd=on\n"
	"ldl 0xff800000\n"
	"\n"
	"heading Devices\n"
	"ldl 0xfed00000\n"
	"stl 0xfebc0008 0x12345678\n"
	"ldw 0xfebc000a\n"
	"ldl 0xfebe0000\n"
	"stb 0x3f8 0x41 as=I/O\n"
	"ldl 0xd0000000\n"
	"\n"
	"heading DMA: the engine at 0xfebd0000 copies inside the memory address space\n"
	"write 0x2000 \"DMA payload!\"\n"
	"stq 0xfebd0000 0x2000\n"
	"stq 0xfebd0008 0x100000010\n"
	"stq 0xfebd0010 12\n"
	"stq 0xfebd0018 1\n"
	"read 0x100000010 12\n"
	"ldq 0xfebd0020\n"
	"# From the PCI hole: the status register holds DECODE_ERROR (2).\n"
	"stq 0xfebd0000 0xd0000000\n"
	"stq 0xfebd0018 1\n"
	"ldq 0xfebd0020\n"
	"# Into its own registers: refused by the reentrancy guard, ACCESS_ERROR (4).\n"
	"stq 0xfebd0000 0x2000\n"
	"stq 0xfebd0008 0xfebd0000\n"
	"stq 0xfebd0018 1\n"
	"ldq 0xfebd0020\n"
	"\n"
	"heading DMA mappings\n"
	"map 0x2000 12\n"
	"map-read 1 0 12\n"
	"map 0xfebc0008 4 write\n"
	"map-write 2 0 ef be ad de\n"
	"unmap 2\n"
	"unmap 1\n"
	"\n"
	"heading An IOMMU: a second DMA engine sees memory through a page table\n"
	"iommu iommu0 4G target=memory\n"
	"as dma iommu0\n"
	"io dma2.mmio 0x100 dma as=dma log=off in=pci at=0xfebd1000\n"
	"notifier vfio iommu0\n"
	"# IOVA 0x10000 reads memory 0x2000; IOVA 0x11000 writes memory 0x5000.\n"
	"iommu-map iommu0 0x10000 0x2000 4K perm=ro\n"
	"iommu-map iommu0 0x11000 0x5000 4K\n"
	"iotlb 0x10004 as=dma\n"
	"stq 0xfebd1000 0x10000\n"
	"stq 0xfebd1008 0x11000\n"
	"stq 0xfebd1010 12\n"
	"stq 0xfebd1018 1\n"
	"read 0x5000 12\n"
	"# A region cache over the destination page: direct memory access while mapped.\n"
	"cache ring 0x11000 12 as=dma\n"
	"cache-read ring 0 12\n"
	"# Unmapped, the engine's transfer fails (ACCESS_ERROR, 4) and the cache notices.\n"
	"iommu-unmap iommu0 0x11000 4K\n"
	"stq 0xfebd1018 1\n"
	"ldq 0xfebd1020\n"
	"cache-read ring 0 12\n"
	"\n"
	"heading pseries: DMA through a TCE window, shadowed by a VFIO container\n"
	"echo The TCE table of a host bridge translates the bus addresses of its devices\n"
	"echo into memory; a VFIO container attached to their DMA address space pins\n"
	"echo every page the table maps.\n"
	"tce-table phb0 memory owner=phb0\n"
	"as pci-dma phb0\n"
	"io dma3.mmio 0x100 dma as=pci-dma log=off in=pci at=0xfebd2000\n"
	"tce-window phb0 0 1G\n"
	"vfio-container vfio0\n"
	"vfio-attach vfio0 pci-dma\n"
	"write 0x6000 \"TCE payload\"\n"
	"# H_PUT_TCE: bus page 0x1000 reads memory 0x6000, bus page 0x3000 writes 0x7000.\n"
	"tce-put phb0 0x1000 0x6000 perm=ro\n"
	"tce-put phb0 0x3000 0x7000\n"
	"tce-get phb0 0x1000\n"
	"vfio-info vfio0\n"
	"# The emulated engine copies bus 0x1000 to bus 0x3000 through the window.\n"
	"stq 0xfebd2000 0x1000\n"
	"stq 0xfebd2008 0x3000\n"
	"stq 0xfebd2010 11\n"
	"stq 0xfebd2018 1\n"
	"read 0x7000 11\n"
	"# The assigned device reaches the same pages through the pins of the container.\n"
	"vfio-read vfio0 0x3000 11\n"
	"vfio-write vfio0 0x1000 00\n"
	"# H_STUFF_TCE clears bus page 0x1000: the next DMA of either device fails.\n"
	"tce-stuff phb0 0x1000 0 1 perm=none\n"
	"vfio-read vfio0 0x1000 11\n"
	"stq 0xfebd2018 1\n"
	"ldq 0xfebd2020\n"
	"vfio-info vfio0\n"
	"\n"
	"heading q35: DMA remapping through a VT-d-like IOMMU\n"
	"echo The guest writes root, context and page tables into its RAM; the unit\n"
	"echo reads them at every translation and tells notifiers what changed when\n"
	"echo the guest invalidates.\n"
	"vtd dmar0 memory 0x1000000 1M\n"
	"vtd-device nic.dma dmar0 0x18 1\n"
	"io dma4.mmio 0x100 dma as=nic.dma log=off in=pci at=0xfebd3000\n"
	"write 0x8000 \"VT-d payload\"\n"
	"vtd-map nic.dma 0x10000 0x8000 4K perm=ro\n"
	"vtd-map nic.dma 0x20000 0x9000 4K\n"
	"notifier shadow nic.dma flags=map,unmap\n"
	"# Remapping on: the IOMMU region replaces the pass-through alias; MAPs follow.\n"
	"vtd-dmar nic.dma on\n"
	"# The engine copies bus 0x10000 to bus 0x20000 through the unit.\n"
	"stq 0xfebd3000 0x10000\n"
	"stq 0xfebd3008 0x20000\n"
	"stq 0xfebd3010 12\n"
	"stq 0xfebd3018 1\n"
	"read 0x9000 12\n"
	"# The guest clears bus page 0x20000 and invalidates it: one UNMAP, then a fault.\n"
	"vtd-unmap nic.dma 0x20000 4K\n"
	"vtd-invalidate dmar0 domain=1 addr=0x20000\n"
	"stq 0xfebd3018 1\n"
	"ldq 0xfebd3020\n"
	"vtd-faults dmar0\n"
	"\n"
	"heading A listener follows the memory address space\n"
	"listen kvm nop=off\n"
	"disable nic.mmio\n"
	"enable nic.mmio\n";

const char *msc_demo_script(void)
{
	return demo_script;
}

static const char demo_usage[] =
	"usage: memspace demo [--script] [--color=WHEN]\n"
	"Build a PC-like machine and show its memory tree, flat views, accesses,\n"
	"a ROM device, MMIO devices, DMA transfers, DMA mappings, an IOMMU, a\n"
	"pseries TCE window with a VFIO container, a VT-d-like IOMMU, and a listener.\n"
	"  --script        print the demo's script instead of running it\n"
	"  --color=WHEN    colour headings: auto (default), always, never\n"
	"  -h, --help      show this help\n";

int msc_cmd_demo(int argc, char **argv)
{
	enum msc_color color = MSC_COLOR_AUTO;
	bool script = false;
	msc_options o;
	int status = msc_parse_args(argc, argv, demo_usage, "--script", &script, &color);

	if (status >= 0)
		return status;
	if (script) {
		fputs(demo_script, stdout);
		return MSC_EXIT_OK;
	}
	msc_std_options(&o, color, false, false);
	if (msc_run_text_opts(demo_script, sizeof(demo_script) - 1, "demo", &o))
		return MSC_EXIT_INPUT;
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "memspace demo: cannot write the output: %s\n", strerror(errno));
		return MSC_EXIT_INPUT;
	}
	return MSC_EXIT_OK;
}
