/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Patterned test pages: every 8-byte word of page @index is a function of
 * (seed, index, word), so a page that lands in the wrong place, is torn, or
 * is stale from an earlier run with another seed never compares equal.
 */
#ifndef RSWAP_PAGE_PATTERN_H
#define RSWAP_PAGE_PATTERN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define PATTERN_PAGE_SIZE 4096u
#define PATTERN_WORDS (PATTERN_PAGE_SIZE / sizeof(uint64_t))

static inline uint64_t pattern_mix(uint64_t x)
{
	/* splitmix64 finaliser */
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static inline uint64_t pattern_word(uint64_t seed, uint64_t index, size_t word)
{
	return pattern_mix(seed ^ pattern_mix(index * PATTERN_WORDS + word));
}

static inline void pattern_fill(void *page, uint64_t seed, uint64_t index)
{
	uint64_t *w = page;
	size_t i;

	for (i = 0; i < PATTERN_WORDS; i++)
		w[i] = pattern_word(seed, index, i);
}

/* Returns the byte offset of the first difference, or -1 if identical. */
static inline long pattern_check(const void *page, uint64_t seed, uint64_t index)
{
	const uint64_t *w = page;
	size_t i;

	for (i = 0; i < PATTERN_WORDS; i++) {
		uint64_t want = pattern_word(seed, index, i);

		if (w[i] != want) {
			size_t b = 0;

			while (((const uint8_t *)&w[i])[b] == ((const uint8_t *)&want)[b])
				b++;
			return (long)(i * sizeof(uint64_t) + b);
		}
	}
	return -1;
}

#endif
