/* guid-launch.c — encoders and decoders of bulkheadd's requests to guid's
 * launcher and its replies; see bulkhead/guid-launch.h. */
#include "bulkhead/guid-launch.h"

#include <string.h>

long bh_guid_launch_encode_request(uint8_t *buf, size_t cap, uint32_t serial, const char *const *argv,
                                   const char *a11y)
{
    struct bh_guid_launch_request hdr = {
        .magic = BH_GUID_LAUNCH_MAGIC, .version = BH_GUID_LAUNCH_VERSION, .serial = serial};
    size_t off = sizeof hdr;
    if (cap > BH_GUID_LAUNCH_MAX_BYTES)
        cap = BH_GUID_LAUNCH_MAX_BYTES;
    if (cap < off)
        return -1;
    for (; argv[hdr.argc] != NULL; hdr.argc++) {
        size_t n = strlen(argv[hdr.argc]) + 1;
        if (hdr.argc >= BH_GUID_LAUNCH_MAX_ARGS || n > cap - off)
            return -1;
        memcpy(buf + off, argv[hdr.argc], n);
        off += n;
    }
    if (hdr.argc == 0)
        return -1;
    if (a11y != NULL) {
        size_t n = strlen(a11y) + 1;
        if (n == 1 || n > BH_GUID_LAUNCH_MAX_A11Y || n > cap - off)
            return -1;
        memcpy(buf + off, a11y, n);
        off += n;
    }
    memcpy(buf, &hdr, sizeof hdr);
    return (long)off;
}

int bh_guid_launch_decode_request(const uint8_t *buf, size_t len, uint32_t *serial, const char **argv,
                                  const char **a11y, const char **why)
{
    struct bh_guid_launch_request hdr;
    if (len < sizeof hdr || len > BH_GUID_LAUNCH_MAX_BYTES) {
        *why = "request length out of bounds";
        return -1;
    }
    memcpy(&hdr, buf, sizeof hdr);
    if (hdr.magic != BH_GUID_LAUNCH_MAGIC || hdr.version != BH_GUID_LAUNCH_VERSION) {
        *why = "not a launch request of this version";
        return -1;
    }
    if (hdr.argc == 0 || hdr.argc > BH_GUID_LAUNCH_MAX_ARGS) {
        *why = "argument count out of bounds";
        return -1;
    }
    const uint8_t *p = buf + sizeof hdr, *end = buf + len;
    for (uint32_t i = 0; i < hdr.argc; i++) {
        const uint8_t *nul = memchr(p, '\0', (size_t)(end - p));
        if (nul == NULL) {
            *why = "argument not NUL-terminated";
            return -1;
        }
        argv[i] = (const char *)p;
        p = nul + 1;
    }
    *a11y = NULL;
    if (p != end) {
        const uint8_t *nul = memchr(p, '\0', (size_t)(end - p));
        if (nul == NULL || nul + 1 != end) {
            *why = "bytes after the a11y bus address";
            return -1;
        }
        if (nul == p || (size_t)(end - p) > BH_GUID_LAUNCH_MAX_A11Y) {
            *why = "a11y bus address empty or too long";
            return -1;
        }
        *a11y = (const char *)p;
    }
    argv[hdr.argc] = NULL;
    *serial = hdr.serial;
    return (int)hdr.argc;
}

void bh_guid_launch_encode_reply(struct bh_guid_launch_reply *reply, enum bh_guid_launch_kind kind,
                                 uint32_t serial, pid_t pid, int value)
{
    *reply = (struct bh_guid_launch_reply){
        .magic = BH_GUID_LAUNCH_MAGIC, .kind = (uint32_t)kind, .serial = serial, .pid = pid, .value = value};
}

int bh_guid_launch_decode_reply(const uint8_t *buf, size_t len, struct bh_guid_launch_reply *reply,
                                const char **why)
{
    if (len != sizeof *reply) {
        *why = "reply of the wrong length";
        return -1;
    }
    memcpy(reply, buf, sizeof *reply);
    if (reply->magic != BH_GUID_LAUNCH_MAGIC) {
        *why = "not a launcher reply";
        return -1;
    }
    if (reply->kind < BH_GUID_LAUNCH_STARTED || reply->kind > BH_GUID_LAUNCH_EXITED) {
        *why = "unknown reply kind";
        return -1;
    }
    if ((reply->kind != BH_GUID_LAUNCH_FAILED && reply->pid <= 0) || reply->pid < 0) {
        *why = "reply without a process";
        return -1;
    }
    return 0;
}
