// SPDX-License-Identifier: GPL-2.0
/* rswap_replica: copy sets, dirty maps, placement; see rswap_replica.h. */
#include "rswap_replica.h"

#ifdef __KERNEL__
#include <linux/bitops.h>
#include <linux/errno.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#define rep_calloc(n, size) kvcalloc(n, size, GFP_KERNEL)
#define rep_free(p) kvfree(p)
#define rep_popcount(w) hweight_long(w)
#define rep_ctz(w) __ffs(w)
#else
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#define rep_calloc(n, size) calloc(n, size)
#define rep_free(p) free(p)
#define rep_popcount(w) __builtin_popcountl(w)
#define rep_ctz(w) __builtin_ctzl(w)
#ifndef BITS_PER_LONG
#define BITS_PER_LONG (CHAR_BIT * sizeof(long))
#endif
#define BITS_TO_LONGS(n) (((n) + BITS_PER_LONG - 1) / BITS_PER_LONG)
#define fallthrough __attribute__((__fallthrough__))
#endif

/*
 * Bit helpers over unsigned long words, the same in both builds. Ranges
 * are checked by the callers: [first, first + n) within the map.
 */

/* Mask of bits [lo, hi) of one word, 0 <= lo < hi <= BITS_PER_LONG. */
static unsigned long word_mask(u32 lo, u32 hi)
{
	unsigned long m = ~0UL << lo;

	if (hi < BITS_PER_LONG)
		m &= ~(~0UL << hi);
	return m;
}

/* Set (or clear) bits [first, first + n); returns how many changed. */
static u32 bits_change(unsigned long *map, u32 first, u32 n, bool set)
{
	u32 end = first + n, changed = 0;

	while (first < end) {
		u32 w = first / BITS_PER_LONG, lo = first % BITS_PER_LONG;
		u32 hi = end - w * BITS_PER_LONG;
		unsigned long m;

		if (hi > BITS_PER_LONG)
			hi = BITS_PER_LONG;
		m = word_mask(lo, hi);
		if (set) {
			changed += rep_popcount(m & ~map[w]);
			map[w] |= m;
		} else {
			changed += rep_popcount(m & map[w]);
			map[w] &= ~m;
		}
		first = w * BITS_PER_LONG + hi;
	}
	return changed;
}

/* First bit at or after @from that is @want (set or clear), or @size. */
static u32 bits_find(const unsigned long *map, u32 size, u32 from, bool want)
{
	while (from < size) {
		u32 w = from / BITS_PER_LONG;
		unsigned long word = want ? map[w] : ~map[w];

		word &= ~0UL << (from % BITS_PER_LONG);
		if (word) {
			from = w * BITS_PER_LONG + rep_ctz(word);
			return from < size ? from : size;
		}
		from = (w + 1) * BITS_PER_LONG;
	}
	return size;
}

static bool bits_run(const unsigned long *map, u32 size, u32 *pos, u32 max_run, u32 *first,
		     u32 *len)
{
	u32 start = bits_find(map, size, *pos, true), end;

	if (start >= size)
		return false;
	end = bits_find(map, size, start, false);
	if (max_run && end - start > max_run)
		end = start + max_run;
	*first = start;
	*len = end - start;
	*pos = end;
	return true;
}

static size_t map_longs(u32 pages_per_slab)
{
	return BITS_TO_LONGS(pages_per_slab);
}

u64 rswap_replica_bytes(u32 max_slabs, u32 pages_per_slab, u32 replicas)
{
	u64 map = (u64)map_longs(pages_per_slab) * sizeof(unsigned long);

	if (!max_slabs || !pages_per_slab || !replicas || replicas > RSWAP_MAX_REPLICAS)
		return 0;
	/* the sets, a dirty map per copy, the pass */
	return (u64)max_slabs * sizeof(struct rswap_copy_set) +
	       (u64)max_slabs * replicas * map + map;
}

int rswap_replica_init(struct rswap_replicas *rs, u32 max_slabs, u32 pages_per_slab,
		       u32 replicas)
{
	size_t longs = map_longs(pages_per_slab);
	unsigned long *bits;
	u32 i, c;

	memset(rs, 0, sizeof(*rs));
	if (!rswap_replica_bytes(max_slabs, pages_per_slab, replicas))
		return -EINVAL;
	rs->sets = rep_calloc(max_slabs, sizeof(*rs->sets));
	/* one block: the pass first, then the copies' maps */
	bits = rep_calloc(((size_t)max_slabs * replicas + 1) * longs, sizeof(unsigned long));
	if (!rs->sets || !bits) {
		rep_free(rs->sets);
		rep_free(bits);
		rs->sets = NULL;
		return -ENOMEM;
	}
	rs->pass = bits;
	for (i = 0; i < max_slabs; i++) {
		for (c = 0; c < RSWAP_MAX_REPLICAS; c++) {
			struct rswap_copy *cp = &rs->sets[i].copy[c];

			WRITE_ONCE(cp->entry, RSWAP_NO_SLAB);
			if (c < replicas)
				cp->dirty = bits + ((size_t)i * replicas + c + 1) * longs;
		}
	}
	rs->pass_slab = RSWAP_NO_SLAB;
	rs->max_slabs = max_slabs;
	rs->pages_per_slab = pages_per_slab;
	rs->replicas = replicas;
	return 0;
}

void rswap_replica_fini(struct rswap_replicas *rs)
{
	rep_free(rs->pass);
	rep_free(rs->sets);
	rs->pass = NULL;
	rs->sets = NULL;
}

static struct rswap_copy *copy_of(struct rswap_replicas *rs, u32 slab, u32 copy)
{
	if (!rs->sets || slab >= rs->max_slabs || copy >= rs->replicas)
		return NULL;
	return &rs->sets[slab].copy[copy];
}

static bool range_ok(const struct rswap_replicas *rs, u32 first, u32 n)
{
	return first <= rs->pages_per_slab && n <= rs->pages_per_slab - first;
}

static void dirty_clear_all(struct rswap_replicas *rs, struct rswap_copy *cp)
{
	memset(cp->dirty, 0, map_longs(rs->pages_per_slab) * sizeof(unsigned long));
	cp->n_dirty = 0;
}

static void pass_release(struct rswap_replicas *rs)
{
	memset(rs->pass, 0, map_longs(rs->pages_per_slab) * sizeof(unsigned long));
	rs->pass_slab = RSWAP_NO_SLAB;
}

/* Recount the set's LIVE and present copies, and the device's degraded sets. */
static void set_recount(struct rswap_replicas *rs, struct rswap_copy_set *set)
{
	bool degraded;
	u32 c;

	set->n_live = 0;
	set->n_present = 0;
	for (c = 0; c < rs->replicas; c++) {
		set->n_live += set->copy[c].state == RSWAP_COPY_LIVE;
		set->n_present += set->copy[c].state != RSWAP_COPY_ABSENT;
	}
	degraded = set->n_present && set->n_live < rs->replicas;
	if (degraded != set->degraded) {
		set->degraded = degraded;
		if (degraded)
			rs->degraded++;
		else
			rs->degraded--;
	}
}

int rswap_replica_set_state(struct rswap_replicas *rs, u32 slab, u32 copy,
			    enum rswap_copy_state to, u32 entry)
{
	struct rswap_copy *cp = copy_of(rs, slab, copy);
	struct rswap_copy_set *set;
	enum rswap_copy_state from;
	size_t w;

	if (!cp || to >= RSWAP_COPY_NR_STATES)
		return -ERANGE;
	set = &rs->sets[slab];
	from = cp->state;
	if (!rswap_copy_may(from, to))
		return -EINVAL;

	/* The conditions of each transition, before anything changes. */
	switch (to) {
	case RSWAP_COPY_LIVE:
		if (from == RSWAP_COPY_ABSENT) {
			if (set->written || entry == RSWAP_NO_SLAB)
				return -EBUSY;
		} else if (cp->n_dirty ||
			   ((from == RSWAP_COPY_SYNCING || from == RSWAP_COPY_NEW) &&
			    !cp->confirmed)) {
			return -EBUSY;
		}
		break;
	case RSWAP_COPY_NEW:
		if (entry == RSWAP_NO_SLAB)
			return -EBUSY;
		if (!set->n_live)
			return -ENODATA;
		break;
	case RSWAP_COPY_SYNCING:
		if (rs->pass_slab != RSWAP_NO_SLAB || !cp->n_dirty)
			return -EBUSY;
		if (!set->n_live)
			return -ENODATA;
		break;
	case RSWAP_COPY_STALE:
		/*
		 * A fill not confirmed is not a copy: its map only has what
		 * was written during the fill, so a resync would not finish it.
		 */
		if (from == RSWAP_COPY_NEW && !cp->confirmed)
			return -EBUSY;
		break;
	default:
		break;
	}

	/* Leaving a state. */
	if (from == RSWAP_COPY_SYNCING) {
		/* Not confirmed and not dropped: the pass's slots are still missing. */
		if (to == RSWAP_COPY_STALE && !cp->confirmed) {
			for (w = 0; w < map_longs(rs->pages_per_slab); w++) {
				cp->n_dirty += rep_popcount(rs->pass[w] & ~cp->dirty[w]);
				cp->dirty[w] |= rs->pass[w];
			}
		}
		pass_release(rs);
	}

	/* Entering one. */
	switch (to) {
	case RSWAP_COPY_ABSENT:
		dirty_clear_all(rs, cp);
		WRITE_ONCE(cp->entry, RSWAP_NO_SLAB);
		break;
	case RSWAP_COPY_NEW:
		/* The whole slab is copied: only writes from now on can be missed. */
		dirty_clear_all(rs, cp);
		WRITE_ONCE(cp->entry, entry);
		break;
	case RSWAP_COPY_SYNCING:
		/* Its dirty slots become the pass; its map records races with it. */
		memcpy(rs->pass, cp->dirty, map_longs(rs->pages_per_slab) * sizeof(unsigned long));
		rs->pass_slab = slab;
		rs->pass_copy = copy;
		dirty_clear_all(rs, cp);
		break;
	case RSWAP_COPY_LIVE:
		if (from == RSWAP_COPY_ABSENT)
			WRITE_ONCE(cp->entry, entry);
		break;
	default:
		break;
	}
	cp->confirmed = false;
	WRITE_ONCE(cp->state, to);	/* read without the lock (rswap_replica_read_pick) */
	set_recount(rs, set);
	return 0;
}

int rswap_replica_copy_done(struct rswap_replicas *rs, u32 slab, u32 copy, bool confirmed)
{
	struct rswap_copy *cp = copy_of(rs, slab, copy);
	enum rswap_copy_state to;
	int ret;

	if (!cp)
		return -ERANGE;
	if (cp->state != RSWAP_COPY_SYNCING && cp->state != RSWAP_COPY_NEW)
		return -EINVAL;
	if (confirmed)
		to = cp->n_dirty ? RSWAP_COPY_STALE : RSWAP_COPY_LIVE;
	else
		to = cp->state == RSWAP_COPY_NEW ? RSWAP_COPY_ABSENT : RSWAP_COPY_STALE;
	cp->confirmed = confirmed;
	ret = rswap_replica_set_state(rs, slab, copy, to, RSWAP_NO_SLAB);
	if (ret) {
		cp->confirmed = false;
		return ret;
	}
	return to;
}

int rswap_replica_free_copy(const struct rswap_replicas *rs, u32 slab)
{
	u32 c;

	if (!rs->sets || slab >= rs->max_slabs)
		return -ERANGE;
	for (c = 0; c < rs->replicas; c++)
		if (rs->sets[slab].copy[c].state == RSWAP_COPY_ABSENT)
			return c;
	return -ENOSPC;
}

int rswap_replica_mark_dirty(struct rswap_replicas *rs, u32 slab, u32 copy, u32 first, u32 n)
{
	struct rswap_copy *cp = copy_of(rs, slab, copy);

	if (!cp || !range_ok(rs, first, n))
		return -ERANGE;
	cp->n_dirty += bits_change(cp->dirty, first, n, true);
	return 0;
}

int rswap_replica_clear_dirty(struct rswap_replicas *rs, u32 slab, u32 copy, u32 first, u32 n)
{
	struct rswap_copy *cp = copy_of(rs, slab, copy);

	if (!cp || !range_ok(rs, first, n))
		return -ERANGE;
	cp->n_dirty -= bits_change(cp->dirty, first, n, false);
	return 0;
}

bool rswap_replica_is_clean(const struct rswap_replicas *rs, u32 slab, u32 copy)
{
	if (!rs->sets || slab >= rs->max_slabs || copy >= rs->replicas)
		return true;
	return !rs->sets[slab].copy[copy].n_dirty;
}

bool rswap_replica_next_dirty(const struct rswap_replicas *rs, u32 slab, u32 copy, u32 *pos,
			      u32 max_run, u32 *first, u32 *len)
{
	if (!rs->sets || slab >= rs->max_slabs || copy >= rs->replicas)
		return false;
	return bits_run(rs->sets[slab].copy[copy].dirty, rs->pages_per_slab, pos, max_run,
			first, len);
}

bool rswap_replica_next_pass(const struct rswap_replicas *rs, u32 *pos, u32 max_run,
			     u32 *first, u32 *len)
{
	if (!rs->pass || rs->pass_slab == RSWAP_NO_SLAB)
		return false;
	return bits_run(rs->pass, rs->pages_per_slab, pos, max_run, first, len);
}

u32 rswap_replica_write_begin(struct rswap_replicas *rs, u32 slab, u32 first, u32 n)
{
	struct rswap_copy_set *set;
	u32 post = 0, c, p, end;

	if (!rs->sets || slab >= rs->max_slabs || !n || !range_ok(rs, first, n))
		return 0;
	set = &rs->sets[slab];
	set->written = true;
	for (c = 0; c < rs->replicas; c++) {
		struct rswap_copy *cp = &set->copy[c];

		switch (cp->state) {
		case RSWAP_COPY_STALE:
			cp->n_dirty += bits_change(cp->dirty, first, n, true);
			break;
		case RSWAP_COPY_SYNCING:
			/* Only the slots the pass may overwrite with older data. */
			for (p = bits_find(rs->pass, first + n, first, true); p < first + n;
			     p = bits_find(rs->pass, first + n, end, true)) {
				end = bits_find(rs->pass, first + n, p, false);
				cp->n_dirty += bits_change(cp->dirty, p, end - p, true);
			}
			post |= 1u << c;
			break;
		case RSWAP_COPY_NEW:
			cp->n_dirty += bits_change(cp->dirty, first, n, true);
			post |= 1u << c;
			break;
		case RSWAP_COPY_LIVE:
			post |= 1u << c;
			break;
		default:
			break;
		}
	}
	return post;
}

int rswap_replica_write_failed(struct rswap_replicas *rs, u32 slab, u32 copy, u32 first, u32 n)
{
	struct rswap_copy *cp = copy_of(rs, slab, copy);
	int ret;

	if (!cp || !range_ok(rs, first, n))
		return -ERANGE;
	switch (cp->state) {
	case RSWAP_COPY_NEW:
		ret = rswap_replica_set_state(rs, slab, copy, RSWAP_COPY_ABSENT, RSWAP_NO_SLAB);
		return ret ? ret : RSWAP_COPY_ABSENT;
	case RSWAP_COPY_LIVE:
	case RSWAP_COPY_SYNCING:
		ret = rswap_replica_set_state(rs, slab, copy, RSWAP_COPY_STALE, RSWAP_NO_SLAB);
		if (ret)
			return ret;
		fallthrough;
	case RSWAP_COPY_STALE:
		cp->n_dirty += bits_change(cp->dirty, first, n, true);
		return RSWAP_COPY_STALE;
	default:
		return -EINVAL;	/* ABSENT: no write was posted to it */
	}
}

void rswap_replica_emptied(struct rswap_replicas *rs, u32 slab)
{
	struct rswap_copy_set *set;
	u32 c;

	if (!rs->sets || slab >= rs->max_slabs)
		return;
	set = &rs->sets[slab];
	set->written = false;
	for (c = 0; c < rs->replicas; c++)
		dirty_clear_all(rs, &set->copy[c]);
}

int rswap_replica_read_pick(const struct rswap_replicas *rs, u32 slab, const u32 *inflight,
			    u32 tried)
{
	int best = -ENODATA;
	u32 c;

	if (!rs->sets || slab >= rs->max_slabs)
		return -ENODATA;
	for (c = 0; c < rs->replicas; c++) {
		/* READ_ONCE: the read path may call us without the lock */
		if (READ_ONCE(rs->sets[slab].copy[c].state) != RSWAP_COPY_LIVE ||
		    (tried & (1u << c)))
			continue;
		if (best < 0 || (inflight && inflight[c] < inflight[best]))
			best = c;
	}
	return best;
}

static bool domain_used(u32 domain, const struct rswap_place_used *used, u32 n_used)
{
	u32 i;

	if (domain == RSWAP_NO_DOMAIN)
		return false;
	for (i = 0; i < n_used; i++)
		if (used[i].domain == domain)
			return true;
	return false;
}

static bool server_used(u32 server, const struct rswap_place_used *used, u32 n_used)
{
	u32 i;

	for (i = 0; i < n_used; i++)
		if (used[i].server == server)
			return true;
	return false;
}

/* Is @a a better place than @b (most free slabs, then the lower server)? */
static bool place_better(const struct rswap_place_cand *a, const struct rswap_place_cand *b)
{
	if (a->free_slabs != b->free_slabs)
		return a->free_slabs > b->free_slabs;
	return a->server < b->server;
}

int rswap_replica_place(const struct rswap_place_cand *cand, u32 n_cand,
			const struct rswap_place_used *used, u32 n_used,
			enum rswap_place_policy policy, bool *same_domain)
{
	int best = -1, best_same = -1;
	u32 i;

	*same_domain = false;
	for (i = 0; i < n_cand; i++) {
		const struct rswap_place_cand *c = &cand[i];

		if (!c->usable || !c->free_slabs || server_used(c->server, used, n_used))
			continue;
		if (domain_used(c->domain, used, n_used)) {
			if (best_same < 0 || place_better(c, &cand[best_same]))
				best_same = i;
		} else if (best < 0 || place_better(c, &cand[best])) {
			best = i;
		}
	}
	if (best >= 0)
		return best;
	if (best_same < 0)
		return -ENOSPC;
	if (policy == RSWAP_PLACE_STRICT)
		return -EXDEV;
	*same_domain = true;
	return best_same;
}
