// SPDX-License-Identifier: GPL-2.0
/*
 * rswap_dev: /dev/rswapN, the blk-mq device swap writes to.
 *
 * Each request becomes page operations on the offset map (one 4 KiB block
 * is one page, one swap offset):
 *   WRITE    a zero- or same-filled page is recorded in its entry and
 *            nothing is sent; the other pages of the request take
 *            consecutive slots of one slab where they can, and each run of
 *            slots goes out as one RDMA WRITE with a gather list.
 *   READ     ZERO/SAME entries are filled in place; REMOTE ones are RDMA
 *            READs; EMPTY ones read as zeroes.
 *   DISCARD  entries become EMPTY and their slots free (swapon --discard).
 *
 * Nothing here allocates: the request's state (struct rswap_cmd) is blk-mq's
 * preallocated pdu, slots come from the reserve rswap_slabs.c keeps filled.
 * A request that meets a server being reconnected is parked on the requeue
 * list and runs again when it is back; one whose RDMA failed is retried
 * (a write takes new slots) up to RSWAP_MAX_RETRIES times.
 *
 * Every page that goes to a server carries a checksum in its map entry
 * (xxh64 of the page, seeded at random per device, 32 bits kept), made when
 * it is written and checked when it is read back: a page that comes back
 * different (a bit flipped in a server's memory or on the way, a server
 * that hands back another slot's page, a transport that completes a READ
 * it did not finish, as 6.1's rxe does after a retried partial read) is
 * never given to a process. Its request is tried again, on another copy
 * where there is one, and after RSWAP_MAX_RETRIES tries the page fails
 * with EIO (SIGBUS), as a lost one does. The checksum is not a MAC: it
 * finds damage, not a server forging pages on purpose.
 *
 * The checksum is made at dispatch and the WRITE reads the page later, so
 * a page changed in between would leave a slot that does not match. Swap
 * itself never reads such a slot (the page stays dirty and is written
 * again first), but the slot is a copy that lies about its checksum: a
 * whole-device read gets EIO for it. With stable_writes=1 the device asks
 * for stable writes (alloc_disk): a page faulted in during its writeback
 * is mapped read-only and copied at its next write, as for zram and NVMe
 * with integrity, and every copy matches its checksum; it costs swap
 * slots under thrashing, so it is off by default. A raw O_DIRECT write
 * from a buffer changed while in flight reads back as EIO either way.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <crypto/hash.h>
#include <linux/blkdev.h>
#include <linux/highmem.h>
#include <linux/slab.h>
#include <linux/random.h>
#include <linux/utsname.h>

#include "rswap.h"
#include "rswap_trace.h"

#define RSWAP_PARK_DELAY_MS	100
#define RSWAP_SQ_FULL_DELAY_MS	1	/* and a page read again (its checksum) */
/* An earlier write of its pages: kicked when one ends, this is a fallback. */
#define RSWAP_OVERLAP_DELAY_MS	1
/*
 * Pages one discard may cover: it holds dev->lock while it walks their
 * entries, and the block layer splits larger ones. 64 MiB walks in well
 * under a millisecond.
 */
#define RSWAP_DISCARD_MAX_PAGES	16384
#define RSWAP_DISCARD_MAX_SECTORS (RSWAP_DISCARD_MAX_PAGES * RSWAP_SECTORS_PER_PAGE)

static int rswap_major;

/* Undo map_wrs: one ib_dma_unmap_sg per RDMA device the request's WRs went through. */
static void unmap_segs(struct rswap_cmd *cmd, enum dma_data_direction dir)
{
	unsigned int d;

	for (d = 0; d < cmd->nr_maps; d++) {
		struct rswap_dma_map *m = &cmd->map[d];

		if (m->mapped)
			ib_dma_unmap_sg(m->ibdev, &cmd->sgl[m->start], m->n, dir);
		m->mapped = false;
	}
	cmd->nr_maps = 0;
}

/* The latency histograms' bucket of @from to @to: < 2^i microseconds. */
static int lat_bucket(ktime_t from, ktime_t to)
{
	u64 us = rswap_clock_us(from, to);

	return us ? min_t(int, fls64(us), RSWAP_LAT_BUCKETS - 1) : 0;
}

/*
 * A read's time, whole and in its two stages: building and posting its WRs
 * (for rxe this includes the requester's work), then waiting for the last
 * completion. They say where a slow read spent its time. A read that was
 * left waiting for a chunk read ahead (rswap_prefetch.c) counts that wait
 * in its whole time; one then served from the chunk (@posted false) has
 * no stages of its own.
 */
static void account_latency(struct rswap_dev *dev, struct rswap_cmd *cmd, bool posted)
{
	ktime_t now = rswap_clock();
	ktime_t from = cmd->waited_since ?: cmd->start;

	rswap_stat_add(dev, read_lat_sum_us, rswap_clock_us(from, now));
	rswap_stat_inc(dev, read_lat[lat_bucket(from, now)]);
	if (!posted)
		return;
	rswap_stat_inc(dev, read_post[lat_bucket(cmd->start, cmd->posted)]);
	rswap_stat_inc(dev, read_wait[lat_bucket(cmd->posted, now)]);
}

/*
 * Park @rq until the servers it needs may be back (RSWAP_PARK_DELAY_MS), or
 * until its send queue has room (RSWAP_SQ_FULL_DELAY_MS: completions free
 * it within microseconds on a busy queue pair). The delay is the queue's
 * one requeue timer: the last park sets it.
 */
static void park(struct request *rq, unsigned int delay_ms)
{
	blk_mq_requeue_request(rq, false);
	blk_mq_delay_kick_requeue_list(rq->q, delay_ms);
}

/*
 * A request's bits in a bitmap of pages (dev->writing, dev->read_wants),
 * a word at a time: its up to RSWAP_MAX_SEGS pages are one or two words,
 * so one atomic each, not one a page. bits_word: of bits @b.. @end - 1,
 * those in @b's word, as the word and their mask; the next word's start.
 */
static atomic_long_t *bits_word(unsigned long *map, u64 b, u64 end, unsigned long *mask,
				u64 *next)
{
	*next = min(end, round_down(b, BITS_PER_LONG) + BITS_PER_LONG);
	*mask = BITMAP_FIRST_WORD_MASK(b) & BITMAP_LAST_WORD_MASK(*next);
	return (atomic_long_t *)&map[BIT_WORD(b)];
}

enum bits_op { BITS_SET, BITS_CLEAR, BITS_UNLOCK /* clear, in a lock's release order */ };

/* Bits @start.. @end - 1 of @map set or cleared, a word at a time. */
static void bits_change(unsigned long *map, u64 start, u64 end, enum bits_op op)
{
	unsigned long mask;
	u64 b, next;

	for (b = start; b < end; b = next) {
		atomic_long_t *w = bits_word(map, b, end, &mask, &next);

		if (op == BITS_SET)
			atomic_long_or(mask, w);
		else if (op == BITS_CLEAR)
			atomic_long_andnot(mask, w);
		else
			atomic_long_fetch_andnot_release(mask, w);
	}
}

/*
 * Bits @start.. @end - 1 of @map, all clear, set together, each word's
 * fully ordered (a lock's acquire, as test_and_set_bit_lock). False,
 * none set: one was set already.
 */
static bool bits_try_lock(unsigned long *map, u64 start, u64 end)
{
	unsigned long mask;
	u64 b, next;

	for (b = start; b < end; b = next) {
		atomic_long_t *w = bits_word(map, b, end, &mask, &next);
		long old = atomic_long_read(w);

		do {
			if (old & mask) {
				/* the words before */
				bits_change(map, start, b, BITS_UNLOCK);
				return false;
			}
		} while (!atomic_long_try_cmpxchg(w, &old, old | mask));
	}
	return true;
}

/*
 * Read @cmd at @off no longer waits to claim its pages (read_claim): it
 * has them, or it ends. Its marks are cleared even where another read
 * marked the same page; that read then waits as any read does.
 */
static void read_wants_drop(struct rswap_dev *dev, struct rswap_cmd *cmd, u64 off)
{
	if (!cmd->wanting)
		return;
	cmd->wanting = false;
	bits_change(dev->read_wants, off, off + cmd->nr_segs, BITS_CLEAR);
	atomic_dec(&dev->reads_wanting);
}

/*
 * @rq ends with @st: a claim on its pages is let go (rswap_writes_claim),
 * and so are the pages a read wanted (read_claim), and rswap_req_complete
 * traced, before the request is updated. Every request of ours ends
 * through here: rswap_end_rq, rswap_end_pages, or queue_one's failures,
 * which the block layer ends.
 */
static void req_ends(struct rswap_cmd *cmd, struct request *rq, blk_status_t st)
{
	bool rw = req_op(rq) == REQ_OP_READ || req_op(rq) == REQ_OP_WRITE;

	read_wants_drop(cmd->dev, cmd, blk_rq_pos(rq) / RSWAP_SECTORS_PER_PAGE);
	rswap_writes_release(cmd->dev, cmd, blk_rq_pos(rq) / RSWAP_SECTORS_PER_PAGE);
	if (!trace_rswap_req_complete_enabled())
		return;
	trace_rswap_req_complete(cmd->dev->name, req_op(rq),
				 blk_rq_pos(rq) / RSWAP_SECTORS_PER_PAGE,
				 DIV_ROUND_UP(blk_rq_bytes(rq), RSWAP_PAGE_SIZE),
				 rw ? cmd->nr_remote : 0, rw ? cmd->nr_lost : 0, cmd->tries,
				 blk_status_to_errno(st), cmd->submitted ?
				 ktime_to_ns(ktime_sub(ktime_get(), cmd->submitted)) : 0);
}

void rswap_end_rq(struct rswap_cmd *cmd, struct request *rq, blk_status_t st)
{
	req_ends(cmd, rq, st);
	blk_mq_end_request(rq, st);
}

/*
 * End a read whose pages did not all survive: each page (a bio of its own,
 * from swap) completes with its own status, so a process whose page was on
 * a lost server gets SIGBUS and one whose page shared the request does not.
 */
void rswap_end_pages(struct rswap_cmd *cmd, struct request *rq)
{
	int i;

	req_ends(cmd, rq, BLK_STS_OK);

	for (i = 0; i < cmd->nr_segs; i++)
		if (!blk_update_request(rq, cmd->seg[i].lost ? BLK_STS_IOERR : BLK_STS_OK,
					RSWAP_PAGE_SIZE))
			break;
	__blk_mq_end_request(rq, BLK_STS_OK);
}

static void end_ok(struct rswap_cmd *cmd, struct request *rq)
{
	if (unlikely(cmd->nr_lost))
		rswap_end_pages(cmd, rq);
	else
		rswap_end_rq(cmd, rq, BLK_STS_OK);
}

/*
 * Count @cmd in the current I/O generation, once it has read the slab
 * table. Caller holds dev->lock, or is in a read section of it and checks
 * the sequence afterwards (do_read): a quiesce that flipped the generation
 * meanwhile changed the sequence, and the request counts itself again.
 */
static void io_begin(struct rswap_dev *dev, struct rswap_cmd *cmd)
{
	cmd->gen = READ_ONCE(dev->io_gen);
	cmd->io_queue = cmd->queue;
	atomic_inc(&dev->io_inflight[cmd->io_queue].n[cmd->gen]);
	/*
	 * Pairs with rswap_io_quiesce's smp_mb(): either the quiesce sees
	 * this count, or the sequence check after it sees the quiesce.
	 */
	smp_mb__after_atomic();
}

static void io_end(struct rswap_dev *dev, struct rswap_cmd *cmd)
{
	if (atomic_dec_and_test(&dev->io_inflight[cmd->io_queue].n[cmd->gen]) &&
	    wq_has_sleeper(&dev->io_wait))
		wake_up(&dev->io_wait);
}

/* No request of generation @gen in flight on any hardware queue. */
static bool io_drained(struct rswap_dev *dev, unsigned int gen)
{
	unsigned int q;

	for (q = 0; q < nr_cpu_ids; q++)
		if (atomic_read(&dev->io_inflight[q].n[gen]))
			return false;
	return true;
}

/*
 * Wait until no request that read the slab table before now is in flight:
 * none still writes into a slab frozen before the call, or reads a copy
 * the table no longer names. Only the migration worker calls it (moves,
 * and new copies' copy_batch: one work item, so never two at once). 0, or
 * -ETIMEDOUT, or -ESHUTDOWN (the device is going: no move may go on).
 */
int rswap_io_quiesce(struct rswap_dev *dev)
{
	unsigned int old;

	write_seqlock(&dev->lock);
	old = dev->io_gen;
	WRITE_ONCE(dev->io_gen, old ^ 1);
	write_sequnlock(&dev->lock);
	/*
	 * A read that counted itself in @old without the lock checks the
	 * sequence after its count (io_begin); we read the count after
	 * changing the sequence. With a full barrier on each side, one of us
	 * sees the other: it plans again, or we wait for it.
	 */
	smp_mb();
	if (!wait_event_timeout(dev->io_wait, io_drained(dev, old) ||
				READ_ONCE(dev->dying), 60 * HZ)) {
		pr_warn("%s: requests still in flight after 60s\n", dev->name);
		return -ETIMEDOUT;
	}
	return READ_ONCE(dev->dying) ? -ESHUTDOWN : 0;
}

/* The server a read's page @i came from: its WR's (WRs are in page order). */
static const struct rswap_server *seg_server(const struct rswap_cmd *cmd, unsigned int i)
{
	unsigned int w = cmd->nr_wrs - 1;

	while (w > 0 && cmd->wr_seg[w] > i)
		w--;
	return cmd->wr_srv[w];
}

/*
 * Can a wrong page of read @cmd be put down to a write of it
 * (rswap_read_met_write)? Not for a read ahead (its mismatch is dropped
 * anyway), a dying device, or a read that has claimed its pages: no write
 * of them can be in flight, its mismatch is the page's own.
 */
static bool read_may_meet(const struct rswap_cmd *cmd)
{
	return !cmd->prefetch && !cmd->claimed && !READ_ONCE(cmd->dev->dying);
}

/*
 * Check a read's remote pages against their entries' checksums. A bad
 * page's server is avoided by that page's next try (a server, not a copy
 * position: one server is copy 0 of one set and copy 1 of the next, and a
 * request may span both; and per page: one page wrong on one server says
 * nothing of the request's other pages there); on its last try
 * (@last) the page fails alone, as a lost one does. Returns how many were
 * bad; *@met: how many wrong ones met a write of theirs instead
 * (rswap_read_met_write), not counted as bad.
 */
static unsigned int verify_pages(struct rswap_cmd *cmd, bool last, unsigned int *met)
{
	struct rswap_dev *dev = cmd->dev;
	u64 off = blk_rq_pos(blk_mq_rq_from_pdu(cmd)) / RSWAP_SECTORS_PER_PAGE;
	unsigned int i, bad = 0;

	for (i = 0; i < cmd->nr_segs; i++) {
		u8 *p;
		u32 sum;

		if (!cmd->seg[i].check)
			continue;
		p = kmap_local_page(cmd->seg[i].page);
		/* debugfs corrupt_reads: one bit of a page read on demand flips */
		if (unlikely(atomic_read(&rswap_fault_corrupt_reads) > 0) && !cmd->prefetch &&
		    atomic_dec_if_positive(&rswap_fault_corrupt_reads) >= 0)
			p[(i * 97 + 13) % RSWAP_PAGE_SIZE] ^= 0x10;
		sum = rswap_page_csum(dev, p);
		kunmap_local(p);
		if (likely(sum == cmd->seg[i].csum)) {
			/* debugfs read_meets: as if a write changed the page under the read */
			if (unlikely(atomic_read(&rswap_fault_read_meets) > 0) &&
			    read_may_meet(cmd) &&
			    atomic_dec_if_positive(&rswap_fault_read_meets) >= 0)
				(*met)++;
			continue;
		}
		if (rswap_read_met_write(cmd, i, off)) {
			(*met)++;
			continue;
		}
		cmd->seg[i].bad_servers |= 1u << cmd->seg[i].srv;
		bad++;
		if (trace_rswap_csum_error_enabled())
			trace_rswap_csum_error(dev->name, off + i, seg_server(cmd, i)->name,
					       !last && !cmd->prefetch);
		if (last) {
			cmd->seg[i].lost = true;
			cmd->nr_lost++;
		}
	}
	return bad;
}

/*
 * A read with @bad pages whose checksum was wrong: tried again (true: the
 * request is parked), or, out of tries, ended with those pages failed
 * (false: the caller ends it). A read ahead is dropped: the pages are read
 * on demand, and checked again, if they are wanted. Its mismatch is not
 * counted: a slot freed and given to another page while the read ahead
 * read it mismatches too, and its pages are dropped by that write anyway.
 * @met more pages met a write of theirs: the read goes again, no try
 * counted (rswap_read_met_park).
 */
static bool csum_failed(struct rswap_cmd *cmd, struct request *rq, unsigned int bad,
			unsigned int met, bool last)
{
	struct rswap_dev *dev = cmd->dev;
	u64 page = blk_rq_pos(rq) / RSWAP_SECTORS_PER_PAGE;

	if (cmd->prefetch) {
		rswap_end_rq(cmd, rq, BLK_STS_IOERR);
		return true;
	}
	rswap_stat_add(dev, csum_errors, bad);
	if (met) {
		/* Pages wrong besides count a try: their copies are repaired. */
		if (bad) {
			cmd->retries++;
			rswap_stat_inc(dev, retries);
		}
		rswap_read_met_park(cmd, rq, page, met);
		return true;
	}
	if (!last) {
		cmd->retries++;
		pr_warn_ratelimited("%s: read of %u pages from page %llu: %u came back with a wrong checksum, reading again\n",
				    dev->name, cmd->nr_segs, page, bad);
		rswap_stat_inc(dev, retries);
		/*
		 * At once, from another copy where there is one; a transport
		 * that broke (the QP in error) makes the next try wait for
		 * its server as any read does.
		 */
		park(rq, RSWAP_SQ_FULL_DELAY_MS);
		return true;
	}
	rswap_stat_add(dev, read_errors, bad);
	pr_err_ratelimited("%s: read of %u pages from page %llu: %u had a wrong checksum on every try: failed\n",
			   dev->name, cmd->nr_segs, page, bad);
	return false;
}

/*
 * A read that came back right after a try in which some of its pages had
 * a wrong checksum: those pages' bad copies are written again
 * (rswap_repair.c).
 */
static void queue_repairs(struct rswap_cmd *cmd, u64 off)
{
	unsigned int i;

	for (i = 0; i < cmd->nr_segs; i++)
		if (cmd->seg[i].check && cmd->seg[i].bad_servers && !cmd->seg[i].lost)
			rswap_repair_queue(cmd->dev, off + i, cmd->seg[i].page, cmd->seg[i].entry);
}

static void cmd_finish(struct rswap_cmd *cmd)
{
	struct request *rq = blk_mq_rq_from_pdu(cmd);
	struct rswap_dev *dev = cmd->dev;
	bool write = req_op(rq) == REQ_OP_WRITE;

	unmap_segs(cmd, write ? DMA_TO_DEVICE : DMA_FROM_DEVICE);
	io_end(dev, cmd);
	/*
	 * A read ahead while this write was in flight may hold its old page.
	 * (The write's claim on its pages is kept until it ends, tries again
	 * included: req_ends.)
	 */
	if (write)
		rswap_prefetch_invalidate(dev, blk_rq_pos(rq) / RSWAP_SECTORS_PER_PAGE,
					  cmd->nr_segs);
	if (!READ_ONCE(cmd->failed) && !write && cmd->nr_remote) {
		bool last = dev->dying || cmd->retries >= RSWAP_MAX_RETRIES;
		unsigned int met = 0, bad = verify_pages(cmd, last && !cmd->prefetch, &met);

		if (unlikely(bad || met) && csum_failed(cmd, rq, bad, met, last))
			return;
	}
	if (!READ_ONCE(cmd->failed)) {
		if (!write && unlikely(cmd->retries)) {
			/* A claim of its own first: a repair moves only unclaimed pages. */
			rswap_writes_release(dev, cmd, blk_rq_pos(rq) / RSWAP_SECTORS_PER_PAGE);
			queue_repairs(cmd, blk_rq_pos(rq) / RSWAP_SECTORS_PER_PAGE);
		}
		if (write) {
			rswap_stat_add(dev, bytes_sent, (u64)cmd->nr_remote * RSWAP_PAGE_SIZE);
			rswap_stat_add(dev, rdma_writes, cmd->nr_wrs);
		} else {
			rswap_stat_add(dev, bytes_received, (u64)cmd->nr_remote * RSWAP_PAGE_SIZE);
			rswap_stat_add(dev, rdma_reads, cmd->nr_wrs);
			if (!cmd->prefetch)
				account_latency(dev, cmd, true);
		}
		end_ok(cmd, rq);
		return;
	}
	/*
	 * A server going away is waited out (it comes back, or its slabs are
	 * detached and writes go elsewhere, or it is declared lost and reads
	 * fail page by page), and so is a full send queue; other failures are
	 * tried a few times.
	 */
	/* A read ahead, or a read-repair, is not worth a wait or a retry. */
	if (cmd->prefetch || cmd->repair) {
		rswap_end_rq(cmd, rq, BLK_STS_IOERR);
		return;
	}
	if (READ_ONCE(cmd->sq_full) && !READ_ONCE(cmd->server_down))
		rswap_stat_inc(dev, sq_full);
	if (!dev->dying && (READ_ONCE(cmd->server_down) || READ_ONCE(cmd->sq_full) ||
			    ++cmd->retries <= RSWAP_MAX_RETRIES)) {
		rswap_stat_inc(dev, retries);
		park(rq, READ_ONCE(cmd->server_down) || !READ_ONCE(cmd->sq_full) ?
		     RSWAP_PARK_DELAY_MS : RSWAP_SQ_FULL_DELAY_MS);
		return;
	}
	if (write)
		rswap_stat_inc(dev, write_errors);
	else
		rswap_stat_inc(dev, read_errors);
	pr_err_ratelimited("%s: %s at page %llu failed after %d tries\n", dev->name,
			   write ? "write" : "read", blk_rq_pos(rq) / RSWAP_SECTORS_PER_PAGE,
			   cmd->retries);
	rswap_end_rq(cmd, rq, BLK_STS_IOERR);
}

/* A failed completion of one of @cmd's WRs on @q: the request fails, and the connection. */
static void wr_completion_failed(struct rswap_cmd *cmd, struct rswap_qp *q, const struct ib_wc *wc)
{
	struct rswap_server *srv = q->srv;

	if (wc->status != IB_WC_WR_FLUSH_ERR)
		pr_warn_ratelimited("%s: RDMA %s failed: %s\n", srv->name,
				    wc->opcode == IB_WC_RDMA_READ ? "READ" : "WRITE",
				    ib_wc_status_msg(wc->status));
	else
		WRITE_ONCE(cmd->server_down, true);
	WRITE_ONCE(cmd->failed, true);
	rswap_server_fail(srv);
}

/* The signaled last WR of a chain completed, and so did the chain (post_wrs). */
static void rdma_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct rswap_chain *ch = container_of(wc->wr_cqe, struct rswap_chain, cqe);
	struct rswap_cmd *cmd = ch->cmd;
	struct rswap_qp *q = wc->qp->qp_context;	/* CQs are shared (qp_connect) */

	/* The chain's send queue slots are free again (flushed WRs complete too). */
	atomic_add(ch->wrs, &q->sq_credits);
	if (unlikely(wc->status != IB_WC_SUCCESS))
		wr_completion_failed(cmd, q, wc);
	if (atomic_dec_and_test(&cmd->pending))
		cmd_finish(cmd);
}

/*
 * An unsignaled WR completed: only a failed one ever does (an error, or
 * a flush the provider chose to report). It fails the request and counts
 * nothing: its chain's signaled last WR completes after it (post_wrs).
 */
static void rdma_done_unsignaled(struct ib_cq *cq, struct ib_wc *wc)
{
	struct rswap_cmd *cmd = container_of(wc->wr_cqe, struct rswap_cmd, unsignaled_cqe);

	if (unlikely(wc->status != IB_WC_SUCCESS))
		wr_completion_failed(cmd, wc->qp->qp_context, wc);
}

/*
 * A request that posted part of a chain on a QP that has now been
 * drained (qp_teardown, after ib_drain_qp): nothing it posted there can
 * still complete or touch its pages, so it may end.
 */
void rswap_cmds_drained(struct llist_node *list)
{
	struct rswap_cmd *cmd, *next;

	llist_for_each_entry_safe(cmd, next, list, orphan)
		if (atomic_dec_and_test(&cmd->pending))
			cmd_finish(cmd);
}

enum rswap_wr_fail {
	RSWAP_WR_ERROR,		/* counts as a try */
	RSWAP_WR_SERVER_DOWN,	/* waits for the server */
	RSWAP_WR_SQ_FULL,	/* waits for send queue room */
};

/* Some of the request's WRs do not go: it fails, and why. */
static void wr_failed(struct rswap_cmd *cmd, enum rswap_wr_fail why)
{
	if (why == RSWAP_WR_SERVER_DOWN)
		WRITE_ONCE(cmd->server_down, true);
	else if (why == RSWAP_WR_SQ_FULL)
		WRITE_ONCE(cmd->sq_full, true);
	WRITE_ONCE(cmd->failed, true);
}

/*
 * Map @m's pages, entries m->start.. of cmd->sgl, with one ib_dma_map_sg,
 * and note each page's DMA address in cmd->sgl_dma. The device may merge
 * neighbouring pages into one DMA segment (an IOMMU does; the count it
 * returns is then smaller): the segments cover the pages in their order,
 * whole pages each, so a page's address is its segment's plus its place
 * in it. On rxe the address is the kernel virtual one. 0, or -EIO.
 */
static int map_pages(struct rswap_cmd *cmd, struct rswap_dma_map *m, enum dma_data_direction dir)
{
	struct scatterlist *sgl = &cmd->sgl[m->start], *s;
	unsigned long pages = m->pages;
	unsigned int i, e = 0;
	int nents, j;
	u32 off;

	sg_init_table(sgl, m->n);
	for_each_set_bit(i, &pages, RSWAP_MAX_SEGS)
		sg_set_page(&sgl[e++], cmd->seg[i].page, RSWAP_PAGE_SIZE, 0);
	nents = ib_dma_map_sg(m->ibdev, sgl, m->n, dir);
	if (!nents) {
		pr_err_ratelimited("%s: DMA mapping of %u pages for %s failed\n", cmd->dev->name,
				   m->n, dev_name(&m->ibdev->dev));
		return -EIO;
	}
	e = 0;
	for_each_sg(sgl, s, nents, j) {
		for (off = 0; off < sg_dma_len(s) && e < m->n; off += RSWAP_PAGE_SIZE)
			cmd->sgl_dma[m->start + e++] = sg_dma_address(s) + off;
		if (off != sg_dma_len(s))
			break;
	}
	if (e != m->n || j != nents) {
		pr_err_ratelimited("%s: %u pages mapped for %s as %d DMA segments that are not whole pages\n",
				   cmd->dev->name, m->n, dev_name(&m->ibdev->dev), nents);
		ib_dma_unmap_sg(m->ibdev, sgl, m->n, dir);
		return -EIO;
	}
	m->mapped = true;
	return 0;
}

/*
 * DMA-map the pages of the request's WRs: one ib_dma_map_sg per RDMA
 * device they go through (servers behind different devices need a
 * mapping each; copies on servers behind one device share it), of the
 * pages that have a WR through it, and one ib_dma_unmap_sg each when the
 * request ends (unmap_segs). Only those pages: a read's header, zero and
 * same-filled pages were filled by the CPU (rswap_read_fill), and mapped
 * DMA_FROM_DEVICE a bounce buffer (swiotlb) or a non-coherent cache could
 * put stale bytes over them at unmap. WR @k's mapping goes to
 * cmd->wr_map[k]; a WR that cannot go (its server not usable) fails the
 * request here, one whose mapping failed in wr_sges. Under rcu_read_lock
 * (the servers' PDs: post_wrs).
 */
static void map_wrs(struct rswap_cmd *cmd, enum dma_data_direction dir)
{
	unsigned int k, d, used = 0;

	cmd->nr_maps = 0;
	for (k = 0; k < cmd->nr_wrs; k++) {
		struct rswap_server *srv = cmd->wr_srv[k];
		unsigned int first = cmd->wr_seg[k];
		struct ib_device *ibdev;

		cmd->wr_map[k] = RSWAP_WR_NO_MAP;
		if (!rswap_server_usable(srv)) {
			wr_failed(cmd, RSWAP_WR_SERVER_DOWN);
			continue;
		}
		ibdev = srv->pd->device;
		for (d = 0; d < cmd->nr_maps && cmd->map[d].ibdev != ibdev; d++)
			;
		if (d == cmd->nr_maps) {
			/* Never: a request's WRs go to RSWAP_MAX_SERVERS servers at most. */
			if (WARN_ON_ONCE(d == ARRAY_SIZE(cmd->map))) {
				wr_failed(cmd, RSWAP_WR_ERROR);
				continue;
			}
			cmd->map[d].ibdev = ibdev;
			cmd->map[d].pages = 0;
			cmd->map[d].mapped = false;
			cmd->nr_maps++;
		}
		cmd->map[d].pages |= GENMASK(first + cmd->wr[k].wr.num_sge - 1, first);
		cmd->wr_map[k] = d;
	}
	for (d = 0; d < cmd->nr_maps; d++) {
		struct rswap_dma_map *m = &cmd->map[d];

		m->start = used;
		m->n = hweight32(m->pages);
		used += m->n;
		/* Never: a page goes to RSWAP_MAX_REPLICAS servers at most. */
		if (WARN_ON_ONCE(used > ARRAY_SIZE(cmd->sgl)))
			continue;
		map_pages(cmd, m, dir);
	}
}

/* WR @k's gather list, page by page at its DMA address: false if it cannot go. */
static bool wr_sges(struct rswap_cmd *cmd, unsigned int k)
{
	struct ib_sge *sge = cmd->sge[cmd->wr_copy[k]];
	unsigned int first = cmd->wr_seg[k], i;
	const struct rswap_dma_map *m;
	u32 lkey;

	if (cmd->wr_map[k] == RSWAP_WR_NO_MAP)
		return false;	/* failed the request already */
	m = &cmd->map[cmd->wr_map[k]];
	if (!m->mapped) {
		wr_failed(cmd, RSWAP_WR_ERROR);
		return false;
	}
	lkey = cmd->wr_srv[k]->pd->local_dma_lkey;
	for (i = first; i < first + cmd->wr[k].wr.num_sge; i++) {
		/* its entry: after those of the mapping's lower pages */
		sge[i].addr = cmd->sgl_dma[m->start + hweight32(m->pages & (BIT(i) - 1))];
		sge[i].length = RSWAP_PAGE_SIZE;
		sge[i].lkey = lkey;
	}
	return true;
}

/*
 * ib_post_send of the WRs from @first on, to @q; with debugfs
 * partial_posts, two or more WRs go only in part: the first, the rest
 * refused as a provider's -EINVAL would. The first WR's next is not set
 * back: once posted, it may be a whole chain that has completed, its
 * request ended and its WRs made anew for another post.
 */
static int wrs_post_send(struct rswap_qp *q, struct ib_send_wr *first,
			 const struct ib_send_wr **bad)
{
	struct ib_send_wr *rest = first->next;
	int ret;

	if (likely(!atomic_read(&rswap_fault_partial_posts)) || !rest ||
	    atomic_dec_if_positive(&rswap_fault_partial_posts) < 0)
		return ib_post_send(q->cm_id->qp, first, bad);
	first->next = NULL;
	ret = ib_post_send(q->cm_id->qp, first, bad);
	if (ret)
		return ret;
	*bad = rest;
	return -EINVAL;
}

/*
 * Nothing of chain @ch went out: its request failed for @why, and the
 * chain's reference on the request dropped, which may end it (the
 * request's own reference may be gone: the chain waited in a batch). @ch
 * may be gone when this returns. Its credits go back only if
 * @credits_back: not to a connection that failed, whose QP is going, or
 * may be a new one already (connect sets a QP's credits whole).
 */
static void chain_unposted(struct rswap_chain *ch, enum rswap_wr_fail why, bool credits_back)
{
	struct rswap_cmd *cmd = ch->cmd;

	if (credits_back)
		atomic_add(ch->wrs, &ch->q->sq_credits);
	wr_failed(cmd, why);
	if (atomic_dec_and_test(&cmd->pending))
		cmd_finish(cmd);
}

/*
 * The WRs from @bad on were not posted (ib_post_send returned @ret): they
 * run from the middle (or the start) of one chain to the ends of the
 * chains after it. Only they are looked at: a chain wholly posted may
 * have completed, and its request ended, already. A chain's last WR is
 * its signaled one, whose cqe names it.
 *  - A chain none of whose WRs went: chain_unposted. -ENOMEM (the send
 *    queue full after all) waits for room and the server stays up; any
 *    other error fails the server.
 *  - A chain posted in part: its posted WRs have no signaled one, so
 *    nothing may ever complete for them, and the request must not end
 *    (its pages unmapped and given back) while the device may still read
 *    or write them. It fails the server, whatever the error (with credits
 *    a provider never runs out of room in the middle of a chain), and
 *    waits on the QP's orphans list until error recovery has drained the
 *    QP (rswap_cmds_drained). Every QP is drained before it is destroyed,
 *    and error recovery waits for posters (synchronize_rcu) first, so the
 *    list is looked at after we added to it. That prefix's credits are not
 *    given back: the QP is going, and the next one starts with all its
 *    credits.
 */
static void wrs_unposted(struct rswap_qp *q, const struct ib_send_wr *bad, int ret)
{
	const struct ib_send_wr *wr = bad;
	bool fail_server = ret != -ENOMEM;

	while (wr) {
		const struct ib_send_wr *next;
		struct rswap_chain *ch;
		unsigned int unposted = 1;

		while (!(wr->send_flags & IB_SEND_SIGNALED)) {
			wr = wr->next;
			unposted++;
		}
		ch = container_of(wr->wr_cqe, struct rswap_chain, cqe);
		next = wr->next;
		if (unposted == ch->wrs) {
			chain_unposted(ch, ret == -ENOMEM ? RSWAP_WR_SQ_FULL : RSWAP_WR_SERVER_DOWN,
				       true);
		} else {
			struct rswap_cmd *cmd = ch->cmd;

			pr_warn_ratelimited("%s: %u of %u WRs posted (error %d): failing the connection\n",
					    ch->srv->name, ch->wrs - unposted, ch->wrs, ret);
			atomic_add(unposted, &q->sq_credits);
			wr_failed(cmd, RSWAP_WR_SERVER_DOWN);
			cmd->orphaned = true;
			llist_add(&cmd->orphan, &q->orphans);
			fail_server = true;
		}
		wr = next;
	}
	if (fail_server)
		rswap_server_fail(q->srv);
}

/*
 * Post @group, chains of one batch to queue pair q (all of them; in the
 * order their requests made them) with one ib_post_send: one doorbell.
 * Under rcu_read_lock. A chain goes only on the connection it took its
 * credits on, while it is READY: one that failed meanwhile was torn down
 * or is being (its recovery waits in synchronize_rcu for posters that saw
 * READY, so for us), and one that is back is another connection (epoch).
 * Such chains, and those of a request already waiting on another QP's
 * drain (one orphans list at a time), do not go.
 */
static void post_group(struct rswap_chain *group)
{
	struct rswap_qp *q = group->q;
	struct rswap_server *srv = group->srv;
	struct ib_send_wr *first = NULL, **link = &first;
	const struct ib_send_wr *bad = NULL;
	struct rswap_chain *ch, *next;
	/*
	 * The first chain's epoch is every chain's: a batch never holds
	 * chains of two connections of one server, since the teardown
	 * between them purges the older one's (rswap_batch_purge).
	 */
	bool usable = rswap_server_usable(srv) && READ_ONCE(srv->epoch) == group->epoch;
	unsigned int wrs = 0;
	int ret;

	for (ch = group; ch; ch = next) {
		next = ch->next;
		if (unlikely(!usable || ch->cmd->orphaned)) {
			chain_unposted(ch, RSWAP_WR_SERVER_DOWN, usable);
			continue;
		}
		*link = &ch->head->wr;
		link = &ch->tail->wr.next;
		wrs += ch->wrs;
	}
	if (!first)
		return;
	*link = NULL;
	/* From here the chains are the device's: a posted one may end at once. */
	ret = wrs_post_send(q, first, &bad);
	atomic64_inc(&q->doorbells);
	if (likely(!ret)) {
		atomic64_add(wrs, &q->posted);
		return;
	}
	/* bad may be NULL: nothing posted, as some providers say it. */
	bad = bad ?: first;
	{
		const struct ib_send_wr *wr;
		unsigned int unposted = 0;

		for (wr = bad; wr; wr = wr->next)
			unposted++;
		atomic64_add(wrs - unposted, &q->posted);
	}
	wrs_unposted(q, bad, ret);
}

/*
 * Post what hardware queue @queue's requests left in its batch: the block
 * layer's last request of a dispatch (bd->last), or its commit_rqs, or
 * every request when doorbell_batch is off. Each queue pair's chains go
 * together (post_group), in their order.
 */
static void post_batch(struct rswap_dev *dev, unsigned int queue)
{
	struct rswap_batch *b = &dev->batch[queue];
	struct rswap_chain *list;

	/*
	 * Without the lock: chains another CPU is adding are its to post, at
	 * the end of its own dispatch.
	 */
	if (!READ_ONCE(b->head))
		return;
	rcu_read_lock();
	spin_lock(&b->lock);
	list = b->head;
	WRITE_ONCE(b->head, NULL);
	b->tail = NULL;
	spin_unlock(&b->lock);
	while (list) {
		struct rswap_chain *group = list, **pp, **tail, *ch;

		/* The first chain's queue pair's chains, in order, out of the list. */
		list = list->next;
		group->next = NULL;
		tail = &group->next;
		for (pp = &list; (ch = *pp);) {
			if (ch->q == group->q) {
				*pp = ch->next;
				ch->next = NULL;
				*tail = ch;
				tail = &ch->next;
			} else {
				pp = &ch->next;
			}
		}
		post_group(group);
	}
	rcu_read_unlock();
}

/*
 * Server @srv's connection is being torn down (after synchronize_rcu: no
 * request sees it READY any more, and no post of a batch that took chains
 * before is still going): its chains still in a batch never go. Under
 * ctrl_mutex; the requests wait for the server as for any loss.
 */
void rswap_batch_purge(struct rswap_server *srv)
{
	struct rswap_dev *dev = srv->dev;
	unsigned int q;

	lockdep_assert_held(&srv->ctrl_mutex);
	for (q = 0; q < nr_cpu_ids; q++) {
		struct rswap_batch *b = &dev->batch[q];
		struct rswap_chain *gone = NULL, *kept, *last, *ch, *next;

		if (!READ_ONCE(b->head))
			continue;
		spin_lock(&b->lock);
		kept = NULL;
		last = NULL;
		for (ch = b->head; ch; ch = next) {
			next = ch->next;
			ch->next = NULL;
			if (ch->srv == srv) {
				ch->next = gone;
				gone = ch;
				continue;
			}
			if (last)
				last->next = ch;
			else
				kept = ch;
			last = ch;
		}
		b->tail = last;
		WRITE_ONCE(b->head, kept);	/* read without the lock (post_batch) */
		spin_unlock(&b->lock);
		for (ch = gone; ch; ch = next) {
			next = ch->next;
			chain_unposted(ch, RSWAP_WR_SERVER_DOWN, false);
		}
	}
}

/*
 * Map the pages of the request built by the read or write path and queue
 * its WRs: the WRs of one server chained, only the chain's last WR
 * signaled, each chain with its send credits taken (one per WR,
 * rswap_sq.h), into the hardware queue's batch, which post_batch posts at
 * the end of the block layer's dispatch. The servers were READY when the
 * request planned (under dev->lock, or in a read section the sequence then
 * confirmed), in this same RCU read section (blk-mq's, and ours).
 *
 * Too few credits: the request waits for room (requeued, no try counted),
 * the server stays up.
 *
 * How the request knows it is done, with unsignaled WRs:
 *  - cmd->pending counts the chains queued (their signaled last WRs),
 *    the chains orphaned by a partial post (wrs_unposted), and one
 *    reference of our own while we build. The request ends (cmd_finish)
 *    when it drops to 0.
 *  - An unsignaled WR completes only if it fails: an error completion is
 *    always generated; whether a flushed one is reported is the
 *    provider's choice (rxe reports it; so does mlx5's own flush when the
 *    device is in internal error). Its completion (rdma_done_unsignaled)
 *    marks the request failed, the server too, and counts nothing.
 *  - The completions of one RC send queue are delivered in the order the
 *    WRs were posted, to the one CQ of the QP, whose handlers run one at
 *    a time in that order. An unsignaled WR precedes its chain's signaled
 *    last WR on the same send queue, so its completion, if there is one,
 *    is handled before the last WR's, whose error or flush always comes
 *    (a WR after a failed one is flushed; every QP is drained before it
 *    goes). So when the request ends no completion for it can still
 *    arrive, and a failure is never missed: the last WR of a chain
 *    succeeds only if every WR before it on that send queue did. Chains
 *    of several requests posted together keep this: each is whole and in
 *    order in the one list.
 *  - A chain's WRs hold a send credit each, all given back when its
 *    signaled last WR completes: the device frees an unsignaled WR's send
 *    queue slot no earlier than that. A chain takes at most
 *    RSWAP_SQ_REQ_MAX_WRS WRs (one server's share of a request), so a
 *    queue pair's credits always suffice for one.
 *  - With replicas, a request makes a chain to every server it writes
 *    to, each signaled at its end and counted on its own.
 */
static void post_wrs(struct rswap_cmd *cmd, enum dma_data_direction dir)
{
	struct rswap_batch *b = &cmd->dev->batch[cmd->queue];
	struct rswap_chain *first = NULL, *last = NULL;
	unsigned int k, c;

	atomic_set(&cmd->pending, 1);
	cmd->failed = false;
	cmd->server_down = false;
	cmd->sq_full = false;
	cmd->orphaned = false;
	cmd->nr_chains = 0;
	rcu_read_lock();
	map_wrs(cmd, dir);
	for (k = 0; k < cmd->nr_wrs; k++) {
		struct ib_rdma_wr *wr = &cmd->wr[k];
		struct rswap_chain *ch;

		if (!wr_sges(cmd, k))
			continue;
		wr->wr.next = NULL;
		wr->wr.send_flags = 0;
		wr->wr.wr_cqe = &cmd->unsignaled_cqe;
		for (c = 0; c < cmd->nr_chains; c++)
			if (cmd->chain[c].srv == cmd->wr_srv[k] &&
			    cmd->chain[c].wrs < RSWAP_SQ_REQ_MAX_WRS)
				break;
		ch = &cmd->chain[c];
		if (c == cmd->nr_chains) {
			/* Never: see RSWAP_CMD_MAX_CHAINS. */
			if (WARN_ON_ONCE(c == ARRAY_SIZE(cmd->chain))) {
				wr_failed(cmd, RSWAP_WR_ERROR);
				continue;
			}
			cmd->nr_chains++;
			ch->srv = cmd->wr_srv[k];
			ch->head = wr;
			ch->wrs = 0;
		} else {
			ch->tail->wr.next = &wr->wr;
		}
		ch->tail = wr;
		ch->wrs++;
	}
	for (c = 0; c < cmd->nr_chains; c++) {
		struct rswap_chain *ch = &cmd->chain[c];

		ch->q = rswap_server_qp(ch->srv, cmd->queue);
		if (atomic_sub_return(ch->wrs, &ch->q->sq_credits) < 0) {
			atomic_add(ch->wrs, &ch->q->sq_credits);
			wr_failed(cmd, RSWAP_WR_SQ_FULL);
			continue;
		}
		ch->epoch = READ_ONCE(ch->srv->epoch);
		ch->tail->wr.send_flags = IB_SEND_SIGNALED;
		ch->tail->wr.wr_cqe = &ch->cqe;
		ch->next = NULL;
		atomic_inc(&cmd->pending);
		if (last)
			last->next = ch;
		else
			first = ch;
		last = ch;
	}
	if (first) {
		spin_lock(&b->lock);
		if (b->tail)
			b->tail->next = first;
		else
			WRITE_ONCE(b->head, first);
		b->tail = last;
		spin_unlock(&b->lock);
	}
	rcu_read_unlock();
	/*
	 * Before our reference goes: the completion cannot have run yet.
	 * Queued for its doorbell, which comes before this request's
	 * queue_rq returns unless the block layer has more for the queue.
	 */
	if (dir == DMA_FROM_DEVICE)
		cmd->posted = rswap_clock();
	if (atomic_dec_and_test(&cmd->pending))
		cmd_finish(cmd);
}

/* WR @k: pages @first.. @first + @n - 1 to or from @slab (a copy, @copy) at @page. */
static void init_wr(struct rswap_cmd *cmd, int k, int first, int n, enum ib_wr_opcode op,
		    const struct rswap_slab *slab, struct rswap_server *srv, u32 page, u32 copy)
{
	struct ib_rdma_wr *wr = &cmd->wr[k];

	/* Its completion and whether it is signaled: when it is posted (post_wrs). */
	memset(wr, 0, sizeof(*wr));
	wr->wr.opcode = op;
	wr->wr.sg_list = &cmd->sge[copy][first];
	wr->wr.num_sge = n;
	wr->remote_addr = slab->addr + (u64)page * RSWAP_PAGE_SIZE;
	wr->rkey = slab->rkey;
	cmd->wr_seg[k] = first;
	cmd->wr_srv[k] = srv;
	cmd->wr_copy[k] = copy;
}

/* The request's pages into cmd->seg; false if one is not a whole page. */
static bool collect_pages(struct request *rq, struct rswap_cmd *cmd)
{
	struct req_iterator iter;
	struct bio_vec bv;
	int n = 0;

	rq_for_each_segment(bv, rq, iter) {
		if (n == RSWAP_MAX_SEGS || bv.bv_offset || bv.bv_len != RSWAP_PAGE_SIZE)
			return false;
		cmd->seg[n].page = bv.bv_page;
		cmd->seg[n].fill = false;
		cmd->seg[n].header = false;
		cmd->seg[n].lost = false;
		cmd->seg[n].check = false;
		n++;
	}
	cmd->nr_segs = n;
	cmd->nr_lost = 0;	/* a write's end_ok must not see an earlier read's */
	return true;
}

/* A read's pages that come from no server: the header, zero and same-filled ones. */
void rswap_read_fill(struct rswap_dev *dev, struct rswap_cmd *cmd)
{
	unsigned int i;

	for (i = 0; i < cmd->nr_segs; i++) {
		if (cmd->seg[i].header) {
			/* Whole: a write of page 0 copies into it meanwhile. */
			spin_lock(&dev->header_lock);
			memcpy_to_page(cmd->seg[i].page, 0, dev->header, RSWAP_PAGE_SIZE);
			spin_unlock(&dev->header_lock);
		} else if (cmd->seg[i].fill) {
			void *p = kmap_local_page(cmd->seg[i].page);

			memset64(p, cmd->seg[i].word, RSWAP_PAGE_SIZE / sizeof(u64));
			kunmap_local(p);
		}
	}
}

/*
 * A read's plan: which pages are filled here, which are lost, and the
 * READs of the rest, from the map and the slab table. Caller holds
 * dev->lock, or is in a read section of it (do_read): then a writer may
 * change what we read, and what is planned is thrown away when the
 * sequence says so; nothing here is seen outside @cmd until then.
 * Returns 0; -EAGAIN: a copy the read needs cannot serve now (or, read
 * ahead, is lost): wait; -ESTALE: the table was caught mid-change (only
 * without the lock): plan again under it.
 */
static int read_plan(struct rswap_dev *dev, struct rswap_cmd *cmd, u64 off)
{
	u32 run_slab = 0, run_next = 0;
	int i, run_end = -2;		/* run_end: last page of the last READ */
	int run_copy = -1;		/* the copy of that READ's set it reads */
	/* Acquire: the table, once ready, is there to read (rswap_slabs_setup). */
	bool ready = smp_load_acquire(&dev->slots_ready);

	/* An 8-byte entry read without the lock must not tear. */
	BUILD_BUG_ON(!IS_ENABLED(CONFIG_64BIT));
	cmd->nr_wrs = 0;
	cmd->nr_lost = 0;
	cmd->nr_remote = 0;
	cmd->nr_second = 0;
	for (i = 0; i < cmd->nr_segs; i++) {
		struct rswap_entry e = rswap_map_get(&dev->map, off + i);
		const struct rswap_slab *slab;
		struct rswap_server *srv;
		u32 set, page;
		int copy;

		cmd->seg[i].header = off + i == 0;
		cmd->seg[i].fill = rswap_entry_type(&e) != RSWAP_REMOTE;
		cmd->seg[i].word = rswap_entry_word(&e);
		cmd->seg[i].check = false;
		cmd->seg[i].lost = false;
		if (cmd->seg[i].fill || cmd->seg[i].header)
			continue;
		if (!ready)
			return -ESTALE;
		set = rswap_entry_where(&dev->map, &e, &page);
		if (set >= dev->slots.max_slabs)
			return -ESTALE;
		/*
		 * One copy of the set: the previous page's if it was of the
		 * same set, else the least busy that can serve; else wait or
		 * fail.
		 */
		copy = rswap_slab_read_copy(dev, set, cmd->queue,
					    run_end >= 0 && set == run_slab ?
					    run_copy : -1, cmd->seg[i].bad_servers, &slab, &srv);
		if (copy == -ESTALE)
			return -ESTALE;
		if (copy == -ENODATA && cmd->prefetch)
			return -EAGAIN;	/* not read ahead: no error counted */
		if (copy == -ENODATA) {
			cmd->seg[i].lost = true;
			cmd->nr_lost++;
			continue;
		}
		if (copy < 0)
			return -EAGAIN;
		cmd->nr_remote++;
		cmd->nr_second += copy > 0;
		cmd->seg[i].check = true;
		BUILD_BUG_ON(sizeof(cmd->seg[i].bad_servers) * BITS_PER_BYTE < RSWAP_MAX_SERVERS);
		cmd->seg[i].srv = srv->idx;
		cmd->seg[i].csum = rswap_entry_csum(&e);
		cmd->seg[i].entry = e;
		/*
		 * The next slot of the slab the previous page came from (pages
		 * written together went to consecutive slots), from the same
		 * copy: one READ more.
		 */
		if (run_end == i - 1 && set == run_slab &&
		    page == run_next && cmd->wr_srv[cmd->nr_wrs - 1] == srv &&
		    cmd->wr[cmd->nr_wrs - 1].wr.num_sge < dev->max_sge_rd) {
			cmd->wr[cmd->nr_wrs - 1].wr.num_sge++;
		} else {
			init_wr(cmd, cmd->nr_wrs++, i, 1, IB_WR_RDMA_READ, slab, srv, page, 0);
			run_slab = set;
		}
		run_copy = copy;
		run_end = i;
		run_next = page + 1;
	}
	/* Only a checked page asks (rswap_read_met_write); a read ahead never. */
	if (cmd->nr_remote && !cmd->prefetch)
		rswap_read_note_writes(dev, cmd, off);
	return 0;
}

/*
 * A read takes no lock that every CPU's reads share: it plans in a read
 * section of dev->lock (read_plan), counts itself in the I/O generation,
 * and checks that no writer changed the map or the table meanwhile. If
 * one did, it plans again, holding the lock (read_seqbegin_or_lock), so a
 * read is never starved by writes. debugfs reads_relocked counts those.
 */
static blk_status_t do_read(struct rswap_dev *dev, struct request *rq, struct rswap_cmd *cmd,
			    u64 off)
{
	/*
	 * A read that claimed its pages plans under the lock, as a write
	 * does after its claim: a discard or a read-repair looks at the
	 * claims under it, and must see this one before it frees a slot
	 * the read is about to READ (rswap_repair_current, do_discard).
	 */
	int seq = cmd->claimed ? 1 : 0, ret, i;
	bool wait;

	/*
	 * A server the plan names stays in memory (rswap_server_free), and
	 * READY keeps its queue pairs (error recovery's synchronize_rcu),
	 * until we have posted. blk-mq dispatches under RCU anyway; said here.
	 */
	rcu_read_lock();
again:
	read_seqbegin_or_lock(&dev->lock, &seq);
	ret = read_plan(dev, cmd, off);
	/* debugfs read_tears: the plan caught the table mid-change */
	if (unlikely(atomic_read(&rswap_fault_read_tears) > 0) && !(seq & 1) &&
	    atomic_dec_if_positive(&rswap_fault_read_tears) >= 0)
		ret = -ESTALE;
	if (!ret)
		io_begin(dev, cmd);
	/* debugfs read_races: a writer comes in now */
	if (unlikely(atomic_read(&rswap_fault_read_races) > 0) && !(seq & 1) &&
	    atomic_dec_if_positive(&rswap_fault_read_races) >= 0) {
		write_seqlock(&dev->lock);
		write_sequnlock(&dev->lock);
	}
	if (need_seqretry(&dev->lock, seq) || (ret == -ESTALE && !(seq & 1))) {
		if (!ret)
			io_end(dev, cmd);
		rswap_stat_inc(dev, reads_relocked);
		seq = 1;	/* under the lock this time */
		goto again;
	}
	done_seqretry(&dev->lock, seq);
	/* Under the lock the table is whole: -ESTALE there is a bug. */
	wait = ret == -EAGAIN || WARN_ON_ONCE(ret == -ESTALE);
	if (wait) {		/* nothing of a plan left half made goes to the trace */
		cmd->nr_remote = 0;
		cmd->nr_lost = 0;
	}
	for (i = 0; i < cmd->nr_segs && !wait; i++) {
		/*
		 * Every copy of the page has come back wrong at least once: its
		 * history starts over, so the next try goes to another copy
		 * than this one. A copy wrong once may have raced a slot freed
		 * and reused; alternating, no copy is given up for good.
		 */
		if (cmd->seg[i].check && cmd->seg[i].bad_servers & (1u << cmd->seg[i].srv))
			cmd->seg[i].bad_servers = 0;
	}

	blk_mq_start_request(rq);
	if (wait && cmd->prefetch) {
		rcu_read_unlock();
		rswap_end_rq(cmd, rq, BLK_STS_IOERR);
		return BLK_STS_OK;
	}
	if (wait) {
		rcu_read_unlock();
		rswap_stat_inc(dev, requeues);
		park(rq, RSWAP_PARK_DELAY_MS);
		return BLK_STS_OK;
	}
	if (cmd->nr_lost) {
		rswap_stat_add(dev, read_errors, cmd->nr_lost);
		pr_err_ratelimited("%s: read of %u pages from page %llu: their server lost them\n",
				   dev->name, cmd->nr_lost, off);
	}
	cmd->start = rswap_clock();
	if (!cmd->prefetch)
		rswap_stat_add(dev, loads, cmd->nr_segs);
	if (cmd->nr_second)
		rswap_stat_add(dev, reads_second_copy, cmd->nr_second);
	rswap_read_fill(dev, cmd);
	post_wrs(cmd, DMA_FROM_DEVICE);
	rcu_read_unlock();
	return BLK_STS_OK;
}

/*
 * Writes of one page never overlap (dev->writing, a bit per page): a write
 * or a discard meeting an earlier write of one of its pages still in
 * flight waits for it to end (parked; write_overlaps). Otherwise the later
 * one frees the earlier one's slot while its WRITE is still on the wire, a
 * third write takes that slot for another page, and the late WRITE lands
 * over it: a page nobody wrote twice reads back with a wrong checksum
 * (EIO). Swap never has two writes of a slot in flight (the page is locked
 * under writeback); a raw user of the device (fio, a file system) may.
 * Claimed before the write's lock section, on its first dispatch, and held
 * until the request ends (req_ends): while it waits for a slot or for its
 * server to come back, its pages' entries may name slots not written yet,
 * and a read of them waits for it (rswap_read_met_write). A read that met
 * writes RSWAP_READS_MET_CLAIM times claims its pages the same way, so
 * that the writes wait for it instead. A read-repair's write changes no
 * entry and claims nothing, and its entry moves only while no claim of the
 * page is held (rswap_repair_current). A release kicks the requeue list
 * while any request is parked for an overlap. False, nothing claimed: a
 * claim of one of the pages is held.
 */
bool rswap_writes_claim(struct rswap_dev *dev, struct rswap_cmd *cmd, u64 off)
{
	if (!bits_try_lock(dev->writing, off, off + cmd->nr_segs))
		return false;
	/*
	 * The bits before what the write then stores (backend=ram's copy,
	 * the header): a reader that sees those sees the bits. And before
	 * a write looks for reads that want its pages (write_yields).
	 */
	smp_mb__after_atomic();
	cmd->claimed = true;
	return true;
}

void rswap_writes_release(struct rswap_dev *dev, struct rswap_cmd *cmd, u64 off)
{
	if (!cmd->claimed)
		return;
	cmd->claimed = false;
	bits_change(dev->writing, off, off + cmd->nr_segs, BITS_UNLOCK);
	smp_mb__after_atomic();	/* pairs with park_overlap's */
	if (atomic_read(&dev->overlaps_parked))
		blk_mq_kick_requeue_list(dev->disk->queue);
}

/*
 * A read that met RSWAP_READS_MET_CLAIM writes of its pages claims them,
 * so that no write of them goes until it ends and it meets none again.
 * Its pages are marked wanted first: a write that then claims one of them
 * lets go and waits (write_yields), so at the release of the write that
 * holds a page now, the read gets it, not the next write. False: a claim
 * is held, the read is to be parked (park_overlap: kicked at a release).
 */
static bool read_claim(struct rswap_dev *dev, struct rswap_cmd *cmd, u64 off)
{
	if (!cmd->wanting) {
		cmd->wanting = true;
		bits_change(dev->read_wants, off, off + cmd->nr_segs, BITS_SET);
		atomic_inc(&dev->reads_wanting);
		/* Marked before the claim is tried: pairs with write_yields'. */
		smp_mb__after_atomic();
	}
	if (!rswap_writes_claim(dev, cmd, off))
		return false;
	read_wants_drop(dev, cmd, off);
	rswap_stat_inc(dev, read_claims);
	return true;
}

/*
 * Write @cmd has just claimed its pages at @off: if a read waits to claim
 * one of them (read_claim), let go and wait for it. Claimed, then looked
 * (rswap_writes_claim's barrier), against the read's marked, then tried:
 * one of the two sees the other.
 */
static bool write_yields(struct rswap_dev *dev, struct rswap_cmd *cmd, u64 off)
{
	u64 end = off + cmd->nr_segs;

	if (likely(!atomic_read(&dev->reads_wanting)) ||
	    find_next_bit(dev->read_wants, end, off) >= end)
		return false;
	rswap_writes_release(dev, cmd, off);
	return true;
}

/*
 * Park @rq, a write or discard that met a claim of its pages (an earlier
 * write's, or a read's: read_claim), or a read that cannot claim its
 * pages, until a claim is let go (rswap_writes_release kicks the requeue
 * list) or the fallback delay passes. (A read that met a write and has not
 * met enough to claim: park_for_writes.)
 */
static void park_overlap(struct rswap_dev *dev, struct rswap_cmd *cmd, struct request *rq)
{
	cmd->overlap_parked = true;
	atomic_inc(&dev->overlaps_parked);
	smp_mb__after_atomic();	/* counted before the requeue: a release after sees it */
	park(rq, RSWAP_OVERLAP_DELAY_MS);
}

/*
 * A claim of one of pages @off.. @off + @n - 1 is held: a write of it is
 * in flight, or a read claimed it (read_claim). Settled only under
 * dev->lock (a write claims before its lock section, a claimed read before
 * its plan under the lock); without it, a snapshot.
 */
static bool writes_in_flight(struct rswap_dev *dev, u64 off, u64 n)
{
	return find_next_bit(dev->writing, off + n, off) < off + n;
}

/*
 * Park read @rq until the writes of its pages (@off.. @off + @n - 1) in
 * flight end (the last release kicks; RSWAP_OVERLAP_DELAY_MS the
 * fallback). False, and nothing done, if none is. Counted before the bits
 * are looked at, so a release after the look kicks (pairs with
 * rswap_writes_release's barrier).
 */
static bool park_for_writes(struct rswap_dev *dev, struct rswap_cmd *cmd, struct request *rq,
			    u64 off, u64 n)
{
	atomic_inc(&dev->overlaps_parked);
	smp_mb__after_atomic();	/* counted before the bits are read */
	if (!writes_in_flight(dev, off, n)) {
		atomic_dec(&dev->overlaps_parked);
		return false;
	}
	cmd->overlap_parked = true;
	park(rq, RSWAP_OVERLAP_DELAY_MS);
	return true;
}

/*
 * A read of @cmd's pages at @off has read their entries: note whether a
 * write of one of them is in flight, whose WRITE may land after the
 * read's READ (rswap_read_met_write). One load of the bitmap a request,
 * after the entries: a write sets its bit before it changes an entry.
 */
void rswap_read_note_writes(struct rswap_dev *dev, struct rswap_cmd *cmd, u64 off)
{
	u64 end = off + cmd->nr_segs, b;

	BUILD_BUG_ON(BITS_PER_TYPE(cmd->writes_at_plan) < RSWAP_MAX_SEGS);
	smp_rmb();	/* the entries before the bits; pairs with the claim's order */
	cmd->writes_at_plan = 0;
	for (b = find_next_bit(dev->writing, end, off); b < end;
	     b = find_next_bit(dev->writing, end, b + 1))
		cmd->writes_at_plan |= 1u << (b - off);
}

/*
 * Page @i of read @cmd, at @off + @i, came back with a wrong checksum: did
 * it meet a write of that page? It did if a write was in flight when the
 * read planned (its WRITE may have landed after the READ read), changed
 * the page's entry since (the old slot may be another page's already), or
 * is in flight now. The page is then not at fault: it is read again, no
 * try counted (rswap_read_met_park). Swap never gets here (it reads no
 * page it is writing); a raw user reading beside its own writes may.
 * Unlocked, as a completion is: an entry is read whole; a write sets its
 * bit before it changes the entry, and clears it after its last WRITE.
 * Not for a read ahead (its mismatch is dropped anyway), a dying device,
 * or a read that has claimed its pages (read_may_meet).
 */
bool rswap_read_met_write(struct rswap_cmd *cmd, unsigned int i, u64 off)
{
	struct rswap_dev *dev = cmd->dev;
	struct rswap_entry now;

	if (!read_may_meet(cmd))
		return false;
	smp_rmb();	/* what was read (and checked) before the bits */
	if (cmd->writes_at_plan & (1u << i) || test_bit(off + i, dev->writing))
		return true;
	now = rswap_map_get(&dev->map, off + i);
	return now.bits != cmd->seg[i].entry.bits;
}

/*
 * Read @rq at @off, @met of whose pages met a write (rswap_read_met_write),
 * goes again: once the writes of its pages have ended if they have not
 * (parked, kicked at a release; queue_one parks it again while one is in
 * flight, so its tries go to new writes only), else at once. From its
 * RSWAP_READS_MET_CLAIM'th on, it goes holding its pages' claim (queue_one).
 */
void rswap_read_met_park(struct rswap_cmd *cmd, struct request *rq, u64 off, unsigned int met)
{
	struct rswap_dev *dev = cmd->dev;

	cmd->reads_met++;
	rswap_stat_add(dev, read_overlaps, met);
	if (!park_for_writes(dev, cmd, rq, off, cmd->nr_segs))
		park(rq, 0);
}

/*
 * A write's pages at @off, outside the lock: same-filled ones (they need no
 * slot) marked with their word, the others' checksums made, and the swap
 * header (page 0) kept here, its map entry left EMPTY.
 */
void rswap_write_prepare(struct rswap_dev *dev, struct rswap_cmd *cmd, u64 off)
{
	unsigned int i;

	for (i = 0; i < cmd->nr_segs; i++) {
		void *p = kmap_local_page(cmd->seg[i].page);

		cmd->seg[i].header = off + i == 0;
		if (cmd->seg[i].header) {
			spin_lock(&dev->header_lock);
			memcpy(dev->header, p, RSWAP_PAGE_SIZE);
			spin_unlock(&dev->header_lock);
			cmd->seg[i].fill = true;
		} else {
			cmd->seg[i].fill = rswap_page_same_filled(p, &cmd->seg[i].word);
			if (!cmd->seg[i].fill)
				cmd->seg[i].csum = rswap_page_csum(dev, p);
		}
		kunmap_local(p);
	}
}

/*
 * No free slot: wait for the refill, or fail when no server can give one
 * (not counted as a wait: no reserve would help, rswap_reserve.h), or the
 * device is going away (no refill runs then: the write would be put back
 * for ever, and del_gendisk wait for it; only a closed device is removed,
 * so this is a guard, not a path a user takes).
 */
static blk_status_t no_slot(struct rswap_dev *dev)
{
	if (READ_ONCE(dev->no_room) || READ_ONCE(dev->dying)) {
		rswap_stat_inc(dev, write_errors);
		return BLK_STS_IOERR;
	}
	rswap_stat_inc(dev, no_slot);
	queue_work(dev->refill_wq, &dev->refill_work);
	return BLK_STS_RESOURCE;
}

/*
 * Up to @want consecutive free slots of one set for pages @i.. of @cmd,
 * and a WRITE of them to every copy of the set (set_refresh: all LIVE).
 * Returns how many, with the set and first slot; 0: no free slot. The map
 * is the caller's. Caller holds dev->lock.
 */
static u32 write_run(struct rswap_dev *dev, struct rswap_cmd *cmd, int i, u32 want,
		     u32 *slab, u32 *first)
{
	u32 n, k, c, copies;

	lockdep_assert_held(&dev->lock.lock);
	n = rswap_slots_alloc(&dev->slots, want, slab, first);
	if (!n)
		return 0;
	copies = rswap_replica_write_begin(&dev->replicas, *slab, *first, n);
	if (WARN_ON_ONCE(!copies)) {	/* set_refresh allows no such set */
		for (k = 0; k < n; k++)
			rswap_slots_free(&dev->slots, *slab, *first + k);
		return 0;
	}
	for (c = 0; c < dev->n_replicas; c++) {
		const struct rswap_slab *to;

		if (!(copies & (1u << c)))
			continue;
		to = &dev->slabs[dev->replicas.sets[*slab].copy[c].entry];
		init_wr(cmd, cmd->nr_wrs++, i, n, IB_WR_RDMA_WRITE, to, to->srv, *first, c);
	}
	cmd->nr_remote += n;
	return n;
}

static blk_status_t do_write(struct rswap_dev *dev, struct request *rq, struct rswap_cmd *cmd,
			     u64 off)
{
	struct rswap_entry old;
	int i, zero = 0, same = 0;

	rswap_write_prepare(dev, cmd, off);
	cmd->nr_wrs = 0;
	cmd->nr_remote = 0;
	write_seqlock(&dev->lock);
	if (!dev->slots_ready) {
		write_sequnlock(&dev->lock);
		return no_slot(dev);
	}
	for (i = 0; i < cmd->nr_segs; ) {
		u32 slab, first, n, k, want;

		if (cmd->seg[i].header) {
			i++;
			continue;
		}
		if (cmd->seg[i].fill) {
			u64 w = cmd->seg[i].word;

			rswap_map_set(&dev->map, off + i, w ? RSWAP_SAME : RSWAP_ZERO, w, &old);
			rswap_slot_release(dev, &old);
			w ? same++ : zero++;
			i++;
			continue;
		}
		/* A run of pages that need slots: consecutive slots, one WRITE. */
		for (want = 1; i + want < cmd->nr_segs && !cmd->seg[i + want].fill; want++)
			;
		n = write_run(dev, cmd, i, min(want, dev->max_sge), &slab, &first);
		if (!n) {
			rswap_reserve_check(dev);
			write_sequnlock(&dev->lock);
			/*
			 * Pages mapped so far are rewritten when the request is
			 * retried; until then their entries name slots not
			 * written, and the claim is kept (rswap_writes_claim).
			 */
			return no_slot(dev);
		}
		for (k = 0; k < n; k++) {
			rswap_map_set_remote(&dev->map, off + i + k, slab, first + k,
					     cmd->seg[i + k].csum, &old);
			rswap_slot_release(dev, &old);
		}
		i += n;
	}
	rswap_reserve_check(dev);
	io_begin(dev, cmd);
	write_sequnlock(&dev->lock);

	blk_mq_start_request(rq);
	rswap_stat_add(dev, stores, cmd->nr_segs);
	rswap_stat_add(dev, zero_stores, zero);
	rswap_stat_add(dev, same_stores, same);
	rswap_stat_add(dev, remote_stores, cmd->nr_remote);
	post_wrs(cmd, DMA_TO_DEVICE);
	return BLK_STS_OK;
}

/*
 * A read-repair's write (rswap_repair.c): the right bytes of one page into
 * a new slot, on every copy of its set; the map is left alone (the repair
 * work moves the page's entry once the write has landed). Never waits:
 * with no slot free, or the page's entry changed already, it fails, and
 * the repair is dropped.
 */
static blk_status_t do_repair_write(struct rswap_dev *dev, struct request *rq,
				    struct rswap_cmd *cmd, struct rswap_repair_slot *r)
{
	u32 slab, first;

	rswap_write_prepare(dev, cmd, r->off);
	/* Not the bytes the entry was made from: nothing to repair with. */
	if (cmd->nr_segs != 1 || cmd->seg[0].fill ||
	    cmd->seg[0].csum != rswap_entry_csum(&r->entry))
		return BLK_STS_IOERR;
	cmd->nr_wrs = 0;
	cmd->nr_remote = 0;
	write_seqlock(&dev->lock);
	if (!dev->slots_ready || !rswap_repair_current(dev, r) ||
	    !write_run(dev, cmd, 0, 1, &slab, &first)) {
		write_sequnlock(&dev->lock);
		return BLK_STS_IOERR;
	}
	r->new_slab = slab;
	r->new_page = first;
	r->has_new = true;	/* from now on freed or moved to (repair_finish) */
	rswap_reserve_check(dev);
	io_begin(dev, cmd);
	write_sequnlock(&dev->lock);

	blk_mq_start_request(rq);
	post_wrs(cmd, DMA_TO_DEVICE);
	return BLK_STS_OK;
}

/* False: a claim of one of its pages is held (rswap_writes_claim); nothing done. */
static bool do_discard(struct rswap_dev *dev, u64 off, u64 n, bool zero)
{
	struct rswap_entry old;
	u64 i;

	/* Looked at first without the lock: the readers' sequence stays. */
	if (writes_in_flight(dev, off, n))
		goto overlap;
	write_seqlock(&dev->lock);
	if (writes_in_flight(dev, off, n)) {
		write_sequnlock(&dev->lock);
		goto overlap;
	}
	for (i = 0; i < n; i++) {
		rswap_map_set(&dev->map, off + i, zero ? RSWAP_ZERO : RSWAP_EMPTY, 0, &old);
		if (dev->slots_ready)
			rswap_slot_release(dev, &old);
	}
	if (off == 0 && n) {
		spin_lock(&dev->header_lock);
		memset(dev->header, 0, RSWAP_PAGE_SIZE);
		spin_unlock(&dev->header_lock);
	}
	write_sequnlock(&dev->lock);
	rswap_prefetch_invalidate(dev, off, n);
	rswap_stat_add(dev, discards, n);
	return true;
overlap:
	rswap_stat_inc(dev, write_overlaps);
	return false;
}

static blk_status_t queue_one(struct blk_mq_hw_ctx *hctx, const struct blk_mq_queue_data *bd)
{
	struct request *rq = bd->rq;
	struct rswap_cmd *cmd = blk_mq_rq_to_pdu(rq);
	struct rswap_dev *dev = hctx->queue->queuedata;
	u64 off = blk_rq_pos(rq) / RSWAP_SECTORS_PER_PAGE;
	u64 n = DIV_ROUND_UP(blk_rq_bytes(rq), RSWAP_PAGE_SIZE);
	bool first;
	int i;

	cmd->queue = hctx->queue_num;
	if (cmd->overlap_parked) {	/* back from park_overlap */
		cmd->overlap_parked = false;
		atomic_dec(&dev->overlaps_parked);
	}
	/* First time we see this request (not a requeue): no tries yet. */
	first = !(rq->rq_flags & RQF_DONTPREP);
	if (first) {
		cmd->retries = 0;
		cmd->reads_met = 0;
		cmd->tries = 0;
		/* No clock read on the I/O path unless someone traces it. */
		cmd->submitted = trace_rswap_req_complete_enabled() ? ktime_get() : 0;
		cmd->waited_since = 0;
		cmd->claimed = false;
		cmd->wanting = false;
		if (req_op(rq) == REQ_OP_READ)
			for (i = 0; i < RSWAP_MAX_SEGS; i++)
				cmd->seg[i].bad_servers = 0;
		cmd->prefetch = rswap_prefetch_rq(rq);
		cmd->repair = rswap_repair_of(rq);
		rq->rq_flags |= RQF_DONTPREP;
		/* A read ahead or a repair that fails is dropped: no "I/O error" line for it. */
		if (cmd->prefetch || cmd->repair)
			rq->rq_flags |= RQF_QUIET;
		trace_rswap_req_submit(dev->name, req_op(rq), off, n, cmd->prefetch);
	}
	cmd->tries++;
	if (off + n > dev->n_pages) {
		req_ends(cmd, rq, BLK_STS_IOERR);
		return BLK_STS_IOERR;
	}

	switch (req_op(rq)) {
	case REQ_OP_FLUSH:
		/* A WRITE is complete when the remote side acked it. */
		blk_mq_start_request(rq);
		rswap_end_rq(cmd, rq, BLK_STS_OK);
		return BLK_STS_OK;
	case REQ_OP_DISCARD:
	case REQ_OP_WRITE_ZEROES:
		if (!do_discard(dev, off, n, req_op(rq) == REQ_OP_WRITE_ZEROES)) {
			park_overlap(dev, cmd, rq);
			return BLK_STS_OK;
		}
		blk_mq_start_request(rq);
		rswap_end_rq(cmd, rq, BLK_STS_OK);
		return BLK_STS_OK;
	case REQ_OP_READ:
	case REQ_OP_WRITE:
		if (!collect_pages(rq, cmd)) {
			pr_err_ratelimited("%s: request not made of whole pages\n", dev->name);
			req_ends(cmd, rq, BLK_STS_IOERR);
			return BLK_STS_IOERR;
		}
		if (req_op(rq) == REQ_OP_WRITE && !cmd->repair && !cmd->claimed &&
		    (!rswap_writes_claim(dev, cmd, off) || write_yields(dev, cmd, off))) {
			rswap_stat_inc(dev, write_overlaps);
			park_overlap(dev, cmd, rq);
			return BLK_STS_OK;
		}
		/* debugfs hold_writes: a write kept back, its claim held */
		if (req_op(rq) == REQ_OP_WRITE && unlikely(READ_ONCE(rswap_fault_hold_writes)) &&
		    cmd->claimed && !READ_ONCE(dev->dying)) {
			if (cmd->tries == 1)	/* its first dispatch: the test may go on */
				pr_info("fault injection: write of %u pages from page %llu held\n",
					cmd->nr_segs, off);
			park(rq, RSWAP_PARK_DELAY_MS);
			return BLK_STS_OK;
		}
		/*
		 * A read that met a write of its pages waits for it to end;
		 * one that met RSWAP_READS_MET_CLAIM of them claims its pages.
		 */
		if (req_op(rq) == REQ_OP_READ && unlikely(cmd->reads_met) && !cmd->claimed) {
			if (cmd->reads_met < RSWAP_READS_MET_CLAIM) {
				if (park_for_writes(dev, cmd, rq, off, cmd->nr_segs))
					return BLK_STS_OK;
			} else if (!read_claim(dev, cmd, off)) {
				park_overlap(dev, cmd, rq);
				return BLK_STS_OK;
			}
		}
		if (dev->ram)
			return rswap_ram_rq(dev, rq, cmd, off);
		if (req_op(rq) == REQ_OP_WRITE) {
			blk_status_t st = unlikely(cmd->repair) ?
					  do_repair_write(dev, rq, cmd, cmd->repair) :
					  do_write(dev, rq, cmd, off);

			/*
			 * What was read ahead of its pages goes when the write
			 * ends (cmd_finish); one ended here, failed, goes now.
			 */
			if (st != BLK_STS_OK)
				rswap_prefetch_invalidate(dev, off, cmd->nr_segs);
			if (st == BLK_STS_IOERR)	/* the block layer ends it */
				req_ends(cmd, rq, st);
			return st;
		}
		if (cmd->prefetch)
			return do_read(dev, rq, cmd, off);
		switch (rswap_prefetch_read(dev, cmd, off, first)) {
		case RSWAP_PF_SERVED:
			/* Read ahead already: a copy, no round trip. */
			cmd->nr_remote = 0;	/* for its trace */
			cmd->nr_lost = 0;
			blk_mq_start_request(rq);
			rswap_stat_add(dev, loads, cmd->nr_segs);
			if (cmd->waited_since)	/* its data came over the wire meanwhile */
				account_latency(dev, cmd, false);
			rswap_end_rq(cmd, rq, BLK_STS_OK);
			return BLK_STS_OK;
		case RSWAP_PF_COMING:
			/*
			 * Being read ahead: started, it waits for that READ,
			 * and may be requeued already; not read twice.
			 */
			return BLK_STS_OK;
		case RSWAP_PF_MISS:
			break;
		}
		return do_read(dev, rq, cmd, off);
	default:
		return BLK_STS_NOTSUPP;
	}
}

/*
 * A request's WRs wait in its hardware queue's batch while the block layer
 * has more for it (bd->last false) and go with the last one's, one
 * doorbell per queue pair; whatever the request did (a read served from
 * the read ahead, a discard, a failure) the last one posts the batch. When
 * a dispatch stops short of its last request, the block layer calls
 * commit_rqs instead. (A queue quiesced in the middle of a plug's dispatch
 * would leave the batch to the next dispatch: the block layer quiesces
 * only a frozen queue, with no request of ours in flight, and this driver
 * never does; the request timeout would end even that.)
 */
static blk_status_t rswap_queue_rq(struct blk_mq_hw_ctx *hctx, const struct blk_mq_queue_data *bd)
{
	blk_status_t st = queue_one(hctx, bd);

	if (bd->last || !READ_ONCE(rswap_doorbell_batch))
		post_batch(hctx->queue->queuedata, hctx->queue_num);
	return st;
}

static void rswap_commit_rqs(struct blk_mq_hw_ctx *hctx)
{
	post_batch(hctx->queue->queuedata, hctx->queue_num);
}

static int rswap_init_request(struct blk_mq_tag_set *set, struct request *rq,
			      unsigned int hctx_idx, unsigned int numa_node)
{
	struct rswap_cmd *cmd = blk_mq_rq_to_pdu(rq);
	unsigned int c;

	cmd->dev = set->driver_data;
	cmd->unsignaled_cqe.done = rdma_done_unsignaled;
	for (c = 0; c < ARRAY_SIZE(cmd->chain); c++) {
		cmd->chain[c].cqe.done = rdma_done;
		cmd->chain[c].cmd = cmd;
	}
	cmd->nr_maps = 0;
	return 0;
}

/*
 * A request in flight for its timeout (the queue's io_timeout): a WR that
 * never completes (a hung peer whose QP never errors, a lost completion).
 * Fail the connections of the servers it posted to: their QPs are
 * flushed, every WR completes, and the request is requeued (server down)
 * to go out again when they are back. The servers are freed only after a
 * grace period (rswap_server_destroy), so looking at them under
 * rcu_read_lock is safe.
 */
static enum blk_eh_timer_return rswap_timeout(struct request *rq)
{
	struct rswap_cmd *cmd = blk_mq_rq_to_pdu(rq);
	struct rswap_dev *dev = rq->q->queuedata;
	int i;

	/*
	 * Waiting for a chunk read ahead (rswap_prefetch.c), it posted
	 * nothing: that READ has a timeout of its own, which fails its
	 * servers, and then requeues this one.
	 */
	if (!READ_ONCE(cmd->nr_wrs)) {
		pr_warn_ratelimited("%s: read at page %llu has waited %u s for a read ahead\n",
				    dev->name, blk_rq_pos(rq) / RSWAP_SECTORS_PER_PAGE,
				    rq->timeout / HZ);
		return BLK_EH_RESET_TIMER;
	}
	rswap_stat_inc(dev, timeouts);
	pr_warn_ratelimited("%s: request at page %llu got no completion in %u s; reconnecting its servers\n",
			    dev->name, blk_rq_pos(rq) / RSWAP_SECTORS_PER_PAGE,
			    rq->timeout / HZ);
	rcu_read_lock();
	for (i = 0; i < READ_ONCE(cmd->nr_wrs) && i < (int)ARRAY_SIZE(cmd->wr_srv); i++) {
		struct rswap_server *srv = READ_ONCE(cmd->wr_srv[i]);

		if (srv && (!i || srv != READ_ONCE(cmd->wr_srv[i - 1])))
			rswap_server_fail(srv);
	}
	rcu_read_unlock();
	return BLK_EH_RESET_TIMER;
}

static const struct blk_mq_ops rswap_mq_ops = {
	.queue_rq = rswap_queue_rq,
	.commit_rqs = rswap_commit_rqs,
	.init_request = rswap_init_request,
	.timeout = rswap_timeout,
};

/* ---- open and release: the reserve is kept only while the device is open ---- */

/*
 * An open, refused once the device is going away (power 0, or rmdir of a
 * configfs item: rswap_dev_close_for_removal), so nobody swaps on a device
 * being torn down.
 */
static int opened(struct rswap_dev *dev)
{
	write_seqlock(&dev->lock);
	if (dev->closing) {
		write_sequnlock(&dev->lock);
		return -ENODEV;
	}
	dev->openers++;
	write_sequnlock(&dev->lock);
	queue_work(dev->refill_wq, &dev->refill_work);
	return 0;
}

/* A close; the last one of a device whose configfs item is gone removes it. */
static void closed(struct rswap_dev *dev)
{
	bool remove;

	write_seqlock(&dev->lock);
	remove = !--dev->openers && dev->remove_when_closed;
	if (remove)
		dev->closing = true;
	write_sequnlock(&dev->lock);
	if (remove)	/* not here: del_gendisk waits for this very release */
		rswap_devices_reap();
	else
		queue_work(dev->wq, &dev->return_work);
}

/*
 * Going away: refused (-EBUSY) while open (swapped on: swapoff first), else
 * no open succeeds from now on.
 */
int rswap_dev_close_for_removal(struct rswap_dev *dev)
{
	int ret = 0;

	write_seqlock(&dev->lock);
	if (dev->openers)
		ret = -EBUSY;
	else
		dev->closing = true;
	write_sequnlock(&dev->lock);
	return ret;
}

#ifdef RSWAP_HAVE_OPEN_GENDISK	/* 6.5+ */
static int rswap_open(struct gendisk *disk, blk_mode_t mode)
{
	return opened(disk->private_data);
}

static void rswap_release(struct gendisk *disk)
{
	closed(disk->private_data);
}
#else
static int rswap_open(struct block_device *bdev, fmode_t mode)
{
	return opened(bdev->bd_disk->private_data);
}

static void rswap_release(struct gendisk *disk, fmode_t mode)
{
	closed(disk->private_data);
}
#endif

static const struct block_device_operations rswap_fops = {
	.owner = THIS_MODULE,
	.open = rswap_open,
	.release = rswap_release,
};

/* ---- creation and removal ---- */

/*
 * The device's client id: from client_id= (rswap-client passes the
 * machine id and the device name), else from the host name and the device,
 * said in the log. Either way the same on every load, so the servers know
 * a rebooted client, and its first connection frees what it held before.
 */
static int dev_client_id(struct rswap_dev *dev, const char *client_id)
{
	char *text = dev->client_id_text;

	BUILD_BUG_ON(__NEW_UTS_LEN + 1 + DISK_NAME_LEN > RSWAP_CLIENT_ID_MAX);
	if (client_id && *client_id) {
		strscpy(text, client_id, sizeof(dev->client_id_text));
	} else {
		snprintf(text, sizeof(dev->client_id_text), "%s:%s", utsname()->nodename,
			 dev->name);
		pr_info("%s: no client_id=: the servers know this client as '%s' (host name and device)\n",
			dev->name, text);
	}
	return rswap_auth_client_id(text, dev->client_id);
}

/*
 * Stable writes (stable_writes=1): a page is never modified while its
 * write is in flight. A write's checksums are made from the pages before
 * the RDMA WRITE reads them; without this the kernel may map a page under
 * swap writeback writable again (do_swap_page) and change it meanwhile,
 * and the copies then hold bytes their checksum does not match. The
 * kernel keeps such a page (dirty) and never reads that slot back, but a
 * direct read of the device does, and gets EIO. zram and NVMe with
 * integrity set it for the same reason; it is off by default for its
 * cost in swap slots under thrashing (rswap_main.c).
 */
static struct gendisk *alloc_disk(struct rswap_dev *dev)
{
#ifdef RSWAP_HAVE_DISK_LIMITS	/* 6.9+ */
	struct gendisk *disk;
	struct queue_limits lim = {
#ifdef BLK_FEAT_STABLE_WRITES	/* 6.11+ */
		.features = rswap_stable_writes ? BLK_FEAT_STABLE_WRITES : 0,
#endif
		.logical_block_size = RSWAP_PAGE_SIZE,
		.physical_block_size = RSWAP_PAGE_SIZE,
		.max_hw_sectors = RSWAP_MAX_SEGS * RSWAP_SECTORS_PER_PAGE,
		.max_segments = RSWAP_MAX_SEGS,
		.max_segment_size = RSWAP_PAGE_SIZE,
		.max_hw_discard_sectors = RSWAP_DISCARD_MAX_SECTORS,
		.discard_granularity = RSWAP_PAGE_SIZE,
		.max_write_zeroes_sectors = RSWAP_DISCARD_MAX_SECTORS,
	};

	disk = blk_mq_alloc_disk(&dev->tag_set, &lim, dev);
#ifndef BLK_FEAT_STABLE_WRITES
	if (!IS_ERR(disk) && rswap_stable_writes)
		blk_queue_flag_set(QUEUE_FLAG_STABLE_WRITES, disk->queue);
#endif
	return disk;
#else
	struct gendisk *disk = blk_mq_alloc_disk(&dev->tag_set, dev);
	struct request_queue *q;

	if (IS_ERR(disk))
		return disk;
	q = disk->queue;
	blk_queue_logical_block_size(q, RSWAP_PAGE_SIZE);
	blk_queue_physical_block_size(q, RSWAP_PAGE_SIZE);
	blk_queue_max_hw_sectors(q, RSWAP_MAX_SEGS * RSWAP_SECTORS_PER_PAGE);
	blk_queue_max_segments(q, RSWAP_MAX_SEGS);
	blk_queue_max_segment_size(q, RSWAP_PAGE_SIZE);
	blk_queue_max_discard_sectors(q, RSWAP_DISCARD_MAX_SECTORS);
	q->limits.discard_granularity = RSWAP_PAGE_SIZE;
	blk_queue_max_write_zeroes_sectors(q, RSWAP_DISCARD_MAX_SECTORS);
	blk_queue_flag_set(QUEUE_FLAG_NONROT, q);
	blk_queue_flag_clear(QUEUE_FLAG_ADD_RANDOM, q);
	if (rswap_stable_writes)
		blk_queue_flag_set(QUEUE_FLAG_STABLE_WRITES, q);
	return disk;
#endif
}

/*
 * The device rswap@id from @cfg (rswap_config_check has passed it): its
 * key read, its disk added. Servers are added by the caller.
 */
int rswap_dev_create(int id, const struct rswap_dev_config *cfg, struct rswap_dev **out)
{
	bool ram = cfg->ram;
	struct rswap_dev *dev;
	unsigned int i;
	int ret;

	if (!rswap_major) {
		ret = register_blkdev(0, "rswap");
		if (ret < 0)
			return ret;
		rswap_major = ret;
	}
	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!dev)
		return -ENOMEM;
	dev->stats = alloc_percpu(struct rswap_stats);
	/* hctx->queue_num < nr_hw_queues <= nr_cpu_ids */
	dev->io_inflight = kcalloc(nr_cpu_ids, sizeof(*dev->io_inflight), GFP_KERNEL);
	dev->batch = kcalloc(nr_cpu_ids, sizeof(*dev->batch), GFP_KERNEL);
	if (!dev->stats || !dev->io_inflight || !dev->batch) {
		free_percpu(dev->stats);
		kfree(dev->io_inflight);
		kfree(dev->batch);
		kfree(dev);
		return -ENOMEM;
	}
	for (i = 0; i < nr_cpu_ids; i++)
		spin_lock_init(&dev->batch[i].lock);
	dev->id = id;
	snprintf(dev->name, sizeof(dev->name), "rswap%d", id);
	dev->n_pages = cfg->bytes / RSWAP_PAGE_SIZE;
	dev->n_replicas = cfg->replicas;
	dev->loss_timeout = cfg->loss_timeout;
	dev->tag_set.queue_depth = cfg->queue_depth;	/* read ahead sizes itself by it */
	dev->max_sge = RSWAP_MAX_SEGS;
	dev->max_sge_rd = RSWAP_MAX_SEGS;
	dev->csum_seed = get_random_u64();
	seqlock_init(&dev->lock);
	spin_lock_init(&dev->header_lock);
	mutex_init(&dev->servers_mutex);
	mutex_init(&dev->setup_mutex);
	INIT_WORK(&dev->refill_work, rswap_refill_work);
	INIT_WORK(&dev->return_work, rswap_return_work);
	INIT_DELAYED_WORK(&dev->reserve_work, rswap_reserve_work);
	INIT_WORK(&dev->migrate_work, rswap_migrate_work);
	spin_lock_init(&dev->evac_lock);
	init_waitqueue_head(&dev->io_wait);
	INIT_LIST_HEAD(&dev->list);
	ret = dev_client_id(dev, cfg->client_id);
	if (ret)
		goto out_free;
	if (!ram) {
		dev->hmac = rswap_auth_load_key(cfg->key_file);
		if (IS_ERR(dev->hmac)) {
			ret = PTR_ERR(dev->hmac);
			dev->hmac = NULL;
			goto out_free;
		}
	}

	dev->header = (void *)get_zeroed_page(GFP_KERNEL);
	if (!dev->header) {
		ret = -ENOMEM;
		goto out_free;
	}
	ret = rswap_map_init(&dev->map, dev->n_pages);
	if (ret)
		goto out_header;
	dev->writing = kvcalloc(BITS_TO_LONGS(dev->n_pages), sizeof(long), GFP_KERNEL);
	dev->read_wants = kvcalloc(BITS_TO_LONGS(dev->n_pages), sizeof(long), GFP_KERNEL);
	if (!dev->writing || !dev->read_wants) {
		ret = -ENOMEM;
		goto out_map;
	}
	ret = ram ? rswap_ram_init(dev) : 0;
	if (ret)
		goto out_map;
	/* backend=ram reads in queue_rq: nothing to read ahead */
	ret = rswap_prefetch_init(dev, ram ? 0 : rswap_prefetch_kib);
	if (ret)
		goto out_map;
	ret = rswap_repair_init(dev);
	if (ret)
		goto out_map;
	dev->wq = alloc_workqueue("%s", WQ_MEM_RECLAIM | WQ_UNBOUND, 0, dev->name);
	if (!dev->wq) {
		ret = -ENOMEM;
		goto out_map;
	}
	dev->refill_wq = alloc_workqueue("%s_refill", WQ_MEM_RECLAIM | WQ_HIGHPRI | WQ_UNBOUND,
					 1, dev->name);
	if (!dev->refill_wq) {
		ret = -ENOMEM;
		goto out_wq;
	}
	dev->tag_set.ops = &rswap_mq_ops;
	dev->tag_set.nr_hw_queues = num_online_cpus();
	dev->tag_set.numa_node = NUMA_NO_NODE;
	dev->tag_set.cmd_size = sizeof(struct rswap_cmd);
	dev->tag_set.flags = BLK_MQ_F_SHOULD_MERGE;
	dev->tag_set.timeout = 30 * HZ;
	dev->tag_set.driver_data = dev;
	ret = blk_mq_alloc_tag_set(&dev->tag_set);
	if (ret)
		goto out_refill_wq;
	dev->disk = alloc_disk(dev);
	if (IS_ERR(dev->disk)) {
		ret = PTR_ERR(dev->disk);
		goto out_tags;
	}
	dev->disk->major = rswap_major;
	dev->disk->first_minor = id;
	dev->disk->minors = 1;
	dev->disk->fops = &rswap_fops;
	dev->disk->private_data = dev;
	strscpy(dev->disk->disk_name, dev->name, sizeof(dev->disk->disk_name));
	set_capacity(dev->disk, dev->n_pages * RSWAP_SECTORS_PER_PAGE);
	ret = device_add_disk(NULL, dev->disk, rswap_dev_groups);
	if (ret)
		goto out_disk;
	rswap_debugfs_dev_add(dev);
	*out = dev;
	return 0;

out_disk:
	put_disk(dev->disk);
out_tags:
	blk_mq_free_tag_set(&dev->tag_set);
out_refill_wq:
	destroy_workqueue(dev->refill_wq);
out_wq:
	destroy_workqueue(dev->wq);
out_map:
	rswap_repair_fini(dev);
	rswap_prefetch_fini(dev);
	rswap_ram_fini(dev);
	kvfree(dev->read_wants);
	kvfree(dev->writing);
	rswap_map_fini(&dev->map);
out_header:
	free_page((unsigned long)dev->header);
out_free:
	if (dev->hmac)
		crypto_free_shash(dev->hmac);
	free_percpu(dev->stats);
	kfree(dev->io_inflight);
	kfree(dev->batch);
	kfree(dev);
	return ret;
}

void rswap_dev_destroy(struct rswap_dev *dev)
{
	/* First: nothing queues new work, a failing request is not retried. */
	WRITE_ONCE(dev->dying, true);
	rswap_servers_wake(dev);	/* a move waiting for an answer gives up */
	wake_up_all(&dev->io_wait);
	rswap_prefetch_stop(dev);	/* reads ahead in flight end before del_gendisk returns */
	rswap_repair_stop(dev);		/* and so do repairs */
	del_gendisk(dev->disk);
	/* Repairs that ended meanwhile free their slots before the give-back. */
	flush_work(&dev->repair.work);
	rswap_debugfs_dev_remove(dev);
	cancel_work_sync(&dev->migrate_work);
	flush_work(&dev->refill_work);
	cancel_delayed_work_sync(&dev->reserve_work);	/* not re-armed: dying */
	flush_work(&dev->return_work);
	/* Servers we are connected to get their memory back. */
	rswap_slabs_return_all(dev);
	rswap_servers_destroy(dev);
	cancel_work_sync(&dev->refill_work);
	cancel_work_sync(&dev->return_work);
	cancel_work_sync(&dev->migrate_work);
	put_disk(dev->disk);
	blk_mq_free_tag_set(&dev->tag_set);
	destroy_workqueue(dev->refill_wq);
	destroy_workqueue(dev->wq);
	rswap_slabs_fini(dev);
	rswap_repair_fini(dev);
	rswap_prefetch_fini(dev);
	rswap_ram_fini(dev);
	kvfree(dev->read_wants);
	kvfree(dev->writing);
	rswap_map_fini(&dev->map);
	free_page((unsigned long)dev->header);
	if (dev->hmac)
		crypto_free_shash(dev->hmac);
	free_percpu(dev->stats);
	kfree(dev->io_inflight);
	kfree(dev->batch);
	kfree(dev);
}

void rswap_dev_unregister(void)
{
	if (rswap_major)
		unregister_blkdev(rswap_major, "rswap");
	rswap_major = 0;
}
