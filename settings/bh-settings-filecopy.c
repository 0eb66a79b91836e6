/* bh-settings-filecopy.c — the global settings' File copy rows (see the
 * header). */
#define G_LOG_DOMAIN "bh-settings"

#include "bh-settings-filecopy.h"

#include "bh-settings-policy.h"
#include "bh-settings-util.h"
#include "bh-shell-qube.h"

typedef struct {
    GtkWidget *source, *target, *action, *preset, *remove;
} BhFcRow;

struct _BhSettingsFilecopy {
    GtkBox parent_instance;
    BhSettingsContext *context;
    GtkWidget *grid, *add, *error, *foreign, *warning;
    GtkWidget *try_source, *try_target, *try_result;
    GPtrArray *rows;   /* BhFcRow* */
    char *loaded_text; /* the text the file's rows make; NULL: the page cannot say */
    char *names_shown; /* the qube names the lists were built with, joined */
};

G_DEFINE_FINAL_TYPE(BhSettingsFilecopy, bh_settings_filecopy, GTK_TYPE_BOX)

static const BhPolicyVerdict bh_actions[3] = {BH_POLICY_ALLOW, BH_POLICY_ASK, BH_POLICY_DENY};

/* The qubes a row may name (dom0 never: @anyvm does not match it either). */
static GStrv bh_names(BhSettingsFilecopy *self, GStrv *classes)
{
    GListModel *qubes = bh_shell_qubes_get_model(bh_settings_context_get_qubes(self->context));
    g_autoptr(GStrvBuilder) names = g_strv_builder_new(), klasses = g_strv_builder_new();

    for (guint i = 0; i < g_list_model_get_n_items(qubes); i++) {
        g_autoptr(BhShellQube) qube = g_list_model_get_item(qubes, i);
        if (g_str_equal(bh_shell_qube_get_class(qube), "AdminVM"))
            continue;
        g_strv_builder_add(names, bh_shell_qube_get_name(qube));
        g_strv_builder_add(klasses, bh_shell_qube_get_class(qube));
    }
    if (classes != NULL)
        *classes = g_strv_builder_end(klasses);
    return g_strv_builder_end(names);
}

/* A qube list with its extra first items; a selected value the list lacks
 * (a qube since removed, a token written by hand) is kept as an item so
 * that nothing the file or the user said is dropped. */
static void bh_fill_choice(GtkWidget *choice, const char *const *names, const char *first_value,
                           const char *first_text, const char *selected)
{
    g_autoptr(GStrvBuilder) values = g_strv_builder_new(), texts = g_strv_builder_new();
    gboolean found = selected == NULL || g_strcmp0(selected, first_value) == 0;

    if (first_value != NULL) {
        g_strv_builder_add(values, first_value);
        g_strv_builder_add(texts, first_text);
    }
    for (guint i = 0; names[i] != NULL; i++) {
        g_strv_builder_add(values, names[i]);
        g_strv_builder_add(texts, names[i]);
        found = found || g_str_equal(names[i], selected);
    }
    if (!found) {
        g_strv_builder_add(values, selected);
        g_strv_builder_add(texts, selected);
    }
    g_auto(GStrv) v = g_strv_builder_end(values);
    g_auto(GStrv) t = g_strv_builder_end(texts);
    bh_settings_choice_set(choice, (const char *const *)v, (const char *const *)t, selected);
}

static BhPolicyVerdict bh_row_action(BhFcRow *row)
{
    guint i = gtk_drop_down_get_selected(GTK_DROP_DOWN(row->action));

    return i < G_N_ELEMENTS(bh_actions) ? bh_actions[i] : BH_POLICY_DENY;
}

static GPtrArray *bh_rules_from_rows(BhSettingsFilecopy *self)
{
    GPtrArray *rules = g_ptr_array_new_with_free_func((GDestroyNotify)bh_settings_filecopy_rule_free);

    for (guint i = 0; i < self->rows->len; i++) {
        BhFcRow *row = self->rows->pdata[i];
        BhSettingsFilecopyRule *rule = g_new0(BhSettingsFilecopyRule, 1);

        rule->source = g_strdup(bh_settings_choice_get(row->source));
        rule->target = g_strdup(bh_settings_choice_get(row->target));
        rule->action = bh_row_action(row);
        rule->default_target = g_strdup(bh_settings_choice_get(row->preset));
        g_ptr_array_add(rules, rule);
    }
    return rules;
}

static void bh_rebuild(BhSettingsFilecopy *self, GPtrArray *rules);

static void on_remove(GtkButton *button, BhSettingsFilecopy *self)
{
    guint index = GPOINTER_TO_UINT(g_object_get_data(G_OBJECT(button), "bh-row"));
    g_autoptr(GPtrArray) rules = bh_rules_from_rows(self);

    if (index < rules->len)
        g_ptr_array_remove_index(rules, index);
    bh_rebuild(self, rules);
}

static void on_add(GtkButton *button, BhSettingsFilecopy *self)
{
    g_autoptr(GPtrArray) rules = bh_rules_from_rows(self);
    BhSettingsFilecopyRule *rule = g_new0(BhSettingsFilecopyRule, 1);

    if (rules->len >= BH_SETTINGS_FILECOPY_ROWS_MAX) {
        bh_settings_filecopy_rule_free(rule);
        return;
    }
    rule->source = g_strdup("@anyvm");
    rule->target = g_strdup("@anyvm");
    rule->action = BH_POLICY_ASK;
    g_ptr_array_add(rules, rule);
    bh_rebuild(self, rules);
}

/* Preselect is an option of ask only (the engine refuses it elsewhere). */
static void on_action(GtkDropDown *action, GParamSpec *pspec, BhFcRow *row)
{
    gtk_widget_set_sensitive(row->preset, bh_row_action(row) == BH_POLICY_ASK);
}

static GtkWidget *bh_named_choice(const char *what, guint i)
{
    g_autofree char *name = g_strdup_printf("filecopy-%s-%u", what, i);

    return bh_settings_choice_new(name);
}

static void bh_rebuild(BhSettingsFilecopy *self, GPtrArray *rules)
{
    g_auto(GStrv) names = bh_names(self, NULL);
    GtkWidget *child;
    static const char *const headers[] = {"From", "To", "Action", "Preselect (ask)"};
    static const char *const action_values[] = {"allow", "ask", "deny", NULL};
    static const char *const action_texts[] = {"allow", "ask", "deny", NULL};

    while ((child = gtk_widget_get_first_child(self->grid)) != NULL)
        gtk_grid_remove(GTK_GRID(self->grid), child);
    g_ptr_array_set_size(self->rows, 0);
    for (guint c = 0; c < G_N_ELEMENTS(headers); c++) {
        GtkWidget *header = gtk_label_new(headers[c]);
        gtk_label_set_xalign(GTK_LABEL(header), 0);
        gtk_widget_add_css_class(header, "dim-label");
        gtk_grid_attach(GTK_GRID(self->grid), header, (int)c, 0, 1, 1);
    }
    for (guint i = 0; i < rules->len; i++) {
        const BhSettingsFilecopyRule *rule = rules->pdata[i];
        BhFcRow *row = g_new0(BhFcRow, 1);
        g_autofree char *remove_name = g_strdup_printf("filecopy-remove-%u", i);

        row->source = bh_named_choice("source", i);
        row->target = bh_named_choice("target", i);
        row->action = bh_named_choice("action", i);
        row->preset = bh_named_choice("preset", i);
        row->remove = gtk_button_new_from_icon_name("list-remove-symbolic");
        gtk_widget_set_tooltip_text(row->remove, "Remove this row");
        gtk_widget_set_name(row->remove, remove_name);
        bh_fill_choice(row->source, (const char *const *)names, "@anyvm", "any qube", rule->source);
        bh_fill_choice(row->target, (const char *const *)names, "@anyvm", "any qube", rule->target);
        bh_settings_choice_set(row->action, action_values, action_texts,
                               bh_policy_verdict_name(rule->action));
        bh_fill_choice(row->preset, (const char *const *)names, "", "none",
                       rule->default_target != NULL ? rule->default_target : "");
        gtk_widget_set_sensitive(row->preset, rule->action == BH_POLICY_ASK);
        g_object_set_data(G_OBJECT(row->remove), "bh-row", GUINT_TO_POINTER(i));
        g_signal_connect(row->remove, "clicked", G_CALLBACK(on_remove), self);
        g_signal_connect(row->action, "notify::selected", G_CALLBACK(on_action), row);
        gtk_grid_attach(GTK_GRID(self->grid), row->source, 0, (int)i + 1, 1, 1);
        gtk_grid_attach(GTK_GRID(self->grid), row->target, 1, (int)i + 1, 1, 1);
        gtk_grid_attach(GTK_GRID(self->grid), row->action, 2, (int)i + 1, 1, 1);
        gtk_grid_attach(GTK_GRID(self->grid), row->preset, 3, (int)i + 1, 1, 1);
        gtk_grid_attach(GTK_GRID(self->grid), row->remove, 4, (int)i + 1, 1, 1);
        g_ptr_array_add(self->rows, row);
    }
    gtk_widget_set_sensitive(self->add, rules->len < BH_SETTINGS_FILECOPY_ROWS_MAX);
}

/* ---- what the files decide ------------------------------------------------ */

static void bh_try(BhSettingsFilecopy *self)
{
    GListModel *qubes = bh_shell_qubes_get_model(bh_settings_context_get_qubes(self->context));
    g_auto(GStrv) dirs = bh_policy_default_dirs();
    g_autoptr(BhPolicySystem) sys = bh_policy_system_new();
    const char *source = bh_settings_choice_get(self->try_source);
    const char *target = bh_settings_choice_get(self->try_target);
    g_autofree char *text = NULL;
    BhPolicyVerdict verdict;

    if (*source == '\0' || *target == '\0') {
        gtk_label_set_text(GTK_LABEL(self->try_result), "");
        return;
    }
    /* The facts bulkhead policy eval takes from ListQubes, but tags (the
     * live list does not carry them: a @tag rule is not seen here). */
    for (guint i = 0; i < g_list_model_get_n_items(qubes); i++) {
        g_autoptr(BhShellQube) qube = g_list_model_get_item(qubes, i);
        const char *klass = bh_shell_qube_get_class(qube);
        bh_policy_system_add(sys, bh_shell_qube_get_name(qube), klass, NULL,
                             bh_shell_qube_is_dispvm_template(qube),
                             g_str_equal(klass, "DispVM") ? bh_shell_qube_get_template(qube) : NULL, NULL);
    }
    text = bh_settings_policy_try((const char *const *)dirs, sys, BH_SETTINGS_FILECOPY_SERVICE, source,
                                  target, &verdict);
    gtk_label_set_text(GTK_LABEL(self->try_result), text);
    g_object_set_data(G_OBJECT(self->try_result), "bh-verdict", GINT_TO_POINTER(verdict));
}

static void bh_check(BhSettingsFilecopy *self)
{
    g_auto(GStrv) dirs = bh_policy_default_dirs();
    g_auto(GStrv) classes = NULL;
    g_auto(GStrv) names = bh_names(self, &classes);
    g_autofree char *warning = bh_settings_filecopy_policy_check(
        (const char *const *)dirs, (const char *const *)names, (const char *const *)classes);

    bh_settings_error_set(self->warning, warning);
    bh_try(self);
}

void bh_settings_filecopy_load(BhSettingsFilecopy *self)
{
    g_auto(GStrv) dirs = bh_policy_default_dirs();
    gboolean foreign = FALSE;
    g_autoptr(GPtrArray) rules = bh_settings_filecopy_policy_read((const char *const *)dirs, &foreign);

    g_clear_pointer(&self->loaded_text, g_free);
    self->loaded_text = bh_settings_filecopy_policy_text(rules, NULL);
    bh_rebuild(self, rules);
    bh_settings_error_set(self->foreign, foreign ? "The file " BH_SETTINGS_FILECOPY_POLICY
                                                   " has lines this page did not write; they are not shown, "
                                                   "and Apply after a change here replaces them."
                                                 : NULL);
    bh_settings_error_set(self->error, NULL);
    bh_check(self);
}

gboolean bh_settings_filecopy_changed(BhSettingsFilecopy *self)
{
    g_autoptr(GPtrArray) rules = bh_rules_from_rows(self);
    g_autofree char *text = bh_settings_filecopy_policy_text(rules, NULL);

    return text == NULL || g_strcmp0(text, self->loaded_text) != 0;
}

gboolean bh_settings_filecopy_apply(BhSettingsFilecopy *self)
{
    g_autoptr(GPtrArray) rules = bh_rules_from_rows(self);
    g_autoptr(GError) error = NULL;
    g_autofree char *text = NULL;
    g_auto(GStrv) dirs = bh_policy_default_dirs();
    guint n_dirs = g_strv_length(dirs);

    bh_settings_error_set(self->error, NULL);
    if (!bh_settings_filecopy_changed(self))
        return TRUE;
    text = bh_settings_filecopy_policy_text(rules, &error);
    /* The user's directory is the last one read. */
    if (text == NULL || n_dirs == 0 ||
        !bh_settings_policy_write(dirs[n_dirs - 1], BH_SETTINGS_FILECOPY_POLICY, text, &error)) {
        bh_settings_error_set(self->error, error != NULL ? error->message : "no policy directory");
        return FALSE;
    }
    g_free(self->loaded_text);
    self->loaded_text = g_steal_pointer(&text);
    bh_settings_error_set(self->foreign, NULL);
    bh_check(self);
    return TRUE;
}

/* ---- building --------------------------------------------------------------- */

static void on_qubes_changed(BhSettingsFilecopy *self)
{
    g_autoptr(GPtrArray) rules = bh_rules_from_rows(self);
    g_auto(GStrv) names = bh_names(self, NULL);
    g_autofree char *source = g_strdup(bh_settings_choice_get(self->try_source));
    g_autofree char *target = g_strdup(bh_settings_choice_get(self->try_target));
    g_autofree char *joined = g_strjoinv(" ", names);

    /* The list changes with every state change too: the rows are rebuilt
     * (a drop-down the user has open would close) only when the names did.
     * What each row says stays. */
    if (g_strcmp0(joined, self->names_shown) == 0) {
        bh_try(self);
        return;
    }
    g_free(self->names_shown);
    self->names_shown = g_steal_pointer(&joined);
    bh_rebuild(self, rules);
    bh_fill_choice(self->try_source, (const char *const *)names, NULL, NULL, *source ? source : names[0]);
    /* @default: a copy that names no target (the dialog chooses). */
    bh_fill_choice(self->try_target, (const char *const *)names, "@default", "none named (ask chooses)",
                   *target ? target : names[0]);
    bh_try(self);
}

static void bh_settings_filecopy_dispose(GObject *object)
{
    BhSettingsFilecopy *self = BH_SETTINGS_FILECOPY(object);

    if (self->context != NULL)
        g_signal_handlers_disconnect_by_data(bh_settings_context_get_qubes(self->context), self);
    g_clear_object(&self->context);
    g_clear_pointer(&self->rows, g_ptr_array_unref);
    g_clear_pointer(&self->loaded_text, g_free);
    g_clear_pointer(&self->names_shown, g_free);
    G_OBJECT_CLASS(bh_settings_filecopy_parent_class)->dispose(object);
}

static void bh_settings_filecopy_class_init(BhSettingsFilecopyClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = bh_settings_filecopy_dispose;
}

static void bh_settings_filecopy_init(BhSettingsFilecopy *self)
{
    self->rows = g_ptr_array_new_with_free_func(g_free);
}

GtkWidget *bh_settings_filecopy_new(BhSettingsContext *context)
{
    BhSettingsFilecopy *self =
        g_object_new(BH_TYPE_SETTINGS_FILECOPY, "orientation", GTK_ORIENTATION_VERTICAL, "spacing", 4, NULL);
    GtkWidget *title = gtk_label_new(NULL);
    GtkWidget *note =
        gtk_label_new("Which qube may send files to which (qvm-copy, qvm-copy-to-vm and the moves). "
                      "The first row that matches a copy decides; a copy that no row matches is "
                      "asked about (the shipped policy). Ask: you choose in a dialog, the "
                      "preselected qube first.");
    GtkWidget *try_box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);

    self->context = g_object_ref(context);
    gtk_label_set_markup(GTK_LABEL(title), "<b>File copy</b>");
    gtk_label_set_xalign(GTK_LABEL(title), 0);
    gtk_label_set_wrap(GTK_LABEL(note), TRUE);
    gtk_label_set_xalign(GTK_LABEL(note), 0);
    self->grid = gtk_grid_new();
    gtk_widget_set_name(self->grid, "filecopy-rows");
    gtk_grid_set_row_spacing(GTK_GRID(self->grid), 4);
    gtk_grid_set_column_spacing(GTK_GRID(self->grid), 8);
    self->add = gtk_button_new_with_label("Add rule");
    gtk_widget_set_name(self->add, "filecopy-add");
    gtk_widget_set_halign(self->add, GTK_ALIGN_START);
    self->error = bh_settings_error_new("filecopy-error");
    self->foreign = bh_settings_error_new("filecopy-foreign");
    self->warning = bh_settings_error_new("filecopy-warning");
    self->try_source = bh_settings_choice_new("filecopy-try-source");
    self->try_target = bh_settings_choice_new("filecopy-try-target");
    self->try_result = gtk_label_new("");
    gtk_widget_set_name(self->try_result, "filecopy-try-result");
    gtk_label_set_xalign(GTK_LABEL(self->try_result), 0);
    gtk_label_set_wrap(GTK_LABEL(self->try_result), TRUE);
    gtk_widget_set_hexpand(self->try_result, TRUE);
    gtk_box_append(GTK_BOX(try_box), gtk_label_new("What the policy decides now for a copy from"));
    gtk_box_append(GTK_BOX(try_box), self->try_source);
    gtk_box_append(GTK_BOX(try_box), gtk_label_new("to"));
    gtk_box_append(GTK_BOX(try_box), self->try_target);
    gtk_box_append(GTK_BOX(try_box), gtk_label_new(":"));
    gtk_box_append(GTK_BOX(try_box), self->try_result);

    gtk_box_append(GTK_BOX(self), title);
    gtk_box_append(GTK_BOX(self), note);
    gtk_box_append(GTK_BOX(self), self->grid);
    gtk_box_append(GTK_BOX(self), self->add);
    gtk_box_append(GTK_BOX(self), self->error);
    gtk_box_append(GTK_BOX(self), self->foreign);
    gtk_box_append(GTK_BOX(self), self->warning);
    gtk_box_append(GTK_BOX(self), try_box);

    g_signal_connect(self->add, "clicked", G_CALLBACK(on_add), self);
    g_signal_connect_swapped(self->try_source, "notify::selected", G_CALLBACK(bh_try), self);
    g_signal_connect_swapped(self->try_target, "notify::selected", G_CALLBACK(bh_try), self);
    g_signal_connect_swapped(bh_settings_context_get_qubes(context), "changed", G_CALLBACK(on_qubes_changed),
                             self);
    on_qubes_changed(self);
    bh_settings_filecopy_load(self);
    return GTK_WIDGET(self);
}
