/* SPDX-License-Identifier: GPL-2.0 */
/*
 * peer_addr: a connecting peer's address, as a name for the logs and as the
 * key of the per-source cap on connections not yet authenticated
 * (--max-unauthenticated-per-source). Pure: no verbs, no rdma_cm.
 */
#ifndef RSWAP_PEER_ADDR_H
#define RSWAP_PEER_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Room for "[IPv6%scope]:port" and the NUL. */
#define PEER_NAME_MAX 64

/*
 * Where a connection comes from, without its port: the address bytes as
 * the peer sent them. An IPv4-mapped IPv6 address is the IPv4 address (one
 * host, however the listener saw it); an InfiniBand GID is its 16 bytes.
 * Any other family, or no address, is one key per family.
 */
struct peer_source {
	sa_family_t family;
	uint8_t addr[16];
};

/* The source key of @sa (NULL: none, family AF_UNSPEC). */
void peer_source_of(const struct sockaddr *sa, struct peer_source *src);
/* Same host, compared byte by byte (never by the printed name). */
bool peer_source_equal(const struct peer_source *a, const struct peer_source *b);
/*
 * @sa as "192.0.2.1:4791", "[2001:db8::1]:4791", "[fe80::1%2]:4791" (scope
 * id when set), "ib [GID]", or "?" (none, or another family); always
 * NUL-terminated, cut at @size.
 */
void peer_name_of(const struct sockaddr *sa, char *buf, size_t size);

/*
 * The RDMA address in a peer's status "listen" field (from the network,
 * hostile): "192.0.2.1:7471" or "[2001:db8::1]:7471" gives 0 and the
 * address in @src. 1 when the peer listens on every address ("0.0.0.0:P",
 * "[::]:P", or ":P") or names a host: the status does not say which one a
 * copy would reach, and the caller looks up the peer's admin host instead.
 * -1 when it is not HOST:PORT at all.
 */
int peer_listen_ip(const char *listen, struct peer_source *src);

#endif
