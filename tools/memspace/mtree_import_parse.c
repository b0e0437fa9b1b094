/*
 * memspace CLI, mtree importer pass 1: the lexer and the annotation parser.
 *
 * Splits the dump into blocks (`address-space:` headers, `memory-region:`
 * trailers) and tree lines, and each tree line into one printing: addresses,
 * priority, kind, name or alias window, [disabled] and the {...} annotations.
 * Every check that needs only the line and its parent is made here, with the
 * column of the offending byte. Nothing deeper than MAX_DEPTH is accepted.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mtree_import_int.h"

#include <limits.h>
#include <string.h>

#include "buffer.h"

/* The printed name of each kind, indexed by enum kind. */
const char *const msc_mtree_kind_names[5] = {"ram", "rom", "romd", "ramd", "i/o"};

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
			return msc_mtree_fail(c->im, c->line, c->i + j + 1, "expected %s", what);
	c->i += k;
	return 0;
}

static int expect_hex(struct cursor *c, uint64_t *out, const char *what)
{
	size_t bad = hex16(c->s + c->i, c->n - c->i, out);

	if (bad < 16)
		return msc_mtree_fail(c->im, c->line, c->i + bad + 1,
				      "expected %s: 16 lowercase hex digits", what);
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
		return msc_mtree_fail(c->im, c->line, c->i + 1, "expected a decimal priority");
	if (neg)
		v = -v;
	if (v < INT_MIN || v > INT_MAX)
		return msc_mtree_fail(c->im, c->line, col, "priority out of range");
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
		const char *k = msc_mtree_kind_names[order[j]];

		if (has_prefix(c->s + c->i, c->n - c->i, k)) {
			p->kind = order[j];
			c->i += strlen(k);
			return expect(c, "): ", "'): ' after the kind");
		}
	}
	return msc_mtree_fail(c->im, c->line, c->i + 1,
			      "unknown kind: expected ram, rom, romd, ramd or i/o");
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
		return msc_mtree_fail(im, p->line, tcol, "'%.*s=' given twice", key_len, key);
	if (tl == klen || t[klen] == '0')
		return msc_mtree_fail(im, p->line, tcol + klen,
				      "'%.*s=' needs a number K >= 1 without leading zeros",
				      key_len, key);
	for (j = klen; j < tl; j++) {
		if (t[j] < '0' || t[j] > '9')
			return msc_mtree_fail(im, p->line, tcol + j,
					      "'%.*s=' needs a decimal number", key_len, key);
		if (v > 100000000)
			return msc_mtree_fail(im, p->line, tcol + klen, "'%.*s=' number too large",
					      key_len, key);
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
			return msc_mtree_fail(im, p->line, tcol, "empty annotation in '{...}'");
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
			return msc_mtree_fail(
				im, p->line, tcol,
				"unknown annotation %s: expected container, io, readonly, "
				"unmergeable, target=K or as=K",
				msc_mtree_quote(im, 0, t, tl));
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
		return msc_mtree_fail(im, p->line, col, "'container' and 'io' exclude each other");
	if ((p->flags & (ANN_CONTAINER | ANN_IO)) && (p->is_alias || p->kind != KIND_IO))
		return msc_mtree_fail(im, p->line, col,
				      "'%s' is allowed only on a non-alias i/o line",
				      (p->flags & ANN_IO) ? "io" : "container");
	if ((p->flags & ANN_READONLY) && !p->is_alias && p->kind == KIND_RAM)
		return msc_mtree_fail(
			im, p->line, col,
			"'readonly' is not allowed on a ram line (read-only RAM prints as rom)");
	if (p->target_k && !p->is_alias)
		return msc_mtree_fail(im, p->line, p->target_kcol,
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
					return msc_mtree_fail(
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
			return msc_mtree_fail(im, p->line, base, "empty region name");
	}
	return check_annotations(im, p, annot_col);
}

static int add_printing(struct importer *im, size_t *out)
{
	if (msc_grow((void **)&im->pr, &im->cap_pr, im->nr_pr, sizeof(*im->pr), 64) < 0)
		return msc_mtree_nomem(im);
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
		return msc_mtree_fail(
			im, line, c.i + 1,
			"expected a tree line indented by 2 spaces per level, or an empty line");
	if (spaces % 2)
		return msc_mtree_fail(im, line, c.i + 1,
				      "odd indentation (%zu spaces): 2 spaces per level", spaces);
	depth = spaces / 2;
	if (*prev == NONE) {
		if (depth != 1)
			return msc_mtree_fail(
				im, line, c.i + 1,
				"the top line of a block must be indented by 2 spaces");
	} else {
		size_t up = *prev;

		if (depth == 1)
			return msc_mtree_fail(
				im, line, c.i + 1,
				"second top line in one block (a block prints one region tree)");
		if (depth > im->pr[up].depth + 1)
			return msc_mtree_fail(im, line, c.i + 1,
					      "indentation jumps from level %zu to level %zu",
					      im->pr[up].depth, depth);
		if (depth > MAX_DEPTH)
			return msc_mtree_fail(im, line, c.i + 1,
					      "tree nested deeper than %d levels", MAX_DEPTH);
		while (im->pr[up].depth >= depth)
			up = im->pr[up].parent;
		parent = up;
		if (im->pr[parent].is_alias)
			return msc_mtree_fail(
				im, line, c.i + 1,
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
		return msc_mtree_fail(im, line, 1, "a size of 2^64-1 cannot be represented");
	p->size = diff == UINT64_MAX ? MS_SIZE_2_64 : diff + 1;
	p->addr = p->start - parent_start;
	if (overflow != (p->start < parent_start || end < p->start))
		return msc_mtree_fail(
			im, line, 1,
			overflow ? "'[DETECTED OVERFLOW!]' on a region that does not wrap"
				 : "missing '[DETECTED OVERFLOW!]': the region wraps past 2^64");
	rc = parse_rest(&c, p);
	if (rc < 0)
		return rc;
	if (p->as_k && (parent != NONE || !im->blk[b].trailer))
		return msc_mtree_fail(
			im, line, p->as_kcol,
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
			return msc_mtree_fail(im, line, p->name_col,
					      "the tree of memory-region %s starts with region %s",
					      msc_mtree_quote(im, 0, bk->name, bk->name_len),
					      msc_mtree_qname(im, 1, p));
	}
	*prev = idx;
	return 0;
}

int msc_mtree_parse(struct importer *im)
{
	enum {
		BETWEEN,
		HEADER,
		TREE
	} state = BETWEEN;
	size_t pos = 0, prev = NONE;
	unsigned long line = 0, end_line, end_col;
	size_t last_len = 0;  /* bytes of the last line read */
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
			return msc_mtree_fail(im, line, (unsigned long)(nul - s) + 1,
					      "NUL byte in the input");
		if (n && s[n - 1] == '\r')
			n--;
		if (n == 0) {
			if (state == HEADER)
				return msc_mtree_fail(im, line, 1,
						      "expected the region tree of the block");
			state = BETWEEN;
			continue;
		}
		if (has_prefix(s, n, "address-space: ") || has_prefix(s, n, "memory-region: ")) {
			bool trailer = s[0] == 'm';
			struct block *bk;

			if (state == TREE)
				return msc_mtree_fail(
					im, line, 1,
					"expected a tree line; a new block starts after an empty line");
			if (state == HEADER && (trailer || im->blk[im->nr_blk - 1].trailer))
				return msc_mtree_fail(
					im, line, 1,
					"expected the region tree after 'memory-region: NAME'");
			if (!trailer && seen_trailer)
				return msc_mtree_fail(
					im, line, 1,
					"address-space block after a memory-region trailer");
			if (state == BETWEEN) {
				if (msc_grow((void **)&im->blk, &im->cap_blk, im->nr_blk,
					     sizeof(*im->blk), 64) < 0)
					return msc_mtree_nomem(im);
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
				if (msc_grow((void **)&im->names, &im->cap_names, im->nr_names,
					     sizeof(*im->names), 64) < 0)
					return msc_mtree_nomem(im);
				im->names[im->nr_names].name = s + 15;
				im->names[im->nr_names].len = n - 15;
				im->names[im->nr_names].line = line;
				im->nr_names++;
				im->blk[im->nr_blk - 1].nr_names++;
			}
			continue;
		}
		if (state == BETWEEN)
			return msc_mtree_fail(
				im, line, 1,
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
		return msc_mtree_fail(im, end_line, end_col,
				      "unexpected end of input: expected the region tree");
	if (im->nr_blk == 0)
		return msc_mtree_fail(im, end_line, end_col,
				      "no 'address-space:' block in the input");
	return 0;
}
