/*
 * memspace CLI: the script interpreter.
 *
 * A script is a sequence of lines; each line is one command (docs/script.md).
 * A session owns one memory-system context and everything the script creates
 * in it (regions, address spaces, listeners, mappings, device models), and
 * frees all of it when it ends. Every command does bounded work: the limits
 * below are checked before anything is allocated or accessed, and exceeding
 * one is an ordinary error. Errors are printed as FILE:LINE:COL: message.
 *
 * Not thread-safe: one session belongs to one thread.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_CLI_SCRIPT_H
#define MEMSPACE_CLI_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Limits (docs/script.md, "Limits"). */
#define MSC_MAX_LINE 4096                 /* bytes per line, newline excluded */
#define MSC_MAX_WORDS 512                 /* words per line */
#define MSC_MAX_REGIONS 4096              /* regions a session may create */
#define MSC_MAX_AS 64                     /* address spaces alive at once */
#define MSC_MAX_LISTENERS 64              /* listeners alive at once */
#define MSC_MAX_EVENTFDS 64               /* ioeventfds registered at once */
#define MSC_MAX_MAPPINGS 256              /* DMA mappings alive at once */
#define MSC_MAX_MAP_CLIENTS 64            /* map clients alive at once */
#define MSC_MAX_NOTIFIERS 64              /* IOMMU notifiers alive at once */
#define MSC_MAX_CACHES 64                 /* region caches alive at once */
#define MSC_MAX_IOMMU_ENTRIES 1024        /* IOMMU page-table mappings, all IOMMUs together */
#define MSC_MAX_IOMMU_BLOCKS 64           /* aligned blocks one IOMMU mapping falls into */
#define MSC_MAX_TCE_TABLES 16             /* TCE tables a session may create */
#define MSC_MAX_TCE_ENTRIES (1u << 22)    /* TCEs of every window a session creates */
#define MSC_MAX_CONTAINERS 8              /* VFIO containers alive at once */
#define MSC_MAX_PINNABLE 1024             /* pages containers may be asked to pin (below) */
#define MSC_MAX_MPCS 8                    /* TZ-MPC-like filters a session may create */
#define MSC_MAX_MPC_BLOCKS 65536          /* blocks of one MPC */
#define MSC_MAX_DEVTLBS 8                 /* device IOTLBs a session may create */
#define MSC_MAX_REMAPS 64                 /* remapped host ranges alive at once */
#define MSC_MAX_REMAP_BYTES (8ull << 30)  /* bytes of the remapped host ranges alive at once */
#define MSC_MAX_REMAP_PIECES 4096         /* their pieces (host mappings) together */
#define MSC_MAX_MEMORY (8ull << 30)       /* bytes of RAM-backed regions in total */
#define MSC_MAX_BYTES (1u << 20)          /* bytes one access, fill, map, cache or DMA covers */
#define MSC_MAX_PRINT (64u << 10)         /* bytes one read or map-read prints */
#define MSC_MAX_REGS (64u << 10)          /* size of a regs device's register file */
#define MSC_MAX_BOUNCE_BUDGET (16u << 20) /* bounce-budget bound */
#define MSC_MAX_VIEW_RANGES (1u << 20)    /* ranges one render may produce (library render limit) */

/*
 * A VFIO container pins every page it shadows with one ms_as_map(), and
 * each unpin looks its mapping up among the live ones, so MSC_MAX_PINNABLE
 * bounds the sources of pins: the TCEs set at once, over every table; and,
 * while a container is attached, the pages (of their page size) that the
 * page-table IOMMUs (iommu target=) map.
 */

/** struct msc_options - how a session runs. */
typedef struct msc_options {
	FILE *out;        /* command output, device and listener logs */
	FILE *err;        /* error messages (stdout is flushed before each) */
	bool keep_going;  /* continue after an error (the exit status stays 1) */
	bool color;       /* ANSI colours in error messages (on @err) */
	bool color_out;   /* ANSI colours in headings (on @out) */
	bool interactive; /* shell: show the line and a caret under errors */
	bool no_files;    /* commands that open files (ram-save, ram-load, ram path=) fail */
} msc_options;

typedef struct msc_session msc_session;

/**
 * msc_session_new - start a session with an empty memory system.
 * Return: 0, or -ENOMEM.
 */
int msc_session_new(msc_session **out, const msc_options *opts);

/**
 * msc_session_line - run one line.
 * @s: the session.
 * @name: file name used in error messages.
 * @lineno: line number used in error messages (1-based).
 * @line: the line (need not be NUL-terminated; may contain any bytes).
 * @len: its length, without a newline.
 *
 * Return: 0 when the line ran, 1 when it reported an error, 2 after `quit`.
 */
int msc_session_line(msc_session *s, const char *name, unsigned long lineno, const char *line,
		     size_t len);

/**
 * msc_session_finish - end-of-input checks (an open transaction is an
 * error, and is committed so that the session can be freed).
 * Return: 0, or 1 when an error was reported.
 */
int msc_session_finish(msc_session *s, const char *name, unsigned long lineno);

/** msc_session_free - free the session and everything it created; NULL is a no-op. */
void msc_session_free(msc_session *s);

/** msc_session_errors - how many errors the session has reported. */
unsigned long msc_session_errors(const msc_session *s);

/*
 * Completion support for the shell: the command names (NULL-terminated,
 * static) and the names the session knows (regions, address spaces,
 * listeners, map clients, notifiers, caches, TCE tables, containers), valid
 * until the next line runs.
 */
const char *const *msc_command_names(void);
/*
 * The @index-th option of command @name: its key (*@key, static) and
 * whether it takes a value (key=VALUE). False past the last option, or
 * when there is no such command.
 */
bool msc_command_option(const char *name, size_t index, const char **key, bool *takes_value);
size_t msc_session_nr_names(const msc_session *s);
const char *msc_session_name(const msc_session *s, size_t index);

/**
 * msc_print_help - print the command summary, or one command's usage.
 * @topic: a command name, or NULL for the summary.
 * Return: 0, or -ENOENT for an unknown command.
 */
int msc_print_help(FILE *out, const char *topic);

/**
 * msc_run_text_opts - run a whole script held in memory.
 * @text: the script; any bytes (embedded NULs are reported as errors).
 * @len: its length.
 * @name: file name used in error messages.
 * @opts: the session options.
 *
 * Never exits the process; frees everything it allocated.
 * Return: 0 when no error was reported, 1 otherwise.
 */
int msc_run_text_opts(const char *text, size_t len, const char *name, const msc_options *opts);

/** msc_run_text - msc_run_text_opts() without colours, not interactive. */
int msc_run_text(const char *text, size_t len, const char *name, FILE *out, FILE *err,
		 bool keep_going);

#endif /* MEMSPACE_CLI_SCRIPT_H */
