/* SPDX-License-Identifier: GPL-2.0 */
/* Command-line numbers for the test tools: whole, in range, or refused. */
#ifndef RSWAP_TOOL_ARGS_H
#define RSWAP_TOOL_ARGS_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/*
 * Parse @s (decimal, or 0x.. hex) into *out if it is a number 0..@max.
 * Otherwise print "@prog: bad @what '@s' (want 0..@max)" and return -1.
 */
static inline int tool_parse_u64(const char *prog, const char *what, const char *s,
				 uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || v > max || s[0] == '-') {
		fprintf(stderr, "%s: bad %s '%s' (want 0..%llu)\n", prog, what, s,
			(unsigned long long)max);
		return -1;
	}
	*out = v;
	return 0;
}

#endif
