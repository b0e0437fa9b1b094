#!/usr/bin/env bash
# docs_standalone_check.sh: keep the user documentation self-contained.
#
#   tests/docs_standalone_check.sh [REPO-ROOT]
#
# The user documentation is README.md, docs/*.md, the man page
# docs/memspace.1 and the public headers include/memspace.h,
# include/memspace/*.h and include/memspace/models/*.h (their comments are
# the API reference). A reader has only the installed package or the
# repository, so these files must state their rules instead of pointing at
# what that reader does not have. The check fails (exit 1) on any line with
#   - a path into the project's shared tree (../shared, shared/, DESIGN.md,
#     qemu-mtree/);
#   - a numbered rule or section of another document (rule I3, F4, §5,
#     section 1.3);
#   - an internal function name (ms__*) or a library source path (src/...);
#   - a reference to the issue or change that wrote it ("this issue");
#   - liburcu's own read-lock calls where ms_rcu_read_lock() and
#     ms_rcu_read_unlock() are the API (rcu_read_lock(), rcu_read_unlock()).
# Each hit is printed as FILE:LINE: text.
#
# SPDX-License-Identifier: MIT
set -euo pipefail

root=${1:-"$(cd "$(dirname "$0")/.." && pwd)"}
cd "$root"

files=(README.md docs/*.md docs/memspace.1 include/memspace.h include/memspace/*.h
	include/memspace/models/*.h)
patterns=(
	'\.\./shared|(^|[^[:alnum:]_-])shared/|DESIGN\.md|qemu-mtree/'
	'\brules? [A-Z][0-9]|\b[AFIR][0-9]{1,2}\b|§|\b[Ss]ection [0-9]'
	'ms__'
	'(^|[^[:alnum:]_])src/'
	'\bthis issue\b|\bissue #?[0-9]|\bas before this\b'
	'(^|[^[:alnum:]_])rcu_read_(un)?lock\('
)

status=0
for p in "${patterns[@]}"; do
	if grep -nE -- "$p" "${files[@]}"; then
		status=1
	fi
done
if ((status)); then
	echo "docs_standalone_check: the lines above point at what a user does not have" >&2
	echo "(state the rule in words; use ms_rcu_read_lock()/ms_rcu_read_unlock())" >&2
else
	echo "docs_standalone_check: ${#files[@]} files, no reference outside the package"
fi
exit "$status"
