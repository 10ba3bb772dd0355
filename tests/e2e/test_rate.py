# SPDX-License-Identifier: MIT
"""Bandwidth limits (--ingress-rate, --egress-rate; user/flow/shaper.c): a
transfer takes at least what the rate allows past the burst, byte-exact by
hash; bad values are refused."""
import time

import pytest

from conftest import run_command_mode
from test_tcp import exchange, start
from test_udp import udp_server

MiB = 1 << 20
RATE = 40_000_000       # bits a second: 5 MB/s
BURST = RATE // 10      # the default: a tenth of a second


@pytest.mark.parametrize("mode, option", [("up", "--egress-rate"), ("down", "--ingress-rate")])
def test_transfer_keeps_to_the_rate(xdpslirp, topo, mode, option):
    """8 MiB one way at 40 Mbit/s takes at least (8 MiB - burst) / 5 MB/s,
    where it would take a hundredth of that unlimited."""
    n = 8 * MiB
    start = time.monotonic()
    exchange(xdpslirp, topo, "loopback", "client", mode, n, 7, xargs=(option, str(RATE)))
    took = time.monotonic() - start
    least = (n - BURST / 8) / (RATE / 8)
    assert took >= 0.95 * least, f"{took:.2f} s, at least {least:.2f} s"
    print(f"{mode}: {took:.2f} s, {n * 8 / took / 1e6:.1f} Mbit/s")


# in the guest: COUNT datagrams of 1000 bytes to an echo server, one a
# millisecond (the host's socket buffers never overflow), then the echoes
# that come within half a second more, counted
ECHOES = """
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE
s.connect((sys.argv[1], int(sys.argv[2])))
for i in range(int(sys.argv[3])):
    s.send(bytes(1000))
    time.sleep(0.001)
s.settimeout(0.5)
got = 0
try:
    while True:
        s.recv(2000)
        got += 1
except socket.timeout:
    pass
print(got)
"""


@pytest.mark.parametrize("limit", [False, True])
def test_datagrams_past_the_ingress_rate_are_dropped(xdpslirp, topo, limit):
    """600 echoes of 1000 bytes over 0.6 s and more: all arrive unlimited;
    at 1 Mbit/s, no more than the burst (at its floor, two 64 KiB frames:
    130 of them) and what the rate adds while they come (125 a second)."""
    udp_server(topo, "loopback", 6101)
    x = start(xdpslirp, topo, *(("--ingress-rate", "1M:0") if limit else ()))
    start_ = time.monotonic()
    r = topo.guest_run("/usr/bin/python3", "-c", ECHOES, "10.0.2.2", "6101", "600")
    most = 130 + 125 * (time.monotonic() - start_)
    assert r.returncode == 0, r.stderr
    got = int(r.stdout)
    assert (100 <= got <= most) if limit else got == 600, (got, most)
    assert x.stop() == 0


@pytest.mark.parametrize("value", ["", "0", "999", "10X", "1001G", "10M:", "10M:x", "-5M"])
def test_bad_rates_are_refused(value):
    r = run_command_mode("--ingress-rate", value, "--netns", "/nonexistent")
    assert r.returncode == 2 and "--ingress-rate" in r.stderr, r.stderr
