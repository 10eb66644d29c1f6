/* SPDX-License-Identifier: GPL-2.0 */
/*
 * conn: a client connection of rswap-server (see conn.c for the protocol),
 * shared by the files that answer its messages: conn.c (hello, grants,
 * returns, reattach, queue pairs attached to it and copies coming in),
 * migrate.c (copying a slab to another server) and drain.c (asking clients
 * to move their slabs).
 */
#ifndef RSWAP_CONN_H
#define RSWAP_CONN_H

#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

#include "peer_addr.h"
#include "server.h"

/* RECVs kept posted: clients send one request at a time; the rest is
 * headroom for a burst, or junk, before we answer. */
#define CONN_RECV_DEPTH 16
/* SENDs in flight: a REATTACH answer streams through these. */
#define CONN_SEND_DEPTH 16
#define CONN_CQ_DEPTH (CONN_RECV_DEPTH + CONN_SEND_DEPTH)
/* Completions handled per poll call. */
#define CONN_POLL_BATCH 16
/* wr_id: RECV slots are 0..RECV_DEPTH-1, SEND slots follow. */
#define WR_SEND_BASE CONN_RECV_DEPTH
/* Queue pairs one connection may attach: one per client CPU, with room. */
#define CONN_MAX_ATTACH 64
/* Copy queue pairs (a server copying a slab in for MIGRATE) one connection
 * may have at once, apart from CONN_MAX_ATTACH: a client moves
 * RSWAP_MOVES_IN_FLIGHT slabs at a time; as many more is room for copies
 * whose teardown is still on its way. */
#define CONN_MAX_COPIES (2 * RSWAP_MOVES_IN_FLIGHT)
/* READs a client may have outstanding on one QP. */
#define CONN_RD_ATOMIC 16
/* HELLO to WELCOME is two round trips. A peer that has not authenticated
 * by then holds a PD, a CQ and its buffers without having proved anything:
 * it is closed. Generous for a client under memory pressure, short for a
 * peer that opens connections and stays mute. */
#define CONN_HANDSHAKE_S 10
/* A closed connection waits for the CM's DISCONNECTED before it is freed;
 * for a peer that never answers the CM gives up well within this, and past
 * it the connection is freed anyway (its slabs were revoked at the close). */
#define CONN_CLOSING_MAX_S 60

enum conn_state {
	CONN_NEW,		/* waiting for HELLO */
	CONN_CHALLENGED,	/* CHALLENGE sent, waiting for AUTH */
	CONN_READY,		/* authenticated */
	CONN_CLOSING,		/* disconnect asked; waiting for the CM */
};

/* The first member of both kinds of cm id context. */
enum conn_kind {
	KIND_CONN,		/* struct conn: the control connection */
	KIND_ATTACHED,		/* struct attached_qp */
	KIND_COPY,		/* struct copy_qp */
};

struct conn {
	enum conn_kind kind;
	struct conn *next;
	struct server *srv;
	struct rdma_cm_id *id;
	struct ibv_pd *pd;
	struct ibv_comp_channel *chan;
	struct ibv_cq *cq;
	struct loop_src src;
	enum conn_state state;
	bool close_after_send;		/* an ERROR ends this connection */
	bool destroyed;
	/* Reached READY. Until then, in CONN_CLOSING too (it holds its PD,
	 * QP and fd until the CM frees it), it counts against
	 * --max-unauthenticated and, by its source, the per-source cap. */
	bool authenticated;
	struct peer_source source;	/* its address, without the port */
	char peer[PEER_NAME_MAX];
	uint64_t accepted_ns;		/* for the handshake deadline */
	uint64_t last_recv_ns;		/* last message in: the client timeout */
	uint64_t closing_ns;		/* when conn_close ran */

	uint8_t recv_buf[CONN_RECV_DEPTH][RSWAP_MSG_MAX];
	uint8_t send_buf[CONN_SEND_DEPTH][RSWAP_MSG_MAX];
	struct ibv_mr *recv_mr;
	struct ibv_mr *send_mr;
	unsigned int send_inflight;
	unsigned int send_next;

	uint8_t client_id[RSWAP_ID_LEN];
	uint32_t hello_flags;		/* enum rswap_hello_flags */
	char name[RSWAP_NAME_LEN];
	uint32_t client;		/* pool index once READY */
	uint8_t nonce[RSWAP_NONCE_LEN];
	/* per slab, registered for this client; the table itself (n_slabs
	 * entries) is allocated at AUTH, so NULL before CONN_READY */
	struct ibv_mr **slab_mr;

	bool reattaching;
	uint32_t reattach_cursor;	/* last slab sent, or POOL_NONE */
	uint32_t reattach_count;
	uint32_t reattach_seq;

	/* queue pairs attached to this connection (conn_attach) */
	uint8_t token[RSWAP_TOKEN_LEN];
	struct attached_qp *attached;
	unsigned int n_attached;
	/* servers copying a slab in for the client (conn_copy_attach) */
	struct copy_qp *copies;
	unsigned int n_copies;

	uint64_t serial;		/* unique for the server's life: finds it again */

	/* moving slabs to another server (migrate.c) */
	uint32_t map_slab;		/* slab of the pending MIGRATE_MAP, or POOL_NONE */
	uint8_t *map_bits;		/* its used slots, a bit each */
	unsigned int n_migrating;	/* copies running for it: RSWAP_MOVES_IN_FLIGHT at most */

	/* drain.c: may it be asked to move slabs? It knows their rkeys once
	 * it has REATTACHed, or if it held none at WELCOME. */
	bool knows_slabs;
	/* drain.c: the EVACUATEs outstanding (slab POOL_NONE: a free entry),
	 * and the pages its MIGRATE copied, counted when its RETURN comes */
	struct conn_evac {
		uint32_t slab;
		uint32_t copied_pages;
		uint64_t sent_ns;
	} evac[RSWAP_MOVES_IN_FLIGHT];
};

/* A queue pair attached to a connection: its cm id's context. */
struct attached_qp {
	enum conn_kind kind;
	struct attached_qp *next;
	struct conn *owner;
	struct rdma_cm_id *id;
	struct ibv_cq *cq;
	unsigned int queue;		/* the client's queue number */
	char peer[PEER_NAME_MAX];
};

/*
 * A server copying a slab in for the client (MIGRATE): its cm id's context.
 * It has a protection domain of its own in which only the target slab is
 * registered, for remote WRITE alone: the copy reaches nothing else, and
 * nothing of the client's own rkeys works on it.
 */
struct copy_qp {
	enum conn_kind kind;
	struct copy_qp *next;
	struct conn *owner;		/* the client's connection (the token's) */
	struct rdma_cm_id *id;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	struct ibv_mr *mr;		/* the target slab, remote WRITE only */
	uint32_t slab;
	char peer[PEER_NAME_MAX];
};


/* Send @len bytes of @msg; -1 if every send slot is busy or posting failed. */
int conn_send(struct conn *c, const void *msg, size_t len);
/* Answer with an ERROR; a connection that cannot even send that is closed. */
void conn_send_error(struct conn *c, enum rswap_err code, unsigned int ref_type, uint32_t seq,
		     const char *text);
/* The connection with @serial, if it is still READY; or NULL. */
struct conn *conn_by_serial(struct server *s, uint64_t serial);

#endif
