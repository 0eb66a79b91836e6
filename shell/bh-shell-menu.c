/* bh-shell-menu.c — the app menu (see the header). */
#define G_LOG_DOMAIN "bh-shell"

#include "bh-shell-menu.h"

#include <string.h>

/* Kinds of launchable entry. App lists from the qubes' agents are not built
 * yet (docs/shell.md); until then every qube offers its terminal. */
typedef enum {
    BH_ENTRY_HEADING,
    BH_ENTRY_QUBE,
    BH_ENTRY_TERMINAL,
    BH_ENTRY_DISPOSABLE_TERMINAL,
} BhEntryKind;

#define BH_TERMINAL_COMMAND "foot"

struct _BhShellMenu {
    GtkPopover parent_instance;
    BhShellQubes *qubes;
    GtkWidget *search;
    GtkWidget *list;
    char *query;
    gboolean stale; /* the qubes changed while it was closed */
};

G_DEFINE_FINAL_TYPE(BhShellMenu, bh_shell_menu, GTK_TYPE_POPOVER)

gboolean bh_shell_menu_match(const char *query, const char *qube, const char *entry)
{
    g_auto(GStrv) words = NULL;
    g_autofree char *haystack = NULL;

    if (query == NULL)
        return TRUE;
    words = g_strsplit_set(query, " \t\n", -1);
    {
        g_autofree char *joined = g_strconcat(qube, " ", entry, NULL);
        haystack = g_utf8_casefold(joined, -1);
    }
    for (char **w = words; *w != NULL; w++) {
        if (**w == '\0')
            continue;
        g_autofree char *needle = g_utf8_casefold(*w, -1);
        if (strstr(haystack, needle) == NULL)
            return FALSE;
    }
    return TRUE;
}

static BhEntryKind row_kind(GtkListBoxRow *row)
{
    return GPOINTER_TO_INT(g_object_get_data(G_OBJECT(row), "bh-kind"));
}

static const char *row_qube(GtkListBoxRow *row)
{
    return g_object_get_data(G_OBJECT(row), "bh-qube");
}

static const char *row_text(GtkListBoxRow *row)
{
    return g_object_get_data(G_OBJECT(row), "bh-text");
}

static gboolean row_is_launcher(GtkListBoxRow *row)
{
    return row_kind(row) == BH_ENTRY_TERMINAL || row_kind(row) == BH_ENTRY_DISPOSABLE_TERMINAL;
}

/* Launchers match on their qube and text; a qube heading is shown when one
 * of its launchers is; a group heading only without a search (with one, the
 * hits are what matters and the qube headings still say whose they are). */
static gboolean row_matches(BhShellMenu *self, GtkListBoxRow *row)
{
    if (row_kind(row) == BH_ENTRY_HEADING)
        return self->query == NULL || *self->query == '\0';
    if (row_is_launcher(row))
        return bh_shell_menu_match(self->query, row_qube(row), row_text(row));
    /* A qube heading: look at the launchers that follow it. */
    for (GtkWidget *next = gtk_widget_get_next_sibling(GTK_WIDGET(row)); next != NULL;
         next = gtk_widget_get_next_sibling(next)) {
        GtkListBoxRow *launcher = GTK_LIST_BOX_ROW(next);
        if (!row_is_launcher(launcher))
            break;
        if (bh_shell_menu_match(self->query, row_qube(launcher), row_text(launcher)))
            return TRUE;
    }
    return FALSE;
}

static gboolean filter_row(GtkListBoxRow *row, gpointer data)
{
    return row_matches(BH_SHELL_MENU(data), row);
}

static void launch(BhShellMenu *self, GtkListBoxRow *row)
{
    switch (row_kind(row)) {
    case BH_ENTRY_TERMINAL:
        bh_shell_qubes_run(self->qubes, row_qube(row), BH_TERMINAL_COMMAND);
        break;
    case BH_ENTRY_DISPOSABLE_TERMINAL:
        bh_shell_qubes_run_disposable(self->qubes, row_qube(row), BH_TERMINAL_COMMAND);
        break;
    default:
        return;
    }
    gtk_popover_popdown(GTK_POPOVER(self));
}

static GtkListBoxRow *first_hit(BhShellMenu *self)
{
    for (GtkWidget *child = gtk_widget_get_first_child(self->list); child != NULL;
         child = gtk_widget_get_next_sibling(child)) {
        GtkListBoxRow *row = GTK_LIST_BOX_ROW(child);
        if (row_is_launcher(row) && row_matches(self, row))
            return row;
    }
    return NULL;
}

static void on_row_activated(GtkListBox *list, GtkListBoxRow *row, BhShellMenu *self)
{
    launch(self, row);
}

static void on_search_changed(GtkSearchEntry *entry, BhShellMenu *self)
{
    GtkListBoxRow *hit;

    g_free(self->query);
    self->query = g_strdup(gtk_editable_get_text(GTK_EDITABLE(entry)));
    gtk_list_box_invalidate_filter(GTK_LIST_BOX(self->list));
    /* The row Enter will run is the selected one: the user sees it. */
    hit = first_hit(self);
    gtk_list_box_select_row(GTK_LIST_BOX(self->list), hit);
}

static void on_search_activate(GtkSearchEntry *entry, BhShellMenu *self)
{
    GtkListBoxRow *hit = first_hit(self);

    if (hit != NULL)
        launch(self, hit);
}

/* Down from the search field moves into the list, at the first hit. */
static gboolean on_search_key(GtkEventControllerKey *controller, guint keyval, guint keycode,
                              GdkModifierType state, BhShellMenu *self)
{
    GtkListBoxRow *hit;

    if (keyval != GDK_KEY_Down && keyval != GDK_KEY_KP_Down)
        return FALSE;
    hit = first_hit(self);
    if (hit == NULL)
        return FALSE;
    gtk_widget_grab_focus(GTK_WIDGET(hit));
    return TRUE;
}

static GtkWidget *heading_new(const char *text)
{
    GtkWidget *label = gtk_label_new(text);

    gtk_label_set_xalign(GTK_LABEL(label), 0);
    gtk_widget_add_css_class(label, "bh-menu-group");
    return label;
}

static GtkWidget *qube_heading_new(BhShellQube *qube)
{
    g_autofree char *label_class = bh_shell_qube_css_class(qube);
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
    GtkWidget *swatch = gtk_label_new(NULL);
    GtkWidget *name = gtk_label_new(bh_shell_qube_get_name(qube));

    gtk_widget_add_css_class(swatch, "bh-swatch");
    gtk_widget_add_css_class(swatch, label_class);
    gtk_widget_set_valign(swatch, GTK_ALIGN_CENTER);
    gtk_widget_add_css_class(name, "bh-menu-qube");
    gtk_box_append(GTK_BOX(box), swatch);
    gtk_box_append(GTK_BOX(box), name);
    return box;
}

/* A launcher under its qube: the label colour runs down its left edge, so
 * every entry is visibly the qube's. */
static GtkWidget *launcher_new(BhShellQube *qube, const char *text)
{
    g_autofree char *label_class = bh_shell_qube_css_class(qube);
    GtkWidget *label = gtk_label_new(text);

    gtk_label_set_xalign(GTK_LABEL(label), 0);
    gtk_widget_add_css_class(label, "bh-menu-launcher");
    gtk_widget_add_css_class(label, label_class);
    return label;
}

static void append_row(BhShellMenu *self, GtkWidget *child, BhEntryKind kind, BhShellQube *qube,
                       const char *text)
{
    GtkWidget *row = gtk_list_box_row_new();

    gtk_list_box_row_set_child(GTK_LIST_BOX_ROW(row), child);
    g_object_set_data(G_OBJECT(row), "bh-kind", GINT_TO_POINTER(kind));
    if (qube != NULL)
        g_object_set_data_full(G_OBJECT(row), "bh-qube", g_strdup(bh_shell_qube_get_name(qube)), g_free);
    g_object_set_data_full(G_OBJECT(row), "bh-text", g_strdup(text), g_free);
    if (kind == BH_ENTRY_HEADING || kind == BH_ENTRY_QUBE) {
        gtk_list_box_row_set_activatable(GTK_LIST_BOX_ROW(row), FALSE);
        gtk_list_box_row_set_selectable(GTK_LIST_BOX_ROW(row), FALSE);
        gtk_widget_set_focusable(row, FALSE);
    }
    gtk_list_box_append(GTK_LIST_BOX(self->list), row);
}

static void rebuild(BhShellMenu *self)
{
    static const char *const group_names[] = {
        [BH_SHELL_GROUP_APPS] = "Apps",
        [BH_SHELL_GROUP_TEMPLATES] = "Templates",
        [BH_SHELL_GROUP_SERVICE] = "Service qubes",
    };
    GListModel *model = bh_shell_qubes_get_model(self->qubes);
    guint n = g_list_model_get_n_items(model);
    GtkWidget *child;

    while ((child = gtk_widget_get_first_child(self->list)) != NULL)
        gtk_list_box_remove(GTK_LIST_BOX(self->list), child);
    for (BhShellGroup group = BH_SHELL_GROUP_APPS; group < BH_SHELL_GROUP_HIDDEN; group++) {
        gboolean headed = FALSE;

        for (guint i = 0; i < n; i++) {
            g_autoptr(BhShellQube) qube = g_list_model_get_item(model, i);

            if (bh_shell_qube_get_group(qube) != group)
                continue;
            if (!headed) {
                append_row(self, heading_new(group_names[group]), BH_ENTRY_HEADING, NULL, group_names[group]);
                headed = TRUE;
            }
            append_row(self, qube_heading_new(qube), BH_ENTRY_QUBE, qube, "");
            append_row(self, launcher_new(qube, "Terminal"), BH_ENTRY_TERMINAL, qube, "Terminal");
            if (bh_shell_qube_is_dispvm_template(qube))
                append_row(self, launcher_new(qube, "New disposable: Terminal"), BH_ENTRY_DISPOSABLE_TERMINAL,
                           qube, "New disposable: Terminal");
        }
    }
    /* Rows were filtered as they came, a qube's heading before its
     * launchers: once more now that every row is there. */
    gtk_list_box_invalidate_filter(GTK_LIST_BOX(self->list));
    self->stale = FALSE;
}

static void on_changed(BhShellQubes *qubes, BhShellMenu *self)
{
    /* A state change does not change the menu's entries; but a reload may
     * have added a qube. Rebuilding while the user types would move the
     * rows under the cursor: wait until it is closed. */
    if (gtk_widget_get_visible(GTK_WIDGET(self)))
        self->stale = TRUE;
    else
        rebuild(self);
}

static void on_show(GtkWidget *widget, BhShellMenu *self)
{
    if (self->stale)
        rebuild(self);
    gtk_editable_set_text(GTK_EDITABLE(self->search), "");
    gtk_widget_grab_focus(self->search);
}

static void bh_shell_menu_dispose(GObject *object)
{
    BhShellMenu *self = BH_SHELL_MENU(object);

    if (self->qubes != NULL)
        g_signal_handlers_disconnect_by_data(self->qubes, self);
    g_clear_object(&self->qubes);
    g_clear_pointer(&self->query, g_free);
    G_OBJECT_CLASS(bh_shell_menu_parent_class)->dispose(object);
}

static void bh_shell_menu_class_init(BhShellMenuClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = bh_shell_menu_dispose;
}

static void bh_shell_menu_init(BhShellMenu *self)
{
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
    GtkWidget *scroller = gtk_scrolled_window_new();
    GtkEventController *keys = gtk_event_controller_key_new();

    gtk_widget_add_css_class(GTK_WIDGET(self), "bh-menu");
    self->search = gtk_search_entry_new();
    g_object_set(self->search, "placeholder-text", "Search qubes and apps", NULL);
    g_signal_connect(self->search, "search-changed", G_CALLBACK(on_search_changed), self);
    g_signal_connect(self->search, "activate", G_CALLBACK(on_search_activate), self);
    g_signal_connect(keys, "key-pressed", G_CALLBACK(on_search_key), self);
    gtk_widget_add_controller(self->search, keys);
    /* Results follow every key: the list is small and filtering is cheap. */
    gtk_search_entry_set_search_delay(GTK_SEARCH_ENTRY(self->search), 0);

    self->list = gtk_list_box_new();
    gtk_list_box_set_selection_mode(GTK_LIST_BOX(self->list), GTK_SELECTION_SINGLE);
    gtk_list_box_set_filter_func(GTK_LIST_BOX(self->list), filter_row, self, NULL);
    g_signal_connect(self->list, "row-activated", G_CALLBACK(on_row_activated), self);
    gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroller), self->list);
    gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(scroller), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
    gtk_scrolled_window_set_propagate_natural_height(GTK_SCROLLED_WINDOW(scroller), TRUE);
    gtk_scrolled_window_set_max_content_height(GTK_SCROLLED_WINDOW(scroller), 600);
    gtk_widget_set_size_request(scroller, 320, -1);

    gtk_box_append(GTK_BOX(box), self->search);
    gtk_box_append(GTK_BOX(box), scroller);
    gtk_popover_set_child(GTK_POPOVER(self), box);
    gtk_popover_set_has_arrow(GTK_POPOVER(self), FALSE);
    g_signal_connect(self, "show", G_CALLBACK(on_show), self);
}

GtkWidget *bh_shell_menu_new(BhShellQubes *qubes)
{
    BhShellMenu *self = g_object_new(BH_TYPE_SHELL_MENU, NULL);

    self->qubes = g_object_ref(qubes);
    g_signal_connect(qubes, "changed", G_CALLBACK(on_changed), self);
    rebuild(self);
    return GTK_WIDGET(self);
}
