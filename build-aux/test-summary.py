#!/usr/bin/env python3
"""Reads meson's testlog.json and prints the closing line of ./test.

Exit status 0 only when at least one test ran and none failed, so a suite that
silently ran nothing is a failure too.

Each failed test gets a short excerpt (its "not ok" and "Bail out!" lines and
the last lines it wrote) just above the closing line: CI keeps only the end of
the output, and a failure seen there must say why.
"""
import json
import sys

PASS = {"OK", "EXPECTEDFAIL"}
SKIP = {"SKIP"}


def excerpt(t, keep=8, width=300):
    out = (t.get("stdout") or "") + "\n" + (t.get("stderr") or "")
    lines = [l for l in out.splitlines() if l.strip()]
    marked = [l for l in lines if l.startswith(("not ok", "Bail out!"))][:6]
    last = [l for l in lines[-keep:] if l not in marked]
    shown = [l[:width] for l in marked + ["..."] + last]
    return f"--- {t.get('name')}:\n" + "\n".join("  " + l for l in shown)


def main(path):
    passed = failed = skipped = 0
    failed_names = []
    excerpts = []
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                t = json.loads(line)
                r = t.get("result")
                if r in PASS:
                    passed += 1
                elif r in SKIP:
                    skipped += 1
                else:
                    failed += 1
                    failed_names.append(f"{t.get('name')} ({r})")
                    excerpts.append(excerpt(t))
    except FileNotFoundError:
        print(f"test: no test log at {path}: did meson test run?", file=sys.stderr)
        failed += 1
    for e in excerpts:
        print(e)
    for n in failed_names:
        print(f"FAILED: {n}")
    tail = f", {skipped} skipped" if skipped else ""
    print(f"{passed} passed, {failed} failed{tail}")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
