#!/usr/bin/env bash
# Test driver for `memspace mtree` (run in tests/mtree-import/).
#
#   run.sh flat MEMSPACE COMPARE DIR    memspace mtree -f DIR/input.txt must equal
#                                       DIR/expected-f.txt block by block
#                                       (mtree_flat_compare: blocks may be reordered);
#                                       DIR is cases/MACHINE or rules/NAME
#   run.sh dump MEMSPACE DIR            memspace mtree -D must print DIR/input.txt
#                                       without its annotations, byte for byte
#   run.sh error MEMSPACE NAME          memspace mtree errors/NAME.txt must exit 1 and
#                                       print exactly errors/NAME.err (stdout + stderr)
#   run.sh cli MEMSPACE NAME            cli/NAME.t: "# args: ..." (words; paths relative to
#                                       this directory) and "# exit: N" (default 0); stdout +
#                                       stderr must equal cli/NAME.out
# Environment: MS_CLI_WRAPPER (words put before MEMSPACE, e.g. valgrind), MS_CLI_UPDATE=1
# (rewrite the expected file of an error or cli test with what was printed).
#
# SPDX-License-Identifier: MIT
set -u
mode=$1
exe=$2
read -r -a wrapper <<<"${MS_CLI_WRAPPER:-}"
actual=$(mktemp)
expected=$(mktemp)
trap 'rm -f "$actual" "$expected"' EXIT

check_exit()
{
	if [[ $1 != "$2" ]]; then
		echo "exit status $1, expected $2"
		cat "$actual"
		exit 1
	fi
}

compare()
{
	if [[ "${MS_CLI_UPDATE:-}" == 1 ]]; then
		cp "$actual" "$1"
	fi
	if ! diff -u "$1" "$actual"; then
		exit 1
	fi
}

case $mode in
flat)
	"${wrapper[@]}" "$exe" mtree -f "$4/input.txt" >"$actual"
	check_exit $? 0
	"$3" "$4/expected-f.txt" "$actual" || exit 1
	;;
dump)
	"${wrapper[@]}" "$exe" mtree -D "$3/input.txt" >"$actual"
	check_exit $? 0
	sed -E 's/ \{[a-z0-9=, ]*\}$//' "$3/input.txt" >"$expected"
	diff -u "$expected" "$actual" || exit 1
	;;
error)
	"${wrapper[@]}" "$exe" mtree "errors/$3.txt" >"$actual" 2>&1
	check_exit $? 1
	compare "errors/$3.err"
	;;
cli)
	t=cli/$3.t
	args=$(sed -n 's/^# args: *//p' "$t" | head -n 1)
	want=$(sed -n 's/^# exit: *\([0-9][0-9]*\).*/\1/p' "$t" | head -n 1)
	read -r -a argv <<<"$args"
	input=/dev/null
	if grep -q '^# stdin: ' "$t"; then
		input=$(sed -n 's/^# stdin: *//p' "$t" | head -n 1)
	fi
	"${wrapper[@]}" "$exe" "${argv[@]}" <"$input" >"$actual" 2>&1
	check_exit $? "${want:-0}"
	compare "cli/$3.out"
	;;
*)
	echo "run.sh: unknown mode $mode" >&2
	exit 2
	;;
esac
echo "ok"
