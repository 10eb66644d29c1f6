/* SPDX-License-Identifier: GPL-2.0 */
/*
 * slot_runs: a slab's used slots as a bitmap (bit i of byte j: slot 8j + i,
 * as MIGRATE_MAP carries them), cut into runs of consecutive slots that one
 * RDMA WRITE each can copy. Pure: the unit tests drive it.
 */
#ifndef RSWAP_SLOT_RUNS_H
#define RSWAP_SLOT_RUNS_H

#include <stdint.h>

/*
 * The first run of set bits among bits @from .. @n - 1 of @bits, at most
 * @max long: its first slot in *start and its length returned; 0 when no
 * bit is set there. A run longer than @max continues at *start + @max.
 */
uint32_t slot_run_next(const uint8_t *bits, uint32_t n, uint32_t from, uint32_t max,
		       uint32_t *start);

/* Set bits among the first @n. */
uint32_t slot_count(const uint8_t *bits, uint32_t n);

/*
 * Merge MIGRATE_MAP's 512 bits for slots @first.. into @map (@n slots; @first
 * a multiple of 8 below @n): bits beyond @n are dropped.
 */
void slot_map_merge(uint8_t *map, uint32_t n, uint32_t first, const uint8_t *bits,
		    uint32_t n_bits);

#endif
