#!/usr/bin/env python3
"""clip-app.py — a real GTK 4 app for sandbox-clipboard.sh, run inside a qube.

  clip-app.py gen SIZE       print the test text of SIZE bytes (in dom0, to compare)
  clip-app.py copy DIR       window "clip-copy": F5 puts the 64000-byte text on
                             the clipboard, F7 the 64001-byte one; writes DIR/copied
  clip-app.py paste DIR      window "clip-paste": F6 reads the clipboard as text
                             into DIR/pasted (DIR/pasted.part until complete)
  clip-app.py watch DIR      window "clip-watch": each time its clipboard changes (a
                             paste from dom0), reads it as text into DIR/pasted and
                             the wall-clock time it was read (ns) into DIR/pasted.ns
F5's text starts with the press count (00000, 00001, ...): each copy differs.
Both append every key they receive (its keyval name) to DIR/keys-MODE, so the
test can tell that Ctrl+Shift+C/V never reached the app.
It owns nothing but the test's files in DIR; it never decides a result."""
import os
import sys

import gi

gi.require_version("Gtk", "4.0")
gi.require_version("Gdk", "4.0")
from gi.repository import Gdk, GLib, Gtk  # noqa: E402

UNIT = "line\t\u00e9t\u00e9 \u4e2d\u6587 \U0001F600\U0001F44D tab\there\n"


def text(size):
    """Exactly size bytes of UTF-8: tabs, newlines, 2-, 3- and 4-byte characters."""
    out, n, i = [], 0, 0
    while True:
        piece = f"{i:05d} {UNIT}"
        b = len(piece.encode())
        if n + b > size:
            break
        out.append(piece)
        n += b
        i += 1
    out.append("x" * (size - n - 1) + "\n" if size - n > 0 else "")
    return "".join(out).encode()


def write(path, data):
    with open(path + ".part", "wb") as f:
        f.write(data)
    os.rename(path + ".part", path)


def main():
    mode, arg = sys.argv[1], sys.argv[2]
    if mode == "gen":
        sys.stdout.buffer.write(text(int(arg)))
        return
    d = arg
    app = Gtk.Application(application_id=None)
    copies = [0]

    def on_changed(clip):
        if clip.is_local():
            return

        def done(c, res):
            try:
                got = c.read_text_finish(res)
            except GLib.Error:
                return
            if got is None:
                return
            now = GLib.get_real_time() * 1000
            write(os.path.join(d, "pasted"), got.encode())
            write(os.path.join(d, "pasted.ns"), b"%d\n" % now)
        clip.read_text_async(None, done)

    def on_key(ctrl, keyval, keycode, state, win):
        name = Gdk.keyval_name(keyval) or str(keyval)
        with open(os.path.join(d, "keys-" + mode), "a") as f:
            f.write(f"{name} {int(state)}\n")
        clip = win.get_clipboard()
        if mode == "copy" and name in ("F5", "F7"):
            data = text(64000 if name == "F5" else 64001)
            data = b"%05d" % (copies[0] % 100000) + data[5:]
            copies[0] += 1
            clip.set_content(Gdk.ContentProvider.new_for_bytes(
                "text/plain;charset=utf-8", GLib.Bytes.new(data)))
            write(os.path.join(d, "copied"), b"%d\n" % len(data))
        elif mode == "paste" and name == "F6":
            def done(c, res):
                try:
                    got = c.read_text_finish(res) or ""
                except GLib.Error as e:
                    write(os.path.join(d, "pasted.error"), e.message.encode())
                    return
                write(os.path.join(d, "pasted"), got.encode())
            clip.read_text_async(None, done)
        return False

    def activate(a):
        win = Gtk.ApplicationWindow(application=a, title="clip-" + mode)
        win.set_default_size(300, 200)
        win.set_child(Gtk.Label(label=f"clipboard test: {mode}"))
        keys = Gtk.EventControllerKey()
        keys.connect("key-pressed", on_key, win)
        win.add_controller(keys)
        if mode == "watch":
            win.get_clipboard().connect("changed", on_changed)
        win.present()

    app.connect("activate", activate)
    app.run([sys.argv[0]])


if __name__ == "__main__":
    main()
