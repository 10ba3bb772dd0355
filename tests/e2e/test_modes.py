# SPDX-License-Identifier: MIT
"""The three ways to run xdpslirp, and the guest they set up."""
import os
import re
import signal

import pytest

from conftest import (in_netns, link_exists, run_command_mode, sh,
                      wait_until)


def test_command_mode_pings_gateway():
    r = run_command_mode("--", "ping", "-c", "3", "-i", "0.2", "-W", "2", "10.0.2.2")
    assert r.returncode == 0, r.stderr
    assert "3 packets transmitted, 3 received" in r.stdout
    assert " 0 leaked, 0 ownership violations" in r.stderr


def test_dns_address_answers_ping():
    r = run_command_mode("--", "ping", "-c", "1", "-W", "2", "10.0.2.3")
    assert r.returncode == 0, r.stdout + r.stderr


def test_cidr_moves_the_gateway():
    r = run_command_mode("--cidr", "10.9.0.0/24", "--", "sh", "-c",
                         "ip -4 -o addr show dev eth0; ip route; ping -c 1 -W 2 10.9.0.2")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "inet 10.9.0.100/24" in r.stdout
    assert "default via 10.9.0.2 dev eth0" in r.stdout
    assert "1 received" in r.stdout


def test_guest_is_configured():
    r = run_command_mode("--mtu", "9000", "--guest-ifname", "uplink", "--", "sh", "-c",
                         "ip -o link show uplink; ip -o link show lo; ip -4 -o addr; ip route")
    assert r.returncode == 0, r.stderr
    assert re.search(r"uplink@\S+: <[^>]*\bUP\b[^>]*> mtu 9000", r.stdout), r.stdout
    assert re.search(r"lo: <[^>]*\bUP\b", r.stdout), r.stdout
    assert "inet 10.0.2.100/24" in r.stdout
    assert "default via 10.0.2.2 dev uplink" in r.stdout


def test_exit_status_of_command_is_returned():
    assert run_command_mode("--", "sh", "-c", "exit 7").returncode == 7
    assert run_command_mode("--", "true").returncode == 0
    assert run_command_mode("--", "sh", "-c", "kill -TERM $$").returncode == 128 + 15
    r = run_command_mode("--", "/nonexistent/command")
    assert r.returncode == 127
    assert "cannot run /nonexistent/command" in r.stderr


def test_sigterm_is_forwarded_to_command(xdpslirp):
    x = xdpslirp("--", "sleep", "60")
    assert x.stop(signal.SIGTERM) == 128 + 15
    x.assert_frames_accounted()
    assert not link_exists(x.host_ifname)


def test_multibuffer_ping_60000_bytes():
    r = run_command_mode("--", "ping", "-c", "2", "-i", "0.2", "-W", "2", "-s", "60000", "10.0.2.2")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "60008 bytes from 10.0.2.2" in r.stdout
    assert "2 received" in r.stdout


def test_small_mtu_ping():
    r = run_command_mode("--mtu", "1280", "--", "sh", "-c",
                         "ping -c 1 -W 2 -s 1252 -M do 10.0.2.2 && ! ping -c 1 -W 1 -s 1253 -M do 10.0.2.2")
    assert r.returncode == 0, r.stdout + r.stderr


def test_two_queues(xdpslirp):
    r = run_command_mode("--queues", "2", "--cpus", "0-1", "--", "sh", "-c",
                         "ip -d link show eth0; ping -c 4 -i 0.2 -W 2 10.0.2.2")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "numtxqueues 2 numrxqueues 2" in r.stdout
    assert r.stderr.count(" 0 leaked, 0 ownership violations") == 2


def test_netns_mode_by_path(xdpslirp, netns):
    ns = netns()
    x = xdpslirp("--netns", f"/run/netns/{ns}")
    r = in_netns(ns, "ping", "-c", "2", "-i", "0.2", "-W", "2", "10.0.2.2")
    assert r.returncode == 0, r.stdout + x.stderr()
    assert x.stop() == 0
    x.assert_frames_accounted()
    assert not link_exists(x.host_ifname)
    assert not link_exists("eth0", netns=ns)


def test_netns_mode_by_pid(xdpslirp):
    holder = __import__("subprocess").Popen(["unshare", "-n", "sleep", "60"])
    try:
        # the namespace exists once unshare has exec'd sleep
        wait_until(lambda: os.readlink(f"/proc/{holder.pid}/ns/net") !=
                   os.readlink("/proc/self/ns/net"), what="unshare")
        x = xdpslirp("--netns", str(holder.pid))
        r = sh("nsenter", "-t", str(holder.pid), "-n", "ping", "-c", "1", "-W", "2",
               "10.0.2.2", check=False)
        assert r.returncode == 0, r.stdout + x.stderr()
        assert x.stop() == 0
    finally:
        holder.kill()
        holder.wait()


def test_ifname_mode(xdpslirp, veth):
    host, guest, ns = veth()
    x = xdpslirp("--ifname", host)
    r = in_netns(ns, "ping", "-c", "3", "-i", "0.2", "-W", "2", "10.0.2.2")
    assert r.returncode == 0, r.stdout + x.stderr()
    assert x.stop(signal.SIGINT) == 0
    x.assert_frames_accounted()
    assert link_exists(host), "xdpslirp must not delete a link it did not create"
    assert " xdp" not in sh("ip", "-o", "link", "show", host).stdout


def test_ifname_mode_serves_every_queue(xdpslirp, veth):
    host, guest, ns = veth(queues=2)
    x = xdpslirp("--ifname", host)
    r = in_netns(ns, "ping", "-c", "2", "-i", "0.2", "-W", "2", "10.0.2.2")
    assert r.returncode == 0, r.stdout + x.stderr()
    assert x.stop() == 0
    assert "2 queues" in x.stderr()


ECHO_CHECK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "echo_check.py")


def test_replies_are_byte_exact_with_valid_checksums():
    """ping cannot tell: the guest's kernel trusts veth checksums."""
    sizes = ["0", "56", "1471", "3000", "3821", "60000", "65492"]
    r = run_command_mode("--", "/usr/bin/python3", ECHO_CHECK, "eth0", "10.0.2.2", *sizes)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("ok echo") == len(sizes), r.stdout
    r = run_command_mode("--mtu", "1500", "--", "/usr/bin/python3", ECHO_CHECK, "eth0",
                         "10.0.2.3", "1472")
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("mode", ["busy", "blocking", "adaptive"])
def test_poll_modes_carry_traffic(mode):
    r = run_command_mode("--poll", mode, "--spin-us", "200", "--", "/usr/bin/python3",
                         ECHO_CHECK, "eth0", "10.0.2.2", "56", "3000")
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"time working \d+ ms, spinning \d+ ms", r.stderr), r.stderr
