#!/usr/bin/env bash
# TAP: build-aux/test-summary.py counts meson results and fails on failures
# and on a run that executed nothing.
set -u
summary=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
n=0; bad=0
check() { # name expected-exit expected-line file
  n=$((n+1))
  out=$(python3 "$summary" "$4"); rc=$?
  last=$(printf '%s\n' "$out" | tail -n 1)
  if [ "$rc" = "$2" ] && [ "$last" = "$3" ]; then echo "ok $n - $1"
  else echo "not ok $n - $1: exit $rc, last line '$last'"; bad=$((bad+1)); fi
}
printf '%s\n' '{"name":"a","result":"OK"}' '{"name":"b","result":"OK"}' '{"name":"c","result":"SKIP"}' > "$tmp/ok.json"
check "all passing" 0 "2 passed, 0 failed, 1 skipped" "$tmp/ok.json"
printf '%s\n' '{"name":"a","result":"OK"}' '{"name":"b","result":"FAIL"}' '{"name":"c","result":"TIMEOUT"}' > "$tmp/fail.json"
check "failures counted, exit 1" 1 "1 passed, 2 failed" "$tmp/fail.json"
: > "$tmp/empty.json"
check "nothing ran is a failure" 1 "0 passed, 0 failed" "$tmp/empty.json"
check "missing log is a failure" 1 "0 passed, 1 failed" "$tmp/nope.json"
echo "1..$n"
[ $bad -eq 0 ]
