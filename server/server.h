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

#include <liburing.h>
#include <rdma/rdma_cma.h>

#include "auth.h"
#include "backing.h"
#include "metalog.h"
#include "pool.h"
#include "settings.h"

struct server;

struct loop_src {
	int fd;
	void (*ready)(struct loop_src *src);
	bool armed;		/* a poll is in the ring */
	bool dying;		/* free once the poll is back */
	void (*release)(struct loop_src *src);
};

/* Server-wide counters (per-client ones live in struct pool_client). */
struct server_stats {
	uint64_t connections_total;
	uint64_t auth_failures_total;
	uint64_t malformed_total;		/* messages failing rswap_msg_check */
	uint64_t protocol_errors_total;		/* valid messages at a wrong moment */
	uint64_t grants_total;
	uint64_t returns_total;
	uint64_t reattached_slabs_total;
	uint64_t refused_total;			/* quota or memory */
	uint64_t completion_errors_total;	/* failed work completions */
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
	struct rdma_cm_id *listen_id;
	struct loop_src cm_src;
	struct loop_src sig_src;
	struct conn *conns;		/* list of live connections */
	unsigned int n_conns;
	bool stop;
	struct server_stats stats;
};

int server_start(struct server *s, char *err, size_t err_size);
int server_run(struct server *s);
void server_stop(struct server *s);

/* Arm a one-shot poll on @src. */
int loop_watch(struct server *s, struct loop_src *src);
/* Stop watching @src: release() runs once no poll refers to it. */
void loop_forget(struct server *s, struct loop_src *src);

/* conn.c */
struct conn;
int conn_accept(struct server *s, struct rdma_cm_id *id);
void conn_cm_event(struct server *s, struct conn *c, struct rdma_cm_event *ev);
void conn_close(struct server *s, struct conn *c, const char *why);
void conn_close_all(struct server *s);

void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define LOG_ERR 0
#define LOG_INFO 1
#define LOG_DEBUG 2
extern int log_level;

#endif
