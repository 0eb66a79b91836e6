#!/usr/bin/env python3
"""Reads meson's testlog.json and prints the closing line of ./test.

Exit status 0 only when at least one test ran and none failed, so a suite that
silently ran nothing is a failure too.
"""
import json
import sys

PASS = {"OK", "EXPECTEDFAIL"}
SKIP = {"SKIP"}


def main(path):
    passed = failed = skipped = 0
    failed_names = []
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
    except FileNotFoundError:
        print(f"test: no test log at {path}: did meson test run?", file=sys.stderr)
        failed += 1
    for n in failed_names:
        print(f"FAILED: {n}")
    tail = f", {skipped} skipped" if skipped else ""
    print(f"{passed} passed, {failed} failed{tail}")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
