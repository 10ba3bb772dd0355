# SPDX-License-Identifier: MIT
"""Sends hostile frames out of a guest interface through an AF_PACKET socket:
random bytes, truncations of valid frames, and valid frames with random
bytes changed.  Usage: garbage.py IFNAME COUNT SEED MAXLEN.  Prints the
number of frames the kernel accepted."""
import random
import socket
import sys

from pkt import arp_request, echo_request, fragments, udp

GUEST, GATEWAY, DNS = bytes([10, 0, 2, 100]), bytes([10, 0, 2, 2]), bytes([10, 0, 2, 3])
DHCP_DISCOVER = (bytes([1, 1, 6, 0]) + bytes(24) + bytes([2, 0, 0, 0, 0, 100]) + bytes(202) +
                 bytes([0x63, 0x82, 0x53, 0x63, 53, 1, 1, 255]))
DNS_QUERY = bytes.fromhex("424201000001000000000000") + b"\x07example\x04test\x00\x00\x01\x00\x01"


def main():
    ifname, count, seed, maxlen = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    rnd = random.Random(seed)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((ifname, 0))
    mac, bcast = s.getsockname()[4], b"\xff" * 6
    templates = [arp_request(mac, GUEST, GATEWAY)] + [
        echo_request(mac, bcast, GUEST, GATEWAY, 1, 1, bytes(n)) for n in (56, 3000, 20000)] + [
        udp(mac, bcast, bytes(4), b"\xff" * 4, 68, 67, DHCP_DISCOVER),
        udp(mac, bcast, GUEST, DNS, 5353, 53, DNS_QUERY),
        udp(mac, bcast, GUEST, GATEWAY, 40000, 9, bytes(3000)),   # discard port
    ] + fragments(echo_request(mac, bcast, GUEST, GATEWAY, 2, 2, bytes(4000)), 1480)
    sent = 0
    for i in range(count):
        kind = i % 3
        if kind == 0:
            frame = rnd.randbytes(rnd.randint(14, min(maxlen, 2000)))
        elif kind == 1:
            t = rnd.choice(templates)
            frame = t[:rnd.randint(14, len(t))]
        else:
            t = bytearray(rnd.choice(templates))
            for _ in range(rnd.randint(1, 8)):
                t[rnd.randrange(len(t))] = rnd.getrandbits(8)
            frame = bytes(t)
        try:
            s.send(frame[:maxlen])
            sent += 1
        except OSError:
            pass
    print(sent)


main()
