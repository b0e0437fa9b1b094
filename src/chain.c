/*
 * chain.c: the per-thread access chain, the reentrancy and depth guard of
 * device callbacks (access.c) and IOMMU translate methods (iommu.c).
 *
 * Invariant: innermost_call is the innermost frame entered and not yet left
 * on this thread; following ->outer visits exactly the callbacks running
 * below the current point of this thread, with depths counting down to 1.
 * Frames are on the callers' stacks, so nothing is allocated and nothing
 * leaks when a callback changes the topology or frees the context.
 *
 * Locking: none; the state is thread-local. The depth bound of a context
 * (set by ms_ctx_set_max_access_depth(), here) is a relaxed atomic: an
 * access already running may see the old bound.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>

#include "chain.h"
#include "internal.h"

/*
 * initial-exec: one pointer of static TLS, so the access path reads it
 * without a __tls_get_addr() call.
 */
static _Thread_local const ms__chain_frame *innermost_call
	__attribute__((tls_model("initial-exec")));

bool ms__chain_enter(ms__chain_frame *frame, const ms_region *mr)
{
	unsigned max = __atomic_load_n(&mr->ctx->max_access_depth, __ATOMIC_RELAXED);
	const ms__chain_frame *f;

	if (max == 0)
		max = MS_ACCESS_DEPTH_DEFAULT;
	if (innermost_call && innermost_call->depth >= max)
		return false;
	for (f = innermost_call; f; f = f->outer)
		if (f->region == mr)
			return false;
	frame->region = mr;
	frame->outer = innermost_call;
	frame->depth = innermost_call ? innermost_call->depth + 1 : 1;
	innermost_call = frame;
	return true;
}

void ms__chain_leave(const ms__chain_frame *frame)
{
	innermost_call = frame->outer;
}

bool ms__chain_run(const ms_region *mr, void (*fn)(void *arg), void *arg)
{
	ms__chain_frame frame;

	if (!ms__chain_enter(&frame, mr))
		return false;
	fn(arg);
	ms__chain_leave(&frame);
	return true;
}

int ms_ctx_set_max_access_depth(ms_ctx *ctx, unsigned depth)
{
	if (!ctx || depth == 0)
		return -EINVAL;
	__atomic_store_n(&ctx->max_access_depth, depth, __ATOMIC_RELAXED);
	return 0;
}
