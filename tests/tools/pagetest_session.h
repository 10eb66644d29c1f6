/* SPDX-License-Identifier: GPL-2.0 */
/* rswap_pagetest's commands on a connection's life: replace, keepalive,
 * silent, quiet, mute (see rswap_pagetest.c). */
#ifndef RSWAP_PAGETEST_SESSION_H
#define RSWAP_PAGETEST_SESSION_H

#include <stdint.h>

#include "auth.h"

struct pt_session_opts {
	const char *host, *port;
	uint64_t seed;
	uint32_t pages;		/* replace: pages written into the slab */
	uint32_t timeout_s;	/* the server's --client-timeout, or handshake deadline */
};

int pagetest_replace(const struct pt_session_opts *o, const struct auth_key *key);
int pagetest_keepalive(const struct pt_session_opts *o, const struct auth_key *key);
int pagetest_silent(const struct pt_session_opts *o, const struct auth_key *key);
int pagetest_quiet(const struct pt_session_opts *o, const struct auth_key *key);
int pagetest_mute(const struct pt_session_opts *o, const struct auth_key *key);

#endif
