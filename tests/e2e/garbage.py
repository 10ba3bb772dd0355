# SPDX-License-Identifier: MIT
"""Sends hostile frames out of a guest interface through an AF_PACKET socket:
random bytes, truncations of valid frames, and valid frames with random
bytes changed.  Usage: garbage.py IFNAME COUNT SEED MAXLEN.  Prints the
number of frames the kernel accepted."""
import random
import socket
import sys

from pkt import arp_request, echo_request

GUEST, GATEWAY = bytes([10, 0, 2, 100]), bytes([10, 0, 2, 2])


def main():
    ifname, count, seed, maxlen = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    rnd = random.Random(seed)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((ifname, 0))
    mac, bcast = s.getsockname()[4], b"\xff" * 6
    templates = [arp_request(mac, GUEST, GATEWAY)] + [
        echo_request(mac, bcast, GUEST, GATEWAY, 1, 1, bytes(n)) for n in (56, 3000, 20000)]
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
