// SPDX-License-Identifier: GPL-2.0
/* rswap_map: the offset map and the slot allocator; see rswap_map.h. */
#include "rswap_map.h"

#ifdef __KERNEL__
#include <linux/bitops.h>
#include <linux/errno.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#define map_calloc(n, size) kvcalloc(n, size, GFP_KERNEL)
#define map_free(p) kvfree(p)
#define map_bug(cond) WARN_ON_ONCE(cond)
#else
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#define map_calloc(n, size) calloc(n, size)
#define map_free(p) free(p)
#define map_bug(cond) (cond)
#ifndef BITS_PER_LONG
#define BITS_PER_LONG (CHAR_BIT * sizeof(long))
#endif
#define BITS_TO_LONGS(n) (((n) + BITS_PER_LONG - 1) / BITS_PER_LONG)
static inline bool test_bit(unsigned long nr, const unsigned long *map)
{
	return (map[nr / BITS_PER_LONG] >> (nr % BITS_PER_LONG)) & 1;
}

static inline void __set_bit(unsigned long nr, unsigned long *map)
{
	map[nr / BITS_PER_LONG] |= 1UL << (nr % BITS_PER_LONG);
}

static inline void __clear_bit(unsigned long nr, unsigned long *map)
{
	map[nr / BITS_PER_LONG] &= ~(1UL << (nr % BITS_PER_LONG));
}

/* As the kernel's: the first clear bit at or after @off, or @size. */
static unsigned long find_next_zero_bit(const unsigned long *map, unsigned long size,
					unsigned long off)
{
	while (off < size) {
		unsigned long w = ~map[off / BITS_PER_LONG] >> (off % BITS_PER_LONG);

		if (w) {
			off += (unsigned long)__builtin_ctzl(w);
			return off < size ? off : size;
		}
		off = (off / BITS_PER_LONG + 1) * BITS_PER_LONG;
	}
	return size;
}
#endif

bool rswap_page_same_filled(const void *page, u64 *word)
{
	const u64 *w = page;
	u64 first = w[0];
	unsigned int i;

	/* A word an entry cannot keep: the page goes to a slot. */
	if ((first >> 32) != (u32)first)
		return false;
	/* Compare the last word first: most pages differ there or early. */
	if (w[RSWAP_MAP_PAGE_SIZE / sizeof(u64) - 1] != first)
		return false;
	for (i = 1; i < RSWAP_MAP_PAGE_SIZE / sizeof(u64) - 1; i++)
		if (w[i] != first)
			return false;
	*word = first;
	return true;
}

int rswap_map_init(struct rswap_map *m, u64 n_pages)
{
	memset(m, 0, sizeof(*m));
	m->pages_per_slab = 1;	/* until rswap_map_geometry: slot = slab (the ram backend's 0) */
	m->entries = map_calloc(n_pages, sizeof(*m->entries));
	if (!m->entries)
		return -ENOMEM;
	m->n_pages = n_pages;
	return 0;
}

void rswap_map_fini(struct rswap_map *m)
{
	map_free(m->entries);
	m->entries = NULL;
}

static void count(struct rswap_map *m, u32 type, int delta)
{
	switch (type) {
	case RSWAP_ZERO:
		m->zero_pages += delta;
		break;
	case RSWAP_SAME:
		m->same_pages += delta;
		break;
	case RSWAP_REMOTE:
		m->remote_pages += delta;
		break;
	default:
		break;
	}
}

static void map_put(struct rswap_map *m, u64 off, struct rswap_entry e,
		    struct rswap_entry *old)
{
	struct rswap_entry *cur = &m->entries[off];

	*old = *cur;
	count(m, rswap_entry_type(cur), -1);
	WRITE_ONCE(cur->bits, e.bits);	/* whole: rswap_map_get reads without the lock */
	count(m, rswap_entry_type(&e), 1);
}

void rswap_map_set(struct rswap_map *m, u64 off, enum rswap_entry_type type, u64 word,
		   struct rswap_entry *old)
{
	struct rswap_entry e;

	/* Only EMPTY, ZERO and SAME here (REMOTE: rswap_map_set_entry). */
	if (map_bug(type == RSWAP_REMOTE))
		type = RSWAP_EMPTY;
	e.bits = (u64)type << 32;
	/* A SAME word's halves are equal (rswap_page_same_filled). */
	if (type == RSWAP_SAME)
		e.bits |= (u32)word;
	map_put(m, off, e, old);
}

void rswap_map_set_entry(struct rswap_map *m, u64 off, struct rswap_entry e,
			 struct rswap_entry *old)
{
	map_put(m, off, e, old);
}

int rswap_map_geometry(struct rswap_map *m, u32 max_slabs, u32 pages_per_slab)
{
	if (!max_slabs || !pages_per_slab ||
	    (u64)max_slabs * pages_per_slab > (1ULL << RSWAP_ENTRY_SLOT_BITS))
		return -E2BIG;
	m->pages_per_slab = pages_per_slab;
	return 0;
}

int rswap_slots_init(struct rswap_slots *s, u32 max_slabs, u32 pages_per_slab)
{
	size_t longs = BITS_TO_LONGS(pages_per_slab);
	unsigned long *bits;
	u32 i;

	memset(s, 0, sizeof(*s));
	if (!max_slabs || !pages_per_slab)
		return -EINVAL;
	s->slabs = map_calloc(max_slabs, sizeof(*s->slabs));
	bits = map_calloc((size_t)max_slabs * longs, sizeof(unsigned long));
	if (!s->slabs || !bits) {
		map_free(s->slabs);
		map_free(bits);
		s->slabs = NULL;
		return -ENOMEM;
	}
	for (i = 0; i < max_slabs; i++)
		s->slabs[i].bitmap = bits + (size_t)i * longs;
	s->max_slabs = max_slabs;
	s->pages_per_slab = pages_per_slab;
	return 0;
}

void rswap_slots_fini(struct rswap_slots *s)
{
	if (s->slabs)
		map_free(s->slabs[0].bitmap);
	map_free(s->slabs);
	s->slabs = NULL;
}

void rswap_slots_activate(struct rswap_slots *s, u32 slab)
{
	struct rswap_slab_slots *ss = &s->slabs[slab];

	if (ss->active)
		return;
	ss->active = true;
	s->free_slots += s->pages_per_slab - ss->used;
}

void rswap_slots_deactivate(struct rswap_slots *s, u32 slab)
{
	struct rswap_slab_slots *ss = &s->slabs[slab];

	if (!ss->active)
		return;
	ss->active = false;
	s->free_slots -= s->pages_per_slab - ss->used;
}

void rswap_slots_mark(struct rswap_slots *s, u32 slab, u32 page)
{
	struct rswap_slab_slots *ss = &s->slabs[slab];

	if (test_bit(page, ss->bitmap))
		return;
	__set_bit(page, ss->bitmap);
	ss->used++;
	if (ss->active)
		s->free_slots--;
}

/*
 * First free slot of @ss at or after @from, wrapping once; or
 * pages_per_slab. A word of the bitmap at a time, not a bit.
 */
static u32 first_free(const struct rswap_slots *s, const struct rswap_slab_slots *ss, u32 from)
{
	u32 p = find_next_zero_bit(ss->bitmap, s->pages_per_slab, from);

	if (p < s->pages_per_slab || !from)
		return p;
	p = find_next_zero_bit(ss->bitmap, from, 0);
	return p < from ? p : s->pages_per_slab;
}

u32 rswap_slots_alloc(struct rswap_slots *s, u32 want, u32 *slab, u32 *first)
{
	u32 tried, i, p, n;

	if (!want)
		return 0;
	/* The current slab first, then the others in turn: one pass at most. */
	for (tried = 0, i = s->cur_slab; tried < s->max_slabs; tried++, i++) {
		struct rswap_slab_slots *ss;

		if (i == s->max_slabs)
			i = 0;
		ss = &s->slabs[i];
		if (!ss->active || ss->used == s->pages_per_slab)
			continue;
		p = first_free(s, ss, ss->cursor);
		if (p == s->pages_per_slab)
			continue;
		for (n = 0; n < want && p + n < s->pages_per_slab &&
		     !test_bit(p + n, ss->bitmap); n++)
			__set_bit(p + n, ss->bitmap);
		ss->used += n;
		ss->cursor = p + n == s->pages_per_slab ? 0 : p + n;
		s->free_slots -= n;
		s->taken += n;
		s->cur_slab = i;
		*slab = i;
		*first = p;
		return n;
	}
	return 0;
}

bool rswap_slots_free(struct rswap_slots *s, u32 slab, u32 page)
{
	struct rswap_slab_slots *ss = &s->slabs[slab];

	if (!test_bit(page, ss->bitmap))
		return false;	/* freeing a free slot is the caller's bug; keep counts right */
	__clear_bit(page, ss->bitmap);
	ss->used--;
	if (ss->active)
		s->free_slots++;
	return ss->used == 0;
}
