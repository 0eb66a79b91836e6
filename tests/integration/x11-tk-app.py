#!/usr/bin/env python3
# x11-tk-app.py — a plain Tk program (X11 only) for sandbox-x11.sh: a main
# window "tk-main" with a menu bar; after a moment it posts its "File" menu
# (an override-redirect window, as a click would) and opens a dialog
# "tk-dialog" transient for the main window. Runs inside a qube.
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


if mode == "menu":
    root.after(1500, post_menu)
else:
    root.after(1500, open_dialog)
root.mainloop()
