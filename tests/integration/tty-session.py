#!/usr/bin/env python3
"""tty-session.py — runs a command the way ./run runs bulkheadd from a user's
terminal: in a new session whose controlling terminal is a pty, with stdin,
stdout and stderr on it. Used by sandbox-exec.sh.

  tty-session.py session OUT INPUT PIDFILE -- CMD...
      everything CMD's session writes to the terminal is appended to OUT;
      anything that arrives as *input* on the terminal (typed, or pushed with
      TIOCSTI by whoever holds it) is appended to INPUT: what a root shell
      there would have read. Ends when CMD has exited.
  tty-session.py capture OUT -- CMD...
      runs CMD with stdout and stderr on a raw pty (no output processing, so
      bytes arrive as written) and writes what arrived to OUT; exits with
      CMD's status.
Owns only its pty and its child; it must never touch the caller's terminal.
"""
import fcntl
import os
import select
import sys
import termios
import tty


def spawn_on_pty(cmd, stdin_on_tty):
    master, slave = os.openpty()
    tty.setraw(slave)  # bytes as written, input without line editing or echo
    pid = os.fork()
    if pid == 0:
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        os.dup2(slave if stdin_on_tty else os.open("/dev/null", os.O_RDONLY), 0)
        os.dup2(slave, 1)
        os.dup2(slave, 2)
        os.closerange(3, 4096)
        os.execvp(cmd[0], cmd)
    # Our own open file of the terminal's input side: the child's must stay
    # blocking (O_NONBLOCK is shared by every copy of one open file, and the
    # child's writes would fail with EAGAIN).
    reader = os.open(os.ttyname(slave), os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    os.close(slave)
    return pid, master, reader


def pump(pid, master, slave, out_path, input_path):
    status = None
    with open(out_path, "ab", buffering=0) as out:
        inp = open(input_path, "ab", buffering=0) if input_path else None
        fds = [master] + ([slave] if inp else [])
        os.set_blocking(master, False)
        while True:
            if status is None:
                done, st = os.waitpid(pid, os.WNOHANG)
                if done:
                    status = st
            ready, _, _ = select.select(fds, [], [], 0.1)
            got = False
            for fd in ready:
                try:
                    data = os.read(fd, 65536)
                except (BlockingIOError, OSError):
                    continue
                if data:
                    got = True
                    (out if fd == master else inp).write(data)
            if status is not None and not got:
                break
        if inp:
            inp.close()
    return os.waitstatus_to_exitcode(status)


def main():
    mode = sys.argv[1]
    sep = sys.argv.index("--")
    args, cmd = sys.argv[2:sep], sys.argv[sep + 1:]
    if mode == "session":
        out, inp, pidfile = args
        pid, master, slave = spawn_on_pty(cmd, True)
        with open(pidfile, "w") as f:
            f.write(f"{pid}\n")
        pump(pid, master, slave, out, inp)
        return 0
    if mode == "capture":
        (out,) = args
        pid, master, slave = spawn_on_pty(cmd, False)
        return max(pump(pid, master, slave, out, None), 0)
    return 2


sys.exit(main())
