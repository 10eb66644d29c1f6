// SPDX-License-Identifier: GPL-2.0
/*
 * rswap: remote-memory swap over RDMA, client module.
 *
 * This is the module's entry point. The block device, the offset map and
 * the RDMA transport are added in their own files; for now the module only
 * proves that it builds against each supported kernel and loads and unloads
 * cleanly in the test guests.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/init.h>
#include <linux/build_bug.h>

#include "rswap_wire.h"

static int __init rswap_init(void)
{
	/* Receive buffers are RSWAP_MSG_MAX bytes: every message must fit. */
	BUILD_BUG_ON(sizeof(struct rswap_hello) > RSWAP_MSG_MAX);
	BUILD_BUG_ON(sizeof(struct rswap_auth) > RSWAP_MSG_MAX);
	BUILD_BUG_ON(sizeof(struct rswap_error) > RSWAP_MSG_MAX);
	pr_info("loaded (wire protocol %d)\n", RSWAP_WIRE_VERSION);
	return 0;
}

static void __exit rswap_exit(void)
{
	pr_info("unloaded\n");
}

module_init(rswap_init);
module_exit(rswap_exit);

MODULE_AUTHOR("rswap developers");
MODULE_DESCRIPTION("Remote-memory swap over RDMA");
MODULE_LICENSE("GPL");
