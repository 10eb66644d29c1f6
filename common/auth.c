// SPDX-License-Identifier: GPL-2.0
/* auth: key files and HMAC-SHA256 proofs; see auth.h. */
#include "auth.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

int auth_key_load(struct auth_key *key, const char *path, char *err, size_t err_size)
{
	uint8_t buf[AUTH_KEY_MAX + 2];
	struct stat st;
	ssize_t n;
	int fd;

	memset(key, 0, sizeof(*key));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		snprintf(err, err_size, "key file %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		snprintf(err, err_size, "key file %s: not a regular file", path);
		goto out_close;
	}
	if (st.st_mode & 077) {
		snprintf(err, err_size, "key file %s: readable by others (mode %03o); chmod 600 it",
			 path, (unsigned int)(st.st_mode & 0777));
		goto out_close;
	}
	n = read(fd, buf, sizeof(buf));
	if (n < 0) {
		snprintf(err, err_size, "key file %s: %s", path, strerror(errno));
		goto out_close;
	}
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	if (n < AUTH_KEY_MIN || n > AUTH_KEY_MAX) {
		snprintf(err, err_size, "key file %s: key must be %d..%d bytes, has %zd", path,
			 AUTH_KEY_MIN, AUTH_KEY_MAX, n);
		goto out_close;
	}
	memcpy(key->bytes, buf, (size_t)n);
	key->len = (size_t)n;
	OPENSSL_cleanse(buf, sizeof(buf));
	close(fd);
	return 0;

out_close:
	OPENSSL_cleanse(buf, sizeof(buf));
	close(fd);
	return -1;
}

int auth_hmac(const struct auth_key *key, const void *data, size_t len,
	      uint8_t mac[RSWAP_MAC_LEN])
{
	unsigned int out_len = 0;

	if (!HMAC(EVP_sha256(), key->bytes, (int)key->len, data, len, mac, &out_len) ||
	    out_len != RSWAP_MAC_LEN)
		return -1;
	return 0;
}

int auth_client_key(const struct auth_key *pool, const uint8_t id[RSWAP_ID_LEN],
		    struct auth_key *out)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t msg[sizeof(RSWAP_CLIENT_KEY_LABEL) - 1 + RSWAP_ID_LEN];
	uint8_t mac[RSWAP_MAC_LEN];
	unsigned int i;

	_Static_assert(2 * RSWAP_MAC_LEN == RSWAP_CLIENT_KEY_HEX, "Kc is the hex of a MAC");
	memset(out, 0, sizeof(*out));
	memcpy(msg, RSWAP_CLIENT_KEY_LABEL, sizeof(RSWAP_CLIENT_KEY_LABEL) - 1);
	memcpy(msg + sizeof(RSWAP_CLIENT_KEY_LABEL) - 1, id, RSWAP_ID_LEN);
	if (auth_hmac(pool, msg, sizeof(msg), mac))
		return -1;
	for (i = 0; i < RSWAP_MAC_LEN; i++) {
		out->bytes[2 * i] = (uint8_t)hex[mac[i] >> 4];
		out->bytes[2 * i + 1] = (uint8_t)hex[mac[i] & 15];
	}
	out->len = RSWAP_CLIENT_KEY_HEX;
	OPENSSL_cleanse(mac, sizeof(mac));
	return 0;
}

int auth_client_id(const char *text, uint8_t id[RSWAP_ID_LEN])
{
	static const char label[] = "rswap-client-id";	/* its NUL is hashed too */
	uint8_t digest[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ret = -1;

	if (ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
	    EVP_DigestUpdate(ctx, label, sizeof(label)) &&
	    EVP_DigestUpdate(ctx, text, strlen(text)) &&
	    EVP_DigestFinal_ex(ctx, digest, &len) && len >= RSWAP_ID_LEN) {
		memcpy(id, digest, RSWAP_ID_LEN);
		ret = 0;
	}
	EVP_MD_CTX_free(ctx);
	return ret;
}

int auth_binding(const struct sockaddr *client, const struct sockaddr *server,
		 struct rswap_auth_binding *b)
{
	memset(b, 0, sizeof(*b));
	if (!client || !server || rswap_auth_endpoint(client, b->client_addr, NULL) ||
	    rswap_auth_endpoint(server, b->server_addr, b->server_port))
		return -1;
	return 0;
}

static int proof(const struct auth_key *key, const char *label, const uint8_t *first,
		 const uint8_t *second, const uint8_t *client_id, const uint8_t *server_id,
		 const struct rswap_auth_binding *b, uint8_t mac[RSWAP_MAC_LEN])
{
	uint8_t msg[RSWAP_AUTH_TRANSCRIPT_LEN];
	size_t len = rswap_auth_transcript(msg, label, first, second, client_id, server_id, b);

	return auth_hmac(key, msg, len, mac);
}

int auth_client_mac(const struct auth_key *key, const uint8_t server_nonce[RSWAP_NONCE_LEN],
		    const uint8_t client_nonce[RSWAP_NONCE_LEN],
		    const uint8_t client_id[RSWAP_ID_LEN], const uint8_t server_id[RSWAP_ID_LEN],
		    const struct rswap_auth_binding *b, uint8_t mac[RSWAP_MAC_LEN])
{
	return proof(key, RSWAP_AUTH_CLIENT_LABEL, server_nonce, client_nonce, client_id,
		     server_id, b, mac);
}

int auth_server_mac(const struct auth_key *key, const uint8_t server_nonce[RSWAP_NONCE_LEN],
		    const uint8_t client_nonce[RSWAP_NONCE_LEN],
		    const uint8_t client_id[RSWAP_ID_LEN], const uint8_t server_id[RSWAP_ID_LEN],
		    const struct rswap_auth_binding *b, uint8_t mac[RSWAP_MAC_LEN])
{
	return proof(key, RSWAP_AUTH_SERVER_LABEL, client_nonce, server_nonce, client_id,
		     server_id, b, mac);
}

int auth_admin_mac(const struct auth_key *key, const uint8_t nonce[RSWAP_NONCE_LEN],
		   const uint8_t *req, size_t len, uint8_t mac[RSWAP_MAC_LEN])
{
	size_t label = sizeof(AUTH_ADMIN_LABEL) - 1;
	uint8_t *msg = malloc(label + RSWAP_NONCE_LEN + len);
	int ret;

	if (!msg)
		return -1;
	memcpy(msg, AUTH_ADMIN_LABEL, label);
	memcpy(msg + label, nonce, RSWAP_NONCE_LEN);
	memcpy(msg + label + RSWAP_NONCE_LEN, req, len);
	ret = auth_hmac(key, msg, label + RSWAP_NONCE_LEN + len, mac);
	free(msg);
	return ret;
}

int auth_copy_accept_mac(const struct auth_key *pool, const uint8_t nonce[RSWAP_COPY_NONCE_LEN],
			 const uint8_t token[RSWAP_TOKEN_LEN], uint32_t slab, uint64_t addr,
			 uint32_t rkey, uint64_t size, uint8_t mac[RSWAP_MAC_LEN])
{
	uint8_t msg[RSWAP_COPY_TRANSCRIPT_LEN];
	size_t len = rswap_copy_transcript(msg, nonce, token, slab, addr, rkey, size);
	int ret;

	_Static_assert(sizeof(RSWAP_COPY_ACCEPT_LABEL) - 1 == RSWAP_COPY_LABEL_LEN,
		       "the copy label's length");
	ret = auth_hmac(pool, msg, len, mac);
	OPENSSL_cleanse(msg, sizeof(msg));	/* it holds the token */
	return ret;
}

int auth_secret_equal(const uint8_t *a, const uint8_t *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

int auth_mac_equal(const uint8_t a[RSWAP_MAC_LEN], const uint8_t b[RSWAP_MAC_LEN])
{
	return auth_secret_equal(a, b, RSWAP_MAC_LEN);
}
