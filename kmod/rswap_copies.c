// SPDX-License-Identifier: GPL-2.0
/*
 * rswap_copies: new copies for sets that have fewer than replicas= (a
 * server lost for good took one, or the set was made when too few servers
 * could grant), made server to server so no page comes back to this host.
 *
 * It runs in the migration worker (rswap_migrate.c), after the EVACUATEs
 * waiting there, whenever rswap_copies_kick asked: a server declared lost
 * (its copies are gone), a server READY (a set made short may get its copy
 * now). Sets are taken in batches of up to moves_in_flight, whose copies
 * run side by side on the servers (steps 1 and 2 for each, then every
 * MIGRATE of step 3 before any answer is waited for). For each set:
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
#include "rswap_trace.h"

/*
 * Copies that failed (a server busy or refusing) are tried again this much
 * later, doubling while they keep failing, up to RSWAP_COPY_RETRY_MAX.
 */
#define RSWAP_COPY_RETRY	(10 * HZ)
#define RSWAP_COPY_RETRY_MAX	(320 * HZ)

/* From a keepalive tick: a retry of failed copies that is due now kicks them. */
void rswap_copies_retry_due(struct rswap_dev *dev)
{
	unsigned long at = READ_ONCE(dev->copies_retry_at);

	if (at && time_after_eq(jiffies, at) && cmpxchg(&dev->copies_retry_at, at, 0) == at)
		rswap_copies_kick(dev);
}

void rswap_copies_kick(struct rswap_dev *dev)
{
	if (dev->n_replicas == 1)
		return;
	WRITE_ONCE(dev->copies_wanted, true);
	queue_work(dev->wq, &dev->migrate_work);
}

/* One set being given a new copy. */
struct rswap_copy_run {
	struct rswap_copy_job job;
	struct rswap_server *target;
	u32 tremote;
	int tidx;			/* COPYING entry, or -1: none granted */
	struct rswap_migrate_ticket ticket;
	int ret;			/* MIGRATE sent: 0; or why not */
};

/* How a batch of copies went. */
struct rswap_copy_tally {
	u32 made, failed;
	u64 pages;
	bool no_room;			/* some set found no server to take its copy */
};

/* The end of @r: joined to its set, or given back. */
static void copy_end(struct rswap_dev *dev, struct rswap_copy_run *r, int pages,
		     struct rswap_copy_tally *tally)
{
	bool ok = rswap_slab_copy_end(dev, &r->job, r->tidx, r->target, r->tremote, pages >= 0);

	trace_rswap_resync(dev->name, r->job.src_srv->name, r->job.src_remote, r->target->name,
			   r->tremote, ok ? pages : 0, ok ? 0 : pages < 0 ? pages : -ESTALE);
	if (!ok) {
		tally->failed++;
		rswap_stat_inc(dev, copy_failures);
		pr_warn("%s: no new copy of a slab on %s on %s: %s\n", dev->name,
			r->job.src_srv->name, r->target->name,
			pages < 0 ? "the copy failed" : "the slab changed meanwhile");
		return;
	}
	tally->made++;
	tally->pages += pages;
	rswap_stat_inc(dev, copies_made);
	rswap_stat_add(dev, copied_pages, pages);
	pr_debug("%s: slab %u of %s copied to %s (slab %u): %d pages, server to server\n",
		 dev->name, r->job.src_remote, r->job.src_srv->name, r->target->name, r->tremote,
		 pages);
}

/*
 * Steps 1 to 4 for @n sets begun (rswap_slab_copy_begin) at once: one
 * wait for the WRITEs in flight, a slab granted for each, every MIGRATE
 * sent before any answer is waited for (the servers copy side by side).
 */
static void copy_batch(struct rswap_dev *dev, struct rswap_copy_run *r, unsigned int n,
		       struct rswap_copy_tally *tally)
{
	unsigned int i;
	int ret;

	ret = rswap_io_quiesce(dev);
	for (i = 0; i < n; i++) {
		r[i].tidx = -1;
		r[i].target = NULL;
		r[i].tremote = 0;
		if (ret) {
			rswap_slab_copy_end(dev, &r[i].job, -1, NULL, 0, false);
			r[i].ret = ret;
			tally->failed++;
			continue;
		}
		r[i].tidx = rswap_grant_target(dev, r[i].job.set, &r[i].target, &r[i].tremote,
					       r[i].job.set, r[i].job.copy);
		if (r[i].tidx < 0) {
			rswap_slab_copy_end(dev, &r[i].job, -1, NULL, 0, false);
			r[i].ret = -ENOSPC;
			tally->no_room = true;
			continue;
		}
		r[i].ret = rswap_server_migrate_start(r[i].job.src_srv, r[i].job.src_remote,
						      r[i].job.src, r[i].target, r[i].tidx,
						      r[i].tremote, &r[i].ticket);
		if (r[i].ret)
			copy_end(dev, &r[i], r[i].ret, tally);
	}
	for (i = 0; i < n; i++)
		if (!r[i].ret)
			copy_end(dev, &r[i], rswap_server_migrate_wait(r[i].job.src_srv,
								       &r[i].ticket), tally);
}

void rswap_copies_repair(struct rswap_dev *dev)
{
	struct rswap_copy_run r[RSWAP_MOVES_IN_FLIGHT];
	struct rswap_copy_tally tally = {};
	u32 from = 0, wanting;
	bool said = false;
	unsigned int n;
	ktime_t start;
	u64 ms;

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
	while (!READ_ONCE(dev->dying) && !tally.no_room) {
		for (n = 0; n < rswap_moves_batch() && rswap_slab_copy_begin(dev, &from, &r[n].job);)
			n++;
		if (!n)
			break;
		copy_batch(dev, r, n, &tally);
		if (!said && (tally.made || tally.failed)) {
			said = true;
			pr_info("%s: %u slabs have fewer than %u copies: copying them server to server\n",
				dev->name, wanting, dev->n_replicas);
		}
		/* A server waiting for a move goes first; this goes on after it. */
		if (rswap_evac_waiting(dev)) {
			rswap_copies_kick(dev);
			break;
		}
	}
	/* No server to copy to: said once until a copy can be made again. */
	if (!tally.made && !tally.failed) {
		if (tally.no_room && !dev->copies_stuck_said)
			pr_warn("%s: %u slabs have fewer than %u copies, and no other server can take one\n",
				dev->name, wanting, dev->n_replicas);
		dev->copies_stuck_said = tally.no_room;
		return;
	}
	dev->copies_stuck_said = false;
	/* Never 0, which means none due. */
	if (tally.failed) {
		dev->copies_retry_delay = clamp(2 * dev->copies_retry_delay, RSWAP_COPY_RETRY,
						RSWAP_COPY_RETRY_MAX);
		WRITE_ONCE(dev->copies_retry_at, (jiffies + dev->copies_retry_delay) | 1);
	} else {
		dev->copies_retry_delay = 0;
	}
	/*
	 * Every set whole again: the degraded episode is over, and a set made
	 * short of a copy later is said again (grant_copies), whether or not a
	 * whole set was granted meanwhile.
	 */
	write_seqlock(&dev->lock);
	if (!dev->replicas.degraded)
		dev->degraded_said = false;
	write_sequnlock(&dev->lock);
	ms = max_t(u64, ktime_ms_delta(ktime_get(), start), 1);
	pr_info("%s: %u new copies (%llu MiB, %llu MiB/s), %u failed%s; %u slabs degraded\n",
		dev->name, tally.made, tally.pages * RSWAP_PAGE_SIZE >> 20,
		(tally.pages * RSWAP_PAGE_SIZE >> 20) * 1000 / ms, tally.failed,
		tally.no_room ? ", no other server can take more" : "",
		READ_ONCE(dev->replicas.degraded));
}
