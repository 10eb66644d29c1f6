// SPDX-License-Identifier: GPL-2.0
/*
 * Description: server/peer_addr.c, a connecting peer's address. Its name in
 * the logs is "A.B.C.D:PORT" for IPv4 and "[IPv6]:PORT" for IPv6 (with
 * "%SCOPE" when set), never empty. Its key for the per-source cap is the
 * address without the port: two connections of one host are the same
 * source whatever their ports, an IPv4-mapped IPv6 address is its IPv4
 * address, and addresses differing in any byte are different sources.
 * A peer's status "listen" field names an RDMA address only when it is a
 * numeric, specific one; a wildcard or a host name says "look elsewhere",
 * and anything that is not HOST:PORT is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "peer_addr.h"

static struct sockaddr_in v4(const char *addr, uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };

	assert_int_equal(inet_pton(AF_INET, addr, &sin.sin_addr), 1);
	return sin;
}

static struct sockaddr_in6 v6(const char *addr, uint16_t port, uint32_t scope)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(port),
				     .sin6_scope_id = scope };

	assert_int_equal(inet_pton(AF_INET6, addr, &sin6.sin6_addr), 1);
	return sin6;
}

static void names(void **state)
{
	struct sockaddr_in a = v4("10.0.2.15", 39781);
	struct sockaddr_in6 b = v6("2001:db8::1", 7471, 0), c = v6("fe80::1", 1, 2);
	struct sockaddr_in6 d = v6("::ffff:192.0.2.7", 80, 0);
	struct sockaddr other = { .sa_family = AF_UNIX };
	char buf[PEER_NAME_MAX], small[8];

	(void)state;
	peer_name_of((struct sockaddr *)&a, buf, sizeof(buf));
	assert_string_equal(buf, "10.0.2.15:39781");
	peer_name_of((struct sockaddr *)&b, buf, sizeof(buf));
	assert_string_equal(buf, "[2001:db8::1]:7471");
	peer_name_of((struct sockaddr *)&c, buf, sizeof(buf));
	assert_string_equal(buf, "[fe80::1%2]:1");
	peer_name_of((struct sockaddr *)&d, buf, sizeof(buf));
	assert_string_equal(buf, "[::ffff:192.0.2.7]:80");
	b = v6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535, 4294967295u);
	peer_name_of((struct sockaddr *)&b, buf, sizeof(buf));
	assert_string_equal(buf, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff%4294967295]:65535");
	peer_name_of(&other, buf, sizeof(buf));
	assert_string_equal(buf, "?");
	peer_name_of(NULL, buf, sizeof(buf));
	assert_string_equal(buf, "?");
	peer_name_of((struct sockaddr *)&a, small, sizeof(small));
	assert_string_equal(small, "10.0.2.");
}

static void sources(void **state)
{
	struct sockaddr_in a1 = v4("10.0.2.15", 1000), a2 = v4("10.0.2.15", 2000);
	struct sockaddr_in b = v4("10.0.2.16", 1000);
	struct sockaddr_in6 m = v6("::ffff:10.0.2.15", 3000, 0);
	struct sockaddr_in6 x1 = v6("2001:db8::1", 1, 0), x2 = v6("2001:db8::1", 2, 5);
	struct sockaddr_in6 y = v6("2001:db8::2", 1, 0);
	/* the IPv6 address whose last four bytes are a1's, not mapped */
	struct sockaddr_in6 z = v6("::10.0.2.15", 1, 0);
	struct peer_source sa1, sa2, sb, sm, sx1, sx2, sy, sz, none;

	(void)state;
	peer_source_of((struct sockaddr *)&a1, &sa1);
	peer_source_of((struct sockaddr *)&a2, &sa2);
	peer_source_of((struct sockaddr *)&b, &sb);
	peer_source_of((struct sockaddr *)&m, &sm);
	peer_source_of((struct sockaddr *)&x1, &sx1);
	peer_source_of((struct sockaddr *)&x2, &sx2);
	peer_source_of((struct sockaddr *)&y, &sy);
	peer_source_of((struct sockaddr *)&z, &sz);
	peer_source_of(NULL, &none);
	assert_true(peer_source_equal(&sa1, &sa2));	/* ports differ */
	assert_false(peer_source_equal(&sa1, &sb));
	assert_true(peer_source_equal(&sa1, &sm));	/* v4-mapped is v4 */
	assert_int_equal(sm.family, AF_INET);
	assert_true(peer_source_equal(&sx1, &sx2));	/* ports and scope differ */
	assert_false(peer_source_equal(&sx1, &sy));
	assert_false(peer_source_equal(&sa1, &sz));
	assert_false(peer_source_equal(&sa1, &sx1));
	assert_int_equal(none.family, AF_UNSPEC);
	assert_false(peer_source_equal(&none, &sa1));
}

static void listen_fields(void **state)
{
	struct sockaddr_in a = v4("192.0.2.7", 1);
	struct sockaddr_in6 b = v6("2001:db8::5", 1, 0);
	struct peer_source src, want;

	(void)state;
	assert_int_equal(peer_listen_ip("192.0.2.7:7471", &src), 0);
	peer_source_of((struct sockaddr *)&a, &want);
	assert_true(peer_source_equal(&src, &want));
	assert_int_equal(peer_listen_ip("[2001:db8::5]:7471", &src), 0);
	peer_source_of((struct sockaddr *)&b, &want);
	assert_true(peer_source_equal(&src, &want));
	/* an IPv4-mapped address is the IPv4 host */
	assert_int_equal(peer_listen_ip("[::ffff:192.0.2.7]:7471", &src), 0);
	peer_source_of((struct sockaddr *)&a, &want);
	assert_true(peer_source_equal(&src, &want));
	/* every address, or a name: the status does not say which */
	assert_int_equal(peer_listen_ip("0.0.0.0:7471", &src), 1);
	assert_int_equal(src.family, AF_UNSPEC);
	assert_int_equal(peer_listen_ip("[::]:7471", &src), 1);
	assert_int_equal(peer_listen_ip(":7471", &src), 1);
	assert_int_equal(peer_listen_ip("mem2.example:7471", &src), 1);
	/* not HOST:PORT */
	assert_int_equal(peer_listen_ip(NULL, &src), -1);
	assert_int_equal(peer_listen_ip("", &src), -1);
	assert_int_equal(peer_listen_ip("192.0.2.7", &src), -1);
	assert_int_equal(peer_listen_ip("192.0.2.7:", &src), -1);
	assert_int_equal(peer_listen_ip("192.0.2.7:0", &src), -1);
	assert_int_equal(peer_listen_ip("192.0.2.7:65536", &src), -1);
	assert_int_equal(peer_listen_ip("192.0.2.7:74x1", &src), -1);
	assert_int_equal(peer_listen_ip("192.0.2.7:-1", &src), -1);
	assert_int_equal(peer_listen_ip("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:1",
					&src), -1);
	assert_int_equal(src.family, AF_UNSPEC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names),
		cmocka_unit_test(sources),
		cmocka_unit_test(listen_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
