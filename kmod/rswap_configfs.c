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
 * loss_timeout and servers may be changed, and take effect at once, the
 * others say -EBUSY. power 1 checks the whole config (rswap_config_check,
 * one log line naming what is wrong, -EINVAL) before anything is made.
 *
 * servers while ON is the device's servers now (as sysfs add_server and
 * remove_server leave them too), and takes changes in the form of
 * cgroup.subtree_control, applied in order up to the first that fails:
 *
 *   echo '+192.0.2.12:7471@rack-c -192.0.2.10:7471' > servers
 *
 * A server is removed only when it holds none of the device's pages
 * (-EBUSY otherwise: drain it first), or has been declared lost. power 0
 * keeps the list as it is then, for the next power 1.
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
 * may change while the device is on (yes: live_NAME applies it). Each is
 * the struct rswap_dev_config field of its name (size: bytes; backend:
 * ram).
 */
#define RSWAP_CFG_ATTRS(X)			\
	X(size, SIZE, no)			\
	X(backend, BACKEND, no)			\
	X(servers, SERVERS, yes)		\
	X(replicas, UINT, no)			\
	X(key_file, TEXT, no)			\
	X(client_id, TEXT, no)			\
	X(queue_depth, UINT, no)		\
	X(loss_timeout, UINT, yes)

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

/* servers: a text; while ON, the show comes from the device (show_live_servers). */
#define parse_SERVERS parse_TEXT
#define show_SERVERS show_TEXT

/* ---- attributes written while ON ---- */

/* Not a live attribute: nothing changes. */
static int not_live(struct rswap_cfg_item *c, const char *name)
{
	pr_err("rswap/%s: %s: not while power is 1\n", config_item_name(&c->group.cg_item), name);
	return -EBUSY;
}

/* Takes effect at once: the loss timer reads it each tick. */
static int live_loss_timeout(struct rswap_cfg_item *c, const unsigned int *v)
{
	lockdep_assert_held(&c->lock);
	c->loss_timeout = *v;
	WRITE_ONCE(c->dev->loss_timeout, *v);
	return 0;
}

/*
 * "+ADDRESS:PORT[@DOMAIN]" adds a server, "-ADDRESS:PORT" removes one
 * (rswap_server_add and _remove, as sysfs add_server and remove_server);
 * space- or comma-separated. Every token is checked first (a malformed
 * one changes nothing), then applied in order up to the first that fails.
 */
static int live_servers(struct rswap_cfg_item *c, char (*v)[RSWAP_CFG_TEXT_MAX])
{
	const char *who = config_item_name(&c->group.cg_item);
	const char *sep = " \t,";
	char *p, *tok;
	int ret = 0;

	lockdep_assert_held(&c->lock);
	for (p = *v; *p; p += strcspn(p, sep)) {
		p += strspn(p, sep);
		if (*p && *p != '+' && *p != '-') {
			pr_err("rswap/%s: servers: while power is 1, write +ADDRESS:PORT[@DOMAIN] to add a server, -ADDRESS:PORT to remove one\n",
			       who);
			return -EINVAL;
		}
	}
	p = *v;
	while (!ret && (tok = strsep(&p, sep)) != NULL) {
		if (!*tok)
			continue;
		ret = *tok == '+' ? rswap_server_add(c->dev, tok + 1) :
				    rswap_server_remove(c->dev, tok + 1);
		if (ret)
			pr_err("rswap/%s: servers: '%s' failed (%d)\n", who, tok, ret);
	}
	return ret;
}

#define RSWAP_CFG_LIVE_no(c, name, v) not_live(c, #name)
#define RSWAP_CFG_LIVE_yes(c, name, v) live_##name(c, v)

/*
 * What an ON device shows instead of the value written: the servers it
 * has now. False: the written value is what it shows.
 */
static bool show_live_servers(struct rswap_cfg_item *c, char *page, ssize_t *n)
{
	lockdep_assert_held(&c->lock);
	if (!c->dev)
		return false;
	*n = rswap_servers_text(c->dev, page, PAGE_SIZE - 1);
	*n += sprintf(page + *n, "\n");
	return true;
}

#define RSWAP_CFG_SHOW_LIVE_no(c, name, page, n) false
#define RSWAP_CFG_SHOW_LIVE_yes(c, name, page, n) RSWAP_CFG_SHOW_LIVE_##name(c, page, n)
#define RSWAP_CFG_SHOW_LIVE_loss_timeout(c, page, n) false
#define RSWAP_CFG_SHOW_LIVE_servers(c, page, n) show_live_servers(c, page, n)

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
	if (!RSWAP_CFG_SHOW_LIVE_##live(c, name, page, &n))			\
		n = show_##kind(page, &c->name);				\
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
	if (c->dev)								\
		ret = RSWAP_CFG_LIVE_##live(c, name, v);			\
	else									\
		memcpy(&c->name, v, sizeof(*v));				\
	mutex_unlock(&c->lock);							\
out:										\
	kfree(v);								\
	return ret ? ret : count;						\
}										\
CONFIGFS_ATTR(rswap_cfg_, name);

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
		/* The servers it has now are the next power 1's. */
		rswap_servers_text(c->dev, c->servers, sizeof(c->servers));
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
