/*
 * Fuzz target: the CLI's script parser and interpreter.
 *
 * The input is a whole script, run with msc_run_text() in a session of its
 * own with keep_going set, so that every line after an error runs too.
 * Output and errors go to /dev/null. The interpreter promises (DESIGN.md §8,
 * tools/memspace/script.h) never to crash, hang or leak on any input, and
 * to answer with 0 or 1; ASan, UBSan and LeakSanitizer watch the first three,
 * this target the last.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "script.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *null_out;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	msc_options o = {0};
	int rc;

	if (!null_out) {
		null_out = fopen("/dev/null", "w");
		if (!null_out)
			abort();
	}
	/* No files: ram-save would write wherever the input says. */
	o.out = o.err = null_out;
	o.keep_going = true;
	o.no_files = true;
	rc = msc_run_text_opts((const char *)data, size, "fuzz.ms", &o);
	if (rc != 0 && rc != 1) {
		fprintf(stderr, "fuzz_script: msc_run_text returned %d\n", rc);
		abort();
	}
	return 0;
}
