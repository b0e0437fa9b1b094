/*
 * memspace CLI, mtree importer passes 2 and 3: which printings are one region.
 *
 * Pass 2 (rules I3, I4) hash-conses printed subtrees position-independently
 * into classes, then unions printings that are one region: nested printings
 * of one class, block tops equal to them, and trailers paired with
 * address-space roots ({as=K}, else file order). A union always pairs the two
 * subtrees line by line, so two printings of one region have their children
 * pairwise in one region. Pass 3 gives each region its properties and
 * container, resolves alias targets against the trailers ({target=K}, rule
 * I6), checks the trailers' queue order and rejects alias cycles.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mtree_import_int.h"

#include <stdlib.h>
#include <string.h>

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
int msc_mtree_classify(struct importer *im)
{
	size_t cap = 16, i, *table;

	while (cap < im->nr_pr * 2)
		cap *= 2;
	table = malloc(cap * sizeof(*table));
	if (!table)
		return msc_mtree_nomem(im);
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
		return msc_mtree_nomem(im);
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
				rc = msc_mtree_fail(
					im, top->line, top->as_kcol,
					"'as=%lu' but no address-space block has the same tree as "
					"memory-region %s",
					top->as_k, msc_mtree_qname(im, 0, top));
				goto out;
			}
			if (pass == 0 && top->as_k > count) {
				rc = msc_mtree_fail(
					im, top->line, top->as_kcol,
					"'as=%lu' but only %zu address-space block(s) have the same "
					"tree as memory-region %s",
					top->as_k, count, msc_mtree_qname(im, 0, top));
				goto out;
			}
			/* A region printed nested is that region (I3), whatever {as=K} says. */
			if (nested_first[c] != NONE)
				continue;
			if (pass == 0) {
				ab = as_list[as_start[c] + top->as_k - 1];
				if (taken_by[ab] != NONE) {
					rc = msc_mtree_fail(
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

int msc_mtree_identify(struct importer *im)
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
		rc = msc_mtree_nomem(im);
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

int msc_mtree_build_regions(struct importer *im)
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
		rc = msc_mtree_nomem(im);
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
				rc = msc_mtree_fail(
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
				rc = msc_mtree_fail(
					im, p->line, p->name_col,
					"region %s is inside %s here but inside %s on line %lu",
					msc_mtree_qname(im, 0, p),
					msc_mtree_qname(im, 1, &im->pr[im->rg[c].rep]),
					msc_mtree_qname(im, 2, &im->pr[im->rg[r->container].rep]),
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
				rc = msc_mtree_fail(
					im, im->pr[ch].line, im->pr[ch].name_col,
					"region %s appears twice in %s (printings with identical "
					"subtrees are one region)",
					msc_mtree_qname(im, 0, &im->pr[ch]),
					msc_mtree_qname(im, 1, &im->pr[i]));
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
				rc = msc_mtree_fail(
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
				rc = msc_mtree_fail(
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
int msc_mtree_resolve_aliases(struct importer *im)
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
			return msc_mtree_fail(
				im, p->line, p->target_col,
				"unknown alias target %s: no memory-region trailer has that name",
				msc_mtree_quote(im, 0, p->target, p->target_len));
		if (t == NONE)
			return msc_mtree_fail(
				im, im->pr[r->target_k_pr].line, im->pr[r->target_k_pr].target_kcol,
				"'target=%lu' but only %zu memory-region trailer(s) are named %s",
				k, count, msc_mtree_quote(im, 0, p->target, p->target_len));
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
			return msc_mtree_fail(im, im->pr[im->rg[r].rep].line,
					      im->pr[im->rg[r].rep].target_col,
					      "alias %s leads back to itself through its targets",
					      msc_mtree_qname(im, 0, &im->pr[im->rg[r].rep]));
	}
	/* Queue order: trailers are printed in the order aliases first reach them. */
	first_use = calloc(im->nr_trailers + 1, sizeof(*first_use));
	if (!first_use)
		return msc_mtree_nomem(im);
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
			rc = msc_mtree_fail(
				im, bk->line, 1,
				"memory-region %s is the target of no alias (QEMU prints only "
				"alias targets)",
				msc_mtree_quote(im, 0, bk->name, bk->name_len));
			goto out;
		}
		if (first_use[t] > bk->line) {
			rc = msc_mtree_fail(
				im, bk->line, 1,
				"memory-region %s is printed before the first alias that reaches "
				"it (line %lu); check the {target=K} annotations",
				msc_mtree_quote(im, 0, bk->name, bk->name_len), first_use[t]);
			goto out;
		}
		if (t > 0 && first_use[t] < first_use[t - 1]) {
			const struct block *pb = &im->blk[im->trailers[t - 1]];

			rc = msc_mtree_fail(
				im, first_use[t], 1,
				"this alias is the first to reach memory-region %s (line %lu), but "
				"%s printed before it (line %lu) is first reached later (line %lu); "
				"check the {target=K} annotations",
				msc_mtree_quote(im, 0, bk->name, bk->name_len), bk->line,
				msc_mtree_quote(im, 1, pb->name, pb->name_len), pb->line,
				first_use[t - 1]);
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
			msc_mtree_warn(
				im, p->line, p->target_col,
				"alias %s prints kind '%s' but its target chain ends in %s of kind "
				"'%s' (wrong {target=K}?)",
				msc_mtree_qname(im, 0, p), msc_mtree_kind_names[p->kind],
				msc_mtree_qname(im, 1, &im->pr[im->rg[r].rep]),
				msc_mtree_kind_names[im->pr[im->rg[r].rep].kind]);
	}
out:
	free(first_use);
	return rc;
}
