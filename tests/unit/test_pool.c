// SPDX-License-Identifier: GPL-2.0
/*
 * Description: server/pool.c slab bookkeeping. Grants give the lowest free
 * slab; quotas and the memory limit refuse with their own codes and are
 * counted; a client can return only its own slabs; replayed grants land on
 * exactly the slab named; the client table refuses past its size; a
 * client's held slabs are listed lowest first, in bounded batches, and
 * returning them all frees exactly those. Every freed slab is dirty until
 * scrubbed, a held one never is, and start-up marks every free slab dirty.
 * An entry holding slabs cannot be removed; one that holds none is removed
 * and its slot serves a newcomer; the entry to reclaim is one holding no
 * slab and not busy, idle the longest.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pool.h"

static const uint8_t id_a[RSWAP_ID_LEN] = { 1 };
static const uint8_t id_b[RSWAP_ID_LEN] = { 2 };
static const uint8_t id_c[RSWAP_ID_LEN] = { 3 };

static int setup(void **state)
{
	static struct pool p;

	if (pool_init(&p, 8, 1 << 20, 2, 5))
		return -1;
	*state = &p;
	return 0;
}

static int teardown(void **state)
{
	pool_fini(*state);
	return 0;
}

static void bad_sizes_are_refused(void **state)
{
	struct pool q;

	(void)state;
	assert_int_equal(pool_init(&q, 0, 4096, 1, 1), -1);
	assert_int_equal(pool_init(&q, 1, 0, 1, 1), -1);
	assert_int_equal(pool_init(&q, 1, 4096, 0, 1), -1);
}

static void clients_are_found_and_bounded(void **state)
{
	struct pool *p = *state;
	uint32_t a, b;

	assert_int_equal(pool_client_find(p, id_a), POOL_NONE);
	a = pool_client_get(p, id_a, "alpha");
	b = pool_client_get(p, id_b, NULL);
	assert_int_not_equal(a, POOL_NONE);
	assert_int_not_equal(b, POOL_NONE);
	assert_int_not_equal(a, b);
	assert_int_equal(pool_client_get(p, id_a, "alpha2"), a);
	assert_string_equal(p->clients[a].name, "alpha2");
	assert_int_equal(p->clients[b].quota, 5);
	/* table of two is full */
	assert_int_equal(pool_client_get(p, id_c, "gamma"), POOL_NONE);
}

static void grants_quota_and_memory(void **state)
{
	struct pool *p = *state;
	uint32_t a = pool_client_get(p, id_a, "a"), b = pool_client_get(p, id_b, "b");
	int64_t s;
	int i;

	/* what the server tells a client it could still get (placement hint) */
	assert_int_equal(pool_grantable(p, a), 5);
	for (i = 0; i < 5; i++)
		assert_int_equal(pool_grant(p, a), i);
	assert_int_equal(pool_grantable(p, a), 0);
	assert_int_equal(pool_grantable(p, b), 3);	/* memory, not quota, limits b */
	assert_int_equal(pool_grant(p, a), -RSWAP_ERR_QUOTA);
	assert_int_equal(p->clients[a].refused_quota_total, 1);
	assert_int_equal(p->clients[a].held, 5);

	assert_int_equal(pool_grant(p, b), 5);
	assert_int_equal(pool_grant(p, b), 6);
	assert_int_equal(pool_grant(p, b), 7);
	assert_int_equal(p->n_free, 0);
	assert_int_equal(pool_grant(p, b), -RSWAP_ERR_NO_MEMORY);
	assert_int_equal(p->clients[b].refused_memory_total, 1);

	/* returned slabs come back lowest first */
	assert_int_equal(pool_return(p, a, 3), 0);
	assert_int_equal(pool_return(p, a, 1), 0);
	assert_int_equal(p->n_free, 2);
	s = pool_grant(p, b);
	assert_int_equal(s, 1);
	assert_int_equal(pool_grant(p, b), 3);
	assert_int_equal(p->clients[b].held, 5);
	assert_int_equal(p->clients[a].returns_total, 2);

	/* unknown client */
	assert_int_equal(pool_grant(p, 7), -RSWAP_ERR_NO_SLAB);
}

static void only_the_owner_returns(void **state)
{
	struct pool *p = *state;
	uint32_t a = pool_client_get(p, id_a, "a"), b = pool_client_get(p, id_b, "b");

	assert_int_equal(pool_grant(p, a), 0);
	assert_int_equal(pool_return(p, b, 0), -RSWAP_ERR_NO_SLAB);
	assert_int_equal(pool_return(p, a, 1), -RSWAP_ERR_NO_SLAB);
	assert_int_equal(pool_return(p, a, 8), -RSWAP_ERR_NO_SLAB);
	assert_int_equal(pool_return(p, a, POOL_NONE), -RSWAP_ERR_NO_SLAB);
	assert_int_equal(pool_return(p, a, 0), 0);
	assert_int_equal(pool_return(p, a, 0), -RSWAP_ERR_NO_SLAB);
	assert_int_equal(p->n_free, 8);
}

static void replayed_grants_are_exact(void **state)
{
	struct pool *p = *state;
	uint32_t a = pool_client_get(p, id_a, "a"), b = pool_client_get(p, id_b, "b");
	uint32_t s, n = 0;
	int i;

	assert_int_equal(pool_grant_slab(p, a, 6), 0);
	assert_int_equal(pool_grant_slab(p, a, 2), 0);
	assert_int_equal(pool_grant_slab(p, b, 6), -RSWAP_ERR_NO_SLAB);
	assert_int_equal(pool_grant_slab(p, b, 8), -RSWAP_ERR_NO_SLAB);
	/* replay ignores the quota of 5 */
	for (i = 3; i < 6; i++)
		assert_int_equal(pool_grant_slab(p, a, i), 0);
	assert_int_equal(pool_grant_slab(p, a, 7), 0);
	assert_int_equal(p->clients[a].held, 6);
	/* new grants skip what replay took */
	assert_int_equal(pool_grant(p, b), 0);
	assert_int_equal(pool_grant(p, b), 1);
	assert_int_equal(pool_grant(p, b), -RSWAP_ERR_NO_MEMORY);

	for (s = pool_next_held(p, a, POOL_NONE); s != POOL_NONE; s = pool_next_held(p, a, s))
		n++;
	assert_int_equal(n, 6);
	assert_int_equal(pool_next_held(p, b, POOL_NONE), 0);
	assert_int_equal(pool_next_held(p, b, 0), 1);
	assert_int_equal(pool_next_held(p, b, 1), POOL_NONE);
}

static void held_slabs_are_listed_in_batches(void **state)
{
	struct pool *p = *state;
	uint32_t a = pool_client_get(p, id_a, "a"), b = pool_client_get(p, id_b, "b");
	uint32_t got[8], n, i, freed = 0;

	assert_int_equal(pool_held_slabs(p, a, got, 8), 0);
	for (i = 0; i < 8; i++)
		assert_int_equal(pool_grant_slab(p, i % 3 == 1 ? b : a, i), 0);
	/* a: 0 2 3 5 6; b: 1 4 7 */
	assert_int_equal(pool_held_slabs(p, a, got, 2), 2);
	assert_int_equal(got[0], 0);
	assert_int_equal(got[1], 2);
	/* every slab of a, in batches of two, as a FRESH client's are freed */
	while ((n = pool_held_slabs(p, a, got, 2))) {
		for (i = 0; i < n; i++)
			assert_int_equal(pool_return(p, a, got[i]), 0);
		freed += n;
	}
	assert_int_equal(freed, 5);
	assert_int_equal(p->clients[a].held, 0);
	assert_int_equal(p->clients[b].held, 3);
	assert_int_equal(p->n_free, 5);
	assert_int_equal(pool_held_slabs(p, b, got, 8), 3);
	assert_int_equal(got[0], 1);
	assert_int_equal(got[1], 4);
	assert_int_equal(got[2], 7);
	/* an unknown client holds nothing */
	assert_int_equal(pool_held_slabs(p, 7, got, 8), 0);
	assert_int_equal(pool_held_slabs(p, POOL_NONE, got, 8), 0);
}

static void freed_slabs_are_dirty_until_scrubbed(void **state)
{
	struct pool *p = *state;
	uint32_t a = pool_client_get(p, id_a, "a"), b = pool_client_get(p, id_b, "b");

	assert_int_equal(p->n_dirty, 0);
	assert_int_equal(pool_grant(p, a), 0);
	assert_int_equal(pool_grant(p, a), 1);
	assert_false(pool_slab_dirty(p, 0));
	assert_int_equal(pool_return(p, a, 0), 0);
	assert_true(pool_slab_dirty(p, 0));
	assert_int_equal(p->n_dirty, 1);
	assert_int_equal(pool_next_dirty(p, POOL_NONE), 0);
	/* the next grant gets it, still dirty: the server scrubs it first */
	assert_int_equal(pool_grant(p, b), 0);
	assert_true(pool_slab_dirty(p, 0));
	assert_int_equal(pool_next_dirty(p, POOL_NONE), POOL_NONE);	/* held */
	pool_slab_scrubbed(p, 0);
	assert_false(pool_slab_dirty(p, 0));
	assert_int_equal(p->n_dirty, 0);
	pool_slab_scrubbed(p, 0);
	assert_int_equal(p->n_dirty, 0);
	/* start-up: every free slab dirty, held ones clean */
	pool_mark_free_dirty(p);
	assert_int_equal(p->n_dirty, 6);
	assert_false(pool_slab_dirty(p, 0));
	assert_false(pool_slab_dirty(p, 1));
	assert_int_equal(pool_next_dirty(p, POOL_NONE), 2);
	assert_int_equal(pool_next_dirty(p, 6), 7);
	assert_int_equal(pool_next_dirty(p, 7), POOL_NONE);
}

static bool busy_b(void *arg, uint32_t client)
{
	return client == *(uint32_t *)arg;
}

static void entries_are_removed_and_reclaimed(void **state)
{
	struct pool *p = *state;
	uint32_t a = pool_client_get(p, id_a, "a"), b = pool_client_get(p, id_b, "b"), c;

	assert_int_equal(pool_grant(p, a), 0);
	/* a holds a slab, b is busy (connected): nothing to reclaim */
	assert_int_equal(pool_client_reclaimable(p, busy_b, &b), POOL_NONE);
	assert_int_equal(pool_client_remove(p, a), -1);
	assert_int_equal(pool_client_remove(p, 7), -1);
	/* b idle: it goes */
	p->clients[b].idle_since_ns = 100;
	assert_int_equal(pool_client_reclaimable(p, NULL, NULL), b);
	assert_int_equal(pool_return(p, a, 0), 0);
	/* both idle: the one idle the longest */
	p->clients[a].idle_since_ns = 50;
	assert_int_equal(pool_client_reclaimable(p, NULL, NULL), a);
	assert_int_equal(pool_client_reclaimable(p, busy_b, &a), b);
	assert_int_equal(pool_client_remove(p, b), 0);
	assert_int_equal(pool_client_find(p, id_b), POOL_NONE);
	assert_int_equal(pool_client_remove(p, b), -1);
	c = pool_client_get(p, id_c, "c");
	assert_int_equal(c, b);
	assert_int_equal(p->clients[c].held, 0);
	assert_int_equal(p->clients[c].grants_total, 0);
	assert_string_equal(p->clients[c].name, "c");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bad_sizes_are_refused),
		cmocka_unit_test_setup_teardown(clients_are_found_and_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(grants_quota_and_memory, setup, teardown),
		cmocka_unit_test_setup_teardown(only_the_owner_returns, setup, teardown),
		cmocka_unit_test_setup_teardown(replayed_grants_are_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(held_slabs_are_listed_in_batches, setup, teardown),
		cmocka_unit_test_setup_teardown(freed_slabs_are_dirty_until_scrubbed, setup, teardown),
		cmocka_unit_test_setup_teardown(entries_are_removed_and_reclaimed, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
