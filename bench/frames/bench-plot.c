/* bench-plot.c — the PNG of bench/frames, drawn with cairo: frames per second
 * (left) and CPU per frame (right) against the damage fraction, all three
 * on logarithmic scales, one line per path and window size.
 *
 * Owns: the picture. Must never: invent a point (a path with no successful
 * run at some fraction has no point there). */
#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bench-frames.h"

#define W      1400
#define H      640
#define PANELW 580
#define PANELH 440
#define TOP    90

struct axis {
    double x0, y0, w, h; /* panel rectangle in pixels */
    double lo, hi;       /* y range (log scale) */
    double dlo, dhi;     /* damage range (log scale) */
};

static void path_colour(cairo_t *cr, enum bench_path p)
{
    static const double rgb[PATH_COUNT][3] = {
        {0.45, 0.45, 0.45}, /* floor */
        {0.45, 0.65, 0.95}, /* agent */
        {0.10, 0.25, 0.65}, /* guid */
        {0.55, 0.30, 0.75}, /* guid-gtk */
        {0.95, 0.50, 0.10}, /* waypipe */
        {0.80, 0.15, 0.15}, /* waypipe-none */
        {0.20, 0.60, 0.30}, /* agent-x11 */
    };
    cairo_set_source_rgb(cr, rgb[p][0], rgb[p][1], rgb[p][2]);
}

static double px(const struct axis *a, double damage)
{
    return a->x0 + a->w * (log(damage) - log(a->dlo)) / (log(a->dhi) - log(a->dlo));
}

static double py(const struct axis *a, double v)
{
    double t = (log10(v) - log10(a->lo)) / (log10(a->hi) - log10(a->lo));
    return a->y0 + a->h * (1 - t);
}

static void text(cairo_t *cr, double x, double y, double size, const char *s, double align)
{
    cairo_text_extents_t e;
    cairo_set_font_size(cr, size);
    cairo_text_extents(cr, s, &e);
    cairo_move_to(cr, x - e.x_advance * align, y);
    cairo_show_text(cr, s);
}

static void frame(cairo_t *cr, const struct axis *a, const char *title, const double *damages, size_t nd)
{
    char buf[64];
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, a->x0 + 0.5, a->y0 + 0.5, a->w, a->h);
    cairo_stroke(cr);
    text(cr, a->x0 + a->w / 2, a->y0 - 12, 16, title, 0.5);
    for (size_t i = 0; i < nd; i++) {
        double x = px(a, damages[i]);
        snprintf(buf, sizeof(buf), "%g %%", damages[i] * 100);
        text(cr, x, a->y0 + a->h + 18, 12, buf, 0.5);
        cairo_set_source_rgba(cr, 0, 0, 0, 0.12);
        cairo_move_to(cr, x + 0.5, a->y0);
        cairo_line_to(cr, x + 0.5, a->y0 + a->h);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
    }
    text(cr, a->x0 + a->w / 2, a->y0 + a->h + 38, 13, "damaged fraction of the window", 0.5);
    /* y grid at 1..9 per decade, labelled at 1 and 3. */
    for (double v = pow(10, floor(log10(a->lo))); v <= a->hi * 1.001; v *= 10) {
        for (int m = 1; m < 10; m++) {
            double t = v * m;
            if (t < a->lo * 0.999 || t > a->hi * 1.001)
                continue;
            double y = py(a, t);
            cairo_set_source_rgba(cr, 0, 0, 0, m == 1 ? 0.25 : 0.07);
            cairo_move_to(cr, a->x0, y + 0.5);
            cairo_line_to(cr, a->x0 + a->w, y + 0.5);
            cairo_stroke(cr);
            if (m == 1 || m == 3) {
                cairo_set_source_rgb(cr, 0, 0, 0);
                snprintf(buf, sizeof(buf), "%g", t);
                text(cr, a->x0 - 6, y + 4, 12, buf, 1);
            }
        }
    }
}

/* One line per (path, size) through its points in damage order. */
static void series(cairo_t *cr, const struct axis *a, const struct bench_point *pts, size_t n, bool fps)
{
    bool done[256] = {false};
    for (size_t i = 0; i < n && i < 256; i++) {
        if (done[i])
            continue;
        const struct bench_point *s = &pts[i];
        size_t idx[64], k = 0;
        for (size_t j = i; j < n && j < 256 && k < 64; j++)
            if (pts[j].path == s->path && pts[j].width == s->width && pts[j].height == s->height) {
                idx[k++] = j;
                done[j] = true;
            }
        for (size_t x = 1; x < k; x++) /* insertion sort by damage */
            for (size_t y = x; y > 0 && pts[idx[y - 1]].damage > pts[idx[y]].damage; y--) {
                size_t t = idx[y];
                idx[y] = idx[y - 1];
                idx[y - 1] = t;
            }
        path_colour(cr, s->path);
        cairo_set_line_width(cr, 2.5);
        double dash[] = {8, 5};
        cairo_set_dash(cr, dash, s->width > 2000 ? 2 : 0, 0);
        bool pen = false;
        for (size_t j = 0; j < k; j++) {
            double v = fps ? pts[idx[j]].fps : pts[idx[j]].cpu_ms;
            if (!isfinite(v) || v <= 0) {
                pen = false;
                continue;
            }
            double x = px(a, pts[idx[j]].damage), y = py(a, v);
            if (pen)
                cairo_line_to(cr, x, y);
            else
                cairo_move_to(cr, x, y);
            pen = true;
        }
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
        for (size_t j = 0; j < k; j++) {
            double v = fps ? pts[idx[j]].fps : pts[idx[j]].cpu_ms;
            if (!isfinite(v) || v <= 0)
                continue;
            cairo_arc(cr, px(a, pts[idx[j]].damage), py(a, v), 4, 0, 2 * M_PI);
            cairo_fill(cr);
        }
    }
}

gboolean bench_plot(const char *png, const struct bench_point *pts, size_t n, const char *subtitle,
                    GError **error)
{
    double damages[64];
    size_t nd = 0;
    double fps_max = 0, fps_min = INFINITY, cmin = INFINITY, cmax = 0;
    for (size_t i = 0; i < n; i++) {
        bool seen = false;
        for (size_t j = 0; j < nd; j++)
            seen |= damages[j] == pts[i].damage;
        if (!seen && nd < 64)
            damages[nd++] = pts[i].damage;
        if (isfinite(pts[i].fps) && pts[i].fps > 0) {
            fps_max = fmax(fps_max, pts[i].fps);
            fps_min = fmin(fps_min, pts[i].fps);
        }
        if (isfinite(pts[i].cpu_ms) && pts[i].cpu_ms > 0) {
            cmin = fmin(cmin, pts[i].cpu_ms);
            cmax = fmax(cmax, pts[i].cpu_ms);
        }
    }
    if (n == 0 || nd == 0 || !(cmax > 0)) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "nothing to plot");
        return FALSE;
    }
    double dlo = damages[0], dhi = damages[0];
    for (size_t j = 1; j < nd; j++) {
        dlo = fmin(dlo, damages[j]);
        dhi = fmax(dhi, damages[j]);
    }
    if (dlo == dhi) {
        dlo /= 2;
        dhi = fmin(1, dhi * 2);
    }
    double pad = log(dhi / dlo) * 0.06;
    struct axis fa = {80,
                      TOP,
                      PANELW,
                      PANELH,
                      pow(10, floor(log10(fps_min))),
                      pow(10, ceil(log10(fps_max))),
                      dlo / exp(pad),
                      dhi * exp(pad)};
    struct axis ca = {fa.x0 + PANELW + 100,       TOP,    PANELW, PANELH, pow(10, floor(log10(cmin))),
                      pow(10, ceil(log10(cmax))), fa.dlo, fa.dhi};
    if (!(fps_max > 0))
        fa.lo = 1, fa.hi = 100;

    cairo_surface_t *surf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
    cairo_t *cr = cairo_create(surf);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_source_rgb(cr, 0, 0, 0);
    text(cr, W / 2.0, 30, 20,
         "bench/frames: Bulkhead (gui-agent alone, with guid on Xvfb) vs waypipe → weston (headless); memcpy "
         "floor",
         0.5);
    text(cr, W / 2.0, 52, 13, subtitle, 0.5);
    frame(cr, &fa, "frames per second presented (log)", damages, nd);
    frame(cr, &ca, "CPU per frame, ms, all counted processes (log)", damages, nd);
    series(cr, &fa, pts, n, true);
    series(cr, &ca, pts, n, false);

    /* Legend: colours for paths, dashes for sizes. */
    static const char *const label[PATH_COUNT] = {"memcpy floor",
                                                  "gui-agent alone",
                                                  "agent + guid (Xvfb)",
                                                  "agent + guid via GTK",
                                                  "waypipe + weston",
                                                  "waypipe -c none + weston",
                                                  "X11 client + Xwayland + agent"};
    double lx = 80, ly = H - 40;
    for (int p = 0; p < PATH_COUNT; p++) {
        bool used = false;
        for (size_t i = 0; i < n; i++)
            used |= pts[i].path == (enum bench_path)p;
        if (!used)
            continue;
        path_colour(cr, (enum bench_path)p);
        cairo_set_line_width(cr, 3);
        cairo_move_to(cr, lx, ly);
        cairo_line_to(cr, lx + 30, ly);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        text(cr, lx + 36, ly + 5, 13, label[p], 0);
        cairo_text_extents_t e;
        cairo_text_extents(cr, label[p], &e);
        lx += 36 + e.x_advance + 24;
    }
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 2);
    cairo_move_to(cr, lx, ly);
    cairo_line_to(cr, lx + 30, ly);
    cairo_stroke(cr);
    text(cr, lx + 36, ly + 5, 13, "≤ 1920x1080", 0);
    double dash[] = {8, 5};
    cairo_set_dash(cr, dash, 2, 0);
    cairo_move_to(cr, lx + 150, ly);
    cairo_line_to(cr, lx + 180, ly);
    cairo_stroke(cr);
    cairo_set_dash(cr, NULL, 0, 0);
    text(cr, lx + 186, ly + 5, 13, "3840x2160", 0);

    cairo_destroy(cr);
    cairo_status_t st = cairo_surface_write_to_png(surf, png);
    cairo_surface_destroy(surf);
    if (st != CAIRO_STATUS_SUCCESS) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "cannot write %s: %s", png,
                    cairo_status_to_string(st));
        return FALSE;
    }
    return TRUE;
}
