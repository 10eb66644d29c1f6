/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rswap_lifecycle: the states of a slab-table entry and of a server, and
 * which transitions between them are allowed. Pure tables, shared by the
 * module (rswap_slabs.c and rswap_server.c own the one function each that
 * changes a state, and refuse with a warning whatever is not listed here)
 * and the userspace unit tests.
 *
 * A slab-table entry (struct rswap_slab). The map names a page by (entry,
 * slot); the entry names where that slab lives now (server, remote slab,
 * rkey, address). Only ACTIVE entries take new pages.
 *
 *             grant                    move starts
 *   FREE ----------------> ACTIVE -----------------------> FROZEN
 *    | |                    | ^  <---- moved, or aborted ---- |
 *    | |        server down | | reattached                    | server down
 *    | |                    v |                               |
 *    | |                  DETACHED <--------------------------+
 *    | |                    | loss_timeout, or not listed when it reconnects
 *    | |                    v
 *    | |                   LOST ---- listed after all ----> DETACHED
 *    | |
 *    | +-- grant for a move --> FILLING -- aborted, or done and the old
 *    |                                     copy's reads drained --+
 *    +-- a slab a server lists that we do not know --------+     |
 *    |                                                     v     v
 *    |                        ACTIVE (empty, surplus) / any (device goes)
 *    |                                                  ---> RETURNING
 *    +-- grant for a new copy --> COPYING -- filled --> ACTIVE
 *                                   +---- failed -----> RETURNING
 *   RETURNING --RETURNED--> FREE; empty DETACHED or LOST, unlisted FILLING,
 *   COPYING or RETURNING --> FREE
 *
 *   FREE       unused.
 *   ACTIVE     granted, reachable: takes new pages, serves reads.
 *   FROZEN     being moved to another server: serves reads, takes no new
 *              pages (rewrites of its pages take slots elsewhere).
 *   FILLING    a slab granted as a move's target and being filled by the
 *              copy, server to server; no page of the map names it. When
 *              the move succeeds the entry takes over the *old* copy's
 *              location and stays FILLING until reads of it have drained.
 *   COPYING    a slab granted as a new copy of a set that lost one (or
 *              was made with too few; rswap_copies.c) and being filled
 *              server to server from a live copy: serves no reads, takes
 *              no pages; ACTIVE, a copy like the others, once the fill is
 *              confirmed.
 *   RETURNING  to be given back; names no page (or, as the device goes,
 *              pages nobody will read). RETURN is retried whenever its
 *              server is usable, until the server confirms (or says the
 *              slab is not ours). This is the one list of slabs owed to
 *              servers: nothing the module means to give back lives
 *              anywhere else.
 *   DETACHED   its server is down, or listed by a connection not READY
 *              yet: pages kept, reads wait. Listed entries become ACTIVE
 *              only together with their server's READY, so a connect that
 *              fails half-way never leaves a slab ACTIVE on a server that
 *              is not.
 *   LOST       its server lost it (declared lost after loss_timeout, or
 *              came back without it): reads fail page by page. If the
 *              server lists it after all, it is DETACHED, then ACTIVE with
 *              the server's READY.
 *
 * Leaving FREE counts the entry in its server's slab count, entering FREE
 * uncounts it; entering and leaving ACTIVE switches slot allocation on and
 * off (rswap_slabs.c, slab_set_state).
 *
 * A server (struct rswap_server):
 *
 *   DOWN --connected, authenticated, reattached--> READY --error--> DOWN
 *    |  ^                                           ^
 *    |  +-- (never: LOST stays LOST until READY)    | back, with or
 *    +-- loss_timeout passed --> LOST --------------+ without our slabs
 *   any --removed by the administrator or the device going--> REMOVED
 *
 *   DOWN       not connected; reconnect pending (backoff never past the
 *              loss deadline). Its slabs are DETACHED: reads wait.
 *   READY      connected, authenticated, slabs attached.
 *   LOST       down for longer than loss_timeout: its slabs with pages
 *              are LOST (reads fail). Reconnects go on; if it comes back
 *              with them they are reattached.
 *   REMOVED    terminal: being freed; no work may be queued for it.
 */
#ifndef RSWAP_LIFECYCLE_H
#define RSWAP_LIFECYCLE_H

#ifndef __KERNEL__
#include <stdbool.h>
#endif

enum rswap_slab_state {
	RSWAP_SLAB_FREE = 0,
	RSWAP_SLAB_ACTIVE,
	RSWAP_SLAB_FROZEN,
	RSWAP_SLAB_FILLING,
	RSWAP_SLAB_RETURNING,
	RSWAP_SLAB_DETACHED,
	RSWAP_SLAB_LOST,
	RSWAP_SLAB_COPYING,
	RSWAP_SLAB_NR_STATES
};

enum rswap_server_state {
	RSWAP_SRV_DOWN = 0,
	RSWAP_SRV_READY,
	RSWAP_SRV_LOST,
	RSWAP_SRV_REMOVED,
	RSWAP_SRV_NR_STATES
};

static inline const char *rswap_slab_state_name(enum rswap_slab_state st)
{
	switch (st) {
	case RSWAP_SLAB_FREE:
		return "free";
	case RSWAP_SLAB_ACTIVE:
		return "active";
	case RSWAP_SLAB_FROZEN:
		return "frozen";
	case RSWAP_SLAB_FILLING:
		return "filling";
	case RSWAP_SLAB_RETURNING:
		return "returning";
	case RSWAP_SLAB_DETACHED:
		return "detached";
	case RSWAP_SLAB_LOST:
		return "lost";
	case RSWAP_SLAB_COPYING:
		return "copying";
	default:
		return "?";
	}
}

static inline const char *rswap_server_state_name(enum rswap_server_state st)
{
	switch (st) {
	case RSWAP_SRV_DOWN:
		return "down";
	case RSWAP_SRV_READY:
		return "ready";
	case RSWAP_SRV_LOST:
		return "lost";
	case RSWAP_SRV_REMOVED:
		return "removed";
	default:
		return "?";
	}
}

/* May a slab-table entry go from @from to @to? (The diagram above.) */
static inline bool rswap_slab_may(enum rswap_slab_state from, enum rswap_slab_state to)
{
	switch (from) {
	case RSWAP_SLAB_FREE:
		return to == RSWAP_SLAB_ACTIVE || to == RSWAP_SLAB_FILLING ||
		       to == RSWAP_SLAB_RETURNING || to == RSWAP_SLAB_COPYING;
	case RSWAP_SLAB_COPYING:
		return to == RSWAP_SLAB_ACTIVE || to == RSWAP_SLAB_RETURNING ||
		       to == RSWAP_SLAB_FREE;
	case RSWAP_SLAB_ACTIVE:
		return to == RSWAP_SLAB_FROZEN || to == RSWAP_SLAB_RETURNING ||
		       to == RSWAP_SLAB_DETACHED;
	case RSWAP_SLAB_FROZEN:
		return to == RSWAP_SLAB_ACTIVE || to == RSWAP_SLAB_RETURNING ||
		       to == RSWAP_SLAB_DETACHED;
	case RSWAP_SLAB_FILLING:
		return to == RSWAP_SLAB_RETURNING || to == RSWAP_SLAB_FREE;
	case RSWAP_SLAB_RETURNING:
		return to == RSWAP_SLAB_FREE;
	case RSWAP_SLAB_DETACHED:
		return to == RSWAP_SLAB_ACTIVE || to == RSWAP_SLAB_LOST ||
		       to == RSWAP_SLAB_FREE || to == RSWAP_SLAB_RETURNING;
	case RSWAP_SLAB_LOST:
		return to == RSWAP_SLAB_DETACHED || to == RSWAP_SLAB_FREE;
	default:
		return false;
	}
}

/* May a server go from @from to @to? REMOVED is terminal. */
static inline bool rswap_server_may(enum rswap_server_state from, enum rswap_server_state to)
{
	switch (from) {
	case RSWAP_SRV_DOWN:
		return to == RSWAP_SRV_READY || to == RSWAP_SRV_LOST || to == RSWAP_SRV_REMOVED;
	case RSWAP_SRV_READY:
		return to == RSWAP_SRV_DOWN || to == RSWAP_SRV_REMOVED;
	case RSWAP_SRV_LOST:
		return to == RSWAP_SRV_READY || to == RSWAP_SRV_REMOVED;
	default:
		return false;
	}
}

#endif
