#!/bin/sh
# make demo: a guest namespace reaches its gateway through xdpslirp, then
# fetches a file from a web server on the host's loopback and checks it.
# Traffic goes only to the host's loopback (the gateway address maps to it)
# and inside the namespace xdpslirp creates and removes.
set -eu
cd "$(dirname "$0")/.."
BIN=build/xdpslirp
PORT=${DEMO_PORT:-18080}
dir=$(mktemp -d)
server=""
cleanup() {
	if [ -n "$server" ]; then
		kill "$server" 2>/dev/null || true
		wait "$server" 2>/dev/null || true
	fi
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM

head -c 256M /dev/urandom >"$dir/file.bin"
want=$(sha256sum <"$dir/file.bin" | cut -d' ' -f1)
/usr/bin/python3 -m http.server --bind 127.0.0.1 --directory "$dir" "$PORT" \
	>/dev/null 2>&1 &
server=$!
# http.server has no readiness signal: ask it, for at most 5 s
i=0
until curl -s -o /dev/null "http://127.0.0.1:$PORT/"; do
	i=$((i + 1))
	[ "$i" -lt 100 ] || { echo "demo: web server did not start" >&2; exit 1; }
	sleep 0.05
done

echo "== xdpslirp -- sh -c '...': a new network namespace, served through XDP + AF_XDP"
echo "== host: 256 MiB file on http://127.0.0.1:$PORT/, sha256 $want"
"$BIN" -- sh -c "
echo '-- inside the guest namespace:'
ip -4 -o addr show dev eth0 | awk '{print \$2, \$4}'
ip route | head -n 1
echo '-- ping the gateway (10.0.2.2):'
ping -c 2 -i 0.2 10.0.2.2 | tail -n 2
echo '-- fetch http://10.0.2.2:$PORT/file.bin (the gateway is the host loopback):'
curl -s -o /tmp/xdpslirp-demo.\$\$ -w 'fetched %{size_download} bytes at %{speed_download} bytes/s\n' \
	http://10.0.2.2:$PORT/file.bin
echo \"guest sha256: \$(sha256sum </tmp/xdpslirp-demo.\$\$ | cut -d' ' -f1)\"
rm -f /tmp/xdpslirp-demo.\$\$
" 2>&1 | grep -v '^xdpslirp: queue\|^xdpslirp: xdp'
echo "== host sha256:  $want"
echo "== done: the namespace and its link are gone"
