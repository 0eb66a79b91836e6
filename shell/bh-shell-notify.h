/* bh-shell-notify.h — notifications: the shell's org.freedesktop.Notifications
 * server for a session that has none (a bare X server, ./run on Xvfb), and
 * the shell's own way of telling the user something.
 *
 * Owns the well-known name org.freedesktop.Notifications when nobody else
 * does (a server already running keeps it and is used; ours allows
 * replacement, so one started later takes over), the notifications it shows
 * (a column of cards in the top-right corner under the panel, each expiring)
 * and their bounds: text sizes, how many are shown, how many one caller may
 * send in a while. Callers are dom0 programs (bulkheadd, the shell), yet every
 * field is bounded and the body is shown as plain text: no markup, links or
 * images are interpreted, and control characters are replaced.
 * Must never: read a qube's data or decide anything from a notification's
 * text; take the keyboard focus; block the main loop. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Bytes kept of each field (cut at a character boundary, "…" appended). */
#define BH_NOTIFY_MAX_APP     64
#define BH_NOTIFY_MAX_SUMMARY 200
#define BH_NOTIFY_MAX_BODY    1000
/* Cards on screen; a new one closes the oldest. */
#define BH_NOTIFY_MAX_SHOWN 5
/* Per caller (unique bus name): at most so many Notify calls in the window. */
#define BH_NOTIFY_RATE_COUNT     20
#define BH_NOTIFY_RATE_WINDOW_US (10 * G_USEC_PER_SEC)
/* expire_timeout -1 (the server's choice) and the longest one honoured. */
#define BH_NOTIFY_DEFAULT_MS 6000
#define BH_NOTIFY_MAX_MS     60000

#define BH_TYPE_SHELL_NOTIFY (bh_shell_notify_get_type())
G_DECLARE_FINAL_TYPE(BhShellNotify, bh_shell_notify, BH, SHELL_NOTIFY, GObject)

/* Starts asking for the name on the session bus; shows nothing until a
 * notification arrives. */
BhShellNotify *bh_shell_notify_new(void);
/* The panel's monitor (the panel follows RandR's primary): the cards hang
 * in its top-right corner under the panel, those shown already too. */
void bh_shell_notify_set_area(BhShellNotify *self, const GdkRectangle *area);
/* Whether this process owns org.freedesktop.Notifications now. */
gboolean bh_shell_notify_is_server(BhShellNotify *self);

/* Sends one notification to whichever server owns the name (this process's
 * or the session's), from "Bulkhead". Asynchronous; without any server the
 * text goes to the log. */
void bh_shell_notify_send(const char *summary, const char *body);

/* Pure (the unit test's): text as shown: valid UTF-8, at most max bytes (cut
 * at a character, "…" added), control characters but newline replaced by a
 * space, and bidi controls removed, so a caller cannot reorder the words
 * around it. */
char *bh_shell_notify_clean_text(const char *text, gsize max);
/* Pure: the expiry in ms for a Notify expire_timeout (0: never). */
guint bh_shell_notify_expiry_ms(gint32 expire_timeout);

G_END_DECLS
