// SPDX-License-Identifier: GPL-2.0
/*
 * Description: server/drain_plan.c. The peers' room counts only reachable,
 * non-draining peers and names each; a drain that does not fit is refused
 * with the numbers and what to do, or with --partial moves what fits; no
 * peers means no check; a rebalance moves what is held beyond the fair
 * share, rounded up; a finished drain says what remains, client by client,
 * and why. A peer's status that no server could send is not believed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "drain_plan.h"

#define MIB (1ull << 20)

static const struct peer_status pool3[] = {
	{ "127.0.0.1:7482", true, false, MIB, 16, 8 },
	{ "127.0.0.1:7492", true, false, 2 * MIB, 8, 2 },
	{ "127.0.0.1:7502", false, false, 0, 0, 0 },
	{ "127.0.0.1:7512", true, true, MIB, 64, 64 },
};

static void room_counts_reachable_takers(void **state)
{
	char text[256];

	(void)state;
	assert_int_equal(drain_room(pool3, 4, text, sizeof(text)), 12 * MIB);
	assert_string_equal(text, "127.0.0.1:7482 8 free, 127.0.0.1:7492 2 free, "
			    "127.0.0.1:7502 unreachable, 127.0.0.1:7512 draining");
	assert_int_equal(drain_room(pool3, 0, text, sizeof(text)), 0);
	assert_string_equal(text, "");
	/* A short buffer is cut, never overrun. */
	assert_int_equal(drain_room(pool3, 4, text, 10), 12 * MIB);
	assert_int_equal(strlen(text), 9);
}

static void drain_refused_when_it_does_not_fit(void **state)
{
	char err[512] = "";

	(void)state;
	assert_int_equal(drain_goal(40, MIB, 3, 12 * MIB, "A 8 free, B 4 free, C unreachable",
				    false, err, sizeof(err)), -1);
	assert_string_equal(err, "drain refused: 40 slabs (40 MiB) held here, the peers have "
			    "room for 12 (12 MiB): A 8 free, B 4 free, C unreachable. Add "
			    "memory to the pool, or drain --partial to move what fits");
	/* partial: what fits */
	assert_int_equal(drain_goal(40, MIB, 3, 12 * MIB, "", true, err, sizeof(err)), 12);
	/* it fits: everything */
	assert_int_equal(drain_goal(40, MIB, 3, 40 * MIB, "", false, err, sizeof(err)), 40);
	/* no peers: the clients decide */
	assert_int_equal(drain_goal(40, MIB, 0, 0, "", false, err, sizeof(err)), 40);
	/* nothing held: nothing to refuse */
	assert_int_equal(drain_goal(0, MIB, 2, 0, "", false, err, sizeof(err)), 0);
	/* one slab: singular */
	assert_int_equal(drain_goal(1, 16 * MIB, 1, 8 * MIB, "A 1 free", false, err,
				    sizeof(err)), -1);
	assert_non_null(strstr(err, "1 slab (16 MiB) held here, the peers have room for 0 (0 MiB)"));
}

static void rebalance_moves_beyond_fair_share(void **state)
{
	const struct peer_status empty_peer[] = {
		{ "p", true, false, MIB, 64, 64 },
	};
	const struct peer_status busy_peer[] = {
		{ "p", true, false, MIB, 64, 0 },
	};

	(void)state;
	/* 64 used of 128: each should hold 32 */
	assert_int_equal(rebalance_goal(64, 64, MIB, empty_peer, 1), 32);
	/* 65 used of 128: fair 32.5, rounded up to 33 */
	assert_int_equal(rebalance_goal(65, 64, MIB, empty_peer, 1), 32);
	/* the peer is fuller: nothing to move from here */
	assert_int_equal(rebalance_goal(10, 64, MIB, busy_peer, 1), 0);
	/* unreachable and draining peers are not in the pool */
	assert_int_equal(rebalance_goal(8, 16, MIB, &pool3[2], 2), 0);
	/* alone: the fair share is all it holds */
	assert_int_equal(rebalance_goal(7, 16, MIB, NULL, 0), 0);
	/* other slab sizes count in bytes: 16 MiB here, 1 MiB slabs there */
	assert_int_equal(rebalance_goal(4, 4, 16 * MIB, empty_peer, 1), 2);
}

static void remains_text_names_clients_and_reasons(void **state)
{
	const struct drain_left left[] = {
		{ "host-a", 3, DRAIN_LEFT_NO_ROOM },
		{ "host-b", 0, DRAIN_LEFT_NOT_CONNECTED },
		{ "host-c", 1, DRAIN_LEFT_NOT_CONNECTED },
		{ "host-d", 2, DRAIN_LEFT_NO_ANSWER },
		{ "host-e", 1, DRAIN_LEFT_FAILED },
	};
	char text[512];

	(void)state;
	drain_left_text(text, sizeof(text), left, 0);
	assert_string_equal(text, "nothing remains here");
	drain_left_text(text, sizeof(text), &left[1], 1);
	assert_string_equal(text, "nothing remains here");
	drain_left_text(text, sizeof(text), left, 5);
	assert_string_equal(text, "3 slabs of client host-a remain: no other server had room; "
			    "1 slab of client host-c remains: client not connected; "
			    "2 slabs of client host-d remain: client did not answer; "
			    "1 slab of client host-e remains: the copy failed");
	drain_left_text(text, 20, left, 5);
	assert_int_equal(strlen(text), 19);
}

/* A peer's status comes from the network: what no server sends is refused,
 * and what passes cannot overflow the sum of 16 peers' room. */
static void peer_status_checked(void **state)
{
	(void)state;
	assert_null(drain_peer_check(16 * MIB, 1024, 1024));
	assert_null(drain_peer_check(4096, 0, 0));
	assert_non_null(drain_peer_check(0, 16, 8));
	assert_non_null(drain_peer_check(4095, 16, 8));
	assert_non_null(drain_peer_check((1ull << 30) + 4096, 16, 8));
	assert_non_null(drain_peer_check(16 * MIB, 8, 9));
	assert_non_null(drain_peer_check(1ull << 30, UINT32_MAX, UINT32_MAX));
	assert_null(drain_peer_check(1ull << 30, 1u << 20, 1u << 20));
	assert_true(16 * DRAIN_PEER_BYTES_MAX > DRAIN_PEER_BYTES_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(room_counts_reachable_takers),
		cmocka_unit_test(drain_refused_when_it_does_not_fit),
		cmocka_unit_test(rebalance_moves_beyond_fair_share),
		cmocka_unit_test(remains_text_names_clients_and_reasons),
		cmocka_unit_test(peer_status_checked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
