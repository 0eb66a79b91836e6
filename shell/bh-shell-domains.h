/* bh-shell-domains.h — the domains widget: on the panel, one chip per qube
 * that is not halted (label colour, name, state: starting spinner, paused
 * grey, crashed or failed red), and a "Qubes" button whose popover lists
 * every qube with the verbs its state allows (Start, Shutdown, Pause,
 * Unpause, Terminal).
 *
 * Owns the widgets only; the facts and the calls are BhShellQubes'. Redrawn
 * when BhShellQubes says "changed" (the daemon's signals), never on a timer.
 * Must never show a word that is not a qube's name, a state or a message of
 * the daemon's. */
#pragma once

#include <gtk/gtk.h>

#include "bh-shell-qubes.h"

G_BEGIN_DECLS

#define BH_TYPE_SHELL_DOMAINS (bh_shell_domains_get_type())
G_DECLARE_FINAL_TYPE(BhShellDomains, bh_shell_domains, BH, SHELL_DOMAINS, GtkBox)

GtkWidget *bh_shell_domains_new(BhShellQubes *qubes);

G_END_DECLS
