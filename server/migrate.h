/* SPDX-License-Identifier: GPL-2.0 */
/*
 * migrate: copy a client's slab from this server into a slab the client
 * holds on another server, server to server over RDMA (MIGRATE_MAP,
 * MIGRATE and MIGRATED in proto/rswap_wire.h).
 *
 * The copy runs in its own thread, so the event loop never waits for the
 * target: it resolves the target, attaches a queue pair to the client's
 * connection there with the client's attach token (the target puts it in
 * that connection's protection domain, so the target slab's rkey works),
 * and RDMA-WRITEs each run of used slots to the same slot numbers there.
 * When it ends it wakes the loop through an eventfd; the loop answers the
 * client, if its connection is still there.
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
