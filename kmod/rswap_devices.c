// SPDX-License-Identifier: GPL-2.0
/*
 * rswap_devices: the module's devices, rswap0..rswap15, each made from a
 * struct rswap_dev_config: the module parameters' (rswap0, at load;
 * rswap_main.c) or a configfs item's (rswap_configfs.c). Both go through
 * rswap_config_check and rswap_device_up, so a device is the same however
 * it was asked for.
 *
 * A device's life here:
 *
 *   (none) --rswap_device_up--> UP --rswap_device_down--> (none)
 *                                |     (refused while open: swapoff first)
 *                                |
 *                                +--rswap_device_orphan--> ORPHAN
 *                                      (its configfs item was removed while
 *                                      it was open: it keeps serving, and
 *                                      its last close removes it)
 *
 * Every device is on rswap_devs under rswap_devs_mutex, so the RDMA core's
 * removal of an RDMA device reaches all of them, and the module's exit
 * removes what is left (orphans whose last close came just before).
 *
 * Lock order: rswap_devs_mutex, then a device's own locks (rswap.h).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/idr.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <rdma/ib_verbs.h>

#include "rswap.h"

#define RSWAP_MAX_SIZE (1ULL << 44)	/* 16 TiB: 4G entries of 8 bytes; slots bound it lower */

static DEFINE_MUTEX(rswap_devs_mutex);
static LIST_HEAD(rswap_devs);
static DEFINE_IDA(rswap_ida);

static int rswap_ib_add_one(struct ib_device *ibdev)
{
	return 0;	/* servers find their device when they connect */
}

/*
 * An RDMA device is going away (NIC reset, driver unload, rxe deleted):
 * called before rdma_cm's own removal, so every queue pair, CQ, PD and DMA
 * mapping of ours on it is gone before the device is. The removal waits
 * for rswap_devs_mutex, so it never returns while a device being made or
 * removed still has queue pairs on it.
 */
static void rswap_ib_remove_one(struct ib_device *ibdev, void *client_data)
{
	struct rswap_dev *dev;

	mutex_lock(&rswap_devs_mutex);
	list_for_each_entry(dev, &rswap_devs, list)
		rswap_servers_device_removed(dev, ibdev);
	mutex_unlock(&rswap_devs_mutex);
}

static struct ib_client rswap_ib_client = {
	.name = "rswap",
	.add = rswap_ib_add_one,
	.remove = rswap_ib_remove_one,
};

/* client_id text: printable, no spaces, and short enough for a log line. */
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
 * Walk a servers list: with @dev NULL, check that every entry parses
 * (before anything is made; @who names the list in the log), else add
 * each one to @dev.
 */
static int walk_servers(const char *list, struct rswap_dev *dev, const char *who)
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
			pr_err("%sservers=: '%s' is not ADDRESS:PORT or ADDRESS:PORT@DOMAIN\n", who,
			       name);
			ret = -EINVAL;
		}
	}
	kfree(copy);
	return ret;
}

/* The largest device with @replicas copies whose slab table the map can name. */
static u64 rswap_max_bytes(unsigned int replicas)
{
	u64 spare = (u64)RSWAP_TABLE_SPARE_SLABS * (RSWAP_MAX_SLAB_SIZE / RSWAP_PAGE_SIZE);

	return ((1ULL << RSWAP_ENTRY_SLOT_BITS) / replicas - spare) / 2 * RSWAP_PAGE_SIZE;
}

/*
 * Is @cfg a device we can make? Each thing wrong is said in one log line
 * naming the setting as the module parameter of that name, after @who
 * ("" for the module's parameters, "rswap/NAME: " for a configfs item);
 * -EINVAL for the first one.
 */
int rswap_config_check(const struct rswap_dev_config *cfg, const char *who)
{
	if (!cfg->bytes) {
		pr_err("%ssize= is required (e.g. size=4G)\n", who);
		return -EINVAL;
	}
	if (cfg->bytes % RSWAP_PAGE_SIZE || cfg->bytes > RSWAP_MAX_SIZE) {
		pr_err("%ssize=%llu: must be a non-zero multiple of 4K, at most 16T\n", who,
		       cfg->bytes);
		return -EINVAL;
	}
	if (cfg->ram && cfg->servers && *cfg->servers) {
		pr_err("%sbackend=ram takes no servers=\n", who);
		return -EINVAL;
	}
	if (!cfg->ram && (!cfg->key_file || !*cfg->key_file)) {
		pr_err("%skey_file= is required: this client's key (rswapctl client-key makes it)\n",
		       who);
		return -EINVAL;
	}
	if (!cfg->replicas || cfg->replicas > RSWAP_MAX_REPLICAS) {
		pr_err("%sreplicas=%u: must be 1 to %d\n", who, cfg->replicas, RSWAP_MAX_REPLICAS);
		return -EINVAL;
	}
	/*
	 * A map entry names 2^RSWAP_ENTRY_SLOT_BITS slots. The slab table
	 * (rswap_slabs_setup) has room for twice the device's pages and
	 * RSWAP_TABLE_SPARE_SLABS slabs per copy: counted here with the
	 * largest slabs a server may grant, so no slab size the servers pick
	 * later makes the table too big for the map.
	 */
	if (!cfg->ram && cfg->bytes > rswap_max_bytes(cfg->replicas)) {
		pr_err("%ssize=%llu: at most %lluG with replicas=%u (a map entry names 2^%d slots)\n",
		       who, cfg->bytes, rswap_max_bytes(cfg->replicas) >> 30, cfg->replicas,
		       RSWAP_ENTRY_SLOT_BITS);
		return -EINVAL;
	}
	if (!cfg->queue_depth || cfg->queue_depth > RSWAP_MAX_QUEUE_DEPTH) {
		pr_err("%squeue_depth=%u: must be 1 to %d\n", who, cfg->queue_depth,
		       RSWAP_MAX_QUEUE_DEPTH);
		return -EINVAL;
	}
	if (cfg->client_id && !client_id_ok(cfg->client_id)) {
		pr_err("%sclient_id=: up to %d printable characters without spaces\n", who,
		       RSWAP_CLIENT_ID_MAX);
		return -EINVAL;
	}
	if (cfg->servers && walk_servers(cfg->servers, NULL, who))
		return -EINVAL;
	return 0;
}

static void remove_locked(struct rswap_dev *dev)
{
	int id = dev->id;

	lockdep_assert_held(&rswap_devs_mutex);
	list_del_init(&dev->list);
	rswap_dev_destroy(dev);
	ida_free(&rswap_ida, id);
}

/*
 * The last close of an orphan (rswap_device_orphan) asks for this: every
 * orphan now closed goes. One work for all devices, never one inside a
 * device, so nothing runs on a device already freed.
 */
static void reap_orphans(struct work_struct *work)
{
	struct rswap_dev *dev, *next;

	mutex_lock(&rswap_devs_mutex);
	list_for_each_entry_safe(dev, next, &rswap_devs, list) {
		bool gone;

		write_seqlock(&dev->lock);
		gone = dev->remove_when_closed && !dev->openers;
		write_sequnlock(&dev->lock);
		if (gone) {
			pr_info("%s: closed: removed (its configfs item had gone)\n", dev->name);
			remove_locked(dev);
		}
	}
	mutex_unlock(&rswap_devs_mutex);
}

static DECLARE_WORK(rswap_reap_work, reap_orphans);

/* From a device's release: it was an orphan's last close. */
void rswap_devices_reap(void)
{
	schedule_work(&rswap_reap_work);
}

/*
 * A device from @cfg (checked by the caller), numbered @id (the lowest
 * free one if negative), its servers added: they connect in the
 * background.
 */
int rswap_device_up(const struct rswap_dev_config *cfg, int id, struct rswap_dev **out)
{
	struct rswap_dev *dev;
	int ret;

	ret = id < 0 ? ida_alloc_max(&rswap_ida, RSWAP_MAX_DEVICES - 1, GFP_KERNEL) :
		ida_alloc_range(&rswap_ida, id, id, GFP_KERNEL);
	if (ret < 0) {
		pr_err("no device number free (at most %d devices)\n", RSWAP_MAX_DEVICES);
		return ret == -ENOSPC ? -EBUSY : ret;
	}
	id = ret;
	mutex_lock(&rswap_devs_mutex);
	ret = rswap_dev_create(id, cfg, &dev);
	if (ret) {
		pr_err("cannot create rswap%d (error %d)\n", id, ret);
		goto out_id;
	}
	list_add_tail(&dev->list, &rswap_devs);
	if (cfg->servers) {
		ret = walk_servers(cfg->servers, dev, "");
		if (ret) {
			remove_locked(dev);
			mutex_unlock(&rswap_devs_mutex);
			return ret;
		}
	}
	mutex_unlock(&rswap_devs_mutex);
	pr_info("%s: %llu MiB, replicas=%u, wire protocol %d\n", dev->name, cfg->bytes >> 20,
		cfg->replicas, RSWAP_WIRE_VERSION);
	*out = dev;
	return 0;

out_id:
	mutex_unlock(&rswap_devs_mutex);
	ida_free(&rswap_ida, id);
	return ret;
}

/* @dev goes: -EBUSY while it is open (swapped on), and it stays. */
int rswap_device_down(struct rswap_dev *dev)
{
	int ret = rswap_dev_close_for_removal(dev);

	if (ret) {
		pr_err("%s: in use (swapoff first): not removed\n", dev->name);
		return ret;
	}
	mutex_lock(&rswap_devs_mutex);
	remove_locked(dev);
	mutex_unlock(&rswap_devs_mutex);
	return 0;
}

/*
 * @dev's configfs item was removed: it goes now if closed, else at its
 * last close (rmdir cannot be refused, and a swapped-on device must not
 * vanish under swap).
 */
void rswap_device_orphan(struct rswap_dev *dev)
{
	bool open;

	write_seqlock(&dev->lock);
	open = dev->openers > 0;
	dev->remove_when_closed = open;
	if (!open)
		dev->closing = true;
	write_sequnlock(&dev->lock);
	if (open) {
		pr_warn("%s: its configfs item was removed while it is open: it is removed at its last close (swapoff)\n",
			dev->name);
		return;
	}
	mutex_lock(&rswap_devs_mutex);
	remove_locked(dev);
	mutex_unlock(&rswap_devs_mutex);
}

int rswap_devices_init(void)
{
	int ret = ib_register_client(&rswap_ib_client);

	if (ret)
		pr_err("cannot register with the RDMA core (error %d)\n", ret);
	return ret;
}

/* The module goes: nothing is open (each open holds the module). */
void rswap_devices_exit(void)
{
	struct rswap_dev *dev, *next;

	cancel_work_sync(&rswap_reap_work);
	mutex_lock(&rswap_devs_mutex);
	list_for_each_entry_safe(dev, next, &rswap_devs, list)
		remove_locked(dev);
	mutex_unlock(&rswap_devs_mutex);
	ib_unregister_client(&rswap_ib_client);
	rswap_dev_unregister();
	ida_destroy(&rswap_ida);
}
