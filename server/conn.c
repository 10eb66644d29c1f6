// SPDX-License-Identifier: GPL-2.0
/*
 * conn: one client connection of rswap-server.
 *
 * Each connection has its own protection domain. Every slab the client may
 * use is registered as its own memory region in that PD, so the rkeys it
 * learns are worthless on any other connection: another client's QP, in
 * another PD, gets a remote access error even with a guessed or stolen rkey.
 *
 * The control protocol (proto/rswap_wire.h) runs over SEND/RECV:
 *
 *   CONNECT_REQUEST --over a cap, or setup failed--> rdma_reject, nothing kept
 *      | PD, channel, CQ, QP, message buffers
 *      v
 *   CONN_NEW --HELLO--> CONN_CHALLENGED --AUTH ok--> CONN_READY
 *      |                       |          + slab_mr table |
 *      +-----------------------+--------------------------+
 *                              | conn_close
 *                              v
 *                         CONN_CLOSING --DISCONNECTED--> freed
 *
 * Before AUTH a peer has proved nothing, so what it may hold is capped. At
 * CONNECT_REQUEST, before anything is allocated, the connections not yet
 * authenticated are counted (CONN_NEW, CONN_CHALLENGED, and CONN_CLOSING
 * ones that never reached READY: they hold their PD, QP and fd until the
 * CM frees them): past --max-unauthenticated in all, or past
 * --max-unauthenticated-per-source with the request's source address
 * (compared as bytes, without the port), the request is rejected at once
 * and counted (conns_refused_unauthenticated_total), with one log line a
 * second at most. A request whose setup fails (no fd, no memory: EMFILE,
 * ENFILE, ENOMEM) is rejected and counted too (conns_refused_resources_total),
 * logged as sparingly; the server goes on serving. The n_slabs-sized table of
 * slab regions is allocated only at AUTH, once the proof is right; NULL
 * before (every user copes). An attached queue pair is not counted: it
 * needs the attach token of a READY connection.
 *
 * conn_close: any error before WELCOME, no WELCOME within CONN_HANDSHAKE_S
 * of the connect, a KEEPALIVE client silent past --client-timeout, a newer
 * connection of the same client authenticating, a failed send, receive or
 * completion. A CONN_CLOSING connection without DISCONNECTED is freed after
 * CONN_CLOSING_MAX_S; a CM event that ends the id (DEVICE_REMOVAL
 * included) frees it from any state.
 *
 * In CONN_READY: GRANT_REQ, GRANT_MANY, RETURN, REATTACH and KEEPALIVE
 * (answered with KEEPALIVE_ACK, same seq) in any order. Every received
 * message is validated first; a bad one is answered with an ERROR and
 * counted. Before the client
 * has proved the key, any error ends the connection.
 *
 * At AUTH, once the MAC is right and before WELCOME goes out:
 *   1. One live connection per client id: every other READY connection of
 *      the same client is closed (conn_close), which disconnects it and its
 *      queue pairs and deregisters its slabs' MRs there and then, so its
 *      rkeys reach nothing by the time the new one hears of any slab. Its
 *      slabs stay the client's; what is left of it (QPs, PD) is freed when
 *      the CM says DISCONNECTED, and touches only its own registrations.
 *   2. HELLO with RSWAP_HELLO_FRESH: every slab kept for the client id is
 *      freed as RETURNs would free it (FREE records durable first), and
 *      WELCOME says it holds none. A slab a copy to another server still
 *      reads cannot be freed yet: the copy is cancelled and the connection
 *      refused (INTERNAL, "connect again").
 *
 * Liveness: a client whose HELLO set RSWAP_HELLO_KEEPALIVE and from which
 * nothing is received for --client-timeout seconds is closed as dead
 * (conn_tick); its slabs stay, for its reattach. Closing never frees slabs.
 *
 * Slabs move to other servers server to server (drain.c asks, migrate.c
 * copies): EVACUATE, NOT_MOVED, MIGRATE_MAP, MIGRATE, MIGRATED.
 *
 * A client with several queues attaches more queue pairs to a READY
 * connection: their rdma_cm connect carries the attach token WELCOME gave
 * (struct rswap_attach). They live in the connection's PD, so its slabs'
 * rkeys work on them; they carry only one-sided traffic, have no control
 * channel, and end with the connection. At most CONN_MAX_ATTACH; one with
 * queue RSWAP_QUEUE_MIGRATION is refused (copies have their own attach).
 *
 * Another server copying a slab in for the client (MIGRATE, as the target)
 * connects with struct rswap_copy_attach: the client's token, the target
 * slab, the source's nonce. conn_copy_attach accepts it only if the token
 * names a READY connection, the slab is held by that connection's client,
 * no other copy goes into it, and the connection has fewer than
 * CONN_MAX_COPIES copies in (counted apart from its attached QPs). The
 * copy's QP gets a PD of its own, with only that slab registered in it,
 * for LOCAL_WRITE | REMOTE_WRITE (no remote read, and no responder
 * resources, so rdma_cm gives the QP no read access either): it reaches
 * that slab alone, write-only. The accept's private data (struct
 * rswap_copy_accept) says where to write (the rkey of that region, the
 * slab's address and size) with an HMAC-SHA256 in the pool key over the
 * nonce, the token and those values: the source's proof that it talks to a
 * server of its pool. A copy's QP, MR, CQ, PD and cm id are freed, all of
 * them, when the copy disconnects (any CM event that ends its id), when its
 * client's connection closes (conn_close, or conn_destroy when the CM ended
 * it first), and when the slab is returned
 * (on_return, before the slab is free): no copy region survives its slab's
 * grant to anyone else.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <infiniband/verbs.h>
#include <openssl/crypto.h>
#include <rdma/rdma_cma.h>

#include "clients.h"
#include "conn.h"
#include "drain.h"
#include "migrate.h"

static void copies_end_slab(struct conn *c, uint32_t slab);

static int post_recv(struct conn *c, unsigned int slot)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)c->recv_buf[slot],
		.length = RSWAP_MSG_MAX,
		.lkey = c->recv_mr->lkey,
	};
	struct ibv_recv_wr wr = { .wr_id = slot, .sg_list = &sge, .num_sge = 1 }, *bad;

	return ibv_post_recv(c->id->qp, &wr, &bad);
}

int conn_send(struct conn *c, const void *msg, size_t len)
{
	unsigned int slot = c->send_next;
	struct ibv_sge sge = {
		.addr = (uintptr_t)c->send_buf[slot],
		.length = (uint32_t)len,
		.lkey = c->send_mr->lkey,
	};
	struct ibv_send_wr wr = {
		.wr_id = WR_SEND_BASE + slot,
		.sg_list = &sge,
		.num_sge = 1,
		.opcode = IBV_WR_SEND,
		.send_flags = IBV_SEND_SIGNALED,
	}, *bad;

	if (c->send_inflight == CONN_SEND_DEPTH)
		return -1;
	memcpy(c->send_buf[slot], msg, len);
	if (ibv_post_send(c->id->qp, &wr, &bad))
		return -1;
	c->send_inflight++;
	c->send_next = (slot + 1) % CONN_SEND_DEPTH;
	return 0;
}

void conn_send_error(struct conn *c, enum rswap_err code, unsigned int ref_type, uint32_t seq,
		     const char *text)
{
	struct rswap_error m;

	memset(&m, 0, sizeof(m));
	rswap_hdr_init(&m.hdr, RSWAP_MSG_ERROR, seq);
	m.code = rswap_cpu32(code);
	m.ref_type = rswap_cpu16((uint16_t)ref_type);
	snprintf(m.text, sizeof(m.text), "%s", text);
	if (conn_send(c, &m, sizeof(m)))
		conn_close(c->srv, c, "cannot send an error reply");
}

/*
 * Register @slab of the pool in @pd with @access, zero-based: a peer
 * addresses it from SLAB_IOVA up, by its offset in the slab, so nothing it
 * is sent (GRANT, a copy's accept) tells it where the server's memory is
 * mapped (that would help an attacker aim at the server process). Zero is
 * what SLAB_IOVA is on the wire, whatever the MR's addr field says.
 */
#define SLAB_IOVA 0
static struct ibv_mr *reg_slab_mr(struct server *s, struct ibv_pd *pd, uint32_t slab,
				  unsigned int access)
{
	return ibv_reg_mr_iova(pd, s->mem.base + (uint64_t)slab * s->pool.slab_size,
			       s->pool.slab_size, SLAB_IOVA, access);
}

/* The region of @slab for @c, registered on first use; NULL with errno. */
static struct ibv_mr *slab_mr(struct conn *c, uint32_t slab)
{
	if (!c->slab_mr) {
		errno = EINVAL;		/* not authenticated: no table yet */
		return NULL;
	}
	if (!c->slab_mr[slab])
		c->slab_mr[slab] = reg_slab_mr(c->srv, c->pd, slab, IBV_ACCESS_LOCAL_WRITE |
					       IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_WRITE);
	return c->slab_mr[slab];
}

/* Deregister @slab's region for @c, if it has one: its rkey reaches nothing. */
static void drop_slab_mr(struct conn *c, uint32_t slab)
{
	if (!c->slab_mr || !c->slab_mr[slab])
		return;
	if (ibv_dereg_mr(c->slab_mr[slab]))
		log_msg(LOG_ERR, "client %s: deregistering slab %u: %s", c->name, slab,
			strerror(errno));
	c->slab_mr[slab] = NULL;
}

/* Slabs @c's client could still be granted, as WELCOME and GRANT say: none
 * while the server drains, so clients place pages elsewhere. */
static uint32_t grantable(const struct conn *c)
{
	if (drain_refuses_grants(&c->srv->drain))
		return 0;
	return pool_grantable(&c->srv->pool, c->client);
}

static int send_grant(struct conn *c, uint32_t slab, uint16_t flags, uint32_t seq)
{
	struct server *s = c->srv;
	struct ibv_mr *mr = slab_mr(c, slab);
	struct rswap_grant m;

	if (!mr) {
		log_msg(LOG_ERR, "client %s: registering slab %u: %s", c->name, slab,
			strerror(errno));
		return -1;
	}
	memset(&m, 0, sizeof(m));
	rswap_hdr_init(&m.hdr, RSWAP_MSG_GRANT, seq);
	m.hdr.flags = rswap_cpu16(flags);
	m.slab = rswap_cpu32(slab);
	m.rkey = rswap_cpu32(mr->rkey);
	m.addr = rswap_cpu64(SLAB_IOVA);
	m.size = rswap_cpu64(s->pool.slab_size);
	m.free = rswap_cpu32(grantable(c));
	return conn_send(c, &m, sizeof(m));
}

/* Stream a REATTACH answer while send slots are free. */
static void pump_reattach(struct conn *c)
{
	struct server *s = c->srv;

	while (c->reattaching && c->send_inflight < CONN_SEND_DEPTH) {
		uint32_t slab = pool_next_held(&s->pool, c->client, c->reattach_cursor);

		if (slab == POOL_NONE) {
			struct rswap_reattached m;

			memset(&m, 0, sizeof(m));
			rswap_hdr_init(&m.hdr, RSWAP_MSG_REATTACHED, c->reattach_seq);
			m.count = rswap_cpu32(c->reattach_count);
			c->reattaching = false;
			if (conn_send(c, &m, sizeof(m)))
				conn_close(s, c, "cannot send REATTACHED");
			log_msg(LOG_INFO, "client %s (%s): reattached %u slabs", c->name, c->peer,
				c->reattach_count);
			c->knows_slabs = true;
			drain_pump(s);
			return;
		}
		if (send_grant(c, slab, RSWAP_GRANT_REATTACHED, c->reattach_seq)) {
			c->reattaching = false;
			conn_send_error(c, RSWAP_ERR_INTERNAL, RSWAP_MSG_REATTACH, c->reattach_seq,
				   "cannot register a slab");
			return;
		}
		log_msg(LOG_DEBUG, "client %s: reattaching slab %u", c->name, slab);
		c->reattach_cursor = slab;
		c->reattach_count++;
		s->stats.reattached_slabs_total++;
	}
}

static void on_hello(struct conn *c, const struct rswap_hello *m, uint32_t seq)
{
	struct rswap_challenge r;

	char *p;

	memcpy(c->client_id, m->id, RSWAP_ID_LEN);
	c->hello_flags = rswap_le32(m->flags);
	/* rswap_msg_check found its NUL. The name goes into logs, tables and
	 * metric labels: printable ASCII only (quotes are escaped there). */
	snprintf(c->name, sizeof(c->name), "%s", m->name[0] ? m->name : "(unnamed)");
	for (p = c->name; *p; p++)
		if (*p < ' ' || *p > '~')
			*p = '?';
	if (getrandom(c->nonce, sizeof(c->nonce), 0) != (ssize_t)sizeof(c->nonce)) {
		conn_send_error(c, RSWAP_ERR_INTERNAL, RSWAP_MSG_HELLO, seq, "no randomness");
		c->close_after_send = true;
		return;
	}
	memset(&r, 0, sizeof(r));
	rswap_hdr_init(&r.hdr, RSWAP_MSG_CHALLENGE, seq);
	memcpy(r.id, c->srv->id, RSWAP_ID_LEN);
	memcpy(r.nonce, c->nonce, RSWAP_NONCE_LEN);
	if (conn_send(c, &r, sizeof(r)))
		conn_close(c->srv, c, "cannot send CHALLENGE");
	c->state = CONN_CHALLENGED;
}

/* One live connection per client: close the others of @c's client (see the
 * top of the file); conn_close revokes their registrations before it returns. */
static void close_older_conns(struct conn *c)
{
	struct server *s = c->srv;
	struct conn *old;
	char why[160];

	for (old = s->conns; old; old = old->next) {
		if (old == c || old->state != CONN_READY || old->client != c->client)
			continue;
		s->stats.connections_replaced_total++;
		snprintf(why, sizeof(why), "replaced: client %s connected again from %s",
			 c->name, c->peer);
		conn_close(s, old, why);
	}
}

/*
 * HELLO FRESH: free what an earlier boot of the client left here, before
 * WELCOME. 0, or -1 when the connection was refused (an ERROR is on its way
 * and the connection ends after it).
 */
static int fresh_start(struct conn *c, uint32_t seq)
{
	struct server *s = c->srv;
	uint32_t slab, busy = 0, freed;
	int ret;

	/* A copy reads the slab through its own registration: freed now, it
	 * could be granted and written, and the copy would carry another
	 * client's pages away. Stop the copies; the client comes back. */
	for (slab = pool_next_held(&s->pool, c->client, POOL_NONE); slab != POOL_NONE;
	     slab = pool_next_held(&s->pool, c->client, slab)) {
		if (migrate_busy(s, slab)) {
			migrate_cancel_slab(s, slab);
			busy++;
		}
	}
	if (busy) {
		log_msg(LOG_INFO, "client %s (%s): fresh start refused for now: %u of its slabs "
			"are being copied (cancelled)", c->name, c->peer, busy);
		conn_send_error(c, RSWAP_ERR_INTERNAL, RSWAP_MSG_AUTH, seq,
				"a copy of your slab is stopping; connect again");
		c->close_after_send = true;
		return -1;
	}
	ret = metalog_free_client(&s->log, &s->pool, c->client, &freed);
	s->stats.fresh_slabs_freed_total += freed;
	if (ret) {
		log_msg(LOG_ERR, "client %s (%s): fresh start: metadata log write failed after "
			"freeing %u slabs: %s", c->name, c->peer, freed, strerror(-ret));
		conn_send_error(c, RSWAP_ERR_INTERNAL, RSWAP_MSG_AUTH, seq, "metadata log failed");
		c->close_after_send = true;
		return -1;
	}
	log_msg(LOG_INFO, "client %s (%s): fresh start: freed %u slabs an earlier boot left",
		c->name, c->peer, freed);
	return 0;
}

static void on_keepalive(struct conn *c, uint32_t seq)
{
	struct rswap_request r;

	memset(&r, 0, sizeof(r));
	rswap_hdr_init(&r.hdr, RSWAP_MSG_KEEPALIVE_ACK, seq);
	c->srv->stats.keepalives_total++;
	if (conn_send(c, &r, sizeof(r)))
		conn_close(c->srv, c, "cannot send KEEPALIVE_ACK");
}

static void on_auth(struct conn *c, const struct rswap_auth *m, uint32_t seq)
{
	struct server *s = c->srv;
	struct rswap_auth_binding bind;
	uint8_t want[RSWAP_MAC_LEN], proof[RSWAP_MAC_LEN];
	struct rswap_welcome r;
	struct auth_key kc;
	uint32_t client;
	int ret;

	/* The client proves Kc, the key of the id it said in HELLO, for this
	 * server and these two endpoints: only that client holds it. */
	if (auth_binding(rdma_get_peer_addr(c->id), rdma_get_local_addr(c->id), &bind) ||
	    auth_client_key(&s->key, c->client_id, &kc)) {
		log_msg(LOG_ERR, "client %s (%s): cannot compute its proof (not an IP "
			"connection?), refused", c->name, c->peer);
		conn_send_error(c, RSWAP_ERR_INTERNAL, RSWAP_MSG_AUTH, seq, "cannot check the proof");
		c->close_after_send = true;
		return;
	}
	ret = auth_client_mac(&kc, c->nonce, m->nonce, c->client_id, s->id, &bind, want) ||
	      !auth_mac_equal(want, m->mac) ||
	      auth_server_mac(&kc, c->nonce, m->nonce, c->client_id, s->id, &bind, proof);
	OPENSSL_cleanse(&kc, sizeof(kc));
	if (ret) {
		s->stats.auth_failures_total++;
		log_msg(LOG_ERR, "client %s (%s): wrong key for its client id, refused (a client "
			"key file comes from 'rswapctl client-key' with this pool's key)",
			c->name, c->peer);
		conn_send_error(c, RSWAP_ERR_AUTH, RSWAP_MSG_AUTH, seq,
				"wrong key for this client id");
		c->close_after_send = true;
		return;
	}
	/* Proven: now it may have a table of every slab's region (n_slabs
	 * entries, too big to hand to a peer that proved nothing), first,
	 * before anything is done for its client id. */
	if (!c->slab_mr) {
		c->slab_mr = calloc(s->pool.n_slabs, sizeof(*c->slab_mr));
		if (!c->slab_mr) {
			log_msg(LOG_ERR, "client %s (%s): refused: no memory for its table of "
				"%u slab regions", c->name, c->peer, s->pool.n_slabs);
			conn_send_error(c, RSWAP_ERR_INTERNAL, RSWAP_MSG_AUTH, seq,
					"out of memory");
			c->close_after_send = true;
			return;
		}
	}
	/* Added if new (durable first), an idle entry reclaimed if need be. */
	ret = clients_get(s, c->client_id, c->name, &client);
	if (ret) {
		log_msg(LOG_ERR, "client %s (%s): refused: %s", c->name, c->peer,
			ret == -RSWAP_ERR_NO_MEMORY ? "every client entry holds slabs or has a "
			"connection (--max-clients)" : "metadata log write failed");
		conn_send_error(c, (enum rswap_err)-ret, RSWAP_MSG_AUTH, seq,
				ret == -RSWAP_ERR_NO_MEMORY ? "too many clients" :
				"metadata log failed");
		c->close_after_send = true;
		return;
	}
	c->client = client;
	close_older_conns(c);
	if ((c->hello_flags & RSWAP_HELLO_FRESH) && fresh_start(c, seq))
		return;
	memset(&r, 0, sizeof(r));
	rswap_hdr_init(&r.hdr, RSWAP_MSG_WELCOME, seq);
	memcpy(r.mac, proof, sizeof(r.mac));
	if (getrandom(c->token, sizeof(c->token), 0) != (ssize_t)sizeof(c->token)) {
		conn_send_error(c, RSWAP_ERR_INTERNAL, RSWAP_MSG_AUTH, seq, "no randomness");
		c->close_after_send = true;
		return;
	}
	r.slab_size = rswap_cpu64(s->pool.slab_size);
	r.quota = rswap_cpu32(s->pool.clients[client].quota);
	r.held = rswap_cpu32(s->pool.clients[client].held);
	c->knows_slabs = !s->pool.clients[client].held;
	r.free = rswap_cpu32(grantable(c));
	r.max_attach = rswap_cpu32(CONN_MAX_ATTACH);
	memcpy(r.token, c->token, sizeof(r.token));
	c->state = CONN_READY;
	c->authenticated = true;
	log_msg(LOG_INFO, "client %s (%s): authenticated, holds %u slabs", c->name, c->peer,
		s->pool.clients[client].held);
	if (conn_send(c, &r, sizeof(r)))
		conn_close(s, c, "cannot send WELCOME");
}

/*
 * Take a slab from the pool for @c's client and make it ready to grant:
 * scrubbed of its last tenant and its pages reserved. The slab (>= 0), or
 * a negated enum rswap_err with @why saying it. A refusal is counted when
 * @refusal (the request gets no slab at all; pool_grant counts the
 * client's own).
 */
static int64_t grant_take(struct conn *c, bool refusal, const char **why)
{
	struct server *s = c->srv;
	int64_t slab;
	int ret;

	if (drain_refuses_grants(&s->drain)) {
		s->stats.refused_total += refusal;
		s->pool.clients[c->client].refused_memory_total += refusal;
		*why = "draining";
		return -RSWAP_ERR_NO_MEMORY;
	}
	slab = pool_grant(&s->pool, c->client);
	if (slab < 0) {
		s->stats.refused_total += refusal;
		*why = slab == -RSWAP_ERR_QUOTA ? "quota reached" :
		       slab == -RSWAP_ERR_NO_MEMORY ? "no free slab" : "cannot grant";
		return slab;
	}
	/* Nothing of its last tenant in it (no region covers a free slab),
	 * and its pages there, before it is registered. */
	ret = backing_scrub_slab(&s->mem, &s->pool, (uint32_t)slab);
	if (!ret)
		ret = backing_reserve_slab(&s->mem, &s->pool, (uint32_t)slab);
	if (ret) {
		pool_return(&s->pool, c->client, (uint32_t)slab);
		s->stats.refused_total += refusal;
		log_msg(LOG_ERR, "client %s: slab %lld: %s of the backing file failed: %s; "
			"grant refused", c->name, (long long)slab,
			pool_slab_dirty(&s->pool, (uint32_t)slab) ? "scrub" : "reservation",
			strerror(-ret));
		*why = ret == -ENOSPC ? "backing file full" : "cannot prepare slab";
		return ret == -ENOSPC ? -RSWAP_ERR_NO_MEMORY : -RSWAP_ERR_INTERNAL;
	}
	return slab;
}

/* Give back slabs grant_take took, that no GRANT named. */
static void grant_untake(struct conn *c, const uint32_t *slabs, uint32_t n, bool logged)
{
	struct server *s = c->srv;
	uint32_t i;

	/* The region may be registered: it goes before the slab does, so no
	 * rkey reaches the slab's next tenant. */
	for (i = 0; i < n; i++)
		drop_slab_mr(c, slabs[i]);
	if (logged && metalog_free_many(&s->log, slabs, n, c->client))
		return;	/* held until the client's REATTACH finds them unknown */
	for (i = 0; i < n; i++)
		pool_return(&s->pool, c->client, slabs[i]);
}

static void on_grant_req(struct conn *c, uint32_t seq)
{
	struct server *s = c->srv;
	uint64_t start = mono_ns();
	const char *why = NULL;
	int64_t slab;
	uint32_t one;

	slab = grant_take(c, true, &why);
	if (slab < 0) {
		conn_send_error(c, (enum rswap_err)-slab, RSWAP_MSG_GRANT_REQ, seq, why);
		return;
	}
	one = (uint32_t)slab;
	/* Durable before the client can store into it. */
	if (metalog_grant(&s->log, one, c->client)) {
		pool_return(&s->pool, c->client, one);
		log_msg(LOG_ERR, "metadata log write failed; grant refused");
		conn_send_error(c, RSWAP_ERR_INTERNAL, RSWAP_MSG_GRANT_REQ, seq, "metadata log failed");
		return;
	}
	if (send_grant(c, one, 0, seq)) {
		grant_untake(c, &one, 1, true);
		conn_send_error(c, RSWAP_ERR_INTERNAL, RSWAP_MSG_GRANT_REQ, seq, "cannot register slab");
		return;
	}
	s->stats.grants_total++;
	s->stats.grant_answers_total++;
	hist_observe(&s->grant_hist, mono_ns() - start);
	log_msg(LOG_DEBUG, "client %s: granted slab %lld", c->name, (long long)slab);
}

/*
 * GRANT_MANY: as many of the slabs asked as the pool, the quota and the
 * backing file allow (at least one, or an ERROR as for GRANT_REQ), made
 * durable with one metadata-log write and sync, in one GRANTS.
 */
static void on_grant_many(struct conn *c, const struct rswap_grant_many *req, uint32_t seq)
{
	struct server *s = c->srv;
	uint32_t want = rswap_le32(req->count), slabs[RSWAP_GRANTS_MAX], n = 0, i;
	uint64_t start = mono_ns();
	const char *why = NULL;
	struct rswap_grants m;
	int64_t slab = 0;

	/* No more than the pool and quota allow: a refusal is only for none. */
	if (want > 1 && grantable(c) < want)
		want = grantable(c) ? grantable(c) : 1;
	while (n < want) {
		slab = grant_take(c, n == 0, &why);
		if (slab < 0)
			break;
		slabs[n++] = (uint32_t)slab;
	}
	if (!n) {
		conn_send_error(c, (enum rswap_err)-slab, RSWAP_MSG_GRANT_MANY, seq, why);
		return;
	}
	/* Durable before the client can store into them. */
	if (metalog_grant_many(&s->log, slabs, n, c->client)) {
		grant_untake(c, slabs, n, false);
		log_msg(LOG_ERR, "metadata log write failed; grant refused");
		conn_send_error(c, RSWAP_ERR_INTERNAL, RSWAP_MSG_GRANT_MANY, seq, "metadata log failed");
		return;
	}
	memset(&m, 0, sizeof(m));
	rswap_hdr_init(&m.hdr, RSWAP_MSG_GRANTS, seq);
	m.size = rswap_cpu64(s->pool.slab_size);
	m.count = rswap_cpu16((uint16_t)n);
	for (i = 0; i < n; i++) {
		struct ibv_mr *mr = slab_mr(c, slabs[i]);

		if (!mr) {
			log_msg(LOG_ERR, "client %s: registering slab %u: %s", c->name, slabs[i],
				strerror(errno));
			break;
		}
		m.slab[i].slab = rswap_cpu32(slabs[i]);
		m.slab[i].rkey = rswap_cpu32(mr->rkey);
		m.slab[i].addr = rswap_cpu64(SLAB_IOVA);
	}
	/* What could not be registered goes back: the rest is granted. */
	if (i < n) {
		grant_untake(c, slabs + i, n - i, true);
		memset(&m.slab[i], 0, sizeof(m.slab[0]) * (n - i));
		n = i;
		m.count = rswap_cpu16((uint16_t)n);
	}
	m.free = rswap_cpu32(grantable(c));
	if (!n || conn_send(c, &m, sizeof(m))) {
		grant_untake(c, slabs, n, true);
		conn_send_error(c, RSWAP_ERR_INTERNAL, RSWAP_MSG_GRANT_MANY, seq, "cannot register slab");
		return;
	}
	s->stats.grants_total += n;
	s->stats.grant_answers_total++;
	hist_observe(&s->grant_hist, mono_ns() - start);
	log_msg(LOG_DEBUG, "client %s: granted %u slabs at once", c->name, n);
}

static void on_return(struct conn *c, const struct rswap_slab_msg *m, uint32_t seq)
{
	struct server *s = c->srv;
	uint32_t slab = rswap_le32(m->slab);
	struct rswap_slab_msg r;

	if (!pool_slab_valid(&s->pool, slab) || s->pool.owner[slab] != c->client) {
		conn_send_error(c, RSWAP_ERR_NO_SLAB, RSWAP_MSG_RETURN, seq, "not your slab");
		return;
	}
	/* A copy reads it: freed now, it could be granted and written meanwhile. */
	if (migrate_busy(s, slab)) {
		conn_send_error(c, RSWAP_ERR_STATE, RSWAP_MSG_RETURN, seq, "slab is being copied");
		return;
	}
	/* A copy coming in reaches the slab through its own region: it ends
	 * here, before the slab can be granted to anyone else. */
	copies_end_slab(c, slab);
	drop_slab_mr(c, slab);
	if (metalog_free(&s->log, slab, c->client)) {
		conn_send_error(c, RSWAP_ERR_INTERNAL, RSWAP_MSG_RETURN, seq, "metadata log failed");
		return;
	}
	pool_return(&s->pool, c->client, slab);
	s->stats.returns_total++;
	log_msg(LOG_DEBUG, "client %s: returned slab %u", c->name, slab);
	memset(&r, 0, sizeof(r));
	rswap_hdr_init(&r.hdr, RSWAP_MSG_RETURNED, seq);
	r.slab = rswap_cpu32(slab);
	if (conn_send(c, &r, sizeof(r)))
		conn_close(s, c, "cannot send RETURNED");
	drain_on_return(c, slab);
}

static void on_message(struct conn *c, const uint8_t *buf, uint32_t len)
{
	struct server *s = c->srv;
	const struct rswap_hdr *h = (const struct rswap_hdr *)buf;
	int type = rswap_msg_check(buf, len);
	uint32_t seq;

	if (type < 0) {
		s->stats.malformed_total++;
		log_msg(LOG_INFO, "client %s (%s): malformed message (%u bytes), refused",
			c->name[0] ? c->name : "?", c->peer, len);
		conn_send_error(c, (enum rswap_err)-type, 0, 0,
			   type == -RSWAP_ERR_VERSION ? "unsupported version" : "malformed");
		if (c->state != CONN_READY)
			c->close_after_send = true;
		return;
	}
	seq = rswap_le32(h->seq);
	log_msg(LOG_DEBUG, "client %s: message type %d seq %u", c->name, type, seq);
	switch (c->state) {
	case CONN_NEW:
		if (type == RSWAP_MSG_HELLO) {
			on_hello(c, (const struct rswap_hello *)buf, seq);
			return;
		}
		break;
	case CONN_CHALLENGED:
		if (type == RSWAP_MSG_AUTH) {
			on_auth(c, (const struct rswap_auth *)buf, seq);
			return;
		}
		break;
	case CONN_READY:
		switch (type) {
		case RSWAP_MSG_GRANT_REQ:
			on_grant_req(c, seq);
			return;
		case RSWAP_MSG_GRANT_MANY:
			on_grant_many(c, (const struct rswap_grant_many *)buf, seq);
			return;
		case RSWAP_MSG_RETURN:
			on_return(c, (const struct rswap_slab_msg *)buf, seq);
			return;
		case RSWAP_MSG_KEEPALIVE:
			on_keepalive(c, seq);
			return;
		case RSWAP_MSG_REATTACH:
			if (c->reattaching)
				break;
			c->reattaching = true;
			c->reattach_cursor = POOL_NONE;
			c->reattach_count = 0;
			c->reattach_seq = seq;
			pump_reattach(c);
			return;
		case RSWAP_MSG_NOT_MOVED:
			drain_on_not_moved(c, (const struct rswap_evacuate *)buf, seq);
			return;
		case RSWAP_MSG_MIGRATE_MAP:
			migrate_on_map(c, (const struct rswap_migrate_map *)buf, seq);
			return;
		case RSWAP_MSG_MIGRATE:
			migrate_on_migrate(c, (const struct rswap_migrate *)buf, seq);
			return;
		default:
			break;
		}
		break;
	case CONN_CLOSING:
		return;
	}
	s->stats.protocol_errors_total++;
	conn_send_error(c, RSWAP_ERR_STATE, (unsigned int)type, seq, "not now");
	if (c->state != CONN_READY)
		c->close_after_send = true;
}

static void on_completion(struct conn *c, const struct ibv_wc *wc)
{
	struct server *s = c->srv;

	if (wc->status != IBV_WC_SUCCESS) {
		if (wc->status != IBV_WC_WR_FLUSH_ERR) {
			s->stats.completion_errors_total++;
			log_msg(LOG_INFO, "client %s (%s): work completion %s",
				c->name[0] ? c->name : "?", c->peer, ibv_wc_status_str(wc->status));
		}
		conn_close(s, c, "failed work completion");
		return;
	}
	if (wc->wr_id >= WR_SEND_BASE) {
		c->send_inflight--;
		if (c->close_after_send && !c->send_inflight) {
			conn_close(s, c, "refused");
			return;
		}
		pump_reattach(c);
		return;
	}
	if (c->close_after_send || c->state == CONN_CLOSING)
		return;
	c->last_recv_ns = mono_ns();
	on_message(c, c->recv_buf[wc->wr_id], wc->byte_len);
	if (c->state != CONN_CLOSING && post_recv(c, (unsigned int)wc->wr_id))
		conn_close(s, c, "cannot repost a receive");
}

static void conn_ready(struct loop_src *src)
{
	struct conn *c = (struct conn *)((char *)src - offsetof(struct conn, src));
	struct ibv_wc wc[CONN_POLL_BATCH];
	struct ibv_cq *cq;
	void *ctx;
	int n, i;

	if (ibv_get_cq_event(c->chan, &cq, &ctx))
		return;
	ibv_ack_cq_events(cq, 1);
	if (ibv_req_notify_cq(cq, 0)) {
		conn_close(c->srv, c, "cannot arm the completion queue");
		return;
	}
	/* Bounded: at most the queue's depth in completions can be pending. */
	for (i = 0; i <= CONN_CQ_DEPTH / CONN_POLL_BATCH; i++) {
		int k;

		n = ibv_poll_cq(cq, CONN_POLL_BATCH, wc);
		if (n <= 0)
			break;
		for (k = 0; k < n && !c->destroyed; k++)
			on_completion(c, &wc[k]);
	}
}

/* Unlink @a from its connection and free it; its cm id is the caller's. */
static void attached_release(struct attached_qp *a)
{
	struct attached_qp **pp;

	for (pp = &a->owner->attached; *pp; pp = &(*pp)->next) {
		if (*pp == a) {
			*pp = a->next;
			a->owner->n_attached--;
			break;
		}
	}
	if (a->id->qp)
		rdma_destroy_qp(a->id);
	if (a->cq)
		ibv_destroy_cq(a->cq);
	a->id->context = NULL;
	free(a);
}

/* The same, and the cm id goes too. */
static void attached_free(struct attached_qp *a)
{
	struct rdma_cm_id *id = a->id;

	attached_release(a);
	rdma_destroy_id(id);
}

/* Unlink @cp from its connection and free its verbs resources, in reverse
 * order of conn_copy_attach (any may be missing); its cm id is the caller's. */
static void copy_release(struct copy_qp *cp)
{
	struct copy_qp **pp;

	for (pp = &cp->owner->copies; *pp; pp = &(*pp)->next) {
		if (*pp == cp) {
			*pp = cp->next;
			cp->owner->n_copies--;
			break;
		}
	}
	if (cp->id->qp)
		rdma_destroy_qp(cp->id);
	if (cp->mr && ibv_dereg_mr(cp->mr))
		log_msg(LOG_ERR, "client %s: deregistering the copy region of slab %u: %s",
			cp->owner->name, cp->slab, strerror(errno));
	if (cp->cq)
		ibv_destroy_cq(cp->cq);
	if (cp->pd)
		ibv_dealloc_pd(cp->pd);
	cp->id->context = NULL;
	free(cp);
}

/* The same, and the cm id goes too (which disconnects it, if it was). */
static void copy_free(struct copy_qp *cp)
{
	struct rdma_cm_id *id = cp->id;

	copy_release(cp);
	rdma_destroy_id(id);
}

/* End every copy coming into @slab of @c's client. */
static void copies_end_slab(struct conn *c, uint32_t slab)
{
	struct copy_qp *cp, *next;

	for (cp = c->copies; cp; cp = next) {
		next = cp->next;
		if (cp->slab != slab)
			continue;
		log_msg(LOG_INFO, "client %s: copy of slab %u in from %s ended: the slab is "
			"returned", c->name, slab, cp->peer);
		copy_free(cp);
	}
}

/* Free everything @c holds, in reverse order of conn_accept; any part may
 * be missing (a failed accept). */
static void conn_free(struct conn *c)
{
	uint32_t i;

	while (c->copies)
		copy_free(c->copies);
	/* Their QPs live in our PD: they go first. */
	while (c->attached)
		attached_free(c->attached);
	if (c->id->qp)
		rdma_destroy_qp(c->id);
	for (i = 0; c->slab_mr && i < c->srv->pool.n_slabs; i++)
		if (c->slab_mr[i])
			ibv_dereg_mr(c->slab_mr[i]);
	free(c->slab_mr);
	free(c->map_bits);
	if (c->recv_mr)
		ibv_dereg_mr(c->recv_mr);
	if (c->send_mr)
		ibv_dereg_mr(c->send_mr);
	if (c->cq)
		ibv_destroy_cq(c->cq);
	if (c->chan)
		ibv_destroy_comp_channel(c->chan);
	if (c->pd)
		ibv_dealloc_pd(c->pd);
	free(c);
}

static void conn_release(struct loop_src *src)
{
	struct conn *c = (struct conn *)((char *)src - offsetof(struct conn, src));
	struct rdma_cm_id *id = c->id;

	c->srv->n_conns_dying--;
	conn_free(c);
	rdma_destroy_id(id);
}

/* The client learns at once that its attached queue pairs are gone too. */
static void disconnect_attached(struct conn *c)
{
	struct attached_qp *a;

	for (a = c->attached; a; a = a->next)
		rdma_disconnect(a->id);
}

/*
 * From now on nothing of @c reaches a slab: every slab's region is
 * deregistered, so its rkeys reach nothing, and copies coming in end,
 * their regions with them. Whoever closes or unlinks a connection calls
 * this first: a closed connection counts as gone (clients_forget may give
 * its slabs to another tenant), so no region of it may outlive that.
 */
static void revoke_access(struct conn *c)
{
	uint32_t i;

	for (i = 0; c->slab_mr && i < c->srv->pool.n_slabs; i++)
		drop_slab_mr(c, i);
	while (c->copies)
		copy_free(c->copies);
}

/* Unlink @c and free it once the loop no longer watches its channel. */
static void conn_destroy(struct server *s, struct conn *c)
{
	struct conn **pp;

	if (c->destroyed)
		return;
	c->destroyed = true;
	s->n_conns_dying++;
	/* Not after the poll is back: the slabs may be freed before that. */
	disconnect_attached(c);
	revoke_access(c);
	drain_on_close(c);
	for (pp = &s->conns; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			s->n_conns--;
			break;
		}
	}
	if (c->chan)
		loop_forget(s, &c->src);
	else
		conn_release(&c->src);
}

void conn_close(struct server *s, struct conn *c, const char *why)
{
	(void)s;
	if (c->state == CONN_CLOSING)
		return;
	log_msg(LOG_INFO, "client %s (%s): closing: %s", c->name[0] ? c->name : "?", c->peer, why);
	c->state = CONN_CLOSING;
	c->closing_ns = mono_ns();
	c->reattaching = false;
	/* rdma_disconnect moves each QP to the error state: nothing more is
	 * executed on them. Then the MRs go, in case a peer's QP lingers. */
	disconnect_attached(c);
	rdma_disconnect(c->id);
	revoke_access(c);
	drain_on_close(c);
	/* DISCONNECTED follows on the CM channel and destroys the connection. */
}

/* "192.0.2.1:PORT", "[2001:db8::1]:PORT": see peer_name_of. */
static void peer_name(struct rdma_cm_id *id, char *buf, size_t size)
{
	peer_name_of(rdma_get_peer_addr(id), buf, size);
}

/* The READY connection whose attach token @token is, or NULL. */
static struct conn *conn_by_token(struct server *s, const uint8_t *token)
{
	struct conn *c;

	for (c = s->conns; c; c = c->next)
		if (c->state == CONN_READY && auth_secret_equal(c->token, token, RSWAP_TOKEN_LEN))
			return c;
	return NULL;
}

/* A queue pair joins an authenticated connection (see the top of the file). */
static int conn_attach(struct server *s, struct rdma_cm_id *id, const struct rswap_attach *req)
{
	struct ibv_qp_init_attr attr = {
		/* one-sided traffic only: the client posts, we post nothing */
		.cap = { .max_send_wr = 1, .max_recv_wr = 1, .max_send_sge = 1,
			 .max_recv_sge = 1 },
		.qp_type = IBV_QPT_RC,
	};
	struct rdma_conn_param param = {
		.responder_resources = CONN_RD_ATOMIC,
		.initiator_depth = CONN_RD_ATOMIC,
		.rnr_retry_count = 7,
	};
	struct conn *owner = conn_by_token(s, req->token);
	struct attached_qp *a;
	char peer[PEER_NAME_MAX];
	const char *why;

	if (!owner) {
		why = "unknown attach token";
		goto out_refuse;
	}
	/* It would join the client's PD, every slab's rkey working on it. */
	if (rswap_le16(req->queue) == RSWAP_QUEUE_MIGRATION) {
		why = "a copy must use the copy attach";
		goto out_refuse;
	}
	if (owner->n_attached >= CONN_MAX_ATTACH) {
		why = "too many queue pairs";
		goto out_refuse;
	}
	why = "setup failed";
	a = calloc(1, sizeof(*a));
	if (!a)
		goto out_refuse;
	a->kind = KIND_ATTACHED;
	a->owner = owner;
	a->id = id;
	a->queue = rswap_le16(req->queue);
	peer_name(id, a->peer, sizeof(a->peer));
	a->next = owner->attached;
	owner->attached = a;
	owner->n_attached++;
	id->context = a;
	a->cq = ibv_create_cq(id->verbs, 2, NULL, NULL, 0);
	if (!a->cq)
		goto out_free;
	attr.send_cq = a->cq;
	attr.recv_cq = a->cq;
	if (rdma_create_qp(id, owner->pd, &attr) || rdma_accept(id, &param))
		goto out_free;
	s->stats.attached_qps_total++;
	log_msg(LOG_DEBUG, "client %s (%s): queue %u attached (%u queue pairs)",
		owner->name, owner->peer, a->queue, owner->n_attached + 1);
	return 0;

out_free:
	log_msg(LOG_ERR, "client %s: attaching queue %u: %s", owner->name, a->queue,
		strerror(errno));
	attached_release(a);
out_refuse:
	s->stats.attach_refused_total++;
	peer_name(id, peer, sizeof(peer));
	log_msg(LOG_INFO, "queue pair from %s refused: %s", peer, why);
	rdma_reject(id, NULL, 0);
	return -1;
}

/*
 * Is a new connection from @src over a cap on the connections not yet
 * authenticated, per source or in all? Then the log limit of that cap, and
 * in @n how many there are. Counted afresh each time (at most the caps plus
 * the clients' connections).
 */
static struct log_limit *unauth_cap_hit(struct server *s, const struct peer_source *src,
					unsigned int *n)
{
	unsigned int total = 0, same = 0;
	struct conn *c;

	for (c = s->conns; c; c = c->next) {
		if (c->authenticated)
			continue;
		total++;
		same += peer_source_equal(&c->source, src);
	}
	if (same >= s->set.max_unauth_per_source) {
		*n = same;
		return &s->refuse_src_log;
	}
	if (total >= s->set.max_unauth) {
		*n = total;
		return &s->refuse_total_log;
	}
	return NULL;
}

/* Refuse a connect request over a cap: nothing allocated, a line a second
 * for each cap at most. */
static void refuse_unauth(struct server *s, struct rdma_cm_id *id, struct log_limit *cap,
			  unsigned int n)
{
	char peer[PEER_NAME_MAX], more[80];
	uint64_t held;

	s->stats.conns_refused_unauthenticated_total++;
	if (rdma_reject(id, NULL, 0))
		log_msg(LOG_DEBUG, "rdma_reject: %s", strerror(errno));
	if (!log_limit_due(cap, mono_ns(), &held))
		return;
	peer_name(id, peer, sizeof(peer));
	snprintf(more, sizeof(more), "; %llu more refused for it since the last such line",
		 (unsigned long long)held);
	log_msg(LOG_INFO, "connection from %s refused: %u connections not authenticated yet %s%s",
		peer, n, cap == &s->refuse_src_log ?
		"from this address (--max-unauthenticated-per-source)" :
		"in all (--max-unauthenticated)", held ? more : "");
}

/* Is a copy coming into @slab of @c's client? */
static bool copy_into(const struct conn *c, uint32_t slab)
{
	const struct copy_qp *cp;

	for (cp = c->copies; cp; cp = cp->next)
		if (cp->slab == slab)
			return true;
	return false;
}

/* Another server copies a slab in for a client (see the top of the file). */
static int conn_copy_attach(struct server *s, struct rdma_cm_id *id,
			    const struct rswap_copy_attach *req)
{
	struct ibv_qp_init_attr attr = {
		/* WRITEs come in; we post nothing */
		.cap = { .max_send_wr = 1, .max_recv_wr = 1, .max_send_sge = 1,
			 .max_recv_sge = 1 },
		.qp_type = IBV_QPT_RC,
	};
	struct rswap_copy_accept rep;
	/* No responder resources: no READ or atomic reaches this QP at all. */
	struct rdma_conn_param param = {
		.responder_resources = 0,
		.initiator_depth = 0,
		.rnr_retry_count = 7,
		.private_data = &rep,
		.private_data_len = sizeof(rep),
	};
	struct conn *owner = conn_by_token(s, req->token);
	uint32_t slab = rswap_le32(req->target_slab);
	struct copy_qp *cp = NULL;
	char peer[PEER_NAME_MAX];
	const char *why;

	if (!owner) {
		why = "unknown attach token";
		goto out_refuse;
	}
	if (!pool_slab_valid(&s->pool, slab) || s->pool.owner[slab] != owner->client) {
		why = "the target slab is not the client's";
		goto out_refuse;
	}
	if (owner->n_copies >= CONN_MAX_COPIES) {
		why = "too many copies in for the client";
		goto out_refuse;
	}
	if (copy_into(owner, slab)) {
		why = "a copy into that slab runs";
		goto out_refuse;
	}
	why = "setup failed";
	cp = calloc(1, sizeof(*cp));
	if (!cp)
		goto out_refuse;
	cp->kind = KIND_COPY;
	cp->owner = owner;
	cp->id = id;
	cp->slab = slab;
	peer_name(id, cp->peer, sizeof(cp->peer));
	cp->next = owner->copies;
	owner->copies = cp;
	owner->n_copies++;
	id->context = cp;
	cp->pd = ibv_alloc_pd(id->verbs);
	if (!cp->pd)
		goto out_free;
	cp->mr = reg_slab_mr(s, cp->pd, slab, IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE);
	if (!cp->mr)
		goto out_free;
	cp->cq = ibv_create_cq(id->verbs, 2, NULL, NULL, 0);
	if (!cp->cq)
		goto out_free;
	attr.send_cq = cp->cq;
	attr.recv_cq = cp->cq;
	if (rdma_create_qp(id, cp->pd, &attr))
		goto out_free;
	memset(&rep, 0, sizeof(rep));
	rep.magic = rswap_cpu32(RSWAP_COPY_ACCEPT_MAGIC);
	rep.rkey = rswap_cpu32(cp->mr->rkey);
	rep.addr = rswap_cpu64(SLAB_IOVA);
	rep.size = rswap_cpu64(s->pool.slab_size);
	rep.slab = rswap_cpu32(slab);
	if (auth_copy_accept_mac(&s->key, req->nonce, req->token, slab, SLAB_IOVA,
				 cp->mr->rkey, s->pool.slab_size, rep.mac)) {
		why = "cannot compute the accept's MAC";
		goto out_free;
	}
	if (rdma_accept(id, &param))
		goto out_free;
	s->stats.copy_qps_total++;
	log_msg(LOG_INFO, "client %s (%s): copy of slab %u in from %s: its own region, "
		"write-only", owner->name, owner->peer, slab, cp->peer);
	return 0;

out_free:
	log_msg(LOG_ERR, "client %s: copy of slab %u in: %s: %s", owner->name, slab, why,
		strerror(errno));
	copy_release(cp);
out_refuse:
	s->stats.attach_refused_total++;
	peer_name(id, peer, sizeof(peer));
	log_msg(LOG_INFO, "copy queue pair from %s refused: %s", peer, why);
	rdma_reject(id, NULL, 0);
	return -1;
}

int conn_accept(struct server *s, struct rdma_cm_id *id, const void *pdata, size_t pdata_len)
{
	struct ibv_qp_init_attr attr = {
		.cap = {
			.max_send_wr = CONN_SEND_DEPTH,
			.max_recv_wr = CONN_RECV_DEPTH,
			.max_send_sge = 1,
			.max_recv_sge = 1,
		},
		.qp_type = IBV_QPT_RC,
	};
	struct rdma_conn_param param = {
		.responder_resources = CONN_RD_ATOMIC,	/* clients' outstanding READs */
		.initiator_depth = CONN_RD_ATOMIC,
		.rnr_retry_count = 7,		/* infinite: wait for a RECV */
	};
	struct log_limit *cap;
	struct peer_source src;
	char peer[PEER_NAME_MAX], more[80];
	const char *what;
	struct conn *c;
	unsigned int i, n;
	uint64_t held;
	int err;

	switch (rswap_copy_attach_check(pdata, pdata_len)) {
	case 1:
		return conn_copy_attach(s, id, pdata);
	case 0:
		break;
	default:
		s->stats.attach_refused_total++;
		log_msg(LOG_INFO, "copy queue pair refused: copy attach of another version, "
			"or malformed");
		rdma_reject(id, NULL, 0);
		return -1;
	}
	switch (rswap_attach_check(pdata, pdata_len)) {
	case 1:
		return conn_attach(s, id, pdata);
	case 0:
		break;
	default:
		s->stats.attach_refused_total++;
		log_msg(LOG_INFO, "queue pair refused: attach request of another version");
		rdma_reject(id, NULL, 0);
		return -1;
	}
	/* Before anything is allocated for a peer that has proved nothing. */
	peer_source_of(rdma_get_peer_addr(id), &src);
	cap = unauth_cap_hit(s, &src, &n);
	if (cap) {
		refuse_unauth(s, id, cap, n);
		return -1;
	}
	what = "calloc";
	c = calloc(1, sizeof(*c));
	if (!c)
		goto out_reject;
	c->kind = KIND_CONN;
	c->srv = s;
	c->id = id;
	id->context = c;
	c->client = POOL_NONE;
	c->accepted_ns = mono_ns();
	c->last_recv_ns = c->accepted_ns;
	c->serial = ++s->next_serial;
	c->map_slab = POOL_NONE;
	for (i = 0; i < RSWAP_MOVES_IN_FLIGHT; i++)
		c->evac[i].slab = POOL_NONE;
	c->source = src;
	peer_name(id, c->peer, sizeof(c->peer));
	/* The slab_mr table comes at AUTH (on_auth). */
	what = "ibv_alloc_pd";
	c->pd = ibv_alloc_pd(id->verbs);
	if (!c->pd)
		goto out_free;
	what = "ibv_create_comp_channel";
	c->chan = ibv_create_comp_channel(id->verbs);
	if (!c->chan)
		goto out_free;
	what = "ibv_create_cq";
	c->cq = ibv_create_cq(id->verbs, CONN_CQ_DEPTH, c, c->chan, 0);
	if (!c->cq || ibv_req_notify_cq(c->cq, 0))
		goto out_free;
	attr.send_cq = c->cq;
	attr.recv_cq = c->cq;
	what = "rdma_create_qp";
	if (rdma_create_qp(id, c->pd, &attr))
		goto out_free;
	what = "ibv_reg_mr";
	c->recv_mr = ibv_reg_mr(c->pd, c->recv_buf, sizeof(c->recv_buf), IBV_ACCESS_LOCAL_WRITE);
	c->send_mr = ibv_reg_mr(c->pd, c->send_buf, sizeof(c->send_buf), 0);
	if (!c->recv_mr || !c->send_mr)
		goto out_free;
	what = "ibv_post_recv";
	for (i = 0; i < CONN_RECV_DEPTH; i++)
		if (post_recv(c, i))
			goto out_free;
	what = "fcntl";
	if (fcntl(c->chan->fd, F_SETFL, fcntl(c->chan->fd, F_GETFL) | O_NONBLOCK))
		goto out_free;
	c->src.fd = c->chan->fd;
	c->src.ready = conn_ready;
	c->src.release = conn_release;
	what = "rdma_accept";
	if (rdma_accept(id, &param))
		goto out_free;
	what = "io_uring (watching its channel)";
	if (loop_watch(s, &c->src)) {
		rdma_disconnect(id);
		goto out_free;
	}
	c->next = s->conns;
	s->conns = c;
	s->n_conns++;
	s->stats.connections_total++;
	log_msg(LOG_INFO, "connection from %s", c->peer);
	return 0;

out_free:
	err = errno;
	id->context = NULL;
	conn_free(c);
	errno = err;
out_reject:
	/*
	 * Out of fds (EMFILE, ENFILE) or memory, most likely: refused and
	 * counted, one line a second; the loop goes on with the next event,
	 * and a connection that ends frees what the next one needs.
	 */
	err = errno;
	s->stats.conns_refused_resources_total++;
	rdma_reject(id, NULL, 0);
	if (log_limit_due(&s->setup_log, mono_ns(), &held)) {
		peer_name(id, peer, sizeof(peer));
		snprintf(more, sizeof(more), "; %llu more failed since the last such line",
			 (unsigned long long)held);
		log_msg(LOG_ERR, "connection from %s refused: setting it up failed: %s: %s%s", peer,
			what, strerror(err), held ? more : "");
	}
	return -1;
}

/* Does @ev end the connection of its id (for a connection or an attached QP)? */
static bool cm_event_ends(const struct rdma_cm_event *ev)
{
	switch (ev->event) {
	case RDMA_CM_EVENT_DISCONNECTED:
	case RDMA_CM_EVENT_TIMEWAIT_EXIT:
	case RDMA_CM_EVENT_CONNECT_ERROR:
	case RDMA_CM_EVENT_UNREACHABLE:
	case RDMA_CM_EVENT_REJECTED:
	case RDMA_CM_EVENT_DEVICE_REMOVAL:
		return true;
	default:
		return false;
	}
}

void conn_cm_event(struct server *s, void *ctx, struct rdma_cm_event *ev)
{
	struct conn *c = ctx;

	if (*(enum conn_kind *)ctx == KIND_COPY) {
		struct copy_qp *cp = ctx;

		if (cm_event_ends(ev)) {
			log_msg(LOG_INFO, "client %s: copy of slab %u in from %s: %s",
				cp->owner->name, cp->slab, cp->peer, rdma_event_str(ev->event));
			copy_free(cp);
		}
		return;
	}
	if (*(enum conn_kind *)ctx == KIND_ATTACHED) {
		struct attached_qp *a = ctx;

		if (cm_event_ends(ev)) {
			log_msg(LOG_DEBUG, "client %s: queue %u: %s", a->owner->name, a->queue,
				rdma_event_str(ev->event));
			attached_free(a);
		}
		return;
	}
	if (cm_event_ends(ev)) {
		if (c->state != CONN_CLOSING)
			log_msg(LOG_INFO, "client %s (%s): %s", c->name[0] ? c->name : "?", c->peer,
				rdma_event_str(ev->event));
		c->state = CONN_CLOSING;
		conn_destroy(s, c);
	} else if (ev->event != RDMA_CM_EVENT_ESTABLISHED) {
		log_msg(LOG_DEBUG, "client %s: CM event %s", c->name, rdma_event_str(ev->event));
	}
}

struct conn *conn_by_serial(struct server *s, uint64_t serial)
{
	struct conn *c;

	for (c = s->conns; c; c = c->next)
		if (c->serial == serial)
			return c->state == CONN_READY ? c : NULL;
	return NULL;
}

unsigned int conn_count_for(struct server *s, uint32_t client)
{
	unsigned int n = 0;
	struct conn *c;

	for (c = s->conns; c; c = c->next)
		n += c->state == CONN_READY && c->client == client;
	return n;
}

void conn_close_all(struct server *s)
{
	while (s->conns) {
		struct conn *c = s->conns;

		if (c->state != CONN_CLOSING) {
			c->state = CONN_CLOSING;
			disconnect_attached(c);
			rdma_disconnect(c->id);
		}
		conn_destroy(s, c);
	}
}

void conn_close_device(struct server *s, struct ibv_context *verbs)
{
	struct conn *c, *next;

	for (c = s->conns; c; c = next) {
		next = c->next;
		if (c->id->verbs != verbs)
			continue;
		conn_close(s, c, "RDMA device removed");
		conn_destroy(s, c);
	}
}

void conn_tick(struct server *s)
{
	uint64_t now = mono_ns(), timeout_ns = s->set.client_timeout_s * 1000000000ull, held;
	struct conn *c, *next;
	char why[96];

	/* What the refusals' one line a second held back, once it is over. */
	held = log_limit_flush(&s->refuse_src_log, now);
	if (held)
		log_msg(LOG_INFO, "%llu more connections refused: too many not authenticated yet "
			"from their address (--max-unauthenticated-per-source %u)",
			(unsigned long long)held, s->set.max_unauth_per_source);
	held = log_limit_flush(&s->refuse_total_log, now);
	if (held)
		log_msg(LOG_INFO, "%llu more connections refused: too many not authenticated yet "
			"in all (--max-unauthenticated %u)", (unsigned long long)held,
			s->set.max_unauth);
	held = log_limit_flush(&s->setup_log, now);
	if (held)
		log_msg(LOG_ERR, "%llu more connections refused: setting them up failed",
			(unsigned long long)held);

	for (c = s->conns; c; c = next) {
		next = c->next;
		switch (c->state) {
		case CONN_NEW:
		case CONN_CHALLENGED:
			if (now - c->accepted_ns < CONN_HANDSHAKE_S * 1000000000ull)
				break;
			s->stats.handshake_timeouts_total++;
			snprintf(why, sizeof(why), "not authenticated within %d s", CONN_HANDSHAKE_S);
			conn_close(s, c, why);
			break;
		case CONN_READY:
			if (!(c->hello_flags & RSWAP_HELLO_KEEPALIVE) || !timeout_ns ||
			    now - c->last_recv_ns <= timeout_ns)
				break;
			s->stats.client_timeouts_total++;
			snprintf(why, sizeof(why), "silent for %llu s (client timeout %u s): dead; "
				 "its slabs stay for its reattach",
				 (unsigned long long)((now - c->last_recv_ns) / 1000000000ull),
				 s->set.client_timeout_s);
			conn_close(s, c, why);
			break;
		case CONN_CLOSING:
			if (now - c->closing_ns < CONN_CLOSING_MAX_S * 1000000000ull)
				break;
			log_msg(LOG_INFO, "client %s (%s): no DISCONNECTED within %d s: freed",
				c->name[0] ? c->name : "?", c->peer, CONN_CLOSING_MAX_S);
			conn_destroy(s, c);
			break;
		}
	}
}

bool conn_any_on(struct server *s, const struct ibv_context *verbs)
{
	struct conn *c;

	for (c = s->conns; c; c = c->next)
		if (c->id->verbs == verbs)
			return true;
	return false;
}
