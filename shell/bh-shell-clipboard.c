/* bh-shell-clipboard.c — the clipboard widget (see the header). */
#define G_LOG_DOMAIN "bh-shell"

#include "bh-shell-clipboard.h"

#include <string.h>

#include "bh-dbus-clipboard1.h"
#include "bh-dbus-error.h"

struct _BhShellClipboard {
    GtkBox parent_instance;
    BhShellQubes *qubes;
    BhDbusClipboard1 *proxy;
    GCancellable *cancel;
    GtkWidget *swatch;  /* on the panel: the source's label colour */
    GtkWidget *summary; /* on the panel: "N bytes from QUBE" */
    GtkWidget *heading; /* in the popover: "Global clipboard: …" */
    GtkWidget *clear;
    GtkWidget *message; /* the last failure, in the popover */
    char *swatch_class;
    char *source;    /* NULL when empty */
    GVariant *state; /* the last GetState or Changed, NULL: none */
};

G_DEFINE_FINAL_TYPE(BhShellClipboard, bh_shell_clipboard, GTK_TYPE_BOX)

/* A source as the daemon records it: "dom0" or a qube's name; anything else
 * (a newer daemon, a bug) is not shown as a name. */
static gboolean source_is_valid(const char *source)
{
    return bh_shell_qube_name_is_valid(source);
}

char *bh_shell_clipboard_describe(GVariant *state)
{
    const char *source = NULL;
    guint64 size = 0;

    if (state == NULL || !g_variant_is_of_type(state, G_VARIANT_TYPE_VARDICT) ||
        !g_variant_lookup(state, "size", "t", &size))
        return g_strdup("empty");
    if (!g_variant_lookup(state, "source", "&s", &source) || !source_is_valid(source))
        source = "unknown";
    return g_strdup_printf("%" G_GUINT64_FORMAT " %s from %s", size, size == 1 ? "byte" : "bytes", source);
}

static void show_message(BhShellClipboard *self, const char *text)
{
    gtk_label_set_text(GTK_LABEL(self->message), text != NULL ? text : "");
    gtk_widget_set_visible(self->message, text != NULL);
}

static void show_state(BhShellClipboard *self, GVariant *state)
{
    g_autofree char *words = bh_shell_clipboard_describe(state);
    g_autofree char *heading = g_strdup_printf("Global clipboard: %s", words);
    const char *source = NULL;
    BhShellQube *qube;
    char *swatch_class;

    if (state != NULL)
        g_variant_ref(state);
    g_clear_pointer(&self->state, g_variant_unref);
    self->state = state;
    g_clear_pointer(&self->source, g_free);
    if (state != NULL && g_variant_is_of_type(state, G_VARIANT_TYPE_VARDICT) &&
        g_variant_lookup(state, "source", "&s", &source) && source_is_valid(source))
        self->source = g_strdup(source);
    /* The source's label colour; dom0 (and a name no qube has) in dom0's grey. */
    qube = self->source != NULL ? bh_shell_qubes_find(self->qubes, self->source) : NULL;
    swatch_class = qube != NULL ? bh_shell_qube_css_class(qube) : g_strdup("bh-dom0");
    if (self->swatch_class != NULL)
        gtk_widget_remove_css_class(self->swatch, self->swatch_class);
    g_free(self->swatch_class);
    self->swatch_class = swatch_class;
    gtk_widget_add_css_class(self->swatch, swatch_class);
    gtk_widget_set_visible(self->swatch, self->source != NULL);
    gtk_label_set_text(GTK_LABEL(self->summary), self->source != NULL ? words : "clipboard empty");
    gtk_label_set_text(GTK_LABEL(self->heading), heading);
    gtk_widget_set_sensitive(self->clear, self->source != NULL);
}

static void on_state(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(BhShellClipboard) self = data;
    g_autoptr(GVariant) state = NULL;
    g_autoptr(GError) error = NULL;

    if (!bh_dbus_clipboard1_call_get_state_finish(BH_DBUS_CLIPBOARD1(source), &state, result, &error)) {
        if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            show_state(self, NULL);
        return;
    }
    show_state(self, state);
}

static void read_state(BhShellClipboard *self)
{
    bh_dbus_clipboard1_call_get_state(self->proxy, self->cancel, on_state, g_object_ref(self));
}

static void on_changed(BhDbusClipboard1 *proxy, GVariant *state, BhShellClipboard *self)
{
    show_state(self, state);
}

/* bulkheadd started or stopped: its clipboard is read again (or empty). */
static void on_name_owner(GObject *proxy, GParamSpec *pspec, BhShellClipboard *self)
{
    g_autofree char *owner = g_dbus_proxy_get_name_owner(G_DBUS_PROXY(proxy));

    if (owner == NULL)
        show_state(self, NULL);
    else
        read_state(self);
}

/* A qube's label may change, or the list arrive after the state. */
static void on_qubes_changed(BhShellQubes *qubes, BhShellClipboard *self)
{
    g_autoptr(GVariant) state = self->state != NULL ? g_variant_ref(self->state) : NULL;

    show_state(self, state);
}

static void on_done(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(BhShellClipboard) self = data;
    g_autoptr(GVariant) reply = NULL;
    g_autoptr(GError) error = NULL;

    reply = g_dbus_proxy_call_finish(G_DBUS_PROXY(source), result, &error);
    if (reply == NULL && !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        g_dbus_error_strip_remote_error(error);
        show_message(self, error->message);
    }
}

static void on_clear(GtkButton *button, BhShellClipboard *self)
{
    show_message(self, NULL);
    g_dbus_proxy_call(G_DBUS_PROXY(self->proxy), "Clear", NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START, -1,
                      self->cancel, on_done, g_object_ref(self));
}

/* dom0's own clipboard (this display's), read as text, goes to the daemon:
 * the daemon checks the limit and tells the user; the text is never shown. */
static void on_dom0_text(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(BhShellClipboard) self = data;
    g_autoptr(GError) error = NULL;
    g_autofree char *text = gdk_clipboard_read_text_finish(GDK_CLIPBOARD(source), result, &error);

    if (text == NULL || *text == '\0') {
        if (error == NULL || !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            show_message(self, "dom0's clipboard holds no text: copy some in a dom0 window first");
        return;
    }
    g_dbus_proxy_call(G_DBUS_PROXY(self->proxy), "CopyDom0", g_variant_new("(s)", text),
                      G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, self->cancel, on_done, g_object_ref(self));
}

static void on_copy_dom0(GtkButton *button, BhShellClipboard *self)
{
    GdkClipboard *clipboard = gtk_widget_get_clipboard(GTK_WIDGET(self));

    show_message(self, NULL);
    gdk_clipboard_read_text_async(clipboard, self->cancel, on_dom0_text, g_object_ref(self));
}

static void bh_shell_clipboard_dispose(GObject *object)
{
    BhShellClipboard *self = BH_SHELL_CLIPBOARD(object);

    g_cancellable_cancel(self->cancel);
    if (self->proxy != NULL)
        g_signal_handlers_disconnect_by_data(self->proxy, self);
    if (self->qubes != NULL)
        g_signal_handlers_disconnect_by_data(self->qubes, self);
    g_clear_object(&self->proxy);
    g_clear_object(&self->qubes);
    g_clear_object(&self->cancel);
    g_clear_pointer(&self->swatch_class, g_free);
    g_clear_pointer(&self->source, g_free);
    g_clear_pointer(&self->state, g_variant_unref);
    G_OBJECT_CLASS(bh_shell_clipboard_parent_class)->dispose(object);
}

static void bh_shell_clipboard_class_init(BhShellClipboardClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = bh_shell_clipboard_dispose;
    gtk_widget_class_set_css_name(GTK_WIDGET_CLASS(klass), "bh-clipboard");
}

/* No tooltip on the button while its popover is open: GTK 4.8 on X11 lays a
 * tooltip that comes up then (the pointer still rests on the button it just
 * clicked) out against no monitor and logs a Gdk-CRITICAL from
 * gdk_monitor_get_geometry (seen in the backtrace of shell-widgets' rare
 * failure: GtkTooltipWindow's map, then the X11 popup layout). A tooltip
 * over an open popover would hide part of it anyway. */
static void on_popover_show(GtkWidget *popover, GtkWidget *button)
{
    gtk_widget_set_has_tooltip(button, FALSE);
}

static void on_popover_closed(GtkPopover *popover, GtkWidget *button)
{
    gtk_widget_set_has_tooltip(button, TRUE);
}

static void bh_shell_clipboard_init(BhShellClipboard *self)
{
    GtkWidget *button = gtk_menu_button_new();
    GtkWidget *face = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
    GtkWidget *content = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
    GtkWidget *verbs = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
    GtkWidget *copy = gtk_button_new_with_label("Copy dom0 clipboard");
    GtkWidget *popover = gtk_popover_new();

    self->cancel = g_cancellable_new();
    self->swatch = gtk_label_new(NULL);
    gtk_widget_add_css_class(self->swatch, "bh-swatch");
    gtk_widget_set_valign(self->swatch, GTK_ALIGN_CENTER);
    self->summary = gtk_label_new("clipboard empty");
    gtk_box_append(GTK_BOX(face), self->swatch);
    gtk_box_append(GTK_BOX(face), self->summary);
    gtk_menu_button_set_child(GTK_MENU_BUTTON(button), face);
    gtk_widget_add_css_class(button, "bh-clipboard-button");
    gtk_widget_set_tooltip_text(button, "The global clipboard: Ctrl+Shift+C in a qube's window copies, "
                                        "Ctrl+Shift+V in another pastes");

    self->heading = gtk_label_new(NULL);
    gtk_widget_add_css_class(self->heading, "bh-clipboard-heading");
    gtk_label_set_xalign(GTK_LABEL(self->heading), 0);
    self->clear = gtk_button_new_with_label("Clear");
    gtk_widget_set_tooltip_text(self->clear, "Empty the global clipboard");
    gtk_widget_set_tooltip_text(copy, "Put the text of dom0's clipboard on the global clipboard, "
                                      "to paste it into a qube with Ctrl+Shift+V");
    g_signal_connect(self->clear, "clicked", G_CALLBACK(on_clear), self);
    g_signal_connect(copy, "clicked", G_CALLBACK(on_copy_dom0), self);
    self->message = gtk_label_new(NULL);
    gtk_label_set_wrap(GTK_LABEL(self->message), TRUE);
    gtk_label_set_max_width_chars(GTK_LABEL(self->message), 50);
    gtk_widget_add_css_class(self->message, "bh-crashed");
    gtk_widget_set_visible(self->message, FALSE);
    gtk_box_append(GTK_BOX(verbs), self->clear);
    gtk_box_append(GTK_BOX(verbs), copy);
    gtk_box_append(GTK_BOX(content), self->heading);
    gtk_box_append(GTK_BOX(content), verbs);
    gtk_box_append(GTK_BOX(content), self->message);
    gtk_popover_set_child(GTK_POPOVER(popover), content);
    gtk_menu_button_set_popover(GTK_MENU_BUTTON(button), popover);
    g_signal_connect(popover, "show", G_CALLBACK(on_popover_show), button);
    g_signal_connect(popover, "closed", G_CALLBACK(on_popover_closed), button);
    gtk_box_append(GTK_BOX(self), button);
}

GtkWidget *bh_shell_clipboard_new(BhShellQubes *qubes)
{
    BhShellClipboard *self = g_object_new(BH_TYPE_SHELL_CLIPBOARD, NULL);
    g_autoptr(GError) error = NULL;

    self->qubes = g_object_ref(qubes);
    show_state(self, NULL);
    /* As the Admin1 proxy: never auto-started, follows the name. */
    self->proxy = bh_dbus_clipboard1_proxy_new_for_bus_sync(
        G_BUS_TYPE_SESSION, G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START | G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES,
        BH_DBUS_NAME, BH_DBUS_PATH, NULL, &error);
    if (self->proxy == NULL) {
        show_message(self, error->message);
        return GTK_WIDGET(self);
    }
    g_signal_connect(self->proxy, "changed", G_CALLBACK(on_changed), self);
    g_signal_connect(self->proxy, "notify::g-name-owner", G_CALLBACK(on_name_owner), self);
    g_signal_connect(qubes, "changed", G_CALLBACK(on_qubes_changed), self);
    read_state(self);
    return GTK_WIDGET(self);
}
