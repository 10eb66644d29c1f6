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
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>

#include "rswap.h"

bool rswap_fault_returns;

static struct dentry *rswap_debugfs_dir;

void rswap_debugfs_init(void)
{
	rswap_debugfs_dir = debugfs_create_dir("rswap", NULL);
	debugfs_create_bool("fail_returns", 0600, rswap_debugfs_dir, &rswap_fault_returns);
}

void rswap_debugfs_fini(void)
{
	debugfs_remove_recursive(rswap_debugfs_dir);
	rswap_debugfs_dir = NULL;
}
