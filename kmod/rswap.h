/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rswap.h: the client's objects and how they fit together.
 *
 *   struct rswap_dev     one /dev/rswapN: blk-mq queue, offset map, slot
 *                        allocator, slab table, the servers it uses
 *   struct rswap_server  one memory server: an RC queue pair per hardware
 *                        queue (one-sided READ/WRITE; the first one also
 *                        control SEND/RECV), its state
 *   struct rswap_slab    one granted slab: (server, remote slab, addr, rkey)
 *   struct rswap_cmd     one block request in flight (blk-mq's pdu, so it
 *                        is preallocated: the write path allocates nothing)
 *   struct rswap_evac    a server's request to move one of our slabs away
 *                        (rswap_migrate.c)
 *
 * Lock order (outermost first; lockdep holds every path to it in the debug
 * kernel, and functions that need a lock assert it):
 *
 *   configfs item lock       (rswap_configfs.c) an item's settings and
 *                            its device, against power and rmdir; its
 *                            servers written while ON take servers_mutex
 *   rswap_devs_mutex         (rswap_devices.c) the list of devices, against
 *                            an RDMA device's removal racing with a
 *                            device's making or removal
 *     dev->servers_mutex     adding and removing servers; refill and the
 *                            choice of a move's target walk dev->servers
 *       srv->ctrl_mutex      one control exchange at a time on one server
 *         dev->setup_mutex   the one-time allocation of the slab table
 *         dev->lock          (seqlock) the map, slot allocator, slab
 *                            table, server states. Every writer takes
 *                            it (write_seqlock); a reader that needs the
 *                            table still while it looks (sysfs, debugfs)
 *                            takes it without moving the sequence
 *                            (read_seqlock_excl); the read path takes
 *                            neither: do_read reads the map and the
 *                            table in a read section (no store to a
 *                            shared line, so readers on many CPUs do not
 *                            contend) and does it again, then under the
 *                            lock, if a writer came in between
 *                            (rswap_dev.c, read_plan). Fields that read
 *                            looks at are stored with WRITE_ONCE
 *           srv->reply_lock, dev->evac_lock  (spinlocks, also in softirq)
 *         dev->batch[q].lock  (spinlock, never in softirq) a hardware
 *                            queue's doorbell batch, only while linking
 *                            or unlinking chains: no lock taken inside
 *
 * A page's bit in dev->writing is a try-lock held for its write request's
 * life (rswap_writes_claim), or a read's that met writes of its pages
 * RSWAP_READS_MET_CLAIM times: taken in queue_rq before dev->lock, never
 * waited for (a request that finds it taken is parked, and so is a read
 * that met it), released when the request ends.
 *
 * dev->header_lock (spinlock, never in softirq) the swap header's copy,
 * page 0: a leaf, taken alone or under dev->lock.
 *
 * Never take servers_mutex under a ctrl_mutex, nor two ctrl_mutexes at
 * once (a move asks the target for a slab and the source for the copy one
 * after the other, each under its own). Control exchanges sleep, so they
 * run only in work items, never in the I/O path; a MIGRATE's long wait for
 * its answer holds no mutex. Completions run in softirq and touch only
 * their rswap_cmd, the reply ring, the QP's send credits and the EVACUATE
 * queue (which queues the move worker).
 *
 * Work items: dev->wq (WQ_MEM_RECLAIM) runs connect, error recovery,
 * keepalive, returns and migration; dev->refill_wq (WQ_MEM_RECLAIM,
 * WQ_HIGHPRI) runs only the refill the write path waits on, so a slow
 * move or connect never delays a grant.
 */
#ifndef RSWAP_H
#define RSWAP_H

#include <linux/blk-mq.h>
#include <linux/completion.h>
#include <linux/inet.h>
#include <linux/llist.h>
#include <linux/mutex.h>
#include <linux/sched/clock.h>
#include <linux/scatterlist.h>
#include <linux/seqlock.h>
#include <linux/socket.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xxhash.h>
#include <rdma/ib_verbs.h>
#include <rdma/rdma_cm.h>

#include "rswap_lifecycle.h"
#include "rswap_map.h"
#include "rswap_prefetch.h"
#include "rswap_repair.h"
#include "rswap_replica.h"
#include "rswap_reserve.h"
#include "rswap_sq.h"
#include "rswap_wire.h"

#define RSWAP_MAX_SERVERS	8
#define RSWAP_DOMAIN_MAX	31	/* characters of a failure domain's name */
/* Pages in one block request: 128 KiB, the largest single RDMA WRITE. */
#define RSWAP_MAX_SEGS		32
#define RSWAP_MAX_QUEUE_DEPTH	1024
#define RSWAP_SECTORS_PER_PAGE	(RSWAP_PAGE_SIZE >> SECTOR_SHIFT)
/* Control messages: RECVs kept posted, and replies buffered for a waiter. */
#define RSWAP_CTRL_RECVS	8
#define RSWAP_CTRL_REPLIES	32
/* A failed request is retried this often (new slots, new connection). */
#define RSWAP_MAX_RETRIES	8
/*
 * A read that met a write of its pages is read again without a try
 * counted (rswap_read_met_write); after this many, it claims its pages as
 * a write does (rswap_writes_claim), so writes of them wait for it and it
 * meets none again: a page rewritten without pause cannot starve a read.
 */
#define RSWAP_READS_MET_CLAIM	4
#define RSWAP_LAT_BUCKETS	20	/* read latency: < 2^i microseconds */
/* EVACUATEs waiting for the migration worker: up to RSWAP_MOVES_IN_FLIGHT a server */
#define RSWAP_EVAC_QUEUE	(2 * RSWAP_MOVES_IN_FLIGHT * RSWAP_MAX_SERVERS)

struct rswap_dev;
struct dentry;

struct rswap_ctrl_msg {
	u8 buf[RSWAP_MSG_MAX];
	u64 dma;
	struct ib_cqe cqe;
	struct rswap_server *srv;
};

/*
 * One RC queue pair to a server, with its own CQ. qps[0] is the connection
 * the server authenticates, and carries the control messages too; the
 * others attach to it (struct rswap_attach) and carry only READ and WRITE.
 */
struct rswap_qp {
	struct rswap_server *srv;
	unsigned int queue;		/* index in srv->qps */
	struct rdma_cm_id *cm_id;
	struct ib_cq *cq;		/* the device's CQ pool's, shared (qp_connect) */
	unsigned int cq_entries;	/* what it holds for this QP */
	struct completion cm_done;
	int cm_error;
	bool connected;			/* established (dev->wq only) */
	bool established;		/* ESTABLISHED seen (cm_handler), until torn down */
	/*
	 * Send queue slots not taken by a posted WR: set when the QP is made,
	 * taken before every ib_post_send, given back by each completion.
	 * A request that finds too few waits (BLK_STS_RESOURCE-like requeue),
	 * so a full send queue is never mistaken for a dead server.
	 */
	atomic_t sq_credits;
	unsigned int sq_depth;		/* WRs its send queue holds */
	/*
	 * Requests whose chain was posted only in part: its posted WRs have
	 * no signaled one, so only the QP's drain says they are done
	 * (qp_teardown ends them after ib_drain_qp; wrs_unposted).
	 */
	struct llist_head orphans;
	atomic64_t posted;		/* RDMA WRs posted on it, over all connections */
	atomic64_t doorbells;		/* the ib_post_send calls that posted them */
};

struct rswap_server {
	struct rswap_dev *dev;
	int idx;
	char name[64];			/* "addr:port", as the administrator wrote it */
	char domain[RSWAP_DOMAIN_MAX + 1];	/* failure domain (domain=), or "" */
	struct sockaddr_storage addr;

	/* the connection: queue pairs in one PD; rebuilt on reconnect */
	struct ib_pd *pd;
	struct rswap_qp *qps;		/* one per hardware queue of the device */
	unsigned int max_qps;		/* entries in qps */
	unsigned int nr_qps;		/* connected; hardware queue i posts on qps[i % nr_qps] */
	enum rswap_server_state state;	/* written under dev->lock, by srv_set_state only */
	u32 epoch;			/* bumped at every connect: marks what it listed */
	bool connected_once;		/* since the load: later HELLOs are not FRESH */

	/* control messages */
	struct mutex ctrl_mutex;
	struct rswap_ctrl_msg recv[RSWAP_CTRL_RECVS];
	struct rswap_ctrl_msg send;
	struct completion send_done;
	spinlock_t reply_lock;
	wait_queue_head_t reply_wait;
	u8 replies[RSWAP_CTRL_REPLIES][RSWAP_MSG_MAX];
	unsigned int reply_head, reply_tail;
	bool ctrl_broken;		/* a bad message or a failed RECV */
	u32 seq;
	/*
	 * Answers to MIGRATEs, which can take minutes: recv_done puts an
	 * answer whose seq is one of these here (under reply_lock), so the
	 * waits hold no mutex and other control exchanges go on meanwhile.
	 * Only the migration worker starts and waits for them.
	 */
	struct rswap_migrate_slot {
		u32 seq;		/* 0: free */
		bool answered;
		u8 reply[RSWAP_MSG_MAX];
	} migrates[RSWAP_MOVES_IN_FLIGHT];

	/* what the server told us */
	u8 token[RSWAP_TOKEN_LEN];	/* attach token: also lent to a server copying a slab here */
	u8 server_id[RSWAP_ID_LEN];
	bool have_server_id;
	u64 slab_size;
	u32 quota;
	u32 free_hint;			/* slabs it could still grant us (refused: 0) */
	unsigned long hint_at;		/* jiffies when free_hint was last learnt */

	/* reconnect */
	struct delayed_work connect_work;
	struct work_struct error_work;
	struct delayed_work keepalive_work;	/* KEEPALIVE while READY */
	unsigned int backoff_ms;
	unsigned long down_since;	/* jiffies */

	/* counters */
	atomic_t slabs;			/* slabs of ours it holds */
	atomic64_t connects, disconnects, grants, returns, refusals, reattached, lost_slabs;
	atomic64_t keepalive_timeouts;
};

/*
 * One slab-table entry; its life is in rswap_lifecycle.h. An entry the map
 * can reach is a copy of a logical slab (rswap_replica.h): copy @copy of
 * set @set. The map names the set, whose index is its first copy's entry
 * (the primary: @set == its own index), which also keeps the set's used
 * slots; other copies are mirrors. Entries of no set (a move's FILLING
 * target, a slab to give back) have @set RSWAP_NO_SLAB.
 */
struct rswap_slab {
	enum rswap_slab_state state;	/* changed by slab_set_state only */
	u32 epoch;			/* srv->epoch when its server last listed it */
	struct rswap_server *srv;
	u32 remote;			/* the server's slab number */
	u32 rkey;
	u64 addr;
	u32 set;			/* the logical slab it is a copy of */
	u8 copy;			/* its position in the set */
	u8 width;			/* primary: copies the set was made with */
	bool filling;			/* primary: a new copy is being made (rswap_copies.c) */
};

/* A new copy being made for a set (rswap_copies.c). */
struct rswap_copy_job {
	u32 set;			/* the set (its primary's entry) */
	u32 copy;			/* the position the copy takes */
	u32 src;			/* entry of the LIVE copy it is filled from */
	struct rswap_server *src_srv;
	u32 src_remote;
	u8 width;			/* the set's width before */
};

/*
 * The device's counters, a set per CPU: the request path adds to its own
 * CPU's (rswap_stat_add, no shared cache line), sysfs sums them
 * (rswap_stat_sum).
 */
struct rswap_stats {
	u64 stores, loads, zero_stores, same_stores, remote_stores;
	u64 discards, bytes_sent, bytes_received, rdma_reads, rdma_writes;
	u64 read_errors, write_errors, retries, requeues, no_slot, sq_full, timeouts;
	u64 migrated_slabs, migrated_pages, migrate_failures, not_moved;
	u64 reads_second_copy;		/* pages read from a copy other than the first */
	u64 reads_relocked;		/* reads planned again under dev->lock (do_read) */
	u64 csum_errors;		/* pages read whose checksum was wrong */
	u64 copies_made, copied_pages, copy_failures;	/* rswap_copies.c */
	/* rswap_prefetch.c: pages read ahead, handed out, never handed out */
	u64 prefetch_read_pages, prefetch_hit_pages, prefetch_dropped_pages;
	u64 prefetch_waits;	/* times a read request waited for a chunk */
	u64 write_overlaps;	/* writes, discards that waited for an earlier write */
	u64 read_overlaps;	/* pages read again: they met a write of theirs */
	u64 read_claims;	/* reads that met RSWAP_READS_MET_CLAIM writes and claimed */
	/* rswap_repair.c: pages whose bad copy was written again; repairs not made */
	u64 repaired_pages, repairs_dropped;
	u64 read_lat_sum_us;		/* the reads' whole times added up */
	u64 read_lat[RSWAP_LAT_BUCKETS];	/* whole read */
	u64 read_post[RSWAP_LAT_BUCKETS];	/* queue_rq to WRs posted */
	u64 read_wait[RSWAP_LAT_BUCKETS];	/* posted to last completion */
};

#define rswap_stat_add(dev, field, n)	this_cpu_add((dev)->stats->field, (n))
#define rswap_stat_inc(dev, field)	this_cpu_inc((dev)->stats->field)
#define rswap_stat_sum(dev, field) ({					\
	u64 __sum = 0;							\
	int __cpu;							\
									\
	for_each_possible_cpu(__cpu)					\
		__sum += per_cpu_ptr((dev)->stats, __cpu)->field;	\
	__sum;								\
})

/*
 * The clock of the reads' latency stats: local_clock(), the scheduler's
 * clock (the TSC where the CPU has one). ktime_get() reads the clocksource,
 * which in a guest without a stable TSC is the emulated HPET, a VM exit
 * each time, and a read over the wire took three. (In such a guest
 * read_hpet is a fifth of a 4-job fio run's samples, bench/scaling.sh,
 * mostly fio's clock and blk-mq's stamps, not ours.)
 * Two CPUs' local_clock() may differ by a little, so
 * a read ended on another CPU than it started on may look shorter than it
 * was; rswap_clock_us() counts such a span as 0, never as a wrap.
 */
static inline ktime_t rswap_clock(void)
{
	return ns_to_ktime(local_clock());
}

static inline u64 rswap_clock_us(ktime_t from, ktime_t to)
{
	return max_t(s64, ktime_us_delta(to, from), 0);
}

/*
 * What a device is made from: the module parameters (rswap0, at load) or
 * a configfs item (rswap_configfs.c). rswap_devices.c checks it and makes
 * the device; the strings are only read while it does.
 */
struct rswap_dev_config {
	u64 bytes;			/* size= */
	bool ram;			/* backend=ram */
	unsigned int replicas;
	unsigned int queue_depth;	/* per hardware queue */
	unsigned int loss_timeout;	/* seconds; 0: the module parameter's, read when used */
	const char *servers;		/* "ADDRESS:PORT[@DOMAIN],...", or NULL */
	const char *key_file;
	const char *client_id;		/* NULL or "": host name and device */
};

/* A hardware queue's requests in flight per I/O generation (rswap_dev.io_gen). */
struct rswap_io_count {
	atomic_t n[2];
} ____cacheline_aligned_in_smp;

struct rswap_dev {
	struct list_head list;		/* in rswap_devices.c's list, under its mutex */
	int id;
	char name[DISK_NAME_LEN];
	u64 n_pages;
	struct gendisk *disk;
	struct blk_mq_tag_set tag_set;
	struct workqueue_struct *wq;	/* WQ_MEM_RECLAIM: makes progress under pressure */
	struct workqueue_struct *refill_wq;	/* refill only: the write path waits on it */

	seqlock_t lock;			/* see "dev->lock" in the lock order above */
	struct rswap_map map;
	/* a bit per page: a write of it in flight, or a claimed read (rswap_writes_claim) */
	unsigned long *writing;
	/* a bit per page: a read waits to claim it; new writes let it go first */
	unsigned long *read_wants;
	atomic_t reads_wanting;		/* reads with bits in read_wants */
	atomic_t overlaps_parked;	/* requests parked for one: kicked at release */
	struct rswap_slots slots;	/* set up at the first WELCOME */
	bool slots_ready;
	struct mutex setup_mutex;	/* the first WELCOME's allocation */
	struct rswap_slab *slabs;	/* slots.max_slabs entries */
	struct rswap_replicas replicas;	/* the copy sets, indexed like slabs */
	u32 n_replicas;			/* copies wanted per set (replicas=) */
	bool degraded_said;		/* "fewer copies than replicas=" logged */
	bool copies_wanted;		/* rswap_copies_kick: look for sets short of copies */
	bool copies_stuck_said;		/* "no other server can take one" logged */
	unsigned long copies_retry_at;	/* jiffies: copies failed, try again; 0: none */
	unsigned long copies_retry_delay;	/* the wait before it, doubling (the worker's) */
	u32 pages_per_slab;
	u64 slab_size;

	struct mutex servers_mutex;	/* adding and removing servers */
	struct rswap_server *servers[RSWAP_MAX_SERVERS];

	u32 max_sge;			/* pages in one WRITE, over all servers */
	u32 max_sge_rd;			/* pages in one READ (devices may allow fewer) */
	u64 csum_seed;			/* random: each device's page checksums its own */
	void *ram;			/* backend=ram: the pages, by offset (rswap_ram.c) */
	/*
	 * Page 0 (the swap header) lives here, not in the pool: swapon reads
	 * it, and the rest of the device can be dropped after swapoff.
	 */
	void *header;
	spinlock_t header_lock;	/* see the lock order above */
	bool no_room;			/* no server can grant: writes fail at once */
	struct rswap_reserve_est reserve_est;	/* under lock: the write rate, a grant's time */
	u64 reserve_pages;		/* under lock: free slots to keep (rswap_reserve.h) */
	u8 client_id[RSWAP_ID_LEN];	/* derived from client_id= (rswap_dev_create) */
	/* the text it comes from (client_id=, or host name:device), for messages */
	char client_id_text[RSWAP_CLIENT_ID_MAX + 1];
	int openers;			/* under lock: no reserve kept while closed */
	bool closing;			/* under lock: going away, opens refused */
	bool remove_when_closed;	/* under lock: its configfs item is gone (rmdir) */
	bool dying;
	struct crypto_shash *hmac;	/* this client's key (key_file=), for the handshake */
	unsigned int loss_timeout;	/* seconds; 0: rswap_loss_timeout's */

	struct work_struct refill_work;
	struct delayed_work reserve_work;	/* a doubled reserve halves when calm */
	struct work_struct return_work;
	struct rswap_stats __percpu *stats;

	/*
	 * I/O generations: a request counts itself in io_gen from the moment
	 * it reads the slab table (under lock, or in a read section of it that
	 * was not retried) to its completion, in its hardware queue's counter
	 * (a line of its own: no count shared by every CPU). A slab move bumps
	 * io_gen and waits for the old generation to drain on every queue, so
	 * no WRITE into a frozen slab, or READ of a moved slab's old copy, is
	 * still in flight (rswap_io_quiesce).
	 */
	unsigned int io_gen;		/* written under lock */
	struct rswap_io_count *io_inflight;	/* nr_cpu_ids of them: by hardware queue */
	struct rswap_batch *batch;	/* nr_cpu_ids of them: by hardware queue */
	wait_queue_head_t io_wait;

	/* slabs servers asked us to move (rswap_migrate.c) */
	spinlock_t evac_lock;
	struct rswap_evac {
		struct rswap_server *srv;
		u32 remote;
		u32 reason;
	} evac[RSWAP_EVAC_QUEUE];
	unsigned int evac_head, evac_tail;
	/* the worker's own: requests for servers not READY yet, put back */
	struct rswap_evac evac_later[RSWAP_EVAC_QUEUE];
	struct work_struct migrate_work;
	struct rswap_prefetch prefetch;	/* rswap_prefetch.c: sequential swap-in read ahead */
	struct rswap_repair repair;	/* rswap_repair.c: bad copies written again */
	struct dentry *debugfs;		/* rswap_debugfs.c: the slab table */
};

/*
 * A request's WRs to one server, posted together with one ib_post_send;
 * only the last is signaled (post_wrs). Its completion recovers the chain
 * with container_of, and gives back the chain's send credits.
 */
struct rswap_chain {
	struct ib_cqe cqe;		/* the last WR's */
	struct rswap_cmd *cmd;
	struct rswap_server *srv;
	struct ib_rdma_wr *head, *tail;
	struct rswap_chain *next;	/* in its hardware queue's doorbell batch */
	struct rswap_qp *q;		/* its credits' queue pair, of connection... */
	u32 epoch;			/* ...srv->epoch: posted only on that one */
	u8 wrs;				/* WRs in it: the send credits it holds */
};

/*
 * Chains a hardware queue's requests made since its last doorbell: the
 * block layer said more requests were coming (bd->last false), so they wait
 * to go with the last one's, one ib_post_send per queue pair (post_batch in
 * rswap_dev.c). Its own cache line, under its own lock: requests of one
 * hardware queue may be dispatched from more than one CPU at once.
 */
struct rswap_batch {
	spinlock_t lock;		/* head, tail and the chains' next */
	struct rswap_chain *head, *tail;
} ____cacheline_aligned_in_smp;

/*
 * The pages of a request that go through one RDMA device, mapped for it
 * with one ib_dma_map_sg: entries start.. start + n - 1 of cmd->sgl, page
 * by page in page order (map_wrs).
 */
struct rswap_dma_map {
	struct ib_device *ibdev;
	u32 pages;			/* bit i: page i is in it */
	u8 start;
	u8 n;
	bool mapped;			/* ib_dma_map_sg succeeded: unmapped at the end */
};

/* WRs of one request: one per run of slots, per copy it goes to. */
#define RSWAP_CMD_MAX_WRS	(RSWAP_MAX_REPLICAS * RSWAP_MAX_SEGS)
#define RSWAP_WR_NO_MAP		0xff	/* cmd->wr_map[k]: WR k does not go */
/*
 * Chains of one request: one per server, and one more for each
 * RSWAP_SQ_REQ_MAX_WRS WRs to one server (a chain never needs more send
 * credits than an idle QP has).
 */
#define RSWAP_CMD_MAX_CHAINS	(RSWAP_MAX_SERVERS + RSWAP_CMD_MAX_WRS / RSWAP_SQ_REQ_MAX_WRS)

struct rswap_cmd {
	struct rswap_dev *dev;
	/* the completion of an unsignaled WR: only ever a failed one */
	struct ib_cqe unsignaled_cqe;
	unsigned int queue;		/* its hardware queue: picks the QP */
	atomic_t pending;		/* signaled WRs in flight, orphans, + 1 while posting */
	bool failed;
	bool server_down;		/* failed because a server went away */
	bool sq_full;			/* a send queue had no room: try again, no retry counted */
	bool prefetch;			/* a read ahead of our own (rswap_prefetch.c) */
	bool claimed;			/* its pages' bits in dev->writing are set (a write's, */
					/* or a read's that met RSWAP_READS_MET_CLAIM writes) */
	bool overlap_parked;		/* counted in dev->overlaps_parked */
	bool wanting;			/* read: its pages marked in dev->read_wants */
	/* on a WANTED or LOADING chunk's waiters (rswap_prefetch.c), under its lock */
	struct list_head pf_wait;
	struct rswap_repair_slot *repair;	/* a read-repair's write (rswap_repair.c) */
	u8 retries;
	u8 reads_met;			/* tries given back: the read met a write */
	u32 writes_at_plan;		/* read: its pages with a write in flight at its plan */
	u16 tries;			/* times queue_rq saw it (requeues included) */
	u8 nr_segs;
	u8 nr_wrs;
	u8 nr_remote;			/* pages moved by RDMA */
	u8 nr_lost;			/* pages that fail alone with EIO */
	u8 nr_second;			/* read: pages from a copy other than the first */
	u8 gen;				/* counted in dev->io_inflight[io_queue].n[gen] */
	u16 io_queue;
	ktime_t submitted;		/* first seen by queue_rq (0: not traced then) */
	ktime_t waited_since;		/* read: first left waiting for a chunk (0: never) */
	ktime_t start;
	ktime_t posted;			/* its WRs were posted */
	/* per page of the request */
	struct {
		struct page *page;
		u64 word;			/* read: fill the page with it */
		bool fill;
		bool header;			/* page 0, kept in dev->header */
		bool lost;			/* read: its server lost it */
		bool check;			/* read: remote, its checksum is checked */
		u8 srv;				/* read: the server (idx) it is read from */
		u8 bad_servers;			/* read: servers (by idx) that gave it a wrong checksum */
		u32 csum;			/* its checksum (rswap_page_csum) */
		struct rswap_entry entry;	/* read, remote: the entry it was read by */
	} seg[RSWAP_MAX_SEGS];
	/* scatter lists: sge[c][i] is page i in the WRs of copy c */
	struct ib_sge sge[RSWAP_MAX_REPLICAS][RSWAP_MAX_SEGS];
	/*
	 * RDMA WRs: one per run of consecutive slots of one slab, per copy
	 * it goes to (writes go to every copy of the set, reads to one).
	 */
	struct ib_rdma_wr wr[RSWAP_CMD_MAX_WRS];
	struct rswap_server *wr_srv[RSWAP_CMD_MAX_WRS];
	u8 wr_seg[RSWAP_CMD_MAX_WRS];	/* first page of each WR */
	u8 wr_copy[RSWAP_CMD_MAX_WRS];	/* its scatter list */
	u8 wr_map[RSWAP_CMD_MAX_WRS];	/* its DMA mapping, or RSWAP_WR_NO_MAP */
	/* posting (post_wrs): a chain per server, a mapping per RDMA device */
	u8 nr_chains;
	u8 nr_maps;
	bool orphaned;			/* on a QP's orphans list (wrs_unposted) */
	struct llist_node orphan;
	struct rswap_chain chain[RSWAP_CMD_MAX_CHAINS];
	struct rswap_dma_map map[RSWAP_MAX_SERVERS];
	/*
	 * Every (page, RDMA device) pair a request maps: a page goes to at
	 * most RSWAP_MAX_REPLICAS servers. sgl_dma[] is each entry's page's
	 * DMA address, split out of the segments an IOMMU may have merged.
	 */
	struct scatterlist sgl[RSWAP_MAX_REPLICAS * RSWAP_MAX_SEGS];
	u64 sgl_dma[RSWAP_MAX_REPLICAS * RSWAP_MAX_SEGS];
};

/* module parameters (rswap_main.c) */
extern unsigned int rswap_loss_timeout;
extern unsigned int rswap_reserve_slabs;

/* The largest slab a server may grant: a slab table's worst case. */
#define RSWAP_MAX_SLAB_SIZE	(1ULL << 30)
/* reserve_slabs counts up to this many slabs (the slab table has room for them). */
#define RSWAP_RESERVE_SLABS_MAX	64

static inline unsigned int rswap_reserve_slabs_now(void)
{
	return clamp(READ_ONCE(rswap_reserve_slabs), 1u, (unsigned int)RSWAP_RESERVE_SLABS_MAX);
}

/*
 * Slab-table entries beyond twice the device's pages, per copy, at most:
 * the reserve, and a slab per server and set being moved or filled; one
 * more for rounding the device up to whole slabs (rswap_slabs_setup).
 */
#define RSWAP_TABLE_SPARE_SLABS	(RSWAP_RESERVE_SLABS_MAX + 2 * RSWAP_MAX_SERVERS + 2)
extern unsigned int rswap_moves_in_flight;
extern unsigned int rswap_prefetch_kib;
extern bool rswap_stable_writes;
unsigned int rswap_moves_batch(void);

/* rswap_devices.c: the module's devices, made from a config */
#define RSWAP_MAX_DEVICES	16	/* rswap0..rswap15 */
int rswap_config_check(const struct rswap_dev_config *cfg, const char *who);
int rswap_device_up(const struct rswap_dev_config *cfg, int id, struct rswap_dev **out);
int rswap_device_down(struct rswap_dev *dev);
void rswap_device_orphan(struct rswap_dev *dev);
void rswap_devices_reap(void);
int rswap_devices_init(void);
void rswap_devices_exit(void);
/* The module parameters' replicas= and queue_depth=: a new item's defaults. */
void rswap_config_defaults(unsigned int *replicas, unsigned int *queue_depth);

/* rswap_configfs.c: devices made at run time in /sys/kernel/config/rswap/ */
#if IS_ENABLED(CONFIG_CONFIGFS_FS)
int rswap_configfs_init(void);
void rswap_configfs_exit(void);
#else
static inline int rswap_configfs_init(void)
{
	pr_info("no configfs in this kernel: only the module parameters' device\n");
	return 0;
}

static inline void rswap_configfs_exit(void)
{
}
#endif

/* Seconds a server of @dev may be away before its pages count as lost. */
static inline unsigned int rswap_dev_loss_timeout(const struct rswap_dev *dev)
{
	return dev->loss_timeout ?: READ_ONCE(rswap_loss_timeout);
}

/* rswap_dev.c: the block device */
int rswap_dev_create(int id, const struct rswap_dev_config *cfg, struct rswap_dev **out);
int rswap_dev_close_for_removal(struct rswap_dev *dev);
void rswap_end_pages(struct rswap_cmd *cmd, struct request *rq);
void rswap_end_rq(struct rswap_cmd *cmd, struct request *rq, blk_status_t st);
void rswap_write_prepare(struct rswap_dev *dev, struct rswap_cmd *cmd, u64 off);
void rswap_read_fill(struct rswap_dev *dev, struct rswap_cmd *cmd);
/* Requests that waited for the drain of a QP they posted part of a chain to. */
void rswap_cmds_drained(struct llist_node *list);
void rswap_batch_purge(struct rswap_server *srv);
extern bool rswap_doorbell_batch;

/* The checksum of a page to or from the servers (rswap_entry_csum). */
static inline u32 rswap_page_csum(const struct rswap_dev *dev, const void *page)
{
	return (u32)xxh64(page, RSWAP_PAGE_SIZE, dev->csum_seed);
}

/* rswap_ram.c: backend=ram, pages kept in host memory (benchmarking only) */
int rswap_ram_init(struct rswap_dev *dev);
void rswap_ram_fini(struct rswap_dev *dev);
blk_status_t rswap_ram_rq(struct rswap_dev *dev, struct request *rq, struct rswap_cmd *cmd,
			  u64 off);
void rswap_dev_destroy(struct rswap_dev *dev);
void rswap_dev_unregister(void);
extern const struct attribute_group *rswap_dev_groups[];

/* rswap_server.c: connections and the control protocol */
int rswap_parse_addr(const char *name, struct sockaddr_storage *addr);
int rswap_parse_server(const char *spec, char *name, size_t name_len, char *domain,
		       struct sockaddr_storage *addr);
int rswap_server_add(struct rswap_dev *dev, const char *name);
int rswap_server_remove(struct rswap_dev *dev, const char *name);
int rswap_servers_text(struct rswap_dev *dev, char *buf, size_t size);
void rswap_server_destroy(struct rswap_server *srv);
void rswap_server_stop(struct rswap_server *srv);
void rswap_server_free(struct rswap_server *srv);
int rswap_server_grant(struct rswap_server *srv, u32 set, u32 copy);
int rswap_server_grant_many(struct rswap_server *srv, u32 want, u32 *sets);
int rswap_server_grant_slab(struct rswap_server *srv, u32 *remote);
int rswap_server_grant_copy(struct rswap_server *srv, u32 set, u32 copy, u32 *remote);
int rswap_server_return(struct rswap_server *srv, u32 remote);
int rswap_server_return_unknown(struct rswap_server *srv, u32 remote);
/* A MIGRATE sent, whose answer rswap_server_migrate_wait waits for. */
struct rswap_migrate_ticket {
	u32 slot;			/* in the source's migrates[] */
	u32 epoch;			/* the source's connection it went out on */
	u32 remote;			/* the source's slab */
	struct rswap_server *target;
	unsigned long deadline;		/* jiffies */
};
int rswap_server_migrate_start(struct rswap_server *src, u32 remote, u32 idx,
			       struct rswap_server *target, u32 tidx, u32 tremote,
			       struct rswap_migrate_ticket *t);
int rswap_server_migrate_wait(struct rswap_server *src, struct rswap_migrate_ticket *t);
void rswap_server_not_moved(struct rswap_server *srv, u32 remote, u32 code);
bool rswap_server_usable(struct rswap_server *srv);
/*
 * The QP hardware queue @queue posts on; only while the server is READY
 * (under rcu_read_lock: see rswap_conn_recover_locked).
 */
static inline struct rswap_qp *rswap_server_qp(struct rswap_server *srv, unsigned int queue)
{
	return &srv->qps[queue % READ_ONCE(srv->nr_qps)];
}
void rswap_server_fail(struct rswap_server *srv);
void rswap_servers_destroy(struct rswap_dev *dev);
void rswap_servers_wake(struct rswap_dev *dev);
void rswap_servers_device_removed(struct rswap_dev *dev, struct ib_device *ibdev);

/* rswap_slabs.c: the slab table (its lifecycle: rswap_lifecycle.h), the free-slot reserve, placement */
int rswap_slabs_setup(struct rswap_dev *dev, u64 slab_size);
void rswap_slabs_fini(struct rswap_dev *dev);
int rswap_slab_add(struct rswap_dev *dev, struct rswap_server *srv, u32 remote, u32 rkey,
		   u64 addr, enum rswap_slab_state st, u32 set, u32 copy);
u32 rswap_slab_copy_servers(struct rswap_dev *dev, u32 idx);
int rswap_slab_read_copy(struct rswap_dev *dev, u32 set, unsigned int queue, int prefer, u32 avoid_srv,
			 const struct rswap_slab **slab, struct rswap_server **srv);
void rswap_slabs_detach(struct rswap_dev *dev, struct rswap_server *srv);
void rswap_slabs_lose(struct rswap_dev *dev, struct rswap_server *srv);
void rswap_slabs_sweep_unlisted(struct rswap_dev *dev, struct rswap_server *srv);
void rswap_slabs_activate(struct rswap_dev *dev, struct rswap_server *srv);
void rswap_slabs_forget_server(struct rswap_dev *dev, struct rswap_server *srv);
int rswap_slab_reattach(struct rswap_dev *dev, struct rswap_server *srv, u32 remote,
			u32 rkey, u64 addr);
void rswap_slot_release(struct rswap_dev *dev, const struct rswap_entry *old);
bool rswap_writes_claim(struct rswap_dev *dev, struct rswap_cmd *cmd, u64 off);
void rswap_writes_release(struct rswap_dev *dev, struct rswap_cmd *cmd, u64 off);
void rswap_read_note_writes(struct rswap_dev *dev, struct rswap_cmd *cmd, u64 off);
bool rswap_read_met_write(struct rswap_cmd *cmd, unsigned int i, u64 off);
void rswap_read_met_park(struct rswap_cmd *cmd, struct request *rq, u64 off, unsigned int met);
void rswap_reserve_check(struct rswap_dev *dev);
void rswap_slabs_return_all(struct rswap_dev *dev);
void rswap_drop_swap_area(struct rswap_dev *dev);
bool rswap_slabs_release_server(struct rswap_dev *dev, struct rswap_server *srv);
void rswap_refill_work(struct work_struct *work);
u64 rswap_reserve_now(struct rswap_dev *dev);
void rswap_reserve_work(struct work_struct *work);
void rswap_return_work(struct work_struct *work);
struct rswap_server *rswap_pick_server(struct rswap_dev *dev, u32 except_mask);
struct rswap_server *rswap_place_copy(struct rswap_dev *dev, u32 idx, bool moving,
				      enum rswap_place_policy policy, bool *same_domain, int *err);
int rswap_slab_find(struct rswap_dev *dev, struct rswap_server *srv, u32 remote);
int rswap_slab_freeze(struct rswap_dev *dev, u32 idx, struct rswap_server *srv, u32 remote);
void rswap_slab_unfreeze(struct rswap_dev *dev, u32 idx, struct rswap_server *srv, u32 remote);
void rswap_slab_filled_done(struct rswap_dev *dev, u32 idx, struct rswap_server *srv,
			    u32 remote);
void rswap_slab_used_map(struct rswap_dev *dev, u32 idx, u32 first, u8 *bits, size_t len);
bool rswap_slab_move(struct rswap_dev *dev, u32 idx, struct rswap_server *src, u32 remote,
		     u32 tidx, struct rswap_server *target, u32 tremote);
bool rswap_slab_give_back(struct rswap_dev *dev, u32 idx, struct rswap_server *srv, u32 remote);
int rswap_io_quiesce(struct rswap_dev *dev);

/* rswap_migrate.c: moving slabs between servers when one asks */
void rswap_evacuate_request(struct rswap_server *srv, u32 remote, u32 reason);
void rswap_evacuate_forget(struct rswap_server *srv);
void rswap_migrate_work(struct work_struct *work);
bool rswap_evac_waiting(struct rswap_dev *dev);

u32 rswap_slabs_wanting_copies(struct rswap_dev *dev);
bool rswap_slab_copy_begin(struct rswap_dev *dev, u32 *from, struct rswap_copy_job *job);
bool rswap_slab_copy_end(struct rswap_dev *dev, const struct rswap_copy_job *job, int tidx,
			 struct rswap_server *target, u32 tremote, bool ok);

/* rswap_copies.c: new copies for sets that lost one, or were made with too few */
void rswap_copies_kick(struct rswap_dev *dev);
void rswap_copies_retry_due(struct rswap_dev *dev);
void rswap_copies_repair(struct rswap_dev *dev);
int rswap_grant_target(struct rswap_dev *dev, u32 idx, struct rswap_server **target,
		       u32 *tremote, u32 set, u32 copy);

/* rswap_debugfs.c: fault-injection knobs, all off by default */
extern bool rswap_fault_returns;
extern u32 rswap_fault_move_fill_delay_ms;
extern u32 rswap_fault_move_swap_delay_ms;
extern u32 rswap_fault_sq_depth_max;
extern atomic_t rswap_fault_corrupt_reads;
extern u32 rswap_fault_grant_delay_ms;
void rswap_fault_grant_delay(const struct rswap_server *srv);
extern atomic_t rswap_fault_partial_posts;
extern atomic_t rswap_fault_read_races;
extern atomic_t rswap_fault_read_meets;
extern atomic_t rswap_fault_read_tears;
extern u32 rswap_fault_prefetch_delay_ms;
extern bool rswap_fault_hold_writes;
void rswap_fault_delay(u32 ms, const char *what, u32 remote, const struct rswap_server *target);
void rswap_debugfs_init(void);
void rswap_debugfs_fini(void);
void rswap_debugfs_dev_add(struct rswap_dev *dev);
void rswap_debugfs_dev_remove(struct rswap_dev *dev);

/* rswap_auth.c: the pre-shared key and HMAC-SHA256 proofs */
struct crypto_shash *rswap_auth_load_key(const char *path);
int rswap_auth_client_id(const char *text, u8 id[RSWAP_ID_LEN]);
int rswap_auth_mac(struct crypto_shash *hmac, const char *label, const u8 *first,
		   const u8 *second, const u8 *client_id, const u8 *server_id,
		   const struct rswap_auth_binding *b, u8 mac[RSWAP_MAC_LEN]);
int rswap_auth_binding(struct rdma_cm_id *cm_id, struct rswap_auth_binding *b);

#endif
