#!/usr/bin/env bash
# Check that the Debian packages memspace needs to build and test are
# installed. As root, install the missing ones; otherwise print the command
# to run and exit 1.
set -euo pipefail

# libc6-dev is only a Recommends of gcc; g++ lets tests/headers check the
# headers as C++ too; python3 drives the shell's pseudo-terminal test.
# libclang-rt-dev (clang's sanitizer and libFuzzer runtimes) is only a
# Recommends of clang; the fuzzers and clang's ASan builds need it.
# zlib1g-dev: zlib's crc32() checksums the RAM stream (src/migrate.c).
# chromium: the "browser" test opens `memspace map`'s HTML page headless
# (tests/cli/map_browser.py; it skips itself when chromium is absent).
# doxygen: the API reference (`docs` target; the api_docs test fails on any
# undocumented public symbol).
# meson, ninja-build, libjson-c-dev: the vfio-user tests build the peer libvfio-user
# (tests/vfio_user/); libcmocka-dev is needed by its meson setup too.
packages=(cmake make gcc g++ libc6-dev clang libclang-rt-dev pkg-config liburcu-dev zlib1g-dev
	libcmocka-dev libedit-dev valgrind python3 chromium doxygen meson ninja-build libjson-c-dev)

missing=()
for pkg in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	if [[ "$status" != "install ok installed" ]]; then
		missing+=("$pkg")
	fi
done

if ((${#missing[@]} == 0)); then
	exit 0
fi

echo "deps: missing packages: ${missing[*]}" >&2
if [[ $(id -u) -eq 0 ]]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update
	apt-get install -y --no-install-recommends "${missing[@]}"
else
	echo "deps: install them with:" >&2
	echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
	exit 1
fi
