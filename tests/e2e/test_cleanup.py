# SPDX-License-Identifier: MIT
"""Nothing stays behind: no XDP program, no link, no namespace, after a
normal exit and after SIGKILL."""
import signal
import subprocess

from conftest import (BACKEND, BINARY, EXTRA_ARGS, in_netns, link_exists, links_with_xdp,
                      run_command_mode, wait_until)


def test_command_mode_normal_exit_leaves_nothing():
    before = set(links_with_xdp())
    r = subprocess.run([BINARY, *EXTRA_ARGS, "--", "sh", "-c", "echo $PPID"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    # the host end is named after xdpslirp's pid: the parent of that shell
    assert not link_exists(f"xsl{int(r.stdout.strip())}")
    assert set(links_with_xdp()) == before


def test_command_mode_sigkill_leaves_nothing(xdpslirp):
    x = xdpslirp("--", "sleep", "60")
    veth = BACKEND != "tap"	# a tap lives in COMMAND's namespace only
    assert link_exists(x.host_ifname) == veth
    x.send(signal.SIGKILL)
    x.wait()
    wait_until(lambda: not link_exists(x.host_ifname), what="veth removal")
    # COMMAND dies with xdpslirp, so its namespace goes too
    out = subprocess.run(["pgrep", "-P", str(x.proc.pid)], capture_output=True)
    assert out.returncode != 0
    assert x.host_ifname not in links_with_xdp()


def test_netns_mode_sigkill_leaves_nothing(xdpslirp, netns):
    ns = netns()
    x = xdpslirp("--netns", f"/run/netns/{ns}")
    assert link_exists("eth0", netns=ns)
    x.send(signal.SIGKILL)
    x.wait()
    wait_until(lambda: not link_exists(x.host_ifname), what="veth removal")
    assert not link_exists("eth0", netns=ns)


def test_ifname_mode_sigkill_detaches_program(xdpslirp, veth):
    host, guest, ns = veth()
    x = xdpslirp("--ifname", host)
    assert host in links_with_xdp()
    x.send(signal.SIGKILL)
    x.wait()
    # the bpf_link goes with the process's last file descriptor
    wait_until(lambda: host not in links_with_xdp(), what="XDP detach")
    # and the link can be served again at once
    y = xdpslirp("--ifname", host)
    r = in_netns(ns, "ping", "-c", "1", "-W", "2", "10.0.2.2")
    assert r.returncode == 0, y.stderr()
    assert y.stop() == 0


def test_second_instance_on_same_link_is_refused(xdpslirp, veth):
    host, guest, ns = veth()
    x = xdpslirp("--ifname", host)
    r = run_command_mode("--ifname", host, timeout=20)
    assert r.returncode != 0
    assert "already" in r.stderr, r.stderr
    assert x.stop() == 0
