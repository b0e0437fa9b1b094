/*
 * runner.h: runs programs of API calls (refmodel.h) on the library and on
 * the reference model in lockstep, and compares every published view with
 * the reference rendering. Whole programs (run_program) or op by op
 * (runner_new, runner_step, runner_finish) for callers that interleave
 * checks of their own, such as the topology fuzzer.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MS_TEST_RUNNER_H
#define MS_TEST_RUNNER_H

#include "refmodel.h"

struct stats {
	uint64_t programs, checks, views, addresses, ranges;
	uint64_t nonempty_views, views_ge5, max_ranges, incomplete, unmergeable_splits;
	uint64_t shared_across_roots; /* pairs of ASes with different roots, one view */
	uint64_t failures;            /* with MS_PROP_KEEP_GOING */
};

struct runner;

/*
 * Optional calls into the user of a runner: right after an address space is
 * created and right before one is freed. Each returns false (after failf())
 * to fail the run.
 */
struct runner_hooks {
	bool (*as_created)(struct runner *run, int as_index);
	bool (*as_freeing)(struct runner *run, int as_index);
};

struct runner {
	struct model m;
	ms_ctx *ctx;
	bool shared_ctx; /* ctx belongs to the caller */
	ms_as *as[MAX_AS];
	ms_flatview *txn_views[MAX_AS]; /* views held across a transaction */
	int txn_nas;
	uint64_t check_seed;
	unsigned check_no;
	int op_index;
	int last_rc;        /* what the library call of the last lib_apply() returned */
	struct report *why; /* failure text, or NULL when shrinking quietly */
	struct stats *stats;
	const struct runner_hooks *hooks;
	void *hook_opaque;
};

/* Record a failure in run->why ("FAILED at op N ..."); returns false. */
bool failf(struct runner *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The library's getters and subregion lists against the model. */
bool check_tree(struct runner *run);
/* Outside a transaction: the tree, F4, view sharing and every view; inside:
 * that no view changed. */
bool check_all(struct runner *run, bool full64);
/* Make the call @op describes; false (with a message) when it fails. */
bool lib_apply(struct runner *run, const struct op *op);
/*
 * The call of an op on existing regions (OP_ADD, OP_DEL, OP_SET_*), with @h
 * the region in op->slot and @other the one in op->other; returns what the
 * library returns. -ENOSYS for the other kinds, which are not such a call.
 */
int lib_region_call(ms_region *h, ms_region *other, const struct op *op);

/*
 * A runner in a new context (or in @shared_ctx, which it leaves as it found
 * it). Aborts when out of memory.
 */
struct runner *runner_new(ms_ctx *shared_ctx, uint64_t check_seed, struct report *why,
			  struct stats *stats);
/* Apply @op when the model says it is valid (else skip it); run OP_CHECK. */
bool runner_step(struct runner *run, const struct op *op, bool full64);
/*
 * Commit what is open, check the final state (when @ok), tear everything down
 * and free @run. Returns the overall verdict.
 */
bool runner_finish(struct runner *run, bool ok, bool full64, bool free_as_first);

/* A whole program: runner_new, runner_step for each op, runner_finish. */
bool run_program_in(const struct program *p, ms_ctx *shared_ctx, struct report *why,
		    struct stats *stats);
bool run_program(const struct program *p, struct report *why, struct stats *stats);

#endif /* MS_TEST_RUNNER_H */
