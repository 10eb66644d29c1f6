// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the server's check of a client's proof (HELLO, AUTH,
 * and the connection's two socket addresses, all from the input) as
 * server/conn.c's on_auth does it. Properties:
 *  - any bytes as socket addresses: auth_binding reads only within a
 *    sockaddr_storage and refuses what is not IPv4 or IPv6;
 *  - a HELLO and an AUTH that rswap_msg_check accepts: the fuzzed MAC
 *    verifies only if it is the one the real client key makes (an attacker
 *    without Kc has to guess 32 bytes); the proof made with the right key
 *    verifies, and the same proof fails for another client id, another
 *    server id, or a binding that differs in any byte (relayed or replayed).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "auth.h"
#include "rswap_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t server_id[RSWAP_ID_LEN] = { 0x5e, 0x17 };
	static const uint8_t nonce_s[RSWAP_NONCE_LEN] = { 0x33 };
	struct sockaddr_storage cl, sv;
	uint8_t buf[2 * sizeof(struct sockaddr_storage) + sizeof(struct rswap_hello) +
		    sizeof(struct rswap_auth) + 1];
	struct rswap_hello hello;
	struct rswap_auth auth;
	struct rswap_auth_binding b, b2;
	struct auth_key pool = { .len = 20 }, kc;
	uint8_t want[RSWAP_MAC_LEN], mac[RSWAP_MAC_LEN], other[RSWAP_ID_LEN];
	size_t off = 0;
	unsigned int pos;

	memset(buf, 0, sizeof(buf));
	memcpy(buf, data, size < sizeof(buf) ? size : sizeof(buf));
	memcpy(&cl, buf + off, sizeof(cl));
	off += sizeof(cl);
	memcpy(&sv, buf + off, sizeof(sv));
	off += sizeof(sv);
	memcpy(&hello, buf + off, sizeof(hello));
	off += sizeof(hello);
	memcpy(&auth, buf + off, sizeof(auth));
	off += sizeof(auth);
	pos = buf[off];

	if (auth_binding((struct sockaddr *)&cl, (struct sockaddr *)&sv, &b)) {
		if ((cl.ss_family == AF_INET || cl.ss_family == AF_INET6) &&
		    (sv.ss_family == AF_INET || sv.ss_family == AF_INET6))
			abort();	/* an IP pair must bind */
		return 0;
	}
	if (rswap_msg_check(&hello, sizeof(hello)) != RSWAP_MSG_HELLO ||
	    rswap_msg_check(&auth, sizeof(auth)) != RSWAP_MSG_AUTH)
		return 0;

	memset(pool.bytes, 0x42, pool.len);
	if (auth_client_key(&pool, hello.id, &kc) ||
	    auth_client_mac(&kc, nonce_s, auth.nonce, hello.id, server_id, &b, want))
		abort();
	/* The fuzzed proof verifies exactly when it is the right one. */
	if (auth_mac_equal(want, auth.mac) != !memcmp(want, auth.mac, RSWAP_MAC_LEN))
		abort();
	/* The right proof, checked again: deterministic. */
	if (auth_client_mac(&kc, nonce_s, auth.nonce, hello.id, server_id, &b, mac) ||
	    !auth_mac_equal(want, mac))
		abort();
	/* Another client id (its own key): the proof does not carry over. */
	memcpy(other, hello.id, sizeof(other));
	other[pos % RSWAP_ID_LEN] ^= 1;
	if (auth_client_key(&pool, other, &kc) ||
	    auth_client_mac(&kc, nonce_s, auth.nonce, other, server_id, &b, mac) ||
	    auth_mac_equal(want, mac))
		abort();
	/* Another server or other endpoints, same key: refused. */
	if (auth_client_key(&pool, hello.id, &kc))
		abort();
	b2 = b;
	((uint8_t *)&b2)[pos % sizeof(b2)] ^= 0x80;
	if (auth_client_mac(&kc, nonce_s, auth.nonce, hello.id, server_id, &b2, mac) ||
	    auth_mac_equal(want, mac))
		abort();
	memcpy(other, server_id, sizeof(other));
	other[pos % RSWAP_ID_LEN] ^= 1;
	if (auth_client_mac(&kc, nonce_s, auth.nonce, hello.id, other, &b, mac) ||
	    auth_mac_equal(want, mac))
		abort();
	return 0;
}
