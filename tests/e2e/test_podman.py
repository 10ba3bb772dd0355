# SPDX-License-Identifier: MIT
"""Podman (Debian's 4.3, rootful, its CNI backend) runs containers on a
network of type "xdpslirp": the plugin (tests/e2e/test_cni.py calls it by
hand) as a real runtime drives it.

Everything is the test's own: podman's storage and configuration in the
test's directory, an image built from busybox-static, podman itself in the
test's host namespace (nsenter: unlike ip netns exec it keeps the cgroup
mounts runc needs), the servers and the resolver there on loopback."""
import hashlib
import json
import os
import shutil
import subprocess

import pytest

from conftest import (BACKEND, BINARY, ROOTLESS, SANITIZED, UDP_PEER, api_call, stop_daemons,
                      in_netns, wait_until)
from test_cni import CNI

pytestmark = pytest.mark.skipif(BACKEND == "tap" or ROOTLESS or SANITIZED or
                                not shutil.which("podman"),
                                reason="podman as root, with the plain build")

HTTP_SERVER = """
import functools, http.server, sys
h = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[3])
s = http.server.ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), h)
print("ready", flush=True)
s.serve_forever()
"""

FETCH = """
import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=30).read().decode(), end="")
"""


class Podman:
    """podman with its own storage, configuration and CNI network "xsl"."""

    def __init__(self, topo, d):
        self.topo, self.dir = topo, d
        self.api = os.path.join(d, "daemon.sock")
        for sub in ("cni-bin", "net.d", "rootfs/bin", "rootfs/www", "rootfs/tmp"):
            os.makedirs(os.path.join(d, sub))
        os.symlink(CNI, os.path.join(d, "cni-bin", "xdpslirp"))
        with open(os.path.join(d, "containers.conf"), "w") as f:
            f.write(f"""[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[network]
network_backend = "cni"
cni_plugin_dirs = ["{d}/cni-bin", "/usr/lib/cni"]
network_config_dir = "{d}/net.d"
[engine]
# podman holds published ports open itself, for the portmap plugin's
# iptables rules; the daemon listens on them instead
enable_port_reservation = false
cgroup_manager = "cgroupfs"
events_logger = "file"
""")
        conflist = {"cniVersion": "1.0.0", "name": "xsl", "plugins": [{
            "type": "xdpslirp", "apiSocket": self.api,
            "stateFile": os.path.join(d, "state.json"), "daemonPath": BINARY,
            "options": ["--dns-upstream", "127.0.0.1:5461"],
            "ipam": {"type": "host-local", "dataDir": os.path.join(d, "ipam"),
                     # .1 the gateway, .2 the DNS address: pods from .10
                     "ranges": [[{"subnet": "10.79.0.0/24", "rangeStart": "10.79.0.10"}]]},
            "capabilities": {"portMappings": True}}]}
        with open(os.path.join(d, "net.d", "xsl.conflist"), "w") as f:
            json.dump(conflist, f)
        rootfs = os.path.join(d, "rootfs")
        shutil.copy("/bin/busybox", os.path.join(rootfs, "bin"))
        for cmd in ("sh", "wget", "nslookup", "sha256sum", "head", "httpd", "cat"):
            os.symlink("busybox", os.path.join(rootfs, "bin", cmd))
        subprocess.run(["tar", "-C", rootfs, "-cf", os.path.join(d, "img.tar"), "."],
                       check=True)
        r = self.run("import", os.path.join(d, "img.tar"), "xsl-busybox")
        assert r.returncode == 0, r.stderr

    def run(self, *args, timeout=180):
        cmd = ["nsenter", f"--net=/run/netns/{self.topo.host}", "podman",
               "--root", os.path.join(self.dir, "root"), "--runroot",
               os.path.join(self.dir, "run"), "--storage-driver", "vfs", *args]
        env = {**os.environ, "CONTAINERS_CONF": os.path.join(self.dir, "containers.conf")}
        return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)

    def close(self):
        self.run("rm", "-af", "-t", "0")
        stop_daemons(self.api)


@pytest.fixture
def podman(topo, user_dir):
    p = Podman(topo, user_dir)
    yield p
    p.close()


def podman_netns():
    """The namespaces podman made for containers (named cni-UUID)."""
    return {n for n in os.listdir("/run/netns") if n.startswith("cni-")}


def host_links(ns):
    return [link["ifname"] for link in json.loads(
        in_netns(ns, "ip", "-j", "link", "show").stdout) if link["ifname"].startswith("xsl")]


def test_podman_container_fetches_publishes_and_resolves(podman, topo, user_dir):
    """A container fetches 4 MiB from a server on the host's loopback
    byte-exact and resolves a name through the gateway's DNS; another
    publishes a port the host fetches from; podman rm leaves no guest, no
    link and no namespace behind in the daemon."""
    www = os.path.join(user_dir, "www")
    os.makedirs(www)
    blob = os.urandom(4 << 20)
    with open(os.path.join(www, "blob"), "wb") as f:
        f.write(blob)
    srv = subprocess.Popen(["ip", "netns", "exec", topo.host, "/usr/bin/python3", "-c",
                            HTTP_SERVER, "127.0.0.1", "5462", www],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    topo.servers.append(srv)
    assert srv.stdout.readline().strip() == "ready"
    topo.server(topo.host, "127.0.0.1", 5461, peer=UDP_PEER, mode="dns")
    netns_before = podman_netns()

    r = podman.run("run", "--rm", "--network", "xsl", "xsl-busybox", "sh", "-c",
                   "wget -q -O - http://10.79.0.1:5462/blob | sha256sum; "
                   "cat /etc/resolv.conf; nslookup pod.test")
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.split()[0] == hashlib.sha256(blob).hexdigest(), r.stdout
    assert "nameserver 10.79.0.2" in r.stdout, r.stdout     # the result's DNS
    assert "192.0.2.8" in r.stdout, r.stdout                 # the test resolver's answer

    r = podman.run("run", "-d", "--name", "web", "--network", "xsl", "-p", "18093:80",
                   "xsl-busybox", "sh", "-c",
                   "head -c 1000000 /dev/urandom > /www/f; sha256sum /www/f > /www/f.sha; "
                   "exec httpd -f -p 80 -h /www")
    assert r.returncode == 0, r.stdout + r.stderr
    guests = api_call(podman.api, {"execute": "list_guests"})["return"]["guests"]
    assert len(guests) == 1 and guests[0]["spec"]["cni"]["network"] == "xsl", guests

    def fetch(path):
        return in_netns(topo.host, "/usr/bin/python3", "-c", FETCH,
                        f"http://127.0.0.1:18093/{path}")
    wait_until(lambda: fetch("f.sha").returncode == 0, timeout=30, what="the container's httpd")
    want = fetch("f.sha").stdout.split()[0]
    data = subprocess.run(["ip", "netns", "exec", topo.host, "/usr/bin/python3", "-c",
                           "import sys, urllib.request; sys.stdout.buffer.write("
                           "urllib.request.urlopen(sys.argv[1], timeout=30).read())",
                           "http://127.0.0.1:18093/f"], capture_output=True, timeout=60).stdout
    assert len(data) == 1000000 and hashlib.sha256(data).hexdigest() == want

    r = podman.run("rm", "-f", "-t", "0", "web")
    assert r.returncode == 0, r.stderr
    assert api_call(podman.api, {"execute": "list_guests"})["return"]["guests"] == []
    assert host_links(topo.host) == []
    assert podman_netns() == netns_before
    assert sorted(os.listdir(os.path.join(user_dir, "ipam", "xsl"))) == \
        ["last_reserved_ip.0", "lock"]      # no lease left
