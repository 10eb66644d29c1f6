// SPDX-License-Identifier: GPL-2.0
/*
 * Description: server/slot_runs.c, how a migration cuts a slab's used-slot
 * bitmap into RDMA WRITEs. Runs are maximal stretches of used slots, cut at
 * the cap and continued after it; empty maps and empty tails give none;
 * bits past the slab's slot count are never copied, and MIGRATE_MAP merges
 * drop them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "slot_runs.h"

static void set(uint8_t *bits, uint32_t i)
{
	bits[i / 8] |= (uint8_t)(1u << (i % 8));
}

static void empty_map_has_no_run(void **state)
{
	uint8_t bits[32] = { 0 };
	uint32_t start = 77;

	(void)state;
	assert_int_equal(slot_run_next(bits, 256, 0, 64, &start), 0);
	assert_int_equal(start, 77);
	assert_int_equal(slot_count(bits, 256), 0);
}

static void runs_are_maximal_and_capped(void **state)
{
	uint8_t bits[32] = { 0 };
	uint32_t start, len, i, slot = 0, runs = 0, pages = 0;

	(void)state;
	set(bits, 0);
	set(bits, 1);
	set(bits, 2);		/* run 0..2 */
	set(bits, 9);		/* lone slot */
	for (i = 100; i < 200; i++)
		set(bits, i);	/* 100 slots: 64 + 36 with a cap of 64 */
	set(bits, 255);		/* the last slot */
	len = slot_run_next(bits, 256, 0, 64, &start);
	assert_int_equal(start, 0);
	assert_int_equal(len, 3);
	len = slot_run_next(bits, 256, 3, 64, &start);
	assert_int_equal(start, 9);
	assert_int_equal(len, 1);
	len = slot_run_next(bits, 256, 10, 64, &start);
	assert_int_equal(start, 100);
	assert_int_equal(len, 64);
	len = slot_run_next(bits, 256, 164, 64, &start);
	assert_int_equal(start, 164);
	assert_int_equal(len, 36);
	len = slot_run_next(bits, 256, 200, 64, &start);
	assert_int_equal(start, 255);
	assert_int_equal(len, 1);
	assert_int_equal(slot_run_next(bits, 256, 256, 64, &start), 0);
	/* Walking the whole map copies every used slot once. */
	while ((len = slot_run_next(bits, 256, slot, 64, &start))) {
		runs++;
		pages += len;
		slot = start + len;
	}
	assert_int_equal(runs, 5);
	assert_int_equal(pages, slot_count(bits, 256));
	assert_int_equal(pages, 105);
}

static void bits_past_the_slab_are_ignored(void **state)
{
	uint8_t bits[64], map[2] = { 0 };
	uint32_t start;

	(void)state;
	memset(bits, 0xff, sizeof(bits));
	/* A slab of 12 slots: a 512-bit map of all ones keeps slots 0..11. */
	slot_map_merge(map, 12, 0, bits, 512);
	assert_int_equal(map[0], 0xff);
	assert_int_equal(map[1], 0x0f);
	assert_int_equal(slot_count(map, 12), 12);
	assert_int_equal(slot_run_next(map, 12, 0, 64, &start), 12);
	/* Bits set past @n in the map itself are not copied either. */
	map[1] = 0xff;
	assert_int_equal(slot_run_next(map, 12, 0, 64, &start), 12);
	assert_int_equal(slot_run_next(map, 12, 12, 64, &start), 0);
}

static void merge_places_maps_by_first(void **state)
{
	uint8_t map[128] = { 0 }, bits[64] = { 0 };
	uint32_t start;

	(void)state;
	set(bits, 3);
	slot_map_merge(map, 1024, 512, bits, 512);
	assert_int_equal(slot_count(map, 1024), 1);
	assert_int_equal(slot_run_next(map, 1024, 0, 64, &start), 1);
	assert_int_equal(start, 515);
	/* A later map for the same slots replaces them. */
	memset(bits, 0, sizeof(bits));
	slot_map_merge(map, 1024, 512, bits, 512);
	assert_int_equal(slot_count(map, 1024), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(empty_map_has_no_run),
		cmocka_unit_test(runs_are_maximal_and_capped),
		cmocka_unit_test(bits_past_the_slab_are_ignored),
		cmocka_unit_test(merge_places_maps_by_first),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
