/* main.c — bulkhead-copy-progress --title TITLE: the progress window of
 * qvm-copy and qvm-move inside a qube (docs/filecopy.md, "Progress"). It
 * runs in the qube, so it reaches the desktop as a framed guest window like
 * any other. qvm-copy writes the sender's progress lines on its stdin and,
 * last, "bulkhead-result N"; Cancel exits with status 3, which qvm-copy
 * turns into stopping the sender (nothing is kept in the target).
 *
 * Owns: the window, reading stdin, the exit status (0 done, 1 the copy
 * failed and the user closed the window, 3 cancelled).
 * Must never: show a byte of its input unfiltered (bh-progress-line.c), or
 * stay open after a copy that succeeded. */
#include <gio/gunixinputstream.h>
#include <gtk/gtk.h>

#include "bh-progress-line.h"
#include "bh-progress-resources.h"

/* A failed copy's window closes itself after this (the user may be away). */
#define BH_PROGRESS_FAILED_SECONDS 60

typedef struct {
    char *title;
    GtkWidget *window, *bar, *detail, *cancel;
    GDataInputStream *in;
    GCancellable *cancellable;
    gboolean ended;
    int status;
} Progress;

static void read_next(Progress *p);

static void finish(Progress *p, int status)
{
    p->status = status;
    g_cancellable_cancel(p->cancellable);
    if (p->window)
        gtk_window_destroy(GTK_WINDOW(p->window));
}

static gboolean on_failed_timeout(gpointer data)
{
    finish(data, 1);
    return G_SOURCE_REMOVE;
}

static void on_cancel(GtkButton *button, gpointer data)
{
    (void)button;
    Progress *p = data;
    finish(p, p->ended ? 1 : 3);
}

/* The copy is over: a success closes at once, a failure stays to be read. */
static void ended(Progress *p, int status)
{
    if (p->ended)
        return;
    p->ended = TRUE;
    if (status == 0)
        return finish(p, 0);
    gtk_progress_bar_set_text(GTK_PROGRESS_BAR(p->bar), "Failed");
    gtk_button_set_label(GTK_BUTTON(p->cancel), "_Close");
    g_timeout_add_seconds(BH_PROGRESS_FAILED_SECONDS, on_failed_timeout, p);
}

static void on_line(GObject *obj, GAsyncResult *res, gpointer data)
{
    g_autoptr(GError) error = NULL;
    gsize len = 0;
    g_autofree char *line = g_data_input_stream_read_line_finish(G_DATA_INPUT_STREAM(obj), res, &len, &error);
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
    Progress *p = data;
    if (line == NULL) { /* EOF: qvm-copy ended without a result (it was killed) */
        ended(p, 1);
        return;
    }
    double fraction = 0;
    int status = 0;
    switch (bh_progress_line_parse(line, &fraction, &status)) {
    case BH_PROGRESS_LINE_RESULT:
        ended(p, status);
        return;
    case BH_PROGRESS_LINE_PROGRESS:
        gtk_progress_bar_set_fraction(GTK_PROGRESS_BAR(p->bar), fraction);
        G_GNUC_FALLTHROUGH;
    case BH_PROGRESS_LINE_TEXT:
        if (*line) {
            g_autofree char *text = bh_progress_line_text(line);
            gtk_label_set_text(GTK_LABEL(p->detail), text);
        }
        break;
    }
    read_next(p);
}

static void read_next(Progress *p)
{
    g_data_input_stream_read_line_async(p->in, G_PRIORITY_DEFAULT, p->cancellable, on_line, p);
}

static void on_activate(GApplication *app, gpointer data)
{
    Progress *p = data;
    if (p->window)
        return;
    g_autoptr(GtkBuilder) builder =
        gtk_builder_new_from_resource("/org/bulkhead/progress/bh-progress-window.ui");
    p->window = GTK_WIDGET(gtk_builder_get_object(builder, "window"));
    p->bar = GTK_WIDGET(gtk_builder_get_object(builder, "bar"));
    p->detail = GTK_WIDGET(gtk_builder_get_object(builder, "detail"));
    p->cancel = GTK_WIDGET(gtk_builder_get_object(builder, "cancel"));
    gtk_window_set_application(GTK_WINDOW(p->window), GTK_APPLICATION(app));
    gtk_window_set_title(GTK_WINDOW(p->window), p->title);
    gtk_label_set_text(GTK_LABEL(gtk_builder_get_object(builder, "heading")), p->title);
    g_signal_connect(p->cancel, "clicked", G_CALLBACK(on_cancel), p);
    /* Closing the window is Cancel too. */
    g_signal_connect_swapped(p->window, "close-request", G_CALLBACK(on_cancel), p);
    gtk_window_present(GTK_WINDOW(p->window));
    read_next(p);
}

int main(int argc, char **argv)
{
    g_autofree char *title = NULL;
    g_autoptr(GError) error = NULL;
    GOptionEntry entries[] = {
        {"title", 0, 0, G_OPTION_ARG_STRING, &title, "The window's title (what is copied where)", "TITLE"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("- the progress of qvm-copy, read on stdin");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error) || argc != 1) {
        g_printerr("bulkhead-copy-progress: %s\n", error ? error->message : "no arguments besides --title");
        return 2;
    }
    g_resources_register(bh_progress_get_resource());
    g_autofree char *shown = bh_progress_line_text(title ? title : "Copying files");
    Progress p = {.title = shown, .status = 1};
    g_autoptr(GInputStream) raw = g_unix_input_stream_new(0, FALSE);
    p.in = g_data_input_stream_new(raw);
    /* Lines end in \n (qvm-copy turns the sender's \r into \n). */
    g_data_input_stream_set_newline_type(p.in, G_DATA_STREAM_NEWLINE_TYPE_LF);
    p.cancellable = g_cancellable_new();
    /* Not unique: each copy has a window of its own. */
    g_autoptr(GtkApplication) app =
        gtk_application_new("org.bulkhead.CopyProgress", G_APPLICATION_NON_UNIQUE);
    g_signal_connect(app, "activate", G_CALLBACK(on_activate), &p);
    g_application_run(G_APPLICATION(app), 1, argv);
    g_clear_object(&p.in);
    g_clear_object(&p.cancellable);
    return p.status;
}
