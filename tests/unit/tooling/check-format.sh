#!/usr/bin/env bash
# TAP: every C source and header of the tree matches the project's
# .clang-format, so style is checked by ./test rather than by review. One
# test point per file that does not match, naming it and the command that
# fixes it; the first point checks that the checker itself catches a bad file
# (a test that cannot fail is worth nothing).
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
# Control: a file laid out against the style must be refused.
printf 'int  main( void ){return 0;}\n' > "$tmp/bad.c"
if clang-format --style=file:.clang-format --dry-run --Werror "$tmp/bad.c" >/dev/null 2>&1; then
  echo "not ok 1 - the checker accepted a badly formatted file"; bad=1
else
  echo "ok 1 - the checker refuses a badly formatted file"; bad=0
fi
n=1
for f in "${files[@]}"; do
  n=$((n + 1))
  if clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
    echo "ok $n - $f"
  else
    echo "not ok $n - $f is not formatted: run clang-format -i $f"; bad=1
  fi
done
exit $bad
