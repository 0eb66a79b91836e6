/* bh-shell-menu.c — the app menu (see the header). */
#define G_LOG_DOMAIN "bh-shell"

#include "bh-shell-menu.h"

#include "bh-shell-apps.h"

#include <string.h>

/* Kinds of row. Every qube offers its terminal; the apps come from its list
 * (ListApps, bh-shell-apps.c). */
typedef enum {
    BH_ENTRY_HEADING,
    BH_ENTRY_QUBE,
    BH_ENTRY_NOTE, /* dom0's words under a qube: why its list was refused */
    BH_ENTRY_TERMINAL,
    BH_ENTRY_DISPOSABLE_TERMINAL,
    BH_ENTRY_APP,
    BH_ENTRY_DISPOSABLE_APP,
} BhEntryKind;

/* What a row matches on is kept casefolded beside it, so a search costs one
 * strstr per word and row (3 000 rows: bench/shell). */
#define BH_ICON_SIZE 20

#define BH_TERMINAL_COMMAND "foot"

struct _BhShellMenu {
    GtkPopover parent_instance;
    BhShellQubes *qubes;
    BhShellApps *apps;
    GtkWidget *search;
    GtkWidget *list;
    char *query;
    char **words;   /* the query's words, casefolded; NULL: no query */
    gboolean stale; /* the qubes or their apps changed while it was open */
};

G_DEFINE_FINAL_TYPE(BhShellMenu, bh_shell_menu, GTK_TYPE_POPOVER)

/* Every word in the haystack (both casefolded). */
static gboolean words_in(char *const *words, const char *haystack)
{
    for (char *const *w = words; w != NULL && *w != NULL; w++)
        if (**w != '\0' && strstr(haystack, *w) == NULL)
            return FALSE;
    return TRUE;
}

static char **query_words(const char *query)
{
    g_autofree char *folded = NULL;

    if (query == NULL || *query == '\0')
        return NULL;
    folded = g_utf8_casefold(query, -1);
    return g_strsplit_set(folded, " \t\n", -1);
}

gboolean bh_shell_menu_match(const char *query, const char *qube, const char *entry)
{
    g_auto(GStrv) words = query_words(query);
    g_autofree char *joined = g_strconcat(qube, " ", entry, NULL);
    g_autofree char *haystack = g_utf8_casefold(joined, -1);

    return words_in(words, haystack);
}

static BhEntryKind row_kind(GtkListBoxRow *row)
{
    return GPOINTER_TO_INT(g_object_get_data(G_OBJECT(row), "bh-kind"));
}

static const char *row_qube(GtkListBoxRow *row)
{
    return g_object_get_data(G_OBJECT(row), "bh-qube");
}

static const char *row_id(GtkListBoxRow *row)
{
    return g_object_get_data(G_OBJECT(row), "bh-id");
}

static const char *row_haystack(GtkListBoxRow *row)
{
    return g_object_get_data(G_OBJECT(row), "bh-haystack");
}

static gboolean row_is_launcher(GtkListBoxRow *row)
{
    return row_kind(row) >= BH_ENTRY_TERMINAL;
}

/* Launchers match on their qube and text; a qube heading is shown when one
 * of its launchers is; a group heading only without a search (with one, the
 * hits are what matters and the qube headings still say whose they are). */
static gboolean row_matches(BhShellMenu *self, GtkListBoxRow *row)
{
    if (row_kind(row) == BH_ENTRY_HEADING)
        return self->words == NULL;
    /* A refusal shows whenever its qube is searched for. */
    if (row_kind(row) == BH_ENTRY_NOTE)
        return words_in(self->words, row_haystack(row));
    if (row_is_launcher(row))
        return words_in(self->words, row_haystack(row));
    /* A qube heading: look at the launchers that follow it. */
    for (GtkWidget *next = gtk_widget_get_next_sibling(GTK_WIDGET(row)); next != NULL;
         next = gtk_widget_get_next_sibling(next)) {
        GtkListBoxRow *launcher = GTK_LIST_BOX_ROW(next);
        if (row_kind(launcher) == BH_ENTRY_NOTE)
            continue;
        if (!row_is_launcher(launcher))
            break;
        if (words_in(self->words, row_haystack(launcher)))
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
    case BH_ENTRY_APP:
        bh_shell_apps_run(self->apps, row_qube(row), row_id(row));
        break;
    case BH_ENTRY_DISPOSABLE_APP:
        bh_shell_apps_run_disposable(self->apps, row_qube(row), row_id(row));
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
    g_strfreev(self->words);
    self->words = query_words(self->query);
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
 * every entry is visibly the qube's; an app's name (the qube's words) also
 * carries the "[qube]" prefix, so that a hit seen alone in a search never
 * reads as dom0's own entry. */
static GtkWidget *launcher_new(BhShellQube *qube, const char *text, GdkTexture *icon, const char *tooltip)
{
    g_autofree char *label_class = bh_shell_qube_css_class(qube);
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
    GtkWidget *label = gtk_label_new(text);

    gtk_label_set_xalign(GTK_LABEL(label), 0);
    gtk_label_set_ellipsize(GTK_LABEL(label), PANGO_ELLIPSIZE_END);
    gtk_label_set_max_width_chars(GTK_LABEL(label), 48);
    gtk_widget_add_css_class(box, "bh-menu-launcher");
    gtk_widget_add_css_class(box, label_class);
    if (icon != NULL) {
        GtkWidget *image = gtk_image_new_from_paintable(GDK_PAINTABLE(icon));
        gtk_image_set_pixel_size(GTK_IMAGE(image), BH_ICON_SIZE);
        gtk_box_append(GTK_BOX(box), image);
    }
    gtk_box_append(GTK_BOX(box), label);
    if (tooltip != NULL && *tooltip != '\0')
        gtk_widget_set_tooltip_text(box, tooltip);
    return box;
}

static GtkWidget *note_new(const char *text)
{
    GtkWidget *label = gtk_label_new(text);

    gtk_label_set_xalign(GTK_LABEL(label), 0);
    gtk_label_set_wrap(GTK_LABEL(label), TRUE);
    gtk_label_set_max_width_chars(GTK_LABEL(label), 48);
    gtk_widget_add_css_class(label, "bh-menu-note");
    return label;
}

/* search: what the row matches on besides its qube's name. */
static void append_row(BhShellMenu *self, GtkWidget *child, BhEntryKind kind, BhShellQube *qube,
                       const char *id, const char *search)
{
    GtkWidget *row = gtk_list_box_row_new();

    gtk_list_box_row_set_child(GTK_LIST_BOX_ROW(row), child);
    g_object_set_data(G_OBJECT(row), "bh-kind", GINT_TO_POINTER(kind));
    if (qube != NULL)
        g_object_set_data_full(G_OBJECT(row), "bh-qube", g_strdup(bh_shell_qube_get_name(qube)), g_free);
    if (id != NULL)
        g_object_set_data_full(G_OBJECT(row), "bh-id", g_strdup(id), g_free);
    if (qube != NULL && search != NULL) {
        g_autofree char *joined = g_strconcat(bh_shell_qube_get_name(qube), " ", search, NULL);
        g_object_set_data_full(G_OBJECT(row), "bh-haystack", g_utf8_casefold(joined, -1), g_free);
    }
    if (!row_is_launcher(GTK_LIST_BOX_ROW(row))) {
        gtk_list_box_row_set_activatable(GTK_LIST_BOX_ROW(row), FALSE);
        gtk_list_box_row_set_selectable(GTK_LIST_BOX_ROW(row), FALSE);
        gtk_widget_set_focusable(row, FALSE);
    }
    gtk_list_box_append(GTK_LIST_BOX(self->list), row);
}

static void append_app(BhShellMenu *self, BhShellQube *qube, const BhShellAppEntry *app, gboolean disposable)
{
    const char *name = bh_shell_qube_get_name(qube);
    g_autofree char *text = disposable ? g_strdup_printf("New disposable: [%s] %s", name, app->name)
                                       : g_strdup_printf("[%s] %s", name, app->name);
    g_autofree char *search = g_strconcat(disposable ? "new disposable " : "", app->name, " ", app->generic,
                                          " ", app->keywords, NULL);

    append_row(self, launcher_new(qube, text, app->icon, app->generic),
               disposable ? BH_ENTRY_DISPOSABLE_APP : BH_ENTRY_APP, qube, app->id, search);
}

static const BhShellAppEntry *find_app(GPtrArray *apps, const char *id)
{
    for (guint i = 0; apps != NULL && i < apps->len; i++) {
        const BhShellAppEntry *app = g_ptr_array_index(apps, i);
        if (g_str_equal(app->id, id))
            return app;
    }
    return NULL;
}

/* The user's favourites first, each still under its qube's colour and name. */
static void append_favourites(BhShellMenu *self)
{
    const char *const *favourites = bh_shell_apps_get_favourites(self->apps);
    gboolean headed = FALSE;

    for (const char *const *f = favourites; *f != NULL; f++) {
        g_autofree char *qube_name = g_strndup(*f, strchr(*f, '/') - *f);
        BhShellQube *qube = bh_shell_qubes_find(self->qubes, qube_name);
        const BhShellAppEntry *app =
            qube != NULL ? find_app(bh_shell_apps_get(self->apps, qube_name, NULL), strchr(*f, '/') + 1)
                         : NULL;

        if (app == NULL)
            continue;
        if (!headed) {
            append_row(self, heading_new("Favourites"), BH_ENTRY_HEADING, NULL, NULL, NULL);
            headed = TRUE;
        }
        append_app(self, qube, app, FALSE);
    }
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
    append_favourites(self);
    for (BhShellGroup group = BH_SHELL_GROUP_APPS; group < BH_SHELL_GROUP_HIDDEN; group++) {
        gboolean headed = FALSE;

        for (guint i = 0; i < n; i++) {
            g_autoptr(BhShellQube) qube = g_list_model_get_item(model, i);
            const char *problem = "";
            GPtrArray *apps;

            if (bh_shell_qube_get_group(qube) != group)
                continue;
            if (!headed) {
                append_row(self, heading_new(group_names[group]), BH_ENTRY_HEADING, NULL, NULL, NULL);
                headed = TRUE;
            }
            apps = bh_shell_apps_get(self->apps, bh_shell_qube_get_name(qube), &problem);
            append_row(self, qube_heading_new(qube), BH_ENTRY_QUBE, qube, NULL, NULL);
            if (*problem != '\0') {
                g_autofree char *note = g_strdup_printf("App list refused: %s", problem);
                append_row(self, note_new(note), BH_ENTRY_NOTE, qube, NULL, "");
            }
            append_row(self, launcher_new(qube, "Terminal", NULL, NULL), BH_ENTRY_TERMINAL, qube, NULL,
                       "Terminal");
            for (guint a = 0; apps != NULL && a < apps->len; a++) {
                const BhShellAppEntry *app = g_ptr_array_index(apps, a);
                if (app->in_menu)
                    append_app(self, qube, app, FALSE);
            }
            if (bh_shell_qube_is_dispvm_template(qube)) {
                append_row(self, launcher_new(qube, "New disposable: Terminal", NULL, NULL),
                           BH_ENTRY_DISPOSABLE_TERMINAL, qube, NULL, "New disposable: Terminal");
                for (guint a = 0; apps != NULL && a < apps->len; a++) {
                    const BhShellAppEntry *app = g_ptr_array_index(apps, a);
                    if (app->in_menu)
                        append_app(self, qube, app, TRUE);
                }
            }
        }
    }
    /* Rows were filtered as they came, a qube's heading before its
     * launchers: once more now that every row is there. */
    gtk_list_box_invalidate_filter(GTK_LIST_BOX(self->list));
    self->stale = FALSE;
}

/* Ctrl+D or a right click on an app adds it to the favourites or takes it
 * out. */
static void toggle_favourite(BhShellMenu *self, GtkListBoxRow *row)
{
    if (row == NULL || row_kind(row) != BH_ENTRY_APP)
        return;
    bh_shell_apps_toggle_favourite(self->apps, row_qube(row), row_id(row));
    /* The user's own change: shown at once, the search kept. */
    rebuild(self);
}

static gboolean on_list_key(GtkEventControllerKey *controller, guint keyval, guint keycode,
                            GdkModifierType state, BhShellMenu *self)
{
    if ((state & GDK_CONTROL_MASK) == 0 || (keyval != GDK_KEY_d && keyval != GDK_KEY_D))
        return FALSE;
    toggle_favourite(self, gtk_list_box_get_selected_row(GTK_LIST_BOX(self->list)));
    return TRUE;
}

static void on_right_click(GtkGestureClick *gesture, int n_press, double x, double y, BhShellMenu *self)
{
    toggle_favourite(self, gtk_list_box_get_row_at_y(GTK_LIST_BOX(self->list), (int)y));
}

static void on_apps_changed(BhShellApps *apps, BhShellMenu *self)
{
    /* Rebuilding while the user types would move the rows under the
     * cursor: wait until it is closed. */
    if (gtk_widget_get_visible(GTK_WIDGET(self)))
        self->stale = TRUE;
    else
        rebuild(self);
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
    if (self->apps != NULL)
        g_signal_handlers_disconnect_by_data(self->apps, self);
    g_clear_object(&self->apps);
    g_clear_object(&self->qubes);
    g_clear_pointer(&self->query, g_free);
    g_clear_pointer(&self->words, g_strfreev);
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
    /* Escape in the search field closes the menu, as it does elsewhere in it. */
    g_signal_connect_swapped(self->search, "stop-search", G_CALLBACK(gtk_popover_popdown), self);
    g_signal_connect(keys, "key-pressed", G_CALLBACK(on_search_key), self);
    gtk_widget_add_controller(self->search, keys);
    /* Results follow every key: the list is small and filtering is cheap. */
    gtk_search_entry_set_search_delay(GTK_SEARCH_ENTRY(self->search), 0);

    self->list = gtk_list_box_new();
    gtk_list_box_set_selection_mode(GTK_LIST_BOX(self->list), GTK_SELECTION_SINGLE);
    gtk_list_box_set_filter_func(GTK_LIST_BOX(self->list), filter_row, self, NULL);
    g_signal_connect(self->list, "row-activated", G_CALLBACK(on_row_activated), self);
    {
        GtkEventController *list_keys = gtk_event_controller_key_new();
        GtkGesture *click = gtk_gesture_click_new();
        g_signal_connect(list_keys, "key-pressed", G_CALLBACK(on_list_key), self);
        gtk_widget_add_controller(GTK_WIDGET(self), list_keys);
        gtk_gesture_single_set_button(GTK_GESTURE_SINGLE(click), GDK_BUTTON_SECONDARY);
        g_signal_connect(click, "pressed", G_CALLBACK(on_right_click), self);
        gtk_widget_add_controller(self->list, GTK_EVENT_CONTROLLER(click));
    }
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
    self->apps = bh_shell_apps_new(bh_shell_qubes_get_admin(qubes), qubes);
    g_signal_connect(qubes, "changed", G_CALLBACK(on_changed), self);
    g_signal_connect(self->apps, "changed", G_CALLBACK(on_apps_changed), self);
    rebuild(self);
    return GTK_WIDGET(self);
}
