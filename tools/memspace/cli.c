/*
 * memspace CLI: what the subcommands share - their --help and --color
 * arguments and the session options they run a script with.
 *
 * Standard output carries command output, standard error the messages;
 * each gets colour on its own (a terminal on one and a pipe on the other).
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "names.h"

static const msc_name color_names[] = {
	{"auto", MSC_COLOR_AUTO},
	{"always", MSC_COLOR_ALWAYS},
	{"never", MSC_COLOR_NEVER},
	{NULL, 0},
};

int msc_parse_color(const char *arg, enum msc_color *out)
{
	int value;

	if (strncmp(arg, "--color=", 8) != 0 ||
	    msc_name_value(color_names, arg + 8, strlen(arg + 8), &value))
		return -1;
	*out = (enum msc_color)value;
	return 0;
}

bool msc_use_color(enum msc_color when, FILE *f)
{
	const char *no = getenv("NO_COLOR");

	if (when != MSC_COLOR_AUTO)
		return when == MSC_COLOR_ALWAYS;
	return isatty(fileno(f)) && !(no && *no);
}

bool msc_is_help(const char *arg)
{
	return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

void msc_std_options(msc_options *o, enum msc_color color, bool keep_going, bool interactive)
{
	o->out = stdout;
	o->err = stderr;
	o->keep_going = keep_going;
	o->color = msc_use_color(color, stderr);
	o->color_out = msc_use_color(color, stdout);
	o->interactive = interactive;
	o->no_files = false;
}

int msc_parse_args(int argc, char **argv, const char *usage, const char *flag, bool *flag_given,
		   enum msc_color *color)
{
	for (int i = 1; i < argc; i++) {
		if (msc_is_help(argv[i])) {
			fputs(usage, stdout);
			return MSC_EXIT_OK;
		}
		if (flag && strcmp(argv[i], flag) == 0) {
			*flag_given = true;
			return -1;
		}
		if (msc_parse_color(argv[i], color) == 0)
			continue;
		fprintf(stderr, "memspace %s: unknown argument '%s'\n", argv[0], argv[i]);
		fputs(usage, stderr);
		return MSC_EXIT_USAGE;
	}
	return -1;
}
