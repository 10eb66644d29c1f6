// SPDX-License-Identifier: GPL-2.0
/*
 * Description: kmod/rswap_map.c, compiled for userspace: same-filled page
 * detection; map entries and their counters; the slot allocator gives
 * consecutive slots of one slab, never the same slot twice, keeps its free
 * count right through activate/deactivate/mark/free, and says when a slab
 * empties (checked against a simple model over thousands of random steps).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rswap_map.h"

static uint64_t page[RSWAP_MAP_PAGE_SIZE / 8];

static void same_filled_pages(void **state)
{
	uint64_t w = 1;

	(void)state;
	memset(page, 0, sizeof(page));
	assert_true(rswap_page_same_filled(page, &w));
	assert_int_equal(w, 0);
	memset(page, 0xff, sizeof(page));
	assert_true(rswap_page_same_filled(page, &w));
	assert_true(w == UINT64_MAX);
	for (size_t i = 0; i < 512; i++)
		page[i] = 0x89abcdef89abcdefull;
	assert_true(rswap_page_same_filled(page, &w));
	assert_true(w == 0x89abcdef89abcdefull);
	page[511] ^= 1;
	assert_false(rswap_page_same_filled(page, &w));
	page[511] ^= 1;
	page[200] ^= 1ull << 63;
	assert_false(rswap_page_same_filled(page, &w));
	page[200] ^= 1ull << 63;
	page[0] = 0;
	assert_false(rswap_page_same_filled(page, &w));
	/* One 64-bit word whose halves differ: more than an entry keeps, so a slot. */
	for (size_t i = 0; i < 512; i++)
		page[i] = 0x0123456789abcdefull;
	w = 7;
	assert_false(rswap_page_same_filled(page, &w));
	assert_int_equal(w, 7);
}

static void map_entries_and_counters(void **state)
{
	struct rswap_map m;
	struct rswap_entry old;

	(void)state;
	assert_int_equal(sizeof(struct rswap_entry), 8);
	assert_int_equal(rswap_map_init(&m, 100), 0);
	assert_int_equal(rswap_map_geometry(&m, 1000, 4096), 0);
	assert_int_equal(rswap_entry_type(&m.entries[42]), RSWAP_EMPTY);
	rswap_map_set(&m, 42, RSWAP_ZERO, 99, &old);
	assert_int_equal(rswap_entry_type(&old), RSWAP_EMPTY);
	assert_int_equal(rswap_entry_type(&m.entries[42]), RSWAP_ZERO);
	assert_true(rswap_entry_word(&m.entries[42]) == 0);
	assert_int_equal(m.zero_pages, 1);
	rswap_map_set(&m, 42, RSWAP_SAME, 0xababababababababull, &old);
	assert_int_equal(rswap_entry_type(&old), RSWAP_ZERO);
	assert_int_equal(m.zero_pages, 0);
	assert_int_equal(m.same_pages, 1);
	assert_true(rswap_entry_word(&m.entries[42]) == 0xababababababababull);
	assert_int_equal(rswap_entry_csum(&m.entries[42]), 0);
	rswap_map_set_remote(&m, 42, 7, 300, 0xdeadbeef, &old);
	assert_int_equal(rswap_entry_type(&old), RSWAP_SAME);
	assert_true(rswap_entry_word(&old) == 0xababababababababull);
	assert_int_equal(rswap_entry_csum(&old), 0);
	assert_int_equal(rswap_entry_type(&m.entries[42]), RSWAP_REMOTE);
	assert_int_equal(rswap_entry_slab(&m, &m.entries[42]), 7);
	assert_int_equal(rswap_entry_page(&m, &m.entries[42]), 300);
	assert_int_equal(rswap_entry_csum(&m.entries[42]), 0xdeadbeef);
	assert_true(rswap_entry_word(&m.entries[42]) == 0);
	assert_int_equal(m.remote_pages, 1);
	assert_int_equal(m.same_pages, 0);
	rswap_map_set(&m, 42, RSWAP_EMPTY, 0, &old);
	assert_int_equal(rswap_entry_type(&old), RSWAP_REMOTE);
	assert_int_equal(rswap_entry_slab(&m, &old), 7);
	assert_int_equal(rswap_entry_csum(&old), 0xdeadbeef);
	/* a checksum belongs to the REMOTE page it was made for only */
	assert_int_equal(rswap_entry_csum(&m.entries[42]), 0);
	assert_int_equal(m.remote_pages, 0);
	/* REMOTE goes through rswap_map_set_entry: a misuse makes EMPTY, not slab 0 */
	rswap_map_set(&m, 43, RSWAP_REMOTE, 5, &old);
	assert_int_equal(rswap_entry_type(&m.entries[43]), RSWAP_EMPTY);
	assert_int_equal(m.remote_pages, 0);
	rswap_map_fini(&m);
}

/*
 * Every slot of the largest table an entry can name round-trips, with any
 * checksum, and a table one slab too big is refused; slabs of any page
 * count (one page, not a power of two, the largest) name their slots
 * exactly: slab * pages_per_slab + page.
 */
static void map_entry_slots_round_trip(void **state)
{
	static const uint32_t pps[] = { 1, 16, 4096, 4097, 262144 };
	static const uint32_t csums[] = { 0, 1, 0x80000000u, 0xffffffffu };
	struct rswap_map m;

	(void)state;
	assert_int_equal(rswap_map_init(&m, 4), 0);
	assert_int_equal(m.pages_per_slab, 1);
	for (size_t k = 0; k < sizeof(pps) / sizeof(pps[0]); k++) {
		uint32_t max_slabs = (uint32_t)((1ull << RSWAP_ENTRY_SLOT_BITS) / pps[k]);

		assert_int_equal(rswap_map_geometry(&m, max_slabs + 1, pps[k]), -E2BIG);
		assert_int_equal(rswap_map_geometry(&m, max_slabs, pps[k]), 0);
		assert_int_equal(m.pages_per_slab, pps[k]);
		for (uint32_t slab = 0; slab < max_slabs; slab += max_slabs / 7 + 1) {
			const uint32_t pages[] = { 0, pps[k] / 3, pps[k] / 2, pps[k] - 1 };

			for (size_t p = 0; p < 4; p++) {
				struct rswap_entry old;
				const struct rswap_entry *e = &m.entries[1];
				uint32_t csum = csums[(slab + p) % 4];

				rswap_map_set_remote(&m, 1, slab, pages[p], csum, &old);
				assert_int_equal(rswap_entry_type(e), RSWAP_REMOTE);
				assert_int_equal(rswap_entry_slab(&m, e), slab);
				assert_int_equal(rswap_entry_page(&m, e), pages[p]);
				{
					uint32_t pg = UINT32_MAX;

					assert_int_equal(rswap_entry_where(&m, e, &pg), slab);
					assert_int_equal(pg, pages[p]);
				}
				assert_true(rswap_entry_csum(e) == csum);
			}
		}
		/* the last slot of the last slab */
		{
			struct rswap_entry old;

			rswap_map_set_remote(&m, 2, max_slabs - 1, pps[k] - 1, 0xffffffffu, &old);
			assert_int_equal(rswap_entry_slab(&m, &m.entries[2]), max_slabs - 1);
			assert_int_equal(rswap_entry_page(&m, &m.entries[2]), pps[k] - 1);
			assert_int_equal(rswap_entry_type(&m.entries[2]), RSWAP_REMOTE);
			assert_true(rswap_entry_csum(&m.entries[2]) == 0xffffffffu);
		}
	}
	assert_int_equal(rswap_map_geometry(&m, 0, 4096), -E2BIG);
	assert_int_equal(rswap_map_geometry(&m, 1, 0), -E2BIG);
	assert_int_equal(rswap_map_geometry(&m, 2, 1u << 31), -E2BIG);
	assert_int_equal(rswap_map_geometry(&m, 1, 1u << 31), 0);
	rswap_map_fini(&m);
}

static void slots_are_placed_in_runs(void **state)
{
	struct rswap_slots s;
	uint32_t slab, first;

	(void)state;
	assert_int_equal(rswap_slots_init(&s, 2, 8), 0);
	assert_int_equal(rswap_slots_alloc(&s, 4, &slab, &first), 0);	/* none active */
	rswap_slots_activate(&s, 0);
	assert_int_equal(s.free_slots, 8);
	assert_int_equal(rswap_slots_alloc(&s, 5, &slab, &first), 5);
	assert_int_equal(slab, 0);
	assert_int_equal(first, 0);
	/* only 3 left in the slab: a shorter run, never split across slabs */
	assert_int_equal(rswap_slots_alloc(&s, 5, &slab, &first), 3);
	assert_int_equal(first, 5);
	assert_int_equal(s.free_slots, 0);
	assert_int_equal(rswap_slots_alloc(&s, 1, &slab, &first), 0);

	rswap_slots_activate(&s, 1);
	assert_int_equal(rswap_slots_alloc(&s, 4, &slab, &first), 4);
	assert_int_equal(slab, 1);
	assert_false(rswap_slots_free(&s, 0, 2));
	assert_int_equal(s.free_slots, 5);
	/* the current slab (1) is preferred */
	assert_int_equal(rswap_slots_alloc(&s, 1, &slab, &first), 1);
	assert_int_equal(slab, 1);
	assert_int_equal(first, 4);
	/* a draining slab gets nothing new */
	rswap_slots_deactivate(&s, 1);
	assert_int_equal(s.free_slots, 1);
	assert_int_equal(rswap_slots_alloc(&s, 3, &slab, &first), 1);
	assert_int_equal(slab, 0);
	assert_int_equal(first, 2);
	/* emptying a slab is reported once, on its last slot */
	for (uint32_t p = 0; p < 4; p++)
		assert_false(rswap_slots_free(&s, 1, p));
	assert_true(rswap_slots_free(&s, 1, 4));
	assert_false(rswap_slots_free(&s, 1, 4));	/* already free */
	/* rebuilding after a reattach */
	rswap_slots_mark(&s, 1, 6);
	rswap_slots_mark(&s, 1, 6);
	assert_int_equal(s.slabs[1].used, 1);
	rswap_slots_activate(&s, 1);
	assert_int_equal(s.free_slots, 7);
	rswap_slots_fini(&s);
}

/* Random allocations and frees against a model of who holds what. */
static void slots_match_a_model(void **state)
{
	enum { SLABS = 5, PPS = 64, STEPS = 20000 };
	static uint8_t model[SLABS][PPS];
	struct rswap_slots s;
	uint32_t slab, first, n, i, p, free_model;

	(void)state;
	memset(model, 0, sizeof(model));
	srand(12345);
	assert_int_equal(rswap_slots_init(&s, SLABS, PPS), 0);
	for (i = 0; i < SLABS; i++)
		rswap_slots_activate(&s, i);
	for (i = 0; i < STEPS; i++) {
		if (rand() % 2) {
			n = rswap_slots_alloc(&s, 1 + (uint32_t)rand() % 16, &slab, &first);
			for (p = first; p < first + n; p++) {
				assert_true(p < PPS);
				assert_int_equal(model[slab][p], 0);
				model[slab][p] = 1;
			}
		} else {
			slab = (uint32_t)rand() % SLABS;
			p = (uint32_t)rand() % PPS;
			if (model[slab][p]) {
				bool empty;
				uint32_t left = 0, q;

				model[slab][p] = 0;
				empty = rswap_slots_free(&s, slab, p);
				for (q = 0; q < PPS; q++)
					left += model[slab][q];
				assert_int_equal(empty, left == 0);
			}
		}
		free_model = 0;
		for (slab = 0; slab < SLABS; slab++)
			for (p = 0; p < PPS; p++)
				free_model += !model[slab][p];
		assert_int_equal(s.free_slots, free_model);
	}
	rswap_slots_fini(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(same_filled_pages),
		cmocka_unit_test(map_entries_and_counters),
		cmocka_unit_test(map_entry_slots_round_trip),
		cmocka_unit_test(slots_are_placed_in_runs),
		cmocka_unit_test(slots_match_a_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
