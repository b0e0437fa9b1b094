/*
 * chain.c: the per-thread access chain, the reentrancy and depth guard of
 * device callbacks (access.c) and IOMMU translate methods (iommu.c).
 *
 * Invariant: ms__chain_innermost is the innermost frame entered and not yet left
 * on this thread; following ->outer visits exactly the callbacks running
 * below the current point of this thread, with depths counting down to 1.
 * Frames are on the callers' stacks, so nothing is allocated and nothing
 * leaks when a callback changes the topology or frees the context.
 *
 * Locking: none; the state is thread-local. The depth bound of a context
 * (set by ms_ctx_set_max_access_depth(), ctx.c) is a relaxed atomic: an
 * access already running may see the old bound.
 *
 * SPDX-License-Identifier: MIT
 */

#include "chain.h"

_Thread_local const ms__chain_frame *ms__chain_innermost __attribute__((tls_model("initial-exec")));

/*
 * ms__chain_enter() out of line: inlined here, GCC 12 warns that the
 * address of ms__chain_run()'s frame is stored in the thread's chain (it
 * does not see ms__chain_leave() take it out again around the indirect call).
 */
static __attribute__((noinline)) bool enter(ms__chain_frame *frame, const ms_region *mr)
{
	return ms__chain_enter(frame, mr);
}

bool ms__chain_run(const ms_region *mr, void (*fn)(void *arg), void *arg)
{
	ms__chain_frame frame;

	if (!enter(&frame, mr))
		return false;
	fn(arg);
	ms__chain_leave(&frame);
	return true;
}
