/* bh-shell-title.h — which qube a guid window's title names.
 *
 * Owns the one rule the window list uses to give a window to a qube: guid
 * titles its windows "[qube]" or "[qube] title", and the qube's own text only
 * follows the prefix. Pure (GLib only), so it is a fuzz target
 * (tests/fuzz/shell-title). Must never: trust anything after the prefix. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The longest qube name the prefix may carry (the model's limit is lower). */
#define BH_SHELL_TITLE_QUBE_MAX 64

/* The qube a guid title names ("[work] foot" -> "work"), or NULL when the
 * title has no such prefix. */
char *bh_shell_title_qube(const char *title);

G_END_DECLS
