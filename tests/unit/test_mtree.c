/*
 * Tests for src/mtree.c: `info mtree` text (tree, -D, -o, -f) byte for byte
 * against hand-checked expectations and against QEMU 7.2's own output for the
 * x86_64-pc machine of ../shared/qemu-mtree/cases, JSON shape and escaping,
 * and -ENOMEM at every allocation.
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

/* ---- helpers --------------------------------------------------------------- */

/* Place @sub in @container and hand our reference to the container. */
static void put(ms_region *container, ms_region *sub, uint64_t addr, int priority)
{
	assert_int_equal(ms_region_add_subregion_overlap(container, addr, sub, priority), 0);
	ms_region_unref(sub);
}

static char *dump(ms_ctx *ctx, unsigned flags)
{
	char *text = NULL;
	size_t len = 0;

	assert_int_equal(ms_mtree_dump(&text, &len, ctx, flags), 0);
	assert_non_null(text);
	assert_int_equal(len, strlen(text));
	return text;
}

/* Compare texts; on a mismatch show the first differing line, then both. */
static void assert_text(const char *actual, const char *expected)
{
	size_t i = 0, line = 1, bol = 0;

	if (!strcmp(actual, expected))
		return;
	while (actual[i] && actual[i] == expected[i]) {
		if (actual[i] == '\n') {
			line++;
			bol = i + 1;
		}
		i++;
	}
	print_error("first difference at line %zu:\n  actual:   \"%.*s\"\n  expected: \"%.*s\"\n",
		    line, (int)strcspn(actual + bol, "\n"), actual + bol,
		    (int)strcspn(expected + bol, "\n"), expected + bol);
	assert_string_equal(actual, expected);
}

static void assert_dump(ms_ctx *ctx, unsigned flags, const char *expected)
{
	char *text = dump(ctx, flags);

	assert_text(text, expected);
	free(text);
}

/* The line of @text that contains @needle (static buffer), or "". */
static const char *line_with(const char *text, const char *needle)
{
	static char line[512];
	const char *hit = strstr(text, needle), *bol, *eol;

	if (!hit)
		return "";
	for (bol = hit; bol > text && bol[-1] != '\n'; bol--)
		;
	eol = strchr(hit, '\n');
	if (!eol)
		eol = hit + strlen(hit);
	snprintf(line, sizeof(line), "%.*s", (int)(eol - bol), bol);
	return line;
}

/* ---- a small JSON validator (RFC 8259 syntax) ------------------------------ */

static bool json_value(const char **p, unsigned depth);

static void json_ws(const char **p)
{
	while (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r')
		(*p)++;
}

static bool json_string(const char **p)
{
	const char *s = *p;
	int i;

	if (*s++ != '"')
		return false;
	while (*s != '"') {
		if ((unsigned char)*s < 0x20)
			return false; /* includes the terminating NUL */
		if (*s++ != '\\')
			continue;
		if (strchr("\"\\/bfnrt", *s) && *s) {
			s++;
			continue;
		}
		if (*s++ != 'u')
			return false;
		for (i = 0; i < 4; i++)
			if (!strchr("0123456789abcdefABCDEF", *s) || !*s++)
				return false;
	}
	*p = s + 1;
	return true;
}

static bool json_number(const char **p)
{
	const char *s = *p;

	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (*s >= '0' && *s <= '9')
			s++;
	else
		return false;
	if (*s == '.') {
		if (*++s < '0' || *s > '9')
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		if (*++s == '+' || *s == '-')
			s++;
		if (*s < '0' || *s > '9')
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	*p = s;
	return true;
}

static bool json_container(const char **p, unsigned depth, char close)
{
	(*p)++;
	json_ws(p);
	if (**p == close) {
		(*p)++;
		return true;
	}
	for (;;) {
		if (close == '}') {
			if (!json_string(p))
				return false;
			json_ws(p);
			if (*(*p)++ != ':')
				return false;
		}
		if (!json_value(p, depth + 1))
			return false;
		json_ws(p);
		if (**p == close) {
			(*p)++;
			return true;
		}
		if (*(*p)++ != ',')
			return false;
		json_ws(p);
	}
}

static bool json_value(const char **p, unsigned depth)
{
	if (depth > 100000)
		return false;
	json_ws(p);
	switch (**p) {
	case '{':
		return json_container(p, depth, '}');
	case '[':
		return json_container(p, depth, ']');
	case '"':
		return json_string(p);
	case 't':
		return !strncmp(*p, "true", 4) && (*p += 4);
	case 'f':
		return !strncmp(*p, "false", 5) && (*p += 5);
	case 'n':
		return !strncmp(*p, "null", 4) && (*p += 4);
	default:
		return json_number(p);
	}
}

static bool json_valid(const char *text)
{
	const char *p = text;

	if (!json_value(&p, 0))
		return false;
	json_ws(&p);
	return *p == '\0';
}

/* ---- the x86_64-pc machine of the shared case, built by hand ---------------- */

static const struct pc_io_dev {
	const char *name;
	uint64_t addr, size;
	int priority;
} pc_io_devs[] = {
	{"dma-chan", 0x0, 0x8, 0},
	{"dma-cont", 0x8, 0x8, 0},
	{"pic", 0x20, 0x2, 0},
	{"pit", 0x40, 0x4, 0},
	{"i8042-data", 0x60, 0x1, 0},
	{"pcspk", 0x61, 0x1, 0},
	{"i8042-cmd", 0x64, 0x1, 0},
	{"kvmvapic", 0x7e, 0x2, 0},
	{"ioport80", 0x80, 0x1, 0},
	{"dma-page", 0x81, 0x3, 0},
	{"dma-page", 0x87, 0x1, 0},
	{"dma-page", 0x89, 0x3, 0},
	{"dma-page", 0x8f, 0x1, 0},
	{"port92", 0x92, 0x1, 0},
	{"pic", 0xa0, 0x2, 0},
	{"apm-io", 0xb2, 0x2, 0},
	{"dma-chan", 0xc0, 0x10, 0},
	{"dma-cont", 0xd0, 0x10, 0},
	{"ioportF0", 0xf0, 0x1, 0},
	{"ide", 0x170, 0x8, 0},
	{"ide", 0x1f0, 0x8, 0},
	{"ide", 0x376, 0x1, 0},
	{"fdc", 0x3f1, 0x5, 0},
	{"ide", 0x3f6, 0x1, 0},
	{"fdc", 0x3f7, 0x1, 0},
	{"elcr", 0x4d0, 0x1, 0},
	{"elcr", 0x4d1, 0x1, 0},
	{"fwcfg", 0x510, 0x2, 0},
	{"fwcfg.dma", 0x514, 0x8, 0},
	{"pci-conf-idx", 0xcf8, 0x4, 0},
	{"piix3-reset-control", 0xcf9, 0x1, 1},
	{"pci-conf-data", 0xcfc, 0x4, 0},
	{"vmport", 0x5658, 0x1, 0},
	{"acpi-pci-hotplug", 0xae00, 0x18, 0},
	{"acpi-cpu-hotplug", 0xaf00, 0x20, 0},
	{"acpi-gpe0", 0xafe0, 0x4, 0},
	{"pm-smbus", 0xb100, 0x40, 0},
};

/*
 * Subregion placements are recorded in printed order and applied in reverse:
 * among siblings of equal address and priority QEMU prints the most recently
 * added first, so adding them backwards reproduces its lists.
 */
struct pc_builder {
	struct {
		ms_region *container, *sub;
		uint64_t addr;
		int priority;
	} adds[256];
	size_t nr;
};

static void pc_put(struct pc_builder *b, ms_region *container, ms_region *sub, uint64_t addr,
		   int priority)
{
	assert_true(b->nr < sizeof(b->adds) / sizeof(b->adds[0]));
	b->adds[b->nr].container = container;
	b->adds[b->nr].sub = sub;
	b->adds[b->nr].addr = addr;
	b->adds[b->nr].priority = priority;
	b->nr++;
}

static ms_region *disabled(ms_region *r)
{
	assert_int_equal(ms_region_set_enabled(r, false), 0);
	return r;
}

/*
 * Build x86_64-pc (as QEMU 7.2 `-M pc -S -nodefaults` shows it) and create
 * the address spaces named in @as_names, in that order. Known names: "I/O",
 * "memory", "cpu-memory-0", "cpu-smm-0", "piix3-ide", "PIIX4_PM", "i440FX",
 * "PIIX3".
 */
static void build_pc(ms_ctx *ctx, const char *const *as_names, size_t nr_as)
{
	static const char *const bus_masters[] = {"piix3-ide", "PIIX4_PM", "i440FX", "PIIX3"};
	struct pc_builder *b = calloc(1, sizeof(*b));
	ms_region *io, *pm, *rtc, *system, *pci, *pc_ram, *pc_bios, *smram, *memory, *bm[4];
	ms_region *a, *tops[8];
	size_t i, j, nr_tops = 0;

	assert_non_null(b);
	ms_transaction_begin(ctx);

	/* address-space: I/O. io is a terminating I/O region with children. */
	io = tops[nr_tops++] = new_io(ctx, "io", 0x10000);
	pm = disabled(new_container(ctx, "piix4-pm", 0x40));
	pc_put(b, io, pm, 0, 0);
	pc_put(b, pm, new_io(ctx, "acpi-evt", 4), 0, 0);
	pc_put(b, pm, new_io(ctx, "acpi-cnt", 2), 4, 0);
	pc_put(b, pm, new_io(ctx, "acpi-tmr", 4), 8, 0);
	for (i = 0; i < sizeof(pc_io_devs) / sizeof(pc_io_devs[0]); i++)
		pc_put(b, io, new_io(ctx, pc_io_devs[i].name, pc_io_devs[i].size),
		       pc_io_devs[i].addr, pc_io_devs[i].priority);
	rtc = new_io(ctx, "rtc", 2);
	pc_put(b, io, rtc, 0x70, 0);
	pc_put(b, rtc, new_io(ctx, "rtc-index", 1), 0, 0);

	/* system, with pci, the PAM windows and the interrupt controllers. */
	system = tops[nr_tops++] = new_container(ctx, "system", MS_SIZE_2_64);
	pc_ram = tops[nr_tops++] = new_ram(ctx, "pc.ram", 0x8000000);
	pc_put(b, system, new_alias(ctx, "ram-below-4g", pc_ram, 0, 0x8000000), 0, 0);
	pci = new_container(ctx, "pci", MS_SIZE_2_64);
	pc_put(b, system, pci, 0, -1);
	pc_put(b, pci, new_rom(ctx, "pc.rom", 0x20000), 0xc0000, 1);
	pc_bios = new_rom(ctx, "pc.bios", 0x40000);
	a = new_alias(ctx, "isa-bios", pc_bios, 0x20000, 0x20000);
	assert_int_equal(ms_region_set_readonly(a, true), 0);
	pc_put(b, pci, a, 0xe0000, 1);
	pc_put(b, pci, pc_bios, 0xfffc0000, 0);
	pc_put(b, system, new_alias(ctx, "smram-region", pci, 0xa0000, 0x20000), 0xa0000, 1);
	/* PAM: twelve 16 KiB windows from 0xc0000, then one of 64 KiB. */
	for (i = 0; i < 13; i++) {
		uint64_t base = 0xc0000 + i * 0x4000, size = i < 12 ? 0x4000 : 0x10000;

		pc_put(b, system, disabled(new_alias(ctx, "pam-ram", pc_ram, base, size)), base, 1);
		pc_put(b, system, disabled(new_alias(ctx, "pam-pci", pc_ram, base, size)), base, 1);
		a = disabled(new_alias(ctx, "pam-rom", pc_ram, base, size));
		assert_int_equal(ms_region_set_readonly(a, true), 0);
		pc_put(b, system, a, base, 1);
		pc_put(b, system, new_alias(ctx, "pam-pci", pci, base, size), base, 1);
	}
	pc_put(b, system, new_io(ctx, "ioapic", 0x1000), 0xfec00000, 0);
	pc_put(b, system, new_io(ctx, "hpet", 0x400), 0xfed00000, 0);
	pc_put(b, system, new_io(ctx, "apic-msi", 0x100000), 0xfee00000, 4096);

	/* SMM: memory = smram (disabled container) over system. */
	smram = tops[nr_tops++] = disabled(new_container(ctx, "smram", 0x100000000));
	pc_put(b, smram, new_alias(ctx, "smram-low", pc_ram, 0xa0000, 0x20000), 0xa0000, 0);
	memory = tops[nr_tops++] = new_container(ctx, "memory", MS_SIZE_2_64);
	pc_put(b, memory, new_alias(ctx, "smram", smram, 0, 0x100000000), 0, 1);
	pc_put(b, memory, new_alias(ctx, "memory", system, 0, MS_SIZE_2_64), 0, 0);

	/* One bus master container per PCI device, bus mastering off. */
	for (i = 0; i < 4; i++) {
		bm[i] = new_container(ctx, "bus master container", MS_SIZE_2_64);
		pc_put(b, bm[i], disabled(new_alias(ctx, "bus master", system, 0, MS_SIZE_2_64)), 0,
		       0);
	}

	for (i = b->nr; i-- > 0;)
		put(b->adds[i].container, b->adds[i].sub, b->adds[i].addr, b->adds[i].priority);
	assert_int_equal(ms_transaction_commit(ctx), 0);

	for (i = 0; i < nr_as; i++) {
		const char *name = as_names[i];
		ms_region *root = NULL;

		if (!strcmp(name, "I/O"))
			root = io;
		else if (!strcmp(name, "memory") || !strcmp(name, "cpu-memory-0"))
			root = system;
		else if (!strcmp(name, "cpu-smm-0"))
			root = memory;
		for (j = 0; j < 4; j++)
			if (!strcmp(name, bus_masters[j]))
				root = bm[j];
		assert_non_null(root);
		new_as(ctx, root, name);
	}
	for (i = 0; i < nr_tops; i++)
		ms_region_unref(tops[i]);
	for (i = 0; i < 4; i++)
		ms_region_unref(bm[i]);
	free(b);
}

/* AS creation order that gives QEMU's tree-dump block order of the case. */
static const char *const pc_tree_order[] = {
	"I/O", "piix3-ide", "PIIX4_PM", "i440FX", "cpu-smm-0", "memory", "cpu-memory-0", "PIIX3",
};

/* AS creation order that gives QEMU's `-f` block and AS-line order. */
static const char *const pc_flat_order[] = {
	"I/O", "cpu-smm-0", "memory", "cpu-memory-0", "i440FX", "PIIX3", "piix3-ide", "PIIX4_PM",
};

#define NR(a) (sizeof(a) / sizeof((a)[0]))

/* ---- tests: tree form ------------------------------------------------------ */

static void tree_prints_container_with_ram_and_io(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *sys = new_container(ctx, "system", MS_SIZE_2_64);

	(void)state;
	put(sys, new_ram(ctx, "ram", 0x8000), 0, 0);
	put(sys, new_io(ctx, "uart", 8), 0x10000000, 0);
	new_as(ctx, sys, "memory");
	ms_region_unref(sys);

	assert_dump(ctx, 0,
		    "address-space: memory\n"
		    "  0000000000000000-ffffffffffffffff (prio 0, i/o): system\n"
		    "    0000000000000000-0000000000007fff (prio 0, ram): ram\n"
		    "    0000000010000000-0000000010000007 (prio 0, i/o): uart\n"
		    "\n");
	assert_dump(ctx, MS_MTREE_FLAT,
		    "FlatView #0\n"
		    " AS \"memory\", root: system\n"
		    " Root memory region: system\n"
		    "  0000000000000000-0000000000007fff (prio 0, ram): ram\n"
		    "  0000000010000000-0000000010000007 (prio 0, i/o): uart\n"
		    "\n");
	ms_ctx_free(ctx);
}

static void tree_sorts_children_by_address_then_priority_then_list_order(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *c = new_container(ctx, "c", 0x10000);

	(void)state;
	put(c, new_io(ctx, "low-a", 0x10), 0x100, 0);
	put(c, new_io(ctx, "low-b", 0x10), 0x100, 0); /* added later: listed first */
	put(c, new_io(ctx, "hi", 0x10), 0x100, 3);
	put(c, new_io(ctx, "zero", 0x10), 0, -5);
	new_as(ctx, c, "as");
	ms_region_unref(c);

	assert_dump(ctx, 0,
		    "address-space: as\n"
		    "  0000000000000000-000000000000ffff (prio 0, i/o): c\n"
		    "    0000000000000000-000000000000000f (prio -5, i/o): zero\n"
		    "    0000000000000100-000000000000010f (prio 3, i/o): hi\n"
		    "    0000000000000100-000000000000010f (prio 0, i/o): low-b\n"
		    "    0000000000000100-000000000000010f (prio 0, i/o): low-a\n"
		    "\n");
	ms_ctx_free(ctx);
}

static void tree_prints_alias_targets_as_trailers(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *sys = new_container(ctx, "system", MS_SIZE_2_64);
	ms_region *ram = new_ram(ctx, "ram", 0x10000);
	ms_region *flash = new_rom(ctx, "flash", 0x1000);

	(void)state;
	put(sys, flash, 0xfff000, 0);
	put(sys, new_alias(ctx, "flash-lo", flash, 0, 0x1000), 0, 1);
	put(sys, new_alias(ctx, "lo", ram, 0x1000, 0x2000), 0x80000000, 0);
	ms_region_unref(ram);
	new_as(ctx, sys, "memory");
	ms_region_unref(sys);

	assert_dump(ctx, 0,
		    "address-space: memory\n"
		    "  0000000000000000-ffffffffffffffff (prio 0, i/o): system\n"
		    "    0000000000000000-0000000000000fff (prio 1, rom): alias flash-lo @flash "
		    "0000000000000000-0000000000000fff\n"
		    "    0000000000fff000-0000000000ffffff (prio 0, rom): flash\n"
		    "    0000000080000000-0000000080001fff (prio 0, ram): alias lo @ram "
		    "0000000000001000-0000000000002fff\n"
		    "\n"
		    "memory-region: flash\n"
		    "  0000000000fff000-0000000000ffffff (prio 0, rom): flash\n"
		    "\n"
		    "memory-region: ram\n"
		    "  0000000000000000-000000000000ffff (prio 0, ram): ram\n"
		    "\n");
	assert_dump(ctx, MS_MTREE_FLAT,
		    "FlatView #0\n"
		    " AS \"memory\", root: system\n"
		    " Root memory region: system\n"
		    "  0000000000000000-0000000000000fff (prio 0, rom): flash\n"
		    "  0000000000fff000-0000000000ffffff (prio 0, rom): flash\n"
		    "  0000000080000000-0000000080001fff (prio 0, ram): ram @0000000000001000\n"
		    "\n");
	ms_ctx_free(ctx);
}

/* The topology of the two disabled-region tests. */
static ms_ctx *build_disabled_topology(void)
{
	ms_ctx *ctx = new_ctx();
	ms_region *sys = new_container(ctx, "system", MS_SIZE_2_64);
	ms_region *dev = new_container(ctx, "dev", 0x100);
	ms_region *boot = new_rom(ctx, "boot", 0x1000);
	ms_region *hidden = new_ram(ctx, "hidden", 0x100);

	put(dev, new_io(ctx, "reg", 4), 0x10, 0);
	put(dev, new_alias(ctx, "win", boot, 0, 0x10), 0x20, 0);
	assert_int_equal(ms_region_set_enabled(dev, false), 0);
	put(sys, dev, 0x1000, 0);
	put(sys, new_io(ctx, "after", 0x10), 0x2000, 0);
	put(sys, disabled(new_alias(ctx, "ghost", hidden, 0, 0x100)), 0x3000, 0);
	ms_region_unref(boot);
	ms_region_unref(hidden);
	new_as(ctx, sys, "memory");
	ms_region_unref(sys);
	return ctx;
}

static void tree_with_D_prints_disabled_regions_marked(void **state)
{
	ms_ctx *ctx = build_disabled_topology();

	(void)state;
	assert_dump(ctx, MS_MTREE_DISABLED,
		    "address-space: memory\n"
		    "  0000000000000000-ffffffffffffffff (prio 0, i/o): system\n"
		    "    0000000000001000-00000000000010ff (prio 0, i/o): dev [disabled]\n"
		    "      0000000000001010-0000000000001013 (prio 0, i/o): reg\n"
		    "      0000000000001020-000000000000102f (prio 0, rom): alias win @boot "
		    "0000000000000000-000000000000000f\n"
		    "    0000000000002000-000000000000200f (prio 0, i/o): after\n"
		    "    0000000000003000-00000000000030ff (prio 0, ram): alias ghost @hidden "
		    "0000000000000000-00000000000000ff [disabled]\n"
		    "\n"
		    "memory-region: boot\n"
		    "  0000000000000000-0000000000000fff (prio 0, rom): boot\n"
		    "\n"
		    "memory-region: hidden\n"
		    "  0000000000000000-00000000000000ff (prio 0, ram): hidden\n"
		    "\n");
	ms_ctx_free(ctx);
}

/*
 * QEMU 7.2 without -D skips only the line of a disabled region: its subtree
 * is still printed (one level deeper than the lines around it), and aliases
 * met anywhere, printed or not, still queue their targets.
 */
static void tree_without_D_skips_disabled_lines_but_walks_their_subtrees(void **state)
{
	ms_ctx *ctx = build_disabled_topology();
	char *with_d, *without_d;

	(void)state;
	assert_dump(ctx, 0,
		    "address-space: memory\n"
		    "  0000000000000000-ffffffffffffffff (prio 0, i/o): system\n"
		    "      0000000000001010-0000000000001013 (prio 0, i/o): reg\n"
		    "      0000000000001020-000000000000102f (prio 0, rom): alias win @boot "
		    "0000000000000000-000000000000000f\n"
		    "    0000000000002000-000000000000200f (prio 0, i/o): after\n"
		    "\n"
		    "memory-region: boot\n"
		    "  0000000000000000-0000000000000fff (prio 0, rom): boot\n"
		    "\n"
		    "memory-region: hidden\n"
		    "  0000000000000000-00000000000000ff (prio 0, ram): hidden\n"
		    "\n");
	/* -D does not change the flat form. */
	with_d = dump(ctx, MS_MTREE_FLAT | MS_MTREE_DISABLED);
	without_d = dump(ctx, MS_MTREE_FLAT);
	assert_text(with_d, without_d);
	assert_text(without_d, "FlatView #0\n"
			       " AS \"memory\", root: system\n"
			       " Root memory region: system\n"
			       "  0000000000002000-000000000000200f (prio 0, i/o): after\n"
			       "\n");
	free(with_d);
	free(without_d);
	ms_ctx_free(ctx);
}

static void tree_queues_nested_alias_targets_in_first_seen_order(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *sys = new_container(ctx, "system", MS_SIZE_2_64);
	ms_region *B = new_container(ctx, "B", 0x1000);
	ms_region *C = new_container(ctx, "C", 0x1000);
	ms_region *D = new_ram(ctx, "D", 0x1000);
	ms_region *F = new_ram(ctx, "F", 0x1000);
	ms_region *E = new_alias(ctx, "E", F, 0, 0x1000);

	(void)state;
	put(B, new_alias(ctx, "b1", E, 0, 0x1000), 0, 0);
	put(C, new_alias(ctx, "c1", D, 0, 0x1000), 0, 0);
	put(C, new_alias(ctx, "c2", B, 0, 0x800), 0x800, 0);
	put(sys, new_alias(ctx, "a1", B, 0, 0x1000), 0, 0);
	put(sys, new_alias(ctx, "a2", C, 0, 0x1000), 0x1000, 0);
	ms_region_unref(B);
	ms_region_unref(C);
	ms_region_unref(D);
	ms_region_unref(E);
	ms_region_unref(F);
	new_as(ctx, sys, "memory");
	ms_region_unref(sys);

	assert_dump(ctx, 0,
		    "address-space: memory\n"
		    "  0000000000000000-ffffffffffffffff (prio 0, i/o): system\n"
		    "    0000000000000000-0000000000000fff (prio 0, i/o): alias a1 @B "
		    "0000000000000000-0000000000000fff\n"
		    "    0000000000001000-0000000000001fff (prio 0, i/o): alias a2 @C "
		    "0000000000000000-0000000000000fff\n"
		    "\n"
		    "memory-region: B\n"
		    "  0000000000000000-0000000000000fff (prio 0, i/o): B\n"
		    "    0000000000000000-0000000000000fff (prio 0, ram): alias b1 @E "
		    "0000000000000000-0000000000000fff\n"
		    "\n"
		    "memory-region: C\n"
		    "  0000000000000000-0000000000000fff (prio 0, i/o): C\n"
		    "    0000000000000000-0000000000000fff (prio 0, ram): alias c1 @D "
		    "0000000000000000-0000000000000fff\n"
		    "    0000000000000800-0000000000000fff (prio 0, i/o): alias c2 @B "
		    "0000000000000000-00000000000007ff\n"
		    "\n"
		    "memory-region: E\n"
		    "  0000000000000000-0000000000000fff (prio 0, ram): alias E @F "
		    "0000000000000000-0000000000000fff\n"
		    "\n"
		    "memory-region: D\n"
		    "  0000000000000000-0000000000000fff (prio 0, ram): D\n"
		    "\n"
		    "memory-region: F\n"
		    "  0000000000000000-0000000000000fff (prio 0, ram): F\n"
		    "\n");
	ms_ctx_free(ctx);
}

static uint32_t bar_memory[1024];

/* The topology of the nonvolatile / read-only tests; *@flash gets the ROM device. */
static ms_ctx *build_kinds_topology(ms_region **flash)
{
	ms_ctx *ctx = new_ctx();
	ms_region *sys = new_container(ctx, "system", MS_SIZE_2_64);
	ms_region *backing = new_ram(ctx, "backing", 0x2000);
	ms_region *r;

	r = new_ram(ctx, "nvram", 0x1000);
	assert_int_equal(ms_region_set_nonvolatile(r, true), 0);
	put(sys, r, 0, 0);
	put(sys, new_rom(ctx, "bios", 0x1000), 0x1000, 0);
	r = new_ram(ctx, "ro-ram", 0x1000);
	assert_int_equal(ms_region_set_readonly(r, true), 0);
	put(sys, r, 0x2000, 0);
	r = new_alias(ctx, "nv-win", backing, 0x1000, 0x1000);
	assert_int_equal(ms_region_set_nonvolatile(r, true), 0);
	put(sys, r, 0x3000, 0);
	r = new_alias(ctx, "ro-win", backing, 0, 0x1000);
	assert_int_equal(ms_region_set_readonly(r, true), 0);
	put(sys, r, 0x4000, 0);
	ms_region_unref(backing);
	assert_int_equal(
		ms_region_new_rom_device(
			flash, ctx,
			&(ms_region_io_opts){.name = "flash", .size = 0x1000, .ops = nop_ops()}),
		0);
	put(sys, *flash, 0x5000, 0);
	assert_int_equal(ms_region_new_ram_device(&r, ctx, "bar", sizeof(bar_memory), bar_memory),
			 0);
	put(sys, r, 0x6000, 0);
	new_as(ctx, sys, "memory");
	ms_region_unref(sys);
	return ctx;
}

static void tree_and_flat_print_nonvolatile_readonly_and_device_kinds(void **state)
{
	ms_region *flash;
	ms_ctx *ctx = build_kinds_topology(&flash);

	(void)state;
	assert_dump(ctx, 0,
		    "address-space: memory\n"
		    "  0000000000000000-ffffffffffffffff (prio 0, i/o): system\n"
		    "    0000000000000000-0000000000000fff (prio 0, nv-ram): nvram\n"
		    "    0000000000001000-0000000000001fff (prio 0, rom): bios\n"
		    "    0000000000002000-0000000000002fff (prio 0, rom): ro-ram\n"
		    "    0000000000003000-0000000000003fff (prio 0, nv-ram): alias nv-win @backing "
		    "0000000000001000-0000000000001fff\n"
		    "    0000000000004000-0000000000004fff (prio 0, ram): alias ro-win @backing "
		    "0000000000000000-0000000000000fff\n"
		    "    0000000000005000-0000000000005fff (prio 0, romd): flash\n"
		    "    0000000000006000-0000000000006fff (prio 0, ramd): bar\n"
		    "\n"
		    "memory-region: backing\n"
		    "  0000000000000000-0000000000001fff (prio 0, ram): backing\n"
		    "\n");
	assert_dump(ctx, MS_MTREE_FLAT,
		    "FlatView #0\n"
		    " AS \"memory\", root: system\n"
		    " Root memory region: system\n"
		    "  0000000000000000-0000000000000fff (prio 0, nv-ram): nvram\n"
		    "  0000000000001000-0000000000001fff (prio 0, rom): bios\n"
		    "  0000000000002000-0000000000002fff (prio 0, rom): ro-ram\n"
		    "  0000000000003000-0000000000003fff (prio 0, nv-ram): backing "
		    "@0000000000001000\n"
		    "  0000000000004000-0000000000004fff (prio 0, rom): backing\n"
		    "  0000000000005000-0000000000005fff (prio 0, romd): flash\n"
		    "  0000000000006000-0000000000006fff (prio 0, ramd): bar\n"
		    "\n");
	ms_ctx_free(ctx);
}

/* The flat form shows the published view: a ROM device's mode as rendered. */
static void flat_prints_rom_device_mode_of_the_published_view(void **state)
{
	ms_region *flash;
	ms_ctx *ctx = build_kinds_topology(&flash);
	char *text;

	(void)state;
	ms_transaction_begin(ctx);
	assert_int_equal(ms_region_set_romd(flash, false), 0);
	text = dump(ctx, 0);
	assert_string_equal(line_with(text, "flash"),
			    "    0000000000005000-0000000000005fff (prio 0, i/o): flash");
	free(text);
	text = dump(ctx, MS_MTREE_FLAT);
	assert_string_equal(line_with(text, "flash"),
			    "  0000000000005000-0000000000005fff (prio 0, romd): flash");
	free(text);
	assert_int_equal(ms_transaction_commit(ctx), 0);
	text = dump(ctx, MS_MTREE_FLAT);
	assert_string_equal(line_with(text, "flash"),
			    "  0000000000005000-0000000000005fff (prio 0, i/o): flash");
	free(text);
	ms_ctx_free(ctx);
}

static void tree_prints_2_64_regions_and_flags_overflow(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *all = new_container(ctx, "all", MS_SIZE_2_64);
	ms_region *wrap = new_io(ctx, "wrap", MS_SIZE_2_64);
	ms_region *everything = new_io(ctx, "everything", MS_SIZE_2_64);

	(void)state;
	put(all, ms_region_ref(wrap), 0x10, 0);
	put(all, new_io(ctx, "after", 0x10), 0x20, 0);
	new_as(ctx, all, "all");
	new_as(ctx, everything, "whole");
	ms_region_unref(all);
	ms_region_unref(everything);

	assert_dump(
		ctx, 0,
		"address-space: all\n"
		"  0000000000000000-ffffffffffffffff (prio 0, i/o): all\n"
		"[DETECTED OVERFLOW!]     0000000000000010-000000000000000f (prio 0, i/o): wrap\n"
		"    0000000000000020-000000000000002f (prio 0, i/o): after\n"
		"\n"
		"address-space: whole\n"
		"  0000000000000000-ffffffffffffffff (prio 0, i/o): everything\n"
		"\n");
	assert_dump(ctx, MS_MTREE_FLAT,
		    "FlatView #0\n"
		    " AS \"all\", root: all\n"
		    " Root memory region: all\n"
		    "  0000000000000010-000000000000001f (prio 0, i/o): wrap\n"
		    "  0000000000000020-000000000000002f (prio 0, i/o): after\n"
		    "  0000000000000030-ffffffffffffffff (prio 0, i/o): wrap @0000000000000020\n"
		    "\n"
		    "FlatView #1\n"
		    " AS \"whole\", root: everything\n"
		    " Root memory region: everything\n"
		    "  0000000000000000-ffffffffffffffff (prio 0, i/o): everything\n"
		    "\n");

	/* QEMU prints the marker even when it then skips the line: it sticks
	 * to the next line printed. */
	assert_int_equal(ms_region_set_enabled(wrap, false), 0);
	assert_dump(
		ctx, 0,
		"address-space: all\n"
		"  0000000000000000-ffffffffffffffff (prio 0, i/o): all\n"
		"[DETECTED OVERFLOW!]     0000000000000020-000000000000002f (prio 0, i/o): after\n"
		"\n"
		"address-space: whole\n"
		"  0000000000000000-ffffffffffffffff (prio 0, i/o): everything\n"
		"\n");
	ms_region_unref(wrap);
	ms_ctx_free(ctx);
}

static void tree_prints_alias_window_end_modulo_2_64_and_size_0_as_one_byte(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *sys = new_container(ctx, "system", MS_SIZE_2_64);
	ms_region *target = new_container(ctx, "target", MS_SIZE_2_64);

	(void)state;
	put(sys, new_alias(ctx, "shifted", target, 0x1000, MS_SIZE_2_64), 0, 0);
	put(sys, new_container(ctx, "empty", 0), 0x500, 0);
	ms_region_unref(target);
	new_as(ctx, sys, "memory");
	ms_region_unref(sys);
	assert_dump(ctx, 0,
		    "address-space: memory\n"
		    "  0000000000000000-ffffffffffffffff (prio 0, i/o): system\n"
		    "    0000000000000000-ffffffffffffffff (prio 0, i/o): alias shifted @target "
		    "0000000000001000-0000000000000fff\n"
		    "    0000000000000500-0000000000000500 (prio 0, i/o): empty\n"
		    "\n"
		    "memory-region: target\n"
		    "  0000000000000000-ffffffffffffffff (prio 0, i/o): target\n"
		    "\n");
	ms_ctx_free(ctx);
}

static void tree_with_o_prints_owners_and_orphans(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *sys = new_container(ctx, "system", MS_SIZE_2_64);
	ms_region *uart = new_io(ctx, "uart", 8);
	ms_region *rom = new_rom(ctx, "rom", 0x1000);

	(void)state;
	assert_int_equal(ms_region_set_owner(uart, "uart0"), 0);
	assert_int_equal(ms_region_set_owner(rom, "obj path=/machine/unattached/device[3]"), 0);
	assert_int_equal(ms_region_set_enabled(uart, false), 0);
	put(sys, uart, 0x3f8, 0);
	put(sys, rom, 0xf0000, 0);
	new_as(ctx, sys, "memory");
	ms_region_unref(sys);

	assert_dump(ctx, MS_MTREE_OWNER,
		    "address-space: memory\n"
		    "  0000000000000000-ffffffffffffffff (prio 0, i/o): system orphan\n"
		    "    00000000000f0000-00000000000f0fff (prio 0, rom): rom "
		    "owner:{obj path=/machine/unattached/device[3]}\n"
		    "\n");
	assert_dump(ctx, MS_MTREE_OWNER | MS_MTREE_DISABLED,
		    "address-space: memory\n"
		    "  0000000000000000-ffffffffffffffff (prio 0, i/o): system orphan\n"
		    "    00000000000003f8-00000000000003ff (prio 0, i/o): uart [disabled] "
		    "owner:{dev id=uart0}\n"
		    "    00000000000f0000-00000000000f0fff (prio 0, rom): rom "
		    "owner:{obj path=/machine/unattached/device[3]}\n"
		    "\n");
	/* QEMU's -f -o prints the owner of each range's region too. */
	assert_dump(ctx, MS_MTREE_FLAT | MS_MTREE_OWNER,
		    "FlatView #0\n"
		    " AS \"memory\", root: system\n"
		    " Root memory region: system\n"
		    "  00000000000f0000-00000000000f0fff (prio 0, rom): rom "
		    "owner:{obj path=/machine/unattached/device[3]}\n"
		    "\n");
	ms_ctx_free(ctx);
}

/* ---- tests: flat form ------------------------------------------------------ */

static void flat_lists_address_spaces_sharing_a_view_in_one_block(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *sys = new_container(ctx, "system", MS_SIZE_2_64);
	ms_region *other = new_container(ctx, "other", 0x100);
	ms_region *bm;

	(void)state;
	put(sys, new_ram(ctx, "ram", 0x1000), 0, 0);
	put(sys, new_io(ctx, "uart", 8), 0x10000, 0);
	put(other, new_io(ctx, "dev", 0x10), 0, 0);
	bm = new_alias(ctx, "bus master", sys, 0, MS_SIZE_2_64);
	new_as(ctx, sys, "dma");
	new_as(ctx, other, "other");
	new_as(ctx, sys, "cpu");
	new_as(ctx, bm, "bm");
	ms_region_unref(sys);
	ms_region_unref(other);
	ms_region_unref(bm);

	assert_dump(ctx, MS_MTREE_FLAT,
		    "FlatView #0\n"
		    " AS \"dma\", root: system\n"
		    " AS \"cpu\", root: system\n"
		    " AS \"bm\", root: bus master, alias system\n"
		    " Root memory region: system\n"
		    "  0000000000000000-0000000000000fff (prio 0, ram): ram\n"
		    "  0000000000010000-0000000000010007 (prio 0, i/o): uart\n"
		    "\n"
		    "FlatView #1\n"
		    " AS \"other\", root: other\n"
		    " Root memory region: dev\n"
		    "  0000000000000000-000000000000000f (prio 0, i/o): dev\n"
		    "\n");
	/* The tree form groups by AS root, names sorted. */
	assert_dump(ctx, 0,
		    "address-space: cpu\n"
		    "address-space: dma\n"
		    "  0000000000000000-ffffffffffffffff (prio 0, i/o): system\n"
		    "    0000000000000000-0000000000000fff (prio 0, ram): ram\n"
		    "    0000000000010000-0000000000010007 (prio 0, i/o): uart\n"
		    "\n"
		    "address-space: other\n"
		    "  0000000000000000-00000000000000ff (prio 0, i/o): other\n"
		    "    0000000000000000-000000000000000f (prio 0, i/o): dev\n"
		    "\n"
		    "address-space: bm\n"
		    "  0000000000000000-ffffffffffffffff (prio 0, i/o): alias bus master @system "
		    "0000000000000000-ffffffffffffffff\n"
		    "\n"
		    "memory-region: system\n"
		    "  0000000000000000-ffffffffffffffff (prio 0, i/o): system\n"
		    "    0000000000000000-0000000000000fff (prio 0, ram): ram\n"
		    "    0000000000010000-0000000000010007 (prio 0, i/o): uart\n"
		    "\n");
	ms_ctx_free(ctx);
}

static void flat_prints_none_root_and_no_rendered_flatview(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *sys = new_container(ctx, "system", MS_SIZE_2_64);
	ms_region *pair = new_container(ctx, "empty-pair", 0x1000);
	int i;

	(void)state;
	put(sys, new_ram(ctx, "ram", 0x1000), 0, 0);
	put(sys, new_io(ctx, "uart", 8), 0x10000, 0);
	new_as(ctx, sys, "memory");
	for (i = 0; i < 2; i++) {
		ms_region *bmc = new_container(ctx, "bus master container", MS_SIZE_2_64);

		put(bmc, disabled(new_alias(ctx, "bus master", sys, 0, MS_SIZE_2_64)), 0, 0);
		new_as(ctx, bmc, i ? "ide" : "nic");
		ms_region_unref(bmc);
	}
	put(pair, new_container(ctx, "e1", 0x10), 0, 0);
	put(pair, new_container(ctx, "e2", 0x10), 0x100, 0);
	new_as(ctx, pair, "quiet");
	ms_region_unref(pair);
	ms_region_unref(sys);

	assert_dump(ctx, MS_MTREE_FLAT,
		    "FlatView #0\n"
		    " AS \"memory\", root: system\n"
		    " Root memory region: system\n"
		    "  0000000000000000-0000000000000fff (prio 0, ram): ram\n"
		    "  0000000000010000-0000000000010007 (prio 0, i/o): uart\n"
		    "\n"
		    "FlatView #1\n"
		    " AS \"nic\", root: bus master container\n"
		    " AS \"ide\", root: bus master container\n"
		    " Root memory region: (none)\n"
		    "  No rendered FlatView\n"
		    "\n"
		    "FlatView #2\n"
		    " AS \"quiet\", root: empty-pair\n"
		    " Root memory region: empty-pair\n"
		    "  No rendered FlatView\n"
		    "\n");
	ms_ctx_free(ctx);
}

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
	/* __FILE__ is <root>/tests/unit/test_mtree.c. */
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

/* ---- tests: JSON ----------------------------------------------------------- */

static void json_dumps_parse_and_carry_the_tree(void **state)
{
	static const unsigned forms[] = {
		MS_MTREE_JSON,
		MS_MTREE_JSON | MS_MTREE_DISABLED | MS_MTREE_OWNER,
		MS_MTREE_JSON | MS_MTREE_FLAT,
	};
	ms_ctx *ctx = new_ctx();
	char *text;
	size_t i;

	(void)state;
	build_pc(ctx, pc_tree_order, NR(pc_tree_order));
	for (i = 0; i < NR(forms); i++) {
		text = dump(ctx, forms[i]);
		if (!json_valid(text))
			fail_msg("invalid JSON for flags %#x:\n%s", forms[i], text);
		free(text);
	}

	text = dump(ctx, MS_MTREE_JSON);
	assert_non_null(strstr(text, "{\"format\":\"memspace-mtree\",\"version\":1,\"roots\":["
				     "{\"address_spaces\":[\"I/O\"],\"region\":{\"name\":\"io\","));
	assert_non_null(strstr(text, "{\"address_spaces\":[\"cpu-memory-0\",\"memory\"],"
				     "\"region\":{\"name\":\"system\",\"kind\":\"container\","
				     "\"type\":\"i/o\",\"addr\":\"0x0\","
				     "\"size\":\"0x10000000000000000\",\"start\":\"0x0\","
				     "\"end\":\"0xffffffffffffffff\",\"overflow\":false,"
				     "\"priority\":0,\"enabled\":true,\"readonly\":false,"
				     "\"nonvolatile\":false,\"unmergeable\":false,\"romd\":false,"
				     "\"owner\":null,\"alias\":null,\"children\":[{"));
	/* Alias targets in queue order: system, smram, pc.ram, pc.bios, pci. */
	assert_non_null(strstr(text, "{\"name\":\"ram-below-4g\",\"kind\":\"alias\","
				     "\"type\":\"ram\",\"addr\":\"0x0\",\"size\":\"0x8000000\","
				     "\"start\":\"0x0\",\"end\":\"0x7ffffff\",\"overflow\":false,"
				     "\"priority\":0,\"enabled\":true,\"readonly\":false,"
				     "\"nonvolatile\":false,\"unmergeable\":false,\"romd\":false,"
				     "\"owner\":null,\"alias\":{\"target\":\"pc.ram\","
				     "\"target_index\":2,\"offset\":\"0x0\"},\"children\":[]}"));
	assert_non_null(strstr(text, "\"name\":\"pam-rom\",\"kind\":\"alias\",\"type\":\"ram\","
				     "\"addr\":\"0xc0000\",\"size\":\"0x4000\",\"start\":"
				     "\"0xc0000\",\"end\":\"0xc3fff\",\"overflow\":false,"
				     "\"priority\":1,\"enabled\":false,\"readonly\":true,"));
	assert_non_null(strstr(text, "],\"alias_targets\":[{\"name\":\"system\","));
	assert_non_null(strstr(text, "{\"name\":\"pc.bios\",\"kind\":\"rom\",\"type\":\"rom\","
				     "\"addr\":\"0xfffc0000\",\"size\":\"0x40000\","
				     "\"start\":\"0xfffc0000\",\"end\":\"0xffffffff\""));
	assert_string_equal(text + strlen(text) - 3, "]}\n");
	free(text);

	text = dump(ctx, MS_MTREE_JSON | MS_MTREE_FLAT);
	assert_non_null(strstr(text,
			       "{\"format\":\"memspace-mtree-flat\",\"version\":1,"
			       "\"flatviews\":[{\"address_spaces\":[{\"name\":\"I/O\","
			       "\"root\":\"io\",\"root_alias_target\":null}],\"root\":\"io\","
			       "\"ranges\":[{\"start\":\"0x0\",\"last\":\"0x7\","
			       "\"offset\":\"0x0\",\"region\":\"dma-chan\",\"kind\":\"io\","
			       "\"priority\":0,\"type\":\"i/o\",\"readonly\":false,"
			       "\"nonvolatile\":false,\"unmergeable\":false,\"owner\":null}"));
	assert_non_null(strstr(text, "{\"start\":\"0xe0000\",\"last\":\"0xfffff\","
				     "\"offset\":\"0x20000\",\"region\":\"pc.bios\","
				     "\"kind\":\"rom\",\"priority\":0,\"type\":\"rom\","
				     "\"readonly\":true,"));
	assert_non_null(strstr(text, "{\"address_spaces\":[{\"name\":\"piix3-ide\","
				     "\"root\":\"bus master container\","
				     "\"root_alias_target\":null},"));
	assert_non_null(strstr(text, "\"root\":null,\"ranges\":[]}"));
	free(text);
	ms_ctx_free(ctx);
}

static void json_escapes_names(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *sys = new_container(ctx, "sys \"main\"", MS_SIZE_2_64);
	ms_region *odd = new_ram(ctx, "we\"ird\\name\tx\ny\x01\xff\xc3\xa9", 0x1000);
	unsigned flags[] = {MS_MTREE_JSON, MS_MTREE_JSON | MS_MTREE_FLAT};
	size_t i;

	(void)state;
	assert_int_equal(ms_region_set_owner(odd, "o\\wn\"er"), 0);
	put(sys, odd, 0, 0);
	put(sys, new_io(ctx, "x", 1), 0x2000, 0);
	new_as(ctx, sys, "as \"q\"");
	ms_region_unref(sys);

	for (i = 0; i < NR(flags); i++) {
		char *text = dump(ctx, flags[i]);

		if (!json_valid(text))
			fail_msg("invalid JSON:\n%s", text);
		assert_non_null(
			strstr(text, "\"we\\\"ird\\\\name\\tx\\ny\\u0001\\ufffd\xc3\xa9\""));
		assert_non_null(strstr(text, "\"owner\":\"o\\\\wn\\\"er\""));
		assert_non_null(strstr(text, "\"as \\\"q\\\"\""));
		free(text);
	}
	ms_ctx_free(ctx);
}

static void json_of_an_empty_context_is_valid(void **state)
{
	ms_ctx *ctx = new_ctx();

	(void)state;
	assert_dump(ctx, MS_MTREE_JSON,
		    "{\"format\":\"memspace-mtree\",\"version\":1,\"roots\":[],"
		    "\"alias_targets\":[]}\n");
	assert_dump(ctx, MS_MTREE_JSON | MS_MTREE_FLAT,
		    "{\"format\":\"memspace-mtree-flat\",\"version\":1,\"flatviews\":[]}\n");
	assert_dump(ctx, 0, "");
	assert_dump(ctx, MS_MTREE_FLAT, "");
	ms_ctx_free(ctx);
}

/* ---- tests: robustness ----------------------------------------------------- */

static void dump_rejects_bad_arguments(void **state)
{
	ms_ctx *ctx = new_ctx();
	char *text = (char *)"untouched";
	size_t len = 99;

	(void)state;
	assert_int_equal(ms_mtree_dump(NULL, &len, ctx, 0), -EINVAL);
	assert_int_equal(ms_mtree_dump(&text, &len, NULL, 0), -EINVAL);
	assert_null(text);
	assert_int_equal(len, 0);
	assert_int_equal(ms_mtree_dump(&text, NULL, ctx, 1u << 4), -EINVAL);
	assert_int_equal(ms_mtree_fprint(NULL, ctx, 0), -EINVAL);
	assert_int_equal(ms_mtree_fprint(stdout, NULL, 0), -EINVAL);
	assert_int_equal(ms_mtree_fprint(stdout, ctx, ~0u), -EINVAL);
	ms_ctx_free(ctx);
}

static void fprint_writes_the_dump_and_reports_write_errors(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *sys = new_container(ctx, "system", MS_SIZE_2_64);
	char *expected, *written = NULL;
	size_t size = 0;
	FILE *f;

	(void)state;
	put(sys, new_ram(ctx, "ram", 0x1000), 0, 0);
	new_as(ctx, sys, "memory");
	ms_region_unref(sys);
	expected = dump(ctx, MS_MTREE_FLAT);

	f = open_memstream(&written, &size);
	assert_non_null(f);
	assert_int_equal(ms_mtree_fprint(f, ctx, MS_MTREE_FLAT), 0);
	assert_int_equal(fclose(f), 0);
	assert_text(written, expected);
	free(written);

	f = fopen("/dev/null", "r"); /* not writable */
	assert_non_null(f);
	assert_int_equal(ms_mtree_fprint(f, ctx, MS_MTREE_FLAT), -EIO);
	fclose(f);
	free(expected);
	ms_ctx_free(ctx);
}

#define DEEP_TREE_DEPTH 1000

/* An alias (disabled, so nothing renders it) into a chain far deeper than any
 * render may follow: the dump walks it without recursion. */
static void tree_dumps_very_deep_subtrees(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *sys = new_container(ctx, "system", MS_SIZE_2_64);
	ms_region *deep = new_container(ctx, "deep", 0x1000), *cur = deep, *next;
	char *text, *last;
	int i;

	(void)state;
	for (i = 0; i < DEEP_TREE_DEPTH; i++) {
		next = new_container(ctx, "d", 0x1000);
		put(cur, next, 0, 0);
		cur = next;
	}
	put(sys, disabled(new_alias(ctx, "to-deep", deep, 0, 0x1000)), 0, 0);
	ms_region_unref(deep);
	new_as(ctx, sys, "memory");
	ms_region_unref(sys);

	text = dump(ctx, 0);
	/* The last line is the deepest region: level DEEP_TREE_DEPTH + 1, then "\n\n". */
	text[strlen(text) - 2] = '\0';
	last = strrchr(text, '\n') + 1;
	assert_int_equal(strspn(last, " "), 2 * (DEEP_TREE_DEPTH + 1));
	assert_string_equal(last + 2 * (DEEP_TREE_DEPTH + 1),
			    "0000000000000000-0000000000000fff (prio 0, i/o): d");
	free(text);
	text = dump(ctx, MS_MTREE_JSON);
	assert_true(json_valid(text));
	free(text);
	ms_ctx_free(ctx);
}

/* Fail each allocation of a dump in turn: -ENOMEM, nothing returned, no leak. */
static void check_enomem_at_every_allocation(ms_ctx *ctx, unsigned flags)
{
	char *reference = dump(ctx, flags), *text;
	size_t len;
	uint64_t n;
	int rc;

	for (n = 1;; n++) {
		text = (char *)"untouched";
		len = 7;
		ms_ctx_test_control(ctx, MS_TEST_FAIL_ALLOC_AFTER, n);
		rc = ms_mtree_dump(&text, &len, ctx, flags);
		ms_ctx_test_control(ctx, MS_TEST_FAIL_ALLOC_AFTER, 0);
		if (rc == 0)
			break;
		assert_int_equal(rc, -ENOMEM);
		assert_null(text);
		assert_int_equal(len, 0);
		assert_true(n < 100000);
	}
	assert_true(n > 1); /* the dump does allocate */
	assert_text(text, reference);
	free(text);
	free(reference);

	ms_ctx_test_control(ctx, MS_TEST_FAIL_ALLOC_AFTER, 1);
	rc = ms_mtree_fprint(stdout, ctx, flags);
	ms_ctx_test_control(ctx, MS_TEST_FAIL_ALLOC_AFTER, 0);
	assert_int_equal(rc, -ENOMEM);
}

static void dump_returns_enomem_at_every_allocation_without_leaking(void **state)
{
	static const unsigned forms[] = {
		0,
		MS_MTREE_DISABLED | MS_MTREE_OWNER,
		MS_MTREE_FLAT,
		MS_MTREE_FLAT | MS_MTREE_OWNER,
		MS_MTREE_JSON,
		MS_MTREE_JSON | MS_MTREE_FLAT,
	};
	ms_ctx *ctx = new_ctx();
	ms_region *sys = new_container(ctx, "system", MS_SIZE_2_64);
	ms_region *chain = sys, *next;
	char name[32];
	size_t i;

	(void)state;
	/* Enough alias targets to grow the queue and its hash, a chain deep
	 * enough to grow the walk stack, and several address spaces. */
	for (i = 0; i < 40; i++) {
		ms_region *target = new_ram(ctx, "target", 0x1000);

		snprintf(name, sizeof(name), "alias-%zu", i);
		assert_int_equal(ms_region_set_owner(target, name), 0);
		put(sys, new_alias(ctx, name, target, 0, 0x1000), 0x100000 + i * 0x1000, 0);
		ms_region_unref(target);
	}
	for (i = 0; i < 12; i++) {
		next = new_container(ctx, "nest", 0x10000);
		put(chain, next, i ? 0 : 0x10000000, 0);
		chain = next;
	}
	put(chain, new_io(ctx, "leaf", 0x10), 0x10, 0);
	new_as(ctx, sys, "memory");
	new_as(ctx, sys, "cpu");
	new_as(ctx, chain, "deep");
	ms_region_unref(sys);

	for (i = 0; i < NR(forms); i++)
		check_enomem_at_every_allocation(ctx, forms[i]);
	ms_ctx_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tree_prints_container_with_ram_and_io),
		cmocka_unit_test(tree_sorts_children_by_address_then_priority_then_list_order),
		cmocka_unit_test(tree_prints_alias_targets_as_trailers),
		cmocka_unit_test(tree_with_D_prints_disabled_regions_marked),
		cmocka_unit_test(tree_without_D_skips_disabled_lines_but_walks_their_subtrees),
		cmocka_unit_test(tree_queues_nested_alias_targets_in_first_seen_order),
		cmocka_unit_test(tree_and_flat_print_nonvolatile_readonly_and_device_kinds),
		cmocka_unit_test(flat_prints_rom_device_mode_of_the_published_view),
		cmocka_unit_test(tree_prints_2_64_regions_and_flags_overflow),
		cmocka_unit_test(tree_prints_alias_window_end_modulo_2_64_and_size_0_as_one_byte),
		cmocka_unit_test(tree_with_o_prints_owners_and_orphans),
		cmocka_unit_test(flat_lists_address_spaces_sharing_a_view_in_one_block),
		cmocka_unit_test(flat_prints_none_root_and_no_rendered_flatview),
		cmocka_unit_test(pc_io_flat_view_equals_qemu),
		cmocka_unit_test(pc_system_tree_block_equals_qemu),
		cmocka_unit_test(pc_whole_tree_dump_with_D_equals_qemu),
		cmocka_unit_test(pc_whole_tree_dump_without_D_drops_disabled_lines),
		cmocka_unit_test(pc_whole_flat_dump_equals_qemu),
		cmocka_unit_test(embedded_expectations_match_the_shared_qemu_case),
		cmocka_unit_test(json_dumps_parse_and_carry_the_tree),
		cmocka_unit_test(json_escapes_names),
		cmocka_unit_test(json_of_an_empty_context_is_valid),
		cmocka_unit_test(dump_rejects_bad_arguments),
		cmocka_unit_test(fprint_writes_the_dump_and_reports_write_errors),
		cmocka_unit_test(tree_dumps_very_deep_subtrees),
		cmocka_unit_test(dump_returns_enomem_at_every_allocation_without_leaking),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
