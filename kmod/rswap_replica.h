/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rswap_replica: the copies of each logical slab (issue 16, replicated
 * slabs), which of them may serve reads and take writes, what each one
 * missed, and where the next copy goes.
 *
 * Pure bookkeeping in the style of rswap_map.h, shared by the module and
 * the userspace unit tests: no locking (the caller holds dev->lock), no
 * allocation except in rswap_replica_init. How the module uses it is at
 * the end of this comment.
 *
 * A logical slab is what the map's REMOTE entries name (a slot: slab and page).
 * Its copy set has up to RSWAP_MAX_REPLICAS copies, each naming one
 * slab-table entry (struct rswap_slab, whose own life is in
 * rswap_lifecycle.h) on a distinct server. Every copy has a state:
 *
 *                  granted, set never written
 *   ABSENT ----------------------------------------> LIVE <-------------+
 *    |  ^                                            |  ^               |
 *    |  +------- dropped (lost, removed, returned) --+  |               |
 *    |  |                                            |  | clean         |
 *    |  |               server down, a write failed  v  | (missed none) |
 *    |  +------------- lost, dropped ------------- STALE                |
 *    |  |                                          |  ^                 |
 *    |  |                             resync starts v  | failed, or      |
 *    |  |                                          |  | dirty again     |
 *    |  +------------- lost, dropped ------------ SYNCING -- confirmed, -+
 *    |  |                                                   clean       |
 *    |  +------------- failed, lost ------------- NEW ----- confirmed, -+
 *    |                                             ^ |        clean
 *    +--- re-replication from a LIVE survivor -----+ +-- confirmed, dirty --> STALE
 *
 *   ABSENT   no copy in this position (entry RSWAP_NO_SLAB).
 *   LIVE     up to date: serves reads, takes writes. Its dirty map is
 *            clean.
 *   STALE    its server is down, or it missed writes: no reads, no writes;
 *            its dirty map has every slot written since it went stale.
 *   SYNCING  the dirty slots are being copied into it from a LIVE copy,
 *            server to server (MIGRATE_MAP with the dirty runs, then
 *            MIGRATE). Takes writes, serves no reads. Its dirty map was
 *            moved into the device's one resync pass when the sync began.
 *   NEW      being filled as a whole slab from a LIVE copy (MIGRATE, as a
 *            move does). Takes writes, serves no reads; its dirty map
 *            starts clean.
 *
 * rswap_replica_set_state owns every transition, refuses (-EINVAL) any
 * not in the diagram, and checks each one's condition (-EBUSY, -ENODATA):
 * into LIVE only from a copy with a clean dirty map that is confirmed
 * (SYNCING, NEW) or missed nothing (STALE), or from ABSENT for a set no
 * page was written to since it was last empty; from NEW into STALE only
 * when confirmed (an unfinished fill is dropped, not resynced); into NEW
 * and SYNCING only with a LIVE copy in the set to copy from.
 *
 * Writes racing a copy. The server-to-server copy reads the source slot at
 * some moment and writes it into the copy later; a client WRITE of the
 * same slot to both copies can land on the copy before the old data does,
 * and the copy would end up older than the source without anyone knowing.
 * The rule, applied by rswap_replica_write_begin as each write is posted:
 *   - STALE: the slots are marked dirty (the copy does not get the write).
 *   - SYNCING: the write is posted to the copy too; a slot that is in the
 *     running resync pass is marked dirty again in the copy's own map (the
 *     pass may overwrite it with older data), one outside the pass needs
 *     nothing (the copy was up to date there and gets the new data).
 *   - NEW: the write is posted, and every slot written is marked dirty
 *     (the whole slab is being copied).
 * When the copy is confirmed, a clean map makes it LIVE; otherwise it is
 * STALE with only the slots written during the copy, and another, shorter
 * pass follows. Only writes that race the slots being copied force a new
 * pass, so the passes converge. Writes posted before the sync began (noted
 * while STALE, so in the pass) must have completed on the source before
 * the source reads those slots: the caller quiesces I/O between
 * rswap_replica_set_state(SYNCING or NEW) and sending MIGRATE, exactly as
 * rswap_migrate.c does before a move.
 *
 * One resync pass runs at a time per device (the migration worker runs one
 * copy at a time), so the pass map is one bitmap of pages_per_slab bits,
 * not one per copy. A failed pass puts its slots back in the copy's map.
 *
 * Memory is fixed at init: one dirty map of pages_per_slab bits per copy
 * per slab (replicas copies of max_slabs slabs), plus the pass and the
 * sets; rswap_replica_bytes says how much before anything is allocated.
 *
 * Placement (rswap_replica_place): never a server already in the set; a
 * failure domain already in the set only when no usable server in another
 * domain can grant a slab, and then only for RSWAP_PLACE_SPREAD (grants,
 * re-replication: a second copy in the same domain still survives a server
 * loss, and the result says the placement is degraded); RSWAP_PLACE_STRICT
 * (drain, rebalance: the issue says they never put two copies of a slab on
 * one server or one failure domain) refuses with -EXDEV, and the copy
 * stays where it is. Among the allowed, most free slabs first, then the
 * lowest server index. Servers without a domain (RSWAP_NO_DOMAIN) share
 * none with anyone.
 *
 * Reads (rswap_replica_read_pick): a LIVE copy not yet tried, the one whose
 * server has the fewest requests in flight, ties to the lowest copy index;
 * after a failed read the caller adds the copy to @tried and asks again;
 * -ENODATA when no copy is left, and only then does the read fail.
 *
 * How the module uses it (rswap_slabs.c, rswap_copies.c, rswap_dev.c):
 *   - The map's REMOTE entries name a set (the index of its first copy's
 *     table entry); the slot allocator works on sets.
 *   - A set takes new pages only while every copy it should have is LIVE
 *     and it is not being filled. Swap never rewrites a slot in place (a
 *     write takes new slots and frees the old), so a copy whose server is
 *     down misses no write of a page the map names: STALE copies stay
 *     clean, and a server that comes back with its slabs makes them LIVE
 *     again at once (STALE -> LIVE, clean). The dirty maps, SYNCING and
 *     the resync pass are therefore never needed by the module today;
 *     their checks (into LIVE only when clean) still guard every
 *     transition, and a writer that keeps writing to a set with a copy
 *     down (erasure-coded sets, which cannot move a page to another set
 *     cheaply) would use them as described above.
 *   - Writes: rswap_replica_write_begin returns the copies to post to, one
 *     WR per copy per run of slots; the request completes when every copy
 *     has answered, and a failed copy sends the pages to new slots.
 *   - Reads: rswap_replica_read_pick with the in-flight WRs of each copy's
 *     queue pair for the request's hardware queue; a run of slots stays on
 *     one copy; on a failed READ or a server down, the next copy. A read
 *     fails with EIO only when no copy is left.
 *   - A server down: its copies LIVE -> STALE (reads go elsewhere, the set
 *     takes no pages). Declared lost: its copies -> ABSENT, and each set
 *     with pages gets a NEW copy on a server chosen by rswap_replica_place
 *     (RSWAP_PLACE_SPREAD), filled server to server by MIGRATE from a LIVE
 *     copy (rswap_copies.c, entry state COPYING), then copy_done. A set
 *     created with fewer copies than replicas= (too few servers) is
 *     degraded and gets its missing copies the same way when servers
 *     come back.
 *   - Drain and rebalance move one copy's table entry at a time (FROZEN,
 *     FILLING target, MIGRATE, swap), the target chosen with
 *     RSWAP_PLACE_STRICT against the set's other copies.
 *   - Lock order (rswap.h): the sets live under dev->lock with the map and
 *     the slab table; nothing is added to the order.
 *   - Erasure coding later: another kind of set (k data + r parity
 *     entries) behind the same calls; the block frontend sees only
 *     write_begin and read_pick, and write_failed with the dirty maps
 *     once a set keeps taking writes with a copy down.
 */
#ifndef RSWAP_REPLICA_H
#define RSWAP_REPLICA_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#endif

#include "rswap_map.h"		/* RSWAP_NO_SLAB; u8, u32, u64 in userspace */

#define RSWAP_MAX_REPLICAS	3
#define RSWAP_NO_DOMAIN		0xffffffffu

enum rswap_copy_state {
	RSWAP_COPY_ABSENT = 0,
	RSWAP_COPY_LIVE,
	RSWAP_COPY_STALE,
	RSWAP_COPY_SYNCING,
	RSWAP_COPY_NEW,
	RSWAP_COPY_NR_STATES
};

/**
 * struct rswap_copy - one copy of a logical slab
 * @dirty:	pages_per_slab bits: slots it missed (STALE), or written
 *		while it was being copied (SYNCING: in the pass; NEW: any)
 * @n_dirty:	bits set in @dirty
 * @entry:	its slab-table entry, or RSWAP_NO_SLAB (ABSENT)
 * @state:	enum rswap_copy_state, changed by rswap_replica_set_state only
 * @confirmed:	NEW or SYNCING: the copy's completion was confirmed
 */
struct rswap_copy {
	unsigned long *dirty;
	u32 n_dirty;
	u32 entry;
	u8 state;
	bool confirmed;
};

/**
 * struct rswap_copy_set - the copies of one logical slab
 * @copy:	copies 0..replicas-1 (the others stay ABSENT)
 * @n_live:	copies LIVE
 * @n_present:	copies not ABSENT
 * @written:	a page was written to it since it was last empty
 * @degraded:	counted in rswap_replicas.degraded
 */
struct rswap_copy_set {
	struct rswap_copy copy[RSWAP_MAX_REPLICAS];
	u8 n_live;
	u8 n_present;
	bool written;
	bool degraded;
};

/**
 * struct rswap_replicas - every copy set of a device
 * @sets:	max_slabs sets
 * @pass:	the running resync pass: pages_per_slab bits
 * @pass_slab:	set the pass belongs to, or RSWAP_NO_SLAB
 * @pass_copy:	copy the pass belongs to
 * @max_slabs:	logical slabs
 * @pages_per_slab: slots per slab (bits per dirty map)
 * @replicas:	copies wanted per set (1..RSWAP_MAX_REPLICAS)
 * @degraded:	sets with a copy but fewer LIVE copies than @replicas
 */
struct rswap_replicas {
	struct rswap_copy_set *sets;
	unsigned long *pass;
	u32 pass_slab;
	u32 pass_copy;
	u32 max_slabs;
	u32 pages_per_slab;
	u32 replicas;
	u32 degraded;
};

static inline const char *rswap_copy_state_name(enum rswap_copy_state st)
{
	switch (st) {
	case RSWAP_COPY_ABSENT:
		return "absent";
	case RSWAP_COPY_LIVE:
		return "live";
	case RSWAP_COPY_STALE:
		return "stale";
	case RSWAP_COPY_SYNCING:
		return "syncing";
	case RSWAP_COPY_NEW:
		return "new";
	default:
		return "?";
	}
}

/* May a copy go from @from to @to? (The diagram; conditions aside.) */
static inline bool rswap_copy_may(enum rswap_copy_state from, enum rswap_copy_state to)
{
	switch (from) {
	case RSWAP_COPY_ABSENT:
		return to == RSWAP_COPY_LIVE || to == RSWAP_COPY_NEW;
	case RSWAP_COPY_LIVE:
		return to == RSWAP_COPY_STALE || to == RSWAP_COPY_ABSENT;
	case RSWAP_COPY_STALE:
		return to == RSWAP_COPY_LIVE || to == RSWAP_COPY_SYNCING ||
		       to == RSWAP_COPY_ABSENT;
	case RSWAP_COPY_SYNCING:
	case RSWAP_COPY_NEW:
		return to == RSWAP_COPY_LIVE || to == RSWAP_COPY_STALE ||
		       to == RSWAP_COPY_ABSENT;
	default:
		return false;
	}
}

/* Does a copy in @st get the client's WRITEs? */
static inline bool rswap_copy_takes_writes(enum rswap_copy_state st)
{
	return st == RSWAP_COPY_LIVE || st == RSWAP_COPY_SYNCING || st == RSWAP_COPY_NEW;
}

/* Bytes rswap_replica_init allocates for these sizes (0 if they are invalid). */
u64 rswap_replica_bytes(u32 max_slabs, u32 pages_per_slab, u32 replicas);
/*
 * Every set empty, every copy ABSENT: 0, -EINVAL or -ENOMEM. It allocates
 * with GFP_KERNEL, so it belongs where rswap_slabs_setup allocates the slab
 * table (the first WELCOME, once, under connect_work's memalloc_noio
 * scope), never on the write, read or reconnect path.
 */
int rswap_replica_init(struct rswap_replicas *rs, u32 max_slabs, u32 pages_per_slab,
		       u32 replicas);
void rswap_replica_fini(struct rswap_replicas *rs);

/*
 * The one function that changes a copy's state. @entry is the copy's
 * slab-table entry when it leaves ABSENT (ignored otherwise). Returns 0;
 * -ERANGE for a slab or copy out of range; -EINVAL for a transition not in
 * the diagram; -EBUSY into LIVE with a dirty map, unconfirmed, or from
 * ABSENT into a set that holds pages, from NEW into STALE unconfirmed, and
 * into SYNCING while another pass runs or with nothing to sync (clean: go
 * LIVE); -ENODATA into NEW or
 * SYNCING without a LIVE copy to copy from.
 */
int rswap_replica_set_state(struct rswap_replicas *rs, u32 slab, u32 copy,
			    enum rswap_copy_state to, u32 entry);

/*
 * A NEW or SYNCING copy's fill or resync ended: @confirmed when the
 * server answered MIGRATED. Confirmed and clean: LIVE; confirmed and
 * written meanwhile: STALE (another pass); not confirmed: a SYNCING copy is
 * STALE with its pass put back, a NEW one ABSENT. Returns the new state,
 * or a negative errno from rswap_replica_set_state.
 */
int rswap_replica_copy_done(struct rswap_replicas *rs, u32 slab, u32 copy, bool confirmed);

/* A copy position that is ABSENT (for a new copy), or -ENOSPC. */
int rswap_replica_free_copy(const struct rswap_replicas *rs, u32 slab);

/* ---- the dirty maps ---- */

/* Mark or clear slots [@first, @first + @n) of a copy: 0, or -ERANGE (nothing done). */
int rswap_replica_mark_dirty(struct rswap_replicas *rs, u32 slab, u32 copy, u32 first, u32 n);
int rswap_replica_clear_dirty(struct rswap_replicas *rs, u32 slab, u32 copy, u32 first, u32 n);
bool rswap_replica_is_clean(const struct rswap_replicas *rs, u32 slab, u32 copy);

/*
 * The next run of dirty slots of a copy (or of the running pass) at or
 * after *@pos, at most @max_run long (0: no cap): true with *@first and
 * *@len set and *@pos moved past it; false when there is none. Start with
 * *@pos = 0.
 */
bool rswap_replica_next_dirty(const struct rswap_replicas *rs, u32 slab, u32 copy, u32 *pos,
			      u32 max_run, u32 *first, u32 *len);
bool rswap_replica_next_pass(const struct rswap_replicas *rs, u32 *pos, u32 max_run,
			     u32 *first, u32 *len);

/* ---- writes ---- */

/*
 * A WRITE of slots [@first, @first + @n) of @slab is being posted: marks
 * what the copies miss or may lose (see "Writes racing a copy") and
 * returns the copies to post it to, bit i for copy i (0: none takes
 * writes).
 */
u32 rswap_replica_write_begin(struct rswap_replicas *rs, u32 slab, u32 first, u32 n);
/*
 * The WRITE to @copy failed, or its server went down with it in flight:
 * a LIVE or SYNCING copy goes STALE with the slots marked, a NEW one
 * ABSENT (its fill is abandoned). Returns the copy's new state, or a
 * negative errno.
 */
int rswap_replica_write_failed(struct rswap_replicas *rs, u32 slab, u32 copy, u32 first, u32 n);
/* Every page of @slab was freed: nothing any copy missed matters, its maps are cleared. */
void rswap_replica_emptied(struct rswap_replicas *rs, u32 slab);

/* ---- reads ---- */

/*
 * The copy a READ of @slab goes to: LIVE, not in @tried (bit i: copy i),
 * fewest in flight by @inflight[copy] (NULL: all equal), ties to the lower
 * copy. -ENODATA when no copy is left.
 */
int rswap_replica_read_pick(const struct rswap_replicas *rs, u32 slab, const u32 *inflight,
			    u32 tried);

/* ---- placement ---- */

/**
 * struct rswap_place_cand - a server a new copy could go to
 * @server:	its index (dev->servers)
 * @domain:	its failure domain, or RSWAP_NO_DOMAIN
 * @free_slabs:	slabs it could still grant (its free hint)
 * @usable:	READY and not draining
 */
struct rswap_place_cand {
	u32 server;
	u32 domain;
	u32 free_slabs;
	bool usable;
};

/* A server the set already has a copy on. */
struct rswap_place_used {
	u32 server;
	u32 domain;
};

enum rswap_place_policy {
	RSWAP_PLACE_SPREAD,	/* grant, re-replication: same domain if nothing else */
	RSWAP_PLACE_STRICT,	/* drain, rebalance: never a domain already used */
};

/*
 * Where the next copy of a set goes: an index into @cand, with
 * *@same_domain true when it shares a failure domain with a copy already
 * in the set (degraded placement, RSWAP_PLACE_SPREAD only). -ENOSPC when
 * no usable server outside the set can grant; -EXDEV when
 * RSWAP_PLACE_STRICT found only servers in domains the set uses.
 */
int rswap_replica_place(const struct rswap_place_cand *cand, u32 n_cand,
			const struct rswap_place_used *used, u32 n_used,
			enum rswap_place_policy policy, bool *same_domain);

#endif
