/* bh-shell-menu.h — the app menu: a popover that opens with the search
 * field focused; typing filters, Enter runs the first hit, the arrow keys
 * move through the list, Escape closes it.
 *
 * Owns the list of launchable entries: every qube under its group (apps,
 * templates, service qubes) and its own heading in its label colour, with
 * "Terminal" under each, and "New disposable: Terminal" under each
 * disposable template. Launching goes through BhShellQubes (bulkheadd's Run
 * and CreateDisposable). Must never show an entry outside its qube's heading
 * (the words-and-pixels rule: app names will be the qube's words), nor run
 * anything in dom0. */
#pragma once

#include <gtk/gtk.h>

#include "bh-shell-qubes.h"

G_BEGIN_DECLS

#define BH_TYPE_SHELL_MENU (bh_shell_menu_get_type())
G_DECLARE_FINAL_TYPE(BhShellMenu, bh_shell_menu, BH, SHELL_MENU, GtkPopover)

GtkWidget *bh_shell_menu_new(BhShellQubes *qubes);

/* Whether an entry matches a search: every word of query (split at white
 * space, compared case-insensitively) is in the qube's name or the entry's
 * text. An empty query matches everything. Pure: the unit test's. */
gboolean bh_shell_menu_match(const char *query, const char *qube, const char *entry);

G_END_DECLS
