/*
 * access.h: the access engine (access.c), for DMA mapping and caches.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_ACCESS_INT_H
#define MEMSPACE_ACCESS_INT_H

#include "resolve.h"

/*
 * Whether a read (or, with @is_write, a write) can use the host memory behind @r
 * directly (memcpy or a host mapping) rather than going through the access
 * engine: RAM-backed kinds for reads (ROM devices only in romd mode), and for
 * writes only RAM-backed kinds whose range is not readonly. RAM devices are
 * never direct (they need exact-width accesses). Callers still apply the
 * attrs.memory rule: a ROM device is direct for reads in romd mode, yet it is
 * not RAM.
 */
bool ms__access_is_direct(const ms__range *r, bool is_write);

#endif /* MEMSPACE_ACCESS_INT_H */
