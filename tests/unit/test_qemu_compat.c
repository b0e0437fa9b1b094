/*
 * test_qemu_compat.c: the QEMU-compatible wrappers (qemu-compat.h), one
 * family at a time: region constructors and device callbacks, tree edits,
 * transactions, dirty tracking, address-space accesses, ld/st, DMA, map,
 * IOMMU classes and notifiers, listeners, and how errors are reported
 * (recorded on the machine, the on_error hook, Error **errp) where QEMU
 * would assert.
 *
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include <memspace.h>
#include <memspace/qemu-compat.h>

#define KIB 1024u

/* One machine: a 4 GiB system container rendered as "memory". */
typedef struct fixture {
	ms_ctx *ctx;
	QemuCompat qc;
	Object machine;
	MemoryRegion sysmem;
	AddressSpace as;
	int errors_seen;
	int last_error;
	const char *last_call;
} fixture;

static void count_error(QemuCompat *qc, const char *call, int err, void *opaque)
{
	fixture *f = (fixture *)opaque;

	assert_ptr_equal(qc, &f->qc);
	f->errors_seen++;
	f->last_error = err;
	f->last_call = call;
}

static int setup(void **state)
{
	fixture *f = (fixture *)calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(ms_ctx_new(&f->ctx), 0);
	assert_int_equal(qemu_compat_init(&f->qc, f->ctx), 0);
	f->qc.on_error = count_error;
	f->qc.opaque = f;
	qemu_compat_object_init(&f->machine, &f->qc, "machine");
	memory_region_init(&f->sysmem, &f->machine, "system", 0x100000000ull);
	address_space_init(&f->as, &f->sysmem, "memory");
	assert_int_equal(qemu_compat_error(&f->qc, NULL), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = (fixture *)*state;

	ms_ctx_free(f->ctx);
	free(f);
	return 0;
}

/* The error recorded since the last check, which is then forgotten. */
static int take_error(fixture *f, const char **call)
{
	int err = qemu_compat_error(&f->qc, call);

	qemu_compat_clear_error(&f->qc);
	return err;
}

/* ---- a register file in QEMU's style ---------------------------------------------- */

typedef struct regdev {
	Object parent_obj;
	MemoryRegion mmio;
	uint32_t regs[4];
	unsigned reads, writes;
	bool last_secure;
} regdev;

static uint64_t regdev_read(void *opaque, hwaddr addr, unsigned size)
{
	regdev *d = (regdev *)opaque;

	assert_int_equal(size, 4);
	d->reads++;
	return d->regs[addr / 4];
}

static void regdev_write(void *opaque, hwaddr addr, uint64_t data, unsigned size)
{
	regdev *d = (regdev *)opaque;

	assert_int_equal(size, 4);
	d->writes++;
	d->regs[addr / 4] = (uint32_t)data;
}

/* Register 3 is write-protected for non-secure writes. */
static MemTxResult regdev_write_attrs(void *opaque, hwaddr addr, uint64_t data, unsigned size,
				      MemTxAttrs attrs)
{
	regdev *d = (regdev *)opaque;

	d->last_secure = attrs.secure;
	if (addr == 12 && !attrs.secure)
		return MEMTX_ERROR;
	regdev_write(opaque, addr, data, size);
	return MEMTX_OK;
}

/* Register 2 refuses reads (valid.accepts). */
static bool regdev_accepts(void *opaque, hwaddr addr, unsigned size, bool is_write,
			   MemTxAttrs attrs)
{
	(void)opaque;
	(void)size;
	(void)attrs;
	return !(addr == 8 && !is_write);
}

static const MemoryRegionOps regdev_le_ops = {
	regdev_read,
	NULL,
	NULL,
	regdev_write_attrs,
	DEVICE_LITTLE_ENDIAN,
	{4, 4, false, regdev_accepts},
	{4, 4, false},
};

static const MemoryRegionOps regdev_be_ops = {
	regdev_read,       regdev_write,        NULL,          NULL,
	DEVICE_BIG_ENDIAN, {4, 4, false, NULL}, {0, 0, false},
};

static void regdev_init(regdev *d, QemuCompat *qc, const char *id, const MemoryRegionOps *ops)
{
	memset(d, 0, sizeof(*d));
	qemu_compat_object_init(&d->parent_obj, qc, id);
	memory_region_init_io(&d->mmio, OBJECT(d), ops, d, id, 16);
}

/* ---- regions and device callbacks ---------------------------------------------------- */

static void test_io_region_calls_qemu_style_callbacks_with_opaque_first(void **state)
{
	fixture *f = (fixture *)*state;
	regdev d;
	MemTxResult r;
	uint8_t bytes[4];

	regdev_init(&d, &f->qc, "regdev", &regdev_le_ops);
	assert_non_null(qemu_compat_region(&d.mmio));
	assert_string_equal(ms_region_owner(qemu_compat_region(&d.mmio)), "regdev");
	memory_region_add_subregion(&f->sysmem, 0x1000, &d.mmio);

	stl_le_phys(&f->as, 0x1000, 0x11223344);
	assert_int_equal(d.regs[0], 0x11223344);
	assert_int_equal(ldl_le_phys(&f->as, 0x1000), 0x11223344);
	/* A little-endian device: the bytes on the bus are in that order. */
	assert_int_equal(address_space_read(&f->as, 0x1000, MEMTXATTRS_UNSPECIFIED, bytes, 4),
			 MEMTX_OK);
	assert_int_equal(bytes[0], 0x44);
	assert_int_equal(bytes[3], 0x11);

	/* write_with_attrs wins over write and sees the attributes. */
	MemTxAttrs secure = MEMTXATTRS_UNSPECIFIED;
	secure.unspecified = 0;
	secure.secure = 1;
	address_space_stl_le(&f->as, 0x100c, 7, MEMTXATTRS_UNSPECIFIED, &r);
	assert_int_equal(r, MEMTX_ERROR);
	assert_int_equal(d.regs[3], 0);
	address_space_stl_le(&f->as, 0x100c, 7, secure, &r);
	assert_int_equal(r, MEMTX_OK);
	assert_true(d.last_secure);
	assert_int_equal(d.regs[3], 7);

	/* valid.accepts refuses before any callback: a decode error. */
	unsigned reads = d.reads;
	(void)address_space_ldl_le(&f->as, 0x1008, MEMTXATTRS_UNSPECIFIED, &r);
	assert_int_equal(r, MEMTX_DECODE_ERROR);
	assert_int_equal(d.reads, reads);
	/* valid sizes: a 2-byte access is refused too. */
	(void)address_space_lduw_le(&f->as, 0x1000, MEMTXATTRS_UNSPECIFIED, &r);
	assert_int_equal(r, MEMTX_DECODE_ERROR);
	assert_int_equal(take_error(f, NULL), 0);
}

static void test_big_endian_device_and_reservation(void **state)
{
	fixture *f = (fixture *)*state;
	MemoryRegion hole;
	regdev d;
	MemTxResult r;

	regdev_init(&d, &f->qc, "be", &regdev_be_ops);
	memory_region_add_subregion(&f->sysmem, 0x2000, &d.mmio);
	stl_be_phys(&f->as, 0x2004, 0xa1b2c3d4);
	assert_int_equal(d.regs[1], 0xa1b2c3d4);
	assert_int_equal(ldl_be_phys(&f->as, 0x2004), 0xa1b2c3d4);
	/* Byte order swaps for a little-endian load of a big-endian register. */
	assert_int_equal(ldl_le_phys(&f->as, 0x2004), 0xd4c3b2a1);

	/* NULL ops: a reservation, every access a decode error. */
	memory_region_init_io(&hole, &f->machine, NULL, NULL, "reserved", 0x1000);
	memory_region_add_subregion(&f->sysmem, 0x3000, &hole);
	(void)address_space_ldl_le(&f->as, 0x3000, MEMTXATTRS_UNSPECIFIED, &r);
	assert_int_equal(r, MEMTX_DECODE_ERROR);
	assert_int_equal(take_error(f, NULL), 0);
}

static void test_ram_rom_pointer_and_device_memory(void **state)
{
	fixture *f = (fixture *)*state;
	MemoryRegion ram, rom, ptr, dev;
	static uint8_t host[4 * KIB];
	static uint32_t bar[4];
	Error *err = NULL;
	uint8_t image[4] = {1, 2, 3, 4}, got[4];

	memory_region_init_ram(&ram, &f->machine, "ram", 64 * KIB, &err);
	memory_region_init_rom(&rom, &f->machine, "rom", 4 * KIB, &err);
	memory_region_init_ram_ptr(&ptr, &f->machine, "ptr", sizeof(host), host);
	memory_region_init_ram_device_ptr(&dev, &f->machine, "bar", sizeof(bar), bar);
	assert_null(err);
	memory_region_add_subregion(&f->sysmem, 0x10000, &ram);
	memory_region_add_subregion(&f->sysmem, 0x20000, &rom);
	memory_region_add_subregion(&f->sysmem, 0x30000, &ptr);
	memory_region_add_subregion(&f->sysmem, 0x40000, &dev);

	assert_true(memory_region_is_ram(&ram));
	assert_true(memory_region_is_ram(&rom));
	assert_true(memory_region_is_ram(&dev));
	assert_int_equal(memory_region_size(&ram), 64 * KIB);
	assert_string_equal(memory_region_name(&rom), "rom");

	stq_le_phys(&f->as, 0x10008, 0x0102030405060708ull);
	assert_int_equal(((uint8_t *)memory_region_get_ram_ptr(&ram))[8], 0x08);
	assert_int_equal(ldq_be_phys(&f->as, 0x10008), 0x0807060504030201ull);

	/* ROM ignores guest writes; the loader write goes in. */
	stl_le_phys(&f->as, 0x20000, 0xffffffff);
	assert_int_equal(ldl_le_phys(&f->as, 0x20000), 0);
	assert_int_equal(address_space_write_rom(&f->as, 0x20000, MEMTXATTRS_UNSPECIFIED, image, 4),
			 MEMTX_OK);
	assert_int_equal(address_space_read(&f->as, 0x20000, MEMTXATTRS_UNSPECIFIED, got, 4),
			 MEMTX_OK);
	assert_memory_equal(got, image, 4);

	stw_le_phys(&f->as, 0x30010, 0xbeef);
	assert_int_equal(host[0x10], 0xef);
	assert_int_equal(lduw_le_phys(&f->as, 0x30010), 0xbeef);
	assert_int_equal(lduw_be_phys(&f->as, 0x30010), 0xefbe);
	stb_phys(&f->as, 0x30020, 0x5a);
	assert_int_equal(ldub_phys(&f->as, 0x30020), 0x5a);

	stl_le_phys(&f->as, 0x40004, 0xcafe);
	assert_int_equal(bar[1], 0xcafe);
	assert_int_equal(take_error(f, NULL), 0);
}

/* A ROM device: reads from RAM in romd mode, from the callbacks otherwise. */
static uint64_t romdev_read(void *opaque, hwaddr addr, unsigned size)
{
	(void)opaque;
	(void)addr;
	(void)size;
	return 0x99;
}

static void romdev_write(void *opaque, hwaddr addr, uint64_t data, unsigned size)
{
	(void)addr;
	(void)size;
	*(uint64_t *)opaque = data;
}

static const MemoryRegionOps romdev_ops = {
	romdev_read,          romdev_write,        NULL,          NULL,
	DEVICE_LITTLE_ENDIAN, {1, 1, false, NULL}, {0, 0, false},
};

static void test_rom_device_switches_between_ram_and_callbacks(void **state)
{
	fixture *f = (fixture *)*state;
	MemoryRegion flash;
	uint64_t written = 0;
	Error *err = NULL;

	memory_region_init_rom_device(&flash, &f->machine, &romdev_ops, &written, "flash", 4 * KIB,
				      &err);
	assert_null(err);
	memory_region_add_subregion(&f->sysmem, 0x50000, &flash);
	((uint8_t *)memory_region_get_ram_ptr(&flash))[0] = 0x42;
	assert_true(memory_region_is_romd(&flash));
	assert_int_equal(ldub_phys(&f->as, 0x50000), 0x42);
	stb_phys(&f->as, 0x50000, 0x17);
	assert_int_equal(written, 0x17);

	memory_region_rom_device_set_romd(&flash, false);
	assert_false(memory_region_is_romd(&flash));
	assert_int_equal(ldub_phys(&f->as, 0x50000), 0x99);

	/* A ROM device needs ops: refused with an Error. */
	MemoryRegion bad;
	memory_region_init_rom_device(&bad, &f->machine, NULL, NULL, "bad", 4 * KIB, &err);
	assert_non_null(err);
	assert_int_equal(err->err, -EINVAL);
	assert_non_null(strstr(error_get_pretty(err), "memory_region_init_rom_device"));
	assert_null(qemu_compat_region(&bad));
	error_free(err);
	assert_int_equal(take_error(f, NULL), -EINVAL);
}

/* ---- RAM backends --------------------------------------------------------------- */

static uint64_t resized_to;
static void *resized_host;

static void on_resized(const char *name, uint64_t length, void *host)
{
	assert_string_equal(name, "hotplug");
	resized_to = length;
	resized_host = host;
}

static void test_resizeable_ram_and_backend_constructors(void **state)
{
	fixture *f = (fixture *)*state;
	MemoryRegion grow, shared, file, bad;
	char path[] = "/tmp/test_qemu_compat_XXXXXX";
	Error *err = NULL;
	int fd;

	assert_true(memory_region_init_resizeable_ram(&grow, &f->machine, "hotplug", 8 * KIB,
						      64 * KIB, on_resized, &err));
	memory_region_add_subregion(&f->sysmem, 0x100000, &grow);
	memory_region_ram_resize(&grow, 16 * KIB, &err);
	assert_null(err);
	assert_int_equal(resized_to, 16 * KIB);
	assert_ptr_equal(resized_host, memory_region_get_ram_ptr(&grow));
	stl_le_phys(&f->as, 0x100000 + 12 * KIB, 3);
	assert_int_equal(ldl_le_phys(&f->as, 0x100000 + 12 * KIB), 3);
	/* Past the maximum: refused with an Error, the size stays. */
	memory_region_ram_resize(&grow, 128 * KIB, &err);
	assert_non_null(err);
	assert_int_equal(err->err, -EINVAL);
	error_free(err);
	err = NULL;
	assert_int_equal(memory_region_size(&grow), 16 * KIB);
	assert_int_equal(take_error(f, NULL), -EINVAL);

	/* A shared fd: what the device writes shows in the other mapping. */
	fd = memfd_create("test_qemu_compat", 0);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 4 * KIB), 0);
	assert_true(memory_region_init_ram_from_fd(&shared, &f->machine, "shared", 4 * KIB,
						   RAM_SHARED, fd, 0, &err));
	memory_region_add_subregion(&f->sysmem, 0x200000, &shared);
	stl_le_phys(&f->as, 0x200010, 0xabcd);
	uint32_t v = 0;
	assert_int_equal(pread(fd, &v, sizeof(v), 0x10), (ssize_t)sizeof(v));
	assert_int_equal(v, 0xabcd);
	close(fd); /* the region holds its own duplicate */

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 4 * KIB), 0);
	assert_int_equal(pwrite(fd, "rom!", 4, 0), 4);
	close(fd);
	assert_true(memory_region_init_ram_from_file(&file, &f->machine, "image", 4 * KIB, 0,
						     RAM_READONLY | RAM_READONLY_FD, path, 0,
						     &err));
	memory_region_add_subregion(&f->sysmem, 0x300000, &file);
	assert_int_equal(ldl_be_phys(&f->as, 0x300000), 0x726f6d21); /* "rom!" */
	stl_le_phys(&f->as, 0x300000, 0);
	assert_int_equal(ldl_be_phys(&f->as, 0x300000), 0x726f6d21);
	assert_null(err);
	assert_int_equal(take_error(f, NULL), 0);

	/* Flags memspace does not model are refused; so is READONLY_FD alone. */
	assert_false(memory_region_init_ram_from_file(&bad, &f->machine, "bad", 4 * KIB, 0,
						      1u << 7 /* RAM_NORESERVE */, path, 0, &err));
	assert_non_null(err);
	assert_int_equal(err->err, -EINVAL);
	error_free(err);
	err = NULL;
	assert_false(memory_region_init_ram_from_file(&bad, &f->machine, "bad", 4 * KIB, 0,
						      RAM_READONLY_FD, path, 0, NULL));
	assert_null(qemu_compat_region(&bad));
	/* A missing file: the library's error. */
	assert_false(memory_region_init_ram_from_file(&bad, &f->machine, "bad", 4 * KIB, 0, 0,
						      "/nonexistent/dir/file", 0, &err));
	assert_non_null(err);
	assert_int_equal(err->err, -ENOENT);
	error_free(err);
	assert_int_equal(take_error(f, NULL), -EINVAL);
	unlink(path);
}

/* ---- tree edits ----------------------------------------------------------------- */

static void test_subregions_aliases_and_setters(void **state)
{
	fixture *f = (fixture *)*state;
	MemoryRegion ram, alias, low;

	memory_region_init_ram(&ram, &f->machine, "ram", 8 * KIB, NULL);
	memory_region_init_ram(&low, &f->machine, "low", 4 * KIB, NULL);
	memory_region_init_alias(&alias, &f->machine, "ram-hi", &ram, 4 * KIB, 4 * KIB);
	memory_region_add_subregion(&f->sysmem, 0x100000, &ram);
	memory_region_add_subregion(&f->sysmem, 0x200000, &alias);
	stl_le_phys(&f->as, 0x101000, 0x600d);
	assert_int_equal(ldl_le_phys(&f->as, 0x200000), 0x600d);

	memory_region_set_alias_offset(&alias, 0);
	assert_int_equal(ldl_le_phys(&f->as, 0x200000), 0);
	stl_le_phys(&f->as, 0x100000, 0x1234);
	assert_int_equal(ldl_le_phys(&f->as, 0x200000), 0x1234);
	memory_region_set_size(&alias, 2 * KIB);
	assert_int_equal(memory_region_size(&alias), 2 * KIB);

	/* Overlap with priority: low covers the first page of ram. */
	memory_region_add_subregion_overlap(&f->sysmem, 0x100000, &low, 1);
	assert_int_equal(ldl_le_phys(&f->as, 0x100000), 0);
	memory_region_set_enabled(&low, false);
	assert_int_equal(ldl_le_phys(&f->as, 0x100000), 0x1234);
	memory_region_set_enabled(&low, true);
	memory_region_set_address(&low, 0x300000);
	assert_int_equal(ldl_le_phys(&f->as, 0x100000), 0x1234);
	memory_region_set_readonly(&ram, true);
	stl_le_phys(&f->as, 0x100000, 0xdead);
	assert_int_equal(ldl_le_phys(&f->as, 0x100000), 0x1234);
	memory_region_set_readonly(&ram, false);

	/* Deleting keeps the struct's reference: the region can come back. */
	memory_region_del_subregion(&f->sysmem, &ram);
	assert_int_equal(ldl_le_phys(&f->as, 0x100000), 0);
	memory_region_add_subregion(&f->sysmem, 0x100000, &ram);
	assert_int_equal(ldl_le_phys(&f->as, 0x100000), 0x1234);
	assert_int_equal(take_error(f, NULL), 0);
}

static void test_failed_edits_are_recorded_and_change_nothing(void **state)
{
	fixture *f = (fixture *)*state;
	MemoryRegion ram, orphan;
	const char *call;

	memory_region_init_ram(&ram, &f->machine, "ram", 4 * KIB, NULL);
	memory_region_add_subregion(&f->sysmem, 0x1000, &ram);
	stl_le_phys(&f->as, 0x1000, 77);

	/* Added twice: -EBUSY, the region stays where it was. */
	memory_region_add_subregion(&f->sysmem, 0x8000, &ram);
	assert_int_equal(take_error(f, &call), -EBUSY);
	assert_string_equal(call, "memory_region_add_subregion");
	assert_int_equal(f->last_error, -EBUSY);
	assert_int_equal(ldl_le_phys(&f->as, 0x1000), 77);
	assert_int_equal(ldl_le_phys(&f->as, 0x8000), 0);

	/* RAM cannot be resized this way (QEMU would allow it). */
	memory_region_set_size(&ram, 8 * KIB);
	assert_int_equal(take_error(f, &call), -EINVAL);
	assert_string_equal(call, "memory_region_set_size");
	assert_int_equal(memory_region_size(&ram), 4 * KIB);

	/* Alias offset of a non-alias; deleting what is not a subregion. */
	memory_region_set_alias_offset(&ram, 0);
	assert_int_equal(take_error(f, NULL), -EINVAL);
	memory_region_del_subregion(&ram, &f->sysmem);
	assert_int_equal(take_error(f, NULL), -ENOENT);

	/* The first error is kept until cleared. */
	memory_region_set_alias_offset(&ram, 0);
	memory_region_add_subregion(&f->sysmem, 0x8000, &ram);
	assert_int_equal(take_error(f, &call), -EINVAL);
	assert_string_equal(call, "memory_region_set_alias_offset");

	/* No owner: nothing is created, and using it is refused. */
	memory_region_init(&orphan, NULL, "orphan", 4 * KIB);
	assert_null(qemu_compat_region(&orphan));
	memory_region_add_subregion(&f->sysmem, 0x9000, &orphan);
	assert_int_equal(take_error(f, NULL), -EINVAL);
	memory_region_set_enabled(&orphan, false);
	assert_int_equal(memory_region_size(&orphan), 0);

	/* An out-of-memory failure reaches errp with the library's code. */
	Error *err = NULL;
	MemoryRegion big;
	ms_ctx_test_control(f->ctx, MS_TEST_FAIL_ALLOC_AFTER, 1);
	memory_region_init_ram(&big, &f->machine, "big", 4 * KIB, &err);
	ms_ctx_test_control(f->ctx, MS_TEST_FAIL_ALLOC_AFTER, 0);
	assert_non_null(err);
	assert_int_equal(err->err, -ENOMEM);
	assert_null(qemu_compat_region(&big));
	error_free(err);
	assert_int_equal(take_error(f, NULL), -ENOMEM);
}

static void test_destroy_and_wrap(void **state)
{
	fixture *f = (fixture *)*state;
	MemoryRegion ram, wrapped;
	regdev d;
	ms_region *r;

	regdev_init(&d, &f->qc, "regdev", &regdev_le_ops);
	memory_region_add_subregion(&f->sysmem, 0, &d.mmio);
	/* Still in its container (or a root): refused, as QEMU asserts. */
	memory_region_destroy(&d.mmio);
	assert_int_equal(take_error(f, NULL), -EBUSY);
	assert_non_null(qemu_compat_region(&d.mmio));
	stl_le_phys(&f->as, 0, 5);
	assert_int_equal(d.regs[0], 5);
	memory_region_destroy(&f->sysmem);
	assert_int_equal(take_error(f, NULL), -EBUSY);

	/* Removed, then destroyed: the struct is "not created" again. */
	memory_region_del_subregion(&f->sysmem, &d.mmio);
	memory_region_destroy(&d.mmio);
	assert_null(qemu_compat_region(&d.mmio));
	assert_int_equal(memory_region_size(&d.mmio), 0);
	memory_region_add_subregion(&f->sysmem, 0, &d.mmio);
	assert_int_equal(take_error(f, NULL), -EINVAL);
	memory_region_destroy(&d.mmio); /* a no-op now */
	assert_int_equal(take_error(f, NULL), 0);

	/* Constructors refuse to overwrite a live struct. */
	memory_region_init_ram(&ram, &f->machine, "ram", 4 * KIB, NULL);
	r = qemu_compat_region(&ram);
	memory_region_init_ram(&ram, &f->machine, "again", 8 * KIB, NULL);
	assert_int_equal(take_error(f, NULL), -EBUSY);
	assert_ptr_equal(qemu_compat_region(&ram), r);
	assert_string_equal(memory_region_name(&ram), "ram");
	address_space_init(&f->as, &ram, "again");
	assert_int_equal(take_error(f, NULL), -EBUSY);

	/* A memspace region can be used through a MemoryRegion. */
	assert_int_equal(ms_region_new_ram(&r, f->ctx, "native", 4 * KIB), 0);
	assert_int_equal(qemu_compat_wrap_region(&wrapped, &f->qc, r), 0);
	ms_region_unref(r); /* the struct holds its own reference */
	assert_int_equal(memory_region_size(&wrapped), 4 * KIB);
	memory_region_add_subregion(&f->sysmem, 0x1000, &wrapped);
	stl_le_phys(&f->as, 0x1000, 9);
	assert_int_equal(*(uint32_t *)ms_region_ram_ptr(r), 9);
	assert_int_equal(qemu_compat_wrap_region(&wrapped, &f->qc, NULL), -EINVAL);
	assert_int_equal(take_error(f, NULL), -EINVAL);
}

/* ---- listeners and transactions -------------------------------------------------- */

typedef struct recorder {
	MemoryListener listener;
	int begins, commits, adds, dels;
	uint64_t last_add_start, last_add_size;
	MemoryRegion *last_add_mr;
	int refuse_errno;
	int global_starts, global_stops;
	int syncs, clears, log_starts;
	uint64_t last_clear_start, last_clear_size;
} recorder;

#define REC(l) ((recorder *)(void *)((char *)(l)-offsetof(recorder, listener)))

static void rec_begin(MemoryListener *l)
{
	REC(l)->begins++;
}

static void rec_commit(MemoryListener *l)
{
	REC(l)->commits++;
}

static void rec_add(MemoryListener *l, MemoryRegionSection *s)
{
	recorder *r = REC(l);

	r->adds++;
	r->last_add_start = s->offset_within_address_space;
	r->last_add_size = int128_get64(s->size);
	r->last_add_mr = s->mr;
	assert_non_null(s->ms);
}

static void rec_del(MemoryListener *l, MemoryRegionSection *s)
{
	(void)s;
	REC(l)->dels++;
}

static bool rec_global_start(MemoryListener *l, Error **errp)
{
	recorder *r = REC(l);

	if (r->refuse_errno) {
		error_setg_errno(errp, r->refuse_errno, "listener %s refuses", l->name);
		return false;
	}
	r->global_starts++;
	return true;
}

static void rec_global_stop(MemoryListener *l)
{
	REC(l)->global_stops++;
}

static void rec_log_start(MemoryListener *l, MemoryRegionSection *s, int old_val, int new_val)
{
	(void)s;
	assert_int_equal(old_val, 0);
	assert_int_equal(new_val, 1 << DIRTY_MEMORY_VGA);
	REC(l)->log_starts++;
}

static void rec_log_sync(MemoryListener *l, MemoryRegionSection *s)
{
	(void)s;
	REC(l)->syncs++;
}

static void rec_log_clear(MemoryListener *l, MemoryRegionSection *s)
{
	recorder *r = REC(l);

	r->clears++;
	r->last_clear_start = s->offset_within_address_space;
	r->last_clear_size = int128_get64(s->size);
}

static void recorder_init(recorder *r)
{
	memset(r, 0, sizeof(*r));
	r->listener.begin = rec_begin;
	r->listener.commit = rec_commit;
	r->listener.region_add = rec_add;
	r->listener.region_del = rec_del;
	r->listener.log_global_start = rec_global_start;
	r->listener.log_global_stop = rec_global_stop;
	r->listener.log_start = rec_log_start;
	r->listener.log_sync = rec_log_sync;
	r->listener.log_clear = rec_log_clear;
	r->listener.name = "rec";
	r->listener.priority = 10;
}

static void test_listener_sees_sections_with_their_memory_regions(void **state)
{
	fixture *f = (fixture *)*state;
	MemoryRegion a, b;
	recorder rec;

	memory_region_init_ram(&a, &f->machine, "a", 4 * KIB, NULL);
	memory_region_add_subregion(&f->sysmem, 0x1000, &a);
	recorder_init(&rec);
	memory_listener_register(&rec.listener, &f->as);
	assert_ptr_equal(rec.listener.address_space, &f->as);
	/* Registration replays the current view. */
	assert_int_equal(rec.adds, 1);
	assert_ptr_equal(rec.last_add_mr, &a);
	assert_int_equal(rec.last_add_start, 0x1000);
	assert_int_equal(rec.last_add_size, 4 * KIB);

	/* A transaction commits once for two changes. */
	int begins = rec.begins;
	memory_region_init_ram(&b, &f->machine, "b", 4 * KIB, NULL);
	memory_region_transaction_begin(&f->qc);
	memory_region_add_subregion(&f->sysmem, 0x4000, &b);
	memory_region_set_address(&a, 0x2000);
	assert_int_equal(rec.begins, begins);
	memory_region_transaction_commit(&f->qc);
	assert_int_equal(rec.begins, begins + 1);
	assert_int_equal(rec.commits, rec.begins);
	assert_int_equal(rec.adds, 3);
	assert_int_equal(rec.dels, 1);

	/* Registered twice: refused. */
	memory_listener_register(&rec.listener, &f->as);
	assert_int_equal(take_error(f, NULL), -EINVAL);
	memory_listener_unregister(&rec.listener);
	assert_int_equal(rec.dels, 3);
	assert_null(rec.listener.address_space);
	memory_listener_unregister(&rec.listener); /* a no-op */

	/* Destroying an address space unregisters its listeners. */
	MemoryRegion other_root;
	AddressSpace other;
	memory_region_init_ram(&other_root, &f->machine, "other", 4 * KIB, NULL);
	address_space_init(&other, &other_root, "other");
	int dels = rec.dels;
	memory_listener_register(&rec.listener, &other);
	assert_int_equal(rec.adds, 4);
	address_space_destroy(&other);
	assert_int_equal(rec.dels, dels + 1);
	assert_null(rec.listener.address_space);
	memory_listener_unregister(&rec.listener); /* a no-op */
	memory_listener_register(&rec.listener, &f->as);
	assert_ptr_equal(rec.listener.address_space, &f->as);
	memory_listener_unregister(&rec.listener);
	assert_int_equal(take_error(f, NULL), 0);

	/* A commit with no transaction open is reported. */
	memory_region_transaction_commit(&f->qc);
	assert_int_equal(take_error(f, NULL), -EPERM);
}

static void test_global_dirty_log_refusal_carries_the_listeners_errno(void **state)
{
	fixture *f = (fixture *)*state;
	recorder rec;
	Error *err = NULL;

	recorder_init(&rec);
	memory_listener_register(&rec.listener, &f->as);
	rec.refuse_errno = ENOSPC;
	assert_false(memory_global_dirty_log_start(&f->qc, &err));
	assert_non_null(err);
	assert_int_equal(err->err, -ENOSPC);
	error_free(err);
	assert_false(ms_ctx_dirty_log_global(f->ctx));
	assert_int_equal(take_error(f, NULL), -ENOSPC);

	rec.refuse_errno = 0;
	assert_true(memory_global_dirty_log_start(&f->qc, NULL));
	assert_int_equal(rec.global_starts, 1);
	memory_global_dirty_log_stop(&f->qc);
	assert_int_equal(rec.global_stops, 1);
	memory_listener_unregister(&rec.listener);
	assert_int_equal(take_error(f, NULL), 0);
}

/* ---- dirty tracking ------------------------------------------------------------- */

static void test_dirty_log_get_set_reset_and_snapshot(void **state)
{
	fixture *f = (fixture *)*state;
	MemoryRegion vram;
	DirtyBitmapSnapshot *snap;

	memory_region_init_ram(&vram, &f->machine, "vram", 64 * KIB, NULL);
	memory_region_add_subregion(&f->sysmem, 0x100000, &vram);
	recorder rec;
	recorder_init(&rec);
	memory_listener_register(&rec.listener, &f->as);
	memory_region_set_log(&vram, true, DIRTY_MEMORY_VGA);
	assert_int_equal(rec.log_starts, 1);
	assert_false(memory_region_get_dirty(&vram, 0, 64 * KIB, DIRTY_MEMORY_VGA));
	/* Sync and clear reach the listener for the logged range. */
	memory_global_dirty_log_sync(&f->qc, false);
	assert_int_equal(rec.syncs, 1);
	memory_region_clear_dirty_bitmap(&vram, 8 * KIB, 4 * KIB);
	assert_int_equal(rec.clears, 1);
	assert_int_equal(rec.last_clear_start, 0x100000 + 8 * KIB);
	assert_int_equal(rec.last_clear_size, 4 * KIB);
	memory_listener_unregister(&rec.listener);

	stl_le_phys(&f->as, 0x100000 + 5 * 4096 + 8, 1);
	assert_true(memory_region_get_dirty(&vram, 5 * 4096, 4096, DIRTY_MEMORY_VGA));
	assert_false(memory_region_get_dirty(&vram, 4 * 4096, 4096, DIRTY_MEMORY_VGA));
	memory_region_set_dirty(&vram, 9 * 4096, 1);
	assert_true(memory_region_get_dirty(&vram, 9 * 4096, 4096, DIRTY_MEMORY_VGA));

	snap = memory_region_snapshot_and_clear_dirty(&vram, 0, 64 * KIB, DIRTY_MEMORY_VGA);
	assert_non_null(snap);
	assert_true(memory_region_snapshot_get_dirty(&vram, snap, 5 * 4096, 4096));
	assert_true(memory_region_snapshot_get_dirty(&vram, snap, 9 * 4096, 4096));
	assert_false(memory_region_snapshot_get_dirty(&vram, snap, 0, 4096));
	dirty_bitmap_snapshot_free(snap);
	assert_false(memory_region_get_dirty(&vram, 0, 64 * KIB, DIRTY_MEMORY_VGA));

	memory_region_set_dirty(&vram, 0, 1);
	memory_region_reset_dirty(&vram, 0, 4096, DIRTY_MEMORY_VGA);
	assert_false(memory_region_get_dirty(&vram, 0, 4096, DIRTY_MEMORY_VGA));
	memory_region_set_log(&vram, false, DIRTY_MEMORY_VGA);
	assert_int_equal(take_error(f, NULL), 0);

	/* Bad input: a client out of range, a range past the end. */
	memory_region_set_log(&vram, true, 9);
	assert_int_equal(take_error(f, NULL), -EINVAL);
	assert_null(memory_region_snapshot_and_clear_dirty(&vram, 0, 128 * KIB, DIRTY_MEMORY_VGA));
	assert_int_equal(take_error(f, NULL), -EINVAL);
}

/* ---- accesses, map, DMA --------------------------------------------------------- */

static void test_rw_map_unmap_and_dma(void **state)
{
	fixture *f = (fixture *)*state;
	MemoryRegion ram;
	uint8_t buf[16], got[16];
	hwaddr len = 256;
	uint8_t *p;

	memory_region_init_ram(&ram, &f->machine, "ram", 64 * KIB, NULL);
	memory_region_add_subregion(&f->sysmem, 0x10000, &ram);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i + 1);
	assert_int_equal(
		address_space_rw(&f->as, 0x10010, MEMTXATTRS_UNSPECIFIED, buf, sizeof(buf), true),
		MEMTX_OK);
	assert_int_equal(
		address_space_rw(&f->as, 0x10010, MEMTXATTRS_UNSPECIFIED, got, sizeof(got), false),
		MEMTX_OK);
	assert_memory_equal(got, buf, sizeof(buf));
	assert_int_equal(address_space_write(&f->as, 0x0, MEMTXATTRS_UNSPECIFIED, buf, 4),
			 MEMTX_DECODE_ERROR);
	assert_true(address_space_access_valid(&f->as, 0x10000, 16, true, MEMTXATTRS_UNSPECIFIED));
	assert_false(address_space_access_valid(&f->as, 0x0, 16, true, MEMTXATTRS_UNSPECIFIED));

	p = (uint8_t *)address_space_map(&f->as, 0x10000, &len, true, MEMTXATTRS_UNSPECIFIED);
	assert_ptr_equal(p, memory_region_get_ram_ptr(&ram));
	assert_int_equal(len, 256);
	p[0] = 0xab;
	address_space_unmap(&f->as, p, len, true, 1);
	assert_int_equal(ldub_phys(&f->as, 0x10000), 0xab);
	assert_int_equal(take_error(f, NULL), 0);
	/* An unknown mapping: refused and recorded (QEMU asserts). */
	address_space_unmap(&f->as, p, len, true, 1);
	assert_int_equal(take_error(f, NULL), -EINVAL);

	assert_int_equal(dma_memory_set(&f->as, 0x10100, 0x5a, 8, MEMTXATTRS_UNSPECIFIED),
			 MEMTX_OK);
	assert_int_equal(dma_memory_read(&f->as, 0x10100, got, 8, MEMTXATTRS_UNSPECIFIED),
			 MEMTX_OK);
	assert_int_equal(got[7], 0x5a);
	assert_int_equal(dma_memory_write(&f->as, 0x10200, buf, 8, MEMTXATTRS_UNSPECIFIED),
			 MEMTX_OK);
	assert_int_equal(dma_memory_rw(&f->as, 0x10200, got, 8, DMA_DIRECTION_TO_DEVICE,
				       MEMTXATTRS_UNSPECIFIED),
			 MEMTX_OK);
	assert_memory_equal(got, buf, 8);
	assert_int_equal(dma_memory_rw(&f->as, 0x10300, buf, 8, DMA_DIRECTION_FROM_DEVICE,
				       MEMTXATTRS_UNSPECIFIED),
			 MEMTX_OK);
	assert_int_equal(ldq_le_phys(&f->as, 0x10300), ldq_le_phys(&f->as, 0x10200));
	assert_int_equal(
		dma_memory_rw(&f->as, 0x10300, buf, 8, (DMADirection)7, MEMTXATTRS_UNSPECIFIED),
		MEMTX_ACCESS_ERROR);

	/* Stores report their result; a destroyed address space refuses. */
	MemTxResult r;
	address_space_stq_be(&f->as, 0x10400, 0x0102030405060708ull, MEMTXATTRS_UNSPECIFIED, &r);
	assert_int_equal(r, MEMTX_OK);
	assert_int_equal(address_space_ldub(&f->as, 0x10400, MEMTXATTRS_UNSPECIFIED, &r), 1);
	address_space_stw_be(&f->as, 0x0, 1, MEMTXATTRS_UNSPECIFIED, &r);
	assert_int_equal(r, MEMTX_DECODE_ERROR);
	address_space_destroy(&f->as);
	assert_null(qemu_compat_as(&f->as));
	(void)address_space_ldl_be(&f->as, 0x10000, MEMTXATTRS_UNSPECIFIED, &r);
	assert_int_equal(r, MEMTX_ACCESS_ERROR);
	address_space_destroy(&f->as); /* a no-op */
}

/* ---- IOMMU ---------------------------------------------------------------------- */

/* A one-level IOMMU with 16 pages of 4 KiB, in QEMU's style. */
typedef struct pager {
	IOMMUMemoryRegion iommu;
	AddressSpace *target;
	uint64_t pages[16]; /* target page address | perm, 0 = unmapped */
	IOMMUNotifierFlag flags_seen;
	bool refuse_map;
	int replays;
} pager;

#define PAGER(im) ((pager *)(void *)((char *)(im)-offsetof(pager, iommu)))

static IOMMUTLBEntry pager_translate(IOMMUMemoryRegion *im, hwaddr addr, IOMMUAccessFlags flag,
				     int iommu_idx)
{
	pager *p = PAGER(im);
	uint64_t e = p->pages[(addr >> 12) & 15];
	IOMMUTLBEntry r;

	(void)flag;
	(void)iommu_idx;
	r.target_as = p->target;
	r.iova = addr & ~(hwaddr)0xfff;
	r.translated_addr = e & ~(uint64_t)0xfff;
	r.addr_mask = 0xfff;
	r.perm = (IOMMUAccessFlags)(e & IOMMU_RW);
	return r;
}

static int pager_flag_changed(IOMMUMemoryRegion *im, IOMMUNotifierFlag old_flags,
			      IOMMUNotifierFlag new_flags, Error **errp)
{
	pager *p = PAGER(im);

	(void)old_flags;
	if (p->refuse_map && (new_flags & IOMMU_NOTIFIER_MAP)) {
		error_setg(errp, "pager cannot send MAP events");
		return -ENOTSUP;
	}
	p->flags_seen = new_flags;
	return 0;
}

static void pager_replay(IOMMUMemoryRegion *im, IOMMUNotifier *n)
{
	pager *p = PAGER(im);

	p->replays++;
	for (unsigned i = 0; i < 16; i++) {
		IOMMUTLBEvent ev;

		if (!(p->pages[i] & IOMMU_RW))
			continue;
		ev.type = IOMMU_NOTIFIER_MAP;
		ev.entry = pager_translate(im, (hwaddr)i << 12, IOMMU_NONE, 0);
		memory_region_notify_iommu_one(n, &ev);
	}
}

static uint64_t pager_min_page(IOMMUMemoryRegion *im)
{
	(void)im;
	return 4096;
}

static const IOMMUMemoryRegionClass pager_class = {
	pager_translate, pager_min_page, pager_flag_changed, pager_replay, NULL, NULL, NULL,
};

static void pager_set(pager *p, unsigned page, uint64_t entry)
{
	IOMMUTLBEvent ev;

	if (p->pages[page] & IOMMU_RW) {
		ev.type = IOMMU_NOTIFIER_UNMAP;
		ev.entry = pager_translate(&p->iommu, (hwaddr)page << 12, IOMMU_NONE, 0);
		ev.entry.perm = IOMMU_NONE;
		p->pages[page] = 0;
		memory_region_notify_iommu(&p->iommu, 0, ev);
	}
	p->pages[page] = entry;
	if (entry & IOMMU_RW) {
		ev.type = IOMMU_NOTIFIER_MAP;
		ev.entry = pager_translate(&p->iommu, (hwaddr)page << 12, IOMMU_NONE, 0);
		memory_region_notify_iommu(&p->iommu, 0, ev);
	}
}

typedef struct shadow {
	IOMMUNotifier n;
	unsigned maps, unmaps;
	IOMMUTLBEntry last;
} shadow;

static void shadow_notify(IOMMUNotifier *n, IOMMUTLBEntry *e)
{
	shadow *s = (shadow *)(void *)((char *)n - offsetof(shadow, n));

	if (e->perm == IOMMU_NONE)
		s->unmaps++;
	else
		s->maps++;
	s->last = *e;
}

static void test_iommu_class_translates_and_notifies_in_qemu_terms(void **state)
{
	fixture *f = (fixture *)*state;
	MemoryRegion ram, dma_root, iommu_alias;
	AddressSpace dma;
	pager p;
	shadow s, s2;
	Error *err = NULL;

	memory_region_init_ram(&ram, &f->machine, "ram", 64 * KIB, NULL);
	memory_region_add_subregion(&f->sysmem, 0x100000, &ram);
	memset(&p, 0, sizeof(p));
	p.target = &f->as;
	memory_region_init_iommu(&p.iommu, sizeof(p.iommu), &pager_class, &f->machine, "pager",
				 64 * KIB);
	assert_true(memory_region_is_iommu(MEMORY_REGION(&p.iommu)));
	assert_ptr_equal(memory_region_get_iommu(MEMORY_REGION(&p.iommu)), &p.iommu);
	assert_int_equal(memory_region_iommu_get_min_page_size(&p.iommu), 4096);
	assert_int_equal(memory_region_iommu_num_indexes(&p.iommu), 1);
	assert_int_equal(memory_region_iommu_attrs_to_index(&p.iommu, MEMTXATTRS_UNSPECIFIED), 0);
	int fd;
	assert_int_equal(memory_region_iommu_get_attr(&p.iommu, IOMMU_ATTR_SPAPR_TCE_FD, &fd),
			 -EINVAL);

	memory_region_init(&dma_root, &f->machine, "dma", 64 * KIB);
	memory_region_add_subregion(&dma_root, 0, MEMORY_REGION(&p.iommu));
	address_space_init(&dma, &dma_root, "dma");

	/* Page 2 of the bus goes to page 3 of RAM, read-only. */
	stl_le_phys(&f->as, 0x103004, 0xfeedface);
	pager_set(&p, 2, (0x103000 | IOMMU_RO));
	assert_int_equal(ldl_le_phys(&dma, 0x2004), 0xfeedface);
	MemTxResult r;
	address_space_stl_le(&dma, 0x2004, 1, MEMTXATTRS_UNSPECIFIED, &r);
	assert_int_equal(r, MEMTX_ACCESS_ERROR);
	(void)address_space_ldl_le(&dma, 0x5000, MEMTXATTRS_UNSPECIFIED, &r);
	assert_int_equal(r, MEMTX_ACCESS_ERROR);

	/* A notifier through an alias of the IOMMU region; flags in QEMU's values. */
	memory_region_init_alias(&iommu_alias, &f->machine, "pager-alias", MEMORY_REGION(&p.iommu),
				 0, 64 * KIB);
	memset(&s, 0, sizeof(s));
	iommu_notifier_init(&s.n, shadow_notify, IOMMU_NOTIFIER_IOTLB_EVENTS, 0, 0xffff, 0);
	assert_int_equal(memory_region_register_iommu_notifier(&iommu_alias, &s.n, &err), 0);
	assert_int_equal(p.flags_seen, IOMMU_NOTIFIER_IOTLB_EVENTS);
	memory_region_iommu_replay(&p.iommu, &s.n);
	assert_int_equal(p.replays, 1);
	assert_int_equal(s.maps, 1);
	assert_ptr_equal(s.last.target_as, &f->as);
	assert_int_equal(s.last.iova, 0x2000);
	assert_int_equal(s.last.translated_addr, 0x103000);
	assert_int_equal(s.last.perm, IOMMU_RO);

	pager_set(&p, 2, (0x104000 | IOMMU_RW));
	assert_int_equal(s.unmaps, 1);
	assert_int_equal(s.maps, 2);
	assert_int_equal(s.last.translated_addr, 0x104000);
	assert_int_equal(s.last.perm, IOMMU_RW);
	stl_le_phys(&dma, 0x2000, 0x77);
	assert_int_equal(ldl_le_phys(&f->as, 0x104000), 0x77);

	/* UNMAP-only notifier outside the changed range sees nothing. */
	memset(&s2, 0, sizeof(s2));
	iommu_notifier_init(&s2.n, shadow_notify, IOMMU_NOTIFIER_UNMAP, 0x8000, 0xffff, 0);
	assert_int_equal(
		memory_region_register_iommu_notifier(MEMORY_REGION(&p.iommu), &s2.n, NULL), 0);
	pager_set(&p, 2, 0);
	assert_int_equal(s.unmaps, 2);
	assert_int_equal(s2.unmaps, 0);
	/* Registered twice: refused. */
	assert_int_equal(
		memory_region_register_iommu_notifier(MEMORY_REGION(&p.iommu), &s2.n, NULL),
		-EINVAL);
	assert_int_equal(take_error(f, NULL), -EINVAL);
	/* A consumer dropping its state hears of one unmap of its whole range. */
	memory_region_unmap_iommu_notifier_range(&s2.n);
	assert_int_equal(s2.unmaps, 1);
	assert_int_equal(s2.last.iova, 0x8000);
	assert_int_equal(s2.last.addr_mask, 0x7fff);
	s2.unmaps = 0;

	/* Left alone, the UNMAP-only notifier gets unmaps in its range only. */
	memory_region_unregister_iommu_notifier(&iommu_alias, &s.n);
	assert_int_equal(p.flags_seen, IOMMU_NOTIFIER_UNMAP);
	pager_set(&p, 9, (0x105000 | IOMMU_RW));
	assert_int_equal(s2.maps, 0);
	pager_set(&p, 9, 0);
	assert_int_equal(s2.unmaps, 1);
	assert_int_equal(s2.last.iova, 0x9000);
	assert_int_equal(s2.last.perm, IOMMU_NONE);
	memory_region_unregister_iommu_notifier(MEMORY_REGION(&p.iommu), &s2.n);
	assert_int_equal(p.flags_seen, IOMMU_NOTIFIER_NONE);
	/* Unregistered twice: refused. */
	memory_region_unregister_iommu_notifier(MEMORY_REGION(&p.iommu), &s2.n);
	assert_int_equal(take_error(f, NULL), -EINVAL);

	/* Destroying the IOMMU region unregisters what is left on it. */
	pager p2;
	memset(&p2, 0, sizeof(p2));
	p2.target = &f->as;
	memory_region_init_iommu(&p2.iommu, sizeof(p2.iommu), &pager_class, &f->machine, "p2",
				 64 * KIB);
	iommu_notifier_init(&s2.n, shadow_notify, IOMMU_NOTIFIER_UNMAP, 0, 0xffff, 0);
	assert_int_equal(
		memory_region_register_iommu_notifier(MEMORY_REGION(&p2.iommu), &s2.n, NULL), 0);
	assert_int_equal(p2.flags_seen, IOMMU_NOTIFIER_UNMAP);
	memory_region_destroy(MEMORY_REGION(&p2.iommu));
	assert_null(s2.n.priv_handle);
	assert_int_equal(p2.flags_seen, IOMMU_NOTIFIER_NONE);

	/* The class refuses MAP notifiers: registration fails with its errno. */
	p.refuse_map = true;
	assert_int_equal(memory_region_register_iommu_notifier(MEMORY_REGION(&p.iommu), &s.n, &err),
			 -ENOTSUP);
	assert_non_null(err);
	assert_int_equal(err->err, -ENOTSUP);
	error_free(err);
	assert_null(s.n.priv_handle);
	assert_int_equal(take_error(f, NULL), -ENOTSUP);

	/* A malformed event (a MAP without permission) is refused and recorded. */
	IOMMUTLBEvent bad;
	memset(&bad, 0, sizeof(bad));
	bad.type = IOMMU_NOTIFIER_MAP;
	bad.entry.target_as = &f->as;
	bad.entry.addr_mask = 0xfff;
	memory_region_notify_iommu(&p.iommu, 0, bad);
	assert_int_equal(take_error(f, NULL), -EINVAL);

	/* Notifier registration on something that is not an IOMMU. */
	assert_int_equal(memory_region_register_iommu_notifier(&ram, &s.n, NULL), -EINVAL);
	assert_int_equal(take_error(f, NULL), -EINVAL);
	/* An IOMMU class without translate. */
	static const IOMMUMemoryRegionClass empty_class = {NULL, NULL, NULL, NULL,
							   NULL, NULL, NULL};
	IOMMUMemoryRegion bad_iommu;
	memory_region_init_iommu(&bad_iommu, sizeof(bad_iommu), &empty_class, &f->machine, "bad",
				 4096);
	assert_null(qemu_compat_region(MEMORY_REGION(&bad_iommu)));
	assert_int_equal(take_error(f, NULL), -EINVAL);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_io_region_calls_qemu_style_callbacks_with_opaque_first),
		T(test_big_endian_device_and_reservation),
		T(test_ram_rom_pointer_and_device_memory),
		T(test_rom_device_switches_between_ram_and_callbacks),
		T(test_resizeable_ram_and_backend_constructors),
		T(test_subregions_aliases_and_setters),
		T(test_failed_edits_are_recorded_and_change_nothing),
		T(test_destroy_and_wrap),
		T(test_listener_sees_sections_with_their_memory_regions),
		T(test_global_dirty_log_refusal_carries_the_listeners_errno),
		T(test_dirty_log_get_set_reset_and_snapshot),
		T(test_rw_map_unmap_and_dma),
		T(test_iommu_class_translates_and_notifies_in_qemu_terms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
