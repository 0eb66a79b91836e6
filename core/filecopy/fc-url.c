/* fc-url.c — the link that qvm-open-in-vm QUBE URL sends to the service
 * bulkhead.OpenURL (docs/filecopy.md, "Open a link"): the rules of a URL
 * both ends apply, and the target's decoder of what the caller sent.
 *
 * Owns: the scheme allow-list and the character rules.
 * Must never: do I/O, allocate, or accept a byte that a shell, a terminal
 * or xdg-open's argument parsing could take for something else (controls,
 * spaces, a leading '-'). Pure: the fuzzer (tests/fuzz/url) drives it. */
#include <string.h>

#include "bulkhead/filecopy.h"

/* What a link may open; file: (the target's own files), javascript:, data:
 * and the like are not links to somewhere else. */
static const char *const bh_url_schemes[] = {"http", "https", "ftp", "mailto"};

static bool bh_url_ascii_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool bh_url_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* RFC 3986's unreserved and reserved characters (and '%', checked apart). */
static bool bh_url_char_ok(unsigned char c)
{
    if (bh_url_ascii_alpha(c) || (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && strchr("-._~:/?#[]@!$&'()*+,;=", c) != NULL;
}

int bh_url_check(const char *url, size_t len, const char **why)
{
    const unsigned char *u = (const unsigned char *)url;
    if (len == 0) {
        *why = "the link is empty";
        return -1;
    }
    if (len > BH_URL_MAX) {
        *why = "the link is longer than 4096 bytes";
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        if (u[i] == '%') {
            if (len - i < 3 || !bh_url_hex(u[i + 1]) || !bh_url_hex(u[i + 2])) {
                *why = "the link has a '%' that is not followed by two hex digits";
                return -1;
            }
            i += 2;
        } else if (!bh_url_char_ok(u[i])) {
            *why = u[i] < 0x20 || u[i] == 0x7f ? "the link has a control character or a line break"
                   : u[i] >= 0x80 ? "the link has a character that is not ASCII (percent-encode it)"
                                  : "the link has a space or a character a link may not hold "
                                    "(percent-encode it)";
            return -1;
        }
    }
    size_t scheme = 0;
    while (scheme < len && u[scheme] != ':')
        scheme++;
    if (scheme == len || scheme == 0 || !bh_url_ascii_alpha(u[0])) {
        *why = "the link does not start with a scheme such as https:";
        return -1;
    }
    const char *known = NULL;
    for (size_t i = 0; i < sizeof bh_url_schemes / sizeof *bh_url_schemes; i++) {
        const char *s = bh_url_schemes[i];
        if (strlen(s) != scheme)
            continue;
        size_t j = 0;
        while (j < scheme && (u[j] | 0x20) == (unsigned char)s[j])
            j++;
        if (j == scheme)
            known = s;
    }
    if (known == NULL) {
        *why = "the link's scheme is not one that opens elsewhere (http, https, ftp, mailto)";
        return -1;
    }
    const char *rest = url + scheme + 1;
    size_t rest_len = len - scheme - 1;
    if (strcmp(known, "mailto") == 0) {
        if (rest_len == 0) {
            *why = "the mailto: link has no address";
            return -1;
        }
    } else if (rest_len < 3 || rest[0] != '/' || rest[1] != '/' || rest[2] == '/' || rest[2] == '?' ||
               rest[2] == '#') {
        *why = "the link has no host (http, https and ftp need //HOST)";
        return -1;
    }
    *why = NULL;
    return 0;
}

int bh_url_decode(const uint8_t *untrusted, size_t len, char out[BH_URL_MAX + 1], const char **why)
{
    const uint8_t *nl = len ? memchr(untrusted, '\n', len) : NULL;
    if (nl == NULL) {
        *why =
            len > BH_URL_MAX ? "the link is longer than 4096 bytes" : "the link does not end with a newline";
        return -1;
    }
    size_t url_len = (size_t)(nl - untrusted);
    if (url_len + 1 != len) {
        *why = "something follows the link's line";
        return -1;
    }
    if (bh_url_check((const char *)untrusted, url_len, why) < 0)
        return -1;
    memcpy(out, untrusted, url_len);
    out[url_len] = '\0';
    return 0;
}
