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
 *
 * Each delay is announced in the kernel log ("fault injection: ...") so a
 * test knows when to strike.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/delay.h>

#include "rswap.h"

bool rswap_fault_returns;
u32 rswap_fault_move_fill_delay_ms;
u32 rswap_fault_move_swap_delay_ms;
u32 rswap_fault_sq_depth_max;

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

void rswap_debugfs_fini(void)
{
	debugfs_remove_recursive(rswap_debugfs_dir);
	rswap_debugfs_dir = NULL;
}
