// SPDX-License-Identifier: GPL-2.0
/* drain: see drain.h; the arithmetic and the texts are drain_plan.c's. */
#include "drain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin_client.h"
#include "conn.h"
#include "migrate.h"

/* An EVACUATE unanswered this long counts as not moved. */
#define DRAIN_ANSWER_S 120
/* Every peer's admin API must answer within this, all of them at once:
 * the event loop waits for them, so a peer that trickles its answer (or
 * never answers) holds the server this long and no longer. */
#define DRAIN_PEER_TIMEOUT_MS 2000

int drain_init(struct server *s)
{
	struct drain *d = &s->drain;

	d->asked = calloc(s->pool.n_slabs, 1);
	d->left_reason = calloc(s->pool.max_clients, 1);
	d->no_room = calloc(s->pool.max_clients, sizeof(*d->no_room));
	return d->asked && d->left_reason && d->no_room ? 0 : -1;
}

void drain_fini(struct server *s)
{
	free(s->drain.asked);
	free(s->drain.left_reason);
	free(s->drain.no_room);
}

/* Ask every peer's admin API for its status, at once; @out[i] for peer i.
 * A peer's answer is believed only as far as drain_peer_check allows. */
static void ask_peers(struct server *s, struct peer_status *out)
{
	Rswap__StatusRequest sr = RSWAP__STATUS_REQUEST__INIT;
	Rswap__AdminRequest req = RSWAP__ADMIN_REQUEST__INIT;
	struct admin_target t[SETTINGS_PEERS_MAX] = { 0 };
	Rswap__AdminResponse *resp[SETTINGS_PEERS_MAX];
	char err[SETTINGS_PEERS_MAX][ADMIN_ERR_LEN];
	unsigned int i, n = s->set.n_peers;
	const char *bad;

	req.req_case = RSWAP__ADMIN_REQUEST__REQ_STATUS;
	req.status = &sr;
	for (i = 0; i < n; i++)
		t[i] = (struct admin_target){ .host = s->set.peers[i].host,
					      .port = s->set.peers[i].port };
	admin_call_all(t, n, &req, DRAIN_PEER_TIMEOUT_MS, resp, err);
	for (i = 0; i < n; i++) {
		const Rswap__ServerStatus *st = NULL;

		memset(&out[i], 0, sizeof(out[i]));
		out[i].addr = s->set.peers[i].text;
		if (resp[i] && resp[i]->resp_case == RSWAP__ADMIN_RESPONSE__RESP_STATUS)
			st = resp[i]->status;
		bad = st ? drain_peer_check(st->slab_bytes, st->slabs_total, st->slabs_free) :
			   resp[i] ? "no status in its answer" : err[i];
		if (bad) {
			log_msg(LOG_INFO, "peer %s: %s", s->set.peers[i].text, bad);
		} else {
			out[i].reachable = true;
			out[i].draining = st->draining;
			out[i].slab_bytes = st->slab_bytes;
			out[i].slabs_total = st->slabs_total;
			out[i].slabs_free = st->slabs_free;
		}
		if (resp[i])
			rswap__admin_response__free_unpacked(resp[i], NULL);
	}
}

/* Mark what a previous drain left outstanding as asked, and count it. */
static void recount_outstanding(struct server *s)
{
	struct conn *c;

	s->drain.outstanding = 0;
	for (c = s->conns; c; c = c->next) {
		if (c->evac_slab == POOL_NONE)
			continue;
		s->drain.asked[c->evac_slab] = 1;
		s->drain.outstanding++;
	}
}

int drain_start(struct server *s, bool rebalance, bool partial, char *err, size_t err_size)
{
	struct peer_status peers[SETTINGS_PEERS_MAX];
	struct drain *d = &s->drain;
	uint32_t held = s->pool.n_slabs - s->pool.n_free;
	char peers_text[SETTINGS_PEERS_MAX * 96];
	int64_t goal;
	uint64_t room;

	if (d->state == DRAIN_RUNNING) {
		if (d->rebalance == rebalance)
			return 0;
		snprintf(err, err_size, "a %s is running (rswapctl drain-status; undrain stops it)",
			 d->rebalance ? "rebalance" : "drain");
		return -1;
	}
	ask_peers(s, peers);
	room = drain_room(peers, s->set.n_peers, peers_text, sizeof(peers_text));
	if (rebalance)
		goal = rebalance_goal(held, s->pool.n_slabs, s->pool.slab_size, peers,
				      s->set.n_peers);
	else
		goal = drain_goal(held, s->pool.slab_size, s->set.n_peers, room, peers_text,
				  partial, err, err_size);
	if (goal < 0) {
		log_msg(LOG_INFO, "%s", err);
		return -1;
	}
	memset(d->asked, 0, s->pool.n_slabs);
	memset(d->left_reason, 0, s->pool.max_clients);
	memset(d->no_room, 0, s->pool.max_clients * sizeof(*d->no_room));
	d->state = DRAIN_RUNNING;
	d->rebalance = rebalance;
	if (!rebalance)
		d->refusing_grants = true;
	d->goal = (uint32_t)goal;
	d->moved = d->not_moved = d->failed = 0;
	d->bytes_moved = d->pages_copied = 0;
	d->started_ns = mono_ns();
	d->ended_ns = 0;
	d->note[0] = '\0';
	if (!s->set.n_peers)
		snprintf(d->note, sizeof(d->note), "no --peer configured: room not checked, "
			 "the clients find it");
	else if (!rebalance && (uint32_t)goal < held)
		snprintf(d->note, sizeof(d->note), "partial: the peers have room for %u of %u "
			 "slabs (%s)", (uint32_t)goal, held, peers_text);
	snprintf(d->message, sizeof(d->message), "%s", d->note);
	recount_outstanding(s);
	log_msg(LOG_INFO, "%s started: %u of %u slabs held here to move; peers: %s",
		rebalance ? "rebalance" : "drain", d->goal, held,
		s->set.n_peers ? peers_text : "none configured");
	drain_pump(s);
	return 0;
}

void drain_undrain(struct server *s)
{
	struct drain *d = &s->drain;

	d->refusing_grants = false;
	if (d->state == DRAIN_RUNNING) {
		d->state = DRAIN_DONE;
		d->ended_ns = mono_ns();
		snprintf(d->message, sizeof(d->message), "stopped by undrain after %u slabs moved",
			 d->moved);
	}
	log_msg(LOG_INFO, "undrain: granting slabs again");
}

/* What is left here, client by client, and why. */
static void finish(struct server *s)
{
	struct drain *d = &s->drain;
	struct drain_left *left = calloc(s->pool.max_clients, sizeof(*left));
	unsigned int n = 0;
	uint32_t i;
	char text[384];

	d->state = DRAIN_DONE;
	d->ended_ns = mono_ns();
	if (!left) {
		snprintf(d->message, sizeof(d->message), "done (out of memory for the details)");
		goto out;
	}
	for (i = 0; i < s->pool.max_clients; i++) {
		const struct pool_client *pc = &s->pool.clients[i];

		if (!pc->known || !pc->held)
			continue;
		left[n].client = pc->name;
		left[n].slabs = pc->held;
		if (d->no_room[i])
			left[n].reason = DRAIN_LEFT_NO_ROOM;
		else if (d->left_reason[i])
			left[n].reason = (enum drain_reason)(d->left_reason[i] - 1);
		else if (!conn_count_for(s, i))
			left[n].reason = DRAIN_LEFT_NOT_CONNECTED;
		else
			left[n].reason = DRAIN_LEFT_NOT_ASKED;
		n++;
	}
	if (d->rebalance) {
		snprintf(text, sizeof(text), "moved %u of %u slabs beyond the fair share",
			 d->moved, d->goal);
	} else {
		drain_left_text(text, sizeof(text), left, n);
	}
	snprintf(d->message, sizeof(d->message), "%s%s%s", text, d->note[0] ? "; " : "", d->note);
	free(left);
out:
	log_msg(LOG_INFO, "%s done: %u slabs moved, %u not moved, %llu pages copied: %s",
		d->rebalance ? "rebalance" : "drain", d->moved, d->not_moved,
		(unsigned long long)d->pages_copied, d->message);
	if (d->exit_when_done) {
		log_msg(LOG_INFO, "drain on stop finished: stopping");
		d->stop_on_tick = true;
	}
}

/* The next slab of @c's client to ask for, or POOL_NONE. */
static uint32_t next_to_ask(struct server *s, struct conn *c)
{
	uint32_t slab = POOL_NONE;

	/* Bounded: pool_next_held walks forward over the slab table. */
	while ((slab = pool_next_held(&s->pool, c->client, slab)) != POOL_NONE)
		if (!s->drain.asked[slab] && !migrate_busy(s, slab))
			return slab;
	return POOL_NONE;
}

void drain_pump(struct server *s)
{
	struct drain *d = &s->drain;
	bool waiting = false;	/* a connection to ask once it is ready */
	struct conn *c;

	if (d->state != DRAIN_RUNNING)
		return;
	for (c = s->conns; c && d->moved + d->outstanding < d->goal; c = c->next) {
		struct rswap_evacuate m;
		uint32_t slab;

		if (c->state != CONN_READY || c->evac_slab != POOL_NONE || d->no_room[c->client])
			continue;
		slab = next_to_ask(s, c);
		if (slab == POOL_NONE)
			continue;
		/* Until REATTACH, it cannot know the slab's new rkey. */
		if (!c->knows_slabs || c->reattaching) {
			waiting = true;
			continue;
		}
		memset(&m, 0, sizeof(m));
		rswap_hdr_init(&m.hdr, RSWAP_MSG_EVACUATE, (uint32_t)++s->evac_seq);
		m.slab = rswap_cpu32(slab);
		m.code = rswap_cpu32(d->rebalance ? RSWAP_EVAC_REBALANCE : RSWAP_EVAC_DRAIN);
		if (conn_send(c, &m, sizeof(m))) {
			waiting = true;		/* send slots busy: next time */
			continue;
		}
		d->asked[slab] = 1;
		d->outstanding++;
		c->evac_slab = slab;
		c->evac_sent_ns = mono_ns();
		s->stats.evacuations_total++;
		log_msg(LOG_DEBUG, "client %s: EVACUATE slab %u", c->name, slab);
	}
	if (!d->outstanding && !waiting)
		finish(s);
}

void drain_tick(struct server *s)
{
	uint64_t now = mono_ns();
	struct conn *c;

	/* A tick after the end: the last answers (RETURNED) have gone out. */
	if (s->drain.stop_on_tick)
		s->stop = true;
	for (c = s->conns; c; c = c->next) {
		if (c->evac_slab == POOL_NONE ||
		    now - c->evac_sent_ns < DRAIN_ANSWER_S * 1000000000ull)
			continue;
		log_msg(LOG_INFO, "client %s: no answer to EVACUATE of slab %u in %d s", c->name,
			c->evac_slab, DRAIN_ANSWER_S);
		c->evac_slab = POOL_NONE;
		if (s->drain.outstanding)
			s->drain.outstanding--;
		s->drain.not_moved++;
		s->drain.left_reason[c->client] = DRAIN_LEFT_NO_ANSWER + 1;
	}
	drain_pump(s);
}

void drain_on_not_moved(struct conn *c, const struct rswap_evacuate *m, uint32_t seq)
{
	struct server *s = c->srv;
	struct drain *d = &s->drain;
	uint32_t slab = rswap_le32(m->slab), code = rswap_le32(m->code);

	(void)seq;
	if (conn_send(c, m, sizeof(*m)))
		conn_close(s, c, "cannot echo NOT_MOVED");
	if (slab != c->evac_slab)
		return;		/* late, or about a slab we did not ask for */
	c->evac_slab = POOL_NONE;
	if (d->outstanding)
		d->outstanding--;
	d->not_moved++;
	if (code == RSWAP_ERR_NO_MEMORY)
		d->no_room[c->client] = true;
	else if (d->left_reason[c->client] != DRAIN_LEFT_FAILED + 1)
		d->left_reason[c->client] = DRAIN_LEFT_REFUSED + 1;
	log_msg(LOG_INFO, "client %s: slab %u not moved (code %u%s)", c->name, slab, code,
		code == RSWAP_ERR_NO_MEMORY ? ": no other server had room" : "");
	drain_pump(s);
}

void drain_on_return(struct conn *c, uint32_t slab)
{
	struct server *s = c->srv;
	struct drain *d = &s->drain;
	uint32_t pages = c->copied_slab == slab ? c->copied_pages : 0;

	if (c->copied_slab == slab)
		c->copied_slab = POOL_NONE;
	if (slab != c->evac_slab)
		return;
	c->evac_slab = POOL_NONE;
	if (d->outstanding)
		d->outstanding--;
	d->moved++;
	d->pages_copied += pages;
	d->bytes_moved += (uint64_t)pages * RSWAP_PAGE_SIZE;
	log_msg(LOG_DEBUG, "client %s: slab %u moved (%u pages copied)", c->name, slab, pages);
	drain_pump(s);
}

void drain_on_close(struct conn *c)
{
	struct drain *d = &c->srv->drain;

	if (c->evac_slab == POOL_NONE)
		return;
	/* Not an answer: the slab may be asked again, e.g. after a reconnect. */
	d->asked[c->evac_slab] = 0;
	c->evac_slab = POOL_NONE;
	if (d->outstanding)
		d->outstanding--;
}

void drain_on_migrated(struct server *s, uint64_t conn_serial, uint32_t slab, bool failed)
{
	struct conn *c = conn_by_serial(s, conn_serial);

	if (!failed || !c || c->evac_slab != slab)
		return;
	s->drain.failed++;
	s->drain.left_reason[c->client] = DRAIN_LEFT_FAILED + 1;
}
