#!/usr/bin/env bash
# The long runs (docs/testing.md): every fuzz target for MINUTES minutes,
# then the soak tests.
#
#   scripts/soak.sh [MINUTES]        default 20 minutes per fuzz target
#
# Fuzzing: builds the libFuzzer targets (build-fuzz/, clang, -DMS_FUZZ=ON) and
# runs each one with a working corpus in build-fuzz/soak/corpus/<target>/
# (kept from run to run) after the seeds of tests/fuzz/corpus/<target>/
# (read only). A crash, leak, timeout or out-of-memory input is copied to
# tests/fuzz/regressions/<target>/found-<name> so that CTest replays it from
# then on (until it is fixed the build is red: move it to tests/fuzz/pending/
# if the fix must wait, docs/fuzzing.md).
#
# Soak tests: the IOMMU reader/writer stress with MS_SOAK=1 in a Release
# build (build-soak/, MS_SOAK_COMMITS commits, default 10^6) and in a TSan
# build (build-tsan/, MS_SOAK_TSAN_COMMITS commits, default 10^5).
#
# Prints one line per target (runs, exec/s, coverage, result) and one per
# soak run, and exits 1 when anything failed.
#
# Environment: MS_JOBS (default 2) build parallelism; MS_SOAK_TARGETS (the
# targets to fuzz, default all); MS_SOAK_PARALLEL (targets fuzzed at the same
# time, default 1); MS_SOAK_SKIP_FUZZ=1 / MS_SOAK_SKIP_TESTS=1.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

minutes=${1:-20}
if ! [[ "$minutes" =~ ^[0-9]+$ ]] || ((minutes == 0)); then
	echo "usage: $0 [MINUTES]  (a whole number of minutes per fuzz target)" >&2
	exit 2
fi
jobs=${MS_JOBS:-2}
lines=()
failed=0

# Run COMMAND with address-space randomisation off when possible (TSan, as
# in scripts/run-tests.sh).
no_aslr()
{
	if setarch "$(uname -m)" -R true 2>/dev/null; then
		setarch "$(uname -m)" -R "$@"
	else
		"$@"
	fi
}

# Extra libFuzzer options of a target (dictionaries, input sizes).
fuzz_options()
{
	case "$1" in
	script) echo "-dict=$top/tests/fuzz/script.dict -max_len=16384 -timeout=10" ;;
	mtree_import) echo "-dict=$top/tests/fuzz/mtree_import.dict -max_len=32768" ;;
	ram_stream) echo "-max_len=65536" ;;
	*) echo "" ;;
	esac
}

fuzz_target()
{
	local t=$1 bin=$top/build-fuzz/tests/fuzz/fuzz_$1
	local dir=$top/build-fuzz/soak
	local work=$dir/corpus/$t art=$dir/artifacts/$t log=$dir/$t.log
	local runs eps cov result rc f

	mkdir -p "$work" "$art"
	rm -f "$art"/*
	set +e
	# shellcheck disable=SC2046
	(cd "$dir" && nice "$bin" -max_total_time=$((minutes * 60)) -print_final_stats=1 \
		$(fuzz_options "$t") -artifact_prefix="$art/" "$work" "$top/tests/fuzz/corpus/$t" \
		>"$log" 2>&1)
	rc=$?
	set -e
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
	result=ok
	for f in "$art"/*; do
		[[ -e "$f" ]] || continue
		mkdir -p "$top/tests/fuzz/regressions/$t"
		cp "$f" "$top/tests/fuzz/regressions/$t/found-$(basename "$f")"
		result="FOUND $(basename "$f") (kept in tests/fuzz/regressions/$t/; log $log)"
	done
	if [[ $result == ok && $rc -ne 0 ]]; then
		result="FAILED (exit $rc; log $log)"
	fi
	[[ $result == ok ]] || failed=1
	lines+=("$(printf 'fuzz %-14s runs %10s  exec/s %7s  cov %6s  %s' "$t" "${runs:-?}" \
		"${eps:-?}" "${cov:-?}" "$result")")
	echo "${lines[-1]}"
}

soak_test()
{
	local name=$1 dir=$2 commits=$3 log start rc result
	shift 3
	log=$dir/soak-$name.log
	start=$SECONDS
	set +e
	MS_SOAK=1 MS_SOAK_COMMITS=$commits "$@" "$dir/tests/test_concurrency_iommu" >"$log" 2>&1
	rc=$?
	set -e
	result=ok
	if ((rc != 0)); then
		result="FAILED (exit $rc; log $log)"
		failed=1
	fi
	lines+=("$(printf 'soak %-14s %s commits in %ds: %s' "$name" "$commits" \
		$((SECONDS - start)) "$result")")
	echo "${lines[-1]}"
	grep -E 'commits, .* remaps|reader operations' "$log" | sed 's/^/    /' || true
}

if [[ "${MS_SOAK_SKIP_FUZZ:-}" != 1 ]]; then
	cmake -S "$top" -B build-fuzz -DMS_FUZZ=ON -DCMAKE_C_COMPILER=clang \
		-DMS_BUILD_TESTS=OFF -DMS_BUILD_EXAMPLES=OFF -DMS_BUILD_BENCH=OFF >/dev/null
	cmake --build build-fuzz -j "$jobs" >/dev/null
	targets=${MS_SOAK_TARGETS:-$(find build-fuzz/tests/fuzz -maxdepth 1 -type f -executable \
		-name 'fuzz_*' -printf '%f\n' | sed 's/^fuzz_//' | sort)}
	# MS_SOAK_PARALLEL targets at a time (each one is single-threaded): the
	# lines are collected in target order once all have finished.
	par=${MS_SOAK_PARALLEL:-1}
	ldir=$top/build-fuzz/soak/lines
	rm -rf "$ldir"
	mkdir -p "$ldir"
	i=0
	for t in $targets; do
		(
			fuzz_target "$t" >/dev/null
			printf '%s\n' "${lines[-1]}" >"$ldir/$(printf '%03d' $i)"
			echo "${lines[-1]}"
			exit $failed
		) &
		i=$((i + 1))
		while (($(jobs -rp | wc -l) >= par)); do
			wait -n || failed=1
		done
	done
	while (($(jobs -rp | wc -l) > 0)); do
		wait -n || failed=1
	done
	for f in "$ldir"/*; do
		[[ -e "$f" ]] && lines+=("$(cat "$f")")
	done
fi

if [[ "${MS_SOAK_SKIP_TESTS:-}" != 1 ]]; then
	cmake -S "$top" -B build-soak -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build build-soak -j "$jobs" --target test_concurrency_iommu >/dev/null
	soak_test release build-soak "${MS_SOAK_COMMITS:-1000000}"
	cmake -S "$top" -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DMS_WERROR=ON \
		-DMS_SANITIZE=thread >/dev/null
	cmake --build build-tsan -j "$jobs" --target test_concurrency_iommu >/dev/null
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$top/scripts/tsan.supp" \
		soak_test tsan build-tsan "${MS_SOAK_TSAN_COMMITS:-100000}" no_aslr
fi

echo "==== soak summary ($minutes min per fuzz target) ===="
printf '%s\n' "${lines[@]}"
exit $failed
