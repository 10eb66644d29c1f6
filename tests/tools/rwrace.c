// SPDX-License-Identifier: GPL-2.0
/*
 * rswap-rwrace: reads racing writes of the same pages of a block device,
 * as a raw user (a file system, a database, fio) may have them; swap never
 * does (a page is locked while it is written).
 *
 * First every page of the region (--pages pages from --offset, in pages)
 * is written once, so each has a version. Then --writers threads rewrite
 * random runs of 1..8 pages, and --readers threads read random runs of
 * 1..8 pages, all with O_DIRECT, for --seconds. Each write of a page is
 * a version with a number (one counter for all, taken under the page's
 * lock as the write starts, so a page's versions are numbered in the order
 * their writes start). A version is either all zero (one write in eight)
 * or stamped: word 0 is the seed, STAMP_MAGIC in the top 16 bits and the
 * version's number below, every other word pattern_word(seed, p, word).
 *
 * A read may return the page before or after a write it meets, but always
 * one whole version of that page (not a mix of two, not another page's, no
 * EIO; zeros only once a zero version of it was sent, as a slot read
 * before its write landed is often zeros), and never an older one than
 * the page had settled on when the read started: a page settles on a
 * version when that write ends with no other write of the page in flight
 * during it, and stays settled while no write of it is in flight.
 *
 * Exit 0: every read returned whole, fresh pages and no I/O failed; 1: a
 * read returned a page that is no version of it, or a stale one; 2: bad
 * usage or setup, or no read or no write completed; 3: a read or write
 * failed (EIO).
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
static atomic_ulong n_reads, n_writes, n_torn, n_stale, n_io_errors;
static atomic_uint_fast64_t versions;	/* the last version number given */

/* What the tool knows of one page of the region, under its lock. */
struct page_book {
	pthread_mutex_t lock;
	uint64_t starts;	/* writes of it started */
	uint64_t zero_starts;	/* zero writes of it started */
	unsigned int in_flight;	/* writes of it started, not ended */
	uint64_t settled;	/* the version it settled on; 0: not known */
	bool settled_zero;	/* that version is all zero */
};

static struct page_book *book;

/* What a write knows of each page it writes. */
struct page_write {
	uint64_t version, epoch;	/* epoch: book.starts after its start */
	bool alone, zero;		/* no other write of the page was in flight */
};

/* What a read knows of each page as it starts. */
struct page_floor {
	uint64_t settled, zero_starts;
	bool settled_zero;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " --dev BLOCKDEV [options]\n"
		"Reads racing writes of the same pages; every page read must be one whole\n"
		"version of that page, none older than the one it had settled on when the\n"
		"read began (see the top of tests/tools/rwrace.c).\n"
		"  --dev PATH      the block device (its region is overwritten)\n"
		"  --offset N      first page of the region (default 0)\n"
		"  --pages N       pages in the region (default 64, at least 8)\n"
		"  --writers N     writer threads (default 4, 1..%d)\n"
		"  --readers N     reader threads (default 4, 1..%d)\n"
		"  --seconds N     how long they run (default 10)\n"
		"Exit: 0 all whole and fresh, 1 a page was no version of itself or stale,\n"
		"2 usage or setup (or nothing completed), 3 a read or write failed.\n",
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
 * else the first bad word. A zero page is whole only once a zero write of
 * it has started.
 */
static long check(const uint64_t *w, uint64_t page, uint64_t rel)
{
	size_t i;
	bool zero_sent;

	if (!w[0]) {
		pthread_mutex_lock(&book[rel].lock);
		zero_sent = book[rel].zero_starts > 0;
		pthread_mutex_unlock(&book[rel].lock);
		if (!zero_sent)
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

/*
 * Whole page @w of the region's @rel-th page, against what the page had
 * settled on as the read started: true if it is that version or a newer
 * one (a write started since).
 */
static bool fresh(const uint64_t *w, uint64_t rel, const struct page_floor *f)
{
	bool zero_since;

	if (!f->settled)
		return true;
	if (w[0])	/* stamped: its number is in word 0 */
		return (w[0] & ((1ull << 48) - 1)) >= f->settled;
	if (f->settled_zero)
		return true;
	pthread_mutex_lock(&book[rel].lock);
	zero_since = book[rel].zero_starts != f->zero_starts;
	pthread_mutex_unlock(&book[rel].lock);
	return zero_since;
}

/* A write of @rel with a zero version (@zero) or a stamped one starts. */
static void write_starts(uint64_t rel, bool zero, struct page_write *pw)
{
	struct page_book *b = &book[rel];

	pthread_mutex_lock(&b->lock);
	pw->version = atomic_fetch_add(&versions, 1) + 1;
	pw->epoch = ++b->starts;
	pw->alone = ++b->in_flight == 1;
	pw->zero = zero;
	b->zero_starts += zero;
	pthread_mutex_unlock(&b->lock);
}

/* It ended (@ok: written): the page settles on it if no other overlapped it. */
static void write_ends(uint64_t rel, const struct page_write *pw, bool ok)
{
	struct page_book *b = &book[rel];

	pthread_mutex_lock(&b->lock);
	if (!--b->in_flight) {
		bool only = ok && pw->alone && b->starts == pw->epoch;

		b->settled = only ? pw->version : 0;
		b->settled_zero = only && pw->zero;
	}
	pthread_mutex_unlock(&b->lock);
}

static void read_starts(uint64_t rel, struct page_floor *f)
{
	struct page_book *b = &book[rel];

	pthread_mutex_lock(&b->lock);
	f->settled = b->in_flight ? 0 : b->settled;
	f->settled_zero = b->settled_zero;
	f->zero_starts = b->zero_starts;
	pthread_mutex_unlock(&b->lock);
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

/* Write pages @first.. @first + @n - 1 of the region, each a new version. */
static bool write_run(uint64_t *buf, uint64_t first, uint64_t n, uint64_t *rnd_state)
{
	struct page_write pw[MAX_RUN];
	uint64_t k;
	bool ok;

	for (k = 0; k < n; k++) {
		bool zero = rnd_state && !(rnd(rnd_state) % 8);

		write_starts(first + k, zero, &pw[k]);
		stamp(buf + k * PATTERN_WORDS, zero ? 0 : STAMP_MAGIC << 48 | pw[k].version,
		      o.offset + first + k);
	}
	ok = io(true, buf, first, n);
	for (k = 0; k < n; k++)
		write_ends(first + k, &pw[k], ok);
	return ok;
}

static void read_run(uint64_t *buf, uint64_t first, uint64_t n)
{
	struct page_floor f[MAX_RUN];
	uint64_t k;

	for (k = 0; k < n; k++)
		read_starts(first + k, &f[k]);
	if (!io(false, buf, first, n))
		return;
	atomic_fetch_add(&n_reads, 1);
	for (k = 0; k < n; k++) {
		const uint64_t *w = buf + k * PATTERN_WORDS;
		unsigned long long page = o.offset + first + k;
		long bad = check(w, page, first + k);

		if (bad >= 0) {
			atomic_fetch_add(&n_torn, 1);
			fprintf(stderr, PROG ": page %llu is no version of itself: word %ld is %#llx (word 0 %#llx)\n",
				page, bad, (unsigned long long)w[bad], (unsigned long long)w[0]);
		} else if (!fresh(w, first + k, &f[k])) {
			atomic_fetch_add(&n_stale, 1);
			fprintf(stderr, PROG ": page %llu is stale: version %llu%s, but it had settled on %llu%s before the read\n",
				page, (unsigned long long)(w[0] & ((1ull << 48) - 1)),
				w[0] ? "" : " (zeros)", (unsigned long long)f[k].settled,
				f[k].settled_zero ? " (zeros)" : "");
		}
	}
}

static void *run(void *arg)
{
	struct thread *t = arg;
	uint64_t s = 0x9e3779b97f4a7c15ull * (t->id + 1);

	while (!atomic_load(&stop)) {
		uint64_t n = 1 + rnd(&s) % MAX_RUN;
		uint64_t first = rnd(&s) % (o.pages - n + 1);

		if (!t->writer)
			read_run(t->buf, first, n);
		else if (write_run(t->buf, first, n, &s))
			atomic_fetch_add(&n_writes, 1);
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
	book = calloc(o.pages, sizeof(*book));
	if (!book) {
		fprintf(stderr, PROG ": out of memory\n");
		return EXIT_USAGE;
	}
	for (p = 0; p < o.pages; p++)
		pthread_mutex_init(&book[p].lock, NULL);
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
	for (p = 0; p < o.pages; p++)
		if (!write_run(th[0].buf, p, 1, NULL))
			return EXIT_IO;
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
	printf(PROG ": %lu reads and %lu writes of %llu pages in %llu s; %lu pages no version of themselves, %lu stale, %lu I/O errors\n",
	       atomic_load(&n_reads), atomic_load(&n_writes), (unsigned long long)o.pages,
	       (unsigned long long)o.seconds, atomic_load(&n_torn), atomic_load(&n_stale),
	       atomic_load(&n_io_errors));
	for (p = 0; p < o.pages; p++)
		pthread_mutex_destroy(&book[p].lock);
	free(book);
	if (n != o.writers + o.readers)
		return EXIT_USAGE;
	if (!atomic_load(&n_reads) || !atomic_load(&n_writes)) {
		fprintf(stderr, PROG ": no read or no write completed: nothing was checked\n");
		return EXIT_USAGE;
	}
	if (atomic_load(&n_io_errors))
		return EXIT_IO;
	return atomic_load(&n_torn) || atomic_load(&n_stale) ? EXIT_TORN : EXIT_OK;
}
