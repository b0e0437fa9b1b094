/*
 * memspace CLI: tables of names, the one way the tool maps names to things.
 *
 * An msc_name array maps keywords to values ("little" to MS_ENDIAN_LITTLE,
 * ENOENT to "ENOENT"); an msc_table maps the names a script gives to what it
 * created (regions, address spaces, listeners, ...). Names are compared as
 * byte strings of a given length. msc_suggest() finds the closest of a set
 * of candidates for "did you mean" hints; the tables and the command lookup
 * use it.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_CLI_NAMES_H
#define MEMSPACE_CLI_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** struct msc_name - one keyword; a table of them ends with a NULL @name. */
typedef struct msc_name {
	const char *name;
	int value;
} msc_name;

/**
 * msc_name_value - the value of keyword @text (@len bytes) in @names.
 * Return: 0 with *@value set, or -ENOENT.
 */
int msc_name_value(const msc_name *names, const char *text, size_t len, int *value);

/** msc_name_text - the first keyword of @names with @value, else @fallback. */
const char *msc_name_text(const msc_name *names, int value, const char *fallback);

/**
 * msc_name_list - the keywords of @names for a message: "a, b, c", with
 * @last (" or ") instead of the last comma.
 * @buf: where to write (truncated to @size bytes, NUL-terminated).
 * Return: @buf.
 */
const char *msc_name_list(char *buf, size_t size, const msc_name *names, const char *last);

/**
 * struct msc_suggestion - the best candidate so far for a mistyped name.
 * Start from MSC_SUGGESTION_INIT, offer candidates with msc_suggest(); @best
 * stays NULL when none is close enough (an edit distance of at most 1 for
 * names under 4 bytes, else a third of the name's length).
 */
typedef struct msc_suggestion {
	const char *best;
	size_t best_len, best_dist;
} msc_suggestion;

#define MSC_SUGGESTION_INIT       \
	{                         \
		NULL, 0, SIZE_MAX \
	}

/** msc_suggest - offer @cand (@cand_len bytes) as what @text (@len bytes) meant. */
void msc_suggest(msc_suggestion *sg, const char *text, size_t len, const char *cand,
		 size_t cand_len);

/* One name of an msc_table and the thing it names. */
struct msc_table_entry {
	char *name; /* the table's NUL-terminated copy */
	size_t len;
	void *item;
};

/**
 * struct msc_table - named things, in the order they were added.
 * @swap_remove: removal moves the last entry into the gap instead of
 * keeping the order (the order `list` shows).
 *
 * The table owns the names, not the items. Lookups are linear: sessions
 * bound every table (script.h's limits).
 */
typedef struct msc_table {
	struct msc_table_entry *entries;
	size_t nr, cap;
	bool swap_remove;
} msc_table;

/**
 * msc_table_add - add @item under the name @text (@len bytes, no NUL).
 * The caller has checked that the name is new.
 * Return: the table's copy of the name (valid until the entry is removed),
 * or NULL when out of memory (nothing changed).
 */
const char *msc_table_add(msc_table *t, const char *text, size_t len, void *item);

/** msc_table_find - the index of the entry named @text (@len bytes), or SIZE_MAX. */
size_t msc_table_find(const msc_table *t, const char *text, size_t len);

/** msc_table_lookup - the item named @text (@len bytes), or NULL. */
void *msc_table_lookup(const msc_table *t, const char *text, size_t len);

/** msc_table_index_of - the index of the entry holding @item, or SIZE_MAX. */
size_t msc_table_index_of(const msc_table *t, const void *item);

/** msc_table_item - the item of entry @i (< t->nr). */
static inline void *msc_table_item(const msc_table *t, size_t i)
{
	return t->entries[i].item;
}

/** msc_table_name - the name of entry @i (< t->nr). */
static inline const char *msc_table_name(const msc_table *t, size_t i)
{
	return t->entries[i].name;
}

/** msc_table_remove - remove entry @i (< t->nr), free its name; return its item. */
void *msc_table_remove(msc_table *t, size_t i);

/** msc_table_suggest - the name in @t closest to @text (@len bytes), or NULL. */
const char *msc_table_suggest(const msc_table *t, const char *text, size_t len);

/** msc_table_free - free the names and the array (not the items); empty again. */
void msc_table_free(msc_table *t);

#endif /* MEMSPACE_CLI_NAMES_H */
