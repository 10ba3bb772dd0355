# SPDX-License-Identifier: MIT
"""Faults and exhaustion (issue 15): the engine out of file descriptors
refuses new flows cleanly and keeps serving the established ones."""
import socketserver
import subprocess
import threading

import pytest

from conftest import BINARY, EXTRA_ARGS, PEER, REMOTE, UDP_PEER, sh

# In the guest: as many connections as it can get, then checks
GUEST = """
import socket, sys, time
port, conns, refused = int(sys.argv[1]), [], 0
for i in range(150):    # the engine, with its own descriptors, runs out first
    s = socket.socket()
    s.settimeout(10)
    try:
        s.connect(("10.0.2.2", port))
        conns.append(s)
    except ConnectionRefusedError:
        refused += 1
        s.close()
print("open", len(conns), "refused", refused)
for s in conns[:5]:                 # the established ones still carry data
    s.sendall(b"ping")
    assert s.recv(4) == b"ping"
for s in conns[:len(conns) // 2]:   # descriptors free again once these end
    s.close()
deadline, again = time.monotonic() + 10, False
while time.monotonic() < deadline and not again:
    s = socket.socket()
    s.settimeout(10)
    try:
        s.connect(("10.0.2.2", port))
        s.sendall(b"ping")
        again = s.recv(4) == b"ping"
    except ConnectionRefusedError:
        time.sleep(0.05)            # the engine ends those flows on its own time
    s.close()
print("again", again)
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
                            str(srv.server_address[1])],
                           capture_output=True, text=True, timeout=120)
    finally:
        srv.shutdown()
        srv.server_close()
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.split("\n")
    _, opened, _, refused = lines[0].split()
    assert int(opened) > 20 and int(refused) > 0, r.stdout
    assert lines[1] == "again True", r.stdout + r.stderr
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
