/* SPDX-License-Identifier: GPL-2.0 */
/*
 * clients: the client table's lifecycle beyond the pool's bookkeeping:
 * forgetting a dead client (its slabs freed durably and scrubbed, its
 * entry removed), and expiring clients disconnected past --client-expiry.
 */
#ifndef RSWAP_CLIENTS_H
#define RSWAP_CLIENTS_H

#include <stddef.h>
#include <stdint.h>

struct server;

/*
 * Forget the client @who (its name, or its id as 32 hex digits): free every
 * slab it holds, durably in the metadata log, mark them for scrubbing, and
 * remove its entry from the table. Refused (-1, the reason in @err) while
 * it has a live connection or a copy of one of its slabs runs
 * (migrate_busy). 0 on success, with *@freed the number of slabs freed.
 */
int clients_forget(struct server *s, const char *who, uint32_t *freed, char *err,
		   size_t err_size);

#endif
