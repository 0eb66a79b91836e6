/* bh-settings-create.c — the "Create a qube" window (see the header). */
#define G_LOG_DOMAIN "bh-settings"

#include "bh-settings-create.h"

#include "bh-settings-util.h"
#include "bh-shell-qube.h"

struct _BhSettingsCreate {
    GtkWindow parent_instance;
    BhSettingsContext *context;
    GCancellable *cancellable;
    GtkWidget *type, *name, *label, *template_choice, *netvm, *provides_network, *memory, *vcpus, *open_after;
    GtkWidget *name_error, *label_error, *template_error, *netvm_error, *memory_error, *advanced_error,
        *create_error;
    GtkWidget *create;
    GtkWidget *apps, *apps_note; /* the template's apps: which the menu shows */
    char *apps_of;               /* whose list is shown (or asked for) */
    char *default_template, *default_dispvm, *default_netvm;
    guint generation; /* the newest check asked for; older answers are dropped */
    guint answered;   /* the newest check answered (== generation: none in flight) */
    guint checks;
    gboolean creating;
};

G_DEFINE_FINAL_TYPE(BhSettingsCreate, bh_settings_create, GTK_TYPE_WINDOW)

/* The types a user chooses from; a disposable template is an AppVM with
 * template_for_dispvms, as in Qubes. */
static const char *const bh_type_values[] = {"AppVM",  "TemplateVM",   "StandaloneVM",
                                             "DispVM", "dvm-template", NULL};
static const char *const bh_type_texts[] = {
    "App qube", "Template", "Standalone", "Named disposable", "Disposable template", NULL};

static void bh_create_check(BhSettingsCreate *self);

static const char *bh_class_of(BhSettingsCreate *self)
{
    const char *type = bh_settings_choice_get(self->type);
    return g_str_equal(type, "dvm-template") ? "AppVM" : type;
}

static gboolean bh_has_template(BhSettingsCreate *self)
{
    const char *type = bh_settings_choice_get(self->type);
    return g_str_equal(type, "AppVM") || g_str_equal(type, "DispVM") || g_str_equal(type, "dvm-template");
}

/* The template and network lists from the live qube list, keeping what the
 * user chose when it is still there. */
static void bh_fill_choices(BhSettingsCreate *self)
{
    GListModel *qubes = bh_shell_qubes_get_model(bh_settings_context_get_qubes(self->context));
    gboolean dispvm = g_str_equal(bh_settings_choice_get(self->type), "DispVM");
    g_autofree char *old_template = g_strdup(bh_settings_choice_get(self->template_choice));
    g_autofree char *old_netvm = g_strdup(bh_settings_choice_get(self->netvm));
    g_autoptr(GStrvBuilder) tv = g_strv_builder_new(), tt = g_strv_builder_new();
    g_autoptr(GStrvBuilder) nv = g_strv_builder_new(), nt = g_strv_builder_new();
    g_autofree char *template_default = NULL, *netvm_default = NULL;
    const char *def = dispvm ? self->default_dispvm : self->default_template;

    template_default = g_strdup_printf("default (%s)", def != NULL && *def ? def : "none");
    g_strv_builder_add(tv, "");
    g_strv_builder_add(tt, bh_has_template(self) ? template_default : "none (this type has no template)");
    netvm_default = g_strdup_printf(
        "default (%s)", self->default_netvm != NULL && *self->default_netvm ? self->default_netvm : "none");
    g_strv_builder_add(nv, "");
    g_strv_builder_add(nt, netvm_default);
    g_strv_builder_add(nv, "none");
    g_strv_builder_add(nt, "none (no network)");
    for (guint i = 0; i < g_list_model_get_n_items(qubes); i++) {
        g_autoptr(BhShellQube) qube = g_list_model_get_item(qubes, i);
        const char *name = bh_shell_qube_get_name(qube);
        const char *klass = bh_shell_qube_get_class(qube);

        if (bh_has_template(self) &&
            (dispvm ? bh_shell_qube_is_dispvm_template(qube) : g_str_equal(klass, "TemplateVM"))) {
            g_strv_builder_add(tv, name);
            g_strv_builder_add(tt, name);
        }
        if (bh_shell_qube_provides_network(qube)) {
            g_strv_builder_add(nv, name);
            g_strv_builder_add(nt, name);
        }
    }
    g_auto(GStrv) tvs = g_strv_builder_end(tv), tts = g_strv_builder_end(tt);
    g_auto(GStrv) nvs = g_strv_builder_end(nv), nts = g_strv_builder_end(nt);
    bh_settings_choice_set(self->template_choice, (const char *const *)tvs, (const char *const *)tts,
                           old_template);
    bh_settings_choice_set(self->netvm, (const char *const *)nvs, (const char *const *)nts, old_netvm);
    gtk_widget_set_sensitive(self->template_choice, bh_has_template(self));
}

/* ---- applications in the menu ------------------------------------------------ */

/* The template the new qube will use, default resolved; NULL for a type
 * without one. */
static const char *bh_effective_template(BhSettingsCreate *self)
{
    const char *chosen = bh_settings_choice_get(self->template_choice);
    gboolean dispvm = g_str_equal(bh_settings_choice_get(self->type), "DispVM");

    if (!bh_has_template(self))
        return NULL;
    if (*chosen != '\0')
        return chosen;
    chosen = dispvm ? self->default_dispvm : self->default_template;
    return chosen != NULL && *chosen != '\0' ? chosen : NULL;
}

typedef struct {
    BhSettingsCreate *self; /* strong */
    char *of;               /* the template asked about */
} BhAppsAsk;

static void on_template_apps(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autofree BhAppsAsk *ask = data;
    g_autoptr(BhSettingsCreate) self = ask->self;
    g_autofree char *of = ask->of;
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) apps = NULL;
    g_autofree char *from = NULL, *problem = NULL, *note = NULL;
    guint n;

    if (!bh_dbus_admin1_call_list_apps_finish(BH_DBUS_ADMIN1(source), &apps, &from, &problem, result,
                                              &error)) {
        if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED) && g_strcmp0(of, self->apps_of) == 0) {
            g_autofree char *text = bh_settings_error_text(error);
            gtk_label_set_text(GTK_LABEL(self->apps_note), text);
        }
        return;
    }
    if (g_strcmp0(of, self->apps_of) != 0)
        return; /* the user chose another template since */
    /* Ticked as the template's menu shows them (its in_menu): a new qube
     * whose menu_items is left at default shows the same, unless changed here. */
    n = bh_settings_apps_fill(self->apps, apps, self->apps_of != NULL ? self->apps_of : "", FALSE,
                              G_CALLBACK(bh_settings_apps_touch));
    g_object_set_data(G_OBJECT(self->apps), "bh-touched", GINT_TO_POINTER(FALSE));
    if (*problem != '\0')
        note = g_strdup_printf("The last list of %s was refused: %s", self->apps_of, problem);
    else if (n == 0)
        note = g_strdup_printf("%s has no list yet (a qube's list is read each time it starts): the menu "
                               "will show what the menu of %s shows.",
                               self->apps_of, self->apps_of);
    else
        note = g_strdup_printf("The applications of %s; the new qube's menu shows the ticked ones:",
                               self->apps_of);
    gtk_label_set_text(GTK_LABEL(self->apps_note), note);
}

static void bh_load_template_apps(BhSettingsCreate *self)
{
    const char *template_name = bh_effective_template(self);
    BhAppsAsk *ask;

    if (self->apps == NULL || g_strcmp0(template_name, self->apps_of) == 0)
        return;
    g_free(self->apps_of);
    self->apps_of = g_strdup(template_name);
    bh_settings_apps_fill(self->apps, g_variant_new_array(G_VARIANT_TYPE("(sssssbuuay)"), NULL, 0), "", TRUE,
                          NULL);
    gtk_label_set_text(GTK_LABEL(self->apps_note),
                       template_name != NULL ? "" : "This type of qube has its own applications.");
    if (template_name == NULL)
        return;
    ask = g_new0(BhAppsAsk, 1);
    ask->self = g_object_ref(self);
    ask->of = g_strdup(template_name);
    bh_dbus_admin1_call_list_apps(bh_settings_context_get_admin(self->context), template_name,
                                  self->cancellable, on_template_apps, ask);
}

static GVariant *bh_create_args(BhSettingsCreate *self)
{
    GVariantBuilder props;
    const char *type = bh_settings_choice_get(self->type);
    const char *netvm = bh_settings_choice_get(self->netvm);
    int memory = gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(self->memory));
    int vcpus = gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(self->vcpus));

    g_variant_builder_init(&props, G_VARIANT_TYPE("a{ss}"));
    if (*netvm != '\0')
        g_variant_builder_add(&props, "{ss}", "netvm", netvm);
    if (gtk_check_button_get_active(GTK_CHECK_BUTTON(self->provides_network)))
        g_variant_builder_add(&props, "{ss}", "provides_network", "True");
    if (g_str_equal(type, "dvm-template"))
        g_variant_builder_add(&props, "{ss}", "template_for_dispvms", "True");
    /* A named disposable stays when it stops, as in Qubes. */
    if (g_str_equal(type, "DispVM"))
        g_variant_builder_add(&props, "{ss}", "auto_cleanup", "False");
    /* 0 is "from the template": not sent, so the qube keeps inheriting. */
    if (memory > 0) {
        g_autofree char *text = g_strdup_printf("%d", memory);
        g_variant_builder_add(&props, "{ss}", "memory", text);
    }
    if (vcpus > 0) {
        g_autofree char *text = g_strdup_printf("%d", vcpus);
        g_variant_builder_add(&props, "{ss}", "vcpus", text);
    }
    return g_variant_new("(ssssa{ss})", bh_class_of(self), gtk_editable_get_text(GTK_EDITABLE(self->name)),
                         bh_settings_label_picker_get(self->label),
                         bh_has_template(self) ? bh_settings_choice_get(self->template_choice) : "", &props);
}

static void bh_clear_errors(BhSettingsCreate *self)
{
    GtkWidget *errors[] = {self->name_error,   self->label_error,    self->template_error, self->netvm_error,
                           self->memory_error, self->advanced_error, self->create_error};

    for (gsize i = 0; i < G_N_ELEMENTS(errors); i++)
        bh_settings_error_set(errors[i], NULL);
}

/* The daemon's sentence under the field it concerns; anything else under
 * the buttons. */
static void bh_show_error(BhSettingsCreate *self, const GError *error)
{
    g_autofree char *text = bh_settings_error_text(error);
    const char *field = bh_settings_error_field(error);
    GtkWidget *where = self->create_error;

    if (g_strcmp0(field, "name") == 0)
        where = self->name_error;
    else if (g_strcmp0(field, "label") == 0)
        where = self->label_error;
    else if (g_strcmp0(field, "template") == 0)
        where = self->template_error;
    else if (g_strcmp0(field, "netvm") == 0)
        where = self->netvm_error;
    else if (g_strcmp0(field, "memory") == 0)
        where = self->memory_error;
    else if (field != NULL)
        where = self->advanced_error;
    bh_settings_error_set(where, text);
}

typedef struct {
    BhSettingsCreate *self; /* strong */
    guint generation;
} BhCheck;

static void on_checked(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autofree BhCheck *check = data;
    g_autoptr(BhSettingsCreate) self = check->self;
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) reply = g_dbus_proxy_call_finish(G_DBUS_PROXY(source), result, &error);

    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || check->generation != self->generation)
        return;
    bh_clear_errors(self);
    if (reply == NULL)
        bh_show_error(self, error);
    self->answered = check->generation;
    self->checks++;
    gtk_widget_set_sensitive(self->create, reply != NULL && !self->creating);
}

static void bh_create_check(BhSettingsCreate *self)
{
    BhCheck *check;

    if (self->create == NULL)
        return; /* still being built: the first check comes at the end */
    self->generation++;
    gtk_widget_set_sensitive(self->create, FALSE);
    if (*gtk_editable_get_text(GTK_EDITABLE(self->name)) == '\0') {
        /* Nothing typed yet is not an error to shout about; Create waits. */
        bh_clear_errors(self);
        self->answered = self->generation;
        self->checks++;
        return;
    }
    check = g_new0(BhCheck, 1);
    check->self = g_object_ref(self);
    check->generation = self->generation;
    g_dbus_proxy_call(G_DBUS_PROXY(bh_settings_context_get_admin(self->context)), "CheckCreate",
                      bh_create_args(self), G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, self->cancellable,
                      on_checked, check);
}

static void bh_create_done(BhSettingsCreate *self);

static void on_menu_set(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(BhSettingsCreate) self = data;
    g_autoptr(GError) error = NULL;

    if (!bh_dbus_admin1_call_set_property_finish(BH_DBUS_ADMIN1(source), result, &error)) {
        g_autofree char *text = NULL, *shown = NULL;
        if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            return;
        /* The qube is made; only its menu choice failed: said, and the
         * window stays so the ticks are not lost. */
        self->creating = FALSE;
        text = bh_settings_error_text(error);
        shown = g_strdup_printf("Created, but the menu's applications were not set: %s", text);
        bh_settings_error_set(self->create_error, shown);
        return;
    }
    self->creating = FALSE;
    bh_create_done(self);
}

static void on_created(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(BhSettingsCreate) self = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) reply = g_dbus_proxy_call_finish(G_DBUS_PROXY(source), result, &error);

    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
    self->creating = FALSE;
    if (reply == NULL) {
        /* Everything typed stays; the refusal goes where it belongs. */
        bh_clear_errors(self);
        bh_show_error(self, error);
        gtk_widget_set_sensitive(self->create, FALSE);
        return;
    }
    g_info("created %s", gtk_editable_get_text(GTK_EDITABLE(self->name)));
    {
        g_autofree char *items = g_object_get_data(G_OBJECT(self->apps), "bh-touched") != NULL
                                     ? bh_settings_apps_value(self->apps)
                                     : NULL;
        if (items != NULL) {
            /* The qube exists now: its menu choice is a property like any. */
            self->creating = TRUE;
            bh_dbus_admin1_call_set_property(bh_settings_context_get_admin(self->context),
                                             gtk_editable_get_text(GTK_EDITABLE(self->name)), "menu_items",
                                             items, self->cancellable, on_menu_set, g_object_ref(self));
            return;
        }
    }
    bh_create_done(self);
}

static void bh_create_done(BhSettingsCreate *self)
{
    if (gtk_check_button_get_active(GTK_CHECK_BUTTON(self->open_after)))
        bh_settings_open(self->context, "qube", gtk_editable_get_text(GTK_EDITABLE(self->name)), NULL);
    gtk_window_destroy(GTK_WINDOW(self));
}

static void on_create_clicked(GtkButton *button, BhSettingsCreate *self)
{
    self->creating = TRUE;
    gtk_widget_set_sensitive(self->create, FALSE);
    /* Volumes are made before the reply: longer than D-Bus' default. */
    g_dbus_proxy_call(G_DBUS_PROXY(bh_settings_context_get_admin(self->context)), "Create",
                      bh_create_args(self), G_DBUS_CALL_FLAGS_NO_AUTO_START, BH_SETTINGS_LONG_CALL_MS,
                      self->cancellable, on_created, g_object_ref(self));
}

static void on_changed(gpointer data)
{
    bh_create_check(data);
}

static void on_type_changed(BhSettingsCreate *self)
{
    bh_fill_choices(self);
    bh_create_check(self);
    bh_load_template_apps(self);
}

static void on_template_changed(BhSettingsCreate *self)
{
    bh_create_check(self);
    bh_load_template_apps(self);
}

static void on_globals(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(BhSettingsCreate) self = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) globals = NULL;

    if (!bh_dbus_admin1_call_get_globals_finish(BH_DBUS_ADMIN1(source), &globals, result, &error)) {
        if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            g_message("cannot read the global defaults: %s", error->message);
        return;
    }
    g_clear_pointer(&self->default_template, g_free);
    g_clear_pointer(&self->default_dispvm, g_free);
    g_clear_pointer(&self->default_netvm, g_free);
    g_variant_lookup(globals, "default_template", "(sb)", &self->default_template, NULL);
    g_variant_lookup(globals, "default_dispvm", "(sb)", &self->default_dispvm, NULL);
    g_variant_lookup(globals, "default_netvm", "(sb)", &self->default_netvm, NULL);
    bh_fill_choices(self);
    bh_load_template_apps(self);
}

static void bh_read_globals(BhSettingsCreate *self)
{
    bh_dbus_admin1_call_get_globals(bh_settings_context_get_admin(self->context), self->cancellable,
                                    on_globals, g_object_ref(self));
}

static gboolean on_spin_output(GtkSpinButton *spin, gpointer data)
{
    if (gtk_spin_button_get_value_as_int(spin) != 0)
        return FALSE;
    gtk_editable_set_text(GTK_EDITABLE(spin), "from template");
    return TRUE;
}

static int on_spin_input(GtkSpinButton *spin, double *value, gpointer data)
{
    const char *text = gtk_editable_get_text(GTK_EDITABLE(spin));
    char *end = NULL;
    double parsed;

    if (g_str_has_prefix(text, "from") || *text == '\0') {
        *value = 0;
        return TRUE;
    }
    parsed = g_ascii_strtod(text, &end);
    if (end == text || *end != '\0')
        return GTK_INPUT_ERROR;
    *value = parsed;
    return TRUE;
}

static GtkWidget *bh_spin(const char *name, double max)
{
    GtkWidget *spin = gtk_spin_button_new_with_range(0, max, 1);

    gtk_widget_set_name(spin, name);
    g_signal_connect(spin, "output", G_CALLBACK(on_spin_output), NULL);
    g_signal_connect(spin, "input", G_CALLBACK(on_spin_input), NULL);
    return spin;
}

static void bh_settings_create_dispose(GObject *object)
{
    BhSettingsCreate *self = BH_SETTINGS_CREATE(object);

    g_cancellable_cancel(self->cancellable);
    bh_settings_context_release(&self->context, self);
    g_clear_object(&self->cancellable);
    g_clear_pointer(&self->default_template, g_free);
    g_clear_pointer(&self->default_dispvm, g_free);
    g_clear_pointer(&self->default_netvm, g_free);
    g_clear_pointer(&self->apps_of, g_free);
    G_OBJECT_CLASS(bh_settings_create_parent_class)->dispose(object);
}

static void bh_settings_create_class_init(BhSettingsCreateClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = bh_settings_create_dispose;
}

static void bh_settings_create_init(BhSettingsCreate *self)
{
    self->cancellable = g_cancellable_new();
}

static void on_cancel(GtkButton *button, GtkWindow *window)
{
    gtk_window_destroy(window);
}

BhSettingsCreate *bh_settings_create_new(BhSettingsContext *context)
{
    BhSettingsCreate *self = g_object_new(BH_TYPE_SETTINGS_CREATE, "title", "Create a qube", NULL);
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 8);
    GtkWidget *grid = gtk_grid_new();
    GtkWidget *advanced = gtk_expander_new("Advanced");
    GtkWidget *apps_expander = gtk_expander_new("Applications to show in the menu");
    GtkWidget *advanced_grid = gtk_grid_new();
    GtkWidget *buttons = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
    GtkWidget *cancel = gtk_button_new_with_label("Cancel");
    int row = 0, arow = 0;

    self->context = g_object_ref(context);
    gtk_widget_add_css_class(box, "bh-form");
    gtk_grid_set_row_spacing(GTK_GRID(grid), 6);
    gtk_grid_set_column_spacing(GTK_GRID(grid), 12);
    gtk_grid_set_row_spacing(GTK_GRID(advanced_grid), 6);
    gtk_grid_set_column_spacing(GTK_GRID(advanced_grid), 12);

    self->type = bh_settings_choice_new("type");
    bh_settings_choice_set(self->type, bh_type_values, bh_type_texts, "AppVM");
    bh_settings_grid_row(GTK_GRID(grid), &row, "Type", self->type, NULL);

    self->name = gtk_entry_new();
    gtk_widget_set_name(self->name, "name");
    gtk_entry_set_placeholder_text(GTK_ENTRY(self->name), "a letter, then letters, digits, _ . -");
    self->name_error = bh_settings_error_new("name-error");
    bh_settings_grid_row(GTK_GRID(grid), &row, "Name", self->name, self->name_error);

    self->label = bh_settings_label_picker_new(bh_settings_context_get_labels(context), on_changed, self);
    bh_settings_label_picker_set(self->label, "red");
    self->label_error = bh_settings_error_new("label-error");
    bh_settings_grid_row(GTK_GRID(grid), &row, "Label", self->label, self->label_error);

    self->template_choice = bh_settings_choice_new("template");
    self->template_error = bh_settings_error_new("template-error");
    bh_settings_grid_row(GTK_GRID(grid), &row, "Template", self->template_choice, self->template_error);

    self->netvm = bh_settings_choice_new("netvm");
    self->netvm_error = bh_settings_error_new("netvm-error");
    bh_settings_grid_row(GTK_GRID(grid), &row, "Network", self->netvm, self->netvm_error);

    self->provides_network = gtk_check_button_new_with_label("Provides network to other qubes");
    gtk_widget_set_name(self->provides_network, "provides-network");
    gtk_grid_attach(GTK_GRID(advanced_grid), self->provides_network, 1, arow++, 1, 1);
    self->memory = bh_spin("memory", 1048576);
    self->memory_error = bh_settings_error_new("memory-error");
    bh_settings_grid_row(GTK_GRID(advanced_grid), &arow, "Memory (MiB)", self->memory, self->memory_error);
    self->vcpus = bh_spin("vcpus", 512);
    self->advanced_error = bh_settings_error_new("advanced-error");
    bh_settings_grid_row(GTK_GRID(advanced_grid), &arow, "Virtual CPUs", self->vcpus, self->advanced_error);
    gtk_expander_set_child(GTK_EXPANDER(advanced), advanced_grid);
    gtk_widget_set_name(advanced, "advanced");

    {
        GtkWidget *apps_box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 4);
        GtkWidget *scrolled = gtk_scrolled_window_new();

        gtk_widget_set_name(apps_expander, "apps");
        self->apps_note = gtk_label_new(NULL);
        gtk_widget_set_name(self->apps_note, "create-apps-note");
        gtk_label_set_wrap(GTK_LABEL(self->apps_note), TRUE);
        gtk_label_set_xalign(GTK_LABEL(self->apps_note), 0);
        self->apps = gtk_list_box_new();
        gtk_widget_set_name(self->apps, "create-apps");
        gtk_list_box_set_selection_mode(GTK_LIST_BOX(self->apps), GTK_SELECTION_NONE);
        gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scrolled), self->apps);
        gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(scrolled), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
        gtk_scrolled_window_set_min_content_height(GTK_SCROLLED_WINDOW(scrolled), 160);
        gtk_box_append(GTK_BOX(apps_box), self->apps_note);
        gtk_box_append(GTK_BOX(apps_box), scrolled);
        gtk_expander_set_child(GTK_EXPANDER(apps_expander), apps_box);
    }
    self->open_after = gtk_check_button_new_with_label("Open the qube's settings after creating it");
    gtk_widget_set_name(self->open_after, "open-settings");

    self->create_error = bh_settings_error_new("create-error");
    self->create = gtk_button_new_with_label("Create");
    gtk_widget_set_name(self->create, "create");
    gtk_widget_add_css_class(self->create, "suggested-action");
    gtk_widget_set_sensitive(self->create, FALSE);
    gtk_widget_set_name(cancel, "cancel");
    gtk_widget_set_halign(buttons, GTK_ALIGN_END);
    gtk_box_append(GTK_BOX(buttons), cancel);
    gtk_box_append(GTK_BOX(buttons), self->create);

    gtk_box_append(GTK_BOX(box), grid);
    gtk_box_append(GTK_BOX(box), apps_expander);
    gtk_box_append(GTK_BOX(box), advanced);
    gtk_box_append(GTK_BOX(box), self->open_after);
    gtk_box_append(GTK_BOX(box), self->create_error);
    gtk_box_append(GTK_BOX(box), buttons);
    gtk_window_set_child(GTK_WINDOW(self), box);
    gtk_window_set_default_size(GTK_WINDOW(self), 520, -1);
    gtk_window_set_default_widget(GTK_WINDOW(self), self->create);

    bh_fill_choices(self);
    g_signal_connect_swapped(self->type, "notify::selected", G_CALLBACK(on_type_changed), self);
    g_signal_connect_swapped(self->name, "changed", G_CALLBACK(bh_create_check), self);
    g_signal_connect_swapped(self->name, "activate", G_CALLBACK(gtk_widget_activate_default), self->name);
    g_signal_connect_swapped(self->template_choice, "notify::selected", G_CALLBACK(on_template_changed),
                             self);
    g_signal_connect_swapped(self->netvm, "notify::selected", G_CALLBACK(bh_create_check), self);
    g_signal_connect_swapped(self->provides_network, "toggled", G_CALLBACK(bh_create_check), self);
    g_signal_connect_swapped(self->memory, "value-changed", G_CALLBACK(bh_create_check), self);
    g_signal_connect_swapped(self->vcpus, "value-changed", G_CALLBACK(bh_create_check), self);
    g_signal_connect(self->create, "clicked", G_CALLBACK(on_create_clicked), self);
    g_signal_connect(cancel, "clicked", G_CALLBACK(on_cancel), self);
    g_signal_connect_swapped(bh_settings_context_get_qubes(context), "changed", G_CALLBACK(bh_fill_choices),
                             self);
    g_signal_connect_swapped(bh_settings_context_get_admin(context), "global-changed",
                             G_CALLBACK(bh_read_globals), self);
    bh_read_globals(self);
    return self;
}

guint bh_settings_create_get_checks(BhSettingsCreate *self)
{
    return self->checks;
}

gboolean bh_settings_create_is_checked(BhSettingsCreate *self)
{
    return self->answered == self->generation;
}
