/* SPDX-License-Identifier: GPL-2.0 */
/*
 * admin_client: the calling side of the admin API (proto/rswap.proto):
 * dial a server's admin socket or TCP address, send one framed request
 * (proved with the admin key when one is given), read one framed answer.
 * rswapctl uses it, and rswap-server asks its peers with it before a drain.
 *
 * Every call has one deadline for the whole of it (connect, challenge,
 * request, answer): a server that trickles its answer a byte at a time
 * cannot hold the caller past it. Sockets are non-blocking underneath.
 */
#ifndef RSWAP_ADMIN_CLIENT_H
#define RSWAP_ADMIN_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "auth.h"
#include "rswap.pb-c.h"

#define ADMIN_ERR_LEN 256

/* Where a call goes. */
struct admin_target {
	const char *host, *port;	/* TCP, when @socket is NULL */
	const char *socket;		/* Unix socket: a path, or @NAME (abstract) */
	const struct auth_key *key;	/* TCP: prove the call with it (NULL: none) */
};

/*
 * Connect to @host:@port within @timeout_ms; reads and writes on the socket
 * then time out after @timeout_ms too. The fd, or -1 with a reason for a
 * person in @err.
 */
int admin_dial(const char *host, const char *port, int timeout_ms, char *err, size_t err_size);

/*
 * Connect to the Unix socket @name (a path, or @NAME in the abstract
 * namespace). The fd (blocking, with @timeout_ms on reads and writes), or
 * -1 with errno set and a reason in @err.
 */
int admin_dial_unix(const char *name, int timeout_ms, char *err, size_t err_size);

/* Write all @len bytes: 0, or -1 with errno set. */
int admin_write_all(int fd, const void *buf, size_t len);

/*
 * Ask @req of @t, all of it within @timeout_ms. Returns the answer (an
 * Error answer included; free with rswap__admin_response__free_unpacked),
 * or NULL with the reason in @err when there was none.
 */
Rswap__AdminResponse *admin_call(const struct admin_target *t, const Rswap__AdminRequest *req,
				 int timeout_ms, char *err, size_t err_size);

/*
 * Ask @req of the @n TCP targets @t at once (no key: calls anyone may
 * make), every answer within one @timeout_ms in all: @resp[i] is target i's
 * answer, or NULL with the reason in @err[i].
 */
void admin_call_all(const struct admin_target *t, unsigned int n, const Rswap__AdminRequest *req,
		    int timeout_ms, Rswap__AdminResponse **resp, char (*err)[ADMIN_ERR_LEN]);

#endif
