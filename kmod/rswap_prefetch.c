// SPDX-License-Identifier: GPL-2.0
/*
 * rswap_prefetch: reading ahead of a sequential swap-in, below the swap
 * cache.
 *
 * The kernel's swap readahead asks for a few pages around each fault and
 * waits for them, so a process reading its memory back in order waits a
 * round trip every few pages. Here, when most of the last
 * RSWAP_PF_HISTORY read requests of one hardware queue (one CPU's: a
 * process faults its pages in on its CPU, mostly; one that moves is seen
 * again after RSWAP_PF_HISTORY reads there) each started a little past
 * the one before (a majority vote over their strides, in the spirit of
 * Leap), the next
 * prefetch.depth chunks of RSWAP_PF_CHUNK pages past the request are read
 * into a buffer preallocated at load (prefetch_kib), each as one READ
 * request of our own disk: the same path, slab table, copies and I/O
 * generations as any read. A read request whose every page is in a chunk
 * that holds them is served by copying them, with no round trip; one some
 * of whose pages are in a chunk placed but not yet loaded (its READ waits
 * for the work, or is on the wire) is started and joins that chunk's
 * waiters instead of reading them twice: when the chunk loads or is
 * dropped it is requeued, and dispatched again it is served, or read.
 *
 * A chunk's life (rswap_pf_state), all under prefetch.lock:
 *
 *   EMPTY --placed ahead of a stream--> WANTED --work submits its bio--> LOADING
 *   WANTED --the device is dying, or its bio would be split--> EMPTY
 *   LOADING --bio ends well, not stale--> VALID
 *   LOADING --bio fails, or stale--> EMPTY
 *   VALID --every page handed out, or evicted (least recently used)--> EMPTY
 *   WANTED, VALID --a write or discard overlaps--> EMPTY
 *   LOADING --a write or discard overlaps--> LOADING, stale
 *
 * Read requests wait only on a WANTED or LOADING chunk (not stale), and
 * each step that leaves those states or makes it stale requeues them
 * (wake_waiters): none waits on a VALID, EMPTY or stale one. Why they are
 * always woken: wait_for_chunk.
 *
 * Why a chunk never hands out a page older than the device's: every write
 * of a page drops the chunks that hold it when it ends (cmd_finish, or
 * queue_rq for one that fails there), and every discard when it is done.
 * A chunk read before or while the write was in flight (its READ may see
 * the old slot or a half-written new one) is WANTED, LOADING or VALID when
 * that write ends, and is dropped then; a chunk read after it ends reads
 * the new page. The kernel itself never reads a page whose write has not
 * ended (the page is in the swap cache, under writeback), nor one whose
 * write failed (it stays dirty in the swap cache until written again).
 *
 * A prefetch READ never waits for a server and is never retried: if a page
 * is on a server that is down or lost, the chunk is simply not loaded.
 *
 * Without the lock: prefetch.lock is the device's, so a read or write
 * that no chunk concerns does not take it. The trend is per hardware
 * queue, kept without a lock; prefetch.placed[] says, without the lock,
 * which chunks are not EMPTY and where.
 *  - A read whose first page no placed chunk holds is a miss at once. A
 *    chunk placed meanwhile only costs a hit.
 *  - A write or discard that ends with no placed chunk over its pages
 *    drops nothing, which must not miss a chunk whose READ saw the old
 *    page. That READ read the page's map entry after its chunk was
 *    placed, with a full barrier between (pf_work's smp_mb); the write
 *    stored the entry before it ended, and rswap_prefetch_invalidate
 *    has a full barrier before it looks at placed[]. So if the READ saw
 *    the old entry, the write's look sees the chunk, and takes the lock
 *    to drop it as before. A READ that saw the new entry while the
 *    write was still on the wire was posted after its chunk's placement
 *    was made visible to every CPU (that smp_mb), so before the write
 *    ended and looked: it is dropped too (and its checksum would fail).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/sched/mm.h>

#include "rswap.h"

static void pf_end_io(struct bio *bio);

bool rswap_prefetch_rq(struct request *rq)
{
	return rq->bio && rq->bio->bi_end_io == pf_end_io;
}

static u32 all_served(const struct rswap_pf_chunk *c)
{
	BUILD_BUG_ON(RSWAP_PF_CHUNK > 32);
	return c->n == 32 ? ~0u : (1u << c->n) - 1;
}

/* Caller holds the lock: the requests waiting for @c go to @woken (wake_waiters). */
static void take_waiters(struct rswap_prefetch *pf, struct rswap_pf_chunk *c,
			 struct list_head *woken)
{
	lockdep_assert_held(&pf->lock);
	list_splice_tail_init(&c->waiters, woken);
	pf->n_waiting -= c->n_waiters;
	c->n_waiters = 0;
}

/*
 * @c is free again; what it read and nobody took is counted as dropped.
 * Requests waiting for it go to @woken, for wake_waiters once the lock is
 * let go (NULL: the chunk is VALID, and none wait for a VALID chunk).
 */
static void chunk_drop(struct rswap_prefetch *pf, struct rswap_pf_chunk *c,
		       struct list_head *woken)
{
	lockdep_assert_held(&pf->lock);
	if (c->state == RSWAP_PF_VALID)
		rswap_stat_add(c->dev, prefetch_dropped_pages, c->n - hweight32(c->served));
	if (woken)
		take_waiters(pf, c, woken);
	else
		WARN_ON_ONCE(!list_empty(&c->waiters));
	c->state = RSWAP_PF_EMPTY;
	c->stale = false;
	WRITE_ONCE(pf->placed[c - pf->chunks], RSWAP_PF_NOWHERE);
}

/*
 * Without the lock: requeue the requests on @woken (chunk_drop, pf_end_io).
 * Dispatched again, each is served from what is read ahead, waits again,
 * or is read.
 */
static void wake_waiters(struct rswap_dev *dev, struct list_head *woken)
{
	struct rswap_cmd *cmd, *next;

	if (list_empty(woken))
		return;
	list_for_each_entry_safe(cmd, next, woken, pf_wait) {
		list_del_init(&cmd->pf_wait);
		blk_mq_requeue_request(blk_mq_rq_from_pdu(cmd), false);
	}
	blk_mq_kick_requeue_list(dev->disk->queue);
}

/* Without the lock: may a chunk hold page @page (see "Without the lock")? */
static bool placed_at(struct rswap_prefetch *pf, u64 page)
{
	u64 base = rounddown(page, RSWAP_PF_CHUNK);
	unsigned int i;

	for (i = 0; i < pf->n_chunks; i++)
		if (READ_ONCE(pf->placed[i]) == base)
			return true;
	return false;
}

/* The chunk holding page @page, VALID or on its way (WANTED, LOADING), or NULL. */
static struct rswap_pf_chunk *chunk_of(struct rswap_prefetch *pf, u64 page)
{
	u64 base = rounddown(page, RSWAP_PF_CHUNK);
	unsigned int i;

	for (i = 0; i < pf->n_chunks; i++)
		if (pf->chunks[i].state != RSWAP_PF_EMPTY && pf->chunks[i].base == base &&
		    page - base >= pf->chunks[i].skip && page - base < pf->chunks[i].n)
			return &pf->chunks[i];
	return NULL;
}

static bool chunk_placed(struct rswap_prefetch *pf, u64 base)
{
	unsigned int i;

	for (i = 0; i < pf->n_chunks; i++)
		if (pf->chunks[i].state != RSWAP_PF_EMPTY && pf->chunks[i].base == base)
			return true;
	return false;
}

/*
 * A chunk to place: a free one, else the VALID one outside the window
 * @from..@to (pages) being read ahead that was used least recently (loaded
 * or handed a page out): behind its stream, or left by one that stopped.
 * Not the oldest loaded: a process's pages are often on two or more runs
 * of slots it alternates between (swap slots go to each CPU in clusters),
 * and the chunks ahead of the run it left wait for it to come back.
 */
static struct rswap_pf_chunk *chunk_free(struct rswap_prefetch *pf, u64 from, u64 to)
{
	struct rswap_pf_chunk *old = NULL;
	unsigned int i;

	for (i = 0; i < pf->n_chunks; i++) {
		struct rswap_pf_chunk *c = &pf->chunks[i];

		if (c->state == RSWAP_PF_EMPTY)
			return c;
		if (c->state == RSWAP_PF_VALID && (c->base + c->n <= from || c->base >= to) &&
		    (!old || c->seq < old->seq))
			old = c;
	}
	if (old)
		chunk_drop(pf, old, NULL);
	return old;
}

/*
 * Is the stream @h saw sequential (@k: its next slot, as note_read left
 * it)? The stride most of its last reads had
 * (one pass of Boyer-Moore's majority vote, then a count), forward and no
 * longer than two chunks.
 */
static bool sequential(const struct rswap_pf_history *h, unsigned int k)
{
	s64 stride[RSWAP_PF_HISTORY - 1], cand = 0;
	unsigned int i;
	int votes = 0;

	if (k < RSWAP_PF_HISTORY)
		return false;
	for (i = 0; i < RSWAP_PF_HISTORY - 1; i++)
		stride[i] = (s64)(READ_ONCE(h->off[(k + i + 1) % RSWAP_PF_HISTORY]) -
				  READ_ONCE(h->off[(k + i) % RSWAP_PF_HISTORY]));
	for (i = 0; i < RSWAP_PF_HISTORY - 1; i++) {
		if (!votes)
			cand = stride[i];
		votes += stride[i] == cand ? 1 : -1;
	}
	for (i = 0, votes = 0; i < RSWAP_PF_HISTORY - 1; i++)
		votes += stride[i] == cand;
	return votes * 2 > RSWAP_PF_HISTORY - 1 && cand > 0 && cand <= 2 * RSWAP_PF_CHUNK;
}

/* Place the chunks of the depth past page @next: true if one is WANTED. */
static bool place_ahead(struct rswap_dev *dev, struct rswap_prefetch *pf, u64 next)
{
	u64 first = rounddown(next, RSWAP_PF_CHUNK), base;
	bool placed = false;
	unsigned int d;

	lockdep_assert_held(&pf->lock);
	/* Nothing would read it (rswap_prefetch_stop), and a request would wait for it. */
	if (READ_ONCE(dev->dying))
		return false;
	for (d = 0; d < pf->depth; d++) {
		struct rswap_pf_chunk *c;

		base = first + (u64)d * RSWAP_PF_CHUNK;
		/* Nothing past the device's end, nor a chunk with no page to read. */
		if (base >= dev->n_pages || next >= min(base + RSWAP_PF_CHUNK, dev->n_pages))
			break;
		if (chunk_placed(pf, base))
			continue;
		c = chunk_free(pf, first, first + (u64)pf->depth * RSWAP_PF_CHUNK);
		if (!c)
			break;
		c->state = RSWAP_PF_WANTED;
		c->stale = false;
		c->base = base;
		WRITE_ONCE(pf->placed[c - pf->chunks], base);
		c->n = min_t(u64, RSWAP_PF_CHUNK, dev->n_pages - base);
		/* The pages before @next were just read: nobody wants them, not read. */
		c->skip = next > base ? next - base : 0;
		c->served = (1u << c->skip) - 1;
		placed = true;
	}
	return placed;
}

/*
 * Record a read request at @off, dispatched on hardware queue @queue, for
 * the trend (no lock: struct rswap_pf_history). True: that queue's stream
 * is sequential.
 */
static bool note_read(struct rswap_prefetch *pf, unsigned int queue, u64 off)
{
	struct rswap_pf_history *h = &pf->hist[queue % pf->n_hist];
	unsigned int k = READ_ONCE(h->next);

	WRITE_ONCE(h->off[k % RSWAP_PF_HISTORY], off);
	k++;
	if (k >= 2 * RSWAP_PF_HISTORY)
		k -= RSWAP_PF_HISTORY;	/* keep it small, and >= HISTORY */
	WRITE_ONCE(h->next, k);
	return sequential(h, k);
}

/*
 * Caller holds the lock: what @cmd's pages at @off find read ahead; copied
 * in if all there. COMING: *@loading is a chunk whose READ they wait for.
 */
static enum rswap_pf_verdict serve(struct rswap_prefetch *pf, struct rswap_cmd *cmd, u64 off,
				   struct rswap_pf_chunk **loading)
{
	struct rswap_pf_chunk *c[RSWAP_MAX_SEGS];
	int i;

	lockdep_assert_held(&pf->lock);
	*loading = NULL;
	for (i = 0; i < cmd->nr_segs; i++) {
		c[i] = chunk_of(pf, off + i);
		if (!c[i] || c[i]->stale)
			return RSWAP_PF_MISS;
		if (c[i]->state != RSWAP_PF_VALID)
			*loading = c[i];
	}
	if (*loading)
		return RSWAP_PF_COMING;
	for (i = 0; i < cmd->nr_segs; i++) {
		u32 k = off + i - c[i]->base;

		copy_highpage(cmd->seg[i].page, c[i]->pages[k]);
		c[i]->served |= 1u << k;
		c[i]->seq = ++pf->seq;
	}
	for (i = 0; i < cmd->nr_segs; i++)
		if (c[i]->state == RSWAP_PF_VALID && c[i]->served == all_served(c[i]))
			chunk_drop(pf, c[i], NULL);
	return RSWAP_PF_SERVED;
}

/*
 * Caller holds the lock: @cmd's request waits for chunk @c (WANTED, or
 * LOADING and not stale) to load or be dropped; either requeues it
 * (wake_waiters), to be served, or read if the chunk is gone. Either
 * comes with no dispatch of this request, so it cannot wait on itself:
 *  - WANTED: the prefetch work is queued (rswap_prefetch_read; on a
 *    WQ_MEM_RECLAIM queue, so it runs under memory pressure) and submits
 *    or drops it. A dying device places nothing, and rswap_prefetch_stop
 *    drops what is still WANTED.
 *  - LOADING: its bio is REQ_NOWAIT, so it has a tag or failed at once;
 *    its READ never waits for a server (do_read ends it) and ends by
 *    itself. A write or discard meanwhile marks it stale and requeues
 *    its waiters at once. With an I/O scheduler the READ's tag is the
 *    scheduler's, and it still needs a driver tag to be dispatched, as
 *    every waiter holds one: so waiters never hold more than half a
 *    hardware queue's (max_waiting; false: read it instead), and the
 *    rest are held by requests that end on their own.
 * Started first, so that a requeue finds it in flight; it posted nothing
 * (nr_wrs 0: its timeout, should the READ take that long, fails no
 * server). Not counted in an I/O generation: a quiesce waits for the
 * READ, not for it.
 */
static bool wait_for_chunk(struct rswap_prefetch *pf, struct rswap_pf_chunk *c,
			   struct rswap_cmd *cmd)
{
	lockdep_assert_held(&pf->lock);
	if (pf->n_waiting >= pf->max_waiting)
		return false;
	pf->n_waiting++;
	c->n_waiters++;
	cmd->nr_wrs = 0;
	if (!cmd->waited_since)		/* its read latency starts here */
		cmd->waited_since = rswap_clock();
	rswap_stat_inc(c->dev, prefetch_waits);
	blk_mq_start_request(blk_mq_rq_from_pdu(cmd));
	list_add_tail(&cmd->pf_wait, &c->waiters);
	return true;
}

/*
 * A read request of a swap-in (@cmd's pages at @off): served from what was
 * read ahead if every page is there; started and left waiting if some are
 * in a chunk not yet loaded (wait_for_chunk) and the rest are there,
 * rather than read them a second time; and, @first time it is
 * dispatched, counted for the trend, which may place chunks ahead of it.
 * The lock is taken only to serve it from a placed chunk, or to place.
 */
enum rswap_pf_verdict rswap_prefetch_read(struct rswap_dev *dev, struct rswap_cmd *cmd, u64 off,
					  bool first)
{
	struct rswap_prefetch *pf = &dev->prefetch;
	enum rswap_pf_verdict v = RSWAP_PF_MISS;
	/* A request left waiting may be requeued at once: nothing of it after. */
	unsigned int queue = cmd->queue, n = cmd->nr_segs;
	struct rswap_pf_chunk *loading;
	unsigned long flags;
	bool kick = false;

	if (!pf->n_chunks || !READ_ONCE(rswap_prefetch_enabled))
		return RSWAP_PF_MISS;
	if (placed_at(pf, off)) {
		spin_lock_irqsave(&pf->lock, flags);
		v = serve(pf, cmd, off, &loading);
		if (v == RSWAP_PF_COMING && !wait_for_chunk(pf, loading, cmd))
			v = RSWAP_PF_MISS;
		spin_unlock_irqrestore(&pf->lock, flags);
	}
	if (first && note_read(pf, queue, off)) {
		spin_lock_irqsave(&pf->lock, flags);
		kick = place_ahead(dev, pf, off + n);
		spin_unlock_irqrestore(&pf->lock, flags);
	}
	if (v == RSWAP_PF_SERVED)
		rswap_stat_add(dev, prefetch_hit_pages, n);
	if (kick && !READ_ONCE(dev->dying))
		queue_work(dev->wq, &pf->work);
	return v;
}

void rswap_prefetch_invalidate(struct rswap_dev *dev, u64 off, u64 n)
{
	struct rswap_prefetch *pf = &dev->prefetch;
	unsigned long flags;
	unsigned int i;
	bool any = false;
	LIST_HEAD(woken);

	if (!pf->n_chunks || !n)
		return;
	/*
	 * Our pages' map entries were stored before: look at placed[] only
	 * after (pairs with pf_work's smp_mb, see "Without the lock").
	 */
	smp_mb();
	for (i = 0; i < pf->n_chunks && !any; i++) {
		u64 base = READ_ONCE(pf->placed[i]);

		any = base != RSWAP_PF_NOWHERE && base < off + n && base + RSWAP_PF_CHUNK > off;
	}
	if (!any)
		return;
	spin_lock_irqsave(&pf->lock, flags);
	for (i = 0; i < pf->n_chunks; i++) {
		struct rswap_pf_chunk *c = &pf->chunks[i];

		if (c->state == RSWAP_PF_EMPTY || c->base >= off + n || c->base + c->n <= off)
			continue;
		if (c->state == RSWAP_PF_LOADING) {
			/* Its READ ends as it may: those waiting read now. */
			c->stale = true;
			take_waiters(pf, c, &woken);
		} else {
			chunk_drop(pf, c, &woken);
		}
	}
	spin_unlock_irqrestore(&pf->lock, flags);
	wake_waiters(dev, &woken);
}

static void pf_end_io(struct bio *bio)
{
	struct rswap_pf_chunk *c = bio->bi_private;
	struct rswap_dev *dev = c->dev;
	struct rswap_prefetch *pf = &dev->prefetch;
	blk_status_t status = bio->bi_status;
	unsigned long flags;
	LIST_HEAD(woken);

	/* Before the chunk is VALID or EMPTY: it may be placed and its bio reused at once. */
	bio_uninit(bio);
	spin_lock_irqsave(&pf->lock, flags);
	if (c->state == RSWAP_PF_LOADING) {
		/* BLK_STS_AGAIN: it got no tag (REQ_NOWAIT), nothing was read */
		if (status != BLK_STS_AGAIN)
			rswap_stat_add(dev, prefetch_read_pages, c->n - c->skip);
		if (status || c->stale) {
			if (status != BLK_STS_AGAIN)
				rswap_stat_add(dev, prefetch_dropped_pages, c->n - c->skip);
			chunk_drop(pf, c, &woken);
		} else {
			c->state = RSWAP_PF_VALID;
			c->seq = ++pf->seq;
			take_waiters(pf, c, &woken);
		}
	}
	spin_unlock_irqrestore(&pf->lock, flags);
	wake_waiters(dev, &woken);
}

/* Submit the reads of the WANTED chunks (process context, no allocation). */
static void pf_work(struct work_struct *work)
{
	struct rswap_prefetch *pf = container_of(work, struct rswap_prefetch, work);
	unsigned int noio = memalloc_noio_save(), i, k;
	u32 delay = READ_ONCE(rswap_fault_prefetch_delay_ms);
	unsigned long flags;

	/* debugfs prefetch_delay_ms: a slow workqueue (not when stopping) */
	if (unlikely(delay) && pf->n_chunks && !READ_ONCE(pf->chunks[0].dev->dying))
		msleep(min(delay, 10000u));

	for (i = 0; i < pf->n_chunks; i++) {
		struct rswap_pf_chunk *c = &pf->chunks[i];
		struct rswap_dev *dev = c->dev;
		LIST_HEAD(woken);

		spin_lock_irqsave(&pf->lock, flags);
		/*
		 * A bio the block layer would split (max_sectors_kb set under a
		 * chunk) makes requests rswap_prefetch_rq cannot tell: none then.
		 */
		if (c->state != RSWAP_PF_WANTED || READ_ONCE(dev->dying) ||
		    queue_max_sectors(dev->disk->queue) < c->n * RSWAP_SECTORS_PER_PAGE) {
			if (c->state == RSWAP_PF_WANTED)
				chunk_drop(pf, c, &woken);
			spin_unlock_irqrestore(&pf->lock, flags);
			wake_waiters(dev, &woken);
			continue;
		}
		c->state = RSWAP_PF_LOADING;
		c->stale = false;
		spin_unlock_irqrestore(&pf->lock, flags);

		/* No tag now: not read ahead (never waits in dev->wq, see rswap_repair.c). */
		bio_init(&c->bio, dev->disk->part0, c->vecs, RSWAP_PF_CHUNK,
			 REQ_OP_READ | REQ_RAHEAD | REQ_NOMERGE | REQ_NOWAIT);
		c->bio.bi_iter.bi_sector = (c->base + c->skip) * RSWAP_SECTORS_PER_PAGE;
		for (k = c->skip; k < c->n; k++)
			__bio_add_page(&c->bio, c->pages[k], RSWAP_PAGE_SIZE, 0);
		c->bio.bi_end_io = pf_end_io;
		c->bio.bi_private = c;
		/*
		 * The chunk was placed (placed[] stored) before; its READ
		 * reads the map after. Pairs with rswap_prefetch_invalidate's
		 * smp_mb: a write that ends after our READ saw its old entry
		 * sees the chunk placed.
		 */
		smp_mb();
		submit_bio(&c->bio);
	}
	memalloc_noio_restore(noio);
}

/* A buffer of @kib KiB, in whole chunks (0: none, prefetch off for good). */
int rswap_prefetch_init(struct rswap_dev *dev, unsigned int kib)
{
	struct rswap_prefetch *pf = &dev->prefetch;
	unsigned int n = min_t(unsigned int, kib / (RSWAP_PF_CHUNK * RSWAP_PAGE_SIZE / 1024),
			       RSWAP_PF_MAX_CHUNKS);
	unsigned int i, k;

	spin_lock_init(&pf->lock);
	INIT_WORK(&pf->work, pf_work);
	if (!n)
		return 0;
	pf->chunks = kcalloc(n, sizeof(*pf->chunks), GFP_KERNEL);
	pf->placed = kcalloc(n, sizeof(*pf->placed), GFP_KERNEL);
	/* A history per hardware queue: queue_rq's hctx->queue_num < nr_cpu_ids. */
	pf->n_hist = nr_cpu_ids;
	pf->hist = kcalloc(pf->n_hist, sizeof(*pf->hist), GFP_KERNEL);
	if (!pf->chunks || !pf->placed || !pf->hist) {
		rswap_prefetch_fini(dev);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		pf->placed[i] = RSWAP_PF_NOWHERE;
	pf->n_chunks = n;
	/*
	 * An eighth of the buffer ahead of a stream: room for the runs of
	 * slots one swap-in alternates between (chunk_free); never more than
	 * a quarter of a hardware queue's tags: swap goes first.
	 */
	pf->depth = clamp(min(n / 8, dev->tag_set.queue_depth / 4), 1u, n);
	pf->max_waiting = dev->tag_set.queue_depth / 2;	/* wait_for_chunk */
	for (i = 0; i < n; i++) {
		pf->chunks[i].dev = dev;
		INIT_LIST_HEAD(&pf->chunks[i].waiters);
		for (k = 0; k < RSWAP_PF_CHUNK; k++) {
			pf->chunks[i].pages[k] = alloc_page(GFP_KERNEL);
			if (!pf->chunks[i].pages[k]) {
				rswap_prefetch_fini(dev);
				return -ENOMEM;
			}
		}
	}
	return 0;
}

/*
 * No read ahead is submitted any more (dev->dying is set); those in flight
 * end with the disk. A chunk still WANTED is dropped by a last run of the
 * work, and the requests waiting for it are read instead; none is placed
 * after (place_ahead, under the lock this run takes).
 */
void rswap_prefetch_stop(struct rswap_dev *dev)
{
	if (!dev->prefetch.n_chunks)
		return;
	cancel_work_sync(&dev->prefetch.work);
	pf_work(&dev->prefetch.work);
}

void rswap_prefetch_fini(struct rswap_dev *dev)
{
	struct rswap_prefetch *pf = &dev->prefetch;
	unsigned int i, k;

	for (i = 0; pf->chunks && i < pf->n_chunks; i++)
		for (k = 0; k < RSWAP_PF_CHUNK; k++)
			if (pf->chunks[i].pages[k])
				__free_page(pf->chunks[i].pages[k]);
	kfree(pf->chunks);
	kfree(pf->placed);
	kfree(pf->hist);
	pf->chunks = NULL;
	pf->placed = NULL;
	pf->hist = NULL;
	pf->n_chunks = 0;
}
