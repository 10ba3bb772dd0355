# SPDX-License-Identifier: MIT
"""Runs in the guest: asks the gateway by ARP, pings it with raw frames of
several sizes, and checks every reply byte by byte, checksums included.

The guest's kernel does not verify checksums of frames from a veth (it
trusts the link), so this is the test that does.  Usage: echo_check.py
IFNAME GATEWAY SIZE...  Prints "ok" per checked reply; exits non-zero on
the first mismatch."""
import select
import socket
import struct
import sys

from pkt import arp_request, csum, echo_request


def recv_matching(s, want, timeout=2.0):
    while True:
        r, _, _ = select.select([s], [], [], timeout)
        if not r:
            sys.exit("no reply")
        frame = s.recv(70000)
        if want(frame):
            return frame


def main():
    ifname, gw = sys.argv[1], socket.inet_aton(sys.argv[2])
    sizes = [int(a) for a in sys.argv[3:]]
    me = socket.inet_aton("10.0.2.100")
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    s.bind((ifname, 0))
    mac = s.getsockname()[4]

    s.send(arp_request(mac, me, gw))
    rep = recv_matching(s, lambda f: f[12:14] == b"\x08\x06" and f[20:22] == b"\x00\x02")
    gw_mac = rep[22:28]
    assert rep[:6] == mac and rep[6:12] == gw_mac, "ARP reply Ethernet header"
    assert rep[14:22] == bytes.fromhex("0001080006040002"), "ARP reply header"
    assert rep[28:32] == gw and rep[32:38] == mac and rep[38:42] == me, "ARP reply addresses"
    assert len(rep) == 42, len(rep)
    print("ok arp")

    for seq, size in enumerate(sizes):
        payload = bytes((i * 7 + seq) & 0xFF for i in range(size))
        request = echo_request(mac, gw_mac, me, gw, 0x4242, seq, payload)
        icmp = request[34:]
        s.send(request)
        rep = recv_matching(s, lambda f: f[12:14] == b"\x08\x00" and f[23] == 1 and
                            f[34] == 0 and f[38:40] == b"\x42\x42")
        rip, ricmp = rep[14:34], rep[34:]
        assert rep[:6] == mac and rep[6:12] == gw_mac, "echo reply Ethernet header"
        assert csum(rip) == 0, "IPv4 header checksum"
        assert rip[12:16] == gw and rip[16:20] == me, "echo reply addresses"
        assert struct.unpack("!H", rip[2:4])[0] == 20 + len(icmp), "total length"
        assert len(ricmp) == len(icmp), (len(ricmp), len(icmp))
        assert csum(ricmp) == 0, "ICMP checksum"
        assert ricmp[4:] == icmp[4:], "echo payload"
        print(f"ok echo {size}")


main()
