/*
 * memspace CLI: pictures of the memory map (mapview.h, docs/memory-map.md).
 *
 *   memspace map [--html FILE | --svg FILE] [--as NAME] INPUT
 *   map-picture [FILE] [as=AS] [html]          (script command)
 *
 * INPUT is a QEMU `info mtree -D` dump (its first line that is not blank
 * starts with "address-space:"), loaded layout only as `memspace mtree`
 * does, or else a script, run with its output discarded; the picture shows
 * the address spaces the input left, in creation order.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "buffer.h"
#include "cli.h"
#include "mapview.h"
#include "mtree_import.h"
#include "script_int.h"

/* ---- the session's IOMMUs ------------------------------------------------- */

/* Where an IOMMU region made by the script translates into, if the session knows. */
static const char *session_iommu_target(ms_region *iommu, void *payload)
{
	msc_session *s = payload;

	/* A TCE window: its table translates into the table's target. */
	for (size_t i = 0; i < s->tces.nr; i++) {
		const msc_tce_ent *tce = s->tces.entries[i].item;

		for (unsigned w = 0; tce->target && w < MS_TCE_MAX_WINDOWS; w++)
			if (ms_tce_window_region(tce->t, w) == iommu)
				return ms_as_name(tce->target);
	}
	/* An MPC: it passes accesses on to its downstream region. */
	for (size_t i = 0; i < s->mpcs.nr; i++) {
		const msc_mpc_ent *mpc = s->mpcs.entries[i].item;

		if (ms_mpc_region(mpc->m) == iommu && mpc->downstream)
			return ms_region_name(mpc->downstream);
	}
	for (size_t i = 0; i < s->regions.nr; i++) {
		const msc_region_ent *ent = s->regions.entries[i].item;
		const msc_vtd_dev_ent *dev;

		if (ent->r != iommu)
			continue;
		if (ent->mmu && msc_iommu_target(ent->mmu))
			return ms_as_name(msc_iommu_target(ent->mmu));
		dev = msc_table_lookup(&s->vtd_devs, ent->name, strlen(ent->name));
		if (dev && dev->unit && dev->unit->memory)
			return ms_as_name(dev->unit->memory);
	}
	return NULL;
}

/* The session's address spaces in creation order (@only: just that one). */
static ms_as **session_spaces(msc_session *s, ms_as *only, size_t *nr)
{
	ms_as **v = calloc(s->spaces.nr ? s->spaces.nr : 1, sizeof(*v));

	*nr = 0;
	if (!v)
		return NULL;
	if (only) {
		v[(*nr)++] = only;
		return v;
	}
	for (size_t i = 0; i < s->spaces.nr; i++)
		v[(*nr)++] = s->spaces.entries[i].item;
	return v;
}

/* ---- map-picture ------------------------------------------------------------- */

int msc_do_map_picture(msc_session *s, msc_call *c)
{
	msc_mapview_opts o = {.iommu_target = session_iommu_target, .payload = s};
	const msc_word *file = c->npos ? c->pos[0] : NULL;
	msc_mapview_stats st;
	ms_as *only = NULL;
	ms_as **spaces;
	FILE *f = s->o.out;
	size_t nr;
	int rc;

	if (msc_opt_as(s, c, "as", &only))
		return 1;
	o.html = msc_opt_word(c, "html") != NULL;
	if (file && !(file->len == 1 && file->text[0] == '-')) {
		if (s->o.no_files)
			return msc_error(s, c->word->col,
					 "map-picture: this session cannot use files");
		if (file->len == 0 || memchr(file->text, '\0', file->len))
			return msc_error(s, file->col, "map-picture: expected a file name");
	} else {
		file = NULL;
	}
	spaces = session_spaces(s, only, &nr);
	if (!spaces)
		return msc_lib_error(s, c->word->col, "map-picture", -ENOMEM, NULL);
	if (file) {
		f = fopen(file->text, "w");
		if (!f) {
			free(spaces);
			return msc_error(s, file->col, "map-picture: cannot create %s: %s",
					 msc_quote_word(s, file), strerror(errno));
		}
	}
	rc = msc_mapview_write(f, spaces, nr, &o, &st);
	if (file && fclose(f) != 0 && rc == 0)
		rc = -EIO;
	free(spaces);
	if (rc)
		return msc_lib_error(s, c->word->col, "map-picture", rc, NULL);
	if (file)
		fprintf(s->o.out, "map-picture: %zu address space%s, %zu region%s, %zu hole%s\n",
			st.nr_spaces, st.nr_spaces == 1 ? "" : "s", st.nr_regions,
			st.nr_regions == 1 ? "" : "s", st.nr_holes, st.nr_holes == 1 ? "" : "s");
	return 0;
}

/* ---- memspace map -------------------------------------------------------------- */

static const char usage_text[] =
	"Usage: memspace map [--html FILE | --svg FILE] [--as NAME] INPUT\n"
	"\n"
	"Draw the memory map of INPUT: one bar per address space, each range a box\n"
	"coloured by kind (RAM, ROM, romd, I/O, RAM device, IOMMU), holes in grey, on\n"
	"a segmented axis (a box's width grows with the logarithm of its size) with\n"
	"true addresses written under it. INPUT is a QEMU `info mtree -D` dump (see\n"
	"docs/mtree.md) or a script, run with its output discarded; '-' is standard\n"
	"input. Without --html or --svg the SVG goes to standard output.\n"
	"\n"
	"  --svg FILE   write the SVG picture to FILE\n"
	"  --html FILE  write a self-contained HTML page (zoomable, with a hover panel)\n"
	"  --as NAME    draw only address space NAME\n"
	"  -h, --help   print this help\n"
	"\n"
	"Writing to a file prints how many address spaces, regions and holes it drew.\n"
	"Exit status: 0 success, 1 unreadable or malformed input, 2 usage error.\n";

struct map_opts {
	const char *out; /* NULL: standard output */
	bool html;
	const char *as_name;
	const char *input;
};

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("memspace map: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'memspace map --help'.\n", stderr);
	return MSC_EXIT_USAGE;
}

/* The value of option @name (--name VALUE or --name=VALUE) at argv[*i], or NULL if not it. */
static const char *option_value(const char *name, int argc, char **argv, int *i, bool *missing)
{
	size_t n = strlen(name);
	const char *a = argv[*i];

	*missing = false;
	if (strncmp(a, name, n) != 0 || (a[n] != '\0' && a[n] != '='))
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (*i + 1 >= argc) {
		*missing = true;
		return NULL;
	}
	return argv[++*i];
}

/* Return -1 to go on, else the exit status. */
static int parse_args(struct map_opts *o, int argc, char **argv)
{
	bool only_files = false;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v;
		bool missing;

		if (only_files || a[0] != '-' || strcmp(a, "-") == 0) {
			if (o->input)
				return usage_error("unexpected argument '%s' (one INPUT only)", a);
			o->input = a;
		} else if (strcmp(a, "--") == 0) {
			only_files = true;
		} else if (msc_is_help(a)) {
			fputs(usage_text, stdout);
			return MSC_EXIT_OK;
		} else if ((v = option_value("--svg", argc, argv, &i, &missing)) || missing ||
			   (v = option_value("--html", argc, argv, &i, &missing)) || missing) {
			bool html = strncmp(a, "--html", 6) == 0;

			if (missing || !*v)
				return usage_error("%s needs a file name",
						   html ? "--html" : "--svg");
			if (o->out)
				return usage_error("%s", "give one of --svg and --html, once");
			o->out = v;
			o->html = html;
		} else if ((v = option_value("--as", argc, argv, &i, &missing)) || missing) {
			if (missing)
				return usage_error("%s", "--as needs an address-space name");
			o->as_name = v;
		} else {
			return usage_error("unknown option '%s'", a);
		}
	}
	if (!o->input)
		return usage_error("%s", "missing INPUT");
	return -1;
}

/* Whether @text looks like an `info mtree` dump: its first non-blank line names an address space. */
static bool is_dump(const char *text, size_t len)
{
	size_t i = 0;

	while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n'))
		i++;
	return len - i >= 14 && memcmp(text + i, "address-space:", 14) == 0;
}

/* Write the picture to o->out (or stdout); the summary line when it went to a file. */
static int write_picture(const struct map_opts *o, ms_as *const *spaces, size_t nr,
			 msc_mapview_opts *mo)
{
	msc_mapview_stats st;
	FILE *f = stdout;
	int rc;

	mo->html = o->html;
	if (o->out) {
		f = fopen(o->out, "w");
		if (!f) {
			fprintf(stderr, "memspace map: cannot create '%s': %s\n", o->out,
				strerror(errno));
			return MSC_EXIT_INPUT;
		}
	}
	rc = msc_mapview_write(f, spaces, nr, mo, &st);
	if (o->out && fclose(f) != 0 && rc == 0)
		rc = -EIO;
	if (rc) {
		fprintf(stderr, "memspace map: cannot write the picture: %s\n", strerror(-rc));
		return MSC_EXIT_INPUT;
	}
	if (o->out)
		printf("memspace map: wrote %s: %zu address space%s, %zu region%s, %zu hole%s\n",
		       o->out, st.nr_spaces, st.nr_spaces == 1 ? "" : "s", st.nr_regions,
		       st.nr_regions == 1 ? "" : "s", st.nr_holes, st.nr_holes == 1 ? "" : "s");
	return MSC_EXIT_OK;
}

static void on_warning(const msc_mtree_diag *d, void *payload)
{
	const char *name = payload;

	if (d->line)
		fprintf(stderr, "%s:%lu: warning: %s\n", name, d->line, d->message);
	else
		fprintf(stderr, "%s: warning: %s\n", name, d->message);
}

static int map_dump(const struct map_opts *o, const char *name, const char *text, size_t len)
{
	msc_mapview_opts mo = {.title = name};
	msc_mtree_diag diag;
	msc_mtree *imp = NULL;
	ms_ctx *ctx = NULL;
	ms_as **spaces = NULL;
	size_t nr = 0;
	int rc, status;

	if (ms_ctx_new(&ctx) < 0) {
		fputs("memspace map: out of memory\n", stderr);
		return MSC_EXIT_INPUT;
	}
	/* A picture needs the layout only: any amount of RAM loads. */
	rc = msc_mtree_import_with(&imp, &diag, ctx, text, len, MSC_MTREE_LAYOUT_ONLY, on_warning,
				   (void *)name);
	if (rc < 0) {
		if (diag.line && diag.col)
			fprintf(stderr, "%s:%lu:%lu: %s\n", name, diag.line, diag.col,
				diag.message);
		else if (diag.line)
			fprintf(stderr, "%s:%lu: %s\n", name, diag.line, diag.message);
		else
			fprintf(stderr, "%s: %s\n", name, diag.message);
		ms_ctx_free(ctx);
		return MSC_EXIT_INPUT;
	}
	nr = msc_mtree_import_nr_as(imp);
	spaces = calloc(nr ? nr : 1, sizeof(*spaces));
	if (!spaces) {
		status = MSC_EXIT_INPUT;
		fputs("memspace map: out of memory\n", stderr);
	} else if (o->as_name) {
		spaces[0] = msc_mtree_import_find_as(imp, o->as_name);
		nr = 1;
		if (!spaces[0]) {
			fprintf(stderr, "%s: no address space named '%s'\n", name, o->as_name);
			status = MSC_EXIT_INPUT;
		} else {
			status = write_picture(o, spaces, nr, &mo);
		}
	} else {
		for (size_t i = 0; i < nr; i++)
			spaces[i] = msc_mtree_import_as(imp, i);
		status = write_picture(o, spaces, nr, &mo);
	}
	free(spaces);
	msc_mtree_import_free(imp);
	ms_ctx_free(ctx);
	return status;
}

static int map_script(const struct map_opts *o, const char *name, const char *text, size_t len)
{
	msc_mapview_opts mo = {.title = name, .iommu_target = session_iommu_target};
	msc_options so = {0};
	msc_session *s;
	unsigned long lineno = 0;
	size_t pos = 0, nr;
	ms_as *only = NULL;
	ms_as **spaces;
	FILE *devnull;
	int rc = 0, status;

	devnull = fopen("/dev/null", "w");
	if (!devnull) {
		fprintf(stderr, "memspace map: cannot open /dev/null: %s\n", strerror(errno));
		return MSC_EXIT_INPUT;
	}
	so.out = devnull;
	so.err = stderr;
	if (msc_session_new(&s, &so)) {
		fclose(devnull);
		fputs("memspace map: out of memory\n", stderr);
		return MSC_EXIT_INPUT;
	}
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;

		rc = msc_session_line(s, name, ++lineno, text + pos, end - pos);
		pos = end + 1;
		if (rc)
			break; /* an error (1) or quit (2) */
	}
	if (rc != 1)
		msc_session_finish(s, name, lineno);
	status = MSC_EXIT_INPUT;
	if (msc_session_errors(s)) {
		fprintf(stderr, "memspace map: %s has errors: no picture\n", name);
	} else if (o->as_name &&
		   !(only = msc_table_lookup(&s->spaces, o->as_name, strlen(o->as_name)))) {
		fprintf(stderr, "%s: no address space named '%s'\n", name, o->as_name);
	} else if (!(spaces = session_spaces(s, only, &nr))) {
		fputs("memspace map: out of memory\n", stderr);
	} else {
		mo.payload = s;
		status = write_picture(o, spaces, nr, &mo);
		free(spaces);
	}
	msc_session_free(s);
	fclose(devnull);
	return status;
}

int msc_cmd_map(int argc, char **argv)
{
	struct map_opts o = {0};
	const char *name;
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int err, status;

	status = parse_args(&o, argc, argv);
	if (status >= 0)
		return status;
	name = strcmp(o.input, "-") == 0 ? "<stdin>" : o.input;
	f = strcmp(o.input, "-") == 0 ? stdin : fopen(o.input, "rb");
	if (!f) {
		fprintf(stderr, "memspace map: cannot open '%s': %s\n", o.input, strerror(errno));
		return MSC_EXIT_INPUT;
	}
	err = msc_read_stream(f, MSC_MAX_SCRIPT_FILE, &text, &len);
	if (f != stdin)
		fclose(f);
	if (err) {
		fprintf(stderr, "memspace map: cannot read '%s': %s\n", o.input,
			err == EFBIG ? "larger than 256 MiB" : strerror(err));
		return MSC_EXIT_INPUT;
	}
	if (is_dump(text, len))
		status = map_dump(&o, name, text, len);
	else
		status = map_script(&o, name, text, len);
	free(text);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "memspace map: cannot write the output: %s\n", strerror(errno));
		return MSC_EXIT_INPUT;
	}
	return status;
}
