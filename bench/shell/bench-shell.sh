#!/usr/bin/env bash
# bench-shell.sh BENCH-SHELL-MENU SHELL [QUBES] — the set-up for the shell's
# menu benchmark (bench/README.md, "bench/shell"): a private bus, state and
# XDG dirs (tests/integration/daemon-lib.sh), a private Xvfb, bulkheadd without
# a backend (nothing starts: the menu lists qubes, it does not run them) with
# QUBES (default 100) app qubes created through qvm-create, each with an app
# list of $BENCH_APPS (default 30) apps in the store, then
#   1. bench-shell-menu: open-to-drawn and search-to-drawn inside the shell's code,
#      and an XTest Super+Space grabbed by the shell's key code to drawn;
#   2. `bulkhead-shell --menu`, the command a desktop session's key binding
#      runs, from spawn to exit (it forwards the action to the running shell
#      over D-Bus).
set -u
: "${BH_SOURCE_ROOT:?run through meson, or set BH_SOURCE_ROOT}"
. "$BH_SOURCE_ROOT/tests/integration/daemon-lib.sh"
bench=$1 shell=$2 count=${3:-100}

export GDK_BACKEND=x11 GSK_RENDERER=cairo GTK_A11Y=none NO_AT_BRIDGE=1
unset WAYLAND_DISPLAY G_DEBUG
Xvfb -displayfd 3 -screen 0 1280x1024x24 -nolisten tcp -noreset 3>"$bh_tmp/display" \
  >"$bh_tmp/xvfb.log" 2>&1 &
bh_bg_pids+=($!)
for _ in $(seq 300); do [ -s "$bh_tmp/display" ] && break; sleep 0.1; done
export DISPLAY=":$(tr -d '\n' <"$bh_tmp/display")"

bh_start_daemon || exit 1
labels=(red orange yellow green gray blue purple black)
for i in $(seq "$count"); do
  qvm-create -l "${labels[i % 8]}" "q$i" >/dev/null || { echo "qvm-create q$i failed"; exit 1; }
done
# A tenth of them disposable templates: two entries each, as default-dvm.
for i in $(seq 10 10 "$count"); do qvm-prefs "q$i" template_for_dispvms True >/dev/null; done

# 30 apps per qube with 32x32 icons, as a qube's bulkhead-applist would have
# written them (no backend here: nothing runs). They go into the store's apps
# table while the daemon is stopped, as the lists of halted qubes are kept, and
# the daemon decodes them again on every ListApps.
apps=${BENCH_APPS:-30}
bh_stop_daemon
python3 - "$bh_state/qubes.db" "$apps" <<'PY'
import sqlite3, struct, sys
db, n = sys.argv[1], int(sys.argv[2])
names = ["Firefox", "Files", "Text Editor", "Calculator", "Terminal", "Image Viewer", "Document Viewer",
         "Videos", "Music", "Settings", "Archive Manager", "Disks", "System Monitor", "Screenshot",
         "Clocks", "Maps", "Weather", "Contacts", "Calendar", "Mail", "Chat", "Office Writer",
         "Office Calc", "Office Impress", "Password Safe", "Notes", "Scanner", "Fonts", "Characters",
         "Logs", "Web Browser", "Code Editor", "Drawing", "Photos", "Podcasts", "Books", "Maps Pro",
         "Backup", "Remote Desktop", "Torrents"]
def rec(i, name):
    id_ = ("org.example.App%d.desktop" % i).encode()
    name = name.encode(); gen = b"Application"; cats = b"Utility;Office;"; kw = b"example;app%d;" % i
    icon = bytes([(i * 37) % 256, 120, 200, 255]) * (32 * 32)
    return struct.pack("<HHHHHBB", len(id_), len(name), len(gen), len(cats), len(kw), 32, 32) + \
        id_ + name + gen + cats + kw + icon
blob = struct.pack("<III", 0x50414842, 1, n) + b"".join(rec(i, names[i % len(names)]) for i in range(n))
con = sqlite3.connect(db)
con.execute("INSERT OR REPLACE INTO apps(qid, data) SELECT qid, ? FROM qubes WHERE qid != 0", (blob,))
con.commit()
print("%d apps (%d bytes) for each of %d qubes" % (n, len(blob),
      con.execute("SELECT count(*) FROM apps").fetchone()[0]))
PY
bh_start_daemon || exit 1

echo "## bench-shell-menu: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
echo
# BENCH_WRAP: a profiler's command line before the bench's, e.g.
# BENCH_WRAP="perf record -g -o /tmp/menu.perf --" (RESULTS.md's profile).
${BENCH_WRAP:-} "$bench" --reps "${BENCH_REPS:-21}" || exit 1

"$shell" >"$bh_tmp/shell.log" 2>&1 &
bh_bg_pids+=($!)
sleep 2
times=()
for _ in $(seq 11); do
  t0=$(date +%s%N)
  "$shell" --menu || exit 1
  t1=$(date +%s%N)
  times+=($(((t1 - t0) / 100000)))
  sleep 0.3
  xdotool key Escape 2>/dev/null
  sleep 0.2
done
sorted=($(printf '%s\n' "${times[@]}" | sort -n))
median=${sorted[5]}
echo
echo "bulkhead-shell --menu (a session key binding's command), spawn to exit, 11 runs: median $((median / 10)).$((median % 10)) ms"
