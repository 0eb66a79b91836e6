#!/usr/bin/env bash
# sandbox-calls-hostile.sh — calls from a qube (docs/rpc.md, "Calls from a
# qube") attacked from both ends, with real qubes: personal is a hostile
# target (its root writes its own /etc/bulkhead/rpc-services, which a qube
# may: docs/rpc.md "Who can change them"), work a hostile or unlucky caller.
# What dom0 does on their behalf must stay bounded and must not carry one
# qube's bytes into the other unchecked:
#   - a service that never ends, and callers that hang up: the service is
#     ended in the target and the source's call slots come back (before:
#     8 such calls and work could call no one until personal stopped);
#   - a service writing without end to a caller that died: it is ended too
#     (before: bulkheadd drained it for nobody, a core's worth of dom0 CPU);
#     one writing stderr without end is ended past 1 MiB by bulkheadd, and
#     the callers (qvm-copy-to-vm after the receiver's status, qvm-open-in-vm
#     URL at any output) end a call whose output they no longer take;
#   - the target's stderr with terminal escapes (ESC, C1 CSI/OSC as UTF-8)
#     and a bidi override reaches the caller's terminal as '?';
#   - qvm-open-in-vm's answer, the file dom0's call carries back into the
#     source: a folder holding a link to /etc/passwd, two files, are
#     refused and FILE stays as it was (control: a regular file replaces
#     it);
#   - request lines aimed at dom0's ask dialog with a bidi override, an
#     escape, or 10 000 bytes are refused before policy (control: a clean
#     one reaches the dialog's path: "no display to ask on");
#   - a disposable made for a call that calls @dispvm itself counts in its
#     maker's bound: work and its disposable make 8 disposables in all;
#   - four sources holding 8 calls each into personal: 16 run, the rest are
#     refused, and dom0's own command in personal still runs.
# Prints TAP. Reuses daemon-lib.sh (private bus, temporary XDG dirs, cleanup).
set -u
. "$(dirname "$0")/daemon-lib.sh"

bh_require_sandbox

policy_dir="$XDG_CONFIG_HOME/bulkhead/policy.d"
mkdir -p "$policy_dir"
printf '%b' 'test.Ask * work @anyvm ask\n* * work personal allow\nbulkhead.Filecopy * @anyvm @dispvm allow\n' \
  'test.Forever * @anyvm personal allow\n* * @anyvm @anyvm deny\n' \
  >"$policy_dir/30-test.policy"

# No display: the ask path ends in "no display to ask on", dom0's words.
unset DISPLAY WAYLAND_DISPLAY
bh_start_daemon --backend sandbox || { bh_not_ok "bulkheadd starts"; bh_done; }
bh_ok "bulkheadd runs with the sandbox backend"

# The hostile caller, in work: hc.py SERVICE MODE [FILE]. hold: wait for
# "ok", append a line to FILE, then block forever reading nothing; read1:
# the same after the first chunk of output; call: send stdin, then print
# the output, "status N" and the stderr frame.
hc=$(base64 -w0 <<'PY'
import os, socket, struct, sys, time
service, mode = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX)
s.connect(os.environ["BH_VCHAN_DIR"] + "/" + os.environ["BH_VCHAN_DOMID"] + "/call.sock")
try:  # a line dom0 refuses may be cut short by its answer
    target = os.environ.get("HC_TARGET", "personal").encode()
    s.sendall(service.encode("utf-8", "surrogateescape") + b" " + target + b"\n")
except OSError:
    pass
f = s.makefile("rb")
try:  # dom0 closing on an unread request is a reset here
    line = f.readline().decode(errors="replace").strip()
except OSError:
    line = ""
if line != "ok":
    print(line or "closed without an answer")
    if mode != "call":
        with open(sys.argv[3], "a") as o:
            o.write("refused\n")
    sys.exit(0)
if mode == "call":
    s.sendall(sys.stdin.buffer.read())
    s.shutdown(socket.SHUT_WR)
    out, err = b"", b""
    while True:
        n, = struct.unpack("<I", f.read(4))
        if n == 0:
            st, = struct.unpack("<I", f.read(4))
            break
        if n & 0x80000000:
            err += f.read(n & 0x7fffffff)
        else:
            out += f.read(n)
    print(out.decode(errors="replace").strip())
    print("status", st)
    sys.exit(0)
if mode == "read1":
    n, = struct.unpack("<I", f.read(4))
    f.read(n)
with open(sys.argv[3], "a") as o:
    o.write("%s %d\n" % (mode, os.getpid()))
while True:
    time.sleep(3600)
PY
)
bh_expect "work holds the hostile caller" qvm-run -p work "echo $hc | base64 -d > ~/hc.py"

# personal's root writes its own services (its /etc is its own while it
# runs): one that never ends, one that writes without end, an echo, and its
# own bulkhead.Filecopy and bulkhead.OpenInVM.
svc=$(base64 -w0 <<'SH'
d=/etc/bulkhead/rpc-services
mkdir -p $d
printf '#!/bin/sh\nexec sleep 1000001\n' > $d/test.Forever
printf '#!/bin/sh\nexec yes flood-from-personal\n' > $d/test.Flood
printf '#!/bin/sh\ncat\n' > $d/test.Echo
printf '#!/bin/sh\nexec yes err-flood >&2\n' > $d/test.ErrFlood
printf '#!/bin/sh\nexec yes url-flood\n' > $d/bulkhead.OpenURL
cat > $d/bulkhead.Filecopy <<'EOF'
#!/bin/sh
if [ "$(cat ~/fcmode 2>/dev/null)" = flood ]; then
  PATH=/run/bulkhead/bin:$PATH
  bulkhead-file-receiver "$BH_RPC_SOURCE" && exec yes copy-flood
  exit 1
fi
head -c 1 >/dev/null
printf 'MARK \033]0;evil-title\007 \302\2332J \302\23552;c;ZXZpbA==\302\234 \342\200\256txt.exe\n' >&2
exit 1
EOF
cat > $d/bulkhead.OpenInVM <<'EOF'
#!/bin/sh
# Takes the file as the real service does, then answers what ~/mode says.
PATH=/run/bulkhead/bin:$PATH
rm -rf ~/QubesIncoming ~/ans && mkdir -p ~/ans || exit 1
bulkhead-file-receiver "$BH_RPC_SOURCE" || exit 1
case $(cat ~/mode) in
ok) printf 'EDITED\n' > ~/ans/note.txt; exec bulkhead-file-sender -- ~/ans/note.txt ;;
folder) mkdir ~/ans/note.txt && ln -s /etc/passwd ~/ans/note.txt/note.txt
        exec bulkhead-file-sender -- ~/ans/note.txt ;;
two) printf 'A\n' > ~/ans/note.txt; printf 'B\n' > ~/ans/other.txt
     exec bulkhead-file-sender -- ~/ans/note.txt ~/ans/other.txt ;;
esac
exit 1
EOF
chmod 0755 $d/*
echo written
SH
)
bh_run qvm-run -p personal "echo $svc | base64 -d | sh"
bh_same "personal's root writes its own services into /etc/bulkhead/rpc-services" "written" "$bh_out"
bh_run qvm-run -p work "printf 'hi\n' | python3 ~/hc.py test.Echo call"
bh_same "control: work calls personal's test.Echo" "$(printf 'hi\nstatus 0')" "$bh_out"

dpid=$bh_daemon_pid
fds() { ls "/proc/$dpid/fd" | wc -l; }
count_in_personal() { # PATTERN: processes of personal's whose command line has it
  bh_run qvm-run -p personal "pgrep -c -f '$1'"
  echo "${bh_out:-0}"
}
# wait_count PATTERN N: until personal runs N processes matching (60 s).
wait_count() {
  local i n
  for i in $(seq 120); do
    n=$(count_in_personal "$1")
    [ "$n" = "$2" ] && return 0
    sleep 0.5
  done
  echo "# $1: $n processes in personal, waited for $2"
  return 1
}
fds_before=$(fds)

# --- a service that never ends, callers that hang up ------------------------
bh_run qvm-run -p work 'rm -f ~/held; for i in 1 2 3 4 5 6 7 8; do
    setsid python3 ~/hc.py test.Forever hold ~/held </dev/null >/dev/null 2>&1 &
  done
  for i in $(seq 600); do [ "$(wc -l < ~/held 2>/dev/null)" = 8 ] && break; sleep 0.1; done
  wc -l < ~/held'
bh_same "8 callers in work hold calls to test.Forever (each was answered ok)" "8" "$bh_out"
wait_count '[s]leep 1000001' 8
bh_result "control: personal runs the 8 services" $?
bh_run qvm-run -p work "printf 'x' | python3 ~/hc.py test.Echo call"
bh_same "control: work's 8 call slots are taken, a 9th call is closed at once" "closed without an answer" "$bh_out"
bh_run qvm-run -p work 'pkill -KILL -f "[h]c.py test.Forever"; echo killed'
bh_same "the 8 callers in work are killed" "killed" "$bh_out"
wait_count '[s]leep 1000001' 0
bh_result "the hung-up calls' services are ended in personal" $?
bh_run qvm-run -p work "printf 'again\n' | python3 ~/hc.py test.Echo call"
bh_same "work calls again: the slots came back" "$(printf 'again\nstatus 0')" "$bh_out"
for i in $(seq 100); do [ "$(fds)" -le "$fds_before" ] && break; sleep 0.1; done
bh_result "bulkheadd holds no descriptor of them ($(fds) open, $fds_before before)" \
  $([ "$(fds)" -le "$fds_before" ]; echo $?)

# --- a service writing without end, a caller that died ------------------------
bh_run qvm-run -p work 'rm -f ~/held; setsid python3 ~/hc.py test.Flood read1 ~/held </dev/null >/dev/null 2>&1 &
  for i in $(seq 600); do [ -s ~/held ] && break; sleep 0.1; done; cat ~/held'
bh_result "control: the caller read the flood's first chunk ($bh_out)" $([[ "$bh_out" == read1* ]]; echo $?)
wait_count '[y]es flood-from-personal' 1
bh_result "control: the flood runs in personal" $?
bh_run qvm-run -p work 'pkill -KILL -f "[h]c.py test.Flood"; echo killed'
wait_count '[y]es flood-from-personal' 0
bh_result "the dead caller's flood is ended in personal" $?
t0=$(awk '{print $14 + $15}' "/proc/$dpid/stat")
sleep 2
t1=$(awk '{print $14 + $15}' "/proc/$dpid/stat")
bh_result "bulkheadd is idle afterwards ($((t1 - t0)) ticks of CPU in 2 s)" $([ $((t1 - t0)) -lt 100 ]; echo $?)
grep -E 'hung up' "$bh_log" | tail -n 3 | bh_diag

# --- a service writing without end to a caller that waits ----------------------
# dom0 relays every byte: the caller ends a call whose output it no longer
# takes, and bulkheadd ends a service past 1 MiB of stderr (it keeps 16 KiB).
bh_run qvm-run -p work "python3 ~/hc.py test.ErrFlood call </dev/null"
bh_same "a service writing stderr without end is ended by bulkheadd (status 255)" "$(printf '\nstatus 255')" "$bh_out"
wait_count '[y]es err-flood' 0
bh_result "and it is gone from personal" $?
bh_run qvm-run -p work 'qvm-open-in-vm personal https://example.org/; echo "rc=$?"'
bh_result "qvm-open-in-vm URL ends a call whose service sends output ($bh_out: $bh_err)" \
  $([ "$bh_out" = rc=1 ] && [[ "$bh_err" == *"sent output, which bulkhead.OpenURL never does"* ]]; echo $?)
wait_count '[y]es url-flood' 0
bh_result "and personal's flood is ended once the caller left" $?
qvm-run -p personal 'echo flood > ~/fcmode' >/dev/null 2>&1
bh_run qvm-run -p work 'printf data > ~/f; qvm-copy-to-vm personal ~/f; echo "rc=$?"'
bh_result "qvm-copy-to-vm ends a call whose receiver goes on sending after its status ($bh_out: $bh_err)" \
  $([ "$bh_out" = rc=1 ] && [[ "$bh_err" == *"goes on sending after the receiver's status"* ]]; echo $?)
bh_run qvm-run -p personal 'cat ~/QubesIncoming/work/f'
bh_same "control: the receiver took the file before it flooded" "data" "$bh_out"
wait_count '[y]es copy-flood' 0
bh_result "and personal's flood is ended once the caller left" $?
qvm-run -p personal 'rm -rf ~/fcmode ~/QubesIncoming' >/dev/null 2>&1

# --- the target's stderr on the caller's terminal -----------------------------
bh_run qvm-run -p work 'printf data > ~/f; qvm-copy-to-vm personal ~/f 2>~/err; python3 -c "
import sys
e = open(sys.argv[1], \"rb\").read()
print(\"mark\" if b\"MARK\" in e else \"no mark\")
bad = [b\"\\x1b\", b\"\\x07\", b\"\\xc2\\x9b\", b\"\\xc2\\x9d\", b\"\\xc2\\x9c\", b\"\\xe2\\x80\\xae\"]
print(\"escapes\" if any(b in e for b in bad) else \"clean\")
" ~/err'
bh_same "personal's stderr reaches work's terminal (control) without escapes or bidi overrides" \
  "$(printf 'mark\nclean')" "$bh_out"

# --- what comes back into the source: qvm-open-in-vm's answer -----------------
open_case() { # MODE: personal answers so; prints qvm-open-in-vm's status, FILE, what is left beside it
  qvm-run -p personal "echo $1 > ~/mode" >/dev/null 2>&1
  bh_run qvm-run -p work 'cd ~ && printf "ORIGINAL\n" > note.txt && qvm-open-in-vm personal note.txt
    echo "rc=$?"; test -L note.txt && echo "a link"; cat note.txt; ls -A | grep -c bulkhead-open'
}
open_case folder
bh_same "an answer that is a folder with a link to /etc/passwd is refused, FILE unchanged, nothing left" \
  "$(printf 'rc=1\nORIGINAL\n0')" "$bh_out"
open_case two
bh_same "an answer of two files is refused, FILE unchanged, nothing left" "$(printf 'rc=1\nORIGINAL\n0')" "$bh_out"
open_case ok
bh_same "control: an answer of one regular file replaces FILE" "$(printf 'rc=0\nEDITED\n0')" "$bh_out"

# --- request lines aimed at dom0's dialog ---------------------------------------
bh_run qvm-run -p work "python3 ~/hc.py test.Ask call </dev/null"
bh_result "control: a clean request reaches the ask path ($bh_out)" \
  $([[ "$bh_out" == *"policy says ask, and dom0 has no display to ask on"* ]]; echo $?)
for req in 'test.Ask\xe2\x80\xae' '\x1b[2Jtest.Ask' "test.$(printf 'A%.0s' $(seq 10000))"; do
  bh_run qvm-run -p work "python3 -c 'import sys; sys.argv[1:] = [sys.argv[1].encode().decode(\"unicode_escape\").encode(\"latin-1\").decode(\"utf-8\", \"surrogateescape\"), \"call\"]; exec(open(__import__(\"os\").path.expanduser(\"~/hc.py\")).read())' '$req' </dev/null"
  bh_result "request '${req:0:24}…' is refused before policy: $bh_out" \
    $([[ "$bh_out" == "refused: the "* || "$bh_out" == "closed without an answer" ]]; echo $?)
done
bh_result "no bidi override or escape of theirs is in dom0's log" \
  $(! LC_ALL=C grep -qP '\x1b|\xe2\x80\xae' "$bh_log"; echo $?)

# --- disposables making disposables ------------------------------------------------
# A disposable made for work's call calls @dispvm itself (as a compromised
# one could): its calls count in work's bound of 8, so work's one call and
# its disposable's can make at most 8 disposables together (before: 8 more
# per disposable, each of which could make 8 more).
disps() { qvm-ls 2>/dev/null | awk '$1 ~ /^disp[0-9]/' | wc -l; }
bh_run qvm-run -p work 'rm -f ~/held; HC_TARGET=@dispvm setsid python3 ~/hc.py bulkhead.Filecopy hold ~/held \
    </dev/null >/dev/null 2>&1 &
  for i in $(seq 1200); do [ -s ~/held ] && break; sleep 0.1; done; cat ~/held'
bh_result "work holds a call to a new disposable ($bh_out)" $([[ "$bh_out" == hold* ]]; echo $?)
d1=$(qvm-ls 2>/dev/null | awk '$1 ~ /^disp[0-9]/ {print $1; exit}')
bh_result "control: the disposable $d1 runs" $([ "$(bh_state_of "$d1")" = Running ]; echo $?)
bh_run qvm-run -p "$d1" "echo $hc | base64 -d > ~/hc.py; rm -f ~/held; for i in 1 2 3 4 5 6 7 8; do
    HC_TARGET=@dispvm setsid python3 ~/hc.py bulkhead.Filecopy hold ~/held </dev/null >/dev/null 2>&1 &
  done
  for i in \$(seq 1800); do [ \"\$(wc -l < ~/held 2>/dev/null)\" = 8 ] && break; sleep 0.1; done
  sort ~/held | cut -d' ' -f1 | uniq -c | awk '{print \$1, \$2}' | paste -sd' '"
bh_same "$d1's 8 calls to @dispvm: 7 made a disposable, the 8th was refused (work's bound)" \
  "7 hold 1 refused" "$bh_out"
bh_same "8 disposables run in all, work's and its disposable's" "8" "$(disps)"
grep -E 'disposables made for its calls' "$bh_log" | head -n 1 | bh_diag
bh_run qvm-run -p work 'pkill -KILL -f "[h]c.py bulkhead.Filecopy"; echo killed'
for i in $(seq 1200); do [ "$(disps)" = 0 ] && break; sleep 0.1; done
bh_same "work's caller killed: its disposable and the 7 made for that one's calls are gone" "0" "$(disps)"

# --- many sources into one target -----------------------------------------------------
# Four qubes allowed to call personal hold 8 never-ending calls each: 32
# would take every request of personal's agent, and dom0's own commands
# there would queue behind them. Calls into one qube stop at 16.
held_total=""
for q in work untrusted vault sys-net; do
  bh_run qvm-run -p "$q" "echo $hc | base64 -d > ~/hc.py; rm -f ~/held; for i in 1 2 3 4 5 6 7 8; do
      setsid python3 ~/hc.py test.Forever hold ~/held </dev/null >/dev/null 2>&1 &
    done
    for i in \$(seq 1200); do [ \"\$(wc -l < ~/held 2>/dev/null)\" = 8 ] && break; sleep 0.1; done
    sort ~/held | cut -d' ' -f1 | uniq -c | awk '{print \$1, \$2}' | paste -sd' '"
  held_total="$held_total $q: $bh_out;"
done
bh_same "work, untrusted, vault, sys-net call personal 8 times each: 16 run, the 16 beyond are refused" \
  " work: 8 hold; untrusted: 8 hold; vault: 8 refused; sys-net: 8 refused;" "$held_total"
wait_count '[s]leep 1000001' 16
bh_result "control: personal runs the 16 services" $?
grep -E 'calls run in personal already' "$bh_log" | head -n 1 | bh_diag
bh_run timeout 60 qvm-run -p personal 'echo dom0 runs here'
bh_same "dom0 still runs a command in personal" "dom0 runs here" "$bh_out"
for q in work untrusted vault sys-net; do qvm-run -p "$q" 'pkill -KILL -f "[h]c.py test.Forever"' >/dev/null 2>&1; done
wait_count '[s]leep 1000001' 0
bh_result "their callers killed, the 16 services are ended" $?

bh_done
