/*
 * chain.h: the calling thread's access chain (chain.c) - the device
 * callbacks and IOMMU translations running on this thread, innermost first,
 * so that a callback that comes back to a region already on the chain, or
 * nests deeper than its context allows, is refused instead of recursing.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_CHAIN_H
#define MEMSPACE_CHAIN_H

#include <stdbool.h>

#include "memspace.h"

/*
 * One callback running on this thread. Frames live on the stack of the code
 * that calls the callback and are linked innermost first; their fields are
 * private to chain.c.
 */
typedef struct ms__chain_frame {
	const ms_region *region;
	const struct ms__chain_frame *outer;
	unsigned depth; /* 1 for the outermost */
} ms__chain_frame;

/*
 * Put @mr on the calling thread's chain, in @frame (which must stay alive
 * until ms__chain_leave()). False, with the chain unchanged, when @mr is
 * already on it or the chain is as deep as @mr's context allows
 * (ms_ctx_set_max_access_depth()). Any thread; no lock.
 */
bool ms__chain_enter(ms__chain_frame *frame, const ms_region *mr);

/* Take @frame, the innermost frame of this thread's chain, off it. */
void ms__chain_leave(const ms__chain_frame *frame);

/*
 * Run @fn(@arg) with @mr on the calling thread's chain: false, without
 * calling it, when ms__chain_enter() refuses.
 */
bool ms__chain_run(const ms_region *mr, void (*fn)(void *arg), void *arg);

#endif /* MEMSPACE_CHAIN_H */
