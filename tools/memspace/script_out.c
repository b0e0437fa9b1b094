/*
 * memspace CLI: what the interpreter prints besides command output - error
 * messages, quoted names, hex dumps and the names of section types.
 *
 * Errors go to the error stream as FILE:LINE:COL: message, after the output
 * stream is flushed so that the two interleave in order; each one counts
 * towards msc_session_errors(). Names from the script are always printed
 * through msc_quote(), which escapes control bytes and truncates, so no
 * message can carry terminal escapes or run on without bound.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "script_int.h"

#define MIN(a, b) ((a) < (b) ? (a) : (b))

/* A printable, quoted-if-needed, truncated rendering of a name for messages. */
const char *msc_quote(msc_session *s, const char *text, size_t len)
{
	char *buf = s->names[s->next_name++ % 4];
	size_t i, used = 0, cap = sizeof(s->names[0]);

	buf[used++] = '\'';
	for (i = 0; i < len && used < cap - 8; i++) {
		unsigned char ch = (unsigned char)text[i];

		if (ch < 0x20 || ch == 0x7f || ch == '\\' || ch == '\'')
			used += (size_t)snprintf(buf + used, cap - used, "\\x%02x", ch);
		else
			buf[used++] = (char)ch;
	}
	if (i < len) {
		memcpy(buf + used, "...", 3);
		used += 3;
	}
	buf[used++] = '\'';
	buf[used] = '\0';
	return buf;
}

const char *msc_quote_word(msc_session *s, const msc_word *w)
{
	return msc_quote(s, w->text, w->len);
}

const char *msc_quote_str(msc_session *s, const char *str)
{
	return msc_quote(s, str, strlen(str));
}

static void print_caret(msc_session *s, unsigned col)
{
	size_t i, n = MIN(s->line_len, (size_t)160);

	fputs("  ", s->o.err);
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s->line[i];

		fputc(ch < 0x20 || ch == 0x7f ? ' ' : ch, s->o.err);
	}
	fputs("\n  ", s->o.err);
	for (i = 1; i < col && i <= n; i++)
		fputc(' ', s->o.err);
	fputs(s->o.color ? "\033[1;32m^\033[0m\n" : "^\n", s->o.err);
}

__attribute__((format(printf, 3, 4))) int msc_error(msc_session *s, unsigned col, const char *fmt,
						    ...)
{
	va_list ap;

	fflush(s->o.out);
	if (s->o.color)
		fputs("\033[1m", s->o.err);
	fprintf(s->o.err, "%s:%lu:%u:", s->file, s->lineno, col);
	fputs(s->o.color ? "\033[0m \033[1;31m" : " ", s->o.err);
	va_start(ap, fmt);
	vfprintf(s->o.err, fmt, ap);
	va_end(ap);
	fputs(s->o.color ? "\033[0m\n" : "\n", s->o.err);
	if (s->o.interactive && s->line && col > 0)
		print_caret(s, col);
	fflush(s->o.err);
	s->errors++;
	return 1;
}

/* clang-format off */
static const msc_name errno_names[] = {
	{"EINVAL", -EINVAL}, {"EBUSY", -EBUSY}, {"ENOMEM", -ENOMEM}, {"ELOOP", -ELOOP},
	{"E2BIG", -E2BIG},   {"EXDEV", -EXDEV}, {"ENOENT", -ENOENT}, {"EPERM", -EPERM},
	{"ERANGE", -ERANGE}, {"EIO", -EIO},     {"EACCES", -EACCES}, {"EFAULT", -EFAULT},
	{"ENOSPC", -ENOSPC}, {"EFBIG", -EFBIG}, {"EISDIR", -EISDIR}, {"EBADF", -EBADF},
	{"EROFS", -EROFS},   {"ENOTSUP", -ENOTSUP},
	/* the RAM stream (cmd_migrate.c) */
	{"EBADMSG", -EBADMSG}, {"ENODATA", -ENODATA}, {"ENOTUNIQ", -ENOTUNIQ}, {"EPIPE", -EPIPE},
	/* sharing and remapping (cmd_remap.c) */
	{"ENOTSUP", -ENOTSUP}, {"EPROTO", -EPROTO}, {"ECONNRESET", -ECONNRESET},
	/* vfio-user (cmd_vfio_user.c) */
	{"ECONNREFUSED", -ECONNREFUSED}, {"ETIMEDOUT", -ETIMEDOUT}, {"ENOTSOCK", -ENOTSOCK},
	{"ENODEV", -ENODEV}, {"EEXIST", -EEXIST},
	{NULL, 0},
};
/* clang-format on */

const char *msc_errno_name(int rc)
{
	return msc_name_text(errno_names, rc, "error");
}

/* Report a library error: "WHAT: ENAME: EXPLANATION". */
int msc_lib_error(msc_session *s, unsigned col, const char *what, int rc, const char *explain)
{
	if (!explain) {
		switch (-rc) {
		case ENOMEM:
			explain = "out of memory";
			break;
		case ELOOP:
			explain = "the view would nest deeper than 1024 levels (an alias that "
				  "leads back into itself without end)";
			break;
		case EBUSY:
			explain = "busy";
			break;
		case E2BIG:
			explain = "the view would have more than 1048576 ranges (aliases that "
				  "show the level below several times, level after level)";
			break;
		default:
			explain = strerror(-rc);
			break;
		}
	}
	return msc_error(s, col, "%s: %s: %s", what, msc_errno_name(rc), explain);
}

void msc_hexdump(msc_session *s, uint64_t addr, const uint8_t *buf, size_t len)
{
	size_t i, j;

	for (i = 0; i < len; i += 16) {
		fprintf(s->o.out, "  %016" PRIx64 ": ", addr + i);
		for (j = i; j < i + 16; j++) {
			if (j < len)
				fprintf(s->o.out, "%02x ", buf[j]);
			else
				fputs("   ", s->o.out);
		}
		fputs(" |", s->o.out);
		for (j = i; j < i + 16 && j < len; j++)
			fputc(buf[j] >= 0x20 && buf[j] < 0x7f ? buf[j] : '.', s->o.out);
		fputs("|\n", s->o.out);
	}
}

const char *msc_section_type(const ms_section *sec)
{
	switch (ms_region_get_kind(sec->region)) {
	case MS_REGION_IO:
		return "i/o";
	case MS_REGION_RAM:
	case MS_REGION_RAM_PTR:
		return sec->readonly ? "rom" : "ram";
	case MS_REGION_ROM:
		return "rom";
	case MS_REGION_ROM_DEVICE:
		return sec->romd ? "romd" : "i/o";
	case MS_REGION_RAM_DEVICE:
		return "ramd";
	case MS_REGION_IOMMU:
		return "iommu";
	default:
		return "?";
	}
}

void msc_print_section_flags(FILE *o, const ms_section *sec)
{
	if (sec->readonly)
		fputs(" readonly", o);
	if (sec->nonvolatile)
		fputs(" nonvolatile", o);
	if (sec->unmergeable)
		fputs(" unmergeable", o);
}

void msc_print_bytes(msc_session *s, uint64_t addr, const uint8_t *buf, size_t len,
		     const char *result)
{
	if (len > 16) {
		fprintf(s->o.out, " (%s)\n", result);
		msc_hexdump(s, addr, buf, len);
		return;
	}
	fputs(" ->", s->o.out);
	for (size_t i = 0; i < len; i++)
		fprintf(s->o.out, " %02x", buf[i]);
	fprintf(s->o.out, " (%s)\n", result);
}
