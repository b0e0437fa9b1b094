/*
 * memspace CLI: reading a command's arguments and options.
 *
 * msc_arg_*() read one word; msc_opt_*() find an option of the call and read
 * its value as the command's parameter list declares it (cmd_table.c), so
 * a value's type and the noun its messages use are written once. Every
 * reader reports what is wrong with the word it was given, at its column,
 * and returns 1; nothing here changes the session.
 *
 * SPDX-License-Identifier: MIT
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "script_int.h"

/* ---- words ------------------------------------------------------------- */

/* ---- tables ------------------------------------------------------------ */

msc_region_ent *msc_find_region(msc_session *s, const char *text, size_t len)
{
	return msc_table_lookup(&s->regions, text, len);
}

int msc_arg_number(msc_session *s, const msc_word *w, const char *what, bool allow_2_64,
		   uint64_t *out)
{
	const char *why;

	if (msc_parse_u64(w->text, w->len, allow_2_64, out, &why) < 0)
		return msc_error(s, w->col, "bad %s %s: %s (write e.g. 0x1000, 4096 or 64K)", what,
				 msc_quote_word(s, w), why);
	return 0;
}

static const msc_name bool_names[] = {
	{"on", true},  {"yes", true},    {"true", true}, {"1", true}, {"off", false},
	{"no", false}, {"false", false}, {"0", false},   {NULL, 0},
};

int msc_arg_bool(msc_session *s, const msc_word *w, bool *out)
{
	int value;

	if (msc_name_value(bool_names, w->text, w->len, &value))
		return msc_error(s, w->col, "expected on or off, not %s", msc_quote_word(s, w));
	*out = value;
	return 0;
}

/* The keyword @v given to option @key (endian=big) as its value in @names. */
static int keyword_arg(msc_session *s, const msc_word *v, const char *key, const msc_name *names,
		       int *out)
{
	char list[128];

	if (msc_name_value(names, v->text, v->len, out) == 0)
		return 0;
	return msc_error(s, v->col, "%s= takes %s, not %s", key,
			 msc_name_list(list, sizeof(list), names, " or "), msc_quote_word(s, v));
}

/* Keywords of @names joined by commas (flags=map,unmap), their values or-ed into *@out. */
static int parse_keywords(msc_session *s, const msc_word *v, const char *key, const msc_name *names,
			  unsigned *out)
{
	size_t pos = 0;

	*out = 0;
	while (pos <= v->len) {
		const char *p = v->text + pos;
		const char *comma = memchr(p, ',', v->len - pos);
		size_t n = comma ? (size_t)(comma - p) : v->len - pos;
		char list[64];
		int value;

		if (msc_name_value(names, p, n, &value))
			return msc_error(s, v->col + (unsigned)pos,
					 "%s= takes %s joined by commas, not %s", key,
					 msc_name_list(list, sizeof(list), names, " and "),
					 msc_quote(s, p, n));
		*out |= (unsigned)value;
		pos += n + 1;
	}
	return 0;
}

static int parse_sizes(msc_session *s, const msc_word *w, unsigned *min, unsigned *max)
{
	const char *dash = memchr(w->text, '-', w->len);
	uint64_t a, b;
	const char *why;

	if (!dash || msc_parse_u64(w->text, (size_t)(dash - w->text), false, &a, &why) ||
	    msc_parse_u64(dash + 1, w->len - (size_t)(dash - w->text) - 1, false, &b, &why) ||
	    (a != 1 && a != 2 && a != 4 && a != 8) || (b != 1 && b != 2 && b != 4 && b != 8) ||
	    a > b)
		return msc_error(s, w->col,
				 "bad access sizes %s: write MIN-MAX with 1, 2, 4 or 8, e.g. 1-4",
				 msc_quote_word(s, w));
	*min = (unsigned)a;
	*max = (unsigned)b;
	return 0;
}

int msc_arg_prio(msc_session *s, const msc_word *w, int *out)
{
	const char *why;

	if (msc_parse_int(w->text, w->len, out, &why) < 0)
		return msc_error(s, w->col, "bad priority %s: %s", msc_quote_word(s, w), why);
	return 0;
}

void *msc_arg_entry(msc_session *s, const msc_word *w, const msc_table *t, const char *what,
		    bool suggest)
{
	void *item = msc_table_lookup(t, w->text, w->len);
	const char *best = suggest && !item ? msc_table_suggest(t, w->text, w->len) : NULL;

	if (!item && best)
		msc_error(s, w->col, "unknown %s %s (did you mean %s?)", what, msc_quote_word(s, w),
			  msc_quote_str(s, best));
	else if (!item)
		msc_error(s, w->col, "unknown %s %s", what, msc_quote_word(s, w));
	return item;
}

int msc_arg_region(msc_session *s, const msc_word *w, msc_region_ent **out)
{
	*out = msc_arg_entry(s, w, &s->regions, "region", true);
	return *out ? 0 : 1;
}

int msc_arg_as(msc_session *s, const msc_word *w, ms_as **out)
{
	*out = msc_arg_entry(s, w, &s->spaces, "address space", true);
	return *out ? 0 : 1;
}

/* Decode write data: quoted words are raw bytes, others hex digits. */
int msc_arg_data(msc_session *s, msc_call *c, size_t first, uint8_t *buf, size_t cap, size_t *len)
{
	size_t i, j, n = 0;

	for (i = first; i < c->npos; i++) {
		msc_word *w = c->pos[i];

		if (w->quoted) {
			if (n + w->len > cap)
				return msc_error(s, w->col, "too much data");
			memcpy(buf + n, w->text, w->len);
			n += w->len;
			continue;
		}
		if (w->len % 2 || w->len == 0)
			return msc_error(
				s, w->col,
				"data %s: write bytes as pairs of hex digits (de ad be ef) "
				"or a quoted string; use st* for a number",
				msc_quote_word(s, w));
		for (j = 0; j < w->len; j += 2) {
			unsigned hi, lo;
			const char *hex = "0123456789abcdef0123456789ABCDEF";
			const char *ph = memchr(hex, w->text[j], 32),
				   *pl = memchr(hex, w->text[j + 1], 32);

			if (!ph || !pl || w->text[j] == '\0' || w->text[j + 1] == '\0')
				return msc_error(
					s, w->col + (unsigned)j,
					"data %s: write bytes as pairs of hex digits "
					"(de ad be ef) or a quoted string; use st* for a number",
					msc_quote_word(s, w));
			hi = (unsigned)(ph - hex) % 16;
			lo = (unsigned)(pl - hex) % 16;
			if (n >= cap)
				return msc_error(s, w->col, "too much data");
			buf[n++] = (uint8_t)(hi << 4 | lo);
		}
	}
	*len = n;
	return 0;
}

/* A name for something new in @t: non-empty, no NUL, not taken. */
int msc_check_new_name(msc_session *s, const msc_word *w, const char *what, const msc_table *t)
{
	if (w->len == 0)
		return msc_error(s, w->col, "a %s name cannot be empty", what);
	if (memchr(w->text, '\0', w->len))
		return msc_error(s, w->col, "a %s name cannot contain a NUL byte", what);
	if (msc_table_find(t, w->text, w->len) != SIZE_MAX)
		return msc_error(s, w->col, "%s %s already exists", what, msc_quote_word(s, w));
	return 0;
}

int msc_check_length(msc_session *s, msc_call *c, const msc_word *w, uint64_t len, unsigned limit)
{
	if (len > limit)
		return msc_error(s, w->col, "%s: %" PRIu64 " bytes is over the limit of %u",
				 c->cmd->name, len, limit);
	return 0;
}

int msc_check_fits(msc_session *s, msc_call *c, const msc_word *w, uint64_t value, unsigned size)
{
	if (size < 8 && value >> (8 * size))
		return msc_error(s, w->col, "%s: 0x%" PRIx64 " does not fit in %u byte%s",
				 c->cmd->name, value, size, size == 1 ? "" : "s");
	return 0;
}

/* ---- options ----------------------------------------------------------- */

/* The value part of a key=value option as a word of its own. */
msc_word msc_value_of(const msc_word *w)
{
	msc_word v = *w;

	v.text = w->text + w->eq + 1;
	v.len = w->len - (size_t)w->eq - 1;
	v.col = w->col + (unsigned)w->eq + 1;
	v.eq = -1;
	return v;
}

/* The option @key ("in" for in=VALUE, or a flag), or NULL when absent. */
msc_word *msc_opt_word(msc_call *c, const char *key)
{
	size_t i, klen = strlen(key);

	for (i = 0; i < c->nopt; i++) {
		msc_word *w = c->opt[i];
		size_t wlen = w->eq >= 0 ? (size_t)w->eq : w->len;

		if (wlen == klen && memcmp(w->text, key, klen) == 0)
			return w;
	}
	return NULL;
}

/* The declaration of option @key (@len bytes) of @kind in @list and the groups it takes in. */
static const msc_param *find_param(const msc_param *list, enum msc_param_kind kind, const char *key,
				   size_t len)
{
	for (; list->kind != MSC_P_END; list++) {
		const msc_param *p = NULL;

		if (list->kind == MSC_P_GROUP || list->kind == MSC_P_INCLUDE)
			p = find_param(list->group, kind, key, len);
		else if (list->kind == kind && strlen(list->name) == len &&
			 memcmp(list->name, key, len) == 0)
			p = list;
		if (p)
			return p;
	}
	return NULL;
}

/* The declaration of the option word @w of @cmd, or NULL when it has none. */
const msc_param *msc_option_of(const msc_command *cmd, const msc_word *w)
{
	if (w->eq >= 0)
		return find_param(cmd->params, MSC_P_VALUE, w->text, (size_t)w->eq);
	return find_param(cmd->params, MSC_P_FLAG, w->text, w->len);
}

/*
 * Read the value of option @w, declared by @p, into *@out, whose type the
 * declaration gives: msc_word (MSC_V_TEXT), uint64_t (NUMBER, SIZE), int
 * (PRIO, KEYWORD), bool, unsigned (KEYWORDS), unsigned[2] (SIZES: min,
 * max), msc_region_ent * or ms_as *. Any msc_value can receive it.
 */
int msc_read_value(msc_session *s, const msc_param *p, const msc_word *w, void *out)
{
	msc_word v = msc_value_of(w);
	unsigned *sizes = out;

	switch (p->type) {
	case MSC_V_TEXT:
		*(msc_word *)out = v;
		return 0;
	case MSC_V_NUMBER:
	case MSC_V_SIZE:
		return msc_arg_number(s, &v, p->what, p->type == MSC_V_SIZE, out);
	case MSC_V_PRIO:
		return msc_arg_prio(s, &v, out);
	case MSC_V_BOOL:
		return msc_arg_bool(s, &v, out);
	case MSC_V_KEYWORD:
		return keyword_arg(s, &v, p->name, p->names, out);
	case MSC_V_KEYWORDS:
		return parse_keywords(s, &v, p->name, p->names, out);
	case MSC_V_SIZES:
		return parse_sizes(s, &v, &sizes[0], &sizes[1]);
	case MSC_V_REGION:
		return msc_arg_region(s, &v, out);
	default:
		return msc_arg_as(s, &v, out);
	}
}

/* Read option @key, declared with @type, into *@out if it was given (msc_read_value()). */
static int get_value(msc_session *s, msc_call *c, const char *key, enum msc_value_type type,
		     void *out)
{
	msc_word *w = msc_opt_word(c, key);

	if (!w)
		return 0;
	assert(msc_option_of(c->cmd, w) && msc_option_of(c->cmd, w)->type == type);
	return msc_read_value(s, msc_option_of(c->cmd, w), w, out);
}

/* The typed forms of get_value(). */
int msc_opt_number(msc_session *s, msc_call *c, const char *key, uint64_t *out)
{
	return get_value(s, c, key, MSC_V_NUMBER, out);
}

int msc_opt_prio(msc_session *s, msc_call *c, const char *key, int *out)
{
	return get_value(s, c, key, MSC_V_PRIO, out);
}

int msc_opt_bool(msc_session *s, msc_call *c, const char *key, bool *out)
{
	return get_value(s, c, key, MSC_V_BOOL, out);
}

int msc_opt_keyword(msc_session *s, msc_call *c, const char *key, int *out)
{
	return get_value(s, c, key, MSC_V_KEYWORD, out);
}

int msc_opt_keywords(msc_session *s, msc_call *c, const char *key, unsigned *out)
{
	return get_value(s, c, key, MSC_V_KEYWORDS, out);
}

int msc_opt_region(msc_session *s, msc_call *c, const char *key, msc_region_ent **out)
{
	return get_value(s, c, key, MSC_V_REGION, out);
}

int msc_opt_as(msc_session *s, msc_call *c, const char *key, ms_as **out)
{
	return get_value(s, c, key, MSC_V_AS, out);
}

int msc_opt_sizes(msc_session *s, msc_call *c, const char *key, unsigned *min, unsigned *max)
{
	unsigned sizes[2] = {*min, *max};
	int rc = get_value(s, c, key, MSC_V_SIZES, sizes);

	*min = sizes[0];
	*max = sizes[1];
	return rc;
}

int msc_opt_big_endian(msc_session *s, msc_call *c, bool *be)
{
	msc_word *b = msc_opt_word(c, "be"), *l = msc_opt_word(c, "le");

	if (b && l)
		return msc_error(s, l->col, "be and le exclude each other");
	*be = b != NULL;
	return 0;
}

/* ---- accesses ---------------------------------------------------------- */

/* Was any option of @group given? */
static bool any_option(msc_call *c, const msc_param *group)
{
	for (; group->kind != MSC_P_END; group++)
		if ((group->kind == MSC_P_FLAG || group->kind == MSC_P_VALUE) &&
		    msc_opt_word(c, group->name))
			return true;
	return false;
}

int msc_access_as(msc_session *s, msc_call *c, ms_as **out)
{
	*out = s->current;
	if (msc_opt_as(s, c, "as", out))
		return 1;
	if (!*out)
		return msc_error(s, c->word->col,
				 "%s: no address space yet (create one with 'as NAME ROOT')",
				 c->cmd->name);
	return 0;
}

int msc_access_attrs(msc_session *s, msc_call *c, ms_attrs *out)
{
	msc_word *nonsecure = msc_opt_word(c, "nonsecure");
	ms_attrs a = {0};
	uint64_t v = 0;

	a.secure = msc_opt_word(c, "secure") != NULL;
	a.user = msc_opt_word(c, "user") != NULL;
	a.memory = msc_opt_word(c, "memory") != NULL;
	a.debug = msc_opt_word(c, "debug") != NULL;
	if (a.secure && nonsecure)
		return msc_error(s, nonsecure->col, "secure and nonsecure exclude each other");
	if (msc_opt_number(s, c, "requester", &v))
		return 1;
	if (v > 0xffff)
		return msc_error(s, msc_opt_word(c, "requester")->col,
				 "requester id 0x%" PRIx64 " does not fit in 16 bits", v);
	a.requester_id = (unsigned)v;
	if (msc_opt_word(c, "pasid")) {
		if (msc_opt_number(s, c, "pasid", &v))
			return 1;
		if (v > UINT32_MAX)
			return msc_error(s, msc_opt_word(c, "pasid")->col,
					 "pasid 0x%" PRIx64 " does not fit in 32 bits", v);
		a.pasid = (uint32_t)v;
		a.pasid_valid = 1;
	}
	a.unspecified = !any_option(c, msc_attr_params);
	*out = a;
	return 0;
}

int msc_access_range(msc_session *s, msc_call *c, uint64_t *addr, uint64_t *len, ms_as **as,
		     ms_attrs *attrs)
{
	if (msc_arg_number(s, c->pos[0], "address", false, addr) ||
	    msc_arg_number(s, c->pos[1], "length", false, len))
		return 1;
	return msc_access_as(s, c, as) || msc_access_attrs(s, c, attrs);
}

int msc_arg_transfer(msc_session *s, msc_call *c, bool is_write, uint8_t *data, uint8_t **buf,
		     uint64_t *len)
{
	size_t n;

	*buf = data;
	if (is_write) {
		if (msc_arg_data(s, c, 2, data, MSC_MAX_LINE, &n))
			return 1;
		*len = n;
		return 0;
	}
	if (msc_arg_number(s, c->pos[2], "length", false, len) ||
	    msc_check_length(s, c, c->pos[2], *len, MSC_MAX_PRINT))
		return 1;
	*buf = malloc(*len ? (size_t)*len : 1);
	if (!*buf)
		return msc_lib_error(s, c->word->col, c->cmd->name, -ENOMEM, NULL);
	return 0;
}
