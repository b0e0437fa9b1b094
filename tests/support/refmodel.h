/*
 * refmodel.h: an independent reference for memspace's rendering.
 *
 * Programs (the API calls a case makes, replayable and shrinkable), a tiny
 * model of the region tree kept beside the library (its own subregion lists:
 * priority descending, the later added first among equals), a brute-force
 * per-address resolver that follows the rendering rules R1-R8 of
 * qemu-mtree/README.md, the flatview-root rule F4, and the range list rule
 * R9 promises. The model never looks at the library's rendering, and this
 * code uses only the public headers.
 *
 * runner.h runs programs on the library against this model; progen.h makes
 * random programs. Shared by tests/unit/test_render_property.c (random
 * programs, shrinking) and tests/fuzz/fuzz_topology.c (programs decoded from
 * fuzzer input).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MS_TEST_REFMODEL_H
#define MS_TEST_REFMODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <memspace.h>

__extension__ typedef unsigned __int128 u128;
__extension__ typedef __int128 i128;

#define TWO_64 ((u128)1 << 64)

#define MAX_REGIONS 48
#define MAX_AS 8
#define MAX_OPS 400
#define ENUM_VISIT_CAP 20000

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

#endif /* MS_TEST_REFMODEL_H */
