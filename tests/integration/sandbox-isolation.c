/* sandbox-isolation.c — what a sandbox qube must not reach, each proven by
 * trying it from inside a running qube (and, as a control, showing that the
 * thing tried really exists and works from the host):
 *   the host user's home; the host's X11 socket (path and abstract), Wayland
 *   socket and D-Bus session bus; host and other qubes' processes; the
 *   template's root from an AppVM; another qube's private files and vchan
 *   sockets; any network without a netvm; privileges (setuid, a new user
 *   namespace mapping to host root); writing the host's font cache, which
 *   the qube reads.
 */
#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "sandbox-harness.h"
#include "sandbox-layout.h"
#include "sandbox.h"

static const BhTestQube tpl = {.name = "tpl", .qid = 2, .klass = "TemplateVM"};
static const BhTestQube work = {.name = "work", .qid = 3, .template_name = "tpl", .root_template = "tpl"};
static const BhTestQube other = {.name = "other", .qid = 4, .template_name = "tpl", .root_template = "tpl"};

typedef struct {
    BhHarness h;
    gboolean ok;
    char *marker; /* unique text planted where the qube must not see it */
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    f->ok = bh_harness_setup(&f->h);
    if (!f->ok)
        return;
    f->marker = g_strdup_printf("bh-secret-%08x%08x", g_random_int(), g_random_int());
    g_assert_true(bh_harness_create(&f->h, &tpl, &error));
    g_assert_true(bh_harness_start(&f->h, &work, &error));
    g_assert_no_error(error);
    g_assert_true(bh_harness_start(&f->h, &other, &error));
    g_assert_no_error(error);
    bh_harness_put_probe(&f->h, "work");
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
    if (f->ok)
        bh_harness_teardown(&f->h);
    g_free(f->marker);
}

static char *run_out(Fixture *f, const char *qube, const char *cmd, int *status)
{
    char *out = NULL;
    int st = bh_harness_run(&f->h, qube, cmd, &out);
    if (status)
        *status = st;
    return out ? g_strstrip(out) : g_strdup("");
}

static char *probe(Fixture *f, const char *args)
{
    g_autofree char *cmd = g_strdup_printf("python3 probe.py %s", args);
    return run_out(f, "work", cmd, NULL);
}

/* Searches every directory a qube has of its own (not the shared /usr) for
 * the marker: it must be nowhere. */
static void assert_marker_invisible(Fixture *f, const char *qube)
{
    g_autofree char *cmd = g_strdup_printf(
        "grep -rlsF %s / --exclude-dir=usr --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev; true",
        f->marker);
    g_autofree char *out = run_out(f, qube, cmd, NULL);
    g_assert_cmpstr(out, ==, "");
}

/* A UNIX socket listening at path, or in the abstract namespace when
 * abstract; the caller closes it. */
static int listen_unix(const char *name, gboolean abstract)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(fd, >=, 0);
    socklen_t len;
    if (abstract) {
        sa.sun_path[0] = '\0';
        strncpy(sa.sun_path + 1, name, sizeof sa.sun_path - 2);
        len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
    } else {
        unlink(name);
        strncpy(sa.sun_path, name, sizeof sa.sun_path - 1);
        len = sizeof sa;
    }
    g_assert_cmpint(bind(fd, (struct sockaddr *)&sa, len), ==, 0);
    g_assert_cmpint(listen(fd, 4), ==, 0);
    return fd;
}

static gboolean host_can_connect(const char *name, gboolean abstract)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    socklen_t len;
    if (abstract) {
        strncpy(sa.sun_path + 1, name, sizeof sa.sun_path - 2);
        len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
    } else {
        strncpy(sa.sun_path, name, sizeof sa.sun_path - 1);
        len = sizeof sa;
    }
    gboolean ok = connect(fd, (struct sockaddr *)&sa, len) == 0;
    close(fd);
    return ok;
}

static void test_host_home(Fixture *f, gconstpointer data)
{
    if (!f->ok)
        return;
    /* The host user's home: a secret there, and the real /root. */
    g_autofree char *secret = g_build_filename(f->h.home, "secret.txt", NULL);
    g_assert_true(g_file_set_contents(secret, f->marker, -1, NULL));
    g_autofree char *cmd = g_strdup_printf("cat %s", secret);
    int status = 0;
    g_autofree char *out = run_out(f, "work", cmd, &status);
    g_assert_cmpint(status, !=, 0);
    g_assert_null(strstr(out, f->marker));
    g_free(out);
    out = run_out(f, "work", "ls -A /root 2>&1; ls /home", &status);
    g_assert_cmpstr(out, ==, "ls: cannot access '/root': No such file or directory\nuser");
    /* The template's /etc came from the host's, without what only root
     * could read there (password hashes, private keys). */
    g_free(out);
    out = run_out(f, "work",
                  "ls /etc/shadow /etc/gshadow /etc/ssl/private 2>/dev/null | wc -l; "
                  "grep -c '^root:' /etc/passwd",
                  NULL);
    g_assert_cmpstr(out, ==, "0\n1");
    assert_marker_invisible(f, "work");
}

static void test_display_sockets(Fixture *f, gconstpointer data)
{
    if (!f->ok)
        return;
    /* An X server's sockets: the path one in /tmp/.X11-unix and the
     * abstract one Linux X servers also listen on. */
    int display = 600 + (int)(getpid() % 300);
    g_autofree char *x_path = g_strdup_printf("/tmp/.X11-unix/X%d", display);
    g_mkdir_with_parents("/tmp/.X11-unix", 01777);
    int x_fd = listen_unix(x_path, FALSE);
    int xa_fd = listen_unix(x_path, TRUE);
    /* The host's Wayland socket and D-Bus session bus live in its runtime
     * directory (the harness's XDG_RUNTIME_DIR here). The qube's own
     * wayland-0 is its gui-agent's, in its own runtime directory. */
    g_autofree char *wl_path = g_build_filename(f->h.runtime, "wayland-0", NULL);
    int wl_fd = listen_unix(wl_path, FALSE);
    g_autofree char *bus_path = g_build_filename(f->h.runtime, "bus", NULL);
    int bus_fd = listen_unix(bus_path, FALSE);
    g_autofree char *bus_abstract = g_strdup_printf("/tmp/dbus-bh%d", display);
    int busa_fd = listen_unix(bus_abstract, TRUE);

    /* Controls: all of these work from the host. */
    g_assert_true(host_can_connect(x_path, FALSE));
    g_assert_true(host_can_connect(x_path, TRUE));
    g_assert_true(host_can_connect(wl_path, FALSE));
    g_assert_true(host_can_connect(bus_path, FALSE));
    g_assert_true(host_can_connect(bus_abstract, TRUE));

    struct {
        const char *kind;
        const char *name;
        const char *expect;
    } tries[] = {
        {"unix", x_path, "ENOENT"},   {"abstract", x_path, "ECONNREFUSED"},       {"unix", wl_path, "ENOENT"},
        {"unix", bus_path, "ENOENT"}, {"abstract", bus_abstract, "ECONNREFUSED"},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(tries); i++) {
        g_autofree char *args = g_strdup_printf("%s %s", tries[i].kind, tries[i].name);
        g_autofree char *out = probe(f, args);
        g_test_message("%s %s from inside: %s", tries[i].kind, tries[i].name, out);
        g_assert_cmpstr(out, ==, tries[i].expect);
    }
    /* A real session bus too, when the tests run under one. */
    const char *addr = g_getenv("DBUS_SESSION_BUS_ADDRESS");
    if (addr && g_str_has_prefix(addr, "unix:")) {
        g_auto(GStrv) parts = g_strsplit_set(addr + 5, ",;", -1);
        for (char **p = parts; *p; p++) {
            const char *kind = g_str_has_prefix(*p, "path=")       ? "unix"
                               : g_str_has_prefix(*p, "abstract=") ? "abstract"
                                                                   : NULL;
            if (kind == NULL)
                continue;
            g_autofree char *args = g_strdup_printf("%s %s", kind, strchr(*p, '=') + 1);
            g_autofree char *out = probe(f, args);
            g_test_message("session bus %s from inside: %s", args, out);
            g_assert_cmpstr(out, !=, "connected");
        }
    }
    close(x_fd);
    close(xa_fd);
    close(wl_fd);
    close(bus_fd);
    close(busa_fd);
    unlink(x_path);
}

static void test_processes(Fixture *f, gconstpointer data)
{
    if (!f->ok)
        return;
    /* A process in another qube and one on the host, each with a marker. */
    g_autofree char *in_other =
        g_strdup_printf("nohup bash -c 'exec -a %s-other sleep 600' >/dev/null 2>&1 & sleep 0.2", f->marker);
    g_assert_cmpint(bh_harness_run(&f->h, "other", in_other, NULL), ==, 0);
    g_autofree char *host_argv0 = g_strdup_printf("%s-host", f->marker);
    GPid host_pid = 0;
    const char *argv[] = {"sleep", "600", NULL};
    g_autofree char *sh = g_strdup_printf("exec -a %s sleep 600", host_argv0);
    const char *sh_argv[] = {"/bin/bash", "-c", sh, NULL};
    (void)argv;
    g_assert_true(g_spawn_async(NULL, (char **)sh_argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &host_pid, NULL));
    /* Controls: the other qube and the host see their own. */
    bh_harness_spin(200);
    /* "[b]h-..." matches the marker but not this command line itself. */
    g_autofree char *cmd = g_strdup_printf("for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline; echo; done "
                                           "2>/dev/null | grep -c '[%c]%s'; true",
                                           f->marker[0], f->marker + 1);
    g_autofree char *in_other_view = run_out(f, "other", cmd, NULL);
    g_assert_cmpstr(in_other_view, ==, "1");
    g_autofree char *host_cmdline = NULL;
    g_autofree char *host_proc = g_strdup_printf("/proc/%d/cmdline", (int)host_pid);
    g_assert_true(g_file_get_contents(host_proc, &host_cmdline, NULL, NULL));
    g_assert_true(g_str_has_prefix(host_cmdline, host_argv0));

    g_autofree char *seen = run_out(f, "work", cmd, NULL);
    g_assert_cmpstr(seen, ==, "0");
    /* Only its own few processes: init, this shell and its helpers. */
    g_autofree char *count = run_out(f, "work", "ls -d /proc/[0-9]* | wc -l", NULL);
    g_assert_cmpuint(g_ascii_strtoull(count, NULL, 10), <, 10);
    /* The host's pid number means nothing inside. */
    g_autofree char *kill_cmd =
        g_strdup_printf("kill -0 %d 2>/dev/null && echo reachable || echo no", (int)host_pid);
    g_autofree char *killed = run_out(f, "work", kill_cmd, NULL);
    if (host_pid > 10)
        g_assert_cmpstr(killed, ==, "no");
    kill(host_pid, SIGKILL);
    g_spawn_close_pid(host_pid);
}

static void test_template_root(Fixture *f, gconstpointer data)
{
    if (!f->ok)
        return;
    g_autoptr(GError) error = NULL;
    /* The AppVM may scribble on its own root view... */
    g_autofree char *cmd = g_strdup_printf(
        "echo %s > /usr/bin/bh-evil && echo %s > /etc/bh-evil && cat /usr/bin/bh-evil", f->marker, f->marker);
    int status = 0;
    g_autofree char *out = run_out(f, "work", cmd, &status);
    g_test_message("writing the root from the AppVM: status %d, %s", status, out);
    /* ...but nothing reaches the template's layers, the host, or another
     * qube running on the same template. */
    g_autofree char *tpl_usr =
        g_build_filename(f->h.state, "qubes", "tpl", "root", "usr", "bin", "bh-evil", NULL);
    g_autofree char *tpl_etc = g_build_filename(f->h.state, "qubes", "tpl", "root", "etc", "bh-evil", NULL);
    g_assert_false(g_file_test(tpl_usr, G_FILE_TEST_EXISTS));
    g_assert_false(g_file_test(tpl_etc, G_FILE_TEST_EXISTS));
    g_assert_false(g_file_test("/usr/bin/bh-evil", G_FILE_TEST_EXISTS));
    g_autofree char *elsewhere =
        run_out(f, "other", "cat /usr/bin/bh-evil /etc/bh-evil 2>&1 | grep -c bh-secret; true", NULL);
    g_assert_cmpstr(elsewhere, ==, "0");
    /* The template itself does not see it either, nor does work after a
     * restart. */
    g_assert_true(bh_harness_shutdown(&f->h, "work", 5, &error));
    g_assert_true(bh_harness_start(&f->h, &tpl, &error));
    g_assert_no_error(error);
    g_autofree char *in_tpl = run_out(f, "tpl", "ls /usr/bin/bh-evil /etc/bh-evil 2>/dev/null | wc -l", NULL);
    g_assert_cmpstr(in_tpl, ==, "0");
    g_assert_true(bh_harness_shutdown(&f->h, "tpl", 5, &error));
    g_assert_true(bh_harness_start(&f->h, &work, &error));
    g_autofree char *again = run_out(f, "work", "ls /usr/bin/bh-evil /etc/bh-evil 2>/dev/null | wc -l", NULL);
    g_assert_cmpstr(again, ==, "0");
    /* And the host's /usr is owned by root on disk, untouched. */
    struct stat st;
    g_assert_cmpint(stat("/usr/bin", &st), ==, 0);
    g_assert_cmpuint(st.st_uid, ==, 0);
}

static void test_other_private(Fixture *f, gconstpointer data)
{
    if (!f->ok)
        return;
    /* Other's private files and its vchan server socket. */
    g_autofree char *plant = g_strdup_printf(
        "echo %s > ~/secret.txt && nohup python3 -c 'import socket,os,time; s=socket.socket(socket.AF_UNIX); "
        "s.bind(os.environ[\"BH_VCHAN_DIR\"]+\"/4/4-0-512.sock\"); s.listen(1); time.sleep(600)' "
        ">/dev/null 2>&1 & sleep 0.5",
        f->marker);
    g_assert_cmpint(bh_harness_run(&f->h, "other", plant, NULL), ==, 0);
    /* Controls: the file is on other's volume, the socket in its vchan
     * directory, and other itself reaches it. */
    g_autofree char *secret = bh_harness_private_path(&f->h, "other", "secret.txt");
    g_assert_true(g_file_test(secret, G_FILE_TEST_EXISTS));
    g_autofree char *vsock = g_build_filename(f->h.runtime, "bulkhead", "vchan", "4", "4-0-512.sock", NULL);
    g_assert_true(g_file_test(vsock, G_FILE_TEST_EXISTS));

    int status = 0;
    g_autofree char *cmd = g_strdup_printf("cat %s", secret);
    g_autofree char *out = run_out(f, "work", cmd, &status);
    g_assert_cmpint(status, !=, 0);
    assert_marker_invisible(f, "work");
    g_autofree char *dirs = run_out(f, "work", "ls /run/bulkhead/vchan", NULL);
    g_assert_cmpstr(dirs, ==, "3");
    g_autofree char *args = g_strdup_printf("unix %s", vsock);
    g_autofree char *p1 = probe(f, args);
    g_assert_cmpstr(p1, ==, "ENOENT");
    g_autofree char *p2 = probe(f, "unix /run/bulkhead/vchan/4/4-0-512.sock");
    g_assert_cmpstr(p2, ==, "ENOENT");
    /* On the host, the volume belongs to root and is closed: even a process
     * of work's host uid that found the path could not read it. (An image
     * when the daemon is root, a directory otherwise: docs/sandbox.md.) */
    struct stat st;
    g_autofree char *other_private = g_build_filename(f->h.state, "qubes", "other", "private.img", NULL);
    if (stat(other_private, &st) < 0) {
        g_free(other_private);
        other_private = g_build_filename(f->h.state, "qubes", "other", "private", NULL);
    }
    g_assert_cmpint(stat(other_private, &st), ==, 0);
    if (geteuid() == 0)
        g_assert_cmpuint(st.st_uid, ==, 0);
    g_assert_cmpuint(st.st_mode & 077, ==, 0);
}

static void test_no_network(Fixture *f, gconstpointer data)
{
    if (!f->ok)
        return;
    /* A TCP listener on the host's loopback: reachable from the host. */
    g_autoptr(GSocketListener) listener = g_socket_listener_new();
    guint16 port = g_socket_listener_add_any_inet_port(listener, NULL, NULL);
    g_assert_cmpuint(port, >, 0);
    g_autofree char *links = run_out(f, "work", "ip -o link | awk -F': ' '{print $2}'", NULL);
    g_assert_cmpstr(links, ==, "lo");
    g_autofree char *addrs = run_out(f, "work", "ip -o -4 addr | awk '{print $4}'", NULL);
    g_assert_cmpstr(addrs, ==, "127.0.0.1/8");
    /* Loopback is the qube's own, not the host's. */
    g_autofree char *args = g_strdup_printf("tcp 127.0.0.1 %u", port);
    g_autofree char *lo = probe(f, args);
    g_assert_cmpstr(lo, ==, "ECONNREFUSED");
    /* Anything else has no route: the kernel refuses before sending. */
    g_autofree char *net = probe(f, "tcp 10.137.0.1 80");
    g_assert_cmpstr(net, ==, "ENETUNREACH");
    g_autofree char *far = probe(f, "tcp 192.0.2.1 80");
    g_assert_cmpstr(far, ==, "ENETUNREACH");
}

static void test_privileges(Fixture *f, gconstpointer data)
{
    if (!f->ok)
        return;
    int status = 0;
    /* Setuid binaries give nothing (no_new_privs, nosuid). */
    g_autofree char *su = run_out(f, "work", "su -c 'id -u' root </dev/null 2>&1", &status);
    g_assert_cmpint(status, !=, 0);
    g_autofree char *mnt = run_out(f, "work", "mkdir -p /tmp/m && mount -t tmpfs none /tmp/m 2>&1", &status);
    g_assert_cmpint(status, !=, 0);
    g_autofree char *nnp =
        run_out(f, "work", "grep -E '^(NoNewPrivs|CapEff|CapPrm)' /proc/self/status", NULL);
    g_assert_cmpstr(nnp, ==, "CapPrm:\t0000000000000000\nCapEff:\t0000000000000000\nNoNewPrivs:\t1");
    /* No new user namespace (which would map back to the qube's uid, not
     * to root, anyway). */
    g_autofree char *userns = run_out(f, "work", "unshare -U -r id -u 2>&1", &status);
    g_test_message("unshare -U -r: %d %s", status, userns);
    g_assert_cmpint(status, !=, 0);
    g_autofree char *py =
        run_out(f, "work", "python3 -c 'import os; os.unshare(os.CLONE_NEWUSER)' 2>&1 | tail -1", NULL);
    g_assert_nonnull(strstr(py, "Error"));
    /* From the host: the qube runs as its own unprivileged uid. */
    pid_t init = bh_sandbox_init_pid(f->h.backend, "work");
    g_autofree char *status_path = g_strdup_printf("/proc/%d/status", (int)init);
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(status_path, &text, NULL, NULL));
    const char *uid = strstr(text, "\nUid:");
    g_assert_nonnull(uid);
    guint64 host_uid = g_ascii_strtoull(uid + 5, NULL, 10);
    g_test_message("host uid of work's init: %" G_GUINT64_FORMAT, host_uid);
    if (geteuid() == 0)
        g_assert_cmpuint(host_uid, !=, 0);
}

/* The host's font cache is read by the qube's programs (so a fresh qube
 * does not scan every font: bench/RESULTS.md, "Start at scale") and can be
 * changed by nothing in the qube: it is mounted read-only. */
static void test_font_cache(Fixture *f, gconstpointer data)
{
    if (!f->ok)
        return;
    if (!g_file_test(BH_SANDBOX_FONT_CACHE, G_FILE_TEST_IS_DIR)) {
        g_test_skip("no " BH_SANDBOX_FONT_CACHE " on this host");
        return;
    }
    /* Control: the host's cache has files, and the qube's fontconfig loads
     * the host's cache of /usr/share/fonts rather than scanning it. */
    g_autoptr(GDir) dir = g_dir_open(BH_SANDBOX_FONT_CACHE, 0, NULL);
    g_assert_nonnull(dir);
    g_assert_nonnull(g_dir_read_name(dir));
    g_autofree char *out = run_out(
        f, "work", "FC_DEBUG=16 fc-list 2>/dev/null | grep -c '^cache: .*(dir: /usr/share/fonts)'", NULL);
    g_assert_cmpstr(out, ==, "1");
    /* The attack: replace or add a cache file from inside. */
    g_free(out);
    out = run_out(f, "work",
                  "f=$(ls " BH_SANDBOX_FONT_CACHE " | head -1); "
                  "(echo x > " BH_SANDBOX_FONT_CACHE "/$f) 2>/dev/null && echo wrote; "
                  "touch " BH_SANDBOX_FONT_CACHE "/new 2>/dev/null && echo made; "
                  "grep ' " BH_SANDBOX_FONT_CACHE " ' /proc/self/mountinfo | grep -c ' ro[, ]'",
                  NULL);
    g_assert_cmpstr(out, ==, "1");
    g_assert_false(g_file_test(BH_SANDBOX_FONT_CACHE "/new", G_FILE_TEST_EXISTS));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(path, fn)                                                                                        \
    g_test_add("/sandbox/isolation/" path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
    ADD("host-home", test_host_home);
    ADD("display-and-bus-sockets", test_display_sockets);
    ADD("processes", test_processes);
    ADD("template-root", test_template_root);
    ADD("other-qube-private-and-vchan", test_other_private);
    ADD("no-network-without-netvm", test_no_network);
    ADD("privileges", test_privileges);
    ADD("font-cache-read-only", test_font_cache);
#undef ADD
    return g_test_run();
}
