/*
 * memspace CLI: commands about the session itself - list, mtree, echo,
 * heading, help, quit and exit.
 *
 * echo and heading are MSC_CMD_RAW: every word is text, printed as written.
 * quit only marks the session; msc_session_line() reports it to the caller.
 *
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#include "script_int.h"

static void list_names(msc_session *s, const char *what, const msc_table *t)
{
	fprintf(s->o.out, "%s:", what);
	for (size_t i = 0; i < t->nr; i++)
		fprintf(s->o.out, " %s%s", msc_table_name(t, i),
			t == &s->spaces && msc_table_item(t, i) == s->current ? " (current)" : "");
	fputc('\n', s->o.out);
}

int msc_do_list(msc_session *s, msc_call *c)
{
	size_t i;

	(void)c;
	list_names(s, "regions", &s->regions);
	list_names(s, "address spaces", &s->spaces);
	list_names(s, "listeners", &s->listeners);
	fprintf(s->o.out, "mappings:");
	for (i = 0; i < s->nr_mappings; i++)
		fprintf(s->o.out, " %lu", s->mappings[i].id);
	fputc('\n', s->o.out);
	list_names(s, "map clients", &s->clients);
	list_names(s, "notifiers", &s->notifiers);
	list_names(s, "caches", &s->caches);
	list_names(s, "TCE tables", &s->tces);
	list_names(s, "containers", &s->containers);
	/* Listed once the session has one, so that older outputs stay as they were. */
	if (s->mpcs.nr)
		list_names(s, "MPCs", &s->mpcs);
	if (s->devtlbs.nr)
		list_names(s, "device IOTLBs", &s->devtlbs);
	if (s->remaps.nr)
		list_names(s, "remaps", &s->remaps);
	return 0;
}

int msc_do_mtree(msc_session *s, msc_call *c)
{
	unsigned flags = 0;
	int rc;

	if (msc_opt_word(c, "-f"))
		flags |= MS_MTREE_FLAT;
	if (msc_opt_word(c, "-D"))
		flags |= MS_MTREE_DISABLED;
	if (msc_opt_word(c, "-o"))
		flags |= MS_MTREE_OWNER;
	if (msc_opt_word(c, "--json"))
		flags |= MS_MTREE_JSON;
	if (msc_opt_word(c, "-d"))
		flags |= MS_MTREE_DISPATCH;
	rc = ms_mtree_fprint(s->o.out, s->ctx, flags);
	return rc ? msc_lib_error(s, c->word->col, "mtree", rc, NULL) : 0;
}

int msc_do_echo(msc_session *s, msc_call *c)
{
	size_t i;

	for (i = 0; i < c->npos; i++) {
		if (i)
			fputc(' ', s->o.out);
		fwrite(c->pos[i]->text, 1, c->pos[i]->len, s->o.out);
	}
	fputc('\n', s->o.out);
	return 0;
}

int msc_do_heading(msc_session *s, msc_call *c)
{
	if (s->had_heading)
		fputc('\n', s->o.out);
	s->had_heading = true;
	if (s->o.color_out)
		fputs("\033[1m", s->o.out);
	fputs("== ", s->o.out);
	for (size_t i = 0; i < c->npos; i++) {
		if (i)
			fputc(' ', s->o.out);
		fwrite(c->pos[i]->text, 1, c->pos[i]->len, s->o.out);
	}
	fputs(" ==", s->o.out);
	if (s->o.color_out)
		fputs("\033[0m", s->o.out);
	fputc('\n', s->o.out);
	return 0;
}

int msc_do_help(msc_session *s, msc_call *c)
{
	if (c->npos == 0) {
		msc_print_help(s->o.out, NULL);
		return 0;
	}
	if (memchr(c->pos[0]->text, '\0', c->pos[0]->len) ||
	    msc_print_help(s->o.out, c->pos[0]->text) < 0)
		return msc_error(s, c->pos[0]->col, "help: unknown command %s",
				 msc_quote_word(s, c->pos[0]));
	return 0;
}

int msc_do_quit(msc_session *s, msc_call *c)
{
	(void)c;
	s->quit = true;
	return 0;
}
