/*
 * memspace CLI: sPAPR TCE tables (models/tce.h) - tce-table, tce-window,
 * tce-window-remove, tce-info, and the hypercalls tce-put, tce-stuff,
 * tce-put-indirect and tce-get.
 *
 * A table's root region is entered in the regions table under the table's
 * name, so that it can be the root of a device's address space. Tables
 * live until the session ends (their windows' memory does too: the model
 * keeps a removed window until the table is freed), hence the session-wide
 * count of TCEs created. Every argument is checked here, against the
 * window it falls in, before the model is called, so that each mistake
 * gets its own message; what the model still refuses is reported with its
 * errno. A call that fails changes nothing (the model undoes a refused
 * MAP itself).
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "script_int.h"

static int tce_arg(msc_session *s, const msc_word *w, msc_tce_ent **out)
{
	*out = msc_arg_entry(s, w, &s->tces, "TCE table", true);
	return *out ? 0 : 1;
}

uint64_t msc_tce_present(msc_session *s)
{
	uint64_t n = 0;

	for (size_t i = 0; i < s->tces.nr; i++) {
		msc_tce_ent *e = msc_table_item(&s->tces, i);
		ms_tce_table_info info;

		for (unsigned w = 0; w < MS_TCE_MAX_WINDOWS; w++)
			if (ms_tce_window_info(&info, e->t, w) == 0)
				n += info.nr_present;
	}
	return n;
}

/* tce-table NAME TARGET [in=C at=ADDR [prio=N]] [owner=TEXT] */
int msc_do_tce_table(msc_session *s, msc_call *c)
{
	msc_placement place;
	msc_tce_ent *e;
	ms_region *root;
	ms_as *target;
	int rc;

	if (msc_check_region_budget(s, c) ||
	    msc_check_new_name(s, c->pos[0], "region", &s->regions) ||
	    msc_check_new_name(s, c->pos[0], "TCE table", &s->tces) ||
	    msc_arg_as(s, c->pos[1], &target) || msc_parse_placement(s, c, &place))
		return 1;
	/* Tables live until the end of the session: count them all. */
	e = msc_new_entry(s, c, &s->tces, sizeof(*e), MSC_MAX_TCE_TABLES, "TCE tables");
	if (!e)
		return 1;
	e->target = target;
	rc = ms_tce_new(&e->t, s->ctx, c->pos[0]->text, target);
	if (rc) {
		msc_drop_new_entry(&s->tces);
		return msc_lib_error(s, c->word->col, "tce-table", rc, NULL);
	}
	/* The session's own reference, as for every named region (drop releases it). */
	root = ms_region_ref(ms_tce_root(e->t));
	if (msc_finish_region(s, c, root, NULL, &place, NULL)) {
		ms_tce_free(e->t);
		msc_drop_new_entry(&s->tces);
		return 1;
	}
	return 0;
}

/* Is @v one of the page sizes of a window? */
static bool tce_page_size(uint64_t v)
{
	return v && !(v & (v - 1)) && (MS_TCE_PAGE_SIZES & v);
}

/* tce-window TABLE BUS_OFFSET SIZE [page=SIZE] */
int msc_do_tce_window(msc_session *s, msc_call *c)
{
	uint64_t offset, size, page = 4096, nr;
	msc_word *page_w = msc_opt_word(c, "page");
	const msc_word *bad;
	msc_tce_ent *e;
	int rc;

	if (tce_arg(s, c->pos[0], &e) ||
	    msc_arg_number(s, c->pos[1], "bus offset", false, &offset) ||
	    msc_arg_number(s, c->pos[2], "size", true, &size) ||
	    msc_opt_number(s, c, "page", &page))
		return 1;
	if (!tce_page_size(page))
		return msc_error(s, msc_value_of(page_w).col,
				 "tce-window: page= takes 4K, 64K, 2M or 16M, not 0x%" PRIx64,
				 page);
	if (size == 0)
		return msc_error(s, c->pos[2]->col, "tce-window: the size cannot be 0");
	bad = offset & (page - 1) ? c->pos[1] : size & (page - 1) ? c->pos[2] : NULL;
	if (bad)
		return msc_error(s, bad->col,
				 "tce-window: %s is not a multiple of the page size (0x%" PRIx64
				 ")",
				 msc_quote_word(s, bad), page);
	if (size - 1 > UINT64_MAX - offset)
		return msc_error(s, c->pos[2]->col, "tce-window: the window wraps past 2^64");
	nr = size / page;
	if (nr > MS_TCE_MAX_ENTRIES)
		return msc_error(s, c->pos[2]->col,
				 "tce-window: %" PRIu64 " pages is over the limit of %" PRIu64
				 " per window",
				 nr, (uint64_t)MS_TCE_MAX_ENTRIES);
	if (s->tce_entries + nr > MSC_MAX_TCE_ENTRIES)
		return msc_error(s, c->word->col,
				 "tce-window: too many TCEs (the limit is %u per session, counting "
				 "removed windows)",
				 MSC_MAX_TCE_ENTRIES);
	rc = ms_tce_window_create(e->t, offset, size, (unsigned)__builtin_ctzll(page));
	if (rc < 0)
		return msc_lib_error(s, c->word->col, "tce-window", rc,
				     rc == -EBUSY ? "the table has its two windows already, or the "
						    "new one would overlap one"
						  : NULL);
	s->tce_entries += nr;
	fprintf(s->o.out,
		"tce-window %s %d: 0x%" PRIx64 "-0x%" PRIx64 ", page 0x%" PRIx64 ", %" PRIu64
		" entr%s\n",
		e->name, rc, offset, offset + (size - 1), page, nr, nr == 1 ? "y" : "ies");
	return 0;
}

/* The window number @w (the argument of tce-window-remove). */
static int window_arg(msc_session *s, msc_tce_ent *e, const msc_word *w, unsigned *out)
{
	ms_tce_table_info info;
	uint64_t idx;

	if (msc_arg_number(s, w, "window", false, &idx))
		return 1;
	if (idx >= MS_TCE_MAX_WINDOWS || ms_tce_window_info(&info, e->t, (unsigned)idx))
		return msc_error(s, w->col, "%s has no window %" PRIu64 " (tce-info lists them)",
				 msc_quote_str(s, e->name), idx);
	*out = (unsigned)idx;
	return 0;
}

/* tce-window-remove TABLE WINDOW */
int msc_do_tce_window_remove(msc_session *s, msc_call *c)
{
	msc_tce_ent *e;
	unsigned idx;
	int rc;

	if (tce_arg(s, c->pos[0], &e) || window_arg(s, e, c->pos[1], &idx))
		return 1;
	rc = ms_tce_window_remove(e->t, idx);
	return rc ? msc_lib_error(s, c->word->col, "tce-window-remove", rc, NULL) : 0;
}

/* tce-info TABLE */
int msc_do_tce_info(msc_session *s, msc_call *c)
{
	ms_tce_table_info info[MS_TCE_MAX_WINDOWS];
	bool have[MS_TCE_MAX_WINDOWS];
	unsigned nr = 0;
	msc_tce_ent *e;

	if (tce_arg(s, c->pos[0], &e))
		return 1;
	for (unsigned i = 0; i < MS_TCE_MAX_WINDOWS; i++) {
		have[i] = ms_tce_window_info(&info[i], e->t, i) == 0;
		nr += have[i];
	}
	fprintf(s->o.out, "tce-info %s: target %s, %u window%s\n", e->name, ms_as_name(e->target),
		nr, nr == 1 ? "" : "s");
	for (unsigned i = 0; i < MS_TCE_MAX_WINDOWS; i++)
		if (have[i])
			fprintf(s->o.out,
				"  window %u: 0x%" PRIx64 "-0x%" PRIx64 ", page 0x%" PRIx64
				", %" PRIu64 " entr%s, %" PRIu64 " present\n",
				i, info[i].window_start,
				info[i].window_start + (info[i].window_size - 1),
				(uint64_t)1 << info[i].page_shift, info[i].nr_entries,
				info[i].nr_entries == 1 ? "y" : "ies", info[i].nr_present);
	return 0;
}

/*
 * The window of @e holding bus address @ioba (argument @w) with @npages
 * pages from it: its info in *@out, the page index in *@index. Reports an
 * address outside every window, a misaligned one, or pages running past
 * the window's end (@n_w: the page count's argument, for its column).
 */
static int find_pages(msc_session *s, msc_call *c, msc_tce_ent *e, const msc_word *w, uint64_t ioba,
		      uint64_t npages, const msc_word *n_w, ms_tce_table_info *out, uint64_t *index)
{
	for (unsigned i = 0; i < MS_TCE_MAX_WINDOWS; i++) {
		ms_tce_table_info info;
		uint64_t page;

		if (ms_tce_window_info(&info, e->t, i) || ioba < info.window_start ||
		    ioba - info.window_start > info.window_size - 1)
			continue;
		page = (uint64_t)1 << info.page_shift;
		if (ioba & (page - 1))
			return msc_error(s, w->col,
					 "%s: %s is not a multiple of the page size of window %u "
					 "(0x%" PRIx64 ")",
					 c->cmd->name, msc_quote_word(s, w), i, page);
		*index = (ioba - info.window_start) >> info.page_shift;
		if (npages > info.nr_entries - *index)
			return msc_error(s, n_w->col,
					 "%s: %" PRIu64 " pages from 0x%" PRIx64
					 " run past the end of window %u (0x%" PRIx64 "-0x%" PRIx64
					 ")",
					 c->cmd->name, npages, ioba, i, info.window_start,
					 info.window_start + (info.window_size - 1));
		*out = info;
		return 0;
	}
	return msc_error(s, w->col, "%s: no window of %s holds 0x%" PRIx64 " (tce-info lists them)",
			 c->cmd->name, msc_quote_str(s, e->name), ioba);
}

/*
 * Check that TCE @tce could go into a window described by @info: no
 * reserved bit set, its page inside the target. @w is the word it came
 * from, @what how to name it in messages.
 */
static int check_tce(msc_session *s, msc_call *c, msc_tce_ent *e, const ms_tce_table_info *info,
		     uint64_t tce, const msc_word *w, const char *what)
{
	uint64_t page = (uint64_t)1 << info->page_shift, addr = tce & ~(page - 1);
	uint64_t target_size = ms_region_size(ms_as_root(e->target));

	if (!(tce & MS_TCE_RW))
		return 0;
	if (tce & (page - 1) & ~MS_TCE_RW)
		return msc_error(s, w->col,
				 "%s: %s, 0x%" PRIx64 ", sets reserved bits 0x%" PRIx64
				 " (a TCE is an address aligned to the page size, 0x%" PRIx64
				 ", ORed with 1 for read and 2 for write)",
				 c->cmd->name, what, tce, tce & (page - 1) & ~MS_TCE_RW, page);
	if (target_size != MS_SIZE_2_64 && (target_size < page || addr > target_size - page))
		return msc_error(s, w->col,
				 "%s: the page at 0x%" PRIx64
				 " lies beyond address space %s (0x%" PRIx64 " bytes)",
				 c->cmd->name, addr, msc_quote_str(s, ms_as_name(e->target)),
				 target_size);
	return 0;
}

/*
 * Check the pin budget: setting @tces (@n of them, or tces[0] for all when
 * !@step) from page @index of window @info may make at most so many TCEs
 * present, over every table.
 */
static int check_budget(msc_session *s, msc_call *c, msc_tce_ent *e, const ms_tce_table_info *info,
			const uint64_t *tces, bool step, uint64_t n)
{
	uint64_t now = msc_tce_present(s), added = 0;

	if (now + n <= MSC_MAX_PINNABLE)
		return 0;
	for (uint64_t i = 0; i < n && now + added <= MSC_MAX_PINNABLE; i++) {
		uint64_t old = 0;

		if (!(tces[step ? i : 0] & MS_TCE_RW))
			continue;
		ms_tce_get(&old, e->t, info->window_start + (i << info->page_shift));
		added += !(old & MS_TCE_RW);
	}
	if (now + added > MSC_MAX_PINNABLE)
		return msc_error(
			s, c->word->col,
			"%s: too many TCEs set (the limit is %u at once, over every table)",
			c->cmd->name, MSC_MAX_PINNABLE);
	return 0;
}

/* What an error of the model means once the CLI has checked the arguments. */
static int tce_error(msc_session *s, msc_call *c, int rc)
{
	return msc_lib_error(s, c->word->col, c->cmd->name, rc,
			     rc == -EFAULT
				     ? "a VFIO container cannot pin the page (it is not RAM); "
				       "the table is unchanged"
			     : rc == -EIO ? "a notifier refused the mapping; the table is unchanged"
					  : NULL);
}

/* tce-put TABLE IOBA ADDR [perm=ro|wo|rw|none], tce-stuff TABLE IOBA ADDR NPAGES [perm=] */
static int put_or_stuff(msc_session *s, msc_call *c, bool stuff)
{
	uint64_t ioba, addr, npages = 1, index, tce;
	int perm = (int)MS_TCE_RW;
	ms_tce_table_info info;
	msc_tce_ent *e;
	int rc;

	if (tce_arg(s, c->pos[0], &e) || msc_arg_number(s, c->pos[1], "IOBA", false, &ioba) ||
	    msc_arg_number(s, c->pos[2], "address", false, &addr) ||
	    (stuff && msc_arg_number(s, c->pos[3], "page count", false, &npages)) ||
	    msc_opt_keyword(s, c, "perm", &perm))
		return 1;
	if (npages == 0)
		return msc_error(s, c->pos[3]->col, "tce-stuff: the page count cannot be 0");
	if (find_pages(s, c, e, c->pos[1], ioba, npages, c->pos[stuff ? 3 : 1], &info, &index))
		return 1;
	/* A cleared entry ignores the address: a clear is written as 0. */
	tce = perm ? addr | (uint64_t)perm : 0;
	if (perm && (addr & (((uint64_t)1 << info.page_shift) - 1)))
		return msc_error(s, c->pos[2]->col,
				 "%s: %s is not a multiple of the page size (0x%" PRIx64 ")",
				 c->cmd->name, msc_quote_word(s, c->pos[2]),
				 (uint64_t)1 << info.page_shift);
	if (check_tce(s, c, e, &info, tce, c->pos[2], "the TCE"))
		return 1;
	info.window_start += index << info.page_shift; /* check_budget counts from here */
	if (check_budget(s, c, e, &info, &tce, false, npages))
		return 1;
	rc = stuff ? ms_tce_stuff(e->t, ioba, tce, npages) : ms_tce_put(e->t, ioba, tce);
	return rc ? tce_error(s, c, rc) : 0;
}

int msc_do_tce_put(msc_session *s, msc_call *c)
{
	return put_or_stuff(s, c, false);
}

int msc_do_tce_stuff(msc_session *s, msc_call *c)
{
	return put_or_stuff(s, c, true);
}

/* tce-put-indirect TABLE IOBA LIST NPAGES: the list is big-endian TCEs in the target. */
int msc_do_tce_put_indirect(msc_session *s, msc_call *c)
{
	uint8_t raw[MS_TCE_INDIRECT_MAX * 8];
	uint64_t tces[MS_TCE_INDIRECT_MAX];
	uint64_t ioba, list, npages, index;
	ms_tce_table_info info;
	char what[48], res[48];
	msc_tce_ent *e;
	ms_result r;
	int rc;

	if (tce_arg(s, c->pos[0], &e) || msc_arg_number(s, c->pos[1], "IOBA", false, &ioba) ||
	    msc_arg_number(s, c->pos[2], "list address", false, &list) ||
	    msc_arg_number(s, c->pos[3], "page count", false, &npages))
		return 1;
	if (npages == 0 || npages > MS_TCE_INDIRECT_MAX)
		return msc_error(s, c->pos[3]->col,
				 "tce-put-indirect: the page count takes 1 to %u",
				 MS_TCE_INDIRECT_MAX);
	if (list & 0xfff)
		return msc_error(s, c->pos[2]->col,
				 "tce-put-indirect: the list address 0x%" PRIx64
				 " is not a multiple of 4K",
				 list);
	if (find_pages(s, c, e, c->pos[1], ioba, npages, c->pos[3], &info, &index))
		return 1;
	r = ms_as_read(e->target, list, MS_ATTRS_UNSPECIFIED, raw, (size_t)npages * 8);
	if (r != MS_RESULT_OK) {
		msc_result_name(res, sizeof(res), r);
		return msc_error(s, c->pos[2]->col,
				 "tce-put-indirect: cannot read the list at 0x%" PRIx64
				 " in address space %s (%s)",
				 list, msc_quote_str(s, ms_as_name(e->target)), res);
	}
	for (uint64_t i = 0; i < npages; i++) {
		tces[i] = 0;
		for (unsigned b = 0; b < 8; b++)
			tces[i] = tces[i] << 8 | raw[i * 8 + b];
		snprintf(what, sizeof(what), "TCE %" PRIu64 " of the list", i);
		if (check_tce(s, c, e, &info, tces[i], c->pos[2], what))
			return 1;
	}
	info.window_start += index << info.page_shift;
	if (check_budget(s, c, e, &info, tces, true, npages))
		return 1;
	rc = ms_tce_put_indirect(e->t, ioba, list, (unsigned)npages);
	return rc ? tce_error(s, c, rc) : 0;
}

/* tce-get TABLE IOBA */
int msc_do_tce_get(msc_session *s, msc_call *c)
{
	uint64_t ioba, index, tce = 0;
	ms_tce_table_info info;
	msc_tce_ent *e;
	int rc;

	if (tce_arg(s, c->pos[0], &e) || msc_arg_number(s, c->pos[1], "IOBA", false, &ioba) ||
	    find_pages(s, c, e, c->pos[1], ioba, 1, c->pos[1], &info, &index))
		return 1;
	rc = ms_tce_get(&tce, e->t, ioba);
	if (rc)
		return msc_lib_error(s, c->word->col, "tce-get", rc, NULL);
	fprintf(s->o.out, "tce-get %s 0x%" PRIx64 " -> 0x%" PRIx64, e->name, ioba, tce);
	if (tce & MS_TCE_RW)
		fprintf(s->o.out, " (0x%" PRIx64 " %s)\n",
			tce & ~(((uint64_t)1 << info.page_shift) - 1),
			msc_name_text(msc_tce_perm_names, (int)(tce & MS_TCE_RW), "?"));
	else
		fputs(" (cleared)\n", s->o.out);
	return 0;
}
