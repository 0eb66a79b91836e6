#!/usr/bin/env bash
# sandbox-open.sh — open a file in another qube (docs/filecopy.md, "Open in
# a qube"): qvm-open-in-vm in work sends a file to personal under an allow
# rule of bulkhead.OpenInVM; bulkhead-open-file there opens it with
# personal's default application for its type (a script registered in
# personal's home) and waits; the edited file comes back and replaces the
# original in work.
#   - round trip: personal saw the content, work gets the edit, no
#     temporary folder stays on either side;
#   - an unchanged file stays as it was; --view-only keeps an edited one;
#   - no rule, @dispvm (dom0 has no display to ask on here), not a regular file:
#     refused, the file unchanged;
#   - streams aimed straight at bulkhead-open-file in personal that are not
#     exactly one regular file (two files, a folder, a link, no file) are
#     refused in words and the handler never runs;
#   - qvm-open-in-dvm under an allow rule for @dispvm: a new disposable of
#     work's default_dispvm opens the file, the edit comes back, and the
#     disposable is removed when the call ends.
# Prints TAP. Reuses daemon-lib.sh (private bus, temporary XDG dirs, cleanup).
set -u
. "$(dirname "$0")/daemon-lib.sh"

bh_require_sandbox
bh_skip_without xdg-open

bh_policy 30-test 'bulkhead.OpenInVM * work personal allow'

bh_start_daemon --backend sandbox || { bh_not_ok "bulkheadd starts"; bh_done; }
bh_ok "bulkheadd runs with the sandbox backend"
bh_expect "personal runs (a call does not start its target)" qvm-run -p personal true

# personal's default application for text/plain: a script that records what
# it was given and, if the text asks for it, edits the file in place.
bh_run qvm-run -p personal 'mkdir -p ~/.local/share/applications ~/.config &&
  printf "#!/bin/sh\necho \"\$1\" >> ~/opened-paths\ncat \"\$1\" > ~/opened-content\ngrep -q \"please edit\" \"\$1\" && printf \"edited in %%s\\\\n\" \"\$BH_QUBE\" >> \"\$1\"\nexit 0\n" > ~/bh-edit &&
  chmod +x ~/bh-edit &&
  printf "[Desktop Entry]\nType=Application\nName=Test editor\nExec=/home/user/bh-edit %%f\nMimeType=text/plain;\n" > ~/.local/share/applications/bh-test-edit.desktop &&
  printf "[Default Applications]\ntext/plain=bh-test-edit.desktop\n" > ~/.config/mimeapps.list &&
  printf "please edit\n" > ~/local.txt && xdg-open ~/local.txt && cat ~/local.txt && rm ~/opened-paths ~/local.txt'
bh_same "control: in personal, xdg-open runs the test editor on a text file and waits for it" \
  "$(printf 'please edit\nedited in personal')" "$bh_out"

bh_run qvm-run -p work 'printf "report\nplease edit\n" > ~/notes.txt && qvm-open-in-vm personal ~/notes.txt'
bh_result "qvm-open-in-vm personal ~/notes.txt in work exits 0 ($bh_rc: $bh_err)" \
  $([ "$bh_rc" -eq 0 ] && [[ "$bh_err" == *"notes.txt was changed in personal and saved here"* ]]; echo $?)
bh_run qvm-run -p personal 'cat ~/opened-content; cat ~/opened-paths'
bh_result "personal's editor got the file's content in a private temporary folder ($(echo "$bh_out" | tail -n1))" \
  $([ "$(echo "$bh_out" | head -n2)" = "$(printf 'report\nplease edit')" ] &&
    [[ "$(echo "$bh_out" | tail -n1)" == /run/user/1000/bulkhead-open-*/file/notes.txt ]]; echo $?)
bh_run qvm-run -p work 'cat ~/notes.txt'
bh_same "the edited file came back and replaced ~/notes.txt in work" \
  "$(printf 'report\nplease edit\nedited in personal')" "$bh_out"
bh_run qvm-run -p personal 'ls -A /run/user/1000 | grep -c bulkhead-open; ls -A ~/QubesIncoming 2>/dev/null | wc -l'
bh_same "nothing of it stays in personal (no temporary folder, nothing in QubesIncoming)" "$(printf '0\n0')" "$bh_out"
bh_run qvm-run -p work 'ls -A ~ | grep -c bulkhead-open'
bh_same "nor beside the file in work" "0" "$bh_out"

bh_run qvm-run -p work 'printf "just view\n" > ~/view.txt && qvm-open-in-vm personal ~/view.txt && cat ~/view.txt'
bh_same "a file the editor did not change stays as it was" "just view" "$bh_out"
bh_run qvm-run -p work 'printf "please edit\n" > ~/keep.txt && qvm-open-in-vm --view-only personal ~/keep.txt && cat ~/keep.txt'
bh_result "--view-only: edited in personal, but work keeps its file ($bh_err)" \
  $([ "$bh_out" = "please edit" ] && [[ "$bh_err" == *"--view-only: the change is not kept"* ]]; echo $?)

bh_run qvm-run -p personal 'echo mine > ~/mine.txt; qvm-open-in-vm work ~/mine.txt; echo "rc=$?"; cat ~/mine.txt'
bh_result "no rule: personal to work is refused in words, the file unchanged ($bh_err)" \
  $([ "$bh_out" = "$(printf 'rc=1\nmine')" ] && [[ "$bh_err" == *"bulkhead.OpenInVM from personal to work is denied by policy"* ]]; echo $?)
bh_run qvm-run -p work 'qvm-open-in-dvm ~/view.txt'
bh_result "qvm-open-in-dvm asks for @dispvm and is told why it is refused (exit $bh_rc: $bh_err)" \
  $([ "$bh_rc" -eq 1 ] && [[ "$bh_err" == "qvm-open-in-dvm: refused: "* ]]; echo $?)
bh_run qvm-run -p work 'mkdir -p ~/adir; qvm-open-in-vm personal ~/adir'
bh_result "a folder is not sent (exit $bh_rc: $bh_err)" \
  $([ "$bh_rc" -eq 2 ] && [[ "$bh_err" == *"is not a regular file"* ]]; echo $?)

# Streams straight at the service in personal, as a hostile caller could
# send them: the real sender through a FIFO (two files, a folder), and
# hand-made ones (a lone link, no file at all).
bh_run qvm-run -p personal 'rm -f ~/opened-paths; cd ~ && mkdir -p t/d && echo a > t/a.txt && echo b > t/b.txt'
python_stream='
import struct, sys, os
def hdr(kind, mode, name, size):
    return struct.pack("<IIIIQqqII", kind, mode, len(name), 0, size, 0, 0, 0, 0) + name
end = b"\0" * 48
magic = b"BHFC\x01\0\0\0"
which = sys.argv[1]
if which == "link":
    s = magic + hdr(3, 0o777, b"l", 5) + b"a.txt" + end
elif which == "none":
    s = magic + end
sys.stdout.buffer.write(s)'
for which in link none; do
  bh_run qvm-run -p personal "python3 -c '$python_stream' $which | bulkhead-open-file work >st.bin 2>/dev/null; echo rc=\$?; tr -c '[:print:]' ' ' <st.bin"
  eval "out_$which=\$bh_out"
done
bh_run qvm-run -p personal 'cd ~ && mkfifo back2 && (bulkhead-file-sender --no-progress t/a.txt t/b.txt <back2 | bulkhead-open-file work >back2 2>/dev/null) 2>&1; rm back2'
bh_result "two files: refused, the sender told 'more than one file' ($bh_out)" \
  $([[ "$bh_out" == *"more than one file"* ]]; echo $?)
bh_run qvm-run -p personal 'cd ~ && mkfifo back2 && (bulkhead-file-sender --no-progress t/d <back2 | bulkhead-open-file work >back2 2>/dev/null) 2>&1; rm back2'
bh_result "a folder: refused, the sender told 'a folder or a link' ($bh_out)" \
  $([[ "$bh_out" == *"a folder or a link"* ]]; echo $?)
bh_result "a lone link: refused in the status, status 1 ($out_link)" \
  $([[ "$out_link" == "rc=1"*"a folder or a link"* ]]; echo $?)
bh_result "no file at all: refused in the status, status 1 ($out_none)" \
  $([[ "$out_none" == "rc=1"*"holds no file"* ]]; echo $?)
bh_run qvm-run -p personal 'test -e ~/opened-paths && echo ran; ls -A /run/user/1000 | grep -c bulkhead-open'
bh_same "the editor never ran for any of them, and no temporary folder stays" "0" "$bh_out"
bh_run qvm-run -p personal 'cd ~ && mkfifo back3 && (bulkhead-file-sender --no-progress t/a.txt <back3 | bulkhead-open-file work >back3 2>/dev/null) 2>&1; rm back3; cat ~/opened-paths | wc -l'
bh_result "control: one regular file the same way is opened ($bh_out)" $([ "$(echo "$bh_out" | tail -n1)" = 1 ]; echo $?)

# qvm-open-in-dvm: a new disposable of work's default_dispvm (default-dvm,
# whose home gets the same test editor) opens the file; the edit comes back,
# and the disposable is removed when the call ends.
bh_run qvm-run -p default-dvm 'mkdir -p ~/.local/share/applications ~/.config &&
  printf "#!/bin/sh\ngrep -q \"please edit\" \"\$1\" && printf \"edited in %%s\\\\n\" \"\$BH_QUBE\" >> \"\$1\"\nexit 0\n" > ~/bh-edit &&
  chmod +x ~/bh-edit &&
  printf "[Desktop Entry]\nType=Application\nName=Test editor\nExec=/home/user/bh-edit %%f\nMimeType=text/plain;\n" > ~/.local/share/applications/bh-test-edit.desktop &&
  printf "[Default Applications]\ntext/plain=bh-test-edit.desktop\n" > ~/.config/mimeapps.list && echo set'
bh_same "control: default-dvm's home has the test editor" "set" "$bh_out"
bh_expect "default-dvm shuts down" qvm-shutdown --wait default-dvm
mark=$(wc -l <"$bh_log")
bh_policy 20-dvm 'bulkhead.OpenInVM * work @dispvm allow'
bh_wait_grep "$bh_log" 'policy loaded' 100 "$mark"
bh_run qvm-run -p work 'printf "in a disposable\nplease edit\n" > ~/dvm.txt && qvm-open-in-dvm ~/dvm.txt && cat ~/dvm.txt'
disp=$(tail -n +"$mark" "$bh_log" | sed -n 's/.*disposable \(disp[0-9]*\) made from default-dvm.*/\1/p' | head -n1)
bh_result "qvm-open-in-dvm: the file opened in a new disposable ($disp) and its edit came back ($bh_rc: $bh_err)" \
  $([ "$bh_rc" -eq 0 ] && [ -n "$disp" ] && [ "$bh_out" = "$(printf 'in a disposable\nplease edit\nedited in %s' "$disp")" ]; echo $?)
bh_wait_grep "$bh_log" "\[$disp\] disposable removed" 300 "$mark"
bh_result "and the disposable was removed when the call ended" $?

bh_done
