/*
 * memspace-bench vfio-user: a device in another process over vfio-user,
 * served by the test device built on libvfio-user (tests/vfio_user/; built
 * with the tests when libvfio-user is available, else this subcommand says
 * it is skipped).
 *
 *   BAR read     ns per 4-byte load of a BAR register: by REGION_READ
 *                message (a socket round trip) vs from the mmapped area
 *                (a RAM-device load);
 *   DMA          MB/s of the device's DMA engine reading 4 KiB and 1 MiB
 *                of guest RAM into a buffer of the server's: RAM passed by
 *                fd (the server maps it) vs anonymous RAM served by
 *                DMA_READ messages (each copy is one register write, so the
 *                figure includes that round trip; 1 MiB by messages is one
 *                DMA_READ of 1 MiB, the client's max_data_xfer_size).
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memspace.h>

#include "vfio_user.h"

/* Everything but the entry point needs the test device (tests/vfio_user/). */
#ifdef MS_BENCH_VFU_SERVER
#define BAR0 0x10000000ull
#define BAR1 0x20000000ull
#define RAM_SIZE (2ull << 20)
#define DMA_ADDR 0x1000u

typedef struct vm {
	ms_ctx *ctx;
	ms_region *root, *ram;
	ms_as *as;
	ms_vfio_user *dev;
	pid_t pid;
	char dir[64], path[96];
} vm;

static void place(vm *m, uint32_t index, uint64_t addr)
{
	ms_region *r;

	bench_check(ms_vfio_user_region(&r, m->dev, index, "bar"), "ms_vfio_user_region");
	bench_check(ms_region_add_subregion(m->root, addr, r), "ms_region_add_subregion");
	ms_region_unref(r);
}

static void vm_new(vm *m, const char *server, bool shared)
{
	int rc = -ENOENT;

	memset(m, 0, sizeof(*m));
	bench_check(ms_ctx_new(&m->ctx), "ms_ctx_new");
	bench_check(ms_region_new_container(&m->root, m->ctx, "system", UINT64_MAX), "container");
	bench_check(ms_region_new_ram_with(
			    &m->ram, m->ctx,
			    &(ms_ram_opts){.name = "ram",
					   .size = RAM_SIZE,
					   .backend = shared ? MS_RAM_MEMFD : MS_RAM_ANON}),
		    "ram");
	bench_check(ms_region_add_subregion(m->root, 0, m->ram), "ms_region_add_subregion");
	bench_check(ms_as_new(&m->as, m->ctx, m->root, "memory"), "ms_as_new");
	strcpy(m->dir, "/tmp/ms-bench-vfu-XXXXXX");
	if (!mkdtemp(m->dir))
		bench_die("mkdtemp: %s", strerror(errno));
	snprintf(m->path, sizeof(m->path), "%s/sock", m->dir);
	m->pid = fork();
	if (m->pid < 0)
		bench_die("fork: %s", strerror(errno));
	if (m->pid == 0) {
		execl(server, server, m->path, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 500 && (rc == -ENOENT || rc == -ECONNREFUSED); i++) {
		rc = ms_vfio_user_connect(&m->dev, m->ctx,
					  &(ms_vfio_user_opts){.socket = m->path, .dma_as = m->as});
		if (rc == -ENOENT || rc == -ECONNREFUSED)
			usleep(10000);
	}
	bench_check(rc, "ms_vfio_user_connect");
	place(m, 0, BAR0);
	place(m, 1, BAR1);
	bench_check(ms_vfio_user_dma_map(m->dev, 0, RAM_SIZE, m->ram, 0, true),
		    "ms_vfio_user_dma_map");
}

static void vm_free(vm *m)
{
	int status;

	while (ms_region_nr_subregions(m->root) > 1)
		bench_check(ms_region_del_subregion(m->root, ms_region_subregion(m->root, 1)),
			    "ms_region_del_subregion");
	ms_vfio_user_close(m->dev);
	waitpid(m->pid, &status, 0);
	unlink(m->path);
	rmdir(m->dir);
	ms_as_free(m->as);
	ms_region_unref(m->ram);
	ms_region_unref(m->root);
	ms_ctx_free(m->ctx);
}

static double time_reads(vm *m, uint64_t addr, unsigned iters)
{
	ms_result r = 0;
	uint32_t sum = 0;
	uint64_t t0 = bench_now_ns();

	for (unsigned i = 0; i < iters; i++)
		sum += ms_as_ldl_le(m->as, addr, MS_ATTRS_UNSPECIFIED, &r);
	if (r)
		bench_die("BAR read failed");
	(void)sum;
	return (double)(bench_now_ns() - t0) / iters;
}

/* MB/s of @iters DMA copies of @len bytes, guest -> the server's scratch buffer (command 3). */
static double time_dma(vm *m, uint64_t len, unsigned iters)
{
	ms_result r = 0;
	uint64_t t0;

	r |= ms_as_stq_le(m->as, BAR0 + 0x800, MS_ATTRS_UNSPECIFIED, DMA_ADDR);
	r |= ms_as_stq_le(m->as, BAR0 + 0x808, MS_ATTRS_UNSPECIFIED, len);
	r |= ms_as_stq_le(m->as, BAR0 + 0x810, MS_ATTRS_UNSPECIFIED, 0);
	t0 = bench_now_ns();
	for (unsigned i = 0; i < iters; i++)
		r |= ms_as_stl_le(m->as, BAR0 + 0x818, MS_ATTRS_UNSPECIFIED, 3);
	t0 = bench_now_ns() - t0;
	if (r || ms_as_ldl_le(m->as, BAR0 + 0x820, MS_ATTRS_UNSPECIFIED, &r) != 0)
		bench_die("DMA failed");
	return (double)iters * (double)len / ((double)t0 / 1e9) / 1e6;
}

/* The median MB/s of the DMA figure for @len bytes per copy. */
static double dma_median(vm *m, double *s, const bench_opts *opts, uint64_t len, unsigned iters)
{
	for (unsigned i = 0; i < opts->samples; i++)
		s[i] = time_dma(m, len, iters);
	return bench_median(s, opts->samples);
}

#endif /* MS_BENCH_VFU_SERVER */

int bench_vfio_user(const bench_opts *opts, bench_json *json)
{
#ifdef MS_BENCH_VFU_SERVER
	unsigned reads = opts->quick ? 2000 : 20000, mreads = opts->quick ? 100000 : 1000000;
	unsigned small = opts->quick ? 200 : 2000, big = opts->quick ? 5 : 50;
	double *s = malloc(opts->samples * sizeof(*s));
	double msg_ns, mmap_ns, fd_4k, fd_1m, msg_4k, msg_1m;
	vm m;

	if (!s)
		bench_die("out of memory");
	signal(SIGPIPE, SIG_IGN);
	vm_new(&m, MS_BENCH_VFU_SERVER, true);
	for (unsigned i = 0; i < opts->samples; i++)
		s[i] = time_reads(&m, BAR0, reads);
	msg_ns = bench_median(s, opts->samples);
	for (unsigned i = 0; i < opts->samples; i++)
		s[i] = time_reads(&m, BAR1, mreads);
	mmap_ns = bench_median(s, opts->samples);
	fd_4k = dma_median(&m, s, opts, 4096, small);
	fd_1m = dma_median(&m, s, opts, 1u << 20, big);
	vm_free(&m);
	vm_new(&m, MS_BENCH_VFU_SERVER, false);
	msg_4k = dma_median(&m, s, opts, 4096, small);
	msg_1m = dma_median(&m, s, opts, 1u << 20, big);
	vm_free(&m);
	free(s);

	bench_json_open(json, "vfio_user");
	bench_json_number(json, "bar_read_message_ns", msg_ns);
	bench_json_number(json, "bar_read_mmap_ns", mmap_ns);
	bench_json_number(json, "dma_fd_4k_mb_per_s", fd_4k);
	bench_json_number(json, "dma_fd_1m_mb_per_s", fd_1m);
	bench_json_number(json, "dma_message_4k_mb_per_s", msg_4k);
	bench_json_number(json, "dma_message_1m_mb_per_s", msg_1m);
	bench_json_close(json);
	if (!opts->json) {
		printf("vfio-user: a libvfio-user device in another process, medians\n");
		printf("  4-byte BAR read by message        %10.1f ns\n", msg_ns);
		printf("  4-byte BAR read, mmapped          %10.1f ns\n", mmap_ns);
		printf("  DMA 4 KiB copies, RAM by fd       %10.1f MB/s\n", fd_4k);
		printf("  DMA 4 KiB copies, by messages     %10.1f MB/s\n", msg_4k);
		printf("  DMA 1 MiB copies, RAM by fd       %10.1f MB/s\n", fd_1m);
		printf("  DMA 1 MiB copies, by messages     %10.1f MB/s\n", msg_1m);
	}
#else
	(void)json;
	if (!opts->json)
		printf("vfio-user: skipped (the test device on libvfio-user was not built)\n");
#endif
	return 0;
}
