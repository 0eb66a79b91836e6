#!/usr/bin/env python3
# x11-tk-app.py — a plain Tk program (X11 only) for sandbox-x11.sh: a main
# window "tk-main" with a menu bar; after a moment it posts its "File" menu
# (an override-redirect window, as a click would) and opens a dialog
# "tk-dialog" transient for the main window. Runs inside a qube.
# "input" instead writes what reaches the main window to /tmp/tk-input.log,
# one line each: "press B X Y" for a button (Button-4/5 are X11's wheel),
# "delete" when its WM_DELETE_WINDOW arrives (then it exits); its minimum
# size is 360x240. "fullscreen" asks for full screen once mapped
# (_NET_WM_STATE) and logs its size to /tmp/tk-fullscreen.log. "cover"
# opens, next to its main window "tk-cover", an override-redirect window
# as large as the screen at 0,0 (a fake desktop: no frame of its own).
import sys
import tkinter as tk

mode = sys.argv[1] if len(sys.argv) > 1 else "menu"
root = tk.Tk()
root.title("tk-main")
root.geometry("420x300+0+0")
bar = tk.Menu(root)
menu = tk.Menu(bar, tearoff=0)
for item in ("New", "Open", "Save", "Quit"):
    menu.add_command(label=item)
bar.add_cascade(label="File", menu=menu)
root.config(menu=bar)
tk.Label(root, text="X11 through Xwayland", font=("Monospace", 14)).pack(expand=True)


def post_menu():
    menu.post(root.winfo_rootx() + 30, root.winfo_rooty() + 40)


def open_dialog():
    d = tk.Toplevel(root)
    d.title("tk-dialog")
    d.geometry("240x120")
    d.transient(root)
    tk.Label(d, text="a dialog").pack(expand=True)


def log(path, line):
    with open(path, "a") as f:
        f.write(line + "\n")


def on_delete():
    log("/tmp/tk-input.log", "delete")
    root.destroy()


if mode == "menu":
    root.after(1500, post_menu)
elif mode == "dialog":
    root.after(1500, open_dialog)
elif mode == "input":
    root.title("tk-input")
    root.minsize(360, 240)
    # Where in the main window, whichever widget is under the pointer.
    root.bind("<ButtonPress>", lambda e: log("/tmp/tk-input.log", "press %d %d %d" % (
        e.num, e.x_root - root.winfo_rootx(), e.y_root - root.winfo_rooty())))
    root.protocol("WM_DELETE_WINDOW", on_delete)
elif mode == "fullscreen":
    root.title("tk-full")
    root.after(1500, lambda: root.attributes("-fullscreen", True))
    root.bind("<Configure>", lambda e: e.widget is root and log("/tmp/tk-fullscreen.log", "size %d %d" % (e.width, e.height)))
elif mode == "cover":
    root.title("tk-cover")

    def cover():
        c = tk.Toplevel(root)
        c.overrideredirect(True)
        c.geometry("%dx%d+0+0" % (root.winfo_screenwidth(), root.winfo_screenheight()))
        c.configure(background="#204a87")
        tk.Label(c, text="[dom0] Enter your password", font=("Monospace", 20)).pack(expand=True)

    root.after(1500, cover)
root.mainloop()
