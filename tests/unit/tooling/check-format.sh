#!/usr/bin/env bash
# TAP: every C source and header of the tree matches the project's
# .clang-format, so style is checked by ./test rather than by review. One
# test point per file that does not match, naming it and the command that
# fixes it; the first point checks that the checker itself catches a bad file
# (a test that cannot fail is worth nothing).
#
# One clang-format process per batch of files, a batch per core, in
# parallel: a process per file (440 of them) took 240-339 s on a loaded
# machine against the test's 300 s limit, nearly all of it starting
# clang-format. clang-format goes on past a file that does not match and
# names each such file in its "FILE:LINE:COL: error:" lines; a batch that
# fails without naming one of its files (a crash, a bad .clang-format) fails
# every file of it.
set -u
src=$1
cd "$src" || { echo "1..1"; echo "not ok 1 - cannot enter $src"; exit 1; }
if ! command -v clang-format >/dev/null 2>&1; then
  echo "1..1"; echo "not ok 1 - clang-format is not installed (./test installs it)"; exit 1
fi
if [ -d .git ] || git rev-parse --git-dir >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files '*.c' '*.h')
else
  mapfile -t files < <(find . -path ./build -prune -o -path './build-*' -prune -o \
    \( -name '*.c' -o -name '*.h' \) -print | sed 's|^\./||' | sort)
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
echo "1..$((${#files[@]} + 1))"
# Control: a badly laid out file among good ones must be refused, and named.
printf 'int  main( void ){return 0;}\n' > "$tmp/bad.c"
printf 'int main(void)\n{\n    return 0;\n}\n' > "$tmp/good.c"
clang-format --style=file:.clang-format --dry-run --Werror "$tmp/good.c" "$tmp/bad.c" "$tmp/good.c" \
  >/dev/null 2>"$tmp/control.err"
if [ $? -ne 0 ] && grep -q "^$tmp/bad.c:[0-9]*:[0-9]*: error:" "$tmp/control.err" &&
   ! grep -q "^$tmp/good.c:" "$tmp/control.err"; then
  echo "ok 1 - the checker refuses a badly formatted file among good ones, and names it"; bad=0
else
  echo "not ok 1 - the checker did not name the one badly formatted file"; bad=1
fi

jobs=$(nproc 2>/dev/null || echo 2)
[ "$jobs" -ge 1 ] || jobs=1
n=${#files[@]}
per=$(((n + jobs - 1) / jobs))
[ "$per" -ge 1 ] || per=1
batches=0
for ((start = 0; start < n; start += per)); do
  (
    clang-format --dry-run --Werror "${files[@]:start:per}" >/dev/null 2>"$tmp/batch.$batches.err"
    echo $? >"$tmp/batch.$batches.rc"
  ) &
  batches=$((batches + 1))
done
wait

declare -A unformatted=()
declare -A failed=()
b=0
for ((start = 0; start < n; start += per)); do
  rc=$(cat "$tmp/batch.$b.rc" 2>/dev/null || echo 1)
  named=0
  while IFS= read -r f; do
    unformatted[$f]=1; named=1
  done < <(sed -n 's/^\(.*\):[0-9]*:[0-9]*: error: .*/\1/p' "$tmp/batch.$b.err" | sort -u)
  if [ "$rc" -ne 0 ] && [ "$named" -eq 0 ]; then
    why=$(head -n 1 "$tmp/batch.$b.err")
    for f in "${files[@]:start:per}"; do failed[$f]="exit status $rc${why:+: $why}"; done
  fi
  b=$((b + 1))
done

i=1
for f in "${files[@]}"; do
  i=$((i + 1))
  if [ -n "${failed[$f]+x}" ]; then
    echo "not ok $i - $f: clang-format failed on its batch (${failed[$f]})"; bad=1
  elif [ -n "${unformatted[$f]+x}" ]; then
    echo "not ok $i - $f is not formatted: run clang-format -i $f"; bad=1
  else
    echo "ok $i - $f"
  fi
done
exit $bad
