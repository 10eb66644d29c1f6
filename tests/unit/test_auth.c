// SPDX-License-Identifier: GPL-2.0
/*
 * Description: common/auth.c. HMAC-SHA256 matches RFC 4231's test case 2;
 * client and server proofs differ from each other and change with every
 * input (a proof cannot be replayed for another nonce, client id, server or
 * endpoint); client ids and client keys match independently computed
 * values; key
 * files that are missing, world-readable, too short or too long are
 * refused with a reason. The admin API's proof is the HMAC of its label,
 * nonce and request, and changes with each of them. The MAC of a MIGRATE
 * copy's accept changes with its nonce, token, slab, address, rkey, size
 * and key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "auth.h"

static void hmac_matches_rfc4231(void **state)
{
	static const uint8_t want[RSWAP_MAC_LEN] = {
		0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24, 0x26,
		0x08, 0x95, 0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27, 0x39, 0x83,
		0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43,
	};
	struct auth_key key = { .len = 4 };
	const char *data = "what do ya want for nothing?";
	uint8_t mac[RSWAP_MAC_LEN];

	(void)state;
	memcpy(key.bytes, "Jefe", 4);
	assert_int_equal(auth_hmac(&key, data, strlen(data), mac), 0);
	assert_memory_equal(mac, want, sizeof(want));
}

static void binding_of(const char *client_ip, const char *server_ip, uint16_t port,
		       struct rswap_auth_binding *b)
{
	struct sockaddr_in cl = { .sin_family = AF_INET }, sv = { .sin_family = AF_INET };

	assert_int_equal(inet_pton(AF_INET, client_ip, &cl.sin_addr), 1);
	assert_int_equal(inet_pton(AF_INET, server_ip, &sv.sin_addr), 1);
	sv.sin_port = htons(port);
	assert_int_equal(auth_binding((struct sockaddr *)&cl, (struct sockaddr *)&sv, b), 0);
}

/* Each input of the proof changes it: nonces, client id, server id, both
 * addresses, the server's port, the key. */
static void proofs_bind_every_input(void **state)
{
	struct auth_key key = { .len = 20 };
	uint8_t s[RSWAP_NONCE_LEN] = { 1 }, c[RSWAP_NONCE_LEN] = { 2 }, id[RSWAP_ID_LEN] = { 3 };
	uint8_t sid[RSWAP_ID_LEN] = { 4 };
	uint8_t base[RSWAP_MAC_LEN], srv[RSWAP_MAC_LEN], m[RSWAP_MAC_LEN];
	struct rswap_auth_binding b, other;

	(void)state;
	memset(key.bytes, 0x42, key.len);
	binding_of("10.77.0.9", "10.77.0.1", 7471, &b);
	assert_int_equal(auth_client_mac(&key, s, c, id, sid, &b, base), 0);
	assert_int_equal(auth_client_mac(&key, s, c, id, sid, &b, m), 0);
	assert_true(auth_mac_equal(base, m));
	assert_int_equal(auth_server_mac(&key, s, c, id, sid, &b, srv), 0);
	assert_false(auth_mac_equal(base, srv));

#define CHANGED(field, i) do {							\
		field[i] ^= 1;							\
		assert_int_equal(auth_client_mac(&key, s, c, id, sid, &b, m), 0); \
		assert_false(auth_mac_equal(base, m));				\
		field[i] ^= 1;							\
	} while (0)
	CHANGED(s, 5);
	CHANGED(c, 31);
	CHANGED(id, 15);
	CHANGED(sid, 0);
	CHANGED(key.bytes, 0);
#undef CHANGED
	binding_of("10.77.0.8", "10.77.0.1", 7471, &other);
	assert_int_equal(auth_client_mac(&key, s, c, id, sid, &other, m), 0);
	assert_false(auth_mac_equal(base, m));
	binding_of("10.77.0.9", "10.77.0.2", 7471, &other);
	assert_int_equal(auth_client_mac(&key, s, c, id, sid, &other, m), 0);
	assert_false(auth_mac_equal(base, m));
	binding_of("10.77.0.9", "10.77.0.1", 7472, &other);
	assert_int_equal(auth_client_mac(&key, s, c, id, sid, &other, m), 0);
	assert_false(auth_mac_equal(base, m));
}

/* An IPv4 peer binds the same whether its address came as AF_INET or as
 * an IPv4-mapped AF_INET6 (a server listening on [::]); other families do
 * not bind at all. */
static void binding_maps_ipv4(void **state)
{
	struct sockaddr_in6 cl6 = { .sin6_family = AF_INET6 }, sv6 = { .sin6_family = AF_INET6 };
	struct rswap_auth_binding b4, b6;
	struct sockaddr unix_sa = { .sa_family = AF_UNIX };

	(void)state;
	binding_of("10.0.0.1", "10.0.0.2", 7471, &b4);
	assert_int_equal(inet_pton(AF_INET6, "::ffff:10.0.0.1", &cl6.sin6_addr), 1);
	assert_int_equal(inet_pton(AF_INET6, "::ffff:10.0.0.2", &sv6.sin6_addr), 1);
	sv6.sin6_port = htons(7471);
	assert_int_equal(auth_binding((struct sockaddr *)&cl6, (struct sockaddr *)&sv6, &b6), 0);
	assert_memory_equal(&b4, &b6, sizeof(b4));
	assert_int_equal(auth_binding(&unix_sa, (struct sockaddr *)&sv6, &b6), -1);
	assert_int_equal(auth_binding(NULL, (struct sockaddr *)&sv6, &b6), -1);
}

/*
 * Client ids and client keys against values computed independently
 * (Python's hashlib and hmac): id = SHA-256("rswap-client-id" NUL text)
 * cut to 16 bytes, as rswap.ko derives it; Kc = hex(HMAC(pool key,
 * "rswap-client-key" id)). A client key is the key of its id only.
 */
static void client_keys_derive(void **state)
{
	static const uint8_t want_id[RSWAP_ID_LEN] = {
		0x05, 0xc5, 0xf0, 0xda, 0x2a, 0x48, 0xc6, 0x9a,
		0x4d, 0xa4, 0xfe, 0xf8, 0x1c, 0x8b, 0xaf, 0xe9,
	};
	static const char want_key[] =
		"31164f673cb01d15b695b94cb3ed8ad306eafa5443275ecc5224e85bfc9daa61";
	struct auth_key pool = { .len = 20 }, kc, other;
	uint8_t id[RSWAP_ID_LEN];

	(void)state;
	memcpy(pool.bytes, "0123456789abcdef0123", 20);
	assert_int_equal(auth_client_id("host1:rswap0", id), 0);
	assert_memory_equal(id, want_id, sizeof(want_id));
	assert_int_equal(auth_client_key(&pool, id, &kc), 0);
	assert_int_equal(kc.len, RSWAP_CLIENT_KEY_HEX);
	assert_memory_equal(kc.bytes, want_key, RSWAP_CLIENT_KEY_HEX);
	id[0] ^= 1;
	assert_int_equal(auth_client_key(&pool, id, &other), 0);
	assert_memory_not_equal(kc.bytes, other.bytes, RSWAP_CLIENT_KEY_HEX);
	id[0] ^= 1;
	pool.bytes[0] ^= 1;
	assert_int_equal(auth_client_key(&pool, id, &other), 0);
	assert_memory_not_equal(kc.bytes, other.bytes, RSWAP_CLIENT_KEY_HEX);
}

static char dir[] = "/tmp/rswap-auth-XXXXXX";

static const char *write_key(const char *name, const char *text, mode_t mode)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

/* The copy accept's MAC: the same inputs give the same MAC (the source
 * recomputes what the target sent); any other nonce, token, slab, addr,
 * rkey or size, or another key, gives another one, so a tampered or
 * replayed accept, or one from a peer without the pool key, is refused. */
static void copy_accept_mac_binds_every_input(void **state)
{
	struct auth_key pool = { .len = 32 }, other = { .len = 32 };
	uint8_t nonce[RSWAP_COPY_NONCE_LEN], token[RSWAP_TOKEN_LEN];
	uint8_t good[RSWAP_MAC_LEN], again[RSWAP_MAC_LEN], bad[RSWAP_MAC_LEN];
	const uint32_t slab = 7, rkey = 0x1234;
	const uint64_t addr = 0x7f0000100000ull, size = 1u << 20;

	(void)state;
	memset(pool.bytes, 0x11, pool.len);
	memset(other.bytes, 0x11, other.len);
	other.bytes[31] ^= 1;
	memset(nonce, 0x22, sizeof(nonce));
	memset(token, 0x33, sizeof(token));
	assert_int_equal(auth_copy_accept_mac(&pool, nonce, token, slab, addr, rkey, size, good), 0);
	assert_int_equal(auth_copy_accept_mac(&pool, nonce, token, slab, addr, rkey, size, again), 0);
	assert_true(auth_mac_equal(good, again));

	nonce[15] ^= 1;		/* a replayed accept: another copy's nonce */
	assert_int_equal(auth_copy_accept_mac(&pool, nonce, token, slab, addr, rkey, size, bad), 0);
	assert_false(auth_mac_equal(good, bad));
	nonce[15] ^= 1;
	token[0] ^= 1;
	assert_int_equal(auth_copy_accept_mac(&pool, nonce, token, slab, addr, rkey, size, bad), 0);
	assert_false(auth_mac_equal(good, bad));
	token[0] ^= 1;
	assert_int_equal(auth_copy_accept_mac(&pool, nonce, token, slab + 1, addr, rkey, size, bad), 0);
	assert_false(auth_mac_equal(good, bad));
	assert_int_equal(auth_copy_accept_mac(&pool, nonce, token, slab, addr + 4096, rkey, size,
					      bad), 0);
	assert_false(auth_mac_equal(good, bad));
	assert_int_equal(auth_copy_accept_mac(&pool, nonce, token, slab, addr, rkey ^ 1, size, bad),
			 0);
	assert_false(auth_mac_equal(good, bad));
	assert_int_equal(auth_copy_accept_mac(&pool, nonce, token, slab, addr, rkey, size * 2, bad),
			 0);
	assert_false(auth_mac_equal(good, bad));
	/* a client's own key (derived from the pool key) is not the pool key */
	assert_int_equal(auth_copy_accept_mac(&other, nonce, token, slab, addr, rkey, size, bad), 0);
	assert_false(auth_mac_equal(good, bad));
	/* and it is HMAC-SHA256 over the documented transcript */
	{
		uint8_t msg[RSWAP_COPY_TRANSCRIPT_LEN];
		size_t len = rswap_copy_transcript(msg, nonce, token, slab, addr, rkey, size);

		assert_int_equal(auth_hmac(&pool, msg, len, bad), 0);
		assert_memory_equal(good, bad, RSWAP_MAC_LEN);
	}
}

static void key_files(void **state)
{
	struct auth_key key;
	char err[256];
	const char *p;

	(void)state;
	assert_non_null(mkdtemp(dir));
	p = write_key("good", "0123456789abcdef0123\n", 0600);
	assert_int_equal(auth_key_load(&key, p, err, sizeof(err)), 0);
	assert_int_equal(key.len, 20);
	assert_memory_equal(key.bytes, "0123456789abcdef0123", 20);
	unlink(p);

	p = write_key("open", "0123456789abcdef0123", 0644);
	assert_int_equal(auth_key_load(&key, p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "readable by others (mode 644)"));
	unlink(p);

	p = write_key("short", "tooshort\n", 0600);
	assert_int_equal(auth_key_load(&key, p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "must be 16..256 bytes, has 8"));
	unlink(p);

	{
		char big[400];

		memset(big, 'k', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		p = write_key("long", big, 0600);
		assert_int_equal(auth_key_load(&key, p, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "must be 16..256 bytes"));
		unlink(p);
	}

	assert_int_equal(auth_key_load(&key, "/nonexistent/key", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "No such file"));
	assert_int_equal(auth_key_load(&key, dir, err, sizeof(err)), -1);
	rmdir(dir);
}

/* The admin proof: HMAC(key, label || nonce || request), computed here the
 * long way; another nonce, request byte or key gives another proof. */
static void admin_proof_binds_nonce_and_request(void **state)
{
	struct auth_key key = { .len = 20 }, other = { .len = 20 };
	uint8_t nonce[RSWAP_NONCE_LEN], req[5] = { 0x22, 0x00, 0x0a, 0x00, 0x01 };
	uint8_t msg[sizeof(AUTH_ADMIN_LABEL) - 1 + RSWAP_NONCE_LEN + sizeof(req)];
	uint8_t mac[RSWAP_MAC_LEN], want[RSWAP_MAC_LEN], again[RSWAP_MAC_LEN];

	(void)state;
	memset(key.bytes, 0x5a, key.len);
	memset(other.bytes, 0x5b, other.len);
	for (unsigned int i = 0; i < sizeof(nonce); i++)
		nonce[i] = (uint8_t)(i * 7 + 1);
	memcpy(msg, AUTH_ADMIN_LABEL, sizeof(AUTH_ADMIN_LABEL) - 1);
	memcpy(msg + sizeof(AUTH_ADMIN_LABEL) - 1, nonce, sizeof(nonce));
	memcpy(msg + sizeof(AUTH_ADMIN_LABEL) - 1 + sizeof(nonce), req, sizeof(req));
	assert_int_equal(auth_hmac(&key, msg, sizeof(msg), want), 0);
	assert_int_equal(auth_admin_mac(&key, nonce, req, sizeof(req), mac), 0);
	assert_memory_equal(mac, want, sizeof(mac));
	nonce[31] ^= 1;
	assert_int_equal(auth_admin_mac(&key, nonce, req, sizeof(req), again), 0);
	assert_memory_not_equal(again, want, sizeof(again));
	nonce[31] ^= 1;
	req[4] ^= 1;
	assert_int_equal(auth_admin_mac(&key, nonce, req, sizeof(req), again), 0);
	assert_memory_not_equal(again, want, sizeof(again));
	req[4] ^= 1;
	assert_int_equal(auth_admin_mac(&other, nonce, req, sizeof(req), again), 0);
	assert_memory_not_equal(again, want, sizeof(again));
	/* An empty request (all fields default) is a request too. */
	assert_int_equal(auth_admin_mac(&key, nonce, req, 0, again), 0);
	assert_memory_not_equal(again, want, sizeof(again));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hmac_matches_rfc4231),
		cmocka_unit_test(proofs_bind_every_input),
		cmocka_unit_test(binding_maps_ipv4),
		cmocka_unit_test(client_keys_derive),
		cmocka_unit_test(copy_accept_mac_binds_every_input),
		cmocka_unit_test(key_files),
		cmocka_unit_test(admin_proof_binds_nonce_and_request),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
