/* SPDX-License-Identifier: GPL-2.0 */
/*
 * peers: what this server knows of the pool's other servers (--peer, their
 * admin API addresses): each one's status as it last answered, and the
 * RDMA address a copy to it goes to. A drain plans with it, and a MIGRATE
 * may copy only to one of these addresses (or to --copy-targets).
 *
 * One thread asks every peer at once (admin_call_all: one deadline,
 * PEERS_TIMEOUT_MS, for all of them) every PEERS_REFRESH_S and whenever
 * someone asks for a fresh round; the event loop never waits for a peer.
 * Rounds are numbered by ticket:
 *
 *   peers_refresh() takes ticket T (a round is wanted)
 *     -> the thread starts a round covering every ticket up to T
 *     -> the round ends: the snapshot is replaced, done = T, the loop is
 *        woken (peers_on_round in drain.c) and waiters in the copy threads
 *        are signalled.
 *
 * A round that is running when T is taken does not cover T: answers that
 * left a peer before the request are not taken for fresh ones.
 *
 * A peer's status is unauthenticated (status is a call anyone may make),
 * so what it says is only ever a hint: a drain believes room only as far
 * as drain_peer_check allows, and a copy to the address a peer names still
 * writes nothing until that server proves the pool key (migrate.c).
 */
#ifndef RSWAP_PEERS_H
#define RSWAP_PEERS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "drain_plan.h"
#include "peer_addr.h"
#include "settings.h"

/* Every peer, all at once, must answer within this. */
#define PEERS_TIMEOUT_MS 2000
/* A round this often even when nobody asks: the copy addresses stay fresh. */
#define PEERS_REFRESH_S 10

/* One peer as its last answer (or silence) left it. */
struct peer_seen {
	struct peer_status st;		/* st.addr: the --peer text */
	bool has_rdma;			/* @rdma is where a copy to it goes */
	struct peer_source rdma;
	char why[160];			/* unreachable or not believed: why */
};

struct peers {
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t cond;		/* a round wanted; a round ended */
	bool stop;
	uint64_t wanted;		/* the last ticket taken */
	uint64_t done;			/* every ticket up to this is covered */
	struct peer_seen seen[SETTINGS_PEERS_MAX];
	unsigned int n;
	const struct settings *set;	/* the server's: read-only for the thread */
	int wake_fd;			/* the loop's eventfd */
};

struct server;

/* Start the thread (no peers configured: nothing to start) and its first
 * round. 0, or -1 with @err. */
int peers_start(struct server *s, char *err, size_t err_size);
void peers_stop(struct server *s);

/* Ask for a round now; its ticket. Never blocks on a peer. */
uint64_t peers_refresh(struct peers *p);
/* Has the round covering @ticket ended? */
bool peers_covered(struct peers *p, uint64_t ticket);
/* The last round's view of every peer, copied into @out (n entries). */
unsigned int peers_snapshot(struct peers *p, struct peer_seen *out);

/* May a MIGRATE copy go to the RDMA address @ip? */
enum peers_verdict {
	PEERS_ALLOWED,			/* in --copy-targets, or a peer's address */
	PEERS_NOT_COPY_TARGET,		/* --copy-targets is set and it is not there */
	PEERS_NOT_PEER,			/* no peer's last answer names it */
	PEERS_NO_PEERS,			/* neither --peer nor --copy-targets */
};
/*
 * From any thread. An address not in the last round is looked for in a
 * fresh one, waited for up to @wait_ms (a peer that just started counts
 * once it answers); call it where waiting blocks nobody else.
 */
enum peers_verdict peers_copy_allowed(struct peers *p, int family, const uint8_t *ip,
				      int wait_ms);
const char *peers_verdict_text(enum peers_verdict v);

#endif
