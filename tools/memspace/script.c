/*
 * memspace CLI: the script interpreter (see script.h and docs/script.md).
 *
 * A session owns one ms_ctx and tables that name what the script created:
 * regions, address spaces, listeners, DMA mappings and map clients. Each
 * line is split into words (lex.c), its command looked up in the command
 * table below, its options checked against the command's list, and then the
 * command runs. A command validates everything it can before it calls the
 * library, so a refused command changes nothing.
 *
 * Bounded work: every quantity that could make one line do unbounded work or
 * allocation is checked against a limit from script.h first. Tables have
 * fixed capacities; the region count and RAM-backed bytes are counted over
 * the whole session, so a script cannot exhaust memory by creating and
 * dropping regions in a loop either.
 *
 * Cleanup order (msc_session_free): close open transactions, destroy region
 * caches, unregister IOMMU notifiers and map clients, release mappings, free
 * the context (which frees address spaces, listener registrations and
 * regions), then free device models, IOMMU models and the memory of RAM
 * devices / RAM pointers, which the regions pointed at.
 *
 * SPDX-License-Identifier: MIT
 */
#include "script.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <memspace.h>

#include "buffer.h"
#include "devices.h"
#include "iommu_model.h"
#include "lex.h"
#include "names.h"

#define MIN(a, b) ((a) < (b) ? (a) : (b))

/*
 * The session's tables map names to these entries; an entry's @name is the
 * table's copy, valid while the entry is in its table.
 */
struct region_ent {
	const char *name;
	ms_region *r;
	msc_device *dev;
	msc_iommu *mmu; /* the page-table model of an iommu made with target= */
};

struct listener_ent {
	ms_listener_ops ops; /* must outlive the registration */
	msc_session *s;
	const char *name;
	ms_listener *l;
	ms_as *as;
	bool show_nop;
};

struct mapping {
	unsigned long id;
	ms_as *as;
	void *p;
	uint64_t addr, len;
	bool is_write;
};

struct client_ent {
	msc_session *s;
	const char *name;
	ms_map_client *c;
	ms_as *as;
};

struct notifier_ent {
	msc_session *s;
	const char *name;
	ms_iommu_notifier *n;
	ms_region *iommu; /* the region it was registered on (it holds a reference) */
	unsigned idx;
	bool fail; /* refuse every event with -EIO */
};

struct cache_ent {
	const char *name;
	ms_as *as;
	bool is_write;
	ms_cache c;
};

struct memory_block {
	void *p;
	size_t len;
};

struct msc_session {
	msc_options o;
	ms_ctx *ctx;

	/* The line being run, for error messages. */
	const char *file;
	unsigned long lineno;
	const char *line;
	size_t line_len;
	unsigned long errors;
	msc_line *words;
	char names[4][200]; /* sanitised names for messages */
	unsigned next_name;

	/* Named things: the items are struct region_ent, ms_as, struct listener_ent, ... */
	msc_table regions, spaces, listeners, clients, notifiers, caches;

	size_t created_regions;
	uint64_t memory_used;
	msc_device **devices;
	size_t nr_devices, cap_devices;
	struct memory_block *blocks;
	size_t nr_blocks, cap_blocks;
	msc_iommu **models;
	size_t nr_models, cap_models;
	size_t iommu_entries; /* page-table entries of every model */

	ms_as *current;

	struct mapping mappings[MSC_MAX_MAPPINGS];
	size_t nr_mappings;
	unsigned long next_map_id;

	unsigned txn_depth;
	unsigned long txn_line;
	bool quit;
	bool had_heading; /* every heading but the first follows an empty line */
};

/* One command being run: its words split into positional arguments and options. */
typedef struct call {
	const struct command *cmd;
	msc_word *word; /* the command word */
	msc_word *pos[MSC_MAX_WORDS];
	size_t npos;
	msc_word *opt[MSC_MAX_WORDS];
	size_t nopt;
} call;

/* Flags of a command. */
#define CMD_RAW (1u << 0) /* every word is an argument, kept as written (no options) */

/* What the arg of write, load and the iommu-map family says. */
enum {
	WRITE_GUEST,
	WRITE_LOADER
};
enum {
	IOMMU_MAP,
	IOMMU_UNMAP,
	IOMMU_INVALIDATE
};

/*
 * The parameters of a command, declared once: the dispatcher sorts words
 * into arguments and options by them, the usage line is generated from
 * them, and the option getters read values as they say.
 */
enum param_kind {
	P_END,     /* ends a list */
	P_ARG,     /* a positional argument, shown as @name */
	P_FLAG,    /* an option without a value, @name */
	P_VALUE,   /* an option @name=VALUE, shown as @name=@meta */
	P_GROUP,   /* the options of @group, shown as @name */
	P_INCLUDE, /* the parameters of @group, shown one by one */
};

/* How the value of a P_VALUE option is read. */
enum value_type {
	V_TEXT,     /* as written */
	V_NUMBER,   /* msc_parse_u64() */
	V_SIZE,     /* the same, 2^64 allowed */
	V_PRIO,     /* a signed priority */
	V_BOOL,     /* on or off (yes/no, true/false, 1/0) */
	V_KEYWORD,  /* one of @names */
	V_KEYWORDS, /* some of @names joined by commas, their values or-ed */
	V_SIZES,    /* access sizes MIN-MAX */
	V_REGION,   /* a region's name */
	V_AS,       /* an address space's name */
};

/* Layout of a parameter in the usage line. */
#define P_OPTIONAL (1u << 0) /* an argument or group that may be left out: [NAME] */
#define P_REPEAT (1u << 1)   /* NAME... */
#define P_JOIN (1u << 2)     /* inside the brackets of the one before: [in=C at=ADDR] */
#define P_NEST (1u << 3)     /* bracketed inside the brackets before: [MODEL [model options]] */
#define P_ALT (1u << 4)      /* an alternative to the one before: [be|le] */

struct param {
	enum param_kind kind;
	const char *name;
	const char *meta;      /* P_VALUE: the value's placeholder */
	unsigned layout;       /* P_* (options are always optional) */
	enum value_type type;  /* P_VALUE */
	const char *what;      /* P_VALUE numbers: the value in messages ("bad page size ...") */
	const msc_name *names; /* V_KEYWORD(S) */
	const struct param *group; /* P_GROUP, P_INCLUDE */
	int arg;                   /* what the handler makes of it */
};

#define ARG(n, ...)                                     \
	{                                               \
		.kind = P_ARG, .name = (n), __VA_ARGS__ \
	}
#define FLAG(n, ...)                                     \
	{                                                \
		.kind = P_FLAG, .name = (n), __VA_ARGS__ \
	}
#define VALUE(n, m, t, ...)                                                         \
	{                                                                           \
		.kind = P_VALUE, .name = (n), .meta = (m), .type = (t), __VA_ARGS__ \
	}
#define GROUP(n, g, ...)                                                \
	{                                                               \
		.kind = P_GROUP, .name = (n), .group = (g), __VA_ARGS__ \
	}
#define INCLUDE(g)                              \
	{                                       \
		.kind = P_INCLUDE, .group = (g) \
	}
#define END                   \
	{                     \
		.kind = P_END \
	}
/* A parameter list for a command table entry. */
#define PARAMS(...) ((const struct param[]){__VA_ARGS__, END})

struct command {
	const char *name;
	int (*fn)(msc_session *s, call *c);
	unsigned flags; /* CMD_* */
	/*
	 * What the handler needs to know about this command of its family: the
	 * region kind, the access width, true for enable, WRITE_*, IOMMU_*.
	 */
	int arg;
	const struct param *params;
	const char *help;
};

#define ANY 0xffffu

/* ---- shared parameters -------------------------------------------------- */

static const msc_name endian_names[] = {
	{"little", MS_ENDIAN_LITTLE},
	{"big", MS_ENDIAN_BIG},
	{"native", MS_ENDIAN_NATIVE},
	{NULL, 0},
};

/* What perm= takes, and how permissions print ("none" for no access). */
static const msc_name perm_names[] = {
	{"ro", MS_IOMMU_RO},
	{"wo", MS_IOMMU_WO},
	{"rw", MS_IOMMU_RW},
	{NULL, 0},
};

static const msc_name notifier_flag_names[] = {
	{"map", MS_IOMMU_NOTIFIER_MAP},
	{"unmap", MS_IOMMU_NOTIFIER_UNMAP},
	{"deviotlb", MS_IOMMU_NOTIFIER_DEVIOTLB_UNMAP},
	{NULL, 0},
};

/* The memory transaction attributes of an access (ATTRS). */
static const struct param attr_params[] = {
	FLAG("secure"),
	FLAG("nonsecure"),
	FLAG("user"),
	FLAG("memory"),
	FLAG("debug"),
	VALUE("requester", "N", V_NUMBER, .what = "requester id"),
	VALUE("pasid", "N", V_NUMBER, .what = "pasid"),
	END,
};

/* Where a new region goes, and its owner. */
static const struct param place_params[] = {
	VALUE("in", "C", V_REGION),
	VALUE("at", "ADDR", V_NUMBER, .what = "address", .layout = P_JOIN),
	VALUE("prio", "N", V_PRIO, .layout = P_NEST),
	VALUE("owner", "TEXT", V_TEXT),
	END,
};

/* The options of a device model (devices.h). */
static const struct param model_params[] = {
	VALUE("value", "N", V_NUMBER, .what = "value"),
	VALUE("as", "AS", V_AS),
	VALUE("endian", "little|big|native", V_KEYWORD, .names = endian_names),
	VALUE("valid", "MIN-MAX", V_SIZES),
	VALUE("impl", "MIN-MAX", V_SIZES),
	FLAG("unaligned"),
	FLAG("secure-only"),
	VALUE("log", "on|off", V_BOOL),
	END,
};

/* The properties set changes; arg says which. */
enum {
	SET_ADDR,
	SET_SIZE,
	SET_PRIO,
	SET_ENABLED,
	SET_READONLY,
	SET_NONVOLATILE,
	SET_UNMERGEABLE,
	SET_ROMD,
	SET_ALIAS_OFFSET,
	SET_OWNER
};

static const struct param set_params[] = {
	VALUE("addr", "ADDR", V_NUMBER, .what = "address", .arg = SET_ADDR),
	VALUE("size", "SIZE", V_SIZE, .what = "size", .arg = SET_SIZE),
	VALUE("prio", "N", V_PRIO, .arg = SET_PRIO),
	VALUE("enabled", "on|off", V_BOOL, .arg = SET_ENABLED),
	VALUE("readonly", "on|off", V_BOOL, .arg = SET_READONLY),
	VALUE("nonvolatile", "on|off", V_BOOL, .arg = SET_NONVOLATILE),
	VALUE("unmergeable", "on|off", V_BOOL, .arg = SET_UNMERGEABLE),
	VALUE("romd", "on|off", V_BOOL, .arg = SET_ROMD),
	VALUE("alias-offset", "OFFSET", V_NUMBER, .what = "offset", .arg = SET_ALIAS_OFFSET),
	VALUE("owner", "TEXT", V_TEXT, .arg = SET_OWNER),
	END,
};

/* ---- output helpers ---------------------------------------------------- */

/* A printable, quoted-if-needed, truncated rendering of a name for messages. */
static const char *show(msc_session *s, const char *text, size_t len)
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

static const char *showw(msc_session *s, const msc_word *w)
{
	return show(s, w->text, w->len);
}

static const char *shows(msc_session *s, const char *str)
{
	return show(s, str, strlen(str));
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

__attribute__((format(printf, 3, 4))) static int errorf(msc_session *s, unsigned col,
							const char *fmt, ...)
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

static const msc_name errno_names[] = {
	{"EINVAL", -EINVAL}, {"EBUSY", -EBUSY}, {"ENOMEM", -ENOMEM}, {"ELOOP", -ELOOP},
	{"E2BIG", -E2BIG},   {"EXDEV", -EXDEV}, {"ENOENT", -ENOENT}, {"EPERM", -EPERM},
	{"ERANGE", -ERANGE}, {"EIO", -EIO},     {"EACCES", -EACCES}, {NULL, 0},
};

static const char *errno_name(int rc)
{
	return msc_name_text(errno_names, rc, "error");
}

/* Report a library error: "WHAT: ENAME: EXPLANATION". */
static int lib_error(msc_session *s, unsigned col, const char *what, int rc, const char *explain)
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
	return errorf(s, col, "%s: %s: %s", what, errno_name(rc), explain);
}

static void result_text(char *buf, size_t len, ms_result r)
{
	msc_result_name(buf, len, r);
}

static void hexdump(msc_session *s, uint64_t addr, const uint8_t *buf, size_t len)
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

/* ---- tables ------------------------------------------------------------ */

static struct region_ent *find_region(msc_session *s, const char *text, size_t len)
{
	return msc_table_lookup(&s->regions, text, len);
}

static struct region_ent *region_of(msc_session *s, const ms_region *r)
{
	for (size_t i = 0; i < s->regions.nr; i++) {
		struct region_ent *e = msc_table_item(&s->regions, i);

		if (e->r == r)
			return e;
	}
	return NULL;
}

/* ---- argument parsing -------------------------------------------------- */

/* The value part of a key=value option as a word of its own. */
static msc_word value_of(const msc_word *w)
{
	msc_word v = *w;

	v.text = w->text + w->eq + 1;
	v.len = w->len - (size_t)w->eq - 1;
	v.col = w->col + (unsigned)w->eq + 1;
	v.eq = -1;
	return v;
}

/* The option @key ("in" for in=VALUE, or a flag), or NULL when absent. */
static msc_word *get_opt(call *c, const char *key)
{
	size_t i, klen = strlen(key);

	for (i = 0; i < c->nopt; i++) {
		msc_word *w = c->opt[i];
		size_t wlen = w->eq >= 0 ? (size_t)w->eq : w->len;

		if (wlen == klen && memcmp(w->text, key, klen) == 0)
			return w;
	}
	return NULL;
}

static int parse_number(msc_session *s, const msc_word *w, const char *what, bool allow_2_64,
			uint64_t *out)
{
	const char *why;

	if (msc_parse_u64(w->text, w->len, allow_2_64, out, &why) < 0)
		return errorf(s, w->col, "bad %s %s: %s (write e.g. 0x1000, 4096 or 64K)", what,
			      showw(s, w), why);
	return 0;
}

static const msc_name bool_names[] = {
	{"on", true},  {"yes", true},    {"true", true}, {"1", true}, {"off", false},
	{"no", false}, {"false", false}, {"0", false},   {NULL, 0},
};

static int parse_bool(msc_session *s, const msc_word *w, bool *out)
{
	int value;

	if (msc_name_value(bool_names, w->text, w->len, &value))
		return errorf(s, w->col, "expected on or off, not %s", showw(s, w));
	*out = value;
	return 0;
}

/* The keyword @v given to option @key (endian=big) as its value in @names. */
static int keyword_arg(msc_session *s, const msc_word *v, const char *key, const msc_name *names,
		       int *out)
{
	char list[128];

	if (msc_name_value(names, v->text, v->len, out) == 0)
		return 0;
	return errorf(s, v->col, "%s= takes %s, not %s", key,
		      msc_name_list(list, sizeof(list), names, " or "), showw(s, v));
}

static int parse_prio(msc_session *s, const msc_word *w, int *out)
{
	const char *why;

	if (msc_parse_int(w->text, w->len, out, &why) < 0)
		return errorf(s, w->col, "bad priority %s: %s", showw(s, w), why);
	return 0;
}

static int region_arg(msc_session *s, const msc_word *w, struct region_ent **out)
{
	const char *best;

	*out = find_region(s, w->text, w->len);
	if (*out)
		return 0;
	best = msc_table_suggest(&s->regions, w->text, w->len);
	if (best)
		return errorf(s, w->col, "unknown region %s (did you mean %s?)", showw(s, w),
			      shows(s, best));
	return errorf(s, w->col, "unknown region %s", showw(s, w));
}

static int as_arg(msc_session *s, const msc_word *w, ms_as **out)
{
	const char *best;

	*out = msc_table_lookup(&s->spaces, w->text, w->len);
	if (*out)
		return 0;
	best = msc_table_suggest(&s->spaces, w->text, w->len);
	if (best)
		return errorf(s, w->col, "unknown address space %s (did you mean %s?)", showw(s, w),
			      shows(s, best));
	return errorf(s, w->col, "unknown address space %s", showw(s, w));
}

/* The declaration of option @key (@len bytes) of @kind in @list and the groups it takes in. */
static const struct param *find_param(const struct param *list, enum param_kind kind,
				      const char *key, size_t len)
{
	for (; list->kind != P_END; list++) {
		const struct param *p = NULL;

		if (list->kind == P_GROUP || list->kind == P_INCLUDE)
			p = find_param(list->group, kind, key, len);
		else if (list->kind == kind && strlen(list->name) == len &&
			 memcmp(list->name, key, len) == 0)
			p = list;
		if (p)
			return p;
	}
	return NULL;
}

/* The declaration of the option word @w of @cmd, or NULL when it has none. */
static const struct param *option_of(const struct command *cmd, const msc_word *w)
{
	if (w->eq >= 0)
		return find_param(cmd->params, P_VALUE, w->text, (size_t)w->eq);
	return find_param(cmd->params, P_FLAG, w->text, w->len);
}

/* A value read as its declaration says. */
typedef union option_value {
	msc_word text;
	uint64_t number;
	int prio, keyword;
	unsigned keywords;
	bool on;
	struct {
		unsigned min, max;
	} sizes;
	struct region_ent *region;
	ms_as *as;
} option_value;

static int parse_sizes(msc_session *s, const msc_word *w, unsigned *min, unsigned *max);
static int parse_keywords(msc_session *s, const msc_word *v, const char *key, const msc_name *names,
			  unsigned *out);

/* Read the value of option @w, declared by @p, into *@out; 0, or 1 after reporting an error. */
static int read_value(msc_session *s, const struct param *p, const msc_word *w, option_value *out)
{
	msc_word v = value_of(w);

	switch (p->type) {
	case V_TEXT:
		out->text = v;
		return 0;
	case V_NUMBER:
	case V_SIZE:
		return parse_number(s, &v, p->what, p->type == V_SIZE, &out->number);
	case V_PRIO:
		return parse_prio(s, &v, &out->prio);
	case V_BOOL:
		return parse_bool(s, &v, &out->on);
	case V_KEYWORD:
		return keyword_arg(s, &v, p->name, p->names, &out->keyword);
	case V_KEYWORDS:
		return parse_keywords(s, &v, p->name, p->names, &out->keywords);
	case V_SIZES:
		return parse_sizes(s, &v, &out->sizes.min, &out->sizes.max);
	case V_REGION:
		return region_arg(s, &v, &out->region);
	default:
		return as_arg(s, &v, &out->as);
	}
}

/*
 * Read option @key of the call, as its declaration says, into *@out; leave
 * *@out alone when the option was not given. Return 0, or 1 after reporting
 * a bad value.
 */
static int get_value(msc_session *s, call *c, const char *key, enum value_type type,
		     option_value *out)
{
	msc_word *w = get_opt(c, key);

	if (!w)
		return 0;
	assert(option_of(c->cmd, w) && option_of(c->cmd, w)->type == type);
	return read_value(s, option_of(c->cmd, w), w, out);
}

/* Typed forms of get_value(): *@out keeps its value when the option is absent. */
static int opt_number(msc_session *s, call *c, const char *key, uint64_t *out)
{
	option_value v = {.number = *out};
	int rc = get_value(s, c, key, V_NUMBER, &v);

	*out = v.number;
	return rc;
}

static int opt_prio(msc_session *s, call *c, const char *key, int *out)
{
	option_value v = {.prio = *out};
	int rc = get_value(s, c, key, V_PRIO, &v);

	*out = v.prio;
	return rc;
}

static int opt_bool(msc_session *s, call *c, const char *key, bool *out)
{
	option_value v = {.on = *out};
	int rc = get_value(s, c, key, V_BOOL, &v);

	*out = v.on;
	return rc;
}

static int opt_keyword(msc_session *s, call *c, const char *key, int *out)
{
	option_value v = {.keyword = *out};
	int rc = get_value(s, c, key, V_KEYWORD, &v);

	*out = v.keyword;
	return rc;
}

static int opt_keywords(msc_session *s, call *c, const char *key, unsigned *out)
{
	option_value v = {.keywords = *out};
	int rc = get_value(s, c, key, V_KEYWORDS, &v);

	*out = v.keywords;
	return rc;
}

static int opt_region(msc_session *s, call *c, const char *key, struct region_ent **out)
{
	option_value v = {.region = *out};
	int rc = get_value(s, c, key, V_REGION, &v);

	*out = v.region;
	return rc;
}

static int opt_as(msc_session *s, call *c, const char *key, ms_as **out)
{
	option_value v = {.as = *out};
	int rc = get_value(s, c, key, V_AS, &v);

	*out = v.as;
	return rc;
}

static int opt_sizes(msc_session *s, call *c, const char *key, unsigned *min, unsigned *max)
{
	option_value v = {.sizes = {*min, *max}};
	int rc = get_value(s, c, key, V_SIZES, &v);

	*min = v.sizes.min;
	*max = v.sizes.max;
	return rc;
}

/* Was any option of @group given? */
static bool any_option(call *c, const struct param *group)
{
	for (; group->kind != P_END; group++)
		if ((group->kind == P_FLAG || group->kind == P_VALUE) && get_opt(c, group->name))
			return true;
	return false;
}

static int access_as(msc_session *s, call *c, ms_as **out)
{
	*out = s->current;
	if (opt_as(s, c, "as", out))
		return 1;
	if (!*out)
		return errorf(s, c->word->col,
			      "%s: no address space yet (create one with 'as NAME ROOT')",
			      c->cmd->name);
	return 0;
}

static int parse_attrs(msc_session *s, call *c, ms_attrs *out)
{
	msc_word *nonsecure = get_opt(c, "nonsecure");
	ms_attrs a = {0};
	uint64_t v = 0;

	a.secure = get_opt(c, "secure") != NULL;
	a.user = get_opt(c, "user") != NULL;
	a.memory = get_opt(c, "memory") != NULL;
	a.debug = get_opt(c, "debug") != NULL;
	if (a.secure && nonsecure)
		return errorf(s, nonsecure->col, "secure and nonsecure exclude each other");
	if (opt_number(s, c, "requester", &v))
		return 1;
	if (v > 0xffff)
		return errorf(s, get_opt(c, "requester")->col,
			      "requester id 0x%" PRIx64 " does not fit in 16 bits", v);
	a.requester_id = (unsigned)v;
	if (get_opt(c, "pasid")) {
		if (opt_number(s, c, "pasid", &v))
			return 1;
		if (v > UINT32_MAX)
			return errorf(s, get_opt(c, "pasid")->col,
				      "pasid 0x%" PRIx64 " does not fit in 32 bits", v);
		a.pasid = (uint32_t)v;
		a.pasid_valid = 1;
	}
	a.unspecified = !any_option(c, attr_params);
	*out = a;
	return 0;
}

/* Decode write data: quoted words are raw bytes, others hex digits. */
static int parse_data(msc_session *s, call *c, size_t first, uint8_t *buf, size_t cap, size_t *len)
{
	size_t i, j, n = 0;

	for (i = first; i < c->npos; i++) {
		msc_word *w = c->pos[i];

		if (w->quoted) {
			if (n + w->len > cap)
				return errorf(s, w->col, "too much data");
			memcpy(buf + n, w->text, w->len);
			n += w->len;
			continue;
		}
		if (w->len % 2 || w->len == 0)
			return errorf(s, w->col,
				      "data %s: write bytes as pairs of hex digits (de ad be ef) "
				      "or a quoted string; use st* for a number",
				      showw(s, w));
		for (j = 0; j < w->len; j += 2) {
			unsigned hi, lo;
			const char *hex = "0123456789abcdef0123456789ABCDEF";
			const char *ph = memchr(hex, w->text[j], 32),
				   *pl = memchr(hex, w->text[j + 1], 32);

			if (!ph || !pl || w->text[j] == '\0' || w->text[j + 1] == '\0')
				return errorf(
					s, w->col + (unsigned)j,
					"data %s: write bytes as pairs of hex digits "
					"(de ad be ef) or a quoted string; use st* for a number",
					showw(s, w));
			hi = (unsigned)(ph - hex) % 16;
			lo = (unsigned)(pl - hex) % 16;
			if (n >= cap)
				return errorf(s, w->col, "too much data");
			buf[n++] = (uint8_t)(hi << 4 | lo);
		}
	}
	*len = n;
	return 0;
}

/* A name for something new: non-empty, no NUL, no '=' unless quoted. */
static int check_new_name(msc_session *s, const msc_word *w, const char *what, bool exists)
{
	if (w->len == 0)
		return errorf(s, w->col, "a %s name cannot be empty", what);
	if (memchr(w->text, '\0', w->len))
		return errorf(s, w->col, "a %s name cannot contain a NUL byte", what);
	if (exists)
		return errorf(s, w->col, "%s %s already exists", what, showw(s, w));
	return 0;
}

static int add_region_entry(msc_session *s, const msc_word *name, ms_region *r, msc_device *dev)
{
	struct region_ent *e;

	if (dev &&
	    msc_grow((void **)&s->devices, &s->cap_devices, s->nr_devices, sizeof(*s->devices), 16))
		return -ENOMEM;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->r = r;
	e->dev = dev;
	e->name = msc_table_add(&s->regions, name->text, name->len, e);
	if (!e->name) {
		free(e);
		return -ENOMEM;
	}
	s->created_regions++;
	if (dev)
		s->devices[s->nr_devices++] = dev;
	return 0;
}

static int parse_sizes(msc_session *s, const msc_word *w, unsigned *min, unsigned *max)
{
	const char *dash = memchr(w->text, '-', w->len);
	uint64_t a, b;
	const char *why;

	if (!dash || msc_parse_u64(w->text, (size_t)(dash - w->text), false, &a, &why) ||
	    msc_parse_u64(dash + 1, w->len - (size_t)(dash - w->text) - 1, false, &b, &why) ||
	    (a != 1 && a != 2 && a != 4 && a != 8) || (b != 1 && b != 2 && b != 4 && b != 8) ||
	    a > b)
		return errorf(s, w->col,
			      "bad access sizes %s: write MIN-MAX with 1, 2, 4 or 8, e.g. 1-4",
			      showw(s, w));
	*min = (unsigned)a;
	*max = (unsigned)b;
	return 0;
}

/* Read the device options of io / romdevice into @cfg. */
static int device_config(msc_session *s, call *c, msc_device_config *cfg, bool have_model)
{
	const struct param *p;
	msc_word *w;
	int endian;
	bool log;

	cfg->log = -1;
	if (!have_model) {
		for (p = model_params; p->kind != P_END; p++)
			if ((w = get_opt(c, p->name)) != NULL)
				return errorf(
					s, w->col,
					"option %s needs a device model (regs, const, error, dma)",
					show(s, w->text, w->eq >= 0 ? (size_t)w->eq + 1 : w->len));
		return 0;
	}
	if ((w = get_opt(c, "value")) != NULL) {
		if (strcmp(cfg->model, "const"))
			return errorf(s, w->col, "value= applies only to the const model");
		if (opt_number(s, c, "value", &cfg->value))
			return 1;
	}
	if ((w = get_opt(c, "as")) != NULL) {
		if (strcmp(cfg->model, "dma"))
			return errorf(s, w->col, "as= applies only to the dma model");
		if (opt_as(s, c, "as", &cfg->dma_as))
			return 1;
	}
	endian = (int)cfg->endianness;
	if (opt_keyword(s, c, "endian", &endian) ||
	    opt_sizes(s, c, "valid", &cfg->valid_min, &cfg->valid_max) ||
	    opt_sizes(s, c, "impl", &cfg->impl_min, &cfg->impl_max))
		return 1;
	cfg->endianness = (ms_endian)endian;
	cfg->unaligned = get_opt(c, "unaligned") != NULL;
	cfg->secure_only = get_opt(c, "secure-only") != NULL;
	if (get_opt(c, "log")) {
		if (opt_bool(s, c, "log", &log))
			return 1;
		cfg->log = log;
	}
	if (strcmp(cfg->model, "dma") == 0 && !cfg->dma_as) {
		if (!s->current)
			return errorf(
				s, c->pos[2]->col,
				"a dma device needs an address space: create one first or give as=NAME");
		cfg->dma_as = s->current;
	}
	return 0;
}

/* Placement options in=CONTAINER at=ADDR prio=N, shared by every creation command. */
struct placement {
	struct region_ent *container;
	uint64_t addr;
	int prio;
	bool present;
	const msc_word *owner;
};

static int parse_placement(msc_session *s, call *c, struct placement *p)
{
	msc_word *in = get_opt(c, "in"), *at = get_opt(c, "at"), *prio = get_opt(c, "prio");

	memset(p, 0, sizeof(*p));
	if ((at || prio) && !in)
		return errorf(s, (at ? at : prio)->col, "at= and prio= need in=CONTAINER");
	if (in && !at)
		return errorf(s, in->col, "in= needs at=ADDRESS");
	if (opt_region(s, c, "in", &p->container) || opt_number(s, c, "at", &p->addr) ||
	    opt_prio(s, c, "prio", &p->prio))
		return 1;
	p->present = in != NULL;
	p->owner = get_opt(c, "owner");
	return 0;
}

static const char *add_error(int rc, ms_region *container, ms_region *sub)
{
	ms_region *up;

	switch (-rc) {
	case EBUSY:
		return "the region is already in a container (del it first)";
	case EINVAL:
		return "cannot add a region to an alias or to itself";
	case ELOOP:
		for (up = container; up; up = ms_region_container(up))
			if (up == sub)
				return "the container lies inside the region being added";
		return "the view would nest deeper than 1024 levels (an alias that leads back "
		       "into itself without end)";
	default:
		return NULL;
	}
}

/* Finish a new region: owner, placement, name. On failure the region is freed. */
static int finish_region(msc_session *s, call *c, ms_region *r, msc_device *dev,
			 const struct placement *p, struct memory_block *block)
{
	int rc = 0;

	if (p->owner) {
		msc_word v = value_of(p->owner);

		rc = ms_region_set_owner(r, v.len ? v.text : NULL);
		if (rc)
			lib_error(s, p->owner->col, "owner", rc, NULL);
	}
	if (!rc && p->present) {
		rc = ms_region_add_subregion_overlap(p->container->r, p->addr, r, p->prio);
		if (rc)
			lib_error(s, get_opt(c, "in")->col, "in", rc,
				  add_error(rc, p->container->r, r));
	}
	if (!rc && block &&
	    msc_grow((void **)&s->blocks, &s->cap_blocks, s->nr_blocks, sizeof(*s->blocks), 16)) {
		rc = -ENOMEM;
		lib_error(s, c->word->col, c->cmd->name, rc, NULL);
	}
	if (!rc) {
		rc = add_region_entry(s, c->pos[0], r, dev);
		if (rc)
			lib_error(s, c->word->col, c->cmd->name, rc, NULL);
	}
	if (rc) {
		if (p->present && ms_region_container(r))
			ms_region_del_subregion(p->container->r, r);
		ms_region_unref(r);
		msc_device_free(dev);
		if (block)
			munmap(block->p, block->len);
		return 1;
	}
	if (block) {
		s->blocks[s->nr_blocks++] = *block;
		s->memory_used += block->len;
	}
	return 0;
}

static int check_region_budget(msc_session *s, call *c)
{
	if (s->created_regions >= MSC_MAX_REGIONS)
		return errorf(s, c->word->col, "%s: too many regions (the limit is %u per session)",
			      c->cmd->name, MSC_MAX_REGIONS);
	return 0;
}

/* Does a region of @kind hold memory (counted against MSC_MAX_MEMORY)? */
static bool needs_memory(ms_region_kind kind)
{
	switch (kind) {
	case MS_REGION_RAM:
	case MS_REGION_ROM:
	case MS_REGION_ROM_DEVICE:
	case MS_REGION_RAM_DEVICE:
	case MS_REGION_RAM_PTR:
		return true;
	default:
		return false;
	}
}

/* container, io, ram, rom, romdevice, ramdevice, ramptr and iommu (without target=). */
static int cmd_region(msc_session *s, call *c)
{
	ms_region_kind kind = (ms_region_kind)c->cmd->arg;
	const char *what = c->cmd->name;
	msc_device_config cfg = {0};
	struct memory_block block = {NULL, 0}, *blockp = NULL;
	struct placement place;
	msc_device *dev = NULL;
	ms_region *r = NULL;
	const char *why;
	uint64_t size;
	bool has_model = c->npos > 2;
	int rc;

	if (check_region_budget(s, c) ||
	    check_new_name(s, c->pos[0], "region",
			   find_region(s, c->pos[0]->text, c->pos[0]->len)) ||
	    parse_number(s, c->pos[1], "size", true, &size))
		return 1;
	if (needs_memory(kind)) {
		if (size == 0)
			return errorf(s, c->pos[1]->col, "%s: the size cannot be 0", what);
		if (size > MSC_MAX_MEMORY - s->memory_used)
			return errorf(s, c->pos[1]->col,
				      "%s: size 0x%" PRIx64 " is over the memory limit (%" PRIu64
				      " MiB left of 8 GiB per session)",
				      what, size,
				      (uint64_t)((MSC_MAX_MEMORY - s->memory_used) >> 20));
	}
	if (kind == MS_REGION_ROM_DEVICE && !has_model)
		return errorf(s, c->word->col,
			      "romdevice needs a device model: romdevice NAME SIZE MODEL");
	if (has_model)
		cfg.model = c->pos[2]->text;
	if (device_config(s, c, &cfg, has_model) || parse_placement(s, c, &place))
		return 1;
	if (has_model) {
		cfg.name = c->pos[0]->text;
		cfg.size = size;
		cfg.out = s->o.out;
		if (memchr(cfg.model, '\0', c->pos[2]->len) || msc_device_new(&dev, &cfg, &why))
			return errorf(s, c->pos[2]->col, "device %s: %s", showw(s, c->pos[2]),
				      memchr(cfg.model, '\0', c->pos[2]->len)
					      ? "unknown device model"
					      : why);
	}
	if (kind == MS_REGION_RAM_DEVICE || kind == MS_REGION_RAM_PTR) {
		block.len = (size_t)size;
		block.p = mmap(NULL, block.len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (block.p == MAP_FAILED)
			return lib_error(s, c->word->col, what, -ENOMEM, NULL);
		blockp = &block;
	}
	switch (kind) {
	case MS_REGION_CONTAINER:
		rc = ms_region_new_container(&r, s->ctx, c->pos[0]->text, size);
		break;
	case MS_REGION_IO:
		rc = ms_region_new_io(&r, s->ctx, c->pos[0]->text, size,
				      dev ? msc_device_ops(dev) : NULL, dev);
		break;
	case MS_REGION_RAM:
		rc = ms_region_new_ram(&r, s->ctx, c->pos[0]->text, size);
		break;
	case MS_REGION_ROM:
		rc = ms_region_new_rom(&r, s->ctx, c->pos[0]->text, size);
		break;
	case MS_REGION_ROM_DEVICE:
		rc = ms_region_new_rom_device(&r, s->ctx, c->pos[0]->text, size,
					      msc_device_ops(dev), dev);
		break;
	case MS_REGION_RAM_DEVICE:
		rc = ms_region_new_ram_device(&r, s->ctx, c->pos[0]->text, size, block.p);
		break;
	case MS_REGION_RAM_PTR:
		rc = ms_region_new_ram_ptr(&r, s->ctx, c->pos[0]->text, size, block.p);
		break;
	default:
		rc = ms_region_new_iommu(&r, s->ctx, c->pos[0]->text, size);
		break;
	}
	if (rc) {
		msc_device_free(dev);
		if (blockp)
			munmap(block.p, block.len);
		return lib_error(s, c->word->col, what, rc, NULL);
	}
	if (!blockp && needs_memory(kind)) {
		/* Library-owned memory counts against the budget too. */
		s->memory_used += size;
	}
	if (finish_region(s, c, r, dev, &place, blockp)) {
		if (!blockp && needs_memory(kind))
			s->memory_used -= size;
		return 1;
	}
	return 0;
}

static int cmd_alias(msc_session *s, call *c)
{
	struct region_ent *target;
	struct placement place;
	uint64_t offset, size;
	ms_region *r;
	int rc;

	if (check_region_budget(s, c) ||
	    check_new_name(s, c->pos[0], "region",
			   find_region(s, c->pos[0]->text, c->pos[0]->len)) ||
	    region_arg(s, c->pos[1], &target) ||
	    parse_number(s, c->pos[2], "offset", false, &offset) ||
	    parse_number(s, c->pos[3], "size", true, &size) || parse_placement(s, c, &place))
		return 1;
	rc = ms_region_new_alias(&r, s->ctx, c->pos[0]->text, target->r, offset, size);
	if (rc)
		return lib_error(s, c->word->col, "alias", rc, NULL);
	return finish_region(s, c, r, NULL, &place, NULL);
}

static int cmd_add(msc_session *s, call *c)
{
	struct region_ent *container, *sub;
	uint64_t addr;
	int prio = 0, rc;

	if (region_arg(s, c->pos[0], &container) ||
	    parse_number(s, c->pos[1], "address", false, &addr) || region_arg(s, c->pos[2], &sub) ||
	    opt_prio(s, c, "prio", &prio))
		return 1;
	rc = ms_region_add_subregion_overlap(container->r, addr, sub->r, prio);
	if (rc)
		return lib_error(s, c->word->col, "add", rc, add_error(rc, container->r, sub->r));
	return 0;
}

static int cmd_del(msc_session *s, call *c)
{
	struct region_ent *sub, *container = NULL;
	ms_region *parent;
	int rc;

	if (region_arg(s, c->pos[0], &sub) || opt_region(s, c, "from", &container))
		return 1;
	if (container) {
		parent = container->r;
	} else {
		parent = ms_region_container(sub->r);
		if (!parent)
			return errorf(s, c->pos[0]->col, "del: %s is not in a container",
				      showw(s, c->pos[0]));
	}
	rc = ms_region_del_subregion(parent, sub->r);
	if (rc)
		return lib_error(s, c->word->col, "del", rc,
				 rc == -ENOENT ? "the region is not a subregion of that container"
					       : NULL);
	return 0;
}

/* Apply property @p->arg of set to @e; 0 or the library's error. */
static int set_property(struct region_ent *e, const struct param *p, const option_value *v)
{
	switch (p->arg) {
	case SET_ADDR:
		return ms_region_set_address(e->r, v->number);
	case SET_SIZE:
		return ms_region_set_size(e->r, v->number);
	case SET_PRIO:
		return ms_region_set_priority(e->r, v->prio);
	case SET_ENABLED:
		return ms_region_set_enabled(e->r, v->on);
	case SET_READONLY:
		return ms_region_set_readonly(e->r, v->on);
	case SET_NONVOLATILE:
		return ms_region_set_nonvolatile(e->r, v->on);
	case SET_UNMERGEABLE:
		return ms_region_set_unmergeable(e->r, v->on);
	case SET_ROMD:
		return ms_region_set_romd(e->r, v->on);
	case SET_ALIAS_OFFSET:
		return ms_region_set_alias_offset(e->r, v->number);
	default:
		return ms_region_set_owner(e->r, v->text.len ? v->text.text : NULL);
	}
}

/* What -EINVAL from setting property @arg means. */
static const char *set_einval(int arg)
{
	switch (arg) {
	case SET_SIZE:
		return "the size of a region with memory is fixed, and only containers, I/O and "
		       "alias regions may be 0";
	case SET_PRIO:
		return "the region is not in a container";
	case SET_ROMD:
		return "the region is not a ROM device";
	case SET_ALIAS_OFFSET:
		return "the region is not an alias";
	default:
		return NULL;
	}
}

static int cmd_set(msc_session *s, call *c)
{
	struct region_ent *e;
	size_t i;
	option_value v;
	int rc;

	if (region_arg(s, c->pos[0], &e))
		return 1;
	if (c->nopt == 0)
		return errorf(s, c->word->col, "set: nothing to set (e.g. set %s readonly=on)",
			      shows(s, e->name));
	/* Check every value first, then apply them in order. */
	for (i = 0; i < c->nopt; i++)
		if (read_value(s, option_of(c->cmd, c->opt[i]), c->opt[i], &v))
			return 1;
	for (i = 0; i < c->nopt; i++) {
		const struct param *p = option_of(c->cmd, c->opt[i]);

		read_value(s, p, c->opt[i], &v);
		rc = set_property(e, p, &v);
		if (rc)
			return lib_error(s, c->opt[i]->col, p->name, rc,
					 rc == -EINVAL ? set_einval(p->arg) : NULL);
	}
	return 0;
}

static int cmd_enable(msc_session *s, call *c)
{
	bool on = c->cmd->arg;
	struct region_ent *e;
	size_t i;
	int rc;

	for (i = 0; i < c->npos; i++)
		if (region_arg(s, c->pos[i], &e))
			return 1;
	for (i = 0; i < c->npos; i++) {
		e = find_region(s, c->pos[i]->text, c->pos[i]->len);
		rc = ms_region_set_enabled(e->r, on);
		if (rc)
			return lib_error(s, c->pos[i]->col, c->cmd->name, rc, NULL);
	}
	return 0;
}

static int cmd_drop(msc_session *s, call *c)
{
	struct region_ent *e;
	size_t i;

	if (region_arg(s, c->pos[0], &e))
		return 1;
	for (i = 0; i < s->spaces.nr; i++)
		if (ms_as_root(msc_table_item(&s->spaces, i)) == e->r)
			return errorf(s, c->pos[0]->col,
				      "drop: %s is the root of address space %s (as-free it first)",
				      showw(s, c->pos[0]), shows(s, msc_table_name(&s->spaces, i)));
	ms_region_unref(e->r);
	msc_table_remove(&s->regions, msc_table_index_of(&s->regions, e));
	free(e);
	return 0;
}

static const msc_name kind_names[] = {
	{"container", MS_REGION_CONTAINER},
	{"io", MS_REGION_IO},
	{"ram", MS_REGION_RAM},
	{"rom", MS_REGION_ROM},
	{"romdevice", MS_REGION_ROM_DEVICE},
	{"ramdevice", MS_REGION_RAM_DEVICE},
	{"ramptr", MS_REGION_RAM_PTR},
	{"alias", MS_REGION_ALIAS},
	{"iommu", MS_REGION_IOMMU},
	{NULL, 0},
};

static int cmd_show(msc_session *s, call *c)
{
	struct region_ent *e, *parent;
	ms_region *r, *target;
	FILE *o = s->o.out;
	uint64_t size;
	size_t i, n;

	if (region_arg(s, c->pos[0], &e))
		return 1;
	r = e->r;
	size = ms_region_size(r);
	fprintf(o, "%s: %s, size ", e->name,
		msc_name_text(kind_names, (int)ms_region_get_kind(r), "?"));
	if (size == MS_SIZE_2_64)
		fputs("2^64", o);
	else
		fprintf(o, "0x%" PRIx64, size);
	if (ms_region_container(r)) {
		parent = region_of(s, ms_region_container(r));
		fprintf(o, ", in %s at 0x%" PRIx64 " prio %d",
			parent ? parent->name : ms_region_name(ms_region_container(r)),
			ms_region_addr(r), ms_region_priority(r));
	} else {
		fputs(", not in a container", o);
	}
	fputc('\n', o);
	fprintf(o, "  enabled=%s readonly=%s nonvolatile=%s unmergeable=%s",
		ms_region_enabled(r) ? "on" : "off", ms_region_readonly(r) ? "on" : "off",
		ms_region_nonvolatile(r) ? "on" : "off", ms_region_unmergeable(r) ? "on" : "off");
	if (ms_region_get_kind(r) == MS_REGION_ROM_DEVICE)
		fprintf(o, " romd=%s", ms_region_romd(r) ? "on" : "off");
	if (ms_region_owner(r))
		fprintf(o, " owner=%s", ms_region_owner(r));
	fputc('\n', o);
	target = ms_region_alias_target(r);
	if (target)
		fprintf(o, "  alias of %s at offset 0x%" PRIx64 "\n", ms_region_name(target),
			ms_region_alias_offset(r));
	if (e->dev)
		fprintf(o, "  device model attached\n");
	if (e->mmu) {
		ms_iommu_notifier_flags fl = ms_iommu_notify_flags(r);

		fprintf(o,
			"  translates into %s, page 0x%" PRIx64
			", %u index%s, %zu mapping%s, notifiers follow%s%s%s%s\n",
			ms_as_name(msc_iommu_target(e->mmu)), msc_iommu_page(e->mmu),
			msc_iommu_nr_indexes(e->mmu), msc_iommu_nr_indexes(e->mmu) == 1 ? "" : "es",
			msc_iommu_nr_entries(e->mmu), msc_iommu_nr_entries(e->mmu) == 1 ? "" : "s",
			fl ? "" : " nothing", fl & MS_IOMMU_NOTIFIER_MAP ? " map" : "",
			fl & MS_IOMMU_NOTIFIER_UNMAP ? " unmap" : "",
			fl & MS_IOMMU_NOTIFIER_DEVIOTLB_UNMAP ? " deviotlb" : "");
	}
	n = ms_region_nr_subregions(r);
	for (i = 0; i < n; i++) {
		ms_region *sub = ms_region_subregion(r, i);

		fprintf(o, "  subregion %s at 0x%" PRIx64 " prio %d%s\n", ms_region_name(sub),
			ms_region_addr(sub), ms_region_priority(sub),
			ms_region_enabled(sub) ? "" : " (disabled)");
	}
	return 0;
}

static void list_names(msc_session *s, const char *what, const msc_table *t)
{
	fprintf(s->o.out, "%s:", what);
	for (size_t i = 0; i < t->nr; i++)
		fprintf(s->o.out, " %s%s", msc_table_name(t, i),
			t == &s->spaces && msc_table_item(t, i) == s->current ? " (current)" : "");
	fputc('\n', s->o.out);
}

static int cmd_list(msc_session *s, call *c)
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
	return 0;
}

static int cmd_as(msc_session *s, call *c)
{
	struct region_ent *root;
	ms_as *as;
	int rc;

	if (check_new_name(s, c->pos[0], "address space",
			   msc_table_lookup(&s->spaces, c->pos[0]->text, c->pos[0]->len) != NULL) ||
	    region_arg(s, c->pos[1], &root))
		return 1;
	if (s->spaces.nr == MSC_MAX_AS)
		return errorf(s, c->word->col, "as: too many address spaces (the limit is %u)",
			      MSC_MAX_AS);
	rc = ms_as_new(&as, s->ctx, root->r, c->pos[0]->text);
	if (rc)
		return lib_error(s, c->word->col, "as", rc, NULL);
	if (!msc_table_add(&s->spaces, c->pos[0]->text, c->pos[0]->len, as)) {
		ms_as_free(as);
		return lib_error(s, c->word->col, "as", -ENOMEM, NULL);
	}
	if (!s->current)
		s->current = as;
	return 0;
}

static int cmd_as_free(msc_session *s, call *c)
{
	ms_as *as;
	size_t i;
	int rc;

	if (as_arg(s, c->pos[0], &as))
		return 1;
	for (i = 0; i < s->nr_devices; i++)
		if (msc_device_dma_as(s->devices[i]) == as)
			return errorf(s, c->pos[0]->col,
				      "as-free: dma device %s works in address space %s",
				      shows(s, msc_device_name(s->devices[i])),
				      showw(s, c->pos[0]));
	for (i = 0; i < s->nr_models; i++)
		if (msc_iommu_target(s->models[i]) == as)
			return errorf(s, c->pos[0]->col,
				      "as-free: iommu %s translates into address space %s",
				      shows(s, msc_iommu_name(s->models[i])), showw(s, c->pos[0]));
	for (i = 0; i < s->caches.nr; i++)
		if (((struct cache_ent *)msc_table_item(&s->caches, i))->as == as)
			return errorf(s, c->pos[0]->col,
				      "as-free: cache %s works in address space %s",
				      shows(s, msc_table_name(&s->caches, i)), showw(s, c->pos[0]));
	rc = ms_as_free(as);
	if (rc)
		return lib_error(s, c->word->col, "as-free", rc,
				 rc == -EBUSY
					 ? "listeners are still registered (unlisten them first)"
					 : NULL);
	/* ms_as_free() released the mappings and map clients of @as. */
	for (i = 0; i < s->nr_mappings;)
		if (s->mappings[i].as == as)
			s->mappings[i] = s->mappings[--s->nr_mappings];
		else
			i++;
	for (i = 0; i < s->clients.nr;) {
		struct client_ent *e = msc_table_item(&s->clients, i);

		if (e->as == as)
			free(msc_table_remove(&s->clients, i));
		else
			i++;
	}
	msc_table_remove(&s->spaces, msc_table_index_of(&s->spaces, as));
	if (s->current == as)
		s->current = s->spaces.nr ? msc_table_item(&s->spaces, 0) : NULL;
	return 0;
}

static int cmd_use(msc_session *s, call *c)
{
	return as_arg(s, c->pos[0], &s->current);
}

static int cmd_begin(msc_session *s, call *c)
{
	(void)c;
	if (s->txn_depth == 0)
		s->txn_line = s->lineno;
	if (s->txn_depth >= 1000)
		return errorf(s, c->word->col,
			      "begin: transactions nested too deeply (the limit is 1000)");
	ms_transaction_begin(s->ctx);
	s->txn_depth++;
	return 0;
}

static int cmd_commit(msc_session *s, call *c)
{
	int rc;

	if (s->txn_depth == 0)
		return errorf(s, c->word->col, "commit without begin");
	rc = ms_transaction_commit(s->ctx);
	s->txn_depth--;
	if (rc)
		return lib_error(s, c->word->col, "commit", rc,
				 rc == -ELOOP ? "the view would nest deeper than 1024 levels (an "
						"alias that leads back into itself without end); "
						"the changes stay pending"
					      : NULL);
	return 0;
}

/* ---- accesses ---------------------------------------------------------- */

static int cmd_read(msc_session *s, call *c)
{
	char res[48];
	uint64_t addr, len;
	ms_attrs attrs;
	uint8_t *buf;
	ms_result r;
	ms_as *as;
	size_t i;

	if (parse_number(s, c->pos[0], "address", false, &addr) ||
	    parse_number(s, c->pos[1], "length", false, &len) || access_as(s, c, &as) ||
	    parse_attrs(s, c, &attrs))
		return 1;
	if (len > MSC_MAX_PRINT)
		return errorf(s, c->pos[1]->col, "read: %" PRIu64 " bytes is over the limit of %u",
			      len, MSC_MAX_PRINT);
	buf = malloc(len ? (size_t)len : 1);
	if (!buf)
		return lib_error(s, c->word->col, "read", -ENOMEM, NULL);
	r = ms_as_read(as, addr, attrs, buf, (size_t)len);
	result_text(res, sizeof(res), r);
	if (len <= 16) {
		fprintf(s->o.out, "read 0x%" PRIx64 " %" PRIu64 " ->", addr, len);
		for (i = 0; i < len; i++)
			fprintf(s->o.out, " %02x", buf[i]);
		fprintf(s->o.out, " (%s)\n", res);
	} else {
		fprintf(s->o.out, "read 0x%" PRIx64 " %" PRIu64 " (%s)\n", addr, len, res);
		hexdump(s, addr, buf, (size_t)len);
	}
	free(buf);
	return 0;
}

static int cmd_write(msc_session *s, call *c)
{
	bool load = c->cmd->arg == WRITE_LOADER;
	uint8_t buf[MSC_MAX_LINE];
	char res[48];
	uint64_t addr;
	ms_attrs attrs = MS_ATTRS_UNSPECIFIED;
	size_t len;
	ms_result r;
	ms_as *as;

	if (parse_number(s, c->pos[0], "address", false, &addr) ||
	    parse_data(s, c, 1, buf, sizeof(buf), &len) || access_as(s, c, &as) ||
	    (!load && parse_attrs(s, c, &attrs)))
		return 1;
	r = load ? ms_as_write_rom(as, addr, buf, len) : ms_as_write(as, addr, attrs, buf, len);
	result_text(res, sizeof(res), r);
	fprintf(s->o.out, "%s 0x%" PRIx64 " %zu byte%s (%s)\n", c->cmd->name, addr, len,
		len == 1 ? "" : "s", res);
	return 0;
}

static int cmd_fill(msc_session *s, call *c)
{
	uint64_t addr, len, byte;
	char res[48];
	ms_attrs attrs;
	ms_result r;
	ms_as *as;

	if (parse_number(s, c->pos[0], "address", false, &addr) ||
	    parse_number(s, c->pos[1], "length", false, &len) ||
	    parse_number(s, c->pos[2], "byte", false, &byte) || access_as(s, c, &as) ||
	    parse_attrs(s, c, &attrs))
		return 1;
	if (len > MSC_MAX_BYTES)
		return errorf(s, c->pos[1]->col, "fill: %" PRIu64 " bytes is over the limit of %u",
			      len, MSC_MAX_BYTES);
	if (byte > 0xff)
		return errorf(s, c->pos[2]->col, "fill: 0x%" PRIx64 " does not fit in a byte",
			      byte);
	r = ms_as_set(as, addr, attrs, (uint8_t)byte, (size_t)len);
	result_text(res, sizeof(res), r);
	fprintf(s->o.out, "fill 0x%" PRIx64 " %" PRIu64 " 0x%02x (%s)\n", addr, len, (unsigned)byte,
		res);
	return 0;
}

static int scalar_be(msc_session *s, call *c, bool *be)
{
	msc_word *b = get_opt(c, "be"), *l = get_opt(c, "le");

	if (b && l)
		return errorf(s, l->col, "be and le exclude each other");
	*be = b != NULL;
	return 0;
}

static int cmd_ld(msc_session *s, call *c)
{
	unsigned size = (unsigned)c->cmd->arg;
	uint64_t addr, v = 0;
	ms_result r = 0;
	char res[48];
	ms_attrs attrs;
	ms_as *as;
	bool be;

	if (parse_number(s, c->pos[0], "address", false, &addr) || access_as(s, c, &as) ||
	    parse_attrs(s, c, &attrs) || scalar_be(s, c, &be))
		return 1;
	switch (size) {
	case 1:
		v = ms_as_ldub(as, addr, attrs, &r);
		break;
	case 2:
		v = be ? ms_as_lduw_be(as, addr, attrs, &r) : ms_as_lduw_le(as, addr, attrs, &r);
		break;
	case 4:
		v = be ? ms_as_ldl_be(as, addr, attrs, &r) : ms_as_ldl_le(as, addr, attrs, &r);
		break;
	default:
		v = be ? ms_as_ldq_be(as, addr, attrs, &r) : ms_as_ldq_le(as, addr, attrs, &r);
		break;
	}
	result_text(res, sizeof(res), r);
	fprintf(s->o.out, "%s 0x%" PRIx64 "%s -> 0x%0*" PRIx64 " (%s)\n", c->cmd->name, addr,
		size > 1 ? (be ? " be" : " le") : "", (int)size * 2, v, res);
	return 0;
}

static int cmd_st(msc_session *s, call *c)
{
	unsigned size = (unsigned)c->cmd->arg;
	uint64_t addr, v;
	ms_result r;
	char res[48];
	ms_attrs attrs;
	ms_as *as;
	bool be;

	if (parse_number(s, c->pos[0], "address", false, &addr) ||
	    parse_number(s, c->pos[1], "value", false, &v) || access_as(s, c, &as) ||
	    parse_attrs(s, c, &attrs) || scalar_be(s, c, &be))
		return 1;
	if (size < 8 && v >> (8 * size))
		return errorf(s, c->pos[1]->col, "%s: 0x%" PRIx64 " does not fit in %u byte%s",
			      c->cmd->name, v, size, size == 1 ? "" : "s");
	switch (size) {
	case 1:
		r = ms_as_stb(as, addr, attrs, (uint8_t)v);
		break;
	case 2:
		r = be ? ms_as_stw_be(as, addr, attrs, (uint16_t)v)
		       : ms_as_stw_le(as, addr, attrs, (uint16_t)v);
		break;
	case 4:
		r = be ? ms_as_stl_be(as, addr, attrs, (uint32_t)v)
		       : ms_as_stl_le(as, addr, attrs, (uint32_t)v);
		break;
	default:
		r = be ? ms_as_stq_be(as, addr, attrs, v) : ms_as_stq_le(as, addr, attrs, v);
		break;
	}
	result_text(res, sizeof(res), r);
	fprintf(s->o.out, "%s 0x%" PRIx64 "%s 0x%0*" PRIx64 " (%s)\n", c->cmd->name, addr,
		size > 1 ? (be ? " be" : " le") : "", (int)size * 2, v, res);
	return 0;
}

static const char *section_type(const ms_section *sec)
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

static void print_flags(FILE *o, const ms_section *sec)
{
	if (sec->readonly)
		fputs(" readonly", o);
	if (sec->nonvolatile)
		fputs(" nonvolatile", o);
	if (sec->unmergeable)
		fputs(" unmergeable", o);
}

static int cmd_translate(msc_session *s, call *c)
{
	uint64_t addr, len = UINT64_MAX;
	ms_section sec;
	ms_attrs attrs;
	ms_as *as;
	int rc;

	if (parse_number(s, c->pos[0], "address", false, &addr) ||
	    (c->npos > 1 && parse_number(s, c->pos[1], "length", false, &len)) ||
	    access_as(s, c, &as) || parse_attrs(s, c, &attrs))
		return 1;
	if (len == 0)
		return errorf(s, c->pos[1]->col, "translate: the length must be at least 1");
	ms_rcu_read_lock();
	rc = ms_as_translate(&sec, &len, as, addr, get_opt(c, "write") != NULL, attrs);
	if (rc == 0) {
		fprintf(s->o.out,
			"translate 0x%" PRIx64 " -> %s +0x%" PRIx64 ", 0x%" PRIx64 " bytes (%s",
			addr, ms_region_name(sec.region), sec.offset_in_region, len,
			section_type(&sec));
		print_flags(s->o.out, &sec);
		fputs(")\n", s->o.out);
	}
	ms_rcu_read_unlock();
	if (rc == -ENOENT)
		fprintf(s->o.out, "translate 0x%" PRIx64 " -> nothing, 0x%" PRIx64 " bytes\n", addr,
			len);
	else if (rc)
		return lib_error(s, c->word->col, "translate", rc, NULL);
	return 0;
}

static int cmd_valid(msc_session *s, call *c)
{
	uint64_t addr, len;
	ms_attrs attrs;
	ms_as *as;
	bool w = get_opt(c, "write") != NULL;

	if (parse_number(s, c->pos[0], "address", false, &addr) ||
	    parse_number(s, c->pos[1], "length", false, &len) || access_as(s, c, &as) ||
	    parse_attrs(s, c, &attrs))
		return 1;
	if (len > MSC_MAX_BYTES)
		return errorf(s, c->pos[1]->col, "valid: %" PRIu64 " bytes is over the limit of %u",
			      len, MSC_MAX_BYTES);
	fprintf(s->o.out, "valid 0x%" PRIx64 " %" PRIu64 " %s -> %s\n", addr, len,
		w ? "write" : "read",
		ms_as_access_valid(as, addr, (size_t)len, w, attrs) ? "yes" : "no");
	return 0;
}

static int cmd_access_depth(msc_session *s, call *c)
{
	uint64_t n;

	if (parse_number(s, c->pos[0], "depth", false, &n))
		return 1;
	if (n == 0 || n > 64)
		return errorf(s, c->pos[0]->col, "access-depth: give 1 to 64");
	return ms_ctx_set_max_access_depth(s->ctx, (unsigned)n) ? 1 : 0;
}

/* ---- DMA mapping ------------------------------------------------------- */

static int cmd_map(msc_session *s, call *c)
{
	bool is_write = get_opt(c, "write") != NULL, direct = false;
	uint64_t addr, len, got, tlen = 1;
	struct mapping *m;
	ms_section sec;
	ms_attrs attrs;
	ms_as *as;
	void *p;

	if (parse_number(s, c->pos[0], "address", false, &addr) ||
	    parse_number(s, c->pos[1], "length", false, &len) || access_as(s, c, &as) ||
	    parse_attrs(s, c, &attrs))
		return 1;
	if (len > MSC_MAX_BYTES)
		return errorf(s, c->pos[1]->col, "map: %" PRIu64 " bytes is over the limit of %u",
			      len, MSC_MAX_BYTES);
	if (s->nr_mappings == MSC_MAX_MAPPINGS)
		return errorf(s, c->word->col, "map: too many live mappings (the limit is %u)",
			      MSC_MAX_MAPPINGS);
	got = len;
	p = ms_as_map(as, addr, &got, is_write, attrs);
	if (!p) {
		fprintf(s->o.out, "map 0x%" PRIx64 " %" PRIu64 " %s -> nothing mapped\n", addr, len,
			is_write ? "write" : "read");
		return 0;
	}
	m = &s->mappings[s->nr_mappings++];
	m->id = ++s->next_map_id;
	m->as = as;
	m->p = p;
	m->addr = addr;
	m->len = got;
	m->is_write = is_write;
	fprintf(s->o.out, "map %lu: 0x%" PRIx64 " %" PRIu64 " %s", m->id, addr, got,
		is_write ? "write" : "read");
	ms_rcu_read_lock();
	if (ms_as_translate(&sec, &tlen, as, addr, is_write, attrs) == 0) {
		uint8_t *ram = ms_region_ram_ptr(sec.region);

		direct = ram && (uint8_t *)p == ram + sec.offset_in_region;
		fprintf(s->o.out, " %s (%s +0x%" PRIx64 ")\n", direct ? "direct" : "bounce",
			ms_region_name(sec.region), sec.offset_in_region);
	} else {
		fputs(" bounce\n", s->o.out);
	}
	ms_rcu_read_unlock();
	return 0;
}

static int mapping_arg(msc_session *s, const msc_word *w, struct mapping **out)
{
	uint64_t id;
	size_t i;

	if (parse_number(s, w, "mapping id", false, &id))
		return 1;
	for (i = 0; i < s->nr_mappings; i++) {
		if (s->mappings[i].id == id) {
			*out = &s->mappings[i];
			return 0;
		}
	}
	return errorf(s, w->col, "no live mapping %" PRIu64, id);
}

static int cmd_map_read(msc_session *s, call *c)
{
	struct mapping *m;
	uint64_t off, len;

	if (mapping_arg(s, c->pos[0], &m) || parse_number(s, c->pos[1], "offset", false, &off) ||
	    parse_number(s, c->pos[2], "length", false, &len))
		return 1;
	if (off > m->len || len > m->len - off)
		return errorf(s, c->pos[2]->col,
			      "map-read: past the end of mapping %lu (%" PRIu64 " bytes)", m->id,
			      m->len);
	if (len > MSC_MAX_PRINT)
		return errorf(s, c->pos[2]->col,
			      "map-read: %" PRIu64 " bytes is over the limit of %u", len,
			      MSC_MAX_PRINT);
	fprintf(s->o.out, "map-read %lu +0x%" PRIx64 " %" PRIu64 ":\n", m->id, off, len);
	hexdump(s, m->addr + off, (const uint8_t *)m->p + off, (size_t)len);
	return 0;
}

static int cmd_map_write(msc_session *s, call *c)
{
	uint8_t buf[MSC_MAX_LINE];
	struct mapping *m;
	uint64_t off;
	size_t len;

	if (mapping_arg(s, c->pos[0], &m) || parse_number(s, c->pos[1], "offset", false, &off) ||
	    parse_data(s, c, 2, buf, sizeof(buf), &len))
		return 1;
	if (!m->is_write)
		return errorf(s, c->pos[0]->col, "map-write: mapping %lu is a read mapping", m->id);
	if (off > m->len || len > m->len - off)
		return errorf(s, c->pos[1]->col,
			      "map-write: past the end of mapping %lu (%" PRIu64 " bytes)", m->id,
			      m->len);
	memcpy((uint8_t *)m->p + off, buf, len);
	fprintf(s->o.out, "map-write %lu +0x%" PRIx64 " %zu byte%s\n", m->id, off, len,
		len == 1 ? "" : "s");
	return 0;
}

static int cmd_unmap(msc_session *s, call *c)
{
	struct mapping *m, copy;
	uint64_t written;
	int rc;

	if (mapping_arg(s, c->pos[0], &m))
		return 1;
	written = m->is_write ? m->len : 0;
	if (c->npos > 1 && parse_number(s, c->pos[1], "length written", false, &written))
		return 1;
	if (written > m->len)
		return errorf(s, c->pos[1]->col, "unmap: mapping %lu has only %" PRIu64 " bytes",
			      m->id, m->len);
	copy = *m;
	*m = s->mappings[--s->nr_mappings];
	fprintf(s->o.out, "unmap %lu\n", copy.id);
	rc = ms_as_unmap(copy.as, copy.p, copy.len, copy.is_write, written);
	if (rc)
		return lib_error(s, c->word->col, "unmap", rc, NULL);
	return 0;
}

static int cmd_bounce_budget(msc_session *s, call *c)
{
	uint64_t n;
	ms_as *as;

	if (parse_number(s, c->pos[0], "budget", false, &n) || access_as(s, c, &as))
		return 1;
	if (n < MS_BOUNCE_BUDGET_MIN || n > MSC_MAX_BOUNCE_BUDGET)
		return errorf(s, c->pos[0]->col, "bounce-budget: give 4K to 16M");
	return ms_as_set_bounce_budget(as, (size_t)n)
		       ? lib_error(s, c->word->col, "bounce-budget", -EINVAL, NULL)
		       : 0;
}

static void client_called(void *opaque)
{
	struct client_ent *e = opaque;

	fprintf(e->s->o.out, "[map-client %s] bounce budget available\n", e->name);
}

static int cmd_map_client(msc_session *s, call *c)
{
	struct client_ent *e;
	ms_as *as;
	int rc;

	if (check_new_name(s, c->pos[0], "map client",
			   msc_table_find(&s->clients, c->pos[0]->text, c->pos[0]->len) !=
				   SIZE_MAX) ||
	    access_as(s, c, &as))
		return 1;
	if (s->clients.nr == MSC_MAX_MAP_CLIENTS)
		return errorf(s, c->word->col, "map-client: too many map clients (the limit is %u)",
			      MSC_MAX_MAP_CLIENTS);
	e = calloc(1, sizeof(*e));
	if (!e || !(e->name = msc_table_add(&s->clients, c->pos[0]->text, c->pos[0]->len, e))) {
		free(e);
		return lib_error(s, c->word->col, "map-client", -ENOMEM, NULL);
	}
	e->s = s;
	e->as = as;
	rc = ms_as_register_map_client(&e->c, as, client_called, e);
	if (rc) {
		free(msc_table_remove(&s->clients, s->clients.nr - 1));
		return lib_error(s, c->word->col, "map-client", rc, NULL);
	}
	return 0;
}

static int cmd_map_client_free(msc_session *s, call *c)
{
	size_t i = msc_table_find(&s->clients, c->pos[0]->text, c->pos[0]->len);
	struct client_ent *e;

	if (i == SIZE_MAX)
		return errorf(s, c->pos[0]->col, "unknown map client %s", showw(s, c->pos[0]));
	e = msc_table_remove(&s->clients, i);
	ms_as_unregister_map_client(e->c);
	free(e);
	return 0;
}

/* ---- listeners --------------------------------------------------------- */

static void print_section(struct listener_ent *e, const char *what, const ms_section *sec)
{
	FILE *o = e->s->o.out;

	fprintf(o, "[%s] %s %016" PRIx64 "-%016" PRIx64 " %s %s", e->name, what, sec->start,
		sec->last, section_type(sec), ms_region_name(sec->region));
	if (sec->offset_in_region)
		fprintf(o, " @0x%" PRIx64, sec->offset_in_region);
	print_flags(o, sec);
	if (sec->dirty_log_mask)
		fprintf(o, " dirty-log=0x%x", sec->dirty_log_mask);
	fputc('\n', o);
}

static void on_begin(void *opaque)
{
	struct listener_ent *e = opaque;

	fprintf(e->s->o.out, "[%s] begin\n", e->name);
}

static void on_commit(void *opaque)
{
	struct listener_ent *e = opaque;

	fprintf(e->s->o.out, "[%s] commit\n", e->name);
}

static void on_add(const ms_section *sec, void *opaque)
{
	print_section(opaque, "region_add", sec);
}

static void on_del(const ms_section *sec, void *opaque)
{
	print_section(opaque, "region_del", sec);
}

static void on_nop(const ms_section *sec, void *opaque)
{
	struct listener_ent *e = opaque;

	if (e->show_nop)
		print_section(e, "region_nop", sec);
}

static void on_log_start(const ms_section *sec, uint8_t old_mask, uint8_t new_mask, void *opaque)
{
	(void)old_mask;
	(void)new_mask;
	print_section(opaque, "log_start", sec);
}

static void on_log_stop(const ms_section *sec, uint8_t old_mask, uint8_t new_mask, void *opaque)
{
	(void)old_mask;
	(void)new_mask;
	print_section(opaque, "log_stop", sec);
}

static void on_log_sync(const ms_section *sec, void *opaque)
{
	print_section(opaque, "log_sync", sec);
}

static void on_global_start(void *opaque)
{
	struct listener_ent *e = opaque;

	fprintf(e->s->o.out, "[%s] log_global_start\n", e->name);
}

static void on_global_stop(void *opaque)
{
	struct listener_ent *e = opaque;

	fprintf(e->s->o.out, "[%s] log_global_stop\n", e->name);
}

static int cmd_listen(msc_session *s, call *c)
{
	struct listener_ent *e;
	ms_as *as;
	int prio = 0, rc;
	bool nop = true;

	if (check_new_name(s, c->pos[0], "listener",
			   msc_table_find(&s->listeners, c->pos[0]->text, c->pos[0]->len) !=
				   SIZE_MAX) ||
	    access_as(s, c, &as))
		return 1;
	if (opt_prio(s, c, "prio", &prio) || opt_bool(s, c, "nop", &nop))
		return 1;
	if (s->listeners.nr == MSC_MAX_LISTENERS)
		return errorf(s, c->word->col, "listen: too many listeners (the limit is %u)",
			      MSC_MAX_LISTENERS);
	e = calloc(1, sizeof(*e));
	if (!e || !(e->name = msc_table_add(&s->listeners, c->pos[0]->text, c->pos[0]->len, e))) {
		free(e);
		return lib_error(s, c->word->col, "listen", -ENOMEM, NULL);
	}
	e->s = s;
	e->as = as;
	e->show_nop = nop;
	e->ops.begin = on_begin;
	e->ops.commit = on_commit;
	e->ops.region_add = on_add;
	e->ops.region_del = on_del;
	e->ops.region_nop = on_nop;
	e->ops.log_start = on_log_start;
	e->ops.log_stop = on_log_stop;
	e->ops.log_sync = on_log_sync;
	e->ops.log_global_start = on_global_start;
	e->ops.log_global_stop = on_global_stop;
	e->ops.priority = prio;
	rc = ms_listener_register(&e->l, as, &e->ops, e);
	if (rc) {
		free(msc_table_remove(&s->listeners, s->listeners.nr - 1));
		return lib_error(s, c->word->col, "listen", rc, NULL);
	}
	return 0;
}

static int cmd_unlisten(msc_session *s, call *c)
{
	size_t i = msc_table_find(&s->listeners, c->pos[0]->text, c->pos[0]->len);
	struct listener_ent *e;
	int rc;

	if (i == SIZE_MAX)
		return errorf(s, c->pos[0]->col, "unknown listener %s", showw(s, c->pos[0]));
	e = msc_table_item(&s->listeners, i);
	rc = ms_listener_unregister(e->l);
	if (rc)
		return lib_error(s, c->word->col, "unlisten", rc, NULL);
	free(msc_table_remove(&s->listeners, i));
	return 0;
}

static int cmd_dirty_log(msc_session *s, call *c)
{
	struct region_ent *e;
	uint64_t client;
	bool on;
	int rc;

	if (region_arg(s, c->pos[0], &e) || parse_number(s, c->pos[1], "client", false, &client) ||
	    parse_bool(s, c->pos[2], &on))
		return 1;
	if (client > 7)
		return errorf(s, c->pos[1]->col, "dirty-log: the client is 0 to 7");
	rc = ms_region_set_dirty_log(e->r, (unsigned)client, on);
	if (rc)
		return lib_error(s, c->word->col, "dirty-log", rc,
				 rc == -EINVAL ? "the region has no RAM" : NULL);
	return 0;
}

static int cmd_log_global(msc_session *s, call *c)
{
	bool on;
	int rc;

	if (parse_bool(s, c->pos[0], &on))
		return 1;
	rc = on ? ms_ctx_dirty_log_global_start(s->ctx) : ms_ctx_dirty_log_global_stop(s->ctx);
	return rc ? lib_error(s, c->word->col, "log-global", rc, NULL) : 0;
}

static int cmd_log_sync(msc_session *s, call *c)
{
	ms_as *as;
	int rc;

	if (access_as(s, c, &as))
		return 1;
	rc = ms_as_log_sync(as);
	return rc ? lib_error(s, c->word->col, "log-sync", rc, NULL) : 0;
}

static unsigned notifier_index(ms_iommu_notifier *n, void *arg)
{
	msc_session *s = arg;

	for (size_t i = 0; i < s->notifiers.nr; i++) {
		struct notifier_ent *e = msc_table_item(&s->notifiers, i);

		if (e->n == n)
			return e->idx;
	}
	return UINT_MAX;
}

/* iommu NAME SIZE: with target=AS a translating IOMMU (iommu_model.c), else class-less. */
static int cmd_iommu(msc_session *s, call *c)
{
	msc_word *target = get_opt(c, "target"), *page_w = get_opt(c, "page"),
		 *idx_w = get_opt(c, "indexes");
	msc_iommu_config cfg = {0};
	struct placement place;
	msc_iommu *m;
	ms_region *r;
	uint64_t size, page = MS_IOMMU_PAGE_SIZE_DEFAULT, nr = 1;
	int rc;

	if (!target) {
		if (page_w || idx_w)
			return errorf(s, (page_w ? page_w : idx_w)->col,
				      "iommu: page= and indexes= need target=AS");
		return cmd_region(s, c); /* the command's arg is MS_REGION_IOMMU */
	}
	if (check_region_budget(s, c) ||
	    check_new_name(s, c->pos[0], "region",
			   find_region(s, c->pos[0]->text, c->pos[0]->len)) ||
	    parse_number(s, c->pos[1], "size", true, &size))
		return 1;
	if (opt_as(s, c, "target", &cfg.target) || opt_number(s, c, "page", &page))
		return 1;
	if (page == 0 || (page & (page - 1)))
		return errorf(s, value_of(page_w).col,
			      "iommu: the page size must be a power of two, not 0x%" PRIx64, page);
	if (opt_number(s, c, "indexes", &nr))
		return 1;
	if (nr == 0 || nr > MS_IOMMU_MAX_INDEXES)
		return errorf(s, value_of(idx_w).col, "iommu: indexes= takes 1 to %u",
			      MS_IOMMU_MAX_INDEXES);
	if (size == 0)
		return errorf(s, c->pos[1]->col, "iommu: the size cannot be 0");
	if (parse_placement(s, c, &place))
		return 1;
	if (msc_grow((void **)&s->models, &s->cap_models, s->nr_models, sizeof(*s->models), 16))
		return lib_error(s, c->word->col, "iommu", -ENOMEM, NULL);
	cfg.name = c->pos[0]->text;
	cfg.size = size;
	cfg.page = page;
	cfg.nr_indexes = (unsigned)nr;
	cfg.notifier_index = notifier_index;
	cfg.arg = s;
	rc = msc_iommu_new(&m, &r, s->ctx, &cfg);
	if (rc)
		return lib_error(s, c->word->col, "iommu", rc, NULL);
	if (finish_region(s, c, r, NULL, &place, NULL)) {
		msc_iommu_free(m);
		return 1;
	}
	find_region(s, c->pos[0]->text, c->pos[0]->len)->mmu = m;
	s->models[s->nr_models++] = m;
	return 0;
}

static int index_opt(msc_session *s, call *c, unsigned nr_indexes, unsigned *out)
{
	uint64_t idx = 0;

	*out = 0;
	if (opt_number(s, c, "index", &idx))
		return 1;
	if (idx >= nr_indexes)
		return errorf(s, value_of(get_opt(c, "index")).col,
			      "%s: index %" PRIu64 " is out of range (the IOMMU has %u index%s)",
			      c->cmd->name, idx, nr_indexes, nr_indexes == 1 ? "" : "es");
	*out = (unsigned)idx;
	return 0;
}

/* iommu-map IOMMU IOVA ADDR SIZE, iommu-unmap IOMMU IOVA SIZE, iommu-invalidate IOMMU IOVA SIZE. */
static int cmd_iommu_range(msc_session *s, call *c)
{
	const char *name = c->cmd->name;
	bool map = c->cmd->arg == IOMMU_MAP, inval = c->cmd->arg == IOMMU_INVALIDATE;
	const msc_word *size_w = c->pos[map ? 3 : 2];
	uint64_t iova, addr = 0, size, page, rsize, lim;
	int perm = map ? MS_IOMMU_RW : MS_IOMMU_NONE;
	struct region_ent *e;
	unsigned idx;
	size_t cur, after;
	int rc;

	if (region_arg(s, c->pos[0], &e))
		return 1;
	if (!e->mmu)
		return errorf(s, c->pos[0]->col,
			      "%s: %s is not an IOMMU with a page table (create it with "
			      "'iommu NAME SIZE target=AS')",
			      name, showw(s, c->pos[0]));
	page = msc_iommu_page(e->mmu);
	if (parse_number(s, c->pos[1], "IOVA", false, &iova) ||
	    (map && parse_number(s, c->pos[2], "address", false, &addr)) ||
	    parse_number(s, size_w, "size", false, &size) ||
	    index_opt(s, c, msc_iommu_nr_indexes(e->mmu), &idx))
		return 1;
	if (opt_keyword(s, c, "perm", &perm))
		return 1;
	if (size == 0)
		return errorf(s, size_w->col, "%s: the size cannot be 0", name);
	if (!inval) {
		const msc_word *bad = iova & (page - 1)   ? c->pos[1]
				      : addr & (page - 1) ? c->pos[2]
				      : size & (page - 1) ? size_w
							  : NULL;

		if (bad)
			return errorf(s, bad->col,
				      "%s: %s is not a multiple of the page size (0x%" PRIx64 ")",
				      name, showw(s, bad), page);
	}
	rsize = ms_region_size(e->r);
	lim = rsize == MS_SIZE_2_64 ? UINT64_MAX : rsize - 1;
	if (size - 1 > lim || iova > lim - (size - 1))
		return errorf(s, size_w->col,
			      "%s: 0x%" PRIx64 " bytes at 0x%" PRIx64
			      " do not fit in the IOMMU (0x%" PRIx64 " bytes)",
			      name, size, iova, rsize);
	if (map && size - 1 > UINT64_MAX - addr)
		return errorf(s, c->pos[2]->col, "%s: the target range wraps past 2^64", name);
	if (map && msc_iommu_blocks(iova, addr, size, MSC_MAX_IOMMU_BLOCKS) > MSC_MAX_IOMMU_BLOCKS)
		return errorf(s, size_w->col,
			      "%s: the mapping falls into more than %u aligned blocks (align IOVA "
			      "and ADDR alike, or map less)",
			      name, MSC_MAX_IOMMU_BLOCKS);
	if (inval) {
		rc = msc_iommu_invalidate(e->mmu, idx, iova, size);
		return rc ? lib_error(s, c->word->col, name, rc,
				      rc == -EIO ? "a notifier refused the event" : NULL)
			  : 0;
	}
	cur = msc_iommu_nr_entries(e->mmu);
	after = msc_iommu_entries_after(e->mmu, idx, iova, size, map);
	if (after > cur && s->iommu_entries - cur + after > MSC_MAX_IOMMU_ENTRIES)
		return errorf(s, c->word->col,
			      "%s: too many page-table entries (the limit is %u per session)", name,
			      MSC_MAX_IOMMU_ENTRIES);
	rc = msc_iommu_update(e->mmu, idx, iova, size, addr, (ms_iommu_perm)perm);
	if (rc == -ENOMEM && msc_iommu_nr_entries(e->mmu) == cur)
		return lib_error(s, c->word->col, name, rc, NULL);
	s->iommu_entries = s->iommu_entries - cur + msc_iommu_nr_entries(e->mmu);
	if (rc)
		return lib_error(s, c->word->col, name, rc,
				 rc == -EIO ? "a notifier refused an event (the table has "
					      "changed; every notifier was told)"
					    : NULL);
	return 0;
}

static const char *perm_name(ms_iommu_perm p)
{
	return msc_name_text(perm_names, p & 3, "none");
}

static int on_iommu_event(ms_iommu_notifier *n, const ms_iommu_event *ev, void *opaque)
{
	struct notifier_ent *e = opaque;
	FILE *o = e->s->o.out;
	const ms_iotlb_entry *t = &ev->entry;

	(void)n;
	fprintf(o, "[%s] %s 0x%" PRIx64 "-0x%" PRIx64, e->name,
		ev->type == MS_IOMMU_NOTIFIER_MAP     ? "map"
		: ev->type == MS_IOMMU_NOTIFIER_UNMAP ? "unmap"
						      : "deviotlb-unmap",
		t->iova, t->iova + t->addr_mask);
	if (ev->type == MS_IOMMU_NOTIFIER_MAP)
		fprintf(o, " -> %s 0x%" PRIx64 " %s", t->target_as ? ms_as_name(t->target_as) : "?",
			t->translated_addr, perm_name(t->perm));
	fputs(e->fail ? " (refused)\n" : "\n", o);
	return e->fail ? -EIO : 0;
}

/* Keywords of @names joined by commas (flags=map,unmap), their values or-ed into *@out. */
static int parse_keywords(msc_session *s, const msc_word *v, const char *key, const msc_name *names,
			  unsigned *out)
{
	size_t pos = 0;

	*out = 0;
	while (pos <= v->len) {
		const char *p = v->text + pos;
		const char *comma = memchr(p, ',', v->len - pos);
		size_t n = comma ? (size_t)(comma - p) : v->len - pos;
		char list[64];
		int value;

		if (msc_name_value(names, p, n, &value))
			return errorf(s, v->col + (unsigned)pos,
				      "%s= takes %s joined by commas, not %s", key,
				      msc_name_list(list, sizeof(list), names, " and "),
				      show(s, p, n));
		*out |= (unsigned)value;
		pos += n + 1;
	}
	return 0;
}

static int cmd_notifier(msc_session *s, call *c)
{
	ms_iommu_notifier_opts opts = MS_IOMMU_NOTIFIER_OPTS_INIT;
	struct notifier_ent *e;
	struct region_ent *re;
	unsigned nr, flags = MS_IOMMU_NOTIFIER_IOTLB_EVENTS;
	bool fail = false;
	int rc;

	if (check_new_name(s, c->pos[0], "notifier",
			   msc_table_find(&s->notifiers, c->pos[0]->text, c->pos[0]->len) !=
				   SIZE_MAX) ||
	    region_arg(s, c->pos[1], &re))
		return 1;
	nr = ms_iommu_num_indexes(re->r);
	if (nr == 0)
		return errorf(s, c->pos[1]->col,
			      "notifier: %s is not an IOMMU with a translation class (create it "
			      "with 'iommu NAME SIZE target=AS')",
			      showw(s, c->pos[1]));
	if (opt_number(s, c, "start", &opts.start) || opt_number(s, c, "end", &opts.end) ||
	    index_opt(s, c, nr, &opts.iommu_idx))
		return 1;
	if (opts.start > opts.end)
		return errorf(s, get_opt(c, "start")->col, "notifier: start= is after end=");
	if (opt_keywords(s, c, "flags", &flags) || opt_bool(s, c, "fail", &fail))
		return 1;
	opts.flags = flags;
	if (s->notifiers.nr == MSC_MAX_NOTIFIERS)
		return errorf(s, c->word->col, "notifier: too many notifiers (the limit is %u)",
			      MSC_MAX_NOTIFIERS);
	e = calloc(1, sizeof(*e));
	if (!e || !(e->name = msc_table_add(&s->notifiers, c->pos[0]->text, c->pos[0]->len, e))) {
		free(e);
		return lib_error(s, c->word->col, "notifier", -ENOMEM, NULL);
	}
	e->s = s;
	e->iommu = re->r;
	e->idx = opts.iommu_idx;
	e->fail = fail;
	opts.notify = on_iommu_event;
	opts.opaque = e;
	rc = ms_iommu_register_notifier(&e->n, re->r, &opts);
	if (rc) {
		free(msc_table_remove(&s->notifiers, s->notifiers.nr - 1));
		return lib_error(s, c->word->col, "notifier", rc, NULL);
	}
	return 0;
}

static int notifier_arg(msc_session *s, const msc_word *w, struct notifier_ent **out)
{
	*out = msc_table_lookup(&s->notifiers, w->text, w->len);
	if (!*out)
		return errorf(s, w->col, "unknown notifier %s", showw(s, w));
	return 0;
}

static int cmd_notifier_free(msc_session *s, call *c)
{
	struct notifier_ent *e;
	int rc = 0;

	if (notifier_arg(s, c->pos[0], &e))
		return 1;
	if (get_opt(c, "unmap"))
		rc = ms_iommu_unmap_notifier_range(e->n);
	msc_table_remove(&s->notifiers, msc_table_index_of(&s->notifiers, e));
	ms_iommu_unregister_notifier(e->n);
	free(e);
	if (rc)
		return lib_error(s, c->word->col, "notifier-free", rc,
				 rc == -EIO ? "the notifier refused the event (it is unregistered "
					      "anyway)"
					    : NULL);
	return 0;
}

static int cmd_replay(msc_session *s, call *c)
{
	struct notifier_ent *e;
	int rc;

	if (notifier_arg(s, c->pos[0], &e))
		return 1;
	rc = ms_iommu_replay(e->iommu, e->n);
	return rc ? lib_error(s, c->word->col, "replay", rc,
			      rc == -EIO ? "the notifier refused an event (replay stopped there)"
					 : NULL)
		  : 0;
}

static int cmd_iotlb(msc_session *s, call *c)
{
	bool w = get_opt(c, "write") != NULL;
	ms_iotlb_entry t;
	uint64_t addr;
	ms_attrs attrs;
	const char *why;
	ms_as *as;
	int rc;

	if (parse_number(s, c->pos[0], "address", false, &addr) || access_as(s, c, &as) ||
	    parse_attrs(s, c, &attrs))
		return 1;
	rc = ms_as_get_iotlb_entry(&t, as, addr, w, attrs);
	fprintf(s->o.out, "iotlb 0x%" PRIx64 " %s -> ", addr, w ? "write" : "read");
	if (rc == 0) {
		fprintf(s->o.out, "iova 0x%" PRIx64 " mask 0x%" PRIx64 " = %s 0x%" PRIx64 " %s\n",
			t.iova, t.addr_mask, ms_as_name(t.target_as), t.translated_addr,
			perm_name(t.perm));
		return 0;
	}
	switch (-rc) {
	case ENOENT:
		why = "nothing answers where the path ends";
		break;
	case EACCES:
		why = "an IOMMU refuses the access";
		break;
	case EIO:
		why = "an IOMMU returned a malformed entry";
		break;
	case ELOOP:
		why = "a cycle of IOMMUs, or a chain longer than 16";
		break;
	default:
		fputs("?\n", s->o.out);
		return lib_error(s, c->word->col, "iotlb", rc, NULL);
	}
	fprintf(s->o.out, "%s (%s)\n", errno_name(rc), why);
	return 0;
}

static int cache_arg(msc_session *s, const msc_word *w, struct cache_ent **out)
{
	*out = msc_table_lookup(&s->caches, w->text, w->len);
	if (!*out)
		return errorf(s, w->col, "unknown cache %s", showw(s, w));
	return 0;
}

static const char *path_name(struct cache_ent *e, bool is_write)
{
	return ms_cache_is_direct(&e->c, is_write) ? "direct" : "slow";
}

static int cmd_cache(msc_session *s, call *c)
{
	bool is_write = get_opt(c, "write") != NULL;
	struct cache_ent *e;
	uint64_t addr, len;
	ms_as *as;
	int rc;

	if (check_new_name(s, c->pos[0], "cache",
			   msc_table_find(&s->caches, c->pos[0]->text, c->pos[0]->len) !=
				   SIZE_MAX) ||
	    parse_number(s, c->pos[1], "address", false, &addr) ||
	    parse_number(s, c->pos[2], "length", false, &len) || access_as(s, c, &as))
		return 1;
	if (len == 0)
		return errorf(s, c->pos[2]->col, "cache: the length must be at least 1");
	if (len > MSC_MAX_BYTES)
		return errorf(s, c->pos[2]->col, "cache: %" PRIu64 " bytes is over the limit of %u",
			      len, MSC_MAX_BYTES);
	if (len - 1 > UINT64_MAX - addr)
		return errorf(s, c->pos[2]->col, "cache: the stretch wraps past 2^64");
	if (s->caches.nr == MSC_MAX_CACHES)
		return errorf(s, c->word->col, "cache: too many caches (the limit is %u)",
			      MSC_MAX_CACHES);
	e = calloc(1, sizeof(*e));
	if (!e || !(e->name = msc_table_add(&s->caches, c->pos[0]->text, c->pos[0]->len, e))) {
		free(e);
		return lib_error(s, c->word->col, "cache", -ENOMEM, NULL);
	}
	e->as = as;
	e->is_write = is_write;
	rc = ms_cache_init(&e->c, as, addr, len, is_write);
	if (rc) {
		free(msc_table_remove(&s->caches, s->caches.nr - 1));
		return lib_error(s, c->word->col, "cache", rc, NULL);
	}
	fprintf(s->o.out, "cache %s: 0x%" PRIx64 " %" PRIu64 " %s, %s\n", e->name, addr, len,
		is_write ? "write" : "read", path_name(e, is_write));
	return 0;
}

static int cmd_cache_read(msc_session *s, call *c)
{
	struct cache_ent *e;
	uint64_t off, len;
	char res[48];
	uint8_t *buf;
	ms_result r;
	size_t i;

	if (cache_arg(s, c->pos[0], &e) || parse_number(s, c->pos[1], "offset", false, &off) ||
	    parse_number(s, c->pos[2], "length", false, &len))
		return 1;
	if (len > MSC_MAX_PRINT)
		return errorf(s, c->pos[2]->col,
			      "cache-read: %" PRIu64 " bytes is over the limit of %u", len,
			      MSC_MAX_PRINT);
	buf = malloc(len ? (size_t)len : 1);
	if (!buf)
		return lib_error(s, c->word->col, "cache-read", -ENOMEM, NULL);
	r = ms_cache_read(&e->c, off, buf, (size_t)len);
	result_text(res, sizeof(res), r);
	fprintf(s->o.out, "cache-read %s +0x%" PRIx64 " %" PRIu64, e->name, off, len);
	if (len <= 16) {
		fputs(" ->", s->o.out);
		for (i = 0; i < len; i++)
			fprintf(s->o.out, " %02x", buf[i]);
		fprintf(s->o.out, " (%s, %s)\n", res, path_name(e, false));
	} else {
		fprintf(s->o.out, " (%s, %s)\n", res, path_name(e, false));
		hexdump(s, off, buf, (size_t)len);
	}
	free(buf);
	return 0;
}

static int cmd_cache_write(msc_session *s, call *c)
{
	uint8_t buf[MSC_MAX_LINE];
	struct cache_ent *e;
	char res[48];
	uint64_t off;
	ms_result r;
	size_t len;

	if (cache_arg(s, c->pos[0], &e) || parse_number(s, c->pos[1], "offset", false, &off) ||
	    parse_data(s, c, 2, buf, sizeof(buf), &len))
		return 1;
	r = ms_cache_write(&e->c, off, buf, len);
	result_text(res, sizeof(res), r);
	fprintf(s->o.out, "cache-write %s +0x%" PRIx64 " %zu byte%s (%s, %s)\n", e->name, off, len,
		len == 1 ? "" : "s", res, path_name(e, true));
	return 0;
}

static int cmd_cache_ld(msc_session *s, call *c)
{
	unsigned size = (unsigned)c->cmd->arg;
	struct cache_ent *e;
	uint64_t off, v;
	ms_result r = 0;
	char res[48];
	bool be;

	if (cache_arg(s, c->pos[0], &e) || parse_number(s, c->pos[1], "offset", false, &off) ||
	    scalar_be(s, c, &be))
		return 1;
	switch (size) {
	case 1:
		v = ms_cache_ldub(&e->c, off, &r);
		break;
	case 2:
		v = be ? ms_cache_lduw_be(&e->c, off, &r) : ms_cache_lduw_le(&e->c, off, &r);
		break;
	case 4:
		v = be ? ms_cache_ldl_be(&e->c, off, &r) : ms_cache_ldl_le(&e->c, off, &r);
		break;
	default:
		v = be ? ms_cache_ldq_be(&e->c, off, &r) : ms_cache_ldq_le(&e->c, off, &r);
		break;
	}
	result_text(res, sizeof(res), r);
	fprintf(s->o.out, "%s %s +0x%" PRIx64 "%s -> 0x%0*" PRIx64 " (%s, %s)\n", c->cmd->name,
		e->name, off, size > 1 ? (be ? " be" : " le") : "", (int)size * 2, v, res,
		path_name(e, false));
	return 0;
}

static int cmd_cache_st(msc_session *s, call *c)
{
	unsigned size = (unsigned)c->cmd->arg;
	struct cache_ent *e;
	uint64_t off, v;
	char res[48];
	ms_result r;
	bool be;

	if (cache_arg(s, c->pos[0], &e) || parse_number(s, c->pos[1], "offset", false, &off) ||
	    parse_number(s, c->pos[2], "value", false, &v) || scalar_be(s, c, &be))
		return 1;
	if (size < 8 && v >> (8 * size))
		return errorf(s, c->pos[2]->col, "%s: 0x%" PRIx64 " does not fit in %u byte%s",
			      c->cmd->name, v, size, size == 1 ? "" : "s");
	switch (size) {
	case 1:
		r = ms_cache_stb(&e->c, off, (uint8_t)v);
		break;
	case 2:
		r = be ? ms_cache_stw_be(&e->c, off, (uint16_t)v)
		       : ms_cache_stw_le(&e->c, off, (uint16_t)v);
		break;
	case 4:
		r = be ? ms_cache_stl_be(&e->c, off, (uint32_t)v)
		       : ms_cache_stl_le(&e->c, off, (uint32_t)v);
		break;
	default:
		r = be ? ms_cache_stq_be(&e->c, off, v) : ms_cache_stq_le(&e->c, off, v);
		break;
	}
	result_text(res, sizeof(res), r);
	fprintf(s->o.out, "%s %s +0x%" PRIx64 "%s 0x%0*" PRIx64 " (%s, %s)\n", c->cmd->name,
		e->name, off, size > 1 ? (be ? " be" : " le") : "", (int)size * 2, v, res,
		path_name(e, true));
	return 0;
}

static int cmd_cache_invalidate(msc_session *s, call *c)
{
	struct cache_ent *e;

	if (cache_arg(s, c->pos[0], &e))
		return 1;
	ms_cache_invalidate(&e->c);
	return 0;
}

static int cmd_cache_free(msc_session *s, call *c)
{
	struct cache_ent *e;

	if (cache_arg(s, c->pos[0], &e))
		return 1;
	msc_table_remove(&s->caches, msc_table_index_of(&s->caches, e));
	ms_cache_destroy(&e->c);
	free(e);
	return 0;
}

/* ---- dumps and misc ---------------------------------------------------- */

static int cmd_mtree(msc_session *s, call *c)
{
	unsigned flags = 0;
	int rc;

	if (get_opt(c, "-f"))
		flags |= MS_MTREE_FLAT;
	if (get_opt(c, "-D"))
		flags |= MS_MTREE_DISABLED;
	if (get_opt(c, "-o"))
		flags |= MS_MTREE_OWNER;
	if (get_opt(c, "--json"))
		flags |= MS_MTREE_JSON;
	rc = ms_mtree_fprint(s->o.out, s->ctx, flags);
	return rc ? lib_error(s, c->word->col, "mtree", rc, NULL) : 0;
}

static int cmd_echo(msc_session *s, call *c)
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

static int cmd_heading(msc_session *s, call *c)
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

static int cmd_help(msc_session *s, call *c)
{
	if (c->npos == 0) {
		msc_print_help(s->o.out, NULL);
		return 0;
	}
	if (memchr(c->pos[0]->text, '\0', c->pos[0]->len) ||
	    msc_print_help(s->o.out, c->pos[0]->text) < 0)
		return errorf(s, c->pos[0]->col, "help: unknown command %s", showw(s, c->pos[0]));
	return 0;
}

static int cmd_quit(msc_session *s, call *c)
{
	(void)c;
	s->quit = true;
	return 0;
}

/* ---- the command table ------------------------------------------------- */

/* The address space an access goes to: [as=AS]. */
#define AS_OPTION VALUE("as", "AS", V_AS)
/* [ATTRS] */
#define ATTRS GROUP("ATTRS", attr_params, .layout = P_OPTIONAL)
/* [be|le] */
#define ENDIAN_OPTIONS FLAG("be"), FLAG("le", .layout = P_ALT)
/* [index=N] */
#define INDEX_OPTION VALUE("index", "N", V_NUMBER, .what = "index")
/* No arguments, no options. */
#define NO_PARAMS ((const struct param[]){END})

static const struct command commands[] = {
	{"container", cmd_region, 0, MS_REGION_CONTAINER,
	 PARAMS(ARG("NAME"), ARG("SIZE"), INCLUDE(place_params)),
	 "a pure container: renders only its subregions"},
	{"ram", cmd_region, 0, MS_REGION_RAM,
	 PARAMS(ARG("NAME"), ARG("SIZE"), INCLUDE(place_params)), "RAM (zeroed)"},
	{"rom", cmd_region, 0, MS_REGION_ROM,
	 PARAMS(ARG("NAME"), ARG("SIZE"), INCLUDE(place_params)),
	 "ROM: readonly RAM, filled with load"},
	{"io", cmd_region, 0, MS_REGION_IO,
	 PARAMS(ARG("NAME"), ARG("SIZE"), ARG("MODEL", .layout = P_OPTIONAL),
		GROUP("model options", model_params, .layout = P_OPTIONAL | P_NEST),
		INCLUDE(place_params)),
	 "an I/O region with a device model (regs, const, error, dma), or a reservation"},
	{"romdevice", cmd_region, 0, MS_REGION_ROM_DEVICE,
	 PARAMS(ARG("NAME"), ARG("SIZE"), ARG("MODEL"),
		GROUP("model options", model_params, .layout = P_OPTIONAL), INCLUDE(place_params)),
	 "a ROM device: reads from RAM in romd mode, writes go to the model"},
	{"ramdevice", cmd_region, 0, MS_REGION_RAM_DEVICE,
	 PARAMS(ARG("NAME"), ARG("SIZE"), INCLUDE(place_params)),
	 "device memory accessed with exact-width loads and stores"},
	{"ramptr", cmd_region, 0, MS_REGION_RAM_PTR,
	 PARAMS(ARG("NAME"), ARG("SIZE"), INCLUDE(place_params)),
	 "RAM at memory the command allocates (a caller's pointer)"},
	{"iommu", cmd_iommu, 0, MS_REGION_IOMMU,
	 PARAMS(ARG("NAME"), ARG("SIZE"), VALUE("target", "AS", V_AS),
		VALUE("page", "SIZE", V_NUMBER, .what = "page size", .layout = P_NEST),
		VALUE("indexes", "N", V_NUMBER, .what = "index count", .layout = P_NEST),
		INCLUDE(place_params)),
	 "an IOMMU region; target=AS: translated by a page table (iommu-map)"},
	{"alias", cmd_alias, 0, 0,
	 PARAMS(ARG("NAME"), ARG("TARGET"), ARG("OFFSET"), ARG("SIZE"), INCLUDE(place_params)),
	 "a window of SIZE bytes onto TARGET from OFFSET"},
	{"add", cmd_add, 0, 0,
	 PARAMS(ARG("CONTAINER"), ARG("ADDR"), ARG("SUB"), VALUE("prio", "N", V_PRIO)),
	 "place SUB inside CONTAINER at ADDR"},
	{"del", cmd_del, 0, 0, PARAMS(ARG("SUB"), VALUE("from", "CONTAINER", V_REGION)),
	 "remove SUB from its container"},
	{"set", cmd_set, 0, 0,
	 PARAMS(ARG("NAME"), GROUP("KEY=VALUE", set_params, .layout = P_REPEAT)),
	 "change addr, size, prio, enabled, readonly, nonvolatile, unmergeable, romd, alias-offset, owner"},
	{"enable", cmd_enable, 0, true, PARAMS(ARG("NAME", .layout = P_REPEAT)), "show regions"},
	{"disable", cmd_enable, 0, false, PARAMS(ARG("NAME", .layout = P_REPEAT)),
	 "hide regions (they render nothing)"},
	{"drop", cmd_drop, 0, 0, PARAMS(ARG("NAME")),
	 "forget a region and drop the script's reference"},
	{"show", cmd_show, 0, 0, PARAMS(ARG("NAME")), "print a region's properties and subregions"},
	{"list", cmd_list, 0, 0, NO_PARAMS, "list regions, address spaces, listeners, mappings"},
	{"as", cmd_as, 0, 0, PARAMS(ARG("NAME"), ARG("ROOT")),
	 "create an address space (the first becomes current)"},
	{"as-free", cmd_as_free, 0, 0, PARAMS(ARG("NAME")), "destroy an address space"},
	{"use", cmd_use, 0, 0, PARAMS(ARG("NAME")), "make NAME the current address space"},
	{"begin", cmd_begin, 0, 0, NO_PARAMS, "open a transaction (nests)"},
	{"commit", cmd_commit, 0, 0, NO_PARAMS, "close a transaction; the outermost renders"},
	{"read", cmd_read, 0, 0, PARAMS(ARG("ADDR"), ARG("LEN"), ATTRS, AS_OPTION),
	 "read bytes and print them"},
	{"write", cmd_write, 0, WRITE_GUEST,
	 PARAMS(ARG("ADDR"), ARG("DATA", .layout = P_REPEAT), ATTRS, AS_OPTION),
	 "write hex bytes (de ad be ef) or quoted strings"},
	{"load", cmd_write, 0, WRITE_LOADER,
	 PARAMS(ARG("ADDR"), ARG("DATA", .layout = P_REPEAT), AS_OPTION),
	 "loader write: into RAM and ROM, never devices"},
	{"fill", cmd_fill, 0, 0, PARAMS(ARG("ADDR"), ARG("LEN"), ARG("BYTE"), ATTRS, AS_OPTION),
	 "write LEN copies of BYTE"},
	{"ldb", cmd_ld, 0, 1, PARAMS(ARG("ADDR"), ATTRS, AS_OPTION), "load a byte"},
	{"ldw", cmd_ld, 0, 2, PARAMS(ARG("ADDR"), ENDIAN_OPTIONS, ATTRS, AS_OPTION),
	 "load 2 bytes"},
	{"ldl", cmd_ld, 0, 4, PARAMS(ARG("ADDR"), ENDIAN_OPTIONS, ATTRS, AS_OPTION),
	 "load 4 bytes"},
	{"ldq", cmd_ld, 0, 8, PARAMS(ARG("ADDR"), ENDIAN_OPTIONS, ATTRS, AS_OPTION),
	 "load 8 bytes"},
	{"stb", cmd_st, 0, 1, PARAMS(ARG("ADDR"), ARG("VALUE"), ATTRS, AS_OPTION), "store a byte"},
	{"stw", cmd_st, 0, 2, PARAMS(ARG("ADDR"), ARG("VALUE"), ENDIAN_OPTIONS, ATTRS, AS_OPTION),
	 "store 2 bytes"},
	{"stl", cmd_st, 0, 4, PARAMS(ARG("ADDR"), ARG("VALUE"), ENDIAN_OPTIONS, ATTRS, AS_OPTION),
	 "store 4 bytes"},
	{"stq", cmd_st, 0, 8, PARAMS(ARG("ADDR"), ARG("VALUE"), ENDIAN_OPTIONS, ATTRS, AS_OPTION),
	 "store 8 bytes"},
	{"translate", cmd_translate, 0, 0,
	 PARAMS(ARG("ADDR"), ARG("LEN", .layout = P_OPTIONAL), FLAG("write"), ATTRS, AS_OPTION),
	 "what answers at ADDR, and for how many bytes"},
	{"valid", cmd_valid, 0, 0, PARAMS(ARG("ADDR"), ARG("LEN"), FLAG("write"), ATTRS, AS_OPTION),
	 "would the access be accepted? (no device callback runs)"},
	{"access-depth", cmd_access_depth, 0, 0, PARAMS(ARG("N")),
	 "bound nested device callbacks (default 16)"},
	{"map", cmd_map, 0, 0, PARAMS(ARG("ADDR"), ARG("LEN"), FLAG("write"), ATTRS, AS_OPTION),
	 "DMA-map guest memory; prints the mapping's id"},
	{"map-read", cmd_map_read, 0, 0, PARAMS(ARG("ID"), ARG("OFFSET"), ARG("LEN")),
	 "print bytes of a mapping"},
	{"map-write", cmd_map_write, 0, 0,
	 PARAMS(ARG("ID"), ARG("OFFSET"), ARG("DATA", .layout = P_REPEAT)),
	 "store bytes into a write mapping"},
	{"unmap", cmd_unmap, 0, 0, PARAMS(ARG("ID"), ARG("WRITTEN", .layout = P_OPTIONAL)),
	 "release a mapping (a write mapping writes back WRITTEN bytes, default all)"},
	{"bounce-budget", cmd_bounce_budget, 0, 0, PARAMS(ARG("BYTES"), AS_OPTION),
	 "bytes of bounce buffers that may be live at once"},
	{"map-client", cmd_map_client, 0, 0, PARAMS(ARG("NAME"), AS_OPTION),
	 "ask to be told when bounce budget is free"},
	{"map-client-free", cmd_map_client_free, 0, 0, PARAMS(ARG("NAME")),
	 "unregister a map client"},
	{"listen", cmd_listen, 0, 0,
	 PARAMS(ARG("NAME"), AS_OPTION, VALUE("prio", "N", V_PRIO), VALUE("nop", "off", V_BOOL)),
	 "register a listener that prints its callbacks"},
	{"unlisten", cmd_unlisten, 0, 0, PARAMS(ARG("NAME")), "unregister a listener"},
	{"dirty-log", cmd_dirty_log, 0, 0, PARAMS(ARG("REGION"), ARG("CLIENT"), ARG("on|off")),
	 "turn dirty logging of a RAM region on or off for client 0-7"},
	{"log-global", cmd_log_global, 0, 0, PARAMS(ARG("on|off")), "global dirty logging"},
	{"log-sync", cmd_log_sync, 0, 0, PARAMS(AS_OPTION), "ask listeners to sync dirty state"},
	{"iommu-map", cmd_iommu_range, 0, IOMMU_MAP,
	 PARAMS(ARG("IOMMU"), ARG("IOVA"), ARG("ADDR"), ARG("SIZE"),
		VALUE("perm", "ro|wo|rw", V_KEYWORD, .names = perm_names), INDEX_OPTION),
	 "map IOVA..+SIZE to ADDR of the target (replacing what was there) and notify"},
	{"iommu-unmap", cmd_iommu_range, 0, IOMMU_UNMAP,
	 PARAMS(ARG("IOMMU"), ARG("IOVA"), ARG("SIZE"), INDEX_OPTION),
	 "unmap IOVA..+SIZE and notify"},
	{"iommu-invalidate", cmd_iommu_range, 0, IOMMU_INVALIDATE,
	 PARAMS(ARG("IOMMU"), ARG("IOVA"), ARG("SIZE"), INDEX_OPTION),
	 "send a device-IOTLB invalidation (DEVIOTLB_UNMAP); the table does not change"},
	{"notifier", cmd_notifier, 0, 0,
	 PARAMS(ARG("NAME"), ARG("IOMMU"), VALUE("start", "A", V_NUMBER, .what = "start"),
		VALUE("end", "B", V_NUMBER, .what = "end"),
		VALUE("flags", "map,unmap,deviotlb", V_KEYWORDS, .names = notifier_flag_names),
		INDEX_OPTION, VALUE("fail", "on", V_BOOL)),
	 "register an IOMMU notifier that prints its events (fail=on: it refuses them)"},
	{"notifier-free", cmd_notifier_free, 0, 0, PARAMS(ARG("NAME"), FLAG("unmap")),
	 "unregister a notifier (unmap: first tell it its whole range is unmapped)"},
	{"replay", cmd_replay, 0, 0, PARAMS(ARG("NOTIFIER")),
	 "announce the IOMMU's current mappings to a notifier"},
	{"iotlb", cmd_iotlb, 0, 0, PARAMS(ARG("ADDR"), FLAG("write"), ATTRS, AS_OPTION),
	 "the translation an access would use, through every IOMMU"},
	{"cache", cmd_cache, 0, 0,
	 PARAMS(ARG("NAME"), ARG("ADDR"), ARG("LEN"), FLAG("write"), AS_OPTION),
	 "set up a region cache over ADDR..+LEN"},
	{"cache-read", cmd_cache_read, 0, 0, PARAMS(ARG("NAME"), ARG("OFFSET"), ARG("LEN")),
	 "read bytes through a cache"},
	{"cache-write", cmd_cache_write, 0, 0,
	 PARAMS(ARG("NAME"), ARG("OFFSET"), ARG("DATA", .layout = P_REPEAT)),
	 "write bytes through a cache"},
	{"cache-ldb", cmd_cache_ld, 0, 1, PARAMS(ARG("NAME"), ARG("OFFSET")),
	 "load a byte through a cache"},
	{"cache-ldw", cmd_cache_ld, 0, 2, PARAMS(ARG("NAME"), ARG("OFFSET"), ENDIAN_OPTIONS),
	 "load 2 bytes through a cache"},
	{"cache-ldl", cmd_cache_ld, 0, 4, PARAMS(ARG("NAME"), ARG("OFFSET"), ENDIAN_OPTIONS),
	 "load 4 bytes through a cache"},
	{"cache-ldq", cmd_cache_ld, 0, 8, PARAMS(ARG("NAME"), ARG("OFFSET"), ENDIAN_OPTIONS),
	 "load 8 bytes through a cache"},
	{"cache-stb", cmd_cache_st, 0, 1, PARAMS(ARG("NAME"), ARG("OFFSET"), ARG("VALUE")),
	 "store a byte through a cache"},
	{"cache-stw", cmd_cache_st, 0, 2,
	 PARAMS(ARG("NAME"), ARG("OFFSET"), ARG("VALUE"), ENDIAN_OPTIONS),
	 "store 2 bytes through a cache"},
	{"cache-stl", cmd_cache_st, 0, 4,
	 PARAMS(ARG("NAME"), ARG("OFFSET"), ARG("VALUE"), ENDIAN_OPTIONS),
	 "store 4 bytes through a cache"},
	{"cache-stq", cmd_cache_st, 0, 8,
	 PARAMS(ARG("NAME"), ARG("OFFSET"), ARG("VALUE"), ENDIAN_OPTIONS),
	 "store 8 bytes through a cache"},
	{"cache-invalidate", cmd_cache_invalidate, 0, 0, PARAMS(ARG("NAME")),
	 "forget the cache's translation (the next access translates again)"},
	{"cache-free", cmd_cache_free, 0, 0, PARAMS(ARG("NAME")), "destroy a cache"},
	{"mtree", cmd_mtree, 0, 0, PARAMS(FLAG("-f"), FLAG("-D"), FLAG("-o"), FLAG("--json")),
	 "print the tree (or with -f the flat views) like QEMU's info mtree"},
	{"echo", cmd_echo, CMD_RAW, 0, PARAMS(ARG("TEXT", .layout = P_OPTIONAL | P_REPEAT)),
	 "print TEXT"},
	{"heading", cmd_heading, CMD_RAW, 0, PARAMS(ARG("TEXT", .layout = P_OPTIONAL | P_REPEAT)),
	 "print == TEXT =="},
	{"help", cmd_help, 0, 0, PARAMS(ARG("COMMAND", .layout = P_OPTIONAL)),
	 "list commands, or show one command's usage"},
	{"quit", cmd_quit, 0, 0, NO_PARAMS, "stop here (successfully)"},
	{"exit", cmd_quit, 0, 0, NO_PARAMS, "same as quit"},
};

#define NR_COMMANDS (sizeof(commands) / sizeof(commands[0]))

/* Append @text to the usage being built in @buf (@size bytes, @used so far). */
static void append(char *buf, size_t size, size_t *used, const char *text)
{
	size_t n = strlen(text);

	if (*used + n >= size)
		n = *used < size - 1 ? size - 1 - *used : 0;
	memcpy(buf + *used, text, n);
	*used += n;
	buf[*used] = '\0';
}

/*
 * Append the parameters of @list: each in brackets when it may be left out,
 * laid out as its P_* flags say. *@depth counts the brackets left open:
 * those of the last top-level parameter and of one nested in it.
 */
static void append_params(char *buf, size_t size, size_t *used, const struct param *list,
			  unsigned *depth)
{
	for (; list->kind != P_END; list++) {
		bool optional = list->kind == P_FLAG || list->kind == P_VALUE ||
				(list->layout & P_OPTIONAL);

		if (list->kind == P_INCLUDE) {
			append_params(buf, size, used, list->group, depth);
			continue;
		}
		if (list->layout & P_ALT) {
			append(buf, size, used, "|");
		} else if (list->layout & P_JOIN) {
			append(buf, size, used, " ");
		} else {
			unsigned keep = list->layout & P_NEST ? 1 : 0;

			for (; *depth > keep; (*depth)--)
				append(buf, size, used, "]");
			append(buf, size, used, " ");
			if (optional) {
				append(buf, size, used, "[");
				(*depth)++;
			}
		}
		append(buf, size, used, list->name);
		if (list->kind == P_VALUE) {
			append(buf, size, used, "=");
			append(buf, size, used, list->meta);
		}
		if (list->layout & P_REPEAT)
			append(buf, size, used, "...");
	}
}

/* The usage line of @cmd ("read ADDR LEN [ATTRS] [as=AS]") in @buf. */
static const char *usage_of(char *buf, size_t size, const struct command *cmd)
{
	size_t used = 0;
	unsigned depth = 0;

	buf[0] = '\0';
	append(buf, size, &used, cmd->name);
	append_params(buf, size, &used, cmd->params, &depth);
	for (; depth; depth--)
		append(buf, size, &used, "]");
	return buf;
}

/* How many positional arguments @cmd takes: at least *@min, at most *@max (ANY). */
static void arg_counts(const struct command *cmd, unsigned *min, unsigned *max)
{
	*min = *max = 0;
	for (const struct param *p = cmd->params; p->kind != P_END; p++) {
		if (p->kind != P_ARG)
			continue;
		if (!(p->layout & P_OPTIONAL))
			(*min)++;
		*max = p->layout & P_REPEAT ? ANY : *max + 1;
	}
}

/* The @index-th option of @list, counting from *@index down; NULL past the last. */
static const struct param *nth_option(const struct param *list, size_t *index)
{
	for (; list->kind != P_END; list++) {
		if (list->kind == P_GROUP || list->kind == P_INCLUDE) {
			const struct param *p = nth_option(list->group, index);

			if (p)
				return p;
		} else if (list->kind != P_ARG && (*index)-- == 0) {
			return list;
		}
	}
	return NULL;
}

static const struct command *find_command(const char *name, size_t len)
{
	for (size_t i = 0; i < NR_COMMANDS; i++)
		if (strlen(commands[i].name) == len && memcmp(commands[i].name, name, len) == 0)
			return &commands[i];
	return NULL;
}

const char *const *msc_command_names(void)
{
	static const char *names[NR_COMMANDS + 1];

	if (!names[0])
		for (size_t i = 0; i < NR_COMMANDS; i++)
			names[i] = commands[i].name;
	return names;
}

bool msc_command_option(const char *name, size_t index, const char **key, bool *takes_value)
{
	const struct command *cmd = find_command(name, strlen(name));
	const struct param *p = cmd ? nth_option(cmd->params, &index) : NULL;

	if (!p)
		return false;
	*key = p->name;
	*takes_value = p->kind == P_VALUE;
	return true;
}

/* The options of @list as the help shows them: " secure ... pasid=N". */
static void print_options(FILE *out, const struct param *list)
{
	for (; list->kind != P_END; list++) {
		fprintf(out, " %s", list->name);
		if (list->kind == P_VALUE)
			fprintf(out, "=%s", list->meta);
	}
}

int msc_print_help(FILE *out, const char *topic)
{
	const struct command *cmd;
	char usage[256];

	if (!topic) {
		fputs("Commands (help COMMAND for its usage; docs/script.md has the details):\n",
		      out);
		for (size_t i = 0; i < NR_COMMANDS; i++)
			fprintf(out, "  %-16s %s\n", commands[i].name, commands[i].help);
		fputs("Numbers: 4096, 0x1000, 0b101, 64K, 4G, 2^64. ATTRS:", out);
		print_options(out, attr_params);
		fputs(".\nModels: regs, const value=N, error, dma as=AS; options endian= "
		      "valid=MIN-MAX impl=MIN-MAX unaligned secure-only log=on|off.\n",
		      out);
		return 0;
	}
	cmd = find_command(topic, strlen(topic));
	if (!cmd)
		return -ENOENT;
	fprintf(out, "usage: %s\n  %s\n", usage_of(usage, sizeof(usage), cmd), cmd->help);
	return 0;
}

/* Could @w be meant as an option (key=value or a flag of @cmd)? */
static bool looks_like_option(const struct command *cmd, const msc_word *w)
{
	if (w->eq > 0)
		return true; /* an unquoted '=' after the key: owner="a b" */
	if (w->quoted)
		return false;
	if (w->eq < 0 && option_of(cmd, w))
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
	msc_suggestion sg = MSC_SUGGESTION_INIT;
	msc_word *w0 = &ln->words[0];
	const struct command *cmd = find_command(w0->text, w0->len);
	unsigned min_pos, max_pos;
	char usage[256];
	call c;
	size_t i, j;

	if (!cmd) {
		for (i = 0; i < NR_COMMANDS; i++)
			msc_suggest(&sg, w0->text, w0->len, commands[i].name,
				    strlen(commands[i].name));
		if (sg.best)
			return errorf(s, w0->col, "unknown command %s (did you mean %s?)",
				      showw(s, w0), show(s, sg.best, sg.best_len));
		return errorf(s, w0->col, "unknown command %s (try 'help')", showw(s, w0));
	}
	c.cmd = cmd;
	c.word = w0;
	c.npos = c.nopt = 0;
	for (i = 1; i < ln->nr_words; i++) {
		msc_word *w = &ln->words[i];

		if (!(cmd->flags & CMD_RAW) && looks_like_option(cmd, w)) {
			if (!option_of(cmd, w))
				return errorf(s, w->col, "%s: unknown option %s (usage: %s)",
					      cmd->name,
					      w->eq >= 0 ? show(s, w->text, (size_t)w->eq + 1)
							 : showw(s, w),
					      usage_of(usage, sizeof(usage), cmd));
			for (j = 0; j < c.nopt; j++)
				if (key_len(c.opt[j]) == key_len(w) &&
				    memcmp(c.opt[j]->text, w->text, key_len(w)) == 0)
					return errorf(s, w->col, "%s: option %s given twice",
						      cmd->name, show(s, w->text, key_len(w)));
			c.opt[c.nopt++] = w;
		} else {
			c.pos[c.npos++] = w;
		}
	}
	arg_counts(cmd, &min_pos, &max_pos);
	if (c.npos < min_pos)
		return errorf(s,
			      c.npos ? c.pos[c.npos - 1]->col + (unsigned)c.pos[c.npos - 1]->len
				     : w0->col + (unsigned)w0->len,
			      "%s: missing argument (usage: %s)", cmd->name,
			      usage_of(usage, sizeof(usage), cmd));
	if (c.npos > max_pos)
		return errorf(s, c.pos[max_pos]->col, "%s: unexpected %s (usage: %s)", cmd->name,
			      showw(s, c.pos[max_pos]), usage_of(usage, sizeof(usage), cmd));
	return cmd->fn(s, &c);
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
		rc = errorf(s, MSC_MAX_LINE + 1, "line too long (the limit is %u bytes)",
			    MSC_MAX_LINE);
	} else if (msc_lex(s->words, line, len, &col, &msg) < 0) {
		rc = errorf(s, col, "%s", msg);
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
		rc = errorf(s, 1,
			    "transaction begun here was never committed (committed at the end)");
		while (s->txn_depth) {
			int crc = ms_transaction_commit(s->ctx);

			s->txn_depth--;
			if (crc)
				lib_error(s, 1, "commit", crc, NULL);
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
	while (s->txn_depth) {
		ms_transaction_commit(s->ctx);
		s->txn_depth--;
	}
	for (i = 0; i < s->caches.nr; i++) {
		struct cache_ent *e = msc_table_item(&s->caches, i);

		ms_cache_destroy(&e->c);
		free(e);
	}
	for (i = 0; i < s->notifiers.nr; i++) {
		struct notifier_ent *e = msc_table_item(&s->notifiers, i);

		ms_iommu_unregister_notifier(e->n);
		free(e);
	}
	for (i = 0; i < s->clients.nr; i++) {
		struct client_ent *e = msc_table_item(&s->clients, i);

		ms_as_unregister_map_client(e->c);
		free(e);
	}
	for (i = 0; i < s->nr_mappings; i++)
		ms_as_unmap(s->mappings[i].as, s->mappings[i].p, s->mappings[i].len,
			    s->mappings[i].is_write, 0);
	ms_ctx_free(s->ctx);
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
	const msc_table *tables[] = {&s->regions, &s->spaces,    &s->listeners,
				     &s->clients, &s->notifiers, &s->caches};

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
	msc_options o = {out, err, keep_going, false, false, false};

	return msc_run_text_opts(text, len, name, &o);
}
