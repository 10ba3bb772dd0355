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


def ipv4(src_mac, dst_mac, src_ip, dst_ip, proto, l4, ident=1, frag=0x4000):
    """Ethernet + IPv4 (valid header checksum) around @l4."""
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), ident & 0xFFFF, frag,
                     64, proto, 0, src_ip, dst_ip)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return dst_mac + src_mac + b"\x08\x00" + ip + l4


def echo_request(src_mac, dst_mac, src_ip, dst_ip, ident, seq, payload):
    """Ethernet + IPv4 + ICMP echo request with correct checksums."""
    icmp = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + payload
    icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
    return ipv4(src_mac, dst_mac, src_ip, dst_ip, 1, icmp, ident=seq)


def udp(src_mac, dst_mac, src_ip, dst_ip, sport, dport, payload):
    """Ethernet + IPv4 + UDP (checksum 0: none)."""
    return ipv4(src_mac, dst_mac, src_ip, dst_ip, 17,
                struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload)


def fragments(frame, size):
    """Cuts an Ethernet + IPv4 frame into fragments of @size payload bytes."""
    eth, ip, l4 = frame[:14], frame[14:34], frame[34:]
    ident, proto = struct.unpack("!H", ip[4:6])[0], ip[9]
    out = []
    for off in range(0, len(l4), size):
        more = 0x2000 if off + size < len(l4) else 0
        out.append(ipv4(eth[6:12], eth[:6], ip[12:16], ip[16:20], proto,
                        l4[off:off + size], ident=ident, frag=more | off // 8))
    return out
