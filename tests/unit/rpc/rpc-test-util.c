/* rpc-test-util.c — see rpc-test-util.h. */
#include "rpc-test-util.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include <unistd.h>

#include "vchan-test-util.h"

void bh_rpc_fixture_setup(BhRpcFixture *f, gconstpointer data)
{
    g_autoptr(GError) err = NULL;

    f->tmp = g_dir_make_tmp("bh-rpc-XXXXXX", &err);
    g_assert_no_error(err);
    f->dir = g_build_filename(f->tmp, "vchan", NULL);
    g_setenv("BH_VCHAN_DIR", f->dir, TRUE);
    g_setenv("BH_VCHAN_TRANSPORT", "socket", TRUE);
    g_unsetenv("BH_VCHAN_DOMID");
    f->agent = 0;
    f->domid = 7;
}

void bh_rpc_fixture_teardown(BhRpcFixture *f, gconstpointer data)
{
    if (f->agent > 0)
        bh_rpc_stop_agent(f, SIGTERM);
    /* Let sources of finished calls go before the next test. */
    while (g_main_context_iteration(NULL, FALSE))
        ;
    bh_test_rm_rf(f->tmp);
    g_unsetenv("BH_VCHAN_DIR");
    g_free(f->dir);
    g_free(f->tmp);
}

/* In the agent, before exec: it dies with the test, even a test that
 * aborts, so that meson never waits on its inherited stdout. */
static void agent_setup(gpointer data)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (data) {
        prctl(PR_CAPBSET_DROP, CAP_SETUID, 0, 0, 0);
        prctl(PR_CAPBSET_DROP, CAP_SETGID, 0, 0, 0);
    }
}

void bh_rpc_start_agent(BhRpcFixture *f, const char *const *extra_args, gboolean drop_setuid)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_auto(GStrv) envp = g_get_environ();
    g_autofree char *domid = g_strdup_printf("%d", f->domid);

    g_ptr_array_add(argv, (gpointer)BH_RPC_AGENT);
    for (const char *const *a = extra_args; a && *a; a++)
        g_ptr_array_add(argv, (gpointer)*a);
    g_ptr_array_add(argv, NULL);
    envp = g_environ_setenv(envp, "BH_VCHAN_DOMID", domid, TRUE);
    g_spawn_async(NULL, (char **)argv->pdata, envp,
                  G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_LEAVE_DESCRIPTORS_OPEN, agent_setup,
                  drop_setuid ? GINT_TO_POINTER(1) : NULL, &f->agent, &err);
    g_assert_no_error(err);
}

void bh_rpc_stop_agent(BhRpcFixture *f, int sig)
{
    int status;

    g_assert_cmpint(f->agent, >, 0);
    kill(f->agent, sig);
    while (waitpid(f->agent, &status, 0) < 0 && errno == EINTR)
        ;
    if (sig == SIGTERM)
        g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    f->agent = 0;
}

static gboolean on_deadline(gpointer data)
{
    *(gboolean *)data = TRUE;
    return G_SOURCE_REMOVE;
}

void bh_rpc_spin_until(const gboolean *flag, const char *what)
{
    gboolean late = FALSE;
    GSource *t = g_timeout_source_new(BH_TEST_DEADLINE_MS);

    g_source_set_callback(t, on_deadline, &late, NULL);
    g_source_attach(t, NULL);
    while (!*flag && !late)
        g_main_context_iteration(NULL, TRUE);
    g_source_destroy(t);
    g_source_unref(t);
    if (!*flag)
        g_error("%s did not finish within %u ms", what, BH_TEST_DEADLINE_MS);
}

typedef struct {
    gboolean done;
    GAsyncResult *res;
} Pending;

static void on_done(GObject *src, GAsyncResult *res, gpointer data)
{
    Pending *p = data;

    p->res = g_object_ref(res);
    p->done = TRUE;
}

BhRpcClient *bh_rpc_connect_sync(int domid, guint timeout_ms, GError **error)
{
    Pending p = {0};
    BhRpcClient *c;

    bh_rpc_client_connect_async(domid, "test-qube", timeout_ms, NULL, on_done, &p);
    bh_rpc_spin_until(&p.done, "connect");
    c = bh_rpc_client_connect_finish(p.res, error);
    g_object_unref(p.res);
    return c;
}

gboolean bh_rpc_exec_sync(BhRpcClient *c, const char *user, const char *cmdline, int in, int out, int err,
                          gboolean wait, int *status, GError **error)
{
    Pending p = {0};
    gboolean ok;

    bh_rpc_client_exec_async(c, user, cmdline, in, out, err, wait, NULL, on_done, &p);
    bh_rpc_spin_until(&p.done, cmdline);
    ok = bh_rpc_client_exec_finish(c, p.res, status, error);
    g_object_unref(p.res);
    return ok;
}

int bh_rpc_memfd(const void *data, gsize len)
{
    int fd = memfd_create("bh-rpc-test", MFD_CLOEXEC);
    gsize done = 0;

    g_assert_cmpint(fd, >=, 0);
    while (done < len) {
        ssize_t n = write(fd, (const char *)data + done, len - done);
        g_assert_cmpint(n, >, 0);
        done += (gsize)n;
    }
    g_assert_cmpint(lseek(fd, 0, SEEK_SET), ==, 0);
    return fd;
}

GBytes *bh_rpc_memfd_contents(int fd)
{
    off_t len = lseek(fd, 0, SEEK_END);
    char *buf;
    gsize done = 0;

    g_assert_cmpint(len, >=, 0);
    g_assert_cmpint(len, <, (off_t)1 << 30);
    buf = g_malloc((gsize)len + 1);
    while (done < (gsize)len) {
        ssize_t n = pread(fd, buf + done, (gsize)len - done, (off_t)done);
        g_assert_cmpint(n, >, 0);
        done += (gsize)n;
    }
    buf[len] = '\0';
    return g_bytes_new_take(buf, (gsize)len);
}

char *bh_rpc_memfd_string(int fd)
{
    g_autoptr(GBytes) b = bh_rpc_memfd_contents(fd);
    gsize len;
    const char *d = g_bytes_get_data(b, &len);

    return g_strndup(d, len);
}
