/* sandbox-seccomp.h — the system calls a sandbox qube may not make.
 *
 * Owns the seccomp filter every process of a sandbox qube runs under (the
 * list, and why each entry is there, is in docs/sandbox.md): compiled once by
 * the daemon with libseccomp into a classic BPF program, handed to bubblewrap
 * as a sealed memfd (`--seccomp FD`, applied just before the qube's init
 * runs) and loaded directly by the no-agent entry path.
 *
 * It must never allow less than the list says: a filter that cannot be built
 * is an error, never a qube started without one.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The filter as an array of struct sock_filter (native architecture; any
 * other architecture, the x32 ABI included, kills the process). */
GBytes *bh_sandbox_seccomp_program(GError **error);

/* A sealed memfd holding program, at offset 0: what bwrap --seccomp reads. */
int bh_sandbox_seccomp_memfd(GBytes *program, GError **error);

G_END_DECLS
