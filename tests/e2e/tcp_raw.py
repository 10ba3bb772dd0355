# SPDX-License-Identifier: MIT
"""A TCP client made of raw frames, run inside the guest, for what a socket
cannot show: which ACKs make the engine retransmit.

  tcp_raw.py dupacks ADDR PORT IFACE
        connects to a tcp_peer.py server, asks it for 64 KiB ("down") and
        acknowledges none of it.  First three window updates (same ack,
        no payload, a different window each): no segment may come again.
        Then three duplicate ACKs (the same window): the first unacknowledged
        segment, and it alone, must come again at once (fast retransmit),
        long before the engine's 200 ms retransmission timeout.  Prints "ok"
        or what failed.

The guest's kernel knows nothing of this connection and would reset it:
the caller drops its RSTs (nftables).
"""
import random
import select
import socket
import struct
import sys
import time

from pkt import arp_request, csum, ipv4

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
SYN, RST, PSH, ACK = 0x02, 0x04, 0x08, 0x10
QUIET = 0.05    # seconds: well inside the engine's 200 ms RTO


class RawTcp:
    def __init__(self, iface, addr, port):
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.s.bind((iface, ETH_P_ALL))
        self.mac = self.s.getsockname()[4]
        self.src = socket.inet_aton("10.0.2.100")
        self.dst = socket.inet_aton(addr)
        self.sport, self.dport = random.randint(40000, 60000), port
        self.gw_mac = self.resolve()

    def frames(self, timeout):
        """Frames that arrive within @timeout seconds (not our own)."""
        end = time.monotonic() + timeout
        while (left := end - time.monotonic()) > 0:
            if not select.select([self.s], [], [], left)[0]:
                return
            data, a = self.s.recvfrom(65536)
            if a[2] != PACKET_OUTGOING:
                yield data

    def resolve(self):
        self.s.send(arp_request(self.mac, self.src, self.dst))
        for f in self.frames(2):
            if f[12:14] == b"\x08\x06" and f[28:32] == self.dst:
                return f[22:28]
        sys.exit("no ARP answer from the gateway")

    def send(self, flags, seq, ack, window, payload=b"", opts=b""):
        hlen = 20 + len(opts)
        tcp = struct.pack("!HHIIBBHHH", self.sport, self.dport, seq, ack, hlen << 2,
                          flags, window, 0, 0) + opts + payload
        pseudo = self.src + self.dst + struct.pack("!BBH", 0, 6, len(tcp))
        tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
        self.s.send(ipv4(self.mac, self.gw_mac, self.src, self.dst, 6, tcp))

    def segments(self, timeout):
        """(seq, flags, payload length) of this connection's segments."""
        for f in self.frames(timeout):
            if f[12:14] != b"\x08\x00" or f[23] != 6:
                continue
            ihl = (f[14] & 0xF) * 4
            tcp = f[14 + ihl:]
            sport, dport, seq, _, off, flags = struct.unpack("!HHIIBB", tcp[:14])
            if (sport, dport) == (self.dport, self.sport):
                total = struct.unpack("!H", f[16:18])[0]
                yield seq, flags, total - ihl - (off >> 4) * 4


def dupacks(addr, port, iface):
    c = RawTcp(iface, addr, port)
    iss = random.getrandbits(32)
    c.send(SYN, iss, 0, 30000, opts=struct.pack("!BBH", 2, 4, 1460))
    peer = next((seq for seq, fl, _ in c.segments(2) if fl & (SYN | ACK) == SYN | ACK), None)
    if peer is None:
        return "no SYN-ACK"
    una, req = (peer + 1) & 0xFFFFFFFF, b"down 65536 1\n"
    c.send(ACK | PSH, iss + 1, una, 30000, req)
    seen, got = set(), 0
    for seq, _, n in c.segments(1):    # the first window's worth
        if n:
            seen.add(seq)
            got += n
        if got >= 30000:
            break
    if una not in seen:
        return f"no data from the start of the stream ({len(seen)} segments)"
    # window updates: the application "reads", the window grows each time
    for wnd in (40000, 50000, 60000):
        c.send(ACK, iss + 1 + len(req), una, wnd)
    again = [seq for seq, _, n in c.segments(QUIET) if n and seq in seen]
    if again:
        return f"window updates made the engine send again: {len(again)} segments"
    for _ in range(3):
        c.send(ACK, iss + 1 + len(req), una, 60000)
    again = [seq for seq, _, n in c.segments(QUIET) if n and seq in seen]
    c.send(RST, iss + 1 + len(req), 0, 0)
    if again != [una]:
        return f"three duplicate ACKs: sent again {len(again)} segments, {una in again=}"
    return "ok: the first segment alone came again"


if __name__ == "__main__":
    if sys.argv[1] != "dupacks":
        sys.exit(__doc__)
    print(dupacks(sys.argv[2], int(sys.argv[3]), sys.argv[4]), flush=True)
