/*
 * ms_rng.h: the one pseudo-random number generator of the tests, the fuzz
 * targets and the benchmarks (header only, not part of the library).
 *
 * xoshiro256** (Blackman and Vigna) seeded through splitmix64, so that every
 * 64-bit seed, 0 included, gives a well-mixed state. The sequence depends on
 * the seed alone, on every platform: property tests, shrinking and benchmark
 * layouts replay exactly from a fixed seed. Not for cryptography. A
 * generator is plain state: give each thread its own.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MS_RNG_H
#define MS_RNG_H

#include <stdbool.h>
#include <stdint.h>

typedef struct ms_rng {
	uint64_t s[4];
} ms_rng;

/*
 * One step of splitmix64: advance *@state by the golden-ratio increment and
 * return its mix. Also usable as a 64-bit hash (a state of x gives the mix
 * of x + 0x9e37...).
 */
static inline uint64_t ms_rng_splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline void ms_rng_seed(ms_rng *g, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		g->s[i] = ms_rng_splitmix64(&seed);
}

static inline uint64_t ms_rng_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* The next 64 random bits. */
static inline uint64_t ms_rng_next(ms_rng *g)
{
	uint64_t result = ms_rng_rotl(g->s[1] * 5, 7) * 9;
	uint64_t t = g->s[1] << 17;

	g->s[2] ^= g->s[0];
	g->s[3] ^= g->s[1];
	g->s[1] ^= g->s[2];
	g->s[0] ^= g->s[3];
	g->s[2] ^= t;
	g->s[3] = ms_rng_rotl(g->s[3], 45);
	return result;
}

/*
 * Uniform in [0, @bound); @bound > 0. Without bias: draws below 2^64 mod
 * @bound (the short last interval) are drawn again, which is rare.
 */
static inline uint64_t ms_rng_below(ms_rng *g, uint64_t bound)
{
	uint64_t threshold = (0 - bound) % bound;
	uint64_t r;

	do
		r = ms_rng_next(g);
	while (r < threshold);
	return r % bound;
}

/* Uniform in [@lo, @hi], both included; @lo <= @hi. */
static inline uint64_t ms_rng_range(ms_rng *g, uint64_t lo, uint64_t hi)
{
	if (hi - lo == UINT64_MAX)
		return ms_rng_next(g);
	return lo + ms_rng_below(g, hi - lo + 1);
}

/* True with probability @percent / 100. */
static inline bool ms_rng_percent(ms_rng *g, unsigned percent)
{
	return ms_rng_below(g, 100) < percent;
}

#endif /* MS_RNG_H */
