/*
 * progen.h: random programs of API calls for the render property test.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MS_TEST_PROGEN_H
#define MS_TEST_PROGEN_H

#include "refmodel.h"

/*
 * A random program from @seed: a tree, address spaces, mutations, checks.
 * The same seed and @full64 always give the same program.
 */
void gen_program(struct program *p, uint64_t seed, bool full64);

#endif /* MS_TEST_PROGEN_H */
