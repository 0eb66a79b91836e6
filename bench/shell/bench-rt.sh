#!/bin/sh
# bench-rt.sh CMD… — BENCH_WRAP for bench-shell.sh: run the bench and its
# siblings (the bench's own Xvfb and bulkheadd, children of the same script)
# at SCHED_FIFO priority 10, so that none of them waits for a core while other
# work loads the machine: the wall times then approach a quiet machine's
# (bench/RESULTS.md says where they do not). Needs root (chrt). Owns nothing
# else; it never touches a process that is not its script's child.
set -eu
for p in $(pgrep -P "$PPID"); do
  [ "$p" = "$$" ] || chrt -f -p 10 "$p"
done
exec chrt -f 10 "$@"
