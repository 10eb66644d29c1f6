/* SPDX-License-Identifier: GPL-2.0 */
/*
 * auth: the challenge-response of rswap_wire.h, for userspace (the server
 * and the client library). HMAC-SHA256 comes from OpenSSL's libcrypto; the
 * kernel module computes the same with the kernel's hmac(sha256).
 */
#ifndef RSWAP_AUTH_H
#define RSWAP_AUTH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "rswap_wire.h"

#define AUTH_KEY_MIN 16		/* bytes: 128 bits */
#define AUTH_KEY_MAX 256

struct auth_key {
	uint8_t bytes[AUTH_KEY_MAX];
	size_t len;
};

/*
 * Load a pre-shared key file: its bytes, a trailing newline removed. The
 * file must be a regular file not readable or writable by group or others,
 * and hold AUTH_KEY_MIN..AUTH_KEY_MAX bytes. 0, or -1 with a reason in @err.
 */
int auth_key_load(struct auth_key *key, const char *path, char *err, size_t err_size);

/* HMAC-SHA256(key, data) into mac; 0 or -1. */
int auth_hmac(const struct auth_key *key, const void *data, size_t len,
	      uint8_t mac[RSWAP_MAC_LEN]);

/*
 * Kc, the key of client @id, from the pool key: the RSWAP_CLIENT_KEY_HEX
 * lowercase hex digits of HMAC-SHA256(pool, "rswap-client-key" || id), as a
 * key (what a client's key file holds). 0 or -1.
 */
int auth_client_key(const struct auth_key *pool, const uint8_t id[RSWAP_ID_LEN],
		    struct auth_key *out);
/* The 16-byte client id of a client id text (rswap.ko's client_id=, or its
 * host name and device): SHA-256("rswap-client-id" NUL text), cut. 0 or -1. */
int auth_client_id(const char *text, uint8_t id[RSWAP_ID_LEN]);
/* The binding of a handshake between @client and @server (their socket
 * addresses on the connection): 0, or -1 for a family that is not IP. */
int auth_binding(const struct sockaddr *client, const struct sockaddr *server,
		 struct rswap_auth_binding *b);

/* The client's proof: HMAC(Kc, "rswap-auth-client" S C T); see rswap_wire.h. */
int auth_client_mac(const struct auth_key *key, const uint8_t server_nonce[RSWAP_NONCE_LEN],
		    const uint8_t client_nonce[RSWAP_NONCE_LEN],
		    const uint8_t client_id[RSWAP_ID_LEN], const uint8_t server_id[RSWAP_ID_LEN],
		    const struct rswap_auth_binding *b, uint8_t mac[RSWAP_MAC_LEN]);
/* The server's proof: HMAC(Kc, "rswap-auth-server" C S T). */
int auth_server_mac(const struct auth_key *key, const uint8_t server_nonce[RSWAP_NONCE_LEN],
		    const uint8_t client_nonce[RSWAP_NONCE_LEN],
		    const uint8_t client_id[RSWAP_ID_LEN], const uint8_t server_id[RSWAP_ID_LEN],
		    const struct rswap_auth_binding *b, uint8_t mac[RSWAP_MAC_LEN]);

/*
 * The MAC of a copy accept (struct rswap_copy_accept): HMAC-SHA256 with the
 * pool key @pool over rswap_copy_transcript("rswap-copy-accept", @nonce,
 * @token, @slab, @addr, @rkey, @size). Only servers hold the pool key, so a
 * right MAC proves the target is one. 0 or -1.
 */
int auth_copy_accept_mac(const struct auth_key *pool, const uint8_t nonce[RSWAP_COPY_NONCE_LEN],
			 const uint8_t token[RSWAP_TOKEN_LEN], uint32_t slab, uint64_t addr,
			 uint32_t rkey, uint64_t size, uint8_t mac[RSWAP_MAC_LEN]);

/* Constant-time comparison of two MACs: 1 if equal. */
/*
 * The admin API's proof for one request (proto/rswap.proto): HMAC(@key,
 * "rswap-admin-request" || @nonce || @req), @req the packed AdminRequest.
 * 0 or -1.
 */
#define AUTH_ADMIN_LABEL "rswap-admin-request"
int auth_admin_mac(const struct auth_key *key, const uint8_t nonce[RSWAP_NONCE_LEN],
		   const uint8_t *req, size_t len, uint8_t mac[RSWAP_MAC_LEN]);

int auth_mac_equal(const uint8_t a[RSWAP_MAC_LEN], const uint8_t b[RSWAP_MAC_LEN]);
/* The same for any two secrets of @len bytes (attach tokens). */
int auth_secret_equal(const uint8_t *a, const uint8_t *b, size_t len);

#endif
