/*
 * test_backend.c: RAM backends (backend.h): anonymous, memfd, file, fd,
 * pointer and layout-only memory, alignment, preallocation, read-only
 * mappings, resizeable RAM, and the option checks of
 * ms_region_new_ram_with().
 *
 * Every backend is checked three ways: what ms_region_ram_info() says, that
 * bytes written through an address space come back, and, for the backends
 * with a file behind them, that the bytes really are in the file (pread()
 * and a second mapping) and that a write to the file is seen by the guest.
 * A refused creation must leave no region and no new file behind.
 *
 * Files live in a fresh directory under $TMPDIR (mkdtemp), removed at the
 * end of each test.
 *
 * SPDX-License-Identifier: MIT
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <memspace/backend.h>
#include <memspace/cache.h>
#include <memspace/iommu.h>
#include <memspace/listener.h>
#include <memspace/mtree.h>
#include <memspace/transaction.h>

#include "ms_rng.h"
#include "ms_unit.h"
#include "ms_recorder.h"

#define KiB 1024ull
#define MiB (1024ull * KiB)
#define GiB (1024ull * MiB)
#define TiB (1024ull * GiB)

static const ms_attrs any = {.unspecified = 1};

/* ---- a machine: context, a 2^64 root, an address space ------------------- */

typedef struct mach {
	ms_ctx *ctx;
	ms_region *root;
	ms_as *as;
	char dir[64];   /* the test's temporary directory */
	char path[128]; /* scratch path in it */
} mach;

static void mach_init(mach *m)
{
	const char *tmp = getenv("TMPDIR");

	m->ctx = new_ctx();
	m->root = new_container(m->ctx, "root", UINT64_MAX);
	m->as = new_as(m->ctx, m->root, "as");
	snprintf(m->dir, sizeof(m->dir), "%s/ms-backend-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(m->dir));
}

static const char *mach_path(mach *m, const char *name)
{
	snprintf(m->path, sizeof(m->path), "%s/%s", m->dir, name);
	return m->path;
}

/* Files left in the directory (the test removes what it made on purpose). */
static int dir_entries(const mach *m)
{
	DIR *d = opendir(m->dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

static void mach_fini(mach *m)
{
	DIR *d = opendir(m->dir);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlink(mach_path(m, e->d_name));
	}
	if (d)
		closedir(d);
	assert_int_equal(rmdir(m->dir), 0);
	ms_as_free(m->as);
	ms_region_unref(m->root);
	assert_int_equal(live_regions(m->ctx), 0);
	ms_ctx_free(m->ctx);
}

static ms_region *make(mach *m, ms_ram_opts o)
{
	ms_region *r = NULL;

	assert_int_equal(ms_region_new_ram_with(&r, m->ctx, &o), 0);
	assert_non_null(r);
	return r;
}

/* Place @r at @addr (the root takes a reference; the caller keeps its own). */
static void place(mach *m, ms_region *r, uint64_t addr)
{
	assert_int_equal(ms_region_add_subregion(m->root, addr, r), 0);
}

static void unplace(mach *m, ms_region *r)
{
	assert_int_equal(ms_region_del_subregion(m->root, r), 0);
}

static ms_ram_info info_of(const ms_region *r)
{
	ms_ram_info info;

	memset(&info, 0x5a, sizeof(info));
	assert_int_equal(ms_region_ram_info(r, &info), 0);
	return info;
}

static uint64_t host_page(void)
{
	return (uint64_t)sysconf(_SC_PAGESIZE);
}

/* Write @n bytes of @c at @addr and read them back. */
static void roundtrip(mach *m, uint64_t addr, uint8_t c, size_t n)
{
	uint8_t buf[256], back[256];

	assert_true(n <= sizeof(buf));
	memset(buf, c, n);
	memset(back, 0, n);
	assert_int_equal(ms_as_write(m->as, addr, any, buf, n), MS_RESULT_OK);
	assert_int_equal(ms_as_read(m->as, addr, any, back, n), MS_RESULT_OK);
	assert_memory_equal(buf, back, n);
}

static uint8_t read_byte(mach *m, uint64_t addr)
{
	uint8_t b = 0xee;

	assert_int_equal(ms_as_read(m->as, addr, any, &b, 1), MS_RESULT_OK);
	return b;
}

static void write_file(const char *path, uint8_t c, size_t len)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	uint8_t buf[4096];

	assert_true(fd >= 0);
	memset(buf, c, sizeof(buf));
	for (size_t off = 0; off < len; off += sizeof(buf)) {
		size_t n = len - off < sizeof(buf) ? len - off : sizeof(buf);

		assert_int_equal(pwrite(fd, buf, n, (off_t)off), (ssize_t)n);
	}
	close(fd);
}

static off_t file_size(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -1;
	return st.st_size;
}

/*
 * The guest and the file behind @fd at @fd_off see each other's bytes:
 * a guest write at @addr shows in pread() and in a second mapping, a
 * pwrite() shows in a guest read.
 */
static void check_shared_with_file(mach *m, int fd, uint64_t fd_off, uint64_t addr)
{
	uint8_t b = 0;
	uint8_t *second;

	roundtrip(m, addr + 10, 0xa5, 4);
	assert_int_equal(pread(fd, &b, 1, (off_t)(fd_off + 10)), 1);
	assert_int_equal(b, 0xa5);
	second = mmap(NULL, (size_t)host_page(), PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		      (off_t)fd_off);
	assert_true(second != MAP_FAILED);
	assert_int_equal(second[13], 0xa5);
	second[20] = 0x3c; /* the other mapper writes */
	assert_int_equal(read_byte(m, addr + 20), 0x3c);
	munmap(second, (size_t)host_page());
	b = 0x77;
	assert_int_equal(pwrite(fd, &b, 1, (off_t)(fd_off + 30)), 1);
	assert_int_equal(read_byte(m, addr + 30), 0x77);
}

/* ---- each backend --------------------------------------------------------- */

static void test_anon(void **state)
{
	mach m;
	ms_region *r;
	ms_ram_info info;

	(void)state;
	mach_init(&m);
	r = make(&m, (ms_ram_opts){.name = "ram", .size = 64 * KiB, .backend = MS_RAM_ANON});
	info = info_of(r);
	assert_int_equal(info.backend, MS_RAM_ANON);
	assert_int_equal(info.fd, -1);
	assert_int_equal(info.fd_offset, 0);
	assert_int_equal(info.page_size, host_page());
	assert_false(info.shared);
	assert_false(info.readonly);
	assert_true(info.migratable);
	assert_false(info.resizeable);
	assert_int_equal(info.size, 64 * KiB);
	assert_int_equal(info.max_size, 64 * KiB);
	assert_ptr_equal(info.host, ms_region_ram_ptr(r));
	assert_non_null(info.host);
	assert_int_equal(info.align, 0);
	assert_int_equal(ms_region_get_kind(r), MS_REGION_RAM);
	place(&m, r, 0x100000);
	assert_int_equal(read_byte(&m, 0x100000 + 64 * KiB - 1), 0); /* zeroed */
	roundtrip(&m, 0x100000 + 64 * KiB - 8, 0x42, 8);
	assert_int_equal(((uint8_t *)info.host)[64 * KiB - 1], 0x42);
	unplace(&m, r);
	ms_region_unref(r);

	/* A ROM on anonymous memory, not migratable. */
	r = make(&m, (ms_ram_opts){.name = "rom",
				   .size = 4 * KiB,
				   .backend = MS_RAM_ANON,
				   .flags = MS_RAM_ROM | MS_RAM_NOT_MIGRATABLE});
	info = info_of(r);
	assert_int_equal(ms_region_get_kind(r), MS_REGION_ROM);
	assert_true(ms_region_readonly(r));
	assert_false(info.migratable);
	assert_false(info.readonly); /* loaders may fill it */
	place(&m, r, 0);
	assert_int_equal(ms_as_write_rom(m.as, 0, "load", 4), MS_RESULT_OK);
	assert_int_equal(ms_as_write(m.as, 0, any, "XXXX", 4), MS_RESULT_OK); /* ignored */
	assert_memory_equal(ms_region_ram_ptr(r), "load", 4);
	unplace(&m, r);
	ms_region_unref(r);
	mach_fini(&m);
}

static void test_memfd(void **state)
{
	mach m;
	ms_region *r;
	ms_ram_info info;

	(void)state;
	mach_init(&m);
	r = make(&m,
		 (ms_ram_opts){.name = "memfd-ram", .size = 128 * KiB, .backend = MS_RAM_MEMFD});
	info = info_of(r);
	assert_int_equal(info.backend, MS_RAM_MEMFD);
	assert_true(info.fd >= 0);
	assert_true(fcntl(info.fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(info.fd_offset, 0);
	assert_int_equal(info.page_size, host_page());
	assert_true(info.shared);
	assert_false(info.readonly);
	assert_true(info.migratable);
	assert_int_equal(info.size, 128 * KiB);
	assert_int_equal(info.max_size, 128 * KiB);
	assert_int_equal(lseek(info.fd, 0, SEEK_END), (off_t)(128 * KiB));
	place(&m, r, 0x4000);
	check_shared_with_file(&m, info.fd, 0, 0x4000);
	unplace(&m, r);
	ms_region_unref(r);

	/* A name memfd_create() would refuse (over 249 bytes) is fine. */
	{
		char longname[400];

		memset(longname, 'n', sizeof(longname) - 1);
		longname[sizeof(longname) - 1] = '\0';
		r = make(&m,
			 (ms_ram_opts){.name = longname, .size = 4 * KiB, .backend = MS_RAM_MEMFD});
		assert_string_equal(ms_region_name(r), longname);
		ms_region_unref(r);
	}
	mach_fini(&m);
}

static void test_file_new_shared(void **state)
{
	mach m;
	ms_region *r;
	ms_ram_info info;
	char path[128];
	uint8_t b = 0;
	int fd;

	(void)state;
	mach_init(&m);
	snprintf(path, sizeof(path), "%s", mach_path(&m, "new.ram"));
	r = make(&m, (ms_ram_opts){.name = "file",
				   .size = 64 * KiB,
				   .backend = MS_RAM_FILE,
				   .flags = MS_RAM_SHARED,
				   .path = path,
				   .offset = 8 * KiB});
	info = info_of(r);
	assert_int_equal(info.backend, MS_RAM_FILE);
	assert_true(info.fd >= 0);
	assert_int_equal(info.fd_offset, 8 * KiB);
	assert_int_equal(info.page_size, host_page());
	assert_true(info.shared);
	assert_false(info.readonly);
	assert_int_equal(file_size(path), (off_t)(8 * KiB + 64 * KiB)); /* created and grown */
	place(&m, r, 0);
	check_shared_with_file(&m, info.fd, 8 * KiB, 0);
	/* Through the path too, as another process would open it. */
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &b, 1, (off_t)(8 * KiB + 10)), 1);
	assert_int_equal(b, 0xa5);
	close(fd);
	unplace(&m, r);
	ms_region_unref(r);
	/* The file outlives the region, with the bytes. */
	assert_int_equal(file_size(path), (off_t)(72 * KiB));
	fd = open(path, O_RDONLY);
	assert_int_equal(pread(fd, &b, 1, (off_t)(8 * KiB + 20)), 1);
	assert_int_equal(b, 0x3c);
	close(fd);

	/* Again on the same, existing, file: the bytes are there. */
	r = make(&m, (ms_ram_opts){.name = "file2",
				   .size = 64 * KiB,
				   .backend = MS_RAM_FILE,
				   .flags = MS_RAM_SHARED,
				   .path = path,
				   .offset = 8 * KiB});
	place(&m, r, 0);
	assert_int_equal(read_byte(&m, 30), 0x77);
	unplace(&m, r);
	ms_region_unref(r);
	mach_fini(&m);
}

static void test_file_existing_private(void **state)
{
	mach m;
	ms_region *r;
	ms_ram_info info;
	char path[128];
	uint8_t b = 0;

	(void)state;
	mach_init(&m);
	snprintf(path, sizeof(path), "%s", mach_path(&m, "image"));
	write_file(path, 'I', 16 * KiB);
	/* Private: the file is read, writes stay in this process. */
	r = make(&m,
		 (ms_ram_opts){
			 .name = "priv", .size = 32 * KiB, .backend = MS_RAM_FILE, .path = path});
	info = info_of(r);
	assert_true(info.fd >= 0);
	assert_false(info.shared);
	assert_false(info.readonly);
	/* A writable private mapping grows a shorter file to its size. */
	assert_int_equal(file_size(path), (off_t)(32 * KiB));
	place(&m, r, 0x10000);
	assert_int_equal(read_byte(&m, 0x10000), 'I');
	assert_int_equal(read_byte(&m, 0x10000 + 16 * KiB - 1), 'I');
	assert_int_equal(read_byte(&m, 0x10000 + 16 * KiB), 0);
	roundtrip(&m, 0x10000, 'w', 16);
	assert_int_equal(pread(info.fd, &b, 1, 0), 1);
	assert_int_equal(b, 'I'); /* not in the file */
	unplace(&m, r);
	ms_region_unref(r);
	mach_fini(&m);
}

static void test_file_readonly(void **state)
{
	mach m;
	ms_region *r = (ms_region *)1;
	ms_ram_info info;
	char path[128];

	(void)state;
	mach_init(&m);
	snprintf(path, sizeof(path), "%s", mach_path(&m, "firmware"));
	write_file(path, 'F', 8 * KiB);
	assert_int_equal(chmod(path, 0400), 0);
	r = make(&m, (ms_ram_opts){.name = "fw",
				   .size = 8 * KiB,
				   .backend = MS_RAM_FILE,
				   .flags = MS_RAM_READONLY | MS_RAM_SHARED,
				   .path = path});
	info = info_of(r);
	assert_true(info.readonly);
	assert_true(info.shared);
	assert_true(info.fd >= 0);
	assert_int_equal(fcntl(info.fd, F_GETFL) & O_ACCMODE, O_RDONLY);
	assert_true(ms_region_readonly(r));
	place(&m, r, 0);
	assert_int_equal(read_byte(&m, 8 * KiB - 1), 'F');
	unplace(&m, r);
	ms_region_unref(r);

	/* A read-only file must exist (and is too short: it cannot grow). */
	r = (ms_region *)1;
	assert_int_equal(ms_region_new_ram_with(&r, m.ctx,
						&(ms_ram_opts){.name = "x",
							       .size = 8 * KiB,
							       .backend = MS_RAM_FILE,
							       .flags = MS_RAM_READONLY,
							       .path = mach_path(&m, "missing")}),
			 -ENOENT);
	assert_null(r);
	assert_int_equal(file_size(mach_path(&m, "missing")), -1);
	assert_int_equal(ms_region_new_ram_with(&r, m.ctx,
						&(ms_ram_opts){.name = "x",
							       .size = 16 * KiB,
							       .backend = MS_RAM_FILE,
							       .flags = MS_RAM_READONLY,
							       .path = path}),
			 -EINVAL);
	assert_int_equal(file_size(path), (off_t)(8 * KiB));
	assert_int_equal(live_regions(m.ctx), 1); /* the root */
	mach_fini(&m);
}

static void test_fd(void **state)
{
	mach m;
	ms_region *r;
	ms_ram_info info;
	int fd;

	(void)state;
	mach_init(&m);
	fd = open(mach_path(&m, "byfd"), O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	r = make(&m, (ms_ram_opts){.name = "fdram",
				   .size = 16 * KiB,
				   .backend = MS_RAM_FD,
				   .flags = MS_RAM_SHARED,
				   .fd = fd,
				   .offset = 4 * KiB});
	info = info_of(r);
	assert_int_equal(info.backend, MS_RAM_FD);
	assert_true(info.fd >= 0);
	assert_int_not_equal(info.fd, fd); /* dup()ed */
	assert_int_equal(info.fd_offset, 4 * KiB);
	assert_true(info.shared);
	assert_int_equal(lseek(fd, 0, SEEK_END), (off_t)(20 * KiB));
	place(&m, r, 0x8000);
	check_shared_with_file(&m, fd, 4 * KiB, 0x8000);
	close(fd); /* the caller's copy; the region keeps its own */
	roundtrip(&m, 0x8000 + 16 * KiB - 4, 0x11, 4);
	unplace(&m, r);
	ms_region_unref(r);

	/* A closed fd. */
	r = (ms_region *)1;
	assert_int_equal(ms_region_new_ram_with(&r, m.ctx,
						&(ms_ram_opts){.name = "x",
							       .size = 4 * KiB,
							       .backend = MS_RAM_FD,
							       .fd = fd}),
			 -EBADF);
	assert_null(r);
	mach_fini(&m);
}

static void test_ptr(void **state)
{
	static uint8_t mem[8192];
	mach m;
	ms_region *r;
	ms_ram_info info;

	(void)state;
	mach_init(&m);
	r = make(&m, (ms_ram_opts){.name = "ptr",
				   .size = sizeof(mem),
				   .backend = MS_RAM_PTR,
				   .ptr = mem,
				   .flags = MS_RAM_NOT_MIGRATABLE});
	info = info_of(r);
	assert_int_equal(info.backend, MS_RAM_PTR);
	assert_int_equal(info.fd, -1);
	assert_ptr_equal(info.host, mem);
	assert_false(info.shared);
	assert_false(info.migratable);
	assert_false(info.resizeable);
	assert_int_equal(ms_region_get_kind(r), MS_REGION_RAM_PTR);
	place(&m, r, 0);
	roundtrip(&m, 100, 0x99, 8);
	assert_int_equal(mem[100], 0x99);
	unplace(&m, r);
	ms_region_unref(r);
	mach_fini(&m);
}

/* ---- alignment and preallocation ------------------------------------------ */

static void test_align(void **state)
{
	mach m;
	ms_region *r;
	ms_ram_info info;
	const ms_ram_backend backends[] = {MS_RAM_ANON, MS_RAM_MEMFD, MS_RAM_FILE};

	(void)state;
	mach_init(&m);
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		ms_ram_opts o = {.name = "aligned",
				 .size = 4 * MiB,
				 .backend = backends[i],
				 .align = 2 * MiB};

		if (backends[i] == MS_RAM_FILE) {
			o.path = mach_path(&m, "aligned");
			o.flags = MS_RAM_SHARED;
		}
		r = make(&m, o);
		info = info_of(r);
		assert_int_equal(info.align, 2 * MiB);
		assert_int_equal((uintptr_t)info.host % (2 * MiB), 0);
		place(&m, r, 0);
		roundtrip(&m, 4 * MiB - 16, 0x5e, 16);
		unplace(&m, r);
		ms_region_unref(r);
	}
	mach_fini(&m);
}

static void test_prealloc(void **state)
{
	mach m;
	ms_region *r;
	struct stat st;
	char path[128];
	pid_t pid;
	int status;

	(void)state;
	mach_init(&m);
	r = make(&m, (ms_ram_opts){.name = "pre",
				   .size = 1 * MiB,
				   .backend = MS_RAM_ANON,
				   .flags = MS_RAM_PREALLOC});
	ms_region_unref(r);
	r = make(&m, (ms_ram_opts){.name = "pre",
				   .size = 1 * MiB,
				   .backend = MS_RAM_MEMFD,
				   .flags = MS_RAM_PREALLOC});
	assert_int_equal(fstat(info_of(r).fd, &st), 0);
	assert_true((uint64_t)st.st_blocks * 512 >= 1 * MiB); /* committed */
	ms_region_unref(r);
	snprintf(path, sizeof(path), "%s", mach_path(&m, "pre"));
	r = make(&m, (ms_ram_opts){.name = "pre",
				   .size = 1 * MiB,
				   .backend = MS_RAM_FILE,
				   .flags = MS_RAM_PREALLOC | MS_RAM_SHARED,
				   .path = path});
	assert_int_equal(stat(path, &st), 0);
	assert_true((uint64_t)st.st_blocks * 512 >= 1 * MiB);
	ms_region_unref(r);
	unlink(path);

	/*
	 * A file that cannot be as large as asked (RLIMIT_FSIZE, SIGXFSZ
	 * ignored so the call fails with EFBIG instead of killing): -EFBIG,
	 * no region, no new file, an existing file keeps its length. In a
	 * child so the limit does not outlive the check.
	 */
	write_file(mach_path(&m, "short"), 's', 4 * KiB);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit lim = {.rlim_cur = 64 * KiB, .rlim_max = 64 * KiB};
		ms_region *c = (ms_region *)1;
		int rc;

		signal(SIGXFSZ, SIG_IGN);
		if (setrlimit(RLIMIT_FSIZE, &lim) < 0)
			_exit(10);
		rc = ms_region_new_ram_with(&c, m.ctx,
					    &(ms_ram_opts){.name = "big",
							   .size = 1 * MiB,
							   .backend = MS_RAM_FILE,
							   .flags = MS_RAM_PREALLOC | MS_RAM_SHARED,
							   .path = mach_path(&m, "big")});
		if (rc != -EFBIG || c)
			_exit(11);
		if (file_size(mach_path(&m, "big")) != -1)
			_exit(12);
		rc = ms_region_new_ram_with(&c, m.ctx,
					    &(ms_ram_opts){.name = "big",
							   .size = 1 * MiB,
							   .backend = MS_RAM_FILE,
							   .flags = MS_RAM_PREALLOC | MS_RAM_SHARED,
							   .path = mach_path(&m, "short")});
		if (rc != -EFBIG || c)
			_exit(13);
		if (file_size(mach_path(&m, "short")) != (off_t)(4 * KiB))
			_exit(14);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(dir_entries(&m), 1); /* "short" only */
	assert_int_equal(live_regions(m.ctx), 1);
	mach_fini(&m);
}

/* ---- bad options and failures leave nothing -------------------------------- */

static void test_bad_options(void **state)
{
	static uint8_t mem[4096];
	mach m;
	ms_region *r;
	char path[128];

	(void)state;
	mach_init(&m);
	snprintf(path, sizeof(path), "%s", mach_path(&m, "never"));
	const ms_ram_opts bad[] = {
		{.name = NULL, .size = 4096},
		{.name = "r", .size = 0},
		{.name = "r", .size = 0, .backend = MS_RAM_NONE},
		{.name = "r", .size = 4096, .flags = 1u << 7},
		{.name = "r", .size = 8192, .max_size = 4096},
		{.name = "r", .size = 4096, .align = 3 * 4096},
		{.name = "r", .size = 4096, .backend = (ms_ram_backend)99},
		{.name = "r", .size = 4096, .backend = MS_RAM_ANON, .flags = MS_RAM_SHARED},
		{.name = "r", .size = 4096, .backend = MS_RAM_ANON, .path = path},
		{.name = "r", .size = 4096, .backend = MS_RAM_ANON, .offset = 4096},
		{.name = "r", .size = 4096, .backend = MS_RAM_ANON, .ptr = mem},
		{.name = "r", .size = 4096, .backend = MS_RAM_MEMFD, .flags = MS_RAM_READONLY},
		{.name = "r", .size = 4096, .backend = MS_RAM_MEMFD, .path = path},
		{.name = "r", .size = 4096, .backend = MS_RAM_FILE},
		{.name = "r", .size = 4096, .backend = MS_RAM_FILE, .path = ""},
		{.name = "r", .size = 4096, .backend = MS_RAM_FILE, .path = path, .offset = 100},
		{.name = "r", .size = 4096, .backend = MS_RAM_FILE, .path = path, .align = 5},
		{.name = "r", .size = 4096, .backend = MS_RAM_FILE, .path = path, .ptr = mem},
		{.name = "r", .size = 4096, .backend = MS_RAM_FD, .fd = -1},
		{.name = "r", .size = 4096, .backend = MS_RAM_PTR},
		{.name = "r", .size = 4096, .backend = MS_RAM_PTR, .ptr = mem, .max_size = 8192},
		{.name = "r", .size = 4096, .backend = MS_RAM_PTR, .ptr = mem, .align = 4096},
		{.name = "r",
		 .size = 4096,
		 .backend = MS_RAM_PTR,
		 .ptr = mem,
		 .flags = MS_RAM_SHARED},
		{.name = "r",
		 .size = 4096,
		 .backend = MS_RAM_PTR,
		 .ptr = mem,
		 .flags = MS_RAM_READONLY},
		{.name = "r",
		 .size = 4096,
		 .backend = MS_RAM_PTR,
		 .ptr = mem,
		 .flags = MS_RAM_PREALLOC},
		{.name = "r", .size = 4096, .backend = MS_RAM_NONE, .align = 4096},
		{.name = "r", .size = 4096, .backend = MS_RAM_NONE, .flags = MS_RAM_PREALLOC},
		{.name = "r", .size = 4096, .backend = MS_RAM_NONE, .flags = MS_RAM_SHARED},
		{.name = "r", .size = 4096, .backend = MS_RAM_NONE, .flags = MS_RAM_READONLY},
		{.name = "r", .size = 4096, .backend = MS_RAM_NONE, .flags = MS_RAM_NOT_MIGRATABLE},
		{.name = "r", .size = 4096, .backend = MS_RAM_NONE, .path = path},
		{.name = "r", .size = 4096, .backend = MS_RAM_NONE, .offset = 4096},
		{.name = "r", .size = 4096, .backend = MS_RAM_NONE, .ptr = mem},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = (ms_region *)1;
		assert_int_equal(ms_region_new_ram_with(&r, m.ctx, &bad[i]), -EINVAL);
		assert_null(r);
		assert_int_equal(live_regions(m.ctx), 1); /* the root only */
		assert_int_equal(file_size(path), -1);
	}
	r = (ms_region *)1;
	assert_int_equal(ms_region_new_ram_with(NULL, m.ctx, &bad[1]), -EINVAL);
	assert_int_equal(ms_region_new_ram_with(&r, NULL, &bad[1]), -EINVAL);
	assert_null(r);
	r = (ms_region *)1;
	assert_int_equal(ms_region_new_ram_with(&r, m.ctx, NULL), -EINVAL);
	assert_null(r);
	/* More than this host can reserve. */
	assert_int_equal(ms_region_new_ram_with(&r, m.ctx,
						&(ms_ram_opts){.name = "huge", .size = 1ull << 62}),
			 -ENOMEM);
	assert_int_equal(live_regions(m.ctx), 1);
	assert_int_equal(ms_region_ram_info(NULL, &(ms_ram_info){0}), -EINVAL);
	assert_int_equal(ms_region_ram_info(m.root, &(ms_ram_info){0}), -EINVAL); /* container */
	r = make(&m, (ms_ram_opts){.name = "ok", .size = 4096});
	assert_int_equal(ms_region_ram_info(r, NULL), -EINVAL);
	ms_region_unref(r);
	assert_int_equal(dir_entries(&m), 0);
	mach_fini(&m);
}

/* Every allocation of a creation fails in turn: -ENOMEM and nothing left. */
static void test_fault_injection(void **state)
{
	const ms_ram_backend backends[] = {MS_RAM_ANON, MS_RAM_MEMFD, MS_RAM_FILE, MS_RAM_NONE};
	mach m;

	(void)state;
	mach_init(&m);
	/* A client logs, so creation allocates a bitmap too. */
	assert_int_equal(ms_ctx_set_dirty_page_size(m.ctx, 4096), 0);
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		ms_ram_opts o = {.name = "inj",
				 .size = 64 * KiB,
				 .max_size = 128 * KiB,
				 .backend = backends[i]};
		bool done = false;

		if (backends[i] == MS_RAM_FILE) {
			o.path = mach_path(&m, "inj");
			o.flags = MS_RAM_SHARED;
		}
		for (uint64_t n = 1; n < 64 && !done; n++) {
			ms_region *r = (ms_region *)1;
			int rc;

			ms_ctx_test_control(m.ctx, MS_TEST_FAIL_ALLOC_AFTER, n);
			rc = ms_region_new_ram_with(&r, m.ctx, &o);
			ms_ctx_test_control(m.ctx, MS_TEST_FAIL_ALLOC_AFTER, 0);
			if (rc == 0) {
				done = true;
				assert_non_null(r);
				ms_region_unref(r);
				unlink(mach_path(&m, "inj"));
				break;
			}
			assert_int_equal(rc, -ENOMEM);
			assert_null(r);
			assert_int_equal(live_regions(m.ctx), 1);
			assert_int_equal(dir_entries(&m), 0);
		}
		assert_true(done);
	}
	mach_fini(&m);
}

/* ---- read-only memory ----------------------------------------------------- */

static void check_unchanged(const uint8_t *host, uint8_t c, size_t len)
{
	for (size_t i = 0; i < len; i++)
		assert_int_equal(host[i], c);
}

static void test_readonly_writes(void **state)
{
	mach m;
	ms_region *r;
	uint8_t buf[64], *host;
	const ms_attrs debug = {.debug = 1};
	char path[128];
	ms_cache cache;
	uint64_t len;
	void *p;

	(void)state;
	memset(buf, 'W', sizeof(buf));
	mach_init(&m);
	snprintf(path, sizeof(path), "%s", mach_path(&m, "ro"));
	write_file(path, 'R', 8 * KiB);
	r = make(&m, (ms_ram_opts){.name = "ro",
				   .size = 8 * KiB,
				   .backend = MS_RAM_FILE,
				   .flags = MS_RAM_READONLY,
				   .path = path});
	host = ms_region_ram_ptr(r);
	place(&m, r, 0x2000);
	assert_int_equal(ms_as_write(m.as, 0x2000, any, buf, 64), MS_RESULT_OK);
	assert_int_equal(ms_as_write(m.as, 0x2000, debug, buf, 64), MS_RESULT_OK);
	assert_int_equal(ms_as_write_rom(m.as, 0x2000, buf, 64), MS_RESULT_OK);
	assert_int_equal(ms_as_set(m.as, 0x2000, debug, 'W', 64), MS_RESULT_OK);
	assert_int_equal(ms_as_stq_le(m.as, 0x2008, debug, 0x5757575757575757ull), MS_RESULT_OK);
	assert_int_equal(ms_region_dispatch_write(r, 0, 0x57, 1, debug), MS_RESULT_OK);
	assert_int_equal(ms_region_dispatch_write(r, 0, 0x57, 1, any), MS_RESULT_OK);
	assert_int_equal(ms_as_dma_write(m.as, 0x2000, buf, 64, any), MS_RESULT_OK);
	len = 64;
	p = ms_as_map(m.as, 0x2000, &len, true, any);
	assert_non_null(p);
	assert_true(p < (void *)host || p >= (void *)(host + 8 * KiB)); /* a bounce buffer */
	memset(p, 'W', (size_t)len);
	assert_int_equal(ms_as_unmap(m.as, p, len, true, len), 0);
	assert_int_equal(ms_cache_init(&cache, m.as, 0x2000, 64, true), 0);
	assert_false(ms_cache_is_direct(&cache, true));
	assert_int_equal(ms_cache_write(&cache, 0, buf, 64), MS_RESULT_OK);
	ms_cache_destroy(&cache);
	/* The readonly flag cannot be dropped from read-only memory. */
	assert_int_equal(ms_region_set_readonly(r, false), -EINVAL);
	assert_true(ms_region_readonly(r));
	assert_int_equal(ms_region_set_readonly(r, true), 0);
	check_unchanged(host, 'R', 8 * KiB);
	assert_int_equal(read_byte(&m, 0x2000), 'R');
	unplace(&m, r);
	ms_region_unref(r);
	mach_fini(&m);
}

/* ---- resizeable RAM ------------------------------------------------------- */

typedef struct resize_log {
	int calls;
	uint64_t old_size, new_size;
	uint64_t size_seen; /* the region's size when the callback ran */
	unsigned depth_seen;
	ms_result beyond; /* a read at the new end, from the callback */
	ms_as *as;
} resize_log;

static void on_resized(ms_region *r, uint64_t old_size, uint64_t new_size, void *opaque)
{
	resize_log *lg = opaque;
	uint8_t b;

	lg->calls++;
	lg->old_size = old_size;
	lg->new_size = new_size;
	lg->size_seen = ms_region_size(r);
	lg->depth_seen = ms_transaction_depth(ms_region_ctx(r));
	/* After the commit: the view already has the new size. */
	lg->beyond = ms_as_read(lg->as, new_size, any, &b, 1);
}

static int resize_rc;

static void resize_from_listener(recorder *rec, const ms_section *s)
{
	(void)s;
	resize_rc = ms_region_ram_resize(rec->data, 4096);
}

static void resize_one(ms_ram_backend backend)
{
	mach m;
	ms_region *r;
	resize_log lg = {0};
	recorder rec;
	strbuf log;
	uint8_t b;

	mach_init(&m);
	lg.as = m.as;
	ms_ram_opts o = {.name = "rs",
			 .size = 64 * KiB,
			 .max_size = 1 * MiB,
			 .backend = backend,
			 .resized = on_resized,
			 .opaque = &lg};
	if (backend == MS_RAM_FILE) {
		o.path = mach_path(&m, "rs");
		o.flags = MS_RAM_SHARED;
	}
	r = make(&m, o);
	assert_true(info_of(r).resizeable);
	assert_int_equal(info_of(r).max_size, 1 * MiB);
	assert_int_equal(info_of(r).size, 64 * KiB);
	place(&m, r, 0);
	sb_reset(&log);
	recorder_init(&rec, NULL, &log, 0);
	rec_listen(&rec, m.as);
	assert_int_equal(ms_region_set_dirty_log(r, MS_DIRTY_VGA, true), 0);
	assert_int_equal(ms_region_set_dirty_log(r, MS_DIRTY_CODE, true), 0);
	assert_int_equal(ms_region_clear_dirty(r, 0, 64 * KiB), 0);
	assert_int_equal(ms_as_read(m.as, 64 * KiB, any, &b, 1), MS_RESULT_DECODE_ERROR);
	sb_reset(&log);

	/* Grow. */
	assert_int_equal(ms_region_ram_resize(r, 256 * KiB), 0);
	assert_int_equal(lg.calls, 1);
	assert_int_equal(lg.old_size, 64 * KiB);
	assert_int_equal(lg.new_size, 256 * KiB);
	assert_int_equal(lg.size_seen, 256 * KiB);
	assert_int_equal(lg.depth_seen, 0);
	assert_int_equal(lg.beyond, MS_RESULT_DECODE_ERROR);
	assert_int_equal(info_of(r).size, 256 * KiB);
	assert_string_equal(log.text, "begin\n"
				      "del 0000-ffff rs @0 log=3\n"
				      "add 0000-3ffff rs @0 log=3\n"
				      "log_start 0000-3ffff rs @0 log=3 0->3\n"
				      "commit\n");
	for (unsigned c = 0; c < MS_DIRTY_CLIENTS; c++) {
		if (c != MS_DIRTY_VGA && c != MS_DIRTY_CODE)
			continue;
		for (uint64_t off = 0; off < 256 * KiB; off += 4096)
			assert_true(ms_region_get_dirty(r, off, 1, c));
	}
	assert_int_equal(ms_as_read(m.as, 256 * KiB - 1, any, &b, 1), MS_RESULT_OK);
	assert_int_equal(ms_as_read(m.as, 256 * KiB, any, &b, 1), MS_RESULT_DECODE_ERROR);
	assert_int_equal(ms_as_set(m.as, 0, any, 0xcd, 256 * KiB), MS_RESULT_OK);

	/* Shrink (not to a page boundary): the tail is discarded. */
	sb_reset(&log);
	assert_int_equal(ms_region_ram_resize(r, 16 * KiB + 100), 0);
	assert_int_equal(lg.calls, 2);
	assert_int_equal(lg.old_size, 256 * KiB);
	assert_int_equal(lg.new_size, 16 * KiB + 100);
	assert_string_equal(log.text, "begin\n"
				      "del 0000-3ffff rs @0 log=3\n"
				      "add 0000-4063 rs @0 log=3\n"
				      "log_start 0000-4063 rs @0 log=3 0->3\n"
				      "commit\n");
	assert_int_equal(ms_as_read(m.as, 16 * KiB + 100, any, &b, 1), MS_RESULT_DECODE_ERROR);
	assert_int_equal(read_byte(&m, 16 * KiB + 99), 0xcd);
	/* The same size: nothing happens. */
	assert_int_equal(ms_region_ram_resize(r, 16 * KiB + 100), 0);
	assert_int_equal(lg.calls, 2);
	/* Grow back: the old tail reads zeros. */
	assert_int_equal(ms_region_ram_resize(r, 1 * MiB), 0);
	assert_int_equal(lg.calls, 3);
	assert_int_equal(read_byte(&m, 16 * KiB + 99), 0xcd);
	for (uint64_t off = 16 * KiB + 100; off < 256 * KiB; off += 997)
		assert_int_equal(read_byte(&m, off), 0);
	assert_int_equal(read_byte(&m, 256 * KiB - 1), 0);
	assert_int_equal(read_byte(&m, 1 * MiB - 1), 0);
	if (backend != MS_RAM_ANON) {
		uint8_t fb = 0xff;

		assert_int_equal(pread(info_of(r).fd, &fb, 1, (off_t)(100 * KiB)), 1);
		assert_int_equal(fb, 0); /* discarded in the file too */
	}

	/* Errors change nothing. */
	assert_int_equal(ms_region_ram_resize(r, 0), -EINVAL);
	assert_int_equal(ms_region_ram_resize(r, 1 * MiB + 1), -EINVAL);
	assert_int_equal(ms_region_ram_resize(NULL, 4096), -EINVAL);
	assert_int_equal(ms_transaction_begin(m.ctx), 0);
	assert_int_equal(ms_region_ram_resize(r, 4096), -EBUSY);
	assert_int_equal(ms_transaction_commit(m.ctx), 0);
	assert_int_equal(ms_region_size(r), 1 * MiB);
	assert_int_equal(lg.calls, 3);
	/* From a listener callback. */
	rec.on_add = resize_from_listener;
	rec.data = r;
	resize_rc = 0;
	assert_int_equal(ms_region_set_address(r, 0x100000), 0);
	assert_int_equal(resize_rc, -EBUSY);
	rec.on_add = NULL;
	assert_int_equal(ms_region_size(r), 1 * MiB);
	assert_int_equal(lg.calls, 3);
	/* Every allocation of the implicit commit fails in turn: nothing changes. */
	for (uint64_t n = 1;; n++) {
		int rc;

		assert_true(n < 200);
		ms_ctx_test_control(m.ctx, MS_TEST_FAIL_ALLOC_AFTER, n);
		rc = ms_region_ram_resize(r, 512 * KiB);
		ms_ctx_test_control(m.ctx, MS_TEST_FAIL_ALLOC_AFTER, 0);
		if (rc == 0) {
			assert_true(n > 1);
			break;
		}
		assert_int_equal(rc, -ENOMEM);
		assert_int_equal(ms_region_size(r), 1 * MiB);
		assert_int_equal(lg.calls, 3);
		assert_int_equal(read_byte(&m, 0x100000 + 1 * MiB - 1), 0);
	}
	assert_int_equal(lg.calls, 4);
	assert_int_equal(ms_region_size(r), 512 * KiB);
	rec_unlisten(&rec);
	unplace(&m, r);
	ms_region_unref(r);

	/* Not resizeable. */
	r = make(&m, (ms_ram_opts){.name = "fixed", .size = 64 * KiB});
	assert_false(info_of(r).resizeable);
	assert_int_equal(ms_region_ram_resize(r, 32 * KiB), -EINVAL);
	assert_int_equal(ms_region_size(r), 64 * KiB);
	ms_region_unref(r);
	assert_int_equal(ms_region_ram_resize(m.root, 4096), -EINVAL);
	mach_fini(&m);
}

static void test_resize_anon(void **state)
{
	(void)state;
	resize_one(MS_RAM_ANON);
}

static void test_resize_memfd(void **state)
{
	(void)state;
	resize_one(MS_RAM_MEMFD);
}

static void test_resize_file(void **state)
{
	(void)state;
	resize_one(MS_RAM_FILE);
}

/* ---- layout only ---------------------------------------------------------- */

static char *dump(ms_ctx *ctx, unsigned flags)
{
	char *text = NULL;
	size_t len = 0;

	assert_int_equal(ms_mtree_dump(&text, &len, ctx, flags), 0);
	return text;
}

/*
 * Small anonymous blocks come from shared slabs: every block is zeroed when
 * handed out (also one that held another region's data), live blocks never
 * overlap, and blocks of every size class and beyond work alike. A model
 * (one pattern byte per live region) checks the memory after each round of
 * frees and creations.
 */
static void test_small_blocks_share_slabs(void **state)
{
	enum {
		N = 1500
	};
	static const uint64_t sizes[] = {0x100, 0x1000, 0x1800, 0x4000, 0x10000, 0x11000};
	ms_ctx *ctx = new_ctx();
	ms_region *r[N] = {0};
	uint8_t pattern[N];
	ms_rng rng;
	int round;
	size_t i;

	(void)state;
	ms_rng_seed(&rng, 12345);
	for (round = 0; round < 4; round++) {
		for (i = 0; i < N; i++) {
			uint64_t size = sizes[(i + (size_t)round) % 6];
			uint8_t *host;
			size_t b;

			if (r[i] && ms_rng_below(&rng, 2))
				continue; /* kept from the round before */
			if (r[i])
				ms_region_unref(r[i]);
			r[i] = new_ram(ctx, "small", size);
			host = ms_region_ram_ptr(r[i]);
			assert_non_null(host);
			assert_int_equal((uintptr_t)host % 4096, 0);
			for (b = 0; b < size; b++)
				if (host[b])
					fail_msg("block %zu of %#lx bytes not zeroed at %zu", i,
						 (unsigned long)size, b);
			pattern[i] = (uint8_t)(1 + (i + (size_t)round * 7) % 255);
			memset(host, pattern[i], (size_t)size);
		}
		for (i = 0; i < N; i++) {
			const uint8_t *host = ms_region_ram_ptr(r[i]);
			uint64_t size = ms_region_size(r[i]);

			assert_int_equal(host[0], pattern[i]);
			assert_int_equal(host[size - 1], pattern[i]);
		}
	}
	{
		ms_ram_info info;

		assert_int_equal(ms_region_ram_info(r[0], &info), 0);
		assert_int_equal(info.backend, MS_RAM_ANON);
		assert_int_equal(info.fd, -1);
		assert_false(info.shared);
	}
	for (i = 0; i < N; i++)
		ms_region_unref(r[i]);
	ms_ctx_free(ctx);
}

static void test_layout_only(void **state)
{
	const uint64_t sizes[] = {1 * TiB, 1ull << 60};
	mach m;

	(void)state;
	mach_init(&m);
	for (size_t i = 0; i < 2; i++) {
		ms_region *r;
		ms_ram_info info;
		uint8_t buf[16];
		uint64_t len = 16;
		ms_cache cache;
		void *p;
		bool ro = true;
		ms_region *got = (ms_region *)1;
		ms_iotlb_entry e = {.target_as = m.as,
				    .translated_addr = 4 * GiB,
				    .addr_mask = 4095,
				    .perm = MS_IOMMU_RW};

		r = make(&m,
			 (ms_ram_opts){.name = "big", .size = sizes[i], .backend = MS_RAM_NONE});
		info = info_of(r);
		assert_int_equal(info.backend, MS_RAM_NONE);
		assert_int_equal(info.fd, -1);
		assert_null(info.host);
		assert_int_equal(info.size, sizes[i]);
		assert_int_equal(info.max_size, sizes[i]);
		assert_false(info.shared);
		assert_null(ms_region_ram_ptr(r));
		assert_int_equal(ms_region_get_kind(r), MS_REGION_RAM);
		place(&m, r, 4 * GiB);

		memset(buf, 0xaa, sizeof(buf));
		assert_int_equal(ms_as_read(m.as, 4 * GiB + sizes[i] - 16, any, buf, 16),
				 MS_RESULT_ACCESS_ERROR);
		for (size_t k = 0; k < sizeof(buf); k++)
			assert_int_equal(buf[k], 0);
		assert_int_equal(ms_as_write(m.as, 4 * GiB, any, buf, 16), MS_RESULT_ACCESS_ERROR);
		assert_int_equal(ms_region_dispatch_write(r, 0, 1, 1, any), MS_RESULT_ACCESS_ERROR);
		assert_null(ms_as_map(m.as, 4 * GiB, &len, false, any));
		assert_int_equal(ms_cache_init(&cache, m.as, 4 * GiB, 64, true), 0);
		assert_false(ms_cache_is_direct(&cache, false));
		assert_false(ms_cache_is_direct(&cache, true));
		assert_int_equal(ms_cache_read(&cache, 0, buf, 8), MS_RESULT_ACCESS_ERROR);
		assert_int_equal(ms_cache_write(&cache, 0, buf, 8), MS_RESULT_ACCESS_ERROR);
		ms_cache_destroy(&cache);
		p = (void *)1;
		assert_int_equal(ms_iotlb_ram_ptr(&p, &got, &ro, &e), -EFAULT);
		assert_null(p);
		assert_null(got);
		unplace(&m, r);
		ms_region_unref(r);
	}

	/* Resizeable layout only: sizes change, nothing is allocated. */
	{
		ms_region *r = make(&m, (ms_ram_opts){.name = "lz",
						      .size = 1 * TiB,
						      .max_size = 4 * TiB,
						      .backend = MS_RAM_NONE});

		assert_true(info_of(r).resizeable);
		assert_int_equal(ms_region_ram_resize(r, 2 * TiB), 0);
		assert_int_equal(ms_region_size(r), 2 * TiB);
		ms_region_unref(r);
	}

	/* The views and the tree print as they would with memory. */
	{
		ms_region *a = make(&m, (ms_ram_opts){.name = "pc.ram", .size = 16 * MiB});
		char *with, *without, *fwith, *fwithout;

		place(&m, a, 0x100000);
		with = dump(m.ctx, 0);
		fwith = dump(m.ctx, MS_MTREE_FLAT);
		unplace(&m, a);
		ms_region_unref(a);
		a = make(&m,
			 (ms_ram_opts){.name = "pc.ram", .size = 16 * MiB, .backend = MS_RAM_NONE});
		place(&m, a, 0x100000);
		without = dump(m.ctx, 0);
		fwithout = dump(m.ctx, MS_MTREE_FLAT);
		assert_string_equal(with, without);
		assert_string_equal(fwith, fwithout);
		assert_non_null(strstr(without, "pc.ram"));
		free(with);
		free(without);
		free(fwith);
		free(fwithout);
		unplace(&m, a);
		ms_region_unref(a);
	}
	mach_fini(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_anon),
		cmocka_unit_test(test_memfd),
		cmocka_unit_test(test_file_new_shared),
		cmocka_unit_test(test_file_existing_private),
		cmocka_unit_test(test_file_readonly),
		cmocka_unit_test(test_fd),
		cmocka_unit_test(test_ptr),
		cmocka_unit_test(test_align),
		cmocka_unit_test(test_prealloc),
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_fault_injection),
		cmocka_unit_test(test_readonly_writes),
		cmocka_unit_test(test_resize_anon),
		cmocka_unit_test(test_resize_memfd),
		cmocka_unit_test(test_resize_file),
		cmocka_unit_test(test_layout_only),
		cmocka_unit_test(test_small_blocks_share_slabs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
