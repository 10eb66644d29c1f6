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
 */
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
	char err[256];
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
			   &f->replay, f->err, sizeof(f->err));
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
