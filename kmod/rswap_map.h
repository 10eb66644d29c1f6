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
 * An entry is 8 bytes, so the map of a 64 GiB device takes 128 MiB:
 *
 *   bit 63 set:    REMOTE | slot (bits 62..32)            | checksum (31..0)
 *   bit 63 clear:  0      | type (bits 33..32: EMPTY, ZERO, SAME) | word (31..0)
 *
 * slot = slab * pages_per_slab + page (rswap_map_geometry), so a device can
 * have at most 2^31 slots over all the slabs its table can hold (each
 * copy's slabs count); a read divides once per page. A SAME entry keeps
 * a 32-bit word: a page of one 64-bit word whose halves differ is stored in
 * a slot like any other page (rswap_page_same_filled says no).
 *
 * Pure bookkeeping, shared by the kernel module and the userspace unit tests:
 * no locking here (the caller holds the lock that covers the call), no
 * allocation except in the _init functions. One exception, by design: an
 * entry is one 8-byte word, stored whole (WRITE_ONCE) by a writer that
 * holds the lock, so a reader without it (the read path, rswap_dev.c)
 * reads it with rswap_map_get and sees the old entry or the new one,
 * never a mix.
 */
#ifndef RSWAP_MAP_H
#define RSWAP_MAP_H

#ifdef __KERNEL__
#include <linux/compiler.h>
#include <linux/types.h>
#else
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
typedef uint64_t u64;
typedef uint32_t u32;
typedef uint8_t u8;
#define READ_ONCE(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE_ONCE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#endif

#define RSWAP_MAP_PAGE_SIZE 4096
#define RSWAP_NO_SLAB 0xffffffffu

enum rswap_entry_type {
	RSWAP_EMPTY = 0,	/* never written, or discarded */
	RSWAP_ZERO,		/* all zero bytes */
	RSWAP_SAME,		/* one 32-bit word, repeated */
	RSWAP_REMOTE,		/* in a slot of a granted slab */
};

#define RSWAP_ENTRY_REMOTE	(1ULL << 63)
#define RSWAP_ENTRY_SLOT_BITS	31
#define RSWAP_ENTRY_SLOT_MASK	((1U << RSWAP_ENTRY_SLOT_BITS) - 1)

/**
 * struct rswap_entry - one swap offset, encoded as above
 * @bits:	the encoding; read it with the accessors below
 *
 * A struct, not a bare u64, so an entry cannot be mixed up with an offset.
 */
struct rswap_entry {
	u64 bits;
};

struct rswap_map {
	struct rswap_entry *entries;
	u64 n_pages;		/* swap offsets */
	u32 pages_per_slab;	/* REMOTE slots' geometry (rswap_map_geometry); 1 before */
	/* counters, for sysfs */
	u64 zero_pages;		/* entries that are ZERO now */
	u64 same_pages;		/* entries that are SAME now */
	u64 remote_pages;	/* entries that are REMOTE now */
};

/*
 * Offset @off's entry, read whole: for a reader that does not hold the
 * lock writers take (offsets beyond n_pages are the caller's bug).
 */
static inline struct rswap_entry rswap_map_get(const struct rswap_map *m, u64 off)
{
	return (struct rswap_entry){ .bits = READ_ONCE(m->entries[off].bits) };
}

static inline enum rswap_entry_type rswap_entry_type(const struct rswap_entry *e)
{
	if (e->bits & RSWAP_ENTRY_REMOTE)
		return RSWAP_REMOTE;
	return (enum rswap_entry_type)((e->bits >> 32) & 3);
}

static inline u32 rswap_entry_slot(const struct rswap_entry *e)
{
	return (u32)(e->bits >> 32) & RSWAP_ENTRY_SLOT_MASK;
}

/* REMOTE: the set (slab table index) and the page in it. */
static inline u32 rswap_entry_slab(const struct rswap_map *m, const struct rswap_entry *e)
{
	return rswap_entry_slot(e) / m->pages_per_slab;
}

static inline u32 rswap_entry_page(const struct rswap_map *m, const struct rswap_entry *e)
{
	return rswap_entry_slot(e) % m->pages_per_slab;
}

/* Both at once, with one divide (the read path). */
static inline u32 rswap_entry_where(const struct rswap_map *m, const struct rswap_entry *e,
				    u32 *page)
{
	u32 slot = rswap_entry_slot(e), slab = slot / m->pages_per_slab;

	*page = slot - slab * m->pages_per_slab;
	return slab;
}

/* REMOTE: the page's checksum when it was written (rswap_dev.c); 0 otherwise. */
static inline u32 rswap_entry_csum(const struct rswap_entry *e)
{
	return e->bits & RSWAP_ENTRY_REMOTE ? (u32)e->bits : 0;
}

/* SAME: the page's word as 64 bits (both halves the 32-bit word); 0 otherwise. */
static inline u64 rswap_entry_word(const struct rswap_entry *e)
{
	u64 w = (u32)e->bits;

	return rswap_entry_type(e) == RSWAP_SAME ? w << 32 | w : 0;
}

/*
 * Is @page (RSWAP_MAP_PAGE_SIZE bytes, 8-byte aligned) one 32-bit word
 * repeated, the most a SAME entry keeps? Sets *word (as 64 bits) when it
 * is. A zero page is same-filled with word 0.
 */
bool rswap_page_same_filled(const void *page, u64 *word);

/*
 * Point @off at a new place: EMPTY, ZERO, or SAME with @word (a 64-bit
 * word rswap_page_same_filled found). The old entry is returned in *old so
 * the caller can free its slot. Offsets beyond n_pages are the caller's bug.
 */
void rswap_map_set(struct rswap_map *m, u64 off, enum rswap_entry_type type, u64 word,
		   struct rswap_entry *old);

/* The entry of slot @page of slab @slab with checksum @csum. */
static inline struct rswap_entry rswap_entry_remote(const struct rswap_map *m, u32 slab,
						     u32 page, u32 csum)
{
	/* rswap_map_geometry: slab < max_slabs, page < pages_per_slab fit */
	u64 slot = ((u64)slab * m->pages_per_slab + page) & RSWAP_ENTRY_SLOT_MASK;

	return (struct rswap_entry){ .bits = RSWAP_ENTRY_REMOTE | slot << 32 | csum };
}

/* Point @off at @e, a REMOTE entry; the old one in *old. */
void rswap_map_set_entry(struct rswap_map *m, u64 off, struct rswap_entry e,
			 struct rswap_entry *old);

static inline void rswap_map_set_remote(struct rswap_map *m, u64 off, u32 slab, u32 page,
					u32 csum, struct rswap_entry *old)
{
	rswap_map_set_entry(m, off, rswap_entry_remote(m, slab, page, csum), old);
}

/*
 * Slots are named by slab * pages_per_slab + page in 31 bits: set the
 * geometry for slabs of @pages_per_slab, and check that @max_slabs of them
 * fit. 0, or -E2BIG (more slots than an entry can name). Called once,
 * before any REMOTE entry is made.
 */
int rswap_map_geometry(struct rswap_map *m, u32 max_slabs, u32 pages_per_slab);

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
	u64 taken;		/* slots ever taken (rswap_slots_alloc): a rate, for the reserve */
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
