/* main.c — bulkhead-ask: dom0's dialog that asks the user where a qube's
 * call goes (issue 15; docs/ask.md). bulkheadd starts it for an `ask`
 * policy rule with the targets policy allows; it prints the chosen target
 * on stdout and exits 0, or prints nothing and exits 1 (Cancel, Escape,
 * closing, the timeout: all deny). 2: the command line was refused.
 *
 * Owns: the process (a GtkApplication of its own, not unique: two calls
 * may ask at once) and its exit status.
 * Must never: print anything on stdout but one allowed target. */
#include <stdio.h>

#include "bh-ask-request.h"
#include "bh-ask-resources.h"
#include "bh-ask-window.h"

typedef struct {
    BhAskRequest *request;
    int status;
} Ask;

static void on_done(BhAskWindow *window, const char *target, gpointer data)
{
    Ask *ask = data;
    if (target) {
        printf("%s\n", target);
        fflush(stdout);
        ask->status = 0;
    }
    gtk_window_destroy(GTK_WINDOW(window));
}

static void on_activate(GtkApplication *app, gpointer data)
{
    Ask *ask = data;
    if (!ask->request)
        return; /* one dialog per process */
    BhAskWindow *window = bh_ask_window_new(g_steal_pointer(&ask->request));
    gtk_window_set_application(GTK_WINDOW(window), app);
    g_signal_connect(window, "done", G_CALLBACK(on_done), ask);
    gtk_window_present(GTK_WINDOW(window));
}

int main(int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    Ask ask = {.status = 1};
    if (argc == 2 && (g_str_equal(argv[1], "--help") || g_str_equal(argv[1], "-h"))) {
        printf("usage: bulkhead-ask --source QUBE --label LABEL --service WORDS --target QUBE... [--default "
               "QUBE]\n"
               "                    [--timeout SECONDS] [--focus-ms MS]\n"
               "Prints the target the user chose and exits 0; exits 1 when denied.\n");
        return 0;
    }
    ask.request = bh_ask_request_parse(argc - 1, argv + 1, &error);
    if (!ask.request) {
        fprintf(stderr, "bulkhead-ask: %s\n", error->message);
        return 2;
    }
    /* A static library's resource constructor can be left out by the
     * linker: register it by hand, as the shell does. */
    g_resources_register(bh_ask_get_resource());
    g_autoptr(GtkApplication) app = gtk_application_new("org.bulkhead.Ask", G_APPLICATION_NON_UNIQUE);
    g_signal_connect(app, "activate", G_CALLBACK(on_activate), &ask);
    char *no_args[] = {argv[0], NULL};
    g_application_run(G_APPLICATION(app), 1, no_args);
    bh_ask_request_free(ask.request);
    return ask.status;
}
