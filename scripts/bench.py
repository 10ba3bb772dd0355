#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""make bench: xdpslirp against pasta, slirp4netns and plain kernel routing,
interleaved in one run, from a guest namespace to an iperf3 server on the
loopback of a "host" namespace this script creates.  Nothing leaves the
namespaces it creates (the host namespace's only route leads to a sink
namespace of its own).

Paths: the kernel's routing, xdpslirp (AF_XDP), xdpslirp's tap backend,
xdpslirp invoked as slirp4netns with Podman's command line, pasta,
slirp4netns.  Cells: iperf3 TCP up and down with 1 and 4 streams, iperf3 UDP up, at MTU
65520 and 1500; TCP up and down over IPv6 ("TCP6", to [::1] through each
gateway's IPv6 address for the host; slirp4netns with --enable-ipv6); TCP request/response latency (sockperf ping-pong, p50 and
p99, one way); short HTTP connections (wrk with "Connection: close" against
nginx); 1,000 concurrent connections downloading (wrk, keep-alive, 1 MiB
responses); CPU seconds the gateway process used per GB moved, from the
same runs as the single-stream TCP cells; each gateway's resident memory
(VmHWM, its peak) idle and over the 1,000-connection cell; the idle CPU use of xdpslirp; a
20 s upload through xdpslirp whose last second must reach 80% of its median
second; the egress policy's cost (1,000 rules against none: TCP up and
short HTTP connections) and a denied-destination UDP flood (the workers'
own "time working" counters, AF_XDP against the tap backend, where the
engine refuses each datagram, and an allowed upload's throughput beside
it); a chart (gnuplot, PNG).  Prints a markdown table of medians with
ratios, writes the raw results as JSON.  Options: --reps N (default 3),
--seconds S (default 5), --json PATH (default build/bench.json, or
build/bench-partial.json for a partial run), --mtus LIST, --only TEXT (cells whose
name contains TEXT), --policy (the policy measurements alone), --paths LIST, --xdpslirp-args="ARGS", --before BINARY
(another xdpslirp build as one more path, "before", in the same run: a
change's cost measured against the binary it changes).
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
XDPSLIRP = os.path.join(ROOT, "build", "xdpslirp")
TAG = f"xsb{os.getpid() % 100000}"
HOST, SINK, KGUEST = f"{TAG}h", f"{TAG}s", f"{TAG}k"
S4N = os.path.join(ROOT, "build", "slirp4netns")
# xdpslirp-tap: the tap backend (--backend tap); xdpslirp-s4n: xdpslirp run
# as slirp4netns with Podman's rootful command line (AF_XDP, as root)
PATHS = ["kernel", "xdpslirp", "xdpslirp-tap", "xdpslirp-s4n", "pasta", "slirp4netns"]


def sh(*cmd, check=True, **kw):
    return subprocess.run(list(cmd), check=check, capture_output=True, text=True, **kw)


def own_cpu_seconds(p):
    """User + system CPU of process @p's own threads (not its children),
    read after it exited and before it is reaped."""
    os.waitid(os.P_PID, p.pid, os.WEXITED | os.WNOWAIT)
    with open(f"/proc/{p.pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    p.wait()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class PeakRss(threading.Thread):
    """Reads a process's VmHWM (the peak of its resident memory) every 50 ms
    while it lives; mb() is the last value read, in MB (2^20 bytes)."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.kib, self.done = pid, None, threading.Event()
        self.start()

    def run(self):
        while True:
            try:
                with open(f"/proc/{self.pid}/status") as f:
                    hwm = [ln for ln in f if ln.startswith("VmHWM:")]
            except OSError:
                return
            if not hwm:     # exited: a zombie has no memory left
                return
            self.kib = int(hwm[0].split()[1])
            if self.done.wait(0.05):
                return

    def mb(self):
        self.done.set()
        self.join()
        return None if self.kib is None else self.kib / 1024


def run_gateway(cmd):
    """Runs a gateway that runs the client itself: (client output, the
    gateway's own CPU seconds, its peak resident memory in MB)."""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    peak = PeakRss(p.pid)
    out = p.stdout.read()
    cpu = own_cpu_seconds(p)
    return out, cpu, peak.mb()


def in_host(*cmd):
    return ["ip", "netns", "exec", HOST] + list(cmd)


def host_and_sink(tag, host, sink, *others):
    """Namespaces @host, @sink and @others, and a veth pair from @host
    (192.0.2.1, {tag}a) to @sink (192.0.2.2, {tag}b), which is @host's
    default route: the only way out of it leads to a namespace of ours."""
    for ns in (host, sink) + others:
        sh("ip", "netns", "add", ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
    sh("ip", "-n", host, "link", "add", f"{tag}a", "type", "veth", "peer", "name",
       f"{tag}b", "netns", sink)
    sh("ip", "-n", host, "addr", "add", "192.0.2.1/24", "dev", f"{tag}a")
    sh("ip", "-n", sink, "addr", "add", "192.0.2.2/24", "dev", f"{tag}b")
    sh("ip", "-n", host, "link", "set", f"{tag}a", "up")
    sh("ip", "-n", sink, "link", "set", f"{tag}b", "up")
    sh("ip", "-n", host, "route", "add", "default", "via", "192.0.2.2")


def setup():
    # a default route for pasta to copy, leading only to our sink namespace
    host_and_sink(TAG, HOST, SINK, KGUEST)
    # the same for IPv6 (documentation prefix, only in our namespaces)
    sh("ip", "-n", HOST, "addr", "add", "2001:db8:2::1/64", "dev", f"{TAG}a", "nodad")
    sh("ip", "-n", SINK, "addr", "add", "2001:db8:2::2/64", "dev", f"{TAG}b", "nodad")
    sh("ip", "-n", HOST, "-6", "route", "add", "default", "via", "2001:db8:2::2")
    # the kernel path: a plain veth pair, routed by the host namespace
    sh("ip", "-n", HOST, "link", "add", f"{TAG}k", "type", "veth", "peer", "name",
       "eth0", "netns", KGUEST)
    sh("ip", "-n", HOST, "addr", "add", "10.0.2.2/24", "dev", f"{TAG}k")
    sh("ip", "-n", KGUEST, "addr", "add", "10.0.2.100/24", "dev", "eth0")
    sh("ip", "-n", HOST, "link", "set", f"{TAG}k", "up")
    sh("ip", "-n", KGUEST, "link", "set", "eth0", "up")
    sh("ip", "-n", KGUEST, "route", "add", "default", "via", "10.0.2.2")
    sh("ip", "-n", HOST, "addr", "add", "fd00::2/64", "dev", f"{TAG}k", "nodad")
    sh("ip", "-n", KGUEST, "addr", "add", "fd00::100/64", "dev", "eth0", "nodad")
    sh("ip", "-n", KGUEST, "-6", "route", "add", "default", "via", "fd00::2")


def teardown():
    for ns in (HOST, SINK, KGUEST):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


# each test: (label, client command for a server address, parser of its output)
def iperf(seconds, reverse=False, streams=1, udp=False, v6=False):
    def args(server):
        return (["iperf3", "-c", server, "-t", str(seconds), "-J", "-P", str(streams)] +
                (["-R"] if reverse else []) + (["-u", "-b", "0", "-l", "1400"] if udp else []) +
                (["-p", "5202"] if v6 else []))
    args.v6 = v6    # the runners pick the gateway's address of that family
    return args


def server_addr(args, v4, v6):
    return v6 if getattr(args, "v6", False) else v4


def parse_gbps(out):
    try:
        end = json.loads(out)["end"]
        if "sum_received" in end:
            return end["sum_received"]["bits_per_second"] / 1e9
        s = end["sum"]      # UDP: what arrived
        return s["bits_per_second"] * (1 - s["lost_percent"] / 100) / 1e9
    except (ValueError, KeyError, TypeError):
        return None


def sockperf(seconds):
    return lambda server: ["sockperf", "ping-pong", "-i", server, "-p", "11111", "--tcp",
                           "-t", str(seconds)]


def wrk(seconds):
    return lambda server: ["wrk", "-t1", "-c32", f"-d{seconds}", "-H", "Connection: close",
                           f"http://{server}:8080/"]


def wrk_many(seconds, conns=1000):
    """@conns keep-alive connections, each fetching 1 MiB responses."""
    return lambda server: ["prlimit", "--nofile=8192", "wrk", "-t2", f"-c{conns}",
                           f"-d{seconds}", "--timeout", "10s", f"http://{server}:8080/1m"]


def wrk_failed(out):
    """wrk counts error answers as requests: a run with any is no result."""
    return "Non-2xx or 3xx responses" in out


def parse_rps(out):
    if wrk_failed(out):
        return None
    for line in out.splitlines():
        if line.startswith("Requests/sec:"):
            return float(line.split()[1]) / 1000
    return None


def parse_transfer_gbps(out):
    units = {"B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30}
    if wrk_failed(out):
        return None
    for line in out.splitlines():
        if line.startswith("Transfer/sec:"):
            v = line.split()[1]
            num = v.rstrip("KMGB")
            return float(num) * units[v[len(num):]] * 8 / 1e9
    return None


NGINX_CONF = """daemon off; worker_processes 1; pid {d}/nginx.pid; error_log {d}/error.log;
worker_rlimit_nofile 8192; events {{ worker_connections 4096; }}
http {{ access_log off; server {{ listen 0.0.0.0:8080; root {d}; }} }}
"""


def nginx_server(d):
    """nginx serving a 1 KiB index.html (short connections) and a 1 MiB
    file (many connections) from @d."""
    os.chmod(d, 0o755)      # nginx's workers run as an unprivileged user
    with open(f"{d}/index.html", "w") as f:
        f.write("x" * 1024)
    with open(f"{d}/1m", "wb") as f:
        f.write(os.urandom(1 << 20))
    for name in ("index.html", "1m"):
        os.chmod(f"{d}/{name}", 0o644)
    with open(f"{d}/nginx.conf", "w") as f:
        f.write(NGINX_CONF.format(d=d))
    return ["nginx", "-c", f"{d}/nginx.conf", "-p", d]


def parse_percentile(pct):
    def parse(out):
        for line in out.splitlines():
            if f"percentile {pct}" in line:
                return float(line.split()[-1])
        return None
    return parse


# Each runner returns (client output, gateway CPU seconds or None, the
# gateway's peak resident memory in MB or None).
def run_kernel(mtu, args):
    sh("ip", "-n", HOST, "link", "set", f"{TAG}k", "mtu", str(mtu))
    sh("ip", "-n", KGUEST, "link", "set", "eth0", "mtu", str(mtu))
    return sh("ip", "netns", "exec", KGUEST, *args(server_addr(args, "10.0.2.2", "fd00::2")),
              check=False).stdout, None, None


XDPSLIRP_ARGS = []     # --xdpslirp-args
BEFORE = []            # --before BINARY


def run_xdpslirp(mtu, args, binary=XDPSLIRP):
    return run_gateway(in_host(binary, "--log-level", "error", "--mtu", str(mtu),
                               *XDPSLIRP_ARGS, "--", *args(server_addr(args, "10.0.2.2",
                                                                          "fd00::2"))))


def run_before(mtu, args):
    return run_xdpslirp(mtu, args, BEFORE[0])


def run_xdpslirp_tap(mtu, args):
    return run_gateway(in_host(XDPSLIRP, "--log-level", "error", "--backend", "tap", "--mtu",
                               str(mtu), *XDPSLIRP_ARGS, "--",
                               *args(server_addr(args, "10.0.2.2", "fd00::2"))))


def run_pasta(mtu, args):
    # pasta maps its gateway (192.0.2.2, 2001:db8:2::2, copied from the host
    # namespace) to the host namespace's loopback
    return run_gateway(in_host("pasta", "--runas", "0", "--config-net", "--quiet", "--mtu",
                               str(mtu), "--", *args(server_addr(args, "192.0.2.2",
                                                                 "2001:db8:2::2"))))


def netns_holder(host):
    """A sleeping process, started in namespace @host, that holds a network
    namespace of its own: returned once unshare has made it (neither ours
    nor @host's: ip netns exec enters @host first), which has no signal."""
    p = subprocess.Popen(["ip", "netns", "exec", host, "unshare", "-n", "sleep", "600"])
    before = (os.readlink("/proc/self/ns/net"), f"net:[{os.stat(f'/run/netns/{host}').st_ino}]")
    for _ in range(500):
        if os.readlink(f"/proc/{p.pid}/ns/net") not in before:
            return p
        time.sleep(0.01)
    p.kill()
    p.wait()
    raise RuntimeError("unshare -n made no namespace in 5 s")


def run_s4n(mtu, args, cmd):
    """A slirp4netns (or xdpslirp as one: @cmd(holder pid, ready fd, exit
    fd) is its command line) serving a namespace held by a sleeping process;
    the client runs in that namespace."""
    holder = netns_holder(HOST)
    r, w = os.pipe()
    exit_r, exit_w = os.pipe()
    try:
        v6 = getattr(args, "v6", False)
        slirp = subprocess.Popen(in_host(*cmd(holder.pid, w, exit_r, v6)),
                                 pass_fds=(w, exit_r), stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        peak = PeakRss(slirp.pid)
        os.close(w)
        os.close(exit_r)
        os.read(r, 1)
        for _ in range(500 if v6 else 0):   # its guest gets IPv6 by SLAAC only
            a = sh("nsenter", "-t", str(holder.pid), "-n", "ip", "-6", "addr", "show",
                   "scope", "global", check=False).stdout
            if "fd00::" in a and "tentative" not in a:
                break
            time.sleep(0.02)
        out = sh("nsenter", "-t", str(holder.pid), "-n",
                 *args(server_addr(args, "10.0.2.2", "fd00::2")), check=False).stdout
        slirp.terminate()
        cpu = own_cpu_seconds(slirp)
        return out, cpu, peak.mb()
    finally:
        os.close(r)
        os.close(exit_w)
        holder.kill()
        holder.wait()


def run_slirp4netns(mtu, args):
    return run_s4n(mtu, args, lambda pid, ready, _, v6: [
        "slirp4netns", "--configure", f"--mtu={mtu}", *(["--enable-ipv6"] if v6 else []),
        f"--ready-fd={ready}", str(pid), "tap0"])


def run_xdpslirp_s4n(mtu, args):
    # Podman 4.3's rootful argv with allow_host_loopback=true (the servers
    # are on the host's loopback), the namespace by path, its exit fd
    return run_s4n(mtu, args, lambda pid, ready, exit_fd, v6: [
        S4N, f"--mtu={mtu}", "--enable-sandbox", "--enable-seccomp",
        *(["--enable-ipv6"] if v6 else []), "-c", "-e", str(exit_fd), "-r", str(ready),
        "--netns-type=path", f"/proc/{pid}/ns/net", "tap0"])


def over_time(mtu, seconds=20):
    """xdpslirp's single-stream upload, second by second: the last second
    must reach 80% of the median second (no collapse)."""
    out, _, _ = run_xdpslirp(mtu, lambda srv: ["iperf3", "-c", srv, "-t", str(seconds), "-J"])
    try:
        secs = [i["sum"]["bits_per_second"] / 1e9 for i in json.loads(out)["intervals"]]
    except (ValueError, KeyError):
        return None
    return secs[-1] / statistics.median(secs) if secs else None


GATEWAYS = ["xdpslirp", "pasta", "slirp4netns"]


def relative(cells, raw, med):
    """(cell, [each gateway's median / the kernel path's]) of the throughput cells."""
    rows = []
    for name, _, _, _, unit, _ in cells:
        if unit == "Gbit/s":
            k = med(raw[name]["kernel"]) or 1
            rows.append((name, [(med(raw[name][p]) or 0) / k for p in GATEWAYS]))
    return rows


def text_chart(rows, path):
    """The chart in characters, for the README: one bar per gateway, 40
    characters = the kernel path."""
    lines = ["throughput relative to the kernel path (|: the kernel path)"]
    for name, vals in rows:
        lines.append(name)
        for g, v in zip(GATEWAYS, vals):
            bar = "#" * round(min(v, 1.5) * 40)
            lines.append(f"  {g:12} {bar[:40]}{'|' if v >= 1 else ' ' * (40 - len(bar)) + '|'}"
                         f"{bar[40:]} {v:.2f}")
    text = "\n".join(lines)
    with open(path, "w") as f:
        f.write(text + "\n")
    return text


def chart(rows, path):
    """A bar chart of the throughput cells, relative to the kernel path."""
    data = path + ".dat"
    with open(data, "w") as f:
        for name, vals in rows:
            f.write('"%s" %s\n' % (name.replace(", MTU", "\\nMTU"),
                                    " ".join(f"{v:.3f}" for v in vals)))
    script = f"""set terminal pngcairo size 1200,500 noenhanced
set output '{path}'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8
set ylabel 'throughput / kernel path'
set yrange [0:*]
set xtics font ',9'
set key top right
plot '{data}' using 2:xtic(1) title 'xdpslirp', '' using 3 title 'pasta', '' using 4 title 'slirp4netns'
"""
    subprocess.run(["gnuplot"], input=script, text=True, check=False, capture_output=True)


def idle_cpu(seconds=3):
    """CPU used by an idle xdpslirp (its own threads), in % of one CPU."""
    p = subprocess.Popen(in_host(XDPSLIRP, "--log-level", "error", "--", "sleep",
                                 str(seconds + 2)), stderr=subprocess.DEVNULL)
    time.sleep(1)   # past start-up
    ticks = lambda: sum(int(x) for x in open(f"/proc/{p.pid}/stat").read().rsplit(")", 1)[1]
                        .split()[11:13])
    a = ticks()
    time.sleep(seconds)
    b = ticks()
    p.wait()
    return (b - a) / os.sysconf("SC_CLK_TCK") / seconds * 100


# A UDP flood from the guest to a destination the policy denies
FLOOD = """
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
end, n = time.monotonic() + float(sys.argv[1]), 0
while time.monotonic() < end:
    for _ in range(1000):
        s.sendto(b"x" * 64, (sys.argv[2], 9))
    n += 1000
print("flood", n)
"""
FLOOD_RULE = ["--deny", "udp://198.18.0.1:9"]


def thousand_rules():
    """1,000 deny rules that none of the bench's traffic matches (in
    198.18.0.0/15, the benchmarking range)."""
    args = []
    for i in range(1000):
        args += ["--deny", f"tcp://198.18.{i // 250}.{i % 250 + 1}/32:{1000 + i}"]
    return args


def with_counters(extra, command, mtu=65520):
    """sh -c @command through xdpslirp (@extra options): its output, the
    workers' "time working" in ms and the XDP program's policy drops, from
    the counters xdpslirp prints at exit."""
    p = subprocess.run(in_host(XDPSLIRP, "--mtu", str(mtu), *extra, "--", "sh", "-c", command),
                       capture_output=True, text=True)
    work = sum(int(v) for v in re.findall(r"time working (\d+) ms", p.stderr))
    drops = re.search(r"policy: denied (\d+)", p.stderr)
    return p.stdout, work, int(drops.group(1)) if drops else 0


def policy_bench(t, reps):
    """Medians of: TCP up and HTTP close with 1,000 rules and without; the
    workers' ms working while idle, under the flood (AF_XDP and tap), and
    an upload with and without the flood beside it."""
    up = " ".join(iperf(t)("10.0.2.2"))
    http = " ".join(wrk(t)("10.0.2.2")).replace("Connection: close", "'Connection: close'")
    flood = f"/usr/bin/python3 -c '{FLOOD}' {t} 198.18.0.1"
    local = f"/usr/bin/python3 -c '{FLOOD}' {t} 127.0.0.1"     # never reaches the gateway
    r = {k: [] for k in ("up", "up_rules", "http", "http_rules", "idle", "flood_xdp", "flood_tap",
                         "sent", "xdp_drops", "up_flood", "up_local_flood")}
    for rep in range(reps):
        for key, extra, cmd, parse in (("up", [], up, parse_gbps),
                                       ("up_rules", thousand_rules(), up, parse_gbps),
                                       ("http", [], http, parse_rps),
                                       ("http_rules", thousand_rules(), http, parse_rps),
                                       ("up_flood", FLOOD_RULE, f"{flood} >/dev/null & {up}",
                                        parse_gbps),
                                       ("up_local_flood", FLOOD_RULE,
                                        f"{local} >/dev/null & {up}", parse_gbps)):
            r[key].append(parse(with_counters(extra, cmd)[0]))
        r["idle"].append(with_counters(FLOOD_RULE, f"sleep {t}")[1])
        out, work, drops = with_counters(FLOOD_RULE, flood)
        r["flood_xdp"].append(work)
        r["xdp_drops"].append(drops)
        r["sent"].append(int(out.split()[1]) if out.startswith("flood") else None)
        r["flood_tap"].append(with_counters(FLOOD_RULE + ["--backend", "tap"], flood)[1])
        print(f"rep {rep + 1} policy: " + ", ".join(f"{k} {v[-1]}" for k, v in r.items()),
              file=sys.stderr, flush=True)
    return {k: statistics.median([x for x in v if x is not None] or [0]) for k, v in r.items()}


def print_policy(m, t):
    def pct(a, b):
        return f"{a / b:.2f}x" if b else "-"
    print(f"\nxdpslirp with 1,000 rules against none: TCP up {m['up_rules']:.2f} vs "
          f"{m['up']:.2f} Gbit/s ({pct(m['up_rules'], m['up'])}), HTTP Connection: close "
          f"{m['http_rules']:.2f} vs {m['http']:.2f} k req/s ({pct(m['http_rules'], m['http'])})")
    print(f"denied UDP flood from the guest, {t} s: {m['sent']:.0f} datagrams, "
          f"{m['xdp_drops']:.0f} dropped in XDP; workers' time working: {m['idle']:.0f} ms "
          f"idle, {m['flood_xdp']:.0f} ms under the flood (AF_XDP), {m['flood_tap']:.0f} ms "
          f"(tap backend: the engine refuses each); an allowed upload beside the flood "
          f"{m['up_flood']:.2f} Gbit/s, beside the same flood sent to the guest's own "
          f"loopback (its CPU cost without the gateway) {m['up_local_flood']:.2f} "
          f"({pct(m['up_flood'], m['up_local_flood'])}), alone {m['up']:.2f}")


RUNNERS = {"kernel": run_kernel, "xdpslirp": run_xdpslirp, "xdpslirp-tap": run_xdpslirp_tap,
           "xdpslirp-s4n": run_xdpslirp_s4n, "pasta": run_pasta, "slirp4netns": run_slirp4netns,
           "before": run_before}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--json", default=None)
    ap.add_argument("--mtus", default="65520,1500")
    ap.add_argument("--only", default="")
    ap.add_argument("--paths", default=",".join(PATHS))
    ap.add_argument("--xdpslirp-args", default="")
    ap.add_argument("--before", default="")
    ap.add_argument("--policy", action="store_true")
    opt = ap.parse_args()
    XDPSLIRP_ARGS[:] = opt.xdpslirp_args.split()
    PATHS[:] = opt.paths.split(",")
    if opt.before:
        BEFORE[:] = [os.path.abspath(opt.before)]
        PATHS.append("before")
    if os.geteuid() != 0:
        sys.exit("bench: run as root (namespaces, XDP)")

    t = opt.seconds
    # (cell name, MTU, client command, parser, unit, higher is better)
    cells = []
    for mtu in map(int, opt.mtus.split(",")):
        cells += [(f"TCP up, MTU {mtu}", mtu, iperf(t), parse_gbps, "Gbit/s", True),
                  (f"TCP down, MTU {mtu}", mtu, iperf(t, reverse=True), parse_gbps, "Gbit/s", True),
                  (f"TCP up x4, MTU {mtu}", mtu, iperf(t, streams=4), parse_gbps, "Gbit/s", True),
                  (f"TCP down x4, MTU {mtu}", mtu, iperf(t, True, 4), parse_gbps, "Gbit/s", True),
                  (f"UDP up 1400 B, MTU {mtu}", mtu, iperf(t, udp=True), parse_gbps, "Gbit/s", True),
                  (f"TCP6 up, MTU {mtu}", mtu, iperf(t, v6=True), parse_gbps, "Gbit/s", True),
                  (f"TCP6 down, MTU {mtu}", mtu, iperf(t, reverse=True, v6=True), parse_gbps,
                   "Gbit/s", True)]
    mtu0 = int(opt.mtus.split(",")[0])
    cells += [("TCP RR p50 one way", mtu0, sockperf(t), parse_percentile("50.00"), "us", False),
              ("TCP RR p99 one way", mtu0, sockperf(t), parse_percentile("99.00"), "us", False),
              ("HTTP, Connection: close", mtu0, wrk(t), parse_rps, "k req/s", True),
              ("1,000 connections down", mtu0, wrk_many(t), parse_transfer_gbps, "Gbit/s",
               True)]
    # gateway CPU per GB, from the runs of these cells (no run of their own)
    cpu_of = {name: f"gateway CPU, {name}" for name, *_ in cells
              if name.startswith(("TCP up, ", "TCP down, "))}
    cells += [(c, None, None, None, "s/GB", False) for c in cpu_of.values()]
    # resident memory: idle (a guest that sleeps; parser None: the value is
    # the peak itself) and the peak over the 1,000-connection runs
    mem_of = {"1,000 connections down": "resident memory, 1,000 connections (peak)"}
    cells += [("resident memory, idle (peak)", mtu0, lambda _: ["sleep", "2"], None, "MB",
               False)] + [(c, None, None, None, "MB", False) for c in mem_of.values()]
    cells = [c for c in cells if opt.only in c[0] and not opt.policy]
    raw = {c[0]: {p: [] for p in RUNNERS} for c in cells}
    setup()
    www = tempfile.mkdtemp(prefix="xdpslirp-bench-")
    servers = [subprocess.Popen(in_host(*cmd), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
               for cmd in (["iperf3", "-s", "-B", "0.0.0.0"], ["iperf3", "-s", "-p", "5202", "-B", "::"],
                           ["sockperf", "server", "-i", "0.0.0.0", "-p", "11111", "--tcp"],
                           nginx_server(www))]
    try:
        time.sleep(0.5)     # neither server has a readiness signal
        for rep in range(opt.reps):
            outs = {}
            for name, mtu, args, parse, unit, _ in cells:
                for p in PATHS if args else ():
                    # RR cells share one run: the p50 and p99 of the same pings
                    key = (p, args)
                    if key not in outs or not name.startswith("TCP RR"):
                        outs[key] = RUNNERS[p](mtu, args)
                    out, cpu, mb = outs[key]
                    v = parse(out) if parse else mb
                    raw[name][p].append(v)
                    if name in cpu_of:
                        raw[cpu_of[name]][p].append(cpu / (v * t / 8) if v and cpu else None)
                    if name in mem_of:
                        raw[mem_of[name]][p].append(mb)
                    print(f"rep {rep + 1} {name:24} {p:12} "
                          f"{'failed' if v is None else f'{v:.2f} {unit}'}",
                          file=sys.stderr, flush=True)
        full = not opt.only and not opt.policy  # a partial run skips the xdpslirp-only checks
        idle = idle_cpu() if full else None
        steady = {mtu: over_time(mtu) for mtu in map(int, opt.mtus.split(","))} if full else {}
        policy = policy_bench(t, opt.reps) if full or opt.policy else None
    finally:
        for srv in servers:     # SIGTERM: nginx takes its worker down with it
            srv.terminate()
            try:
                srv.wait(timeout=10)
            except subprocess.TimeoutExpired:
                srv.kill()
                srv.wait()
        teardown()
        shutil.rmtree(www, ignore_errors=True)

    def med(v):
        v = [x for x in v if x is not None]
        return statistics.median(v) if v else None

    def fmt(v):
        return "-" if v is None else f"{v:.2f}"

    def ratio(a, b):
        return "-" if a is None or not b else f"{a / b:.2f}x"

    print(f"\nmedian of {opt.reps} runs of {opt.seconds}s each, interleaved "
          f"({time.strftime('%Y-%m-%d')}, {os.cpu_count()} vCPUs); ratios are xdpslirp's, "
          "above 1 is better\n")
    # xdpslirp's other paths: their value and (tap) their ratio to pasta
    others = [p for p in ("xdpslirp-tap", "xdpslirp-s4n", "before") if p in PATHS]
    heads = {"xdpslirp-tap": " tap backend | tap vs pasta |", "xdpslirp-s4n": " as slirp4netns |",
             "before": " before | vs before |"}
    print("| cell | kernel | xdpslirp | pasta | slirp4netns | vs pasta | vs slirp4netns | vs kernel |"
          + "".join(heads[p] for p in others))
    print("|---|---|---|---|---|---|---|---|" + "".join("---|" * heads[p].count("|") for p in others))
    for name, _, _, _, unit, higher in cells:
        m = {p: med(raw[name][p]) for p in RUNNERS}

        def r(other, mine="xdpslirp"):
            a, b = (m[mine], m[other]) if higher else (m[other], m[mine])
            return ratio(a, b)
        cols = {"xdpslirp-tap": f" {fmt(m['xdpslirp-tap'])} | {r('pasta', 'xdpslirp-tap')} |",
                "xdpslirp-s4n": f" {fmt(m['xdpslirp-s4n'])} |",
                "before": f" {fmt(m['before'])} | {r('before')} |"}
        print(f"| {name} ({unit}) | {fmt(m['kernel'])} | {fmt(m['xdpslirp'])} | "
              f"{fmt(m['pasta'])} | {fmt(m['slirp4netns'])} | {r('pasta')} | "
              f"{r('slirp4netns')} | {r('kernel')} |" + "".join(cols[p] for p in others))
    if policy:
        print_policy(policy, t)
    if idle is not None:
        print(f"\nxdpslirp idle (adaptive polling): {idle:.2f}% of one CPU")
    for mtu, r in steady.items():
        print(f"xdpslirp 20 s upload at MTU {mtu}: last second = "
              f"{'-' if r is None else f'{r * 100:.0f}%'} of the median second "
              f"({'no collapse' if r and r >= 0.8 else 'COLLAPSE'})")
    # a partial run keeps the full run's results and charts
    base = os.path.join(ROOT, "build", "bench" if full and set(PATHS) >= set(GATEWAYS + ["kernel"])
                        else "bench-partial")
    opt.json = opt.json or base + ".json"
    rows = relative(cells, raw, med)
    if all(p in PATHS for p in ["kernel"] + GATEWAYS):
        print("\n" + text_chart(rows, os.path.splitext(opt.json)[0] + ".txt"))
        png = os.path.splitext(opt.json)[0] + ".png"
        chart(rows, png)
        print(f"chart: {png}")
    os.makedirs(os.path.dirname(opt.json), exist_ok=True)
    with open(opt.json, "w") as f:
        json.dump({"date": time.strftime("%Y-%m-%dT%H:%M:%S"), "reps": opt.reps,
                   "seconds": opt.seconds, "results": raw, "idle_cpu_percent": idle,
                   "policy": policy,
                   "last_second_over_median": steady},
                  f, indent=1)


if __name__ == "__main__":
    main()
