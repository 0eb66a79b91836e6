#!/usr/bin/env python3
"""run-wlcs.py WLCS MODULE FILTER — runs the Wayland Conformance Suite
against the gui-agent's integration module and judges it (TAP).

wlcs's own exit status cannot be the verdict: Debian's wlcs 1.5 attaches a
buffer before the first configure in most tests, which the agent refuses
as xdg-shell requires (docs/gui-agent.md, "Conformance: wlcs"). So each
failure is sorted by its reason: that one, a test named below with the
reason it does not apply or is left, or anything else — a failure of the
third kind, or a test of the passing ones failing, fails this test.
Prints the counts. Owns nothing; never changes what wlcs reports."""
import re
import subprocess
import sys

# Failures that are not the agent's (dom0 decides), with why.
KNOWN = {
    "XdgToplevelStableConfigurationTest.defaults":
        "wants a 0x0 size in the configure that activates the window",
    "XdgToplevelStableConfigurationTest.window_can_maximize_itself":
        "dom0 decides: its answer is the second configure, not the first",
    "XdgToplevelStableConfigurationTest.window_can_unmaximize_itself":
        "dom0 decides: its answer is the second configure, not the first",
    "XdgToplevelStableConfigurationTest.window_can_fullscreen_itself":
        "dom0 decides: its answer is the second configure, not the first",
    "XdgToplevelStableConfigurationTest.window_can_unfullscreen_itself":
        "dom0 decides: its answer is the second configure, not the first",
}
HELPER = re.compile(r"a buffer was (attached before the first configure|committed before a configure was acked)")


def main():
    wlcs, module, flt = sys.argv[1:4]
    out = subprocess.run([wlcs, module, "--gtest_filter=" + flt], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, errors="replace").stdout
    results, reasons, cur = {}, {}, None
    for line in out.splitlines():
        m = re.match(r"\[ RUN      \] (\S+)", line)
        if m:
            cur = m.group(1)
            reasons[cur] = []
            continue
        m = re.match(r"\[\s+(OK|FAILED|SKIPPED)\s+\] (\S+?)(,| \(|$)", line)
        if m and m.group(2) == cur:
            results[cur] = m.group(1)
            cur = None
        elif cur:
            reasons[cur].append(line)
    helper = [t for t, r in results.items() if r == "FAILED" and HELPER.search("\n".join(reasons[t]))]
    known = [t for t, r in results.items() if r == "FAILED" and t in KNOWN and t not in helper]
    other = [t for t, r in results.items() if r == "FAILED" and t not in KNOWN and t not in helper]
    passed = [t for t, r in results.items() if r == "OK"]
    m = re.search(r"\[  SKIPPED \] (\d+) tests?", out)
    skipped = int(m.group(1)) if m else 0
    ran = re.search(r"\[==========\] (\d+) tests? from", out)
    print("1..2")
    print(f"# wlcs ran {ran.group(1) if ran else '?'} tests: {len(passed)} passed, {skipped} skipped by wlcs "
          f"(a global the agent does not offer), {len(helper)} failed only on wlcs 1.5's buffer before the first "
          f"configure, {len(known)} known (below), {len(other)} other")
    for t in known:
        print(f"#   {t}: {KNOWN[t]}")
    ok = ran is not None and len(passed) >= 11
    print(f"{'ok' if ok else 'not ok'} 1 - wlcs ran and at least the 11 tests passing when this was written pass "
          f"({len(passed)})")
    for t in other:
        print(f"# unexpected failure: {t}")
        for line in reasons[t][-8:]:
            print(f"#   {line}")
    print(f"{'ok' if not other else 'not ok'} 2 - no failure other than the sorted ones ({len(other)})")


if __name__ == "__main__":
    main()
