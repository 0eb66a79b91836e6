/* xwm-props.c — X properties a client set, made into bounded values
 * (xwm-props.h). Pure: no X, no Wayland, no allocation. */
#include <stdbool.h>
#include <string.h>

#include "bulkhead/gui-protocol.h"

#include "xwm-props.h"

/* ICCCM 4.1.2.3: flags, then x, y, width, height (obsolete), min w/h, max w/h, … */
enum { W_FLAGS = 0, W_MIN_W = 5, W_MIN_H = 6, W_MAX_W = 7, W_MAX_H = 8 };
#define P_MIN_SIZE (1u << 4)
#define P_MAX_SIZE (1u << 5)

static int32_t clamp(uint32_t raw, int32_t max)
{
    /* The words are signed on the wire: a negative size is none. */
    int32_t v = (int32_t)raw;
    return v < 0 ? 0 : v > max ? max : v;
}

void bh_xwm_size_hints(const uint32_t *words, size_t n_words, struct bh_xwm_hints *out)
{
    *out = (struct bh_xwm_hints){0};
    if (n_words <= W_MAX_H)
        return;
    if (words[W_FLAGS] & P_MIN_SIZE) {
        out->min_w = clamp(words[W_MIN_W], BH_MAX_WINDOW_WIDTH);
        out->min_h = clamp(words[W_MIN_H], BH_MAX_WINDOW_HEIGHT);
    }
    if (words[W_FLAGS] & P_MAX_SIZE) {
        out->max_w = clamp(words[W_MAX_W], BH_MAX_WINDOW_WIDTH);
        out->max_h = clamp(words[W_MAX_H], BH_MAX_WINDOW_HEIGHT);
    }
    /* Absurd hints (min above max) are dropped, not obeyed. */
    if ((out->max_w && out->min_w > out->max_w) || (out->max_h && out->min_h > out->max_h))
        *out = (struct bh_xwm_hints){.dropped = true};
}

uint32_t bh_xwm_state_flags(const uint32_t *atoms, size_t n, const struct bh_xwm_state_atoms *known)
{
    uint32_t flags = 0;
    for (size_t i = 0; i < n && i < 32; i++) {
        if (atoms[i] == 0)
            continue;
        if (atoms[i] == known->fullscreen)
            flags |= BH_GUI_FLAG_FULLSCREEN;
        if (atoms[i] == known->max_vert || atoms[i] == known->max_horz)
            flags |= BH_GUI_FLAG_MAXIMIZED;
    }
    return flags;
}

/* The X names of text, and the MIME type each is offered as. */
static const struct {
    const char *target, *mime;
} text_targets[] = {
    {"UTF8_STRING", "text/plain;charset=utf-8"},
    {"STRING", "text/plain"},
    {"TEXT", "TEXT"},
};

/* RFC 2045's token characters (type and subtype). */
static bool token_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c));
}

bool bh_xwm_target_mime(const char *name, size_t len, char out[BH_XWM_MIME_MAX + 1])
{
    out[0] = '\0';
    for (size_t i = 0; i < sizeof(text_targets) / sizeof(text_targets[0]); i++) {
        if (len == strlen(text_targets[i].target) && memcmp(name, text_targets[i].target, len) == 0) {
            strcpy(out, text_targets[i].mime);
            return true;
        }
    }
    if (len < 3 || len > BH_XWM_MIME_MAX)
        return false;
    /* type "/" subtype, then parameters of printable ASCII (no space). */
    size_t i = 0, slash = 0;
    while (i < len && token_char(name[i]))
        i++;
    if (i == 0 || i == len || name[i] != '/')
        return false;
    slash = ++i;
    while (i < len && token_char(name[i]))
        i++;
    if (i == slash || (i < len && name[i] != ';'))
        return false;
    for (; i < len; i++)
        if (name[i] <= ' ' || name[i] > '~')
            return false;
    memcpy(out, name, len);
    out[len] = '\0';
    return true;
}

const char *bh_xwm_mime_target(const char *mime)
{
    for (size_t i = 0; i < sizeof(text_targets) / sizeof(text_targets[0]); i++)
        if (strcmp(mime, text_targets[i].mime) == 0)
            return text_targets[i].target;
    return mime;
}

size_t bh_xwm_targets_pick(const uint32_t *atoms, size_t n, uint32_t *out, size_t max)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k < max; i++) {
        bool seen = atoms[i] == 0;
        for (size_t j = 0; j < k && !seen; j++)
            seen = out[j] == atoms[i];
        if (!seen)
            out[k++] = atoms[i];
    }
    return k;
}

size_t bh_xwm_multiple_pairs(const uint32_t *words, size_t n_words, uint32_t multiple,
                             struct bh_xwm_pair *out, size_t max)
{
    size_t k = 0;
    for (size_t i = 0; i + 1 < n_words && k < max; i += 2, k++) {
        out[k].target = words[i];
        out[k].property = words[i + 1];
        bool refused = out[k].target == 0 || out[k].property == 0 || out[k].target == multiple;
        for (size_t j = 0; j < k && !refused; j++)
            refused = out[j].property == out[k].property;
        if (refused)
            out[k].property = 0;
    }
    return k;
}
