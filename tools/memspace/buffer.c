/*
 * memspace CLI: growable arrays and whole-stream reads (see buffer.h).
 *
 * A failed msc_grow() leaves the array as it was, so callers can report
 * -ENOMEM without undoing anything. msc_read_stream() frees its buffer on
 * every error path.
 *
 * SPDX-License-Identifier: MIT
 */
#include "buffer.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

int msc_grow(void **array, size_t *cap, size_t nr, size_t size, size_t first)
{
	size_t ncap;
	void *p;

	if (nr < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : first;
	if (ncap > SIZE_MAX / size)
		return -ENOMEM;
	p = realloc(*array, ncap * size);
	if (!p)
		return -ENOMEM;
	*array = p;
	*cap = ncap;
	return 0;
}

int msc_read_stream(FILE *f, size_t limit, char **out, size_t *len)
{
	size_t cap = 0, used = 0;
	char *buf = NULL;

	errno = 0;
	for (;;) {
		size_t n;

		if (used == cap) {
			if (cap >= limit) {
				free(buf);
				return EFBIG;
			}
			if (msc_grow((void **)&buf, &cap, used, 1, 65536)) {
				free(buf);
				return ENOMEM;
			}
		}
		n = fread(buf + used, 1, cap - used, f);
		used += n;
		if (n == 0) {
			if (ferror(f)) {
				int err = errno ? errno : EIO;

				free(buf);
				return err;
			}
			break;
		}
	}
	*out = buf;
	*len = used;
	return 0;
}
