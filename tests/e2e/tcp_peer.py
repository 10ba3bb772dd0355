# SPDX-License-Identifier: MIT
"""Both ends of the TCP tests: a server for the host and remote namespaces,
and clients for the guest.  Every transfer is checked by SHA-256 against the
stream both sides can generate from (length, seed).

  tcp_peer.py serve ADDR PORT          prints "ready" once listening
  tcp_peer.py client ADDR PORT MODE N SEED [RCVBUF]
        MODE up: guest sends N bytes, server answers their hash
             down: server sends N bytes, then closes
             both: both send N bytes at once; server answers its hash
  tcp_peer.py many ADDR PORT COUNT N   COUNT connections, each "both" with N
  tcp_peer.py halfclose ADDR PORT N    guest shuts down writing first, then
                                       still receives N bytes
  tcp_peer.py blocked ADDR PORT N [pause]  server holds reading until the
                                       guest's sends block, then reads
                                       everything (pause: once blocked, waits
                                       for a line on stdin first)
  tcp_peer.py checksums ADDR PORT N IFACE  "down" with N bytes while
                                       capturing IFACE: prints how many data
                                       segments had a complete TCP checksum
                                       and how many only the pseudo-header's
  tcp_peer.py requeue ADDR PORT N IFACE  "both" with N bytes; XPS puts the
                                       connection on IFACE's TX queue 0,
                                       then halfway on queue 1
Clients print "ok ..." and exit 0 when every hash matches.
"""
import fcntl
import hashlib
import os
import random
import selectors
import socket
import socketserver
import sys
import struct
import threading
import time

from pkt import csum

BLOCK = 65536
_bases = {}


def base(seed):
    if seed not in _bases:
        _bases[seed] = random.Random(seed).randbytes(BLOCK)
    return _bases[seed]


def stream(n, seed):
    """Yields the n bytes of stream @seed in blocks: block i starts with i."""
    b, i = base(seed), 0
    while n > 0:
        chunk = (i.to_bytes(8, "big") + b[8:])[:n]
        yield chunk
        n -= len(chunk)
        i += 1


def digest(n, seed):
    h = hashlib.sha256()
    for c in stream(n, seed):
        h.update(c)
    return h.hexdigest()


def recv_exact(sock, n, h=None):
    got = 0
    while got < n:
        b = sock.recv(min(1 << 20, n - got))
        if not b:
            break
        got += len(b)
        if h:
            h.update(b)
    return got


def recv_line(sock):
    line = b""
    while not line.endswith(b"\n"):
        b = sock.recv(1)
        if not b:
            break
        line += b
    return line.decode().strip()


def send_stream(sock, n, seed):
    for c in stream(n, seed):
        sock.sendall(c)


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        s = self.request
        mode, n, seed = recv_line(s).split()
        n, seed = int(n), int(seed)
        if mode == "up":
            h = hashlib.sha256()
            recv_exact(s, n, h)
            s.sendall((h.hexdigest() + "\n").encode())
        elif mode == "down":
            send_stream(s, n, seed)
        elif mode == "both":
            h = hashlib.sha256()
            t = threading.Thread(target=recv_exact, args=(s, n, h))
            t.start()
            send_stream(s, n, seed + 1)
            t.join()
            s.sendall((h.hexdigest() + "\n").encode())
        elif mode == "halfclose":
            # the guest already shut down its side: read to EOF, then send
            assert s.recv(1) == b""
            send_stream(s, n, seed)
        elif mode == "hold":
            Handler.held = s
            Handler.hold_ready.set()
            Handler.go.wait()
            h = hashlib.sha256()
            recv_exact(s, n, h)
            s.sendall((h.hexdigest() + "\n").encode())
        elif mode == "go":
            Handler.go.set()
        elif mode == "watch":
            # report how the guest ends the connection: RST or FIN
            try:
                while s.recv(65536):
                    pass
                print("eof", flush=True)
            except ConnectionResetError:
                print("reset", flush=True)
        elif mode == "rst":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
        s.close()


Handler.hold_ready = threading.Event()
Handler.go = threading.Event()


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    address_family = socket.AF_INET
    daemon_threads = True
    request_queue_size = 1024


def family(addr):
    """The socket family for @addr: IPv6 if it has a colon."""
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def serve(addr, port):
    Server.address_family = family(addr)
    srv = Server((addr, port), Handler)
    print("ready", flush=True)
    srv.serve_forever()


def connect(addr, port, line):
    s = socket.create_connection((addr, port), timeout=60)
    s.sendall(line.encode())
    return s


def client(addr, port, mode, n, seed, rcvbuf=0):
    s = socket.socket(family(addr))
    if rcvbuf:      # a tiny receive buffer: the guest's window closes often
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(60)
    s.connect((addr, port))
    s.sendall(f"{mode} {n} {seed}\n".encode())
    if mode == "up":
        send_stream(s, n, seed)
        ok = recv_line(s) == digest(n, seed)
    elif mode == "down":
        h = hashlib.sha256()
        got = recv_exact(s, n + 1, h)
        ok = got == n and h.hexdigest() == digest(n, seed)
    else:
        h = hashlib.sha256()
        t = threading.Thread(target=recv_exact, args=(s, n, h))
        t.start()
        send_stream(s, n, seed)
        t.join()
        ok = h.hexdigest() == digest(n, seed + 1) and recv_line(s) == digest(n, seed)
    print("ok" if ok else "MISMATCH", mode, n, flush=True)
    return ok


def halfclose(addr, port, n):
    s = connect(addr, port, f"halfclose {n} 7\n")
    s.shutdown(socket.SHUT_WR)
    h = hashlib.sha256()
    got = recv_exact(s, n + 1, h)
    ok = got == n and h.hexdigest() == digest(n, 7)
    print("ok" if ok else "MISMATCH", "halfclose", got, flush=True)
    return ok


def blocked(addr, port, n, pause=False):
    """Fill the path until the guest's send blocks, then let the server read
    (with @pause, once a line comes on stdin)."""
    s = connect(addr, port, f"hold {n} 9\n")
    s.setblocking(False)
    data = b"".join(stream(n, 9))
    sent = 0
    while sent < n:
        try:
            sent += s.send(data[sent:sent + (1 << 20)])
        except BlockingIOError:
            break
    print("blocked after", sent, flush=True)
    if sent >= n:
        print("MISMATCH never blocked")
        return False
    if pause:
        sys.stdin.readline()
    connect(addr, port, "go 0 0\n").close()
    s.setblocking(True)
    s.sendall(data[sent:])
    ok = recv_line(s) == digest(n, 9)
    print("ok" if ok else "MISMATCH", "blocked", flush=True)
    return ok


def set_xps(iface, queue):
    """Every CPU sends on TX queue @queue of @iface (and only there)."""
    every = "%x" % ((1 << os.cpu_count()) - 1)
    for q in range(2):
        with open(f"/sys/class/net/{iface}/queues/tx-{q}/xps_cpus", "w") as f:
            f.write(every if q == queue else "0")


def unacked(sock):
    return struct.unpack("i", fcntl.ioctl(sock, 0x5411, b"\0" * 4))[0]  # SIOCOUTQ


def requeue(addr, port, n, iface):
    """The kernel re-picks a socket's TX queue only when nothing of it is in
    flight: after the XPS change, let the send queue drain once (a kernel
    counter with no event to wait for: polled, bounded)."""
    set_xps(iface, 0)
    s = connect(addr, port, f"both {n} 5\n")
    h = hashlib.sha256()
    t = threading.Thread(target=recv_exact, args=(s, n, h))
    t.start()
    sent, moved = 0, False
    for c in stream(n, 5):
        if not moved and sent >= n // 2:
            set_xps(iface, 1)
            deadline = time.monotonic() + 10
            while unacked(s) and time.monotonic() < deadline:
                time.sleep(0.001)
            moved = True
        s.sendall(c)
        sent += len(c)
    t.join()
    ok = h.hexdigest() == digest(n, 6) and recv_line(s) == digest(n, 5)
    print("ok" if ok else "MISMATCH", "requeue", n, flush=True)
    return ok


def checksums(addr, port, n, iface):
    """Captures what reaches @iface during a download: a segment whose TCP
    checksum field holds only the pseudo-header sum was sent with a checksum
    request (CHECKSUM_PARTIAL); the guest's stack must accept both kinds."""
    cap = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
    cap.bind((iface, 0))
    cap.setsockopt(socket.SOL_SOCKET, 33, 256 << 20)     # SO_RCVBUFFORCE
    ok = client(addr, port, "down", n, 4)
    cap.setblocking(False)
    full = partial = 0
    while True:
        try:
            f = cap.recv(1 << 17)
        except BlockingIOError:
            break
        ip = f[14:]
        ihl, tot = (ip[0] & 15) * 4, struct.unpack("!H", ip[2:4])[0]
        seg = ip[ihl:tot]
        if ip[9] != 6 or len(seg) <= (seg[12] >> 4) * 4:
            continue        # not TCP, or no payload
        pseudo = ip[12:20] + struct.pack("!BBH", 0, 6, len(seg))
        if csum(pseudo + seg) == 0:
            full += 1
        elif struct.unpack("!H", seg[16:18])[0] == ~csum(pseudo) & 0xffff:
            partial += 1
    print("checksums full", full, "partial", partial, flush=True)
    return ok


def many(addr, port, count, n):
    """COUNT concurrent "both" exchanges driven by one selector."""
    sel = selectors.DefaultSelector()
    want = digest(n, 2)          # what every server sends: seed 1 + 1
    payload = b"".join(stream(n, 1))
    up_hash = digest(n, 1)
    conns = []
    for i in range(count):
        s = socket.create_connection((addr, port), timeout=60)
        s.setblocking(False)
        c = {"s": s, "out": b"both %d 1\n" % n + payload, "in": b"", "h": hashlib.sha256(), "got": 0}
        conns.append(c)
        sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE, c)
    done = 0
    while done < count:
        for key, ev in sel.select(timeout=60):
            c = key.data
            if ev & selectors.EVENT_WRITE and c["out"]:
                c["out"] = c["out"][c["s"].send(c["out"]):]
                if not c["out"]:
                    sel.modify(c["s"], selectors.EVENT_READ, c)
            if ev & selectors.EVENT_READ:
                b = c["s"].recv(1 << 20)
                eof = not b
                if c["got"] < n:
                    take = b[:n - c["got"]]
                    c["h"].update(take)
                    c["got"] += len(take)
                    b = b[len(take):]
                c["in"] += b
                if c["in"].endswith(b"\n") or eof:
                    sel.unregister(c["s"])
                    done += 1
    bad = sum(1 for c in conns if c["h"].hexdigest() != want or c["in"].decode().strip() != up_hash)
    for c in conns:
        c["s"].close()
    print("ok" if not bad else f"MISMATCH {bad}", "many", count, flush=True)
    return not bad


def main():
    cmd, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    a = sys.argv[4:]
    if cmd == "serve":
        serve(addr, port)
    ok = {"client": lambda: client(addr, port, a[0], int(a[1]), int(a[2]),
                                   int(a[3]) if len(a) > 3 else 0),
          "many": lambda: many(addr, port, int(a[0]), int(a[1])),
          "halfclose": lambda: halfclose(addr, port, int(a[0])),
          "blocked": lambda: blocked(addr, port, int(a[0]), a[1:] == ["pause"]),
          "requeue": lambda: requeue(addr, port, int(a[0]), a[1]),
          "checksums": lambda: checksums(addr, port, int(a[0]), a[1])}[cmd]()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
