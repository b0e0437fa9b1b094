/*
 * memspace CLI: dirty-tracking commands (include/memspace/dirty.h).
 *
 *   dirty REGION [CLIENT] [OFFSET SIZE]      print dirty page ranges
 *   dirty-set REGION OFFSET SIZE             mark, as a write behind the library's back
 *   dirty-reset REGION CLIENT [OFFSET SIZE]  clear a client's bits
 *   snapshot REGION CLIENT [OFFSET SIZE]     take and clear, print what was taken
 *   dirty-page-size [SIZE]                   the bitmap granularity
 *
 * A client is a number 0-7 or vga, code, migration (dirty-log takes the
 * same, through msc_arg_dirty_client()). Ranges print as whole pages,
 * "0x1000-0x2fff", the last page clipped to the region's end.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "script_int.h"

static const char *const client_names[MS_DIRTY_CLIENTS] = {"vga", "code", "migration"};

int msc_arg_dirty_client(msc_session *s, const msc_word *w, unsigned *out)
{
	uint64_t n;

	for (unsigned c = 0; c < MS_DIRTY_CLIENTS; c++) {
		if (client_names[c] && strlen(client_names[c]) == w->len &&
		    memcmp(client_names[c], w->text, w->len) == 0) {
			*out = c;
			return 0;
		}
	}
	if (w->len == 0 || w->text[0] < '0' || w->text[0] > '9')
		return msc_error(s, w->col, "expected a client (0-7, vga, code, migration), not %s",
				 msc_quote_word(s, w));
	if (msc_arg_number(s, w, "client", false, &n))
		return 1;
	if (n >= MS_DIRTY_CLIENTS)
		return msc_error(s, w->col, "the client is 0 to 7 (or vga, code, migration)");
	*out = (unsigned)n;
	return 0;
}

/* "vga", "code", "migration" or the number. */
static const char *client_str(unsigned c, char buf[4])
{
	if (c < MS_DIRTY_CLIENTS && client_names[c])
		return client_names[c];
	snprintf(buf, 4, "%u", c);
	return buf;
}

/* A RAM region with memory, for the dirty commands. */
static int dirty_region(msc_session *s, const msc_word *w, const char *what, ms_region **out)
{
	msc_region_ent *e;

	if (msc_arg_region(s, w, &e))
		return 1;
	if (!ms_region_ram_ptr(e->r))
		return msc_error(s, w->col, "%s: %s has no RAM memory", what,
				 msc_quote_str(s, ms_region_name(e->r)));
	*out = e->r;
	return 0;
}

/*
 * OFFSET SIZE from argument @first on, or the whole region when they are
 * not given; checked against the region.
 */
static int dirty_range(msc_session *s, msc_call *c, size_t first, ms_region *r, const char *what,
		       uint64_t *offset, uint64_t *size)
{
	uint64_t region_size = ms_region_size(r);

	*offset = 0;
	*size = region_size;
	if (c->npos <= first)
		return 0;
	if (c->npos != first + 2)
		return msc_error(s, c->pos[first]->col, "%s: give both OFFSET and SIZE", what);
	if (msc_arg_number(s, c->pos[first], "offset", false, offset) ||
	    msc_arg_number(s, c->pos[first + 1], "size", false, size))
		return 1;
	if (*size == 0)
		return msc_error(s, c->pos[first + 1]->col, "%s: the size must be at least 1",
				 what);
	if (*offset >= region_size || *size > region_size - *offset)
		return msc_error(s, c->pos[first]->col,
				 "%s: 0x%" PRIx64 "+0x%" PRIx64 " is past the end of %s (0x%" PRIx64
				 " bytes)",
				 what, *offset, *size, msc_quote_str(s, ms_region_name(r)),
				 region_size);
	return 0;
}

/* Print " 0xA-0xB" for each run of pages of [offset, offset + size) that @is_dirty says. */
typedef bool dirty_test(void *arg, uint64_t page_offset, uint64_t len);

static unsigned print_runs(FILE *o, uint64_t page, uint64_t region_size, uint64_t offset,
			   uint64_t size, dirty_test *is_dirty, void *arg)
{
	uint64_t p = offset & ~(page - 1), end = offset + size, run_start = 0;
	unsigned runs = 0;
	bool in_run = false;

	while (p < end) {
		/* Whole clean stretches of 64 pages at once, when aligned. */
		uint64_t span = page * 64;

		if (!in_run && (p & (span - 1)) == 0 && p + span <= end &&
		    !is_dirty(arg, p, span)) {
			p += span;
			continue;
		}
		uint64_t len = region_size - p < page ? region_size - p : page;
		bool dirty = is_dirty(arg, p, len);

		if (dirty && !in_run) {
			run_start = p;
			in_run = true;
		} else if (!dirty && in_run) {
			fprintf(o, " 0x%" PRIx64 "-0x%" PRIx64, run_start, p - 1);
			in_run = false;
			runs++;
		}
		p += page;
	}
	if (in_run) {
		uint64_t last = p > region_size ? region_size : p;

		fprintf(o, " 0x%" PRIx64 "-0x%" PRIx64, run_start, last - 1);
		runs++;
	}
	return runs;
}

typedef struct region_client {
	ms_region *r;
	unsigned client;
} region_client;

static bool region_dirty(void *arg, uint64_t offset, uint64_t len)
{
	region_client *rc = arg;
	uint64_t size = ms_region_size(rc->r);

	if (offset + len > size)
		len = size - offset;
	return ms_region_get_dirty(rc->r, offset, len, rc->client);
}

/* "NAME CLIENT: 0x0-0xfff" or "NAME CLIENT: clean"; clean clients only when @always. */
static void print_client(msc_session *s, ms_region *r, unsigned client, uint64_t offset,
			 uint64_t size, bool always)
{
	region_client arg = {r, client};
	char buf[4];

	if (!always && !region_dirty(&arg, offset, size))
		return;
	fprintf(s->o.out, "%s %s:", ms_region_name(r), client_str(client, buf));
	if (print_runs(s->o.out, ms_ctx_dirty_page_size(s->ctx), ms_region_size(r), offset, size,
		       region_dirty, &arg) == 0)
		fputs(" clean", s->o.out);
	fputc('\n', s->o.out);
}

int msc_do_dirty(msc_session *s, msc_call *c)
{
	uint64_t offset, size;
	unsigned client = 0;
	bool one = c->npos == 2 || c->npos == 4;
	ms_region *r;
	uint8_t mask;
	char buf[4];

	if (dirty_region(s, c->pos[0], "dirty", &r) ||
	    (one && msc_arg_dirty_client(s, c->pos[1], &client)) ||
	    dirty_range(s, c, one ? 2 : 1, r, "dirty", &offset, &size))
		return 1;
	if (one) {
		print_client(s, r, client, offset, size, true);
		return 0;
	}
	mask = ms_region_dirty_log_mask(r);
	fprintf(s->o.out, "%s: logged by", ms_region_name(r));
	for (unsigned i = 0; i < MS_DIRTY_CLIENTS; i++)
		if (mask & (1u << i))
			fprintf(s->o.out, " %s", client_str(i, buf));
	fputs(mask ? "\n" : " nobody\n", s->o.out);
	for (unsigned i = 0; i < MS_DIRTY_CLIENTS; i++)
		print_client(s, r, i, offset, size, false);
	return 0;
}

int msc_do_dirty_set(msc_session *s, msc_call *c)
{
	uint64_t offset, size;
	ms_region *r;
	int rc;

	if (dirty_region(s, c->pos[0], "dirty-set", &r) ||
	    dirty_range(s, c, 1, r, "dirty-set", &offset, &size))
		return 1;
	rc = ms_region_set_dirty(r, offset, size);
	return rc ? msc_lib_error(s, c->word->col, "dirty-set", rc, NULL) : 0;
}

int msc_do_dirty_reset(msc_session *s, msc_call *c)
{
	uint64_t offset, size;
	unsigned client;
	ms_region *r;
	int rc;

	if (dirty_region(s, c->pos[0], "dirty-reset", &r) ||
	    msc_arg_dirty_client(s, c->pos[1], &client) ||
	    dirty_range(s, c, 2, r, "dirty-reset", &offset, &size))
		return 1;
	rc = ms_region_reset_dirty(r, offset, size, client);
	return rc ? msc_lib_error(s, c->word->col, "dirty-reset", rc, NULL) : 0;
}

static bool snapshot_dirty(void *arg, uint64_t offset, uint64_t len)
{
	return ms_dirty_snapshot_get_dirty(arg, offset, len);
}

int msc_do_snapshot(msc_session *s, msc_call *c)
{
	uint64_t offset, size, snap_offset, snap_size;
	ms_dirty_snapshot *snap;
	unsigned client;
	ms_region *r;
	char buf[4];
	int rc;

	if (dirty_region(s, c->pos[0], "snapshot", &r) ||
	    msc_arg_dirty_client(s, c->pos[1], &client) ||
	    dirty_range(s, c, 2, r, "snapshot", &offset, &size))
		return 1;
	rc = ms_region_snapshot_and_clear_dirty(&snap, r, offset, size, client);
	if (rc)
		return msc_lib_error(s, c->word->col, "snapshot", rc, NULL);
	ms_dirty_snapshot_range(snap, &snap_offset, &snap_size);
	fprintf(s->o.out,
		"snapshot %s %s 0x%" PRIx64 "-0x%" PRIx64 ": %" PRIu64 " dirty:", ms_region_name(r),
		client_str(client, buf), snap_offset, snap_offset + snap_size - 1,
		ms_dirty_snapshot_count(snap));
	if (print_runs(s->o.out, ms_ctx_dirty_page_size(s->ctx), snap_offset + snap_size,
		       snap_offset, snap_size, snapshot_dirty, snap) == 0)
		fputs(" none", s->o.out);
	fputc('\n', s->o.out);
	ms_dirty_snapshot_free(snap);
	return 0;
}

int msc_do_dirty_page_size(msc_session *s, msc_call *c)
{
	uint64_t size;
	int rc;

	if (c->npos == 0) {
		fprintf(s->o.out, "dirty page size 0x%" PRIx64 "\n",
			ms_ctx_dirty_page_size(s->ctx));
		return 0;
	}
	if (msc_arg_number(s, c->pos[0], "size", false, &size))
		return 1;
	rc = ms_ctx_set_dirty_page_size(s->ctx, size);
	if (rc)
		return msc_lib_error(s, c->word->col, "dirty-page-size", rc,
				     rc == -EBUSY    ? "RAM exists already: the size is fixed"
				     : rc == -EINVAL ? "a power of two from 512 to 1G"
						     : NULL);
	return 0;
}
