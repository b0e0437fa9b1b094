/*
 * Fuzz target: the message of ms_ram_share_send() / ms_ram_share_recv()
 * (docs/sharing.md). The input is the message's bytes, as a hostile peer
 * would send them.
 *
 * The decoder (ms__share_decode()) runs on the input first. When it
 * accepts, every field must be within the documented rules and encoding
 * the result must give back the input byte for byte (the format is
 * canonical); when it refuses, the result must be zeroed with fd -1.
 * Then the input goes over a seqpacket socketpair with one memfd of
 * FILE_SIZE bytes attached, and ms_ram_share_recv() must give exactly the
 * verdict the decoder predicts (an empty message: -ECONNRESET; a header
 * whose offset + size passes the file: -EPROTO), the same fields, and no
 * leaked fd: the lowest free fd number before the receive is still free
 * after a refusal. Any difference aborts.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "share.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FILE_SIZE (1u << 20)
/* Larger inputs only go through the decoder (a socket buffer is finite). */
#define MAX_SOCKET_INPUT 65536u

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_ram_share: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static int sv[2] = {-1, -1};
static int memfd = -1;

static void setup_once(void)
{
	if (memfd >= 0)
		return;
	CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
	memfd = memfd_create("fuzz_ram_share", MFD_CLOEXEC);
	CHECK(memfd >= 0);
	CHECK(ftruncate(memfd, FILE_SIZE) == 0);
}

static void check_decoded(const ms_ram_share *s, const uint8_t *data)
{
	uint8_t again[MS__SHARE_HDR_LEN];

	CHECK(s->fd == -1);
	CHECK(memchr(s->name, 0, sizeof(s->name)) != NULL);
	CHECK(s->size != 0);
	CHECK(s->page_size && !(s->page_size & (s->page_size - 1)));
	CHECK(s->offset % s->page_size == 0);
	CHECK(s->offset <= (uint64_t)INT64_MAX && s->size <= (uint64_t)INT64_MAX - s->offset);
	ms__share_encode(again, s);
	CHECK(memcmp(again, data, MS__SHARE_HDR_LEN) == 0);
}

static bool all_zero(const ms_ram_share *s)
{
	static const ms_ram_share zero = {.fd = -1};

	return s->fd == -1 && memcmp(s->name, zero.name, sizeof(s->name)) == 0 && !s->offset &&
	       !s->size && !s->page_size && !s->readonly;
}

static void send_with_fd(const uint8_t *data, size_t size)
{
	union {
		struct cmsghdr align;
		char bytes[CMSG_SPACE(sizeof(int))];
	} control;
	struct iovec iov = {(void *)data, size};
	struct msghdr msg = {0};
	struct cmsghdr *c;

	memset(&control, 0, sizeof(control));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = control.bytes;
	msg.msg_controllen = sizeof(control.bytes);
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &memfd, sizeof(int));
	CHECK(sendmsg(sv[0], &msg, MSG_NOSIGNAL) == (ssize_t)size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ms_ram_share decoded, got;
	int verdict, rc, probe;

	verdict = ms__share_decode(&decoded, data, size);
	if (verdict == 0)
		check_decoded(&decoded, data);
	else
		CHECK(verdict == -EPROTO && all_zero(&decoded));
	if (size > MAX_SOCKET_INPUT)
		return 0;
	setup_once();
	if (size == 0)
		verdict = -ECONNRESET;
	else if (verdict == 0 && decoded.offset + decoded.size > FILE_SIZE)
		verdict = -EPROTO;
	/* The lowest free fd now: a leaked fd would be installed there. */
	probe = fcntl(memfd, F_DUPFD_CLOEXEC, 0);
	CHECK(probe >= 0);
	close(probe);
	send_with_fd(data, size);
	rc = ms_ram_share_recv(sv[1], &got);
	if (rc != verdict) {
		fprintf(stderr, "fuzz_ram_share: %zu bytes: received %d, the decoder says %d\n",
			size, rc, verdict);
		abort();
	}
	if (rc == 0) {
		CHECK(got.fd == probe);
		CHECK(strcmp(got.name, decoded.name) == 0 && got.offset == decoded.offset &&
		      got.size == decoded.size && got.page_size == decoded.page_size &&
		      got.readonly == decoded.readonly);
		close(probe);
	} else {
		CHECK(all_zero(&got));
		CHECK(fcntl(probe, F_GETFD) == -1 && errno == EBADF);
	}
	return 0;
}
