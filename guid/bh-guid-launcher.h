/* bh-guid-launcher.h — guid's launcher: one process that has loaded guid's
 * libraries and fontconfig's configuration, and forks one guid per qube
 * when bulkheadd asks (bulkhead/guid-launch.h; docs/guid.md "The launcher").
 *
 * Owns: the launcher's loop, the fork, and the reset of each child (its
 * stderr, signals, parent-death signal, command line) before the child runs
 * bh_guid_main; what every guid's start does alike without a display
 * (fontconfig, the locale, type classes, an icon index), done once before
 * the first fork. Must never: open the X display, a D-Bus connection, GTK
 * (gtk_init), a GLib main context or a thread before a fork: a child must
 * not share a connection, a lock or a wake-up descriptor with the launcher
 * or with another qube's guid. */
#ifndef BH_GUID_LAUNCHER_H
#define BH_GUID_LAUNCHER_H

#include <stddef.h>

/* Serves requests on sock until bulkheadd closes it; returns the exit
 * status. title is this process's command line area (argv[0] to the end of
 * the last argument), title_len its size: each child writes its own
 * arguments there, so ps and /proc/PID/cmdline show which qube it draws. */
int bh_guid_launcher_run(int sock, char *title, size_t title_len);

#endif /* BH_GUID_LAUNCHER_H */
