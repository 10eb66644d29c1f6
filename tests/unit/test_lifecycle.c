// SPDX-License-Identifier: GPL-2.0
/*
 * Description: kmod/rswap_lifecycle.h, the slab-table entry and server
 * state machines. Pins the transitions the review's data-loss bugs came
 * from: a move's target (FILLING) can never become a page-holding ACTIVE
 * slab by itself, a slab owed to a server (RETURNING) can only end in
 * FREE, a LOST slab can come back (its server returned with it), an entry
 * never goes from FREE straight to a page-holding state other than by a
 * grant; a LOST slab listed again waits DETACHED, never straight ACTIVE;
 * REMOVED servers are terminal (no work may revive them) and LOST
 * servers do not fall back to DOWN. Every state is reachable from FREE
 * (resp. DOWN) and every slab state can reach FREE again (nothing leaks).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rswap_lifecycle.h"

static void filling_never_takes_pages_by_itself(void **state)
{
	(void)state;
	assert_false(rswap_slab_may(RSWAP_SLAB_FILLING, RSWAP_SLAB_ACTIVE));
	assert_false(rswap_slab_may(RSWAP_SLAB_FILLING, RSWAP_SLAB_FROZEN));
	assert_false(rswap_slab_may(RSWAP_SLAB_FILLING, RSWAP_SLAB_DETACHED));
	assert_true(rswap_slab_may(RSWAP_SLAB_FILLING, RSWAP_SLAB_RETURNING));
}

/* A new copy being filled joins its set only whole, and never waits
 * detached: a fill that fails is given back, not resumed. */
static void copying_becomes_a_copy_or_goes_back(void **state)
{
	(void)state;
	for (int to = 0; to < RSWAP_SLAB_NR_STATES; to++)
		assert_int_equal(rswap_slab_may(RSWAP_SLAB_COPYING, to),
				 to == RSWAP_SLAB_ACTIVE || to == RSWAP_SLAB_RETURNING ||
				 to == RSWAP_SLAB_FREE);
	for (int from = 0; from < RSWAP_SLAB_NR_STATES; from++)
		assert_int_equal(rswap_slab_may(from, RSWAP_SLAB_COPYING),
				 from == RSWAP_SLAB_FREE);
}

static void returning_only_ends_free(void **state)
{
	(void)state;
	for (int to = 0; to < RSWAP_SLAB_NR_STATES; to++)
		assert_int_equal(rswap_slab_may(RSWAP_SLAB_RETURNING, to), to == RSWAP_SLAB_FREE);
}

static void lost_can_come_back(void **state)
{
	(void)state;
	/* Listed again: it waits (DETACHED) for its server's READY ... */
	assert_true(rswap_slab_may(RSWAP_SLAB_LOST, RSWAP_SLAB_DETACHED));
	assert_true(rswap_slab_may(RSWAP_SLAB_DETACHED, RSWAP_SLAB_ACTIVE));
	assert_true(rswap_slab_may(RSWAP_SLAB_DETACHED, RSWAP_SLAB_LOST));
	/* ... never ACTIVE straight away, on a server that may not be READY. */
	assert_false(rswap_slab_may(RSWAP_SLAB_LOST, RSWAP_SLAB_ACTIVE));
}

static void free_leaves_only_by_a_grant_or_a_debt(void **state)
{
	(void)state;
	for (int to = 0; to < RSWAP_SLAB_NR_STATES; to++)
		assert_int_equal(rswap_slab_may(RSWAP_SLAB_FREE, to),
				 to == RSWAP_SLAB_ACTIVE || to == RSWAP_SLAB_FILLING ||
				 to == RSWAP_SLAB_RETURNING || to == RSWAP_SLAB_COPYING);
	assert_false(rswap_slab_may(RSWAP_SLAB_FREE, RSWAP_SLAB_FREE));
}

static void reach(bool (*may)(int, int), int n, int from, bool *seen)
{
	seen[from] = true;
	for (int to = 0; to < n; to++)
		if (!seen[to] && may(from, to))
			reach(may, n, to, seen);
}

static bool slab_may(int a, int b) { return rswap_slab_may(a, b); }
static bool server_may(int a, int b) { return rswap_server_may(a, b); }

static void every_slab_state_reachable_and_freeable(void **state)
{
	bool seen[RSWAP_SLAB_NR_STATES];

	(void)state;
	memset(seen, 0, sizeof(seen));
	reach(slab_may, RSWAP_SLAB_NR_STATES, RSWAP_SLAB_FREE, seen);
	for (int s = 0; s < RSWAP_SLAB_NR_STATES; s++)
		assert_true(seen[s]);
	for (int s = 1; s < RSWAP_SLAB_NR_STATES; s++) {
		memset(seen, 0, sizeof(seen));
		reach(slab_may, RSWAP_SLAB_NR_STATES, s, seen);
		assert_true(seen[RSWAP_SLAB_FREE]);
	}
}

static void removed_is_terminal(void **state)
{
	bool seen[RSWAP_SRV_NR_STATES];

	(void)state;
	for (int to = 0; to < RSWAP_SRV_NR_STATES; to++)
		assert_false(rswap_server_may(RSWAP_SRV_REMOVED, to));
	for (int from = 0; from < RSWAP_SRV_REMOVED; from++)
		assert_true(rswap_server_may(from, RSWAP_SRV_REMOVED));
	assert_false(rswap_server_may(RSWAP_SRV_LOST, RSWAP_SRV_DOWN));
	assert_false(rswap_server_may(RSWAP_SRV_READY, RSWAP_SRV_LOST));
	memset(seen, 0, sizeof(seen));
	reach(server_may, RSWAP_SRV_NR_STATES, RSWAP_SRV_DOWN, seen);
	for (int s = 0; s < RSWAP_SRV_NR_STATES; s++)
		assert_true(seen[s]);
}

static void names_are_distinct(void **state)
{
	(void)state;
	for (int a = 0; a < RSWAP_SLAB_NR_STATES; a++)
		for (int b = a + 1; b < RSWAP_SLAB_NR_STATES; b++)
			assert_string_not_equal(rswap_slab_state_name(a), rswap_slab_state_name(b));
	assert_string_equal(rswap_slab_state_name(RSWAP_SLAB_NR_STATES), "?");
	assert_string_equal(rswap_server_state_name(RSWAP_SRV_READY), "ready");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(filling_never_takes_pages_by_itself),
		cmocka_unit_test(copying_becomes_a_copy_or_goes_back),
		cmocka_unit_test(returning_only_ends_free),
		cmocka_unit_test(lost_can_come_back),
		cmocka_unit_test(free_leaves_only_by_a_grant_or_a_debt),
		cmocka_unit_test(every_slab_state_reachable_and_freeable),
		cmocka_unit_test(removed_is_terminal),
		cmocka_unit_test(names_are_distinct),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
