/* x11-hostile.c — a hostile X client for sandbox-x11.sh, run inside a qube
 * against its Xwayland: `x11-hostile flood N` maps N windows at once (each
 * with a title full of control characters and escape sequences, 4 KiB
 * long, and absurd size hints: minimum 100000x100000, maximum 1x1), then
 * stays connected until killed. It prints "mapped N" when done.
 * `x11-hostile flood N paced` maps them 10 at a time, 50 ms apart (what an
 * application opening many windows does).
 *
 * As a CLIPBOARD owner (sandbox-x11-clipboard.sh), it prints "owned" once it
 * owns CLIPBOARD and exits when another client takes it:
 *   own FILE CHUNK     serves FILE's bytes as text (UTF8_STRING, STRING,
 *                      text/plain;charset=utf-8), by INCR in CHUNK-byte
 *                      pieces when FILE is longer (CHUNK 0: never INCR);
 *   own-targets N FILE the same, its TARGETS list N atoms long: UTF8_STRING
 *                      first, then names of escapes, control bytes, 300-byte
 *                      names and fake MIME types;
 *   own-silent         owns it and never answers a request;
 *   own-endless        answers every request with INCR chunks of 32 KiB of
 *                      'A' that never end.
 *
 * As a requestor of CLIPBOARD's MULTIPLE target (ICCCM 2.6.2), it prints
 * what the owner answered ("multiple: answered PROP" or "multiple: refused",
 * then "pair TARGET -> PROP: ..." per pair) and exits:
 *   multiple OUT       pairs UTF8_STRING, TARGETS, TIMESTAMP, a type nobody
 *                      offers, MULTIPLE itself, UTF8_STRING again into the
 *                      first property; the text (INCR too) goes to OUT;
 *   multiple-flood N   N pairs (UTF8_STRING into one property);
 *   multiple-notype    a list of 8-bit STRING instead of ATOM_PAIR.
 *
 * Owns: nothing but its own X connection. Must never: be used outside a
 * test. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xcb/xcb.h>

static xcb_atom_t atom(xcb_connection_t *c, const char *name, size_t len)
{
    xcb_intern_atom_reply_t *r = xcb_intern_atom_reply(c, xcb_intern_atom(c, 0, (uint16_t)len, name), NULL);
    xcb_atom_t a = r ? r->atom : XCB_ATOM_NONE;
    free(r);
    return a;
}
#define ATOM(c, s) atom((c), (s), strlen(s))

static void notify(xcb_connection_t *c, xcb_selection_request_event_t *e, xcb_atom_t property)
{
    xcb_selection_notify_event_t ev = {.response_type = XCB_SELECTION_NOTIFY,
                                       .time = e->time,
                                       .requestor = e->requestor,
                                       .selection = e->selection,
                                       .target = e->target,
                                       .property = property};
    xcb_send_event(c, 0, e->requestor, XCB_EVENT_MASK_NO_EVENT, (const char *)&ev);
}

/* One INCR transfer at a time is enough for the tests. */
struct incr {
    xcb_window_t requestor;
    xcb_atom_t property, type;
    size_t off;
    int active, sent_end;
};

static int own(xcb_connection_t *c, xcb_screen_t *s, const char *mode, const char *file, size_t chunk,
               int n_targets)
{
    static char data[16 << 20];
    size_t len = 0;
    if (file) {
        FILE *f = fopen(file, "rb");
        if (!f) {
            perror(file);
            return 1;
        }
        len = fread(data, 1, sizeof(data), f);
        fclose(f);
    }
    int endless = strcmp(mode, "own-endless") == 0, silent = strcmp(mode, "own-silent") == 0;
    if (endless) {
        memset(data, 'A', 32 * 1024);
        chunk = 32 * 1024;
    }
    xcb_atom_t clipboard = ATOM(c, "CLIPBOARD"), targets = ATOM(c, "TARGETS"), incr_atom = ATOM(c, "INCR"),
               utf8 = ATOM(c, "UTF8_STRING"), mime = ATOM(c, "text/plain;charset=utf-8");
    /* The TARGETS list: the usual one, or a hostile one n_targets long. */
    xcb_atom_t usual[] = {targets, utf8, XCB_ATOM_STRING, mime};
    xcb_atom_t *list = usual;
    uint32_t n_list = 4;
    if (n_targets > 0) {
        list = calloc((size_t)n_targets, sizeof(*list));
        list[0] = utf8;
        for (int i = 1; i < n_targets; i++) {
            char name[400];
            switch (i % 4) {
            case 0:
                snprintf(name, sizeof(name),
                         "\x1b[2J\x1b]52;c;ZXZpbA==\x07"
                         "bad/%d",
                         i);
                break;
            case 1:
                snprintf(name, sizeof(name), "application/x-bh-%d", i);
                break;
            case 2:
                memset(name, 'x', 300);
                snprintf(name + 300, 100, "/%d", i);
                break;
            default:
                snprintf(name, sizeof(name), "text/\x01\x02\n%d", i);
            }
            list[i] = ATOM(c, name);
        }
        n_list = (uint32_t)n_targets;
    }
    xcb_window_t w = xcb_generate_id(c);
    uint32_t mask = XCB_EVENT_MASK_PROPERTY_CHANGE;
    xcb_create_window(c, 0, w, s->root, 0, 0, 1, 1, 0, XCB_WINDOW_CLASS_INPUT_ONLY, XCB_COPY_FROM_PARENT,
                      XCB_CW_EVENT_MASK, &mask);
    xcb_set_selection_owner(c, w, clipboard, XCB_CURRENT_TIME);
    free(xcb_get_input_focus_reply(c, xcb_get_input_focus(c), NULL));
    printf("owned\n");
    fflush(stdout);
    struct incr t = {0};
    xcb_generic_event_t *ev;
    while ((ev = xcb_wait_for_event(c))) {
        switch (ev->response_type & 0x7f) {
        case XCB_SELECTION_CLEAR:
            printf("lost\n");
            return 0;
        case XCB_SELECTION_REQUEST: {
            xcb_selection_request_event_t *e = (xcb_selection_request_event_t *)ev;
            xcb_atom_t prop = e->property ? e->property : e->target;
            if (silent)
                break;
            if (e->target == targets) {
                xcb_change_property(c, XCB_PROP_MODE_REPLACE, e->requestor, prop, XCB_ATOM_ATOM, 32, n_list,
                                    list);
                notify(c, e, prop);
            } else if (e->target == utf8 || e->target == XCB_ATOM_STRING || e->target == mime) {
                if ((chunk && len > chunk) || endless) {
                    /* INCR: the size, then a chunk each time the requestor
                     * deletes the property. */
                    uint32_t words = XCB_EVENT_MASK_PROPERTY_CHANGE;
                    xcb_change_window_attributes(c, e->requestor, XCB_CW_EVENT_MASK, &words);
                    uint32_t size = (uint32_t)len;
                    xcb_change_property(c, XCB_PROP_MODE_REPLACE, e->requestor, prop, incr_atom, 32, 1,
                                        &size);
                    t = (struct incr){e->requestor, prop, e->target, 0, 1, 0};
                } else {
                    xcb_change_property(c, XCB_PROP_MODE_REPLACE, e->requestor, prop, e->target, 8,
                                        (uint32_t)len, data);
                }
                notify(c, e, prop);
            } else {
                notify(c, e, XCB_ATOM_NONE);
            }
            break;
        }
        case XCB_PROPERTY_NOTIFY: {
            xcb_property_notify_event_t *e = (xcb_property_notify_event_t *)ev;
            if (!t.active || e->window != t.requestor || e->atom != t.property ||
                e->state != XCB_PROPERTY_DELETE)
                break;
            size_t n = endless ? chunk : (len - t.off < chunk ? len - t.off : chunk);
            xcb_change_property(c, XCB_PROP_MODE_REPLACE, t.requestor, t.property, t.type, 8, (uint32_t)n,
                                data + (endless ? 0 : t.off));
            t.off += n;
            if (n == 0)
                t.active = 0; /* the zero-length chunk ends it */
            break;
        }
        default:
            break;
        }
        free(ev);
        xcb_flush(c);
    }
    return 1;
}

/* The next event of type (a SelectionNotify, a PropertyNotify of atom
 * new_value), at most 10 s: NULL on silence. */
static xcb_generic_event_t *next_event(xcb_connection_t *c, uint8_t type, xcb_atom_t atom)
{
    for (;;) {
        xcb_generic_event_t *ev;
        while ((ev = xcb_poll_for_event(c))) {
            if ((ev->response_type & 0x7f) == type &&
                (type != XCB_PROPERTY_NOTIFY ||
                 (((xcb_property_notify_event_t *)ev)->atom == atom &&
                  ((xcb_property_notify_event_t *)ev)->state == XCB_PROPERTY_NEW_VALUE)))
                return ev;
            free(ev);
        }
        struct pollfd p = {.fd = xcb_get_file_descriptor(c), .events = POLLIN};
        if (poll(&p, 1, 10000) <= 0 || xcb_connection_has_error(c))
            return NULL;
    }
}

static void print_atom(xcb_connection_t *c, xcb_atom_t a)
{
    if (a == XCB_ATOM_NONE) {
        printf("None");
        return;
    }
    xcb_get_atom_name_reply_t *r = xcb_get_atom_name_reply(c, xcb_get_atom_name(c, a), NULL);
    printf("%.*s", r ? xcb_get_atom_name_name_length(r) : 1, r ? xcb_get_atom_name_name(r) : "?");
    free(r);
}

static int multiple(xcb_connection_t *c, xcb_screen_t *s, const char *mode, const char *out, int n_flood)
{
    xcb_atom_t clip = ATOM(c, "CLIPBOARD"), mult = ATOM(c, "MULTIPLE"), utf8 = ATOM(c, "UTF8_STRING"),
               incr = ATOM(c, "INCR"), list = ATOM(c, "_BH_PAIRS");
    xcb_atom_t p[3] = {ATOM(c, "_BH_M0"), ATOM(c, "_BH_M1"), ATOM(c, "_BH_M2")};
    xcb_window_t w = xcb_generate_id(c);
    uint32_t mask = XCB_EVENT_MASK_PROPERTY_CHANGE;
    xcb_create_window(c, 0, w, s->root, 0, 0, 1, 1, 0, XCB_WINDOW_CLASS_INPUT_ONLY, XCB_COPY_FROM_PARENT,
                      XCB_CW_EVENT_MASK, &mask);
    if (strcmp(mode, "multiple-notype") == 0) {
        xcb_change_property(c, XCB_PROP_MODE_REPLACE, w, list, XCB_ATOM_STRING, 8, 9, "not pairs");
    } else if (n_flood > 0) {
        uint32_t *pairs = malloc((size_t)n_flood * 8);
        for (int i = 0; i < n_flood; i++)
            pairs[2 * i] = utf8, pairs[2 * i + 1] = p[0];
        xcb_change_property(c, XCB_PROP_MODE_REPLACE, w, list, ATOM(c, "ATOM_PAIR"), 32,
                            (uint32_t)n_flood * 2, pairs);
        free(pairs);
    } else {
        uint32_t pairs[] = {utf8,
                            p[0],
                            ATOM(c, "TARGETS"),
                            p[1],
                            ATOM(c, "TIMESTAMP"),
                            p[2],
                            ATOM(c, "application/x-bh-nobody"),
                            ATOM(c, "_BH_M3"),
                            mult,
                            ATOM(c, "_BH_M4"),
                            utf8,
                            p[0]};
        xcb_change_property(c, XCB_PROP_MODE_REPLACE, w, list, ATOM(c, "ATOM_PAIR"), 32,
                            sizeof(pairs) / sizeof(pairs[0]), pairs);
    }
    xcb_convert_selection(c, w, clip, mult, list, XCB_CURRENT_TIME);
    xcb_flush(c);
    xcb_selection_notify_event_t *e = (xcb_selection_notify_event_t *)next_event(c, XCB_SELECTION_NOTIFY, 0);
    if (!e) {
        printf("multiple: no answer in 10 s\n");
        return 1;
    }
    if (e->property == XCB_ATOM_NONE) {
        printf("multiple: refused\n");
        free(e);
        return 0;
    }
    printf("multiple: answered ");
    print_atom(c, e->property);
    printf("\n");
    free(e);
    xcb_get_property_reply_t *r =
        xcb_get_property_reply(c, xcb_get_property(c, 1, w, list, XCB_GET_PROPERTY_TYPE_ANY, 0, 1024), NULL);
    size_t n = r && r->format == 32 ? (size_t)xcb_get_property_value_length(r) / 8 : 0;
    uint32_t *pairs = r ? xcb_get_property_value(r) : NULL;
    for (size_t i = 0; i < n; i++) {
        printf("pair ");
        print_atom(c, pairs[2 * i]);
        printf(" -> ");
        print_atom(c, pairs[2 * i + 1]);
        if (pairs[2 * i + 1] != XCB_ATOM_NONE) {
            xcb_atom_t prop = pairs[2 * i + 1];
            xcb_get_property_reply_t *v = xcb_get_property_reply(
                c, xcb_get_property(c, 1, w, prop, XCB_GET_PROPERTY_TYPE_ANY, 0, 1 << 20), NULL);
            if (v && v->type == incr) {
                /* Deleting it (above) asked for the chunks: each is read
                 * and deleted until an empty one. */
                FILE *f = fopen(out, "wb");
                size_t total = 0;
                for (;;) {
                    xcb_generic_event_t *ev = next_event(c, XCB_PROPERTY_NOTIFY, prop);
                    if (!ev)
                        break;
                    free(ev);
                    xcb_get_property_reply_t *ch = xcb_get_property_reply(
                        c, xcb_get_property(c, 1, w, prop, XCB_GET_PROPERTY_TYPE_ANY, 0, 1 << 20), NULL);
                    int len = ch ? xcb_get_property_value_length(ch) : 0;
                    if (f && len > 0)
                        fwrite(xcb_get_property_value(ch), 1, (size_t)len, f);
                    total += (size_t)len;
                    free(ch);
                    if (len == 0)
                        break;
                }
                if (f)
                    fclose(f);
                printf(": %zu bytes by INCR", total);
            } else if (v && v->type == utf8) {
                FILE *f = fopen(out, "wb");
                if (f) {
                    fwrite(xcb_get_property_value(v), 1, (size_t)xcb_get_property_value_length(v), f);
                    fclose(f);
                }
                printf(": %d bytes", xcb_get_property_value_length(v));
            } else if (v) {
                printf(": %d items of ", v->format ? xcb_get_property_value_length(v) * 8 / v->format : 0);
                print_atom(c, v->type);
            }
            free(v);
        }
        printf("\n");
    }
    free(r);
    return 0;
}

int main(int argc, char **argv)
{
    int flood = argc >= 3 && argc <= 4 && strcmp(argv[1], "flood") == 0;
    int owner = argc >= 2 && strncmp(argv[1], "own", 3) == 0;
    int requestor = argc >= 2 && strncmp(argv[1], "multiple", 8) == 0;
    if (!flood && !owner && !requestor) {
        fprintf(stderr, "usage: x11-hostile flood N [paced] | own FILE CHUNK | own-targets N FILE | "
                        "own-silent | own-endless | multiple OUT | multiple-flood N | multiple-notype\n");
        return 2;
    }
    xcb_connection_t *c = xcb_connect(NULL, NULL);
    if (xcb_connection_has_error(c)) {
        fprintf(stderr, "x11-hostile: cannot connect to X\n");
        return 1;
    }
    xcb_screen_t *s = xcb_setup_roots_iterator(xcb_get_setup(c)).data;
    if (strcmp(argv[1], "own") == 0 && argc == 4)
        return own(c, s, argv[1], argv[2], (size_t)atol(argv[3]), 0);
    if (strcmp(argv[1], "own-targets") == 0 && argc == 4)
        return own(c, s, argv[1], argv[3], 0, atoi(argv[2]));
    if (strcmp(argv[1], "own-silent") == 0 || strcmp(argv[1], "own-endless") == 0)
        return own(c, s, argv[1], NULL, 0, 0);
    if (strcmp(argv[1], "multiple") == 0 && argc == 3)
        return multiple(c, s, argv[1], argv[2], 0);
    if (strcmp(argv[1], "multiple-flood") == 0 && argc == 3)
        return multiple(c, s, argv[1], "/dev/null", atoi(argv[2]));
    if (strcmp(argv[1], "multiple-notype") == 0)
        return multiple(c, s, argv[1], "/dev/null", 0);
    if (!flood)
        return 2;
    int n = atoi(argv[2]);
    int paced = argc == 4 && strcmp(argv[3], "paced") == 0;
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
