// SPDX-License-Identifier: GPL-2.0
/*
 * Description: server/backing.c, the donated memory's file. A new file gets
 * an identity cookie in a trailer past the slabs, kept across reopens; a
 * file of an older rswap (exactly --memory bytes) is grown by a trailer and
 * given one; a file of another size is refused. A second open of a file in
 * use is refused naming this process; a symlink, and a file writable by
 * others, are refused with what to do. A dirty slab is scrubbed to zeros
 * (punched on tmpfs) and marked clean, its neighbours untouched; a clean
 * or held one is left alone. Runs in /dev/shm (tmpfs) when there is one,
 * else in /tmp.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "backing.h"

#define SLABS 4
#define SLAB_SIZE (64u << 10)
#define SIZE ((uint64_t)SLABS * SLAB_SIZE)

struct fixture {
	char dir[64];
	char path[96];
	char err[512];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct stat st;

	if (!f)
		return -1;
	strcpy(f->dir, stat("/dev/shm", &st) ? "/tmp/rswap-backing-XXXXXX" :
	       "/dev/shm/rswap-backing-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/mem", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static off_t file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

static void cookie_is_made_and_kept(void **state)
{
	struct fixture *f = *state;
	uint8_t first[RSWAP_ID_LEN], zero[RSWAP_ID_LEN] = { 0 };
	struct backing b;

	assert_int_equal(backing_open(&b, f->path, SIZE, f->err, sizeof(f->err)), 0);
	assert_false(b.existed);
	assert_false(b.upgraded);
	assert_memory_not_equal(b.cookie, zero, RSWAP_ID_LEN);
	memcpy(first, b.cookie, RSWAP_ID_LEN);
	assert_int_equal(file_size(f->path), (off_t)(SIZE + b.trailer_size));
	backing_close(&b);
	assert_int_equal(backing_open(&b, f->path, SIZE, f->err, sizeof(f->err)), 0);
	assert_true(b.existed);
	assert_false(b.upgraded);
	assert_memory_equal(b.cookie, first, RSWAP_ID_LEN);
	backing_close(&b);
	/* another size */
	assert_int_equal(backing_open(&b, f->path, 2 * SIZE, f->err, sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, "start with the same --memory"));
}

static void an_older_file_is_upgraded(void **state)
{
	struct fixture *f = *state;
	struct backing b;
	uint8_t page[4096], got[4096];
	int fd = open(f->path, O_RDWR | O_CREAT, 0600);

	assert_true(fd >= 0);
	memset(page, 0x5a, sizeof(page));
	assert_int_equal(ftruncate(fd, (off_t)SIZE), 0);
	assert_int_equal(pwrite(fd, page, sizeof(page), SLAB_SIZE), (ssize_t)sizeof(page));
	close(fd);
	assert_int_equal(backing_open(&b, f->path, SIZE, f->err, sizeof(f->err)), 0);
	assert_true(b.existed);
	assert_true(b.upgraded);
	/* the pages stay where they were */
	memcpy(got, b.base + SLAB_SIZE, sizeof(got));
	assert_memory_equal(got, page, sizeof(page));
	backing_close(&b);
	assert_int_equal(backing_open(&b, f->path, SIZE, f->err, sizeof(f->err)), 0);
	assert_false(b.upgraded);
	backing_close(&b);
}

static void a_file_in_use_is_refused(void **state)
{
	struct fixture *f = *state;
	struct backing b, b2;
	char pid[32];

	assert_int_equal(backing_open(&b, f->path, SIZE, f->err, sizeof(f->err)), 0);
	assert_int_equal(backing_open(&b2, f->path, SIZE, f->err, sizeof(f->err)), -1);
	snprintf(pid, sizeof(pid), "pid %d", (int)getpid());
	assert_non_null(strstr(f->err, "is in use by another process"));
	assert_non_null(strstr(f->err, pid));
	backing_close(&b);
	assert_int_equal(backing_open(&b2, f->path, SIZE, f->err, sizeof(f->err)), 0);
	backing_close(&b2);
}

static void unsafe_files_are_refused(void **state)
{
	struct fixture *f = *state;
	struct backing b;
	char target[128];

	assert_int_equal(backing_open(&b, f->path, SIZE, f->err, sizeof(f->err)), 0);
	backing_close(&b);
	assert_int_equal(chmod(f->path, 0606), 0);
	assert_int_equal(backing_open(&b, f->path, SIZE, f->err, sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, "writable by group or others (mode 0606)"));
	assert_int_equal(chmod(f->path, 0600), 0);
	snprintf(target, sizeof(target), "%s/real", f->dir);
	assert_int_equal(rename(f->path, target), 0);
	assert_int_equal(symlink(target, f->path), 0);
	assert_int_equal(backing_open(&b, f->path, SIZE, f->err, sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, "is a symbolic link"));
	unlink(target);
}

static bool all_bytes(const uint8_t *p, uint64_t len, uint8_t v)
{
	uint64_t i;

	for (i = 0; i < len; i++)
		if (p[i] != v)
			return false;
	return true;
}

static void dirty_slabs_are_scrubbed(void **state)
{
	static const uint8_t id[RSWAP_ID_LEN] = { 1 };
	struct fixture *f = *state;
	struct backing b;
	struct pool p;
	uint32_t c;

	assert_int_equal(backing_open(&b, f->path, SIZE, f->err, sizeof(f->err)), 0);
	assert_int_equal(pool_init(&p, SLABS, SLAB_SIZE, 2, SLABS), 0);
	c = pool_client_get(&p, id, "a");
	assert_int_equal(pool_grant(&p, c), 0);
	assert_int_equal(pool_grant(&p, c), 1);
	memset(b.base, 0xa5, SIZE);
	assert_int_equal(pool_return(&p, c, 0), 0);
	/* held slab 1: never scrubbed; clean slab 2: left alone */
	assert_int_equal(backing_scrub_slab(&b, &p, 1), 0);
	assert_int_equal(backing_scrub_slab(&b, &p, 2), 0);
	assert_true(all_bytes(b.base + SLAB_SIZE, 3 * SLAB_SIZE, 0xa5));
	assert_true(all_bytes(b.base, SLAB_SIZE, 0xa5));
	assert_int_equal(backing_scrub_dirty(&b, &p, SLABS), 1);
	assert_true(all_bytes(b.base, SLAB_SIZE, 0));
	assert_false(pool_slab_dirty(&p, 0));
	assert_true(all_bytes(b.base + SLAB_SIZE, 3 * SLAB_SIZE, 0xa5));
	assert_int_equal(backing_reserve_slab(&b, &p, 0), 0);
	assert_true(all_bytes(b.base, SLAB_SIZE, 0));
	/* start-up: every free slab (0, 2, 3) dirty, scrubbed */
	pool_mark_free_dirty(&p);
	assert_int_equal(backing_scrub_dirty(&b, &p, SLABS), 3);
	assert_true(all_bytes(b.base + 2 * SLAB_SIZE, 2 * SLAB_SIZE, 0));
	assert_true(all_bytes(b.base + SLAB_SIZE, SLAB_SIZE, 0xa5));
	assert_int_equal(backing_scrub(&b, SIZE, 1), -EINVAL);
	pool_fini(&p);
	backing_close(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(cookie_is_made_and_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(an_older_file_is_upgraded, setup, teardown),
		cmocka_unit_test_setup_teardown(a_file_in_use_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(unsafe_files_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(dirty_slabs_are_scrubbed, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
