# SPDX-License-Identifier: MIT
"""UDP and DNS helpers for the tests, run in the namespaces the tests made.

  udp_peer.py echo ADDR PORT            echo server; prints "ready"
  udp_peer.py dns ADDR PORT             a tiny resolver (UDP and TCP): every
                                        A question for NAME gets 192.0.2.NN,
                                        NN = len(NAME); prints "ready"
  udp_peer.py flood ADDR PORT COUNT MAX SEED
                                        COUNT datagrams of random sizes up to
                                        MAX bytes, each echoed and compared
  udp_peer.py reliable ADDR PORT FLOWS COUNT SEED
                                        FLOWS sockets at once, each COUNT
                                        datagrams to an echo server in turn,
                                        sent again until echoed (a lossy,
                                        duplicating link); compares hashes
  udp_peer.py peers ADDR:PORT...        one socket, a datagram to each peer;
                                        prints the source of each reply
  udp_peer.py refused ADDR PORT         connected socket: prints the error
  udp_peer.py query ADDR PORT NAME udp|tcp  prints "rcode N ip A.B.C.D ms T"
"""
import hashlib
import random
import selectors
import socket
import struct
import sys
import threading
import time


def family(addr):
    """The socket family for @addr: IPv6 if it has a colon."""
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def serve(addr, port, answer):
    """Answers each datagram with @answer(its payload)."""
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((addr, port))
    print("ready", flush=True)
    while True:
        data, peer = s.recvfrom(70000)
        s.sendto(answer(data), peer)


def sha256(data):
    """What a "digests" server answers: datagrams too large to come back
    whole are still checked byte for byte."""
    return hashlib.sha256(data).digest()


def answer(query):
    """The answer to a DNS query: 192.0.2.<len(name)> for A questions."""
    qid, flags, qd = struct.unpack("!HHH", query[:6])
    i, labels = 12, []
    while query[i]:
        labels.append(query[i + 1:i + 1 + query[i]].decode())
        i += query[i] + 1
    question = query[12:i + 5]
    name = ".".join(labels)
    rr = (b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) +
          bytes([192, 0, 2, len(name) % 256]))
    return struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0) + question + rr


def dns(addr, port):
    u = socket.socket(family(addr), socket.SOCK_DGRAM)
    u.bind((addr, port))
    t = socket.socket(family(addr))
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind((addr, port))
    t.listen(16)

    def tcp():
        while True:
            c, _ = t.accept()
            n = struct.unpack("!H", c.recv(2))[0]
            q = b""
            while len(q) < n:
                q += c.recv(n - len(q))
            a = answer(q)
            c.sendall(struct.pack("!H", len(a)) + a)
            c.close()

    threading.Thread(target=tcp, daemon=True).start()
    print("ready", flush=True)
    while True:
        q, peer = u.recvfrom(4096)
        u.sendto(answer(q), peer)


def flood(addr, port, count, maxlen, seed, expect=lambda d: d):
    """Datagrams of random sizes; each answer must be @expect(what was sent)."""
    rnd = random.Random(seed)
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.settimeout(5)
    bad = 0
    for i in range(count):
        data = rnd.randbytes(rnd.randint(1, maxlen))
        s.sendto(data, (addr, port))
        got, _ = s.recvfrom(70000)
        bad += got != expect(data)
    print("ok" if not bad else f"MISMATCH {bad}", "flood", count, flush=True)
    return not bad


UDP_SEGMENT = 103      # <linux/udp.h>: the kernel cuts one send into datagrams


def segments(addr, port, seg, count, seed):
    """@count sends of up to 64 datagrams (65,000 bytes) of @seg bytes each through
    UDP_SEGMENT (one super-frame on a tap with USO); every datagram must
    come back from an echo server as it was cut."""
    rnd = random.Random(seed)
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.setsockopt(socket.IPPROTO_UDP, UDP_SEGMENT, seg)
    s.settimeout(5)
    sent = bad = 0
    for _ in range(count):
        data = rnd.randbytes(rnd.randint(seg + 1, min(64 * seg, 65000)))
        s.sendto(data, (addr, port))
        for off in range(0, len(data), seg):
            got, _ = s.recvfrom(70000)
            bad += got != data[off:off + seg]
            sent += 1
    print("ok" if not bad else f"MISMATCH {bad}", "datagrams", sent, flush=True)
    return not bad


def reliable(addr, port, flows, count, seed, resend=0.2):
    """@flows sockets, each with one datagram in flight at a time (sequence
    number first), sent again every @resend s until its echo comes; echoes
    of older ones (duplicates, late copies) are skipped.  Every flow's hash
    of what came back must be that of what it sent."""
    rnd = random.Random(seed)
    sel = selectors.DefaultSelector()
    socks = []
    for i in range(flows):
        s = socket.socket(family(addr), socket.SOCK_DGRAM)
        s.setblocking(False)
        data = [struct.pack("!I", n) + rnd.randbytes(rnd.randint(1, 1400))
                for n in range(count)]
        f = {"s": s, "data": data, "next": 0, "at": 0.0, "h": hashlib.sha256(),
             "want": hashlib.sha256(b"".join(data)).digest(), "resent": 0}
        socks.append(f)
        sel.register(s, selectors.EVENT_READ, f)
    deadline = time.monotonic() + 120
    while any(f["next"] < count for f in socks) and time.monotonic() < deadline:
        now = time.monotonic()
        for f in socks:
            if f["next"] < count and now - f["at"] >= resend:
                f["resent"] += f["at"] > 0
                try:
                    f["s"].sendto(f["data"][f["next"]], (addr, port))
                except PermissionError:
                    pass        # nftables dropped it on the way out: lost
                f["at"] = now
        for key, _ in sel.select(timeout=resend / 4):
            f = key.data
            while True:
                try:
                    got = f["s"].recv(2048)
                except BlockingIOError:
                    break
                if f["next"] < count and got == f["data"][f["next"]]:
                    f["h"].update(got)
                    f["next"] += 1
                    f["at"] = 0.0     # the next one goes at once
    bad = sum(1 for f in socks if f["h"].digest() != f["want"])
    print("ok" if not bad else f"MISMATCH {bad}", "reliable", flows, "x", count,
          "resent", sum(f["resent"] for f in socks), flush=True)
    return not bad


def peers(targets):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    for t in targets:
        a, p = t.rsplit(":", 1)
        s.sendto(t.encode(), (a, int(p)))
        data, src = s.recvfrom(100)
        print(data.decode(), f"{src[0]}:{src[1]}", flush=True)
    return True


def refused(addr, port):
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.settimeout(5)
    s.connect((addr, port))
    s.send(b"anyone?")
    try:
        s.recv(10)
        print("answered")
    except OSError as e:
        print(type(e).__name__, flush=True)
    return True


def query(addr, port, name, proto):
    q = struct.pack("!HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0) + b"".join(
        bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0" + struct.pack("!HH", 1, 1)
    t = time.monotonic()
    if proto == "udp":
        s = socket.socket(family(addr), socket.SOCK_DGRAM)
        s.settimeout(5)
        s.sendto(q, (addr, port))
        a = s.recv(4096)
    else:
        s = socket.create_connection((addr, port), timeout=5)
        s.sendall(struct.pack("!H", len(q)) + q)
        n = struct.unpack("!H", s.recv(2))[0]
        a = b""
        while len(a) < n:
            a += s.recv(n - len(a))
    ms = (time.monotonic() - t) * 1000
    ip = ".".join(map(str, a[-4:])) if struct.unpack("!H", a[6:8])[0] else "-"
    print(f"rcode {a[3] & 15} id {struct.unpack('!H', a[:2])[0]:x} ip {ip} ms {ms:.0f}", flush=True)
    return True


def main():
    cmd, a = sys.argv[1], sys.argv[2:]
    ok = {"echo": lambda: serve(a[0], int(a[1]), lambda d: d),
          "dns": lambda: dns(a[0], int(a[1])),
          "flood": lambda: flood(a[0], int(a[1]), int(a[2]), int(a[3]), int(a[4])),
          "digests": lambda: serve(a[0], int(a[1]), sha256),
          "hashflood": lambda: flood(a[0], int(a[1]), int(a[2]), int(a[3]), int(a[4]), sha256),
          "peers": lambda: peers(a),
          "reliable": lambda: reliable(a[0], int(a[1]), int(a[2]), int(a[3]), int(a[4])),
          "segments": lambda: segments(a[0], int(a[1]), int(a[2]), int(a[3]), int(a[4])),
          "refused": lambda: refused(a[0], int(a[1])),
          "query": lambda: query(a[0], int(a[1]), a[2], a[3])}[cmd]()
    sys.exit(0 if ok else 1)


main()
