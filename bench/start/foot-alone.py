#!/usr/bin/env python3
"""foot-alone.py [N] — foot's own start, with no qube and no Bulkhead at all:
from spawning foot on the host to its first wl_surface.commit after an
attach (WAYLAND_DEBUG=client), under weston's x11 backend (kiosk-shell) on a
private Xvfb, N times (default 7), each beside a plain `bwrap ... true` as
bench-dispvm runs it. What a disposable's first frame of foot can never go
below (bench/RESULTS.md, "A disposable to first frame")."""
import os, subprocess, time, tempfile, sys, statistics
rt = tempfile.mkdtemp(prefix="footfloor")
os.chmod(rt, 0o700)
env = dict(os.environ, XDG_RUNTIME_DIR=rt)
r, wfd = os.pipe()
x = subprocess.Popen(["Xvfb", "-displayfd", str(wfd), "-screen", "0", "1280x1024x24", "-nolisten", "tcp"], pass_fds=[wfd],
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
os.close(wfd)
env["DISPLAY"] = ":" + os.read(r, 64).decode().strip()
w = subprocess.Popen(["weston", "--backend=x11-backend.so", "--shell=kiosk-shell.so", "--socket=wl-floor", "--idle-time=0"], env=env,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
for _ in range(100):
    if os.path.exists(os.path.join(rt, "wl-floor")): break
    time.sleep(0.05)
time.sleep(0.5)
fenv = dict(env, WAYLAND_DISPLAY="wl-floor", WAYLAND_DEBUG="client")
res, bw = [], []
for i in range(int(sys.argv[1]) if len(sys.argv) > 1 else 7):
    t0 = time.monotonic()
    subprocess.run(["bwrap", "--unshare-all", "--unshare-user", "--die-with-parent", "--ro-bind", "/usr", "/usr",
                    "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
                    "--proc", "/proc", "--dev", "/dev", "/usr/bin/true"])
    bw.append((time.monotonic() - t0) * 1000)
    t0 = time.monotonic()
    p = subprocess.Popen(["foot"], env=fenv, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    attached = False
    for line in p.stderr:
        if "wl_surface" in line and ".attach(" in line: attached = True
        if attached and "wl_surface" in line and ".commit()" in line:
            res.append((time.monotonic() - t0) * 1000); break
    p.kill(); p.wait()
    time.sleep(0.3)
w.kill(); x.kill()
import shutil; shutil.rmtree(rt, ignore_errors=True)
res.sort(); bw.sort()
print("foot spawn -> first commit with a buffer (host, weston x11 on Xvfb): median %.1f ms min %.1f max %.1f (n=%d)" % (statistics.median(res), res[0], res[-1], len(res)))
print("bwrap true: median %.1f ms" % statistics.median(bw))
print("foot alone / bwrap: %.1f x" % (statistics.median(res) / statistics.median(bw)))
