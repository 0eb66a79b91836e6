/* bh-settings-firewall.h — the Firewall page of a qube's settings: "allow
 * all" or "limit to" an editable table of accept rules (address or host,
 * protocol, port or range, comment), "allow DNS queries", and "allow
 * everything for N minutes" (a leading accept rule with expire=).
 *
 * Owns: reading the rules (GetFirewall, parsed with the model's own parser
 * to decide whether the page can show them faithfully), writing them as one
 * SetFirewall, and showing the daemon's refusal or warnings in its words
 * beside what the user typed, which stays on the page.
 * Must never: judge a rule itself (the daemon parses what is sent), or edit
 * a list it cannot show faithfully (drop rules between accepts, icmptype,
 * expire on a single rule…): that list is shown read-only with a pointer to
 * qvm-firewall. */
#pragma once

#include "bh-settings-context.h"

G_BEGIN_DECLS

#define BH_TYPE_SETTINGS_FIREWALL (bh_settings_firewall_get_type())
G_DECLARE_FINAL_TYPE(BhSettingsFirewall, bh_settings_firewall, BH, SETTINGS_FIREWALL, GtkBox)

GtkWidget *bh_settings_firewall_new(BhSettingsContext *context, const char *qube);
/* After a rename on the Basic page. */
void bh_settings_firewall_set_qube(BhSettingsFirewall *self, const char *qube);

/* How many times the rules were (re)loaded, and whether SetFirewall is under
 * way (tests wait on both). */
guint bh_settings_firewall_get_loads(BhSettingsFirewall *self);
gboolean bh_settings_firewall_is_busy(BhSettingsFirewall *self);
/* "allow-all", "limit" or "read-only": what the page shows. */
const char *bh_settings_firewall_get_mode(BhSettingsFirewall *self);

G_END_DECLS
