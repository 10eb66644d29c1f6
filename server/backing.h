/* SPDX-License-Identifier: GPL-2.0 */
/*
 * backing: the donated memory, a file mapped shared so that it outlives
 * the process. On tmpfs or hugetlbfs it is RAM; elsewhere it works but
 * pages go to disk, and the server says so.
 */
#ifndef RSWAP_BACKING_H
#define RSWAP_BACKING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct backing {
	int fd;
	uint8_t *base;
	uint64_t size;
	bool existed;		/* the file was there with the right size */
	bool in_ram;		/* tmpfs or hugetlbfs */
};

/* Open or create @path of exactly @size bytes and map it. 0, or -1 with a
 * reason in @err (a file of another size is refused, never resized). */
int backing_open(struct backing *b, const char *path, uint64_t size, char *err,
		 size_t err_size);
void backing_close(struct backing *b);

#endif
