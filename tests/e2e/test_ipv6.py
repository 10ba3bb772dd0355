# SPDX-License-Identifier: MIT
"""IPv6: the address plan, NDP and router advertisements as real clients
(ndisc6, rdisc6, the kernel's SLAAC, dhclient) see them, DHCPv6, and TCP,
UDP, ICMPv6 and DNS over IPv6 to the test host's loopback and to the
remote namespace.  Transfers are compared by hash.  Traffic goes only to
the test's own namespaces (2001:db8:51::/64, fd00::/64)."""
import os
import re
import subprocess

import pytest

from conftest import (api_call, CLIENT_ADDR_SERVER, PEER, REMOTE6, ROOTLESS, in_netns, netns_etc,
                      run_command_mode, sh, unique, wait_until, UDP_PEER)

MiB = 1 << 20


def start(xdpslirp, topo, *args):
    return xdpslirp("--netns", f"/run/netns/{topo.guest}", *args, netns=topo.host)


def bare_guest(topo, mtu=1500):
    """A veth pair into the guest namespace, the guest end up but with no
    address: what the guest gets it must learn (SLAAC, DHCPv6).  Returns
    (host end, guest end); xdpslirp serves it with --ifname in topo.host."""
    h, g = unique("xth"), unique("xtg")
    q = ["numtxqueues", "1", "numrxqueues", "1"]
    sh("ip", "-n", topo.host, "link", "add", h, *q, "mtu", str(mtu), "type", "veth",
       "peer", "name", g, *q, "mtu", str(mtu), "netns", topo.guest)
    sh("ip", "netns", "exec", topo.host, "sysctl", "-qw", f"net.ipv6.conf.{h}.disable_ipv6=1")
    sh("ip", "-n", topo.guest, "link", "set", g, "up")
    return h, g


@pytest.fixture
def host_resolv(topo):
    """What xdpslirp, run in the test's host namespace, reads as the host's
    resolver configuration."""
    yield from netns_etc(topo.host, "resolv.conf",
                         "search corp.example.test lab.test\nnameserver 127.0.0.1\n")


def guest_py(topo, code, timeout=60):
    return topo.guest_run("/usr/bin/python3", "-c", code, timeout=timeout)


def test_static_plan_works_at_once():
    """Created modes: fd00::100/64 without DAD and a default route via
    fe80::2, so IPv6 works the instant COMMAND starts."""
    r = run_command_mode("--", "sh", "-c",
                         "ip -6 addr show dev eth0; ip -6 route show default; "
                         "ping -6 -c1 -W2 fd00::2 && ping -6 -c1 -W2 fd00::3 && "
                         "ping -6 -c1 -W2 fe80::2%eth0")
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"inet6 fd00::100/64 scope global (nodad )?\n", r.stdout), r.stdout
    assert "tentative" not in r.stdout.split("scope link")[0]
    assert "default via fe80::2 dev eth0" in r.stdout, r.stdout


def test_cidr6_and_disable_ipv6():
    r = run_command_mode("--cidr6", "fd12:3456:789a:1::/64", "--", "sh", "-c",
                         "ip -6 addr show dev eth0; ping -6 -c1 -W2 fd12:3456:789a:1::2")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "fd12:3456:789a:1::100/64" in r.stdout
    r = run_command_mode("--cidr6", "random", "--", "ip", "-6", "addr", "show", "dev", "eth0")
    m = re.search(r"inet6 (fd[0-9a-f]{2}:[0-9a-f:]+::100)/64", r.stdout)
    assert r.returncode == 0 and m, r.stdout + r.stderr
    r = run_command_mode("--disable-ipv6", "--", "sh", "-c",
                         "ip -6 addr show dev eth0 scope global; "
                         "ping -6 -c1 -W1 fe80::2%eth0 || echo no-v6")
    assert "fd00::" not in r.stdout and "no-v6" in r.stdout, r.stdout + r.stderr
    assert re.search(r"ipv6_off \d+", r.stderr), r.stderr


@pytest.mark.parametrize("bad", ["fd00::/48", "fd00::1/64", "ff02::/64", "fe80::/64", "x"])
def test_cidr6_rejects(bad):
    r = run_command_mode("--cidr6", bad, "--", "true")
    assert r.returncode == 2 and "--cidr6" in r.stderr, r.stderr


def test_ndisc6_resolves_gateway_not_guest(xdpslirp, topo):
    x = start(xdpslirp, topo)
    for target in ("fd00::2", "fe80::2", "fd00::3"):
        r = topo.guest_run("ndisc6", "-1", "-r", "2", target, "eth0")
        mac = re.search(r"Target link-layer address: ([0-9A-F:]{17})", r.stdout)
        assert r.returncode == 0 and mac, target + r.stdout + r.stderr
    # the guest's own address and an address nobody has: no answer
    for target in ("fd00::100", "fd00::99"):
        r = topo.guest_run("ndisc6", "-1", "-r", "1", "-w", "300", target, "eth0")
        assert r.returncode != 0, target + r.stdout
    assert x.snapshot()["drops"].get("ndp_ignored", 0) >= 2
    assert x.stop() == 0


def rdisc6(topo, ifname):
    r = topo.guest_run("rdisc6", "-1", "-r", "3", "-w", "1000", ifname)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def test_rdisc6_sees_exactly_the_advertised_values(xdpslirp, topo, host_resolv):
    x = start(xdpslirp, topo, "--mtu", "9000", "--dns-upstream", "127.0.0.1:5399")
    out = rdisc6(topo, "eth0")
    expect = [r"Hop limit\s+:\s+64 ", r"Stateful address conf\.\s+:\s+No",
              r"Stateful other conf\.\s+:\s+Yes", r"Router lifetime\s+:\s+65535 ",
              r"MTU\s+:\s+9000 bytes", r"Prefix\s+:\s+fd00::/64",
              r"On-link\s+:\s+Yes", r"Autonomous address conf\.\s*:\s+Yes",
              r"Valid time\s+:\s+infinite", r"Pref\. time\s+:\s+infinite",
              r"Recursive DNS server\s+:\s+fd00::3",
              r"DNS server lifetime\s+:\s+1200 ", r"DNS search list\s+:\s+corp\.example\.test",
              r"lab\.test", r"from fe80::2"]
    for e in expect:
        assert re.search(e, out), e + "\n" + out
    # every lifetime in seconds and within RFC 8106's bounds (600..1200 s)
    for lt in re.findall(r"lifetime\s+:\s+(\d+)", out):
        assert int(lt) <= 65535, out
    assert x.stop() == 0


def test_router_lifetime_zero_without_host_route(xdpslirp, topo):
    sh("ip", "-n", topo.host, "-6", "route", "del", "default")
    x = start(xdpslirp, topo)
    assert re.search(r"Router lifetime\s+:\s+0 ", rdisc6(topo, "eth0"))
    assert "no IPv6 default route" in x.stderr()
    assert x.stop() == 0


def test_slaac_bare_interface(xdpslirp, topo):
    """The guest's kernel alone (accept_ra): a SLAAC address in fd00::/64, a
    default route via fe80::2 from the RA, and working connectivity both
    ways: a forwarded port reaches the address the guest picked itself."""
    h, g = bare_guest(topo)
    x = xdpslirp("--ifname", h, "-p", "[::1]:18195:8195", netns=topo.host)

    def configured():
        a = in_netns(topo.guest, "ip", "-6", "addr", "show", "dev", g, "scope", "global").stdout
        r = in_netns(topo.guest, "ip", "-6", "route", "show", "default").stdout
        return "fd00::" in a and "tentative" not in a and "via fe80::2" in r and a
    wait_until(configured, timeout=20, what="SLAAC address and default route")
    topo.server(topo.host, "::1", 5601)
    r = topo.peer("client", "fd00::2", 5601, "both", 4 * MiB, 7)
    assert r.returncode == 0 and "ok" in r.stdout, r.stdout + r.stderr + x.stderr()
    mine = re.search(r"inet6 (fd00::[0-9a-f:]+)/64", configured()).group(1)
    assert mine != "fd00::100"
    topo.server(topo.guest, mine, 8195)
    r = subprocess.run(["ip", "netns", "exec", topo.host, "/usr/bin/python3", PEER, "client",
                        "::1", "18195", "both", str(4 * MiB), "8"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.startswith("ok"), r.stdout + r.stderr + x.stderr()
    assert x.stop() == 0


def dhclient(topo, g, tmp_path, *flags):
    """dhclient -6 with a script that only records what it was given (the
    host's resolv.conf stays untouched); returns (run, lease file, record)."""
    lease, got, script = tmp_path / "lease6", tmp_path / "got", tmp_path / "script"
    script.write_text('#!/bin/sh\necho "$reason $new_ip6_address '
                      '$new_dhcp6_name_servers $new_dhcp6_domain_search" >> %s\n' % got)
    script.chmod(0o755)
    r = topo.guest_run("dhclient", "-6", "-1", "-v", *flags, "-sf", str(script),
                       "-lf", str(lease), "-pf", str(tmp_path / "pid"), g, timeout=60)
    pid = tmp_path / "pid"
    if pid.exists():        # dhclient -1 stays as a daemon once bound: stop it by pid
        try:
            os.kill(int(pid.read_text().split()[0]), 15)
        except (ProcessLookupError, ValueError):
            pass
    return (r, lease.read_text() if lease.exists() else "",
            got.read_text() if got.exists() else "")


def test_dhcpv6_stateful_and_stateless(xdpslirp, topo, tmp_path, host_resolv):
    h, g = bare_guest(topo)
    x = xdpslirp("--ifname", h, "--dns-upstream", "127.0.0.1:5399", netns=topo.host)
    wait_until(lambda: "scope link" in in_netns(topo.guest, "ip", "-6", "addr", "show",
                                                "dev", g).stdout and
               "tentative" not in in_netns(topo.guest, "ip", "-6", "addr", "show",
                                           "dev", g).stdout, what="link-local address")
    (tmp_path / "a").mkdir()
    r, lease, got = dhclient(topo, g, tmp_path / "a")
    assert "iaaddr fd00::100" in lease, r.stdout + r.stderr + lease + x.stderr()
    assert "dhcp6.name-servers fd00::3" in lease, lease
    assert "corp.example.test" in lease, lease
    assert "BOUND6 fd00::100 fd00::3 corp.example.test. lab.test." in got, got
    (tmp_path / "b").mkdir()
    r, lease, got = dhclient(topo, g, tmp_path / "b", "-S")
    # no address: only the DNS servers and the search list
    assert got.split()[1:] == ["fd00::3", "corp.example.test.", "lab.test."], \
        r.stdout + r.stderr + got
    assert x.stop() == 0


@pytest.mark.parametrize("where", ["loopback", "remote"])
@pytest.mark.parametrize("mode", ["up", "down"])
@pytest.mark.parametrize("mtu", [1500, 65520])
def test_tcp6_256mib(xdpslirp, topo, where, mode, mtu):
    ns, addr, dst = ((topo.host, "::1", "fd00::2") if where == "loopback"
                     else (topo.remote, REMOTE6, REMOTE6))
    topo.server(ns, addr, 5602)
    x = start(xdpslirp, topo, "--mtu", str(mtu))
    r = topo.peer("client", dst, 5602, mode, 256 * MiB, 43)
    assert r.returncode == 0 and "ok" in r.stdout, r.stdout + r.stderr + x.stderr()
    assert x.stop() == 0
    x.assert_frames_accounted()


def test_tcp6_mss_is_mtu_minus_60(xdpslirp, topo):
    topo.server(topo.host, "::1", 5603)
    start(xdpslirp, topo, "--mtu", "1500")
    r = guest_py(topo, """
import socket
s = socket.create_connection(("fd00::2", 5603))
print(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG))
""")
    assert r.stdout.strip() == "1440", r.stdout + r.stderr


def test_tcp6_1000_connections(xdpslirp, topo):
    topo.server(topo.host, "::1", 5604)
    x = start(xdpslirp, topo)
    r = topo.peer("many", "fd00::2", 5604, 1000, 4096)
    assert r.returncode == 0 and "ok" in r.stdout, r.stdout + r.stderr + x.stderr()
    assert x.stop() == 0


def test_tcp6_refused_and_unreachable(xdpslirp, topo):
    """Refused: a RST.  No route on the host (an unreachable route in the
    test's host namespace): the gateway's ICMPv6 Destination Unreachable, so
    the guest's connect() fails at once with the error a network gives."""
    sh("ip", "-n", topo.host, "-6", "route", "add", "unreachable", "2001:db8:99::/64")
    start(xdpslirp, topo)
    r = guest_py(topo, """
import socket, time
for dst in ("fd00::2", "2001:db8:99::1"):
    t = time.monotonic()
    try:
        socket.create_connection((dst, 1), timeout=10)
        print("connected?!")
    except OSError as e:
        print(dst, e.errno, "%.0f" % ((time.monotonic() - t) * 1000))
""")
    lines = [l.split() for l in r.stdout.strip().split("\n")]
    assert lines[0][:2] == ["fd00::2", "111"], r.stdout + r.stderr     # ECONNREFUSED
    assert lines[1][0] == "2001:db8:99::1" and lines[1][1] in ("101", "113"), r.stdout
    assert int(lines[1][2]) < 1000, r.stdout                # ENETUNREACH/EHOSTUNREACH, fast


def test_disable_host_loopback_v6(xdpslirp, topo):
    topo.server(topo.host, "::1", 5605)
    start(xdpslirp, topo, "--disable-host-loopback")
    r = guest_py(topo, """
import socket
try:
    socket.create_connection(("fd00::2", 5605), timeout=5)
    print("connected")
except OSError as e:
    print(e.errno)
""")
    assert r.stdout.strip() == "101", r.stdout + r.stderr      # ENETUNREACH, as for IPv4


@pytest.mark.parametrize("where", ["loopback", "remote"])
def test_udp6_echo_and_fragments(xdpslirp, topo, where):
    """At MTU 65520, datagrams of random sizes up to 65,000 bytes echoed
    whole.  At MTU 1500 the guest sends them in fragments, which the engine
    reassembles: the server answers each with its SHA-256.  (Nothing is
    fragmented toward the guest: a reply above the MTU is dropped, counted.)"""
    ns, addr, dst = ((topo.host, "::1", "fd00::2") if where == "loopback"
                     else (topo.remote, REMOTE6, REMOTE6))
    topo.server(ns, addr, 5606, peer=UDP_PEER, mode="echo")
    topo.server(ns, addr, 5616, peer=UDP_PEER, mode="digests")
    x = start(xdpslirp, topo)
    r = topo.guest_run("/usr/bin/python3", UDP_PEER, "flood", dst, "5606", "200", "65000",
                       "5", timeout=120)
    assert r.returncode == 0 and "ok" in r.stdout, r.stdout + r.stderr + x.stderr()
    assert x.stop() == 0
    x = start(xdpslirp, topo, "--mtu", "1500")
    r = topo.guest_run("/usr/bin/python3", UDP_PEER, "hashflood", dst, "5616", "200", "65000",
                       "6", timeout=120)
    assert r.returncode == 0 and "ok" in r.stdout, r.stdout + r.stderr + x.stderr()
    c = x.snapshot()["drops"]
    assert not any(c.get(k) for k in ("frag_overlap", "frag_oversize", "ipv6_exthdr")), c
    assert x.stop() == 0


def test_udp6_connected_socket_sees_refused(xdpslirp, topo):
    start(xdpslirp, topo)
    r = topo.guest_run("/usr/bin/python3", UDP_PEER, "refused", REMOTE6, "5607")
    assert r.stdout.strip() == "ConnectionRefusedError", r.stdout + r.stderr


@pytest.mark.parametrize("proto", ["udp", "tcp"])
@pytest.mark.parametrize("upstream", ["127.0.0.1", "[::1]"])
def test_dns6_to_own_resolver(xdpslirp, topo, proto, upstream):
    """fd00::3 forwards to the upstream whatever its family."""
    topo.server(topo.host, upstream.strip("[]"), 5608, peer=UDP_PEER, mode="dns")
    x = start(xdpslirp, topo, "--dns-upstream", f"{upstream}:5608")
    r = topo.guest_run("/usr/bin/python3", UDP_PEER, "query", "fd00::3", "53",
                       "xdpslirp.test", proto)
    assert r.stdout.startswith("rcode 0 id 4242 ip 192.0.2.13"), r.stdout + r.stderr
    r = topo.guest_run("/usr/bin/python3", UDP_PEER, "query", "10.0.2.3", "53",
                       "xdpslirp.test", proto)
    assert r.stdout.startswith("rcode 0 id 4242 ip 192.0.2.13"), r.stdout + r.stderr
    assert x.stop() == 0


@pytest.mark.parametrize("sockets", ["ping", "raw"])
def test_ping6_remote_and_unreachable(xdpslirp, topo, sockets):
    """Through ICMPv6 ping sockets, and without them (Linux's default
    ping_group_range): then a raw ICMPv6 socket carries the echoes."""
    if sockets == "raw":
        sh("ip", "netns", "exec", topo.host, "sysctl", "-qw", "net.ipv4.ping_group_range=1 0")
    x = start(xdpslirp, topo)
    r = topo.guest_run("ping", "-6", "-c", "3", "-i", "0.2", "-W", "2", REMOTE6)
    if ROOTLESS and sockets == "raw":   # no CAP_NET_RAW either: said at start
        assert r.returncode != 0 and "guests cannot ping other hosts" in x.stderr()
        assert x.stop() == 0
        return
    assert r.returncode == 0 and "3 received" in r.stdout, r.stdout + r.stderr + x.stderr()
    # a neighbour that does not answer: unreachable, never a fake reply
    r = topo.guest_run("ping", "-6", "-c", "1", "-W", "6", "2001:db8:51::99", timeout=30)
    assert r.returncode != 0 and "bytes from" not in r.stdout, r.stdout
    # hop limit 1 ends at the gateway
    r = topo.guest_run("ping", "-6", "-c", "1", "-t", "1", "-W", "2", REMOTE6)
    assert "Time exceeded" in r.stdout and "From fd00::2" in r.stdout, r.stdout + r.stderr
    assert ("raw ICMPv6 socket" in x.stderr()) == (sockets == "raw"), x.stderr()
    assert x.stop() == 0


def test_packet_too_big_from_the_path_reaches_the_guest(xdpslirp, topo):
    """The remote namespace routes on to a "far" one over a link of MTU
    1280: a 1400-byte datagram from the guest gets Packet Too Big there,
    which the host socket hears (IPV6_RECVERR) and the guest's stack gets
    quoting its own datagram: its path MTU to the far host drops to 1280."""
    far = topo.extra_netns()
    a, b = unique("xtc"), unique("xtd")
    sh("ip", "-n", topo.remote, "link", "add", a, "mtu", "1280", "type", "veth", "peer",
       "name", b, "mtu", "1280", "netns", far)
    sh("ip", "-n", topo.remote, "addr", "add", "2001:db8:52::1/64", "dev", a, "nodad")
    sh("ip", "-n", far, "addr", "add", "2001:db8:52::2/64", "dev", b, "nodad")
    sh("ip", "-n", topo.remote, "link", "set", a, "up")
    sh("ip", "-n", far, "link", "set", b, "up")
    sh("ip", "-n", far, "-6", "route", "add", "default", "via", "2001:db8:52::1")
    sh("ip", "netns", "exec", topo.remote, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1")
    x = start(xdpslirp, topo, "--mtu", "1500")
    r = guest_py(topo, """
import socket, time
IPV6_MTU_DISCOVER, IPV6_MTU, IPV6_PMTUDISC_DO = 23, 24, 2     # <linux/in6.h>
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_DO)
s.connect(("2001:db8:52::2", 9))
before = s.getsockopt(socket.IPPROTO_IPV6, IPV6_MTU)
for _ in range(50):
    try:
        s.send(bytes(1400))
    except OSError:
        pass            # EMSGSIZE once the path MTU is known
    time.sleep(0.05)
    if s.getsockopt(socket.IPPROTO_IPV6, IPV6_MTU) < before:
        break
print(before, s.getsockopt(socket.IPPROTO_IPV6, IPV6_MTU))
""")
    assert r.stdout.split() == ["1500", "1280"], r.stdout + r.stderr + x.stderr()
    assert x.stop() == 0


REPLY_CHECK = r"""
import socket, struct, subprocess, sys
def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
cap = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x86dd))
cap.bind(("eth0", 0))
cap.setsockopt(socket.SOL_SOCKET, 33, 64 << 20)     # SO_RCVBUFFORCE
for cmd in (["ping", "-6", "-c", "2", "-i", "0.2", "fd00::2"],
            ["ping", "-6", "-c", "1", "-t", "1", "-W", "2", sys.argv[1]],
            ["ndisc6", "-1", "-r", "2", "fd00::2", "eth0"],
            ["rdisc6", "-1", "-r", "2", "eth0"],
            [sys.executable, sys.argv[2], "query", "fd00::3", "53", "x.test", "udp"],
            [sys.executable, sys.argv[2], "refused", sys.argv[1], "5698"],
            [sys.executable, "-c", "import socket\ntry: socket.create_connection(('fd00::2', 1), 3)\nexcept OSError: pass"],
            [sys.executable, "-c", "import socket; s = socket.create_connection(('fd00::2', 5697)); "
             "s.sendall(b'down 200000 1\\n'); [s.recv(1 << 16) for _ in range(40)]"]):
    subprocess.run(cmd, capture_output=True, timeout=20)
cap.setblocking(False)
kinds, bad, n = set(), 0, 0
while True:
    try:
        f, a = cap.recvfrom(1 << 17)
    except BlockingIOError:
        break
    if a[2] == socket.PACKET_OUTGOING:
        continue
    ip = f[14:]
    plen, nh = struct.unpack("!H", ip[4:6])[0], ip[6]
    l4 = ip[40:40 + plen]
    n += 1
    if len(ip) != 40 + plen or ip[0] >> 4 != 6:
        bad += 1
        continue
    pseudo = ip[8:40] + struct.pack("!IxxxB", plen, nh)
    ok = csum(pseudo + l4) == 0
    if nh == 6 and not ok:      # a TCP segment may carry the pseudo-header sum only
        ok = struct.unpack("!H", l4[16:18])[0] == ~csum(pseudo) & 0xffff
    bad += not ok
    kinds.add(("icmp6", l4[0]) if nh == 58 else ("tcp" if nh == 6 else "udp" if nh == 17 else nh))
print("frames", n, "bad", bad, "kinds", sorted(map(str, kinds)))
"""


def test_every_kind_of_reply_has_valid_bytes_and_checksums(xdpslirp, topo):
    """Echo reply, Time Exceeded, NA, RA, a relayed port unreachable, a RST,
    DNS over UDP and TCP data, as the guest's raw socket sees them."""
    topo.server(topo.host, "::1", 5697)
    topo.server(topo.host, "127.0.0.1", 5399, peer=UDP_PEER, mode="dns")
    x = start(xdpslirp, topo, "--dns-upstream", "127.0.0.1:5399")
    r = topo.guest_run("/usr/bin/python3", "-c", REPLY_CHECK, REMOTE6, UDP_PEER, timeout=120)
    m = re.search(r"frames (\d+) bad (\d+) kinds (.*)", r.stdout)
    assert m and int(m.group(2)) == 0, r.stdout + r.stderr + x.stderr()
    for kind in ("('icmp6', 129)", "('icmp6', 3)", "('icmp6', 136)", "('icmp6', 134)",
                 "('icmp6', 1)", "'tcp'", "'udp'"):
        assert kind in m.group(3), kind + " not seen: " + r.stdout
    assert x.stop() == 0


# --- forwarded ports and the API over IPv6 ---

def client_addr_servers(topo, port):
    """Servers on the guest's IPv4 and IPv6 addresses answering each client
    with the address they see it from."""
    for addr in ("10.0.2.100", "fd00::100"):
        p = subprocess.Popen(["ip", "netns", "exec", topo.guest, "/usr/bin/python3", "-c",
                              CLIENT_ADDR_SERVER, addr, str(port)], stdout=subprocess.PIPE,
                             text=True)
        topo.servers.append(p)
        assert p.stdout.readline().strip() == "ready"


def seen_from(ns, addr, port):
    r = subprocess.run(["ip", "netns", "exec", ns, "/usr/bin/python3", "-c",
                        f"import socket; s = socket.create_connection(('{addr}', {port}), 5);"
                        "print(s.recv(100).decode())"], capture_output=True, text=True)
    return r.stdout.strip() or r.stderr


def test_publish_v6_loopback_byte_exact(xdpslirp, topo):
    x = start(xdpslirp, topo, "-p", "[::1]:18180:8180")
    topo.server(topo.guest, "fd00::100", 8180)
    r = subprocess.run(["ip", "netns", "exec", topo.host, "/usr/bin/python3", PEER, "client",
                        "::1", "18180", "both", str(64 * MiB), "22"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and r.stdout.startswith("ok"), r.stdout + r.stderr + x.stderr()
    # IPv6 only: 127.0.0.1 has no listener
    assert "refused" in seen_from(topo.host, "127.0.0.1", 18180).lower()
    assert x.stop() == 0
    x.assert_frames_accounted()


def test_publish_dual_stack_sees_real_clients(xdpslirp, topo):
    """[::] serves both families: each client reaches the guest's address of
    its own family and is seen as itself; the host's loopback as the gateway."""
    x = start(xdpslirp, topo, "-p", "[::]:18182:8182")
    client_addr_servers(topo, 8182)
    assert seen_from(topo.host, "::1", 18182) == "fd00::2"
    assert seen_from(topo.host, "127.0.0.1", 18182) == "10.0.2.2"
    assert seen_from(topo.remote, "2001:db8:51::1", 18182) == REMOTE6
    assert seen_from(topo.remote, "198.51.100.1", 18182) == "198.51.100.2"
    assert x.stop() == 0
    x.assert_frames_accounted()


def test_publish_udp_v6(xdpslirp, topo):
    x = start(xdpslirp, topo, "-p", "udp:[::]:18190:9190")
    topo.server(topo.guest, "fd00::100", 9190, peer=UDP_PEER, mode="echo")
    topo.server(topo.guest, "10.0.2.100", 9190, peer=UDP_PEER, mode="echo")
    for dst in ("::1", "127.0.0.1"):
        r = subprocess.run(["ip", "netns", "exec", topo.host, "/usr/bin/python3", UDP_PEER,
                            "flood", dst, "18190", "200", "20000", "3"],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0 and r.stdout.startswith("ok"), dst + r.stdout + r.stderr
    assert x.stop() == 0
    x.assert_frames_accounted()


def test_api_v6_forwards_and_flows(xdpslirp, topo, api_path):
    path = api_path
    x = start(xdpslirp, topo, "--api-socket", path)
    client_addr_servers(topo, 8184)
    add = {"execute": "add_hostfwd", "arguments": {
        "proto": "tcp", "host_addr": "::", "host_port": 18184, "guest_port": 8184}}
    assert api_call(path, add) == {"return": {"id": 1}}
    # a guest_addr picks the family for every client: here IPv6 for an IPv4 one
    add6 = {"execute": "add_hostfwd", "arguments": {
        "proto": "tcp", "host_addr": "127.0.0.1", "host_port": 18185,
        "guest_addr": "fd00::100", "guest_port": 8184}}
    assert api_call(path, add6) == {"return": {"id": 2}}
    entries = api_call(path, {"execute": "list_hostfwd"})["entries"]
    assert entries[0]["host_addr"] == "::" and entries[0]["guest_addr"] == "fd00::100"
    assert entries[1]["guest_addr"] == "fd00::100", entries
    assert seen_from(topo.host, "::1", 18184) == "fd00::2"
    assert seen_from(topo.host, "127.0.0.1", 18185) == "fd00::2"   # IPv4 client, as the gateway
    for bad, why in ((dict(add["arguments"], host_addr="::zz"), "host_addr"),
                     (dict(add["arguments"], guest_addr="2001:db8::1"), "guest_addr"),
                     (dict(add["arguments"], host_port=18184), "already"),
                     (dict(add6["arguments"], proto="udp"), "family")):
        r = api_call(path, {"execute": "add_hostfwd", "arguments": bad})
        assert why in r["error"]["desc"], r
    # list_flows shows both families
    topo.server(topo.host, "::1", 5620)
    p = subprocess.Popen(["ip", "netns", "exec", topo.guest, "/usr/bin/python3", PEER,
                          "blocked", "fd00::2", "5620", str(64 * MiB), "pause"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert "blocked" in p.stdout.readline()
        flows = api_call(path, {"execute": "list_flows"})["return"]["flows"]
        assert any(f["family"] == "ipv6" and f["remote_addr"] == "fd00::2" and
                   f["guest_addr"] == "fd00::100" and f["proto"] == "tcp" for f in flows), flows
    finally:
        p.stdin.write("\n")
        p.stdin.close()
        p.wait(60)
    assert x.stop() == 0


def test_forward_to_host_v6(xdpslirp, topo):
    """--forward-to-host with an IPv6 host address, reached from either of
    the gateway's addresses even with the host's loopback cut off."""
    topo.server(topo.host, "::1", 5630)
    x = start(xdpslirp, topo, "--disable-host-loopback", "--forward-to-host", "tcp:2222:[::1]:5630")
    for gw in ("fd00::2", "10.0.2.2"):
        r = topo.peer("client", gw, 2222, "both", 4 * MiB, 32)
        assert r.returncode == 0 and r.stdout.startswith("ok"), gw + r.stdout + r.stderr
    assert x.stop() == 0
