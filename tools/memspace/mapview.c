/*
 * memspace CLI: a picture of the memory map as SVG or a self-contained HTML
 * page (mapview.h, docs/memory-map.md).
 *
 * Each address space's flat view is cut into segments: its ranges and the
 * holes between them, from 0 to the end of the root region. A segment of
 * size S is 12 + 5 * log2(S) pixels wide (log2 in eighths, computed with
 * integers so that every build draws the same bytes); its start address is
 * written under the bar. Alias chains come from walking the region tree the
 * way rendering does (first enabled match in list order), and are kept only
 * when the walk ends at the region the flat view names; a walk visits at
 * most WALK_BUDGET regions, so aliases that fan out cannot make it slow.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lex.h"
#include "mapview.h"

__extension__ typedef unsigned __int128 u128;

#define MARGIN 10
#define BAR_Y 22      /* bar top, relative to its row */
#define BAR_H 30      /* bar height */
#define ROW_GAP 16    /* between rows */
#define CHAR_W 6      /* width of a character of the 10px monospace labels, rounded up */
#define MIN_WIDTH 720 /* the picture is at least this wide (the title and legend fit) */
#define LEGEND_H 40
#define MAX_CHAIN 16 /* aliases named in a chain; deeper ones are counted */
#define MAX_WALK 64  /* levels the alias-chain walk descends */
/* Regions one walk may visit: aliases that fan out could make it exponential. */
#define WALK_BUDGET 65536

/* ---- sizes and widths ------------------------------------------------------ */

static u128 region_extent(const ms_region *r)
{
	uint64_t s = ms_region_size(r);

	return s == MS_SIZE_2_64 ? (u128)1 << 64 : (u128)s;
}

/* 12 + 5 * log2(@size) pixels, log2 in eighths (linear between powers of two). */
static unsigned seg_width(u128 size)
{
	unsigned fl = 0, frac, l8;

	if (size == 0)
		size = 1;
	while (fl < 64 && (size >> (fl + 1)) != 0)
		fl++;
	frac = fl >= 3 ? (unsigned)(size >> (fl - 3)) & 7 : (unsigned)(size << (3 - fl)) & 7;
	l8 = fl * 8 + frac;
	return 12 + l8 * 5 / 8;
}

/* "0x1000", "0x0", "2^64" */
static void fmt_addr(char *buf, size_t size, u128 a)
{
	if (a >> 64)
		snprintf(buf, size, "2^64");
	else
		snprintf(buf, size, "0x%" PRIx64, (uint64_t)a);
}

/* "640 KiB", "4 GiB", "4097 B", "16 EiB" */
static void fmt_size(char *buf, size_t size, u128 s)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	unsigned u = 0;

	while (u < 6 && s >= 1024 && (s & 1023) == 0) {
		s >>= 10;
		u++;
	}
	snprintf(buf, size, "%" PRIu64 " %s", (uint64_t)s, units[u]);
}

/* ---- text --------------------------------------------------------------------- */

/*
 * @s as XML character data or attribute value: markup characters escaped,
 * control characters and bytes that are not valid UTF-8 written as U+FFFD.
 */
static void xml_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		unsigned char c = *p;
		size_t n;

		if (c < 0x80) {
			if (c == '&')
				fputs("&amp;", f);
			else if (c == '<')
				fputs("&lt;", f);
			else if (c == '>')
				fputs("&gt;", f);
			else if (c == '"')
				fputs("&quot;", f);
			else if (c == '\'')
				fputs("&#39;", f);
			else if (c < 0x20 || c == 0x7f)
				fputs("\xef\xbf\xbd", f);
			else
				fputc(c, f);
			p++;
			continue;
		}
		n = msc_utf8_seq(p);
		if (!n) {
			fputs("\xef\xbf\xbd", f);
			p++;
			continue;
		}
		fwrite(p, 1, n, f);
		p += n;
	}
}

/* Whether @s is short plain ASCII that fits in @width pixels of label. */
static bool label_fits(const char *s, unsigned width)
{
	size_t len = strlen(s);

	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return false;
	return len * CHAR_W + 6 <= width;
}

/* ---- one range --------------------------------------------------------------- */

/* The kind a range is drawn as: its CSS class suffix and its legend text. */
static const char *range_kind(const ms_section *s)
{
	switch (ms_region_get_kind(s->region)) {
	case MS_REGION_IOMMU:
		return "iommu";
	case MS_REGION_ROM_DEVICE:
		return s->romd ? "romd" : "io";
	case MS_REGION_RAM_DEVICE:
		return "ramdev";
	case MS_REGION_RAM:
	case MS_REGION_ROM:
	case MS_REGION_RAM_PTR:
		return s->readonly ? "rom" : "ram";
	default:
		return "io";
	}
}

struct chain {
	const ms_region *alias[MAX_CHAIN];
	size_t n;     /* aliases named */
	size_t extra; /* aliases past MAX_CHAIN */
	const ms_region *leaf;
	unsigned long budget; /* visits left */
};

/*
 * Which terminating region renders at @addr below @mr placed at @base, and
 * through which aliases: the first enabled match in list order, each level
 * clipped to its own extent, like rendering. False when nothing does.
 */
static bool walk(struct chain *ch, const ms_region *mr, __int128 base, uint64_t addr,
		 unsigned depth)
{
	__int128 a = (__int128)addr;
	size_t i, n;

	if (depth >= MAX_WALK || ch->budget == 0 || !ms_region_enabled(mr))
		return false;
	ch->budget--;
	base += ms_region_addr(mr);
	if (a < base || a >= base + (__int128)region_extent(mr))
		return false;
	if (ms_region_get_kind(mr) == MS_REGION_ALIAS) {
		const ms_region *target = ms_region_alias_target(mr);
		size_t saved_n = ch->n, saved_extra = ch->extra;

		if (ch->n < MAX_CHAIN)
			ch->alias[ch->n++] = mr;
		else
			ch->extra++;
		if (walk(ch, target,
			 base - (__int128)ms_region_addr(target) -
				 (__int128)ms_region_alias_offset(mr),
			 addr, depth + 1))
			return true;
		ch->n = saved_n;
		ch->extra = saved_extra;
		return false;
	}
	n = ms_region_nr_subregions(mr);
	for (i = 0; i < n; i++)
		if (walk(ch, ms_region_subregion(mr, i), base, addr, depth + 1))
			return true;
	if (ms_region_is_terminating(mr)) {
		ch->leaf = mr;
		return true;
	}
	return false;
}

/* The aliases through which @s is reached (none when the walk disagrees with the view). */
static void alias_chain(struct chain *ch, const ms_flatview *fv, const ms_section *s)
{
	const ms_region *root = ms_flatview_root(fv);

	memset(ch, 0, sizeof(*ch));
	ch->budget = WALK_BUDGET;
	if (!root || !walk(ch, root, 0, s->start, 0) || ch->leaf != s->region)
		memset(ch, 0, sizeof(*ch));
}

/* "a → b → leaf" */
static void print_chain(FILE *f, const struct chain *ch, const ms_section *s)
{
	for (size_t i = 0; i < ch->n; i++) {
		xml_str(f, ms_region_name(ch->alias[i]));
		fputs(" \xe2\x86\x92 ", f);
	}
	if (ch->extra)
		fprintf(f, "(%zu more) \xe2\x86\x92 ", ch->extra);
	xml_str(f, ms_region_name(s->region));
}

/* ---- layout ------------------------------------------------------------------- */

struct bar {
	ms_as *as;
	ms_flatview *fv;
	u128 end;         /* the root region's extent */
	unsigned width;   /* of the bar, in pixels */
	size_t nr_ranges; /* drawn, i.e. inside [0, end) */
	size_t nr_holes;
	unsigned y;           /* the row's top */
	unsigned label_chars; /* the longest address label under the bar */
};

static unsigned addr_chars(u128 a)
{
	char buf[32];

	fmt_addr(buf, sizeof(buf), a);
	return (unsigned)strlen(buf);
}

static unsigned row_height(const struct bar *b)
{
	return BAR_Y + BAR_H + 8 + b->label_chars * CHAR_W + ROW_GAP;
}

/* Walk @b's segments: @fn(segment start, size, section or NULL for a hole, x, width). */
typedef void (*seg_fn)(FILE *f, const struct bar *b, u128 start, u128 size, const ms_section *s,
		       unsigned x, unsigned w, const msc_mapview_opts *o);

static unsigned for_each_segment(FILE *f, struct bar *b, seg_fn fn, const msc_mapview_opts *o)
{
	size_t i, n = ms_flatview_nr_ranges(b->fv);
	u128 pos = 0;
	unsigned x = 0;
	ms_section s;

	b->nr_ranges = b->nr_holes = 0;
	b->label_chars = addr_chars(b->end);
	for (i = 0; i < n && pos < b->end; i++) {
		unsigned w;
		u128 last;

		if (ms_flatview_range(&s, b->fv, i) < 0)
			break;
		if ((u128)s.start < pos)
			continue; /* not sorted: cannot happen */
		if ((u128)s.start >= b->end)
			break;
		if (addr_chars(s.start) > b->label_chars)
			b->label_chars = addr_chars(s.start);
		if ((u128)s.start > pos) {
			w = seg_width((u128)s.start - pos);
			if (fn)
				fn(f, b, pos, (u128)s.start - pos, NULL, x, w, o);
			x += w;
			b->nr_holes++;
		}
		last = (u128)s.last < b->end ? (u128)s.last : b->end - 1;
		w = seg_width(last - s.start + 1);
		if (fn)
			fn(f, b, s.start, last - s.start + 1, &s, x, w, o);
		x += w;
		b->nr_ranges++;
		pos = last + 1;
		if (pos < b->end && addr_chars(pos) > b->label_chars)
			b->label_chars = addr_chars(pos);
	}
	if (pos < b->end) {
		unsigned w = seg_width(b->end - pos);

		if (fn)
			fn(f, b, pos, b->end - pos, NULL, x, w, o);
		x += w;
		b->nr_holes++;
	}
	return x;
}

/* ---- drawing ------------------------------------------------------------------ */

static void draw_tick(FILE *f, u128 addr, unsigned x)
{
	char buf[32];

	fmt_addr(buf, sizeof(buf), addr);
	fprintf(f,
		"<line class=\"tick\" x1=\"%u\" y1=\"%u\" x2=\"%u\" y2=\"%u\"/>"
		"<text class=\"addr\" transform=\"translate(%u,%u) rotate(90)\">%s</text>\n",
		x, BAR_Y + BAR_H, x, BAR_Y + BAR_H + 4, x + 3, BAR_Y + BAR_H + 6, buf);
}

static void draw_segment(FILE *f, const struct bar *b, u128 start, u128 size, const ms_section *s,
			 unsigned x, unsigned w, const msc_mapview_opts *o)
{
	char first[32], last[32], len[32];
	const char *kind, *target = NULL;
	struct chain ch;

	fmt_addr(first, sizeof(first), start);
	fmt_addr(last, sizeof(last), start + size - 1);
	fmt_size(len, sizeof(len), size);
	if (!s) {
		fprintf(f,
			"<rect class=\"hole\" x=\"%u\" y=\"%u\" width=\"%u\" height=\"%u\" "
			"data-start=\"%s\" data-last=\"%s\"><title>hole %s-%s (%s)</title></rect>\n",
			x, BAR_Y, w, BAR_H, first, last, first, last, len);
		draw_tick(f, start, x);
		return;
	}
	kind = range_kind(s);
	alias_chain(&ch, b->fv, s);
	if (ms_region_get_kind(s->region) == MS_REGION_IOMMU && o->iommu_target)
		target = o->iommu_target(s->region, o->payload);
	fprintf(f, "<rect class=\"region kind-%s%s\" x=\"%u\" y=\"%u\" width=\"%u\" height=\"%u\"",
		kind, ch.n ? " via-alias" : "", x, BAR_Y, w, BAR_H);
	fputs(" data-name=\"", f);
	xml_str(f, ms_region_name(s->region));
	fprintf(f, "\" data-kind=\"%s\" data-start=\"%s\" data-last=\"%s\" data-prio=\"%d\"", kind,
		first, last, ms_region_priority(s->region));
	if (s->offset_in_region)
		fprintf(f, " data-offset=\"0x%" PRIx64 "\"", s->offset_in_region);
	if (ch.n) {
		fputs(" data-chain=\"", f);
		print_chain(f, &ch, s);
		fputc('"', f);
	}
	if (ms_region_get_kind(s->region) == MS_REGION_IOMMU) {
		fputs(" data-target=\"", f);
		xml_str(f, target ? target : "");
		fputc('"', f);
	}
	/* The tooltip. */
	fputs("><title>", f);
	xml_str(f, ms_region_name(s->region));
	fprintf(f, "\n%s-%s (%s)\nprio %d, %s", first, last, len, ms_region_priority(s->region),
		kind);
	if (s->offset_in_region)
		fprintf(f, ", at offset 0x%" PRIx64 " in the region", s->offset_in_region);
	if (ch.n) {
		fputs("\nvia ", f);
		print_chain(f, &ch, s);
	}
	if (ms_region_get_kind(s->region) == MS_REGION_IOMMU) {
		fputs("\ntranslates into ", f);
		if (target)
			xml_str(f, target);
		else
			fputs("an unknown address space", f);
	}
	fputs("</title></rect>\n", f);
	if (ms_region_get_kind(s->region) == MS_REGION_IOMMU)
		fprintf(f,
			"<rect class=\"iommu-mark\" x=\"%u\" y=\"%u\" width=\"%u\" height=\"%u\"/>\n",
			x, BAR_Y, w, BAR_H);
	if (label_fits(ms_region_name(s->region), w)) {
		fprintf(f, "<text class=\"label\" x=\"%u\" y=\"%u\">", x + 3, BAR_Y + 13);
		xml_str(f, ms_region_name(s->region));
		fputs("</text>\n", f);
	}
	if (ms_region_get_kind(s->region) == MS_REGION_IOMMU) {
		char arrow[80];

		snprintf(arrow, sizeof(arrow), "=> %s", target ? target : "?");
		if (label_fits(arrow, w)) {
			fprintf(f, "<text class=\"label target\" x=\"%u\" y=\"%u\">", x + 3,
				BAR_Y + 25);
			xml_str(f, arrow);
			fputs("</text>\n", f);
		}
	}
	draw_tick(f, start, x);
}

static const char svg_style[] =
	"<style>\n"
	".msmap text { font-family: monospace; font-size: 10px; fill: #222; }\n"
	".msmap .as-title { font-size: 12px; font-weight: bold; }\n"
	".msmap .region, .msmap .hole { stroke: #444; stroke-width: 0.5; }\n"
	".msmap .hole { fill: #eeeeee; stroke-dasharray: 2 2; }\n"
	".msmap .kind-ram { fill: #8fd18f; }\n"
	".msmap .kind-rom { fill: #e0b070; }\n"
	".msmap .kind-romd { fill: #f0e070; }\n"
	".msmap .kind-io { fill: #8fb8e8; }\n"
	".msmap .kind-ramdev { fill: #c8a0e0; }\n"
	".msmap .kind-iommu { fill: #f08080; }\n"
	".msmap .via-alias { stroke: #000; stroke-width: 1.5; stroke-dasharray: 5 2; }\n"
	".msmap .iommu-mark { fill: url(#ms-hatch); pointer-events: none; }\n"
	".msmap .label { pointer-events: none; }\n"
	".msmap .target { font-style: italic; }\n"
	".msmap .tick { stroke: #444; stroke-width: 0.5; }\n"
	".msmap .addr { font-size: 9px; fill: #555; }\n"
	".msmap .hl { stroke: #d00000; stroke-width: 3; }\n"
	"</style>\n";

static const char *const legend[][2] = {
	{"ram", "RAM"}, {"rom", "ROM"},           {"romd", "ROM device (romd)"},
	{"io", "I/O"},  {"ramdev", "RAM device"}, {"iommu", "IOMMU"},
};

static void draw_legend(FILE *f, unsigned y)
{
	unsigned x = 0;

	fprintf(f, "<g class=\"legend\" transform=\"translate(%u,%u)\">\n", MARGIN, y);
	for (size_t i = 0; i < sizeof(legend) / sizeof(legend[0]); i++) {
		fprintf(f,
			"<rect class=\"kind-%s\" x=\"%u\" y=\"0\" width=\"14\" height=\"12\" "
			"stroke=\"#444\" stroke-width=\"0.5\"/><text x=\"%u\" y=\"10\">%s</text>\n",
			legend[i][0], x, x + 18, legend[i][1]);
		x += 18 + (unsigned)strlen(legend[i][1]) * CHAR_W + 14;
	}
	fprintf(f,
		"<rect class=\"hole\" x=\"%u\" y=\"0\" width=\"14\" height=\"12\"/>"
		"<text x=\"%u\" y=\"10\">hole</text>\n",
		x, x + 18);
	fprintf(f, "<text x=\"0\" y=\"28\">dashed outline: reached through an alias; "
		   "box width grows with log2(size); addresses are where each box starts</text>\n"
		   "</g>\n");
}

static void draw_svg(FILE *f, struct bar *bars, size_t nr, const msc_mapview_opts *o,
		     unsigned width, unsigned height)
{
	fprintf(f,
		"<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"msmap\" id=\"msmap\" "
		"width=\"%u\" height=\"%u\" viewBox=\"0 0 %u %u\">\n",
		width, height, width, height);
	fputs(svg_style, f);
	fputs("<defs><pattern id=\"ms-hatch\" width=\"6\" height=\"6\" "
	      "patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
	      "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#900\" stroke-opacity=\"0.4\" stroke-width=\"1.5\"/>"
	      "</pattern></defs>\n",
	      f);
	fprintf(f, "<text class=\"as-title\" x=\"%u\" y=\"16\">memory map", MARGIN);
	if (o->title) {
		fputs(" of ", f);
		xml_str(f, o->title);
	}
	fputs("</text>\n", f);
	draw_legend(f, 26);
	for (size_t i = 0; i < nr; i++) {
		struct bar *b = &bars[i];
		char last[32];

		fprintf(f, "<g class=\"as\" data-as=\"");
		xml_str(f, ms_as_name(b->as));
		fprintf(f, "\" transform=\"translate(%u,%u)\">\n", MARGIN, b->y);
		fputs("<text class=\"as-title\" x=\"0\" y=\"14\">address space ", f);
		xml_str(f, ms_as_name(b->as));
		if (b->end)
			fmt_addr(last, sizeof(last), b->end - 1);
		else
			snprintf(last, sizeof(last), "(empty)");
		fprintf(f, ": 0x0-%s, %zu range%s, %zu hole%s</text>\n", last, b->nr_ranges,
			b->nr_ranges == 1 ? "" : "s", b->nr_holes, b->nr_holes == 1 ? "" : "s");
		for_each_segment(f, b, draw_segment, o);
		draw_tick(f, b->end, b->width);
		fputs("</g>\n", f);
	}
	fputs("</svg>\n", f);
}

/* The HTML page: the SVG, a hover panel, zoom buttons; status in body[data-status]. */
static const char html_head[] =
	"<!DOCTYPE html>\n"
	"<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	"<meta name=\"generator\" content=\"memspace map\">\n"
	"<title>memory map</title>\n"
	"<style>\n"
	"body { margin: 0; font-family: sans-serif; }\n"
	"#tools { position: sticky; top: 0; background: #f8f8f8; border-bottom: 1px solid #ccc;"
	" padding: 4px 8px; z-index: 1; }\n"
	"#tools button { min-width: 2.5em; }\n"
	"#info { font-family: monospace; white-space: pre; margin: 4px 0 0 0; min-height: 4.5em; }\n"
	"#view { overflow: auto; }\n"
	".msmap .region { cursor: pointer; }\n"
	"</style>\n</head>\n"
	"<body data-status=\"loading\">\n"
	"<div id=\"tools\"><button id=\"zoom-in\" type=\"button\">+</button> "
	"<button id=\"zoom-out\" type=\"button\">&#8722;</button> "
	"<button id=\"zoom-reset\" type=\"button\">1:1</button> "
	"<span id=\"zoom\">100%</span> (Ctrl+wheel zooms)"
	"<div id=\"info\">Point at a box to see its name, range, priority and alias chain.</div>"
	"</div>\n<div id=\"view\">\n";

static const char html_tail[] =
	"</div>\n<script>\n"
	"\"use strict\";\n"
	"window.onerror = function (msg) {\n"
	"  document.body.setAttribute('data-status', 'error: ' + msg);\n"
	"};\n"
	"(function () {\n"
	"  var svg = document.getElementById('msmap');\n"
	"  var w0 = +svg.getAttribute('width'), h0 = +svg.getAttribute('height');\n"
	"  var scale = 1, info = document.getElementById('info');\n"
	"  function zoom(s) {\n"
	"    scale = Math.min(16, Math.max(0.125, s));\n"
	"    svg.setAttribute('width', Math.round(w0 * scale));\n"
	"    svg.setAttribute('height', Math.round(h0 * scale));\n"
	"    document.getElementById('zoom').textContent = Math.round(scale * 100) + '%';\n"
	"  }\n"
	"  document.getElementById('zoom-in').onclick = function () { zoom(scale * 1.5); };\n"
	"  document.getElementById('zoom-out').onclick = function () { zoom(scale / 1.5); };\n"
	"  document.getElementById('zoom-reset').onclick = function () { zoom(1); };\n"
	"  document.getElementById('view').addEventListener('wheel', function (e) {\n"
	"    if (!e.ctrlKey) return;\n"
	"    e.preventDefault();\n"
	"    zoom(e.deltaY < 0 ? scale * 1.25 : scale / 1.25);\n"
	"  }, {passive: false});\n"
	"  var regions = svg.querySelectorAll('.region');\n"
	"  function same(el) {\n"
	"    var out = [];\n"
	"    regions.forEach(function (r) {\n"
	"      if (r.getAttribute('data-name') === el.getAttribute('data-name')) out.push(r);\n"
	"    });\n"
	"    return out;\n"
	"  }\n"
	"  regions.forEach(function (el) {\n"
	"    el.addEventListener('mouseenter', function () {\n"
	"      var t = el.getAttribute('data-name') + '  ' + el.getAttribute('data-start') +\n"
	"        '-' + el.getAttribute('data-last') + '  prio ' + el.getAttribute('data-prio') +\n"
	"        '  ' + el.getAttribute('data-kind') + '  in ' +\n"
	"        el.parentNode.getAttribute('data-as');\n"
	"      if (el.hasAttribute('data-chain')) t += '\\nalias chain: ' +\n"
	"        el.getAttribute('data-chain');\n"
	"      if (el.hasAttribute('data-target')) t += '\\ntranslates into: ' +\n"
	"        (el.getAttribute('data-target') || 'unknown');\n"
	"      info.textContent = t;\n"
	"      same(el).forEach(function (r) { r.classList.add('hl'); });\n"
	"    });\n"
	"    el.addEventListener('click', function () {\n"
	"      var all = same(el), next = all[(all.indexOf(el) + 1) % all.length];\n"
	"      next.scrollIntoView({block: 'center', inline: 'center'});\n"
	"    });\n"
	"    el.addEventListener('mouseleave', function () {\n"
	"      same(el).forEach(function (r) { r.classList.remove('hl'); });\n"
	"    });\n"
	"  });\n"
	"  document.body.setAttribute('data-regions', String(regions.length));\n"
	"  /* #probe=NAME: say how big and whether visible NAME's first box is (for tests). */\n"
	"  var m = /[#&]probe=([^&]*)/.exec(location.hash);\n"
	"  if (m) {\n"
	"    var name = decodeURIComponent(m[1]), el = null, probe = 'missing';\n"
	"    regions.forEach(function (r) {\n"
	"      if (!el && r.getAttribute('data-name') === name) el = r;\n"
	"    });\n"
	"    if (el) {\n"
	"      el.scrollIntoView({block: 'center', inline: 'center'});\n"
	"      var b = el.getBoundingClientRect();\n"
	"      var top = document.elementFromPoint(b.left + b.width / 2, b.top + b.height / 2);\n"
	"      probe = Math.round(b.width) + ' ' + Math.round(b.height) + ' ' +\n"
	"        (top === el ? 'visible' : 'hidden');\n"
	"      /* What pointing at it shows, and what a click on + does to the width. */\n"
	"      el.dispatchEvent(new MouseEvent('mouseenter'));\n"
	"      document.body.setAttribute('data-probe-info', info.textContent);\n"
	"      document.body.setAttribute('data-probe-hl',\n"
	"        String(svg.querySelectorAll('.hl').length));\n"
	"      var before = svg.getAttribute('width');\n"
	"      document.getElementById('zoom-in').click();\n"
	"      document.body.setAttribute('data-probe-zoom', before + ' ' +\n"
	"        svg.getAttribute('width'));\n"
	"    }\n"
	"    document.body.setAttribute('data-probe', probe);\n"
	"  }\n"
	"  if (document.body.getAttribute('data-status') === 'loading')\n"
	"    document.body.setAttribute('data-status', 'ok');\n"
	"})();\n"
	"</script>\n</body>\n</html>\n";

int msc_mapview_write(FILE *out, ms_as *const *spaces, size_t nr, const msc_mapview_opts *opts,
		      msc_mapview_stats *stats)
{
	msc_mapview_opts none = {0};
	const msc_mapview_opts *o = opts ? opts : &none;
	msc_mapview_stats st = {0};
	struct bar *bars = calloc(nr ? nr : 1, sizeof(*bars));
	unsigned width = MIN_WIDTH, height = 26 + LEGEND_H;
	size_t i;

	if (!bars)
		return -ENOMEM;
	for (i = 0; i < nr; i++) {
		struct bar *b = &bars[i];
		ms_region *root = ms_as_root(spaces[i]);

		b->as = spaces[i];
		b->fv = ms_as_get_flatview(spaces[i]);
		b->end = root ? region_extent(root) : 0;
		b->width = for_each_segment(out, b, NULL, o);
		if (b->width + 2 * MARGIN + 12 > width)
			width = b->width + 2 * MARGIN + 12; /* room for the last address label */
		b->y = height;
		height += row_height(b);
		st.nr_regions += b->nr_ranges;
		st.nr_holes += b->nr_holes;
	}
	st.nr_spaces = nr;
	if (o->html)
		fputs(html_head, out);
	draw_svg(out, bars, nr, o, width, height);
	if (o->html)
		fputs(html_tail, out);
	for (i = 0; i < nr; i++)
		ms_flatview_unref(bars[i].fv);
	free(bars);
	if (stats)
		*stats = st;
	if (fflush(out) != 0 || ferror(out))
		return -EIO;
	return 0;
}
