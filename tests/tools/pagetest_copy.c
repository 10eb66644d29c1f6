// SPDX-License-Identifier: GPL-2.0
/*
 * rswap_pagetest copyqp: what a copy queue pair (MIGRATE's, on the target)
 * can reach. The tool plays the source server: it holds the pool key, as
 * servers do, and connects copy queue pairs to --server with struct
 * rswap_copy_attach, for slabs a client of its own holds there.
 *
 *   refused: a wrong token; a slab the token's client does not hold (a
 *            second client's);
 *   accept:  carries a MAC that verifies with the pool key for this
 *            copy's nonce, the slab asked for, the slab's address, and an
 *            rkey of the copy's own (not the client's);
 *   WRITE:   into the slab lands (the client reads it back);
 *   READ:    of the slab does not succeed (write-only);
 *   bounds:  a WRITE past the slab's end with the copy's rkey (slabs are
 *            zero-based: the next slab of the pool lies there) fails, and
 *            so does one at the client's other slab with the client's own
 *            rkey of it (the copy is in a PD of its own); the other slab
 *            and the slab's other pages are unchanged;
 *   return:  the client RETURNs the slab: the server ends the copy (its
 *            queue pair is disconnected) before it answers, and a WRITE
 *            after it does not succeed.
 */
#include "pt_connect.h"
#include "pagetest_migrate.h"

#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

#include "page_pattern.h"
#include "rswap_client.h"

#define SLAB1_SEED 0x736c6231ull	/* slot 0 of the slab copied into */
#define SLAB2_SEED 0x736c6232ull	/* slot 0 of the client's other slab */
#define COPY_SEED 0x636f7079ull		/* what the copy writes */
/* rdma_cm steps, and a completion that must (or must not) come. */
#define STEP_TIMEOUT_MS 5000
#define COMP_TIMEOUT_MS 3000

/* One copy queue pair, as a source server makes it (server/migrate.c). */
struct copier {
	struct rdma_event_channel *chan;
	struct rdma_cm_id *id;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	struct ibv_mr *mr;
	uint8_t *page;
	uint8_t nonce[RSWAP_COPY_NONCE_LEN];
	struct rswap_copy_accept acc;
	bool connected;
};

/* The next CM event of @cp's id, within @timeout_ms: its type, or -1. An
 * ESTABLISHED's private data goes into cp->acc. */
static int copier_event(struct copier *cp, int timeout_ms)
{
	struct pollfd p = { .fd = cp->chan->fd, .events = POLLIN };
	struct rdma_cm_event *ev;
	int type;

	if (poll(&p, 1, timeout_ms) != 1 || rdma_get_cm_event(cp->chan, &ev))
		return -1;
	type = ev->event;
	if (type == RDMA_CM_EVENT_ESTABLISHED && ev->param.conn.private_data &&
	    ev->param.conn.private_data_len >= sizeof(cp->acc))
		memcpy(&cp->acc, ev->param.conn.private_data, sizeof(cp->acc));
	rdma_ack_cm_event(ev);
	return type;
}

static void copier_close(struct copier *cp)
{
	if (cp->connected && !rdma_disconnect(cp->id))
		copier_event(cp, STEP_TIMEOUT_MS);
	if (cp->id && cp->id->qp)
		rdma_destroy_qp(cp->id);
	if (cp->mr)
		ibv_dereg_mr(cp->mr);
	if (cp->cq)
		ibv_destroy_cq(cp->cq);
	if (cp->pd)
		ibv_dealloc_pd(cp->pd);
	if (cp->id)
		rdma_destroy_id(cp->id);
	if (cp->chan)
		rdma_destroy_event_channel(cp->chan);
	free(cp->page);
	memset(cp, 0, sizeof(*cp));
}

/* Connect a copy of @slab with @token: 0 established, 1 rejected, -1 other. */
static int copier_open(struct copier *cp, const struct rswap_client *c, const uint8_t *token,
		       uint32_t slab)
{
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *ai;
	struct ibv_qp_init_attr attr = {
		.cap = { .max_send_wr = 4, .max_recv_wr = 1, .max_send_sge = 1,
			 .max_recv_sge = 1 },
		.qp_type = IBV_QPT_RC,
	};
	struct rswap_copy_attach req = {
		.magic = rswap_cpu32(RSWAP_COPY_ATTACH_MAGIC),
		.version = rswap_cpu16(RSWAP_WIRE_VERSION),
		.queue = rswap_cpu16(RSWAP_QUEUE_MIGRATION),
		.target_slab = rswap_cpu32(slab),
	};
	/* Asks for READs too: the target must grant none. */
	struct rdma_conn_param param = { .initiator_depth = 1, .retry_count = 7,
					 .rnr_retry_count = 7, .private_data = &req,
					 .private_data_len = sizeof(req) };
	int ret;

	memset(cp, 0, sizeof(*cp));
	cp->page = aligned_alloc(PATTERN_PAGE_SIZE, PATTERN_PAGE_SIZE);
	if (!cp->page || getrandom(cp->nonce, sizeof(cp->nonce), 0) != (ssize_t)sizeof(cp->nonce))
		return -1;
	memcpy(req.token, token, sizeof(req.token));
	memcpy(req.nonce, cp->nonce, sizeof(req.nonce));
	if (getaddrinfo(c->host, c->port, &hints, &ai)) {
		fprintf(stderr, "copyqp: cannot resolve %s:%s\n", c->host, c->port);
		return -1;
	}
	cp->chan = rdma_create_event_channel();
	ret = !cp->chan || rdma_create_id(cp->chan, &cp->id, NULL, RDMA_PS_TCP) ||
	      rdma_resolve_addr(cp->id, NULL, ai->ai_addr, STEP_TIMEOUT_MS) ||
	      copier_event(cp, STEP_TIMEOUT_MS) != RDMA_CM_EVENT_ADDR_RESOLVED ||
	      rdma_resolve_route(cp->id, STEP_TIMEOUT_MS) ||
	      copier_event(cp, STEP_TIMEOUT_MS) != RDMA_CM_EVENT_ROUTE_RESOLVED;
	freeaddrinfo(ai);
	if (ret) {
		fprintf(stderr, "copyqp: cannot reach %s:%s\n", c->host, c->port);
		return -1;
	}
	cp->pd = ibv_alloc_pd(cp->id->verbs);
	cp->cq = cp->pd ? ibv_create_cq(cp->id->verbs, 8, NULL, NULL, 0) : NULL;
	cp->mr = cp->cq ? ibv_reg_mr(cp->pd, cp->page, PATTERN_PAGE_SIZE,
				     IBV_ACCESS_LOCAL_WRITE) : NULL;
	if (!cp->mr)
		return -1;
	attr.send_cq = cp->cq;
	attr.recv_cq = cp->cq;
	if (rdma_create_qp(cp->id, cp->pd, &attr) || rdma_connect(cp->id, &param)) {
		perror("copyqp: connect");
		return -1;
	}
	switch (copier_event(cp, STEP_TIMEOUT_MS)) {
	case RDMA_CM_EVENT_ESTABLISHED:
		cp->connected = true;
		return 0;
	case RDMA_CM_EVENT_REJECTED:
		return 1;
	default:
		return -1;
	}
}

/* One WRITE (of cp->page) or READ (into it) at @addr/@rkey: 0 when it
 * succeeded, else -1 with what happened in @why. */
static int copier_rdma(struct copier *cp, bool write, uint64_t addr, uint32_t rkey,
		       char *why, size_t why_size)
{
	struct ibv_sge sge = { .addr = (uintptr_t)cp->page, .length = PATTERN_PAGE_SIZE,
			       .lkey = cp->mr->lkey };
	struct ibv_send_wr wr = {
		.sg_list = &sge, .num_sge = 1,
		.opcode = write ? IBV_WR_RDMA_WRITE : IBV_WR_RDMA_READ,
		.send_flags = IBV_SEND_SIGNALED,
		.wr.rdma = { .remote_addr = addr, .rkey = rkey },
	}, *bad;
	struct timespec nap = { .tv_nsec = 1000000 };
	struct ibv_wc wc;
	int waited, n;

	if (ibv_post_send(cp->id->qp, &wr, &bad)) {
		snprintf(why, why_size, "cannot post");
		return -1;
	}
	for (waited = 0; waited < COMP_TIMEOUT_MS; waited++) {
		n = ibv_poll_cq(cp->cq, 1, &wc);
		if (n < 0) {
			snprintf(why, why_size, "cannot poll");
			return -1;
		}
		if (n) {
			snprintf(why, why_size, "%s", ibv_wc_status_str(wc.status));
			return wc.status == IBV_WC_SUCCESS ? 0 : -1;
		}
		nanosleep(&nap, NULL);
	}
	snprintf(why, why_size, "no completion within %d ms", COMP_TIMEOUT_MS);
	return -1;
}

/* Report one check: @ok says whether it held. 1 if it did not. */
static int verdict(bool ok, const char *what, const char *detail)
{
	printf("copyqp: %s: %s%s%s\n", what, ok ? "ok" : "FAILED", detail ? ": " : "",
	       detail ? detail : "");
	return !ok;
}

/* Read slot @slot of slab index @i through the client: does it hold
 * @seed's pattern? */
static bool holds(struct rswap_client *c, uint32_t i, uint32_t slot, uint64_t seed,
		  uint8_t *page, struct ibv_mr *mr)
{
	return !rswap_client_read(c, i, slot, page, 1, mr) && pattern_check(page, seed, slot) < 0;
}

int pagetest_copyqp(const struct pt_migrate_opts *o, const struct auth_key *key)
{
	struct rswap_client c = { 0 }, other = { 0 };
	uint8_t id[RSWAP_ID_LEN], id2[RSWAP_ID_LEN], wrong[RSWAP_TOKEN_LEN], mac[RSWAP_MAC_LEN];
	uint8_t *page = aligned_alloc(PATTERN_PAGE_SIZE, PATTERN_PAGE_SIZE);
	struct ibv_mr *mr = NULL;
	struct copier cp = { 0 };
	bool up = false, other_up = false;
	int i1, i2, i3, ret, fails = 0;
	uint32_t s1, s2;
	char why[64];
	uint64_t addr;

	if (!page || getrandom(id, sizeof(id), 0) != (ssize_t)sizeof(id) ||
	    getrandom(id2, sizeof(id2), 0) != (ssize_t)sizeof(id2))
		goto out_fail;
	up = !pt_connect(&c, o->source.host, o->source.port, key, id, "copyqp");
	other_up = up && !pt_connect(&other, o->source.host, o->source.port, key, id2,
				     "copyqp-other");
	mr = other_up ? rswap_client_reg(&c, page, PATTERN_PAGE_SIZE) : NULL;
	if (!mr) {
		fprintf(stderr, "copyqp: connect: %s%s\n", c.error, other.error);
		goto out_fail;
	}
	i1 = rswap_client_grant(&c);
	i2 = rswap_client_grant(&c);
	i3 = rswap_client_grant(&other);
	if (i1 < 0 || i2 < 0 || i3 < 0) {
		fprintf(stderr, "copyqp: grant: %s%s\n", c.error, other.error);
		goto out_fail;
	}
	s1 = c.slabs[i1].slab;
	s2 = c.slabs[i2].slab;
	pattern_fill(page, SLAB1_SEED, 0);
	if (rswap_client_write(&c, (uint32_t)i1, 0, page, 1, mr))
		goto out_fail;
	pattern_fill(page, SLAB2_SEED, 0);
	if (rswap_client_write(&c, (uint32_t)i2, 0, page, 1, mr))
		goto out_fail;

	memcpy(wrong, c.token, sizeof(wrong));
	wrong[0] ^= 1;
	ret = copier_open(&cp, &c, wrong, s1);
	copier_close(&cp);
	fails += verdict(ret == 1, "a wrong token is refused", NULL);
	ret = copier_open(&cp, &c, c.token, other.slabs[i3].slab);
	copier_close(&cp);
	fails += verdict(ret == 1, "a slab of another client is refused", NULL);

	/* The accept proves the pool key, for this copy. */
	ret = copier_open(&cp, &c, c.token, s1);
	if (ret) {
		fails += verdict(false, "a copy of the client's slab is accepted", NULL);
		goto out;
	}
	addr = rswap_le64(cp.acc.addr);
	fails += verdict(rswap_le32(cp.acc.magic) == RSWAP_COPY_ACCEPT_MAGIC &&
			 !auth_copy_accept_mac(key, cp.nonce, c.token, rswap_le32(cp.acc.slab),
					       addr, rswap_le32(cp.acc.rkey),
					       rswap_le64(cp.acc.size), mac) &&
			 auth_mac_equal(mac, cp.acc.mac), "the accept's MAC verifies", NULL);
	fails += verdict(rswap_le32(cp.acc.slab) == s1 && addr == c.slabs[i1].addr &&
			 rswap_le64(cp.acc.size) == c.slab_size,
			 "the accept names the slab, its address and size", NULL);
	fails += verdict(rswap_le32(cp.acc.rkey) != c.slabs[i1].rkey,
			 "the copy's rkey is its own", NULL);
	pattern_fill(cp.page, COPY_SEED, 1);
	ret = copier_rdma(&cp, true, addr + PATTERN_PAGE_SIZE, rswap_le32(cp.acc.rkey), why,
			  sizeof(why));
	fails += verdict(!ret && holds(&c, (uint32_t)i1, 1, COPY_SEED, page, mr),
			 "a WRITE into the slab lands", why);
	ret = copier_rdma(&cp, false, addr, rswap_le32(cp.acc.rkey), why, sizeof(why));
	fails += verdict(ret, "a READ of the slab does not succeed", why);
	copier_close(&cp);

	/*
	 * Past the slab's end with the copy's rkey (slabs are zero-based, so
	 * the only way out of it is past its end; the next slab of the pool
	 * lies there), and the client's other slab with the client's rkey.
	 */
	if (copier_open(&cp, &c, c.token, s1))
		goto out_broken;
	pattern_fill(cp.page, COPY_SEED, 0);
	ret = copier_rdma(&cp, true, rswap_le64(cp.acc.addr) + rswap_le64(cp.acc.size),
			  rswap_le32(cp.acc.rkey), why, sizeof(why));
	fails += verdict(ret, "a WRITE past the slab's end with the copy's rkey fails", why);
	copier_close(&cp);
	if (copier_open(&cp, &c, c.token, s1))
		goto out_broken;
	pattern_fill(cp.page, COPY_SEED, 0);
	ret = copier_rdma(&cp, true, c.slabs[i2].addr, c.slabs[i2].rkey, why, sizeof(why));
	fails += verdict(ret, "a WRITE at the other slab with the client's rkey fails", why);
	copier_close(&cp);
	fails += verdict(holds(&c, (uint32_t)i2, 0, SLAB2_SEED, page, mr),
			 "the other slab is unchanged", NULL);
	fails += verdict(holds(&c, (uint32_t)i1, 0, SLAB1_SEED, page, mr),
			 "the slab's other page is unchanged", NULL);

	/* Returning the slab ends the copy into it. */
	if (copier_open(&cp, &c, c.token, s1))
		goto out_broken;
	addr = rswap_le64(cp.acc.addr);
	if (rswap_client_return(&c, (uint32_t)i1)) {
		fprintf(stderr, "copyqp: return: %s\n", c.error);
		fails++;
	} else {
		/* DISCONNECTED; or REJECTED when the server's CM had not yet
		 * taken our RTU (it ends an id it has not seen established so). */
		ret = copier_event(&cp, STEP_TIMEOUT_MS);
		cp.connected = ret != RDMA_CM_EVENT_DISCONNECTED && ret != RDMA_CM_EVENT_REJECTED;
		fails += verdict(!cp.connected, "returning the slab ends the copy into it",
				 ret < 0 ? "no CM event" : rdma_event_str(ret));
		pattern_fill(cp.page, COPY_SEED, 2);
		ret = copier_rdma(&cp, true, addr + 2 * PATTERN_PAGE_SIZE, rswap_le32(cp.acc.rkey),
				  why, sizeof(why));
		fails += verdict(ret, "a WRITE after the return does not succeed", why);
	}
	copier_close(&cp);
	goto out;

out_broken:
	fails += verdict(false, "a copy of the client's slab is accepted again", NULL);
out:
	copier_close(&cp);
	/* Slab indexes move as slabs go: return by number. */
	for (i1 = (int)c.n_slabs - 1; i1 >= 0; i1--)
		if (c.slabs[i1].slab == s2 && rswap_client_return(&c, (uint32_t)i1))
			fails++;
	if (rswap_client_return(&other, (uint32_t)i3))
		fails++;
	ibv_dereg_mr(mr);
	rswap_client_close(&c);
	rswap_client_close(&other);
	free(page);
	printf("copyqp: %s\n", fails ? "FAILED" : "a copy reaches its slab alone, write-only");
	return fails ? 1 : 0;

out_fail:
	if (mr)
		ibv_dereg_mr(mr);
	if (up)
		rswap_client_close(&c);
	if (other_up)
		rswap_client_close(&other);
	free(page);
	return 1;
}
