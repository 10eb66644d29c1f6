/* SPDX-License-Identifier: GPL-2.0 */
/*
 * backing: the donated memory, a file mapped shared so that it outlives
 * the process. On tmpfs or hugetlbfs it is RAM; elsewhere it works but
 * pages go to disk, and the server says so. See backing.c for the file's
 * layout (the donated bytes, then an identity trailer), its locking and
 * the checks made on open, and how freed slabs are scrubbed.
 */
#ifndef RSWAP_BACKING_H
#define RSWAP_BACKING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pool.h"
#include "rswap_wire.h"

#define BACKING_TRAILER_MAGIC 0x4b424d5352575352ull	/* "RSWRSMBK" little-endian */
#define BACKING_TRAILER_VERSION 1

/* The identity trailer, at byte @size of the file (past the donated memory). */
struct backing_trailer {
	uint64_t magic;			/* le */
	uint32_t version;		/* le */
	uint32_t reserved;
	uint8_t cookie[RSWAP_ID_LEN];	/* random, made when the file was */
	uint64_t size;			/* le, donated bytes before the trailer */
	uint32_t reserved2;
	uint32_t crc;			/* le, CRC-32C of every byte before it */
};

struct backing {
	int fd;
	uint8_t *base;
	uint64_t size;		/* donated bytes, the slabs */
	uint64_t trailer_size;	/* bytes past them: the identity trailer */
	bool existed;		/* the file was there with the right size */
	bool in_ram;		/* tmpfs or hugetlbfs */
	bool hugetlb;
	bool upgraded;		/* a file of an older rswap, without trailer,
				 * was given one just now */
	bool punch_refused;	/* the file system cannot punch holes: memset */
	uint8_t cookie[RSWAP_ID_LEN];
	uint64_t scrubbed_total;	/* slabs scrubbed */
};

/*
 * Open or create @path with @size donated bytes (plus its trailer), lock it
 * and map it. 0, or -1 with a reason in @err: another process holds the
 * file, it is a symlink, not ours, writable by others, or of another size
 * (refused, never resized).
 */
int backing_open(struct backing *b, const char *path, uint64_t size, char *err,
		 size_t err_size);
void backing_close(struct backing *b);

/*
 * Clear @len bytes at @off of the donated memory: a hole punched (the pages
 * go back to the system and read as zero), or zeros written where the file
 * system cannot punch. No memory region may cover the range: a registered
 * region keeps the old pages pinned. 0, or -errno.
 */
int backing_scrub(struct backing *b, uint64_t off, uint64_t len);
/* Scrub @slab of @p if it is dirty and mark it clean: 0, or -errno. */
int backing_scrub_slab(struct backing *b, struct pool *p, uint32_t slab);
/*
 * Make @slab's pages allocated before it is granted, so a full tmpfs shows
 * as a refused grant and not as a failed registration or a lost write
 * (a no-op where the file system cannot): 0, or -errno (ENOSPC).
 */
int backing_reserve_slab(struct backing *b, const struct pool *p, uint32_t slab);
/* Scrub up to @max dirty free slabs: how many were scrubbed. */
uint32_t backing_scrub_dirty(struct backing *b, struct pool *p, uint32_t max);

/* "%02x" * RSWAP_ID_LEN of @cookie into @buf (at least 2 * RSWAP_ID_LEN + 1). */
void backing_cookie_hex(const uint8_t cookie[RSWAP_ID_LEN], char *buf);

/*
 * Lock @fd (flock, exclusive, not waiting) for the file @what @path: 0, or
 * -1 with a reason in @err naming the process that holds it when
 * /proc/locks says. Used for the metadata log too.
 */
int backing_lock_fd(int fd, const char *what, const char *path, char *err, size_t err_size);
/* Is the file of @fd ours and not writable by group or others? 0, or -1
 * with a reason and what to do in @err. */
int backing_check_owner(int fd, const char *what, const char *path, char *err,
			size_t err_size);

#endif
