/* bh-shell-domains.c — the domains widget (see the header). */
#define G_LOG_DOMAIN "bh-shell"

#include "bh-shell-domains.h"

struct _BhShellDomains {
    GtkBox parent_instance;
    BhShellQubes *qubes;
    GtkWidget *chips; /* GtkBox: one chip per active qube */
    GtkWidget *list;  /* GtkBox in the popover: one row per qube */
    GtkWidget *popover;
    GtkWidget *message;  /* the last failed call, in the popover */
    GHashTable *failed;  /* qube name -> the daemon's message, until it runs */
    GtkSizeGroup *verbs; /* the rows' verb boxes: one width, columns aligned */
    guint rebuild_id;
};

G_DEFINE_FINAL_TYPE(BhShellDomains, bh_shell_domains, GTK_TYPE_BOX)

/* A user-facing word for each daemon state; "failed" is the shell's own
 * (a Start the daemon refused), shown like Crashed. */
static const char *state_word(const char *state)
{
    static const struct {
        const char *state, *word;
    } words[] = {
        {"Transient", "starting"}, {"Running", "running"}, {"Paused", "paused"}, {"Halting", "stopping"},
        {"Dying", "stopping"},     {"Crashed", "crashed"}, {"Halted", "halted"},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(words); i++) {
        if (g_str_equal(words[i].state, state))
            return words[i].word;
    }
    return "unknown";
}

static void add_state_classes(GtkWidget *widget, const char *state, gboolean failed)
{
    if (failed || g_str_equal(state, "Crashed"))
        gtk_widget_add_css_class(widget, "bh-crashed");
    else if (g_str_equal(state, "Paused"))
        gtk_widget_add_css_class(widget, "bh-paused");
    else if (g_str_equal(state, "Transient") || g_str_equal(state, "Halting") || g_str_equal(state, "Dying"))
        gtk_widget_add_css_class(widget, "bh-busy");
}

/* The square of the label's colour that every qube carries in dom0's UI. */
static GtkWidget *swatch_new(BhShellQube *qube)
{
    g_autofree char *label_class = bh_shell_qube_css_class(qube);
    GtkWidget *swatch = gtk_label_new(NULL); /* a sized box the CSS paints */

    gtk_widget_add_css_class(swatch, "bh-swatch");
    gtk_widget_add_css_class(swatch, label_class);
    gtk_widget_set_valign(swatch, GTK_ALIGN_CENTER);
    return swatch;
}

static GtkWidget *chip_new(BhShellDomains *self, BhShellQube *qube)
{
    const char *state = bh_shell_qube_get_state(qube);
    GtkWidget *chip = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 4);
    g_autofree char *tooltip = g_strdup_printf("%s: %s", bh_shell_qube_get_name(qube), state_word(state));

    gtk_widget_add_css_class(chip, "bh-chip");
    add_state_classes(chip, state, FALSE);
    gtk_box_append(GTK_BOX(chip), swatch_new(qube));
    gtk_box_append(GTK_BOX(chip), gtk_label_new(bh_shell_qube_get_name(qube)));
    if (!g_str_equal(state, "Running")) {
        if (g_str_equal(state, "Transient")) {
            GtkWidget *spinner = gtk_spinner_new();
            gtk_spinner_start(GTK_SPINNER(spinner));
            gtk_box_append(GTK_BOX(chip), spinner);
        } else {
            GtkWidget *word = gtk_label_new(state_word(state));
            gtk_widget_add_css_class(word, "bh-state");
            gtk_box_append(GTK_BOX(chip), word);
        }
    }
    gtk_widget_set_tooltip_text(chip, tooltip);
    return chip;
}

typedef void (*BhVerb)(BhShellQubes *qubes, const char *qube);

static void on_verb_clicked(GtkButton *button, BhShellDomains *self)
{
    BhVerb verb = g_object_get_data(G_OBJECT(button), "bh-verb");
    const char *qube = g_object_get_data(G_OBJECT(button), "bh-qube");

    g_hash_table_remove(self->failed, qube);
    gtk_label_set_text(GTK_LABEL(self->message), "");
    gtk_widget_set_visible(self->message, FALSE);
    verb(self->qubes, qube);
}

static void bh_terminal(BhShellQubes *qubes, const char *qube)
{
    bh_shell_qubes_run(qubes, qube, "foot");
}

static void add_verb(BhShellDomains *self, GtkWidget *box, BhShellQube *qube, const char *text, BhVerb verb)
{
    GtkWidget *button = gtk_button_new_with_label(text);

    gtk_widget_add_css_class(button, "bh-verb");
    g_object_set_data(G_OBJECT(button), "bh-verb", verb);
    g_object_set_data_full(G_OBJECT(button), "bh-qube", g_strdup(bh_shell_qube_get_name(qube)), g_free);
    g_signal_connect(button, "clicked", G_CALLBACK(on_verb_clicked), self);
    gtk_box_append(GTK_BOX(box), button);
}

static GtkWidget *row_new(BhShellDomains *self, BhShellQube *qube)
{
    const char *name = bh_shell_qube_get_name(qube);
    const char *state = bh_shell_qube_get_state(qube);
    const char *failure = g_hash_table_lookup(self->failed, name);
    GtkWidget *row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
    GtkWidget *title = gtk_label_new(name);
    GtkWidget *word = gtk_label_new(failure != NULL ? "failed" : state_word(state));
    GtkWidget *verbs = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 4);
    GtkWidget *row_verbs = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 0);

    gtk_widget_add_css_class(row, "bh-domain-row");
    add_state_classes(row, state, failure != NULL);
    gtk_label_set_xalign(GTK_LABEL(title), 0);
    gtk_label_set_width_chars(GTK_LABEL(title), 16);
    gtk_label_set_ellipsize(GTK_LABEL(title), PANGO_ELLIPSIZE_END);
    gtk_widget_set_hexpand(title, TRUE);
    gtk_label_set_xalign(GTK_LABEL(word), 0);
    gtk_label_set_width_chars(GTK_LABEL(word), 9);
    gtk_widget_add_css_class(word, "bh-state");
    if (failure != NULL)
        gtk_widget_set_tooltip_text(row, failure);
    gtk_box_append(GTK_BOX(row), swatch_new(qube));
    gtk_box_append(GTK_BOX(row), title);
    gtk_box_append(GTK_BOX(row), word);
    /* The verbs sit at the right edge of a column as wide as the widest. */
    gtk_widget_set_halign(verbs, GTK_ALIGN_END);
    gtk_widget_set_hexpand(verbs, TRUE);
    gtk_box_append(GTK_BOX(row_verbs), verbs);
    gtk_size_group_add_widget(self->verbs, row_verbs);
    gtk_box_append(GTK_BOX(row), row_verbs);

    if (g_str_equal(state, "Halted") || g_str_equal(state, "Crashed")) {
        add_verb(self, verbs, qube, "Start", bh_shell_qubes_start);
    } else if (g_str_equal(state, "Running")) {
        add_verb(self, verbs, qube, "Terminal", bh_terminal);
        add_verb(self, verbs, qube, "Pause", bh_shell_qubes_pause);
        add_verb(self, verbs, qube, "Shutdown", bh_shell_qubes_shutdown);
    } else if (g_str_equal(state, "Paused")) {
        add_verb(self, verbs, qube, "Unpause", bh_shell_qubes_unpause);
        add_verb(self, verbs, qube, "Shutdown", bh_shell_qubes_shutdown);
    }
    return row;
}

static void clear_box(GtkWidget *box)
{
    GtkWidget *child;

    while ((child = gtk_widget_get_first_child(box)) != NULL)
        gtk_box_remove(GTK_BOX(box), child);
}

static gboolean rebuild(gpointer data)
{
    BhShellDomains *self = data;
    GListModel *model = bh_shell_qubes_get_model(self->qubes);
    guint n = g_list_model_get_n_items(model);

    self->rebuild_id = 0;
    clear_box(self->chips);
    clear_box(self->list);
    for (guint i = 0; i < n; i++) {
        g_autoptr(BhShellQube) qube = g_list_model_get_item(model, i);

        if (bh_shell_qube_get_group(qube) == BH_SHELL_GROUP_HIDDEN)
            continue;
        if (g_str_equal(bh_shell_qube_get_state(qube), "Running"))
            g_hash_table_remove(self->failed, bh_shell_qube_get_name(qube));
        if (bh_shell_qube_is_active(qube))
            gtk_box_append(GTK_BOX(self->chips), chip_new(self, qube));
        gtk_box_append(GTK_BOX(self->list), row_new(self, qube));
    }
    return G_SOURCE_REMOVE;
}

/* Signals come in bursts (a start is Transient then Running, a reload after
 * a QubeAdded): one rebuild per main-loop turn. */
static void queue_rebuild(BhShellDomains *self)
{
    if (self->rebuild_id == 0)
        self->rebuild_id = g_idle_add(rebuild, self);
}

static void on_changed(BhShellQubes *qubes, BhShellDomains *self)
{
    queue_rebuild(self);
}

static void on_action_failed(BhShellQubes *qubes, const char *qube, const char *action, const char *message,
                             BhShellDomains *self)
{
    g_autofree char *text = g_strdup_printf("%s %s: %s", action, qube, message);

    if (g_str_equal(action, "Start") || g_str_equal(action, "Run"))
        g_hash_table_insert(self->failed, g_strdup(qube), g_strdup(message));
    gtk_label_set_text(GTK_LABEL(self->message), text);
    gtk_widget_set_visible(self->message, TRUE);
    queue_rebuild(self);
}

static void bh_shell_domains_dispose(GObject *object)
{
    BhShellDomains *self = BH_SHELL_DOMAINS(object);

    g_clear_handle_id(&self->rebuild_id, g_source_remove);
    if (self->qubes != NULL)
        g_signal_handlers_disconnect_by_data(self->qubes, self);
    g_clear_object(&self->qubes);
    g_clear_pointer(&self->failed, g_hash_table_unref);
    g_clear_object(&self->verbs);
    G_OBJECT_CLASS(bh_shell_domains_parent_class)->dispose(object);
}

static void bh_shell_domains_class_init(BhShellDomainsClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = bh_shell_domains_dispose;
    gtk_widget_class_set_css_name(GTK_WIDGET_CLASS(klass), "bh-domains");
}

static void bh_shell_domains_init(BhShellDomains *self)
{
    GtkWidget *button = gtk_menu_button_new();
    GtkWidget *content = gtk_box_new(GTK_ORIENTATION_VERTICAL, 4);

    self->failed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    self->verbs = gtk_size_group_new(GTK_SIZE_GROUP_HORIZONTAL);
    gtk_box_set_spacing(GTK_BOX(self), 8);
    gtk_menu_button_set_label(GTK_MENU_BUTTON(button), "Qubes");
    gtk_widget_add_css_class(button, "bh-domains-button");
    self->list = gtk_box_new(GTK_ORIENTATION_VERTICAL, 2);
    self->message = gtk_label_new(NULL);
    gtk_label_set_wrap(GTK_LABEL(self->message), TRUE);
    gtk_label_set_max_width_chars(GTK_LABEL(self->message), 50);
    gtk_widget_add_css_class(self->message, "bh-crashed");
    gtk_widget_set_visible(self->message, FALSE);
    gtk_box_append(GTK_BOX(content), self->list);
    gtk_box_append(GTK_BOX(content), self->message);
    self->popover = gtk_popover_new();
    gtk_popover_set_child(GTK_POPOVER(self->popover), content);
    gtk_menu_button_set_popover(GTK_MENU_BUTTON(button), self->popover);
    self->chips = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 10);
    gtk_box_append(GTK_BOX(self), button);
    gtk_box_append(GTK_BOX(self), self->chips);
}

GtkWidget *bh_shell_domains_new(BhShellQubes *qubes)
{
    BhShellDomains *self = g_object_new(BH_TYPE_SHELL_DOMAINS, NULL);

    self->qubes = g_object_ref(qubes);
    g_signal_connect(qubes, "changed", G_CALLBACK(on_changed), self);
    g_signal_connect(qubes, "action-failed", G_CALLBACK(on_action_failed), self);
    rebuild(self);
    return GTK_WIDGET(self);
}
