// SPDX-License-Identifier: GPL-2.0
/*
 * rswap-swapfill: a workload that makes the kernel swap, and checks every
 * page it gets back.
 *
 * It fills --mib MiB of anonymous memory page by page: --zero-pct of the
 * pages all zero, --same-pct filled with one repeated non-zero word (a
 * 32-bit one, or for one in four a 64-bit one: see same_word), the
 * rest patterned (every word a function of seed, page and word: see
 * page_pattern.h). Run under a cgroup memory.max smaller than that, most
 * pages go to swap. Then it reads every page back and compares all of it.
 * With --passes N it rewrites everything with a new seed and checks again,
 * N times. Exit 0 only if every page of every pass was intact.
 *
 * With --count-lost it has the kernel copy each page out
 * (process_vm_readv(2) on itself) instead of touching it: a page the kernel
 * cannot bring back (its swap device failed the read) fails the copy with
 * EFAULT rather than kill the process with SIGBUS, so a test of a partial
 * loss learns how many pages were lost and that every other page is intact.
 * (Not a pipe: 6.12's pipe_write keeps an empty buffer for each copy that
 * faults, and after 16 of them the next write blocks for ever.)
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "page_pattern.h"
#include "tool_args.h"

#define PROG "rswap-swapfill"

enum kind { KIND_DATA, KIND_ZERO, KIND_SAME };

struct opts {
	unsigned long mib;
	unsigned int zero_pct, same_pct, passes;
	uint64_t seed;
	const char *pause_file;
	const char *ready_file;
	bool touch_hist;
	bool count_lost;
};

/* Pages checked and what became of them, over one pass. */
struct verdict {
	size_t bad;	/* read back, but different */
	size_t lost;	/* could not be read back (EFAULT) */
};

/* First-touch time of each page while verifying: bucket b counts < 2^b us. */
#define TOUCH_BUCKETS 24

static void usage(FILE *f)
{
	fprintf(f,
"usage: rswap-swapfill --mib N [options]\n"
"Fill N MiB of memory with zero, same-filled and patterned pages, then\n"
"read every page back and compare it. Run it under a cgroup memory.max\n"
"below N MiB to push the pages through swap.\n"
"\n"
"  --mib N            memory to fill, in MiB (required)\n"
"  --zero-pct P       percent of pages that are all zero (default 30)\n"
"  --same-pct P       percent filled with one repeated word (default 10): one in\n"
"                     four a 64-bit word a map entry cannot keep, the rest 32-bit\n"
"  --seed S           pattern seed (default 1); pass k uses S + k\n"
"  --passes N         fill-and-verify rounds, each rewriting all (default 1)\n"
"  --ready-file F     create F once the first fill is done\n"
"  --pause-file F     after the first fill, wait until F exists, then verify\n"
"  --touch-hist       time the first touch of each page while verifying pass 1\n"
"                     (a swapped-out page faults then) and print a histogram,\n"
"                     power-of-two microsecond buckets, and the major faults\n"
"  --count-lost       have the kernel copy each page out instead of touching\n"
"                     it, so a page that cannot be read back is counted as lost\n"
"                     (EFAULT) instead of killing the process (SIGBUS); the\n"
"                     pass's line then says how many were lost\n"
"  -h, --help         this text\n"
"\n"
"Exit status: 0 all pages intact, 1 a page differed, 2 bad usage or no memory,\n"
"3 its own memory could not be read back in a system call (EFAULT: a page of\n"
"it was lost while it waited for --pause-file), 4 (--count-lost) pages were\n"
"lost and every page read back was intact (with --count-lost the status is\n"
"also the last line printed); without --count-lost a page of the\n"
"workload that cannot be read back kills it with SIGBUS.\n");
}

static enum kind page_kind(const struct opts *o, uint64_t index)
{
	unsigned int r = (unsigned int)(pattern_mix(index ^ 0x5eedull) % 100);

	if (r < o->zero_pct)
		return KIND_ZERO;
	if (r < o->zero_pct + o->same_pct)
		return KIND_SAME;
	return KIND_DATA;
}

/*
 * One page in four of the same-filled ones repeats a 64-bit word whose
 * halves differ: more than a map entry keeps, so rswap stores it in a slot
 * like a data page. The others repeat one non-zero 32-bit word.
 */
static bool same_is_wide(uint64_t index)
{
	return index % 4 == 3;
}

static uint64_t same_word(uint64_t seed, uint64_t index)
{
	uint64_t v = pattern_mix(seed * 0x100000001b3ull ^ index);
	uint64_t hi = (v >> 32) | 1;

	return hi << 32 | (same_is_wide(index) ? hi ^ 2 : hi);
}

static void fill(uint8_t *mem, size_t pages, const struct opts *o, uint64_t seed)
{
	for (size_t i = 0; i < pages; i++) {
		uint64_t *w = (uint64_t *)(mem + i * PATTERN_PAGE_SIZE);

		switch (page_kind(o, i)) {
		case KIND_ZERO:
			memset(w, 0, PATTERN_PAGE_SIZE);
			break;
		case KIND_SAME: {
			uint64_t v = same_word(seed, i);

			for (size_t k = 0; k < PATTERN_WORDS; k++)
				w[k] = v;
			break;
		}
		case KIND_DATA:
			pattern_fill(w, seed, i);
			break;
		}
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Count the time @w's first word takes to read in @hist. */
static void touch(const uint64_t *w, uint64_t *hist)
{
	double t = now();
	uint64_t us;
	unsigned int b = 0;

	(void)*(const volatile uint64_t *)w;
	us = (uint64_t)((now() - t) * 1e6);
	while (us && b < TOUCH_BUCKETS - 1) {
		us >>= 1;
		b++;
	}
	hist[b]++;
}

/*
 * Copy @page into @copy by process_vm_readv(2) on this process: the kernel
 * reads the page (and swaps it in) for the copy. Returns 0; 1 if the page
 * could not be read back (EFAULT); -1 with errno for anything else. @copy
 * is locked in memory (main's mlockall), so only @page can fault here.
 */
static int copy_by_kernel(const uint8_t *page, uint64_t *copy)
{
	struct iovec local = { .iov_base = copy, .iov_len = PATTERN_PAGE_SIZE };
	struct iovec remote = { .iov_base = (void *)page, .iov_len = PATTERN_PAGE_SIZE };
	ssize_t n = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);

	if (n < 0 && errno == EFAULT)
		return 1;
	if (n != PATTERN_PAGE_SIZE) {
		if (n >= 0)	/* one page, one iovec: all of it or nothing */
			errno = EIO;
		return -1;
	}
	return 0;
}

/*
 * Checks every page; reports the first few bad ones. @by_kernel: have the
 * kernel copy each page out (--count-lost), else touch them.
 */
static int verify(const uint8_t *mem, size_t pages, const struct opts *o, uint64_t seed,
		  uint64_t *hist, bool by_kernel, struct verdict *out)
{
	static uint64_t copy[PATTERN_WORDS];

	*out = (struct verdict){ 0 };
	for (size_t i = 0; i < pages; i++) {
		const uint64_t *w = (const uint64_t *)(mem + i * PATTERN_PAGE_SIZE);
		long at = -1;

		if (by_kernel) {
			int ret = copy_by_kernel(mem + i * PATTERN_PAGE_SIZE, copy);

			if (ret < 0) {
				fprintf(stderr, "swapfill: page %zu: process_vm_readv: %s\n", i,
					strerror(errno));
				return -1;
			}
			if (ret) {
				if (out->lost++ < 5)
					fprintf(stderr, "swapfill: page %zu lost (EFAULT)\n", i);
				continue;
			}
			w = copy;
		} else if (hist) {
			touch(w, hist);
		}

		switch (page_kind(o, i)) {
		case KIND_ZERO:
		case KIND_SAME: {
			uint64_t v = page_kind(o, i) == KIND_ZERO ? 0 : same_word(seed, i);

			for (size_t k = 0; k < PATTERN_WORDS && at < 0; k++)
				if (w[k] != v)
					at = (long)(k * sizeof(uint64_t));
			break;
		}
		case KIND_DATA:
			at = pattern_check(w, seed, i);
			break;
		}
		if (at >= 0 && out->bad++ < 5)
			fprintf(stderr, "swapfill: page %zu (%s) differs at byte %ld\n", i,
				page_kind(o, i) == KIND_DATA ? "data" :
				page_kind(o, i) == KIND_ZERO ? "zero" : "same", at);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "mib", required_argument, NULL, 'm' },
		{ "zero-pct", required_argument, NULL, 'z' },
		{ "same-pct", required_argument, NULL, 's' },
		{ "seed", required_argument, NULL, 'S' },
		{ "passes", required_argument, NULL, 'p' },
		{ "pause-file", required_argument, NULL, 'P' },
		{ "ready-file", required_argument, NULL, 'r' },
		{ "touch-hist", no_argument, NULL, 't' },
		{ "count-lost", no_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .zero_pct = 30, .same_pct = 10, .passes = 1, .seed = 1 };
	uint64_t v;
	size_t pages, total_bad = 0, total_lost = 0;
	uint8_t *mem;
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (tool_parse_u64(PROG, "--mib", optarg, 1u << 20, &v))
				return 2;
			o.mib = (unsigned long)v;
			break;
		case 'z':
			if (tool_parse_u64(PROG, "--zero-pct", optarg, 100, &v))
				return 2;
			o.zero_pct = (unsigned int)v;
			break;
		case 's':
			if (tool_parse_u64(PROG, "--same-pct", optarg, 100, &v))
				return 2;
			o.same_pct = (unsigned int)v;
			break;
		case 'S':
			if (tool_parse_u64(PROG, "--seed", optarg, UINT64_MAX, &v))
				return 2;
			o.seed = v;
			break;
		case 'p':
			if (tool_parse_u64(PROG, "--passes", optarg, 1000, &v) || !v)
				return 2;
			o.passes = (unsigned int)v;
			break;
		case 'P':
			o.pause_file = optarg;
			break;
		case 'r':
			o.ready_file = optarg;
			break;
		case 't':
			o.touch_hist = true;
			break;
		case 'L':
			o.count_lost = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc || !o.mib || o.zero_pct + o.same_pct > 100) {
		fprintf(stderr, "swapfill: %s\n", !o.mib ? "--mib is required" :
			o.zero_pct + o.same_pct > 100 ? "--zero-pct plus --same-pct exceeds 100" :
			"unexpected argument");
		usage(stderr);
		return 2;
	}
	/*
	 * Only the workload's pages may be lost: lock everything else the
	 * program uses now (code, stack, the copy buffer) into memory, before
	 * the workload's mapping exists (MCL_CURRENT: that one stays
	 * swappable).
	 */
	if (o.count_lost && mlockall(MCL_CURRENT)) {
		fprintf(stderr, "swapfill: --count-lost: mlockall: %s\n", strerror(errno));
		return 2;
	}
	pages = o.mib * (1024 * 1024 / PATTERN_PAGE_SIZE);
	mem = mmap(NULL, pages * PATTERN_PAGE_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		fprintf(stderr, "swapfill: mmap %lu MiB: %s\n", o.mib, strerror(errno));
		return 2;
	}
	{
		size_t n[3] = { 0, 0, 0 }, wide = 0;

		for (size_t i = 0; i < pages; i++) {
			n[page_kind(&o, i)]++;
			wide += page_kind(&o, i) == KIND_SAME && same_is_wide(i);
		}
		printf("swapfill: %zu pages: %zu data, %zu zero, %zu same (%zu of them one 64-bit word)\n",
		       pages, n[KIND_DATA], n[KIND_ZERO], n[KIND_SAME], wide);
		fflush(stdout);
	}
	for (unsigned int pass = 0; pass < o.passes; pass++) {
		uint64_t seed = o.seed + pass;
		double t0 = now(), t1, t2;
		struct verdict vd;

		fill(mem, pages, &o, seed);
		t1 = now();
		if (pass == 0 && o.ready_file) {
			FILE *f = fopen(o.ready_file, "w");

			if (f)
				fclose(f);
		}
		if (pass == 0 && o.pause_file) {
			while (access(o.pause_file, F_OK)) {
				/*
				 * EFAULT: the page holding the path (argv) came
				 * back unreadable. A fault in a system call gets
				 * no SIGBUS, so say it here (without the path).
				 */
				if (errno != ENOENT) {
					fprintf(stderr, "swapfill: waiting for the pause file: %s\n",
						strerror(errno));
					return 3;
				}
				usleep(100 * 1000);
			}
		}
		uint64_t hist[TOUCH_BUCKETS] = { 0 };
		bool timed = o.touch_hist && pass == 0;
		struct rusage ru0, ru1;

		getrusage(RUSAGE_SELF, &ru0);
		t2 = now();
		if (verify(mem, pages, &o, seed, timed ? hist : NULL,
			   o.count_lost, &vd))
			return 2;
		printf("swapfill: pass %u: %zu pages (%u%% zero, %u%% same) filled in %.2f s, "
		       "verified in %.2f s: %zu bad", pass + 1, pages, o.zero_pct, o.same_pct,
		       t1 - t0, now() - t2, vd.bad);
		if (o.count_lost)
			printf(", %zu lost", vd.lost);
		printf("\n");
		if (timed) {
			getrusage(RUSAGE_SELF, &ru1);
			printf("swapfill: pass 1: %ld major faults while verifying\n",
			       ru1.ru_majflt - ru0.ru_majflt);
			for (unsigned int b = 0; b < TOUCH_BUCKETS; b++)
				if (hist[b])
					printf("swapfill: touch %s%llu us: %llu\n",
					       b == TOUCH_BUCKETS - 1 ? ">=" : "<",
					       1ULL << (b == TOUCH_BUCKETS - 1 ? b - 1 : b),
					       (unsigned long long)hist[b]);
		}
		fflush(stdout);
		total_bad += vd.bad;
		total_lost += vd.lost;
	}
	munmap(mem, pages * PATTERN_PAGE_SIZE);
	if (o.count_lost) {
		/*
		 * Said on stdout too: a test reading it through a pipe (so that
		 * no file of its own is in the workload's cgroup, where the
		 * log's pages could be lost as well) has no other way to learn
		 * it.
		 */
		printf("swapfill: exit status %d\n", total_bad ? 1 : total_lost ? 4 : 0);
	}
	return total_bad ? 1 : total_lost ? 4 : 0;
}
