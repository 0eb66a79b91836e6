/* sandbox-takeover.c — taking over running qubes after a daemon restart,
 * and the sweep of what dead daemons left; see sandbox-qube.h.
 *
 * Owns the backend's adopt operation: each record of sandbox-adopt.c that the
 * kernel proves (sandbox-adopt.h) becomes one of ours, as if we had started
 * it; a qube that cannot be proven, and the cgroups and staging directories of
 * daemons that are gone, are killed or swept. It must never adopt or sweep
 * what a live daemon owns.
 */
#define G_LOG_DOMAIN "bh-sandbox"

#include "sandbox-qube.h"

#include <errno.h>
#include <gio/gunixinputstream.h>
#include <glib-unix.h>
#include <signal.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include "sandbox-layout.h"

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

static const BhBackendQube *bh_sandbox_find_qube(const BhBackendQube *qubes, gsize n, const char *name)
{
    for (gsize i = 0; i < n; i++)
        if (g_str_equal(qubes[i].name, name))
            return &qubes[i];
    return NULL;
}

/* A proven sandbox becomes one of ours, as if we had started it. */
/* Whether process dir (/proc/PID) holds a descriptor of network namespace
 * "net:[ino]". */
static gboolean bh_sandbox_holds_netns(const char *dir, const char *netns)
{
    g_autofree char *fds = g_strdup_printf("%s/fd", dir);
    g_autoptr(GDir) d = g_dir_open(fds, 0, NULL);
    const char *fd;
    while (d && (fd = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(fds, fd, NULL);
        g_autofree char *target = g_file_read_link(path, NULL);
        if (g_strcmp0(target, netns) == 0)
            return TRUE;
    }
    return FALSE;
}

/* The uplink an earlier daemon started for netvm (uid, init_pid): a process
 * named slirp4netns (or pasta/passt*, which a bulkheadd before 2026-12 used)
 * running as the qube's own host uid in dom0's network
 * namespace (the qube's processes are all in its own) and holding the
 * qube's network namespace (another daemon's qube of the same qid has
 * another). -1 when there is none. */
static int bh_sandbox_find_uplink(uid_t uid, pid_t init_pid)
{
    struct stat own;
    int found = -1;
    g_autofree char *init_ns = g_strdup_printf("/proc/%d/ns/net", (int)init_pid);
    g_autofree char *netns = g_file_read_link(init_ns, NULL);
    if (netns == NULL || stat("/proc/self/ns/net", &own) < 0)
        return -1;
    g_autoptr(GDir) dir = g_dir_open("/proc", 0, NULL);
    const char *entry;
    while (dir && found < 0 && (entry = g_dir_read_name(dir))) {
        guint64 pid;
        struct stat st, ns;
        if (!g_ascii_string_to_unsigned(entry, 10, 1, G_MAXINT, &pid, NULL))
            continue;
        g_autofree char *base = g_strdup_printf("/proc/%s", entry);
        g_autofree char *comm_path = g_strdup_printf("%s/comm", base);
        g_autofree char *ns_path = g_strdup_printf("%s/ns/net", base);
        g_autofree char *comm = NULL;
        if (stat(base, &st) < 0 || st.st_uid != uid || stat(ns_path, &ns) < 0 || ns.st_ino != own.st_ino ||
            ns.st_dev != own.st_dev || !g_file_get_contents(comm_path, &comm, NULL, NULL))
            continue;
        g_strstrip(comm);
        if ((g_str_equal(comm, "slirp4netns") || g_str_equal(comm, "pasta") ||
             g_str_has_prefix(comm, "passt")) &&
            bh_sandbox_holds_netns(base, netns))
            found = bh_pidfd_open((pid_t)pid);
    }
    return found;
}

/* A netvm that is not adopted: its uplink goes with it (while its init
 * still runs, it is found by the namespace it holds). */
static void bh_sandbox_stop_uplink(BhSandbox *sb, const BhSandboxRecord *r)
{
    if (!sb->privileged || !r->provides_network || r->netvm != NULL)
        return;
    int pidfd = bh_sandbox_find_uplink(r->uid, r->init_pid);
    if (pidfd >= 0) {
        g_message("[%s] stopping the uplink an earlier bulkheadd left", r->name);
        bh_pidfd_signal(pidfd, SIGKILL);
        close(pidfd);
    }
}

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
    q->ipv6 = r->ipv6;
    /* Its namespace and links are as the earlier daemon left them: a netvm
     * is set up, a client linked to its netvm (if that one is adopted too;
     * relinks and firewalls then work on them as on our own). Its uplink's
     * slirp4netns is not our child: it is found and stopped with it (pidfd). */
    q->net_ready = sb->privileged && r->provides_network;
    q->linked_to = sb->privileged ? g_strdup(r->netvm) : NULL;
    q->home_fd = q->etc_fd = -1; /* private_dev and root_volume not known: not looked at */
    q->uplink_pidfd = sb->privileged && r->provides_network && r->netvm == NULL
                          ? bh_sandbox_find_uplink(r->uid, r->init_pid)
                          : -1;
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
        g_input_stream_read_bytes_async(q->output, 4096, G_PRIORITY_DEFAULT, q->cancellable,
                                        bh_sandbox_log_read, bh_qube_ref(q));
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
}

/* Kills and cleans up what the dead daemon `tag` left running, but for the
 * qubes in keep (may be NULL), with a line for each; how many there were.
 * whose: "" or " of <which state directory>", for the line. */
static guint bh_sandbox_sweep_tag(BhSandbox *sb, const char *tag, GHashTable *keep, const char *whose)
{
    g_autoptr(GPtrArray) killed = bh_sandbox_cgroups_sweep(sb->cgroups, tag, keep, NULL);
    for (guint i = 0; i < killed->len; i++)
        g_message("[%s] a sandbox left by bulkheadd %s%s could not be adopted: killed and cleaned up",
                  (char *)killed->pdata[i], tag, whose);
    return killed->len;
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
    return bh_sandbox_sweep_tag(sb, tag, ours ? g_hash_table_lookup(kept, tag) : NULL,
                                ours    ? " of this state directory"
                                : known ? " of a state directory that is gone"
                                        : " of an unknown state directory");
}

/* Staging directories of daemons that are gone: a qube that still runs
 * (adopted here, or of another state directory's daemon, whose group is
 * still there) keeps its own; the rest are empty directories (the mounts
 * died with the qubes' namespaces). */
static guint bh_sandbox_sweep_stages(BhSandbox *sb, GHashTable *kept)
{
    g_autoptr(GPtrArray) tags = bh_sandbox_dead_daemon_tags(sb->stage_top, "");
    guint cleaned = 0;
    for (guint i = 0; i < tags->len; i++) {
        const char *name = tags->pdata[i];
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
            if (g_str_equal(qn, BH_SANDBOX_STATE_MARKER) &&
                !bh_sandbox_cgroups_has_group(sb->cgroups, name, NULL))
                unlink(path);
            /* Its programs' copies: bound by its qubes while any runs. */
            if (g_str_equal(qn, BH_SANDBOX_GUEST_BIN_DIR) &&
                !bh_sandbox_cgroups_has_group(sb->cgroups, name, NULL))
                bh_sandbox_guest_bin_remove(stale);
            /* The dead daemon's resolv.conf (a qube's staging point is a
             * directory): left, it kept the directory, one per crash. */
            if ((g_str_equal(qn, BH_SANDBOX_GUEST_RESOLV) || g_str_equal(qn, BH_SANDBOX_GUEST_RESOLV_OLD)) &&
                g_file_test(path, G_FILE_TEST_IS_REGULAR) &&
                !bh_sandbox_cgroups_has_group(sb->cgroups, name, NULL))
                unlink(path);
            rmdir(path);
        }
        rmdir(stale);
    }
    return cleaned;
}

void bh_sandbox_adopt(BhBackend *backend, const BhBackendQube *qubes, gsize n_qubes)
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
            bh_sandbox_stop_uplink(sb, r);
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
            bh_sandbox_stop_uplink(sb, r);
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
        cleaned += bh_sandbox_sweep_tag(sb, f[0], keep, "");
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
