# net-client.py — run inside a qube by the network tests. Prints one word or
# line, never a traceback: the errno's name (ENETUNREACH, ECONNREFUSED, ...)
# or "timeout" when it fails. HOST may be an IPv6 address (ping: ICMPv6).
#   tcp HOST PORT         the server's greeting
#   udp HOST PORT         the server's answer to "ping"
#   dns NAME SERVER       the first A record SERVER:53 gives for NAME
#   hold HOST PORT SECS   keeps an echo connection open: prints "open" once
#                         it echoed, then "cut" when an echo does not come
#                         back within 1 s, or "alive" after SECS
#   ping HOST             one ICMP echo (a datagram socket, as an unprivileged
#                         ping does): "pong" or "timeout"
#   bulk HOST PORT MIB    sends MIB MiB of fixed pseudo-random bytes to the
#                         sink, prints its answer ("BYTES SHA256HEX")
#   bulksum - - MIB       what the sink should answer for them (on the host)
import errno, hashlib, random, socket, struct, sys, time


def why(e):
    return errno.errorcode.get(e.errno, "timeout") if e.errno else "timeout"


def bulk_data(mib):
    # The same bytes in every run: a fixed seed; each MiB starts with its
    # number, so that a MiB delivered twice or out of place changes the sum.
    chunk = random.Random(16).randbytes(1 << 20)
    for i in range(mib):
        yield i.to_bytes(8, "big") + chunk[8:]


kind, host = sys.argv[1], sys.argv[2]
try:
    if kind == "bulksum":
        m = hashlib.sha256()
        for b in bulk_data(int(sys.argv[3])):
            m.update(b)
        print("%d %s" % (int(sys.argv[3]) << 20, m.hexdigest()))
    elif kind == "ping" and ":" in host:
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM, socket.IPPROTO_ICMPV6)
        s.settimeout(2)
        s.sendto(struct.pack("!BBHHH", 128, 0, 0, 0, 1) + b"bulkhead", (host, 0))
        r = s.recv(100)
        print("pong" if r[0] == 129 else "icmpv6 type %d" % r[0])
    elif kind == "ping":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP)
        s.settimeout(2)
        s.sendto(struct.pack("!BBHHH", 8, 0, 0, 0, 1) + b"bulkhead", (host, 0))
        r = s.recv(100)
        print("pong" if r[0] == 0 else "icmp type %d" % r[0])
    elif kind == "bulk":
        s = socket.create_connection((host, int(sys.argv[3])), timeout=120)
        for b in bulk_data(int(sys.argv[4])):
            s.sendall(b)
        s.shutdown(socket.SHUT_WR)
        answer = b""
        while len(answer) < 200:
            d = s.recv(200)
            if not d: break
            answer += d
        print(answer.decode(errors="replace").strip() or "empty")
    elif kind == "tcp":
        s = socket.create_connection((host, int(sys.argv[3])), timeout=2)
        print(s.recv(100).decode().strip())
    elif kind == "udp":
        s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(2)
        s.sendto(b"ping", (host, int(sys.argv[3])))
        print(s.recv(100).decode().strip())
    elif kind == "dns":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(3)
        name = b"".join(bytes([len(p)]) + p.encode() for p in host.split(".")) + b"\0"
        s.sendto(struct.pack("!HHHHHH", 7, 0x100, 1, 0, 0, 0) + name + struct.pack("!HH", 1, 1), (sys.argv[3], 53))
        r = s.recv(512)
        print(socket.inet_ntoa(r[-4:]) if struct.unpack("!H", r[6:8])[0] else "no answer")
    elif kind == "hold":
        s = socket.create_connection((host, int(sys.argv[3])), timeout=2)
        s.recv(100)
        s.settimeout(1)
        end = time.time() + float(sys.argv[4])
        first = True
        while time.time() < end:
            s.sendall(b"x")
            try:
                if not s.recv(100):
                    raise OSError(0, "closed")
            except OSError:
                print("cut", flush=True)
                sys.exit(0)
            if first:
                print("open", flush=True)
                first = False
            time.sleep(0.2)
        print("alive")
except OSError as e:
    print(why(e))
