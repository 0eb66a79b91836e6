/* sandbox.c — the sandbox backend; see sandbox.h and docs/sandbox.md.
 *
 * Owns the running qubes of one daemon (those it started and those it
 * adopted from an earlier daemon that crashed: sandbox-adopt.h, "When
 * bulkheadd restarts" in docs/sandbox.md): one bubblewrap process per qube,
 * started with the set-up of sandbox-spawn.c (cgroups joined, layers staged,
 * host uid taken) and followed through three pipes: bubblewrap's --info-fd
 * (the init's pid), --block-fd (held until the network is linked) and the
 * init's ready pipe; its console goes to the log through sandbox-console.c.
 * Commands reach a running qube only through its own agent: dom0 never
 * enters a qube itself. A qube is Running once its init reports ready; its exit
 * is Halted when asked for (or a clean exit), Crashed otherwise, with the
 * signal or status as the reason.
 *
 * Everything runs on the daemon's main context except the network set-up,
 * which runs `ip`/`nft` in a worker thread and reports back through its
 * GTask. It must never decide policy or touch the store: the daemon says what
 * to start; this file only makes it so.
 */
#define G_LOG_DOMAIN "bh-sandbox"

#include "sandbox-internal.h"

#include <errno.h>
#include <gio/gunixinputstream.h>
#include <glib-unix.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bulkhead/rpc-client.h>

#include "sandbox-layout.h"
#include "sandbox-seccomp.h"

/* ---- taking over after a daemon restart ---------------------------------------------- */

/* An adopted bubblewrap is not our child: its end shows on its pidfd, and
 * its status went to whoever reaped it. So the end is Halted, with the
 * reason saying what we could not see. */
static gboolean bh_sandbox_adopted_exited(gint fd, GIOCondition condition, gpointer data)
{
    g_autoptr(BhSandboxQube) q = bh_qube_ref(data);
    q->exit_watch = 0;
    if (q->sb)
        g_hash_table_remove(q->sb->qubes, q->name);
    bh_sandbox_cleanup(q);
    const char *reason = q->stop_requested
                             ? NULL
                             : "its sandbox ended (adopted after a restart of bulkheadd, so its "
                               "exit status is not known)";
    if (reason)
        g_message("[%s] %s", q->name, reason);
    bh_sandbox_finish_exit(q, BH_POWER_HALTED, reason);
    return G_SOURCE_REMOVE;
}

static void bh_sandbox_agent_reconnected(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(BhSandboxQube) q = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(BhRpcClient) client = bh_rpc_client_connect_finish(result, &error);
    if (q->sb == NULL || !q->reconnecting) {
        if (client)
            bh_rpc_client_close(client);
        return;
    }
    q->reconnecting = FALSE;
    if (client == NULL) {
        g_message("[%s] adopted, but its RPC agent did not answer again: %s", q->name, error->message);
    } else {
        g_message("[%s] adopted: its RPC agent answered again", q->name);
        q->rpc = g_steal_pointer(&client);
        g_signal_connect(q->rpc, "disconnected", G_CALLBACK(bh_sandbox_agent_gone), q);
    }
    bh_sandbox_release_held_runs(q);
}

static const BhBackendQube *bh_sandbox_find_qube(const BhBackendQube *qubes, gsize n, const char *name)
{
    for (gsize i = 0; i < n; i++)
        if (g_str_equal(qubes[i].name, name))
            return &qubes[i];
    return NULL;
}

/* A proven sandbox becomes one of ours, as if we had started it. */
static void bh_sandbox_take_over(BhSandbox *sb, BhSandboxRecord *r, BhSandboxProof *proof)
{
    g_autoptr(BhSandboxQube) q = g_new0(BhSandboxQube, 1);
    q->refs = 1;
    q->sb = sb;
    q->name = g_strdup(r->name);
    q->qid = r->qid;
    q->uid = r->uid;
    q->gid = bh_sandbox_host_gid(sb, r->qid);
    q->netvm = g_strdup(r->netvm);
    q->provides_network = r->provides_network;
    q->disposable = r->disposable;
    q->state = BH_POWER_HALTED;
    q->cancellable = g_cancellable_new();
    q->shutdown_tasks = g_ptr_array_new();
    q->adopted = TRUE;
    q->init_pid = r->init_pid;
    q->stage_dir = g_strdup(r->stage_dir);
    q->vchan_dir = g_strdup(r->vchan_dir);
    q->bwrap_pidfd = g_steal_fd(&proof->bwrap_pidfd);
    q->init_pidfd = g_steal_fd(&proof->init_pidfd);
    q->cgroup = g_steal_pointer(&proof->cgroup);
    q->record = r;
    q->record_dir = g_strdup(sb->record_dir);

    q->console = bh_console_new(bh_sandbox_console_line, q);
    int console = bh_sandbox_record_take_console(r, q->init_pidfd);
    if (console >= 0) {
        q->output = g_unix_input_stream_new(console, TRUE);
        g_input_stream_read_bytes_async(q->output, 4096, G_PRIORITY_DEFAULT, q->cancellable, bh_sandbox_log_read,
                                        bh_qube_ref(q));
    } else {
        g_message("[%s] cannot take its console back (%s): its messages are not logged", q->name,
                  g_strerror(errno));
    }
    q->exit_watch = g_unix_fd_add(q->bwrap_pidfd, G_IO_IN, bh_sandbox_adopted_exited, q);
    g_hash_table_insert(sb->qubes, q->name, bh_qube_ref(q));
    gboolean paused = q->cgroup && bh_sandbox_cgroup_frozen(q->cgroup);
    g_message("[%s] re-adopted its running sandbox (bubblewrap pid %d, init pid %d, left by bulkheadd %s)%s",
              q->name, (int)r->bwrap_pid, (int)r->init_pid, r->tag, paused ? ", paused" : "");
    bh_sandbox_set_state(q, paused ? BH_POWER_PAUSED : BH_POWER_RUNNING, NULL);
    if (sb->has_agent) {
        q->reconnecting = TRUE;
        bh_rpc_client_connect_async((int)q->qid, q->name, BH_SANDBOX_AGENT_TIMEOUT_MS, q->cancellable,
                                    bh_sandbox_agent_reconnected, bh_qube_ref(q));
    }
}

/* What a daemon that is gone left, judged by the state directory it wrote
 * into its staging directory: ours (kept: the qubes adopted from it) — the
 * rest is an orphan of ours, listed or not; another one that exists — left
 * to its own daemon, which may come back and adopt it; one that is gone (a
 * crashed test's, a removed installation's) or unknown — nobody can adopt
 * its qubes any more, so they are killed. */
static guint bh_sandbox_sweep_unowned(BhSandbox *sb, const char *stale, const char *tag, GHashTable *kept)
{
    g_autofree char *marker = g_build_filename(stale, BH_SANDBOX_STATE_MARKER, NULL);
    g_autofree char *other_state = NULL;
    gboolean known = g_file_get_contents(marker, &other_state, NULL, NULL);
    gboolean ours = known && g_str_equal(other_state, sb->parent.state_dir);
    if (known && !ours && g_file_test(other_state, G_FILE_TEST_IS_DIR))
        return 0;
    g_autoptr(GPtrArray) killed =
        bh_sandbox_cgroups_sweep(sb->cgroups, tag, ours ? g_hash_table_lookup(kept, tag) : NULL, NULL);
    for (guint i = 0; i < killed->len; i++)
        g_message("[%s] a sandbox left by bulkheadd %s of %s could not be adopted: killed and cleaned up",
                  (char *)killed->pdata[i], tag,
                  ours    ? "this state directory"
                  : known ? "a state directory that is gone"
                          : "an unknown state directory");
    return killed->len;
}

/* Staging directories of daemons that are gone: a qube that still runs
 * (adopted here, or of another state directory's daemon, whose group is
 * still there) keeps its own; the rest are empty directories (the mounts
 * died with the qubes' namespaces). */
static guint bh_sandbox_sweep_stages(BhSandbox *sb, GHashTable *kept)
{
    g_autoptr(GDir) dir = g_dir_open(sb->stage_top, 0, NULL);
    const char *name;
    guint cleaned = 0;
    while (dir && (name = g_dir_read_name(dir))) {
        guint64 other;
        if (!g_ascii_string_to_unsigned(name, 10, 1, G_MAXINT, &other, NULL) || (pid_t)other == getpid() ||
            bh_proc_running((pid_t)other))
            continue;
        g_autofree char *stale = g_build_filename(sb->stage_top, name, NULL);
        cleaned += bh_sandbox_sweep_unowned(sb, stale, name, kept);
        g_autoptr(GDir) sub = g_dir_open(stale, 0, NULL);
        const char *qn;
        while (sub && (qn = g_dir_read_name(sub))) {
            g_autofree char *path = g_build_filename(stale, qn, NULL);
            BhSandboxQube *q = bh_sandbox_lookup(sb, qn);
            if ((q && q->stage_dir && g_str_equal(q->stage_dir, path)) ||
                bh_sandbox_cgroups_has_group(sb->cgroups, name, qn))
                continue;
            if (g_str_equal(qn, BH_SANDBOX_STATE_MARKER) && !bh_sandbox_cgroups_has_group(sb->cgroups, name, NULL))
                unlink(path);
            rmdir(path);
        }
        rmdir(stale);
    }
    return cleaned;
}

static void bh_sandbox_adopt(BhBackend *backend, const BhBackendQube *qubes, gsize n_qubes)
{
    BhSandbox *sb = (BhSandbox *)backend;
    if (sb->record_dir == NULL)
        return;
    g_autoptr(GPtrArray) owners = bh_sandbox_owners_load(sb->record_dir);
    g_autoptr(GHashTable) kept =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_hash_table_unref);
    g_autoptr(GPtrArray) names = bh_sandbox_record_list(sb->record_dir);
    guint adopted = 0, cleaned = 0;

    for (guint i = 0; i < names->len; i++) {
        const char *name = names->pdata[i];
        g_autoptr(GError) error = NULL;
        g_autoptr(BhSandboxRecord) r = bh_sandbox_record_load(sb->record_dir, name, &error);
        if (r == NULL) {
            g_message("[%s] not adopted: %s", name, error->message);
            bh_sandbox_record_remove(sb->record_dir, name);
            continue;
        }
        if (bh_sandbox_lookup(sb, name))
            continue;
        BhSandboxExpect expect = {.bwrap = sb->bwrap,
                                  .uid = bh_sandbox_host_uid(sb, r->qid),
                                  .stage_top = sb->stage_top,
                                  .cgroups = sb->cgroups};
        BhSandboxProof proof = {.bwrap_pidfd = -1, .init_pidfd = -1};
        const BhBackendQube *qube = bh_sandbox_find_qube(qubes, n_qubes, name);
        if (!bh_sandbox_record_verify(r, &expect, &proof, &error)) {
            /* Whatever still runs in its groups is an orphan of ours. */
            g_autoptr(GPtrArray) killed = bh_sandbox_cgroups_sweep(sb->cgroups, r->tag, NULL, name);
            g_message("[%s] not adopted: %s; %s", name, error->message,
                      killed->len ? "killed what was left in its control group" : "nothing of it is left");
            bh_sandbox_record_remove(sb->record_dir, name);
            cleaned += killed->len;
            continue;
        }
        if (qube == NULL || qube->qid != r->qid) {
            g_message("[%s] its sandbox still runs, but bulkheadd %s; killing it", name,
                      qube ? "gives that name to another qid now" : "no longer knows that qube");
            bh_pidfd_signal(proof.init_pidfd, SIGKILL);
            bh_pidfd_signal(proof.bwrap_pidfd, SIGKILL);
            /* Waits for the group to empty, then removes it. */
            bh_sandbox_proof_clear(&proof);
            bh_sandbox_record_remove(sb->record_dir, name);
            cleaned++;
            continue;
        }
        GHashTable *names_of_tag = g_hash_table_lookup(kept, r->tag);
        if (names_of_tag == NULL) {
            names_of_tag = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
            g_hash_table_insert(kept, g_strdup(r->tag), names_of_tag);
        }
        g_hash_table_add(names_of_tag, g_strdup(name));
        bh_sandbox_take_over(sb, g_steal_pointer(&r), &proof);
        adopted++;
    }

    /* Earlier daemons of this state directory that are gone: whatever of
     * theirs was not adopted is killed, with or without a record. */
    g_autoptr(GPtrArray) still = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < owners->len; i++) {
        const char *line = owners->pdata[i];
        g_auto(GStrv) f = g_strsplit(line, " ", 2);
        if (bh_sandbox_owner_alive(line) || g_str_equal(f[0], sb->tag))
            continue;
        GHashTable *keep = g_hash_table_lookup(kept, f[0]);
        g_autoptr(GPtrArray) killed = bh_sandbox_cgroups_sweep(sb->cgroups, f[0], keep, NULL);
        for (guint j = 0; j < killed->len; j++)
            g_message("[%s] a sandbox left by bulkheadd %s could not be adopted: killed and cleaned up",
                      (char *)killed->pdata[j], f[0]);
        cleaned += killed->len;
        if (keep)
            g_ptr_array_add(still, g_strdup(line));
    }
    /* Tags of adopted qubes that the list lacked (a lost list) stay known. */
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, kept);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        gboolean listed = FALSE;
        for (guint i = 0; i < still->len; i++)
            listed |= g_str_has_prefix(still->pdata[i], key) && ((char *)still->pdata[i])[strlen(key)] == ' ';
        if (!listed)
            g_ptr_array_add(still, g_strdup_printf("%s 0", (char *)key));
    }
    g_ptr_array_add(still, bh_sandbox_owner_self());
    g_autoptr(GError) error = NULL;
    if (!bh_sandbox_owners_save(sb->record_dir, still, &error))
        g_message("cannot write the list of daemons whose qubes may still run: %s", error->message);
    cleaned += bh_sandbox_sweep_stages(sb, kept);
    if (adopted || cleaned)
        g_message("after a restart: %u qube%s re-adopted, %u orphaned sandbox%s cleaned up", adopted,
                  adopted == 1 ? "" : "s", cleaned, cleaned == 1 ? "" : "es");
}

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
    g_hash_table_unref(sb->qubes);
    bh_sandbox_cgroups_free(sb->cgroups);
    g_clear_pointer(&sb->programs, g_ptr_array_unref);
    g_free(sb->bwrap);
    g_clear_pointer(&sb->seccomp, g_bytes_unref);
    g_autofree char *marker = g_build_filename(sb->stage_base, BH_SANDBOX_STATE_MARKER, NULL);
    unlink(marker);
    rmdir(sb->stage_base);
    g_free(sb->stage_base);
    g_free(sb->stage_top);
    g_free(sb->record_dir);
    g_free(sb->tag);
    bh_backend_clear(backend);
    g_free(sb);
}

/* The RPC agent is the one the RPC client names (BH_AGENT_PATH, this build's,
 * or the installed one), so both ends always come from the same place. */
static void bh_sandbox_use_agent(BhSandbox *sb)
{
    const char *agent = bh_rpc_agent_path();
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
    .remove_volumes = bh_sandbox_remove_volumes,
    .start = bh_sandbox_start,
    .start_finish = bh_sandbox_start_finish,
    .shutdown = bh_sandbox_shutdown,
    .shutdown_finish = bh_sandbox_shutdown_finish,
    .kill = bh_sandbox_kill,
    .pause = bh_sandbox_pause,
    .unpause = bh_sandbox_unpause,
    .get_state = bh_sandbox_get_state,
    .run = bh_sandbox_run,
    .run_finish = bh_sandbox_run_finish,
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
    sb->verbose = config->verbose;
    sb->bwrap = g_steal_pointer(&bwrap);
    sb->programs = g_steal_pointer(&programs);
    sb->seccomp = g_steal_pointer(&seccomp);
    bh_sandbox_use_agent(sb);
    sb->qubes = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)bh_qube_unref);
    sb->cgroups = bh_sandbox_cgroups_new(NULL);

    g_autofree char *what = bh_sandbox_describe(&sb->parent);
    g_info("sandbox backend: %s", what);
    for (guint i = 0; i < sb->programs->len; i++)
        g_debug("guest program: %s", (char *)sb->programs->pdata[i]);
    return &sb->parent;
}

pid_t bh_sandbox_init_pid(BhBackend *backend, const char *qube)
{
    BhSandboxQube *q = bh_sandbox_lookup((BhSandbox *)backend, qube);
    return q ? q->init_pid : 0;
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
