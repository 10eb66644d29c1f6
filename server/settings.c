// SPDX-License-Identifier: GPL-2.0
/* settings: defaults, command line and the checks between options. */
#include "settings.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rswap_wire.h"

/* Defaults, each with its reason. */
#define DEFAULT_PORT "7471"		/* rdma_cm port (rping's, unassigned) */
#define DEFAULT_ADMIN "127.0.0.1:7472"	/* admin is local unless asked */
#define DEFAULT_SLAB_SIZE (16ull << 20)	/* 4096 pages: few grants, fine drains */
#define MIN_SLAB_SIZE (64ull << 10)	/* below this, MRs outnumber pages */
#define MAX_SLAB_SIZE (1ull << 30)	/* one MR registration stays quick */
#define DEFAULT_MAX_CLIENTS 64
#define MAX_SLABS (1u << 24)		/* pool tables stay small */

void settings_usage(FILE *out)
{
	fprintf(out,
"Usage: rswap-server --memory SIZE --backing PATH --key-file PATH [options]\n"
"Donate memory to the rswap pool: clients swap pages into it with one-sided\n"
"RDMA. Pages survive a restart of this process (kill -9 included) as long as\n"
"the backing file does.\n"
"\n"
"Required:\n"
"  --memory SIZE        memory to donate, e.g. 8G; a multiple of --slab-size\n"
"  --backing PATH       file holding that memory: on tmpfs (/dev/shm) or\n"
"                       hugetlbfs so it lives in RAM; created if missing,\n"
"                       reused (with its pages) if it exists\n"
"  --key-file PATH      pre-shared key clients must prove they know (at least\n"
"                       16 bytes, readable by the owner only)\n"
"\n"
"Options:\n"
"  --listen ADDR:PORT   RDMA address to accept clients on (default port %s)\n"
"  --admin ADDR:PORT    admin API for rswapctl and Prometheus (default %s)\n"
"  --slab-size SIZE     unit of grants, 64K..1G, multiple of 4K (default 16M)\n"
"  --quota SIZE         most memory one client may hold (default: all)\n"
"  --max-clients N      clients known at once (default %d)\n"
"  --meta PATH          metadata log (default: BACKING.meta)\n"
"  --peer ADDR:PORT     the admin address of another server of the pool\n"
"                       (repeatable, up to %d): a drain asks the peers for\n"
"                       their free memory first and refuses if it does not\n"
"                       fit; a rebalance computes the fair share with them\n"
"  --drain-on-stop      on SIGTERM, move every slab to other servers first\n"
"                       (what fits), then exit; a second SIGTERM exits at once\n"
"  -v, --verbose        log every control message\n"
"  -h, --help           this text\n"
"\n"
"SIZE takes a K, M, G or T suffix (powers of 1024).\n"
"Signals: SIGTERM and SIGINT stop cleanly; clients' slabs stay in the\n"
"backing file for the next start (with --drain-on-stop, SIGTERM moves them\n"
"to the peers first).\n"
"Drain: 'rswapctl drain' has the clients move every slab held here to other\n"
"servers, copied server to server over RDMA; meanwhile and after it, this\n"
"server grants nothing ('rswapctl undrain' or a restart ends that).\n",
		DEFAULT_PORT, DEFAULT_ADMIN, DEFAULT_MAX_CLIENTS, SETTINGS_PEERS_MAX);
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

static int copy_path(char *dst, const char *src, const char *opt, char *err, size_t err_size)
{
	if (!*src || strlen(src) >= SETTINGS_PATH_MAX) {
		snprintf(err, err_size, "%s: bad path '%s'", opt, src);
		return -1;
	}
	strcpy(dst, src);
	return 0;
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
}

int settings_parse(struct settings *s, int argc, char **argv, char *err, size_t err_size)
{
	enum { O_LISTEN = 256, O_ADMIN, O_MEMORY, O_BACKING, O_SLAB, O_KEY, O_QUOTA,
	       O_MAXCL, O_META, O_PEER, O_DRAIN_ON_STOP };
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, O_LISTEN },
		{ "admin", required_argument, NULL, O_ADMIN },
		{ "memory", required_argument, NULL, O_MEMORY },
		{ "backing", required_argument, NULL, O_BACKING },
		{ "slab-size", required_argument, NULL, O_SLAB },
		{ "key-file", required_argument, NULL, O_KEY },
		{ "quota", required_argument, NULL, O_QUOTA },
		{ "max-clients", required_argument, NULL, O_MAXCL },
		{ "meta", required_argument, NULL, O_META },
		{ "peer", required_argument, NULL, O_PEER },
		{ "drain-on-stop", no_argument, NULL, O_DRAIN_ON_STOP },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	uint64_t v;
	int opt;

	defaults(s);
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":vh", opts, NULL)) != -1) {
		switch (opt) {
		case O_LISTEN:
			if (parse_hostport(optarg, s->listen_host, sizeof(s->listen_host),
					   s->listen_port, sizeof(s->listen_port))) {
				snprintf(err, err_size, "--listen: want ADDR:PORT, got '%s'", optarg);
				return -1;
			}
			break;
		case O_ADMIN:
			if (parse_hostport(optarg, s->admin_host, sizeof(s->admin_host),
					   s->admin_port, sizeof(s->admin_port))) {
				snprintf(err, err_size, "--admin: want ADDR:PORT, got '%s'", optarg);
				return -1;
			}
			break;
		case O_MEMORY:
		case O_SLAB:
		case O_QUOTA:
			if (parse_size(optarg, &v) || !v) {
				snprintf(err, err_size, "--%s: bad size '%s' (e.g. 512M, 8G)",
					 opt == O_MEMORY ? "memory" : opt == O_SLAB ? "slab-size" :
					 "quota", optarg);
				return -1;
			}
			if (opt == O_MEMORY)
				s->memory = v;
			else if (opt == O_SLAB)
				s->slab_size = v;
			else
				s->quota = v;
			break;
		case O_MAXCL: {
			char *end;
			unsigned long n;

			errno = 0;
			n = strtoul(optarg, &end, 10);
			if (errno || *end || !n || n > 4096 || optarg[0] == '-') {
				snprintf(err, err_size, "--max-clients: want 1..4096, got '%s'", optarg);
				return -1;
			}
			s->max_clients = (uint32_t)n;
			break;
		}
		case O_BACKING:
			if (copy_path(s->backing, optarg, "--backing", err, err_size))
				return -1;
			break;
		case O_KEY:
			if (copy_path(s->key_file, optarg, "--key-file", err, err_size))
				return -1;
			break;
		case O_META:
			if (copy_path(s->meta, optarg, "--meta", err, err_size))
				return -1;
			break;
		case O_PEER: {
			struct settings_peer *p = &s->peers[s->n_peers];

			if (s->n_peers == SETTINGS_PEERS_MAX) {
				snprintf(err, err_size, "--peer: at most %d peers", SETTINGS_PEERS_MAX);
				return -1;
			}
			if (parse_hostport(optarg, p->host, sizeof(p->host), p->port,
					   sizeof(p->port)) || optarg[0] == ':') {
				snprintf(err, err_size, "--peer: want the ADDR:PORT of another "
					 "server's --admin, got '%s'", optarg);
				return -1;
			}
			snprintf(p->text, sizeof(p->text), "%s", optarg);
			s->n_peers++;
			break;
		}
		case O_DRAIN_ON_STOP:
			s->drain_on_stop = true;
			break;
		case 'v':
			s->verbose = true;
			break;
		case 'h':
			s->help = true;
			return 0;
		case ':':
			snprintf(err, err_size, "%s needs a value", argv[optind - 1]);
			return -1;
		default:
			snprintf(err, err_size, "unknown option '%s' (try --help)", argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		snprintf(err, err_size, "unexpected argument '%s' (try --help)", argv[optind]);
		return -1;
	}
	if (!s->memory || !s->backing[0] || !s->key_file[0]) {
		snprintf(err, err_size, "missing %s (try --help)",
			 !s->memory ? "--memory" : !s->backing[0] ? "--backing" : "--key-file");
		return -1;
	}
	if (s->slab_size % RSWAP_PAGE_SIZE || s->slab_size < MIN_SLAB_SIZE ||
	    s->slab_size > MAX_SLAB_SIZE) {
		snprintf(err, err_size, "--slab-size %llu: must be 64K..1G and a multiple of 4K",
			 (unsigned long long)s->slab_size);
		return -1;
	}
	if (s->memory % s->slab_size) {
		snprintf(err, err_size, "--memory %llu is not a multiple of --slab-size %llu",
			 (unsigned long long)s->memory, (unsigned long long)s->slab_size);
		return -1;
	}
	if (s->memory / s->slab_size > MAX_SLABS) {
		snprintf(err, err_size, "--memory / --slab-size gives more than %u slabs: "
			 "use larger slabs", MAX_SLABS);
		return -1;
	}
	if (s->quota && s->quota < s->slab_size) {
		snprintf(err, err_size, "--quota %llu is smaller than one slab (%llu)",
			 (unsigned long long)s->quota, (unsigned long long)s->slab_size);
		return -1;
	}
	if (s->quota > s->memory)
		s->quota = 0;	/* more than all is all */
	if (!s->meta[0]) {
		if (strlen(s->backing) + sizeof(".meta") > SETTINGS_PATH_MAX) {
			snprintf(err, err_size, "--backing path too long for the default --meta");
			return -1;
		}
		snprintf(s->meta, sizeof(s->meta), "%s.meta", s->backing);
	}
	for (unsigned int i = 0; i < s->n_peers; i++) {
		if (!strcmp(s->peers[i].host, s->admin_host) &&
		    !strcmp(s->peers[i].port, s->admin_port)) {
			snprintf(err, err_size, "--peer %s is this server's own --admin address",
				 s->peers[i].text);
			return -1;
		}
	}
	if (!strcmp(s->meta, s->backing)) {
		snprintf(err, err_size, "--meta and --backing are the same file");
		return -1;
	}
	return 0;
}
