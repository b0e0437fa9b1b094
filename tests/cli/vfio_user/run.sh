#!/usr/bin/env bash
# Golden tests of the vfio-user commands against the test device on
# libvfio-user (tests/vfio_user/vfu_server.c).
#
#   run.sh SERVER SKIP-REASON MEMSPACE NAME    (run in tests/cli/vfio_user/)
#
# With SERVER empty the test is skipped (exit 77) with SKIP-REASON. Else
# NAME.ms and NAME.out are copied into a fresh directory, where one server
# is started per socket the script's "# servers: A.sock B.sock" line names
# (default: dev.sock), plus stale.sock, a socket bound by nobody listening;
# then ../run-golden.sh runs the script there (its directives apply) and the
# servers still alive are killed. MS_CLI_UPDATE=1 copies NAME.out back.
set -u
server=$1
skip=$2
exe=$3
name=$4
here=$PWD

if [[ -z $server ]]; then
	echo "skipped: ${skip:-libvfio-user was not built}"
	exit 77
fi
dir=$(mktemp -d)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	rm -rf "$dir"
}
trap cleanup EXIT
cp "$name.ms" "$name.out" "$dir/"

socks=$(sed -n 's/^# servers: *//p' "$name.ms" | head -n 1)
for sock in ${socks:-dev.sock}; do
	"$server" "$dir/$sock" >>"$dir/server.log" 2>&1 </dev/null &
	pids+=($!)
done
for sock in ${socks:-dev.sock}; do
	for _ in $(seq 500); do
		[[ -S $dir/$sock ]] && break
		sleep 0.01
	done
	if [[ ! -S $dir/$sock ]]; then
		echo "run.sh: the server did not create $sock" >&2
		cat "$dir/server.log" >&2
		exit 1
	fi
done
# A socket that exists but where nothing listens: connect() is refused.
python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' \
	"$dir/stale.sock" 2>/dev/null

(cd "$dir" && "$here/../run-golden.sh" "$exe" "$name")
status=$?
if [[ "${MS_CLI_UPDATE:-}" == 1 ]]; then
	cp "$dir/$name.out" "$here/$name.out"
fi
exit $status
