/* bh-settings-manager.c — the qube manager (see the header). */
#define G_LOG_DOMAIN "bh-settings"

#include "bh-settings-manager.h"

#include "bh-settings-util.h"
#include "bh-shell-qube.h"

#include <arpa/inet.h>
#include <string.h>

struct _BhSettingsManager {
    GtkWindow parent_instance;
    BhSettingsContext *context;
    GListStore *rows; /* the qubes, refilled on every change */
    GtkCustomFilter *filter;
    GtkSortListModel *sorted;
    GtkMultiSelection *selection;
    GtkWidget *view, *search, *status;
    char *failed; /* the last action's refusal, until the next action */
    GCancellable *cancellable;
    guint usage_timer, usage_soon;
    guint usage_loads;
};

/* Disk use is measured by the daemon off its loop; it has no signal, so the
 * manager asks when it opens and then every this many seconds. */
#define BH_MANAGER_USAGE_SECONDS 30

G_DEFINE_FINAL_TYPE(BhSettingsManager, bh_settings_manager, GTK_TYPE_WINDOW)

/* ---- columns ---------------------------------------------------------------- */

typedef const char *(*BhQubeText)(BhShellQube *);

static const char *text_template(BhShellQube *q)
{
    return bh_shell_qube_get_template(q);
}

static const char *text_netvm(BhShellQube *q)
{
    return bh_shell_qube_get_netvm(q);
}

/* GtkInscription, not GtkLabel: made for list cells (no size negotiation
 * with its text), and GTK 4.8's lists build cells for up to 200 rows
 * whatever is visible (bench/settings). */
static const char *text_memory(BhShellQube *q)
{
    return bh_shell_qube_get_memory(q);
}

static const char *text_disk(BhShellQube *q)
{
    return bh_shell_qube_get_private_size(q);
}

/* What GetDiskUsage last said, kept on the qube's object ("" until then). */
static const char *text_used(BhShellQube *q)
{
    const char *cell = g_object_get_data(G_OBJECT(q), "bh-disk-used");

    return cell != NULL ? cell : "";
}

/* An address as a number, so 10.137.0.10 sorts after 10.137.0.9; 0 for "". */
static guint32 bh_ip_value(const char *ip)
{
    guint32 addr = 0;

    return *ip != '\0' && inet_pton(AF_INET, ip, &addr) == 1 ? ntohl(addr) : 0;
}

static void on_setup_text(GtkSignalListItemFactory *factory, GtkListItem *item, gpointer data)
{
    GtkWidget *label = gtk_inscription_new(NULL);

    gtk_inscription_set_min_chars(GTK_INSCRIPTION(label), 6);
    gtk_inscription_set_nat_chars(GTK_INSCRIPTION(label), 14);
    gtk_inscription_set_text_overflow(GTK_INSCRIPTION(label), GTK_INSCRIPTION_OVERFLOW_ELLIPSIZE_END);
    gtk_list_item_set_child(item, label);
}

static void on_bind_text(GtkSignalListItemFactory *factory, GtkListItem *item, BhQubeText text)
{
    BhShellQube *qube = gtk_list_item_get_item(item);
    GtkWidget *label = gtk_list_item_get_child(item);

    gtk_inscription_set_text(GTK_INSCRIPTION(label), text(qube));
    if (text == bh_shell_qube_get_state) {
        gboolean running = g_str_equal(bh_shell_qube_get_state(qube), "Running");
        if (running)
            gtk_widget_add_css_class(label, "bh-state-running");
        else
            gtk_widget_remove_css_class(label, "bh-state-running");
    }
}

static void on_setup_swatch(GtkSignalListItemFactory *factory, GtkListItem *item, gpointer data)
{
    GtkWidget *swatch = bh_settings_swatch_new();

    gtk_widget_set_halign(swatch, GTK_ALIGN_CENTER);
    gtk_list_item_set_child(item, swatch);
}

static void on_bind_swatch(GtkSignalListItemFactory *factory, GtkListItem *item, gpointer data)
{
    BhShellQube *qube = gtk_list_item_get_item(item);
    GtkWidget *swatch = gtk_list_item_get_child(item);

    bh_settings_swatch_set_color(BH_SETTINGS_SWATCH(swatch), bh_shell_qube_get_color(qube));
}

static int compare_text(gconstpointer a, gconstpointer b, gpointer data)
{
    BhQubeText text = data;
    int c;

    /* Numbers by value ("800" before "4000"); BhShellQube checked them. */
    if (text == text_memory || text == text_disk || text == text_used) {
        guint64 x = g_ascii_strtoull(text((BhShellQube *)a), NULL, 10);
        guint64 y = g_ascii_strtoull(text((BhShellQube *)b), NULL, 10);
        c = x < y ? -1 : x > y;
    } else if (text == bh_shell_qube_get_ip) {
        guint32 x = bh_ip_value(text((BhShellQube *)a)), y = bh_ip_value(text((BhShellQube *)b));
        c = x < y ? -1 : x > y;
    } else {
        c = g_strcmp0(text((BhShellQube *)a), text((BhShellQube *)b));
    }

    /* Equal cells keep a stable order: by name. */
    return c != 0 ? c
                  : g_strcmp0(bh_shell_qube_get_name((BhShellQube *)a),
                              bh_shell_qube_get_name((BhShellQube *)b));
}

static void bh_add_column(BhSettingsManager *self, const char *title, BhQubeText text, gboolean expand)
{
    GtkListItemFactory *factory = gtk_signal_list_item_factory_new();
    GtkColumnViewColumn *column;
    GtkSorter *sorter;

    if (text == NULL) {
        g_signal_connect(factory, "setup", G_CALLBACK(on_setup_swatch), NULL);
        g_signal_connect(factory, "bind", G_CALLBACK(on_bind_swatch), NULL);
        text = bh_shell_qube_get_label;
    } else {
        g_signal_connect(factory, "setup", G_CALLBACK(on_setup_text), NULL);
        g_signal_connect(factory, "bind", G_CALLBACK(on_bind_text), text);
    }
    column = gtk_column_view_column_new(title, factory);
    sorter = GTK_SORTER(gtk_custom_sorter_new(compare_text, text, NULL));
    gtk_column_view_column_set_sorter(column, sorter);
    gtk_column_view_column_set_expand(column, expand);
    gtk_column_view_column_set_resizable(column, TRUE);
    gtk_column_view_append_column(GTK_COLUMN_VIEW(self->view), column);
    g_object_unref(sorter);
    g_object_unref(column);
}

/* ---- rows, filter, selection ---------------------------------------------- */

static gboolean bh_matches(gpointer item, gpointer data)
{
    BhSettingsManager *self = data;
    BhShellQube *qube = item;
    const char *needle = gtk_editable_get_text(GTK_EDITABLE(self->search));
    const char *fields[] = {bh_shell_qube_get_name(qube),     bh_shell_qube_get_class(qube),
                            bh_shell_qube_get_state(qube),    bh_shell_qube_get_label(qube),
                            bh_shell_qube_get_template(qube), bh_shell_qube_get_netvm(qube)};
    g_autofree char *folded = NULL;

    if (*needle == '\0')
        return TRUE;
    folded = g_utf8_casefold(needle, -1);
    for (gsize i = 0; i < G_N_ELEMENTS(fields); i++) {
        g_autofree char *hay = g_utf8_casefold(fields[i], -1);
        if (strstr(hay, folded) != NULL)
            return TRUE;
    }
    return FALSE;
}

GStrv bh_settings_manager_get_selected(BhSettingsManager *self)
{
    GListModel *model = G_LIST_MODEL(self->selection);
    g_autoptr(GStrvBuilder) names = g_strv_builder_new();

    for (guint i = 0; i < g_list_model_get_n_items(model); i++) {
        if (gtk_selection_model_is_selected(GTK_SELECTION_MODEL(self->selection), i)) {
            g_autoptr(BhShellQube) qube = g_list_model_get_item(model, i);
            g_strv_builder_add(names, bh_shell_qube_get_name(qube));
        }
    }
    return g_strv_builder_end(names);
}

/* The whole list again: a qube's facts change in place in BhShellQubes, and
 * only items-changed makes the table bind them again. The selection is kept
 * by name. */
/* "216 qubes", and the last action's refusal after it: a refill (any
 * qube's change, which can come just after the refusal) must not wipe the
 * daemon's words before the user read them. */
static void bh_show_status(BhSettingsManager *self)
{
    guint n = g_list_model_get_n_items(G_LIST_MODEL(self->rows));
    g_autofree char *text = self->failed != NULL ? g_strdup_printf("%u qubes · %s", n, self->failed)
                                                 : g_strdup_printf("%u qubes", n);

    gtk_label_set_text(GTK_LABEL(self->status), text);
}

static void bh_refill(BhSettingsManager *self)
{
    GListModel *qubes = bh_shell_qubes_get_model(bh_settings_context_get_qubes(self->context));
    g_auto(GStrv) selected = bh_settings_manager_get_selected(self);
    guint n = g_list_model_get_n_items(qubes);
    g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func(g_object_unref);
    GListModel *shown = G_LIST_MODEL(self->selection);

    for (guint i = 0; i < n; i++) {
        g_autoptr(BhShellQube) qube = g_list_model_get_item(qubes, i);
        if (!g_str_equal(bh_shell_qube_get_class(qube), "AdminVM"))
            g_ptr_array_add(items, g_steal_pointer(&qube));
    }
    g_list_store_splice(self->rows, 0, g_list_model_get_n_items(G_LIST_MODEL(self->rows)), items->pdata,
                        items->len);
    for (guint i = 0; i < g_list_model_get_n_items(shown); i++) {
        g_autoptr(BhShellQube) qube = g_list_model_get_item(shown, i);
        if (g_strv_contains((const char *const *)selected, bh_shell_qube_get_name(qube)))
            gtk_selection_model_select_item(GTK_SELECTION_MODEL(self->selection), i, FALSE);
    }
    bh_show_status(self);
}

static void on_search_changed(GtkSearchEntry *entry, BhSettingsManager *self)
{
    gtk_filter_changed(GTK_FILTER(self->filter), GTK_FILTER_CHANGE_DIFFERENT);
}

/* ---- actions ---------------------------------------------------------------- */

static void on_action_failed(BhShellQubes *qubes, const char *qube, const char *action, const char *message,
                             BhSettingsManager *self)
{
    g_free(self->failed);
    self->failed = g_strdup_printf("%s %s: %s", action, qube, message);
    bh_settings_error_set(self->status, NULL);
    bh_show_status(self);
    gtk_widget_set_visible(self->status, TRUE);
}

static void bh_each_selected(BhSettingsManager *self, void (*verb)(BhShellQubes *, const char *))
{
    g_auto(GStrv) names = bh_settings_manager_get_selected(self);

    g_clear_pointer(&self->failed, g_free);
    bh_show_status(self);
    for (guint i = 0; names[i] != NULL; i++)
        verb(bh_settings_context_get_qubes(self->context), names[i]);
}

static void on_start(GtkButton *button, BhSettingsManager *self)
{
    bh_each_selected(self, bh_shell_qubes_start);
}

static void on_shutdown(GtkButton *button, BhSettingsManager *self)
{
    bh_each_selected(self, bh_shell_qubes_shutdown);
}

static void bh_pause_or_resume(BhShellQubes *qubes, const char *name)
{
    BhShellQube *qube = bh_shell_qubes_find(qubes, name);

    if (qube != NULL && g_str_equal(bh_shell_qube_get_state(qube), "Paused"))
        bh_shell_qubes_unpause(qubes, name);
    else
        bh_shell_qubes_pause(qubes, name);
}

static void on_pause(GtkButton *button, BhSettingsManager *self)
{
    bh_each_selected(self, bh_pause_or_resume);
}

static void on_settings(GtkButton *button, BhSettingsManager *self)
{
    g_auto(GStrv) names = bh_settings_manager_get_selected(self);

    for (guint i = 0; names[i] != NULL; i++)
        bh_settings_open(self->context, "qube", names[i], NULL);
}

static void on_activate(GtkColumnView *view, guint position, BhSettingsManager *self)
{
    g_autoptr(BhShellQube) qube = g_list_model_get_item(G_LIST_MODEL(self->selection), position);

    if (qube != NULL)
        bh_settings_open(self->context, "qube", bh_shell_qube_get_name(qube), NULL);
}

static void on_create(GtkButton *button, BhSettingsManager *self)
{
    bh_settings_open(self->context, "create", NULL, NULL);
}

static void on_map(GtkButton *button, BhSettingsManager *self)
{
    bh_settings_open(self->context, "map", NULL, NULL);
}

static void on_global(GtkButton *button, BhSettingsManager *self)
{
    bh_settings_open(self->context, "global", NULL, NULL);
}

typedef struct {
    BhSettingsManager *self; /* strong */
    GtkWidget *dialog, *error, *confirm;
    char **names;
    guint next;
} BhRemoval;

static void bh_removal_free(BhRemoval *removal)
{
    g_object_unref(removal->self);
    g_strfreev(removal->names);
    g_free(removal);
}

static void bh_remove_next(BhRemoval *removal);

static void on_removed(GObject *source, GAsyncResult *result, gpointer data)
{
    BhRemoval *removal = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) reply = g_dbus_proxy_call_finish(G_DBUS_PROXY(source), result, &error);

    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return; /* the dialog is gone, and the record with it */
    if (reply == NULL) {
        g_autofree char *text = bh_settings_error_text(error);
        /* The first refusal stops the rest; what was removed is gone. */
        bh_settings_error_set(removal->error, text);
        return;
    }
    removal->next++;
    bh_remove_next(removal);
}

static void bh_remove_next(BhRemoval *removal)
{
    if (removal->names[removal->next] == NULL) {
        gtk_window_destroy(GTK_WINDOW(removal->dialog));
        return;
    }
    g_dbus_proxy_call(G_DBUS_PROXY(bh_settings_context_get_admin(removal->self->context)), "Remove",
                      g_variant_new("(s)", removal->names[removal->next]), G_DBUS_CALL_FLAGS_NO_AUTO_START,
                      BH_SETTINGS_LONG_CALL_MS, bh_settings_confirm_cancellable(removal->dialog), on_removed,
                      removal);
}

static void on_remove_confirmed(GtkButton *button, BhRemoval *removal)
{
    gtk_widget_set_sensitive(removal->confirm, FALSE);
    bh_remove_next(removal);
}

static void on_remove(GtkButton *button, BhSettingsManager *self)
{
    g_auto(GStrv) names = bh_settings_manager_get_selected(self);
    BhRemoval *removal;
    g_autoptr(GString) markup = NULL;

    if (names[0] == NULL)
        return;
    removal = g_new0(BhRemoval, 1);
    removal->self = g_object_ref(self);
    removal->names = g_steal_pointer(&names);
    markup = g_string_new("Delete ");
    for (guint i = 0; removal->names[i] != NULL; i++) {
        BhShellQube *qube =
            bh_shell_qubes_find(bh_settings_context_get_qubes(self->context), removal->names[i]);
        g_autofree char *name =
            bh_settings_qube_markup(removal->names[i], qube != NULL ? bh_shell_qube_get_color(qube) : "");
        g_string_append_printf(markup, "%s%s", i > 0 ? ", " : "", name);
    }
    g_string_append(markup, " and all their files? This cannot be undone.");
    removal->dialog = bh_settings_confirm_new(GTK_WINDOW(self), "remove-dialog", "Delete qubes", markup->str,
                                              NULL, "Delete", TRUE, &removal->error, &removal->confirm,
                                              removal, (GDestroyNotify)bh_removal_free);
    g_signal_connect(removal->confirm, "clicked", G_CALLBACK(on_remove_confirmed), removal);
    gtk_window_present(GTK_WINDOW(removal->dialog));
}

/* ---- building --------------------------------------------------------------- */

static GtkWidget *bh_button(GtkWidget *box, const char *name, const char *text, GCallback callback,
                            BhSettingsManager *self)
{
    GtkWidget *button = gtk_button_new_with_label(text);

    gtk_widget_set_name(button, name);
    g_signal_connect(button, "clicked", callback, self);
    gtk_box_append(GTK_BOX(box), button);
    return button;
}

/* ---- disk use ------------------------------------------------------------ */

static void bh_refill(BhSettingsManager *self);

static void on_disk_usage(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(BhSettingsManager) self = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) usage = NULL;
    GListModel *qubes;

    if (!bh_dbus_admin1_call_get_disk_usage_finish(BH_DBUS_ADMIN1(source), &usage, result, &error)) {
        if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            g_debug("disk usage: %s", error->message);
        return;
    }
    qubes = bh_shell_qubes_get_model(bh_settings_context_get_qubes(self->context));
    for (guint i = 0; i < g_list_model_get_n_items(qubes); i++) {
        g_autoptr(BhShellQube) qube = g_list_model_get_item(qubes, i);
        guint64 bytes = 0, root = 0;
        gboolean exact = TRUE;

        /* Its private volume and its own root volume together. */
        if (g_variant_lookup(usage, bh_shell_qube_get_name(qube), "(tbt)", &bytes, &exact, &root))
            g_object_set_data_full(G_OBJECT(qube), "bh-disk-used", bh_settings_disk_cell(bytes + root, exact),
                                   g_free);
        else
            g_object_set_data(G_OBJECT(qube), "bh-disk-used", NULL);
    }
    self->usage_loads++;
    bh_refill(self);
}

static gboolean bh_ask_usage(gpointer data)
{
    BhSettingsManager *self = data;

    bh_dbus_admin1_call_get_disk_usage(bh_settings_context_get_admin(self->context),
                                       (const char *const[]){NULL}, self->cancellable, on_disk_usage,
                                       g_object_ref(self));
    return G_SOURCE_CONTINUE;
}

/* A qube changed (it stopped, it was made): its figure may have moved, so
 * ask again shortly, once however many changes come. */
static gboolean bh_usage_soon_fire(gpointer data)
{
    BhSettingsManager *self = data;

    self->usage_soon = 0;
    bh_ask_usage(self);
    return G_SOURCE_REMOVE;
}

static void on_qubes_changed_usage(BhSettingsManager *self)
{
    if (self->usage_soon == 0)
        self->usage_soon = g_timeout_add_seconds(2, bh_usage_soon_fire, self);
}

guint bh_settings_manager_get_usage_loads(BhSettingsManager *self)
{
    return self->usage_loads;
}

static void bh_settings_manager_dispose(GObject *object)
{
    BhSettingsManager *self = BH_SETTINGS_MANAGER(object);

    g_cancellable_cancel(self->cancellable);
    g_clear_object(&self->cancellable);
    g_clear_handle_id(&self->usage_timer, g_source_remove);
    g_clear_handle_id(&self->usage_soon, g_source_remove);
    bh_settings_context_release(&self->context, self);
    g_clear_object(&self->rows);
    g_clear_pointer(&self->failed, g_free);
    G_OBJECT_CLASS(bh_settings_manager_parent_class)->dispose(object);
}

static void bh_settings_manager_class_init(BhSettingsManagerClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = bh_settings_manager_dispose;
}

static void bh_settings_manager_init(BhSettingsManager *self)
{
}

BhSettingsManager *bh_settings_manager_new(BhSettingsContext *context)
{
    BhSettingsManager *self = g_object_new(BH_TYPE_SETTINGS_MANAGER, "title", "Qube manager", NULL);
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
    GtkWidget *toolbar = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
    GtkWidget *scrolled = gtk_scrolled_window_new();
    GtkFilterListModel *filtered;
    GtkSorter *sorter;

    self->context = g_object_ref(context);
    self->rows = g_list_store_new(BH_TYPE_SHELL_QUBE);
    self->filter = gtk_custom_filter_new(bh_matches, self, NULL);
    filtered = gtk_filter_list_model_new(G_LIST_MODEL(g_object_ref(self->rows)), GTK_FILTER(self->filter));
    self->view = gtk_column_view_new(NULL);
    gtk_widget_set_name(self->view, "table");
    sorter = gtk_column_view_get_sorter(GTK_COLUMN_VIEW(self->view));
    self->sorted = gtk_sort_list_model_new(G_LIST_MODEL(filtered), g_object_ref(sorter));
    self->selection = gtk_multi_selection_new(G_LIST_MODEL(self->sorted));
    gtk_column_view_set_model(GTK_COLUMN_VIEW(self->view), GTK_SELECTION_MODEL(self->selection));
    g_object_unref(self->selection); /* the view holds it */
    gtk_column_view_set_show_column_separators(GTK_COLUMN_VIEW(self->view), TRUE);

    bh_add_column(self, "", NULL, FALSE);
    bh_add_column(self, "Name", bh_shell_qube_get_name, TRUE);
    bh_add_column(self, "State", bh_shell_qube_get_state, FALSE);
    bh_add_column(self, "Class", bh_shell_qube_get_class, FALSE);
    bh_add_column(self, "Template", text_template, TRUE);
    bh_add_column(self, "Network", text_netvm, TRUE);
    bh_add_column(self, "IP", bh_shell_qube_get_ip, FALSE);
    bh_add_column(self, "Memory (MiB)", text_memory, FALSE);
    bh_add_column(self, "Disk used (MiB)", text_used, FALSE);
    bh_add_column(self, "Private (MiB)", text_disk, FALSE);

    self->search = gtk_search_entry_new();
    gtk_widget_set_name(self->search, "filter");
    gtk_widget_set_hexpand(self->search, TRUE);
    gtk_editable_set_width_chars(GTK_EDITABLE(self->search), 14);
    gtk_search_entry_set_key_capture_widget(GTK_SEARCH_ENTRY(self->search), GTK_WIDGET(self));
    g_signal_connect(self->search, "search-changed", G_CALLBACK(on_search_changed), self);

    bh_button(toolbar, "create", "Create…", G_CALLBACK(on_create), self);
    bh_button(toolbar, "start", "Start", G_CALLBACK(on_start), self);
    bh_button(toolbar, "shutdown", "Shut down", G_CALLBACK(on_shutdown), self);
    bh_button(toolbar, "pause", "Pause/Resume", G_CALLBACK(on_pause), self);
    bh_button(toolbar, "settings", "Settings", G_CALLBACK(on_settings), self);
    bh_button(toolbar, "remove", "Delete…", G_CALLBACK(on_remove), self);
    gtk_box_append(GTK_BOX(toolbar), self->search);
    bh_button(toolbar, "map", "Network map", G_CALLBACK(on_map), self);
    bh_button(toolbar, "global", "Global settings", G_CALLBACK(on_global), self);
    gtk_widget_add_css_class(toolbar, "bh-form");

    self->status = gtk_label_new(NULL);
    gtk_widget_set_name(self->status, "status");
    gtk_label_set_xalign(GTK_LABEL(self->status), 0);
    gtk_widget_add_css_class(self->status, "bh-form");

    gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scrolled), self->view);
    gtk_widget_set_vexpand(scrolled, TRUE);
    gtk_box_append(GTK_BOX(box), toolbar);
    gtk_box_append(GTK_BOX(box), scrolled);
    gtk_box_append(GTK_BOX(box), self->status);
    gtk_window_set_child(GTK_WINDOW(self), box);
    gtk_window_set_default_size(GTK_WINDOW(self), 1150, 640);

    g_signal_connect(self->view, "activate", G_CALLBACK(on_activate), self);
    g_signal_connect_swapped(bh_settings_context_get_qubes(context), "changed", G_CALLBACK(bh_refill), self);
    g_signal_connect(bh_settings_context_get_qubes(context), "action-failed", G_CALLBACK(on_action_failed),
                     self);
    bh_refill(self);
    self->cancellable = g_cancellable_new();
    bh_ask_usage(self);
    self->usage_timer = g_timeout_add_seconds(BH_MANAGER_USAGE_SECONDS, bh_ask_usage, self);
    g_signal_connect_swapped(bh_settings_context_get_qubes(context), "changed",
                             G_CALLBACK(on_qubes_changed_usage), self);
    return self;
}

GListModel *bh_settings_manager_get_rows(BhSettingsManager *self)
{
    return G_LIST_MODEL(self->selection);
}
