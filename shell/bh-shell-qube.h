/* bh-shell-qube.h — one qube as the shell sees it: the facts bulkheadd's
 * ListQubes gives (name, class, power state, label and its colour, template,
 * netvm, memory, private volume size, whether it is a disposable template or
 * provides network).
 *
 * Owns the checked copy of one ListQubes entry. Must never: ask the daemon
 * itself (BhShellQubes does), or hold anything a qube supplied: every field
 * here is dom0's (the store's), and still checked before the UI uses it. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define BH_TYPE_SHELL_QUBE (bh_shell_qube_get_type())
G_DECLARE_FINAL_TYPE(BhShellQube, bh_shell_qube, BH, SHELL_QUBE, GObject)

/* The menu's groups, in the order Qubes shows them. */
typedef enum {
    BH_SHELL_GROUP_APPS,
    BH_SHELL_GROUP_TEMPLATES,
    BH_SHELL_GROUP_SERVICE,
    BH_SHELL_GROUP_HIDDEN, /* dom0: nothing to launch there from the menu */
} BhShellGroup;

/* A qube from one ListQubes entry (a{sv}); NULL with a reason in error when a
 * key is missing or a value has the wrong type or shape. */
BhShellQube *bh_shell_qube_new_from_variant(GVariant *entry, GError **error);

const char *bh_shell_qube_get_name(BhShellQube *self);
const char *bh_shell_qube_get_class(BhShellQube *self);
const char *bh_shell_qube_get_state(BhShellQube *self);
const char *bh_shell_qube_get_label(BhShellQube *self);
/* "#rrggbb", checked. */
const char *bh_shell_qube_get_color(BhShellQube *self);
/* The template and netvm by name, "" when none (or an older daemon): for the
 * domains tooltip and the settings app. */
const char *bh_shell_qube_get_template(BhShellQube *self);
const char *bh_shell_qube_get_netvm(BhShellQube *self);
/* Effective memory and private volume size in MiB as decimal text; "" when
 * the daemon did not say (dom0, an older daemon) or said something else. */
const char *bh_shell_qube_get_memory(BhShellQube *self);
const char *bh_shell_qube_get_private_size(BhShellQube *self);
/* Its IPv4 address (checked), "" without network or from an older daemon. */
const char *bh_shell_qube_get_ip(BhShellQube *self);
gboolean bh_shell_qube_provides_network(BhShellQube *self);
gboolean bh_shell_qube_is_dispvm_template(BhShellQube *self);
BhShellGroup bh_shell_qube_get_group(BhShellQube *self);
/* Whether the domains widget shows it: not Halted. */
gboolean bh_shell_qube_is_active(BhShellQube *self);

/* Copies other's facts into self; TRUE when anything changed. */
gboolean bh_shell_qube_update(BhShellQube *self, BhShellQube *other);
/* Sets the power state (from StateChanged); TRUE when it changed. FALSE and
 * no change for a state name the shell does not know. */
gboolean bh_shell_qube_set_state(BhShellQube *self, const char *state);

/* The CSS class that carries the label's colour: "bh-label-<label>". */
char *bh_shell_qube_css_class(BhShellQube *self);
/* The qube's kind as icons/kinds names it: "service" (provides network),
 * "disposable", "template", "standalone" or "app". */
const char *bh_shell_qube_get_kind(BhShellQube *self);
/* Its label icon in the hicolor theme (icons/): "bh-<kind>-<label>". */
char *bh_shell_qube_icon_name(BhShellQube *self);

/* Whether a name is a label name the shell may put in a CSS class, and a
 * colour is "#rrggbb": the only two values that reach CSS text. */
gboolean bh_shell_label_name_is_valid(const char *label);
gboolean bh_shell_color_is_valid(const char *color);
/* A qube name as the model allows it: 1-64 of [A-Za-z0-9._-]. */
gboolean bh_shell_qube_name_is_valid(const char *name);

G_END_DECLS
