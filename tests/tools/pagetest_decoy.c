// SPDX-License-Identifier: GPL-2.0
/*
 * rswap_pagetest decoy: a MIGRATE pointed at an RDMA endpoint that is not
 * a server of the pool must be refused, and nothing written there.
 *
 * The decoy listens on --target, with a buffer of a slab's size filled with
 * a pattern and registered for remote WRITE (and READ) in its PD. It
 * accepts every connection, as any RDMA service would, in two ways:
 *   round 1: an accept without private data (an ordinary service);
 *   round 2: a forged struct rswap_copy_accept, right magic, its own MR's
 *            addr and rkey, the slab asked for, a MAC it cannot know.
 * The client connects to --server (a real rswap-server), is granted a slab,
 * writes pages into some of its slots, sends their map, and asks for the
 * slab to be copied to the decoy, naming the decoy's buffer address and
 * rkey as the target slab's. Each MIGRATE must be refused (an ERROR,
 * INTERNAL), the decoy must have seen each copy connect with a copy attach
 * (or the check would prove nothing), and no byte of its buffer may have
 * changed. A server that writes where a client says fails all three.
 *
 * With --max-copies 1 (the server's own setting) a third round checks the
 * cap: the decoy leaves the copy's connection request unanswered while a
 * second client of the server asks for a copy of its own slab, which must
 * be refused at once (INTERNAL, "too many copies"); then the decoy rejects
 * the first, whose MIGRATE fails too.
 */
#include "pt_connect.h"
#include "pagetest_migrate.h"

#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

#include "page_pattern.h"
#include "rswap_client.h"

#define DECOY_SEED 0x6465636full	/* the decoy's buffer */
#define PAGES_SEED 0x70616765ull	/* the pages of the slab asked to move */
#define DECOY_ROUNDS 2		/* that end in an accept */
#define CAP_ROUND 3
/* How often the decoy's thread looks at its stop flag. */
#define DECOY_POLL_MS 100

struct decoy {
	struct rdma_event_channel *chan;
	struct rdma_cm_id *listen;
	struct ibv_pd *pd;
	struct ibv_mr *mr;
	uint8_t *buf, *orig;		/* the buffer, and what it held */
	size_t size;
	pthread_t thread;
	bool running;
	atomic_bool stop;
	atomic_int round;		/* 1: plain accept, 2: forged copy accept */
	atomic_int connects;		/* connection requests */
	atomic_int copy_attaches;	/* of them, with a copy attach */
	atomic_int established;
	/* the cap round: a second client on the server, asked from the
	 * decoy's thread while the first copy waits for its answer */
	struct rswap_client *second;
	uint32_t second_slab;
	const struct pt_endpoint *at;	/* the decoy's address */
	uint32_t rkey;
	int cap_refused;		/* 1 refused as expected, -1 not, 0 not asked */
	char cap_why[160];
};

/* A copy of the second client's slab, while another copy runs: refused? */
static void cap_probe(struct decoy *d)
{
	int ret;

	d->second->last_error = 0;
	ret = rswap_client_migrate_to(d->second, d->second_slab, d->at->host, d->at->port, 0,
				      (uintptr_t)d->buf, d->rkey, d->second->token);
	d->cap_refused = ret < 0 && d->second->last_error == RSWAP_ERR_INTERNAL &&
			 strstr(d->second->error, "too many copies") ? 1 : -1;
	snprintf(d->cap_why, sizeof(d->cap_why), "%s", ret < 0 ? d->second->error : "copied");
}

/* Accept @id as round @round says; 0, or -1 (the caller destroys it). */
static int decoy_accept(struct decoy *d, struct rdma_cm_id *id, const void *pdata,
			size_t pdata_len)
{
	struct ibv_qp_init_attr attr = {
		.cap = { .max_send_wr = 1, .max_recv_wr = 1, .max_send_sge = 1,
			 .max_recv_sge = 1 },
		.qp_type = IBV_QPT_RC,
	};
	struct rdma_conn_param param = { .responder_resources = 1, .initiator_depth = 1,
					 .rnr_retry_count = 7 };
	const struct rswap_copy_attach *req = pdata;
	struct rswap_copy_accept rep;
	uint32_t slab = 0;

	atomic_fetch_add(&d->connects, 1);
	if (rswap_copy_attach_check(pdata, pdata_len) == 1) {
		atomic_fetch_add(&d->copy_attaches, 1);
		slab = rswap_le32(req->target_slab);
	}
	if (rdma_create_qp(id, d->pd, &attr)) {
		perror("decoy: rdma_create_qp");
		return -1;
	}
	if (atomic_load(&d->round) == 2) {
		memset(&rep, 0, sizeof(rep));
		rep.magic = rswap_cpu32(RSWAP_COPY_ACCEPT_MAGIC);
		rep.rkey = rswap_cpu32(d->mr->rkey);
		rep.addr = rswap_cpu64((uintptr_t)d->buf);
		rep.size = rswap_cpu64(d->size);
		rep.slab = rswap_cpu32(slab);
		if (getrandom(rep.mac, sizeof(rep.mac), 0) != (ssize_t)sizeof(rep.mac))
			memset(rep.mac, 0x5a, sizeof(rep.mac));
		param.private_data = &rep;
		param.private_data_len = sizeof(rep);
	}
	if (rdma_accept(id, &param)) {
		perror("decoy: rdma_accept");
		rdma_destroy_qp(id);
		return -1;
	}
	return 0;
}

static void *decoy_loop(void *arg)
{
	struct decoy *d = arg;
	struct pollfd p = { .fd = d->chan->fd, .events = POLLIN };

	while (!atomic_load(&d->stop)) {
		struct rdma_cm_event *ev;
		struct rdma_cm_id *gone = NULL;

		if (poll(&p, 1, DECOY_POLL_MS) != 1 || rdma_get_cm_event(d->chan, &ev))
			continue;
		switch (ev->event) {
		case RDMA_CM_EVENT_CONNECT_REQUEST:
			if (atomic_load(&d->round) == CAP_ROUND) {
				atomic_fetch_add(&d->connects, 1);
				if (rswap_copy_attach_check(ev->param.conn.private_data,
							    ev->param.conn.private_data_len) == 1)
					atomic_fetch_add(&d->copy_attaches, 1);
				cap_probe(d);
				rdma_reject(ev->id, NULL, 0);
				gone = ev->id;
			} else if (decoy_accept(d, ev->id, ev->param.conn.private_data,
						ev->param.conn.private_data_len)) {
				gone = ev->id;
			}
			break;
		case RDMA_CM_EVENT_ESTABLISHED:
			atomic_fetch_add(&d->established, 1);
			break;
		case RDMA_CM_EVENT_DISCONNECTED:
		case RDMA_CM_EVENT_CONNECT_ERROR:
		case RDMA_CM_EVENT_UNREACHABLE:
			if (ev->id != d->listen) {
				rdma_destroy_qp(ev->id);
				gone = ev->id;
			}
			break;
		default:
			break;
		}
		rdma_ack_cm_event(ev);
		/* An id goes once its event is acked. */
		if (gone)
			rdma_destroy_id(gone);
	}
	return NULL;
}

static void decoy_close(struct decoy *d)
{
	if (d->running) {
		atomic_store(&d->stop, true);
		pthread_join(d->thread, NULL);
	}
	if (d->mr)
		ibv_dereg_mr(d->mr);
	if (d->pd)
		ibv_dealloc_pd(d->pd);
	if (d->listen)
		rdma_destroy_id(d->listen);
	if (d->chan)
		rdma_destroy_event_channel(d->chan);
	free(d->buf);
	free(d->orig);
}

/* Listen on @e with a @size-byte patterned buffer open to remote access. */
static int decoy_open(struct decoy *d, const struct pt_endpoint *e, size_t size)
{
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *ai;
	size_t off;

	d->size = size;
	d->buf = aligned_alloc(PATTERN_PAGE_SIZE, size);
	d->orig = malloc(size);
	if (!d->buf || !d->orig) {
		fprintf(stderr, "decoy: out of memory\n");
		return -1;
	}
	for (off = 0; off < size; off += PATTERN_PAGE_SIZE)
		pattern_fill(d->buf + off, DECOY_SEED, off / PATTERN_PAGE_SIZE);
	memcpy(d->orig, d->buf, size);
	if (getaddrinfo(e->host, e->port, &hints, &ai)) {
		fprintf(stderr, "decoy: cannot resolve %s:%s\n", e->host, e->port);
		return -1;
	}
	d->chan = rdma_create_event_channel();
	if (!d->chan || rdma_create_id(d->chan, &d->listen, d, RDMA_PS_TCP) ||
	    rdma_bind_addr(d->listen, ai->ai_addr) || rdma_listen(d->listen, 4)) {
		perror("decoy: listening");
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	if (!d->listen->verbs) {
		fprintf(stderr, "decoy: %s is not on an RDMA device\n", e->host);
		return -1;
	}
	d->pd = ibv_alloc_pd(d->listen->verbs);
	d->mr = d->pd ? ibv_reg_mr(d->pd, d->buf, size, IBV_ACCESS_LOCAL_WRITE |
				   IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ) : NULL;
	if (!d->mr) {
		perror("decoy: registering its buffer");
		return -1;
	}
	d->at = e;
	d->rkey = d->mr->rkey;
	if (pthread_create(&d->thread, NULL, decoy_loop, d)) {
		fprintf(stderr, "decoy: cannot start its thread\n");
		return -1;
	}
	d->running = true;
	return 0;
}

/* Bytes of the decoy's buffer that changed. */
static size_t decoy_changed(const struct decoy *d)
{
	size_t i, n = 0;

	for (i = 0; i < d->size; i++)
		n += d->buf[i] != d->orig[i];
	return n;
}

/* Slab index @i of @c: pages in every third slot (a few runs), their map
 * sent. Pages written, or -1. */
static int decoy_slab(struct rswap_client *c, uint32_t i, struct ibv_mr *mr, uint8_t *page)
{
	uint32_t per = (uint32_t)(c->slab_size / PATTERN_PAGE_SIZE), first, slot;
	uint8_t bits[RSWAP_MAP_BITS / 8];
	int used = 0;

	for (first = 0; first < per; first += RSWAP_MAP_BITS) {
		memset(bits, 0, sizeof(bits));
		for (slot = first; slot < per && slot < first + RSWAP_MAP_BITS; slot++) {
			if (slot % 3)
				continue;
			pattern_fill(page, PAGES_SEED, slot);
			if (rswap_client_write(c, i, slot, page, 1, mr)) {
				fprintf(stderr, "decoy: write slot %u: %s\n", slot, c->error);
				return -1;
			}
			bits[(slot - first) / 8] |= (uint8_t)(1u << ((slot - first) % 8));
			used++;
		}
		if (rswap_client_migrate_map(c, c->slabs[i].slab, first, bits)) {
			fprintf(stderr, "decoy: MIGRATE_MAP: %s\n", c->error);
			return -1;
		}
	}
	return used;
}

/* Connect @c to the server as client @name, with a slab whose map is
 * sent: its index (its pages in *used), or -1. @mr and @page: a one-page
 * buffer for it. */
static int decoy_client(const struct pt_migrate_opts *o, const struct auth_key *key,
			struct rswap_client *c, const char *name, uint8_t *page,
			struct ibv_mr **mr, bool *up, int *used)
{
	uint8_t id[RSWAP_ID_LEN];
	int i;

	if (getrandom(id, sizeof(id), 0) != (ssize_t)sizeof(id))
		return -1;
	if (pt_connect(c, o->source.host, o->source.port, key, id, name)) {
		fprintf(stderr, "%s: %s:%s: %s\n", name, o->source.host, o->source.port, c->error);
		return -1;
	}
	*up = true;
	*mr = rswap_client_reg(c, page, PATTERN_PAGE_SIZE);
	i = *mr ? rswap_client_grant(c) : -1;
	if (i < 0) {
		fprintf(stderr, "%s: grant: %s\n", name, *mr ? c->error : "ibv_reg_mr failed");
		return -1;
	}
	*used = decoy_slab(c, (uint32_t)i, *mr, page);
	return *used < 0 ? -1 : i;
}

int pagetest_decoy(const struct pt_migrate_opts *o, const struct auth_key *key)
{
	struct decoy d = { 0 };
	struct rswap_client c = { 0 }, c2 = { 0 };
	uint8_t token[RSWAP_TOKEN_LEN], *page = NULL, *page2 = NULL;
	struct ibv_mr *mr = NULL, *mr2 = NULL;
	int i, i2 = -1, ret, round, rounds, used, used2, fails = 0;
	bool up = false, up2 = false, cap = o->max_copies == 1;
	size_t changed;

	page = aligned_alloc(PATTERN_PAGE_SIZE, PATTERN_PAGE_SIZE);
	page2 = aligned_alloc(PATTERN_PAGE_SIZE, PATTERN_PAGE_SIZE);
	if (!page || !page2 || getrandom(token, sizeof(token), 0) != (ssize_t)sizeof(token))
		goto out_fail;
	i = decoy_client(o, key, &c, "decoy", page, &mr, &up, &used);
	if (i < 0 || (cap && (i2 = decoy_client(o, key, &c2, "decoy-second", page2, &mr2,
					       &up2, &used2)) < 0))
		goto out_fail;
	if (decoy_open(&d, &o->targets[0], c.slab_size))
		goto out_fail;
	if (cap) {
		d.second = &c2;
		d.second_slab = c2.slabs[i2].slab;
	}
	rounds = cap ? CAP_ROUND : DECOY_ROUNDS;
	for (round = 1; round <= rounds; round++) {
		const char *how = round == 1 ? "plain accept" : round == 2 ?
				  "forged copy accept" : "no answer while another copy asks";

		atomic_store(&d.round, round);
		c.last_error = 0;
		ret = rswap_client_migrate_to(&c, c.slabs[i].slab, o->targets[0].host,
					      o->targets[0].port, 0, (uintptr_t)d.buf,
					      d.mr->rkey, token);
		if (ret >= 0 || c.last_error != RSWAP_ERR_INTERNAL) {
			printf("decoy: round %d (%s): MIGRATE to a non-server NOT refused "
			       "(%d pages copied, code %d: %s)\n", round, how, ret,
			       c.last_error, ret >= 0 ? "" : c.error);
			fails++;
		} else {
			printf("decoy: round %d (%s): MIGRATE refused: %s\n", round, how,
			       c.error);
		}
	}
	/* The source disconnects before it answers; its QP is gone by now. */
	atomic_store(&d.stop, true);
	pthread_join(d.thread, NULL);
	d.running = false;
	changed = decoy_changed(&d);
	printf("decoy: %d connections (%d with a copy attach, %d established), %zu bytes of "
	       "its %zu-byte buffer changed; the slab had %d pages\n",
	       atomic_load(&d.connects), atomic_load(&d.copy_attaches),
	       atomic_load(&d.established), changed, d.size, used);
	if (cap) {
		printf("decoy: a second copy while one ran (--max-copies 1): %s (%s)\n",
		       d.cap_refused == 1 ? "refused" : d.cap_refused ? "NOT refused as expected" :
		       "never asked", d.cap_why);
		fails += d.cap_refused != 1;
	}
	if (atomic_load(&d.copy_attaches) != rounds ||
	    atomic_load(&d.established) != DECOY_ROUNDS) {
		printf("decoy: the source did not connect with a copy attach in every round: "
		       "the check proves nothing\n");
		fails++;
	}
	if (changed) {
		printf("decoy: the source WROTE into the decoy's buffer\n");
		fails++;
	}
	if (rswap_client_return(&c, (uint32_t)i) ||
	    (cap && rswap_client_return(&c2, (uint32_t)i2))) {
		fprintf(stderr, "decoy: return: %s%s\n", c.error, c2.error);
		fails++;
	}
	ret = fails ? 1 : 0;
	goto out;

out_fail:
	ret = 1;
out:
	decoy_close(&d);
	if (mr)
		ibv_dereg_mr(mr);
	if (mr2)
		ibv_dereg_mr(mr2);
	if (up)
		rswap_client_close(&c);
	if (up2)
		rswap_client_close(&c2);
	free(page);
	free(page2);
	return ret;
}
