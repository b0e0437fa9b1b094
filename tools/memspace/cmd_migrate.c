/*
 * memspace CLI: the RAM stream - ram-save FILE and ram-load FILE write and
 * read every migratable RAM block of the session (migrate.h).
 *
 * ram-load is all or nothing: a file that is truncated, corrupted or made
 * for another set of blocks is refused and the memory stays as it was.
 * Sessions that must not touch files (the script fuzzer) refuse both.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "script_int.h"

/* The file name of @w, or NULL after an error was reported. */
static const char *file_arg(msc_session *s, const msc_call *c, const char *what)
{
	const msc_word *w = c->pos[0];

	if (s->o.no_files) {
		msc_error(s, c->word->col, "%s: this session cannot use files", what);
		return NULL;
	}
	if (w->len == 0 || memchr(w->text, '\0', w->len)) {
		msc_error(s, w->col, "%s: expected a file name", what);
		return NULL;
	}
	return w->text;
}

/* What a RAM stream error means, for the message. */
static const char *explain(int rc)
{
	switch (-rc) {
	case EBADMSG:
		return "the file is not a RAM stream, or it is corrupted";
	case ENODATA:
		return "the file ends before the stream does (truncated)";
	case ENOENT:
		return "the stream's RAM blocks and this machine's differ (a block is missing on "
		       "one side)";
	case ERANGE:
		return "a RAM block of the stream has another size or page size here";
	case ENOTUNIQ:
		return "two migratable RAM blocks have the same name";
	default:
		return NULL;
	}
}

int msc_do_ram_save(msc_session *s, msc_call *c)
{
	const char *path = file_arg(s, c, "ram-save");
	struct stat st;
	int fd, rc;

	if (!path)
		return 1;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return msc_error(s, c->pos[0]->col, "ram-save: cannot create %s: %s",
				 msc_quote_word(s, c->pos[0]), strerror(errno));
	rc = ms_ram_save(s->ctx, fd);
	if (rc == 0 && fstat(fd, &st) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc)
		return msc_lib_error(s, c->word->col, "ram-save", rc, explain(rc));
	fprintf(s->o.out, "ram-save: %" PRIu64 " bytes\n", (uint64_t)st.st_size);
	return 0;
}

int msc_do_ram_load(msc_session *s, msc_call *c)
{
	const char *path = file_arg(s, c, "ram-load");
	int fd, rc;

	if (!path)
		return 1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return msc_error(s, c->pos[0]->col, "ram-load: cannot open %s: %s",
				 msc_quote_word(s, c->pos[0]), strerror(errno));
	rc = ms_ram_load(s->ctx, fd);
	close(fd);
	if (rc)
		return msc_lib_error(s, c->word->col, "ram-load", rc, explain(rc));
	return 0;
}
