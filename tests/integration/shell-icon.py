#!/usr/bin/python3
"""shell-icon.py SHOT WxH+X+Y ICONDIR KIND LABEL — whether the label icon
of that kind and label (ICONDIR/bh-KIND-LABEL.svg, built by bh-gen-labels) is
drawn in the region of a screenshot, for the shell's display tests (the panel
chips, the domains rows, the menu's qube headings).
Each kind's icon of that label is rendered at 16x16 by gdk-pixbuf (the loader
GTK draws it with); a place in the region is a candidate where two fill
pixels of the icon have its colour, and its score is the mean difference per
channel (0-255) over the icon's opaque pixels at its best place. Exit 0 when
KIND's icon scores under 3 and every other kind of the same colour over 10
(or has no candidate): that control shows that the shape, not only the
colour, is there (a plain square of the colour matches no kind). Prints the
scores. Owns nothing."""
import subprocess
import sys

import gi

gi.require_version("GdkPixbuf", "2.0")
from gi.repository import GdkPixbuf  # noqa: E402

shot, region, icondir, kind, label = sys.argv[1:6]
KINDS = ("app", "disposable", "template", "standalone", "service")
size, _, rest = region.partition("+")
rw, rh = (int(v) for v in size.split("x"))
rx, ry = (int(v) for v in rest.split("+"))
dims = subprocess.run(["identify", "-format", "%w %h", shot], capture_output=True, text=True).stdout.split()
W, H = int(dims[0]), int(dims[1])
data = subprocess.run(["convert", shot, "-depth", "8", "rgb:-"], capture_output=True).stdout
S = 16


def px(x, y):
    i = (y * W + x) * 3
    return data[i], data[i + 1], data[i + 2]


def render(path):
    pb = GdkPixbuf.Pixbuf.new_from_file_at_size(path, S, S)
    raw, stride, n = pb.get_pixels(), pb.get_rowstride(), pb.get_n_channels()
    opaque = []
    for y in range(S):
        for x in range(S):
            i = y * stride + x * n
            if n == 4 and raw[i + 3] < 250:
                continue
            opaque.append((x, y, raw[i], raw[i + 1], raw[i + 2]))
    return opaque


def close(a, b, tol=12):
    return all(abs(p - q) <= tol for p, q in zip(a, b))


def score_at(ref, x, y):
    diff = 0
    for dx, dy, r, g, b in ref:
        sr, sg, sb = px(x + dx, y + dy)
        diff += abs(sr - r) + abs(sg - g) + abs(sb - b)
    return diff / (3 * len(ref))


def best_place(ref):
    lookup = {(x, y): (r, g, b) for x, y, r, g, b in ref}
    # Two fill pixels inside the ring, clear of every kind's mark.
    probes = [(p, lookup[p]) for p in ((3, 8), (12, 12)) if p in lookup]
    best = None
    for y in range(ry, min(ry + rh, H) - S + 1):
        for x in range(rx, min(rx + rw, W) - S + 1):
            if all(close(px(x + dx, y + dy), c) for (dx, dy), c in probes):
                score = score_at(ref, x, y)
                if best is None or score < best[0]:
                    best = (score, x, y)
    return best


refs = {k: render(f"{icondir}/bh-{k}-{label}.svg") for k in KINDS}
own = best_place(refs[kind])
if own is None:
    print(f"bh-{kind}-{label}: no place in {region} has its colour")
    sys.exit(1)
# The control, at the same place: every other kind's shape differs there.
others = {k: score_at(ref, own[1], own[2]) for k, ref in refs.items() if k != kind}
words = ", ".join(f"{k} {s:.1f}" for k, s in others.items())
print(f"bh-{kind}-{label} at {own[1]},{own[2]} scores {own[0]:.1f}; there the other kinds score {words}")
sys.exit(0 if own[0] < 3 and all(s > 10 for s in others.values()) else 1)
