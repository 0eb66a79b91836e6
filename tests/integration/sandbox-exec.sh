#!/usr/bin/env bash
# sandbox-exec.sh — what dom0 hands a qube when it runs a command there, with
# bulkheadd started from a terminal the way ./run starts it (a pty that is the
# controlling terminal of its session; a root shell there would read whatever
# arrives as input). From inside a real sandbox qube:
#   - a command gets a session of its own, no terminal (/dev/tty: ENXIO),
#     TIOCSTI fails on everything it holds, and it holds only pipes/sockets on
#     0-2 and nothing else (the init's ready pipe no longer leaks); control:
#     the same probe in dom0's session opens the terminal and types into it,
#     and a descriptor leaked on purpose is seen;
#   - the qube replaces its /usr/bin/sh and kills its agent: the next qvm-run
#     is refused, nothing of the qube runs for it, nothing reaches the terminal;
#   - qvm-run -p output with terminal escapes reaches a pty filtered byte for
#     byte (stdout and stderr), raw with --no-filter-escape-chars or on a pipe;
#   - 200 000 lines into the init's stderr grow dom0's log by a bounded amount,
#     with a line giving the drop count.
# Prints TAP. Reuses daemon-lib.sh for the private bus, XDG dirs and cleanup.
set -u
. "$(dirname "$0")/daemon-lib.sh"
here=$(cd "$(dirname "$0")" && pwd)

bh_require_sandbox
bh_skip_without python3 setpriv

tty_out="$bh_tmp/tty-output"   # what bulkheadd's session wrote to its terminal (its log)
tty_in="$bh_tmp/tty-input"     # what arrived as input on that terminal
probe_out="$bh_tmp/probe"
touch "$tty_out" "$tty_in"
chmod 755 "$bh_tmp"
touch "$probe_out" && chmod 666 "$probe_out"

# Control first, in the session bulkheadd is about to run in: an unprivileged
# program there opens the terminal and types into it. Then bulkheadd itself.
python3 "$here/tty-session.py" session "$tty_out" "$tty_in" "$bh_tmp/daemon.pid" -- \
  sh -c 'setpriv --reuid=65534 --regid=65534 --clear-groups python3 "$0" control "$1" CONTROL-TYPED
         exec "$2" --state-dir "$3" --verbose --backend sandbox --no-guid' \
  "$here/tty-probe.py" "$probe_out" "$BULKHEADD" "$bh_state" &
bh_bg_pids+=($!)
for _ in $(seq 300); do
  [ -s "$bh_tmp/daemon.pid" ] && bh_name_owned && break
  sleep 0.1
done
bh_daemon_pid=$(cat "$bh_tmp/daemon.pid" 2>/dev/null)
bh_log="$tty_out"
bh_result "bulkheadd runs on the sandbox backend from a terminal session" $(bh_name_owned; echo $?)

control=$(grep '^control ' "$probe_out")
bh_result "control: in bulkheadd's session a program opens the terminal and TIOCSTI works ($control)" \
  $(case "$control" in *"tty=open sti=tty:ok"*) echo 0 ;; *) echo 1 ;; esac)
sleep 0.3
bh_result "control: what it typed arrives as the terminal's input" \
  $(grep -q CONTROL-TYPED "$tty_in"; echo $?)

qvm-prefs work netvm '' >/dev/null 2>&1
qvm-prefs personal netvm '' >/dev/null 2>&1
bh_expect "qvm-start work personal" qvm-start work personal
# What bulkheadd and bubblewrap kept of the terminal (fields 6 and 7 of
# /proc/PID/stat: session, tty; the command name has no spaces here).
stat_field() { awk -v n="$2" '{print $n}' "/proc/$1/stat" 2>/dev/null; }
bh_result "control: bulkheadd's output and session are on the pty ($(readlink /proc/$bh_daemon_pid/fd/1), tty $(stat_field $bh_daemon_pid 7))" \
  $(readlink "/proc/$bh_daemon_pid/fd/1" | grep -q '^/dev/pts/' && [ "$(stat_field $bh_daemon_pid 7)" != 0 ]; echo $?)
bh_same "bulkheadd's stdin is /dev/null, not the terminal" "/dev/null" "$(readlink /proc/$bh_daemon_pid/fd/0)"
bad=""
n_bwrap=0
for p in $(pgrep -P "$bh_daemon_pid" -x bwrap); do
  n_bwrap=$((n_bwrap + 1))
  [ "$(stat_field "$p" 7)" = 0 ] && [ "$(stat_field "$p" 6)" != "$(stat_field "$bh_daemon_pid" 6)" ] || bad="$bad $p"
done
bh_result "each bubblewrap ($n_bwrap) is in a new session without a terminal${bad:+ (not:$bad)}" \
  $([ "$n_bwrap" -ge 2 ] && [ -z "$bad" ]; echo $?)

# The probe, inside (the home is the qube's own).
qvm-run -p work 'cat > /home/user/tty-probe.py' <"$here/tty-probe.py"
qvm-run -p personal 'cat > /home/user/tty-probe.py' <"$here/tty-probe.py"

# ---- a command in a qube: own session, no terminal, only its pipes ---------
bh_run qvm-run -p work 'python3 /home/user/tty-probe.py agent /home/user/p QUBE-TYPED; cat /home/user/p'
line=$bh_out
bh_result "a command's session was made inside the qube, not handed in ($line)" \
  $(case "$line" in *" sid=inside "*) echo 0 ;; *) echo 1 ;; esac)
# (EPERM: the qube's seccomp filter refuses TIOCSTI before the kernel looks
# at the descriptor, which would say ENOTTY for a pipe.)
bh_result "it has no terminal: /dev/tty is ENXIO, TIOCSTI fails on 0-2" \
  $(case "$line" in *" tty=ENXIO sti=0:EPERM,1:EPERM,2:EPERM "*) echo 0 ;; *) echo 1 ;; esac)
fds=${line##*fds=}
bh_result "its only descriptors are 0-2, pipes or sockets (got $fds)" \
  $(echo "$fds" | grep -Eqx '0:(pipe|socket):,1:(pipe|socket):,2:(pipe|socket):'; echo $?)
bh_run qvm-run -p work 'exec 9</dev/null; rm -f /home/user/p; python3 /home/user/tty-probe.py leak /home/user/p X; cat /home/user/p'
bh_result "control: a descriptor leaked on purpose is seen (${bh_out##*fds=})" \
  $(case "$bh_out" in *",9:/dev/null"*) echo 0 ;; *) echo 1 ;; esac)
# The init's ready pipe is fd 5 of the init; before the fix the agents kept it
# and every command got it. No process of the qube may hold it now.
bh_run qvm-run -p work 'n=0; for p in /proc/[0-9]*; do ls -l $p/fd/ 2>/dev/null | grep -q " 5 -> pipe:" && n=$((n + 1)); done; echo $n'
bh_same "no process of the qube holds the init's ready pipe (fd 5)" "0" "$bh_out"

# ---- a qube that replaced its shell and killed its agent --------------------
# Its fake sh records every run and tries the terminal; then it runs dash.
fake='#!/usr/bin/python3
import os, subprocess, sys
subprocess.run(["python3", "/home/user/tty-probe.py", "fake-sh", "/home/user/attack", "QUBE-TYPED"])
os.execv("/home/user/dash", ["sh"] + sys.argv[1:])'
bh_run qvm-run -p work "cp /usr/bin/dash /home/user/dash && printf '%s\n' '$fake' > /home/user/fake-sh && chmod +x /home/user/fake-sh && cp /home/user/fake-sh /usr/bin/sh.new && mv -f /usr/bin/sh.new /usr/bin/sh && echo replaced"
bh_same "the qube replaced its own /usr/bin/sh" "replaced" "$bh_out"
qvm-run -p work 'true' >/dev/null 2>&1   # runs through the fake sh, via the agent
# work's home as the host sees it: through its init's root (the private
# volume is mounted only in the qube's own namespace, docs/sandbox.md).
work_init=""
for p in $(pgrep -P "$bh_daemon_pid" -x bwrap); do
  tr '\0' ' ' <"/proc/$p/cmdline" | grep -q -- '--hostname work ' &&
    work_init=$(tr -d ' ' <"/proc/$p/task/$p/children")
done
attack="/proc/$work_init/root/home/user/attack"
qvm-run work 'sleep 0.5; for p in /proc/[0-9]*; do [ "$(cat $p/comm 2>/dev/null)" = bulkhead-agent ] && kill -9 ${p#/proc/}; done' \
  >/dev/null 2>&1
for _ in $(seq 50); do grep -q "\[work\] lost its RPC agent" "$tty_out" && break; sleep 0.1; done
runs_before=$(wc -l <"$attack" 2>/dev/null || echo 0)
bh_result "control: the fake sh ran for commands while the agent lived ($runs_before runs)" \
  $([ "$runs_before" -ge 2 ]; echo $?)
bh_expect_fail "with its agent killed, qvm-run in the qube is refused with what to do" 1 \
  "bulkhead-agent is gone.*restart the qube" qvm-run -p work 'echo entered'
sleep 1
runs_after=$(wc -l <"$attack" 2>/dev/null || echo 0)
bh_same "the fake sh did not run for it" "$runs_before" "$runs_after"
bh_result "nothing a qube ran arrived as input on bulkheadd's terminal" \
  $(! grep -q QUBE-TYPED "$tty_in"; echo $?)
bh_result "every run of the fake sh found no terminal ($(cut -d' ' -f2-4 "$attack" | sort -u | tr '\n' ';'))" \
  $(! grep -v " tty=ENXIO " "$attack" | grep -q .; echo $?)
bh_same "work itself is still Running" "Running" "$(qvm-ls --raw-data work | cut -d'|' -f2)"

# ---- qvm-run -p output on a terminal -----------------------------------------
# Octal escapes: the qube's printf is dash's. \302\233 is C1 CSI in UTF-8.
evil='\033]0;owned\007\033]52;c;ZWNobyBwd25lZA==\007\033[2J\033[H\r[root@dom0 ~]# \302\23331mred\303\251\r\n'
want='_]0;owned__]52;c;ZWNobyBwd25lZA==__[2J_[H_[root@dom0 ~]# _31mred\303\251\r\n'
hex() { od -An -tx1 -v | tr -d ' \n'; }
python3 "$here/tty-session.py" capture "$bh_tmp/cap1" -- qvm-run -p personal "printf '$evil'"
bh_same "stdout on a terminal: escapes arrive as '_' byte for byte" "$(printf "$want" | hex)" "$(hex <"$bh_tmp/cap1")"
python3 "$here/tty-session.py" capture "$bh_tmp/cap2" -- qvm-run -p personal "printf '$evil' >&2"
bh_same "stderr on a terminal: filtered the same" "$(printf "$want" | hex)" "$(hex <"$bh_tmp/cap2")"
python3 "$here/tty-session.py" capture "$bh_tmp/cap3" -- qvm-run -p --no-filter-escape-chars personal "printf '$evil'"
bh_same "--no-filter-escape-chars: raw bytes on the terminal" "$(printf "$evil" | hex)" "$(hex <"$bh_tmp/cap3")"
qvm-run -p personal "printf '$evil'" >"$bh_tmp/cap4" 2>&1
bh_same "to a pipe or file: raw bytes by default" "$(printf "$evil" | hex)" "$(hex <"$bh_tmp/cap4")"
qvm-run -p --filter-escape-chars personal "printf '$evil'" >"$bh_tmp/cap5" 2>&1
bh_same "--filter-escape-chars: filtered into a file too" "$(printf "$want" | hex)" "$(hex <"$bh_tmp/cap5")"

# ---- a flood of the qube's console ---------------------------------------------
# Anything in the qube can take a copy of its init's stderr (same user,
# pidfd_getfd) and write to the console as fast as it likes.
flood='import ctypes, os
fd = ctypes.CDLL(None, use_errno=True).syscall(438, os.pidfd_open(1), 2, 0)
assert fd >= 0, os.strerror(ctypes.get_errno())
f = os.fdopen(fd, "wb", buffering=1 << 16)
for i in range(200000):
    f.write(b"flood line from the qube %06d\n" % i)
f.close()'
qvm-run -p personal 'cat > /home/user/flood.py' <<<"$flood"
size0=$(stat -c %s "$tty_out")
bh_expect "personal writes 200000 lines into its init's stderr" qvm-run -p personal 'python3 /home/user/flood.py'
# The console is read as it comes; reports follow every 2 s while it drops.
flood_counts() {
  shown=$(grep -c "\[personal\] flood line from the qube" "$tty_out")
  dropped=$(grep -o "dropped [0-9]* lines from qube personal" "$tty_out" | awk '{s += $2} END {print s + 0}')
}
for _ in $(seq 100); do
  flood_counts
  [ $((shown + dropped)) -ge 200000 ] && break
  sleep 0.2
done
size1=$(stat -c %s "$tty_out")
grown=$((size1 - size0))
bh_result "control: the flood reached the log path ($shown lines shown)" $([ "$shown" -ge 100 ]; echo $?)
bh_result "dom0's log grew by $grown bytes (< 256 KiB; 200000 lines are ~6 MB)" $([ "$grown" -lt 262144 ]; echo $?)
bh_result "a line says how many were dropped ($dropped), and shown + dropped = 200000" \
  $([ $((shown + dropped)) -eq 200000 ]; echo $?)

bh_done
