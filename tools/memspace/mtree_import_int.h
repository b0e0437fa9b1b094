/*
 * memspace CLI: what the files of the `info mtree -D` importer share
 * (private to mtree_import*.c).
 *
 * The importer works on an array of printings, one per tree line in file
 * order (a parent always precedes its children), grouped in blocks (an
 * `address-space:` block or a `memory-region:` trailer). Each pass fills in
 * more of struct importer: mtree_import_parse.c the printings and blocks,
 * mtree_import_identify.c the identity classes and regions,
 * mtree_import_build.c the library objects. Every error goes through
 * msc_mtree_fail() or msc_mtree_nomem(), which fill in the caller's
 * diagnostic and return the negative errno to pass up.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_CLI_MTREE_IMPORT_INT_H
#define MEMSPACE_CLI_MTREE_IMPORT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mtree_import.h"

#define NONE SIZE_MAX
/* The deepest tree the importer accepts: nothing deeper could render. */
#define MAX_DEPTH MS_RENDER_MAX_DEPTH

enum kind {
	KIND_RAM,
	KIND_ROM,
	KIND_ROMD,
	KIND_RAMD,
	KIND_IO
};
/* The printed name of each kind, indexed by enum kind (defined in mtree_import_parse.c). */
extern const char *const msc_mtree_kind_names[5];

/* Annotation flags. */
#define ANN_CONTAINER (1u << 0)
#define ANN_IO (1u << 1)
#define ANN_READONLY (1u << 2)
#define ANN_UNMERGEABLE (1u << 3)

/* One tree line: one printing of one region (rule I1). */
struct printing {
	unsigned long line;
	const char *name;
	size_t name_len;
	unsigned long name_col;
	const char *target; /* alias target name (aliases only) */
	size_t target_len;
	unsigned long target_col;
	uint64_t start;
	uint64_t addr;
	uint64_t size; /* MS_SIZE_2_64 for 2^64 */
	uint64_t alias_offset;
	int priority;
	unsigned char kind;
	bool nonvolatile;
	bool disabled;
	bool is_alias;
	unsigned flags;            /* ANN_* */
	unsigned long target_k;    /* {target=K}, 0 when absent */
	unsigned long target_kcol; /* column of "target=" */
	unsigned long as_k;        /* {as=K}, 0 when absent */
	unsigned long as_kcol;     /* column of "as=" */
	size_t depth;
	size_t parent; /* NONE for a block top */
	size_t first_child, last_child, next_sibling;
	size_t nr_children;
	size_t block;
	size_t cls;    /* identity class (pass 2) */
	size_t uf;     /* union-find parent */
	size_t region; /* region index (pass 3) */
};

struct block {
	bool trailer;
	unsigned long line; /* first header line */
	size_t first_name;  /* index into names (address-space blocks) */
	size_t nr_names;
	size_t top;       /* the top printing, NONE until parsed */
	const char *name; /* trailer header name */
	size_t name_len;
	unsigned long name_col;
};

struct as_name {
	const char *name;
	size_t len;
	unsigned long line;
};

struct region {
	size_t rep; /* first printing in file order */
	unsigned flags;
	unsigned long target_k;
	size_t target_k_pr; /* printing that gave target_k */
	size_t container;   /* region index, or NONE */
	size_t container_pr;
	size_t target;   /* alias target region */
	size_t trailer;  /* index of the trailer block this region is, or NONE */
	size_t as_block; /* address-space block whose root this is, or NONE */
	size_t walk;     /* cycle-detection stamp */
	ms_region *mr;
	bool added; /* placed in a container by the importer */
};

struct importer {
	ms_ctx *ctx;
	const char *text;
	size_t len;
	msc_mtree_diag *err;
	msc_mtree_warn_fn warn;
	void *payload;
	unsigned flags; /* MSC_MTREE_LAYOUT_* */

	struct printing *pr;
	size_t nr_pr, cap_pr;
	struct block *blk;
	size_t nr_blk, cap_blk;
	struct as_name *names;
	size_t nr_names, cap_names;
	size_t *trailers; /* block indices of trailers, file order */
	size_t nr_trailers;
	size_t *by_name; /* trailer numbers sorted by (name, file order) */

	size_t nr_cls;
	struct region *rg;
	size_t nr_rg;

	ms_region **extra; /* hidden regions (ramd backing, unprinted containers) */
	size_t nr_extra, cap_extra;
	ms_as **as;
	size_t nr_as;
	bool building; /* library objects may exist */

	char quoted[3][72];
};

/* ---- diagnostics (mtree_import.c) ----------------------------------------- */

/*
 * Quote @n bytes of @s for a message into the scratch buffer @slot (0-2):
 * printable ASCII kept, other bytes as \xNN, long names cut with "...".
 * Valid until the next call with the same slot.
 */
const char *msc_mtree_quote(struct importer *im, int slot, const char *s, size_t n);
/* The quoted name of printing @p (msc_mtree_quote()). */
const char *msc_mtree_qname(struct importer *im, int slot, const struct printing *p);
/* Record the error LINE:COL: message (when the caller asked for it); returns -EINVAL. */
__attribute__((format(printf, 4, 5))) int msc_mtree_fail(struct importer *im, unsigned long line,
							 unsigned long col, const char *fmt, ...);
/* Record "out of memory" for the whole input; returns -ENOMEM. */
int msc_mtree_nomem(struct importer *im);
/* Pass a warning to the caller's callback, if any. */
__attribute__((format(printf, 4, 5))) void msc_mtree_warn(struct importer *im, unsigned long line,
							  unsigned long col, const char *fmt, ...);

/* ---- the passes, in the order msc_mtree_import() runs them ----------------- */

/* Pass 1 (mtree_import_parse.c): lines -> blocks and printings, every local check. */
int msc_mtree_parse(struct importer *im);
/* Pass 2 (mtree_import_identify.c): printings -> identity classes, then regions (I3, I4). */
int msc_mtree_classify(struct importer *im);
int msc_mtree_identify(struct importer *im);
/* Pass 3 (mtree_import_identify.c): region properties, containers, trailers; alias targets (I6). */
int msc_mtree_build_regions(struct importer *im);
int msc_mtree_resolve_aliases(struct importer *im);
/* Pass 4 (mtree_import_build.c): the library objects; rollback removes them on failure. */
int msc_mtree_build(struct importer *im);
void msc_mtree_rollback(struct importer *im);

#endif /* MEMSPACE_CLI_MTREE_IMPORT_INT_H */
