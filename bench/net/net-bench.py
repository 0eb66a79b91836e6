# net-bench.py — both ends of bench-net (bench/net/README.md).
#   serve             on 127.0.0.1, prints its port; a connection's first
#                     byte chooses: 's' sink (reads to EOF, answers the byte
#                     count), 'e' echo (sends back what comes)
#   tput HOST PORT MIB   sends MIB MiB in 64 KiB writes; prints MB/s (MB =
#                        10^6 bytes) from the first byte to the sink's answer,
#                        or "reset" / "short N" when the transfer failed
#   rtt HOST PORT N      N one-byte round trips on one connection (TCP_NODELAY);
#                        prints the median and the 99th percentile in µs
import socket, sys, threading, time


def serve():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    print(s.getsockname()[1], flush=True)

    def handle(c):
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        mode = c.recv(1)
        if mode == b"s":
            n = 0
            while True:
                d = c.recv(1 << 20)
                if not d:
                    break
                n += len(d)
            c.sendall(str(n).encode())
        elif mode == b"e":
            while True:
                d = c.recv(64)
                if not d:
                    break
                c.sendall(d)
        c.close()

    while True:
        c, _ = s.accept()
        threading.Thread(target=handle, args=(c,), daemon=True).start()


def tput(host, port, mib):
    c = socket.create_connection((host, port), timeout=60)
    buf = b"x" * 65536
    start = time.perf_counter()
    try:
        c.sendall(b"s")
        for _ in range(mib * 16):
            c.sendall(buf)
        c.shutdown(socket.SHUT_WR)
        answer = c.recv(64)
    except ConnectionResetError:
        print("reset")
        return
    secs = time.perf_counter() - start
    if answer != str(mib * 1048576).encode():
        print("short %r" % answer[:40])
        return
    print("%.1f" % (mib * 1048576 / secs / 1e6))


def rtt(host, port, n):
    c = socket.create_connection((host, port), timeout=10)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    c.sendall(b"e")
    times = []
    for _ in range(n + 50):
        t = time.perf_counter()
        c.sendall(b"x")
        if c.recv(1) != b"x":
            raise SystemExit("echo broke")
        times.append((time.perf_counter() - t) * 1e6)
    times = sorted(times[50:])
    print("%.1f %.1f" % (times[len(times) // 2], times[int(len(times) * 0.99)]))


if sys.argv[1] == "serve":
    serve()
elif sys.argv[1] == "tput":
    tput(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
else:
    rtt(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
