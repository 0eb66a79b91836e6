/* bh-settings-util.h — the small pieces every bulkhead-settings window uses:
 * an error line under a field, a choice list whose items carry values, the
 * label swatches, and a D-Bus error as the words to show.
 *
 * Owns: widgets built from values the daemon gave (names it validated, label
 * names and colours checked again here before they reach CSS).
 * Must never: call the daemon itself (the windows do), or put a string into
 * markup without escaping it. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* The daemon's message without the "GDBus.Error:…" prefix: the model's own
 * sentence, for the field it concerns. */
char *bh_settings_error_text(const GError *error);

/* A red line for a field's error; hidden while empty. */
GtkWidget *bh_settings_error_new(const char *widget_name);
void bh_settings_error_set(GtkWidget *error_label, const char *message);

/* A drop-down whose items are (value, text) pairs; the value is what goes to
 * the daemon, the text what the user reads. */
GtkWidget *bh_settings_choice_new(const char *widget_name);
/* Replaces the items; selects `selected` when it is one of the values (else
 * the first). values and texts have the same length, NULL-terminated. */
void bh_settings_choice_set(GtkWidget *choice, const char *const *values, const char *const *texts,
                            const char *selected);
/* The selected item's value; "" when there is none. */
const char *bh_settings_choice_get(GtkWidget *choice);
gboolean bh_settings_choice_select(GtkWidget *choice, const char *value);

/* One label of ListLabels. */
typedef struct {
    char *name;
    char *color; /* "#rrggbb" */
} BhSettingsLabel;

/* The label swatches: one toggle per label in the daemon's order, each named
 * "label-<name>", coloured by the CSS rule bh_settings_label_css() makes;
 * changed(data) runs when the user picks one. */
typedef void (*BhPickerChanged)(gpointer data);
GtkWidget *bh_settings_label_picker_new(GPtrArray *labels /* BhSettingsLabel* */, BhPickerChanged changed,
                                        gpointer data);
const char *bh_settings_label_picker_get(GtkWidget *picker);
void bh_settings_label_picker_set(GtkWidget *picker, const char *label);

/* CSS rules .bh-label-<name> (background) for every label whose name and
 * colour pass the shell's checks; the others are left out. */
char *bh_settings_label_css(GPtrArray *labels);

/* "name" in its label's colour for markup (escaped, text readable on it). */
char *bh_settings_qube_markup(const char *name, const char *color);

/* A row "caption: widget" in a grid, the error line under it. */
void bh_settings_grid_row(GtkGrid *grid, int *row, const char *caption, GtkWidget *widget, GtkWidget *error);

G_END_DECLS

G_BEGIN_DECLS
/* Which field of a qube form a daemon error concerns, by its D-Bus error and,
 * for InvalidValue, the property its sentence names: "name", "label",
 * "template", "netvm", "memory", "vcpus", "provides_network" — or NULL. */
const char *bh_settings_error_field(const GError *error);
G_END_DECLS

G_BEGIN_DECLS
/* "#000000" or "#ffffff": the model's readable text colour on a colour. */
const char *bh_settings_text_on(const char *color);
G_END_DECLS

G_BEGIN_DECLS
/* Apply: daemon calls sent one after another, each with the error line its
 * refusal goes to. The first refusal is shown there and stops the rest, and
 * status (beside the Apply button, which is insensitive while the calls run)
 * says not everything was applied; after each success sent(owner, item)
 * runs, and at the end done(owner, ok). The queue holds owner (a GObject)
 * until then and frees itself. */
typedef struct _BhSettingsApply BhSettingsApply;
typedef void (*BhApplySent)(gpointer owner, gpointer item);
typedef void (*BhApplyDone)(gpointer owner, gboolean ok);

BhSettingsApply *bh_settings_apply_new(GDBusProxy *proxy, GCancellable *cancellable, gpointer owner,
                                       GtkWidget *button, GtkWidget *status, BhApplySent sent,
                                       BhApplyDone done);
/* params: floating or not; taken. */
void bh_settings_apply_add(BhSettingsApply *apply, const char *method, GVariant *params,
                           GtkWidget *error_line, gpointer item);
void bh_settings_apply_run(BhSettingsApply *apply);
G_END_DECLS

G_BEGIN_DECLS
/* A confirmation dialog, transient for parent and modal, named `name`: the
 * question in markup (the caller escapes it), an optional extra widget (an
 * entry), an error line named "<name minus -dialog>-error", Cancel and the
 * confirming button (named "<…>-confirm", destructive or suggested). The
 * record `data` is freed with free_data when the dialog goes. Returns the
 * dialog, not yet shown; *error and *confirm get those widgets.
 * bh_settings_confirm_cancellable(): cancelled when the dialog goes, for the
 * calls it makes (their replies then never touch the record). */
GtkWidget *bh_settings_confirm_new(GtkWindow *parent, const char *name, const char *title, const char *markup,
                                   GtkWidget *extra, const char *confirm_text, gboolean destructive,
                                   GtkWidget **error, GtkWidget **confirm, gpointer data,
                                   GDestroyNotify free_data);
GCancellable *bh_settings_confirm_cancellable(GtkWidget *dialog);
G_END_DECLS

G_BEGIN_DECLS
/* A square of a label's colour drawn directly (no CSS class, so a table of
 * 200 rows does not restyle 200 widgets): the manager's label column. */
#define BH_TYPE_SETTINGS_SWATCH (bh_settings_swatch_get_type())
G_DECLARE_FINAL_TYPE(BhSettingsSwatch, bh_settings_swatch, BH, SETTINGS_SWATCH, GtkWidget)
GtkWidget *bh_settings_swatch_new(void);
/* "#rrggbb" (checked; anything else draws grey). */
void bh_settings_swatch_set_color(BhSettingsSwatch *self, const char *color);
G_END_DECLS

G_BEGIN_DECLS
/* An app list as check buttons in a GtkListBox: one per app of ListApps'
 * a(sssssbuuay), named "app-<id>", labelled "[qube] Name" as plain text
 * (the name is the qube's, checked by the daemon's decoder, never markup),
 * ticked as in_menu says (every one, with tick_all); toggled(check, list)
 * runs on each change. The old rows go first. Returns how many (at most
 * BH_SETTINGS_MAX_APPS). */
#define BH_SETTINGS_MAX_APPS 2000
guint bh_settings_apps_fill(GtkWidget *list, GVariant *apps, const char *qube, gboolean tick_all,
                            GCallback toggled);
/* A toggled handler for bh_settings_apps_fill: marks the list touched by
 * the user ("bh-touched" on list; set_active before connecting never is). */
void bh_settings_apps_touch(GtkCheckButton *check, GtkWidget *list);
/* menu_items from the ticks: "all" when every row is ticked, else the
 * ticked ids separated by spaces; NULL when the list has no rows. */
char *bh_settings_apps_value(GtkWidget *list);
G_END_DECLS

G_BEGIN_DECLS
/* GetDiskUsage's answer for one qube in words: "412 MiB on dom0's disk, of
 * 2048 MiB" ("at least" when the walk stopped at its bound; without the
 * limit when limit_mib is NULL or ""). */
char *bh_settings_disk_text(guint64 bytes, gboolean exact, const char *limit_mib);
/* The manager's cell: MiB used, rounded up ("412", "412+" when not exact). */
char *bh_settings_disk_cell(guint64 bytes, gboolean exact);
G_END_DECLS
