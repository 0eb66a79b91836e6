/* bh-shell-menu.c — the app menu (see the header). */
#define G_LOG_DOMAIN "bh-shell"

#include "bh-shell-menu.h"

#include <string.h>

#include "bh-shell-apps.h"
#include "bh-shell-hotkey.h"

#define BH_ICON_SIZE 20
/* The rows are a GtkListView over a filtered model: only the rows on screen
 * are widgets, so 100 qubes of 30 apps cost what 30 rows do (a GtkListBox
 * of 3 800 rows took 250 ms to open; bench/README.md, "bench/shell"). A
 * search shows at most BH_SHELL_MENU_MAX_HITS hits (the header); without one, every qube's
 * launchers show while the menu has at most BH_MENU_EXPAND_MAX of them,
 * else a qube's heading opens them. */
#define BH_MENU_EXPAND_MAX 300

#define BH_TERMINAL_COMMAND "foot"

/* ---- one row --------------------------------------------------------------- */

#define BH_TYPE_MENU_ITEM (bh_menu_item_get_type())
G_DECLARE_FINAL_TYPE(BhMenuItem, bh_menu_item, BH, MENU_ITEM, GObject)

struct _BhMenuItem {
    GObject parent_instance;
    BhShellMenuRow row; /* kind, and qube and haystack borrowed from below */
    BhShellMenuKind kind;
    char *qube;        /* NULL for a group heading */
    char *label_class; /* "bh-label-<label>"; NULL for a group heading */
    char *kind_icon;   /* a qube heading's "bh-<kind>-<label>"; NULL: its swatch */
    char *text;
    char *id;       /* apps only */
    char *haystack; /* casefolded qube name and what the row matches on; NULL: never a hit */
    char *tooltip;
    GdkTexture *icon;
    gboolean visible;
};

G_DEFINE_FINAL_TYPE(BhMenuItem, bh_menu_item, G_TYPE_OBJECT)

static void bh_menu_item_finalize(GObject *object)
{
    BhMenuItem *item = BH_MENU_ITEM(object);
    g_free(item->qube);
    g_free(item->label_class);
    g_free(item->kind_icon);
    g_free(item->text);
    g_free(item->id);
    g_free(item->haystack);
    g_free(item->tooltip);
    g_clear_object(&item->icon);
    G_OBJECT_CLASS(bh_menu_item_parent_class)->finalize(object);
}

static void bh_menu_item_class_init(BhMenuItemClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = bh_menu_item_finalize;
}

static void bh_menu_item_init(BhMenuItem *item)
{
}

static gboolean item_is_launcher(BhMenuItem *item)
{
    return item->kind >= BH_SHELL_MENU_TERMINAL;
}

/* ---- a place for a row on screen ------------------------------------------- */

/* GTK 4.8's list view makes a new row widget (the factory's setup, then
 * bind) for every item new to its model, and reuses one only for the same
 * item: a model of the hits themselves cost 34-72 new widgets per search
 * (bench/RESULTS.md, "bench/shell"). The list views show slots instead,
 * objects that stay in their model while the row in them changes: a search
 * puts its rows into the slots and binds the widgets already there again.
 * Slots past the rows shown stay, empty and hidden, so that a longer list
 * later reuses their widgets too; new slots (and widgets) come only when a
 * list is longer than any before. */
/* Empty slots are kept only within the first rows: GTK 4.8's list view makes
 * widgets for at most 200 rows around its anchor and gives the others an
 * estimated height, which for a hidden row would be blank space under the
 * last row shown. */
#define BH_MENU_SLOTS_KEPT 192

#define BH_TYPE_MENU_SLOT (bh_menu_slot_get_type())
G_DECLARE_FINAL_TYPE(BhMenuSlot, bh_menu_slot, BH, MENU_SLOT, GObject)

struct _BhMenuSlot {
    GObject parent_instance;
    BhMenuItem *item;       /* NULL: an empty slot, its row hidden */
    gboolean hits;          /* a search's list: a qube's heading there only says whose a hit is */
    GtkListItem *list_item; /* its row while one is bound (the list view's), else NULL */
};

G_DEFINE_FINAL_TYPE(BhMenuSlot, bh_menu_slot, G_TYPE_OBJECT)

static void bh_menu_slot_finalize(GObject *object)
{
    g_clear_object(&BH_MENU_SLOT(object)->item);
    G_OBJECT_CLASS(bh_menu_slot_parent_class)->finalize(object);
}

static void bh_menu_slot_class_init(BhMenuSlotClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = bh_menu_slot_finalize;
}

static void bh_menu_slot_init(BhMenuSlot *slot)
{
}

/* ---- the menu ---------------------------------------------------------------- */

typedef struct {
    GListStore *slots; /* BhMenuSlot: what the list view shows */
    guint n_shown;     /* the first n_shown slots hold the rows shown; the rest are empty */
    GtkSingleSelection *selection;
    GtkWidget *view;
    GtkWidget *scroller;
} BhMenuPane;

struct _BhShellMenu {
    GtkPopover parent_instance;
    BhShellQubes *qubes;
    BhShellApps *apps;
    GtkWidget *search;
    GListStore *items; /* every row (BhMenuItem) */
    /* Two lists: [0] the rows without a search, [1] a search's hits. The
     * first keeps its rows bound while a search shows the second, so the
     * menu opened after a search (which is cleared at close) does not bind
     * its rows again (bench/shell: 18-21 ms of the open's CPU). */
    BhMenuPane panes[2];
    GtkWidget *stack;
    BhMenuPane *pane; /* the one shown now */
    guint made;       /* row widgets made so far (logged: bench/shell, shell-apps) */
    char *query;
    char **words;        /* the query's words, casefolded; NULL: no query */
    gboolean stale;      /* the qubes or their apps changed while it was open */
    guint rebuild_id;    /* a rebuild waiting for the lists to stop arriving */
    gboolean expand_all; /* small menus show every qube's launchers */
    GHashTable *toggled; /* qube names opened or closed against expand_all */
};

G_DEFINE_FINAL_TYPE(BhShellMenu, bh_shell_menu, GTK_TYPE_POPOVER)

/* Every word in the haystack (both casefolded). */
static gboolean words_in(char *const *words, const char *haystack)
{
    if (haystack == NULL)
        return FALSE;
    for (char *const *w = words; w != NULL && *w != NULL; w++)
        if (**w != '\0' && strstr(haystack, *w) == NULL)
            return FALSE;
    return TRUE;
}

char **bh_shell_menu_query_words(const char *query)
{
    g_autofree char *folded = NULL;

    if (query == NULL || *query == '\0')
        return NULL;
    folded = g_utf8_casefold(query, -1);
    return g_strsplit_set(folded, " \t\n", -1);
}

gboolean bh_shell_menu_match(const char *query, const char *qube, const char *entry)
{
    g_auto(GStrv) words = bh_shell_menu_query_words(query);
    g_autofree char *joined = g_strconcat(qube, " ", entry, NULL);
    g_autofree char *haystack = g_utf8_casefold(joined, -1);

    return words_in(words, haystack);
}

static gboolean qube_expanded(BhShellMenu *self, const char *qube)
{
    return g_hash_table_contains(self->toggled, qube) ? !self->expand_all : self->expand_all;
}

static BhMenuItem *item_at(GListModel *model, guint i)
{
    BhMenuItem *item = g_list_model_get_item(model, i);
    g_object_unref(item); /* the model keeps it */
    return item;
}

guint bh_shell_menu_visible(const BhShellMenuRow *const *rows, guint n, char *const *words,
                            gboolean (*expanded)(const char *qube, gpointer data), gpointer data,
                            gboolean *visible)
{
    gssize qube_row = -1;
    guint hits = 0;

    for (guint i = 0; i < n; i++) {
        const BhShellMenuRow *row = rows[i];

        switch (row->kind) {
        case BH_SHELL_MENU_HEADING:
            visible[i] = words == NULL;
            break;
        case BH_SHELL_MENU_QUBE:
            qube_row = i;
            visible[i] = words == NULL;
            break;
        case BH_SHELL_MENU_NOTE:
            visible[i] = words == NULL ? expanded(row->qube, data) : words_in(words, row->haystack);
            break;
        default:
            if (words == NULL)
                visible[i] = qube_row < 0 || expanded(row->qube, data); /* favourites: no heading */
            else if ((visible[i] = hits < BH_SHELL_MENU_MAX_HITS && words_in(words, row->haystack)))
                hits++;
            break;
        }
        if (visible[i] && words != NULL && qube_row >= 0 && (gssize)i != qube_row)
            visible[qube_row] = TRUE;
    }
    return hits;
}

static gboolean qube_expanded_cb(const char *qube, gpointer data)
{
    return qube_expanded(data, qube);
}

/* The rule above on the items; the flags go back into them. */
static void compute_visible(BhShellMenu *self)
{
    GListModel *model = G_LIST_MODEL(self->items);
    guint n = g_list_model_get_n_items(model);
    g_autofree const BhShellMenuRow **rows = g_new(const BhShellMenuRow *, n + 1);
    g_autofree gboolean *visible = g_new0(gboolean, n + 1);

    for (guint i = 0; i < n; i++)
        rows[i] = &item_at(model, i)->row;
    bh_shell_menu_visible(rows, n, self->words, qube_expanded_cb, self, visible);
    for (guint i = 0; i < n; i++)
        item_at(model, i)->visible = visible[i];
}

static BhMenuSlot *slot_at(BhMenuPane *pane, guint i)
{
    BhMenuSlot *slot = g_list_model_get_item(G_LIST_MODEL(pane->slots), i);
    g_object_unref(slot); /* the store keeps it */
    return slot;
}

/* The row shown at position i of the pane shown; NULL past its rows. */
static BhMenuItem *shown_at(BhShellMenu *self, guint i)
{
    return i < self->pane->n_shown ? slot_at(self->pane, i)->item : NULL;
}

static void bind_row(BhShellMenu *self, GtkListItem *list_item, BhMenuSlot *slot);

static void slot_set(BhShellMenu *self, BhMenuSlot *slot, BhMenuItem *item)
{
    if (slot->item == item)
        return;
    g_set_object(&slot->item, item);
    if (slot->list_item != NULL)
        bind_row(self, slot->list_item, slot);
}

/* The rows into the pane's slots, in order: a slot that holds its row
 * already is left alone (a search cleared brings back the same rows: nothing
 * to bind), one that changes binds its widget again, and slots are added
 * (one splice at the end) only when there are more rows than slots. */
static void pane_show(BhShellMenu *self, BhMenuPane *pane, GPtrArray *rows)
{
    guint have = g_list_model_get_n_items(G_LIST_MODEL(pane->slots));

    for (guint i = 0; i < have; i++)
        slot_set(self, slot_at(pane, i), i < rows->len ? g_ptr_array_index(rows, i) : NULL);
    if (rows->len > have) {
        g_autoptr(GPtrArray) more = g_ptr_array_new_with_free_func(g_object_unref);

        for (guint i = have; i < rows->len; i++) {
            BhMenuSlot *slot = g_object_new(BH_TYPE_MENU_SLOT, NULL);
            slot->item = g_object_ref(g_ptr_array_index(rows, i));
            slot->hits = pane == &self->panes[1];
            g_ptr_array_add(more, slot);
        }
        g_list_store_splice(pane->slots, have, 0, more->pdata, more->len);
    } else if (have > BH_MENU_SLOTS_KEPT && have > rows->len) {
        guint keep = MAX(rows->len, BH_MENU_SLOTS_KEPT);
        g_list_store_splice(pane->slots, keep, have - keep, NULL, 0);
    }
    pane->n_shown = rows->len;
}

/* The row of item drawn again where a slot of the pane shows it (a
 * heading's arrow after a toggle: its slot keeps the same row); returns its
 * position. */
static guint pane_redraw(BhShellMenu *self, BhMenuPane *pane, BhMenuItem *item)
{
    for (guint i = 0; i < pane->n_shown; i++) {
        BhMenuSlot *slot = slot_at(pane, i);
        if (slot->item != item)
            continue;
        if (slot->list_item != NULL)
            bind_row(self, slot->list_item, slot);
        return i;
    }
    return GTK_INVALID_LIST_POSITION;
}

static void refilter(BhShellMenu *self)
{
    GListModel *model = G_LIST_MODEL(self->items);
    guint n = g_list_model_get_n_items(model);
    g_autoptr(GPtrArray) shown = g_ptr_array_new();
    BhMenuPane *pane = &self->panes[self->words != NULL ? 1 : 0];

    compute_visible(self);
    for (guint i = 0; i < n; i++) {
        BhMenuItem *item = item_at(model, i);
        if (item->visible)
            g_ptr_array_add(shown, item);
    }
    pane_show(self, pane, shown);
    if (self->pane != pane) {
        self->pane = pane;
        /* The hits' slots stay bound while hidden: the next search binds
         * their widgets again instead of making new ones. */
        gtk_stack_set_visible_child(GTK_STACK(self->stack), pane->scroller);
    }
}

static void launch(BhShellMenu *self, BhMenuItem *item)
{
    switch (item->kind) {
    case BH_SHELL_MENU_TERMINAL:
        bh_shell_qubes_run(self->qubes, item->qube, BH_TERMINAL_COMMAND);
        break;
    case BH_SHELL_MENU_DISPOSABLE_TERMINAL:
        bh_shell_qubes_run_disposable(self->qubes, item->qube, BH_TERMINAL_COMMAND);
        break;
    case BH_SHELL_MENU_APP:
        bh_shell_apps_run(self->apps, item->qube, item->id);
        break;
    case BH_SHELL_MENU_DISPOSABLE_APP:
        bh_shell_apps_run_disposable(self->apps, item->qube, item->id);
        break;
    case BH_SHELL_MENU_SETTINGS: {
        g_autoptr(GError) error = NULL;
        if (!bh_shell_open_settings(item->qube, &error))
            g_warning("cannot open the settings%s%s: %s", item->qube != NULL ? " of " : "",
                      item->qube != NULL ? item->qube : "", error->message);
        break;
    }
    default:
        return;
    }
    gtk_popover_popdown(GTK_POPOVER(self));
}

static void select_position(BhShellMenu *self, guint position);

/* A qube's heading opens or closes its launchers; the selection stays on it
 * (a slot's selection stays at its place while the rows under it change). */
static void toggle_qube(BhShellMenu *self, BhMenuItem *item)
{
    if (!g_hash_table_remove(self->toggled, item->qube))
        g_hash_table_add(self->toggled, g_strdup(item->qube));
    refilter(self);
    select_position(self, pane_redraw(self, self->pane, item)); /* its arrow */
}

static void activate_item(BhShellMenu *self, BhMenuItem *item)
{
    if (item == NULL)
        return;
    if (item->kind == BH_SHELL_MENU_QUBE)
        toggle_qube(self, item);
    else
        launch(self, item);
}

static BhMenuItem *selected_item(BhShellMenu *self)
{
    return shown_at(self, gtk_single_selection_get_selected(self->pane->selection));
}

/* The position of the first launcher at or after from, going by step. */
static guint find_launcher(BhShellMenu *self, guint from, int step)
{
    guint n = self->pane->n_shown;

    for (gint64 i = from; i >= 0 && i < n; i += step) {
        BhMenuItem *item = shown_at(self, (guint)i);
        if (item_is_launcher(item) || item->kind == BH_SHELL_MENU_QUBE)
            if (item_is_launcher(item) || self->words == NULL)
                return (guint)i;
    }
    return GTK_INVALID_LIST_POSITION;
}

static void select_position(BhShellMenu *self, guint position)
{
    gtk_single_selection_set_selected(self->pane->selection, position);
    if (position != GTK_INVALID_LIST_POSITION)
        gtk_widget_activate_action(self->pane->view, "list.scroll-to-item", "u", position);
}

/* The row Enter will run is the selected one: the user sees it. With a
 * search it is the first hit; without one, the first launcher. */
static void select_first(BhShellMenu *self)
{
    for (guint i = 0; i < self->pane->n_shown; i++)
        if (item_is_launcher(shown_at(self, i))) {
            select_position(self, i);
            return;
        }
    select_position(self, GTK_INVALID_LIST_POSITION);
}

static void on_view_activate(GtkListView *view, guint position, BhShellMenu *self)
{
    activate_item(self, shown_at(self, position));
}

static void on_search_changed(GtkSearchEntry *entry, BhShellMenu *self)
{
    guint made = self->made;

    g_free(self->query);
    self->query = g_strdup(gtk_editable_get_text(GTK_EDITABLE(entry)));
    g_strfreev(self->words);
    self->words = bh_shell_menu_query_words(self->query);
    refilter(self);
    select_first(self);
    /* For the display tests: the event to wait for before Enter or a
     * screenshot, instead of a guessed time (G_MESSAGES_DEBUG=bh-shell). */
    g_debug("menu: search '%s': %u rows, %u row widgets made", self->query, self->pane->n_shown,
            self->made - made);
}

static void on_search_activate(GtkSearchEntry *entry, BhShellMenu *self)
{
    activate_item(self, selected_item(self));
}

/* Ctrl+D or a right click on an app adds it to the favourites or takes it
 * out. */
static void rebuild(BhShellMenu *self);
static void toggle_favourite(BhShellMenu *self, BhMenuItem *item)
{
    if (item == NULL || item->kind != BH_SHELL_MENU_APP)
        return;
    bh_shell_apps_toggle_favourite(self->apps, item->qube, item->id);
    /* The user's own change: shown at once, the search kept. */
    rebuild(self);
}

/* The keyboard stays in the search field: Up and Down move the selection
 * through the launchers (and, without a search, the qubes' headings), Enter
 * runs the selected one or opens a heading, Ctrl+D keeps it as a favourite. */
static gboolean on_search_key(GtkEventControllerKey *controller, guint keyval, guint keycode,
                              GdkModifierType state, BhShellMenu *self)
{
    guint selected = gtk_single_selection_get_selected(self->pane->selection), next;

    /* The key that opened the menu closes it, as Escape does (and types no
     * space into the search). */
    if (bh_shell_hotkey_is_menu_key(keyval, state)) {
        gtk_popover_popdown(GTK_POPOVER(self));
        return TRUE;
    }
    if ((state & GDK_CONTROL_MASK) != 0 && (keyval == GDK_KEY_d || keyval == GDK_KEY_D)) {
        toggle_favourite(self, selected_item(self));
        return TRUE;
    }
    if (keyval == GDK_KEY_Down || keyval == GDK_KEY_KP_Down)
        next = find_launcher(self, selected == GTK_INVALID_LIST_POSITION ? 0 : selected + 1, 1);
    else if (keyval == GDK_KEY_Up || keyval == GDK_KEY_KP_Up)
        next = selected == GTK_INVALID_LIST_POSITION || selected == 0 ? GTK_INVALID_LIST_POSITION
                                                                      : find_launcher(self, selected - 1, -1);
    else
        return FALSE;
    if (next != GTK_INVALID_LIST_POSITION)
        select_position(self, next);
    return TRUE;
}

/* ---- the rows' widgets ----------------------------------------------------------- */

/* One widget shape for every kind (a list view recycles them): the kind's
 * label icon (qube headings; a swatch for a label the build has no icon
 * for), an icon (apps), the text, an arrow (qube headings). The
 * label colour runs down a launcher's left edge, so every entry is visibly
 * its qube's; an app's name (the qube's words) also carries the "[qube]"
 * prefix, so that a hit seen alone never reads as dom0's own entry. */
static void on_setup(GtkSignalListItemFactory *factory, GtkListItem *list_item, BhShellMenu *self)
{
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
    GtkWidget *swatch = gtk_label_new(NULL);
    GtkWidget *kind = gtk_image_new();
    GtkWidget *icon = gtk_image_new();
    GtkWidget *text = gtk_label_new(NULL);
    GtkWidget *arrow = gtk_label_new(NULL);

    gtk_widget_add_css_class(swatch, "bh-swatch");
    gtk_widget_set_valign(swatch, GTK_ALIGN_CENTER);
    gtk_image_set_pixel_size(GTK_IMAGE(kind), 16);
    gtk_widget_set_valign(kind, GTK_ALIGN_CENTER);
    gtk_image_set_pixel_size(GTK_IMAGE(icon), BH_ICON_SIZE);
    gtk_label_set_xalign(GTK_LABEL(text), 0);
    gtk_label_set_ellipsize(GTK_LABEL(text), PANGO_ELLIPSIZE_END);
    gtk_label_set_max_width_chars(GTK_LABEL(text), 48);
    gtk_widget_set_hexpand(text, TRUE);
    gtk_widget_add_css_class(arrow, "bh-menu-arrow");
    gtk_box_append(GTK_BOX(box), swatch);
    gtk_box_append(GTK_BOX(box), kind);
    gtk_box_append(GTK_BOX(box), icon);
    gtk_box_append(GTK_BOX(box), text);
    gtk_box_append(GTK_BOX(box), arrow);
    g_object_set_data(G_OBJECT(box), "bh-swatch", swatch);
    g_object_set_data(G_OBJECT(box), "bh-kind", kind);
    g_object_set_data(G_OBJECT(box), "bh-icon", icon);
    g_object_set_data(G_OBJECT(box), "bh-text", text);
    g_object_set_data(G_OBJECT(box), "bh-arrow", arrow);
    gtk_list_item_set_child(list_item, box);
    self->made++;
}

static void set_class(GtkWidget *widget, const char *key, const char *css_class)
{
    char *old = g_object_get_data(G_OBJECT(widget), key);
    if (old != NULL)
        gtk_widget_remove_css_class(widget, old);
    if (css_class != NULL)
        gtk_widget_add_css_class(widget, css_class);
    g_object_set_data_full(G_OBJECT(widget), key, g_strdup(css_class), g_free);
}

/* The row of item into list_item's widget; NULL: an empty slot, hidden
 * whole (the list view's row widget around the box too, or its padding
 * would show as a blank row). */
static void bind_row(BhShellMenu *self, GtkListItem *list_item, BhMenuSlot *slot)
{
    BhMenuItem *item = slot->item;
    /* A heading opens and closes its qube's rows without a search; in a
     * search it shows all of them already, so it has no arrow and no click. */
    gboolean toggles = item != NULL && item->kind == BH_SHELL_MENU_QUBE && !slot->hits;
    GtkWidget *box = gtk_list_item_get_child(list_item);
    GtkWidget *row = gtk_widget_get_parent(box) != NULL ? gtk_widget_get_parent(box) : box;
    GtkWidget *swatch = g_object_get_data(G_OBJECT(box), "bh-swatch");
    GtkWidget *kind = g_object_get_data(G_OBJECT(box), "bh-kind");
    GtkWidget *icon = g_object_get_data(G_OBJECT(box), "bh-icon");
    GtkWidget *text = g_object_get_data(G_OBJECT(box), "bh-text");
    GtkWidget *arrow = g_object_get_data(G_OBJECT(box), "bh-arrow");
    static const char *const kind_class[] = {
        [BH_SHELL_MENU_HEADING] = "bh-menu-group",
        [BH_SHELL_MENU_QUBE] = "bh-menu-qube",
        [BH_SHELL_MENU_NOTE] = "bh-menu-note",
        [BH_SHELL_MENU_TERMINAL] = "bh-menu-launcher",
        [BH_SHELL_MENU_DISPOSABLE_TERMINAL] = "bh-menu-launcher",
        [BH_SHELL_MENU_APP] = "bh-menu-launcher",
        [BH_SHELL_MENU_DISPOSABLE_APP] = "bh-menu-launcher",
        [BH_SHELL_MENU_SETTINGS] = "bh-menu-launcher",
    };

    gtk_widget_set_visible(row, item != NULL);
    if (item == NULL) {
        gtk_list_item_set_activatable(list_item, FALSE);
        gtk_list_item_set_selectable(list_item, FALSE);
        /* Nothing of the old row is kept alive by a hidden one. */
        gtk_image_set_from_paintable(GTK_IMAGE(icon), NULL);
        gtk_widget_set_tooltip_text(box, NULL);
        return;
    }

    gtk_label_set_text(GTK_LABEL(text), item->text);
    gtk_label_set_wrap(GTK_LABEL(text), item->kind == BH_SHELL_MENU_NOTE);
    gtk_label_set_ellipsize(GTK_LABEL(text),
                            item->kind == BH_SHELL_MENU_NOTE ? PANGO_ELLIPSIZE_NONE : PANGO_ELLIPSIZE_END);
    set_class(box, "bh-kind-class", kind_class[item->kind]);
    /* themes/labels.css paints the bar: .bh-label-edge.bh-label-<label>. */
    set_class(box, "bh-label-class", item_is_launcher(item) ? item->label_class : NULL);
    set_class(box, "bh-edge-class",
              item_is_launcher(item) && item->label_class != NULL ? "bh-label-edge" : NULL);
    set_class(swatch, "bh-label-class", item->kind == BH_SHELL_MENU_QUBE ? item->label_class : NULL);
    gtk_widget_set_visible(swatch, item->kind == BH_SHELL_MENU_QUBE && item->kind_icon == NULL);
    gtk_image_set_from_icon_name(GTK_IMAGE(kind), item->kind_icon);
    gtk_widget_set_visible(kind, item->kind_icon != NULL);
    gtk_image_set_from_paintable(GTK_IMAGE(icon), item->icon != NULL ? GDK_PAINTABLE(item->icon) : NULL);
    gtk_widget_set_visible(icon, item->icon != NULL);
    gtk_widget_set_visible(arrow, toggles);
    if (toggles)
        gtk_label_set_text(GTK_LABEL(arrow), qube_expanded(self, item->qube) ? "\u25BE" : "\u25B8");
    gtk_widget_set_tooltip_text(box, item->tooltip);
    gtk_list_item_set_activatable(list_item, item_is_launcher(item) || toggles);
    gtk_list_item_set_selectable(list_item, item_is_launcher(item) || toggles);
}

static void on_bind(GtkSignalListItemFactory *factory, GtkListItem *list_item, BhShellMenu *self)
{
    BhMenuSlot *slot = gtk_list_item_get_item(list_item);

    slot->list_item = list_item;
    g_object_set_data(G_OBJECT(gtk_list_item_get_child(list_item)), "bh-slot", slot);
    bind_row(self, list_item, slot);
}

static void on_unbind(GtkSignalListItemFactory *factory, GtkListItem *list_item, BhShellMenu *self)
{
    BhMenuSlot *slot = gtk_list_item_get_item(list_item);

    if (slot != NULL && slot->list_item == list_item)
        slot->list_item = NULL;
    g_object_set_data(G_OBJECT(gtk_list_item_get_child(list_item)), "bh-slot", NULL);
}

static void on_right_click(GtkGestureClick *gesture, int n_press, double x, double y, BhShellMenu *self)
{
    GtkWidget *box = gtk_event_controller_get_widget(GTK_EVENT_CONTROLLER(gesture));
    BhMenuSlot *slot = g_object_get_data(G_OBJECT(box), "bh-slot");

    if (slot != NULL)
        toggle_favourite(self, slot->item);
}

static void on_setup_click(GtkSignalListItemFactory *factory, GtkListItem *list_item, BhShellMenu *self)
{
    GtkGesture *click = gtk_gesture_click_new();
    gtk_gesture_single_set_button(GTK_GESTURE_SINGLE(click), GDK_BUTTON_SECONDARY);
    g_signal_connect(click, "pressed", G_CALLBACK(on_right_click), self);
    gtk_widget_add_controller(gtk_list_item_get_child(list_item), GTK_EVENT_CONTROLLER(click));
}

/* ---- building the rows -------------------------------------------------------------- */

static void add_item(GPtrArray *out, BhShellMenuKind kind, BhShellQube *qube, const char *text,
                     const char *id, const char *search, GdkTexture *icon, const char *tooltip)
{
    BhMenuItem *item = g_object_new(BH_TYPE_MENU_ITEM, NULL);

    item->kind = kind;
    item->text = g_strdup(text);
    item->id = g_strdup(id);
    item->tooltip = tooltip != NULL && *tooltip != '\0' ? g_strdup(tooltip) : NULL;
    item->icon = icon != NULL ? g_object_ref(icon) : NULL;
    if (qube != NULL) {
        item->qube = g_strdup(bh_shell_qube_get_name(qube));
        item->label_class = bh_shell_qube_css_class(qube);
    }
    if (kind == BH_SHELL_MENU_QUBE && gdk_display_get_default() != NULL) {
        g_autofree char *name = bh_shell_qube_icon_name(qube);
        GtkIconTheme *theme = gtk_icon_theme_get_for_display(gdk_display_get_default());

        if (gtk_icon_theme_has_icon(theme, name))
            item->kind_icon = g_steal_pointer(&name);
    }
    if (search != NULL) {
        /* dom0's own rows match on their words alone. */
        g_autofree char *joined = g_strconcat(qube != NULL ? item->qube : "dom0", " ", search, NULL);
        item->haystack = g_utf8_casefold(joined, -1);
    }
    item->row = (BhShellMenuRow){.kind = kind, .qube = item->qube, .haystack = item->haystack};
    g_ptr_array_add(out, item);
}

static void add_app(GPtrArray *out, BhShellQube *qube, const BhShellAppEntry *app, gboolean disposable)
{
    const char *name = bh_shell_qube_get_name(qube);
    g_autofree char *text = disposable ? g_strdup_printf("New disposable: [%s] %s", name, app->name)
                                       : g_strdup_printf("[%s] %s", name, app->name);
    g_autofree char *search = g_strconcat(disposable ? "new disposable " : "", app->name, " ", app->generic,
                                          " ", app->keywords, NULL);

    add_item(out, disposable ? BH_SHELL_MENU_DISPOSABLE_APP : BH_SHELL_MENU_APP, qube, text, app->id, search,
             app->icon, app->generic);
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

/* The user's favourites first, each still in its qube's colour and name. */
static void add_favourites(BhShellMenu *self, GPtrArray *out)
{
    const char *const *favourites = bh_shell_apps_get_favourites(self->apps);
    gboolean headed = FALSE;

    for (const char *const *f = favourites; *f != NULL; f++) {
        g_autofree char *qube_name = g_strndup(*f, strchr(*f, '/') - *f);
        BhShellQube *qube = bh_shell_qubes_find(self->qubes, qube_name);
        const BhShellAppEntry *app =
            qube != NULL ? find_app(bh_shell_apps_get(self->apps, qube_name, NULL), strchr(*f, '/') + 1)
                         : NULL;

        /* A favourite the qube's menu_items hides is hidden here too. */
        if (app == NULL || !app->in_menu)
            continue;
        if (!headed) {
            add_item(out, BH_SHELL_MENU_HEADING, NULL, "Favourites", NULL, NULL, NULL, NULL);
            headed = TRUE;
        }
        add_app(out, qube, app, FALSE);
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
    guint n = g_list_model_get_n_items(model), launchers = 0;
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_object_unref);

    g_clear_handle_id(&self->rebuild_id, g_source_remove);
    add_favourites(self, out);
    /* dom0's, with no label colour, before any qube's heading: a qube's
     * "Settings" can only ever be "[qube] Settings" under its heading. */
    add_item(out, BH_SHELL_MENU_SETTINGS, NULL, "Settings", NULL, "Settings bulkhead-settings", NULL,
             "Bulkhead's settings (bulkhead-settings)");
    for (BhShellGroup group = BH_SHELL_GROUP_APPS; group < BH_SHELL_GROUP_HIDDEN; group++) {
        gboolean headed = FALSE;

        for (guint i = 0; i < n; i++) {
            g_autoptr(BhShellQube) qube = g_list_model_get_item(model, i);
            const char *problem = "";
            GPtrArray *apps;

            if (bh_shell_qube_get_group(qube) != group)
                continue;
            if (!headed) {
                add_item(out, BH_SHELL_MENU_HEADING, NULL, group_names[group], NULL, NULL, NULL, NULL);
                headed = TRUE;
            }
            apps = bh_shell_apps_get(self->apps, bh_shell_qube_get_name(qube), &problem);
            add_item(out, BH_SHELL_MENU_QUBE, qube, bh_shell_qube_get_name(qube), NULL, NULL, NULL, NULL);
            if (*problem != '\0') {
                g_autofree char *note = g_strdup_printf("App list refused: %s", problem);
                add_item(out, BH_SHELL_MENU_NOTE, qube, note, NULL, "", NULL, NULL);
            }
            add_item(out, BH_SHELL_MENU_TERMINAL, qube, "Terminal", NULL, "Terminal", NULL, NULL);
            add_item(out, BH_SHELL_MENU_SETTINGS, qube, "Qube settings", NULL, "Qube settings", NULL,
                     "This qube's page in bulkhead-settings");
            for (guint a = 0; apps != NULL && a < apps->len; a++) {
                const BhShellAppEntry *app = g_ptr_array_index(apps, a);
                if (app->in_menu)
                    add_app(out, qube, app, FALSE);
            }
            if (bh_shell_qube_is_dispvm_template(qube)) {
                add_item(out, BH_SHELL_MENU_DISPOSABLE_TERMINAL, qube, "New disposable: Terminal", NULL,
                         "New disposable: Terminal", NULL, NULL);
                for (guint a = 0; apps != NULL && a < apps->len; a++) {
                    const BhShellAppEntry *app = g_ptr_array_index(apps, a);
                    if (app->in_menu)
                        add_app(out, qube, app, TRUE);
                }
            }
        }
    }
    for (guint i = 0; i < out->len; i++)
        launchers += item_is_launcher(g_ptr_array_index(out, i));
    self->expand_all = launchers <= BH_MENU_EXPAND_MAX;

    /* Flags first, so the store's one change filters once. */
    for (guint i = 0; i < out->len; i++)
        BH_MENU_ITEM(g_ptr_array_index(out, i))->visible = FALSE;
    g_list_store_splice(self->items, 0, g_list_model_get_n_items(G_LIST_MODEL(self->items)), out->pdata,
                        out->len);
    refilter(self);
    select_first(self);
    self->stale = FALSE;
}

static gboolean rebuild_idle(gpointer data)
{
    BhShellMenu *self = data;
    self->rebuild_id = 0;
    rebuild(self);
    return G_SOURCE_REMOVE;
}

/* The lists arrive one qube at a time (a hundred AppsChanged at start): one
 * rebuild once they stop, never while the user types in the open menu. */
static void schedule_rebuild(BhShellMenu *self)
{
    if (gtk_widget_get_visible(GTK_WIDGET(self)))
        self->stale = TRUE;
    else if (self->rebuild_id == 0)
        self->rebuild_id = g_timeout_add_full(G_PRIORITY_LOW, 100, rebuild_idle, self, NULL);
}

static void on_apps_changed(BhShellApps *apps, BhShellMenu *self)
{
    schedule_rebuild(self);
}

static void on_changed(BhShellQubes *qubes, BhShellMenu *self)
{
    /* A state change does not change the menu's entries; but a reload may
     * have added a qube. */
    schedule_rebuild(self);
}

static void on_show(GtkWidget *widget, BhShellMenu *self)
{
    if (self->stale || self->rebuild_id != 0)
        rebuild(self);
    gtk_widget_grab_focus(self->search);
    g_debug("menu: shown");
}

/* The search is cleared when the menu closes, not when it opens: the rows
 * are ready before the next key (bench/shell measures the open). */
static void on_closed(GtkPopover *popover, BhShellMenu *self)
{
    gtk_editable_set_text(GTK_EDITABLE(self->search), "");
    g_debug("menu: closed");
    if (self->stale && self->rebuild_id == 0)
        self->rebuild_id = g_timeout_add_full(G_PRIORITY_LOW, 100, rebuild_idle, self, NULL);
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
    g_clear_handle_id(&self->rebuild_id, g_source_remove);
    g_clear_pointer(&self->toggled, g_hash_table_unref);
    for (guint i = 0; i < G_N_ELEMENTS(self->panes); i++) {
        g_clear_object(&self->panes[i].selection);
        g_clear_object(&self->panes[i].slots);
    }
    g_clear_object(&self->items);
    G_OBJECT_CLASS(bh_shell_menu_parent_class)->dispose(object);
}

static void bh_shell_menu_class_init(BhShellMenuClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = bh_shell_menu_dispose;
}

static void bh_shell_menu_init(BhShellMenu *self)
{
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
    GtkEventController *keys = gtk_event_controller_key_new();
    GtkListItemFactory *factory = gtk_signal_list_item_factory_new();

    gtk_widget_add_css_class(GTK_WIDGET(self), "bh-menu");
    self->toggled = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    self->search = gtk_search_entry_new();
    g_object_set(self->search, "placeholder-text", "Search qubes and apps", NULL);
    g_signal_connect(self->search, "search-changed", G_CALLBACK(on_search_changed), self);
    g_signal_connect(self->search, "activate", G_CALLBACK(on_search_activate), self);
    /* Escape in the search field closes the menu. */
    g_signal_connect_swapped(self->search, "stop-search", G_CALLBACK(gtk_popover_popdown), self);
    g_signal_connect(keys, "key-pressed", G_CALLBACK(on_search_key), self);
    gtk_event_controller_set_propagation_phase(keys, GTK_PHASE_CAPTURE);
    gtk_widget_add_controller(self->search, keys);
    /* Results follow every key: filtering is one pass over the rows. */
    gtk_search_entry_set_search_delay(GTK_SEARCH_ENTRY(self->search), 0);

    self->items = g_list_store_new(BH_TYPE_MENU_ITEM);
    g_signal_connect(factory, "setup", G_CALLBACK(on_setup), self);
    g_signal_connect(factory, "setup", G_CALLBACK(on_setup_click), self);
    g_signal_connect(factory, "bind", G_CALLBACK(on_bind), self);
    g_signal_connect(factory, "unbind", G_CALLBACK(on_unbind), self);
    self->stack = gtk_stack_new();
    gtk_stack_set_vhomogeneous(GTK_STACK(self->stack), FALSE);
    for (guint i = 0; i < G_N_ELEMENTS(self->panes); i++) {
        BhMenuPane *pane = &self->panes[i];

        pane->slots = g_list_store_new(BH_TYPE_MENU_SLOT);
        pane->selection = gtk_single_selection_new(G_LIST_MODEL(g_object_ref(pane->slots)));
        gtk_single_selection_set_autoselect(pane->selection, FALSE);
        gtk_single_selection_set_can_unselect(pane->selection, TRUE);
        pane->view = gtk_list_view_new(GTK_SELECTION_MODEL(g_object_ref(pane->selection)),
                                       i == 0 ? g_object_ref(factory) : factory);
        gtk_list_view_set_single_click_activate(GTK_LIST_VIEW(pane->view), TRUE);
        gtk_widget_add_css_class(pane->view, "bh-menu-list");
        g_signal_connect(pane->view, "activate", G_CALLBACK(on_view_activate), self);

        pane->scroller = gtk_scrolled_window_new();
        gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(pane->scroller), pane->view);
        gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(pane->scroller), GTK_POLICY_NEVER,
                                       GTK_POLICY_AUTOMATIC);
        gtk_scrolled_window_set_propagate_natural_height(GTK_SCROLLED_WINDOW(pane->scroller), TRUE);
        gtk_scrolled_window_set_max_content_height(GTK_SCROLLED_WINDOW(pane->scroller), 600);
        gtk_widget_set_size_request(pane->scroller, 320, -1);
        gtk_stack_add_child(GTK_STACK(self->stack), pane->scroller);
    }
    self->pane = &self->panes[0];

    gtk_box_append(GTK_BOX(box), self->search);
    gtk_box_append(GTK_BOX(box), self->stack);
    gtk_popover_set_child(GTK_POPOVER(self), box);
    gtk_popover_set_has_arrow(GTK_POPOVER(self), FALSE);
    g_signal_connect(self, "show", G_CALLBACK(on_show), self);
    g_signal_connect(self, "closed", G_CALLBACK(on_closed), self);
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
