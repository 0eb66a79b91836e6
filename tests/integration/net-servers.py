# net-servers.py — "the internet" for the network tests, on the host's
# loopback only: two TCP servers (each greets with "hello A"/"hello B", then
# echoes), a UDP echo ("udp " + what came) and a DNS resolver that answers
# every A question with 192.0.2.99, on 127.0.0.1 port argv[1] (53; 0: any),
# and a TCP sink that reads to EOF and answers "BYTES SHA256HEX" of what came.
# With "ipv6" as argv[2], the TCP and UDP servers and the sink listen on the
# host's ::1 instead (the resolver stays on 127.0.0.1: the qubes' DNS is IPv4).
# Prints "TCP_A TCP_B UDP" (the ports it got), then "SINK" on a line of its
# own, and serves until stdin closes.
import hashlib, socket, struct, sys, threading, time
v6 = len(sys.argv) > 2 and sys.argv[2] == "ipv6"
family, loopback = (socket.AF_INET6, "::1") if v6 else (socket.AF_INET, "127.0.0.1")
def tcp_server():
    s = socket.socket(family); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((loopback, 0)); s.listen(16)
    return s
def serve_tcp(s, greet):
    while True:
        c, _ = s.accept()
        def echo(c):
            try:
                c.sendall(greet)
                while True:
                    d = c.recv(65536)
                    if not d: break
                    c.sendall(d)
            except OSError: pass
            c.close()
        threading.Thread(target=echo, args=(c,), daemon=True).start()
def serve_sink(s):
    while True:
        c, _ = s.accept()
        def sink(c):
            try:
                m, n = hashlib.sha256(), 0
                while True:
                    d = c.recv(1 << 20)
                    if not d: break
                    m.update(d); n += len(d)
                c.sendall(("%d %s" % (n, m.hexdigest())).encode())
            except OSError: pass
            c.close()
        threading.Thread(target=sink, args=(c,), daemon=True).start()
def serve_udp(u):
    while True:
        d, a = u.recvfrom(2048); u.sendto(b"udp " + d, a)
def serve_dns(d):
    while True:
        q, a = d.recvfrom(512)
        if len(q) < 12: continue
        qid, flags, qd = struct.unpack("!HHH", q[:6])
        end = 12
        while end < len(q) and q[end] != 0: end += 1 + q[end]
        question = q[12:end + 5]
        ans = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton("192.0.2.99")
        d.sendto(struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0) + question + ans, a)
a = tcp_server(); b = tcp_server(); k = tcp_server()
u = socket.socket(family, socket.SOCK_DGRAM); u.bind((loopback, 0))
d = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
# Port 53 may be held for a while by another network test of the same run:
# wait for it (2 minutes at most), then fail as before.
for left in range(1200, -1, -1):
    try:
        d.bind(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 53)); break
    except OSError:
        if left == 0: raise
        time.sleep(0.1)
for t, arg in ((serve_tcp, (a, b"hello A\n")), (serve_tcp, (b, b"hello B\n")), (serve_udp, (u,)), (serve_dns, (d,)), (serve_sink, (k,))):
    threading.Thread(target=t, args=arg, daemon=True).start()
print(a.getsockname()[1], b.getsockname()[1], u.getsockname()[1], flush=True)
print(k.getsockname()[1], flush=True)
sys.stdin.read()
