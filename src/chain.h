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

#include "region.h"

/*
 * One callback running on this thread. Frames live on the stack of the code
 * that calls the callback and are linked innermost first; their fields are
 * private to the functions below.
 */
typedef struct ms__chain_frame {
	const ms_region *region;
	const struct ms__chain_frame *outer;
	unsigned depth; /* 1 for the outermost */
} ms__chain_frame;

/*
 * The innermost frame of the calling thread's chain (defined in chain.c).
 * initial-exec: one pointer of static TLS, so the access path reads it
 * without a __tls_get_addr() call.
 */
extern _Thread_local const ms__chain_frame *ms__chain_innermost
	__attribute__((tls_model("initial-exec")));

/*
 * Put @mr on the calling thread's chain, in @frame (which must stay alive
 * until ms__chain_leave()). False, with the chain unchanged, when @mr is
 * already on it or the chain is as deep as @mr's context allows
 * (ms_ctx_set_max_access_depth()). Inline: every device access enters the
 * chain. Any thread; no lock.
 */
static inline bool ms__chain_enter(ms__chain_frame *frame, const ms_region *mr)
{
	const ms__chain_frame *innermost = ms__chain_innermost;
	unsigned max = __atomic_load_n(&mr->ctx->max_access_depth, __ATOMIC_RELAXED);

	if (max == 0)
		max = MS_ACCESS_DEPTH_DEFAULT;
	if (innermost && innermost->depth >= max)
		return false;
	for (const ms__chain_frame *f = innermost; f; f = f->outer)
		if (f->region == mr)
			return false;
	frame->region = mr;
	frame->outer = innermost;
	frame->depth = innermost ? innermost->depth + 1 : 1;
	ms__chain_innermost = frame;
	return true;
}

/* Take @frame, the innermost frame of this thread's chain, off it. */
static inline void ms__chain_leave(const ms__chain_frame *frame)
{
	ms__chain_innermost = frame->outer;
}

/*
 * Run @fn(@arg) with @mr on the calling thread's chain: false, without
 * calling it, when ms__chain_enter() refuses.
 */
bool ms__chain_run(const ms_region *mr, void (*fn)(void *arg), void *arg);

#endif /* MEMSPACE_CHAIN_H */
