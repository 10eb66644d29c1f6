// SPDX-License-Identifier: GPL-2.0
/*
 * rswap_copies: new copies for sets that have fewer than replicas= (a
 * server lost for good took one, or the set was made when too few servers
 * could grant), made server to server so no page comes back to this host.
 *
 * It runs in the migration worker (rswap_migrate.c), after the EVACUATEs
 * waiting there, one set at a time, whenever rswap_copies_kick asked: a
 * server declared lost (its copies are gone), a server READY (a set made
 * short may get its copy now). For each set:
 *
 *   1. the set stops taking pages (rswap_slab_copy_begin raises its width
 *      past its live copies) and the WRITEs already in flight into it
 *      land (rswap_io_quiesce): from now on nothing writes to it;
 *   2. a slab is granted on a server with no copy of the set (the one
 *      with the most room), and enters the table COPYING as the set's new
 *      copy (rswap_replica.h: NEW): a reconnect of that server knows it;
 *   3. the server of a live copy gets the set's map of used slots and
 *      MIGRATE, and writes those slots into the new slab, server to server
 *      (rswap_server_migrate, as a move does);
 *   4. confirmed: the copy is LIVE, its entry ACTIVE, and the set takes
 *      pages again with all its copies; anything else (the source or the
 *      target gone, refused, no answer): the slab goes back and the set is
 *      as it was, asked again at the next kick.
 *
 * Reads go on throughout from the live copies; rewrites of the set's pages
 * take slots elsewhere (the set takes no pages), and slots freed meanwhile
 * are copied for nothing. The kernel log says when copying starts and how
 * it ended; copies_made, copied_pages, copy_failures and degraded_slabs
 * in sysfs show the progress.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include "rswap.h"

void rswap_copies_kick(struct rswap_dev *dev)
{
	if (dev->n_replicas == 1)
		return;
	WRITE_ONCE(dev->copies_wanted, true);
	queue_work(dev->wq, &dev->migrate_work);
}

/* One set: 1 if it has its new copy, 0 if not, -ENOSPC if no server can take it. */
static int make_copy(struct rswap_dev *dev, const struct rswap_copy_job *job, u64 *pages)
{
	struct rswap_server *target = NULL;
	u32 tremote = 0;
	int tidx, ret;

	ret = rswap_io_quiesce(dev);
	if (ret) {
		rswap_slab_copy_end(dev, job, -1, NULL, 0, false);
		return 0;
	}
	tidx = rswap_grant_target(dev, job->set, &target, &tremote, job->set, job->copy);
	if (tidx < 0) {
		rswap_slab_copy_end(dev, job, -1, NULL, 0, false);
		return -ENOSPC;
	}
	ret = rswap_server_migrate(job->src_srv, job->src_remote, job->src, target, tidx, tremote);
	if (!rswap_slab_copy_end(dev, job, tidx, target, tremote, ret >= 0)) {
		atomic64_inc(&dev->stats.copy_failures);
		pr_warn("%s: no new copy of a slab on %s on %s: %s\n", dev->name,
			job->src_srv->name, target->name,
			ret < 0 ? "the copy failed" : "the slab changed meanwhile");
		return 0;
	}
	atomic64_inc(&dev->stats.copies_made);
	atomic64_add(ret, &dev->stats.copied_pages);
	*pages += ret;
	pr_debug("%s: slab %u of %s copied to %s (slab %u): %d pages, server to server\n",
		 dev->name, job->src_remote, job->src_srv->name, target->name, tremote, ret);
	return 1;
}

void rswap_copies_repair(struct rswap_dev *dev)
{
	struct rswap_copy_job job;
	u32 from = 0, wanting, made = 0, failed = 0;
	u64 pages = 0, ms;
	ktime_t start;
	int ret = 0;

	if (!dev->slots_ready || dev->n_replicas == 1)
		return;
	/*
	 * Degraded sets that are empty want no copy (a set gets one only if it
	 * holds pages) and take no pages either: they go back to their
	 * servers (return_slabs), and refill makes whole sets in their place.
	 */
	if (READ_ONCE(dev->replicas.degraded))
		queue_work(dev->wq, &dev->return_work);
	wanting = rswap_slabs_wanting_copies(dev);
	if (!wanting)
		return;
	start = ktime_get();
	while (!READ_ONCE(dev->dying) && rswap_slab_copy_begin(dev, &from, &job)) {
		ret = make_copy(dev, &job, &pages);
		if (ret == -ENOSPC)
			break;
		if (!made && !failed)
			pr_info("%s: %u slabs have fewer than %u copies: copying them server to server\n",
				dev->name, wanting, dev->n_replicas);
		ret > 0 ? made++ : failed++;
		/* A server waiting for a move goes first; this goes on after it. */
		if (rswap_evac_waiting(dev)) {
			rswap_copies_kick(dev);
			break;
		}
	}
	/* No server to copy to: said once until a copy can be made again. */
	if (!made && !failed) {
		if (ret == -ENOSPC && !dev->copies_stuck_said)
			pr_warn("%s: %u slabs have fewer than %u copies, and no other server can take one\n",
				dev->name, wanting, dev->n_replicas);
		dev->copies_stuck_said = ret == -ENOSPC;
		return;
	}
	dev->copies_stuck_said = false;
	ms = max_t(u64, ktime_ms_delta(ktime_get(), start), 1);
	pr_info("%s: %u new copies (%llu MiB, %llu MiB/s), %u failed%s; %u slabs degraded\n",
		dev->name, made, pages * RSWAP_PAGE_SIZE >> 20,
		(pages * RSWAP_PAGE_SIZE >> 20) * 1000 / ms, failed,
		ret == -ENOSPC ? ", no other server can take more" : "",
		READ_ONCE(dev->replicas.degraded));
}
