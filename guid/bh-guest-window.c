/* bh-guest-window.c — title bar, prefix and keyboard of a guest toplevel
 * (see bh-guest-window.h). Must never: forward Ctrl+Shift+C/V. */
#include "bh-guest-window.h"

#include "bh-guid-input.h"
#ifdef GDK_WINDOWING_X11
#include <gdk/x11/gdkx.h>
#endif

struct _BhGuestWindow {
    GtkWindow parent_instance;

    GtkWidget *header;
    GtkWidget *label_icon;
    GtkWidget *qube_label;
    GtkWidget *title_label;
    GtkWidget *urgent_marker;

    char *qube;
    gboolean urgent;
    BhGuidKeys keys;
    char *pending_title; /* the guest's latest title, waiting for the pacer; NULL: none */
    gboolean title_queued;
};

G_DEFINE_FINAL_TYPE(BhGuestWindow, bh_guest_window, GTK_TYPE_WINDOW)

enum { SIG_KEY, SIG_COMBO, N_SIGNALS };
static guint signals[N_SIGNALS];

static void emit_key(BhGuestWindow *self, GtkEventController *c, guint keycode, gboolean pressed,
                     GdkModifierType state)
{
    GdkEvent *event = gtk_event_controller_get_current_event(c);
    guint group = event != NULL ? gdk_key_event_get_layout(event) : 0;
    guint32 depressed, locked;
    bh_guid_input_xkb_mods(state, &depressed, &locked);
    g_signal_emit(self, signals[SIG_KEY], 0, keycode, pressed, depressed, locked, group);
}

static gboolean on_key_pressed(GtkEventControllerKey *c, guint keyval, guint keycode, GdkModifierType state,
                               BhGuestWindow *self)
{
    guint base = 0;
    GdkDisplay *display = gtk_widget_get_display(GTK_WIDGET(self));
    if (!gdk_display_translate_key(display, keycode, state, 0, &base, NULL, NULL, NULL))
        base = 0;
    BhGuidCombo combo = bh_guid_input_combo(keyval, base, state);

    if (bh_guid_keys_press(&self->keys, keycode, combo != BH_GUID_COMBO_NONE) == BH_GUID_KEY_FORWARD)
        emit_key(self, GTK_EVENT_CONTROLLER(c), keycode, TRUE, state);
    else if (combo != BH_GUID_COMBO_NONE)
        g_signal_emit(self, signals[SIG_COMBO], 0, (guint)combo);
    /* Every key is the guest's or guid's: none reaches GTK's own bindings. */
    return TRUE;
}

static void on_key_released(GtkEventControllerKey *c, guint keyval, guint keycode, GdkModifierType state,
                            BhGuestWindow *self)
{
    if (bh_guid_keys_release(&self->keys, keycode) == BH_GUID_KEY_FORWARD)
        emit_key(self, GTK_EVENT_CONTROLLER(c), keycode, FALSE, state);
}

/* ---- Title pacing ----------------------------------------------------------
 * Each title reaches X as several property changes that the window manager
 * handles one by one (openbox lays the text out and redraws its frame for
 * each): a qube that sends titles as fast as its socket takes them (100 000
 * in 7 s) left openbox busy for over 40 s after the flood, and no window of
 * any qube appeared meanwhile. So titles reach X at most once per
 * BH_GUEST_TITLE_INTERVAL_MS for all the windows of this guid (one guid per
 * qube: the bound is the qube's); the latest title of each window always
 * lands, in the order the windows asked. The pacer lives on the GdkDisplay
 * (one per guid), not in a global. */
#define BH_GUEST_TITLE_INTERVAL_MS 50
#define PACER_KEY                  "bh-guest-title-pacer"

typedef struct {
    GQueue waiting; /* BhGuestWindow *, each at most once, not referenced */
    gint64 last_us; /* when a title last went to X */
    guint source;
} TitlePacer;

static void pacer_free(gpointer data)
{
    TitlePacer *p = data;
    g_clear_handle_id(&p->source, g_source_remove);
    g_queue_clear(&p->waiting);
    g_free(p);
}

static TitlePacer *pacer_of(BhGuestWindow *self)
{
    GdkDisplay *display = gtk_widget_get_display(GTK_WIDGET(self));
    TitlePacer *p = g_object_get_data(G_OBJECT(display), PACER_KEY);
    if (p == NULL) {
        p = g_new0(TitlePacer, 1);
        g_queue_init(&p->waiting);
        g_object_set_data_full(G_OBJECT(display), PACER_KEY, p, pacer_free);
    }
    return p;
}

static void apply_title(BhGuestWindow *self, const char *title)
{
    /* The prefix is always first and the guest's text is plain text: no
     * markup, no mnemonic, and the decoder already removed control and
     * bidi-override characters, so the guest cannot push "[qube]" off. */
    g_autofree char *full = title[0] != '\0' ? g_strdup_printf("[%s] %s", self->qube, title)
                                             : g_strdup_printf("[%s]", self->qube);
    /* The bar shows the prefix in its own label (never cut); the title
     * label gets the guest's part only. */
    gtk_label_set_text(GTK_LABEL(self->title_label), title);
    gtk_widget_set_visible(self->title_label, title[0] != '\0');
    gtk_window_set_title(GTK_WINDOW(self), full);
}

static gboolean pacer_tick(gpointer data)
{
    TitlePacer *p = data;
    BhGuestWindow *next = g_queue_pop_head(&p->waiting);
    if (next == NULL) {
        p->source = 0;
        return G_SOURCE_REMOVE;
    }
    next->title_queued = FALSE;
    g_autofree char *title = g_steal_pointer(&next->pending_title);
    apply_title(next, title);
    p->last_us = g_get_monotonic_time();
    return G_SOURCE_CONTINUE;
}

static void bh_guest_window_dispose(GObject *object)
{
    BhGuestWindow *self = BH_GUEST_WINDOW(object);
    if (self->title_queued) {
        g_queue_remove(&pacer_of(self)->waiting, self);
        self->title_queued = FALSE;
    }
    G_OBJECT_CLASS(bh_guest_window_parent_class)->dispose(object);
}

static void bh_guest_window_finalize(GObject *object)
{
    BhGuestWindow *self = BH_GUEST_WINDOW(object);
    g_free(self->qube);
    g_free(self->pending_title);
    G_OBJECT_CLASS(bh_guest_window_parent_class)->finalize(object);
}

static void bh_guest_window_class_init(BhGuestWindowClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

    object_class->dispose = bh_guest_window_dispose;
    object_class->finalize = bh_guest_window_finalize;

    gtk_widget_class_set_template_from_resource(widget_class, "/org/bulkhead/guid/bh-guest-window.ui");
    gtk_widget_class_bind_template_child(widget_class, BhGuestWindow, header);
    gtk_widget_class_bind_template_child(widget_class, BhGuestWindow, label_icon);
    gtk_widget_class_bind_template_child(widget_class, BhGuestWindow, qube_label);
    gtk_widget_class_bind_template_child(widget_class, BhGuestWindow, title_label);
    gtk_widget_class_bind_template_child(widget_class, BhGuestWindow, urgent_marker);

    /* (xkb keycode, pressed, mods_depressed, mods_locked, group) */
    signals[SIG_KEY] =
        g_signal_new("guest-key", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                     G_TYPE_NONE, 5, G_TYPE_UINT, G_TYPE_BOOLEAN, G_TYPE_UINT, G_TYPE_UINT, G_TYPE_UINT);
    /* (BhGuidCombo): a key combination guid kept for itself */
    signals[SIG_COMBO] = g_signal_new("combo", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                      NULL, G_TYPE_NONE, 1, G_TYPE_UINT);
}

static void bh_guest_window_init(BhGuestWindow *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
    gtk_widget_add_css_class(GTK_WIDGET(self), "bh-guest");

    GtkEventController *keys = gtk_event_controller_key_new();
    gtk_event_controller_set_propagation_phase(keys, GTK_PHASE_CAPTURE);
    g_signal_connect(keys, "key-pressed", G_CALLBACK(on_key_pressed), self);
    g_signal_connect(keys, "key-released", G_CALLBACK(on_key_released), self);
    gtk_widget_add_controller(GTK_WIDGET(self), keys);
}

BhGuestWindow *bh_guest_window_new(const char *qube, const BhLabel *label, GtkWidget *view)
{
    BhGuestWindow *self = g_object_new(BH_TYPE_GUEST_WINDOW, NULL);
    g_autofree char *icon = bh_guid_label_icon_name(label);

    self->qube = g_strdup(qube);
    g_autofree char *prefix = g_strdup_printf("[%s]", qube);
    gtk_label_set_text(GTK_LABEL(self->qube_label), prefix);
    gtk_image_set_from_icon_name(GTK_IMAGE(self->label_icon), icon);
    gtk_window_set_icon_name(GTK_WINDOW(self), icon);
    gtk_window_set_child(GTK_WINDOW(self), view);
    /* Never paced: a window is never shown without "[qube]" (creating
     * windows has its own bounds: the window count and the budget). */
    apply_title(self, "");
    return self;
}

void bh_guest_window_set_guest_title(BhGuestWindow *self, const char *title)
{
    g_return_if_fail(BH_IS_GUEST_WINDOW(self));
    TitlePacer *p = pacer_of(self);
    gint64 now = g_get_monotonic_time();
    if (p->source == 0 && now - p->last_us >= BH_GUEST_TITLE_INTERVAL_MS * 1000) {
        /* Idle: an ordinary title change shows at once. */
        apply_title(self, title);
        p->last_us = now;
        return;
    }
    /* Busy: only the latest title of this window waits (what X shows until
     * then is the previous one, prefix and all). */
    g_free(self->pending_title);
    self->pending_title = g_strdup(title);
    if (!self->title_queued) {
        g_queue_push_tail(&p->waiting, self);
        self->title_queued = TRUE;
    }
    if (p->source == 0)
        p->source = g_timeout_add(BH_GUEST_TITLE_INTERVAL_MS, pacer_tick, p);
}

void bh_guest_window_set_urgent(BhGuestWindow *self, gboolean urgent)
{
    self->urgent = urgent;
    gtk_widget_set_visible(self->urgent_marker, urgent);
    if (urgent)
        gtk_widget_add_css_class(GTK_WIDGET(self), "bh-urgent-window");
    else
        gtk_widget_remove_css_class(GTK_WIDGET(self), "bh-urgent-window");
#ifdef GDK_WINDOWING_X11
    GdkSurface *surface = gtk_native_get_surface(GTK_NATIVE(self));
    if (surface != NULL && GDK_IS_X11_SURFACE(surface))
        gdk_x11_surface_set_urgency_hint(surface, urgent);
#endif
}

gboolean bh_guest_window_get_urgent(BhGuestWindow *self)
{
    return self->urgent;
}

void bh_guest_window_show_guest(BhGuestWindow *self, gboolean may_focus)
{
    g_return_if_fail(BH_IS_GUEST_WINDOW(self));
    GtkWidget *widget = GTK_WIDGET(self);
    /* Realized first so the user time is on the window before the map
     * request: the window manager decides on focus when it sees the map. */
    gtk_widget_realize(widget);
#ifdef GDK_WINDOWING_X11
    GdkSurface *surface = gtk_native_get_surface(GTK_NATIVE(self));
    /* GDK keeps the time of the last input it saw in this window and, on a
     * re-show, puts the display's latest input time there: to the window
     * manager that is a window the user just asked for. 0 also clears what
     * GDK kept, so its show leaves the property alone. */
    if (!may_focus && surface != NULL && GDK_IS_X11_SURFACE(surface))
        gdk_x11_surface_set_user_time(surface, 0);
    if (surface != NULL && GDK_IS_X11_SURFACE(surface) && self->urgent)
        gdk_x11_surface_set_urgency_hint(surface, TRUE);
#endif
    gtk_widget_set_visible(widget, TRUE);
}

gboolean bh_guest_window_get_title_box(BhGuestWindow *self, graphene_rect_t *out)
{
    if (!gtk_widget_get_visible(self->title_label))
        return FALSE;
    return gtk_widget_compute_bounds(self->title_label, GTK_WIDGET(self), out);
}

void bh_guest_window_reset_keys(BhGuestWindow *self)
{
    bh_guid_keys_reset(&self->keys);
}
