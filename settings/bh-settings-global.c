/* bh-settings-global.c — the global settings (see the header). */
#define G_LOG_DOMAIN "bh-settings"

#include "bh-settings-global.h"

#include "bh-settings-filecopy.h"
#include "bh-settings-policy.h"
#include "bh-settings-util.h"
#include "bh-shell-qube.h"

typedef enum {
    BH_PICK_TEMPLATE,
    BH_PICK_PROVIDER,
    BH_PICK_DISPVM_TEMPLATE,
    BH_PICK_ANY,
    BH_PICK_NUMBER,
    BH_PICK_BOOL
} BhPick;

typedef struct {
    const char *global;
    BhPick pick;
    GtkWidget *widget, *error;
    char *loaded;
} BhGlobalField;

struct _BhSettingsGlobal {
    GtkWindow parent_instance;
    BhSettingsContext *context;
    GCancellable *cancellable;
    BhGlobalField fields[8];
    GtkWidget *paste[3]; /* ask, allow, deny */
    GtkWidget *policy_warning, *apply, *apply_error;
    GtkWidget *filecopy; /* BhSettingsFilecopy: its own file */
    BhPolicyVerdict policy_loaded;
    guint loads;
    gboolean busy;
};

G_DEFINE_FINAL_TYPE(BhSettingsGlobal, bh_settings_global, GTK_TYPE_WINDOW)

static const BhPolicyVerdict bh_paste_verdicts[3] = {BH_POLICY_ASK, BH_POLICY_ALLOW, BH_POLICY_DENY};

static char *bh_global_value(BhGlobalField *field)
{
    if (field->pick == BH_PICK_NUMBER)
        return g_strdup_printf("%d", gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(field->widget)));
    if (field->pick == BH_PICK_BOOL)
        return g_strdup(gtk_check_button_get_active(GTK_CHECK_BUTTON(field->widget)) ? "True" : "False");
    return g_strdup(bh_settings_choice_get(field->widget));
}

static gboolean bh_keep(BhPick pick, BhShellQube *qube)
{
    if (g_str_equal(bh_shell_qube_get_class(qube), "AdminVM"))
        return FALSE;
    switch (pick) {
    case BH_PICK_TEMPLATE:
        return g_str_equal(bh_shell_qube_get_class(qube), "TemplateVM");
    case BH_PICK_PROVIDER:
        return bh_shell_qube_provides_network(qube);
    case BH_PICK_DISPVM_TEMPLATE:
        return bh_shell_qube_is_dispvm_template(qube);
    default:
        return TRUE;
    }
}

static void bh_fill(BhSettingsGlobal *self)
{
    GListModel *qubes = bh_shell_qubes_get_model(bh_settings_context_get_qubes(self->context));

    for (gsize f = 0; f < G_N_ELEMENTS(self->fields); f++) {
        BhGlobalField *field = &self->fields[f];
        g_autoptr(GStrvBuilder) values = g_strv_builder_new(), texts = g_strv_builder_new();
        g_autofree char *now = NULL;

        if (field->pick == BH_PICK_NUMBER) {
            if (field->loaded != NULL)
                gtk_spin_button_set_value(GTK_SPIN_BUTTON(field->widget),
                                          g_ascii_strtod(field->loaded, NULL));
            continue;
        }
        if (field->pick == BH_PICK_BOOL) {
            if (field->loaded != NULL)
                gtk_check_button_set_active(GTK_CHECK_BUTTON(field->widget),
                                            g_str_equal(field->loaded, "True"));
            continue;
        }
        /* Keep what the user picked; else show the daemon's value. */
        now = g_strdup(bh_settings_choice_get(field->widget));
        g_strv_builder_add(values, "none");
        g_strv_builder_add(texts, "none");
        for (guint i = 0; i < g_list_model_get_n_items(qubes); i++) {
            g_autoptr(BhShellQube) qube = g_list_model_get_item(qubes, i);
            if (!bh_keep(field->pick, qube))
                continue;
            g_strv_builder_add(values, bh_shell_qube_get_name(qube));
            g_strv_builder_add(texts, bh_shell_qube_get_name(qube));
        }
        g_auto(GStrv) v = g_strv_builder_end(values);
        g_auto(GStrv) t = g_strv_builder_end(texts);
        const char *loaded = field->loaded != NULL && *field->loaded ? field->loaded : "none";
        bh_settings_choice_set(field->widget, (const char *const *)v, (const char *const *)t,
                               *now && g_strcmp0(now, loaded) != 0 ? now : loaded);
    }
}

/* The policy file: what it says, and whether it is what decides. */
static void bh_check_policy(BhSettingsGlobal *self)
{
    GListModel *qubes = bh_shell_qubes_get_model(bh_settings_context_get_qubes(self->context));
    g_auto(GStrv) dirs = bh_policy_default_dirs();
    g_autoptr(GStrvBuilder) names = g_strv_builder_new(), classes = g_strv_builder_new();
    g_autofree char *warning = NULL;

    for (guint i = 0; i < g_list_model_get_n_items(qubes); i++) {
        g_autoptr(BhShellQube) qube = g_list_model_get_item(qubes, i);
        g_strv_builder_add(names, bh_shell_qube_get_name(qube));
        g_strv_builder_add(classes, bh_shell_qube_get_class(qube));
    }
    g_auto(GStrv) n = g_strv_builder_end(names);
    g_auto(GStrv) c = g_strv_builder_end(classes);
    warning = bh_settings_clipboard_policy_check((const char *const *)dirs, (const char *const *)n,
                                                 (const char *const *)c, &self->policy_loaded);
    bh_settings_error_set(self->policy_warning, warning);
}

static void on_globals(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(BhSettingsGlobal) self = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) globals = NULL;

    if (!bh_dbus_admin1_call_get_globals_finish(BH_DBUS_ADMIN1(source), &globals, result, &error)) {
        if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
            g_autofree char *text = bh_settings_error_text(error);
            bh_settings_error_set(self->apply_error, text);
        }
        return;
    }
    for (gsize f = 0; f < G_N_ELEMENTS(self->fields); f++) {
        BhGlobalField *field = &self->fields[f];
        g_clear_pointer(&field->loaded, g_free);
        g_variant_lookup(globals, field->global, "(sb)", &field->loaded, NULL);
        if (field->pick != BH_PICK_NUMBER && field->pick != BH_PICK_BOOL)
            bh_settings_choice_set(field->widget, (const char *const[]){"", NULL},
                                   (const char *const[]){"", NULL}, "");
    }
    bh_fill(self);
    bh_check_policy(self);
    if (!bh_settings_filecopy_changed(BH_SETTINGS_FILECOPY(self->filecopy)))
        bh_settings_filecopy_load(BH_SETTINGS_FILECOPY(self->filecopy));
    for (gsize i = 0; i < G_N_ELEMENTS(self->paste); i++)
        gtk_check_button_set_active(GTK_CHECK_BUTTON(self->paste[i]),
                                    bh_paste_verdicts[i] == self->policy_loaded);
    self->loads++;
}

static void bh_load(BhSettingsGlobal *self)
{
    bh_dbus_admin1_call_get_globals(bh_settings_context_get_admin(self->context), self->cancellable,
                                    on_globals, g_object_ref(self));
}

/* ---- Apply ---------------------------------------------------------------- */

static void on_global_sent(gpointer owner, gpointer item)
{
    BhGlobalField *field = item;

    g_free(field->loaded);
    field->loaded = bh_global_value(field);
}

static void on_applied(gpointer owner, gboolean ok)
{
    BhSettingsGlobal *self = owner;

    self->busy = FALSE;
    if (ok)
        bh_load(self);
}

static void on_apply(GtkButton *button, BhSettingsGlobal *self)
{
    g_auto(GStrv) dirs = bh_policy_default_dirs();
    guint n_dirs = g_strv_length(dirs);
    BhSettingsApply *apply;

    if (self->busy)
        return;
    bh_settings_error_set(self->apply_error, NULL);
    for (gsize i = 0; i < G_N_ELEMENTS(self->paste); i++) {
        g_autoptr(GError) error = NULL;

        if (!gtk_check_button_get_active(GTK_CHECK_BUTTON(self->paste[i])) ||
            bh_paste_verdicts[i] == self->policy_loaded)
            continue;
        /* The user's directory is the last one read. */
        if (n_dirs == 0 ||
            !bh_settings_clipboard_policy_write(dirs[n_dirs - 1], bh_paste_verdicts[i], &error)) {
            bh_settings_error_set(self->policy_warning,
                                  error != NULL ? error->message : "no policy directory");
            return;
        }
        bh_check_policy(self);
    }
    /* A row the engine refuses stops here, before any global changes: the
     * reason is under the rows, every row kept. */
    if (!bh_settings_filecopy_apply(BH_SETTINGS_FILECOPY(self->filecopy)))
        return;
    apply =
        bh_settings_apply_new(G_DBUS_PROXY(bh_settings_context_get_admin(self->context)), self->cancellable,
                              self, self->apply, self->apply_error, on_global_sent, on_applied);
    for (gsize f = 0; f < G_N_ELEMENTS(self->fields); f++) {
        BhGlobalField *field = &self->fields[f];
        g_autofree char *now = bh_global_value(field);
        const char *loaded = field->loaded != NULL && *field->loaded ? field->loaded : "none";

        bh_settings_error_set(field->error, NULL);
        if (field->loaded != NULL && !g_str_equal(now, loaded))
            bh_settings_apply_add(apply, "SetGlobal", g_variant_new("(ss)", field->global, now), field->error,
                                  field);
    }
    self->busy = TRUE;
    bh_settings_apply_run(apply);
}

/* ---- building --------------------------------------------------------------- */

static void bh_settings_global_dispose(GObject *object)
{
    BhSettingsGlobal *self = BH_SETTINGS_GLOBAL(object);

    g_cancellable_cancel(self->cancellable);
    bh_settings_context_release(&self->context, self);
    for (gsize f = 0; f < G_N_ELEMENTS(self->fields); f++)
        g_clear_pointer(&self->fields[f].loaded, g_free);
    g_clear_object(&self->cancellable);
    G_OBJECT_CLASS(bh_settings_global_parent_class)->dispose(object);
}

static void bh_settings_global_class_init(BhSettingsGlobalClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = bh_settings_global_dispose;
}

static void bh_settings_global_init(BhSettingsGlobal *self)
{
    self->cancellable = g_cancellable_new();
}

static void on_global_changed(BhDbusAdmin1 *admin, const char *global, const char *value,
                              BhSettingsGlobal *self)
{
    if (!self->busy)
        bh_load(self);
}

BhSettingsGlobal *bh_settings_global_new(BhSettingsContext *context)
{
    BhSettingsGlobal *self = g_object_new(BH_TYPE_SETTINGS_GLOBAL, "title", "Global settings", NULL);
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 8);
    GtkWidget *grid = gtk_grid_new();
    GtkWidget *clip_grid = gtk_grid_new();
    GtkWidget *clip_title = gtk_label_new(NULL);
    GtkWidget *buttons = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
    int row = 0, crow = 0;
    /* The switches (BH_PICK_BOOL): docs/model.md; note: a line under one
     * saying what turning it on exposes. */
    static const struct {
        const char *global, *caption;
        BhPick pick;
        const char *check, *note;
    } table[] = {
        {"default_template", "Default template", BH_PICK_TEMPLATE, NULL, NULL},
        {"default_netvm", "Default network (netvm)", BH_PICK_PROVIDER, NULL, NULL},
        {"default_dispvm", "Default disposable template", BH_PICK_DISPVM_TEMPLATE, NULL, NULL},
        {"clockvm", "Clock qube", BH_PICK_ANY, NULL, NULL},
        {"updatevm", "Update qube", BH_PICK_ANY, NULL, NULL},
        {"network_uplink", "", BH_PICK_BOOL,
         "Connect the network qubes to the real network (uplink; sys-net picks it up at its next start)",
         NULL},
        {"network_uplink_host_loopback", "", BH_PICK_BOOL,
         "Let sys-net's uplink reach dom0's own local services (127.0.0.1)",
         "Exposes every service dom0 runs for itself only on 127.0.0.1 (databases, printing, a D-Bus over "
         "TCP) to every qube behind sys-net. Off in Qubes; meant for tests. Takes effect at sys-net's next "
         "start."},
        {"clipboard_max_bytes", "Largest clipboard (bytes)", BH_PICK_NUMBER, NULL, NULL},
    };
    G_STATIC_ASSERT(G_N_ELEMENTS(table) == G_N_ELEMENTS(self->fields));
    static const char *const paste_names[] = {"paste-ask", "paste-allow", "paste-deny"};
    static const char *const paste_texts[] = {
        /* ask: the key press is the user's answer (docs/clipboard.md). */
        "Paste into another qube when I press Ctrl+Shift+V in it (ask: the key press is my answer)",
        "Allow pastes between any qubes (allow: today the same, as no question dialog exists yet)",
        "Never paste from one qube into another (deny)",
    };

    self->context = g_object_ref(context);
    gtk_grid_set_row_spacing(GTK_GRID(grid), 4);
    gtk_grid_set_column_spacing(GTK_GRID(grid), 12);
    gtk_grid_set_row_spacing(GTK_GRID(clip_grid), 4);
    gtk_grid_set_column_spacing(GTK_GRID(clip_grid), 12);
    gtk_widget_add_css_class(box, "bh-form");
    for (gsize f = 0; f < G_N_ELEMENTS(table); f++) {
        BhGlobalField *field = &self->fields[f];
        g_autofree char *error_name = g_strconcat(table[f].global, "-error", NULL);

        field->global = table[f].global;
        field->pick = table[f].pick;
        if (table[f].pick == BH_PICK_NUMBER)
            field->widget = gtk_spin_button_new_with_range(1, 256000, 1000);
        else if (table[f].pick == BH_PICK_BOOL)
            field->widget = gtk_check_button_new_with_label(table[f].check);
        else
            field->widget = bh_settings_choice_new(table[f].global);
        gtk_widget_set_name(field->widget, table[f].global);
        field->error = bh_settings_error_new(error_name);
        bh_settings_grid_row(GTK_GRID(table[f].pick == BH_PICK_NUMBER ? clip_grid : grid),
                             table[f].pick == BH_PICK_NUMBER ? &crow : &row, table[f].caption, field->widget,
                             field->error);
        if (table[f].note != NULL) {
            GtkWidget *note = gtk_label_new(table[f].note);
            g_autofree char *note_name = g_strconcat(table[f].global, "-note", NULL);

            gtk_widget_set_name(note, note_name);
            gtk_label_set_wrap(GTK_LABEL(note), TRUE);
            gtk_label_set_xalign(GTK_LABEL(note), 0);
            gtk_widget_add_css_class(note, "dim-label");
            /* Read with the check box by a screen reader. */
            gtk_accessible_update_relation(GTK_ACCESSIBLE(field->widget),
                                           GTK_ACCESSIBLE_RELATION_DESCRIBED_BY, note, NULL, -1);
            gtk_grid_attach(GTK_GRID(grid), note, 1, row++, 1, 1);
        }
    }
    gtk_label_set_markup(GTK_LABEL(clip_title), "<b>Clipboard</b>");
    gtk_label_set_xalign(GTK_LABEL(clip_title), 0);
    for (gsize i = 0; i < G_N_ELEMENTS(self->paste); i++) {
        self->paste[i] = gtk_check_button_new_with_label(paste_texts[i]);
        gtk_widget_set_name(self->paste[i], paste_names[i]);
        if (i > 0)
            gtk_check_button_set_group(GTK_CHECK_BUTTON(self->paste[i]), GTK_CHECK_BUTTON(self->paste[0]));
        gtk_grid_attach(GTK_GRID(clip_grid), self->paste[i], 1, crow++, 1, 1);
    }
    self->policy_warning = bh_settings_error_new("policy-warning");
    gtk_grid_attach(GTK_GRID(clip_grid), self->policy_warning, 1, crow++, 1, 1);

    self->apply_error = bh_settings_error_new("apply-error");
    gtk_widget_set_hexpand(self->apply_error, TRUE);
    self->apply = gtk_button_new_with_label("Apply");
    gtk_widget_set_hexpand(self->apply, TRUE);
    gtk_widget_set_halign(self->apply, GTK_ALIGN_END);
    gtk_widget_set_name(self->apply, "apply");
    gtk_widget_add_css_class(self->apply, "suggested-action");
    gtk_box_append(GTK_BOX(buttons), self->apply_error);
    gtk_box_append(GTK_BOX(buttons), self->apply);

    gtk_box_append(GTK_BOX(box), grid);
    gtk_box_append(GTK_BOX(box), clip_title);
    gtk_box_append(GTK_BOX(box), clip_grid);
    self->filecopy = bh_settings_filecopy_new(context);
    gtk_box_append(GTK_BOX(box), self->filecopy);
    gtk_box_append(GTK_BOX(box), buttons);
    gtk_window_set_child(GTK_WINDOW(self), box);
    gtk_window_set_default_size(GTK_WINDOW(self), 760, -1);

    g_signal_connect(self->apply, "clicked", G_CALLBACK(on_apply), self);
    g_signal_connect_swapped(bh_settings_context_get_qubes(context), "changed", G_CALLBACK(bh_fill), self);
    g_signal_connect(bh_settings_context_get_admin(context), "global-changed", G_CALLBACK(on_global_changed),
                     self);
    bh_load(self);
    return self;
}

guint bh_settings_global_get_loads(BhSettingsGlobal *self)
{
    return self->loads;
}

gboolean bh_settings_global_is_busy(BhSettingsGlobal *self)
{
    return self->busy;
}
