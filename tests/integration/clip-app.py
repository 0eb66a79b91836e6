#!/usr/bin/env python3
"""clip-app.py — a real GTK 4 app for sandbox-clipboard.sh, run inside a qube.

  clip-app.py gen SIZE       print the test text of SIZE bytes (in dom0, to compare)
  clip-app.py genimg W H [N] print the test image's R,G,B,A bytes (in dom0, to compare)
  clip-app.py copy DIR       window "clip-copy": F5 puts the 64000-byte text on
                             the clipboard, F7 the 64001-byte one, F8 the 257x131
                             test image (a GdkTexture: GTK offers it as image/png and
                             other image types), F9 the 1920x1080 one, F4 only a type
                             that is neither text nor image; writes DIR/copied
  clip-app.py paste DIR      window "clip-paste": F6 reads the clipboard as text
                             into DIR/pasted (DIR/pasted.part until complete), F10
                             as an image (GdkTexture) into DIR/pasted-image: its
                             R,G,B,A bytes after a line "W H"; the window shows it
  clip-app.py watch DIR      window "clip-watch": each time its clipboard changes (a
                             paste from dom0), reads it as text into DIR/pasted, or as
                             an image into DIR/pasted-image, and the wall-clock time it
                             was read (ns) into DIR/pasted.ns
Image N (the press count) differs in its first pixel's blue.
F5's text starts with the press count (00000, 00001, ...): each copy differs.
Both append every key they receive (its keyval name) to DIR/keys-MODE, so the
test can tell that Ctrl+Shift+C/V never reached the app.
It owns nothing but the test's files in DIR; it never decides a result."""
import os
import sys

import gi

gi.require_version("Gtk", "4.0")
gi.require_version("Gdk", "4.0")
gi.require_version("GdkPixbuf", "2.0")
from gi.repository import Gdk, GdkPixbuf, GLib, GObject, Gtk  # noqa: E402

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


_images = {}


def image(w, h, n=0):
    """w x h pixels, R, G, B, A bytes (straight alpha, 192..255, so a
    premultiplication on the way would show), the first pixel's blue n."""
    if (w, h) not in _images:
        out = bytearray(4 * w * h)
        for y in range(h):
            for x in range(w):
                i = 4 * (y * w + x)
                out[i:i + 4] = bytes(
                    (x & 255, y & 255, (x * 7 + y * 13) & 255, 255 - ((x ^ y) & 63)))
        _images[(w, h)] = out
    out = bytearray(_images[(w, h)])
    out[2] = n & 255
    return bytes(out)


def texture(w, h, n):
    return Gdk.MemoryTexture.new(w, h, Gdk.MemoryFormat.R8G8B8A8,
                                 GLib.Bytes.new(image(w, h, n)), 4 * w)


def texture_rgba(tex):
    """A texture's pixels as R, G, B, A bytes with straight alpha: through
    GTK's own PNG writer and gdk-pixbuf (GTK 4.8 has no downloader API)."""
    loader = GdkPixbuf.PixbufLoader.new_with_type("png")
    loader.write_bytes(tex.save_to_png_bytes())
    loader.close()
    pb = loader.get_pixbuf()
    if not pb.get_has_alpha() or pb.get_n_channels() != 4:
        pb = pb.add_alpha(False, 0, 0, 0)
    w, h, stride = pb.get_width(), pb.get_height(), pb.get_rowstride()
    px = pb.get_pixels()
    return w, h, b"".join(px[y * stride:y * stride + 4 * w] for y in range(h))


def write(path, data):
    with open(path + ".part", "wb") as f:
        f.write(data)
    os.rename(path + ".part", path)


def main():
    mode, arg = sys.argv[1], sys.argv[2]
    if mode == "gen":
        sys.stdout.buffer.write(text(int(arg)))
        return
    if mode == "genimg":
        n = int(sys.argv[4]) if len(sys.argv) > 4 else 0
        sys.stdout.buffer.write(image(int(arg), int(sys.argv[3]), n))
        return
    d = arg
    app = Gtk.Application(application_id=None)
    copies = [0]

    def save_image(tex):
        now = GLib.get_real_time() * 1000  # the texture is the app's: the time it had it
        w, h, px = texture_rgba(tex)
        write(os.path.join(d, "pasted-image"), b"%d %d\n" % (w, h) + px)
        write(os.path.join(d, "pasted.ns"), b"%d\n" % now)

    def read_image(clip, err_path=None, win=None):
        def done(c, res):
            try:
                tex = c.read_texture_finish(res)
            except GLib.Error as e:
                if err_path:
                    write(err_path, e.message.encode())
                return
            if tex is not None:
                if win is not None:  # shown, for the test's screenshot
                    win.set_child(Gtk.Picture.new_for_paintable(tex))
                save_image(tex)
        clip.read_texture_async(None, done)

    def on_changed(clip):
        if clip.is_local():
            return
        if clip.get_formats().contain_mime_type("image/png"):
            read_image(clip)
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
        elif mode == "copy" and name in ("F8", "F9"):
            w, h = (257, 131) if name == "F8" else (1920, 1080)
            n = copies[0] % 256
            # A GValue of GdkTexture, as a C app's gdk_clipboard_set_texture()
            # makes: GTK's image serializers are registered for that type.
            value = GObject.Value(Gdk.Texture, texture(w, h, n))
            clip.set_content(Gdk.ContentProvider.new_for_value(value))
            copies[0] += 1
            write(os.path.join(d, "copied"), b"%dx%d %d\n" % (w, h, n))
        elif mode == "copy" and name == "F4":
            clip.set_content(Gdk.ContentProvider.new_for_bytes(
                "application/x-clip-test", GLib.Bytes.new(b"not text, not an image")))
            write(os.path.join(d, "copied"), b"other\n")
        elif mode == "paste" and name == "F10":
            read_image(clip, os.path.join(d, "pasted-image.error"), win)
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
