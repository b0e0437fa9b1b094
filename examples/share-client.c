/*
 * share-client: place another process's RAM in a machine of our own.
 *
 *   share-client SOCKET-PATH
 *
 * Connects to share-server at SOCKET-PATH (retrying for up to 10 s while
 * the server starts), receives its RAM region (ms_ram_share_recv()),
 * creates a region of its own on the received fd (MS_RAM_FD, shared) and
 * places it at 0x1000000 of its own address space. When the server says
 * it wrote its pattern, checks the pattern through that address space,
 * writes a reply 4 KiB further on, and tells the server. Exit status 0
 * when the pattern was there, 1 otherwise.
 *
 * SPDX-License-Identifier: MIT
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep() */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <memspace.h>

#define GUEST_BASE 0x1000000u
#define PATTERN_LEN 4096u
#define REPLY_OFFSET 4096u
#define TIMEOUT_MS 10000

static void make_pattern(uint8_t *buf, unsigned mul, unsigned add)
{
	for (unsigned i = 0; i < PATTERN_LEN; i++)
		buf[i] = (uint8_t)(i * mul + add);
}

/* Connect to @path, retrying every 20 ms while nobody listens there yet. */
static int connect_to(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	const struct timespec pause = {0, 20 * 1000 * 1000};

	if (strlen(path) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "share-client: socket path too long: %s\n", path);
		return -1;
	}
	strcpy(addr.sun_path, path);
	for (int tries = TIMEOUT_MS / 20;; tries--) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0) {
			perror("share-client: socket");
			return -1;
		}
		if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0)
			return fd;
		close(fd);
		if ((errno != ENOENT && errno != ECONNREFUSED) || tries == 0) {
			fprintf(stderr, "share-client: %s: %s\n", path, strerror(errno));
			return -1;
		}
		nanosleep(&pause, NULL);
	}
}

/* Wait for @fd to be readable, then read one byte. 0, or -1 with a message. */
static int wait_byte(int fd, const char *what)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char c;
	int n = poll(&p, 1, TIMEOUT_MS);

	if (n == 0) {
		fprintf(stderr, "share-client: no %s within %d ms\n", what, TIMEOUT_MS);
		return -1;
	}
	if (n < 0 || read(fd, &c, 1) != 1) {
		fprintf(stderr, "share-client: waiting for %s: %s\n", what,
			n < 0 ? strerror(errno) : "the server closed the connection");
		return -1;
	}
	return 0;
}

/* Check the server's pattern at GUEST_BASE, write the reply, tell the server. */
static int talk(int sock, ms_as *as)
{
	uint8_t want[PATTERN_LEN], got[PATTERN_LEN];
	ms_result res;

	if (wait_byte(sock, "pattern") < 0)
		return -1;
	make_pattern(want, 7, 0x5a);
	res = ms_as_read(as, GUEST_BASE, MS_ATTRS_UNSPECIFIED, got, sizeof(got));
	if (res != MS_RESULT_OK || memcmp(got, want, sizeof(want)) != 0) {
		fprintf(stderr, "share-client: the server's pattern is not in the shared RAM\n");
		return -1;
	}
	printf("share-client: the server's pattern is in the shared RAM\n");
	make_pattern(want, 13, 0xa5);
	res = ms_as_write(as, GUEST_BASE + REPLY_OFFSET, MS_ATTRS_UNSPECIFIED, want, sizeof(want));
	if (res != MS_RESULT_OK || write(sock, "r", 1) != 1) {
		fprintf(stderr, "share-client: writing the reply failed\n");
		return -1;
	}
	printf("share-client: wrote the reply\n");
	return 0;
}

int main(int argc, char **argv)
{
	ms_ctx *ctx = NULL;
	ms_region *system = NULL, *ram = NULL;
	ms_as *as = NULL;
	ms_ram_share share;
	int sock, err, status = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: %s SOCKET-PATH\n", argv[0]);
		return 2;
	}
	sock = connect_to(argv[1]);
	if (sock < 0)
		return 1;
	err = ms_ram_share_recv(sock, &share);
	if (err) {
		fprintf(stderr, "share-client: receiving the region: %s\n", ms_strerror(err));
		close(sock);
		return 1;
	}
	printf("share-client: received \"%s\": %llu bytes at offset %llu of fd %d%s\n", share.name,
	       (unsigned long long)share.size, (unsigned long long)share.offset, share.fd,
	       share.readonly ? " (read-only)" : "");
	{
		const ms_ram_opts opts = {
			.name = share.name,
			.size = share.size,
			.backend = MS_RAM_FD,
			.flags = MS_RAM_SHARED | (share.readonly ? MS_RAM_READONLY : 0),
			.fd = share.fd,
			.offset = share.offset,
		};

		if ((err = ms_ctx_new(&ctx)) ||
		    (err = ms_region_new_container(&system, ctx, "system", MS_SIZE_2_64)) ||
		    (err = ms_region_new_ram_with(&ram, ctx, &opts)) ||
		    (err = ms_region_add_subregion(system, GUEST_BASE, ram)) ||
		    (err = ms_as_new(&as, ctx, system, "memory")))
			fprintf(stderr, "share-client: building the machine: %s\n",
				ms_strerror(err));
	}
	close(share.fd); /* the region holds its own duplicate */
	if (!err && talk(sock, as) == 0)
		status = 0;
	close(sock);
	ms_ctx_free(ctx); /* frees every region and address space of ctx */
	return status;
}
