// SPDX-License-Identifier: GPL-2.0
/*
 * rswap_migrate: moving a slab from one server to another when its server
 * asks (EVACUATE: it is draining, or the pool is uneven).
 *
 * No page comes back to this host and no page table is touched: the map
 * names a page by (table entry, slot), and the move only changes what the
 * entry points at (DESIGN.md). Requests are taken in batches of up to
 * moves_in_flight (RSWAP_MOVES_IN_FLIGHT; servers ask that many of a
 * client at once), and for each slab of a batch:
 *
 *   1. the entry is frozen: no new page goes into it; rewrites of its pages
 *      take slots elsewhere and free theirs here; reads still go to it (an
 *      empty slab simply goes back);
 *   2. a slab is granted on the server with the most room (not the source),
 *      and enters the table FILLING: a reconnect of the target lists it and
 *      finds it ours, and if the move fails it is given back;
 *   3. WRITEs already in flight into it are waited for (rswap_io_quiesce,
 *      once for the batch);
 *   4. the source gets the map of used slots and MIGRATE: it attaches a
 *      queue pair to our connection on the target (the target's attach
 *      token) and WRITEs those slots into the new slab, at the same slot
 *      numbers, server to server; every MIGRATE of the batch goes out
 *      before any answer is waited for, so the copies run side by side;
 *   5. on MIGRATED, if the target is still usable, the entry and the
 *      FILLING one swap locations: the entry points at the copy, the
 *      FILLING one at the old copy; once READs of the old copy still in
 *      flight are done (one wait for the batch), it becomes RETURNING and
 *      goes back.
 *
 * Until step 5 the old copy is the one the table names: a source or a
 * target that dies mid-way costs nothing but the attempt, and the slab
 * granted for it is RETURNING (given back when its server is usable).
 * The MIGRATE's answer is waited for without the source's ctrl_mutex, so
 * grants and returns on the source go on during a long copy.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/sched/mm.h>

#include "rswap.h"
#include "rswap_trace.h"

static bool evac_push(struct rswap_dev *dev, struct rswap_server *srv, u32 remote, u32 reason)
{
	bool queued = false;

	/* A removed server's requests die with it (rswap_evacuate_forget). */
	if (READ_ONCE(srv->state) == RSWAP_SRV_REMOVED)
		return false;
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
	if (!queued)
		pr_warn_ratelimited("%s: too many slabs to move at once; slab %u stays\n",
				    srv->name, remote);
	return queued;
}

/* Called from recv_done (softirq): queue the request for the worker. */
void rswap_evacuate_request(struct rswap_server *srv, u32 remote, u32 reason)
{
	struct rswap_dev *dev = srv->dev;

	if (evac_push(dev, srv, remote, reason) && !READ_ONCE(dev->dying))
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

/*
 * @srv is going away: drop its requests, and wait for a move that may be
 * using it to end. Its state is REMOVED and its connection gone already,
 * so every control call on it fails at once and no request for it is
 * queued any more (evac_push refuses one).
 */
static void evac_purge(struct rswap_server *srv)
{
	struct rswap_dev *dev = srv->dev;
	unsigned int i, kept = 0;

	spin_lock_bh(&dev->evac_lock);
	for (i = dev->evac_tail; i != dev->evac_head; i++) {
		struct rswap_evac *e = &dev->evac[i % RSWAP_EVAC_QUEUE];

		if (e->srv != srv)
			dev->evac[(dev->evac_tail + kept++) % RSWAP_EVAC_QUEUE] = *e;
	}
	dev->evac_head = dev->evac_tail + kept;
	spin_unlock_bh(&dev->evac_lock);
}

void rswap_evacuate_forget(struct rswap_server *srv)
{
	evac_purge(srv);
	flush_work(&srv->dev->migrate_work);
	/* The worker may have put back a request it kept while we waited. */
	evac_purge(srv);
}

/*
 * A slab for a copy of entry @idx's set, placed by rswap_place_copy: for a
 * move of @idx (@set RSWAP_NO_SLAB: the slab is FILLING; never a server or
 * a failure domain another copy of the set is on), or as the new copy
 * @copy of @set (COPYING; another domain when one can grant). Either way a
 * reconnect of the target knows it, and it is given back if the copy
 * fails. Its table entry and server, or -ENOSPC, or -EXDEV (a move: only
 * servers in domains the set is in could take it).
 */
int rswap_grant_target(struct rswap_dev *dev, u32 idx, struct rswap_server **target,
		       u32 *tremote, u32 set, u32 copy)
{
	enum rswap_place_policy policy = set == RSWAP_NO_SLAB ? RSWAP_PLACE_STRICT :
								RSWAP_PLACE_SPREAD;
	u32 except = rswap_slab_copy_servers(dev, idx);
	int tries, tidx = -ENOSPC, i, why = -ENOSPC;
	bool retried = false, same;

	mutex_lock(&dev->servers_mutex);
	for (tries = 0; tries < 2 * RSWAP_MAX_SERVERS; tries++) {
		*target = rswap_place_copy(dev, idx, set == RSWAP_NO_SLAB, policy, &same, &why);
		if (!*target && !retried) {
			/*
			 * Refusals are remembered for RSWAP_REFUSAL_RETRY_SECS,
			 * but a move is an operator's request, and a server just
			 * undrained has room again without saying so: ask each
			 * usable one once more before saying there is no room.
			 */
			retried = true;
			for (i = 0; i < RSWAP_MAX_SERVERS; i++)
				if (dev->servers[i] && !(except & (1u << i)) &&
				    rswap_server_usable(dev->servers[i]))
					dev->servers[i]->free_hint = 1;
			*target = rswap_place_copy(dev, idx, set == RSWAP_NO_SLAB, policy, &same,
						   &why);
		}
		if (!*target) {
			tidx = why;
			break;
		}
		tidx = set == RSWAP_NO_SLAB ? rswap_server_grant_slab(*target, tremote) :
					      rswap_server_grant_copy(*target, set, copy, tremote);
		if (tidx >= 0)
			break;
		/* Refused (its free_hint is 0 now) or gone: try the next. */
		tidx = -ENOSPC;
	}
	mutex_unlock(&dev->servers_mutex);
	return tidx;
}

/* One slab being moved, from its EVACUATE to the end of its move. */
struct rswap_move {
	struct rswap_server *src, *target;
	u32 remote, tremote;
	int idx, tidx;
	struct rswap_migrate_ticket ticket;
	int ret;			/* 0 once done or nothing to do; why not */
};

/* Moves in one batch: the module parameter, within 1..RSWAP_MOVES_IN_FLIGHT. */
unsigned int rswap_moves_batch(void)
{
	return clamp_t(unsigned int, READ_ONCE(rswap_moves_in_flight), 1, RSWAP_MOVES_IN_FLIGHT);
}

/*
 * Steps 1 and 2 for @mv: true if it is frozen with a FILLING slab granted
 * for it; false if it is done (nothing of ours in it, empty and given
 * back, on its way back) or cannot be moved (@mv->ret says why).
 */
static bool move_prepare(struct rswap_dev *dev, struct rswap_move *mv)
{
	int used;

	mv->ret = 0;
	/* Not in our table: nothing of ours is in it (checked against grants in flight). */
	mv->idx = rswap_server_return_unknown(mv->src, mv->remote);
	if (mv->idx < 0) {
		mv->ret = mv->idx == -ENOENT ? 0 : mv->idx;
		return false;
	}
	used = rswap_slab_freeze(dev, mv->idx, mv->src, mv->remote);
	if (used == -ENODATA) {
		/* Empty: nothing to copy; it goes back as it is. */
		if (!rswap_slab_give_back(dev, mv->idx, mv->src, mv->remote))
			mv->ret = -ENOTCONN;
		return false;
	}
	if (used < 0) {
		/*
		 * On its way back, or being moved (the server asked again after
		 * a reconnect): the RETURN, or the NOT_MOVED, of the move that
		 * runs answers the server.
		 */
		mv->ret = used == -EALREADY || used == -EINPROGRESS ? 0 : used;
		return false;
	}
	/* Never onto a server that has a copy of it already (or is the source). */
	mv->tidx = rswap_grant_target(dev, mv->idx, &mv->target, &mv->tremote, RSWAP_NO_SLAB, 0);
	if (mv->tidx < 0) {
		mv->target = NULL;
		rswap_slab_unfreeze(dev, mv->idx, mv->src, mv->remote);
		if (mv->tidx == -EXDEV)
			pr_info("%s: slab %u stays: only servers in failure domains its other copies are in have room\n",
				mv->src->name, mv->remote);
		mv->ret = -ENOSPC;
		return false;
	}
	return true;
}

/* @mv stays where it is: thawed, and its FILLING slab goes back. */
static void move_abort(struct rswap_dev *dev, struct rswap_move *mv, int ret)
{
	mv->ret = ret;
	rswap_slab_unfreeze(dev, mv->idx, mv->src, mv->remote);
	rswap_slab_filled_done(dev, mv->tidx, mv->target, mv->tremote);
}

/*
 * Steps 3 to 5 for @n prepared moves at once: one wait for the WRITEs in
 * flight, every MIGRATE sent before any answer is waited for (the servers
 * copy side by side), each entry pointed at its copy as its answer comes,
 * and one wait for the READs of the old copies before they go back.
 */
static void move_batch(struct rswap_dev *dev, struct rswap_move *mv, unsigned int n)
{
	bool moved[RSWAP_MOVES_IN_FLIGHT] = {};
	unsigned int i, n_moved = 0;
	int ret, pages;

	/* WRITEs into the slabs that began before the freeze land first. */
	ret = rswap_io_quiesce(dev);
	for (i = 0; i < n; i++) {
		if (!ret) {
			rswap_fault_delay(READ_ONCE(rswap_fault_move_fill_delay_ms),
					  "before copying slab", mv[i].remote, mv[i].target);
			mv[i].ret = rswap_server_migrate_start(mv[i].src, mv[i].remote, mv[i].idx,
							       mv[i].target, mv[i].tidx,
							       mv[i].tremote, &mv[i].ticket);
		}
		if (ret || mv[i].ret)
			move_abort(dev, &mv[i], ret ?: mv[i].ret);
	}
	for (i = 0; i < n; i++) {
		if (mv[i].ret)
			continue;
		pages = rswap_server_migrate_wait(mv[i].src, &mv[i].ticket);
		if (pages < 0) {
			move_abort(dev, &mv[i], pages);
			continue;
		}
		rswap_fault_delay(READ_ONCE(rswap_fault_move_swap_delay_ms),
				  "before pointing at the copy of slab", mv[i].remote, mv[i].target);
		if (!rswap_slab_move(dev, mv[i].idx, mv[i].src, mv[i].remote, mv[i].tidx,
				     mv[i].target, mv[i].tremote)) {
			/* The source or the target went down, or the source lost the slab. */
			pr_warn("%s: slab %u stays: %s is no longer usable, or the slab changed\n",
				mv[i].src->name, mv[i].remote, mv[i].target->name);
			move_abort(dev, &mv[i], -ENOENT);
			continue;
		}
		moved[i] = true;
		n_moved++;
		rswap_stat_inc(dev, migrated_slabs);
		rswap_stat_add(dev, migrated_pages, pages);
		trace_rswap_slab_move(dev->name, mv[i].src->name, mv[i].remote, mv[i].target->name,
				      mv[i].tremote, pages, 0);
		pr_info("%s: slab %u moved to %s (slab %u): %d pages, server to server\n",
			mv[i].src->name, mv[i].remote, mv[i].target->name, mv[i].tremote, pages);
	}
	if (!n_moved)
		return;
	/*
	 * READs of the old copies still in flight end before they go back
	 * (entry tidx names the old copy now, FILLING). If they never end
	 * the old copies are kept, not given back under a READ. A device
	 * going away has no reader left (it is unloaded closed): they go back.
	 */
	ret = rswap_io_quiesce(dev);
	for (i = 0; i < n; i++) {
		if (!moved[i])
			continue;
		if (ret && ret != -ESHUTDOWN)
			pr_warn("%s: slab %u kept: reads of it did not end\n", mv[i].src->name,
				mv[i].remote);
		else
			rswap_slab_filled_done(dev, mv[i].tidx, mv[i].src, mv[i].remote);
	}
}

/* Tell the source of a move that failed; a done one needs no word (its RETURN). */
static void move_report(struct rswap_dev *dev, const struct rswap_move *mv)
{
	if (!mv->ret)
		return;
	/* The target is known once one was granted (move_prepare's last step). */
	trace_rswap_slab_move(dev->name, mv->src->name, mv->remote,
			      mv->target ? mv->target->name : "", mv->target ? mv->tremote : -1,
			      0, mv->ret);
	if (mv->ret == -ENOSPC)
		rswap_stat_inc(dev, not_moved);
	else
		rswap_stat_inc(dev, migrate_failures);
	pr_warn("%s: slab %u not moved: %s\n", mv->src->name, mv->remote,
		mv->ret == -ENOSPC ? "no other server has room" : "the move failed");
	rswap_server_not_moved(mv->src, mv->remote, mv->ret == -ENOSPC ? RSWAP_ERR_NO_MEMORY :
			       RSWAP_ERR_INTERNAL);
}

void rswap_migrate_work(struct work_struct *work)
{
	struct rswap_dev *dev = container_of(work, struct rswap_dev, migrate_work);
	unsigned int noio = memalloc_noio_save(), n_later = 0, n, i;
	struct rswap_evac e, *later = dev->evac_later;
	struct rswap_move mv[RSWAP_MOVES_IN_FLIGHT];

	while (!READ_ONCE(dev->dying)) {
		/* Up to a batch of moves frozen and granted a target, ... */
		for (n = 0; n < rswap_moves_batch() && !READ_ONCE(dev->dying) &&
		     next_evac(dev, &e);) {
			if (!rswap_server_usable(e.srv)) {
				/*
				 * Not READY (yet): an EVACUATE can arrive between
				 * REATTACHED and READY. Kept for when it is; its
				 * connect queues this work again.
				 */
				if (READ_ONCE(e.srv->state) != RSWAP_SRV_REMOVED &&
				    n_later < RSWAP_EVAC_QUEUE)
					later[n_later++] = e;
				continue;
			}
			mv[n].src = e.srv;
			mv[n].remote = e.remote;
			mv[n].target = NULL;
			mv[n].ret = -ENOENT;
			if (dev->slots_ready && move_prepare(dev, &mv[n])) {
				n++;
				continue;
			}
			move_report(dev, &mv[n]);
		}
		if (!n)
			break;
		/* ... then copied side by side. */
		move_batch(dev, mv, n);
		for (i = 0; i < n; i++)
			move_report(dev, &mv[i]);
	}
	/* Back in the queue, without running again now: the connect kicks it. */
	for (i = 0; i < n_later; i++)
		evac_push(dev, later[i].srv, later[i].remote, later[i].reason);
	/* Then sets short of copies; a server's EVACUATE waits for no more than one batch. */
	if (!READ_ONCE(dev->dying) && xchg(&dev->copies_wanted, false))
		rswap_copies_repair(dev);
	memalloc_noio_restore(noio);
}

/* Is an EVACUATE waiting for the worker? */
bool rswap_evac_waiting(struct rswap_dev *dev)
{
	bool waiting;

	spin_lock_bh(&dev->evac_lock);
	waiting = dev->evac_head != dev->evac_tail;
	spin_unlock_bh(&dev->evac_lock);
	return waiting;
}
