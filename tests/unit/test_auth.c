// SPDX-License-Identifier: GPL-2.0
/*
 * Description: common/auth.c. HMAC-SHA256 matches RFC 4231's test case 2;
 * client and server proofs differ from each other and change with every
 * input (a proof cannot be replayed for another nonce or client id); key
 * files that are missing, world-readable, too short or too long are
 * refused with a reason.
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

static void proofs_bind_every_input(void **state)
{
	struct auth_key key = { .len = 20 };
	uint8_t s[RSWAP_NONCE_LEN] = { 1 }, c[RSWAP_NONCE_LEN] = { 2 }, id[RSWAP_ID_LEN] = { 3 };
	uint8_t base[RSWAP_MAC_LEN], srv[RSWAP_MAC_LEN], m[RSWAP_MAC_LEN];

	(void)state;
	memset(key.bytes, 0x42, key.len);
	assert_int_equal(auth_client_mac(&key, s, c, id, base), 0);
	assert_int_equal(auth_client_mac(&key, s, c, id, m), 0);
	assert_true(auth_mac_equal(base, m));
	assert_int_equal(auth_server_mac(&key, s, c, id, srv), 0);
	assert_false(auth_mac_equal(base, srv));

	s[5] ^= 1;
	assert_int_equal(auth_client_mac(&key, s, c, id, m), 0);
	assert_false(auth_mac_equal(base, m));
	s[5] ^= 1;
	c[31] ^= 1;
	assert_int_equal(auth_client_mac(&key, s, c, id, m), 0);
	assert_false(auth_mac_equal(base, m));
	c[31] ^= 1;
	id[15] ^= 1;
	assert_int_equal(auth_client_mac(&key, s, c, id, m), 0);
	assert_false(auth_mac_equal(base, m));
	id[15] ^= 1;
	key.bytes[0] ^= 1;
	assert_int_equal(auth_client_mac(&key, s, c, id, m), 0);
	assert_false(auth_mac_equal(base, m));
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hmac_matches_rfc4231),
		cmocka_unit_test(proofs_bind_every_input),
		cmocka_unit_test(key_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
