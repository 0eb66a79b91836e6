/* sandbox-seccomp.h — the system calls a sandbox qube may not make.
 *
 * Owns the seccomp filter every process of a sandbox qube runs under (the
 * list, and why each entry is there, is in docs/sandbox.md): compiled once by
 * the daemon with libseccomp into a classic BPF program, handed to bubblewrap
 * as a sealed memfd (`--seccomp FD`, applied just before the qube's init
 * runs) and loaded directly by the no-agent entry path.
 *
 * Also the uplink's own small filter (no AF_UNIX sockets).
 *
 * It must never allow less than the list says: a filter that cannot be built
 * is an error, never a qube (or an uplink) started without one.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The filter as an array of struct sock_filter (native architecture; any
 * other architecture, the x32 ABI included, kills the process). */
GBytes *bh_sandbox_seccomp_program(GError **error);

/* The filter slirp4netns (a netvm's uplink) runs under besides its own: it
 * sits in the host's network namespace, where abstract Unix sockets (dom0's
 * D-Bus, X, …) are reached by name, so it may make no AF_UNIX socket
 * (EACCES). Loaded between fork and exec (sandbox-spawn.h). */
GBytes *bh_sandbox_seccomp_uplink_program(GError **error);

/* A sealed memfd holding program, at offset 0: what bwrap --seccomp reads. */
int bh_sandbox_seccomp_memfd(GBytes *program, GError **error);

G_END_DECLS
