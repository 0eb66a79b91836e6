/* bh-guid-launcher.c — guid's launcher; see bh-guid-launcher.h.
 *
 * Why it exists: every guid is a GTK 4 process, one per running qube, and
 * starting 20 qubes at once started 20 of them. Of a guid's start to its
 * connect, exec and dynamic linking (76 libraries, ~40 000 relocations) and
 * fontconfig's configuration (about 80 XML files, read in pango's FcInit
 * thread) are the same in every guid and need no display: the launcher does
 * them once, and each guid is a fork of it (bench/RESULTS.md "Start at scale
 * VII"). Everything that depends on the display or the qube (GTK, the X
 * connection, the session bus, the vchan) happens in the child, after the
 * fork, exactly as in a guid started on its own. Some of GTK's start needs
 * neither and is done here too (launcher_warm_up: the locale, type
 * classes, GTK's CSS properties, the pixbuf loaders' list, an icon index;
 * "Start at scale IX").
 *
 * The loop uses plain system calls: no GLib main context or thread exists
 * in this process before a fork. Only bulkheadd talks to it; its requests
 * are still checked (bh_guid_launch_decode_request) and a bad one is
 * refused with a logged reason. */
#include "bh-guid-launcher.h"

#include <errno.h>
#include <fontconfig/fontconfig.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gdk/x11/gdkx.h>
#include <glib.h>
#include <gtk/gtk.h>

#include "bh-guid-main.h"
#include "bh-guid-style.h"
#include "bulkhead/guid-launch.h"

/* More than a desktop runs qubes; a request beyond it is refused. */
#define BH_GUID_LAUNCHER_MAX_CHILDREN 1024

typedef struct {
    pid_t pid;
    uint32_t serial;
} BhLaunched;

static void launcher_log(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static void launcher_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("bulkhead-guid launcher: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* One reply, with fd attached when fd >= 0. */
static void launcher_reply(int sock, enum bh_guid_launch_kind kind, uint32_t serial, pid_t pid, int value,
                           int fd)
{
    struct bh_guid_launch_reply reply;
    bh_guid_launch_encode_reply(&reply, kind, serial, pid, value);
    bh_guid_launch_send(sock, &reply, sizeof reply, &fd, fd >= 0 ? 1 : 0);
}

/* The child's command line, written over the launcher's: what ps, pgrep -f
 * and /proc/PID/cmdline show. Cut at the area's end, NUL-terminated. */
static void child_set_title(char *title, size_t title_len, const char *const *argv)
{
    if (title == NULL || title_len == 0)
        return;
    char buf[BH_GUID_LAUNCH_MAX_BYTES];
    size_t off = 0;
    for (size_t i = 0; argv[i] != NULL && off < sizeof buf; i++) {
        size_t n = strlen(argv[i]) + 1;
        if (n > sizeof buf - off)
            n = sizeof buf - off;
        memcpy(buf + off, argv[i], n);
        off += n;
    }
    if (off > title_len)
        off = title_len;
    memset(title, 0, title_len);
    memcpy(title, buf, off);
    title[title_len - 1] = '\0';
}

/* In the child: becomes the guid of argv. Never returns. */
G_GNUC_NORETURN static void child_run(int sock, int sfd, int errfd, pid_t launcher, int argc,
                                      const char *const *argv, const char *a11y, char *title,
                                      size_t title_len)
{
    close(sock);
    close(sfd);
    if (errfd != STDERR_FILENO) {
        dup2(errfd, STDERR_FILENO);
        close(errfd);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* As a guid bulkheadd starts itself: it ends with the process that
     * started it (the launcher, which ends with bulkheadd). */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != launcher)
        _exit(1);
    /* argv points into the launcher's request buffer, and GOption consumes
     * what it parses: the guid gets its own copy. */
    char **own = g_new0(char *, (gsize)argc + 1);
    for (int i = 0; i < argc; i++)
        own[i] = g_strdup(argv[i]);
    child_set_title(title, title_len, argv);
    /* The accessibility bus bulkheadd found for this guid (bh_guid_main
     * reads it). Still one thread: nothing of GTK's runs yet, so the
     * environment may change here and nowhere later. */
    if (a11y != NULL)
        setenv("AT_SPI_BUS_ADDRESS", a11y, 1);
    else
        unsetenv("AT_SPI_BUS_ADDRESS");
    exit(bh_guid_main(argc, own));
}

/* Reads one request and forks its guid, or refuses it. FALSE once
 * bulkheadd closed its end. */
static gboolean launcher_serve(int sock, int sfd, BhLaunched *kids, size_t *n_kids, char *title,
                               size_t title_len)
{
    uint8_t buf[BH_GUID_LAUNCH_MAX_BYTES + 1];
    int fds[2], n_fds = 0, cut = 0;
    long len = bh_guid_launch_recv(sock, buf, sizeof buf, fds, 2, &n_fds, &cut, 0);
    if (len == 0 || (len < 0 && errno != EINTR && errno != EAGAIN))
        return FALSE;
    if (len < 0)
        return TRUE;
    uint32_t serial = 0;
    const char *argv[BH_GUID_LAUNCH_MAX_ARGS + 1];
    const char *why = NULL, *a11y = NULL;
    int argc = -1;
    if (cut)
        why = "request or its descriptors cut short";
    else if ((argc = bh_guid_launch_decode_request(buf, (size_t)len, &serial, argv, &a11y, &why)) < 0)
        ;
    else if (n_fds != 1)
        why = "a request carries exactly one descriptor (the guid's stderr)";
    else if (*n_kids >= BH_GUID_LAUNCHER_MAX_CHILDREN)
        why = "too many guids running";
    if (why != NULL) {
        launcher_log("request %u refused: %s", serial, why);
        for (int i = 0; i < n_fds; i++)
            close(fds[i]);
        launcher_reply(sock, BH_GUID_LAUNCH_FAILED, serial, 0, EINVAL, -1);
        return TRUE;
    }
    pid_t launcher = getpid();
    pid_t pid = fork();
    if (pid == 0)
        child_run(sock, sfd, fds[0], launcher, argc, argv, a11y, title, title_len);
    int err = errno;
    close(fds[0]);
    if (pid < 0) {
        launcher_log("cannot fork a guid for request %u: %s", serial, strerror(err));
        launcher_reply(sock, BH_GUID_LAUNCH_FAILED, serial, 0, err, -1);
        return TRUE;
    }
    kids[(*n_kids)++] = (BhLaunched){.pid = pid, .serial = serial};
    /* Before any wait: the pid cannot have been reaped and reused. */
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    launcher_reply(sock, BH_GUID_LAUNCH_STARTED, serial, pid, 0, pidfd);
    if (pidfd >= 0)
        close(pidfd);
    return TRUE;
}

/* Reaps every guid that ended and says so. */
static void launcher_reap(int sock, int sfd, BhLaunched *kids, size_t *n_kids)
{
    struct signalfd_siginfo si;
    while (read(sfd, &si, sizeof si) == sizeof si)
        ;
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (size_t i = 0; i < *n_kids; i++) {
            if (kids[i].pid != pid)
                continue;
            launcher_reply(sock, BH_GUID_LAUNCH_EXITED, kids[i].serial, pid, status, -1);
            kids[i] = kids[--*n_kids];
            break;
        }
    }
}

static int launcher_loop(int sock, char *title, size_t title_len)
{
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0) {
        launcher_log("no signalfd: %s", strerror(errno));
        return 1;
    }
    g_autofree BhLaunched *kids = g_new0(BhLaunched, BH_GUID_LAUNCHER_MAX_CHILDREN);
    size_t n_kids = 0;
    for (;;) {
        struct pollfd pfd[2] = {{.fd = sock, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
        if (poll(pfd, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            launcher_log("poll: %s", strerror(errno));
            return 1;
        }
        if (pfd[1].revents & POLLIN)
            launcher_reap(sock, sfd, kids, &n_kids);
        /* bulkheadd is gone: so are the guids (their parent-death signal). */
        if ((pfd[0].revents & POLLIN) && !launcher_serve(sock, sfd, kids, &n_kids, title, title_len))
            return 0;
        if (!(pfd[0].revents & POLLIN) && (pfd[0].revents & (POLLHUP | POLLERR | POLLNVAL)))
            return 0;
    }
}

/* What every guid's start does the same way and needs no display, done
 * once here and shared copy-on-write (bench/RESULTS.md "Start at scale
 * IX": with the icon index, 0.3-2.6 ms of CPU less per guid). None of it starts a thread or
 * opens a connection: a child must share neither with the launcher or a
 * sibling (bh-guid-launcher.h); test-guid-set checks the launcher keeps
 * one thread. */
static void launcher_warm_up(void)
{
    /* fontconfig's configuration and its caches' mappings. pango's FcInit
     * thread in the child then finds it done. */
    if (!FcInit())
        launcher_log("fontconfig did not initialise; each guid will try itself");
    /* gtk_init's own setlocale: the locale's files are read here once. */
    setlocale(LC_ALL, "");
    /* GIO's local files only: guid opens nothing but its own resources, and
     * another VFS module (gvfs) would talk to the session bus here. */
    g_setenv("GIO_USE_VFS", "local", FALSE);
    g_object_unref(g_file_new_for_uri("resource:///org/bulkhead/guid/guid.css"));
    /* gdk-pixbuf's list of loaders (loaders.cache), read by gtk_init. */
    g_slist_free(gdk_pixbuf_get_formats());
    /* The classes every guid's start instantiates, each initialised once
     * (class_init only; no instance, no display). Not GTask: its class
     * starts GLib's thread pool. */
    const GType classes[] = {
        GDK_TYPE_DISPLAY_MANAGER,
        GDK_TYPE_X11_DISPLAY,
        GDK_TYPE_X11_SCREEN,
        GDK_TYPE_X11_MONITOR,
        GDK_TYPE_X11_DEVICE_MANAGER_XI2,
        GDK_TYPE_X11_DEVICE_XI2,
        GDK_TYPE_X11_SURFACE,
        GDK_TYPE_CLIPBOARD,
        GTK_TYPE_SETTINGS,
        GTK_TYPE_ICON_THEME,
        GTK_TYPE_CSS_PROVIDER,
        G_TYPE_DBUS_CONNECTION,
        G_TYPE_DBUS_PROXY,
        G_TYPE_MEMORY_INPUT_STREAM,
        G_TYPE_LIST_STORE,
        G_TYPE_SOCKET,
    };
    for (gsize i = 0; i < G_N_ELEMENTS(classes); i++)
        g_type_class_ref(classes[i]);
    /* GTK registers its CSS properties (about 100) when it first parses
     * CSS; a provider parsed here leaves them registered. */
    g_autoptr(GtkCssProvider) css = gtk_css_provider_new();
    gtk_css_provider_load_from_data(css, "* { color: inherit; }", -1);

    /* An index for guid's icon theme (bh_guid_style_write_icon_index), in
     * the user's runtime directory, the same file for every launcher of this
     * build (written whole, replaced atomically; never removed, so that no
     * guid finds it gone); each guid finds it through the environment.
     * Without it a guid works as before, only slower. */
    g_autofree char *dir = g_build_filename(g_get_user_runtime_dir(), "bulkhead-guid-icons", NULL);
    g_autoptr(GError) error = NULL;
    if (bh_guid_style_write_icon_index(dir, &error))
        g_setenv(BH_GUID_ICON_INDEX_ENV, dir, TRUE);
    else
        launcher_log("no icon index for guid: %s", error->message);
}

int bh_guid_launcher_run(int sock, char *title, size_t title_len)
{
    launcher_warm_up();
    return launcher_loop(sock, title, title_len);
}
