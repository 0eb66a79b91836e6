/* bh-shell-qubes.h — the shell's live list of qubes and its verbs, over
 * org.bulkhead.Admin1 only.
 *
 * Owns: the ListQubes snapshot as a GListModel of BhShellQube sorted by name,
 * kept current from the daemon's signals (StateChanged updates a qube in
 * place; QubeAdded, QubeRemoved, PropertyChanged of a listed fact and a
 * change of default_netvm fetch the list again; a
 * daemon that comes back is read again) — never by polling; the memory and
 * CPU figures (GetStats every few seconds while a qube runs: figures have no
 * signal); and the calls the widgets make (Start, Shutdown, Kill, Restart,
 * Pause, Unpause, Run, CreateDisposable).
 * Must never: open the store or a qube's files, decide policy, or block the
 * main loop on a call. */
#pragma once

#include "bh-dbus-admin1.h"
#include "bh-shell-qube.h"

G_BEGIN_DECLS

#define BH_TYPE_SHELL_QUBES (bh_shell_qubes_get_type())
G_DECLARE_FINAL_TYPE(BhShellQubes, bh_shell_qubes, BH, SHELL_QUBES, GObject)

/* Signals:
 *   "changed" ()                       any qube's facts or the set changed
 *   "action-failed" (qube, action, message)  a call the user asked for failed
 *   "action-started" (qube, action)    a call the user asked for was sent
 *   "state-changed" (qube, old, new)   a StateChanged of a known qube
 *   "stats-changed" ()                 new memory and CPU figures
 *   "start-failed" (qube, reason)      the daemon's StartFailed, whoever started it
 *   "launched" (qube)                  the user asked for a program in that qube (a
 *                                      disposable: once it has its name); its window may
 *                                      take the focus (bh-shell-windows.c)
 */

BhShellQubes *bh_shell_qubes_new(BhDbusAdmin1 *admin);
/* The qubes, sorted by name (items: BhShellQube). */
GListModel *bh_shell_qubes_get_model(BhShellQubes *self);
BhShellQube *bh_shell_qubes_find(BhShellQubes *self, const char *name);
/* The last figures for a running or paused qube (GetStats, asked every few
 * seconds while any runs): bytes of memory, and CPU use in percent of one
 * CPU since the figures before (< 0: not known yet). FALSE: none. */
gboolean bh_shell_qubes_get_stats(BhShellQubes *self, const char *qube, guint64 *memory, double *cpu_percent);
/* Reads the list again (asynchronously). */
void bh_shell_qubes_reload(BhShellQubes *self);

void bh_shell_qubes_start(BhShellQubes *self, const char *qube);
void bh_shell_qubes_shutdown(BhShellQubes *self, const char *qube);
void bh_shell_qubes_kill(BhShellQubes *self, const char *qube);
/* Shutdown (waiting for it), then Start. */
void bh_shell_qubes_restart(BhShellQubes *self, const char *qube);
void bh_shell_qubes_pause(BhShellQubes *self, const char *qube);
void bh_shell_qubes_unpause(BhShellQubes *self, const char *qube);
/* Starts commandline in the qube (starting the qube first if halted); the
 * command's output goes nowhere, as with qvm-run without --pass-io. */
void bh_shell_qubes_run(BhShellQubes *self, const char *qube, const char *commandline);
/* As `qvm-run --dispvm TEMPLATE commandline`: a new disposable from template
 * that lives as long as the command. */
void bh_shell_qubes_run_disposable(BhShellQubes *self, const char *template_name, const char *commandline);

/* Starts dom0's settings app, bulkhead-settings, on qube's page (NULL: its
 * first page): the one program the shell starts itself, never one a qube
 * names. FALSE, with error, when it is not installed or does not start. */
gboolean bh_shell_open_settings(const char *qube, GError **error);

/* The daemon's proxy (borrowed): for the app lists (bh-shell-apps.c). */
BhDbusAdmin1 *bh_shell_qubes_get_admin(BhShellQubes *self);

G_END_DECLS
