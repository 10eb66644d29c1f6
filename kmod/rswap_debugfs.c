// SPDX-License-Identifier: GPL-2.0
/*
 * rswap_debugfs: /sys/kernel/debug/rswap/, fault-injection knobs for the
 * tests. Compiled in, every knob off (0) by default; each widens or forces
 * a failure the suite cannot otherwise stage.
 *
 *   fail_returns   1: no slab is given back (RETURN is not sent; slabs
 *                  stay RETURNING), as if the host had crashed before
 *                  giving them back: the servers keep them, and the next
 *                  load with the same client_id must free them with its
 *                  first connection (HELLO FRESH)
 *   move_fill_delay_ms   a move waits this long after its target slab is
 *                  granted (FILLING) and before the copy starts: a test
 *                  restarts the target meanwhile, and its reconnect must
 *                  find the slab ours
 *   move_swap_delay_ms   a move waits this long after the copy is done
 *                  (MIGRATED) and before the table points at it: a test
 *                  kills the target meanwhile, and the move must be
 *                  abandoned, not leave a slab ACTIVE on a dead server
 *   sq_depth_max   send queues made from now on hold at most this many WRs
 *                  (not below one request's worth, RSWAP_SQ_MIN_WRS), as
 *                  a NIC with a small max_qp_wr would: requests then wait
 *                  for send credits (stats: send_queue_full), and no
 *                  server may be taken for dead because of it
 *   grant_delay_ms  the refill waits this long (at most 10 s) before each
 *                  grant request, as a server slow to fdatasync its
 *                  metadata log would: the reserve must grow with the time
 *                  a grant takes (stats: reserve_slots), so writes do not
 *                  stall on it, and come back down once calm
 *   corrupt_reads  N: the next N pages read on demand have one bit flipped
 *                  after they arrive, before their checksum is checked, as
 *                  a bad link or a server's bad memory would: each must
 *                  be read again (stats: checksum_errors), never handed to
 *                  the process as it came
 *   partial_posts  N: the next N posts of two or more WRs (one doorbell:
 *                  the chains of one request or of several dispatched
 *                  together) go only in part (their first WR; the rest
 *                  refused as a provider's -EINVAL would): a request whose
 *                  chain went in part (its posted WR unsignaled) must wait
 *                  for the QP's drain, not end while the WR may run; it,
 *                  and the requests none of whose WRs went, go again once
 *                  the server is back
 *   read_races     N: the next N reads planned without the device's lock
 *                  (do_read) take the lock as a writer would, once they
 *                  have planned and counted themselves, before they check
 *                  the sequence: each must let go of its plan and its
 *                  count and plan again under the lock (stats:
 *                  reads_relocked), with its data intact
 *   read_meets     N: the next N pages read on demand that come back right
 *                  are handled as though a write of the page had changed
 *                  it under the read (read again, read_overlaps), as a
 *                  page rewritten without pause would be: a read that met
 *                  RSWAP_READS_MET_CLAIM of them must claim its pages (no
 *                  write of them goes meanwhile, write_overlaps;
 *                  read_claims) and end with its data, never starve. A
 *                  read that has claimed is not struck; nor is one on
 *                  backend=ram
 *   prefetch_delay_ms  the read ahead's work waits this long (at most 10 s)
 *                  before it submits the chunks just placed, as a busy
 *                  machine's workqueue might: a read of a page in a chunk
 *                  placed but not yet read must wait for it (stats:
 *                  prefetch_waits), not read the page a second time
 *   read_tears     N: the next N reads planned without the lock find the
 *                  slab table as if caught mid-change (read_plan's
 *                  -ESTALE, which a writer racing the plan causes and no
 *                  test can time): each must plan again under the lock,
 *                  with its data intact
 *   hold_writes    while set, a write that has claimed its pages goes no
 *                  further: it is put back (the requeue list runs again
 *                  within RSWAP_PARK_DELAY_MS) holding its claim, as one
 *                  waiting for a slot or its server is; its first dispatch
 *                  logs that it is held. A write of one of those pages
 *                  must wait for it (stats: write_overlaps), whichever
 *                  word of the claims' bitmap the page's bit is in. A
 *                  queue freeze (a scheduler change) waits until it is
 *                  cleared; a dying device's writes are not held
 *
 * Each delay is announced in the kernel log ("fault injection: ...") so a
 * test knows when to strike.
 *
 * And per device, read-only, /sys/kernel/debug/rswap/<device>/:
 *
 *   map            one line per swap page held on servers: its set (the
 *                  slab-table entry of the set's first copy), its slot
 *                  there and its checksum: with slabs, where a page is
 *   qps            one line per queue pair of every server: its hardware
 *                  queue, connected or down, its send queue's depth and the
 *                  WRs in flight on it, the WRs ever posted on it (the
 *                  hardware queues' spread), its CQ entries, and the
 *                  ib_post_send calls (doorbells) that posted those WRs
 *
 *   slabs          the slab table: one line per entry that is not FREE
 *                  (its state, server, server's slab number, the set it is
 *                  a copy of and its position), and for each primary the
 *                  set (width, slots used, filling, and every copy's state
 *                  and entry). What a test prints when a page is lost, and
 *                  what an operator reads to see where a set's copies are.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/seq_file.h>

#include "rswap.h"

bool rswap_fault_returns;
u32 rswap_fault_move_fill_delay_ms;
u32 rswap_fault_move_swap_delay_ms;
u32 rswap_fault_sq_depth_max;
atomic_t rswap_fault_corrupt_reads = ATOMIC_INIT(0);
u32 rswap_fault_grant_delay_ms;
atomic_t rswap_fault_partial_posts = ATOMIC_INIT(0);
atomic_t rswap_fault_read_races = ATOMIC_INIT(0);
atomic_t rswap_fault_read_meets = ATOMIC_INIT(0);
atomic_t rswap_fault_read_tears = ATOMIC_INIT(0);
u32 rswap_fault_prefetch_delay_ms;
bool rswap_fault_hold_writes;

static struct dentry *rswap_debugfs_dir;

void rswap_debugfs_init(void)
{
	rswap_debugfs_dir = debugfs_create_dir("rswap", NULL);
	debugfs_create_bool("fail_returns", 0600, rswap_debugfs_dir, &rswap_fault_returns);
	debugfs_create_u32("move_fill_delay_ms", 0600, rswap_debugfs_dir,
			   &rswap_fault_move_fill_delay_ms);
	debugfs_create_u32("move_swap_delay_ms", 0600, rswap_debugfs_dir,
			   &rswap_fault_move_swap_delay_ms);
	debugfs_create_u32("sq_depth_max", 0600, rswap_debugfs_dir, &rswap_fault_sq_depth_max);
	debugfs_create_atomic_t("corrupt_reads", 0600, rswap_debugfs_dir,
				&rswap_fault_corrupt_reads);
	debugfs_create_u32("grant_delay_ms", 0600, rswap_debugfs_dir, &rswap_fault_grant_delay_ms);
	debugfs_create_atomic_t("partial_posts", 0600, rswap_debugfs_dir,
				&rswap_fault_partial_posts);
	debugfs_create_atomic_t("read_races", 0600, rswap_debugfs_dir, &rswap_fault_read_races);
	debugfs_create_atomic_t("read_meets", 0600, rswap_debugfs_dir, &rswap_fault_read_meets);
	debugfs_create_atomic_t("read_tears", 0600, rswap_debugfs_dir, &rswap_fault_read_tears);
	debugfs_create_u32("prefetch_delay_ms", 0600, rswap_debugfs_dir,
			   &rswap_fault_prefetch_delay_ms);
	debugfs_create_bool("hold_writes", 0600, rswap_debugfs_dir, &rswap_fault_hold_writes);
}

/*
 * Sleep @ms (a knob's value) in a move of slab @remote to @target, saying
 * so: "fault injection: waiting 5000 ms before copying slab 3 to
 * 10.77.0.2:7471". 0: nothing.
 */
void rswap_fault_delay(u32 ms, const char *what, u32 remote, const struct rswap_server *target)
{
	if (!ms)
		return;
	pr_info("fault injection: waiting %u ms %s %u to %s\n", ms, what, remote, target->name);
	msleep(ms);
}

/*
 * grant_delay_ms: a refill's grant request to @srv waits, at most 10 s
 * (it holds servers_mutex), said (rate-limited) in the log.
 */
void rswap_fault_grant_delay(const struct rswap_server *srv)
{
	u32 ms = min(READ_ONCE(rswap_fault_grant_delay_ms), 10000u);

	if (!ms)
		return;
	pr_info_ratelimited("fault injection: waiting %u ms before asking %s for a slab\n", ms,
			    srv->name);
	msleep(ms);
}

static int slabs_show(struct seq_file *m, void *unused)
{
	struct rswap_dev *dev = m->private;
	u32 i, c;

	/* Under the lock: a consistent table (seq_file only copies into its buffer). */
	read_seqlock_excl(&dev->lock);
	if (!dev->slots_ready) {
		read_sequnlock_excl(&dev->lock);
		seq_puts(m, "no slab table yet (no server has welcomed this device)\n");
		return 0;
	}
	for (i = 0; i < dev->slots.max_slabs; i++) {
		const struct rswap_slab *s = &dev->slabs[i];
		const struct rswap_copy_set *cs;

		if (s->state == RSWAP_SLAB_FREE)
			continue;
		seq_printf(m, "entry %u %s server %s slab %u", i, rswap_slab_state_name(s->state),
			   s->srv ? s->srv->name : "-", s->remote);
		if (s->set == RSWAP_NO_SLAB) {
			seq_puts(m, " set -\n");
			continue;
		}
		seq_printf(m, " set %u copy %u", s->set, s->copy);
		if (s->set != i) {
			seq_putc(m, '\n');
			continue;
		}
		cs = &dev->replicas.sets[i];
		seq_printf(m, " width %u used %u live %u present %u%s%s%s:", s->width,
			   dev->slots.slabs[i].used, cs->n_live, cs->n_present,
			   s->filling ? " filling" : "", cs->written ? " written" : "",
			   cs->degraded ? " degraded" : "");
		for (c = 0; c < dev->n_replicas; c++) {
			if (cs->copy[c].entry == RSWAP_NO_SLAB)
				seq_printf(m, " %s", rswap_copy_state_name(cs->copy[c].state));
			else
				seq_printf(m, " %s@%u", rswap_copy_state_name(cs->copy[c].state),
					   cs->copy[c].entry);
		}
		seq_putc(m, '\n');
	}
	read_sequnlock_excl(&dev->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(slabs);

/* The map's REMOTE entries: which set and slot each swap page is in. */
static int map_show(struct seq_file *m, void *unused)
{
	struct rswap_dev *dev = m->private;
	u64 off;

	read_seqlock_excl(&dev->lock);
	for (off = 0; off < dev->map.n_pages; off++) {
		const struct rswap_entry *e = &dev->map.entries[off];

		if (rswap_entry_type(e) == RSWAP_REMOTE)
			seq_printf(m, "page %llu set %u slot %u csum %08x\n", off,
				   rswap_entry_slab(&dev->map, e), rswap_entry_page(&dev->map, e),
				   rswap_entry_csum(e));
	}
	read_sequnlock_excl(&dev->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(map);

static int qps_show(struct seq_file *m, void *unused)
{
	struct rswap_dev *dev = m->private;
	unsigned int q;
	int i;

	mutex_lock(&dev->servers_mutex);
	for (i = 0; i < RSWAP_MAX_SERVERS; i++) {
		struct rswap_server *srv = dev->servers[i];

		if (!srv)
			continue;
		for (q = 0; q < srv->max_qps; q++) {
			struct rswap_qp *qp = &srv->qps[q];

			seq_printf(m, "%s queue %u %s sq_depth %u in_flight %d posted %lld cq_entries %u doorbells %lld\n",
				   srv->name, q, READ_ONCE(qp->connected) ? "connected" : "down",
				   qp->sq_depth, qp->sq_depth - atomic_read(&qp->sq_credits),
				   atomic64_read(&qp->posted), qp->cq_entries,
				   atomic64_read(&qp->doorbells));
		}
	}
	mutex_unlock(&dev->servers_mutex);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(qps);

void rswap_debugfs_dev_add(struct rswap_dev *dev)
{
	dev->debugfs = debugfs_create_dir(dev->name, rswap_debugfs_dir);
	debugfs_create_file("slabs", 0400, dev->debugfs, dev, &slabs_fops);
	debugfs_create_file("qps", 0400, dev->debugfs, dev, &qps_fops);
	debugfs_create_file("map", 0400, dev->debugfs, dev, &map_fops);
}

/* Before the table goes: debugfs_remove waits for readers to finish. */
void rswap_debugfs_dev_remove(struct rswap_dev *dev)
{
	debugfs_remove_recursive(dev->debugfs);
	dev->debugfs = NULL;
}

void rswap_debugfs_fini(void)
{
	debugfs_remove_recursive(rswap_debugfs_dir);
	rswap_debugfs_dir = NULL;
}
