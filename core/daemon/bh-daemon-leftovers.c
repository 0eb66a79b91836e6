/* bh-daemon-leftovers.c — what dead qubes left, for the user to see and
 * remove; see bh-daemon-private.h.
 *
 * Owns ListLeftovers and RemoveLeftover of org.bulkhead.Admin1 and the line
 * bulkheadd logs at its start while leftovers are kept. A backend sets a
 * dead qube's volumes aside when a new qube takes its name
 * (volume-leftovers.h); nothing else ever deletes them. Must never: delete
 * one unasked, delete anything but a set-aside directory, or block the main
 * loop on a removal (a leftover holds all a qube stored).
 */
#define G_LOG_DOMAIN "bh-daemon"

#include "bh-daemon-error.h"
#include "bh-daemon-private.h"
#include "bh-dbus-error.h"
#include "volume-leftovers.h"

/* Both backends keep volumes in <state_dir>/qubes/, leftovers beside them. */
static char *bh_daemon_qubes_dir(BhDaemon *self)
{
    return g_build_filename(self->state_dir, "qubes", NULL);
}

void bh_daemon_leftovers_report(BhDaemon *self)
{
    g_autofree char *qubes = bh_daemon_qubes_dir(self);
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) list = bh_volume_leftovers(qubes, &error);
    if (list == NULL) {
        g_message("cannot look for leftovers of dead qubes: %s", error->message);
        return;
    }
    if (list->len == 0)
        return;
    g_autoptr(GString) names = g_string_new(NULL);
    for (guint i = 0; i < list->len; i++) {
        const BhLeftover *l = list->pdata[i];
        g_string_append_printf(names, "%s%s (%s, %s)", i ? ", " : "", l->name, l->qube, l->when);
    }
    g_message("%u leftover%s of dead qubes kept in %s: %s; see them with 'bulkhead leftovers', "
              "delete one with 'bulkhead leftovers --remove NAME'",
              list->len, list->len == 1 ? "" : "s", qubes, names->str);
}

static gboolean bh_daemon_handle_list_leftovers(BhDbusAdmin1 *skeleton, GDBusMethodInvocation *invocation,
                                                BhDaemon *self)
{
    g_autofree char *qubes = bh_daemon_qubes_dir(self);
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) list = bh_volume_leftovers(qubes, &error);
    if (list == NULL)
        return bh_daemon_return_error(invocation, error);
    GVariantBuilder builder;
    g_variant_builder_init(&builder, G_VARIANT_TYPE("a(sss)"));
    for (guint i = 0; i < list->len; i++) {
        const BhLeftover *l = list->pdata[i];
        g_variant_builder_add(&builder, "(sss)", l->name, l->qube, l->when);
    }
    bh_dbus_admin1_complete_list_leftovers(skeleton, invocation, g_variant_builder_end(&builder));
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

typedef struct {
    char *qubes, *name;
} BhLeftoverJob;

static void bh_leftover_job_free(BhLeftoverJob *job)
{
    g_free(job->qubes);
    g_free(job->name);
    g_free(job);
}

static void bh_leftover_remove_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    BhLeftoverJob *job = data;
    GError *error = NULL;
    if (bh_volume_leftover_remove(job->qubes, job->name, &error))
        g_task_return_boolean(task, TRUE);
    else
        g_task_return_error(task, error);
}

static void bh_leftover_removed(GObject *unused, GAsyncResult *result, gpointer data)
{
    GDBusMethodInvocation *invocation = data;
    BhLeftoverJob *job = g_task_get_task_data(G_TASK(result));
    g_autoptr(GError) error = NULL;
    if (!g_task_propagate_boolean(G_TASK(result), &error)) {
        g_prefix_error(&error, "cannot delete the leftover %s: ", job->name);
        bh_daemon_return_error(invocation, error);
        return;
    }
    g_message("leftover %s deleted, as the user asked", job->name);
    g_dbus_method_invocation_return_value(invocation, NULL);
}

static gboolean bh_daemon_handle_remove_leftover(BhDbusAdmin1 *skeleton, GDBusMethodInvocation *invocation,
                                                 const char *untrusted_name, BhDaemon *self)
{
    /* The caller is dom0's user, but a name is still only a leftover's own. */
    g_autoptr(BhLeftover) leftover = bh_leftover_parse(untrusted_name);
    if (leftover == NULL) {
        g_dbus_method_invocation_return_error(
            invocation, BH_DBUS_ERROR, BH_DBUS_ERROR_INVALID_VALUE,
            "%s is not a leftover's name: 'bulkhead leftovers' lists them (.orphan-QUBE-TIME)",
            g_utf8_validate(untrusted_name, -1, NULL) ? untrusted_name : "(not UTF-8)");
        return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
    BhLeftoverJob *job = g_new0(BhLeftoverJob, 1);
    job->qubes = bh_daemon_qubes_dir(self);
    job->name = g_strdup(leftover->name);
    g_autoptr(GTask) task = g_task_new(NULL, NULL, bh_leftover_removed, invocation);
    g_task_set_task_data(task, job, (GDestroyNotify)bh_leftover_job_free);
    g_task_run_in_thread(task, bh_leftover_remove_thread);
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

const BhDaemonHandler *bh_daemon_leftovers_handlers(gsize *n)
{
    static const BhDaemonHandler handlers[] = {
        {"handle-list-leftovers", G_CALLBACK(bh_daemon_handle_list_leftovers)},
        {"handle-remove-leftover", G_CALLBACK(bh_daemon_handle_remove_leftover)},
    };
    *n = G_N_ELEMENTS(handlers);
    return handlers;
}
