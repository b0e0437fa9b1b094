#!/usr/bin/env bash
# Build memspace (Release, in build/) if needed and run the demo: the
# `memspace demo` command when the CLI has been built, otherwise the
# embedding example examples/embed.c.
#
#   scripts/run-demo.sh [DEMO OPTIONS]   the PC-like machine (memspace demo)
#   scripts/run-demo.sh vfio-user        a device in another process: starts the
#                                        test device on libvfio-user and runs
#                                        examples/vfio-user.ms against it
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
if [[ ! -f build/CMakeCache.txt ]]; then
	cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
fi

if [[ "${1:-}" == vfio-user ]]; then
	# The test device is built with the tests, when libvfio-user's source,
	# meson, ninja and json-c are there (tests/vfio_user/CMakeLists.txt).
	targets=$(cmake --build build --target help)
	if [[ $targets != *" vfu_server"* ]]; then
		echo "run-demo: the vfio-user demo needs the test device built on libvfio-user," >&2
		echo "run-demo: which this build does not have: it needs the peer's source in" >&2
		echo "run-demo: ../shared/peers/libvfio-user (or cmake -DMS_PEERS_DIR=DIR), meson," >&2
		echo "run-demo: ninja and json-c, and the tests enabled (MS_BUILD_TESTS=ON); cmake's" >&2
		echo "run-demo: output says which is missing (vfio-user interoperability tests skipped)." >&2
		exit 1
	fi
	cmake --build build -j2 --target memspace_tool vfu_server >/dev/null
	top=$PWD
	dir=$(mktemp -d)
	server_pid=
	cleanup() {
		if [[ -n $server_pid ]]; then
			kill "$server_pid" 2>/dev/null || true
			wait "$server_pid" 2>/dev/null || true
		fi
		rm -rf "$dir"
	}
	trap cleanup EXIT
	server=$(find build/tests/vfio_user -maxdepth 1 -name vfu_server -type f | head -n 1)
	"$top/$server" "$dir/dev.sock" </dev/null &
	server_pid=$!
	for _ in $(seq 500); do
		[[ -S $dir/dev.sock ]] && break
		sleep 0.01
	done
	echo "run-demo: test device (pid $server_pid) listening on $dir/dev.sock"
	cp examples/vfio-user.ms "$dir/"
	(cd "$dir" && "$top/build/tools/memspace/memspace" run vfio-user.ms)
	exit $?
fi

cmake --build build -j2

if [[ -x build/tools/memspace/memspace ]]; then
	exec build/tools/memspace/memspace demo "$@"
fi
exec build/examples/embed
