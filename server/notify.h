/* SPDX-License-Identifier: GPL-2.0 */
/* notify: systemd's sd_notify protocol, spoken without libsystemd. */
#ifndef RSWAP_NOTIFY_H
#define RSWAP_NOTIFY_H

/* Send @state ("READY=1", "STOPPING=1", ...) to $NOTIFY_SOCKET if set.
 * Returns 1 if sent, 0 if not under systemd, -1 on error. */
int notify_systemd(const char *state);

/*
 * The watchdog interval systemd asks of this process (WatchdogSec=, passed
 * as $WATCHDOG_USEC, for the PID in $WATCHDOG_PID if that is set), in
 * microseconds; 0 when there is none or the variables are malformed. The
 * process then sends "WATCHDOG=1" more often than that.
 */
unsigned long long notify_watchdog_usec(void);

#endif
