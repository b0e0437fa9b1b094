/*
 * test_vfio_user.c: the vfio-user client (include/memspace/vfio_user.h).
 *
 * The decoder is tested on bytes; the client against the real libvfio-user
 * through our test server tests/vfio_user/vfu_server.c (see its top comment
 * for the device), started per test on a socket in a fresh directory; and
 * against misbehaving servers of our own (a thread on a listening socket).
 * When libvfio-user is not available (tests/vfio_user/CMakeLists.txt), the
 * tests that need it are skipped with the reason.
 *
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <memspace.h>

#include "ms_unit.h"
#include "test_iommu_support.h"
#include "vfio_user.h"

/* ---- the decoder, on bytes ---- */

static size_t msg(uint8_t *buf, uint16_t id, uint16_t cmd, uint32_t flags, uint32_t err,
		  const void *payload, size_t plen)
{
	ms__vfio_user_hdr h = {id, cmd, (uint32_t)(MS__VFU_HDR_LEN + plen), flags, err};

	ms__vfio_user_hdr_encode(buf, &h);
	if (plen)
		memcpy(buf + MS__VFU_HDR_LEN, payload, plen);
	return MS__VFU_HDR_LEN + plen;
}

static void header_and_reply_checks(void **state)
{
	uint8_t buf[64];
	const uint8_t *p;
	size_t plen, n;
	ms__vfio_user_hdr h;

	(void)state;
	n = msg(buf, 7, MS__VFU_CMD_DEVICE_RESET, MS__VFU_TYPE_REPLY, 0, NULL, 0);
	assert_int_equal(ms__vfio_user_check_reply(buf, n, 7, MS__VFU_CMD_DEVICE_RESET, &p, &plen),
			 0);
	assert_int_equal(plen, 0);
	/* Another id, another command, a command instead of a reply. */
	assert_int_equal(ms__vfio_user_check_reply(buf, n, 8, MS__VFU_CMD_DEVICE_RESET, &p, &plen),
			 -EPROTO);
	assert_int_equal(ms__vfio_user_check_reply(buf, n, 7, MS__VFU_CMD_VERSION, &p, &plen),
			 -EPROTO);
	n = msg(buf, 7, MS__VFU_CMD_DEVICE_RESET, MS__VFU_TYPE_COMMAND, 0, NULL, 0);
	assert_int_equal(ms__vfio_user_check_reply(buf, n, 7, MS__VFU_CMD_DEVICE_RESET, &p, &plen),
			 -EPROTO);
	/* Error replies give the server's errno; 0 or nonsense gives EIO. */
	n = msg(buf, 7, 13, MS__VFU_TYPE_REPLY | MS__VFU_F_ERROR, EPERM, NULL, 0);
	assert_int_equal(ms__vfio_user_check_reply(buf, n, 7, 13, &p, &plen), -EPERM);
	n = msg(buf, 7, 13, MS__VFU_TYPE_REPLY | MS__VFU_F_ERROR, 0, NULL, 0);
	assert_int_equal(ms__vfio_user_check_reply(buf, n, 7, 13, &p, &plen), -EIO);
	n = msg(buf, 7, 13, MS__VFU_TYPE_REPLY | MS__VFU_F_ERROR, 0x80000000u, NULL, 0);
	assert_int_equal(ms__vfio_user_check_reply(buf, n, 7, 13, &p, &plen), -EIO);
	/* Sizes: shorter than a header, larger than the bytes, absurd, wrong type. */
	assert_int_equal(ms__vfio_user_hdr_decode(buf, 15, &h), -EPROTO);
	n = msg(buf, 7, 13, MS__VFU_TYPE_REPLY, 0, NULL, 0);
	assert_int_equal(ms__vfio_user_check_reply(buf, n - 1, 7, 13, &p, &plen), -EPROTO);
	ms__vfio_user_put(buf + 4, 8, 4);
	assert_int_equal(ms__vfio_user_hdr_decode(buf, n, &h), -EPROTO);
	ms__vfio_user_put(buf + 4, MS__VFU_MAX_MSG + 1, 4);
	assert_int_equal(ms__vfio_user_hdr_decode(buf, n, &h), -EPROTO);
	ms__vfio_user_put(buf + 4, 16, 4);
	ms__vfio_user_put(buf + 8, 2, 4);
	assert_int_equal(ms__vfio_user_hdr_decode(buf, n, &h), -EPROTO);
}

static int version(const char *json, uint16_t major, uint16_t minor, ms_vfio_user_info *info)
{
	uint8_t buf[512];
	size_t n = json ? strlen(json) + 1 : 0;

	ms__vfio_user_put(buf, major, 2);
	ms__vfio_user_put(buf + 2, minor, 2);
	if (json)
		memcpy(buf + 4, json, n);
	return ms__vfio_user_version_decode(buf, 4 + n, info);
}

static void version_capabilities_are_parsed(void **state)
{
	ms_vfio_user_info info;
	uint8_t enc[256];
	int n;

	(void)state;
	assert_int_equal(
		version("{\"capabilities\":{\"max_msg_fds\":16,\"max_data_xfer_size\":"
			"65536,\"migration\":{\"pgsize\":4096},\"twin_socket\":"
			"{\"supported\":true,\"fd_index\":0},\"x\":[1,-2.5e3,\"s\\\"\",null]}}",
			0, 1, &info),
		0);
	assert_int_equal(info.max_msg_fds, 16);
	assert_int_equal(info.max_data_xfer_size, 65536);
	assert_true(info.migration);
	assert_int_equal(info.migration_pgsize, 4096);
	/* No capabilities at all: the defaults. */
	assert_int_equal(version(NULL, 0, 1, &info), 0);
	assert_int_equal(info.max_msg_fds, 1);
	assert_false(info.migration);
	assert_int_equal(version(" { } ", 0, 2, &info), 0);
	/* Another major version, minor 0, broken JSON, wrong types, trailing bytes. */
	assert_int_equal(version("{}", 1, 0, &info), -EPROTO);
	assert_int_equal(version("{}", 0, 0, &info), -EPROTO);
	assert_int_equal(version("{\"capabilities\":", 0, 1, &info), -EPROTO);
	assert_int_equal(version("{\"capabilities\":{\"max_msg_fds\":\"8\"}}", 0, 1, &info),
			 -EPROTO);
	assert_int_equal(version("{\"capabilities\":{\"max_msg_fds\":-1}}", 0, 1, &info), -EPROTO);
	assert_int_equal(version("{\"capabilities\":{\"max_data_xfer_size\":0}}", 0, 1, &info),
			 -EPROTO);
	assert_int_equal(
		version("{\"capabilities\":{\"max_msg_fds\":99999999999999999999}}", 0, 1, &info),
		-EPROTO);
	assert_int_equal(version("{} x", 0, 1, &info), -EPROTO);
	assert_int_equal(version("[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]", 0, 1, &info),
			 -EPROTO);
	{
		/* The JSON must end with the payload (one NUL, at the end). */
		uint8_t buf[16] = {0, 0, 1, 0, '{', '}', 0, 'x'};
		assert_int_equal(ms__vfio_user_version_decode(buf, 8, &info), -EPROTO);
		assert_int_equal(ms__vfio_user_version_decode(buf, 6, &info), -EPROTO);
		assert_int_equal(ms__vfio_user_version_decode(buf, 3, &info), -EPROTO);
	}
	/* What we send parses as what we mean. */
	n = ms__vfio_user_version_encode(enc, sizeof(enc));
	assert_true(n > 4);
	assert_int_equal(ms__vfio_user_version_decode(enc, (size_t)n, &info), 0);
	assert_int_equal(info.max_msg_fds, MS__VFU_MAX_FDS);
	assert_int_equal(info.max_data_xfer_size, MS__VFU_MAX_XFER);
	assert_int_equal(ms__vfio_user_version_encode(enc, 8), -ENOSPC);
}

/* A REGION_INFO reply of size @size with a sparse capability of @nr areas. */
static size_t region_reply(uint8_t *p, uint32_t index, uint64_t size, uint32_t nr,
			   const uint64_t *areas, uint32_t next)
{
	size_t len = MS__VFU_REGION_INFO_LEN + (nr ? 16 + 16 * nr : 0);

	memset(p, 0, len);
	ms__vfio_user_put(p, len, 4);
	ms__vfio_user_put(p + 4, 0x7u | (nr ? 0x8u : 0), 4);
	ms__vfio_user_put(p + 8, index, 4);
	ms__vfio_user_put(p + 12, nr ? 32 : 0, 4);
	ms__vfio_user_put(p + 16, size, 8);
	ms__vfio_user_put(p + 24, 0x10000, 8);
	if (nr) {
		ms__vfio_user_put(p + 32, 1, 2);
		ms__vfio_user_put(p + 36, next, 4);
		ms__vfio_user_put(p + 40, nr, 4);
		for (uint32_t i = 0; i < 2 * nr; i++)
			ms__vfio_user_put(p + 48 + 8 * i, areas[i], 8);
	}
	return len;
}

static void region_info_capabilities_are_checked(void **state)
{
	const uint64_t good[] = {0, 0x1000, 0x3000, 0x1000};
	const uint64_t outside[] = {0x3000, 0x2000};
	ms_vfio_user_region_info info;
	uint8_t p[256];
	uint64_t foff;
	size_t n;

	(void)state;
	n = region_reply(p, 1, 0x4000, 2, good, 0);
	assert_int_equal(ms__vfio_user_region_info_decode(p, n, 1, 1, &info, &foff), 0);
	assert_true(info.mmappable);
	assert_int_equal(foff, 0x10000);
	assert_int_equal(info.nr_areas, 2);
	assert_int_equal(info.areas[1].offset, 0x3000);
	/* Without an fd, nothing is mappable. */
	assert_int_equal(ms__vfio_user_region_info_decode(p, n, 1, 0, &info, &foff), 0);
	assert_false(info.mmappable);
	assert_int_equal(info.nr_areas, 0);
	/* Another index, two fds, truncated, an area outside, a loop. */
	assert_int_equal(ms__vfio_user_region_info_decode(p, n, 2, 1, &info, &foff), -EPROTO);
	assert_int_equal(ms__vfio_user_region_info_decode(p, n, 1, 2, &info, &foff), -EPROTO);
	assert_int_equal(ms__vfio_user_region_info_decode(p, n - 1, 1, 1, &info, &foff), -EPROTO);
	n = region_reply(p, 1, 0x4000, 1, outside, 0);
	assert_int_equal(ms__vfio_user_region_info_decode(p, n, 1, 1, &info, &foff), -EPROTO);
	n = region_reply(p, 1, 0x4000, 2, good, 32);
	assert_int_equal(ms__vfio_user_region_info_decode(p, n, 1, 1, &info, &foff), -EPROTO);
	/* The whole region when there is no sparse capability. */
	n = region_reply(p, 1, 0x4000, 0, NULL, 0);
	assert_int_equal(ms__vfio_user_region_info_decode(p, n, 1, 1, &info, &foff), 0);
	assert_int_equal(info.nr_areas, 1);
	assert_int_equal(info.areas[0].size, 0x4000);
}

/* ---- servers ---- */

typedef struct server {
	char dir[64];
	char path[96];
	pid_t pid;
} server;

static bool have_server(void)
{
#ifdef MS_VFU_SERVER
	return true;
#else
#ifdef MS_VFU_SKIP
	print_message("skipped: %s\n", MS_VFU_SKIP);
#else
	print_message("skipped: libvfio-user was not built\n");
#endif
	return false;
#endif
}

/* The cmocka tests NAME_shared_ram and NAME_messages: FN(true) moves DMA
 * through shared RAM, FN(false) through DMA_READ/DMA_WRITE messages; both
 * skip without a server to talk to. */
#define SERVER_TEST_PAIR(name, fn)                  \
	static void name##_shared_ram(void **state) \
	{                                           \
		(void)state;                        \
		if (!have_server())                 \
			skip();                     \
		fn(true);                           \
	}                                           \
	static void name##_messages(void **state)   \
	{                                           \
		(void)state;                        \
		if (!have_server())                 \
			skip();                     \
		fn(false);                          \
	}

static void socket_dir(server *s)
{
	strcpy(s->dir, "/tmp/ms-vfu-XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	snprintf(s->path, sizeof(s->path), "%s/sock", s->dir);
}

/* Start vfu_server and connect to it (retrying while it starts). */
static ms_vfio_user *server_start(server *s, ms_ctx *ctx, ms_as *dma_as)
{
	ms_vfio_user *dev = NULL;
	int ret = -ENOENT;

	socket_dir(s);
#ifdef MS_VFU_SERVER
	s->pid = fork();
	assert_true(s->pid >= 0);
	if (s->pid == 0) {
		setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
		execl(MS_VFU_SERVER, MS_VFU_SERVER, s->path, (char *)NULL);
		_exit(127);
	}
#endif
	for (int i = 0; i < 500 && (ret == -ENOENT || ret == -ECONNREFUSED); i++) {
		ret = ms_vfio_user_connect(
			&dev, ctx, &(ms_vfio_user_opts){.socket = s->path, .dma_as = dma_as});
		if (ret == -ENOENT || ret == -ECONNREFUSED)
			usleep(10000);
	}
	assert_int_equal(ret, 0);
	return dev;
}

/* Wait (bounded) for the server to exit; kill it if it does not. */
static void server_reap(server *s)
{
	int status;

	for (int i = 0; s->pid > 0 && i < 500; i++) {
		if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
			s->pid = 0;
			break;
		}
		usleep(10000);
	}
	if (s->pid > 0) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, &status, 0);
		s->pid = 0;
		fail_msg("the server did not exit after the client closed");
	}
	unlink(s->path);
	rmdir(s->dir);
}

/* A machine: system memory with guest RAM at 0 and room for BARs. */
typedef struct machine {
	ms_ctx *ctx;
	ms_region *root;
	ms_as *as;
	ms_region *ram;
	server srv;
	ms_vfio_user *dev;
	/* With an IOMMU: the device's view, through it onto system memory. */
	test_iommu *iommu;
	ms_region *dev_root;
	ms_as *dev_as;
} machine;

#define RAM_SIZE (1u << 20)
#define BAR0_ADDR 0x10000000u
#define BAR1_ADDR 0x20000000u

static void machine_new_with(machine *m, bool shared_ram, test_iommu *iommu)
{
	memset(m, 0, sizeof(*m));
	m->ctx = new_ctx();
	m->root = new_container(m->ctx, "system", UINT64_MAX);
	m->as = new_as(m->ctx, m->root, "memory");
	if (shared_ram)
		assert_int_equal(ms_region_new_ram_with(&m->ram, m->ctx,
							&(ms_ram_opts){.name = "ram",
								       .size = RAM_SIZE,
								       .backend = MS_RAM_MEMFD}),
				 0);
	else
		m->ram = new_ram(m->ctx, "ram", RAM_SIZE);
	assert_int_equal(ms_region_add_subregion(m->root, 0, m->ram), 0);
	if (iommu) {
		m->iommu = iommu;
		pt_init(iommu, m->ctx, "iommu", PT_PAGES * 4096, m->as, 1);
		m->dev_root = new_container(m->ctx, "dev-root", UINT64_MAX);
		assert_int_equal(ms_region_add_subregion(m->dev_root, 0, iommu->region), 0);
		m->dev_as = new_as(m->ctx, m->dev_root, "dev");
	}
	m->dev = server_start(&m->srv, m->ctx, iommu ? m->dev_as : m->as);
}

static void machine_new(machine *m, bool shared_ram)
{
	machine_new_with(m, shared_ram, NULL);
}

static void machine_place_bar(machine *m, uint32_t index, uint64_t addr)
{
	ms_region *bar = NULL;

	assert_int_equal(ms_vfio_user_region(&bar, m->dev, index, index ? "bar1" : "bar0"), 0);
	assert_int_equal(ms_region_add_subregion(m->root, addr, bar), 0);
	ms_region_unref(bar);
}

static void machine_free(machine *m)
{
	/* Take the BARs out of the view before the device goes. */
	while (ms_region_nr_subregions(m->root) > 1) {
		for (size_t i = 0; i < ms_region_nr_subregions(m->root); i++) {
			ms_region *r = ms_region_subregion(m->root, i);
			if (r != m->ram) {
				assert_int_equal(ms_region_del_subregion(m->root, r), 0);
				break;
			}
		}
	}
	ms_vfio_user_close(m->dev);
	server_reap(&m->srv);
	if (m->iommu) {
		ms_as_free(m->dev_as);
		ms_region_unref(m->dev_root);
		ms_region_unref(m->iommu->region);
	}
	ms_region_unref(m->ram);
	ms_as_free(m->as);
	ms_region_unref(m->root);
	ms_ctx_free(m->ctx);
}

static void connect_refuses_bad_arguments(void **state)
{
	ms_vfio_user *dev = (void *)1;
	ms_ctx *ctx = new_ctx();
	char longpath[200];

	(void)state;
	assert_int_equal(ms_vfio_user_connect(&dev, ctx, NULL), -EINVAL);
	assert_null(dev);
	assert_int_equal(ms_vfio_user_connect(&dev, NULL, &(ms_vfio_user_opts){.socket = "/x"}),
			 -EINVAL);
	assert_int_equal(ms_vfio_user_connect(NULL, ctx, &(ms_vfio_user_opts){.socket = "/x"}),
			 -EINVAL);
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = '\0';
	assert_int_equal(ms_vfio_user_connect(&dev, ctx, &(ms_vfio_user_opts){.socket = longpath}),
			 -EINVAL);
	assert_int_equal(ms_vfio_user_connect(&dev, ctx,
					      &(ms_vfio_user_opts){.socket = "/nonexistent/sock"}),
			 -ENOENT);
	assert_int_equal(ms_vfio_user_get_info(NULL, NULL), -EINVAL);
	assert_int_equal(ms_vfio_user_dma_map(NULL, 0, 1, NULL, 0, true), -EINVAL);
	assert_int_equal(ms_vfio_user_dma_unmap(NULL, 0, 1), -EINVAL);
	assert_int_equal(ms_vfio_user_reset(NULL), -EINVAL);
	assert_int_equal(ms_vfio_user_attach_iommu(NULL, NULL, 0), -EINVAL);
	assert_int_equal(ms_vfio_user_region(NULL, NULL, 0, "x"), -EINVAL);
	assert_int_equal(ms_vfio_user_region_rw(NULL, 0, 0, longpath, 1, false), -EINVAL);
	assert_int_equal(ms_vfio_user_get_region_info(NULL, 0, NULL), -EINVAL);
	assert_int_equal(ms_vfio_user_get_irq_info(NULL, 0, NULL, NULL), -EINVAL);
	ms_vfio_user_close(NULL);
	ms_ctx_free(ctx);
}

static void device_info_from_libvfio_user(void **state)
{
	ms_vfio_user_region_info ri;
	ms_vfio_user_info info;
	uint32_t count = 0, flags;
	uint16_t id[2];
	machine m;

	(void)state;
	if (!have_server())
		skip();
	machine_new(&m, false);
	assert_int_equal(ms_vfio_user_get_info(m.dev, &info), 0);
	assert_int_equal(info.major, 0);
	assert_true(info.minor >= 1);
	assert_true(info.max_data_xfer_size > 0);
	assert_int_equal(info.flags & 0x2u, 0x2u); /* a PCI device */
	assert_true(info.num_regions >= 9);
	assert_true(info.num_irqs >= 5);
	/* BAR0: by message only; BAR1: two mmappable areas (with an fd). */
	assert_int_equal(ms_vfio_user_get_region_info(m.dev, 0, &ri), 0);
	assert_int_equal(ri.size, 4096);
	assert_false(ri.mmappable);
	assert_int_equal(ms_vfio_user_get_region_info(m.dev, 1, &ri), 0);
	assert_int_equal(ri.size, 65536);
	assert_true(ri.mmappable);
	assert_int_equal(ri.nr_areas, 2);
	assert_int_equal(ri.areas[0].offset, 0);
	assert_int_equal(ri.areas[0].size, 32768);
	assert_int_equal(ri.areas[1].offset, 49152);
	assert_int_equal(ri.areas[1].size, 16384);
	assert_int_equal(ms_vfio_user_get_region_info(m.dev, info.num_regions, &ri), -EINVAL);
	/* A region the device does not have: size 0, refused as a memspace region. */
	assert_int_equal(ms_vfio_user_get_region_info(m.dev, 3, &ri), 0);
	assert_int_equal(ri.size, 0);
	{
		ms_region *r = (void *)1;
		assert_int_equal(ms_vfio_user_region(&r, m.dev, 3, "none"), -EINVAL);
		assert_null(r);
	}
	/* IRQs: INTx 1, MSI-X 4 (index 2). */
	assert_int_equal(ms_vfio_user_get_irq_info(m.dev, 0, &count, &flags), 0);
	assert_int_equal(count, 1);
	assert_int_equal(ms_vfio_user_get_irq_info(m.dev, 2, &count, NULL), 0);
	assert_int_equal(count, 4);
	/* PCI config space: vendor and device id. */
	assert_int_equal(ms_vfio_user_region_rw(m.dev, MS_VFIO_USER_PCI_CONFIG, 0, id, 4, false),
			 0);
	assert_int_equal(id[0], 0x1b36);
	assert_int_equal(id[1], 0x0042);
	/* An access beyond the region is the server's error, and harmless. */
	assert_true(ms_vfio_user_region_rw(m.dev, 0, 4096, id, 4, false) < 0);
	assert_int_equal(ms_vfio_user_reset(m.dev), 0);
	assert_int_equal(ms_vfio_user_region_rw(m.dev, MS_VFIO_USER_PCI_CONFIG, 0, id, 2, false),
			 0);
	machine_free(&m);
}

static void bar_accesses_of_every_size(void **state)
{
	ms_result r = 0;
	machine m;

	(void)state;
	if (!have_server())
		skip();
	machine_new(&m, false);
	machine_place_bar(&m, 0, BAR0_ADDR);
	assert_int_equal(ms_as_stb(m.as, BAR0_ADDR + 0x10, MS_ATTRS_UNSPECIFIED, 0xa5), 0);
	assert_int_equal(ms_as_stw_le(m.as, BAR0_ADDR + 0x20, MS_ATTRS_UNSPECIFIED, 0xbeef), 0);
	assert_int_equal(ms_as_stl_le(m.as, BAR0_ADDR + 0x30, MS_ATTRS_UNSPECIFIED, 0xdeadbeef), 0);
	assert_int_equal(
		ms_as_stq_le(m.as, BAR0_ADDR + 0x40, MS_ATTRS_UNSPECIFIED, 0x0123456789abcdefull),
		0);
	assert_int_equal(ms_as_ldub(m.as, BAR0_ADDR + 0x10, MS_ATTRS_UNSPECIFIED, &r), 0xa5);
	assert_int_equal(ms_as_lduw_le(m.as, BAR0_ADDR + 0x20, MS_ATTRS_UNSPECIFIED, &r), 0xbeef);
	assert_int_equal(ms_as_ldl_le(m.as, BAR0_ADDR + 0x30, MS_ATTRS_UNSPECIFIED, &r),
			 0xdeadbeef);
	assert_int_equal(ms_as_ldq_le(m.as, BAR0_ADDR + 0x40, MS_ATTRS_UNSPECIFIED, &r),
			 0x0123456789abcdefull);
	assert_int_equal(r, 0);
	/* Byte order on the wire: little-endian pieces of the 8-byte value. */
	assert_int_equal(ms_as_ldub(m.as, BAR0_ADDR + 0x40, MS_ATTRS_UNSPECIFIED, &r), 0xef);
	assert_int_equal(ms_as_lduw_le(m.as, BAR0_ADDR + 0x46, MS_ATTRS_UNSPECIFIED, &r), 0x0123);
	assert_int_equal(ms_as_ldl_be(m.as, BAR0_ADDR + 0x30, MS_ATTRS_UNSPECIFIED, &r),
			 0xefbeadde);
	/* Unaligned and multi-piece byte accesses. */
	{
		uint8_t out[13], in[13];
		for (unsigned i = 0; i < sizeof(out); i++)
			out[i] = (uint8_t)(i * 7 + 1);
		assert_int_equal(ms_as_write(m.as, BAR0_ADDR + 0x101, MS_ATTRS_UNSPECIFIED, out,
					     sizeof(out)),
				 0);
		assert_int_equal(
			ms_as_read(m.as, BAR0_ADDR + 0x101, MS_ATTRS_UNSPECIFIED, in, sizeof(in)),
			0);
		assert_memory_equal(in, out, sizeof(in));
	}
	machine_free(&m);
}

static void bar_mmapped_and_by_message(void **state)
{
	ms_result r = 0;
	uint32_t v = 0;
	machine m;

	(void)state;
	if (!have_server())
		skip();
	machine_new(&m, false);
	machine_place_bar(&m, 1, BAR1_ADDR);
	/* Mapped area: a RAM device, so the translation finds host memory. */
	{
		ms_section sec;
		uint64_t len = 4;
		ms_rcu_read_lock();
		assert_int_equal(ms_as_translate(&sec, &len, m.as, BAR1_ADDR + 0x100, NULL), 0);
		assert_int_equal(ms_region_get_kind(sec.region), MS_REGION_RAM_DEVICE);
		assert_int_equal(ms_as_translate(&sec, &len, m.as, BAR1_ADDR + 0x8000, NULL), 0);
		assert_int_equal(ms_region_get_kind(sec.region), MS_REGION_IO);
		ms_rcu_read_unlock();
	}
	/* Both paths reach the server's memory: check through the other one. */
	assert_int_equal(ms_as_stl_le(m.as, BAR1_ADDR + 0x100, MS_ATTRS_UNSPECIFIED, 0x11223344),
			 0);
	assert_int_equal(ms_vfio_user_region_rw(m.dev, 1, 0x100, &v, 4, false), 0);
	assert_int_equal(v, 0x11223344);
	assert_int_equal(ms_as_stl_le(m.as, BAR1_ADDR + 0x8000, MS_ATTRS_UNSPECIFIED, 0x55667788),
			 0);
	v = 0x99aabbcc;
	assert_int_equal(ms_vfio_user_region_rw(m.dev, 1, 0xc004, &v, 4, true), 0);
	assert_int_equal(ms_as_ldl_le(m.as, BAR1_ADDR + 0x8000, MS_ATTRS_UNSPECIFIED, &r),
			 0x55667788);
	assert_int_equal(ms_as_ldl_le(m.as, BAR1_ADDR + 0xc004, MS_ATTRS_UNSPECIFIED, &r),
			 0x99aabbcc);
	assert_int_equal(r, 0);
	machine_free(&m);
}

/* Program the test server's DMA engine; returns the status register. */
static uint32_t run_dma(machine *m, uint32_t cmd, uint64_t addr, uint64_t len, uint64_t off,
			bool *direct)
{
	ms_result r = 0;
	uint32_t status;

	assert_int_equal(ms_as_stq_le(m->as, BAR0_ADDR + 0x800, MS_ATTRS_UNSPECIFIED, addr), 0);
	assert_int_equal(ms_as_stq_le(m->as, BAR0_ADDR + 0x808, MS_ATTRS_UNSPECIFIED, len), 0);
	assert_int_equal(ms_as_stq_le(m->as, BAR0_ADDR + 0x810, MS_ATTRS_UNSPECIFIED, off), 0);
	assert_int_equal(ms_as_stl_le(m->as, BAR0_ADDR + 0x818, MS_ATTRS_UNSPECIFIED, cmd), 0);
	status = ms_as_ldl_le(m->as, BAR0_ADDR + 0x820, MS_ATTRS_UNSPECIFIED, &r);
	if (direct)
		*direct = ms_as_ldl_le(m->as, BAR0_ADDR + 0x824, MS_ATTRS_UNSPECIFIED, &r) == 1;
	assert_int_equal(r, 0);
	return status;
}

static void dma_both_ways(bool shared)
{
	uint8_t pat[8192], back[8192], *bar1 = NULL;
	bool direct = !shared;
	ms_ram_info ri;
	machine m;

	machine_new(&m, shared);
	machine_place_bar(&m, 0, BAR0_ADDR);
	machine_place_bar(&m, 1, BAR1_ADDR);
	assert_int_equal(ms_region_ram_info(m.ram, &ri), 0);
	assert_int_equal(ms_vfio_user_dma_map(m.dev, 0, RAM_SIZE, m.ram, 0, true), 0);
	assert_int_equal(ms_vfio_user_dma_map(m.dev, 0x1000, 0x1000, NULL, 0, true), -EEXIST);
	for (unsigned i = 0; i < sizeof(pat); i++)
		pat[i] = (uint8_t)(i * 13 + (shared ? 5 : 9));
	assert_int_equal(ms_as_write(m.as, 0x3000, MS_ATTRS_UNSPECIFIED, pat, sizeof(pat)), 0);
	/* Guest -> device (into BAR1's mmappable start). */
	assert_int_equal(run_dma(&m, 1, 0x3000, sizeof(pat), 0x200, &direct), 0);
	assert_true(direct == shared);
	assert_int_equal(
		ms_as_read(m.as, BAR1_ADDR + 0x200, MS_ATTRS_UNSPECIFIED, back, sizeof(back)), 0);
	assert_memory_equal(back, pat, sizeof(pat));
	/* Device -> guest, at another place. */
	assert_int_equal(run_dma(&m, 2, 0x80001, sizeof(pat), 0x200, &direct), 0);
	assert_true(direct == shared);
	memset(back, 0, sizeof(back));
	assert_int_equal(ms_as_read(m.as, 0x80001, MS_ATTRS_UNSPECIFIED, back, sizeof(back)), 0);
	assert_memory_equal(back, pat, sizeof(pat));
	/* Outside the mapping: the server refuses, guest memory is untouched. */
	assert_int_not_equal(run_dma(&m, 2, RAM_SIZE - 16, 32, 0, NULL), 0);
	/* After the unmap, DMA fails server-side. */
	assert_int_equal(ms_vfio_user_dma_unmap(m.dev, 0, RAM_SIZE - 1), -ENOENT);
	assert_int_equal(ms_vfio_user_dma_unmap(m.dev, 0, RAM_SIZE), 0);
	memset(pat, 0x77, sizeof(pat));
	assert_int_equal(ms_as_write(m.as, BAR1_ADDR + 0x200, MS_ATTRS_UNSPECIFIED, pat, 64), 0);
	assert_int_not_equal(run_dma(&m, 2, 0x80001, 64, 0x200, NULL), 0);
	assert_int_equal(ms_as_read(m.as, 0x80001, MS_ATTRS_UNSPECIFIED, back, 64), 0);
	assert_memory_not_equal(back, pat, 64);
	/* A read-only mapping: the device may read, not write. */
	assert_int_equal(ms_vfio_user_dma_map(m.dev, 0x10000, 0x10000, m.ram, 0x10000, false), 0);
	assert_int_equal(run_dma(&m, 1, 0x10000, 64, 0, NULL), 0);
	assert_int_not_equal(run_dma(&m, 2, 0x10000, 64, 0, NULL), 0);
	(void)bar1;
	machine_free(&m);
}

SERVER_TEST_PAIR(dma_through, dma_both_ways)

static void many_dma_maps(void **state)
{
	ms_result r = 0;
	uint8_t buf[64], back[64];
	machine m;

	(void)state;
	if (!have_server())
		skip();
	machine_new(&m, true);
	machine_place_bar(&m, 0, BAR0_ADDR);
	machine_place_bar(&m, 1, BAR1_ADDR);
	/* 1,000 regions of 1 KiB... of 4 KiB pages, every other one by message. */
	for (unsigned i = 0; i < 1000; i++)
		assert_int_equal(ms_vfio_user_dma_map(m.dev, 0x100000000ull + 0x1000ull * i, 0x1000,
						      i % 2 ? NULL : m.ram, 0x1000ull * (i % 256),
						      true),
				 0);
	assert_int_equal(ms_as_ldl_le(m.as, BAR0_ADDR + 0x828, MS_ATTRS_UNSPECIFIED, &r), 1000);
	/* Map 776 is RAM page 776 % 256 = 8, by fd. */
	memset(buf, 0x3c, sizeof(buf));
	assert_int_equal(ms_as_write(m.as, BAR1_ADDR, MS_ATTRS_UNSPECIFIED, buf, sizeof(buf)), 0);
	assert_int_equal(run_dma(&m, 2, 0x100000000ull + 0x1000ull * 776 + 8, 64, 0, NULL), 0);
	assert_int_equal(ms_as_read(m.as, 0x8008, MS_ATTRS_UNSPECIFIED, back, 64), 0);
	assert_memory_equal(back, buf, 64);
	for (unsigned i = 0; i < 1000; i += 2)
		assert_int_equal(
			ms_vfio_user_dma_unmap(m.dev, 0x100000000ull + 0x1000ull * i, 0x1000), 0);
	assert_int_equal(ms_as_ldl_le(m.as, BAR0_ADDR + 0x828, MS_ATTRS_UNSPECIFIED, &r), 500);
	assert_int_equal(r, 0);
	/* The other 500 are removed by the close. */
	machine_free(&m);
}

/* DMA through an IOMMU: its notifications become DMA_MAP / DMA_UNMAP. */
static void dma_through_iommu(bool shared)
{
	uint8_t pat[256], back[256];
	test_iommu iommu;
	ms_result r = 0;
	bool direct;
	machine m;

	machine_new_with(&m, shared, &iommu);
	machine_place_bar(&m, 0, BAR0_ADDR);
	machine_place_bar(&m, 1, BAR1_ADDR);
	/* Page 3 is mapped before the attach (replayed), page 5 after. */
	assert_int_equal(pt_map(&iommu, 0, 3, 0x5000, MS_IOMMU_RO), 0);
	assert_int_equal(ms_vfio_user_attach_iommu(m.dev, iommu.region, 0), 0);
	assert_int_equal(ms_vfio_user_attach_iommu(m.dev, iommu.region, 0), -EBUSY);
	assert_int_equal(ms_as_ldl_le(m.as, BAR0_ADDR + 0x828, MS_ATTRS_UNSPECIFIED, &r), 1);
	assert_int_equal(pt_map(&iommu, 0, 5, 0x9000, MS_IOMMU_RW), 0);
	assert_int_equal(ms_as_ldl_le(m.as, BAR0_ADDR + 0x828, MS_ATTRS_UNSPECIFIED, &r), 2);
	for (unsigned i = 0; i < sizeof(pat); i++)
		pat[i] = (uint8_t)(i ^ 0x5a);
	assert_int_equal(ms_as_write(m.as, 0x5100, MS_ATTRS_UNSPECIFIED, pat, sizeof(pat)), 0);
	/* IOVA 0x3100 is guest 0x5100. */
	assert_int_equal(run_dma(&m, 1, 0x3100, sizeof(pat), 0x400, &direct), 0);
	assert_true(direct == shared);
	assert_int_equal(
		ms_as_read(m.as, BAR1_ADDR + 0x400, MS_ATTRS_UNSPECIFIED, back, sizeof(back)), 0);
	assert_memory_equal(back, pat, sizeof(pat));
	/* Read-only page: no DMA write. IOVA 0x5010 is guest 0x9010. */
	assert_int_not_equal(run_dma(&m, 2, 0x3000, 16, 0x400, NULL), 0);
	assert_int_equal(run_dma(&m, 2, 0x5010, sizeof(pat), 0x400, NULL), 0);
	assert_int_equal(ms_as_read(m.as, 0x9010, MS_ATTRS_UNSPECIFIED, back, sizeof(back)), 0);
	assert_memory_equal(back, pat, sizeof(pat));
	/* Unmapped: acknowledged before pt_unmap returns; the DMA then fails. */
	assert_int_equal(pt_unmap(&iommu, 0, 5), 0);
	assert_int_equal(ms_as_ldl_le(m.as, BAR0_ADDR + 0x828, MS_ATTRS_UNSPECIFIED, &r), 1);
	memset(back, 0, sizeof(back));
	assert_int_equal(ms_as_write(m.as, 0x9010, MS_ATTRS_UNSPECIFIED, back, sizeof(back)), 0);
	assert_int_not_equal(run_dma(&m, 2, 0x5010, sizeof(pat), 0x400, NULL), 0);
	assert_int_equal(ms_as_read(m.as, 0x9010, MS_ATTRS_UNSPECIFIED, back, sizeof(back)), 0);
	assert_memory_not_equal(back, pat, sizeof(pat));
	assert_int_equal(r, 0);
	machine_free(&m);
}

SERVER_TEST_PAIR(dma_through_iommu, dma_through_iommu)

/*
 * An IOMMU event of @type for [@iova, +@size) (a power of two, aligned) to
 * @target, after the page table says the same (DMA served by messages
 * translates through it): one event for several pages, which pt_map()
 * does not make.
 */
static int iommu_event(machine *m, ms_iommu_notifier_flags type, uint64_t iova, uint64_t size,
		       uint64_t target)
{
	for (uint64_t off = 0; off < size; off += 4096)
		m->iommu->table[0][(iova + off) / 4096] = type == MS_IOMMU_NOTIFIER_MAP
								  ? (pte){target + off, MS_IOMMU_RW}
								  : (pte){0, MS_IOMMU_NONE};

	ms_iommu_event ev = {
		.type = type,
		.entry = {.iova = iova,
			  .addr_mask = size - 1,
			  .target_as = type == MS_IOMMU_NOTIFIER_MAP ? m->as : NULL,
			  .translated_addr = type == MS_IOMMU_NOTIFIER_MAP ? target : 0,
			  .perm = type == MS_IOMMU_NOTIFIER_MAP ? MS_IOMMU_RW : MS_IOMMU_NONE}};

	return ms_iommu_notify(m->iommu->region, 0, &ev);
}

/*
 * A page unmapped out of a larger IOMMU block: the server drops the block
 * and gets the rest mapped again (by fd again for shared RAM), so the pages
 * still mapped stay reachable and the unmapped one does not.
 */
static void iommu_partial_unmap_splits(bool shared)
{
	uint8_t pat[64], back[64];
	test_iommu iommu;
	ms_result r = 0;
	bool direct;
	machine m;

	machine_new_with(&m, shared, &iommu);
	machine_place_bar(&m, 0, BAR0_ADDR);
	machine_place_bar(&m, 1, BAR1_ADDR);
	assert_int_equal(ms_vfio_user_attach_iommu(m.dev, iommu.region, 0), 0);
	/* IOVA 0x10000-0x13fff is guest 0x8000-0xbffff, one 16K block. */
	assert_int_equal(iommu_event(&m, MS_IOMMU_NOTIFIER_MAP, 0x10000, 0x4000, 0x8000), 0);
	assert_int_equal(ms_as_ldl_le(m.as, BAR0_ADDR + 0x828, MS_ATTRS_UNSPECIFIED, &r), 1);
	for (unsigned i = 0; i < sizeof(pat); i++)
		pat[i] = (uint8_t)(i * 7 + 1);
	assert_int_equal(ms_as_write(m.as, 0xa100, MS_ATTRS_UNSPECIFIED, pat, sizeof(pat)), 0);
	assert_int_equal(run_dma(&m, 1, 0x12100, sizeof(pat), 0x200, &direct), 0);
	assert_true(direct == shared);

	/* The second page goes: the first and the last two stay, as two mappings. */
	assert_int_equal(iommu_event(&m, MS_IOMMU_NOTIFIER_UNMAP, 0x11000, 0x1000, 0), 0);
	assert_int_equal(ms_as_ldl_le(m.as, BAR0_ADDR + 0x828, MS_ATTRS_UNSPECIFIED, &r), 2);
	assert_int_not_equal(run_dma(&m, 1, 0x11000, 16, 0, NULL), 0);
	assert_int_not_equal(run_dma(&m, 1, 0x10ff8, 16, 0, NULL), 0); /* spans into the hole */
	assert_int_equal(run_dma(&m, 1, 0x12100, sizeof(pat), 0x400, &direct), 0);
	assert_true(direct == shared);
	assert_int_equal(
		ms_as_read(m.as, BAR1_ADDR + 0x400, MS_ATTRS_UNSPECIFIED, back, sizeof(back)), 0);
	assert_memory_equal(back, pat, sizeof(pat));
	/* The first page still goes to guest 0x8000, writably. */
	assert_int_equal(run_dma(&m, 2, 0x10010, sizeof(pat), 0x400, &direct), 0);
	assert_true(direct == shared);
	assert_int_equal(ms_as_read(m.as, 0x8010, MS_ATTRS_UNSPECIFIED, back, sizeof(back)), 0);
	assert_memory_equal(back, pat, sizeof(pat));

	/* An unmap of the whole block takes both pieces. */
	assert_int_equal(iommu_event(&m, MS_IOMMU_NOTIFIER_UNMAP, 0x10000, 0x4000, 0), 0);
	assert_int_equal(ms_as_ldl_le(m.as, BAR0_ADDR + 0x828, MS_ATTRS_UNSPECIFIED, &r), 0);
	assert_int_not_equal(run_dma(&m, 1, 0x12100, 16, 0, NULL), 0);
	assert_int_equal(r, 0);
	machine_free(&m);
}

SERVER_TEST_PAIR(iommu_partial_unmap_splits, iommu_partial_unmap_splits)

/*
 * DMA whose target is the device's own message-only BAR area: the receive
 * thread would have to wait for itself, so the access fails instead (the
 * server sees an error) and the connection keeps working.
 */
static void dma_into_own_bar_fails_without_deadlock(void **state)
{
	ms_result r = 0;
	machine m;

	(void)state;
	if (!have_server())
		skip();
	machine_new(&m, false);
	machine_place_bar(&m, 0, BAR0_ADDR);
	machine_place_bar(&m, 1, BAR1_ADDR);
	assert_int_equal(ms_vfio_user_dma_map(m.dev, BAR1_ADDR + 0x8000, 0x1000, NULL, 0, true), 0);
	assert_int_equal(run_dma(&m, 1, BAR1_ADDR + 0x8000, 64, 0, NULL), EIO);
	/* Still alive. */
	assert_int_equal(ms_as_stl_le(m.as, BAR0_ADDR + 0x10, MS_ATTRS_UNSPECIFIED, 7), 0);
	assert_int_equal(ms_as_ldl_le(m.as, BAR0_ADDR + 0x10, MS_ATTRS_UNSPECIFIED, &r), 7);
	assert_int_equal(r, 0);
	machine_free(&m);
}

/* Several threads share one connection: each reply reaches its own waiter. */
typedef struct hammer {
	machine *m;
	unsigned id;
	unsigned bad;
} hammer;

static void *hammer_main(void *arg)
{
	hammer *h = arg;
	uint64_t reg = BAR0_ADDR + 0x200 + 8 * h->id;

	for (unsigned i = 0; i < 200; i++) {
		uint64_t v = ((uint64_t)h->id << 32) | i;
		ms_result r = ms_as_stq_le(h->m->as, reg, MS_ATTRS_UNSPECIFIED, v);
		if (r || ms_as_ldq_le(h->m->as, reg, MS_ATTRS_UNSPECIFIED, &r) != v || r)
			h->bad++;
	}
	return NULL;
}

static void threads_share_the_connection(void **state)
{
	pthread_t t[4];
	hammer h[4];
	uint8_t pat[4096], back[4096];
	machine m;

	(void)state;
	if (!have_server())
		skip();
	machine_new(&m, false);
	machine_place_bar(&m, 0, BAR0_ADDR);
	machine_place_bar(&m, 1, BAR1_ADDR);
	assert_int_equal(ms_vfio_user_dma_map(m.dev, 0, RAM_SIZE, m.ram, 0, true), 0);
	for (unsigned i = 0; i < 4; i++) {
		h[i] = (hammer){.m = &m, .id = i};
		assert_int_equal(pthread_create(&t[i], NULL, hammer_main, &h[i]), 0);
	}
	/* Meanwhile DMA by messages (anonymous RAM) on this thread. */
	for (unsigned i = 0; i < sizeof(pat); i++)
		pat[i] = (uint8_t)(i * 3);
	assert_int_equal(ms_as_write(m.as, 0x2000, MS_ATTRS_UNSPECIFIED, pat, sizeof(pat)), 0);
	for (unsigned k = 0; k < 20; k++)
		assert_int_equal(run_dma(&m, 1, 0x2000, sizeof(pat), 0x100, NULL), 0);
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(h[i].bad, 0);
	}
	assert_int_equal(
		ms_as_read(m.as, BAR1_ADDR + 0x100, MS_ATTRS_UNSPECIFIED, back, sizeof(back)), 0);
	assert_memory_equal(back, pat, sizeof(pat));
	/* PCI config space as a memspace region too. */
	machine_place_bar(&m, MS_VFIO_USER_PCI_CONFIG, 0x30000000);
	{
		ms_result r = 0;
		assert_int_equal(ms_as_lduw_le(m.as, 0x30000000, MS_ATTRS_UNSPECIFIED, &r), 0x1b36);
		assert_int_equal(ms_as_lduw_le(m.as, 0x30000002, MS_ATTRS_UNSPECIFIED, &r), 0x0042);
		assert_int_equal(r, 0);
	}
	machine_free(&m);
}

/* Interrupts: counted per vector by the callback (on the interrupt thread). */
typedef struct irq_count {
	unsigned hits[8]; /* atomic */
	uint32_t last_index;
} irq_count;

static void on_irq(uint32_t index, uint32_t vector, void *opaque)
{
	irq_count *c = opaque;

	__atomic_store_n(&c->last_index, index, __ATOMIC_RELAXED);
	if (vector < 8)
		__atomic_fetch_add(&c->hits[vector], 1, __ATOMIC_RELEASE);
}

/* Wait (at most 5 s) until vector @v has @n hits. */
static bool wait_hits(irq_count *c, unsigned v, unsigned n)
{
	for (int i = 0; i < 5000; i++) {
		if (__atomic_load_n(&c->hits[v], __ATOMIC_ACQUIRE) >= n)
			return true;
		usleep(1000);
	}
	return false;
}

static uint32_t trigger(machine *m, uint32_t vector)
{
	ms_result r = 0;
	uint32_t status;

	assert_int_equal(ms_as_stl_le(m->as, BAR0_ADDR + 0x830, MS_ATTRS_UNSPECIFIED, vector), 0);
	status = ms_as_ldl_le(m->as, BAR0_ADDR + 0x834, MS_ATTRS_UNSPECIFIED, &r);
	assert_int_equal(r, 0);
	return status;
}

static void msix_interrupts_reach_the_callback(void **state)
{
	irq_count c = {0};
	machine m;

	(void)state;
	if (!have_server())
		skip();
	machine_new(&m, false);
	machine_place_bar(&m, 0, BAR0_ADDR);
	assert_int_equal(ms_vfio_user_set_irqs(m.dev, MS_VFIO_USER_IRQ_MSIX, 0, 4, on_irq, &c), 0);
	assert_int_equal(trigger(&m, 2), 0);
	assert_true(wait_hits(&c, 2, 1));
	assert_int_equal(trigger(&m, 3), 0);
	assert_true(wait_hits(&c, 3, 1));
	assert_int_equal(__atomic_load_n(&c.last_index, __ATOMIC_RELAXED), MS_VFIO_USER_IRQ_MSIX);
	assert_int_equal(__atomic_load_n(&c.hits[0], __ATOMIC_RELAXED), 0);
	/* Bad ranges; more vectors than the index has. */
	assert_int_equal(ms_vfio_user_set_irqs(m.dev, MS_VFIO_USER_IRQ_MSIX, 3, 2, on_irq, &c),
			 -EINVAL);
	assert_int_equal(ms_vfio_user_set_irqs(m.dev, MS_VFIO_USER_IRQ_MSIX, 0, 0, on_irq, &c),
			 -EINVAL);
	assert_int_equal(ms_vfio_user_set_irqs(NULL, 0, 0, 1, on_irq, &c), -EINVAL);
	/* Disabled: the server has no eventfd any more, nothing is delivered. */
	assert_int_equal(ms_vfio_user_set_irqs(m.dev, MS_VFIO_USER_IRQ_MSIX, 0, 0, NULL, NULL), 0);
	assert_int_not_equal(trigger(&m, 2), 0);
	assert_int_equal(__atomic_load_n(&c.hits[2], __ATOMIC_ACQUIRE), 1);
	/* Routed again, then left for the close to tear down. */
	assert_int_equal(ms_vfio_user_set_irqs(m.dev, MS_VFIO_USER_IRQ_MSIX, 1, 1, on_irq, &c), 0);
	assert_int_equal(trigger(&m, 1), 0);
	assert_true(wait_hits(&c, 1, 1));
	machine_free(&m);
}

/* A DMA target that kills the server while the server waits for our reply. */
static pid_t victim;

static uint64_t killer_read(uint64_t addr, unsigned size, void *opaque)
{
	int status;

	(void)addr;
	(void)size;
	(void)opaque;
	if (victim > 0) {
		kill(victim, SIGKILL);
		waitpid(victim, &status, 0);
		victim = 0;
	}
	return 0;
}

static void killer_write(uint64_t addr, uint64_t data, unsigned size, void *opaque)
{
	(void)addr;
	(void)data;
	(void)size;
	(void)opaque;
}

static const ms_region_ops killer_ops = {
	.version = MS_REGION_OPS_VERSION, .read = killer_read, .write = killer_write};

static void server_killed_mid_dma(void **state)
{
	ms_region *killer = NULL;
	ms_result r = 0;
	uint64_t v;
	machine m;

	(void)state;
	if (!have_server())
		skip();
	machine_new(&m, false);
	machine_place_bar(&m, 0, BAR0_ADDR);
	assert_int_equal(
		ms_region_new_io(
			&killer, m.ctx,
			&(ms_region_io_opts){.name = "killer", .size = 0x1000, .ops = &killer_ops}),
		0);
	assert_int_equal(ms_region_add_subregion(m.root, 0x40000000, killer), 0);
	ms_region_unref(killer);
	assert_int_equal(ms_vfio_user_dma_map(m.dev, 0x40000000, 0x1000, NULL, 0, true), 0);
	victim = m.srv.pid;
	assert_int_equal(ms_as_stq_le(m.as, BAR0_ADDR + 0x800, MS_ATTRS_UNSPECIFIED, 0x40000000),
			 0);
	assert_int_equal(ms_as_stq_le(m.as, BAR0_ADDR + 0x808, MS_ATTRS_UNSPECIFIED, 16), 0);
	assert_int_equal(ms_as_stq_le(m.as, BAR0_ADDR + 0x810, MS_ATTRS_UNSPECIFIED, 0), 0);
	/* The command's reply never comes: an error, not a hang or a crash. */
	assert_int_equal(ms_as_stl_le(m.as, BAR0_ADDR + 0x818, MS_ATTRS_UNSPECIFIED, 1),
			 MS_RESULT_ERROR);
	assert_int_equal(victim, 0);
	m.srv.pid = 0;
	v = ms_as_ldq_le(m.as, BAR0_ADDR, MS_ATTRS_UNSPECIFIED, &r);
	assert_int_equal(r, MS_RESULT_ERROR);
	assert_int_equal(v, 0);
	assert_int_equal(ms_vfio_user_reset(m.dev), -ECONNRESET);
	assert_int_equal(ms_vfio_user_dma_map(m.dev, 0, 0x1000, m.ram, 0, true), -ECONNRESET);
	/* The rest of the machine works. */
	assert_int_equal(ms_as_stq_le(m.as, 0x100, MS_ATTRS_UNSPECIFIED, 42), 0);
	assert_int_equal(ms_as_ldq_le(m.as, 0x100, MS_ATTRS_UNSPECIFIED, &r), 42);
	assert_int_equal(r, 0);
	machine_free(&m);
}

/*
 * Disconnected, the server leaves (it exits when the client goes) while the
 * BARs stay in the machine: accesses fail, the mmapped area keeps its
 * memory, requests and a new IOMMU are refused, and close frees it later.
 */
static void disconnect_keeps_the_regions_until_close(void **state)
{
	test_iommu iommu;
	ms_result r = 0;
	irq_count c = {0};
	machine m;

	(void)state;
	assert_int_equal(ms_vfio_user_disconnect(NULL), -EINVAL);
	if (!have_server())
		skip();
	machine_new_with(&m, true, &iommu);
	machine_place_bar(&m, 0, BAR0_ADDR);
	machine_place_bar(&m, 1, BAR1_ADDR);
	assert_int_equal(ms_vfio_user_dma_map(m.dev, 0, RAM_SIZE, m.ram, 0, true), 0);
	assert_int_equal(ms_vfio_user_set_irqs(m.dev, MS_VFIO_USER_IRQ_MSIX, 0, 4, on_irq, &c), 0);
	assert_int_equal(ms_as_stl_le(m.as, BAR1_ADDR, MS_ATTRS_UNSPECIFIED, 0xfeedf00d), 0);
	assert_int_equal(ms_as_stl_le(m.as, BAR0_ADDR + 8, MS_ATTRS_UNSPECIFIED, 7), 0);

	assert_int_equal(ms_vfio_user_disconnect(m.dev), 0);
	/* The server sees the client leave and exits (server_reap checks it). */
	server_reap(&m.srv);
	assert_int_equal(ms_as_ldl_le(m.as, BAR0_ADDR + 8, MS_ATTRS_UNSPECIFIED, &r), 0);
	assert_int_equal(r, MS_RESULT_ERROR);
	r = 0;
	assert_int_equal(ms_as_ldl_le(m.as, BAR1_ADDR, MS_ATTRS_UNSPECIFIED, &r), 0xfeedf00d);
	assert_int_equal(r, 0);
	assert_int_equal(ms_vfio_user_reset(m.dev), -ECONNRESET);
	assert_int_equal(ms_vfio_user_set_irqs(m.dev, MS_VFIO_USER_IRQ_MSIX, 0, 1, on_irq, &c),
			 -ECONNRESET);
	assert_int_equal(ms_vfio_user_attach_iommu(m.dev, iommu.region, 0), -ECONNRESET);
	assert_int_equal(ms_vfio_user_disconnect(m.dev), 0);
	/* The rest of the machine works. */
	assert_int_equal(ms_as_stq_le(m.as, 0x100, MS_ATTRS_UNSPECIFIED, 42), 0);
	assert_int_equal(ms_as_ldq_le(m.as, 0x100, MS_ATTRS_UNSPECIFIED, &r), 42);
	machine_free(&m);
}

/* ---- misbehaving servers of our own ---- */

typedef enum fake_kind {
	FAKE_SHORT_SIZE, /* a reply whose size field is below a header */
	FAKE_MAJOR_1,    /* speaks version 1.0 */
	FAKE_SILENT,     /* accepts, reads, never answers */
	FAKE_CLOSE,      /* closes right after the VERSION request */
	FAKE_BAD_INFO,   /* good VERSION, DEVICE_GET_INFO too short */
	FAKE_STRAY,      /* a reply to a message id never used */
} fake_kind;

typedef struct fake {
	server s;
	int lfd;
	fake_kind kind;
	pthread_t thread;
} fake;

static void read_msg(int fd, ms__vfio_user_hdr *h)
{
	uint8_t buf[4096];
	size_t got = 0;

	memset(h, 0, sizeof(*h));
	while (got < MS__VFU_HDR_LEN) {
		ssize_t n = read(fd, buf + got, MS__VFU_HDR_LEN - got);
		if (n <= 0)
			return;
		got += (size_t)n;
	}
	if (ms__vfio_user_hdr_decode(buf, got, h) < 0)
		return;
	while (got < h->size && got < sizeof(buf)) {
		ssize_t n = read(fd, buf + got, h->size - got);
		if (n <= 0)
			return;
		got += (size_t)n;
	}
}

static void send_reply(int fd, const ms__vfio_user_hdr *req, const void *p, size_t plen)
{
	uint8_t buf[512];
	size_t n = msg(buf, req->id, req->cmd, MS__VFU_TYPE_REPLY, 0, p, plen);

	assert_int_equal(write(fd, buf, n), (ssize_t)n);
}

static void *fake_main(void *arg)
{
	fake *f = arg;
	uint8_t v[64] = {0, 0, 1, 0, '{', '}', 0};
	ms__vfio_user_hdr h;
	int fd = accept(f->lfd, NULL, NULL);

	if (fd < 0)
		return NULL;
	read_msg(fd, &h);
	switch (f->kind) {
	case FAKE_SHORT_SIZE: {
		uint8_t buf[16];
		msg(buf, h.id, h.cmd, MS__VFU_TYPE_REPLY, 0, NULL, 0);
		ms__vfio_user_put(buf + 4, 8, 4);
		assert_int_equal(write(fd, buf, 16), 16);
		break;
	}
	case FAKE_MAJOR_1:
		v[0] = 1;
		v[2] = 0;
		send_reply(fd, &h, v, 7);
		break;
	case FAKE_SILENT:
		break;
	case FAKE_CLOSE:
		close(fd);
		return NULL;
	case FAKE_BAD_INFO:
		send_reply(fd, &h, v, 7);
		read_msg(fd, &h);
		send_reply(fd, &h, v, 8);
		break;
	case FAKE_STRAY:
		h.id ^= 0x5a5a;
		send_reply(fd, &h, v, 7);
		break;
	}
	/* Hold the connection until the client gives up and closes. */
	while (read(fd, v, sizeof(v)) > 0)
		;
	close(fd);
	return NULL;
}

static void fake_start(fake *f, fake_kind kind)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	socket_dir(&f->s);
	f->s.pid = 0;
	f->kind = kind;
	strcpy(sa.sun_path, f->s.path);
	f->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(f->lfd >= 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->lfd, 1), 0);
	assert_int_equal(pthread_create(&f->thread, NULL, fake_main, f), 0);
}

static void fake_stop(fake *f)
{
	pthread_join(f->thread, NULL);
	close(f->lfd);
	unlink(f->s.path);
	rmdir(f->s.dir);
}

static int fake_connect(fake_kind kind, unsigned timeout_ms, double *secs)
{
	ms_ctx *ctx = new_ctx();
	ms_vfio_user *dev = (void *)1;
	struct timespec t0, t1;
	fake f;
	int ret;

	fake_start(&f, kind);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = ms_vfio_user_connect(
		&dev, ctx, &(ms_vfio_user_opts){.socket = f.s.path, .timeout_ms = timeout_ms});
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_null(dev);
	fake_stop(&f);
	ms_ctx_free(ctx);
	if (secs)
		*secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	return ret;
}

static void malformed_replies_are_refused(void **state)
{
	double secs = 0;

	(void)state;
	assert_int_equal(fake_connect(FAKE_SHORT_SIZE, 2000, NULL), -EPROTO);
	assert_int_equal(fake_connect(FAKE_MAJOR_1, 2000, NULL), -EPROTO);
	assert_int_equal(fake_connect(FAKE_BAD_INFO, 2000, NULL), -EPROTO);
	assert_int_equal(fake_connect(FAKE_STRAY, 2000, NULL), -EPROTO);
	assert_int_equal(fake_connect(FAKE_CLOSE, 2000, NULL), -ECONNRESET);
	/* A silent server: the bounded wait, not a hang. */
	assert_int_equal(fake_connect(FAKE_SILENT, 200, &secs), -ETIMEDOUT);
	assert_true(secs >= 0.19 && secs < 5.0);
}

/* Masked, an MSI-X vector is held by the device and delivered when unmasked. */
static void masked_interrupts_wait_for_unmask(void **state)
{
	irq_count c = {0};
	ms_result r = 0;
	machine m;

	(void)state;
	assert_int_equal(ms_vfio_user_mask_irqs(NULL, MS_VFIO_USER_IRQ_MSIX, 0, 1, true), -EINVAL);
	if (!have_server())
		skip();
	machine_new(&m, false);
	machine_place_bar(&m, 0, BAR0_ADDR);
	assert_int_equal(ms_vfio_user_set_irqs(m.dev, MS_VFIO_USER_IRQ_MSIX, 0, 4, on_irq, &c), 0);
	assert_int_equal(ms_vfio_user_mask_irqs(m.dev, MS_VFIO_USER_IRQ_MSIX, 1, 2, true), 0);
	/* Vector 2 is held: nothing arrives, the device has it pending. */
	assert_int_equal(trigger(&m, 2), 0);
	assert_int_equal(ms_as_ldl_le(m.as, BAR0_ADDR + 0x838, MS_ATTRS_UNSPECIFIED, &r), 1u << 2);
	usleep(50000);
	assert_int_equal(__atomic_load_n(&c.hits[2], __ATOMIC_ACQUIRE), 0);
	/* Vector 3 is not masked. */
	assert_int_equal(trigger(&m, 3), 0);
	assert_true(wait_hits(&c, 3, 1));
	/* Unmasked, the pending interrupt arrives; vector 1 stays masked. */
	assert_int_equal(ms_vfio_user_mask_irqs(m.dev, MS_VFIO_USER_IRQ_MSIX, 2, 1, false), 0);
	assert_true(wait_hits(&c, 2, 1));
	assert_int_equal(ms_as_ldl_le(m.as, BAR0_ADDR + 0x838, MS_ATTRS_UNSPECIFIED, &r), 0);
	assert_int_equal(trigger(&m, 1), 0);
	assert_int_equal(ms_as_ldl_le(m.as, BAR0_ADDR + 0x838, MS_ATTRS_UNSPECIFIED, &r), 1u << 1);
	assert_int_equal(ms_vfio_user_mask_irqs(m.dev, MS_VFIO_USER_IRQ_MSIX, 0, 4, false), 0);
	assert_true(wait_hits(&c, 1, 1));
	assert_int_equal(r, 0);
	/* Bad ranges. */
	assert_int_equal(ms_vfio_user_mask_irqs(m.dev, MS_VFIO_USER_IRQ_MSIX, 0, 0, true), -EINVAL);
	assert_int_equal(ms_vfio_user_mask_irqs(m.dev, MS_VFIO_USER_IRQ_MSIX, 3, 2, true), -EINVAL);
	assert_int_equal(ms_vfio_user_mask_irqs(m.dev, 99, 0, 1, true), -EINVAL);
	machine_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(header_and_reply_checks),
		cmocka_unit_test(version_capabilities_are_parsed),
		cmocka_unit_test(region_info_capabilities_are_checked),
		cmocka_unit_test(connect_refuses_bad_arguments),
		cmocka_unit_test(malformed_replies_are_refused),
		cmocka_unit_test(device_info_from_libvfio_user),
		cmocka_unit_test(bar_accesses_of_every_size),
		cmocka_unit_test(bar_mmapped_and_by_message),
		cmocka_unit_test(dma_through_shared_ram),
		cmocka_unit_test(dma_through_messages),
		cmocka_unit_test(many_dma_maps),
		cmocka_unit_test(dma_through_iommu_shared_ram),
		cmocka_unit_test(dma_through_iommu_messages),
		cmocka_unit_test(iommu_partial_unmap_splits_shared_ram),
		cmocka_unit_test(iommu_partial_unmap_splits_messages),
		cmocka_unit_test(msix_interrupts_reach_the_callback),
		cmocka_unit_test(masked_interrupts_wait_for_unmask),
		cmocka_unit_test(dma_into_own_bar_fails_without_deadlock),
		cmocka_unit_test(threads_share_the_connection),
		cmocka_unit_test(server_killed_mid_dma),
		cmocka_unit_test(disconnect_keeps_the_regions_until_close),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
