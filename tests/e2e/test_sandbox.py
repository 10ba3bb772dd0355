# SPDX-License-Identifier: MIT
"""The sandbox (user/sys/sandbox.c): what a running engine holds, read from
/proc/PID (capabilities, NoNewPrivs, seccomp mode, an empty root, its own
mount/IPC/UTS namespaces, the user it runs as), and every feature working
under the seccomp filter, whose missing call would kill the process
(SIGSYS: the test sees -31 instead of 0 at exit)."""
import os
import signal
import subprocess

import pytest

from conftest import (api_call, BINARY, EXTRA_ARGS, proc_status, REMOTE, REMOTE6, ROOTLESS,
                      run_command_mode, sh)
from test_slirp4netns import slirp  # noqa: F401 (a fixture)
from test_policy import CONNECT, DATAGRAM, UDP_PEER, guest, start
from test_udp import guest_udp, udp_server

# the sanitized builds run unsandboxed (make check-full runs every suite there)
pytestmark = pytest.mark.skipif("--no-sandbox" in EXTRA_ARGS,
                                reason="the engine runs with --no-sandbox here")

CAP_KILL, CAP_NET_BIND_SERVICE, CAP_NET_RAW = 5, 10, 13


def expected_caps(command=False):
    """What sandbox.c keeps: root's runtime capabilities, none rootless."""
    if ROOTLESS:
        return 0
    return (1 << CAP_NET_BIND_SERVICE) | (1 << CAP_NET_RAW) | ((1 << CAP_KILL) if command else 0)


def same_ns(pid, kind, other="self"):
    return os.stat(f"/proc/{pid}/ns/{kind}").st_ino == os.stat(f"/proc/{other}/ns/{kind}").st_ino


def assert_confined(pid, command=False, netns_path=None):
    st = proc_status(pid)
    assert st["NoNewPrivs"] == "1", st
    assert st["Seccomp"] == "2", st
    assert int(st["CapEff"], 16) == expected_caps(command), st["CapEff"]
    assert int(st["CapPrm"], 16) == expected_caps(command), st["CapPrm"]
    assert int(st["CapBnd"], 16) == expected_caps(command), st["CapBnd"]
    assert st["Uid"].split() == [ROOTLESS or "65534"] * 4, st["Uid"]
    assert os.listdir(f"/proc/{pid}/root") == []
    for kind in ("mnt", "ipc", "uts"):
        assert not same_ns(pid, kind), kind
    assert same_ns(pid, "user") == (not ROOTLESS)
    if netns_path:      # the datapath's sockets stay in the namespace it started in
        assert os.stat(f"/proc/{pid}/ns/net").st_ino == os.stat(netns_path).st_ino


def test_a_running_engine_is_confined(xdpslirp, topo, api_path):
    x = start(xdpslirp, topo, "--api-socket", api_path)
    assert_confined(x.proc.pid, netns_path=f"/run/netns/{topo.host}")
    sb = (api_call(api_path, {"execute": "get_stats"}))["return"]["sandbox"]
    names = {"net_bind_service", "net_raw"} if not ROOTLESS else set()
    assert sb == {"namespaces": True, "seccomp": True, "seccomp_workers": True,
                  "own_user_namespace": bool(ROOTLESS),
                  "uid": int(ROOTLESS or 65534), "capabilities": sb["capabilities"]}
    assert set(sb["capabilities"]) == names
    assert x.stop() == 0
    assert not os.path.exists(api_path)     # the reaper removed it


def test_every_feature_under_the_filter(xdpslirp, topo, api_path):
    """TCP and UDP both families, ping, DNS, forwards (at start and through
    the API), rules at run time with a reset, flows, stats, counters on
    SIGUSR1, and the orderly exit: all under the filter."""
    topo.server(topo.remote, REMOTE, 7101)
    topo.server(topo.remote, REMOTE6, 7101)
    topo.server(topo.remote, REMOTE, 7102, peer=UDP_PEER, mode="echo")
    topo.server(topo.remote, REMOTE6, 7102, peer=UDP_PEER, mode="echo")
    udp_server(topo, "loopback", 5391, mode="dns")
    x = start(xdpslirp, topo, "--api-socket", api_path, "--dns-upstream", "127.0.0.1:5391",
              "-p", "127.0.0.1:7103:7103", "--deny", f"tcp://{REMOTE}:7104")
    r = topo.peer("client", REMOTE, 7101, "both", 1 << 20, 7)
    assert r.returncode == 0 and r.stdout.startswith("ok"), r.stdout + r.stderr
    r = topo.peer("client", REMOTE6, 7101, "both", 1 << 20, 8)
    assert r.returncode == 0 and r.stdout.startswith("ok"), r.stdout + r.stderr
    assert guest(topo, DATAGRAM, REMOTE, 7102) == "answer policy?"
    assert guest(topo, DATAGRAM, REMOTE6, 7102) == "answer policy?"
    for addr in (REMOTE, REMOTE6):
        r = topo.guest_run("ping", "-c", "1", "-W", "2", addr)
        assert r.returncode == 0, r.stdout + r.stderr
    r = guest_udp(topo, "query", "10.0.2.3", 53, "xdpslirp.test", "udp")
    assert r.stdout.startswith("rcode 0 id 4242 ip 192.0.2.13"), r.stdout + r.stderr
    assert guest(topo, CONNECT, REMOTE, 7104) == "ECONNREFUSED"

    # forwards: one from the command line, one added through the API
    g = topo.guest_run("sh", "-c", "true")  # the guest is up
    assert g.returncode == 0
    srv = subprocess.Popen(["ip", "netns", "exec", topo.guest, "/usr/bin/python3",
                            os.path.join(os.path.dirname(__file__), "tcp_peer.py"),
                            "serve", "0.0.0.0", "7103"], stdout=subprocess.PIPE, text=True)
    topo.servers.append(srv)
    assert srv.stdout.readline().strip() == "ready"
    add = (api_call(api_path, {"execute": "add_hostfwd", "arguments": {
        "proto": "tcp", "host_addr": "127.0.0.1", "host_port": 7105, "guest_port": 7103}}))
    assert "id" in add["return"], add
    for port in (7103, 7105):
        r = subprocess.run(["ip", "netns", "exec", topo.host, "/usr/bin/python3",
                            os.path.join(os.path.dirname(__file__), "tcp_peer.py"),
                            "client", "127.0.0.1", str(port), "up", str(1 << 18), "9"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and r.stdout.startswith("ok"), r.stdout + r.stderr

    # rules at run time, flows, stats, counters
    rid = (api_call(api_path, {"execute": "add_rule", "arguments": {
        "rule": f"tcp://{REMOTE}:7101", "action": "deny", "reset": True}}))["return"]["id"]
    assert guest(topo, CONNECT, REMOTE, 7101) == "ECONNREFUSED"
    rules = (api_call(api_path, {"execute": "list_rules"}))["return"]["entries"]
    assert any(e["id"] == rid and e["hits"] >= 1 for e in rules), rules
    assert "return" in (api_call(api_path, {"execute": "remove_rule",
                                                       "arguments": {"id": rid}}))
    assert guest(topo, CONNECT, REMOTE, 7101) == "connected"
    assert "flows" in (api_call(api_path, {"execute": "list_flows"}))["return"]
    assert "workers" in (api_call(api_path, {"execute": "get_stats"}))["return"]
    assert x.snapshot()["rx_frames"]      # SIGUSR1's counters
    assert x.proc.poll() is None, "killed under the filter:\n" + x.stderr()
    assert x.stop() == 0, x.stderr()


@pytest.mark.skipif(bool(ROOTLESS), reason="COMMAND mode as root: CAP_KILL kept")
def test_command_mode_is_confined_and_signals_command(tmp_path):
    """-- COMMAND as root: the engine runs as nobody, keeps CAP_KILL for
    COMMAND (still root), passes it SIGTERM, and ends with its status."""
    pid_file = tmp_path / "pid"
    script = "trap 'exit 7' TERM; touch %s/up; while :; do sleep 0.1; done" % tmp_path
    p = subprocess.Popen([BINARY, "--pid-file",
                          str(pid_file), "--", "sh", "-c", script],
                         stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(500):
            if (tmp_path / "up").exists():
                break
            try:
                p.wait(0.02)
                break
            except subprocess.TimeoutExpired:
                pass
        assert (tmp_path / "up").exists(), p.stderr.read() if p.poll() is not None else ""
        assert_confined(int(pid_file.read_text()), command=True)
        p.send_signal(signal.SIGTERM)
        assert p.wait(20) == 7
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert not pid_file.exists()


def test_no_sandbox_keeps_everything(xdpslirp, topo):
    x = start(xdpslirp, topo, "--no-sandbox")
    st = proc_status(x.proc.pid)
    assert st["Seccomp"] == "0" and st["NoNewPrivs"] == "0", st
    assert os.listdir(f"/proc/{x.proc.pid}/root") != []
    assert st["Uid"].split()[0] == (ROOTLESS or "0")
    assert x.stop() == 0


@pytest.mark.skipif(bool(ROOTLESS), reason="a bad --runas is a root start's error")
def test_runas_unknown_user_is_an_error():
    r = run_command_mode("--runas", "no-such-user-xdpslirp", "--", "true")
    assert r.returncode != 0 and r.returncode != -31
    assert "--runas no-such-user-xdpslirp: no such user" in r.stderr, r.stderr


@pytest.mark.skipif(bool(ROOTLESS), reason="the drop-in's rootful call")
@pytest.mark.parametrize("flags", [(), ("--enable-seccomp",), ("--enable-sandbox", "--enable-seccomp")],
                         ids=["none", "seccomp", "sandbox+seccomp"])
def test_slirp4netns_flags_map_to_the_sandbox(slirp, netns, flags):  # noqa: F811
    """As slirp4netns, each part is on only when its flag asks for it."""
    ns = netns()
    s = slirp(*flags, "-c", "-r", "4", "--netns-type=path", f"/run/netns/{ns}", "tap0",
              ready_fd=4)
    s.wait_ready()
    st = proc_status(s.proc.pid)
    seccomp = "--enable-seccomp" in flags
    assert st["Seccomp"] == ("2" if seccomp else "0"), st
    assert st["NoNewPrivs"] == ("1" if seccomp else "0"), st
    assert (os.listdir(f"/proc/{s.proc.pid}/root") == []) == ("--enable-sandbox" in flags)
    r = sh("ip", "netns", "exec", ns, "ping", "-c", "1", "-W", "2", "10.0.2.2", check=False)
    assert r.returncode == 0, r.stdout + s.output()
