# SPDX-License-Identifier: MIT
"""Forwarded ports (host -> guest), --forward-to-host, the control API and
the lifecycle hooks.  xdpslirp runs in the test's host namespace; clients
connect to its loopback; the guest runs the servers."""
import json
import os
import pathlib
import subprocess

import pytest

from conftest import api_call, BINARY, CLIENT_ADDR_SERVER, PEER, REMOTE, UDP_PEER, sh, wait_until

MiB = 1 << 20


def start(xdpslirp, topo, *args):
    return xdpslirp("--netns", f"/run/netns/{topo.guest}", *args, netns=topo.host)


def host_peer(topo, *args, peer=PEER, timeout=300):
    """tcp_peer.py (or @peer) as a client in the host namespace."""
    return subprocess.run(["ip", "netns", "exec", topo.host, "/usr/bin/python3", peer] +
                          [str(a) for a in args], capture_output=True, text=True,
                          timeout=timeout)


def guest_server(topo, port, peer=PEER, mode="serve"):
    return topo.server(topo.guest, "10.0.2.100", port, peer=peer, mode=mode)


@pytest.mark.parametrize("mode", ["up", "down", "both"])
def test_publish_tcp_byte_exact(xdpslirp, topo, mode):
    x = start(xdpslirp, topo, "-p", "18080:8080")
    guest_server(topo, 8080)
    r = host_peer(topo, "client", "127.0.0.1", 18080, mode, 64 * MiB, 21)
    assert r.returncode == 0 and r.stdout.startswith("ok"), r.stdout + r.stderr + x.stderr()
    assert x.stop() == 0
    x.assert_frames_accounted()


def test_publish_200_concurrent(xdpslirp, topo):
    x = start(xdpslirp, topo, "-p", "18081:8081")
    guest_server(topo, 8081)
    r = host_peer(topo, "many", "127.0.0.1", 18081, 200, 64 * 1024)
    assert r.returncode == 0 and r.stdout.startswith("ok"), r.stdout + r.stderr + x.stderr()
    x.wait_flows(0)
    assert x.stop() == 0
    x.assert_frames_accounted()     # with several workers: every claim released


def test_publish_udp_and_range(xdpslirp, topo):
    x = start(xdpslirp, topo, "-p", "udp:18090-18091:9090-9091")
    guest_server(topo, 9090, peer=UDP_PEER, mode="echo")
    guest_server(topo, 9091, peer=UDP_PEER, mode="echo")
    for port in (18090, 18091):
        r = host_peer(topo, "flood", "127.0.0.1", port, 200, 20000, port, peer=UDP_PEER)
        assert r.returncode == 0 and r.stdout.startswith("ok"), r.stdout + r.stderr
    assert x.stop() == 0
    x.assert_frames_accounted()     # a forwarded UDP port's claim ends with it


def test_guest_sees_client_address(xdpslirp, topo):
    """A loopback client appears as the gateway; a client elsewhere (the
    remote namespace, connecting to the host's 198.51.100.1) as itself."""
    x = start(xdpslirp, topo, "-p", "18082:8082")
    p = subprocess.Popen(["ip", "netns", "exec", topo.guest, "/usr/bin/python3", "-c",
                          CLIENT_ADDR_SERVER, "10.0.2.100", "8082"], stdout=subprocess.PIPE,
                         text=True)
    topo.servers.append(p)
    assert p.stdout.readline().strip() == "ready"

    def seen_from(ns, addr):
        r = subprocess.run(["ip", "netns", "exec", ns, "/usr/bin/python3", "-c",
                            f"import socket; s = socket.create_connection(('{addr}', 18082), 5);"
                            "print(s.recv(100).decode())"], capture_output=True, text=True)
        return r.stdout.strip()

    assert seen_from(topo.host, "127.0.0.1") == "10.0.2.2"
    assert seen_from(topo.remote, "198.51.100.1") == REMOTE
    assert x.stop() == 0


def test_busy_port_is_an_error(xdpslirp, topo):
    holder = subprocess.Popen(["ip", "netns", "exec", topo.host, "/usr/bin/python3", "-c",
                               "import socket,sys; s=socket.socket(); s.bind(('0.0.0.0',18083));"
                               "s.listen(); print('ready', flush=True); sys.stdin.read()"],
                              stdout=subprocess.PIPE, stdin=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        r = subprocess.run(["ip", "netns", "exec", topo.host, BINARY, "--netns",
                            f"/run/netns/{topo.guest}", "-p", "18083:80"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 1, r.stderr
        assert "18083" in r.stderr and "in use" in r.stderr, r.stderr
    finally:
        holder.kill()
        holder.wait()


def test_forward_to_host_with_host_loopback_disabled(xdpslirp, topo):
    topo.server(topo.host, "127.0.0.1", 5100)
    x = start(xdpslirp, topo, "--disable-host-loopback",
              "--forward-to-host", "tcp:2222:127.0.0.1:5100")
    r = topo.peer("client", "10.0.2.2", 2222, "both", 4 * MiB, 31)
    assert r.returncode == 0 and r.stdout.startswith("ok"), r.stdout + r.stderr + x.stderr()
    r = topo.guest_run("/usr/bin/python3", "-c",
                       "import socket\ntry:\n socket.create_connection(('10.0.2.2', 5100), 5)\n"
                       "except OSError as e:\n print(e.errno)")
    assert r.stdout.strip() == "101", r.stdout      # ENETUNREACH: only the forward works
    assert x.stop() == 0


def test_forward_to_host_udp(xdpslirp, topo):
    topo.server(topo.host, "127.0.0.1", 5101, peer=UDP_PEER, mode="echo")
    x = start(xdpslirp, topo, "--disable-host-loopback",
              "--forward-to-host", "udp:5353:127.0.0.1:5101")
    r = topo.peer("peers", "10.0.2.2:5353", peer=UDP_PEER)
    assert r.stdout.split() == ["10.0.2.2:5353", "10.0.2.2:5353"], r.stdout + r.stderr
    assert x.stop() == 0


# --- control API ---------------------------------------------------------


def test_api_add_list_remove(xdpslirp, topo, api_path):
    x = start(xdpslirp, topo, "--api-socket", api_path)
    assert oct(os.stat(api_path).st_mode & 0o777) == "0o600"
    guest_server(topo, 8084)
    assert api_call(api_path, {"execute": "add_hostfwd", "arguments": {
        "proto": "tcp", "host_addr": "127.0.0.1", "host_port": 18084, "guest_port": 8084}}) == \
        {"return": {"id": 1}}
    assert api_call(api_path, {"execute": "add_hostfwd", "arguments": {
        "proto": "udp", "host_port": 18085, "guest_addr": "10.0.2.100", "guest_port": 53}}) == \
        {"return": {"id": 2}}
    assert api_call(api_path, {"execute": "list_hostfwd"}) == {"entries": [
        {"id": 1, "proto": "tcp", "host_addr": "127.0.0.1", "host_port": 18084,
         "guest_addr": "10.0.2.100", "guest_port": 8084},
        {"id": 2, "proto": "udp", "host_addr": "0.0.0.0", "host_port": 18085,
         "guest_addr": "10.0.2.100", "guest_port": 53}]}
    r = host_peer(topo, "client", "127.0.0.1", 18084, "both", MiB, 41)
    assert r.returncode == 0, r.stdout + r.stderr
    assert api_call(api_path, {"execute": "remove_hostfwd", "arguments": {"id": 1}}) == \
        {"return": {}}
    assert api_call(api_path, {"execute": "list_hostfwd"})["entries"][0]["id"] == 2
    # removed: nobody listens there any more (the worker closes it)
    wait_until(lambda: host_peer(topo, "client", "127.0.0.1", 18084, "up", 10, 1,
                                 timeout=30).returncode != 0, what="forward removed")
    # ids are never reused
    assert api_call(api_path, {"execute": "add_hostfwd", "arguments": {
        "proto": "tcp", "host_port": 18084, "guest_port": 8084}}) == {"return": {"id": 3}}
    workers = api_call(api_path, {"execute": "get_stats"})["return"]["workers"]
    assert sum(w["rx_frames"] for w in workers) > 0, workers
    assert all("flows" in w and "handed_off" in w for w in workers), workers
    flows = api_call(api_path, {"execute": "list_flows"})["return"]["flows"]
    assert isinstance(flows, list)
    assert api_call(api_path, {"execute": "remove_hostfwd", "arguments": {"id": 2}}) == \
        {"return": {}}
    assert x.stop() == 0
    assert not os.path.exists(api_path)
    x.assert_frames_accounted()     # the removed UDP port released its claim


BAD_REQUESTS = [
    "not json",
    "[1, 2]",
    '{"execute": 5}',
    '{"execute": "frobnicate"}',
    '{"execute": "add_hostfwd"}',
    '{"execute": "add_hostfwd", "arguments": {"host_port": 18086, "guest_port": 80}}',
    '{"execute": "add_hostfwd", "arguments": {"proto": "sctp", "host_port": 1, "guest_port": 1}}',
    '{"execute": "add_hostfwd", "arguments": {"proto": "tcp", "host_port": 70000, "guest_port": 80}}',
    '{"execute": "add_hostfwd", "arguments": {"proto": "tcp", "host_port": 0, "guest_port": 80}}',
    '{"execute": "add_hostfwd", "arguments": {"proto": "tcp", "host_port": "80", "guest_port": 80}}',
    '{"execute": "add_hostfwd", "arguments": {"proto": "tcp", "host_addr": "x", "host_port": 1, "guest_port": 1}}',
    '{"execute": "add_hostfwd", "arguments": {"proto": "tcp", "guest_addr": "192.0.2.1", "host_port": 1, "guest_port": 1}}',
    '{"execute": "remove_hostfwd", "arguments": {"id": 999}}',
    '{"execute": "remove_hostfwd", "arguments": {"id": "1"}}',
    '{"execute": "remove_hostfwd"}',
    '{"execute": "list_hostfwd"',
    '{"execute": "list_hostfwd", "arguments": {"padding": "' + "y" * 70000 + '"}}',
]


def test_api_malformed_requests_keep_traffic_flowing(xdpslirp, topo, api_path):
    x = start(xdpslirp, topo, "--api-socket", api_path, "-p", "18087:8087")
    guest_server(topo, 8087)
    for req in BAD_REQUESTS:
        answer = api_call(api_path, req)
        if answer is None and len(req) > 65536:
            continue    # too large: closed while the client was still sending
        assert answer is not None and answer["error"]["desc"].startswith("bad request"), (req, answer)
    # a client that connects and sends nothing, and one that hangs up
    idle = subprocess.Popen(["ip", "netns", "exec", topo.host, "/usr/bin/python3", "-c",
                             "import socket, sys\ns = socket.socket(socket.AF_UNIX)\n"
                             f"s.connect({api_path!r})\nprint(s.recv(1000).decode())"],
                            stdout=subprocess.PIPE, text=True)
    subprocess.run(["ip", "netns", "exec", topo.host, "/usr/bin/python3", "-c",
                    "import socket\ns = socket.socket(socket.AF_UNIX)\n"
                    f"s.connect({api_path!r})\ns.sendall(b'{{\"exec')\ns.close()"], check=True)
    r = host_peer(topo, "client", "127.0.0.1", 18087, "both", 8 * MiB, 51)
    assert r.returncode == 0, r.stdout + r.stderr
    out, _ = idle.communicate(timeout=20)      # answered after the API's timeout
    assert "bad request" in out
    assert api_call(api_path, {"execute": "list_hostfwd"})["entries"][0]["host_port"] == 18087
    assert x.stop() == 0


# --- lifecycle hooks -----------------------------------------------------

def test_exit_fd_and_pid_file(xdpslirp, topo, user_dir):
    """Data on the exit fd is ignored; its end (the writer closes) stops."""
    pid_file = pathlib.Path(user_dir) / "pid"
    r, w = os.pipe()
    try:
        x = xdpslirp("--netns", f"/run/netns/{topo.guest}", "--exit-fd", str(r),
                     "--pid-file", str(pid_file), netns=topo.host, pass_fds=(r,))
    finally:
        os.close(r)
    assert pid_file.read_text().strip() == str(x.proc.pid)     # written before ready
    os.write(w, b"still here")
    assert x.proc.poll() is None
    os.close(w)
    assert x.wait() == 0
    assert "--exit-fd closed" in x.stderr()
    assert not pid_file.exists()


def test_exits_when_namespace_disappears(xdpslirp, topo):
    x = start(xdpslirp, topo)
    sh("ip", "netns", "del", topo.guest)
    assert x.wait(timeout=20) == 0
    assert "namespace ended" in x.stderr()


def test_ctl_client(xdpslirp, topo, api_path):
    x = start(xdpslirp, topo, "--api-socket", api_path)

    def ctl(*args):
        return subprocess.run(["ip", "netns", "exec", topo.host, BINARY, "ctl",
                               "--api-socket", api_path] + list(args),
                              capture_output=True, text=True, timeout=30)

    r = ctl("add", "udp:127.0.0.1:18100:53")
    assert r.returncode == 0 and json.loads(r.stdout) == {"return": {"id": 1}}, r.stderr
    r = ctl("list")
    assert json.loads(r.stdout)["entries"][0]["host_port"] == 18100
    r = ctl("remove", "7")
    assert r.returncode == 1 and "no such forward" in r.stdout
    assert ctl("remove", "1").returncode == 0
    assert ctl("stats").returncode == 0
    assert ctl("bogus").returncode == 2
    assert x.stop() == 0
