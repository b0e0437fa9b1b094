/*
 * devtlb.h: `memspace-bench devtlb` (bench/devtlb.c), declared here rather
 * than in bench.h so that the models' benchmarks stay separate file pairs.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_BENCH_DEVTLB_H
#define MEMSPACE_BENCH_DEVTLB_H

#include "bench.h"

/* ns per 4-byte DMA read through an IOMMU, with and without a device IOTLB. */
int bench_devtlb(const bench_opts *opts, bench_json *json);

#endif /* MEMSPACE_BENCH_DEVTLB_H */
