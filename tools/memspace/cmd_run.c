/*
 * memspace CLI: `memspace run`.
 *
 * The script is read whole (at most MSC_MAX_SCRIPT_FILE bytes, from a file
 * or from stdin when FILE is "-") and handed to the interpreter. The exit
 * status is 1 when the script reported an error or the output could not be
 * written.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buffer.h"
#include "cli.h"
#include "script.h"

static const char run_usage[] =
	"usage: memspace run [--keep-going] [--color=WHEN] FILE\n"
	"Run a memspace script (FILE, or - for standard input); see docs/script.md.\n"
	"  -k, --keep-going  continue after an error (the exit status is still 1)\n"
	"  --color=WHEN      colour error messages: auto (default), always, never\n"
	"  -h, --help        show this help\n"
	"Exit status: 0 success, 1 an error in the script, 2 a usage error.\n";

int msc_cmd_run(int argc, char **argv)
{
	enum msc_color color = MSC_COLOR_AUTO;
	const char *path = NULL;
	bool keep_going = false, options_done = false;
	msc_options o;
	char *text;
	size_t len;
	FILE *f;
	int i, err, rc;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!options_done && msc_is_help(a)) {
			fputs(run_usage, stdout);
			return MSC_EXIT_OK;
		} else if (!options_done &&
			   (strcmp(a, "-k") == 0 || strcmp(a, "--keep-going") == 0)) {
			keep_going = true;
		} else if (!options_done && strcmp(a, "--") == 0) {
			options_done = true;
		} else if (!options_done && msc_parse_color(a, &color) == 0) {
			continue;
		} else if (!options_done && a[0] == '-' && a[1] != '\0') {
			fprintf(stderr, "memspace run: unknown option '%s'\n", a);
			fputs(run_usage, stderr);
			return MSC_EXIT_USAGE;
		} else if (path) {
			fprintf(stderr, "memspace run: more than one script given ('%s')\n", a);
			fputs(run_usage, stderr);
			return MSC_EXIT_USAGE;
		} else {
			path = a;
		}
	}
	if (!path) {
		fputs("memspace run: no script given (use - for standard input)\n", stderr);
		fputs(run_usage, stderr);
		return MSC_EXIT_USAGE;
	}
	if (strcmp(path, "-") == 0) {
		f = stdin;
	} else {
		f = fopen(path, "rb");
		if (!f) {
			fprintf(stderr, "memspace run: cannot open '%s': %s\n", path,
				strerror(errno));
			return MSC_EXIT_INPUT;
		}
	}
	err = msc_read_stream(f, MSC_MAX_SCRIPT_FILE, &text, &len);
	if (f != stdin)
		fclose(f);
	if (err) {
		fprintf(stderr, "memspace run: cannot read '%s': %s\n", path,
			err == EFBIG ? "larger than 256 MiB" : strerror(err));
		return MSC_EXIT_INPUT;
	}
	msc_std_options(&o, color, keep_going, false);
	rc = msc_run_text_opts(text, len, strcmp(path, "-") == 0 ? "<stdin>" : path, &o);
	free(text);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "memspace run: cannot write the output: %s\n", strerror(errno));
		return MSC_EXIT_INPUT;
	}
	return rc ? MSC_EXIT_INPUT : MSC_EXIT_OK;
}
