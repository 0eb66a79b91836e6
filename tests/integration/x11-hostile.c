/* x11-hostile.c — a hostile X client for sandbox-x11.sh, run inside a qube
 * against its Xwayland: `x11-hostile flood N` maps N windows at once (each
 * with a title full of control characters and escape sequences, 4 KiB
 * long, and absurd size hints: minimum 100000x100000, maximum 1x1), then
 * stays connected until killed. It prints "mapped N" when done.
 * `x11-hostile flood N paced` maps them 10 at a time, 50 ms apart (what an
 * application opening many windows does; a burst of 1 000 makes Xwayland
 * 22.1 itself give up, see docs/gui-agent.md).
 *
 * Owns: nothing but its own X connection. Must never: be used outside a
 * test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xcb/xcb.h>

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4 || strcmp(argv[1], "flood") != 0) {
        fprintf(stderr, "usage: x11-hostile flood N [paced]\n");
        return 2;
    }
    int n = atoi(argv[2]);
    int paced = argc == 4 && strcmp(argv[3], "paced") == 0;
    xcb_connection_t *c = xcb_connect(NULL, NULL);
    if (xcb_connection_has_error(c)) {
        fprintf(stderr, "x11-hostile: cannot connect to X\n");
        return 1;
    }
    xcb_screen_t *s = xcb_setup_roots_iterator(xcb_get_setup(c)).data;
    /* A title of control characters, an ANSI clear-screen, an OSC 52 and a
     * fake "[dom0]" prefix, repeated to 4 KiB. */
    static const char piece[] = "\x1b[2J\x1b]52;c;ZXZpbA==\x07\r\n\t\x01\x7f[dom0] bank ";
    char title[4096];
    for (size_t i = 0; i < sizeof(title); i++)
        title[i] = piece[i % (sizeof(piece) - 1)];
    /* WM_NORMAL_HINTS: flags PMinSize|PMaxSize, min 100000x100000, max 1x1. */
    uint32_t hints[18] = {0};
    hints[0] = (1u << 4) | (1u << 5);
    hints[5] = hints[6] = 100000;
    hints[7] = hints[8] = 1;
    uint32_t white = s->white_pixel;
    for (int i = 0; i < n; i++) {
        xcb_window_t w = xcb_generate_id(c);
        xcb_create_window(c, XCB_COPY_FROM_PARENT, w, s->root, i % 200, i % 150, 60, 40, 0,
                          XCB_WINDOW_CLASS_INPUT_OUTPUT, s->root_visual, XCB_CW_BACK_PIXEL, &white);
        xcb_change_property(c, XCB_PROP_MODE_REPLACE, w, XCB_ATOM_WM_NAME, XCB_ATOM_STRING, 8, sizeof(title),
                            title);
        xcb_change_property(c, XCB_PROP_MODE_REPLACE, w, XCB_ATOM_WM_NORMAL_HINTS, XCB_ATOM_WM_SIZE_HINTS, 32,
                            18, hints);
        xcb_map_window(c, w);
        if (paced && i % 10 == 9) {
            free(xcb_get_input_focus_reply(c, xcb_get_input_focus(c), NULL));
            usleep(50000);
        }
    }
    /* A round trip: every request above was handled. */
    free(xcb_get_input_focus_reply(c, xcb_get_input_focus(c), NULL));
    printf("mapped %d\n", n);
    fflush(stdout);
    for (;;)
        pause();
}
