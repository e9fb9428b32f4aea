/* systemd integration through libsystemd: readiness and status messages
 * (sd_notify), the watchdog, and sockets passed by socket activation
 * (sd_listen_fds).  Every function is a no-op outside systemd. */
#ifndef EVD_NOTIFY_H
#define EVD_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

void notify_ready(void);
void notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* RELOADING=1 with MONOTONIC_USEC, as Type=notify-reload expects. */
void notify_reloading(void);
void notify_stopping(void);
/* The watchdog interval in microseconds, 0 when WatchdogSec is unset. */
uint64_t notify_watchdog_usec(void);
void notify_watchdog(void);

/* The number of sockets systemd passed (fds 3, 4, ...), 0 without socket
 * activation, -errno when LISTEN_FDS is malformed.  Clears the variables
 * so worker processes do not see them. */
int notify_listen_fds(void);

#endif
