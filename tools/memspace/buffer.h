/*
 * memspace CLI: growable arrays and whole-stream reads.
 *
 * msc_grow() is the one growable-buffer helper of the tool: tables, the
 * session's arrays and msc_read_stream() all grow through it. Capacities
 * double, so appending n elements costs O(n) copying in total.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_CLI_BUFFER_H
#define MEMSPACE_CLI_BUFFER_H

#include <stddef.h>
#include <stdio.h>

/**
 * msc_grow - make room for one more element.
 * @array: the array (*@array may be NULL when *@cap is 0); moved by realloc.
 * @cap: its capacity in elements; doubled (from @first) when @nr reaches it.
 * @nr: how many elements are in use.
 * @size: the size of one element.
 * @first: the capacity of a new array.
 *
 * Return: 0 (there is room for element @nr), or -ENOMEM (nothing changed).
 */
int msc_grow(void **array, size_t *cap, size_t nr, size_t size, size_t first);

/**
 * msc_read_stream - read @f to its end into a new buffer.
 * @f: the stream.
 * @limit: the largest size accepted, in bytes.
 * @out: receives the buffer (the caller frees it); untouched on failure.
 * @len: receives its length (the buffer is not NUL-terminated).
 *
 * Return: 0; or a positive errno value: the stream's error (EIO when the
 * stream does not say), EFBIG past @limit, ENOMEM.
 */
int msc_read_stream(FILE *f, size_t limit, char **out, size_t *len);

#endif /* MEMSPACE_CLI_BUFFER_H */
