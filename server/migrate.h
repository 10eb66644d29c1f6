/* SPDX-License-Identifier: GPL-2.0 */
/*
 * migrate: copy a client's slab from this server into a slab the client
 * holds on another server, server to server over RDMA (MIGRATE_MAP,
 * MIGRATE and MIGRATED in proto/rswap_wire.h).
 *
 * The copy runs in its own thread, so the event loop never waits for the
 * target: it resolves the target, connects a copy queue pair there with the
 * client's attach token, the target slab and a nonce (struct
 * rswap_copy_attach), checks that the target's accept proves the pool key
 * (struct rswap_copy_accept) before it writes anything, and RDMA-WRITEs
 * each run of used slots to the same slot numbers of the region the target
 * gave: that slab alone, write-only. When it ends it wakes the loop through
 * an eventfd; the loop answers the client, if its connection is still
 * there. At most --max-copies run at once.
 */
#ifndef RSWAP_MIGRATE_H
#define RSWAP_MIGRATE_H

#include <stdbool.h>
#include <stdint.h>

#include "rswap_wire.h"

struct server;
struct conn;

/* The loop's wake-up source for finished copies: 0, or -1 with @err. */
int migrate_start(struct server *s, char *err, size_t err_size);
/* Cancel running copies between batches and join them. */
void migrate_stop(struct server *s);

void migrate_on_map(struct conn *c, const struct rswap_migrate_map *m, uint32_t seq);
void migrate_on_migrate(struct conn *c, const struct rswap_migrate *m, uint32_t seq);

/* Is a copy reading @slab? Its client may not return it meanwhile. */
bool migrate_busy(struct server *s, uint32_t slab);
/* Have the copies reading @slab give up between batches (their client
 * started afresh): they end, and are answered, as failed copies. */
void migrate_cancel_slab(struct server *s, uint32_t slab);

#endif
