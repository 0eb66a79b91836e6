/* shm.c — wl_shm buffers checked when they are created, not only when
 * they are committed.
 *
 * The wl_shm global is libwayland's own (wl_display_init_shm: its pools
 * mmap the client's fd and survive a client truncating it). libwayland
 * checks a new buffer's stride against its width in pixels, not bytes;
 * wl_shm says such a buffer is wl_shm_pool.invalid_stride at create_buffer.
 * A protocol logger sees every request with its decoded arguments before
 * libwayland dispatches it, so the agent refuses such a buffer there: the
 * error posted here is the client's first, libwayland's handler that runs
 * next can post none, and the client is disconnected after this request.
 * surface.c checks the same rule again at commit (defence in depth).
 *
 * Owns: the create-time check and its log line.
 * Must never: act on anything but a request (events pass the logger too),
 * or trust the arguments beyond their types libwayland decoded. */
#include "internal.h"

#include <string.h>
#include <sys/types.h>

#include <wayland-server-protocol.h>

#include "shm-layout.h"

#define MOD "shm"

_Static_assert(BH_SHM_FORMAT_ARGB8888 == WL_SHM_FORMAT_ARGB8888, "wl_shm format codes");
_Static_assert(BH_SHM_FORMAT_XRGB8888 == WL_SHM_FORMAT_XRGB8888, "wl_shm format codes");

/* wl_shm_pool.create_buffer, request 0 (the server header names no
 * opcodes): new_id id, int offset, width, height, stride, uint format. */
enum { CREATE_BUFFER = 0 };
enum { ARG_ID, ARG_OFFSET, ARG_WIDTH, ARG_HEIGHT, ARG_STRIDE, ARG_FORMAT, N_ARGS };

static void check_request(void *data, enum wl_protocol_logger_type direction,
                          const struct wl_protocol_logger_message *m)
{
    struct bh_agent *a = data;
    if (direction != WL_PROTOCOL_LOGGER_REQUEST || m->message_opcode != CREATE_BUFFER ||
        m->arguments_count != N_ARGS || strcmp(wl_resource_get_class(m->resource), "wl_shm_pool") != 0 ||
        strcmp(m->message->name, "create_buffer") != 0)
        return;
    const union wl_argument *args = m->arguments;
    int32_t untrusted_width = args[ARG_WIDTH].i, untrusted_height = args[ARG_HEIGHT].i;
    int32_t untrusted_stride = args[ARG_STRIDE].i;
    uint32_t untrusted_format = args[ARG_FORMAT].u;
    enum bh_shm_verdict v =
        bh_shm_layout_check(untrusted_width, untrusted_height, untrusted_stride, untrusted_format);
    /* A format it does not offer libwayland refuses itself, with its own
     * error (invalid_format); a bad size it refuses as invalid_stride too. */
    if (v == BH_SHM_OK || v == BH_SHM_BAD_FORMAT)
        return;
    pid_t pid = 0;
    wl_client_get_credentials(wl_resource_get_client(m->resource), &pid, NULL, NULL);
    BH_WARN(a, MOD, "client pid %d: wl_shm buffer %dx%d, stride %d, format %u refused: %s", (int)pid,
            untrusted_width, untrusted_height, untrusted_stride, untrusted_format, bh_shm_verdict_reason(v));
    wl_resource_post_error(m->resource, WL_SHM_ERROR_INVALID_STRIDE, "buffer %dx%d with stride %d: %s",
                           untrusted_width, untrusted_height, untrusted_stride, bh_shm_verdict_reason(v));
}

bool bh_shm_init(struct bh_agent *a)
{
    /* ARGB8888 and XRGB8888, the two formats the GUI protocol carries. */
    if (wl_display_init_shm(a->display) < 0)
        return false;
    a->shm_check = wl_display_add_protocol_logger(a->display, check_request, a);
    return a->shm_check != NULL;
}

void bh_shm_fini(struct bh_agent *a)
{
    if (a->shm_check)
        wl_protocol_logger_destroy(a->shm_check);
    a->shm_check = NULL;
}
