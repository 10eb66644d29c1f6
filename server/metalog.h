/* SPDX-License-Identifier: GPL-2.0 */
/*
 * metalog: the server's slab table on disk, so that a server killed with
 * SIGKILL and started again on the same backing file knows which slab
 * belongs to which client, and clients can reattach with every page intact.
 *
 * The log is a file of fixed-size records (struct metalog_rec), each with a
 * CRC-32C. The first record is FORMAT (server id, slab size, slab count);
 * then CLIENT (a client id gets a client number), GRANT and FREE (a slab
 * changes hands), FORGET (a client holding no slab leaves the table: forgot
 * by the operator, expired, or reclaimed for a newcomer; its number may be
 * given again). Replaying the records in order rebuilds the pool.
 *
 * Identity: FORMAT also keeps the backing file's cookie (backing.c); a
 * backing file with another one is refused while the log says slabs are
 * held. A log of an older rswap has zeros there and adopts the file's.
 *
 * Exclusion: the log's fd holds an exclusive flock for the server's life,
 * and the file must be ours and not writable by others (as the backing
 * file). A compacted log is locked before it is renamed into place, and the
 * old one stays open (locked) until then: no moment without a lock.
 *
 * Durability: a GRANT is written and fdatasync'ed (one linked io_uring
 * write + fsync) before the client hears of the slab, so no client ever
 * stores into a slab the log does not give it. A FREE is written before the
 * client is told its slab is gone.
 *
 * Crash safety: records are appended at record-size offsets; a crash can
 * leave at most the last one torn. Replay stops at the first record that
 * fails its checks; if what follows it is less than one record, it is a
 * torn tail and is cut off; if more follows, the log is corrupt and the
 * server refuses to start rather than forget slabs.
 *
 * Size: on open, and while the server runs whenever it has grown past
 * compact_min_bytes and twice its size after the last compaction
 * (metalog_maybe_compact, from the server's tick), the log is compacted:
 * the pool's state written to PATH.new as one record per client and per
 * held slab, fsync'ed, locked, renamed over PATH, and the directory
 * fsync'ed, so the rename survives a crash too. A failed compaction leaves
 * the old log in use, and is tried again later.
 */
#ifndef RSWAP_METALOG_H
#define RSWAP_METALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <liburing.h>

#include "pool.h"
#include "rswap_wire.h"

#define METALOG_MAGIC	0x4c4d5352u	/* "RSML" little-endian */
#define METALOG_VERSION	1
#define METALOG_REC_SIZE 128

enum metalog_type {
	METALOG_FORMAT = 1,
	METALOG_CLIENT,
	METALOG_GRANT,
	METALOG_FREE,
	METALOG_FORGET,
	METALOG_TYPE_END
};

struct metalog_rec {
	uint32_t magic;		/* le */
	uint16_t version;	/* le */
	uint16_t type;		/* le, enum metalog_type */
	uint64_t seq;		/* le, 1 for the first record, +1 each */
	union {
		struct {
			uint8_t server_id[RSWAP_ID_LEN];
			uint64_t slab_size;	/* le, bytes */
			uint32_t n_slabs;	/* le */
			uint32_t reserved;
			uint8_t backing_cookie[RSWAP_ID_LEN];	/* zeros: none yet */
		} format;
		struct {
			uint8_t id[RSWAP_ID_LEN];
			uint32_t client;	/* le, number used by GRANT/FREE */
			uint32_t reserved;
			char name[RSWAP_NAME_LEN];
		} client;
		struct {
			uint32_t slab;		/* le */
			uint32_t client;	/* le */
		} slab;
		struct {
			uint8_t id[RSWAP_ID_LEN];
			uint32_t client;	/* le */
		} forget;
		uint8_t body[METALOG_REC_SIZE - 24];
	};
	uint32_t reserved;	/* zero */
	uint32_t crc;		/* le, CRC-32C of every byte before it */
};

_Static_assert(sizeof(struct metalog_rec) == METALOG_REC_SIZE, "metalog_rec layout");

/* What replay found. */
struct metalog_replay {
	uint64_t records;	/* good records applied */
	uint64_t good_bytes;	/* end of the last good record */
	uint64_t torn_bytes;	/* cut off after it: a torn tail (< 1 record) */
	bool corrupt;		/* a bad record with more data after it */
	bool adopted_cookie;	/* the log had no backing cookie yet */
	bool replaced_backing;	/* another cookie, but no slab was held */
	char error[160];	/* why replay stopped early or refused */
};

/* Check one record's magic, version, type and CRC; 0 or -1. */
int metalog_rec_check(const struct metalog_rec *r);
/* Fill the header and CRC of @r (body already set). */
void metalog_rec_seal(struct metalog_rec *r, enum metalog_type type, uint64_t seq);

/*
 * Replay @len bytes of log into @p, which must be pool_init'ed with the
 * geometry of the FORMAT record (see metalog_read_format). Returns 0 when
 * the log is usable (possibly with a torn tail to cut), -1 when it is not
 * (corrupt, records that contradict each other); r->error says why.
 */
int metalog_replay_buf(const void *buf, size_t len, struct pool *p,
		       struct metalog_replay *r);
/* The FORMAT record at the start of @buf: 0, or -1 if there is none. */
int metalog_read_format(const void *buf, size_t len, uint8_t server_id[RSWAP_ID_LEN],
			uint64_t *slab_size, uint32_t *n_slabs);

/* Compaction while running starts past this size (8192 records). */
#define METALOG_COMPACT_MIN_BYTES (1u << 20)

struct metalog {
	int fd;			/* locked (flock) */
	char *path;
	uint64_t seq;		/* of the last record written */
	uint64_t end;		/* file offset of the next record */
	bool stale;		/* a failed write may have left records after end */
	struct io_uring ring;
	uint8_t backing_cookie[RSWAP_ID_LEN];
	uint64_t compact_min_bytes;	/* METALOG_COMPACT_MIN_BYTES; tests lower it */
	uint64_t compacted_bytes;	/* size after the last compaction */
	uint64_t records_written_total;
	uint64_t write_errors_total;
	uint64_t compactions_total;
	uint64_t compaction_failures_total;
};

/*
 * Open and lock the log at @path: if it exists (and is not empty), check
 * its FORMAT against @slab_size and @n_slabs, replay it into @p
 * (pool_init'ed by the caller with that geometry), check its backing cookie
 * against @cookie, the backing file's (@backing_path names it in errors),
 * and compact it; if not, create it with a FORMAT record and a fresh random
 * @server_id. On return @server_id holds the server's id. Returns 0, or -1
 * with a reason in @err: the log is locked by another process, not ours,
 * damaged, of another geometry, or for another backing file while it says
 * slabs are held.
 */
int metalog_open(struct metalog *log, const char *path, uint64_t slab_size,
		 uint32_t n_slabs, struct pool *p, uint8_t server_id[RSWAP_ID_LEN],
		 const uint8_t cookie[RSWAP_ID_LEN], const char *backing_path,
		 struct metalog_replay *r, char *err, size_t err_size);
void metalog_close(struct metalog *log);

/* Compact now (see the top): 0, or -errno with the old log still in use. */
int metalog_compact(struct metalog *log, const struct pool *p,
		    const uint8_t server_id[RSWAP_ID_LEN]);
/* Compact if the log has grown enough (see the top): 1 compacted, 0 not
 * needed, -errno failed (the old log still in use). */
int metalog_maybe_compact(struct metalog *log, const struct pool *p,
			  const uint8_t server_id[RSWAP_ID_LEN]);

/* Append and make durable; 0, or -errno. */
int metalog_client(struct metalog *log, uint32_t client, const struct pool_client *c);
int metalog_grant(struct metalog *log, uint32_t slab, uint32_t client);
int metalog_free(struct metalog *log, uint32_t slab, uint32_t client);
/* @client (holding no slab) leaves the table. */
int metalog_forget(struct metalog *log, uint32_t client, const uint8_t id[RSWAP_ID_LEN]);
/* FREE records for @n (1..METALOG_BATCH_MAX) slabs of @client, in one write
 * and one fdatasync: 0 when all are durable; -errno when the write failed
 * (some may still be in the file until the next append overwrites them). */
#define METALOG_BATCH_MAX 64
int metalog_free_many(struct metalog *log, const uint32_t *slabs, uint32_t n, uint32_t client);
/* GRANT records likewise, for GRANT_MANY. */
int metalog_grant_many(struct metalog *log, const uint32_t *slabs, uint32_t n, uint32_t client);
/*
 * Free every slab @client holds in @p, as RETURNs would: each batch of FREE
 * records durable before the pool lets go of those slabs, so a restart does
 * not bring them back. *freed counts the slabs freed, also on failure
 * (-errno: the ones after the failed batch are still held).
 */
int metalog_free_client(struct metalog *log, struct pool *p, uint32_t client, uint32_t *freed);

#endif
