/* xen-dom0-test.c — runs in dom0 of the QEMU test (tests/xen/run-xen-qemu.sh)
 * and prints TAP on the console: the xen backend against a real Xen.
 *
 * It opens the backend through the registry as bulkheadd does, checks
 * errors libxl gives (netvm not running), starts a PV qube whose domU runs
 * bh-xen-guest-client, reads the qube's metadata from xenstore, connects to
 * the guest's GUI vchan over libxenvchan, decodes everything with
 * bh_gui_decode, maps the window buffer from the guest's grant references
 * with bh_winbuf_import_grant and checks every damaged pixel of two frames;
 * then the same for the real bulkhead-gui-agent running weston-simple-shm
 * in the domU (ten frames, every pixel, through the agent tests' test dom0);
 * then pause/unpause, a clean shutdown (the guest powers itself off), a
 * second start and a kill, each seen through libxl's death events; and that
 * the golden configurations of tests/data/xen are valid libxl input (libxl
 * reads them back with a real context). bulkheadd itself, guid and qvm-run
 * over Xen are dom0-desktop.sh's, run after this.
 * With --pvh (meson -Dxen-qemu-long=true), the qube also boots as PVH.
 *
 * Usage: bh-xen-dom0-test STATE_DIR GOLDEN_DIR [--pvh]
 */
#include <libxl.h>
#include <libxl_utils.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xenstore.h>

#include "backend.h"
#include "bh-test-dom0.h"
#include "bh-test-shm.h"
#include "bulkhead/winbuf.h"
#include "xen-test-pattern.h"
#include "xen-test-wire.h"
#include "xen.h"

typedef struct {
    int n, failed;
    GString *states; /* "Transient Running ..." of the current qube */
    gboolean done;
    gboolean ok;
    GError *error;
    BhBackend *backend;
} T;

static void check(T *t, gboolean ok, const char *what, ...) G_GNUC_PRINTF(3, 4);

static void check(T *t, gboolean ok, const char *what, ...)
{
    va_list args;
    va_start(args, what);
    g_autofree char *text = g_strdup_vprintf(what, args);
    va_end(args);
    t->n++;
    if (!ok)
        t->failed++;
    printf("%sok %d - %s\n", ok ? "" : "not ", t->n, text);
    fflush(stdout);
}

static void state_changed(BhBackend *backend, const char *qube, BhPowerState state, const char *reason,
                          gpointer user_data)
{
    T *t = user_data;
    g_string_append_printf(t->states, "%s%s", t->states->len ? " " : "", bh_power_state_name(state));
    printf("# [%s] %s%s%s\n", qube, bh_power_state_name(state), reason ? ": " : "", reason ? reason : "");
    fflush(stdout);
}

static void wait_for(gboolean *flag, int timeout_s)
{
    gint64 end = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;
    while (!*flag && g_get_monotonic_time() < end)
        if (!g_main_context_iteration(NULL, FALSE))
            g_usleep(20000);
}

static void started(GObject *source, GAsyncResult *result, gpointer user_data)
{
    T *t = user_data;
    t->ok = bh_backend_start_finish(t->backend, result, &t->error);
    t->done = TRUE;
}

static void stopped(GObject *source, GAsyncResult *result, gpointer user_data)
{
    T *t = user_data;
    t->ok = bh_backend_shutdown_finish(t->backend, result, &t->error);
    t->done = TRUE;
}

static gboolean start_qube(T *t, BhBackend *backend, const BhBackendQube *q, int timeout_s)
{
    t->done = FALSE;
    g_clear_error(&t->error);
    g_string_truncate(t->states, 0);
    bh_backend_start(backend, q, NULL, started, t);
    wait_for(&t->done, timeout_s);
    return t->done && t->ok;
}

/* ---- the GUI over vchan and grants --------------------------------------- */

static gboolean pixels_ok(const struct bh_winbuf *b, uint32_t stride, struct bh_gui_rect r, uint32_t frame,
                          const struct bh_gui_rect *except, uint32_t except_frame, char *why, size_t why_len)
{
    for (uint32_t y = (uint32_t)r.y; y < (uint32_t)r.y + r.height; y++)
        for (uint32_t x = (uint32_t)r.x; x < (uint32_t)r.x + r.width; x++) {
            uint32_t want = bh_test_pixel(x, y, frame);
            if (except && x >= (uint32_t)except->x && x < (uint32_t)except->x + except->width &&
                y >= (uint32_t)except->y && y < (uint32_t)except->y + except->height)
                want = bh_test_pixel(x, y, except_frame);
            uint32_t got;
            memcpy(&got, (const uint8_t *)b->map + (size_t)y * stride + x * 4u, 4);
            if (got != want) {
                snprintf(why, why_len, "pixel (%u,%u) is %08x, want %08x", x, y, got, want);
                return FALSE;
            }
        }
    return TRUE;
}

/* Connects to the GUI server in domid (its server appears once the guest
 * has booted), retrying for up to timeout_s. */
static struct bh_vchan *gui_connect(uint32_t domid, int timeout_s, double *waited)
{
    struct bh_vchan *v = NULL;
    gint64 t0 = g_get_monotonic_time();
    while (!(v = bh_vchan_client_init((int)domid, BH_GUI_VCHAN_PORT)) &&
           g_get_monotonic_time() - t0 < (gint64)timeout_s * G_USEC_PER_SEC) {
        g_main_context_iteration(NULL, FALSE);
        g_usleep(100000);
    }
    *waited = (g_get_monotonic_time() - t0) / 1e6;
    return v;
}

/* dom0's half of the handshake, after the agent's HELLO. */
static gboolean gui_answer_hello(struct bh_vchan *v)
{
    struct bh_gui_hello h = {.version = BH_GUI_PROTOCOL_VERSION};
    struct bh_gui_screen screen = {.width = 1920, .height = 1080};
    struct bh_gui_keymap keymap = {.rules = "evdev", .model = "pc105", .layout = "us"};
    return bh_test_send(v, BH_GUI_HELLO, 0, &h, sizeof h, NULL, 0) == 0 &&
           bh_test_send(v, BH_GUI_SCREEN, 0, &screen, sizeof screen, NULL, 0) == 0 &&
           bh_test_send(v, BH_GUI_KEYMAP, 0, &keymap, sizeof keymap, NULL, 0) == 0;
}

static void gui_test(T *t, uint32_t domid)
{
    static uint8_t rx[BH_MAX_MSG_BYTES];
    struct bh_vchan *v = NULL;
    struct bh_gui_windows w;
    struct bh_gui_msg m;
    struct bh_winbuf buf = {0};
    uint32_t stride = 0, frames = 0;
    char why[160] = "";
    double waited = 0;

    bh_gui_windows_init(&w);
    v = gui_connect(domid, 120, &waited);
    check(t, v != NULL, "dom0 connects to the guest's GUI vchan (libxenvchan, port %d) after %.1f s",
          BH_GUI_VCHAN_PORT, waited);
    if (!v)
        return;
    check(t, bh_vchan_transport(v) == BH_VCHAN_XEN, "the connection uses the xen transport");

    gboolean hello = bh_test_recv(v, BH_GUI_FROM_AGENT, &w, &m, rx) == 0 && m.type == BH_GUI_HELLO;
    check(t, hello, "the guest's HELLO decodes");
    gboolean sent = gui_answer_hello(v);
    check(t, sent, "dom0 answers HELLO, SCREEN, KEYMAP");

    gint64 t1 = g_get_monotonic_time();
    while (hello && sent && frames < 2) {
        if (bh_test_recv(v, BH_GUI_FROM_AGENT, &w, &m, rx) < 0) {
            check(t, FALSE, "the guest's messages decode");
            break;
        }
        switch (m.type) {
        case BH_GUI_TITLE:
            printf("# title: %s\n", m.u.title.text);
            check(t, strstr(m.u.title.text, "name=work ") != NULL,
                  "the guest read its qube name from xenstore (bulkhead/name)");
            check(t,
                  strstr(m.u.title.text, "xvda:ro=1") && strstr(m.u.title.text, "xvdb:ro=0") &&
                      strstr(m.u.title.text, "xvdc:ro=0"),
                  "the guest sees xvda read-only (template root), xvdb and xvdc writable");
            break;
        case BH_GUI_BUFFER: {
            const char *reason = "";
            uint32_t n = m.u.buffer.info.n_refs;
            g_autofree uint32_t *refs = g_new(uint32_t, n);
            memcpy(refs, m.u.buffer.refs, (size_t)n * sizeof *refs);
            stride = m.u.buffer.info.stride;
            int rc = bh_winbuf_import_grant(&buf, (int)domid, refs, n,
                                            (size_t)stride * m.u.buffer.info.height, &reason);
            check(t, rc == 0, "dom0 maps the window buffer from %u grant references read-only%s%s", n,
                  rc ? ": " : "", rc ? reason : "");
            break;
        }
        case BH_GUI_DAMAGE: {
            frames++;
            struct bh_gui_rect full = {0, 0, BH_TEST_WIDTH, BH_TEST_HEIGHT};
            struct bh_gui_rect r2 = BH_TEST_RECT2;
            gboolean ok = buf.map != NULL;
            if (ok && frames == 1)
                ok = pixels_ok(&buf, stride, full, 1, NULL, 0, why, sizeof why);
            else if (ok)
                ok = m.u.damage.n_rects == 1 && m.u.damage.rects[0].x == r2.x &&
                     pixels_ok(&buf, stride, full, 1, &r2, 2, why, sizeof why);
            check(t, ok, "frame %u: every pixel arrived through the grant pages%s%s", frames, ok ? "" : ": ",
                  ok ? "" : why);
            struct bh_gui_buffer_release rel = {.serial = m.u.damage.serial};
            bh_test_send(v, BH_GUI_BUFFER_RELEASE, m.window, &rel, sizeof rel, NULL, 0);
            break;
        }
        default:
            printf("# %s for window %u\n", bh_gui_type_name(m.type), m.window);
        }
    }
    printf("# gui: %d frames in %.2f s after the handshake\n", frames, (g_get_monotonic_time() - t1) / 1e6);
    check(t, frames == 2, "both frames arrived");
    bh_winbuf_release(&buf);
    bh_vchan_close(v);
}

/* ---- the real bulkhead-gui-agent with weston-simple-shm ------------------------- */

#define AGENT_FRAMES 10 /* checked with the first dom0; the second checks 3 more */

static bool shm_shown(struct bh_tdom0 *d, void *ctx)
{
    return bh_tdom0_find_shown(d, "simple-shm") != NULL;
}

struct frame_wait {
    struct bh_tdom0_win *w;
    unsigned n_damage;
};

static bool next_damage(struct bh_tdom0 *d, void *ctx)
{
    struct frame_wait *f = ctx;
    return f->w->n_damage > f->n_damage && f->w->unreleased;
}

/* The agent's GUI server is in xenstore (it serves; no dom0 has taken it). */
static gboolean agent_published(uint32_t domid, int timeout_s)
{
    g_autofree char *path =
        g_strdup_printf("/local/domain/%u/data/vchan/0/%d/event-channel", domid, BH_GUI_VCHAN_PORT);
    struct xs_handle *xs = xs_open(0);
    gboolean found = FALSE;
    gint64 end = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;
    while (xs && !found && g_get_monotonic_time() < end) {
        unsigned len = 0;
        char *v = xs_read(xs, XBT_NULL, path, &len);
        found = v != NULL;
        free(v);
        if (!found)
            g_usleep(50000);
    }
    if (xs)
        xs_close(xs);
    return found;
}

/* Checks `frames` frames of simple-shm in w: every pixel of each, then its
 * release; the next DAMAGE must follow with the next serial and simple-shm's
 * inner square. Returns the frames checked; why says what went wrong. */
static unsigned shm_frames(struct bh_tdom0 *d, struct bh_tdom0_win *w, unsigned frames, gboolean *damage_ok,
                           unsigned *distinct, char *why, size_t why_len)
{
    unsigned checked = 0;
    uint32_t prev_serial = w->last_serial, prev_t16 = 0;
    *damage_ok = TRUE;
    *distinct = 0;
    for (unsigned i = 0; i < frames; i++) {
        uint32_t t16 = 0;
        if (!bh_tshm_check_frame(w, &t16)) {
            bh_tshm_dump(w);
            snprintf(why, why_len, ": frame %u (serial %u) is not simple-shm's", i, w->last_serial);
            break;
        }
        checked++;
        if (i > 0) {
            *distinct += t16 != prev_t16;
            *damage_ok = *damage_ok && w->last_n_rects == 1 && w->last_rects[0].x == BH_TSHM_PAD &&
                         w->last_rects[0].y == BH_TSHM_PAD &&
                         w->last_rects[0].width == BH_TSHM_SIZE - 2 * BH_TSHM_PAD &&
                         w->last_rects[0].height == BH_TSHM_SIZE - 2 * BH_TSHM_PAD &&
                         w->last_serial == prev_serial + 1;
        }
        prev_t16 = t16;
        prev_serial = w->last_serial;
        if (i + 1 == frames)
            break;
        struct frame_wait f = {w, w->n_damage};
        /* Present at most at ~60 Hz, as a screen would: each frame a new time. */
        g_usleep(16 * 1000);
        bh_tdom0_release(d, w);
        if (!bh_tdom0_wait(d, next_damage, &f, 30000)) {
            snprintf(why, why_len, ": no DAMAGE after releasing serial %u (%s)", prev_serial,
                     d->alive ? "timeout" : d->error);
            break;
        }
    }
    return checked;
}

/* The last lines of the domU's console as xenconsoled logged them (the
 * gui-agent runs with --verbose there), joined with " | ". */
static char *console_tail(const char *domain, unsigned lines)
{
    g_autofree char *path = g_strdup_printf("/var/log/xen/console/guest-%s.log", domain);
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return g_strdup_printf("(no %s)", path);
    g_strchomp(text);
    g_auto(GStrv) all = g_strsplit(text, "\n", -1);
    guint n = g_strv_length(all), from = n > lines ? n - lines : 0;
    GString *out = g_string_new(NULL);
    for (guint i = from; i < n; i++) {
        g_strstrip(all[i]);
        g_string_append_printf(out, "%s%s", out->len ? " | " : "", all[i]);
    }
    return g_string_free(out, FALSE);
}

/* Waits for simple-shm's window; checks what dom0 got for it. When it did
 * not come, the check's own line says what dom0 did get and what the agent
 * last logged: a CI excerpt keeps the "not ok" lines, not the comments. */
static struct bh_tdom0_win *shm_window(T *t, struct bh_tdom0 *d, gint64 t0, const char *what)
{
    gboolean shown = bh_tdom0_wait(d, shm_shown, NULL, 90000);
    struct bh_tdom0_win *w = shown ? bh_tdom0_find_shown(d, "simple-shm") : NULL;
    g_autoptr(GString) diag = g_string_new(NULL);
    printf("# agent window after %.1f s: %s\n", (g_get_monotonic_time() - t0) / 1e6, w ? w->title : d->error);
    if (!w) {
        g_string_append_printf(diag, ": after %.1f s, link %s%s, %u windows created",
                               (g_get_monotonic_time() - t0) / 1e6,
                               d->alive ? "alive" : "dead: ", d->alive ? "" : d->error, d->n_created);
        for (size_t i = 0; i < BH_MAX_WINDOWS; i++)
            if (d->wins[i].id)
                g_string_append_printf(diag, "; window %u '%.40s' %ux%u mapped=%d buffer=%d damages=%u",
                                       d->wins[i].id, d->wins[i].title, d->wins[i].width, d->wins[i].height,
                                       d->wins[i].mapped, d->wins[i].has_buf, d->wins[i].n_damage);
        g_autofree char *log = console_tail("work", 4);
        g_string_append_printf(diag, "; the domU's console ends: %s", log);
    }
    check(t,
          w && g_str_equal(w->title, "simple-shm") && w->buf_w == BH_TSHM_SIZE && w->buf_h == BH_TSHM_SIZE &&
              w->format == DRM_FORMAT_ARGB8888 && w->buf.kind == BH_GUI_BUFFER_GRANT,
          "%s: weston-simple-shm's window (title, 250x250 ARGB8888) arrives as a grant buffer, "
          "%u pages mapped read-only by dom0%s",
          what, w ? w->buf.n_refs : 0, diag->str);
    return w;
}

/* Once the stand-in has hung up, the domU starts the real agent with
 * weston-simple-shm. dom0's side is the agent tests' own test dom0
 * (tests/gui-agent-dom0: real decoder, buffers imported as guid does, here
 * with bh_winbuf_import_grant), and every frame is checked pixel for pixel
 * against simple-shm's pattern (bh-test-shm.h), as agent-shm does over
 * sockets, before it is released. Then dom0 hangs up and connects again in
 * guid's order (its HELLO first, before the agent's): the agent must notice
 * the hang-up over the ring, serve again, read what dom0 wrote before it
 * accepted (xen: no second event for those bytes), and announce the window
 * afresh. */
static void agent_test(T *t, libxl_ctx *ctx, uint32_t domid)
{
    char err[256] = "", why[320] = "";
    gboolean damage_ok = FALSE;
    unsigned distinct = 0;
    gint64 t0 = g_get_monotonic_time();
    struct bh_tdom0 *d = bh_tdom0_connect((int)domid, 1920, 1080, 90000, err, sizeof err);
    check(t, d != NULL, "dom0 connects to bulkhead-gui-agent in the domU and gets its HELLO after %.1f s%s%s",
          (g_get_monotonic_time() - t0) / 1e6, d ? "" : ": ", d ? "" : err);
    if (!d)
        return;
    check(t, bh_vchan_transport(d->v) == BH_VCHAN_XEN, "the agent's connection uses the xen transport");
    d->auto_release = FALSE;
    struct bh_tdom0_win *w = shm_window(t, d, t0, "first dom0");
    if (!w) {
        bh_tdom0_free(d);
        return;
    }
    gint64 t1 = g_get_monotonic_time();
    unsigned checked = shm_frames(d, w, AGENT_FRAMES, &damage_ok, &distinct, why, sizeof why);
    double secs = (g_get_monotonic_time() - t1) / 1e6;
    printf("# agent: %u frames checked in %.2f s (%.1f frames/s), %u distinct frame times\n", checked, secs,
           checked / (secs > 0 ? secs : 1), distinct);
    check(t, checked == AGENT_FRAMES,
          "%u frames of simple-shm, each of its 62500 pixels exact as read through the grant pages%s",
          checked, why);
    check(t, checked == AGENT_FRAMES && damage_ok,
          "one DAMAGE per frame after each BUFFER_RELEASE: consecutive serials, simple-shm's inner square");
    check(t, distinct > AGENT_FRAMES / 2, "the frames are new ones (%u distinct frame times)", distinct);
    check(t, !d->violation, "nothing the agent sent was rejected by the decoder%s%s",
          d->violation ? ": " : "", d->violation ? d->error : "");
    bh_tdom0_free(d);

    /* Second dom0, guid's order, with the agent's domain paused from before
     * dom0 connects until its HELLO, SCREEN and KEYMAP are in the ring: the
     * agent then finds the connection and those bytes behind one event, and
     * no further event will come for them. */
    why[0] = '\0';
    t0 = g_get_monotonic_time();
    gboolean published = agent_published(domid, 60);
    gboolean paused = published && libxl_domain_pause(ctx, domid, NULL) == 0;
    d = paused ? bh_tdom0_connect_first((int)domid, 1920, 1080, 10000, err, sizeof err) : NULL;
    gboolean unpaused = paused && libxl_domain_unpause(ctx, domid, NULL) == 0;
    gboolean hello = d && unpaused && bh_tdom0_wait_hello(d, 60000);
    check(t, hello,
          "after dom0 hung up, the agent serves again; a dom0 that connects and sends HELLO, SCREEN, "
          "KEYMAP while the domU is paused gets the agent's HELLO after %.1f s%s%s",
          (g_get_monotonic_time() - t0) / 1e6, hello ? "" : ": ",
          hello        ? ""
          : !published ? "the agent did not serve again"
          : !d         ? err
                       : d->error);
    if (!hello) {
        bh_tdom0_free(d);
        return;
    }
    d->auto_release = FALSE;
    w = shm_window(t, d, t0, "second dom0");
    checked = w ? shm_frames(d, w, 3, &damage_ok, &distinct, why, sizeof why) : 0;
    check(t, checked == 3 && damage_ok && !d->violation,
          "second dom0: 3 more frames, every pixel exact, paced by BUFFER_RELEASE%s", why);
    bh_tdom0_free(d);
}

/* ---- golden configurations with a real libxl context ----------------------------- */

static void golden_test(T *t, libxl_ctx *ctx, const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;
    int files = 0, good = 0;
    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(dir, name, NULL);
        g_autofree char *json = NULL;
        if (!g_str_has_suffix(name, ".json") || !g_file_get_contents(path, &json, NULL, NULL))
            continue;
        files++;
        libxl_domain_config c;
        libxl_domain_config_init(&c);
        if (libxl_domain_config_from_json(ctx, &c, json) == 0) {
            char *again = libxl_domain_config_to_json(ctx, &c);
            if (again && g_str_equal(again, json))
                good++;
            else
                printf("# %s: libxl reads it back differently\n", name);
            free(again);
        } else {
            printf("# %s: libxl cannot parse it\n", name);
        }
        libxl_domain_config_dispose(&c);
    }
    check(t, files > 0 && good == files,
          "libxl (real context) parses all %d golden configurations back to the same JSON", files);
}

/* The same qube as PVH (the product's default mode): it boots under this
 * emulation only because the configuration asks for a native TSC
 * (xen-config.c); its stand-in's window arrives over vchan and grants as
 * with PV, then it is killed. */
static void pvh_test(T *t, libxl_ctx *ctx, BhBackend *backend, const BhBackendQube *pv)
{
    BhBackendQube q = *pv;
    q.virt_mode = "pvh";
    gint64 ts = g_get_monotonic_time();
    gboolean s = start_qube(t, backend, &q, 120);
    check(t, s, "PVH: qube work starts as a PVH domain in %.1f s%s%s", (g_get_monotonic_time() - ts) / 1e6,
          t->error ? ": " : "", t->error ? t->error->message : "");
    uint32_t domid = 0;
    if (!s || libxl_name_to_domid(ctx, "work", &domid) != 0)
        return;
    libxl_domain_config c;
    libxl_domain_config_init(&c);
    gboolean got = libxl_retrieve_domain_configuration(ctx, domid, &c, NULL) == 0;
    check(t, got && c.c_info.type == LIBXL_DOMAIN_TYPE_PVH && c.b_info.tsc_mode == LIBXL_TSC_MODE_NATIVE,
          "PVH: libxl runs domain %u as PVH with tsc_mode native (type %s, tsc_mode %s)", domid,
          got ? libxl_domain_type_to_string(c.c_info.type) : "?",
          got ? libxl_tsc_mode_to_string(c.b_info.tsc_mode) : "?");
    libxl_domain_config_dispose(&c);
    gui_test(t, domid);
    g_string_truncate(t->states, 0);
    gboolean k = bh_backend_kill(backend, "work", NULL);
    gint64 end = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
    while (k && !g_str_has_suffix(t->states->str, "Halted") && g_get_monotonic_time() < end)
        g_main_context_iteration(NULL, TRUE);
    check(t, k && g_str_has_suffix(t->states->str, "Halted"), "PVH: killed (%s)", t->states->str);
}

int main(int argc, char **argv)
{
    T t = {.states = g_string_new(NULL)};
    g_autoptr(GError) error = NULL;
    libxl_ctx *ctx = NULL;
    g_autofree char *path = NULL;
    gint64 t0 = g_get_monotonic_time();

    if (argc < 3 || argc > 4 || (argc == 4 && strcmp(argv[3], "--pvh") != 0)) {
        fprintf(stderr, "usage: %s STATE_DIR GOLDEN_DIR [--pvh]\n", argv[0]);
        return 2;
    }
    gboolean pvh = argc == 4;
    check(&t, bh_xen_running_in_dom0(NULL), "this is dom0 on Xen (/proc/xen/capabilities)");
    xentoollog_logger *lg = (xentoollog_logger *)xtl_createlogger_stdiostream(stderr, XTL_ERROR, 0);
    check(&t, libxl_ctx_alloc(&ctx, LIBXL_VERSION, 0, lg) == 0, "a libxl context opens");
    if (ctx)
        golden_test(&t, ctx, argv[2]);

    BhBackendConfig config = {.state_dir = argv[1], .runtime_dir = "/run", .verbose = TRUE};
    BhBackend *backend = NULL;
    gboolean opened = bh_backend_open("xen", &config, &backend, &error);
    check(&t, opened, "the registry opens the xen backend%s%s", error ? ": " : "",
          error ? error->message : "");
    if (!opened)
        goto out;
    bh_backend_set_state_func(backend, state_changed, &t);
    t.backend = backend;

    BhBackendQube q = {
        .name = "work",
        .qid = 3,
        .klass = "AppVM",
        .label = "blue",
        .template_name = "debian-12",
        .root_template = "debian-12",
        .memory_mib = 160,
        .maxmem_mib = 200,
        .vcpus = 1,
        .virt_mode = "pv",
    };
    g_assert_true(bh_backend_create_volumes(backend, &q, NULL));

    /* Errors from the real toolstack's view. */
    BhBackendQube bad = q;
    bad.netvm = "sys-nope";
    gboolean s = start_qube(&t, backend, &bad, 30);
    check(&t, !s && t.error && strstr(t.error->message, "netvm sys-nope is not running"),
          "a qube whose netvm is not running is refused: %s", t.error ? t.error->message : "(no error)");
    bad = q;
    bad.memory_mib = 8;
    s = start_qube(&t, backend, &bad, 30);
    check(&t, !s && t.error && strstr(t.error->message, "memory is 8 MiB"), "bad memory is refused");

    gint64 ts = g_get_monotonic_time();
    s = start_qube(&t, backend, &q, 120);
    check(&t, s, "qube work starts as a PV domain in %.1f s%s%s", (g_get_monotonic_time() - ts) / 1e6,
          t.error ? ": " : "", t.error ? t.error->message : "");
    check(&t, g_str_equal(t.states->str, "Transient Running"), "states: Transient, Running (%s)",
          t.states->str);
    uint32_t domid = 0;
    gboolean known = ctx && libxl_name_to_domid(ctx, "work", &domid) == 0;
    check(&t, known, "libxl knows domain work (domid %u)", domid);
    /* A start that failed here (libxl's hotplug under a busy emulation)
     * ends this part; the desktop part (bulkheadd) still runs. */
    if (!s)
        goto out;

    struct xs_handle *xs = xs_open(0);
    path = g_strdup_printf("/local/domain/%u/bulkhead/name", domid);
    unsigned len = 0;
    char *v = xs ? xs_read(xs, XBT_NULL, path, &len) : NULL;
    check(&t, v && g_str_equal(v, "work"), "xenstore %s = work", path);
    free(v);
    g_clear_pointer(&path, g_free);
    path = g_strdup_printf("/local/domain/%u/bulkhead/vchan/gui", domid);
    v = xs ? xs_read(xs, XBT_NULL, path, &len) : NULL;
    check(&t, v && g_str_equal(v, "6000"), "xenstore %s = 6000", path);
    free(v);
    if (xs)
        xs_close(xs);

    gui_test(&t, domid);
    agent_test(&t, ctx, domid);

    /* Pause and unpause. */
    g_clear_error(&error);
    libxl_dominfo info;
    libxl_dominfo_init(&info);
    gboolean p = bh_backend_pause(backend, "work", &error);
    gboolean paused = p && libxl_domain_info(ctx, &info, domid) == 0 && info.paused;
    check(&t, paused && bh_backend_get_state(backend, "work") == BH_POWER_PAUSED,
          "pause: libxl says paused, the backend says Paused");
    libxl_dominfo_dispose(&info);
    libxl_dominfo_init(&info);
    gboolean u = bh_backend_unpause(backend, "work", &error);
    check(&t,
          u && libxl_domain_info(ctx, &info, domid) == 0 && !info.paused &&
              bh_backend_get_state(backend, "work") == BH_POWER_RUNNING,
          "unpause: running again");
    libxl_dominfo_dispose(&info);
    check(&t, !bh_backend_unpause(backend, "work", NULL), "unpause of a running qube is refused");

    /* A clean shutdown: the guest's kernel powers off when asked. */
    g_string_truncate(t.states, 0);
    t.done = FALSE;
    ts = g_get_monotonic_time();
    bh_backend_shutdown(backend, "work", 60, NULL, stopped, &t);
    wait_for(&t.done, 90);
    check(&t, t.done && t.ok && g_str_equal(t.states->str, "Halting Halted"),
          "clean shutdown in %.1f s: Halting, Halted, never forced (%s)", (g_get_monotonic_time() - ts) / 1e6,
          t.states->str);
    check(&t, libxl_name_to_domid(ctx, "work", &domid) != 0, "the domain is gone");

    /* Start again and kill. */
    s = start_qube(&t, backend, &q, 120);
    check(&t, s, "qube work starts again");
    g_string_truncate(t.states, 0);
    gboolean k = bh_backend_kill(backend, "work", &error);
    gboolean halted = FALSE;
    gint64 end = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
    while (k && !(halted = g_str_has_suffix(t.states->str, "Halted")) && g_get_monotonic_time() < end)
        g_main_context_iteration(NULL, TRUE);
    check(&t, k && halted, "kill: Dying, then Halted from libxl's death event (%s)", t.states->str);
    check(&t, bh_backend_get_state(backend, "work") == BH_POWER_HALTED, "get_state: Halted");
    if (pvh)
        pvh_test(&t, ctx, backend, &q);
    check(&t, bh_backend_remove_volumes(backend, "work", NULL), "its volumes can be removed");
out:
    bh_backend_free(backend);
    if (ctx)
        libxl_ctx_free(ctx);
    printf("1..%d\n# dom0 test: %d of %d failed, %.1f s\n", t.n, t.failed, t.n,
           (g_get_monotonic_time() - t0) / 1e6);
    fflush(stdout);
    return t.failed ? 1 : 0;
}
