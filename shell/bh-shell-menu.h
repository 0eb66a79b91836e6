/* bh-shell-menu.h — the app menu: a popover that opens with the search
 * field focused; typing filters, Enter runs the selected entry (the first
 * hit), Up and Down move, Ctrl+D keeps a favourite, Escape closes it.
 *
 * Owns the list of launchable entries: the favourites, then every qube under
 * its group (apps, templates, service qubes) and its own heading in its label
 * colour, with "Terminal" and the apps of its list (BhShellApps) under it,
 * and "New disposable: …" for each under a disposable template. Launching
 * goes through bulkheadd (Run, RunApp, CreateDisposable). Must never show an
 * entry outside its qube's heading and colour, or an app's name without the
 * "[qube]" prefix (the words-and-pixels rule: app names are the qube's
 * words), nor run anything in dom0. */
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
