// SPDX-License-Identifier: GPL-2.0
/*
 * rswap_slabs: the slab table, the reserve of free slots, and placement.
 *
 * The map (rswap_map.c) names a slab by its index in dev->slabs; the entry
 * there says which server holds it and how to reach it (address, rkey).
 * Reconnects and reattaches change an entry's rkey and address, never the
 * index, so the map is untouched when a server comes back (DESIGN.md: the
 * location lives in one table).
 *
 * The write path never waits for a grant: refill_work keeps at least
 * reserve_slabs slabs' worth of free slots ahead of it, asking the server
 * that can still grant the most. Slabs that empty out go back to their
 * server (return_work) once the reserve is comfortably above the watermark,
 * and all of them go back while the device is not open.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "rswap.h"

/*
 * The reserve's floor. In slabs, but never less than 16 MiB: reclaim writes
 * in bursts, and with small slabs two of them are gone before one grant
 * round trip ends. A write that finds no slot is retried by blk-mq, and
 * meanwhile reclaim cannot free what it is writing: with too small a
 * reserve a cgroup at its memory.max runs out of retries and OOMs.
 */
#define RSWAP_RESERVE_MIN_PAGES ((16u << 20) / RSWAP_PAGE_SIZE)

static u64 reserve_floor(struct rswap_dev *dev)
{
	return max_t(u64, (u64)rswap_reserve_slabs_now() * dev->pages_per_slab,
		     RSWAP_RESERVE_MIN_PAGES);
}

/* Free slots to keep ahead of writes: the floor, or more at a high write rate (rswap_reserve.h). */
static u64 reserve_low(struct rswap_dev *dev)
{
	lockdep_assert_held(&dev->lock.lock);
	return max(dev->reserve_pages, reserve_floor(dev));
}

/*
 * The write rate now, and so the reserve (the refill, and reserve_work).
 * While it is doubled, reserve_work looks again once a calm spell could
 * have passed: with nothing below the reserve the refill never runs, and
 * a doubled reserve would hold server memory for good.
 */
static void reserve_update(struct rswap_dev *dev)
{
	lockdep_assert_held(&dev->lock.lock);
	rswap_reserve_sample(&dev->reserve_est, dev->slots.taken, rswap_stat_sum(dev, no_slot),
			     ktime_get_ns());
	dev->reserve_pages = rswap_reserve_pages(&dev->reserve_est, reserve_floor(dev),
						 rswap_reserve_cap(dev->n_pages), dev->pages_per_slab);
	if (dev->reserve_est.shift && !READ_ONCE(dev->dying))
		mod_delayed_work(dev->wq, &dev->reserve_work,
				 nsecs_to_jiffies(RSWAP_RESERVE_CALM_NS) + 1);
}

/* A calm spell's end: the reserve halves, and empty slabs beyond it go back. */
void rswap_reserve_work(struct work_struct *work)
{
	struct rswap_dev *dev = container_of(to_delayed_work(work), struct rswap_dev,
					     reserve_work);

	write_seqlock(&dev->lock);
	if (dev->slots_ready)
		reserve_update(dev);
	write_sequnlock(&dev->lock);
	if (!READ_ONCE(dev->dying))
		queue_work(dev->wq, &dev->return_work);
}

/* Free slots the device keeps ahead of its writes now (sysfs). */
u64 rswap_reserve_now(struct rswap_dev *dev)
{
	u64 n = 0;

	write_seqlock(&dev->lock);
	if (dev->slots_ready)
		n = reserve_low(dev);
	write_sequnlock(&dev->lock);
	return n;
}

/*
 * Called at every handshake; only the first one, before the device can
 * hold any page, allocates (under connect_work's memalloc_noio scope, so
 * the allocation cannot recurse into swap I/O). Reconnects find the table
 * ready and allocate nothing.
 */
int rswap_slabs_setup(struct rswap_dev *dev, u64 slab_size)
{
	struct rswap_replicas reps;
	struct rswap_slots slots;
	struct rswap_slab *slabs;
	u32 pps, max_slabs, i;
	int ret;

	/* Under the server's ctrl_mutex: setup_mutex is below it, servers_mutex above. */
	mutex_lock(&dev->setup_mutex);
	if (dev->slots_ready) {
		ret = slab_size == dev->slab_size ? 0 : -EINVAL;
		goto out;
	}
	if (!slab_size || slab_size % RSWAP_PAGE_SIZE || slab_size > RSWAP_MAX_SLAB_SIZE) {
		ret = -EINVAL;
		goto out;
	}
	pps = slab_size / RSWAP_PAGE_SIZE;
	/*
	 * Slots free up unevenly: room for twice the slabs the device fills,
	 * each with its copies (the copies of a set are entries too).
	 */
	max_slabs = (DIV_ROUND_UP_ULL(dev->n_pages, pps) * 2 + rswap_reserve_slabs_now() +
		     2 * RSWAP_MAX_SERVERS) * dev->n_replicas;
	/*
	 * Before any REMOTE entry: the map names slots by slab * pps + page.
	 * A device rswap_config_check accepted always fits (it counts the
	 * largest slabs and reserve); this is the last line of defence.
	 */
	ret = rswap_map_geometry(&dev->map, max_slabs, pps);
	if (ret) {
		pr_err("%s: slabs of %llu KiB: %u of them have more slots than a map entry can name (2^%u)\n",
		       dev->name, slab_size >> 10, max_slabs, RSWAP_ENTRY_SLOT_BITS);
		goto out;
	}
	ret = rswap_slots_init(&slots, max_slabs, pps);
	if (ret)
		goto out;
	ret = rswap_replica_init(&reps, max_slabs, pps, dev->n_replicas);
	if (ret)
		goto out_slots;
	slabs = kvcalloc(max_slabs, sizeof(*slabs), GFP_KERNEL);
	if (!slabs) {
		ret = -ENOMEM;
		goto out_replicas;
	}
	for (i = 0; i < max_slabs; i++)
		slabs[i].set = RSWAP_NO_SLAB;
	write_seqlock(&dev->lock);
	dev->slots = slots;
	dev->replicas = reps;
	dev->slabs = slabs;
	dev->pages_per_slab = pps;
	dev->slab_size = slab_size;
	/* Last: the read path, without the lock, reads the table once it sees it. */
	smp_store_release(&dev->slots_ready, true);
	write_sequnlock(&dev->lock);
	pr_info("%s: slabs of %llu KiB, up to %u of them, %u %s each\n", dev->name,
		slab_size >> 10, max_slabs, dev->n_replicas,
		dev->n_replicas == 1 ? "copy" : "copies");
	goto out;
out_replicas:
	rswap_replica_fini(&reps);
out_slots:
	rswap_slots_fini(&slots);
out:
	mutex_unlock(&dev->setup_mutex);
	return ret;
}

void rswap_slabs_fini(struct rswap_dev *dev)
{
	if (!dev->slots_ready)
		return;
	rswap_slots_fini(&dev->slots);
	rswap_replica_fini(&dev->replicas);
	kvfree(dev->slabs);
	dev->slabs = NULL;
	dev->slots_ready = false;
}

static bool slab_set_state(struct rswap_dev *dev, u32 i, enum rswap_slab_state to);

/*
 * Caller holds dev->lock. Set @set takes new pages exactly while its
 * primary is ACTIVE and every copy it was made with is LIVE on an ACTIVE
 * entry (a FROZEN copy is being moved: no write may race its copy). So no
 * copy ever misses a write to a slot the map names: a set with a copy
 * down takes no pages, writes in flight to it fail and are retried in
 * other slots, and the copy is up to date again when its server is back.
 */
static void set_refresh(struct rswap_dev *dev, u32 set)
{
	const struct rswap_copy_set *cs = &dev->replicas.sets[set];
	const struct rswap_slab *primary = &dev->slabs[set];
	bool takes = primary->state == RSWAP_SLAB_ACTIVE && primary->set == set &&
		     cs->n_live >= primary->width;
	u32 c;

	lockdep_assert_held(&dev->lock.lock);
	for (c = 0; takes && c < dev->n_replicas; c++)
		if (cs->copy[c].state == RSWAP_COPY_LIVE &&
		    dev->slabs[cs->copy[c].entry].state != RSWAP_SLAB_ACTIVE)
			takes = false;
	if (takes) {
		rswap_slots_activate(&dev->slots, set);
		dev->no_room = false;
	} else {
		rswap_slots_deactivate(&dev->slots, set);
	}
}

/*
 * Caller holds dev->lock: copy @c of @set (entry @i) follows its entry into
 * @to. Only the entry that holds the position does: a primary lost from a
 * written set stays as the set's holder (LOST) after a new copy took its
 * position (rswap_copies.c), and what becomes of the holder is no news of
 * that copy. When the holder itself goes (FREE, RETURNING: the set is
 * empty, or the device goes), every copy of the set goes with it, so no
 * entry ever names a set whose index is reused.
 */
static void copy_follow_entry(struct rswap_dev *dev, u32 i, enum rswap_slab_state to)
{
	struct rswap_replicas *rs = &dev->replicas;
	const struct rswap_slab *slab = &dev->slabs[i];
	u32 set = slab->set, c = slab->copy, m;
	const struct rswap_copy *cp = &rs->sets[set].copy[c];
	enum rswap_copy_state cst = cp->state;
	enum rswap_copy_state want = cst;
	bool holds = cp->entry == i || cp->entry == RSWAP_NO_SLAB;
	bool leaving = to == RSWAP_SLAB_LOST || to == RSWAP_SLAB_RETURNING ||
		       to == RSWAP_SLAB_FREE;

	lockdep_assert_held(&dev->lock.lock);
	switch (to) {
	case RSWAP_SLAB_ACTIVE:
		/* Back, or new: up to date (see set_refresh), unless it was lost. */
		if (cst == RSWAP_COPY_STALE || cst == RSWAP_COPY_ABSENT)
			want = RSWAP_COPY_LIVE;
		break;
	case RSWAP_SLAB_DETACHED:
		if (cst == RSWAP_COPY_LIVE)
			want = RSWAP_COPY_STALE;
		break;
	case RSWAP_SLAB_COPYING:
		want = RSWAP_COPY_NEW;	/* set_takes_fill: a LIVE copy to fill it from */
		break;
	case RSWAP_SLAB_LOST:
	case RSWAP_SLAB_RETURNING:
	case RSWAP_SLAB_FREE:
		want = RSWAP_COPY_ABSENT;
		break;
	default:
		break;
	}
	if (!holds)
		want = cst;
	/* -EBUSY into LIVE: a copy lost from a set written since stays out. */
	if (want != cst && rswap_replica_set_state(rs, set, c, want, i) && want != RSWAP_COPY_LIVE)
		WARN_ONCE(1, "rswap: %s: copy %u of slab %u: %s -> %s refused\n", dev->name, c,
			  set, rswap_copy_state_name(cst), rswap_copy_state_name(want));
	if (leaving && set == i && to != RSWAP_SLAB_LOST) {
		/* The set goes with its primary: so do its other copies. */
		for (m = 0; m < dev->n_replicas; m++) {
			u32 e = rs->sets[set].copy[m].entry;

			if (e == RSWAP_NO_SLAB || e == i)
				continue;
			if (dev->slabs[e].state == RSWAP_SLAB_LOST)
				slab_set_state(dev, e, RSWAP_SLAB_FREE);
			else
				slab_set_state(dev, e, RSWAP_SLAB_RETURNING);
		}
		rswap_replica_emptied(rs, set);
	} else if (leaving && set != i && (!holds || cp->state == RSWAP_COPY_ABSENT)) {
		dev->slabs[i].set = RSWAP_NO_SLAB;
	}
	set_refresh(dev, set);
}

/*
 * The one place an entry's state changes (rswap_lifecycle.h has the
 * diagram). Keeps the derived state in step: its copy's state
 * (copy_follow_entry), slot allocation of its set (set_refresh), and a
 * server's slab count, which counts its entries that are not FREE. A
 * transition the diagram does not have is a bug: refused, warned. The
 * caller sets slab->srv (and the location, and the set) before leaving
 * FREE.
 */
static bool slab_set_state(struct rswap_dev *dev, u32 i, enum rswap_slab_state to)
{
	struct rswap_slab *slab = &dev->slabs[i];
	enum rswap_slab_state from = slab->state;
	struct rswap_slab_slots *ss = &dev->slots.slabs[i];

	lockdep_assert_held(&dev->lock.lock);
	if (!rswap_slab_may(from, to)) {
		WARN_ONCE(1, "rswap: %s: slab entry %u: %s -> %s refused\n", dev->name, i,
			  rswap_slab_state_name(from), rswap_slab_state_name(to));
		return false;
	}
	if (from == RSWAP_SLAB_FREE) {
		ss->cursor = 0;
		if (slab->srv)
			atomic_inc(&slab->srv->slabs);
	}
	WRITE_ONCE(slab->state, to);	/* read without the lock (rswap_slab_read_copy) */
	if (slab->set != RSWAP_NO_SLAB)
		copy_follow_entry(dev, i, to);
	if (to == RSWAP_SLAB_FREE) {
		rswap_slots_deactivate(&dev->slots, i);
		/* Pages it still names are dropped: only as the device goes. */
		if (ss->used) {
			memset(ss->bitmap, 0, BITS_TO_LONGS(dev->pages_per_slab) * sizeof(long));
			ss->used = 0;
		}
		if (slab->srv)		/* NULL: a lost slab of a removed server */
			atomic_dec(&slab->srv->slabs);
		/* A lockless read sees the server or NULL, never a half-zeroed one. */
		WRITE_ONCE(slab->srv, NULL);
		memset(slab, 0, sizeof(*slab));
		slab->set = RSWAP_NO_SLAB;
	}
	return true;
}

/* Caller holds dev->lock: the slots of entry @i's set are in use. */
static u32 slab_used(struct rswap_dev *dev, u32 i)
{
	u32 set = dev->slabs[i].set;

	lockdep_assert_held(&dev->lock.lock);
	return set == RSWAP_NO_SLAB ? 0 : dev->slots.slabs[set].used;
}

/* Bit n for dev->servers[n] holding a copy of entry @idx's set (or @idx itself). */
u32 rswap_slab_copy_servers(struct rswap_dev *dev, u32 idx)
{
	const struct rswap_copy_set *cs;
	u32 mask = 0, c, set;

	read_seqlock_excl(&dev->lock);
	set = dev->slabs[idx].set;
	if (dev->slabs[idx].srv)
		mask |= 1u << dev->slabs[idx].srv->idx;
	if (set != RSWAP_NO_SLAB) {
		cs = &dev->replicas.sets[set];
		for (c = 0; c < dev->n_replicas; c++)
			if (cs->copy[c].entry != RSWAP_NO_SLAB &&
			    dev->slabs[cs->copy[c].entry].srv)
				mask |= 1u << dev->slabs[cs->copy[c].entry].srv->idx;
	}
	read_sequnlock_excl(&dev->lock);
	return mask;
}

/*
 * The copy a read of @set goes to: a LIVE copy on an entry that serves
 * reads (ACTIVE, FROZEN) of a usable server; of those, @prefer (the copy
 * the request's previous page of the same set came from, so a run of
 * slots stays one READ; -1 for none) if it can serve, else the one whose
 * server's queue pair for hardware queue @queue has the fewest WRs in
 * flight (rswap_replica_read_pick). Copies on the servers in @avoid_srv (a
 * mask of server idx: they gave this page a wrong checksum) are taken
 * only when no other can serve. Its copy position, with its entry in
 * *@slab and server in *@srv; or -EAGAIN when none can now but one may
 * come back (a server down), or -ENODATA when none is left (lost).
 *
 * Caller holds dev->lock, or is in a read section of it (do_read) and
 * checks the sequence afterwards: then a writer may change the table
 * under us, and what we read may be half old, half new. So every index
 * read from the table is checked before it is used, the server is read
 * once (a FREE entry is zeroed), and a combination the table never holds
 * (an entry serving reads without a server) returns -ESTALE: the caller
 * plans again under the lock. An answer built from a torn read is never
 * used: the sequence changed.
 */
int rswap_slab_read_copy(struct rswap_dev *dev, u32 set, unsigned int queue, int prefer,
			 u32 avoid_srv, const struct rswap_slab **slab,
			 struct rswap_server **srv)
{
	const struct rswap_copy_set *cs = &dev->replicas.sets[set];
	u32 inflight[RSWAP_MAX_REPLICAS] = {};
	const struct rswap_slab *copy_slab[RSWAP_MAX_REPLICAS] = {};
	struct rswap_server *copy_srv[RSWAP_MAX_REPLICAS] = {};
	u32 tried = 0, avoid = 0;
	int c, pick = -1;

	for (c = 0; c < (int)dev->n_replicas; c++) {
		u32 entry = READ_ONCE(cs->copy[c].entry);
		enum rswap_slab_state st;
		struct rswap_server *s_srv;
		struct rswap_qp *q;
		unsigned int nr_qps;

		if (READ_ONCE(cs->copy[c].state) != RSWAP_COPY_LIVE)
			continue;	/* read_pick passes it over */
		if (entry >= dev->slots.max_slabs)
			return -ESTALE;
		st = READ_ONCE(dev->slabs[entry].state);
		s_srv = READ_ONCE(dev->slabs[entry].srv);
		if (st != RSWAP_SLAB_ACTIVE && st != RSWAP_SLAB_FROZEN) {
			tried |= 1u << c;
			continue;
		}
		if (!s_srv)
			return -ESTALE;
		if (!rswap_server_usable(s_srv)) {
			tried |= 1u << c;
			continue;
		}
		copy_slab[c] = &dev->slabs[entry];
		copy_srv[c] = s_srv;
		if (avoid_srv & (1u << s_srv->idx))
			avoid |= 1u << c;
		if (c == prefer && !(avoid & (1u << c))) {
			pick = c;
			break;
		}
		/* READY, so its queue pairs are there (rswap_server_qp). */
		nr_qps = READ_ONCE(s_srv->nr_qps);
		if (!nr_qps)
			return -ESTALE;
		q = &s_srv->qps[queue % nr_qps];
		inflight[c] = q->sq_depth - (u32)max(atomic_read(&q->sq_credits), 0);
	}
	if (pick < 0)
		pick = rswap_replica_read_pick(&dev->replicas, set, inflight, tried | avoid);
	if (pick < 0 && (avoid & ~tried))
		pick = rswap_replica_read_pick(&dev->replicas, set, inflight, tried);
	if (pick < 0)
		return READ_ONCE(cs->n_present) ? -EAGAIN : -ENODATA;
	/* read_pick read the states again: one we passed over is torn */
	if (!copy_slab[pick])
		return -ESTALE;
	*slab = copy_slab[pick];
	*srv = copy_srv[pick];
	return pick;
}

/*
 * Caller holds dev->lock. May a new copy join @set at position @copy? Its
 * primary must still be the set's, not lost, and the position free, and
 * the set unwritten (a copy of a written set is made by copying, not by a
 * grant).
 */
static bool set_takes_copy(struct rswap_dev *dev, u32 set, u32 copy)
{
	const struct rswap_slab *p = &dev->slabs[set];
	const struct rswap_copy_set *cs = &dev->replicas.sets[set];

	lockdep_assert_held(&dev->lock.lock);
	return set < dev->slots.max_slabs && copy && copy < dev->n_replicas && p->set == set &&
	       p->state == RSWAP_SLAB_ACTIVE && cs->copy[copy].state == RSWAP_COPY_ABSENT &&
	       !cs->written;
}

/*
 * Caller holds dev->lock. May a new copy be filled into @set at position
 * @copy? The set must still be held (its primary names it), the position
 * free, and a LIVE copy there to fill it from.
 */
static bool set_takes_fill(struct rswap_dev *dev, u32 set, u32 copy)
{
	const struct rswap_copy_set *cs;

	lockdep_assert_held(&dev->lock.lock);
	if (set >= dev->slots.max_slabs || copy >= dev->n_replicas || dev->slabs[set].set != set)
		return false;
	cs = &dev->replicas.sets[set];
	return cs->copy[copy].state == RSWAP_COPY_ABSENT && cs->n_live;
}

/*
 * A new entry for @srv's slab @remote in state @st (ACTIVE: granted;
 * FILLING: a move's target; RETURNING: one to give back; COPYING: a new
 * copy of @set at @copy, to be filled). An ACTIVE one starts a set of its
 * own (@set RSWAP_NO_SLAB; made for n_replicas copies, it takes pages once
 * they are all there or grant_copies says how many it got), or joins @set
 * as copy @copy; one that can no longer join is given back (RETURNING).
 * Returns its index, -ENOSPC when the table is full, or -EEXIST when this
 * connection gave us that slab already (the caller fails the connection,
 * and must not RETURN it: our other entry holds pages there).
 */
int rswap_slab_add(struct rswap_dev *dev, struct rswap_server *srv, u32 remote, u32 rkey,
		   u64 addr, enum rswap_slab_state st, u32 set, u32 copy)
{
	u32 i;

	write_seqlock(&dev->lock);
	/*
	 * A slab this connection already gave us, granted again: two entries
	 * over the same memory would overwrite each other's pages. Not one
	 * we are giving back (the server may grant it anew between our RETURN
	 * and our freeing the entry), nor one of an earlier connection.
	 */
	for (i = 0; i < dev->slots.max_slabs; i++) {
		const struct rswap_slab *slab = &dev->slabs[i];

		if (slab->srv == srv && slab->remote == remote && slab->epoch == srv->epoch &&
		    slab->state != RSWAP_SLAB_FREE && slab->state != RSWAP_SLAB_RETURNING &&
		    slab->state != RSWAP_SLAB_LOST) {
			write_sequnlock(&dev->lock);
			pr_warn_ratelimited("%s: granted slab %u, which it gave us already\n",
					    srv->name, remote);
			return -EEXIST;
		}
	}
	for (i = 0; i < dev->slots.max_slabs; i++) {
		struct rswap_slab *slab = &dev->slabs[i];

		if (slab->state != RSWAP_SLAB_FREE)
			continue;
		WRITE_ONCE(slab->srv, srv);
		slab->remote = remote;
		slab->rkey = rkey;
		slab->addr = addr;
		slab->epoch = srv->epoch;
		slab->set = RSWAP_NO_SLAB;
		if (st == RSWAP_SLAB_ACTIVE && set == RSWAP_NO_SLAB) {
			slab->set = i;
			slab->copy = 0;
			slab->width = dev->n_replicas;
		} else if (st == RSWAP_SLAB_ACTIVE && set_takes_copy(dev, set, copy)) {
			slab->set = set;
			slab->copy = copy;
		} else if (st == RSWAP_SLAB_COPYING && set_takes_fill(dev, set, copy)) {
			slab->set = set;
			slab->copy = copy;
		} else if (st == RSWAP_SLAB_ACTIVE || st == RSWAP_SLAB_COPYING) {
			st = RSWAP_SLAB_RETURNING;
		}
		if (!slab_set_state(dev, i, st)) {
			memset(slab, 0, sizeof(*slab));
			slab->set = RSWAP_NO_SLAB;
			break;
		}
		write_sequnlock(&dev->lock);
		if (st == RSWAP_SLAB_RETURNING)
			queue_work(dev->wq, &dev->return_work);
		return i;
	}
	write_sequnlock(&dev->lock);
	pr_warn_ratelimited("%s: slab table full (%u slabs)\n", dev->name, dev->slots.max_slabs);
	return -ENOSPC;
}

/*
 * @srv is being removed. Its LOST entries stay (their pages read as errors
 * until rewritten or freed) but no longer point at it; entries owed to it
 * (RETURNING, FILLING) are forgotten, since nobody will take them now.
 * Returns false, changing nothing, if it holds an entry with pages we can
 * still read, or owes us a RETURN while it is usable (try again shortly).
 */
bool rswap_slabs_release_server(struct rswap_dev *dev, struct rswap_server *srv)
{
	bool usable = rswap_server_usable(srv), ok = true;
	u32 i;

	if (!dev->slots_ready)
		return true;
	write_seqlock(&dev->lock);
	for (i = 0; ok && i < dev->slots.max_slabs; i++) {
		const struct rswap_slab *slab = &dev->slabs[i];

		if (slab->srv != srv || slab->state == RSWAP_SLAB_FREE ||
		    slab->state == RSWAP_SLAB_LOST)
			continue;
		if (usable || (slab->state != RSWAP_SLAB_RETURNING &&
			       slab->state != RSWAP_SLAB_FILLING &&
			       slab->state != RSWAP_SLAB_COPYING))
			ok = false;
	}
	for (i = 0; ok && i < dev->slots.max_slabs; i++) {
		struct rswap_slab *slab = &dev->slabs[i];

		if (slab->srv != srv)
			continue;
		if (slab->state == RSWAP_SLAB_LOST) {
			atomic_dec(&srv->slabs);
			WRITE_ONCE(slab->srv, NULL);
		} else if (slab->state != RSWAP_SLAB_FREE) {
			slab_set_state(dev, i, RSWAP_SLAB_FREE);
		}
	}
	write_sequnlock(&dev->lock);
	return ok;
}

/* @srv went down: its slabs take no new pages, their pages wait for it. */
void rswap_slabs_detach(struct rswap_dev *dev, struct rswap_server *srv)
{
	u32 i;

	if (!dev->slots_ready)
		return;
	write_seqlock(&dev->lock);
	for (i = 0; i < dev->slots.max_slabs; i++) {
		struct rswap_slab *slab = &dev->slabs[i];

		if (slab->srv == srv && (slab->state == RSWAP_SLAB_ACTIVE ||
					 slab->state == RSWAP_SLAB_FROZEN))
			slab_set_state(dev, i, RSWAP_SLAB_DETACHED);
	}
	write_sequnlock(&dev->lock);
}

static void report_lost(struct rswap_server *srv, u32 n_lost)
{
	if (!n_lost)
		return;
	atomic64_add(n_lost, &srv->lost_slabs);
	pr_err("%s: %u slabs with pages on them are lost; reads of those pages fail\n",
	       srv->name, n_lost);
}

/*
 * Caller holds dev->lock: detached entry @i cannot be reattached (for
 * now). A mirror holds no slots of its own: it is dropped from its set. A
 * primary with pages stays, LOST, as its set's holder. Returns 1 when this
 * took the last copy of a set with pages (they are lost), else 0.
 */
static u32 slab_lose(struct rswap_dev *dev, u32 i)
{
	u32 set = dev->slabs[i].set;
	bool had;

	lockdep_assert_held(&dev->lock.lock);
	if (set == RSWAP_NO_SLAB) {
		slab_set_state(dev, i, RSWAP_SLAB_FREE);
		return 0;
	}
	had = dev->replicas.sets[set].n_present;
	if (set != i || !dev->slots.slabs[i].used)
		slab_set_state(dev, i, RSWAP_SLAB_FREE);
	else
		slab_set_state(dev, i, RSWAP_SLAB_LOST);
	return had && !dev->replicas.sets[set].n_present && dev->slots.slabs[set].used;
}

/*
 * @srv has been unreachable for loss_timeout: pages on its detached slabs
 * count as lost (reads fail). Entries owed to it stay owed: if it comes
 * back with them, they are reattached or given back then.
 */
void rswap_slabs_lose(struct rswap_dev *dev, struct rswap_server *srv)
{
	u32 i, n_lost = 0;

	if (!dev->slots_ready)
		return;
	write_seqlock(&dev->lock);
	for (i = 0; i < dev->slots.max_slabs; i++)
		if (dev->slabs[i].srv == srv && dev->slabs[i].state == RSWAP_SLAB_DETACHED)
			n_lost += slab_lose(dev, i);
	write_sequnlock(&dev->lock);
	report_lost(srv, n_lost);
}

/*
 * After @srv listed the slabs it keeps for us (REATTACH), or came back as
 * a different server (nothing listed): whatever of ours it did not list
 * is not there. Pages on such slabs are lost; slabs owed to it or being
 * filled there need no RETURN any more.
 */
void rswap_slabs_sweep_unlisted(struct rswap_dev *dev, struct rswap_server *srv)
{
	u32 i, n_lost = 0;

	if (!dev->slots_ready)
		return;
	write_seqlock(&dev->lock);
	for (i = 0; i < dev->slots.max_slabs; i++) {
		struct rswap_slab *slab = &dev->slabs[i];

		if (slab->srv != srv || slab->epoch == srv->epoch)
			continue;
		switch (slab->state) {
		case RSWAP_SLAB_ACTIVE:
		case RSWAP_SLAB_FROZEN:
			/* Not detached yet (a first connect): detach, then lose. */
			slab_set_state(dev, i, RSWAP_SLAB_DETACHED);
			fallthrough;
		case RSWAP_SLAB_DETACHED:
			n_lost += slab_lose(dev, i);
			break;
		case RSWAP_SLAB_RETURNING:
		case RSWAP_SLAB_FILLING:
		case RSWAP_SLAB_COPYING:
			slab_set_state(dev, i, RSWAP_SLAB_FREE);
			break;
		default:
			break;
		}
	}
	write_sequnlock(&dev->lock);
	report_lost(srv, n_lost);
}

/* Caller holds dev->lock: the table entry of @srv's slab @remote, or -ENOENT. */
static int slab_index(struct rswap_dev *dev, struct rswap_server *srv, u32 remote)
{
	u32 i;

	lockdep_assert_held(&dev->lock.lock);
	for (i = 0; i < dev->slots.max_slabs; i++)
		if (dev->slabs[i].state != RSWAP_SLAB_FREE && dev->slabs[i].srv == srv &&
		    dev->slabs[i].remote == remote)
			return i;
	return -ENOENT;
}

/*
 * @srv lists its slab @remote as ours, reachable now with @rkey at @addr.
 * A lost entry is DETACHED again (rswap_slabs_activate makes the listed
 * ones ACTIVE when the server is READY); the others keep their state (a
 * RETURNING one is given back, a FILLING one goes on filling). Returns
 * -ENOENT if we have no entry for it.
 */
int rswap_slab_reattach(struct rswap_dev *dev, struct rswap_server *srv, u32 remote,
			u32 rkey, u64 addr)
{
	struct rswap_slab *slab;
	int i;

	if (!dev->slots_ready)
		return -ENOENT;
	write_seqlock(&dev->lock);
	i = slab_index(dev, srv, remote);
	if (i >= 0) {
		slab = &dev->slabs[i];
		slab->rkey = rkey;
		slab->addr = addr;
		slab->epoch = srv->epoch;
		if (slab->state == RSWAP_SLAB_LOST)
			slab_set_state(dev, i, RSWAP_SLAB_DETACHED);
	}
	write_sequnlock(&dev->lock);
	return i < 0 ? i : 0;
}

/* @srv is READY: the detached entries its connection listed take pages again. */
void rswap_slabs_activate(struct rswap_dev *dev, struct rswap_server *srv)
{
	u32 i;

	if (!dev->slots_ready)
		return;
	write_seqlock(&dev->lock);
	for (i = 0; i < dev->slots.max_slabs; i++) {
		struct rswap_slab *slab = &dev->slabs[i];

		if (slab->srv == srv && slab->state == RSWAP_SLAB_DETACHED &&
		    slab->epoch == srv->epoch)
			slab_set_state(dev, i, RSWAP_SLAB_ACTIVE);
	}
	write_sequnlock(&dev->lock);
}

/*
 * @srv is being freed: no entry may point at it any more. Lost entries
 * keep their state (their pages read as errors until rewritten or freed);
 * any other is forgotten (at removal, rswap_slabs_release_server has made
 * sure none holds pages; at device teardown nothing will read them).
 */
void rswap_slabs_forget_server(struct rswap_dev *dev, struct rswap_server *srv)
{
	u32 i;

	if (!dev->slots_ready)
		return;
	write_seqlock(&dev->lock);
	for (i = 0; i < dev->slots.max_slabs; i++) {
		struct rswap_slab *slab = &dev->slabs[i];

		if (slab->srv != srv || slab->state == RSWAP_SLAB_FREE)
			continue;
		if (slab->state == RSWAP_SLAB_LOST) {
			atomic_dec(&srv->slabs);
			WRITE_ONCE(slab->srv, NULL);
		} else {
			slab_set_state(dev, i, RSWAP_SLAB_FREE);
		}
	}
	write_sequnlock(&dev->lock);
}

/* Caller holds dev->lock: @old no longer holds its slot. */
void rswap_slot_release(struct rswap_dev *dev, const struct rswap_entry *old)
{
	u32 i, page;

	lockdep_assert_held(&dev->lock.lock);
	if (rswap_entry_type(old) != RSWAP_REMOTE)
		return;
	i = rswap_entry_where(&dev->map, old, &page);	/* one divide, as the read path */
	if (!rswap_slots_free(&dev->slots, i, page))
		return;
	/* The slab is empty now. */
	if (dev->slabs[i].state == RSWAP_SLAB_LOST)
		slab_set_state(dev, i, RSWAP_SLAB_FREE);
	else if (dev->slabs[i].state == RSWAP_SLAB_ACTIVE)
		queue_work(dev->wq, &dev->return_work);
}

/* Caller holds dev->lock. */
void rswap_reserve_check(struct rswap_dev *dev)
{
	lockdep_assert_held(&dev->lock.lock);
	if (dev->openers && dev->slots_ready && dev->slots.free_slots < reserve_low(dev))
		queue_work(dev->refill_wq, &dev->refill_work);
}

/*
 * The server to ask for the next slab: ready, and able to grant the most;
 * among equals, the one holding fewest of ours; never one whose bit
 * (1 << index in dev->servers) is in @except_mask. Caller holds
 * servers_mutex.
 */
/*
 * A refusal is not for ever: a drained server that was undrained, or one a
 * client left, has room again but never says so unasked. Once a refusal is
 * RSWAP_REFUSAL_RETRY_SECS old the server's room is unknown, and it is
 * asked first: its GRANT (or a new refusal) tells. At most one refused
 * GRANT per server in that time.
 */
#define RSWAP_REFUSAL_RETRY_SECS 10

static u32 server_room(const struct rswap_server *srv)
{
	if (!srv->free_hint &&
	    time_after(jiffies, srv->hint_at + RSWAP_REFUSAL_RETRY_SECS * HZ))
		return U32_MAX;
	return srv->free_hint;
}

/* Servers a grant could go to now (caller holds servers_mutex). */
static u32 grantable_servers(struct rswap_dev *dev)
{
	u32 n = 0;
	int i;

	lockdep_assert_held(&dev->servers_mutex);
	for (i = 0; i < RSWAP_MAX_SERVERS; i++)
		n += dev->servers[i] && rswap_server_usable(dev->servers[i]) &&
		     server_room(dev->servers[i]);
	return n;
}

struct rswap_server *rswap_pick_server(struct rswap_dev *dev, u32 except_mask)
{
	struct rswap_server *best = NULL;
	int i;

	lockdep_assert_held(&dev->servers_mutex);
	for (i = 0; i < RSWAP_MAX_SERVERS; i++) {
		struct rswap_server *srv = dev->servers[i];

		if (!srv || (except_mask & (1u << i)) || !rswap_server_usable(srv) ||
		    !server_room(srv))
			continue;
		if (!best || server_room(srv) > server_room(best) ||
		    (server_room(srv) == server_room(best) &&
		     atomic_read(&srv->slabs) < atomic_read(&best->slabs)))
			best = srv;
	}
	return best;
}

/* @srv's failure domain as a number: the first server of the same name's index. */
static u32 domain_of(struct rswap_dev *dev, const struct rswap_server *srv)
{
	int i;

	if (!srv->domain[0])
		return RSWAP_NO_DOMAIN;
	for (i = 0; i < RSWAP_MAX_SERVERS; i++)
		if (dev->servers[i] && !strcmp(dev->servers[i]->domain, srv->domain))
			return i;
	return RSWAP_NO_DOMAIN;
}

/*
 * Where a copy of entry @idx's set goes (rswap_replica_place): a new one
 * (@moving false), or entry @idx's own copy moved elsewhere (@moving: its
 * server is no candidate, its domain not taken). Never a server with a
 * copy of the set; a domain with one only under RSWAP_PLACE_SPREAD when
 * nothing else can grant (*@same_domain then says so). NULL with *@err
 * -ENOSPC (no server can grant) or -EXDEV (STRICT: only taken domains).
 * Caller holds servers_mutex.
 */
struct rswap_server *rswap_place_copy(struct rswap_dev *dev, u32 idx, bool moving,
				      enum rswap_place_policy policy, bool *same_domain, int *err)
{
	struct rswap_place_cand cand[RSWAP_MAX_SERVERS];
	struct rswap_place_used used[RSWAP_MAX_REPLICAS];
	const struct rswap_server *own = NULL;
	u32 n_cand = 0, n_used = 0, set, c;
	int i, pick;

	lockdep_assert_held(&dev->servers_mutex);
	*same_domain = false;
	write_seqlock(&dev->lock);
	set = dev->slabs[idx].set;
	own = dev->slabs[idx].srv;
	if (set != RSWAP_NO_SLAB) {
		const struct rswap_copy_set *cs = &dev->replicas.sets[set];

		for (c = 0; c < dev->n_replicas; c++) {
			u32 e = cs->copy[c].entry;

			if (e == RSWAP_NO_SLAB || !dev->slabs[e].srv || (moving && e == idx))
				continue;
			used[n_used].server = dev->slabs[e].srv->idx;
			used[n_used++].domain = domain_of(dev, dev->slabs[e].srv);
		}
	}
	write_sequnlock(&dev->lock);
	for (i = 0; i < RSWAP_MAX_SERVERS; i++) {
		struct rswap_server *srv = dev->servers[i];

		if (!srv)
			continue;
		cand[n_cand].server = i;
		cand[n_cand].domain = domain_of(dev, srv);
		cand[n_cand].free_slabs = server_room(srv);
		cand[n_cand].usable = rswap_server_usable(srv) && server_room(srv) &&
				      !(moving && srv == own);
		n_cand++;
	}
	pick = rswap_replica_place(cand, n_cand, used, n_used, policy, same_domain);
	if (pick < 0) {
		*err = pick;
		return NULL;
	}
	return dev->servers[cand[pick].server];
}

/*
 * A server that may take pages again: reconnecting (DOWN), or just failed
 * (a control message unanswered: rswap_server_fail), which is still READY
 * until its error work makes it DOWN.
 */
static bool any_server_coming_back(struct rswap_dev *dev)
{
	int i;

	for (i = 0; i < RSWAP_MAX_SERVERS; i++) {
		struct rswap_server *srv = dev->servers[i];
		enum rswap_server_state st;

		if (!srv)
			continue;
		st = READ_ONCE(srv->state);
		if (st == RSWAP_SRV_DOWN ||
		    (st == RSWAP_SRV_READY && READ_ONCE(srv->ctrl_broken)))
			return true;
	}
	return false;
}

static bool has_servers(struct rswap_dev *dev)
{
	int i;

	for (i = 0; i < RSWAP_MAX_SERVERS; i++)
		if (dev->servers[i])
			return true;
	return false;
}

/*
 * Caller holds servers_mutex. The other copies of the set just granted as
 * entry @set, each on a server the set has no copy on yet. The set takes
 * pages once it has them all, or with what it got when no other server
 * can grant: then it is degraded, said once until sets are whole again.
 */
static void grant_copies(struct rswap_dev *dev, u32 set)
{
	u32 copy, got = 1;
	int tries, e;
	bool said;

	lockdep_assert_held(&dev->servers_mutex);
	for (copy = 1; copy < dev->n_replicas; copy++) {
		for (tries = 0, e = -ENOSPC; e < 0 && tries < RSWAP_MAX_SERVERS; tries++) {
			struct rswap_server *srv;
			bool same;
			int why;

			srv = rswap_place_copy(dev, set, false, RSWAP_PLACE_SPREAD, &same, &why);
			if (!srv)
				break;
			if (same)
				pr_info_ratelimited("%s: a copy shares a failure domain (%s) with another: no server of another domain can grant\n",
						    dev->name, srv->domain);
			e = rswap_server_grant(srv, set, copy);
		}
		if (e < 0)
			break;
		got++;
	}
	write_seqlock(&dev->lock);
	if (dev->slabs[set].set == set) {
		dev->slabs[set].width = got;
		set_refresh(dev, set);
	}
	said = dev->degraded_said;
	if (got < dev->n_replicas)
		dev->degraded_said = true;
	else if (!dev->replicas.degraded)
		dev->degraded_said = false;
	write_sequnlock(&dev->lock);
	if (got < dev->n_replicas)
		rswap_copies_kick(dev);	/* a server may take the copy later */
	if (got < dev->n_replicas && !said)
		pr_warn("%s: degraded: new slabs get %u of replicas=%u copies (too few servers can grant on distinct servers)\n",
			dev->name, got, dev->n_replicas);
	else if (got == dev->n_replicas && said && dev->n_replicas > 1 && !dev->degraded_said)
		pr_info("%s: new slabs get all %u copies again\n", dev->name, got);
}

void rswap_refill_work(struct work_struct *work)
{
	struct rswap_dev *dev = container_of(work, struct rswap_dev, refill_work);
	unsigned int noio = memalloc_noio_save();
	bool need, was, warn;
	int tries, got, k;

	mutex_lock(&dev->servers_mutex);
	for (tries = 0; tries < 4 * RSWAP_MAX_SERVERS && !READ_ONCE(dev->dying); tries++) {
		u32 sets[RSWAP_GRANTS_MAX], want = 0;
		struct rswap_server *srv;
		u64 round;

		write_seqlock(&dev->lock);
		/* No reserve is kept while the device is closed (nothing writes). */
		need = dev->openers && dev->slots_ready;
		if (need) {
			reserve_update(dev);
			need = dev->slots.free_slots < reserve_low(dev);
			/* The slabs short of the reserve, asked for in one round trip. */
			if (need)
				want = min_t(u64, RSWAP_GRANTS_MAX,
					     DIV_ROUND_UP_ULL(reserve_low(dev) - dev->slots.free_slots,
							      dev->pages_per_slab));
		}
		write_sequnlock(&dev->lock);
		if (!need)
			break;
		/*
		 * A refused server is asked again only once its refusal is
		 * RSWAP_REFUSAL_RETRY_SECS old (server_room): asking every
		 * refused server on every refill would turn each write burst
		 * into a GRANT storm against full servers.
		 */
		srv = rswap_pick_server(dev, 0);
		if (!srv)
			break;
		/*
		 * Spread over the servers that can grant, as one slab a round
		 * did: each round asks the roomiest server for its share, and
		 * its answer's free count steers the next pick.
		 */
		want = min(want, server_room(srv));
		want = DIV_ROUND_UP(want, max(grantable_servers(dev), 1u));
		round = ktime_get_ns();
		rswap_fault_grant_delay(srv);
		/* A refusal zeroes the server's free_hint: the next pick is another. */
		if (want > 1) {
			got = rswap_server_grant_many(srv, want, sets);
		} else {
			got = rswap_server_grant(srv, RSWAP_NO_SLAB, 0);
			sets[0] = got;
			got = got < 0 ? got : 1;
		}
		for (k = 0; k < got; k++)
			grant_copies(dev, sets[k]);
		if (got > 0) {
			write_seqlock(&dev->lock);
			rswap_reserve_grant_sample(&dev->reserve_est,
						   div_u64(ktime_get_ns() - round, got));
			write_sequnlock(&dev->lock);
		}
	}
	write_seqlock(&dev->lock);
	need = !dev->slots_ready || !dev->slots.free_slots;
	was = dev->no_room;
	/*
	 * Writes fail at once only when waiting cannot help: no server is
	 * coming back. Judged only while the device is open (no reserve is
	 * kept while it is closed, and nothing writes then); opening it runs
	 * this again.
	 */
	dev->no_room = dev->openers && need && !any_server_coming_back(dev);
	/* Said once per episode, and not before any server was added. */
	warn = dev->no_room && !was && has_servers(dev);
	write_sequnlock(&dev->lock);
	mutex_unlock(&dev->servers_mutex);
	memalloc_noio_restore(noio);
	if (warn)
		pr_warn("%s: no server can take more pages: writes fail\n", dev->name);
}

/* Pick the next slab to give back, from entry *@from on: RETURNING, on a usable server. */
static bool next_return(struct rswap_dev *dev, u32 *from, struct rswap_server **srv,
			u32 *remote)
{
	bool found = false;
	u32 i;

	write_seqlock(&dev->lock);
	for (i = *from; i < dev->slots.max_slabs; i++) {
		struct rswap_slab *slab = &dev->slabs[i];

		if (slab->state == RSWAP_SLAB_RETURNING && rswap_server_usable(slab->srv)) {
			*srv = slab->srv;
			*remote = slab->remote;
			*from = i;
			found = true;
			break;
		}
	}
	write_sequnlock(&dev->lock);
	return found;
}

/* Give back empty slabs beyond the reserve, or all of them with @all. */
static void return_slabs(struct rswap_dev *dev, bool all)
{
	struct rswap_server *srv;
	u32 i, remote;

	if (!dev->slots_ready)
		return;
	write_seqlock(&dev->lock);
	for (i = 0; i < dev->slots.max_slabs; i++) {
		struct rswap_slab *slab = &dev->slabs[i];
		bool keep = dev->openers && !all &&
			    dev->slots.free_slots < reserve_low(dev) + 2 * dev->pages_per_slab;

		/*
		 * Mirrors go back with their primary (copy_follow_entry). An
		 * empty set that takes no pages (a copy lost) is no reserve.
		 */
		if (slab->state == RSWAP_SLAB_ACTIVE && (all || (slab->set == i && !slab->filling &&
		    !dev->slots.slabs[i].used && (!keep || !dev->slots.slabs[i].active))))
			slab_set_state(dev, i, RSWAP_SLAB_RETURNING);
		else if (all && (slab->state == RSWAP_SLAB_FROZEN ||
				 slab->state == RSWAP_SLAB_DETACHED))
			slab_set_state(dev, i, RSWAP_SLAB_RETURNING);
		/*
		 * An empty set whose holder's server was lost: nothing to copy
		 * (rswap_copies.c makes copies of sets with pages) and no
		 * reserve; its live copies go back with it (copy_follow_entry),
		 * or it would stay degraded for good.
		 */
		else if (slab->state == RSWAP_SLAB_LOST && slab->set == i && !slab->filling &&
			 !dev->slots.slabs[i].used)
			slab_set_state(dev, i, RSWAP_SLAB_FREE);
	}
	write_sequnlock(&dev->lock);

	for (i = 0; next_return(dev, &i, &srv, &remote); i++)
		rswap_slab_give_back(dev, i, srv, remote);
}

/*
 * RETURN entry @idx, RETURNING as @srv's slab @remote (read under the lock
 * by the caller), and free the entry once the server confirms. False if it
 * did not (it stays RETURNING and is tried again: at the next return_work,
 * or when the server is back).
 */
bool rswap_slab_give_back(struct rswap_dev *dev, u32 idx, struct rswap_server *srv, u32 remote)
{
	struct rswap_slab *slab = &dev->slabs[idx];

	if (READ_ONCE(rswap_fault_returns)) {
		pr_warn_once("%s: fault injection: slabs are not given back\n", dev->name);
		return false;
	}
	if (rswap_server_return(srv, remote))
		return false;
	write_seqlock(&dev->lock);
	if (slab->state == RSWAP_SLAB_RETURNING && slab->srv == srv && slab->remote == remote)
		slab_set_state(dev, idx, RSWAP_SLAB_FREE);
	write_sequnlock(&dev->lock);
	return true;
}

/* ---- moving a slab to another server (rswap_migrate.c drives it) ---- */

/* The table entry of @srv's slab @remote, or -ENOENT. */
int rswap_slab_find(struct rswap_dev *dev, struct rswap_server *srv, u32 remote)
{
	int ret;

	if (!dev->slots_ready)
		return -ENOENT;
	write_seqlock(&dev->lock);
	ret = slab_index(dev, srv, remote);
	write_sequnlock(&dev->lock);
	return ret;
}

/* Caller holds dev->lock: is entry @idx still @srv's slab @remote, in state @st? */
static bool slab_is(struct rswap_dev *dev, u32 idx, struct rswap_server *srv, u32 remote,
		    enum rswap_slab_state st)
{
	const struct rswap_slab *slab = &dev->slabs[idx];

	lockdep_assert_held(&dev->lock.lock);
	return slab->state == st && slab->srv == srv && slab->remote == remote;
}

/*
 * Stop placing pages in entry @idx (still @srv's @remote, and ACTIVE):
 * FROZEN. Returns its set's used slots, or -ENOENT (it changed), -EALREADY
 * (on its way back already), -EINPROGRESS (FROZEN: a move of it runs), or
 * -EBUSY (detached, lost or filling). An empty set's primary is not frozen but made RETURNING: there
 * is nothing to copy (-ENODATA), and its mirrors go with it.
 */
int rswap_slab_freeze(struct rswap_dev *dev, u32 idx, struct rswap_server *srv, u32 remote)
{
	struct rswap_slab *slab = &dev->slabs[idx];
	int ret;

	write_seqlock(&dev->lock);
	if (slab->srv != srv || slab->remote != remote || slab->state == RSWAP_SLAB_FREE) {
		ret = -ENOENT;
	} else if (slab->state == RSWAP_SLAB_RETURNING) {
		ret = -EALREADY;
	} else if (slab->state == RSWAP_SLAB_FROZEN) {
		ret = -EINPROGRESS;
	} else if (slab->state != RSWAP_SLAB_ACTIVE) {
		ret = -EBUSY;
	} else if (slab_used(dev, idx) || slab->set != idx) {
		/* An empty mirror moves too (nothing to copy): its primary stays. */
		ret = slab_used(dev, idx);
		slab_set_state(dev, idx, RSWAP_SLAB_FROZEN);
	} else {
		slab_set_state(dev, idx, RSWAP_SLAB_RETURNING);
		ret = -ENODATA;
	}
	write_sequnlock(&dev->lock);
	return ret;
}

/* The move did not happen: entry @idx takes pages again if it is still frozen. */
void rswap_slab_unfreeze(struct rswap_dev *dev, u32 idx, struct rswap_server *srv, u32 remote)
{
	write_seqlock(&dev->lock);
	if (slab_is(dev, idx, srv, remote, RSWAP_SLAB_FROZEN))
		slab_set_state(dev, idx, RSWAP_SLAB_ACTIVE);
	write_sequnlock(&dev->lock);
}

/*
 * Entry @idx, FILLING as @srv's slab @remote, is done with (a move that
 * failed, or the old copy of one that succeeded, now unread): it goes
 * back to its server.
 */
void rswap_slab_filled_done(struct rswap_dev *dev, u32 idx, struct rswap_server *srv,
			    u32 remote)
{
	write_seqlock(&dev->lock);
	if (slab_is(dev, idx, srv, remote, RSWAP_SLAB_FILLING))
		slab_set_state(dev, idx, RSWAP_SLAB_RETURNING);
	write_sequnlock(&dev->lock);
	queue_work(dev->wq, &dev->return_work);
}

/* Used-slot bits @first .. @first + 8 * @len - 1 of entry @idx, in wire order. */
void rswap_slab_used_map(struct rswap_dev *dev, u32 idx, u32 first, u8 *bits, size_t len)
{
	const unsigned long *map;
	u32 i, end = min_t(u32, first + 8 * len, dev->pages_per_slab);

	memset(bits, 0, len);
	write_seqlock(&dev->lock);
	/* A mirror's pages are its set's, whose slots its primary keeps. */
	if (dev->slabs[idx].set == RSWAP_NO_SLAB) {
		write_sequnlock(&dev->lock);
		return;
	}
	map = dev->slots.slabs[dev->slabs[idx].set].bitmap;
	for (i = first; i < end; i++)
		if (test_bit(i, map))
			bits[(i - first) / 8] |= 1u << ((i - first) % 8);
	write_sequnlock(&dev->lock);
}

/*
 * The copy of frozen entry @idx (@src's slab @remote) is complete in
 * FILLING entry @tidx (@target's slab @tremote): the two entries swap
 * locations. @idx, which the map's offsets name, now points at the copy
 * and is ACTIVE; @tidx names the old copy and stays FILLING until reads
 * of it have drained (then rswap_slab_filled_done gives it back). False,
 * changing nothing, if either entry changed meanwhile or the target is no
 * longer usable (a slab made ACTIVE on a down server would park every
 * write for ever): the move is then abandoned and may be tried again.
 */
bool rswap_slab_move(struct rswap_dev *dev, u32 idx, struct rswap_server *src, u32 remote,
		     u32 tidx, struct rswap_server *target, u32 tremote)
{
	struct rswap_slab *slab = &dev->slabs[idx], *tslab = &dev->slabs[tidx];
	struct rswap_slab old;
	bool ok;

	write_seqlock(&dev->lock);
	ok = slab_is(dev, idx, src, remote, RSWAP_SLAB_FROZEN) &&
	     slab_is(dev, tidx, target, tremote, RSWAP_SLAB_FILLING) &&
	     rswap_server_usable(target);
	if (ok) {
		/*
		 * Swap the locations; each server keeps the same number of
		 * entries (one gained, one lost), so no count changes.
		 */
		old = *slab;
		WRITE_ONCE(slab->srv, tslab->srv);
		slab->remote = tslab->remote;
		slab->rkey = tslab->rkey;
		slab->addr = tslab->addr;
		slab->epoch = tslab->epoch;
		WRITE_ONCE(tslab->srv, old.srv);
		tslab->remote = old.remote;
		tslab->rkey = old.rkey;
		tslab->addr = old.addr;
		tslab->epoch = old.epoch;
		slab_set_state(dev, idx, RSWAP_SLAB_ACTIVE);
	}
	write_sequnlock(&dev->lock);
	return ok;
}

/*
 * The device was closed with a swap header on it: swapoff has brought every
 * page in (swapoff does not discard), so the pages in the pool mean nothing
 * now. Forget them, and their slabs can go home. The header stays, so
 * swapon works again without mkswap. Caller holds dev->lock (dropped now
 * and then).
 */
void rswap_drop_swap_area(struct rswap_dev *dev)
{
	lockdep_assert_held(&dev->lock.lock);
	static const char sig[] = "SWAPSPACE2";
	struct rswap_entry old;
	u64 off, dropped = 0;
	bool swap_area;

	spin_lock(&dev->header_lock);
	swap_area = !memcmp((u8 *)dev->header + RSWAP_PAGE_SIZE - (sizeof(sig) - 1), sig,
			    sizeof(sig) - 1);
	spin_unlock(&dev->header_lock);
	if (!swap_area)
		return;
	for (off = 1; off < dev->n_pages; off++) {
		if (!(off % 4096)) {
			write_sequnlock(&dev->lock);
			cond_resched();
			write_seqlock(&dev->lock);
		}
		if (dev->openers)
			break;	/* swapon again: it rewrites before it reads */
		if (rswap_entry_type(&dev->map.entries[off]) == RSWAP_EMPTY)
			continue;
		rswap_map_set(&dev->map, off, RSWAP_EMPTY, 0, &old);
		if (dev->slots_ready)
			rswap_slot_release(dev, &old);
		dropped++;
	}
	if (dropped)
		pr_info("%s: closed: dropped %llu pages of the old swap area\n", dev->name,
			dropped);
}

void rswap_return_work(struct work_struct *work)
{
	struct rswap_dev *dev = container_of(work, struct rswap_dev, return_work);
	unsigned int noio = memalloc_noio_save();

	write_seqlock(&dev->lock);
	if (!dev->openers)
		rswap_drop_swap_area(dev);
	write_sequnlock(&dev->lock);
	return_slabs(dev, false);
	memalloc_noio_restore(noio);
}

/* The device is going away: every slab goes back, pages or not. */
void rswap_slabs_return_all(struct rswap_dev *dev)
{
	return_slabs(dev, true);
}

/* ---- new copies of sets short of them (rswap_copies.c drives it) ---- */

/*
 * Caller holds dev->lock. Does @set want a copy it can get now: held,
 * fewer LIVE copies than replicas=, none of them waiting for a server that
 * may come back (STALE) or being made (NEW), and a LIVE copy on an ACTIVE
 * entry of a usable server to copy from? Its index, or -1. An empty set
 * that lost a copy is not worth one: it goes back (return_slabs); one made
 * short is, before it takes pages with one copy.
 */
static int set_wants_copy(struct rswap_dev *dev, u32 set)
{
	const struct rswap_copy_set *cs = &dev->replicas.sets[set];
	int src = -1;
	u32 c;

	lockdep_assert_held(&dev->lock.lock);
	if (dev->slabs[set].set != set || dev->slabs[set].filling ||
	    cs->n_live >= dev->n_replicas || !cs->n_live ||
	    (!dev->slots.slabs[set].used && dev->slabs[set].width >= dev->n_replicas))
		return -1;
	for (c = 0; c < dev->n_replicas; c++) {
		const struct rswap_copy *cp = &cs->copy[c];

		if (cp->state != RSWAP_COPY_ABSENT && cp->state != RSWAP_COPY_LIVE)
			return -1;
		if (cp->state == RSWAP_COPY_LIVE && src < 0 &&
		    dev->slabs[cp->entry].state == RSWAP_SLAB_ACTIVE &&
		    rswap_server_usable(dev->slabs[cp->entry].srv))
			src = cp->entry;
	}
	return src;
}

/* Sets that want a copy they could get now (for the log). */
u32 rswap_slabs_wanting_copies(struct rswap_dev *dev)
{
	u32 i, n = 0;

	if (!dev->slots_ready || dev->n_replicas == 1)
		return 0;
	write_seqlock(&dev->lock);
	for (i = 0; i < dev->slots.max_slabs; i++)
		n += set_wants_copy(dev, i) >= 0;
	write_sequnlock(&dev->lock);
	return n;
}

/*
 * The next set from *@from on that wants a copy (set_wants_copy): true
 * with @job filled in. The set takes no pages from now until
 * rswap_slab_copy_end (its width is raised past its live copies), so the
 * fill copies a slab nothing writes to once rswap_io_quiesce returns.
 */
bool rswap_slab_copy_begin(struct rswap_dev *dev, u32 *from, struct rswap_copy_job *job)
{
	bool found = false;
	int src;
	u32 i;

	write_seqlock(&dev->lock);
	for (i = *from; i < dev->slots.max_slabs; i++) {
		src = set_wants_copy(dev, i);
		if (src < 0)
			continue;
		job->set = i;
		job->copy = rswap_replica_free_copy(&dev->replicas, i);
		job->src = src;
		job->src_srv = dev->slabs[src].srv;
		job->src_remote = dev->slabs[src].remote;
		job->width = dev->slabs[i].width;
		dev->slabs[i].width = dev->replicas.sets[i].n_live + 1;
		dev->slabs[i].filling = true;	/* cleared by rswap_slab_copy_end, or FREE */
		set_refresh(dev, i);
		*from = i + 1;
		found = true;
		break;
	}
	write_sequnlock(&dev->lock);
	return found;
}

/*
 * The fill of COPYING entry @tidx (@target's slab @tremote; -1: none was
 * granted) for @job ended, @ok if the server confirmed it: the copy joins
 * its set (ACTIVE), or goes back. The set takes pages again as its copies
 * allow. Returns whether the set has the new copy.
 */
bool rswap_slab_copy_end(struct rswap_dev *dev, const struct rswap_copy_job *job, int tidx,
			 struct rswap_server *target, u32 tremote, bool ok)
{
	struct rswap_slab *slab = &dev->slabs[job->set];
	bool joined = false;

	write_seqlock(&dev->lock);
	if (tidx >= 0 && slab_is(dev, tidx, target, tremote, RSWAP_SLAB_COPYING) &&
	    dev->slabs[tidx].set == job->set) {
		if (ok && rswap_replica_copy_done(&dev->replicas, job->set, job->copy, true) ==
			  RSWAP_COPY_LIVE) {
			slab_set_state(dev, tidx, RSWAP_SLAB_ACTIVE);
			joined = true;
		} else {
			slab_set_state(dev, tidx, RSWAP_SLAB_RETURNING);
		}
	}
	/* Still the set it began with: FREE clears the flag before a reuse. */
	if (slab->set == job->set && slab->filling) {
		slab->filling = false;
		slab->width = joined ? max_t(u32, job->width, dev->replicas.sets[job->set].n_live) :
				       job->width;
		set_refresh(dev, job->set);
	}
	write_sequnlock(&dev->lock);
	if (!joined)
		queue_work(dev->wq, &dev->return_work);
	return joined;
}
