/* xen-guest-client.c — runs in the domU of the QEMU test: a stand-in for the
 * gui-agent that speaks the real protocol over the real transport.
 *
 * It is the vchan server on BH_GUI_VCHAN_PORT (as the agent is), does the
 * handshake, then shows one window whose pixels live in pages granted to
 * dom0: CREATE, TITLE (its qube name read from xenstore, plus what it was
 * told about its disks), BUFFER(grant), MAP, DAMAGE of the whole frame, and
 * after dom0's BUFFER_RELEASE a second frame damaging one rectangle. The
 * pixel pattern is known to the dom0 side (xen-dom0-test.c), which checks
 * every damaged pixel. Uses core/proto and core/vchan only, like the agent.
 *
 * Usage: bh-xen-guest-client "DISK FACTS"   (prints progress on stderr)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xenstore.h>

#include "bulkhead/proto.h"
#include "bulkhead/vchan.h"
#include "bulkhead/winbuf.h"
#include "xen-test-pattern.h"
#include "xen-test-wire.h"

#define LOG(...) fprintf(stderr, "guest-client: " __VA_ARGS__)

static uint8_t rx[BH_MAX_MSG_BYTES];

#define send_msg bh_test_send

static int recv_msg(struct bh_vchan *v, struct bh_gui_windows *w, struct bh_gui_msg *m)
{
    return bh_test_recv(v, BH_GUI_FROM_DOM0, w, m, rx);
}

static int wait_release(struct bh_vchan *v, struct bh_gui_windows *w, uint32_t serial)
{
    struct bh_gui_msg m;

    for (;;) {
        if (recv_msg(v, w, &m) < 0)
            return -1;
        if (m.type == BH_GUI_BUFFER_RELEASE && m.u.buffer_release.serial >= serial)
            return 0;
    }
}

static char *own_name(void)
{
    struct xs_handle *xs = xs_open(0);
    unsigned len = 0;
    char *name = NULL;

    if (xs) {
        name = xs_read(xs, XBT_NULL, "bulkhead/name", &len); /* relative: our own domain */
        xs_close(xs);
    }
    return name;
}

int main(int argc, char **argv)
{
    int rc = 1;
    struct bh_vchan *v = NULL;
    struct bh_winbuf buf = {0};
    struct bh_gui_windows w;
    struct bh_gui_msg m;
    char *name = own_name();
    char title[BH_MAX_TITLE_BYTES];
    const uint32_t win = 1;

    bh_gui_windows_init(&w);
    snprintf(title, sizeof title, "name=%s %s", name ? name : "?", argc > 1 ? argv[1] : "");
    LOG("qube name from xenstore: %s\n", name ? name : "(none)");

    v = bh_vchan_server_init(0, BH_GUI_VCHAN_PORT, 0, 0);
    if (!v) {
        LOG("vchan server: %s\n", strerror(errno));
        goto out;
    }
    while (bh_vchan_is_open(v) == BH_VCHAN_WAITING)
        if (bh_vchan_wait(v) < 0)
            goto out;
    LOG("dom0 connected\n");

    struct bh_gui_hello hello = {.version = BH_GUI_PROTOCOL_VERSION};
    if (send_msg(v, BH_GUI_HELLO, 0, &hello, sizeof hello, NULL, 0) < 0)
        goto out;
    /* dom0: HELLO, SCREEN, KEYMAP. */
    for (int i = 0; i < 3; i++)
        if (recv_msg(v, &w, &m) < 0)
            goto out;

    size_t stride = BH_TEST_WIDTH * 4, size = stride * BH_TEST_HEIGHT;
    if (bh_winbuf_export_grant(&buf, 0, size) < 0) {
        LOG("grant export: %s\n", strerror(errno));
        goto out;
    }
    bh_test_pattern_fill(buf.map, stride, 0, 0, BH_TEST_WIDTH, BH_TEST_HEIGHT, 1);

    struct bh_gui_create create = {.width = BH_TEST_WIDTH, .height = BH_TEST_HEIGHT};
    struct bh_gui_buffer info = {
        .width = BH_TEST_WIDTH,
        .height = BH_TEST_HEIGHT,
        .stride = (uint32_t)stride,
        .format = BH_TEST_FORMAT,
        .kind = BH_GUI_BUFFER_GRANT,
        .n_refs = buf.n_refs,
    };
    struct bh_gui_map map = {0};
    struct {
        struct bh_gui_damage d;
        struct bh_gui_rect r;
    } dmg = {{.serial = 1, .n_rects = 1}, {0, 0, BH_TEST_WIDTH, BH_TEST_HEIGHT}};

    if (send_msg(v, BH_GUI_CREATE, win, &create, sizeof create, NULL, 0) < 0 ||
        send_msg(v, BH_GUI_TITLE, win, title, strlen(title), NULL, 0) < 0 ||
        send_msg(v, BH_GUI_BUFFER, win, &info, sizeof info, buf.refs, buf.n_refs * sizeof(uint32_t)) < 0 ||
        send_msg(v, BH_GUI_MAP, win, &map, sizeof map, NULL, 0) < 0 ||
        send_msg(v, BH_GUI_DAMAGE, win, &dmg, sizeof dmg, NULL, 0) < 0 || wait_release(v, &w, 1) < 0)
        goto out;
    LOG("frame 1 released (%u grant refs)\n", buf.n_refs);

    /* Frame 2: only one rectangle changes, and only it is damaged. */
    struct bh_gui_rect r = BH_TEST_RECT2;
    bh_test_pattern_fill(buf.map, stride, r.x, r.y, r.width, r.height, 2);
    dmg.d.serial = 2;
    dmg.r = r;
    if (send_msg(v, BH_GUI_DAMAGE, win, &dmg, sizeof dmg, NULL, 0) < 0 || wait_release(v, &w, 2) < 0)
        goto out;
    LOG("frame 2 released\n");

    /* Until dom0 hangs up: the mapping must stay valid while it looks. */
    while (bh_vchan_is_open(v) == BH_VCHAN_CONNECTED && bh_vchan_wait(v) == 0)
        while (bh_vchan_data_ready(v) && recv_msg(v, &w, &m) == 0)
            ;
    rc = 0;
out:
    bh_winbuf_release(&buf);
    bh_vchan_close(v);
    free(name);
    LOG("done (%d)\n", rc);
    return rc;
}
