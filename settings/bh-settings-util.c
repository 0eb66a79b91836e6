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
    static const char *const named[] = {"memory", "vcpus", "provides_network", "label", "template",
                                        "netvm",  NULL};

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
