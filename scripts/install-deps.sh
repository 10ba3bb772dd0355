#!/bin/sh
# Install what building and testing xdpslirp needs, from Debian's archive only.
# Idempotent: packages already present are skipped, and apt-get runs only when
# something is missing.  Needs root for the install step.  With --bench: what
# the benchmark needs instead.
set -eu

PACKAGES="make gcc pkg-config clang llvm libclang-rt-14-dev
libbpf-dev libxdp-dev bpftool libmnl-dev libjansson-dev libseccomp-dev libcap-ng-dev
linux-libc-dev
libcmocka-dev python3-pytest iproute2 iputils-ping procps nftables curl cpio
ndisc6 isc-dhcp-client python3-scapy tshark tcpdump
podman runc conmon uidmap rootlesskit containernetworking-plugins busybox-static
qemu-system-x86 linux-image-amd64"

# make bench also needs the peers it measures against
if [ "${1:-}" = "--bench" ]; then
	PACKAGES="iperf3 passt slirp4netns util-linux sockperf wrk nginx-light gnuplot-nox"
fi

# The tap backend and rootless users open /dev/net/tun; Debian's udev makes
# it 0666, a machine without udev leaves it 0600 (root only).
ensure_tun() {
	[ -c /dev/net/tun ] || return 0
	[ "$(id -u)" -eq 0 ] || return 0
	chmod 0666 /dev/net/tun
}
ensure_tun

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages:$missing" >&2
	echo "install-deps: run 'make deps' as root, or install them with apt-get" >&2
	exit 1
fi

echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
