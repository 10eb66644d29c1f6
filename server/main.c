// SPDX-License-Identifier: GPL-2.0
/*
 * rswap-server: donate memory to the rswap pool. See settings.c (--help)
 * for the options, conn.c for the protocol, metalog.h for what survives a
 * restart.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "notify.h"
#include "server.h"

static struct server srv;

int main(int argc, char **argv)
{
	struct metalog_replay replay;
	char err[512];
	struct stat st;
	uint32_t quota_slabs;
	int ret = 1;

	if (settings_parse(&srv.set, argc, argv, err, sizeof(err))) {
		fprintf(stderr, "rswap-server: %s\n", err);
		return 2;
	}
	if (srv.set.help) {
		settings_usage(stdout);
		return 0;
	}
	if (srv.set.check_config) {
		settings_print(stdout, &srv.set);
		return 0;
	}
	if (srv.set.verbose)
		log_level = LOG_DEBUG;
	if (srv.set.config[0])
		log_msg(LOG_INFO, "settings from %s", srv.set.config);
	if (auth_key_load(&srv.key, srv.set.key_file, err, sizeof(err))) {
		fprintf(stderr, "rswap-server: %s\n", err);
		return 2;
	}
	/* A log without its memory means the pages are gone: say so. */
	if (!stat(srv.set.meta, &st) && stat(srv.set.backing, &st) && errno == ENOENT) {
		fprintf(stderr, "rswap-server: metadata log %s exists but backing file %s does "
			"not: the stored pages are gone. Remove the log to start empty.\n",
			srv.set.meta, srv.set.backing);
		return 1;
	}
	if (backing_open(&srv.mem, srv.set.backing, srv.set.memory, err, sizeof(err))) {
		fprintf(stderr, "rswap-server: %s\n", err);
		return 1;
	}
	if (!srv.mem.in_ram)
		log_msg(LOG_INFO, "warning: %s is not on tmpfs or hugetlbfs: pages go to disk",
			srv.set.backing);
	quota_slabs = (uint32_t)(srv.set.quota / srv.set.slab_size);
	if (pool_init(&srv.pool, (uint32_t)(srv.set.memory / srv.set.slab_size),
		      srv.set.slab_size, srv.set.max_clients, quota_slabs)) {
		fprintf(stderr, "rswap-server: pool: %s\n", strerror(errno));
		goto out_backing;
	}
	if (metalog_open(&srv.log, srv.set.meta, srv.set.slab_size, srv.pool.n_slabs,
			 &srv.pool, srv.id, srv.mem.cookie, srv.set.backing, &replay, err,
			 sizeof(err))) {
		fprintf(stderr, "rswap-server: %s\n", err);
		goto out_pool;
	}
	if (replay.torn_bytes)
		log_msg(LOG_INFO, "metadata log: cut a torn last record (%llu bytes)",
			(unsigned long long)replay.torn_bytes);
	if (!srv.mem.existed && srv.pool.n_free != srv.pool.n_slabs) {
		fprintf(stderr, "rswap-server: backing file %s is new but the metadata log "
			"%s says slabs are held: the pages are gone. Remove the log to start "
			"empty.\n", srv.set.backing, srv.set.meta);
		goto out_log;
	}
	if (srv.mem.upgraded)
		log_msg(LOG_INFO, "backing file %s had no identity trailer (made by an older "
			"rswap, or its start was cut short): trusted as it is and given one",
			srv.set.backing);
	if (replay.adopted_cookie)
		log_msg(LOG_INFO, "metadata log %s had no backing file identity (older rswap): "
			"it records %s's from now on", srv.set.meta, srv.set.backing);
	if (replay.replaced_backing)
		log_msg(LOG_INFO, "backing file %s is not the one metadata log %s was written "
			"for, but the log says no slab is held: starting with it", srv.set.backing,
			srv.set.meta);
	/* A crash between a slab's free and its scrub forgets the dirty bit:
	 * scrub every free slab now (a new file is all zeros already). */
	pool_mark_free_dirty(&srv.pool);
	if (!srv.mem.existed) {
		uint32_t slab;

		for (slab = 0; slab < srv.pool.n_slabs; slab++)
			pool_slab_scrubbed(&srv.pool, slab);
	} else if (backing_scrub_dirty(&srv.mem, &srv.pool, srv.pool.n_slabs) !=
		   srv.pool.n_free) {
		log_msg(LOG_ERR, "scrubbing free slabs of %s: %s: %u left to scrub at their grant",
			srv.set.backing, strerror(errno), srv.pool.n_dirty);
	}
	/* rswap.ko sends a keepalive every interval; fewer than three intervals
	 * of silence allowed closes live clients whose keepalive was late. */
	if (srv.set.client_timeout_s &&
	    srv.set.client_timeout_s * 1000ull < 3ull * RSWAP_KEEPALIVE_INTERVAL_MS)
		log_msg(LOG_INFO, "warning: --client-timeout %u s is under three keepalive "
			"intervals (%u s): live clients may be closed", srv.set.client_timeout_s,
			3 * RSWAP_KEEPALIVE_INTERVAL_MS / 1000);
	/* The whole pool for one client is for a single tenant; on a pool
	 * open to many it lets one take what the others need. */
	if (srv.set.quota == srv.set.memory && srv.set.max_clients > 1)
		log_msg(LOG_INFO, "note: --quota all: any one client may take all %llu MiB, "
			"leaving none for the others (--quota SIZE caps each)",
			(unsigned long long)(srv.set.memory >> 20));
	if (!srv.set.n_peers && !srv.set.n_copy_targets && !srv.set.copy_targets_any)
		log_msg(LOG_INFO, "note: no --peer and no --copy-targets: no slab can be "
			"copied from here, so drains and rebalances are refused");
	if (server_start(&srv, err, sizeof(err))) {
		fprintf(stderr, "rswap-server: %s\n", err);
		goto out_stop;
	}
	log_msg(LOG_INFO, "serving %llu MiB in %u slabs of %llu KiB on %s:%s (%u slabs held, "
		"%u free)", (unsigned long long)(srv.set.memory >> 20), srv.pool.n_slabs,
		(unsigned long long)(srv.set.slab_size >> 10), srv.set.listen_host,
		srv.set.listen_port, srv.pool.n_slabs - srv.pool.n_free, srv.pool.n_free);
	notify_systemd("READY=1");
	srv.watchdog_ns = notify_watchdog_usec() * 1000;
	srv.watchdog_sent_ns = mono_ns();
	/* The loop ticks once a second: a shorter half-interval is missed. */
	if (srv.watchdog_ns && srv.watchdog_ns < 2000000000ull)
		log_msg(LOG_ERR, "systemd watchdog every %llu ms: below 2 s, which this "
			"server cannot keep (set WatchdogSec= to 2 s or more)",
			(unsigned long long)(srv.watchdog_ns / 1000000));
	ret = server_run(&srv) ? 1 : 0;
	notify_systemd("STOPPING=1");
	log_msg(LOG_INFO, "stopped: %llu connections, %llu grants, %llu returns, "
		"%llu auth failures, %llu malformed messages",
		(unsigned long long)srv.stats.connections_total,
		(unsigned long long)srv.stats.grants_total,
		(unsigned long long)srv.stats.returns_total,
		(unsigned long long)srv.stats.auth_failures_total,
		(unsigned long long)srv.stats.malformed_total);
out_stop:
	server_stop(&srv);
out_log:
	metalog_close(&srv.log);
out_pool:
	pool_fini(&srv.pool);
out_backing:
	backing_close(&srv.mem);
	return ret;
}
