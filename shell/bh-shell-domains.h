/* bh-shell-domains.h — the domains widget: on the panel, one chip per qube
 * that is not halted (label colour, name, state: starting spinner, paused
 * grey, crashed or failed red; memory, CPU, netvm and template in its
 * tooltip), and a "Qubes" button whose popover lists every qube with its
 * memory and CPU and the verbs its state allows (Start, Terminal, Pause,
 * Unpause, Restart, Shutdown, then Kill when a shutdown takes too long,
 * Settings); and the notifications "Qube X has started / has shut down /
 * failed to start: reason / crashed".
 *
 * Owns the widgets and those notices; the facts and the calls are
 * BhShellQubes'. Redrawn when BhShellQubes says "changed" (the daemon's
 * signals); the figures are refreshed in place when new ones come.
 * Must never show a word that is not a qube's name, a state, a figure or a
 * message of the daemon's; runs nothing but dom0's bulkhead-settings. */
#pragma once

#include <gtk/gtk.h>

#include "bh-shell-qubes.h"

G_BEGIN_DECLS

#define BH_TYPE_SHELL_DOMAINS (bh_shell_domains_get_type())
G_DECLARE_FINAL_TYPE(BhShellDomains, bh_shell_domains, BH, SHELL_DOMAINS, GtkBox)

GtkWidget *bh_shell_domains_new(BhShellQubes *qubes);

/* Seconds after a Shutdown click before Kill is offered for a qube still up. */
#define BH_SHELL_KILL_OFFER_S 10

/* Pure (the unit test's): the notice for a state change of qube, or NULL
 * when the change is not worth one ("Qube work has started", "… has shut
 * down", "… failed to start", "… crashed"). */
char *bh_shell_domains_state_notice(const char *qube, const char *old_state, const char *new_state);
/* How long a failed start's card waits for the qubes whose start failed
 * with it (their netvm was that qube, or one of those): one card for all. */
#define BH_SHELL_START_FAILED_MS 500
/* Pure: the card for a failed start, naming the qubes (NULL-terminated, may
 * be NULL) that did not start because their network goes through it. */
char *bh_shell_domains_start_failed_notice(const char *qube, const char *reason,
                                           const char *const *dependents);
/* Pure: "312 MiB · 4 %" (CPU left out while cpu_percent < 0). */
char *bh_shell_domains_figures(guint64 memory, double cpu_percent);

G_END_DECLS
