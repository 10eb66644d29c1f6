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

#define RSWAP_MAX_SLAB_SIZE (1ULL << 30)

/*
 * Free slots to keep ahead of writes. In slabs, but never less than 16 MiB:
 * reclaim writes in bursts, and with small slabs two of them are gone
 * before one grant round trip ends. A write that finds no slot is retried
 * by blk-mq, and meanwhile reclaim cannot free what it is writing: with too
 * small a reserve a cgroup at its memory.max runs out of retries and OOMs.
 */
#define RSWAP_RESERVE_MIN_PAGES ((16u << 20) / RSWAP_PAGE_SIZE)

static u64 reserve_low(struct rswap_dev *dev)
{
	return max_t(u64, (u64)max(rswap_reserve_slabs, 1u) * dev->pages_per_slab,
		     RSWAP_RESERVE_MIN_PAGES);
}

/*
 * Called at every handshake; only the first one, before the device can
 * hold any page, allocates (under connect_work's memalloc_noio scope, so
 * the allocation cannot recurse into swap I/O). Reconnects find the table
 * ready and allocate nothing.
 */
int rswap_slabs_setup(struct rswap_dev *dev, u64 slab_size)
{
	struct rswap_slots slots;
	struct rswap_slab *slabs;
	u32 pps, max_slabs;
	int ret;

	mutex_lock(&dev->servers_mutex);
	if (dev->slots_ready) {
		ret = slab_size == dev->slab_size ? 0 : -EINVAL;
		goto out;
	}
	if (!slab_size || slab_size % RSWAP_PAGE_SIZE || slab_size > RSWAP_MAX_SLAB_SIZE) {
		ret = -EINVAL;
		goto out;
	}
	pps = slab_size / RSWAP_PAGE_SIZE;
	/* Slots free up unevenly: room for twice the slabs the device fills. */
	max_slabs = DIV_ROUND_UP_ULL(dev->n_pages, pps) * 2 + rswap_reserve_slabs +
		    2 * RSWAP_MAX_SERVERS;
	ret = rswap_slots_init(&slots, max_slabs, pps);
	if (ret)
		goto out;
	slabs = kvcalloc(max_slabs, sizeof(*slabs), GFP_KERNEL);
	if (!slabs) {
		rswap_slots_fini(&slots);
		ret = -ENOMEM;
		goto out;
	}
	spin_lock(&dev->lock);
	dev->slots = slots;
	dev->slabs = slabs;
	dev->pages_per_slab = pps;
	dev->slab_size = slab_size;
	dev->slots_ready = true;
	spin_unlock(&dev->lock);
	pr_info("%s: slabs of %llu KiB, up to %u of them\n", dev->name, slab_size >> 10,
		max_slabs);
out:
	mutex_unlock(&dev->servers_mutex);
	return ret;
}

void rswap_slabs_fini(struct rswap_dev *dev)
{
	if (!dev->slots_ready)
		return;
	rswap_slots_fini(&dev->slots);
	kvfree(dev->slabs);
	dev->slabs = NULL;
	dev->slots_ready = false;
}

int rswap_slab_add(struct rswap_dev *dev, struct rswap_server *srv, u32 remote, u32 rkey,
		   u64 addr)
{
	u32 i;

	spin_lock(&dev->lock);
	for (i = 0; i < dev->slots.max_slabs; i++) {
		struct rswap_slab *slab = &dev->slabs[i];

		if (slab->state != RSWAP_SLAB_FREE)
			continue;
		slab->srv = srv;
		slab->remote = remote;
		slab->rkey = rkey;
		slab->addr = addr;
		slab->state = RSWAP_SLAB_ACTIVE;
		dev->slots.slabs[i].cursor = 0;
		rswap_slots_activate(&dev->slots, i);
		atomic_inc(&srv->slabs);
		dev->no_room = false;
		spin_unlock(&dev->lock);
		return 0;
	}
	spin_unlock(&dev->lock);
	pr_warn("%s: slab table full (%u slabs)\n", dev->name, dev->slots.max_slabs);
	return -ENOSPC;
}

/* Caller holds dev->lock. The entry's slots are all free. */
static void slab_forget(struct rswap_dev *dev, u32 i)
{
	struct rswap_slab *slab = &dev->slabs[i];

	rswap_slots_deactivate(&dev->slots, i);
	if (slab->srv)		/* NULL: a lost slab of a removed server */
		atomic_dec(&slab->srv->slabs);
	memset(slab, 0, sizeof(*slab));
}

/*
 * @srv, lost, is being removed: its lost slabs stay in the table (their
 * pages still read as errors until they are rewritten or freed) but no
 * longer point at it. Returns false if it holds slabs that are not lost.
 */
bool rswap_slabs_orphan(struct rswap_dev *dev, struct rswap_server *srv)
{
	bool ok = true;
	u32 i;

	if (!dev->slots_ready)
		return true;
	spin_lock(&dev->lock);
	for (i = 0; i < dev->slots.max_slabs; i++)
		if (dev->slabs[i].srv == srv && dev->slabs[i].state != RSWAP_SLAB_LOST)
			ok = false;
	for (i = 0; ok && i < dev->slots.max_slabs; i++) {
		if (dev->slabs[i].srv == srv) {
			dev->slabs[i].srv = NULL;
			atomic_dec(&srv->slabs);
		}
	}
	spin_unlock(&dev->lock);
	return ok;
}

/*
 * @lost false: the server went down; its slabs take no new pages and their
 * pages wait. @lost true: slabs of @srv still detached (not reattached, or
 * the server is gone for good) are lost; reads of their pages fail.
 */
void rswap_slabs_detach(struct rswap_dev *dev, struct rswap_server *srv, bool lost)
{
	u32 i, n_lost = 0;

	if (!dev->slots_ready)
		return;
	spin_lock(&dev->lock);
	for (i = 0; i < dev->slots.max_slabs; i++) {
		struct rswap_slab *slab = &dev->slabs[i];
		u32 used = dev->slots.slabs[i].used;

		if (slab->srv != srv)
			continue;
		if (!lost && slab->state == RSWAP_SLAB_ACTIVE) {
			rswap_slots_deactivate(&dev->slots, i);
			slab->state = RSWAP_SLAB_DETACHED;
		} else if (lost && slab->state == RSWAP_SLAB_RETURNING) {
			slab_forget(dev, i);
		} else if (lost && slab->state == RSWAP_SLAB_DETACHED) {
			if (!used) {
				slab_forget(dev, i);
				continue;
			}
			slab->state = RSWAP_SLAB_LOST;
			n_lost++;
		}
	}
	spin_unlock(&dev->lock);
	if (n_lost) {
		atomic64_add(n_lost, &srv->lost_slabs);
		pr_err("%s: %u slabs with pages on them are lost; reads of those pages fail\n",
		       srv->name, n_lost);
	}
}

/* Caller holds dev->lock: the table entry of @srv's slab @remote, or -ENOENT. */
static int slab_index(struct rswap_dev *dev, struct rswap_server *srv, u32 remote)
{
	u32 i;

	for (i = 0; i < dev->slots.max_slabs; i++)
		if (dev->slabs[i].state != RSWAP_SLAB_FREE && dev->slabs[i].srv == srv &&
		    dev->slabs[i].remote == remote)
			return i;
	return -ENOENT;
}

int rswap_slab_reattach(struct rswap_dev *dev, struct rswap_server *srv, u32 remote,
			u32 rkey, u64 addr)
{
	struct rswap_slab *slab;
	int i;

	if (!dev->slots_ready)
		return -ENOENT;
	spin_lock(&dev->lock);
	i = slab_index(dev, srv, remote);
	if (i >= 0) {
		slab = &dev->slabs[i];
		slab->rkey = rkey;
		slab->addr = addr;
		if (slab->state == RSWAP_SLAB_DETACHED || slab->state == RSWAP_SLAB_LOST) {
			slab->state = RSWAP_SLAB_ACTIVE;
			if (!slab->frozen)
				rswap_slots_activate(&dev->slots, i);
		}
	}
	spin_unlock(&dev->lock);
	return i < 0 ? i : 0;
}

/* Caller holds dev->lock: @old no longer holds its slot. */
void rswap_slot_release(struct rswap_dev *dev, const struct rswap_entry *old)
{
	u32 i;

	if (old->type != RSWAP_REMOTE)
		return;
	i = rswap_entry_slab(old);
	if (!rswap_slots_free(&dev->slots, i, rswap_entry_page(old)))
		return;
	/* The slab is empty now. */
	if (dev->slabs[i].state == RSWAP_SLAB_LOST)
		slab_forget(dev, i);
	else if (dev->slabs[i].state == RSWAP_SLAB_ACTIVE)
		queue_work(dev->wq, &dev->return_work);
}

/* Caller holds dev->lock. */
void rswap_reserve_check(struct rswap_dev *dev)
{
	if (dev->openers && dev->slots_ready && dev->slots.free_slots < reserve_low(dev))
		queue_work(dev->wq, &dev->refill_work);
}

/*
 * The server to ask for the next slab: ready, and able to grant the most;
 * among equals, the one holding fewest of ours; never @except. Caller
 * holds servers_mutex.
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

struct rswap_server *rswap_pick_server(struct rswap_dev *dev, struct rswap_server *except)
{
	struct rswap_server *best = NULL;
	int i;

	for (i = 0; i < RSWAP_MAX_SERVERS; i++) {
		struct rswap_server *srv = dev->servers[i];

		if (!srv || srv == except || !rswap_server_usable(srv) || !server_room(srv))
			continue;
		if (!best || server_room(srv) > server_room(best) ||
		    (server_room(srv) == server_room(best) &&
		     atomic_read(&srv->slabs) < atomic_read(&best->slabs)))
			best = srv;
	}
	return best;
}

static bool any_server(struct rswap_dev *dev, enum rswap_server_state st)
{
	int i;

	for (i = 0; i < RSWAP_MAX_SERVERS; i++)
		if (dev->servers[i] && READ_ONCE(dev->servers[i]->state) == st)
			return true;
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

void rswap_refill_work(struct work_struct *work)
{
	struct rswap_dev *dev = container_of(work, struct rswap_dev, refill_work);
	unsigned int noio = memalloc_noio_save();
	bool need, was, warn, retried = false;
	int tries, i;

	mutex_lock(&dev->servers_mutex);
	for (tries = 0; tries < 4 * RSWAP_MAX_SERVERS && !dev->dying; tries++) {
		struct rswap_server *srv;

		spin_lock(&dev->lock);
		need = dev->slots_ready && dev->slots.free_slots < reserve_low(dev);
		spin_unlock(&dev->lock);
		if (!need)
			break;
		srv = rswap_pick_server(dev, NULL);
		if (!srv && !retried) {
			/* Every server said no; free memory may have come back since. */
			retried = true;
			for (i = 0; i < RSWAP_MAX_SERVERS; i++)
				if (dev->servers[i] && rswap_server_usable(dev->servers[i]))
					dev->servers[i]->free_hint = 1;
			srv = rswap_pick_server(dev, NULL);
		}
		if (!srv)
			break;
		/* A refusal zeroes the server's free_hint: the next pick is another. */
		rswap_server_grant(srv);
	}
	spin_lock(&dev->lock);
	need = !dev->slots_ready || !dev->slots.free_slots;
	was = dev->no_room;
	/* Writes fail at once only when waiting cannot help: no server is coming back. */
	dev->no_room = need && !any_server(dev, RSWAP_SRV_DOWN);
	/* Said once per episode, and not before any server was added. */
	warn = dev->no_room && !was && has_servers(dev);
	spin_unlock(&dev->lock);
	mutex_unlock(&dev->servers_mutex);
	memalloc_noio_restore(noio);
	if (warn)
		pr_warn("%s: no server can take more pages: writes fail\n", dev->name);
}

/* Pick the next slab to give back: RETURNING, on a usable server. */
static bool next_return(struct rswap_dev *dev, u32 *from, struct rswap_server **srv,
			u32 *remote)
{
	bool found = false;
	u32 i;

	spin_lock(&dev->lock);
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
	spin_unlock(&dev->lock);
	return found;
}

/* Give back empty slabs beyond the reserve, or all of them with @all. */
static void return_slabs(struct rswap_dev *dev, bool all)
{
	struct rswap_server *srv;
	u32 i, remote;

	if (!dev->slots_ready)
		return;
	spin_lock(&dev->lock);
	for (i = 0; i < dev->slots.max_slabs; i++) {
		struct rswap_slab *slab = &dev->slabs[i];
		bool keep = dev->openers && !all &&
			    dev->slots.free_slots < reserve_low(dev) + 2 * dev->pages_per_slab;

		if (slab->state == RSWAP_SLAB_ACTIVE && !keep && (!slab->frozen || all) &&
		    (all || !dev->slots.slabs[i].used)) {
			rswap_slots_deactivate(&dev->slots, i);
			slab->state = RSWAP_SLAB_RETURNING;
		}
	}
	spin_unlock(&dev->lock);

	for (i = 0; next_return(dev, &i, &srv, &remote); i++)
		rswap_slab_give_back(dev, i, srv, all);
}

/*
 * RETURN table entry @idx, RETURNING on @srv, and forget it; @drop_pages:
 * the pages it still names go with it (the device goes). False if the
 * server did not take it (tried again after a reconnect).
 */
bool rswap_slab_give_back(struct rswap_dev *dev, u32 idx, struct rswap_server *srv,
			  bool drop_pages)
{
	struct rswap_slab *slab = &dev->slabs[idx];

	if (rswap_server_return(srv, slab->remote))
		return false;
	spin_lock(&dev->lock);
	if (slab->state == RSWAP_SLAB_RETURNING && slab->srv == srv) {
		if (drop_pages)
			memset(dev->slots.slabs[idx].bitmap, 0,
			       BITS_TO_LONGS(dev->pages_per_slab) * sizeof(long));
		dev->slots.slabs[idx].used = 0;
		slab_forget(dev, idx);
	}
	spin_unlock(&dev->lock);
	return true;
}

/* ---- moving a slab to another server (rswap_migrate.c drives it) ---- */

/* The table entry of @srv's slab @remote, or -ENOENT. */
int rswap_slab_find(struct rswap_dev *dev, struct rswap_server *srv, u32 remote)
{
	int ret;

	if (!dev->slots_ready)
		return -ENOENT;
	spin_lock(&dev->lock);
	ret = slab_index(dev, srv, remote);
	spin_unlock(&dev->lock);
	return ret;
}

/*
 * Stop placing pages in entry @idx (still @srv's @remote, and ACTIVE).
 * Returns its used slots, or -ENOENT (it changed), -EALREADY (on its way
 * back already), or -EBUSY (detached or lost, or being moved). An empty slab is not frozen but made
 * RETURNING: there is nothing to copy (-ENODATA).
 */
int rswap_slab_freeze(struct rswap_dev *dev, u32 idx, struct rswap_server *srv, u32 remote)
{
	struct rswap_slab *slab = &dev->slabs[idx];
	int ret;

	spin_lock(&dev->lock);
	if (slab->srv != srv || slab->remote != remote || slab->state == RSWAP_SLAB_FREE) {
		ret = -ENOENT;
	} else if (slab->state == RSWAP_SLAB_RETURNING) {
		ret = -EALREADY;
	} else if (slab->state != RSWAP_SLAB_ACTIVE || slab->frozen) {
		ret = -EBUSY;
	} else {
		rswap_slots_deactivate(&dev->slots, idx);
		ret = dev->slots.slabs[idx].used;
		if (ret) {
			slab->frozen = true;
		} else {
			slab->state = RSWAP_SLAB_RETURNING;
			ret = -ENODATA;
		}
	}
	spin_unlock(&dev->lock);
	return ret;
}

/* The move did not happen: the entry takes pages again if it is ACTIVE. */
void rswap_slab_unfreeze(struct rswap_dev *dev, u32 idx)
{
	struct rswap_slab *slab = &dev->slabs[idx];

	spin_lock(&dev->lock);
	if (slab->frozen) {
		slab->frozen = false;
		if (slab->state == RSWAP_SLAB_ACTIVE)
			rswap_slots_activate(&dev->slots, idx);
	}
	spin_unlock(&dev->lock);
}

/* Used-slot bits @first .. @first + 8 * @len - 1 of entry @idx, in wire order. */
void rswap_slab_used_map(struct rswap_dev *dev, u32 idx, u32 first, u8 *bits, size_t len)
{
	const unsigned long *map = dev->slots.slabs[idx].bitmap;
	u32 i, end = min_t(u32, first + 8 * len, dev->pages_per_slab);

	memset(bits, 0, len);
	spin_lock(&dev->lock);
	for (i = first; i < end; i++)
		if (test_bit(i, map))
			bits[(i - first) / 8] |= 1u << ((i - first) % 8);
	spin_unlock(&dev->lock);
}

/*
 * The copy of frozen entry @idx is complete at @target's slab @remote:
 * point the entry there (the map's offsets name the entry and the slot,
 * which both stay). False if the entry stopped being @src's in the
 * meantime (lost, or forgotten): then nothing changes.
 */
bool rswap_slab_move(struct rswap_dev *dev, u32 idx, struct rswap_server *src,
		     struct rswap_server *target, u32 remote, u32 rkey, u64 addr)
{
	struct rswap_slab *slab = &dev->slabs[idx];
	bool ok;

	spin_lock(&dev->lock);
	ok = slab->frozen && slab->srv == src && (slab->state == RSWAP_SLAB_ACTIVE ||
						  slab->state == RSWAP_SLAB_DETACHED);
	if (ok) {
		slab->srv = target;
		slab->remote = remote;
		slab->rkey = rkey;
		slab->addr = addr;
		slab->frozen = false;
		slab->state = RSWAP_SLAB_ACTIVE;
		rswap_slots_activate(&dev->slots, idx);
		atomic_dec(&src->slabs);
		dev->no_room = false;
	}
	spin_unlock(&dev->lock);
	return ok;
}

/*
 * The device was closed with a swap header on it: swapoff has brought every
 * page in (swapoff does not discard), so the pages in the pool mean nothing
 * now. Forget them, and their slabs can go home. The header stays, so
 * swapon works again without mkswap.
 */
/* Caller holds dev->lock (dropped now and then). */
void rswap_drop_swap_area(struct rswap_dev *dev)
{
	static const char sig[] = "SWAPSPACE2";
	struct rswap_entry old;
	u64 off, dropped = 0;

	if (memcmp((u8 *)dev->header + RSWAP_PAGE_SIZE - (sizeof(sig) - 1), sig,
		   sizeof(sig) - 1))
		return;
	for (off = 1; off < dev->n_pages; off++) {
		if (!(off % 4096)) {
			spin_unlock(&dev->lock);
			cond_resched();
			spin_lock(&dev->lock);
		}
		if (dev->openers)
			break;	/* swapon again: it rewrites before it reads */
		if (dev->map.entries[off].type == RSWAP_EMPTY)
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

	spin_lock(&dev->lock);
	if (!dev->openers)
		rswap_drop_swap_area(dev);
	spin_unlock(&dev->lock);
	return_slabs(dev, false);
	memalloc_noio_restore(noio);
}

/* The device is going away: every slab goes back, pages or not. */
void rswap_slabs_return_all(struct rswap_dev *dev)
{
	return_slabs(dev, true);
}
