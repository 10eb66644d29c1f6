// SPDX-License-Identifier: GPL-2.0
/* auth: key files and HMAC-SHA256 proofs; see auth.h. */
#include "auth.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
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

#define AUTH_LABEL_CLIENT "rswap-auth-client"
#define AUTH_LABEL_SERVER "rswap-auth-server"

static int proof(const struct auth_key *key, const char *label, const uint8_t *first,
		 const uint8_t *second, const uint8_t *id, uint8_t mac[RSWAP_MAC_LEN])
{
	uint8_t msg[sizeof(AUTH_LABEL_CLIENT) - 1 + 2 * RSWAP_NONCE_LEN + RSWAP_ID_LEN];
	size_t l = strlen(label);

	_Static_assert(sizeof(AUTH_LABEL_CLIENT) == sizeof(AUTH_LABEL_SERVER), "labels");
	memcpy(msg, label, l);
	memcpy(msg + l, first, RSWAP_NONCE_LEN);
	memcpy(msg + l + RSWAP_NONCE_LEN, second, RSWAP_NONCE_LEN);
	memcpy(msg + l + 2 * RSWAP_NONCE_LEN, id, RSWAP_ID_LEN);
	return auth_hmac(key, msg, sizeof(msg), mac);
}

int auth_client_mac(const struct auth_key *key, const uint8_t server_nonce[RSWAP_NONCE_LEN],
		    const uint8_t client_nonce[RSWAP_NONCE_LEN],
		    const uint8_t client_id[RSWAP_ID_LEN], uint8_t mac[RSWAP_MAC_LEN])
{
	return proof(key, AUTH_LABEL_CLIENT, server_nonce, client_nonce, client_id, mac);
}

int auth_server_mac(const struct auth_key *key, const uint8_t server_nonce[RSWAP_NONCE_LEN],
		    const uint8_t client_nonce[RSWAP_NONCE_LEN],
		    const uint8_t client_id[RSWAP_ID_LEN], uint8_t mac[RSWAP_MAC_LEN])
{
	return proof(key, AUTH_LABEL_SERVER, client_nonce, server_nonce, client_id, mac);
}

int auth_secret_equal(const uint8_t *a, const uint8_t *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

int auth_mac_equal(const uint8_t a[RSWAP_MAC_LEN], const uint8_t b[RSWAP_MAC_LEN])
{
	return auth_secret_equal(a, b, RSWAP_MAC_LEN);
}
