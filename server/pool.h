/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pool: which slab of the donated memory belongs to which client.
 *
 * The donated memory is cut into n_slabs slabs of slab_size bytes; slab i is
 * at byte i * slab_size of the backing file. A slab is free or held by one
 * client. Clients are known by their 16-byte id; each may hold at most its
 * quota of slabs. Pure bookkeeping: no I/O, no RDMA, no allocation after
 * pool_init, so the metadata log replays into it and unit tests drive it.
 *
 * Scrub bookkeeping: every slab freed (pool_return) is marked dirty: it may
 * hold its last tenant's bytes. The server clears a dirty slab's bytes
 * (backing_scrub_slab) before it grants it again and only then calls
 * pool_slab_scrubbed; a slab handed back by REATTACH is never dirty, it is
 * still held. The bit is not in the log: at start-up every free slab is
 * marked dirty (pool_mark_free_dirty), as a crash may fall between a free
 * and its scrub.
 *
 * Client entries are removed (pool_client_remove) only when they hold no
 * slab: a forgotten or expired client, or one reclaimed for a newcomer.
 *
 * Errors are negated enum rswap_err codes, as the protocol reports them.
 */
#ifndef RSWAP_POOL_H
#define RSWAP_POOL_H

#include <stdbool.h>
#include <stdint.h>

#include "rswap_wire.h"

#define POOL_NONE UINT32_MAX

struct pool_client {
	uint8_t id[RSWAP_ID_LEN];
	char name[RSWAP_NAME_LEN];
	bool known;			/* slot in use */
	uint32_t quota;			/* slabs it may hold */
	uint32_t held;			/* slabs it holds */
	uint64_t grants_total;		/* slabs granted, over its lifetime */
	uint64_t returns_total;		/* slabs returned */
	uint64_t refused_quota_total;	/* grants refused: quota reached */
	uint64_t refused_memory_total;	/* grants refused: no free slab */
	uint64_t idle_since_ns;		/* mono_ns since which it has had no
					 * connection; 0 while it has one. Kept
					 * by the server (clients.c), not in
					 * the log: counts from the start */
};

struct pool {
	uint64_t slab_size;		/* bytes */
	uint32_t n_slabs;
	uint32_t n_free;
	uint32_t max_clients;
	uint32_t default_quota;		/* slabs, for clients added */
	uint32_t *owner;		/* per slab: client index or POOL_NONE */
	uint32_t next_hint;		/* where the search for a free slab starts */
	uint8_t *dirty;			/* per slab: 1 if freed and not scrubbed */
	uint32_t n_dirty;
	struct pool_client *clients;
};

/* Returns 0, or -1 with errno set (EINVAL for zero sizes, ENOMEM). */
int pool_init(struct pool *p, uint32_t n_slabs, uint64_t slab_size,
	      uint32_t max_clients, uint32_t default_quota);
void pool_fini(struct pool *p);

/* Index of the client with @id, or POOL_NONE. */
uint32_t pool_client_find(const struct pool *p, const uint8_t id[RSWAP_ID_LEN]);
/* Index of the client with @id, added if new; POOL_NONE if the table is full. */
uint32_t pool_client_get(struct pool *p, const uint8_t id[RSWAP_ID_LEN], const char *name);

/* Put the client @id at index @client (replaying the log): 0, or -1 if the
 * index is out of range or holds another client. */
int pool_client_put(struct pool *p, uint32_t client, const uint8_t id[RSWAP_ID_LEN],
		    const char *name);

/* Remove @client's entry (forgotten, expired, reclaimed): 0, or -1 if there
 * is no such client or it still holds slabs. */
int pool_client_remove(struct pool *p, uint32_t client);
/* Index of a client holding no slab for which @busy(@arg, index) is false,
 * idle the longest (lowest nonzero idle_since_ns, then lowest index), or
 * POOL_NONE. */
uint32_t pool_client_reclaimable(const struct pool *p, bool (*busy)(void *arg, uint32_t client),
				 void *arg);

/* Grant the lowest free slab to @client: slab number, or -RSWAP_ERR_QUOTA,
 * -RSWAP_ERR_NO_MEMORY, -RSWAP_ERR_NO_SLAB (no such client). */
int64_t pool_grant(struct pool *p, uint32_t client);
/* Grant @slab exactly (replaying the log): 0 or a negated rswap_err. The
 * quota is not checked: a log may hold grants made under a larger one. */
int pool_grant_slab(struct pool *p, uint32_t client, uint32_t slab);
/* @client gives @slab back: 0, or -RSWAP_ERR_NO_SLAB if it does not hold it. */
int pool_return(struct pool *p, uint32_t client, uint32_t slab);

/* The slab after @after (POOL_NONE to start) held by @client, or POOL_NONE. */
uint32_t pool_next_held(const struct pool *p, uint32_t client, uint32_t after);
/* Up to @max of the slabs @client holds, lowest first, into @slabs: how many.
 * Freeing every slab of a client (HELLO FRESH) takes them in such batches,
 * each made durable in the log before pool_return. */
uint32_t pool_held_slabs(const struct pool *p, uint32_t client, uint32_t *slabs, uint32_t max);

/* Scrub bookkeeping (see the top of the file). */
static inline bool pool_slab_dirty(const struct pool *p, uint32_t slab)
{
	return p->dirty[slab];
}
/* @slab's bytes are zero now. */
void pool_slab_scrubbed(struct pool *p, uint32_t slab);
/* Every free slab is dirty, every held one clean (start-up, after replay). */
void pool_mark_free_dirty(struct pool *p);
/* The dirty free slab after @after (POOL_NONE to start), or POOL_NONE. */
uint32_t pool_next_dirty(const struct pool *p, uint32_t after);

/* Slabs @client could still be granted: its quota left, or the free slabs. */
static inline uint32_t pool_grantable(const struct pool *p, uint32_t client)
{
	uint32_t left = p->clients[client].quota - p->clients[client].held;

	if (p->clients[client].held >= p->clients[client].quota)
		return 0;
	return left < p->n_free ? left : p->n_free;
}

static inline bool pool_slab_valid(const struct pool *p, uint32_t slab)
{
	return slab < p->n_slabs;
}

#endif
