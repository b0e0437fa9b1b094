/*
 * Tests for src/mtree.c against QEMU 7.2's own `info mtree -D` and
 * `info mtree -f` output for the x86_64-pc machine of
 * ../shared/qemu-mtree/cases, built by hand (test_mtree_pc.h): single blocks,
 * the whole tree and flat dumps, and a check that the texts embedded here
 * are still the shared case's.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "memspace.h"
#include "ms_unit.h"
#include "test_mtree_support.h"
#include "test_mtree_pc.h"

/*
 * QEMU 7.2 `info mtree -D` / `info mtree -f` text of x86_64-pc, taken from
 * ../shared/qemu-mtree/cases/x86_64-pc (annotations such as " {io}" removed).
 * TREE_* is one region tree as printed at level 1; FLAT_* one FlatView block
 * without its "FlatView #N" line and its final empty line.
 */
#define TREE_IO                                                                      \
	"  0000000000000000-000000000000ffff (prio 0, i/o): io\n"                    \
	"    0000000000000000-000000000000003f (prio 0, i/o): piix4-pm [disabled]\n" \
	"      0000000000000000-0000000000000003 (prio 0, i/o): acpi-evt\n"          \
	"      0000000000000004-0000000000000005 (prio 0, i/o): acpi-cnt\n"          \
	"      0000000000000008-000000000000000b (prio 0, i/o): acpi-tmr\n"          \
	"    0000000000000000-0000000000000007 (prio 0, i/o): dma-chan\n"            \
	"    0000000000000008-000000000000000f (prio 0, i/o): dma-cont\n"            \
	"    0000000000000020-0000000000000021 (prio 0, i/o): pic\n"                 \
	"    0000000000000040-0000000000000043 (prio 0, i/o): pit\n"                 \
	"    0000000000000060-0000000000000060 (prio 0, i/o): i8042-data\n"          \
	"    0000000000000061-0000000000000061 (prio 0, i/o): pcspk\n"               \
	"    0000000000000064-0000000000000064 (prio 0, i/o): i8042-cmd\n"           \
	"    0000000000000070-0000000000000071 (prio 0, i/o): rtc\n"                 \
	"      0000000000000070-0000000000000070 (prio 0, i/o): rtc-index\n"         \
	"    000000000000007e-000000000000007f (prio 0, i/o): kvmvapic\n"            \
	"    0000000000000080-0000000000000080 (prio 0, i/o): ioport80\n"            \
	"    0000000000000081-0000000000000083 (prio 0, i/o): dma-page\n"            \
	"    0000000000000087-0000000000000087 (prio 0, i/o): dma-page\n"            \
	"    0000000000000089-000000000000008b (prio 0, i/o): dma-page\n"            \
	"    000000000000008f-000000000000008f (prio 0, i/o): dma-page\n"            \
	"    0000000000000092-0000000000000092 (prio 0, i/o): port92\n"              \
	"    00000000000000a0-00000000000000a1 (prio 0, i/o): pic\n"                 \
	"    00000000000000b2-00000000000000b3 (prio 0, i/o): apm-io\n"              \
	"    00000000000000c0-00000000000000cf (prio 0, i/o): dma-chan\n"            \
	"    00000000000000d0-00000000000000df (prio 0, i/o): dma-cont\n"            \
	"    00000000000000f0-00000000000000f0 (prio 0, i/o): ioportF0\n"            \
	"    0000000000000170-0000000000000177 (prio 0, i/o): ide\n"                 \
	"    00000000000001f0-00000000000001f7 (prio 0, i/o): ide\n"                 \
	"    0000000000000376-0000000000000376 (prio 0, i/o): ide\n"                 \
	"    00000000000003f1-00000000000003f5 (prio 0, i/o): fdc\n"                 \
	"    00000000000003f6-00000000000003f6 (prio 0, i/o): ide\n"                 \
	"    00000000000003f7-00000000000003f7 (prio 0, i/o): fdc\n"                 \
	"    00000000000004d0-00000000000004d0 (prio 0, i/o): elcr\n"                \
	"    00000000000004d1-00000000000004d1 (prio 0, i/o): elcr\n"                \
	"    0000000000000510-0000000000000511 (prio 0, i/o): fwcfg\n"               \
	"    0000000000000514-000000000000051b (prio 0, i/o): fwcfg.dma\n"           \
	"    0000000000000cf8-0000000000000cfb (prio 0, i/o): pci-conf-idx\n"        \
	"    0000000000000cf9-0000000000000cf9 (prio 1, i/o): piix3-reset-control\n" \
	"    0000000000000cfc-0000000000000cff (prio 0, i/o): pci-conf-data\n"       \
	"    0000000000005658-0000000000005658 (prio 0, i/o): vmport\n"              \
	"    000000000000ae00-000000000000ae17 (prio 0, i/o): acpi-pci-hotplug\n"    \
	"    000000000000af00-000000000000af1f (prio 0, i/o): acpi-cpu-hotplug\n"    \
	"    000000000000afe0-000000000000afe3 (prio 0, i/o): acpi-gpe0\n"           \
	"    000000000000b100-000000000000b13f (prio 0, i/o): pm-smbus\n"

#define TREE_BUS_MASTER                                                             \
	"  0000000000000000-ffffffffffffffff (prio 0, i/o): bus master container\n" \
	"    0000000000000000-ffffffffffffffff (prio 0, i/o): alias bus master @system 0000000000000000-ffffffffffffffff [disabled]\n"

#define TREE_MEMORY                                                                                                   \
	"  0000000000000000-ffffffffffffffff (prio 0, i/o): memory\n"                                                 \
	"    0000000000000000-00000000ffffffff (prio 1, i/o): alias smram @smram 0000000000000000-00000000ffffffff\n" \
	"    0000000000000000-ffffffffffffffff (prio 0, i/o): alias memory @system 0000000000000000-ffffffffffffffff\n"

#define TREE_SYSTEM                                                                                                                 \
	"  0000000000000000-ffffffffffffffff (prio 0, i/o): system\n"                                                               \
	"    0000000000000000-0000000007ffffff (prio 0, ram): alias ram-below-4g @pc.ram 0000000000000000-0000000007ffffff\n"       \
	"    0000000000000000-ffffffffffffffff (prio -1, i/o): pci\n"                                                               \
	"      00000000000c0000-00000000000dffff (prio 1, rom): pc.rom\n"                                                           \
	"      00000000000e0000-00000000000fffff (prio 1, rom): alias isa-bios @pc.bios 0000000000020000-000000000003ffff\n"        \
	"      00000000fffc0000-00000000ffffffff (prio 0, rom): pc.bios\n"                                                          \
	"    00000000000a0000-00000000000bffff (prio 1, i/o): alias smram-region @pci 00000000000a0000-00000000000bffff\n"          \
	"    00000000000c0000-00000000000c3fff (prio 1, ram): alias pam-ram @pc.ram 00000000000c0000-00000000000c3fff [disabled]\n" \
	"    00000000000c0000-00000000000c3fff (prio 1, ram): alias pam-pci @pc.ram 00000000000c0000-00000000000c3fff [disabled]\n" \
	"    00000000000c0000-00000000000c3fff (prio 1, ram): alias pam-rom @pc.ram 00000000000c0000-00000000000c3fff [disabled]\n" \
	"    00000000000c0000-00000000000c3fff (prio 1, i/o): alias pam-pci @pci 00000000000c0000-00000000000c3fff\n"               \
	"    00000000000c4000-00000000000c7fff (prio 1, ram): alias pam-ram @pc.ram 00000000000c4000-00000000000c7fff [disabled]\n" \
	"    00000000000c4000-00000000000c7fff (prio 1, ram): alias pam-pci @pc.ram 00000000000c4000-00000000000c7fff [disabled]\n" \
	"    00000000000c4000-00000000000c7fff (prio 1, ram): alias pam-rom @pc.ram 00000000000c4000-00000000000c7fff [disabled]\n" \
	"    00000000000c4000-00000000000c7fff (prio 1, i/o): alias pam-pci @pci 00000000000c4000-00000000000c7fff\n"               \
	"    00000000000c8000-00000000000cbfff (prio 1, ram): alias pam-ram @pc.ram 00000000000c8000-00000000000cbfff [disabled]\n" \
	"    00000000000c8000-00000000000cbfff (prio 1, ram): alias pam-pci @pc.ram 00000000000c8000-00000000000cbfff [disabled]\n" \
	"    00000000000c8000-00000000000cbfff (prio 1, ram): alias pam-rom @pc.ram 00000000000c8000-00000000000cbfff [disabled]\n" \
	"    00000000000c8000-00000000000cbfff (prio 1, i/o): alias pam-pci @pci 00000000000c8000-00000000000cbfff\n"               \
	"    00000000000cc000-00000000000cffff (prio 1, ram): alias pam-ram @pc.ram 00000000000cc000-00000000000cffff [disabled]\n" \
	"    00000000000cc000-00000000000cffff (prio 1, ram): alias pam-pci @pc.ram 00000000000cc000-00000000000cffff [disabled]\n" \
	"    00000000000cc000-00000000000cffff (prio 1, ram): alias pam-rom @pc.ram 00000000000cc000-00000000000cffff [disabled]\n" \
	"    00000000000cc000-00000000000cffff (prio 1, i/o): alias pam-pci @pci 00000000000cc000-00000000000cffff\n"               \
	"    00000000000d0000-00000000000d3fff (prio 1, ram): alias pam-ram @pc.ram 00000000000d0000-00000000000d3fff [disabled]\n" \
	"    00000000000d0000-00000000000d3fff (prio 1, ram): alias pam-pci @pc.ram 00000000000d0000-00000000000d3fff [disabled]\n" \
	"    00000000000d0000-00000000000d3fff (prio 1, ram): alias pam-rom @pc.ram 00000000000d0000-00000000000d3fff [disabled]\n" \
	"    00000000000d0000-00000000000d3fff (prio 1, i/o): alias pam-pci @pci 00000000000d0000-00000000000d3fff\n"               \
	"    00000000000d4000-00000000000d7fff (prio 1, ram): alias pam-ram @pc.ram 00000000000d4000-00000000000d7fff [disabled]\n" \
	"    00000000000d4000-00000000000d7fff (prio 1, ram): alias pam-pci @pc.ram 00000000000d4000-00000000000d7fff [disabled]\n" \
	"    00000000000d4000-00000000000d7fff (prio 1, ram): alias pam-rom @pc.ram 00000000000d4000-00000000000d7fff [disabled]\n" \
	"    00000000000d4000-00000000000d7fff (prio 1, i/o): alias pam-pci @pci 00000000000d4000-00000000000d7fff\n"               \
	"    00000000000d8000-00000000000dbfff (prio 1, ram): alias pam-ram @pc.ram 00000000000d8000-00000000000dbfff [disabled]\n" \
	"    00000000000d8000-00000000000dbfff (prio 1, ram): alias pam-pci @pc.ram 00000000000d8000-00000000000dbfff [disabled]\n" \
	"    00000000000d8000-00000000000dbfff (prio 1, ram): alias pam-rom @pc.ram 00000000000d8000-00000000000dbfff [disabled]\n" \
	"    00000000000d8000-00000000000dbfff (prio 1, i/o): alias pam-pci @pci 00000000000d8000-00000000000dbfff\n"               \
	"    00000000000dc000-00000000000dffff (prio 1, ram): alias pam-ram @pc.ram 00000000000dc000-00000000000dffff [disabled]\n" \
	"    00000000000dc000-00000000000dffff (prio 1, ram): alias pam-pci @pc.ram 00000000000dc000-00000000000dffff [disabled]\n" \
	"    00000000000dc000-00000000000dffff (prio 1, ram): alias pam-rom @pc.ram 00000000000dc000-00000000000dffff [disabled]\n" \
	"    00000000000dc000-00000000000dffff (prio 1, i/o): alias pam-pci @pci 00000000000dc000-00000000000dffff\n"               \
	"    00000000000e0000-00000000000e3fff (prio 1, ram): alias pam-ram @pc.ram 00000000000e0000-00000000000e3fff [disabled]\n" \
	"    00000000000e0000-00000000000e3fff (prio 1, ram): alias pam-pci @pc.ram 00000000000e0000-00000000000e3fff [disabled]\n" \
	"    00000000000e0000-00000000000e3fff (prio 1, ram): alias pam-rom @pc.ram 00000000000e0000-00000000000e3fff [disabled]\n" \
	"    00000000000e0000-00000000000e3fff (prio 1, i/o): alias pam-pci @pci 00000000000e0000-00000000000e3fff\n"               \
	"    00000000000e4000-00000000000e7fff (prio 1, ram): alias pam-ram @pc.ram 00000000000e4000-00000000000e7fff [disabled]\n" \
	"    00000000000e4000-00000000000e7fff (prio 1, ram): alias pam-pci @pc.ram 00000000000e4000-00000000000e7fff [disabled]\n" \
	"    00000000000e4000-00000000000e7fff (prio 1, ram): alias pam-rom @pc.ram 00000000000e4000-00000000000e7fff [disabled]\n" \
	"    00000000000e4000-00000000000e7fff (prio 1, i/o): alias pam-pci @pci 00000000000e4000-00000000000e7fff\n"               \
	"    00000000000e8000-00000000000ebfff (prio 1, ram): alias pam-ram @pc.ram 00000000000e8000-00000000000ebfff [disabled]\n" \
	"    00000000000e8000-00000000000ebfff (prio 1, ram): alias pam-pci @pc.ram 00000000000e8000-00000000000ebfff [disabled]\n" \
	"    00000000000e8000-00000000000ebfff (prio 1, ram): alias pam-rom @pc.ram 00000000000e8000-00000000000ebfff [disabled]\n" \
	"    00000000000e8000-00000000000ebfff (prio 1, i/o): alias pam-pci @pci 00000000000e8000-00000000000ebfff\n"               \
	"    00000000000ec000-00000000000effff (prio 1, ram): alias pam-ram @pc.ram 00000000000ec000-00000000000effff [disabled]\n" \
	"    00000000000ec000-00000000000effff (prio 1, ram): alias pam-pci @pc.ram 00000000000ec000-00000000000effff [disabled]\n" \
	"    00000000000ec000-00000000000effff (prio 1, ram): alias pam-rom @pc.ram 00000000000ec000-00000000000effff [disabled]\n" \
	"    00000000000ec000-00000000000effff (prio 1, i/o): alias pam-pci @pci 00000000000ec000-00000000000effff\n"               \
	"    00000000000f0000-00000000000fffff (prio 1, ram): alias pam-ram @pc.ram 00000000000f0000-00000000000fffff [disabled]\n" \
	"    00000000000f0000-00000000000fffff (prio 1, ram): alias pam-pci @pc.ram 00000000000f0000-00000000000fffff [disabled]\n" \
	"    00000000000f0000-00000000000fffff (prio 1, ram): alias pam-rom @pc.ram 00000000000f0000-00000000000fffff [disabled]\n" \
	"    00000000000f0000-00000000000fffff (prio 1, i/o): alias pam-pci @pci 00000000000f0000-00000000000fffff\n"               \
	"    00000000fec00000-00000000fec00fff (prio 0, i/o): ioapic\n"                                                             \
	"    00000000fed00000-00000000fed003ff (prio 0, i/o): hpet\n"                                                               \
	"    00000000fee00000-00000000feefffff (prio 4096, i/o): apic-msi\n"

#define TREE_SMRAM                                                              \
	"  0000000000000000-00000000ffffffff (prio 0, i/o): smram [disabled]\n" \
	"    00000000000a0000-00000000000bffff (prio 0, ram): alias smram-low @pc.ram 00000000000a0000-00000000000bffff\n"

#define TREE_PC_RAM "  0000000000000000-0000000007ffffff (prio 0, ram): pc.ram\n"

#define TREE_PC_BIOS "  00000000fffc0000-00000000ffffffff (prio 0, rom): pc.bios\n"

#define TREE_PCI                                                                                                           \
	"  0000000000000000-ffffffffffffffff (prio -1, i/o): pci\n"                                                        \
	"    00000000000c0000-00000000000dffff (prio 1, rom): pc.rom\n"                                                    \
	"    00000000000e0000-00000000000fffff (prio 1, rom): alias isa-bios @pc.bios 0000000000020000-000000000003ffff\n" \
	"    00000000fffc0000-00000000ffffffff (prio 0, rom): pc.bios\n"

#define FLAT_IO                                                                               \
	" AS \"I/O\", root: io\n"                                                             \
	" Root memory region: io\n"                                                           \
	"  0000000000000000-0000000000000007 (prio 0, i/o): dma-chan\n"                       \
	"  0000000000000008-000000000000000f (prio 0, i/o): dma-cont\n"                       \
	"  0000000000000010-000000000000001f (prio 0, i/o): io @0000000000000010\n"           \
	"  0000000000000020-0000000000000021 (prio 0, i/o): pic\n"                            \
	"  0000000000000022-000000000000003f (prio 0, i/o): io @0000000000000022\n"           \
	"  0000000000000040-0000000000000043 (prio 0, i/o): pit\n"                            \
	"  0000000000000044-000000000000005f (prio 0, i/o): io @0000000000000044\n"           \
	"  0000000000000060-0000000000000060 (prio 0, i/o): i8042-data\n"                     \
	"  0000000000000061-0000000000000061 (prio 0, i/o): pcspk\n"                          \
	"  0000000000000062-0000000000000063 (prio 0, i/o): io @0000000000000062\n"           \
	"  0000000000000064-0000000000000064 (prio 0, i/o): i8042-cmd\n"                      \
	"  0000000000000065-000000000000006f (prio 0, i/o): io @0000000000000065\n"           \
	"  0000000000000070-0000000000000070 (prio 0, i/o): rtc-index\n"                      \
	"  0000000000000071-0000000000000071 (prio 0, i/o): rtc @0000000000000001\n"          \
	"  0000000000000072-000000000000007d (prio 0, i/o): io @0000000000000072\n"           \
	"  000000000000007e-000000000000007f (prio 0, i/o): kvmvapic\n"                       \
	"  0000000000000080-0000000000000080 (prio 0, i/o): ioport80\n"                       \
	"  0000000000000081-0000000000000083 (prio 0, i/o): dma-page\n"                       \
	"  0000000000000084-0000000000000086 (prio 0, i/o): io @0000000000000084\n"           \
	"  0000000000000087-0000000000000087 (prio 0, i/o): dma-page\n"                       \
	"  0000000000000088-0000000000000088 (prio 0, i/o): io @0000000000000088\n"           \
	"  0000000000000089-000000000000008b (prio 0, i/o): dma-page\n"                       \
	"  000000000000008c-000000000000008e (prio 0, i/o): io @000000000000008c\n"           \
	"  000000000000008f-000000000000008f (prio 0, i/o): dma-page\n"                       \
	"  0000000000000090-0000000000000091 (prio 0, i/o): io @0000000000000090\n"           \
	"  0000000000000092-0000000000000092 (prio 0, i/o): port92\n"                         \
	"  0000000000000093-000000000000009f (prio 0, i/o): io @0000000000000093\n"           \
	"  00000000000000a0-00000000000000a1 (prio 0, i/o): pic\n"                            \
	"  00000000000000a2-00000000000000b1 (prio 0, i/o): io @00000000000000a2\n"           \
	"  00000000000000b2-00000000000000b3 (prio 0, i/o): apm-io\n"                         \
	"  00000000000000b4-00000000000000bf (prio 0, i/o): io @00000000000000b4\n"           \
	"  00000000000000c0-00000000000000cf (prio 0, i/o): dma-chan\n"                       \
	"  00000000000000d0-00000000000000df (prio 0, i/o): dma-cont\n"                       \
	"  00000000000000e0-00000000000000ef (prio 0, i/o): io @00000000000000e0\n"           \
	"  00000000000000f0-00000000000000f0 (prio 0, i/o): ioportF0\n"                       \
	"  00000000000000f1-000000000000016f (prio 0, i/o): io @00000000000000f1\n"           \
	"  0000000000000170-0000000000000177 (prio 0, i/o): ide\n"                            \
	"  0000000000000178-00000000000001ef (prio 0, i/o): io @0000000000000178\n"           \
	"  00000000000001f0-00000000000001f7 (prio 0, i/o): ide\n"                            \
	"  00000000000001f8-0000000000000375 (prio 0, i/o): io @00000000000001f8\n"           \
	"  0000000000000376-0000000000000376 (prio 0, i/o): ide\n"                            \
	"  0000000000000377-00000000000003f0 (prio 0, i/o): io @0000000000000377\n"           \
	"  00000000000003f1-00000000000003f5 (prio 0, i/o): fdc\n"                            \
	"  00000000000003f6-00000000000003f6 (prio 0, i/o): ide\n"                            \
	"  00000000000003f7-00000000000003f7 (prio 0, i/o): fdc\n"                            \
	"  00000000000003f8-00000000000004cf (prio 0, i/o): io @00000000000003f8\n"           \
	"  00000000000004d0-00000000000004d0 (prio 0, i/o): elcr\n"                           \
	"  00000000000004d1-00000000000004d1 (prio 0, i/o): elcr\n"                           \
	"  00000000000004d2-000000000000050f (prio 0, i/o): io @00000000000004d2\n"           \
	"  0000000000000510-0000000000000511 (prio 0, i/o): fwcfg\n"                          \
	"  0000000000000512-0000000000000513 (prio 0, i/o): io @0000000000000512\n"           \
	"  0000000000000514-000000000000051b (prio 0, i/o): fwcfg.dma\n"                      \
	"  000000000000051c-0000000000000cf7 (prio 0, i/o): io @000000000000051c\n"           \
	"  0000000000000cf8-0000000000000cf8 (prio 0, i/o): pci-conf-idx\n"                   \
	"  0000000000000cf9-0000000000000cf9 (prio 1, i/o): piix3-reset-control\n"            \
	"  0000000000000cfa-0000000000000cfb (prio 0, i/o): pci-conf-idx @0000000000000002\n" \
	"  0000000000000cfc-0000000000000cff (prio 0, i/o): pci-conf-data\n"                  \
	"  0000000000000d00-0000000000005657 (prio 0, i/o): io @0000000000000d00\n"           \
	"  0000000000005658-0000000000005658 (prio 0, i/o): vmport\n"                         \
	"  0000000000005659-000000000000adff (prio 0, i/o): io @0000000000005659\n"           \
	"  000000000000ae00-000000000000ae17 (prio 0, i/o): acpi-pci-hotplug\n"               \
	"  000000000000ae18-000000000000aeff (prio 0, i/o): io @000000000000ae18\n"           \
	"  000000000000af00-000000000000af1f (prio 0, i/o): acpi-cpu-hotplug\n"               \
	"  000000000000af20-000000000000afdf (prio 0, i/o): io @000000000000af20\n"           \
	"  000000000000afe0-000000000000afe3 (prio 0, i/o): acpi-gpe0\n"                      \
	"  000000000000afe4-000000000000b0ff (prio 0, i/o): io @000000000000afe4\n"           \
	"  000000000000b100-000000000000b13f (prio 0, i/o): pm-smbus\n"                       \
	"  000000000000b140-000000000000ffff (prio 0, i/o): io @000000000000b140\n"

#define FLAT_MEMORY                                                                      \
	" AS \"cpu-smm-0\", root: memory\n"                                              \
	" Root memory region: memory\n"                                                  \
	"  0000000000000000-00000000000bffff (prio 0, ram): pc.ram\n"                    \
	"  00000000000c0000-00000000000dffff (prio 1, rom): pc.rom\n"                    \
	"  00000000000e0000-00000000000fffff (prio 0, rom): pc.bios @0000000000020000\n" \
	"  0000000000100000-0000000007ffffff (prio 0, ram): pc.ram @0000000000100000\n"  \
	"  00000000fec00000-00000000fec00fff (prio 0, i/o): ioapic\n"                    \
	"  00000000fed00000-00000000fed003ff (prio 0, i/o): hpet\n"                      \
	"  00000000fee00000-00000000feefffff (prio 4096, i/o): apic-msi\n"               \
	"  00000000fffc0000-00000000ffffffff (prio 0, rom): pc.bios\n"

#define FLAT_SYSTEM                                                                      \
	" AS \"memory\", root: system\n"                                                 \
	" AS \"cpu-memory-0\", root: system\n"                                           \
	" Root memory region: system\n"                                                  \
	"  0000000000000000-00000000000bffff (prio 0, ram): pc.ram\n"                    \
	"  00000000000c0000-00000000000dffff (prio 1, rom): pc.rom\n"                    \
	"  00000000000e0000-00000000000fffff (prio 0, rom): pc.bios @0000000000020000\n" \
	"  0000000000100000-0000000007ffffff (prio 0, ram): pc.ram @0000000000100000\n"  \
	"  00000000fec00000-00000000fec00fff (prio 0, i/o): ioapic\n"                    \
	"  00000000fed00000-00000000fed003ff (prio 0, i/o): hpet\n"                      \
	"  00000000fee00000-00000000feefffff (prio 4096, i/o): apic-msi\n"               \
	"  00000000fffc0000-00000000ffffffff (prio 0, rom): pc.bios\n"

#define FLAT_NONE                                         \
	" AS \"i440FX\", root: bus master container\n"    \
	" AS \"PIIX3\", root: bus master container\n"     \
	" AS \"piix3-ide\", root: bus master container\n" \
	" AS \"PIIX4_PM\", root: bus master container\n"  \
	" Root memory region: (none)\n"                   \
	"  No rendered FlatView\n"

#define PC_TREE_D                                                               \
	"address-space: I/O\n" TREE_IO "\n"                                     \
	"address-space: piix3-ide\n" TREE_BUS_MASTER "\n"                       \
	"address-space: PIIX4_PM\n" TREE_BUS_MASTER "\n"                        \
	"address-space: i440FX\n" TREE_BUS_MASTER "\n"                          \
	"address-space: cpu-smm-0\n" TREE_MEMORY "\n"                           \
	"address-space: cpu-memory-0\naddress-space: memory\n" TREE_SYSTEM "\n" \
	"address-space: PIIX3\n" TREE_BUS_MASTER "\n"                           \
	"memory-region: system\n" TREE_SYSTEM "\n"                              \
	"memory-region: smram\n" TREE_SMRAM "\n"                                \
	"memory-region: pc.ram\n" TREE_PC_RAM "\n"                              \
	"memory-region: pc.bios\n" TREE_PC_BIOS "\n"                            \
	"memory-region: pci\n" TREE_PCI "\n"

#define PC_FLAT                          \
	"FlatView #0\n" FLAT_IO "\n"     \
	"FlatView #1\n" FLAT_MEMORY "\n" \
	"FlatView #2\n" FLAT_SYSTEM "\n" \
	"FlatView #3\n" FLAT_NONE "\n"

/* ---- tests: the x86_64-pc machine against QEMU 7.2's own output ------------- */

static void pc_io_flat_view_equals_qemu(void **state)
{
	static const char *const names[] = {"I/O"};
	ms_ctx *ctx = new_ctx();

	(void)state;
	build_pc(ctx, names, NR(names));
	assert_dump(ctx, MS_MTREE_FLAT, "FlatView #0\n" FLAT_IO "\n");
	ms_ctx_free(ctx);
}

static void pc_system_tree_block_equals_qemu(void **state)
{
	static const char *const names[] = {"memory", "cpu-memory-0"};
	ms_ctx *ctx = new_ctx();

	(void)state;
	build_pc(ctx, names, NR(names));
	assert_dump(ctx, MS_MTREE_DISABLED,
		    "address-space: cpu-memory-0\naddress-space: memory\n" TREE_SYSTEM "\n"
		    "memory-region: pc.ram\n" TREE_PC_RAM "\n"
		    "memory-region: pc.bios\n" TREE_PC_BIOS "\n"
		    "memory-region: pci\n" TREE_PCI "\n");
	assert_dump(ctx, MS_MTREE_FLAT, "FlatView #0\n" FLAT_SYSTEM "\n");
	ms_ctx_free(ctx);
}

static void pc_whole_tree_dump_with_D_equals_qemu(void **state)
{
	ms_ctx *ctx = new_ctx();

	(void)state;
	build_pc(ctx, pc_tree_order, NR(pc_tree_order));
	assert_dump(ctx, MS_MTREE_DISABLED, PC_TREE_D);
	ms_ctx_free(ctx);
}

/* Without -D: exactly the -D text minus the lines of disabled regions. */
static void pc_whole_tree_dump_without_D_drops_disabled_lines(void **state)
{
	ms_ctx *ctx = new_ctx();
	char *expected = strdup(PC_TREE_D), *src, *dst, *eol;

	(void)state;
	assert_non_null(expected);
	for (src = dst = expected; *src; src = eol + 1) {
		eol = strchr(src, '\n');
		if (strstr(src, " [disabled]") && strstr(src, " [disabled]") < eol)
			continue;
		memmove(dst, src, (size_t)(eol + 1 - src));
		dst += eol + 1 - src;
	}
	*dst = '\0';
	build_pc(ctx, pc_tree_order, NR(pc_tree_order));
	assert_dump(ctx, 0, expected);
	free(expected);
	ms_ctx_free(ctx);
}

static void pc_whole_flat_dump_equals_qemu(void **state)
{
	ms_ctx *ctx = new_ctx();

	(void)state;
	build_pc(ctx, pc_flat_order, NR(pc_flat_order));
	assert_dump(ctx, MS_MTREE_FLAT, PC_FLAT);
	ms_ctx_free(ctx);
}

/* Read a file of ../shared (beside the project root), or NULL. */
static char *read_shared(const char *relative)
{
	char path[4096], *text;
	const char *unit = strrchr(__FILE__, '/');
	FILE *f;
	long size;

	if (!unit)
		return NULL;
	/* __FILE__ is <root>/tests/unit/test_mtree_qemu.c. */
	snprintf(path, sizeof(path), "%.*s/../../../shared/%s", (int)(unit - __FILE__), __FILE__,
		 relative);
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	text = malloc((size_t)size + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)size, f), (size_t)size);
	text[size] = '\0';
	fclose(f);
	return text;
}

/* The texts embedded above are QEMU's, unchanged (when the cases are at hand). */
static void embedded_expectations_match_the_shared_qemu_case(void **state)
{
	char *input = read_shared("qemu-mtree/cases/x86_64-pc/input.txt");
	char *flat = read_shared("qemu-mtree/cases/x86_64-pc/expected-f.txt");
	char *p;

	(void)state;
	if (!input || !flat) {
		free(input);
		free(flat);
		skip();
	}
	/* Drop the annotations: in this case only " {io}". */
	while ((p = strstr(input, " {io}")))
		memmove(p, p + 5, strlen(p + 5) + 1);
	assert_text(PC_TREE_D, input);
	assert_text(PC_FLAT, flat);
	free(input);
	free(flat);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pc_io_flat_view_equals_qemu),
		cmocka_unit_test(pc_system_tree_block_equals_qemu),
		cmocka_unit_test(pc_whole_tree_dump_with_D_equals_qemu),
		cmocka_unit_test(pc_whole_tree_dump_without_D_drops_disabled_lines),
		cmocka_unit_test(pc_whole_flat_dump_equals_qemu),
		cmocka_unit_test(embedded_expectations_match_the_shared_qemu_case),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
