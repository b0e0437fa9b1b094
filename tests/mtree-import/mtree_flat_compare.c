/*
 * mtree_flat_compare: compare two `info mtree -f` texts the way
 * ../shared/qemu-mtree/README.md section 5 says: split both into FlatView
 * blocks; a block's key is the sorted list of its ` AS "..."` lines plus its
 * ` Root memory region:` line ("FlatView #N" is ignored); the files must hold
 * the same multiset of (key, remaining lines in order). Block order, AS-line
 * order and numbering are free; everything else must be equal byte for byte.
 *
 *   mtree_flat_compare EXPECTED ACTUAL
 *
 * Exit 0 when equal; 1 with a per-key line diff on stdout otherwise; 2 on
 * usage or I/O errors.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct block {
	char *key;   /* sorted AS lines + root line, '\n'-separated */
	char **body; /* the range lines */
	size_t nr_body;
	int matched;
};

struct text {
	struct block *blocks;
	size_t nr_blocks;
	int stray; /* a non-empty line outside any block */
};

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		fputs("mtree_flat_compare: out of memory\n", stderr);
		exit(2);
	}
	return p;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	size_t n = 0, cap = 4096, got;
	char *buf;

	if (!f) {
		perror(path);
		exit(2);
	}
	buf = xrealloc(NULL, cap);
	while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
		n += got;
		if (cap - n - 1 == 0)
			buf = xrealloc(buf, cap *= 2);
	}
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static void finish_block(struct text *t, char **lines, size_t nr)
{
	struct block *b;
	size_t i, nr_as = 0, keylen = 1;
	char **as = xrealloc(NULL, nr * sizeof(*as));
	const char *root = "(no root line)";

	t->blocks = xrealloc(t->blocks, (t->nr_blocks + 1) * sizeof(*t->blocks));
	b = &t->blocks[t->nr_blocks++];
	memset(b, 0, sizeof(*b));
	b->body = xrealloc(NULL, nr * sizeof(*b->body));
	for (i = 0; i < nr; i++) {
		if (strncmp(lines[i], " AS \"", 5) == 0)
			as[nr_as++] = lines[i];
		else if (strncmp(lines[i], " Root memory region:", 20) == 0 && !b->nr_body)
			root = lines[i];
		else
			b->body[b->nr_body++] = lines[i];
	}
	qsort(as, nr_as, sizeof(*as), cmp_str);
	for (i = 0; i < nr_as; i++)
		keylen += strlen(as[i]) + 1;
	b->key = xrealloc(NULL, keylen + strlen(root) + 1);
	b->key[0] = '\0';
	for (i = 0; i < nr_as; i++) {
		strcat(b->key, as[i]);
		strcat(b->key, "\n");
	}
	strcat(b->key, root);
	free(as);
}

static void parse(struct text *t, char *buf)
{
	char **lines = NULL, *line = buf;
	size_t nr = 0;
	int in_block = 0;

	memset(t, 0, sizeof(*t));
	while (line && *line) {
		char *nl = strchr(line, '\n');

		if (nl)
			*nl = '\0';
		if (strncmp(line, "FlatView #", 10) == 0) {
			if (in_block)
				finish_block(t, lines, nr);
			in_block = 1;
			nr = 0;
		} else if (line[0] == '\0') {
			if (in_block)
				finish_block(t, lines, nr);
			in_block = 0;
		} else if (in_block) {
			lines = xrealloc(lines, (nr + 1) * sizeof(*lines));
			lines[nr++] = line;
		} else {
			printf("stray line outside a FlatView block: %s\n", line);
			t->stray = 1;
		}
		line = nl ? nl + 1 : NULL;
	}
	if (in_block)
		finish_block(t, lines, nr);
	free(lines);
}

static void free_text(struct text *t)
{
	size_t i;

	for (i = 0; i < t->nr_blocks; i++) {
		free(t->blocks[i].key);
		free(t->blocks[i].body);
	}
	free(t->blocks);
}

static int body_equal(const struct block *a, const struct block *b)
{
	size_t i;

	if (a->nr_body != b->nr_body)
		return 0;
	for (i = 0; i < a->nr_body; i++)
		if (strcmp(a->body[i], b->body[i]) != 0)
			return 0;
	return 1;
}

/* A line diff (longest common subsequence) of two block bodies. */
static void diff(const struct block *e, const struct block *a)
{
	size_t n = e->nr_body, m = a->nr_body, i, j;
	size_t *lcs = xrealloc(NULL, (n + 1) * (m + 1) * sizeof(*lcs));

#define L(i, j) lcs[(i) * (m + 1) + (j)]
	for (i = n + 1; i-- > 0;)
		for (j = m + 1; j-- > 0;) {
			if (i == n || j == m)
				L(i, j) = 0;
			else if (strcmp(e->body[i], a->body[j]) == 0)
				L(i, j) = L(i + 1, j + 1) + 1;
			else
				L(i, j) = L(i + 1, j) > L(i, j + 1) ? L(i + 1, j) : L(i, j + 1);
		}
	for (i = 0, j = 0; i < n || j < m;) {
		if (i < n && j < m && strcmp(e->body[i], a->body[j]) == 0) {
			printf(" %s\n", e->body[i]);
			i++;
			j++;
		} else if (j < m && (i == n || L(i, j + 1) >= L(i + 1, j))) {
			printf("+%s\n", a->body[j++]);
		} else {
			printf("-%s\n", e->body[i++]);
		}
	}
#undef L
	free(lcs);
}

int main(int argc, char **argv)
{
	struct text exp, act;
	char *ebuf, *abuf;
	size_t i, j, bad = 0;

	if (argc != 3) {
		fputs("usage: mtree_flat_compare EXPECTED ACTUAL\n", stderr);
		return 2;
	}
	ebuf = read_file(argv[1]);
	abuf = read_file(argv[2]);
	parse(&exp, ebuf);
	parse(&act, abuf);
	/* Pair equal blocks first, then report what is left, key by key. */
	for (i = 0; i < exp.nr_blocks; i++)
		for (j = 0; j < act.nr_blocks; j++)
			if (!act.blocks[j].matched &&
			    strcmp(exp.blocks[i].key, act.blocks[j].key) == 0 &&
			    body_equal(&exp.blocks[i], &act.blocks[j])) {
				exp.blocks[i].matched = act.blocks[j].matched = 1;
				break;
			}
	for (i = 0; i < exp.nr_blocks; i++) {
		struct block *e = &exp.blocks[i];

		if (e->matched)
			continue;
		bad++;
		printf("=== block differs:\n%s\n--- %s\n+++ %s\n", e->key, argv[1], argv[2]);
		for (j = 0; j < act.nr_blocks; j++)
			if (!act.blocks[j].matched && strcmp(e->key, act.blocks[j].key) == 0)
				break;
		if (j < act.nr_blocks) {
			act.blocks[j].matched = 1;
			diff(e, &act.blocks[j]);
		} else {
			printf("(no block with this key in %s)\n", argv[2]);
		}
	}
	for (j = 0; j < act.nr_blocks; j++)
		if (!act.blocks[j].matched) {
			bad++;
			printf("=== unexpected block in %s:\n%s\n", argv[2], act.blocks[j].key);
		}
	if (bad || act.stray || exp.stray)
		printf("mtree_flat_compare: %zu of %zu blocks differ\n", bad, exp.nr_blocks);
	else
		printf("mtree_flat_compare: all %zu blocks match\n", exp.nr_blocks);
	free_text(&exp);
	free_text(&act);
	free(ebuf);
	free(abuf);
	return bad || act.stray || exp.stray ? 1 : 0;
}
