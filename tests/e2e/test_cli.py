# SPDX-License-Identifier: MIT
"""Bad command lines and impossible requests: a clear message and a non-zero
exit status, never a crash, nothing left behind."""
import pytest

from conftest import links_with_xdp, run_command_mode

USAGE_ERRORS = [
    (["--mtu", "0", "--", "true"], "--mtu"),
    (["--mtu", "70000", "--", "true"], "--mtu"),
    (["--cidr", "10.0.2.0/28", "--", "true"], "--cidr"),
    (["--cidr", "banana", "--", "true"], "--cidr"),
    (["--queues", "100", "--", "true"], "--queues"),
    (["--frobnicate"], "unknown option"),
    ([], "give one of"),
    (["--ifname", "x", "--", "true"], "only one"),
    (["ping", "10.0.2.2"], "after '--'"),
    (["--deny", "tcp://10.0.0.0/33", "--", "true"], "--deny 'tcp://10.0.0.0/33'"),
    (["--allow", "sctp://10.0.0.0/8", "--", "true"], "tcp://, udp:// or icmp://"),
    (["--deny", "10.0.0.1/24", "--", "true"], "bits set past the prefix"),
    (["--deny", "udp://[2001:db8::1", "--", "true"], "[ADDRESS]/LENGTH"),
]


@pytest.mark.parametrize("args,says", USAGE_ERRORS)
def test_usage_errors_exit_2(args, says):
    r = run_command_mode(*args)
    assert r.returncode == 2, r.stderr
    assert says in r.stderr
    assert "xdpslirp" in r.stderr


def test_help_and_version():
    r = run_command_mode("--help")
    assert r.returncode == 0 and "--ifname IFACE" in r.stdout and "--netns" in r.stdout
    r = run_command_mode("--version")
    assert r.returncode == 0 and r.stdout.startswith("xdpslirp ")


@pytest.mark.parametrize("args,says", [
    (["--ifname", "nosuchlink0"], "no such link"),
    (["--netns", "/nonexistent/ns"], "cannot open"),
    (["--netns", "999999999"], "cannot open"),
    (["--ifname", "lo"], "XDP"),
])
def test_runtime_errors_exit_1(args, says):
    before = set(links_with_xdp())
    r = run_command_mode(*args, timeout=20)
    assert r.returncode == 1, r.stderr
    assert says in r.stderr, r.stderr
    assert set(links_with_xdp()) == before
