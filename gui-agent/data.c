/* data.c — wl_data_device_manager (selection only) and the clipboard bridge
 * to dom0.
 *
 * Owns: data sources and offers, the current selection, the pipes that read
 * the selection for dom0 (CLIPBOARD_REQ) and that feed dom0's text to
 * clients (CLIPBOARD_DATA makes the agent the selection owner).
 * Must never: block on a client's pipe, read more than
 * BH_MAX_CLIPBOARD_BYTES, send dom0 anything but valid UTF-8, or keep an
 * unbounded number of pipes open for clients.
 *
 * Drag and drop is not offered: start_drag cancels the source at once. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <wayland-server-protocol.h>

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

/* dom0's text, shared by every pipe feeding it to a client. */
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
    size_t len;
    bool truncated;
    uint8_t buf[BH_MAX_CLIPBOARD_BYTES];
};

static const char *const text_mimes[] = {
    "text/plain;charset=utf-8", "UTF8_STRING", "text/plain", "TEXT", "STRING",
};

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
    if (src->resource) {
        wl_data_source_send_send(src->resource, mime, fd);
        close(fd);
        return;
    }
    serve_dom0_text(src->agent, src->blob, fd);
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

static void read_finish(struct bh_agent *a, bool ok)
{
    struct bh_clip_read *r = a->data.reading;
    size_t len = ok ? r->len : 0;
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
    bh_link_send(a->link, BH_GUI_CLIPBOARD_DATA, 0, r->buf, len);
    BH_DBG(a, MOD, "sent %zu bytes of selection to dom0", len);

    wl_event_source_remove(r->src);
    wl_event_source_remove(r->timer);
    close(r->fd);
    free(r);
    a->data.reading = NULL;
}

static int read_cb(int fd, uint32_t mask, void *data)
{
    struct bh_agent *a = data;
    struct bh_clip_read *r = a->data.reading;
    for (;;) {
        if (r->len == sizeof(r->buf)) {
            r->truncated = true;
            read_finish(a, true);
            return 0;
        }
        ssize_t n = read(fd, r->buf + r->len, sizeof(r->buf) - r->len);
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

void bh_data_clipboard_request(struct bh_agent *a)
{
    struct bh_data *d = &a->data;
    struct bh_data_source *src = d->selection;
    struct bh_clip_read *r = NULL;
    const char *mime = NULL;
    int fds[2] = {-1, -1};
    int rc = -1;

    if (d->reading)
        return; /* the answer to the pending request serves this one too */
    if (src && !src->resource) {
        bh_link_send(a->link, BH_GUI_CLIPBOARD_DATA, 0, src->blob->data, src->blob->len);
        return;
    }
    if (!src || !(mime = pick_text_mime(src)))
        goto out; /* no text on the clipboard: an empty answer */
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0 || !(r = calloc(1, sizeof(*r)))) {
        BH_WARN(a, MOD, "cannot read the selection: %s", strerror(errno));
        goto out;
    }
    r->agent = a;
    r->fd = fds[0];
    r->src = wl_event_loop_add_fd(a->loop, fds[0], WL_EVENT_READABLE, read_cb, a);
    r->timer = wl_event_loop_add_timer(a->loop, read_timeout_cb, a);
    if (!r->src || !r->timer)
        goto out;
    wl_event_source_timer_update(r->timer, READ_TIMEOUT_MS);
    d->reading = r;
    r = NULL;
    fds[0] = -1;
    wl_data_source_send_send(src->resource, mime, fds[1]);
    rc = 0;
out:
    if (r) {
        if (r->src)
            wl_event_source_remove(r->src);
        if (r->timer)
            wl_event_source_remove(r->timer);
        free(r);
    }
    if (fds[0] >= 0)
        close(fds[0]);
    if (fds[1] >= 0)
        close(fds[1]);
    if (rc < 0)
        bh_link_send(a->link, BH_GUI_CLIPBOARD_DATA, 0, "", 0);
}

void bh_data_clipboard_set(struct bh_agent *a, const uint8_t *data, size_t len)
{
    struct bh_data_source *src = calloc(1, sizeof(*src));
    struct bh_blob *blob = malloc(sizeof(*blob) + len);
    if (!src || !blob) {
        free(src);
        free(blob);
        BH_ERR(a, MOD, "out of memory for %zu bytes of clipboard", len);
        return;
    }
    blob->refs = 1;
    blob->len = len;
    memcpy(blob->data, data, len);
    src->agent = a;
    src->blob = blob;
    wl_list_init(&src->offers);
    for (size_t i = 0; i < sizeof(text_mimes) / sizeof(text_mimes[0]); i++) {
        if (!(src->mimes[src->n_mimes] = strdup(text_mimes[i])))
            break;
        src->n_mimes++;
    }
    a->data.dom0_source = src;
    set_selection(a, src);
    BH_DBG(a, MOD, "dom0 set the clipboard (%zu bytes)", len);
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
        wl_event_source_remove(d->reading->src);
        wl_event_source_remove(d->reading->timer);
        close(d->reading->fd);
        free(d->reading);
        d->reading = NULL;
    }
    if (d->selection && !d->selection->resource)
        source_free(d->selection);
    d->selection = NULL;
    d->dom0_source = NULL;
}
