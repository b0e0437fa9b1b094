/*
 * test_share.c: sharing a RAM region with another process (backend.h,
 * ms_ram_share_send() / ms_ram_share_recv(), share.c), in one process over
 * socketpairs: what is sent and received, that both sides see the same
 * pages, which regions are refused, and that every malformed message is
 * refused with -EPROTO and every fd it carried closed (the number of open
 * fds is compared before and after each receive).
 *
 * SPDX-License-Identifier: MIT
 */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "ms_unit.h"
#include "share.h"

#define KIB 1024u

/* How many fds this process has open now. */
static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own fd */
}

static void pair(int sv[2], int type)
{
	assert_int_equal(socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv), 0);
}

static void close_pair(int sv[2])
{
	close(sv[0]);
	close(sv[1]);
}

static ms_region *new_ram_with(ms_ctx *ctx, const ms_ram_opts *o)
{
	ms_region *r = NULL;

	assert_int_equal(ms_region_new_ram_with(&r, ctx, o), 0);
	return r;
}

static ms_region *new_memfd(ms_ctx *ctx, const char *name, uint64_t size)
{
	return new_ram_with(ctx,
			    &(ms_ram_opts){.name = name, .size = size, .backend = MS_RAM_MEMFD});
}

/* The fd the region's backend owns. */
static int block_fd(const ms_region *r)
{
	ms_ram_info info;

	assert_int_equal(ms_region_ram_info(r, &info), 0);
	return info.fd;
}

/* A file in a fresh temporary directory; the caller removes both. */
static void temp_path(char *dir, size_t dir_len, char *path, size_t path_len)
{
	snprintf(dir, dir_len, "/tmp/ms-share-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, path_len, "%s/ram", dir);
}

/* ---- the pages are shared -------------------------------------------------- */

static void check_shared_pages(int fd, uint64_t offset, ms_region *r, uint64_t size)
{
	uint8_t *host = ms_region_ram_ptr(r);
	uint8_t *peer;

	peer = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)offset);
	assert_true(peer != MAP_FAILED);
	for (uint64_t i = 0; i < size; i += 511)
		host[i] = (uint8_t)(i * 13 + 1);
	for (uint64_t i = 0; i < size; i += 511)
		assert_int_equal(peer[i], (uint8_t)(i * 13 + 1));
	memset(peer + 100, 0xa5, 300);
	for (uint64_t i = 100; i < 400; i++)
		assert_int_equal(host[i], 0xa5);
	munmap(peer, (size_t)size);
}

static void test_memfd_region_sent_over_stream_socket_shares_its_pages(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *r = new_memfd(ctx, "guest-ram", 64 * KIB);
	ms_ram_share got;
	int sv[2];

	(void)state;
	pair(sv, SOCK_STREAM);
	assert_int_equal(ms_ram_share_send(sv[0], r), 0);
	assert_int_equal(ms_ram_share_recv(sv[1], &got), 0);
	assert_string_equal(got.name, "guest-ram");
	assert_int_equal(got.offset, 0);
	assert_int_equal(got.size, 64 * KIB);
	assert_int_equal(got.page_size, (uint64_t)sysconf(_SC_PAGESIZE));
	assert_false(got.readonly);
	assert_true(got.fd >= 0);
	assert_int_not_equal(got.fd, block_fd(r));
	assert_true(fcntl(got.fd, F_GETFD) & FD_CLOEXEC);
	check_shared_pages(got.fd, got.offset, r, got.size);
	close(got.fd);
	close_pair(sv);
	ms_region_unref(r);
	ms_ctx_free(ctx);
}

/* The receiver places the fd in its own machine (MS_RAM_FD), as the example does. */
static void test_received_fd_backs_a_region_of_another_context(void **state)
{
	ms_ctx *a = new_ctx(), *b = new_ctx();
	ms_region *ra = new_memfd(a, "ram", 32 * KIB), *rb;
	ms_region *root = new_container(b, "root", MS_SIZE_2_64);
	ms_as *as = new_as(b, root, "peer");
	uint8_t buf[16];
	ms_ram_share got;
	int sv[2];

	(void)state;
	pair(sv, SOCK_SEQPACKET);
	assert_int_equal(ms_ram_share_send(sv[0], ra), 0);
	assert_int_equal(ms_ram_share_recv(sv[1], &got), 0);
	rb = new_ram_with(b, &(ms_ram_opts){.name = got.name,
					    .size = got.size,
					    .backend = MS_RAM_FD,
					    .flags = MS_RAM_SHARED,
					    .fd = got.fd,
					    .offset = got.offset});
	close(got.fd); /* the region dup()ed it */
	assert_int_equal(ms_region_add_subregion(root, 0x100000, rb), 0);

	memcpy((uint8_t *)ms_region_ram_ptr(ra) + 0x1000, "from a", 7);
	assert_int_equal(ms_as_read(as, 0x101000, MS_ATTRS_UNSPECIFIED, buf, 7), MS_RESULT_OK);
	assert_string_equal((char *)buf, "from a");
	assert_int_equal(ms_as_write(as, 0x107ff0, MS_ATTRS_UNSPECIFIED, "from b", 7),
			 MS_RESULT_OK);
	assert_string_equal((char *)ms_region_ram_ptr(ra) + 0x7ff0, "from b");

	close_pair(sv);
	ms_region_unref(rb);
	ms_region_unref(ra);
	ms_ctx_free(a);
	ms_ctx_free(b);
}

static void test_shared_file_sends_its_offset_and_readonly_flag(void **state)
{
	ms_ctx *ctx = new_ctx();
	char dir[64], path[96];
	ms_region *rw, *ro;
	ms_ram_share got;
	int sv[2];

	(void)state;
	temp_path(dir, sizeof(dir), path, sizeof(path));
	rw = new_ram_with(ctx, &(ms_ram_opts){.name = "file",
					      .size = 16 * KIB,
					      .backend = MS_RAM_FILE,
					      .flags = MS_RAM_SHARED,
					      .path = path,
					      .offset = 8 * KIB});
	ro = new_ram_with(ctx, &(ms_ram_opts){.name = "file-ro",
					      .size = 8 * KIB,
					      .backend = MS_RAM_FILE,
					      .flags = MS_RAM_SHARED | MS_RAM_READONLY,
					      .path = path,
					      .offset = 16 * KIB});
	pair(sv, SOCK_SEQPACKET);
	assert_int_equal(ms_ram_share_send(sv[0], rw), 0);
	assert_int_equal(ms_ram_share_recv(sv[1], &got), 0);
	assert_int_equal(got.offset, 8 * KIB);
	assert_int_equal(got.size, 16 * KIB);
	assert_false(got.readonly);
	check_shared_pages(got.fd, got.offset, rw, got.size);
	close(got.fd);

	assert_int_equal(ms_ram_share_send(sv[0], ro), 0);
	assert_int_equal(ms_ram_share_recv(sv[1], &got), 0);
	assert_string_equal(got.name, "file-ro");
	assert_int_equal(got.offset, 16 * KIB);
	assert_int_equal(got.size, 8 * KIB);
	assert_true(got.readonly);
	close(got.fd);

	close_pair(sv);
	ms_region_unref(rw);
	ms_region_unref(ro);
	ms_ctx_free(ctx);
	unlink(path);
	rmdir(dir);
}

static void test_resizeable_ram_sends_its_used_length_and_long_names_are_cut(void **state)
{
	ms_ctx *ctx = new_ctx();
	char name[100];
	ms_region *r;
	ms_ram_share got;
	int sv[2];

	(void)state;
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	r = new_ram_with(ctx, &(ms_ram_opts){.name = name,
					     .size = 8 * KIB,
					     .max_size = 64 * KIB,
					     .backend = MS_RAM_MEMFD});
	assert_int_equal(ms_region_ram_resize(r, 20 * KIB), 0);
	pair(sv, SOCK_STREAM);
	assert_int_equal(ms_ram_share_send(sv[0], r), 0);
	assert_int_equal(ms_ram_share_recv(sv[1], &got), 0);
	assert_int_equal(got.size, 20 * KIB);
	assert_int_equal(strlen(got.name), 63);
	assert_memory_equal(got.name, name, 63);
	close(got.fd);
	close_pair(sv);
	ms_region_unref(r);
	ms_ctx_free(ctx);
}

/* ---- refused regions and arguments -------------------------------------------- */

/* Nothing was sent on @sock's peer: a receive would block. */
static void assert_nothing_sent(int peer)
{
	char c;

	assert_int_equal(recv(peer, &c, 1, MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
}

static void test_regions_whose_memory_is_not_shared_are_refused(void **state)
{
	ms_ctx *ctx = new_ctx();
	static uint8_t backing[4096];
	char dir[64], path[96];
	ms_region *r[6];
	int sv[2], fds;

	(void)state;
	temp_path(dir, sizeof(dir), path, sizeof(path));
	r[0] = new_ram(ctx, "anon", 4096);
	r[1] = new_rom(ctx, "rom", 4096);
	r[2] = new_ram_with(ctx, &(ms_ram_opts){.name = "private-file",
						.size = 4096,
						.backend = MS_RAM_FILE,
						.path = path});
	r[3] = new_ram_with(ctx, &(ms_ram_opts){.name = "ptr",
						.size = sizeof(backing),
						.backend = MS_RAM_PTR,
						.ptr = backing});
	r[4] = new_ram_with(
		ctx, &(ms_ram_opts){.name = "layout", .size = 1u << 30, .backend = MS_RAM_NONE});
	assert_int_equal(ms_region_new_ram_device(&r[5], ctx, "bar", 4096, backing), 0);
	pair(sv, SOCK_SEQPACKET);
	fds = open_fds();
	for (int i = 0; i < 6; i++)
		assert_int_equal(ms_ram_share_send(sv[0], r[i]), -ENOTSUP);
	assert_nothing_sent(sv[1]);
	assert_int_equal(open_fds(), fds);
	for (int i = 0; i < 6; i++)
		ms_region_unref(r[i]);
	close_pair(sv);
	ms_ctx_free(ctx);
	unlink(path);
	rmdir(dir);
}

static void test_bad_arguments_are_einval(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *c = new_container(ctx, "c", 4096), *ram = new_memfd(ctx, "ram", 4096);
	ms_region *io = new_io(ctx, "io", 4096);
	ms_ram_share got = {.fd = 7};
	int sv[2];

	(void)state;
	pair(sv, SOCK_SEQPACKET);
	assert_int_equal(ms_ram_share_send(-1, ram), -EINVAL);
	assert_int_equal(ms_ram_share_send(sv[0], NULL), -EINVAL);
	assert_int_equal(ms_ram_share_send(sv[0], c), -EINVAL);
	assert_int_equal(ms_ram_share_send(sv[0], io), -EINVAL);
	assert_nothing_sent(sv[1]);
	assert_int_equal(ms_ram_share_recv(sv[1], NULL), -EINVAL);
	assert_int_equal(ms_ram_share_recv(-1, &got), -EINVAL);
	assert_int_equal(got.fd, -1);
	/* Not a socket, nothing to read: sendmsg()'s and recvmsg()'s own errors. */
	assert_int_equal(ms_ram_share_send(block_fd(ram), ram), -ENOTSOCK);
	assert_int_equal(ms_ram_share_recv(block_fd(ram), &got), -ENOTSOCK);
	assert_int_equal(got.fd, -1);
	assert_int_equal(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(ms_ram_share_recv(sv[1], &got), -EAGAIN);
	close_pair(sv);
	ms_region_unref(c);
	ms_region_unref(ram);
	ms_region_unref(io);
	ms_ctx_free(ctx);
}

static void test_peer_closed_is_econnreset_and_epipe(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *r = new_memfd(ctx, "ram", 4096);
	ms_ram_share got;
	int sv[2];

	(void)state;
	pair(sv, SOCK_STREAM);
	close(sv[0]);
	assert_int_equal(ms_ram_share_recv(sv[1], &got), -ECONNRESET);
	assert_int_equal(got.fd, -1);
	/* MSG_NOSIGNAL: -EPIPE, and no SIGPIPE ends the test. */
	assert_int_equal(ms_ram_share_send(sv[1], r), -EPIPE);
	close(sv[1]);

	pair(sv, SOCK_SEQPACKET);
	close(sv[0]);
	assert_int_equal(ms_ram_share_recv(sv[1], &got), -ECONNRESET);
	close(sv[1]);
	ms_region_unref(r);
	ms_ctx_free(ctx);
}

/* ---- the decoder ------------------------------------------------------------------- */

static ms_ram_share valid_share(void)
{
	ms_ram_share s;

	memset(&s, 0, sizeof(s));
	strcpy(s.name, "ram");
	s.fd = -1;
	s.offset = 8192;
	s.size = 4096;
	s.page_size = 4096;
	return s;
}

static void test_header_round_trips_and_is_little_endian(void **state)
{
	ms_ram_share s = valid_share(), got;
	uint8_t buf[MS__SHARE_HDR_LEN], again[MS__SHARE_HDR_LEN];

	(void)state;
	s.readonly = true;
	s.size = 0x0102030405060708ull;
	ms__share_encode(buf, &s);
	assert_memory_equal(buf, "MSSH\x01\x00\x01\x00", 8);
	assert_memory_equal(buf + 8, "\x00\x20\0\0\0\0\0\0", 8);
	assert_memory_equal(buf + 16, "\x08\x07\x06\x05\x04\x03\x02\x01", 8);
	assert_memory_equal(buf + 24, "\x00\x10\0\0\0\0\0\0", 8);
	assert_memory_equal(buf + 32, "ram\0", 4);
	assert_int_equal(ms__share_decode(&got, buf, sizeof(buf)), 0);
	assert_string_equal(got.name, "ram");
	assert_int_equal(got.fd, -1);
	assert_int_equal(got.offset, 8192);
	assert_int_equal(got.size, 0x0102030405060708ull);
	assert_int_equal(got.page_size, 4096);
	assert_true(got.readonly);
	ms__share_encode(again, &got);
	assert_memory_equal(again, buf, sizeof(buf));
}

/* Every way a header can be bad, as (offset, byte) patches of a good one. */
typedef struct bad_header {
	const char *what;
	void (*patch)(uint8_t *buf);
} bad_header;

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void bad_magic(uint8_t *b)
{
	b[0] ^= 1;
}
static void bad_version(uint8_t *b)
{
	b[4] = 2;
}
static void bad_version_high(uint8_t *b)
{
	b[5] = 1;
}
static void bad_flags(uint8_t *b)
{
	b[6] |= 2;
}
static void bad_flags_high(uint8_t *b)
{
	b[7] = 0x80;
}
static void bad_size_zero(uint8_t *b)
{
	put64(b + 16, 0);
}
static void bad_offset_overflow(uint8_t *b)
{
	put64(b + 8, UINT64_MAX - 4095);
}
static void bad_offset_plus_size(uint8_t *b)
{
	put64(b + 16, (uint64_t)INT64_MAX - 8191);
}
static void bad_page_zero(uint8_t *b)
{
	put64(b + 24, 0);
}
static void bad_page_not_pow2(uint8_t *b)
{
	put64(b + 24, 3 * 4096);
}
static void bad_offset_unaligned(uint8_t *b)
{
	put64(b + 8, 8192 + 512);
}
static void bad_name_unterminated(uint8_t *b)
{
	memset(b + 32, 'x', 64);
}
static void bad_name_trailing(uint8_t *b)
{
	b[95] = 'x';
}

static const bad_header bad_headers[] = {
	{"magic", bad_magic},
	{"version", bad_version},
	{"version high byte", bad_version_high},
	{"unknown flag", bad_flags},
	{"unknown high flag", bad_flags_high},
	{"size 0", bad_size_zero},
	{"offset past INT64_MAX", bad_offset_overflow},
	{"offset + size past INT64_MAX", bad_offset_plus_size},
	{"page size 0", bad_page_zero},
	{"page size not a power of two", bad_page_not_pow2},
	{"offset not a page multiple", bad_offset_unaligned},
	{"name without NUL", bad_name_unterminated},
	{"bytes after the name's NUL", bad_name_trailing},
};

static void test_decoder_refuses_every_bad_field(void **state)
{
	ms_ram_share s = valid_share(), got;
	uint8_t good[MS__SHARE_HDR_LEN], buf[MS__SHARE_HDR_LEN];

	(void)state;
	ms__share_encode(good, &s);
	assert_int_equal(ms__share_decode(&got, good, sizeof(good)), 0);
	for (size_t i = 0; i < sizeof(bad_headers) / sizeof(bad_headers[0]); i++) {
		memcpy(buf, good, sizeof(buf));
		bad_headers[i].patch(buf);
		got.fd = 5;
		if (ms__share_decode(&got, buf, sizeof(buf)) != -EPROTO)
			fail_msg("a header with a bad %s was not refused", bad_headers[i].what);
		assert_int_equal(got.fd, -1);
		assert_int_equal(got.size, 0);
	}
	assert_int_equal(ms__share_decode(&got, good, sizeof(good) - 1), -EPROTO);
	assert_int_equal(ms__share_decode(&got, good, 0), -EPROTO);
	/* The largest valid extent: offset + size == INT64_MAX. */
	memcpy(buf, good, sizeof(buf));
	put64(buf + 16, (uint64_t)INT64_MAX - 8192);
	assert_int_equal(ms__share_decode(&got, buf, sizeof(buf)), 0);
}

/* ---- malformed messages on the socket ------------------------------------------------ */

/* Send @len bytes of @buf with @nr_fds fds attached, as a hostile peer could. */
static void send_raw(int sock, const void *buf, size_t len, const int *fds, size_t nr_fds)
{
	union {
		struct cmsghdr align;
		char bytes[CMSG_SPACE(32 * sizeof(int))];
	} control;
	struct iovec iov = {(void *)buf, len};
	struct msghdr msg = {0};

	assert_true(nr_fds <= 32);
	memset(&control, 0, sizeof(control));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (nr_fds) {
		struct cmsghdr *c;

		msg.msg_control = control.bytes;
		msg.msg_controllen = CMSG_SPACE(nr_fds * sizeof(int));
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nr_fds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nr_fds * sizeof(int));
	}
	assert_int_equal(sendmsg(sock, &msg, MSG_NOSIGNAL), (ssize_t)len);
}

/* @sock's next message must be refused with -EPROTO, leaving no new fd open. */
static void expect_refused(int sock, const char *what)
{
	int before = open_fds(), rc;
	ms_ram_share got = {.fd = 9};

	rc = ms_ram_share_recv(sock, &got);
	if (rc != -EPROTO)
		fail_msg("%s: ms_ram_share_recv() returned %d, expected %d", what, rc, -EPROTO);
	assert_int_equal(got.fd, -1);
	if (open_fds() != before)
		fail_msg("%s: %d fds open before the receive, %d after", what, before, open_fds());
}

static int memfd_of(uint64_t len)
{
	int fd = memfd_create("test", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)len), 0);
	return fd;
}

static void test_malformed_messages_are_refused_and_their_fds_closed(void **state)
{
	ms_ram_share s = valid_share(), got;
	uint8_t good[MS__SHARE_HDR_LEN], buf[MS__SHARE_HDR_LEN + 8];
	int fds[20], pipe_fds[2], sv[2];

	(void)state;
	ms__share_encode(good, &s);
	for (int i = 0; i < 20; i++)
		fds[i] = memfd_of(16 * KIB);
	assert_int_equal(pipe(pipe_fds), 0);
	pair(sv, SOCK_SEQPACKET);

	for (size_t i = 0; i < sizeof(bad_headers) / sizeof(bad_headers[0]); i++) {
		memcpy(buf, good, MS__SHARE_HDR_LEN);
		bad_headers[i].patch(buf);
		send_raw(sv[0], buf, MS__SHARE_HDR_LEN, fds, 1);
		expect_refused(sv[1], bad_headers[i].what);
	}
	send_raw(sv[0], good, MS__SHARE_HDR_LEN - 1, fds, 1);
	expect_refused(sv[1], "one byte short");
	memcpy(buf, good, MS__SHARE_HDR_LEN);
	memset(buf + MS__SHARE_HDR_LEN, 0, 8);
	send_raw(sv[0], buf, MS__SHARE_HDR_LEN + 1, fds, 1);
	expect_refused(sv[1], "one byte long");
	send_raw(sv[0], buf, MS__SHARE_HDR_LEN + 8, fds, 1);
	expect_refused(sv[1], "eight bytes long (truncated)");
	send_raw(sv[0], good, MS__SHARE_HDR_LEN, NULL, 0);
	expect_refused(sv[1], "no fd");
	send_raw(sv[0], good, MS__SHARE_HDR_LEN, fds, 2);
	expect_refused(sv[1], "two fds");
	send_raw(sv[0], good, MS__SHARE_HDR_LEN, fds, 20);
	expect_refused(sv[1], "twenty fds (control data truncated)");
	send_raw(sv[0], good, MS__SHARE_HDR_LEN, &pipe_fds[0], 1);
	expect_refused(sv[1], "a pipe instead of a file");
	close(fds[19]);
	fds[19] = memfd_of(8 * KIB); /* offset 8 KiB + size 4 KiB does not fit */
	send_raw(sv[0], good, MS__SHARE_HDR_LEN, &fds[19], 1);
	expect_refused(sv[1], "a file shorter than offset + size");

	/* The socket is still usable: a good message after all that. */
	send_raw(sv[0], good, MS__SHARE_HDR_LEN, fds, 1);
	assert_int_equal(ms_ram_share_recv(sv[1], &got), 0);
	assert_int_equal(got.size, 4096);
	assert_true(got.fd >= 0 && got.fd != fds[0]);
	close(got.fd);

	/* A stream socket refuses a bad message the same way. */
	close_pair(sv);
	pair(sv, SOCK_STREAM);
	memcpy(buf, good, MS__SHARE_HDR_LEN);
	bad_magic(buf);
	send_raw(sv[0], buf, MS__SHARE_HDR_LEN, fds, 3);
	expect_refused(sv[1], "stream: bad magic with three fds");

	close_pair(sv);
	close(pipe_fds[0]);
	close(pipe_fds[1]);
	for (int i = 0; i < 20; i++)
		close(fds[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memfd_region_sent_over_stream_socket_shares_its_pages),
		cmocka_unit_test(test_received_fd_backs_a_region_of_another_context),
		cmocka_unit_test(test_shared_file_sends_its_offset_and_readonly_flag),
		cmocka_unit_test(test_resizeable_ram_sends_its_used_length_and_long_names_are_cut),
		cmocka_unit_test(test_regions_whose_memory_is_not_shared_are_refused),
		cmocka_unit_test(test_bad_arguments_are_einval),
		cmocka_unit_test(test_peer_closed_is_econnreset_and_epipe),
		cmocka_unit_test(test_header_round_trips_and_is_little_endian),
		cmocka_unit_test(test_decoder_refuses_every_bad_field),
		cmocka_unit_test(test_malformed_messages_are_refused_and_their_fds_closed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
