// SPDX-License-Identifier: GPL-2.0
/*
 * settings: defaults, the config file, the command line and the checks
 * between options.
 *
 * One table, opts[], names every option. The command line goes through
 * getopt_long with it; each "key = value" line of a --config file is looked
 * up in it by long name and goes through the same apply_option(), so an
 * option is checked in one place whichever way it comes. Order: defaults,
 * the file, the command line (which wins; its --peer options replace the
 * file's peer lines), then the checks between options (check()).
 */
#include "settings.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "rswap_wire.h"

/* Defaults, each with its reason. */
#define DEFAULT_PORT "7471"		/* rdma_cm port (rping's, unassigned) */
#define DEFAULT_ADMIN "127.0.0.1:7472"	/* admin is local unless asked */
#define DEFAULT_SLAB_SIZE (16ull << 20)	/* 4096 pages: few grants, fine drains */
#define MIN_SLAB_SIZE (64ull << 10)	/* below this, MRs outnumber pages */
#define MAX_SLAB_SIZE (1ull << 30)	/* one MR registration stays quick */
#define DEFAULT_MAX_CLIENTS 64
/* Copies to other servers (MIGRATE) running at once: a thread, a QP and a
 * CQ each. A drain moves one slab per client at a time; 8 keeps a drain of
 * many clients busy without letting clients start copies without bound. */
#define DEFAULT_MAX_COPIES 8
#define MAX_COPIES 256
#define MAX_SLABS (1u << 24)		/* pool tables stay small */
/* Six of the clients' keepalive intervals (RSWAP_KEEPALIVE_INTERVAL_MS):
 * a late keepalive or two never closes a live client. */
#define DEFAULT_CLIENT_TIMEOUT_S 30
#define MAX_CLIENT_TIMEOUT_S 86400	/* a day: longer is "never", say 0 */
#define MAX_CLIENT_EXPIRY_S (366u * 86400)	/* a year: longer is "never", say 0 */
/* Each connection not yet authenticated holds a PD, a CQ, a QP, a completion
 * channel (an fd) and about 4 KiB of buffers: 64 is room for a reconnect
 * storm of the default 64 clients, far below the default fd limit. */
#define DEFAULT_MAX_UNAUTH 64
/* A few clients behind one address (NAT, containers) may reconnect at once. */
#define DEFAULT_MAX_UNAUTH_PER_SOURCE 8
#define MAX_UNAUTH 65536		/* past any fd limit a server runs with */

void settings_usage(FILE *out)
{
	fprintf(out,
"Usage: rswap-server --memory SIZE --backing PATH --key-file PATH [options]\n"
"       rswap-server --config FILE [options] [--check-config]\n"
"Donate memory to the rswap pool: clients swap pages into it with one-sided\n"
"RDMA. Pages survive a restart of this process (kill -9 included) as long as\n"
"the backing file does.\n"
"\n"
"Required (on the command line or in the config file):\n"
"  --memory SIZE        memory to donate, e.g. 8G; a multiple of --slab-size\n"
"  --backing PATH       file holding that memory: on tmpfs (/dev/shm) or\n"
"                       hugetlbfs so it lives in RAM; created if missing,\n"
"                       reused (with its pages) if it exists\n"
"  --key-file PATH      the pool key (at least 16 bytes, readable by the owner\n"
"                       only): each client proves the key derived from it for\n"
"                       its own id (rswapctl client-key makes that client's\n"
"                       key file); clients never hold the pool key\n"
"\n"
"Options:\n"
"  --listen ADDR:PORT   RDMA address to accept clients on (default port %s)\n"
"  --admin ADDR:PORT    admin API on TCP (default %s): GET /metrics, status\n"
"                       and drain-status for anyone (Prometheus, the peers'\n"
"                       drains); every other call only with --admin-key-file\n"
"  --admin-socket PATH|@NAME|off  admin API on a Unix socket: every call, for\n"
"                       root and this server's user only (SO_PEERCRED). The\n"
"                       default, @rswap-admin/HOST/PORT of --admin, is in the\n"
"                       abstract namespace: the network namespace's, like the\n"
"                       port, and where rswapctl looks. A PATH is made mode\n"
"                       0600; its directory must not be writable by others\n"
"  --admin-key-file PATH  admin key (16..256 bytes, mode 0600, not the\n"
"                       --key-file): with it, rswapctl --admin-key FILE may\n"
"                       make every call over TCP (HMAC challenge-response)\n"
"  --slab-size SIZE     unit of grants, 64K..1G, multiple of 4K (default 16M)\n"
"  --quota SIZE|all     most memory one client may hold (default: half of\n"
"                       --memory, so no one client can take a shared pool;\n"
"                       'all' for one tenant, the default with --max-clients 1)\n"
"  --max-clients N      clients known at once (default %d)\n"
"  --max-copies N       slab copies to other servers (MIGRATE) running at once,\n"
"                       1..%d; one more is refused (try again later)\n"
"                       (default %d)\n"
"  --copy-targets ADDR[,ADDR...]  the RDMA addresses of the pool's other\n"
"                       servers: MIGRATE copies go there only, and this server\n"
"                       connects nowhere else for a client (numeric IPv4 or\n"
"                       IPv6, up to 32). Default: the listen addresses the\n"
"                       --peer servers give in their status (asked every 10 s\n"
"                       and when a copy names one not seen yet); with no\n"
"                       --peer, no copy at all. 'any': every address whose\n"
"                       server proves the pool key (a client may then make\n"
"                       this server connect wherever it likes)\n"
"  --meta PATH          metadata log (default: BACKING.meta)\n"
"  --peer ADDR:PORT     the admin address of another server of the pool\n"
"                       (repeatable, up to %d): a drain asks the peers for\n"
"                       their free memory first and refuses if it does not\n"
"                       fit; a rebalance computes the fair share with them\n"
"  --drain-on-stop      on SIGTERM, move every slab to other servers first\n"
"                       (what fits), then exit; a second SIGTERM exits at once\n"
"  --client-timeout SECS\n"
"                       close the connection of a client that promised\n"
"                       keepalives (rswap.ko does) once nothing came from it\n"
"                       for SECS seconds; its slabs stay for its reattach\n"
"                       (default %d, 0 = never, at most %d)\n"
"  --client-expiry SECS\n"
"                       forget a client disconnected for SECS seconds: its\n"
"                       slabs are freed (and scrubbed) and its entry removed,\n"
"                       as 'rswapctl forget' does; the time counts from this\n"
"                       server's start, not across restarts (default 0 =\n"
"                       never, at most %u)\n"
"  --max-unauthenticated N\n"
"                       connections not yet authenticated (no AUTH yet), in\n"
"                       all: a connect request past it is refused before\n"
"                       anything is allocated for it (default %d, 1..%d)\n"
"  --max-unauthenticated-per-source N\n"
"                       the same, from one source address (IPv4 or IPv6):\n"
"                       one peer cannot fill the total (default %d, at most\n"
"                       --max-unauthenticated)\n"
"  -v, --verbose        log every control message\n"
"  --config FILE        read settings from FILE first (see below)\n"
"  --check-config       check the settings, print them as a config file\n"
"                       (key = value, one per line) and exit: 0 if good,\n"
"                       2 with the reason if not; nothing else is opened\n"
"  -h, --help           this text\n"
"\n"
"SIZE takes a K, M, G or T suffix (powers of 1024).\n"
"Config file: 'key = value' lines, the keys being the long options above\n"
"without their dashes (memory = 8G, key-file = /etc/rswap/key); blank lines\n"
"and lines starting with # are ignored; no key may appear twice except peer\n"
"(one line per peer). drain-on-stop and verbose take yes/no, true/false,\n"
"on/off or 1/0. Options on the command line override the file; --peer on\n"
"the command line replaces all of the file's peer lines. Errors name the\n"
"file and line.\n"
"Signals: SIGTERM and SIGINT stop cleanly; clients' slabs stay in the\n"
"backing file for the next start (with --drain-on-stop, SIGTERM moves them\n"
"to the peers first).\n"
"Drain: 'rswapctl drain' has the clients move every slab held here to other\n"
"servers, copied server to server over RDMA; meanwhile and after it, this\n"
"server grants nothing ('rswapctl undrain' or a restart ends that).\n",
		DEFAULT_PORT, DEFAULT_ADMIN, DEFAULT_MAX_CLIENTS, MAX_COPIES, DEFAULT_MAX_COPIES,
		SETTINGS_PEERS_MAX,
		DEFAULT_CLIENT_TIMEOUT_S, MAX_CLIENT_TIMEOUT_S, MAX_CLIENT_EXPIRY_S,
		DEFAULT_MAX_UNAUTH, MAX_UNAUTH, DEFAULT_MAX_UNAUTH_PER_SOURCE);
}

int settings_default_admin_socket(char *buf, size_t size, const char *host, const char *port)
{
	int n = snprintf(buf, size, "@rswap-admin/%s/%s", host, port);

	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* --copy-targets: numeric addresses, comma-separated, each once. */
static int parse_copy_targets(struct settings *s, const char *value, const char *lab, char *err,
			      size_t err_size)
{
	char buf[sizeof(s->copy_targets_text)], *tok, *save = NULL;
	unsigned int i;

	if (strlen(value) >= sizeof(buf)) {
		snprintf(err, err_size, "%s: too long", lab);
		return -1;
	}
	s->copy_targets_any = !strcmp(value, "any");
	if (s->copy_targets_any) {
		s->n_copy_targets = 0;
		strcpy(s->copy_targets_text, value);
		return 0;
	}
	if (!value[0] || value[0] == ',' || value[strlen(value) - 1] == ',' ||
	    strstr(value, ",,")) {
		snprintf(err, err_size, "%s: an empty address in '%s'", lab, value);
		return -1;
	}
	strcpy(buf, value);
	s->n_copy_targets = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct settings_ip *ip = &s->copy_targets[s->n_copy_targets];

		if (s->n_copy_targets == SETTINGS_COPY_TARGETS_MAX) {
			snprintf(err, err_size, "%s: at most %d addresses", lab,
				 SETTINGS_COPY_TARGETS_MAX);
			return -1;
		}
		memset(ip, 0, sizeof(*ip));
		if (inet_pton(AF_INET, tok, ip->addr) == 1) {
			ip->family = AF_INET;
		} else if (inet_pton(AF_INET6, tok, ip->addr) == 1) {
			ip->family = AF_INET6;
		} else {
			snprintf(err, err_size, "%s: want numeric IPv4 or IPv6 addresses, comma-"
				 "separated, got '%s'", lab, tok);
			return -1;
		}
		for (i = 0; i < s->n_copy_targets; i++) {
			if (s->copy_targets[i].family == ip->family &&
			    !memcmp(s->copy_targets[i].addr, ip->addr, sizeof(ip->addr))) {
				snprintf(err, err_size, "%s: %s given twice", lab, tok);
				return -1;
			}
		}
		s->n_copy_targets++;
	}
	if (!s->n_copy_targets) {
		snprintf(err, err_size, "%s: want at least one address", lab);
		return -1;
	}
	strcpy(s->copy_targets_text, value);
	return 0;
}

bool settings_copy_target_ok(const struct settings *s, int family, const uint8_t *ip)
{
	unsigned int i;

	if (!s->n_copy_targets)
		return true;
	for (i = 0; i < s->n_copy_targets; i++)
		if (s->copy_targets[i].family == family &&
		    !memcmp(s->copy_targets[i].addr, ip, family == AF_INET ? 4 : 16))
			return true;
	return false;
}

int parse_size(const char *text, uint64_t *bytes)
{
	char *end;
	unsigned long long v;
	unsigned int shift = 0;

	if (!text || !*text || *text == '-')
		return -1;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno || end == text)
		return -1;
	switch (*end) {
	case 'k': case 'K':
		shift = 10;
		break;
	case 'm': case 'M':
		shift = 20;
		break;
	case 'g': case 'G':
		shift = 30;
		break;
	case 't': case 'T':
		shift = 40;
		break;
	case '\0':
		break;
	default:
		return -1;
	}
	if (shift && end[1] && strcmp(end + 1, "B") && strcmp(end + 1, "iB"))
		return -1;
	if (shift && v > (ULLONG_MAX >> shift))
		return -1;
	*bytes = (uint64_t)v << shift;
	return 0;
}

int parse_hostport(const char *text, char *host, size_t host_size, char *port,
		   size_t port_size)
{
	const char *colon = strrchr(text, ':');
	size_t hlen;
	char *end;
	long p;

	if (!colon)
		return -1;
	hlen = (size_t)(colon - text);
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || p <= 0 || p > 65535)
		return -1;
	if (hlen >= host_size || strlen(colon + 1) >= port_size)
		return -1;
	if (hlen) {
		memcpy(host, text, hlen);
		host[hlen] = '\0';
	} else {
		snprintf(host, host_size, "0.0.0.0");
	}
	snprintf(port, port_size, "%ld", p);
	return 0;
}

/*
 * Every option: its getopt_long value, and its slot in struct origin. The
 * ones before O_CONFIG are settings, which a config file may set too.
 */
enum opt_id {
	O_LISTEN = 256, O_ADMIN, O_ADMIN_SOCKET, O_ADMIN_KEY, O_MEMORY, O_BACKING, O_KEY,
	O_SLAB, O_QUOTA, O_MAXCL, O_MAXCOPIES, O_COPY_TARGETS,
	O_META, O_PEER, O_DRAIN_ON_STOP, O_CLIENT_TIMEOUT, O_CLIENT_EXPIRY, O_MAX_UNAUTH,
	O_MAX_UNAUTH_SOURCE, O_VERBOSE,
	O_CONFIG,		/* from here on: command line only */
	O_CHECK_CONFIG, O_HELP, O_END
};
#define N_OPTS (O_END - O_LISTEN)

/* Long names are the config file's keys; --help's order, and settings_print's. */
static const struct option opts[] = {
	{ "listen", required_argument, NULL, O_LISTEN },
	{ "admin", required_argument, NULL, O_ADMIN },
	{ "admin-socket", required_argument, NULL, O_ADMIN_SOCKET },
	{ "admin-key-file", required_argument, NULL, O_ADMIN_KEY },
	{ "memory", required_argument, NULL, O_MEMORY },
	{ "backing", required_argument, NULL, O_BACKING },
	{ "key-file", required_argument, NULL, O_KEY },
	{ "slab-size", required_argument, NULL, O_SLAB },
	{ "quota", required_argument, NULL, O_QUOTA },
	{ "max-clients", required_argument, NULL, O_MAXCL },
	{ "max-copies", required_argument, NULL, O_MAXCOPIES },
	{ "copy-targets", required_argument, NULL, O_COPY_TARGETS },
	{ "meta", required_argument, NULL, O_META },
	{ "peer", required_argument, NULL, O_PEER },
	{ "drain-on-stop", no_argument, NULL, O_DRAIN_ON_STOP },
	{ "client-timeout", required_argument, NULL, O_CLIENT_TIMEOUT },
	{ "client-expiry", required_argument, NULL, O_CLIENT_EXPIRY },
	{ "max-unauthenticated", required_argument, NULL, O_MAX_UNAUTH },
	{ "max-unauthenticated-per-source", required_argument, NULL, O_MAX_UNAUTH_SOURCE },
	{ "verbose", no_argument, NULL, O_VERBOSE },
	{ "config", required_argument, NULL, O_CONFIG },
	{ "check-config", no_argument, NULL, O_CHECK_CONFIG },
	{ "help", no_argument, NULL, O_HELP },
	{ 0 }
};

/* Where the settings came from, for messages that point at a line. */
struct origin {
	const char *file;			/* the --config file, or NULL */
	unsigned int line[N_OPTS];		/* its line that set an option; 0: not it */
	unsigned int peer_line[SETTINGS_PEERS_MAX];
	bool cli[N_OPTS];			/* set on the command line */
	bool cli_peers;				/* --peer seen: the file's are gone */
};

/* Room for a label: "FILE:LINE: " and an option's name. */
#define LABEL_MAX (SETTINGS_PATH_MAX + 48)

static const char *opt_name(int id)
{
	const struct option *o;

	for (o = opts; o->name; o++)
		if (o->val == id)
			return o->name;
	return "?";
}

/*
 * An option as the user wrote it, or would: "--memory" from the command
 * line or with no config file, "memory" otherwise.
 */
static const char *name_of(const struct origin *o, int id, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s", o->file && !o->cli[id - O_LISTEN] ? "" : "--", opt_name(id));
	return buf;
}

/* The same, after "FILE:LINE: " when a line of the file set it. */
static const char *label(const struct origin *o, int id, unsigned int line, char *buf,
			 size_t size)
{
	if (line)
		snprintf(buf, size, "%s:%u: %s", o->file, line, opt_name(id));
	else
		snprintf(buf, size, "--%s", opt_name(id));
	return buf;
}

static int copy_path(char *dst, const char *src, const char *lab, char *err, size_t err_size)
{
	if (!*src || strlen(src) >= SETTINGS_PATH_MAX) {
		snprintf(err, err_size, "%s: bad path '%s'", lab, src);
		return -1;
	}
	strcpy(dst, src);
	return 0;
}

/* yes/no, true/false, on/off, 1/0, in any case: 0 or -1. */
static int parse_bool(const char *text, bool *on)
{
	static const char *const words[][2] = {
		{ "yes", "no" }, { "true", "false" }, { "on", "off" }, { "1", "0" },
	};
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (!strcasecmp(text, words[i][0]) || !strcasecmp(text, words[i][1])) {
			*on = !strcasecmp(text, words[i][0]);
			return 0;
		}
	}
	return -1;
}

static void defaults(struct settings *s)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->listen_host, sizeof(s->listen_host), "0.0.0.0");
	snprintf(s->listen_port, sizeof(s->listen_port), DEFAULT_PORT);
	parse_hostport(DEFAULT_ADMIN, s->admin_host, sizeof(s->admin_host), s->admin_port,
		       sizeof(s->admin_port));
	s->slab_size = DEFAULT_SLAB_SIZE;
	s->max_clients = DEFAULT_MAX_CLIENTS;
	s->max_copies = DEFAULT_MAX_COPIES;
	s->client_timeout_s = DEFAULT_CLIENT_TIMEOUT_S;
	s->max_unauth = DEFAULT_MAX_UNAUTH;
	s->max_unauth_per_source = DEFAULT_MAX_UNAUTH_PER_SOURCE;
}

/*
 * Set one option from its text, the one place each is checked. @value is
 * NULL for a flag on the command line (on); @lab names it in messages.
 */
static int apply_option(struct settings *s, int id, const char *value, const char *lab,
			char *err, size_t err_size)
{
	uint64_t v;

	switch (id) {
	case O_LISTEN:
	case O_ADMIN: {
		bool listen = id == O_LISTEN;
		char *host = listen ? s->listen_host : s->admin_host;
		char *port = listen ? s->listen_port : s->admin_port;

		_Static_assert(sizeof(s->listen_host) == sizeof(s->admin_host) &&
			       sizeof(s->listen_port) == sizeof(s->admin_port),
			       "listen and admin addresses share one parser call");
		if (parse_hostport(value, host, sizeof(s->listen_host), port,
				   sizeof(s->listen_port))) {
			snprintf(err, err_size, "%s: want ADDR:PORT, got '%s'", lab, value);
			return -1;
		}
		return 0;
	}
	case O_MEMORY:
	case O_SLAB:
	case O_QUOTA:
		if (id == O_QUOTA && !strcmp(value, "all")) {
			s->quota = QUOTA_ALL;
			return 0;
		}
		if (parse_size(value, &v) || !v) {
			snprintf(err, err_size, "%s: bad size '%s' (e.g. 512M, 8G)", lab, value);
			return -1;
		}
		*(id == O_MEMORY ? &s->memory : id == O_SLAB ? &s->slab_size : &s->quota) = v;
		return 0;
	case O_MAXCL: {
		char *end;
		unsigned long n;

		errno = 0;
		n = strtoul(value, &end, 10);
		if (errno || *end || !n || n > 4096 || value[0] == '-') {
			snprintf(err, err_size, "%s: want 1..4096, got '%s'", lab, value);
			return -1;
		}
		s->max_clients = (uint32_t)n;
		return 0;
	}
	case O_MAXCOPIES: {
		char *end;
		unsigned long n;

		errno = 0;
		n = strtoul(value, &end, 10);
		if (errno || end == value || *end || !n || n > MAX_COPIES ||
		    !isdigit((unsigned char)value[0])) {
			snprintf(err, err_size, "%s: want 1..%d, got '%s'", lab, MAX_COPIES, value);
			return -1;
		}
		s->max_copies = (uint32_t)n;
		return 0;
	}
	case O_COPY_TARGETS:
		return parse_copy_targets(s, value, lab, err, err_size);
	case O_CLIENT_TIMEOUT: {
		char *end;
		unsigned long n;

		errno = 0;
		n = strtoul(value, &end, 10);
		if (errno || end == value || *end || n > MAX_CLIENT_TIMEOUT_S ||
		    !isdigit((unsigned char)value[0])) {
			snprintf(err, err_size, "%s: want seconds, 0..%d (0: never), got '%s'", lab,
				 MAX_CLIENT_TIMEOUT_S, value);
			return -1;
		}
		s->client_timeout_s = (uint32_t)n;
		return 0;
	}
	case O_CLIENT_EXPIRY: {
		char *end;
		unsigned long n;

		errno = 0;
		n = strtoul(value, &end, 10);
		if (errno || end == value || *end || n > MAX_CLIENT_EXPIRY_S ||
		    !isdigit((unsigned char)value[0])) {
			snprintf(err, err_size, "%s: want seconds, 0..%u (0: never), got '%s'", lab,
				 MAX_CLIENT_EXPIRY_S, value);
			return -1;
		}
		s->client_expiry_s = (uint32_t)n;
		return 0;
	}
	case O_MAX_UNAUTH:
	case O_MAX_UNAUTH_SOURCE: {
		char *end;
		unsigned long n;

		errno = 0;
		n = strtoul(value, &end, 10);
		if (errno || end == value || *end || !n || n > MAX_UNAUTH ||
		    !isdigit((unsigned char)value[0])) {
			snprintf(err, err_size, "%s: want connections, 1..%d, got '%s'", lab,
				 MAX_UNAUTH, value);
			return -1;
		}
		*(id == O_MAX_UNAUTH ? &s->max_unauth : &s->max_unauth_per_source) = (uint32_t)n;
		return 0;
	}
	case O_BACKING:
		return copy_path(s->backing, value, lab, err, err_size);
	case O_KEY:
		return copy_path(s->key_file, value, lab, err, err_size);
	case O_ADMIN_KEY:
		return copy_path(s->admin_key_file, value, lab, err, err_size);
	case O_ADMIN_SOCKET:
		if ((value[0] != '/' && !(value[0] == '@' && value[1]) && strcmp(value, "off")) ||
		    strlen(value) >= sizeof(s->admin_socket)) {
			snprintf(err, err_size, "%s: want an absolute path, @NAME or off, of at "
				 "most %zu bytes, got '%s'", lab, sizeof(s->admin_socket) - 1, value);
			return -1;
		}
		strcpy(s->admin_socket, value);
		return 0;
	case O_META:
		return copy_path(s->meta, value, lab, err, err_size);
	case O_PEER: {
		struct settings_peer *p = &s->peers[s->n_peers];

		if (s->n_peers == SETTINGS_PEERS_MAX) {
			snprintf(err, err_size, "%s: at most %d peers", lab, SETTINGS_PEERS_MAX);
			return -1;
		}
		if (parse_hostport(value, p->host, sizeof(p->host), p->port, sizeof(p->port)) ||
		    value[0] == ':') {
			snprintf(err, err_size, "%s: want the ADDR:PORT of another server's "
				 "--admin, got '%s'", lab, value);
			return -1;
		}
		snprintf(p->text, sizeof(p->text), "%s", value);
		s->n_peers++;
		return 0;
	}
	case O_DRAIN_ON_STOP:
	case O_VERBOSE: {
		bool on = true;

		if (value && parse_bool(value, &on)) {
			snprintf(err, err_size, "%s: want yes or no, got '%s'", lab, value);
			return -1;
		}
		*(id == O_DRAIN_ON_STOP ? &s->drain_on_stop : &s->verbose) = on;
		return 0;
	}
	}
	snprintf(err, err_size, "%s: not a setting", lab);
	return -1;
}

/* Optimal string alignment distance (swapped neighbours count 1), for hints. */
static size_t edit_distance(const char *a, const char *b)
{
	enum { MAX = 32 };
	size_t la = strlen(a), lb = strlen(b), d[MAX + 1][MAX + 1], i, j;

	if (la > MAX || lb > MAX)
		return SIZE_MAX;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1], best = d[i - 1][j - 1] + cost;

			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

/* The setting a config file key names, or NULL (command-line options included). */
static const struct option *file_key(const char *key)
{
	const struct option *o;

	for (o = opts; o->val < O_CONFIG; o++)
		if (!strcmp(o->name, key))
			return o;
	return NULL;
}

static void unknown_key(const struct origin *o, unsigned int line, const char *key, char *err,
			size_t err_size)
{
	const struct option *opt, *near = NULL;
	size_t best = 3;	/* a hint only for two edits or fewer */

	for (opt = opts; opt->val < O_CONFIG; opt++) {
		size_t dist = edit_distance(key, opt->name);

		if (dist < best) {
			best = dist;
			near = opt;
		}
	}
	if (near)
		snprintf(err, err_size, "%s:%u: unknown key '%s' (did you mean %s?)", o->file, line,
			 key, near->name);
	else
		snprintf(err, err_size, "%s:%u: unknown key '%s' (the keys are the long options "
			 "of --help, without the dashes)", o->file, line, key);
}

static char *trim(char *text)
{
	char *end;

	while (isspace((unsigned char)*text))
		text++;
	end = text + strlen(text);
	while (end > text && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return text;
}

/* One line of the config file: a comment, a blank, or "key = value". */
static int config_line(struct settings *s, struct origin *o, char *text, unsigned int line,
		       char *err, size_t err_size)
{
	char lab[LABEL_MAX], *key, *value = NULL, *eq;
	const struct option *opt;
	unsigned int *seen;

	key = trim(text);
	if (!*key || *key == '#')
		return 0;
	eq = strchr(key, '=');
	if (eq) {
		*eq = '\0';
		value = trim(eq + 1);
		key = trim(key);
	}
	opt = file_key(key);
	if (!opt) {
		unknown_key(o, line, key, err, err_size);
		return -1;
	}
	label(o, opt->val, line, lab, sizeof(lab));
	if (!value || !*value) {
		snprintf(err, err_size, "%s: needs a value (%s = %s)", lab, key,
			 opt->has_arg == no_argument ? "yes|no" : "VALUE");
		return -1;
	}
	seen = &o->line[opt->val - O_LISTEN];
	if (*seen && opt->val != O_PEER) {
		snprintf(err, err_size, "%s: set twice (first on line %u)", lab, *seen);
		return -1;
	}
	if (opt->val == O_PEER && s->n_peers < SETTINGS_PEERS_MAX)
		o->peer_line[s->n_peers] = line;
	*seen = line;
	return apply_option(s, opt->val, value, lab, err, err_size);
}

static int read_config(struct settings *s, struct origin *o, char *err, size_t err_size)
{
	unsigned int line = 0;
	size_t cap = 0;
	char *buf = NULL;
	int ret = 0;
	FILE *f;

	f = fopen(s->config, "re");
	if (!f) {
		snprintf(err, err_size, "cannot read config file %s: %s", s->config,
			 strerror(errno));
		return -1;
	}
	o->file = s->config;
	while (!ret && getline(&buf, &cap, f) != -1)
		ret = config_line(s, o, buf, ++line, err, err_size);
	if (!ret && ferror(f)) {
		snprintf(err, err_size, "cannot read config file %s: %s", s->config,
			 strerror(errno));
		ret = -1;
	}
	free(buf);
	fclose(f);
	return ret;
}

/*
 * One pass over argv. The first (@apply false) takes --config, --check-config
 * and --help and refuses what is not an option; the second applies the
 * settings, over the file's.
 */
static int scan_argv(struct settings *s, struct origin *o, int argc, char **argv, bool apply,
		     char *err, size_t err_size)
{
	char lab[LABEL_MAX];
	int opt;

	optind = 0;	/* glibc: start afresh (the second pass, and the tests, rescan) */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":vh", opts, NULL)) != -1) {
		if (opt == 'v')
			opt = O_VERBOSE;
		else if (opt == 'h')
			opt = O_HELP;
		switch (opt) {
		case ':':
			snprintf(err, err_size, "%s needs a value", argv[optind - 1]);
			return -1;
		case '?':
			snprintf(err, err_size, "unknown option '%s' (try --help)", argv[optind - 1]);
			return -1;
		case O_HELP:
			s->help = true;
			return 0;
		case O_CHECK_CONFIG:
			s->check_config = true;
			break;
		case O_CONFIG:
			if (apply)
				break;
			if (s->config[0]) {
				snprintf(err, err_size, "--config: one config file only");
				return -1;
			}
			if (copy_path(s->config, optarg, "--config", err, err_size))
				return -1;
			break;
		default:
			if (!apply)
				break;
			if (opt == O_PEER && !o->cli_peers) {
				s->n_peers = 0;
				o->cli_peers = true;
			}
			o->line[opt - O_LISTEN] = 0;
			o->cli[opt - O_LISTEN] = true;
			if (apply_option(s, opt, optarg, label(o, opt, 0, lab, sizeof(lab)), err,
					 err_size))
				return -1;
		}
	}
	if (optind < argc) {
		snprintf(err, err_size, "unexpected argument '%s' (try --help)", argv[optind]);
		return -1;
	}
	return 0;
}
/* No --quota: half the pool (at least a slab) wherever more than one client
 * may come, so one tenant, or one compromised host, cannot take a shared
 * server's memory; all of it where only one may. */
static uint64_t default_quota(const struct settings *s)
{
	uint64_t slabs = s->memory / s->slab_size;

	if (s->max_clients == 1)
		return s->memory;
	return (slabs > 1 ? slabs / 2 : 1) * s->slab_size;
}

/* The checks between options, once every source is in. */
static int check(struct settings *s, const struct origin *o, char *err, size_t err_size)
{
	char lab[LABEL_MAX], name[48];
	unsigned int i;

#define LAB(id) label(o, (id), o->line[(id) - O_LISTEN], lab, sizeof(lab))
#define NAME(id) name_of(o, (id), name, sizeof(name))
	if (!s->memory || !s->backing[0] || !s->key_file[0]) {
		int id = !s->memory ? O_MEMORY : !s->backing[0] ? O_BACKING : O_KEY;

		if (o->file)
			snprintf(err, err_size, "%s: missing %s (a '%s = ...' line, or --%s)",
				 o->file, opt_name(id), opt_name(id), opt_name(id));
		else
			snprintf(err, err_size, "missing --%s (try --help)", opt_name(id));
		return -1;
	}
	if (s->slab_size % RSWAP_PAGE_SIZE || s->slab_size < MIN_SLAB_SIZE ||
	    s->slab_size > MAX_SLAB_SIZE) {
		snprintf(err, err_size, "%s %llu: must be 64K..1G and a multiple of 4K",
			 LAB(O_SLAB), (unsigned long long)s->slab_size);
		return -1;
	}
	if (s->memory % s->slab_size) {
		snprintf(err, err_size, "%s %llu is not a multiple of %s %llu", LAB(O_MEMORY),
			 (unsigned long long)s->memory, NAME(O_SLAB),
			 (unsigned long long)s->slab_size);
		return -1;
	}
	if (s->memory / s->slab_size > MAX_SLABS) {
		snprintf(err, err_size, "%s / %s gives more than %u slabs: use larger slabs",
			 LAB(O_MEMORY), NAME(O_SLAB), MAX_SLABS);
		return -1;
	}
	if (!s->quota)
		s->quota = default_quota(s);
	if (s->quota < s->slab_size) {
		snprintf(err, err_size, "%s %llu is smaller than one slab (%llu)", LAB(O_QUOTA),
			 (unsigned long long)s->quota, (unsigned long long)s->slab_size);
		return -1;
	}
	if (s->quota > s->memory)
		s->quota = s->memory;	/* more than all is all */
	if (!s->meta[0]) {
		size_t n = strlen(s->backing);

		if (n + sizeof(".meta") > sizeof(s->meta)) {
			snprintf(err, err_size, "%s path too long for the default %s",
				 LAB(O_BACKING), NAME(O_META));
			return -1;
		}
		/* Not snprintf: gcc -O0 cannot see the check above and warns. */
		memcpy(s->meta, s->backing, n);
		memcpy(s->meta + n, ".meta", sizeof(".meta"));
	}
	for (i = 0; i < s->n_peers; i++) {
		if (!strcmp(s->peers[i].host, s->admin_host) &&
		    !strcmp(s->peers[i].port, s->admin_port)) {
			snprintf(err, err_size, "%s %s is this server's own %s address",
				 label(o, O_PEER, o->cli_peers ? 0 : o->peer_line[i], lab,
				       sizeof(lab)), s->peers[i].text, NAME(O_ADMIN));
			return -1;
		}
	}
	if (!s->admin_socket[0] &&
	    settings_default_admin_socket(s->admin_socket, sizeof(s->admin_socket),
					  s->admin_host, s->admin_port)) {
		snprintf(err, err_size, "the default %s is too long: set one",
			 NAME(O_ADMIN_SOCKET));
		return -1;
	}
	if (s->admin_key_file[0] && !strcmp(s->admin_key_file, s->key_file)) {
		snprintf(err, err_size, "%s is the %s: the admin key must be another one",
			 LAB(O_ADMIN_KEY), NAME(O_KEY));
		return -1;
	}
	if (s->max_unauth_per_source > s->max_unauth) {
		bool given = o->line[O_MAX_UNAUTH_SOURCE - O_LISTEN] ||
			     o->cli[O_MAX_UNAUTH_SOURCE - O_LISTEN];

		snprintf(err, err_size, "%s%s %u is more than %s %u%s", given ? "" : "the default ",
			 LAB(O_MAX_UNAUTH_SOURCE), s->max_unauth_per_source, NAME(O_MAX_UNAUTH),
			 s->max_unauth, given ? ": one address could take them all" :
			 ": set it too, at most that");
		return -1;
	}
	if (!strcmp(s->meta, s->backing)) {
		snprintf(err, err_size, "%s and %s are the same file", LAB(O_META),
			 NAME(O_BACKING));
		return -1;
	}
#undef LAB
#undef NAME
	return 0;
}

int settings_parse(struct settings *s, int argc, char **argv, char *err, size_t err_size)
{
	struct origin o = { 0 };

	defaults(s);
	if (scan_argv(s, &o, argc, argv, false, err, err_size))
		return -1;
	if (s->help)
		return 0;
	if (s->config[0] && read_config(s, &o, err, err_size))
		return -1;
	if (scan_argv(s, &o, argc, argv, true, err, err_size))
		return -1;
	return check(s, &o, err, err_size);
}

/* A size with the largest suffix that keeps it whole: 16777216 is "16M". */
static void print_size(FILE *out, const char *key, uint64_t bytes)
{
	static const char suffixes[] = "KMGT";
	int i = -1;

	while (i < 3 && bytes && !(bytes & 1023)) {
		bytes >>= 10;
		i++;
	}
	if (i >= 0)
		fprintf(out, "%s = %llu%c\n", key, (unsigned long long)bytes, suffixes[i]);
	else
		fprintf(out, "%s = %llu\n", key, (unsigned long long)bytes);
}

void settings_print(FILE *out, const struct settings *s)
{
	const struct option *o;
	unsigned int i;

	for (o = opts; o->val < O_CONFIG; o++) {
		switch (o->val) {
		case O_LISTEN:
			fprintf(out, "%s = %s:%s\n", o->name, s->listen_host, s->listen_port);
			break;
		case O_ADMIN:
			fprintf(out, "%s = %s:%s\n", o->name, s->admin_host, s->admin_port);
			break;
		case O_ADMIN_SOCKET:
			fprintf(out, "%s = %s\n", o->name, s->admin_socket);
			break;
		case O_ADMIN_KEY:	/* none: no line (a value is required) */
			if (s->admin_key_file[0])
				fprintf(out, "%s = %s\n", o->name, s->admin_key_file);
			break;
		case O_MEMORY:
			print_size(out, o->name, s->memory);
			break;
		case O_BACKING:
			fprintf(out, "%s = %s\n", o->name, s->backing);
			break;
		case O_KEY:
			fprintf(out, "%s = %s\n", o->name, s->key_file);
			break;
		case O_SLAB:
			print_size(out, o->name, s->slab_size);
			break;
		case O_QUOTA:
			print_size(out, o->name, s->quota);
			break;
		case O_MAXCL:
			fprintf(out, "%s = %u\n", o->name, s->max_clients);
			break;
		case O_MAXCOPIES:
			fprintf(out, "%s = %u\n", o->name, s->max_copies);
			break;
		case O_COPY_TARGETS:
			if (s->n_copy_targets || s->copy_targets_any)
				fprintf(out, "%s = %s\n", o->name, s->copy_targets_text);
			break;
		case O_META:
			fprintf(out, "%s = %s\n", o->name, s->meta);
			break;
		case O_PEER:
			for (i = 0; i < s->n_peers; i++)
				fprintf(out, "%s = %s\n", o->name, s->peers[i].text);
			break;
		case O_DRAIN_ON_STOP:
			fprintf(out, "%s = %s\n", o->name, s->drain_on_stop ? "yes" : "no");
			break;
		case O_CLIENT_TIMEOUT:
			fprintf(out, "%s = %u\n", o->name, s->client_timeout_s);
			break;
		case O_CLIENT_EXPIRY:
			fprintf(out, "%s = %u\n", o->name, s->client_expiry_s);
			break;
		case O_MAX_UNAUTH:
			fprintf(out, "%s = %u\n", o->name, s->max_unauth);
			break;
		case O_MAX_UNAUTH_SOURCE:
			fprintf(out, "%s = %u\n", o->name, s->max_unauth_per_source);
			break;
		case O_VERBOSE:
			fprintf(out, "%s = %s\n", o->name, s->verbose ? "yes" : "no");
			break;
		}
	}
}
