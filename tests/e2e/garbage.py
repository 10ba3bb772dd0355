# SPDX-License-Identifier: MIT
"""Sends hostile frames out of a guest interface through an AF_PACKET socket:
random bytes, truncations of valid frames, and valid frames with random
bytes changed.  Usage: garbage.py IFNAME COUNT SEED MAXLEN.  Prints the
number of frames the kernel accepted."""
import random
import socket
import struct
import sys

GW_MAC = None


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def echo(src_mac, dst_mac, plen):
    icmp = struct.pack("!BBHHH", 8, 0, 0, 1, 1) + bytes(plen)
    icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), 1, 0, 64, 1, 0,
                     bytes([10, 0, 2, 100]), bytes([10, 0, 2, 2]))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return dst_mac + src_mac + b"\x08\x00" + ip + icmp


def arp(src_mac):
    return (b"\xff" * 6 + src_mac + b"\x08\x06" +
            struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + src_mac +
            bytes([10, 0, 2, 100]) + bytes(6) + bytes([10, 0, 2, 2]))


def main():
    ifname, count, seed, maxlen = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    rnd = random.Random(seed)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((ifname, 0))
    mac = s.getsockname()[4]
    gw = bytes.fromhex(open(f"/proc/net/arp").read().split("\n")[1].split()[3].replace(":", "")) \
        if len(open("/proc/net/arp").read().split("\n")) > 2 else b"\xff" * 6
    templates = [arp(mac), echo(mac, gw, 56), echo(mac, gw, 3000), echo(mac, gw, 20000)]
    sent = 0
    for i in range(count):
        kind = i % 3
        if kind == 0:
            frame = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(14, min(maxlen, 2000))))
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
