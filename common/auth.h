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

/* The client's proof: HMAC(key, "rswap-auth-client" S C id). */
int auth_client_mac(const struct auth_key *key, const uint8_t server_nonce[RSWAP_NONCE_LEN],
		    const uint8_t client_nonce[RSWAP_NONCE_LEN],
		    const uint8_t client_id[RSWAP_ID_LEN], uint8_t mac[RSWAP_MAC_LEN]);
/* The server's proof: HMAC(key, "rswap-auth-server" C S id). */
int auth_server_mac(const struct auth_key *key, const uint8_t server_nonce[RSWAP_NONCE_LEN],
		    const uint8_t client_nonce[RSWAP_NONCE_LEN],
		    const uint8_t client_id[RSWAP_ID_LEN], uint8_t mac[RSWAP_MAC_LEN]);

/* Constant-time comparison of two MACs: 1 if equal. */
int auth_mac_equal(const uint8_t a[RSWAP_MAC_LEN], const uint8_t b[RSWAP_MAC_LEN]);
/* The same for any two secrets of @len bytes (attach tokens). */
int auth_secret_equal(const uint8_t *a, const uint8_t *b, size_t len);

#endif
