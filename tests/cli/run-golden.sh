#!/usr/bin/env bash
# Golden test driver for the memspace command.
#
#   run-golden.sh MEMSPACE NAME    (run in tests/cli/)
#
# Runs NAME.ms and compares stdout+stderr with NAME.out, and the exit status
# with the script's "# exit: N" line (default 0). Other directives, each on
# a line of its own at the top of NAME.ms:
#   # args: ARGS...   run "memspace ARGS..." instead of "memspace run NAME.ms";
#                     @ stands for NAME.ms
#   # stdin           feed NAME.ms on standard input (default ARGS: run -)
#   # stdout-full     standard output is /dev/full (writes fail); only
#                     standard error is compared
#   # tmpdir          run in a fresh temporary directory (removed after), into
#                     which NAME.ms and the files of NAME.data/ are copied
#                     first: the script may write files there, and messages
#                     name the script as it is named here
# Environment:
#   MS_CLI_WRAPPER    words put before MEMSPACE, e.g. a valgrind command line
#   MS_CLI_UPDATE=1   rewrite NAME.out with what the command printed
set -u
exe=$1
name=$2
script=$name.ms
expected=$name.out

want_exit=$(sed -n 's/^# exit: *\([0-9][0-9]*\).*/\1/p' "$script" | head -n 1)
want_exit=${want_exit:-0}
input=/dev/null
if grep -q '^# args:' "$script"; then
	args=$(sed -n 's/^# args: *//p' "$script" | head -n 1)
elif grep -q '^# stdin *$' "$script"; then
	args="run -"
else
	args="run @"
fi
if grep -q '^# stdin *$' "$script"; then
	input=$script
fi
read -r -a argv <<<"${args//@/$script}"
read -r -a wrapper <<<"${MS_CLI_WRAPPER:-}"

actual=$(mktemp)
rundir=.
if grep -q '^# tmpdir *$' "$script"; then
	rundir=$(mktemp -d)
	if [[ -d $name.data ]]; then
		cp -R "$name.data/." "$rundir"
	fi
	cp "$script" "$rundir/"
	[[ $input == /* || $input == /dev/null ]] || input=$PWD/$input
fi
trap 'rm -f "$actual"; [[ $rundir == . ]] || rm -rf "$rundir"' EXIT
if grep -q '^# stdout-full *$' "$script"; then
	(cd "$rundir" && env -u NO_COLOR "${wrapper[@]}" "$exe" "${argv[@]}" <"$input" >/dev/full 2>"$actual")
	rc=$?
else
	(cd "$rundir" && env -u NO_COLOR "${wrapper[@]}" "$exe" "${argv[@]}" <"$input" >"$actual" 2>&1)
	rc=$?
fi

if [[ "${MS_CLI_UPDATE:-}" == 1 ]]; then
	cp "$actual" "$expected"
fi
status=0
if ! diff -u "$expected" "$actual"; then
	echo "golden: $name: output differs from $expected (- expected, + actual)" >&2
	status=1
fi
if ((rc != want_exit)); then
	echo "golden: $name: exit status $rc, expected $want_exit" >&2
	status=1
fi
exit $status
