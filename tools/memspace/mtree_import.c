/*
 * memspace CLI: import a QEMU 7.2 `info mtree -D` dump into a context
 * (../shared/qemu-mtree/README.md, docs/mtree.md).
 *
 * msc_mtree_import() runs four passes over the dump: parse
 * (mtree_import_parse.c), identity and regions (mtree_import_identify.c),
 * then build (mtree_import_build.c). The first error stops the import and
 * the library objects made so far are removed again. This file holds the
 * diagnostics every pass reports through, and the public calls.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mtree_import_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct msc_mtree {
	ms_as **as;
	size_t nr_as;
};

/* ---- diagnostics --------------------------------------------------------- */

/* Quote a name for a message: printable ASCII kept, other bytes as \xNN. */
const char *msc_mtree_quote(struct importer *im, int slot, const char *s, size_t n)
{
	char *out = im->quoted[slot];
	size_t cap = sizeof(im->quoted[slot]), o = 0, i;

	out[o++] = '\'';
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (o + 9 > cap) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			out[o++] = (char)c;
		} else {
			snprintf(out + o, cap - o, "\\x%02x", c);
			o += 4;
		}
	}
	out[o++] = '\'';
	out[o] = '\0';
	return out;
}

const char *msc_mtree_qname(struct importer *im, int slot, const struct printing *p)
{
	return msc_mtree_quote(im, slot, p->name, p->name_len);
}

int msc_mtree_fail(struct importer *im, unsigned long line, unsigned long col, const char *fmt, ...)
{
	va_list ap;

	if (im->err) {
		im->err->line = line;
		im->err->col = col;
		va_start(ap, fmt);
		vsnprintf(im->err->message, sizeof(im->err->message), fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

int msc_mtree_nomem(struct importer *im)
{
	if (im->err) {
		im->err->line = 0;
		im->err->col = 0;
		snprintf(im->err->message, sizeof(im->err->message), "out of memory");
	}
	return -ENOMEM;
}

void msc_mtree_warn(struct importer *im, unsigned long line, unsigned long col, const char *fmt,
		    ...)
{
	msc_mtree_diag d;
	va_list ap;

	if (!im->warn)
		return;
	d.line = line;
	d.col = col;
	va_start(ap, fmt);
	vsnprintf(d.message, sizeof(d.message), fmt, ap);
	va_end(ap);
	im->warn(&d, im->payload);
}

/* ---- API ----------------------------------------------------------------- */

static void importer_free(struct importer *im)
{
	free(im->pr);
	free(im->blk);
	free(im->names);
	free(im->trailers);
	free(im->by_name);
	free(im->rg);
	free(im->extra);
	free(im->as);
}

int msc_mtree_import(msc_mtree **out, msc_mtree_diag *err, ms_ctx *ctx, const char *text,
		     size_t len, msc_mtree_warn_fn warn_fn, void *payload)
{
	return msc_mtree_import_with(out, err, ctx, text, len, 0, warn_fn, payload);
}

int msc_mtree_import_with(msc_mtree **out, msc_mtree_diag *err, ms_ctx *ctx, const char *text,
			  size_t len, unsigned flags, msc_mtree_warn_fn warn_fn, void *payload)
{
	struct importer im;
	msc_mtree *imp = NULL;
	int rc;

	if (out)
		*out = NULL;
	memset(&im, 0, sizeof(im));
	im.ctx = ctx;
	im.text = text;
	im.len = len;
	im.err = err;
	im.warn = warn_fn;
	im.payload = payload;
	im.flags = flags;
	if (!out || !ctx || (!text && len) ||
	    (flags & ~(MSC_MTREE_LAYOUT_ONLY | MSC_MTREE_LAYOUT_FALLBACK)))
		return msc_mtree_fail(&im, 0, 0, "invalid arguments");
	rc = msc_mtree_parse(&im);
	if (rc == 0)
		rc = msc_mtree_classify(&im);
	if (rc == 0)
		rc = msc_mtree_identify(&im);
	if (rc == 0)
		rc = msc_mtree_build_regions(&im);
	if (rc == 0)
		rc = msc_mtree_resolve_aliases(&im);
	if (rc == 0) {
		imp = calloc(1, sizeof(*imp));
		if (!imp)
			rc = msc_mtree_nomem(&im);
	}
	if (rc == 0)
		rc = msc_mtree_build(&im);
	if (rc < 0) {
		msc_mtree_rollback(&im);
		free(imp);
		importer_free(&im);
		return rc;
	}
	imp->as = im.as;
	imp->nr_as = im.nr_as;
	im.as = NULL;
	/* The hidden regions stay referenced: the context frees them. */
	im.nr_extra = 0;
	importer_free(&im);
	*out = imp;
	return 0;
}

void msc_mtree_import_free(msc_mtree *imp)
{
	if (!imp)
		return;
	free(imp->as);
	free(imp);
}

size_t msc_mtree_import_nr_as(const msc_mtree *imp)
{
	return imp ? imp->nr_as : 0;
}

ms_as *msc_mtree_import_as(const msc_mtree *imp, size_t index)
{
	return imp && index < imp->nr_as ? imp->as[index] : NULL;
}

ms_as *msc_mtree_import_find_as(const msc_mtree *imp, const char *name)
{
	size_t i;

	if (!imp || !name)
		return NULL;
	for (i = 0; i < imp->nr_as; i++)
		if (strcmp(ms_as_name(imp->as[i]), name) == 0)
			return imp->as[i];
	return NULL;
}
