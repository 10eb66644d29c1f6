// SPDX-License-Identifier: GPL-2.0
/* pool: slab ownership and quotas; see pool.h. */
#include "pool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int pool_init(struct pool *p, uint32_t n_slabs, uint64_t slab_size,
	      uint32_t max_clients, uint32_t default_quota)
{
	uint32_t i;

	memset(p, 0, sizeof(*p));
	if (!n_slabs || !slab_size || !max_clients || n_slabs == POOL_NONE) {
		errno = EINVAL;
		return -1;
	}
	p->owner = malloc(sizeof(*p->owner) * n_slabs);
	p->clients = calloc(max_clients, sizeof(*p->clients));
	p->dirty = calloc(n_slabs, sizeof(*p->dirty));
	if (!p->owner || !p->clients || !p->dirty) {
		pool_fini(p);
		errno = ENOMEM;
		return -1;
	}
	for (i = 0; i < n_slabs; i++)
		p->owner[i] = POOL_NONE;
	p->n_slabs = n_slabs;
	p->n_free = n_slabs;
	p->slab_size = slab_size;
	p->max_clients = max_clients;
	p->default_quota = default_quota;
	return 0;
}

void pool_fini(struct pool *p)
{
	free(p->owner);
	free(p->clients);
	free(p->dirty);
	p->owner = NULL;
	p->clients = NULL;
	p->dirty = NULL;
}

uint32_t pool_client_find(const struct pool *p, const uint8_t id[RSWAP_ID_LEN])
{
	uint32_t i;

	for (i = 0; i < p->max_clients; i++)
		if (p->clients[i].known && !memcmp(p->clients[i].id, id, RSWAP_ID_LEN))
			return i;
	return POOL_NONE;
}

uint32_t pool_client_get(struct pool *p, const uint8_t id[RSWAP_ID_LEN], const char *name)
{
	uint32_t i = pool_client_find(p, id);
	struct pool_client *c;

	if (i == POOL_NONE) {
		for (i = 0; i < p->max_clients && p->clients[i].known; i++)
			;
		if (i == p->max_clients)
			return POOL_NONE;
		c = &p->clients[i];
		memset(c, 0, sizeof(*c));
		memcpy(c->id, id, RSWAP_ID_LEN);
		c->known = true;
		c->quota = p->default_quota;
	}
	c = &p->clients[i];
	if (name && name[0]) {
		strncpy(c->name, name, sizeof(c->name) - 1);
		c->name[sizeof(c->name) - 1] = '\0';
	}
	return i;
}

int pool_client_put(struct pool *p, uint32_t client, const uint8_t id[RSWAP_ID_LEN],
		    const char *name)
{
	struct pool_client *c;

	if (client >= p->max_clients)
		return -1;
	c = &p->clients[client];
	if (c->known && memcmp(c->id, id, RSWAP_ID_LEN))
		return -1;
	if (!c->known) {
		memset(c, 0, sizeof(*c));
		memcpy(c->id, id, RSWAP_ID_LEN);
		c->known = true;
		c->quota = p->default_quota;
	}
	if (name && name[0]) {
		strncpy(c->name, name, sizeof(c->name) - 1);
		c->name[sizeof(c->name) - 1] = '\0';
	}
	return 0;
}

static bool client_valid(const struct pool *p, uint32_t client)
{
	return client < p->max_clients && p->clients[client].known;
}

static void take(struct pool *p, uint32_t client, uint32_t slab)
{
	p->owner[slab] = client;
	p->n_free--;
	p->clients[client].held++;
	p->clients[client].grants_total++;
}

int64_t pool_grant(struct pool *p, uint32_t client)
{
	struct pool_client *c;
	uint32_t n, slab;

	if (!client_valid(p, client))
		return -RSWAP_ERR_NO_SLAB;
	c = &p->clients[client];
	if (c->held >= c->quota) {
		c->refused_quota_total++;
		return -RSWAP_ERR_QUOTA;
	}
	if (!p->n_free) {
		c->refused_memory_total++;
		return -RSWAP_ERR_NO_MEMORY;
	}
	/* Lowest free slab from the hint: at most one pass over the table. */
	for (n = 0, slab = p->next_hint; n < p->n_slabs; n++, slab++) {
		if (slab == p->n_slabs)
			slab = 0;
		if (p->owner[slab] == POOL_NONE) {
			take(p, client, slab);
			p->next_hint = slab + 1 == p->n_slabs ? 0 : slab + 1;
			return slab;
		}
	}
	/* n_free said there was one: the table is inconsistent. */
	c->refused_memory_total++;
	return -RSWAP_ERR_INTERNAL;
}

int pool_grant_slab(struct pool *p, uint32_t client, uint32_t slab)
{
	if (!client_valid(p, client) || !pool_slab_valid(p, slab) ||
	    p->owner[slab] != POOL_NONE)
		return -RSWAP_ERR_NO_SLAB;
	take(p, client, slab);
	return 0;
}

int pool_return(struct pool *p, uint32_t client, uint32_t slab)
{
	if (!client_valid(p, client) || !pool_slab_valid(p, slab) ||
	    p->owner[slab] != client)
		return -RSWAP_ERR_NO_SLAB;
	p->owner[slab] = POOL_NONE;
	p->n_free++;
	p->clients[client].held--;
	p->clients[client].returns_total++;
	if (!p->dirty[slab]) {
		p->dirty[slab] = 1;
		p->n_dirty++;
	}
	if (slab < p->next_hint)
		p->next_hint = slab;
	return 0;
}

uint32_t pool_next_held(const struct pool *p, uint32_t client, uint32_t after)
{
	uint32_t slab = after == POOL_NONE ? 0 : after + 1;

	for (; slab < p->n_slabs; slab++)
		if (p->owner[slab] == client)
			return slab;
	return POOL_NONE;
}

uint32_t pool_held_slabs(const struct pool *p, uint32_t client, uint32_t *slabs, uint32_t max)
{
	uint32_t n = 0, slab = POOL_NONE;

	if (!client_valid(p, client))
		return 0;
	while (n < max && (slab = pool_next_held(p, client, slab)) != POOL_NONE)
		slabs[n++] = slab;
	return n;
}

int pool_client_remove(struct pool *p, uint32_t client)
{
	if (!client_valid(p, client) || p->clients[client].held)
		return -1;
	memset(&p->clients[client], 0, sizeof(p->clients[client]));
	return 0;
}

uint32_t pool_client_reclaimable(const struct pool *p, bool (*busy)(void *arg, uint32_t client),
				 void *arg)
{
	uint32_t i, best = POOL_NONE;

	for (i = 0; i < p->max_clients; i++) {
		const struct pool_client *c = &p->clients[i];

		if (!c->known || c->held || (busy && busy(arg, i)))
			continue;
		if (best == POOL_NONE ||
		    (c->idle_since_ns && (!p->clients[best].idle_since_ns ||
					  c->idle_since_ns < p->clients[best].idle_since_ns)))
			best = i;
	}
	return best;
}

void pool_slab_scrubbed(struct pool *p, uint32_t slab)
{
	if (pool_slab_valid(p, slab) && p->dirty[slab]) {
		p->dirty[slab] = 0;
		p->n_dirty--;
	}
}

void pool_mark_free_dirty(struct pool *p)
{
	uint32_t slab;

	p->n_dirty = 0;
	for (slab = 0; slab < p->n_slabs; slab++) {
		p->dirty[slab] = p->owner[slab] == POOL_NONE;
		p->n_dirty += p->dirty[slab];
	}
}

uint32_t pool_next_dirty(const struct pool *p, uint32_t after)
{
	uint32_t slab = after == POOL_NONE ? 0 : after + 1;

	if (!p->n_dirty)
		return POOL_NONE;
	for (; slab < p->n_slabs; slab++)
		if (p->dirty[slab] && p->owner[slab] == POOL_NONE)
			return slab;
	return POOL_NONE;
}
