/* winbuf-guard.c — a SIGBUS guard around dom0's reads of guest memory (see
 * bulkhead/winbuf.h).
 *
 * Owns: the process's SIGBUS handler (installed once, chaining to what was
 * there before) and the per-thread record of the one guarded range being
 * read. Must never: swallow a SIGBUS outside a guarded range (a real bug
 * must still crash), or jump out of anything but the guarded function.
 *
 * Why a guard when imports are checked: the checks are what the kernel
 * promises today (sealed shmem keeps its size, a hole reads back as zeros);
 * a guest keeps write access to its memfd and the kernel keeps growing ways
 * to change a file (new fallocate modes, memory failure, strict overcommit
 * refusing the page for a hole). A fault there must cost the guest its
 * window, not dom0 its process.
 *
 * The handler finds the guarded range through a thread-local pointer: a
 * signal handler has no other way to its context. It is set only while a
 * guarded function runs on that thread. SA_NODEFER keeps SIGBUS unblocked
 * in the handler, so siglongjmp needs no saved mask (sigsetjmp(env, 0): no
 * system call per guarded copy). */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>

#include "bulkhead/winbuf.h"

struct bh_guard {
    uintptr_t lo;
    size_t size;
    sigjmp_buf env;
};

static _Thread_local struct bh_guard *volatile current;
static struct sigaction previous;
static int install_rc = -1;
static int install_errno;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
    struct bh_guard *g = current;

    if (g && (uintptr_t)si->si_addr - g->lo < g->size)
        siglongjmp(g->env, 1);
    /* Not a guarded read: what would have happened without us. Returning
     * with the default restored re-runs the faulting access, which then
     * kills the process as before (with its core dump). */
    if (previous.sa_flags & SA_SIGINFO) {
        previous.sa_sigaction(sig, si, uc);
    } else if (previous.sa_handler == SIG_DFL || previous.sa_handler == SIG_IGN) {
        signal(SIGBUS, SIG_DFL);
    } else {
        previous.sa_handler(sig);
    }
}

static void install_once(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    install_rc = sigaction(SIGBUS, &sa, &previous);
    install_errno = errno;
}

int bh_winbuf_guard_install(void)
{
    pthread_once(&once, install_once);
    if (install_rc < 0)
        errno = install_errno;
    return install_rc;
}

int bh_winbuf_guard_run(const void *map, size_t size, void (*fn)(void *data), void *data)
{
    struct bh_guard g;
    struct bh_guard *outer = current;

    if (bh_winbuf_guard_install() < 0) {
        errno = ENOSYS;
        return -1;
    }
    g.lo = (uintptr_t)map;
    g.size = size;
    if (sigsetjmp(g.env, 0)) {
        current = outer;
        errno = EFAULT;
        return -1;
    }
    current = &g;
    fn(data);
    current = outer;
    return 0;
}

struct copy_job {
    void *dst;
    const void *src;
    size_t n;
};

static void copy_fn(void *data)
{
    struct copy_job *j = data;
    memcpy(j->dst, j->src, j->n);
}

int bh_winbuf_guard_copy(void *dst, const void *src, size_t n)
{
    struct copy_job j = {dst, src, n};
    return bh_winbuf_guard_run(src, n, copy_fn, &j);
}
