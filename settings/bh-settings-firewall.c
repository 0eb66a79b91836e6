/* bh-settings-firewall.c — a qube's Firewall page (see the header). */
#define G_LOG_DOMAIN "bh-settings"

#include "bh-settings-firewall.h"

#include "bh-settings-util.h"
#include "bulkhead/firewall.h"

#include <stdlib.h>
#include <string.h>

/* One editable accept rule: its widgets, named fw-<field>-<n>, n its place
 * when the rules were read, then in order of creation (a removed row's
 * number is not reused until the next read). */
typedef struct {
    GtkWidget *host, *proto, *ports, *comment, *remove;
} BhFwRow;

struct _BhSettingsFirewall {
    GtkBox parent_instance;
    BhSettingsContext *context;
    GCancellable *cancellable;
    char *qube;
    GtkWidget *allow_all, *limit, *editor, *table, *dns, *temp, *minutes, *temp_note;
    GtkWidget *readonly, *editable, *error, *warnings, *apply;
    GPtrArray *rows;   /* BhFwRow* */
    GPtrArray *sent;   /* BhFwRow* or NULL per rule of the last SetFirewall */
    gint64 temp_until; /* the loaded "allow everything" rule's expiry, 0: none */
    int temp_minutes;  /* ... and the minutes shown for it */
    const char *mode;
    guint next_row, loads;
    gboolean busy, touched, filling;
};

G_DEFINE_FINAL_TYPE(BhSettingsFirewall, bh_settings_firewall, GTK_TYPE_BOX)

static const char *const proto_values[] = {"", "tcp", "udp", "icmp", NULL};
static const char *const proto_texts[] = {"any", "TCP", "UDP", "ICMP", NULL};

static void on_touched(BhSettingsFirewall *self)
{
    if (!self->filling)
        self->touched = TRUE;
}

static void bh_row_mark(BhFwRow *row, gboolean bad)
{
    GtkWidget *widgets[] = {row->host, row->proto, row->ports, row->comment};

    for (guint i = 0; i < G_N_ELEMENTS(widgets); i++) {
        if (bad)
            gtk_widget_add_css_class(widgets[i], "error");
        else
            gtk_widget_remove_css_class(widgets[i], "error");
    }
}

static void on_remove(GtkButton *button, BhSettingsFirewall *self)
{
    BhFwRow *row = g_object_get_data(G_OBJECT(button), "bh-row");
    GtkWidget *widgets[] = {row->host, row->proto, row->ports, row->comment, row->remove};

    for (guint i = 0; i < G_N_ELEMENTS(widgets); i++)
        gtk_grid_remove(GTK_GRID(self->table), widgets[i]);
    if (self->sent != NULL) {
        for (guint i = 0; i < self->sent->len; i++) {
            if (self->sent->pdata[i] == row)
                self->sent->pdata[i] = NULL;
        }
    }
    g_ptr_array_remove(self->rows, row); /* frees it */
    on_touched(self);
}

static GtkWidget *bh_named_entry(const char *field, guint n, const char *text, int width)
{
    GtkWidget *entry = gtk_entry_new();
    g_autofree char *name = g_strdup_printf("fw-%s-%u", field, n);

    gtk_widget_set_name(entry, name);
    gtk_editable_set_text(GTK_EDITABLE(entry), text != NULL ? text : "");
    gtk_editable_set_width_chars(GTK_EDITABLE(entry), width);
    return entry;
}

/* A row for rule (NULL: an empty one to type into). */
static BhFwRow *bh_add_row(BhSettingsFirewall *self, const BhFwRule *rule)
{
    BhFwRow *row = g_new0(BhFwRow, 1);
    guint n = self->next_row++;
    int y = (int)n + 1; /* row 0: the headings */
    g_autofree char *ports = NULL, *proto_name = g_strdup_printf("fw-proto-%u", n);
    g_autofree char *remove_name = g_strdup_printf("fw-remove-%u", n);

    if (rule != NULL && rule->port_lo != 0)
        ports = rule->port_lo == rule->port_hi ? g_strdup_printf("%u", rule->port_lo)
                                               : g_strdup_printf("%u-%u", rule->port_lo, rule->port_hi);
    row->host = bh_named_entry("host", n, rule != NULL ? rule->dsthost : NULL, 22);
    row->proto = bh_settings_choice_new(proto_name);
    bh_settings_choice_set(row->proto, proto_values, proto_texts,
                           rule != NULL && rule->proto != NULL ? rule->proto : "");
    row->ports = bh_named_entry("ports", n, ports, 11);
    row->comment = bh_named_entry("comment", n, rule != NULL ? rule->comment : NULL, 16);
    gtk_widget_set_hexpand(row->comment, TRUE);
    row->remove = gtk_button_new_from_icon_name("list-remove-symbolic");
    gtk_widget_set_name(row->remove, remove_name);
    gtk_widget_set_tooltip_text(row->remove, "Remove this rule");
    g_object_set_data(G_OBJECT(row->remove), "bh-row", row);
    g_signal_connect(row->remove, "clicked", G_CALLBACK(on_remove), self);
    g_signal_connect_swapped(row->host, "changed", G_CALLBACK(on_touched), self);
    g_signal_connect_swapped(row->ports, "changed", G_CALLBACK(on_touched), self);
    g_signal_connect_swapped(row->comment, "changed", G_CALLBACK(on_touched), self);
    g_signal_connect_swapped(row->proto, "notify::selected", G_CALLBACK(on_touched), self);
    gtk_grid_attach(GTK_GRID(self->table), row->host, 0, y, 1, 1);
    gtk_grid_attach(GTK_GRID(self->table), row->proto, 1, y, 1, 1);
    gtk_grid_attach(GTK_GRID(self->table), row->ports, 2, y, 1, 1);
    gtk_grid_attach(GTK_GRID(self->table), row->comment, 3, y, 1, 1);
    gtk_grid_attach(GTK_GRID(self->table), row->remove, 4, y, 1, 1);
    g_ptr_array_add(self->rows, row);
    return row;
}

static void bh_clear_rows(BhSettingsFirewall *self)
{
    while (self->rows->len > 0) {
        BhFwRow *row = self->rows->pdata[self->rows->len - 1];
        on_remove(GTK_BUTTON(row->remove), self);
    }
    g_clear_pointer(&self->sent, g_ptr_array_unref);
    self->next_row = 0; /* rows numbered afresh from the daemon's list */
}

static void bh_show_mode(BhSettingsFirewall *self)
{
    gboolean limit = gtk_check_button_get_active(GTK_CHECK_BUTTON(self->limit));

    gtk_widget_set_sensitive(self->editor, limit);
}

static void on_mode(GtkCheckButton *button, BhSettingsFirewall *self)
{
    if (!gtk_check_button_get_active(button))
        return;
    bh_show_mode(self);
    if (self->filling)
        return;
    on_touched(self);
    /* Limiting from "allow all": something to type into, and names still
     * resolving, as a user who limits by host name expects. */
    if (button == GTK_CHECK_BUTTON(self->limit) && self->rows->len == 0) {
        bh_add_row(self, NULL);
        gtk_check_button_set_active(GTK_CHECK_BUTTON(self->dns), TRUE);
    }
}

static void on_add(GtkButton *button, BhSettingsFirewall *self)
{
    BhFwRow *row = bh_add_row(self, NULL);

    on_touched(self);
    gtk_widget_grab_focus(row->host);
}

/* ---- Reading ------------------------------------------------------------------ */

static gboolean bh_rule_is_plain(const BhFwRule *r)
{
    return r->dsthost == NULL && r->proto == NULL && r->port_lo == 0 && r->icmptype < 0 && !r->dns &&
           r->comment == NULL;
}

/* Whether the page can show rules faithfully: [allow everything until T]
 * then either one plain accept, or accepts of address/protocol/ports/comment
 * (their order does not matter: all accept, the rest dropped), an optional
 * plain "specialtarget=dns" accept and an optional plain drop at the end. */
static gboolean bh_fits(GPtrArray *rules, gint64 *temp_until, gboolean *allow_all, gboolean *dns)
{
    guint i = 0;

    *temp_until = 0;
    *allow_all = FALSE;
    *dns = FALSE;
    if (rules->len > 0) {
        BhFwRule *first = rules->pdata[0];
        if (first->accept && first->expire != 0 && bh_rule_is_plain(first)) {
            *temp_until = first->expire;
            i = 1;
        }
    }
    if (rules->len == i + 1) {
        BhFwRule *r = rules->pdata[i];
        if (r->accept && r->expire == 0 && bh_rule_is_plain(r)) {
            *allow_all = TRUE;
            return *temp_until == 0; /* "all, and all for N minutes": not this page's */
        }
    }
    for (; i < rules->len; i++) {
        BhFwRule *r = rules->pdata[i];
        gboolean last = i + 1 == rules->len;

        if (!r->accept) {
            if (!last || !bh_rule_is_plain(r) || r->expire != 0)
                return FALSE;
            continue;
        }
        if (r->expire != 0 || r->icmptype >= 0)
            return FALSE;
        if (r->dns) {
            if (r->dsthost != NULL || r->proto != NULL || r->port_lo != 0 || r->comment != NULL || *dns)
                return FALSE;
            *dns = TRUE;
            continue;
        }
        if (bh_rule_is_plain(r))
            return FALSE; /* accept everything amid limits */
    }
    return TRUE;
}

static void bh_show_readonly(BhSettingsFirewall *self, char **texts)
{
    g_autoptr(GString) s = g_string_new(NULL);
    g_autofree char *escaped = g_markup_escape_text(self->qube, -1);

    g_string_append_printf(s,
                           "These rules use what this page cannot show faithfully (drop rules between "
                           "others, ICMP types, a rule that expires, …). Use <tt>qvm-firewall %s</tt> in a "
                           "dom0 terminal to change them. In order:\n",
                           escaped);
    for (guint i = 0; texts[i] != NULL; i++) {
        g_autofree char *line = g_markup_escape_text(texts[i], -1);
        g_string_append_printf(s, "\n<tt>%u  %s</tt>", i, line);
    }
    gtk_label_set_markup(GTK_LABEL(self->readonly), s->str);
    gtk_widget_set_visible(self->readonly, TRUE);
    gtk_widget_set_visible(self->editable, FALSE);
    self->mode = "read-only";
}

static void bh_fill(BhSettingsFirewall *self, char **texts)
{
    g_autoptr(GPtrArray) rules = g_ptr_array_new_with_free_func((GDestroyNotify)bh_fw_rule_free);
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;
    gboolean allow_all = FALSE, dns = FALSE;

    for (guint i = 0; texts[i] != NULL; i++) {
        g_autoptr(GError) error = NULL;
        BhFwRule *rule = bh_fw_rule_parse(texts[i], now, &error);
        if (rule == NULL) { /* the daemon's canonical text: never expected */
            g_warning("%s: rule %u from the daemon does not parse: %s", self->qube, i, error->message);
            bh_show_readonly(self, texts);
            return;
        }
        g_ptr_array_add(rules, rule);
    }
    self->filling = TRUE;
    bh_clear_rows(self);
    if (!bh_fits(rules, &self->temp_until, &allow_all, &dns)) {
        self->filling = FALSE;
        bh_show_readonly(self, texts);
        return;
    }
    gtk_widget_set_visible(self->readonly, FALSE);
    gtk_widget_set_visible(self->editable, TRUE);
    gtk_check_button_set_active(GTK_CHECK_BUTTON(allow_all ? self->allow_all : self->limit), TRUE);
    gtk_check_button_set_active(GTK_CHECK_BUTTON(self->dns), dns);
    for (guint i = self->temp_until != 0 ? 1 : 0; !allow_all && i < rules->len; i++) {
        BhFwRule *r = rules->pdata[i];
        if (r->accept && !r->dns)
            bh_add_row(self, r);
    }
    gtk_check_button_set_active(GTK_CHECK_BUTTON(self->temp), self->temp_until > now);
    if (self->temp_until > now) {
        g_autoptr(GDateTime) until = g_date_time_new_from_unix_local(self->temp_until);
        g_autofree char *when = g_date_time_format(until, "%H:%M:%S");
        g_autofree char *note = g_strdup_printf("(now until %s)", when);

        self->temp_minutes = (int)((self->temp_until - now + 59) / 60);
        gtk_spin_button_set_value(GTK_SPIN_BUTTON(self->minutes), self->temp_minutes);
        gtk_label_set_text(GTK_LABEL(self->temp_note), note);
    } else {
        gtk_label_set_text(GTK_LABEL(self->temp_note), "");
    }
    bh_show_mode(self);
    self->mode = allow_all ? "allow-all" : "limit";
    self->filling = FALSE;
    self->touched = FALSE;
}

static void on_rules(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(BhSettingsFirewall) self = data;
    g_autoptr(GError) error = NULL;
    g_auto(GStrv) rules = NULL;

    if (!bh_dbus_admin1_call_get_firewall_finish(BH_DBUS_ADMIN1(source), &rules, result, &error)) {
        if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
            g_autofree char *text = bh_settings_error_text(error);
            bh_settings_error_set(self->error, text);
        }
        return;
    }
    bh_fill(self, rules);
    self->loads++;
}

static void bh_load(BhSettingsFirewall *self)
{
    bh_dbus_admin1_call_get_firewall(bh_settings_context_get_admin(self->context), self->qube,
                                     self->cancellable, on_rules, g_object_ref(self));
}

static void on_firewall_changed(BhDbusAdmin1 *admin, const char *qube, BhSettingsFirewall *self)
{
    /* Never overwrite what the user is typing, nor race our own Apply. */
    if (self->busy || self->touched || !g_str_equal(qube, self->qube))
        return;
    bh_load(self);
}

/* ---- Writing ------------------------------------------------------------------ */

static char *bh_row_text(BhFwRow *row)
{
    g_autofree char *host = g_strstrip(g_strdup(gtk_editable_get_text(GTK_EDITABLE(row->host))));
    g_autofree char *ports = g_strstrip(g_strdup(gtk_editable_get_text(GTK_EDITABLE(row->ports))));
    const char *proto = bh_settings_choice_get(row->proto);
    const char *comment = gtk_editable_get_text(GTK_EDITABLE(row->comment));
    GString *s;

    if (*host == '\0' && *proto == '\0' && *ports == '\0' && *comment == '\0')
        return NULL; /* an empty row is no rule (it would accept everything) */
    s = g_string_new("action=accept");
    /* Written as typed: the daemon's parser says what is wrong with it. */
    if (*host != '\0')
        g_string_append_printf(s, " dsthost=%s", host);
    if (*proto != '\0')
        g_string_append_printf(s, " proto=%s", proto);
    if (*ports != '\0')
        g_string_append_printf(s, " dstports=%s", ports);
    if (*comment != '\0')
        g_string_append_printf(s, " comment=%s", comment);
    return g_string_free(s, FALSE);
}

/* "rule N: …" from SetFirewall: the row it concerns (its place in the
 * table, from 0), or -1 when it is no row of the table. */
static int bh_rule_row(BhSettingsFirewall *self, const char *message, const char **rest)
{
    char *end = NULL;
    guint64 n;
    guint at;

    if (!g_str_has_prefix(message, "rule ") || self->sent == NULL)
        return -1;
    n = g_ascii_strtoull(message + 5, &end, 10);
    if (end == message + 5 || *end != ':' || n >= self->sent->len || self->sent->pdata[n] == NULL ||
        !g_ptr_array_find(self->rows, self->sent->pdata[n], &at))
        return -1;
    *rest = end + 1;
    return (int)at;
}

/* The daemon's sentence in the page's words: the row as the user counts
 * it and the column's name for a field ("rule 0: dsthost=999.1.1.1 is
 * neither…" read as the rule language, counted from 0; seen on a user's
 * walk), else as the daemon said it. */
static char *bh_user_text(BhSettingsFirewall *self, const char *message)
{
    static const struct {
        const char *key, *column;
    } fields[] = {{"dsthost=", "the address or host "},
                  {"dstports=", "the port or range "},
                  {"proto=", "the protocol "}};
    const char *rest = NULL;
    int row = bh_rule_row(self, message, &rest);

    if (row < 0)
        return g_strdup(message);
    while (*rest == ' ')
        rest++;
    for (gsize i = 0; i < G_N_ELEMENTS(fields); i++) {
        if (g_str_has_prefix(rest, fields[i].key))
            return g_strdup_printf("Row %d: %s%s", row + 1, fields[i].column, rest + strlen(fields[i].key));
    }
    return g_strdup_printf("Row %d: %s", row + 1, rest);
}

/* The row a refusal concerns gets the error style. */
static void bh_mark_rule(BhSettingsFirewall *self, const char *message)
{
    const char *rest = NULL;
    int row = bh_rule_row(self, message, &rest);

    if (row >= 0)
        bh_row_mark(self->rows->pdata[row], TRUE);
}

static void on_set(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(BhSettingsFirewall) self = data;
    g_autoptr(GError) error = NULL;
    g_auto(GStrv) warnings = NULL;

    if (g_cancellable_is_cancelled(self->cancellable))
        return;
    self->busy = FALSE;
    gtk_widget_set_sensitive(self->apply, TRUE);
    if (!bh_dbus_admin1_call_set_firewall_finish(BH_DBUS_ADMIN1(source), &warnings, result, &error)) {
        g_autofree char *text = bh_settings_error_text(error);
        g_autofree char *shown = bh_user_text(self, text);
        /* Nothing changed: the page keeps every field as typed. */
        bh_settings_error_set(self->error, shown);
        bh_mark_rule(self, text);
        return;
    }
    if (warnings != NULL && warnings[0] != NULL) {
        g_autofree char *text = g_strjoinv("\n", warnings);
        gtk_label_set_text(GTK_LABEL(self->warnings), text);
        gtk_widget_set_visible(self->warnings, TRUE);
    }
    self->touched = FALSE;
    bh_load(self);
}

static void on_apply(GtkButton *button, BhSettingsFirewall *self)
{
    g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func(g_free);
    gboolean limit = gtk_check_button_get_active(GTK_CHECK_BUTTON(self->limit));

    bh_settings_error_set(self->error, NULL);
    gtk_widget_set_visible(self->warnings, FALSE);
    g_clear_pointer(&self->sent, g_ptr_array_unref);
    self->sent = g_ptr_array_new();
    for (guint i = 0; i < self->rows->len; i++)
        bh_row_mark(self->rows->pdata[i], FALSE);
    if (!limit) {
        g_ptr_array_add(texts, g_strdup(BH_FIREWALL_DEFAULT));
        g_ptr_array_add(self->sent, NULL);
    } else {
        if (gtk_check_button_get_active(GTK_CHECK_BUTTON(self->temp))) {
            int minutes = gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(self->minutes));
            /* Unchanged since read: the same end, not N minutes from now. */
            if (self->temp_until != 0 && minutes == self->temp_minutes)
                g_ptr_array_add(texts,
                                g_strdup_printf("action=accept expire=%" G_GINT64_FORMAT, self->temp_until));
            else
                g_ptr_array_add(texts, g_strdup_printf("action=accept expire=+%d", minutes * 60));
            g_ptr_array_add(self->sent, NULL);
        }
        /* The rows and DNS in the table's order, then a final drop: a
         * limit with nothing allowed is said, not implied. This is the
         * whole list (SetFirewall); where a single added rule goes is
         * bulkheadd's business (AddFirewallRule), not this page's. */
        for (guint i = 0; i < self->rows->len; i++) {
            BhFwRow *row = self->rows->pdata[i];
            g_autofree char *text = bh_row_text(row);
            g_autoptr(BhFwRule) parsed = text ? bh_fw_rule_parse(text, 0, NULL) : NULL;
            if (parsed != NULL && bh_fw_rule_matches_all(parsed)) {
                /* Only a comment: it would match everything, so everything
                 * after it (the final drop) would never match. Said, not
                 * sent. */
                bh_row_mark(row, TRUE);
                bh_settings_error_set(self->error, "A row with only a comment allows nothing: give it an "
                                                   "address, a protocol or ports.");
                return;
            }
        }
        for (guint i = 0; i <= self->rows->len; i++) {
            gboolean dns = i == self->rows->len;
            char *text = !dns ? bh_row_text(self->rows->pdata[i])
                         : gtk_check_button_get_active(GTK_CHECK_BUTTON(self->dns))
                             ? g_strdup("action=accept specialtarget=dns")
                             : NULL;
            if (text == NULL)
                continue;
            g_ptr_array_add(texts, text);
            g_ptr_array_add(self->sent, dns ? NULL : self->rows->pdata[i]);
        }
        g_ptr_array_add(texts, g_strdup("action=drop"));
        g_ptr_array_add(self->sent, NULL);
    }
    g_ptr_array_add(texts, NULL);
    self->busy = TRUE;
    gtk_widget_set_sensitive(self->apply, FALSE);
    bh_dbus_admin1_call_set_firewall(bh_settings_context_get_admin(self->context), self->qube,
                                     (const char *const *)texts->pdata, self->cancellable, on_set,
                                     g_object_ref(self));
}

/* ---- The widget --------------------------------------------------------------- */

static void bh_settings_firewall_dispose(GObject *object)
{
    BhSettingsFirewall *self = BH_SETTINGS_FIREWALL(object);

    g_cancellable_cancel(self->cancellable);
    if (self->context != NULL)
        g_signal_handlers_disconnect_by_data(bh_settings_context_get_admin(self->context), self);
    g_clear_object(&self->context);
    g_clear_object(&self->cancellable);
    g_clear_pointer(&self->sent, g_ptr_array_unref);
    g_clear_pointer(&self->rows, g_ptr_array_unref);
    g_clear_pointer(&self->qube, g_free);
    G_OBJECT_CLASS(bh_settings_firewall_parent_class)->dispose(object);
}

static void bh_settings_firewall_class_init(BhSettingsFirewallClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = bh_settings_firewall_dispose;
}

static void bh_settings_firewall_init(BhSettingsFirewall *self)
{
    self->cancellable = g_cancellable_new();
    self->rows = g_ptr_array_new_with_free_func(g_free);
    self->mode = "";
}

static GtkWidget *bh_heading(const char *text)
{
    GtkWidget *label = gtk_label_new(text);

    gtk_label_set_xalign(GTK_LABEL(label), 0);
    gtk_widget_add_css_class(label, "dim-label");
    return label;
}

GtkWidget *bh_settings_firewall_new(BhSettingsContext *context, const char *qube)
{
    BhSettingsFirewall *self =
        g_object_new(BH_TYPE_SETTINGS_FIREWALL, "orientation", GTK_ORIENTATION_VERTICAL, "spacing", 6, NULL);
    GtkWidget *add = gtk_button_new_with_label("Add rule");
    GtkWidget *temp_box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
    GtkWidget *buttons = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);

    self->context = g_object_ref(context);
    self->qube = g_strdup(qube);
    gtk_widget_set_name(GTK_WIDGET(self), "firewall");

    self->readonly = gtk_label_new(NULL);
    gtk_widget_set_name(self->readonly, "fw-readonly");
    gtk_label_set_wrap(GTK_LABEL(self->readonly), TRUE);
    gtk_label_set_xalign(GTK_LABEL(self->readonly), 0);
    gtk_label_set_selectable(GTK_LABEL(self->readonly), TRUE);
    gtk_widget_set_visible(self->readonly, FALSE);

    self->editable = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
    self->allow_all = gtk_check_button_new_with_label("Allow all outgoing connections");
    gtk_widget_set_name(self->allow_all, "fw-allow-all");
    self->limit = gtk_check_button_new_with_label("Limit outgoing connections to:");
    gtk_widget_set_name(self->limit, "fw-limit");
    gtk_check_button_set_group(GTK_CHECK_BUTTON(self->limit), GTK_CHECK_BUTTON(self->allow_all));
    gtk_check_button_set_active(GTK_CHECK_BUTTON(self->allow_all), TRUE);

    self->editor = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
    gtk_widget_set_margin_start(self->editor, 24);
    self->table = gtk_grid_new();
    gtk_widget_set_name(self->table, "fw-table");
    gtk_grid_set_row_spacing(GTK_GRID(self->table), 4);
    gtk_grid_set_column_spacing(GTK_GRID(self->table), 6);
    gtk_grid_attach(GTK_GRID(self->table), bh_heading("Address or host"), 0, 0, 1, 1);
    gtk_grid_attach(GTK_GRID(self->table), bh_heading("Protocol"), 1, 0, 1, 1);
    gtk_grid_attach(GTK_GRID(self->table), bh_heading("Port or range"), 2, 0, 1, 1);
    gtk_grid_attach(GTK_GRID(self->table), bh_heading("Comment"), 3, 0, 1, 1);
    gtk_widget_set_name(add, "fw-add");
    gtk_widget_set_halign(add, GTK_ALIGN_START);
    self->dns = gtk_check_button_new_with_label("Allow DNS queries (to the qube's DNS servers)");
    gtk_widget_set_name(self->dns, "fw-dns");
    self->temp = gtk_check_button_new_with_label("Allow everything for");
    gtk_widget_set_name(self->temp, "fw-temp");
    self->minutes = gtk_spin_button_new_with_range(1, 1440, 1);
    gtk_widget_set_name(self->minutes, "fw-minutes");
    gtk_spin_button_set_value(GTK_SPIN_BUTTON(self->minutes), 5);
    self->temp_note = gtk_label_new(NULL);
    gtk_widget_set_name(self->temp_note, "fw-temp-note");
    gtk_box_append(GTK_BOX(temp_box), self->temp);
    gtk_box_append(GTK_BOX(temp_box), self->minutes);
    gtk_box_append(GTK_BOX(temp_box), gtk_label_new("minutes"));
    gtk_box_append(GTK_BOX(temp_box), self->temp_note);
    gtk_box_append(GTK_BOX(self->editor), self->table);
    gtk_box_append(GTK_BOX(self->editor), add);
    gtk_box_append(GTK_BOX(self->editor), self->dns);
    gtk_box_append(GTK_BOX(self->editor), temp_box);
    gtk_box_append(GTK_BOX(self->editable), self->allow_all);
    gtk_box_append(GTK_BOX(self->editable), self->limit);
    gtk_box_append(GTK_BOX(self->editable), self->editor);

    self->error = bh_settings_error_new("fw-error");
    self->warnings = gtk_label_new(NULL);
    gtk_widget_set_name(self->warnings, "fw-warnings");
    gtk_label_set_wrap(GTK_LABEL(self->warnings), TRUE);
    gtk_label_set_xalign(GTK_LABEL(self->warnings), 0);
    gtk_widget_set_visible(self->warnings, FALSE);
    self->apply = gtk_button_new_with_label("Apply firewall");
    gtk_widget_set_name(self->apply, "fw-apply");
    gtk_widget_add_css_class(self->apply, "suggested-action");
    gtk_widget_set_halign(self->apply, GTK_ALIGN_END);
    gtk_widget_set_hexpand(self->apply, TRUE);
    gtk_box_append(GTK_BOX(buttons), self->apply);

    gtk_box_append(GTK_BOX(self), self->readonly);
    gtk_box_append(GTK_BOX(self), self->editable);
    gtk_box_append(GTK_BOX(self), self->error);
    gtk_box_append(GTK_BOX(self), self->warnings);
    gtk_box_append(GTK_BOX(self->editable), buttons);

    g_signal_connect(self->allow_all, "toggled", G_CALLBACK(on_mode), self);
    g_signal_connect(self->limit, "toggled", G_CALLBACK(on_mode), self);
    g_signal_connect(add, "clicked", G_CALLBACK(on_add), self);
    g_signal_connect_swapped(self->dns, "toggled", G_CALLBACK(on_touched), self);
    g_signal_connect_swapped(self->temp, "toggled", G_CALLBACK(on_touched), self);
    g_signal_connect_swapped(self->minutes, "value-changed", G_CALLBACK(on_touched), self);
    g_signal_connect(self->apply, "clicked", G_CALLBACK(on_apply), self);
    g_signal_connect(bh_settings_context_get_admin(context), "firewall-changed",
                     G_CALLBACK(on_firewall_changed), self);
    bh_show_mode(self);
    bh_load(self);
    return GTK_WIDGET(self);
}

void bh_settings_firewall_set_qube(BhSettingsFirewall *self, const char *qube)
{
    g_free(self->qube);
    self->qube = g_strdup(qube);
}

guint bh_settings_firewall_get_loads(BhSettingsFirewall *self)
{
    return self->loads;
}

gboolean bh_settings_firewall_is_busy(BhSettingsFirewall *self)
{
    return self->busy;
}

const char *bh_settings_firewall_get_mode(BhSettingsFirewall *self)
{
    return self->mode;
}
