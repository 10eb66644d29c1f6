// SPDX-License-Identifier: GPL-2.0
/*
 * rswap_ram: backend=ram, for benchmarking only. The pages that would go
 * to servers are kept in this host's memory instead, in one area the size
 * of the device allocated at load (nothing is allocated per request, as on
 * the RDMA path), indexed by swap offset. What is left of a request is the
 * module's own cost: blk-mq, the map (and its lock, on writes), the zero and
 * same-filled check, the checksum made on the way out and checked on the
 * way in, the counters; with none of the transport's (no slots, no WRs, no
 * completions). Compared with brd and null_blk in the same guest, it shows
 * what rswap costs on top of a RAM disk; over rxe, what the wire adds.
 *
 * A request is done in queue_rq, copy by copy, as brd does. No servers: the
 * map's REMOTE entries mean "in the area", and slots, slabs, read ahead
 * and everything of rswap_server.c stay unused (add_server is refused).
 * The memory is the host's own, so swapping to it frees nothing: never a
 * production setting, and the load says so.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blkdev.h>
#include <linux/highmem.h>
#include <linux/vmalloc.h>

#include "rswap.h"

int rswap_ram_init(struct rswap_dev *dev)
{
	u64 mib = dev->n_pages * RSWAP_PAGE_SIZE >> 20;

	dev->ram = __vmalloc(array_size(dev->n_pages, RSWAP_PAGE_SIZE), GFP_KERNEL | __GFP_NOWARN);
	if (dev->ram) {
		pr_warn("%s: backend=ram: pages stay in this host's memory (%llu MiB, allocated now), for benchmarking only\n",
			dev->name, mib);
		return 0;
	}
	pr_err("%s: backend=ram: cannot allocate the %llu MiB it keeps pages in\n", dev->name, mib);
	return -ENOMEM;
}

void rswap_ram_fini(struct rswap_dev *dev)
{
	vfree(dev->ram);
	dev->ram = NULL;
}

static void *ram_page(struct rswap_dev *dev, u64 off)
{
	return dev->ram + off * RSWAP_PAGE_SIZE;
}

static void ram_write(struct rswap_dev *dev, struct rswap_cmd *cmd, u64 off)
{
	struct rswap_entry old;
	unsigned int i, zero = 0, same = 0, remote = 0;

	/* Outside the lock, as do_write: the check, the checksum, the copy. */
	rswap_write_prepare(dev, cmd, off);
	for (i = 0; i < cmd->nr_segs; i++)
		if (!cmd->seg[i].fill)
			memcpy_from_page(ram_page(dev, off + i), cmd->seg[i].page, 0,
					 RSWAP_PAGE_SIZE);
	write_seqlock(&dev->lock);
	for (i = 0; i < cmd->nr_segs; i++) {
		u64 w = cmd->seg[i].word;

		if (cmd->seg[i].header)
			continue;
		if (cmd->seg[i].fill) {
			rswap_map_set(&dev->map, off + i, w ? RSWAP_SAME : RSWAP_ZERO, w, &old);
			w ? same++ : zero++;
		} else {
			rswap_map_set_remote(&dev->map, off + i, 0, 0, cmd->seg[i].csum, &old);
			remote++;
		}
	}
	write_sequnlock(&dev->lock);
	/*
	 * Claimed in queue_rq, so no other write copied into these pages
	 * meanwhile; let go when rswap_ram_rq ends the request.
	 */
	rswap_stat_add(dev, stores, cmd->nr_segs);
	rswap_stat_add(dev, zero_stores, zero);
	rswap_stat_add(dev, same_stores, same);
	rswap_stat_add(dev, remote_stores, remote);
}

/*
 * Returns the pages whose checksum was wrong (each fails alone); *@met:
 * those that met a write of theirs instead (rswap_read_met_write).
 */
static unsigned int ram_read(struct rswap_dev *dev, struct rswap_cmd *cmd, u64 off,
			     unsigned int *met)
{
	unsigned int i, bad = 0;

	/*
	 * No lock: each entry is read whole, and a RAM slot is its offset's.
	 * A read beside a write of the same page may copy half of it: its
	 * checksum then sends it round again, it is never handed out.
	 */
	for (i = 0; i < cmd->nr_segs; i++) {
		struct rswap_entry e = rswap_map_get(&dev->map, off + i);

		cmd->seg[i].header = off + i == 0;
		cmd->seg[i].fill = rswap_entry_type(&e) != RSWAP_REMOTE;
		cmd->seg[i].word = rswap_entry_word(&e);
		cmd->seg[i].csum = rswap_entry_csum(&e);
		cmd->seg[i].entry = e;
	}
	rswap_read_note_writes(dev, cmd, off);
	rswap_read_fill(dev, cmd);
	for (i = 0; i < cmd->nr_segs; i++) {
		void *p;

		if (cmd->seg[i].fill || cmd->seg[i].header)
			continue;
		p = kmap_local_page(cmd->seg[i].page);
		memcpy(p, ram_page(dev, off + i), RSWAP_PAGE_SIZE);
		if (rswap_page_csum(dev, p) != cmd->seg[i].csum) {
			if (rswap_read_met_write(cmd, i, off)) {
				(*met)++;
			} else {
				cmd->seg[i].lost = true;
				bad++;
			}
		}
		kunmap_local(p);
	}
	return bad;
}

/* A READ or WRITE of whole pages (collect_pages has filled cmd->seg). */
blk_status_t rswap_ram_rq(struct rswap_dev *dev, struct request *rq, struct rswap_cmd *cmd,
			  u64 off)
{
	unsigned int bad, met = 0;

	blk_mq_start_request(rq);
	if (req_op(rq) == REQ_OP_WRITE) {
		ram_write(dev, cmd, off);
		rswap_end_rq(cmd, rq, BLK_STS_OK);
		return BLK_STS_OK;
	}
	bad = ram_read(dev, cmd, off, &met);
	if (unlikely(met)) {
		rswap_read_met_park(cmd, rq, off, met);
		return BLK_STS_OK;
	}
	rswap_stat_add(dev, loads, cmd->nr_segs);
	if (likely(!bad)) {
		rswap_end_rq(cmd, rq, BLK_STS_OK);
		return BLK_STS_OK;
	}
	/* Only this host's own memory going bad gets here. */
	rswap_stat_add(dev, csum_errors, bad);
	rswap_stat_add(dev, read_errors, bad);
	pr_err_ratelimited("%s: backend=ram: %u pages from page %llu have a wrong checksum\n",
			   dev->name, bad, off);
	rswap_end_pages(cmd, rq);
	return BLK_STS_OK;
}
