# SPDX-License-Identifier: MIT
"""--pcap (user/port/capture.c): a transfer captured and read back with
tshark (every TCP and IPv4 checksum valid, the stream reassembled to the
bytes sent, by hash), pausing and resuming through the API, and
--pcap-size keeping the file small while it still ends with the latest
traffic."""
import hashlib
import os
import subprocess

import pytest

from conftest import api_call, REMOTE, REMOTE6
from tcp_peer import stream
from test_policy import start


def tshark(path, *args):
    r = subprocess.run(["tshark", "-r", path, "-o", "tcp.check_checksum:TRUE",
                        "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE"]
                       + list(args), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout


def follow_server_bytes(path):
    """The first TCP stream's bytes from the server (tshark's raw follow:
    the second party's lines are indented).  Two workers' records may be
    slightly out of time order (capture.c): reordercap sorts them first."""
    subprocess.run(["reordercap", path, path + ".sorted"], check=True, capture_output=True)
    out = tshark(path + ".sorted", "-q", "-z", "follow,tcp,raw,0")
    data = b""
    for line in out.splitlines():
        if line.startswith("\t") and line.strip():
            data += bytes.fromhex(line.strip())
    return data


@pytest.mark.parametrize("family", ["ipv4", "ipv6"])
def test_transfer_captured_with_valid_checksums(xdpslirp, topo, user_dir, api_path, family):
    addr = REMOTE if family == "ipv4" else REMOTE6
    n, seed = 3 << 20, 21
    topo.server(topo.remote, addr, 7201)
    pcap = os.path.join(user_dir, "cap.pcap")
    x = start(xdpslirp, topo, "--pcap", pcap, "--api-socket", api_path)
    r = topo.peer("client", addr, 7201, "down", n, seed)
    assert r.returncode == 0 and r.stdout.startswith("ok"), r.stdout + r.stderr
    cap = api_call(api_path, {"execute": "get_stats"})["return"]["capture"]
    assert cap["dropped_no_room"] == 0, cap     # 4 x 2 MiB per worker hold it all
    assert x.stop() == 0
    status = tshark(pcap, "-Y", "tcp", "-T", "fields", "-e", "tcp.checksum.status").split()
    assert len(status) > 20 and set(status) == {"1"}, set(status)   # 1: good
    if family == "ipv4":
        ip = tshark(pcap, "-Y", "ip", "-T", "fields", "-e", "ip.checksum.status").split()
        assert set(ip) == {"1"}, set(ip)
    want = hashlib.sha256(b"".join(stream(n, seed))).hexdigest()
    assert hashlib.sha256(follow_server_bytes(pcap)).hexdigest() == want
    # nanosecond timestamps, readable by tcpdump too
    r = subprocess.run(["tcpdump", "-r", pcap, "-c", "1", "--nano", "-n"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and r.stdout, r.stderr


def test_capture_paused_and_resumed_through_the_api(xdpslirp, topo, user_dir, api_path):
    pcap = os.path.join(user_dir, "cap.pcap")
    x = start(xdpslirp, topo, "--pcap", pcap, "--api-socket", api_path)

    def ping(count):
        r = topo.guest_run("ping", "-c", str(count), "-i", "0.2", "-W", "2", "10.0.2.2")
        assert r.returncode == 0, r.stdout + r.stderr

    def call(cmd):
        return (api_call(api_path, {"execute": cmd}))

    ping(2)
    off = call("stop_capture")["return"]
    assert off["enabled"] is False
    ping(3)
    assert call("get_stats")["return"]["capture"]["frames"] == off["frames"]
    assert call("start_capture")["return"]["enabled"] is True
    ping(1)
    assert x.stop() == 0
    ids = tshark(pcap, "-Y", "icmp.type == 8", "-T", "fields", "-e", "icmp.seq").split()
    assert ids == ["1", "2", "1"], ids          # the three pings while paused are missing


def test_capture_without_file_is_an_api_error(xdpslirp, topo, api_path):
    x = start(xdpslirp, topo, "--api-socket", api_path)
    r = (api_call(api_path, {"execute": "start_capture"}))
    assert "--pcap FILE" in r["error"]["desc"], r
    assert x.stop() == 0


def test_size_limit_drops_the_oldest_half(xdpslirp, topo, user_dir, api_path):
    topo.server(topo.remote, REMOTE, 7202)
    pcap = os.path.join(user_dir, "cap.pcap")
    x = start(xdpslirp, topo, "--pcap", pcap, "--pcap-size", "8", "--api-socket", api_path)
    r = topo.peer("client", REMOTE, 7202, "down", 64 << 20, 3)
    assert r.returncode == 0 and r.stdout.startswith("ok"), r.stdout + r.stderr
    cap = (api_call(api_path, {"execute": "get_stats"}))["return"]["capture"]
    assert cap["halvings"] >= 4 and cap["file_bytes"] <= 8 << 20, cap
    assert x.stop() == 0
    assert os.path.getsize(pcap) <= 8 << 20
    # still a whole capture, and its newest part: the transfer's end (a FIN
    # of its connection; while a halving runs, the worker may drop frames,
    # counted "dropped_no_room") is there
    ports = tshark(pcap, "-Y", "tcp.flags.fin == 1", "-T", "fields", "-e", "tcp.port")
    assert any("7202" in line.split(",") for line in ports.split()), ports
