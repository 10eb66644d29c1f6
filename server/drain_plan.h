/* SPDX-License-Identifier: GPL-2.0 */
/*
 * drain_plan: the arithmetic and the words of a drain or a rebalance, apart
 * from any I/O so the unit tests drive them: how much room the peers have,
 * how many slabs to move, and what a finished drain says remains and why.
 */
#ifndef RSWAP_DRAIN_PLAN_H
#define RSWAP_DRAIN_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a peer's admin API said about itself (or that it did not answer). */
struct peer_status {
	const char *addr;		/* its admin ADDR:PORT, for messages */
	bool reachable;
	bool draining;			/* takes no slabs */
	uint64_t slab_bytes;
	uint32_t slabs_total;
	uint32_t slabs_free;
};

/*
 * Is a peer's status (from the network: hostile until shown otherwise) one
 * a drain may plan with? NULL if so, else why not, for the log: a slab
 * size that is no server's (0, over 1 GiB, not a multiple of 4 KiB), more
 * free slabs than slabs, or more memory than DRAIN_PEER_BYTES_MAX, which
 * keeps every sum of peers' room far from overflowing.
 */
#define DRAIN_PEER_BYTES_MAX (1ull << 50)	/* 1 PiB */
const char *drain_peer_check(uint64_t slab_bytes, uint32_t slabs_total, uint32_t slabs_free);

/*
 * Free bytes of the reachable, non-draining peers. @text (may be NULL) gets
 * one entry each: "127.0.0.1:7482 8 free", "... draining", "... unreachable".
 */
uint64_t drain_room(const struct peer_status *peers, unsigned int n, char *text, size_t size);

/*
 * Slabs a drain moves: all @held (@slab_bytes each) if the @room fits them
 * (or no peer is configured: the clients decide), else what fits when
 * @partial; -1 with the refusal for a person in @err otherwise.
 */
int64_t drain_goal(uint32_t held, uint64_t slab_bytes, unsigned int n_peers, uint64_t room,
		   const char *peers_text, bool partial, char *err, size_t err_size);

/*
 * Slabs a rebalance moves away from here: those held beyond this server's
 * fair share of the pool's used memory, over itself and the reachable,
 * non-draining peers: capacity here * used / capacity, rounded up to slabs.
 */
uint32_t rebalance_goal(uint32_t held, uint32_t total, uint64_t slab_bytes,
			const struct peer_status *peers, unsigned int n);

/* Why a client's slabs are still here when a drain ends. */
enum drain_reason {
	DRAIN_LEFT_NOT_ASKED,		/* the goal was reached first */
	DRAIN_LEFT_NOT_CONNECTED,	/* no connection to ask over */
	DRAIN_LEFT_NO_ROOM,		/* NOT_MOVED: no other server had room */
	DRAIN_LEFT_REFUSED,		/* NOT_MOVED for another reason */
	DRAIN_LEFT_NO_ANSWER,		/* EVACUATE unanswered for 120 s */
	DRAIN_LEFT_FAILED,		/* the copy failed */
};

struct drain_left {
	const char *client;		/* name */
	uint32_t slabs;
	enum drain_reason reason;
};

/*
 * What remains here, for a person: "nothing remains here", or e.g.
 * "3 slabs of client host-a remain: no other server had room; 1 slab of
 * client host-b remains: client not connected".
 */
void drain_left_text(char *buf, size_t size, const struct drain_left *left, unsigned int n);

#endif
