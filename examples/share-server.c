/*
 * share-server: give another process the RAM of a machine.
 *
 *   share-server SOCKET-PATH
 *
 * Builds a machine with 64 KiB of memfd RAM at 0x80000000, listens on the
 * UNIX socket SOCKET-PATH, and for one client: sends the RAM region
 * (ms_ram_share_send()), writes a pattern into the RAM through its address
 * space, tells the client with one byte, and waits (10 s at most) for the
 * client's byte saying it wrote its reply 4 KiB further on, which it then
 * reads back through the address space. Run share-client with the same
 * path. Exit status 0 when the reply is there, 1 otherwise.
 *
 * SPDX-License-Identifier: MIT
 */
#define _GNU_SOURCE /* accept4() */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <memspace.h>

#define RAM_BASE 0x80000000u
#define RAM_SIZE (64u * 1024)
#define PATTERN_LEN 4096u
#define REPLY_OFFSET 4096u
#define TIMEOUT_MS 10000

static void make_pattern(uint8_t *buf, unsigned mul, unsigned add)
{
	for (unsigned i = 0; i < PATTERN_LEN; i++)
		buf[i] = (uint8_t)(i * mul + add);
}

/* Listen on @path (a stale socket file there is replaced). -1 on error. */
static int listen_on(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "share-server: socket path too long: %s\n", path);
		return -1;
	}
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("share-server: socket");
		return -1;
	}
	unlink(path);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 1) < 0) {
		fprintf(stderr, "share-server: %s: %s\n", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Wait for @fd to be readable, then read one byte. 0, or -1 with a message. */
static int wait_byte(int fd, const char *what)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char c;
	int n = poll(&p, 1, TIMEOUT_MS);

	if (n == 0) {
		fprintf(stderr, "share-server: no %s within %d ms\n", what, TIMEOUT_MS);
		return -1;
	}
	if (n < 0 || read(fd, &c, 1) != 1) {
		fprintf(stderr, "share-server: waiting for %s: %s\n", what,
			n < 0 ? strerror(errno) : "the client closed the connection");
		return -1;
	}
	return 0;
}

static int serve(int listener, ms_as *as, ms_region *ram)
{
	uint8_t pattern[PATTERN_LEN], reply[PATTERN_LEN], got[PATTERN_LEN];
	struct pollfd p = {.fd = listener, .events = POLLIN};
	ms_result res;
	int conn, err;

	if (poll(&p, 1, TIMEOUT_MS) != 1) {
		fprintf(stderr, "share-server: no client within %d ms\n", TIMEOUT_MS);
		return -1;
	}
	conn = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
	if (conn < 0) {
		perror("share-server: accept");
		return -1;
	}
	err = ms_ram_share_send(conn, ram);
	if (err) {
		fprintf(stderr, "share-server: sending the region: %s\n", ms_strerror(err));
		close(conn);
		return -1;
	}
	make_pattern(pattern, 7, 0x5a);
	res = ms_as_write(as, RAM_BASE, MS_ATTRS_UNSPECIFIED, pattern, sizeof(pattern));
	if (res != MS_RESULT_OK || write(conn, "w", 1) != 1) {
		fprintf(stderr, "share-server: writing the pattern failed\n");
		close(conn);
		return -1;
	}
	printf("share-server: sent \"%s\" (%u bytes) and wrote the pattern\n", ms_region_name(ram),
	       RAM_SIZE);
	if (wait_byte(conn, "reply") < 0) {
		close(conn);
		return -1;
	}
	close(conn);
	make_pattern(reply, 13, 0xa5);
	res = ms_as_read(as, RAM_BASE + REPLY_OFFSET, MS_ATTRS_UNSPECIFIED, got, sizeof(got));
	if (res != MS_RESULT_OK || memcmp(got, reply, sizeof(reply)) != 0) {
		fprintf(stderr, "share-server: the client's reply is not in the RAM\n");
		return -1;
	}
	printf("share-server: the client's reply is in the RAM\n");
	return 0;
}

int main(int argc, char **argv)
{
	const ms_ram_opts opts = {
		.name = "shared-ram", .size = RAM_SIZE, .backend = MS_RAM_MEMFD, .fd = -1};
	ms_ctx *ctx = NULL;
	ms_region *system = NULL, *ram = NULL;
	ms_as *as = NULL;
	int listener, err, status = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: %s SOCKET-PATH\n", argv[0]);
		return 2;
	}
	if ((err = ms_ctx_new(&ctx)) ||
	    (err = ms_region_new_container(&system, ctx, "system", MS_SIZE_2_64)) ||
	    (err = ms_region_new_ram_with(&ram, ctx, &opts)) ||
	    (err = ms_region_add_subregion(system, RAM_BASE, ram)) ||
	    (err = ms_as_new(&as, ctx, system, "memory"))) {
		fprintf(stderr, "share-server: building the machine: %s\n", ms_strerror(err));
		ms_ctx_free(ctx);
		return 1;
	}
	listener = listen_on(argv[1]);
	if (listener >= 0) {
		if (serve(listener, as, ram) == 0)
			status = 0;
		close(listener);
		unlink(argv[1]);
	}
	ms_ctx_free(ctx); /* frees every region and address space of ctx */
	return status;
}
