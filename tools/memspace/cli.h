/*
 * memspace CLI: the subcommands and what they share.
 *
 * Each msc_cmd_* takes the subcommand's own argv (argv[0] is its name) and
 * returns the process exit status: 0 success, 1 an error in the input,
 * 2 a usage error.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_CLI_CLI_H
#define MEMSPACE_CLI_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "script.h"

#define MSC_EXIT_OK 0
#define MSC_EXIT_INPUT 1
#define MSC_EXIT_USAGE 2

/* The largest script file `run` reads (bytes). */
#define MSC_MAX_SCRIPT_FILE (256u << 20)

int msc_cmd_run(int argc, char **argv);
int msc_cmd_shell(int argc, char **argv);
int msc_cmd_demo(int argc, char **argv);

/**
 * msc_cmd_mtree - run `memspace mtree [OPTIONS] FILE`: load a QEMU 7.2
 * `info mtree -D` dump (docs/mtree.md) into a fresh context and print it
 * again, or answer an `--at` query.
 *
 * Output goes to stdout, diagnostics to stderr as `FILE:LINE:COL: message`.
 * Return: the exit status: 0 success, 1 input error (unreadable or
 * malformed dump, address not mapped), 2 usage error.
 */
int msc_cmd_mtree(int argc, char **argv);

/**
 * msc_cmd_map - run `memspace map [--html FILE | --svg FILE] [--as NAME]
 * INPUT`: draw the memory map of a dump or a script (docs/memory-map.md).
 * Return: the exit status, as msc_cmd_mtree().
 */
int msc_cmd_map(int argc, char **argv);

/** msc_demo_script - the text of the built-in demo machine's script. */
const char *msc_demo_script(void);

/**
 * enum msc_color - the --color setting: auto (a terminal and no NO_COLOR),
 * always or never.
 */
enum msc_color {
	MSC_COLOR_AUTO,
	MSC_COLOR_ALWAYS,
	MSC_COLOR_NEVER
};

/** msc_parse_color - parse "--color=WHEN"; -1 when @arg is not that option or is bad. */
int msc_parse_color(const char *arg, enum msc_color *out);

/** msc_use_color - whether to colour output written to @f. */
bool msc_use_color(enum msc_color when, FILE *f);

/** msc_is_help - whether @arg asks for help (-h or --help). */
bool msc_is_help(const char *arg);

/**
 * msc_parse_args - read the arguments of a subcommand that takes only
 * --help, --color=WHEN and, if @flag is not NULL, @flag (which ends the
 * arguments: *@flag_given is set and the rest is not looked at).
 * @usage: printed for --help, and after an unknown argument.
 *
 * Return: -1 to go on, else the exit status (after --help, or a usage error).
 */
int msc_parse_args(int argc, char **argv, const char *usage, const char *flag, bool *flag_given,
		   enum msc_color *color);

/**
 * msc_std_options - options for a session that writes to stdout and stderr,
 * each coloured as @color says for it.
 */
void msc_std_options(msc_options *o, enum msc_color color, bool keep_going, bool interactive);

#endif /* MEMSPACE_CLI_CLI_H */
