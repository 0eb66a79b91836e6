#!/usr/bin/env bash
# bench-filecopy.sh [REPS] — copy throughput between two sandbox qubes
# (bench/README.md, "bench/filecopy"): a private bus, state and XDG dirs
# (tests/integration/daemon-lib.sh), bulkheadd on the sandbox backend, work
# and personal with 4 GiB homes. Per repetition, for one 1 GiB file and for a
# folder of 10 000 files of 1 KiB:
#   qube to qube: bulkhead-file-sender in work -> dom0 (two qvm-run -p and a
#     FIFO, as sandbox-filecopy.sh) -> bulkhead-file-receiver in personal,
#     timed in dom0 from the start of the pipeline to the sender's exit (the
#     receiver's confirmation has arrived by then);
#   floor: `cp -r` of the same source to another folder of the same home
#     (same loop-mounted volume), timed inside work.
# Neither side syncs: both end in the page cache. Prints a Markdown table of
# medians.
set -u
: "${BH_SOURCE_ROOT:?run through meson, or set BH_SOURCE_ROOT}"
. "$BH_SOURCE_ROOT/tests/integration/daemon-lib.sh"
reps=${1:-5}
[ "$(id -u)" -eq 0 ] || { echo "skipped: the sandbox backend needs root here"; exit 0; }
unset G_DEBUG
bh_start_daemon --backend sandbox || exit 1
qvm-prefs work private_size 4096 && qvm-prefs personal private_size 4096 || exit 1

qvm-run -p work 'set -e; head -c 1G /dev/urandom > ~/big.bin; mkdir ~/small
  cd ~/small && for i in $(seq 10000); do head -c 1024 /dev/urandom > f$i; done' || exit 1
qvm-run -p personal 'true' || exit 1

ms() { echo $(( $(date +%s%N) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

copy_ms() { # SOURCE: milliseconds for one copy work -> personal
  local fifo="$bh_tmp/back" t0 t1
  rm -f "$fifo"; mkfifo "$fifo"
  t0=$(ms)
  qvm-run -p work "bulkhead-file-sender --no-progress $1" <"$fifo" 2>"$bh_tmp/sender.err" |
    qvm-run -p personal 'bulkhead-file-receiver work' >"$fifo" 2>/dev/null
  local rc=${PIPESTATUS[0]}
  t1=$(ms)
  [ "$rc" -eq 0 ] || { echo "copy failed: $(cat "$bh_tmp/sender.err")" >&2; exit 1; }
  qvm-run -p personal 'rm -rf ~/QubesIncoming/work' >/dev/null
  echo $((t1 - t0))
}
cp_ms() { # SOURCE: milliseconds for cp -r inside work, same volume
  qvm-run -p work "rm -rf ~/cp-dst; t0=\$(date +%s%N); cp -r $1 ~/cp-dst; t1=\$(date +%s%N); rm -rf ~/cp-dst
    echo \$(( (t1 - t0) / 1000000 ))"
}

: >"$bh_tmp/big-copy"; : >"$bh_tmp/big-cp"; : >"$bh_tmp/small-copy"; : >"$bh_tmp/small-cp"
for r in $(seq "$reps"); do
  copy_ms '~/big.bin' >>"$bh_tmp/big-copy"
  cp_ms '~/big.bin' >>"$bh_tmp/big-cp"
  copy_ms '~/small' >>"$bh_tmp/small-copy"
  cp_ms '~/small' >>"$bh_tmp/small-cp"
  echo "# repetition $r: 1 GiB $(tail -n1 "$bh_tmp/big-copy") ms (cp $(tail -n1 "$bh_tmp/big-cp") ms)," \
    "10 000 files $(tail -n1 "$bh_tmp/small-copy") ms (cp $(tail -n1 "$bh_tmp/small-cp") ms)" >&2
done

bc_=$(median <"$bh_tmp/big-copy"); bp=$(median <"$bh_tmp/big-cp")
sc=$(median <"$bh_tmp/small-copy"); sp=$(median <"$bh_tmp/small-cp")
echo "| what ($reps repetitions, medians) | qube to qube | cp -r, same volume | ratio |"
echo "|---|---|---|---|"
awk -v c="$bc_" -v p="$bp" 'BEGIN { printf "| one 1 GiB file | %d ms (%.0f MiB/s) | %d ms (%.0f MiB/s) | %.1f× |\n", c, 1024000 / c, p, 1024000 / p, c / p }'
awk -v c="$sc" -v p="$sp" 'BEGIN { printf "| 10 000 files of 1 KiB | %d ms (%.0f files/s) | %d ms (%.0f files/s) | %.1f× |\n", c, 1e7 / c, p, 1e7 / p, c / p }'
