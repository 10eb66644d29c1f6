// SPDX-License-Identifier: GPL-2.0
/*
 * rswap_migrate: moving a slab from one server to another when its server
 * asks (EVACUATE: it is draining, or the pool is uneven).
 *
 * No page comes back to this host and no page table is touched: the map
 * names a page by (table entry, slot), and the move only changes what the
 * entry points at (DESIGN.md). For each request, one at a time:
 *
 *   1. the entry is frozen: no new page goes into it; rewrites of its pages
 *      take slots elsewhere and free theirs here; reads still go to it (an
 *      empty slab simply goes back);
 *   2. a slab is granted on the server with the most room (not the source);
 *   3. WRITEs already in flight into it are waited for (rswap_io_quiesce);
 *   4. the source gets the map of used slots and MIGRATE: it attaches a
 *      queue pair to our connection on the target (the target's attach
 *      token) and WRITEs those slots into the new slab, at the same slot
 *      numbers, server to server;
 *   5. on MIGRATED, the entry points at the copy; once READs of the old
 *      copy still in flight are done, the old slab is RETURNed.
 *
 * Until step 5 the old copy is the one the table names: a source or a
 * target that dies mid-way costs nothing but the attempt. The slab granted
 * for it is returned (or, if its server is down, returned when it
 * reattaches: it lists a slab we do not know).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/sched/mm.h>

#include "rswap.h"

/* Called from recv_done (softirq): queue the request for the worker. */
void rswap_evacuate_request(struct rswap_server *srv, u32 remote, u32 reason)
{
	struct rswap_dev *dev = srv->dev;
	bool queued = false;

	spin_lock_bh(&dev->evac_lock);
	if (dev->evac_head - dev->evac_tail < RSWAP_EVAC_QUEUE) {
		struct rswap_evac *e = &dev->evac[dev->evac_head % RSWAP_EVAC_QUEUE];

		e->srv = srv;
		e->remote = remote;
		e->reason = reason;
		dev->evac_head++;
		queued = true;
	}
	spin_unlock_bh(&dev->evac_lock);
	if (!queued) {
		pr_warn_ratelimited("%s: too many slabs to move at once; slab %u stays\n",
				    srv->name, remote);
		return;
	}
	if (!READ_ONCE(dev->dying))
		queue_work(dev->wq, &dev->migrate_work);
}

static bool next_evac(struct rswap_dev *dev, struct rswap_evac *out)
{
	bool got = false;

	spin_lock_bh(&dev->evac_lock);
	if (dev->evac_head != dev->evac_tail) {
		*out = dev->evac[dev->evac_tail % RSWAP_EVAC_QUEUE];
		dev->evac_tail++;
		got = true;
	}
	spin_unlock_bh(&dev->evac_lock);
	return got;
}

/* A slab on another server than @src, for a copy: its server, or NULL. */
static struct rswap_server *grant_target(struct rswap_dev *dev, struct rswap_server *src,
					 u32 *remote, u32 *rkey, u64 *addr)
{
	struct rswap_server *target = NULL;
	bool retried = false;
	int tries, i;

	mutex_lock(&dev->servers_mutex);
	for (tries = 0; tries < 2 * RSWAP_MAX_SERVERS; tries++) {
		target = rswap_pick_server(dev, src);
		if (!target && !retried) {
			/* Refusals are remembered; room may have come back since. */
			retried = true;
			for (i = 0; i < RSWAP_MAX_SERVERS; i++)
				if (dev->servers[i] && dev->servers[i] != src &&
				    rswap_server_usable(dev->servers[i]))
					dev->servers[i]->free_hint = 1;
			target = rswap_pick_server(dev, src);
		}
		if (!target || !rswap_server_grant_slab(target, remote, rkey, addr))
			break;
		/* Refused (its free_hint is 0 now) or gone: try the next. */
		target = NULL;
	}
	mutex_unlock(&dev->servers_mutex);
	return target;
}

/* Give back a slab granted for a move that did not happen. */
static void drop_target(struct rswap_server *target, u32 remote)
{
	if (rswap_server_return(target, remote))
		pr_info("%s: slab %u, granted for a move, goes back when it reconnects\n",
			target->name, remote);
	atomic_dec(&target->slabs);
}

/* Move @src's slab @remote to another server. 0, or why not. */
static int migrate_slab(struct rswap_dev *dev, struct rswap_server *src, u32 remote)
{
	struct rswap_server *target;
	u32 tremote, trkey;
	u64 taddr;
	int idx, used, pages, ret;

	idx = rswap_slab_find(dev, src, remote);
	if (idx < 0) {
		/* Not in our table: nothing of ours is in it. */
		return rswap_server_return(src, remote);
	}
	used = rswap_slab_freeze(dev, idx, src, remote);
	if (used == -ENODATA) {
		/* Empty: nothing to copy; it goes back as it is. */
		return rswap_slab_give_back(dev, idx, src, false) ? 0 : -ENOTCONN;
	}
	if (used < 0) {
		/* On its way back: the RETURN that follows answers the server. */
		return used == -EALREADY ? 0 : used;
	}
	target = grant_target(dev, src, &tremote, &trkey, &taddr);
	if (!target) {
		rswap_slab_unfreeze(dev, idx);
		return -ENOSPC;
	}
	/* WRITEs into the slab that began before the freeze land first. */
	ret = rswap_io_quiesce(dev);
	if (ret)
		goto out_unfreeze;
	pages = rswap_server_migrate(src, remote, idx, target, tremote, trkey, taddr);
	if (pages < 0) {
		ret = pages;
		goto out_unfreeze;
	}
	if (!rswap_slab_move(dev, idx, src, target, tremote, trkey, taddr)) {
		/* Its pages were given up meanwhile (the source was lost). */
		drop_target(target, tremote);
		return -ENOENT;
	}
	atomic64_inc(&dev->stats.migrated_slabs);
	atomic64_add(pages, &dev->stats.migrated_pages);
	pr_info("%s: slab %u moved to %s (slab %u): %d pages, server to server\n", src->name,
		remote, target->name, tremote, pages);
	/* READs of the old copy still in flight end before it goes back. */
	if (rswap_io_quiesce(dev))
		pr_warn("%s: slab %u kept: reads of it did not end\n", src->name, remote);
	else if (rswap_server_return(src, remote))
		pr_info("%s: old slab %u goes back when it reconnects\n", src->name, remote);
	return 0;

out_unfreeze:
	rswap_slab_unfreeze(dev, idx);
	drop_target(target, tremote);
	return ret;
}

void rswap_migrate_work(struct work_struct *work)
{
	struct rswap_dev *dev = container_of(work, struct rswap_dev, migrate_work);
	unsigned int noio = memalloc_noio_save();
	struct rswap_evac e;

	while (!READ_ONCE(dev->dying) && next_evac(dev, &e)) {
		int ret;

		if (!rswap_server_usable(e.srv))
			continue;	/* it asks again once we are back */
		ret = dev->slots_ready ? migrate_slab(dev, e.srv, e.remote) : -ENOENT;
		if (!ret)
			continue;
		atomic64_inc(ret == -ENOSPC ? &dev->stats.not_moved : &dev->stats.migrate_failures);
		pr_warn("%s: slab %u not moved: %s\n", e.srv->name, e.remote,
			ret == -ENOSPC ? "no other server has room" : "the move failed");
		rswap_server_not_moved(e.srv, e.remote, ret == -ENOSPC ? RSWAP_ERR_NO_MEMORY :
				       RSWAP_ERR_INTERNAL);
	}
	memalloc_noio_restore(noio);
}
