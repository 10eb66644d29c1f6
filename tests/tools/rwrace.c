// SPDX-License-Identifier: GPL-2.0
/*
 * rswap-rwrace: reads racing writes of the same pages of a block device,
 * as a raw user (a file system, a database, fio) may have them; swap never
 * does (a page is locked while it is written).
 *
 * First every page of the region (--pages pages from --offset, in pages)
 * is written once, so each has a version. Then --writers threads rewrite
 * random runs of 1..8 pages, and --readers threads read random runs of
 * 1..8 pages, all with O_DIRECT, for --seconds. A version of page p is
 * either all zero (one write in eight) or stamped: word 0 is the version's
 * seed (STAMP_MAGIC in the top 16 bits), every other word
 * pattern_word(seed, p, word). A read may return the page before or after
 * a write it meets, but always one whole version of that page: one that
 * mixes two versions, comes from another page or fails is what this tool
 * catches. An all-zero page passes only once a zero version of it has been
 * sent (a slot read before its write landed is often zeros).
 *
 * Exit 0: every read returned whole pages and no I/O failed; 1: a read
 * returned a page that is no version of it; 2: bad usage or setup, or no
 * read or no write completed; 3: a read or write failed (EIO).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "page_pattern.h"
#include "tool_args.h"

#define PROG "rswap-rwrace"

#define EXIT_OK		0
#define EXIT_TORN	1
#define EXIT_USAGE	2
#define EXIT_IO		3

#define MAX_THREADS	32
#define MAX_RUN		8	/* pages a read or write covers at most */
#define STAMP_MAGIC	0x5257ull	/* "RW" */

struct opts {
	const char *dev;
	uint64_t offset, pages, writers, readers, seconds;
};

static struct opts o = { .pages = 64, .writers = 4, .readers = 4, .seconds = 10 };
static int fd;
static atomic_bool stop;
static atomic_ulong n_reads, n_writes, n_torn, n_io_errors;
static atomic_bool *zero_sent;	/* per page: a zero version was written */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " --dev BLOCKDEV [options]\n"
		"Reads racing writes of the same pages; every page read must be one whole\n"
		"version of that page (see the top of tests/tools/rwrace.c).\n"
		"  --dev PATH      the block device (its region is overwritten)\n"
		"  --offset N      first page of the region (default 0)\n"
		"  --pages N       pages in the region (default 64, at least 8)\n"
		"  --writers N     writer threads (default 4, 1..%d)\n"
		"  --readers N     reader threads (default 4, 1..%d)\n"
		"  --seconds N     how long they run (default 10)\n"
		"Exit: 0 all whole, 1 a page was no version of itself, 2 usage or setup\n"
		"(or nothing completed), 3 a read or write failed.\n",
		MAX_THREADS, MAX_THREADS);
}

/* xorshift64*: each thread its own, seeded apart. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static void stamp(uint64_t *w, uint64_t seed, uint64_t page)
{
	size_t i;

	if (!seed) {
		memset(w, 0, PATTERN_PAGE_SIZE);
		return;
	}
	w[0] = seed;
	for (i = 1; i < PATTERN_WORDS; i++)
		w[i] = pattern_word(seed, page, i);
}

/*
 * Returns -1 if @w is a whole version of @page (the region's @rel-th),
 * else the first bad word.
 */
static long check(const uint64_t *w, uint64_t page, uint64_t rel)
{
	size_t i;

	if (!w[0]) {
		if (!atomic_load(&zero_sent[rel]))
			return 0;
		for (i = 1; i < PATTERN_WORDS; i++)
			if (w[i])
				return (long)i;
		return -1;
	}
	if (w[0] >> 48 != STAMP_MAGIC)
		return 0;
	for (i = 1; i < PATTERN_WORDS; i++)
		if (w[i] != pattern_word(w[0], page, i))
			return (long)i;
	return -1;
}

static bool io(bool write, void *buf, uint64_t page, uint64_t n)
{
	size_t len = n * PATTERN_PAGE_SIZE;
	off_t at = (off_t)((o.offset + page) * PATTERN_PAGE_SIZE);
	ssize_t r = write ? pwrite(fd, buf, len, at) : pread(fd, buf, len, at);

	if (r == (ssize_t)len)
		return true;
	fprintf(stderr, PROG ": %s of %llu pages at page %llu: %s\n", write ? "write" : "read",
		(unsigned long long)n, (unsigned long long)(o.offset + page),
		r < 0 ? strerror(errno) : "short");
	atomic_fetch_add(&n_io_errors, 1);
	return false;
}

struct thread {
	pthread_t t;
	unsigned int id;
	bool writer;
	uint64_t *buf;
};

static void *run(void *arg)
{
	struct thread *t = arg;
	uint64_t s = 0x9e3779b97f4a7c15ull * (t->id + 1), gen = 0;

	while (!atomic_load(&stop)) {
		uint64_t n = 1 + rnd(&s) % MAX_RUN;
		uint64_t first = rnd(&s) % (o.pages - n + 1), k;

		if (t->writer) {
			for (k = 0; k < n; k++) {
				uint64_t seed = rnd(&s) % 8 ? STAMP_MAGIC << 48 | (uint64_t)t->id << 40 |
							       (++gen & 0xffffffffffull) : 0;

				if (!seed)	/* before the write is sent */
					atomic_store(&zero_sent[first + k], true);
				stamp(t->buf + k * PATTERN_WORDS, seed, o.offset + first + k);
			}
			if (io(true, t->buf, first, n))
				atomic_fetch_add(&n_writes, 1);
			continue;
		}
		if (!io(false, t->buf, first, n))
			continue;
		atomic_fetch_add(&n_reads, 1);
		for (k = 0; k < n; k++) {
			long bad = check(t->buf + k * PATTERN_WORDS, o.offset + first + k, first + k);

			if (bad < 0)
				continue;
			atomic_fetch_add(&n_torn, 1);
			fprintf(stderr, PROG ": page %llu is no version of itself: word %ld is %#llx (word 0 %#llx)\n",
				(unsigned long long)(o.offset + first + k), bad,
				(unsigned long long)t->buf[k * PATTERN_WORDS + bad],
				(unsigned long long)t->buf[k * PATTERN_WORDS]);
		}
	}
	return NULL;
}

static int parse(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "offset", required_argument, NULL, 'o' },
		{ "pages", required_argument, NULL, 'p' },
		{ "writers", required_argument, NULL, 'w' },
		{ "readers", required_argument, NULL, 'r' },
		{ "seconds", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		int bad = 0;

		switch (c) {
		case 'd': o.dev = optarg; break;
		case 'o': bad = tool_parse_u64(PROG, "--offset", optarg, 1ull << 40, &o.offset); break;
		case 'p': bad = tool_parse_u64(PROG, "--pages", optarg, 1ull << 30, &o.pages); break;
		case 'w': bad = tool_parse_u64(PROG, "--writers", optarg, MAX_THREADS, &o.writers); break;
		case 'r': bad = tool_parse_u64(PROG, "--readers", optarg, MAX_THREADS, &o.readers); break;
		case 's': bad = tool_parse_u64(PROG, "--seconds", optarg, 86400, &o.seconds); break;
		case 'h': usage(stdout); exit(EXIT_OK);
		default: usage(stderr); return -1;
		}
		if (bad)
			return -1;
	}
	if (optind < argc || !o.dev || o.pages < MAX_RUN || !o.writers || !o.readers) {
		fprintf(stderr, PROG ": --dev is required; --pages at least %d; --writers, --readers at least 1\n",
			MAX_RUN);
		usage(stderr);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct thread th[2 * MAX_THREADS];
	unsigned int i, n = 0;
	uint64_t p;

	if (parse(argc, argv))
		return EXIT_USAGE;
	zero_sent = calloc(o.pages, sizeof(*zero_sent));
	if (!zero_sent) {
		fprintf(stderr, PROG ": out of memory\n");
		return EXIT_USAGE;
	}
	fd = open(o.dev, O_RDWR | O_DIRECT);
	if (fd < 0) {
		fprintf(stderr, PROG ": %s: %s\n", o.dev, strerror(errno));
		return EXIT_USAGE;
	}
	for (i = 0; i < o.writers + o.readers; i++) {
		th[i].id = i;
		th[i].writer = i < o.writers;
		if (posix_memalign((void **)&th[i].buf, PATTERN_PAGE_SIZE,
				   MAX_RUN * PATTERN_PAGE_SIZE)) {
			fprintf(stderr, PROG ": out of memory\n");
			return EXIT_USAGE;
		}
	}
	/* Every page gets a first version before anyone reads. */
	for (p = 0; p < o.pages; p++) {
		stamp(th[0].buf, STAMP_MAGIC << 48 | 0xff00000000ull | p, o.offset + p);
		if (!io(true, th[0].buf, p, 1))
			return EXIT_IO;
	}
	for (i = 0; i < o.writers + o.readers; i++, n++)
		if (pthread_create(&th[i].t, NULL, run, &th[i])) {
			fprintf(stderr, PROG ": cannot start thread %u\n", i);
			atomic_store(&stop, true);
			break;
		}
	if (n == o.writers + o.readers)
		sleep((unsigned int)o.seconds);
	atomic_store(&stop, true);
	for (i = 0; i < n; i++)
		pthread_join(th[i].t, NULL);
	for (i = 0; i < o.writers + o.readers; i++)
		free(th[i].buf);
	close(fd);
	printf(PROG ": %lu reads and %lu writes of %llu pages in %llu s; %lu pages no version of themselves, %lu I/O errors\n",
	       atomic_load(&n_reads), atomic_load(&n_writes), (unsigned long long)o.pages,
	       (unsigned long long)o.seconds, atomic_load(&n_torn), atomic_load(&n_io_errors));
	free(zero_sent);
	if (n != o.writers + o.readers)
		return EXIT_USAGE;
	if (!atomic_load(&n_reads) || !atomic_load(&n_writes)) {
		fprintf(stderr, PROG ": no read or no write completed: nothing was checked\n");
		return EXIT_USAGE;
	}
	if (atomic_load(&n_io_errors))
		return EXIT_IO;
	return atomic_load(&n_torn) ? EXIT_TORN : EXIT_OK;
}
