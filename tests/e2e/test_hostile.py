# SPDX-License-Identifier: MIT
"""A hostile guest: garbage frames are dropped and counted, the engine keeps
answering, and no frame is leaked."""
import os

from conftest import in_netns

GARBAGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "garbage.py")


def test_10000_garbage_frames_then_ping(xdpslirp, topo):
    """Inside the isolated topology: whatever the garbage asks for (UDP to
    the gateway, DNS, DHCP, fragments) stays in the test's namespaces."""
    seed = int.from_bytes(os.urandom(4), "little")
    x = xdpslirp("--netns", f"/run/netns/{topo.guest}", "--dns-upstream", "127.0.0.1:5399",
                 netns=topo.host)
    r = topo.guest_run("sh", "-c",
                       "ping -c 1 -W 2 10.0.2.2 >/dev/null && "
                       f"/usr/bin/python3 {GARBAGE} eth0 10000 {seed} 65534 && "
                       "ping -c 3 -i 0.2 -W 2 10.0.2.2", timeout=300)
    assert r.returncode == 0, f"seed {seed}\n{r.stdout}\n{r.stderr}\n{x.stderr()}"
    sent = int(r.stdout.splitlines()[0])
    assert sent >= 9000, r.stdout
    assert "3 received" in r.stdout
    assert x.stop() == 0
    x.assert_frames_accounted()
    dropped = x.counters()["dropped"]
    # a third of the frames are random bytes, nearly all dropped and counted;
    # mutated templates may be valid enough to be served
    assert dropped >= sent // 4, x.stderr()


def test_sigusr1_prints_counters(xdpslirp, netns):
    """Counters while running; the time between two pings, spent asleep,
    counts as neither working nor spinning."""
    ns = netns()
    x = xdpslirp("--netns", f"/run/netns/{ns}")
    assert in_netns(ns, "ping", "-c", "3", "-i", "0.2", "-W", "2", "10.0.2.2").returncode == 0
    snap = x.snapshot()
    assert sum(snap["rx_frames"].values()) >= 4, x.stderr()
    assert sum(snap["tx_frames"].values()) >= 3, x.stderr()
    assert snap["working_ms"] < 100, x.stderr()     # the pings took 400 ms
    assert x.stop() == 0
