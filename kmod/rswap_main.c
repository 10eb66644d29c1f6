// SPDX-License-Identifier: GPL-2.0
/*
 * rswap: remote-memory swap over RDMA, client module.
 *
 *   modprobe rswap size=4G key_file=/etc/rswap/key \
 *           servers=192.0.2.10:7471,192.0.2.11:7471
 *   mkswap /dev/rswap0 && swapon --discard=pages /dev/rswap0
 *
 * Loading checks every parameter first and refuses with one kernel log line
 * and -EINVAL, so a bad configuration never leaves a half-made device.
 * Without size= (and the other device parameters) no device is made at
 * load: devices are made at run time in configfs (rswap_configfs.c), each
 * with its own settings, through the same checks (rswap_devices.c).
 * Servers connect in the background; more can be added (and idle ones
 * removed) at runtime through /sys/block/rswap0/rswap/{add,remove}_server.
 * The module cannot be unloaded while the device is open (swapped on).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/init.h>
#include <linux/build_bug.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <rdma/ib_verbs.h>

#include "rswap.h"

static char *size;
module_param(size, charp, 0444);
MODULE_PARM_DESC(size, "Size of /dev/rswap0, e.g. 4G (required; a multiple of 4K)");

static char *servers;
module_param(servers, charp, 0444);
MODULE_PARM_DESC(servers,
		 "Memory servers, ADDRESS:PORT[@DOMAIN][,...]: copies of a slab go to distinct failure domains where they can");

static char *backend;
module_param(backend, charp, 0444);
MODULE_PARM_DESC(backend,
		 "Where pages go: rdma (the default: the servers) or ram (benchmarking only: this host's memory, allocated at load, no servers; compares the module's own cost with brd and null_blk)");

static char *key_file;
module_param(key_file, charp, 0444);
MODULE_PARM_DESC(key_file, "File with this client's own key, made by rswapctl client-key from the pool key and client_id (required)");

static char *client_id;
module_param(client_id, charp, 0444);
MODULE_PARM_DESC(client_id,
		 "This client's identity to the servers, stable across reboots (rswap-client passes /etc/machine-id and the device; default: host name and device)");

/*
 * As NVMe over Fabrics' ctrl_loss_tmo (600 s): a server or link that goes
 * away is waited for that long, with reads of its pages blocked, before
 * they fail with EIO (and their processes get SIGBUS). Shorter trades
 * blocked processes for lost ones sooner.
 */
unsigned int rswap_loss_timeout = 600;
module_param_named(loss_timeout, rswap_loss_timeout, uint, 0644);
MODULE_PARM_DESC(loss_timeout,
		 "Seconds a server may be unreachable before its pages count as lost; reads of them wait meanwhile (default 600, as nvme's ctrl_loss_tmo; also for configfs devices whose loss_timeout is 0)");

unsigned int rswap_reserve_slabs = 2;
module_param_named(reserve_slabs, rswap_reserve_slabs, uint, 0644);
MODULE_PARM_DESC(reserve_slabs,
		 "Floor of the free slots kept ahead of writes, in slabs (default 2; never under 16 MiB; the reserve grows with the write rate)");

/*
 * Slabs moved (EVACUATE) or copied (a set short of copies) at once: their
 * copies run side by side on the servers, so the link stays busy while
 * each connects, and the grants and returns around them overlap. 1 is the
 * old one-at-a-time, for comparing (bench/drain.sh runs both).
 */
unsigned int rswap_moves_in_flight = RSWAP_MOVES_IN_FLIGHT;
module_param_named(moves_in_flight, rswap_moves_in_flight, uint, 0644);
MODULE_PARM_DESC(moves_in_flight,
		 "Slabs moved or copied server to server at once, 1-" __stringify(RSWAP_MOVES_IN_FLIGHT)
		 " (default " __stringify(RSWAP_MOVES_IN_FLIGHT) ")");

/*
 * Sequential swap-in is read ahead below the swap cache (rswap_prefetch.c)
 * into a buffer of this size, allocated at load; prefetch=0 stops using
 * it at run time (bench/prefetch.sh compares both in one guest).
 */
unsigned int rswap_prefetch_kib = 2048;
module_param_named(prefetch_kib, rswap_prefetch_kib, uint, 0444);
MODULE_PARM_DESC(prefetch_kib,
		 "Memory for reading ahead of sequential swap-in, KiB (default 2048, up to 8192; 0: none)");

/*
 * Doorbell batching (rswap_dev.c, rswap_queue_rq): the WRs of requests the
 * block layer dispatches together go in one ib_post_send per queue pair.
 * Off, each request posts its own: for comparing the two in one run.
 */
bool rswap_doorbell_batch = true;
module_param_named(doorbell_batch, rswap_doorbell_batch, bool, 0644);
MODULE_PARM_DESC(doorbell_batch,
		 "Post the WRs of requests dispatched together with one doorbell (default on)");

bool rswap_prefetch_enabled = true;
module_param_named(prefetch, rswap_prefetch_enabled, bool, 0644);
MODULE_PARM_DESC(prefetch, "Read ahead of sequential swap-in (default on; needs prefetch_kib)");

/*
 * Stable writes (rswap_dev.c, alloc_disk): every copy then matches its
 * checksum, dead pages too; the cost is that a page faulted in while its
 * write is in flight is copied at its next write, and under heavy
 * thrashing the swap holds more slots at once (chaos-replicas on 6.12:
 * about half as many slabs again, enough to fill its pool). Off, swap is
 * as safe (the kernel never reads such a slot back), but a whole-device
 * read can meet a dead page whose copies do not match.
 */
bool rswap_stable_writes;
module_param_named(stable_writes, rswap_stable_writes, bool, 0444);
MODULE_PARM_DESC(stable_writes,
		 "Ask the kernel for stable pages: no page changes while its write is in flight, so every copy matches its checksum (default off)");

static unsigned int queue_depth = 32;
module_param(queue_depth, uint, 0444);
MODULE_PARM_DESC(queue_depth,
		 "Requests in flight per hardware queue, 1-" __stringify(RSWAP_MAX_QUEUE_DEPTH)
		 " (default 32; pages under writeback cannot be reclaimed, so a deep queue can push a small cgroup into OOM)");

/*
 * Copies of every slab, each on another server (rswap_replica.h): a write
 * goes to all of them, a read to one, and a server lost for good costs no
 * page while another copy is left. With fewer usable servers the device
 * runs degraded (logged once; degraded_slabs in sysfs).
 */
static unsigned int replicas = 2;
module_param(replicas, uint, 0444);
MODULE_PARM_DESC(replicas,
		 "Copies of each slab on distinct servers, 1-" __stringify(RSWAP_MAX_REPLICAS)
		 " (default 2: survives the loss of any one server)");

void rswap_config_defaults(unsigned int *r, unsigned int *qd)
{
	*r = replicas;
	*qd = queue_depth;
}

static int __init rswap_init(void)
{
	struct rswap_dev_config cfg = {
		.replicas = replicas,
		.queue_depth = queue_depth,
		.servers = servers,
		.key_file = key_file,
		.client_id = client_id,
	};
	struct rswap_dev *rswap0;
	char *end;
	int ret;

	/* Receive buffers are RSWAP_MSG_MAX bytes: every message must fit. */
	BUILD_BUG_ON(sizeof(struct rswap_hello) > RSWAP_MSG_MAX);
	BUILD_BUG_ON(sizeof(struct rswap_auth) > RSWAP_MSG_MAX);
	BUILD_BUG_ON(sizeof(struct rswap_error) > RSWAP_MSG_MAX);
	BUILD_BUG_ON(RSWAP_PAGE_SIZE != PAGE_SIZE);

	/* Without size= only configfs makes devices; with it, rswap0 as well. */
	if (size && *size) {
		cfg.bytes = memparse(size, &end);
		if (*end && *end != '\n') {
			pr_err("size=%s: not a size (use e.g. 512M or 4G)\n", size);
			return -EINVAL;
		}
		if (!cfg.bytes) {
			pr_err("size=%s: must be a non-zero multiple of 4K, at most 16T\n", size);
			return -EINVAL;
		}
		if (backend && strcmp(backend, "rdma") && strcmp(backend, "ram")) {
			pr_err("backend=%s: must be rdma or ram\n", backend);
			return -EINVAL;
		}
		cfg.ram = backend && !strcmp(backend, "ram");
		ret = rswap_config_check(&cfg, "");
		if (ret)
			return ret;
	} else if (servers || key_file || backend || client_id) {
		pr_err("size= is required (e.g. size=4G) with the other parameters; or none of them, and devices made through configfs\n");
		return -EINVAL;
	}
	rswap_debugfs_init();
	ret = rswap_devices_init();
	if (ret)
		goto out_debugfs;
	if (cfg.bytes) {
		ret = rswap_device_up(&cfg, 0, &rswap0);
		if (ret)
			goto out_devices;
	}
	ret = rswap_configfs_init();
	if (ret)
		goto out_devices;
	return 0;

out_devices:
	rswap_devices_exit();
out_debugfs:
	rswap_debugfs_fini();
	return ret;
}

static void __exit rswap_exit(void)
{
	rswap_configfs_exit();	/* configfs items hold the module: none is left */
	rswap_devices_exit();
	rswap_debugfs_fini();
	pr_info("unloaded\n");
}

module_init(rswap_init);
module_exit(rswap_exit);

MODULE_AUTHOR("rswap developers");
MODULE_DESCRIPTION("Remote-memory swap over RDMA");
MODULE_LICENSE("GPL");
