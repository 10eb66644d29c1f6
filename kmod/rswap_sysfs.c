// SPDX-License-Identifier: GPL-2.0
/*
 * rswap_sysfs: /sys/block/rswapN/rswap/
 *
 *   stats            "name value" lines: page operations, bytes on the
 *                    wire, errors, slabs and free slots, copies (replicas,
 *                    degraded_slabs: sets with a copy but fewer live copies
 *                    than replicas; reads_second_copy: pages read from
 *                    another copy than the first; checksum_errors:
 *                    pages read back different from what was written,
 *                    each read again; copies_made,
 *                    copied_pages, copy_failures: new copies made server
 *                    to server for sets short of them), slab-table entries per
 *                    state, reads_relocked (reads that met a writer while
 *                    they read the map without the lock, and read it
 *                    again under it) (like zram's mm_stat, one file read
 *                    in one go gives a consistent-enough set)
 *   servers          one line per server: name, state, slabs, counters
 *   read_latency_us  histogram of RDMA page reads: "<N whole post wait"
 *                    lines, the reads that took under N us (and at least
 *                    N/2) in all, to post their WRs, and from then to
 *                    their last completion; the last line ">N" those that
 *                    took longer. stats' read_latency_sum_us is their
 *                    whole times added up
 *   add_server       write "ADDRESS:PORT [domain=NAME]" or
 *                    "ADDRESS:PORT@NAME" to add a server at runtime
 *                    (copies of a slab go to distinct domains)
 *   remove_server    write ADDRESS:PORT to remove one that holds no slabs
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blkdev.h>
#include <linux/device.h>
#include <linux/sysfs.h>

#include "rswap.h"

static struct rswap_dev *to_rswap(struct device *d)
{
	return dev_to_disk(d)->private_data;
}

static ssize_t stats_show(struct device *d, struct device_attribute *attr, char *buf)
{
	struct rswap_dev *dev = to_rswap(d);
	u32 slabs = 0, in_state[RSWAP_SLAB_NR_STATES] = {}, i, degraded = 0;
	u64 zero, same, remote, free_slots = 0;
	int n = 0;

	read_seqlock_excl(&dev->lock);
	zero = dev->map.zero_pages;
	same = dev->map.same_pages;
	remote = dev->map.remote_pages;
	if (dev->slots_ready) {
		free_slots = dev->slots.free_slots;
		for (i = 0; i < dev->slots.max_slabs; i++)
			in_state[dev->slabs[i].state]++;
		slabs = dev->slots.max_slabs - in_state[RSWAP_SLAB_FREE];
		degraded = dev->replicas.degraded;
	}
	read_sequnlock_excl(&dev->lock);

#define STAT(name, val) \
	(n += sysfs_emit_at(buf, n, "%s %llu\n", name, (unsigned long long)(val)))
	STAT("pages", dev->n_pages);
	STAT("map_bytes", dev->n_pages * sizeof(struct rswap_entry));
	STAT("zero_pages", zero);
	STAT("same_pages", same);
	STAT("remote_pages", remote);
	STAT("stores", rswap_stat_sum(dev, stores));
	STAT("loads", rswap_stat_sum(dev, loads));
	STAT("zero_stores", rswap_stat_sum(dev, zero_stores));
	STAT("same_stores", rswap_stat_sum(dev, same_stores));
	STAT("remote_stores", rswap_stat_sum(dev, remote_stores));
	STAT("discarded_pages", rswap_stat_sum(dev, discards));
	STAT("bytes_sent", rswap_stat_sum(dev, bytes_sent));
	STAT("bytes_received", rswap_stat_sum(dev, bytes_received));
	STAT("rdma_reads", rswap_stat_sum(dev, rdma_reads));
	STAT("rdma_writes", rswap_stat_sum(dev, rdma_writes));
	STAT("read_errors", rswap_stat_sum(dev, read_errors));
	STAT("write_errors", rswap_stat_sum(dev, write_errors));
	STAT("retries", rswap_stat_sum(dev, retries));
	STAT("parked", rswap_stat_sum(dev, requeues));
	STAT("no_free_slot", rswap_stat_sum(dev, no_slot));
	STAT("send_queue_full", rswap_stat_sum(dev, sq_full));
	STAT("request_timeouts", rswap_stat_sum(dev, timeouts));
	STAT("migrated_slabs", rswap_stat_sum(dev, migrated_slabs));
	STAT("migrated_pages", rswap_stat_sum(dev, migrated_pages));
	STAT("migrate_failures", rswap_stat_sum(dev, migrate_failures));
	STAT("slabs_not_moved", rswap_stat_sum(dev, not_moved));
	STAT("reads_second_copy", rswap_stat_sum(dev, reads_second_copy));
	STAT("reads_relocked", rswap_stat_sum(dev, reads_relocked));
	STAT("checksum_errors", rswap_stat_sum(dev, csum_errors));
	STAT("repaired_pages", rswap_stat_sum(dev, repaired_pages));
	STAT("repairs_dropped", rswap_stat_sum(dev, repairs_dropped));
	STAT("copies_made", rswap_stat_sum(dev, copies_made));
	STAT("copied_pages", rswap_stat_sum(dev, copied_pages));
	STAT("copy_failures", rswap_stat_sum(dev, copy_failures));
	STAT("read_latency_sum_us", rswap_stat_sum(dev, read_lat_sum_us));
	STAT("prefetch_bytes", (u64)dev->prefetch.n_chunks * RSWAP_PF_CHUNK * RSWAP_PAGE_SIZE);
	STAT("prefetch_read_pages", rswap_stat_sum(dev, prefetch_read_pages));
	STAT("prefetch_hit_pages", rswap_stat_sum(dev, prefetch_hit_pages));
	STAT("prefetch_dropped_pages", rswap_stat_sum(dev, prefetch_dropped_pages));
	STAT("prefetch_waits", rswap_stat_sum(dev, prefetch_waits));
	STAT("write_overlaps", rswap_stat_sum(dev, write_overlaps));
	STAT("read_overlaps", rswap_stat_sum(dev, read_overlaps));
	STAT("read_claims", rswap_stat_sum(dev, read_claims));
	STAT("replicas", dev->n_replicas);
	STAT("degraded_slabs", degraded);
	STAT("slab_size", dev->slab_size);
	STAT("slabs", slabs);
	STAT("free_slots", free_slots);
	STAT("reserve_slots", rswap_reserve_now(dev));
	/* Slab-table entries per state (rswap_lifecycle.h), e.g. slabs_returning. */
	for (i = RSWAP_SLAB_ACTIVE; i < RSWAP_SLAB_NR_STATES; i++)
		n += sysfs_emit_at(buf, n, "slabs_%s %u\n", rswap_slab_state_name(i), in_state[i]);
#undef STAT
	return n;
}
static DEVICE_ATTR_RO(stats);

/* Pages in use in the slabs @srv holds for us. */
static u64 server_pages(struct rswap_dev *dev, struct rswap_server *srv)
{
	u64 pages = 0;
	u32 i;

	read_seqlock_excl(&dev->lock);
	if (dev->slots_ready)
		for (i = 0; i < dev->slots.max_slabs; i++)
			if (dev->slabs[i].srv == srv && dev->slabs[i].set != RSWAP_NO_SLAB)
				pages += dev->slots.slabs[dev->slabs[i].set].used;
	read_sequnlock_excl(&dev->lock);
	return pages;
}

static ssize_t servers_show(struct device *d, struct device_attribute *attr, char *buf)
{
	struct rswap_dev *dev = to_rswap(d);
	int i, n = 0;

	mutex_lock(&dev->servers_mutex);
	for (i = 0; i < RSWAP_MAX_SERVERS; i++) {
		struct rswap_server *srv = dev->servers[i];

		if (!srv)
			continue;
		n += sysfs_emit_at(buf, n,
				   "%s %s slabs=%d pages=%llu connects=%lld disconnects=%lld grants=%lld returns=%lld refusals=%lld reattached=%lld lost_slabs=%lld keepalive_timeouts=%lld domain=%s qps=%u\n",
				   srv->name, rswap_server_state_name(READ_ONCE(srv->state)),
				   atomic_read(&srv->slabs), server_pages(dev, srv),
				   atomic64_read(&srv->connects),
				   atomic64_read(&srv->disconnects), atomic64_read(&srv->grants),
				   atomic64_read(&srv->returns), atomic64_read(&srv->refusals),
				   atomic64_read(&srv->reattached), atomic64_read(&srv->lost_slabs),
				   atomic64_read(&srv->keepalive_timeouts),
				   srv->domain[0] ? srv->domain : "-", READ_ONCE(srv->nr_qps));
	}
	mutex_unlock(&dev->servers_mutex);
	return n;
}
static DEVICE_ATTR_RO(servers);

static ssize_t read_latency_us_show(struct device *d, struct device_attribute *attr, char *buf)
{
	struct rswap_dev *dev = to_rswap(d);
	int i, n = 0;

	for (i = 0; i < RSWAP_LAT_BUCKETS; i++)
		n += sysfs_emit_at(buf, n, "%s%llu %lld %lld %lld\n",
				   i == RSWAP_LAT_BUCKETS - 1 ? ">" : "<",
				   i == RSWAP_LAT_BUCKETS - 1 ? 1ULL << (i - 1) : 1ULL << i,
				   rswap_stat_sum(dev, read_lat[i]),
				   rswap_stat_sum(dev, read_post[i]),
				   rswap_stat_sum(dev, read_wait[i]));
	return n;
}
static DEVICE_ATTR_RO(read_latency_us);

static ssize_t add_server_store(struct device *d, struct device_attribute *attr,
				const char *buf, size_t len)
{
	return rswap_server_add(to_rswap(d), buf) ?: len;
}
static DEVICE_ATTR_WO(add_server);

static ssize_t remove_server_store(struct device *d, struct device_attribute *attr,
				   const char *buf, size_t len)
{
	return rswap_server_remove(to_rswap(d), buf) ?: len;
}
static DEVICE_ATTR_WO(remove_server);

static struct attribute *rswap_attrs[] = {
	&dev_attr_stats.attr,
	&dev_attr_servers.attr,
	&dev_attr_read_latency_us.attr,
	&dev_attr_add_server.attr,
	&dev_attr_remove_server.attr,
	NULL,
};

static const struct attribute_group rswap_group = {
	.name = "rswap",
	.attrs = rswap_attrs,
};

const struct attribute_group *rswap_dev_groups[] = {
	&rswap_group,
	NULL,
};
