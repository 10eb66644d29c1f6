// SPDX-License-Identifier: GPL-2.0
/*
 * Description: kmod/rswap_reserve.h: the free-slot reserve is the floor
 * while writes are slow, grows to whole slabs covering what the writes take
 * in RSWAP_RESERVE_GRANTS refill rounds at their rate, doubles while writes
 * wait for slots and halves after each calm spell, is capped (at a sixteenth
 * of the device, at most 256 MiB), follows a lull back down, skips samples
 * too short to say a rate, and does not overflow at absurd rates or round
 * trips.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "rswap_reserve.h"

#define MS (1000ULL * 1000)
#define FLOOR 4096u	/* 16 MiB of pages */
#define PPS 4096u	/* 16 MiB slabs */
#define CAP RSWAP_RESERVE_MAX_PAGES	/* a device of 4 GiB or more */

static void floor_while_slow(void **state)
{
	struct rswap_reserve_est r = { 0 };

	(void)state;
	assert_int_equal(rswap_reserve_pages(&r, FLOOR, CAP, PPS), FLOOR);
	rswap_reserve_sample(&r, 0, 0, 1000 * MS);
	rswap_reserve_grant_sample(&r, 5 * MS);
	/* 20000 pages a second (80 MB/s) for a second: 4 rounds of 5 ms are 400 pages */
	rswap_reserve_sample(&r, 20000, 0, 2000 * MS);
	assert_int_equal(r.rate, 10000);	/* averaged with the 0 before */
	assert_int_equal(rswap_reserve_pages(&r, FLOOR, CAP, PPS), FLOOR);
}

static void grows_with_rate_and_round_trip(void **state)
{
	struct rswap_reserve_est r = { 0 };
	uint64_t t = 1000 * MS, taken = 0;

	(void)state;
	rswap_reserve_sample(&r, taken, 0, t);
	/* 2.5M pages a second (10 GB/s), grants of 5 ms: 12500 pages a round */
	for (int i = 0; i < 20; i++) {
		t += 100 * MS;
		taken += 250000;
		rswap_reserve_sample(&r, taken, 0, t);
		rswap_reserve_grant_sample(&r, 5 * MS);
	}
	assert_true(r.rate > 2490000 && r.rate <= 2500000);
	/* 4 rounds: ~50000 pages, rounded up to 13 slabs of 4096 */
	assert_int_equal(rswap_reserve_pages(&r, FLOOR, CAP, PPS), 13 * PPS);
	/* slabs of 1 MiB round finer */
	assert_int_equal(rswap_reserve_pages(&r, FLOOR, CAP, 256) % 256, 0);
	assert_true(rswap_reserve_pages(&r, FLOOR, CAP, 256) < 13 * PPS);
	/* a slow server (grants of 50 ms): capped at 256 MiB of pages */
	for (int i = 0; i < 10; i++)
		rswap_reserve_grant_sample(&r, 50 * MS);
	assert_int_equal(rswap_reserve_pages(&r, FLOOR, CAP, PPS), CAP);
	/* a floor above the cap wins */
	assert_int_equal(rswap_reserve_pages(&r, 2 * CAP, CAP, PPS),
			 2 * CAP);
	/* a lull: nothing taken for a few refills, back to the floor */
	for (int i = 0; i < 40; i++) {
		t += 1000 * MS;
		rswap_reserve_sample(&r, taken, 0, t);
	}
	assert_int_equal(rswap_reserve_pages(&r, FLOOR, CAP, PPS), FLOOR);
}

static void short_samples_skipped(void **state)
{
	struct rswap_reserve_est r = { 0 };

	(void)state;
	rswap_reserve_sample(&r, 100, 0, 1000 * MS);
	rswap_reserve_sample(&r, 100000, 0, 1000 * MS + 1 * MS);
	assert_int_equal(r.rate, 0);
	assert_int_equal(r.taken, 100);
	rswap_reserve_sample(&r, 100100, 0, 1000 * MS + 20 * MS);
	/* 100000 pages in 20 ms, averaged with 0 */
	assert_int_equal(r.rate, 2500000);
}

static void no_overflow(void **state)
{
	struct rswap_reserve_est r = { .rate = UINT64_MAX / 2, .grant_ns = UINT64_MAX / 3 };

	(void)state;
	assert_int_equal(rswap_reserve_pages(&r, FLOOR, CAP, PPS), RSWAP_RESERVE_MAX_PAGES);
	/* a counter that went backwards (a new table) is a new start, not a huge rate */
	r = (struct rswap_reserve_est){ 0 };
	rswap_reserve_sample(&r, 5000, 0, 1000 * MS);
	rswap_reserve_sample(&r, 10, 0, 2000 * MS);
	assert_int_equal(r.rate, 0);
	assert_int_equal(r.taken, 10);
	/* no slab size yet: pages, not slabs */
	r.rate = 1000000;
	r.grant_ns = 10 * MS;
	assert_int_equal(rswap_reserve_pages(&r, 0, CAP, 0), 40000);
}

static void doubles_while_writes_wait(void **state)
{
	struct rswap_reserve_est r = { 0 };
	uint64_t t = 1000 * MS, waits = 0;
	uint64_t cap = rswap_reserve_cap(512 * 256);	/* a 512 MiB device */

	(void)state;
	assert_int_equal(cap, 8192);
	assert_int_equal(rswap_reserve_cap(1ull << 30), RSWAP_RESERVE_MAX_PAGES);
	/* grants of 2 s, writes waiting at each: the rate is the grants' */
	rswap_reserve_sample(&r, 0, waits, t);
	assert_int_equal(rswap_reserve_pages(&r, FLOOR, cap, 256), FLOOR);
	t += 2000 * MS;
	waits += 5;
	rswap_reserve_sample(&r, 256, waits, t);
	rswap_reserve_grant_sample(&r, 2000 * MS);
	assert_int_equal(r.shift, 1);
	assert_int_equal(rswap_reserve_pages(&r, FLOOR, cap, 256), 2 * FLOOR);
	for (int i = 0; i < 10; i++) {
		t += 2000 * MS;
		waits += 5;
		rswap_reserve_sample(&r, 256 * (i + 2), waits, t);
	}
	assert_int_equal(r.shift, RSWAP_RESERVE_MAX_SHIFT);
	assert_int_equal(rswap_reserve_pages(&r, FLOOR, cap, 256), cap);
	/* the grants' rate, 127 slots/s, over 4 rounds of 2 s: 4 slabs, doubled 6 times */
	assert_int_equal(rswap_reserve_pages(&r, 256, 1ull << 40, 256), 1024 << RSWAP_RESERVE_MAX_SHIFT);
	/* calm: no wait for 10 s halves it, once per 10 s, however often sampled */
	for (int i = 0; i < 9; i++) {
		t += 1000 * MS;
		rswap_reserve_sample(&r, 100000, waits, t);
	}
	assert_int_equal(r.shift, RSWAP_RESERVE_MAX_SHIFT);
	t += 1000 * MS;
	rswap_reserve_sample(&r, 100000, waits, t);
	assert_int_equal(r.shift, RSWAP_RESERVE_MAX_SHIFT - 1);
	t += 5000 * MS;
	rswap_reserve_sample(&r, 100000, waits, t);
	assert_int_equal(r.shift, RSWAP_RESERVE_MAX_SHIFT - 1);
	for (int i = 0; i < RSWAP_RESERVE_MAX_SHIFT; i++) {
		t += 10000 * MS;
		rswap_reserve_sample(&r, 100000, waits, t);
	}
	assert_int_equal(r.shift, 0);
	/* a wait samples too soon for a rate still counts */
	rswap_reserve_sample(&r, 100000, waits + 1, t + 30 * MS);
	assert_int_equal(r.shift, 1);
	/* the same episode of waiting, seen again within a grant's time (2 s): once */
	rswap_reserve_sample(&r, 100000, waits + 2, t + 500 * MS);
	rswap_reserve_sample(&r, 100000, waits + 3, t + 1500 * MS);
	assert_int_equal(r.shift, 1);
	rswap_reserve_sample(&r, 100000, waits + 4, t + 4000 * MS);
	assert_int_equal(r.shift, 2);
}

static void huge_gaps_do_not_overflow(void **state)
{
	struct rswap_reserve_est r = { 0 };

	(void)state;
	/* 2^40 slots taken between two samples a second apart: clamped, not wrapped */
	rswap_reserve_sample(&r, 0, 0, 1000 * MS);
	rswap_reserve_sample(&r, 1ull << 40, 0, 2000 * MS);
	assert_true(r.rate > (1ull << 30));
	rswap_reserve_grant_sample(&r, 1000 * MS);
	assert_int_equal(rswap_reserve_pages(&r, FLOOR, CAP, PPS), CAP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(floor_while_slow),
		cmocka_unit_test(grows_with_rate_and_round_trip),
		cmocka_unit_test(short_samples_skipped),
		cmocka_unit_test(no_overflow),
		cmocka_unit_test(doubles_while_writes_wait),
		cmocka_unit_test(huge_gaps_do_not_overflow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
