/* xen-loop.c — libxl's fds, timeouts and children on GLib (see xen-loop.h).
 *
 * Owns one GSource per libxl fd registration and per timeout, and one child
 * watch per process libxl forks. Must never: call into libxl except through
 * libxl_osevent_occurred_* and libxl_childproc_reaped from a dispatch.
 */
#define G_LOG_DOMAIN "bh-xen"

#include "xen-loop.h"

#include <glib-unix.h>
#include <sys/time.h>
#include <unistd.h>

struct BhXenLoop {
    libxl_ctx *ctx;
    GMainContext *context;
    GList *timeouts; /* BhXenTimeout: libxl never deregisters them */
    GList *children; /* GSource: child watches not yet fired */
};

/* ---- fds ----------------------------------------------------------------- */

typedef struct {
    GSource source;
    BhXenLoop *loop;
    gpointer tag;
    void *for_libxl;
    int fd;
    short events;
} BhXenFdSource;

static gboolean bh_xen_fd_dispatch(GSource *source, GSourceFunc callback, gpointer user_data)
{
    BhXenFdSource *s = (BhXenFdSource *)source;
    /* GIOCondition bits are poll()'s on Linux. */
    short revents = (short)g_source_query_unix_fd(source, s->tag);
    if (revents)
        libxl_osevent_occurred_fd(s->loop->ctx, s->for_libxl, s->fd, s->events, revents);
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs bh_xen_fd_funcs = {
    .dispatch = bh_xen_fd_dispatch,
};

static int bh_xen_fd_register(void *user, int fd, void **for_app, short events, void *for_libxl)
{
    BhXenLoop *loop = user;
    BhXenFdSource *s = (BhXenFdSource *)g_source_new(&bh_xen_fd_funcs, sizeof *s);
    g_source_set_static_name(&s->source, "libxl fd");
    s->loop = loop;
    s->fd = fd;
    s->events = events;
    s->for_libxl = for_libxl;
    s->tag = g_source_add_unix_fd(&s->source, fd, (GIOCondition)events);
    g_source_attach(&s->source, loop->context);
    *for_app = s;
    return 0;
}

static int bh_xen_fd_modify(void *user, int fd, void **for_app, short events)
{
    BhXenFdSource *s = *for_app;
    s->events = events;
    g_source_modify_unix_fd(&s->source, s->tag, (GIOCondition)events);
    return 0;
}

static void bh_xen_fd_deregister(void *user, int fd, void *for_app)
{
    BhXenFdSource *s = for_app;
    g_source_destroy(&s->source);
    g_source_unref(&s->source);
}

/* ---- timeouts ------------------------------------------------------------ */

typedef struct {
    BhXenLoop *loop;
    GSource *source;
    void *for_libxl;
} BhXenTimeout;

static gboolean bh_xen_timeout_fire(gpointer user_data)
{
    BhXenTimeout *t = user_data;
    BhXenLoop *loop = t->loop;
    void *for_libxl = t->for_libxl;

    /* libxl treats the timeout as deregistered from here on. */
    loop->timeouts = g_list_remove(loop->timeouts, t);
    g_source_unref(t->source);
    g_free(t);
    libxl_osevent_occurred_timeout(loop->ctx, for_libxl);
    return G_SOURCE_REMOVE;
}

static void bh_xen_timeout_arm(BhXenTimeout *t, guint ms)
{
    t->source = g_timeout_source_new(ms);
    g_source_set_static_name(t->source, "libxl timeout");
    g_source_set_callback(t->source, bh_xen_timeout_fire, t, NULL);
    g_source_attach(t->source, t->loop->context);
}

/* libxl's deadlines are wall-clock (gettimeofday). */
static guint bh_xen_ms_until(struct timeval abs)
{
    struct timeval now;
    gettimeofday(&now, NULL);
    gint64 ms = ((gint64)abs.tv_sec - now.tv_sec) * 1000 + ((gint64)abs.tv_usec - now.tv_usec) / 1000;
    return ms <= 0 ? 0 : (guint)MIN(ms, (gint64)G_MAXUINT);
}

static int bh_xen_timeout_register(void *user, void **for_app, struct timeval abs, void *for_libxl)
{
    BhXenLoop *loop = user;
    BhXenTimeout *t = g_new0(BhXenTimeout, 1);
    t->loop = loop;
    t->for_libxl = for_libxl;
    bh_xen_timeout_arm(t, bh_xen_ms_until(abs));
    loop->timeouts = g_list_prepend(loop->timeouts, t);
    *for_app = t;
    return 0;
}

/* Only ever "now" (abs = 0). */
static int bh_xen_timeout_modify(void *user, void **for_app, struct timeval abs)
{
    BhXenTimeout *t = *for_app;
    g_source_destroy(t->source);
    g_source_unref(t->source);
    bh_xen_timeout_arm(t, 0);
    return 0;
}

static const libxl_osevent_hooks bh_xen_osevent_hooks = {
    .fd_register = bh_xen_fd_register,
    .fd_modify = bh_xen_fd_modify,
    .fd_deregister = bh_xen_fd_deregister,
    .timeout_register = bh_xen_timeout_register,
    .timeout_modify = bh_xen_timeout_modify,
};

/* ---- children ------------------------------------------------------------ */

typedef struct {
    BhXenLoop *loop;
    GSource *watch;
} BhXenChild;

static void bh_xen_child_reaped(GPid pid, int status, gpointer user_data)
{
    BhXenChild *child = user_data;
    BhXenLoop *loop = child->loop;
    loop->children = g_list_remove(loop->children, child->watch);
    g_source_unref(child->watch);
    /* GLib hands over the raw wait status, as libxl wants it. */
    libxl_childproc_reaped(loop->ctx, pid, status);
}

/* libxl forks hotplug scripts and libxl-save-helper through this. A GLib
 * child watch reaps exactly that pid (it checks at once, so a child that
 * exits before the watch exists is not missed). */
static pid_t bh_xen_fork(void *user)
{
    BhXenLoop *loop = user;
    pid_t pid = fork();
    if (pid > 0) {
        BhXenChild *child = g_new0(BhXenChild, 1);
        child->loop = loop;
        child->watch = g_child_watch_source_new(pid);
        g_source_set_callback(child->watch, G_SOURCE_FUNC(bh_xen_child_reaped), child, g_free);
        g_source_attach(child->watch, loop->context);
        loop->children = g_list_prepend(loop->children, child->watch);
    }
    return pid;
}

static const libxl_childproc_hooks bh_xen_child_hooks = {
    .chldowner = libxl_sigchld_owner_mainloop,
    .fork_replacement = bh_xen_fork,
};

/* ---- life ---------------------------------------------------------------- */

BhXenLoop *bh_xen_loop_new(void)
{
    BhXenLoop *loop = g_new0(BhXenLoop, 1);
    loop->context = g_main_context_ref_thread_default();
    return loop;
}

void bh_xen_loop_attach(BhXenLoop *loop, libxl_ctx *ctx)
{
    loop->ctx = ctx;
    libxl_osevent_register_hooks(ctx, &bh_xen_osevent_hooks, loop);
    libxl_childproc_setmode(ctx, &bh_xen_child_hooks, loop);
}

void bh_xen_loop_free(BhXenLoop *loop)
{
    if (loop == NULL)
        return;
    for (GList *l = loop->timeouts; l; l = l->next) {
        BhXenTimeout *t = l->data;
        g_source_destroy(t->source);
        g_source_unref(t->source);
        g_free(t);
    }
    g_list_free(loop->timeouts);
    for (GList *l = loop->children; l; l = l->next) {
        g_source_destroy(l->data);
        g_source_unref(l->data);
    }
    g_list_free(loop->children);
    g_main_context_unref(loop->context);
    g_free(loop);
}
