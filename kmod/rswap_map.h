/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rswap_map: where each swapped page lives, and which remote slots are free.
 *
 * The swap offset a PTE names is indirected through one table (DESIGN.md):
 *
 *   offset -> entry = EMPTY | ZERO | SAME(word) | REMOTE(slab, page, checksum)
 *   slab   -> (server, remote address, rkey, state)   (rswap.h, rswap_slabs.c)
 *
 * Zero-filled and same-filled pages live in their entry only: no network
 * traffic, no server memory. REMOTE entries name a page slot in a slab the
 * client was granted. Slots are handed out by rswap_slots_alloc, which gives
 * a batch of pages consecutive slots of one slab, so the batch goes out as
 * one RDMA WRITE.
 *
 * Pure bookkeeping, shared by the kernel module and the userspace unit tests:
 * no locking here (the caller holds the lock that covers the call), no
 * allocation except in the _init functions.
 */
#ifndef RSWAP_MAP_H
#define RSWAP_MAP_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
typedef uint64_t u64;
typedef uint32_t u32;
typedef uint8_t u8;
#endif

#define RSWAP_MAP_PAGE_SIZE 4096
#define RSWAP_NO_SLAB 0xffffffffu

enum rswap_entry_type {
	RSWAP_EMPTY = 0,	/* never written, or discarded */
	RSWAP_ZERO,		/* all zero bytes */
	RSWAP_SAME,		/* one word, repeated */
	RSWAP_REMOTE,		/* in a slot of a granted slab */
};

/**
 * struct rswap_entry - one swap offset
 * @val:	SAME: the word; REMOTE: slab << 32 | page in slab
 * @type:	enum rswap_entry_type
 * @csum:	REMOTE: the page's checksum when it was written (rswap_dev.c),
 *		checked when it is read back; 0 otherwise
 */
struct rswap_entry {
	u64 val;
	u32 type;
	u32 csum;
};

struct rswap_map {
	struct rswap_entry *entries;
	u64 n_pages;		/* swap offsets */
	/* counters, for sysfs */
	u64 zero_pages;		/* entries that are ZERO now */
	u64 same_pages;		/* entries that are SAME now */
	u64 remote_pages;	/* entries that are REMOTE now */
};

static inline u32 rswap_entry_slab(const struct rswap_entry *e)
{
	return (u32)(e->val >> 32);
}

static inline u32 rswap_entry_page(const struct rswap_entry *e)
{
	return (u32)e->val;
}

/*
 * Is @page (RSWAP_MAP_PAGE_SIZE bytes, 8-byte aligned) one word repeated?
 * Sets *word when it is. A zero page is same-filled with word 0.
 */
bool rswap_page_same_filled(const void *page, u64 *word);

/*
 * Point @off at a new place; the old entry is returned in *old so the
 * caller can free its slot. Offsets beyond n_pages are the caller's bug.
 */
void rswap_map_set(struct rswap_map *m, u64 off, enum rswap_entry_type type, u64 val,
		   struct rswap_entry *old);

static inline void rswap_map_set_remote(struct rswap_map *m, u64 off, u32 slab, u32 page,
					u32 csum, struct rswap_entry *old)
{
	rswap_map_set(m, off, RSWAP_REMOTE, (u64)slab << 32 | page, old);
	m->entries[off].csum = csum;
}

/* ---- slots of the slabs this client holds ---- */

/**
 * struct rswap_slab_slots - the page slots of one slab
 * @bitmap:	bit set for a used slot
 * @used:	slots in use
 * @cursor:	where the search for a free run starts
 * @active:	slab in the table (granted, accepting new pages)
 */
struct rswap_slab_slots {
	unsigned long *bitmap;
	u32 used;
	u32 cursor;
	bool active;
};

struct rswap_slots {
	struct rswap_slab_slots *slabs;
	u32 max_slabs;
	u32 pages_per_slab;
	u32 cur_slab;		/* slab new runs come from first */
	u64 free_slots;		/* over active slabs */
};

/* Allocate the map of @n_pages offsets, all EMPTY: 0 or -ENOMEM. */
int rswap_map_init(struct rswap_map *m, u64 n_pages);
void rswap_map_fini(struct rswap_map *m);
/* Room for @max_slabs slabs of @pages_per_slab slots, none active. */
int rswap_slots_init(struct rswap_slots *s, u32 max_slabs, u32 pages_per_slab);
void rswap_slots_fini(struct rswap_slots *s);

/*
 * Take up to @want consecutive free slots of one active slab, preferring
 * the current slab. Returns how many were taken (0 when no active slab has
 * a free slot), with the slab and first slot in *slab and *first.
 */
u32 rswap_slots_alloc(struct rswap_slots *s, u32 want, u32 *slab, u32 *first);
/* Give slot @page of @slab back. Returns true when the slab is now empty. */
bool rswap_slots_free(struct rswap_slots *s, u32 slab, u32 page);
/*
 * Make slab @slab usable (just granted or reattached), all slots free
 * except those marked used by rswap_slots_mark.
 */
void rswap_slots_activate(struct rswap_slots *s, u32 slab);
/* Stop placing pages in @slab (being drained, or lost); its slots stay as they are. */
void rswap_slots_deactivate(struct rswap_slots *s, u32 slab);
/* Mark a slot used (rebuilding after a reattach). */
void rswap_slots_mark(struct rswap_slots *s, u32 slab, u32 page);

#endif
