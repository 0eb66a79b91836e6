/* sandbox.c — the sandbox backend's constructor, its operations table and
 * the read-only views of sandbox.h; see sandbox.h and docs/sandbox.md.
 *
 * Owns the running qubes of one daemon as a whole (those it started and those
 * it adopted from an earlier daemon that crashed): the table of them, what
 * the backend found at its start (bubblewrap, the guest programs, the seccomp
 * filter, the staging directory) and their end when the daemon stops. The
 * operations themselves are the parts' (sandbox-qube.h lists them): volumes
 * (sandbox-volumes.c), the start-exit state machine (sandbox-start.c), power
 * (sandbox-power.c), commands (sandbox-run.c) and the take-over after a
 * restart (sandbox-takeover.c). Commands reach a running qube only through
 * its own agent: dom0 never enters a qube itself.
 *
 * It must never decide policy or touch the store: the daemon says what to
 * start; the backend only makes it so.
 */
#define G_LOG_DOMAIN "bh-sandbox"

#include "sandbox.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bulkhead/qubes.h"
#include "sandbox-layout.h"
#include "sandbox-qube.h"
#include "sandbox-seccomp.h"

/* ---- the backend -------------------------------------------------------------------------- */

static void bh_sandbox_free(BhBackend *backend)
{
    BhSandbox *sb = (BhSandbox *)backend;
    /* The daemon is going away: no more reports to it. */
    backend->state_changed = NULL;
    GHashTableIter iter;
    gpointer value;
    g_hash_table_iter_init(&iter, sb->qubes);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        BhSandboxQube *q = value;
        bh_sandbox_force_stop(q);
        if (q->proc)
            g_subprocess_wait(q->proc, NULL, NULL);
        if (q->bwrap_pidfd >= 0) {
            /* Not our child: its pidfd turns readable when it is gone. */
            struct pollfd pfd = {.fd = q->bwrap_pidfd, .events = POLLIN};
            if (poll(&pfd, 1, 5000) == 0) {
                bh_pidfd_signal(q->bwrap_pidfd, SIGKILL);
                poll(&pfd, 1, 5000);
            }
        }
        q->sb = NULL;
        bh_sandbox_cleanup(q);
        GTask *task = g_steal_pointer(&q->start_task);
        if (task) {
            g_task_return_new_error(task, BH_BACKEND_ERROR, BH_BACKEND_ERROR_FAILED, "bulkheadd is stopping");
            g_object_unref(task);
        }
        bh_sandbox_finish_exit(q, BH_POWER_HALTED, NULL);
    }
    /* Network jobs still queued finish first (their completions find the
     * qubes gone). */
    if (sb->net_pool)
        g_thread_pool_free(sb->net_pool, FALSE, TRUE);
    g_hash_table_unref(sb->qubes);
    g_hash_table_unref(sb->copying);
    g_hash_table_unref(sb->copies);
    bh_sandbox_cgroups_free(sb->cgroups);
    g_clear_pointer(&sb->programs, g_ptr_array_unref);
    /* Every qube is gone: nothing binds the programs' copies any more. */
    if (sb->bin_dir)
        bh_sandbox_guest_bin_remove(sb->stage_base);
    g_free(sb->bin_dir);
    g_free(sb->services_dir);
    g_free(sb->share_dir);
    g_free(sb->bwrap);
    g_clear_pointer(&sb->seccomp, g_bytes_unref);
    g_autofree char *marker = g_build_filename(sb->stage_base, BH_SANDBOX_STATE_MARKER, NULL);
    unlink(marker);
    if (sb->guest_resolv_conf)
        unlink(sb->guest_resolv_conf);
    g_free(sb->guest_resolv_conf);
    rmdir(sb->stage_base);
    g_free(sb->stage_base);
    g_free(sb->stage_top);
    g_free(sb->record_dir);
    g_free(sb->tag);
    g_free(sb->resolv_conf);
    bh_backend_clear(backend);
    g_free(sb);
}

/* The RPC agent: BH_AGENT_PATH, this build's, or the installed one
 * (bh_sandbox_agent_path). */
static void bh_sandbox_use_agent(BhSandbox *sb)
{
    const char *agent = bh_sandbox_agent_path();
    for (guint i = 0; i < sb->programs->len; i++) {
        g_autofree char *base = g_path_get_basename(sb->programs->pdata[i]);
        if (g_str_equal(base, "bulkhead-agent"))
            g_ptr_array_remove_index(sb->programs, i--);
    }
    if (agent && g_file_test(agent, G_FILE_TEST_IS_EXECUTABLE)) {
        g_autofree char *base = g_path_get_basename(agent);
        if (g_str_equal(base, "bulkhead-agent")) {
            g_ptr_array_add(sb->programs, g_strdup(agent));
            sb->has_agent = TRUE;
        }
    }
    if (!sb->has_agent)
        g_message("no bulkhead-agent (looked for %s): qubes are ready when their init is, and no command "
                  "can be run in them",
                  agent ? agent : "(none)");
}

/* bubblewrap runs as the qube's host uid and resolves every bind source by
 * path, so the staging mounts must sit below directories that uid may
 * traverse. As root: /run/bulkhead-sandbox/<pid> (mode 0711, not listable);
 * the mounts themselves exist only in each qube's private mount namespace,
 * so the host sees empty directories there. Otherwise the daemon's own
 * runtime directory, which is the qubes' uid as well. */
static char *bh_sandbox_stage_base(const char *runtime_dir, gboolean privileged, GError **error)
{
    g_autofree char *top =
        privileged ? g_strdup("/run/bulkhead-sandbox") : g_build_filename(runtime_dir, "sandbox", NULL);
    g_autofree char *pid = g_strdup_printf("%d", (int)getpid());
    g_autofree char *base = g_build_filename(top, pid, NULL);
    /* Staging points of daemons that died are swept once their qubes are
     * adopted or cleaned up (bh_sandbox_sweep_stages). */
    mode_t mode = privileged ? 0711 : 0700;
    if ((mkdir(top, mode) < 0 && errno != EEXIST) || chmod(top, mode) < 0 ||
        (mkdir(base, mode) < 0 && errno != EEXIST) || chmod(base, mode) < 0) {
        g_set_error(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_UNAVAILABLE, "cannot create %s: %s", base,
                    g_strerror(errno));
        return NULL;
    }
    return g_steal_pointer(&base);
}

static const BhBackendOps bh_sandbox_ops = {
    .create_volumes = bh_sandbox_create_volumes,
    .clone_volumes = bh_sandbox_clone_volumes,
    .clone_volumes_async = bh_sandbox_clone_volumes_async,
    .clone_volumes_finish = bh_sandbox_clone_volumes_finish,
    .remove_volumes = bh_sandbox_remove_volumes,
    .volume_usage = bh_sandbox_volume_usage,
    .volume_usage_finish = bh_sandbox_volume_usage_finish,
    .start = bh_sandbox_start,
    .start_finish = bh_sandbox_start_finish,
    .shutdown = bh_sandbox_shutdown,
    .shutdown_finish = bh_sandbox_shutdown_finish,
    .kill = bh_sandbox_kill,
    .pause = bh_sandbox_pause,
    .unpause = bh_sandbox_unpause,
    .get_state = bh_sandbox_get_state,
    .get_stats = bh_sandbox_get_stats,
    .agent_address = bh_sandbox_agent_address,
    .set_netvm = bh_sandbox_set_netvm,
    .set_firewall = bh_sandbox_set_firewall,
    .set_firewall_finish = bh_sandbox_set_firewall_finish,
    .adopt = bh_sandbox_adopt,
    .free = bh_sandbox_free,
};

BhBackend *bh_sandbox_backend_new(const BhBackendConfig *config, GError **error)
{
    g_autofree char *bwrap = g_find_program_in_path("bwrap");
    if (bwrap == NULL) {
        g_set_error(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_UNAVAILABLE,
                    "the sandbox backend needs bubblewrap: apt-get install bubblewrap");
        return NULL;
    }
    if (config->state_dir == NULL || config->runtime_dir == NULL || strpbrk(config->state_dir, ":,") ||
        strpbrk(config->runtime_dir, ":,")) {
        g_set_error(error, BH_BACKEND_ERROR, BH_BACKEND_ERROR_UNAVAILABLE,
                    "the sandbox backend needs a state and a runtime directory without ':' or ',' (overlay "
                    "mounts cannot name such paths)");
        return NULL;
    }
    g_autoptr(GPtrArray) programs = bh_sandbox_find_guest_programs(error);
    if (programs == NULL)
        return NULL;
    g_autoptr(GBytes) seccomp = bh_sandbox_seccomp_program(error);
    if (seccomp == NULL)
        return NULL;

    gboolean privileged = geteuid() == 0;
    g_autofree char *stage_base = bh_sandbox_stage_base(config->runtime_dir, privileged, error);
    if (stage_base == NULL)
        return NULL;

    BhSandbox *sb = g_new0(BhSandbox, 1);
    bh_backend_init(&sb->parent, &bh_sandbox_ops, "sandbox", config);
    sb->stage_base = g_steal_pointer(&stage_base);
    sb->stage_top = g_path_get_dirname(sb->stage_base);
    /* Whose qubes these are, for the daemons that start after us (root's
     * alone: the directory is traversable, not listable, by the qubes). */
    g_autofree char *marker = g_build_filename(sb->stage_base, BH_SANDBOX_STATE_MARKER, NULL);
    if (!g_file_set_contents_full(marker, sb->parent.state_dir, -1, G_FILE_SET_CONTENTS_NONE, 0600, NULL))
        g_message("cannot write %s: a crash of ours may leave qubes a later daemon cannot judge", marker);
    sb->tag = g_strdup_printf("%d", (int)getpid());
    g_autoptr(GError) record_error = NULL;
    sb->record_dir = bh_sandbox_record_dir(sb->parent.state_dir, &record_error);
    if (sb->record_dir == NULL)
        g_message("running qubes cannot be adopted after a crash of bulkheadd: %s", record_error->message);
    sb->privileged = privileged;
    /* BH_SANDBOX_PRIVATE=directory keeps homes as directories, as without
     * root (tests of the directory code use it). */
    sb->private_images = privileged && g_strcmp0(g_getenv("BH_SANDBOX_PRIVATE"), "directory") != 0;
    /* A StandaloneVM's root as a volume too (docs/sandbox.md, "Storage");
     * "directory" keeps new ones on dom0's disk (tests' control). */
    sb->root_images = sb->private_images && g_strcmp0(g_getenv("BH_SANDBOX_ROOT"), "directory") != 0;
    /* A TemplateVM's too, with its AppVMs on the same loop device: not
     * the default until the template tests run on it. */
    sb->template_root_images =
        sb->root_images && g_strcmp0(g_getenv("BH_SANDBOX_TEMPLATE_ROOT"), "volume") == 0;
    sb->verbose = config->verbose;
    sb->resolv_conf = g_strdup(config->resolv_conf);
    /* What qubes ask for names: the virtual servers their netvm redirects
     * (docs/sandbox.md, "Network"); only with root, which networking needs. */
    if (privileged) {
        g_autofree char *conf = g_build_filename(sb->stage_base, BH_SANDBOX_GUEST_RESOLV, NULL);
        if (g_file_set_contents_full(conf, "nameserver " BH_NET_DNS1 "\nnameserver " BH_NET_DNS2 "\n", -1,
                                     G_FILE_SET_CONTENTS_NONE, 0644, NULL))
            sb->guest_resolv_conf = g_steal_pointer(&conf);
        else
            g_message("cannot write %s: qubes keep their root's resolv.conf", conf);
    }
    sb->bwrap = g_steal_pointer(&bwrap);
    sb->programs = g_steal_pointer(&programs);
    sb->services_dir = bh_sandbox_find_services_dir();
    sb->share_dir = bh_sandbox_find_share_dir();
    sb->seccomp = g_steal_pointer(&seccomp);
    bh_sandbox_use_agent(sb);
    sb->qubes = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)bh_qube_unref);
    sb->copying = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    sb->copies = g_hash_table_new(g_str_hash, g_str_equal);
    sb->cgroups = bh_sandbox_cgroups_new(NULL);
    sb->bin_dir = bh_sandbox_guest_bin_make(sb->stage_base, sb->programs, error);
    if (sb->bin_dir == NULL) {
        bh_sandbox_guest_bin_remove(sb->stage_base);
        bh_sandbox_free(&sb->parent);
        return NULL;
    }

    g_autofree char *what = bh_sandbox_describe(&sb->parent);
    g_info("sandbox backend: %s", what);
    for (guint i = 0; i < sb->programs->len; i++)
        g_debug("guest program: %s", (char *)sb->programs->pdata[i]);
    g_debug("call services: %s", sb->services_dir ? sb->services_dir : "none (no call can be served)");
    return &sb->parent;
}

pid_t bh_sandbox_init_pid(BhBackend *backend, const char *qube)
{
    BhSandboxQube *q = bh_sandbox_lookup((BhSandbox *)backend, qube);
    return q ? q->init_pid : 0;
}

pid_t bh_sandbox_uplink_pid(BhBackend *backend, const char *qube)
{
    BhSandboxQube *q = bh_sandbox_lookup((BhSandbox *)backend, qube);
    const char *id = q && q->uplink_proc ? g_subprocess_get_identifier(q->uplink_proc) : NULL;
    return id ? (pid_t)atoi(id) : 0;
}

guint64 bh_sandbox_memory(BhBackend *backend, const char *qube)
{
    BhSandboxQube *q = bh_sandbox_lookup((BhSandbox *)backend, qube);
    return q && q->cgroup ? bh_sandbox_cgroup_memory(q->cgroup) : 0;
}

const char *bh_sandbox_cgroup_dir(BhBackend *backend, const char *qube, const char *controller)
{
    BhSandboxQube *q = bh_sandbox_lookup((BhSandbox *)backend, qube);
    static const char *const names[BH_CG_N] = {"freezer", "memory", "pids"};
    for (int c = 0; q && q->cgroup && c < BH_CG_N; c++)
        if (g_str_equal(controller, names[c]))
            return bh_sandbox_cgroup_path(q->cgroup, (BhCgroupController)c);
    return NULL;
}

char *bh_sandbox_describe(BhBackend *backend)
{
    BhSandbox *sb = (BhSandbox *)backend;
    g_autofree char *cg = bh_sandbox_cgroups_describe(sb->cgroups);
    return g_strdup_printf("%s; %s",
                           sb->privileged
                               ? "privileged (idmapped layers, one host uid per qube)"
                               : "unprivileged (one user namespace, the daemon's uid for every qube)",
                           cg);
}
