// SPDX-License-Identifier: GPL-2.0
/*
 * rswap-chaosload: a swap workload that keeps pages moving while the pool
 * is being broken, and checks every word of every page it reads.
 *
 * Memory (--mib in all, anonymous):
 *   owned     one region per thread (--threads). The thread fills each page,
 *             and from then on is its only reader and writer.
 *   cow       MAP_PRIVATE, filled before fork and never written after it:
 *             parent and child map the same pages, so each swapped-out page
 *             has a swap count of 2 and comes back through the swap cache.
 *   shm       MAP_SHARED|MAP_ANONYMOUS (shmem), filled before fork, read by
 *             both; shmem pages swap through the same device.
 * cow and shm together are --shared-mib, half each.
 *
 * Every page has a generation (an array outside the pages, mlocked where
 * possible). Its content is a function of (seed, generation, page index,
 * word): all zero, one repeated word, or a pattern (page_pattern.h), the
 * kind chosen per generation, so a page that comes back stale (an earlier
 * generation), torn, zeroed or from another page never compares equal.
 *
 * The run:
 *   1. fill cow and shm (generation 0); fork the child, which loops over
 *      them verifying, until the parent says stop (or --seconds pass);
 *   2. each thread fills its region (generation 0); once all have,
 *      --ready-file is created and the --seconds clock starts;
 *   3. each thread loops: picks pages (a run of random pages, a sequential
 *      run, or now and then a run in the shared regions), checks every word
 *      of each against its generation, and rewrites --rewrite-pct of the
 *      owned ones with the next generation;
 *   4. after --seconds (or once --stop-file exists) the threads stop, the
 *      child is told to stop and waited for.
 * Progress goes to stdout every --progress seconds, a summary line at the
 * end; mismatches and signals to stderr.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "page_pattern.h"
#include "tool_args.h"

#define PROG "rswap-chaosload"

/* Exit statuses (the --help text says the same). */
#define EXIT_OK		0
#define EXIT_MISMATCH	1	/* a page differed, in a thread or in the child */
#define EXIT_USAGE	2	/* bad usage, or setup failed (memory, fork, threads) */
#define EXIT_UNREADABLE	3	/* SIGBUS (or EFAULT): a page could not be read back */
#define EXIT_CHILD	4	/* the child died otherwise (a signal: OOM killer, ...) */

#define MAX_THREADS	64
#define MIB_MAX		(1u << 20)
/* A sequential run covers up to this many pages; a random run this many. */
#define SEQ_RUN_MAX	256
#define RANDOM_RUN	16
/* Percent of runs a parent thread spends in the shared regions. */
#define SHARED_RUN_PCT	10
/* Generations back a mismatching page is compared with, to call it stale. */
#define STALE_LOOKBACK	8
/* How often the main thread looks at the clock, the stop file and the child. */
#define POLL_US		(200 * 1000)

enum kind { KIND_DATA, KIND_ZERO, KIND_SAME };
static const char *const kind_name[] = { "data", "zero", "same" };

struct opts {
	unsigned long mib, shared_mib;
	unsigned int threads, seconds, progress_s, rewrite_pct, zero_pct, same_pct;
	unsigned int max_reports;
	uint64_t seed;
	const char *ready_file, *stop_file;
};

struct region {
	uint8_t *mem;
	size_t pages;
	uint64_t first;		/* global index of its first page */
	const char *name;
};

/* Counters one process shares with the other (the child's live in shm). */
struct counts {
	_Atomic uint64_t verified, rewritten, shared_verified, mismatches, reports;
};

struct worker {
	pthread_t tid;
	unsigned int id;
	struct region own;
	uint32_t *gen;		/* generation of each page of own */
	uint64_t rng;
	struct counts *c;
};

/* What the child and the parent share besides the pages. */
struct shared_ctl {
	struct counts child;
	_Atomic int stop;
};

static struct opts o = {
	.threads = 4, .seconds = 60, .progress_s = 5, .rewrite_pct = 25,
	.zero_pct = 10, .same_pct = 5, .max_reports = 20, .seed = 1,
};
static struct region cow, shm;
static struct worker workers[MAX_THREADS];
static struct counts parent_counts;
static struct shared_ctl *ctl;
static atomic_int stop_threads, threads_filled;

/* For the SIGBUS handler: who we are, and where the regions are. */
static const char *volatile who = "parent";
static uint8_t *volatile owned_base;
static volatile size_t owned_bytes;
static volatile pid_t child_pid;

static void usage(FILE *f)
{
	fprintf(f,
"usage: rswap-chaosload --mib N [options]\n"
"A swap workload for fault injection: threads keep reading, checking and\n"
"rewriting patterned pages, and a child process checks pages it shares\n"
"with the parent, while the pool behind the swap device is broken and\n"
"mended. Run it in a cgroup whose memory.max is well below N MiB.\n"
"\n"
"  --mib N          anonymous memory in all, MiB (required)\n"
"  --threads N      threads, each owning an equal part of what is not shared\n"
"                   (default 4, at most 64)\n"
"  --seconds S      how long the loop runs, counted from the end of the fill\n"
"                   (default 60)\n"
"  --shared-mib N   memory shared with the child, half of it a private\n"
"                   mapping inherited by fork (swap count 2), half a shared\n"
"                   anonymous mapping (shmem); never written after the fork\n"
"                   (default: --mib / 8; 0: no child)\n"
"  --rewrite-pct P  percent of checked owned pages rewritten with the next\n"
"                   generation (default 25)\n"
"  --zero-pct P     percent of page generations that are all zero (default 10)\n"
"  --same-pct P     percent filled with one repeated word (default 5)\n"
"  --seed S         pattern seed (default 1)\n"
"  --progress S     seconds between progress lines (default 5)\n"
"  --ready-file F   create F once every thread has filled its pages\n"
"  --stop-file F    end the loop early once F exists\n"
"  --max-reports N  mismatch lines printed per process (default 20); every\n"
"                   mismatch is counted\n"
"  -h, --help       this text\n"
"\n"
"How pages are checked: every page has a generation; its content is a\n"
"function of seed, generation, page index and word (zero, one repeated\n"
"word, or a pattern, chosen per generation). A check compares every word.\n"
"A page that came back stale, torn, zeroed or from elsewhere fails it.\n"
"\n"
"Output: stdout gets a progress line every --progress seconds\n"
"  chaosload: T s: verified V pages, rewritten R, shared S (child C),\n"
"    major faults F, M mismatches\n"
"and a summary line at the end, starting 'chaosload: done:' and ending\n"
"in PASS or FAIL (the reason). stderr gets one line per mismatch\n"
"  chaosload: MISMATCH parent thread T page P (REGION offset 0x...):\n"
"    byte B: expected 0x..., got 0x...; K of 512 words differ;\n"
"    generation G (KIND); the page holds generation G' (stale) | is all\n"
"    zero | matches no recent generation\n"
"and one line for a SIGBUS, with the address and its region.\n"
"\n"
"Exit status:\n"
"  0  every check of every thread and of the child passed\n"
"  1  a page differed (in a thread or in the child)\n"
"  2  bad usage, or setup failed (no memory, fork or threads failed)\n"
"  3  a page could not be read back: SIGBUS in the parent or the child, or\n"
"     EFAULT from a system call on the tool's own memory\n"
"  4  the child ended otherwise (killed by a signal, e.g. the OOM killer)\n"
"When several happen, the lowest non-zero status above wins, except that\n"
"a SIGBUS in the parent ends it at once with 3.\n");
}

/* ---- page contents ---- */

static uint64_t gen_seed(uint32_t gen)
{
	return pattern_mix(o.seed ^ pattern_mix(0xc4a05ull + gen));
}

static enum kind kind_of(uint64_t index, uint32_t gen)
{
	unsigned int r = (unsigned int)(pattern_mix(gen_seed(gen) ^ (index * 0x9e37ull)) % 100);

	if (r < o.zero_pct)
		return KIND_ZERO;
	if (r < o.zero_pct + o.same_pct)
		return KIND_SAME;
	return KIND_DATA;
}

static uint64_t expected_word(uint64_t index, uint32_t gen, enum kind k, size_t word)
{
	switch (k) {
	case KIND_ZERO:
		return 0;
	case KIND_SAME:
		return pattern_mix(gen_seed(gen) ^ ~index) | 1;
	case KIND_DATA:
		break;
	}
	return pattern_word(gen_seed(gen), index, word);
}

static void fill_page(uint8_t *page, uint64_t index, uint32_t gen)
{
	uint64_t *w = (uint64_t *)page;
	enum kind k = kind_of(index, gen);

	if (k == KIND_DATA) {
		pattern_fill(w, gen_seed(gen), index);
		return;
	}
	for (size_t i = 0; i < PATTERN_WORDS; i++)
		w[i] = expected_word(index, gen, k, i);
}

/* Does @page hold generation @gen of page @index? */
static bool page_is(const uint8_t *page, uint64_t index, uint32_t gen)
{
	const uint64_t *w = (const uint64_t *)page;
	enum kind k = kind_of(index, gen);

	for (size_t i = 0; i < PATTERN_WORDS; i++)
		if (w[i] != expected_word(index, gen, k, i))
			return false;
	return true;
}

/* Print what is wrong with @page (which is not generation @gen). */
static void report(struct counts *c, const char *thread, const struct region *r, size_t pg,
		   uint32_t gen)
{
	const uint8_t *page = r->mem + pg * PATTERN_PAGE_SIZE;
	const uint64_t *w = (const uint64_t *)page;
	uint64_t index = r->first + pg;
	enum kind k = kind_of(index, gen);
	size_t first = PATTERN_WORDS, differ = 0, zero = 0;
	char what[64] = "matches no recent generation";

	if (atomic_fetch_add(&c->reports, 1) >= o.max_reports)
		return;
	for (size_t i = 0; i < PATTERN_WORDS; i++) {
		if (w[i] != expected_word(index, gen, k, i)) {
			if (first == PATTERN_WORDS)
				first = i;
			differ++;
		}
		zero += !w[i];
	}
	if (first == PATTERN_WORDS) {
		/* Read twice, different each time: say so rather than nothing. */
		fprintf(stderr, "chaosload: MISMATCH %s %s page %llu (%s offset 0x%zx): "
			"differed once, equal when read again\n", who, thread,
			(unsigned long long)index, r->name, pg * PATTERN_PAGE_SIZE);
		return;
	}
	if (zero == PATTERN_WORDS) {
		snprintf(what, sizeof(what), "is all zero");
	} else {
		for (uint32_t back = 1; back <= STALE_LOOKBACK && back <= gen; back++) {
			if (page_is(page, index, gen - back)) {
				snprintf(what, sizeof(what), "holds generation %u (stale)", gen - back);
				break;
			}
		}
	}
	fprintf(stderr, "chaosload: MISMATCH %s %s page %llu (%s offset 0x%zx): byte %zu: "
		"expected 0x%016llx, got 0x%016llx; %zu of %zu words differ; generation %u (%s); "
		"the page %s\n", who, thread, (unsigned long long)index, r->name,
		pg * PATTERN_PAGE_SIZE, first * sizeof(uint64_t),
		(unsigned long long)expected_word(index, gen, k, first),
		(unsigned long long)w[first], differ, PATTERN_WORDS, gen, kind_name[k], what);
}

/* Check page @pg of @r against generation @gen; count and report. */
static void verify(struct counts *c, const char *thread, const struct region *r, size_t pg,
		   uint32_t gen, _Atomic uint64_t *counter)
{
	if (!page_is(r->mem + pg * PATTERN_PAGE_SIZE, r->first + pg, gen)) {
		atomic_fetch_add(&c->mismatches, 1);
		report(c, thread, r, pg, gen);
	}
	atomic_fetch_add_explicit(counter, 1, memory_order_relaxed);
}

/* ---- the loops ---- */

static uint64_t rng_next(uint64_t *s)
{
	/* xorshift64* */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

/* A run over the shared regions: check only (generation 0 for ever). */
static void shared_run(struct counts *c, const char *thread, uint64_t *rng,
		       _Atomic uint64_t *counter)
{
	size_t total = cow.pages + shm.pages, start, len;

	if (!total)
		return;
	start = rng_next(rng) % total;
	len = 1 + rng_next(rng) % 32;
	for (size_t i = 0; i < len; i++) {
		size_t p = (start + i) % total;

		if (p < cow.pages)
			verify(c, thread, &cow, p, 0, counter);
		else
			verify(c, thread, &shm, p - cow.pages, 0, counter);
	}
}

static void owned_page(struct worker *wk, const char *thread, size_t pg)
{
	verify(wk->c, thread, &wk->own, pg, wk->gen[pg], &wk->c->verified);
	if (rng_next(&wk->rng) % 100 < o.rewrite_pct) {
		wk->gen[pg]++;
		fill_page(wk->own.mem + pg * PATTERN_PAGE_SIZE, wk->own.first + pg, wk->gen[pg]);
		atomic_fetch_add_explicit(&wk->c->rewritten, 1, memory_order_relaxed);
	}
}

static void *worker_main(void *arg)
{
	struct worker *wk = arg;
	char thread[16];

	snprintf(thread, sizeof(thread), "thread %u", wk->id);
	for (size_t pg = 0; pg < wk->own.pages; pg++)
		fill_page(wk->own.mem + pg * PATTERN_PAGE_SIZE, wk->own.first + pg, 0);
	atomic_fetch_add(&threads_filled, 1);

	while (!atomic_load_explicit(&stop_threads, memory_order_relaxed)) {
		unsigned int r = (unsigned int)(rng_next(&wk->rng) % 100);
		size_t n = wk->own.pages;

		if (r < SHARED_RUN_PCT) {
			shared_run(wk->c, thread, &wk->rng, &wk->c->shared_verified);
		} else if (r < SHARED_RUN_PCT + (100 - SHARED_RUN_PCT) / 2) {
			for (unsigned int i = 0; i < RANDOM_RUN; i++)
				owned_page(wk, thread, rng_next(&wk->rng) % n);
		} else {
			size_t start = rng_next(&wk->rng) % n;
			size_t len = 1 + rng_next(&wk->rng) % SEQ_RUN_MAX;

			for (size_t i = 0; i < len && start + i < n; i++)
				owned_page(wk, thread, start + i);
		}
	}
	return NULL;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The child: check the shared pages until the parent says stop. */
static int child_main(void)
{
	uint64_t rng = pattern_mix(o.seed ^ 0xc41dull) | 1;

	who = "child";
	while (!atomic_load(&ctl->stop))
		shared_run(&ctl->child, "loop", &rng, &ctl->child.verified);
	return atomic_load(&ctl->child.mismatches) ? EXIT_MISMATCH : EXIT_OK;
}

/* ---- SIGBUS ---- */

static size_t put_str(char *buf, size_t at, const char *s)
{
	while (*s && at < 255)
		buf[at++] = *s++;
	return at;
}

static size_t put_hex(char *buf, size_t at, uint64_t v)
{
	char d[17];
	int n = 0;

	do {
		d[n++] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	at = put_str(buf, at, "0x");
	while (n && at < 255)
		buf[at++] = d[--n];
	return at;
}

static const char *region_of(uintptr_t a, uintptr_t *off)
{
	const struct {
		const char *name;
		uint8_t *base;
		size_t bytes;
	} rs[] = {
		{ "owned", owned_base, owned_bytes },
		{ "cow", cow.mem, cow.pages * PATTERN_PAGE_SIZE },
		{ "shm", shm.mem, shm.pages * PATTERN_PAGE_SIZE },
	};

	for (size_t i = 0; i < sizeof(rs) / sizeof(rs[0]); i++) {
		if (rs[i].base && a >= (uintptr_t)rs[i].base &&
		    a < (uintptr_t)rs[i].base + rs[i].bytes) {
			*off = a - (uintptr_t)rs[i].base;
			return rs[i].name;
		}
	}
	*off = 0;
	return NULL;
}

/* Async-signal-safe: say where, stop the child, exit with EXIT_UNREADABLE. */
static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	char buf[256];
	size_t n = 0;
	uintptr_t off, a = (uintptr_t)si->si_addr;
	const char *r = region_of(a, &off);

	(void)sig;
	(void)uc;
	n = put_str(buf, n, "chaosload: SIGBUS in the ");
	n = put_str(buf, n, who);
	n = put_str(buf, n, " at ");
	n = put_hex(buf, n, a);
	if (r) {
		n = put_str(buf, n, " (");
		n = put_str(buf, n, r);
		n = put_str(buf, n, " offset ");
		n = put_hex(buf, n, off);
		n = put_str(buf, n, ")");
	}
	n = put_str(buf, n, ": a page could not be read back\n");
	if (write(STDERR_FILENO, buf, n) < 0)
		n = 0;
	if (child_pid > 0)
		kill(child_pid, SIGKILL);
	_exit(EXIT_UNREADABLE);
}

/* ---- setup ---- */

static void *map_region(size_t bytes, int flags, const char *what)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, flags | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		fprintf(stderr, "chaosload: mmap %zu bytes for %s: %s\n", bytes, what,
			strerror(errno));
		return NULL;
	}
	return p;
}

/* 0 absent, 1 present, -1 the path itself could not be read (EFAULT). */
static int stop_file_exists(void)
{
	if (!o.stop_file)
		return 0;
	if (!access(o.stop_file, F_OK))
		return 1;
	if (errno == EFAULT) {
		fprintf(stderr, "chaosload: checking the stop file: %s (its name was in a page "
			"that could not be read back)\n", strerror(errno));
		return -1;
	}
	return 0;
}

static void progress(double t0)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	printf("chaosload: %.0f s: verified %llu pages, rewritten %llu, shared %llu (child %llu), "
	       "major faults %ld, %llu mismatches\n", now() - t0,
	       (unsigned long long)atomic_load(&parent_counts.verified),
	       (unsigned long long)atomic_load(&parent_counts.rewritten),
	       (unsigned long long)atomic_load(&parent_counts.shared_verified),
	       (unsigned long long)atomic_load(&ctl->child.verified), ru.ru_majflt,
	       (unsigned long long)(atomic_load(&parent_counts.mismatches) +
				    atomic_load(&ctl->child.mismatches)));
	fflush(stdout);
}

static int parse(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "mib", required_argument, NULL, 'm' },
		{ "threads", required_argument, NULL, 't' },
		{ "seconds", required_argument, NULL, 'T' },
		{ "shared-mib", required_argument, NULL, 'S' },
		{ "rewrite-pct", required_argument, NULL, 'w' },
		{ "zero-pct", required_argument, NULL, 'z' },
		{ "same-pct", required_argument, NULL, 's' },
		{ "seed", required_argument, NULL, 'e' },
		{ "progress", required_argument, NULL, 'p' },
		{ "ready-file", required_argument, NULL, 'r' },
		{ "stop-file", required_argument, NULL, 'x' },
		{ "max-reports", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool shared_given = false;
	uint64_t v;
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (tool_parse_u64(PROG, "--mib", optarg, MIB_MAX, &v))
				return EXIT_USAGE;
			o.mib = (unsigned long)v;
			break;
		case 't':
			if (tool_parse_u64(PROG, "--threads", optarg, MAX_THREADS, &v) || !v)
				return EXIT_USAGE;
			o.threads = (unsigned int)v;
			break;
		case 'T':
			if (tool_parse_u64(PROG, "--seconds", optarg, 7 * 24 * 3600, &v))
				return EXIT_USAGE;
			o.seconds = (unsigned int)v;
			break;
		case 'S':
			if (tool_parse_u64(PROG, "--shared-mib", optarg, MIB_MAX, &v))
				return EXIT_USAGE;
			o.shared_mib = (unsigned long)v;
			shared_given = true;
			break;
		case 'w':
			if (tool_parse_u64(PROG, "--rewrite-pct", optarg, 100, &v))
				return EXIT_USAGE;
			o.rewrite_pct = (unsigned int)v;
			break;
		case 'z':
			if (tool_parse_u64(PROG, "--zero-pct", optarg, 100, &v))
				return EXIT_USAGE;
			o.zero_pct = (unsigned int)v;
			break;
		case 's':
			if (tool_parse_u64(PROG, "--same-pct", optarg, 100, &v))
				return EXIT_USAGE;
			o.same_pct = (unsigned int)v;
			break;
		case 'e':
			if (tool_parse_u64(PROG, "--seed", optarg, UINT64_MAX, &v))
				return EXIT_USAGE;
			o.seed = v;
			break;
		case 'p':
			if (tool_parse_u64(PROG, "--progress", optarg, 3600, &v) || !v)
				return EXIT_USAGE;
			o.progress_s = (unsigned int)v;
			break;
		case 'r':
			o.ready_file = optarg;
			break;
		case 'x':
			o.stop_file = optarg;
			break;
		case 'M':
			if (tool_parse_u64(PROG, "--max-reports", optarg, UINT32_MAX, &v))
				return EXIT_USAGE;
			o.max_reports = (unsigned int)v;
			break;
		case 'h':
			usage(stdout);
			exit(EXIT_OK);
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (!shared_given)
		o.shared_mib = o.mib / 8;
	if (optind < argc || !o.mib || o.zero_pct + o.same_pct > 100 || o.shared_mib >= o.mib) {
		fprintf(stderr, "chaosload: %s\n", optind < argc ? "unexpected argument" :
			!o.mib ? "--mib is required" :
			o.zero_pct + o.same_pct > 100 ? "--zero-pct plus --same-pct exceeds 100" :
			"--shared-mib must be less than --mib");
		usage(stderr);
		return EXIT_USAGE;
	}
	if ((o.mib - o.shared_mib) * (1024 * 1024 / PATTERN_PAGE_SIZE) < o.threads) {
		fprintf(stderr, "chaosload: fewer owned pages than --threads\n");
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* What became of the child: an exit status of ours. */
static int child_verdict(int status)
{
	if (WIFEXITED(status)) {
		switch (WEXITSTATUS(status)) {
		case EXIT_OK:
		case EXIT_MISMATCH:
		case EXIT_UNREADABLE:
			return WEXITSTATUS(status);
		}
		fprintf(stderr, "chaosload: the child exited with status %d\n", WEXITSTATUS(status));
		return EXIT_CHILD;
	}
	if (WIFSIGNALED(status))
		fprintf(stderr, "chaosload: the child was killed by signal %d (%s)\n",
			WTERMSIG(status), strsignal(WTERMSIG(status)));
	return EXIT_CHILD;
}

static const char *verdict_text(int rc)
{
	switch (rc) {
	case EXIT_OK:
		return "PASS";
	case EXIT_MISMATCH:
		return "FAIL (a page differed)";
	case EXIT_UNREADABLE:
		return "FAIL (a page could not be read back)";
	case EXIT_CHILD:
		return "FAIL (the child died)";
	}
	return "FAIL";
}

int main(int argc, char **argv)
{
	size_t owned_pages, per, cow_pages, shm_pages;
	struct sigaction sa = { 0 };
	double t0, deadline, next_progress;
	int rc, child_rc = EXIT_OK, st;
	bool child_done = false, gens_locked;
	struct rusage ru;
	uint32_t *gens;
	pid_t pid;

	rc = parse(argc, argv);
	if (rc)
		return rc;

	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);

	owned_pages = (o.mib - o.shared_mib) * (1024 * 1024 / PATTERN_PAGE_SIZE);
	cow_pages = (o.shared_mib * (1024 * 1024 / PATTERN_PAGE_SIZE) + 1) / 2;
	shm_pages = o.shared_mib * (1024 * 1024 / PATTERN_PAGE_SIZE) - cow_pages;

	/* The generations, out of the swapped pages' way where mlock allows. */
	gens = map_region(owned_pages * sizeof(*gens), MAP_PRIVATE, "the generations");
	ctl = map_region(sizeof(*ctl), MAP_SHARED, "the child's counters");
	owned_base = map_region(owned_pages * PATTERN_PAGE_SIZE, MAP_PRIVATE, "the threads");
	owned_bytes = owned_pages * PATTERN_PAGE_SIZE;
	if (cow_pages)
		cow.mem = map_region(cow_pages * PATTERN_PAGE_SIZE, MAP_PRIVATE, "cow");
	if (shm_pages)
		shm.mem = map_region(shm_pages * PATTERN_PAGE_SIZE, MAP_SHARED, "shm");
	if (!gens || !ctl || !owned_base || (cow_pages && !cow.mem) || (shm_pages && !shm.mem))
		return EXIT_USAGE;
	gens_locked = !mlock(gens, owned_pages * sizeof(*gens));
	cow = (struct region){ cow.mem, cow_pages, owned_pages, "cow" };
	shm = (struct region){ shm.mem, shm_pages, owned_pages + cow_pages, "shm" };

	printf("chaosload: %u threads, %zu owned pages (%zu each), %zu shared with the child "
	       "(%zu cow, %zu shm), seed %llu, %u s, rewrite %u%%, zero %u%%, same %u%%%s\n",
	       o.threads, owned_pages, owned_pages / o.threads, cow_pages + shm_pages, cow_pages,
	       shm_pages, (unsigned long long)o.seed, o.seconds, o.rewrite_pct, o.zero_pct,
	       o.same_pct, gens_locked ? "" : " (generations not mlocked)");
	fflush(stdout);

	t0 = now();
	for (size_t pg = 0; pg < cow.pages; pg++)
		fill_page(cow.mem + pg * PATTERN_PAGE_SIZE, cow.first + pg, 0);
	for (size_t pg = 0; pg < shm.pages; pg++)
		fill_page(shm.mem + pg * PATTERN_PAGE_SIZE, shm.first + pg, 0);

	if (cow.pages + shm.pages) {
		pid_t parent = getpid();

		fflush(NULL);
		pid = fork();
		if (pid < 0) {
			fprintf(stderr, "chaosload: fork: %s\n", strerror(errno));
			return EXIT_USAGE;
		}
		if (!pid) {
			/* The parent's death (SIGBUS, OOM) ends the child too. */
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != parent)
				_exit(EXIT_CHILD);
			munmap(owned_base, owned_bytes);
			owned_base = NULL;
			_exit(child_main());
		}
		child_pid = pid;
	}

	per = owned_pages / o.threads;
	for (unsigned int i = 0; i < o.threads; i++) {
		struct worker *wk = &workers[i];
		size_t first = i * per;

		wk->id = i;
		wk->c = &parent_counts;
		wk->own = (struct region){ owned_base + first * PATTERN_PAGE_SIZE,
					   i == o.threads - 1 ? owned_pages - first : per, first, "owned" };
		wk->gen = gens + first;
		wk->rng = pattern_mix(o.seed ^ (0x7417ull + i)) | 1;
		errno = pthread_create(&wk->tid, NULL, worker_main, wk);
		if (errno) {
			fprintf(stderr, "chaosload: pthread_create: %s\n", strerror(errno));
			if (child_pid > 0)
				kill(child_pid, SIGKILL);
			return EXIT_USAGE;
		}
	}

	/* The fill. */
	while (atomic_load(&threads_filled) < (int)o.threads)
		usleep(POLL_US);
	printf("chaosload: filled in %.2f s\n", now() - t0);
	fflush(stdout);
	if (o.ready_file) {
		FILE *f = fopen(o.ready_file, "w");

		if (f)
			fclose(f);
	}

	/* The loop runs in the threads; this one watches the clock. */
	t0 = now();
	deadline = t0 + o.seconds;
	next_progress = t0 + o.progress_s;
	rc = EXIT_OK;
	while (now() < deadline) {
		int sf = stop_file_exists();

		if (sf) {
			if (sf < 0)
				rc = EXIT_UNREADABLE;
			break;
		}
		if (child_pid > 0 && !child_done && waitpid(child_pid, &st, WNOHANG) == child_pid) {
			child_done = true;
			child_rc = child_verdict(st);
			fprintf(stderr, "chaosload: the child ended early: %s\n",
				verdict_text(child_rc));
		}
		if (now() >= next_progress) {
			progress(t0);
			next_progress += o.progress_s;
		}
		usleep(POLL_US);
	}
	atomic_store(&stop_threads, 1);
	atomic_store(&ctl->stop, 1);
	for (unsigned int i = 0; i < o.threads; i++)
		pthread_join(workers[i].tid, NULL);
	if (child_pid > 0 && !child_done) {
		if (waitpid(child_pid, &st, 0) == child_pid) {
			child_rc = child_verdict(st);
		} else {
			fprintf(stderr, "chaosload: waitpid: %s\n", strerror(errno));
			child_rc = EXIT_CHILD;
		}
	}

	if (atomic_load(&parent_counts.mismatches) || child_rc == EXIT_MISMATCH)
		rc = EXIT_MISMATCH;
	else if (rc == EXIT_OK && child_rc)
		rc = child_rc;
	getrusage(RUSAGE_SELF, &ru);
	printf("chaosload: done: %u threads, %lu MiB (%lu shared), %.0f s: verified %llu pages, "
	       "rewritten %llu, shared verified %llu by the parent and %llu by the child, "
	       "major faults %ld, mismatches %llu in the parent and %llu in the child: %s\n",
	       o.threads, o.mib, o.shared_mib, now() - t0,
	       (unsigned long long)atomic_load(&parent_counts.verified),
	       (unsigned long long)atomic_load(&parent_counts.rewritten),
	       (unsigned long long)atomic_load(&parent_counts.shared_verified),
	       (unsigned long long)atomic_load(&ctl->child.verified), ru.ru_majflt,
	       (unsigned long long)atomic_load(&parent_counts.mismatches),
	       (unsigned long long)atomic_load(&ctl->child.mismatches), verdict_text(rc));
	return rc;
}
