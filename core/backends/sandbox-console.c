/* sandbox-console.c — see sandbox-console.h. */
#include "sandbox-console.h"

#include <bulkhead/qubes.h>

/* Token buckets count in millionths, so that one microsecond of refill at a
 * rate of a few per second is not lost to rounding. */
#define BH_TOKEN 1000000ull
/* More refill than a full bucket is never needed: cap the elapsed time so the
 * product cannot overflow. */
#define BH_MAX_ELAPSED_US (3600ll * G_USEC_PER_SEC)

typedef struct {
    guint64 tokens;
    guint64 burst;
    guint64 rate; /* per second */
} BhBucket;

struct BhConsole {
    BhConsoleEmit emit;
    gpointer user_data;
    char line[BH_CONSOLE_LINE_MAX];
    gsize len;
    gboolean skipping; /* past BH_CONSOLE_LINE_MAX of the current line */
    gboolean started;  /* last is valid */
    gint64 last;
    BhBucket lines;
    BhBucket bytes;
    guint64 dropped; /* since the last report */
    guint64 total_dropped;
};

static void bh_bucket_init(BhBucket *b, guint64 burst, guint64 rate)
{
    b->burst = burst * BH_TOKEN;
    b->tokens = b->burst;
    b->rate = rate;
}

static void bh_bucket_refill(BhBucket *b, gint64 elapsed_us)
{
    guint64 add = (guint64)elapsed_us * b->rate; /* millionths: rate per s x us */
    b->tokens = b->burst - b->tokens < add ? b->burst : b->tokens + add;
}

BhConsole *bh_console_new(BhConsoleEmit emit, gpointer user_data)
{
    BhConsole *c = g_new0(BhConsole, 1);
    c->emit = emit;
    c->user_data = user_data;
    bh_bucket_init(&c->lines, BH_CONSOLE_BURST_LINES, BH_CONSOLE_LINES_PER_S);
    bh_bucket_init(&c->bytes, BH_CONSOLE_BURST_BYTES, BH_CONSOLE_BYTES_PER_S);
    return c;
}

void bh_console_free(BhConsole *c)
{
    g_free(c);
}

void bh_console_flush(BhConsole *c)
{
    if (c->dropped == 0)
        return;
    guint64 n = c->dropped;
    c->dropped = 0;
    c->emit(NULL, n, c->user_data);
}

gboolean bh_console_has_dropped(const BhConsole *c)
{
    return c->dropped > 0;
}

guint64 bh_console_total_dropped(const BhConsole *c)
{
    return c->total_dropped;
}

/* One whole line (without its newline): shown if both buckets allow it. */
static void bh_console_line(BhConsole *c, gint64 now)
{
    gsize len = c->len;
    gboolean cut = c->skipping;
    c->len = 0;
    c->skipping = FALSE;
    if (c->started && now > c->last) {
        gint64 elapsed = MIN(now - c->last, BH_MAX_ELAPSED_US);
        bh_bucket_refill(&c->lines, elapsed);
        bh_bucket_refill(&c->bytes, elapsed);
    }
    if (!c->started || now > c->last)
        c->last = now;
    c->started = TRUE;
    /* An empty line costs a line; a line costs at least one byte. */
    guint64 need_bytes = (guint64)MAX(len, 1) * BH_TOKEN;
    if (c->lines.tokens < BH_TOKEN || c->bytes.tokens < need_bytes) {
        c->dropped++;
        c->total_dropped++;
        return;
    }
    c->lines.tokens -= BH_TOKEN;
    c->bytes.tokens -= need_bytes;
    bh_console_flush(c);
    g_autofree char *quoted = bh_qubes_quote_len(c->line, len, BH_CONSOLE_LINE_MAX);
    if (cut) {
        g_autofree char *shown = g_strconcat(quoted, "...", NULL);
        c->emit(shown, 0, c->user_data);
        return;
    }
    c->emit(quoted, 0, c->user_data);
}

void bh_console_feed(BhConsole *c, const guint8 *data, gsize n, gint64 now)
{
    for (gsize i = 0; i < n; i++) {
        if (data[i] == '\n') {
            bh_console_line(c, now);
        } else if (c->len < BH_CONSOLE_LINE_MAX) {
            c->line[c->len++] = (char)data[i];
        } else {
            c->skipping = TRUE;
        }
    }
}

void bh_console_finish(BhConsole *c, gint64 now)
{
    if (c->len > 0 || c->skipping)
        bh_console_line(c, now);
    bh_console_flush(c);
}
