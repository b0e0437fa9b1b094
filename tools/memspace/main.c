/*
 * memspace: the command-line tool. Dispatches to the subcommands:
 * run (scripts), shell (interactive), demo (the built-in machine), mtree
 * (QEMU dump importer) and help.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <string.h>

#include <memspace.h>

#include "cli.h"
#include "cmd_mtree.h"
#include "script.h"

static void usage(FILE *f)
{
	fputs("usage: memspace COMMAND [ARGS]\n"
	      "       memspace --version | --help\n"
	      "\n"
	      "Model an emulated machine's physical memory with libmemspace.\n"
	      "\n"
	      "Commands:\n"
	      "  run FILE    run a script (FILE, or - for standard input)\n"
	      "  shell       the same language, interactively\n"
	      "  demo        build a PC-like machine and show its tree, flat views,\n"
	      "              accesses and DMA transfers\n"
	      "  mtree FILE  load a QEMU 'info mtree -D' dump and print it again\n"
	      "  help [COMMAND | SCRIPT-COMMAND]\n"
	      "              this text, a command's --help, or a script command's usage\n"
	      "\n"
	      "'memspace COMMAND --help' describes each command; docs/script.md and\n"
	      "memspace(1) describe the script language.\n"
	      "Exit status: 0 success, 1 an error in the input, 2 a usage error.\n",
	      f);
}

static int dispatch(int argc, char **argv)
{
	const char *cmd = argv[0];

	if (strcmp(cmd, "run") == 0)
		return msc_cmd_run(argc, argv);
	if (strcmp(cmd, "shell") == 0)
		return msc_cmd_shell(argc, argv);
	if (strcmp(cmd, "demo") == 0)
		return msc_cmd_demo(argc, argv);
	if (strcmp(cmd, "mtree") == 0)
		return msc_cmd_mtree(argc, argv);
	return -1;
}

int main(int argc, char **argv)
{
	int rc;

	if (argc < 2) {
		usage(stderr);
		return MSC_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		unsigned v = ms_version();

		printf("memspace %u.%u.%u\n", v >> 16, (v >> 8) & 0xff, v & 0xff);
		return MSC_EXIT_OK;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return MSC_EXIT_OK;
	}
	if (strcmp(argv[1], "help") == 0) {
		char *help_argv[] = {argv[2], "--help", NULL};

		if (argc < 3) {
			usage(stdout);
			return MSC_EXIT_OK;
		}
		if (argc > 3) {
			fputs("memspace help: give one command\n", stderr);
			return MSC_EXIT_USAGE;
		}
		rc = dispatch(2, help_argv);
		if (rc >= 0)
			return rc;
		if (msc_print_help(stdout, argv[2]) == 0)
			return MSC_EXIT_OK;
		fprintf(stderr, "memspace help: unknown command '%s'\n", argv[2]);
		return MSC_EXIT_USAGE;
	}
	rc = dispatch(argc - 1, argv + 1);
	if (rc >= 0)
		return rc;
	fprintf(stderr, "memspace: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return MSC_EXIT_USAGE;
}
