# SPDX-License-Identifier: MIT
"""xdpslirp daemon: one engine, guests added and removed through the API.

The daemon runs in the test's host namespace; each guest is a namespace of
the test's own, its traffic checked by hash (tcp_peer.py)."""
import os
import socket
import struct
import subprocess

import pytest

from conftest import (BACKEND, BINARY, EXTRA_ARGS, PEER, REMOTE, ROOTLESS, SANITIZED, api_call,
                      in_netns, link_exists, proc_status, sh, status_kib, stop_daemons, unique,
                      wait_until)

pytestmark = pytest.mark.skipif(BACKEND == "tap" or ROOTLESS,
                                reason="the daemon serves veth guests over AF_XDP, as root")

MiB = 1 << 20


@pytest.fixture
def daemon(xdpslirp, topo, user_dir):
    """start(*args): a daemon in the host namespace, its API socket at
    .api, its state file (if asked for) at .state.  At the end, any daemon
    still serving one of its sockets is stopped: the process the xdpslirp
    fixture kills may be a wrapper whose child, the daemon, outlives it."""
    apis = []

    def start(*args, state=False):
        api = os.path.join(user_dir, unique("d") + ".sock")
        extra = ("--state-file", os.path.join(user_dir, "state.json")) if state else ()
        x = xdpslirp("--api-socket", api, *extra, *args, netns=topo.host, daemon=True)
        x.api = api
        apis.append(api)
        return x
    yield start
    for api in apis:
        stop_daemons(api)


def add_guest(x, name, ns, *options):
    return api_call(x.api, {"execute": "add_guest", "arguments": {
        "name": name, "netns": f"/run/netns/{ns}", "options": list(options)}})


def guest_names(x):
    return sorted(g["name"] for g in
                  api_call(x.api, {"execute": "list_guests"})["return"]["guests"])


def client(ns, mode, n, seed, port=5401, dst="10.0.2.2"):
    """tcp_peer.py client in guest namespace @ns, started."""
    return subprocess.Popen(["ip", "netns", "exec", ns, "/usr/bin/python3", PEER, "client",
                             dst, str(port), mode, str(n), str(seed)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish(p, timeout=300):
    out, _ = p.communicate(timeout=timeout)
    assert p.returncode == 0 and out.startswith("ok"), out
    return out


def test_daemon_serves_guests_added_and_removed(daemon, topo):
    """Two guests at once, both byte-exact, with the same addresses in
    their own namespaces; removing one deletes its link and leaves the
    other served; the daemon stops with every frame and flow accounted."""
    topo.server(topo.host, "127.0.0.1", 5401)
    x = daemon()
    other = topo.extra_netns()
    a = add_guest(x, "a", topo.guest)
    b = add_guest(x, "b", other)
    assert a["return"]["name"] == "a" and b["return"]["name"] == "b", (a, b)
    assert guest_names(x) == ["a", "b"]
    runs = [client(topo.guest, "both", 32 * MiB, 1), client(other, "both", 32 * MiB, 2)]
    for p in runs:
        finish(p)
    link_a = a["return"]["host_ifname"]
    assert link_exists(link_a, topo.host)
    assert api_call(x.api, {"execute": "remove_guest", "arguments": {"name": "a"}}) == \
        {"return": {}}
    assert not link_exists(link_a, topo.host)
    assert guest_names(x) == ["b"]
    finish(client(other, "up", 8 * MiB, 3))
    assert x.stop() == 0
    x.assert_frames_accounted()
    assert not link_exists(b["return"]["host_ifname"], topo.host)


def test_daemon_guest_commands_and_forwards(daemon, topo):
    """Gateway commands name their guest: a forward added for one guest
    reaches that guest's server; each guest's counters are its own."""
    x = daemon()
    other = topo.extra_netns()
    assert "return" in add_guest(x, "a", topo.guest)
    assert "return" in add_guest(x, "b", other, "--cidr", "10.0.3.0/24")
    topo.server(other, "10.0.3.100", 80)
    fwd = {"execute": "add_hostfwd", "arguments": {
        "guest": "b", "proto": "tcp", "host_addr": "127.0.0.1", "host_port": 18401,
        "guest_port": 80}}
    assert api_call(x.api, fwd) == {"return": {"id": 1}}
    r = in_netns(topo.host, "/usr/bin/python3", PEER, "client", "127.0.0.1", "18401", "both",
                 str(4 * MiB), "7", timeout=120)
    assert r.returncode == 0 and r.stdout.startswith("ok"), r.stdout + r.stderr
    listed = api_call(x.api, {"execute": "list_hostfwd", "arguments": {"guest": "b"}})
    assert [e["host_port"] for e in listed["entries"]] == [18401]
    assert api_call(x.api, {"execute": "list_hostfwd", "arguments": {"guest": "a"}}) == \
        {"entries": []}
    rx = {g: sum(w["rx_frames"] for w in api_call(x.api, {
        "execute": "get_stats", "arguments": {"guest": g}})["return"]["workers"])
        for g in ("a", "b")}
    # b's 4 MiB came in frames of at most 64 KiB; a only announced itself
    assert rx["b"] >= 64 and rx["a"] < 16, rx
    assert x.stop() == 0


def test_daemon_state_file_serves_guests_again(daemon, topo):
    """A daemon restarted with the same state file serves the same guests,
    with their options."""
    topo.server(topo.host, "127.0.0.1", 5401)
    x = daemon(state=True)
    assert "return" in add_guest(x, "a", topo.guest, "--mtu", "9000")
    assert x.stop() == 0
    y = daemon(state=True)
    assert guest_names(y) == ["a"]
    mtu = sh("ip", "-n", topo.guest, "-j", "link", "show", "eth0").stdout
    assert '"mtu":9000' in mtu, mtu
    finish(client(topo.guest, "both", 8 * MiB, 4))
    assert api_call(y.api, {"execute": "remove_guest", "arguments": {"name": "a"}}) == \
        {"return": {}}
    assert y.stop() == 0
    z = daemon(state=True)
    assert guest_names(z) == []
    assert z.stop() == 0


def test_daemon_removes_a_guest_whose_namespace_ends(daemon, topo):
    x = daemon()
    ns = topo.extra_netns()
    link = add_guest(x, "gone", ns)["return"]["host_ifname"]
    subprocess.run(["ip", "netns", "del", ns], check=True)
    wait_until(lambda: guest_names(x) == [], what="the guest removed")
    assert not link_exists(link, topo.host)
    assert "guest gone: its link is gone" in x.stderr()
    assert x.stop() == 0


def test_daemon_tap_guest(daemon, topo):
    """A guest served over a tap in its namespace (--backend tap), next to
    a veth guest: both byte-exact at once; the tap guest is removed when
    its namespace ends (the tap holds the namespace: the daemon watches
    what named it)."""
    topo.server(topo.host, "127.0.0.1", 5401)
    x = daemon()
    tap_ns = topo.extra_netns()
    added = add_guest(x, "tap", tap_ns, "--backend", "tap", "--cidr", "10.0.5.0/24")
    assert added["return"]["host_ifname"] == "eth0", added
    assert "return" in add_guest(x, "veth", topo.guest)
    runs = [client(tap_ns, "both", 16 * MiB, 1, dst="10.0.5.2"),
            client(topo.guest, "both", 16 * MiB, 2)]
    for p in runs:
        finish(p)
    assert "over a tap fd" in x.stderr()
    subprocess.run(["ip", "netns", "del", tap_ns], check=True)
    wait_until(lambda: guest_names(x) == ["veth"], what="the tap guest removed")
    assert "guest tap: its namespace ended" in x.stderr()
    assert x.stop() == 0
    x.assert_frames_accounted()


def peer_plan(n):
    """Guest .n of 10.0.9.0/24 and fd09::/64, gateway .1 and ::1 (as an
    IPAM plugin hands them out)."""
    return ["--address", f"10.0.9.{n}/24", "--gateway", "10.0.9.1",
            "--address6", f"fd09::{n}/64", "--gateway6", "fd09::1"]


def switched(x, name):
    stats = api_call(x.api, {"execute": "get_stats", "arguments": {"guest": name}})
    return sum(w["switched"] for w in stats["return"]["workers"])


def test_daemon_peer_group_switches_guests(daemon, topo):
    """Guests of one --peer-group reach each other's addresses in both
    families, byte-exact, switched inside the engine (counted; no host
    socket); a guest of the subnet but of no group reaches neither, nor do
    they reach it; a second guest of the group with a taken address is
    refused, and a standalone gateway refuses the option."""
    x = daemon()
    b, c = topo.extra_netns(), topo.extra_netns()
    assert "return" in add_guest(x, "a", topo.guest, "--peer-group", "pods", *peer_plan(10))
    assert "return" in add_guest(x, "b", b, "--peer-group", "pods", *peer_plan(11))
    assert "return" in add_guest(x, "c", c, *peer_plan(12))
    topo.server(b, "0.0.0.0", 5411)
    topo.server(b, "::", 5412)
    finish(client(topo.guest, "both", 32 * MiB, 1, port=5411, dst="10.0.9.11"))
    finish(client(topo.guest, "both", 16 * MiB, 2, port=5412, dst="fd09::11"))
    r = in_netns(topo.guest, "ping", "-c", "1", "-W", "2", "10.0.9.11")
    assert r.returncode == 0, r.stdout
    # each sent 48 MiB in frames of at most 64 KiB: at least 768 frames
    assert switched(x, "a") > 700 and switched(x, "b") > 700
    assert api_call(x.api, {"execute": "list_flows", "arguments": {"guest": "a"}}) \
        ["return"]["flows"] == []                         # no host socket was used
    for src, dst in ((c, "10.0.9.11"), (topo.guest, "10.0.9.12")):
        r = in_netns(src, "ping", "-c", "1", "-W", "1", dst)
        assert r.returncode != 0, r.stdout
    assert switched(x, "c") == 0
    taken = add_guest(x, "d", topo.extra_netns(), "--peer-group", "pods", *peer_plan(11))
    assert "pods has that address" in taken["error"]["desc"], taken
    r = subprocess.run([BINARY, "--peer-group", "pods", "--", "true"], capture_output=True,
                       text=True)
    assert r.returncode == 2 and "daemon" in r.stderr, r.stderr
    assert x.stop() == 0
    x.assert_frames_accounted()


CONNECT = """
import errno, socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
    print("connected")
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e)))
"""


def pcap_ipv4_addresses(path):
    """The IPv4 source and destination addresses of every frame of a pcap
    file (nanosecond or microsecond timestamps, Ethernet)."""
    with open(path, "rb") as f:
        data = f.read()
    assert struct.unpack("<I", data[:4])[0] in (0xa1b23c4d, 0xa1b2c3d4), "not a pcap file"
    seen, off = set(), 24
    while off + 16 <= len(data):
        incl = struct.unpack("<I", data[off + 8:off + 12])[0]
        frame = data[off + 16:off + 16 + incl]
        if len(frame) >= 34 and frame[12:14] == b"\x08\x00":
            seen |= {socket.inet_ntoa(frame[26:30]), socket.inet_ntoa(frame[30:34])}
        off += 16 + incl
    return seen


def test_daemon_guest_capture_and_host_networks(daemon, topo, user_dir):
    """A guest's --pcap holds its frames and none of another guest's, and
    start/stop_capture reach it; --block-host-networks denies that guest
    the host's on-link network, which another guest still reaches."""
    topo.server(topo.remote, REMOTE, 5413)
    x = daemon()
    other = topo.extra_netns()
    pcap = os.path.join(user_dir, "a.pcap")
    assert "return" in add_guest(x, "a", topo.guest, "--pcap", pcap, "--block-host-networks")
    assert "return" in add_guest(x, "b", other, "--cidr", "10.0.3.0/24")
    assert in_netns(topo.guest, "/usr/bin/python3", "-c", CONNECT, REMOTE, "5413").stdout \
        .strip() == "ECONNREFUSED"                          # on-link 198.51.100.0/24
    assert in_netns(other, "/usr/bin/python3", "-c", CONNECT, REMOTE, "5413").stdout \
        .strip() == "connected"
    assert in_netns(topo.guest, "ping", "-c", "1", "-W", "2", "10.0.2.2").returncode == 0
    stopped = api_call(x.api, {"execute": "stop_capture", "arguments": {"guest": "a"}})
    assert stopped["return"]["enabled"] is False and stopped["return"]["frames"] > 0, stopped
    assert "error" in api_call(x.api, {"execute": "stop_capture", "arguments": {"guest": "b"}})
    assert api_call(x.api, {"execute": "remove_guest", "arguments": {"name": "a"}}) == \
        {"return": {}}                                      # the file is complete now
    seen = pcap_ipv4_addresses(pcap)
    assert {"10.0.2.100", "10.0.2.2", REMOTE} <= seen, seen
    assert not any(a.startswith("10.0.3.") for a in seen), seen
    assert x.stop() == 0


@pytest.mark.parametrize("options, size", [((), 64 * MiB), (("--mtu", "1500"), 16 * MiB)],
                         ids=["large", "small"])
def test_daemon_one_guest_flooding_does_not_starve_another(daemon, topo, options, size):
    """Guest a keeps four connections moving data both ways as fast as it
    can; guest b's transfer, through the same workers, still completes
    (with the standalone gateway's UMEMs, and with small ones: at MTU
    1500 and a window of 32 frames, b moves a few MB/s against a's flood,
    scripts/bench.md)."""
    topo.server(topo.host, "127.0.0.1", 5401)
    x = daemon()
    other = topo.extra_netns()
    add_guest(x, "a", topo.guest, *options)
    add_guest(x, "b", other, *options)
    flood = [client(topo.guest, "both", 1 << 34, 10 + i) for i in range(4)]
    try:
        wait_until(lambda: sum(g["flows"] for g in api_call(x.api, {
            "execute": "list_guests"})["return"]["guests"]) >= 4, what="the flood")
        finish(client(other, "both", size, 5), timeout=120)
    finally:
        for p in flood:
            p.kill()
            p.wait()
    assert x.stop() == 0


@pytest.mark.parametrize("request_, error", [
    ({"execute": "add_guest"}, "needs a \"name\""),
    ({"execute": "add_guest", "arguments": {"name": "bad name", "netns": "/x"}},
     "needs a \"name\""),
    ({"execute": "add_guest", "arguments": {"name": "a"}}, "network namespace"),
    ({"execute": "add_guest", "arguments": {"name": "a", "netns": "/x", "pid": 1}},
     "network namespace"),
    ({"execute": "add_guest", "arguments": {"name": "a", "netns": "/nonexistent"}},
     "cannot open the guest's network namespace"),
    ({"execute": "add_guest", "arguments": {"name": "a", "netns": "/x",
                                            "options": ["--mtu", "x"]}}, "--mtu"),
    ({"execute": "add_guest", "arguments": {"name": "a", "netns": "/x",
                                            "options": ["--queues", "2"]}}, "the daemon's"),
    ({"execute": "add_guest", "arguments": {"name": "a", "netns": "/x",
                                            "options": [1]}}, "array of at most"),
    ({"execute": "remove_guest", "arguments": {"name": "nobody"}}, "no such guest"),
    ({"execute": "list_flows"}, "name the guest"),
    ({"execute": "get_stats", "arguments": {"guest": "nobody"}}, "no such guest"),
])
def test_daemon_bad_requests(daemon, request_, error):
    x = daemon()
    answer = api_call(x.api, request_)
    assert error in answer["error"]["desc"], answer
    assert guest_names(x) == []
    assert x.stop() == 0


def test_daemon_duplicate_name_and_bad_command_line(daemon, topo):
    x = daemon()
    assert "return" in add_guest(x, "a", topo.guest)
    dup = add_guest(x, "a", topo.extra_netns())
    assert "a guest of that name exists" in dup["error"]["desc"]
    assert x.stop() == 0
    for args in (["daemon"], ["daemon", "--queues", "0", "--api-socket", "/tmp/x"],
                 ["daemon", "--api-socket"], ["daemon", "--bogus"]):
        r = subprocess.run([BINARY, *args],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 2 and "xdpslirp daemon:" in r.stderr, (args, r.stderr)


# what sandbox.c's daemon_caps[] keeps (of those the test holds)
DAEMON_CAPS = {"dac_override": 1, "dac_read_search": 2, "net_bind_service": 10,
               "net_admin": 12, "net_raw": 13, "ipc_lock": 14, "sys_ptrace": 19,
               "sys_admin": 21, "sys_resource": 24, "perfmon": 38, "bpf": 39}


def threads_by_seccomp(pid):
    """The process's threads counted by seccomp mode (0 none, 2 filter)."""
    modes = [proc_status(pid, t)["Seccomp"]
             for t in os.listdir(f"/proc/{pid}/task")]
    return {m: modes.count(m) for m in set(modes)}


@pytest.mark.skipif("--no-sandbox" in EXTRA_ARGS, reason="the daemon runs with --no-sandbox here")
def test_daemon_keeps_its_capabilities_and_confines_its_workers(daemon, topo):
    """The daemon holds only the capabilities adding a guest takes, the
    bounding set too, with NoNewPrivs; every worker (and no other thread)
    runs under the seccomp filter, and a guest's data still moves; with
    --no-sandbox, none of it."""
    topo.server(topo.host, "127.0.0.1", 5401)
    held = int(proc_status("self")["CapEff"], 16)
    caps = sum(1 << c for c in DAEMON_CAPS.values()) & held
    x = daemon()
    add_guest(x, "a", topo.guest)
    finish(client(topo.guest, "both", 4 * MiB, 3))
    st = proc_status(x.proc.pid)
    assert (st["NoNewPrivs"], int(st["CapEff"], 16), int(st["CapPrm"], 16),
            int(st["CapBnd"], 16)) == ("1", caps, caps, caps), st
    stats = api_call(x.api, {"execute": "get_stats", "arguments": {"guest": "a"}})["return"]
    assert threads_by_seccomp(x.proc.pid).get("2") == len(stats["workers"])
    assert stats["sandbox"] == {
        "namespaces": False, "seccomp": False, "seccomp_workers": True,
        "own_user_namespace": False, "uid": 0,
        "capabilities": sorted((n for n, c in DAEMON_CAPS.items() if caps & (1 << c)),
                               key=DAEMON_CAPS.get)}
    assert x.stop() == 0
    x = daemon("--no-sandbox")
    add_guest(x, "a", topo.guest)
    assert int(proc_status(x.proc.pid)["CapBnd"], 16) == held
    assert "2" not in threads_by_seccomp(x.proc.pid)
    assert api_call(x.api, {"execute": "get_stats", "arguments": {"guest": "a"}})[
        "return"]["sandbox"] == {"namespaces": False, "seccomp": False, "seccomp_workers": False}
    assert x.stop() == 0


@pytest.mark.skipif(SANITIZED, reason="a sanitizer's shadow memory")
def test_daemon_another_guest_costs_at_most_1_mib(daemon, topo):
    """Guests at MTU 1500 get small UMEMs: past the first few, another
    idle guest adds at most 1 MiB resident."""
    x = daemon()
    for i in range(4):
        assert "return" in add_guest(x, f"g{i}", topo.extra_netns(), "--mtu", "1500")
    before = status_kib(x.proc.pid, "VmRSS")
    for i in range(4, 20):
        assert "return" in add_guest(x, f"g{i}", topo.extra_netns(), "--mtu", "1500")
    per_guest = (status_kib(x.proc.pid, "VmRSS") - before) / 16
    assert per_guest <= 1024, f"{per_guest:.0f} KiB a guest"
    assert x.stop() == 0
    x.assert_frames_accounted()


def test_daemon_guest_window_fits_its_small_umem(daemon, topo):
    """A guest at MTU 1500 is offered a TCP window of at most 32 frames,
    what its small UMEM's fill ring is sure to take beside its ACKs
    (xsk.c), so it waits instead of sending frames to be dropped."""
    topo.server(topo.host, "127.0.0.1", 5401)
    x = daemon()
    add_guest(x, "a", topo.guest, "--mtu", "1500")
    conn = subprocess.Popen(
        ["ip", "netns", "exec", topo.guest, "/usr/bin/python3", "-c",
         "import socket, sys; s = socket.create_connection(('10.0.2.2', 5401));"
         "print('connected', flush=True); sys.stdin.readline()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert conn.stdout.readline().strip() == "connected"
        info = in_netns(topo.guest, "ss", "-tniH", "dst", "10.0.2.2").stdout
        wnd = int(info.split("snd_wnd:")[1].split()[0])
        assert 0 < wnd <= 32 * 1460, info
    finally:
        conn.stdin.close()
        conn.wait()
    assert x.stop() == 0


def test_daemon_two_guests_upload_at_once(daemon, topo):
    """Two guests with small UMEMs (MTU 1500) each upload 32 MiB at the
    same time: both byte-exact."""
    topo.server(topo.host, "127.0.0.1", 5401)
    x = daemon()
    other = topo.extra_netns()
    add_guest(x, "a", topo.guest, "--mtu", "1500")
    add_guest(x, "b", other, "--mtu", "1500")
    runs = [client(ns, "up", 32 * MiB, 20 + i) for i, ns in enumerate((topo.guest, other))]
    for p in runs:
        finish(p, timeout=120)
    assert x.stop() == 0
    x.assert_frames_accounted()


def test_daemon_100_guests_moving_data_at_once(daemon, topo):
    """One daemon, 100 guests, each moving 2 MiB both ways at the same
    time: every byte checked."""
    topo.server(topo.host, "127.0.0.1", 5401)
    x = daemon()
    guests = [topo.extra_netns() for _ in range(100)]
    for i, ns in enumerate(guests):
        answer = add_guest(x, f"g{i}", ns)
        assert "return" in answer, answer
    runs = [client(ns, "both", 2 * MiB, 100 + i) for i, ns in enumerate(guests)]
    for p in runs:
        finish(p, timeout=600)
    assert x.stop() == 0
    x.assert_frames_accounted()
