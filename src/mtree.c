/*
 * memspace: `info mtree` dumps of a context, as QEMU 7.2 text or as JSON.
 *
 * Tree form: one block per distinct address-space root (ASes in creation
 * order, names of one block sorted with strcmp), then one "memory-region:"
 * trailer per alias target in queue order: a target joins the queue the first
 * time the walk meets an alias pointing at it, whether or not that alias (or
 * an ancestor) is printed, and trailers are walked in turn, so they may queue
 * more. Without -D a disabled region's line is left out but its subtree is
 * still walked (QEMU's behaviour). Flat form: one block per distinct flatview
 * root, printed from the views published by the last commit.
 *
 * The walk is iterative (an explicit stack), so no tree is too deep to dump.
 * Everything runs under the topology lock and allocates through the context;
 * output accumulates in a growable buffer with a sticky error, and on failure
 * everything is freed and -ENOMEM returned.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "as.h"

#define MTREE_ALL_FLAGS \
	(MS_MTREE_FLAT | MS_MTREE_DISABLED | MS_MTREE_OWNER | MS_MTREE_JSON | MS_MTREE_DISPATCH)
#define MTREE_INDENT "  "
#define JSON_SCHEMA_VERSION 1

/* ---- growable string buffer with a sticky error ------------------------ */

struct strbuf {
	ms_ctx *ctx;
	char *data;
	size_t len, cap;
	int err; /* first error; once set, every append is a no-op */
};

/* Make room for @extra more bytes plus the terminating NUL. */
static bool sb_reserve(struct strbuf *sb, size_t extra)
{
	size_t need, cap;
	char *p;

	if (sb->err)
		return false;
	if (extra > SIZE_MAX - sb->len - 1) {
		sb->err = -ENOMEM;
		return false;
	}
	need = sb->len + extra + 1;
	if (need <= sb->cap)
		return true;
	cap = sb->cap ? sb->cap : 1024;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	p = ms__ctx_realloc(sb->ctx, sb->data, cap);
	if (!p) {
		sb->err = -ENOMEM;
		return false;
	}
	sb->data = p;
	sb->cap = cap;
	return true;
}

static void sb_putn(struct strbuf *sb, const char *s, size_t n)
{
	if (!sb_reserve(sb, n))
		return;
	memcpy(sb->data + sb->len, s, n);
	sb->len += n;
	sb->data[sb->len] = '\0';
}

static void sb_puts(struct strbuf *sb, const char *s)
{
	sb_putn(sb, s, strlen(s));
}

static void sb_putc(struct strbuf *sb, char c)
{
	sb_putn(sb, &c, 1);
}

__attribute__((format(printf, 2, 3))) static void sb_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap, again;
	int n;

	if (!sb_reserve(sb, 64))
		return;
	va_start(ap, fmt);
	va_copy(again, ap);
	n = vsnprintf(sb->data + sb->len, sb->cap - sb->len, fmt, ap);
	if (n >= 0 && (size_t)n >= sb->cap - sb->len && sb_reserve(sb, (size_t)n))
		n = vsnprintf(sb->data + sb->len, sb->cap - sb->len, fmt, again);
	va_end(again);
	va_end(ap);
	if (sb->err)
		return;
	if (n < 0) {
		sb->err = -EINVAL; /* never happens with our formats */
		return;
	}
	sb->len += (size_t)n;
}

static void sb_hex16(struct strbuf *sb, uint64_t v)
{
	sb_printf(sb, "%016" PRIx64, v);
}

/* JSON hex string: "0x" and the minimal lowercase digits; 2^64 allowed. */
static void sb_json_hex(struct strbuf *sb, ms__u128 v)
{
	if (v >= MS__2_64)
		sb_puts(sb, "\"0x10000000000000000\"");
	else
		sb_printf(sb, "\"0x%" PRIx64 "\"", (uint64_t)v);
}

static void sb_json_bool(struct strbuf *sb, const char *key, bool v)
{
	sb_puts(sb, key);
	sb_puts(sb, v ? "true" : "false");
}

/* Length of the valid UTF-8 sequence at @s (at most @n bytes), or 0. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Reject overlong forms, surrogates and code points past U+10FFFF. */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

/*
 * A JSON string, or null for a NULL @s. Control characters are escaped;
 * bytes that are not valid UTF-8 become U+FFFD so the output always parses.
 */
static void sb_json_str(struct strbuf *sb, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n, seq;

	if (!s) {
		sb_puts(sb, "null");
		return;
	}
	n = strlen(s);
	sb_putc(sb, '"');
	while (n) {
		const unsigned char *run = p;

		/* Copy the longest run that needs no escaping in one go. */
		while (n && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') {
			p++;
			n--;
		}
		sb_putn(sb, (const char *)run, (size_t)(p - run));
		if (!n)
			break;
		switch (*p) {
		case '"':
			sb_puts(sb, "\\\"");
			break;
		case '\\':
			sb_puts(sb, "\\\\");
			break;
		case '\b':
			sb_puts(sb, "\\b");
			break;
		case '\f':
			sb_puts(sb, "\\f");
			break;
		case '\n':
			sb_puts(sb, "\\n");
			break;
		case '\r':
			sb_puts(sb, "\\r");
			break;
		case '\t':
			sb_puts(sb, "\\t");
			break;
		default:
			if (*p < 0x20) {
				sb_printf(sb, "\\u%04x", *p);
				break;
			}
			seq = utf8_seq_len(p, n);
			if (seq) {
				sb_putn(sb, (const char *)p, seq);
				p += seq;
				n -= seq;
			} else {
				sb_puts(sb, "\\ufffd");
				p++;
				n--;
			}
			continue;
		}
		p++;
		n--;
	}
	sb_putc(sb, '"');
}

/* ---- alias-target queue -------------------------------------------------- */

/*
 * The trailers to print, in the order their first alias was met, plus an
 * open-addressing hash from region to queue index so that finding out
 * whether a target is already queued does not scan the queue.
 */
struct target_queue {
	ms_region **items;
	size_t nr, cap;
	size_t *slots; /* queue index + 1; 0 = empty; nr_slots is a power of 2 */
	size_t nr_slots;
};

static size_t ptr_hash(const void *p)
{
	uint64_t h = (uint64_t)(uintptr_t)p;

	h ^= h >> 33;
	h *= UINT64_C(0xff51afd7ed558ccd);
	h ^= h >> 33;
	return (size_t)h;
}

static size_t *queue_slot(const struct target_queue *q, const ms_region *r)
{
	size_t mask = q->nr_slots - 1;
	size_t i = ptr_hash(r) & mask;

	while (q->slots[i] && q->items[q->slots[i] - 1] != r)
		i = (i + 1) & mask;
	return &q->slots[i];
}

/* Keep the table at most half full. */
static int queue_rehash(ms_ctx *ctx, struct target_queue *q)
{
	size_t nr_slots = q->nr_slots ? q->nr_slots * 2 : 64;
	size_t *old = q->slots, i;

	q->slots = ms__ctx_calloc(ctx, nr_slots, sizeof(*q->slots));
	if (!q->slots) {
		q->slots = old;
		return -ENOMEM;
	}
	q->nr_slots = nr_slots;
	for (i = 0; i < q->nr; i++)
		*queue_slot(q, q->items[i]) = i + 1;
	free(old);
	return 0;
}

/* Queue @target unless it is queued already; *@index gets its position. */
static int queue_add(ms_ctx *ctx, struct target_queue *q, ms_region *target, size_t *index)
{
	size_t *slot;
	int rc;

	if (q->nr_slots) {
		slot = queue_slot(q, target);
		if (*slot) {
			*index = *slot - 1;
			return 0;
		}
	}
	if ((q->nr + 1) * 2 > q->nr_slots) {
		rc = queue_rehash(ctx, q);
		if (rc)
			return rc;
	}
	rc = ms__ctx_grow(ctx, (void **)&q->items, &q->cap, q->nr + 1, sizeof(*q->items));
	if (rc)
		return rc;
	q->items[q->nr] = target;
	*queue_slot(q, target) = q->nr + 1;
	*index = q->nr++;
	return 0;
}

/* ---- the tree walk ------------------------------------------------------- */

/* One region on the walk stack whose children are being visited. */
struct frame {
	ms_region **kids; /* children in print order (+ scratch); NULL if none */
	size_t nr, next;
	unsigned level;
	uint64_t start; /* the region's printed (absolute) start */
};

struct dump {
	ms_ctx *ctx;
	unsigned flags;
	struct strbuf sb;
	struct target_queue queue;
	struct frame *stack;
	size_t depth, cap_stack;
};

/* QEMU's MR_SIZE: the offset of the last byte, 0 for an empty region. */
static uint64_t last_offset(ms__u128 size)
{
	return size ? (uint64_t)(size - 1) : 0;
}

/* Print order: address ascending, then priority descending. */
static bool print_before(const ms_region *a, const ms_region *b)
{
	return a->addr < b->addr || (a->addr == b->addr && a->priority > b->priority);
}

/*
 * Stable bottom-up merge sort of @a (n entries) using @tmp (n entries): equal
 * keys keep subregion-list order, as QEMU's insertion into its print queue
 * does, so the first printed of equal siblings is the one that wins.
 */
static void sort_for_print(ms_region **a, ms_region **tmp, size_t n)
{
	size_t width, lo;

	for (width = 1; width < n; width *= 2) {
		for (lo = 0; lo < n; lo += 2 * width) {
			size_t mid = n - lo > width ? lo + width : n;
			size_t hi = n - mid > width ? mid + width : n;
			size_t i = lo, j = mid, k = lo;

			while (i < mid && j < hi)
				tmp[k++] = print_before(a[j], a[i]) ? a[j++] : a[i++];
			while (i < mid)
				tmp[k++] = a[i++];
			while (j < hi)
				tmp[k++] = a[j++];
		}
		memcpy(a, tmp, n * sizeof(*a));
	}
}

static int push_frame(struct dump *d, const ms_region *r, unsigned level, uint64_t start)
{
	struct frame *f;
	ms_region **kids = NULL, *sub;
	size_t nr_kids = 0;
	int rc;

	rc = ms__ctx_grow(d->ctx, (void **)&d->stack, &d->cap_stack, d->depth + 1,
			  sizeof(*d->stack));
	if (rc)
		return rc;
	if (r->nr_subs) {
		if (r->nr_subs > SIZE_MAX / (2 * sizeof(*kids)))
			return -ENOMEM;
		kids = ms__ctx_malloc(d->ctx, 2 * r->nr_subs * sizeof(*kids));
		if (!kids)
			return -ENOMEM;
		for (sub = ms__region_first_sub(r); sub; sub = ms__region_next_sub(sub))
			kids[nr_kids++] = sub;
		sort_for_print(kids, kids + r->nr_subs, r->nr_subs);
	}
	f = &d->stack[d->depth++];
	f->kids = kids;
	f->nr = r->nr_subs;
	f->next = 0;
	f->level = level;
	f->start = start;
	return 0;
}

static const char *kind_name(ms_region_kind kind)
{
	switch (kind) {
	case MS_REGION_CONTAINER:
		return "container";
	case MS_REGION_IO:
		return "io";
	case MS_REGION_RAM:
		return "ram";
	case MS_REGION_ROM:
		return "rom";
	case MS_REGION_ROM_DEVICE:
		return "rom_device";
	case MS_REGION_RAM_DEVICE:
		return "ram_device";
	case MS_REGION_RAM_PTR:
		return "ram_ptr";
	case MS_REGION_ALIAS:
		return "alias";
	case MS_REGION_IOMMU:
		return "iommu";
	}
	return "unknown";
}

/*
 * The -o part of a line. QEMU prints " owner:{dev id=ID}" (or "path=" /
 * "type=", "obj" for non-devices) and a " parent:{...}" for a differing QOM
 * parent, or " orphan" when there is neither. We know only an owner string:
 * one already in QEMU's "dev|obj id|path|type=..." form is printed as is
 * (so imported dumps print back unchanged); any other name is taken as a
 * device id. The parent is the owner here, so it is never printed.
 */
static void text_owner(struct strbuf *sb, const char *owner)
{
	static const char *const forms[] = {
		"dev id=", "dev path=", "dev type=", "obj id=", "obj path=", "obj type=",
	};
	size_t i;

	if (!owner) {
		sb_puts(sb, " orphan");
		return;
	}
	sb_puts(sb, " owner:{");
	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
		if (!strncmp(owner, forms[i], strlen(forms[i])))
			break;
	if (i == sizeof(forms) / sizeof(forms[0]))
		sb_puts(sb, "dev id=");
	sb_puts(sb, owner);
	sb_putc(sb, '}');
}

static void text_node(struct dump *d, const ms_region *r, unsigned level, uint64_t start,
		      uint64_t end, bool overflow)
{
	struct strbuf *sb = &d->sb;
	unsigned i;

	/* QEMU prints the marker even when the line itself is then skipped. */
	if (overflow)
		sb_puts(sb, "[DETECTED OVERFLOW!] ");
	if (!r->enabled && !(d->flags & MS_MTREE_DISABLED))
		return;
	for (i = 0; i < level; i++)
		sb_puts(sb, MTREE_INDENT);
	sb_hex16(sb, start);
	sb_putc(sb, '-');
	sb_hex16(sb, end);
	sb_printf(sb, " (prio %d, ", r->priority);
	if (r->nonvolatile)
		sb_puts(sb, "nv-");
	sb_puts(sb, ms__region_type_name(r));
	sb_puts(sb, "): ");
	if (r->kind == MS_REGION_ALIAS && r->alias) {
		sb_puts(sb, "alias ");
		sb_puts(sb, r->name);
		sb_puts(sb, " @");
		sb_puts(sb, r->alias->name);
		sb_putc(sb, ' ');
		sb_hex16(sb, r->alias_offset);
		sb_putc(sb, '-');
		sb_hex16(sb, r->alias_offset + last_offset(r->size));
	} else {
		sb_puts(sb, r->name);
	}
	if (!r->enabled)
		sb_puts(sb, " [disabled]");
	if (d->flags & MS_MTREE_OWNER)
		text_owner(sb, r->owner);
	sb_putc(sb, '\n');
}

/* Everything of a node up to its children array, which stays open. */
static void json_node_open(struct dump *d, const ms_region *r, uint64_t start, uint64_t end,
			   bool overflow, size_t target_index)
{
	struct strbuf *sb = &d->sb;

	sb_puts(sb, "{\"name\":");
	sb_json_str(sb, r->name);
	sb_puts(sb, ",\"kind\":\"");
	sb_puts(sb, kind_name(r->kind));
	sb_puts(sb, "\",\"type\":\"");
	sb_puts(sb, ms__region_type_name(r));
	sb_puts(sb, "\",\"addr\":");
	sb_json_hex(sb, r->addr);
	sb_puts(sb, ",\"size\":");
	sb_json_hex(sb, r->size);
	sb_puts(sb, ",\"start\":");
	sb_json_hex(sb, start);
	sb_puts(sb, ",\"end\":");
	sb_json_hex(sb, end);
	sb_json_bool(sb, ",\"overflow\":", overflow);
	sb_printf(sb, ",\"priority\":%d", r->priority);
	sb_json_bool(sb, ",\"enabled\":", r->enabled);
	sb_json_bool(sb, ",\"readonly\":", r->readonly);
	sb_json_bool(sb, ",\"nonvolatile\":", r->nonvolatile);
	sb_json_bool(sb, ",\"unmergeable\":", r->unmergeable);
	sb_json_bool(sb, ",\"romd\":", r->kind == MS_REGION_ROM_DEVICE && r->romd);
	sb_puts(sb, ",\"owner\":");
	sb_json_str(sb, r->owner);
	sb_puts(sb, ",\"alias\":");
	if (r->kind == MS_REGION_ALIAS && r->alias) {
		sb_puts(sb, "{\"target\":");
		sb_json_str(sb, r->alias->name);
		sb_printf(sb, ",\"target_index\":%zu,\"offset\":", target_index);
		sb_json_hex(sb, r->alias_offset);
		sb_putc(sb, '}');
	} else {
		sb_puts(sb, "null");
	}
	sb_puts(sb, ",\"children\":[");
}

/* Print @r (level @level, container at @base) and push it for its children. */
static int visit(struct dump *d, ms_region *r, unsigned level, uint64_t base)
{
	uint64_t start = base + r->addr;
	uint64_t end = start + last_offset(r->size);
	bool overflow = start < base || end < start;
	size_t target_index = 0;
	int rc;

	if (r->kind == MS_REGION_ALIAS && r->alias) {
		rc = queue_add(d->ctx, &d->queue, r->alias, &target_index);
		if (rc)
			return rc;
	}
	if (d->flags & MS_MTREE_JSON)
		json_node_open(d, r, start, end, overflow, target_index);
	else
		text_node(d, r, level, start, end, overflow);
	return push_frame(d, r, level, start);
}

static void pop_frame(struct dump *d)
{
	struct frame *f = &d->stack[--d->depth];

	free(f->kids);
	if (d->flags & MS_MTREE_JSON)
		sb_puts(&d->sb, "]}");
}

/*
 * Walk @root as a block top: level 1, base 0, so the top line shows the
 * region's own address. Children are visited depth first in print order.
 */
static int walk(struct dump *d, ms_region *root)
{
	int rc = visit(d, root, 1, 0);

	while (!rc && d->depth) {
		struct frame *f = &d->stack[d->depth - 1];
		ms_region *child;

		if (f->next == f->nr) {
			pop_frame(d);
			continue;
		}
		if (f->next && (d->flags & MS_MTREE_JSON))
			sb_putc(&d->sb, ',');
		child = f->kids[f->next++];
		rc = visit(d, child, f->level + 1, f->start);
	}
	while (d->depth) {
		struct frame *f = &d->stack[--d->depth];

		free(f->kids);
	}
	return rc;
}

static int cmp_as_name(const void *a, const void *b)
{
	const ms_as *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

static int dump_tree(struct dump *d)
{
	ms_ctx *ctx = d->ctx;
	bool json = d->flags & MS_MTREE_JSON;
	ms_as **group = NULL;
	size_t i, j, k, nr_group, nr_blocks = 0;
	int rc = 0;

	if (ctx->nr_as) {
		group = ms__ctx_malloc(ctx, ctx->nr_as * sizeof(*group));
		if (!group)
			return -ENOMEM;
	}
	if (json)
		sb_printf(&d->sb, "{\"format\":\"memspace-mtree\",\"version\":%d,\"roots\":[",
			  JSON_SCHEMA_VERSION);
	for (i = 0; i < ctx->nr_as && !rc; i++) {
		ms_region *root = ctx->as[i]->root;

		for (j = 0; j < i && ctx->as[j]->root != root; j++)
			;
		if (j < i)
			continue; /* this root's block is printed already */
		nr_group = 0;
		for (k = i; k < ctx->nr_as; k++)
			if (ctx->as[k]->root == root)
				group[nr_group++] = ctx->as[k];
		qsort(group, nr_group, sizeof(*group), cmp_as_name);
		if (json) {
			sb_puts(&d->sb,
				nr_blocks ? ",{\"address_spaces\":[" : "{\"address_spaces\":[");
			for (k = 0; k < nr_group; k++) {
				if (k)
					sb_putc(&d->sb, ',');
				sb_json_str(&d->sb, group[k]->name);
			}
			sb_puts(&d->sb, "],\"region\":");
		} else {
			for (k = 0; k < nr_group; k++) {
				sb_puts(&d->sb, "address-space: ");
				sb_puts(&d->sb, group[k]->name);
				sb_putc(&d->sb, '\n');
			}
		}
		rc = walk(d, root);
		sb_puts(&d->sb, json ? "}" : "\n");
		nr_blocks++;
	}
	free(group);
	if (json)
		sb_puts(&d->sb, "],\"alias_targets\":[");
	/* Trailers may queue further targets: d->queue.nr grows as we go. */
	for (i = 0; i < d->queue.nr && !rc; i++) {
		ms_region *target = d->queue.items[i];

		if (json) {
			if (i)
				sb_putc(&d->sb, ',');
		} else {
			sb_puts(&d->sb, "memory-region: ");
			sb_puts(&d->sb, target->name);
			sb_putc(&d->sb, '\n');
		}
		rc = walk(d, target);
		if (!json)
			sb_putc(&d->sb, '\n');
	}
	if (json)
		sb_puts(&d->sb, "]}\n");
	return rc;
}

/* ---- flat views ---------------------------------------------------------- */

/*
 * The kind a flat range prints: "rom" when the range is read-only, else the
 * leaf's kind, except that a ROM device's mode is the one it was rendered in.
 */
static const char *range_type_name(const ms_section *s)
{
	if (s->readonly)
		return "rom";
	if (s->region->kind == MS_REGION_ROM_DEVICE)
		return s->romd ? "romd" : "i/o";
	return ms__region_type_name(s->region);
}

static void flat_as_line(struct dump *d, const ms_as *as, bool first)
{
	struct strbuf *sb = &d->sb;
	const ms_region *root = as->root;
	const ms_region *target = root->kind == MS_REGION_ALIAS ? root->alias : NULL;

	if (d->flags & MS_MTREE_JSON) {
		sb_puts(sb, first ? "{\"name\":" : ",{\"name\":");
		sb_json_str(sb, as->name);
		sb_puts(sb, ",\"root\":");
		sb_json_str(sb, root->name);
		sb_puts(sb, ",\"root_alias_target\":");
		sb_json_str(sb, target ? target->name : NULL);
		sb_putc(sb, '}');
		return;
	}
	sb_puts(sb, " AS \"");
	sb_puts(sb, as->name);
	sb_puts(sb, "\", root: ");
	sb_puts(sb, root->name);
	if (target) {
		sb_puts(sb, ", alias ");
		sb_puts(sb, target->name);
	}
	sb_putc(sb, '\n');
}

static void flat_range(struct dump *d, const ms_section *s, bool first)
{
	struct strbuf *sb = &d->sb;
	const ms_region *leaf = s->region;

	if (d->flags & MS_MTREE_JSON) {
		sb_puts(sb, first ? "{\"start\":" : ",{\"start\":");
		sb_json_hex(sb, s->start);
		sb_puts(sb, ",\"last\":");
		sb_json_hex(sb, s->last);
		sb_puts(sb, ",\"offset\":");
		sb_json_hex(sb, s->offset_in_region);
		sb_puts(sb, ",\"region\":");
		sb_json_str(sb, leaf->name);
		sb_puts(sb, ",\"kind\":\"");
		sb_puts(sb, kind_name(leaf->kind));
		sb_printf(sb, "\",\"priority\":%d,\"type\":\"", leaf->priority);
		sb_puts(sb, range_type_name(s));
		sb_putc(sb, '"');
		sb_json_bool(sb, ",\"readonly\":", s->readonly);
		sb_json_bool(sb, ",\"nonvolatile\":", s->nonvolatile);
		sb_json_bool(sb, ",\"unmergeable\":", s->unmergeable);
		sb_puts(sb, ",\"owner\":");
		sb_json_str(sb, leaf->owner);
		sb_putc(sb, '}');
		return;
	}
	sb_puts(sb, MTREE_INDENT);
	sb_hex16(sb, s->start);
	sb_putc(sb, '-');
	sb_hex16(sb, s->last);
	sb_printf(sb, " (prio %d, ", leaf->priority);
	if (s->nonvolatile)
		sb_puts(sb, "nv-");
	sb_puts(sb, range_type_name(s));
	sb_puts(sb, "): ");
	sb_puts(sb, leaf->name);
	if (s->offset_in_region) {
		sb_puts(sb, " @");
		sb_hex16(sb, s->offset_in_region);
	}
	if (d->flags & MS_MTREE_OWNER)
		text_owner(sb, leaf->owner);
	sb_putc(sb, '\n');
}

/* One block: the address spaces @group[0..nr) share the view of @group[0]. */
static int flat_block(struct dump *d, ms_as **group, size_t nr, unsigned number)
{
	struct strbuf *sb = &d->sb;
	bool json = d->flags & MS_MTREE_JSON;
	ms_flatview *fv;
	const ms_region *root;
	size_t i, nr_ranges;
	ms_section s;
	int rc = 0;

	if (json)
		sb_puts(sb, number ? ",{\"address_spaces\":[" : "{\"address_spaces\":[");
	else
		sb_printf(sb, "FlatView #%u\n", number);
	for (i = 0; i < nr; i++)
		flat_as_line(d, group[i], i == 0);

	fv = ms_as_get_flatview(group[0]);
	root = ms_flatview_root(fv);
	nr_ranges = ms_flatview_nr_ranges(fv);
	if (json) {
		sb_puts(sb, "],\"root\":");
		sb_json_str(sb, root ? root->name : NULL);
		sb_puts(sb, ",\"ranges\":[");
	} else {
		sb_puts(sb, " Root memory region: ");
		sb_puts(sb, root ? root->name : "(none)");
		sb_putc(sb, '\n');
		if (!nr_ranges)
			sb_puts(sb, MTREE_INDENT "No rendered FlatView\n");
	}
	for (i = 0; i < nr_ranges && !rc; i++) {
		rc = ms_flatview_range(&s, fv, i);
		if (!rc)
			flat_range(d, &s, i == 0);
	}
	ms_flatview_unref(fv);
	sb_puts(sb, json ? "]}" : "\n");
	return rc;
}

static int dump_flat(struct dump *d)
{
	ms_ctx *ctx = d->ctx;
	ms_as **group = NULL;
	size_t i, j, k, nr_group;
	unsigned number = 0;
	int rc = 0;

	if (ctx->nr_as) {
		group = ms__ctx_malloc(ctx, ctx->nr_as * sizeof(*group));
		if (!group)
			return -ENOMEM;
	}
	if (d->flags & MS_MTREE_JSON)
		sb_printf(&d->sb,
			  "{\"format\":\"memspace-mtree-flat\",\"version\":%d,\"flatviews\":[",
			  JSON_SCHEMA_VERSION);
	for (i = 0; i < ctx->nr_as && !rc; i++) {
		ms_region *key = ms_as_flatview_root(ctx->as[i]);

		for (j = 0; j < i && ms_as_flatview_root(ctx->as[j]) != key; j++)
			;
		if (j < i)
			continue; /* listed in an earlier block */
		nr_group = 0;
		for (k = i; k < ctx->nr_as; k++)
			if (ms_as_flatview_root(ctx->as[k]) == key)
				group[nr_group++] = ctx->as[k];
		rc = flat_block(d, group, nr_group, number++);
	}
	free(group);
	if (d->flags & MS_MTREE_JSON)
		sb_puts(&d->sb, "]}\n");
	return rc;
}

/* ---- dispatch views (-d) ------------------------------------------------- */

/*
 * One address space: a header line, then each chunk of its view with its
 * sections, "#<position> <chunk>.<slot> <start>-<last> <type> <region>
 * [@<offset>]" (the format of docs/mtree.md).
 */
static int dispatch_block(struct dump *d, ms_as *as)
{
	struct strbuf *sb = &d->sb;
	const ms_flatview *fv = as->view;
	size_t nr_chunks, c, first, nr, slot;
	unsigned nr_levels;
	int rc = 0;

	ms__dispatch_shape(fv, &nr_chunks, &nr_levels);
	sb_puts(sb, "address-space: ");
	sb_puts(sb, as->name);
	sb_printf(sb, "\n" MTREE_INDENT "dispatch: %zu section%s, %zu chunk%s, %u index level%s\n",
		  ms_flatview_nr_ranges(fv), ms_flatview_nr_ranges(fv) == 1 ? "" : "s", nr_chunks,
		  nr_chunks == 1 ? "" : "s", nr_levels, nr_levels == 1 ? "" : "s");
	for (c = 0; c < nr_chunks && !rc; c++) {
		ms__dispatch_chunk(fv, c, &first, &nr);
		sb_printf(sb, MTREE_INDENT "chunk %zu: sections %zu-%zu\n", c, first,
			  first + nr - 1);
		for (slot = 0; slot < nr && !rc; slot++) {
			ms_section s;

			rc = ms_flatview_range(&s, fv, first + slot);
			if (rc)
				break;
			sb_printf(sb, MTREE_INDENT MTREE_INDENT "#%zu %zu.%zu ", first + slot, c,
				  slot);
			sb_hex16(sb, s.start);
			sb_putc(sb, '-');
			sb_hex16(sb, s.last);
			sb_putc(sb, ' ');
			sb_puts(sb, range_type_name(&s));
			sb_putc(sb, ' ');
			sb_puts(sb, s.region->name);
			if (s.offset_in_region) {
				sb_puts(sb, " @");
				sb_hex16(sb, s.offset_in_region);
			}
			sb_putc(sb, '\n');
		}
	}
	sb_putc(sb, '\n');
	return rc;
}

static int dump_dispatch(struct dump *d)
{
	int rc = 0;

	for (size_t i = 0; i < d->ctx->nr_as && !rc; i++)
		rc = dispatch_block(d, d->ctx->as[i]);
	return rc;
}

/* ---- entry points -------------------------------------------------------- */

/**
 * ms_mtree_dump - render a dump of @ctx into a new string.
 * @out: receives a NUL-terminated string; free it with free().
 * @len: receives its length (may be NULL).
 * @ctx: the context.
 * @flags: MS_MTREE_* flags.
 *
 * Return: 0; -EINVAL for NULL @out/@ctx or unknown flags; -ENOMEM (then
 * *@out is NULL and nothing is leaked).
 * Context: any thread; takes the topology lock.
 */
int ms_mtree_dump(char **out, size_t *len, ms_ctx *ctx, unsigned flags)
{
	struct dump d;
	int rc;

	if (out)
		*out = NULL;
	if (len)
		*len = 0;
	if (!out || !ctx || (flags & ~MTREE_ALL_FLAGS))
		return -EINVAL;
	if ((flags & MS_MTREE_DISPATCH) &&
	    (flags & (MS_MTREE_FLAT | MS_MTREE_JSON | MS_MTREE_DISABLED)))
		return -EINVAL;

	memset(&d, 0, sizeof(d));
	d.ctx = ctx;
	d.flags = flags;
	d.sb.ctx = ctx;

	ms__ctx_lock(ctx);
	if (flags & MS_MTREE_DISPATCH)
		rc = dump_dispatch(&d);
	else
		rc = (flags & MS_MTREE_FLAT) ? dump_flat(&d) : dump_tree(&d);
	ms__ctx_unlock(ctx);

	if (!rc && !sb_reserve(&d.sb, 0)) /* an empty dump is "" */
		rc = d.sb.err;
	if (!rc)
		rc = d.sb.err;
	free(d.queue.items);
	free(d.queue.slots);
	free(d.stack);
	if (rc) {
		free(d.sb.data);
		return rc;
	}
	d.sb.data[d.sb.len] = '\0';
	*out = d.sb.data;
	if (len)
		*len = d.sb.len;
	return 0;
}

/**
 * ms_mtree_fprint - write the same dump to @f.
 * @f: the stream.
 * @ctx: the context.
 * @flags: MS_MTREE_* flags.
 *
 * Return: 0; -EINVAL for a NULL @f/@ctx or unknown flags; -ENOMEM; -EIO
 * when writing or flushing @f fails.
 * Context: any thread; takes the topology lock.
 */
int ms_mtree_fprint(FILE *f, ms_ctx *ctx, unsigned flags)
{
	char *text;
	size_t len;
	int rc;

	if (!f)
		return -EINVAL;
	rc = ms_mtree_dump(&text, &len, ctx, flags);
	if (rc)
		return rc;
	if (len && fwrite(text, 1, len, f) != len)
		rc = -EIO;
	if (rc == 0 && fflush(f) != 0)
		rc = -EIO; /* a buffered stream reports write errors here */
	free(text);
	return rc;
}
