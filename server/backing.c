// SPDX-License-Identifier: GPL-2.0
/*
 * backing: see backing.h.
 *
 * The file, byte by byte:
 *
 *   [0, size)                     the donated memory: slab i at i * slab_size
 *   [size, size + trailer_size)   the identity trailer (struct backing_trailer
 *                                 at its start, zeros after), one page (one
 *                                 huge page on hugetlbfs: its unit of size)
 *
 * The trailer lies past the slabs so that no slab's offset moves, and no
 * memory region ever covers it. Its cookie is random, made when the file
 * is, and the metadata log's FORMAT record keeps a copy: a file that is not
 * the one the log was written for (recreated, or a same-size replacement)
 * has another cookie, and the server refuses it rather than let clients
 * reattach to pages that are not theirs (metalog_open compares the two).
 *
 * Upgrade: a file of exactly @size bytes was made by an rswap without the
 * trailer. It is trusted as it is, once: it grows by a trailer with a new
 * cookie, which the log then records (a log without a cookie adopts the
 * file's). From then on it is checked like any other.
 *
 * Checks on open, before anything is read or written: the path is opened
 * with O_NOFOLLOW (no symlink, e.g. one planted in a world-writable
 * /dev/shm), the file must belong to the server's effective uid and not be
 * writable by group or others, and an exclusive flock must be free: a
 * second rswap-server on the same file exits, naming the first when
 * /proc/locks says who it is. The lock lives as long as the fd.
 *
 * Scrub: a freed slab's pages get a hole punched (FALLOC_FL_PUNCH_HOLE with
 * FALLOC_FL_KEEP_SIZE: tmpfs and hugetlbfs drop the pages, which go back to
 * the system and read as zeros). Where the file system refuses, the mapped
 * bytes are zeroed instead. A memory region pins pages: a hole punched
 * under one leaves its old pages reachable through it, so every region
 * covering a slab must be deregistered before the slab is freed.
 */
#include "backing.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/falloc.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "crc32c.h"

/* The trailer's size off hugetlbfs: one base page. */
#define BACKING_TRAILER_PAGE 4096
/* /proc/locks lines read at most, looking for the holder of a lock. */
#define BACKING_LOCKS_LINES_MAX 100000

void backing_cookie_hex(const uint8_t cookie[RSWAP_ID_LEN], char *buf)
{
	unsigned int i;

	for (i = 0; i < RSWAP_ID_LEN; i++)
		sprintf(buf + 2 * i, "%02x", cookie[i]);
}

/* The pid holding a flock on the file of @st, from /proc/locks, or 0. */
static long lock_holder(const struct stat *st)
{
	char line[256];
	long pid = 0;
	unsigned int n = 0;
	FILE *f = fopen("/proc/locks", "re");

	if (!f)
		return 0;
	while (!pid && n++ < BACKING_LOCKS_LINES_MAX && fgets(line, sizeof(line), f)) {
		unsigned int maj, min;
		unsigned long long ino;
		char kind[16];
		long p;

		/* "1: FLOCK  ADVISORY  WRITE 1234 00:1a:5678 0 EOF" */
		if (sscanf(line, "%*s %15s %*s %*s %ld %x:%x:%llu", kind, &p, &maj, &min, &ino) != 5)
			continue;
		if (!strcmp(kind, "FLOCK") && maj == major(st->st_dev) &&
		    min == minor(st->st_dev) && ino == (unsigned long long)st->st_ino)
			pid = p;
	}
	fclose(f);
	return pid;
}

int backing_lock_fd(int fd, const char *what, const char *path, char *err, size_t err_size)
{
	struct stat st;
	char comm[64] = "";
	long pid;

	if (!flock(fd, LOCK_EX | LOCK_NB))
		return 0;
	if (errno != EWOULDBLOCK) {
		snprintf(err, err_size, "%s %s: flock: %s", what, path, strerror(errno));
		return -1;
	}
	pid = fstat(fd, &st) ? 0 : lock_holder(&st);
	if (pid > 0) {
		char p[64];
		FILE *f;

		snprintf(p, sizeof(p), "/proc/%ld/comm", pid);
		f = fopen(p, "re");
		if (f) {
			if (fgets(comm, sizeof(comm), f))
				comm[strcspn(comm, "\n")] = '\0';
			fclose(f);
		}
		snprintf(err, err_size, "%s %s is in use by another process (pid %ld%s%s): "
			 "one rswap-server per file; stop that one first or give this one "
			 "other files", what, path, pid, comm[0] ? ", " : "", comm);
	} else {
		snprintf(err, err_size, "%s %s is locked by another process (another "
			 "rswap-server?): one rswap-server per file; stop that one first or give "
			 "this one other files", what, path);
	}
	return -1;
}

int backing_check_owner(int fd, const char *what, const char *path, char *err,
			size_t err_size)
{
	struct stat st;

	if (fstat(fd, &st)) {
		snprintf(err, err_size, "%s %s: %s", what, path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, err_size, "%s %s: not a regular file", what, path);
		return -1;
	}
	if (st.st_uid != geteuid()) {
		snprintf(err, err_size, "%s %s belongs to uid %u, not to this server's uid %u: "
			 "someone else may have made it to read or change clients' pages; "
			 "remove it, or chown it if it is yours", what, path,
			 (unsigned int)st.st_uid, (unsigned int)geteuid());
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, err_size, "%s %s is writable by group or others (mode %04o): "
			 "anyone could change clients' pages or slabs; run 'chmod go-w %s'",
			 what, path, (unsigned int)(st.st_mode & 07777), path);
		return -1;
	}
	return 0;
}

static uint32_t trailer_crc(const struct backing_trailer *t)
{
	return crc32c(0, t, offsetof(struct backing_trailer, crc));
}

/* The trailer in the mapping: 0 and b->cookie set, or -1 if there is none. */
static int trailer_read(struct backing *b)
{
	struct backing_trailer t;

	memcpy(&t, b->base + b->size, sizeof(t));
	if (le64toh(t.magic) != BACKING_TRAILER_MAGIC ||
	    le32toh(t.version) != BACKING_TRAILER_VERSION || le64toh(t.size) != b->size ||
	    le32toh(t.crc) != trailer_crc(&t))
		return -1;
	memcpy(b->cookie, t.cookie, RSWAP_ID_LEN);
	return 0;
}

/* A new cookie into the trailer, durable: 0 or -1 with errno. Through the
 * mapping: hugetlbfs has no write(). */
static int trailer_write(struct backing *b)
{
	struct backing_trailer t;

	if (getrandom(b->cookie, RSWAP_ID_LEN, 0) != RSWAP_ID_LEN)
		return -1;
	memset(&t, 0, sizeof(t));
	t.magic = htole64(BACKING_TRAILER_MAGIC);
	t.version = htole32(BACKING_TRAILER_VERSION);
	memcpy(t.cookie, b->cookie, RSWAP_ID_LEN);
	t.size = htole64(b->size);
	t.crc = htole32(trailer_crc(&t));
	memcpy(b->base + b->size, &t, sizeof(t));
	return msync(b->base + b->size, b->trailer_size, MS_SYNC);
}

int backing_open(struct backing *b, const char *path, uint64_t size, char *err,
		 size_t err_size)
{
	uint64_t total;
	struct statfs sfs;
	struct stat st;
	bool fresh = false;
	int ret;

	memset(b, 0, sizeof(*b));
	b->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (b->fd < 0) {
		if (errno == ELOOP)
			snprintf(err, err_size, "backing file %s is a symbolic link: refused (one "
				 "planted in a shared directory would redirect clients' pages); "
				 "give the real path", path);
		else
			snprintf(err, err_size, "backing file %s: %s", path, strerror(errno));
		return -1;
	}
	if (backing_check_owner(b->fd, "backing file", path, err, err_size) ||
	    backing_lock_fd(b->fd, "backing file", path, err, err_size))
		goto out_close;
	if (fstat(b->fd, &st) || fstatfs(b->fd, &sfs)) {
		snprintf(err, err_size, "backing file %s: %s", path, strerror(errno));
		goto out_close;
	}
	b->hugetlb = sfs.f_type == HUGETLBFS_MAGIC;
	b->in_ram = sfs.f_type == TMPFS_MAGIC || b->hugetlb;
	b->size = size;
	/* hugetlbfs sizes files in huge pages; f_bsize is its page size. */
	b->trailer_size = b->hugetlb ? (uint64_t)sfs.f_bsize : BACKING_TRAILER_PAGE;
	total = size + b->trailer_size;
	if (st.st_size == 0) {
		/* Reserve it all now: a full tmpfs fails here, not at a grant. */
		ret = b->hugetlb ? ftruncate(b->fd, (off_t)total) :
			posix_fallocate(b->fd, 0, (off_t)total);
		if (ret) {
			if (ret < 0)
				ret = errno;
			snprintf(err, err_size, "backing file %s: reserving %llu bytes: %s", path,
				 (unsigned long long)total, strerror(ret));
			if (ftruncate(b->fd, 0))
				snprintf(err, err_size, "backing file %s: reserving %llu bytes: %s "
					 "(and cannot truncate it back: remove it)", path,
					 (unsigned long long)total, strerror(ret));
			goto out_close;
		}
		fresh = true;
	} else if ((uint64_t)st.st_size == size) {
		/* An older rswap's file: grow it by the trailer (see the top). */
		if (ftruncate(b->fd, (off_t)total)) {
			snprintf(err, err_size, "backing file %s: adding its identity trailer: %s",
				 path, strerror(errno));
			goto out_close;
		}
		b->existed = true;
		b->upgraded = true;
	} else if ((uint64_t)st.st_size != total) {
		snprintf(err, err_size,
			 "backing file %s has %llu bytes but --memory is %llu (%llu with its "
			 "identity trailer): start with the same --memory, or another file",
			 path, (unsigned long long)st.st_size, (unsigned long long)size,
			 (unsigned long long)total);
		goto out_close;
	} else {
		b->existed = true;
	}
	b->base = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd, 0);
	if (b->base == MAP_FAILED) {
		b->base = NULL;
		snprintf(err, err_size, "mapping %s: %s", path, strerror(errno));
		goto out_close;
	}
	if (fresh || trailer_read(b)) {
		/* New, upgraded, or made but its trailer never written (a crash
		 * right after the reservation): a new identity. */
		if (!fresh && !b->upgraded)
			b->upgraded = true;
		if (trailer_write(b)) {
			snprintf(err, err_size, "backing file %s: writing its identity trailer: %s",
				 path, strerror(errno));
			goto out_unmap;
		}
	}
	return 0;

out_unmap:
	munmap(b->base, total);
	b->base = NULL;
out_close:
	close(b->fd);
	b->fd = -1;
	return -1;
}

void backing_close(struct backing *b)
{
	if (b->base)
		munmap(b->base, b->size + b->trailer_size);
	if (b->fd >= 0)
		close(b->fd);
	b->base = NULL;
	b->fd = -1;
}

int backing_scrub(struct backing *b, uint64_t off, uint64_t len)
{
	if (off > b->size || len > b->size - off)
		return -EINVAL;
	if (!b->punch_refused) {
		if (!fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
			       (off_t)len))
			return 0;
		/* A filesystem without holes: zero by hand from now on. Any
		 * other failure (ENOMEM, EINTR under memory pressure): zero
		 * this one by hand; the slab must not go out dirty. */
		if (errno == EOPNOTSUPP || errno == ENOSYS)
			b->punch_refused = true;
	}
	memset(b->base + off, 0, len);
	return 0;
}

int backing_scrub_slab(struct backing *b, struct pool *p, uint32_t slab)
{
	int ret;

	if (!pool_slab_valid(p, slab))
		return -EINVAL;
	if (!pool_slab_dirty(p, slab))
		return 0;
	ret = backing_scrub(b, (uint64_t)slab * p->slab_size, p->slab_size);
	if (ret)
		return ret;
	pool_slab_scrubbed(p, slab);
	b->scrubbed_total++;
	return 0;
}

int backing_reserve_slab(struct backing *b, const struct pool *p, uint32_t slab)
{
	if (!pool_slab_valid(p, slab))
		return -EINVAL;
	/* Only where a hole can be: elsewhere the pages are there already. */
	if (b->punch_refused)
		return 0;
	if (!fallocate(b->fd, 0, (off_t)((uint64_t)slab * p->slab_size), (off_t)p->slab_size))
		return 0;
	/* Only a full filesystem refuses the grant. tmpfs also fails with
	 * ENOMEM when its pages are swapped out meanwhile (shmem_fallocate
	 * gives up rather than livelock), and EINTR: the registration that
	 * follows faults the pages in, and fails if they cannot be had. */
	if (errno == ENOSPC)
		return -ENOSPC;
	return 0;
}

uint32_t backing_scrub_dirty(struct backing *b, struct pool *p, uint32_t max)
{
	uint32_t n = 0, slab = POOL_NONE;

	while (n < max && (slab = pool_next_dirty(p, slab)) != POOL_NONE) {
		if (backing_scrub_slab(b, p, slab))
			break;	/* tried again at its grant, which refuses it if need be */
		n++;
	}
	return n;
}
