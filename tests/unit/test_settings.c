// SPDX-License-Identifier: GPL-2.0
/*
 * Description: rswap-server's command line. Sizes and addresses parse as
 * documented; a good command line fills every setting with its value or
 * default; each bad or contradictory one is refused with a reason that
 * names the option.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "settings.h"

static void sizes_parse(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(parse_size("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(parse_size("64K", &v), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(parse_size("512M", &v), 0);
	assert_int_equal(v, 512ull << 20);
	assert_int_equal(parse_size("8G", &v), 0);
	assert_int_equal(v, 8ull << 30);
	assert_int_equal(parse_size("2GiB", &v), 0);
	assert_int_equal(v, 2ull << 30);
	assert_int_equal(parse_size("1t", &v), 0);
	assert_int_equal(v, 1ull << 40);
	assert_int_equal(parse_size("", &v), -1);
	assert_int_equal(parse_size("-1G", &v), -1);
	assert_int_equal(parse_size("1X", &v), -1);
	assert_int_equal(parse_size("1Gx", &v), -1);
	assert_int_equal(parse_size("G", &v), -1);
	assert_int_equal(parse_size("99999999999999999999", &v), -1);
	assert_int_equal(parse_size("17179869184T", &v), -1);
}

static void addresses_parse(void **state)
{
	char host[64], port[8];

	(void)state;
	assert_int_equal(parse_hostport("10.0.2.15:7471", host, sizeof(host), port,
					sizeof(port)), 0);
	assert_string_equal(host, "10.0.2.15");
	assert_string_equal(port, "7471");
	assert_int_equal(parse_hostport(":9000", host, sizeof(host), port, sizeof(port)), 0);
	assert_string_equal(host, "0.0.0.0");
	assert_int_equal(parse_hostport("host", host, sizeof(host), port, sizeof(port)), -1);
	assert_int_equal(parse_hostport("h:0", host, sizeof(host), port, sizeof(port)), -1);
	assert_int_equal(parse_hostport("h:65536", host, sizeof(host), port, sizeof(port)), -1);
	assert_int_equal(parse_hostport("h:12x", host, sizeof(host), port, sizeof(port)), -1);
}

#define ARGV(...) ((char *[]){ "rswap-server", __VA_ARGS__, NULL })

static int parse(struct settings *s, char **argv, int argc, char *err)
{
	return settings_parse(s, argc, argv, err, 200);
}

static void good_command_line(void **state)
{
	static struct settings s;
	char err[200] = "";
	char **a = ARGV("--memory", "256M", "--backing", "/dev/shm/pool", "--key-file",
			"/etc/rswap/key", "--listen", "10.0.2.15:7000", "--slab-size", "4M");

	(void)state;
	assert_int_equal(parse(&s, a, 11, err), 0);
	assert_int_equal(s.memory, 256ull << 20);
	assert_int_equal(s.slab_size, 4ull << 20);
	assert_string_equal(s.listen_host, "10.0.2.15");
	assert_string_equal(s.listen_port, "7000");
	assert_string_equal(s.admin_host, "127.0.0.1");
	assert_string_equal(s.admin_port, "7472");
	assert_string_equal(s.meta, "/dev/shm/pool.meta");
	assert_int_equal(s.quota, 0);
	assert_int_equal(s.max_clients, 64);
	assert_false(s.help);
}

static void help_is_help(void **state)
{
	static struct settings s;
	char err[200];
	char **a = ARGV("--help");

	(void)state;
	assert_int_equal(parse(&s, a, 2, err), 0);
	assert_true(s.help);
}

struct bad_case {
	const char *args[12];
	const char *reason;
};

static void bad_command_lines(void **state)
{
	static const struct bad_case cases[] = {
		{ { "--backing", "/b", "--key-file", "/k" }, "missing --memory" },
		{ { "--memory", "1G", "--key-file", "/k" }, "missing --backing" },
		{ { "--memory", "1G", "--backing", "/b" }, "missing --key-file" },
		{ { "--memory", "lots", "--backing", "/b", "--key-file", "/k" }, "--memory: bad size" },
		{ { "--memory", "0", "--backing", "/b", "--key-file", "/k" }, "--memory: bad size" },
		{ { "--memory", "1G", "--backing", "/b", "--key-file", "/k", "--slab-size", "5000" },
		  "must be 64K..1G and a multiple of 4K" },
		{ { "--memory", "1G", "--backing", "/b", "--key-file", "/k", "--slab-size", "32K" },
		  "must be 64K..1G" },
		{ { "--memory", "100M", "--backing", "/b", "--key-file", "/k", "--slab-size", "16M" },
		  "is not a multiple of --slab-size" },
		{ { "--memory", "1G", "--backing", "/b", "--key-file", "/k", "--quota", "1M" },
		  "smaller than one slab" },
		{ { "--memory", "1G", "--backing", "/b", "--key-file", "/k", "--listen", "nowhere" },
		  "--listen: want ADDR:PORT" },
		{ { "--memory", "1G", "--backing", "/b", "--key-file", "/k", "--admin", "x:99999" },
		  "--admin: want ADDR:PORT" },
		{ { "--memory", "1G", "--backing", "/b", "--key-file", "/k", "--max-clients", "0" },
		  "--max-clients: want 1..4096" },
		{ { "--memory", "1G", "--backing", "/b", "--key-file", "/k", "--meta", "/b" },
		  "same file" },
		{ { "--memory", "1G", "--backing", "/b", "--key-file", "/k", "--frobnicate" },
		  "unknown option '--frobnicate'" },
		{ { "--memory", "1G", "--backing", "/b", "--key-file", "/k", "stray" },
		  "unexpected argument 'stray'" },
		{ { "--memory", "1G", "--backing", "/b", "--key-file" }, "--key-file needs a value" },
		{ { "--memory", "1G", "--backing", "/b", "--key-file", "/k", "--peer", "nowhere" },
		  "--peer: want the ADDR:PORT of another server's --admin, got 'nowhere'" },
		{ { "--memory", "1G", "--backing", "/b", "--key-file", "/k", "--peer", ":7482" },
		  "--peer: want the ADDR:PORT" },
		{ { "--memory", "1G", "--backing", "/b", "--key-file", "/k", "--peer", "h:0" },
		  "--peer: want the ADDR:PORT" },
		{ { "--memory", "1G", "--backing", "/b", "--key-file", "/k", "--peer",
		    "127.0.0.1:7472" }, "--peer 127.0.0.1:7472 is this server's own --admin address" },
		{ { "--memory", "1G", "--backing", "/b", "--key-file", "/k", "--peer" },
		  "--peer needs a value" },
		{ { "--memory", "1G", "--backing", "/b", "--key-file", "/k", "--drain-on-stop=1" },
		  "unknown option" },
	};
	static struct settings s;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *argv[16] = { "rswap-server" };
		char err[200] = "";
		int argc = 1;

		while (cases[i].args[argc - 1])
			argv[argc] = (char *)cases[i].args[argc - 1], argc++;
		if (parse(&s, argv, argc, err) != -1 || !strstr(err, cases[i].reason))
			fail_msg("case %zu: want an error with '%s', got '%s'", i,
				 cases[i].reason, err);
	}
}

/* --peer repeats up to SETTINGS_PEERS_MAX; --drain-on-stop is a flag. */
static void peers_parse(void **state)
{
	static struct settings s;
	char *argv[64] = { "rswap-server", "--memory", "1G", "--backing", "/b", "--key-file",
			   "/k", "--drain-on-stop" };
	char addrs[SETTINGS_PEERS_MAX + 1][32], err[200] = "";
	int argc = 8, i;

	(void)state;
	assert_int_equal(parse(&s, argv, argc, err), 0);
	assert_true(s.drain_on_stop);
	assert_int_equal(s.n_peers, 0);
	for (i = 0; i < SETTINGS_PEERS_MAX; i++) {
		snprintf(addrs[i], sizeof(addrs[i]), "10.0.0.%d:7472", i + 1);
		argv[argc++] = "--peer";
		argv[argc++] = addrs[i];
	}
	assert_int_equal(parse(&s, argv, argc, err), 0);
	assert_int_equal(s.n_peers, SETTINGS_PEERS_MAX);
	assert_string_equal(s.peers[0].host, "10.0.0.1");
	assert_string_equal(s.peers[0].port, "7472");
	assert_string_equal(s.peers[SETTINGS_PEERS_MAX - 1].text, "10.0.0.16:7472");
	snprintf(addrs[i], sizeof(addrs[i]), "10.0.1.1:7472");
	argv[argc++] = "--peer";
	argv[argc++] = addrs[i];
	assert_int_equal(parse(&s, argv, argc, err), -1);
	assert_non_null(strstr(err, "--peer: at most 16 peers"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sizes_parse),
		cmocka_unit_test(addresses_parse),
		cmocka_unit_test(good_command_line),
		cmocka_unit_test(help_is_help),
		cmocka_unit_test(bad_command_lines),
		cmocka_unit_test(peers_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
