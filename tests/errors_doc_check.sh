#!/usr/bin/env bash
# errors_doc_check.sh: keep docs/errors.md and the tests in step.
#
#   tests/errors_doc_check.sh [REPO-ROOT]
#
# Reads every Markdown table of docs/errors.md that has a "test" column and
# fails (exit 1) when
#   - a row's test cell is empty;
#   - a test cell is "—" (U+2014) in a row whose error cell is not exactly
#     "none" (the marker is reserved for calls that cannot fail);
#   - a reference does not resolve:
#       file.c:function  file.c is found by name under tests/unit,
#                        tests/cli or tests/mtree-import, and function is
#                        registered in it (a cmocka_unit_test*(function) or
#                        WRAPPER(function) entry) or defined in it;
#       tests/dir/file   (a golden test, e.g. tests/cli/errors-foo.ms) the
#                        file exists;
#   - the call cell names (in backticks) an ms_* function that is not an
#     MS_API function of include/memspace/*.h (or of a model header,
#     include/memspace/models/NAME.h, that has its own section);
#   - an MS_API function of those headers is named in no call cell.
# Several references in one cell are separated by commas. A test cell of
# exactly "untestable" is accepted and listed on every run.
#
# SPDX-License-Identifier: MIT
set -euo pipefail

root=${1:-"$(cd "$(dirname "$0")/.." && pwd)"}
doc=$root/docs/errors.md
test_dirs=("$root/tests/unit" "$root/tests/cli" "$root/tests/mtree-import")
failures=0
rows=0
refs=0
untestable=()

fail()
{
	echo "errors_doc_check: $*" >&2
	failures=$((failures + 1))
}

# trim VAR TEXT: VAR = TEXT without leading and trailing white space.
trim()
{
	local s=$2
	s=${s#"${s%%[![:space:]]*}"}
	s=${s%"${s##*[![:space:]]}"}
	printf -v "$1" '%s' "$s"
}

if [[ ! -f $doc ]]; then
	echo "errors_doc_check: $doc not found" >&2
	exit 1
fi

# Every MS_API function of the public headers.
mapfile -t api < <(perl -0ne 'while (/^MS_API\s+[^;(]*?\b(\w+)\s*\(/mg) { print "$1\n" }' \
	"$root"/include/memspace/*.h | sort -u)
# Model headers (include/memspace/models/*.h) take part once docs/errors.md has
# a section for them ("## include/memspace/models/NAME.h"): their calls may be
# named, and every one of them then needs a row.
for h in "$root"/include/memspace/models/*.h; do
	[[ -f $h ]] || continue
	grep -qxF "## include/memspace/models/${h##*/}" "$doc" 2>/dev/null || continue
	mapfile -t -O "${#api[@]}" api < <(perl -0ne 'while (/^MS_API\s+[^;(]*?\b(\w+)\s*\(/mg) { print "$1\n" }' "$h")
done
if ((${#api[@]} == 0)); then
	echo "errors_doc_check: no MS_API function found under $root/include/memspace" >&2
	exit 1
fi
declare -A is_api=() documented=()
for f in "${api[@]}"; do
	is_api[$f]=1
done

# A file.c:function reference: the file exists in a test directory and the
# function is registered or defined in it. Results are cached per reference.
declare -A ref_ok=()
check_c_ref()
{
	local line=$1 file=${2%%:*} func=${2#*:} found=() path
	[[ -n ${ref_ok[$2]:-} ]] && return
	if [[ ! $func =~ ^[A-Za-z_][A-Za-z0-9_]*$ || $file == */* ]]; then
		fail "line $line: malformed reference '$2' (expected file.c:function)"
		return
	fi
	for dir in "${test_dirs[@]}"; do
		[[ -d $dir ]] || continue
		while IFS= read -r path; do
			found+=("$path")
		done < <(find "$dir" -type f -name "$file")
	done
	if ((${#found[@]} == 0)); then
		fail "line $line: test file '$file' not found under tests/unit, tests/cli or tests/mtree-import"
		return
	fi
	for path in "${found[@]}"; do
		if grep -Eq "(cmocka_unit_test[A-Za-z_]*|[A-Z][A-Z0-9_]*)\([[:space:]]*${func}[[:space:]]*[,)]" "$path" ||
			grep -Eq "^(static[[:space:]]+)?(void|int)[[:space:]]+${func}[[:space:]]*\(" "$path"; then
			ref_ok[$2]=1
			return
		fi
	done
	fail "line $line: test '$func' is neither registered nor defined in $file"
}

check_path_ref()
{
	local line=$1 path=$2
	if [[ $path != tests/* || $path == *..* ]]; then
		fail "line $line: reference '$path' is not a path under tests/"
	elif [[ ! -f $root/$path ]]; then
		fail "line $line: test file '$path' does not exist"
	fi
}

# Walk the tables. A table starts with a header row followed by a |---| row.
lineno=0
call="" test="" error="" ref="" name=""
in_table=0
test_col=-1
error_col=-1
prev=""
while IFS= read -r raw || [[ -n $raw ]]; do
	lineno=$((lineno + 1))
	line=${raw//\\|/}
	if [[ $line != \|* ]]; then
		in_table=0
		prev=""
		continue
	fi
	if ((in_table == 0)); then
		if [[ $line =~ ^\|[[:space:]:|-]+\|[[:space:]]*$ && -n $prev ]]; then
			# $prev is the header row.
			IFS='|' read -r -a head <<<"${prev#|}"
			test_col=-1
			error_col=-1
			for i in "${!head[@]}"; do
				trim name "${head[$i]}"
				name=${name,,}
				[[ $name == test ]] && test_col=$i
				[[ $name == error ]] && error_col=$i
			done
			in_table=1
			((test_col < 0)) && in_table=2 # a table without a test column: ignored
		else
			prev=$line
		fi
		continue
	fi
	((in_table == 2)) && continue
	rows=$((rows + 1))
	IFS='|' read -r -a cell <<<"${line#|}"
	trim call "${cell[0]:-}"
	trim test "${cell[$test_col]:-}"
	error=""
	((error_col >= 0)) && trim error "${cell[$error_col]:-}"
	error=${error//\`/}

	# Calls named in the row (in backticks).
	rest=$call
	while [[ $rest =~ \`(ms_[a-z0-9_]+)\` ]]; do
		name=${BASH_REMATCH[1]}
		rest=${rest#*"${BASH_REMATCH[0]}"}
		[[ $name == ms__* ]] && continue
		if [[ -z ${is_api[$name]:-} ]]; then
			fail "line $lineno: '$name' is not an MS_API function of include/memspace/*.h"
		else
			documented[$name]=1
		fi
	done

	# The test reference(s).
	test=${test//\`/}
	if [[ -z $test ]]; then
		fail "line $lineno: no test reference"
	elif [[ $test == "—" ]]; then
		[[ $error == none ]] || fail "line $lineno: '—' is allowed only in rows whose error is 'none' (error is '$error')"
	elif [[ $test == untestable ]]; then
		untestable+=("line $lineno: ${call:0:60} $error")
	else
		IFS=',' read -r -a parts <<<"$test"
		for part in "${parts[@]}"; do
			trim ref "$part"
			refs=$((refs + 1))
			if [[ -z $ref ]]; then
				fail "line $lineno: empty reference in '$test'"
			elif [[ $ref =~ ^[^/:]+\.c:[^:]+$ ]]; then
				check_c_ref "$lineno" "$ref"
			elif [[ $ref == */* && $ref != *:* ]]; then
				check_path_ref "$lineno" "$ref"
			else
				fail "line $lineno: unrecognized test reference '$ref'"
			fi
		done
	fi
done <"$doc"

for f in "${api[@]}"; do
	[[ -n ${documented[$f]:-} ]] || fail "MS_API function $f has no row in docs/errors.md"
done

for u in "${untestable[@]}"; do
	echo "errors_doc_check: untestable: $u"
done
echo "errors_doc_check: $rows rows, $refs test references, ${#api[@]} MS_API functions," \
	"${#untestable[@]} untestable, $failures problem(s)"
((failures == 0))
