/* SPDX-License-Identifier: GPL-2.0 */
/*
 * server: rswap-server's state and its event loop.
 *
 * One io_uring owns every fd: the rdma_cm event channel, a completion
 * channel per client connection, and a signalfd. Each is watched with a
 * one-shot poll whose user_data is a struct loop_src; its handler runs and
 * re-arms it. Nothing blocks in the loop but the metadata log's fdatasync,
 * which a grant must wait for anyway.
 */
#ifndef RSWAP_SERVER_H
#define RSWAP_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <liburing.h>
#include <rdma/rdma_cma.h>

#include "auth.h"
#include "backing.h"
#include "drain.h"
#include "histogram.h"
#include "metalog.h"
#include "peers.h"
#include "pool.h"
#include "settings.h"

struct server;

struct loop_src {
	int fd;
	short events;		/* poll events to wait for; 0 means POLLIN */
	void (*ready)(struct loop_src *src);
	bool armed;		/* a poll is in the ring */
	bool dying;		/* free once the poll is back */
	void (*release)(struct loop_src *src);
};

/*
 * Server-wide counters, declared once: the struct, the admin API's
 * ServerCounters (same field names in proto/rswap.proto) and the Prometheus
 * text all come from this list. Per-client counters live in pool_client.
 */
#define SERVER_COUNTERS(X) \
	X(connections_total, "RDMA connections accepted") \
	X(auth_failures_total, "clients refused for a wrong key") \
	X(malformed_total, "RDMA control messages failing validation") \
	X(protocol_errors_total, "valid control messages at a wrong moment") \
	X(grants_total, "slabs granted") \
	X(grant_answers_total, "GRANT and GRANTS answers sent (a GRANTS names up to six slabs)") \
	X(returns_total, "slabs returned") \
	X(reattached_slabs_total, "slabs handed back to reconnecting clients") \
	X(refused_total, "grants refused for quota or memory") \
	X(completion_errors_total, "failed RDMA work completions") \
	X(attached_qps_total, "queue pairs attached to an authenticated connection") \
	X(attach_refused_total, "queue pairs and copies in refused: unknown attach token, " \
	  "not the client's slab, or too many") \
	X(migrations_total, "slabs copied to another server (as the source)") \
	X(migration_failures_total, "slab copies to another server that failed") \
	X(migrated_pages_total, "pages copied to other servers") \
	X(migrations_refused_target_total, "slab copies given up before any write: the target " \
	  "did not prove it is a server of this pool") \
	X(copy_qps_total, "queue pairs of other servers copying a slab in (as the target)") \
	X(evacuations_total, "EVACUATE requests sent to clients") \
	X(connections_replaced_total, "connections closed because their client connected again") \
	X(fresh_slabs_freed_total, "slabs freed because their client started afresh (HELLO FRESH)") \
	X(keepalives_total, "KEEPALIVEs answered") \
	X(client_timeouts_total, "connections closed for silence past --client-timeout") \
	X(handshake_timeouts_total, "connections closed for not authenticating in time") \
	X(conns_refused_unauthenticated_total, "connect requests refused at once: too many " \
	  "connections not yet authenticated, in all or from their address") \
	X(conns_refused_resources_total, "connect requests refused: setting the connection " \
	  "up failed (out of memory or file descriptors, a verbs error)") \
	X(device_removals_total, "RDMA devices removed under the listener") \
	X(admin_requests_total, "admin API requests answered") \
	X(admin_malformed_total, "admin API requests refused as malformed") \
	X(admin_refused_total, "admin API calls refused: they need the admin socket or the admin key") \
	X(admin_auth_failures_total, "admin API calls with a wrong admin key or no challenge") \
	X(admin_dropped_total, "admin API connections closed: too slow, too many, or no file descriptor")

/*
 * A log line a peer can cause at will (a refused connect request) goes out
 * at most once a second; the ones held back are counted, and said with the
 * next line or by the tick once the second is over.
 */
struct log_limit {
	uint64_t last_ns;	/* when the last line went out; 0: never */
	uint64_t held;		/* events since, without a line */
};

/* Is a line due for this event (then *held is the events since the last
 * line without one)? If not, it counts as held back. */
bool log_limit_due(struct log_limit *l, uint64_t now_ns, uint64_t *held);
/* At the tick: the events held back, once a second has passed since the
 * last line (the count is then reset), else 0. */
uint64_t log_limit_flush(struct log_limit *l, uint64_t now_ns);

struct server_stats {
#define X(name, help) uint64_t name;
	SERVER_COUNTERS(X)
#undef X
};

struct server {
	struct settings set;
	struct auth_key key;
	struct backing mem;
	struct pool pool;
	struct metalog log;
	uint8_t id[RSWAP_ID_LEN];
	struct io_uring ring;
	struct rdma_event_channel *cm_chan;
	struct rdma_cm_id *listen_id;	/* NULL while its device is gone */
	uint64_t listen_lost_ns;	/* when it went: retried every tick */
	uint32_t listen_retries;
	/* The removed device: its handle (compared, never dereferenced) and
	 * the files librdmacm keeps open for it (see release_lost_device). */
	const struct ibv_context *lost_verbs;
	struct lost_fd {
		int fd;
		dev_t dev;
		ino_t ino;
	} lost_fds[2];
	unsigned int n_lost_fds;
	struct loop_src cm_src;
	struct loop_src sig_src;
	struct loop_src admin_src;	/* admin API listener */
	struct loop_src tick_src;	/* 1 s timer: idle admin connections,
					 * drain progress, systemd's watchdog */
	uint64_t watchdog_ns;		/* WatchdogSec= (0: none) */
	uint64_t watchdog_sent_ns;	/* when WATCHDOG=1 last went out */
	struct loop_src admin_unix_src;	/* admin API Unix socket: every call */
	struct auth_key admin_key;	/* --admin-key-file; len 0: none */
	int admin_reserve_fd;		/* given up to accept and drop at EMFILE */
	uint64_t admin_next_serial;	/* admin connections' serial numbers */
	struct admin_conn *admins;
	unsigned int n_admins;
	uint64_t started_ns;
	struct conn *conns;		/* list of live connections */
	unsigned int n_conns;
	unsigned int n_conns_dying;	/* unlinked, freed once their poll is back */
	uint64_t next_serial;		/* connections' serial numbers */
	struct log_limit refuse_src_log;	/* connect requests over the caps: */
	struct log_limit refuse_total_log;	/* per source, and in all */
	struct log_limit setup_log;	/* connections whose setup failed */
	struct loop_src mig_src;	/* eventfd: a copy to another server ended */
	struct migration *migrations;	/* copies running or to be answered */
	struct peers peers;		/* --peer: their status, their RDMA addresses */
	struct loop_src peers_src;	/* eventfd: a round of peer queries ended */
	struct drain drain;
	uint64_t evac_seq;		/* hdr.seq of EVACUATEs */
	bool stop;
	struct server_stats stats;
	struct hist grant_hist;		/* GRANTs answered: scrub, reserve, log, register */
	struct hist migration_hist;	/* slab copies to another server that succeeded */
};

int server_start(struct server *s, char *err, size_t err_size);
/* Every second: listen again if the listener's device went away. */
void server_listen_tick(struct server *s);
int server_run(struct server *s);
void server_stop(struct server *s);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t mono_ns(void);

/* Arm a one-shot poll on @src. */
int loop_watch(struct server *s, struct loop_src *src);
/* Stop watching @src: release() runs once no poll refers to it. */
void loop_forget(struct server *s, struct loop_src *src);
/* @src's events changed while its poll is armed: its handler runs soon and
 * the poll waits for the new events after it. */
void loop_rearm(struct server *s, struct loop_src *src);

/* admin.c */
struct admin_conn;
int admin_start(struct server *s, char *err, size_t err_size);
void admin_stop(struct server *s);
/* Prometheus text of every counter, into a malloc'ed string. */
char *admin_metrics_text(struct server *s, size_t *len);
unsigned int conn_count_for(struct server *s, uint32_t client);

/* conn.c */
struct conn;
/* Accept a connection, or attach a queue pair to one (@pdata: the CM private
 * data). 0, or -1: the id is rejected, and the caller destroys it. */
int conn_accept(struct server *s, struct rdma_cm_id *id, const void *pdata, size_t pdata_len);
/* @ctx: the cm id's context, a connection or a queue pair attached to one */
void conn_cm_event(struct server *s, void *ctx, struct rdma_cm_event *ev);
/* Disconnect @c and its queue pairs and deregister its slabs at once (the
 * CM's DISCONNECTED frees the rest later): nothing of it reaches a slab. */
void conn_close(struct server *s, struct conn *c, const char *why);
void conn_close_all(struct server *s);
/* Free every connection on @verbs now: its device is going away. */
void conn_close_device(struct server *s, struct ibv_context *verbs);
/* Is a connection on @verbs listed (closing ones included)? */
bool conn_any_on(struct server *s, const struct ibv_context *verbs);
/* Every second: deadlines of the handshake, the client timeout, closing. */
void conn_tick(struct server *s);

void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define LOG_ERR 0
#define LOG_INFO 1
#define LOG_DEBUG 2
extern int log_level;

#endif
