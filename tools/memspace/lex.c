/*
 * memspace CLI: line splitting and number parsing (see lex.h).
 *
 * The decoded words are written into the line's own buffer, which is large
 * enough for a line of MSC_MAX_LINE bytes split into MSC_MAX_WORDS words
 * (decoding never makes text longer). Work is linear in the line length.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lex.h"

#include <limits.h>
#include <string.h>

static bool is_blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decode the escape whose backslash is at @line[@i] (inside "...") into
 * *@out. Return how many bytes it spans (2, or 4 for \xHH), or 0 when it is
 * malformed, with *@why saying so.
 */
static size_t decode_escape(const char *line, size_t len, size_t i, unsigned char *out,
			    const char **why)
{
	unsigned char e = i + 1 < len ? (unsigned char)line[i + 1] : 0;
	int hi, lo;

	switch (e) {
	case '\\':
	case '"':
	case '\'':
		*out = e;
		return 2;
	case 'n':
		*out = '\n';
		return 2;
	case 't':
		*out = '\t';
		return 2;
	case 'r':
		*out = '\r';
		return 2;
	case '0':
		*out = '\0';
		return 2;
	case 'x':
		hi = i + 2 < len ? hex_value((unsigned char)line[i + 2]) : -1;
		lo = i + 3 < len ? hex_value((unsigned char)line[i + 3]) : -1;
		if (hi < 0 || lo < 0) {
			*why = "\\x needs two hex digits";
			return 0;
		}
		*out = (unsigned char)(hi << 4 | lo);
		return 4;
	default:
		*why = "unknown escape (use \\\\ \\\" \\n \\t \\r \\0 or \\xHH)";
		return 0;
	}
}

int msc_lex(msc_line *out, const char *line, size_t len, unsigned *err_col, const char **err_msg)
{
	size_t i = 0, used = 0;

	out->nr_words = 0;
	for (;;) {
		msc_word *w;
		char *dst;

		while (i < len && is_blank((unsigned char)line[i]))
			i++;
		if (i >= len || line[i] == '#')
			return 0;
		if (out->nr_words == MSC_MAX_WORDS) {
			*err_col = (unsigned)i + 1;
			*err_msg = "too many words on one line (the limit is 512)";
			return -1;
		}
		w = &out->words[out->nr_words];
		dst = out->buf + used;
		w->text = dst;
		w->col = (unsigned)i + 1;
		w->eq = -1;
		w->quoted = false;
		w->len = 0;
		while (i < len && !is_blank((unsigned char)line[i])) {
			unsigned char c = (unsigned char)line[i];

			if (c == '\0') {
				*err_col = (unsigned)i + 1;
				*err_msg = "NUL byte in the input";
				return -1;
			}
			if (c == '\'' || c == '"') {
				size_t open = i++;

				w->quoted = true;
				for (;;) {
					if (i >= len) {
						*err_col = (unsigned)open + 1;
						*err_msg = "unterminated quoted string";
						return -1;
					}
					c = (unsigned char)line[i];
					if (c == line[open]) {
						i++;
						break;
					}
					if (c == '\0') {
						*err_col = (unsigned)i + 1;
						*err_msg = "NUL byte in the input";
						return -1;
					}
					if (c == '\\' && line[open] == '"') {
						size_t span =
							decode_escape(line, len, i, &c, err_msg);

						if (span == 0) {
							*err_col = (unsigned)i + 1;
							return -1;
						}
						i += span;
					} else {
						i++;
					}
					dst[w->len++] = (char)c;
				}
				continue;
			}
			if (c == '=' && w->eq < 0)
				w->eq = (long)w->len;
			dst[w->len++] = (char)c;
			i++;
		}
		dst[w->len] = '\0';
		used += w->len + 1;
		out->nr_words++;
	}
}

/* Parse digits in @base with '_' separators; 0 or -1 (overflow or bad digit). */
static int parse_digits(const char *s, size_t len, unsigned base, uint64_t *out, const char **why)
{
	uint64_t v = 0;
	bool any = false, last_sep = false;
	size_t i;

	for (i = 0; i < len; i++) {
		int d;

		if (s[i] == '_') {
			if (!any || last_sep) {
				*why = "misplaced '_'";
				return -1;
			}
			last_sep = true;
			continue;
		}
		d = hex_value((unsigned char)s[i]);
		if (d < 0 || (unsigned)d >= base) {
			*why = "not a number";
			return -1;
		}
		if (v > (UINT64_MAX - (uint64_t)d) / base) {
			*why = "number too large (more than 64 bits)";
			return -1;
		}
		v = v * base + (uint64_t)d;
		any = true;
		last_sep = false;
	}
	if (!any || last_sep) {
		*why = last_sep ? "misplaced '_'" : "not a number";
		return -1;
	}
	*out = v;
	return 0;
}

int msc_parse_u64(const char *s, size_t len, bool allow_2_64, uint64_t *out, const char **why)
{
	static const char suffixes[] = "KMGTPE";
	unsigned base = 10, shift = 0;
	const char *suffix;
	uint64_t v;

	if (len == 0) {
		*why = "empty number";
		return -1;
	}
	if (len > 2 && s[0] == '2' && s[1] == '^') {
		uint64_t n;

		if (parse_digits(s + 2, len - 2, 10, &n, why) < 0)
			return -1;
		if (n > 64 || (n == 64 && !allow_2_64)) {
			*why = n == 64 ? "2^64 is only allowed as a size" : "exponent too large";
			return -1;
		}
		*out = n == 64 ? UINT64_MAX : (uint64_t)1 << n;
		return 0;
	}
	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		len -= 2;
	} else if (len > 2 && s[0] == '0' && (s[1] == 'b' || s[1] == 'B')) {
		base = 2;
		s += 2;
		len -= 2;
	} else if (len > 1 && s[len - 1] != '\0' &&
		   (suffix = memchr(suffixes, s[len - 1] & ~0x20, 6)) != NULL) {
		/* Suffixes only on decimal numbers: 0x1E is a hex number. */
		shift = 10 * (unsigned)(suffix - suffixes + 1);
		len--;
	}
	if (parse_digits(s, len, base, &v, why) < 0)
		return -1;
	if (shift) {
		if (v > (UINT64_MAX >> shift)) {
			if (allow_2_64 && v == ((uint64_t)1 << (64 - shift))) {
				*out = UINT64_MAX;
				return 0;
			}
			*why = "number too large (more than 64 bits)";
			return -1;
		}
		v <<= shift;
	}
	*out = v;
	return 0;
}

int msc_parse_int(const char *s, size_t len, int *out, const char **why)
{
	bool neg = false;
	uint64_t v;

	if (len > 0 && (s[0] == '-' || s[0] == '+')) {
		neg = s[0] == '-';
		s++;
		len--;
	}
	if (msc_parse_u64(s, len, false, &v, why) < 0)
		return -1;
	if (v > (uint64_t)INT_MAX + (neg ? 1 : 0)) {
		*why = "out of range for a priority";
		return -1;
	}
	*out = neg ? (int)(-(int64_t)v) : (int)v;
	return 0;
}

size_t msc_utf8_seq(const unsigned char *p)
{
	unsigned char c = p[0];
	size_t n = 0;

	if (c >= 0xc2 && c <= 0xdf)
		n = 1;
	else if (c >= 0xe0 && c <= 0xef)
		n = 2;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 3;
	for (size_t i = 1; n && i <= n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0; /* also stops at the NUL */
	/* Overlong forms, surrogates and code points past U+10FFFF. */
	if (n == 2 && ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f)))
		return 0;
	if (n == 3 && ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] > 0x8f)))
		return 0;
	return n ? n + 1 : 0;
}
