/*
 * test_region.c: region objects (region.c): constructors, getters, their
 * argument checks, and reference counting (who keeps a region alive).
 *
 * The calls that change the tree are tested in test_region_edit.c, alias
 * cycles through containment in test_region_cycles.c.
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

static ms_result dev_read_attrs(uint64_t addr, uint64_t *data, unsigned size, ms_attrs attrs,
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
							       .ops = nop_ops()}),
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
							       .ops = nop_ops(),
							       .opaque = &cookie}),
			 0);
	assert_ptr_equal(a->ops, nop_ops());
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
	{"version 3", {.version = MS_REGION_OPS_VERSION + 1, .read = nop_read, .write = nop_write}},
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
								       .ops = nop_ops(),
								       .opaque = &cookie}),
			 0);
	assert_int_equal(ms_region_get_kind(r), MS_REGION_ROM_DEVICE);
	assert_true(ms_region_romd(r));
	assert_false(ms_region_readonly(r));
	assert_non_null(ms_region_ram_ptr(r));
	assert_ptr_equal(r->ops, nop_ops());
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
			&r, ctx, &(ms_region_io_opts){.name = "romd", .size = 0, .ops = nop_ops()}),
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
				 &(ms_region_io_opts){.name = NULL, .size = 1, .ops = nop_ops()}),
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
		cmocka_unit_test(test_unrefd_region_lives_in_its_container_until_removed),
		cmocka_unit_test(test_freeing_a_container_releases_its_subregions),
		cmocka_unit_test(test_alias_keeps_its_target_alive),
		cmocka_unit_test(test_removed_region_stays_readable_through_a_held_view),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
