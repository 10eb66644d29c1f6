// SPDX-License-Identifier: GPL-2.0
/*
 * Description: rswap-server's command line and config file. Sizes and
 * addresses parse as documented; a good command line fills every setting
 * with its value or default; each bad or contradictory one is refused with
 * a reason that names the option. A --config file sets the same options by
 * their long names, the command line overrides it (its --peer options
 * replace the file's), and each bad line is refused with FILE:LINE and the
 * key; --check-config's output is itself a config file giving the same
 * settings. --client-timeout takes whole seconds, 0 (never) to a day,
 * defaults to 30, and is refused otherwise, on the command line and in the
 * file alike. --client-expiry takes whole seconds, 0 (never, the default) to
 * a year, and is refused otherwise, on the command line and in the file.
 * --max-unauthenticated (default 64) and --max-unauthenticated-per-source
 * (default 8) take 1..65536 connections, the per-source cap no more than
 * the total (a default one included), and are refused otherwise.
 * --max-copies takes 1..256 (default 8), and is refused otherwise.
 * --copy-targets takes numeric IPv4 and IPv6 addresses, each once, up to 32;
 * none set lets every target through settings_copy_target_ok.
 */
#include <setjmp.h>
#include <sys/socket.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	assert_int_equal(s.quota, 128ull << 20);	/* half: more than one client may come */
	assert_int_equal(s.max_clients, 64);
	assert_int_equal(s.max_copies, 8);
	assert_int_equal(s.client_timeout_s, 30);
	assert_int_equal(s.max_unauth, 64);
	assert_int_equal(s.max_unauth_per_source, 8);
	assert_false(s.help);
}

/* --client-timeout: seconds, 0 meaning never; the file's key is the same. */
static void client_timeout_parses(void **state)
{
	static const char *const good[][2] = {
		{ "0", "0" }, { "3", "3" }, { "30", "30" }, { "86400", "86400" }, { "007", "7" },
	};
	static struct settings s;
	char err[200] = "";
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char *a[] = { "rswap-server", "--memory", "1G", "--backing", "/b", "--key-file",
			      "/k", "--client-timeout", (char *)good[i][0], NULL };

		if (parse(&s, a, 9, err))
			fail_msg("'%s' refused: %s", good[i][0], err);
		assert_int_equal(s.client_timeout_s, (uint32_t)atoi(good[i][1]));
	}
}

/* --max-copies: 1..256 copies at once; the file's key is the same. */
static void max_copies_parses(void **state)
{
	static const char *const good[][2] = { { "1", "1" }, { "8", "8" }, { "256", "256" },
					       { "016", "16" } };
	static const char *const bad[] = { "0", "257", "-1", "many", "", "8x", "+3" };
	static struct settings s;
	char err[200] = "";
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char *a[] = { "rswap-server", "--memory", "1G", "--backing", "/b", "--key-file",
			      "/k", "--max-copies", (char *)good[i][0], NULL };

		if (parse(&s, a, 9, err))
			fail_msg("'%s' refused: %s", good[i][0], err);
		assert_int_equal(s.max_copies, (uint32_t)atoi(good[i][1]));
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *a[] = { "rswap-server", "--memory", "1G", "--backing", "/b", "--key-file",
			      "/k", "--max-copies", (char *)bad[i], NULL };

		err[0] = '\0';
		if (!parse(&s, a, 9, err))
			fail_msg("'%s' accepted", bad[i]);
		if (!strstr(err, "--max-copies: want 1..256"))
			fail_msg("'%s': %s", bad[i], err);
	}
}

/* --copy-targets: the addresses MIGRATE may copy to, and only those. */
static void copy_targets_parse(void **state)
{
	static const char *const bad[] = { "", "10.0.0.1,", "host.example", "10.0.0.1,10.0.0.1",
					   "10.0.0.256", "10.0.0.1;10.0.0.2" };
	static struct settings s;
	uint8_t v4[4] = { 10, 0, 0, 2 }, v4_other[4] = { 10, 0, 0, 3 }, v6[16] = { 0xfd };
	char err[200] = "";
	size_t i;

	(void)state;
	{
		char *a[] = { "rswap-server", "--memory", "1G", "--backing", "/b", "--key-file", "/k",
			      NULL };

		assert_int_equal(parse(&s, a, 7, err), 0);
		assert_true(settings_copy_target_ok(&s, AF_INET, v4));
	}
	{
		char *a[] = { "rswap-server", "--memory", "1G", "--backing", "/b", "--key-file", "/k",
			      "--copy-targets", "10.0.0.1,10.0.0.2,fd00::", NULL };

		if (parse(&s, a, 9, err))
			fail_msg("refused: %s", err);
		assert_int_equal(s.n_copy_targets, 3);
		assert_true(settings_copy_target_ok(&s, AF_INET, v4));
		assert_false(settings_copy_target_ok(&s, AF_INET, v4_other));
		assert_true(settings_copy_target_ok(&s, AF_INET6, v6));
		v6[15] = 1;
		assert_false(settings_copy_target_ok(&s, AF_INET6, v6));
	}
	{
		/* "any": stated, not the default; a later list replaces it */
		char *a[] = { "rswap-server", "--memory", "1G", "--backing", "/b", "--key-file", "/k",
			      "--copy-targets", "any", NULL };
		char *b[] = { "rswap-server", "--memory", "1G", "--backing", "/b", "--key-file", "/k",
			      "--copy-targets", "any", "--copy-targets", "10.0.0.2", NULL };

		assert_int_equal(parse(&s, a, 9, err), 0);
		assert_true(s.copy_targets_any);
		assert_int_equal(s.n_copy_targets, 0);
		assert_int_equal(parse(&s, b, 11, err), 0);
		assert_false(s.copy_targets_any);
		assert_int_equal(s.n_copy_targets, 1);
		assert_false(settings_copy_target_ok(&s, AF_INET, v4_other));
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *a[] = { "rswap-server", "--memory", "1G", "--backing", "/b", "--key-file", "/k",
			      "--copy-targets", (char *)bad[i], NULL };

		err[0] = '\0';
		if (!parse(&s, a, 9, err))
			fail_msg("'%s' accepted", bad[i]);
		if (!strstr(err, "--copy-targets"))
			fail_msg("'%s': %s", bad[i], err);
	}
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
		{ { "--memory", "1G", "--backing", "/b", "--key-file", "/k", "--client-timeout",
		    "-1" }, "--client-timeout: want seconds, 0..86400 (0: never), got '-1'" },
		{ { "--memory", "1G", "--backing", "/b", "--key-file", "/k", "--client-timeout",
		    "86401" }, "--client-timeout: want seconds, 0..86400" },
		{ { "--memory", "1G", "--backing", "/b", "--key-file", "/k", "--client-timeout",
		    "10s" }, "--client-timeout: want seconds" },
		{ { "--memory", "1G", "--backing", "/b", "--key-file", "/k", "--client-timeout",
		    "" }, "--client-timeout: want seconds" },
		{ { "--memory", "1G", "--backing", "/b", "--key-file", "/k", "--client-timeout",
		    " 5" }, "--client-timeout: want seconds" },
		{ { "--memory", "1G", "--backing", "/b", "--key-file", "/k", "--client-timeout",
		    "99999999999999999999" }, "--client-timeout: want seconds" },
		{ { "--memory", "1G", "--backing", "/b", "--key-file", "/k", "--client-timeout" },
		  "--client-timeout needs a value" },
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


/* ---- the config file ---- */

/* A config file with @text, in a fresh temporary file; conf_done removes it. */
static char conf_path[64];

static const char *conf(const char *text)
{
	const char *dir = getenv("TMPDIR");
	size_t len = strlen(text);
	int fd;

	snprintf(conf_path, sizeof(conf_path), "%s/rswap-settings-XXXXXX",
		 dir && *dir && strlen(dir) < 32 ? dir : "/tmp");
	fd = mkstemp(conf_path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	return conf_path;
}

static void conf_done(void)
{
	unlink(conf_path);
	conf_path[0] = '\0';
}

/* Parse --config @text plus @extra (NULL-terminated); returns settings_parse's. */
static int parse_conf(struct settings *s, const char *text, const char *const *extra,
		      char *err)
{
	char *argv[40] = { "rswap-server", "--config", (char *)conf(text) };
	int argc = 3;

	while (extra && *extra)
		argv[argc++] = (char *)*extra++;
	return settings_parse(s, argc, argv, err, 300);
}

#define REQUIRED "memory = 256M\nbacking = /dev/shm/pool\nkey-file = /etc/rswap/key\n"

/* No --quota: half the pool, in whole slabs and at least one, where more
 * than one client may come; --quota all or --max-clients 1: all of it. */
static void default_quota(void **state)
{
	static const struct {
		const char *memory, *quota, *max_clients;
		uint64_t want;
	} cases[] = {
		{ "256M", NULL, NULL, 128ull << 20 },
		{ "48M", NULL, NULL, 16ull << 20 },	/* 3 slabs of 16M: 1 */
		{ "16M", NULL, NULL, 16ull << 20 },	/* one slab: that one */
		{ "256M", NULL, "1", 256ull << 20 },
		{ "256M", "all", NULL, 256ull << 20 },
		{ "256M", "all", "8", 256ull << 20 },
		{ "256M", "1G", NULL, 256ull << 20 },	/* more than all is all */
		{ "256M", "32M", "1", 32ull << 20 },
	};
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		static struct settings s;
		char err[200] = "";
		char *a[12] = { "rswap-server", "--memory", (char *)cases[i].memory,
				"--backing", "/dev/shm/pool", "--key-file", "/k" };
		int n = 7;

		if (cases[i].quota) {
			a[n++] = "--quota";
			a[n++] = (char *)cases[i].quota;
		}
		if (cases[i].max_clients) {
			a[n++] = "--max-clients";
			a[n++] = (char *)cases[i].max_clients;
		}
		memset(&s, 0, sizeof(s));
		assert_int_equal(settings_parse(&s, n, a, err, sizeof(err)), 0);
		assert_string_equal(err, "");
		assert_int_equal(s.quota, cases[i].want);
	}
}

static void config_good_file(void **state)
{
	static struct settings s;
	char err[300] = "";

	(void)state;
	assert_int_equal(parse_conf(&s, "listen = 10.0.2.15:7000\n"
				    "admin = 127.0.0.1:7482\n"
				    "memory = 256M\n"
				    "backing = /dev/shm/pool\n"
				    "key-file = /etc/rswap/key\n"
				    "slab-size = 4M\n"
				    "quota = 64M\n"
				    "max-clients = 8\n"
				    "max-copies = 3\n"
				    "meta = /var/lib/rswap/pool.meta\n"
				    "peer = 10.0.0.2:7472\n"
				    "drain-on-stop = yes\n"
				    "verbose = no\n", NULL, err), 0);
	assert_string_equal(err, "");
	assert_string_equal(s.listen_host, "10.0.2.15");
	assert_string_equal(s.listen_port, "7000");
	assert_string_equal(s.admin_port, "7482");
	assert_int_equal(s.memory, 256ull << 20);
	assert_string_equal(s.backing, "/dev/shm/pool");
	assert_string_equal(s.key_file, "/etc/rswap/key");
	assert_int_equal(s.slab_size, 4ull << 20);
	assert_int_equal(s.quota, 64ull << 20);
	assert_int_equal(s.max_clients, 8);
	assert_int_equal(s.max_copies, 3);
	assert_string_equal(s.meta, "/var/lib/rswap/pool.meta");
	assert_int_equal(s.n_peers, 1);
	assert_string_equal(s.peers[0].text, "10.0.0.2:7472");
	assert_true(s.drain_on_stop);
	assert_false(s.verbose);
	assert_false(s.check_config);
	assert_string_equal(s.config, conf_path);
	conf_done();
}

/* Comments are whole lines; blanks, indentation, spaces around '=' and CRLF are fine. */
static void config_comments_and_blanks(void **state)
{
	static struct settings s;
	char err[300] = "";

	(void)state;
	assert_int_equal(parse_conf(&s, "# rswap-server@a\n"
				    "\n"
				    "   \t\n"
				    "  # memory = 1G\n"
				    "memory=256M\n"
				    "\tbacking   =   /dev/shm/pool  \r\n"
				    "#key-file = /nowhere\n"
				    "key-file = /etc/rswap/key", NULL, err), 0);
	assert_string_equal(err, "");
	assert_int_equal(s.memory, 256ull << 20);
	assert_string_equal(s.backing, "/dev/shm/pool");
	assert_string_equal(s.key_file, "/etc/rswap/key");
	assert_int_equal(s.slab_size, 16ull << 20);	/* defaults stand */
	assert_string_equal(s.admin_host, "127.0.0.1");
	conf_done();
}

/* The command line wins, wherever it stands; its --peer replaces the file's. */
static void config_command_line_overrides(void **state)
{
	static const char *const extra[] = { "--memory", "512M", "--peer", "10.0.1.1:7472",
					     "-v", "--peer", "10.0.1.2:7472", NULL };
	static struct settings s;
	char *argv[] = { "rswap-server", "--memory", "1G", "--config", NULL,
			 "--drain-on-stop", NULL };
	char err[300] = "";

	(void)state;
	assert_int_equal(parse_conf(&s, REQUIRED "peer = 10.0.0.2:7472\npeer = 10.0.0.3:7472\n"
				    "verbose = off\nslab-size = 4M\n", extra, err), 0);
	assert_int_equal(s.memory, 512ull << 20);
	assert_int_equal(s.slab_size, 4ull << 20);	/* the file's, not overridden */
	assert_true(s.verbose);
	assert_int_equal(s.n_peers, 2);
	assert_string_equal(s.peers[0].text, "10.0.1.1:7472");
	assert_string_equal(s.peers[1].text, "10.0.1.2:7472");
	conf_done();

	/* Before --config too; and without --peer on the command line, the file's stand. */
	argv[4] = (char *)conf(REQUIRED "peer = 10.0.0.2:7472\ndrain-on-stop = no\n");
	assert_int_equal(settings_parse(&s, 6, argv, err, sizeof(err)), 0);
	assert_int_equal(s.memory, 1ull << 30);
	assert_true(s.drain_on_stop);
	assert_int_equal(s.n_peers, 1);
	assert_string_equal(s.peers[0].text, "10.0.0.2:7472");
	conf_done();

	/* client-timeout: the file's, unless the command line says otherwise */
	assert_int_equal(parse_conf(&s, REQUIRED "client-timeout = 60\n", NULL, err), 0);
	assert_int_equal(s.client_timeout_s, 60);
	conf_done();
	{
		static const char *const cli[] = { "--client-timeout", "5", NULL };

		assert_int_equal(parse_conf(&s, REQUIRED "client-timeout = 60\n", cli, err), 0);
		assert_int_equal(s.client_timeout_s, 5);
		conf_done();
	}
}

/* --client-expiry: seconds, 0 (the default) meaning never; the file's key too. */
static void client_expiry_parses(void **state)
{
	static const char *const bad[] = { "-1", "31622401", "1h", "", " 5", "99999999999999999999" };
	static struct settings s;
	char err[200] = "";
	size_t i;

	(void)state;
	{
		char *a[] = { "rswap-server", "--memory", "1G", "--backing", "/b", "--key-file",
			      "/k", NULL };

		assert_int_equal(parse(&s, a, 7, err), 0);
		assert_int_equal(s.client_expiry_s, 0);
	}
	{
		char *a[] = { "rswap-server", "--memory", "1G", "--backing", "/b", "--key-file",
			      "/k", "--client-expiry", "31622400", NULL };

		assert_int_equal(parse(&s, a, 9, err), 0);
		assert_int_equal(s.client_expiry_s, 31622400);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *a[] = { "rswap-server", "--memory", "1G", "--backing", "/b", "--key-file",
			      "/k", "--client-expiry", (char *)bad[i], NULL };

		err[0] = '\0';
		if (!parse(&s, a, 9, err))
			fail_msg("'%s' accepted", bad[i]);
		assert_non_null(strstr(err, "--client-expiry: want seconds, 0..31622400 (0: never)"));
	}
	assert_int_equal(parse_conf(&s, REQUIRED "client-expiry = 600\n", NULL, err), 0);
	assert_int_equal(s.client_expiry_s, 600);
	conf_done();
	assert_int_equal(parse_conf(&s, REQUIRED "client-expiry = later\n", NULL, err), -1);
	assert_non_null(strstr(err, ":4: client-expiry: want seconds"));
	conf_done();
}

/* The caps on connections not yet authenticated: 1..65536, per source <= total. */
static void max_unauthenticated_parses(void **state)
{
	static const char *const bad[] = { "0", "-1", "65537", "8x", "", " 5", "0x10",
					   "99999999999999999999" };
	static const char *const opt[] = { "--max-unauthenticated",
					   "--max-unauthenticated-per-source" };
	static struct settings s;
	char err[200] = "";
	size_t i, k;

	(void)state;
	{
		char **a = ARGV("--memory", "1G", "--backing", "/b", "--key-file", "/k",
				"--max-unauthenticated", "16", "--max-unauthenticated-per-source",
				"8");

		assert_int_equal(parse(&s, a, 11, err), 0);
		assert_int_equal(s.max_unauth, 16);
		assert_int_equal(s.max_unauth_per_source, 8);
	}
	{
		/* equal is fine: one address may use the whole total */
		char **a = ARGV("--memory", "1G", "--backing", "/b", "--key-file", "/k",
				"--max-unauthenticated", "1", "--max-unauthenticated-per-source",
				"1");

		assert_int_equal(parse(&s, a, 11, err), 0);
		assert_int_equal(s.max_unauth, 1);
		assert_int_equal(s.max_unauth_per_source, 1);
	}
	{
		char **a = ARGV("--memory", "1G", "--backing", "/b", "--key-file", "/k",
				"--max-unauthenticated", "65536", "--max-unauthenticated-per-source",
				"65536");

		assert_int_equal(parse(&s, a, 11, err), 0);
		assert_int_equal(s.max_unauth_per_source, 65536);
	}
	for (k = 0; k < 2; k++) {
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			char want[100];
			char *a[] = { "rswap-server", "--memory", "1G", "--backing", "/b",
				      "--key-file", "/k", (char *)opt[k], (char *)bad[i], NULL };

			err[0] = '\0';
			if (!parse(&s, a, 9, err))
				fail_msg("%s '%s' accepted", opt[k], bad[i]);
			snprintf(want, sizeof(want), "%s: want connections, 1..65536, got '%s'",
				 opt[k], bad[i]);
			if (strcmp(err, want))
				fail_msg("%s '%s': want '%s', got '%s'", opt[k], bad[i], want, err);
		}
	}
	{
		char **a = ARGV("--memory", "1G", "--backing", "/b", "--key-file", "/k",
				"--max-unauthenticated", "4", "--max-unauthenticated-per-source",
				"5");

		assert_int_equal(parse(&s, a, 11, err), -1);
		assert_string_equal(err, "--max-unauthenticated-per-source 5 is more than "
				    "--max-unauthenticated 4: one address could take them all");
	}
	{
		/* the default per-source cap (8) does not fit a total of 4 */
		char **a = ARGV("--memory", "1G", "--backing", "/b", "--key-file", "/k",
				"--max-unauthenticated", "4");

		assert_int_equal(parse(&s, a, 9, err), -1);
		assert_string_equal(err, "the default --max-unauthenticated-per-source 8 is more "
				    "than --max-unauthenticated 4: set it too, at most that");
	}
	assert_int_equal(parse_conf(&s, REQUIRED "max-unauthenticated = 32\n"
				    "max-unauthenticated-per-source = 2\n", NULL, err), 0);
	assert_int_equal(s.max_unauth, 32);
	assert_int_equal(s.max_unauth_per_source, 2);
	conf_done();
	{
		/* the command line overrides the file, and the check sees both */
		static const char *const cli[] = { "--max-unauthenticated-per-source", "40", NULL };

		assert_int_equal(parse_conf(&s, REQUIRED "max-unauthenticated = 32\n", cli, err), -1);
		assert_non_null(strstr(err, "--max-unauthenticated-per-source 40 is more than "
				       "max-unauthenticated 32"));
		conf_done();
	}
	assert_int_equal(parse_conf(&s, REQUIRED "max-unauthenticated = 4\n"
				    "max-unauthenticated-per-source = 6\n", NULL, err), -1);
	assert_non_null(strstr(err, ":5: max-unauthenticated-per-source 6 is more than "
			       "max-unauthenticated 4"));
	conf_done();
	assert_int_equal(parse_conf(&s, REQUIRED "max-unauthenticated = none\n", NULL, err), -1);
	assert_non_null(strstr(err, ":4: max-unauthenticated: want connections, 1..65536, "
			       "got 'none'"));
	conf_done();
}

struct bad_line {
	const char *text;
	const char *reason;	/* after "FILE" */
};

/* Each file of @cases is refused, with its reason after the file's name. */
static void expect_bad_lines(const struct bad_line *cases, size_t n)
{
	static struct settings s;
	size_t i;

	for (i = 0; i < n; i++) {
		char err[300] = "";

		if (parse_conf(&s, cases[i].text, NULL, err) != -1 ||
		    strncmp(err, conf_path, strlen(conf_path)) ||
		    strncmp(err + strlen(conf_path), cases[i].reason, strlen(cases[i].reason)))
			fail_msg("case %zu: want '%s%s', got '%s'", i, conf_path,
				 cases[i].reason, err);
		conf_done();
	}
}

/* Every bad line is refused with FILE:LINE, the key and why. */
static void config_bad_lines(void **state)
{
	static const struct bad_line cases[] = {
		{ REQUIRED "\n# typo\nmemroy = 1G\n",
		  ":6: unknown key 'memroy' (did you mean memory?)" },
		{ "keyfile = /k\n", ":1: unknown key 'keyfile' (did you mean key-file?)" },
		{ "--memory = 1G\n", ":1: unknown key '--memory' (did you mean memory?)" },
		{ "frobnicate = 1\n", ":1: unknown key 'frobnicate' (the keys are the long options" },
		{ "config = /etc/other.conf\n", ":1: unknown key 'config'" },
		{ "help = yes\n", ":1: unknown key 'help'" },
		{ REQUIRED "memory = 1G\n", ":4: memory: set twice (first on line 1)" },
		{ "\nmemory = lots\n", ":2: memory: bad size 'lots' (e.g. 512M, 8G)" },
		{ "slab-size = 0\n", ":1: slab-size: bad size '0'" },
		{ "listen = nowhere\n", ":1: listen: want ADDR:PORT, got 'nowhere'" },
		{ "max-clients = 5000\n", ":1: max-clients: want 1..4096, got '5000'" },
		{ "max-copies = 0\n", ":1: max-copies: want 1..256, got '0'" },
		{ REQUIRED "max-copies = 2\nmax-copies = 4\n",
		  ":5: max-copies: set twice (first on line 4)" },
		{ "peer = :7472\n", ":1: peer: want the ADDR:PORT of another server's" },
		{ "drain-on-stop = maybe\n", ":1: drain-on-stop: want yes or no, got 'maybe'" },
		{ "client-timeout = soon\n", ":1: client-timeout: want seconds, 0..86400 (0: never), "
		  "got 'soon'" },
		{ REQUIRED "client-timeout = 3\nclient-timeout = 4\n",
		  ":5: client-timeout: set twice (first on line 4)" },
		{ "client-timout = 3\n", ":1: unknown key 'client-timout' (did you mean client-timeout?)" },
		{ REQUIRED "slab-size = 5000\n", ":4: slab-size 5000: must be 64K..1G" },
		{ "slab-size = 16M\nmemory = 100M\nbacking = /b\nkey-file = /k\n",
		  ":2: memory 104857600 is not a multiple of slab-size 16777216" },
		{ REQUIRED "quota = 1M\n", ":4: quota 1048576 is smaller than one slab" },
		{ REQUIRED "peer = 127.0.0.1:7472\n",
		  ":4: peer 127.0.0.1:7472 is this server's own admin address" },
		{ REQUIRED "meta = /dev/shm/pool\n", ":4: meta and backing are the same file" },
		{ "memory = 1G\nkey-file = /k\n", ": missing backing (a 'backing = ...' line, or --backing)" },
	};

	(void)state;
	expect_bad_lines(cases, sizeof(cases) / sizeof(cases[0]));
}

/* A key alone, or with nothing after '=', is refused, booleans included. */
static void config_key_without_value(void **state)
{
	static const struct bad_line cases[] = {
		{ "memory\n", ":1: memory: needs a value (memory = VALUE)" },
		{ REQUIRED "backing =  \n", ":4: backing: needs a value (backing = VALUE)" },
		{ "verbose\n", ":1: verbose: needs a value (verbose = yes|no)" },
		{ "drain-on-stop=\n", ":1: drain-on-stop: needs a value (drain-on-stop = yes|no)" },
		{ "peer =\n", ":1: peer: needs a value" },
	};

	(void)state;
	expect_bad_lines(cases, sizeof(cases) / sizeof(cases[0]));
}

static void config_missing_file(void **state)
{
	static struct settings s;
	char *argv[] = { "rswap-server", "--config", "/nonexistent/rswap/server-a.conf", NULL };
	char *argv2[] = { "rswap-server", "--config", NULL };
	char err[300] = "";

	(void)state;
	assert_int_equal(settings_parse(&s, 3, argv, err, sizeof(err)), -1);
	assert_string_equal(err, "cannot read config file /nonexistent/rswap/server-a.conf: "
			    "No such file or directory");
	assert_int_equal(settings_parse(&s, 2, argv2, err, sizeof(err)), -1);
	assert_string_equal(err, "--config needs a value");
}

/* Every spelling of a boolean, in any case; anything else is refused. */
static void config_booleans(void **state)
{
	static const char *const on[] = { "yes", "true", "on", "1", "YES", "True", "On" };
	static const char *const off[] = { "no", "false", "off", "0", "NO", "False", "oFF" };
	static const char *const bad[] = { "y", "2", "enabled", "yes please" };
	static struct settings s;
	char text[200], err[300];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(on) / sizeof(on[0]); i++) {
		snprintf(text, sizeof(text), REQUIRED "drain-on-stop = %s\nverbose = %s\n",
			 on[i], off[i]);
		assert_int_equal(parse_conf(&s, text, NULL, err), 0);
		assert_true(s.drain_on_stop);
		assert_false(s.verbose);
		conf_done();
		snprintf(text, sizeof(text), REQUIRED "drain-on-stop = %s\nverbose = %s\n",
			 off[i], on[i]);
		assert_int_equal(parse_conf(&s, text, NULL, err), 0);
		assert_false(s.drain_on_stop);
		assert_true(s.verbose);
		conf_done();
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), REQUIRED "verbose = %s\n", bad[i]);
		assert_int_equal(parse_conf(&s, text, NULL, err), -1);
		assert_non_null(strstr(err, ":4: verbose: want yes or no"));
		conf_done();
	}
}

/* peer repeats, up to SETTINGS_PEERS_MAX lines, and is refused beyond, with the line. */
static void config_repeated_peer(void **state)
{
	static struct settings s;
	char text[1024], err[300] = "";
	size_t n;
	int i;

	(void)state;
	n = (size_t)snprintf(text, sizeof(text), REQUIRED);
	for (i = 1; i <= SETTINGS_PEERS_MAX; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "peer = 10.0.0.%d:7472\n", i);
	assert_int_equal(parse_conf(&s, text, NULL, err), 0);
	assert_int_equal(s.n_peers, SETTINGS_PEERS_MAX);
	assert_string_equal(s.peers[0].host, "10.0.0.1");
	assert_string_equal(s.peers[SETTINGS_PEERS_MAX - 1].text, "10.0.0.16:7472");
	conf_done();
	snprintf(text + n, sizeof(text) - n, "peer = 10.0.1.1:7472\n");
	assert_int_equal(parse_conf(&s, text, NULL, err), -1);
	assert_non_null(strstr(err, ":20: peer: at most 16 peers"));
	conf_done();
}

/* The admin socket: derived from the admin address by default (two servers
 * on one host get two sockets), an absolute path, @NAME or off; the admin
 * key is not the pool's. */
static void admin_socket_and_key(void **state)
{
	static struct settings s;
	char err[300] = "", want[SETTINGS_SOCK_MAX];

	(void)state;
	assert_int_equal(parse_conf(&s, REQUIRED "admin = 127.0.0.1:7482\n", NULL, err), 0);
	conf_done();
	assert_int_equal(settings_default_admin_socket(want, sizeof(want), "127.0.0.1", "7482"), 0);
	assert_string_equal(s.admin_socket, want);
	assert_string_equal(s.admin_socket, "@rswap-admin/127.0.0.1/7482");
	assert_int_equal(parse_conf(&s, REQUIRED "admin-socket = run/a.sock\n", NULL, err), -1);
	assert_non_null(strstr(err, "absolute path, @NAME or off"));
	conf_done();
	assert_int_equal(parse_conf(&s, REQUIRED "admin-socket = @\n", NULL, err), -1);
	conf_done();
	assert_int_equal(parse_conf(&s, REQUIRED "admin-socket = @rswap-test\n", NULL, err), 0);
	assert_string_equal(s.admin_socket, "@rswap-test");
	conf_done();
	assert_int_equal(parse_conf(&s, REQUIRED "admin-socket = off\n", NULL, err), 0);
	assert_string_equal(s.admin_socket, "off");
	conf_done();
	assert_int_equal(parse_conf(&s, REQUIRED "admin-key-file = /etc/rswap/key\n", NULL, err),
			 -1);
	assert_non_null(strstr(err, "the admin key must be another one"));
	conf_done();
}

/* --check-config: the settings as a config file that gives them back. */
static void check_config_round_trip(void **state)
{
	static const char *const extra[] = { "--check-config", NULL };
	static struct settings s, again;
	char *printed = NULL, *printed_again = NULL, err[300] = "";
	size_t len = 0, len_again = 0;
	FILE *out;

	(void)state;
	assert_int_equal(parse_conf(&s, REQUIRED "slab-size = 1M\nquota = 5000K\n"
				    "peer = 10.0.0.2:7472\npeer = [fd00::3]:7472\n"
				    "drain-on-stop = on\nclient-timeout = 0\nclient-expiry = 3600\n"
				    "max-unauthenticated = 20\nmax-unauthenticated-per-source = 3\n"
				    "admin-socket = /run/t/a.sock\nadmin-key-file = /etc/rswap/admin\n",
				    extra, err), 0);
	conf_done();
	assert_true(s.check_config);
	out = open_memstream(&printed, &len);
	settings_print(out, &s);
	fclose(out);
	assert_string_equal(printed,
			    "listen = 0.0.0.0:7471\n"
			    "admin = 127.0.0.1:7472\n"
			    "admin-socket = /run/t/a.sock\n"
			    "admin-key-file = /etc/rswap/admin\n"
			    "memory = 256M\n"
			    "backing = /dev/shm/pool\n"
			    "key-file = /etc/rswap/key\n"
			    "slab-size = 1M\n"
			    "quota = 5000K\n"
			    "max-clients = 64\n"
			    "max-copies = 8\n"
			    "meta = /dev/shm/pool.meta\n"
			    "peer = 10.0.0.2:7472\n"
			    "peer = [fd00::3]:7472\n"
			    "drain-on-stop = yes\n"
			    "client-timeout = 0\n"
			    "client-expiry = 3600\n"
			    "max-unauthenticated = 20\n"
			    "max-unauthenticated-per-source = 3\n"
			    "verbose = no\n");
	assert_int_equal(parse_conf(&again, printed, NULL, err), 0);
	conf_done();
	out = open_memstream(&printed_again, &len_again);
	settings_print(out, &again);
	fclose(out);
	assert_string_equal(printed_again, printed);
	free(printed);
	free(printed_again);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sizes_parse),
		cmocka_unit_test(addresses_parse),
		cmocka_unit_test(good_command_line),
		cmocka_unit_test(default_quota),
		cmocka_unit_test(help_is_help),
		cmocka_unit_test(max_copies_parses),
		cmocka_unit_test(copy_targets_parse),
		cmocka_unit_test(client_timeout_parses),
		cmocka_unit_test(client_expiry_parses),
		cmocka_unit_test(max_unauthenticated_parses),
		cmocka_unit_test(bad_command_lines),
		cmocka_unit_test(peers_parse),
		cmocka_unit_test(config_good_file),
		cmocka_unit_test(config_comments_and_blanks),
		cmocka_unit_test(config_command_line_overrides),
		cmocka_unit_test(config_bad_lines),
		cmocka_unit_test(config_key_without_value),
		cmocka_unit_test(config_missing_file),
		cmocka_unit_test(config_booleans),
		cmocka_unit_test(config_repeated_peer),
		cmocka_unit_test(admin_socket_and_key),
		cmocka_unit_test(check_config_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
