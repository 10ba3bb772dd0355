# SPDX-License-Identifier: MIT
"""Resident memory of an idle xdpslirp: at most 16 MB (MiB, as make bench
reports it) with the defaults.  The UMEMs, pinned whole, are most of it
(xsk.c sizes them: 5.5 MiB a queue); it was 68 MB with 32 MiB a queue."""
import pytest

from conftest import EXTRA_ARGS, SANITIZED, status_kib

LIMIT_KIB = 16 * 1024


@pytest.mark.skipif(SANITIZED, reason="a sanitizer's shadow memory")
@pytest.mark.parametrize("mtu", [None, "1500", "9000"])
def test_idle_footprint_with_defaults(xdpslirp, netns, mtu):
    """Two queues (the default on a 2-CPU machine, given here so the test
    means the same on any machine), AF_XDP or the backend make check runs."""
    args = ["--queues", "2", "--netns", f"/run/netns/{netns()}"]
    x = xdpslirp(*(args + (["--mtu", mtu] if mtu else [])))
    kib = status_kib(x.proc.pid)
    assert kib <= LIMIT_KIB, f"{kib} KiB resident at MTU {mtu or 'default'}{EXTRA_ARGS}"
    assert x.stop() == 0, x.stderr()
    x.assert_frames_accounted()
