/* SPDX-License-Identifier: GPL-2.0 */
/*
 * admin_client: the blocking side of the admin API (proto/rswap.proto):
 * dial a server's --admin address, send one framed request, read one framed
 * answer. rswapctl uses it, and rswap-server asks its peers with it before
 * a drain. Every wait is bounded by the timeout given.
 */
#ifndef RSWAP_ADMIN_CLIENT_H
#define RSWAP_ADMIN_CLIENT_H

#include <stddef.h>

#include "rswap.pb-c.h"

/*
 * Connect to @host:@port within @timeout_ms; reads and writes on the socket
 * then time out after @timeout_ms too. The fd, or -1 with a reason for a
 * person in @err.
 */
int admin_dial(const char *host, const char *port, int timeout_ms, char *err, size_t err_size);

/* Write all @len bytes: 0, or -1 with errno set. */
int admin_write_all(int fd, const void *buf, size_t len);

/*
 * Ask @req of the server at @host:@port. Returns its answer (an Error
 * answer included; free with rswap__admin_response__free_unpacked), or NULL
 * with the reason in @err when there was none.
 */
Rswap__AdminResponse *admin_ask(const char *host, const char *port, const Rswap__AdminRequest *req,
				int timeout_ms, char *err, size_t err_size);

#endif
