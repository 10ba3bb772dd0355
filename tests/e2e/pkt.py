# SPDX-License-Identifier: MIT
"""Frame builders for the helpers that run inside a guest (echo_check.py,
garbage.py): written here, independently of the engine's C code."""
import struct


def csum(b):
    """RFC 1071 checksum, naive: 0 over data that includes a valid one."""
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def arp_request(src_mac, src_ip, target_ip):
    return (b"\xff" * 6 + src_mac + b"\x08\x06" +
            struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) +
            src_mac + src_ip + bytes(6) + target_ip)


def echo_request(src_mac, dst_mac, src_ip, dst_ip, ident, seq, payload):
    """Ethernet + IPv4 + ICMP echo request with correct checksums."""
    icmp = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + payload
    icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), seq & 0xFFFF, 0x4000,
                     64, 1, 0, src_ip, dst_ip)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return dst_mac + src_mac + b"\x08\x00" + ip + icmp
