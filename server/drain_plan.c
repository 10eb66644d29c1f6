// SPDX-License-Identifier: GPL-2.0
/* drain_plan: see drain_plan.h. */
#include "drain_plan.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MIB (1ull << 20)

/* Append to @buf like snprintf, never past @size. */
__attribute__((format(printf, 3, 4)))
static void append(char *buf, size_t size, const char *fmt, ...)
{
	size_t len = strnlen(buf, size);
	va_list ap;

	if (len + 1 >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
}

const char *drain_peer_check(uint64_t slab_bytes, uint32_t slabs_total, uint32_t slabs_free)
{
	if (!slab_bytes || slab_bytes > (1ull << 30) || slab_bytes % 4096)
		return "a nonsensical slab size in its status: not believed";
	if (slabs_free > slabs_total)
		return "more free slabs than slabs in its status: not believed";
	if ((uint64_t)slabs_total * slab_bytes > DRAIN_PEER_BYTES_MAX)
		return "more memory than any server has in its status: not believed";
	return NULL;
}

uint64_t drain_room(const struct peer_status *peers, unsigned int n, char *text, size_t size)
{
	uint64_t room = 0;
	unsigned int i;

	if (text && size)
		text[0] = '\0';
	for (i = 0; i < n; i++) {
		const struct peer_status *p = &peers[i];
		const char *sep = i ? ", " : "";

		if (!p->reachable) {
			if (text)
				append(text, size, "%s%s unreachable", sep, p->addr);
		} else if (p->draining) {
			if (text)
				append(text, size, "%s%s draining", sep, p->addr);
		} else {
			room += (uint64_t)p->slabs_free * p->slab_bytes;
			if (text)
				append(text, size, "%s%s %u free", sep, p->addr, p->slabs_free);
		}
	}
	return room;
}

static const char *plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

int64_t drain_goal(uint32_t held, uint64_t slab_bytes, unsigned int n_peers, uint64_t room,
		   const char *peers_text, bool partial, char *err, size_t err_size)
{
	uint64_t fit = slab_bytes ? room / slab_bytes : 0;

	if (!n_peers || fit >= held)
		return held;
	if (partial)
		return (int64_t)fit;
	snprintf(err, err_size, "drain refused: %u slab%s (%llu MiB) held here, the peers have "
		 "room for %llu (%llu MiB): %s. Add memory to the pool, or drain --partial to "
		 "move what fits", held, plural(held),
		 (unsigned long long)(held * slab_bytes / MIB), (unsigned long long)fit,
		 (unsigned long long)(fit * slab_bytes / MIB), peers_text);
	return -1;
}

uint32_t rebalance_goal(uint32_t held, uint32_t total, uint64_t slab_bytes,
			const struct peer_status *peers, unsigned int n)
{
	/* long double: capacities in bytes times each other overflow 64 bits */
	long double cap_here = (long double)total * slab_bytes, cap = cap_here;
	long double used = (long double)held * slab_bytes, fair;
	uint64_t fair_slabs;
	unsigned int i;

	for (i = 0; i < n; i++) {
		const struct peer_status *p = &peers[i];

		if (!p->reachable || p->draining)
			continue;
		cap += (long double)p->slabs_total * p->slab_bytes;
		used += (long double)(p->slabs_total - p->slabs_free) * p->slab_bytes;
	}
	if (!slab_bytes || cap <= 0)
		return 0;
	fair = cap_here * used / cap;
	fair_slabs = (uint64_t)(fair / slab_bytes);
	if ((long double)fair_slabs * slab_bytes < fair)
		fair_slabs++;
	return held > fair_slabs ? held - (uint32_t)fair_slabs : 0;
}

static const char *reason_text(enum drain_reason r)
{
	switch (r) {
	case DRAIN_LEFT_NOT_ASKED:
		return "not asked (the goal was reached)";
	case DRAIN_LEFT_NOT_CONNECTED:
		return "client not connected";
	case DRAIN_LEFT_NO_ROOM:
		return "no other server had room";
	case DRAIN_LEFT_REFUSED:
		return "the client could not move them";
	case DRAIN_LEFT_NO_ANSWER:
		return "client did not answer";
	case DRAIN_LEFT_FAILED:
		return "the copy failed";
	}
	return "?";
}

void drain_left_text(char *buf, size_t size, const struct drain_left *left, unsigned int n)
{
	unsigned int i, shown = 0;

	if (!size)
		return;
	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		if (!left[i].slabs)
			continue;
		append(buf, size, "%s%u slab%s of client %s remain%s: %s", shown ? "; " : "",
		       left[i].slabs, plural(left[i].slabs), left[i].client,
		       left[i].slabs == 1 ? "s" : "", reason_text(left[i].reason));
		shown++;
	}
	if (!shown)
		snprintf(buf, size, "nothing remains here");
}
