/* SPDX-License-Identifier: GPL-2.0 */
/*
 * logcheck: the VM harness's verdict on one guest run.
 *
 * A guest run leaves two logs:
 *   - the console (ttyS0): the kernel's messages and the scenario's output;
 *   - the results channel (ttyS1), written only by the scenario library:
 *       RSWAP-BEGIN <scenario> <kernel>
 *       PASS <check>
 *       FAIL <check>: <reason>
 *       SKIP <check>: <reason>
 *       RSWAP-END <exit status of the scenario script>
 *
 * A run passes only when the scenario finished, every check it reported
 * passed (at least one check ran), and the kernel printed no report of a
 * problem: warning, BUG, oops, panic, hung task, RCU stall, soft lockup,
 * allocation failure, UBSAN, or a userspace crash it logged; on the debug
 * kernel also a lockdep report (circular or recursive locking, inconsistent
 * lock state, suspicious RCU usage, a lock held on return to user space,
 * ...), a sleep in atomic context (might_sleep), a KASAN or KFENCE report
 * and a debugobjects (ODEBUG) report.
 *
 * A few reports are allowed: known bugs of kernel code that is not ours,
 * each matched exactly (report line, module, and the line after it) and
 * listed with its reason in logcheck.c. They are kept in the verdict as
 * allowed, not as reports, and do not fail the run.
 */
#ifndef RSWAP_LOGCHECK_H
#define RSWAP_LOGCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum lc_kind {
	LC_WARNING,
	LC_BUG,
	LC_OOPS,
	LC_PANIC,
	LC_HUNG_TASK,
	LC_RCU_STALL,
	LC_SOFT_LOCKUP,
	LC_ALLOC_FAILURE,
	LC_UBSAN,
	LC_USER_CRASH,
	LC_LOCKDEP,
	LC_ATOMIC_SLEEP,
	LC_KASAN,
	LC_KFENCE,
	LC_DEBUGOBJECTS,
	LC_KIND_COUNT
};

/* Kernel reports kept for the summary; more are counted, not kept. */
#define LC_REPORTS_MAX 16
/* Report text kept per line, enough for a WARNING's "at file:line func". */
#define LC_TEXT_MAX 200
/* Allowed reports kept; more are counted, not kept. */
#define LC_ALLOWED_MAX 8
/* Checks kept from the results channel; more are counted, not kept. */
#define LC_CHECKS_MAX 256
#define LC_NAME_MAX 96

struct lc_report {
	enum lc_kind kind;
	unsigned int line;		/* 1-based line in the console log */
	char text[LC_TEXT_MAX];		/* the line, timestamp removed */
};

struct lc_allowed {
	struct lc_report report;
	const char *reason;		/* why it does not fail the run */
};

enum lc_status { LC_PASS, LC_FAIL, LC_SKIP };

struct lc_check {
	enum lc_status status;
	char name[LC_NAME_MAX];
	char reason[LC_TEXT_MAX];	/* empty for PASS */
};

struct lc_verdict {
	/* console */
	struct lc_report reports[LC_REPORTS_MAX];
	unsigned int n_reports;		/* all found, may exceed LC_REPORTS_MAX */
	struct lc_allowed allowed[LC_ALLOWED_MAX];
	unsigned int n_allowed;		/* all found, may exceed LC_ALLOWED_MAX */
	/*
	 * An allowed report whose next line is still to come: until that line
	 * confirms it, it fails the run (the end of the log does not confirm).
	 */
	bool allow_pending;
	unsigned int allow_pending_rule;	/* index in logcheck.c's list */
	struct lc_report allow_pending_report;
	/*
	 * Console line where the kernel turned lock debugging off because a
	 * report tainted it ("Disabling lock debugging due to kernel taint"),
	 * 0 if it did not: after an allowed report that line means lockdep saw
	 * nothing from there on.
	 */
	unsigned int lockdep_off_line;
	/* booted with kasan_multi_shot: KASAN reports every bug, not the first */
	bool kasan_multi_shot;
	/* results channel */
	struct lc_check checks[LC_CHECKS_MAX];
	unsigned int n_checks;		/* all found, may exceed LC_CHECKS_MAX */
	unsigned int n_pass, n_fail, n_skip;
	unsigned int n_malformed;	/* results lines that parse as nothing */
	bool begun;			/* RSWAP-BEGIN seen */
	bool ended;			/* RSWAP-END seen */
	int exit_status;		/* from RSWAP-END */
};

void lc_init(struct lc_verdict *v);

/*
 * Look at one console line (without its newline). Returns true when it is a
 * kernel report of a problem, which is then recorded in @v.
 */
bool lc_console_line(struct lc_verdict *v, const char *line, unsigned int lineno);

/* Take one results-channel line (without its newline). */
void lc_results_line(struct lc_verdict *v, const char *line);

/*
 * Feed whole files; return -1 with errno set on a read error. The end of
 * the console file turns an allowed report still pending into a report.
 */
int lc_console_file(struct lc_verdict *v, FILE *f);
int lc_results_file(struct lc_verdict *v, FILE *f);

enum lc_outcome {
	LC_OUTCOME_PASSED,
	LC_OUTCOME_FAILED,
	LC_OUTCOME_SKIPPED,	/* finished cleanly, but every check skipped */
};

enum lc_outcome lc_outcome(const struct lc_verdict *v);

const char *lc_kind_name(enum lc_kind kind);

#endif
