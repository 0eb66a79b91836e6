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
#include "bh-settings-global.h"
#include "bh-settings-policy.h"
#include "bh-settings-manager.h"
#include "bh-settings-netmap.h"
#include "bh-settings-qube.h"
#include "bh-settings-util.h"
#include "bh-dbus-error.h"

#include <gtk/gtk.h>
#include <glib/gstdio.h>
#include <string.h>

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

static gboolean checked(gpointer data)
{
    CheckWait *wait = data;
    return bh_settings_create_get_checks(wait->create) > wait->checks;
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
    shot("qube-clone-dialog");
    click(need(dialog, "clone-confirm"));
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
    g_autoptr(GtkColumnViewColumn) memory_column = g_list_model_get_item(columns, 6);
    g_assert_cmpstr(gtk_column_view_column_get_title(memory_column), ==, "Memory (MiB)");
    gtk_column_view_sort_by_column(GTK_COLUMN_VIEW(view), memory_column, GTK_SORT_DESCENDING);
    settle(200);
    g_assert_cmpstr(row_name(window, 0), ==, "q-151");
    g_assert_cmpstr(row_name(window, 1), ==, "q-153");
    shot("manager-by-memory");
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
     * and the refusal is shown in the status line (the daemon's words). */
    click(need(window, "start"));
    settle(1000);
    g_test_message("status: %s", gtk_label_get_text(GTK_LABEL(need(window, "status"))));
    g_assert_nonnull(strstr(gtk_label_get_text(GTK_LABEL(need(window, "status"))), "backend"));

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
    gtk_window_destroy(window);
}

static gboolean apps_listed(gpointer data)
{
    GtkWidget *list = data;
    return GPOINTER_TO_UINT(g_object_get_data(G_OBJECT(list), "bh-loads")) > 0 &&
           gtk_widget_get_first_child(list) != NULL;
}

/* With the sandbox backend: personal started once, its list read; the
 * Applications page ticks what its menu shows; one app unticked and Applied
 * makes menu_items the other ids (qvm-prefs), and the search narrows the
 * rows. */
static void test_qube_applications(void)
{
    g_autoptr(GString) want = g_string_new(NULL);
    GtkWidget *list, *first, *row;
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
    g_assert_true(gtk_check_button_get_active(GTK_CHECK_BUTTON(first))); /* menu_items all */
    /* Copied: Apply reloads the list, and the rows are new ones then. */
    g_autofree char *label = g_strdup(gtk_check_button_get_label(GTK_CHECK_BUTTON(first)));
    gtk_check_button_set_active(GTK_CHECK_BUTTON(first), FALSE);
    for (row = gtk_widget_get_next_sibling(gtk_widget_get_first_child(list)); row != NULL;
         row = gtk_widget_get_next_sibling(row)) {
        GtkWidget *check = gtk_list_box_row_get_child(GTK_LIST_BOX_ROW(row));
        g_string_append_printf(want, "%s%s", want->len ? " " : "",
                               (const char *)g_object_get_data(G_OBJECT(check), "bh-id"));
    }
    shot("qube-applications");
    LoadWait wait = {window, bh_settings_qube_get_loads(window)};
    click(need(GTK_WINDOW(window), "apply"));
    g_assert_true(bh_wait_until(loaded, &wait, 10000));
    g_autofree char *items = qvm("qvm-prefs personal menu_items");
    g_test_message("menu_items: %s", items);
    g_assert_cmpstr(items, ==, want->str);

    /* The search narrows the rows to the matching names; the list read again
     * after Apply shows the unticked app unticked. */
    list = need(GTK_WINDOW(window), "apps-list");
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
    apply_global(window);
    g_assert_true(g_file_get_contents(own, &text, NULL, NULL));
    g_assert_nonnull(strstr(text, "bulkhead.ClipboardPaste  *  @anyvm  @anyvm  deny"));
    g_assert_cmpstr(error_text(w, "policy-warning"), ==, "");
    g_autofree char *limit = qvm("qubes-prefs clipboard_max_bytes");
    g_autofree char *clock = qvm("qubes-prefs clockvm");
    g_assert_cmpstr(limit, ==, "1000");
    g_assert_cmpstr(clock, ==, "work");
    shot("global-deny");

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
    g_test_add_func("/settings/sandbox/applications", test_qube_applications);
    g_test_add_func("/settings/map/chain", test_map_chain);
    g_test_add_func("/settings/sandbox/map-running", test_map_running);
    g_test_add_func("/settings/global", test_global);
    g_test_add_func("/settings/program", test_program);
    g_test_add_func("/settings/manager/200", test_manager_200);
    return g_test_run();
}
