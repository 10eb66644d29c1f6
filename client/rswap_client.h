/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rswap_client: a userspace client of rswap-server, speaking the bytes of
 * proto/rswap_wire.h that rswap.ko speaks. Tests and benchmarks use it.
 *
 * Synchronous: each call sends a request and waits for its answer (it sends
 * nothing unasked: a caller that sets RSWAP_HELLO_KEEPALIVE calls
 * rswap_client_keepalive often enough itself). Pages
 * move with one-sided RDMA WRITE and READ into granted slabs; a zero-filled
 * page must never be written (rswap_page_is_zero tells), callers record it.
 */
#ifndef RSWAP_CLIENT_H
#define RSWAP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "rswap_wire.h"

#define RSWAP_CLIENT_SLABS_MAX 4096
#define RSWAP_CLIENT_QPS_MAX 8	/* queue pairs attached to one connection */

struct rswap_client_slab {
	uint32_t slab;		/* server's number */
	uint32_t rkey;
	uint64_t addr;
	bool valid;		/* usable on this connection */
};

struct rswap_client_stats {
	uint64_t pages_written;
	uint64_t pages_read;
	uint64_t bytes_written;
	uint64_t bytes_read;
	uint64_t zero_pages;	/* seen by rswap_page_is_zero: never sent */
};

struct rswap_client {
	struct rdma_cm_id *id;
	struct ibv_mr *msg_mr;
	uint8_t recv_buf[8][RSWAP_MSG_MAX];
	uint8_t send_buf[RSWAP_MSG_MAX];
	uint32_t seq;
	uint8_t client_id[RSWAP_ID_LEN];
	uint8_t server_id[RSWAP_ID_LEN];
	uint64_t slab_size;
	uint32_t quota;
	uint32_t held;		/* by the server's count at WELCOME */
	uint32_t max_attach;	/* queue pairs the server lets us attach */
	uint8_t token[RSWAP_TOKEN_LEN];	/* attach token from WELCOME */
	char host[64], port[16];
	struct rdma_cm_id *qps[RSWAP_CLIENT_QPS_MAX];	/* attached; 1-based in the API */
	unsigned int n_qps;
	struct rdma_cm_id *data_id;	/* one-sided transfers go here */
	struct rswap_client_slab slabs[RSWAP_CLIENT_SLABS_MAX];
	uint32_t n_slabs;
	struct rswap_client_stats stats;
	/* EVACUATEs that came while waiting for an answer, oldest first: the
	 * server leaves at most RSWAP_MOVES_IN_FLIGHT unanswered */
	uint32_t evac_slab[RSWAP_MOVES_IN_FLIGHT];
	unsigned int n_evac;
	int last_error;		/* enum rswap_err of the last ERROR received */
	char error[128];	/* what went wrong, for a person */
};

/* How rswap_client_connect_opts connects. */
struct rswap_client_opts {
	uint32_t hello_flags;	/* enum rswap_hello_flags, sent in HELLO */
	bool no_hello;		/* tests: connect the QP, then say nothing */
};

/* Connect and authenticate. 0, or -1 with c->error set (c->last_error is
 * RSWAP_ERR_AUTH for a wrong key). */
int rswap_client_connect(struct rswap_client *c, const char *host, const char *port,
			 const struct auth_key *key, const uint8_t id[RSWAP_ID_LEN],
			 const char *name);
/* The same, with HELLO flags (RSWAP_HELLO_FRESH, RSWAP_HELLO_KEEPALIVE): the
 * library sends no KEEPALIVE by itself, rswap_client_keepalive does. */
int rswap_client_connect_opts(struct rswap_client *c, const char *host, const char *port,
			      const struct auth_key *key, const uint8_t id[RSWAP_ID_LEN],
			      const char *name, const struct rswap_client_opts *opts);
/* KEEPALIVE, and wait for the KEEPALIVE_ACK with its seq: 0, or -1. */
int rswap_client_keepalive(struct rswap_client *c);
void rswap_client_close(struct rswap_client *c);

/* Attach one more queue pair to the connection with @token (NULL: the one
 * WELCOME gave). Its number (1, 2, ...), or -1 with c->error set (a refused
 * token reads "rejected"). */
int rswap_client_attach(struct rswap_client *c, const uint8_t *token);
/* Did the server end attached queue pair @qp (1, 2, ...), or with @qp 0 the
 * connection itself, within @timeout_ms? 1 yes, 0 no. */
int rswap_client_qp_ended(struct rswap_client *c, unsigned int qp, int timeout_ms);
/* One-sided transfers from now on use queue pair @qp (0: the connection's). */
int rswap_client_use_qp(struct rswap_client *c, unsigned int qp);

/* A new slab: index into c->slabs, or -1 (c->last_error says why). */
int rswap_client_grant(struct rswap_client *c);
/* Learn the new rkeys of every slab the server holds for us, after a
 * reconnect or a server restart. Slabs are matched by server number; unknown
 * ones are added. Returns the count, or -1. */
int rswap_client_reattach(struct rswap_client *c);
/* Give slab index @i back. 0 or -1. */
int rswap_client_return(struct rswap_client *c, uint32_t i);

/*
 * Moving a slab server to server (proto/rswap_wire.h). Slabs are named by
 * the server's number here, so tests can name one that is not theirs.
 */
/* Wait up to @timeout_ms for the server's EVACUATE: 1 with its slab in
 * *slab, 0 if none came, -1 on error. */
int rswap_client_wait_evacuate(struct rswap_client *c, int timeout_ms, uint32_t *slab);
/* NOT_MOVED(@slab, @code) for an EVACUATE: 0 or -1. */
int rswap_client_not_moved(struct rswap_client *c, uint32_t slab, enum rswap_err code);
/* MIGRATE_MAP: slots @first .. @first + RSWAP_MAP_BITS - 1 of @slab, used
 * where @bits has a bit set. 0, or -1 (c->last_error for an ERROR). */
int rswap_client_migrate_map(struct rswap_client *c, uint32_t slab, uint32_t first,
			     const uint8_t bits[RSWAP_MAP_BITS / 8]);
/* MIGRATE: copy the mapped slots of @slab into slab index @ti of @target,
 * whose connection the server attaches to with @token (NULL: @target's
 * own). Pages copied, or -1 (c->last_error for an ERROR). */
int rswap_client_migrate(struct rswap_client *c, uint32_t slab, const struct rswap_client *target,
			 uint32_t ti, const uint8_t *token);

/* MIGRATE to any IPv4 @host:@port, naming @target_slab there, @addr and
 * @rkey, and attach token @token: tests pointing a copy anywhere. Pages
 * copied, or -1 (c->last_error for an ERROR). */
int rswap_client_migrate_to(struct rswap_client *c, uint32_t slab, const char *host,
			    const char *port, uint32_t target_slab, uint64_t addr, uint32_t rkey,
			    const uint8_t token[RSWAP_TOKEN_LEN]);

/* Send a raw message and wait for the answer's type (or -1): for tests. */
int rswap_client_raw(struct rswap_client *c, const void *msg, size_t len);

/* One-sided transfers of @n pages between @buf (registered in @mr) and
 * slab index @i from page @page on. 0, or -1 with the work completion
 * status in c->error (e.g. remote access error). */
struct ibv_mr;
int rswap_client_write(struct rswap_client *c, uint32_t i, uint32_t page, const void *buf,
		       uint32_t n, struct ibv_mr *mr);
int rswap_client_read(struct rswap_client *c, uint32_t i, uint32_t page, void *buf,
		      uint32_t n, struct ibv_mr *mr);
/* Same, at a raw remote address and rkey (tests of protection). */
int rswap_client_read_raw(struct rswap_client *c, uint64_t addr, uint32_t rkey, void *buf,
			  struct ibv_mr *mr);
/* The same, waiting at most @timeout_ms for the completion: 0, or -1 with
 * c->error ("no completion within N ms" when nothing came: a peer whose QP
 * is gone or in error never answers, and rxe retries a retry_count of 7
 * forever). The READ may still be posted: close the connection after. */
int rswap_client_read_raw_timed(struct rswap_client *c, uint64_t addr, uint32_t rkey,
				void *buf, struct ibv_mr *mr, int timeout_ms);
struct ibv_mr *rswap_client_reg(struct rswap_client *c, void *buf, size_t len);

static inline bool rswap_page_is_zero(const void *page)
{
	const uint64_t *w = page;
	size_t i;

	for (i = 0; i < RSWAP_PAGE_SIZE / sizeof(*w); i++)
		if (w[i])
			return false;
	return true;
}

#endif
