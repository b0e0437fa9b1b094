/*
 * Test support: an independent reference for memspace's rendering.
 *
 * A tiny model of the region tree kept beside the library (its own
 * subregion lists: priority descending, the later added first among equals),
 * a brute-force per-address resolver that follows the rendering rules R1-R8
 * of qemu-mtree/README.md, the flatview-root rule F4, the range list rule R9
 * promises, and a runner that applies programs of API calls to the library
 * and the model in lockstep and compares every published view with the
 * reference. The model never looks at the library's rendering, and this code
 * uses only the public headers.
 *
 * Shared by tests/unit/test_render_property.c (random programs, shrinking)
 * and fuzz/fuzz_topology.c (programs decoded from fuzzer input).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MS_TEST_REFMODEL_H
#define MS_TEST_REFMODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <memspace.h>

#include "ms_rng.h"

__extension__ typedef unsigned __int128 u128;
__extension__ typedef __int128 i128;

#define TWO_64 ((u128)1 << 64)

#define MAX_REGIONS 48
#define MAX_AS 8
#define MAX_OPS 400
#define ENUM_VISIT_CAP 20000
#define RANDOM_POINTS 24

/* ---- Reports: a growable text buffer ------------------------------------- */

struct report {
	char *buf;
	size_t len, cap;
};

/* Append to @r (a NULL @r is a no-op). */
void rep(struct report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rep_free(struct report *r);
/* "0x..." for 64-bit values, "2^64" for the one value past them. */
const char *fmt_u128(char out[24], u128 v);
/* API size encoding (MS_SIZE_2_64) to exact size, and as C source text. */
u128 size_from_api(uint64_t size);
const char *size_api_text(char out[24], uint64_t size);

/* ---- Programs: the API calls a case makes, replayable and shrinkable ----- */

enum op_kind {
	OP_NEW,              /* slot, rkind, value = size, other = target, value2 = offset */
	OP_ADD,              /* slot into other at value with priority (flag: no-overlap call) */
	OP_DEL,              /* slot out of other */
	OP_SET_ADDR,         /* slot, value */
	OP_SET_SIZE,         /* slot, value */
	OP_SET_ENABLED,      /* slot, flag */
	OP_SET_READONLY,     /* slot, flag */
	OP_SET_NONVOLATILE,  /* slot, flag */
	OP_SET_UNMERGEABLE,  /* slot, flag */
	OP_SET_ALIAS_OFFSET, /* slot, value */
	OP_SET_PRIORITY,     /* slot, priority */
	OP_SET_ROMD,         /* slot, flag */
	OP_NEW_AS,           /* root slot */
	OP_FREE_AS,          /* slot = address-space index */
	OP_BEGIN,
	OP_COMMIT,
	OP_CHECK,
};

struct op {
	enum op_kind kind;
	int slot;
	int other;
	ms_region_kind rkind;
	uint64_t value;
	uint64_t value2;
	int priority;
	bool flag; /* OP_NEW of an I/O region: with ops (true) or a reservation */
};

struct program {
	uint64_t seed;
	bool full64;
	bool free_as_first; /* teardown order */
	int nops;
	struct op ops[MAX_OPS];
};

/* ---- The model ------------------------------------------------------------ */

struct mregion {
	bool exists;
	ms_region *handle; /* NULL while only generating */
	ms_region_kind kind;
	char name[16];
	uint64_t addr;
	u128 size;
	int priority;
	bool enabled, readonly, nonvolatile, unmergeable, romd;
	int target; /* alias target slot, or -1 */
	uint64_t alias_offset;
	int container; /* slot, or -1 */
	int nkids;
	int kids[MAX_REGIONS]; /* rendering order */
};

struct model {
	struct mregion r[MAX_REGIONS];
	int depth; /* transaction nesting */
	int nas;
	int as_root[MAX_AS];
	bool as_freed[MAX_AS];
};

bool kind_terminates(ms_region_kind k);
bool kind_has_ram(ms_region_kind k);
bool kind_resizable(ms_region_kind k);
const char *kind_name(ms_region_kind k);
const char *kind_prefix(ms_region_kind k);

void model_init(struct model *m);
bool slot_ok(const struct model *m, int slot);
/* Can @from reach @to through subregion and alias-target edges? */
bool reaches(const struct model *m, int from, int to);
/*
 * Whether @op is a call the model can follow: it must succeed in the library
 * (the model keeps the tree free of cycles through aliases, so its resolver
 * always ends).
 */
bool model_valid(const struct model *m, const struct op *op);
void model_apply(struct model *m, const struct op *op);

/* ---- The reference: rule F4 and a per-address resolver (R1-R8) ----------- */

/* Rule F4: the region a view of @slot is rendered from, or -1 for none. */
int ref_flatview_root(const struct model *m, int slot);

struct answer {
	bool mapped;
	int leaf;
	uint64_t offset;
	bool readonly, nonvolatile, unmergeable, romd;
	uint64_t path; /* identifies the route (one rendering of the leaf) */
};

/* The answer of a view rendered from @root (-1: nothing) at @addr. */
struct answer ref_lookup(const struct model *m, int root, uint64_t addr);

/* Every region edge, clipped and projected into view coordinates. */
struct points {
	u128 *v;
	size_t n, cap;
	unsigned visits;
	bool complete; /* false when ENUM_VISIT_CAP or memory ran out */
};

void points_add(struct points *p, u128 v);
void enumerate_edges(const struct model *m, int slot, i128 base, i128 lo, i128 hi,
		     struct points *p);
int cmp_u128(const void *a, const void *b);
int cmp_u64(const void *a, const void *b);

/* One expected range. */
struct xrange {
	uint64_t start, last, offset;
	int leaf;
	bool readonly, nonvolatile, unmergeable, romd;
	uint64_t path; /* path of its last piece */
};

/* The range list rule R9 promises, from sorted unique @edges (into @out). */
size_t expected_ranges(const struct model *m, int root, const u128 *edges, size_t nedges,
		       struct xrange *out);

/* ---- Dumps ---------------------------------------------------------------- */

void dump_model(struct report *rp, const struct model *m);
/* One op as the C call it makes. */
void dump_op(struct report *rp, const struct op *op);
void dump_program(struct report *rp, const struct program *p);

/* ---- Running programs against the library --------------------------------- */

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
/* "[slot] name" of a library region, for messages. */
const char *region_label(const struct runner *run, const ms_region *h, char out[32]);
int slot_of(const struct runner *run, const ms_region *h);
void dump_sections(struct report *rp, const struct runner *run, const ms_section *s, size_t n);

/* Compare one view with the reference rendering of @root (-1: none). */
bool check_view(struct runner *run, ms_flatview *fv, int root, bool full64);
/* The library's getters and subregion lists against the model. */
bool check_tree(struct runner *run);
/* Outside a transaction: the tree, F4, view sharing and every view; inside:
 * that no view changed. */
bool check_all(struct runner *run, bool full64);
/* Make the call @op describes; false (with a message) when it fails. */
bool lib_apply(struct runner *run, const struct op *op);

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

/* ---- Generating programs -------------------------------------------------- */

/* A random program from @seed: a tree, address spaces, mutations, checks. */
void gen_program(struct program *p, uint64_t seed, bool full64);

#endif /* MS_TEST_REFMODEL_H */
