/* bench-bwrap.h — the plain bubblewrap sandbox the start benches measure
 * against (bench/start/README.md): every namespace, /usr read-only, its own
 * /proc, /dev and /tmp. Followed by the command to run.
 *
 * Owns: nothing but this argument list. Must never: differ between the
 * benches that compare against it. */
#ifndef BH_BENCH_BWRAP_H
#define BH_BENCH_BWRAP_H

static const char *const bwrap_base[] = {"bwrap",
                                         "--unshare-all",
                                         "--unshare-user",
                                         "--disable-userns",
                                         "--die-with-parent",
                                         "--as-pid-1",
                                         "--ro-bind",
                                         "/usr",
                                         "/usr",
                                         "--symlink",
                                         "usr/bin",
                                         "/bin",
                                         "--symlink",
                                         "usr/lib",
                                         "/lib",
                                         "--symlink",
                                         "usr/lib64",
                                         "/lib64",
                                         "--proc",
                                         "/proc",
                                         "--dev",
                                         "/dev",
                                         "--tmpfs",
                                         "/tmp",
                                         NULL};

#endif /* BH_BENCH_BWRAP_H */
