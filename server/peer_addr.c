// SPDX-License-Identifier: GPL-2.0
/* peer_addr: see peer_addr.h. */
#include "peer_addr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <infiniband/ib.h>

void peer_source_of(const struct sockaddr *sa, struct peer_source *src)
{
	memset(src, 0, sizeof(*src));
	if (!sa)
		return;
	src->family = sa->sa_family;
	switch (sa->sa_family) {
	case AF_INET:
		memcpy(src->addr, &((const struct sockaddr_in *)sa)->sin_addr, sizeof(struct in_addr));
		break;
	case AF_INET6: {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(a)) {
			src->family = AF_INET;
			memcpy(src->addr, &a->s6_addr[12], sizeof(struct in_addr));
		} else {
			memcpy(src->addr, a->s6_addr, sizeof(a->s6_addr));
		}
		break;
	}
	case AF_IB:
		memcpy(src->addr, &((const struct sockaddr_ib *)sa)->sib_addr, sizeof(src->addr));
		break;
	default:
		break;
	}
}

bool peer_source_equal(const struct peer_source *a, const struct peer_source *b)
{
	return a->family == b->family && !memcmp(a->addr, b->addr, sizeof(a->addr));
}

void peer_name_of(const struct sockaddr *sa, char *buf, size_t size)
{
	char text[INET6_ADDRSTRLEN];

	if (!size)
		return;
	snprintf(buf, size, "?");
	if (!sa)
		return;
	switch (sa->sa_family) {
	case AF_INET: {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		if (inet_ntop(AF_INET, &sin->sin_addr, text, sizeof(text)))
			snprintf(buf, size, "%s:%u", text, ntohs(sin->sin_port));
		break;
	}
	case AF_INET6: {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

		if (!inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof(text)))
			break;
		if (sin6->sin6_scope_id)
			snprintf(buf, size, "[%s%%%u]:%u", text, sin6->sin6_scope_id,
				 ntohs(sin6->sin6_port));
		else
			snprintf(buf, size, "[%s]:%u", text, ntohs(sin6->sin6_port));
		break;
	}
	case AF_IB:
		if (inet_ntop(AF_INET6, &((const struct sockaddr_ib *)sa)->sib_addr, text,
			      sizeof(text)))
			snprintf(buf, size, "ib [%s]", text);
		break;
	default:
		break;
	}
}

int peer_listen_ip(const char *listen, struct peer_source *src)
{
	char host[PEER_NAME_MAX];
	const char *colon = listen ? strrchr(listen, ':') : NULL;
	size_t hlen;

	memset(src, 0, sizeof(*src));
	if (!colon || !colon[1] || strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
	    strlen(colon + 1) > 5 || atoi(colon + 1) < 1 || atoi(colon + 1) > 65535)
		return -1;
	hlen = (size_t)(colon - listen);
	if (hlen >= 2 && listen[0] == '[' && listen[hlen - 1] == ']') {
		listen++;
		hlen -= 2;
	}
	if (hlen >= sizeof(host))
		return -1;
	memcpy(host, listen, hlen);
	host[hlen] = '\0';
	if (!hlen)
		return 1;
	struct in6_addr a6;	/* aligned, for the IN6_ macros */

	if (inet_pton(AF_INET, host, src->addr) == 1) {
		src->family = AF_INET;
	} else if (inet_pton(AF_INET6, host, &a6) == 1) {
		src->family = AF_INET6;
		memcpy(src->addr, &a6, sizeof(a6));
		if (IN6_IS_ADDR_V4MAPPED(&a6)) {
			src->family = AF_INET;
			memmove(src->addr, src->addr + 12, 4);
			memset(src->addr + 4, 0, 12);
		}
	} else {
		memset(src, 0, sizeof(*src));
		return 1;		/* a host name */
	}
	if ((src->family == AF_INET && !memcmp(src->addr, "\0\0\0\0", 4)) ||
	    (src->family == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(&a6))) {
		memset(src, 0, sizeof(*src));
		return 1;
	}
	return 0;
}
