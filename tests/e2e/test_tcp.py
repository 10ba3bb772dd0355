# SPDX-License-Identifier: MIT
"""TCP termination: the guest's connections become host sockets.  Every
transfer is compared by hash; servers run on the test host namespace's
loopback (reached as the gateway) and in the remote namespace."""
import re
import time

import pytest

from conftest import REMOTE

MiB = 1 << 20


def start(xdpslirp, topo, *args):
    return xdpslirp("--netns", f"/run/netns/{topo.guest}", *args, netns=topo.host)


@pytest.mark.parametrize("where", ["loopback", "remote"])
@pytest.mark.parametrize("mode", ["up", "down", "both"])
def test_transfer_256mib(xdpslirp, topo, where, mode):
    ns, addr, dst = ((topo.host, "127.0.0.1", "10.0.2.2") if where == "loopback"
                     else (topo.remote, REMOTE, REMOTE))
    topo.server(ns, addr, 5001)
    x = start(xdpslirp, topo)
    r = topo.peer("client", dst, 5001, mode, 256 * MiB, 42)
    assert r.returncode == 0 and r.stdout.startswith("ok"), r.stdout + r.stderr + x.stderr()
    assert x.stop() == 0
    x.assert_frames_accounted()


def test_refused_port_is_fast(xdpslirp, topo):
    x = start(xdpslirp, topo)
    r = topo.guest_run("/usr/bin/python3", "-c", """
import socket, time
t = time.monotonic()
try:
    socket.create_connection(("10.0.2.2", 1), timeout=5)
    print("connected?!")
except ConnectionRefusedError:
    print("refused %.1f ms" % ((time.monotonic() - t) * 1000))
""")
    m = re.match(r"refused ([\d.]+) ms", r.stdout)
    assert m, r.stdout + r.stderr
    assert float(m.group(1)) < 100
    assert x.stop() == 0


def test_half_close_guest_first(xdpslirp, topo):
    topo.server(topo.host, "127.0.0.1", 5002)
    x = start(xdpslirp, topo)
    r = topo.peer("halfclose", "10.0.2.2", 5002, 8 * MiB)
    assert r.returncode == 0, r.stdout + r.stderr + x.stderr()
    assert x.stop() == 0


def test_half_close_host_first(xdpslirp, topo):
    """down: the server closes after sending; the guest keeps reading to EOF,
    and then closes its own side."""
    topo.server(topo.remote, REMOTE, 5003)
    x = start(xdpslirp, topo)
    r = topo.peer("client", REMOTE, 5003, "down", 8 * MiB, 3)
    assert r.returncode == 0, r.stdout + r.stderr + x.stderr()
    assert x.stop() == 0


def test_slow_reader_blocks_guest_without_loss(xdpslirp, topo):
    topo.server(topo.host, "127.0.0.1", 5004)
    x = start(xdpslirp, topo)
    r = topo.peer("blocked", "10.0.2.2", 5004, 64 * MiB)
    assert r.returncode == 0, r.stdout + r.stderr + x.stderr()
    assert "blocked after" in r.stdout
    assert x.stop() == 0


def test_host_rst_reaches_guest(xdpslirp, topo):
    topo.server(topo.host, "127.0.0.1", 5005)
    x = start(xdpslirp, topo)
    r = topo.guest_run("/usr/bin/python3", "-c", """
import socket
s = socket.create_connection(("10.0.2.2", 5005), timeout=5)
s.sendall(b"rst 0 0\\n")
try:
    while s.recv(100):
        pass
    print("eof")
except ConnectionResetError:
    print("reset")
""")
    assert r.stdout.strip() == "reset", r.stdout + r.stderr
    assert x.stop() == 0


def test_1000_concurrent_connections(xdpslirp, topo):
    topo.server(topo.host, "127.0.0.1", 5006)
    x = start(xdpslirp, topo)
    r = topo.peer("many", "10.0.2.2", 5006, 1000, 64 * 1024)
    assert r.returncode == 0, r.stdout + r.stderr + x.stderr()
    assert x.stop() == 0
    x.assert_frames_accounted()
