// SPDX-License-Identifier: GPL-2.0
/* histogram: see histogram.h. */
#include "histogram.h"

#include <inttypes.h>

void hist_observe(struct hist *h, uint64_t ns)
{
	uint64_t us = (ns + 999) / 1000;	/* 1 ns is in the first bucket (le 1 us) */
	unsigned int i = 0;

	while (i < HIST_BUCKETS && us > (1ull << i))
		i++;
	h->bucket[i]++;
	h->count++;
	h->sum_ns += ns;
}

void hist_print_prom(FILE *f, const char *name, const char *help, const struct hist *h)
{
	uint64_t cum = 0;
	unsigned int i;

	fprintf(f, "# HELP rswap_%s %s\n# TYPE rswap_%s histogram\n", name, help, name);
	for (i = 0; i < HIST_BUCKETS; i++) {
		cum += h->bucket[i];
		fprintf(f, "rswap_%s_bucket{le=\"%.6f\"} %" PRIu64 "\n", name,
			(double)(1ull << i) / 1e6, cum);
	}
	cum += h->bucket[HIST_BUCKETS];
	fprintf(f, "rswap_%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", name, cum);
	fprintf(f, "rswap_%s_sum %.9f\n", name, (double)h->sum_ns / 1e9);
	fprintf(f, "rswap_%s_count %" PRIu64 "\n", name, h->count);
}
