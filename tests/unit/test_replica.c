// SPDX-License-Identifier: GPL-2.0
/*
 * Description: kmod/rswap_replica.c, compiled for userspace: the copy
 * lifecycle (every transition of the diagram allowed, every other one
 * refused with the copy unchanged, and each transition's condition), the
 * dirty maps (runs across word boundaries and at the slab's end, capped
 * runs, counts checked against a model over random steps), writes racing
 * a resync or a whole-slab fill (marked again, so confirmation leaves the
 * copy STALE for another pass), a failed pass put back, placement across
 * failure domains (never a server of the set, a used domain only as a
 * reported fallback, refused when strict, ties to the lower server), the
 * read choice and its failover, the degraded count through a server's
 * loss and recovery, and the memory the maps take.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rswap_replica.h"

#define PPS 200			/* not a multiple of 64: maps end mid-word */

/* The diagram, written out independently of rswap_copy_may. */
static const bool allowed[RSWAP_COPY_NR_STATES][RSWAP_COPY_NR_STATES] = {
	[RSWAP_COPY_ABSENT] = { [RSWAP_COPY_LIVE] = true, [RSWAP_COPY_NEW] = true },
	[RSWAP_COPY_LIVE] = { [RSWAP_COPY_STALE] = true, [RSWAP_COPY_ABSENT] = true },
	[RSWAP_COPY_STALE] = { [RSWAP_COPY_LIVE] = true, [RSWAP_COPY_SYNCING] = true,
			       [RSWAP_COPY_ABSENT] = true },
	[RSWAP_COPY_SYNCING] = { [RSWAP_COPY_LIVE] = true, [RSWAP_COPY_STALE] = true,
				 [RSWAP_COPY_ABSENT] = true },
	[RSWAP_COPY_NEW] = { [RSWAP_COPY_LIVE] = true, [RSWAP_COPY_STALE] = true,
			     [RSWAP_COPY_ABSENT] = true },
};

static enum rswap_copy_state st(const struct rswap_replicas *rs, u32 slab, u32 copy)
{
	return rs->sets[slab].copy[copy].state;
}

static u32 entry_of(u32 slab, u32 copy)
{
	return 100 + slab * RSWAP_MAX_REPLICAS + copy;
}

/*
 * Bring copy 1 of @slab to @want, with copy 0 LIVE beside it as the
 * source; a STALE copy 1 has slot 5 dirty.
 */
static void reach(struct rswap_replicas *rs, u32 slab, enum rswap_copy_state want)
{
	assert_int_equal(rswap_replica_set_state(rs, slab, 0, RSWAP_COPY_LIVE, entry_of(slab, 0)),
			 0);
	switch (want) {
	case RSWAP_COPY_ABSENT:
		break;
	case RSWAP_COPY_LIVE:
		assert_int_equal(rswap_replica_set_state(rs, slab, 1, RSWAP_COPY_LIVE,
							 entry_of(slab, 1)), 0);
		break;
	case RSWAP_COPY_STALE:
	case RSWAP_COPY_SYNCING:
		assert_int_equal(rswap_replica_set_state(rs, slab, 1, RSWAP_COPY_LIVE,
							 entry_of(slab, 1)), 0);
		assert_int_equal(rswap_replica_set_state(rs, slab, 1, RSWAP_COPY_STALE,
							 RSWAP_NO_SLAB), 0);
		assert_int_equal(rswap_replica_mark_dirty(rs, slab, 1, 5, 1), 0);
		if (want == RSWAP_COPY_SYNCING)
			assert_int_equal(rswap_replica_set_state(rs, slab, 1, RSWAP_COPY_SYNCING,
								 RSWAP_NO_SLAB), 0);
		break;
	case RSWAP_COPY_NEW:
		assert_int_equal(rswap_replica_set_state(rs, slab, 1, RSWAP_COPY_NEW,
							 entry_of(slab, 1)), 0);
		break;
	default:
		fail();
	}
	assert_int_equal(st(rs, slab, 1), want);
}

static void every_transition_allowed_or_refused(void **state)
{
	(void)state;
	for (int from = 0; from < RSWAP_COPY_NR_STATES; from++) {
		for (int to = 0; to < RSWAP_COPY_NR_STATES; to++) {
			struct rswap_replicas rs;
			int ret;

			assert_int_equal(rswap_replica_init(&rs, 1, PPS, 3), 0);
			reach(&rs, 0, from);
			assert_true(rswap_copy_may(from, to) == allowed[from][to]);
			ret = rswap_replica_set_state(&rs, 0, 1, to, entry_of(0, 1));
			if (!allowed[from][to]) {
				assert_int_equal(ret, -EINVAL);
				assert_int_equal(st(&rs, 0, 1), from);
			} else if ((to == RSWAP_COPY_LIVE && from != RSWAP_COPY_ABSENT) ||
				   (to == RSWAP_COPY_STALE && from == RSWAP_COPY_NEW)) {
				/* not confirmed, or (STALE) slot 5 missed: not yet */
				assert_int_equal(ret, -EBUSY);
				assert_int_equal(st(&rs, 0, 1), from);
			} else {
				assert_int_equal(ret, 0);
				assert_int_equal(st(&rs, 0, 1), to);
			}
			rswap_replica_fini(&rs);
		}
	}
}

static void each_state_refuses_one(void **state)
{
	struct rswap_replicas rs;

	(void)state;
	assert_int_equal(rswap_replica_init(&rs, 5, PPS, 3), 0);
	reach(&rs, 0, RSWAP_COPY_ABSENT);
	assert_int_equal(rswap_replica_set_state(&rs, 0, 1, RSWAP_COPY_STALE, 7), -EINVAL);
	reach(&rs, 1, RSWAP_COPY_LIVE);
	assert_int_equal(rswap_replica_set_state(&rs, 1, 1, RSWAP_COPY_SYNCING, 7), -EINVAL);
	assert_int_equal(rswap_replica_set_state(&rs, 1, 1, RSWAP_COPY_LIVE, 7), -EINVAL);
	reach(&rs, 2, RSWAP_COPY_STALE);
	assert_int_equal(rswap_replica_set_state(&rs, 2, 1, RSWAP_COPY_NEW, 7), -EINVAL);
	reach(&rs, 3, RSWAP_COPY_SYNCING);
	assert_int_equal(rswap_replica_set_state(&rs, 3, 1, RSWAP_COPY_NEW, 7), -EINVAL);
	rswap_replica_fini(&rs);
	assert_int_equal(rswap_replica_init(&rs, 1, PPS, 3), 0);
	reach(&rs, 0, RSWAP_COPY_NEW);
	assert_int_equal(rswap_replica_set_state(&rs, 0, 1, RSWAP_COPY_SYNCING, 7), -EINVAL);
	assert_int_equal(rswap_replica_set_state(&rs, 0, 1, RSWAP_COPY_NEW, 7), -EINVAL);
	assert_int_equal(st(&rs, 0, 1), RSWAP_COPY_NEW);
	assert_int_equal(rs.sets[0].copy[1].entry, entry_of(0, 1));
	rswap_replica_fini(&rs);
}

static void transition_conditions(void **state)
{
	struct rswap_replicas rs;

	(void)state;
	assert_int_equal(rswap_replica_init(&rs, 4, PPS, 2), 0);
	/* out of range: slab, copy beyond replicas, state */
	assert_int_equal(rswap_replica_set_state(&rs, 4, 0, RSWAP_COPY_LIVE, 1), -ERANGE);
	assert_int_equal(rswap_replica_set_state(&rs, 0, 2, RSWAP_COPY_LIVE, 1), -ERANGE);
	assert_int_equal(rswap_replica_set_state(&rs, 0, 0, RSWAP_COPY_NR_STATES, 1), -ERANGE);
	/* a copy needs a table entry */
	assert_int_equal(rswap_replica_set_state(&rs, 0, 0, RSWAP_COPY_LIVE, RSWAP_NO_SLAB),
			 -EBUSY);
	/* NEW needs a LIVE survivor to copy from */
	assert_int_equal(rswap_replica_set_state(&rs, 0, 0, RSWAP_COPY_NEW, 1), -ENODATA);
	assert_int_equal(rswap_replica_set_state(&rs, 0, 0, RSWAP_COPY_LIVE, 1), 0);
	/* a set with pages: an empty slab cannot join it LIVE, only as a copy */
	assert_int_equal(rswap_replica_write_begin(&rs, 0, 0, 1), 1u);
	assert_int_equal(rswap_replica_set_state(&rs, 0, 1, RSWAP_COPY_LIVE, 2), -EBUSY);
	assert_int_equal(rswap_replica_set_state(&rs, 0, 1, RSWAP_COPY_NEW, 2), 0);
	/* every page freed: it may again */
	assert_int_equal(rswap_replica_set_state(&rs, 0, 1, RSWAP_COPY_ABSENT, 0), 0);
	rswap_replica_emptied(&rs, 0);
	assert_int_equal(rswap_replica_set_state(&rs, 0, 1, RSWAP_COPY_LIVE, 2), 0);
	assert_int_equal(rs.sets[0].copy[1].entry, 2);

	/* STALE and clean (missed nothing): straight back to LIVE; nothing to sync */
	assert_int_equal(rswap_replica_set_state(&rs, 0, 1, RSWAP_COPY_STALE, 0), 0);
	assert_int_equal(rswap_replica_set_state(&rs, 0, 1, RSWAP_COPY_SYNCING, 0), -EBUSY);
	assert_int_equal(rswap_replica_set_state(&rs, 0, 1, RSWAP_COPY_LIVE, 0), 0);
	assert_int_equal(rs.sets[0].copy[1].entry, 2);	/* kept */

	/* SYNCING without a LIVE source */
	assert_int_equal(rswap_replica_set_state(&rs, 1, 0, RSWAP_COPY_LIVE, 3), 0);
	assert_int_equal(rswap_replica_set_state(&rs, 1, 0, RSWAP_COPY_STALE, 0), 0);
	assert_int_equal(rswap_replica_mark_dirty(&rs, 1, 0, 0, 1), 0);
	assert_int_equal(rswap_replica_set_state(&rs, 1, 0, RSWAP_COPY_SYNCING, 0), -ENODATA);

	/* one pass at a time */
	assert_int_equal(rswap_replica_set_state(&rs, 0, 1, RSWAP_COPY_STALE, 0), 0);
	assert_int_equal(rswap_replica_mark_dirty(&rs, 0, 1, 3, 2), 0);
	assert_int_equal(rswap_replica_set_state(&rs, 0, 1, RSWAP_COPY_SYNCING, 0), 0);
	assert_int_equal(rswap_replica_set_state(&rs, 2, 0, RSWAP_COPY_LIVE, 4), 0);
	assert_int_equal(rswap_replica_set_state(&rs, 2, 1, RSWAP_COPY_LIVE, 5), 0);
	assert_int_equal(rswap_replica_set_state(&rs, 2, 1, RSWAP_COPY_STALE, 0), 0);
	assert_int_equal(rswap_replica_mark_dirty(&rs, 2, 1, 9, 1), 0);
	assert_int_equal(rswap_replica_set_state(&rs, 2, 1, RSWAP_COPY_SYNCING, 0), -EBUSY);
	/* dropped mid-sync: the pass is free again */
	assert_int_equal(rswap_replica_set_state(&rs, 0, 1, RSWAP_COPY_ABSENT, 0), 0);
	assert_int_equal(rs.pass_slab, RSWAP_NO_SLAB);
	assert_true(rswap_replica_is_clean(&rs, 0, 1));
	assert_int_equal(rs.sets[0].copy[1].entry, RSWAP_NO_SLAB);
	assert_int_equal(rswap_replica_set_state(&rs, 2, 1, RSWAP_COPY_SYNCING, 0), 0);

	/* copy_done only for a copy being copied */
	assert_int_equal(rswap_replica_copy_done(&rs, 2, 0, true), -EINVAL);
	assert_int_equal(rswap_replica_copy_done(&rs, 9, 0, true), -ERANGE);
	rswap_replica_fini(&rs);
}

static void dirty_runs(void **state)
{
	struct rswap_replicas rs;
	u32 pos, first, len;

	(void)state;
	assert_int_equal(rswap_replica_init(&rs, 2, PPS, 2), 0);
	assert_true(rswap_replica_is_clean(&rs, 1, 1));
	pos = 0;
	assert_false(rswap_replica_next_dirty(&rs, 1, 1, &pos, 0, &first, &len));

	/* across the first word boundary, touching the second's end, at the slab's end */
	assert_int_equal(rswap_replica_mark_dirty(&rs, 1, 1, 60, 10), 0);
	assert_int_equal(rswap_replica_mark_dirty(&rs, 1, 1, 127, 3), 0);
	assert_int_equal(rswap_replica_mark_dirty(&rs, 1, 1, 190, 10), 0);
	assert_int_equal(rswap_replica_mark_dirty(&rs, 1, 1, 65, 3), 0);	/* inside: no recount */
	assert_int_equal(rs.sets[1].copy[1].n_dirty, 23);
	assert_true(rswap_replica_is_clean(&rs, 1, 0));
	assert_true(rswap_replica_is_clean(&rs, 0, 1));
	pos = 0;
	assert_true(rswap_replica_next_dirty(&rs, 1, 1, &pos, 0, &first, &len));
	assert_int_equal(first, 60);
	assert_int_equal(len, 10);
	assert_true(rswap_replica_next_dirty(&rs, 1, 1, &pos, 0, &first, &len));
	assert_int_equal(first, 127);
	assert_int_equal(len, 3);
	assert_true(rswap_replica_next_dirty(&rs, 1, 1, &pos, 0, &first, &len));
	assert_int_equal(first, 190);
	assert_int_equal(len, 10);
	assert_int_equal(pos, PPS);
	assert_false(rswap_replica_next_dirty(&rs, 1, 1, &pos, 0, &first, &len));

	/* capped: a long run comes in pieces of max_run, the last one shorter */
	assert_int_equal(rswap_replica_mark_dirty(&rs, 1, 1, 0, PPS), 0);
	assert_int_equal(rs.sets[1].copy[1].n_dirty, PPS);
	pos = 0;
	for (u32 i = 0; i < 4; i++) {
		assert_true(rswap_replica_next_dirty(&rs, 1, 1, &pos, 64, &first, &len));
		assert_int_equal(first, i * 64);
		assert_int_equal(len, i < 3 ? 64 : PPS - 192);
	}
	assert_false(rswap_replica_next_dirty(&rs, 1, 1, &pos, 64, &first, &len));

	/* clear across words; the count follows */
	assert_int_equal(rswap_replica_clear_dirty(&rs, 1, 1, 1, PPS - 2), 0);
	assert_int_equal(rs.sets[1].copy[1].n_dirty, 2);
	pos = 0;
	assert_true(rswap_replica_next_dirty(&rs, 1, 1, &pos, 0, &first, &len));
	assert_true(first == 0 && len == 1);
	assert_true(rswap_replica_next_dirty(&rs, 1, 1, &pos, 0, &first, &len));
	assert_true(first == PPS - 1 && len == 1);

	/* out of range: refused, nothing changed */
	assert_int_equal(rswap_replica_mark_dirty(&rs, 1, 1, PPS - 5, 10), -ERANGE);
	assert_int_equal(rswap_replica_mark_dirty(&rs, 1, 1, PPS + 1, 0), -ERANGE);
	assert_int_equal(rswap_replica_mark_dirty(&rs, 1, 1, 10, UINT32_MAX), -ERANGE);
	assert_int_equal(rswap_replica_mark_dirty(&rs, 2, 0, 0, 1), -ERANGE);
	assert_int_equal(rswap_replica_mark_dirty(&rs, 0, 2, 0, 1), -ERANGE);
	assert_int_equal(rswap_replica_mark_dirty(&rs, 1, 1, PPS, 0), 0);
	assert_int_equal(rs.sets[1].copy[1].n_dirty, 2);
	assert_int_equal(rswap_replica_clear_dirty(&rs, 1, 1, 0, PPS), 0);
	assert_true(rswap_replica_is_clean(&rs, 1, 1));
	rswap_replica_fini(&rs);
}

/* Random marks and clears against a plain array; runs rebuild it exactly. */
static void dirty_maps_match_a_model(void **state)
{
	static bool model[PPS];
	struct rswap_replicas rs;
	u32 count = 0, pos, first, len;

	(void)state;
	memset(model, 0, sizeof(model));
	srand(16);
	assert_int_equal(rswap_replica_init(&rs, 3, PPS, 3), 0);
	for (int step = 0; step < 5000; step++) {
		u32 a = rand() % (PPS + 1), n = rand() % (PPS + 1 - a), cap = rand() % 80;
		bool set = rand() % 3;
		bool seen[PPS];

		if (set)
			assert_int_equal(rswap_replica_mark_dirty(&rs, 2, 1, a, n), 0);
		else
			assert_int_equal(rswap_replica_clear_dirty(&rs, 2, 1, a, n), 0);
		for (u32 p = a; p < a + n; p++) {
			count += set ? !model[p] : -(u32)model[p];
			model[p] = set;
		}
		assert_int_equal(rs.sets[2].copy[1].n_dirty, count);
		assert_true(rswap_replica_is_clean(&rs, 2, 1) == !count);
		memset(seen, 0, sizeof(seen));
		pos = 0;
		while (rswap_replica_next_dirty(&rs, 2, 1, &pos, cap, &first, &len)) {
			assert_true(len > 0 && first + len <= PPS);
			if (cap)
				assert_true(len <= cap);
			for (u32 p = first; p < first + len; p++)
				seen[p] = true;
		}
		assert_memory_equal(seen, model, sizeof(seen));
	}
	/* the neighbours were never touched */
	assert_true(rswap_replica_is_clean(&rs, 2, 0));
	assert_true(rswap_replica_is_clean(&rs, 2, 2));
	assert_true(rswap_replica_is_clean(&rs, 1, 1));
	rswap_replica_fini(&rs);
}

static bool pass_has(const struct rswap_replicas *rs, u32 want_first, u32 want_len)
{
	u32 pos = 0, first, len;

	return rswap_replica_next_pass(rs, &pos, 0, &first, &len) && first == want_first &&
	       len == want_len && !rswap_replica_next_pass(rs, &pos, 0, &first, &len);
}

static void writes_racing_a_resync(void **state)
{
	struct rswap_replicas rs;
	u32 pos, first, len;

	(void)state;
	assert_int_equal(rswap_replica_init(&rs, 1, PPS, 2), 0);
	reach(&rs, 0, RSWAP_COPY_LIVE);
	/* copy 1's server goes down: writes reach copy 0 only, copy 1 is marked */
	assert_int_equal(rswap_replica_set_state(&rs, 0, 1, RSWAP_COPY_STALE, 0), 0);
	assert_int_equal(rswap_replica_write_begin(&rs, 0, 10, 10), 1u << 0);
	assert_int_equal(rs.sets[0].copy[1].n_dirty, 10);

	/* resync: the dirty slots are the pass; the copy's own map starts clean */
	assert_int_equal(rswap_replica_set_state(&rs, 0, 1, RSWAP_COPY_SYNCING, 0), 0);
	assert_true(pass_has(&rs, 10, 10));
	assert_true(rswap_replica_is_clean(&rs, 0, 1));
	/* a write over the pass's end: both copies get it, the pass's part is marked */
	assert_int_equal(rswap_replica_write_begin(&rs, 0, 15, 10), 3u);
	pos = 0;
	assert_true(rswap_replica_next_dirty(&rs, 0, 1, &pos, 0, &first, &len));
	assert_true(first == 15 && len == 5);
	assert_false(rswap_replica_next_dirty(&rs, 0, 1, &pos, 0, &first, &len));
	/* outside the pass: nothing to mark */
	assert_int_equal(rswap_replica_write_begin(&rs, 0, 100, 30), 3u);
	assert_int_equal(rs.sets[0].copy[1].n_dirty, 5);
	/* SYNCING serves no reads */
	assert_int_equal(rswap_replica_read_pick(&rs, 0, NULL, 1u << 0), -ENODATA);

	/* confirmed, but raced: STALE with only the raced slots, another pass */
	assert_int_equal(rswap_replica_copy_done(&rs, 0, 1, true), RSWAP_COPY_STALE);
	assert_int_equal(rs.pass_slab, RSWAP_NO_SLAB);
	assert_int_equal(rs.sets[0].copy[1].n_dirty, 5);
	assert_int_equal(rswap_replica_set_state(&rs, 0, 1, RSWAP_COPY_SYNCING, 0), 0);
	assert_true(pass_has(&rs, 15, 5));

	/* this pass fails (the source went down): its slots are missing again */
	assert_int_equal(rswap_replica_write_begin(&rs, 0, 18, 1), 3u);
	assert_int_equal(rswap_replica_copy_done(&rs, 0, 1, false), RSWAP_COPY_STALE);
	assert_int_equal(rs.sets[0].copy[1].n_dirty, 5);
	pos = 0;
	assert_true(rswap_replica_next_dirty(&rs, 0, 1, &pos, 0, &first, &len));
	assert_true(first == 15 && len == 5);

	/* a clean pass: LIVE, reads may use it */
	assert_int_equal(rswap_replica_set_state(&rs, 0, 1, RSWAP_COPY_SYNCING, 0), 0);
	assert_int_equal(rswap_replica_copy_done(&rs, 0, 1, true), RSWAP_COPY_LIVE);
	assert_true(rswap_replica_is_clean(&rs, 0, 1));
	assert_int_equal(rswap_replica_read_pick(&rs, 0, NULL, 1u << 0), 1);
	assert_int_equal(rs.degraded, 0);
	rswap_replica_fini(&rs);
}

static void writes_racing_a_fill(void **state)
{
	struct rswap_replicas rs;
	u32 pos, first, len;

	(void)state;
	assert_int_equal(rswap_replica_init(&rs, 1, PPS, 3), 0);
	reach(&rs, 0, RSWAP_COPY_NEW);
	/* every write during a whole-slab fill is marked, and posted */
	assert_int_equal(rswap_replica_write_begin(&rs, 0, 60, 8), 3u);
	assert_int_equal(rswap_replica_copy_done(&rs, 0, 1, true), RSWAP_COPY_STALE);
	pos = 0;
	assert_true(rswap_replica_next_dirty(&rs, 0, 1, &pos, 0, &first, &len));
	assert_true(first == 60 && len == 8);
	assert_int_equal(rswap_replica_set_state(&rs, 0, 1, RSWAP_COPY_SYNCING, 0), 0);
	assert_int_equal(rswap_replica_copy_done(&rs, 0, 1, true), RSWAP_COPY_LIVE);

	/* a fill that was not confirmed leaves nothing behind */
	assert_int_equal(rswap_replica_set_state(&rs, 0, 2, RSWAP_COPY_NEW, 9), 0);
	assert_int_equal(rswap_replica_write_begin(&rs, 0, 0, 1), 7u);
	assert_int_equal(rswap_replica_copy_done(&rs, 0, 2, false), RSWAP_COPY_ABSENT);
	assert_true(rswap_replica_is_clean(&rs, 0, 2));
	assert_int_equal(rs.sets[0].copy[2].entry, RSWAP_NO_SLAB);
	/* a fill confirmed with no write meanwhile: LIVE */
	assert_int_equal(rswap_replica_set_state(&rs, 0, 2, RSWAP_COPY_NEW, 9), 0);
	assert_int_equal(rswap_replica_copy_done(&rs, 0, 2, true), RSWAP_COPY_LIVE);
	assert_int_equal(rs.sets[0].n_live, 3);
	rswap_replica_fini(&rs);
}

static void failed_writes(void **state)
{
	struct rswap_replicas rs;

	(void)state;
	assert_int_equal(rswap_replica_init(&rs, 3, PPS, 2), 0);
	/* LIVE: STALE with the slots, and a second failure adds to them */
	reach(&rs, 0, RSWAP_COPY_LIVE);
	assert_int_equal(rswap_replica_write_failed(&rs, 0, 1, 70, 4), RSWAP_COPY_STALE);
	assert_int_equal(rswap_replica_write_failed(&rs, 0, 1, 72, 4), RSWAP_COPY_STALE);
	assert_int_equal(rs.sets[0].copy[1].n_dirty, 6);
	/* SYNCING: the pass goes back, plus the slots */
	reach(&rs, 1, RSWAP_COPY_SYNCING);
	assert_int_equal(rswap_replica_write_failed(&rs, 1, 1, 100, 2), RSWAP_COPY_STALE);
	assert_int_equal(rs.sets[1].copy[1].n_dirty, 3);	/* 5, 100, 101 */
	assert_int_equal(rs.pass_slab, RSWAP_NO_SLAB);
	/* NEW: the fill is abandoned */
	reach(&rs, 2, RSWAP_COPY_NEW);
	assert_int_equal(rswap_replica_write_failed(&rs, 2, 1, 0, 1), RSWAP_COPY_ABSENT);
	/* ABSENT: no write went to it */
	assert_int_equal(rswap_replica_write_failed(&rs, 2, 1, 0, 1), -EINVAL);
	assert_int_equal(rswap_replica_write_failed(&rs, 2, 0, PPS, 1), -ERANGE);
	/* no copy takes writes: the caller places the page elsewhere */
	assert_int_equal(rswap_replica_write_failed(&rs, 2, 0, 0, 1), RSWAP_COPY_STALE);
	assert_int_equal(rswap_replica_write_begin(&rs, 2, 0, 1), 0);
	assert_int_equal(rswap_replica_write_begin(&rs, 2, PPS, 1), 0);	/* out of range */
	rswap_replica_fini(&rs);
}

static void emptied_forgets_missed_slots(void **state)
{
	struct rswap_replicas rs;

	(void)state;
	assert_int_equal(rswap_replica_init(&rs, 1, PPS, 2), 0);
	reach(&rs, 0, RSWAP_COPY_STALE);
	assert_int_equal(rswap_replica_write_begin(&rs, 0, 30, 3), 1u);
	assert_int_equal(rswap_replica_set_state(&rs, 0, 1, RSWAP_COPY_LIVE, 0), -EBUSY);
	rswap_replica_emptied(&rs, 0);
	assert_true(rswap_replica_is_clean(&rs, 0, 1));
	assert_int_equal(rswap_replica_set_state(&rs, 0, 1, RSWAP_COPY_LIVE, 0), 0);
	rswap_replica_fini(&rs);

	/* a fill raced by a write, then the set emptied: confirmed means LIVE */
	assert_int_equal(rswap_replica_init(&rs, 1, PPS, 2), 0);
	reach(&rs, 0, RSWAP_COPY_NEW);
	assert_int_equal(rswap_replica_write_begin(&rs, 0, 30, 3), 3u);
	rswap_replica_emptied(&rs, 0);
	assert_int_equal(rswap_replica_copy_done(&rs, 0, 1, true), RSWAP_COPY_LIVE);
	rswap_replica_fini(&rs);
}

static void placement_across_domains(void **state)
{
	struct rswap_place_cand c[] = {
		{ .server = 1, .domain = 7, .free_slabs = 100, .usable = true },	/* set's domain */
		{ .server = 5, .domain = 8, .free_slabs = 5, .usable = true },
		{ .server = 3, .domain = RSWAP_NO_DOMAIN, .free_slabs = 5, .usable = true },
		{ .server = 0, .domain = 9, .free_slabs = 500, .usable = true },	/* in the set */
		{ .server = 2, .domain = 10, .free_slabs = 900, .usable = false },
		{ .server = 4, .domain = 11, .free_slabs = 0, .usable = true },	/* full */
	};
	const struct rswap_place_used used[] = { { .server = 0, .domain = 7 } };
	const struct rswap_place_used none[] = { { .server = 0, .domain = RSWAP_NO_DOMAIN } };
	struct rswap_place_cand r[2];
	bool same;

	(void)state;
	r[0] = c[1];
	r[1] = c[2];
	/* another domain beats more room in the set's domain; ties to the lower server */
	assert_int_equal(rswap_replica_place(c, 6, used, 1, RSWAP_PLACE_SPREAD, &same), 2);
	assert_false(same);
	assert_int_equal(rswap_replica_place(c, 6, used, 1, RSWAP_PLACE_STRICT, &same), 2);
	/* more room wins among other domains */
	c[1].free_slabs = 6;
	assert_int_equal(rswap_replica_place(c, 6, used, 1, RSWAP_PLACE_STRICT, &same), 1);
	/* no domain: shares none with anyone, not even another server without one */
	c[1].free_slabs = 5;
	assert_int_equal(rswap_replica_place(c, 6, none, 1, RSWAP_PLACE_STRICT, &same), 0);
	assert_false(same);
	assert_int_equal(rswap_replica_place(&c[2], 1, none, 1, RSWAP_PLACE_STRICT, &same), 0);
	assert_false(same);
	/* nothing placed yet: the most room */
	assert_int_equal(rswap_replica_place(c, 6, NULL, 0, RSWAP_PLACE_STRICT, &same), 3);
	/* ties go to the lower server, whatever the order of the candidates */
	assert_int_equal(rswap_replica_place(r, 2, used, 1, RSWAP_PLACE_SPREAD, &same), 1);
	assert_int_equal(r[1].server, 3);
}

static void placement_same_domain_and_none(void **state)
{
	struct rswap_place_cand c[] = {
		{ .server = 1, .domain = 7, .free_slabs = 3, .usable = true },
		{ .server = 2, .domain = 7, .free_slabs = 4, .usable = true },
		{ .server = 3, .domain = 8, .free_slabs = 9, .usable = false },
		{ .server = 4, .domain = 9, .free_slabs = 0, .usable = true },
	};
	const struct rswap_place_used used[] = {
		{ .server = 0, .domain = 7 },
		{ .server = 2, .domain = 7 },
	};
	bool same = true;

	(void)state;
	/* only the set's domain can grant: a reported fallback, or refused when strict */
	assert_int_equal(rswap_replica_place(c, 4, used, 1, RSWAP_PLACE_SPREAD, &same), 1);
	assert_true(same);
	assert_int_equal(rswap_replica_place(c, 4, used, 1, RSWAP_PLACE_STRICT, &same), -EXDEV);
	assert_false(same);
	/* never a server already in the set, even the roomiest */
	assert_int_equal(rswap_replica_place(c, 4, used, 2, RSWAP_PLACE_SPREAD, &same), 0);
	assert_int_equal(c[0].server, 1);
	/* nobody usable with room outside the set */
	c[0].usable = false;
	assert_int_equal(rswap_replica_place(c, 4, used, 2, RSWAP_PLACE_SPREAD, &same), -ENOSPC);
	assert_false(same);
	assert_int_equal(rswap_replica_place(c, 0, used, 2, RSWAP_PLACE_SPREAD, &same), -ENOSPC);
}

static void reads_and_failover(void **state)
{
	struct rswap_replicas rs;
	u32 inflight[RSWAP_MAX_REPLICAS] = { 5, 0, 3 };

	(void)state;
	assert_int_equal(rswap_replica_init(&rs, 1, PPS, 3), 0);
	assert_int_equal(rswap_replica_read_pick(&rs, 0, NULL, 0), -ENODATA);
	for (u32 c = 0; c < 3; c++)
		assert_int_equal(rswap_replica_set_state(&rs, 0, c, RSWAP_COPY_LIVE, c + 1), 0);
	assert_int_equal(rswap_replica_set_state(&rs, 0, 1, RSWAP_COPY_STALE, 0), 0);
	/* the less loaded LIVE copy; the idle STALE one is not a choice */
	assert_int_equal(rswap_replica_read_pick(&rs, 0, inflight, 0), 2);
	/* it failed: the next one, then none */
	assert_int_equal(rswap_replica_read_pick(&rs, 0, inflight, 1u << 2), 0);
	assert_int_equal(rswap_replica_read_pick(&rs, 0, inflight, 1u << 2 | 1u << 0), -ENODATA);
	/* ties and no load figures: the lower copy */
	inflight[0] = 3;
	assert_int_equal(rswap_replica_read_pick(&rs, 0, inflight, 0), 0);
	assert_int_equal(rswap_replica_read_pick(&rs, 0, NULL, 0), 0);
	assert_int_equal(rswap_replica_read_pick(&rs, 1, NULL, 0), -ENODATA);
	rswap_replica_fini(&rs);
}

static void degraded_through_loss_and_recovery(void **state)
{
	struct rswap_replicas rs;
	u32 s;

	(void)state;
	assert_int_equal(rswap_replica_init(&rs, 4, PPS, 2), 0);
	/* three sets on servers A (copy 0) and B (copy 1); set 3 unused */
	for (s = 0; s < 3; s++) {
		assert_int_equal(rswap_replica_set_state(&rs, s, 0, RSWAP_COPY_LIVE, 2 * s), 0);
		if (s == 2)	/* one copy so far: degraded until its second */
			assert_int_equal(rs.degraded, 1);
		assert_int_equal(rswap_replica_set_state(&rs, s, 1, RSWAP_COPY_LIVE, 2 * s + 1), 0);
	}
	assert_int_equal(rs.degraded, 0);

	/* B goes down; a write lands in set 0 meanwhile */
	for (s = 0; s < 3; s++)
		assert_int_equal(rswap_replica_set_state(&rs, s, 1, RSWAP_COPY_STALE, 0), 0);
	assert_int_equal(rs.degraded, 3);
	assert_int_equal(rswap_replica_write_begin(&rs, 0, 42, 1), 1u);

	/* B is back: sets 1 and 2 missed nothing, set 0 is resynced */
	assert_int_equal(rswap_replica_set_state(&rs, 1, 1, RSWAP_COPY_LIVE, 0), 0);
	assert_int_equal(rswap_replica_set_state(&rs, 2, 1, RSWAP_COPY_LIVE, 0), 0);
	assert_int_equal(rs.degraded, 1);
	assert_int_equal(rswap_replica_set_state(&rs, 0, 1, RSWAP_COPY_SYNCING, 0), 0);
	assert_int_equal(rs.degraded, 1);
	assert_int_equal(rswap_replica_copy_done(&rs, 0, 1, true), RSWAP_COPY_LIVE);
	assert_int_equal(rs.degraded, 0);

	/* B is lost for good: its copies go, new ones are filled on C */
	for (s = 0; s < 3; s++) {
		assert_int_equal(rswap_replica_set_state(&rs, s, 1, RSWAP_COPY_STALE, 0), 0);
		assert_int_equal(rswap_replica_set_state(&rs, s, 1, RSWAP_COPY_ABSENT, 0), 0);
	}
	assert_int_equal(rs.degraded, 3);
	for (s = 0; s < 3; s++) {
		assert_int_equal(rswap_replica_free_copy(&rs, s), 1);
		assert_int_equal(rswap_replica_set_state(&rs, s, 1, RSWAP_COPY_NEW, 10 + s), 0);
		assert_int_equal(rswap_replica_copy_done(&rs, s, 1, true), RSWAP_COPY_LIVE);
		assert_int_equal(rs.degraded, 2 - s);
	}
	assert_int_equal(rswap_replica_free_copy(&rs, 0), -ENOSPC);
	/* A and the new copies all down: still counted once per set */
	for (s = 0; s < 3; s++) {
		assert_int_equal(rswap_replica_set_state(&rs, s, 0, RSWAP_COPY_STALE, 0), 0);
		assert_int_equal(rswap_replica_set_state(&rs, s, 1, RSWAP_COPY_STALE, 0), 0);
	}
	assert_int_equal(rs.degraded, 3);
	/* a set whose copies are all dropped is no longer counted */
	assert_int_equal(rswap_replica_set_state(&rs, 2, 0, RSWAP_COPY_ABSENT, 0), 0);
	assert_int_equal(rswap_replica_set_state(&rs, 2, 1, RSWAP_COPY_ABSENT, 0), 0);
	assert_int_equal(rs.degraded, 2);
	rswap_replica_fini(&rs);

	/* replicas=1: one LIVE copy is all there is to want */
	assert_int_equal(rswap_replica_init(&rs, 1, PPS, 1), 0);
	assert_int_equal(rswap_replica_set_state(&rs, 0, 0, RSWAP_COPY_LIVE, 1), 0);
	assert_int_equal(rs.degraded, 0);
	assert_int_equal(rswap_replica_free_copy(&rs, 0), -ENOSPC);
	rswap_replica_fini(&rs);
}

static void memory_is_bounded(void **state)
{
	struct rswap_replicas rs;
	const u32 slabs = 64, pps = 262144;	/* 1 GiB slabs of 4 KiB pages */
	u64 map = pps / 8;

	(void)state;
	assert_int_equal(rswap_replica_bytes(slabs, pps, 2),
			 slabs * sizeof(struct rswap_copy_set) + (slabs * 2 + 1) * map);
	assert_int_equal(rswap_replica_bytes(slabs, pps, 3) - rswap_replica_bytes(slabs, pps, 2),
			 slabs * map);
	/* a map ending mid-word still takes whole words */
	assert_int_equal(rswap_replica_bytes(1, 65, 1),
			 sizeof(struct rswap_copy_set) + 2 * 2 * sizeof(unsigned long));
	assert_int_equal(rswap_replica_bytes(0, pps, 2), 0);
	assert_int_equal(rswap_replica_bytes(slabs, 0, 2), 0);
	assert_int_equal(rswap_replica_bytes(slabs, pps, 0), 0);
	assert_int_equal(rswap_replica_bytes(slabs, pps, RSWAP_MAX_REPLICAS + 1), 0);
	assert_int_equal(rswap_replica_init(&rs, slabs, pps, 4), -EINVAL);
	assert_null(rs.sets);
	rswap_replica_fini(&rs);	/* after a failed init: harmless */

	/* the maps tile one block: no two copies share a word, none past the end */
	assert_int_equal(rswap_replica_init(&rs, 3, PPS, 2), 0);
	for (u32 s = 0; s < 3; s++) {
		for (u32 c = 0; c < 2; c++) {
			const unsigned long *d = rs.sets[s].copy[c].dirty;

			assert_ptr_equal(d, rs.pass + (1 + s * 2 + c) * ((PPS + 63) / 64));
			assert_int_equal(rswap_replica_mark_dirty(&rs, s, c, 0, PPS), 0);
		}
		assert_null(rs.sets[s].copy[2].dirty);
	}
	for (u32 w = 0; w < (PPS + 63) / 64; w++)
		assert_true(rs.pass[w] == 0);
	assert_int_equal(rs.sets[2].copy[1].n_dirty, PPS);
	rswap_replica_fini(&rs);
	assert_null(rs.sets);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_transition_allowed_or_refused),
		cmocka_unit_test(each_state_refuses_one),
		cmocka_unit_test(transition_conditions),
		cmocka_unit_test(dirty_runs),
		cmocka_unit_test(dirty_maps_match_a_model),
		cmocka_unit_test(writes_racing_a_resync),
		cmocka_unit_test(writes_racing_a_fill),
		cmocka_unit_test(failed_writes),
		cmocka_unit_test(emptied_forgets_missed_slots),
		cmocka_unit_test(placement_across_domains),
		cmocka_unit_test(placement_same_domain_and_none),
		cmocka_unit_test(reads_and_failover),
		cmocka_unit_test(degraded_through_loss_and_recovery),
		cmocka_unit_test(memory_is_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
