/*
 * Import of QEMU 7.2 `info mtree -D` dumps (../shared/qemu-mtree/README.md).
 *
 * Four passes over an array of "printings" (one per tree line, in file
 * order, so a parent always precedes its children):
 *   1. parse: lines -> blocks and printings, annotations, every local check;
 *   2. identity (rules I3, I4): hash-cons printed subtrees position-
 *      independently into classes, then union printings that are one region
 *      (a union always pairs the two subtrees line by line, so two printings
 *      of one region always have their children pairwise in one region);
 *   3. regions: properties, containers, alias targets (I6) and the trailer
 *      queue-order check, alias cycles;
 *   4. build: regions, subregions in list order (I8), address spaces.
 * The first error stops the import; the library objects made so far are
 * removed again. No recursion is deeper than MAX_DEPTH tree levels.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mtree_import.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
static const char *const kind_names[] = {"ram", "rom", "romd", "ramd", "i/o"};

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

struct msc_mtree {
	ms_as **as;
	size_t nr_as;
};

struct importer {
	ms_ctx *ctx;
	const char *text;
	size_t len;
	msc_mtree_diag *err;
	msc_mtree_warn_fn warn;
	void *payload;

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
	size_t nr_extra;
	ms_as **as;
	size_t nr_as;
	bool building; /* library objects may exist */

	char quoted[3][72];
};

/* ---- diagnostics --------------------------------------------------------- */

/* Quote a name for a message: printable ASCII kept, other bytes as \xNN. */
static const char *quote(struct importer *im, int slot, const char *s, size_t n)
{
	char *out = im->quoted[slot];
	size_t cap = sizeof(im->quoted[slot]), o = 0, i;

	out[o++] = '\'';
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (o + 9 > cap) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			out[o++] = (char)c;
		} else {
			snprintf(out + o, cap - o, "\\x%02x", c);
			o += 4;
		}
	}
	out[o++] = '\'';
	out[o] = '\0';
	return out;
}

static const char *qname(struct importer *im, int slot, const struct printing *p)
{
	return quote(im, slot, p->name, p->name_len);
}

__attribute__((format(printf, 4, 5))) static int fail(struct importer *im, unsigned long line,
						      unsigned long col, const char *fmt, ...)
{
	va_list ap;

	if (im->err) {
		im->err->line = line;
		im->err->col = col;
		va_start(ap, fmt);
		vsnprintf(im->err->message, sizeof(im->err->message), fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int fail_nomem(struct importer *im)
{
	if (im->err) {
		im->err->line = 0;
		im->err->col = 0;
		snprintf(im->err->message, sizeof(im->err->message), "out of memory");
	}
	return -ENOMEM;
}

__attribute__((format(printf, 4, 5))) static void warn(struct importer *im, unsigned long line,
						       unsigned long col, const char *fmt, ...)
{
	msc_mtree_diag d;
	va_list ap;

	if (!im->warn)
		return;
	d.line = line;
	d.col = col;
	va_start(ap, fmt);
	vsnprintf(d.message, sizeof(d.message), fmt, ap);
	va_end(ap);
	im->warn(&d, im->payload);
}

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	size_t n;
	void *p;

	if (need <= *cap)
		return 0;
	n = *cap ? *cap * 2 : 64;
	while (n < need)
		n *= 2;
	if (n > SIZE_MAX / elem)
		return -ENOMEM;
	p = realloc(*arr, n * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = n;
	return 0;
}

/* ---- pass 1: parsing ----------------------------------------------------- */

static bool has_prefix(const char *s, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);

	return n >= k && memcmp(s, prefix, k) == 0;
}

static bool has_suffix(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* 16 lowercase hex digits at s[0..15]; returns the index of the first bad one, or 16. */
static size_t hex16(const char *s, size_t avail, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < 16; i++) {
		int d = i < avail ? hexval(s[i]) : -1;

		if (d < 0)
			return i;
		v = v << 4 | (uint64_t)d;
	}
	*out = v;
	return 16;
}

/* One parsing cursor over a line. */
struct cursor {
	struct importer *im;
	const char *s;
	size_t n, i;
	unsigned long line;
};

static int expect(struct cursor *c, const char *lit, const char *what)
{
	size_t k = strlen(lit), j;

	for (j = 0; j < k; j++)
		if (c->i + j >= c->n || c->s[c->i + j] != lit[j])
			return fail(c->im, c->line, c->i + j + 1, "expected %s", what);
	c->i += k;
	return 0;
}

static int expect_hex(struct cursor *c, uint64_t *out, const char *what)
{
	size_t bad = hex16(c->s + c->i, c->n - c->i, out);

	if (bad < 16)
		return fail(c->im, c->line, c->i + bad + 1, "expected %s: 16 lowercase hex digits",
			    what);
	c->i += 16;
	return 0;
}

static int parse_priority(struct cursor *c, int *out)
{
	unsigned long col = c->i + 1;
	bool neg = false;
	long long v = 0;
	size_t digits = 0;

	if (c->i < c->n && c->s[c->i] == '-') {
		neg = true;
		c->i++;
	}
	while (c->i < c->n && c->s[c->i] >= '0' && c->s[c->i] <= '9') {
		if (v <= (long long)INT_MAX + 1)
			v = v * 10 + (c->s[c->i] - '0');
		c->i++;
		digits++;
	}
	if (!digits)
		return fail(c->im, c->line, c->i + 1, "expected a decimal priority");
	if (neg)
		v = -v;
	if (v < INT_MIN || v > INT_MAX)
		return fail(c->im, c->line, col, "priority out of range");
	*out = (int)v;
	return 0;
}

static int parse_kind(struct cursor *c, struct printing *p)
{
	/* Longest first: "ram" is a prefix of "ramd". */
	static const unsigned char order[] = {KIND_RAMD, KIND_ROMD, KIND_RAM, KIND_ROM, KIND_IO};
	size_t j;

	if (has_prefix(c->s + c->i, c->n - c->i, "nv-")) {
		p->nonvolatile = true;
		c->i += 3;
	}
	for (j = 0; j < sizeof(order); j++) {
		const char *k = kind_names[order[j]];

		if (has_prefix(c->s + c->i, c->n - c->i, k)) {
			p->kind = order[j];
			c->i += strlen(k);
			return expect(c, "): ", "'): ' after the kind");
		}
	}
	return fail(c->im, c->line, c->i + 1, "unknown kind: expected ram, rom, romd, ramd or i/o");
}

static bool annotation_chars(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '=' ||
		      ch == ',' || ch == ' '))
			return false;
	}
	return true;
}

/*
 * The K of a "KEY=K" token t[0..tl) at column tcol (KEY= is klen bytes):
 * a decimal K >= 1 without leading zeros, into *k (0 when not given yet).
 */
static int parse_number_token(struct importer *im, const struct printing *p, const char *t,
			      size_t tl, unsigned long tcol, size_t klen, unsigned long *k,
			      unsigned long *kcol)
{
	const char *key = t;
	int key_len = (int)klen - 1; /* without the '=' */
	unsigned long v = 0;
	size_t j;

	if (*k)
		return fail(im, p->line, tcol, "'%.*s=' given twice", key_len, key);
	if (tl == klen || t[klen] == '0')
		return fail(im, p->line, tcol + klen,
			    "'%.*s=' needs a number K >= 1 without leading zeros", key_len, key);
	for (j = klen; j < tl; j++) {
		if (t[j] < '0' || t[j] > '9')
			return fail(im, p->line, tcol + j, "'%.*s=' needs a decimal number",
				    key_len, key);
		if (v > 100000000)
			return fail(im, p->line, tcol + klen, "'%.*s=' number too large", key_len,
				    key);
		v = v * 10 + (unsigned long)(t[j] - '0');
	}
	*k = v;
	*kcol = tcol;
	return 0;
}

/* Parse FLAGS at s[0..n) (column col of s[0]) into p. */
static int parse_annotations(struct importer *im, struct printing *p, const char *s, size_t n,
			     unsigned long col)
{
	size_t i = 0;

	for (;;) {
		size_t b, e, next;
		unsigned long tcol;
		const char *t;
		size_t tl;

		next = i;
		while (next < n && s[next] != ',')
			next++;
		b = i;
		e = next;
		while (b < e && s[b] == ' ')
			b++;
		while (e > b && s[e - 1] == ' ')
			e--;
		t = s + b;
		tl = e - b;
		tcol = col + b;
		if (tl == 0)
			return fail(im, p->line, tcol, "empty annotation in '{...}'");
		if (tl == 9 && memcmp(t, "container", 9) == 0) {
			p->flags |= ANN_CONTAINER;
		} else if (tl == 2 && memcmp(t, "io", 2) == 0) {
			p->flags |= ANN_IO;
		} else if (tl == 8 && memcmp(t, "readonly", 8) == 0) {
			p->flags |= ANN_READONLY;
		} else if (tl == 11 && memcmp(t, "unmergeable", 11) == 0) {
			p->flags |= ANN_UNMERGEABLE;
		} else if (tl >= 7 && memcmp(t, "target=", 7) == 0) {
			int rc = parse_number_token(im, p, t, tl, tcol, 7, &p->target_k,
						    &p->target_kcol);

			if (rc < 0)
				return rc;
		} else if (tl >= 3 && memcmp(t, "as=", 3) == 0) {
			int rc = parse_number_token(im, p, t, tl, tcol, 3, &p->as_k, &p->as_kcol);

			if (rc < 0)
				return rc;
		} else {
			return fail(im, p->line, tcol,
				    "unknown annotation %s: expected container, io, readonly, "
				    "unmergeable, target=K or as=K",
				    quote(im, 0, t, tl));
		}
		if (next >= n)
			break;
		i = next + 1;
	}
	return 0;
}

/* Rules of section 1.3 that depend on the line's kind. */
static int check_annotations(struct importer *im, const struct printing *p, unsigned long col)
{
	if ((p->flags & ANN_CONTAINER) && (p->flags & ANN_IO))
		return fail(im, p->line, col, "'container' and 'io' exclude each other");
	if ((p->flags & (ANN_CONTAINER | ANN_IO)) && (p->is_alias || p->kind != KIND_IO))
		return fail(im, p->line, col, "'%s' is allowed only on a non-alias i/o line",
			    (p->flags & ANN_IO) ? "io" : "container");
	if ((p->flags & ANN_READONLY) && !p->is_alias && p->kind == KIND_RAM)
		return fail(
			im, p->line, col,
			"'readonly' is not allowed on a ram line (read-only RAM prints as rom)");
	if (p->target_k && !p->is_alias)
		return fail(im, p->line, p->target_kcol,
			    "'target=' is allowed only on an alias line");
	return 0;
}

/* REST = NAME | "alias " NAME " @" TARGET " " OSTART "-" OEND; then [disabled], {FLAGS}. */
static int parse_rest(struct cursor *c, struct printing *p)
{
	struct importer *im = c->im;
	const char *r = c->s + c->i;
	size_t n = c->n - c->i;
	unsigned long base = c->i + 1; /* column of r[0] */
	unsigned long annot_col = 0;

	if (n && r[n - 1] == '}') {
		size_t j = n - 1;

		while (j > 0 && !(r[j - 1] == ' ' && r[j] == '{'))
			j--;
		if (j > 0 && annotation_chars(r + j + 1, n - 1 - (j + 1))) {
			int rc;

			annot_col = base + j;
			rc = parse_annotations(im, p, r + j + 1, n - 1 - (j + 1), annot_col + 1);
			if (rc < 0)
				return rc;
			n = j - 1;
		}
	}
	if (has_suffix(r, n, " [disabled]")) {
		p->disabled = true;
		n -= 11;
	}
	/* The alias form: "alias " NAME " @" TARGET " " 16hex "-" 16hex. */
	if (has_prefix(r, n, "alias ") && n >= 6 + 2 + 34 && r[n - 34] == ' ' && r[n - 17] == '-') {
		uint64_t ostart, oend;
		size_t at;

		if (hex16(r + n - 33, 16, &ostart) == 16 && hex16(r + n - 16, 16, &oend) == 16) {
			for (at = n - 34; at >= 7; at--)
				if (r[at - 1] == ' ' && r[at] == '@')
					break;
			if (at >= 7) {
				uint64_t last = p->size == MS_SIZE_2_64 ? UINT64_MAX : p->size - 1;

				p->is_alias = true;
				p->name = r + 6;
				p->name_len = at - 1 - 6;
				p->name_col = base + 6;
				p->target = r + at + 1;
				p->target_len = n - 34 - (at + 1);
				p->target_col = base + at + 1;
				p->alias_offset = ostart;
				if (oend != ostart + last)
					return fail(
						im, p->line, base + n - 16,
						"alias window ends at %016llx, expected %016llx "
						"(start + region size - 1)",
						(unsigned long long)oend,
						(unsigned long long)(ostart + last));
			}
		}
	}
	if (!p->is_alias) {
		p->name = r;
		p->name_len = n;
		p->name_col = base;
		if (n == 0)
			return fail(im, p->line, base, "empty region name");
	}
	return check_annotations(im, p, annot_col);
}

static int add_printing(struct importer *im, size_t *out)
{
	if (grow((void **)&im->pr, &im->cap_pr, im->nr_pr + 1, sizeof(*im->pr)) < 0)
		return fail_nomem(im);
	*out = im->nr_pr++;
	memset(&im->pr[*out], 0, sizeof(im->pr[*out]));
	return 0;
}

/* A tree line of block @b; @prev is the previous printing of the block or NONE. */
static int parse_tree_line(struct importer *im, const char *s, size_t n, unsigned long line,
			   size_t b, size_t *prev)
{
	struct cursor c = {im, s, n, 0, line};
	struct printing *p;
	size_t idx = NONE, spaces = 0, depth, parent = NONE;
	bool overflow = false;
	uint64_t end, parent_start = 0, diff;
	int rc;

	if (has_prefix(s, n, "[DETECTED OVERFLOW!] ")) {
		overflow = true;
		c.i = 21;
	}
	while (c.i + spaces < n && s[c.i + spaces] == ' ')
		spaces++;
	if (spaces == 0)
		return fail(
			im, line, c.i + 1,
			"expected a tree line indented by 2 spaces per level, or an empty line");
	if (spaces % 2)
		return fail(im, line, c.i + 1, "odd indentation (%zu spaces): 2 spaces per level",
			    spaces);
	depth = spaces / 2;
	if (*prev == NONE) {
		if (depth != 1)
			return fail(im, line, c.i + 1,
				    "the top line of a block must be indented by 2 spaces");
	} else {
		size_t up = *prev;

		if (depth == 1)
			return fail(
				im, line, c.i + 1,
				"second top line in one block (a block prints one region tree)");
		if (depth > im->pr[up].depth + 1)
			return fail(im, line, c.i + 1,
				    "indentation jumps from level %zu to level %zu",
				    im->pr[up].depth, depth);
		if (depth > MAX_DEPTH)
			return fail(im, line, c.i + 1, "tree nested deeper than %d levels",
				    MAX_DEPTH);
		while (im->pr[up].depth >= depth)
			up = im->pr[up].parent;
		parent = up;
		if (im->pr[parent].is_alias)
			return fail(im, line, c.i + 1,
				    "an alias line cannot have children (alias targets are printed "
				    "as memory-region trailers)");
		parent_start = im->pr[parent].start;
	}
	c.i += spaces;
	rc = add_printing(im, &idx);
	if (rc < 0)
		return rc;
	p = &im->pr[idx];
	p->line = line;
	p->depth = depth;
	p->parent = parent;
	p->block = b;
	p->first_child = p->last_child = p->next_sibling = NONE;
	if ((rc = expect_hex(&c, &p->start, "the start address")) < 0 ||
	    (rc = expect(&c, "-", "'-' after the start address")) < 0 ||
	    (rc = expect_hex(&c, &end, "the end address")) < 0 ||
	    (rc = expect(&c, " (prio ", "' (prio '")) < 0 ||
	    (rc = parse_priority(&c, &p->priority)) < 0 ||
	    (rc = expect(&c, ", ", "', ' after the priority")) < 0 || (rc = parse_kind(&c, p)) < 0)
		return rc;
	diff = end - p->start;
	if (diff == UINT64_MAX - 1)
		return fail(im, line, 1, "a size of 2^64-1 cannot be represented");
	p->size = diff == UINT64_MAX ? MS_SIZE_2_64 : diff + 1;
	p->addr = p->start - parent_start;
	if (overflow != (p->start < parent_start || end < p->start))
		return fail(im, line, 1,
			    overflow
				    ? "'[DETECTED OVERFLOW!]' on a region that does not wrap"
				    : "missing '[DETECTED OVERFLOW!]': the region wraps past 2^64");
	rc = parse_rest(&c, p);
	if (rc < 0)
		return rc;
	if (p->as_k && (parent != NONE || !im->blk[b].trailer))
		return fail(im, line, p->as_kcol,
			    "'as=' is allowed only on the top line of a memory-region trailer");
	if (parent != NONE) {
		struct printing *pp = &im->pr[parent];

		if (pp->last_child == NONE)
			pp->first_child = idx;
		else
			im->pr[pp->last_child].next_sibling = idx;
		pp->last_child = idx;
		pp->nr_children++;
	} else {
		struct block *bk = &im->blk[b];

		bk->top = idx;
		if (bk->trailer &&
		    (bk->name_len != p->name_len || memcmp(bk->name, p->name, p->name_len) != 0))
			return fail(im, line, p->name_col,
				    "the tree of memory-region %s starts with region %s",
				    quote(im, 0, bk->name, bk->name_len), qname(im, 1, p));
	}
	*prev = idx;
	return 0;
}

static int parse(struct importer *im)
{
	enum {
		BETWEEN,
		HEADER,
		TREE
	} state = BETWEEN;
	size_t pos = 0, prev = NONE;
	unsigned long line = 0, end_line, end_col;
	size_t last_len = 0; /* bytes of the last line read */
	bool ended_nl = true; /* the input is empty or ends with a newline */
	bool seen_trailer = false;
	int rc;

	while (pos < im->len) {
		const char *s = im->text + pos;
		const char *nl = memchr(s, '\n', im->len - pos);
		size_t n = nl ? (size_t)(nl - s) : im->len - pos;
		const char *nul;

		pos += n + (nl ? 1 : 0);
		line++;
		last_len = n;
		ended_nl = nl != NULL;
		nul = memchr(s, '\0', n);
		if (nul)
			return fail(im, line, (unsigned long)(nul - s) + 1,
				    "NUL byte in the input");
		if (n && s[n - 1] == '\r')
			n--;
		if (n == 0) {
			if (state == HEADER)
				return fail(im, line, 1, "expected the region tree of the block");
			state = BETWEEN;
			continue;
		}
		if (has_prefix(s, n, "address-space: ") || has_prefix(s, n, "memory-region: ")) {
			bool trailer = s[0] == 'm';
			struct block *bk;

			if (state == TREE)
				return fail(
					im, line, 1,
					"expected a tree line; a new block starts after an empty line");
			if (state == HEADER && (trailer || im->blk[im->nr_blk - 1].trailer))
				return fail(im, line, 1,
					    "expected the region tree after 'memory-region: NAME'");
			if (!trailer && seen_trailer)
				return fail(im, line, 1,
					    "address-space block after a memory-region trailer");
			if (state == BETWEEN) {
				if (grow((void **)&im->blk, &im->cap_blk, im->nr_blk + 1,
					 sizeof(*im->blk)) < 0)
					return fail_nomem(im);
				bk = &im->blk[im->nr_blk++];
				memset(bk, 0, sizeof(*bk));
				bk->trailer = trailer;
				bk->line = line;
				bk->top = NONE;
				bk->first_name = im->nr_names;
				if (trailer) {
					bk->name = s + 15;
					bk->name_len = n - 15;
					bk->name_col = 16;
					seen_trailer = true;
				}
				state = HEADER;
				prev = NONE;
			}
			if (!trailer) {
				if (grow((void **)&im->names, &im->cap_names, im->nr_names + 1,
					 sizeof(*im->names)) < 0)
					return fail_nomem(im);
				im->names[im->nr_names].name = s + 15;
				im->names[im->nr_names].len = n - 15;
				im->names[im->nr_names].line = line;
				im->nr_names++;
				im->blk[im->nr_blk - 1].nr_names++;
			}
			continue;
		}
		if (state == BETWEEN)
			return fail(im, line, 1,
				    "expected 'address-space: NAME' or 'memory-region: NAME'");
		rc = parse_tree_line(im, s, n, line, im->nr_blk - 1, &prev);
		if (rc < 0)
			return rc;
		state = TREE;
	}
	/* The end of the input: the start of the line after a final newline,
	 * else just past the last line's last byte. */
	end_line = ended_nl ? line + 1 : line;
	end_col = ended_nl ? 1 : (unsigned long)last_len + 1;
	if (state == HEADER)
		return fail(im, end_line, end_col, "unexpected end of input: expected the region tree");
	if (im->nr_blk == 0)
		return fail(im, end_line, end_col, "no 'address-space:' block in the input");
	return 0;
}

/* ---- pass 2: identity ---------------------------------------------------- */

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdull;
}

static uint64_t hash_bytes(uint64_t h, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
	return mix(h, n);
}

/* Position-independent printed subtree hash; children's classes are known. */
static uint64_t printing_hash(const struct importer *im, const struct printing *p)
{
	uint64_t h = hash_bytes(0xcbf29ce484222325ull, p->name, p->name_len);
	size_t ch;

	h = mix(h, p->addr);
	h = mix(h, p->size);
	h = mix(h, (uint64_t)(int64_t)p->priority);
	h = mix(h, (uint64_t)p->kind << 3 | (uint64_t)p->nonvolatile << 2 |
			   (uint64_t)p->disabled << 1 | p->is_alias);
	if (p->is_alias) {
		h = hash_bytes(h, p->target, p->target_len);
		h = mix(h, p->alias_offset);
	}
	for (ch = p->first_child; ch != NONE; ch = im->pr[ch].next_sibling)
		h = mix(h, im->pr[ch].cls);
	return mix(h, p->nr_children);
}

static bool printing_equal(const struct importer *im, const struct printing *a,
			   const struct printing *b)
{
	size_t x, y;

	if (a->name_len != b->name_len || memcmp(a->name, b->name, a->name_len) != 0 ||
	    a->addr != b->addr || a->size != b->size || a->priority != b->priority ||
	    a->kind != b->kind || a->nonvolatile != b->nonvolatile || a->disabled != b->disabled ||
	    a->is_alias != b->is_alias || a->nr_children != b->nr_children)
		return false;
	if (a->is_alias && (a->alias_offset != b->alias_offset || a->target_len != b->target_len ||
			    memcmp(a->target, b->target, a->target_len) != 0))
		return false;
	for (x = a->first_child, y = b->first_child; x != NONE;
	     x = im->pr[x].next_sibling, y = im->pr[y].next_sibling)
		if (im->pr[x].cls != im->pr[y].cls)
			return false;
	return true;
}

/* Hash-cons every printing into a class: equal classes iff equal printed subtrees. */
static int classify(struct importer *im)
{
	size_t cap = 16, i, *table;

	while (cap < im->nr_pr * 2)
		cap *= 2;
	table = malloc(cap * sizeof(*table));
	if (!table)
		return fail_nomem(im);
	for (i = 0; i < cap; i++)
		table[i] = NONE;
	im->nr_cls = 0;
	for (i = im->nr_pr; i-- > 0;) {
		struct printing *p = &im->pr[i];
		size_t slot = (size_t)printing_hash(im, p) & (cap - 1);

		while (table[slot] != NONE && !printing_equal(im, &im->pr[table[slot]], p))
			slot = (slot + 1) & (cap - 1);
		if (table[slot] == NONE) {
			table[slot] = i;
			p->cls = im->nr_cls++;
		} else {
			p->cls = im->pr[table[slot]].cls;
		}
	}
	free(table);
	return 0;
}

static size_t uf_find(struct importer *im, size_t x)
{
	size_t root = x;

	while (im->pr[root].uf != root)
		root = im->pr[root].uf;
	while (im->pr[x].uf != root) {
		size_t next = im->pr[x].uf;

		im->pr[x].uf = root;
		x = next;
	}
	return root;
}

/*
 * Make two equal printings one region, pairing their subtrees line by line.
 * Already-joined printings have their subtrees joined too (every join pairs
 * children), so they stop the walk. Depth <= MAX_DEPTH.
 */
static void join(struct importer *im, size_t a, size_t b)
{
	size_t ra = uf_find(im, a), rb = uf_find(im, b), x, y;

	if (ra == rb)
		return;
	/* The root stays the earliest printing, so regions number in file order. */
	if (ra < rb)
		im->pr[rb].uf = ra;
	else
		im->pr[ra].uf = rb;
	for (x = im->pr[a].first_child, y = im->pr[b].first_child; x != NONE;
	     x = im->pr[x].next_sibling, y = im->pr[y].next_sibling)
		join(im, x, y);
}

/*
 * I4: trailers equal to no nested printing but to address-space roots are
 * those roots. The address-space blocks of class c are as_list[as_start[c]
 * .. as_start[c + 1]) in file order; a trailer with {as=K} is the K-th of
 * them, the others take the first block not yet taken, in file order.
 */
static int pair_trailers(struct importer *im, const size_t *nested_first, const size_t *as_start,
			 const size_t *as_list, size_t *cursor)
{
	size_t *taken_by = malloc((im->nr_blk + 1) * sizeof(*taken_by)), b, pass;
	int rc = 0;

	if (!taken_by)
		return fail_nomem(im);
	for (b = 0; b < im->nr_blk; b++)
		taken_by[b] = NONE;
	/* Pass 0: the trailers that name their block; pass 1: the others. */
	for (pass = 0; pass < 2; pass++) {
		for (b = 0; b < im->nr_blk; b++) {
			const struct printing *top = &im->pr[im->blk[b].top];
			size_t c = top->cls, count = as_start[c + 1] - as_start[c], ab;

			if (!im->blk[b].trailer || (pass == 0) != (top->as_k != 0))
				continue;
			if (pass == 0 && count == 0) {
				rc = fail(
					im, top->line, top->as_kcol,
					"'as=%lu' but no address-space block has the same tree as "
					"memory-region %s",
					top->as_k, qname(im, 0, top));
				goto out;
			}
			if (pass == 0 && top->as_k > count) {
				rc = fail(
					im, top->line, top->as_kcol,
					"'as=%lu' but only %zu address-space block(s) have the same "
					"tree as memory-region %s",
					top->as_k, count, qname(im, 0, top));
				goto out;
			}
			/* A region printed nested is that region (I3), whatever {as=K} says. */
			if (nested_first[c] != NONE)
				continue;
			if (pass == 0) {
				ab = as_list[as_start[c] + top->as_k - 1];
				if (taken_by[ab] != NONE) {
					rc = fail(
						im, top->line, top->as_kcol,
						"'as=%lu' names the address-space block on line %lu, "
						"but the memory-region trailer on line %lu is already "
						"its root",
						top->as_k, im->blk[ab].line,
						im->blk[taken_by[ab]].line);
					goto out;
				}
			} else {
				while (cursor[c] < as_start[c + 1] &&
				       taken_by[as_list[cursor[c]]] != NONE)
					cursor[c]++;
				if (cursor[c] == as_start[c + 1])
					continue; /* every such root is taken: a region of its own */
				ab = as_list[cursor[c]++];
			}
			taken_by[ab] = b;
			join(im, im->blk[b].top, im->blk[ab].top);
		}
	}
out:
	free(taken_by);
	return rc;
}

static int identify(struct importer *im)
{
	size_t *nested_first, *next_same, *as_start, *as_list, *cursor, i, b;
	bool *nested_joined;
	int rc = 0;

	nested_first = malloc(im->nr_cls * sizeof(*nested_first));
	next_same = malloc(im->nr_pr * sizeof(*next_same));
	as_start = calloc(im->nr_cls + 1, sizeof(*as_start));
	as_list = malloc((im->nr_blk + 1) * sizeof(*as_list));
	cursor = malloc((im->nr_cls + 1) * sizeof(*cursor));
	nested_joined = calloc(im->nr_cls, sizeof(*nested_joined));
	if (!nested_first || !next_same || !as_start || !as_list || !cursor || !nested_joined) {
		rc = fail_nomem(im);
		goto out;
	}
	for (i = 0; i < im->nr_cls; i++)
		nested_first[i] = NONE;
	for (i = 0; i < im->nr_pr; i++)
		im->pr[i].uf = i;
	/* Lists of nested printings per class. */
	for (i = im->nr_pr; i-- > 0;) {
		if (im->pr[i].parent == NONE)
			continue;
		next_same[i] = nested_first[im->pr[i].cls];
		nested_first[im->pr[i].cls] = i;
	}
	/* Address-space blocks per class, in file order (a counting sort). */
	for (b = 0; b < im->nr_blk; b++)
		if (!im->blk[b].trailer)
			as_start[im->pr[im->blk[b].top].cls + 1]++;
	for (i = 0; i < im->nr_cls; i++) {
		as_start[i + 1] += as_start[i];
		cursor[i] = as_start[i];
	}
	for (b = 0; b < im->nr_blk; b++)
		if (!im->blk[b].trailer)
			as_list[cursor[im->pr[im->blk[b].top].cls]++] = b;
	for (i = 0; i < im->nr_cls; i++)
		cursor[i] = as_start[i];
	/* I3: a block top equal to a nested printing is that region (and so are all of them). */
	for (b = 0; b < im->nr_blk; b++) {
		size_t top = im->blk[b].top, c = im->pr[top].cls, n;

		if (nested_first[c] == NONE)
			continue;
		if (!nested_joined[c]) {
			for (n = next_same[nested_first[c]]; n != NONE; n = next_same[n])
				join(im, nested_first[c], n);
			nested_joined[c] = true;
		}
		join(im, top, nested_first[c]);
	}
	rc = pair_trailers(im, nested_first, as_start, as_list, cursor);
out:
	free(nested_first);
	free(next_same);
	free(as_start);
	free(as_list);
	free(cursor);
	free(nested_joined);
	return rc;
}

/* ---- pass 3: regions ----------------------------------------------------- */

static int cmp_trailer_name(const struct importer *im, size_t ta, const char *name, size_t len)
{
	const struct block *a = &im->blk[im->trailers[ta]];
	size_t n = a->name_len < len ? a->name_len : len;
	int c = memcmp(a->name, name, n);

	if (c)
		return c;
	return a->name_len < len ? -1 : a->name_len > len;
}

/* Sort trailer numbers by (name, file order): insertion into a merge sort. */
static void sort_by_name(struct importer *im, size_t *v, size_t *tmp, size_t n)
{
	size_t mid = n / 2, i = 0, j = mid, k = 0;

	if (n < 2)
		return;
	sort_by_name(im, v, tmp, mid);
	sort_by_name(im, v + mid, tmp, n - mid);
	while (i < mid && j < n) {
		const struct block *b = &im->blk[im->trailers[v[j]]];

		if (cmp_trailer_name(im, v[i], b->name, b->name_len) <= 0)
			tmp[k++] = v[i++];
		else
			tmp[k++] = v[j++];
	}
	while (i < mid)
		tmp[k++] = v[i++];
	while (j < n)
		tmp[k++] = v[j++];
	memcpy(v, tmp, n * sizeof(*v));
}

/* The K-th trailer (1-based, file order) named @name: its trailer number, or NONE; *count = how many. */
static size_t find_trailer(const struct importer *im, const char *name, size_t len, unsigned long k,
			   size_t *count)
{
	size_t lo = 0, hi = im->nr_trailers, first, n = 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cmp_trailer_name(im, im->by_name[mid], name, len) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	first = lo;
	while (first + n < im->nr_trailers &&
	       cmp_trailer_name(im, im->by_name[first + n], name, len) == 0)
		n++;
	*count = n;
	return k >= 1 && k <= n ? im->by_name[first + k - 1] : NONE;
}

static int build_regions(struct importer *im)
{
	size_t i, t;
	size_t *stamp = NULL, *tmp = NULL;
	int rc = 0;

	/* Regions, numbered by their first printing. */
	for (i = 0; i < im->nr_pr; i++)
		if (uf_find(im, i) == i)
			im->nr_rg++;
	im->rg = calloc(im->nr_rg ? im->nr_rg : 1, sizeof(*im->rg));
	im->trailers = malloc((im->nr_blk + 1) * sizeof(*im->trailers));
	im->by_name = malloc((im->nr_blk + 1) * sizeof(*im->by_name));
	tmp = malloc((im->nr_blk + 1) * sizeof(*tmp));
	stamp = malloc((im->nr_rg + 1) * sizeof(*stamp));
	if (!im->rg || !im->trailers || !im->by_name || !tmp || !stamp) {
		rc = fail_nomem(im);
		goto out;
	}
	im->nr_rg = 0;
	for (i = 0; i < im->nr_pr; i++) {
		struct printing *p = &im->pr[i];
		struct region *r;

		if (uf_find(im, i) == i) {
			r = &im->rg[im->nr_rg];
			r->rep = i;
			r->container = r->target = r->trailer = r->as_block = NONE;
			r->target_k_pr = r->container_pr = NONE;
			r->walk = NONE;
			p->region = im->nr_rg++;
		} else {
			p->region = im->pr[uf_find(im, i)].region;
		}
		r = &im->rg[p->region];
		r->flags |= p->flags;
		if (p->target_k) {
			if (r->target_k && r->target_k != p->target_k) {
				rc = fail(
					im, p->line, p->target_kcol,
					"'target=%lu' conflicts with 'target=%lu' on line %lu for "
					"the same region",
					p->target_k, r->target_k, im->pr[r->target_k_pr].line);
				goto out;
			}
			r->target_k = p->target_k;
			r->target_k_pr = i;
		}
		if (p->parent != NONE) {
			size_t c = im->pr[p->parent].region;

			if (r->container == NONE) {
				r->container = c;
				r->container_pr = i;
			} else if (r->container != c) {
				rc = fail(im, p->line, p->name_col,
					  "region %s is inside %s here but inside %s on line %lu",
					  qname(im, 0, p), qname(im, 1, &im->pr[im->rg[c].rep]),
					  qname(im, 2, &im->pr[im->rg[r->container].rep]),
					  im->pr[r->container_pr].line);
				goto out;
			}
		}
	}
	/* No region twice in one container. */
	for (i = 0; i < im->nr_rg; i++)
		stamp[i] = NONE;
	for (i = 0; i < im->nr_pr; i++) {
		size_t ch;

		for (ch = im->pr[i].first_child; ch != NONE; ch = im->pr[ch].next_sibling) {
			size_t r = im->pr[ch].region;

			if (stamp[r] == i) {
				rc = fail(im, im->pr[ch].line, im->pr[ch].name_col,
					  "region %s appears twice in %s (identical printings that "
					  "are one region by rule I3)",
					  qname(im, 0, &im->pr[ch]), qname(im, 1, &im->pr[i]));
				goto out;
			}
			stamp[r] = i;
		}
	}
	/* Block tops: distinct trailers and distinct address-space roots. */
	for (i = 0; i < im->nr_blk; i++) {
		const struct block *bk = &im->blk[i];
		struct region *r = &im->rg[im->pr[bk->top].region];

		if (bk->trailer) {
			if (r->trailer != NONE) {
				rc = fail(
					im, bk->line, 1,
					"this memory-region trailer is the same region as the trailer "
					"on line %lu",
					im->blk[im->trailers[r->trailer]].line);
				goto out;
			}
			r->trailer = im->nr_trailers;
			im->trailers[im->nr_trailers++] = i;
		} else {
			if (r->as_block != NONE) {
				rc = fail(
					im, bk->line, 1,
					"this address-space block has the same root region as the "
					"block on line %lu",
					im->blk[r->as_block].line);
				goto out;
			}
			r->as_block = i;
		}
	}
	for (t = 0; t < im->nr_trailers; t++)
		im->by_name[t] = t;
	sort_by_name(im, im->by_name, tmp, im->nr_trailers);
out:
	free(stamp);
	free(tmp);
	return rc;
}

/* I6: alias targets, the trailer queue order, alias cycles, printed kinds. */
static int resolve_aliases(struct importer *im)
{
	unsigned long *first_use;
	size_t i, t, w;
	int rc = 0;

	for (i = 0; i < im->nr_rg; i++) {
		struct region *r = &im->rg[i];
		const struct printing *p = &im->pr[r->rep];
		unsigned long k = r->target_k ? r->target_k : 1;
		size_t count;

		if (!p->is_alias)
			continue;
		t = find_trailer(im, p->target, p->target_len, k, &count);
		if (count == 0)
			return fail(
				im, p->line, p->target_col,
				"unknown alias target %s: no memory-region trailer has that name",
				quote(im, 0, p->target, p->target_len));
		if (t == NONE)
			return fail(
				im, im->pr[r->target_k_pr].line, im->pr[r->target_k_pr].target_kcol,
				"'target=%lu' but only %zu memory-region trailer(s) are named %s",
				k, count, quote(im, 0, p->target, p->target_len));
		r->target = im->pr[im->blk[im->trailers[t]].top].region;
	}
	/* Alias chains end (the target of an alias is fixed, so a loop never renders). */
	for (i = 0; i < im->nr_rg; i++) {
		size_t r = i;

		while (im->pr[im->rg[r].rep].is_alias && im->rg[r].walk == NONE) {
			im->rg[r].walk = i;
			r = im->rg[r].target;
		}
		if (im->pr[im->rg[r].rep].is_alias && im->rg[r].walk == i)
			return fail(im, im->pr[im->rg[r].rep].line,
				    im->pr[im->rg[r].rep].target_col,
				    "alias %s leads back to itself through its targets",
				    qname(im, 0, &im->pr[im->rg[r].rep]));
	}
	/* Queue order: trailers are printed in the order aliases first reach them. */
	first_use = calloc(im->nr_trailers + 1, sizeof(*first_use));
	if (!first_use)
		return fail_nomem(im);
	for (i = 0; i < im->nr_pr; i++) {
		const struct printing *p = &im->pr[i];

		if (!p->is_alias)
			continue;
		t = im->rg[im->rg[p->region].target].trailer;
		if (!first_use[t])
			first_use[t] = p->line;
	}
	for (t = 0; t < im->nr_trailers; t++) {
		const struct block *bk = &im->blk[im->trailers[t]];

		if (!first_use[t]) {
			rc = fail(im, bk->line, 1,
				  "memory-region %s is the target of no alias (QEMU prints only "
				  "alias targets)",
				  quote(im, 0, bk->name, bk->name_len));
			goto out;
		}
		if (first_use[t] > bk->line) {
			rc = fail(im, bk->line, 1,
				  "memory-region %s is printed before the first alias that reaches "
				  "it (line %lu); check the {target=K} annotations",
				  quote(im, 0, bk->name, bk->name_len), first_use[t]);
			goto out;
		}
		if (t > 0 && first_use[t] < first_use[t - 1]) {
			const struct block *pb = &im->blk[im->trailers[t - 1]];

			rc = fail(
				im, first_use[t], 1,
				"this alias is the first to reach memory-region %s (line %lu), but "
				"%s printed before it (line %lu) is first reached later (line %lu); "
				"check the {target=K} annotations",
				quote(im, 0, bk->name, bk->name_len), bk->line,
				quote(im, 1, pb->name, pb->name_len), pb->line, first_use[t - 1]);
			goto out;
		}
	}
	/* An alias prints the kind at the end of its target chain. */
	for (i = 0; i < im->nr_pr; i++) {
		const struct printing *p = &im->pr[i];
		size_t r = p->region;

		if (!p->is_alias)
			continue;
		for (w = 0; im->pr[im->rg[r].rep].is_alias && w <= im->nr_rg; w++)
			r = im->rg[r].target;
		if (im->pr[im->rg[r].rep].kind != p->kind)
			warn(im, p->line, p->target_col,
			     "alias %s prints kind '%s' but its target chain ends in %s of kind "
			     "'%s' (wrong {target=K}?)",
			     qname(im, 0, p), kind_names[p->kind],
			     qname(im, 1, &im->pr[im->rg[r].rep]),
			     kind_names[im->pr[im->rg[r].rep].kind]);
	}
out:
	free(first_use);
	return rc;
}

/* ---- pass 4: building ---------------------------------------------------- */

static uint64_t romd_read(uint64_t addr, unsigned size, void *opaque)
{
	(void)addr;
	(void)size;
	(void)opaque;
	return 0;
}

static void romd_write(uint64_t addr, uint64_t data, unsigned size, void *opaque)
{
	(void)addr;
	(void)data;
	(void)size;
	(void)opaque;
}

/* ROM devices of a dump: reads come from their RAM (romd mode), writes are dropped. */
static const ms_region_ops romd_ops = {
	.version = MS_REGION_OPS_VERSION,
	.read = romd_read,
	.write = romd_write,
	.endianness = MS_ENDIAN_LITTLE,
};

static const char *errname(int rc)
{
	return rc == -ENOMEM ? "out of memory" : strerror(-rc);
}

static int lib_fail(struct importer *im, const struct printing *p, const char *what, int rc)
{
	fail(im, p->line, p->name_col, "cannot %s region %s: %s", what, qname(im, 0, p),
	     errname(rc));
	return rc;
}

static int add_extra(struct importer *im, ms_region *r)
{
	ms_region **v = realloc(im->extra, (im->nr_extra + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	im->extra = v;
	im->extra[im->nr_extra++] = r;
	return 0;
}

static int create_one(struct importer *im, size_t idx)
{
	struct region *r = &im->rg[idx];
	const struct printing *p = &im->pr[r->rep];
	char *name = malloc(p->name_len + 1);
	ms_region *backing = NULL;
	int rc;

	if (!name)
		return fail_nomem(im);
	memcpy(name, p->name, p->name_len);
	name[p->name_len] = '\0';
	if (p->is_alias) {
		rc = ms_region_new_alias(&r->mr, im->ctx,
					 &(ms_region_alias_opts){.name = name,
								 .target = im->rg[r->target].mr,
								 .offset = p->alias_offset,
								 .size = p->size});
	} else {
		switch (p->kind) {
		case KIND_RAM:
			rc = ms_region_new_ram(&r->mr, im->ctx, name, p->size);
			break;
		case KIND_ROM:
			rc = ms_region_new_rom(&r->mr, im->ctx, name, p->size);
			break;
		case KIND_ROMD:
			rc = ms_region_new_rom_device(&r->mr, im->ctx,
						      &(ms_region_io_opts){.name = name,
									   .size = p->size,
									   .ops = &romd_ops});
			break;
		case KIND_RAMD:
			rc = ms_region_new_ram(&backing, im->ctx, name, p->size);
			if (rc == 0 && (rc = add_extra(im, backing)) < 0)
				ms_region_unref(backing);
			if (rc == 0)
				rc = ms_region_new_ram_device(&r->mr, im->ctx, name, p->size,
							      ms_region_ram_ptr(backing));
			break;
		default:
			if ((r->flags & ANN_CONTAINER) ||
			    (!(r->flags & ANN_IO) && p->nr_children > 0))
				rc = ms_region_new_container(&r->mr, im->ctx, name, p->size);
			else
				rc = ms_region_new_io(&r->mr, im->ctx,
						      &(ms_region_io_opts){.name = name,
									   .size = p->size,
									   .ops = NULL});
			break;
		}
	}
	free(name);
	if (rc < 0)
		return lib_fail(im, p, "create", rc);
	if ((p->disabled && (rc = ms_region_set_enabled(r->mr, false)) < 0) ||
	    ((r->flags & ANN_READONLY) && (rc = ms_region_set_readonly(r->mr, true)) < 0) ||
	    (p->nonvolatile && (rc = ms_region_set_nonvolatile(r->mr, true)) < 0) ||
	    ((r->flags & ANN_UNMERGEABLE) && (rc = ms_region_set_unmergeable(r->mr, true)) < 0))
		return lib_fail(im, p, "configure", rc);
	return 0;
}

static int create_regions(struct importer *im)
{
	size_t i;
	int rc;

	/* Non-aliases first, then each alias after its target (chains are acyclic). */
	for (i = 0; i < im->nr_rg; i++)
		if (!im->pr[im->rg[i].rep].is_alias && (rc = create_one(im, i)) < 0)
			return rc;
	for (i = 0; i < im->nr_rg; i++) {
		while (!im->rg[i].mr) {
			size_t r = i;

			while (!im->rg[im->rg[r].target].mr)
				r = im->rg[r].target;
			if ((rc = create_one(im, r)) < 0)
				return rc;
		}
	}
	return 0;
}

/* A child printing with the keys of its place in the subregion list (rule I8). */
struct list_key {
	int priority;
	uint64_t addr;
	size_t printing; /* printings number in file order, so this is print order */
};

/* Priority descending, then address descending, then print order. */
static int cmp_list_order(const void *pa, const void *pb)
{
	const struct list_key *a = pa, *b = pb;

	if (a->priority != b->priority)
		return a->priority > b->priority ? -1 : 1;
	if (a->addr != b->addr)
		return a->addr > b->addr ? -1 : 1;
	return a->printing < b->printing ? -1 : a->printing > b->printing;
}

static int place_regions(struct importer *im)
{
	size_t i;
	int rc;

	for (i = 0; i < im->nr_rg; i++) {
		struct region *r = &im->rg[i];
		const struct printing *p = &im->pr[r->rep];
		struct list_key *kids;
		size_t ch, nr = 0;

		if (r->container == NONE) {
			/*
			 * A top region without printed container: its address shows on
			 * the top line; a priority other than 0 means QEMU had it in a
			 * container that is not printed, so give it one.
			 */
			if (p->priority != 0) {
				ms_region *hidden;

				rc = ms_region_new_container(&hidden, im->ctx,
							     "(container not in the dump)",
							     MS_SIZE_2_64);
				if (rc < 0)
					return lib_fail(im, p, "place", rc);
				if ((rc = add_extra(im, hidden)) < 0) {
					ms_region_unref(hidden);
					return fail_nomem(im);
				}
				rc = ms_region_add_subregion_overlap(hidden, p->addr, r->mr,
								     p->priority);
			} else {
				rc = ms_region_set_address(r->mr, p->addr);
			}
			if (rc < 0)
				return lib_fail(im, p, "place", rc);
		}
		if (!p->nr_children)
			continue;
		/*
		 * I8: the list order is priority descending, then address
		 * descending, then print order. A child goes before the siblings of
		 * its priority that are already in the list, so adding the children
		 * in the reverse of that order rebuilds it.
		 */
		kids = malloc(p->nr_children * sizeof(*kids));
		if (!kids)
			return fail_nomem(im);
		for (ch = p->first_child; ch != NONE; ch = im->pr[ch].next_sibling) {
			kids[nr].priority = im->pr[ch].priority;
			kids[nr].addr = im->pr[ch].addr;
			kids[nr].printing = ch;
			nr++;
		}
		qsort(kids, nr, sizeof(*kids), cmp_list_order);
		while (nr-- > 0) {
			const struct printing *k = &im->pr[kids[nr].printing];
			struct region *kr = &im->rg[k->region];

			rc = ms_region_add_subregion_overlap(r->mr, k->addr, kr->mr, k->priority);
			if (rc < 0) {
				free(kids);
				return lib_fail(im, k, "place", rc);
			}
			kr->added = true;
		}
		free(kids);
	}
	return 0;
}

static int create_address_spaces(struct importer *im)
{
	size_t b, j;
	int rc;

	im->as = malloc((im->nr_names + 1) * sizeof(*im->as));
	if (!im->as)
		return fail_nomem(im);
	for (b = 0; b < im->nr_blk; b++) {
		const struct block *bk = &im->blk[b];
		ms_region *root = im->rg[im->pr[bk->top].region].mr;

		for (j = 0; j < bk->nr_names; j++) {
			const struct as_name *an = &im->names[bk->first_name + j];
			char *name = malloc(an->len + 1);

			if (!name)
				return fail_nomem(im);
			memcpy(name, an->name, an->len);
			name[an->len] = '\0';
			rc = ms_as_new(&im->as[im->nr_as], im->ctx, root, name);
			free(name);
			if (rc == -ELOOP) {
				fail(im, an->line, 16,
				     "address space %s: its view nests deeper than %d regions "
				     "(an alias leads back into its own subtree)",
				     quote(im, 0, an->name, an->len), MS_RENDER_MAX_DEPTH);
				return rc;
			}
			if (rc < 0) {
				fail(im, an->line, 16, "address space %s: %s",
				     quote(im, 0, an->name, an->len), errname(rc));
				return rc;
			}
			im->nr_as++;
		}
	}
	return 0;
}

/* Remove everything the import created from the context. */
static void rollback(struct importer *im)
{
	size_t i;

	if (!im->building)
		return;
	while (im->nr_as > 0)
		ms_as_free(im->as[--im->nr_as]);
	ms_transaction_begin(im->ctx);
	for (i = 0; i < im->nr_rg; i++) {
		struct region *r = &im->rg[i];

		if (r->mr && ms_region_container(r->mr))
			ms_region_del_subregion(ms_region_container(r->mr), r->mr);
	}
	for (i = 0; i < im->nr_rg; i++) {
		ms_region_unref(im->rg[i].mr);
		im->rg[i].mr = NULL;
	}
	while (im->nr_extra > 0)
		ms_region_unref(im->extra[--im->nr_extra]);
	ms_transaction_commit(im->ctx);
}

static int build(struct importer *im)
{
	size_t i;
	int rc;

	im->building = true;
	ms_transaction_begin(im->ctx);
	rc = create_regions(im);
	if (rc == 0)
		rc = place_regions(im);
	if (rc < 0) {
		ms_transaction_commit(im->ctx);
		return rc;
	}
	rc = ms_transaction_commit(im->ctx);
	if (rc < 0) {
		fail(im, 0, 0, "cannot commit the imported regions: %s", errname(rc));
		return rc;
	}
	rc = create_address_spaces(im);
	if (rc < 0)
		return rc;
	/* Containers, alias targets and address spaces hold every printed region now. */
	for (i = 0; i < im->nr_rg; i++) {
		ms_region_unref(im->rg[i].mr);
		im->rg[i].mr = NULL;
	}
	return 0;
}

/* ---- API ----------------------------------------------------------------- */

static void importer_free(struct importer *im)
{
	free(im->pr);
	free(im->blk);
	free(im->names);
	free(im->trailers);
	free(im->by_name);
	free(im->rg);
	free(im->extra);
	free(im->as);
}

int msc_mtree_import(msc_mtree **out, msc_mtree_diag *err, ms_ctx *ctx, const char *text,
		     size_t len, msc_mtree_warn_fn warn_fn, void *payload)
{
	struct importer im;
	msc_mtree *imp = NULL;
	int rc;

	if (out)
		*out = NULL;
	memset(&im, 0, sizeof(im));
	im.ctx = ctx;
	im.text = text;
	im.len = len;
	im.err = err;
	im.warn = warn_fn;
	im.payload = payload;
	if (!out || !ctx || (!text && len))
		return fail(&im, 0, 0, "invalid arguments");
	rc = parse(&im);
	if (rc == 0)
		rc = classify(&im);
	if (rc == 0)
		rc = identify(&im);
	if (rc == 0)
		rc = build_regions(&im);
	if (rc == 0)
		rc = resolve_aliases(&im);
	if (rc == 0) {
		imp = calloc(1, sizeof(*imp));
		if (!imp)
			rc = fail_nomem(&im);
	}
	if (rc == 0)
		rc = build(&im);
	if (rc < 0) {
		rollback(&im);
		free(imp);
		importer_free(&im);
		return rc;
	}
	imp->as = im.as;
	imp->nr_as = im.nr_as;
	im.as = NULL;
	/* The hidden regions stay referenced: the context frees them. */
	im.nr_extra = 0;
	importer_free(&im);
	*out = imp;
	return 0;
}

void msc_mtree_import_free(msc_mtree *imp)
{
	if (!imp)
		return;
	free(imp->as);
	free(imp);
}

size_t msc_mtree_import_nr_as(const msc_mtree *imp)
{
	return imp ? imp->nr_as : 0;
}

ms_as *msc_mtree_import_as(const msc_mtree *imp, size_t index)
{
	return imp && index < imp->nr_as ? imp->as[index] : NULL;
}

ms_as *msc_mtree_import_find_as(const msc_mtree *imp, const char *name)
{
	size_t i;

	if (!imp || !name)
		return NULL;
	for (i = 0; i < imp->nr_as; i++)
		if (strcmp(ms_as_name(imp->as[i]), name) == 0)
			return imp->as[i];
	return NULL;
}
