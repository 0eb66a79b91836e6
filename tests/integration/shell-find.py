#!/usr/bin/env python3
"""shell-find.py SHOT MODE ... — where to click on a screenshot of the shell
(any width), for the shell's display tests: buttons are the light runs on
the dark panel; a qube's row in a popover is where its swatch colour is.
Prints "X Y"; exit 1 when nothing is found. Owns nothing; decides no result.
  button N       the Nth light run (30 px or wider) across the panel
  lastbutton     the right-most such run
  verb #rrggbb [K]  the Kth button from the right (0: the right-most) on the row of
                 that colour below the panel
  verbat Y [K]   the same on the row at height Y (a greyed row has no exact colour)
  last #rrggbb   the centre of the right-most square of that colour on the panel
  swatches #rrggbb  the centre of each solid square of that colour (12 to 16 px)
                 on a light button of the panel: one "X Y" line each"""
import subprocess, sys
shot, mode = sys.argv[1], sys.argv[2]
out = subprocess.run(["convert", shot, "-depth", "8", "rgb:-"], capture_output=True).stdout
W = int(subprocess.run(["identify", "-format", "%w", shot], capture_output=True).stdout or 1280)
def px(x, y):
    i = (y * W + x) * 3
    return out[i:i + 3]
def light_runs(y=7):          # above the buttons' text
    runs, start = [], None
    for x in range(W + 1):
        light = x < W and sum(px(x, y)) > 3 * 200
        if light and start is None: start = x
        if not light and start is not None:
            if x - start >= 30: runs.append((start, x))
            start = None
    return runs
if mode in ("button", "lastbutton"):
    runs = light_runs()
    n = int(sys.argv[3]) if mode == "button" else len(runs) - 1
    if n < 0 or len(runs) <= n: sys.exit(1)
    a, b = runs[n]
    print((a + b) // 2, 16)
elif mode in ("verb", "verbat"):  # the Kth button from the right (default 0) on the row of colour C / at Y
    k = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    if mode == "verb":
        c = bytes.fromhex(sys.argv[3][1:])
        pts = [(x, y) for y in range(40, 1024) for x in range(0, 60) if px(x, y) == c]
        if not pts: sys.exit(1)
        ys = [p[1] for p in pts]
        y = (min(ys) + max(ys)) // 2
        x0 = max(p[0] for p in pts)                                       # the row's colour mark
    else:                                                                 # a greyed row: no exact colour
        y, x0 = int(sys.argv[3]), 60
    white = b"\xff\xff\xff"
    edge = max(x for x in range(x0, W) if px(x, y) == white)              # the popover's right edge
    x = edge
    for i in range(k + 1):
        while x > x0 and px(x, y) == white: x -= 1                        # a button's right border
        if i == k: break
        while x > x0 and px(x, y) != white: x -= 1                        # across the button
    if x <= x0: sys.exit(1)
    print(x - 12, y)
elif mode == "last":          # the centre of the right-most square of colour C on the panel
    c = bytes.fromhex(sys.argv[3][1:])
    xs = sorted({x for y in range(0, 32) for x in range(W) if px(x, y) == c})
    if not xs: sys.exit(1)
    group = [xs[-1]]
    for x in reversed(xs[:-1]):
        if group[-1] - x > 3: break
        group.append(x)
    ys = [y for y in range(0, 32) if px(group[0], y) == c]
    print((min(group) + max(group)) // 2, (min(ys) + max(ys)) // 2)
elif mode == "swatches":      # the window list's label-colour squares (14 px, rounded corners)
    c = bytes.fromhex(sys.argv[3][1:])
    seen, found = set(), False
    for y0 in range(32):
        for x0 in range(W):
            if (x0, y0) in seen or px(x0, y0) != c: continue
            todo, part = [(x0, y0)], []   # the colour's connected part (4-neighbours)
            seen.add((x0, y0))
            while todo:
                x, y = todo.pop()
                part.append((x, y))
                for n in ((x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)):
                    if 0 <= n[0] < W and 0 <= n[1] < 32 and n not in seen and px(*n) == c:
                        seen.add(n)
                        todo.append(n)
            xs, ys = [p[0] for p in part], [p[1] for p in part]
            w, h = max(xs) - min(xs) + 1, max(ys) - min(ys) + 1
            mid = (min(ys) + max(ys)) // 2
            light = lambda x: 0 <= x < W and sum(px(x, mid)) > 3 * 200
            # A filled square, 12 to 16 px, on a light button (not a chip's
            # icon on the dark panel, nor a letter).
            if 12 <= w <= 16 and 12 <= h <= 16 and len(part) >= 0.85 * w * h and \
                    light(min(xs) - 3) and light(max(xs) + 3):
                print((min(xs) + max(xs)) // 2, mid)
                found = True
    if not found: sys.exit(1)
