/*
 * test_mtree_support.h: helpers of the mtree dump tests (not a test itself),
 * shared by test_mtree.c, test_mtree_qemu.c and test_mtree_json.c.
 *
 *   put()          place a region and hand the reference to its container;
 *   dump()         ms_mtree_dump() that must succeed (the caller frees);
 *   assert_text()  compare texts, showing the first differing line;
 *   assert_dump()  dump() then assert_text();
 *   line_with()    the line of a text that contains a needle;
 *   disabled()     disable a region and return it;
 *   json_valid()   a small JSON validator (RFC 8259 syntax).
 *
 * Include after <cmocka.h> and ms_unit.h. Everything is static inline so a
 * test that uses only part of it compiles without warnings.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TEST_MTREE_SUPPORT_H
#define TEST_MTREE_SUPPORT_H

#include <stdbool.h>

#define NR(a) (sizeof(a) / sizeof((a)[0]))

/* Place @sub in @container and hand our reference to the container. */
static inline void put(ms_region *container, ms_region *sub, uint64_t addr, int priority)
{
	assert_int_equal(ms_region_add_subregion_overlap(container, addr, sub, priority), 0);
	ms_region_unref(sub);
}

static inline char *dump(ms_ctx *ctx, unsigned flags)
{
	char *text = NULL;
	size_t len = 0;

	assert_int_equal(ms_mtree_dump(&text, &len, ctx, flags), 0);
	assert_non_null(text);
	assert_int_equal(len, strlen(text));
	return text;
}

/* Compare texts; on a mismatch show the first differing line, then both. */
static inline void assert_text(const char *actual, const char *expected)
{
	size_t i = 0, line = 1, bol = 0;

	if (!strcmp(actual, expected))
		return;
	while (actual[i] && actual[i] == expected[i]) {
		if (actual[i] == '\n') {
			line++;
			bol = i + 1;
		}
		i++;
	}
	print_error("first difference at line %zu:\n  actual:   \"%.*s\"\n  expected: \"%.*s\"\n",
		    line, (int)strcspn(actual + bol, "\n"), actual + bol,
		    (int)strcspn(expected + bol, "\n"), expected + bol);
	assert_string_equal(actual, expected);
}

static inline void assert_dump(ms_ctx *ctx, unsigned flags, const char *expected)
{
	char *text = dump(ctx, flags);

	assert_text(text, expected);
	free(text);
}

/* The line of @text that contains @needle (static buffer), or "". */
static inline const char *line_with(const char *text, const char *needle)
{
	static char line[512];
	const char *hit = strstr(text, needle), *bol, *eol;

	if (!hit)
		return "";
	for (bol = hit; bol > text && bol[-1] != '\n'; bol--)
		;
	eol = strchr(hit, '\n');
	if (!eol)
		eol = hit + strlen(hit);
	snprintf(line, sizeof(line), "%.*s", (int)(eol - bol), bol);
	return line;
}

static inline ms_region *disabled(ms_region *r)
{
	assert_int_equal(ms_region_set_enabled(r, false), 0);
	return r;
}

/* ---- a small JSON validator (RFC 8259 syntax) ------------------------------ */

static inline bool json_value(const char **p, unsigned depth);

static inline void json_ws(const char **p)
{
	while (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r')
		(*p)++;
}

static inline bool json_string(const char **p)
{
	const char *s = *p;
	int i;

	if (*s++ != '"')
		return false;
	while (*s != '"') {
		if ((unsigned char)*s < 0x20)
			return false; /* includes the terminating NUL */
		if (*s++ != '\\')
			continue;
		if (strchr("\"\\/bfnrt", *s) && *s) {
			s++;
			continue;
		}
		if (*s++ != 'u')
			return false;
		for (i = 0; i < 4; i++)
			if (!strchr("0123456789abcdefABCDEF", *s) || !*s++)
				return false;
	}
	*p = s + 1;
	return true;
}

static inline bool json_number(const char **p)
{
	const char *s = *p;

	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (*s >= '0' && *s <= '9')
			s++;
	else
		return false;
	if (*s == '.') {
		if (*++s < '0' || *s > '9')
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		if (*++s == '+' || *s == '-')
			s++;
		if (*s < '0' || *s > '9')
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	*p = s;
	return true;
}

static inline bool json_container(const char **p, unsigned depth, char close)
{
	(*p)++;
	json_ws(p);
	if (**p == close) {
		(*p)++;
		return true;
	}
	for (;;) {
		if (close == '}') {
			if (!json_string(p))
				return false;
			json_ws(p);
			if (*(*p)++ != ':')
				return false;
		}
		if (!json_value(p, depth + 1))
			return false;
		json_ws(p);
		if (**p == close) {
			(*p)++;
			return true;
		}
		if (*(*p)++ != ',')
			return false;
		json_ws(p);
	}
}

static inline bool json_value(const char **p, unsigned depth)
{
	if (depth > 100000)
		return false;
	json_ws(p);
	switch (**p) {
	case '{':
		return json_container(p, depth, '}');
	case '[':
		return json_container(p, depth, ']');
	case '"':
		return json_string(p);
	case 't':
		return !strncmp(*p, "true", 4) && (*p += 4);
	case 'f':
		return !strncmp(*p, "false", 5) && (*p += 5);
	case 'n':
		return !strncmp(*p, "null", 4) && (*p += 4);
	default:
		return json_number(p);
	}
}

static inline bool json_valid(const char *text)
{
	const char *p = text;

	if (!json_value(&p, 0))
		return false;
	json_ws(&p);
	return *p == '\0';
}

#endif /* TEST_MTREE_SUPPORT_H */
