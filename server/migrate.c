// SPDX-License-Identifier: GPL-2.0
/*
 * migrate: see migrate.h. At most --max-copies copies run at once; a
 * MIGRATE beyond that is answered INTERNAL ("try again later"), as rswap.ko
 * treats any failed move: the slab stays where it is. The copy thread,
 * step by step:
 *   0. the target must be one of --copy-targets, or (without them) the
 *      RDMA address of a --peer as its status last said (peers.h): else
 *      the copy is refused, connecting nowhere;
 *   1. rdma_cm id on its own event channel; resolve the target's address
 *      and route;
 *   2. its own PD, CQ (with a completion channel) and QP; the source slab
 *      registered in that PD for local reads;
 *   3. connect with struct rswap_copy_attach as private data: the client's
 *      token, the target slab and a random nonce of this copy's. A target
 *      server accepts it into a PD of the copy's own, where only that slab
 *      is registered, write-only; it rejects an unknown token, a slab not
 *      the token's client's, or a copy over its caps;
 *   4. on ESTABLISHED, before anything is posted: the accept's private
 *      data must be a struct rswap_copy_accept whose MAC (HMAC-SHA256 with
 *      the pool key over the nonce, the token, the slab, addr, rkey and
 *      size; compared in constant time) is right, for the slab asked and a
 *      size that holds ours. Anything else (not an rswap server, a server
 *      of another pool, a forged or replayed accept) gets nothing written:
 *      the copy fails, counted in migrations_refused_target_total. The
 *      copy writes to the addr and rkey the target gave; the ones the
 *      client put in MIGRATE are not used (an addr that differs is logged);
 *   5. one RDMA WRITE per run of used slots (at most MIG_RUN_PAGES), up to
 *      MIG_INFLIGHT in flight, every one signaled; the first failed
 *      completion stops the copy. An RC WRITE's completion means the data
 *      is at the target;
 *   6. disconnect and free everything, in reverse order (the target frees
 *      its side at the disconnect).
 * The thread touches nothing of the server but the slab's memory (mapped
 * for the server's life) and its own struct migration, which holds a copy
 * of the pool key (wiped when it is freed).
 */
#include "migrate.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/random.h>

#include <openssl/crypto.h>

#include "auth.h"
#include "conn.h"
#include "drain.h"
#include "peers.h"
#include "slot_runs.h"

/* Pages one WRITE carries at most: 256 KiB, a few rxe packets' worth of
 * work per completion, and long runs still keep several WRs busy. */
#define MIG_RUN_PAGES 64
/* WRITEs in flight: enough to keep the link busy while completions come. */
#define MIG_INFLIGHT 32
/* Resolving the target's address and route, and connecting, each. */
#define MIG_CM_TIMEOUT_MS 5000
/* A completion must come within this, or the copy is given up. */
#define MIG_COMP_TIMEOUT_MS 30000
/* How often a waiting thread looks at its cancel flag. */
#define MIG_POLL_MS 200
/* A target no peer named in the last round: a round running now and a
 * fresh one may both take their whole deadline. */
#define MIG_PEER_WAIT_MS (2 * PEERS_TIMEOUT_MS + 500)

struct migration {
	struct migration *next;
	pthread_t thread;
	atomic_bool done;		/* the thread has finished: join it */
	atomic_bool cancel;		/* server_stop, or the client started afresh:
					 * give up between batches */
	int wake_fd;			/* the server's eventfd */
	struct peers *peers;		/* may the target be copied to? */

	/* the request: copied from the connection, the thread owns it */
	uint64_t conn_serial;
	char client[RSWAP_NAME_LEN];
	uint32_t seq;
	uint32_t slab, target_slab;
	const uint8_t *src;		/* the slab's first byte here */
	uint64_t slab_size;
	uint32_t n_slots;
	uint8_t *bits;			/* used slots */
	uint64_t client_addr;		/* the target slab's address, as the client
					 * said: only compared with the target's */
	struct sockaddr_storage dst;
	char target[INET6_ADDRSTRLEN + 8];
	uint8_t token[RSWAP_TOKEN_LEN];
	uint8_t nonce[RSWAP_COPY_NONCE_LEN];	/* the accept's MAC covers it */
	struct auth_key key;		/* the pool key, for the accept's MAC */

	/* where to write: the target's verified accept says (mig_verify) */
	uint64_t target_addr;
	uint32_t target_rkey;

	/* the result */
	uint32_t pages;
	bool failed;
	bool refused_target;		/* the target proved nothing: no write */
	bool not_allowed;		/* not a copy target: not even connected */
	char why[RSWAP_TEXT_LEN];
	uint64_t elapsed_ns;
	uint64_t connect_ns;		/* of it, steps 1-4: resolve, connect, verify */
};

/* The copy's verbs resources, for one teardown path. */
struct mig_rdma {
	struct rdma_event_channel *chan;
	struct rdma_cm_id *id;
	struct ibv_pd *pd;
	struct ibv_comp_channel *comp;
	struct ibv_cq *cq;
	struct ibv_mr *mr;
	bool connected;
	/* the private data of the target's accept (ESTABLISHED) */
	uint8_t rep[RSWAP_CM_REP_PDATA_MAX];
	size_t rep_len;
};

static int mig_fail(struct migration *m, const char *why)
{
	if (!m->failed) {
		m->failed = true;
		snprintf(m->why, sizeof(m->why), "%s", why);
	}
	return -1;
}

/* The target is not what the client said: nothing is written to it. */
static int mig_refuse(struct migration *m, const char *why)
{
	m->refused_target = true;
	return mig_fail(m, why);
}

/* Wait for the next CM event of @r's id; it must be @want. An
 * ESTABLISHED's private data (the target's accept) goes into r->rep. */
static int wait_cm(struct migration *m, struct mig_rdma *r, enum rdma_cm_event_type want,
		   const char *why)
{
	struct pollfd p = { .fd = r->chan->fd, .events = POLLIN };
	struct rdma_cm_event *ev;
	enum rdma_cm_event_type got;
	int waited = 0;

	while (poll(&p, 1, MIG_POLL_MS) != 1) {
		waited += MIG_POLL_MS;
		if (atomic_load(&m->cancel))
			return mig_fail(m, "cancelled");
		if (waited >= MIG_CM_TIMEOUT_MS)
			return mig_fail(m, why);
	}
	if (rdma_get_cm_event(r->chan, &ev))
		return mig_fail(m, why);
	got = ev->event;
	if (got == RDMA_CM_EVENT_ESTABLISHED && ev->param.conn.private_data) {
		r->rep_len = ev->param.conn.private_data_len < sizeof(r->rep) ?
			     ev->param.conn.private_data_len : sizeof(r->rep);
		memcpy(r->rep, ev->param.conn.private_data, r->rep_len);
	}
	rdma_ack_cm_event(ev);
	if (got == want)
		return 0;
	log_msg(LOG_INFO, "migration of slab %u to %s: %s", m->slab, m->target,
		rdma_event_str(got));
	return mig_fail(m, got == RDMA_CM_EVENT_REJECTED ? "target refused the copy" : why);
}

/*
 * Does the target's accept prove it is a server of this pool, for this
 * copy (step 4 at the top of the file)? 0 with the target's addr and rkey
 * in @m, or -1: nothing may be written.
 */
static int mig_verify(struct migration *m, struct mig_rdma *r)
{
	const struct rswap_copy_accept *a = (const struct rswap_copy_accept *)r->rep;
	uint8_t want[RSWAP_MAC_LEN];
	uint64_t addr, size;
	uint32_t rkey, slab;

	if (r->rep_len < sizeof(*a) || rswap_le32(a->magic) != RSWAP_COPY_ACCEPT_MAGIC) {
		log_msg(LOG_ERR, "client %s: migration of slab %u to %s: the target's accept is "
			"not an rswap copy accept (%zu bytes): not a server of this pool; "
			"nothing written", m->client, m->slab, m->target, r->rep_len);
		return mig_refuse(m, "target is not an rswap server");
	}
	addr = rswap_le64(a->addr);
	size = rswap_le64(a->size);
	rkey = rswap_le32(a->rkey);
	slab = rswap_le32(a->slab);
	if (auth_copy_accept_mac(&m->key, m->nonce, m->token, slab, addr, rkey, size, want))
		return mig_fail(m, "cannot compute the accept's MAC");
	if (CRYPTO_memcmp(want, a->mac, sizeof(want))) {
		log_msg(LOG_ERR, "client %s: migration of slab %u to %s: the target's accept has "
			"a wrong MAC: not a server of this pool; nothing written", m->client,
			m->slab, m->target);
		return mig_refuse(m, "target did not prove the pool key");
	}
	if (slab != m->target_slab || a->reserved || size < m->slab_size || addr + size < addr)
		return mig_fail(m, "target accepted another slab, or a smaller one");
	if (addr != m->client_addr)
		log_msg(LOG_INFO, "client %s: migration of slab %u to %s: the client said "
			"address 0x%llx, the target 0x%llx: writing where the target says",
			m->client, m->slab, m->target, (unsigned long long)m->client_addr,
			(unsigned long long)addr);
	m->target_addr = addr;
	m->target_rkey = rkey;
	return 0;
}

static int mig_connect(struct migration *m, struct mig_rdma *r)
{
	struct ibv_qp_init_attr attr = {
		.cap = { .max_send_wr = MIG_INFLIGHT, .max_recv_wr = 1, .max_send_sge = 1,
			 .max_recv_sge = 1 },
		.qp_type = IBV_QPT_RC,
		.sq_sig_all = 1,
	};
	struct rswap_copy_attach req = {
		.magic = rswap_cpu32(RSWAP_COPY_ATTACH_MAGIC),
		.version = rswap_cpu16(RSWAP_WIRE_VERSION),
		.queue = rswap_cpu16(RSWAP_QUEUE_MIGRATION),
		.target_slab = rswap_cpu32(m->target_slab),
	};
	/* WRITEs only: no READ resources either way. */
	struct rdma_conn_param param = { .initiator_depth = 1, .retry_count = 7,
					 .rnr_retry_count = 7, .private_data = &req,
					 .private_data_len = sizeof(req) };

	memcpy(req.token, m->token, sizeof(req.token));
	memcpy(req.nonce, m->nonce, sizeof(req.nonce));
	r->chan = rdma_create_event_channel();
	if (!r->chan || rdma_create_id(r->chan, &r->id, NULL, RDMA_PS_TCP))
		return mig_fail(m, "no rdma_cm id");
	if (rdma_resolve_addr(r->id, NULL, (struct sockaddr *)&m->dst, MIG_CM_TIMEOUT_MS) ||
	    wait_cm(m, r, RDMA_CM_EVENT_ADDR_RESOLVED, "target unreachable") ||
	    rdma_resolve_route(r->id, MIG_CM_TIMEOUT_MS) ||
	    wait_cm(m, r, RDMA_CM_EVENT_ROUTE_RESOLVED, "target unreachable"))
		return mig_fail(m, "target unreachable");
	r->pd = ibv_alloc_pd(r->id->verbs);
	r->comp = r->pd ? ibv_create_comp_channel(r->id->verbs) : NULL;
	r->cq = r->comp ? ibv_create_cq(r->id->verbs, MIG_INFLIGHT, NULL, r->comp, 0) : NULL;
	if (!r->cq)
		return mig_fail(m, "no verbs resources");
	attr.send_cq = r->cq;
	attr.recv_cq = r->cq;
	if (rdma_create_qp(r->id, r->pd, &attr))
		return mig_fail(m, "no queue pair");
	/* Only read here, by our own WRITEs: no remote access to it. */
	r->mr = ibv_reg_mr(r->pd, (void *)m->src, m->slab_size, 0);
	if (!r->mr)
		return mig_fail(m, "cannot register the slab");
	if (rdma_connect(r->id, &param) ||
	    wait_cm(m, r, RDMA_CM_EVENT_ESTABLISHED, "target unreachable"))
		return -1;
	r->connected = true;
	return mig_verify(m, r);
}

/* Wait for completions and take them: 0, or -1 on a failed one. */
static int mig_reap(struct migration *m, struct mig_rdma *r, unsigned int *inflight)
{
	struct pollfd p = { .fd = r->comp->fd, .events = POLLIN };
	struct ibv_wc wc[MIG_INFLIGHT];
	int n, k, waited = 0;

	for (;;) {
		n = ibv_poll_cq(r->cq, MIG_INFLIGHT, wc);
		if (n < 0)
			return mig_fail(m, "copy failed: cannot poll");
		if (n > 0)
			break;
		if (ibv_req_notify_cq(r->cq, 0))
			return mig_fail(m, "copy failed: cannot arm the CQ");
		n = ibv_poll_cq(r->cq, MIG_INFLIGHT, wc);
		if (n)
			break;
		if (poll(&p, 1, MIG_POLL_MS) == 1) {
			struct ibv_cq *cq;
			void *ctx;

			if (!ibv_get_cq_event(r->comp, &cq, &ctx))
				ibv_ack_cq_events(cq, 1);
			continue;
		}
		waited += MIG_POLL_MS;
		if (waited >= MIG_COMP_TIMEOUT_MS)
			return mig_fail(m, "copy failed: no completion");
	}
	for (k = 0; k < n; k++) {
		(*inflight)--;
		if (wc[k].status != IBV_WC_SUCCESS) {
			char why[RSWAP_TEXT_LEN];

			snprintf(why, sizeof(why), "copy failed: %s",
				 ibv_wc_status_str(wc[k].status));
			return mig_fail(m, why);
		}
		m->pages += (uint32_t)wc[k].wr_id;
	}
	return 0;
}

static int mig_copy(struct migration *m, struct mig_rdma *r)
{
	unsigned int inflight = 0;
	uint32_t slot = 0, start, len;

	for (;;) {
		while (inflight < MIG_INFLIGHT && !atomic_load(&m->cancel) &&
		       (len = slot_run_next(m->bits, m->n_slots, slot, MIG_RUN_PAGES, &start))) {
			uint64_t off = (uint64_t)start * RSWAP_PAGE_SIZE;
			struct ibv_sge sge = {
				.addr = (uintptr_t)(m->src + off),
				.length = len * RSWAP_PAGE_SIZE,
				.lkey = r->mr->lkey,
			};
			struct ibv_send_wr wr = {
				.wr_id = len,
				.sg_list = &sge,
				.num_sge = 1,
				.opcode = IBV_WR_RDMA_WRITE,
				.send_flags = IBV_SEND_SIGNALED,
				.wr.rdma = { .remote_addr = m->target_addr + off,
					     .rkey = m->target_rkey },
			}, *bad;

			if (ibv_post_send(r->id->qp, &wr, &bad))
				return mig_fail(m, "copy failed: cannot post");
			inflight++;
			slot = start + len;
		}
		if (!inflight)
			break;
		if (mig_reap(m, r, &inflight))
			return -1;
	}
	if (atomic_load(&m->cancel))
		return mig_fail(m, "cancelled");
	return 0;
}

static void mig_teardown(struct mig_rdma *r)
{
	if (r->connected) {
		struct pollfd p = { .fd = r->chan->fd, .events = POLLIN };
		struct rdma_cm_event *ev;

		/* The target frees its side on DISCONNECTED; wait briefly for ours. */
		if (!rdma_disconnect(r->id) && poll(&p, 1, MIG_CM_TIMEOUT_MS) == 1 &&
		    !rdma_get_cm_event(r->chan, &ev))
			rdma_ack_cm_event(ev);
	}
	if (r->id && r->id->qp)
		rdma_destroy_qp(r->id);
	if (r->mr)
		ibv_dereg_mr(r->mr);
	if (r->cq)
		ibv_destroy_cq(r->cq);
	if (r->comp)
		ibv_destroy_comp_channel(r->comp);
	if (r->pd)
		ibv_dealloc_pd(r->pd);
	if (r->id)
		rdma_destroy_id(r->id);
	if (r->chan)
		rdma_destroy_event_channel(r->chan);
}

/*
 * Only to --copy-targets, or to an address a --peer's status names (peers.h),
 * checked before anything is resolved or connected: the server is no
 * deputy that dials wherever a client points it. Waiting here for a round
 * of peer queries blocks this copy alone.
 */
static int mig_allowed(struct migration *m)
{
	enum peers_verdict v;

	if (m->dst.ss_family == AF_INET)
		v = peers_copy_allowed(m->peers, AF_INET,
				       (const uint8_t *)&((struct sockaddr_in *)&m->dst)->sin_addr,
				       MIG_PEER_WAIT_MS);
	else
		v = peers_copy_allowed(m->peers, AF_INET6,
				       ((struct sockaddr_in6 *)&m->dst)->sin6_addr.s6_addr,
				       MIG_PEER_WAIT_MS);
	if (v == PEERS_ALLOWED)
		return 0;
	m->not_allowed = true;
	return mig_refuse(m, peers_verdict_text(v));
}

static void *mig_thread(void *arg)
{
	struct migration *m = arg;
	struct mig_rdma r = { 0 };
	uint64_t start = mono_ns(), one = 1;

	if (!mig_allowed(m) && !mig_connect(m, &r)) {
		m->connect_ns = mono_ns() - start;
		mig_copy(m, &r);
	}
	mig_teardown(&r);
	m->elapsed_ns = mono_ns() - start;
	atomic_store(&m->done, true);
	if (write(m->wake_fd, &one, sizeof(one)) != (ssize_t)sizeof(one))
		log_msg(LOG_ERR, "migration of slab %u: cannot wake the loop: %s", m->slab,
			strerror(errno));
	return NULL;
}

static void mig_free(struct migration *m)
{
	free(m->bits);
	OPENSSL_cleanse(m, sizeof(*m));	/* the pool key and the client's token */
	free(m);
}

/* Answer the client of a finished copy and account for it. */
static void mig_finish(struct server *s, struct migration *m)
{
	struct conn *c = conn_by_serial(s, m->conn_serial);
	double secs = (double)m->elapsed_ns / 1e9;
	struct rswap_migrated r;

	if (m->not_allowed) {
		s->stats.migration_failures_total++;
		s->stats.migrations_refused_target_total++;
		log_msg(LOG_INFO, "client %s: copy of slab %u to %s refused: %s", m->client,
			m->slab, m->target, m->why);
	} else if (m->failed) {
		s->stats.migration_failures_total++;
		s->stats.migrations_refused_target_total += m->refused_target;
		log_msg(LOG_INFO, "client %s: migration of slab %u to %s (slab %u) failed after "
			"%u pages: %s", m->client, m->slab, m->target, m->target_slab, m->pages,
			m->why);
	} else {
		s->stats.migrations_total++;
		s->stats.migrated_pages_total += m->pages;
		hist_observe(&s->migration_hist, m->elapsed_ns);
		log_msg(LOG_INFO, "client %s: migrated slab %u to %s (slab %u): %u pages in "
			"%.3f s (connecting %.3f s), %.1f MiB/s", m->client, m->slab, m->target,
			m->target_slab, m->pages, secs, (double)m->connect_ns / 1e9,
			secs > 0 ? m->pages * (double)RSWAP_PAGE_SIZE / 1048576 / secs : 0);
	}
	drain_on_migrated(s, m->conn_serial, m->slab, m->failed, m->pages);
	if (!c) {
		log_msg(LOG_INFO, "client %s: connection gone; migration of slab %u not answered",
			m->client, m->slab);
		return;
	}
	c->n_migrating--;
	if (m->failed) {
		conn_send_error(c, RSWAP_ERR_INTERNAL, RSWAP_MSG_MIGRATE, m->seq, m->why);
		return;
	}
	memset(&r, 0, sizeof(r));
	rswap_hdr_init(&r.hdr, RSWAP_MSG_MIGRATED, m->seq);
	r.slab = rswap_cpu32(m->slab);
	r.pages = rswap_cpu32(m->pages);
	if (conn_send(c, &r, sizeof(r)))
		conn_close(s, c, "cannot send MIGRATED");
}

static void mig_wake(struct loop_src *src)
{
	struct server *s = (struct server *)((char *)src - offsetof(struct server, mig_src));
	struct migration **pp = &s->migrations;
	uint64_t n;

	if (read(src->fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_msg(LOG_ERR, "migration eventfd: %s", strerror(errno));
	while (*pp) {
		struct migration *m = *pp;

		if (!atomic_load(&m->done)) {
			pp = &m->next;
			continue;
		}
		pthread_join(m->thread, NULL);
		*pp = m->next;
		mig_finish(s, m);
		mig_free(m);
	}
}

int migrate_start(struct server *s, char *err, size_t err_size)
{
	s->mig_src.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->mig_src.fd < 0) {
		snprintf(err, err_size, "eventfd: %s", strerror(errno));
		return -1;
	}
	s->mig_src.ready = mig_wake;
	if (loop_watch(s, &s->mig_src)) {
		snprintf(err, err_size, "io_uring: no room to watch migrations");
		return -1;
	}
	return 0;
}

void migrate_stop(struct server *s)
{
	struct migration *m;

	for (m = s->migrations; m; m = m->next)
		atomic_store(&m->cancel, true);
	while ((m = s->migrations)) {
		s->migrations = m->next;
		pthread_join(m->thread, NULL);
		log_msg(LOG_INFO, "client %s: migration of slab %u %s", m->client, m->slab,
			m->failed ? m->why : "finished at stop");
		mig_free(m);
	}
	if (s->mig_src.fd > 0) {
		loop_forget(s, &s->mig_src);
		close(s->mig_src.fd);
	}
}

bool migrate_busy(struct server *s, uint32_t slab)
{
	struct migration *m;

	for (m = s->migrations; m; m = m->next)
		if (m->slab == slab)
			return true;
	return false;
}

void migrate_cancel_slab(struct server *s, uint32_t slab)
{
	struct migration *m;

	for (m = s->migrations; m; m = m->next)
		if (m->slab == slab)
			atomic_store(&m->cancel, true);
}

/* Copies running or finished and not yet answered: each holds a thread. */
static uint32_t migrations_running(const struct server *s)
{
	const struct migration *m;
	uint32_t n = 0;

	for (m = s->migrations; m; m = m->next)
		n++;
	return n;
}

static uint32_t slab_slots(const struct server *s)
{
	return (uint32_t)(s->pool.slab_size / RSWAP_PAGE_SIZE);
}

static bool own_slab(const struct conn *c, uint32_t slab)
{
	return pool_slab_valid(&c->srv->pool, slab) && c->srv->pool.owner[slab] == c->client;
}

void migrate_on_map(struct conn *c, const struct rswap_migrate_map *m, uint32_t seq)
{
	uint32_t slab = rswap_le32(m->slab), first = rswap_le32(m->first);
	uint32_t n = slab_slots(c->srv);

	if (!own_slab(c, slab)) {
		conn_send_error(c, RSWAP_ERR_NO_SLAB, RSWAP_MSG_MIGRATE_MAP, seq, "not your slab");
		return;
	}
	if (first >= n) {
		conn_send_error(c, RSWAP_ERR_MALFORMED, RSWAP_MSG_MIGRATE_MAP, seq,
				"first slot beyond the slab");
		return;
	}
	if (!c->map_bits) {
		c->map_bits = calloc((n + 7) / 8, 1);
		if (!c->map_bits) {
			conn_send_error(c, RSWAP_ERR_INTERNAL, RSWAP_MSG_MIGRATE_MAP, seq,
					"out of memory");
			return;
		}
	}
	if (c->map_slab != slab) {
		memset(c->map_bits, 0, (n + 7) / 8);
		c->map_slab = slab;
	}
	slot_map_merge(c->map_bits, n, first, m->bits, RSWAP_MAP_BITS);
	if (conn_send(c, m, sizeof(*m)))
		conn_close(c->srv, c, "cannot echo MIGRATE_MAP");
}

/* Fill @m's target address from the MIGRATE message. */
static void target_addr(struct migration *m, const struct rswap_migrate *req)
{
	uint16_t port = rswap_le16(req->port);

	memset(&m->dst, 0, sizeof(m->dst));
	if (rswap_le16(req->family) == RSWAP_ADDR_IPV4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&m->dst;
		char ip[INET_ADDRSTRLEN];

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, req->ip, 4);
		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
		snprintf(m->target, sizeof(m->target), "%s:%u", ip, port);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&m->dst;
		char ip[INET6_ADDRSTRLEN];

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, req->ip, 16);
		inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
		snprintf(m->target, sizeof(m->target), "[%s]:%u", ip, port);
	}
}

void migrate_on_migrate(struct conn *c, const struct rswap_migrate *req, uint32_t seq)
{
	struct server *s = c->srv;
	uint32_t slab = rswap_le32(req->slab), n = slab_slots(s);
	struct migration *m;

	if (!own_slab(c, slab)) {
		conn_send_error(c, RSWAP_ERR_NO_SLAB, RSWAP_MSG_MIGRATE, seq, "not your slab");
		return;
	}
	if (c->map_slab != slab) {
		conn_send_error(c, RSWAP_ERR_STATE, RSWAP_MSG_MIGRATE, seq, "no map");
		return;
	}
	if (migrate_busy(s, slab)) {
		conn_send_error(c, RSWAP_ERR_STATE, RSWAP_MSG_MIGRATE, seq,
				"a copy of that slab runs");
		return;
	}
	if (c->n_migrating >= RSWAP_MOVES_IN_FLIGHT) {
		conn_send_error(c, RSWAP_ERR_STATE, RSWAP_MSG_MIGRATE, seq,
				"too many migrations running for the connection");
		return;
	}
	/* INTERNAL: rswap.ko answers NOT_MOVED and the slab stays; it is
	 * asked again later. */
	if (migrations_running(s) >= s->set.max_copies) {
		log_msg(LOG_INFO, "client %s: copy of slab %u refused: %u running, the "
			"--max-copies limit", c->name, slab, s->set.max_copies);
		conn_send_error(c, RSWAP_ERR_INTERNAL, RSWAP_MSG_MIGRATE, seq,
				"too many copies running; try later");
		return;
	}
	m = calloc(1, sizeof(*m));
	if (!m || !(m->bits = malloc((n + 7) / 8)))
		goto out_fail;
	if (getrandom(m->nonce, sizeof(m->nonce), 0) != (ssize_t)sizeof(m->nonce))
		goto out_fail;
	memcpy(m->bits, c->map_bits, (n + 7) / 8);
	m->wake_fd = s->mig_src.fd;
	m->conn_serial = c->serial;
	snprintf(m->client, sizeof(m->client), "%s", c->name);
	m->seq = seq;
	m->slab = slab;
	m->target_slab = rswap_le32(req->target_slab);
	m->src = s->mem.base + (uint64_t)slab * s->pool.slab_size;
	m->slab_size = s->pool.slab_size;
	m->n_slots = n;
	/* target_rkey is for the client's own connection there: not ours. */
	m->client_addr = rswap_le64(req->target_addr);
	memcpy(m->token, req->token, sizeof(m->token));
	m->key = s->key;
	m->peers = &s->peers;
	target_addr(m, req);
	if (pthread_create(&m->thread, NULL, mig_thread, m))
		goto out_fail;
	m->next = s->migrations;
	s->migrations = m;
	c->n_migrating++;
	log_msg(LOG_DEBUG, "client %s: copying slab %u (%u pages) to %s, %u copies running",
		c->name, slab, slot_count(m->bits, n), m->target, migrations_running(s));
	return;

out_fail:
	log_msg(LOG_ERR, "client %s: cannot start the copy of slab %u: %s", c->name, slab,
		strerror(errno));
	if (m)
		mig_free(m);
	conn_send_error(c, RSWAP_ERR_INTERNAL, RSWAP_MSG_MIGRATE, seq, "cannot start the copy");
}
