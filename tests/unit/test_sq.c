// SPDX-License-Identifier: GPL-2.0
/*
 * Description: kmod/rswap_sq.h: the send queue depth the module asks for
 * fits a real NIC's rule, not just rxe's: against a model of mlx5's
 * sizing (drivers/infiniband/hw/mlx5/qp.c, calc_send_wqe/calc_sq_size),
 * every depth asked for any queue depth and hardware queue count is one
 * mlx5 creates, while the old worst-case sizing (queue_depth x 32 x
 * queues) is refused with 4 CPUs; halving after a refusal ends at the
 * minimum; credits leave room for the drain WR and the control SEND.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "rswap_sq.h"

/* mlx5: 64-byte WQE blocks (MLX5_SEND_WQE_BB), 1 << log_max_qp_sz of them. */
#define MLX5_BB			64
#define MLX5_LOG_MAX_QP_SZ	15	/* ConnectX-4 .. 7 */
#define MLX5_MAX_QP_WR		(1u << MLX5_LOG_MAX_QP_SZ)
#define MLX5_MAX_SEND_SGE	30

static uint64_t roundup_pow2(uint64_t x)
{
	uint64_t p = 1;

	while (p < x)
		p <<= 1;
	return p;
}

/*
 * An RC send WQE: control segment (16) + the larger of remote address and
 * atomic segments (32) or UMR control, mkey and inline UMR threshold
 * (48 + 64 + 64 / 16), then 16 bytes per gather entry, in whole blocks.
 * The queue is max_send_wr WQEs rounded up to a power of two bytes.
 */
static bool mlx5_creates(uint32_t max_send_wr, uint32_t max_send_sge)
{
	uint32_t overhead = 16 + (48 + 64 + 64 / 16);
	uint32_t wqe = (overhead + 16 * max_send_sge + MLX5_BB - 1) / MLX5_BB * MLX5_BB;

	if (max_send_wr > MLX5_MAX_QP_WR)
		return false;
	return roundup_pow2((uint64_t)max_send_wr * wqe) / MLX5_BB <= MLX5_MAX_QP_WR;
}

static void model_matches_mlx5(void **state)
{
	(void)state;
	/* The figures: a 30-entry WQE takes 10 blocks, so ~3276 WRs fit. */
	assert_true(mlx5_creates(3276, 30));
	assert_false(mlx5_creates(3277, 30));
	assert_true(mlx5_creates(RSWAP_SQ_MAX_WRS, 32));
}

static void old_sizing_fails_on_mlx5(void **state)
{
	/* queue_depth 32 x RSWAP_MAX_SEGS x 4 hardware queues + 2 */
	(void)state;
	assert_false(mlx5_creates(32 * 32 * 4 + 2, MLX5_MAX_SEND_SGE));
}

static void depth_fits_mlx5_for_every_load(void **state)
{
	static const uint32_t depths[] = { 1, 2, 16, 32, 128, 1024 };
	static const uint32_t queues[] = { 1, 2, 4, 8, 64, 256, 1024 };

	(void)state;
	for (size_t i = 0; i < sizeof(depths) / sizeof(depths[0]); i++) {
		for (size_t j = 0; j < sizeof(queues) / sizeof(queues[0]); j++) {
			uint32_t d = rswap_sq_depth(depths[i], queues[j], MLX5_MAX_QP_WR);

			assert_true(d >= RSWAP_SQ_MIN_WRS);
			assert_true(d <= RSWAP_SQ_MAX_WRS);
			assert_true(mlx5_creates(d, MLX5_MAX_SEND_SGE));
			assert_true(mlx5_creates(d, 32));
		}
	}
}

static void depth_follows_the_load_and_the_device(void **state)
{
	(void)state;
	/* One queue, depth 1: the minimum, one whole request. */
	assert_int_equal(rswap_sq_depth(1, 1, MLX5_MAX_QP_WR), RSWAP_SQ_MIN_WRS);
	/* 32 requests x 4 WRs + reserve. */
	assert_int_equal(rswap_sq_depth(32, 1, MLX5_MAX_QP_WR),
			 32 * RSWAP_SQ_WRS_PER_REQ + RSWAP_SQ_RESERVED);
	/* rxe offers 1M WRs: the cap holds. */
	assert_int_equal(rswap_sq_depth(1024, 64, 1u << 20), RSWAP_SQ_MAX_WRS);
	/* A small device: its limit holds. */
	assert_int_equal(rswap_sq_depth(1024, 64, 256), 256);
	/* Too small to carry one request: refused (0). */
	assert_int_equal(rswap_sq_depth(32, 1, RSWAP_SQ_MIN_WRS - 1), 0);
}

static void retry_halves_down_to_the_minimum(void **state)
{
	uint32_t d = RSWAP_SQ_MAX_WRS;
	int steps = 0;

	(void)state;
	while ((d = rswap_sq_retry_depth(d)) != 0) {
		assert_true(d >= RSWAP_SQ_MIN_WRS);
		steps++;
		assert_true(steps < 32);
	}
	assert_true(steps > 0);
	assert_int_equal(rswap_sq_retry_depth(RSWAP_SQ_MIN_WRS), 0);
	assert_int_equal(rswap_sq_retry_depth(RSWAP_SQ_MIN_WRS + 1), RSWAP_SQ_MIN_WRS);
}

static void credits_leave_the_reserve(void **state)
{
	(void)state;
	assert_int_equal(rswap_sq_credits(RSWAP_SQ_MIN_WRS), RSWAP_SQ_REQ_MAX_WRS);
	assert_int_equal(rswap_sq_credits(1), 0);
	assert_int_equal(rswap_sq_credits(RSWAP_SQ_MAX_WRS), RSWAP_SQ_MAX_WRS - RSWAP_SQ_RESERVED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(model_matches_mlx5),
		cmocka_unit_test(old_sizing_fails_on_mlx5),
		cmocka_unit_test(depth_fits_mlx5_for_every_load),
		cmocka_unit_test(depth_follows_the_load_and_the_device),
		cmocka_unit_test(retry_halves_down_to_the_minimum),
		cmocka_unit_test(credits_leave_the_reserve),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
