/*
 * memspace CLI: `memspace mtree [-f] [-D] [-o] [--json] [--at ADDR [--as NAME]] FILE`.
 *
 * Imports a QEMU 7.2 `info mtree -D` dump (mtree_import.h) into a fresh
 * context and prints it again in the requested form (ms_mtree_fprint()), or
 * answers "what is at ADDR in address space NAME, through which aliases".
 * The --at path is found by walking the tree with QEMU's rendering rules
 * (first match in render order wins) and is checked against the published
 * flat view, which stays the authority for the answer.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buffer.h"
#include "cli.h"
#include "lex.h"
#include "memspace.h"
#include "mtree_import.h"

__extension__ typedef __int128 i128;

static const char usage_text[] =
	"Usage: memspace mtree [-f] [-D] [-o] [--json] FILE\n"
	"       memspace mtree --at ADDR [--as NAME] [--json] FILE\n"
	"\n"
	"Load a QEMU 7.2 `info mtree -D` dump (annotated as described in docs/mtree.md),\n"
	"rebuild its regions and address spaces, and print them like QEMU's `info mtree`.\n"
	"FILE may be '-' for standard input.\n"
	"\n"
	"  -f           print the flat views (`info mtree -f`)\n"
	"  -D           include disabled regions in the tree form (`info mtree -D`)\n"
	"  -o           print region owners (`info mtree -o`)\n"
	"  --json       print JSON instead of text\n"
	"  --at ADDR    say which region answers at ADDR, through which aliases, and\n"
	"               at which offset in that region; ADDR is written as in scripts:\n"
	"               4096, 0x1000, 0b101, 64K, 4G, 2^32\n"
	"  --as NAME    the address space for --at (default: \"memory\", else the first)\n"
	"  -h, --help   print this help\n"
	"\n"
	"Exit status: 0 success, 1 unreadable or malformed input, 2 usage error.\n";

struct opts {
	unsigned flags;
	bool json;
	bool at_given;
	uint64_t at;
	const char *as_name;
	const char *file;
};

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("memspace mtree: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'memspace mtree --help'.\n", stderr);
	return MSC_EXIT_USAGE;
}

/* Return -1 to go on, else the exit status. */
static int parse_args(struct opts *o, int argc, char **argv)
{
	bool only_files = false;
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (only_files || a[0] != '-' || strcmp(a, "-") == 0) {
			if (o->file)
				return usage_error("unexpected argument '%s' (one FILE only)", a);
			o->file = a;
		} else if (strcmp(a, "--") == 0) {
			only_files = true;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			fputs(usage_text, stdout);
			return MSC_EXIT_OK;
		} else if (strcmp(a, "--json") == 0) {
			o->json = true;
		} else if (strcmp(a, "--at") == 0 || strncmp(a, "--at=", 5) == 0) {
			const char *why;
			const char *v = a[4] == '=' ? a + 5 : (i + 1 < argc ? argv[++i] : NULL);

			if (!v)
				return usage_error("%s needs an address", "--at");
			/* The same numbers as in scripts, so 4G means what it does there. */
			if (msc_parse_u64(v, strlen(v), false, &o->at, &why) < 0)
				return usage_error("invalid address '%s': %s", v, why);
			o->at_given = true;
		} else if (strcmp(a, "--as") == 0 || strncmp(a, "--as=", 5) == 0) {
			const char *v = a[4] == '=' ? a + 5 : (i + 1 < argc ? argv[++i] : NULL);

			if (!v)
				return usage_error("%s needs an address-space name", "--as");
			o->as_name = v;
		} else if (a[1] != '-') {
			const char *f;

			for (f = a + 1; *f; f++) {
				if (*f == 'f')
					o->flags |= MS_MTREE_FLAT;
				else if (*f == 'D')
					o->flags |= MS_MTREE_DISABLED;
				else if (*f == 'o')
					o->flags |= MS_MTREE_OWNER;
				else
					return usage_error("unknown option '%s'", a);
			}
		} else {
			return usage_error("unknown option '%s'", a);
		}
	}
	if (!o->file)
		return usage_error("%s", "missing FILE");
	if (o->as_name && !o->at_given)
		return usage_error("%s", "--as needs --at");
	if (o->at_given && o->flags)
		return usage_error("%s", "--at cannot be combined with -f, -D or -o");
	return -1;
}

/* Read @path ("-": standard input) whole; 0, or an errno value (EIO for any read error). */
static int read_all(const char *path, char **out, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	int err;

	if (!f)
		return errno ? errno : EIO;
	err = msc_read_stream(f, SIZE_MAX, out, len);
	if (f != stdin)
		fclose(f);
	return err && err != ENOMEM ? EIO : err;
}

static void print_diag(const char *file, const msc_mtree_diag *d, const char *kind)
{
	if (d->line && d->col)
		fprintf(stderr, "%s:%lu:%lu: %s%s\n", file, d->line, d->col, kind, d->message);
	else if (d->line)
		fprintf(stderr, "%s:%lu: %s%s\n", file, d->line, kind, d->message);
	else
		fprintf(stderr, "%s: %s%s\n", file, kind, d->message);
}

static void on_warning(const msc_mtree_diag *d, void *payload)
{
	print_diag(payload, d, "warning: ");
}

/* ---- --at ------------------------------------------------------------------ */

#define MAX_PATH MS_RENDER_MAX_DEPTH

struct step {
	ms_region *region;
	uint64_t start; /* where the region begins in the address space (mod 2^64) */
};

struct at_query {
	uint64_t addr;
	struct step path[MAX_PATH + 8];
	size_t depth;
	ms_region *leaf;
	uint64_t offset;
	bool too_deep;
};

static i128 region_size(const ms_region *r)
{
	uint64_t s = ms_region_size(r);

	return s == MS_SIZE_2_64 ? (i128)1 << 64 : (i128)s;
}

/*
 * Which region renders at q->addr below @mr placed at @base: the first match
 * in render order (children in list order, then a terminating region itself),
 * each level clipped to its own extent. Depth is bounded like rendering.
 */
static bool resolve(struct at_query *q, ms_region *mr, i128 base)
{
	i128 a = (i128)q->addr;
	size_t i, n;

	if (q->depth >= MAX_PATH) {
		q->too_deep = true;
		return false;
	}
	if (!ms_region_enabled(mr))
		return false;
	base += ms_region_addr(mr);
	if (a < base || a >= base + region_size(mr))
		return false;
	q->path[q->depth].region = mr;
	q->path[q->depth].start = (uint64_t)base;
	q->depth++;
	if (ms_region_get_kind(mr) == MS_REGION_ALIAS) {
		ms_region *target = ms_region_alias_target(mr);

		if (resolve(q, target,
			    base - (i128)ms_region_addr(target) - (i128)ms_region_alias_offset(mr)))
			return true;
		q->depth--;
		return false;
	}
	n = ms_region_nr_subregions(mr);
	for (i = 0; i < n; i++)
		if (resolve(q, ms_region_subregion(mr, i), base))
			return true;
	if (ms_region_is_terminating(mr)) {
		q->leaf = mr;
		q->offset = (uint64_t)(a - base);
		return true;
	}
	q->depth--;
	return false;
}

/*
 * The steps from the address space's root down to its flatview root (F4:
 * full-size aliases at offset 0, containers with one enabled child at 0):
 * they are part of the path, though the view is rendered from below them.
 */
static void prefix_to_flatview_root(struct at_query *q, ms_as *as, ms_region *fv_root)
{
	ms_region *r = ms_as_root(as);
	size_t steps = 0;

	while (r && r != fv_root && steps < MAX_PATH) {
		ms_region *next = NULL;

		if (ms_region_get_kind(r) == MS_REGION_ALIAS) {
			next = ms_region_alias_target(r);
		} else {
			size_t i, n = ms_region_nr_subregions(r);

			for (i = 0; i < n; i++) {
				if (!ms_region_enabled(ms_region_subregion(r, i)))
					continue;
				if (next) {
					next = NULL;
					break;
				}
				next = ms_region_subregion(r, i);
			}
		}
		q->path[q->depth].region = r;
		q->path[q->depth].start = 0;
		q->depth++;
		steps++;
		r = next;
	}
	if (r != fv_root)
		q->depth = 0; /* not the F4 walk: show the path from the flatview root only */
}

static const char *range_type(const ms_section *s)
{
	ms_region_kind k = ms_region_get_kind(s->region);

	if (s->readonly)
		return "rom";
	if (k == MS_REGION_ROM_DEVICE)
		return s->romd ? "romd" : "i/o";
	if (k == MS_REGION_RAM_DEVICE)
		return "ramd";
	if (k == MS_REGION_RAM || k == MS_REGION_ROM || k == MS_REGION_RAM_PTR)
		return "ram";
	return "i/o";
}

/* JSON string per docs/mtree.md: invalid UTF-8 bytes become U+FFFD. */
static void json_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', f);
	while (*p) {
		unsigned char c = *p;
		size_t n;

		if (c < 0x80) {
			if (c == '"' || c == '\\')
				fprintf(f, "\\%c", c);
			else if (c == '\n')
				fputs("\\n", f);
			else if (c == '\t')
				fputs("\\t", f);
			else if (c == '\r')
				fputs("\\r", f);
			else if (c == '\b')
				fputs("\\b", f);
			else if (c == '\f')
				fputs("\\f", f);
			else if (c < 0x20)
				fprintf(f, "\\u%04x", c);
			else
				fputc(c, f);
			p++;
			continue;
		}
		n = msc_utf8_seq(p);
		if (!n) {
			fputs("\\ufffd", f);
			p++;
			continue;
		}
		fwrite(p, 1, n, f);
		p += n;
	}
	fputc('"', f);
}

static void print_at_text(const struct at_query *q, ms_as *as, const ms_section *s, bool found)
{
	size_t i;
	const char *sep = "";

	printf("address-space: %s\naddress: %016llx\n", ms_as_name(as),
	       (unsigned long long)q->addr);
	if (!found) {
		printf("region: (none)\n");
		return;
	}
	printf("region: %s\noffset: %016llx\n", ms_region_name(s->region),
	       (unsigned long long)(s->offset_in_region + (q->addr - s->start)));
	printf("range: %016llx-%016llx (prio %d, %s%s): %s", (unsigned long long)s->start,
	       (unsigned long long)s->last, ms_region_priority(s->region),
	       s->nonvolatile ? "nv-" : "", range_type(s), ms_region_name(s->region));
	if (s->offset_in_region)
		printf(" @%016llx", (unsigned long long)s->offset_in_region);
	putchar('\n');
	for (i = 0; i < q->depth; i++) {
		ms_region *r = q->path[i].region;
		uint64_t size = ms_region_size(r);
		uint64_t last = size == MS_SIZE_2_64 ? UINT64_MAX : size - 1;
		uint64_t off = ms_region_alias_offset(r);

		if (ms_region_get_kind(r) != MS_REGION_ALIAS)
			continue;
		printf("alias: %s @%s %016llx-%016llx at %016llx-%016llx\n", ms_region_name(r),
		       ms_region_name(ms_region_alias_target(r)), (unsigned long long)off,
		       (unsigned long long)(off + last), (unsigned long long)q->path[i].start,
		       (unsigned long long)(q->path[i].start + last));
	}
	printf("path: ");
	for (i = 0; i < q->depth; i++) {
		printf("%s%s", sep, ms_region_name(q->path[i].region));
		sep = " > ";
	}
	putchar('\n');
}

static void print_hex_json(const char *key, uint64_t v, bool comma)
{
	printf("%s\"%s\":\"0x%llx\"", comma ? "," : "", key, (unsigned long long)v);
}

static void print_at_json(const struct at_query *q, ms_as *as, const ms_section *s, bool found)
{
	size_t i;
	bool first = true;

	printf("{\"format\":\"memspace-mtree-at\",\"version\":1,\"address_space\":");
	json_str(stdout, ms_as_name(as));
	print_hex_json("address", q->addr, true);
	if (!found) {
		printf(",\"region\":null,\"offset\":null,\"type\":null,\"range\":null,"
		       "\"aliases\":[],\"path\":[]}\n");
		return;
	}
	printf(",\"region\":");
	json_str(stdout, ms_region_name(s->region));
	print_hex_json("offset", s->offset_in_region + (q->addr - s->start), true);
	printf(",\"type\":\"%s%s\",\"readonly\":%s,\"nonvolatile\":%s,\"range\":{",
	       s->nonvolatile ? "nv-" : "", range_type(s), s->readonly ? "true" : "false",
	       s->nonvolatile ? "true" : "false");
	print_hex_json("start", s->start, false);
	print_hex_json("last", s->last, true);
	print_hex_json("offset", s->offset_in_region, true);
	printf(",\"priority\":%d},\"aliases\":[", ms_region_priority(s->region));
	for (i = 0; i < q->depth; i++) {
		ms_region *r = q->path[i].region;
		uint64_t size = ms_region_size(r);
		uint64_t last = size == MS_SIZE_2_64 ? UINT64_MAX : size - 1;

		if (ms_region_get_kind(r) != MS_REGION_ALIAS)
			continue;
		printf("%s{\"name\":", first ? "" : ",");
		json_str(stdout, ms_region_name(r));
		printf(",\"target\":");
		json_str(stdout, ms_region_name(ms_region_alias_target(r)));
		print_hex_json("offset", ms_region_alias_offset(r), true);
		print_hex_json("start", q->path[i].start, true);
		print_hex_json("last", q->path[i].start + last, true);
		putchar('}');
		first = false;
	}
	printf("],\"path\":[");
	for (i = 0; i < q->depth; i++) {
		if (i)
			putchar(',');
		json_str(stdout, ms_region_name(q->path[i].region));
	}
	printf("]}\n");
}

static int run_at(const struct opts *o, const char *file, const msc_mtree *imp)
{
	struct at_query *q;
	ms_flatview *fv;
	ms_region *fv_root;
	ms_section s;
	ms_as *as;
	bool found;
	int status = MSC_EXIT_OK;

	as = o->as_name ? msc_mtree_import_find_as(imp, o->as_name)
			: msc_mtree_import_find_as(imp, "memory");
	if (!as && !o->as_name)
		as = msc_mtree_import_as(imp, 0);
	if (!as) {
		fprintf(stderr, "%s: no address space named '%s'\n", file, o->as_name);
		return MSC_EXIT_INPUT;
	}
	q = calloc(1, sizeof(*q));
	if (!q) {
		fprintf(stderr, "memspace mtree: out of memory\n");
		return MSC_EXIT_INPUT;
	}
	q->addr = o->at;
	fv = ms_as_get_flatview(as);
	found = ms_flatview_find(&s, fv, o->at) == 0;
	fv_root = ms_flatview_root(fv);
	if (fv_root) {
		prefix_to_flatview_root(q, as, fv_root);
		if (!resolve(q, fv_root, 0))
			q->depth = 0;
	}
	if (found != (q->leaf != NULL) ||
	    (found &&
	     (q->leaf != s.region || q->offset != s.offset_in_region + (o->at - s.start)))) {
		fprintf(stderr,
			"%s: internal error: the flat view and the region tree disagree at "
			"%016llx\n",
			file, (unsigned long long)o->at);
		status = MSC_EXIT_INPUT;
	} else if (o->json) {
		print_at_json(q, as, &s, found);
	} else {
		print_at_text(q, as, &s, found);
	}
	ms_flatview_unref(fv);
	free(q);
	return status;
}

int msc_cmd_mtree(int argc, char **argv)
{
	struct opts o;
	msc_mtree_diag diag;
	msc_mtree *imp = NULL;
	ms_ctx *ctx = NULL;
	const char *name;
	char *text = NULL;
	size_t len = 0;
	int rc, status;

	memset(&o, 0, sizeof(o));
	status = parse_args(&o, argc, argv);
	if (status >= 0)
		return status;
	name = strcmp(o.file, "-") == 0 ? "<stdin>" : o.file;
	rc = read_all(o.file, &text, &len);
	if (rc) {
		fprintf(stderr, "%s: cannot read: %s\n", name, strerror(rc));
		return MSC_EXIT_INPUT;
	}
	if (ms_ctx_new(&ctx) < 0) {
		free(text);
		fprintf(stderr, "memspace mtree: out of memory\n");
		return MSC_EXIT_INPUT;
	}
	/* Printing and --at need the layout only: any amount of RAM loads. */
	rc = msc_mtree_import_with(&imp, &diag, ctx, text, len, MSC_MTREE_LAYOUT_ONLY, on_warning,
				   (void *)name);
	free(text);
	if (rc < 0) {
		print_diag(name, &diag, "");
		ms_ctx_free(ctx);
		return MSC_EXIT_INPUT;
	}
	if (o.at_given) {
		status = run_at(&o, name, imp);
	} else {
		rc = ms_mtree_fprint(stdout, ctx, o.flags | (o.json ? MS_MTREE_JSON : 0));
		if (rc == 0 && fflush(stdout) != 0)
			rc = -EIO;
		status = MSC_EXIT_OK;
		if (rc < 0) {
			fprintf(stderr, "memspace mtree: cannot print: %s\n", strerror(-rc));
			status = MSC_EXIT_INPUT;
		}
	}
	msc_mtree_import_free(imp);
	ms_ctx_free(ctx);
	return status;
}
