// SPDX-License-Identifier: GPL-2.0
/* backing: see backing.h. */
#include "backing.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

int backing_open(struct backing *b, const char *path, uint64_t size, char *err,
		 size_t err_size)
{
	struct statfs sfs;
	struct stat st;
	int ret;

	memset(b, 0, sizeof(*b));
	b->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (b->fd < 0) {
		snprintf(err, err_size, "backing file %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(b->fd, &st) || fstatfs(b->fd, &sfs)) {
		snprintf(err, err_size, "backing file %s: %s", path, strerror(errno));
		goto out_close;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, err_size, "backing file %s: not a regular file", path);
		goto out_close;
	}
	b->in_ram = sfs.f_type == TMPFS_MAGIC || sfs.f_type == HUGETLBFS_MAGIC;
	if (st.st_size == 0) {
		/* Reserve it all now: a full tmpfs fails here, not at a grant. */
		ret = sfs.f_type == HUGETLBFS_MAGIC ? ftruncate(b->fd, (off_t)size) :
			posix_fallocate(b->fd, 0, (off_t)size);
		if (ret) {
			if (ret < 0)
				ret = errno;
			snprintf(err, err_size, "backing file %s: reserving %llu bytes: %s", path,
				 (unsigned long long)size, strerror(ret));
			ftruncate(b->fd, 0);
			goto out_close;
		}
	} else if ((uint64_t)st.st_size != size) {
		snprintf(err, err_size,
			 "backing file %s has %llu bytes but --memory is %llu: "
			 "start with the same --memory, or another file",
			 path, (unsigned long long)st.st_size, (unsigned long long)size);
		goto out_close;
	} else {
		b->existed = true;
	}
	b->base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd, 0);
	if (b->base == MAP_FAILED) {
		b->base = NULL;
		snprintf(err, err_size, "mapping %s: %s", path, strerror(errno));
		goto out_close;
	}
	b->size = size;
	return 0;

out_close:
	close(b->fd);
	b->fd = -1;
	return -1;
}

void backing_close(struct backing *b)
{
	if (b->base)
		munmap(b->base, b->size);
	if (b->fd >= 0)
		close(b->fd);
	b->base = NULL;
	b->fd = -1;
}
