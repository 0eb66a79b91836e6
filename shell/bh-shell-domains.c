/* bh-shell-domains.c — the domains widget (see the header). */
#define G_LOG_DOMAIN "bh-shell"

#include "bh-shell-domains.h"

#include "bh-shell-notify.h"

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
    GHashTable *chips_by_name; /* qube name -> chip (for its tooltip) */
    GHashTable *figures;       /* qube name -> the row's figures label */
    GHashTable *shutdowns;     /* qube name -> monotonic µs of its Shutdown click */
    GHashTable *starting;      /* qube names the user started here: a failure says why */
    GHashTable *start_failed;  /* qube names whose failed start was told: their way down is not news */
    GHashTable *fail_cards;  /* qube name -> BhFailCard: its failed start, waiting for those of its clients */
    GHashTable *fail_joined; /* a client's name -> the qube whose card tells its failed start too */
    guint kill_offer_id;
};

/* One failed start and the qubes that failed because of it (their netvm
 * chain goes through it), told together: the daemon sends a StartFailed for
 * each, the clients' repeating the netvm's reason. */
typedef struct {
    BhShellDomains *self;
    char *qube;
    char *reason;
    GPtrArray *dependents; /* names, in the order they failed */
    guint timer;
} BhFailCard;

static void fail_card_free(BhFailCard *card)
{
    g_clear_handle_id(&card->timer, g_source_remove);
    g_free(card->qube);
    g_free(card->reason);
    g_ptr_array_unref(card->dependents);
    g_free(card);
}

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

char *bh_shell_domains_state_notice(const char *qube, const char *old_state, const char *new_state)
{
    gboolean was_up = g_str_equal(old_state, "Running") || g_str_equal(old_state, "Paused") ||
                      g_str_equal(old_state, "Halting") || g_str_equal(old_state, "Dying");

    if (g_str_equal(new_state, "Running") && g_str_equal(old_state, "Transient"))
        return g_strdup_printf("Qube %s has started", qube);
    if (g_str_equal(new_state, "Crashed"))
        return g_strdup_printf(
            g_str_equal(old_state, "Transient") ? "Qube %s failed to start" : "Qube %s crashed", qube);
    if (g_str_equal(new_state, "Halted") && g_str_equal(old_state, "Transient"))
        return g_strdup_printf("Qube %s failed to start", qube);
    if (g_str_equal(new_state, "Halted") && was_up)
        return g_strdup_printf("Qube %s has shut down", qube);
    return NULL;
}

char *bh_shell_domains_start_failed_notice(const char *qube, const char *reason,
                                           const char *const *dependents)
{
    GString *text = g_string_new(NULL);

    g_string_append_printf(text, "Qube %s failed to start: %s", qube, reason);
    if (dependents != NULL && dependents[0] != NULL) {
        g_autofree char *names = g_strjoinv(", ", (char **)dependents);
        g_string_append_printf(
            text, "\nNot started either, as their network goes through %s: %s. Start %s again once %s runs.",
            qube, names, dependents[1] != NULL ? "them" : "it", qube);
    }
    return g_string_free(text, FALSE);
}

char *bh_shell_domains_figures(guint64 memory, double cpu_percent)
{
    guint64 mib = (memory + 512 * 1024) / (1024 * 1024);

    if (cpu_percent < 0)
        return g_strdup_printf("%" G_GUINT64_FORMAT " MiB", mib);
    return g_strdup_printf("%" G_GUINT64_FORMAT " MiB · %.0f %%", mib, cpu_percent);
}

/* name: state, then the figures, netvm and template when there are any. */
static char *qube_tooltip(BhShellDomains *self, BhShellQube *qube, const char *word)
{
    const char *name = bh_shell_qube_get_name(qube);
    const char *netvm = bh_shell_qube_get_netvm(qube);
    const char *template_name = bh_shell_qube_get_template(qube);
    GString *text = g_string_new(NULL);
    guint64 memory;
    double cpu;

    g_string_append_printf(text, "%s: %s", name, word);
    if (bh_shell_qubes_get_stats(self->qubes, name, &memory, &cpu)) {
        g_autofree char *figures = bh_shell_domains_figures(memory, cpu);
        g_string_append_printf(text, "\n%s", figures);
    }
    g_string_append_printf(text, "\nnetvm: %s", *netvm != '\0' ? netvm : "none");
    if (*template_name != '\0')
        g_string_append_printf(text, "\ntemplate: %s", template_name);
    return g_string_free(text, FALSE);
}

/* The kind's label icon (icons/, bh-<kind>-<label>): the chips, the rows;
 * the plain square for a label the build has no icon for. */
static GtkWidget *kind_icon_new(BhShellQube *qube)
{
    g_autofree char *name = bh_shell_qube_icon_name(qube);
    GtkIconTheme *theme = gtk_icon_theme_get_for_display(gdk_display_get_default());
    GtkWidget *icon;

    if (!gtk_icon_theme_has_icon(theme, name))
        return swatch_new(qube);
    icon = gtk_image_new_from_icon_name(name);
    gtk_image_set_pixel_size(GTK_IMAGE(icon), 16);
    gtk_widget_set_valign(icon, GTK_ALIGN_CENTER);
    return icon;
}

static GtkWidget *chip_new(BhShellDomains *self, BhShellQube *qube)
{
    const char *state = bh_shell_qube_get_state(qube);
    GtkWidget *chip = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 4);
    g_autofree char *tooltip = qube_tooltip(self, qube, state_word(state));

    gtk_widget_add_css_class(chip, "bh-chip");
    add_state_classes(chip, state, FALSE);
    gtk_box_append(GTK_BOX(chip), kind_icon_new(qube));
    gtk_box_append(GTK_BOX(chip), gtk_label_new(bh_shell_qube_get_name(qube)));
    if (!g_str_equal(state, "Running")) {
        if (g_str_equal(state, "Transient")) {
            GtkWidget *spinner = gtk_spinner_new();
            gtk_spinner_start(GTK_SPINNER(spinner));
            gtk_box_append(GTK_BOX(chip), spinner);
            /* For the tests, which wait for it rather than for a time. */
            g_debug("domains: chip %s: starting, with a spinner", bh_shell_qube_get_name(qube));
        } else {
            GtkWidget *word = gtk_label_new(state_word(state));
            gtk_widget_add_css_class(word, "bh-state");
            gtk_box_append(GTK_BOX(chip), word);
        }
    }
    gtk_widget_set_tooltip_text(chip, tooltip);
    g_debug("domains: chip %s: %s", bh_shell_qube_get_name(qube), state);
    g_hash_table_insert(self->chips_by_name, g_strdup(bh_shell_qube_get_name(qube)), chip);
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
    if (verb == bh_shell_qubes_shutdown)
        g_hash_table_insert(self->shutdowns, g_strdup(qube),
                            g_memdup2(&(gint64){g_get_monotonic_time()}, sizeof(gint64)));
    verb(self->qubes, qube);
}

static void bh_terminal(BhShellQubes *qubes, const char *qube)
{
    bh_shell_qubes_run(qubes, qube, "foot");
}

/* dom0's settings app (helper "settings" writes it), for this qube; the
 * one program the shell starts itself, never one a qube names. */
static void on_settings_clicked(GtkButton *button, BhShellDomains *self)
{
    const char *qube = g_object_get_data(G_OBJECT(button), "bh-qube");
    g_autoptr(GError) error = NULL;

    if (!bh_shell_open_settings(qube, &error)) {
        g_autofree char *text = g_strdup_printf("Settings of %s: %s", qube, error->message);
        gtk_label_set_text(GTK_LABEL(self->message), text);
        gtk_widget_set_visible(self->message, TRUE);
    }
}

static void add_settings(BhShellDomains *self, GtkWidget *box, BhShellQube *qube, gboolean installed)
{
    GtkWidget *button = gtk_button_new_with_label("Settings");

    gtk_widget_add_css_class(button, "bh-verb");
    g_object_set_data_full(G_OBJECT(button), "bh-qube", g_strdup(bh_shell_qube_get_name(qube)), g_free);
    g_signal_connect(button, "clicked", G_CALLBACK(on_settings_clicked), self);
    gtk_widget_set_sensitive(button, installed);
    gtk_widget_set_tooltip_text(button, installed ? "Open this qube's settings (bulkhead-settings)"
                                                  : "bulkhead-settings is not installed");
    gtk_box_append(GTK_BOX(box), button);
}

/* A Shutdown clicked long enough ago for a qube that is still up. */
static gboolean kill_offered(BhShellDomains *self, const char *name, const char *state)
{
    const gint64 *since = g_hash_table_lookup(self->shutdowns, name);

    return since != NULL && !g_str_equal(state, "Halted") && !g_str_equal(state, "Crashed") &&
           g_get_monotonic_time() - *since >= BH_SHELL_KILL_OFFER_S * G_USEC_PER_SEC;
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

static GtkWidget *row_new(BhShellDomains *self, BhShellQube *qube, gboolean settings_installed)
{
    const char *name = bh_shell_qube_get_name(qube);
    const char *state = bh_shell_qube_get_state(qube);
    const char *failure = g_hash_table_lookup(self->failed, name);
    GtkWidget *row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
    GtkWidget *title = gtk_label_new(name);
    GtkWidget *word = gtk_label_new(failure != NULL ? "failed" : state_word(state));
    GtkWidget *figures = gtk_label_new(NULL);
    g_autofree char *tooltip = qube_tooltip(self, qube, failure != NULL ? "failed" : state_word(state));
    GtkWidget *verbs = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 4);
    GtkWidget *row_verbs = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 0);
    GtkWidget *kind;

    gtk_widget_add_css_class(row, "bh-domain-row");
    add_state_classes(row, state, failure != NULL);
    gtk_label_set_xalign(GTK_LABEL(title), 0);
    gtk_label_set_width_chars(GTK_LABEL(title), 16);
    gtk_label_set_ellipsize(GTK_LABEL(title), PANGO_ELLIPSIZE_END);
    gtk_widget_set_hexpand(title, TRUE);
    gtk_label_set_xalign(GTK_LABEL(word), 0);
    gtk_label_set_width_chars(GTK_LABEL(word), 9);
    gtk_widget_add_css_class(word, "bh-state");
    gtk_label_set_xalign(GTK_LABEL(figures), 1);
    gtk_label_set_width_chars(GTK_LABEL(figures), 14);
    gtk_widget_add_css_class(figures, "bh-figures");
    g_hash_table_insert(self->figures, g_strdup(name), figures);
    gtk_widget_set_tooltip_text(row, failure != NULL ? failure : tooltip);
    kind = kind_icon_new(qube);
    gtk_widget_set_tooltip_text(kind, bh_shell_qube_get_kind(qube));
    gtk_box_append(GTK_BOX(row), kind);
    gtk_box_append(GTK_BOX(row), title);
    gtk_box_append(GTK_BOX(row), word);
    gtk_box_append(GTK_BOX(row), figures);
    /* The verbs sit at the right edge of a column as wide as the widest. */
    gtk_widget_set_halign(verbs, GTK_ALIGN_END);
    gtk_widget_set_hexpand(verbs, TRUE);
    gtk_box_append(GTK_BOX(row_verbs), verbs);
    gtk_size_group_add_widget(self->verbs, row_verbs);
    gtk_box_append(GTK_BOX(row), row_verbs);

    /* Settings first: the right-most verb is the one the state calls for. */
    add_settings(self, verbs, qube, settings_installed);
    if (g_str_equal(state, "Halted") || g_str_equal(state, "Crashed")) {
        add_verb(self, verbs, qube, "Start", bh_shell_qubes_start);
    } else if (g_str_equal(state, "Running")) {
        add_verb(self, verbs, qube, "Terminal", bh_terminal);
        add_verb(self, verbs, qube, "Pause", bh_shell_qubes_pause);
        add_verb(self, verbs, qube, "Restart", bh_shell_qubes_restart);
        add_verb(self, verbs, qube, "Shutdown", bh_shell_qubes_shutdown);
    } else if (g_str_equal(state, "Paused")) {
        add_verb(self, verbs, qube, "Unpause", bh_shell_qubes_unpause);
        add_verb(self, verbs, qube, "Shutdown", bh_shell_qubes_shutdown);
    }
    if (kill_offered(self, name, state))
        add_verb(self, verbs, qube, "Kill", bh_shell_qubes_kill);
    return row;
}

static void clear_box(GtkWidget *box)
{
    GtkWidget *child;

    while ((child = gtk_widget_get_first_child(box)) != NULL)
        gtk_box_remove(GTK_BOX(box), child);
}

/* New figures: the rows' labels and the chips' tooltips, in place. */
static void show_figures(BhShellDomains *self)
{
    GHashTableIter iter;
    gpointer name, widget;

    g_hash_table_iter_init(&iter, self->figures);
    while (g_hash_table_iter_next(&iter, &name, &widget)) {
        guint64 memory;
        double cpu;
        g_autofree char *text = NULL;

        if (bh_shell_qubes_get_stats(self->qubes, name, &memory, &cpu))
            text = bh_shell_domains_figures(memory, cpu);
        gtk_label_set_text(GTK_LABEL(widget), text != NULL ? text : "");
    }
    g_hash_table_iter_init(&iter, self->chips_by_name);
    while (g_hash_table_iter_next(&iter, &name, &widget)) {
        BhShellQube *qube = bh_shell_qubes_find(self->qubes, name);
        g_autofree char *tooltip = NULL;

        if (qube == NULL)
            continue;
        tooltip = qube_tooltip(self, qube, state_word(bh_shell_qube_get_state(qube)));
        gtk_widget_set_tooltip_text(widget, tooltip);
    }
}

static gboolean rebuild(gpointer data)
{
    BhShellDomains *self = data;
    GListModel *model = bh_shell_qubes_get_model(self->qubes);
    guint n = g_list_model_get_n_items(model);
    g_autofree char *settings = g_find_program_in_path("bulkhead-settings");

    self->rebuild_id = 0;
    g_hash_table_remove_all(self->chips_by_name);
    g_hash_table_remove_all(self->figures);
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
        gtk_box_append(GTK_BOX(self->list), row_new(self, qube, settings != NULL));
    }
    show_figures(self);
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

static void on_stats_changed(BhShellQubes *qubes, BhShellDomains *self)
{
    show_figures(self);
}

static gboolean on_kill_offer(gpointer data)
{
    BhShellDomains *self = data;

    self->kill_offer_id = 0;
    queue_rebuild(self);
    return G_SOURCE_REMOVE;
}

static void on_action_started(BhShellQubes *qubes, const char *qube, const char *action, BhShellDomains *self)
{
    BhShellQube *known = bh_shell_qubes_find(qubes, qube);

    /* A Restart is counted at its Start (it calls Start once halted), so a
     * Shutdown that fails is not called a failed start. */
    if ((g_str_equal(action, "Start") || g_str_equal(action, "Run")) && known != NULL &&
        !g_str_equal(bh_shell_qube_get_state(known), "Running"))
        g_hash_table_add(self->starting, g_strdup(qube));
    /* A Shutdown that takes too long: the row offers Kill then. */
    if (g_str_equal(action, "Shutdown")) {
        g_clear_handle_id(&self->kill_offer_id, g_source_remove);
        /* Milliseconds: a seconds timer may fire up to a second early. */
        self->kill_offer_id = g_timeout_add(BH_SHELL_KILL_OFFER_S * 1000 + 50, on_kill_offer, self);
    }
}

static void on_state_changed(BhShellQubes *qubes, const char *qube, const char *old_state,
                             const char *new_state, BhShellDomains *self)
{
    g_autofree char *notice = bh_shell_domains_state_notice(qube, old_state, new_state);
    gboolean down = g_str_equal(new_state, "Halted") || g_str_equal(new_state, "Crashed");
    gboolean failed_start = g_str_equal(old_state, "Transient") && down;
    /* A failed start that left something to kill goes down through Dying:
     * not "has shut down" after "failed to start". */
    gboolean told =
        (down || g_str_equal(new_state, "Running")) && g_hash_table_remove(self->start_failed, qube);

    if (down)
        g_hash_table_remove(self->shutdowns, qube);
    /* A start the user asked for here fails with the daemon's reason: that
     * notice (on_action_failed) says why; this one would only say that. */
    if (failed_start && g_hash_table_contains(self->starting, qube))
        return;
    if (down || g_str_equal(new_state, "Running"))
        g_hash_table_remove(self->starting, qube);
    /* Any other start: the daemon's StartFailed says why (on_start_failed),
     * before or after this change as the backend reports it. */
    if (failed_start || (told && down))
        return;
    if (notice != NULL)
        bh_shell_notify_send("Qubes", notice);
}

static gboolean on_fail_card_due(gpointer data)
{
    BhFailCard *card = data;
    BhShellDomains *self = card->self;
    GHashTableIter iter;
    gpointer owner;

    card->timer = 0;
    g_ptr_array_add(card->dependents, NULL);
    g_autofree char *notice = bh_shell_domains_start_failed_notice(
        card->qube, card->reason, (const char *const *)card->dependents->pdata);
    bh_shell_notify_send("Qubes", notice);
    g_hash_table_iter_init(&iter, self->fail_joined);
    while (g_hash_table_iter_next(&iter, NULL, &owner))
        if (g_str_equal(owner, card->qube))
            g_hash_table_iter_remove(&iter);
    g_hash_table_remove(self->fail_cards, card->qube);
    return G_SOURCE_REMOVE;
}

/* A failed start, told once: joined to the card of its netvm (or of the
 * qube that one joined) when that one's start failed a moment ago, else a
 * card of its own that waits BH_SHELL_START_FAILED_MS for its clients. */
static void tell_start_failed(BhShellDomains *self, const char *qube, const char *reason)
{
    BhShellQube *known = bh_shell_qubes_find(self->qubes, qube);
    const char *netvm = known != NULL ? bh_shell_qube_get_netvm(known) : "";
    const char *owner = g_hash_table_contains(self->fail_cards, netvm)
                            ? netvm
                            : g_hash_table_lookup(self->fail_joined, netvm);
    BhFailCard *card;

    if (*netvm != '\0' && owner != NULL && !g_hash_table_contains(self->fail_cards, qube)) {
        card = g_hash_table_lookup(self->fail_cards, owner);
        if (!g_ptr_array_find_with_equal_func(card->dependents, qube, g_str_equal, NULL))
            g_ptr_array_add(card->dependents, g_strdup(qube));
        g_hash_table_replace(self->fail_joined, g_strdup(qube), g_strdup(owner));
        return;
    }
    if (g_hash_table_contains(self->fail_cards, qube))
        return; /* told already: its StartFailed and the failed call's answer */
    card = g_new0(BhFailCard, 1);
    card->self = self;
    card->qube = g_strdup(qube);
    card->reason = g_strdup(reason);
    card->dependents = g_ptr_array_new_with_free_func(g_free);
    card->timer = g_timeout_add(BH_SHELL_START_FAILED_MS, on_fail_card_due, card);
    g_hash_table_replace(self->fail_cards, g_strdup(qube), card);
}

/* A start the shell did not ask for (autostart, a call from a qube, the
 * command line) failed: the daemon's reason. One the user asked for here is
 * told by on_action_failed, with the same reason. */
static void on_start_failed(BhShellQubes *qubes, const char *qube, const char *reason, BhShellDomains *self)
{
    g_hash_table_add(self->start_failed, g_strdup(qube));
    if (g_hash_table_contains(self->starting, qube))
        return;
    tell_start_failed(self, qube, reason);
}

static void on_action_failed(BhShellQubes *qubes, const char *qube, const char *action, const char *message,
                             BhShellDomains *self)
{
    g_autofree char *text = g_strdup_printf("%s %s: %s", action, qube, message);

    if (g_hash_table_remove(self->starting, qube))
        tell_start_failed(self, qube, message);

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
    g_clear_handle_id(&self->kill_offer_id, g_source_remove);
    g_clear_pointer(&self->chips_by_name, g_hash_table_unref);
    g_clear_pointer(&self->figures, g_hash_table_unref);
    g_clear_pointer(&self->shutdowns, g_hash_table_unref);
    g_clear_pointer(&self->starting, g_hash_table_unref);
    g_clear_pointer(&self->start_failed, g_hash_table_unref);
    g_clear_pointer(&self->fail_cards, g_hash_table_unref);
    g_clear_pointer(&self->fail_joined, g_hash_table_unref);
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
    self->chips_by_name = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    self->figures = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    self->shutdowns = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    self->starting = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    self->start_failed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    self->fail_cards = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)fail_card_free);
    self->fail_joined = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
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
    g_signal_connect(qubes, "action-started", G_CALLBACK(on_action_started), self);
    g_signal_connect(qubes, "state-changed", G_CALLBACK(on_state_changed), self);
    g_signal_connect(qubes, "start-failed", G_CALLBACK(on_start_failed), self);
    g_signal_connect(qubes, "stats-changed", G_CALLBACK(on_stats_changed), self);
    rebuild(self);
    return GTK_WIDGET(self);
}
