/* bench-vchan.c — throughput of the vchan socket transport against a bare
 * socketpair, measured in the same run, for 4 KiB and 1 MiB messages.
 *
 * Owns: the measurement (method in bench/README.md).
 * Must never: verify data (the unit tests do), or count connection set-up.
 *
 * Each run forks a receiver; the sender pushes `total` bytes in messages of
 * one size, the receiver takes each message whole (exact reads) and answers
 * one byte when it has everything. The clock runs from the first send to
 * that answer. Every case runs `reps` times, the cases taking turns; the
 * median, the range and the median of the per-repetition ratios to the
 * socketpair are reported. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bulkhead/vchan.h"

#define BENCH_PORT 7100

enum peer { PEER_SOCKETPAIR, PEER_VCHAN_DEFAULT, PEER_VCHAN_64K, PEER_COUNT };

static const char *const peer_names[PEER_COUNT] = {
    "socketpair (bare)",
    "vchan-socket, default buffers",
    "vchan-socket, 64 KiB ring",
};

struct options {
    int reps;
    size_t total; /* bytes per run */
};

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Blocking exact transfers on a plain socket, the way a careful program
 * without vchan would write them. */
static int full_write(int fd, const void *buf, size_t n)
{
    const char *p = buf;

    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int full_read(int fd, void *buf, size_t n)
{
    char *p = buf;

    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* One side of a connection, whichever kind it is. */
struct end {
    int fd;             /* socketpair */
    struct bh_vchan *v; /* vchan */
};

static int end_send(struct end *e, const void *buf, size_t n)
{
    if (e->v)
        return bh_vchan_send(e->v, buf, n) == (ssize_t)n ? 0 : -1;
    return full_write(e->fd, buf, n);
}

static int end_recv(struct end *e, void *buf, size_t n)
{
    if (e->v)
        return bh_vchan_recv(e->v, buf, n) == (ssize_t)n ? 0 : -1;
    return full_read(e->fd, buf, n);
}

static int receiver(struct end *e, char *buf, size_t msg, size_t total)
{
    char ack = 'k';

    if (end_send(e, &ack, 1) < 0) /* ready */
        return 1;
    for (size_t got = 0; got < total; got += msg)
        if (end_recv(e, buf, msg) < 0)
            return 2;
    return end_send(e, &ack, 1) < 0 ? 3 : 0;
}

/* One timed run; <0 on failure. */
static double run_once(enum peer peer, size_t msg, size_t total, char *buf)
{
    struct end me = {.fd = -1}, child_end = {.fd = -1};
    int sv[2] = {-1, -1};
    double t0, t = -1;
    char ack;
    int status = 0;
    pid_t pid;

    if (peer == PEER_SOCKETPAIR) {
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
            return -1;
        me.fd = sv[0];
        child_end.fd = sv[1];
    } else {
        size_t ring = peer == PEER_VCHAN_64K ? 65536 : 0;
        me.v = bh_vchan_server_init(0, BENCH_PORT, ring, ring);
        if (!me.v)
            return -1;
    }
    pid = fork();
    if (pid < 0)
        goto out;
    if (pid == 0) {
        if (peer != PEER_SOCKETPAIR) {
            child_end.v = bh_vchan_client_init(0, BENCH_PORT);
            if (!child_end.v)
                _exit(4);
        } else {
            close(sv[0]);
        }
        _exit(receiver(&child_end, buf, msg, total));
    }
    if (sv[1] >= 0)
        close(sv[1]);
    sv[1] = -1;
    if (end_recv(&me, &ack, 1) < 0)
        goto out;
    t0 = now_s();
    for (size_t sent = 0; sent < total; sent += msg)
        if (end_send(&me, buf, msg) < 0)
            goto out;
    if (end_recv(&me, &ack, 1) < 0)
        goto out;
    t = now_s() - t0;
out:
    if (sv[0] >= 0)
        close(sv[0]);
    if (sv[1] >= 0)
        close(sv[1]);
    bh_vchan_close(me.v);
    if (pid > 0 && (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)))
        t = -1;
    return t;
}

static int parse_args(int argc, char **argv, struct options *o)
{
    o->reps = 7;
    o->total = (size_t)256 << 20;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
            o->reps = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--mib") == 0 && i + 1 < argc) {
            o->total = (size_t)strtoul(argv[++i], NULL, 10) << 20;
        } else {
            fprintf(stderr, "usage: %s [--reps N (1..51)] [--mib MiB per run (1..4096)]\n", argv[0]);
            return -1;
        }
    }
    if (o->reps < 1 || o->reps > 51 || o->total < ((size_t)1 << 20) || o->total > ((size_t)4096 << 20)) {
        fprintf(stderr, "bench-vchan: --reps must be 1..51 and --mib 1..4096\n");
        return -1;
    }
    return 0;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof v[0], cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
    static const size_t sizes[] = {4096, (size_t)1 << 20};
    char dir[] = "/tmp/bh-bench-vchan-XXXXXX";
    char guest[sizeof dir + 8];
    /* MiB/s of every run, by message size, peer and repetition. */
    static double mibs[2][PEER_COUNT][51];
    double ratio[51], sorted[51];
    struct options o;
    struct utsname u;
    char *buf;

    if (parse_args(argc, argv, &o) < 0)
        return 2;
    if (!mkdtemp(dir)) {
        perror("bench-vchan: mkdtemp");
        return 1;
    }
    setenv("BH_VCHAN_DIR", dir, 1);
    setenv("BH_VCHAN_TRANSPORT", "socket", 1);
    unsetenv("BH_VCHAN_DOMID");
    buf = malloc(sizes[1]);
    if (!buf)
        return 1;
    memset(buf, 0x5a, sizes[1]);
    uname(&u);
    printf("bench-vchan: %ld CPUs, Linux %s %s; %zu MiB per run, %d runs per case\n",
           sysconf(_SC_NPROCESSORS_ONLN), u.release, u.machine, o.total >> 20, o.reps);

    /* Cases take turns within each repetition, so that a burst of load
     * from elsewhere hits all of them alike; ratios are taken per
     * repetition (paired) before the median. */
    for (int r = 0; r < o.reps; r++) {
        for (int s = 0; s < 2; s++) {
            for (int p = 0; p < PEER_COUNT; p++) {
                double t = run_once((enum peer)p, sizes[s], o.total, buf);
                if (t <= 0) {
                    fprintf(stderr, "bench-vchan: %s with %zu-byte messages failed\n", peer_names[p],
                            sizes[s]);
                    return 1;
                }
                mibs[s][p][r] = (double)(o.total >> 20) / t;
            }
        }
    }

    printf("\n%-30s %-10s %11s %21s %9s\n", "transport", "messages", "median", "range (MiB/s)", "ratio");
    for (int s = 0; s < 2; s++) {
        for (int p = 0; p < PEER_COUNT; p++) {
            memcpy(sorted, mibs[s][p], sizeof(double) * (size_t)o.reps);
            for (int r = 0; r < o.reps; r++)
                ratio[r] = mibs[s][p][r] / mibs[s][0][r];
            double med = median(sorted, o.reps);
            printf("%-30s %-10s %6.0f MiB/s %10.0f .. %-8.0f %9.2f\n", peer_names[p],
                   s == 0 ? "4 KiB" : "1 MiB", med, sorted[0], sorted[o.reps - 1], median(ratio, o.reps));
        }
    }
    printf("\nratio: median over runs of (this transport / the socketpair of the same run)\n");
    free(buf);
    /* The server made <dir>/0 for its sockets; both are empty now. */
    snprintf(guest, sizeof guest, "%s/0", dir);
    rmdir(guest);
    rmdir(dir);
    return 0;
}
