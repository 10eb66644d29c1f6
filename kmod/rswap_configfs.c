// SPDX-License-Identifier: GPL-2.0
/*
 * rswap_configfs: devices made and removed at run time, as null_blk and
 * nvmet do it:
 *
 *   modprobe rswap                       (no size=: no device at load)
 *   mkdir /sys/kernel/config/rswap/web
 *   cd /sys/kernel/config/rswap/web
 *   echo 4G > size
 *   echo 192.0.2.10:7471@rack-a,192.0.2.11:7471@rack-b > servers
 *   echo /etc/rswap/client.key > key_file
 *   echo 1 > power                       (the device: cat disk -> rswap1)
 *   mkswap /dev/rswap1 && swapon /dev/rswap1
 *
 * Each item's attributes (RSWAP_CFG_ATTRS, the one table the attributes,
 * their show and store, and the features file are made from) are the
 * module parameters of the same names, with the same meaning and defaults.
 * An item's life:
 *
 *   OFF --power 1--> ON --power 0--> OFF     (power 0 is refused, -EBUSY,
 *    |                |                       while the device is open)
 *   rmdir           rmdir
 *    v                v
 *   (gone)          (gone; the device goes with it, or, if it is open,
 *                    at its last close: rswap_device_orphan)
 *
 * OFF: every attribute may be written. ON: the device exists; only
 * loss_timeout may be changed (it takes effect at once), the others say
 * -EBUSY. power 1 checks the whole config (rswap_config_check, one log
 * line naming what is wrong, -EINVAL) before anything is made.
 * /sys/kernel/config/rswap/features lists the attributes.
 *
 * Lock order: an item's lock, then rswap_devices.c's mutex.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/configfs.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "rswap.h"

#define RSWAP_CFG_TEXT_MAX	1024	/* servers: 8 of ADDRESS:PORT@DOMAIN */

/*
 * The attributes: name, kind (how it is parsed and shown), and whether it
 * may change while the device is on. Each is the struct rswap_dev_config
 * field of its name (size: bytes; backend: ram).
 */
#define RSWAP_CFG_ATTRS(X)			\
	X(size, SIZE, false)			\
	X(backend, BACKEND, false)		\
	X(servers, TEXT, false)			\
	X(replicas, UINT, false)		\
	X(key_file, TEXT, false)		\
	X(client_id, TEXT, false)		\
	X(queue_depth, UINT, false)		\
	X(loss_timeout, UINT, true)

struct rswap_cfg_item {
	struct config_group group;
	struct mutex lock;		/* the settings and dev */
	struct rswap_dev *dev;		/* ON: the device; OFF: NULL */
	/* the settings, as written */
	u64 size;
	bool backend;			/* true: ram */
	unsigned int replicas;
	unsigned int queue_depth;
	unsigned int loss_timeout;
	char servers[RSWAP_CFG_TEXT_MAX];
	char key_file[RSWAP_CFG_TEXT_MAX];
	char client_id[RSWAP_CLIENT_ID_MAX + 1];
};

static struct rswap_cfg_item *to_cfg(struct config_item *item)
{
	return container_of(to_config_group(item), struct rswap_cfg_item, group);
}

/* ---- the kinds: parse a written value, show the current one ---- */

static int parse_SIZE(const char *page, u64 *v)
{
	char *end;

	*v = memparse(page, &end);
	return *end && *end != '\n' ? -EINVAL : 0;
}

static ssize_t show_SIZE(char *page, const u64 *v)
{
	return sprintf(page, "%llu\n", *v);
}

static int parse_UINT(const char *page, unsigned int *v)
{
	return kstrtouint(page, 0, v);
}

static ssize_t show_UINT(char *page, const unsigned int *v)
{
	return sprintf(page, "%u\n", *v);
}

static int parse_BACKEND(const char *page, bool *ram)
{
	if (sysfs_streq(page, "rdma"))
		*ram = false;
	else if (sysfs_streq(page, "ram"))
		*ram = true;
	else
		return -EINVAL;
	return 0;
}

static ssize_t show_BACKEND(char *page, const bool *ram)
{
	return sprintf(page, "%s\n", *ram ? "ram" : "rdma");
}

/* Text attributes are fixed arrays: the parse writes into a scratch one. */
#define parse_TEXT(page, v) parse_text(page, *(v), sizeof(*(v)))
static int parse_text(const char *page, char *v, size_t size)
{
	size_t n = strcspn(page, "\n");

	if (n >= size)
		return -E2BIG;
	memcpy(v, page, n);
	v[n] = '\0';
	return 0;
}

#define show_TEXT(page, v) sprintf(page, "%s\n", *(v))

/*
 * One attribute's show and store. A store parses into a scratch value
 * first, so a bad write changes nothing; on an ON device only the live
 * attributes take a value.
 */
#define RSWAP_CFG_SHOW_STORE(name, kind, live)					\
static ssize_t rswap_cfg_##name##_show(struct config_item *item, char *page)	\
{										\
	struct rswap_cfg_item *c = to_cfg(item);				\
	ssize_t n;								\
										\
	mutex_lock(&c->lock);							\
	n = show_##kind(page, &c->name);					\
	mutex_unlock(&c->lock);							\
	return n;								\
}										\
										\
static ssize_t rswap_cfg_##name##_store(struct config_item *item,		\
					const char *page, size_t count)	\
{										\
	struct rswap_cfg_item *c = to_cfg(item);				\
	typeof(c->name) *v;							\
	int ret;								\
										\
	v = kzalloc(sizeof(*v), GFP_KERNEL);					\
	if (!v)									\
		return -ENOMEM;							\
	ret = parse_##kind(page, v);						\
	if (ret) {								\
		pr_err("rswap/%s: " #name ": not a value for it\n",		\
		       config_item_name(item));					\
		goto out;							\
	}									\
	mutex_lock(&c->lock);							\
	if (c->dev && !(live)) {						\
		ret = -EBUSY;							\
		pr_err("rswap/%s: " #name ": not while power is 1\n",		\
		       config_item_name(item));					\
	} else {								\
		memcpy(&c->name, v, sizeof(*v));				\
		if (live)							\
			apply_live(c);						\
	}									\
	mutex_unlock(&c->lock);							\
out:										\
	kfree(v);								\
	return ret ? ret : count;						\
}										\
CONFIGFS_ATTR(rswap_cfg_, name);

/* A live attribute written on an ON device takes effect at once. */
static void apply_live(struct rswap_cfg_item *c)
{
	lockdep_assert_held(&c->lock);
	if (c->dev)
		WRITE_ONCE(c->dev->loss_timeout, c->loss_timeout);
}

RSWAP_CFG_ATTRS(RSWAP_CFG_SHOW_STORE)

/* ---- power and disk ---- */

static ssize_t rswap_cfg_power_show(struct config_item *item, char *page)
{
	struct rswap_cfg_item *c = to_cfg(item);
	ssize_t n;

	mutex_lock(&c->lock);
	n = sprintf(page, "%d\n", !!c->dev);
	mutex_unlock(&c->lock);
	return n;
}

static int power_on(struct rswap_cfg_item *c)
{
	struct rswap_dev_config cfg = {
		.bytes = c->size,
		.ram = c->backend,
		.replicas = c->replicas,
		.queue_depth = c->queue_depth,
		.loss_timeout = c->loss_timeout,
		.servers = c->servers,
		.key_file = c->key_file,
		.client_id = c->client_id,
	};
	char who[64];
	int ret;

	lockdep_assert_held(&c->lock);
	snprintf(who, sizeof(who), "rswap/%s: ", config_item_name(&c->group.cg_item));
	ret = rswap_config_check(&cfg, who);
	if (ret)
		return ret;
	return rswap_device_up(&cfg, -1, &c->dev);
}

static ssize_t rswap_cfg_power_store(struct config_item *item, const char *page, size_t count)
{
	struct rswap_cfg_item *c = to_cfg(item);
	bool on;
	int ret;

	ret = kstrtobool(page, &on);
	if (ret)
		return ret;
	mutex_lock(&c->lock);
	if (on && !c->dev) {
		ret = power_on(c);
	} else if (!on && c->dev) {
		ret = rswap_device_down(c->dev);
		if (!ret)
			c->dev = NULL;
	}
	mutex_unlock(&c->lock);
	return ret ? ret : count;
}
CONFIGFS_ATTR(rswap_cfg_, power);

static ssize_t rswap_cfg_disk_show(struct config_item *item, char *page)
{
	struct rswap_cfg_item *c = to_cfg(item);
	ssize_t n;

	mutex_lock(&c->lock);
	n = sprintf(page, "%s\n", c->dev ? c->dev->name : "");
	mutex_unlock(&c->lock);
	return n;
}
CONFIGFS_ATTR_RO(rswap_cfg_, disk);

#define RSWAP_CFG_ATTR_PTR(name, kind, live) &rswap_cfg_attr_##name,
static struct configfs_attribute *rswap_cfg_attrs[] = {
	RSWAP_CFG_ATTRS(RSWAP_CFG_ATTR_PTR)
	&rswap_cfg_attr_power,
	&rswap_cfg_attr_disk,
	NULL,
};

/* ---- items: mkdir and rmdir ---- */

static void rswap_cfg_release(struct config_item *item)
{
	kfree(to_cfg(item));
}

static struct configfs_item_operations rswap_cfg_item_ops = {
	.release = rswap_cfg_release,
};

static const struct config_item_type rswap_cfg_type = {
	.ct_item_ops = &rswap_cfg_item_ops,
	.ct_attrs = rswap_cfg_attrs,
	.ct_owner = THIS_MODULE,
};

/* mkdir: a new item, OFF, with the module parameters' defaults. */
static struct config_group *rswap_cfg_make(struct config_group *parent, const char *name)
{
	struct rswap_cfg_item *c = kzalloc(sizeof(*c), GFP_KERNEL);

	if (!c)
		return ERR_PTR(-ENOMEM);
	mutex_init(&c->lock);
	rswap_config_defaults(&c->replicas, &c->queue_depth);
	config_group_init_type_name(&c->group, name, &rswap_cfg_type);
	return &c->group;
}

/* rmdir: its device goes, now or at its last close. */
static void rswap_cfg_drop(struct config_group *parent, struct config_item *item)
{
	struct rswap_cfg_item *c = to_cfg(item);

	mutex_lock(&c->lock);
	if (c->dev)
		rswap_device_orphan(c->dev);
	c->dev = NULL;
	mutex_unlock(&c->lock);
	config_item_put(item);
}

static struct configfs_group_operations rswap_cfg_group_ops = {
	.make_group = rswap_cfg_make,
	.drop_item = rswap_cfg_drop,
};

/* /sys/kernel/config/rswap/features: the attributes an item has. */
static ssize_t rswap_cfg_features_show(struct config_item *item, char *page)
{
	int i, n = 0;

	for (i = 0; rswap_cfg_attrs[i]; i++)
		n += sprintf(page + n, "%s%s", i ? "," : "", rswap_cfg_attrs[i]->ca_name);
	return n + sprintf(page + n, "\n");
}
CONFIGFS_ATTR_RO(rswap_cfg_, features);

static struct configfs_attribute *rswap_subsys_attrs[] = {
	&rswap_cfg_attr_features,
	NULL,
};

static const struct config_item_type rswap_subsys_type = {
	.ct_group_ops = &rswap_cfg_group_ops,
	.ct_attrs = rswap_subsys_attrs,
	.ct_owner = THIS_MODULE,
};

static struct configfs_subsystem rswap_subsys = {
	.su_group = {
		.cg_item = {
			.ci_namebuf = "rswap",
			.ci_type = &rswap_subsys_type,
		},
	},
};

int rswap_configfs_init(void)
{
	int ret;

	config_group_init(&rswap_subsys.su_group);
	mutex_init(&rswap_subsys.su_mutex);
	ret = configfs_register_subsystem(&rswap_subsys);
	if (ret)
		pr_err("cannot register with configfs (error %d)\n", ret);
	return ret;
}

void rswap_configfs_exit(void)
{
	configfs_unregister_subsystem(&rswap_subsys);
}
