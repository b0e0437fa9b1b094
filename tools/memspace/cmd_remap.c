/*
 * memspace CLI: sharing RAM with another process and remapping guest RAM
 * (backend.h, docs/sharing.md) - share, remap, remap-read, remap-write,
 * remap-free.
 *
 * share sends a region over a socketpair of its own with
 * ms_ram_share_send(), receives it with ms_ram_share_recv() and makes the
 * received memory a new RAM region (MS_RAM_FD), as a second process would:
 * both regions then show the same pages. The new region counts against the
 * session's memory limit like any RAM.
 *
 * remap keeps an ms_as_remap() mapping under a name until remap-free or the
 * end of the session (msc_session_free() releases remaps before the
 * context). Besides the mapping, the entry lists the pieces the ranges are
 * made of (one per region a range crosses, from the view the remap was made
 * from), each holding a reference on its region: remap prints them, and
 * remap-write marks what it wrote dirty in them with ms_region_set_dirty(),
 * as backend.h asks of a caller that writes through the host range. Nothing
 * prints a host address, so output is the same on every run.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buffer.h"
#include "script_int.h"

/* Pieces remap prints; the rest are counted. */
#define MSC_REMAP_PRINT 32

static uint64_t host_page_size(void)
{
	long sz = sysconf(_SC_PAGESIZE);

	return sz > 0 ? (uint64_t)sz : 4096;
}

/* ---- share ---------------------------------------------------------------------- */

/* share NAME REGION [in=C at=ADDR [prio=N]] [owner=TEXT] */
int msc_do_share(msc_session *s, msc_call *c)
{
	ms_ram_share sh = {.fd = -1};
	msc_region_ent *src;
	msc_placement place;
	ms_region *r;
	int sv[2], rc;

	if (msc_check_region_budget(s, c) ||
	    msc_check_new_name(s, c->pos[0], "region", &s->regions) ||
	    msc_arg_region(s, c->pos[1], &src) || msc_parse_placement(s, c, &place))
		return 1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return msc_lib_error(s, c->word->col, "share", -errno, NULL);
	rc = ms_ram_share_send(sv[0], src->r);
	if (rc == 0)
		rc = ms_ram_share_recv(sv[1], &sh);
	close(sv[0]);
	close(sv[1]);
	if (rc == -EINVAL)
		return msc_error(s, c->pos[1]->col,
				 "share: EINVAL: region %s has no memory of its own (a container, "
				 "alias, I/O or IOMMU region)",
				 msc_quote_word(s, c->pos[1]));
	if (rc == -ENOTSUP)
		return msc_error(
			s, c->pos[1]->col,
			"share: ENOTSUP: the memory of region %s is not shared (anonymous, "
			"a private file, a pointer or layout only): create it with "
			"backend=memfd, or backend=file shared",
			msc_quote_word(s, c->pos[1]));
	if (rc)
		return msc_lib_error(s, c->word->col, "share", rc, NULL);
	if (sh.size > MSC_MAX_MEMORY - s->memory_used) {
		close(sh.fd);
		return msc_error(s, c->pos[1]->col,
				 "share: size 0x%" PRIx64 " is over the memory limit (%" PRIu64
				 " MiB left of 8 GiB per session)",
				 sh.size, (uint64_t)((MSC_MAX_MEMORY - s->memory_used) >> 20));
	}
	rc = ms_region_new_ram_with(
		&r, s->ctx,
		&(ms_ram_opts){.name = c->pos[0]->text,
			       .size = sh.size,
			       .backend = MS_RAM_FD,
			       .flags = MS_RAM_SHARED | (sh.readonly ? MS_RAM_READONLY : 0),
			       .fd = sh.fd,
			       .offset = sh.offset});
	close(sh.fd); /* the region keeps a duplicate */
	if (rc)
		return msc_lib_error(s, c->word->col, "share", rc, NULL);
	s->memory_used += sh.size;
	if (msc_finish_region(s, c, r, NULL, &place, NULL)) {
		s->memory_used -= sh.size;
		return 1;
	}
	fprintf(s->o.out,
		"share %s: received %s, size 0x%" PRIx64 ", offset 0x%" PRIx64 ", page 0x%" PRIx64
		", readonly %s\n",
		c->pos[0]->text, msc_quote_str(s, sh.name), sh.size, sh.offset, sh.page_size,
		sh.readonly ? "yes" : "no");
	return 0;
}

/* ---- remap ---------------------------------------------------------------------- */

static int remap_arg(msc_session *s, const msc_word *w, msc_remap_ent **out)
{
	*out = msc_arg_entry(s, w, &s->remaps, "remap", true);
	return *out ? 0 : 1;
}

void msc_remap_release(msc_remap_ent *e)
{
	ms_remap_free(e->m);
	for (size_t i = 0; i < e->nr_pieces; i++)
		ms_region_unref(e->pieces[i].r);
	free(e->pieces);
	free(e);
}

/* Where a walk over the ranges stopped, and why (ms_as_remap()'s rules). */
typedef struct remap_fault {
	size_t range; /* its index */
	uint64_t addr;
	ms_section sec; /* .region NULL for a hole */
	ms_ram_info info;
	uint64_t offset, take; /* of the piece in its region */
} remap_fault;

/* Can @take bytes at @offset of @sec's region land at @pos of the host range? */
static int check_piece(const ms_section *sec, uint64_t offset, uint64_t take, uint64_t pos,
		       ms_ram_info *info)
{
	ms_region_kind kind = ms_region_get_kind(sec->region);

	if ((kind != MS_REGION_RAM && kind != MS_REGION_RAM_PTR) || sec->readonly)
		return -EFAULT;
	if (ms_region_ram_info(sec->region, info) < 0 || info->fd < 0 || !info->shared ||
	    !info->host)
		return -ENOTSUP;
	if ((info->fd_offset + offset) % info->page_size || take % info->page_size ||
	    pos % info->page_size)
		return -EINVAL;
	return 0;
}

/* Append a piece to @e (or extend the last one, inside one range). 0 or -ENOMEM. */
static int add_piece(msc_remap_ent *e, ms_region *r, uint64_t offset, uint64_t addr, uint64_t take,
		     bool new_range)
{
	msc_remap_piece *last = e->nr_pieces ? &e->pieces[e->nr_pieces - 1] : NULL;

	if (!new_range && last && last->r == r && last->offset + last->len == offset) {
		last->len += take;
		return 0;
	}
	if (msc_grow((void **)&e->pieces, &e->cap_pieces, e->nr_pieces, sizeof(*e->pieces), 4))
		return -ENOMEM;
	e->pieces[e->nr_pieces++] = (msc_remap_piece){ms_region_ref(r), offset, addr, take};
	return 0;
}

/*
 * Resolve the @n ranges in @fv as ms_as_remap() does, recording the pieces
 * in @e. On a byte the remap refuses, fill @f and return -EFAULT, -ENOTSUP
 * or -EINVAL; -E2BIG past @max pieces (before the work grows with them),
 * -ENOMEM when a piece cannot be recorded.
 */
static int walk(msc_remap_ent *e, const ms_flatview *fv, const ms_ram_range *ranges, size_t n,
		remap_fault *f, size_t max)
{
	uint64_t pos = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t addr = ranges[i].addr, left = ranges[i].len;
		bool new_range = true;

		while (left) {
			ms_section sec;
			ms_ram_info info;
			uint64_t take, offset;
			int rc;

			memset(&sec, 0, sizeof(sec));
			if (ms_flatview_find(&sec, fv, addr) < 0) {
				*f = (remap_fault){.range = i, .addr = addr};
				return -EFAULT;
			}
			take = sec.last - addr >= left - 1 ? left : sec.last - addr + 1;
			offset = sec.offset_in_region + (addr - sec.start);
			rc = check_piece(&sec, offset, take, pos, &info);
			if (rc) {
				*f = (remap_fault){i, addr, sec, info, offset, take};
				return rc;
			}
			if (add_piece(e, sec.region, offset, addr, take, new_range))
				return -ENOMEM;
			if (e->nr_pieces > max)
				return -E2BIG;
			new_range = false;
			addr += take;
			pos += take;
			left -= take;
		}
	}
	return 0;
}

/*
 * Report why ms_as_remap() refused the ranges with @rc; @walked and @f are
 * what walk() found: the byte at fault, reported at the column of its range.
 */
static int remap_refused(msc_session *s, msc_call *c, const remap_fault *f, int walked, int rc)
{
	char why[512];
	const char *region;

	if (walked != rc || (rc != -EFAULT && rc != -ENOTSUP && rc != -EINVAL))
		return msc_lib_error(s, c->word->col, "remap", rc, NULL);
	region = f->sec.region ? msc_quote_str(s, ms_region_name(f->sec.region)) : NULL;
	if (!region)
		snprintf(why, sizeof(why), "nothing is mapped at 0x%" PRIx64 " (a hole)", f->addr);
	else if (rc == -EFAULT)
		snprintf(why, sizeof(why),
			 "0x%" PRIx64
			 " is in region %s (%s), not writable RAM: remap takes RAM only",
			 f->addr, region,
			 ms_region_get_kind(f->sec.region) == MS_REGION_RAM && f->sec.readonly
				 ? "readonly ram"
				 : msc_section_type(&f->sec));
	else if (rc == -ENOTSUP)
		snprintf(why, sizeof(why),
			 "0x%" PRIx64 " is in RAM %s, whose memory %s: create it with "
			 "backend=memfd, or backend=file shared",
			 f->addr, region,
			 !f->info.host ? "does not exist (layout only)"
				       : "is not shared (anonymous, a private file or a pointer)");
	else if ((f->info.fd_offset + f->offset) % f->info.page_size)
		snprintf(why, sizeof(why),
			 "0x%" PRIx64 " is offset 0x%" PRIx64 " in the memory of RAM %s, not a "
			 "multiple of its page size 0x%" PRIx64,
			 f->addr, f->info.fd_offset + f->offset, region, f->info.page_size);
	else
		snprintf(why, sizeof(why),
			 "the 0x%" PRIx64 " bytes of RAM %s from 0x%" PRIx64
			 " are not a multiple of its page size 0x%" PRIx64
			 " (it ends inside a page)",
			 f->take, region, f->addr, f->info.page_size);
	return msc_lib_error(s, c->pos[1 + 2 * f->range]->col, "remap", rc, why);
}

/* Take back the entry msc_new_entry() just made for a remap, with its pieces. */
static void drop_new_remap(msc_session *s, msc_remap_ent *e)
{
	msc_table_remove(&s->remaps, s->remaps.nr - 1);
	msc_remap_release(e);
}

/* remap NAME ADDR LEN [ADDR LEN]... [as=AS] */
int msc_do_remap(msc_session *s, msc_call *c)
{
	ms_ram_range ranges[MSC_MAX_WORDS / 2];
	uint64_t page = host_page_size(), total = 0;
	msc_remap_ent *e;
	ms_flatview *fv;
	remap_fault f;
	size_t n = 0;
	ms_as *as;
	int rc, walked;

	if (msc_check_new_name(s, c->pos[0], "remap", &s->remaps) || msc_access_as(s, c, &as))
		return 1;
	if (c->npos % 2 == 0)
		return msc_error(s, c->pos[c->npos - 1]->col,
				 "remap: the address %s has no length (remap NAME ADDR LEN [ADDR "
				 "LEN]...)",
				 msc_quote_word(s, c->pos[c->npos - 1]));
	for (size_t i = 1; i + 1 < c->npos; i += 2, n++) {
		uint64_t addr, len;

		if (msc_arg_number(s, c->pos[i], "address", false, &addr) ||
		    msc_arg_number(s, c->pos[i + 1], "length", false, &len))
			return 1;
		if (len == 0)
			return msc_error(s, c->pos[i + 1]->col, "remap: a range cannot be empty");
		if (addr % page)
			return msc_error(s, c->pos[i]->col,
					 "remap: EINVAL: the address 0x%" PRIx64
					 " is not a multiple of the host page size (0x%" PRIx64 ")",
					 addr, page);
		if (len % page)
			return msc_error(s, c->pos[i + 1]->col,
					 "remap: EINVAL: the length 0x%" PRIx64
					 " is not a multiple of the host page size (0x%" PRIx64 ")",
					 len, page);
		if (len - 1 > UINT64_MAX - addr)
			return msc_error(s, c->pos[i + 1]->col,
					 "remap: 0x%" PRIx64 " bytes from 0x%" PRIx64
					 " run past the end of the address space",
					 len, addr);
		if (len > MSC_MAX_REMAP_BYTES - s->remap_bytes - total)
			return msc_error(s, c->pos[i + 1]->col,
					 "remap: the remaps would map more than %" PRIu64
					 " GiB at once (remap-free some first)",
					 (uint64_t)(MSC_MAX_REMAP_BYTES >> 30));
		ranges[n] = (ms_ram_range){addr, len};
		total += len;
	}
	e = msc_new_entry(s, c, &s->remaps, sizeof(*e), MSC_MAX_REMAPS, "remaps");
	if (!e)
		return 1;
	/*
	 * Find the pieces first, to bound them (each is a host mapping), then
	 * let the library decide from the same view: nothing runs in between.
	 */
	fv = ms_as_get_flatview(as);
	walked = walk(e, fv, ranges, n, &f, MSC_MAX_REMAP_PIECES - s->remap_pieces);
	if (walked == -E2BIG || walked == -ENOMEM) {
		ms_flatview_unref(fv);
		drop_new_remap(s, e);
		if (walked == -ENOMEM)
			return msc_lib_error(s, c->word->col, "remap", walked, NULL);
		return msc_error(
			s, c->word->col,
			"remap: the remaps would have more than %u pieces at once (one per "
			"region a range crosses; remap-free some first)",
			MSC_MAX_REMAP_PIECES);
	}
	rc = ms_as_remap(&e->m, as, ranges, n);
	if (rc)
		rc = remap_refused(s, c, &f, walked, rc);
	else if (walked)
		rc = msc_lib_error(s, c->word->col, "remap", -EIO,
				   "the library took ranges the script found invalid");
	ms_flatview_unref(fv);
	if (rc) {
		drop_new_remap(s, e);
		return 1;
	}
	s->remap_bytes += total;
	s->remap_pieces += e->nr_pieces;
	fprintf(s->o.out, "remap %s: 0x%" PRIx64 " bytes, %zu piece%s\n", e->name, total,
		e->nr_pieces, e->nr_pieces == 1 ? "" : "s");
	total = 0;
	for (size_t i = 0; i < e->nr_pieces; total += e->pieces[i].len, i++) {
		const msc_remap_piece *p = &e->pieces[i];

		if (i == MSC_REMAP_PRINT) {
			fprintf(s->o.out, "  ... %zu more piece%s\n", e->nr_pieces - i,
				e->nr_pieces - i == 1 ? "" : "s");
			break;
		}
		fprintf(s->o.out,
			"  +0x%" PRIx64 "-0x%" PRIx64 " <- 0x%" PRIx64 "-0x%" PRIx64
			" %s +0x%" PRIx64 "\n",
			total, total + p->len - 1, p->addr, p->addr + (p->len - 1),
			ms_region_name(p->r), p->offset);
	}
	return 0;
}

/* OFFSET and a length inside remap @e, or an error at the column of @w. */
static int check_inside(msc_session *s, msc_call *c, const msc_word *w, msc_remap_ent *e,
			uint64_t off, uint64_t len)
{
	uint64_t size = ms_remap_len(e->m);

	if (off > size || len > size - off)
		return msc_error(s, w->col,
				 "%s: %" PRIu64 " byte%s at +0x%" PRIx64
				 " run%s past the end of remap %s (0x%" PRIx64 " bytes)",
				 c->cmd->name, len, len == 1 ? "" : "s", off, len == 1 ? "s" : "",
				 msc_quote_str(s, e->name), size);
	return 0;
}

/* remap-read NAME OFFSET LEN: the bytes of the host range, as read prints them. */
int msc_do_remap_read(msc_session *s, msc_call *c)
{
	const uint8_t *p;
	msc_remap_ent *e;
	uint64_t off, len;

	if (remap_arg(s, c->pos[0], &e) || msc_arg_number(s, c->pos[1], "offset", false, &off) ||
	    msc_arg_number(s, c->pos[2], "length", false, &len) ||
	    check_inside(s, c, c->pos[2], e, off, len) ||
	    msc_check_length(s, c, c->pos[2], len, MSC_MAX_PRINT))
		return 1;
	p = (const uint8_t *)ms_remap_ptr(e->m) + off;
	fprintf(s->o.out, "remap-read %s +0x%" PRIx64 " %" PRIu64, e->name, off, len);
	if (len > 16) {
		fputs(":\n", s->o.out);
		msc_hexdump(s, off, p, (size_t)len);
		return 0;
	}
	fputs(" ->", s->o.out);
	for (uint64_t i = 0; i < len; i++)
		fprintf(s->o.out, " %02x", p[i]);
	fputc('\n', s->o.out);
	return 0;
}

/* remap-write NAME OFFSET DATA...: store through the host range, then mark the bytes dirty. */
int msc_do_remap_write(msc_session *s, msc_call *c)
{
	uint8_t buf[MSC_MAX_LINE];
	msc_remap_ent *e;
	uint64_t off, pos = 0;
	size_t len;

	if (remap_arg(s, c->pos[0], &e) || msc_arg_number(s, c->pos[1], "offset", false, &off) ||
	    msc_arg_data(s, c, 2, buf, sizeof(buf), &len) ||
	    check_inside(s, c, c->pos[1], e, off, len))
		return 1;
	memcpy((uint8_t *)ms_remap_ptr(e->m) + off, buf, len);
	/* The library did not see the write: tell dirty logging, piece by piece. */
	for (size_t i = 0; i < e->nr_pieces && len; pos += e->pieces[i].len, i++) {
		const msc_remap_piece *p = &e->pieces[i];
		uint64_t lo = off > pos ? off : pos, hi = off + len;

		if (hi > pos + p->len)
			hi = pos + p->len;
		if (lo < hi)
			(void)ms_region_set_dirty(p->r, p->offset + (lo - pos), hi - lo);
	}
	fprintf(s->o.out, "remap-write %s +0x%" PRIx64 " %zu byte%s\n", e->name, off, len,
		len == 1 ? "" : "s");
	return 0;
}

/* remap-free NAME */
int msc_do_remap_free(msc_session *s, msc_call *c)
{
	msc_remap_ent *e;

	if (remap_arg(s, c->pos[0], &e))
		return 1;
	s->remap_bytes -= ms_remap_len(e->m);
	s->remap_pieces -= e->nr_pieces;
	msc_table_remove(&s->remaps, msc_table_index_of(&s->remaps, e));
	msc_remap_release(e);
	return 0;
}
