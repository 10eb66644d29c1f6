/* SPDX-License-Identifier: GPL-2.0 */
/*
 * histogram: a latency histogram for the server's /metrics, in Prometheus's
 * shape. Buckets are powers of two of microseconds (1 us to about 8.4 s),
 * then +Inf; one instance is written by one thread (the event loop).
 */
#ifndef RSWAP_SERVER_HISTOGRAM_H
#define RSWAP_SERVER_HISTOGRAM_H

#include <stdint.h>
#include <stdio.h>

#define HIST_BUCKETS 24		/* le 2^0 .. 2^23 microseconds */

struct hist {
	uint64_t bucket[HIST_BUCKETS + 1];	/* per bucket, not cumulated; last: +Inf */
	uint64_t count;
	uint64_t sum_ns;
};

/* One observation of @ns nanoseconds. */
void hist_observe(struct hist *h, uint64_t ns);

/*
 * The family rswap_@name (a name ending in _seconds): HELP, TYPE histogram,
 * the cumulated buckets with le in seconds, _sum and _count.
 */
void hist_print_prom(FILE *f, const char *name, const char *help, const struct hist *h);

#endif
