#!/usr/bin/env python3
"""notify-server.py LOG — a minimal org.freedesktop.Notifications on the
session bus for the tests: every Notify appends "summary|body" to LOG.
It owns only LOG; it shows nothing and never decides a result."""
import sys

from gi.repository import Gio, GLib

XML = """<node><interface name="org.freedesktop.Notifications">
<method name="Notify"><arg type="s" direction="in"/><arg type="u" direction="in"/>
<arg type="s" direction="in"/><arg type="s" direction="in"/><arg type="s" direction="in"/>
<arg type="as" direction="in"/><arg type="a{sv}" direction="in"/><arg type="i" direction="in"/>
<arg type="u" direction="out"/></method>
<method name="GetCapabilities"><arg type="as" direction="out"/></method>
<method name="GetServerInformation"><arg type="s" direction="out"/><arg type="s" direction="out"/>
<arg type="s" direction="out"/><arg type="s" direction="out"/></method>
</interface></node>"""
log = sys.argv[1]
count = [0]


def call(conn, sender, path, iface, method, params, inv):
    if method == "Notify":
        count[0] += 1
        with open(log, "a") as f:
            f.write(f"{params[3]}|{params[4]}\n")
        inv.return_value(GLib.Variant("(u)", (count[0],)))
    elif method == "GetCapabilities":
        inv.return_value(GLib.Variant("(as)", (["body"],)))
    else:
        inv.return_value(GLib.Variant("(ssss)", ("bh-test", "bulkhead", "1", "1.2")))


def acquired(conn, name):
    conn.register_object("/org/freedesktop/Notifications",
                         Gio.DBusNodeInfo.new_for_xml(XML).interfaces[0], call, None, None)


def owned(conn, name):
    print("READY", flush=True)


Gio.bus_own_name(Gio.BusType.SESSION, "org.freedesktop.Notifications",
                 Gio.BusNameOwnerFlags.NONE, acquired, owned, None)
GLib.MainLoop().run()
