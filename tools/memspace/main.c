/*
 * memspace: the command-line tool. Dispatches to the subcommands of the
 * table below (run, shell, demo, mtree, map) and answers --version, --help and
 * `help [COMMAND | SCRIPT-COMMAND]`. The usage text lists the table, so a
 * new subcommand is one row.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <string.h>

#include <memspace.h>

#include "cli.h"
#include "script.h"

struct subcommand {
	const char *name;
	const char *synopsis; /* how the usage shows it: "run FILE" */
	const char *help;     /* one line; continuation lines start after a '\n' */
	int (*run)(int argc, char **argv);
};

static const struct subcommand subcommands[] = {
	{"run", "run FILE", "run a script (FILE, or - for standard input)", msc_cmd_run},
	{"shell", "shell", "the same language, interactively", msc_cmd_shell},
	{"demo", "demo",
	 "build a PC-like machine and show its tree, flat views,\naccesses and DMA transfers",
	 msc_cmd_demo},
	{"mtree", "mtree FILE", "load a QEMU 'info mtree -D' dump and print it again",
	 msc_cmd_mtree},
	{"map", "map INPUT", "draw the memory map of a dump or a script as SVG or HTML",
	 msc_cmd_map},
};

#define NR_SUBCOMMANDS (sizeof(subcommands) / sizeof(subcommands[0]))
#define HELP_COLUMN 14 /* where the help of a subcommand starts */

/* One subcommand of the usage: its synopsis, then its help from HELP_COLUMN. */
static void usage_entry(FILE *f, const char *synopsis, const char *help)
{
	int width = HELP_COLUMN - 2 - 2;

	if ((int)strlen(synopsis) > width)
		fprintf(f, "  %s\n%*s", synopsis, HELP_COLUMN, "");
	else
		fprintf(f, "  %-*s  ", width, synopsis);
	for (; *help; help++) {
		fputc(*help, f);
		if (*help == '\n')
			fprintf(f, "%*s", HELP_COLUMN, "");
	}
	fputc('\n', f);
}

static void usage(FILE *f)
{
	fputs("usage: memspace COMMAND [ARGS]\n"
	      "       memspace --version | --help\n"
	      "\n"
	      "Model an emulated machine's physical memory with libmemspace.\n"
	      "\n"
	      "Commands:\n",
	      f);
	for (size_t i = 0; i < NR_SUBCOMMANDS; i++)
		usage_entry(f, subcommands[i].synopsis, subcommands[i].help);
	usage_entry(f, "help [COMMAND | SCRIPT-COMMAND]",
		    "this text, a command's --help, or a script command's usage");
	fputs("\n"
	      "'memspace COMMAND --help' describes each command; docs/script.md and\n"
	      "memspace(1) describe the script language.\n"
	      "Exit status: 0 success, 1 an error in the input, 2 a usage error.\n",
	      f);
}

static const struct subcommand *find_subcommand(const char *name)
{
	for (size_t i = 0; i < NR_SUBCOMMANDS; i++)
		if (strcmp(subcommands[i].name, name) == 0)
			return &subcommands[i];
	return NULL;
}

/* memspace help [COMMAND | SCRIPT-COMMAND] */
static int help(int argc, char **argv)
{
	const struct subcommand *sub;
	char *help_argv[] = {argv[0], "--help", NULL};

	if (argc < 1) {
		usage(stdout);
		return MSC_EXIT_OK;
	}
	if (argc > 1) {
		fputs("memspace help: give one command\n", stderr);
		return MSC_EXIT_USAGE;
	}
	sub = find_subcommand(argv[0]);
	if (sub)
		return sub->run(2, help_argv);
	if (msc_print_help(stdout, argv[0]) == 0)
		return MSC_EXIT_OK;
	fprintf(stderr, "memspace help: unknown command '%s'\n", argv[0]);
	return MSC_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	const struct subcommand *sub;

	if (argc < 2) {
		usage(stderr);
		return MSC_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		unsigned v = ms_version();

		printf("memspace %u.%u.%u\n", v >> 16, (v >> 8) & 0xff, v & 0xff);
		return MSC_EXIT_OK;
	}
	if (msc_is_help(argv[1])) {
		usage(stdout);
		return MSC_EXIT_OK;
	}
	if (strcmp(argv[1], "help") == 0)
		return help(argc - 2, argv + 2);
	sub = find_subcommand(argv[1]);
	if (sub)
		return sub->run(argc - 1, argv + 1);
	fprintf(stderr, "memspace: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return MSC_EXIT_USAGE;
}
