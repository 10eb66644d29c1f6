// SPDX-License-Identifier: GPL-2.0
/* rswap_client: see rswap_client.h; the protocol is in proto/rswap_wire.h. */
#include "rswap_client.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <rdma/rdma_cma.h>
#include <rdma/rdma_verbs.h>

#define CLIENT_RECV_SLOTS 8
_Static_assert(RSWAP_MOVES_IN_FLIGHT < CLIENT_RECV_SLOTS,
	       "a RECV for each EVACUATE the server may leave unanswered, and the answer");
#define CLIENT_SEND_WR 32	/* one-sided operations in flight */
/*
 * A one-sided operation's completion is first polled for, up to this long,
 * before sleeping on the completion channel: a sleep costs a wake-up per
 * page (on 6.12's rxe it doubled 4 KiB READ latency), while a READ over a
 * real NIC completes in a few microseconds.
 */
#define CLIENT_SPIN_US 1000

static int fail(struct rswap_client *c, const char *what)
{
	snprintf(c->error, sizeof(c->error), "%s: %s", what, strerror(errno));
	return -1;
}

static int post_recv_slot(struct rswap_client *c, unsigned int slot)
{
	return rdma_post_recv(c->id, (void *)(uintptr_t)(slot + 1), c->recv_buf[slot],
			      RSWAP_MSG_MAX, c->msg_mr);
}

/* rdma_get_recv_comp, with a bound: 1 with *wc, 0 if nothing came within
 * @timeout_ms (-1: forever), -1 on error. */
static int recv_comp(struct rswap_client *c, struct ibv_wc *wc, int timeout_ms)
{
	struct pollfd p = { .fd = c->id->recv_cq_channel->fd, .events = POLLIN };
	struct ibv_cq *cq;
	void *ctx;
	int n;

	for (;;) {
		n = ibv_poll_cq(c->id->recv_cq, 1, wc);
		if (n)
			return n > 0 ? 1 : -1;
		if (ibv_req_notify_cq(c->id->recv_cq, 0))
			return -1;
		n = ibv_poll_cq(c->id->recv_cq, 1, wc);
		if (n)
			return n > 0 ? 1 : -1;
		if (timeout_ms >= 0 && poll(&p, 1, timeout_ms) != 1)
			return 0;
		if (ibv_get_cq_event(c->id->recv_cq_channel, &cq, &ctx))
			return -1;
		ibv_ack_cq_events(cq, 1);
	}
}

/* Wait up to @timeout_ms (-1: forever) for one message; returns its recv
 * slot, with its type in *type; -1 on error, -2 when nothing came. */
static int recv_msg_timed(struct rswap_client *c, int *type, int timeout_ms)
{
	struct ibv_wc wc;
	unsigned int slot;
	int got = recv_comp(c, &wc, timeout_ms);

	if (!got)
		return -2;
	if (got < 0)
		return fail(c, "waiting for the server");
	if (wc.status != IBV_WC_SUCCESS) {
		snprintf(c->error, sizeof(c->error), "receive: %s", ibv_wc_status_str(wc.status));
		return -1;
	}
	slot = (unsigned int)(uintptr_t)wc.wr_id - 1;
	*type = rswap_msg_check(c->recv_buf[slot], wc.byte_len);
	if (*type < 0) {
		snprintf(c->error, sizeof(c->error), "malformed message from the server");
		post_recv_slot(c, slot);
		return -1;
	}
	if (*type == RSWAP_MSG_ERROR) {
		const struct rswap_error *e = (const void *)c->recv_buf[slot];

		c->last_error = (int)rswap_le32(e->code);
		snprintf(c->error, sizeof(c->error), "server refused: %s (code %d)", e->text,
			 c->last_error);
	}
	return (int)slot;
}

static int recv_msg(struct rswap_client *c, int *type)
{
	return recv_msg_timed(c, type, -1);
}

/*
 * Keep an unsolicited EVACUATE for rswap_client_wait_evacuate; 1 if @slot
 * was one. One beyond what the server may leave unanswered is a lying
 * server's: dropped (its slab stays; the server counts it unanswered).
 */
static int stash_evacuate(struct rswap_client *c, unsigned int slot, int type)
{
	const struct rswap_evacuate *m = (const void *)c->recv_buf[slot];

	if (type != RSWAP_MSG_EVACUATE)
		return 0;
	if (c->n_evac < RSWAP_MOVES_IN_FLIGHT)
		c->evac_slab[c->n_evac++] = rswap_le32(m->slab);
	post_recv_slot(c, slot);
	return 1;
}

static int send_raw(struct rswap_client *c, const void *msg, size_t len)
{
	struct ibv_wc wc;

	memcpy(c->send_buf, msg, len);
	if (rdma_post_send(c->id, NULL, c->send_buf, len, c->msg_mr, IBV_SEND_SIGNALED))
		return fail(c, "send");
	if (rdma_get_send_comp(c->id, &wc) <= 0)
		return fail(c, "send completion");
	if (wc.status != IBV_WC_SUCCESS) {
		snprintf(c->error, sizeof(c->error), "send: %s", ibv_wc_status_str(wc.status));
		return -1;
	}
	return 0;
}

/* Send @msg and wait for the answer, copied to @ans if given: its type,
 * or -1 when nothing valid came back. */
static int exchange(struct rswap_client *c, const void *msg, size_t len, void *ans)
{
	int type, slot;

	if (send_raw(c, msg, len))
		return -1;
	/* Bounded: the server keeps at most RSWAP_MOVES_IN_FLIGHT EVACUATEs
	 * outstanding, fewer than the RECVs posted. */
	do {
		slot = recv_msg(c, &type);
		if (slot < 0)
			return -1;
	} while (stash_evacuate(c, (unsigned int)slot, type));
	if (ans)
		memcpy(ans, c->recv_buf[slot], rswap_msg_size((unsigned int)type));
	if (post_recv_slot(c, (unsigned int)slot))
		return fail(c, "repost");
	return type;
}

/* exchange(), and the answer must be of type @want: its type, or -1 (an
 * ERROR answer leaves its code in c->last_error). */
static int call(struct rswap_client *c, const void *msg, size_t len, void *ans, int want)
{
	uint8_t got[RSWAP_MSG_MAX];
	int type = exchange(c, msg, len, got);

	if (type < 0 || type == RSWAP_MSG_ERROR)
		return -1;
	if (type != want) {
		snprintf(c->error, sizeof(c->error), "unexpected answer type %d", type);
		return -1;
	}
	/* Only an answer of the type asked for fits @ans. */
	if (ans)
		memcpy(ans, got, rswap_msg_size((unsigned int)want));
	return type;
}

int rswap_client_raw(struct rswap_client *c, const void *msg, size_t len)
{
	return exchange(c, msg, len, NULL);
}

int rswap_client_connect(struct rswap_client *c, const char *host, const char *port,
			 const struct auth_key *key, const uint8_t id[RSWAP_ID_LEN],
			 const char *name)
{
	return rswap_client_connect_opts(c, host, port, key, id, name, NULL);
}

int rswap_client_connect_opts(struct rswap_client *c, const char *host, const char *port,
			      const struct auth_key *key, const uint8_t id[RSWAP_ID_LEN],
			      const char *name, const struct rswap_client_opts *opts)
{
	struct rdma_addrinfo hints = { .ai_port_space = RDMA_PS_TCP }, *res;
	struct ibv_qp_init_attr attr = {
		.cap = { .max_send_wr = CLIENT_SEND_WR, .max_recv_wr = CLIENT_RECV_SLOTS,
			 .max_send_sge = 1, .max_recv_sge = 1 },
		.qp_type = IBV_QPT_RC,
	};
	struct rdma_conn_param param = { .initiator_depth = 16, .responder_resources = 16,
					 .retry_count = 7, .rnr_retry_count = 7 };
	struct rswap_hello hello;
	struct rswap_challenge ch;
	struct rswap_auth_binding bind;
	struct rswap_auth auth;
	struct rswap_welcome w;
	uint8_t mac[RSWAP_MAC_LEN];
	unsigned int i;
	int ret;

	memset(c, 0, sizeof(*c));
	memcpy(c->client_id, id, RSWAP_ID_LEN);
	snprintf(c->host, sizeof(c->host), "%s", host);
	snprintf(c->port, sizeof(c->port), "%s", port);
	ret = rdma_getaddrinfo(host, port, &hints, &res);
	if (ret) {
		snprintf(c->error, sizeof(c->error), "%s:%s: %s", host, port,
			 ret == -1 ? strerror(errno) : gai_strerror(ret));
		return -1;
	}
	ret = rdma_create_ep(&c->id, res, NULL, &attr);
	rdma_freeaddrinfo(res);
	if (ret)
		return fail(c, "rdma_create_ep");
	c->data_id = c->id;
	c->msg_mr = ibv_reg_mr(c->id->pd, c->recv_buf, sizeof(c->recv_buf) + sizeof(c->send_buf),
			       IBV_ACCESS_LOCAL_WRITE);
	if (!c->msg_mr)
		goto out_fail;
	for (i = 0; i < CLIENT_RECV_SLOTS; i++)
		if (post_recv_slot(c, i))
			goto out_fail;
	if (rdma_connect(c->id, &param)) {
		fail(c, "rdma_connect");
		goto out_destroy;
	}
	if (opts && opts->no_hello)
		return 0;

	memset(&hello, 0, sizeof(hello));
	rswap_hdr_init(&hello.hdr, RSWAP_MSG_HELLO, ++c->seq);
	memcpy(hello.id, id, RSWAP_ID_LEN);
	hello.page_size = rswap_cpu32(RSWAP_PAGE_SIZE);
	hello.flags = rswap_cpu32(opts ? opts->hello_flags : 0);
	snprintf(hello.name, sizeof(hello.name), "%s", name);
	if (call(c, &hello, sizeof(hello), &ch, RSWAP_MSG_CHALLENGE) < 0)
		goto out_destroy;
	memcpy(c->server_id, ch.id, RSWAP_ID_LEN);

	memset(&auth, 0, sizeof(auth));
	rswap_hdr_init(&auth.hdr, RSWAP_MSG_AUTH, ++c->seq);
	/* The proof names this server and both endpoints (rswap_wire.h). */
	if (auth_binding(rdma_get_local_addr(c->id), rdma_get_peer_addr(c->id), &bind)) {
		snprintf(c->error, sizeof(c->error), "not an IP connection: cannot bind the proof");
		goto out_destroy;
	}
	if (getrandom(auth.nonce, sizeof(auth.nonce), 0) != (ssize_t)sizeof(auth.nonce) ||
	    auth_client_mac(key, ch.nonce, auth.nonce, id, ch.id, &bind, auth.mac)) {
		fail(c, "making the proof");
		goto out_destroy;
	}
	if (call(c, &auth, sizeof(auth), &w, RSWAP_MSG_WELCOME) < 0)
		goto out_destroy;
	if (auth_server_mac(key, ch.nonce, auth.nonce, id, ch.id, &bind, mac) ||
	    !auth_mac_equal(mac, w.mac)) {
		snprintf(c->error, sizeof(c->error), "the server does not know the key");
		c->last_error = RSWAP_ERR_AUTH;
		goto out_destroy;
	}
	c->slab_size = rswap_le64(w.slab_size);
	c->quota = rswap_le32(w.quota);
	c->held = rswap_le32(w.held);
	c->max_attach = rswap_le32(w.max_attach);
	memcpy(c->token, w.token, sizeof(c->token));
	return 0;

out_fail:
	fail(c, "setting up the connection");
out_destroy:
	rswap_client_close(c);
	return -1;
}

int rswap_client_attach(struct rswap_client *c, const uint8_t *token)
{
	struct rdma_addrinfo hints = { .ai_port_space = RDMA_PS_TCP }, *res;
	struct ibv_qp_init_attr attr = {
		.cap = { .max_send_wr = CLIENT_SEND_WR, .max_recv_wr = 1,
			 .max_send_sge = 1, .max_recv_sge = 1 },
		.qp_type = IBV_QPT_RC,
	};
	struct rswap_attach req = {
		.magic = rswap_cpu32(RSWAP_ATTACH_MAGIC),
		.version = rswap_cpu16(RSWAP_WIRE_VERSION),
		.queue = rswap_cpu16((uint16_t)(c->n_qps + 1)),
	};
	struct rdma_conn_param param = { .initiator_depth = 16, .retry_count = 7,
					 .rnr_retry_count = 7, .private_data = &req,
					 .private_data_len = sizeof(req) };
	struct rdma_cm_id *id;
	int ret;

	if (c->n_qps == RSWAP_CLIENT_QPS_MAX) {
		snprintf(c->error, sizeof(c->error), "attach: %d queue pairs already",
			 RSWAP_CLIENT_QPS_MAX);
		return -1;
	}
	memcpy(req.token, token ? token : c->token, sizeof(req.token));
	ret = rdma_getaddrinfo(c->host, c->port, &hints, &res);
	if (ret) {
		snprintf(c->error, sizeof(c->error), "attach: %s:%s: %s", c->host, c->port,
			 ret == -1 ? strerror(errno) : gai_strerror(ret));
		return -1;
	}
	/* In the connection's PD: the server's rkeys are for that pair of PDs. */
	ret = rdma_create_ep(&id, res, c->id->pd, &attr);
	rdma_freeaddrinfo(res);
	if (ret)
		return fail(c, "attach: rdma_create_ep");
	if (rdma_connect(id, &param)) {
		snprintf(c->error, sizeof(c->error), "attach: %s",
			 errno == ECONNREFUSED ? "rejected" : strerror(errno));
		rdma_destroy_ep(id);
		return -1;
	}
	c->qps[c->n_qps++] = id;
	return (int)c->n_qps;
}

int rswap_client_qp_ended(struct rswap_client *c, unsigned int qp, int timeout_ms)
{
	struct rdma_cm_event *ev;
	struct rdma_cm_id *id;
	struct pollfd p;
	int ended;

	if (qp > c->n_qps || (!qp && !c->id))
		return 0;
	id = qp ? c->qps[qp - 1] : c->id;
	/* A synchronous id still has its own event channel. */
	p.fd = id->channel->fd;
	p.events = POLLIN;
	if (poll(&p, 1, timeout_ms) != 1 || rdma_get_cm_event(id->channel, &ev))
		return 0;
	ended = ev->event == RDMA_CM_EVENT_DISCONNECTED;
	rdma_ack_cm_event(ev);
	return ended;
}

int rswap_client_use_qp(struct rswap_client *c, unsigned int qp)
{
	if (qp > c->n_qps) {
		snprintf(c->error, sizeof(c->error), "no queue pair %u", qp);
		return -1;
	}
	c->data_id = qp ? c->qps[qp - 1] : c->id;
	return 0;
}

void rswap_client_close(struct rswap_client *c)
{
	while (c->n_qps) {
		struct rdma_cm_id *id = c->qps[--c->n_qps];

		rdma_disconnect(id);
		rdma_destroy_ep(id);
	}
	c->data_id = c->id;
	if (!c->id)
		return;
	rdma_disconnect(c->id);
	if (c->msg_mr)
		ibv_dereg_mr(c->msg_mr);
	rdma_destroy_ep(c->id);
	c->id = NULL;
	c->msg_mr = NULL;
}

static int slab_index(struct rswap_client *c, uint32_t slab)
{
	uint32_t i;

	for (i = 0; i < c->n_slabs; i++)
		if (c->slabs[i].slab == slab)
			return (int)i;
	return -1;
}

static int take_grant(struct rswap_client *c, const struct rswap_grant *g)
{
	uint32_t slab = rswap_le32(g->slab);
	int i = slab_index(c, slab);

	if (rswap_le64(g->size) != c->slab_size) {
		snprintf(c->error, sizeof(c->error), "grant of %llu bytes, slabs are %llu",
			 (unsigned long long)rswap_le64(g->size), (unsigned long long)c->slab_size);
		return -1;
	}
	if (i < 0) {
		if (c->n_slabs == RSWAP_CLIENT_SLABS_MAX) {
			snprintf(c->error, sizeof(c->error), "too many slabs");
			return -1;
		}
		i = (int)c->n_slabs++;
	}
	c->slabs[i].slab = slab;
	c->slabs[i].rkey = rswap_le32(g->rkey);
	c->slabs[i].addr = rswap_le64(g->addr);
	c->slabs[i].valid = true;
	return i;
}

int rswap_client_keepalive(struct rswap_client *c)
{
	struct rswap_request r, ack;

	memset(&r, 0, sizeof(r));
	rswap_hdr_init(&r.hdr, RSWAP_MSG_KEEPALIVE, ++c->seq);
	if (call(c, &r, sizeof(r), &ack, RSWAP_MSG_KEEPALIVE_ACK) < 0)
		return -1;
	if (rswap_le32(ack.hdr.seq) != c->seq) {
		snprintf(c->error, sizeof(c->error), "KEEPALIVE_ACK for seq %u, sent %u",
			 rswap_le32(ack.hdr.seq), c->seq);
		return -1;
	}
	return 0;
}

int rswap_client_grant(struct rswap_client *c)
{
	struct rswap_request r;
	struct rswap_grant g;

	memset(&r, 0, sizeof(r));
	rswap_hdr_init(&r.hdr, RSWAP_MSG_GRANT_REQ, ++c->seq);
	if (call(c, &r, sizeof(r), &g, RSWAP_MSG_GRANT) < 0)
		return -1;
	return take_grant(c, &g);
}

int rswap_client_reattach(struct rswap_client *c)
{
	struct rswap_request r;
	uint32_t i, count = 0;

	for (i = 0; i < c->n_slabs; i++)
		c->slabs[i].valid = false;
	memset(&r, 0, sizeof(r));
	rswap_hdr_init(&r.hdr, RSWAP_MSG_REATTACH, ++c->seq);
	if (send_raw(c, &r, sizeof(r)))
		return -1;
	/* GRANTs, then REATTACHED; bounded by what the server may hold. */
	for (i = 0; i <= RSWAP_CLIENT_SLABS_MAX; i++) {
		int type, slot = recv_msg(c, &type);
		uint8_t msg[RSWAP_MSG_MAX];

		if (slot < 0)
			return -1;
		memcpy(msg, c->recv_buf[slot], sizeof(msg));
		if (post_recv_slot(c, (unsigned int)slot))
			return fail(c, "repost");
		if (type == RSWAP_MSG_GRANT) {
			if (take_grant(c, (const struct rswap_grant *)msg) < 0)
				return -1;
			count++;
		} else if (type == RSWAP_MSG_REATTACHED) {
			const struct rswap_reattached *d = (const void *)msg;

			if (rswap_le32(d->count) != count) {
				snprintf(c->error, sizeof(c->error),
					 "reattach: server counted %u slabs, sent %u",
					 rswap_le32(d->count), count);
				return -1;
			}
			return (int)count;
		} else {
			if (type != RSWAP_MSG_ERROR)
				snprintf(c->error, sizeof(c->error), "reattach: answer type %d", type);
			return -1;
		}
	}
	snprintf(c->error, sizeof(c->error), "reattach: no end");
	return -1;
}

int rswap_client_return(struct rswap_client *c, uint32_t i)
{
	struct rswap_slab_msg m;

	if (i >= c->n_slabs)
		return -1;
	memset(&m, 0, sizeof(m));
	rswap_hdr_init(&m.hdr, RSWAP_MSG_RETURN, ++c->seq);
	m.slab = rswap_cpu32(c->slabs[i].slab);
	if (call(c, &m, sizeof(m), NULL, RSWAP_MSG_RETURNED) < 0)
		return -1;
	c->slabs[i] = c->slabs[--c->n_slabs];
	return 0;
}

int rswap_client_wait_evacuate(struct rswap_client *c, int timeout_ms, uint32_t *slab)
{
	int type, slot;

	while (!c->n_evac) {
		slot = recv_msg_timed(c, &type, timeout_ms);
		if (slot == -2)
			return 0;
		if (slot < 0)
			return -1;
		if (!stash_evacuate(c, (unsigned int)slot, type)) {
			snprintf(c->error, sizeof(c->error), "unexpected message type %d", type);
			post_recv_slot(c, (unsigned int)slot);
			return -1;
		}
	}
	*slab = c->evac_slab[0];
	memmove(c->evac_slab, c->evac_slab + 1, --c->n_evac * sizeof(c->evac_slab[0]));
	return 1;
}

int rswap_client_not_moved(struct rswap_client *c, uint32_t slab, enum rswap_err code)
{
	struct rswap_evacuate m;

	memset(&m, 0, sizeof(m));
	rswap_hdr_init(&m.hdr, RSWAP_MSG_NOT_MOVED, ++c->seq);
	m.slab = rswap_cpu32(slab);
	m.code = rswap_cpu32(code);
	return call(c, &m, sizeof(m), NULL, RSWAP_MSG_NOT_MOVED) < 0 ? -1 : 0;
}

int rswap_client_migrate_map(struct rswap_client *c, uint32_t slab, uint32_t first,
			     const uint8_t bits[RSWAP_MAP_BITS / 8])
{
	struct rswap_migrate_map m;

	memset(&m, 0, sizeof(m));
	rswap_hdr_init(&m.hdr, RSWAP_MSG_MIGRATE_MAP, ++c->seq);
	m.slab = rswap_cpu32(slab);
	m.first = rswap_cpu32(first);
	memcpy(m.bits, bits, sizeof(m.bits));
	return call(c, &m, sizeof(m), NULL, RSWAP_MSG_MIGRATE_MAP) < 0 ? -1 : 0;
}

int rswap_client_migrate_to(struct rswap_client *c, uint32_t slab, const char *host,
			    const char *port, uint32_t target_slab, uint64_t addr, uint32_t rkey,
			    const uint8_t token[RSWAP_TOKEN_LEN])
{
	struct rswap_migrate m;
	struct rswap_migrated r;
	struct in_addr ip4;

	if (inet_pton(AF_INET, host, &ip4) != 1) {
		snprintf(c->error, sizeof(c->error), "migrate: %s is not IPv4", host);
		return -1;
	}
	memset(&m, 0, sizeof(m));
	rswap_hdr_init(&m.hdr, RSWAP_MSG_MIGRATE, ++c->seq);
	m.slab = rswap_cpu32(slab);
	m.target_slab = rswap_cpu32(target_slab);
	m.target_addr = rswap_cpu64(addr);
	m.target_rkey = rswap_cpu32(rkey);
	m.family = rswap_cpu16(RSWAP_ADDR_IPV4);
	m.port = rswap_cpu16((uint16_t)atoi(port));
	memcpy(m.ip, &ip4, sizeof(ip4));
	memcpy(m.token, token, sizeof(m.token));
	if (call(c, &m, sizeof(m), &r, RSWAP_MSG_MIGRATED) < 0)
		return -1;
	return (int)rswap_le32(r.pages);
}

int rswap_client_migrate(struct rswap_client *c, uint32_t slab, const struct rswap_client *target,
			 uint32_t ti, const uint8_t *token)
{
	if (ti >= target->n_slabs) {
		snprintf(c->error, sizeof(c->error), "migrate: no slab %u", ti);
		return -1;
	}
	return rswap_client_migrate_to(c, slab, target->host, target->port,
				       target->slabs[ti].slab, target->slabs[ti].addr,
				       target->slabs[ti].rkey, token ? token : target->token);
}

struct ibv_mr *rswap_client_reg(struct rswap_client *c, void *buf, size_t len)
{
	return ibv_reg_mr(c->id->pd, buf, len, IBV_ACCESS_LOCAL_WRITE);
}

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Wait for one send-queue completion: spin, then sleep. 1 or -1. */
static int send_comp(struct rswap_client *c, struct ibv_wc *wc)
{
	uint64_t deadline = mono_us() + CLIENT_SPIN_US;
	int n;

	do {
		n = ibv_poll_cq(c->data_id->send_cq, 1, wc);
		if (n)
			return n > 0 ? 1 : -1;
	} while (mono_us() < deadline);
	return rdma_get_send_comp(c->data_id, wc) > 0 ? 1 : -1;
}

/* Wait up to @timeout_ms for one send-queue completion: 1, 0 if none
 * came, -1 on error. */
static int send_comp_timed(struct rswap_client *c, struct ibv_wc *wc, int timeout_ms)
{
	struct rdma_cm_id *id = c->data_id;
	uint64_t deadline = mono_us() + (uint64_t)timeout_ms * 1000;
	struct ibv_cq *cq;
	void *ctx;
	int n;

	for (;;) {
		struct pollfd p = { .fd = id->send_cq_channel->fd, .events = POLLIN };
		uint64_t now;

		n = ibv_poll_cq(id->send_cq, 1, wc);
		if (n)
			return n > 0 ? 1 : -1;
		if (ibv_req_notify_cq(id->send_cq, 0))
			return -1;
		n = ibv_poll_cq(id->send_cq, 1, wc);
		if (n)
			return n > 0 ? 1 : -1;
		now = mono_us();
		if (now >= deadline ||
		    poll(&p, 1, (int)((deadline - now + 999) / 1000)) != 1)
			return 0;
		if (ibv_get_cq_event(id->send_cq_channel, &cq, &ctx))
			return -1;
		ibv_ack_cq_events(cq, 1);
	}
}

int rswap_client_read_raw_timed(struct rswap_client *c, uint64_t addr, uint32_t rkey,
				void *buf, struct ibv_mr *mr, int timeout_ms)
{
	struct ibv_wc wc;
	int got;

	if (rdma_post_read(c->data_id, NULL, buf, RSWAP_PAGE_SIZE, mr, IBV_SEND_SIGNALED, addr,
			   rkey))
		return fail(c, "RDMA READ");
	got = send_comp_timed(c, &wc, timeout_ms);
	if (got < 0)
		return fail(c, "completion");
	if (!got) {
		snprintf(c->error, sizeof(c->error), "RDMA READ: no completion within %d ms",
			 timeout_ms);
		return -1;
	}
	if (wc.status != IBV_WC_SUCCESS) {
		snprintf(c->error, sizeof(c->error), "RDMA READ: %s", ibv_wc_status_str(wc.status));
		return -1;
	}
	return 0;
}

static int one_sided(struct rswap_client *c, bool write, uint64_t addr, uint32_t rkey,
		     void *buf, size_t len, struct ibv_mr *mr)
{
	struct ibv_wc wc;
	int ret;

	ret = write ? rdma_post_write(c->data_id, NULL, buf, len, mr, IBV_SEND_SIGNALED, addr,
				      rkey) :
		rdma_post_read(c->data_id, NULL, buf, len, mr, IBV_SEND_SIGNALED, addr, rkey);
	if (ret)
		return fail(c, write ? "RDMA WRITE" : "RDMA READ");
	if (send_comp(c, &wc) < 0)
		return fail(c, "completion");
	if (wc.status != IBV_WC_SUCCESS) {
		snprintf(c->error, sizeof(c->error), "RDMA %s: %s", write ? "WRITE" : "READ",
			 ibv_wc_status_str(wc.status));
		return -1;
	}
	return 0;
}

static int transfer(struct rswap_client *c, bool write, uint32_t i, uint32_t page, void *buf,
		    uint32_t n, struct ibv_mr *mr)
{
	uint64_t off = (uint64_t)page * RSWAP_PAGE_SIZE, len = (uint64_t)n * RSWAP_PAGE_SIZE;

	if (i >= c->n_slabs || !c->slabs[i].valid || off + len > c->slab_size) {
		snprintf(c->error, sizeof(c->error), "no such slab or page");
		return -1;
	}
	if (one_sided(c, write, c->slabs[i].addr + off, c->slabs[i].rkey, buf, len, mr))
		return -1;
	if (write) {
		c->stats.pages_written += n;
		c->stats.bytes_written += len;
	} else {
		c->stats.pages_read += n;
		c->stats.bytes_read += len;
	}
	return 0;
}

int rswap_client_write(struct rswap_client *c, uint32_t i, uint32_t page, const void *buf,
		       uint32_t n, struct ibv_mr *mr)
{
	return transfer(c, true, i, page, (void *)buf, n, mr);
}

int rswap_client_read(struct rswap_client *c, uint32_t i, uint32_t page, void *buf,
		      uint32_t n, struct ibv_mr *mr)
{
	return transfer(c, false, i, page, buf, n, mr);
}

int rswap_client_read_raw(struct rswap_client *c, uint64_t addr, uint32_t rkey, void *buf,
			  struct ibv_mr *mr)
{
	return one_sided(c, false, addr, rkey, buf, RSWAP_PAGE_SIZE, mr);
}
