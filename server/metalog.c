// SPDX-License-Identifier: GPL-2.0
/* metalog: the slab table's durable log; see metalog.h for the contract. */
#include "metalog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backing.h"
#include "crc32c.h"

/* Queue depth of the log's ring: one write and its fsync at a time. */
#define METALOG_RING_DEPTH 4

static uint32_t rec_crc(const struct metalog_rec *r)
{
	return crc32c(0, r, offsetof(struct metalog_rec, crc));
}

void metalog_rec_seal(struct metalog_rec *r, enum metalog_type type, uint64_t seq)
{
	r->magic = htole32(METALOG_MAGIC);
	r->version = htole16(METALOG_VERSION);
	r->type = htole16((uint16_t)type);
	r->seq = htole64(seq);
	r->crc = htole32(rec_crc(r));
}

int metalog_rec_check(const struct metalog_rec *r)
{
	unsigned int type = le16toh(r->type);

	if (le32toh(r->magic) != METALOG_MAGIC || le16toh(r->version) != METALOG_VERSION ||
	    !type || type >= METALOG_TYPE_END || le32toh(r->crc) != rec_crc(r))
		return -1;
	return 0;
}

int metalog_read_format(const void *buf, size_t len, uint8_t server_id[RSWAP_ID_LEN],
			uint64_t *slab_size, uint32_t *n_slabs)
{
	struct metalog_rec r;

	if (len < sizeof(r))
		return -1;
	memcpy(&r, buf, sizeof(r));
	if (metalog_rec_check(&r) || le16toh(r.type) != METALOG_FORMAT || le64toh(r.seq) != 1)
		return -1;
	memcpy(server_id, r.format.server_id, RSWAP_ID_LEN);
	*slab_size = le64toh(r.format.slab_size);
	*n_slabs = le32toh(r.format.n_slabs);
	return 0;
}

static int apply(struct pool *p, const struct metalog_rec *r, char *err, size_t size)
{
	uint32_t slab = le32toh(r->slab.slab), client = le32toh(r->slab.client);
	char name[RSWAP_NAME_LEN];

	switch (le16toh(r->type)) {
	case METALOG_FORMAT:
		snprintf(err, size, "a second FORMAT record");
		return -1;
	case METALOG_CLIENT:
		memcpy(name, r->client.name, sizeof(name));
		name[sizeof(name) - 1] = '\0';
		if (pool_client_put(p, le32toh(r->client.client), r->client.id, name)) {
			snprintf(err, size, "CLIENT record for client %u that is taken or out of range",
				 le32toh(r->client.client));
			return -1;
		}
		return 0;
	case METALOG_GRANT:
		if (pool_grant_slab(p, client, slab)) {
			snprintf(err, size, "GRANT of slab %u to client %u that cannot hold it",
				 slab, client);
			return -1;
		}
		return 0;
	case METALOG_FREE:
		if (pool_return(p, client, slab)) {
			snprintf(err, size, "FREE of slab %u that client %u does not hold",
				 slab, client);
			return -1;
		}
		return 0;
	case METALOG_FORGET:
		client = le32toh(r->forget.client);
		if (client >= p->max_clients || !p->clients[client].known ||
		    memcmp(p->clients[client].id, r->forget.id, RSWAP_ID_LEN) ||
		    pool_client_remove(p, client)) {
			snprintf(err, size, "FORGET of client %u that is not there or holds slabs",
				 client);
			return -1;
		}
		return 0;
	default:
		snprintf(err, size, "record of unknown type");
		return -1;
	}
}

int metalog_replay_buf(const void *buf, size_t len, struct pool *p,
		       struct metalog_replay *r)
{
	const uint8_t *b = buf;
	uint8_t id[RSWAP_ID_LEN];
	uint64_t slab_size, off;
	uint32_t n_slabs;
	struct metalog_rec rec;

	memset(r, 0, sizeof(*r));
	if (metalog_read_format(buf, len, id, &slab_size, &n_slabs)) {
		snprintf(r->error, sizeof(r->error), "no valid FORMAT record at the start");
		r->corrupt = true;
		return -1;
	}
	if (slab_size != p->slab_size || n_slabs != p->n_slabs) {
		snprintf(r->error, sizeof(r->error),
			 "log is for %u slabs of %llu bytes, pool has %u of %llu", n_slabs,
			 (unsigned long long)slab_size, p->n_slabs,
			 (unsigned long long)p->slab_size);
		return -1;
	}
	r->records = 1;
	for (off = sizeof(rec); off + sizeof(rec) <= len; off += sizeof(rec)) {
		memcpy(&rec, b + off, sizeof(rec));
		if (metalog_rec_check(&rec) || le64toh(rec.seq) != r->records + 1)
			break;
		if (apply(p, &rec, r->error, sizeof(r->error))) {
			r->good_bytes = off;
			return -1;
		}
		r->records++;
	}
	r->good_bytes = off;
	if (len - off > sizeof(rec)) {
		/* A bad record with at least one more record after it: not
		 * a torn append but damage. */
		r->corrupt = true;
		snprintf(r->error, sizeof(r->error),
			 "bad record at offset %llu with %llu bytes after it",
			 (unsigned long long)off, (unsigned long long)(len - off));
		return -1;
	}
	r->torn_bytes = len - off;
	return 0;
}

/* Write @len bytes at @off of @fd and make them durable, through @ring. */
static int write_durable(struct io_uring *ring, int fd, const void *buf, size_t len,
			 uint64_t off)
{
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	int ret, i, err = 0;

	sqe = io_uring_get_sqe(ring);
	if (!sqe)
		return -EBUSY;
	io_uring_prep_write(sqe, fd, buf, (unsigned int)len, off);
	sqe->flags |= IOSQE_IO_LINK;
	sqe->user_data = 1;
	sqe = io_uring_get_sqe(ring);
	if (!sqe)
		return -EBUSY;
	io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
	sqe->user_data = 2;
	ret = io_uring_submit(ring);
	if (ret < 0)
		return ret;
	for (i = 0; i < 2; i++) {
		ret = io_uring_wait_cqe(ring, &cqe);
		if (ret < 0)
			return ret;
		if (cqe->user_data == 1 && cqe->res >= 0 && (size_t)cqe->res != len)
			err = err ? err : -EIO;	/* short write */
		else if (cqe->res < 0)
			err = err ? err : cqe->res;
		io_uring_cqe_seen(ring, cqe);
	}
	return err;
}

/*
 * Cut the file back to the log's end, durably: what a failed write left
 * after it goes. 0, or -errno (then no record may be written: log_write).
 */
static int log_trim(struct metalog *log)
{
	if (!log->stale)
		return 0;
	if (ftruncate(log->fd, (off_t)log->end) || fdatasync(log->fd))
		return -errno;
	log->stale = false;
	return 0;
}

/*
 * Write @n sealed records at the end and make them durable, or nothing
 * counts. A failed write may leave any of its records in the file, each
 * valid and in sequence after the last good one: replay would take them,
 * after a later write of fewer records had overwritten only the first.
 * So the file is cut back to the end at once, and, if that fails too,
 * before anything else is written.
 */
static int log_write(struct metalog *log, const struct metalog_rec *recs, uint32_t n)
{
	int ret;

	if (!n || n > METALOG_BATCH_MAX)
		return -EINVAL;
	ret = log_trim(log);
	if (ret) {
		log->write_errors_total++;
		return ret;
	}
	ret = write_durable(&log->ring, log->fd, recs, (size_t)n * sizeof(*recs), log->end);
	if (ret) {
		log->write_errors_total++;
		log->stale = true;
		log_trim(log);
		return ret;
	}
	log->seq += n;
	log->end += (uint64_t)n * sizeof(*recs);
	log->records_written_total += n;
	return 0;
}

static int append(struct metalog *log, struct metalog_rec *r, enum metalog_type type)
{
	metalog_rec_seal(r, type, log->seq + 1);
	return log_write(log, r, 1);
}

int metalog_client(struct metalog *log, uint32_t client, const struct pool_client *c)
{
	struct metalog_rec r;

	memset(&r, 0, sizeof(r));
	memcpy(r.client.id, c->id, RSWAP_ID_LEN);
	r.client.client = htole32(client);
	memcpy(r.client.name, c->name, sizeof(r.client.name));
	return append(log, &r, METALOG_CLIENT);
}

static int slab_rec(struct metalog *log, enum metalog_type type, uint32_t slab,
		    uint32_t client)
{
	struct metalog_rec r;

	memset(&r, 0, sizeof(r));
	r.slab.slab = htole32(slab);
	r.slab.client = htole32(client);
	return append(log, &r, type);
}

int metalog_grant(struct metalog *log, uint32_t slab, uint32_t client)
{
	return slab_rec(log, METALOG_GRANT, slab, client);
}

int metalog_free(struct metalog *log, uint32_t slab, uint32_t client)
{
	return slab_rec(log, METALOG_FREE, slab, client);
}

int metalog_forget(struct metalog *log, uint32_t client, const uint8_t id[RSWAP_ID_LEN])
{
	struct metalog_rec r;

	memset(&r, 0, sizeof(r));
	memcpy(r.forget.id, id, RSWAP_ID_LEN);
	r.forget.client = htole32(client);
	return append(log, &r, METALOG_FORGET);
}

/*
 * @n records of @type for @slabs of @client, with one write and one sync.
 * If it fails, a crash before the next write may replay some of them:
 * FREEs of slabs the caller was freeing anyway, or GRANTs of slabs the
 * client never heard of, which its REATTACH finds unknown and gives back.
 * The next write wipes them (log_write), so a slab granted later to
 * another client is never replayed as this one's.
 */
static int slab_recs(struct metalog *log, enum metalog_type type, const uint32_t *slabs,
		     uint32_t n, uint32_t client)
{
	struct metalog_rec recs[METALOG_BATCH_MAX];
	uint32_t i;

	if (!n || n > METALOG_BATCH_MAX)
		return -EINVAL;
	memset(recs, 0, sizeof(recs[0]) * n);
	for (i = 0; i < n; i++) {
		recs[i].slab.slab = htole32(slabs[i]);
		recs[i].slab.client = htole32(client);
		metalog_rec_seal(&recs[i], type, log->seq + 1 + i);
	}
	return log_write(log, recs, n);
}

int metalog_free_many(struct metalog *log, const uint32_t *slabs, uint32_t n, uint32_t client)
{
	return slab_recs(log, METALOG_FREE, slabs, n, client);
}

int metalog_grant_many(struct metalog *log, const uint32_t *slabs, uint32_t n, uint32_t client)
{
	return slab_recs(log, METALOG_GRANT, slabs, n, client);
}

int metalog_free_client(struct metalog *log, struct pool *p, uint32_t client, uint32_t *freed)
{
	uint32_t batch[METALOG_BATCH_MAX], n, i;
	int ret;

	*freed = 0;
	/* Bounded: each pass frees at least one slab, and there are n_slabs. */
	while ((n = pool_held_slabs(p, client, batch, METALOG_BATCH_MAX))) {
		ret = metalog_free_many(log, batch, n, client);
		if (ret)
			return ret;
		for (i = 0; i < n; i++)
			pool_return(p, client, batch[i]);
		*freed += n;
	}
	return 0;
}

static int read_all(int fd, uint8_t **buf, size_t *len)
{
	struct stat st;
	size_t got = 0;
	ssize_t n;

	if (fstat(fd, &st))
		return -1;
	*len = (size_t)st.st_size;
	*buf = malloc(*len ? *len : 1);
	if (!*buf)
		return -1;
	while (got < *len) {
		n = pread(fd, *buf + got, *len - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(*buf);
			if (n == 0)
				errno = EIO;
			return -1;
		}
		got += (size_t)n;
	}
	return 0;
}

/* Write @len bytes at @off of @fd, all of them: 0 or -errno. */
static int pwrite_all(int fd, const uint8_t *buf, size_t len, uint64_t off)
{
	ssize_t n;

	while (len) {
		n = pwrite(fd, buf, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* fsync the directory holding @path, so a rename in it is durable. */
static int fsync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd, ret = 0;

	if (!slash)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (!dir)
		return -ENOMEM;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd))
		ret = -errno;
	if (fd >= 0)
		close(fd);
	free(dir);
	return ret;
}

/*
 * Write the pool's state as a fresh log in @tmp, made anew (never a file
 * someone left there: unlinked, then O_EXCL), durable and locked: FORMAT, a
 * CLIENT per known client, a GRANT per held slab. Its fd into *@fd_out and
 * its record count into *@records. 0 or -errno.
 */
static int write_compacted(const char *tmp, const struct pool *p,
			   const uint8_t server_id[RSWAP_ID_LEN],
			   const uint8_t cookie[RSWAP_ID_LEN], int *fd_out, uint64_t *records)
{
	uint64_t n = 1, max = 1 + (uint64_t)p->max_clients + p->n_slabs;
	struct metalog_rec *recs;
	uint32_t i, slab;
	int fd, ret;

	recs = calloc(max, sizeof(*recs));
	if (!recs)
		return -ENOMEM;
	memcpy(recs[0].format.server_id, server_id, RSWAP_ID_LEN);
	recs[0].format.slab_size = htole64(p->slab_size);
	recs[0].format.n_slabs = htole32(p->n_slabs);
	memcpy(recs[0].format.backing_cookie, cookie, RSWAP_ID_LEN);
	metalog_rec_seal(&recs[0], METALOG_FORMAT, 1);
	for (i = 0; i < p->max_clients; i++) {
		if (!p->clients[i].known)
			continue;
		memcpy(recs[n].client.id, p->clients[i].id, RSWAP_ID_LEN);
		recs[n].client.client = htole32(i);
		memcpy(recs[n].client.name, p->clients[i].name, sizeof(recs[n].client.name));
		metalog_rec_seal(&recs[n], METALOG_CLIENT, n + 1);
		n++;
		for (slab = pool_next_held(p, i, POOL_NONE); slab != POOL_NONE && n < max;
		     slab = pool_next_held(p, i, slab)) {
			recs[n].slab.slab = htole32(slab);
			recs[n].slab.client = htole32(i);
			metalog_rec_seal(&recs[n], METALOG_GRANT, n + 1);
			n++;
		}
	}
	if (unlink(tmp) && errno != ENOENT) {
		ret = -errno;
		goto out_free;
	}
	fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		goto out_free;
	}
	ret = pwrite_all(fd, (const uint8_t *)recs, n * sizeof(*recs), 0);
	if (!ret && fdatasync(fd))
		ret = -errno;
	/* Locked before anyone can find it under the log's name. */
	if (!ret && flock(fd, LOCK_EX | LOCK_NB))
		ret = -errno;
	if (ret) {
		close(fd);
		unlink(tmp);
		goto out_free;
	}
	*fd_out = fd;
	*records = n;
out_free:
	free(recs);
	return ret;
}

/* Replace the log by the pool's state (see the top of metalog.h). */
static int compact(struct metalog *log, const struct pool *p,
		   const uint8_t server_id[RSWAP_ID_LEN])
{
	uint64_t records = 0;
	char *tmp;
	int fd = -1, ret;

	if (asprintf(&tmp, "%s.new", log->path) < 0)
		return -ENOMEM;
	ret = write_compacted(tmp, p, server_id, log->backing_cookie, &fd, &records);
	if (ret)
		goto out_free;
	if (rename(tmp, log->path)) {
		ret = -errno;
		close(fd);
		unlink(tmp);
		goto out_free;
	}
	/* Renamed: the new log is the log now, whatever the directory's fsync
	 * says (a crash before it is durable finds the old one, also whole). */
	if (fsync_dir(log->path))
		log->compaction_failures_total++;
	if (log->fd >= 0)
		close(log->fd);
	log->fd = fd;
	log->seq = records;
	log->end = records * sizeof(struct metalog_rec);
	log->compacted_bytes = log->end;
	log->stale = false;	/* a new file: nothing of a failed write in it */
	log->compactions_total++;
out_free:
	free(tmp);
	return ret;
}

int metalog_compact(struct metalog *log, const struct pool *p,
		    const uint8_t server_id[RSWAP_ID_LEN])
{
	int ret = compact(log, p, server_id);

	if (ret)
		log->compaction_failures_total++;
	return ret;
}

int metalog_maybe_compact(struct metalog *log, const struct pool *p,
			  const uint8_t server_id[RSWAP_ID_LEN])
{
	uint64_t min = log->compact_min_bytes;
	int ret;

	if (log->end < min || log->end < 2 * log->compacted_bytes)
		return 0;
	ret = metalog_compact(log, p, server_id);
	if (ret)
		log->compacted_bytes = log->end;	/* again once it doubles */
	return ret ? ret : 1;
}

static bool cookie_zero(const uint8_t cookie[RSWAP_ID_LEN])
{
	static const uint8_t zero[RSWAP_ID_LEN];

	return !memcmp(cookie, zero, RSWAP_ID_LEN);
}

int metalog_open(struct metalog *log, const char *path, uint64_t slab_size,
		 uint32_t n_slabs, struct pool *p, uint8_t server_id[RSWAP_ID_LEN],
		 const uint8_t cookie[RSWAP_ID_LEN], const char *backing_path,
		 struct metalog_replay *r, char *err, size_t err_size)
{
	uint8_t *buf = NULL, log_cookie[RSWAP_ID_LEN];
	size_t len = 0;
	int ret;

	memset(log, 0, sizeof(*log));
	memset(r, 0, sizeof(*r));
	log->fd = -1;
	log->compact_min_bytes = METALOG_COMPACT_MIN_BYTES;
	memcpy(log->backing_cookie, cookie, RSWAP_ID_LEN);
	ret = io_uring_queue_init(METALOG_RING_DEPTH, &log->ring, 0);
	if (ret) {
		snprintf(err, err_size, "io_uring_queue_init: %s", strerror(-ret));
		return -1;
	}
	log->path = strdup(path);
	if (!log->path) {
		snprintf(err, err_size, "out of memory");
		goto out_fail;
	}

	/* Created if missing; an empty file is a new log (a crash right after
	 * this open leaves one). Locked before it is read. */
	log->fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (log->fd < 0) {
		if (errno == ELOOP)
			snprintf(err, err_size, "metadata log %s is a symbolic link: refused; "
				 "give the real path", path);
		else
			snprintf(err, err_size, "opening %s: %s", path, strerror(errno));
		goto out_fail;
	}
	if (backing_check_owner(log->fd, "metadata log", path, err, err_size) ||
	    backing_lock_fd(log->fd, "metadata log", path, err, err_size))
		goto out_fail;
	if (read_all(log->fd, &buf, &len)) {
		snprintf(err, err_size, "reading %s: %s", path, strerror(errno));
		goto out_fail;
	}
	if (len) {
		uint64_t log_slab_size;
		uint32_t log_slabs;
		char have[2 * RSWAP_ID_LEN + 1], want[2 * RSWAP_ID_LEN + 1];

		if (metalog_read_format(buf, len, server_id, &log_slab_size, &log_slabs)) {
			snprintf(err, err_size, "%s is not an rswap metadata log (no FORMAT record)",
				 path);
			goto out_fail;
		}
		if (log_slab_size != slab_size || log_slabs != n_slabs) {
			snprintf(err, err_size,
				 "%s was made for %u slabs of %llu bytes, not %u of %llu: "
				 "start with the same --memory and --slab-size, or a new backing file",
				 path, log_slabs, (unsigned long long)log_slab_size, n_slabs,
				 (unsigned long long)slab_size);
			goto out_fail;
		}
		memcpy(log_cookie, ((const struct metalog_rec *)buf)->format.backing_cookie,
		       RSWAP_ID_LEN);
		if (metalog_replay_buf(buf, len, p, r)) {
			snprintf(err, err_size, "%s: %s; refusing to start rather than lose slabs",
				 path, r->error);
			goto out_fail;
		}
		if (cookie_zero(log_cookie)) {
			r->adopted_cookie = true;
		} else if (memcmp(log_cookie, cookie, RSWAP_ID_LEN)) {
			backing_cookie_hex(log_cookie, want);
			backing_cookie_hex(cookie, have);
			if (p->n_free != p->n_slabs) {
				snprintf(err, err_size,
					 "backing file %s is not the one metadata log %s was written "
					 "for (its identity cookie is %s, the log's %s): it was "
					 "replaced or recreated, and the %u slabs the log says clients "
					 "hold are not in it. Put the original file back; or, if it "
					 "is gone for good, remove %s to start empty (clients lose "
					 "the pages they stored here)",
					 backing_path, path, have, want, p->n_slabs - p->n_free, path);
				goto out_fail;
			}
			r->replaced_backing = true;
		}
	} else if (getrandom(server_id, RSWAP_ID_LEN, 0) != RSWAP_ID_LEN) {
		snprintf(err, err_size, "getrandom: %s", strerror(errno));
		goto out_fail;
	}

	ret = compact(log, p, server_id);
	if (ret) {
		snprintf(err, err_size, "compacting %s (into %s.new): %s", path, path,
			 strerror(-ret));
		goto out_fail;
	}
	free(buf);
	return 0;

out_fail:
	if (log->fd >= 0)
		close(log->fd);
	log->fd = -1;
	free(buf);
	free(log->path);
	log->path = NULL;
	io_uring_queue_exit(&log->ring);
	return -1;
}
void metalog_close(struct metalog *log)
{
	if (log->fd >= 0)
		close(log->fd);
	log->fd = -1;
	free(log->path);
	log->path = NULL;
	io_uring_queue_exit(&log->ring);
}
