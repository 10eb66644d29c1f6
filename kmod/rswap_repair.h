/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rswap_repair: read-repair of copies caught with a wrong checksum
 * (rswap_repair.c).
 */
#ifndef RSWAP_REPAIR_H
#define RSWAP_REPAIR_H

#include <linux/bio.h>
#include <linux/blk_types.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include "rswap_map.h"

struct rswap_dev;
struct request;

/* Pages that can wait for their repair at once (a page each, preallocated). */
#define RSWAP_REPAIR_SLOTS	64

enum rswap_repair_state {
	RSWAP_REPAIR_FREE,	/* holds nothing */
	RSWAP_REPAIR_FILLING,	/* taken: the good bytes are being copied in */
	RSWAP_REPAIR_QUEUED,	/* a good page, waiting for the work to submit it */
	RSWAP_REPAIR_WRITING,	/* its write is in the block layer or the driver */
	RSWAP_REPAIR_ENDED,	/* its write ended: the entry to move, or the slot to free */
};

struct rswap_repair_slot {
	struct rswap_dev *dev;
	enum rswap_repair_state state;
	u64 off;		/* the swap page */
	struct rswap_entry entry;	/* the map entry it was read by (slot, checksum) */
	u32 new_slab, new_page;	/* the slot its write took (do_repair_write) */
	bool has_new;		/* new_slab's slot is taken: moved to, or freed */
	bool ok;		/* ENDED: the write landed on every copy */
	struct page *page;	/* the good bytes */
	struct bio bio;
	struct bio_vec vec;
};

struct rswap_repair {
	spinlock_t lock;	/* the slots' states; taken with interrupts off */
	struct rswap_repair_slot *slots;	/* NULL: no repair (ram backend) */
	struct work_struct work;	/* submits QUEUED slots' writes */
};

int rswap_repair_init(struct rswap_dev *dev);
void rswap_repair_stop(struct rswap_dev *dev);
void rswap_repair_fini(struct rswap_dev *dev);
void rswap_repair_queue(struct rswap_dev *dev, u64 off, struct page *page,
			struct rswap_entry entry);
struct rswap_repair_slot *rswap_repair_of(struct request *rq);
bool rswap_repair_current(struct rswap_dev *dev, const struct rswap_repair_slot *r);

#endif
