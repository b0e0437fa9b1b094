/*
 * memspace CLI: tables of names (see names.h).
 *
 * Keyword tables are static arrays searched in order, so when two keywords
 * share a value the first is the one msc_name_text() shows. An msc_table
 * keeps its entries in an array grown by msc_grow(); removing an entry keeps
 * the order of the others unless the table says otherwise.
 *
 * SPDX-License-Identifier: MIT
 */
#include "names.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buffer.h"

static bool same(const char *name, const char *text, size_t len)
{
	return strlen(name) == len && memcmp(name, text, len) == 0;
}

int msc_name_value(const msc_name *names, const char *text, size_t len, int *value)
{
	for (; names->name; names++) {
		if (same(names->name, text, len)) {
			*value = names->value;
			return 0;
		}
	}
	return -ENOENT;
}

const char *msc_name_text(const msc_name *names, int value, const char *fallback)
{
	for (; names->name; names++)
		if (names->value == value)
			return names->name;
	return fallback;
}

const char *msc_name_list(char *buf, size_t size, const msc_name *names, const char *last)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; names[i].name && used < size; i++) {
		const char *sep = i == 0 ? "" : names[i + 1].name ? ", " : last;

		used += (size_t)snprintf(buf + used, size - used, "%s%s", sep, names[i].name);
	}
	return buf;
}

/*
 * Edit distance of two short strings (both at most 64 bytes): the optimal
 * string alignment distance, where inserting, deleting or replacing a letter
 * and swapping two neighbouring letters each cost 1. Counting a swap as one
 * edit matters for typing mistakes: "wirte" is one edit from "write", as
 * "wrte" is. Three rows suffice: a swap looks two rows back.
 */
static size_t distance(const char *a, size_t la, const char *b, size_t lb)
{
	size_t rows[3][65];
	size_t *prev2 = rows[0], *prev = rows[1], *cur = rows[2];

	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t *t;

		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t best = prev[j - 1] + (a[i - 1] != b[j - 1]);

			if (prev[j] + 1 < best)
				best = prev[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    prev2[j - 2] + 1 < best)
				best = prev2[j - 2] + 1;
			cur[j] = best;
		}
		t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	return prev[lb];
}

void msc_suggest(msc_suggestion *sg, const char *text, size_t len, const char *cand,
		 size_t cand_len)
{
	size_t d, limit;

	if (len > 64 || cand_len > 64)
		return;
	d = distance(text, len, cand, cand_len);
	limit = len < 4 ? 1 : len / 3;
	if (d <= limit && d < sg->best_dist) {
		sg->best = cand;
		sg->best_len = cand_len;
		sg->best_dist = d;
	}
}

const char *msc_table_add(msc_table *t, const char *text, size_t len, void *item)
{
	struct msc_table_entry *e;
	char *name;

	if (msc_grow((void **)&t->entries, &t->cap, t->nr, sizeof(*t->entries), 16))
		return NULL;
	name = malloc(len + 1);
	if (!name)
		return NULL;
	memcpy(name, text, len);
	name[len] = '\0';
	e = &t->entries[t->nr++];
	e->name = name;
	e->len = len;
	e->item = item;
	return name;
}

size_t msc_table_find(const msc_table *t, const char *text, size_t len)
{
	for (size_t i = 0; i < t->nr; i++)
		if (t->entries[i].len == len && memcmp(t->entries[i].name, text, len) == 0)
			return i;
	return SIZE_MAX;
}

void *msc_table_lookup(const msc_table *t, const char *text, size_t len)
{
	size_t i = msc_table_find(t, text, len);

	return i == SIZE_MAX ? NULL : t->entries[i].item;
}

size_t msc_table_index_of(const msc_table *t, const void *item)
{
	for (size_t i = 0; i < t->nr; i++)
		if (t->entries[i].item == item)
			return i;
	return SIZE_MAX;
}

void *msc_table_remove(msc_table *t, size_t i)
{
	void *item = t->entries[i].item;

	free(t->entries[i].name);
	t->nr--;
	if (t->swap_remove)
		t->entries[i] = t->entries[t->nr];
	else
		memmove(&t->entries[i], &t->entries[i + 1], (t->nr - i) * sizeof(t->entries[0]));
	return item;
}

const char *msc_table_suggest(const msc_table *t, const char *text, size_t len)
{
	msc_suggestion sg = MSC_SUGGESTION_INIT;

	for (size_t i = 0; i < t->nr; i++)
		msc_suggest(&sg, text, len, t->entries[i].name, t->entries[i].len);
	return sg.best;
}

void msc_table_free(msc_table *t)
{
	for (size_t i = 0; i < t->nr; i++)
		free(t->entries[i].name);
	free(t->entries);
	t->entries = NULL;
	t->nr = t->cap = 0;
}
