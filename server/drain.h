/* SPDX-License-Identifier: GPL-2.0 */
/*
 * drain: empty this server (drain) or bring it down to its fair share of
 * the pool (rebalance) by asking the clients that own its slabs to move
 * them (EVACUATE in proto/rswap_wire.h); the pages go server to server
 * (migrate.h). Nothing here changes the slab table: a slab leaves only when
 * its client RETURNs it, after it points at the copy, so an interrupted
 * drain loses nothing.
 *
 * Up to RSWAP_MOVES_IN_FLIGHT EVACUATEs are outstanding per connection,
 * so the client moves several slabs at once; each until the client
 * RETURNs the slab (moved), answers NOT_MOVED (not moved; for lack of room
 * its connection is not asked again), the connection ends (the slab may be
 * asked again), or DRAIN_ANSWER_S pass (not moved). A slab the client
 * could not move for a failure (NOT_MOVED INTERNAL: a copy refused because
 * too many run here, or failed) is asked again at the next tick, up to
 * DRAIN_TRIES times in a drain. The pump sends the next
 * ones; it runs when a drain starts, on each answer, when a connection
 * becomes usable, and every second.
 */
#ifndef RSWAP_DRAIN_H
#define RSWAP_DRAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "drain_plan.h"
#include "rswap_wire.h"

struct server;
struct conn;

enum drain_state {
	DRAIN_IDLE,			/* none since the start */
	DRAIN_RUNNING,
	DRAIN_DONE,
};

struct drain {
	enum drain_state state;
	bool rebalance;			/* else a drain */
	bool refusing_grants;		/* a drain ran: no grants until undrain */
	bool exit_when_done;		/* --drain-on-stop: stop the server after */
	bool stop_on_tick;		/* done: stop at the next tick */
	/* Started, waiting for the peers' room (a round of peers.h): the
	 * state stays what it was until the plan is made. */
	bool asking;
	bool ask_rebalance, ask_partial;
	uint64_t ask_ticket;
	uint32_t goal;			/* slabs to move */
	uint32_t fair_share;		/* rebalance: slabs this server keeps (held - goal) */
	uint32_t moved;			/* RETURNed after an EVACUATE */
	uint32_t not_moved;
	uint32_t outstanding;		/* EVACUATEs unanswered */
	uint32_t failed;		/* copies of evacuated slabs that failed */
	uint64_t bytes_moved;
	uint64_t pages_copied;
	uint64_t started_ns, ended_ns;
	uint8_t *asked;			/* per slab: DRAIN_ASKED, DRAIN_ASK_AGAIN, or 0 */
	uint8_t *tries;			/* per slab: NOT_MOVED for a failure, in this drain */
	uint32_t ask_again;		/* slabs DRAIN_ASK_AGAIN: asked at the next tick */
	uint8_t *left_reason;		/* per client: enum drain_reason + 1, or 0 */
	bool *no_room;			/* per client: do not ask it again */
	char note[1700];		/* said with the result (no peers, partial) */
	char message[2200];		/* why it stopped, what remains */
};

int drain_init(struct server *s);
void drain_fini(struct server *s);

/*
 * Start a drain (@rebalance false) or a rebalance. With --peer, the peers
 * are asked for room first, without blocking: 1, and the decision comes
 * later through admin_drain_decided() (within the peers' round, at most
 * 2 * PEERS_TIMEOUT_MS). Without: 0 (started), or -1 with the refusal in
 * @err. A refused drain changes nothing; one of the same kind already
 * running or asking is joined (0 or 1); a server with neither --peer nor
 * --copy-targets has nowhere to copy to and refuses.
 */
int drain_start(struct server *s, bool rebalance, bool partial, char *err, size_t err_size);
/* A round of peer queries ended: make the plan a drain_start waits for. */
void drain_on_peers(struct server *s);
/* Take grants again; a running drain stops asking. */
void drain_undrain(struct server *s);
/* Send EVACUATEs while the goal allows; end the drain when nothing is left to ask. */
void drain_pump(struct server *s);
/* Every second: EVACUATEs unanswered too long count as not moved. */
void drain_tick(struct server *s);

static inline bool drain_refuses_grants(const struct drain *d)
{
	return d->refusing_grants;
}

/* In admin.c: answer every admin call waiting for drain_start's decision
 * (@refusal NULL: started; the drain status then). */
void admin_drain_decided(struct server *s, const char *refusal);

/* From conn.c and migrate.c: */
void drain_on_not_moved(struct conn *c, const struct rswap_evacuate *m, uint32_t seq);
void drain_on_return(struct conn *c, uint32_t slab);
void drain_on_close(struct conn *c);
void drain_on_migrated(struct server *s, uint64_t conn_serial, uint32_t slab, bool failed,
		       uint32_t pages);

/*
 * What a drain or rebalance has left (drain-status's slabs_remaining): a
 * drain's, every slab still held here; a rebalance's, the rest of its goal,
 * but no more than is held beyond the fair share now, since clients give
 * slabs back on their own meanwhile (0 then: the rebalance did its job).
 */
uint32_t drain_remaining(const struct server *s);

#endif
