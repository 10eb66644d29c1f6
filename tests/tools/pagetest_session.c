// SPDX-License-Identifier: GPL-2.0
/*
 * pagetest_session: rswap_pagetest's commands on a connection's life.
 *
 *   replace    connection 1 of a new client id holds a slab with --pages
 *              pages and an attached queue pair; connection 2 authenticates
 *              as the same id. Then READs through connection 1 and through
 *              its queue pair, with the slab's old rkey, must fail (remote
 *              access error, or flushed: the server closed them before it
 *              answered connection 2), the server must have ended both, and
 *              connection 2 must reattach the slab with every page intact
 *   keepalive  a client that set RSWAP_HELLO_KEEPALIVE sends KEEPALIVE every
 *              second for 2 x --timeout + 2 s: every one must be answered
 *              with KEEPALIVE_ACK of its seq, the connection must stay, and
 *              a grant must work after
 *   silent     the same client, holding a slab with a page in it, says
 *              nothing: the server must close it after --timeout s of
 *              silence (not before, and within 5 s more); the same id then
 *              reconnects and reattaches the slab with the page intact
 *   quiet      a client that did not set the flag says nothing for
 *              2 x --timeout + 2 s: it must stay connected and be answered
 *   mute       connect the queue pair and send no HELLO: the server must
 *              close it after its handshake deadline (--timeout s)
 *
 * Each returns 0 when what it checks held, 1 when it did not.
 */
#include "pt_connect.h"
#include "pagetest_session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

#include "page_pattern.h"
#include "rswap_client.h"

/* Slack on the server's one-second tick and the guest's scheduling. */
#define SESSION_EARLY_MS 500
#define SESSION_LATE_S 5
/* A READ the server still served would complete in milliseconds. */
#define SESSION_READ_MS 3000
/* A keepalive sender's period, as a client's would be (well under 3 s). */
#define SESSION_KEEPALIVE_MS 1000

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static struct rswap_client *connect_as(const struct pt_session_opts *o,
				       const struct auth_key *key, const uint8_t *id,
				       const char *name, uint32_t flags, bool no_hello)
{
	struct rswap_client_opts co = { .hello_flags = flags, .no_hello = no_hello };
	struct rswap_client *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	if (pt_connect_opts(c, o->host, o->port, key, id, name, &co)) {
		fprintf(stderr, "%s: connect: %s\n", name, c->error);
		free(c);
		return NULL;
	}
	return c;
}

static void drop(struct rswap_client *c)
{
	if (!c)
		return;
	rswap_client_close(c);
	free(c);
}

/* Pages 0..n-1 of slab index @i on the current QP: how many differ. */
static long check_pages(struct rswap_client *c, uint32_t i, uint32_t n, uint64_t seed,
			uint8_t *buf, struct ibv_mr *mr)
{
	long bad = 0;
	uint32_t p;

	for (p = 0; p < n; p++) {
		if (rswap_client_read(c, i, p, buf, 1, mr)) {
			fprintf(stderr, "page %u: %s\n", p, c->error);
			return bad + 1;
		}
		bad += pattern_check(buf, seed, p) >= 0;
	}
	return bad;
}

int pagetest_replace(const struct pt_session_opts *o, const struct auth_key *key)
{
	uint8_t *buf = aligned_alloc(PATTERN_PAGE_SIZE, PATTERN_PAGE_SIZE);
	struct rswap_client *c1 = NULL, *c2 = NULL;
	struct ibv_mr *mr1 = NULL, *mr2 = NULL;
	uint8_t id[RSWAP_ID_LEN];
	uint32_t n, p, rkey;
	uint64_t addr;
	int slab, got, fails = 0;
	long bad;

	if (!buf || getrandom(id, sizeof(id), 0) != (ssize_t)sizeof(id))
		goto out;
	c1 = connect_as(o, key, id, "replace-1", 0, false);
	if (!c1)
		goto out;
	mr1 = rswap_client_reg(c1, buf, PATTERN_PAGE_SIZE);
	slab = rswap_client_grant(c1);
	if (!mr1 || slab < 0) {
		fprintf(stderr, "replace: setup: %s\n", mr1 ? c1->error : "ibv_reg_mr failed");
		goto out;
	}
	n = o->pages < c1->slab_size / PATTERN_PAGE_SIZE ? o->pages :
		(uint32_t)(c1->slab_size / PATTERN_PAGE_SIZE);
	for (p = 0; p < n; p++) {
		pattern_fill(buf, o->seed, p);
		if (rswap_client_write(c1, (uint32_t)slab, p, buf, 1, mr1)) {
			fprintf(stderr, "replace: write page %u: %s\n", p, c1->error);
			goto out;
		}
	}
	if (rswap_client_attach(c1, NULL) != 1) {
		fprintf(stderr, "replace: attach: %s\n", c1->error);
		goto out;
	}
	/* Both ways in work before: their failing later is the server's doing. */
	if (rswap_client_use_qp(c1, 1) || check_pages(c1, (uint32_t)slab, 1, o->seed, buf, mr1) ||
	    rswap_client_use_qp(c1, 0) || check_pages(c1, (uint32_t)slab, 1, o->seed, buf, mr1)) {
		fprintf(stderr, "replace: connection 1 cannot read its own slab\n");
		goto out;
	}
	addr = c1->slabs[slab].addr;
	rkey = c1->slabs[slab].rkey;
	printf("replace: connection 1 wrote %u pages into slab %u (rkey 0x%x), queue pair "
	       "attached\n", n, c1->slabs[slab].slab, rkey);

	c2 = connect_as(o, key, id, "replace-2", 0, false);
	if (!c2)
		goto out;
	printf("replace: connection 2 authenticated as the same client (holds %u slabs)\n",
	       c2->held);
	/* WELCOME is in: connection 1 must reach nothing any more. Its READs
	 * fail (remote access error, flushed) or are never answered. */
	if (!rswap_client_read_raw_timed(c1, addr, rkey, buf, mr1, SESSION_READ_MS)) {
		printf("replace: READ through connection 1 SUCCEEDED after connection 2 came\n");
		fails++;
	} else {
		printf("replace: READ through connection 1 failed: %s\n", c1->error);
	}
	if (rswap_client_use_qp(c1, 1) ||
	    !rswap_client_read_raw_timed(c1, addr, rkey, buf, mr1, SESSION_READ_MS)) {
		printf("replace: READ through connection 1's queue pair SUCCEEDED\n");
		fails++;
	} else {
		printf("replace: READ through connection 1's queue pair failed: %s\n", c1->error);
	}
	if (rswap_client_qp_ended(c1, 0, 10000)) {
		printf("replace: the server ended connection 1\n");
	} else {
		printf("replace: connection 1 NOT ended by the server\n");
		fails++;
	}
	if (rswap_client_qp_ended(c1, 1, 10000)) {
		printf("replace: the server ended connection 1's queue pair\n");
	} else {
		printf("replace: connection 1's queue pair NOT ended by the server\n");
		fails++;
	}

	got = rswap_client_reattach(c2);
	mr2 = rswap_client_reg(c2, buf, PATTERN_PAGE_SIZE);
	if (got != 1 || !mr2) {
		printf("replace: connection 2 reattached %d slabs (want 1): %s\n", got, c2->error);
		goto out;
	}
	bad = check_pages(c2, 0, n, o->seed, buf, mr2);
	printf("replace: connection 2 reattached slab %u (rkey 0x%x): %u pages read back, %ld "
	       "differ\n", c2->slabs[0].slab, c2->slabs[0].rkey, n, bad);
	fails += bad != 0;
	if (rswap_client_return(c2, 0)) {
		printf("replace: RETURN on connection 2: %s\n", c2->error);
		fails++;
	}
	goto out_ret;
out:
	fails++;
out_ret:
	if (mr2)
		ibv_dereg_mr(mr2);
	drop(c2);
	if (mr1)
		ibv_dereg_mr(mr1);
	drop(c1);
	free(buf);
	return fails ? 1 : 0;
}

int pagetest_keepalive(const struct pt_session_opts *o, const struct auth_key *key)
{
	uint64_t end = mono_ms() + (2ull * o->timeout_s + 2) * 1000;
	struct rswap_client *c;
	uint8_t id[RSWAP_ID_LEN];
	unsigned int sent = 0;
	int slab, ret = 1;

	if (getrandom(id, sizeof(id), 0) != (ssize_t)sizeof(id))
		return 1;
	c = connect_as(o, key, id, "keepalive", RSWAP_HELLO_KEEPALIVE, false);
	if (!c)
		return 1;
	while (mono_ms() < end) {
		usleep(SESSION_KEEPALIVE_MS * 1000);
		if (rswap_client_keepalive(c)) {
			printf("keepalive: KEEPALIVE %u not answered: %s\n", sent + 1, c->error);
			goto out;
		}
		sent++;
	}
	if (rswap_client_qp_ended(c, 0, 0)) {
		printf("keepalive: the server ENDED the connection\n");
		goto out;
	}
	slab = rswap_client_grant(c);
	if (slab < 0 || rswap_client_return(c, (uint32_t)slab)) {
		printf("keepalive: grant after %u keepalives: %s\n", sent, c->error);
		goto out;
	}
	printf("keepalive: %u KEEPALIVEs over %u s answered, still connected, grant works\n",
	       sent, 2 * o->timeout_s + 2);
	ret = 0;
out:
	drop(c);
	return ret;
}

/* Slab index 0 of a new connection of @id holds page 0 of @seed: 0 or -1. */
static int page_kept(const struct pt_session_opts *o, const struct auth_key *key,
		     const uint8_t *id, uint8_t *buf)
{
	struct rswap_client *c = connect_as(o, key, id, "silent-again", 0, false);
	struct ibv_mr *mr = NULL;
	int n = -1;
	long bad = 1;

	if (!c)
		return -1;
	n = rswap_client_reattach(c);
	mr = rswap_client_reg(c, buf, PATTERN_PAGE_SIZE);
	if (n == 1 && mr)
		bad = check_pages(c, 0, 1, o->seed, buf, mr);
	printf("silent: reconnected: %d slabs reattached (want 1), its page %s\n", n,
	       bad ? "NOT intact" : "intact");
	if (n == 1 && rswap_client_return(c, 0))
		bad = 1;
	if (mr)
		ibv_dereg_mr(mr);
	drop(c);
	return bad ? -1 : 0;
}

/* Connect with @flags (or without a HELLO) and say nothing (@hold: after a
 * page is stored): did the server end it after --timeout s, not before? */
static int expect_closed(const struct pt_session_opts *o, const struct auth_key *key,
			 const char *name, uint32_t flags, bool no_hello, bool hold)
{
	uint8_t *buf = aligned_alloc(PATTERN_PAGE_SIZE, PATTERN_PAGE_SIZE);
	struct rswap_client *c;
	uint8_t id[RSWAP_ID_LEN];
	uint64_t start, waited;
	struct ibv_mr *mr;
	int ended, slab;

	if (!buf || getrandom(id, sizeof(id), 0) != (ssize_t)sizeof(id)) {
		free(buf);
		return 1;
	}
	c = connect_as(o, key, id, name, flags, no_hello);
	if (!c) {
		free(buf);
		return 1;
	}
	if (hold) {
		mr = rswap_client_reg(c, buf, PATTERN_PAGE_SIZE);
		slab = rswap_client_grant(c);
		pattern_fill(buf, o->seed, 0);
		if (!mr || slab < 0 || rswap_client_write(c, (uint32_t)slab, 0, buf, 1, mr)) {
			fprintf(stderr, "%s: storing a page: %s\n", name, c->error);
			drop(c);
			free(buf);
			return 1;
		}
		ibv_dereg_mr(mr);
	}
	start = mono_ms();
	ended = rswap_client_qp_ended(c, 0, (int)((o->timeout_s + SESSION_LATE_S) * 1000));
	waited = mono_ms() - start;
	drop(c);
	if (ended && hold && page_kept(o, key, id, buf)) {
		free(buf);
		return 1;
	}
	free(buf);
	if (!ended) {
		printf("%s: NOT closed within %u s of silence\n", name, o->timeout_s + SESSION_LATE_S);
		return 1;
	}
	if (waited + SESSION_EARLY_MS < o->timeout_s * 1000ull) {
		printf("%s: closed TOO EARLY, after %.1f s (timeout %u s)\n", name,
		       (double)waited / 1000, o->timeout_s);
		return 1;
	}
	printf("%s: closed by the server after %.1f s of silence (timeout %u s)\n", name,
	       (double)waited / 1000, o->timeout_s);
	return 0;
}

int pagetest_silent(const struct pt_session_opts *o, const struct auth_key *key)
{
	return expect_closed(o, key, "silent", RSWAP_HELLO_KEEPALIVE, false, true);
}

int pagetest_mute(const struct pt_session_opts *o, const struct auth_key *key)
{
	return expect_closed(o, key, "mute", 0, true, false);
}

int pagetest_quiet(const struct pt_session_opts *o, const struct auth_key *key)
{
	unsigned int secs = 2 * o->timeout_s + 2;
	struct rswap_client *c;
	uint8_t id[RSWAP_ID_LEN];
	int ret = 1;

	if (getrandom(id, sizeof(id), 0) != (ssize_t)sizeof(id))
		return 1;
	c = connect_as(o, key, id, "quiet", 0, false);
	if (!c)
		return 1;
	if (rswap_client_qp_ended(c, 0, (int)secs * 1000)) {
		printf("quiet: a client without KEEPALIVE was CLOSED while silent\n");
	} else if (rswap_client_keepalive(c)) {
		printf("quiet: KEEPALIVE after %u s of silence not answered: %s\n", secs, c->error);
	} else {
		printf("quiet: silent %u s without the KEEPALIVE flag: still connected, answered\n",
		       secs);
		ret = 0;
	}
	drop(c);
	return ret;
}
