/*
 * Replay driver: runs a fuzz target's LLVMFuzzerTestOneInput() on every file
 * named on the command line and every regular file inside the directories
 * named there (not recursive, in name order). It is the target's plain
 * executable, built with any compiler: CTest runs it over the seed corpus and
 * the regressions, and it reproduces a crash file without libFuzzer.
 *
 * A target reports a divergence by aborting, so the first bad input ends the
 * run with its name printed just before. Exit status: 0 when every input ran,
 * 1 on a usage or I/O error, or when no input was found at all (an empty
 * corpus would make the test pass without testing anything).
 *
 * SPDX-License-Identifier: MIT
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int read_file(const char *path, uint8_t **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t n = 0, cap = 0;

	if (!f)
		return -errno;
	for (;;) {
		if (n == cap) {
			size_t ncap = cap ? 2 * cap : 4096;
			uint8_t *p = realloc(buf, ncap);

			if (!p) {
				free(buf);
				fclose(f);
				return -ENOMEM;
			}
			buf = p;
			cap = ncap;
		}
		size_t got = fread(buf + n, 1, cap - n, f);

		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		free(buf);
		fclose(f);
		return -EIO;
	}
	fclose(f);
	*out = buf;
	*len = n;
	return 0;
}

static int run_file(const char *path, unsigned long *count)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int rc = read_file(path, &data, &len);

	if (rc < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(-rc));
		return 1;
	}
	fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
	/* An exact-size copy, so that ASan catches reads past the input. */
	uint8_t *exact = malloc(len ? len : 1);

	if (!exact) {
		free(data);
		return 1;
	}
	memcpy(exact, data, len);
	free(data);
	LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	(*count)++;
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_dir(const char *dir, unsigned long *count)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int status = 0;

	if (!d) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			char **p = realloc(names, cap * sizeof(*names));

			if (!p)
				abort();
			names = p;
		}
		size_t len = strlen(dir) + strlen(e->d_name) + 2;

		names[n] = malloc(len);
		if (!names[n])
			abort();
		snprintf(names[n], len, "%s/%s", dir, e->d_name);
		n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n; i++) {
		struct stat st;

		if (status == 0 && stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
			status = run_file(names[i], count);
		free(names[i]);
	}
	free(names);
	return status;
}

int main(int argc, char **argv)
{
	unsigned long count = 0;
	int status = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE-OR-DIRECTORY...\n", argv[0]);
		return 1;
	}
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc && status == 0; i++) {
		struct stat st;

		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			status = 1;
		} else if (S_ISDIR(st.st_mode)) {
			status = run_dir(argv[i], &count);
		} else {
			status = run_file(argv[i], &count);
		}
	}
	if (status == 0 && count == 0) {
		fprintf(stderr, "replay: no input found\n");
		status = 1;
	}
	if (status == 0)
		printf("replay: %lu inputs ran\n", count);
	return status;
}
