#!/usr/bin/env bash
# Build and test memspace.
#
#   scripts/run-tests.sh quick   Debug -Werror build (build-test/), tests labelled "quick"
#   scripts/run-tests.sh [full]  every stage below, stopping at the first failure:
#     debug     Debug -Werror build (build-test/), all tests (the "browser" ones
#               too: headless Chromium, skipped with a message when it is absent)
#     asan      ASan+UBSan build (build-asan/, clang when it can link sanitizers), all tests
#     tsan      TSan build (build-tsan/), tests labelled "concurrency" (or "unit" if none)
#     valgrind  memcheck over the unit-test and example binaries of the Debug build,
#               and over the CLI golden tests (tests/cli)
#
# Environment: MS_JOBS (default 2) build and test parallelism; MS_PROP_SEED and
# MS_PROP_COUNT are passed through to the property tests.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

mode=${1:-full}
case "$mode" in
quick | full) ;;
*)
	echo "usage: $0 [quick|full]" >&2
	exit 2
	;;
esac
jobs=${MS_JOBS:-2}
passed=0
failed=0
report=()

banner()
{
	printf '\n==== %s ====\n' "$*"
}

summary()
{
	banner "summary ($mode)"
	local line
	for line in "${report[@]}"; do
		echo "  $line"
	done
	echo "run-tests: $passed passed, $failed failed"
}

# stage NAME DESCRIPTION FUNCTION: run FUNCTION, time it, stop at the first failure.
stage()
{
	local name=$1 description=$2 start status
	banner "stage $name: $description"
	start=$SECONDS
	set +e
	(set -e; "$3")
	status=$?
	set -e
	if ((status == 0)); then
		passed=$((passed + 1))
		report+=("$(printf '%-9s passed in %4ds' "$name" $((SECONDS - start)))")
	else
		failed=$((failed + 1))
		report+=("$(printf '%-9s FAILED in %4ds (exit %d)' "$name" $((SECONDS - start)) "$status")")
		summary
		exit 1
	fi
}

# configure DIR CMAKE-ARGS...: configure (or re-configure) DIR and build it.
configure_and_build()
{
	local dir=$1
	shift
	cmake -S "$top" -B "$dir" -DCMAKE_BUILD_TYPE=Debug -DMS_WERROR=ON "$@"
	cmake --build "$dir" -j "$jobs"
}

# run_ctest DIR CTEST-ARGS...
run_ctest()
{
	local dir=$1
	shift
	(cd "$dir" && ctest --output-on-failure --timeout 900 -j "$jobs" "$@")
}

# A compiler for the ASan+UBSan build: clang when it can link a sanitized
# program (Debian ships clang's runtimes in a package clang only recommends),
# otherwise gcc.
asan_compiler()
{
	local probe
	probe=$(mktemp -d)
	echo 'int main(void) { return 0; }' >"$probe/probe.c"
	if command -v clang >/dev/null &&
		clang -fsanitize=address,undefined -o "$probe/probe" "$probe/probe.c" 2>/dev/null; then
		echo clang
	else
		echo gcc
	fi
	rm -rf "$probe"
}

# Run COMMAND with address-space randomisation off when possible: the TSan
# runtimes of gcc 12 and clang 14 fail on kernels with high mmap entropy.
no_aslr()
{
	if setarch "$(uname -m)" -R true 2>/dev/null; then
		setarch "$(uname -m)" -R "$@"
	else
		"$@"
	fi
}

stage_quick()
{
	configure_and_build build-test
	run_ctest build-test -L quick
}

stage_debug()
{
	configure_and_build build-test
	# The "browser" tests (memspace map's HTML page in headless Chromium) are among them.
	if ! command -v chromium >/dev/null; then
		echo "run-tests: chromium is not installed: the browser tests will be skipped" \
			"(scripts/deps.sh installs it)"
	fi
	run_ctest build-test
}

stage_asan()
{
	local cc
	cc=$(asan_compiler)
	echo "run-tests: ASan+UBSan build with $cc"
	configure_and_build build-asan -DCMAKE_C_COMPILER="$cc" -DMS_SANITIZE=address
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		run_ctest build-asan
}

stage_tsan()
{
	local label=concurrency
	configure_and_build build-tsan -DMS_SANITIZE=thread
	if (cd build-tsan && ctest -N -L concurrency | grep -q '^Total Tests: 0$'); then
		label=unit
	fi
	echo "run-tests: TSan over tests labelled \"$label\""
	(cd build-tsan &&
		TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$top/scripts/tsan.supp" \
			no_aslr ctest --output-on-failure --timeout 900 -j "$jobs" -L "$label")
}

# Valgrind memcheck over every test binary labelled "unit" or "example" of the
# Debug build, MS_JOBS at a time, each limited to 15 minutes; the logs are kept
# in build-test/valgrind/.
stage_valgrind()
{
	local commands logdir
	logdir=$top/build-test/valgrind
	rm -rf "$logdir"
	mkdir -p "$logdir"
	commands=$(cd build-test && ctest -N -V -L '^(unit|example)$' |
		sed -n 's/^[0-9]*: Test command: //p')
	if [[ -z "$commands" ]]; then
		echo "run-tests: no unit-test binaries found" >&2
		return 1
	fi
	# shellcheck disable=SC2016 # expanded by the inner shell
	printf '%s\n' "$commands" | xargs -d '\n' -P "$jobs" -I '{}' bash -c '
		logdir=$2
		set -- $1
		log=$logdir/$(basename "$1").log
		cd "$(dirname "$1")" # where ctest runs it
		rc=0
		timeout 900 valgrind --quiet --error-exitcode=1 --leak-check=full \
			--errors-for-leak-kinds=definite,indirect --log-file="$log" "$@" \
			>"$log.out" 2>&1 || rc=$?
		if ((rc == 0)); then
			echo "valgrind: $(basename "$1"): clean"
		else
			echo "valgrind: $(basename "$1"): FAILED (exit $rc)"
			cat "$log.out" "$log"
			exit 1
		fi' valgrind '{}' "$logdir"
	valgrind_cli "$logdir"
}

# The CLI golden tests (label "golden") under memcheck: run-golden.sh puts
# $MS_CLI_WRAPPER before the memspace command. A memcheck error or leak makes
# the command exit 99, which fails the test; the logs are kept in
# build-test/valgrind/cli-PID.log.
valgrind_cli()
{
	local logdir=$1
	if (cd build-test && ctest -N -L golden | grep -q '^Total Tests: 0$'); then
		echo "run-tests: no CLI golden tests (MS_BUILD_TOOLS off?)"
		return 0
	fi
	if ! (cd build-test &&
		MS_CLI_WRAPPER="valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect --log-file=$logdir/cli-%p.log" \
			ctest --output-on-failure --timeout 900 -j "$jobs" -L golden); then
		grep -l -E 'ERROR SUMMARY: [1-9]|definitely lost|indirectly lost' "$logdir"/cli-*.log |
			xargs -r cat
		return 1
	fi
	echo "valgrind: CLI golden tests: clean"
}

if [[ "$mode" == quick ]]; then
	banner "dependencies"
	bash scripts/deps.sh
	stage quick "Debug -Werror build, tests labelled quick" stage_quick
else
	banner "dependencies"
	bash scripts/deps.sh
	stage debug "Debug -Werror build, all tests" stage_debug
	stage asan "ASan+UBSan build, all tests" stage_asan
	stage tsan "TSan build, concurrency tests" stage_tsan
	stage valgrind "valgrind memcheck over the Debug unit tests and CLI golden tests" stage_valgrind
fi
summary
