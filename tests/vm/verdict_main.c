// SPDX-License-Identifier: GPL-2.0
/*
 * rswap-vm-verdict: judge one guest run from its console and results logs.
 *
 * Exit status: 0 passed, 1 failed, 77 every check skipped (CTest's skip
 * code), 2 bad usage or unreadable logs.
 */
#include "logcheck.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

/* Console lines shown when a guest did not finish. */
#define TAIL_LINES 30
#define TAIL_LINE_MAX 240

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: rswap-vm-verdict --console FILE --results FILE [options]\n"
		"Judge one VM scenario run: every reported check must pass and the\n"
		"kernel must print no warning, BUG, oops, panic, hung task or stall, and\n"
		"(debug kernel) no lockdep, KASAN, KFENCE or debugobjects report.\n"
		"\n"
		"  --console FILE     the guest's console log (kernel and scenario output)\n"
		"  --results FILE     the guest's results channel log\n"
		"  --name NAME        the run's name, prefixed to every line (default: vm)\n"
		"  --timed-out SECS   the harness killed the guest after SECS seconds\n"
		"  -h, --help         this text\n"
		"\n"
		"Exit status: 0 passed, 1 failed, 77 all checks skipped, 2 usage error.\n");
}

static void print_tail(const char *name, const char *path)
{
	static char ring[TAIL_LINES][TAIL_LINE_MAX];
	char buf[TAIL_LINE_MAX];
	unsigned int n = 0, i;
	FILE *f = fopen(path, "r");

	if (!f)
		return;
	while (fgets(buf, sizeof(buf), f)) {
		buf[strcspn(buf, "\r\n")] = '\0';
		memcpy(ring[n % TAIL_LINES], buf, sizeof(buf));
		n++;
	}
	fclose(f);
	printf("%s: last %u lines of %s:\n", name, n < TAIL_LINES ? n : TAIL_LINES, path);
	for (i = n > TAIL_LINES ? n - TAIL_LINES : 0; i < n; i++)
		printf("%s: | %s\n", name, ring[i % TAIL_LINES]);
}

static int feed(const char *path, int (*fn)(struct lc_verdict *, FILE *),
		struct lc_verdict *v, bool required)
{
	FILE *f = fopen(path, "r");
	int ret;

	if (!f) {
		if (!required && errno == ENOENT)
			return 0;
		fprintf(stderr, "rswap-vm-verdict: %s: %s\n", path, strerror(errno));
		return -1;
	}
	ret = fn(v, f);
	if (ret)
		fprintf(stderr, "rswap-vm-verdict: reading %s: %s\n", path, strerror(errno));
	fclose(f);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "console", required_argument, NULL, 'c' },
		{ "results", required_argument, NULL, 'r' },
		{ "name", required_argument, NULL, 'n' },
		{ "timed-out", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	static struct lc_verdict v;
	const char *console = NULL, *results = NULL, *name = "vm";
	long timed_out = 0;
	unsigned int i;
	enum lc_outcome outcome;
	int opt;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			console = optarg;
			break;
		case 'r':
			results = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 't': {
			char *end;

			timed_out = strtol(optarg, &end, 10);
			if (*end || timed_out <= 0) {
				fprintf(stderr, "rswap-vm-verdict: --timed-out wants seconds, got '%s'\n",
					optarg);
				return 2;
			}
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!console || !results || optind != argc) {
		usage(stderr);
		return 2;
	}

	lc_init(&v);
	if (feed(console, lc_console_file, &v, true) ||
	    feed(results, lc_results_file, &v, false))
		return 2;

	for (i = 0; i < v.n_checks && i < LC_CHECKS_MAX; i++) {
		const struct lc_check *c = &v.checks[i];
		static const char *const word[] = { "PASS", "FAIL", "SKIP" };

		printf("%s: %s %s%s%s\n", name, word[c->status], c->name,
		       c->reason[0] ? ": " : "", c->reason);
	}
	if (v.n_checks > LC_CHECKS_MAX)
		printf("%s: ... %u more checks not listed\n", name, v.n_checks - LC_CHECKS_MAX);
	for (i = 0; i < v.n_reports && i < LC_REPORTS_MAX; i++)
		printf("%s: FAIL kernel %s (console line %u): %s\n", name,
		       lc_kind_name(v.reports[i].kind), v.reports[i].line, v.reports[i].text);
	if (v.n_reports > LC_REPORTS_MAX)
		printf("%s: FAIL ... %u more kernel reports\n", name, v.n_reports - LC_REPORTS_MAX);
	for (i = 0; i < v.n_allowed && i < LC_ALLOWED_MAX; i++)
		printf("%s: ALLOWED kernel %s (console line %u): %s -- %s\n", name,
		       lc_kind_name(v.allowed[i].report.kind), v.allowed[i].report.line,
		       v.allowed[i].report.text, v.allowed[i].reason);
	if (v.n_allowed > LC_ALLOWED_MAX)
		printf("%s: ALLOWED ... %u more\n", name, v.n_allowed - LC_ALLOWED_MAX);
	if (v.n_allowed && v.lockdep_off_line)
		printf("%s: NOTE the kernel turned lock debugging off at console line %u "
		       "(an allowed report tainted it): lockdep checked nothing after it\n",
		       name, v.lockdep_off_line);
	for (i = 0; i < v.n_allowed && i < LC_ALLOWED_MAX; i++) {
		if (v.allowed[i].report.kind == LC_KASAN && !v.kasan_multi_shot) {
			printf("%s: NOTE KASAN reports only its first bug (no kasan_multi_shot): "
			       "after the allowed one at console line %u it reported nothing\n",
			       name, v.allowed[i].report.line);
			break;
		}
	}
	if (v.n_malformed)
		printf("%s: FAIL %u malformed lines on the results channel\n", name, v.n_malformed);

	if (timed_out) {
		printf("%s: FAIL guest timed out after %ld s and was killed\n", name, timed_out);
		print_tail(name, console);
	} else if (!v.ended) {
		printf("%s: FAIL guest stopped before the scenario finished%s\n", name,
		       v.begun ? "" : " (the scenario never started)");
		print_tail(name, console);
	} else if (v.exit_status) {
		printf("%s: FAIL scenario script exited with status %d\n", name, v.exit_status);
	} else if (!v.n_checks) {
		printf("%s: FAIL scenario reported no checks\n", name);
	}

	outcome = lc_outcome(&v);
	if (timed_out)
		outcome = LC_OUTCOME_FAILED;
	printf("%s: %s: %u passed, %u failed, %u skipped, %u kernel reports, %u allowed\n", name,
	       outcome == LC_OUTCOME_PASSED ? "PASSED" :
	       outcome == LC_OUTCOME_SKIPPED ? "SKIPPED" : "FAILED",
	       v.n_pass, v.n_fail, v.n_skip, v.n_reports, v.n_allowed);
	switch (outcome) {
	case LC_OUTCOME_PASSED:
		return 0;
	case LC_OUTCOME_SKIPPED:
		return 77;
	default:
		return 1;
	}
}
