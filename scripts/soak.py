#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""make soak: xdpslirp under mixed traffic with faults for SOAK_SECONDS
(default 1800), sampling its resident memory, descriptors and flows every
second; they must stay flat, every transfer must end byte-exact, and the
engine must exit with its audit clean.

Topology (namespaces of its own, removed at the end): a guest namespace
served by xdpslirp --netns, and a remote namespace reached over a veth
from the host side, with a TCP server (tests/e2e/tcp_peer.py) and a UDP
echo server (tests/e2e/udp_peer.py).  The guest runs, in loops: 20
concurrent TCP exchanges of 1 MiB both ways, short connections, and 20 UDP
flows with their own retransmission.  The engine loses, duplicates and
reorders frames both ways (--test-tx-* and --test-rx-*); the guest's
nftables loses 0.5% of what it sends.

Writes $BUILD/soak.csv (second, rss_kib, fds, flows) and prints a summary:
the figures of the minute after a two-minute warm-up and of the last
minute, and the transfers' counts.  Exit status 1
if anything grew, a transfer failed or the audit found a leak.
"""
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("BUILD", os.path.join(ROOT, "build"))
BINARY = os.path.join(BUILD, "xdpslirp")
PEER = os.path.join(ROOT, "tests", "e2e", "tcp_peer.py")
UDP_PEER = os.path.join(ROOT, "tests", "e2e", "udp_peer.py")
SECONDS = int(os.environ.get("SOAK_SECONDS", "1800"))
REMOTE = "198.51.100.2"
FAULTS = ["--test-tx-loss", "5", "--test-tx-dup", "5", "--test-tx-reorder", "10",
          "--test-rx-dup", "5", "--test-rx-reorder", "10"]
TAG = f"xsk{os.getpid()}"
HOST, GUEST, FAR = TAG + "h", TAG + "g", TAG + "r"


def sh(*args, **kw):
    return subprocess.run(list(args), check=True, capture_output=True, text=True, **kw)


def setup():
    for ns in (HOST, GUEST, FAR):
        sh("ip", "netns", "add", ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
    sh("ip", "-n", HOST, "link", "add", TAG + "a", "type", "veth", "peer", "name", TAG + "b",
       "netns", FAR)
    sh("ip", "-n", HOST, "addr", "add", "198.51.100.1/24", "dev", TAG + "a")
    sh("ip", "-n", FAR, "addr", "add", REMOTE + "/24", "dev", TAG + "b")
    sh("ip", "-n", HOST, "link", "set", TAG + "a", "up")
    sh("ip", "-n", FAR, "link", "set", TAG + "b", "up")


def teardown(procs):
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    for ns in (HOST, GUEST, FAR):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def in_ns(ns, *cmd, **kw):
    return subprocess.Popen(["ip", "netns", "exec", ns] + list(cmd), **kw)


def server(ns, *cmd):
    p = in_ns(ns, "/usr/bin/python3", *cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
              text=True)
    assert p.stdout.readline().strip() == "ready"
    return p


# the guest's load: each loop prints one line per round ("ok ..." or not)
LOOPS = [
    f"while :; do /usr/bin/python3 {PEER} many {REMOTE} 5001 20 1048576; done",
    f"while :; do /usr/bin/python3 {PEER} client {REMOTE} 5001 both 65536 $$; done",
    f"while :; do /usr/bin/python3 {UDP_PEER} reliable {REMOTE} 5002 20 200 $$; done",
]


def api(path, request):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(path)
    s.sendall(json.dumps(request).encode())
    out = b""
    while b := s.recv(65536):
        out += b
    s.close()
    return json.loads(out)


def sample(pid, api_path):
    with open(f"/proc/{pid}/status") as f:
        rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    workers = api(api_path, {"execute": "get_stats"})["return"]["workers"]
    flows = sum(w["flows"]["tcp"] + w["flows"]["datagram"] for w in workers)
    return rss, fds, flows


def summary(rows):
    """The minute after the warm-up (two minutes: UDP mappings live 60 s, so
    the number of flows levels off only then) against the last minute; a
    run shorter than 6 minutes compares its second third with its last."""
    minute = min(60, max(1, len(rows) // 3))
    warm = min(120, len(rows) // 3)
    first, last = rows[warm:warm + minute], rows[-minute:]
    out, grew = [], False
    for i, name in ((1, "rss_kib"), (2, "fds"), (3, "flows")):
        a = [r[i] for r in first]
        b = [r[i] for r in last]
        out.append(f"{name}: at {first[0][0]}-{first[-1][0]} s median "
                   f"{statistics.median(a):.0f} max {max(a)}; at {last[0][0]}-{last[-1][0]} s "
                   f"median {statistics.median(b):.0f} max {max(b)}; "
                   f"overall max {max(r[i] for r in rows)}")
        # flat: the last minute no higher than the first (with slack for
        # allocator noise); flows follow the load, they only must not pile up
        slack = {1: 1.10 * max(a) + 4096, 2: max(a) + 16, 3: 2 * max(a) + 64}[i]
        grew = grew or max(b) > slack
    return out, grew


def main():
    procs = []
    api_path = f"/tmp/{TAG}.sock"
    try:
        setup()
        procs.append(server(FAR, PEER, "serve", REMOTE, "5001"))
        procs.append(server(FAR, UDP_PEER, "echo", REMOTE, "5002"))
        sh("ip", "netns", "exec", GUEST, "true")
        err = open(os.path.join(BUILD, "soak-engine.log"), "w")
        x = in_ns(HOST, BINARY, "--netns", f"/run/netns/{GUEST}", "--api-socket", api_path,
                  *FAULTS, stderr=err)
        procs.append(x)
        deadline = time.monotonic() + 10
        while not os.path.exists(api_path):
            assert time.monotonic() < deadline and x.poll() is None, "xdpslirp did not start"
            time.sleep(0.05)
        sh("ip", "netns", "exec", GUEST, "nft", "-f", "-", input="""
table ip loss {
    chain out {
        type filter hook output priority 0;
        oifname "eth0" numgen random mod 1000 < 5 drop
    }
}
""")
        logs = [open(os.path.join(BUILD, f"soak-load{i}.log"), "w+") for i in range(len(LOOPS))]
        for loop, log in zip(LOOPS, logs):
            procs.append(in_ns(GUEST, "sh", "-c", loop, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True))
        rows, start = [], time.monotonic()
        with open(os.path.join(BUILD, "soak.csv"), "w") as csv:
            csv.write("second,rss_kib,fds,flows\n")
            while time.monotonic() - start < SECONDS:
                t = int(time.monotonic() - start)
                rss, fds, flows = sample(x.pid, api_path)
                rows.append((t, rss, fds, flows))
                csv.write(f"{t},{rss},{fds},{flows}\n")
                csv.flush()
                time.sleep(1)       # sampling once a second is the point
        for p in procs[3:]:     # each loop with the round it runs
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        x.send_signal(signal.SIGTERM)
        rc = x.wait(timeout=60)
        err.close()
        engine = open(os.path.join(BUILD, "soak-engine.log")).read()
        ok = bad = 0
        for log in logs:
            log.seek(0)
            for line in log:
                ok += line.startswith("ok ")
                bad += line.startswith(("MISMATCH", "Traceback"))
        lines, grew = summary(rows)
        audit = [l for l in engine.splitlines() if "ownership violations" in l]
        clean = rc == 0 and audit and all(" 0 leaked, 0 ownership violations" in l for l in audit)
        print(f"soak: {len(rows)} s of mixed traffic with faults")
        for line in lines:
            print("  " + line)
        print(f"  transfers: {ok} rounds ok, {bad} failed; exit {rc}, audit "
              f"{'clean' if clean else 'NOT clean'}")
        print("  " + next((l for l in engine.splitlines() if "test faults" in l), ""))
        return 0 if clean and not grew and not bad and ok else 1
    finally:
        teardown(procs)
        if os.path.exists(api_path):
            os.unlink(api_path)


if __name__ == "__main__":
    sys.exit(main())
