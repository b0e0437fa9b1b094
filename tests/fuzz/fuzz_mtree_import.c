/*
 * Fuzz target: the QEMU `info mtree` importer of the CLI.
 *
 * The input is a dump, imported with msc_mtree_import() into a fresh
 * context. On success the library's own checker (ms__as_check) must accept
 * every address space's view, and the machine is dumped again in every form
 * (tree, -D, -o, -f, JSON), which exercises mtree.c on arbitrary machines.
 * On failure the error must carry a message and a line inside the input (or
 * 0), and the context must hold nothing of the dump: no address space.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "map.h"
#include "txn.h"
#include "mtree_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, int rc)
{
	fprintf(stderr, "fuzz_mtree_import: %s (%d)\n", what, rc);
	abort();
}

static void count_warning(const msc_mtree_diag *diag, void *payload)
{
	if (diag->message[0] == '\0')
		fail("a warning without a message", 0);
	++*(unsigned long *)payload;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned forms[] = {
		0,
		MS_MTREE_DISABLED | MS_MTREE_OWNER,
		MS_MTREE_FLAT,
		MS_MTREE_FLAT | MS_MTREE_OWNER,
		MS_MTREE_JSON,
		MS_MTREE_JSON | MS_MTREE_FLAT,
	};
	unsigned long lines = 1, warnings = 0;
	msc_mtree_diag diag;
	msc_mtree *imp = NULL;
	ms_ctx *ctx = NULL;
	int rc;

	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	if (ms_ctx_new(&ctx) != 0)
		abort();
	memset(&diag, 0, sizeof(diag));
	rc = msc_mtree_import(&imp, &diag, ctx, (const char *)data, size, count_warning, &warnings);
	if (rc == 0) {
		if (!imp)
			fail("success without a handle", rc);
		if (msc_mtree_import_nr_as(imp) != ms_ctx_nr_as(ctx))
			fail("the handle and the context disagree on the address spaces", rc);
		rc = ms__as_check(ctx);
		if (rc != 0)
			fail("ms__as_check rejected the imported machine", rc);
		for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
			char *text = NULL;
			size_t len = 0;

			rc = ms_mtree_dump(&text, &len, ctx, forms[i]);
			if (rc != 0 || !text || strlen(text) != len)
				fail("ms_mtree_dump failed", rc);
			free(text);
		}
		msc_mtree_import_free(imp);
	} else {
		if (imp)
			fail("a failed import returned a handle", rc);
		if (rc >= 0)
			fail("a positive return", rc);
		if (diag.message[0] == '\0' ||
		    strnlen(diag.message, sizeof(diag.message)) == sizeof(diag.message))
			fail("a failed import without a terminated message", rc);
		if (diag.line > lines)
			fail("the error's line is past the input", (int)diag.line);
		if (ms_ctx_nr_as(ctx) != 0)
			fail("a failed import left address spaces behind", rc);
	}
	ms_ctx_free(ctx);
	return 0;
}
