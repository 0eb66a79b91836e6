/* xen-loop.h — libxl's event machinery on a GLib main context.
 *
 * Owns the libxl_osevent_hooks (libxl's fds and timeouts become GSources)
 * and the child-process hooks (libxl forks through us and its children are
 * reaped by GLib child watches, so libxl never installs a SIGCHLD handler
 * that would fight GLib's). With this, every libxl callback (asynchronous
 * operation done, domain shutdown/death event) runs on the daemon's main
 * context, from a GSource dispatch, never in another thread.
 * Must never: call libxl from inside a libxl hook (libxl forbids re-entry);
 * callers defer their own libxl calls out of libxl callbacks.
 */
#pragma once

#include <glib.h>
#include <libxl.h>

G_BEGIN_DECLS

typedef struct BhXenLoop BhXenLoop;

/* Allocates the loop state for the main context of the calling thread. */
BhXenLoop *bh_xen_loop_new(void);
/* Registers the hooks on ctx. Call once, right after libxl_ctx_alloc and
 * before anything else uses ctx. */
void bh_xen_loop_attach(BhXenLoop *loop, libxl_ctx *ctx);
/* After libxl_ctx_free: drops what libxl left registered. */
void bh_xen_loop_free(BhXenLoop *loop);

G_END_DECLS
