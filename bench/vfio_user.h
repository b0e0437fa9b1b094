/*
 * memspace-bench vfio-user: BAR reads by message vs mmap, DMA by fd vs by
 * messages, against the libvfio-user test device (bench/vfio_user.c).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_BENCH_VFIO_USER_H
#define MEMSPACE_BENCH_VFIO_USER_H

#include "bench.h"

int bench_vfio_user(const bench_opts *opts, bench_json *json);

#endif
