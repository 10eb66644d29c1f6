// SPDX-License-Identifier: GPL-2.0
/* drain: see drain.h; the arithmetic and the texts are drain_plan.c's. */
#include "drain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conn.h"
#include "migrate.h"

/* An EVACUATE unanswered this long counts as not moved. */
#define DRAIN_ANSWER_S 120
/* Times a slab is asked in one drain when its move fails (not for want of room). */
#define DRAIN_TRIES 3
/* asked[]: EVACUATE sent; or its move failed, and it is to be asked again. */
#define DRAIN_ASKED 1
#define DRAIN_ASK_AGAIN 2

int drain_init(struct server *s)
{
	struct drain *d = &s->drain;

	d->asked = calloc(s->pool.n_slabs, 1);
	d->tries = calloc(s->pool.n_slabs, 1);
	d->left_reason = calloc(s->pool.max_clients, 1);
	d->no_room = calloc(s->pool.max_clients, sizeof(*d->no_room));
	return d->asked && d->tries && d->left_reason && d->no_room ? 0 : -1;
}

void drain_fini(struct server *s)
{
	free(s->drain.asked);
	free(s->drain.tries);
	free(s->drain.left_reason);
	free(s->drain.no_room);
}

/* The peers as the last round of queries saw them (peers.h), for the plan:
 * believed only as far as drain_peer_check allowed. */
static unsigned int peers_status(struct server *s, struct peer_status *out)
{
	struct peer_seen seen[SETTINGS_PEERS_MAX];
	unsigned int i, n = peers_snapshot(&s->peers, seen);

	for (i = 0; i < n; i++)
		out[i] = seen[i].st;
	return n;
}

/* @c's outstanding EVACUATE of @slab (POOL_NONE: a free entry), or NULL. */
static struct conn_evac *evac_of(struct conn *c, uint32_t slab)
{
	unsigned int i;

	for (i = 0; i < RSWAP_MOVES_IN_FLIGHT; i++)
		if (c->evac[i].slab == slab)
			return &c->evac[i];
	return NULL;
}

/* An EVACUATE answered, or given up: its entry is free again. */
static void evac_end(struct drain *d, struct conn_evac *e)
{
	e->slab = POOL_NONE;
	e->copied_pages = 0;
	if (d->outstanding)
		d->outstanding--;
}

/* Mark what a previous drain left outstanding as asked, and count it. */
static void recount_outstanding(struct server *s)
{
	struct conn *c;
	unsigned int i;

	s->drain.outstanding = 0;
	for (c = s->conns; c; c = c->next) {
		for (i = 0; i < RSWAP_MOVES_IN_FLIGHT; i++) {
			if (c->evac[i].slab == POOL_NONE)
				continue;
			s->drain.asked[c->evac[i].slab] = DRAIN_ASKED;
			s->drain.outstanding++;
		}
	}
}

/* Plan with what the peers said and start, or refuse: 0, or -1 with @err. */
static int plan_and_start(struct server *s, bool rebalance, bool partial, char *err,
			  size_t err_size)
{
	struct peer_status peers[SETTINGS_PEERS_MAX];
	struct drain *d = &s->drain;
	uint32_t held = s->pool.n_slabs - s->pool.n_free;
	unsigned int n_peers = peers_status(s, peers);
	char peers_text[SETTINGS_PEERS_MAX * 96];
	int64_t goal;
	uint64_t room;

	room = drain_room(peers, n_peers, peers_text, sizeof(peers_text));
	if (rebalance)
		goal = rebalance_goal(held, s->pool.n_slabs, s->pool.slab_size, peers, n_peers);
	else
		goal = drain_goal(held, s->pool.slab_size, n_peers, room, peers_text, partial, err,
				  err_size);
	if (goal < 0) {
		log_msg(LOG_INFO, "%s", err);
		return -1;
	}
	memset(d->asked, 0, s->pool.n_slabs);
	memset(d->tries, 0, s->pool.n_slabs);
	d->ask_again = 0;
	memset(d->left_reason, 0, s->pool.max_clients);
	memset(d->no_room, 0, s->pool.max_clients * sizeof(*d->no_room));
	d->state = DRAIN_RUNNING;
	d->rebalance = rebalance;
	if (!rebalance)
		d->refusing_grants = true;
	d->goal = (uint32_t)goal;
	d->fair_share = rebalance ? held - (uint32_t)goal : 0;
	d->moved = d->not_moved = d->failed = 0;
	d->bytes_moved = d->pages_copied = 0;
	d->started_ns = mono_ns();
	d->ended_ns = 0;
	d->note[0] = '\0';
	if (!n_peers)
		snprintf(d->note, sizeof(d->note), "no --peer configured: room not checked, "
			 "the clients find it among --copy-targets");
	else if (!rebalance && (uint32_t)goal < held)
		snprintf(d->note, sizeof(d->note), "partial: the peers have room for %u of %u "
			 "slabs (%s)", (uint32_t)goal, held, peers_text);
	snprintf(d->message, sizeof(d->message), "%s", d->note);
	recount_outstanding(s);
	log_msg(LOG_INFO, "%s started: %u of %u slabs held here to move; peers: %s",
		rebalance ? "rebalance" : "drain", d->goal, held,
		n_peers ? peers_text : "none configured");
	drain_pump(s);
	return 0;
}

int drain_start(struct server *s, bool rebalance, bool partial, char *err, size_t err_size)
{
	struct drain *d = &s->drain;
	const char *kind = rebalance ? "rebalance" : "drain";

	if (d->state == DRAIN_RUNNING || d->asking) {
		bool running_rebalance = d->asking ? d->ask_rebalance : d->rebalance;

		if (running_rebalance == rebalance)
			return d->asking ? 1 : 0;
		snprintf(err, err_size, "a %s is %s (rswapctl drain-status; undrain stops it)",
			 running_rebalance ? "rebalance" : "drain",
			 d->asking ? "asking its peers for room" : "running");
		return -1;
	}
	if (!s->set.n_peers && !s->set.n_copy_targets && !s->set.copy_targets_any) {
		snprintf(err, err_size, "%s refused: this server has no --peer, so no server a "
			 "slab could be copied to (copies go only to the peers' listen addresses, "
			 "or to --copy-targets)", kind);
		log_msg(LOG_INFO, "%s", err);
		return -1;
	}
	if (!s->set.n_peers)
		return plan_and_start(s, rebalance, partial, err, err_size);
	/* The answer comes with the round this ticket asks for: the loop
	 * serves everyone else meanwhile (drain_on_peers). */
	d->asking = true;
	d->ask_rebalance = rebalance;
	d->ask_partial = partial;
	d->ask_ticket = peers_refresh(&s->peers);
	return 1;
}

void drain_on_peers(struct server *s)
{
	struct drain *d = &s->drain;
	char err[1024];
	int ret;

	if (!d->asking || !peers_covered(&s->peers, d->ask_ticket))
		return;
	d->asking = false;
	ret = plan_and_start(s, d->ask_rebalance, d->ask_partial, err, sizeof(err));
	admin_drain_decided(s, ret ? err : NULL);
	if (!d->exit_when_done)
		return;
	if (ret) {
		log_msg(LOG_ERR, "SIGTERM: cannot drain (%s): stopping", err);
		s->stop = true;
	} else if (d->state == DRAIN_RUNNING) {
		log_msg(LOG_INFO, "SIGTERM: draining before stopping (SIGTERM again stops at "
			"once)");
	}
}

void drain_undrain(struct server *s)
{
	struct drain *d = &s->drain;

	d->refusing_grants = false;
	if (d->asking) {
		d->asking = false;
		admin_drain_decided(s, "undrain came before the peers answered: nothing "
				    "started");
	}
	if (d->state == DRAIN_RUNNING) {
		d->state = DRAIN_DONE;
		d->ended_ns = mono_ns();
		snprintf(d->message, sizeof(d->message), "stopped by undrain after %u slabs moved",
			 d->moved);
	}
	log_msg(LOG_INFO, "undrain: granting slabs again");
}

/* Slabs still to ask for and move: the goal's rest, and a rebalance's no
 * more than what is held beyond its fair share now. */
static uint32_t still_to_move(const struct server *s)
{
	const struct drain *d = &s->drain;
	uint32_t held = s->pool.n_slabs - s->pool.n_free;
	uint32_t rest = d->goal > d->moved ? d->goal - d->moved : 0;

	if (!d->rebalance)
		return rest;
	if (held <= d->fair_share)
		return 0;
	return rest < held - d->fair_share ? rest : held - d->fair_share;
}

uint32_t drain_remaining(const struct server *s)
{
	return s->drain.rebalance ? still_to_move(s) : s->pool.n_slabs - s->pool.n_free;
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
		snprintf(text, sizeof(text), "moved %u of %u slabs beyond the fair share%s",
			 d->moved, d->goal, d->moved < d->goal && !drain_remaining(s) ?
			 " (the clients gave the others back meanwhile)" : "");
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
	/*
	 * Up to RSWAP_MOVES_IN_FLIGHT slabs asked of each client at once, and
	 * no more in all than copies may run here (--max-copies): one more
	 * would be refused and left behind.
	 */
	for (c = s->conns; c && d->outstanding < still_to_move(s) &&
	     d->outstanding < s->set.max_copies; c = c->next) {
		struct conn_evac *e;

		if (c->state != CONN_READY || d->no_room[c->client])
			continue;
		while (d->outstanding < still_to_move(s) && d->outstanding < s->set.max_copies &&
		       (e = evac_of(c, POOL_NONE))) {
			struct rswap_evacuate m;
			uint32_t slab = next_to_ask(s, c);

			if (slab == POOL_NONE)
				break;
			/* Until REATTACH, it cannot know the slab's new rkey. */
			if (!c->knows_slabs || c->reattaching) {
				waiting = true;
				break;
			}
			memset(&m, 0, sizeof(m));
			rswap_hdr_init(&m.hdr, RSWAP_MSG_EVACUATE, (uint32_t)++s->evac_seq);
			m.slab = rswap_cpu32(slab);
			m.code = rswap_cpu32(d->rebalance ? RSWAP_EVAC_REBALANCE :
							   RSWAP_EVAC_DRAIN);
			if (conn_send(c, &m, sizeof(m))) {
				waiting = true;		/* send slots busy: next time */
				break;
			}
			d->asked[slab] = DRAIN_ASKED;
			d->outstanding++;
			e->slab = slab;
			e->copied_pages = 0;
			e->sent_ns = mono_ns();
			s->stats.evacuations_total++;
			log_msg(LOG_DEBUG, "client %s: EVACUATE slab %u", c->name, slab);
		}
	}
	if (!d->outstanding && !waiting && !d->ask_again)
		finish(s);
}

void drain_tick(struct server *s)
{
	uint64_t now = mono_ns();
	struct conn *c;
	unsigned int i;

	/* A tick after the end: the last answers (RETURNED) have gone out. */
	if (s->drain.stop_on_tick)
		s->stop = true;
	/* Moves that failed a tick ago: asked again now. */
	for (i = 0; s->drain.ask_again && i < s->pool.n_slabs; i++) {
		if (s->drain.asked[i] != DRAIN_ASK_AGAIN)
			continue;
		s->drain.asked[i] = 0;
		s->drain.ask_again--;
	}
	for (c = s->conns; c; c = c->next) {
		for (i = 0; i < RSWAP_MOVES_IN_FLIGHT; i++) {
			struct conn_evac *e = &c->evac[i];

			if (e->slab == POOL_NONE ||
			    now - e->sent_ns < DRAIN_ANSWER_S * 1000000000ull)
				continue;
			log_msg(LOG_INFO, "client %s: no answer to EVACUATE of slab %u in %d s",
				c->name, e->slab, DRAIN_ANSWER_S);
			evac_end(&s->drain, e);
			s->drain.not_moved++;
			s->drain.left_reason[c->client] = DRAIN_LEFT_NO_ANSWER + 1;
		}
	}
	drain_pump(s);
}

void drain_on_not_moved(struct conn *c, const struct rswap_evacuate *m, uint32_t seq)
{
	struct server *s = c->srv;
	struct drain *d = &s->drain;
	uint32_t slab = rswap_le32(m->slab), code = rswap_le32(m->code);
	struct conn_evac *e = slab == POOL_NONE ? NULL : evac_of(c, slab);

	(void)seq;
	if (conn_send(c, m, sizeof(*m)))
		conn_close(s, c, "cannot echo NOT_MOVED");
	if (!e)
		return;		/* late, or about a slab we did not ask for */
	evac_end(d, e);
	if (code != RSWAP_ERR_NO_MEMORY && d->state == DRAIN_RUNNING &&
	    ++d->tries[slab] < DRAIN_TRIES) {
		d->asked[slab] = DRAIN_ASK_AGAIN;
		d->ask_again++;
		log_msg(LOG_INFO, "client %s: slab %u not moved (code %u): asking again", c->name,
			slab, code);
		drain_pump(s);
		return;
	}
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
	struct conn_evac *e = slab == POOL_NONE ? NULL : evac_of(c, slab);
	uint32_t pages;

	if (!e)
		return;
	pages = e->copied_pages;
	evac_end(d, e);
	d->moved++;
	d->pages_copied += pages;
	d->bytes_moved += (uint64_t)pages * RSWAP_PAGE_SIZE;
	log_msg(LOG_DEBUG, "client %s: slab %u moved (%u pages copied)", c->name, slab, pages);
	drain_pump(s);
}

void drain_on_close(struct conn *c)
{
	struct drain *d = &c->srv->drain;
	unsigned int i;

	for (i = 0; i < RSWAP_MOVES_IN_FLIGHT; i++) {
		if (c->evac[i].slab == POOL_NONE)
			continue;
		/* Not an answer: the slab may be asked again, e.g. after a reconnect. */
		d->asked[c->evac[i].slab] = 0;
		evac_end(d, &c->evac[i]);
	}
}

void drain_on_migrated(struct server *s, uint64_t conn_serial, uint32_t slab, bool failed,
		       uint32_t pages)
{
	struct conn *c = conn_by_serial(s, conn_serial);
	struct conn_evac *e = c && slab != POOL_NONE ? evac_of(c, slab) : NULL;

	if (!e)
		return;
	e->copied_pages = failed ? 0 : pages;
	if (!failed)
		return;
	s->drain.failed++;
	s->drain.left_reason[c->client] = DRAIN_LEFT_FAILED + 1;
}
