#!/usr/bin/env bash
# share_examples.sh: run examples/share-server and examples/share-client
# against each other over a UNIX socket in a scratch directory; both must
# exit 0. Each is bounded (10 s timeouts inside, `timeout 60` outside).
#
#   tests/share_examples.sh SERVER CLIENT
#
# SPDX-License-Identifier: MIT
set -euo pipefail

if (($# != 2)); then
	echo "usage: $0 SERVER CLIENT" >&2
	exit 2
fi
server=$1
client=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
sock=$dir/ram.sock

timeout 60 "$server" "$sock" &
server_pid=$!
client_rc=0
timeout 60 "$client" "$sock" || client_rc=$?
server_rc=0
wait "$server_pid" || server_rc=$?

echo "share_examples: share-server exited $server_rc, share-client exited $client_rc"
if ((server_rc != 0 || client_rc != 0)); then
	exit 1
fi
if [[ -e $sock ]]; then
	echo "share_examples: the server left its socket file behind" >&2
	exit 1
fi
