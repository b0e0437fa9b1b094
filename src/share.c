/*
 * share.c: handing a shared RAM region's memory to another process over a
 * UNIX socket - one fixed header (share.h) with the backing fd attached.
 *
 * The receiver trusts nothing: a message is taken whole in one recvmsg()
 * with room for one byte more than a header and a few fds more than one,
 * so an overlong message, extra or missing fds and truncated control data
 * are all seen; every fd a refused message carried is closed before the
 * call returns. Nothing here keeps state: both calls are plain functions
 * of their arguments (the region is read under the topology lock).
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "region.h"
#include "share.h"

/* fds a receive has room for: one, and more so that extras are counted. */
#define RECV_MAX_FDS 8

static void put_le(uint8_t *p, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

void ms__share_encode(uint8_t buf[MS__SHARE_HDR_LEN], const ms_ram_share *s)
{
	size_t name_len = strnlen(s->name, MS__SHARE_NAME_LEN - 1);

	memset(buf, 0, MS__SHARE_HDR_LEN);
	put_le(buf + 0, MS__SHARE_MAGIC, 4);
	put_le(buf + 4, MS__SHARE_VERSION, 2);
	put_le(buf + 6, s->readonly ? MS__SHARE_READONLY : 0, 2);
	put_le(buf + 8, s->offset, 8);
	put_le(buf + 16, s->size, 8);
	put_le(buf + 24, s->page_size, 8);
	memcpy(buf + 32, s->name, name_len);
}

int ms__share_decode(ms_ram_share *out, const uint8_t *buf, size_t len)
{
	const uint8_t *name = buf + 32, *nul;
	uint64_t flags, offset, size, page_size;

	memset(out, 0, sizeof(*out));
	out->fd = -1;
	if (len != MS__SHARE_HDR_LEN)
		return -EPROTO;
	if (get_le(buf, 4) != MS__SHARE_MAGIC || get_le(buf + 4, 2) != MS__SHARE_VERSION)
		return -EPROTO;
	flags = get_le(buf + 6, 2);
	offset = get_le(buf + 8, 8);
	size = get_le(buf + 16, 8);
	page_size = get_le(buf + 24, 8);
	if (flags & ~(uint64_t)MS__SHARE_READONLY)
		return -EPROTO;
	if (size == 0 || offset > (uint64_t)INT64_MAX || size > (uint64_t)INT64_MAX - offset)
		return -EPROTO;
	if (page_size == 0 || (page_size & (page_size - 1)) || offset % page_size)
		return -EPROTO;
	/* Terminated, and zero after the terminator: one encoding per header. */
	nul = memchr(name, 0, MS__SHARE_NAME_LEN);
	if (!nul)
		return -EPROTO;
	for (const uint8_t *p = nul; p < name + MS__SHARE_NAME_LEN; p++)
		if (*p)
			return -EPROTO;
	memcpy(out->name, name, (size_t)(nul - name) + 1);
	out->offset = offset;
	out->size = size;
	out->page_size = page_size;
	out->readonly = flags & MS__SHARE_READONLY;
	return 0;
}

int ms_ram_share_send(int sock, const ms_region *r)
{
	uint8_t buf[MS__SHARE_HDR_LEN];
	union {
		struct cmsghdr align;
		char bytes[CMSG_SPACE(sizeof(int))];
	} control;
	struct iovec iov = {buf, sizeof(buf)};
	struct msghdr msg = {0};
	struct cmsghdr *cmsg;
	const ms__ramblock *rb;
	ms_ram_share s;
	ssize_t n;

	if (sock < 0 || !r || !r->rb)
		return -EINVAL;
	rb = r->rb;
	memset(&s, 0, sizeof(s));
	if (rb->fd < 0 || !rb->shared || !rb->host)
		return -ENOTSUP;
	memcpy(s.name, r->name, strnlen(r->name, sizeof(s.name) - 1));
	s.offset = rb->fd_offset;
	s.page_size = rb->page_size;
	s.readonly = rb->readonly;
	/* The size of resizeable RAM changes under the topology lock. */
	ms__ctx_lock(r->ctx);
	s.size = ms__size_to_api(r->size);
	ms__ctx_unlock(r->ctx);
	ms__share_encode(buf, &s);

	memset(&control, 0, sizeof(control));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = control.bytes;
	msg.msg_controllen = sizeof(control.bytes);
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &rb->fd, sizeof(int));
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno ? -errno : -EIO;
	/* A stream socket took only part of the header (and the fd with it):
	 * the rest cannot follow as the same message. */
	return n == (ssize_t)sizeof(buf) ? 0 : -EIO;
}

/* Gather the fds of every SCM_RIGHTS block of @msg into @fds (at most @max). */
static size_t collect_fds(struct msghdr *msg, int *fds, size_t max)
{
	size_t nr = 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		size_t count;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < count && nr < max; i++)
			memcpy(&fds[nr++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
	}
	return nr;
}

/* The fd can back @s: a regular file (or block device) that long. */
static bool fd_fits(int fd, const ms_ram_share *s)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return false;
	if (S_ISBLK(st.st_mode))
		return true;
	return S_ISREG(st.st_mode) && (uint64_t)st.st_size >= s->offset + s->size;
}

int ms_ram_share_recv(int sock, ms_ram_share *out)
{
	uint8_t buf[MS__SHARE_HDR_LEN + 1]; /* one more: an overlong message shows */
	union {
		struct cmsghdr align;
		char bytes[CMSG_SPACE(RECV_MAX_FDS * sizeof(int))];
	} control;
	struct iovec iov = {buf, sizeof(buf)};
	struct msghdr msg = {0};
	int fds[RECV_MAX_FDS];
	size_t nr_fds, i;
	ssize_t n;
	int rc;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->fd = -1;
	if (sock < 0)
		return -EINVAL;
	memset(&control, 0, sizeof(control));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = control.bytes;
	msg.msg_controllen = sizeof(control.bytes);
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno ? -errno : -EIO;
	/* Whatever the verdict, every fd received is accounted for. The
	 * kernel drops the fds that did not fit (MSG_CTRUNC): none leak. */
	nr_fds = msg.msg_controllen ? collect_fds(&msg, fds, RECV_MAX_FDS) : 0;
	if (n == 0)
		rc = -ECONNRESET;
	else if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC) || nr_fds != 1)
		rc = -EPROTO;
	else
		rc = ms__share_decode(out, buf, (size_t)n);
	if (rc == 0 && !fd_fits(fds[0], out))
		rc = -EPROTO;
	if (rc < 0) {
		for (i = 0; i < nr_fds; i++)
			close(fds[i]);
		memset(out, 0, sizeof(*out));
		out->fd = -1;
		return rc;
	}
	out->fd = fds[0];
	return 0;
}
