#!/usr/bin/env bash
# sandbox-fm-actions.sh — the file managers' "Copy to other qube…" / "Move to
# other qube…" (docs/filecopy.md, "File managers"): the shipped files in
# core/filecopy/guest-share, which every qube sees read-only at
# /run/bulkhead/share, found in a real qube through its XDG_CONFIG_DIRS /
# XDG_DATA_DIRS as Thunar, Dolphin and Nemo look them up; each action's command
# is parsed from the file and run in work with the arguments its file
# manager gives (%F: absolute paths; Thunar and Nemo through shell quoting,
# Dolphin one argument each; the Nautilus script in the shown folder with
# relative names and NAUTILUS_SCRIPT_SELECTED_FILE_PATHS). dom0's policy
# sends @default to personal (the dialog itself is sandbox-calls-ask's).
#   - names with spaces, a leading '-', non-ASCII and a folder arrive intact
#     in personal's QubesIncoming/work; the move actions remove the sources;
#   - a name with a newline is refused by the sender with the reason (the
#     receiver's rules refuse line breaks) and stays;
#   - the qube cannot change the shipped files (read-only);
#   (desktop-file-validate is not run: a KIO service menu is KDE's own
#   format, Type=Service with MimeType and Actions, which the spec's
#   validator refuses by design.)
# No file manager itself runs here (see docs). Prints TAP.
set -u
. "$(dirname "$0")/daemon-lib.sh"

bh_require_sandbox

bh_policy 30-test 'bulkhead.Filecopy * work @default allow target=personal'

bh_start_daemon --backend sandbox || { bh_not_ok "bulkheadd starts"; bh_done; }
bh_ok "bulkheadd runs with the sandbox backend"

# The driver, in work: finds the file through the XDG variables, parses
# the command, makes the files and runs the action as the file manager would.
cat >"$bh_tmp/fm.py" <<'PY'
import configparser, glob, os, shlex, subprocess, sys
import xml.etree.ElementTree as ET

def first(var, rel):
    for d in os.environ[var].split(":"):
        hits = sorted(glob.glob(os.path.join(d, rel)))
        if hits:
            return hits
    sys.exit("nothing at %s in %s" % (rel, os.environ[var]))

fm, verb = sys.argv[1], sys.argv[2]
folder = os.path.expanduser("~/src-%s-%s" % (fm, verb))
names = ["%s %s a b.txt" % (fm, verb), "-%s-%s.txt" % (fm, verb), "%s %s \u00e9 \U0001f600.txt" % (fm, verb),
         "%s %s dir" % (fm, verb)]
if len(sys.argv) > 3:  # a name with a line break, which no receiver takes
    folder += "-nl"
    names = ["%s\n%s.txt" % (fm, verb)]
os.makedirs(folder)
for n in names[:3]:
    with open(os.path.join(folder, n), "w") as f:
        f.write("content of " + n)
if len(names) > 3:
    os.makedirs(os.path.join(folder, names[3]))
    with open(os.path.join(folder, names[3], "inner"), "w") as f:
        f.write("inner")
paths = [os.path.join(folder, n) for n in names]
action = "bulkhead-%s-to-qube" % verb
env = dict(os.environ)
cwd = None
if fm == "thunar":
    (uca,) = first("XDG_CONFIG_DIRS", "Thunar/uca.xml")
    cmd = [a.findtext("command") for a in ET.parse(uca).getroot() if a.findtext("unique-id") == action][0]
    argv = shlex.split(cmd.replace("%F", " ".join(shlex.quote(p) for p in paths)))
elif fm in ("dolphin", "nemo"):
    if fm == "dolphin":
        files = first("XDG_DATA_DIRS", "kio/servicemenus/bulkhead-*.desktop")
        section = "Desktop Action bulkhead" + verb.capitalize()
    else:
        files = first("XDG_DATA_DIRS", "nemo/actions/%s.nemo_action" % action)
        section = "Nemo Action"
    cp = configparser.RawConfigParser(strict=False)
    cp.optionxform = str
    cp.read(files[0])
    exec_line = cp[section]["Exec"]
    argv = []
    for w in shlex.split(exec_line):
        if w == "%F":
            argv += paths if fm == "dolphin" else shlex.split(" ".join(shlex.quote(p) for p in paths))
        else:
            argv.append(w)
else:  # nautilus: the linked script in ~/.local/share/nautilus/scripts
    script = os.path.expanduser("~/.local/share/nautilus/scripts/%s to other qube\u2026" % verb.capitalize())
    argv = [script] + names
    cwd = folder
    env["NAUTILUS_SCRIPT_SELECTED_FILE_PATHS"] = "".join(p + "\n" for p in paths)
print("argv:", argv[:1], file=sys.stderr)
r = subprocess.run(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL)
print("rc=%d left=%r" % (r.returncode, sorted(os.listdir(folder))))
PY
qvm-run -p work 'cat > ~/fm.py' <"$bh_tmp/fm.py"
bh_run qvm-run -p work 'echo "$XDG_CONFIG_DIRS"; echo "$XDG_DATA_DIRS"; touch /run/bulkhead/share/config/Thunar/uca.xml 2>/dev/null && echo writable'
bh_same "work's XDG dirs start with the shipped data, which it cannot change" \
  "$(printf '/run/bulkhead/share/config:/etc/xdg\n/run/bulkhead/share/data:/usr/local/share:/usr/share')" "$bh_out"
bh_run qvm-run -p work 'ls -l ~/.local/share/nautilus/scripts/'
bh_result "the qube's init linked the Nautilus scripts into its home ($bh_out)" \
  $([[ "$bh_out" == *"Copy to other qube… -> /run/bulkhead/share/data/bulkhead/nautilus-scripts/Copy to other qube…"* ]] &&
    [[ "$bh_out" == *"Move to other qube… -> "* ]]; echo $?)

check_arrived() { # FM VERB
  local fm=$1 verb=$2
  bh_run qvm-run -p personal "cd ~/QubesIncoming/work && python3 -c '
import os, sys
fm, verb = sys.argv[1], sys.argv[2]
names = [\"%s %s a b.txt\" % (fm, verb), \"-%s-%s.txt\" % (fm, verb), \"%s %s \u00e9 \U0001f600.txt\" % (fm, verb)]
ok = all(open(n).read() == \"content of \" + n for n in names)
ok = ok and open(\"%s %s dir/inner\" % (fm, verb)).read() == \"inner\"
print(\"intact\" if ok else \"broken\")' $fm $verb"
}

for fm in thunar dolphin nemo nautilus; do
  for verb in copy move; do
    bh_run qvm-run -p work "python3 ~/fm.py $fm $verb"
    ran=$bh_out err=$bh_err
    if [ "$verb" = copy ]; then want="rc=0 left=['-$fm-copy.txt', '$fm copy a b.txt', '$fm copy dir', '$fm copy é 😀.txt']"
    else want="rc=0 left=[]"; fi
    bh_result "$fm: '${verb^} to other qube…' in work exits 0, sources $([ "$verb" = copy ] && echo kept || echo removed) ($ran; $(printf '%s' "$err" | tail -n2 | tr '\n' ' '))" \
      $([ "$ran" = "$want" ]; echo $?)
    check_arrived "$fm" "$verb"
    bh_same "$fm $verb: the names with a space, a leading '-', non-ASCII and the folder arrived intact in personal" "intact" "$bh_out"
  done
  # A line break in a name is refused by every receiver (docs/filecopy.md,
  # "Receiver rules"): the sender says so before sending, the file stays.
  bh_run qvm-run -p work "python3 ~/fm.py $fm move nl"
  bh_result "$fm: a name with a newline is refused before sending, in words, and kept ($bh_out; $(printf '%s' "$bh_err" | tail -n1))" \
    $([ "$bh_out" = "rc=2 left=['$fm\\nmove.txt']" ] && [[ "$bh_err" == *"contains a line break (U+000A)"* ]]; echo $?)
done
bh_run qvm-run -p personal 'ls -A ~/QubesIncoming/work | wc -l; ls -A ~/QubesIncoming/.bulkhead-partial 2>/dev/null | wc -l'
bh_same "personal holds the 32 names of the 8 transfers and nothing partial" "$(printf '32\n0')" "$bh_out"

bh_done
