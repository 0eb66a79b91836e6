/* xen.c — the xen backend: each running qube is a libxl domain named after it.
 *
 * Owns the libxl context, the domains this daemon started or adopted, their
 * power state (from libxl's domain shutdown/death events and
 * libxl_domain_info), the translation of libxl failures into messages, and
 * the address of a domain's RPC agent (its domid on the xen vchan), and
 * which netvm serves each domain's vif (its rules there: xen-net.c).
 * All libxl callbacks arrive on the daemon's main context (xen-loop.c);
 * nothing here runs in another thread. libxl may not be re-entered from its
 * own callbacks, so every reaction to one is deferred to an idle.
 * Must never: open the store or decide policy (the daemon does), or let a
 * guest's behaviour (shutdown reason, refusing to shut down) do more than
 * change that guest's state.
 */
#define G_LOG_DOMAIN "bh-xen"

#include "xen.h"

#include <errno.h>
#include <libxl_utils.h>
#include <stdio.h>
#include <xentoollog.h>

#include <bulkhead/program-path.h>
#include <bulkhead/vchan.h>

#include "xen-config.h"
#include "xen-disks.h"
#include "xen-loop.h"
#include "xen-net.h"
#include "xen-stale-loops.h"
#include "xen-volumes.h"

/* libxl's INVALID_DOMID is an int; domids are uint32_t. */
#define BH_XEN_NO_DOMID ((uint32_t)INVALID_DOMID)

typedef struct BhXenBackend BhXenBackend;

/* libxl's log, into GLib's, remembering the last error for messages. */
typedef struct {
    xentoollog_logger vtable;
    char *last_error;
    gboolean verbose;
} BhXenLogger;

typedef struct {
    BhXenBackend *xen;
    char *name;
    uint32_t domid;
    BhPowerState state;
    libxl_evgen_domain_death *death;
    gboolean crashed;
    const char *crash_reason;    /* static text, for Crashed */
    GTask *start;                /* until Running or failed */
    libxl_domain_config *config; /* kept until create completes */
    GList *shutdowns;            /* GTask: complete at death */
    guint force_timer;           /* shutdown timeout */
    guint destroying;            /* our libxl_domain_destroy calls still running */
    gboolean dead;               /* libxl reported its death */
    guint32 qid;                 /* its vif<qid> in its netvm */
    char *netvm;                 /* the netvm whose firewall has its rules; NULL: none */
    GPtrArray *loops;            /* BhXenDiskLoop: its disks' loop devices, held until it is gone */
} BhXenDomain;

struct BhXenBackend {
    BhBackend parent;
    BhXenLogger *logger;
    libxl_ctx *ctx;
    BhXenLoop *loop;
    char *kernels_dir;
    GHashTable *domains;  /* name -> BhXenDomain */
    guint pending;        /* asynchronous libxl operations not yet done */
    struct xs_handle *xs; /* the netvms' firewalls (xen-net.h); NULL: none */
};

/* ---- logging --------------------------------------------------------------- */

static void bh_xen_log_message(xentoollog_logger *logger, xentoollog_level level, int errnoval,
                               const char *context, const char *format, va_list al)
{
    BhXenLogger *l = (BhXenLogger *)logger;
    g_autofree char *text = g_strdup_vprintf(format, al);
    if (errnoval >= 0) {
        char *with = g_strdup_printf("%s: %s", text, g_strerror(errnoval));
        g_free(text);
        text = with;
    }
    if (level >= XTL_ERROR) {
        g_free(l->last_error);
        l->last_error = g_strdup(text);
        g_message("%s: %s", context ? context : "libxl", text);
    } else if (level >= XTL_WARN || l->verbose) {
        g_debug("%s: %s", context ? context : "libxl", text);
    }
}

static void bh_xen_log_destroy(xentoollog_logger *logger)
{
    BhXenLogger *l = (BhXenLogger *)logger;
    g_free(l->last_error);
    g_free(l);
}

static BhXenLogger *bh_xen_logger_new(gboolean verbose)
{
    BhXenLogger *l = g_new0(BhXenLogger, 1);
    l->vtable.vmessage = bh_xen_log_message;
    l->vtable.destroy = bh_xen_log_destroy;
    l->verbose = verbose;
    return l;
}

/* An error for a failed libxl call, with libxl's own last complaint. */
static void bh_xen_set_libxl_error(BhXenBackend *xen, GError **error, int rc, const char *format, ...)
    G_GNUC_PRINTF(4, 5);

static void bh_xen_set_libxl_error(BhXenBackend *xen, GError **error, int rc, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    g_autofree char *what = g_strdup_vprintf(format, args);
    va_end(args);
    g_set_error(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_FAILED, "%s (libxl error %d%s%s)", what, rc,
                xen->logger->last_error ? ": " : "", xen->logger->last_error ? xen->logger->last_error : "");
}

/* ---- domains --------------------------------------------------------------- */

static void bh_xen_domain_free(BhXenDomain *dom)
{
    g_clear_handle_id(&dom->force_timer, g_source_remove);
    if (dom->death)
        libxl_evdisable_domain_death(dom->xen->ctx, dom->death);
    if (dom->config) {
        libxl_domain_config_dispose(dom->config);
        g_free(dom->config);
    }
    g_assert(dom->start == NULL && dom->shutdowns == NULL);
    /* Its loop devices go once blkback has closed them too (autoclear). */
    g_clear_pointer(&dom->loops, g_ptr_array_unref);
    g_free(dom->netvm);
    g_free(dom->name);
    g_free(dom);
}

static BhXenDomain *bh_xen_domain_new(BhXenBackend *xen, const char *name, uint32_t domid)
{
    BhXenDomain *dom = g_new0(BhXenDomain, 1);
    dom->xen = xen;
    dom->name = g_strdup(name);
    dom->domid = domid;
    dom->state = BH_POWER_HALTED;
    g_hash_table_replace(xen->domains, dom->name, dom);
    return dom;
}

static void bh_xen_set_state(BhXenDomain *dom, BhPowerState state, const char *reason)
{
    if (dom->state == state)
        return;
    dom->state = state;
    bh_backend_notify_state(&dom->xen->parent, dom->name, state, reason);
}

/* The domid of a domain named qube that is not on its way out; FALSE if none. */
static gboolean bh_xen_lookup(BhXenBackend *xen, const char *qube, uint32_t *domid, libxl_dominfo *info_out)
{
    uint32_t id;
    libxl_dominfo info;
    gboolean found = FALSE;

    if (libxl_name_to_domid(xen->ctx, qube, &id) != 0)
        return FALSE;
    libxl_dominfo_init(&info);
    if (libxl_domain_info(xen->ctx, &info, id) == 0 && !info.dying) {
        *domid = id;
        found = TRUE;
        if (info_out)
            *info_out = info;
    }
    if (!found || !info_out)
        libxl_dominfo_dispose(&info);
    return found;
}

static gboolean bh_xen_is_running(const char *qube, gpointer user_data)
{
    uint32_t domid;
    return bh_xen_lookup(user_data, qube, &domid, NULL);
}

/* Death events for a domain; they drive Halted/Crashed. */
static gboolean bh_xen_watch(BhXenDomain *dom, GError **error)
{
    if (dom->death)
        return TRUE;
    int rc = libxl_evenable_domain_death(dom->xen->ctx, dom->domid, 0, &dom->death);
    if (rc) {
        bh_xen_set_libxl_error(dom->xen, error, rc, "cannot watch domain %u of qube %s", dom->domid,
                               dom->name);
        dom->death = NULL;
        return FALSE;
    }
    return TRUE;
}

/* The domain's rules leave its netvm's firewall (the vif is gone with
 * it); a netvm that stopped took them along. */
static void bh_xen_net_forget(BhXenDomain *dom)
{
    g_autofree char *netvm = g_steal_pointer(&dom->netvm);
    g_autoptr(GError) error = NULL;
    uint32_t netvm_domid;
    if (netvm == NULL || !bh_xen_lookup(dom->xen, netvm, &netvm_domid, NULL))
        return;
    if (!bh_xen_net_set_client(dom->xen->xs, netvm_domid, dom->qid, NULL, FALSE, &error))
        g_message("[%s] its rules stay in %s: %s", dom->name, netvm, error->message);
}

/* The domain is gone: Halted (or Crashed), waiters done, entry dropped. */
static void bh_xen_domain_gone(BhXenDomain *dom)
{
    BhXenBackend *xen = dom->xen;
    gboolean crashed = dom->crashed;
    GList *shutdowns = g_steal_pointer(&dom->shutdowns);
    g_autofree char *name = g_strdup(dom->name);

    g_info("[%s] domain %u is gone%s", name, dom->domid, crashed ? " (it crashed)" : "");
    bh_xen_net_forget(dom);
    g_clear_handle_id(&dom->force_timer, g_source_remove);
    if (dom->start) {
        GTask *start = g_steal_pointer(&dom->start);
        g_task_return_new_error(start, BH_BACKEND_ERROR, BH_BACKEND_ERROR_FAILED,
                                "qube %s stopped while it was starting", name);
        g_object_unref(start);
    }
    bh_xen_set_state(dom, crashed ? BH_POWER_CRASHED : BH_POWER_HALTED,
                     crashed ? (dom->crash_reason ? dom->crash_reason : "the domain crashed") : NULL);
    /* The entry goes before the callbacks run: a waiter may start it again. */
    g_hash_table_remove(xen->domains, name);
    for (GList *l = shutdowns; l; l = l->next) {
        g_task_return_boolean(l->data, TRUE);
        g_object_unref(l->data);
    }
    g_list_free(shutdowns);
}

typedef struct {
    BhXenBackend *xen;
    char *name;
    int rc;           /* of the libxl operation it was handed to */
    GSourceFunc then; /* runs in an idle once that operation is done */
} BhXenRef;

static BhXenRef *bh_xen_ref_new(BhXenBackend *xen, const char *name, GSourceFunc then)
{
    BhXenRef *ref = g_new0(BhXenRef, 1);
    xen->pending++;
    ref->xen = xen;
    ref->name = g_strdup(name);
    ref->then = then;
    return ref;
}

static void bh_xen_ref_free(gpointer data)
{
    BhXenRef *ref = data;
    ref->xen->pending--;
    g_free(ref->name);
    g_free(ref);
}

static BhXenDomain *bh_xen_ref_domain(BhXenRef *ref)
{
    return g_hash_table_lookup(ref->xen->domains, ref->name);
}

/* libxl destroyed (or failed to destroy) a domain we asked it to. Its death
 * event comes first, while libxl still tears down the devices (hotplug
 * scripts release the images); only now may the qube start again. */
static gboolean bh_xen_destroyed_idle(gpointer data)
{
    BhXenRef *ref = data;
    BhXenDomain *dom = bh_xen_ref_domain(ref);
    if (ref->rc)
        g_message("[%s] libxl could not destroy the domain (libxl error %d)", ref->name, ref->rc);
    if (dom == NULL)
        return G_SOURCE_REMOVE;
    dom->destroying--;
    if (dom->destroying == 0 && (dom->dead || ref->rc == 0))
        bh_xen_domain_gone(dom);
    return G_SOURCE_REMOVE;
}

/* Completion of every asynchronous libxl operation (a BhXenRef as its
 * for_callback): libxl may not be re-entered from here, so the reaction
 * runs later. */
static void bh_xen_ao_done(libxl_ctx *ctx, int rc, void *for_callback)
{
    BhXenRef *ref = for_callback;
    ref->rc = rc;
    g_idle_add_full(G_PRIORITY_DEFAULT, ref->then, ref, bh_xen_ref_free);
}

static int bh_xen_destroy(BhXenDomain *dom)
{
    libxl_asyncop_how how = {
        .callback = bh_xen_ao_done,
        .u.for_callback = bh_xen_ref_new(dom->xen, dom->name, bh_xen_destroyed_idle),
    };
    int rc = libxl_domain_destroy(dom->xen->ctx, dom->domid, &how);
    if (rc)
        bh_xen_ref_free(how.u.for_callback);
    else
        dom->destroying++;
    return rc;
}

/* ---- events ------------------------------------------------------------------ */

typedef struct {
    BhXenBackend *xen;
    uint32_t domid;
    libxl_event_type type;
    uint8_t reason;
} BhXenEventWork;

static BhXenDomain *bh_xen_by_domid(BhXenBackend *xen, uint32_t domid)
{
    GHashTableIter iter;
    gpointer value;
    g_hash_table_iter_init(&iter, xen->domains);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        BhXenDomain *dom = value;
        if (dom->domid == domid)
            return dom;
    }
    return NULL;
}

static gboolean bh_xen_event_idle(gpointer data)
{
    BhXenEventWork *work = data;
    BhXenDomain *dom = bh_xen_by_domid(work->xen, work->domid);
    if (dom == NULL)
        return G_SOURCE_REMOVE;
    if (work->type == LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN) {
        /* The guest stopped itself (or was told to): powered off, rebooted or
         * crashed, it is destroyed; bulkheadd restarts nothing by itself. */
        dom->crashed =
            work->reason == LIBXL_SHUTDOWN_REASON_CRASH || work->reason == LIBXL_SHUTDOWN_REASON_WATCHDOG;
        g_info("[%s] domain %u shut down (reason %s)", dom->name, dom->domid,
               libxl_shutdown_reason_to_string(work->reason));
        if (dom->state != BH_POWER_DYING)
            bh_xen_set_state(dom, BH_POWER_HALTING, "the domain shut down");
        int rc = bh_xen_destroy(dom);
        if (rc)
            g_message("[%s] cannot destroy the shut-down domain (libxl error %d)", dom->name, rc);
    } else if (work->type == LIBXL_EVENT_TYPE_DOMAIN_DEATH) {
        /* Destroyed by someone else (xl destroy): nothing more will come.
         * Neither the guest nor bulkheadd ended it, so it is Crashed, as a
         * sandbox whose init is killed from outside: the qube did not stop
         * the way a qube stops, and the user must hear of it. */
        dom->dead = TRUE;
        if (dom->destroying == 0 && dom->state != BH_POWER_HALTING && dom->state != BH_POWER_DYING) {
            dom->crashed = TRUE;
            dom->crash_reason = "its domain was destroyed outside bulkheadd";
            g_message("[%s] domain %u was destroyed outside bulkheadd", dom->name, dom->domid);
        }
        if (dom->destroying == 0)
            bh_xen_domain_gone(dom);
    }
    return G_SOURCE_REMOVE;
}

static void bh_xen_event(void *user, libxl_event *event)
{
    BhXenBackend *xen = user;
    BhXenEventWork *work = g_new0(BhXenEventWork, 1);
    work->xen = xen;
    work->domid = event->domid;
    work->type = event->type;
    if (event->type == LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN)
        work->reason = event->u.domain_shutdown.shutdown_reason;
    libxl_event_free(xen->ctx, event);
    g_idle_add_full(G_PRIORITY_DEFAULT, bh_xen_event_idle, work, g_free);
}

static void bh_xen_disaster(void *user, libxl_event_type type, const char *msg, int errnoval)
{
    /* libxl may no longer report deaths: say so loudly, the states may lie. */
    g_critical("libxl cannot deliver events any more (%s: %s); qube states may be stale", msg,
               errnoval >= 0 ? g_strerror(errnoval) : "no error code");
}

static const libxl_event_hooks bh_xen_event_hooks = {
    .event_occurs_mask = LIBXL_EVENTMASK_ALL,
    .event_occurs = bh_xen_event,
    .disaster = bh_xen_disaster,
};

/* ---- volumes --------------------------------------------------------------- */

static gboolean bh_xen_create_volumes(BhBackend *backend, const BhBackendQube *qube, GError **error)
{
    return bh_xen_volumes_add(backend->state_dir, qube, error);
}

static gboolean bh_xen_clone_volumes(BhBackend *backend, const char *source, const BhBackendQube *qube,
                                     GError **error)
{
    return bh_xen_volumes_clone(backend->state_dir, source, qube, error);
}

static gboolean bh_xen_remove_volumes(BhBackend *backend, const char *qube, GError **error)
{
    BhXenBackend *xen = (BhXenBackend *)backend;
    uint32_t domid;
    if (bh_xen_lookup(xen, qube, &domid, NULL)) {
        g_set_error(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_WRONG_STATE,
                    "qube %s runs as domain %u; stop it before removing its volumes", qube, domid);
        return FALSE;
    }
    /* A loop device left on its images would keep them (their space too)
     * after they are deleted. */
    g_autofree char *dir = bh_xen_qube_dir(backend->state_dir, qube);
    g_autofree char *why = g_strdup_printf("for the removal of %s", qube);
    bh_xen_stale_loops_detach(dir, FALSE, why);
    return bh_xen_volumes_remove(backend->state_dir, qube, error);
}

/* ---- start ----------------------------------------------------------------- */

static gboolean bh_xen_start_idle(gpointer data)
{
    BhXenRef *ref = data;
    BhXenDomain *dom = bh_xen_ref_domain(ref);
    if (dom == NULL || dom->start == NULL) {
        /* Abandoned (bulkheadd is stopping): no domain may outlive that. */
        if (dom && ref->rc == 0)
            libxl_domain_destroy(ref->xen->ctx, dom->domid, NULL);
        return G_SOURCE_REMOVE;
    }
    g_autoptr(GTask) task = g_steal_pointer(&dom->start);
    g_autoptr(GError) error = NULL;
    int rc = ref->rc;

    if (dom->config) {
        libxl_domain_config_dispose(dom->config);
        g_clear_pointer(&dom->config, g_free);
    }
    if (rc) {
        bh_xen_set_libxl_error(ref->xen, &error, rc, "cannot create the domain of qube %s", dom->name);
        /* libxl has already destroyed what it had made of the domain. */
        bh_xen_net_forget(dom);
        bh_xen_set_state(dom, BH_POWER_HALTED, error->message);
        g_hash_table_remove(ref->xen->domains, dom->name);
        g_task_return_error(task, g_steal_pointer(&error));
        return G_SOURCE_REMOVE;
    }
    /* libxl makes domains paused; watch it before it can die unseen. */
    if (!bh_xen_watch(dom, &error) || (rc = libxl_domain_unpause(ref->xen->ctx, dom->domid, NULL))) {
        if (error == NULL)
            bh_xen_set_libxl_error(ref->xen, &error, rc, "cannot unpause domain %u of qube %s", dom->domid,
                                   dom->name);
        bh_xen_set_state(dom, BH_POWER_DYING, error->message);
        bh_xen_destroy(dom);
        g_task_return_error(task, g_steal_pointer(&error));
        return G_SOURCE_REMOVE;
    }
    g_info("[%s] running as domain %u", dom->name, dom->domid);
    bh_xen_set_state(dom, BH_POWER_RUNNING, NULL);
    g_task_return_boolean(task, TRUE);
    return G_SOURCE_REMOVE;
}

/* The loop devices this backend holds for its domains' disks. */
static GHashTable *bh_xen_held_loops(BhXenBackend *xen)
{
    GHashTable *held = g_hash_table_new(g_str_hash, g_str_equal);
    GHashTableIter iter;
    gpointer value;
    g_hash_table_iter_init(&iter, xen->domains);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        BhXenDomain *dom = value;
        for (guint i = 0; dom->loops && i < dom->loops->len; i++)
            g_hash_table_add(held, ((BhXenDiskLoop *)g_ptr_array_index(dom->loops, i))->device);
    }
    return held;
}

static void bh_xen_start(BhBackend *backend, const BhBackendQube *qube, GCancellable *cancellable,
                         GAsyncReadyCallback callback, gpointer user_data)
{
    BhXenBackend *xen = (BhXenBackend *)backend;
    g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, user_data);
    g_autoptr(GError) error = NULL;
    uint32_t domid;

    g_task_set_source_tag(task, bh_xen_start);
    if (g_hash_table_contains(xen->domains, qube->name) || bh_xen_lookup(xen, qube->name, &domid, NULL)) {
        g_task_return_new_error(task, BH_BACKEND_ERROR, BH_BACKEND_ERROR_WRONG_STATE,
                                "qube %s already has a domain", qube->name);
        return;
    }
    /* Our own block script, not Xen's (bulkhead-xen-block says why). */
    BhXenEnv env = {
        .state_dir = backend->state_dir,
        .kernels_dir = xen->kernels_dir,
        .block_script =
            bh_program_path("BH_XEN_BLOCK_SCRIPT", BH_SOURCE_ROOT "/core/backends/bulkhead-xen-block",
                            BH_LIBEXECDIR "/bulkhead-xen-block"),
        .is_running = bh_xen_is_running,
        .user_data = xen,
    };
    /* Its netvm's address is its gateway; its rules go into that netvm's
     * firewall before the vif exists (the netvm drops a vif it has no
     * rules for). A netvm that is not running: the configuration says so. */
    uint32_t netvm_domid = BH_XEN_NO_DOMID;
    g_autofree char *gateway = NULL;
    if (qube->netvm && bh_xen_lookup(xen, qube->netvm, &netvm_domid, NULL) &&
        (gateway = bh_xen_net_address(xen->xs, netvm_domid, &error)) == NULL)
        g_message("[%s] %s", qube->name, error->message);
    g_clear_error(&error);
    env.gateway = gateway;
    libxl_domain_config *config = g_new0(libxl_domain_config, 1);
    libxl_domain_config_init(config);
    /* Its images on loop devices of its own before libxl sees them: the
     * disks are phy disks, whose hotplug script has little left to do
     * (xen-disks.h says why). */
    g_autoptr(GPtrArray) loops = g_ptr_array_new_with_free_func((GDestroyNotify)bh_xen_disk_loop_free);
    g_autoptr(GHashTable) held = bh_xen_held_loops(xen);
    if (!bh_xen_config_build(qube, &env, config, &error) ||
        !bh_xen_volumes_prepare(backend->state_dir, qube, &error) ||
        !bh_xen_disks_attach(config->disks, config->num_disks, held, loops, &error) ||
        (qube->netvm &&
         !bh_xen_net_set_client(xen->xs, netvm_domid, qube->qid, qube->firewall, TRUE, &error))) {
        libxl_domain_config_dispose(config);
        g_free(config);
        g_task_return_error(task, g_steal_pointer(&error));
        return;
    }
    BhXenDomain *dom = bh_xen_domain_new(xen, qube->name, BH_XEN_NO_DOMID);
    dom->loops = g_steal_pointer(&loops);
    dom->qid = qube->qid;
    dom->netvm = g_strdup(qube->netvm);
    dom->config = config;
    dom->start = g_object_ref(task);
    bh_xen_set_state(dom, BH_POWER_TRANSIENT, NULL);

    g_clear_pointer(&xen->logger->last_error, g_free);
    libxl_asyncop_how how = {
        .callback = bh_xen_ao_done,
        .u.for_callback = bh_xen_ref_new(xen, qube->name, bh_xen_start_idle),
    };
    int rc = libxl_domain_create_new(xen->ctx, config, &dom->domid, &how, NULL);
    if (rc) {
        /* Refused before it began: no callback will come. */
        bh_xen_ao_done(xen->ctx, rc, how.u.for_callback);
    }
}

static gboolean bh_xen_start_finish(BhBackend *backend, GAsyncResult *result, GError **error)
{
    return g_task_propagate_boolean(G_TASK(result), error);
}

/* ---- shutdown, kill, pause ------------------------------------------------------- */

/* A domain of ours for qube, adopting one that runs without us (started
 * before this daemon): its death events are then watched too. */
static BhXenDomain *bh_xen_find(BhXenBackend *xen, const char *qube, GError **error)
{
    BhXenDomain *dom = g_hash_table_lookup(xen->domains, qube);
    uint32_t domid;
    libxl_dominfo info;

    if (dom && dom->domid != BH_XEN_NO_DOMID)
        return dom;
    if (dom || !bh_xen_lookup(xen, qube, &domid, &info)) {
        g_set_error(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_WRONG_STATE,
                    dom ? "qube %s is still being created" : "qube %s has no domain", qube);
        return NULL;
    }
    dom = bh_xen_domain_new(xen, qube, domid);
    dom->state = info.paused ? BH_POWER_PAUSED : BH_POWER_RUNNING;
    /* Started by an earlier daemon: its netvm and qid are what that one
     * wrote in its xenstore (bulkhead/netvm, bulkhead/qid), for its rules. */
    bh_xen_net_client_of(xen->xs, domid, &dom->netvm, &dom->qid);
    libxl_dominfo_dispose(&info);
    if (!bh_xen_watch(dom, error)) {
        g_hash_table_remove(xen->domains, qube);
        return NULL;
    }
    g_info("[%s] adopted running domain %u", qube, domid);
    return dom;
}

static gboolean bh_xen_force_off(gpointer data)
{
    BhXenDomain *dom = data;
    dom->force_timer = 0;
    g_message("[%s] did not shut down in time; destroying domain %u", dom->name, dom->domid);
    bh_xen_set_state(dom, BH_POWER_DYING, "shutdown timed out");
    int rc = bh_xen_destroy(dom);
    if (rc)
        g_message("[%s] cannot destroy domain %u (libxl error %d)", dom->name, dom->domid, rc);
    return G_SOURCE_REMOVE;
}

static void bh_xen_shutdown(BhBackend *backend, const char *qube, guint timeout_s, GCancellable *cancellable,
                            GAsyncReadyCallback callback, gpointer user_data)
{
    BhXenBackend *xen = (BhXenBackend *)backend;
    g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, user_data);
    g_autoptr(GError) error = NULL;
    uint32_t domid;

    g_task_set_source_tag(task, bh_xen_shutdown);
    if (!g_hash_table_contains(xen->domains, qube) && !bh_xen_lookup(xen, qube, &domid, NULL)) {
        g_task_return_boolean(task, TRUE); /* already down */
        return;
    }
    BhXenDomain *dom = bh_xen_find(xen, qube, &error);
    if (dom == NULL) {
        g_task_return_error(task, g_steal_pointer(&error));
        return;
    }
    dom->shutdowns = g_list_append(dom->shutdowns, g_object_ref(task));
    if (dom->state == BH_POWER_HALTING || dom->state == BH_POWER_DYING)
        return; /* already on its way: this caller waits too */
    if (dom->state == BH_POWER_PAUSED)
        libxl_domain_unpause(xen->ctx, dom->domid, NULL);
    bh_xen_set_state(dom, BH_POWER_HALTING, NULL);
    int rc = libxl_domain_shutdown(xen->ctx, dom->domid, NULL);
    if (rc) {
        /* No PV control (a guest without its drivers yet): only force works. */
        g_message("[%s] the guest cannot be asked to shut down (libxl error %d); destroying it", qube, rc);
        bh_xen_force_off(dom);
        return;
    }
    dom->force_timer = g_timeout_add_seconds(timeout_s ? timeout_s : 1, bh_xen_force_off, dom);
}

static gboolean bh_xen_shutdown_finish(BhBackend *backend, GAsyncResult *result, GError **error)
{
    return g_task_propagate_boolean(G_TASK(result), error);
}

static gboolean bh_xen_kill(BhBackend *backend, const char *qube, GError **error)
{
    BhXenBackend *xen = (BhXenBackend *)backend;
    BhXenDomain *dom = bh_xen_find(xen, qube, error);
    if (dom == NULL)
        return FALSE;
    bh_xen_set_state(dom, BH_POWER_DYING, NULL);
    int rc = bh_xen_destroy(dom);
    if (rc) {
        bh_xen_set_libxl_error(xen, error, rc, "cannot destroy domain %u of qube %s", dom->domid, qube);
        return FALSE;
    }
    return TRUE;
}

static gboolean bh_xen_pause_op(BhBackend *backend, const char *qube, gboolean pause, GError **error)
{
    BhXenBackend *xen = (BhXenBackend *)backend;
    BhXenDomain *dom = bh_xen_find(xen, qube, error);
    if (dom == NULL)
        return FALSE;
    BhPowerState from = pause ? BH_POWER_RUNNING : BH_POWER_PAUSED;
    if (dom->state != from) {
        g_set_error(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_WRONG_STATE, "qube %s is %s, not %s", qube,
                    bh_power_state_name(dom->state), bh_power_state_name(from));
        return FALSE;
    }
    int rc = pause ? libxl_domain_pause(xen->ctx, dom->domid, NULL)
                   : libxl_domain_unpause(xen->ctx, dom->domid, NULL);
    if (rc) {
        bh_xen_set_libxl_error(xen, error, rc, "cannot %s domain %u of qube %s", pause ? "pause" : "unpause",
                               dom->domid, qube);
        return FALSE;
    }
    bh_xen_set_state(dom, pause ? BH_POWER_PAUSED : BH_POWER_RUNNING, NULL);
    return TRUE;
}

static gboolean bh_xen_pause(BhBackend *backend, const char *qube, GError **error)
{
    return bh_xen_pause_op(backend, qube, TRUE, error);
}

static gboolean bh_xen_unpause(BhBackend *backend, const char *qube, GError **error)
{
    return bh_xen_pause_op(backend, qube, FALSE, error);
}

/* libxl's own figures for the domain: what the hypervisor charges it. */
static gboolean bh_xen_get_stats(BhBackend *backend, const char *qube, BhBackendStats *out, GError **error)
{
    BhXenBackend *xen = (BhXenBackend *)backend;
    uint32_t domid;
    libxl_dominfo info;

    if (!bh_xen_lookup(xen, qube, &domid, &info)) {
        g_set_error(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_WRONG_STATE, "qube %s is not running", qube);
        return FALSE;
    }
    out->memory_bytes = (guint64)info.current_memkb * 1024;
    out->cpu_usec = info.cpu_time / 1000; /* ns */
    libxl_dominfo_dispose(&info);
    return TRUE;
}

static BhPowerState bh_xen_get_state(BhBackend *backend, const char *qube)
{
    BhXenBackend *xen = (BhXenBackend *)backend;
    BhXenDomain *dom = g_hash_table_lookup(xen->domains, qube);
    if (dom)
        return dom->state;
    uint32_t domid;
    libxl_dominfo info;
    if (!bh_xen_lookup(xen, qube, &domid, &info))
        return BH_POWER_HALTED;
    BhPowerState state = BH_POWER_RUNNING;
    if (info.shutdown)
        state = info.shutdown_reason == LIBXL_SHUTDOWN_REASON_CRASH ? BH_POWER_CRASHED : BH_POWER_HALTING;
    else if (info.paused)
        state = BH_POWER_PAUSED;
    libxl_dominfo_dispose(&info);
    /* From now on its death is seen (a domain started before this daemon). */
    if (state == BH_POWER_RUNNING || state == BH_POWER_PAUSED) {
        g_autoptr(GError) error = NULL;
        dom = bh_xen_find(xen, qube, &error);
        if (dom == NULL)
            g_message("[%s] %s", qube, error->message);
    }
    return state;
}

/* ---- network ----------------------------------------------------------------- */

/* Its rules in its netvm's firewall, in force once the netvm's
 * bulkhead-xen-net has applied the text (it does at every change). Connections
 * that the new rules forbid are not cut yet on Xen (docs/xen.md). */
static void bh_xen_set_firewall(BhBackend *backend, const char *qube, const char *rules,
                                GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
    BhXenBackend *xen = (BhXenBackend *)backend;
    g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, user_data);
    g_autoptr(GError) error = NULL;
    uint32_t domid, netvm_domid;

    BhXenDomain *dom = g_hash_table_lookup(xen->domains, qube);
    if (dom == NULL && bh_xen_lookup(xen, qube, &domid, NULL))
        dom = bh_xen_find(xen, qube, NULL);
    /* Halted, or no netvm, or its netvm stopped: its next start writes them. */
    if (dom == NULL || dom->netvm == NULL || !bh_xen_lookup(xen, dom->netvm, &netvm_domid, NULL)) {
        g_task_return_boolean(task, TRUE);
        return;
    }
    if (!bh_xen_net_set_client(xen->xs, netvm_domid, dom->qid, rules, TRUE, &error)) {
        g_prefix_error(&error, "cannot apply the firewall of %s: ", qube);
        g_task_return_error(task, g_steal_pointer(&error));
        return;
    }
    g_task_return_boolean(task, TRUE);
}

static gboolean bh_xen_set_firewall_finish(BhBackend *backend, GAsyncResult *result, GError **error)
{
    return g_task_propagate_boolean(G_TASK(result), error);
}

/* ---- life ------------------------------------------------------------------ */

static void bh_xen_free(BhBackend *backend)
{
    BhXenBackend *xen = (BhXenBackend *)backend;
    GHashTableIter iter;
    gpointer value;

    /* The daemon is going away: it hears of nothing from here on. */
    bh_backend_set_state_func(backend, NULL, NULL);
    g_hash_table_iter_init(&iter, xen->domains);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        BhXenDomain *dom = value;
        if (dom->start) {
            g_task_return_new_error(dom->start, BH_BACKEND_ERROR, BH_BACKEND_ERROR_FAILED,
                                    "bulkheadd is stopping");
            g_clear_object(&dom->start);
        }
        for (GList *l = dom->shutdowns; l; l = l->next) {
            g_task_return_boolean(l->data, TRUE);
            g_object_unref(l->data);
        }
        g_clear_pointer(&dom->shutdowns, g_list_free);
        /* Asynchronously, with the loop below: a synchronous libxl call
         * runs libxl's own poll, where no GLib child watch reaps the disk
         * hotplug scripts it forks (xen-loop.c), so each one ran into
         * libxl's 40 s and was killed (seen in tests/xen's network part). */
        if (dom->domid != BH_XEN_NO_DOMID && !dom->dead && dom->destroying == 0) {
            g_info("[%s] destroying domain %u", dom->name, dom->domid);
            int rc = bh_xen_destroy(dom);
            if (rc)
                g_message("[%s] cannot destroy domain %u (libxl error %d)", dom->name, dom->domid, rc);
        }
    }
    /* libxl must not be freed under its own running operations (a create, or
     * the device teardown after a destroy, which runs hotplug scripts). */
    gint64 end = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
    while (xen->pending > 0 && g_get_monotonic_time() < end)
        g_main_context_iteration(NULL, TRUE);
    if (xen->pending > 0)
        g_message("%u libxl operations still running at exit", xen->pending);
    g_hash_table_destroy(xen->domains);
    xs_close(xen->xs);
    libxl_ctx_free(xen->ctx);
    bh_xen_loop_free(xen->loop);
    xtl_logger_destroy(&xen->logger->vtable);
    g_free(xen->kernels_dir);
    bh_backend_clear(backend);
    g_free(xen);
}

/* How long a started domain's agent may take to answer: its kernel boots
 * first (Qubes gives qrexec 60 s; a guest emulated without hardware
 * virtualisation, as in tests/xen, needs more on a busy machine). A
 * template's systemd under that emulation takes minutes: dom0's
 * environment may say BH_XEN_AGENT_TIMEOUT_S (1..3600; tests/xen's
 * template part). */
#define BH_XEN_AGENT_TIMEOUT_MS 120000

static guint bh_xen_agent_timeout_ms(void)
{
    const char *env = g_getenv("BH_XEN_AGENT_TIMEOUT_S");
    guint64 v = 0;
    if (!env)
        return BH_XEN_AGENT_TIMEOUT_MS;
    if (!g_ascii_string_to_unsigned(env, 10, 1, 3600, &v, NULL)) {
        g_warning("BH_XEN_AGENT_TIMEOUT_S='%s' is not a number of seconds from 1 to 3600: using %d s", env,
                  BH_XEN_AGENT_TIMEOUT_MS / 1000);
        return BH_XEN_AGENT_TIMEOUT_MS;
    }
    return (guint)v * 1000;
}

/* The agent of a domU serves the RPC port over libxenvchan, found by its
 * domain id; connecting is the daemon's (core/daemon/bh-agent-set.c). */
static gboolean bh_xen_agent_address(BhBackend *backend, const char *qube, BhBackendAgentAddress *out,
                                     GError **error)
{
    BhXenBackend *xen = (BhXenBackend *)backend;
    uint32_t domid;
    if (!bh_xen_lookup(xen, qube, &domid, NULL)) {
        g_set_error(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_WRONG_STATE,
                    "cannot run a command in %s: it has no running domain", qube);
        return FALSE;
    }
    out->transport = BH_VCHAN_XEN;
    out->domid = (int)domid;
    out->ready_timeout_ms = bh_xen_agent_timeout_ms();
    return TRUE;
}

static const BhBackendOps bh_xen_ops = {
    .create_volumes = bh_xen_create_volumes,
    .clone_volumes = bh_xen_clone_volumes,
    .remove_volumes = bh_xen_remove_volumes,
    .start = bh_xen_start,
    .start_finish = bh_xen_start_finish,
    .shutdown = bh_xen_shutdown,
    .shutdown_finish = bh_xen_shutdown_finish,
    .kill = bh_xen_kill,
    .pause = bh_xen_pause,
    .unpause = bh_xen_unpause,
    .get_state = bh_xen_get_state,
    .get_stats = bh_xen_get_stats,
    .agent_address = bh_xen_agent_address,
    .set_firewall = bh_xen_set_firewall,
    .set_firewall_finish = bh_xen_set_firewall_finish,
    .free = bh_xen_free,
};

BhBackend *bh_xen_backend_new(const BhBackendConfig *config, GError **error)
{
    BhXenLogger *logger = bh_xen_logger_new(config->verbose);
    libxl_ctx *ctx = NULL;

    int rc = libxl_ctx_alloc(&ctx, LIBXL_VERSION, 0, &logger->vtable);
    if (rc) {
        g_set_error(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_UNAVAILABLE,
                    "the xen backend needs dom0 on Xen with its toolstack running (/dev/xen/"
                    "privcmd, xenstored): libxl cannot start here (libxl error %d%s%s)",
                    rc, logger->last_error ? ": " : "", logger->last_error ? logger->last_error : "");
        xtl_logger_destroy(&logger->vtable);
        return NULL;
    }
    BhXenBackend *xen = g_new0(BhXenBackend, 1);
    bh_backend_init(&xen->parent, &bh_xen_ops, "xen", config);
    xen->logger = logger;
    xen->ctx = ctx;
    xen->loop = bh_xen_loop_new();
    bh_xen_loop_attach(xen->loop, ctx);
    libxl_event_register_callbacks(ctx, &bh_xen_event_hooks, xen);
    xen->kernels_dir = g_build_filename(config->state_dir, "vm-kernels", NULL);
    xen->domains = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)bh_xen_domain_free);
    /* A start that libxl abandoned before bulkheadd last stopped may have
     * left a loop device on a qube's image that no later start of that qube
     * detached (bulkhead-xen-block does at its next start). */
    g_autofree char *qubes = g_build_filename(config->state_dir, "qubes", NULL);
    bh_xen_stale_loops_detach(qubes, TRUE, "at start-up");
    /* libxl keeps its own connection; this one writes the netvms' firewalls. */
    xen->xs = xs_open(0);
    if (xen->xs == NULL)
        g_message("cannot open xenstore (%s): qubes with a netvm cannot start", g_strerror(errno));
    return &xen->parent;
}
