// SPDX-License-Identifier: GPL-2.0
/*
 * rswap_pagetest migrate and evacuee: a slab copied from one server to
 * another by the servers themselves (MIGRATE_MAP, MIGRATE), checked byte for
 * byte on the target through the client's own connection there.
 */
#include "pt_connect.h"
#include "pagetest_migrate.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <infiniband/verbs.h>

#include "page_pattern.h"
#include "rswap_client.h"

/* Seeds of what must never show up where the used slots' pages go. */
#define JUNK_SEED 0x6a756e6bull		/* written on the source, not mapped */
#define CANARY_SEED 0x63616e61ull	/* written on the target beforehand */

/* Which slots of slab @k hold pages: runs of 3, a run of 100 (longer than a
 * copy's WRITE), the last slot. */
static bool slot_used(uint32_t k, uint32_t slot, uint32_t per_slab)
{
	return (slot >= 100 && slot < 200) || (slot + k) % 7 < 3 || slot == per_slab - 1;
}

static uint64_t page_seed(uint64_t seed, uint32_t k)
{
	return seed + k;
}

/* One connection with a one-page buffer registered in its PD. */
struct side {
	struct rswap_client c;
	uint8_t *buf;
	struct ibv_mr *mr;
	bool up;
};

static int side_open(struct side *s, const struct pt_endpoint *e, const struct auth_key *key,
		     const uint8_t *id, const char *name)
{
	s->buf = aligned_alloc(PATTERN_PAGE_SIZE, PATTERN_PAGE_SIZE);
	if (!s->buf || pt_connect(&s->c, e->host, e->port, key, id, name)) {
		fprintf(stderr, "%s: %s:%s: %s\n", name, e->host, e->port,
			s->buf ? s->c.error : "out of memory");
		return -1;
	}
	s->mr = rswap_client_reg(&s->c, s->buf, PATTERN_PAGE_SIZE);
	if (!s->mr) {
		fprintf(stderr, "%s: ibv_reg_mr failed\n", name);
		return -1;
	}
	s->up = true;
	return 0;
}

static void side_close(struct side *s)
{
	if (s->mr)
		ibv_dereg_mr(s->mr);
	if (s->up)
		rswap_client_close(&s->c);
	free(s->buf);
	memset(s, 0, sizeof(*s));
}

/* Write page @slot of slab index @i: @seed's pattern. */
static int put(struct side *s, uint32_t i, uint32_t slot, uint64_t seed)
{
	pattern_fill(s->buf, seed, slot);
	if (rswap_client_write(&s->c, i, slot, s->buf, 1, s->mr)) {
		fprintf(stderr, "write slot %u: %s\n", slot, s->c.error);
		return -1;
	}
	return 0;
}

/* Fill slab index @i: used slots of pattern @k get their pages (none when
 * @all_other), the others @other's pattern, or nothing when @other is 0. */
static int fill(struct side *s, uint32_t i, uint32_t k, bool all_other, uint64_t seed,
		uint64_t other)
{
	uint32_t per = (uint32_t)(s->c.slab_size / PATTERN_PAGE_SIZE), slot;

	for (slot = 0; slot < per; slot++) {
		if (!all_other && slot_used(k, slot, per) ? put(s, i, slot, page_seed(seed, k)) :
		    other && put(s, i, slot, other))
			return -1;
	}
	return 0;
}

/* Send the maps of pattern @k's used slots for @slab: 0 or -1. */
static int send_maps(struct rswap_client *c, uint32_t slab, uint32_t k, uint32_t *used)
{
	uint32_t per = (uint32_t)(c->slab_size / PATTERN_PAGE_SIZE), first, slot;
	uint8_t bits[RSWAP_MAP_BITS / 8];

	*used = 0;
	for (first = 0; first < per; first += RSWAP_MAP_BITS) {
		memset(bits, 0, sizeof(bits));
		for (slot = first; slot < per && slot < first + RSWAP_MAP_BITS; slot++) {
			if (!slot_used(k, slot, per))
				continue;
			bits[(slot - first) / 8] |= (uint8_t)(1u << ((slot - first) % 8));
			(*used)++;
		}
		if (rswap_client_migrate_map(c, slab, first, bits)) {
			fprintf(stderr, "MIGRATE_MAP: %s\n", c->error);
			return -1;
		}
	}
	return 0;
}

/* Read slab index @i of @t back: used slots must hold pattern @k's pages,
 * the others @other's (0: not checked). Slots that differ. */
static long check_copy(struct side *t, uint32_t i, uint32_t k, uint64_t seed, uint64_t other)
{
	uint32_t per = (uint32_t)(t->c.slab_size / PATTERN_PAGE_SIZE), slot;
	long bad = 0;

	for (slot = 0; slot < per; slot++) {
		bool used = slot_used(k, slot, per);

		if (!used && !other)
			continue;
		if (rswap_client_read(&t->c, i, slot, t->buf, 1, t->mr)) {
			fprintf(stderr, "read slot %u: %s\n", slot, t->c.error);
			return bad + 1;
		}
		if (pattern_check(t->buf, used ? page_seed(seed, k) : other, slot) >= 0) {
			if (bad < 5)
				fprintf(stderr, "slot %u: %s\n", slot, used ? "copy differs" :
					"an unused slot was overwritten");
			bad++;
		}
	}
	return bad;
}

/* Expect the last call on @c to have failed with @code; 0 if so. */
static int refused(const char *what, int ret, struct rswap_client *c, int code)
{
	if (ret >= 0 || c->last_error != code) {
		printf("migrate: %s: NOT refused as expected (code %d, want %d: %s)\n", what,
		       ret >= 0 ? 0 : c->last_error, code, c->error);
		return 1;
	}
	printf("migrate: %s refused (%s)\n", what, c->error);
	c->last_error = 0;
	return 0;
}

int pagetest_migrate(const struct pt_migrate_opts *o, const struct auth_key *key)
{
	struct side a = { 0 }, b = { 0 };
	uint8_t id[RSWAP_ID_LEN], wrong[RSWAP_TOKEN_LEN], none[RSWAP_MAP_BITS / 8] = { 0 };
	int ia, ib, pages, fails = 0;
	uint32_t slab, used;
	long bad;

	if (getrandom(id, sizeof(id), 0) != (ssize_t)sizeof(id) ||
	    side_open(&a, &o->source, key, id, "migrate") ||
	    side_open(&b, &o->targets[0], key, id, "migrate"))
		goto out_fail;
	ia = rswap_client_grant(&a.c);
	ib = rswap_client_grant(&b.c);
	if (ia < 0 || ib < 0) {
		fprintf(stderr, "migrate: grant: %s\n", ia < 0 ? a.c.error : b.c.error);
		goto out_fail;
	}
	slab = a.c.slabs[ia].slab;
	if (fill(&a, (uint32_t)ia, 0, false, o->seed, o->seed ^ JUNK_SEED) ||
	    fill(&b, (uint32_t)ib, 0, true, 0, o->seed ^ CANARY_SEED))
		goto out_fail;

	fails += refused("MIGRATE without a map",
			 rswap_client_migrate(&a.c, slab, &b.c, (uint32_t)ib, NULL), &a.c,
			 RSWAP_ERR_STATE);
	fails += refused("MIGRATE_MAP of a slab not ours",
			 rswap_client_migrate_map(&a.c, slab + 1, 0, none), &a.c, RSWAP_ERR_NO_SLAB);
	fails += refused("MIGRATE_MAP beyond the slab",
			 rswap_client_migrate_map(&a.c, slab, 1u << 30, none), &a.c,
			 RSWAP_ERR_MALFORMED);
	if (send_maps(&a.c, slab, 0, &used))
		goto out_fail;
	fails += refused("MIGRATE of a slab not ours",
			 rswap_client_migrate(&a.c, slab + 1, &b.c, (uint32_t)ib, NULL), &a.c,
			 RSWAP_ERR_NO_SLAB);
	memcpy(wrong, b.c.token, sizeof(wrong));
	wrong[0] ^= 1;
	fails += refused("MIGRATE with a wrong attach token",
			 rswap_client_migrate(&a.c, slab, &b.c, (uint32_t)ib, wrong), &a.c,
			 RSWAP_ERR_INTERNAL);

	pages = rswap_client_migrate(&a.c, slab, &b.c, (uint32_t)ib, NULL);
	if (pages < 0) {
		printf("migrate: MIGRATE FAILED: %s\n", a.c.error);
		goto out_fail;
	}
	bad = check_copy(&b, (uint32_t)ib, 0, o->seed, o->seed ^ CANARY_SEED);
	printf("migrate: slab %u copied server to server: %d pages (%u used slots of %llu), "
	       "%ld slots differ on the target\n", slab, pages, used,
	       (unsigned long long)(a.c.slab_size / PATTERN_PAGE_SIZE), bad);
	fails += (uint32_t)pages != used || bad;
	if (rswap_client_return(&a.c, (uint32_t)ia) || rswap_client_return(&b.c, (uint32_t)ib)) {
		fprintf(stderr, "migrate: return: %s / %s\n", a.c.error, b.c.error);
		fails++;
	}
	side_close(&a);
	side_close(&b);
	return fails ? 1 : 0;
out_fail:
	side_close(&a);
	side_close(&b);
	return 1;
}

static uint64_t mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

/* A slab granted on one of the targets: its side, index in *ti; NULL if
 * none has room (or is up). Targets are connected at the first need. */
static struct side *target_slab(const struct pt_migrate_opts *o, struct side *t,
				const struct auth_key *key, const uint8_t *id, int *ti)
{
	unsigned int i;

	for (i = 0; i < o->n_targets; i++) {
		if (!t[i].up && side_open(&t[i], &o->targets[i], key, id, "evacuee"))
			continue;
		*ti = rswap_client_grant(&t[i].c);
		if (*ti >= 0)
			return &t[i];
		fprintf(stderr, "evacuee: %s:%s: %s\n", o->targets[i].host, o->targets[i].port,
			t[i].c.error);
	}
	return NULL;
}

/* Move slab index @i (pages of pattern @k) of @a as rswap.ko would: 1 moved
 * and checked, 0 not moved (answered NOT_MOVED), -1 on failure. */
static int evacuate(const struct pt_migrate_opts *o, struct side *a, struct side *t,
		    const struct auth_key *key, const uint8_t *id, uint32_t i, uint32_t k,
		    bool empty, uint64_t *pages_total)
{
	uint32_t slab = a->c.slabs[i].slab, used;
	struct side *to;
	int ti, pages;
	long bad;

	if (empty)
		return rswap_client_return(&a->c, i) ? -1 : 1;
	to = target_slab(o, t, key, id, &ti);
	if (!to)
		return rswap_client_not_moved(&a->c, slab, RSWAP_ERR_NO_MEMORY) ? -1 : 0;
	if (send_maps(&a->c, slab, k, &used))
		return -1;
	pages = rswap_client_migrate(&a->c, slab, &to->c, (uint32_t)ti, NULL);
	if (pages < 0) {
		fprintf(stderr, "evacuee: MIGRATE of slab %u: %s\n", slab, a->c.error);
		return -1;
	}
	bad = check_copy(to, (uint32_t)ti, k, o->seed, 0);
	if ((uint32_t)pages != used || bad) {
		fprintf(stderr, "evacuee: slab %u: %d pages copied of %u, %ld differ\n", slab,
			pages, used, bad);
		return -1;
	}
	*pages_total += (uint32_t)pages;
	/* Now the copy is authoritative: the old slab goes back. */
	return rswap_client_return(&a->c, i) ? -1 : 1;
}

int pagetest_evacuee(const struct pt_migrate_opts *o, const struct auth_key *key)
{
	struct side a = { 0 }, t[PT_TARGETS_MAX];
	uint32_t k, moved = 0, not_moved = 0, held, slab;
	uint64_t pages = 0, deadline = mono_s() + o->timeout_s;
	uint8_t id[RSWAP_ID_LEN];
	bool *pattern_empty;
	uint32_t *pattern_of;
	int ret = 1, got;
	unsigned int i;
	FILE *f;

	memset(t, 0, sizeof(t));
	pattern_empty = calloc(o->slabs, sizeof(*pattern_empty));
	pattern_of = calloc(RSWAP_CLIENT_SLABS_MAX, sizeof(*pattern_of));
	if (!pattern_empty || !pattern_of || o->n_targets > PT_TARGETS_MAX ||
	    getrandom(id, sizeof(id), 0) != (ssize_t)sizeof(id) ||
	    side_open(&a, &o->source, key, id, "evacuee"))
		goto out;
	for (k = 0; k < o->slabs; k++) {
		int i2 = rswap_client_grant(&a.c);

		if (i2 < 0) {
			fprintf(stderr, "evacuee: grant: %s\n", a.c.error);
			goto out;
		}
		/* The last slab stays empty: returned without a copy. */
		if (k == o->slabs - 1 && o->slabs > 1)
			pattern_empty[k] = true;
		else if (fill(&a, (uint32_t)i2, k, false, o->seed, 0))
			goto out;
	}
	f = fopen(o->ready, "w");
	if (!f || fclose(f)) {
		perror(o->ready);
		goto out;
	}
	printf("evacuee: holding %u slabs, waiting for EVACUATE\n", o->slabs);
	fflush(stdout);
	/* Slab indexes move as slabs are returned: remember patterns by number. */
	for (k = 0; k < a.c.n_slabs; k++)
		pattern_of[k] = a.c.slabs[k].slab;
	held = a.c.n_slabs;
	while (held && mono_s() < deadline) {
		got = rswap_client_wait_evacuate(&a.c, 1000, &slab);
		if (got < 0) {
			fprintf(stderr, "evacuee: %s\n", a.c.error);
			goto out;
		}
		if (!got)
			continue;
		for (k = 0; k < o->slabs && pattern_of[k] != slab; k++)
			;
		for (i = 0; i < a.c.n_slabs && a.c.slabs[i].slab != slab; i++)
			;
		if (k == o->slabs || i == a.c.n_slabs) {
			fprintf(stderr, "evacuee: EVACUATE of slab %u, not ours\n", slab);
			goto out;
		}
		got = evacuate(o, &a, t, key, id, i, k, pattern_empty[k], &pages);
		if (got < 0)
			goto out;
		moved += got;
		not_moved += !got;
		held -= got;
		printf("evacuee: slab %u %s\n", slab, got ? "moved" : "not moved: no room");
		fflush(stdout);
	}
	printf("evacuee: %u slabs moved (%llu pages copied server to server, checked on the "
	       "targets), %u not moved, %u still held\n", moved, (unsigned long long)pages,
	       not_moved, held);
	ret = held ? 1 : 0;
out:
	side_close(&a);
	for (i = 0; i < PT_TARGETS_MAX; i++)
		side_close(&t[i]);
	free(pattern_empty);
	free(pattern_of);
	return ret;
}
