/* bh-settings-qube.c — one qube's settings window (see the header). */
#define G_LOG_DOMAIN "bh-settings"

#include "bh-settings-qube.h"

#include "bh-settings-firewall.h"
#include "bh-settings-util.h"
#include "bh-shell-qube.h"
#include "bulkhead/qubes.h"

#include <string.h>

/* BH_FIELD_APPS: menu_items, from the Applications page's check buttons. */
typedef enum {
    BH_FIELD_ENTRY,
    BH_FIELD_CHECK,
    BH_FIELD_SPIN,
    BH_FIELD_CHOICE,
    BH_FIELD_LABEL,
    BH_FIELD_APPS,
    BH_FIELD_TEXT /* a GtkTextView: notes */
} BhFieldKind;

/* One property on the form. Choices have "" for "back to the default". */
typedef struct {
    const char *prop;
    BhFieldKind kind;
    GtkWidget *widget, *error, *row_caption;
    char *loaded;        /* the daemon's value when last read */
    gboolean is_default; /* ... and whether it was the default */
} BhField;

struct _BhSettingsQube {
    GtkWindow parent_instance;
    BhSettingsContext *context;
    GCancellable *cancellable;
    char *qube;
    char *klass;
    GtkWidget *title, *stack, *apply, *apply_error;
    GtkWidget *apps_search, *apps_note;
    GtkWidget *firewall; /* BhSettingsFirewall: its own Apply (one SetFirewall) */
    GPtrArray *fields;   /* BhField* */
    /* Services: what ListServices said (name → on), the rows (a check button
     * each, "bh-service" its name), and the SetService calls of an Apply. */
    GHashTable *services_loaded;
    GtkWidget *services_list, *services_name, *services_error;
    GPtrArray *service_changes; /* BhServiceChange* */
    GtkWidget *private_used;    /* GetDiskUsage beside private_size */
    GtkWidget *root_used;       /* ... and beside root_size (its row: only with root_size) */
    GtkWidget *root_used_caption;
    GtkWidget *notes_count; /* "N of 16384 bytes" under the notes */
    gboolean services_touched;
    guint services_loads;
    guint loads;
    gboolean busy;
};

G_DEFINE_FINAL_TYPE(BhSettingsQube, bh_settings_qube, GTK_TYPE_WINDOW)

/* One SetService of an Apply: what services_loaded becomes once it is sent. */
typedef struct {
    char *name;
    int state; /* 1 on, 0 off, -1 unset */
} BhServiceChange;

static void bh_service_change_free(BhServiceChange *change)
{
    g_free(change->name);
    g_free(change);
}

static void bh_field_free(BhField *field)
{
    g_free(field->loaded);
    g_free(field);
}

static BhField *bh_field(BhSettingsQube *self, const char *prop)
{
    for (guint i = 0; i < self->fields->len; i++) {
        BhField *field = self->fields->pdata[i];
        if (g_str_equal(field->prop, prop))
            return field;
    }
    return NULL;
}

/* menu_items from the page: "all" when every app is ticked, else the ticked
 * ids separated by spaces ("" shows none). */
static char *bh_apps_value(BhField *field)
{
    char *value = bh_settings_apps_value(field->widget);

    if (value == NULL)
        return g_strdup(field->loaded != NULL ? field->loaded : "all");
    return value;
}

/* What the form says now, in the daemon's text form; "" on a choice is
 * "the default". */
static char *bh_field_value(BhField *field)
{
    switch (field->kind) {
    case BH_FIELD_ENTRY:
        return g_strdup(gtk_editable_get_text(GTK_EDITABLE(field->widget)));
    case BH_FIELD_CHECK:
        return g_strdup(gtk_check_button_get_active(GTK_CHECK_BUTTON(field->widget)) ? "True" : "False");
    case BH_FIELD_SPIN:
        return g_strdup_printf("%d", gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(field->widget)));
    case BH_FIELD_CHOICE:
        return g_strdup(bh_settings_choice_get(field->widget));
    case BH_FIELD_LABEL:
        return g_strdup(bh_settings_label_picker_get(field->widget));
    case BH_FIELD_APPS:
        return bh_apps_value(field);
    case BH_FIELD_TEXT: {
        GtkTextBuffer *buffer = gtk_text_view_get_buffer(GTK_TEXT_VIEW(field->widget));
        GtkTextIter start, end;

        gtk_text_buffer_get_bounds(buffer, &start, &end);
        return gtk_text_buffer_get_text(buffer, &start, &end, TRUE);
    }
    }
    return g_strdup("");
}

static gboolean bh_field_changed(BhField *field)
{
    g_autofree char *now = bh_field_value(field);

    if (field->loaded == NULL)
        return FALSE; /* the class has no such property */
    /* The apps' order on the page is not the value's: only a toggle by the
     * user is a change. */
    if (field->kind == BH_FIELD_APPS)
        return GPOINTER_TO_INT(g_object_get_data(G_OBJECT(field->widget), "bh-touched"));
    if (field->kind == BH_FIELD_CHOICE && *now == '\0')
        return !field->is_default;
    if (field->kind == BH_FIELD_CHOICE && g_str_equal(now, "none"))
        return field->is_default || *field->loaded != '\0';
    return field->is_default ? !g_str_equal(now, field->loaded) : !g_str_equal(now, field->loaded);
}

/* The qube lists of the choices, from the live list; "" first is the
 * default, whose text names what it is today. */
static void bh_fill_qube_choice(BhSettingsQube *self, BhField *field, gboolean (*keep)(BhShellQube *),
                                gboolean with_none)
{
    GListModel *qubes = bh_shell_qubes_get_model(bh_settings_context_get_qubes(self->context));
    g_autoptr(GStrvBuilder) values = g_strv_builder_new(), texts = g_strv_builder_new();
    g_autofree char *def = NULL;
    const char *selected = field->loaded == NULL ? ""
                           : field->is_default   ? ""
                           : *field->loaded      ? field->loaded
                                                 : "none";

    if (field->loaded != NULL && field->is_default) {
        def = g_strdup_printf("default (%s)", *field->loaded ? field->loaded : "none");
        g_strv_builder_add(values, "");
        g_strv_builder_add(texts, def);
    } else if (g_str_equal(field->prop, "netvm") || g_str_equal(field->prop, "default_dispvm")) {
        g_strv_builder_add(values, "");
        g_strv_builder_add(texts, "default");
    }
    if (with_none) {
        g_strv_builder_add(values, "none");
        g_strv_builder_add(texts, "none");
    }
    for (guint i = 0; i < g_list_model_get_n_items(qubes); i++) {
        g_autoptr(BhShellQube) qube = g_list_model_get_item(qubes, i);
        const char *name = bh_shell_qube_get_name(qube);

        if (!keep(qube))
            continue;
        g_strv_builder_add(values, name);
        g_strv_builder_add(texts, name);
    }
    /* The current value even when the list does not have it (yet). */
    if (*selected && !g_str_equal(selected, "none")) {
        g_auto(GStrv) probe = g_strv_builder_end(values);
        g_strv_builder_addv(values, (const char **)probe);
        if (!g_strv_contains((const char *const *)probe, selected)) {
            g_strv_builder_add(values, selected);
            g_strv_builder_add(texts, selected);
        }
    }
    g_auto(GStrv) v = g_strv_builder_end(values);
    g_auto(GStrv) t = g_strv_builder_end(texts);
    bh_settings_choice_set(field->widget, (const char *const *)v, (const char *const *)t, selected);
}

static gboolean keep_template(BhShellQube *q)
{
    return g_str_equal(bh_shell_qube_get_class(q), "TemplateVM");
}

static gboolean keep_dispvm_template(BhShellQube *q)
{
    return bh_shell_qube_is_dispvm_template(q);
}

static gboolean keep_provider(BhShellQube *q)
{
    return bh_shell_qube_provides_network(q);
}

static void bh_fill_choices(BhSettingsQube *self)
{
    BhField *template_field = bh_field(self, "template");
    gboolean dispvm = g_strcmp0(self->klass, "DispVM") == 0;

    bh_fill_qube_choice(self, template_field, dispvm ? keep_dispvm_template : keep_template, FALSE);
    bh_fill_qube_choice(self, bh_field(self, "netvm"), keep_provider, TRUE);
    bh_fill_qube_choice(self, bh_field(self, "default_dispvm"), keep_dispvm_template, TRUE);
}

static void bh_field_show(BhSettingsQube *self, BhField *field)
{
    gboolean has = field->loaded != NULL;

    gtk_widget_set_visible(field->widget, has);
    if (field->row_caption != NULL)
        gtk_widget_set_visible(field->row_caption, has);
    if (!has)
        return;
    switch (field->kind) {
    case BH_FIELD_ENTRY:
        gtk_editable_set_text(GTK_EDITABLE(field->widget), field->loaded);
        break;
    case BH_FIELD_CHECK:
        gtk_check_button_set_active(GTK_CHECK_BUTTON(field->widget), g_str_equal(field->loaded, "True"));
        break;
    case BH_FIELD_SPIN:
        gtk_spin_button_set_value(GTK_SPIN_BUTTON(field->widget), g_ascii_strtod(field->loaded, NULL));
        break;
    case BH_FIELD_LABEL:
        bh_settings_label_picker_set(field->widget, field->loaded);
        break;
    case BH_FIELD_APPS:
        break; /* the list comes from ListApps: bh_load_apps */
    case BH_FIELD_TEXT:
        /* Plain text in a buffer: never markup, whatever it holds. */
        gtk_text_buffer_set_text(gtk_text_view_get_buffer(GTK_TEXT_VIEW(field->widget)), field->loaded, -1);
        break;
    case BH_FIELD_CHOICE:
        if (g_str_equal(field->prop, "virt_mode"))
            bh_settings_choice_select(field->widget, field->loaded);
        break; /* the qube lists: bh_fill_choices */
    }
}

static void bh_update_title(BhSettingsQube *self)
{
    BhField *label = bh_field(self, "label");
    const char *color = label->loaded ? bh_settings_context_label_color(self->context, label->loaded) : NULL;
    g_autofree char *markup = bh_settings_qube_markup(self->qube, color != NULL ? color : "");
    g_autofree char *title = g_strdup_printf("%s — qube settings", self->qube);

    gtk_label_set_markup(GTK_LABEL(self->title), markup);
    gtk_window_set_title(GTK_WINDOW(self), title);
}

static void bh_load_apps(BhSettingsQube *self);
static void bh_load_services(BhSettingsQube *self);

/* What the private volume (and the qube's own root volume) takes on dom0's
 * disk, each beside its limit. */
static void on_disk_usage(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(BhSettingsQube) self = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) usage = NULL;
    BhField *size = bh_field(self, "private_size");
    BhField *root_size = bh_field(self, "root_size");
    guint64 bytes = 0, root = 0;
    gboolean exact = TRUE;
    g_autofree char *text = NULL, *root_text = NULL;

    if (!bh_dbus_admin1_call_get_disk_usage_finish(BH_DBUS_ADMIN1(source), &usage, result, &error)) {
        if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            return;
        text = bh_settings_error_text(error);
        root_text = g_strdup(text);
    } else if (!g_variant_lookup(usage, self->qube, "(tbt)", &bytes, &exact, &root)) {
        text = g_strdup("not known (no volume yet, or no backend to ask)");
        root_text = g_strdup(text);
    } else {
        text = bh_settings_disk_text(bytes, exact, size != NULL ? size->loaded : NULL);
        root_text =
            root > 0
                ? bh_settings_disk_text(root, TRUE, root_size != NULL ? root_size->loaded : NULL)
                : g_strdup(
                      "no root volume yet (a StandaloneVM's is made at its next start; a TemplateVM has one "
                      "only with template root volumes on)");
    }
    gtk_label_set_text(GTK_LABEL(self->private_used), text);
    gtk_label_set_text(GTK_LABEL(self->root_used), root_text);
}

static void on_properties(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(BhSettingsQube) self = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) props = NULL;

    if (!bh_dbus_admin1_call_get_properties_finish(BH_DBUS_ADMIN1(source), &props, result, &error)) {
        if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
            g_autofree char *text = bh_settings_error_text(error);
            bh_settings_error_set(self->apply_error, text);
        }
        return;
    }
    for (guint i = 0; i < self->fields->len; i++) {
        BhField *field = self->fields->pdata[i];
        const char *value = NULL;
        gboolean is_default = FALSE;

        g_clear_pointer(&field->loaded, g_free);
        if (g_variant_lookup(props, field->prop, "(&sb)", &value, &is_default)) {
            field->loaded = g_strdup(value);
            field->is_default = is_default;
        }
    }
    {
        const char *klass = NULL;
        if (g_variant_lookup(props, "class", "(&sb)", &klass, NULL)) {
            g_free(self->klass);
            self->klass = g_strdup(klass);
        }
    }
    for (guint i = 0; i < self->fields->len; i++)
        bh_field_show(self, self->fields->pdata[i]);
    gtk_widget_set_visible(self->root_used, bh_field(self, "root_size")->loaded != NULL);
    gtk_widget_set_visible(self->root_used_caption, bh_field(self, "root_size")->loaded != NULL);
    bh_fill_choices(self);
    bh_update_title(self);
    bh_load_apps(self);
    bh_load_services(self);
    bh_dbus_admin1_call_get_disk_usage(bh_settings_context_get_admin(self->context),
                                       (const char *const[]){self->qube, NULL}, self->cancellable,
                                       on_disk_usage, g_object_ref(self));
    self->loads++;
}

static void bh_load(BhSettingsQube *self)
{
    bh_dbus_admin1_call_get_properties(bh_settings_context_get_admin(self->context), self->qube,
                                       self->cancellable, on_properties, g_object_ref(self));
}

/* ---- Applications ------------------------------------------------------------ */

static void on_apps(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(BhSettingsQube) self = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) apps = NULL;
    g_autofree char *from = NULL, *problem = NULL;
    BhField *field = bh_field(self, "menu_items");
    GtkWidget *list = field->widget;
    g_autofree char *note = NULL;
    guint n = 0;

    if (!bh_dbus_admin1_call_list_apps_finish(BH_DBUS_ADMIN1(source), &apps, &from, &problem, result,
                                              &error)) {
        if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
            g_autofree char *text = bh_settings_error_text(error);
            bh_settings_error_set(field->error, text);
        }
        return;
    }
    n = bh_settings_apps_fill(list, apps, self->qube, FALSE, G_CALLBACK(bh_settings_apps_touch));
    g_object_set_data(G_OBJECT(list), "bh-touched", GINT_TO_POINTER(FALSE));
    if (*problem != '\0')
        note = g_strdup_printf("The qube's last list was refused: %s", problem);
    else if (n == 0)
        note = g_strdup("No list yet: a qube's list is read each time it starts.");
    else if (*from != '\0' && g_strcmp0(from, self->qube) != 0)
        note = g_strdup_printf("The list of its template, %s, until this qube has started once.", from);
    gtk_label_set_text(GTK_LABEL(self->apps_note), note != NULL ? note : "");
    gtk_widget_set_visible(self->apps_note, note != NULL);
    g_object_set_data(G_OBJECT(list), "bh-loads",
                      GUINT_TO_POINTER(GPOINTER_TO_UINT(g_object_get_data(G_OBJECT(list), "bh-loads")) + 1));
}

static void bh_load_apps(BhSettingsQube *self)
{
    BhField *field = bh_field(self, "menu_items");

    if (field->loaded == NULL || bh_field_changed(field))
        return; /* dom0 has no apps; never overwrite the user's ticks */
    bh_dbus_admin1_call_list_apps(bh_settings_context_get_admin(self->context), self->qube, self->cancellable,
                                  on_apps, g_object_ref(self));
}

static void on_apps_changed(BhDbusAdmin1 *admin, const char *qube, BhSettingsQube *self)
{
    if (g_strcmp0(qube, self->qube) == 0)
        bh_load_apps(self);
}

static gboolean bh_app_matches(GtkListBoxRow *row, gpointer data)
{
    BhSettingsQube *self = data;
    GtkWidget *check = gtk_list_box_row_get_child(row);
    g_autofree char *needle = g_utf8_casefold(gtk_editable_get_text(GTK_EDITABLE(self->apps_search)), -1);
    g_autofree char *hay = g_utf8_casefold(gtk_check_button_get_label(GTK_CHECK_BUTTON(check)), -1);

    return *needle == '\0' || strstr(hay, needle) != NULL;
}

/* ---- Notes ------------------------------------------------------------------ */

/* The model's limit, shown as the user types (the daemon still decides). */
static void bh_notes_count(BhSettingsQube *self)
{
    BhField *field = bh_field(self, "notes");
    g_autofree char *text = field != NULL ? bh_field_value(field) : g_strdup("");
    g_autofree char *count = g_strdup_printf("%zu of %d bytes", strlen(text), BH_NOTES_MAX);

    gtk_label_set_text(GTK_LABEL(self->notes_count), count);
}

/* ---- Services ------------------------------------------------------------- */

/* The page's services: name → on, from the rows. */
static GHashTable *bh_services_shown(BhSettingsQube *self)
{
    GHashTable *shown = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

    for (GtkWidget *row = gtk_widget_get_first_child(self->services_list); row != NULL;
         row = gtk_widget_get_next_sibling(row)) {
        GtkWidget *box = gtk_list_box_row_get_child(GTK_LIST_BOX_ROW(row));
        GtkWidget *check = gtk_widget_get_first_child(box);
        const char *name = g_object_get_data(G_OBJECT(check), "bh-service");
        g_hash_table_insert(shown, g_strdup(name),
                            GINT_TO_POINTER(gtk_check_button_get_active(GTK_CHECK_BUTTON(check))));
    }
    return shown;
}

static void on_service_toggled(GtkCheckButton *check, BhSettingsQube *self)
{
    self->services_touched = TRUE;
}

static void on_service_remove(GtkButton *button, BhSettingsQube *self)
{
    GtkWidget *row = gtk_widget_get_ancestor(GTK_WIDGET(button), GTK_TYPE_LIST_BOX_ROW);

    self->services_touched = TRUE;
    gtk_list_box_remove(GTK_LIST_BOX(self->services_list), row);
}

/* A row: "[x] NAME  on" and a remove button. The name is shown as plain
 * text (a check button's label is never markup). */
static void bh_service_row(BhSettingsQube *self, const char *name, gboolean on)
{
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
    GtkWidget *check = gtk_check_button_new_with_label(name);
    GtkWidget *remove = gtk_button_new_from_icon_name("list-remove-symbolic");
    g_autofree char *check_name = g_strconcat("service-", name, NULL);
    g_autofree char *remove_name = g_strconcat("service-remove-", name, NULL);

    gtk_widget_set_name(check, check_name);
    gtk_widget_set_name(remove, remove_name);
    gtk_widget_set_tooltip_text(check, "Ticked: on; unticked: off (the qube sees which)");
    gtk_widget_set_tooltip_text(remove, "Unset: the qube's own default applies");
    gtk_widget_set_hexpand(check, TRUE);
    g_object_set_data_full(G_OBJECT(check), "bh-service", g_strdup(name), g_free);
    gtk_check_button_set_active(GTK_CHECK_BUTTON(check), on);
    g_signal_connect(check, "toggled", G_CALLBACK(on_service_toggled), self);
    g_signal_connect(remove, "clicked", G_CALLBACK(on_service_remove), self);
    gtk_box_append(GTK_BOX(box), check);
    gtk_box_append(GTK_BOX(box), remove);
    gtk_list_box_append(GTK_LIST_BOX(self->services_list), box);
}

static gint bh_str_cmp(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void bh_services_show(BhSettingsQube *self)
{
    g_autofree gpointer *names = g_hash_table_get_keys_as_array(self->services_loaded, NULL);
    guint n = g_hash_table_size(self->services_loaded);

    GtkWidget *child;

    while ((child = gtk_widget_get_first_child(self->services_list)) != NULL)
        gtk_list_box_remove(GTK_LIST_BOX(self->services_list), child);
    qsort(names, n, sizeof *names, (int (*)(const void *, const void *))bh_str_cmp);
    for (guint i = 0; i < n; i++)
        bh_service_row(self, names[i], GPOINTER_TO_INT(g_hash_table_lookup(self->services_loaded, names[i])));
    self->services_touched = FALSE;
}

static gboolean bh_services_changed(BhSettingsQube *self)
{
    g_autoptr(GHashTable) shown = NULL;
    GHashTableIter it;
    gpointer name, on, was;

    if (!self->services_touched)
        return FALSE;
    shown = bh_services_shown(self);
    if (g_hash_table_size(shown) != g_hash_table_size(self->services_loaded))
        return TRUE;
    g_hash_table_iter_init(&it, shown);
    while (g_hash_table_iter_next(&it, &name, &on)) {
        if (!g_hash_table_lookup_extended(self->services_loaded, name, NULL, &was) || was != on)
            return TRUE;
    }
    return FALSE;
}

static void on_services(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(BhSettingsQube) self = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) services = NULL;
    GVariantIter iter;
    const char *name;
    gboolean on;

    if (!bh_dbus_admin1_call_list_services_finish(BH_DBUS_ADMIN1(source), &services, result, &error)) {
        if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
            g_autofree char *text = bh_settings_error_text(error);
            bh_settings_error_set(self->services_error, text);
        }
        return;
    }
    g_hash_table_remove_all(self->services_loaded);
    g_variant_iter_init(&iter, services);
    while (g_variant_iter_next(&iter, "{&sb}", &name, &on))
        g_hash_table_insert(self->services_loaded, g_strdup(name), GINT_TO_POINTER(on));
    if (!bh_services_changed(self))
        bh_services_show(self);
    self->services_loads++;
}

static void bh_load_services(BhSettingsQube *self)
{
    if (bh_services_changed(self))
        return; /* never overwrite what the user is changing */
    bh_dbus_admin1_call_list_services(bh_settings_context_get_admin(self->context), self->qube,
                                      self->cancellable, on_services, g_object_ref(self));
}

static void on_services_changed(BhDbusAdmin1 *admin, const char *qube, BhSettingsQube *self)
{
    if (!self->busy && g_strcmp0(qube, self->qube) == 0)
        bh_load_services(self);
}

static void on_service_add(GtkWidget *widget, BhSettingsQube *self)
{
    g_autofree char *name = g_strstrip(g_strdup(gtk_editable_get_text(GTK_EDITABLE(self->services_name))));
    g_autoptr(GHashTable) shown = bh_services_shown(self);

    if (*name == '\0' || g_hash_table_contains(shown, name))
        return;
    /* Checked by the daemon on Apply (its sentence under the list, the row
     * kept to fix); a new service is on. */
    bh_service_row(self, name, TRUE);
    self->services_touched = TRUE;
    gtk_editable_set_text(GTK_EDITABLE(self->services_name), "");
}

/* One SetService per difference, in name order. */
static void bh_apply_services(BhSettingsQube *self, BhSettingsApply *apply)
{
    g_autoptr(GHashTable) shown = bh_services_shown(self);
    g_autoptr(GPtrArray) names = g_ptr_array_new();
    GHashTableIter it;
    gpointer name, on, was;

    g_ptr_array_set_size(self->service_changes, 0);
    g_hash_table_iter_init(&it, shown);
    while (g_hash_table_iter_next(&it, &name, NULL))
        g_ptr_array_add(names, name);
    g_hash_table_iter_init(&it, self->services_loaded);
    while (g_hash_table_iter_next(&it, &name, NULL)) {
        if (!g_hash_table_contains(shown, name))
            g_ptr_array_add(names, name);
    }
    g_ptr_array_sort(names, bh_str_cmp);
    for (guint i = 0; i < names->len; i++) {
        gboolean is_shown = g_hash_table_lookup_extended(shown, names->pdata[i], NULL, &on);
        gboolean is_loaded = g_hash_table_lookup_extended(self->services_loaded, names->pdata[i], NULL, &was);
        BhServiceChange *change;

        if (is_shown == is_loaded && (!is_shown || on == was))
            continue;
        change = g_new0(BhServiceChange, 1);
        change->name = g_strdup(names->pdata[i]);
        change->state = !is_shown ? -1 : GPOINTER_TO_INT(on) ? 1 : 0;
        g_ptr_array_add(self->service_changes, change);
        bh_settings_apply_add(apply, "SetService",
                              g_variant_new("(sss)", self->qube, change->name,
                                            change->state < 0 ? "unset"
                                            : change->state   ? "on"
                                                              : "off"),
                              self->services_error, change);
    }
}

/* ---- Apply ---------------------------------------------------------------- */

static void on_field_sent(gpointer owner, gpointer item)
{
    BhSettingsQube *self = owner;
    BhField *field = item;

    if (g_ptr_array_find(self->service_changes, item, NULL)) {
        BhServiceChange *change = item;
        if (change->state < 0)
            g_hash_table_remove(self->services_loaded, change->name);
        else
            g_hash_table_insert(self->services_loaded, g_strdup(change->name),
                                GINT_TO_POINTER(change->state));
        return;
    }

    if (g_str_equal(field->prop, "name")) {
        g_free(self->qube);
        self->qube = bh_field_value(field);
        bh_settings_firewall_set_qube(BH_SETTINGS_FIREWALL(self->firewall), self->qube);
    }
    g_free(field->loaded);
    field->loaded = bh_field_value(field);
    if (field->kind == BH_FIELD_APPS)
        g_object_set_data(G_OBJECT(field->widget), "bh-touched", GINT_TO_POINTER(FALSE));
}

static void on_applied(gpointer owner, gboolean ok)
{
    BhSettingsQube *self = owner;

    self->busy = FALSE;
    if (ok) {
        self->services_touched = FALSE;
        bh_load(self);
    }
}

static void bh_apply_field(BhSettingsQube *self, BhSettingsApply *apply, BhField *field)
{
    g_autofree char *value = bh_field_value(field);
    /* Every call names the qube as it will be when the call is sent: the
     * rename is the last one. */
    if (field->kind == BH_FIELD_CHOICE && *value == '\0')
        bh_settings_apply_add(apply, "ResetProperty", g_variant_new("(ss)", self->qube, field->prop),
                              field->error, field);
    else
        bh_settings_apply_add(apply, "SetProperty", g_variant_new("(sss)", self->qube, field->prop, value),
                              field->error, field);
}

/* A volume never shrinks (docs/model.md: a smaller size than the volume has
 * is ignored): a size below the one loaded is refused here, with why, rather
 * than sent to be ignored. */
static gboolean bh_size_shrinks(BhField *field)
{
    g_autofree char *now = NULL, *text = NULL;
    gint64 loaded, wanted;

    if (field->kind != BH_FIELD_SPIN || field->loaded == NULL ||
        (!g_str_equal(field->prop, "private_size") && !g_str_equal(field->prop, "root_size")))
        return FALSE;
    now = bh_field_value(field);
    loaded = g_ascii_strtoll(field->loaded, NULL, 10);
    wanted = g_ascii_strtoll(now, NULL, 10);
    if (wanted >= loaded)
        return FALSE;
    text = g_strdup_printf("A volume only grows: %" G_GINT64_FORMAT " MiB is less than its %" G_GINT64_FORMAT
                           " MiB (nothing was changed; a larger size applies at its next start)",
                           wanted, loaded);
    bh_settings_error_set(field->error, text);
    return TRUE;
}

static void on_apply(GtkButton *button, BhSettingsQube *self)
{
    BhSettingsApply *apply;
    BhField *rename = NULL;
    gboolean refused = FALSE;

    if (self->busy)
        return;
    for (guint i = 0; i < self->fields->len; i++) {
        BhField *field = self->fields->pdata[i];

        bh_settings_error_set(field->error, NULL);
        refused |= bh_size_shrinks(field);
    }
    if (refused)
        return;
    apply =
        bh_settings_apply_new(G_DBUS_PROXY(bh_settings_context_get_admin(self->context)), self->cancellable,
                              self, self->apply, self->apply_error, on_field_sent, on_applied);
    for (guint i = 0; i < self->fields->len; i++) {
        BhField *field = self->fields->pdata[i];

        if (!bh_field_changed(field))
            continue;
        if (g_str_equal(field->prop, "name"))
            rename = field; /* last: every other call names the qube */
        else
            bh_apply_field(self, apply, field);
    }
    bh_settings_error_set(self->services_error, NULL);
    if (bh_services_changed(self))
        bh_apply_services(self, apply);
    if (rename != NULL)
        bh_apply_field(self, apply, rename);
    self->busy = TRUE;
    bh_settings_apply_run(apply);
}

/* ---- Delete and Clone ----------------------------------------------------- */

typedef struct {
    BhSettingsQube *self; /* strong */
    GtkWidget *dialog, *entry, *error, *confirm;
    GtkWidget *status; /* Clone only: what a long copy is doing */
} BhConfirm;

static void bh_confirm_free(BhConfirm *confirm)
{
    g_object_unref(confirm->self);
    g_free(confirm);
}

static void on_confirm_reply(GObject *source, GAsyncResult *result, gpointer data)
{
    BhConfirm *confirm = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) reply = g_dbus_proxy_call_finish(G_DBUS_PROXY(source), result, &error);

    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
    if (reply == NULL) {
        g_autofree char *text = bh_settings_error_text(error);
        bh_settings_error_set(confirm->error, text);
        gtk_widget_set_sensitive(confirm->confirm, TRUE);
        if (confirm->entry != NULL) {
            gtk_widget_set_sensitive(confirm->entry, TRUE);
            gtk_widget_set_visible(confirm->status, FALSE);
        }
        return;
    }
    if (confirm->entry != NULL) {
        bh_settings_open(confirm->self->context, "qube", gtk_editable_get_text(GTK_EDITABLE(confirm->entry)),
                         NULL);
        gtk_window_destroy(GTK_WINDOW(confirm->dialog));
    } else {
        /* The qube is gone: so is its window. */
        GtkWindow *settings = GTK_WINDOW(confirm->self);
        gtk_window_destroy(GTK_WINDOW(confirm->dialog));
        gtk_window_destroy(settings);
    }
}

static void on_confirm(GtkButton *button, BhConfirm *confirm)
{
    GDBusProxy *proxy = G_DBUS_PROXY(bh_settings_context_get_admin(confirm->self->context));

    gtk_widget_set_sensitive(confirm->confirm, FALSE);
    bh_settings_error_set(confirm->error, NULL);
    if (confirm->entry != NULL) {
        const char *to = gtk_editable_get_text(GTK_EDITABLE(confirm->entry));
        g_autofree char *status = g_strdup_printf(
            "Copying the files of %s to %s: this takes as long as what %s stored. Closing this "
            "window does not stop the copy; %s appears in the qube list once it is done.",
            confirm->self->qube, to, confirm->self->qube, to);
        gtk_label_set_text(GTK_LABEL(confirm->status), status);
        gtk_widget_set_visible(confirm->status, TRUE);
        gtk_widget_set_sensitive(confirm->entry, FALSE);
        g_dbus_proxy_call(proxy, "Clone", g_variant_new("(ss)", confirm->self->qube, to),
                          G_DBUS_CALL_FLAGS_NO_AUTO_START, BH_SETTINGS_COPY_CALL_MS,
                          bh_settings_confirm_cancellable(confirm->dialog), on_confirm_reply, confirm);
    } else
        g_dbus_proxy_call(proxy, "Remove", g_variant_new("(s)", confirm->self->qube),
                          G_DBUS_CALL_FLAGS_NO_AUTO_START, BH_SETTINGS_LONG_CALL_MS,
                          bh_settings_confirm_cancellable(confirm->dialog), on_confirm_reply, confirm);
}

static void bh_open_confirm(BhSettingsQube *self, gboolean clone)
{
    BhConfirm *confirm = g_new0(BhConfirm, 1);
    BhField *label = bh_field(self, "label");
    const char *color = label->loaded ? bh_settings_context_label_color(self->context, label->loaded) : NULL;
    g_autofree char *name = bh_settings_qube_markup(self->qube, color != NULL ? color : "");
    g_autofree char *text = NULL;

    GtkWidget *extra = NULL;
    confirm->self = g_object_ref(self);
    if (clone) {
        g_autofree char *suggestion = g_strdup_printf("%s-clone", self->qube);
        confirm->entry = gtk_entry_new();
        gtk_widget_set_name(confirm->entry, "clone-name");
        gtk_editable_set_text(GTK_EDITABLE(confirm->entry), suggestion);
        confirm->status = gtk_label_new(NULL);
        gtk_widget_set_name(confirm->status, "clone-status");
        gtk_label_set_wrap(GTK_LABEL(confirm->status), TRUE);
        gtk_label_set_max_width_chars(GTK_LABEL(confirm->status), 60);
        gtk_label_set_xalign(GTK_LABEL(confirm->status), 0);
        gtk_widget_set_visible(confirm->status, FALSE);
        extra = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
        gtk_box_append(GTK_BOX(extra), confirm->entry);
        gtk_box_append(GTK_BOX(extra), confirm->status);
    }
    text = clone ? g_strdup_printf("Clone %s: a new qube with its settings and files, named:", name)
                 : g_strdup_printf("Delete %s and all its files? This cannot be undone.", name);
    confirm->dialog = bh_settings_confirm_new(GTK_WINDOW(self), clone ? "clone-dialog" : "delete-dialog",
                                              clone ? "Clone a qube" : "Delete a qube", text, extra,
                                              clone ? "Clone" : "Delete", !clone, &confirm->error,
                                              &confirm->confirm, confirm, (GDestroyNotify)bh_confirm_free);
    g_signal_connect(confirm->confirm, "clicked", G_CALLBACK(on_confirm), confirm);
    gtk_window_present(GTK_WINDOW(confirm->dialog));
}

static void on_delete(GtkButton *button, BhSettingsQube *self)
{
    bh_open_confirm(self, FALSE);
}

static void on_clone(GtkButton *button, BhSettingsQube *self)
{
    bh_open_confirm(self, TRUE);
}

/* ---- building --------------------------------------------------------------- */

static BhField *bh_add_field(BhSettingsQube *self, GtkGrid *grid, int *row, const char *caption,
                             const char *prop, BhFieldKind kind, GtkWidget *widget)
{
    BhField *field = g_new0(BhField, 1);
    g_autofree char *error_name = g_strconcat(prop, "-error", NULL);

    field->prop = prop;
    field->kind = kind;
    field->widget = widget;
    field->error = bh_settings_error_new(error_name);
    if (gtk_widget_get_name(widget) == NULL ||
        g_str_equal(gtk_widget_get_name(widget), G_OBJECT_TYPE_NAME(widget)))
        gtk_widget_set_name(widget, prop);
    bh_settings_grid_row(grid, row, caption, widget, field->error);
    field->row_caption = gtk_grid_get_child_at(grid, 0, *row - 2);
    g_ptr_array_add(self->fields, field);
    return field;
}

static GtkWidget *bh_page(GtkWidget *stack, const char *name, const char *title, GtkWidget **grid_out)
{
    GtkWidget *grid = gtk_grid_new();
    GtkWidget *scrolled = gtk_scrolled_window_new();

    gtk_grid_set_row_spacing(GTK_GRID(grid), 4);
    gtk_grid_set_column_spacing(GTK_GRID(grid), 12);
    gtk_widget_add_css_class(grid, "bh-form");
    gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scrolled), grid);
    gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(scrolled), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
    gtk_stack_add_titled(GTK_STACK(stack), scrolled, name, title);
    *grid_out = grid;
    return scrolled;
}

static GtkWidget *bh_note(const char *markup)
{
    GtkWidget *label = gtk_label_new(NULL);

    gtk_label_set_markup(GTK_LABEL(label), markup);
    gtk_label_set_wrap(GTK_LABEL(label), TRUE);
    gtk_label_set_xalign(GTK_LABEL(label), 0);
    gtk_label_set_selectable(GTK_LABEL(label), TRUE);
    return label;
}

static GtkWidget *bh_spin(double min, double max)
{
    return gtk_spin_button_new_with_range(min, max, 1);
}

static GtkWidget *bh_readonly_entry(void)
{
    GtkWidget *entry = gtk_entry_new();

    gtk_editable_set_editable(GTK_EDITABLE(entry), FALSE);
    gtk_widget_set_can_focus(entry, FALSE);
    return entry;
}

static void on_qubes_changed(BhSettingsQube *self)
{
    /* New templates or providers: the lists follow, the choices stay. */
    for (guint i = 0; i < self->fields->len; i++) {
        BhField *field = self->fields->pdata[i];
        if (field->kind == BH_FIELD_CHOICE && bh_field_changed(field))
            return; /* the user is choosing: leave the list alone */
    }
    bh_fill_choices(self);
}

static void on_property_changed(BhDbusAdmin1 *admin, const char *qube, const char *prop, const char *value,
                                BhSettingsQube *self)
{
    if (self->busy || !g_str_equal(qube, self->qube))
        return;
    for (guint i = 0; i < self->fields->len; i++) {
        if (bh_field_changed(self->fields->pdata[i]))
            return; /* never overwrite what the user is typing */
    }
    if (bh_services_changed(self))
        return;
    bh_load(self);
}

static void bh_settings_qube_dispose(GObject *object)
{
    BhSettingsQube *self = BH_SETTINGS_QUBE(object);

    g_cancellable_cancel(self->cancellable);
    bh_settings_context_release(&self->context, self);
    g_clear_object(&self->cancellable);
    g_clear_pointer(&self->fields, g_ptr_array_unref);
    g_clear_pointer(&self->services_loaded, g_hash_table_unref);
    g_clear_pointer(&self->service_changes, g_ptr_array_unref);
    g_clear_pointer(&self->qube, g_free);
    g_clear_pointer(&self->klass, g_free);
    G_OBJECT_CLASS(bh_settings_qube_parent_class)->dispose(object);
}

static void bh_settings_qube_class_init(BhSettingsQubeClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = bh_settings_qube_dispose;
}

static void bh_settings_qube_init(BhSettingsQube *self)
{
    self->cancellable = g_cancellable_new();
    self->fields = g_ptr_array_new_with_free_func((GDestroyNotify)bh_field_free);
    self->services_loaded = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    self->service_changes = g_ptr_array_new_with_free_func((GDestroyNotify)bh_service_change_free);
}

BhSettingsQube *bh_settings_qube_new(BhSettingsContext *context, const char *qube, const char *page)
{
    BhSettingsQube *self = g_object_new(BH_TYPE_SETTINGS_QUBE, NULL);
    GtkWidget *outer = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
    GtkWidget *middle = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 0);
    GtkWidget *sidebar = gtk_stack_sidebar_new();
    GtkWidget *buttons = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
    GtkWidget *delete = gtk_button_new_with_label("Delete…");
    GtkWidget *clone = gtk_button_new_with_label("Clone…");
    GtkWidget *grid, *virt;
    g_autofree char *apps = NULL, *escaped = g_markup_escape_text(qube, -1);
    int row = 0;
    static const char *const virt_modes[] = {"pvh", "hvm", "pv", NULL};

    self->context = g_object_ref(context);
    self->qube = g_strdup(qube);
    self->stack = gtk_stack_new();
    gtk_widget_set_name(self->stack, "pages");
    gtk_stack_sidebar_set_stack(GTK_STACK_SIDEBAR(sidebar), GTK_STACK(self->stack));
    self->title = gtk_label_new(NULL);
    gtk_widget_set_name(self->title, "title");
    gtk_widget_add_css_class(self->title, "bh-title");
    gtk_widget_set_halign(self->title, GTK_ALIGN_START);

    bh_page(self->stack, "basic", "Basic", &grid);
    bh_add_field(self, GTK_GRID(grid), &row, "Name", "name", BH_FIELD_ENTRY, gtk_entry_new());
    bh_add_field(self, GTK_GRID(grid), &row, "Label", "label", BH_FIELD_LABEL,
                 bh_settings_label_picker_new(bh_settings_context_get_labels(context), NULL, NULL));
    bh_add_field(self, GTK_GRID(grid), &row, "Template", "template", BH_FIELD_CHOICE,
                 bh_settings_choice_new("template"));
    bh_add_field(self, GTK_GRID(grid), &row, "Network (netvm)", "netvm", BH_FIELD_CHOICE,
                 bh_settings_choice_new("netvm"));
    /* Read-only: the daemon gives them out; an entry, not a label, so they can be copied. */
    bh_add_field(self, GTK_GRID(grid), &row, "IP address", "ip", BH_FIELD_ENTRY, bh_readonly_entry());
    bh_add_field(self, GTK_GRID(grid), &row, "Gateway", "gateway", BH_FIELD_ENTRY, bh_readonly_entry());
    bh_add_field(self, GTK_GRID(grid), &row, "DNS servers", "dns", BH_FIELD_ENTRY, bh_readonly_entry());
    bh_add_field(self, GTK_GRID(grid), &row, "", "autostart", BH_FIELD_CHECK,
                 gtk_check_button_new_with_label("Start when bulkheadd starts"));
    bh_add_field(self, GTK_GRID(grid), &row, "", "include_in_backups", BH_FIELD_CHECK,
                 gtk_check_button_new_with_label("Include in backups"));
    bh_add_field(self, GTK_GRID(grid), &row, "Private storage (MiB)", "private_size", BH_FIELD_SPIN,
                 bh_spin(256, 1048576));
    self->private_used = gtk_label_new("");
    gtk_widget_set_name(self->private_used, "private-used");
    gtk_label_set_xalign(GTK_LABEL(self->private_used), 0);
    bh_settings_grid_row(GTK_GRID(grid), &row, "Disk used", self->private_used, NULL);
    /* A TemplateVM's and a StandaloneVM's own root (the model has root_size
     * only for them: other classes hide both rows). */
    bh_add_field(self, GTK_GRID(grid), &row, "Root storage (MiB)", "root_size", BH_FIELD_SPIN,
                 bh_spin(256, 1048576));
    self->root_used = gtk_label_new("");
    gtk_widget_set_name(self->root_used, "root-used");
    gtk_label_set_xalign(GTK_LABEL(self->root_used), 0);
    bh_settings_grid_row(GTK_GRID(grid), &row, "Root disk used", self->root_used, NULL);
    self->root_used_caption = gtk_grid_get_child_at(GTK_GRID(grid), 0, row - 1);

    row = 0;
    bh_page(self->stack, "advanced", "Advanced", &grid);
    bh_add_field(self, GTK_GRID(grid), &row, "Initial memory (MiB)", "memory", BH_FIELD_SPIN,
                 bh_spin(32, 1048576));
    bh_add_field(self, GTK_GRID(grid), &row, "Most memory (MiB)", "maxmem", BH_FIELD_SPIN,
                 bh_spin(0, 1048576));
    bh_add_field(self, GTK_GRID(grid), &row, "Virtual CPUs", "vcpus", BH_FIELD_SPIN, bh_spin(1, 512));
    bh_add_field(self, GTK_GRID(grid), &row, "", "provides_network", BH_FIELD_CHECK,
                 gtk_check_button_new_with_label("Provides network to other qubes"));
    bh_add_field(self, GTK_GRID(grid), &row, "", "template_for_dispvms", BH_FIELD_CHECK,
                 gtk_check_button_new_with_label("Disposable template (disposables start from its files)"));
    bh_add_field(self, GTK_GRID(grid), &row, "Default disposable template", "default_dispvm", BH_FIELD_CHOICE,
                 bh_settings_choice_new("default_dispvm"));
    virt = bh_settings_choice_new("virt_mode");
    bh_settings_choice_set(virt, virt_modes, virt_modes, "pvh");
    bh_add_field(self, GTK_GRID(grid), &row, "Virtualisation (Xen)", "virt_mode", BH_FIELD_CHOICE, virt);
    bh_add_field(self, GTK_GRID(grid), &row, "Kernel (Xen)", "kernel", BH_FIELD_ENTRY, gtk_entry_new());

    bh_page(self->stack, "firewall", "Firewall", &grid);
    self->firewall = bh_settings_firewall_new(context, qube);
    gtk_widget_set_hexpand(self->firewall, TRUE);
    gtk_grid_attach(GTK_GRID(grid), self->firewall, 0, 0, 1, 1);
    bh_page(self->stack, "applications", "Applications", &grid);
    apps = g_strdup_printf("The applications of %s that the menu shows (its <tt>menu_items</tt>):", escaped);
    gtk_grid_attach(GTK_GRID(grid), bh_note(apps), 0, 0, 1, 1);
    self->apps_search = gtk_search_entry_new();
    gtk_widget_set_name(self->apps_search, "apps-search");
    gtk_grid_attach(GTK_GRID(grid), self->apps_search, 0, 1, 1, 1);
    self->apps_note = bh_note("");
    gtk_widget_set_visible(self->apps_note, FALSE);
    gtk_grid_attach(GTK_GRID(grid), self->apps_note, 0, 2, 1, 1);
    {
        GtkWidget *list = gtk_list_box_new();
        BhField *field = g_new0(BhField, 1);

        gtk_widget_set_name(list, "apps-list");
        gtk_list_box_set_selection_mode(GTK_LIST_BOX(list), GTK_SELECTION_NONE);
        gtk_list_box_set_filter_func(GTK_LIST_BOX(list), bh_app_matches, self, NULL);
        gtk_widget_set_hexpand(list, TRUE);
        field->prop = "menu_items";
        field->kind = BH_FIELD_APPS;
        field->widget = list;
        field->error = bh_settings_error_new("menu_items-error");
        gtk_grid_attach(GTK_GRID(grid), list, 0, 3, 1, 1);
        gtk_grid_attach(GTK_GRID(grid), field->error, 0, 4, 1, 1);
        g_ptr_array_add(self->fields, field);
        g_signal_connect_swapped(self->apps_search, "search-changed",
                                 G_CALLBACK(gtk_list_box_invalidate_filter), list);
    }

    bh_page(self->stack, "services", "Services", &grid);
    {
        GtkWidget *intro = bh_note(
            "Services are flags the qube reads when it starts (Qubes' <tt>qvm-service</tt>): "
            "ticked is on, unticked off, a removed one unset (the qube's own default). In the qube, a "
            "service that is on is a file in <tt>/run/bulkhead/service/</tt> (and "
            "<tt>/run/qubes-service/</tt>), "
            "one that is off a file in <tt>/run/bulkhead/service-off/</tt>. Changes apply at its next "
            "start.");
        GtkWidget *add_box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
        GtkWidget *add = gtk_button_new_with_label("Add");

        gtk_label_set_selectable(GTK_LABEL(intro), FALSE);
        self->services_list = gtk_list_box_new();
        gtk_widget_set_name(self->services_list, "services-list");
        gtk_list_box_set_selection_mode(GTK_LIST_BOX(self->services_list), GTK_SELECTION_NONE);
        gtk_widget_set_hexpand(self->services_list, TRUE);
        self->services_name = gtk_entry_new();
        gtk_widget_set_name(self->services_name, "service-name");
        gtk_entry_set_placeholder_text(GTK_ENTRY(self->services_name), "crond, cups, network-manager …");
        gtk_widget_set_hexpand(self->services_name, TRUE);
        gtk_widget_set_name(add, "service-add");
        gtk_box_append(GTK_BOX(add_box), self->services_name);
        gtk_box_append(GTK_BOX(add_box), add);
        self->services_error = bh_settings_error_new("services-error");
        gtk_grid_attach(GTK_GRID(grid), intro, 0, 0, 1, 1);
        gtk_grid_attach(GTK_GRID(grid), self->services_list, 0, 1, 1, 1);
        gtk_grid_attach(GTK_GRID(grid), add_box, 0, 2, 1, 1);
        gtk_grid_attach(GTK_GRID(grid), self->services_error, 0, 3, 1, 1);
        g_signal_connect(add, "clicked", G_CALLBACK(on_service_add), self);
        g_signal_connect(self->services_name, "activate", G_CALLBACK(on_service_add), self);
    }

    row = 0;
    bh_page(self->stack, "notes", "Notes", &grid);
    {
        GtkWidget *intro = bh_note("Your own notes about this qube, kept by dom0 (the qube never sees them; "
                                   "<tt>qvm-notes</tt> shows them too). Apply saves them.");
        gtk_label_set_selectable(GTK_LABEL(intro), FALSE);
        gtk_grid_attach(GTK_GRID(grid), intro, 0, row++, 2, 1);
    }
    {
        GtkWidget *view = gtk_text_view_new();
        GtkWidget *scrolled = gtk_scrolled_window_new();

        gtk_text_view_set_wrap_mode(GTK_TEXT_VIEW(view), GTK_WRAP_WORD_CHAR);
        gtk_widget_set_name(view, "notes");
        gtk_scrolled_window_set_min_content_height(GTK_SCROLLED_WINDOW(scrolled), 260);
        gtk_widget_set_hexpand(scrolled, TRUE);
        bh_add_field(self, GTK_GRID(grid), &row, "", "notes", BH_FIELD_TEXT, view);
        /* The view scrolls: the grid's cell gets its scrolled window instead. */
        g_object_ref(view);
        gtk_grid_remove(GTK_GRID(grid), view);
        gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scrolled), view);
        g_object_unref(view);
        gtk_grid_attach(GTK_GRID(grid), scrolled, 1, row - 2, 1, 1);
        self->notes_count = gtk_label_new("");
        gtk_widget_set_name(self->notes_count, "notes-count");
        gtk_label_set_xalign(GTK_LABEL(self->notes_count), 1);
        gtk_widget_add_css_class(self->notes_count, "dim-label");
        gtk_grid_attach(GTK_GRID(grid), self->notes_count, 1, row++, 1, 1);
        g_signal_connect_swapped(gtk_text_view_get_buffer(GTK_TEXT_VIEW(view)), "changed",
                                 G_CALLBACK(bh_notes_count), self);
    }

    self->apply_error = bh_settings_error_new("apply-error");
    self->apply = gtk_button_new_with_label("Apply");
    gtk_widget_set_name(self->apply, "apply");
    gtk_widget_set_hexpand(self->apply, TRUE);
    gtk_widget_set_halign(self->apply, GTK_ALIGN_END);
    gtk_widget_add_css_class(self->apply, "suggested-action");
    gtk_widget_set_name(delete, "delete");
    gtk_widget_add_css_class(delete, "destructive-action");
    gtk_widget_set_name(clone, "clone");
    gtk_widget_set_hexpand(self->apply_error, TRUE);
    gtk_box_append(GTK_BOX(buttons), delete);
    gtk_box_append(GTK_BOX(buttons), clone);
    gtk_box_append(GTK_BOX(buttons), self->apply_error);
    gtk_box_append(GTK_BOX(buttons), self->apply);
    gtk_widget_add_css_class(buttons, "bh-form");

    gtk_widget_set_hexpand(self->stack, TRUE);
    gtk_box_append(GTK_BOX(middle), sidebar);
    gtk_box_append(GTK_BOX(middle), self->stack);
    gtk_widget_set_vexpand(middle, TRUE);
    gtk_widget_add_css_class(self->title, "bh-form");
    gtk_box_append(GTK_BOX(outer), self->title);
    gtk_box_append(GTK_BOX(outer), middle);
    gtk_box_append(GTK_BOX(outer), buttons);
    gtk_window_set_child(GTK_WINDOW(self), outer);
    gtk_window_set_default_size(GTK_WINDOW(self), 720, 520);

    g_signal_connect(self->apply, "clicked", G_CALLBACK(on_apply), self);
    g_signal_connect(delete, "clicked", G_CALLBACK(on_delete), self);
    g_signal_connect(clone, "clicked", G_CALLBACK(on_clone), self);
    g_signal_connect_swapped(bh_settings_context_get_qubes(context), "changed", G_CALLBACK(on_qubes_changed),
                             self);
    g_signal_connect(bh_settings_context_get_admin(context), "property-changed",
                     G_CALLBACK(on_property_changed), self);
    g_signal_connect(bh_settings_context_get_admin(context), "apps-changed", G_CALLBACK(on_apps_changed),
                     self);
    g_signal_connect(bh_settings_context_get_admin(context), "services-changed",
                     G_CALLBACK(on_services_changed), self);
    bh_settings_qube_show_page(self, page);
    bh_update_title(self);
    bh_load(self);
    return self;
}

void bh_settings_qube_show_page(BhSettingsQube *self, const char *page)
{
    if (page != NULL && gtk_stack_get_child_by_name(GTK_STACK(self->stack), page) != NULL)
        gtk_stack_set_visible_child_name(GTK_STACK(self->stack), page);
}

guint bh_settings_qube_get_loads(BhSettingsQube *self)
{
    return self->loads;
}

gboolean bh_settings_qube_is_busy(BhSettingsQube *self)
{
    return self->busy;
}
