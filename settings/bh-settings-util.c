/* bh-settings-util.c — pieces every settings window uses (see the header). */
#define G_LOG_DOMAIN "bh-settings"

#include "bh-settings-util.h"

#include "bh-shell-qube.h"
#include "bh-dbus-error.h"
#include "bulkhead/qubes.h"

#include <string.h>

char *bh_settings_error_text(const GError *error)
{
    g_autoptr(GError) copy = g_error_copy(error);

    if (g_dbus_error_is_remote_error(copy))
        g_dbus_error_strip_remote_error(copy);
    return g_strdup(copy->message);
}

GtkWidget *bh_settings_error_new(const char *widget_name)
{
    GtkWidget *label = gtk_label_new(NULL);

    gtk_widget_set_name(label, widget_name);
    gtk_widget_add_css_class(label, "bh-error");
    gtk_label_set_wrap(GTK_LABEL(label), TRUE);
    gtk_label_set_xalign(GTK_LABEL(label), 0);
    gtk_label_set_max_width_chars(GTK_LABEL(label), 60);
    gtk_label_set_selectable(GTK_LABEL(label), TRUE);
    gtk_widget_set_visible(label, FALSE);
    return label;
}

void bh_settings_error_set(GtkWidget *error_label, const char *message)
{
    gboolean shown = message != NULL && *message != '\0';

    /* Plain text, never markup: the message may quote what the user typed. */
    gtk_label_set_text(GTK_LABEL(error_label), shown ? message : "");
    gtk_widget_set_visible(error_label, shown);
}

GtkWidget *bh_settings_choice_new(const char *widget_name)
{
    GtkWidget *choice = gtk_drop_down_new(G_LIST_MODEL(gtk_string_list_new(NULL)), NULL);

    gtk_widget_set_name(choice, widget_name);
    return choice;
}

void bh_settings_choice_set(GtkWidget *choice, const char *const *values, const char *const *texts,
                            const char *selected)
{
    GtkStringList *list = gtk_string_list_new(texts);
    guint position = 0;

    for (guint i = 0; values[i] != NULL; i++) {
        if (g_strcmp0(values[i], selected) == 0)
            position = i;
    }
    g_object_set_data_full(G_OBJECT(choice), "bh-values", g_strdupv((char **)values),
                           (GDestroyNotify)g_strfreev);
    gtk_drop_down_set_model(GTK_DROP_DOWN(choice), G_LIST_MODEL(list));
    g_object_unref(list);
    gtk_drop_down_set_selected(GTK_DROP_DOWN(choice), position);
}

const char *bh_settings_choice_get(GtkWidget *choice)
{
    char **values = g_object_get_data(G_OBJECT(choice), "bh-values");
    guint position = gtk_drop_down_get_selected(GTK_DROP_DOWN(choice));

    if (values == NULL || position == GTK_INVALID_LIST_POSITION || position >= g_strv_length(values))
        return "";
    return values[position];
}

gboolean bh_settings_choice_select(GtkWidget *choice, const char *value)
{
    char **values = g_object_get_data(G_OBJECT(choice), "bh-values");

    for (guint i = 0; values != NULL && values[i] != NULL; i++) {
        if (g_str_equal(values[i], value)) {
            gtk_drop_down_set_selected(GTK_DROP_DOWN(choice), i);
            return TRUE;
        }
    }
    return FALSE;
}

/* ---- labels ---------------------------------------------------------------- */

static void on_swatch_toggled(GtkToggleButton *button, GtkWidget *picker)
{
    if (!gtk_toggle_button_get_active(button))
        return;
    BhPickerChanged changed = (BhPickerChanged)g_object_get_data(G_OBJECT(picker), "bh-changed");

    g_object_set_data_full(G_OBJECT(picker), "bh-selected",
                           g_strdup(g_object_get_data(G_OBJECT(button), "bh-label")), g_free);
    if (changed != NULL)
        changed(g_object_get_data(G_OBJECT(picker), "bh-changed-data"));
}

GtkWidget *bh_settings_label_picker_new(GPtrArray *labels, BhPickerChanged changed, gpointer data)
{
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 4);
    GtkToggleButton *group = NULL;

    gtk_widget_set_name(box, "label");
    g_object_set_data(G_OBJECT(box), "bh-changed", (gpointer)changed);
    g_object_set_data(G_OBJECT(box), "bh-changed-data", data);
    for (guint i = 0; i < labels->len; i++) {
        BhSettingsLabel *label = labels->pdata[i];
        g_autofree char *name = g_strconcat("label-", label->name, NULL);
        g_autofree char *css = g_strconcat("bh-label-", label->name, NULL);
        GtkWidget *button = gtk_toggle_button_new();

        gtk_widget_set_name(button, name);
        gtk_widget_set_tooltip_text(button, label->name);
        gtk_widget_add_css_class(button, "bh-swatch-button");
        gtk_widget_add_css_class(button, css);
        g_object_set_data_full(G_OBJECT(button), "bh-label", g_strdup(label->name), g_free);
        if (group != NULL)
            gtk_toggle_button_set_group(GTK_TOGGLE_BUTTON(button), group);
        else
            group = GTK_TOGGLE_BUTTON(button);
        g_signal_connect(button, "toggled", G_CALLBACK(on_swatch_toggled), box);
        gtk_box_append(GTK_BOX(box), button);
    }
    return box;
}

const char *bh_settings_label_picker_get(GtkWidget *picker)
{
    const char *label = g_object_get_data(G_OBJECT(picker), "bh-selected");
    return label != NULL ? label : "";
}

void bh_settings_label_picker_set(GtkWidget *picker, const char *label)
{
    for (GtkWidget *child = gtk_widget_get_first_child(picker); child != NULL;
         child = gtk_widget_get_next_sibling(child)) {
        if (g_strcmp0(g_object_get_data(G_OBJECT(child), "bh-label"), label) == 0)
            gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(child), TRUE);
    }
}

static guint32 bh_parse_rgb(const char *color)
{
    return (guint32)g_ascii_strtoull(color + 1, NULL, 16);
}

const char *bh_settings_text_on(const char *color)
{
    /* The model's contrast rule, on the colour the daemon reported. */
    BhLabel probe = {.rgb = bh_parse_rgb(color)};
    return bh_label_text_rgb(&probe) == 0 ? "#000000" : "#ffffff";
}

char *bh_settings_label_css(GPtrArray *labels)
{
    GString *css = g_string_new(NULL);

    for (guint i = 0; i < labels->len; i++) {
        BhSettingsLabel *label = labels->pdata[i];

        if (!bh_shell_label_name_is_valid(label->name) || !bh_shell_color_is_valid(label->color))
            continue;
        g_string_append_printf(css,
                               ".bh-label-%s { background-color: %s; background-image: none; color: %s; }\n"
                               ".bh-swatch-button.bh-label-%s:checked { outline: 3px solid %s; }\n",
                               label->name, label->color, bh_settings_text_on(label->color), label->name,
                               label->color);
    }
    return g_string_free(css, FALSE);
}

char *bh_settings_qube_markup(const char *name, const char *color)
{
    if (!bh_shell_color_is_valid(color))
        return g_markup_printf_escaped("<b>%s</b>", name);
    return g_markup_printf_escaped("<span background=\"%s\" foreground=\"%s\"><b> %s </b></span>", color,
                                   bh_settings_text_on(color), name);
}

void bh_settings_grid_row(GtkGrid *grid, int *row, const char *caption, GtkWidget *widget, GtkWidget *error)
{
    GtkWidget *label = gtk_label_new(caption);

    gtk_label_set_xalign(GTK_LABEL(label), 1);
    gtk_widget_add_css_class(label, "dim-label");
    gtk_grid_attach(grid, label, 0, *row, 1, 1);
    gtk_widget_set_hexpand(widget, TRUE);
    gtk_grid_attach(grid, widget, 1, *row, 1, 1);
    (*row)++;
    if (error != NULL) {
        gtk_grid_attach(grid, error, 1, *row, 1, 1);
        (*row)++;
    }
}

const char *bh_settings_error_field(const GError *error)
{
    static const char *const named[] = {"memory", "vcpus",        "provides_network", "label", "template",
                                        "netvm",  "private_size", "root_size",        NULL};

    if (error->domain != BH_DBUS_ERROR)
        return NULL;
    switch (error->code) {
    case BH_DBUS_ERROR_INVALID_NAME:
    case BH_DBUS_ERROR_NAME_IN_USE:
        return "name";
    case BH_DBUS_ERROR_NOT_A_TEMPLATE:
    case BH_DBUS_ERROR_NOT_DISPVM_TEMPLATE:
        return "template";
    case BH_DBUS_ERROR_NOT_NETWORK_PROVIDER:
    case BH_DBUS_ERROR_NETWORK_LOOP:
        return "netvm";
    case BH_DBUS_ERROR_INVALID_VALUE:
        /* The model's value errors start with the property or quote it. */
        for (guint i = 0; named[i] != NULL; i++) {
            if (strstr(error->message, named[i]) != NULL)
                return named[i];
        }
        return NULL;
    default:
        return NULL;
    }
}

/* ---- Apply ------------------------------------------------------------------ */

typedef struct {
    char *method;
    GVariant *params;
    GtkWidget *error_line; /* the window owns it; the owner is held */
    gpointer item;
} BhApplyCall;

struct _BhSettingsApply {
    GDBusProxy *proxy;
    GCancellable *cancellable;
    GObject *owner;
    GtkWidget *button, *status; /* the owner's */
    BhApplySent sent;
    BhApplyDone done;
    GQueue calls;
    BhApplyCall *current;
};

static void bh_apply_call_free(BhApplyCall *call)
{
    g_free(call->method);
    g_variant_unref(call->params);
    g_free(call);
}

static void bh_apply_free(BhSettingsApply *apply)
{
    g_queue_clear_full(&apply->calls, (GDestroyNotify)bh_apply_call_free);
    g_clear_pointer(&apply->current, bh_apply_call_free);
    g_object_unref(apply->proxy);
    g_clear_object(&apply->cancellable);
    g_object_unref(apply->owner);
    g_free(apply);
}

BhSettingsApply *bh_settings_apply_new(GDBusProxy *proxy, GCancellable *cancellable, gpointer owner,
                                       GtkWidget *button, GtkWidget *status, BhApplySent sent,
                                       BhApplyDone done)
{
    BhSettingsApply *apply = g_new0(BhSettingsApply, 1);

    apply->proxy = g_object_ref(proxy);
    apply->cancellable = cancellable != NULL ? g_object_ref(cancellable) : NULL;
    apply->owner = g_object_ref(owner);
    apply->button = button;
    apply->status = status;
    bh_settings_error_set(status, NULL);
    gtk_widget_set_sensitive(button, FALSE);
    apply->sent = sent;
    apply->done = done;
    g_queue_init(&apply->calls);
    return apply;
}

void bh_settings_apply_add(BhSettingsApply *apply, const char *method, GVariant *params,
                           GtkWidget *error_line, gpointer item)
{
    BhApplyCall *call = g_new0(BhApplyCall, 1);

    call->method = g_strdup(method);
    call->params = g_variant_ref_sink(params);
    call->error_line = error_line;
    call->item = item;
    bh_settings_error_set(error_line, NULL);
    g_queue_push_tail(&apply->calls, call);
}

static void on_apply_reply(GObject *source, GAsyncResult *result, gpointer data)
{
    BhSettingsApply *apply = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) reply = g_dbus_proxy_call_finish(G_DBUS_PROXY(source), result, &error);

    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        bh_apply_free(apply); /* the window is going away */
        return;
    }
    if (reply == NULL) {
        g_autofree char *text = bh_settings_error_text(error);
        /* Under the field; the form keeps what was typed, and the calls not
         * yet sent stay unsent: nothing half-applied is hidden. */
        bh_settings_error_set(apply->current->error_line, text);
        bh_settings_error_set(apply->status, "Not everything was applied: see the message above.");
        gtk_widget_set_sensitive(apply->button, TRUE);
        apply->done(apply->owner, FALSE);
        bh_apply_free(apply);
        return;
    }
    if (apply->sent != NULL)
        apply->sent(apply->owner, apply->current->item);
    bh_settings_apply_run(apply);
}

void bh_settings_apply_run(BhSettingsApply *apply)
{
    g_clear_pointer(&apply->current, bh_apply_call_free);
    apply->current = g_queue_pop_head(&apply->calls);
    if (apply->current == NULL) {
        gtk_widget_set_sensitive(apply->button, TRUE);
        apply->done(apply->owner, TRUE);
        bh_apply_free(apply);
        return;
    }
    g_dbus_proxy_call(apply->proxy, apply->current->method, apply->current->params,
                      G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, apply->cancellable, on_apply_reply, apply);
}

/* ---- confirmations ----------------------------------------------------------- */

GtkWidget *bh_settings_confirm_new(GtkWindow *parent, const char *name, const char *title, const char *markup,
                                   GtkWidget *extra, const char *confirm_text, gboolean destructive,
                                   GtkWidget **error, GtkWidget **confirm, gpointer data,
                                   GDestroyNotify free_data)
{
    GtkWidget *dialog = gtk_window_new();
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 10);
    GtkWidget *question = gtk_label_new(NULL);
    GtkWidget *buttons = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
    GtkWidget *cancel = gtk_button_new_with_label("Cancel");
    g_autofree char *stem =
        g_str_has_suffix(name, "-dialog") ? g_strndup(name, strlen(name) - 7) : g_strdup(name);
    g_autofree char *error_name = g_strconcat(stem, "-error", NULL);
    g_autofree char *confirm_name = g_strconcat(stem, "-confirm", NULL);

    gtk_window_set_title(GTK_WINDOW(dialog), title);
    gtk_window_set_transient_for(GTK_WINDOW(dialog), parent);
    gtk_window_set_modal(GTK_WINDOW(dialog), TRUE);
    gtk_widget_set_name(dialog, name);
    gtk_widget_add_css_class(box, "bh-form");
    gtk_label_set_markup(GTK_LABEL(question), markup);
    gtk_label_set_wrap(GTK_LABEL(question), TRUE);
    gtk_label_set_max_width_chars(GTK_LABEL(question), 60);
    gtk_widget_set_name(question, "question");
    gtk_box_append(GTK_BOX(box), question);
    if (extra != NULL)
        gtk_box_append(GTK_BOX(box), extra);
    *error = bh_settings_error_new(error_name);
    gtk_box_append(GTK_BOX(box), *error);
    *confirm = gtk_button_new_with_label(confirm_text);
    gtk_widget_set_name(*confirm, confirm_name);
    gtk_widget_add_css_class(*confirm, destructive ? "destructive-action" : "suggested-action");
    gtk_widget_set_halign(buttons, GTK_ALIGN_END);
    gtk_box_append(GTK_BOX(buttons), cancel);
    gtk_box_append(GTK_BOX(buttons), *confirm);
    gtk_box_append(GTK_BOX(box), buttons);
    gtk_window_set_child(GTK_WINDOW(dialog), box);
    g_signal_connect_swapped(cancel, "clicked", G_CALLBACK(gtk_window_destroy), dialog);
    /* The caller's record lives as long as the dialog; a call still on its
     * way when the dialog goes is cancelled, so its reply never reads it. */
    g_object_set_data_full(G_OBJECT(dialog), "bh-confirm", data, free_data);
    g_object_set_data_full(G_OBJECT(dialog), "bh-cancellable", g_cancellable_new(), g_object_unref);
    g_signal_connect_swapped(dialog, "destroy", G_CALLBACK(g_cancellable_cancel),
                             g_object_get_data(G_OBJECT(dialog), "bh-cancellable"));
    return dialog;
}

GCancellable *bh_settings_confirm_cancellable(GtkWidget *dialog)
{
    return g_object_get_data(G_OBJECT(dialog), "bh-cancellable");
}

/* ---- the manager's swatch -------------------------------------------------- */

struct _BhSettingsSwatch {
    GtkWidget parent_instance;
    GdkRGBA color;
};

G_DEFINE_FINAL_TYPE(BhSettingsSwatch, bh_settings_swatch, GTK_TYPE_WIDGET)

#define BH_SWATCH_SIZE 14

static void bh_settings_swatch_snapshot(GtkWidget *widget, GtkSnapshot *snapshot)
{
    BhSettingsSwatch *self = BH_SETTINGS_SWATCH(widget);
    graphene_rect_t r = GRAPHENE_RECT_INIT(0, (gtk_widget_get_height(widget) - BH_SWATCH_SIZE) / 2.0,
                                           BH_SWATCH_SIZE, BH_SWATCH_SIZE);

    gtk_snapshot_append_color(snapshot, &self->color, &r);
}

static void bh_settings_swatch_measure(GtkWidget *widget, GtkOrientation orientation, int for_size,
                                       int *minimum, int *natural, int *minimum_baseline,
                                       int *natural_baseline)
{
    *minimum = *natural = BH_SWATCH_SIZE;
}

static void bh_settings_swatch_class_init(BhSettingsSwatchClass *klass)
{
    GTK_WIDGET_CLASS(klass)->snapshot = bh_settings_swatch_snapshot;
    GTK_WIDGET_CLASS(klass)->measure = bh_settings_swatch_measure;
}

static void bh_settings_swatch_init(BhSettingsSwatch *self)
{
    self->color = (GdkRGBA){0.5, 0.5, 0.5, 1};
}

GtkWidget *bh_settings_swatch_new(void)
{
    return g_object_new(BH_TYPE_SETTINGS_SWATCH, NULL);
}

void bh_settings_swatch_set_color(BhSettingsSwatch *self, const char *color)
{
    GdkRGBA parsed = {0.5, 0.5, 0.5, 1};

    if (bh_shell_color_is_valid(color))
        gdk_rgba_parse(&parsed, color);
    if (gdk_rgba_equal(&parsed, &self->color))
        return;
    self->color = parsed;
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

guint bh_settings_apps_fill(GtkWidget *list, GVariant *apps, const char *qube, gboolean tick_all,
                            GCallback toggled)
{
    GtkWidget *child;
    GVariantIter iter;
    const char *id, *name;
    gboolean in_menu;
    guint n = 0;

    while ((child = gtk_widget_get_first_child(list)) != NULL)
        gtk_list_box_remove(GTK_LIST_BOX(list), child);
    g_variant_iter_init(&iter, apps);
    while (n < BH_SETTINGS_MAX_APPS && g_variant_iter_next(&iter, "(&s&s&s&s&sbuu@ay)", &id, &name, NULL,
                                                           NULL, NULL, &in_menu, NULL, NULL, NULL)) {
        g_autofree char *text = g_strdup_printf("[%s] %s", qube, name);
        g_autofree char *widget_name = g_strconcat("app-", id, NULL);
        GtkWidget *check = gtk_check_button_new_with_label(text);

        gtk_widget_set_name(check, widget_name);
        gtk_widget_set_tooltip_text(check, id);
        g_object_set_data_full(G_OBJECT(check), "bh-id", g_strdup(id), g_free);
        gtk_check_button_set_active(GTK_CHECK_BUTTON(check), tick_all || in_menu);
        if (toggled != NULL)
            g_signal_connect(check, "toggled", toggled, list);
        gtk_list_box_append(GTK_LIST_BOX(list), check);
        n++;
    }
    return n;
}

void bh_settings_apps_touch(GtkCheckButton *check, GtkWidget *list)
{
    g_object_set_data(G_OBJECT(list), "bh-touched", GINT_TO_POINTER(TRUE));
}

char *bh_settings_apps_value(GtkWidget *list)
{
    g_autoptr(GString) ids = g_string_new(NULL);
    gboolean all = TRUE;
    guint n = 0;

    for (GtkWidget *row = gtk_widget_get_first_child(list); row != NULL;
         row = gtk_widget_get_next_sibling(row)) {
        GtkWidget *check = gtk_list_box_row_get_child(GTK_LIST_BOX_ROW(row));
        const char *id = g_object_get_data(G_OBJECT(check), "bh-id");

        n++;
        if (!gtk_check_button_get_active(GTK_CHECK_BUTTON(check))) {
            all = FALSE;
            continue;
        }
        g_string_append_printf(ids, "%s%s", ids->len > 0 ? " " : "", id);
    }
    if (n == 0)
        return NULL;
    return all ? g_strdup("all") : g_strdup(ids->str);
}

static guint64 bh_mib_up(guint64 bytes)
{
    return (bytes + (1u << 20) - 1) >> 20;
}

char *bh_settings_disk_text(guint64 bytes, gboolean exact, const char *limit_mib)
{
    g_autofree char *used =
        g_strdup_printf("%s%" G_GUINT64_FORMAT " MiB", exact ? "" : "at least ", bh_mib_up(bytes));

    if (limit_mib == NULL || *limit_mib == '\0')
        return g_strdup_printf("%s on dom0's disk", used);
    return g_strdup_printf("%s on dom0's disk, of %s MiB", used, limit_mib);
}

char *bh_settings_disk_cell(guint64 bytes, gboolean exact)
{
    return g_strdup_printf("%" G_GUINT64_FORMAT "%s", bh_mib_up(bytes), exact ? "" : "+");
}
