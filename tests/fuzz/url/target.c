/* target.c — libFuzzer entry point for the link the service bulkhead.OpenURL
 * reads from the calling qube (bh_url_decode, core/filecopy/fc-url.c,
 * docs/filecopy.md "Open a link"). Built as a fuzzer with -Dfuzz=true and,
 * always, as a replay test over corpus/. Checks what an accepted link must
 * be, independently of the decoder: the input is the link and one newline,
 * at most 4096 bytes of printable ASCII without space, starting with an
 * allowed scheme, no '-' first, and bh_url_check agrees on the link alone.
 *
 * Must never: keep state between inputs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bulkhead/filecopy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int scheme_ok(const char *url)
{
    static const char *const ok[] = {"http://", "https://", "ftp://", "mailto:"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        if (strncasecmp(url, ok[i], strlen(ok[i])) == 0)
            return 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char url[BH_URL_MAX + 1];
    const char *why = NULL;
    int r = bh_url_decode(data, size, url, &why);
    if (r != 0) {
        if (r != -1 || why == NULL || why[0] == '\0')
            abort();
        return 0;
    }
    size_t len = strlen(url);
    if (why != NULL || len == 0 || len > BH_URL_MAX || len + 1 != size || data[len] != '\n' ||
        memcmp(url, data, len) != 0 || !scheme_ok(url) || url[0] == '-')
        abort();
    for (size_t i = 0; i < len; i++)
        if (url[i] <= ' ' || url[i] >= 0x7f || strchr("\"<>\\^`{|}", url[i]) != NULL)
            abort();
    if (bh_url_check(url, len, &why) != 0)
        abort();
    return 0;
}
