# SPDX-License-Identifier: MIT
"""xdpslirp-cni, invoked directly as a runtime does (SPEC.md: CNI_*
variables, the configuration on stdin, one result on stdout).

The plugin runs in the test's host namespace, where its daemon runs too;
pods are the test's own namespaces; IPAM is Debian's host-local, its state
in the test's directory; the DNS upstream is the test's resolver on the
host namespace's loopback."""
import json
import os
import subprocess
import time

import pytest

from conftest import (BACKEND, BINARY, CLIENT_ADDR_SERVER, PEER, REMOTE, ROOT, ROOTLESS, UDP_PEER,
                      api_call, daemon_pids, in_netns, link_exists, stop_daemons, unique)

pytestmark = pytest.mark.skipif(BACKEND == "tap" or ROOTLESS,
                                reason="the plugin's daemon serves veth pods over AF_XDP, as root")

CNI = os.environ.get("XDPSLIRP_CNI", os.path.join(ROOT, "build", "xdpslirp-cni"))
CNI_PATH = "/usr/lib/cni"     # Debian's plugins: host-local
MiB = 1 << 20


class Net:
    """One CNI network: its configuration and the daemon behind it."""

    def __init__(self, topo, user_dir, **keys):
        self.topo, self.dir = topo, user_dir
        self.api = os.path.join(user_dir, "daemon.sock")
        self.conf = {"cniVersion": "1.0.0", "name": unique("xslnet"), "type": "xdpslirp",
                     "apiSocket": self.api, "stateFile": os.path.join(user_dir, "state.json"),
                     "daemonPath": BINARY, "options": ["--dns-upstream", "127.0.0.1:5451"],
                     **keys}

    def run(self, command, conf=None, containerid="ctr1", netns=None, ifname="eth0",
            env=None, raw=None):
        """The plugin, as a runtime runs it; (exit status, parsed stdout)."""
        e = {k: v for k, v in os.environ.items() if k.endswith("SAN_OPTIONS")}
        e.update({"PATH": os.environ["PATH"], "CNI_COMMAND": command, "CNI_PATH": CNI_PATH,
             "CNI_CONTAINERID": containerid, "CNI_IFNAME": ifname,
             "CNI_NETNS": netns if netns is not None else f"/run/netns/{self.topo.guest}"})
        e.update(env or {})
        e = {k: v for k, v in e.items() if v is not None}
        text = raw if raw is not None else json.dumps(conf if conf is not None else self.conf)
        r = subprocess.run(["ip", "netns", "exec", self.topo.host, CNI], input=text, env=e,
                           capture_output=True, text=True, timeout=120)
        return r.returncode, json.loads(r.stdout) if r.stdout.strip() else None

    def with_prev(self, result):
        return {**self.conf, "prevResult": result}


def host_local(subnet4="10.77.0.0/24", subnet6="fd77::/64", data=None):
    ranges = [[{"subnet": s}] for s in (subnet4, subnet6) if s]
    return {"type": "host-local", "dataDir": data, "ranges": ranges}


@pytest.fixture
def net(xdpslirp, topo, user_dir):
    """make(start_daemon=True, **keys): a network; with a daemon the test
    started (and stops), else the plugin starts one on demand."""
    made = []

    def make(start_daemon=True, **keys):
        n = Net(topo, user_dir, **keys)
        if start_daemon:
            n.daemon = xdpslirp("--api-socket", n.api, netns=topo.host, daemon=True)
        made.append(n)
        return n

    topo.server(topo.host, "127.0.0.1", 5451, peer=UDP_PEER, mode="dns")
    yield make
    for n in made:      # a daemon the plugin started: ours to stop, by pid
        stop_daemons(n.api)


def pod_addresses(ns, ifname="eth0"):
    out = json.loads(in_netns(ns, "ip", "-j", "addr", "show", ifname).stdout)
    return {f"{a['local']}/{a['prefixlen']}" for a in out[0]["addr_info"]
            if a.get("scope") == "global"}, out[0]["address"]


def fetch(ns, dst, n, seed, port=5452):
    """tcp_peer.py both ways, @n bytes, from pod namespace @ns."""
    r = in_netns(ns, "/usr/bin/python3", PEER, "client", dst, str(port), "both", str(n),
                 str(seed), timeout=300)
    assert r.returncode == 0 and r.stdout.startswith("ok"), r.stdout + r.stderr


def test_version_and_help():
    for v in ("1.0.0", "0.4.0"):
        r = subprocess.run([CNI], input=json.dumps({"cniVersion": v}), capture_output=True,
                           text=True, env={"CNI_COMMAND": "VERSION"})
        assert r.returncode == 0, r.stdout
        assert json.loads(r.stdout) == {"cniVersion": v, "supportedVersions":
                                        ["0.3.0", "0.3.1", "0.4.0", "1.0.0"]}
    r = subprocess.run([CNI], capture_output=True, text=True, env={})
    assert r.returncode == 0 and '"type": "xdpslirp"' in r.stdout, r.stdout
    r = subprocess.run([CNI, "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("xdpslirp-cni "), r.stdout
    r = subprocess.run([CNI, "--bogus"], capture_output=True, text=True)
    assert r.returncode == 2 and "CNI_COMMAND" in r.stderr


def test_add_check_del_with_host_local(net, topo, user_dir):
    """ADD gives the pod host-local's addresses of both families, served
    byte-exact to the host; CHECK passes; DEL removes the daemon's guest,
    the link and the lease, and again succeeds; CHECK then fails."""
    n = net(ipam=host_local(data=os.path.join(user_dir, "ipam")), mtu=9000,
            dns={"search": ["cluster.test"]})
    topo.server(topo.host, "127.0.0.1", 5452)
    topo.server(topo.host, "::1", 5453)
    rc, res = n.run("ADD")
    assert rc == 0, res
    addrs, mac = pod_addresses(topo.guest)
    assert addrs == {"10.77.0.2/24", "fd77::2/64"}, addrs
    assert res == {
        "cniVersion": "1.0.0",
        "interfaces": [{"name": "eth0", "mac": mac, "sandbox": f"/run/netns/{topo.guest}"}],
        "ips": [{"address": "10.77.0.2/24", "gateway": "10.77.0.1", "interface": 0},
                {"address": "fd77::2/64", "gateway": "fd77::1", "interface": 0}],
        "routes": [{"dst": "0.0.0.0/0", "gw": "10.77.0.1"}, {"dst": "::/0"}],
        "dns": {"nameservers": ["10.77.0.3", "fd77::3"], "search": ["cluster.test"]}}
    mtu = json.loads(in_netns(topo.guest, "ip", "-j", "link", "show", "eth0").stdout)[0]["mtu"]
    assert mtu == 9000
    fetch(topo.guest, "10.77.0.1", 8 * MiB, 1)
    fetch(topo.guest, "fd77::1", 8 * MiB, 2, port=5453)
    r = in_netns(topo.guest, "/usr/bin/python3", UDP_PEER, "query", "10.77.0.3", "53",
                 "pod.test", "udp")
    assert r.stdout.startswith("rcode 0 id 4242 ip 192.0.2.8"), r.stdout + r.stderr
    assert n.run("CHECK", n.with_prev(res)) == (0, None)
    guests = api_call(n.api, {"execute": "list_guests"})["return"]["guests"]
    assert len(guests) == 1 and guests[0]["spec"]["cni"]["containerId"] == "ctr1"
    link = guests[0]["host_ifname"]
    lease = os.path.join(user_dir, "ipam", n.conf["name"], "10.77.0.2")
    assert os.path.exists(lease)
    assert n.run("DEL") == (0, None)
    assert not link_exists(link, topo.host) and not os.path.exists(lease)
    assert api_call(n.api, {"execute": "list_guests"})["return"]["guests"] == []
    assert n.run("DEL") == (0, None)
    rc, err = n.run("CHECK", n.with_prev(res))
    assert rc == 1 and err["code"] == 101, err
    assert n.daemon.stop() == 0


def test_pods_get_unique_addresses_and_published_ports(net, topo, user_dir):
    """Two pods of one network: their own addresses, both byte-exact at
    once, and (podToPod) reaching each other; a pod's portMapping serves
    the host port, and the pod sees the client's own address.  With no
    "mtu", a pod gets 1500 (the daemon's small footprint), unless its
    "options" say otherwise."""
    n = net(ipam=host_local(subnet6=None, data=os.path.join(user_dir, "ipam")),
            capabilities={"portMappings": True}, podToPod=True)
    topo.server(topo.host, "127.0.0.1", 5452)
    second = topo.extra_netns()
    conf = {**n.conf, "runtimeConfig": {"portMappings": [
        {"hostPort": 18091, "containerPort": 80, "protocol": "TCP"}]}}
    rc, a = n.run("ADD", conf, containerid="pod-a")
    assert rc == 0, a
    rc, b = n.run("ADD", {**n.conf, "options": ["--mtu", "9000"]}, containerid="pod-b",
                  netns=f"/run/netns/{second}")
    assert rc == 0, b
    assert [json.loads(in_netns(ns, "ip", "-j", "link", "show", "eth0").stdout)[0]["mtu"]
            for ns in (topo.guest, second)] == [1500, 9000]
    assert [ip["address"] for ip in a["ips"] + b["ips"]] == ["10.77.0.2/24", "10.77.0.3/24"]
    r = in_netns(topo.guest, "ping", "-c", "1", "-W", "2", "10.77.0.3")    # podToPod
    assert r.returncode == 0, r.stdout
    runs = [subprocess.Popen(["ip", "netns", "exec", ns, "/usr/bin/python3", PEER, "client",
                              "10.77.0.1", "5452", "both", str(16 * MiB), str(seed)],
                             stdout=subprocess.PIPE, text=True)
            for seed, ns in enumerate((topo.guest, second))]
    for p in runs:
        out, _ = p.communicate(timeout=300)
        assert p.returncode == 0 and out.startswith("ok"), out
    srv = subprocess.Popen(["ip", "netns", "exec", topo.guest, "/usr/bin/python3", "-c",
                            CLIENT_ADDR_SERVER, "0.0.0.0", "80"], stdout=subprocess.PIPE,
                           text=True)
    topo.servers.append(srv)
    assert srv.stdout.readline().strip() == "ready"
    r = in_netns(topo.remote, "/usr/bin/python3", "-c",
                 "import socket; s = socket.create_connection(('198.51.100.1', 18091));"
                 "print(s.recv(100).decode())")
    assert r.stdout.strip() == REMOTE, r.stdout + r.stderr
    for cid, ns in (("pod-a", topo.guest), ("pod-b", second)):
        assert n.run("DEL", containerid=cid, netns=f"/run/netns/{ns}") == (0, None)
    assert n.daemon.stop() == 0


def test_daemon_started_on_demand(net, topo, user_dir):
    """With no daemon, ADD starts one (detached: the plugin's stdout still
    ends) that keeps its guests in the state file; DEL with the pod's
    namespace already gone succeeds and removes the guest."""
    n = net(start_daemon=False)
    pod = topo.extra_netns()
    rc, res = n.run("ADD", netns=f"/run/netns/{pod}")
    assert rc == 0, res
    assert [ip["address"] for ip in res["ips"]] == ["10.0.2.100/24", "fd00::100/64"]
    assert len(daemon_pids(n.api)) == 1
    with open(n.conf["stateFile"]) as f:
        assert len(json.load(f)["guests"]) == 1
    subprocess.run(["ip", "netns", "del", pod], check=True)
    assert n.run("DEL", netns=f"/run/netns/{pod}") == (0, None)
    assert api_call(n.api, {"execute": "list_guests"})["return"]["guests"] == []
    # and a DEL with no daemon at all is fine too
    stop_daemons(n.api)
    assert n.run("DEL", netns="") == (0, None)


CASES = [
    # (what, command, conf changes or raw stdin, env changes, code)
    ("no container id", "ADD", {}, {"CNI_CONTAINERID": None}, 4),
    ("no netns on ADD", "ADD", {}, {"CNI_NETNS": None}, 4),
    ("no ifname", "DEL", {}, {"CNI_IFNAME": None}, 4),
    ("bad ifname", "ADD", {}, {"CNI_IFNAME": "a/b"}, 4),
    ("unknown command", "FROB", {}, {}, 4),
    ("unknown CNI_ARGS", "ADD", {}, {"CNI_ARGS": "K8S_POD_NAME=x"}, 4),
    ("malformed CNI_ARGS", "ADD", {}, {"CNI_ARGS": "IgnoreUnknown=1;junk"}, 4),
    ("not JSON", "ADD", "{\"cniVersion\": ", {}, 6),
    ("not an object", "ADD", "[1]", {}, 6),
    ("no version", "ADD", {"cniVersion": None}, {}, 7),
    ("unknown version", "ADD", {"cniVersion": "9.9.9"}, {}, 1),
    ("bad mtu", "ADD", {"mtu": 20}, {}, 7),
    ("bad options", "ADD", {"options": "--mtu 9000"}, {}, 7),
    ("bad ipam", "ADD", {"ipam": "host-local"}, {}, 7),
    ("ipam not found", "ADD", {"ipam": {"type": "no-such-ipam"}}, {}, 7),
    ("bad port mapping", "ADD", {"runtimeConfig": {"portMappings": [
        {"hostPort": 0, "containerPort": 80}]}}, {}, 7),
    ("sctp port mapping", "ADD", {"runtimeConfig": {"portMappings": [
        {"hostPort": 8080, "containerPort": 80, "protocol": "sctp"}]}}, {}, 7),
    ("bad bandwidth", "ADD", {"runtimeConfig": {"bandwidth": {"ingressRate": 10}}}, {}, 7),
    ("bandwidth rate not a number", "ADD",
     {"runtimeConfig": {"bandwidth": {"egressRate": "10M"}}}, {}, 7),
    ("bandwidth not an object", "ADD", {"runtimeConfig": {"bandwidth": 5}}, {}, 7),
    ("option the daemon refuses", "ADD", {"options": ["--mtu", "12"]}, {}, 100),
    ("netns that does not exist", "ADD", {}, {"CNI_NETNS": "/run/netns/xst-none"}, 100),
    ("CHECK before 0.4.0", "CHECK", {"cniVersion": "0.3.1", "prevResult": {}}, {}, 1),
    ("CHECK without prevResult", "CHECK", {}, {}, 7),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_errors(net, topo, case):
    """Every error is the specification's error object, with its code, and
    exit status 1; nothing is left behind."""
    _, command, change, env, code = case
    n = net()
    if isinstance(change, str):
        rc, err = n.run(command, raw=change, env=env)
    else:
        conf = {k: v for k, v in {**n.conf, **change}.items() if v is not None}
        rc, err = n.run(command, conf, env=env)
    assert rc == 1 and err["code"] == code and err["msg"] and "details" in err, err
    assert err["cniVersion"] in ("1.0.0", "0.3.1")
    assert api_call(n.api, {"execute": "list_guests"})["return"]["guests"] == []
    assert in_netns(topo.guest, "ip", "link", "show", "eth0").returncode != 0


def test_bandwidth_shapes_the_pod(net, topo):
    """runtimeConfig.bandwidth (the bandwidth plugin's keys) limits the pod
    both ways: 4 MiB each way at once at 40 Mbit/s takes at least what the
    rate allows past the burst, byte-exact."""
    n = net(capabilities={"bandwidth": True})
    topo.server(topo.host, "127.0.0.1", 5452)
    rate, burst = 40_000_000, 4_000_000
    conf = {**n.conf, "runtimeConfig": {"bandwidth": {
        "ingressRate": rate, "ingressBurst": burst, "egressRate": rate, "egressBurst": burst}}}
    rc, res = n.run("ADD", conf)
    assert rc == 0, res
    start = time.monotonic()
    fetch(topo.guest, "10.0.2.2", 4 * MiB, 3)
    took, least = time.monotonic() - start, (4 * MiB - burst / 8) / (rate / 8)
    assert took >= 0.95 * least, f"{took:.2f} s, at least {least:.2f} s"
    assert n.run("DEL", conf) == (0, None)
    assert n.daemon.stop() == 0


def test_second_add_fails_and_keeps_the_first(net, topo, user_dir):
    """ADD twice for one attachment fails; the first's guest and lease stay."""
    n = net(ipam={"type": "static", "addresses": [{"address": "10.78.0.5/24",
                                                    "gateway": "10.78.0.1"}]})
    rc, res = n.run("ADD")
    assert rc == 0, res
    rc, err = n.run("ADD")
    assert rc == 1 and "exists" in err["details"], err
    assert n.run("CHECK", n.with_prev(res)) == (0, None)
    # CHECK sees a changed pod
    in_netns(topo.guest, "ip", "addr", "del", "10.78.0.5/24", "dev", "eth0")
    rc, err = n.run("CHECK", n.with_prev(res))
    assert rc == 1 and err["code"] == 101 and "10.78.0.5" in err["details"], err
    assert n.run("DEL") == (0, None)
