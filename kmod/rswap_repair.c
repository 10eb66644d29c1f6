// SPDX-License-Identifier: GPL-2.0
/*
 * rswap_repair: read-repair. A page read on demand whose copy on one server
 * failed its checksum, and which then came back right from another copy,
 * is written again with those right bytes: into a new slot of a set whose
 * copies are all live, and its map entry moved there. The bad copy's slot
 * is freed with the old entry, so nothing reads it again, and the page is
 * back to replicas= good copies without waiting for a scrub or a rewrite
 * by the kernel.
 *
 * Why a new slot and not the bad one: the slot may be freed and given to
 * another page while the repair is on its way, and a write into it would
 * then overwrite that page. A new slot is the repair's own until the
 * entry is moved, and the move is made only if the page's entry is still
 * the one the good bytes were read by (same slot, same checksum), under
 * dev->lock: a page written or discarded meanwhile keeps its newer entry,
 * and the repair's slot is freed. The entry moves only once the write has
 * landed on every copy: a repair that fails, for whatever reason, leaves
 * the page as it was (one good copy still) and is not retried.
 *
 * The bytes wait in one of RSWAP_REPAIR_SLOTS pages preallocated per
 * device; with none free, the repair is dropped (counted): the copy stays
 * bad, and is caught and read around again when read. A slot's life,
 * under repair.lock:
 *
 *   FREE --a read found a bad copy and the right bytes (rswap_repair_queue)--> FILLING
 *   FILLING --the bytes copied in--> QUEUED
 *   QUEUED --the work submits its write bio--> WRITING
 *   WRITING --the bio ends (ok or not)--> ENDED
 *   ENDED --the work moves the entry, or frees the new slot--> FREE
 *
 * The write is a request of our own disk (as read ahead's reads are), so
 * it goes through the same slab table, copies and I/O generations as any
 * write; rswap_dev.c's do_repair_write takes the slot and posts, and does
 * not touch the map.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/sched/mm.h>

#include "rswap.h"
#include "rswap_trace.h"

static void repair_end_io(struct bio *bio);

struct rswap_repair_slot *rswap_repair_of(struct request *rq)
{
	return rq->bio && rq->bio->bi_end_io == repair_end_io ? rq->bio->bi_private : NULL;
}

/*
 * Is @r's page's entry still the one its bytes were read by, with no write
 * of the page in flight? A write maps its slot before its WRITE lands, so
 * an unchanged entry may still be filling: freeing its slot would let a
 * third write take it under the late WRITE (rswap_writes_claim). A write
 * sets its bit before its lock section and clears it after its last
 * completion, so under the lock the bit is seen; so does a read that
 * claimed its page (it plans under the lock: do_read), whose READ the
 * freed slot would otherwise meet.
 */
bool rswap_repair_current(struct rswap_dev *dev, const struct rswap_repair_slot *r)
{
	const struct rswap_entry *e = &dev->map.entries[r->off];

	lockdep_assert_held(&dev->lock.lock);
	return e->bits == r->entry.bits && !test_bit(r->off, dev->writing);
}

/*
 * From a read's completion: page @off, read by the REMOTE @entry, came
 * back right after a copy of it did not. Never sleeps.
 */
void rswap_repair_queue(struct rswap_dev *dev, u64 off, struct page *page,
			struct rswap_entry entry)
{
	struct rswap_repair *rp = &dev->repair;
	struct rswap_repair_slot *r = NULL;
	unsigned long flags;
	unsigned int i;

	if (!rp->slots || READ_ONCE(dev->dying))
		return;
	spin_lock_irqsave(&rp->lock, flags);
	for (i = 0; i < RSWAP_REPAIR_SLOTS && !r; i++)
		if (rp->slots[i].state == RSWAP_REPAIR_FREE)
			r = &rp->slots[i];
	if (r) {
		r->state = RSWAP_REPAIR_FILLING;
		r->off = off;
		r->entry = entry;
		r->has_new = false;
	}
	spin_unlock_irqrestore(&rp->lock, flags);
	if (!r) {
		rswap_stat_inc(dev, repairs_dropped);
		return;
	}
	memcpy_page(r->page, 0, page, 0, RSWAP_PAGE_SIZE);
	spin_lock_irqsave(&rp->lock, flags);
	r->state = RSWAP_REPAIR_QUEUED;
	spin_unlock_irqrestore(&rp->lock, flags);
	queue_work(dev->wq, &rp->work);
}

static void repair_end_io(struct bio *bio)
{
	struct rswap_repair_slot *r = bio->bi_private;
	struct rswap_repair *rp = &r->dev->repair;
	unsigned long flags;

	spin_lock_irqsave(&rp->lock, flags);
	r->state = RSWAP_REPAIR_ENDED;
	r->ok = bio->bi_status == BLK_STS_OK;
	spin_unlock_irqrestore(&rp->lock, flags);
	queue_work(r->dev->wq, &rp->work);
}

/* An ENDED slot: the page's entry moves to the new slot, or the new slot goes. */
static void repair_finish(struct rswap_dev *dev, struct rswap_repair_slot *r)
{
	struct rswap_entry made, old;
	bool moved = false;

	write_seqlock(&dev->lock);
	if (r->has_new) {
		made = rswap_entry_remote(&dev->map, r->new_slab, r->new_page,
					  rswap_entry_csum(&r->entry));
		if (r->ok && !READ_ONCE(dev->dying) && rswap_repair_current(dev, r) &&
		    dev->replicas.sets[r->new_slab].n_live) {
			rswap_map_set_entry(&dev->map, r->off, made, &old);
			rswap_slot_release(dev, &old);
			moved = true;
		} else {
			rswap_slot_release(dev, &made);
		}
	}
	write_sequnlock(&dev->lock);
	if (moved) {
		rswap_stat_inc(dev, repaired_pages);
		trace_rswap_repair(dev->name, r->off, 0);
	} else {
		rswap_stat_inc(dev, repairs_dropped);
		trace_rswap_repair(dev->name, r->off, r->ok ? -ESTALE : -EIO);
	}
}

/* Submit QUEUED slots' writes, finish ENDED ones (process context, no allocation). */
static void repair_work(struct work_struct *work)
{
	struct rswap_repair *rp = container_of(work, struct rswap_repair, work);
	unsigned int noio = memalloc_noio_save(), i;
	unsigned long flags;

	for (i = 0; i < RSWAP_REPAIR_SLOTS; i++) {
		struct rswap_repair_slot *r = &rp->slots[i];
		struct rswap_dev *dev = r->dev;
		enum rswap_repair_state st;

		bool submit = false;

		spin_lock_irqsave(&rp->lock, flags);
		st = r->state;
		if (st == RSWAP_REPAIR_QUEUED) {
			submit = !READ_ONCE(dev->dying);
			r->state = submit ? RSWAP_REPAIR_WRITING : RSWAP_REPAIR_FREE;
		}
		spin_unlock_irqrestore(&rp->lock, flags);

		if (st == RSWAP_REPAIR_ENDED) {
			repair_finish(dev, r);
			spin_lock_irqsave(&rp->lock, flags);
			r->state = RSWAP_REPAIR_FREE;
			spin_unlock_irqrestore(&rp->lock, flags);
		} else if (submit) {
			/*
			 * Never waits in this work (dev->wq also runs the
			 * reconnects that free the tags parked writes hold):
			 * no tag now, and the bio ends BLK_STS_AGAIN, a
			 * dropped repair; SYNC|IDLE keeps writeback
			 * throttling off it.
			 */
			bio_init(&r->bio, dev->disk->part0, &r->vec, 1,
				 REQ_OP_WRITE | REQ_SYNC | REQ_IDLE | REQ_NOMERGE | REQ_NOWAIT);
			r->bio.bi_iter.bi_sector = r->off * RSWAP_SECTORS_PER_PAGE;
			__bio_add_page(&r->bio, r->page, RSWAP_PAGE_SIZE, 0);
			r->bio.bi_end_io = repair_end_io;
			r->bio.bi_private = r;
			submit_bio(&r->bio);
		}
	}
	memalloc_noio_restore(noio);
}

int rswap_repair_init(struct rswap_dev *dev)
{
	struct rswap_repair *rp = &dev->repair;
	unsigned int i;

	spin_lock_init(&rp->lock);
	INIT_WORK(&rp->work, repair_work);
	/* One copy: nowhere to read a right page from, nothing to repair. */
	if (dev->ram || dev->n_replicas < 2)
		return 0;
	rp->slots = kcalloc(RSWAP_REPAIR_SLOTS, sizeof(*rp->slots), GFP_KERNEL);
	if (!rp->slots)
		return -ENOMEM;
	for (i = 0; i < RSWAP_REPAIR_SLOTS; i++) {
		rp->slots[i].dev = dev;
		rp->slots[i].page = alloc_page(GFP_KERNEL);
		if (!rp->slots[i].page) {
			rswap_repair_fini(dev);
			return -ENOMEM;
		}
	}
	return 0;
}

/*
 * dev->dying is set: nothing new is submitted from now on. The writes in
 * flight end before del_gendisk returns, and the work their ends queue is
 * flushed right after it (rswap_dev_destroy), before the slabs go back.
 */
void rswap_repair_stop(struct rswap_dev *dev)
{
	if (dev->repair.slots)
		cancel_work_sync(&dev->repair.work);
}

void rswap_repair_fini(struct rswap_dev *dev)
{
	struct rswap_repair *rp = &dev->repair;
	unsigned int i;

	if (!rp->slots)
		return;
	cancel_work_sync(&rp->work);
	for (i = 0; i < RSWAP_REPAIR_SLOTS; i++)
		if (rp->slots[i].page)
			__free_page(rp->slots[i].page);
	kfree(rp->slots);
	rp->slots = NULL;
}
