#!/usr/bin/env bash
# sandbox-services.sh — the services of calls from a qube are files in the
# target (docs/rpc.md, "Services in the target"): bulkheadd checks only the
# name's syntax and policy, and bulkhead-service in the target runs the
# program of that name from /etc/bulkhead/rpc-services, then
# /run/bulkhead/rpc-services (the build's own, read-only), with the source
# as dom0 names it:
#   - a test service in the build's folder runs in personal for work with
#     source, service and argument as dom0 gave them; SERVICE+ARG runs the
#     whole name's file if there is one, else SERVICE's;
#   - one in the template's /etc/bulkhead/rpc-services runs in its AppVM;
#   - a name with no file is refused ("no such service … in personal", 127),
#     a link (to an executable: control), a file without x bits and a
#     folder are refused (126) and nothing of them runs;
#   - hostile names (traversal, hidden, option, slash, too long) are refused
#     by dom0 and by bulkhead-service itself;
#   - the qube's user cannot change /run/bulkhead/rpc-services; what it adds
#     to its /etc/bulkhead/rpc-services is its own, gone at its restart, and
#     never reaches the template or another qube.
# Prints TAP. Reuses daemon-lib.sh (private bus, temporary XDG dirs, cleanup).
set -u
. "$(dirname "$0")/daemon-lib.sh"

bh_require_sandbox

# The build's guest programs, and a services folder of the build's services
# plus the test's (BH_SANDBOX_GUEST_DIRS: its rpc-services/ is what qubes
# see at /run/bulkhead/rpc-services).
guest="$bh_tmp/guest"
mkdir -p "$guest/rpc-services"
bh_guest_programs "$guest" bulkhead-sandbox-init bulkhead-agent bulkhead-gui-agent bulkhead-service \
  bulkhead-file-sender bulkhead-file-receiver qvm-copy-to-vm
cp -p "$BH_BUILD_ROOT"/core/services/rpc-services/* "$guest/rpc-services/"
svc="$guest/rpc-services"
cat >"$svc/test.Echo" <<'SH'
#!/bin/sh
echo "in=$BH_QUBE source=$BH_RPC_SOURCE service=$BH_RPC_SERVICE argument=$BH_RPC_ARGUMENT argv1=$1"
cat
SH
printf '#!/bin/sh\necho "whole-name file, argument=$BH_RPC_ARGUMENT"\n' >"$svc/test.Echo+special"
printf '#!/bin/sh\necho "ran" > "$HOME/plain-ran"\n' >"$svc/test.Plain"
chmod 0755 "$svc" "$svc/test.Echo" "$svc/test.Echo+special"
chmod 0644 "$svc/test.Plain"
ln -s /bin/sh "$svc/test.Link"
mkdir -m 0755 "$svc/test.Dir"
chmod -R go+rX "$guest"

bh_policy 30-test '* * work personal allow'

BH_SANDBOX_GUEST_DIRS="$guest" bh_start_daemon --backend sandbox || { bh_not_ok "bulkheadd starts"; bh_done; }
bh_ok "bulkheadd runs with the sandbox backend and the test's services"

# The template's own folder: what its administrator installs, in its /etc
# layer (its first start makes the layer).
bh_expect "the template starts once (its /etc layer is made)" qvm-run -p debian-12 true
qvm-shutdown --wait debian-12 >/dev/null 2>&1
etc="$bh_state/qubes/debian-12/root/etc"
bh_result "control: debian-12's /etc layer is at $etc" $([ -d "$etc" ]; echo $?)
mkdir -p "$etc/bulkhead/rpc-services"
printf '#!/bin/sh\necho "from the template, for $BH_RPC_SOURCE"\n' >"$etc/bulkhead/rpc-services/test.Template"
chmod 0755 "$etc/bulkhead" "$etc/bulkhead/rpc-services" "$etc/bulkhead/rpc-services/test.Template"

# call QUBE SERVICE [INPUT]: from QUBE's own call socket to personal, as a
# program in a qube does; prints dom0's refusal, or the service's output
# and "status N".
call() {
  bh_run qvm-run -p "$1" "printf '%b' '${3:-}' | python3 -c '
import os, socket, struct, sys
s = socket.socket(socket.AF_UNIX)
s.connect(os.environ[\"BH_VCHAN_DIR\"] + \"/\" + os.environ[\"BH_VCHAN_DOMID\"] + \"/call.sock\")
s.sendall(sys.argv[1].encode() + b\" personal\\n\")
f = s.makefile(\"rb\")
line = f.readline().decode(errors=\"replace\").strip()
if line != \"ok\":
    print(line); sys.exit(0)
try:
    s.sendall(sys.stdin.buffer.read()); s.shutdown(socket.SHUT_WR)
except BrokenPipeError:
    pass
out = b\"\"
err = b\"\"
while True:
    n, = struct.unpack(\"<I\", f.read(4))
    if n == 0:
        st, = struct.unpack(\"<I\", f.read(4)); break
    if n & 0x80000000:
        err += f.read(n & 0x7fffffff)
    else:
        out += f.read(n)
sys.stdout.write(out.decode(errors=\"replace\")); print(\"status\", st)
if err:
    print(\"err:\", err.decode(errors=\"replace\").strip().splitlines()[0])' '$2' 2>&1"
}

bh_expect "personal runs (a call does not start its target)" qvm-run -p personal true
call work test.Echo 'hello from work\n'
bh_same "test.Echo runs in personal for work, the source as dom0 names it, stdin through" \
  "$(printf 'in=personal source=work service=test.Echo argument= argv1=work\nhello from work\nstatus 0')" "$bh_out"
call work test.Echo+some.arg
bh_same "test.Echo+some.arg: no file of the whole name, so test.Echo with the argument" \
  "$(printf 'in=personal source=work service=test.Echo argument=some.arg argv1=work\nstatus 0')" "$bh_out"
call work test.Echo+special
bh_same "test.Echo+special: the whole name's own file wins" \
  "$(printf 'whole-name file, argument=special\nstatus 0')" "$bh_out"
call work test.Template
bh_same "a service in the template's /etc/bulkhead/rpc-services runs in its AppVM" \
  "$(printf 'from the template, for work\nstatus 0')" "$bh_out"
call work bulkhead.Nothing
bh_same "no such file: the service's status is 127, and the caller is told why" \
  "$(printf 'status 127\nerr: bulkhead-service: no such service bulkhead.Nothing in personal')" "$bh_out"
bh_run qvm-run -p personal 'bulkhead-service bulkhead.Nothing work'
bh_result "and bulkhead-service says 'no such service bulkhead.Nothing in personal' ($bh_rc: $bh_err)" \
  $([ "$bh_rc" -eq 127 ] && [[ "$bh_err" == *"no such service bulkhead.Nothing in personal"* ]]; echo $?)

bh_run qvm-run -p personal 'ls -l /run/bulkhead/rpc-services/test.Link; test -x "$(readlink /run/bulkhead/rpc-services/test.Link)" && echo target-runs'
bh_result "control: test.Link is a link to an executable in personal" \
  $([[ "$bh_out" == *"-> /bin/sh"* && "$bh_out" == *target-runs ]]; echo $?)
call work test.Link
bh_result "a service that is a symbolic link is refused (126: $bh_out)" \
  $([[ "$bh_out" == "status 126"*"test.Link is a symbolic link"* ]]; echo $?)
bh_run qvm-run -p personal 'bulkhead-service test.Link work </dev/null'
bh_result "in words: 'is a symbolic link' ($bh_rc: $bh_err)" \
  $([ "$bh_rc" -eq 126 ] && [[ "$bh_err" == *"test.Link is a symbolic link"* ]]; echo $?)
bh_run qvm-run -p personal 'cat /run/bulkhead/rpc-services/test.Plain >/dev/null && echo readable'
bh_same "control: test.Plain is there and readable in personal" "readable" "$bh_out"
call work test.Plain
bh_result "a service file without x bits is refused (126: $bh_out)" \
  $([[ "$bh_out" == "status 126"*"test.Plain is not executable"* ]]; echo $?)
bh_run qvm-run -p personal 'bulkhead-service test.Plain work; test -e ~/plain-ran && echo ran'
bh_result "in words, and it did not run ($bh_err)" \
  $([[ "$bh_err" == *"test.Plain is not executable"* && "$bh_out" != *ran* ]]; echo $?)
call work test.Dir
bh_result "a folder of a service's name is refused (126: $bh_out)" \
  $([[ "$bh_out" == "status 126"*"test.Dir is not a regular file"* ]]; echo $?)

# Hostile names: dom0 refuses them before policy; bulkhead-service, which
# a compromised qube could run with anything, refuses them too.
for name in ../../bin/sh .hidden -x 'a/b' "$(printf 'a%.0s' $(seq 65))"; do
  call work "$name"
  bh_result "dom0 refuses the service name '${name:0:20}': $bh_out" \
    $([[ "$bh_out" == "refused: the service is not a name"* ]]; echo $?)
  bh_run qvm-run -p personal "bulkhead-service '$name' work"
  bh_result "bulkhead-service refuses '${name:0:20}' ($bh_rc: $bh_err)" \
    $([ "$bh_rc" -eq 127 ] && [[ "$bh_err" == *"is not a service name"* ]]; echo $?)
done
bh_run qvm-run -p personal 'bulkhead-service test.Echo "../x" </dev/null'
bh_result "bulkhead-service refuses a source that is no qube name ($bh_rc: $bh_err)" \
  $([ "$bh_rc" -eq 2 ] && [[ "$bh_err" == *"is not a qube name"* ]]; echo $?)

# What the qube's user can do to the folders: /run/bulkhead/rpc-services is
# read-only (the build's, bound from dom0); /etc is the qube's own root,
# writable as in a Qubes VM, but an AppVM's writes land in a layer that is
# discarded at its shutdown: never in the template, never in another qube.
bh_run qvm-run -p personal 'touch ~/home-is-writable && echo home-ok'
bh_same "control: personal's user writes its home" "home-ok" "$bh_out"
bh_run qvm-run -p personal 'd=/run/bulkhead/rpc-services; printf "#!/bin/sh\necho evil\n" > $d/test.Added 2>/dev/null && echo wrote
  printf x >> $d/test.Echo 2>/dev/null && echo changed; echo done'
bh_same "personal's user can neither add nor change a service in /run/bulkhead/rpc-services" "done" "$bh_out"
bh_run qvm-run -p personal 'd=/etc/bulkhead/rpc-services; printf "#!/bin/sh\necho added in personal\n" > $d/test.Added &&
  chmod +x $d/test.Added && echo wrote'
bh_same "control: personal's user writes its own root's /etc/bulkhead/rpc-services" "wrote" "$bh_out"
call work test.Added
bh_same "so it serves calls to personal while personal runs (personal's own business)" \
  "$(printf 'added in personal\nstatus 0')" "$bh_out"
bh_result "the template's layer has no test.Added" $([ ! -e "$etc/bulkhead/rpc-services/test.Added" ]; echo $?)
bh_run qvm-run -p work 'ls /etc/bulkhead/rpc-services'
bh_same "work (same template) does not see it" "test.Template" "$bh_out"
qvm-shutdown --wait personal >/dev/null 2>&1
bh_expect "personal restarts" qvm-run -p personal true
call work test.Added
bh_result "after personal's restart test.Added is gone (127: $bh_out)" \
  $([[ "$bh_out" == "status 127"*"no such service test.Added"* ]]; echo $?)

bh_done
