#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""make bench-guests: container egress to a remote host, for many guests at
once, as a container host really runs it.

The "remote host" is a namespace of its own (sink), reached from the host
namespace (where the gateways run) through the host's routing over a veth
pair of MTU 1500, like a NIC: its servers listen on 198.51.100.1 (on the
sink's loopback; no gateway maps that address to anything).  Nothing leaves
the namespaces this script creates.

Paths, each serving N guests at once, every guest running one iperf3 upload
(or download, -R) to a server of its own:
  daemon       one xdpslirp daemon serving the N guests (namespaces added
               through its API), at MTU 65520 as the others
  daemon-1500  the same, each guest at MTU 1500, where it gets small
               UMEMs (under 1 MiB a guest)
  xdpslirp     N separate xdpslirp processes (xdpslirp -- COMMAND)
  pasta        N pasta processes (pasta --config-net -- COMMAND)
  slirp4netns  N slirp4netns processes, each for a namespace of its own
  kernel       what rootful container engines do: N veths on a bridge in
               the host namespace, nftables masquerade out of the host

All userspace gateways get MTU 65520 (what Podman gives slirp4netns and
pasta); the bridge's guests have 1500, as a bridge to a 1500 NIC does.
The guests start their clients together (a FIFO they all wait on), once
every gateway is up.  Cells per guest count (--guests, default 1,10,50):
aggregate Gbit/s (the sum of what the servers received), the gateways' own
CPU seconds per GB moved (their processes' whole lives, start-up included,
which weighs with many guests; the kernel path has none), the whole
machine's busy CPU seconds per GB while the clients ran (/proc/stat:
comparable across paths, clients and servers included) and the gateways'
resident memory (the sum of their VmHWM).  The 100-guest comparison:
--guests 100 --paths daemon,xdpslirp,pasta.  Prints a markdown table and writes the raw
results to build/bench-guests.json (--json PATH).  --guests LIST,
--seconds S (default 5), --paths LIST.
"""
import argparse
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import (ROOT, PeakRss, XDPSLIRP, host_and_sink, netns_holder,  # noqa: E402
                   own_cpu_seconds, parse_gbps, sh)

TAG = f"xsg{os.getpid() % 100000}"
HOST, SINK = f"{TAG}h", f"{TAG}s"
SERVER = "198.51.100.1"
BASE_PORT = 5300
MTU = 65520
PATHS = ["kernel", "daemon", "daemon-1500", "xdpslirp", "pasta", "slirp4netns"]
# a client whose data stalls for 10 s gives up (a starved gateway can stall
# one for ever); guests get GRACE seconds to come up, and a client still
# running GRACE seconds after its time is killed
TIMEOUTS = "--connect-timeout 10000 --snd-timeout 10000"
GRACE = 60


def in_host(*cmd):
    return ["ip", "netns", "exec", HOST] + list(cmd)


NAT = """table ip nat {{
  chain post {{
    type nat hook postrouting priority 100;
    ip saddr 10.88.0.0/16 oifname "{out}" masquerade
  }}
}}
"""


def setup(max_guests):
    host_and_sink(TAG, HOST, SINK)
    sh("ip", "-n", SINK, "addr", "add", f"{SERVER}/32", "dev", "lo")
    # the kernel path: a bridge, forwarding, masquerade out of the host
    sh("ip", "-n", HOST, "link", "add", f"{TAG}br", "type", "bridge")
    sh("ip", "-n", HOST, "addr", "add", "10.88.0.1/16", "dev", f"{TAG}br")
    sh("ip", "-n", HOST, "link", "set", f"{TAG}br", "up")
    sh("ip", "netns", "exec", HOST, "sysctl", "-qw", "net.ipv4.ip_forward=1")
    sh("ip", "netns", "exec", HOST, "nft", "-f", "-", input=NAT.format(out=f"{TAG}a"))
    for i in range(max_guests):
        ns = f"{TAG}k{i}"
        sh("ip", "netns", "add", ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "-n", HOST, "link", "add", f"{TAG}v{i}", "type", "veth", "peer", "name",
           "eth0", "netns", ns)
        sh("ip", "-n", HOST, "link", "set", f"{TAG}v{i}", "master", f"{TAG}br", "up")
        sh("ip", "-n", ns, "addr", "add", f"10.88.{1 + i // 250}.{1 + i % 250}/16", "dev", "eth0")
        sh("ip", "-n", ns, "link", "set", "eth0", "up")
        sh("ip", "-n", ns, "route", "add", "default", "via", "10.88.0.1")


def teardown(max_guests):
    for ns in [HOST, SINK] + [f"{TAG}k{i}" for i in range(max_guests)]:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def client(i, seconds, reverse, go, ready):
    """Guest @i's command: say it is up, wait for the start, run iperf3.
    It opens the start FIFO first, while the bench holds it open, so the
    start (the bench closing its end: end of file for every reader) cannot
    come before it listens."""
    iperf = (f"iperf3 -c {SERVER} -p {BASE_PORT + i} -t {seconds} -J {TIMEOUTS} "
             + ("-R --rcv-timeout 10000" if reverse else ""))
    return ["sh", "-c", f"exec 3<{go}; echo > {ready}; cat <&3 >/dev/null; exec 3<&-; "
            f"exec {iperf}"]


class Guests:
    """N guests of one path started at once; their clients wait on a FIFO."""

    def __init__(self, path, n, seconds, reverse):
        self.dir = tempfile.mkdtemp(prefix="xdpslirp-guests-")
        self.go, self.ready = f"{self.dir}/go", f"{self.dir}/ready"
        os.mkfifo(self.go)
        os.mkfifo(self.ready)
        self.go_fd = os.open(self.go, os.O_RDWR)
        self.ready_fd = os.open(self.ready, os.O_RDWR)
        self.gateways, self.clients, self.holders, self.peaks = [], [], [], []
        self.seconds = seconds
        try:
            start = getattr(self, "start_" + path.replace("-", "_"))
            for i in range(n):
                start(i, client(i, seconds, reverse, self.go, self.ready))
        except BaseException:
            self.abort()
            raise

    def abort(self):
        """Kills (by pid) everything this run started."""
        for p in self.clients + self.gateways + self.holders:
            if p.poll() is None:
                p.kill()
            p.wait()
        for fd in (self.go_fd, self.ready_fd):
            if fd >= 0:
                os.close(fd)
        shutil.rmtree(self.dir, ignore_errors=True)

    def gateway(self, cmd, **kw):
        p = subprocess.Popen(cmd, stderr=subprocess.DEVNULL, **kw)
        self.gateways.append(p)
        self.peaks.append(PeakRss(p.pid))
        return p

    def start_kernel(self, i, cmd):
        self.clients.append(subprocess.Popen(["ip", "netns", "exec", f"{TAG}k{i}"] + cmd,
                                             stdout=subprocess.PIPE, text=True))

    def start_xdpslirp(self, i, cmd):
        self.clients.append(self.gateway(in_host(XDPSLIRP, "--log-level", "error", "--mtu",
                                                 str(MTU), "--", *cmd),
                                         stdout=subprocess.PIPE, text=True))

    def start_daemon(self, i, cmd, options=("--mtu", str(MTU))):
        """One xdpslirp daemon for every guest (started with the first):
        each guest a namespace added through its API."""
        if not self.gateways:
            r, w = os.pipe()
            self.api = f"{self.dir}/api.sock"
            self.gateway(in_host(XDPSLIRP, "daemon", "--api-socket", self.api, "--ready-fd",
                                 str(w)), pass_fds=(w,), stdout=subprocess.DEVNULL)
            os.close(w)
            os.read(r, 1)
            os.close(r)
        holder = netns_holder(HOST)
        self.holders.append(holder)
        answer = api_request(self.api, {"execute": "add_guest", "arguments": {
            "name": f"g{i}", "pid": holder.pid, "options": list(options)}})
        if "return" not in answer:
            raise RuntimeError(f"the daemon refused guest {i}: {answer}")
        self.clients.append(subprocess.Popen(["nsenter", "-t", str(holder.pid), "-n"] + cmd,
                                             stdout=subprocess.PIPE, text=True))

    def start_daemon_1500(self, i, cmd):
        self.start_daemon(i, cmd, options=("--mtu", "1500"))

    def start_pasta(self, i, cmd):
        self.clients.append(self.gateway(in_host("pasta", "--runas", "0", "--config-net",
                                                 "--quiet", "--mtu", str(MTU), "--", *cmd),
                                         stdout=subprocess.PIPE, text=True))

    def start_slirp4netns(self, i, cmd):
        holder = netns_holder(HOST)
        self.holders.append(holder)
        r, w = os.pipe()
        self.gateway(in_host("slirp4netns", "--configure", f"--mtu={MTU}", f"--ready-fd={w}",
                             str(holder.pid), "tap0"), pass_fds=(w,),
                     stdout=subprocess.DEVNULL)
        os.close(w)
        os.read(r, 1)
        os.close(r)
        self.clients.append(subprocess.Popen(["nsenter", "-t", str(holder.pid), "-n"] + cmd,
                                             stdout=subprocess.PIPE, text=True))

    def run(self):
        """Starts every client at once; returns (their outputs, the machine's
        busy CPU seconds while they ran)."""
        n, got = len(self.clients), 0
        deadline = time.monotonic() + GRACE
        while got < n:      # a gateway that failed to start never says so
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.ready_fd], [], [], left)[0]:
                raise RuntimeError(f"only {got} of {n} guests came up")
            got += len(os.read(self.ready_fd, n - got))
        busy = machine_busy()
        os.close(self.go_fd)
        self.go_fd = -1
        pending = set(self.clients)
        late = threading.Timer(self.seconds + GRACE, kill, [pending])
        late.start()
        outs = []
        for c in self.clients:
            outs.append(c.stdout.read())    # not reaped yet: see finish()
            pending.discard(c)
        late.cancel()
        return outs, machine_busy() - busy

    def finish(self):
        """Stops the gateways still running: (their CPU seconds, the sum of
        their peak resident memory in MB)."""
        for g in self.gateways:
            if g not in self.clients:
                g.terminate()
        cpu = sum(own_cpu_seconds(g) for g in self.gateways)
        for c in self.clients:
            c.wait()
        mb = sum(p.mb() or 0 for p in self.peaks)
        for h in self.holders:
            h.kill()
            h.wait()
        os.close(self.ready_fd)
        shutil.rmtree(self.dir, ignore_errors=True)
        return cpu, mb


def api_request(path, request):
    """One request to an xdpslirp API socket (through xdpslirp ctl); the
    answer, parsed."""
    r = subprocess.run([XDPSLIRP, "ctl", "--api-socket", path, "json", json.dumps(request)],
                       capture_output=True, text=True)
    return json.loads(r.stdout or "{}")


def kill(procs):
    """SIGKILL, by pid, to the processes left in @procs (not reaped: a pid
    still theirs)."""
    for p in list(procs):
        try:
            os.kill(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def machine_busy():
    """CPU seconds the machine spent busy (not idle or waiting) since boot."""
    with open("/proc/stat") as f:
        ticks = [int(v) for v in f.readline().split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def iperf_error(out):
    """What iperf3 said went wrong, or the end of its output."""
    try:
        return json.loads(out)["error"]
    except (ValueError, KeyError, TypeError):
        return repr(out[-300:])


def measure(path, n, seconds, reverse):
    g = Guests(path, n, seconds, reverse)
    try:
        outs, busy = g.run()
    except BaseException:
        g.abort()
        raise
    cpu, mb = g.finish()
    rates = [parse_gbps(o) for o in outs]
    ok = [r for r in rates if r is not None]
    for o, r in zip(outs, rates):
        if r is None:   # one failure shown, the rest counted
            print(f"{path}, {n} guests: a client failed: {iperf_error(o)}", file=sys.stderr)
            break
    gbps = sum(ok) if len(ok) == n else None
    gb = gbps * seconds / 8 if gbps else None
    return {"gbps": gbps, "guests": n, "failed": n - len(ok),
            "gw_cpu_s_per_gb": cpu / gb if gb and path != "kernel" else None,
            "machine_cpu_s_per_gb": busy / gb if gb else None,
            "resident_mb": mb if path != "kernel" else None}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--guests", default="1,10,50")
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--paths", default=",".join(PATHS))
    ap.add_argument("--json", default=os.path.join(ROOT, "build", "bench-guests.json"))
    opt = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench-guests: run as root (namespaces, XDP)")
    counts = [int(n) for n in opt.guests.split(",")]
    paths = opt.paths.split(",")
    results, servers = {}, []
    try:
        setup(max(counts))
        servers = [subprocess.Popen(["ip", "netns", "exec", SINK, "iperf3", "-s", "-B", SERVER,
                                     "-p", str(BASE_PORT + i)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                   for i in range(max(counts))]
        time.sleep(0.5)     # iperf3 has no readiness signal
        for n in counts:
            for direction in ("up", "down"):
                for p in paths:
                    r = measure(p, n, opt.seconds, direction == "down")
                    results[f"{n} {direction} {p}"] = r
                    print(f"{n:3} guests {direction:4} {p:12} {r}", file=sys.stderr, flush=True)
    finally:
        for s in servers:
            s.terminate()
            s.wait()
        teardown(max(counts))
    with open(opt.json, "w") as f:
        json.dump(results, f, indent=1)
    report(results, counts, paths, opt.seconds)


def report(results, counts, paths, seconds):
    def fmt(r, key):
        if r[key] is None and r["failed"]:
            return f"{r['failed']}/{r['guests']} clients failed"
        return "-" if r[key] is None else f"{r[key]:.2f}"
    print(f"\nTCP egress to a remote namespace, {seconds}s, all guests at once "
          f"({time.strftime('%Y-%m-%d')}, {os.cpu_count()} vCPUs)\n")
    print("| guests, direction | " + " | ".join(paths) + " |")
    print("|---|" + "---|" * len(paths))
    for n in counts:
        for d in ("up", "down"):
            for key, label, unit in (("gbps", "aggregate", "Gbit/s"),
                                     ("gw_cpu_s_per_gb", "gateway CPU", "s/GB"),
                                     ("machine_cpu_s_per_gb", "machine CPU", "s/GB"),
                                     ("resident_mb", "gateways' resident memory", "MB")):
                row = [fmt(results[f"{n} {d} {p}"], key) for p in paths]
                print(f"| {n} {d}: {label} ({unit}) | " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
