#!/usr/bin/env bash
# Build memspace (Release, in build/) if needed and run the demo: the
# `memspace demo` command when the CLI has been built, otherwise the
# embedding example examples/embed.c.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
if [[ ! -f build/CMakeCache.txt ]]; then
	cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
fi
cmake --build build -j2

if [[ -x build/tools/memspace/memspace ]]; then
	exec build/tools/memspace/memspace demo "$@"
fi
exec build/examples/embed
