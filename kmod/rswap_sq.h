/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rswap_sq: how deep a queue pair's send queue is, and how its WRs are
 * counted. Pure arithmetic, shared by the module and the unit tests.
 *
 * A request posts one RDMA WR per run of consecutive slots: one WR for a
 * batch written together, at most one per page (RSWAP_MAX_SEGS). Sizing a
 * send queue for the worst case of every request of every hardware queue
 * that shares it (queue_depth x 32 x queues) asks for 100k+ WRs: rxe grants
 * that, a real NIC does not. On mlx5 a WQE with 30 gather entries takes
 * ten 64-byte blocks and a send queue at most 32768 blocks, rounded up to a
 * power of two, so about 3276 such WRs; rdma_create_qp fails beyond.
 *
 * So the module asks for what a typical load needs, bounded by the
 * device's max_qp_wr and by RSWAP_SQ_MAX_WRS (which fits mlx5's rule with
 * room to spare), and halves the ask while rdma_create_qp refuses it. Any
 * depth of at least RSWAP_SQ_MIN_WRS is correct: before posting, a request
 * takes one send credit per WR from its queue pair; a request that finds
 * too few credits is requeued, not failed, and a full send queue never
 * counts as a dead server.
 *
 * A request's WRs to one queue pair go as one chain of at most
 * RSWAP_SQ_REQ_MAX_WRS, only its last WR signaled (post_wrs in
 * rswap_dev.c), and the chain's credits all come back when that WR
 * completes, flushed or not: a device frees the send queue slot of an
 * unsignaled WR only once a later signaled WR of the queue has completed,
 * and completions of a send queue come in the order of its WRs. So the
 * credits never promise a slot the device still holds, and an idle queue
 * pair (RSWAP_SQ_MIN_WRS) always takes a whole chain.
 */
#ifndef RSWAP_SQ_H
#define RSWAP_SQ_H

#ifndef __KERNEL__
#include <stdint.h>
typedef uint32_t rswap_sq_u32;
#else
#include <linux/types.h>
typedef u32 rswap_sq_u32;
#endif

/* Pages in one block request, and so the most WRs one request posts. */
#define RSWAP_SQ_REQ_MAX_WRS	32
/* WRs a request posts on average: its pages come in a few runs of slots. */
#define RSWAP_SQ_WRS_PER_REQ	4
/*
 * At most this many WRs per send queue: fits mlx5 with 32 gather entries
 * (2048 x 640 bytes = 20480 blocks <= 32768) and any NIC that reports a
 * max_qp_wr of 2048 or more; beyond it only memory grows, not speed.
 */
#define RSWAP_SQ_MAX_WRS	2048
/*
 * Slots not for data: one for ib_drain_qp's drain WR, one for the control
 * SEND that queue pair 0 carries (control exchanges are one at a time).
 */
#define RSWAP_SQ_RESERVED	2
/* The smallest depth that still carries one whole request. */
#define RSWAP_SQ_MIN_WRS	(RSWAP_SQ_REQ_MAX_WRS + RSWAP_SQ_RESERVED)

static inline rswap_sq_u32 rswap_sq_min(rswap_sq_u32 a, rswap_sq_u32 b)
{
	return a < b ? a : b;
}

/*
 * The first depth to ask for: @queue_depth requests of each of the
 * @queues hardware queues that post on this queue pair, RSWAP_SQ_WRS_PER_REQ
 * WRs each, within the device's @max_qp_wr and RSWAP_SQ_MAX_WRS; 0 if the
 * device cannot hold even RSWAP_SQ_MIN_WRS.
 */
static inline rswap_sq_u32 rswap_sq_depth(rswap_sq_u32 queue_depth, rswap_sq_u32 queues,
					  rswap_sq_u32 max_qp_wr)
{
	unsigned long long want = (unsigned long long)queue_depth * queues *
				  RSWAP_SQ_WRS_PER_REQ + RSWAP_SQ_RESERVED;

	if (max_qp_wr < RSWAP_SQ_MIN_WRS)
		return 0;
	if (want < RSWAP_SQ_MIN_WRS)
		want = RSWAP_SQ_MIN_WRS;
	if (want > RSWAP_SQ_MAX_WRS)
		want = RSWAP_SQ_MAX_WRS;
	return rswap_sq_min((rswap_sq_u32)want, max_qp_wr);
}

/*
 * The next depth to try after the device refused @depth: half of it, but
 * not below RSWAP_SQ_MIN_WRS; 0 when @depth was the minimum already.
 */
static inline rswap_sq_u32 rswap_sq_retry_depth(rswap_sq_u32 depth)
{
	if (depth <= RSWAP_SQ_MIN_WRS)
		return 0;
	depth /= 2;
	return depth < RSWAP_SQ_MIN_WRS ? RSWAP_SQ_MIN_WRS : depth;
}

/* Send credits for data WRs on a queue pair whose send queue holds @depth. */
static inline rswap_sq_u32 rswap_sq_credits(rswap_sq_u32 depth)
{
	return depth > RSWAP_SQ_RESERVED ? depth - RSWAP_SQ_RESERVED : 0;
}

#endif
