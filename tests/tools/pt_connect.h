/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pt_connect: the test tools connect as any client id they make up, so
 * they hold the pool key (as an operator does) and derive each client's
 * own key from it, as rswapctl client-key does for a real client. The
 * client library itself only ever sees the client's key.
 */
#ifndef PT_CONNECT_H
#define PT_CONNECT_H

#include <stdio.h>

#include <openssl/crypto.h>

#include "auth.h"
#include "rswap_client.h"

static inline int pt_connect_opts(struct rswap_client *c, const char *host, const char *port,
				  const struct auth_key *pool_key,
				  const uint8_t id[RSWAP_ID_LEN], const char *name,
				  const struct rswap_client_opts *opts)
{
	struct auth_key kc;
	int ret;

	if (auth_client_key(pool_key, id, &kc)) {
		snprintf(c->error, sizeof(c->error), "deriving the client key failed");
		return -1;
	}
	ret = rswap_client_connect_opts(c, host, port, &kc, id, name, opts);
	OPENSSL_cleanse(&kc, sizeof(kc));
	return ret;
}

static inline int pt_connect(struct rswap_client *c, const char *host, const char *port,
			     const struct auth_key *pool_key, const uint8_t id[RSWAP_ID_LEN],
			     const char *name)
{
	return pt_connect_opts(c, host, port, pool_key, id, name, NULL);
}

#endif
