# SPDX-License-Identifier: MIT
"""xdpslirp invoked as slirp4netns (build/slirp4netns, a link to it), with
the command lines Podman 4.3 and RootlessKit 1.1 pass (see
shared/notes/slirp4netns-invocations.md): the ready and exit fds, the
interface -c configures, the API's exact replies, a tap RootlessKit made
itself, as root and as an unprivileged user, and SIGKILL."""
import json
import os
import select
import signal
import socket
import subprocess

import pytest

from conftest import (api_call, PEER, ROOT, ROOTLESS_USERNS, link_exists, sh, unique, user_owned_netns,
                      wait_until)

S4N = os.path.join(ROOT, "build", "slirp4netns")
MiB = 1 << 20
NOBODY = 65534


class Slirp:
    """build/slirp4netns ARGS, its fds placed as its caller places them:
    @ready at fd @ready_fd, the exit pipe's read end at fd @exit_fd."""

    def __init__(self, args, ready_fd=4, exit_fd=None, netns=None, user=None):
        self.ready_r, ready_w = os.pipe()
        fds = {ready_fd: ready_w}
        self.exit_w = None
        if exit_fd is not None:
            exit_r, self.exit_w = os.pipe()
            fds[exit_fd] = exit_r
        prefix = ["ip", "netns", "exec", netns] if netns else []
        if user:
            prefix += ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", "--"]
        self.errfile = open(f"/tmp/{unique('s4nlog')}", "w+")

        def place():        # in the child: the fds where the caller puts them
            for target, fd in fds.items():
                os.dup2(fd, target)
                os.set_inheritable(target, True)

        self.proc = subprocess.Popen(prefix + [S4N] + list(args), preexec_fn=place,
                                     pass_fds=tuple(fds), stdout=self.errfile,
                                     stderr=subprocess.STDOUT)
        for fd in fds.values():
            os.close(fd)

    def wait_ready(self, timeout=15):
        """The ready byte, then the fd's end: what Podman and RootlessKit read."""
        got = b""
        while True:
            rl, _, _ = select.select([self.ready_r], [], [], timeout)
            assert rl, "no ready byte:\n" + self.output()
            b = os.read(self.ready_r, 16)
            if not b:
                break
            got += b
        os.close(self.ready_r)
        assert got == b"1", f"ready fd carried {got!r}:\n" + self.output()

    def output(self):
        self.errfile.seek(0)
        return self.errfile.read()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def slirp():
    started = []

    def start(*args, **kw):
        s = Slirp(args, **kw)
        started.append(s)
        return s

    yield start
    for s in started:
        s.kill()
        s.errfile.close()
        os.unlink(s.errfile.name)


def guest_addrs(ns, family):
    out = sh("ip", "-n", ns, "-j", family, "addr", "show", "dev", "tap0").stdout
    return {a["local"] + "/" + str(a["prefixlen"]) for a in json.loads(out)[0]["addr_info"]
            if a.get("scope") == "global"}


def test_help_and_version_through_the_link():
    r = subprocess.run([S4N, "--help"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0
    for flag in ("--netns-type", "--disable-host-loopback", "--mtu", "--enable-sandbox",
                 "--enable-seccomp", "--cidr", "--outbound-addr", "--enable-ipv6",
                 "--api-socket"):
        assert flag in r.stdout, flag
    r = subprocess.run([S4N, "--version"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0 and r.stdout.startswith("slirp4netns version "), r.stdout
    assert "xdpslirp" in r.stdout and "SLIRP_CONFIG_VERSION_MAX: 4" in r.stdout
    r = subprocess.run([S4N, "--frobnicate", "1"], capture_output=True, text=True, timeout=10)
    assert r.returncode != 0 and "unknown option" in r.stderr, r.stderr


def test_podman_rootful(slirp, netns, tmp_path):
    """Podman's rootful call: -c configures tap0 (a veth served with AF_XDP,
    as root), the API takes Podman's requests, the exit fd's end stops it."""
    ns = netns()
    sock = str(tmp_path / "ctr.net")
    s = slirp("--disable-host-loopback", "--mtu=65520", "--enable-sandbox", "--enable-seccomp",
              "--enable-ipv6", "-c", "-e", "3", "-r", "4", "--api-socket", sock,
              "--netns-type=path", f"/run/netns/{ns}", "tap0", exit_fd=3, ready_fd=4)
    s.wait_ready()
    assert os.path.exists(sock)            # listening before the ready byte
    link = json.loads(sh("ip", "-n", ns, "-j", "-d", "link", "show", "tap0").stdout)[0]
    assert link["mtu"] == 65520 and link["linkinfo"]["info_kind"] == "veth", link
    assert guest_addrs(ns, "-4") == {"10.0.2.100/24"}
    assert "default via 10.0.2.2" in sh("ip", "-n", ns, "route").stdout
    # IPv6 as slirp4netns: SLAAC in fd00::/64 from our router advertisements
    wait_until(lambda: any(a.startswith("fd00::") for a in guest_addrs(ns, "-6")),
               what="SLAAC address")
    # published ports as Podman asks for them: guest_addr empty
    srv = subprocess.Popen(["ip", "netns", "exec", ns, "/usr/bin/python3", PEER, "serve",
                            "0.0.0.0", "80"], stdout=subprocess.PIPE, text=True)
    try:
        assert srv.stdout.readline().strip() == "ready"
        add = {"execute": "add_hostfwd", "arguments": {"proto": "tcp", "host_addr": "0.0.0.0",
                                                       "host_port": 18080, "guest_addr": "",
                                                       "guest_port": 80}}
        assert api_call(sock, add, newline=True) == {"return": {"id": 1}}
        r = subprocess.run(["/usr/bin/python3", PEER, "client", "127.0.0.1", "18080", "both",
                            str(4 * MiB), "5"], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and r.stdout.startswith("ok"), r.stdout + r.stderr
    finally:
        srv.kill()
        srv.wait()
    assert api_call(sock, {"execute": "list_hostfwd"}, newline=True) == {"entries": [
        {"id": 1, "proto": "tcp", "host_addr": "0.0.0.0", "host_port": 18080,
         "guest_addr": "10.0.2.100", "guest_port": 80}]}
    assert api_call(sock, {"execute": "remove_hostfwd", "arguments": {"id": 1}}, newline=True) == {"return": {}}
    assert api_call(sock, {"execute": "list_hostfwd"}, newline=True) == {"entries": []}
    for bad in ("{", '{"arguments": {}}', '{"execute": "frobnicate"}',
                '{"execute": "add_hostfwd", "arguments": {"proto": "sctp"}}',
                '{"execute": "remove_hostfwd", "arguments": {"id": "x"}}'):
        err = api_call(sock, bad, newline=True)
        assert list(err) == ["error"] and err["error"]["desc"].startswith("bad request: "), err
    # --disable-host-loopback: the host's loopback is not the gateway
    r = sh("ip", "netns", "exec", ns, "/usr/bin/python3", "-c",
           "import socket\ntry:\n socket.create_connection(('10.0.2.2', 22), 5)\n"
           "except OSError as e:\n print(e.errno)", check=False)
    assert r.stdout.strip() in ("101", "111"), r.stdout + r.stderr
    os.close(s.exit_w)                     # conmon exits
    assert s.proc.wait(timeout=20) == 0, s.output()
    assert not link_exists("tap0", netns=ns)


def rootlesskit_tap(ns, holder=None, user=None):
    """The tap as RootlessKit's PrepareTap() makes it: created and set up,
    from inside the namespace (as @user, through its user namespace)."""
    enter = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups",
             "nsenter", "-t", str(holder.pid), "-U", "-n", "--preserve-credentials"] \
        if user else ["ip", "netns", "exec", ns]
    sh(*enter, "ip", "tuntap", "add", "name", "tap0", "mode", "tap")
    sh(*enter, "ip", "link", "set", "tap0", "up")
    return enter


def rootlesskit_configure(enter):
    """What RootlessKit's child does after the ready byte."""
    sh(*enter, "ip", "link", "set", "dev", "tap0", "mtu", "65520")
    sh(*enter, "ip", "addr", "add", "10.0.2.100/24", "dev", "tap0")
    sh(*enter, "ip", "route", "add", "default", "via", "10.0.2.2", "dev", "tap0")


@pytest.mark.parametrize("user", [None, NOBODY], ids=["root", "rootless"])
def test_rootlesskit_existing_tap(slirp, netns, user):
    """RootlessKit's call: the tap exists already, it is served with the tap
    backend (no -c: RootlessKit configures it), the API takes a forward;
    SIGKILL, as RootlessKit stops its helper, leaves the tap free at once."""
    name = unique("xsr")
    holder = user_owned_netns(name, user) if user else None
    if not holder:
        sh("ip", "netns", "add", name)
        holder = subprocess.Popen(["ip", "netns", "exec", name, "sleep", "infinity"])
    try:
        enter = rootlesskit_tap(name, holder, user)
        sockdir = f"/tmp/{unique('s4nsock')}"
        os.mkdir(sockdir)
        if user:
            os.chown(sockdir, user, user)
        sock = f"{sockdir}/.s4nn.sock"
        s = slirp("--mtu", "65520", "-r", "3", "--disable-host-loopback", "--api-socket", sock,
                  "--enable-sandbox", "--enable-seccomp", "--enable-ipv6", str(holder.pid),
                  "tap0", ready_fd=3, user=user)
        s.wait_ready()
        assert "existing tap" in s.output() or "tap fd" in s.output(), s.output()
        rootlesskit_configure(enter)
        # rootlessctl add-ports 127.0.0.1:18081:80/tcp
        srv = subprocess.Popen(enter + ["/usr/bin/python3", PEER, "serve", "10.0.2.100", "80"],
                               stdout=subprocess.PIPE, text=True)
        assert srv.stdout.readline().strip() == "ready"
        add = {"execute": "add_hostfwd", "arguments": {"proto": "tcp", "host_addr": "127.0.0.1",
                                                       "host_port": 18081,
                                                       "guest_addr": "10.0.2.100",
                                                       "guest_port": 80}}
        reply = api_call(sock, add, newline=True)
        assert isinstance(reply["return"]["id"], int), reply
        r = subprocess.run(["/usr/bin/python3", PEER, "client", "127.0.0.1", "18081", "both",
                            str(8 * MiB), "9"], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and r.stdout.startswith("ok"), r.stdout + r.stderr + s.output()
        srv.kill()
        srv.wait()
        s.proc.send_signal(signal.SIGKILL)
        s.proc.wait()
        # nothing of ours remains: the tap is RootlessKit's and free again
        out = subprocess.run(["pgrep", "-P", str(s.proc.pid)], capture_output=True)
        assert out.returncode != 0
        assert link_exists("tap0", netns=name)
        t = slirp("-r", "3", str(holder.pid), "tap0", ready_fd=3, user=user)
        t.wait_ready()
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True)
        ROOTLESS_USERNS.pop(f"/run/netns/{name}", None)
        holder.kill()
        holder.wait()
