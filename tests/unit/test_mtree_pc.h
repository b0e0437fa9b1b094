/*
 * test_mtree_pc.h: the x86_64-pc machine of the shared QEMU case
 * (../shared/qemu-mtree/cases/x86_64-pc), built by hand (not a test itself),
 * shared by test_mtree_qemu.c and test_mtree_json.c.
 *
 * build_pc() builds the machine as QEMU 7.2 `-M pc -S -nodefaults` shows it
 * and creates the address spaces it is given; pc_tree_order and
 * pc_flat_order are the creation orders that reproduce QEMU's block order
 * in the tree and the flat (-f) dumps.
 *
 * Include after <cmocka.h>, ms_unit.h and test_mtree_support.h.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TEST_MTREE_PC_H
#define TEST_MTREE_PC_H

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

static inline void pc_put(struct pc_builder *b, ms_region *container, ms_region *sub, uint64_t addr,
			  int priority)
{
	assert_true(b->nr < sizeof(b->adds) / sizeof(b->adds[0]));
	b->adds[b->nr].container = container;
	b->adds[b->nr].sub = sub;
	b->adds[b->nr].addr = addr;
	b->adds[b->nr].priority = priority;
	b->nr++;
}

/*
 * Build x86_64-pc (as QEMU 7.2 `-M pc -S -nodefaults` shows it) and create
 * the address spaces named in @as_names, in that order. Known names: "I/O",
 * "memory", "cpu-memory-0", "cpu-smm-0", "piix3-ide", "PIIX4_PM", "i440FX",
 * "PIIX3".
 */
static inline void build_pc(ms_ctx *ctx, const char *const *as_names, size_t nr_as)
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

#endif /* TEST_MTREE_PC_H */
