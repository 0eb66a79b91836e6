#!/usr/bin/env bash
# sandbox-open-url.sh — open a link in another qube (docs/filecopy.md, "Open
# a link"): qvm-open-in-vm personal URL in work sends the link under an allow
# rule of bulkhead.OpenURL; bulkhead-open-url in personal checks it and runs
# personal's handler for x-scheme-handler/https (a script registered in its
# home that records what it got). qvm-open-in-dvm URL opens it in a new
# disposable of default-dvm, removed when the handler ended.
#   - hostile links refused by the caller (file:, javascript:, a newline, a
#     leading '-', a space, over 4096 bytes) and, sent straight at the service
#     in personal as a hostile caller could, refused there in words: the
#     handler never ran for any of them (control: it runs for a good link);
#   - a deny rule: refused in words.
# Prints TAP. Reuses daemon-lib.sh (private bus, temporary XDG dirs, cleanup).
set -u
. "$(dirname "$0")/daemon-lib.sh"

bh_require_sandbox
bh_skip_without xdg-open

bh_policy 30-test 'bulkhead.OpenURL * work personal allow' 'bulkhead.OpenURL * work @dispvm allow' \
  'bulkhead.OpenURL * personal work deny'

bh_start_daemon --backend sandbox || { bh_not_ok "bulkheadd starts"; bh_done; }
bh_ok "bulkheadd runs with the sandbox backend"

# The handler for https and mailto links: appends its argument to ~/opened-url
# and says it on stderr (which reaches the caller through dom0).
handler_setup='mkdir -p ~/.local/share/applications ~/.config &&
  printf "#!/bin/sh\nprintf \"%%s\\\\n\" \"\$1\" >> ~/opened-url\necho \"handler in \$BH_QUBE got [\$1]\" >&2\n" > ~/bh-browser &&
  chmod +x ~/bh-browser &&
  printf "[Desktop Entry]\nType=Application\nName=Test browser\nExec=/home/user/bh-browser %%u\nMimeType=x-scheme-handler/https;x-scheme-handler/mailto;\n" > ~/.local/share/applications/bh-browser.desktop &&
  printf "[Default Applications]\nx-scheme-handler/https=bh-browser.desktop\nx-scheme-handler/mailto=bh-browser.desktop\n" > ~/.config/mimeapps.list'
bh_run qvm-run -p personal "$handler_setup && xdg-open 'https://control.example/' && cat ~/opened-url && rm ~/opened-url"
bh_same "control: in personal, xdg-open runs the test handler for an https link" "https://control.example/" "$bh_out"

url='https://example.org/a%20b?q=1&r=(x)#top'
bh_run qvm-run -p work "qvm-open-in-vm personal '$url'"
bh_result "qvm-open-in-vm personal URL in work exits 0, the handler's words come back (exit $bh_rc: $bh_err)" \
  $([ "$bh_rc" -eq 0 ] && [[ "$bh_err" == *"handler in personal got [$url]"* ]]; echo $?)
bh_run qvm-run -p personal 'cat ~/opened-url'
bh_same "personal's handler got the link intact" "$url" "$bh_out"
bh_run qvm-run -p work "qvm-open-in-vm personal 'mailto:someone@example.org?subject=hi'"
bh_result "qvm-open-in-vm personal mailto:... exits 0 ($bh_rc: $bh_err)" "$bh_rc"
bh_run qvm-run -p personal 'tail -n1 ~/opened-url'
bh_same "a mailto: link too" "mailto:someone@example.org?subject=hi" "$bh_out"

# Refused by the caller before it asks dom0 (exit 2, the reason in words).
long="https://example.org/$(head -c 4100 /dev/zero | tr '\0' a)"
for bad in 'file:///etc/passwd' 'javascript:alert(1)' "$(printf 'https://a.example/\nhttps://b.example/')" \
  '-https://example.org/' 'https://example.org/a b' "$long"; do
  bh_run qvm-run -p work "qvm-open-in-vm personal '$bad'"
  bh_result "the caller refuses '$(printf '%s' "$bad" | head -c 40 | tr '\n' '^')' (exit $bh_rc: $(printf '%s' "$bh_err" | head -c 160))" \
    $([ "$bh_rc" -eq 2 ] && [[ "$bh_err" == *"is not opened: "* || "$bh_err" == *"not a regular file"* ]]; echo $?)
done

# Straight at the service in personal, as a hostile caller could send them.
i=0
for bad in 'file:///etc/passwd\n' 'javascript:alert(1)\n' 'https://a.example/\nhttps://b.example/\n' \
  '-https://example.org/\n' 'https://example.org/\0033]0;x\0007\n' 'https://example.org/' \
  "https://example.org/$(head -c 4080 /dev/zero | tr '\0' a)\n"; do
  i=$((i + 1))
  bh_run qvm-run -p personal "printf '%b' '$bad' | bulkhead-open-url work; echo rc=\$?"
  bh_result "the service refuses hostile link $i in words (status 1: $(printf '%s' "$bh_err" | head -c 120))" \
    $([ "$bh_out" = "rc=1" ] && [[ "$bh_err" == *"the link from work is refused: "* ]]; echo $?)
done
bh_run qvm-run -p personal 'wc -l < ~/opened-url'
bh_same "the handler never ran for any hostile link (still the 2 good ones)" "2" "$bh_out"
bh_run qvm-run -p personal "printf 'https://direct.example/\n' | bulkhead-open-url work; echo rc=\$?; tail -n1 ~/opened-url"
bh_same "control: a good link the same way is opened" "$(printf 'rc=0\nhttps://direct.example/')" "$bh_out"

bh_run qvm-run -p personal "qvm-open-in-vm work 'https://example.org/'; echo rc=\$?"
bh_result "a deny rule: personal to work is refused in words ($bh_err)" \
  $([ "$bh_out" = "rc=1" ] && [[ "$bh_err" == *"bulkhead.OpenURL from personal to work is denied by policy"* ]]; echo $?)

# A new disposable of default-dvm: its home is a copy of default-dvm's, so
# the handler registered there opens the link; the disposable goes after.
bh_run qvm-run -p default-dvm "$handler_setup"
bh_result "the handler is registered in default-dvm ($bh_err)" "$bh_rc"
mark=$(wc -l <"$bh_log")
bh_run qvm-run -p work "qvm-open-in-dvm 'https://disposable.example/x'"
disp=$(tail -n +"$mark" "$bh_log" | sed -n 's/.*disposable \(disp[0-9]*\) made from default-dvm.*/\1/p' | head -n1)
bh_result "qvm-open-in-dvm URL: opened in the new disposable $disp (exit $bh_rc: $bh_err)" \
  $([ "$bh_rc" -eq 0 ] && [ -n "$disp" ] && [[ "$bh_err" == *"handler in $disp got [https://disposable.example/x]"* ]]; echo $?)
bh_wait_grep "$bh_log" "\[$disp\] disposable removed" 300 "$mark"
bh_result "and the disposable is removed once the handler ended" $([ $? -eq 0 ] && [ -z "$(bh_state_of "$disp")" ]; echo $?)

bh_done
