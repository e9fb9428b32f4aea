/* Dropping privileges once evd holds what it needs: listening sockets, the
 * control socket, the syscall probes.
 *
 * Decisions:
 * - Started as root with [server] user set: evd switches to that user (its
 *   primary group and its supplementary groups from the group database),
 *   keeping only the capabilities evd still uses (privs_needed()).  The
 *   bounding set is cut to those too, so nothing can be regained by exec.
 *   The switch is the kernel's: uid change with PR_SET_KEEPCAPS, then
 *   capset; the process becomes non-dumpable as the kernel does for any
 *   uid change, and is left so (it held root).
 * - Started as root without [server] user: nothing changes; evd stays root
 *   (the caller may warn).  evd never picks a user on its own.
 * - Started as another user (systemd's User=evd with AmbientCapabilities=):
 *   the user stays; effective, permitted and ambient sets are cut to the
 *   kept capabilities and the inheritable set emptied.  The bounding set
 *   cannot be changed without CAP_SETPCAP: systemd's CapabilityBoundingSet=
 *   does it.  [server] user naming another user than the current one is an
 *   error (only root can switch).
 * - Capabilities and credentials are per thread in the kernel: call
 *   privs_drop() from the main thread before any other thread or worker
 *   process exists, so that all of them inherit the result.  (glibc applies
 *   setgroups/setgid/setuid to every thread, but not capset.)
 * - What is kept (privs_needed()): CAP_NET_BIND_SERVICE when a listen
 *   address has a port below 1024, so that a reload can bind it again;
 *   CAP_BPF and CAP_PERFMON when [probes] syscalls is on or auto, so that
 *   `evctl syscalls off/on` can detach and attach again.  With syscalls =
 *   off and a user set, `evctl syscalls on` fails with EPERM: restart evd
 *   with syscalls = on (or auto) to profile it.
 * - The sets are read and written with libcap (cap_get_proc, cap_set_proc,
 *   cap_drop_bound, cap_reset_ambient); the uid change itself is glibc's
 *   setresuid with PR_SET_KEEPCAPS, which applies to every thread.
 */
#ifndef EVD_PRIVS_H
#define EVD_PRIVS_H

#include <stddef.h>
#include <stdint.h>

struct config;

/* A capability bit in the masks below: PRIVS_CAP(CAP_NET_BIND_SERVICE). */
#define PRIVS_CAP(c) (UINT64_C(1) << (c))

/* The capabilities evd keeps after start for this configuration. */
uint64_t privs_needed(const struct config *cfg);

/*
 * Drops to cfg->user and to the capabilities in keep_caps as described
 * above.  Returns 1 when it switched user, 0 when it only cut capabilities
 * (or had nothing to do: root without [server] user), -1 with err filled
 * ("[server] user = \"x\": ...") on failure; after a failure part of the
 * privileges may be gone: do not go on serving.
 */
int privs_drop(const struct config *cfg, uint64_t keep_caps, char *err,
	       size_t errlen);

/* "cap_net_bind_service,cap_bpf" or "none", for log lines. */
void privs_caps_text(uint64_t caps, char *buf, size_t len);

#endif
