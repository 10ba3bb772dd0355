# SPDX-License-Identifier: MIT
"""The real clients of the drop-in slirp4netns.  Podman 4.3 runs containers
with --network slirp4netns on xdpslirp (containers.conf's network_cmd_path
= build/slirp4netns), rootful and rootless: a file fetched byte-exact from
the host's loopback over IPv4 (allow_host_loopback=true) and IPv6, a name
resolved through 10.0.2.3, a published port (port_handler=slirp4netns).
RootlessKit 1.1, as an unprivileged user, with --net=slirp4netns
--port-driver=slirp4netns --ipv6: both fetches, and a port added with
rootlessctl.

Podman runs in a network namespace of the test's own ("the host") and a
mount namespace where /etc/resolv.conf names the test's resolver on that
namespace's loopback: nothing leaves the machine.  (Not ip netns exec: it
mounts a new /sys, without the cgroup hierarchies runc needs.)  The image is busybox-static, imported from a tar."""
import hashlib
import os
import shutil
import signal
import subprocess
import tempfile

import pytest

from conftest import ROOT, sh, unique, wait_until, UDP_PEER

S4N = os.path.join(ROOT, "build", "slirp4netns")
IMAGE = "localhost/xdpslirp-test-busybox"
APPLETS = ("sh", "wget", "sha256sum", "nslookup", "ip", "cat", "grep", "httpd", "sleep",
           "timeout", "seq")
# a machine without the unified cgroup hierarchy's controllers (cgroup v1,
# as here) needs runc and cgroupfs; ulimits within what the machine allows
CONTAINERS_CONF = f"""[engine]
network_cmd_path = "{S4N}"
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
"""


class Podman:
    """podman as @user (None: root), storage and configuration in @home,
    run inside the namespace @ns."""

    def __init__(self, home, ns, user=None):
        self.home, self.ns, self.user = home, ns, user
        self.conf = os.path.join(home, "containers.conf")
        with open(self.conf, "w") as f:
            f.write(CONTAINERS_CONF)
        self.env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": home,
                    "CONTAINERS_CONF": self.conf, "XDG_RUNTIME_DIR": os.path.join(home, "run"),
                    "XDG_CONFIG_HOME": os.path.join(home, "config")}
        for d in ("run", "config", "storage", "runroot", "tmp"):
            os.makedirs(os.path.join(home, d), exist_ok=True)
        os.chmod(os.path.join(home, "run"), 0o700)

    def cmd(self, *args):
        resolv = os.path.join(self.home, "resolv.conf")
        with open(resolv, "w") as f:
            f.write("nameserver 127.0.0.1\n")
        prefix = ["nsenter", f"--net=/run/netns/{self.ns}", "unshare", "--mount", "sh", "-c",
                  'mount --bind "$0" /etc/resolv.conf && exec "$@"', resolv]
        if self.user:
            prefix += ["setpriv", f"--reuid={self.user}", f"--regid={self.user}",
                       "--init-groups", "--"]
        return prefix + ["env", "-i"] + [f"{k}={v}" for k, v in self.env.items()] + \
            ["podman", "--root", os.path.join(self.home, "storage"),
             "--runroot", os.path.join(self.home, "runroot"),
             "--tmpdir", os.path.join(self.home, "tmp"), "--storage-driver", "vfs"] + list(args)

    def run(self, *args, timeout=180, check=True):
        r = subprocess.run(self.cmd(*args), capture_output=True, text=True, timeout=timeout)
        if check:
            assert r.returncode == 0, f"podman {' '.join(args)}:\n{r.stdout}{r.stderr}"
        return r

    def popen(self, *args):
        return subprocess.Popen(self.cmd(*args), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)


def make_image(home, data):
    """A busybox-static root with /www/file.bin = @data, as a tar."""
    root = os.path.join(home, "rootfs")
    for d in ("bin", "etc", "tmp", "www", "proc", "sys", "dev"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    shutil.copy("/bin/busybox", os.path.join(root, "bin", "busybox"))
    for a in APPLETS:
        os.symlink("busybox", os.path.join(root, "bin", a))
    with open(os.path.join(root, "www", "file.bin"), "wb") as f:
        f.write(data)
    tar = os.path.join(home, "rootfs.tar")
    sh("tar", "-C", root, "-cf", tar, ".")
    return tar


@pytest.fixture
def host_ns(netns):
    """The namespace Podman runs in: its loopback serves files (IPv4 and
    IPv6) and DNS."""
    ns = netns()
    procs = []

    def serve(*cmd):
        p = subprocess.Popen(["ip", "netns", "exec", ns] + list(cmd), stdout=subprocess.PIPE,
                             text=True)
        procs.append(p)
        return p

    yield ns, serve
    for p in procs:
        p.kill()
        p.wait()


DATA = os.urandom(3 << 20)
DIGEST = hashlib.sha256(DATA).hexdigest()


def podman_netns_files():
    """The namespace files rootful Podman makes, /run/netns/netns-UUID."""
    return {n for n in os.listdir("/run/netns") if n.startswith("netns-")}


@pytest.fixture
def podman_netns_cleanup():
    """Rootful Podman 4.3, run in a mount namespace of its own, unmounts a
    container's namespace there but leaves the file it made in /run/netns:
    each the test made is removed, even if the test fails."""
    before = podman_netns_files()
    yield
    for name in podman_netns_files() - before:
        os.unlink(os.path.join("/run/netns", name))


@pytest.fixture
def podman_env(host_ns, tmp_path, podman_netns_cleanup):
    ns, serve = host_ns
    home = tempfile.mkdtemp(prefix="xdpslirp-podman-")
    with open(os.path.join(home, "file.bin"), "wb") as f:
        f.write(DATA)
    # the host's loopback, both families, and the resolver
    for addr in ("127.0.0.1", "::1"):
        p = serve("/usr/bin/python3", "-c", HTTP_SERVER, addr, "18090", home)
        assert p.stdout.readline().strip() == "ready"
    p = serve("/usr/bin/python3", UDP_PEER, "dns", "127.0.0.1", "53")
    assert p.stdout.readline().strip() == "ready"
    yield ns, home
    shutil.rmtree(home, ignore_errors=True)


HTTP_SERVER = """
import functools, http.server, socket, sys
class Server(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[3])
handler.log_message = lambda *a: None
srv = Server((sys.argv[1], int(sys.argv[2])), handler)
print("ready", flush=True)
srv.serve_forever()
"""

# in the container: IPv4 fetch through the gateway, a name through 10.0.2.3,
# then (once SLAAC has given it an address) the IPv6 fetch
GUEST_SCRIPT = """
wget -q -O - http://10.0.2.2:18090/file.bin | sha256sum
nslookup xdpslirp-test.example 10.0.2.3 | grep -A2 -i '^name'
for i in $(seq 100); do ip -6 addr show scope global | grep -q 'inet6 fd00:' && break; sleep 0.1; done
ip -6 addr show scope global | grep -o 'inet6 fd00:[^ ]*'
wget -q -O - 'http://[fd00::2]:18090/file.bin' | sha256sum
"""


def check_guest_output(out):
    lines = out.split("\n")
    assert lines.count(f"{DIGEST}  -") == 2, out      # both families, byte-exact
    assert "192.0.2.21" in out, out                   # the test resolver's answer
    assert "inet6 fd00::" in out, out


def podman_for(user, ns, home):
    p = Podman(home, ns, user)
    if user:
        shutil.chown(home, user, user)
        for d in os.listdir(home):
            shutil.chown(os.path.join(home, d), user, user)
    tar = make_image(home, DATA)
    if user:
        shutil.chown(tar, user, user)
    p.run("import", tar, IMAGE)
    return p


@pytest.fixture
def test_user():
    """A user made for the test, with subordinate ids (Debian's useradd
    gives them), removed afterwards with the pause process rootless Podman
    leaves to hold its user namespace."""
    name = unique("xsu")
    sh("useradd", "-M", "-d", "/nonexistent", "-s", "/usr/sbin/nologin", name)
    try:
        with open("/etc/subuid") as f:
            if not any(l.startswith(name + ":") for l in f):
                sh("usermod", "--add-subuids", "300000-365535", "--add-subgids",
                   "300000-365535", name)
        uid = int(sh("id", "-u", name).stdout)
        yield uid
    finally:
        pids = sh("pgrep", "-u", name, check=False).stdout.split()
        for pid in pids:     # only this user's: the pause process, if any
            os.kill(int(pid), signal.SIGKILL)
        subprocess.run(["userdel", name], capture_output=True)


@pytest.fixture(params=["rootful", "rootless"])
def podman(request, podman_env):
    """Podman as root, or as a test user (the tap backend, in Podman's user
    namespace)."""
    ns, home = podman_env
    user = request.getfixturevalue("test_user") if request.param == "rootless" else None
    return podman_for(user, ns, home), ns, home


def test_podman(podman):
    p, ns, home = podman
    r = p.run("run", "--rm", "--pull=never", "--network", "slirp4netns:allow_host_loopback=true",
              IMAGE, "sh", "-c", GUEST_SCRIPT)
    check_guest_output(r.stdout)
    publish_and_fetch(p, ns, 18095)
    assert "xdpslirp" in p.run("info", "--format", "{{.Host.Slirp4NetNS.Version}}").stdout
    assert not xdpslirps_of(home)


def publish_and_fetch(p, ns, port):
    """-p PORT:80 with port_handler=slirp4netns (xdpslirp's API serves it):
    the container's httpd, reached from the host."""
    name = "xdpslirp-test-httpd"
    ctr = p.popen("run", "--rm", "--pull=never", "--name", name, "--network",
                  "slirp4netns:port_handler=slirp4netns", "-p", f"{port}:80", IMAGE,
                  "httpd", "-f", "-p", "80", "-h", "/www")
    try:
        got = fetch_published(ns, port, ctr)
        assert hashlib.sha256(got).hexdigest() == DIGEST
    finally:
        # httpd is the container's PID 1: SIGTERM means nothing to it
        p.run("kill", name, check=False)
        out, _ = ctr.communicate(timeout=60)
    assert ctr.returncode is not None, out


def xdpslirps_of(home):
    """xdpslirp processes still running for the containers of @home."""
    left = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().split(b"\0")
        except OSError:
            continue
        if cmd[0] == S4N.encode() and any(home.encode() in a for a in cmd):
            left.append(pid)
    return left


def fetch_published(ns, port, ctr):
    """The file, through the published port, once the container serves it."""
    def fetch():
        r = subprocess.run(["ip", "netns", "exec", ns, "/usr/bin/python3", "-c",
                            "import sys, urllib.request\n"
                            f"d = urllib.request.urlopen('http://127.0.0.1:{port}/file.bin', "
                            "timeout=10).read()\nsys.stdout.buffer.write(d)"],
                           capture_output=True, timeout=30)
        assert ctr.poll() is None, ctr.stdout.read()
        return r.stdout if r.returncode == 0 else None
    got = []
    wait_until(lambda: got.append(fetch()) or got[-1], timeout=60, what="published port")
    return got[-1]


# RootlessKit's child: both fetches (once SLAAC is done), then a server for
# the port the test adds, until its stdin ends
RLK_CHILD = """
for i in $(seq 100); do
    ip -6 addr show scope global | grep 'inet6 fd00:' | grep -qv tentative && break
    sleep 0.1
done
wget -q -O - http://10.0.2.2:18090/file.bin | sha256sum
wget -q -O - 'http://[fd00::2]:18090/file.bin' | sha256sum
busybox httpd -f -p 80 -h "$0" &
echo ready
read line
kill $!
"""


def test_rootlesskit(podman_env, test_user):
    ns, home = podman_env
    shutil.chown(home, test_user, test_user)
    state = os.path.join(home, "state")
    as_user = ["nsenter", f"--net=/run/netns/{ns}", "setpriv", f"--reuid={test_user}",
               f"--regid={test_user}", "--init-groups", "env", "-i",
               "PATH=/usr/sbin:/usr/bin:/sbin:/bin", f"HOME={home}", f"XDG_RUNTIME_DIR={home}"]
    rk = subprocess.Popen(as_user + ["rootlesskit", "--net=slirp4netns",
                                     f"--slirp4netns-binary={S4N}", "--port-driver=slirp4netns",
                                     f"--state-dir={state}", "--ipv6", "--", "sh", "-c",
                                     RLK_CHILD, home],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    try:
        out = ""
        while not out.endswith("ready\n"):
            line = rk.stdout.readline()
            assert line, out
            out += line
        assert out.count(f"{DIGEST}  -") == 2, out
        r = subprocess.run(as_user + ["rootlessctl", "--socket", f"{state}/api.sock",
                                      "add-ports", "127.0.0.1:18096:80/tcp"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stdout + r.stderr
        got = fetch_published(ns, 18096, rk)
        assert hashlib.sha256(got).hexdigest() == DIGEST
    finally:
        rk.stdin.close()
        rk.wait(timeout=30)
    assert not xdpslirps_of(home)
