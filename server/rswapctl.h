/* SPDX-License-Identifier: GPL-2.0 */
/* rswapctl: what its files share (rswapctl.c: the commands that ask;
 * rswapctl_drain.c: drain, rebalance, undrain, drain-status;
 * rswapctl_keys.c: client-key). */
#ifndef RSWAP_RSWAPCTL_H
#define RSWAP_RSWAPCTL_H

#include <stdbool.h>

#include "rswap.pb-c.h"

/* Seconds an ordinary request may take. */
#define CTL_TIMEOUT_S 5

/* Ask the server at @host:@port; NULL after saying why on stderr (a
 * refusal included). */
Rswap__AdminResponse *ctl_ask(const char *host, const char *port, Rswap__AdminRequest *req,
			      int timeout_ms);
/* @s as a JSON string, quotes included. */
void ctl_json_str(const char *s);

/* The commands: exit status 0, 1 (refused, unreachable, or something
 * remains), as --help says. */
int ctl_drain(const char *host, const char *port, bool partial, bool json);
int ctl_rebalance(const char *host, const char *port, bool json);
int ctl_undrain(const char *host, const char *port, bool json);
int ctl_drain_status(const char *host, const char *port, bool json);
/* rswapctl_keys.c: rswapctl client-key ARGS (argv[0] is "client-key"). */
int ctl_client_key(int argc, char **argv);

#endif
