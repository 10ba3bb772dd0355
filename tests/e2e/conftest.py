# SPDX-License-Identifier: MIT
"""End-to-end harness: namespaces, links and xdpslirp processes that each
test creates under unique names and always removes, even when it fails.

Traffic stays inside namespaces the test made: nothing here reaches any
address outside them.
"""
import itertools
import json
import os
import shutil
import re
import select
import signal
import socket
import struct
import subprocess
import tempfile
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARY = os.environ.get("XDPSLIRP", os.path.join(ROOT, "build", "xdpslirp"))
# options every xdpslirp of the run gets first (the sanitized suites:
# --no-sandbox, as the sanitizers' runtimes read /proc and trace threads)
EXTRA_ARGS = tuple(os.environ.get("XDPSLIRP_TEST_ARGS", "").split())
_seq = itertools.count()


def unique(prefix):
    """A name unique to this run, short enough for a link (15 chars)."""
    return f"{prefix}{os.getpid() % 100000}x{next(_seq)}"


def sh(*args, check=True, **kw):
    return subprocess.run(list(args), check=check, capture_output=True, text=True, **kw)


def link_exists(name, netns=None):
    cmd = ["ip"] + (["-n", netns] if netns else []) + ["link", "show", name]
    return subprocess.run(cmd, capture_output=True).returncode == 0


def links_with_xdp():
    out = sh("ip", "-o", "link", "show").stdout
    return [l.split(": ")[1].split("@")[0] for l in out.splitlines()
            if " xdp " in l or " xdpgeneric " in l or " xdpdrv " in l]


def wait_until(cond, timeout=10.0, what="condition"):
    """Polls @cond for state that has no event to wait on (link deletion by
    the kernel's namespace cleanup): bounded, never a fixed sleep."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


# make check runs suites again with more queues than the default (one per CPU),
# and on the tap backend (XDPSLIRP_TEST_BACKEND=tap) for guests it creates
QUEUES = os.environ.get("XDPSLIRP_TEST_QUEUES")
BACKEND = os.environ.get("XDPSLIRP_TEST_BACKEND")
# XDPSLIRP_TEST_ROOTLESS=UID runs xdpslirp as that user (tap backend), with
# the guest namespace owned by a user namespace of the same user
ROOTLESS = os.environ.get("XDPSLIRP_TEST_ROOTLESS")
ROOTLESS_USERNS = {}    # guest netns path -> its user namespace, a /proc path
# the last line of a counters block, per backend
COUNTERS_END = re.compile(r": (xdp: redirected|tap: \d+ queues|stream: \d+ queues)")


class Xdpslirp:
    """One xdpslirp process: started with --ready-fd, stderr kept in a file."""

    def __init__(self, args, ready=True, netns=None, pass_fds=(), daemon=False):
        own_port = "--ifname" in args or "--socket" in args    # their queues are given
        if QUEUES and "--queues" not in args and not own_port:
            args = ("--queues", QUEUES) + tuple(args)
        if BACKEND and "--backend" not in args and not own_port and not daemon:
            args = ("--backend", BACKEND) + tuple(args)
        args = EXTRA_ARGS + tuple(args)     # --no-sandbox: the daemon's too
        if ROOTLESS and "--ifname" in args:
            pytest.skip("--ifname serves a link through XDP: root only")
        if ROOTLESS and "--netns" in args:
            path = args[args.index("--netns") + 1]
            args = ("--userns-path", ROOTLESS_USERNS[path]) + args
        self.log = tempfile.TemporaryFile(mode="w+")
        r, w = os.pipe()
        prefix = ["ip", "netns", "exec", netns] if netns else []
        if ROOTLESS:
            prefix += ["setpriv", f"--reuid={ROOTLESS}", f"--regid={ROOTLESS}",
                       "--clear-groups", "--"]
        # ip netns exec execs the command: the pid stays xdpslirp's
        self.proc = subprocess.Popen(prefix + [BINARY] + ["daemon"] * daemon +
                                     ["--ready-fd", str(w)] + list(args),
                                     pass_fds=(w,) + tuple(pass_fds), stdout=subprocess.PIPE,
                                     stderr=self.log, text=True)
        os.close(w)
        self.ready_fd = r
        self.host_ifname = f"xsl{self.proc.pid}"
        if ready:
            self.wait_ready()

    def wait_ready(self, timeout=10):
        rl, _, _ = select.select([self.ready_fd], [], [], timeout)
        data = os.read(self.ready_fd, 1) if rl else b""
        os.close(self.ready_fd)
        if data != b"1":
            self.kill()
            raise AssertionError(f"xdpslirp did not become ready:\n{self.stderr()}")

    def send(self, sig):
        self.proc.send_signal(sig)

    def wait(self, timeout=20):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"xdpslirp did not exit:\n{self.stderr()}")

    def stop(self, sig=signal.SIGTERM):
        self.send(sig)
        return self.wait()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stderr(self):
        self.log.seek(0)
        return self.log.read()

    def snapshot(self):
        """Counters now (SIGUSR1, then counters())."""
        before = len(COUNTERS_END.findall(self.stderr()))
        self.send(signal.SIGUSR1)
        wait_until(lambda: len(COUNTERS_END.findall(self.stderr())) > before,
                   what="counters")
        return self.counters()

    def counters(self):
        """The last counters printed (at SIGUSR1 or exit), summed over the
        queues; per queue for frames received and sent."""
        err = self.stderr()
        ends = [m.start() for m in COUNTERS_END.finditer(err)]
        block = err[err.rfind("queue 0: rx ", 0, ends[-1] if ends else -1):]
        snap = {"evicted": 0, "flows": 0, "half_open": 0, "handed_off": 0, "dropped": 0,
                "fast_retransmits": 0, "working_ms": 0,
                "xdp_denied": 0, "xdp_blocked": 0, "xdp_notices": 0,
                "test_duplicated": 0, "test_reordered": 0,
                "rx_frames": {}, "tx_frames": {}, "drops": {}}
        for q, rx, tx in re.findall(r"queue (\d+): rx (\d+) frames \d+ bytes, tx (\d+) frames",
                                    block):
            snap["rx_frames"][int(q)] = int(rx)
            snap["tx_frames"][int(q)] = int(tx)
        for key, pat in (("evicted", r"evicted (\d+)"), ("flows", r"flows (\d+),"),
                         ("half_open", r"half-open (\d+)"), ("dropped", r", dropped (\d+)"),
                         ("handed_off", r"handed off (\d+)"),
                         ("fast_retransmits", r"tcp fast retransmits (\d+)"),
                         ("working_ms", r"time working (\d+) ms"),
                         ("xdp_denied", r"policy: denied (\d+)"),
                         ("xdp_blocked", r"policy: denied \d+, blocked (\d+)"),
                         ("xdp_notices", r"passed on to answer (\d+)"),
                         ("test_duplicated", r"test faults: duplicated (\d+)"),
                         ("test_reordered", r"test faults: duplicated \d+, reordered (\d+)")):
            snap[key] = sum(int(v) for v in re.findall(pat, block))
        for line in re.findall(r"queue \d+: dropped:(.*)", block):
            for k, v in re.findall(r" (\w+) (\d+)", line):
                snap["drops"][k] = snap["drops"].get(k, 0) + int(v)
        return snap

    def wait_flows(self, n=0, timeout=20):
        """Waits (bounded) until the queues hold @n flows: connections close
        asynchronously, after the last ACK, so there is no event to await."""
        wait_until(lambda: self.snapshot()["flows"] == n, timeout=timeout,
                   what=f"{n} flows")

    def assert_frames_accounted(self):
        """The exit-time audit: no frame leaked or used twice, no flow left,
        and with several workers no claim on a flow's owner left."""
        err = self.stderr()
        audits = [l for l in err.splitlines() if "ownership violations" in l]
        assert audits, err
        for line in audits:
            assert " 0 leaked, 0 ownership violations" in line, line
        assert len(re.findall(r"queue \d+: 0 flows left", err)) == len(audits), err
        if len(audits) > 1:
            assert "xdpslirp: steering: 0 slots held" in err, err


@pytest.fixture
def xdpslirp():
    """Starts xdpslirp processes; kills (by pid) any left running."""
    started = []

    def start(*args, ready=True, netns=None, pass_fds=(), daemon=False):
        x = Xdpslirp(args, ready=ready, netns=netns, pass_fds=pass_fds, daemon=daemon)
        started.append(x)
        return x

    yield start
    for x in started:
        x.kill()


def user_owned_netns(name, uid):
    """/run/netns/@name: a network namespace in a user namespace of @uid's
    (as `unshare -rn` run by that user makes it), held by a sleeping process
    of the user's; returns that process."""
    holder = subprocess.Popen(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                               "unshare", "--user", "--map-root-user", "--net", "sh", "-c",
                               "echo in; exec sleep infinity"], stdout=subprocess.PIPE)
    assert holder.stdout.readline() == b"in\n"
    os.makedirs("/run/netns", exist_ok=True)
    path = f"/run/netns/{name}"
    open(path, "w").close()
    sh("mount", "--bind", f"/proc/{holder.pid}/ns/net", path)
    ROOTLESS_USERNS[path] = f"/proc/{holder.pid}/ns/user"
    return holder


@pytest.fixture
def user_dir():
    """A directory xdpslirp's user may write (ROOTLESS: not root's tmp_path)."""
    d = tempfile.mkdtemp(prefix="xdpslirp-test-")
    if ROOTLESS:
        os.chown(d, int(ROOTLESS), int(ROOTLESS))
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def api_path(user_dir):
    """A path for xdpslirp's API socket."""
    return os.path.join(user_dir, "api.sock")


@pytest.fixture
def netns():
    """Creates uniquely named network namespaces; deletes them afterwards.
    create(user=UID): one owned by a user namespace of UID's."""
    made, holders = [], []

    def create(user=None):
        name = unique("xst")
        if user:
            holders.append(user_owned_netns(name, user))
        else:
            sh("ip", "netns", "add", name)
        made.append(name)
        sh("ip", "-n", name, "link", "set", "lo", "up")
        return name

    yield create
    for name in made:
        subprocess.run(["ip", "netns", "del", name], capture_output=True)
        ROOTLESS_USERNS.pop(f"/run/netns/{name}", None)
    for h in holders:
        h.kill()
        h.wait()


@pytest.fixture
def veth(netns):
    """A veth pair: host end here, guest end in a new namespace, configured
    the way a user would before running xdpslirp --ifname."""
    made = []

    def create(mtu=65520, queues=1):
        ns = netns()
        host, guest = unique("xth"), unique("xtg")
        q = ["numtxqueues", str(queues), "numrxqueues", str(queues)]
        sh("ip", "link", "add", host, *q, "mtu", str(mtu), "type", "veth",
           "peer", "name", guest, *q, "mtu", str(mtu), "netns", ns)
        made.append(host)
        sh("ip", "-n", ns, "addr", "add", "10.0.2.100/24", "dev", guest)
        sh("ip", "-n", ns, "link", "set", guest, "up")
        sh("ip", "-n", ns, "route", "add", "default", "via", "10.0.2.2")
        return host, guest, ns

    yield create
    for host in made:
        subprocess.run(["ip", "link", "del", host], capture_output=True)


def daemon_pids(api):
    """The pids of daemons serving @api, found by their command line (not
    their reapers: children with the same command line)."""
    found = {}
    for p in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{p}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
            with open(f"/proc/{p}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if b"daemon" in argv and api.encode() in argv:
            found[int(p)] = ppid
    return [p for p, ppid in found.items() if ppid not in found]


def stop_daemons(api):
    """Stops (SIGTERM, by pid) every daemon serving @api, a socket path of
    the test's own: one the CNI plugin started, or one that outlived the
    process the test started (a wrapper's child, XDPSLIRP=...)."""
    for pid in daemon_pids(api):
        os.kill(pid, signal.SIGTERM)
    wait_until(lambda: not daemon_pids(api), what="the daemon's exit")


def proc_status(pid, tid=None):
    """/proc/PID/status, or thread TID's, as a dict of its fields."""
    path = f"/proc/{pid}/task/{tid}/status" if tid else f"/proc/{pid}/status"
    with open(path) as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


def status_kib(pid, field="VmHWM"):
    """A memory line of /proc/PID/status (VmHWM: the peak resident), in KiB."""
    value = proc_status(pid).get(field)
    assert value, f"no {field} for {pid}"
    return int(value.split()[0])


SANITIZED = any(s in os.path.basename(BINARY) for s in ("asan", "tsan", "ubsan"))


def api_call(path, request, newline=False):
    """One request over an API socket (@request: an object, or the raw
    text), then the write side shut (with @newline first, as Podman sends
    it); the answer, read to the connection's end, parsed (None if empty:
    a request too large is cut off while still being sent)."""
    data = request if isinstance(request, str) else json.dumps(request)
    out = b""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(30)
        s.connect(path)
        try:
            s.sendall((data + "\n" * newline).encode())
            s.shutdown(socket.SHUT_WR)
            while b := s.recv(65536):
                out += b
        except (BrokenPipeError, ConnectionResetError):
            pass
    return json.loads(out) if out else None


PEER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tcp_peer.py")
RAW = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tcp_raw.py")
UDP_PEER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "udp_peer.py")
REMOTE = "198.51.100.2"      # inside the test's own remote namespace only
REMOTE6 = "2001:db8:51::2"   # the same, IPv6 (documentation prefix, RFC 3849)


class Topology:
    """host: where xdpslirp runs, with its own loopback; guest: behind
    xdpslirp; remote: a namespace routed from host over a veth pair
    (198.51.100.1 <-> 198.51.100.2, 2001:db8:51::1 <-> ::2).  The host's
    IPv6 default route leads to the remote namespace: the host has "a route
    out", and it leads nowhere else."""

    def __init__(self, netns):
        self._netns = netns
        self.host, self.guest, self.remote = netns(), netns(user=ROOTLESS), netns()
        a, b = unique("xta"), unique("xtb")
        self.remote_link = a    # the host's end
        sh("ip", "-n", self.host, "link", "add", a, "type", "veth", "peer", "name", b,
           "netns", self.remote)
        sh("ip", "-n", self.host, "addr", "add", "198.51.100.1/24", "dev", a)
        sh("ip", "-n", self.remote, "addr", "add", REMOTE + "/24", "dev", b)
        sh("ip", "-n", self.host, "addr", "add", "2001:db8:51::1/64", "dev", a, "nodad")
        sh("ip", "-n", self.remote, "addr", "add", REMOTE6 + "/64", "dev", b, "nodad")
        sh("ip", "-n", self.host, "link", "set", a, "up")
        sh("ip", "-n", self.remote, "link", "set", b, "up")
        sh("ip", "-n", self.host, "-6", "route", "add", "default", "via", REMOTE6)
        # ping sockets for root, in the host namespace only (per-netns sysctl)
        sh("ip", "netns", "exec", self.host, "sysctl", "-qw",
           "net.ipv4.ping_group_range=0 2147483647")
        self.servers = []

    def extra_netns(self):
        """One more namespace, removed with the others."""
        return self._netns()

    def server(self, where, addr, port, peer=None, mode="serve"):
        """A server (tcp_peer.py serve, or @peer @mode) in namespace @where;
        returns once it says it is ready."""
        p = subprocess.Popen(["ip", "netns", "exec", where, "/usr/bin/python3", peer or PEER,
                              mode, addr, str(port)], stdout=subprocess.PIPE, text=True)
        self.servers.append(p)
        assert p.stdout.readline().strip() == "ready"
        return p

    def guest_run(self, *cmd, timeout=300):
        return in_netns(self.guest, *cmd, timeout=timeout)

    def peer(self, *args, timeout=300, peer=None):
        """tcp_peer.py (or @peer) in the guest."""
        return self.guest_run("/usr/bin/python3", peer or PEER, *[str(a) for a in args],
                              timeout=timeout)

    def close(self):
        for p in self.servers:
            p.kill()
            p.wait()


@pytest.fixture
def topo(netns):
    t = Topology(netns)
    yield t
    t.close()


def framed(frame):
    """@frame as a stream socket carries it (QEMU's -netdev stream): its
    length first, 32 bits big-endian."""
    return struct.pack("!I", len(frame)) + frame


def recv_framed(s):
    """The next frame from stream socket @s."""
    hdr = b""
    while len(hdr) < 4:
        b = s.recv(4 - len(hdr))
        assert b, "closed"
        hdr += b
    n, data = struct.unpack("!I", hdr)[0], b""
    while len(data) < n:
        b = s.recv(n - len(data))
        assert b, "closed mid-frame"
        data += b
    return data


def in_netns(ns, *cmd, timeout=30):
    return subprocess.run(["ip", "netns", "exec", ns] + list(cmd),
                          capture_output=True, text=True, timeout=timeout)


def run_command_mode(*args, timeout=60):
    """xdpslirp [args] as a whole process; returns CompletedProcess."""
    return subprocess.run([BINARY, *EXTRA_ARGS] + list(args), capture_output=True, text=True,
                          timeout=timeout)


# A TCP server answering each client with the address it sees it from:
# python3 -c CLIENT_ADDR_SERVER ADDR PORT
CLIENT_ADDR_SERVER = """
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(8)
print("ready", flush=True)
while True:
    c, peer = s.accept()
    c.sendall(peer[0].encode())
    c.close()
"""


def netns_etc(ns, name, text):
    """/etc/netns/NS/NAME: ip netns exec binds it over /etc/NAME for what it
    runs in NS.  A generator for a fixture: removed afterwards."""
    d = f"/etc/netns/{ns}"
    os.makedirs(d)
    with open(f"{d}/{name}", "w") as f:
        f.write(text)
    yield
    shutil.rmtree(d, ignore_errors=True)
