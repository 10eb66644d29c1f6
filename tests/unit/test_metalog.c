// SPDX-License-Identifier: GPL-2.0
/*
 * Description: server/metalog.c, the slab table's durable log. A log written
 * through io_uring replays into the same ownership after a reopen (the
 * server id kept, the file compacted); a torn last record is cut off and
 * nothing before it lost; damage before the tail, a log of another
 * geometry, a file that is not a log, and records that contradict each
 * other are refused with a reason instead of forgetting slabs. Freeing
 * every slab of a client (HELLO FRESH) leaves the others' slabs alone and
 * stays freed after a reopen, in batches past METALOG_BATCH_MAX too.
 * A FORGET removes a client (holding no slab) in the replay too. The log
 * keeps the backing file's cookie: another one is refused while slabs are
 * held, adopted when none is or when the log has none yet. A log compacted
 * while in use replays to the same pool and takes further appends. A
 * second open of a log in use is refused naming this process, and leaves
 * the log as it was; a symlink, and a log writable by others, are refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <fcntl.h>

#include <cmocka.h>

#include "metalog.h"

#define SLABS 16
#define SLAB_SIZE (1u << 20)

struct fixture {
	char dir[64];
	char path[96];
	struct pool pool;
	struct metalog log;
	struct metalog_replay replay;
	uint8_t server_id[RSWAP_ID_LEN];
	uint8_t cookie[RSWAP_ID_LEN];	/* the backing file's, as metalog_open gets it */
	char err[512];
};

static const uint8_t id_a[RSWAP_ID_LEN] = { 0xa };
static const uint8_t id_b[RSWAP_ID_LEN] = { 0xb };

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/rswap-metalog-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/meta", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char tmp[128];

	unlink(f->path);
	snprintf(tmp, sizeof(tmp), "%s.new", f->path);
	unlink(tmp);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* (Re)open the log at f->path into a fresh pool; returns metalog_open's. */
static int reopen(struct fixture *f, uint32_t slabs, uint64_t slab_size)
{
	int ret;

	assert_int_equal(pool_init(&f->pool, slabs, slab_size, 4, 8), 0);
	ret = metalog_open(&f->log, f->path, slab_size, slabs, &f->pool, f->server_id,
			   f->cookie, "BACKING", &f->replay, f->err, sizeof(f->err));
	if (ret)
		pool_fini(&f->pool);
	return ret;
}

static void done(struct fixture *f)
{
	metalog_close(&f->log);
	pool_fini(&f->pool);
}

static off_t file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

/* A log with clients a (slabs 0, 2, 3) and b (slab 4); slab 1 was freed. */
static void make_log(struct fixture *f)
{
	uint32_t a, b;
	int i;

	unlink(f->path);
	assert_int_equal(reopen(f, SLABS, SLAB_SIZE), 0);
	a = pool_client_get(&f->pool, id_a, "alpha");
	b = pool_client_get(&f->pool, id_b, "beta");
	assert_int_equal(metalog_client(&f->log, a, &f->pool.clients[a]), 0);
	assert_int_equal(metalog_client(&f->log, b, &f->pool.clients[b]), 0);
	for (i = 0; i < 4; i++) {
		int64_t s = pool_grant(&f->pool, a);

		assert_int_equal(s, i);
		assert_int_equal(metalog_grant(&f->log, (uint32_t)s, a), 0);
	}
	assert_int_equal(pool_grant(&f->pool, b), 4);
	assert_int_equal(metalog_grant(&f->log, 4, b), 0);
	assert_int_equal(pool_return(&f->pool, a, 1), 0);
	assert_int_equal(metalog_free(&f->log, 1, a), 0);
	/* FORMAT + 2 CLIENT + 5 GRANT + 1 FREE */
	assert_int_equal(file_size(f->path), 9 * METALOG_REC_SIZE);
	done(f);
}

static void expect_made_state(struct fixture *f)
{
	uint32_t a = pool_client_find(&f->pool, id_a), b = pool_client_find(&f->pool, id_b);

	assert_int_equal(a, 0);
	assert_int_equal(b, 1);
	assert_string_equal(f->pool.clients[a].name, "alpha");
	assert_int_equal(f->pool.owner[0], a);
	assert_int_equal(f->pool.owner[1], POOL_NONE);
	assert_int_equal(f->pool.owner[2], a);
	assert_int_equal(f->pool.owner[3], a);
	assert_int_equal(f->pool.owner[4], b);
	assert_int_equal(f->pool.clients[a].held, 3);
	assert_int_equal(f->pool.n_free, SLABS - 4);
}

static void replay_restores_ownership(void **state)
{
	struct fixture *f = *state;
	uint8_t first_id[RSWAP_ID_LEN];

	make_log(f);
	memcpy(first_id, f->server_id, sizeof(first_id));
	assert_int_equal(reopen(f, SLABS, SLAB_SIZE), 0);
	assert_int_equal(f->replay.records, 9);
	assert_int_equal(f->replay.torn_bytes, 0);
	assert_memory_equal(f->server_id, first_id, RSWAP_ID_LEN);
	expect_made_state(f);
	/* compacted: FORMAT + 2 CLIENT + 4 GRANT */
	assert_int_equal(file_size(f->path), 7 * METALOG_REC_SIZE);
	/* appends after a reopen continue the sequence */
	assert_int_equal(metalog_free(&f->log, 4, 1), 0);
	done(f);
	assert_int_equal(reopen(f, SLABS, SLAB_SIZE), 0);
	assert_int_equal(f->pool.owner[4], POOL_NONE);
	done(f);
}

static void append_bytes(const char *path, const void *buf, size_t len, off_t at)
{
	int fd = open(path, O_WRONLY);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, buf, len, at), (ssize_t)len);
	close(fd);
}

static void torn_tail_is_cut(void **state)
{
	struct fixture *f = *state;
	struct metalog_rec r;
	off_t size;

	make_log(f);
	/* half of a GRANT record, as a crash mid-append leaves it */
	memset(&r, 0, sizeof(r));
	r.slab.slab = htole32(9);
	metalog_rec_seal(&r, METALOG_GRANT, 10);
	size = file_size(f->path);
	append_bytes(f->path, &r, 50, size);
	assert_int_equal(reopen(f, SLABS, SLAB_SIZE), 0);
	assert_int_equal(f->replay.torn_bytes, 50);
	expect_made_state(f);
	assert_int_equal(f->pool.owner[9], POOL_NONE);
	assert_int_equal(file_size(f->path) % METALOG_REC_SIZE, 0);
	done(f);

	/* a whole last record with a bad CRC is torn too */
	make_log(f);
	size = file_size(f->path);
	r.crc ^= 1;
	append_bytes(f->path, &r, sizeof(r), size);
	assert_int_equal(reopen(f, SLABS, SLAB_SIZE), 0);
	assert_int_equal(f->replay.torn_bytes, sizeof(r));
	expect_made_state(f);
	done(f);
}

static void damage_before_the_tail_is_refused(void **state)
{
	struct fixture *f = *state;
	uint8_t junk = 0x5a;

	make_log(f);
	/* inside the third record, six records before the end */
	append_bytes(f->path, &junk, 1, 2 * METALOG_REC_SIZE + 40);
	assert_int_equal(reopen(f, SLABS, SLAB_SIZE), -1);
	assert_non_null(strstr(f->err, "bad record at offset 256"));
	assert_non_null(strstr(f->err, "refusing to start"));
	/* the damaged log is left as it was, for a person to look at */
	assert_int_equal(file_size(f->path), 9 * METALOG_REC_SIZE);
}

static void other_geometry_is_refused(void **state)
{
	struct fixture *f = *state;

	make_log(f);
	assert_int_equal(reopen(f, SLABS * 2, SLAB_SIZE), -1);
	assert_non_null(strstr(f->err, "made for 16 slabs of 1048576 bytes, not 32"));
	assert_int_equal(reopen(f, SLABS, SLAB_SIZE * 2), -1);
	assert_non_null(strstr(f->err, "--slab-size"));
}

static void contradictions_are_refused(void **state)
{
	struct fixture *f = *state;
	struct metalog_rec r;

	make_log(f);
	/* GRANT of slab 0, which client a holds, to client b */
	memset(&r, 0, sizeof(r));
	r.slab.slab = htole32(0);
	r.slab.client = htole32(1);
	metalog_rec_seal(&r, METALOG_GRANT, 10);
	append_bytes(f->path, &r, sizeof(r), file_size(f->path));
	assert_int_equal(reopen(f, SLABS, SLAB_SIZE), -1);
	assert_non_null(strstr(f->err, "GRANT of slab 0 to client 1"));
}

static void garbage_file_is_refused(void **state)
{
	struct fixture *f = *state;
	char text[300];
	int fd;

	memset(text, 'x', sizeof(text));
	fd = open(f->path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text)), (ssize_t)sizeof(text));
	close(fd);
	assert_int_equal(reopen(f, SLABS, SLAB_SIZE), -1);
	assert_non_null(strstr(f->err, "is not an rswap metadata log"));
}

static void freeing_a_client_is_durable(void **state)
{
	struct fixture *f = *state;
	uint32_t freed = 99;

	make_log(f);
	assert_int_equal(reopen(f, SLABS, SLAB_SIZE), 0);
	assert_int_equal(metalog_free_client(&f->log, &f->pool, 0, &freed), 0);
	assert_int_equal(freed, 3);
	assert_int_equal(f->pool.clients[0].held, 0);
	assert_int_equal(f->pool.owner[4], 1);
	assert_int_equal(f->pool.n_free, SLABS - 1);
	/* again: nothing left to free, nothing written */
	assert_int_equal(metalog_free_client(&f->log, &f->pool, 0, &freed), 0);
	assert_int_equal(freed, 0);
	done(f);
	assert_int_equal(reopen(f, SLABS, SLAB_SIZE), 0);
	assert_int_equal(f->pool.clients[0].held, 0);
	assert_int_equal(f->pool.clients[1].held, 1);
	assert_int_equal(f->pool.owner[4], 1);
	assert_int_equal(f->pool.n_free, SLABS - 1);
	done(f);
}

/* More slabs than one batch: every one freed, and so after a reopen. */
static void freeing_many_slabs_takes_batches(void **state)
{
	enum { MANY = METALOG_BATCH_MAX * 2 + 7 };
	struct fixture *f = *state;
	uint32_t a, b, freed, i;

	assert_int_equal(reopen(f, MANY + 1, SLAB_SIZE), 0);
	f->pool.default_quota = MANY + 1;
	a = pool_client_get(&f->pool, id_a, "alpha");
	b = pool_client_get(&f->pool, id_b, "beta");
	assert_int_equal(metalog_client(&f->log, a, &f->pool.clients[a]), 0);
	assert_int_equal(metalog_client(&f->log, b, &f->pool.clients[b]), 0);
	/* a holds every slab but the middle one, which b holds */
	for (i = 0; i <= MANY; i++) {
		uint32_t who = i == MANY / 2 ? b : a;

		assert_int_equal(pool_grant_slab(&f->pool, who, i), 0);
		assert_int_equal(metalog_grant(&f->log, i, who), 0);
	}
	assert_int_equal(metalog_free_client(&f->log, &f->pool, a, &freed), 0);
	assert_int_equal(freed, MANY);
	assert_int_equal(f->pool.n_free, MANY);
	done(f);
	assert_int_equal(reopen(f, MANY + 1, SLAB_SIZE), 0);
	assert_int_equal(f->pool.clients[a].held, 0);
	assert_int_equal(f->pool.owner[MANY / 2], b);
	assert_int_equal(f->pool.n_free, MANY);
	done(f);
}

/* GRANT_MANY's records: one write for several slabs, all replayed as granted. */
static void granting_many_is_replayed(void **state)
{
	struct fixture *f = *state;
	const uint32_t slabs[] = { 1, 3, 6 };
	uint64_t written;
	uint32_t a, i;

	assert_int_equal(reopen(f, SLABS, SLAB_SIZE), 0);
	a = pool_client_get(&f->pool, id_a, "alpha");
	assert_int_equal(metalog_client(&f->log, a, &f->pool.clients[a]), 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(pool_grant_slab(&f->pool, a, slabs[i]), 0);
	written = f->log.records_written_total;
	assert_int_equal(metalog_grant_many(&f->log, slabs, 3, a), 0);
	assert_int_equal(f->log.records_written_total, written + 3);
	assert_int_equal(metalog_grant_many(&f->log, slabs, 0, a), -EINVAL);
	assert_int_equal(metalog_grant_many(&f->log, slabs, METALOG_BATCH_MAX + 1, a), -EINVAL);
	done(f);
	assert_int_equal(reopen(f, SLABS, SLAB_SIZE), 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(f->pool.owner[slabs[i]], a);
	assert_int_equal(f->pool.owner[2], POOL_NONE);
	assert_int_equal(f->pool.clients[a].held, 3);
	assert_int_equal(f->pool.n_free, SLABS - 3);
	done(f);
}

/*
 * A batch whose write failed after its records reached the file (as a
 * short write or a failed sync can leave them): the next append, of one
 * record, must wipe the rest, or replay would grant those slabs to the
 * client again, after the server had given one of them to another.
 */
static void a_failed_batch_is_wiped_by_the_next_write(void **state)
{
	struct fixture *f = *state;
	const uint32_t slabs[] = { 1, 3, 6 };
	struct metalog_rec recs[3];
	uint32_t a, b, i;
	uint64_t end;
	int fd, ro;

	assert_int_equal(reopen(f, SLABS, SLAB_SIZE), 0);
	a = pool_client_get(&f->pool, id_a, "alpha");
	b = pool_client_get(&f->pool, id_b, "beta");
	assert_int_equal(metalog_client(&f->log, a, &f->pool.clients[a]), 0);
	assert_int_equal(metalog_client(&f->log, b, &f->pool.clients[b]), 0);
	/* the batch fails: the log's descriptor cannot write */
	fd = f->log.fd;
	ro = open(f->path, O_RDONLY);
	assert_true(ro >= 0);
	f->log.fd = ro;
	end = f->log.end;
	assert_true(metalog_grant_many(&f->log, slabs, 3, a) < 0);
	f->log.fd = fd;
	close(ro);
	assert_int_equal(f->log.end, end);
	/* and cutting the file back failed too (a read-only descriptor) */
	assert_true(f->log.stale);
	/* ...yet its records got there, valid and in sequence */
	memset(recs, 0, sizeof(recs));
	for (i = 0; i < 3; i++) {
		recs[i].slab.slab = htole32(slabs[i]);
		recs[i].slab.client = htole32(a);
		metalog_rec_seal(&recs[i], METALOG_GRANT, f->log.seq + 1 + i);
	}
	append_bytes(f->path, recs, sizeof(recs), (off_t)end);
	/* slab 1 goes to b instead: one record where the batch's first was */
	assert_int_equal(pool_grant_slab(&f->pool, b, 1), 0);
	assert_int_equal(metalog_grant(&f->log, 1, b), 0);
	done(f);
	if (reopen(f, SLABS, SLAB_SIZE))
		fail_msg("replay refused: %s", f->err);
	assert_int_equal(f->pool.owner[1], b);
	assert_int_equal(f->pool.owner[3], POOL_NONE);
	assert_int_equal(f->pool.owner[6], POOL_NONE);
	assert_int_equal(f->pool.clients[a].held, 0);
	done(f);
}

static void forget_is_replayed(void **state)
{
	struct fixture *f = *state;
	uint32_t b;

	make_log(f);
	assert_int_equal(reopen(f, SLABS, SLAB_SIZE), 0);
	b = pool_client_find(&f->pool, id_b);
	/* b holds slab 4: a FORGET of it would contradict the log */
	assert_int_equal(pool_client_remove(&f->pool, b), -1);
	assert_int_equal(metalog_free(&f->log, 4, b), 0);
	assert_int_equal(pool_return(&f->pool, b, 4), 0);
	assert_int_equal(metalog_forget(&f->log, b, id_b), 0);
	assert_int_equal(pool_client_remove(&f->pool, b), 0);
	done(f);
	assert_int_equal(reopen(f, SLABS, SLAB_SIZE), 0);
	assert_int_equal(pool_client_find(&f->pool, id_b), POOL_NONE);
	assert_int_not_equal(pool_client_find(&f->pool, id_a), POOL_NONE);
	assert_int_equal(f->pool.owner[4], POOL_NONE);
	assert_int_equal(f->pool.clients[0].held, 3);
	/* its slot takes a newcomer, durably */
	{
		static const uint8_t id_c[RSWAP_ID_LEN] = { 0xc };
		uint32_t c = pool_client_get(&f->pool, id_c, "gamma");

		assert_int_equal(c, b);
		assert_int_equal(metalog_client(&f->log, c, &f->pool.clients[c]), 0);
		assert_int_equal(metalog_grant(&f->log, 4, c), 0);
		done(f);
		assert_int_equal(reopen(f, SLABS, SLAB_SIZE), 0);
		assert_int_equal(pool_client_find(&f->pool, id_c), b);
		assert_int_equal(f->pool.owner[4], b);
	}
	done(f);
}

static void another_backing_is_refused_while_slabs_are_held(void **state)
{
	struct fixture *f = *state;
	uint8_t first[RSWAP_ID_LEN];
	off_t size;

	memset(f->cookie, 0x11, sizeof(f->cookie));
	make_log(f);
	memcpy(first, f->cookie, sizeof(first));
	size = file_size(f->path);
	memset(f->cookie, 0x22, sizeof(f->cookie));
	assert_int_equal(reopen(f, SLABS, SLAB_SIZE), -1);
	assert_non_null(strstr(f->err, "backing file BACKING is not the one metadata log"));
	assert_non_null(strstr(f->err, "22222222222222222222222222222222"));
	assert_non_null(strstr(f->err, "the log's 11111111111111111111111111111111"));
	assert_non_null(strstr(f->err, "4 slabs"));
	assert_non_null(strstr(f->err, "Put the original file back"));
	/* refused before anything was written */
	assert_int_equal(file_size(f->path), size);
	/* the right one is accepted */
	memcpy(f->cookie, first, sizeof(first));
	assert_int_equal(reopen(f, SLABS, SLAB_SIZE), 0);
	assert_false(f->replay.adopted_cookie);
	assert_false(f->replay.replaced_backing);
	expect_made_state(f);
	/* with no slab held another file is taken, and recorded */
	assert_int_equal(metalog_free_client(&f->log, &f->pool, 0, &(uint32_t){ 0 }), 0);
	assert_int_equal(metalog_free_client(&f->log, &f->pool, 1, &(uint32_t){ 0 }), 0);
	done(f);
	memset(f->cookie, 0x33, sizeof(f->cookie));
	assert_int_equal(reopen(f, SLABS, SLAB_SIZE), 0);
	assert_true(f->replay.replaced_backing);
	done(f);
	memset(f->cookie, 0x11, sizeof(f->cookie));
	assert_int_equal(reopen(f, SLABS, SLAB_SIZE), 0);
	assert_true(f->replay.replaced_backing);	/* 0x33 was recorded */
	done(f);
}

static void a_log_without_cookie_adopts_the_files(void **state)
{
	struct fixture *f = *state;

	/* make_log with a zero cookie: what an older rswap wrote */
	memset(f->cookie, 0, sizeof(f->cookie));
	make_log(f);
	memset(f->cookie, 0x44, sizeof(f->cookie));
	assert_int_equal(reopen(f, SLABS, SLAB_SIZE), 0);
	assert_true(f->replay.adopted_cookie);
	expect_made_state(f);
	done(f);
	memset(f->cookie, 0x55, sizeof(f->cookie));
	assert_int_equal(reopen(f, SLABS, SLAB_SIZE), -1);
	assert_non_null(strstr(f->err, "the log's 44444444444444444444444444444444"));
}

static void online_compaction_replays_to_the_same_pool(void **state)
{
	struct fixture *f = *state;
	struct pool again;
	uint32_t a, i;
	off_t before;

	make_log(f);
	assert_int_equal(reopen(f, SLABS, SLAB_SIZE), 0);
	a = pool_client_find(&f->pool, id_a);
	f->log.compact_min_bytes = 16 * METALOG_REC_SIZE;
	/* churn: grant and free slab 1 over and over */
	for (i = 0; i < 10; i++) {
		assert_int_equal(pool_grant_slab(&f->pool, a, 1), 0);
		assert_int_equal(metalog_grant(&f->log, 1, a), 0);
		assert_int_equal(pool_return(&f->pool, a, 1), 0);
		assert_int_equal(metalog_free(&f->log, 1, a), 0);
	}
	assert_int_equal(pool_grant_slab(&f->pool, a, 5), 0);
	assert_int_equal(metalog_grant(&f->log, 5, a), 0);
	before = file_size(f->path);
	assert_int_equal(before, (7 + 21) * METALOG_REC_SIZE);
	assert_int_equal(metalog_maybe_compact(&f->log, &f->pool, f->server_id), 1);
	/* FORMAT + 2 CLIENT + 5 GRANT */
	assert_int_equal(file_size(f->path), 8 * METALOG_REC_SIZE);
	assert_int_equal(f->log.compactions_total, 2);	/* at open, and now */
	/* not again until it grows */
	assert_int_equal(metalog_maybe_compact(&f->log, &f->pool, f->server_id), 0);
	/* appends go to the new file */
	assert_int_equal(pool_return(&f->pool, a, 5), 0);
	assert_int_equal(metalog_free(&f->log, 5, a), 0);
	assert_int_equal(file_size(f->path), 9 * METALOG_REC_SIZE);
	/* the compacted log replays to the same pool */
	assert_int_equal(pool_init(&again, SLABS, SLAB_SIZE, 4, 8), 0);
	{
		uint8_t *buf = malloc(9 * METALOG_REC_SIZE);
		int fd = open(f->path, O_RDONLY);
		struct metalog_replay r;

		assert_non_null(buf);
		assert_true(fd >= 0);
		assert_int_equal(read(fd, buf, 9 * METALOG_REC_SIZE), 9 * METALOG_REC_SIZE);
		close(fd);
		assert_int_equal(metalog_replay_buf(buf, 9 * METALOG_REC_SIZE, &again, &r), 0);
		free(buf);
	}
	assert_memory_equal(again.owner, f->pool.owner, SLABS * sizeof(*again.owner));
	for (i = 0; i < 4; i++) {
		assert_int_equal(again.clients[i].known, f->pool.clients[i].known);
		assert_memory_equal(again.clients[i].id, f->pool.clients[i].id, RSWAP_ID_LEN);
		assert_int_equal(again.clients[i].held, f->pool.clients[i].held);
	}
	assert_int_equal(again.n_free, f->pool.n_free);
	pool_fini(&again);
	done(f);
	assert_int_equal(reopen(f, SLABS, SLAB_SIZE), 0);
	expect_made_state(f);
	done(f);
}

static void a_log_in_use_is_refused(void **state)
{
	struct fixture *f = *state;
	struct metalog second;
	struct metalog_replay r;
	struct pool p2;
	uint8_t id[RSWAP_ID_LEN];
	char err[512], pid[32];
	off_t size;

	make_log(f);
	assert_int_equal(reopen(f, SLABS, SLAB_SIZE), 0);
	size = file_size(f->path);
	assert_int_equal(pool_init(&p2, SLABS, SLAB_SIZE, 4, 8), 0);
	assert_int_equal(metalog_open(&second, f->path, SLAB_SIZE, SLABS, &p2, id, f->cookie,
				      "BACKING", &r, err, sizeof(err)), -1);
	snprintf(pid, sizeof(pid), "pid %d", (int)getpid());
	assert_non_null(strstr(err, "is in use by another process"));
	assert_non_null(strstr(err, pid));
	pool_fini(&p2);
	/* untouched: the first still appends where it was */
	assert_int_equal(file_size(f->path), size);
	assert_int_equal(metalog_free(&f->log, 4, 1), 0);
	assert_int_equal(file_size(f->path), size + METALOG_REC_SIZE);
	done(f);
	assert_int_equal(reopen(f, SLABS, SLAB_SIZE), 0);
	assert_int_equal(f->pool.owner[4], POOL_NONE);
	done(f);
}

static void unsafe_files_are_refused(void **state)
{
	struct fixture *f = *state;
	char target[128];

	make_log(f);
	assert_int_equal(chmod(f->path, 0620), 0);
	assert_int_equal(reopen(f, SLABS, SLAB_SIZE), -1);
	assert_non_null(strstr(f->err, "writable by group or others"));
	assert_non_null(strstr(f->err, "chmod go-w"));
	assert_int_equal(chmod(f->path, 0600), 0);
	snprintf(target, sizeof(target), "%s/real", f->dir);
	assert_int_equal(rename(f->path, target), 0);
	assert_int_equal(symlink(target, f->path), 0);
	assert_int_equal(reopen(f, SLABS, SLAB_SIZE), -1);
	assert_non_null(strstr(f->err, "is a symbolic link"));
	unlink(f->path);
	unlink(target);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(replay_restores_ownership, setup, teardown),
		cmocka_unit_test_setup_teardown(torn_tail_is_cut, setup, teardown),
		cmocka_unit_test_setup_teardown(damage_before_the_tail_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(other_geometry_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(contradictions_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(garbage_file_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(freeing_a_client_is_durable, setup, teardown),
		cmocka_unit_test_setup_teardown(freeing_many_slabs_takes_batches, setup, teardown),
		cmocka_unit_test_setup_teardown(granting_many_is_replayed, setup, teardown),
		cmocka_unit_test_setup_teardown(a_failed_batch_is_wiped_by_the_next_write, setup,
						teardown),
		cmocka_unit_test_setup_teardown(forget_is_replayed, setup, teardown),
		cmocka_unit_test_setup_teardown(another_backing_is_refused_while_slabs_are_held,
						setup, teardown),
		cmocka_unit_test_setup_teardown(a_log_without_cookie_adopts_the_files, setup,
						teardown),
		cmocka_unit_test_setup_teardown(online_compaction_replays_to_the_same_pool, setup,
						teardown),
		cmocka_unit_test_setup_teardown(a_log_in_use_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(unsafe_files_are_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
