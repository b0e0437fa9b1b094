/*
 * tce.h: `memspace-bench tce` (bench/tce.c), declared here rather than in
 * bench.h so that the models' benchmark stays a separate file pair.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_BENCH_TCE_H
#define MEMSPACE_BENCH_TCE_H

#include "bench.h"

/* H_PUT_TCE rate with a container attached, and replay time by occupancy. */
int bench_tce(const bench_opts *opts, bench_json *json);

#endif /* MEMSPACE_BENCH_TCE_H */
