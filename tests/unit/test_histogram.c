// SPDX-License-Identifier: GPL-2.0
/*
 * Description: server/histogram.c. An observation lands in the first
 * bucket whose bound holds it (a bound is inclusive: exactly 2 us is le
 * 0.000002); anything past the last bound is counted in +Inf only; the
 * printed buckets are cumulated, and _sum and _count agree with what was
 * observed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "histogram.h"

static void bounds_are_inclusive(void **state)
{
	struct hist h = { 0 };

	(void)state;
	hist_observe(&h, 1);		/* 1 ns: le 1 us */
	hist_observe(&h, 1000);		/* 1 us: le 1 us */
	hist_observe(&h, 1001);		/* just over: le 2 us */
	hist_observe(&h, 2000);		/* 2 us: le 2 us */
	hist_observe(&h, 3000);		/* le 4 us */
	assert_int_equal(h.bucket[0], 2);
	assert_int_equal(h.bucket[1], 2);
	assert_int_equal(h.bucket[2], 1);
	assert_int_equal(h.count, 5);
	assert_int_equal(h.sum_ns, 1 + 1000 + 1001 + 2000 + 3000);
}

static void past_the_last_bound_is_inf(void **state)
{
	struct hist h = { 0 };

	(void)state;
	hist_observe(&h, (1ull << (HIST_BUCKETS - 1)) * 1000);		/* the last bound */
	hist_observe(&h, (1ull << (HIST_BUCKETS - 1)) * 1000 + 1000);	/* past it */
	hist_observe(&h, 60ull * 1000000000);				/* a minute */
	assert_int_equal(h.bucket[HIST_BUCKETS - 1], 1);
	assert_int_equal(h.bucket[HIST_BUCKETS], 2);
}

static void printed_cumulated_with_sum_and_count(void **state)
{
	struct hist h = { 0 };
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	assert_non_null(f);
	hist_observe(&h, 500);
	hist_observe(&h, 1500000);	/* 1.5 ms: le 2.048 ms */
	hist_observe(&h, 100ull * 1000000000);
	hist_print_prom(f, "grant_seconds", "time to answer a GRANT", &h);
	assert_int_equal(fclose(f), 0);
	assert_non_null(strstr(text, "# HELP rswap_grant_seconds time to answer a GRANT\n"
				     "# TYPE rswap_grant_seconds histogram\n"));
	assert_non_null(strstr(text, "rswap_grant_seconds_bucket{le=\"0.000001\"} 1\n"));
	assert_non_null(strstr(text, "rswap_grant_seconds_bucket{le=\"0.001024\"} 1\n"));
	assert_non_null(strstr(text, "rswap_grant_seconds_bucket{le=\"0.002048\"} 2\n"));
	assert_non_null(strstr(text, "rswap_grant_seconds_bucket{le=\"8.388608\"} 2\n"));
	assert_non_null(strstr(text, "rswap_grant_seconds_bucket{le=\"+Inf\"} 3\n"));
	assert_non_null(strstr(text, "rswap_grant_seconds_sum 100.001500500\n"));
	assert_non_null(strstr(text, "rswap_grant_seconds_count 3\n"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bounds_are_inclusive),
		cmocka_unit_test(past_the_last_bound_is_inf),
		cmocka_unit_test(printed_cumulated_with_sum_and_count),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
