#!/usr/bin/env bash
# Check the formatting of C changes against .clang-format.
#
#   scripts/check-format.sh [BASE]   lines changed since BASE (default HEAD),
#                                    including uncommitted ones
#   scripts/check-format.sh -- FILE...  whole files
#
# Only changed lines are checked by default, so existing code is never
# mass-reformatted (STYLE.md rule 13). Prints the fix as a diff and exits 1
# when something is off. Apply it with `git clang-format BASE`.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v clang-format >/dev/null; then
	echo "check-format: clang-format is not installed (apt-get install clang-format)" >&2
	exit 2
fi

if [[ "${1:-}" == "--" ]]; then
	shift
	clang-format --dry-run --Werror "$@"
	exit
fi

base=${1:-HEAD}
out=$(git clang-format --diff --extensions c,h "$base" -- || true)
case "$out" in
"" | "no modified files to format" | "clang-format did not modify any files")
	echo "check-format: ok"
	;;
*)
	printf '%s\n' "$out"
	echo "check-format: the lines above do not follow .clang-format" >&2
	exit 1
	;;
esac
