// SPDX-License-Identifier: GPL-2.0
/* slot_runs: see slot_runs.h. */
#include "slot_runs.h"

static int slot_set(const uint8_t *bits, uint32_t i)
{
	return bits[i / 8] >> (i % 8) & 1;
}

uint32_t slot_run_next(const uint8_t *bits, uint32_t n, uint32_t from, uint32_t max,
		       uint32_t *start)
{
	uint32_t i = from, len = 0;

	/* Skip whole empty bytes: most of a sparse map. */
	while (i < n && !slot_set(bits, i)) {
		if (i % 8 == 0 && !bits[i / 8])
			i += 8;
		else
			i++;
	}
	if (i >= n || !max)
		return 0;
	*start = i;
	while (i < n && len < max && slot_set(bits, i)) {
		i++;
		len++;
	}
	return len;
}

uint32_t slot_count(const uint8_t *bits, uint32_t n)
{
	uint32_t i, count = 0;

	for (i = 0; i < n; i++)
		count += (uint32_t)slot_set(bits, i);
	return count;
}

void slot_map_merge(uint8_t *map, uint32_t n, uint32_t first, const uint8_t *bits,
		    uint32_t n_bits)
{
	uint32_t j;

	for (j = 0; j < n_bits / 8 && first + 8 * j < n; j++) {
		uint32_t left = n - (first + 8 * j);
		uint8_t byte = bits[j];

		if (left < 8)
			byte &= (uint8_t)((1u << left) - 1);
		map[first / 8 + j] = byte;
	}
}
