/* SPDX-License-Identifier: GPL-2.0 */
/* settings: rswap-server's configuration, parsed and checked in one place. */
#ifndef RSWAP_SETTINGS_H
#define RSWAP_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SETTINGS_ADDR_MAX 64
#define SETTINGS_PATH_MAX 4096
#define SETTINGS_PEERS_MAX 16
#define SETTINGS_COPY_TARGETS_MAX 32
#define SETTINGS_SOCK_MAX 108			/* sun_path of struct sockaddr_un */
#define QUOTA_ALL UINT64_MAX			/* --quota all, until validated */

/* Another server of the pool, by its admin API address. */
struct settings_peer {
	char host[SETTINGS_ADDR_MAX];
	char port[8];
	char text[SETTINGS_ADDR_MAX + 8];	/* as given: HOST:PORT */
};

struct settings {
	char listen_host[SETTINGS_ADDR_MAX];	/* RDMA (rdma_cm) address */
	char listen_port[8];
	char admin_host[SETTINGS_ADDR_MAX];	/* admin API (TCP) */
	char admin_port[8];
	char admin_socket[SETTINGS_SOCK_MAX];	/* admin API Unix socket: every call */
	char admin_key_file[SETTINGS_PATH_MAX];	/* admin key for TCP; "": none */
	uint64_t memory;			/* bytes donated */
	uint64_t slab_size;			/* bytes per slab */
	/* bytes one client may hold; before validation 0 means the default
	 * (half, or all with max_clients 1) and QUOTA_ALL all of memory */
	uint64_t quota;
	uint32_t max_clients;
	uint32_t max_copies;			/* MIGRATE copies running at once */
	/* --copy-targets: the only RDMA addresses MIGRATE may copy to (none:
	 * the --peer servers' listen addresses, peers.h; "any": any whose
	 * server proves the pool key) */
	struct settings_ip {
		int family;			/* AF_INET or AF_INET6 */
		uint8_t addr[16];		/* network order; 4 bytes for AF_INET */
	} copy_targets[SETTINGS_COPY_TARGETS_MAX];
	unsigned int n_copy_targets;
	bool copy_targets_any;			/* --copy-targets any */
	char copy_targets_text[SETTINGS_COPY_TARGETS_MAX * 48];	/* as given */
	char backing[SETTINGS_PATH_MAX];	/* file holding the memory */
	char meta[SETTINGS_PATH_MAX];		/* metadata log */
	char key_file[SETTINGS_PATH_MAX];
	struct settings_peer peers[SETTINGS_PEERS_MAX];	/* --peer */
	unsigned int n_peers;
	bool drain_on_stop;			/* SIGTERM drains, then exits */
	uint32_t client_timeout_s;		/* close a KEEPALIVE client silent this
						 * long; 0: never */
	uint32_t client_expiry_s;		/* forget a client disconnected this
						 * long; 0: never */
	uint32_t max_unauth;			/* connections not yet past AUTH */
	uint32_t max_unauth_per_source;		/* the same, from one address */
	bool verbose;
	char config[SETTINGS_PATH_MAX];		/* --config FILE, or "" */
	bool check_config;			/* --check-config: print, exit */
	bool help;
};

/*
 * Fill @s from the config file named by --config, if any, then from the
 * command line, which overrides the file (its --peer options replace the
 * file's peer lines). Returns 0, or -1 with a one-line reason in @err (bad
 * value, unknown key, missing required option, contradiction), which starts
 * with FILE:LINE when a line of the file is at fault. Sets s->help and
 * returns 0 for --help. The config file is the only file opened here.
 */
int settings_parse(struct settings *s, int argc, char **argv, char *err, size_t err_size);
void settings_usage(FILE *out);
/*
 * The effective settings as a config file: every key, one "key = value"
 * line each (a peer line per peer), in --help's order. Feeding it back
 * through --config gives the same settings.
 */
void settings_print(FILE *out, const struct settings *s);

/*
 * The admin socket a server with admin address @host:@port uses by
 * default, and rswapctl looks for: "@rswap-admin/HOST/PORT", a socket in
 * the abstract namespace (a leading @ stands for its NUL byte), so it is
 * the network namespace's, as the TCP port is, and no file is left behind.
 * 0, or -1 if it does not fit in @size.
 */
int settings_default_admin_socket(char *buf, size_t size, const char *host, const char *port);

/* Is @ip (@family AF_INET or AF_INET6, network order) one of
 * --copy-targets? True when none are set (peers.h decides then). */
bool settings_copy_target_ok(const struct settings *s, int family, const uint8_t *ip);

/* "8G", "512M", "64K", "4096": bytes, or -1 on a bad or overflowing size. */
int parse_size(const char *text, uint64_t *bytes);
/* "HOST:PORT" or ":PORT" (host 0.0.0.0): 0 or -1. */
int parse_hostport(const char *text, char *host, size_t host_size, char *port,
		   size_t port_size);

#endif
