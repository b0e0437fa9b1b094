/*
 * memspace CLI: the interpreter's sessions, run loop and dispatcher (see
 * script.h, script_int.h and docs/script.md). The dispatcher sorts a line's
 * words into arguments and options by the command's parameters before the
 * handler runs. Limits from script.h bound the work of every line; the
 * region count and RAM-backed bytes are counted over the whole session.
 * msc_session_free() closes transactions, releases remaps, caches, notifiers, map
 * clients and mappings, frees the VFIO containers (their pins) and the TCE
 * tables (their windows, while the context lives), then the context
 * (address spaces, listeners, regions), and only then the device models,
 * IOMMU models and memory blocks the regions pointed at.
 *
 * SPDX-License-Identifier: MIT
 */
#include "script.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "script_int.h"

/* ---- the dispatcher ---------------------------------------------------- */

/* Could @w be meant as an option (key=value or a flag of @cmd)? */
static bool looks_like_option(const msc_command *cmd, const msc_word *w)
{
	if (w->eq > 0)
		return true; /* an unquoted '=' after the key: owner="a b" */
	if (w->quoted)
		return false;
	if (w->eq < 0 && msc_option_of(cmd, w))
		return true;
	return w->len > 1 && w->text[0] == '-' && !(w->text[1] >= '0' && w->text[1] <= '9');
}

/* The key of option word @w: "in" of in=VALUE, or the flag. */
static size_t key_len(const msc_word *w)
{
	return w->eq >= 0 ? (size_t)w->eq : w->len;
}

static int run_words(msc_session *s, msc_line *ln)
{
	msc_word *w0 = &ln->words[0];
	const msc_command *cmd = msc_find_command(w0->text, w0->len);
	const char *best;
	unsigned min_pos, max_pos;
	char usage[256];
	msc_call c;
	size_t i, j;

	if (!cmd) {
		best = msc_suggest_command(w0->text, w0->len);
		if (best)
			return msc_error(s, w0->col, "unknown command %s (did you mean %s?)",
					 msc_quote_word(s, w0), msc_quote_str(s, best));
		return msc_error(s, w0->col, "unknown command %s (try 'help')",
				 msc_quote_word(s, w0));
	}
	c.cmd = cmd;
	c.word = w0;
	c.npos = c.nopt = 0;
	for (i = 1; i < ln->nr_words; i++) {
		msc_word *w = &ln->words[i];

		if (!(cmd->flags & MSC_CMD_RAW) && looks_like_option(cmd, w)) {
			if (!msc_option_of(cmd, w))
				return msc_error(
					s, w->col, "%s: unknown option %s (usage: %s)", cmd->name,
					w->eq >= 0 ? msc_quote(s, w->text, (size_t)w->eq + 1)
						   : msc_quote_word(s, w),
					msc_usage(usage, sizeof(usage), cmd));
			for (j = 0; j < c.nopt; j++)
				if (key_len(c.opt[j]) == key_len(w) &&
				    memcmp(c.opt[j]->text, w->text, key_len(w)) == 0)
					return msc_error(s, w->col, "%s: option %s given twice",
							 cmd->name,
							 msc_quote(s, w->text, key_len(w)));
			c.opt[c.nopt++] = w;
		} else {
			c.pos[c.npos++] = w;
		}
	}
	msc_arg_counts(cmd, &min_pos, &max_pos);
	if (c.npos < min_pos)
		return msc_error(s,
				 c.npos ? c.pos[c.npos - 1]->col + (unsigned)c.pos[c.npos - 1]->len
					: w0->col + (unsigned)w0->len,
				 "%s: missing argument (usage: %s)", cmd->name,
				 msc_usage(usage, sizeof(usage), cmd));
	if (c.npos > max_pos)
		return msc_error(s, c.pos[max_pos]->col, "%s: unexpected %s (usage: %s)", cmd->name,
				 msc_quote_word(s, c.pos[max_pos]),
				 msc_usage(usage, sizeof(usage), cmd));
	return cmd->fn(s, &c);
}

/* ---- named entries ----------------------------------------------------- */

void *msc_new_entry(msc_session *s, msc_call *c, msc_table *t, size_t size, size_t limit,
		    const char *what)
{
	const char **entry;

	if (t->nr == limit) {
		msc_error(s, c->word->col, "%s: too many %s (the limit is %zu)", c->cmd->name, what,
			  limit);
		return NULL;
	}
	entry = calloc(1, size);
	if (entry) {
		*entry = msc_table_add(t, c->pos[0]->text, c->pos[0]->len, entry);
		if (!*entry) {
			free(entry);
			entry = NULL;
		}
	}
	if (!entry)
		msc_lib_error(s, c->word->col, c->cmd->name, -ENOMEM, NULL);
	return entry;
}

void msc_drop_new_entry(msc_table *t)
{
	free(msc_table_remove(t, t->nr - 1));
}

/* ---- sessions ---------------------------------------------------------- */

int msc_session_new(msc_session **out, const msc_options *opts)
{
	msc_session *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->o = *opts;
	s->file = "-";
	s->words = malloc(sizeof(*s->words));
	if (!s->words || ms_ctx_new(&s->ctx)) {
		free(s->words);
		free(s);
		return -ENOMEM;
	}
	s->regions.swap_remove = true;
	s->clients.swap_remove = true;
	/* A few lines of aliases can describe billions of ranges: bound the work. */
	ms_ctx_set_render_limit(s->ctx, MSC_MAX_VIEW_RANGES);
	*out = s;
	return 0;
}

int msc_session_line(msc_session *s, const char *name, unsigned long lineno, const char *line,
		     size_t len)
{
	const char *msg;
	unsigned col;
	int rc;

	if (s->quit)
		return 2;
	s->file = name;
	s->lineno = lineno;
	s->line = line;
	s->line_len = len;
	if (len > MSC_MAX_LINE) {
		s->line_len = MSC_MAX_LINE;
		rc = msc_error(s, MSC_MAX_LINE + 1, "line too long (the limit is %u bytes)",
			       MSC_MAX_LINE);
	} else if (msc_lex(s->words, line, len, &col, &msg) < 0) {
		rc = msc_error(s, col, "%s", msg);
	} else if (s->words->nr_words == 0) {
		rc = 0;
	} else {
		rc = run_words(s, s->words);
	}
	fflush(s->o.out);
	s->line = NULL;
	if (rc)
		return 1;
	return s->quit ? 2 : 0;
}

int msc_session_finish(msc_session *s, const char *name, unsigned long lineno)
{
	int rc = 0;

	s->file = name;
	s->lineno = lineno;
	if (s->txn_depth) {
		unsigned long begun = s->txn_line;

		s->lineno = begun;
		rc = msc_error(s, 1,
			       "transaction begun here was never committed (committed at the end)");
		while (s->txn_depth) {
			int crc = ms_transaction_commit(s->ctx);

			s->txn_depth--;
			if (crc)
				msc_lib_error(s, 1, "commit", crc, NULL);
		}
	}
	fflush(s->o.out);
	return rc;
}

void msc_session_free(msc_session *s)
{
	size_t i;

	if (!s)
		return;
	s->closing = true;
	while (s->txn_depth) {
		ms_transaction_commit(s->ctx);
		s->txn_depth--;
	}
	/* First: a device's DMA and IOMMU notifier stop while what they use exists. */
	msc_vfio_user_disconnect_all(s);
	/* Before the context: a remap holds references on regions. */
	for (i = 0; i < s->remaps.nr; i++)
		msc_remap_release(msc_table_item(&s->remaps, i));
	for (i = 0; i < s->caches.nr; i++) {
		msc_cache_ent *e = msc_table_item(&s->caches, i);

		ms_cache_destroy(&e->c);
		free(e);
	}
	for (i = 0; i < s->notifiers.nr; i++) {
		msc_notifier_ent *e = msc_table_item(&s->notifiers, i);

		ms_iommu_unregister_notifier(e->n);
		free(e);
	}
	for (i = 0; i < s->clients.nr; i++) {
		msc_client_ent *e = msc_table_item(&s->clients, i);

		ms_as_unregister_map_client(e->c);
		free(e);
	}
	for (i = 0; i < s->nr_mappings; i++)
		ms_as_unmap(s->mappings[i].as, s->mappings[i].p, s->mappings[i].len,
			    s->mappings[i].is_write, 0);
	for (i = 0; i < s->containers.nr; i++) {
		msc_container_ent *e = msc_table_item(&s->containers, i);

		ms_vfio_container_free(e->c);
		free(e);
	}
	for (i = 0; i < s->devtlbs.nr; i++) {
		msc_devtlb_ent *e = msc_table_item(&s->devtlbs, i);

		ms_devtlb_free(e->d);
		free(e);
	}
	/* Nothing accesses memory from here on, as ms_tce_free(), ms_mpc_free() and
	 * ms_vtd_free() require. */
	for (i = 0; i < s->mpcs.nr; i++) {
		msc_mpc_ent *e = msc_table_item(&s->mpcs, i);

		ms_mpc_free(e->m);
		free(e);
	}
	msc_vtd_free_all(s);
	for (i = 0; i < s->tces.nr; i++) {
		msc_tce_ent *e = msc_table_item(&s->tces, i);

		ms_tce_free(e->t);
		free(e);
	}
	ms_ctx_free(s->ctx);
	msc_vfio_user_free_all(s);
	msc_eventfds_close(s);
	for (i = 0; i < s->listeners.nr; i++)
		free(msc_table_item(&s->listeners, i));
	for (i = 0; i < s->regions.nr; i++)
		free(msc_table_item(&s->regions, i));
	msc_table_free(&s->regions);
	msc_table_free(&s->spaces);
	msc_table_free(&s->listeners);
	msc_table_free(&s->clients);
	msc_table_free(&s->notifiers);
	msc_table_free(&s->caches);
	msc_table_free(&s->tces);
	msc_table_free(&s->containers);
	msc_table_free(&s->mpcs);
	msc_table_free(&s->devtlbs);
	msc_table_free(&s->remaps);
	for (i = 0; i < s->nr_devices; i++)
		msc_device_free(s->devices[i]);
	free(s->devices);
	for (i = 0; i < s->nr_models; i++)
		msc_iommu_free(s->models[i]);
	free(s->models);
	for (i = 0; i < s->nr_blocks; i++)
		munmap(s->blocks[i].p, s->blocks[i].len);
	free(s->blocks);
	free(s->words);
	free(s);
}

unsigned long msc_session_errors(const msc_session *s)
{
	return s->errors;
}

/* The tables whose names the shell completes, in the order it offers them. */
static const msc_table *named(const msc_session *s, size_t i)
{
	const msc_table *tables[] = {&s->regions,   &s->spaces,  &s->listeners, &s->clients,
				     &s->notifiers, &s->caches,  &s->tces,      &s->containers,
				     &s->mpcs,      &s->devtlbs, &s->remaps,    &s->vtds,
				     &s->vfio_users};

	return i < sizeof(tables) / sizeof(tables[0]) ? tables[i] : NULL;
}

size_t msc_session_nr_names(const msc_session *s)
{
	size_t n = 0;

	for (size_t t = 0; named(s, t); t++)
		n += named(s, t)->nr;
	return n;
}

const char *msc_session_name(const msc_session *s, size_t i)
{
	const msc_table *t;

	for (size_t k = 0; (t = named(s, k)) != NULL; k++) {
		if (i < t->nr)
			return msc_table_name(t, i);
		i -= t->nr;
	}
	return NULL;
}

int msc_run_text_opts(const char *text, size_t len, const char *name, const msc_options *opts)
{
	msc_session *s;
	unsigned long lineno = 0;
	size_t pos = 0;
	int rc = 0;

	if (msc_session_new(&s, opts)) {
		fprintf(opts->err, "%s: out of memory\n", name);
		return 1;
	}
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;

		rc = msc_session_line(s, name, ++lineno, text + pos, end - pos);
		pos = end + 1;
		if (rc == 2 || (rc == 1 && !opts->keep_going))
			break;
	}
	if (rc != 1 || opts->keep_going)
		msc_session_finish(s, name, lineno);
	rc = msc_session_errors(s) ? 1 : 0;
	msc_session_free(s);
	return rc;
}

int msc_run_text(const char *text, size_t len, const char *name, FILE *out, FILE *err,
		 bool keep_going)
{
	msc_options o = {out, err, keep_going, false, false, false, false};

	return msc_run_text_opts(text, len, name, &o);
}
