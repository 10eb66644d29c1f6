/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rswap_reserve: how many free slots a device keeps ahead of its writes.
 * Pure arithmetic, shared by the module (rswap_slabs.c) and the unit tests.
 *
 * The refill asks a server for the slabs it is short of (GRANT_MANY, up to
 * six; the server writes its metadata log and fdatasyncs it; GRANTS), and
 * for each further copy of a set another. Meanwhile writes go on taking
 * slots, and
 * a write that finds none waits for the refill (stats: no_free_slot). A
 * fixed reserve that is plenty for rxe under TCG is not for a 100 Gb/s
 * NIC: at 10 GB/s a 5 ms grant lets 50 MB of pages through. So the reserve
 * is the larger of
 *
 *   - the floor: reserve_slabs slabs, never less than 16 MiB, and
 *   - what the writes took at their recent rate in the time RSWAP_RESERVE_GRANTS
 *     slabs (each with its copies) took to be granted, in whole slabs,
 *
 * doubled when a refill finds writes waited for a slot since the last one
 * (stats: no_free_slot), at most once per slab's grant time (one episode
 * of waiting is one doubling), and halved again after each
 * RSWAP_RESERVE_CALM_NS without such a wait, by the refill or, while
 * nothing drops below the reserve, by a timer (rswap_slabs.c); capped at a
 * sixteenth of the
 * device, and at RSWAP_RESERVE_MAX_PAGES (never below the floor): a
 * reserved slab is server memory no other client can have.
 *
 * Why the doubling: while writes wait for slots, they take slots only as
 * fast as grants come, so the rate measured then is the grants' rate, not
 * the writes' (a slow server makes the rate look slow exactly when the
 * reserve is too small). A wait is the one sure sign of that.
 *
 * Rate and round trip are averaged with weight 1/2 for the newest sample,
 * so a burst shows at its second refill and a lull fades as fast. All is
 * sampled by the refill work, which runs whenever the free slots drop
 * below the reserve: about once per slab written, never on the I/O path.
 * A rate over less than RSWAP_RESERVE_MIN_SAMPLE_NS is not taken (too
 * short to say one).
 */
#ifndef RSWAP_RESERVE_H
#define RSWAP_RESERVE_H

#ifdef __KERNEL__
#include <linux/math64.h>
#include <linux/types.h>
#define rswap_reserve_div(a, b) div64_u64(a, b)
#else
#include <stdint.h>
typedef uint64_t u64;
typedef uint32_t u32;
#define rswap_reserve_div(a, b) ((a) / (b))
#endif

#define RSWAP_RESERVE_GRANTS		4
#define RSWAP_RESERVE_MAX_PAGES		((256u << 20) / 4096)
#define RSWAP_RESERVE_MIN_SAMPLE_NS	(10ULL * 1000 * 1000)
#define RSWAP_RESERVE_NS_PER_SEC	(1000ULL * 1000 * 1000)
#define RSWAP_RESERVE_CALM_NS		(10 * RSWAP_RESERVE_NS_PER_SEC)
#define RSWAP_RESERVE_MAX_SHIFT		6

struct rswap_reserve_est {
	u64 rate;		/* slots taken a second, averaged */
	u64 grant_ns;		/* one slab (and its copies) granted, averaged */
	u64 taken;		/* slots ever taken, at the last rate sample */
	u64 at_ns;		/* that sample's time; 0: none yet */
	u64 waits;		/* writes that ever waited for a slot, at the last sample */
	u64 calm_ns;		/* the last wait seen, or the last halving */
	u32 shift;		/* the reserve is doubled this many times */
};

/*
 * At @now_ns, @taken slots have ever been taken (rswap_slots.taken), and
 * @waits writes ever found none free.
 */
static inline void rswap_reserve_sample(struct rswap_reserve_est *r, u64 taken, u64 waits,
					u64 now_ns)
{
	u64 dt = now_ns - r->at_ns;

	if (waits > r->waits) {
		u64 step = r->grant_ns > RSWAP_RESERVE_MIN_SAMPLE_NS ? r->grant_ns :
			   RSWAP_RESERVE_MIN_SAMPLE_NS;

		/* the same wait seen again within a grant: no new doubling */
		if (r->shift < RSWAP_RESERVE_MAX_SHIFT && (!r->calm_ns || now_ns - r->calm_ns >= step))
			r->shift++;
		r->calm_ns = now_ns;
	} else if (r->shift && now_ns - r->calm_ns >= RSWAP_RESERVE_CALM_NS) {
		r->shift--;
		r->calm_ns = now_ns;
	}
	r->waits = waits;
	if (r->at_ns && dt < RSWAP_RESERVE_MIN_SAMPLE_NS)
		return;
	if (r->at_ns && taken >= r->taken) {
		/* under 2^32 slots, so the product stays in 64 bits */
		u64 d = taken - r->taken < (1ULL << 32) ? taken - r->taken : (1ULL << 32) - 1;

		r->rate = (r->rate + rswap_reserve_div(d * RSWAP_RESERVE_NS_PER_SEC, dt)) / 2;
	}
	r->taken = taken;
	r->at_ns = now_ns;
}

/* The most a device of @n_pages keeps: a sixteenth of it, at most RSWAP_RESERVE_MAX_PAGES. */
static inline u64 rswap_reserve_cap(u64 n_pages)
{
	return n_pages / 16 < RSWAP_RESERVE_MAX_PAGES ? n_pages / 16 : RSWAP_RESERVE_MAX_PAGES;
}

/* A slab (and its copies) took @ns to be granted. */
static inline void rswap_reserve_grant_sample(struct rswap_reserve_est *r, u64 ns)
{
	r->grant_ns = r->grant_ns ? (r->grant_ns + ns) / 2 : ns;
}

/*
 * The free slots to keep: @floor_pages at least, else the writes of
 * RSWAP_RESERVE_GRANTS rounds in whole slabs of @pages_per_slab; doubled
 * shift times; at most @cap_pages (rswap_reserve_cap) unless the floor is
 * more.
 */
static inline u64 rswap_reserve_pages(const struct rswap_reserve_est *r, u64 floor_pages,
				      u64 cap_pages, u32 pages_per_slab)
{
	/* rate < 2^32 slots/s and a round < 2^32 ns (4 s) keep this in 64 bits */
	u64 rate = r->rate < (1ULL << 32) ? r->rate : (1ULL << 32) - 1;
	u64 ns = r->grant_ns < (1ULL << 32) ? r->grant_ns : (1ULL << 32) - 1;
	u64 want = rswap_reserve_div(rate * ns, RSWAP_RESERVE_NS_PER_SEC) * RSWAP_RESERVE_GRANTS;
	u64 cap = floor_pages > cap_pages ? floor_pages : cap_pages;

	if (pages_per_slab)
		want = rswap_reserve_div(want + pages_per_slab - 1, pages_per_slab) *
		       pages_per_slab;
	if (want < floor_pages)
		want = floor_pages;
	if (want >= cap >> r->shift)
		return cap;
	return want << r->shift;
}

#endif
