/*
 * test_ioevent.c: coalesced MMIO windows, ioeventfds and execute-from-MMIO
 * (ioevent.c, with the listener difference of listener.c and the access
 * path's ioeventfd check in access.c).
 *
 * Listener callbacks are logged one per line, as in test_listener.c:
 *   "cadd <range> <addr>+<size>", "cdel ...", for coalesced windows;
 *   "eadd <start>-<last> <region> @<offset> s<size> [d<data>] fd<n>", "edel ...".
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <cmocka.h>

#include "ms_unit.h"

/* ---- a device that counts its writes ------------------------------------------- */

typedef struct dev {
	unsigned writes;
	uint64_t last_data;
	uint8_t backing[0x100];
	bool decline;
	uint64_t bad_offset; /* request_ptr answers this window start when set */
} dev;

static uint64_t dev_read(uint64_t addr, unsigned size, void *opaque)
{
	(void)addr;
	(void)size;
	(void)opaque;
	return 0;
}

static void dev_write(uint64_t addr, uint64_t data, unsigned size, void *opaque)
{
	dev *d = opaque;

	(void)addr;
	(void)size;
	d->writes++;
	d->last_data = data;
}

static void *dev_request_ptr(uint64_t addr, uint64_t *offset, uint64_t *size, void *opaque)
{
	dev *d = opaque;

	(void)addr;
	if (d->decline)
		return NULL;
	*offset = d->bad_offset ? d->bad_offset : 0x40;
	*size = 0x1000; /* larger than the region: clipped */
	return d->backing + 0x40;
}

static const ms_region_ops dev_ops_v1 = {
	.version = 1, .read = dev_read, .write = dev_write, .endianness = MS_ENDIAN_LITTLE};
static const ms_region_ops dev_ops_v2 = {.version = 2,
					 .read = dev_read,
					 .write = dev_write,
					 .endianness = MS_ENDIAN_LITTLE,
					 .request_ptr = dev_request_ptr};

static ms_region *new_dev(ms_ctx *ctx, const char *name, const ms_region_ops *ops, dev *d)
{
	ms_region *r = NULL;

	assert_int_equal(
		ms_region_new_io(
			&r, ctx,
			&(ms_region_io_opts){.name = name, .size = 0x100, .ops = ops, .opaque = d}),
		0);
	return r;
}

static int new_eventfd(void)
{
	int fd = eventfd(0, EFD_NONBLOCK);

	assert_true(fd >= 0);
	return fd;
}

/* The eventfd's counter, reset to 0. */
static uint64_t take_count(int fd)
{
	uint64_t n = 0;

	if (read(fd, &n, sizeof(n)) != (ssize_t)sizeof(n))
		return 0; /* EAGAIN: not signalled */
	return n;
}

/* ---- a version 3 listener that logs the new callbacks ---------------------------- */

static strbuf event_log;

static void log_coalesced(const char *what, const ms_section *s, uint64_t addr, uint64_t size)
{
	sb_printf(&event_log, "%s ", what);
	section_append(&event_log, s);
	sb_printf(&event_log, " %" PRIx64 "+%" PRIx64 "\n", addr, size);
}

static void on_cadd(const ms_section *s, uint64_t addr, uint64_t size, void *opaque)
{
	(void)opaque;
	log_coalesced("cadd", s, addr, size);
}

static void on_cdel(const ms_section *s, uint64_t addr, uint64_t size, void *opaque)
{
	(void)opaque;
	log_coalesced("cdel", s, addr, size);
}

static void log_eventfd(const char *what, const ms_section *s, const ms_ioeventfd *e)
{
	assert_int_equal(s->offset_in_region, e->offset);
	assert_int_equal(s->size, e->size);
	sb_printf(&event_log, "%s %04" PRIx64 "-%04" PRIx64 " %s @%" PRIx64 " s%u", what, s->start,
		  s->last, ms_region_name(s->region), s->offset_in_region, e->size);
	if (e->match_data)
		sb_printf(&event_log, " d%" PRIx64, e->data);
	sb_printf(&event_log, " fd%d\n", e->fd);
}

static void on_eadd(const ms_section *s, const ms_ioeventfd *e, void *opaque)
{
	(void)opaque;
	log_eventfd("eadd", s, e);
}

static void on_edel(const ms_section *s, const ms_ioeventfd *e, void *opaque)
{
	(void)opaque;
	log_eventfd("edel", s, e);
}

static void on_begin(void *opaque)
{
	(void)opaque;
	sb_printf(&event_log, "begin\n");
}

static void on_commit(void *opaque)
{
	(void)opaque;
	sb_printf(&event_log, "commit\n");
}

static void on_add(const ms_section *s, void *opaque)
{
	(void)opaque;
	sb_printf(&event_log, "add ");
	section_append(&event_log, s);
	sb_printf(&event_log, "\n");
}

static void on_del(const ms_section *s, void *opaque)
{
	(void)opaque;
	sb_printf(&event_log, "del ");
	section_append(&event_log, s);
	sb_printf(&event_log, "\n");
}

static const ms_listener_ops v3_ops = {.version = 3,
				       .begin = on_begin,
				       .commit = on_commit,
				       .region_add = on_add,
				       .region_del = on_del,
				       .coalesced_io_add = on_cadd,
				       .coalesced_io_del = on_cdel,
				       .eventfd_add = on_eadd,
				       .eventfd_del = on_edel};

#define LOG_IS(expected)                                         \
	do {                                                     \
		assert_string_equal(event_log.text, (expected)); \
		sb_reset(&event_log);                            \
	} while (0)

/* ---- tests ---------------------------------------------------------------------- */

static void test_matching_write_signals_the_eventfd_instead_of_the_device(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *root = new_container(ctx, "root", 0x10000);
	dev d = {0};
	ms_region *io = new_dev(ctx, "dev", &dev_ops_v1, &d);
	ms_as *as = new_as(ctx, root, "as");
	int fd = new_eventfd(), any_fd = new_eventfd();
	ms_ioeventfd e = {.offset = 0x10, .size = 4, .match_data = true, .data = 0x1234, .fd = fd};
	ms_ioeventfd any = {.offset = 0x20, .size = 0, .fd = any_fd};

	(void)state;
	assert_int_equal(ms_region_add_subregion(root, 0x1000, io), 0);
	assert_int_equal(ms_region_add_eventfd(io, &e), 0);
	assert_int_equal(ms_region_add_eventfd(io, &any), 0);

	/* Matching address, size and data: the eventfd, not the device. */
	assert_int_equal(ms_as_stl_le(as, 0x1010, MS_ATTRS_UNSPECIFIED, 0x1234), MS_RESULT_OK);
	assert_int_equal(take_count(fd), 1);
	assert_int_equal(d.writes, 0);
	/* Other data, another width, another address: the device. */
	assert_int_equal(ms_as_stl_le(as, 0x1010, MS_ATTRS_UNSPECIFIED, 0x1235), MS_RESULT_OK);
	assert_int_equal(ms_as_stw_le(as, 0x1010, MS_ATTRS_UNSPECIFIED, 0x1234), MS_RESULT_OK);
	assert_int_equal(ms_as_stl_le(as, 0x1014, MS_ATTRS_UNSPECIFIED, 0x1234), MS_RESULT_OK);
	assert_int_equal(take_count(fd), 0);
	assert_int_equal(d.writes, 3);
	/* Any width, any data. */
	assert_int_equal(ms_as_stb(as, 0x1020, MS_ATTRS_UNSPECIFIED, 7), MS_RESULT_OK);
	assert_int_equal(ms_as_stq_le(as, 0x1020, MS_ATTRS_UNSPECIFIED, 9), MS_RESULT_OK);
	assert_int_equal(take_count(any_fd), 2);
	assert_int_equal(d.writes, 3);
	/* Reads are never affected. */
	(void)ms_as_ldl_le(as, 0x1010, MS_ATTRS_UNSPECIFIED, NULL);
	assert_int_equal(take_count(fd), 0);
	/* Direct dispatch to the region checks them too (QEMU's TCG path). */
	assert_int_equal(ms_region_dispatch_write(io, 0x10, 0x1234, 4, MS_ATTRS_UNSPECIFIED),
			 MS_RESULT_OK);
	assert_int_equal(take_count(fd), 1);
	/* Gone: the device again. */
	assert_int_equal(ms_region_del_eventfd(io, &e), 0);
	assert_int_equal(ms_as_stl_le(as, 0x1010, MS_ATTRS_UNSPECIFIED, 0x1234), MS_RESULT_OK);
	assert_int_equal(take_count(fd), 0);
	assert_int_equal(d.writes, 4);
	assert_int_equal(d.last_data, 0x1234);

	ms_region_unref(io);
	ms_as_free(as);
	ms_region_unref(root);
	ms_ctx_free(ctx);
	close(fd);
	close(any_fd);
}

static void test_data_is_matched_in_the_devices_byte_order(void **state)
{
	static const ms_region_ops be_ops = {
		.version = 1, .read = dev_read, .write = dev_write, .endianness = MS_ENDIAN_BIG};
	ms_ctx *ctx = new_ctx();
	ms_region *root = new_container(ctx, "root", 0x10000);
	dev d = {0};
	ms_region *io = new_dev(ctx, "dev", &be_ops, &d);
	ms_as *as = new_as(ctx, root, "as");
	int fd = new_eventfd();
	ms_ioeventfd e = {.offset = 0, .size = 2, .match_data = true, .data = 0x1234, .fd = fd};

	(void)state;
	assert_int_equal(ms_region_add_subregion(root, 0, io), 0);
	assert_int_equal(ms_region_add_eventfd(io, &e), 0);
	/* Bytes 12 34 in memory order: the big-endian device's value 0x1234. */
	assert_int_equal(ms_as_write(as, 0, MS_ATTRS_UNSPECIFIED, "\x12\x34", 2), MS_RESULT_OK);
	assert_int_equal(take_count(fd), 1);
	assert_int_equal(ms_as_write(as, 0, MS_ATTRS_UNSPECIFIED, "\x34\x12", 2), MS_RESULT_OK);
	assert_int_equal(take_count(fd), 0);
	assert_int_equal(d.writes, 1);
	ms_region_unref(io);
	ms_as_free(as);
	ms_region_unref(root);
	ms_ctx_free(ctx);
	close(fd);
}

static void test_bad_arguments_are_refused_and_change_nothing(void **state)
{
	ms_ctx *ctx = new_ctx();
	dev d = {0};
	ms_region *io = new_dev(ctx, "dev", &dev_ops_v1, &d);
	ms_region *ram = new_ram(ctx, "ram", 0x100);
	int fd = new_eventfd();
	ms_ioeventfd e = {.offset = 0xfc, .size = 4, .fd = fd};
	ms_ioeventfd bad;

	(void)state;
	assert_int_equal(ms_region_add_eventfd(NULL, &e), -EINVAL);
	assert_int_equal(ms_region_add_eventfd(io, NULL), -EINVAL);
	assert_int_equal(ms_region_add_eventfd(ram, &e), -EINVAL);
	{
		ms_region *reservation = new_io(ctx, "reserved", 0x100);

		assert_int_equal(ms_region_add_eventfd(reservation, &e), -EINVAL);
		assert_int_equal(ms_region_add_coalescing(reservation, 0, 1), -EINVAL);
		ms_region_unref(reservation);
	}
	bad = e;
	bad.size = 3;
	assert_int_equal(ms_region_add_eventfd(io, &bad), -EINVAL);
	bad = e;
	bad.fd = -1;
	assert_int_equal(ms_region_add_eventfd(io, &bad), -EINVAL);
	bad = e;
	bad.offset = 0xfd; /* 4 bytes past the end */
	assert_int_equal(ms_region_add_eventfd(io, &bad), -EINVAL);
	assert_int_equal(ms_region_del_eventfd(io, &e), -ENOENT);
	assert_int_equal(ms_region_del_eventfd(NULL, &e), -EINVAL);
	assert_int_equal(ms_region_add_eventfd(io, &e), 0);
	assert_int_equal(ms_region_add_eventfd(io, &e), -EEXIST);
	bad = e;
	bad.match_data = true;
	assert_int_equal(ms_region_del_eventfd(io, &bad), -ENOENT);
	assert_int_equal(ms_region_del_eventfd(io, &e), 0);
	assert_int_equal(ms_region_del_eventfd(io, &e), -ENOENT);

	assert_int_equal(ms_region_add_coalescing(NULL, 0, 1), -EINVAL);
	assert_int_equal(ms_region_add_coalescing(ram, 0, 1), -EINVAL);
	assert_int_equal(ms_region_add_coalescing(io, 0, 0), -EINVAL);
	assert_int_equal(ms_region_add_coalescing(io, 0xff, 2), -EINVAL);
	assert_int_equal(ms_region_add_coalescing(io, UINT64_MAX, 2), -EINVAL);
	assert_int_equal(ms_region_clear_coalescing(NULL), -EINVAL);
	assert_int_equal(ms_region_clear_coalescing(io), 0);
	ms_region_unref(io);
	ms_region_unref(ram);
	ms_ctx_free(ctx);
	close(fd);
}

static void test_listeners_hear_the_difference_at_each_commit(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *root = new_container(ctx, "root", 0x10000);
	dev d = {0};
	ms_region *io = new_dev(ctx, "dev", &dev_ops_v1, &d);
	ms_as *as = new_as(ctx, root, "as");
	ms_listener *l = NULL;
	ms_ioeventfd e = {.offset = 0x10, .size = 4, .match_data = true, .data = 5, .fd = 7};

	(void)state;
	sb_reset(&event_log);
	assert_int_equal(ms_region_add_subregion(root, 0x1000, io), 0);
	assert_int_equal(ms_listener_register(&l, as, &v3_ops, NULL), 0);
	LOG_IS("begin\nadd 1000-10ff dev @0\ncommit\n");

	assert_int_equal(ms_region_add_coalescing(io, 0x80, 0x80), 0);
	LOG_IS("begin\ncadd 1000-10ff dev @0 1080+80\ncommit\n");
	assert_int_equal(ms_region_add_eventfd(io, &e), 0);
	LOG_IS("begin\neadd 1010-1013 dev @10 s4 d5 fd7\ncommit\n");

	/* Moved: the ranges first, then what went away, then what appeared. */
	assert_int_equal(ms_region_set_address(io, 0x2000), 0);
	LOG_IS("begin\ndel 1000-10ff dev @0\nadd 2000-20ff dev @0\n"
	       "cdel 1000-10ff dev @0 1080+80\nedel 1010-1013 dev @10 s4 d5 fd7\n"
	       "cadd 2000-20ff dev @0 2080+80\neadd 2010-2013 dev @10 s4 d5 fd7\ncommit\n");

	/* An alias shows the second half again: the window there, not the eventfd. */
	{
		ms_region *alias = new_alias(ctx, "alias", io, 0x80, 0x80);

		assert_int_equal(ms_region_add_subregion(root, 0x8000, alias), 0);
		ms_region_unref(alias);
	}
	LOG_IS("begin\nadd 8000-807f dev @80\ncadd 8000-807f dev @80 8000+80\ncommit\n");

	/* A transaction: one difference at its end. */
	assert_int_equal(ms_transaction_begin(ctx), 0);
	assert_int_equal(ms_region_clear_coalescing(io), 0);
	assert_int_equal(ms_region_del_eventfd(io, &e), 0);
	assert_int_equal(ms_region_add_coalescing(io, 0, 1), 0);
	LOG_IS("");
	assert_int_equal(ms_transaction_commit(ctx), 0);
	LOG_IS("begin\ncdel 2000-20ff dev @0 2080+80\ncdel 8000-807f dev @80 8000+80\n"
	       "edel 2010-2013 dev @10 s4 d5 fd7\ncadd 2000-20ff dev @0 2000+1\ncommit\n");

	/* Unregistration: the events go before the ranges. */
	assert_int_equal(ms_listener_unregister(l), 0);
	LOG_IS("begin\ncdel 2000-20ff dev @0 2000+1\ndel 2000-20ff dev @0\ndel 8000-807f dev @80\n"
	       "commit\n");
	/* And registration replays them after the ranges. */
	assert_int_equal(ms_listener_register(&l, as, &v3_ops, NULL), 0);
	LOG_IS("begin\nadd 2000-20ff dev @0\nadd 8000-807f dev @80\ncadd 2000-20ff dev @0 2000+1\n"
	       "commit\n");
	assert_int_equal(ms_listener_unregister(l), 0);
	sb_reset(&event_log);

	ms_region_unref(io);
	ms_as_free(as);
	ms_region_unref(root);
	ms_ctx_free(ctx);
}

static void must_not_be_called_c(const ms_section *s, uint64_t addr, uint64_t size, void *opaque)
{
	(void)s;
	(void)addr;
	(void)size;
	(void)opaque;
	fail_msg("a version 3 callback of a version 2 table was called");
}

static void must_not_be_called_e(const ms_section *s, const ms_ioeventfd *e, void *opaque)
{
	(void)s;
	(void)e;
	(void)opaque;
	fail_msg("a version 3 callback of a version 2 table was called");
}

static void test_older_listener_tables_never_see_the_new_callbacks(void **state)
{
	/* A version 2 table whose appended fields hold what a caller built
	 * against the old header would have there: anything. */
	ms_listener_ops v2 = {.version = 2,
			      .region_add = on_add,
			      .coalesced_io_add = must_not_be_called_c,
			      .coalesced_io_del = must_not_be_called_c,
			      .eventfd_add = must_not_be_called_e,
			      .eventfd_del = must_not_be_called_e};
	ms_ctx *ctx = new_ctx();
	ms_region *root = new_container(ctx, "root", 0x10000);
	dev d = {0};
	ms_region *io = new_dev(ctx, "dev", &dev_ops_v1, &d);
	ms_as *as = new_as(ctx, root, "as");
	ms_ioeventfd e = {.offset = 0, .size = 1, .fd = 3};
	ms_listener *l2 = NULL, *l3 = NULL;

	(void)state;
	assert_int_equal(ms_region_add_coalescing(io, 0, 0x100), 0);
	assert_int_equal(ms_region_add_subregion(root, 0, io), 0);
	assert_int_equal(ms_listener_register(&l2, as, &v2, NULL), 0);
	assert_int_equal(ms_listener_register(&l3, as, &v3_ops, NULL), 0);
	assert_int_equal(ms_region_add_eventfd(io, &e), 0);
	assert_int_equal(ms_region_set_address(io, 0x100), 0);
	assert_int_equal(ms_listener_unregister(l2), 0);
	assert_int_equal(ms_listener_unregister(l3), 0);
	sb_reset(&event_log);
	ms_region_unref(io);
	ms_as_free(as);
	ms_region_unref(root);
	ms_ctx_free(ctx);
}

typedef struct busy_probe {
	ms_region *io;
	int rc_add, rc_coalesce;
} busy_probe;

static void busy_add(const ms_section *s, void *opaque)
{
	busy_probe *p = opaque;
	ms_ioeventfd e = {.offset = 0, .size = 1, .fd = 3};

	(void)s;
	p->rc_add = ms_region_add_eventfd(p->io, &e);
	p->rc_coalesce = ms_region_add_coalescing(p->io, 0, 1);
}

static void test_listener_cannot_change_events_from_a_callback(void **state)
{
	static const ms_listener_ops ops = {.version = 3, .region_add = busy_add};
	ms_ctx *ctx = new_ctx();
	ms_region *root = new_container(ctx, "root", 0x10000);
	dev d = {0};
	ms_region *io = new_dev(ctx, "dev", &dev_ops_v1, &d);
	ms_as *as = new_as(ctx, root, "as");
	busy_probe probe = {io, 1, 1};
	ms_listener *l = NULL;
	ms_ioeventfd e = {.offset = 0, .size = 1, .fd = 3};

	(void)state;
	assert_int_equal(ms_listener_register(&l, as, &ops, &probe), 0);
	assert_int_equal(ms_region_add_subregion(root, 0, io), 0);
	assert_int_equal(probe.rc_add, -EBUSY);
	assert_int_equal(probe.rc_coalesce, -EBUSY);
	/* Nothing was registered. */
	assert_int_equal(ms_region_del_eventfd(io, &e), -ENOENT);
	assert_int_equal(ms_listener_unregister(l), 0);
	ms_region_unref(io);
	ms_as_free(as);
	ms_region_unref(root);
	ms_ctx_free(ctx);
}

static void test_failed_commit_changes_nothing(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *root = new_container(ctx, "root", 0x10000);
	dev d = {0};
	ms_region *io = new_dev(ctx, "dev", &dev_ops_v1, &d);
	ms_as *as = new_as(ctx, root, "as");
	ms_listener *l = NULL;
	int fd = new_eventfd();
	ms_ioeventfd e = {.offset = 0, .size = 1, .fd = fd};
	unsigned n, failures = 0;
	int rc;

	(void)state;
	assert_int_equal(ms_region_add_subregion(root, 0, io), 0);
	assert_int_equal(ms_listener_register(&l, as, &v3_ops, NULL), 0);
	sb_reset(&event_log);
	for (n = 1;; n++) {
		ms_ctx_test_control(ctx, MS_TEST_FAIL_ALLOC_AFTER, n);
		rc = ms_region_add_eventfd(io, &e);
		ms_ctx_test_control(ctx, MS_TEST_FAIL_ALLOC_AFTER, 0);
		if (rc == 0)
			break;
		assert_int_equal(rc, -ENOMEM);
		failures++;
		LOG_IS("");
		assert_int_equal(ms_as_stb(as, 0, MS_ATTRS_UNSPECIFIED, 1), MS_RESULT_OK);
		assert_int_equal(take_count(fd), 0);
	}
	assert_true(failures >= 2); /* the table, and the commit's own arrays */
	{
		char expected[128];

		snprintf(expected, sizeof(expected),
			 "begin\neadd 0000-0000 dev @0 s1 fd%d\ncommit\n", fd);
		LOG_IS(expected);
	}
	assert_int_equal(ms_as_stb(as, 0, MS_ATTRS_UNSPECIFIED, 1), MS_RESULT_OK);
	assert_int_equal(take_count(fd), 1);
	assert_int_equal(ms_listener_unregister(l), 0);
	sb_reset(&event_log);
	ms_region_unref(io);
	ms_as_free(as);
	ms_region_unref(root);
	ms_ctx_free(ctx);
	close(fd);
}

static void test_request_ptr_gives_the_devices_window_clipped_to_the_region(void **state)
{
	ms_ctx *ctx = new_ctx();
	dev d = {0};
	ms_region *v2 = new_dev(ctx, "v2", &dev_ops_v2, &d);
	ms_region *v1 = new_dev(ctx, "v1", &dev_ops_v1, &d);
	ms_region *ram = new_ram(ctx, "ram", 0x100);
	ms_mmio_ptr p = {0}, untouched = {(void *)&p, 1, 2};

	(void)state;
	assert_int_equal(ms_region_request_ptr(&p, v2, 0x44), 0);
	assert_ptr_equal(p.host, d.backing + 0x40);
	assert_int_equal(p.offset, 0x40);
	assert_int_equal(p.size, 0xc0); /* clipped at the region's end */

	p = untouched;
	assert_int_equal(ms_region_request_ptr(&p, v1, 0x44), -EOPNOTSUPP);
	assert_int_equal(ms_region_request_ptr(&p, ram, 0x44), -EOPNOTSUPP);
	assert_int_equal(ms_region_request_ptr(&p, v2, 0x100), -EINVAL);
	assert_int_equal(ms_region_request_ptr(NULL, v2, 0), -EINVAL);
	assert_int_equal(ms_region_request_ptr(&p, NULL, 0), -EINVAL);
	/* A window that does not hold the offset asked for. */
	assert_int_equal(ms_region_request_ptr(&p, v2, 0x10), -EINVAL);
	d.bad_offset = 0x50;
	assert_int_equal(ms_region_request_ptr(&p, v2, 0x44), -EINVAL);
	d.bad_offset = 0;
	d.decline = true;
	assert_int_equal(ms_region_request_ptr(&p, v2, 0x44), -ENODATA);
	assert_memory_equal(&p, &untouched, sizeof(p));
	ms_region_unref(v1);
	ms_region_unref(v2);
	ms_region_unref(ram);
	ms_ctx_free(ctx);
}

static void on_named_eadd(const ms_section *s, const ms_ioeventfd *e, void *opaque)
{
	(void)s;
	sb_printf(&event_log, "%s eadd %u\n", (const char *)opaque, e->size);
}

static void on_named_edel(const ms_section *s, const ms_ioeventfd *e, void *opaque)
{
	(void)s;
	sb_printf(&event_log, "%s edel %u\n", (const char *)opaque, e->size);
}

static void test_adds_run_in_ascending_priority_dels_in_descending(void **state)
{
	static const ms_listener_ops hi = {.version = 3,
					   .priority = 10,
					   .eventfd_add = on_named_eadd,
					   .eventfd_del = on_named_edel};
	static const ms_listener_ops lo = {.version = 3,
					   .priority = -5,
					   .eventfd_add = on_named_eadd,
					   .eventfd_del = on_named_edel};
	ms_ctx *ctx = new_ctx();
	ms_region *root = new_container(ctx, "root", 0x10000);
	dev d = {0};
	ms_region *io = new_dev(ctx, "dev", &dev_ops_v1, &d);
	ms_as *as = new_as(ctx, root, "as");
	ms_ioeventfd one = {.offset = 0, .size = 1, .fd = 3};
	ms_ioeventfd two = {.offset = 0, .size = 2, .fd = 3};
	ms_listener *lh = NULL, *ll = NULL;

	(void)state;
	sb_reset(&event_log);
	assert_int_equal(ms_region_add_subregion(root, 0, io), 0);
	assert_int_equal(ms_listener_register(&lh, as, &hi, (void *)"hi"), 0);
	assert_int_equal(ms_listener_register(&ll, as, &lo, (void *)"lo"), 0);
	assert_int_equal(ms_region_add_eventfd(io, &one), 0);
	LOG_IS("lo eadd 1\nhi eadd 1\n");
	/* One commit: the old one goes (descending) before the new one comes. */
	assert_int_equal(ms_transaction_begin(ctx), 0);
	assert_int_equal(ms_region_del_eventfd(io, &one), 0);
	assert_int_equal(ms_region_add_eventfd(io, &two), 0);
	assert_int_equal(ms_transaction_commit(ctx), 0);
	LOG_IS("hi edel 1\nlo edel 1\nlo eadd 2\nhi eadd 2\n");
	/* Deleted with its region: the difference reports it gone. */
	assert_int_equal(ms_region_del_subregion(root, io), 0);
	LOG_IS("hi edel 2\nlo edel 2\n");
	assert_int_equal(ms_listener_unregister(lh), 0);
	assert_int_equal(ms_listener_unregister(ll), 0);
	LOG_IS("");
	ms_region_unref(io);
	ms_as_free(as);
	ms_region_unref(root);
	ms_ctx_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matching_write_signals_the_eventfd_instead_of_the_device),
		cmocka_unit_test(test_data_is_matched_in_the_devices_byte_order),
		cmocka_unit_test(test_bad_arguments_are_refused_and_change_nothing),
		cmocka_unit_test(test_listeners_hear_the_difference_at_each_commit),
		cmocka_unit_test(test_older_listener_tables_never_see_the_new_callbacks),
		cmocka_unit_test(test_adds_run_in_ascending_priority_dels_in_descending),
		cmocka_unit_test(test_listener_cannot_change_events_from_a_callback),
		cmocka_unit_test(test_failed_commit_changes_nothing),
		cmocka_unit_test(test_request_ptr_gives_the_devices_window_clipped_to_the_region),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
