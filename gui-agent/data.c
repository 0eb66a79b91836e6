/* data.c — wl_data_device_manager (selection only) and the clipboard bridge
 * to dom0.
 *
 * Owns: data sources and offers, the current selection, the pipes that read
 * the selection for dom0 (CLIPBOARD_REQ) and that feed dom0's data to
 * clients (CLIPBOARD_DATA and CLIPBOARD_IMAGE make the agent the selection
 * owner). Text goes as text; an image (image/png) is decoded here, inside
 * the qube, and goes as pixels in a sealed memfd; an image from dom0 is
 * encoded to PNG here and offered as image/png; a selection holding
 * neither is answered with OTHER_TYPE so dom0 can say why nothing came.
 * Must never: block on a client's pipe, read more than
 * BH_MAX_CLIPBOARD_BYTES of text or BH_CLIP_PNG_MAX_BYTES of PNG, send dom0
 * anything but valid UTF-8 or pixels, or keep an unbounded number of pipes
 * open for clients.
 *
 * Drag and drop is not offered: start_drag cancels the source at once. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <wayland-server-protocol.h>

#include "bulkhead/winbuf.h"
#include "clip-png.h"

#define MOD                 "clipboard"
#define DATA_DEVICE_VERSION 3
#define MAX_MIME_TYPES      64
#define MAX_MIME_BYTES      256
#define MAX_WRITERS         16
/* A client that does not deliver its selection within this is skipped. */
#define READ_TIMEOUT_MS 3000

/* A drag icon is never shown (no drag leaves the qube): no hooks, so its
 * frame callbacks go to the slow timer. */
static const struct bh_surface_role dnd_icon_role = {.name = "drag icon"};

/* dom0's text or PNG, shared by every pipe feeding it to a client. */
struct bh_blob {
    unsigned refs;
    size_t len;
    uint8_t data[];
};

struct bh_data_source {
    struct bh_agent *agent;
    struct wl_resource *resource; /* NULL for dom0's source */
    char *mimes[MAX_MIME_TYPES];
    unsigned n_mimes;
    struct wl_list offers; /* bh_data_offer.link */
    struct bh_blob *blob;  /* dom0's source only */
    bool image;            /* dom0's source: blob is image/png */
    /* An agent-side owner (X11's CLIPBOARD through xwm-selection.c): it
     * serves the data itself. */
    const struct bh_data_source_ops *ops;
    void *ops_data;
};

struct bh_data_offer {
    struct wl_resource *resource;
    struct bh_data_source *source; /* NULL once the source is gone */
    struct wl_list link;
};

struct bh_clip_writer {
    struct bh_agent *agent;
    struct wl_list link;
    int fd;
    struct bh_blob *blob;
    size_t off;
    struct wl_event_source *src;
};

struct bh_clip_read {
    struct bh_agent *agent;
    int fd;
    struct wl_event_source *src, *timer;
    uint32_t request; /* the newest CLIPBOARD_REQ this read answers */
    bool image;       /* reading image/png, else text */
    size_t len, alloc, max;
    bool truncated;
    uint8_t *buf; /* grows to max: BH_MAX_CLIPBOARD_BYTES or BH_CLIP_PNG_MAX_BYTES */
};

static const char *const text_mimes[] = {
    "text/plain;charset=utf-8", "UTF8_STRING", "text/plain", "TEXT", "STRING",
};
#define IMAGE_MIME "image/png"

static void blob_unref(struct bh_blob *b)
{
    if (b && --b->refs == 0)
        free(b);
}

/* ---- sources ---------------------------------------------------------------- */

static void source_free(struct bh_data_source *src)
{
    struct bh_data_offer *o, *tmp;
    wl_list_for_each_safe(o, tmp, &src->offers, link)
    {
        o->source = NULL;
        wl_list_remove(&o->link);
        wl_list_init(&o->link);
    }
    for (unsigned i = 0; i < src->n_mimes; i++)
        free(src->mimes[i]);
    blob_unref(src->blob);
    free(src);
}

static void announce_selection(struct bh_agent *a);

static void set_selection(struct bh_agent *a, struct bh_data_source *src)
{
    struct bh_data *d = &a->data;
    if (d->selection == src)
        return;
    struct bh_data_source *old = d->selection;
    d->selection = src;
    if (old) {
        if (old->resource)
            wl_data_source_send_cancelled(old->resource);
        else {
            /* dom0's source has no resource to outlive it. */
            if (d->dom0_source == old)
                d->dom0_source = NULL;
            source_free(old);
        }
    }
    announce_selection(a);
    bh_signal_emit_safe(&a->events.selection_changed, src);
}

static void source_offer(struct wl_client *client, struct wl_resource *resource, const char *mime)
{
    struct bh_data_source *src = wl_resource_get_user_data(resource);
    /* Bounded: extra or oversized types are dropped, not an error. */
    if (src->n_mimes == MAX_MIME_TYPES || strlen(mime) > MAX_MIME_BYTES)
        return;
    char *m = strdup(mime);
    if (!m) {
        wl_client_post_no_memory(client);
        return;
    }
    src->mimes[src->n_mimes++] = m;
}

static void source_set_actions(struct wl_client *client, struct wl_resource *resource, uint32_t actions)
{
    /* Drag and drop only. */
}

static const struct wl_data_source_interface source_impl = {
    .offer = source_offer,
    .destroy = bh_request_destroy,
    .set_actions = source_set_actions,
};

static void source_resource_destroy(struct wl_resource *resource)
{
    struct bh_data_source *src = wl_resource_get_user_data(resource);
    struct bh_agent *a = src->agent;
    if (a->data.selection == src) {
        a->data.selection = NULL;
        announce_selection(a);
        bh_signal_emit_safe(&a->events.selection_changed, NULL);
    }
    source_free(src);
}

/* ---- offers ---------------------------------------------------------------------- */

static void writer_free(struct bh_clip_writer *w)
{
    wl_list_remove(&w->link);
    if (w->src)
        wl_event_source_remove(w->src);
    close(w->fd);
    blob_unref(w->blob);
    free(w);
}

static int writer_cb(int fd, uint32_t mask, void *data)
{
    struct bh_clip_writer *w = data;
    while (w->off < w->blob->len) {
        ssize_t n = write(fd, w->blob->data + w->off, w->blob->len - w->off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return 0;
        if (n <= 0)
            break; /* the reader went away: nothing to do */
        w->off += (size_t)n;
    }
    writer_free(w);
    return 0;
}

static void serve_dom0_text(struct bh_agent *a, struct bh_blob *blob, int fd)
{
    struct bh_data *d = &a->data;
    struct bh_clip_writer *w = NULL;

    if (wl_list_length(&d->writers) >= MAX_WRITERS) {
        /* A client asking again and again without reading: the oldest pipe goes. */
        struct bh_clip_writer *oldest = wl_container_of(d->writers.next, oldest, link);
        writer_free(oldest);
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || !(w = calloc(1, sizeof(*w)))) {
        close(fd);
        return;
    }
    w->agent = a;
    w->fd = fd;
    w->blob = blob;
    blob->refs++;
    wl_list_insert(d->writers.prev, &w->link);
    w->src = wl_event_loop_add_fd(a->loop, fd, WL_EVENT_WRITABLE, writer_cb, w);
    if (!w->src)
        writer_free(w);
}

/* The source's data as `mime` into fd (taken): a client's source writes it
 * itself, an agent-side one is asked, dom0's is fed from here. */
static void source_send(struct bh_data_source *src, const char *mime, int fd)
{
    if (src->resource) {
        wl_data_source_send_send(src->resource, mime, fd);
        close(fd);
    } else if (src->ops) {
        src->ops->send(src->ops_data, mime, fd);
    } else {
        serve_dom0_text(src->agent, src->blob, fd);
    }
}

static void offer_accept(struct wl_client *client, struct wl_resource *resource, uint32_t serial,
                         const char *mime)
{
}

static void offer_receive(struct wl_client *client, struct wl_resource *resource, const char *mime,
                          int32_t fd)
{
    struct bh_data_offer *o = wl_resource_get_user_data(resource);
    struct bh_data_source *src = o->source;
    if (!src) {
        close(fd);
        return;
    }
    source_send(src, mime, fd);
}

static void offer_finish(struct wl_client *client, struct wl_resource *resource)
{
    wl_resource_post_error(resource, WL_DATA_OFFER_ERROR_INVALID_FINISH, "finish on a selection offer");
}

static void offer_set_actions(struct wl_client *client, struct wl_resource *resource, uint32_t actions,
                              uint32_t preferred)
{
}

static const struct wl_data_offer_interface offer_impl = {
    .accept = offer_accept,
    .receive = offer_receive,
    .destroy = bh_request_destroy,
    .finish = offer_finish,
    .set_actions = offer_set_actions,
};

static void offer_resource_destroy(struct wl_resource *resource)
{
    struct bh_data_offer *o = wl_resource_get_user_data(resource);
    wl_list_remove(&o->link);
    free(o);
}

static void send_selection_to(struct bh_agent *a, struct wl_resource *device)
{
    struct bh_data_source *src = a->data.selection;
    if (!src) {
        wl_data_device_send_selection(device, NULL);
        return;
    }
    struct wl_client *client = wl_resource_get_client(device);
    struct bh_data_offer *o = calloc(1, sizeof(*o));
    if (!o) {
        wl_client_post_no_memory(client);
        return;
    }
    o->resource = wl_resource_create(client, &wl_data_offer_interface, wl_resource_get_version(device), 0);
    if (!o->resource) {
        free(o);
        wl_client_post_no_memory(client);
        return;
    }
    o->source = src;
    wl_list_insert(&src->offers, &o->link);
    wl_resource_set_implementation(o->resource, &offer_impl, o, offer_resource_destroy);
    wl_data_device_send_data_offer(device, o->resource);
    for (unsigned i = 0; i < src->n_mimes; i++)
        wl_data_offer_send_offer(o->resource, src->mimes[i]);
    wl_data_device_send_selection(device, o->resource);
}

void bh_data_focus_client(struct bh_agent *a, struct wl_client *client)
{
    struct wl_resource *r;
    if (!client)
        return;
    wl_resource_for_each(r, &a->data.devices) if (wl_resource_get_client(r) == client)
        send_selection_to(a, r);
}

/* Only the client with keyboard focus learns of the selection (as the
 * protocol has it); others do when they get focus. */
static void announce_selection(struct bh_agent *a)
{
    struct bh_surface *f = a->seat.kb_focus;
    if (f)
        bh_data_focus_client(a, wl_resource_get_client(f->resource));
}

/* ---- wl_data_device ----------------------------------------------------------------- */

static void device_start_drag(struct wl_client *client, struct wl_resource *resource,
                              struct wl_resource *source, struct wl_resource *origin,
                              struct wl_resource *icon, uint32_t serial)
{
    if (icon) {
        struct bh_surface *s = bh_surface_from_resource(icon);
        if (!bh_surface_set_role(s, &dnd_icon_role, NULL, resource, WL_DATA_DEVICE_ERROR_ROLE))
            return;
    }
    /* Drag and drop between windows is not part of the GUI protocol. */
    if (source)
        wl_data_source_send_cancelled(source);
}

static void device_set_selection(struct wl_client *client, struct wl_resource *resource,
                                 struct wl_resource *source, uint32_t serial)
{
    struct bh_agent *a = wl_resource_get_user_data(resource);
    set_selection(a, source ? wl_resource_get_user_data(source) : NULL);
}

static const struct wl_data_device_interface device_impl = {
    .start_drag = device_start_drag,
    .set_selection = device_set_selection,
    .release = bh_request_destroy,
};

static void manager_create_source(struct wl_client *client, struct wl_resource *resource, uint32_t id)
{
    struct bh_agent *a = wl_resource_get_user_data(resource);
    struct bh_data_source *src = calloc(1, sizeof(*src));
    if (src)
        src->resource =
            wl_resource_create(client, &wl_data_source_interface, wl_resource_get_version(resource), id);
    if (!src || !src->resource) {
        free(src);
        wl_client_post_no_memory(client);
        return;
    }
    src->agent = a;
    wl_list_init(&src->offers);
    wl_resource_set_implementation(src->resource, &source_impl, src, source_resource_destroy);
}

static void manager_get_device(struct wl_client *client, struct wl_resource *resource, uint32_t id,
                               struct wl_resource *seat)
{
    struct bh_agent *a = wl_resource_get_user_data(resource);
    struct wl_resource *r =
        bh_resource_new(client, &wl_data_device_interface, wl_resource_get_version(resource), id,
                        &device_impl, a, bh_resource_unlink);
    if (!r)
        return;
    wl_list_insert(&a->data.devices, wl_resource_get_link(r));
    struct bh_surface *f = a->seat.kb_focus;
    if (f && wl_resource_get_client(f->resource) == client)
        send_selection_to(a, r);
}

static const struct wl_data_device_manager_interface manager_impl = {
    .create_data_source = manager_create_source,
    .get_data_device = manager_get_device,
};

static void manager_bind(struct wl_client *client, void *data, uint32_t version, uint32_t id)
{
    bh_resource_new(client, &wl_data_device_manager_interface, version, id, &manager_impl, data, NULL);
}

/* ---- dom0 side ------------------------------------------------------------------------- */

static void send_text(struct bh_agent *a, uint32_t request, uint32_t flags, const void *text, size_t len)
{
    struct bh_gui_clipboard_data head = {request, flags};
    bh_link_send2(a->link, BH_GUI_CLIPBOARD_DATA, 0, &head, sizeof head, text, len);
}

/* An app's PNG, decoded here in the qube, to dom0 as pixels in a sealed
 * memfd. A PNG that does not decode is answered as a type dom0 does not
 * carry, so the user learns that nothing was copied. */
static void send_png_as_pixels(struct bh_agent *a, uint32_t request, const uint8_t *png, size_t len)
{
    struct bh_clip_pixels px = {0};
    struct bh_winbuf buf = {0};
    char why[160] = "";

    buf.fd = -1;
    if (bh_clip_png_decode(png, len, &px, why, sizeof why) < 0) {
        BH_WARN(a, MOD, "the selection's image/png does not decode (%s): sending nothing", why);
        send_text(a, request, BH_GUI_CLIPBOARD_OTHER_TYPE, NULL, 0);
        return;
    }
    if (bh_winbuf_export_memfd(&buf, (size_t)px.stride * px.height) < 0) {
        BH_WARN(a, MOD, "no memfd for a %ux%u image: %s", px.width, px.height, strerror(errno));
        send_text(a, request, BH_GUI_CLIPBOARD_OTHER_TYPE, NULL, 0);
        free(px.data);
        return;
    }
    memcpy(buf.map, px.data, (size_t)px.stride * px.height);
    struct bh_gui_clipboard_image img = {request, px.width, px.height, px.stride,
                                         BH_GUI_CLIPBOARD_IMAGE_FORMAT};
    bh_link_send_fd(a->link, BH_GUI_CLIPBOARD_IMAGE, 0, &img, sizeof img, buf.fd); /* dups the fd */
    BH_DBG(a, MOD, "sent a %ux%u image to dom0 (from %zu bytes of PNG)", px.width, px.height, len);
    bh_winbuf_release(&buf);
    free(px.data);
}

static void read_free(struct bh_clip_read *r)
{
    if (r->src)
        wl_event_source_remove(r->src);
    if (r->timer)
        wl_event_source_remove(r->timer);
    if (r->fd >= 0)
        close(r->fd);
    free(r->buf);
    free(r);
}

static void read_finish(struct bh_agent *a, bool ok)
{
    struct bh_clip_read *r = a->data.reading;
    size_t len = ok ? r->len : 0;

    a->data.reading = NULL;
    if (r->image) {
        if (r->truncated || len == 0) {
            BH_WARN(a, MOD, "the selection's image/png is %s: sending nothing",
                    r->truncated ? "over the size limit" : "empty or unreadable");
            send_text(a, r->request, BH_GUI_CLIPBOARD_OTHER_TYPE, NULL, 0);
        } else {
            send_png_as_pixels(a, r->request, r->buf, len);
        }
        read_free(r);
        return;
    }
    size_t valid = bh_gui_utf8_check(r->buf, len);
    if (valid < len) {
        /* A cut at the size limit may split a character: drop the stub.
         * Anything else invalid is not text dom0 may receive. */
        if (r->truncated && len - valid < 4) {
            len = valid;
        } else {
            BH_WARN(a, MOD, "the selection is not valid UTF-8 (byte %zu); sending nothing", valid);
            len = 0;
        }
    }
    if (r->truncated)
        BH_WARN(a, MOD, "selection cut at %u bytes", BH_MAX_CLIPBOARD_BYTES);
    send_text(a, r->request, 0, r->buf, len);
    BH_DBG(a, MOD, "sent %zu bytes of selection to dom0", len);
    read_free(r);
}

static int read_cb(int fd, uint32_t mask, void *data)
{
    struct bh_agent *a = data;
    struct bh_clip_read *r = a->data.reading;
    for (;;) {
        if (r->len == r->max) {
            r->truncated = true;
            read_finish(a, true);
            return 0;
        }
        if (r->len == r->alloc) {
            /* Grown as the data comes, up to max, never sized by a number
             * the app gave. */
            size_t alloc = r->alloc * 2 < r->max ? r->alloc * 2 : r->max;
            uint8_t *nb = realloc(r->buf, alloc);
            if (nb == NULL) {
                BH_WARN(a, MOD, "out of memory reading the selection (%zu bytes)", alloc);
                read_finish(a, false);
                return 0;
            }
            r->buf = nb;
            r->alloc = alloc;
        }
        ssize_t n = read(fd, r->buf + r->len, r->alloc - r->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return 0;
        if (n < 0) {
            read_finish(a, false);
            return 0;
        }
        if (n == 0) {
            read_finish(a, true);
            return 0;
        }
        r->len += (size_t)n;
    }
}

static int read_timeout_cb(void *data)
{
    struct bh_agent *a = data;
    BH_WARN(a, MOD, "the selection owner did not answer within %d ms", READ_TIMEOUT_MS);
    read_finish(a, false);
    return 0;
}

static const char *pick_text_mime(const struct bh_data_source *src)
{
    for (size_t i = 0; i < sizeof(text_mimes) / sizeof(text_mimes[0]); i++)
        for (unsigned k = 0; k < src->n_mimes; k++)
            if (strcmp(src->mimes[k], text_mimes[i]) == 0)
                return text_mimes[i];
    return NULL;
}

static bool offers(const struct bh_data_source *src, const char *mime)
{
    for (unsigned k = 0; k < src->n_mimes; k++)
        if (strcmp(src->mimes[k], mime) == 0)
            return true;
    return false;
}

void bh_data_clipboard_request(struct bh_agent *a, uint32_t request)
{
    struct bh_data *d = &a->data;
    struct bh_data_source *src = d->selection;
    struct bh_clip_read *r = NULL;
    const char *mime = NULL;
    bool image = false;
    int fds[2] = {-1, -1};
    int rc = -1;

    if (d->reading) {
        /* The read under way answers this newer request. */
        d->reading->request = request;
        return;
    }
    if (src && !src->resource && !src->ops) {
        if (src->image)
            send_png_as_pixels(a, request, src->blob->data, src->blob->len);
        else
            send_text(a, request, 0, src->blob->data, src->blob->len);
        return;
    }
    if (!src)
        goto out; /* nothing on the clipboard: an empty answer */
    /* Text stays text even when an image is offered too. */
    if (!(mime = pick_text_mime(src)) && offers(src, IMAGE_MIME)) {
        mime = IMAGE_MIME;
        image = true;
    }
    if (!mime) {
        BH_DBG(a, MOD, "the selection holds neither text nor image/png (%u types)", src->n_mimes);
        send_text(a, request, BH_GUI_CLIPBOARD_OTHER_TYPE, NULL, 0);
        return;
    }
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0 || !(r = calloc(1, sizeof(*r)))) {
        BH_WARN(a, MOD, "cannot read the selection: %s", strerror(errno));
        goto out;
    }
    r->agent = a;
    r->fd = fds[0];
    r->request = request;
    r->image = image;
    r->max = image ? BH_CLIP_PNG_MAX_BYTES : BH_MAX_CLIPBOARD_BYTES;
    r->alloc = 64 * 1024;
    r->buf = malloc(r->alloc);
    r->src = wl_event_loop_add_fd(a->loop, fds[0], WL_EVENT_READABLE, read_cb, a);
    r->timer = wl_event_loop_add_timer(a->loop, read_timeout_cb, a);
    if (!r->buf || !r->src || !r->timer)
        goto out;
    wl_event_source_timer_update(r->timer, READ_TIMEOUT_MS);
    d->reading = r;
    r = NULL;
    fds[0] = -1;
    source_send(src, mime, fds[1]);
    fds[1] = -1;
    rc = 0;
out:
    if (r) {
        r->fd = -1; /* fds[0], closed below */
        read_free(r);
    }
    if (fds[0] >= 0)
        close(fds[0]);
    if (fds[1] >= 0)
        close(fds[1]);
    if (rc < 0)
        send_text(a, request, 0, NULL, 0);
}

/* dom0's data becomes the selection: `mimes` offered, `blob` served. */
static void set_dom0_source(struct bh_agent *a, struct bh_blob *blob, bool image)
{
    struct bh_data_source *src = calloc(1, sizeof(*src));
    if (!src) {
        blob_unref(blob);
        BH_ERR(a, MOD, "out of memory for the clipboard");
        return;
    }
    src->agent = a;
    src->blob = blob;
    src->image = image;
    wl_list_init(&src->offers);
    if (image) {
        if ((src->mimes[0] = strdup(IMAGE_MIME)))
            src->n_mimes = 1;
    } else {
        for (size_t i = 0; i < sizeof(text_mimes) / sizeof(text_mimes[0]); i++) {
            if (!(src->mimes[src->n_mimes] = strdup(text_mimes[i])))
                break;
            src->n_mimes++;
        }
    }
    a->data.dom0_source = src;
    set_selection(a, src);
}

static struct bh_blob *blob_new(const void *data, size_t len)
{
    struct bh_blob *blob = malloc(sizeof(*blob) + len);
    if (!blob)
        return NULL;
    blob->refs = 1;
    blob->len = len;
    if (len)
        memcpy(blob->data, data, len);
    return blob;
}

void bh_data_clipboard_set(struct bh_agent *a, const uint8_t *data, size_t len)
{
    struct bh_blob *blob = blob_new(data, len);
    if (!blob) {
        BH_ERR(a, MOD, "out of memory for %zu bytes of clipboard", len);
        return;
    }
    set_dom0_source(a, blob, false);
    BH_DBG(a, MOD, "dom0 set the clipboard (%zu bytes)", len);
}

void bh_data_clipboard_set_image(struct bh_agent *a, const struct bh_gui_clipboard_image *img, int fd)
{
    struct bh_winbuf buf = {0};
    const char *reason = NULL;
    uint8_t *png = NULL;
    size_t png_len = 0;

    buf.fd = -1;
    if (fd < 0) {
        BH_ERR(a, MOD, "CLIPBOARD_IMAGE from dom0 without its memfd");
        return;
    }
    /* dom0 is trusted, but its buffer is checked as dom0 checks ours. */
    if (bh_winbuf_import_memfd(&buf, fd, (size_t)img->stride * img->height, &reason) < 0) {
        BH_ERR(a, MOD, "dom0's clipboard image refused: %s", reason ? reason : "?");
        return;
    }
    int rc = bh_clip_png_encode(buf.map, img->width, img->height, img->stride, &png, &png_len);
    bh_winbuf_release(&buf);
    if (rc < 0) {
        BH_ERR(a, MOD, "cannot encode dom0's %ux%u image as PNG", img->width, img->height);
        return;
    }
    struct bh_blob *blob = blob_new(png, png_len);
    free(png);
    if (!blob) {
        BH_ERR(a, MOD, "out of memory for %zu bytes of PNG", png_len);
        return;
    }
    set_dom0_source(a, blob, true);
    BH_DBG(a, MOD, "dom0 set the clipboard to a %ux%u image (%zu bytes of PNG)", img->width, img->height,
           png_len);
}

void bh_data_set_agent_selection(struct bh_agent *a, const char *const *mimes, unsigned n,
                                 const struct bh_data_source_ops *ops, void *data)
{
    struct bh_data_source *src = calloc(1, sizeof(*src));
    if (!src) {
        BH_ERR(a, MOD, "out of memory for the clipboard");
        return;
    }
    src->agent = a;
    src->ops = ops;
    src->ops_data = data;
    wl_list_init(&src->offers);
    for (unsigned i = 0; i < n && src->n_mimes < MAX_MIME_TYPES; i++) {
        if (strlen(mimes[i]) > MAX_MIME_BYTES || offers(src, mimes[i]))
            continue;
        if (!(src->mimes[src->n_mimes] = strdup(mimes[i])))
            break;
        src->n_mimes++;
    }
    set_selection(a, src);
}

bool bh_data_selection_owned_by(const struct bh_agent *a, const struct bh_data_source_ops *ops)
{
    return a->data.selection && a->data.selection->ops == ops;
}

void bh_data_drop_selection(struct bh_agent *a, const struct bh_data_source_ops *ops)
{
    if (bh_data_selection_owned_by(a, ops))
        set_selection(a, NULL);
}

unsigned bh_data_selection_mimes(const struct bh_agent *a, const char *const **mimes)
{
    const struct bh_data_source *src = a->data.selection;
    *mimes = src ? (const char *const *)src->mimes : NULL;
    return src ? src->n_mimes : 0;
}

void bh_data_selection_send(struct bh_agent *a, const char *mime, int fd)
{
    if (a->data.selection)
        source_send(a->data.selection, mime, fd);
    else
        close(fd);
}

void bh_data_init(struct bh_agent *a)
{
    struct bh_data *d = &a->data;
    wl_list_init(&d->devices);
    wl_list_init(&d->writers);
    d->global =
        wl_global_create(a->display, &wl_data_device_manager_interface, DATA_DEVICE_VERSION, a, manager_bind);
}

void bh_data_fini(struct bh_agent *a)
{
    struct bh_data *d = &a->data;
    struct bh_clip_writer *w, *tmp;
    wl_list_for_each_safe(w, tmp, &d->writers, link) writer_free(w);
    if (d->reading) {
        read_free(d->reading);
        d->reading = NULL;
    }
    if (d->selection && !d->selection->resource)
        source_free(d->selection);
    d->selection = NULL;
    d->dom0_source = NULL;
}
