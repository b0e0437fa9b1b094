/*
 * memspace CLI: the `memspace mtree` command.
 *
 * Loads a QEMU 7.2 `info mtree -D` dump (with the annotations described in
 * docs/mtree.md), rebuilds its regions and address spaces in a fresh
 * context, and prints the requested dump or answers an `--at` query.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_TOOLS_CMD_MTREE_H
#define MEMSPACE_TOOLS_CMD_MTREE_H

/**
 * msc_cmd_mtree - run `memspace mtree [OPTIONS] FILE`.
 * @argc: number of arguments; argv[0] is the command name ("mtree").
 * @argv: the arguments.
 *
 * Output goes to stdout, diagnostics to stderr as `FILE:LINE:COL: message`.
 * Return: the process exit status: 0 success, 1 input error (unreadable or
 * malformed dump, address not mapped), 2 usage error.
 */
int msc_cmd_mtree(int argc, char **argv);

#endif /* MEMSPACE_TOOLS_CMD_MTREE_H */
