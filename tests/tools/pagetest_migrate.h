/* SPDX-License-Identifier: GPL-2.0 */
/* rswap_pagetest's migrate, evacuee, decoy and copyqp commands (see rswap_pagetest.c). */
#ifndef RSWAP_PAGETEST_MIGRATE_H
#define RSWAP_PAGETEST_MIGRATE_H

#include <stdint.h>

#include "auth.h"

#define PT_TARGETS_MAX 4

struct pt_endpoint {
	const char *host, *port;
};

struct pt_migrate_opts {
	struct pt_endpoint source;
	const struct pt_endpoint *targets;
	unsigned int n_targets;
	uint64_t seed;
	uint32_t slabs;		/* evacuee: slabs held on the source */
	uint32_t timeout_s;	/* evacuee: give up after */
	const char *ready;	/* evacuee: written once the slabs are filled */
	uint32_t max_copies;	/* decoy: the server's --max-copies (0: unknown) */
};

int pagetest_migrate(const struct pt_migrate_opts *o, const struct auth_key *key);
int pagetest_evacuee(const struct pt_migrate_opts *o, const struct auth_key *key);
/* pagetest_decoy.c: a MIGRATE to a non-server (--target) is refused, and
 * nothing is written there. */
int pagetest_decoy(const struct pt_migrate_opts *o, const struct auth_key *key);
/* pagetest_copy.c: what a copy queue pair on --server reaches. */
int pagetest_copyqp(const struct pt_migrate_opts *o, const struct auth_key *key);

#endif
