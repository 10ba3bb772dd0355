#!/bin/sh
# make demo: a guest namespace reaches its gateway through xdpslirp.
# Everything stays inside a namespace xdpslirp creates and removes.
set -eu
cd "$(dirname "$0")/.."
BIN=build/xdpslirp

echo "== xdpslirp -- sh -c '...': a new network namespace, served through XDP + AF_XDP"
"$BIN" -- sh -c '
echo "-- inside the guest namespace:"
ip -4 -o addr show dev eth0
ip route
echo "-- ping the gateway (10.0.2.2) and the DNS address (10.0.2.3):"
ping -c 3 -i 0.2 10.0.2.2
ping -c 1 10.0.2.3 | tail -n 2
echo "-- a 60000-byte ping (multi-buffer frames both ways):"
ping -c 2 -i 0.2 -s 60000 10.0.2.2 | tail -n 2
'
echo "== done: the namespace and its link are gone"
