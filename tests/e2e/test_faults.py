# SPDX-License-Identifier: MIT
"""Faults and exhaustion: what a hostile or broken world does to the engine,
each ending with every byte compared (hashes) and the engine's exit audit
clean (no flow, socket or frame left over).

- out of file descriptors: new flows refused (RST), old ones carry on;
- 200 flows through a link that loses, duplicates and reorders both ways;
- host servers that reset, stop reading or vanish mid-transfer;
- the guest's namespace deleted, or its link removed, mid-transfer;
- SIGKILL 50 times under traffic, a new instance on the same link each time;
- a VM that never reads its frames; reassembly slots full;
- the flow table full, and 300 API clients at once.
"""
import os
import socket
import socketserver
import struct
import subprocess
import threading

import pytest

from conftest import (BINARY, EXTRA_ARGS, PEER, REMOTE, UDP_PEER, framed, in_netns, links_with_xdp,
                      recv_framed, sh, unique, wait_until)
from pkt import arp_request, fragments, udp

# In the guest: up to COUNT connections to 10.0.2.2:PORT, those past what
# the engine can take refused (RST); the established ones still echo; once
# CLOSE of them end, AGAIN new ones are taken again (within 20 s)
GUEST = """
import socket, sys, time
port, count, close, want = (int(a) for a in sys.argv[1:5])
# a FIFO whose writer the test holds open: opened now (it has a writer, so
# this does not block), read at the end (until the test closes its end)
hold = open(sys.argv[5]) if len(sys.argv) > 5 else None
conns, refused = [], 0
for i in range(count):
    s = socket.socket()
    s.settimeout(10)
    try:
        s.connect(("10.0.2.2", port))
        conns.append(s)
    except ConnectionRefusedError:
        refused += 1
        s.close()
print("open", len(conns), "refused", refused)
for s in conns:
    s.sendall(b"ping")
    assert s.recv(4) == b"ping"
for s in conns[:close]:
    s.close()
deadline, again = time.monotonic() + 20, 0
while time.monotonic() < deadline and again < want:
    s = socket.socket()
    s.settimeout(10)
    try:
        s.connect(("10.0.2.2", port))
        s.sendall(b"ping")
        again += s.recv(4) == b"ping"
        conns.append(s)
    except ConnectionRefusedError:
        time.sleep(0.05)            # the closed ones end on the engine's time
print("again", again, flush=True)
if hold:                            # the flows stay until the test is done
    hold.read()
"""


class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            b = self.request.recv(4096)
            if not b:
                return
            self.request.sendall(b)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512


@pytest.mark.parametrize("backend", ["xdp", "tap"])
def test_out_of_descriptors_refuses_new_flows_only(backend):
    srv = Server(("127.0.0.1", 0), Echo)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        # COMMAND inherits the limit too: it holds fewer descriptors
        r = subprocess.run(["prlimit", "--nofile=160:160", BINARY, *EXTRA_ARGS, "--queues",
                            "2", "--backend", backend, "--", "/usr/bin/python3", "-c", GUEST,
                            str(srv.server_address[1]), "150", "66", "1"],
                           capture_output=True, text=True, timeout=120)
    finally:
        srv.shutdown()
        srv.server_close()
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.split("\n")
    _, opened, _, refused = lines[0].split()
    assert int(opened) > 20 and int(refused) > 0, r.stdout
    assert lines[1] == "again 1", r.stdout + r.stderr
    warnings = r.stderr.count("out of file descriptors")
    assert 1 <= warnings <= 2, r.stderr     # once per worker at most, not per flow


# faults of the engine's own toward the guest, and from it, per mille
FAULTS = ("--test-tx-loss", "10", "--test-tx-dup", "10", "--test-tx-reorder", "20",
          "--test-rx-dup", "10", "--test-rx-reorder", "20")


@pytest.mark.parametrize("backend", ["xdp", "tap"])
def test_200_flows_through_a_faulty_link(xdpslirp, topo, backend):
    """150 TCP and 50 UDP flows at once through a link that loses (1% from
    the guest, nftables there; 1% toward it, the engine), duplicates and
    reorders both ways: every byte arrives, by hash, and the engine ends
    with every flow and frame accounted for."""
    sh("ip", "netns", "exec", topo.guest, "nft", "-f", "-", input="""
table ip loss {
    counter lost { }
    chain out {
        type filter hook output priority 0;
        oifname "eth0" numgen random mod 100 < 1 counter name lost drop
    }
}
""")
    topo.server(topo.remote, REMOTE, 5201)
    topo.server(topo.remote, REMOTE, 5202, peer=UDP_PEER, mode="echo")
    x = xdpslirp("--netns", f"/run/netns/{topo.guest}", "--backend", backend, *FAULTS,
                 netns=topo.host)
    tcp = subprocess.Popen(["ip", "netns", "exec", topo.guest, "/usr/bin/python3", PEER,
                            "many", REMOTE, "5201", "150", str(256 << 10)],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    udp = topo.peer("reliable", REMOTE, 5202, 50, 100, 7, peer=UDP_PEER)
    out, _ = tcp.communicate(timeout=300)
    assert tcp.returncode == 0 and out.startswith("ok many 150"), out + x.stderr()
    assert udp.returncode == 0 and udp.stdout.startswith("ok reliable 50 x 100"), \
        udp.stdout + udp.stderr + x.stderr()
    snap = x.snapshot()
    lost = sh("ip", "netns", "exec", topo.guest, "nft", "list", "counter", "ip", "loss",
              "lost").stdout
    assert snap["drops"].get("tx_test_loss", 0) > 0, snap
    assert snap["test_duplicated"] > 0 and snap["test_reordered"] > 0, snap
    assert " packets 0 " not in lost, lost      # the guest lost some too
    assert x.stop() == 0
    x.assert_frames_accounted()


# In the remote namespace: "reset" reads 100 KiB of each connection, then
# resets it; "stall" accepts and never reads.  Prints "ready".
BAD_SERVER = """
import socket, struct, sys, threading, time
mode, s = sys.argv[1], socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[2], int(sys.argv[3])))
s.listen(64)
print("ready", flush=True)
held = []
def reset(c):
    got = 0
    while got < 100 << 10:
        got += len(c.recv(65536))
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
while True:
    c, _ = s.accept()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    if mode == "reset":
        threading.Thread(target=reset, args=(c,), daemon=True).start()
    else:
        held.append(c)
"""

# In the guest: 10 uploads to the resetting server, 10 to the stalling one
# until their sends block; after a line on stdin (the stalling server is
# killed meanwhile), the stalled ones must end with an error too.
BAD_GUEST = """
import socket, sys, time
def conn(port):
    s = socket.create_connection((sys.argv[1], port), timeout=30)
    return s
resets = 0
for _ in range(10):
    s = conn(5301)
    try:
        for _ in range(64):
            s.sendall(b"x" * 65536)
        s.recv(1)
    except (ConnectionResetError, BrokenPipeError):
        resets += 1
    s.close()
stalled = [conn(5302) for _ in range(10)]
for s in stalled:
    s.setblocking(False)
    try:
        while True:
            s.send(b"y" * 65536)
    except BlockingIOError:
        pass
print("resets", resets, "stalled", len(stalled), flush=True)
sys.stdin.readline()
ended = 0
for s in stalled:
    s.settimeout(30)
    try:
        while True:
            s.sendall(b"y" * 65536)
    except (ConnectionResetError, BrokenPipeError):
        ended += 1
print("vanished", ended, flush=True)
"""


@pytest.mark.parametrize("backend", ["xdp", "tap"])
def test_host_servers_reset_stall_and_vanish(xdpslirp, topo, backend):
    """Servers that reset connections mid-transfer, stop reading, or vanish
    (killed with data unread): the guest sees each connection end, the
    transfers beside them complete by hash, and the engine ends with no
    flow, socket or frame left over."""
    topo.server(topo.remote, REMOTE, 5303)
    reset = subprocess.Popen(["ip", "netns", "exec", topo.remote, "/usr/bin/python3", "-c",
                              BAD_SERVER, "reset", REMOTE, "5301"], stdout=subprocess.PIPE,
                             text=True)
    stall = subprocess.Popen(["ip", "netns", "exec", topo.remote, "/usr/bin/python3", "-c",
                              BAD_SERVER, "stall", REMOTE, "5302"], stdout=subprocess.PIPE,
                             text=True)
    topo.servers += [reset, stall]
    assert reset.stdout.readline().strip() == "ready"
    assert stall.stdout.readline().strip() == "ready"
    x = xdpslirp("--netns", f"/run/netns/{topo.guest}", "--backend", backend,
                 netns=topo.host)
    good = subprocess.Popen(["ip", "netns", "exec", topo.guest, "/usr/bin/python3", PEER,
                             "many", REMOTE, "5303", "20", str(1 << 20)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    bad = subprocess.Popen(["ip", "netns", "exec", topo.guest, "/usr/bin/python3", "-c",
                            BAD_GUEST, REMOTE], stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    topo.servers += [good, bad]     # killed at the end even if the test fails, so
                                    # that the guest's namespace (and xdpslirp) can go
    line = bad.stdout.readline()
    assert line.split() == ["resets", "10", "stalled", "10"], line + bad.stdout.read()
    stall.kill()                # vanishes, with its connections' data unread
    stall.wait()
    out, _ = bad.communicate("go\n", timeout=120)
    assert out.split() == ["vanished", "10"], out + x.stderr()
    out, _ = good.communicate(timeout=120)
    assert good.returncode == 0 and out.startswith("ok many 20"), out + x.stderr()
    x.wait_flows(0)
    assert x.stop() == 0
    x.assert_frames_accounted()


# In the guest: connections to tcp_peer.py's server, data both ways, until
# killed
ENDLESS = """
import socket, sys, threading
def one():
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
    s.sendall(b"both %d 1\\n" % (1 << 40))
    threading.Thread(target=lambda: [s.recv(1 << 20) for _ in iter(int, 1)],
                     daemon=True).start()
    while True:
        s.sendall(b"z" * 65536)
for _ in range(int(sys.argv[3])):
    threading.Thread(target=one).start()
"""


def transfers(ns, count=8):
    """@count endless transfers both ways from namespace @ns to the remote
    server on 5401."""
    return subprocess.Popen(["ip", "netns", "exec", ns, "/usr/bin/python3", "-c", ENDLESS,
                             REMOTE, "5401", str(count)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def assert_exits_clean(x, why):
    """The engine ends by itself (@why in its log), every flow and frame
    accounted for."""
    assert x.wait(timeout=30) == 0, x.stderr()
    assert why in x.stderr(), x.stderr()
    x.assert_frames_accounted()


def test_guest_namespace_deleted_mid_transfer(xdpslirp, topo):
    """The guest's processes are killed and its namespace deleted while
    data flows both ways: the engine notices, resets the host side of
    every flow and exits cleanly."""
    topo.server(topo.remote, REMOTE, 5401)
    x = xdpslirp("--netns", f"/run/netns/{topo.guest}", netns=topo.host)
    t = transfers(topo.guest)
    wait_until(lambda: x.snapshot()["flows"] >= 8, what="8 flows")
    t.kill()
    t.wait()
    sh("ip", "netns", "del", topo.guest)
    assert_exits_clean(x, "namespace ended")


def test_guest_link_removed_mid_transfer(xdpslirp, veth, netns):
    """xdpslirp --ifname: the served link is deleted mid-transfer; the
    engine exits cleanly, the XDP program gone with the link."""
    host, guest, ns = veth()
    remote = netns()
    a, b = unique("xtr"), unique("xtr")
    sh("ip", "link", "add", a, "type", "veth", "peer", "name", b, "netns", remote)
    sh("ip", "addr", "add", "198.51.100.1/24", "dev", a)
    sh("ip", "link", "set", a, "up")
    sh("ip", "-n", remote, "addr", "add", REMOTE + "/24", "dev", b)
    sh("ip", "-n", remote, "link", "set", b, "up")
    try:
        srv = subprocess.Popen(["ip", "netns", "exec", remote, "/usr/bin/python3", PEER,
                                "serve", REMOTE, "5401"], stdout=subprocess.PIPE, text=True)
        assert srv.stdout.readline().strip() == "ready"
        x = xdpslirp("--ifname", host)
        t = transfers(ns)
        wait_until(lambda: x.snapshot()["flows"] >= 8, what="8 flows")
        sh("ip", "link", "del", host)
        assert_exits_clean(x, host)
        t.kill()
        t.wait()
        srv.kill()
        srv.wait()
    finally:
        subprocess.run(["ip", "link", "del", a], capture_output=True)


# In the guest: the ENDLESS transfers, each connecting again whenever its
# connection ends (the engine was killed), until killed itself
RECONNECTING = """
import socket, sys, threading, time
def one():
    while True:
        try:
            s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)
            s.sendall(b"both %d 1\\\\n" % (1 << 40))
            threading.Thread(target=lambda: [s.recv(1 << 20) for _ in iter(int, 1)],
                             daemon=True).start()
            while True:
                s.sendall(b"z" * 65536)
        except OSError:
            time.sleep(0.01)
for _ in range(4):
    threading.Thread(target=one).start()
"""


def test_sigkill_50_times_under_traffic(xdpslirp, veth):
    """xdpslirp --ifname killed (SIGKILL) at a random moment under traffic,
    50 times: each time the XDP program goes with it, no link or namespace
    is left, and a new instance serves the same link at once; the last one
    carries a transfer byte-exact and exits cleanly."""
    import random
    import signal
    import time

    host, guest, ns = veth()
    namespaces = sh("ip", "netns", "list").stdout
    links = {l for l in sh("ip", "-o", "link", "show").stdout.splitlines()
             if "xsl" in l}
    srv = subprocess.Popen(["/usr/bin/python3", PEER, "serve", "127.0.0.1", "5501"],
                           stdout=subprocess.PIPE, text=True)
    assert srv.stdout.readline().strip() == "ready"
    load = subprocess.Popen(["ip", "netns", "exec", ns, "/usr/bin/python3", "-c",
                             RECONNECTING, "10.0.2.2", "5501"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rnd = random.Random(50)
    try:
        for i in range(50):
            x = xdpslirp("--ifname", host)
            time.sleep(rnd.uniform(0, 0.2))     # the random moment is the point
            x.send(signal.SIGKILL)
            x.wait()
            wait_until(lambda: host not in links_with_xdp(), what=f"XDP detach, kill {i}")
        x = xdpslirp("--ifname", host)
        r = in_netns(ns, "/usr/bin/python3", PEER, "client", "10.0.2.2", "5501", "both",
                     str(8 << 20), "3", timeout=120)
        assert r.returncode == 0 and "ok both" in r.stdout, r.stdout + r.stderr + x.stderr()
    finally:
        load.kill()
        load.wait()
        srv.kill()
        srv.wait()
    assert x.stop() == 0
    x.assert_frames_accounted()
    assert sh("ip", "netns", "list").stdout == namespaces
    assert {l for l in sh("ip", "-o", "link", "show").stdout.splitlines()
            if "xsl" in l} == links


def udp_echo():
    """A UDP echo server on 127.0.0.1 in a daemon thread: returns its socket."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
    s.bind(("127.0.0.1", 0))

    def serve():
        try:
            while True:
                data, peer = s.recvfrom(65536)
                s.sendto(data, peer)
        except OSError:
            pass        # closed
    threading.Thread(target=serve, daemon=True).start()
    return s


def stream_peer(path):
    """A VM's end of --socket PATH: returns (socket, gateway MAC) after an
    ARP exchange."""
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(path)
    s.sendall(framed(arp_request(GUEST_MAC, GUEST_IP, socket.inet_aton("10.0.2.2"))))
    while True:
        f = recv_framed(s)
        if f[12:14] == b"\x08\x06":
            return s, f[6:12]


GUEST_MAC, GUEST_IP = bytes.fromhex("020000000001"), socket.inet_aton("10.0.2.100")


def test_vm_that_never_reads_and_fragment_slots(xdpslirp, tmp_path):
    """A VM on the stream socket floods the host's UDP echo server and never
    reads the answers: what cannot be sent is dropped and counted, and the
    engine answers again once the VM reads.  Then 200
    fragmented datagrams never completed fill the reassembly slots (the
    oldest are given up, counted) and a complete one still comes back."""
    srv = udp_echo()
    port = srv.getsockname()[1]
    try:
        sock = str(tmp_path / "vm.sock")
        x = xdpslirp("--socket", sock)
        s, gw = stream_peer(sock)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        payload = bytes(8000)
        for i in range(5000):       # 40 MB of echoes toward a VM that reads nothing
            s.sendall(framed(udp(GUEST_MAC, gw, GUEST_IP, socket.inet_aton("10.0.2.2"),
                                 40000 + i % 100, port, payload)))
        wait_until(lambda: x.snapshot()["drops"].get("tx_write", 0) > 0, what="tx drops")
        s.settimeout(1)             # drain: the engine waits for nothing
        try:
            while s.recv(1 << 20):
                pass
        except socket.timeout:
            pass
        s.settimeout(10)
        s.sendall(framed(arp_request(GUEST_MAC, GUEST_IP, socket.inet_aton("10.0.2.2"))))
        while recv_framed(s)[12:14] != b"\x08\x06":
            pass                    # the tail of the echoes, then the answer
        for ident in range(200):    # first halves only
            whole = udp(GUEST_MAC, gw, GUEST_IP, socket.inet_aton("10.0.2.2"), 41000, port,
                        bytes(3000))
            first = fragments(whole[:14] + whole[14:18] + struct.pack("!H", ident + 1000) +
                              whole[20:], 1480)[0]
            s.sendall(framed(first))
        whole = udp(GUEST_MAC, gw, GUEST_IP, socket.inet_aton("10.0.2.2"), 41001, port,
                    bytes(range(256)) * 12)
        for frag in fragments(whole, 1480):
            s.sendall(framed(frag))
        while True:
            f = recv_framed(s)
            if f[12:14] == b"\x08\x00" and f[23] == 17 and f[36:38] == b"\xa0\x29":
                assert f[42:] == bytes(range(256)) * 12
                break
        drops = x.snapshot()["drops"]
        assert drops.get("frag_evicted", 0) >= 150, drops
        s.close()
        assert x.stop() == 0
        x.assert_frames_accounted()
    finally:
        srv.close()




def test_flow_table_full_and_api_clients_by_the_hundred(xdpslirp, api_path, user_dir):
    """The flow table full (--max-flows 32): new connections are refused
    (counted), established ones carry on, and room made is taken again.
    Meanwhile 300 API clients at once: every one is answered (those past
    the 32 served at a time are turned away and come back)."""
    import json

    srv = Server(("127.0.0.1", 0), Echo)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    # the guest (and so xdpslirp and its API) stays until this writer closes
    hold = os.path.join(user_dir, "hold")
    os.mkfifo(hold)
    os.chmod(hold, 0o666)
    holder = os.open(hold, os.O_RDWR)       # neither this nor the guest's open blocks
    try:
        x = xdpslirp("--max-flows", "32", "--queues", "1", "--api-socket", api_path,
                     "--", "/usr/bin/python3", "-c", GUEST, str(srv.server_address[1]),
                     "40", "16", "8", hold)
        answered = []

        def client():
            for _ in range(200):
                try:
                    c = socket.socket(socket.AF_UNIX)
                    c.settimeout(10)
                    c.connect(api_path)
                    c.sendall(b'{"execute": "get_stats"}')
                    out = b""
                    while b := c.recv(65536):
                        out += b
                    c.close()
                    if out:
                        answered.append(json.loads(out)["return"]["workers"][0]["queue"])
                        return
                except (ConnectionError, BlockingIOError):
                    pass
                threading.Event().wait(0.01)    # turned away: again, soon

        clients = [threading.Thread(target=client) for _ in range(300)]
        for t in clients:
            t.start()
        for t in clients:
            t.join()
        os.close(holder)                    # the guest may end now
        holder = None
        assert len(answered) == 300, len(answered)
        assert x.wait(timeout=60) == 0, x.stderr()
    finally:
        if holder is not None:
            os.close(holder)
        srv.shutdown()
        srv.server_close()
    out = x.proc.stdout.read().split("\n")
    _, opened, _, refused = out[0].split()
    assert int(opened) <= 32 and int(refused) >= 8, out
    assert out[1] == "again 8", out
    assert x.counters()["drops"].get("tcp_table_full", 0) >= 8, x.stderr()
