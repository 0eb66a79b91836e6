/* bench-wakes.c — what the 5 % frame's wake-ups cost on this machine with
 * no frame work at all (issue 21; RESULTS.md, "The 5 % frame III"). Three
 * processes stand for guid, the agent and a client and pass one byte along
 * the frame path's chain of messages, paced by guid's timer at 60 frames/s;
 * each measures its own CPU. The chains, by wake-ups of agent + guid per
 * frame:
 *   4  today's (docs/gui-protocol.md, "Frame pacing"): guid's timer sends
 *      the release 2 ms before the next frame is due, the agent wakes for
 *      it (frame callback to the client) and for the client's commit (then
 *      DAMAGE), guid wakes for the DAMAGE;
 *   3  guid does not wake for the DAMAGE: it reads it at its next tick
 *      (a frame later on screen), the rest as in 4;
 *   2  a compositor's floor: one tick and one commit; the tick reaches the
 *      client directly (as if the agent's relay of the release were free);
 *   4g chain 4 with guid's side on a GLib main loop as guid has it (a
 *      high-priority timeout armed per frame, the vchan as a fd source), to
 *      tell the loop's own cost per wake-up from the kernel's.
 *
 *   bench-wakes [--seconds S] [--reps N] [--damage F] [--hz HZ]
 *
 * --damage: the client draws the rectangle bh-bench-client damages (a
 * fraction F of a 1920x1080 XRGB frame, centred, rows a stride apart) into
 * a buffer it shares with the agent before each commit, and the agent
 * copies it into its own frame-sized buffer, so the floor can be set
 * against a frame's copy as the real one happens (lines the client just
 * wrote, on whichever CPU it ran). The chains run
 * in turns (4, 3, 2, 4g, 4, …) so that load changes hit each alike.
 *
 * Owns: its three child processes and their sockets. Must never: count the
 * warm-up, or leave a child behind. */
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench-frames-common.h"

#define WARM_FRAMES 30
#define FRAME_W     1920
#define FRAME_H     1080
#define STRIDE      (FRAME_W * 4)
#define FRAME_BYTES ((size_t)STRIDE * FRAME_H)

enum chain { CHAIN_4, CHAIN_3, CHAIN_2, CHAIN_4G };
static const char *const chain_names[] = {"4", "3", "2", "4g"};

struct opts {
    double seconds;
    int reps;
    double damage; /* 0: no copy */
    int hz;
};

static double cpu_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* One byte; false on EOF or error (the peer is gone: stop). */
static bool get(int fd)
{
    char c;
    ssize_t n;
    do
        n = read(fd, &c, 1);
    while (n < 0 && errno == EINTR);
    return n == 1;
}

static void put(int fd)
{
    char c = 'f';
    ssize_t n;
    do
        n = write(fd, &c, 1);
    while (n < 0 && errno == EINTR);
}

static bool wait_in(int fd)
{
    struct pollfd p = {fd, POLLIN, 0};
    int n;
    do
        n = poll(&p, 1, -1);
    while (n < 0 && errno == EINTR);
    return n == 1;
}

static void report(int out, const char *role, double cpu, long frames)
{
    char line[96];
    int n = snprintf(line, sizeof line, "%s %.1f %ld\n", role, cpu, frames);
    if (write(out, line, (size_t)n) != n)
        _exit(1);
}

/* guid: a timer on an absolute 60 Hz grid; chain 4 fires it 2 ms early and
 * waits for the DAMAGE, chains 3 and 2 read the DAMAGE queued since. */
static void run_guid(enum chain chain, int to_agent, int to_client, long frames, int hz, int out)
{
    int tfd = timerfd_create(CLOCK_MONOTONIC, 0);
    int64_t frame = 1000000000 / hz, due = now_ns() + frame;
    int64_t early = chain == CHAIN_4 ? 2000000 : 0;
    double c0 = 0;
    for (long i = 0; i < frames; i++) {
        if (i == WARM_FRAMES)
            c0 = cpu_us();
        int64_t at = due - early;
        struct itimerspec its = {{0, 0}, {at / 1000000000, at % 1000000000}};
        uint64_t ticks;
        timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
        if (read(tfd, &ticks, sizeof ticks) != sizeof ticks)
            _exit(1);
        if (chain != CHAIN_4 && i > 0 && !get(to_agent)) /* the DAMAGE, queued */
            _exit(1);
        put(chain == CHAIN_2 ? to_client : to_agent); /* the release */
        if (chain == CHAIN_4 && !(wait_in(to_agent) && get(to_agent)))
            _exit(1);
        due += frame;
    }
    report(out, "guid", cpu_us() - c0, frames - WARM_FRAMES);
}

/* guid on a GLib main loop (chain 4g): the same messages at the same times. */
struct gloop {
    GMainLoop *loop;
    int to_agent;
    long i, frames;
    gint64 due, frame_us;
    double c0;
};

static gboolean g_on_tick(gpointer data);

static void g_arm(struct gloop *g)
{
    gint64 at = g->due - 2000, now = g_get_monotonic_time();
    g_timeout_add_full(G_PRIORITY_HIGH, (guint)(at > now ? (at - now + 999) / 1000 : 0), g_on_tick, g, NULL);
}

static gboolean g_on_tick(gpointer data)
{
    struct gloop *g = data;
    put(g->to_agent);
    return G_SOURCE_REMOVE;
}

static gboolean g_on_damage(int fd, GIOCondition cond, gpointer data)
{
    struct gloop *g = data;
    (void)cond;
    if (!get(fd))
        _exit(1);
    if (++g->i == WARM_FRAMES)
        g->c0 = cpu_us();
    g->due += g->frame_us;
    if (g->i >= g->frames) {
        g_main_loop_quit(g->loop);
        return G_SOURCE_REMOVE;
    }
    g_arm(g);
    return G_SOURCE_CONTINUE;
}

static void run_guid_glib(int to_agent, long frames, int hz, int out)
{
    struct gloop g = {g_main_loop_new(NULL, FALSE), to_agent, 0, frames, 0, 1000000 / hz, 0};
    g.due = g_get_monotonic_time() + g.frame_us;
    g_unix_fd_add_full(G_PRIORITY_DEFAULT, to_agent, G_IO_IN, g_on_damage, &g, NULL);
    g_arm(&g);
    g_main_loop_run(g.loop);
    report(out, "guid", cpu_us() - g.c0, frames - WARM_FRAMES);
    g_main_loop_unref(g.loop);
}

/* agent: wakes for whatever comes; a release becomes a frame callback, a
 * commit a copy and a DAMAGE. */
static uint8_t *frame_buffer(int flags)
{
    uint8_t *b = mmap(NULL, FRAME_BYTES, PROT_READ | PROT_WRITE, flags | MAP_ANONYMOUS, -1, 0);
    if (b == MAP_FAILED)
        return NULL;
    memset(b, 1, FRAME_BYTES);
    return b;
}

static void run_agent(int from_guid, int to_client, const uint8_t *src, struct bh_bench_rect r, int out)
{
    uint8_t *dst = src ? frame_buffer(MAP_PRIVATE) : NULL;
    if (src && !dst)
        _exit(1);
    long commits = 0;
    double c0 = 0, copy_us = 0;
    for (;;) {
        struct pollfd p[2] = {{from_guid, POLLIN, 0}, {to_client, POLLIN, 0}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[0].revents) {
            if (!get(from_guid))
                break;
            put(to_client);
        }
        if (p[1].revents) {
            if (!get(to_client))
                break;
            if (++commits == WARM_FRAMES)
                c0 = cpu_us();
            double t0 = cpu_us();
            for (int y = r.y; y < r.y + r.height; y++) /* as the agent's copy_opaque */
                memcpy(dst + (size_t)y * STRIDE + (size_t)r.x * 4, src + (size_t)y * STRIDE + (size_t)r.x * 4,
                       (size_t)r.width * 4);
            if (commits > WARM_FRAMES)
                copy_us += cpu_us() - t0;
            put(from_guid);
        }
    }
    report(out, "agent", cpu_us() - c0, commits - WARM_FRAMES);
    report(out, "copy", copy_us, commits - WARM_FRAMES);
}

/* client: each frame callback (or, in chain 2, each tick) is answered by a
 * commit to the agent. */
static void run_client(enum chain chain, int from_agent, int from_guid, uint8_t *buf, struct bh_bench_rect r)
{
    int in = chain == CHAIN_2 ? from_guid : from_agent;
    for (uint8_t v = 0; wait_in(in) && get(in); v++) {
        for (int y = r.y; buf && y < r.y + r.height; y++)
            memset(buf + (size_t)y * STRIDE + (size_t)r.x * 4, v, (size_t)r.width * 4);
        put(from_agent);
    }
}

/* One run of one chain: per-frame CPU of guid and agent in µs. */
struct result {
    double guid_us, agent_us, copy_us; /* per frame; copy_us is part of agent_us */
};

static int run_chain(const struct opts *o, enum chain chain, struct result *out)
{
    int ga[2], ac[2], gc[2], res[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ga) < 0 ||
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ac) < 0 ||
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, gc) < 0 || pipe2(res, O_CLOEXEC) < 0) {
        perror("bench-wakes: socketpair");
        return -1;
    }
    long frames = (long)(o->seconds * o->hz) + WARM_FRAMES;
    struct bh_bench_rect r = {0};
    uint8_t *shared = NULL; /* the client's buffer, as its wl_shm pool */
    if (o->damage > 0 && (bh_bench_damage_rect(FRAME_W, FRAME_H, o->damage, false, &r) < 0 ||
                          (shared = frame_buffer(MAP_SHARED)) == NULL)) {
        perror("bench-wakes: buffer");
        return -1;
    }
    pid_t pids[3];
    for (int role = 0; role < 3; role++) {
        pids[role] = fork();
        if (pids[role] < 0) {
            perror("bench-wakes: fork");
            return -1;
        }
        if (pids[role] == 0) {
            close(res[0]);
            if (role == 0) {
                close(ga[1]), close(ac[0]), close(ac[1]), close(gc[1]);
                if (chain == CHAIN_4G)
                    run_guid_glib(ga[0], frames, o->hz, res[1]);
                else
                    run_guid(chain, ga[0], gc[0], frames, o->hz, res[1]);
            } else if (role == 1) {
                close(ga[0]), close(ac[1]), close(gc[0]), close(gc[1]);
                run_agent(ga[1], ac[0], shared, r, res[1]);
            } else {
                close(ga[0]), close(ga[1]), close(ac[0]), close(gc[0]);
                run_client(chain, ac[1], gc[1], shared, r);
            }
            _exit(0);
        }
    }
    close(ga[0]), close(ga[1]), close(ac[0]), close(ac[1]), close(gc[0]), close(gc[1]);
    close(res[1]);
    char buf[256] = {0};
    size_t len = 0;
    ssize_t n;
    while (len < sizeof buf - 1 && (n = read(res[0], buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t)n;
    close(res[0]);
    int rc = 0;
    for (int i = 0; i < 3; i++) {
        int st;
        if (waitpid(pids[i], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            rc = -1;
    }
    if (shared)
        munmap(shared, FRAME_BYTES);
    *out = (struct result){-1, -1, -1};
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        char role[16];
        double cpu;
        long f;
        if (sscanf(line, "%15s %lf %ld", role, &cpu, &f) == 3 && f > 0)
            *(strcmp(role, "guid") == 0    ? &out->guid_us
              : strcmp(role, "agent") == 0 ? &out->agent_us
                                           : &out->copy_us) = cpu / (double)f;
    }
    return rc == 0 && out->guid_us >= 0 && out->agent_us >= 0 && out->copy_us >= 0 ? 0 : -1;
}

static double load1(void)
{
    double l = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &l) != 1)
            l = -1;
        fclose(f);
    }
    return l;
}

int main(int argc, char **argv)
{
    struct opts o = {.seconds = 4.0, .reps = 3, .hz = 60};
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--seconds") == 0)
            o.seconds = atof(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--reps") == 0)
            o.reps = atoi(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--damage") == 0)
            o.damage = atof(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--hz") == 0)
            o.hz = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bench-wakes [--seconds S] [--reps N] [--damage F] [--hz HZ]\n");
            return 2;
        }
    }
    if (o.seconds <= 0 || o.reps < 1 || o.hz < 1 || o.hz > 1000 || o.damage < 0 || o.damage > 1) {
        fprintf(stderr, "bench-wakes: --seconds > 0, --reps >= 1, --hz 1..1000, --damage 0..1\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN); /* a last DAMAGE after guid's end */
    printf("bench-wakes: %d reps of %.1f s at %d Hz, the client draws and the agent copies %.0f %% of 1080p; "
           "load %.2f\n",
           o.reps, o.seconds, o.hz, o.damage * 100, load1());
    printf("| rep | chain (agent+guid wake-ups) | guid µs/frame | agent µs/frame | of which copy | sum | "
           "load |\n");
    printf("|---|---|---|---|---|---|---|\n");
    for (int r = 0; r < o.reps; r++)
        for (enum chain c = CHAIN_4; c <= CHAIN_4G; c++) {
            struct result res;
            if (run_chain(&o, c, &res) < 0) {
                fprintf(stderr, "bench-wakes: chain %s failed\n", chain_names[c]);
                return 1;
            }
            printf("| %d | %s | %.1f | %.1f | %.1f | %.1f | %.2f |\n", r, chain_names[c], res.guid_us,
                   res.agent_us, res.copy_us, res.guid_us + res.agent_us, load1());
            fflush(stdout);
        }
    return 0;
}
