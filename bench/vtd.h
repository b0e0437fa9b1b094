/*
 * vtd.h: `memspace-bench vtd` (bench/vtd.c), declared apart like tce.h.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_BENCH_VTD_H
#define MEMSPACE_BENCH_VTD_H

#include "bench.h"

/* Replay time by present mappings, page-selective invalidation, DMA reads through the unit. */
int bench_vtd(const bench_opts *opts, bench_json *json);

#endif /* MEMSPACE_BENCH_VTD_H */
