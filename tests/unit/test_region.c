/*
 * test_region.c: region constructors, getters, tree mutations and their
 * errors, subregion list order, reference counting, and alias cycles.
 *
 * Every misuse test takes a text snapshot of the tree (list order, addresses,
 * priorities, container back pointers) and of the published flat view before
 * the bad call and compares it afterwards: a refused call changes nothing.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>

#include "ms_unit.h"

/* ---- a device ------------------------------------------------------------ */

static ms_result dev_read_attrs(uint64_t *data, uint64_t addr, unsigned size, ms_attrs attrs,
				void *opaque)
{
	(void)addr;
	(void)size;
	(void)attrs;
	(void)opaque;
	*data = 0;
	return MS_RESULT_OK;
}

static ms_result dev_write_attrs(uint64_t addr, uint64_t data, unsigned size, ms_attrs attrs,
				 void *opaque)
{
	(void)addr;
	(void)data;
	(void)size;
	(void)attrs;
	(void)opaque;
	return MS_RESULT_OK;
}

static const ms_region_ops good_ops = {
	.version = MS_REGION_OPS_VERSION,
	.read = nop_read,
	.write = nop_write,
	.endianness = MS_ENDIAN_LITTLE,
};

/* ---- constructors and getters ------------------------------------------- */

static void test_container_kind_getters_and_defaults(void **state)
{
	ms_ctx *ctx = new_ctx();
	char name[] = "box";
	ms_region *r = NULL;

	(void)state;
	assert_int_equal(ms_region_new_container(&r, ctx, name, 0x1000), 0);
	name[0] = 'X'; /* the name was copied */
	assert_string_equal(ms_region_name(r), "box");
	assert_int_equal(ms_region_get_kind(r), MS_REGION_CONTAINER);
	assert_ptr_equal(ms_region_ctx(r), ctx);
	assert_int_equal(ms_region_size(r), 0x1000);
	assert_int_equal(ms_region_addr(r), 0);
	assert_int_equal(ms_region_priority(r), 0);
	assert_true(ms_region_enabled(r));
	assert_false(ms_region_readonly(r));
	assert_false(ms_region_nonvolatile(r));
	assert_false(ms_region_unmergeable(r));
	assert_false(ms_region_romd(r));
	assert_false(ms_region_is_terminating(r));
	assert_null(ms_region_container(r));
	assert_null(ms_region_alias_target(r));
	assert_int_equal(ms_region_alias_offset(r), 0);
	assert_null(ms_region_ram_ptr(r));
	assert_null(ms_region_owner(r));
	assert_int_equal(ms_region_nr_subregions(r), 0);
	assert_null(ms_region_subregion(r, 0));
	assert_string_equal(ms__region_type_name(r), "i/o");
	ms_region_unref(r);
	assert_int_equal(live_regions(ctx), 0);
	ms_ctx_free(ctx);
}

static void test_container_and_io_accept_size_zero_and_2_64(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *c0, *c64, *io0, *io64, *al0, *al64;

	(void)state;
	c0 = new_container(ctx, "c0", 0);
	c64 = new_container(ctx, "c64", MS_SIZE_2_64);
	assert_int_equal(
		ms_region_new_io(&io0, ctx,
				 &(ms_region_io_opts){.name = "io0", .size = 0, .ops = NULL}),
		0);
	assert_int_equal(ms_region_new_io(&io64, ctx,
					  &(ms_region_io_opts){.name = "io64",
							       .size = MS_SIZE_2_64,
							       .ops = &good_ops}),
			 0);
	assert_int_equal(
		ms_region_new_alias(&al0, ctx,
				    &(ms_region_alias_opts){
					    .name = "al0", .target = c64, .offset = 0, .size = 0}),
		0);
	assert_int_equal(ms_region_new_alias(&al64, ctx,
					     &(ms_region_alias_opts){.name = "al64",
								     .target = c64,
								     .offset = 0,
								     .size = MS_SIZE_2_64}),
			 0);
	assert_int_equal(ms_region_size(c0), 0);
	assert_int_equal(ms_region_size(c64), MS_SIZE_2_64);
	assert_int_equal(ms_region_size(io0), 0);
	assert_int_equal(ms_region_size(io64), UINT64_MAX);
	assert_int_equal(ms_region_size(al0), 0);
	assert_int_equal(ms_region_size(al64), MS_SIZE_2_64);
	ms_region_unref(al0);
	ms_region_unref(al64);
	ms_region_unref(c0);
	ms_region_unref(c64);
	ms_region_unref(io0);
	ms_region_unref(io64);
	assert_int_equal(live_regions(ctx), 0);
	ms_ctx_free(ctx);
}

static void test_io_without_ops_is_a_terminating_reservation(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *r;

	(void)state;
	assert_int_equal(
		ms_region_new_io(&r, ctx,
				 &(ms_region_io_opts){.name = "resv", .size = 0x100, .ops = NULL}),
		0);
	assert_int_equal(ms_region_get_kind(r), MS_REGION_IO);
	assert_true(ms_region_is_terminating(r));
	assert_null(r->ops);
	assert_null(ms_region_ram_ptr(r));
	assert_string_equal(ms__region_type_name(r), "i/o");
	ms_region_unref(r);
	ms_ctx_free(ctx);
}

static void test_io_with_ops_keeps_ops_and_opaque(void **state)
{
	static const ms_region_ops attrs_only = {
		.version = MS_REGION_OPS_VERSION,
		.read_with_attrs = dev_read_attrs,
		.write_with_attrs = dev_write_attrs,
		.endianness = MS_ENDIAN_BIG,
		.valid = {.min_access_size = 1, .max_access_size = 8},
		.impl = {.min_access_size = 2, .max_access_size = 2},
	};
	ms_ctx *ctx = new_ctx();
	int cookie;
	ms_region *a, *b;

	(void)state;
	assert_int_equal(ms_region_new_io(&a, ctx,
					  &(ms_region_io_opts){.name = "a",
							       .size = 0x100,
							       .ops = &good_ops,
							       .opaque = &cookie}),
			 0);
	assert_ptr_equal(a->ops, &good_ops);
	assert_ptr_equal(a->opaque, &cookie);
	assert_int_equal(ms_region_new_io(&b, ctx,
					  &(ms_region_io_opts){
						  .name = "b", .size = 0x100, .ops = &attrs_only}),
			 0);
	assert_ptr_equal(b->ops, &attrs_only);
	assert_true(ms_region_is_terminating(b));
	ms_region_unref(a);
	ms_region_unref(b);
	ms_ctx_free(ctx);
}

typedef struct bad_ops_case {
	const char *what;
	ms_region_ops ops;
} bad_ops_case;

static const bad_ops_case bad_ops_cases[] = {
	{"no read", {.version = MS_REGION_OPS_VERSION, .write = nop_write}},
	{"no write", {.version = MS_REGION_OPS_VERSION, .read = nop_read}},
	{"valid.min 3",
	 {.version = MS_REGION_OPS_VERSION,
	  .read = nop_read,
	  .write = nop_write,
	  .valid.min_access_size = 3}},
	{"valid.max 16",
	 {.version = MS_REGION_OPS_VERSION,
	  .read = nop_read,
	  .write = nop_write,
	  .valid.max_access_size = 16}},
	{"impl.min 3",
	 {.version = MS_REGION_OPS_VERSION,
	  .read = nop_read,
	  .write = nop_write,
	  .impl.min_access_size = 3}},
	{"impl.max 16",
	 {.version = MS_REGION_OPS_VERSION,
	  .read = nop_read,
	  .write = nop_write,
	  .impl.max_access_size = 16}},
	{"valid.min 8 > valid.max 4",
	 {.version = MS_REGION_OPS_VERSION,
	  .read = nop_read,
	  .write = nop_write,
	  .valid = {.min_access_size = 8, .max_access_size = 4}}},
	{"impl.min 4 > impl.max 2",
	 {.version = MS_REGION_OPS_VERSION,
	  .read = nop_read,
	  .write = nop_write,
	  .impl = {.min_access_size = 4, .max_access_size = 2}}},
	{"valid.min 8 > default max 4",
	 {.version = MS_REGION_OPS_VERSION,
	  .read = nop_read,
	  .write = nop_write,
	  .valid.min_access_size = 8}},
	{"version 0", {.read = nop_read, .write = nop_write}},
	{"version 2", {.version = 2, .read = nop_read, .write = nop_write}},
	{"endianness 3",
	 {.version = MS_REGION_OPS_VERSION,
	  .read = nop_read,
	  .write = nop_write,
	  .endianness = (ms_endian)3}},
};

static void test_invalid_ops_tables_are_rejected(void **state)
{
	ms_ctx *ctx = new_ctx();
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_ops_cases) / sizeof(bad_ops_cases[0]); i++) {
		const bad_ops_case *c = &bad_ops_cases[i];
		ms_region *r = (ms_region *)&r; /* must be overwritten with NULL */
		int rc;

		rc = ms_region_new_io(
			&r, ctx, &(ms_region_io_opts){.name = "io", .size = 0x100, .ops = &c->ops});
		if (rc != -EINVAL || r != NULL)
			fail_msg("ms_region_new_io(%s): rc %d (expected %d), out %p", c->what, rc,
				 -EINVAL, (void *)r);
		r = (ms_region *)&r;
		rc = ms_region_new_rom_device(
			&r, ctx,
			&(ms_region_io_opts){.name = "romd", .size = 0x100, .ops = &c->ops});
		if (rc != -EINVAL || r != NULL)
			fail_msg("ms_region_new_rom_device(%s): rc %d (expected %d), out %p",
				 c->what, rc, -EINVAL, (void *)r);
	}
	assert_int_equal(live_regions(ctx), 0);
	ms_ctx_free(ctx);
}

static void test_ram_is_zeroed_writable_memory(void **state)
{
	ms_ctx *ctx = new_ctx();
	unsigned char *p;
	ms_region *r;
	size_t i;

	(void)state;
	assert_int_equal(ms_region_new_ram(&r, ctx, "ram0", 0x2000), 0);
	assert_int_equal(ms_region_get_kind(r), MS_REGION_RAM);
	assert_int_equal(ms_region_size(r), 0x2000);
	assert_true(ms_region_is_terminating(r));
	assert_false(ms_region_readonly(r));
	assert_string_equal(ms__region_type_name(r), "ram");
	p = ms_region_ram_ptr(r);
	assert_non_null(p);
	for (i = 0; i < 0x2000; i++)
		if (p[i] != 0)
			fail_msg("ram byte %zu is %u, expected 0", i, p[i]);
	p[0] = 0xaa;
	p[0x1fff] = 0x55;
	assert_int_equal(p[0] + p[0x1fff], 0xff);
	ms_region_unref(r);
	ms_ctx_free(ctx);
}

static void test_rom_is_readonly_ram_printed_as_rom(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *r;

	(void)state;
	assert_int_equal(ms_region_new_rom(&r, ctx, "bios", 0x1000), 0);
	assert_int_equal(ms_region_get_kind(r), MS_REGION_ROM);
	assert_true(ms_region_readonly(r));
	assert_true(ms_region_is_terminating(r));
	assert_non_null(ms_region_ram_ptr(r));
	assert_string_equal(ms__region_type_name(r), "rom");
	ms_region_unref(r);
	ms_ctx_free(ctx);
}

static void test_rom_device_defaults_to_romd_mode(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *r;
	int cookie;

	(void)state;
	assert_int_equal(ms_region_new_rom_device(&r, ctx,
						  &(ms_region_io_opts){.name = "flash",
								       .size = 0x1000,
								       .ops = &good_ops,
								       .opaque = &cookie}),
			 0);
	assert_int_equal(ms_region_get_kind(r), MS_REGION_ROM_DEVICE);
	assert_true(ms_region_romd(r));
	assert_false(ms_region_readonly(r));
	assert_non_null(ms_region_ram_ptr(r));
	assert_ptr_equal(r->ops, &good_ops);
	assert_ptr_equal(r->opaque, &cookie);
	assert_string_equal(ms__region_type_name(r), "romd");
	assert_int_equal(ms_region_set_romd(r, false), 0);
	assert_false(ms_region_romd(r));
	assert_string_equal(ms__region_type_name(r), "i/o");
	assert_int_equal(ms_region_set_romd(r, true), 0);
	assert_true(ms_region_romd(r));
	ms_region_unref(r);
	ms_ctx_free(ctx);
}

static void test_rom_device_requires_ops(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *r = (ms_region *)&r;

	(void)state;
	assert_int_equal(
		ms_region_new_rom_device(
			&r, ctx,
			&(ms_region_io_opts){.name = "flash", .size = 0x1000, .ops = NULL}),
		-EINVAL);
	assert_null(r);
	assert_int_equal(live_regions(ctx), 0);
	ms_ctx_free(ctx);
}

static void test_ram_device_and_ram_ptr_use_the_callers_memory(void **state)
{
	static uint64_t bar[64], host[64];
	ms_ctx *ctx = new_ctx();
	ms_region *d, *p, *bad = (ms_region *)&bad;

	(void)state;
	assert_int_equal(ms_region_new_ram_device(&d, ctx, "bar0", sizeof(bar), bar), 0);
	assert_int_equal(ms_region_get_kind(d), MS_REGION_RAM_DEVICE);
	assert_ptr_equal(ms_region_ram_ptr(d), bar);
	assert_true(ms_region_is_terminating(d));
	assert_string_equal(ms__region_type_name(d), "ramd");
	assert_int_equal(ms_region_new_ram_ptr(&p, ctx, "host", sizeof(host), host), 0);
	assert_int_equal(ms_region_get_kind(p), MS_REGION_RAM_PTR);
	assert_ptr_equal(ms_region_ram_ptr(p), host);
	assert_string_equal(ms__region_type_name(p), "ram");

	assert_int_equal(ms_region_new_ram_device(&bad, ctx, "x", 8, NULL), -EINVAL);
	assert_null(bad);
	bad = (ms_region *)&bad;
	assert_int_equal(ms_region_new_ram_ptr(&bad, ctx, "x", 8, NULL), -EINVAL);
	assert_null(bad);
	ms_region_unref(d);
	ms_region_unref(p);
	assert_int_equal(live_regions(ctx), 0);
	ms_ctx_free(ctx);
}

static void test_alias_records_target_offset_and_prints_target_kind(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *rom, *al, *al2;

	(void)state;
	assert_int_equal(ms_region_new_rom(&rom, ctx, "bios", 0x10000), 0);
	assert_int_equal(region_refs(rom), 1);
	assert_int_equal(ms_region_new_alias(&al, ctx,
					     &(ms_region_alias_opts){.name = "bios.alias",
								     .target = rom,
								     .offset = 0x8000,
								     .size = 0x8000}),
			 0);
	assert_int_equal(ms_region_get_kind(al), MS_REGION_ALIAS);
	assert_ptr_equal(ms_region_alias_target(al), rom);
	assert_int_equal(ms_region_alias_offset(al), 0x8000);
	assert_int_equal(ms_region_size(al), 0x8000);
	assert_false(ms_region_is_terminating(al));
	assert_null(ms_region_ram_ptr(al));
	assert_int_equal(region_refs(rom), 2); /* the alias holds one */
	assert_string_equal(ms__region_type_name(al), "rom");
	/* An alias of an alias is fine; a window past the target too. */
	assert_int_equal(ms_region_new_alias(&al2, ctx,
					     &(ms_region_alias_opts){.name = "al2",
								     .target = al,
								     .offset = 0,
								     .size = 0x10000}),
			 0);
	assert_ptr_equal(ms_region_alias_target(al2), al);
	assert_string_equal(ms__region_type_name(al2), "rom");
	assert_int_equal(ms_region_set_alias_offset(al, 0x1000), 0);
	assert_int_equal(ms_region_alias_offset(al), 0x1000);
	ms_region_unref(al2);
	ms_region_unref(al);
	ms_region_unref(rom);
	assert_int_equal(live_regions(ctx), 0);
	ms_ctx_free(ctx);
}

static void test_iommu_is_terminating_and_needs_a_size(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *r, *bad = (ms_region *)&bad;

	(void)state;
	assert_int_equal(
		ms_iommu_new(&r, ctx, &(ms_iommu_opts){.name = "iommu", .size = MS_SIZE_2_64}), 0);
	assert_int_equal(ms_region_get_kind(r), MS_REGION_IOMMU);
	assert_true(ms_region_is_terminating(r));
	assert_int_equal(ms_region_size(r), MS_SIZE_2_64);
	assert_null(ms_region_ram_ptr(r));
	assert_int_equal(ms_iommu_new(&bad, ctx, &(ms_iommu_opts){.name = "iommu0", .size = 0}),
			 -EINVAL);
	assert_null(bad);
	assert_int_equal(ms_region_set_size(r, 0), -EINVAL);
	assert_int_equal(ms_region_size(r), MS_SIZE_2_64);
	assert_int_equal(ms_region_set_size(r, 0x1000), 0);
	assert_int_equal(ms_region_size(r), 0x1000);
	ms_region_unref(r);
	ms_ctx_free(ctx);
}

static void test_memory_kinds_refuse_size_zero(void **state)
{
	static char buf[16];
	ms_ctx *ctx = new_ctx();
	ms_region *r;

	(void)state;
	r = (ms_region *)&r;
	assert_int_equal(ms_region_new_ram(&r, ctx, "ram", 0), -EINVAL);
	assert_null(r);
	r = (ms_region *)&r;
	assert_int_equal(ms_region_new_rom(&r, ctx, "rom", 0), -EINVAL);
	assert_null(r);
	r = (ms_region *)&r;
	assert_int_equal(
		ms_region_new_rom_device(
			&r, ctx, &(ms_region_io_opts){.name = "romd", .size = 0, .ops = &good_ops}),
		-EINVAL);
	assert_null(r);
	r = (ms_region *)&r;
	assert_int_equal(ms_region_new_ram_device(&r, ctx, "ramd", 0, buf), -EINVAL);
	assert_null(r);
	r = (ms_region *)&r;
	assert_int_equal(ms_region_new_ram_ptr(&r, ctx, "ramp", 0, buf), -EINVAL);
	assert_null(r);
	assert_int_equal(live_regions(ctx), 0);
	ms_ctx_free(ctx);
}

static void test_ram_too_large_to_allocate_is_enomem(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *r = (ms_region *)&r;

	(void)state;
	assert_int_equal(ms_region_new_ram(&r, ctx, "huge", MS_SIZE_2_64), -ENOMEM);
	assert_null(r);
	r = (ms_region *)&r;
	assert_int_equal(ms_region_new_rom(&r, ctx, "huge", UINT64_MAX - 1), -ENOMEM);
	assert_null(r);
	assert_int_equal(live_regions(ctx), 0);
	ms_ctx_free(ctx);
}

static void test_constructors_refuse_null_arguments(void **state)
{
	static char buf[16];
	ms_ctx *ctx = new_ctx();
	ms_region *t, *r;

	(void)state;
	t = new_container(ctx, "t", 0x100);
	assert_int_equal(ms_region_new_container(NULL, ctx, "x", 1), -EINVAL);
	assert_int_equal(ms_region_new_ram(NULL, ctx, "x", 1), -EINVAL);
	assert_int_equal(
		ms_region_new_io(NULL, ctx,
				 &(ms_region_io_opts){.name = "x", .size = 1, .ops = NULL}),
		-EINVAL);
	assert_int_equal(
		ms_region_new_alias(
			NULL, ctx,
			&(ms_region_alias_opts){.name = "x", .target = t, .offset = 0, .size = 1}),
		-EINVAL);
	assert_int_equal(ms_iommu_new(NULL, ctx, &(ms_iommu_opts){.name = "x", .size = 1}),
			 -EINVAL);

	r = (ms_region *)&r;
	assert_int_equal(ms_region_new_container(&r, NULL, "x", 1), -EINVAL);
	assert_null(r);
	r = (ms_region *)&r;
	assert_int_equal(ms_region_new_container(&r, ctx, NULL, 1), -EINVAL);
	assert_null(r);
	r = (ms_region *)&r;
	assert_int_equal(
		ms_region_new_io(&r, ctx,
				 &(ms_region_io_opts){.name = NULL, .size = 1, .ops = &good_ops}),
		-EINVAL);
	assert_null(r);
	r = (ms_region *)&r;
	assert_int_equal(ms_region_new_ram(&r, NULL, "x", 1), -EINVAL);
	assert_null(r);
	r = (ms_region *)&r;
	assert_int_equal(ms_region_new_ram_ptr(&r, ctx, NULL, 8, buf), -EINVAL);
	assert_null(r);
	r = (ms_region *)&r;
	assert_int_equal(
		ms_region_new_alias(&r, ctx,
				    &(ms_region_alias_opts){
					    .name = "x", .target = NULL, .offset = 0, .size = 1}),
		-EINVAL);
	assert_null(r);
	r = (ms_region *)&r;
	assert_int_equal(
		ms_region_new_alias(
			&r, NULL,
			&(ms_region_alias_opts){.name = "x", .target = t, .offset = 0, .size = 1}),
		-EINVAL);
	assert_null(r);
	r = (ms_region *)&r;
	assert_int_equal(
		ms_region_new_alias(
			&r, ctx,
			&(ms_region_alias_opts){.name = NULL, .target = t, .offset = 0, .size = 1}),
		-EINVAL);
	assert_null(r);
	r = (ms_region *)&r;
	assert_int_equal(ms_iommu_new(&r, ctx, &(ms_iommu_opts){.name = NULL, .size = 1}), -EINVAL);
	assert_null(r);
	assert_int_equal(region_refs(t), 1);
	ms_region_unref(t);
	assert_int_equal(live_regions(ctx), 0);
	/* NULL is a no-op for ref and unref. */
	assert_null(ms_region_ref(NULL));
	ms_region_unref(NULL);
	ms_ctx_free(ctx);
}

static void test_owner_is_copied_and_clearable(void **state)
{
	ms_ctx *ctx = new_ctx();
	char owner[] = "pci-dev";
	ms_region *r;

	(void)state;
	r = new_container(ctx, "c", 0x100);
	assert_int_equal(ms_region_set_owner(r, owner), 0);
	owner[0] = 'X';
	assert_string_equal(ms_region_owner(r), "pci-dev");
	assert_int_equal(ms_region_set_owner(r, NULL), 0);
	assert_null(ms_region_owner(r));
	assert_int_equal(ms_region_set_owner(NULL, "x"), -EINVAL);
	ms_region_unref(r);
	ms_ctx_free(ctx);
}

/* ---- a small machine for the misuse tests -------------------------------- */

/*
 * root (container 0x10000, address space "as")
 *   ram0  RAM 0x1000 at 0
 *   box   container 0x1000 at 0x2000
 *     dev  I/O 0x100 at 0
 *   al    alias of ram0 (offset 0, 0x1000) at 0x4000
 * loose: an I/O region in no container.
 */
typedef struct world {
	ms_ctx *ctx;
	ms_region *root, *ram0, *box, *dev, *al, *loose;
	ms_as *as;
	strbuf before, after;
} world;

static const char world_view[] = "0000-0fff ram0 @0\n"
				 "2000-20ff dev @0\n"
				 "4000-4fff ram0 @0\n";

static int world_setup(void **state)
{
	world *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	w->ctx = new_ctx();
	w->root = new_container(w->ctx, "root", 0x10000);
	assert_int_equal(ms_region_new_ram(&w->ram0, w->ctx, "ram0", 0x1000), 0);
	w->box = new_container(w->ctx, "box", 0x1000);
	assert_int_equal(ms_region_new_io(&w->dev, w->ctx,
					  &(ms_region_io_opts){
						  .name = "dev", .size = 0x100, .ops = &good_ops}),
			 0);
	assert_int_equal(ms_region_new_alias(&w->al, w->ctx,
					     &(ms_region_alias_opts){.name = "al",
								     .target = w->ram0,
								     .offset = 0,
								     .size = 0x1000}),
			 0);
	assert_int_equal(
		ms_region_new_io(&w->loose, w->ctx,
				 &(ms_region_io_opts){.name = "loose", .size = 0x100, .ops = NULL}),
		0);
	w->as = new_as(w->ctx, w->root, "as");
	assert_int_equal(ms_region_add_subregion(w->root, 0, w->ram0), 0);
	assert_int_equal(ms_region_add_subregion(w->box, 0, w->dev), 0);
	assert_int_equal(ms_region_add_subregion(w->root, 0x2000, w->box), 0);
	assert_int_equal(ms_region_add_subregion(w->root, 0x4000, w->al), 0);
	assert_string_equal(as_view_str(&w->before, w->as), world_view);
	*state = w;
	return 0;
}

static int world_teardown(void **state)
{
	world *w = *state;

	ms_as_free(w->as);
	ms_region_unref(w->loose);
	ms_region_unref(w->al);
	ms_region_unref(w->dev);
	ms_region_unref(w->box);
	ms_region_unref(w->ram0);
	ms_region_unref(w->root);
	assert_int_equal(live_regions(w->ctx), 0);
	ms_ctx_free(w->ctx);
	free(w);
	return 0;
}

/* Tree, loose region and published view, as one string. */
static const char *world_snapshot(strbuf *sb, world *w)
{
	strbuf tmp;

	sb_reset(sb);
	sb_printf(sb, "%s\n", tree_str(&tmp, w->root));
	sb_printf(sb, "loose in %s at %" PRIx64 "/%d\n",
		  ms_region_container(w->loose) ? ms_region_name(ms_region_container(w->loose))
						: "-",
		  ms_region_addr(w->loose), ms_region_priority(w->loose));
	sb_printf(sb, "%s", as_view_str(&tmp, w->as));
	assert_int_equal(w->ctx->nr_touched, 0); /* no change left pending */
	return sb->text;
}

#define EXPECT_REFUSED(w, call, err)                                                     \
	do {                                                                             \
		world_snapshot(&(w)->before, (w));                                       \
		assert_int_equal((call), (err));                                         \
		assert_string_equal(world_snapshot(&(w)->after, (w)), (w)->before.text); \
	} while (0)

static void test_world_tree_and_view(void **state)
{
	world *w = *state;
	strbuf sb;

	assert_string_equal(tree_str(&sb, w->root),
			    "root@0/0{al@4000/0,box@2000/0{dev@0/0},ram0@0/0}");
	assert_ptr_equal(ms_region_container(w->dev), w->box);
	assert_ptr_equal(ms_region_container(w->box), w->root);
	assert_null(ms_region_container(w->root));
}

static void test_add_region_that_has_a_container_is_ebusy(void **state)
{
	world *w = *state;

	EXPECT_REFUSED(w, ms_region_add_subregion(w->root, 0x8000, w->dev), -EBUSY);
	EXPECT_REFUSED(w, ms_region_add_subregion_overlap(w->box, 0x80, w->dev, 3), -EBUSY);
	EXPECT_REFUSED(w, ms_region_add_subregion(w->box, 0x800, w->ram0), -EBUSY);
	assert_ptr_equal(ms_region_container(w->dev), w->box);
}

static void test_add_subregion_to_an_alias_is_einval(void **state)
{
	world *w = *state;

	EXPECT_REFUSED(w, ms_region_add_subregion(w->al, 0, w->loose), -EINVAL);
	assert_null(ms_region_container(w->loose));
	assert_int_equal(ms_region_nr_subregions(w->al), 0);
}

static void test_add_region_to_itself_is_einval(void **state)
{
	world *w = *state;

	EXPECT_REFUSED(w, ms_region_add_subregion(w->loose, 0, w->loose), -EINVAL);
	EXPECT_REFUSED(w, ms_region_add_subregion(w->box, 0, w->box), -EINVAL);
}

static void test_add_region_into_its_own_descendant_is_eloop(void **state)
{
	world *w = *state;
	ms_region *a, *b, *c;
	strbuf sb;

	/* root is the container of box: root into box would be a cycle. */
	EXPECT_REFUSED(w, ms_region_add_subregion(w->box, 0x10, w->root), -ELOOP);
	/* A three-level chain outside any address space. */
	a = new_container(w->ctx, "a", 0x100);
	b = new_container(w->ctx, "b", 0x100);
	c = new_container(w->ctx, "c", 0x100);
	assert_int_equal(ms_region_add_subregion(a, 0, b), 0);
	assert_int_equal(ms_region_add_subregion(b, 0, c), 0);
	EXPECT_REFUSED(w, ms_region_add_subregion(c, 0, a), -ELOOP);
	assert_string_equal(tree_str(&sb, a), "a@0/0{b@0/0{c@0/0}}");
	assert_null(ms_region_container(a));
	ms_region_unref(c);
	ms_region_unref(b);
	ms_region_unref(a);
}

static void test_regions_of_two_contexts_never_mix(void **state)
{
	world *w = *state;
	ms_ctx *other = new_ctx();
	ms_region *foreign, *alias = (ms_region *)&alias;
	ms_as *as = (ms_as *)&as;

	foreign = new_container(other, "foreign", 0x100);
	EXPECT_REFUSED(w, ms_region_add_subregion(w->root, 0x8000, foreign), -EXDEV);
	EXPECT_REFUSED(w, ms_region_add_subregion(foreign, 0, w->loose), -EXDEV);
	EXPECT_REFUSED(w, ms_region_add_subregion_overlap(foreign, 0, w->loose, 1), -EXDEV);
	EXPECT_REFUSED(w, ms_region_del_subregion(foreign, w->ram0), -EXDEV);
	EXPECT_REFUSED(w,
		       ms_region_new_alias(
			       &alias, w->ctx,
			       &(ms_region_alias_opts){
				       .name = "x", .target = foreign, .offset = 0, .size = 0x10}),
		       -EXDEV);
	assert_null(alias);
	EXPECT_REFUSED(w, ms_as_new(&as, w->ctx, foreign, "x"), -EXDEV);
	assert_null(as);
	assert_int_equal(ms_ctx_nr_as(w->ctx), 1);
	assert_int_equal(ms_ctx_nr_as(other), 0);
	assert_int_equal(ms_region_nr_subregions(foreign), 0);
	assert_int_equal(region_refs(foreign), 1);
	ms_region_unref(foreign);
	assert_int_equal(live_regions(other), 0);
	ms_ctx_free(other);
}

static void test_del_of_a_non_child_is_enoent(void **state)
{
	world *w = *state;

	EXPECT_REFUSED(w, ms_region_del_subregion(w->root, w->loose), -ENOENT);
	EXPECT_REFUSED(w, ms_region_del_subregion(w->root, w->dev), -ENOENT); /* grandchild */
	EXPECT_REFUSED(w, ms_region_del_subregion(w->box, w->ram0), -ENOENT); /* sibling's */
	EXPECT_REFUSED(w, ms_region_del_subregion(w->root, w->root), -ENOENT);
}

static void test_property_setters_refuse_wrong_kinds(void **state)
{
	world *w = *state;

	EXPECT_REFUSED(w, ms_region_set_alias_offset(w->ram0, 0x10), -EINVAL);
	EXPECT_REFUSED(w, ms_region_set_alias_offset(w->box, 0x10), -EINVAL);
	EXPECT_REFUSED(w, ms_region_set_romd(w->ram0, false), -EINVAL);
	EXPECT_REFUSED(w, ms_region_set_romd(w->dev, true), -EINVAL);
	EXPECT_REFUSED(w, ms_region_set_size(w->ram0, 0x2000), -EINVAL);
	EXPECT_REFUSED(w, ms_region_set_size(w->ram0, 0x800), -EINVAL);
	EXPECT_REFUSED(w, ms_region_set_size(w->ram0, 0), -EINVAL);
	EXPECT_REFUSED(w, ms_region_set_priority(w->loose, 1), -EINVAL);
	EXPECT_REFUSED(w, ms_region_set_priority(w->root, 0), -EINVAL);
	assert_int_equal(ms_region_priority(w->loose), 0);
	assert_int_equal(ms_region_size(w->ram0), 0x1000);
	assert_false(ms_region_romd(w->ram0));
	/* Setting RAM to its own size is not a change. */
	EXPECT_REFUSED(w, ms_region_set_size(w->ram0, 0x1000), 0);
}

static void test_memory_kinds_cannot_be_resized(void **state)
{
	static char buf[0x100];
	ms_ctx *ctx = new_ctx();
	ms_region *r[5];
	size_t i;

	(void)state;
	assert_int_equal(ms_region_new_ram(&r[0], ctx, "ram", 0x100), 0);
	assert_int_equal(ms_region_new_rom(&r[1], ctx, "rom", 0x100), 0);
	assert_int_equal(
		ms_region_new_rom_device(
			&r[2], ctx,
			&(ms_region_io_opts){.name = "romd", .size = 0x100, .ops = &good_ops}),
		0);
	assert_int_equal(ms_region_new_ram_device(&r[3], ctx, "ramd", 0x100, buf), 0);
	assert_int_equal(ms_region_new_ram_ptr(&r[4], ctx, "ramp", 0x100, buf), 0);
	for (i = 0; i < 5; i++) {
		assert_int_equal(ms_region_set_size(r[i], 0x200), -EINVAL);
		assert_int_equal(ms_region_set_size(r[i], MS_SIZE_2_64), -EINVAL);
		assert_int_equal(ms_region_size(r[i]), 0x100);
		ms_region_unref(r[i]);
	}
	ms_ctx_free(ctx);
}

static void test_resizable_kinds_accept_any_size(void **state)
{
	world *w = *state;

	assert_int_equal(ms_region_set_size(w->box, 0), 0);
	assert_int_equal(ms_region_size(w->box), 0);
	assert_int_equal(ms_region_set_size(w->dev, MS_SIZE_2_64), 0);
	assert_int_equal(ms_region_size(w->dev), MS_SIZE_2_64);
	assert_int_equal(ms_region_set_size(w->al, 0x800), 0);
	assert_int_equal(ms_region_size(w->al), 0x800);
	assert_string_equal(as_view_str(&w->after, w->as), "0000-0fff ram0 @0\n"
							   "4000-47ff ram0 @0\n");
	assert_int_equal(ms_region_set_size(w->box, 0x100), 0);
	assert_string_equal(as_view_str(&w->after, w->as), "0000-0fff ram0 @0\n"
							   "2000-20ff dev @0\n"
							   "4000-47ff ram0 @0\n");
}

static void test_dirty_log_only_on_ram_backed_regions_and_clients_0_to_7(void **state)
{
	world *w = *state;
	ms_region *iommu;

	assert_int_equal(
		ms_iommu_new(&iommu, w->ctx, &(ms_iommu_opts){.name = "iommu", .size = 0x1000}), 0);
	EXPECT_REFUSED(w, ms_region_set_dirty_log(w->dev, 0, true), -EINVAL);
	EXPECT_REFUSED(w, ms_region_set_dirty_log(w->box, 0, true), -EINVAL);
	EXPECT_REFUSED(w, ms_region_set_dirty_log(w->al, 0, true), -EINVAL);
	EXPECT_REFUSED(w, ms_region_set_dirty_log(w->root, 0, true), -EINVAL);
	EXPECT_REFUSED(w, ms_region_set_dirty_log(iommu, 0, true), -EINVAL);
	EXPECT_REFUSED(w, ms_region_set_dirty_log(w->ram0, 8, true), -EINVAL);
	EXPECT_REFUSED(w, ms_region_set_dirty_log(w->ram0, 8, false), -EINVAL);
	EXPECT_REFUSED(w, ms_region_set_dirty_log(NULL, 0, true), -EINVAL);
	assert_int_equal(ms_region_set_dirty_log(w->ram0, 7, true), 0);
	assert_string_equal(as_view_str(&w->after, w->as), "0000-0fff ram0 @0 log=80\n"
							   "2000-20ff dev @0\n"
							   "4000-4fff ram0 @0 log=80\n");
	ms_region_unref(iommu);
}

static void test_mutations_refuse_null(void **state)
{
	world *w = *state;

	EXPECT_REFUSED(w, ms_region_add_subregion(NULL, 0, w->loose), -EINVAL);
	EXPECT_REFUSED(w, ms_region_add_subregion(w->root, 0, NULL), -EINVAL);
	EXPECT_REFUSED(w, ms_region_add_subregion_overlap(NULL, 0, NULL, 0), -EINVAL);
	EXPECT_REFUSED(w, ms_region_del_subregion(NULL, w->ram0), -EINVAL);
	EXPECT_REFUSED(w, ms_region_del_subregion(w->root, NULL), -EINVAL);
	EXPECT_REFUSED(w, ms_region_set_address(NULL, 0), -EINVAL);
	EXPECT_REFUSED(w, ms_region_set_size(NULL, 0), -EINVAL);
	EXPECT_REFUSED(w, ms_region_set_enabled(NULL, false), -EINVAL);
	EXPECT_REFUSED(w, ms_region_set_readonly(NULL, true), -EINVAL);
	EXPECT_REFUSED(w, ms_region_set_nonvolatile(NULL, true), -EINVAL);
	EXPECT_REFUSED(w, ms_region_set_unmergeable(NULL, true), -EINVAL);
	EXPECT_REFUSED(w, ms_region_set_alias_offset(NULL, 0), -EINVAL);
	EXPECT_REFUSED(w, ms_region_set_romd(NULL, true), -EINVAL);
	EXPECT_REFUSED(w, ms_region_set_priority(NULL, 1), -EINVAL);
}

/* ---- subregion list order ----------------------------------------------- */

static void test_subregions_are_sorted_by_priority_descending(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *c, *a, *b, *m, *d, *e;
	strbuf sb;

	(void)state;
	c = new_container(ctx, "c", 0x1000);
	a = new_io(ctx, "a", 0x10);
	b = new_io(ctx, "b", 0x10);
	m = new_io(ctx, "m", 0x10);
	d = new_io(ctx, "d", 0x10);
	e = new_io(ctx, "e", 0x10);
	assert_int_equal(ms_region_add_subregion_overlap(c, 0x000, a, 0), 0);
	assert_int_equal(ms_region_add_subregion_overlap(c, 0x100, b, 5), 0);
	assert_int_equal(ms_region_add_subregion_overlap(c, 0x200, m, -1), 0);
	assert_int_equal(ms_region_add_subregion_overlap(c, 0x300, d, 5), 0);
	assert_int_equal(ms_region_add_subregion(c, 0x400, e), 0);
	assert_string_equal(subs_str(&sb, c), "d,b,e,a,m");
	assert_int_equal(ms_region_priority(b), 5);
	assert_int_equal(ms_region_priority(m), -1);
	assert_int_equal(ms_region_addr(d), 0x300);
	ms_region_unref(a);
	ms_region_unref(b);
	ms_region_unref(m);
	ms_region_unref(d);
	ms_region_unref(e);
	ms_region_unref(c);
	assert_int_equal(live_regions(ctx), 0);
	ms_ctx_free(ctx);
}

static void test_equal_priority_later_added_wins_the_overlap(void **state)
{
	rig m = rig_new(0x10000);
	ms_region *first, *second, *low;
	strbuf sb;

	(void)state;
	first = new_ram(m.ctx, "first", 0x2000);
	second = new_ram(m.ctx, "second", 0x1000);
	low = new_ram(m.ctx, "low", 0x4000);
	assert_int_equal(ms_region_add_subregion(m.root, 0, first), 0);
	assert_int_equal(ms_region_add_subregion(m.root, 0x1800, second), 0);
	assert_int_equal(ms_region_add_subregion_overlap(m.root, 0, low, -1), 0);
	assert_string_equal(subs_str(&sb, m.root), "second,first,low");
	assert_string_equal(as_view_str(&sb, m.as), "0000-17ff first @0\n"
						    "1800-27ff second @0\n"
						    "2800-3fff low @2800\n");
	ms_region_unref(first);
	ms_region_unref(second);
	ms_region_unref(low);
	rig_free(&m);
}

static void test_set_address_readds_in_front_of_equal_priorities(void **state)
{
	rig m = rig_new(0x10000);
	ms_region *a, *b, *c, *hi;
	strbuf sb;

	(void)state;
	a = new_ram(m.ctx, "a", 0x1000);
	b = new_ram(m.ctx, "b", 0x1000);
	c = new_ram(m.ctx, "c", 0x1000);
	hi = new_io(m.ctx, "hi", 0x10);
	assert_int_equal(ms_region_add_subregion_overlap(m.root, 0x8000, hi, 1), 0);
	assert_int_equal(ms_region_add_subregion(m.root, 0x0000, a), 0);
	assert_int_equal(ms_region_add_subregion(m.root, 0x2000, b), 0);
	assert_int_equal(ms_region_add_subregion(m.root, 0x4000, c), 0);
	assert_string_equal(subs_str(&sb, m.root), "hi,c,b,a");
	/* Moving a onto b: a is re-added, so it is first among equals and wins. */
	assert_int_equal(ms_region_set_address(a, 0x2800), 0);
	assert_int_equal(ms_region_addr(a), 0x2800);
	assert_string_equal(subs_str(&sb, m.root), "hi,a,c,b");
	assert_string_equal(as_view_str(&sb, m.as), "2000-27ff b @0\n"
						    "2800-37ff a @0\n"
						    "4000-4fff c @0\n"
						    "8000-800f hi @0\n");
	/* The same address is no move: the order stays. */
	assert_int_equal(ms_region_set_address(b, 0x2000), 0);
	assert_string_equal(subs_str(&sb, m.root), "hi,a,c,b");
	/* Moving b re-adds it in front of a (never in front of a higher priority). */
	assert_int_equal(ms_region_set_address(b, 0x3000), 0);
	assert_string_equal(subs_str(&sb, m.root), "hi,b,a,c");
	assert_string_equal(as_view_str(&sb, m.as), "2800-2fff a @0\n"
						    "3000-3fff b @0\n"
						    "4000-4fff c @0\n"
						    "8000-800f hi @0\n");
	/* A region without a container just records its address. */
	assert_int_equal(ms_region_del_subregion(m.root, c), 0);
	assert_int_equal(ms_region_set_address(c, 0x1234), 0);
	assert_int_equal(ms_region_addr(c), 0x1234);
	assert_null(ms_region_container(c));
	ms_region_unref(a);
	ms_region_unref(b);
	ms_region_unref(c);
	ms_region_unref(hi);
	rig_free(&m);
}

static void test_set_priority_reorders_siblings(void **state)
{
	rig m = rig_new(0x10000);
	ms_region *a, *b, *c;
	strbuf sb;

	(void)state;
	a = new_ram(m.ctx, "a", 0x1000);
	b = new_ram(m.ctx, "b", 0x1000);
	c = new_ram(m.ctx, "c", 0x1000);
	assert_int_equal(ms_region_add_subregion_overlap(m.root, 0, a, 2), 0);
	assert_int_equal(ms_region_add_subregion_overlap(m.root, 0, b, 1), 0);
	assert_int_equal(ms_region_add_subregion_overlap(m.root, 0, c, 0), 0);
	assert_string_equal(subs_str(&sb, m.root), "a,b,c");
	assert_string_equal(as_view_str(&sb, m.as), "0000-0fff a @0\n");
	assert_int_equal(ms_region_set_priority(c, 10), 0);
	assert_int_equal(ms_region_priority(c), 10);
	assert_string_equal(subs_str(&sb, m.root), "c,a,b");
	assert_string_equal(as_view_str(&sb, m.as), "0000-0fff c @0\n");
	/* Equal to a's priority: re-added, so in front of a. */
	assert_int_equal(ms_region_set_priority(b, 2), 0);
	assert_string_equal(subs_str(&sb, m.root), "c,b,a");
	assert_int_equal(ms_region_set_priority(c, -3), 0);
	assert_string_equal(subs_str(&sb, m.root), "b,a,c");
	assert_string_equal(as_view_str(&sb, m.as), "0000-0fff b @0\n");
	/* Same priority: no change, no reorder. */
	assert_int_equal(ms_region_set_priority(a, 2), 0);
	assert_string_equal(subs_str(&sb, m.root), "b,a,c");
	ms_region_unref(a);
	ms_region_unref(b);
	ms_region_unref(c);
	rig_free(&m);
}

/* ---- reference counting ------------------------------------------------- */

static void test_unrefd_region_lives_in_its_container_until_removed(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *c, *r, *inside;

	(void)state;
	c = new_container(ctx, "c", 0x1000);
	r = new_ram(ctx, "r", 0x100);
	assert_int_equal(ms_region_add_subregion(c, 0x100, r), 0);
	ms_region_unref(r); /* only the container holds it now */
	assert_int_equal(live_regions(ctx), 2);
	inside = ms_region_subregion(c, 0);
	assert_string_equal(ms_region_name(inside), "r");
	assert_int_equal(ms_region_addr(inside), 0x100);
	assert_int_equal(ms_region_del_subregion(c, inside), 0);
	assert_int_equal(live_regions(ctx), 1);
	assert_int_equal(ms_region_nr_subregions(c), 0);
	ms_region_unref(c);
	assert_int_equal(live_regions(ctx), 0);
	ms_ctx_free(ctx);
}

static void test_freeing_a_container_releases_its_subregions(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *c, *inner, *r;

	(void)state;
	c = new_container(ctx, "c", 0x1000);
	inner = new_container(ctx, "inner", 0x100);
	r = new_ram(ctx, "r", 0x10);
	assert_int_equal(ms_region_add_subregion(inner, 0, r), 0);
	assert_int_equal(ms_region_add_subregion(c, 0, inner), 0);
	ms_region_unref(r);
	ms_region_unref(inner);
	assert_int_equal(live_regions(ctx), 3);
	ms_region_unref(c);
	assert_int_equal(live_regions(ctx), 0);
	ms_ctx_free(ctx);
}

static void test_alias_keeps_its_target_alive(void **state)
{
	rig m = rig_new(0x10000);
	ms_region *r, *al;
	strbuf sb;

	(void)state;
	r = new_ram(m.ctx, "r", 0x1000);
	assert_int_equal(ms_region_new_alias(&al, m.ctx,
					     &(ms_region_alias_opts){.name = "al",
								     .target = r,
								     .offset = 0x800,
								     .size = 0x800}),
			 0);
	ms_region_unref(r);
	assert_int_equal(ms_region_add_subregion(m.root, 0x4000, al), 0);
	assert_string_equal(as_view_str(&sb, m.as), "4000-47ff r @800\n");
	assert_int_equal(ms_region_del_subregion(m.root, al), 0);
	assert_int_equal(live_regions(m.ctx), 3);
	ms_region_unref(al);
	assert_int_equal(live_regions(m.ctx), 1);
	rig_free(&m);
}

static void test_removed_region_stays_readable_through_a_held_view(void **state)
{
	rig m = rig_new(0x10000);
	ms_region *r;
	ms_flatview *old_view;
	unsigned char *mem;
	ms_section s;
	strbuf sb;

	(void)state;
	r = new_ram(m.ctx, "r", 0x1000);
	mem = ms_region_ram_ptr(r);
	memset(mem, 0x5a, 0x1000);
	assert_int_equal(ms_region_add_subregion(m.root, 0x3000, r), 0);
	old_view = ms_as_get_flatview(m.as);
	assert_int_equal(ms_region_del_subregion(m.root, r), 0);
	ms_region_unref(r); /* only the held view references it now */
	assert_string_equal(as_view_str(&sb, m.as), "");
	assert_int_equal(live_regions(m.ctx), 2);

	assert_int_equal(ms_flatview_find(&s, old_view, 0x3010), 0);
	assert_string_equal(ms_region_name(s.region), "r");
	assert_int_equal(s.offset_in_region, 0);
	assert_int_equal(ms_region_size(s.region), 0x1000);
	mem = ms_region_ram_ptr(s.region);
	assert_int_equal(mem[0], 0x5a);
	assert_int_equal(mem[0xfff], 0x5a);
	ms_flatview_unref(old_view);
	assert_int_equal(live_regions(m.ctx), 1);

	rig_free(&m);
}

/* ---- alias cycles through containment ------------------------------------ */

/* root (container 0x1000, address space "as") with RAM "ram" at 0 (0x100). */
typedef struct loop_world {
	ms_ctx *ctx;
	ms_region *root, *ram;
	ms_as *as;
	strbuf before, after;
} loop_world;

static void loop_world_init(loop_world *w)
{
	w->ctx = new_ctx();
	w->root = new_container(w->ctx, "root", 0x1000);
	w->ram = new_ram(w->ctx, "ram", 0x100);
	assert_int_equal(ms_region_add_subregion(w->root, 0, w->ram), 0);
	w->as = new_as(w->ctx, w->root, "as");
}

static void loop_world_fini(loop_world *w)
{
	ms_as_free(w->as);
	ms_region_unref(w->ram);
	ms_region_unref(w->root);
	assert_int_equal(live_regions(w->ctx), 0);
	ms_ctx_free(w->ctx);
}

static const char *loop_snapshot(strbuf *sb, loop_world *w, ms_region *al)
{
	strbuf tmp;

	sb_reset(sb);
	sb_printf(sb, "%s\n", tree_str(&tmp, w->root));
	sb_printf(sb, "%s at %" PRIx64 " size %" PRIx64 " offset %" PRIx64 "%s in %s\n",
		  ms_region_name(al), ms_region_addr(al), ms_region_size(al),
		  ms_region_alias_offset(al), ms_region_enabled(al) ? "" : " (off)",
		  ms_region_container(al) ? ms_region_name(ms_region_container(al)) : "-");
	sb_printf(sb, "%s", as_view_str(&tmp, w->as));
	assert_int_equal(w->ctx->nr_touched, 0);
	return sb->text;
}

static void test_alias_covering_its_own_container_is_eloop(void **state)
{
	loop_world w;
	ms_region *al, *more;
	uint64_t renders;
	strbuf sb;

	(void)state;
	loop_world_init(&w);
	assert_int_equal(ms_region_new_alias(&al, w.ctx,
					     &(ms_region_alias_opts){.name = "self",
								     .target = w.root,
								     .offset = 0,
								     .size = 0x1000}),
			 0);
	loop_snapshot(&w.before, &w, al);
	renders = ms_ctx_render_count(w.ctx);
	assert_int_equal(ms_region_add_subregion(w.root, 0, al), -ELOOP);
	assert_string_equal(loop_snapshot(&w.after, &w, al), w.before.text);
	assert_string_equal(as_view_str(&sb, w.as), "0000-00ff ram @0\n");
	assert_int_equal(ms_ctx_render_count(w.ctx), renders);
	assert_int_equal(region_refs(al), 1);

	/* The context still works: the next change commits normally. */
	more = new_ram(w.ctx, "more", 0x100);
	assert_int_equal(ms_region_add_subregion(w.root, 0x800, more), 0);
	assert_string_equal(as_view_str(&sb, w.as), "0000-00ff ram @0\n"
						    "0800-08ff more @0\n");
	assert_int_equal(ms_region_del_subregion(w.root, more), 0);
	ms_region_unref(more);
	ms_region_unref(al);
	loop_world_fini(&w);
}

static void test_alias_loop_through_flatview_root_is_eloop(void **state)
{
	/* The alias is the container's only child: the flatview-root walk
	 * (container -> only child -> alias target -> ...) must not spin. */
	ms_ctx *ctx = new_ctx();
	ms_region *c, *al;
	ms_as *as;
	strbuf sb;

	(void)state;
	c = new_container(ctx, "c", 0x1000);
	as = new_as(ctx, c, "as");
	assert_int_equal(ms_region_new_alias(
				 &al, ctx,
				 &(ms_region_alias_opts){
					 .name = "self", .target = c, .offset = 0, .size = 0x1000}),
			 0);
	assert_int_equal(ms_region_add_subregion(c, 0, al), -ELOOP);
	assert_int_equal(ms_region_nr_subregions(c), 0);
	assert_null(ms_region_container(al));
	assert_string_equal(as_view_str(&sb, as), "");
	assert_null(ms_as_flatview_root(as));
	ms_as_free(as);
	ms_region_unref(al);
	ms_region_unref(c);
	assert_int_equal(live_regions(ctx), 0);
	ms_ctx_free(ctx);
}

static void test_alias_loop_through_a_nested_container_is_eloop(void **state)
{
	loop_world w;
	ms_region *inner, *al;
	strbuf sb;

	(void)state;
	loop_world_init(&w);
	assert_int_equal(ms_region_new_container(&inner, w.ctx, "inner", 0x800), 0);
	assert_int_equal(ms_region_add_subregion(w.root, 0x400, inner), 0);
	assert_int_equal(ms_region_new_alias(&al, w.ctx,
					     &(ms_region_alias_opts){.name = "back",
								     .target = w.root,
								     .offset = 0x400,
								     .size = 0x400}),
			 0);
	loop_snapshot(&w.before, &w, al);
	/* At 0x400 the alias shows root[0x400, 0x800) in place: inner again. */
	assert_int_equal(ms_region_add_subregion(inner, 0, al), -ELOOP);
	assert_string_equal(loop_snapshot(&w.after, &w, al), w.before.text);
	assert_string_equal(tree_str(&sb, w.root), "root@0/0{inner@400/0,ram@0/0}");
	assert_int_equal(ms_region_del_subregion(w.root, inner), 0);
	ms_region_unref(inner);
	ms_region_unref(al);
	loop_world_fini(&w);
}

static void test_mutations_that_would_close_an_alias_loop_are_undone(void **state)
{
	loop_world w;
	ms_region *al;
	strbuf sb;

	(void)state;
	loop_world_init(&w);
	/* At 0x800 with a 0x800 window from offset 0 the alias shows root[0,
	 * 0x800): the ram at 0x800, and itself shifted out of the window. */
	assert_int_equal(ms_region_new_alias(&al, w.ctx,
					     &(ms_region_alias_opts){.name = "win",
								     .target = w.root,
								     .offset = 0,
								     .size = 0x800}),
			 0);
	assert_int_equal(ms_region_add_subregion(w.root, 0x800, al), 0);
	assert_string_equal(as_view_str(&sb, w.as), "0000-00ff ram @0\n"
						    "0800-08ff ram @0\n");
	loop_snapshot(&w.before, &w, al);
	/* Window offset 0x800 maps root[0x800, 0x1000): the alias itself. */
	assert_int_equal(ms_region_set_alias_offset(al, 0x800), -ELOOP);
	assert_string_equal(loop_snapshot(&w.after, &w, al), w.before.text);
	/* At 0 the window covers itself. */
	assert_int_equal(ms_region_set_address(al, 0), -ELOOP);
	assert_string_equal(loop_snapshot(&w.after, &w, al), w.before.text);
	assert_int_equal(ms_region_set_priority(al, 1), 0);
	assert_int_equal(ms_region_set_priority(al, 0), 0);
	/* Disabled, it may move anywhere; enabling it is what closes the loop. */
	assert_int_equal(ms_region_set_enabled(al, false), 0);
	assert_int_equal(ms_region_set_address(al, 0), 0);
	assert_string_equal(as_view_str(&sb, w.as), "0000-00ff ram @0\n");
	loop_snapshot(&w.before, &w, al);
	assert_int_equal(ms_region_set_enabled(al, true), -ELOOP);
	assert_string_equal(loop_snapshot(&w.after, &w, al), w.before.text);
	assert_false(ms_region_enabled(al));

	assert_int_equal(ms_region_del_subregion(w.root, al), 0);
	ms_region_unref(al);
	loop_world_fini(&w);
}

static void test_alias_loop_outside_any_address_space_is_found_at_as_new(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *c, *al;
	ms_as *as = (ms_as *)&as;
	uint64_t renders;

	(void)state;
	c = new_container(ctx, "c", 0x1000);
	assert_int_equal(ms_region_new_alias(
				 &al, ctx,
				 &(ms_region_alias_opts){
					 .name = "self", .target = c, .offset = 0, .size = 0x1000}),
			 0);
	/* Nothing renders c yet, so nothing can loop. */
	assert_int_equal(ms_region_add_subregion(c, 0, al), 0);
	renders = ms_ctx_render_count(ctx);
	assert_int_equal(ms_as_new(&as, ctx, c, "as"), -ELOOP);
	assert_null(as);
	assert_int_equal(ms_ctx_nr_as(ctx), 0);
	assert_int_equal(ms_ctx_render_count(ctx), renders);
	assert_int_equal(region_refs(c), 1 + 1); /* caller + alias */
	assert_int_equal(ms_region_del_subregion(c, al), 0);
	as = new_as(ctx, c, "as");
	ms_as_free(as);
	ms_region_unref(al);
	ms_region_unref(c);
	assert_int_equal(live_regions(ctx), 0);
	ms_ctx_free(ctx);
}

static void test_shifting_alias_onto_its_own_container_renders(void **state)
{
	/*
	 * QEMU's arm-mps2-an505: "alias 1" at 0x10000000, 0x10000000 bytes of
	 * the system container from offset 0. The window shows the system's
	 * first 256 MiB again; the alias itself lands outside its own window,
	 * so rendering ends after one step.
	 */
	ms_ctx *ctx = new_ctx();
	ms_region *sys, *sram, *uart, *ssram, *al;
	ms_section s;
	ms_flatview *fv;
	ms_as *as;
	strbuf sb;

	(void)state;
	sys = new_container(ctx, "system", MS_SIZE_2_64);
	as = new_as(ctx, sys, "memory");
	sram = new_ram(ctx, "sram", 0x1000);
	assert_int_equal(ms_region_new_io(&uart, ctx,
					  &(ms_region_io_opts){
						  .name = "uart", .size = 0x100, .ops = &good_ops}),
			 0);
	ssram = new_ram(ctx, "ssram", 0x80);
	assert_int_equal(ms_region_new_alias(&al, ctx,
					     &(ms_region_alias_opts){.name = "alias 1",
								     .target = sys,
								     .offset = 0,
								     .size = 0x10000000}),
			 0);
	assert_int_equal(ms_region_add_subregion(sys, 0, sram), 0);
	assert_int_equal(ms_region_add_subregion(sys, 0x2000, uart), 0);
	assert_int_equal(ms_region_add_subregion_overlap(sys, 0x10000000, al, -1), 0);
	assert_int_equal(ms_region_add_subregion(sys, 0x10002000, ssram), 0);
	assert_string_equal(as_view_str(&sb, as), "0000-0fff sram @0\n"
						  "2000-20ff uart @0\n"
						  "10000000-10000fff sram @0\n"
						  "10002000-1000207f ssram @0\n"
						  "10002080-100020ff uart @80\n");
	assert_ptr_equal(ms_as_flatview_root(as), sys);
	fv = ms_as_get_flatview(as);
	assert_int_equal(ms_flatview_find(&s, fv, 0x100020ff), 0);
	assert_ptr_equal(s.region, uart);
	assert_int_equal(s.offset_in_region, 0x80);
	ms_flatview_unref(fv);
	/* A smaller shift nests three windows, and still ends. */
	assert_int_equal(ms_region_set_size(al, 0x3000), 0);
	assert_int_equal(ms_region_set_address(al, 0x1000), 0);
	assert_string_equal(as_view_str(&sb, as), "0000-0fff sram @0\n"
						  "1000-1fff sram @0\n"
						  "2000-20ff uart @0\n"
						  "2100-2fff sram @100\n"
						  "3000-30ff uart @0\n"
						  "3100-3fff sram @100\n"
						  "10002000-1000207f ssram @0\n");
	ms_as_free(as);
	/* The alias and its container reference each other: break the cycle. */
	assert_int_equal(ms_region_del_subregion(sys, al), 0);
	ms_region_unref(sram);
	ms_region_unref(uart);
	ms_region_unref(ssram);
	ms_region_unref(al);
	ms_region_unref(sys);
	assert_int_equal(live_regions(ctx), 0);
	ms_ctx_free(ctx);
}

static void test_alias_inside_its_own_target_is_a_reference_cycle(void **state)
{
	/*
	 * The container holds the alias, the alias holds the container: once the
	 * caller drops both, neither is reachable, yet both stay allocated until
	 * the alias is removed or the context is freed (which frees them).
	 */
	ms_ctx *ctx = new_ctx();
	ms_region *c, *al;

	(void)state;
	c = new_container(ctx, "c", 0x2000);
	assert_int_equal(ms_region_new_alias(
				 &al, ctx,
				 &(ms_region_alias_opts){
					 .name = "al", .target = c, .offset = 0, .size = 0x1000}),
			 0);
	assert_int_equal(ms_region_add_subregion(c, 0x1000, al), 0);
	ms_region_unref(al);
	ms_region_unref(c);
	assert_int_equal(live_regions(ctx), 2);
	ms_ctx_free(ctx);
}

/*
 * Rendering depth is bounded by MS_RENDER_MAX_DEPTH (1024) to stop alias
 * loops. A finite shifting chain of 256 levels, or 300 levels of plain
 * nesting, stays within the bound and must render.
 */
static void test_finite_shifting_alias_chain_renders_past_the_depth_bound(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *c, *r, *al;
	strbuf got, expected;
	ms_flatview *fv;
	ms_as *as;
	size_t k;
	int rc;

	(void)state;
	c = new_container(ctx, "c", 0x10000);
	as = new_as(ctx, c, "as");
	r = new_ram(ctx, "r", 0x100);
	assert_int_equal(ms_region_add_subregion(c, 0, r), 0);
	/* Each level shows c again 0x100 higher: 255 levels, then the window is empty. */
	assert_int_equal(ms_region_new_alias(&al, ctx,
					     &(ms_region_alias_opts){.name = "shift",
								     .target = c,
								     .offset = 0,
								     .size = 0xff00}),
			 0);
	rc = ms_region_add_subregion(c, 0x100, al);
	sb_reset(&expected);
	for (k = 0; k < 0x100; k++)
		sb_printf(&expected, "%04zx-%04zx r @0\n", k * 0x100, k * 0x100 + 0xff);
	fv = ms_as_get_flatview(as);
	view_str(&got, fv);
	ms_flatview_unref(fv);
	/* Clean up first, so that a failure below leaks nothing. */
	if (rc == 0)
		assert_int_equal(ms_region_del_subregion(c, al), 0);
	ms_as_free(as);
	ms_region_unref(al);
	ms_region_unref(r);
	ms_region_unref(c);
	assert_int_equal(live_regions(ctx), 0);
	ms_ctx_free(ctx);
	assert_int_equal(rc, 0);
	assert_string_equal(got.text, expected.text);
}

static void test_deep_nesting_without_aliases_renders(void **state)
{
	enum {
		LEVELS = 300
	};
	ms_ctx *ctx = new_ctx();
	ms_region *top, *c, *inner, *r;
	int i, rc = 0, failed_at = -1;
	strbuf sb;
	ms_as *as;

	(void)state;
	top = new_container(ctx, "top", 0x100000);
	as = new_as(ctx, top, "as");
	c = ms_region_ref(top);
	for (i = 0; i < LEVELS && rc == 0; i++) {
		inner = new_container(ctx, "level", 0x100000);
		rc = ms_region_add_subregion(c, 0x10, inner);
		if (rc != 0)
			failed_at = i;
		ms_region_unref(c);
		c = inner;
	}
	r = new_ram(ctx, "r", 0x100);
	if (rc == 0)
		rc = ms_region_add_subregion(c, 0, r);
	ms_region_unref(c);
	as_view_str(&sb, as);
	ms_as_free(as);
	ms_region_unref(r);
	ms_region_unref(top);
	assert_int_equal(live_regions(ctx), 0);
	ms_ctx_free(ctx);
	if (rc != 0)
		fail_msg("adding nesting level %d returned %d, expected 0", failed_at, rc);
	assert_string_equal(sb.text, "12c0-13bf r @0\n");
}

#define WORLD_TEST(f) cmocka_unit_test_setup_teardown(f, world_setup, world_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_container_kind_getters_and_defaults),
		cmocka_unit_test(test_container_and_io_accept_size_zero_and_2_64),
		cmocka_unit_test(test_io_without_ops_is_a_terminating_reservation),
		cmocka_unit_test(test_io_with_ops_keeps_ops_and_opaque),
		cmocka_unit_test(test_invalid_ops_tables_are_rejected),
		cmocka_unit_test(test_ram_is_zeroed_writable_memory),
		cmocka_unit_test(test_rom_is_readonly_ram_printed_as_rom),
		cmocka_unit_test(test_rom_device_defaults_to_romd_mode),
		cmocka_unit_test(test_rom_device_requires_ops),
		cmocka_unit_test(test_ram_device_and_ram_ptr_use_the_callers_memory),
		cmocka_unit_test(test_alias_records_target_offset_and_prints_target_kind),
		cmocka_unit_test(test_iommu_is_terminating_and_needs_a_size),
		cmocka_unit_test(test_memory_kinds_refuse_size_zero),
		cmocka_unit_test(test_ram_too_large_to_allocate_is_enomem),
		cmocka_unit_test(test_constructors_refuse_null_arguments),
		cmocka_unit_test(test_owner_is_copied_and_clearable),
		WORLD_TEST(test_world_tree_and_view),
		WORLD_TEST(test_add_region_that_has_a_container_is_ebusy),
		WORLD_TEST(test_add_subregion_to_an_alias_is_einval),
		WORLD_TEST(test_add_region_to_itself_is_einval),
		WORLD_TEST(test_add_region_into_its_own_descendant_is_eloop),
		WORLD_TEST(test_regions_of_two_contexts_never_mix),
		WORLD_TEST(test_del_of_a_non_child_is_enoent),
		WORLD_TEST(test_property_setters_refuse_wrong_kinds),
		cmocka_unit_test(test_memory_kinds_cannot_be_resized),
		WORLD_TEST(test_resizable_kinds_accept_any_size),
		WORLD_TEST(test_dirty_log_only_on_ram_backed_regions_and_clients_0_to_7),
		WORLD_TEST(test_mutations_refuse_null),
		cmocka_unit_test(test_subregions_are_sorted_by_priority_descending),
		cmocka_unit_test(test_equal_priority_later_added_wins_the_overlap),
		cmocka_unit_test(test_set_address_readds_in_front_of_equal_priorities),
		cmocka_unit_test(test_set_priority_reorders_siblings),
		cmocka_unit_test(test_unrefd_region_lives_in_its_container_until_removed),
		cmocka_unit_test(test_freeing_a_container_releases_its_subregions),
		cmocka_unit_test(test_alias_keeps_its_target_alive),
		cmocka_unit_test(test_removed_region_stays_readable_through_a_held_view),
		cmocka_unit_test(test_alias_covering_its_own_container_is_eloop),
		cmocka_unit_test(test_alias_loop_through_flatview_root_is_eloop),
		cmocka_unit_test(test_alias_loop_through_a_nested_container_is_eloop),
		cmocka_unit_test(test_mutations_that_would_close_an_alias_loop_are_undone),
		cmocka_unit_test(test_alias_loop_outside_any_address_space_is_found_at_as_new),
		cmocka_unit_test(test_shifting_alias_onto_its_own_container_renders),
		cmocka_unit_test(test_alias_inside_its_own_target_is_a_reference_cycle),
		cmocka_unit_test(test_finite_shifting_alias_chain_renders_past_the_depth_bound),
		cmocka_unit_test(test_deep_nesting_without_aliases_renders),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
