// SPDX-License-Identifier: GPL-2.0
/* metalog: the slab table's durable log; see metalog.h for the contract. */
#include "metalog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

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

static int append(struct metalog *log, struct metalog_rec *r, enum metalog_type type)
{
	int ret;

	metalog_rec_seal(r, type, log->seq + 1);
	ret = write_durable(&log->ring, log->fd, r, sizeof(*r), log->end);
	if (ret) {
		log->write_errors_total++;
		/* The record may be half there: the next append overwrites it,
		 * and replay treats it as a torn tail meanwhile. */
		return ret;
	}
	log->seq++;
	log->end += sizeof(*r);
	log->records_written_total++;
	return 0;
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

int metalog_free_many(struct metalog *log, const uint32_t *slabs, uint32_t n, uint32_t client)
{
	struct metalog_rec recs[METALOG_BATCH_MAX];
	uint32_t i;
	int ret;

	if (!n || n > METALOG_BATCH_MAX)
		return -EINVAL;
	memset(recs, 0, sizeof(recs[0]) * n);
	for (i = 0; i < n; i++) {
		recs[i].slab.slab = htole32(slabs[i]);
		recs[i].slab.client = htole32(client);
		metalog_rec_seal(&recs[i], METALOG_FREE, log->seq + 1 + i);
	}
	ret = write_durable(&log->ring, log->fd, recs, sizeof(recs[0]) * n, log->end);
	if (ret) {
		/* As in append(): what got there is overwritten by the next
		 * write. A crash before that may replay some of these FREEs:
		 * slabs the caller was freeing anyway, never another's. */
		log->write_errors_total++;
		return ret;
	}
	log->seq += n;
	log->end += sizeof(recs[0]) * n;
	log->records_written_total += n;
	return 0;
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

/*
 * Write the pool's state as a fresh log at @tmp: FORMAT, a CLIENT per
 * known client, a GRANT per held slab. The caller renames it into place.
 */
static int write_compacted(struct metalog *log, const char *tmp, const struct pool *p,
			   const uint8_t server_id[RSWAP_ID_LEN])
{
	struct metalog_rec r;
	uint32_t i, slab;
	int ret;

	log->fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (log->fd < 0)
		return -errno;
	log->seq = 0;
	log->end = 0;
	memset(&r, 0, sizeof(r));
	memcpy(r.format.server_id, server_id, RSWAP_ID_LEN);
	r.format.slab_size = htole64(p->slab_size);
	r.format.n_slabs = htole32(p->n_slabs);
	ret = append(log, &r, METALOG_FORMAT);
	for (i = 0; !ret && i < p->max_clients; i++) {
		if (!p->clients[i].known)
			continue;
		ret = metalog_client(log, i, &p->clients[i]);
		for (slab = pool_next_held(p, i, POOL_NONE); !ret && slab != POOL_NONE;
		     slab = pool_next_held(p, i, slab))
			ret = metalog_grant(log, slab, i);
	}
	return ret;
}

int metalog_open(struct metalog *log, const char *path, uint64_t slab_size,
		 uint32_t n_slabs, struct pool *p, uint8_t server_id[RSWAP_ID_LEN],
		 struct metalog_replay *r, char *err, size_t err_size)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	char *tmp = NULL;
	int fd, ret;

	memset(log, 0, sizeof(*log));
	memset(r, 0, sizeof(*r));
	log->fd = -1;
	ret = io_uring_queue_init(METALOG_RING_DEPTH, &log->ring, 0);
	if (ret) {
		snprintf(err, err_size, "io_uring_queue_init: %s", strerror(-ret));
		return -1;
	}
	log->path = strdup(path);
	if (!log->path || asprintf(&tmp, "%s.new", path) < 0) {
		tmp = NULL;
		snprintf(err, err_size, "out of memory");
		goto out_fail;
	}

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		uint64_t log_slab_size;
		uint32_t log_slabs;

		ret = read_all(fd, &buf, &len);
		close(fd);
		if (ret) {
			snprintf(err, err_size, "reading %s: %s", path, strerror(errno));
			goto out_fail;
		}
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
		if (metalog_replay_buf(buf, len, p, r)) {
			snprintf(err, err_size, "%s: %s; refusing to start rather than lose slabs",
				 path, r->error);
			goto out_fail;
		}
	} else if (errno == ENOENT) {
		if (getrandom(server_id, RSWAP_ID_LEN, 0) != RSWAP_ID_LEN) {
			snprintf(err, err_size, "getrandom: %s", strerror(errno));
			goto out_fail;
		}
	} else {
		snprintf(err, err_size, "opening %s: %s", path, strerror(errno));
		goto out_fail;
	}

	ret = write_compacted(log, tmp, p, server_id);
	if (ret) {
		snprintf(err, err_size, "writing %s: %s", tmp, strerror(-ret));
		goto out_fail;
	}
	if (rename(tmp, path)) {
		snprintf(err, err_size, "renaming %s to %s: %s", tmp, path, strerror(errno));
		goto out_fail;
	}
	free(tmp);
	free(buf);
	return 0;

out_fail:
	if (log->fd >= 0) {
		close(log->fd);
		unlink(tmp);
	}
	log->fd = -1;
	free(tmp);
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
