#!/usr/bin/env bash
# install_check.sh: an installed memspace is usable from outside the tree.
#
#   tests/install_check.sh REPO-ROOT BUILD-DIR CC
#
# Installs BUILD-DIR into a scratch prefix with `cmake --install`, checks the
# installed files (headers, both libraries of each of libmemspace and
# libmemspace-models, memspace.pc, memspace-models.pc, the CMake package and,
# when the command is built, its man page), then builds examples/embed.c and
# examples/tce-dma.c out of tree twice, with pkg-config and with
# find_package(memspace) (targets memspace::memspace and memspace::models),
# and runs each program. Fails (exit 1) at the first step that goes wrong.
#
# SPDX-License-Identifier: MIT
set -euo pipefail

root=$1
build=$2
cc=$3

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
prefix=$scratch/prefix

fail()
{
	echo "install_check: $*" >&2
	exit 1
}

cmake --install "$build" --prefix "$prefix" >"$scratch/install.log" ||
	{ cat "$scratch/install.log" >&2; fail "cmake --install failed"; }

libdir=$(sed -n 's/^CMAKE_INSTALL_LIBDIR:PATH=//p' "$build/CMakeCache.txt")
libdir=${libdir:-lib}
for f in include/memspace.h include/memspace/ctx.h include/memspace/models/tce.h \
	"$libdir/libmemspace.so" "$libdir/libmemspace.a" \
	"$libdir/libmemspace-models.so" "$libdir/libmemspace-models.a" \
	"$libdir/pkgconfig/memspace.pc" "$libdir/pkgconfig/memspace-models.pc" \
	"$libdir/cmake/memspace/memspaceConfig.cmake" \
	"$libdir/cmake/memspace/memspaceConfigVersion.cmake" \
	"$libdir/cmake/memspace/memspaceTargets.cmake"; do
	[[ -e "$prefix/$f" ]] || fail "$f is not installed"
done
if grep -q '^MS_BUILD_TOOLS:BOOL=ON' "$build/CMakeCache.txt"; then
	[[ -e "$prefix/share/man/man1/memspace.1" ]] || fail "the man page is not installed"
fi

# check PROGRAM: run it and compare with what the examples print.
check()
{
	local out
	out=$("$1") || fail "$1 exited with $?"
	case "$(basename "$1")" in
	embed*) [[ "$out" == "FlatView #0"* && "$out" == *"(prio 0, ram): ram"* ]] ;;
	tce*) [[ "$out" == *"RAM 0x3008: via TCE"* && "$out" == *"without an entry: refused"* ]] ;;
	esac || fail "$1 printed: $out"
	echo "install_check: $(basename "$1"): ok"
}

# With pkg-config (the prefix's .pc files come first), rpath to the prefix.
export PKG_CONFIG_PATH=$prefix/$libdir/pkgconfig
mkdir "$scratch/pc"
# shellcheck disable=SC2046 # pkg-config's words are separate arguments
"$cc" -o "$scratch/pc/embed" "$root/examples/embed.c" $(pkg-config --cflags --libs memspace) \
	-Wl,-rpath,"$prefix/$libdir" || fail "embed.c does not build with pkg-config"
# shellcheck disable=SC2046
"$cc" -o "$scratch/pc/tce-dma" "$root/examples/tce-dma.c" \
	$(pkg-config --cflags --libs memspace-models) -Wl,-rpath,"$prefix/$libdir" ||
	fail "tce-dma.c does not build with pkg-config"
check "$scratch/pc/embed"
check "$scratch/pc/tce-dma"

# With find_package(memspace): a project of its own, configured against the prefix.
mkdir "$scratch/project"
cat >"$scratch/project/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.16)
project(consumer LANGUAGES C)
find_package(memspace 0.3 REQUIRED)
add_executable(embed $root/examples/embed.c)
target_link_libraries(embed PRIVATE memspace::memspace)
add_executable(tce-dma $root/examples/tce-dma.c)
target_link_libraries(tce-dma PRIVATE memspace::models)
add_executable(embed-static $root/examples/embed.c)
target_link_libraries(embed-static PRIVATE memspace::memspace_static)
CMAKE
cmake -S "$scratch/project" -B "$scratch/project/build" -DCMAKE_C_COMPILER="$cc" \
	-DCMAKE_PREFIX_PATH="$prefix" >"$scratch/cmake.log" 2>&1 ||
	{ cat "$scratch/cmake.log" >&2; fail "find_package(memspace) failed"; }
cmake --build "$scratch/project/build" >"$scratch/build.log" 2>&1 ||
	{ cat "$scratch/build.log" >&2; fail "the find_package project does not build"; }
check "$scratch/project/build/embed"
check "$scratch/project/build/tce-dma"
check "$scratch/project/build/embed-static"
echo "install_check: ok"
