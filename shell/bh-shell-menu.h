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

/* The kinds of row, in the order a qube's rows come. */
typedef enum {
    BH_SHELL_MENU_HEADING, /* a group: Favourites, Apps, Templates, Service qubes */
    BH_SHELL_MENU_QUBE,    /* a qube's heading */
    BH_SHELL_MENU_NOTE,    /* dom0's words under a qube: why its list was refused */
    BH_SHELL_MENU_TERMINAL,
    BH_SHELL_MENU_DISPOSABLE_TERMINAL,
    BH_SHELL_MENU_APP,
    BH_SHELL_MENU_DISPOSABLE_APP,
    BH_SHELL_MENU_SETTINGS, /* dom0's bulkhead-settings: first, or under a qube's heading for its page */
} BhShellMenuKind;

/* A search shows at most this many launchers (bench/README.md, "bench/shell"). */
#define BH_SHELL_MENU_MAX_HITS 50

/* One row as the visibility rule sees it. haystack: the casefolded qube name
 * and what the row matches on (NULL: never a hit). */
typedef struct {
    BhShellMenuKind kind;
    const char *qube; /* NULL for a group heading */
    const char *haystack;
} BhShellMenuRow;

/* The query's words, casefolded; NULL for an empty query. */
char **bh_shell_menu_query_words(const char *query);

/* Which rows show, in one pass (visible[i] for rows[i]); returns the hits.
 * Without a search (words NULL): group and qube headings, and the launchers
 * and notes of the qubes for which expanded() says so (launchers before any
 * qube heading, the favourites, always). With one: the first
 * BH_SHELL_MENU_MAX_HITS launchers whose haystack holds every word, their
 * qubes' headings (a hit's words are its qube's: the heading says whose), a
 * note whose haystack matches; no group heading. Pure: the unit test's. */
guint bh_shell_menu_visible(const BhShellMenuRow *const *rows, guint n, char *const *words,
                            gboolean (*expanded)(const char *qube, gpointer data), gpointer data,
                            gboolean *visible);

G_END_DECLS
