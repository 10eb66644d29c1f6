/* SPDX-License-Identifier: GPL-2.0 */
/*
 * clients: the client table's lifecycle beyond the pool's bookkeeping.
 *
 * An entry is added at a client's first AUTH (clients_get) and stays while
 * the client holds slabs or has a connection. One that has neither is
 * removed, a FORGET record durable in the metadata log first, so a replay
 * agrees:
 *   - reclaimed, when a new client needs a slot and the table is full: the
 *     entry idle the longest goes (rswap.ko takes a new id at every load,
 *     so old ones pile up);
 *   - forgotten by the operator (clients_forget, 'rswapctl forget'): its
 *     slabs are freed first, each batch durable before the pool lets go,
 *     and scrubbed;
 *   - expired (clients_tick), forgotten the same way once disconnected for
 *     --client-expiry seconds. "Disconnected since" is kept in memory only:
 *     after a restart it counts from the server's start.
 * A connection counts as live from its authentication to its close; a
 * closing one (its memory regions already deregistered) keeps nothing.
 */
#ifndef RSWAP_CLIENTS_H
#define RSWAP_CLIENTS_H

#include <stddef.h>
#include <stdint.h>

#include "rswap_wire.h"

struct server;

/*
 * The pool index of client @id (named @name), added if new, reclaiming an
 * entry if the table is full. 0 with *@client set, or a negated rswap_err:
 * -RSWAP_ERR_NO_MEMORY (table full of clients with slabs or connections),
 * -RSWAP_ERR_INTERNAL (the metadata log failed; nothing changed).
 */
int clients_get(struct server *s, const uint8_t id[RSWAP_ID_LEN], const char *name,
		uint32_t *client);

/*
 * Forget the client @who (its name, or its id as 32 hex digits): free every
 * slab it holds, durably in the metadata log, scrub them, and remove its
 * entry from the table. Refused (-1, the reason in @err) while it has a
 * live connection or a copy of one of its slabs runs (migrate_busy), or
 * when @who names no client or several. 0 on success, with *@freed the
 * number of slabs freed (also set on failure: those freed before it).
 */
int clients_forget(struct server *s, const char *who, uint32_t *freed, char *err,
		   size_t err_size);

/*
 * Every second: note which clients have gone (their "disconnected since"),
 * forget those disconnected past --client-expiry, scrub freed slabs (their
 * pages go back to the system), and compact the metadata log if it has
 * grown enough.
 */
void clients_tick(struct server *s);

#endif
