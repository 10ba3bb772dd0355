#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""make bench: xdpslirp against pasta, slirp4netns and plain kernel routing,
interleaved in one run, from a guest namespace to an iperf3 server on the
loopback of a "host" namespace this script creates.  Nothing leaves the
namespaces it creates (the host namespace's only route leads to a sink
namespace of its own).

Prints a markdown table of medians with ratios, writes the raw results as
JSON.  Options: --reps N (default 3), --seconds S (default 5), --json PATH.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
XDPSLIRP = os.path.join(ROOT, "build", "xdpslirp")
TAG = f"xsb{os.getpid() % 100000}"
HOST, SINK, KGUEST = f"{TAG}h", f"{TAG}s", f"{TAG}k"
PATHS = ["kernel", "xdpslirp", "pasta", "slirp4netns"]


def sh(*cmd, check=True, **kw):
    return subprocess.run(list(cmd), check=check, capture_output=True, text=True, **kw)


def in_host(*cmd):
    return ["ip", "netns", "exec", HOST] + list(cmd)


def setup():
    for ns in (HOST, SINK, KGUEST):
        sh("ip", "netns", "add", ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
    # a default route for pasta to copy, leading only to our sink namespace
    sh("ip", "-n", HOST, "link", "add", f"{TAG}a", "type", "veth", "peer", "name",
       f"{TAG}b", "netns", SINK)
    sh("ip", "-n", HOST, "addr", "add", "192.0.2.1/24", "dev", f"{TAG}a")
    sh("ip", "-n", SINK, "addr", "add", "192.0.2.2/24", "dev", f"{TAG}b")
    sh("ip", "-n", HOST, "link", "set", f"{TAG}a", "up")
    sh("ip", "-n", SINK, "link", "set", f"{TAG}b", "up")
    sh("ip", "-n", HOST, "route", "add", "default", "via", "192.0.2.2")
    # the kernel path: a plain veth pair, routed by the host namespace
    sh("ip", "-n", HOST, "link", "add", f"{TAG}k", "type", "veth", "peer", "name",
       "eth0", "netns", KGUEST)
    sh("ip", "-n", HOST, "addr", "add", "10.0.2.2/24", "dev", f"{TAG}k")
    sh("ip", "-n", KGUEST, "addr", "add", "10.0.2.100/24", "dev", "eth0")
    sh("ip", "-n", HOST, "link", "set", f"{TAG}k", "up")
    sh("ip", "-n", KGUEST, "link", "set", "eth0", "up")
    sh("ip", "-n", KGUEST, "route", "add", "default", "via", "10.0.2.2")


def teardown():
    for ns in (HOST, SINK, KGUEST):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def iperf_args(server, seconds, reverse):
    return ["iperf3", "-c", server, "-t", str(seconds), "-J"] + (["-R"] if reverse else [])


def parse_gbps(out):
    try:
        return json.loads(out)["end"]["sum_received"]["bits_per_second"] / 1e9
    except (ValueError, KeyError):
        return None


def run_kernel(mtu, args):
    sh("ip", "-n", HOST, "link", "set", f"{TAG}k", "mtu", str(mtu))
    sh("ip", "-n", KGUEST, "link", "set", "eth0", "mtu", str(mtu))
    return sh("ip", "netns", "exec", KGUEST, *args("10.0.2.2"), check=False).stdout


def run_xdpslirp(mtu, args):
    return sh(*in_host(XDPSLIRP, "--log-level", "error", "--mtu", str(mtu), "--",
                       *args("10.0.2.2")), check=False).stdout


def run_pasta(mtu, args):
    # pasta maps its gateway (192.0.2.2, copied from the host namespace) to
    # the host namespace's loopback
    return sh(*in_host("pasta", "--runas", "0", "--config-net", "--quiet", "--mtu",
                       str(mtu), "--", *args("192.0.2.2")), check=False).stdout


def run_slirp4netns(mtu, args):
    holder = subprocess.Popen(in_host("unshare", "-n", "sleep", "600"))
    r, w = os.pipe()
    try:
        # wait until unshare has created the namespace
        for _ in range(500):
            if os.readlink(f"/proc/{holder.pid}/ns/net") != \
                    os.readlink(f"/proc/{os.getpid()}/ns/net"):
                break
            time.sleep(0.01)
        slirp = subprocess.Popen(in_host("slirp4netns", "--configure", f"--mtu={mtu}",
                                         f"--ready-fd={w}", str(holder.pid), "tap0"),
                                 pass_fds=(w,), stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        os.close(w)
        os.read(r, 1)
        out = sh("nsenter", "-t", str(holder.pid), "-n", *args("10.0.2.2"),
                 check=False).stdout
        slirp.terminate()
        slirp.wait()
        return out
    finally:
        os.close(r)
        holder.kill()
        holder.wait()


RUNNERS = {"kernel": run_kernel, "xdpslirp": run_xdpslirp, "pasta": run_pasta,
           "slirp4netns": run_slirp4netns}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--json", default=os.path.join(ROOT, "build", "bench.json"))
    ap.add_argument("--mtus", default="65520,1500")
    opt = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench: run as root (namespaces, XDP)")

    cells = [(mtu, d) for mtu in map(int, opt.mtus.split(",")) for d in ("up", "down")]
    raw = {f"{mtu} {d}": {p: [] for p in PATHS} for mtu, d in cells}
    setup()
    server = subprocess.Popen(in_host("iperf3", "-s", "-B", "0.0.0.0"),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)     # iperf3 -s has no readiness signal
        for rep in range(opt.reps):
            for mtu, d in cells:
                for p in PATHS:
                    args = lambda srv: iperf_args(srv, opt.seconds, d == "down")
                    g = parse_gbps(RUNNERS[p](mtu, args))
                    raw[f"{mtu} {d}"][p].append(g)
                    print(f"rep {rep + 1} MTU {mtu} {d:4} {p:12} "
                          f"{'failed' if g is None else f'{g:.2f} Gbit/s'}",
                          file=sys.stderr, flush=True)
    finally:
        server.kill()
        server.wait()
        teardown()

    def med(v):
        v = [x for x in v if x is not None]
        return statistics.median(v) if v else None

    def fmt(v):
        return "-" if v is None else f"{v:.2f}"

    def ratio(a, b):
        return "-" if a is None or not b else f"{a / b:.2f}x"

    print(f"\niperf3 TCP, 1 stream, Gbit/s, median of {opt.reps} x {opt.seconds}s "
          f"({time.strftime('%Y-%m-%d')}, {os.cpu_count()} vCPUs)\n")
    print("| MTU | direction | kernel | xdpslirp | pasta | slirp4netns | "
          "xdpslirp/pasta | xdpslirp/slirp4netns | xdpslirp/kernel |")
    print("|---|---|---|---|---|---|---|---|---|")
    for mtu, d in cells:
        m = {p: med(raw[f"{mtu} {d}"][p]) for p in PATHS}
        print(f"| {mtu} | {d} | {fmt(m['kernel'])} | {fmt(m['xdpslirp'])} | "
              f"{fmt(m['pasta'])} | {fmt(m['slirp4netns'])} | "
              f"{ratio(m['xdpslirp'], m['pasta'])} | "
              f"{ratio(m['xdpslirp'], m['slirp4netns'])} | "
              f"{ratio(m['xdpslirp'], m['kernel'])} |")
    os.makedirs(os.path.dirname(opt.json), exist_ok=True)
    with open(opt.json, "w") as f:
        json.dump({"date": time.strftime("%Y-%m-%dT%H:%M:%S"), "reps": opt.reps,
                   "seconds": opt.seconds, "gbps": raw}, f, indent=1)


if __name__ == "__main__":
    main()
