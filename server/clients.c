// SPDX-License-Identifier: GPL-2.0
/* clients: the client table's lifecycle; see clients.h. */
#include "clients.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "conn.h"
#include "migrate.h"
#include "server.h"

/* Freed slabs scrubbed per tick at most (a hole punched each): their pages
 * go back to the system soon, and a grant finds a clean slab. */
#define CLIENTS_TICK_SCRUB_MAX 256

/* Does a connection other than a closing one belong to @client? */
static bool client_live(struct server *s, uint32_t client)
{
	struct conn *c;

	for (c = s->conns; c; c = c->next)
		if (c->client == client && c->state != CONN_CLOSING)
			return true;
	return false;
}

/* For reclaiming: the same test. A closing connection has deregistered
 * its regions already, and nothing reads its client number but to close. */
static bool client_referenced(void *arg, uint32_t client)
{
	return client_live(arg, client);
}

/* Remove entry @client, holding no slab: FORGET durable first. 0 or -errno. */
static int remove_entry(struct server *s, uint32_t client)
{
	uint8_t id[RSWAP_ID_LEN];
	int ret;

	memcpy(id, s->pool.clients[client].id, RSWAP_ID_LEN);
	ret = metalog_forget(&s->log, client, id);
	if (ret)
		return ret;
	return pool_client_remove(&s->pool, client) ? -EBUSY : 0;
}

int clients_get(struct server *s, const uint8_t id[RSWAP_ID_LEN], const char *name,
		uint32_t *client)
{
	uint32_t i = pool_client_find(&s->pool, id), old;
	char old_name[RSWAP_NAME_LEN];
	int ret;

	if (i != POOL_NONE) {
		*client = pool_client_get(&s->pool, id, name);
		s->pool.clients[i].idle_since_ns = 0;
		return 0;
	}
	i = pool_client_get(&s->pool, id, name);
	if (i == POOL_NONE) {
		old = pool_client_reclaimable(&s->pool, client_referenced, s);
		if (old == POOL_NONE)
			return -RSWAP_ERR_NO_MEMORY;
		snprintf(old_name, sizeof(old_name), "%s", s->pool.clients[old].name);
		ret = remove_entry(s, old);
		if (ret) {
			log_msg(LOG_ERR, "reclaiming the entry of client %s: metadata log: %s",
				old_name, strerror(-ret));
			return -RSWAP_ERR_INTERNAL;
		}
		log_msg(LOG_INFO, "client table full (%u): reclaimed the entry of client %s, "
			"which held no slab and had no connection", s->pool.max_clients,
			old_name[0] ? old_name : "(unnamed)");
		i = pool_client_get(&s->pool, id, name);
		if (i == POOL_NONE)
			return -RSWAP_ERR_INTERNAL;
	}
	ret = metalog_client(&s->log, i, &s->pool.clients[i]);
	if (ret) {
		/* Not in the log: not in the table either. */
		pool_client_remove(&s->pool, i);
		log_msg(LOG_ERR, "client %s: metadata log write failed: %s", name, strerror(-ret));
		return -RSWAP_ERR_INTERNAL;
	}
	*client = i;
	return 0;
}

/* 32 hex digits into @id: 0, or -1 if @text is not that. */
static int parse_id(const char *text, uint8_t id[RSWAP_ID_LEN])
{
	unsigned int i, v;

	if (strlen(text) != 2 * RSWAP_ID_LEN)
		return -1;
	for (i = 0; i < 2 * RSWAP_ID_LEN; i++)
		if (!isxdigit((unsigned char)text[i]))
			return -1;
	for (i = 0; i < RSWAP_ID_LEN; i++) {
		if (sscanf(text + 2 * i, "%2x", &v) != 1)
			return -1;
		id[i] = (uint8_t)v;
	}
	return 0;
}

/* The entry @who names: 0 with *@client, or -1 with the reason in @err. */
static int find_client(struct server *s, const char *who, uint32_t *client, char *err,
		       size_t err_size)
{
	uint8_t id[RSWAP_ID_LEN];
	uint32_t i, found = POOL_NONE, n = 0;

	if (!who || !who[0]) {
		snprintf(err, err_size, "no client named");
		return -1;
	}
	if (!parse_id(who, id)) {
		found = pool_client_find(&s->pool, id);
		if (found != POOL_NONE) {
			*client = found;
			return 0;
		}
	}
	for (i = 0; i < s->pool.max_clients; i++) {
		if (s->pool.clients[i].known && !strcmp(s->pool.clients[i].name, who)) {
			found = i;
			n++;
		}
	}
	if (n == 1) {
		*client = found;
		return 0;
	}
	if (n > 1)
		snprintf(err, err_size, "%u clients are named '%s': give the client's id "
			 "('rswapctl clients' lists them)", n, who);
	else
		snprintf(err, err_size, "no client '%s' (a name or a 32-hex-digit id; "
			 "'rswapctl clients' lists them)", who);
	return -1;
}

/* Forget entry @client (see clients.h): 0, or -1 with @err. */
static int forget_index(struct server *s, uint32_t client, uint32_t *freed, char *err,
			size_t err_size)
{
	const char *name = s->pool.clients[client].name;
	uint32_t slab;
	int ret;

	*freed = 0;
	if (client_live(s, client)) {
		snprintf(err, err_size, "client %s is connected: it would only come back; "
			 "stop it first", name);
		return -1;
	}
	for (slab = pool_next_held(&s->pool, client, POOL_NONE); slab != POOL_NONE;
	     slab = pool_next_held(&s->pool, client, slab)) {
		if (migrate_busy(s, slab)) {
			snprintf(err, err_size, "client %s: its slab %u is being copied to another "
				 "server; try again once the copy ends", name, slab);
			return -1;
		}
	}
	/* A drain asked about them will not hear back: they may be asked
	 * about again once they belong to someone else. */
	for (slab = pool_next_held(&s->pool, client, POOL_NONE); slab != POOL_NONE;
	     slab = pool_next_held(&s->pool, client, slab))
		s->drain.asked[slab] = 0;
	/* No connection, so no memory region of ours covers its slabs: a
	 * closed or unlinked connection deregistered them (revoke_access in
	 * conn.c). */
	ret = metalog_free_client(&s->log, &s->pool, client, freed);
	if (!ret)
		ret = remove_entry(s, client);
	/* Freed slabs are scrubbed at the tick, or at their grant at the latest. */
	backing_scrub_dirty(&s->mem, &s->pool, *freed);
	if (ret) {
		snprintf(err, err_size, "client %s: metadata log write failed after freeing %u "
			 "slabs: %s", name, *freed, strerror(-ret));
		return -1;
	}
	return 0;
}

int clients_forget(struct server *s, const char *who, uint32_t *freed, char *err,
		   size_t err_size)
{
	char name[RSWAP_NAME_LEN];
	uint32_t client;

	*freed = 0;
	if (find_client(s, who, &client, err, err_size))
		return -1;
	snprintf(name, sizeof(name), "%s", s->pool.clients[client].name);
	if (forget_index(s, client, freed, err, err_size))
		return -1;
	log_msg(LOG_INFO, "client %s forgotten (by the operator): %u slabs freed",
		name[0] ? name : "(unnamed)", *freed);
	return 0;
}

void clients_tick(struct server *s)
{
	uint64_t now = mono_ns(), expiry_ns = s->set.client_expiry_s * 1000000000ull;
	char name[RSWAP_NAME_LEN], err[256];
	uint32_t i, freed;
	int ret;

	for (i = 0; i < s->pool.max_clients; i++) {
		struct pool_client *c = &s->pool.clients[i];

		if (!c->known)
			continue;
		if (client_live(s, i)) {
			c->idle_since_ns = 0;
			continue;
		}
		if (!c->idle_since_ns)
			c->idle_since_ns = now;
		if (!expiry_ns || now - c->idle_since_ns < expiry_ns)
			continue;
		snprintf(name, sizeof(name), "%s", c->name);
		if (forget_index(s, i, &freed, err, sizeof(err)))
			log_msg(LOG_ERR, "client %s: expiry: %s", name, err);
		else
			log_msg(LOG_INFO, "client %s forgotten: disconnected for %u s "
				"(--client-expiry): %u slabs freed", name[0] ? name : "(unnamed)",
				s->set.client_expiry_s, freed);
	}
	backing_scrub_dirty(&s->mem, &s->pool, CLIENTS_TICK_SCRUB_MAX);
	ret = metalog_maybe_compact(&s->log, &s->pool, s->id);
	if (ret < 0)
		log_msg(LOG_ERR, "compacting the metadata log %s: %s (still using the old one)",
			s->set.meta, strerror(-ret));
	else if (ret > 0)
		log_msg(LOG_DEBUG, "metadata log %s compacted to %llu bytes", s->set.meta,
			(unsigned long long)s->log.end);
}
