/*
 * fuzz_reader.h: reading a fuzzer's input as a stream of little-endian
 * integers. Past the end every byte reads as 0, so every input, the empty
 * one included, decodes to something: the targets never reject an input.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MS_FUZZ_READER_H
#define MS_FUZZ_READER_H

#include <stddef.h>
#include <stdint.h>

struct reader {
	const uint8_t *p;
	size_t n; /* bytes left */
};

static inline uint8_t rd8(struct reader *r)
{
	if (r->n == 0)
		return 0;
	r->n--;
	return *r->p++;
}

static inline uint64_t rd16(struct reader *r)
{
	uint64_t lo = rd8(r);

	return lo | (uint64_t)rd8(r) << 8;
}

static inline uint64_t rd64(struct reader *r)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v |= (uint64_t)rd8(r) << (8 * i);
	return v;
}

#endif /* MS_FUZZ_READER_H */
