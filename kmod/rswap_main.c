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

char *rswap_client_id;
module_param_named(client_id, rswap_client_id, charp, 0444);
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
		 "Seconds a server may be unreachable before its pages count as lost; reads of them wait meanwhile (default 600, as nvme's ctrl_loss_tmo)");

unsigned int rswap_reserve_slabs = 2;
module_param_named(reserve_slabs, rswap_reserve_slabs, uint, 0644);
MODULE_PARM_DESC(reserve_slabs,
		 "Slabs' worth of free slots kept ahead of writes (default 2; never under 16 MiB)");

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
 * it at run time (bench/swap.sh compares both in one guest).
 */
unsigned int rswap_prefetch_kib = 1024;
module_param_named(prefetch_kib, rswap_prefetch_kib, uint, 0444);
MODULE_PARM_DESC(prefetch_kib,
		 "Memory for reading ahead of sequential swap-in, KiB (default 1024, up to 8192; 0: none)");

bool rswap_prefetch_enabled = true;
module_param_named(prefetch, rswap_prefetch_enabled, bool, 0644);
MODULE_PARM_DESC(prefetch, "Read ahead of sequential swap-in (default on; needs prefetch_kib)");

unsigned int rswap_queue_depth = 32;
module_param_named(queue_depth, rswap_queue_depth, uint, 0444);
MODULE_PARM_DESC(queue_depth,
		 "Requests in flight per hardware queue, 1-" __stringify(RSWAP_MAX_QUEUE_DEPTH)
		 " (default 32; pages under writeback cannot be reclaimed, so a deep queue can push a small cgroup into OOM)");

/*
 * Copies of every slab, each on another server (rswap_replica.h): a write
 * goes to all of them, a read to one, and a server lost for good costs no
 * page while another copy is left. With fewer usable servers the device
 * runs degraded (logged once; degraded_slabs in sysfs).
 */
unsigned int rswap_replicas = 2;
module_param_named(replicas, rswap_replicas, uint, 0444);
MODULE_PARM_DESC(replicas,
		 "Copies of each slab on distinct servers, 1-" __stringify(RSWAP_MAX_REPLICAS)
		 " (default 2: survives the loss of any one server)");

#define RSWAP_MAX_SIZE (1ULL << 44)	/* 16 TiB: 4G entries of 16 bytes */
/*
 * The device, under rswap_devs_mutex where an RDMA device's removal may
 * race with unloading: the removal waits until the device is gone, so it
 * never returns while our QPs are still on it.
 */
static DEFINE_MUTEX(rswap_devs_mutex);
static struct rswap_dev *rswap0;

static int rswap_ib_add_one(struct ib_device *ibdev)
{
	return 0;	/* servers find their device when they connect */
}

/*
 * An RDMA device is going away (NIC reset, driver unload, rxe deleted):
 * called before rdma_cm's own removal, so every queue pair, CQ, PD and DMA
 * mapping of ours on it is gone before the device is.
 */
static void rswap_ib_remove_one(struct ib_device *ibdev, void *client_data)
{
	mutex_lock(&rswap_devs_mutex);
	if (rswap0)
		rswap_servers_device_removed(rswap0, ibdev);
	mutex_unlock(&rswap_devs_mutex);
}

static struct ib_client rswap_ib_client = {
	.name = "rswap",
	.add = rswap_ib_add_one,
	.remove = rswap_ib_remove_one,
};

/* client_id= text: printable, no spaces, and short enough for a log line. */
static bool client_id_ok(const char *s)
{
	size_t n = strlen(s);

	if (n > RSWAP_CLIENT_ID_MAX)
		return false;
	for (; *s; s++)
		if (*s <= ' ' || *s > '~')
			return false;
	return true;
}

/*
 * Walk the servers= list: with @dev NULL, check that every entry parses
 * (before anything is created); else add each one to @dev.
 */
static int walk_servers(const char *list, struct rswap_dev *dev)
{
	struct sockaddr_storage ss;
	char *copy, *p, *name, addr[64], domain[RSWAP_DOMAIN_MAX + 1];
	int ret = 0;

	copy = kstrdup(list, GFP_KERNEL);
	if (!copy)
		return -ENOMEM;
	p = copy;
	while (!ret && (name = strsep(&p, ",")) != NULL) {
		name = strim(name);
		if (!*name)
			continue;
		if (dev) {
			ret = rswap_server_add(dev, name);
		} else if (rswap_parse_server(name, addr, sizeof(addr), domain, &ss)) {
			pr_err("servers=: '%s' is not ADDRESS:PORT or ADDRESS:PORT@DOMAIN\n", name);
			ret = -EINVAL;
		}
	}
	kfree(copy);
	return ret;
}

static int __init rswap_init(void)
{
	bool ram;
	u64 bytes;
	char *end;
	int ret;

	/* Receive buffers are RSWAP_MSG_MAX bytes: every message must fit. */
	BUILD_BUG_ON(sizeof(struct rswap_hello) > RSWAP_MSG_MAX);
	BUILD_BUG_ON(sizeof(struct rswap_auth) > RSWAP_MSG_MAX);
	BUILD_BUG_ON(sizeof(struct rswap_error) > RSWAP_MSG_MAX);
	BUILD_BUG_ON(RSWAP_PAGE_SIZE != PAGE_SIZE);

	if (!size || !*size) {
		pr_err("size= is required (e.g. size=4G)\n");
		return -EINVAL;
	}
	bytes = memparse(size, &end);
	if (*end && *end != '\n') {
		pr_err("size=%s: not a size (use e.g. 512M or 4G)\n", size);
		return -EINVAL;
	}
	if (!bytes || bytes % RSWAP_PAGE_SIZE || bytes > RSWAP_MAX_SIZE) {
		pr_err("size=%s: must be a non-zero multiple of 4K, at most 16T\n", size);
		return -EINVAL;
	}
	if (backend && strcmp(backend, "rdma") && strcmp(backend, "ram")) {
		pr_err("backend=%s: must be rdma or ram\n", backend);
		return -EINVAL;
	}
	ram = backend && !strcmp(backend, "ram");
	if (ram && servers && *servers) {
		pr_err("backend=ram takes no servers=\n");
		return -EINVAL;
	}
	if (!ram && (!key_file || !*key_file)) {
		pr_err("key_file= is required: this client's key (rswapctl client-key makes it)\n");
		return -EINVAL;
	}
	if (!rswap_replicas || rswap_replicas > RSWAP_MAX_REPLICAS) {
		pr_err("replicas=%u: must be 1 to %d\n", rswap_replicas, RSWAP_MAX_REPLICAS);
		return -EINVAL;
	}
	if (!rswap_queue_depth || rswap_queue_depth > RSWAP_MAX_QUEUE_DEPTH) {
		pr_err("queue_depth=%u: must be 1 to %d\n", rswap_queue_depth,
		       RSWAP_MAX_QUEUE_DEPTH);
		return -EINVAL;
	}
	if (rswap_client_id && !client_id_ok(rswap_client_id)) {
		pr_err("client_id=: up to %d printable characters without spaces\n",
		       RSWAP_CLIENT_ID_MAX);
		return -EINVAL;
	}
	if (servers && walk_servers(servers, NULL))
		return -EINVAL;
	ret = ram ? 0 : rswap_auth_load_key(key_file);
	if (ret)
		return ret;
	rswap_debugfs_init();
	ret = ib_register_client(&rswap_ib_client);
	if (ret) {
		pr_err("cannot register with the RDMA core (error %d)\n", ret);
		goto out_key;
	}
	mutex_lock(&rswap_devs_mutex);
	ret = rswap_dev_create(0, bytes, ram, &rswap0);
	mutex_unlock(&rswap_devs_mutex);
	if (ret) {
		pr_err("cannot create rswap0 (error %d)\n", ret);
		goto out_client;
	}
	if (servers) {
		ret = walk_servers(servers, rswap0);
		if (ret)
			goto out_dev;
	}
	pr_info("rswap0: %llu MiB, wire protocol %d\n", bytes >> 20, RSWAP_WIRE_VERSION);
	return 0;

out_dev:
	mutex_lock(&rswap_devs_mutex);
	rswap_dev_destroy(rswap0);
	rswap0 = NULL;
	mutex_unlock(&rswap_devs_mutex);
out_client:
	ib_unregister_client(&rswap_ib_client);
	/* The major is registered by the first device creation, even a failed one. */
	rswap_dev_unregister();
	rswap_debugfs_fini();
out_key:
	rswap_auth_free_key();
	return ret;
}

static void __exit rswap_exit(void)
{
	mutex_lock(&rswap_devs_mutex);
	rswap_dev_destroy(rswap0);
	rswap0 = NULL;
	mutex_unlock(&rswap_devs_mutex);
	ib_unregister_client(&rswap_ib_client);
	rswap_dev_unregister();
	rswap_debugfs_fini();
	rswap_auth_free_key();
	pr_info("unloaded\n");
}

module_init(rswap_init);
module_exit(rswap_exit);

MODULE_AUTHOR("rswap developers");
MODULE_DESCRIPTION("Remote-memory swap over RDMA");
MODULE_LICENSE("GPL");
