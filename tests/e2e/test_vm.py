# SPDX-License-Identifier: MIT
"""A real VM: Debian's QEMU (TCG: no KVM here) boots Debian's kernel with a
busybox initramfs, its virtio-net device connected to xdpslirp over a Unix
stream socket (--socket, QEMU's -netdev stream) and over a tap served with
AF_XDP (--ifname on the tap QEMU holds).  The VM gets its address by DHCP
and fetches a file byte-exact from the host's loopback; the whole boot is
read off its serial console.  And a peer of the socket that breaks its
framing."""
import glob
import hashlib
import os
import shutil
import socket
import struct
import subprocess

import pytest

from conftest import framed, recv_framed, sh, unique, wait_until
from pkt import arp_request

# in load order (modules.dep lists each one's dependencies)
MODULES = ["kernel/drivers/virtio/virtio_ring.ko", "kernel/drivers/virtio/virtio.ko",
           "kernel/drivers/virtio/virtio_pci_legacy_dev.ko",
           "kernel/drivers/virtio/virtio_pci_modern_dev.ko", "kernel/drivers/virtio/virtio_pci.ko",
           "kernel/net/core/failover.ko", "kernel/drivers/net/net_failover.ko",
           "kernel/drivers/net/virtio_net.ko"]
PORT = 18190
DATA = os.urandom(2 << 20)
DIGEST = hashlib.sha256(DATA).hexdigest()

INIT = """#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
for m in MODULES; do insmod /lib/modules/$(basename $m) || echo "insmod $m failed"; done
ip link set lo up
ip link set eth0 up
echo "vm: eth0 up"
if udhcpc -i eth0 -n -q -f -t 10 -T 2 -s /dhcp.sh; then
    echo "vm: $(cat /lease)"
    echo "vm: digest $(wget -q -O - http://10.0.2.2:PORT/file.bin | sha256sum)"
fi
echo vm: done
poweroff -f
"""

DHCP_SCRIPT = """#!/bin/sh
[ "$1" = bound ] || exit 0
ip addr add "$ip/$mask" dev "$interface"
ip link set "$interface" mtu "$mtu"
ip route add default via "$router"
echo "ip=$ip router=$router dns=$dns mtu=$mtu" > /lease
"""


def kernel():
    """Debian's kernel (linux-image-amd64) and its module tree."""
    for vmlinuz in sorted(glob.glob("/boot/vmlinuz-*"), reverse=True):
        mods = "/lib/modules/" + vmlinuz.split("vmlinuz-", 1)[1]
        if all(os.path.exists(os.path.join(mods, m)) for m in MODULES):
            return vmlinuz, mods
    pytest.fail("no kernel with virtio-net modules: install linux-image-amd64 (make deps)")


@pytest.fixture(scope="module")
def initramfs(tmp_path_factory):
    """busybox-static, the virtio-net modules and an /init that configures
    eth0 by DHCP, fetches the file and powers off."""
    vmlinuz, mods = kernel()
    root = tmp_path_factory.mktemp("initramfs")
    for d in ("bin", "proc", "sys", "dev", "lib/modules"):
        os.makedirs(root / d)
    shutil.copy("/bin/busybox", root / "bin" / "busybox")
    for applet in set(sh("busybox", "--list").stdout.split()) - {"busybox"}:
        os.symlink("busybox", root / "bin" / applet)
    for m in MODULES:
        shutil.copy(os.path.join(mods, m), root / "lib" / "modules")
    (root / "init").write_text(INIT.replace("MODULES", " ".join(MODULES))
                               .replace("PORT", str(PORT)))
    (root / "dhcp.sh").write_text(DHCP_SCRIPT)
    os.chmod(root / "init", 0o755)
    os.chmod(root / "dhcp.sh", 0o755)
    image = tmp_path_factory.getbasetemp() / "initramfs.cpio.gz"
    subprocess.run(f"cd {root} && find . | cpio -o -H newc --quiet | gzip -1 > {image}",
                   shell=True, check=True)
    return vmlinuz, str(image)


@pytest.fixture
def file_server(netns, tmp_path):
    """The host: a namespace of the test's own, its loopback serving the file."""
    ns = netns()
    (tmp_path / "file.bin").write_bytes(DATA)
    srv = subprocess.Popen(["ip", "netns", "exec", ns, "busybox", "httpd", "-f", "-p",
                            f"127.0.0.1:{PORT}", "-h", str(tmp_path)])
    wait_until(lambda: sh("ip", "netns", "exec", ns, "busybox", "wget", "-q", "-O", "/dev/null",
                          f"http://127.0.0.1:{PORT}/file.bin", check=False).returncode == 0,
               what="file server")
    yield ns
    srv.kill()
    srv.wait()


def boot(initramfs, ns, netdev, device="virtio-net-pci,netdev=n0", cpus=1, then=None,
         timeout=240):
    """Boots the VM in namespace @ns with -netdev @netdev, calls @then()
    once the VM's eth0 is up (its driver has enabled every queue: QEMU
    detaches the queues the guest does not use); returns the console."""
    vmlinuz, image = initramfs
    vm = subprocess.Popen(["ip", "netns", "exec", ns, "qemu-system-x86_64", "-accel", "tcg",
                           "-m", "256", "-smp", str(cpus), "-display", "none", "-serial",
                           "stdio", "-monitor", "none", "-no-reboot", "-kernel", vmlinuz,
                           "-initrd", image, "-append", "console=ttyS0 panic=-1 quiet loglevel=3",
                           "-netdev", netdev, "-device", device],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        head = ""
        if then:
            for line in vm.stdout:
                head += line
                if line.startswith("vm: eth0 up"):
                    break
            then()
        return head + vm.communicate(timeout=timeout)[0]
    finally:
        if vm.poll() is None:
            vm.kill()
            vm.wait()


def rx_queues(ns, ifname):
    out = sh("ip", "netns", "exec", ns, "ls", f"/sys/class/net/{ifname}/queues").stdout
    return sum(q.startswith("rx-") for q in out.split())


def check_console(out, mtu=65520):
    assert f"vm: ip=10.0.2.100 router=10.0.2.2 dns=10.0.2.3 mtu={mtu}" in out, out
    assert f"vm: digest {DIGEST}  -" in out, out


def test_vm_over_stream_socket(xdpslirp, file_server, initramfs, tmp_path):
    sock = str(tmp_path / "vm.sock")
    x = xdpslirp("--socket", sock, netns=file_server)
    out = boot(initramfs, file_server, f"stream,id=n0,server=off,addr.type=unix,addr.path={sock}")
    check_console(out)
    assert "stream: a guest connected" in x.stderr()
    assert x.stop() == 0
    x.assert_frames_accounted()
    assert not os.path.exists(sock)


@pytest.mark.parametrize("queues,mtu", [(1, 1500), (2, 9000), (1, 65520)])
def test_vm_on_a_tap_with_afxdp(xdpslirp, file_server, initramfs, queues, mtu):
    """QEMU holds the tap (the VM's frames arrive through XDP into AF_XDP,
    ours go out of the tap to the VM): xdpslirp --ifname TAP, with its MTU
    (told to the VM by DHCP) and the queues QEMU attached (a multi-queue
    tap's are real only once the VM's driver has enabled them: xdpslirp
    starts after)."""
    tap = unique("xsv")
    sh("ip", "-n", file_server, "tuntap", "add", "name", tap, "mode", "tap",
       *(["multi_queue"] if queues > 1 else []))
    sh("ip", "-n", file_server, "link", "set", tap, "mtu", str(mtu), "up")
    started = []

    def serve():
        assert rx_queues(file_server, tap) == queues
        started.append(xdpslirp("--ifname", tap, netns=file_server))

    if queues == 1:
        serve()

    mq = f",queues={queues},vhost=off" if queues > 1 else ""
    out = boot(initramfs, file_server, f"tap,id=n0,ifname={tap},script=no,downscript=no{mq}",
               device=f"virtio-net-pci,netdev=n0{',mq=on' if queues > 1 else ''}",
               cpus=queues, then=serve if queues > 1 else None)
    check_console(out, mtu)
    x = started[0]
    assert x.stop() == 0
    x.assert_frames_accounted()


def stream_client(path):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(path)
    return s


def arp_framed(mac):
    req = arp_request(mac, socket.inet_aton("10.0.2.100"), socket.inet_aton("10.0.2.2"))
    return framed(req)


def recv_arp(s):
    """The next ARP frame on @s (unsolicited router advertisements, three at
    start, may come before it)."""
    while (f := recv_framed(s))[12:14] != b"\x08\x06":
        pass
    return f


def test_stream_peer_breaking_the_framing(xdpslirp, tmp_path):
    """A peer of the socket is as untrusted as a guest: a length beyond any
    frame's ends its connection (counted); the next peer is served.  Frames
    split across writes, runts and a frame cut by a disconnect change
    nothing."""
    sock = str(tmp_path / "s.sock")
    x = xdpslirp("--socket", sock)
    mac = bytes.fromhex("020000000001")
    s = stream_client(sock)
    req = arp_framed(mac)
    for i in range(len(req)):       # one byte a write
        s.send(req[i:i + 1])
    reply = recv_arp(s)
    assert reply[20:22] == b"\x00\x02", reply.hex()
    assert reply[0:6] == mac
    s.sendall(struct.pack("!I", 3) + b"abc")           # a runt: dropped, counted
    s.sendall(arp_framed(mac))
    assert recv_arp(s)[20:22] == b"\x00\x02"
    s.sendall(struct.pack("!I", 0x7fffffff) + b"x" * 100)
    assert s.recv(100) == b""                           # closed on us
    s.close()
    s = stream_client(sock)
    s.sendall(arp_framed(mac)[:30])                     # gone mid-frame
    s.close()
    s = stream_client(sock)
    s.sendall(arp_framed(mac))
    assert recv_arp(s)[20:22] == b"\x00\x02"
    s.close()
    drops = x.snapshot()["drops"]
    assert drops.get("stream_length") == 1 and sum(drops.values()) >= 2, drops
    assert x.stop() == 0
    x.assert_frames_accounted()
