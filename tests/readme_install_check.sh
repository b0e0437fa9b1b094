#!/usr/bin/env bash
# readme_install_check.sh: the README's steps for an install outside the
# system paths work as written.
#
#   tests/readme_install_check.sh REPO-ROOT BUILD-DIR
#
# Takes the ```sh blocks of the README section "Using an install outside the
# system paths" and runs them, in order and in one shell, in a scratch
# directory where `build` is BUILD-DIR, `examples` is the repository's and
# $HOME is the scratch directory (so the install lands there). Each `./embed`
# must print the flat view; the block without an rpath must not start
# without LD_LIBRARY_PATH, as the README says. Fails (exit 1) when the section
# or its blocks are missing or a step fails.
#
# SPDX-License-Identifier: MIT
set -euo pipefail

root=$1
build=$2
heading='### Using an install outside the system paths'

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
ln -s "$build" "$scratch/build"
ln -s "$root/examples" "$scratch/examples"

awk -v h="$heading" '
	$0 == h { on = 1; next }
	on && /^#/ { exit }
	on && /^```sh$/ { code = 1; next }
	on && /^```$/ { code = 0; next }
	on && code { print }
' "$root/README.md" >"$scratch/steps.sh"
if ! grep -q 'cmake --install' "$scratch/steps.sh" || ! grep -q 'rpath' "$scratch/steps.sh" ||
	! grep -q 'LD_LIBRARY_PATH' "$scratch/steps.sh"; then
	echo "readme_install_check: README.md has no '$heading' section with install," \
		"rpath and LD_LIBRARY_PATH steps" >&2
	exit 1
fi

cd "$scratch"
# The steps' output must show embed's flat view twice (rpath, LD_LIBRARY_PATH).
if ! HOME=$scratch PKG_CONFIG_PATH= bash -euo pipefail steps.sh >out.txt 2>&1; then
	cat out.txt >&2
	echo "readme_install_check: the README's steps failed" >&2
	exit 1
fi
if [ "$(grep -c '^FlatView #0$' out.txt)" -ne 2 ]; then
	cat out.txt >&2
	echo "readme_install_check: ./embed did not print its flat view twice" >&2
	exit 1
fi
# The second block built embed without an rpath: it must need LD_LIBRARY_PATH
# (unless this machine has a libmemspace in the loader's own paths).
if ! { /sbin/ldconfig -p 2>/dev/null || true; } | grep -q 'libmemspace\.so\.0 ' &&
	env -u LD_LIBRARY_PATH ./embed >/dev/null 2>&1; then
	echo "readme_install_check: embed without an rpath started without LD_LIBRARY_PATH;" \
		"the README's warning is wrong here" >&2
	exit 1
fi
echo "readme_install_check: ok"
