#!/usr/bin/env python3
"""tty-probe.py — what a program can reach of the terminal and descriptors it
was started with; run inside a qube by sandbox-exec.sh (and, as the control,
in dom0's own terminal session). Appends one line to OUT:
  label sid=inside|outside tty=<open result> sti=<fd:result,...> fds=<n:target,...>
TIOCSTI pushes MARKER (and a newline) into every terminal it can; a test reads
the terminal's input side to see whether it arrived.
"""
import errno
import fcntl
import os
import sys
import termios

label, out_path, marker = sys.argv[1], sys.argv[2], sys.argv[3]


def err(e):
    return errno.errorcode.get(e.errno, str(e.errno))


def sti(fd):
    try:
        for ch in (marker + "\n").encode():
            fcntl.ioctl(fd, termios.TIOCSTI, bytes([ch]))
        return "ok"
    except OSError as e:
        return err(e)


# getsid() is 0 when the session's leader is outside our pid namespace: a
# session someone outside the qube (dom0) made and handed in.
fields = [label, "sid=" + ("inside" if os.getsid(0) > 0 else "outside")]
try:
    t = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    fields.append("tty=open")
    fields.append("sti=tty:" + sti(t))
    os.close(t)
except OSError as e:
    fields.append("tty=" + err(e))
    fields.append("sti=" + ",".join(f"{fd}:{sti(fd)}" for fd in (0, 1, 2)))
fds = []
for name in sorted(os.listdir("/proc/self/fd"), key=int):
    try:
        target = os.readlink(f"/proc/self/fd/{name}")
    except FileNotFoundError:
        continue  # the directory listdir had open
    fds.append(f"{name}:{target.split('[')[0]}")
fields.append("fds=" + ",".join(fds))
with open(out_path, "a") as f:
    f.write(" ".join(fields) + "\n")
