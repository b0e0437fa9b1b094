/*
 * Tests for src/mtree.c: `info mtree` text (tree, -D, -o, -f) byte for byte
 * against hand-checked expectations, dumps of 2^64 regions and of very deep
 * trees, write errors, and -ENOMEM at every allocation.
 *
 * The x86_64-pc machine against QEMU 7.2's own output is in
 * test_mtree_qemu.c, the JSON form in test_mtree_json.c.
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
	assert_int_equal(ms_mtree_dump(&text, NULL, ctx, 1u << 5), -EINVAL);
	/* -d combines with -o only. */
	assert_int_equal(ms_mtree_dump(&text, NULL, ctx, MS_MTREE_DISPATCH | MS_MTREE_FLAT),
			 -EINVAL);
	assert_int_equal(ms_mtree_dump(&text, NULL, ctx, MS_MTREE_DISPATCH | MS_MTREE_JSON),
			 -EINVAL);
	assert_int_equal(ms_mtree_dump(&text, NULL, ctx, MS_MTREE_DISPATCH | MS_MTREE_DISABLED),
			 -EINVAL);
	assert_null(text);
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

/* -d: each address space's view as the lookup index holds it, chunk by chunk. */
static void dispatch_view_shows_chunks_and_slots(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *root = new_container(ctx, "root", MS_SIZE_2_64);
	ms_region *empty_root = new_container(ctx, "nothing", 0x1000);
	ms_as *as = new_as(ctx, root, "memory");
	ms_as *empty = new_as(ctx, empty_root, "empty");
	char name[16], *text = NULL, *line;
	unsigned i;

	(void)state;
	assert_int_equal(ms_transaction_begin(ctx), 0);
	for (i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "r%u", i);
		/* Gaps keep the ranges apart: 100 sections, two chunks. */
		place_ram(ctx, root, name, (uint64_t)i * 0x2000, 0x1000);
	}
	assert_int_equal(ms_transaction_commit(ctx), 0);
	assert_int_equal(ms_mtree_dump(&text, NULL, ctx, MS_MTREE_DISPATCH | MS_MTREE_OWNER), 0);
	assert_non_null(strstr(text, "address-space: memory\n"
				     "  dispatch: 100 sections, 2 chunks, 1 index level\n"
				     "  chunk 0: sections 0-"));
	assert_non_null(strstr(text, "    #0 0.0 0000000000000000-0000000000000fff ram r0\n"));
	/* Every section is listed once, at its sorted position. */
	for (i = 0; i < 100; i++) {
		char want[80];

		snprintf(want, sizeof(want), "#%u ", i);
		line = strstr(text, want);
		assert_non_null(line);
		snprintf(want, sizeof(want), "%016llx-", (unsigned long long)i * 0x2000);
		assert_non_null(strstr(line, want));
	}
	assert_non_null(strstr(text, "  chunk 1: sections "));
	assert_non_null(strstr(text, "-99\n"));
	assert_non_null(strstr(
		text, "address-space: empty\n  dispatch: 0 sections, 0 chunks, 0 index levels\n"));
	free(text);
	ms_as_free(as);
	ms_as_free(empty);
	ms_region_unref(root);
	ms_region_unref(empty_root);
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
		cmocka_unit_test(dump_rejects_bad_arguments),
		cmocka_unit_test(dispatch_view_shows_chunks_and_slots),
		cmocka_unit_test(fprint_writes_the_dump_and_reports_write_errors),
		cmocka_unit_test(tree_dumps_very_deep_subtrees),
		cmocka_unit_test(dump_returns_enomem_at_every_allocation_without_leaking),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
