/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rswap_prefetch.h: reading ahead of sequential swap-in, below the swap
 * cache (rswap_prefetch.c). Internal to the module.
 */
#ifndef RSWAP_PREFETCH_H
#define RSWAP_PREFETCH_H

#include <linux/bio.h>
#include <linux/blk-mq.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

struct rswap_dev;
struct rswap_cmd;

/* Pages one chunk holds: one READ request of the largest size (a u32 of bits). */
#define RSWAP_PF_CHUNK		32
/* Read requests the trend is judged over (Leap's window). */
#define RSWAP_PF_HISTORY	8
/* Chunks at most: prefetch_kib is capped to this many. */
#define RSWAP_PF_MAX_CHUNKS	64

enum rswap_pf_state {
	RSWAP_PF_EMPTY,		/* free */
	RSWAP_PF_WANTED,	/* placed, its read not yet submitted (prefetch work) */
	RSWAP_PF_LOADING,	/* its read is in flight */
	RSWAP_PF_VALID,		/* holds pages base + skip..base + n - 1 as the device has them */
};

struct rswap_pf_chunk {
	enum rswap_pf_state state;
	bool stale;		/* LOADING: a write or discard overlapped; dropped at the end */
	u64 base;		/* first page (a multiple of RSWAP_PF_CHUNK) */
	u32 n;			/* pages: RSWAP_PF_CHUNK, fewer at the device's end */
	u32 skip;		/* pages base..base + skip - 1 are not read (passed already) */
	u32 served;		/* a bit per page handed out: all of them frees the chunk */
	u64 seq;		/* when it was last loaded or handed a page out */
	/* WANTED, LOADING: read requests waiting for it (rswap_cmd.pf_wait) */
	struct list_head waiters;
	unsigned int n_waiters;
	struct page *pages[RSWAP_PF_CHUNK];
	struct bio bio;		/* preallocated: no allocation on the swap-in path */
	struct bio_vec vecs[RSWAP_PF_CHUNK];
	struct rswap_dev *dev;
};

extern bool rswap_prefetch_enabled;

/*
 * The start pages of the last reads one hardware queue (one CPU's) saw,
 * for the trend. Its own cache line, written without a lock: two reads
 * racing on one queue at worst spoil a vote.
 */
struct rswap_pf_history {
	u64 off[RSWAP_PF_HISTORY];
	unsigned int next;
} ____cacheline_aligned_in_smp;

/* A chunk's entry in rswap_prefetch.placed when it is EMPTY. */
#define RSWAP_PF_NOWHERE	U64_MAX

struct rswap_prefetch {
	spinlock_t lock;	/* the chunks' states; taken with interrupts off */
	unsigned int n_chunks;	/* 0: no buffer, prefetch off for good */
	unsigned int depth;	/* chunks kept ahead of a sequential stream */
	/*
	 * Requests on the chunks' waiters, and at most how many: each holds a
	 * driver tag, and a chunk's READ may need one (with an I/O scheduler
	 * its REQ_NOWAIT tag is the scheduler's), so never all of them.
	 */
	unsigned int n_waiting, max_waiting;
	struct rswap_pf_chunk *chunks;
	/*
	 * placed[i]: chunk i's base while it is not EMPTY, else
	 * RSWAP_PF_NOWHERE; written under the lock, read without it, so a
	 * read or a write that no chunk concerns takes no lock (see
	 * "Without the lock" in rswap_prefetch.c).
	 */
	u64 *placed;
	struct rswap_pf_history *hist;	/* one per hardware queue, n_hist */
	unsigned int n_hist;
	u64 seq;
	struct work_struct work;	/* submits WANTED chunks' reads */
};

int rswap_prefetch_init(struct rswap_dev *dev, unsigned int kib);
void rswap_prefetch_stop(struct rswap_dev *dev);
void rswap_prefetch_fini(struct rswap_dev *dev);
/* What a read request found read ahead (rswap_prefetch_read). */
enum rswap_pf_verdict {
	RSWAP_PF_MISS,		/* a page is not there: read it */
	RSWAP_PF_SERVED,	/* every page copied in: end the request */
	RSWAP_PF_COMING,	/* every page there or on its way: started, waits for its chunk */
};

enum rswap_pf_verdict rswap_prefetch_read(struct rswap_dev *dev, struct rswap_cmd *cmd, u64 off,
					  bool first);
void rswap_prefetch_invalidate(struct rswap_dev *dev, u64 off, u64 n);
bool rswap_prefetch_rq(struct request *rq);

#endif
