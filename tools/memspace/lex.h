/*
 * memspace CLI: splitting a script line into words, reading numbers, and
 * checking UTF-8 for the writers of JSON and XML.
 *
 * A line is split at unquoted blanks (space, tab, CR, VT, FF). "..." quotes
 * take C-like escapes (\\ \" \n \t \r \0 \xHH), '...' quotes take none; quoted
 * and unquoted parts of one word join up, as in a shell. A '#' that starts a
 * word starts a comment. Nothing here allocates: the words live in the
 * caller's msc_line.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_CLI_LEX_H
#define MEMSPACE_CLI_LEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "script.h"

/** struct msc_word - one word of a line. */
typedef struct msc_word {
	const char *text; /* decoded, NUL-terminated (may hold NULs from escapes) */
	size_t len;       /* decoded length */
	unsigned col;     /* 1-based byte column of the word's first byte */
	long eq;          /* offset in @text of the first unquoted '=', or -1 */
	bool quoted;      /* some part of the word was quoted */
} msc_word;

/** struct msc_line - the words of one line. */
typedef struct msc_line {
	msc_word words[MSC_MAX_WORDS];
	size_t nr_words;
	char buf[MSC_MAX_LINE + MSC_MAX_WORDS + 1];
} msc_line;

/**
 * msc_lex - split @line (@len bytes, at most MSC_MAX_LINE) into words.
 * Return: 0, or -1 with *@err_col and *@err_msg describing the error.
 */
int msc_lex(msc_line *out, const char *line, size_t len, unsigned *err_col, const char **err_msg);

/**
 * msc_parse_u64 - read an unsigned number.
 * @s: the text (@len bytes): decimal, 0x hexadecimal or 0b binary, '_'
 *     between digits allowed; a decimal number may end with one of the
 *     binary suffixes K M G T P E (2^10 .. 2^60, either case); or 2^N for
 *     N in 0..64.
 * @allow_2_64: accept 2^64 (and 16E), returned as UINT64_MAX (MS_SIZE_2_64).
 * Return: 0, or -1 with *@why set to a description of the problem.
 */
int msc_parse_u64(const char *s, size_t len, bool allow_2_64, uint64_t *out, const char **why);

/** msc_parse_int - read a signed int (decimal or 0x), for priorities. */
int msc_parse_int(const char *s, size_t len, int *out, const char **why);

/**
 * msc_utf8_seq - the length of the UTF-8 sequence of a non-ASCII byte.
 * @p: a NUL-terminated string whose first byte is 0x80 or above.
 *
 * Return: 2, 3 or 4 when @p starts a well-formed sequence (no overlong
 * forms, surrogates or code points past U+10FFFF); 0 when it does not.
 */
size_t msc_utf8_seq(const unsigned char *p);

#endif /* MEMSPACE_CLI_LEX_H */
