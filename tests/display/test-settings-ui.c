/* test-settings-ui.c — bulkhead-settings' windows against a real bulkheadd on
 * a private bus, on Xvfb with openbox (settings-desktop.sh sets that up).
 * The windows are the real ones (libbh_settings), driven by widget name the
 * way a user's clicks and keys would change them; what the daemon then holds
 * is checked with the real qvm-* commands. Every screen is saved as a
 * screenshot (tests/display/shots/settings-*.png).
 *
 * Owns: test scaffolding only. Must never: reach the daemon but through the
 * settings' own windows for what is tested (qvm-* for setting up and
 * checking). */
#include "bh-display.h"
#include "bh-settings-context.h"
#include "bh-settings-create.h"
#include "bh-settings-firewall.h"
#include "bh-settings-global.h"
#include "bh-settings-policy.h"
#include "bh-settings-manager.h"
#include "bh-settings-netmap.h"
#include "bh-settings-qube.h"
#include "bh-settings-util.h"
#include "bh-dbus-error.h"

#include <gtk/gtk.h>
#include <gdk/x11/gdkx.h>
#include <glib/gstdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <unistd.h>

static BhSettingsContext *context;
static Display *dpy;

/* ---- helpers ---------------------------------------------------------------- */

static GtkWidget *find(GtkWidget *root, const char *name)
{
    if (g_strcmp0(gtk_widget_get_name(root), name) == 0)
        return root;
    for (GtkWidget *child = gtk_widget_get_first_child(root); child != NULL;
         child = gtk_widget_get_next_sibling(child)) {
        GtkWidget *found = find(child, name);
        if (found != NULL)
            return found;
    }
    return NULL;
}

static GtkWidget *need(GtkWindow *window, const char *name)
{
    GtkWidget *widget = find(GTK_WIDGET(window), name);

    if (widget == NULL)
        g_error("no widget named %s", name);
    return widget;
}

static gboolean never(gpointer data)
{
    return FALSE;
}

/* Let GTK draw and the X server show it. */
static void settle(guint ms)
{
    bh_wait_until(never, NULL, ms);
}

static void shot(const char *name)
{
    g_autofree char *file = g_strconcat("settings-", name, NULL);
    g_autoptr(BhShot) s = NULL;
    g_autofree char *path = NULL;

    settle(400);
    s = bh_shot_take(dpy);
    path = bh_shot_save(s, file);
    g_test_message("screenshot: %s", path);
}

/* A qvm-* command's stdout, trimmed; NULL when it fails. */
static char *qvm(const char *commandline)
{
    g_autofree char *out = NULL, *err = NULL;
    g_autoptr(GError) error = NULL;
    int status = 0;

    if (!g_spawn_command_line_sync(commandline, &out, &err, &status, &error))
        g_error("%s: %s", commandline, error->message);
    if (!g_spawn_check_wait_status(status, NULL)) {
        g_test_message("%s failed: %s", commandline, err);
        return NULL;
    }
    return g_strdup(g_strstrip(out));
}

static gboolean qube_listed(const char *name)
{
    g_autofree char *list = qvm("qvm-ls --raw-data");
    g_auto(GStrv) lines = g_strsplit(list ? list : "", "\n", -1);
    g_autofree char *prefix = g_strconcat(name, "|", NULL);

    for (guint i = 0; lines[i] != NULL; i++) {
        if (g_str_has_prefix(lines[i], prefix))
            return TRUE;
    }
    return FALSE;
}

static void click(GtkWidget *button)
{
    g_assert_true(gtk_widget_get_sensitive(button));
    g_signal_emit_by_name(button, "clicked");
}

static void type(GtkWidget *entry, const char *text)
{
    gtk_editable_set_text(GTK_EDITABLE(entry), text);
}

typedef struct {
    BhSettingsCreate *create;
    guint checks;
} CheckWait;

/* A check answered since, and it is the newest one's answer: setting an
 * entry's text empties it first (a check answered at once) and then asks
 * the daemon, so a count alone can pass before the answer that matters
 * (Create seen insensitive after a valid name, once in a loaded run). */
static gboolean checked(gpointer data)
{
    CheckWait *wait = data;
    return bh_settings_create_get_checks(wait->create) > wait->checks &&
           bh_settings_create_is_checked(wait->create);
}

static void wait_check(BhSettingsCreate *create, guint before)
{
    CheckWait wait = {create, before};
    g_assert_true(bh_wait_until(checked, &wait, 10000));
    settle(100);
}

/* The open toplevel of that widget name (a dialog); fails the test if none. */
static GtkWindow *toplevel(const char *name)
{
    GListModel *all = gtk_window_get_toplevels();

    for (guint i = 0; i < g_list_model_get_n_items(all); i++) {
        g_autoptr(GtkWindow) w = g_list_model_get_item(all, i);
        if (g_strcmp0(gtk_widget_get_name(GTK_WIDGET(w)), name) == 0)
            return w; /* GTK keeps it */
    }
    g_error("no window named %s", name);
}

static const char *error_text(GtkWindow *window, const char *name)
{
    GtkWidget *label = need(window, name);
    return gtk_widget_get_visible(label) ? gtk_label_get_text(GTK_LABEL(label)) : "";
}

static gboolean listed_cond(gpointer data)
{
    return qube_listed(data);
}

static gboolean in_shell_list(gpointer data)
{
    return bh_shell_qubes_find(bh_settings_context_get_qubes(context), data) != NULL;
}

/* ---- Create ----------------------------------------------------------------- */

/* The case: "project-x", purple, no network. Create stays disabled
 * until the daemon says yes; then qvm-ls shows it with those settings, and
 * the shell's own list (the menu's source) has it. */
static void test_create_project_x(void)
{
    GtkWindow *window = bh_settings_open(context, "create", NULL, NULL);
    BhSettingsCreate *create = BH_SETTINGS_CREATE(window);
    GtkWidget *create_button = need(window, "create");
    guint before;

    g_assert_nonnull(window);
    settle(500);
    /* The control: nothing typed, nothing to create. */
    g_assert_false(gtk_widget_get_sensitive(create_button));
    g_assert_false(qube_listed("project-x"));

    before = bh_settings_create_get_checks(create);
    type(need(window, "name"), "project-x");
    wait_check(create, before);
    before = bh_settings_create_get_checks(create);
    gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(need(window, "label-purple")), TRUE);
    wait_check(create, before);
    before = bh_settings_create_get_checks(create);
    g_assert_true(bh_settings_choice_select(need(window, "netvm"), "none"));
    wait_check(create, before);
    g_assert_cmpstr(error_text(window, "name-error"), ==, "");
    g_assert_true(gtk_widget_get_sensitive(create_button));
    shot("create-project-x");

    click(create_button);
    g_assert_true(bh_wait_until(listed_cond, "project-x", 20000));
    g_autofree char *label = qvm("qvm-prefs project-x label");
    g_autofree char *netvm = qvm("qvm-prefs project-x netvm");
    g_autofree char *klass = qvm("qvm-prefs project-x class");
    g_assert_cmpstr(label, ==, "purple");
    g_assert_cmpstr(netvm, ==, "");
    g_assert_cmpstr(klass, ==, "AppVM");
    /* The shell's menu is built from this same list, fed by QubeAdded. */
    g_assert_true(bh_wait_until(in_shell_list, "project-x", 10000));
}

/* An invalid name keeps Create disabled and says why, in the model's words,
 * under the name; a taken one too; the control: a valid name enables it. */
static void test_create_invalid_name(void)
{
    GtkWindow *window = bh_settings_open(context, "create", NULL, NULL);
    BhSettingsCreate *create = BH_SETTINGS_CREATE(window);
    GtkWidget *create_button = need(window, "create");
    guint before = bh_settings_create_get_checks(create);

    type(need(window, "name"), "9 lives");
    wait_check(create, before);
    g_test_message("name-error: %s", error_text(window, "name-error"));
    g_assert_nonnull(strstr(error_text(window, "name-error"), "letter first"));
    g_assert_false(gtk_widget_get_sensitive(create_button));
    shot("create-invalid-name");

    before = bh_settings_create_get_checks(create);
    type(need(window, "name"), "work");
    /* Why wait_check looks at the newest answer, not only the count: the
     * text was emptied first, an empty name is answered at once, so the
     * count is already ahead while the daemon's answer for "work" is still
     * to come (the loaded run's "Create not sensitive" after "lives9"). */
    g_assert_cmpuint(bh_settings_create_get_checks(create), >, before);
    g_assert_false(bh_settings_create_is_checked(create));
    wait_check(create, before);
    g_test_message("name-error: %s", error_text(window, "name-error"));
    g_assert_nonnull(strstr(error_text(window, "name-error"), "work"));
    g_assert_false(gtk_widget_get_sensitive(create_button));
    shot("create-name-taken");

    /* A template that is not one: the error goes under Template. */
    before = bh_settings_create_get_checks(create);
    type(need(window, "name"), "lives9");
    wait_check(create, before);
    g_assert_cmpstr(error_text(window, "name-error"), ==, "");
    g_assert_true(gtk_widget_get_sensitive(create_button));
    /* What was typed stays. */
    g_assert_cmpstr(gtk_editable_get_text(GTK_EDITABLE(need(window, "name"))), ==, "lives9");

    /* Too little memory: the error goes under Memory, not under the row
     * below it (found on a user's walk: it sat under Virtual CPUs). */
    gtk_expander_set_expanded(GTK_EXPANDER(need(window, "advanced")), TRUE);
    before = bh_settings_create_get_checks(create);
    gtk_spin_button_set_value(GTK_SPIN_BUTTON(need(window, "memory")), 5);
    wait_check(create, before);
    g_test_message("memory-error: %s", error_text(window, "memory-error"));
    g_assert_nonnull(strstr(error_text(window, "memory-error"), "memory"));
    g_assert_cmpstr(error_text(window, "advanced-error"), ==, "");
    g_assert_false(gtk_widget_get_sensitive(create_button));
    shot("create-memory-error");
    gtk_window_destroy(window);
    g_assert_false(qube_listed("lives9"));
}

/* Fills the Create form (type, name, extra) and creates; the daemon's
 * properties then say what each choice meant. */
static void create_with(const char *kind, const char *name, int memory)
{
    GtkWindow *window = bh_settings_open(context, "create", NULL, NULL);
    BhSettingsCreate *create = BH_SETTINGS_CREATE(window);
    guint before = bh_settings_create_get_checks(create);

    g_assert_true(bh_settings_choice_select(need(window, "type"), kind));
    type(need(window, "name"), name);
    if (memory > 0)
        gtk_expander_set_expanded(GTK_EXPANDER(need(window, "advanced")), TRUE);
    if (memory > 0)
        gtk_spin_button_set_value(GTK_SPIN_BUTTON(need(window, "memory")), memory);
    wait_check(create, before);
    settle(300);
    g_test_message("%s: create-error '%s', template-error '%s'", name, error_text(window, "create-error"),
                   error_text(window, "template-error"));
    click(need(window, "create"));
    g_assert_true(bh_wait_until(listed_cond, (gpointer)name, 20000));
}

/* The other types and Advanced: a named disposable is a DispVM that stays
 * (auto_cleanup off) on the default disposable template; a disposable
 * template an AppVM with template_for_dispvms; a template a TemplateVM;
 * memory set in Advanced is the qube's own. */
static void test_create_types(void)
{
    create_with("DispVM", "named-disp", 0);
    g_autofree char *klass = qvm("qvm-prefs named-disp class");
    g_autofree char *cleanup = qvm("qvm-prefs named-disp auto_cleanup");
    g_autofree char *tmpl = qvm("qvm-prefs named-disp template");
    g_assert_cmpstr(klass, ==, "DispVM");
    g_assert_cmpstr(cleanup, ==, "False");
    g_assert_cmpstr(tmpl, ==, "default-dvm");

    create_with("dvm-template", "my-dvm", 800);
    g_autofree char *dvm = qvm("qvm-prefs my-dvm template_for_dispvms");
    g_autofree char *memory = qvm("qvm-prefs my-dvm memory");
    g_assert_cmpstr(dvm, ==, "True");
    g_assert_cmpstr(memory, ==, "800");

    create_with("TemplateVM", "my-template", 0);
    g_autofree char *tklass = qvm("qvm-prefs my-template class");
    g_assert_cmpstr(tklass, ==, "TemplateVM");
}

/* ---- qube settings ------------------------------------------------------------- */

typedef struct {
    BhSettingsQube *window;
    guint loads;
} LoadWait;

static gboolean loaded(gpointer data)
{
    LoadWait *wait = data;
    return bh_settings_qube_get_loads(wait->window) > wait->loads && !bh_settings_qube_is_busy(wait->window);
}

static gboolean idle(gpointer data)
{
    return !bh_settings_qube_is_busy(data);
}

static BhSettingsQube *open_qube(const char *name)
{
    BhSettingsQube *window = BH_SETTINGS_QUBE(bh_settings_open(context, "qube", name, NULL));
    LoadWait wait = {window, 0};

    g_assert_true(bh_wait_until(loaded, &wait, 10000));
    settle(200);
    return window;
}

/* sys-net's netvm set to sys-firewall (whose netvm is sys-net): the
 * daemon's loop refusal under Network, nothing changed, the choice still
 * shown; the control: the same page sets personal's netvm to none. */
static void test_qube_netvm_loop(void)
{
    BhSettingsQube *window = open_qube("sys-net");
    g_autofree char *before = qvm("qvm-prefs sys-net netvm");

    g_assert_cmpstr(before, ==, "");
    g_assert_true(bh_settings_choice_select(need(GTK_WINDOW(window), "netvm"), "sys-firewall"));
    click(need(GTK_WINDOW(window), "apply"));
    g_assert_true(bh_wait_until(idle, window, 10000));
    settle(100);
    g_test_message("netvm-error: %s", error_text(GTK_WINDOW(window), "netvm-error"));
    g_assert_nonnull(strstr(error_text(GTK_WINDOW(window), "netvm-error"), "loop"));
    g_autofree char *after = qvm("qvm-prefs sys-net netvm");
    g_assert_cmpstr(after, ==, "");
    g_assert_cmpstr(bh_settings_choice_get(need(GTK_WINDOW(window), "netvm")), ==, "sys-firewall");
    shot("qube-netvm-loop");
    gtk_window_destroy(GTK_WINDOW(window));

    window = open_qube("personal");
    g_assert_true(bh_settings_choice_select(need(GTK_WINDOW(window), "netvm"), "none"));
    gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(need(GTK_WINDOW(window), "label-green")), TRUE);
    click(need(GTK_WINDOW(window), "apply"));
    LoadWait wait = {window, bh_settings_qube_get_loads(window)};
    g_assert_true(bh_wait_until(loaded, &wait, 10000));
    g_autofree char *netvm = qvm("qvm-prefs personal netvm");
    g_autofree char *label = qvm("qvm-prefs personal label");
    g_assert_cmpstr(netvm, ==, "");
    g_assert_cmpstr(label, ==, "green");
    g_assert_cmpstr(error_text(GTK_WINDOW(window), "netvm-error"), ==, "");
    shot("qube-personal-basic");
    gtk_window_destroy(GTK_WINDOW(window));
}

/* Root storage on Basic: shown for a StandaloneVM (its root_size, and the
 * root disk row), hidden for an AppVM (the model has no root_size for it);
 * a smaller size is refused under the field with why and nothing sent (the
 * stored size unchanged; so is a smaller private size), a larger one is
 * stored. The control for the refusal: the larger size goes through. */
static void test_qube_root_size(void)
{
    BhSettingsQube *window;
    GtkWindow *w;
    g_autofree char *created = qvm("qvm-create --standalone -l red sa-size");
    g_autofree char *kept = NULL, *kept_private = NULL, *grown = NULL;

    g_autofree char *app = qvm("qvm-create -l green app-size");

    g_assert_nonnull(created);
    g_assert_nonnull(app);
    window = open_qube("app-size");
    g_assert_false(gtk_widget_get_visible(need(GTK_WINDOW(window), "root_size")));
    g_assert_false(gtk_widget_get_visible(need(GTK_WINDOW(window), "root-used")));
    gtk_window_destroy(GTK_WINDOW(window));

    window = open_qube("sa-size");
    w = GTK_WINDOW(window);
    g_assert_true(gtk_widget_get_visible(need(w, "root_size")));
    g_assert_true(gtk_widget_get_visible(need(w, "root-used")));
    g_assert_cmpint(gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(need(w, "root_size"))), ==, 10240);

    gtk_spin_button_set_value(GTK_SPIN_BUTTON(need(w, "root_size")), 8192);
    gtk_spin_button_set_value(GTK_SPIN_BUTTON(need(w, "private_size")), 1024);
    click(need(w, "apply"));
    g_assert_true(bh_wait_until(idle, window, 10000));
    settle(300);
    g_test_message("root_size-error: %s", error_text(w, "root_size-error"));
    g_assert_nonnull(
        strstr(error_text(w, "root_size-error"), "A volume only grows: 8192 MiB is less than its 10240"));
    g_assert_nonnull(strstr(error_text(w, "private_size-error"), "1024 MiB is less than its 2048"));
    shot("qube-root-size-shrink");
    kept = qvm("qvm-prefs sa-size root_size");
    kept_private = qvm("qvm-prefs sa-size private_size");
    g_assert_cmpstr(kept, ==, "10240");
    g_assert_cmpstr(kept_private, ==, "2048");

    gtk_spin_button_set_value(GTK_SPIN_BUTTON(need(w, "private_size")), 2048);
    gtk_spin_button_set_value(GTK_SPIN_BUTTON(need(w, "root_size")), 20480);
    LoadWait wait = {window, bh_settings_qube_get_loads(window)};
    click(need(w, "apply"));
    g_assert_true(bh_wait_until(loaded, &wait, 10000));
    grown = qvm("qvm-prefs sa-size root_size");
    g_assert_cmpstr(grown, ==, "20480");
    g_assert_cmpstr(error_text(w, "root_size-error"), ==, "");
    gtk_window_destroy(w);
    g_free(qvm("qvm-remove -f sa-size"));
    g_free(qvm("qvm-remove -f app-size"));
}

static void set_text_view(GtkWidget *view, const char *text)
{
    gtk_text_buffer_set_text(gtk_text_view_get_buffer(GTK_TEXT_VIEW(view)), text, -1);
}

static char *text_view(GtkWidget *view)
{
    GtkTextBuffer *buffer = gtk_text_view_get_buffer(GTK_TEXT_VIEW(view));
    GtkTextIter start, end;

    gtk_text_buffer_get_bounds(buffer, &start, &end);
    return gtk_text_buffer_get_text(buffer, &start, &end, TRUE);
}

/* The Notes page: several lines typed and Applied are what qvm-notes
 * prints; notes over the model's limit are refused under the field in the
 * model's words with the text kept and the stored notes unchanged; a change
 * from qvm-notes reloads the page (nothing typed there). */
static void test_qube_notes(void)
{
    BhSettingsQube *window = open_qube("vault");
    GtkWindow *w = GTK_WINDOW(window);
    GtkWidget *view = need(w, "notes");
    const char *text = "Tax papers, 2019-2026.\n\tNever networked.\nÜbersicht ✓";
    g_autofree char *big = g_strnfill(16385, 'n');
    g_autofree char *before = qvm("qvm-notes vault");
    g_autofree char *kept = NULL, *stored = NULL, *after = NULL, *cli = NULL;

    bh_settings_qube_show_page(window, "notes");
    g_assert_cmpstr(before, ==, "");
    set_text_view(view, text);
    click(need(w, "apply"));
    LoadWait wait = {window, bh_settings_qube_get_loads(window)};
    g_assert_true(bh_wait_until(loaded, &wait, 10000));
    stored = qvm("qvm-notes vault");
    g_assert_cmpstr(stored, ==, text);
    g_assert_cmpstr(error_text(w, "notes-error"), ==, "");
    shot("qube-notes");

    set_text_view(view, big);
    g_assert_cmpstr(gtk_label_get_text(GTK_LABEL(need(w, "notes-count"))), ==, "16385 of 16384 bytes");
    click(need(w, "apply"));
    g_assert_true(bh_wait_until(idle, window, 10000));
    settle(100);
    g_test_message("notes-error: %s", error_text(w, "notes-error"));
    g_assert_nonnull(strstr(error_text(w, "notes-error"), "at most 16384 bytes (it has 16385)"));
    kept = text_view(view);
    g_assert_cmpstr(kept, ==, big);
    after = qvm("qvm-notes vault");
    g_assert_cmpstr(after, ==, text);

    /* Changed elsewhere while the page is unchanged: the page follows. */
    set_text_view(view, text);
    wait.loads = bh_settings_qube_get_loads(window);
    g_free(qvm("qvm-notes vault --set 'from the command line'"));
    g_assert_true(bh_wait_until(loaded, &wait, 10000));
    cli = text_view(view);
    g_assert_cmpstr(cli, ==, "from the command line");
    gtk_window_destroy(w);
}

static gboolean gone(gpointer data)
{
    return *(gpointer *)data == NULL;
}

/* A qube's window closed while its Apply is on the way (the call holds the
 * window until its reply) and opened again: a new window, on GTK's list,
 * not the closed one, which is freed when the call ends (handed out again,
 * it was used after that: "invalid unclassed pointer in cast to
 * 'GtkWindow'"). The note is still stored. */
static void test_qube_reopen(void)
{
    BhSettingsQube *window = open_qube("vault");
    gpointer old = window;
    g_autofree char *stored = NULL;

    bh_settings_qube_show_page(window, "notes");
    set_text_view(need(GTK_WINDOW(window), "notes"), "closed midway");
    click(need(GTK_WINDOW(window), "apply"));
    g_assert_true(bh_settings_qube_is_busy(window));
    g_object_add_weak_pointer(G_OBJECT(window), &old);
    gtk_window_destroy(GTK_WINDOW(window));
    g_assert_nonnull(old); /* the Apply holds it */

    window = BH_SETTINGS_QUBE(bh_settings_open(context, "qube", "vault", NULL));
    g_assert_true(window != old);
    g_assert_true(bh_wait_until(gone, &old, 10000));
    LoadWait wait = {window, 0};
    g_assert_true(bh_wait_until(loaded, &wait, 10000));
    g_assert_true(gtk_widget_get_visible(GTK_WIDGET(window)));
    stored = qvm("qvm-notes vault");
    g_assert_cmpstr(stored, ==, "closed midway");
    gtk_window_destroy(GTK_WINDOW(window));
}

typedef struct {
    GtkWindow *window;
    const char *name;
    gboolean present;
} WidgetWait;

static gboolean widget_is(gpointer data)
{
    WidgetWait *wait = data;
    return (find(GTK_WIDGET(wait->window), wait->name) != NULL) == wait->present;
}

static void wait_widget(GtkWindow *window, const char *name, gboolean present)
{
    WidgetWait wait = {window, name, present};
    g_assert_true(bh_wait_until(widget_is, &wait, 10000));
}

static void add_service(GtkWindow *w, const char *name)
{
    type(need(w, "service-name"), name);
    click(need(w, "service-add"));
}

/* The Services page sets services on and off through the daemon: a name the
 * model refuses shows its sentence under the list with every row kept and
 * nothing changed (it sorts first, so no call before it was sent); a change
 * from qvm-service reloads the page. Returns the window (services of qube:
 * crond on, cups off). */
static BhSettingsQube *set_services(const char *qube)
{
    BhSettingsQube *window = open_qube(qube);
    GtkWindow *w = GTK_WINDOW(window);
    g_autofree char *listed = NULL, *before = NULL;
    g_autofree char *list_cmd = g_strdup_printf("qvm-service %s", qube);

    bh_settings_qube_show_page(window, "services");
    before = qvm(list_cmd);
    g_assert_cmpstr(before, ==, "");
    g_assert_null(find(GTK_WIDGET(w), "service-crond"));
    add_service(w, "crond");
    add_service(w, "cups");
    add_service(w, "bad/name");
    gtk_check_button_set_active(GTK_CHECK_BUTTON(need(w, "service-cups")), FALSE);
    click(need(w, "apply"));
    g_assert_true(bh_wait_until(idle, window, 10000));
    settle(100);
    g_test_message("services-error: %s", error_text(w, "services-error"));
    g_assert_nonnull(strstr(error_text(w, "services-error"), "service 'bad/name' has a character"));
    g_assert_nonnull(find(GTK_WIDGET(w), "service-bad/name"));
    g_assert_false(gtk_check_button_get_active(GTK_CHECK_BUTTON(need(w, "service-cups"))));
    listed = qvm(list_cmd);
    g_assert_cmpstr(listed, ==, "");
    shot("qube-services-refused");

    click(need(w, "service-remove-bad/name"));
    LoadWait wait = {window, bh_settings_qube_get_loads(window)};
    click(need(w, "apply"));
    g_assert_true(bh_wait_until(loaded, &wait, 10000));
    g_free(listed);
    listed = qvm(list_cmd);
    g_assert_cmpstr(listed, ==, "crond  on\ncups   off");
    g_assert_cmpstr(error_text(w, "services-error"), ==, "");
    return window;
}

static void test_qube_services(void)
{
    BhSettingsQube *window = set_services("work");
    GtkWindow *w = GTK_WINDOW(window);

    wait_widget(w, "service-cups", TRUE);
    settle(200);
    shot("qube-services");
    /* Unset elsewhere: the page follows. */
    g_free(qvm("qvm-service --unset work cups"));
    wait_widget(w, "service-cups", FALSE);
    g_assert_true(gtk_check_button_get_active(GTK_CHECK_BUTTON(need(w, "service-crond"))));
    gtk_window_destroy(w);
}

/* What the page set reaches the qube one way: at its start crond is a file
 * in /run/bulkhead/service (and /run/qubes-service), cups one in
 * /run/bulkhead/service-off, and the qube cannot write there (the control:
 * it writes its own home). */
static void test_qube_services_in_qube(void)
{
    g_autofree char *seen = NULL, *wrote = NULL;

    if (g_strcmp0(g_getenv("BH_SETTINGS_BACKEND"), "sandbox") != 0) {
        g_test_skip("needs the sandbox backend (settings-desktop-sandbox)");
        return;
    }
    g_free(qvm("qvm-create -l green --prop netvm=none svc-probe"));
    gtk_window_destroy(GTK_WINDOW(set_services("svc-probe")));
    g_free(qvm("qvm-start svc-probe"));
    seen =
        qvm("qvm-run -p svc-probe 'ls /run/bulkhead/service; echo --; ls /run/bulkhead/service-off; echo --; "
            "ls /run/qubes-service; echo --; touch /run/bulkhead/service/x 2>/dev/null || echo refused'");
    g_test_message("in the qube:\n%s", seen);
    g_assert_cmpstr(seen, ==, "crond\n--\ncups\n--\ncrond\n--\nrefused");
    wrote = qvm("qvm-run -p svc-probe 'touch /home/user/x && echo wrote'");
    g_assert_cmpstr(wrote, ==, "wrote");
    g_free(qvm("qvm-shutdown --wait svc-probe"));
}

/* The daemon's figures for one qube: bytes of its private volume on dom0's
 * disk, and of its own root volume (0: none) in *root if given. */
static guint64 disk_used_both(const char *qube, guint64 *root)
{
    g_autoptr(GVariant) usage = NULL;
    g_autoptr(GError) error = NULL;
    guint64 bytes = 0, root_bytes = 0;
    gboolean exact = FALSE;

    g_assert_true(bh_dbus_admin1_call_get_disk_usage_sync(
        bh_settings_context_get_admin(context), (const char *const[]){qube, NULL}, &usage, NULL, &error));
    g_assert_no_error(error);
    g_assert_true(g_variant_lookup(usage, qube, "(tbt)", &bytes, &exact, &root_bytes));
    g_assert_true(exact);
    if (root != NULL)
        *root = root_bytes;
    return bytes;
}

static guint64 disk_used(const char *qube)
{
    return disk_used_both(qube, NULL);
}

static gboolean label_has(gpointer data)
{
    const char **want = data; /* {widget name, text}: in the window want[2] */
    GtkWidget *label = find(GTK_WIDGET((GtkWindow *)want[2]), want[0]);
    return label != NULL && strstr(gtk_label_get_text(GTK_LABEL(label)), want[1]) != NULL;
}

static gboolean usage_loaded(gpointer data)
{
    return bh_settings_manager_get_usage_loads(data) > 0;
}

/* What the qube's Basic page says in label (want) and the manager's Disk
 * used cell for it (cell); a screenshot of each (qube-<shot>, manager-<shot>). */
static void shown_usage(const char *name, const char *label, const char *want, const char *shot_name,
                        const char *cell)
{
    BhSettingsQube *window = open_qube(name);
    const char *probe[] = {label, want, (const char *)window};
    g_autofree char *qube_shot = g_strconcat("qube-", shot_name, NULL);
    g_autofree char *manager_shot = g_strconcat("manager-", shot_name, NULL);

    g_assert_true(bh_wait_until(label_has, probe, 10000));
    g_test_message("Basic: %s", gtk_label_get_text(GTK_LABEL(need(GTK_WINDOW(window), label))));
    shot(qube_shot);
    gtk_window_destroy(GTK_WINDOW(window));

    BhSettingsManager *manager = BH_SETTINGS_MANAGER(bh_settings_open(context, "manager", NULL, NULL));
    g_assert_true(bh_wait_until(usage_loaded, manager, 10000));
    settle(200);
    BhShellQube *qube = bh_shell_qubes_find(bh_settings_context_get_qubes(context), name);
    g_assert_cmpstr(g_object_get_data(G_OBJECT(qube), "bh-disk-used"), ==, cell);
    shot(manager_shot);
    gtk_window_destroy(GTK_WINDOW(manager));
}

/* Disk use beside the limit: 64 MiB written in a qube and the qube shut
 * down (its volume flushed) grow what the daemon reports by at least that
 * (the control: the figure before); the Basic page and the manager's Disk
 * used column say the same figure. */
static void test_disk_usage(void)
{
    guint64 before, after;
    g_autofree char *wrote = NULL, *want = NULL, *cell = NULL;

    if (g_strcmp0(g_getenv("BH_SETTINGS_BACKEND"), "sandbox") != 0) {
        g_test_skip("needs the sandbox backend (settings-desktop-sandbox)");
        return;
    }
    g_free(qvm("qvm-create -l orange --prop netvm=none du-probe"));
    before = disk_used("du-probe");
    wrote = qvm("qvm-run -p du-probe 'head -c 67108864 /dev/urandom > /home/user/big && sync && echo done'");
    g_assert_cmpstr(wrote, ==, "done");
    g_free(qvm("qvm-shutdown --wait du-probe"));
    after = disk_used("du-probe");
    g_test_message("du-probe: %" G_GUINT64_FORMAT " bytes before, %" G_GUINT64_FORMAT " after 64 MiB", before,
                   after);
    g_assert_cmpuint(after, >=, before + (64u << 20));

    want = bh_settings_disk_text(after, TRUE, "2048");
    cell = bh_settings_disk_cell(after, TRUE);
    shown_usage("du-probe", "private-used", want, "disk-used", cell);
}

/* A StandaloneVM's root volume in GetDiskUsage: none before its first start
 * (an AppVM never has one: its control), its image's blocks after it, and
 * 32 MiB written into its /var (the root volume) grow that figure by at
 * least as much while its home's stays; Basic shows it beside root_size and
 * the manager's Disk used column is home and root together. */
static void test_root_disk_usage(void)
{
    guint64 root0 = 1, root1 = 0, root2 = 0, home1, home2, app_root = 1;
    g_autofree char *wrote = NULL, *want = NULL, *cell = NULL;
    char *made;

    if (g_strcmp0(g_getenv("BH_SETTINGS_BACKEND"), "sandbox") != 0) {
        g_test_skip("needs the sandbox backend (settings-desktop-sandbox)");
        return;
    }
    g_assert_nonnull(made =
                         qvm("qvm-create --standalone -l red --prop netvm=none --prop root_size=512 sa-du"));
    g_free(made);
    g_assert_nonnull(made = qvm("qvm-create -l orange --prop netvm=none du-app"));
    g_free(made);
    disk_used_both("sa-du", &root0);
    g_assert_cmpuint(root0, ==, 0);
    g_free(qvm("qvm-start du-app"));
    g_free(qvm("qvm-shutdown --wait du-app"));
    disk_used_both("du-app", &app_root);
    g_assert_cmpuint(app_root, ==, 0);

    g_free(qvm("qvm-start sa-du"));
    g_free(qvm("qvm-shutdown --wait sa-du"));
    home1 = disk_used_both("sa-du", &root1);
    g_assert_cmpuint(root1, >, 0);
    wrote = qvm("qvm-run -p sa-du 'head -c 33554432 /dev/urandom > /var/big && sync && echo done'");
    g_assert_cmpstr(wrote, ==, "done");
    g_free(qvm("qvm-shutdown --wait sa-du"));
    home2 = disk_used_both("sa-du", &root2);
    g_test_message("sa-du: root %" G_GUINT64_FORMAT " bytes, %" G_GUINT64_FORMAT
                   " after 32 MiB into /var; home %" G_GUINT64_FORMAT " then %" G_GUINT64_FORMAT,
                   root1, root2, home1, home2);
    g_assert_cmpuint(root2, >=, root1 + (32u << 20));
    g_assert_cmpuint(home2, <, home1 + (16u << 20));

    want = bh_settings_disk_text(root2, TRUE, "512");
    cell = bh_settings_disk_cell(home2 + root2, TRUE);
    shown_usage("sa-du", "root-used", want, "root-disk-used", cell);
    g_free(qvm("qvm-remove -f sa-du"));
    g_free(qvm("qvm-remove -f du-app"));
}

static gboolean gone_cond(gpointer data)
{
    return !qube_listed(data);
}

/* Clone and Delete, each through its confirmation naming the qube; a rename
 * through Basic; a refused delete (a qube in use) shows why in the dialog. */
static void test_qube_clone_rename_delete(void)
{
    BhSettingsQube *window = open_qube("project-x");
    GtkWindow *dialog;

    click(need(GTK_WINDOW(window), "clone"));
    settle(300);
    dialog = toplevel("clone-dialog");
    g_assert_nonnull(strstr(gtk_label_get_label(GTK_LABEL(need(dialog, "question"))), "#75507b"));
    type(need(dialog, "clone-name"), "project-y");
    g_assert_false(gtk_widget_get_visible(need(dialog, "clone-status")));
    shot("qube-clone-dialog");
    click(need(dialog, "clone-confirm"));
    /* While the copy runs (answered only once it is done, with no time
     * limit): the dialog says what it waits for and that closing it does
     * not stop the copy. */
    GtkWidget *status = need(dialog, "clone-status");
    g_assert_true(gtk_widget_get_visible(status));
    g_assert_nonnull(
        strstr(gtk_label_get_text(GTK_LABEL(status)), "Copying the files of project-x to project-y"));
    g_assert_nonnull(strstr(gtk_label_get_text(GTK_LABEL(status)), "does not stop the copy"));
    g_assert_false(gtk_widget_get_sensitive(need(dialog, "clone-name")));
    g_assert_true(bh_wait_until(listed_cond, "project-y", 20000));
    settle(300);

    /* Rename project-y to project-z through its own page (opened by Clone). */
    BhSettingsQube *clone = open_qube("project-y");
    type(need(GTK_WINDOW(clone), "name"), "project-z");
    click(need(GTK_WINDOW(clone), "apply"));
    g_assert_true(bh_wait_until(listed_cond, "project-z", 10000));
    g_assert_false(qube_listed("project-y"));
    g_assert_true(bh_wait_until(idle, clone, 10000));

    /* Delete, confirmed. */
    click(need(GTK_WINDOW(clone), "delete"));
    settle(300);
    dialog = toplevel("delete-dialog");
    g_assert_nonnull(strstr(gtk_label_get_label(GTK_LABEL(need(dialog, "question"))), "project-z"));
    shot("qube-delete-dialog");
    click(need(dialog, "delete-confirm"));
    g_assert_true(bh_wait_until(gone_cond, "project-z", 10000));
    gtk_window_destroy(GTK_WINDOW(window));
}

/* A dialog closed while its call is on the way: the daemon still does it
 * (the call was sent), and the reply, cancelled, touches nothing that went
 * with the dialog (the program would crash under MALLOC_PERTURB_ or ASan). */
static void test_qube_dialog_closed_midway(void)
{
    g_free(qvm("qvm-create -l red doomed"));
    g_assert_true(bh_wait_until(listed_cond, "doomed", 10000));
    BhSettingsQube *window = open_qube("doomed");

    click(need(GTK_WINDOW(window), "delete"));
    settle(200);
    GtkWindow *dialog = toplevel("delete-dialog");
    click(need(dialog, "delete-confirm"));
    gtk_window_destroy(dialog); /* before the main loop can see the reply */
    g_assert_true(bh_wait_until(gone_cond, "doomed", 10000));
    settle(500);
    gtk_window_destroy(GTK_WINDOW(window));
    settle(200);
}

/* ---- the manager ---------------------------------------------------------------- */

static gboolean rows_at_least(gpointer data)
{
    GtkWindow *window = data;
    return g_list_model_get_n_items(bh_settings_manager_get_rows(BH_SETTINGS_MANAGER(window))) >= 200;
}

static void create_many(guint n)
{
    BhDbusAdmin1 *admin = bh_settings_context_get_admin(context);

    for (guint i = 0; i < n; i++) {
        g_autofree char *name = g_strdup_printf("q-%03u", i);
        g_autoptr(GError) error = NULL;
        GVariantBuilder props;

        g_variant_builder_init(&props, G_VARIANT_TYPE("a{ss}"));
        g_assert_true(bh_dbus_admin1_call_create_sync(admin, "AppVM", name, i % 2 ? "blue" : "orange", "",
                                                      g_variant_builder_end(&props), NULL, &error));
        g_assert_no_error(error);
    }
}

static guint rows(GtkWindow *window)
{
    return g_list_model_get_n_items(bh_settings_manager_get_rows(BH_SETTINGS_MANAGER(window)));
}

static const char *row_name(GtkWindow *window, guint i)
{
    g_autoptr(BhShellQube) q =
        g_list_model_get_item(bh_settings_manager_get_rows(BH_SETTINGS_MANAGER(window)), i);
    return bh_shell_qube_get_name(q); /* the list keeps it */
}

typedef struct {
    const char *qube, *label;
} LabelWait;

static gboolean status_says_backend(gpointer data)
{
    return strstr(gtk_label_get_text(GTK_LABEL(data)), "backend") != NULL;
}

static gboolean label_is(gpointer data)
{
    LabelWait *wait = data;
    BhShellQube *q = bh_shell_qubes_find(bh_settings_context_get_qubes(context), wait->qube);
    return q != NULL && g_strcmp0(bh_shell_qube_get_label(q), wait->label) == 0;
}

typedef struct {
    GtkWindow *window;
    guint n;
} RowsWait;

static gboolean rows_are(gpointer data)
{
    RowsWait *wait = data;
    return rows(wait->window) == wait->n;
}

static void test_manager_200(void)
{
    GtkWindow *window;
    gint64 t0;
    GtkWidget *view;
    GListModel *columns;
    guint total;

    create_many(200);
    t0 = g_get_monotonic_time();
    window = bh_settings_open(context, "manager", NULL, NULL);
    g_assert_true(bh_wait_until(rows_at_least, window, 20000));
    g_test_message("manager with %u rows in %.1f ms", rows(window), (g_get_monotonic_time() - t0) / 1000.0);
    total = rows(window);
    g_assert_cmpuint(total, >=, 208); /* 200 + the first-run qubes but dom0 */
    shot("manager-200");

    /* Sort by name, descending: q-199 first. */
    view = need(window, "table");
    columns = gtk_column_view_get_columns(GTK_COLUMN_VIEW(view));
    g_autoptr(GtkColumnViewColumn) name_column = g_list_model_get_item(columns, 1);
    gtk_column_view_sort_by_column(GTK_COLUMN_VIEW(view), name_column, GTK_SORT_DESCENDING);
    settle(200);
    g_assert_cmpstr(row_name(window, 0), ==, "work");
    gtk_column_view_sort_by_column(GTK_COLUMN_VIEW(view), name_column, GTK_SORT_ASCENDING);
    settle(200);
    g_assert_cmpstr(row_name(window, 0), ==, "chain-a"); /* the map test ran first */

    /* Filter by typing: "q-15" leaves q-150..q-159. */
    type(need(window, "filter"), "q-15");
    settle(600);
    g_assert_cmpuint(rows(window), ==, 10);
    g_assert_cmpstr(row_name(window, 0), ==, "q-150");
    shot("manager-filtered");

    /* Memory sorts by value: descending, q-151 (5000 MiB) then q-153 (800),
     * then the 400s; as text "800" would come before "5000". */
    g_free(qvm("qvm-prefs q-151 memory 5000"));
    g_free(qvm("qvm-prefs q-153 memory 800"));
    for (int i = 0; i < 100; i++) {
        BhShellQube *q = bh_shell_qubes_find(bh_settings_context_get_qubes(context), "q-153");
        if (q != NULL && g_str_equal(bh_shell_qube_get_memory(q), "800"))
            break;
        settle(50);
    }
    g_autoptr(GtkColumnViewColumn) memory_column = g_list_model_get_item(columns, 7);
    g_assert_cmpstr(gtk_column_view_column_get_title(memory_column), ==, "Memory (MiB)");
    gtk_column_view_sort_by_column(GTK_COLUMN_VIEW(view), memory_column, GTK_SORT_DESCENDING);
    settle(200);
    g_assert_cmpstr(row_name(window, 0), ==, "q-151");
    g_assert_cmpstr(row_name(window, 1), ==, "q-153");
    shot("manager-by-memory");

    /* IP: the daemon's address of each qube, sorted as numbers over all
     * rows (10.137.0.9 before 10.137.0.10, which text would invert). */
    type(need(window, "filter"), "");
    settle(600);
    g_autoptr(GtkColumnViewColumn) ip_column = g_list_model_get_item(columns, 6);
    g_assert_cmpstr(gtk_column_view_column_get_title(ip_column), ==, "IP");
    gtk_column_view_sort_by_column(GTK_COLUMN_VIEW(view), ip_column, GTK_SORT_ASCENDING);
    settle(300);
    {
        guint32 last = 0;
        gboolean crossed = FALSE;
        gsize last_len = 0;
        for (guint i = 0; i < rows(window); i++) {
            g_autoptr(BhShellQube) q =
                g_list_model_get_item(bh_settings_manager_get_rows(BH_SETTINGS_MANAGER(window)), i);
            const char *ip = bh_shell_qube_get_ip(q);
            guint32 addr = 0;
            if (*ip != '\0')
                g_assert_cmpint(inet_pton(AF_INET, ip, &addr), ==, 1);
            g_assert_cmpuint(ntohl(addr), >=, last);
            crossed |= last_len != 0 && strlen(ip) > last_len;
            last = ntohl(addr);
            last_len = *ip != '\0' ? strlen(ip) : 0;
        }
        g_assert_true(crossed);
    }
    g_autofree char *work_ip = qvm("qvm-prefs work ip");
    g_assert_cmpstr(bh_shell_qube_get_ip(bh_shell_qubes_find(bh_settings_context_get_qubes(context), "work")),
                    ==, work_ip);
    g_autoptr(BhShellQube) last_row =
        g_list_model_get_item(bh_settings_manager_get_rows(BH_SETTINGS_MANAGER(window)), rows(window) - 1);
    g_test_message("IP column: work %s, last row %s (%s)", work_ip, bh_shell_qube_get_name(last_row),
                   bh_shell_qube_get_ip(last_row));
    shot("manager-by-ip");
    type(need(window, "filter"), "q-15");
    settle(600);
    gtk_column_view_sort_by_column(GTK_COLUMN_VIEW(view), name_column, GTK_SORT_ASCENDING);
    settle(200);

    /* Live: a label changed from outside shows at once, and the selection
     * (two rows) survives the update. */
    gtk_selection_model_select_item(
        GTK_SELECTION_MODEL(bh_settings_manager_get_rows(BH_SETTINGS_MANAGER(window))), 2, FALSE);
    gtk_selection_model_select_item(
        GTK_SELECTION_MODEL(bh_settings_manager_get_rows(BH_SETTINGS_MANAGER(window))), 4, FALSE);
    g_autofree char *ok = qvm("qvm-prefs q-152 label green");
    LabelWait lw = {"q-152", "green"};
    g_assert_true(bh_wait_until(label_is, &lw, 10000));
    settle(300);
    g_auto(GStrv) selected = bh_settings_manager_get_selected(BH_SETTINGS_MANAGER(window));
    g_assert_cmpuint(g_strv_length(selected), ==, 2);
    g_assert_cmpstr(selected[0], ==, "q-152");
    g_assert_cmpstr(selected[1], ==, "q-154");
    shot("manager-live-selected");

    /* A multi-select action: Start on a daemon without a backend is refused,
     * and the refusal is shown in the status line (the daemon's words); it
     * stays there when another qube changes (the table refills), which
     * wiped it in 3 of 5 loaded runs. */
    GtkWidget *status = need(window, "status");
    click(need(window, "start"));
    g_assert_true(bh_wait_until(status_says_backend, status, 10000));
    g_test_message("status: %s", gtk_label_get_text(GTK_LABEL(status)));
    g_autofree char *red = qvm("qvm-prefs q-160 label red");
    LabelWait redw = {"q-160", "red"};
    g_assert_true(bh_wait_until(label_is, &redw, 10000));
    settle(300);
    g_test_message("status after q-160 changed: %s", gtk_label_get_text(GTK_LABEL(status)));
    g_assert_true(status_says_backend(status));

    /* Delete… on the two selected rows: one confirmation naming both in
     * their colours; confirmed, both are gone, the rest stay. */
    click(need(window, "remove"));
    settle(300);
    GtkWindow *dialog = toplevel("remove-dialog");
    const char *question = gtk_label_get_label(GTK_LABEL(need(dialog, "question")));
    g_assert_nonnull(strstr(question, "q-152"));
    g_assert_nonnull(strstr(question, "q-154"));
    g_assert_nonnull(strstr(question, "#73d216")); /* q-152 is green now */
    shot("manager-remove-dialog");
    click(need(dialog, "remove-confirm"));
    g_assert_true(bh_wait_until(gone_cond, "q-154", 10000));
    g_assert_false(qube_listed("q-152"));
    g_assert_true(qube_listed("q-153"));
    type(need(window, "filter"), "");
    RowsWait rw = {window, total - 2};
    g_assert_true(bh_wait_until(rows_are, &rw, 10000));
}

/* ---- the network map --------------------------------------------------------------- */

typedef struct {
    BhSettingsNetmap *map;
    const char *qube, *netvm;
} NetvmWait;

static gboolean netvm_is(gpointer data)
{
    NetvmWait *wait = data;
    BhShellQube *q = bh_shell_qubes_find(bh_settings_context_get_qubes(context), wait->qube);
    return q != NULL && g_strcmp0(bh_shell_qube_get_netvm(q), wait->netvm) == 0;
}

static gboolean map_error(gpointer data)
{
    return bh_settings_netmap_get_error(data) != NULL;
}

static void on_xdotool_done(GObject *source, GAsyncResult *result, gpointer data)
{
    g_subprocess_wait_finish(G_SUBPROCESS(source), result, NULL);
    *(gboolean *)data = TRUE;
}

static gboolean flag_set(gpointer data)
{
    return *(gboolean *)data;
}

/* Runs xdotool with argv (its number arguments are g_strdup'd by the caller
 * and leaked: a test process) while GTK keeps running. */
static void xdotool_run(const char **argv)
{
    g_autoptr(GError) error = NULL;
    gboolean done = FALSE;
    g_autoptr(GSubprocess) proc = g_subprocess_newv(argv, G_SUBPROCESS_FLAGS_NONE, &error);

    g_assert_no_error(error);
    g_subprocess_wait_async(proc, NULL, on_xdotool_done, &done);
    g_assert_true(bh_wait_until(flag_set, &done, 10000));
    settle(200);
}

static gboolean window_shown(gpointer data);
static void box_centre(GtkWindow *window, BhSettingsNetmap *map, const char *qube, int *x, int *y);

/* A real drag with the pointer (XTEST through xdotool), from the centre of
 * one qube's box to the centre of another's, while GTK keeps running. */
static void drag_box(GtkWindow *window, BhSettingsNetmap *map, const char *from, const char *to)
{
    graphene_rect_t a, b;
    graphene_point_t pa, pb, origin = GRAPHENE_POINT_INIT(0, 0), root;
    double sx = 0, sy = 0;
    BhRect rect;
    Window xwin = bh_x_find_window_exact(dpy, gtk_window_get_title(window));
    g_autoptr(GError) error = NULL;
    gboolean done = FALSE;

    g_assert_true(xwin != 0 && bh_x_window_rect(dpy, xwin, &rect));
    g_assert_true(bh_settings_netmap_get_box(map, from, &a) && bh_settings_netmap_get_box(map, to, &b));
    gtk_native_get_surface_transform(GTK_NATIVE(window), &sx, &sy);
    g_assert_true(gtk_widget_compute_point(GTK_WIDGET(map), GTK_WIDGET(window), &origin, &root));
    pa = GRAPHENE_POINT_INIT(rect.x + sx + root.x + a.origin.x + a.size.width / 2,
                             rect.y + sy + root.y + a.origin.y + a.size.height / 2);
    pb = GRAPHENE_POINT_INIT(rect.x + sx + root.x + b.origin.x + b.size.width / 2,
                             rect.y + sy + root.y + b.origin.y + b.size.height / 2);
    g_autofree char *x0 = g_strdup_printf("%d", (int)pa.x), *y0 = g_strdup_printf("%d", (int)pa.y);
    g_autofree char *xm = g_strdup_printf("%d", (int)(pa.x + pb.x) / 2),
                    *ym = g_strdup_printf("%d", (int)(pa.y + pb.y) / 2);
    g_autofree char *x1 = g_strdup_printf("%d", (int)pb.x), *y1 = g_strdup_printf("%d", (int)pb.y);
    g_autoptr(GSubprocess) xdotool =
        g_subprocess_new(G_SUBPROCESS_FLAGS_NONE, &error, "xdotool", "mousemove", x0, y0, "sleep", "0.2",
                         "mousedown", "1", "sleep", "0.2", "mousemove", xm, ym, "sleep", "0.2", "mousemove",
                         x1, y1, "sleep", "0.3", "mouseup", "1", NULL);
    g_assert_no_error(error);
    g_test_message("dragging %s (%s,%s) onto %s (%s,%s)", from, x0, y0, to, x1, y1);
    g_subprocess_wait_async(xdotool, NULL, on_xdotool_done, &done);
    g_assert_true(bh_wait_until(flag_set, &done, 10000));
    settle(200);
}

static void test_map_chain(void)
{
    GtkWindow *window;
    BhSettingsNetmap *map;
    graphene_rect_t a, b, c, fw, net;

    /* A chain of three providers under sys-firewall. */
    g_free(qvm("qvm-create -l orange --prop provides_network=True --prop netvm=sys-firewall chain-a"));
    g_free(qvm("qvm-create -l yellow --prop provides_network=True --prop netvm=chain-a chain-b"));
    g_free(qvm("qvm-create -l green --prop provides_network=True --prop netvm=chain-b chain-c"));
    NetvmWait cw = {NULL, "chain-c", "chain-b"};
    g_assert_true(bh_wait_until(netvm_is, &cw, 10000));

    window = bh_settings_open(context, "map", NULL, NULL);
    map = BH_SETTINGS_NETMAP(need(window, "map"));
    settle(800);
    g_assert_true(bh_settings_netmap_get_box(map, "sys-net", &net));
    g_assert_true(bh_settings_netmap_get_box(map, "sys-firewall", &fw));
    g_assert_true(bh_settings_netmap_get_box(map, "chain-a", &a));
    g_assert_true(bh_settings_netmap_get_box(map, "chain-b", &b));
    g_assert_true(bh_settings_netmap_get_box(map, "chain-c", &c));
    /* One column per hop, left to right, each below the one it uses. */
    g_assert_cmpfloat(net.origin.x, <, fw.origin.x);
    g_assert_cmpfloat(fw.origin.x, <, a.origin.x);
    g_assert_cmpfloat(a.origin.x, <, b.origin.x);
    g_assert_cmpfloat(b.origin.x, <, c.origin.x);
    g_assert_cmpfloat(a.origin.y, <, b.origin.y);
    shot("map-chain");

    /* The loop: sys-net dragged onto chain-c. Refused in place, nothing
     * changed. */
    drag_box(window, map, "sys-net", "chain-c");
    g_assert_true(bh_wait_until(map_error, map, 10000));
    g_test_message("map refusal: %s", bh_settings_netmap_get_error(map));
    g_assert_nonnull(strstr(bh_settings_netmap_get_error(map), "loop"));
    g_autofree char *netvm = qvm("qvm-prefs sys-net netvm");
    g_assert_cmpstr(netvm, ==, "");
    shot("map-loop-refused");

    /* The control: work dragged onto chain-c with the pointer moves it there. */
    drag_box(window, map, "work", "chain-c");
    NetvmWait ww = {map, "work", "chain-c"};
    g_assert_true(bh_wait_until(netvm_is, &ww, 10000));
    g_autofree char *work = qvm("qvm-prefs work netvm");
    g_assert_cmpstr(work, ==, "chain-c");
    settle(300);
    graphene_rect_t w;
    g_assert_true(bh_settings_netmap_get_box(map, "work", &w));
    g_assert_cmpfloat(w.origin.x, >, c.origin.x);
    shot("map-work-relinked");

    /* The right-click menu: "Network: none" on untrusted. */
    int x, y;
    char xs[16], ys[16];
    box_centre(window, map, "untrusted", &x, &y);
    g_snprintf(xs, sizeof xs, "%d", x);
    g_snprintf(ys, sizeof ys, "%d", y);
    xdotool_run((const char *[]){"xdotool", "mousemove", xs, ys, "click", "3", NULL});
    settle(500);
    GtkWidget *none = need(window, "menu-netvm-none");
    g_assert_true(gtk_widget_get_mapped(none));
    shot("map-menu");
    click(none);
    NetvmWait uw = {map, "untrusted", ""};
    g_assert_true(bh_wait_until(netvm_is, &uw, 10000));
    g_autofree char *untrusted = qvm("qvm-prefs untrusted netvm");
    g_assert_cmpstr(untrusted, ==, "");

    /* A click (press and release in place) opens the qube's settings. */
    box_centre(window, map, "chain-b", &x, &y);
    g_snprintf(xs, sizeof xs, "%d", x);
    g_snprintf(ys, sizeof ys, "%d", y);
    xdotool_run((const char *[]){"xdotool", "mousemove", xs, ys, "click", "1", NULL});
    g_assert_true(bh_wait_until(window_shown, "chain-b — qube settings", 10000));
}

static gboolean menu_open(gpointer data)
{
    GtkWidget *item = find(GTK_WIDGET(data), "menu-settings");
    return item != NULL && gtk_widget_get_mapped(item);
}

/* The widgets under root that GTK shows :active, their type names in names. */
static guint active_widgets(GtkWidget *root, GString *names)
{
    guint n = 0;

    if (gtk_widget_get_state_flags(root) & GTK_STATE_FLAG_ACTIVE) {
        g_string_append_printf(names, " %s", G_OBJECT_TYPE_NAME(root));
        n++;
    }
    for (GtkWidget *c = gtk_widget_get_first_child(root); c != NULL; c = gtk_widget_get_next_sibling(c))
        n += active_widgets(c, names);
    return n;
}

static int box_lower_first(gconstpointer a, gconstpointer b, gpointer map)
{
    graphene_rect_t x, y;

    g_assert_true(bh_settings_netmap_get_box(map, *(const char *const *)a, &x));
    g_assert_true(bh_settings_netmap_get_box(map, *(const char *const *)b, &y));
    return (y.origin.y > x.origin.y) - (y.origin.y < x.origin.y);
}

/* The right-click menu opens when the button is released, not while it is
 * held: an autohide popover grabs the pointer, and a grab taken under a
 * held button made GTK 4.8 miscount the widgets' :active state (see
 * on_secondary). Each qube is right-clicked twice: held (the menu must
 * still be closed 200 ms into the press) and quick (xdotool's click, 12 ms
 * between press and release); after each the menu is closed and no widget
 * of the window may be left :active. Lowest box first: the menu
 * opens below the pointer, and the next click must not land where it was. */
static void test_map_menu_release(void)
{
    const char *qubes[] = {"sys-net", "sys-firewall", "untrusted", "work", "personal", "vault"};
    GtkWindow *window = bh_settings_open(context, "map", NULL, NULL);
    BhSettingsNetmap *map = BH_SETTINGS_NETMAP(need(window, "map"));

    g_assert_true(bh_wait_until(window_shown, "Network map", 20000));
    settle(800);
    g_qsort_with_data(qubes, G_N_ELEMENTS(qubes), sizeof qubes[0], box_lower_first, map);
    for (guint round = 0; round < 2; round++)
        for (gsize i = 0; i < G_N_ELEMENTS(qubes); i++) {
            g_autoptr(GString) active = g_string_new(NULL);
            char xs[16], ys[16];
            int x, y;
            guint n;

            box_centre(window, map, qubes[i], &x, &y);
            g_snprintf(xs, sizeof xs, "%d", x);
            g_snprintf(ys, sizeof ys, "%d", y);
            if (round == 0) {
                /* xdotool_run settles 200 ms after the press: the button is down. */
                xdotool_run((const char *[]){"xdotool", "mousemove", xs, ys, "mousedown", "3", NULL});
                g_assert_false(menu_open(window));
                xdotool_run((const char *[]){"xdotool", "mouseup", "3", NULL});
            } else {
                xdotool_run((const char *[]){"xdotool", "mousemove", xs, ys, "click", "3", NULL});
            }
            g_assert_true(bh_wait_until(menu_open, window, 10000));
            gtk_popover_popdown(
                GTK_POPOVER(gtk_widget_get_ancestor(need(window, "menu-settings"), GTK_TYPE_POPOVER)));
            settle(300);
            n = active_widgets(GTK_WIDGET(window), active);
            g_test_message("%s right-click on %s at %s,%s: %u widgets :active%s",
                           round == 0 ? "held" : "quick", qubes[i], xs, ys, n, active->str);
            g_assert_cmpuint(n, ==, 0);
        }
    gtk_window_destroy(window);
}

static gboolean qube_known(gpointer data)
{
    return bh_shell_qubes_find(bh_settings_context_get_qubes(context), data) != NULL;
}

#define BH_TEST_PROVIDERS 30

/* Many providers on a small screen (settings-small-screen: Xvfb 1024x600,
 * openbox): the right-click menu of the lowest qube on the screen lists
 * every one of them and stays on the monitor, and its last entry can be
 * scrolled to and clicked with the pointer. Before, the menu ran past the
 * bottom of the screen and its last entries could not be reached. */
static void test_map_menu_many(void)
{
    const char *qubes[] = {"sys-net", "sys-firewall", "untrusted", "work", "personal", "vault"};
    int screen_h = DisplayHeight(dpy, DefaultScreen(dpy));
    int screen_w = DisplayWidth(dpy, DefaultScreen(dpy));
    char last_name[64], xs[16], ys[16];
    g_autofree char *target = NULL;
    int x, y, best_y = -1;

    for (int i = 1; i <= BH_TEST_PROVIDERS; i++) {
        g_autofree char *cmd =
            g_strdup_printf("qvm-create -l gray --prop provides_network=True --prop netvm= prov-%02d", i);
        g_free(qvm(cmd));
    }
    g_snprintf(last_name, sizeof last_name, "prov-%02d", BH_TEST_PROVIDERS);
    g_assert_true(bh_wait_until(qube_known, last_name, 20000));

    GtkWindow *window = bh_settings_open(context, "map", NULL, NULL);
    BhSettingsNetmap *map = BH_SETTINGS_NETMAP(need(window, "map"));
    g_assert_true(bh_wait_until(window_shown, "Network map", 20000));
    settle(800);
    /* The lowest box shown (in the window, on the screen): its menu has
     * the least room below it. */
    BhRect win;
    g_assert_true(bh_x_window_rect(dpy, bh_x_find_window_exact(dpy, "Network map"), &win));
    g_test_message("window at %d,%d %dx%d", win.x, win.y, win.width, win.height);
    for (int i = 0; i < BH_TEST_PROVIDERS + (int)G_N_ELEMENTS(qubes); i++) {
        g_autofree char *name = i < BH_TEST_PROVIDERS ? g_strdup_printf("prov-%02d", i + 1)
                                                      : g_strdup(qubes[i - BH_TEST_PROVIDERS]);
        box_centre(window, map, name, &x, &y);
        if (y > best_y && y < MIN(screen_h, win.y + win.height) - 10 &&
            x < MIN(screen_w, win.x + win.width)) {
            best_y = y;
            g_free(target);
            target = g_steal_pointer(&name);
        }
    }
    g_assert_nonnull(target);
    box_centre(window, map, target, &x, &y);
    g_test_message("screen %dx%d; right-click on %s at %d,%d", screen_w, screen_h, target, x, y);
    g_snprintf(xs, sizeof xs, "%d", x);
    g_snprintf(ys, sizeof ys, "%d", y);
    xdotool_run((const char *[]){"xdotool", "mousemove", xs, ys, "click", "3", NULL});
    g_assert_true(bh_wait_until(menu_open, window, 10000));
    settle(500);
    shot("map-menu-many");

    GtkWidget *popover = gtk_widget_get_ancestor(need(window, "menu-settings"), GTK_TYPE_POPOVER);
    g_autofree char *item_name = g_strconcat("menu-netvm-", last_name, NULL);
    GtkWidget *last = need(window, item_name);
    GdkSurface *surface = gtk_native_get_surface(GTK_NATIVE(popover));
    BhRect menu;
    g_assert_true(bh_x_window_rect(dpy, gdk_x11_surface_get_xid(surface), &menu));
    g_test_message("menu at %d,%d %dx%d", menu.x, menu.y, menu.width, menu.height);
    g_assert_cmpint(menu.y, >=, 0);
    g_assert_cmpint(menu.y + menu.height, <=, screen_h);

    /* Its last entry: scrolled to where the menu scrolls, then on the
     * screen, inside the menu, and it works under the pointer. */
    GtkWidget *scroller = gtk_widget_get_ancestor(last, GTK_TYPE_SCROLLED_WINDOW);
    if (scroller != NULL) {
        GtkAdjustment *v = gtk_scrolled_window_get_vadjustment(GTK_SCROLLED_WINDOW(scroller));
        gtk_adjustment_set_value(v, gtk_adjustment_get_upper(v) - gtk_adjustment_get_page_size(v));
        settle(300);
    }
    graphene_point_t zero = GRAPHENE_POINT_INIT(0, 0), at;
    double sx = 0, sy = 0;
    g_assert_true(gtk_widget_compute_point(last, popover, &zero, &at));
    gtk_native_get_surface_transform(GTK_NATIVE(popover), &sx, &sy);
    int top = menu.y + (int)(sy + at.y), bottom = top + gtk_widget_get_height(last);
    g_test_message("%s at y %d..%d", item_name, top, bottom);
    g_assert_cmpint(top, >=, menu.y);
    g_assert_cmpint(bottom, <=, menu.y + menu.height);
    g_assert_cmpint(bottom, <=, screen_h);
    shot("map-menu-many-end");
    g_snprintf(xs, sizeof xs, "%d", menu.x + (int)(sx + at.x) + 20);
    g_snprintf(ys, sizeof ys, "%d", (top + bottom) / 2);
    xdotool_run((const char *[]){"xdotool", "mousemove", xs, ys, "click", "1", NULL});
    NetvmWait wait = {NULL, target, last_name};
    g_assert_true(bh_wait_until(netvm_is, &wait, 10000));

    gtk_window_destroy(window);
    g_autofree char *reset = g_strdup_printf("qvm-prefs -D %s netvm", target);
    g_free(qvm(reset));
    for (int i = 1; i <= BH_TEST_PROVIDERS; i++) {
        g_autofree char *cmd = g_strdup_printf("qvm-remove -f prov-%02d", i);
        g_free(qvm(cmd));
    }
}

typedef struct {
    const char *qube, *state;
} StateWait;

static gboolean state_is(gpointer data)
{
    StateWait *wait = data;
    BhShellQube *q = bh_shell_qubes_find(bh_settings_context_get_qubes(context), wait->qube);
    return q != NULL && g_strcmp0(bh_shell_qube_get_state(q), wait->state) == 0;
}

/* The centre of a qube's box on screen (root coordinates). */
static void box_centre(GtkWindow *window, BhSettingsNetmap *map, const char *qube, int *x, int *y)
{
    graphene_rect_t box;
    graphene_point_t origin = GRAPHENE_POINT_INIT(0, 0), at;
    double sx = 0, sy = 0;
    BhRect rect;
    Window xwin = bh_x_find_window_exact(dpy, gtk_window_get_title(window));

    g_assert_true(xwin != 0 && bh_x_window_rect(dpy, xwin, &rect));
    g_assert_true(bh_settings_netmap_get_box(map, qube, &box));
    gtk_native_get_surface_transform(GTK_NATIVE(window), &sx, &sy);
    g_assert_true(gtk_widget_compute_point(GTK_WIDGET(map), GTK_WIDGET(window), &origin, &at));
    *x = rect.x + (int)(sx + at.x + box.origin.x + box.size.width - 12);
    *y = rect.y + (int)(sy + at.y + box.origin.y + box.size.height / 2);
}

/* With the sandbox backend: the autostart qubes run, and the map draws
 * them in their full label colour with the running border, while a halted
 * qube of the same label is faded (pixels of the screenshot). */
static void test_map_running(void)
{
    StateWait net = {"sys-net", "Running"}, fw = {"sys-firewall", "Running"};
    GtkWindow *window;
    BhSettingsNetmap *map;
    g_autoptr(BhShot) s = NULL;
    int x, y;
    guint32 running, halted;

    if (g_strcmp0(g_getenv("BH_SETTINGS_BACKEND"), "sandbox") != 0) {
        g_test_skip("needs the sandbox backend (settings-desktop-sandbox)");
        return;
    }
    g_assert_true(bh_wait_until(state_is, &net, 120000));
    g_assert_true(bh_wait_until(state_is, &fw, 120000));
    window = bh_settings_open(context, "map", NULL, NULL);
    map = BH_SETTINGS_NETMAP(need(window, "map"));
    settle(800);
    shot("map-running");
    s = bh_shot_take(dpy);
    box_centre(window, map, "sys-net", &x, &y);
    running = bh_shot_px(s, x, y);
    box_centre(window, map, "untrusted", &x, &y);
    halted = bh_shot_px(s, x, y);
    g_test_message("sys-net (running) 0x%06x, untrusted (halted, also red) 0x%06x", running, halted);
    g_assert_cmphex(running, ==, 0xcc0000);
    g_assert_cmphex(halted, !=, 0xcc0000);
    /* Found on a user's walk: at 140 px the box read "sys-firewall · Run…". */
    graphene_rect_t fw_box;
    g_assert_true(bh_settings_netmap_get_box(map, "sys-firewall", &fw_box));
    g_test_message("sys-firewall's box: %.0f px wide", fw_box.size.width);
    g_assert_true(bh_settings_netmap_text_fits(map, "sys-firewall"));
    g_assert_true(bh_settings_netmap_text_fits(map, "sys-net"));
    gtk_window_destroy(window);
}

static gboolean apps_listed(gpointer data)
{
    GtkWidget *list = data;
    return GPOINTER_TO_UINT(g_object_get_data(G_OBJECT(list), "bh-loads")) > 0 &&
           gtk_widget_get_first_child(list) != NULL;
}

/* With the sandbox backend: personal started once, its list read; the
 * Applications page ticks what its menu shows, by default every app but the
 * variants (Foot Server unticked, Foot ticked); Foot Server ticked and the
 * first app unticked, Applied, makes menu_items the ticked ids (qvm-prefs),
 * and the search narrows the rows. */
static void test_qube_applications(void)
{
    g_autoptr(GString) want = g_string_new(NULL);
    GtkWidget *list, *first, *row, *server;
    guint shown = 0, total = 0;

    if (g_strcmp0(g_getenv("BH_SETTINGS_BACKEND"), "sandbox") != 0) {
        g_test_skip("needs the sandbox backend (settings-desktop-sandbox)");
        return;
    }
    g_free(qvm("qvm-start personal"));
    BhSettingsQube *window = open_qube("personal");
    bh_settings_qube_show_page(window, "applications");
    list = need(GTK_WINDOW(window), "apps-list");
    g_assert_true(bh_wait_until(apps_listed, list, 60000));
    settle(300);
    first = gtk_list_box_row_get_child(GTK_LIST_BOX_ROW(gtk_widget_get_first_child(list)));
    server = need(GTK_WINDOW(window), "app-foot-server.desktop");
    /* menu_items default: a variant is left out, the rest is in. */
    g_assert_true(gtk_check_button_get_active(GTK_CHECK_BUTTON(first)));
    g_assert_true(
        gtk_check_button_get_active(GTK_CHECK_BUTTON(need(GTK_WINDOW(window), "app-foot.desktop"))));
    g_assert_false(gtk_check_button_get_active(GTK_CHECK_BUTTON(server)));
    /* Copied: Apply reloads the list, and the rows are new ones then. */
    g_autofree char *label = g_strdup(gtk_check_button_get_label(GTK_CHECK_BUTTON(first)));
    gtk_check_button_set_active(GTK_CHECK_BUTTON(first), FALSE);
    gtk_check_button_set_active(GTK_CHECK_BUTTON(server), TRUE);
    for (row = gtk_widget_get_first_child(list); row != NULL; row = gtk_widget_get_next_sibling(row)) {
        GtkWidget *check = gtk_list_box_row_get_child(GTK_LIST_BOX_ROW(row));
        if (gtk_check_button_get_active(GTK_CHECK_BUTTON(check)))
            g_string_append_printf(want, "%s%s", want->len ? " " : "",
                                   (const char *)g_object_get_data(G_OBJECT(check), "bh-id"));
    }
    g_assert_nonnull(strstr(want->str, "foot-server.desktop"));
    shot("qube-applications");
    LoadWait wait = {window, bh_settings_qube_get_loads(window)};
    click(need(GTK_WINDOW(window), "apply"));
    g_assert_true(bh_wait_until(loaded, &wait, 10000));
    g_autofree char *items = qvm("qvm-prefs personal menu_items");
    g_test_message("menu_items: %s", items);
    g_assert_cmpstr(items, ==, want->str);
    list = need(GTK_WINDOW(window), "apps-list");
    g_assert_true(
        gtk_check_button_get_active(GTK_CHECK_BUTTON(need(GTK_WINDOW(window), "app-foot-server.desktop"))));

    /* The search narrows the rows to the matching names; the list read again
     * after Apply shows the unticked app unticked. */
    g_assert_false(gtk_check_button_get_active(
        GTK_CHECK_BUTTON(gtk_list_box_row_get_child(GTK_LIST_BOX_ROW(gtk_widget_get_first_child(list))))));
    gtk_editable_set_text(GTK_EDITABLE(need(GTK_WINDOW(window), "apps-search")), strchr(label, ']') + 2);
    settle(300);
    for (row = gtk_widget_get_first_child(list); row != NULL; row = gtk_widget_get_next_sibling(row)) {
        total++;
        shown += gtk_widget_get_child_visible(row);
    }
    g_test_message("search '%s': %u of %u rows", strchr(label, ']') + 2, shown, total);
    g_assert_cmpuint(shown, >=, 1);
    g_assert_cmpuint(shown, <, total);
    gtk_window_destroy(GTK_WINDOW(window));
}

/* ---- the Firewall page (sandbox) -------------------------------------------------- */

typedef struct {
    BhSettingsFirewall *page;
    guint loads;
} FwWait;

static gboolean fw_loaded(gpointer data)
{
    FwWait *wait = data;
    return bh_settings_firewall_get_loads(wait->page) > wait->loads &&
           !bh_settings_firewall_is_busy(wait->page);
}

static gboolean fw_idle(gpointer data)
{
    return !bh_settings_firewall_is_busy(data);
}

/* A shell script's stdout, trimmed ("" when it fails). */
static char *sh(const char *script)
{
    const char *argv[] = {"sh", "-c", script, NULL};
    g_autofree char *out = NULL;
    g_autoptr(GError) error = NULL;

    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
                      &out, NULL, NULL, &error))
        g_error("sh: %s", error->message);
    return g_strstrip(g_strdup(out != NULL ? out : ""));
}

/* work's TCP connection to host:port, polled (15 s of pauses) until it
 * answers want; returns the last answer. */
static char *work_tcp(const char *host, const char *port, const char *want)
{
    g_autofree char *script = g_strdup_printf("qvm-run -p work 'python3 net.py tcp %s %s'", host, port);
    char *got = NULL;

    for (int i = 0; i < 50; i++) {
        g_free(got);
        got = sh(script);
        if (g_str_equal(got, want))
            break;
        settle(300);
    }
    return got;
}

static FwWait fw_open(BhSettingsQube *window)
{
    GtkWidget *page = need(GTK_WINDOW(window), "firewall");
    FwWait wait = {BH_SETTINGS_FIREWALL(page), 0};

    bh_settings_qube_show_page(window, "firewall");
    g_assert_true(bh_wait_until(fw_loaded, &wait, 10000));
    settle(200);
    return wait;
}

static void fw_apply(BhSettingsQube *window, FwWait *wait)
{
    wait->loads = bh_settings_firewall_get_loads(wait->page);
    click(need(GTK_WINDOW(window), "fw-apply"));
    g_assert_true(bh_wait_until(fw_loaded, wait, 20000));
    settle(200);
}

/* With the sandbox backend and networking (root, slirp4netns, nft): work running
 * behind sys-firewall and sys-net; "the internet" is net-servers.py on the
 * host's loopback (ports A and B), reached at the uplink's gateway. Control:
 * both ports answer. The page limits work to port B of that host: the rule
 * is in `qvm-firewall work list`, A fails and B works. A port the daemon
 * refuses shows its sentence under the table, the text kept, nothing
 * changed; "allow everything for 2 minutes" reopens A; a list the page
 * cannot show (a drop rule first) is read-only with the pointer. The Basic
 * page shows work's ip, gateway and DNS as qvm-prefs says. */
static void test_qube_firewall(void)
{
    g_autofree char *servers = NULL, *client = NULL, *host = NULL, *script = NULL;
    g_autoptr(GSubprocess) proc = NULL;
    g_autoptr(GError) error = NULL;
    g_auto(GStrv) ports = NULL;
    GInputStream *out;
    char line[128] = "";
    gssize n;

    if (g_strcmp0(g_getenv("BH_SETTINGS_BACKEND"), "sandbox") != 0) {
        g_test_skip("needs the sandbox backend (settings-desktop-sandbox)");
        return;
    }
    if (getuid() != 0 || !g_find_program_in_path("slirp4netns") || !g_find_program_in_path("nft")) {
        g_test_skip("networking needs root, slirp4netns and nft");
        return;
    }
    servers = g_build_filename(g_getenv("BH_SOURCE_ROOT"), "tests", "integration", "net-servers.py", NULL);
    client = g_build_filename(g_getenv("BH_SOURCE_ROOT"), "tests", "integration", "net-client.py", NULL);
    proc = g_subprocess_new(G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, "python3",
                            servers, "0", NULL);
    g_assert_no_error(error);
    out = g_subprocess_get_stdout_pipe(proc);
    for (gsize len = 0; len + 1 < sizeof line && strchr(line, '\n') == NULL; len += (gsize)n) {
        n = g_input_stream_read(out, line + len, 1, NULL, &error);
        g_assert_no_error(error);
        g_assert_cmpint(n, ==, 1);
    }
    ports = g_strsplit(g_strstrip(line), " ", -1);
    g_assert_cmpuint(g_strv_length(ports), ==, 3);
    /* "The internet" is on the host's loopback, out of sys-net's reach
     * unless this global is on; it applies at sys-net's start (an earlier
     * test may have started it). */
    g_autofree char *loopback = qvm("qubes-prefs network_uplink_host_loopback True");
    g_assert_nonnull(loopback);
    g_autofree char *restarted =
        sh("qvm-ls --raw-data -O STATE sys-net | grep -q Running && qvm-shutdown --wait sys-net; "
           "qvm-start sys-net && echo ok");
    g_assert_cmpstr(restarted, ==, "ok");
    script = g_strdup_printf("qvm-run -p work 'cat > net.py' < '%s' && echo ok", client);
    g_autofree char *copied = sh(script);
    g_assert_cmpstr(copied, ==, "ok");
    host = sh("qvm-run -p sys-net \"ip -4 route show default dev uplink0 | awk '{print \\$3}'\"");
    g_test_message("the host's servers at %s: tcp %s %s", host, ports[0], ports[1]);
    g_autofree char *a0 = work_tcp(host, ports[0], "hello A"), *b0 = work_tcp(host, ports[1], "hello B");
    g_assert_cmpstr(a0, ==, "hello A"); /* the control: both reachable */
    g_assert_cmpstr(b0, ==, "hello B");

    BhSettingsQube *window = open_qube("work");
    /* Basic: the addresses, read-only, as the daemon gives them. */
    g_autofree char *ip = qvm("qvm-prefs work ip"), *gateway = qvm("qvm-prefs work gateway");
    g_assert_cmpstr(gtk_editable_get_text(GTK_EDITABLE(need(GTK_WINDOW(window), "ip"))), ==, ip);
    g_assert_cmpstr(gtk_editable_get_text(GTK_EDITABLE(need(GTK_WINDOW(window), "gateway"))), ==, gateway);
    g_assert_false(gtk_editable_get_editable(GTK_EDITABLE(need(GTK_WINDOW(window), "ip"))));
    g_test_message("Basic: ip %s gateway %s dns %s", ip, gateway,
                   gtk_editable_get_text(GTK_EDITABLE(need(GTK_WINDOW(window), "dns"))));
    g_assert_cmpstr(ip, !=, "");
    shot("qube-basic-network");

    FwWait wait = fw_open(window);
    g_assert_cmpstr(bh_settings_firewall_get_mode(wait.page), ==, "allow-all");
    gtk_check_button_set_active(GTK_CHECK_BUTTON(need(GTK_WINDOW(window), "fw-limit")), TRUE);
    type(need(GTK_WINDOW(window), "fw-host-0"), host);
    g_assert_true(bh_settings_choice_select(need(GTK_WINDOW(window), "fw-proto-0"), "tcp"));
    type(need(GTK_WINDOW(window), "fw-ports-0"), ports[1]);
    type(need(GTK_WINDOW(window), "fw-comment-0"), "port B only");
    shot("qube-firewall-limit");
    fw_apply(window, &wait);
    g_assert_cmpstr(error_text(GTK_WINDOW(window), "fw-error"), ==, "");
    g_autofree char *list = qvm("qvm-firewall work list --raw");
    g_test_message("qvm-firewall work list --raw:\n%s", list);
    g_autofree char *want =
        g_strdup_printf("action=accept dsthost=%s proto=tcp dstports=%s comment=port B only", host, ports[1]);
    g_assert_nonnull(strstr(list, want));
    g_autofree char *a1 = work_tcp(host, ports[0], "timeout"), *b1 = work_tcp(host, ports[1], "hello B");
    g_test_message("after the page's rule: A %s, B %s", a1, b1);
    g_assert_cmpstr(a1, ==, "timeout");
    g_assert_cmpstr(b1, ==, "hello B");
    g_assert_cmpstr(bh_settings_firewall_get_mode(wait.page), ==, "limit");

    /* A port the daemon refuses: its sentence, the text kept, nothing changed. */
    click(need(GTK_WINDOW(window), "fw-add"));
    type(need(GTK_WINDOW(window), "fw-host-1"), "192.0.2.7");
    g_assert_true(bh_settings_choice_select(need(GTK_WINDOW(window), "fw-proto-1"), "udp"));
    type(need(GTK_WINDOW(window), "fw-ports-1"), "99999");
    click(need(GTK_WINDOW(window), "fw-apply"));
    g_assert_true(bh_wait_until(fw_idle, wait.page, 10000));
    settle(200);
    g_test_message("fw-error: %s", error_text(GTK_WINDOW(window), "fw-error"));
    /* In the page's words: the second row, the column's name (it read
     * "rule 1: dstports=99999: …", counted from 0 in the rule language). */
    g_assert_true(
        g_str_has_prefix(error_text(GTK_WINDOW(window), "fw-error"), "Row 2: the port or range 99999"));
    g_assert_null(strstr(error_text(GTK_WINDOW(window), "fw-error"), "dstports="));
    g_assert_cmpstr(gtk_editable_get_text(GTK_EDITABLE(need(GTK_WINDOW(window), "fw-ports-1"))), ==, "99999");
    g_assert_true(gtk_widget_has_css_class(need(GTK_WINDOW(window), "fw-ports-1"), "error"));
    g_autofree char *unchanged = qvm("qvm-firewall work list --raw");
    g_assert_cmpstr(unchanged, ==, list);
    shot("qube-firewall-refused");

    /* Fixed by removing it. A row with only a comment would match
     * everything (placed after the final drop, never matching): said on
     * the page, nothing sent. */
    click(need(GTK_WINDOW(window), "fw-remove-1"));
    click(need(GTK_WINDOW(window), "fw-add"));
    type(need(GTK_WINDOW(window), "fw-comment-2"), "just a note");
    click(need(GTK_WINDOW(window), "fw-apply"));
    g_assert_true(bh_wait_until(fw_idle, wait.page, 10000));
    g_test_message("fw-error: %s", error_text(GTK_WINDOW(window), "fw-error"));
    g_assert_true(g_str_has_prefix(error_text(GTK_WINDOW(window), "fw-error"), "A row with only a comment"));
    g_assert_true(gtk_widget_has_css_class(need(GTK_WINDOW(window), "fw-comment-2"), "error"));
    g_autofree char *still = qvm("qvm-firewall work list --raw");
    g_assert_cmpstr(still, ==, list);
    shot("qube-firewall-comment-only");
    click(need(GTK_WINDOW(window), "fw-remove-2"));
    /* Then everything allowed for 2 minutes reopens A. */
    gtk_check_button_set_active(GTK_CHECK_BUTTON(need(GTK_WINDOW(window), "fw-temp")), TRUE);
    gtk_spin_button_set_value(GTK_SPIN_BUTTON(need(GTK_WINDOW(window), "fw-minutes")), 2);
    fw_apply(window, &wait);
    g_assert_cmpstr(error_text(GTK_WINDOW(window), "fw-error"), ==, "");
    g_autofree char *temp = qvm("qvm-firewall work list --raw");
    g_test_message("with the 2 minutes:\n%s", temp);
    g_assert_true(g_str_has_prefix(temp, "action=accept expire="));
    g_autofree char *a2 = work_tcp(host, ports[0], "hello A");
    g_assert_cmpstr(a2, ==, "hello A");
    g_assert_true(gtk_check_button_get_active(GTK_CHECK_BUTTON(need(GTK_WINDOW(window), "fw-temp"))));
    shot("qube-firewall-temporary");

    /* A list the page cannot show faithfully: read-only, with the pointer. */
    g_free(qvm("qvm-firewall work reset"));
    g_free(qvm("qvm-firewall work add action=drop proto=udp"));
    g_free(qvm("qvm-firewall work add action=accept"));
    wait.loads = bh_settings_firewall_get_loads(wait.page);
    g_assert_true(bh_wait_until(fw_loaded, &wait, 10000)); /* FirewallChanged */
    settle(200);
    g_assert_cmpstr(bh_settings_firewall_get_mode(wait.page), ==, "read-only");
    const char *text = gtk_label_get_text(GTK_LABEL(need(GTK_WINDOW(window), "fw-readonly")));
    g_assert_nonnull(strstr(text, "qvm-firewall work"));
    g_assert_nonnull(strstr(text, "action=drop proto=udp"));
    g_assert_false(gtk_widget_get_visible(need(GTK_WINDOW(window), "fw-apply")) &&
                   gtk_widget_is_drawable(need(GTK_WINDOW(window), "fw-apply")));
    shot("qube-firewall-readonly");
    g_free(qvm("qvm-firewall work reset"));
    gtk_window_destroy(GTK_WINDOW(window));
    g_subprocess_force_exit(proc);
}

/* With the sandbox backend: debian-12 started once so its list is read; the
 * Create window lists its apps, ticked as debian-12's menu shows them (every
 * app but the variants, Foot Server and Foot Client unticked); the first
 * unticked, "project-apps" created → qvm-prefs menu_items is the other
 * ticked ids; a qube created with the ticks untouched keeps "default". */
static gboolean template_has_apps(gpointer data)
{
    g_autoptr(GVariant) apps = NULL;
    g_autofree char *from = NULL, *problem = NULL;

    if (!bh_dbus_admin1_call_list_apps_sync(bh_settings_context_get_admin(context), "debian-12", &apps, &from,
                                            &problem, NULL, NULL))
        return FALSE;
    return g_variant_n_children(apps) > 0;
}

static gboolean create_apps_listed(gpointer data)
{
    return gtk_widget_get_first_child(data) != NULL;
}

static void test_create_apps(void)
{
    g_autoptr(GString) want = g_string_new(NULL);
    GtkWidget *list, *row, *first;
    guint before;

    if (g_strcmp0(g_getenv("BH_SETTINGS_BACKEND"), "sandbox") != 0) {
        g_test_skip("needs the sandbox backend (settings-desktop-sandbox)");
        return;
    }
    g_free(qvm("qvm-start debian-12"));
    g_assert_true(bh_wait_until(template_has_apps, NULL, 60000));
    g_free(qvm("qvm-shutdown --wait debian-12"));

    GtkWindow *window = bh_settings_open(context, "create", NULL, NULL);
    BhSettingsCreate *create = BH_SETTINGS_CREATE(window);
    /* GTK 4's expander keeps its child out of the tree while closed. */
    gtk_expander_set_expanded(GTK_EXPANDER(need(window, "apps")), TRUE);
    list = need(window, "create-apps");
    g_assert_true(bh_wait_until(create_apps_listed, list, 10000));
    settle(300);
    first = gtk_list_box_row_get_child(GTK_LIST_BOX_ROW(gtk_widget_get_first_child(list)));
    /* Ticked as debian-12's menu shows them, which a new qube follows while
     * its menu_items is default: every app but the variants. */
    g_assert_true(gtk_check_button_get_active(GTK_CHECK_BUTTON(first)));
    g_assert_true(gtk_check_button_get_active(GTK_CHECK_BUTTON(need(window, "app-foot.desktop"))));
    g_assert_false(gtk_check_button_get_active(GTK_CHECK_BUTTON(need(window, "app-foot-server.desktop"))));
    g_assert_false(gtk_check_button_get_active(GTK_CHECK_BUTTON(need(window, "app-footclient.desktop"))));
    for (row = gtk_widget_get_next_sibling(gtk_widget_get_first_child(list)); row != NULL;
         row = gtk_widget_get_next_sibling(row)) {
        GtkWidget *check = gtk_list_box_row_get_child(GTK_LIST_BOX_ROW(row));
        if (gtk_check_button_get_active(GTK_CHECK_BUTTON(check)))
            g_string_append_printf(want, "%s%s", want->len ? " " : "",
                                   (const char *)g_object_get_data(G_OBJECT(check), "bh-id"));
    }
    g_test_message("create-apps-note: %s", gtk_label_get_text(GTK_LABEL(need(window, "create-apps-note"))));
    gtk_check_button_set_active(GTK_CHECK_BUTTON(first), FALSE);
    before = bh_settings_create_get_checks(create);
    type(need(window, "name"), "project-apps");
    wait_check(create, before);
    shot("create-apps");
    click(need(window, "create"));
    g_assert_true(bh_wait_until(listed_cond, "project-apps", 20000));
    for (int i = 0; i < 100; i++) {
        g_autofree char *items = qvm("qvm-prefs project-apps menu_items");
        if (items != NULL && g_str_equal(items, want->str))
            break;
        settle(50);
    }
    g_autofree char *items = qvm("qvm-prefs project-apps menu_items");
    g_test_message("menu_items: %s", items);
    g_assert_cmpstr(items, ==, want->str);

    /* The control: nothing changed leaves menu_items at default. */
    window = bh_settings_open(context, "create", NULL, NULL);
    create = BH_SETTINGS_CREATE(window);
    gtk_expander_set_expanded(GTK_EXPANDER(need(window, "apps")), TRUE);
    g_assert_true(bh_wait_until(create_apps_listed, need(window, "create-apps"), 10000));
    before = bh_settings_create_get_checks(create);
    type(need(window, "name"), "project-all");
    wait_check(create, before);
    click(need(window, "create"));
    g_assert_true(bh_wait_until(listed_cond, "project-all", 20000));
    settle(300);
    g_autofree char *all = qvm("qvm-prefs project-all menu_items");
    g_assert_cmpstr(all, ==, "default");
    g_free(qvm("qvm-remove -f project-apps"));
    g_free(qvm("qvm-remove -f project-all"));
}

/* ---- global settings ------------------------------------------------------------- */

typedef struct {
    BhSettingsGlobal *window;
    guint loads;
} GlobalWait;

static gboolean global_loaded(gpointer data)
{
    GlobalWait *wait = data;
    return bh_settings_global_get_loads(wait->window) > wait->loads &&
           !bh_settings_global_is_busy(wait->window);
}

static BhSettingsGlobal *open_global(void)
{
    BhSettingsGlobal *window = BH_SETTINGS_GLOBAL(bh_settings_open(context, "global", NULL, NULL));
    GlobalWait wait = {window, 0};

    g_assert_true(bh_wait_until(global_loaded, &wait, 10000));
    settle(200);
    return window;
}

static void apply_global(BhSettingsGlobal *window)
{
    GlobalWait wait = {window, bh_settings_global_get_loads(window)};

    click(need(GTK_WINDOW(window), "apply"));
    g_assert_true(bh_wait_until(global_loaded, &wait, 10000));
    settle(200);
}

static gboolean global_idle(gpointer data)
{
    return !bh_settings_global_is_busy(data);
}

/* Defaults through SetGlobal (a loop through default_netvm refused under its
 * field, nothing changed), the clipboard limit, and the paste rule in plain
 * words: written to the settings' own policy file, and a warning once a
 * file earlier in name order decides instead (the control: none before). */
static void test_global(void)
{
    BhSettingsGlobal *window = open_global();
    GtkWindow *w = GTK_WINDOW(window);
    g_autofree char *dir = g_build_filename(g_get_user_config_dir(), "bulkhead", "policy.d", NULL);
    g_autofree char *own = g_build_filename(dir, BH_SETTINGS_CLIPBOARD_POLICY, NULL);
    g_autofree char *earlier = g_build_filename(dir, "10-mine.policy", NULL);
    g_autofree char *text = NULL;

    /* Before any choice: what the shipped file decides (ask), no warning. */
    g_assert_true(gtk_check_button_get_active(GTK_CHECK_BUTTON(need(w, "paste-ask"))));
    g_assert_cmpstr(error_text(w, "policy-warning"), ==, "");
    g_assert_false(g_file_test(own, G_FILE_TEST_EXISTS));

    gtk_check_button_set_active(GTK_CHECK_BUTTON(need(w, "paste-deny")), TRUE);
    gtk_spin_button_set_value(GTK_SPIN_BUTTON(need(w, "clipboard_max_bytes")), 1000);
    g_assert_true(bh_settings_choice_select(need(w, "clockvm"), "work"));
    /* The uplink: on as shipped, turned off here (qubes-prefs says False). */
    g_assert_true(gtk_check_button_get_active(GTK_CHECK_BUTTON(need(w, "network_uplink"))));
    gtk_check_button_set_active(GTK_CHECK_BUTTON(need(w, "network_uplink")), FALSE);
    apply_global(window);
    g_autofree char *uplink = qvm("qubes-prefs network_uplink");
    g_assert_cmpstr(uplink, ==, "False");
    g_assert_false(gtk_check_button_get_active(GTK_CHECK_BUTTON(need(w, "network_uplink"))));
    g_assert_true(g_file_get_contents(own, &text, NULL, NULL));
    g_assert_nonnull(strstr(text, "bulkhead.ClipboardPaste  *  @anyvm  @anyvm  deny"));
    g_assert_cmpstr(error_text(w, "policy-warning"), ==, "");
    g_autofree char *limit = qvm("qubes-prefs clipboard_max_bytes");
    g_autofree char *clock = qvm("qubes-prefs clockvm");
    g_assert_cmpstr(limit, ==, "1000");
    g_assert_cmpstr(clock, ==, "work");
    shot("global-deny");
    g_free(qvm("qubes-prefs network_uplink True"));

    /* dom0's loopback for the uplink: off as shipped, with a line under it
     * saying what it exposes and when it applies, shown; turned on here
     * (qubes-prefs says True), then off again. */
    GtkWidget *loopback = need(w, "network_uplink_host_loopback");
    GtkWidget *note = need(w, "network_uplink_host_loopback-note");
    g_assert_false(gtk_check_button_get_active(GTK_CHECK_BUTTON(loopback)));
    g_assert_true(gtk_widget_get_mapped(loopback));
    g_assert_true(gtk_widget_get_mapped(note));
    const char *says = gtk_label_get_text(GTK_LABEL(note));
    g_assert_nonnull(strstr(says, "dom0"));
    g_assert_nonnull(strstr(says, "every qube behind sys-net"));
    g_assert_nonnull(strstr(says, "sys-net's next start"));
    gtk_check_button_set_active(GTK_CHECK_BUTTON(loopback), TRUE);
    apply_global(window);
    g_autofree char *host_loopback = qvm("qubes-prefs network_uplink_host_loopback");
    g_assert_cmpstr(host_loopback, ==, "True");
    g_assert_true(gtk_check_button_get_active(GTK_CHECK_BUTTON(loopback)));
    shot("global-uplink-loopback");
    /* Set from outside (GlobalChanged): the box follows. */
    g_free(qvm("qubes-prefs network_uplink_host_loopback False"));
    GlobalWait follow = {window, bh_settings_global_get_loads(window)};
    g_assert_true(bh_wait_until(global_loaded, &follow, 10000));
    g_assert_false(gtk_check_button_get_active(GTK_CHECK_BUTTON(loopback)));

    /* A provider whose netvm is the default, made the default netvm: a loop
     * the model refuses, shown under the field; the global is unchanged. */
    g_free(qvm("qvm-create -l gray --prop provides_network=True prov"));
    BhShellQube *prov = NULL;
    for (int i = 0; i < 100 && prov == NULL; i++) {
        settle(50);
        prov = bh_shell_qubes_find(bh_settings_context_get_qubes(context), "prov");
    }
    settle(300);
    g_assert_true(bh_settings_choice_select(need(w, "default_netvm"), "prov"));
    click(need(w, "apply"));
    g_assert_true(bh_wait_until(global_idle, window, 10000));
    settle(200);
    g_test_message("default_netvm-error: %s", error_text(w, "default_netvm-error"));
    g_assert_nonnull(strstr(error_text(w, "default_netvm-error"), "loop"));
    g_autofree char *netvm = qvm("qubes-prefs default_netvm");
    g_assert_cmpstr(netvm, ==, "sys-firewall");
    shot("global-netvm-loop");
    gtk_window_destroy(w);

    /* A file earlier in name order with its own rule: the warning names it. */
    g_assert_true(g_file_set_contents(earlier, "bulkhead.ClipboardPaste * @anyvm @anyvm allow\n", -1, NULL));
    window = open_global();
    w = GTK_WINDOW(window);
    g_test_message("policy-warning: %s", error_text(w, "policy-warning"));
    g_assert_nonnull(strstr(error_text(w, "policy-warning"), "10-mine.policy"));
    g_assert_true(gtk_check_button_get_active(GTK_CHECK_BUTTON(need(w, "paste-deny"))));
    shot("global-overridden");
    g_unlink(earlier);
    gtk_window_destroy(w);
}

/* What `bulkhead policy eval bulkhead.Filecopy SOURCE TARGET` decides:
 * "allow", "ask" or "deny", and the preselected target of an ask. */
static char *eval_filecopy(const char *source, const char *target, char **default_target)
{
    g_autofree char *command =
        g_strdup_printf("bulkhead policy eval bulkhead.Filecopy %s %s", source, target);
    g_autofree char *out = qvm(command);
    g_auto(GStrv) lines = g_strsplit(out != NULL ? out : "", "\n", -1);
    char *decision = NULL;

    g_test_message("%s:\n%s", command, out);
    if (default_target != NULL)
        *default_target = NULL;
    for (guint i = 0; lines[i] != NULL; i++) {
        if (g_str_has_prefix(lines[i], "decision: "))
            decision = g_strdup(lines[i] + strlen("decision: "));
        if (default_target != NULL && g_str_has_prefix(lines[i], "default_target: "))
            *default_target = g_strdup(lines[i] + strlen("default_target: "));
    }
    g_assert_nonnull(decision);
    return decision;
}

/* The page's own line for one copy ("allow: …", "ask, preselected X — …",
 * "deny: … — …"), compared with the command line's decision. */
static void try_filecopy(GtkWindow *w, const char *source, const char *target, const char *want,
                         const char *want_preselected)
{
    g_autofree char *preselected = NULL;
    g_autofree char *decision = eval_filecopy(source, target, &preselected);
    const char *shown;

    g_assert_true(bh_settings_choice_select(need(w, "filecopy-try-source"), source));
    g_assert_true(bh_settings_choice_select(need(w, "filecopy-try-target"), target));
    shown = gtk_label_get_text(GTK_LABEL(need(w, "filecopy-try-result")));
    g_test_message("the page, %s to %s: %s", source, target, shown);
    g_assert_cmpstr(decision, ==, want);
    g_assert_true(g_str_has_prefix(shown, want));
    if (want_preselected != NULL) {
        g_autofree char *words = g_strdup_printf("preselected %s", want_preselected);
        g_assert_cmpstr(preselected, ==, want_preselected);
        g_assert_nonnull(strstr(shown, words));
    }
}

static void set_row(GtkWindow *w, guint i, const char *source, const char *target, const char *action,
                    const char *preset)
{
    g_autofree char *s = g_strdup_printf("filecopy-source-%u", i);
    g_autofree char *t = g_strdup_printf("filecopy-target-%u", i);
    g_autofree char *a = g_strdup_printf("filecopy-action-%u", i);
    g_autofree char *p = g_strdup_printf("filecopy-preset-%u", i);

    g_assert_true(bh_settings_choice_select(need(w, s), source));
    g_assert_true(bh_settings_choice_select(need(w, t), target));
    g_assert_true(bh_settings_choice_select(need(w, a), action));
    if (preset != NULL) {
        g_assert_true(gtk_widget_get_sensitive(need(w, p)));
        g_assert_true(bh_settings_choice_select(need(w, p), preset));
    }
}

/* The File copy rows: written to the settings' own file; for each copy
 * tried, the page's line says what `bulkhead policy eval` says (allow, a
 * deny from the page's row, an ask with its preselected qube for a copy
 * that names none, and the shipped ask for what no row matches). A write
 * that fails shows why with every row kept; a hand-written line is
 * announced; an earlier file that decides is named (the control: no warning
 * before it). */
static void test_global_filecopy(void)
{
    BhSettingsGlobal *window = open_global();
    GtkWindow *w = GTK_WINDOW(window);
    g_autofree char *dir = g_build_filename(g_get_user_config_dir(), "bulkhead", "policy.d", NULL);
    g_autofree char *own = g_build_filename(dir, BH_SETTINGS_FILECOPY_POLICY, NULL);
    g_autofree char *earlier = g_build_filename(dir, "10-mine.policy", NULL);
    g_autofree char *text = NULL;

    /* Before: no rows, the shipped ask (the dialog picks the target). */
    g_assert_null(find(GTK_WIDGET(w), "filecopy-source-0"));
    try_filecopy(w, "work", "personal", "ask", "personal");
    g_assert_cmpstr(error_text(w, "filecopy-warning"), ==, "");

    for (int i = 0; i < 3; i++)
        click(need(w, "filecopy-add"));
    set_row(w, 0, "work", "personal", "allow", NULL);
    set_row(w, 1, "@anyvm", "vault", "deny", NULL);
    set_row(w, 2, "@anyvm", "@anyvm", "ask", "personal");
    g_assert_false(gtk_widget_get_sensitive(need(w, "filecopy-preset-0")));

    /* A write that fails (a directory where the file goes): the reason
     * under the rows, the rows kept, nothing written. */
    g_assert_cmpint(g_mkdir_with_parents(own, 0700), ==, 0);
    click(need(w, "apply"));
    settle(100);
    g_test_message("filecopy-error: %s", error_text(w, "filecopy-error"));
    g_assert_nonnull(strstr(error_text(w, "filecopy-error"), BH_SETTINGS_FILECOPY_POLICY));
    g_assert_cmpstr(bh_settings_choice_get(need(w, "filecopy-source-0")), ==, "work");
    g_assert_cmpstr(bh_settings_choice_get(need(w, "filecopy-preset-2")), ==, "personal");
    g_assert_cmpint(g_rmdir(own), ==, 0);

    apply_global(window);
    g_assert_cmpstr(error_text(w, "filecopy-error"), ==, "");
    g_assert_true(g_file_get_contents(own, &text, NULL, NULL));
    g_test_message("%s:\n%s", own, text);
    g_assert_nonnull(strstr(text, "\nbulkhead.Filecopy  *  work  personal  allow\n"));
    g_assert_nonnull(strstr(text, "\nbulkhead.Filecopy  *  @anyvm  vault  deny\n"));
    g_assert_nonnull(strstr(text, "\nbulkhead.Filecopy  *  @anyvm  @anyvm  ask default_target=personal\n"));
    try_filecopy(w, "work", "personal", "allow", NULL);
    try_filecopy(w, "work", "vault", "deny", NULL);
    try_filecopy(w, "untrusted", "@default", "ask", "personal");
    try_filecopy(w, "untrusted", "work", "ask", "work");
    g_assert_cmpstr(error_text(w, "filecopy-warning"), ==, "");
    shot("global-filecopy");
    gtk_window_destroy(w);

    /* Read back as rows; a line by hand is announced, not shown. */
    g_free(text);
    g_assert_true(g_file_get_contents(own, &text, NULL, NULL));
    g_autofree char *with_hand =
        g_strconcat(text, "bulkhead.Filecopy * @tag:x work allow target=vault\n", NULL);
    g_assert_true(g_file_set_contents(own, with_hand, -1, NULL));
    /* A file earlier in name order that decides a copy: the warning names it. */
    g_assert_true(g_file_set_contents(earlier, "bulkhead.Filecopy * work personal deny\n", -1, NULL));
    window = open_global();
    w = GTK_WINDOW(window);
    g_assert_cmpstr(bh_settings_choice_get(need(w, "filecopy-target-1")), ==, "vault");
    g_assert_cmpstr(bh_settings_choice_get(need(w, "filecopy-action-2")), ==, "ask");
    g_assert_null(find(GTK_WIDGET(w), "filecopy-source-3"));
    g_assert_nonnull(strstr(error_text(w, "filecopy-foreign"), "did not write"));
    g_test_message("filecopy-warning: %s", error_text(w, "filecopy-warning"));
    g_assert_nonnull(strstr(error_text(w, "filecopy-warning"), "10-mine.policy"));
    try_filecopy(w, "work", "personal", "deny", NULL);
    g_assert_nonnull(
        strstr(gtk_label_get_text(GTK_LABEL(need(w, "filecopy-try-result"))), "10-mine.policy:1"));
    shot("global-filecopy-overridden");
    g_unlink(earlier);
    g_unlink(own);
    gtk_window_destroy(w);
}

/* ---- the program itself ------------------------------------------------------ */

static gboolean window_shown(gpointer data)
{
    return bh_x_find_window_exact(dpy, data) != 0;
}

/* bulkhead-settings as the shell or a user starts it: each option opens its
 * window (found by its X title); two at once or --page alone are refused
 * with status 2. */
static void test_program(void)
{
    g_autofree char *bin = g_build_filename(g_getenv("BH_BUILD_ROOT"), "settings", "bulkhead-settings", NULL);
    static const struct {
        const char *option, *value, *title;
    } cases[] = {
        {"--qube", "work", "work — qube settings"},
        {"--create", NULL, "Create a qube"},
        {"--map", NULL, "Network map"},
        {"--global", NULL, "Global settings"},
        {NULL, NULL, "Qube manager"},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        const char *argv[6] = {bin, NULL};
        int n = 1;

        if (cases[i].option != NULL)
            argv[n++] = cases[i].option;
        if (cases[i].value != NULL)
            argv[n++] = cases[i].value;
        if (i == 0) {
            argv[n++] = "--page";
            argv[n++] = "advanced";
        }
        g_autoptr(GSubprocess) proc = g_subprocess_newv(argv, G_SUBPROCESS_FLAGS_NONE, &error);
        g_assert_no_error(error);
        g_assert_true(bh_wait_until(window_shown, (gpointer)cases[i].title, 20000));
        if (i == 0)
            shot("program-qube-advanced");
        g_subprocess_force_exit(proc);
        g_subprocess_wait(proc, NULL, NULL);
    }

    const char *both[] = {bin, "--map", "--create", NULL};
    const char *page[] = {bin, "--page", "firewall", NULL};
    const char *const *refused[] = {both, page};
    for (gsize i = 0; i < G_N_ELEMENTS(refused); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GSubprocess) proc =
            g_subprocess_newv(refused[i], G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error);
        g_assert_no_error(error);
        g_assert_true(g_subprocess_wait(proc, NULL, NULL));
        g_assert_cmpint(g_subprocess_get_exit_status(proc), ==, 2);
    }
}

int main(int argc, char **argv)
{
    g_autoptr(GError) error = NULL;

    g_test_init(&argc, &argv, NULL);
    gtk_init();
    (void)bh_dbus_error_quark();
    dpy = bh_display_open();
    context = bh_settings_context_new(NULL, &error);
    g_assert_no_error(error);
    g_test_add_func("/settings/create/project-x", test_create_project_x);
    g_test_add_func("/settings/create/invalid-name", test_create_invalid_name);
    g_test_add_func("/settings/create/types", test_create_types);
    g_test_add_func("/settings/qube/netvm-loop", test_qube_netvm_loop);
    g_test_add_func("/settings/qube/clone-rename-delete", test_qube_clone_rename_delete);
    g_test_add_func("/settings/qube/dialog-closed-midway", test_qube_dialog_closed_midway);
    g_test_add_func("/settings/qube/notes", test_qube_notes);
    g_test_add_func("/settings/qube/reopen", test_qube_reopen);
    g_test_add_func("/settings/qube/root-size", test_qube_root_size);
    g_test_add_func("/settings/qube/services", test_qube_services);
    g_test_add_func("/settings/sandbox/services", test_qube_services_in_qube);
    g_test_add_func("/settings/sandbox/disk-usage", test_disk_usage);
    g_test_add_func("/settings/sandbox/root-disk-usage", test_root_disk_usage);
    g_test_add_func("/settings/sandbox/applications", test_qube_applications);
    g_test_add_func("/settings/sandbox/firewall", test_qube_firewall);
    g_test_add_func("/settings/sandbox/create-apps", test_create_apps);
    /* Before chain, which moves qubes and leaves a qube's settings window
     * over the map. */
    g_test_add_func("/settings/map/menu-release", test_map_menu_release);
    g_test_add_func("/settings/small/map-menu-many", test_map_menu_many);
    g_test_add_func("/settings/map/chain", test_map_chain);
    g_test_add_func("/settings/sandbox/map-running", test_map_running);
    g_test_add_func("/settings/global", test_global);
    g_test_add_func("/settings/global/filecopy", test_global_filecopy);
    g_test_add_func("/settings/program", test_program);
    g_test_add_func("/settings/manager/200", test_manager_200);
    return g_test_run();
}
