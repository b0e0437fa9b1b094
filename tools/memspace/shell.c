/*
 * memspace CLI: `memspace shell`, the script language interactively.
 *
 * On a terminal, lines are read with libedit (line editing, history, tab
 * completion of command names, option keys and the names the session
 * knows); otherwise lines are read from standard input as they come. Errors
 * show the line with a caret and never end the session. libedit's readline
 * interface has no user pointer for its completion callbacks, hence the one
 * file-scope session pointer below (the tool is single-threaded).
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <editline/readline.h>
#include <memspace.h>

#include "cli.h"
#include "script.h"

static msc_session *completing; /* the session completion draws names from */
static char first_word[64];     /* the command word of the line being completed */

/* Candidates: the command names (at the start of a line, or after help). */
static char *complete_command(const char *text, int state)
{
	static size_t next;
	const char *const *names = msc_command_names();
	size_t len = strlen(text);

	if (state == 0)
		next = 0;
	while (names[next]) {
		const char *n = names[next++];

		if (strncmp(n, text, len) == 0)
			return strdup(n);
	}
	return NULL;
}

/* Does a name before @index equal @name? (A TCE table is also a region of its name.) */
static bool named_before(const char *name, size_t index)
{
	for (size_t i = 0; i < index; i++) {
		const char *n = msc_session_name(completing, i);

		if (n && strcmp(n, name) == 0)
			return true;
	}
	return false;
}

/* Candidates: names the session knows (each once), then the command's options ("in="). */
static char *complete_argument(const char *text, int state)
{
	static size_t next, next_option;
	size_t len = strlen(text), nr = msc_session_nr_names(completing);
	char option[64];
	const char *key;
	bool takes_value;

	if (state == 0)
		next = next_option = 0;
	while (next < nr) {
		const char *n = msc_session_name(completing, next++);

		if (n && strncmp(n, text, len) == 0 && !named_before(n, next - 1))
			return strdup(n);
	}
	while (msc_command_option(first_word, next_option++, &key, &takes_value)) {
		snprintf(option, sizeof(option), "%s%s", key, takes_value ? "=" : "");
		if (strncmp(option, text, len) == 0)
			return strdup(option);
	}
	return NULL;
}

static char **complete(const char *text, int start, int end)
{
	const char *line = rl_line_buffer;
	size_t i = 0, n;

	(void)end;
	rl_attempted_completion_over = 1;
	while (line[i] == ' ' || line[i] == '\t')
		i++;
	if ((int)i >= start)
		return rl_completion_matches(text, complete_command);
	n = strcspn(line + i, " \t");
	if (n >= sizeof(first_word))
		n = sizeof(first_word) - 1;
	memcpy(first_word, line + i, n);
	first_word[n] = '\0';
	if (strcmp(first_word, "help") == 0)
		return rl_completion_matches(text, complete_command);
	return rl_completion_matches(text, complete_argument);
}

static const char shell_usage[] =
	"usage: memspace shell [--color=WHEN]\n"
	"Run script commands interactively: line editing, history, tab completion of\n"
	"commands and names. 'help' lists the commands, 'quit' or end of input leaves.\n"
	"Errors are reported and the session goes on.\n"
	"  --color=WHEN    colour errors and headings: auto (default), always, never\n"
	"  -h, --help      show this help\n"
	"Exit status: 0, or 1 when a command failed; 2 a usage error.\n";

int msc_cmd_shell(int argc, char **argv)
{
	enum msc_color color = MSC_COLOR_AUTO;
	bool tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
	unsigned long lineno = 0;
	msc_session *s;
	msc_options o;
	int rc = msc_parse_args(argc, argv, shell_usage, NULL, NULL, &color);

	if (rc >= 0)
		return rc;
	msc_std_options(&o, color, true, true);
	if (msc_session_new(&s, &o)) {
		fputs("memspace shell: out of memory\n", stderr);
		return MSC_EXIT_INPUT;
	}
	if (tty) {
		unsigned v = ms_version();

		printf("memspace %u.%u.%u shell: 'help' lists the commands, Tab completes, "
		       "'quit' leaves.\n",
		       v >> 16, (v >> 8) & 0xff, v & 0xff);
		completing = s;
		rl_readline_name = "memspace";
		rl_attempted_completion_function = complete;
		rl_completer_word_break_characters = " \t=";
		using_history();
		for (;;) {
			char *line = readline("memspace> ");

			if (!line) {
				putchar('\n');
				break;
			}
			if (line[0])
				add_history(line);
			rc = msc_session_line(s, "shell", ++lineno, line, strlen(line));
			free(line);
			if (rc == 2)
				break;
		}
		clear_history();
		completing = NULL;
	} else {
		char *line = NULL;
		size_t cap = 0;
		ssize_t n;

		while ((n = getline(&line, &cap, stdin)) >= 0) {
			if (n > 0 && line[n - 1] == '\n')
				n--;
			rc = msc_session_line(s, "shell", ++lineno, line, (size_t)n);
			if (rc == 2)
				break;
		}
		free(line);
	}
	msc_session_finish(s, "shell", lineno);
	rc = msc_session_errors(s) ? MSC_EXIT_INPUT : MSC_EXIT_OK;
	msc_session_free(s);
	return rc;
}
