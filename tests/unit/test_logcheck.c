// SPDX-License-Identifier: GPL-2.0
/*
 * Description: the VM harness's verdict. Real console logs captured from the
 * 6.1 and 6.12 test guests (fixtures/console-*.log: a clean smoke run, and
 * the self-test module's warning, NULL-pointer oops and hung task) must give
 * exactly the reports they hold and no others; results-channel lines must
 * give the right outcome for passes, failures, skips, truncation and junk.
 * The debug kernel's reports (fixtures/console-debug-*.log, in the formats
 * 6.1 prints them: lockdep, suspicious RCU usage, a sleep in atomic
 * context, KASAN, KFENCE, debugobjects) are each reported under their own
 * kind; the one allowed bug (rdma_rxe's rxe_mr_copy read, as KASAN and as
 * KFENCE report it) is kept apart and passes, and the same function writing
 * out of bounds does not. The lockdep and KFENCE fixtures are captured from
 * the debug kernel's kmod run; the others follow 6.1's formats.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "logcheck.h"

static struct lc_verdict v;

static void scan_fixture(const char *name)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "fixtures/%s", name);
	f = fopen(path, "r");
	assert_non_null(f);
	lc_init(&v);
	assert_int_equal(lc_console_file(&v, f), 0);
	fclose(f);
}

static unsigned int count_kind(enum lc_kind kind)
{
	unsigned int i, n = 0;

	for (i = 0; i < v.n_reports && i < LC_REPORTS_MAX; i++)
		n += v.reports[i].kind == kind;
	return n;
}

static void clean_boot_has_no_reports(void **state)
{
	(void)state;
	scan_fixture("console-6.1-smoke.log");
	assert_int_equal(v.n_reports, 0);
	scan_fixture("console-6.12-smoke.log");
	assert_int_equal(v.n_reports, 0);
}

static void check_warn(const char *fixture)
{
	scan_fixture(fixture);
	assert_int_equal(v.n_reports, 1);
	assert_int_equal(v.reports[0].kind, LC_WARNING);
	assert_non_null(strstr(v.reports[0].text, "rswap_selftest_init"));
	/* the timestamp is cut off, the message kept from its start */
	assert_true(strncmp(v.reports[0].text, "WARNING: CPU: ", 14) == 0);
	assert_true(v.reports[0].line > 300);
}

static void warning_is_reported(void **state)
{
	(void)state;
	check_warn("console-6.1-selftest-warn.log");
	check_warn("console-6.12-selftest-warn.log");
}

static void check_oops(const char *fixture)
{
	scan_fixture(fixture);
	assert_int_equal(count_kind(LC_BUG), 1);
	assert_int_equal(count_kind(LC_OOPS), 1);
	assert_int_equal(v.n_reports, 2);
	assert_non_null(strstr(v.reports[0].text, "NULL pointer dereference"));
}

static void null_deref_oops_is_reported(void **state)
{
	(void)state;
	check_oops("console-6.1-selftest-oops.log");
	check_oops("console-6.12-selftest-oops.log");
}

static void check_hung(const char *fixture)
{
	unsigned int i;

	scan_fixture(fixture);
	assert_true(v.n_reports >= 1);
	for (i = 0; i < v.n_reports; i++) {
		assert_int_equal(v.reports[i].kind, LC_HUNG_TASK);
		assert_non_null(strstr(v.reports[i].text, "rswap_hung"));
	}
}

static void hung_task_is_reported(void **state)
{
	(void)state;
	check_hung("console-6.1-selftest-hung.log");
	check_hung("console-6.12-selftest-hung.log");
}

struct line_case {
	const char *line;
	bool report;
	enum lc_kind kind;
};

static void single_lines_are_classified(void **state)
{
	static const struct line_case cases[] = {
		/* the scenario's own output is not the kernel's */
		{ "BUG: this is just a script echoing", false, 0 },
		{ "rswap-vm: FAIL x: WARNING: said by a test", false, 0 },
		{ "[   12.345678] rswap: loaded", false, 0 },
		{ "[   12.345678] Out of memory: Killed process 77 (fill)", false, 0 },
		/* a stamp with the wrong shape is not a stamp */
		{ "[12.34] BUG: not a kernel stamp", false, 0 },
		{ "[   12.345678] WARNING: CPU: 1 PID: 9 at mm/page_alloc.c:5 x+0x1/0x2",
		  true, LC_WARNING },
		{ "[    3.000001] kernel BUG at mm/swapfile.c:1234!", true, LC_BUG },
		{ "[    3.000001] list_del corruption. next->prev should be ...",
		  true, LC_BUG },
		{ "[    3.000001] invalid opcode: 0000 [#1] PREEMPT SMP NOPTI",
		  true, LC_OOPS },
		{ "[    3.000001] general protection fault, probably for non-canonical address",
		  true, LC_OOPS },
		{ "[  100.000000] Kernel panic - not syncing: System is deadlocked on memory",
		  true, LC_PANIC },
		{ "[   50.000000] watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [kworker/1:1:40]",
		  true, LC_SOFT_LOCKUP },
		{ "[   50.000000] rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:",
		  true, LC_RCU_STALL },
		{ "[   50.000000] kworker/u4:2: page allocation failure: order:0, mode:0x820(GFP_ATOMIC)",
		  true, LC_ALLOC_FAILURE },
		{ "[   50.000000] UBSAN: shift-out-of-bounds in drivers/x.c:10:5", true, LC_UBSAN },
		{ "[   50.000000] traps: fill[88] general protection fault ip:401000 sp:7ffd error:0",
		  true, LC_USER_CRASH },
		{ "[   50.000000] fill[88]: segfault at 0 ip 0000000000401000 sp 00007ffd error 6",
		  true, LC_USER_CRASH },
		/* the kernel cutting into a half-written line of the scenario */
		{ "rswap-vm: PASS so[   7.123456] BUG: unable to handle page fault for address: 10",
		  true, LC_BUG },
		/* the debug kernel's checkers */
		{ "[   60.000000] WARNING: possible recursive locking detected", true, LC_LOCKDEP },
		{ "[   60.000000] WARNING: inconsistent lock state", true, LC_LOCKDEP },
		{ "[   60.000000] WARNING: lock held when returning to user space!",
		  true, LC_LOCKDEP },
		{ "[   60.000000] WARNING: HARDIRQ-safe -> HARDIRQ-unsafe lock order detected",
		  true, LC_LOCKDEP },
		{ "[   60.000000] INFO: trying to register non-static key.", true, LC_LOCKDEP },
		{ "[   60.000000] BUG: scheduling while atomic: kworker/0:1/14/0x00000002",
		  true, LC_ATOMIC_SLEEP },
		{ "[   60.000000] ODEBUG: Out of memory. ODEBUG disabled", true, LC_DEBUGOBJECTS },
		{ "[   60.000000] ODEBUG: selftest passed", false, 0 },
		{ "[   60.000000] INFO: lockdep is turned off.", false, 0 },
		{ "[   60.000000] Disabling lock debugging due to kernel taint", false, 0 },
		/* CRLF from the serial port */
		{ "[    1.000000] Oops: 0002 [#1] PREEMPT SMP NOPTI\r", true, LC_OOPS },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool got;

		lc_init(&v);
		got = lc_console_line(&v, cases[i].line, 1);
		if (got != cases[i].report)
			fail_msg("line %zu '%s': reported %d, want %d", i, cases[i].line, got,
				 cases[i].report);
		if (got) {
			assert_int_equal(v.reports[0].kind, cases[i].kind);
			assert_null(strchr(v.reports[0].text, '\r'));
		}
	}
}

static void reports_beyond_the_cap_are_counted(void **state)
{
	unsigned int i;

	(void)state;
	lc_init(&v);
	for (i = 0; i < LC_REPORTS_MAX + 5; i++)
		lc_console_line(&v, "[    1.000000] BUG: sleeping function called", i + 1);
	assert_int_equal(v.n_reports, LC_REPORTS_MAX + 5);
	assert_int_equal(v.reports[LC_REPORTS_MAX - 1].line, LC_REPORTS_MAX);
	assert_int_equal(lc_outcome(&v), LC_OUTCOME_FAILED);
}

static void long_lines_are_judged_once(void **state)
{
	static char text[3 * 4096 + 64];
	FILE *f;

	(void)state;
	memset(text, 'x', sizeof(text));
	memcpy(text, "[    1.000000] WARNING: CPU: 0 PID: 1 at a.c:1 f", 47);
	strcpy(text + sizeof(text) - 3, "\n");
	f = fmemopen(text, strlen(text), "r");
	assert_non_null(f);
	lc_init(&v);
	assert_int_equal(lc_console_file(&v, f), 0);
	fclose(f);
	assert_int_equal(v.n_reports, 1);
	assert_int_equal(v.reports[0].line, 1);
	assert_true(strlen(v.reports[0].text) < LC_TEXT_MAX);
}

static enum lc_outcome results(const char *const *lines)
{
	lc_init(&v);
	for (; *lines; lines++)
		lc_results_line(&v, *lines);
	return lc_outcome(&v);
}

static void results_give_the_outcome(void **state)
{
	static const char *const ok[] = {
		"RSWAP-BEGIN smoke 6.1.0-56-amd64\r", "PASS a", "PASS b\r", "RSWAP-END 0\r", NULL
	};
	static const char *const failed[] = {
		"RSWAP-BEGIN s k", "PASS a", "FAIL b: expected 1, got 2", "RSWAP-END 0", NULL
	};
	static const char *const unfinished[] = { "RSWAP-BEGIN s k", "PASS a", NULL };
	static const char *const bad_exit[] = { "RSWAP-BEGIN s k", "PASS a", "RSWAP-END 3", NULL };
	static const char *const no_checks[] = { "RSWAP-BEGIN s k", "RSWAP-END 0", NULL };
	static const char *const all_skipped[] = {
		"RSWAP-BEGIN s k", "SKIP a: no NVMe target in this kernel", "RSWAP-END 0", NULL
	};
	static const char *const junk[] = { "RSWAP-BEGIN s k", "PASS a", "garbage", "RSWAP-END 0",
					    NULL };
	static const char *const bad_end[] = { "PASS a", "RSWAP-END zero", NULL };

	(void)state;
	assert_int_equal(results(ok), LC_OUTCOME_PASSED);
	assert_int_equal(v.n_pass, 2);
	assert_string_equal(v.checks[1].name, "b");

	assert_int_equal(results(failed), LC_OUTCOME_FAILED);
	assert_int_equal(v.n_fail, 1);
	assert_string_equal(v.checks[1].name, "b");
	assert_string_equal(v.checks[1].reason, "expected 1, got 2");

	assert_int_equal(results(unfinished), LC_OUTCOME_FAILED);
	assert_false(v.ended);
	assert_int_equal(results(bad_exit), LC_OUTCOME_FAILED);
	assert_int_equal(v.exit_status, 3);
	assert_int_equal(results(no_checks), LC_OUTCOME_FAILED);
	assert_int_equal(results(all_skipped), LC_OUTCOME_SKIPPED);
	assert_string_equal(v.checks[0].reason, "no NVMe target in this kernel");
	assert_int_equal(results(junk), LC_OUTCOME_FAILED);
	assert_int_equal(v.n_malformed, 1);
	assert_int_equal(results(bad_end), LC_OUTCOME_FAILED);
	assert_false(v.ended);
}

static void kernel_report_fails_passing_checks(void **state)
{
	static const char *const ok[] = { "RSWAP-BEGIN s k", "PASS a", "RSWAP-END 0", NULL };

	(void)state;
	assert_int_equal(results(ok), LC_OUTCOME_PASSED);
	lc_console_line(&v, "[    2.000000] WARNING: CPU: 0 PID: 1 at x.c:1 f+0x0/0x0", 10);
	assert_int_equal(lc_outcome(&v), LC_OUTCOME_FAILED);
}

/* One debug report: exactly one report of @kind, whose text starts with @head. */
static void check_debug(const char *fixture, enum lc_kind kind, const char *head)
{
	scan_fixture(fixture);
	if (v.n_reports != 1)
		fail_msg("%s: %u reports, want 1", fixture, v.n_reports);
	assert_int_equal(v.reports[0].kind, kind);
	if (strncmp(v.reports[0].text, head, strlen(head)))
		fail_msg("%s: report '%s' does not start with '%s'", fixture,
			 v.reports[0].text, head);
	assert_int_equal(v.n_allowed, 0);
}

static void lockdep_reports_are_named(void **state)
{
	(void)state;
	check_debug("console-debug-lockdep.log", LC_LOCKDEP,
		    "WARNING: possible circular locking dependency detected");
	assert_int_equal(v.reports[0].line, 3);
	assert_non_null(strstr(v.reports[0].text, "circular"));
	assert_string_equal(lc_kind_name(LC_LOCKDEP), "lockdep report");
	check_debug("console-debug-rcu.log", LC_LOCKDEP, "WARNING: suspicious RCU usage");
}

static void sleep_in_atomic_is_reported(void **state)
{
	(void)state;
	check_debug("console-debug-sleep.log", LC_ATOMIC_SLEEP,
		    "BUG: sleeping function called from invalid context at kernel/locking/mutex.c");
}

static void kasan_and_kfence_are_reported(void **state)
{
	(void)state;
	check_debug("console-debug-kasan.log", LC_KASAN,
		    "BUG: KASAN: use-after-free in rswap_slab_put+");
	check_debug("console-debug-kfence.log", LC_KFENCE,
		    "BUG: KFENCE: out-of-bounds read in rswap_map_lookup+");
}

static void debugobjects_are_reported(void **state)
{
	(void)state;
	/* ODEBUG's own line, then the WARN it comes in */
	scan_fixture("console-debug-odebug.log");
	assert_int_equal(v.n_reports, 2);
	assert_int_equal(v.reports[0].kind, LC_DEBUGOBJECTS);
	assert_non_null(strstr(v.reports[0].text, "object type: work_struct"));
	assert_int_equal(v.reports[1].kind, LC_WARNING);
}

static void rxe_mr_copy_read_is_allowed(void **state)
{
	static const char *const ok[] = { "RSWAP-BEGIN s k", "PASS a", "RSWAP-END 0", NULL };

	(void)state;
	assert_int_equal(results(ok), LC_OUTCOME_PASSED);
	{
		FILE *f = fopen("fixtures/console-debug-kasan-rxe.log", "r");

		assert_non_null(f);
		assert_int_equal(lc_console_file(&v, f), 0);
		fclose(f);
	}
	assert_int_equal(v.n_reports, 0);
	assert_int_equal(v.n_allowed, 1);
	assert_int_equal(v.allowed[0].report.kind, LC_KASAN);
	assert_int_equal(v.allowed[0].report.line, 3);
	assert_non_null(strstr(v.allowed[0].report.text, "rxe_mr_copy+"));
	assert_non_null(strstr(v.allowed[0].reason, "rxe_mr_copy"));
	/* the report tainted the kernel, which turned lockdep off */
	assert_int_equal(v.lockdep_off_line, 25);
	assert_int_equal(lc_outcome(&v), LC_OUTCOME_PASSED);
}

/* @fixture holds one report, allowed: of @kind, on console line @line. */
static void check_allowed(const char *fixture, enum lc_kind kind, unsigned int line)
{
	scan_fixture(fixture);
	assert_int_equal(v.n_reports, 0);
	assert_int_equal(v.n_allowed, 1);
	assert_int_equal(v.allowed[0].report.kind, kind);
	assert_int_equal(v.allowed[0].report.line, line);
}

static void rxe_mr_copy_kfence_read_is_allowed(void **state)
{
	(void)state;
	check_allowed("console-debug-kfence-rxe.log", LC_KFENCE, 1);
}

static void rxe_mr_copy_write_is_not_allowed(void **state)
{
	(void)state;
	check_debug("console-debug-kasan-rxe-write.log", LC_KASAN,
		    "BUG: KASAN: slab-out-of-bounds in rxe_mr_copy+");
}

static void rxe_completer_error_warn_is_allowed(void **state)
{
	(void)state;
	check_allowed("console-6.1-rxe-comp-warn.log", LC_WARNING, 3);
	assert_non_null(strstr(v.allowed[0].reason, "checksums"));

	/* rxe_comp.c's other WARN, the same line in another module, or no
	 * rdma_rxe among the modules: reports */
	lc_init(&v);
	assert_true(lc_console_line(&v, "[    1.000000] WARNING: CPU: 0 PID: 7 at "
		"drivers/infiniband/sw/rxe/rxe_comp.c:251 rxe_completer+0x1c/0xd60 [rdma_rxe]", 1));
	assert_true(lc_console_line(&v, "[    1.000000] WARNING: CPU: 0 PID: 7 at "
		"drivers/infiniband/sw/rxe/rxe_comp.c:756 rxe_completer+0x86c/0xd60 [rswap]", 2));
	assert_int_equal(v.n_reports, 2);
	lc_init(&v);
	assert_false(lc_console_line(&v, "[    1.000000] WARNING: CPU: 0 PID: 7 at "
		"drivers/infiniband/sw/rxe/rxe_comp.c:756 rxe_completer+0x86c/0xd60 [rdma_rxe]", 1));
	lc_console_line(&v, "[    1.000001] Modules linked in: rswap(OE) ib_core", 2);
	assert_int_equal(v.n_allowed, 0);
	assert_int_equal(v.n_reports, 1);
}

static void allowed_report_needs_its_next_line(void **state)
{
	static const char head[] =
		"[   44.801202] BUG: KASAN: slab-out-of-bounds in rxe_mr_copy+0x2c5/0x330 [rdma_rxe]";
	static const char *const ok[] = { "RSWAP-BEGIN s k", "PASS a", "RSWAP-END 0", NULL };
	FILE *f;

	(void)state;
	/* fed line by line: pending until the next kernel line */
	assert_int_equal(results(ok), LC_OUTCOME_PASSED);
	assert_false(lc_console_line(&v, head, 1));
	assert_true(v.allow_pending);
	assert_int_equal(lc_outcome(&v), LC_OUTCOME_FAILED);
	/* the scenario's own output does not settle it */
	lc_console_line(&v, "rswap-vm: PASS b", 2);
	assert_true(v.allow_pending);
	lc_console_line(&v, "[   44.801303] Read of size 8 at addr ffff888009b2e4c8 by task x/1", 3);
	assert_false(v.allow_pending);
	assert_int_equal(v.n_allowed, 1);
	assert_int_equal(lc_outcome(&v), LC_OUTCOME_PASSED);

	/* the log ending after the headline: a report */
	f = fmemopen((void *)head, strlen(head), "r");
	assert_non_null(f);
	lc_init(&v);
	assert_int_equal(lc_console_file(&v, f), 0);
	fclose(f);
	assert_int_equal(v.n_allowed, 0);
	assert_int_equal(v.n_reports, 1);
	assert_int_equal(v.reports[0].kind, LC_KASAN);

	/* the same function in another module, or another bug type: reports */
	lc_init(&v);
	assert_true(lc_console_line(&v,
		"[    1.000000] BUG: KASAN: slab-out-of-bounds in rxe_mr_copy+0x2c5/0x330 [rswap]", 1));
	assert_true(lc_console_line(&v,
		"[    1.000000] BUG: KASAN: use-after-free in rxe_mr_copy+0x2c5/0x330 [rdma_rxe]", 2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(clean_boot_has_no_reports),
		cmocka_unit_test(warning_is_reported),
		cmocka_unit_test(null_deref_oops_is_reported),
		cmocka_unit_test(hung_task_is_reported),
		cmocka_unit_test(single_lines_are_classified),
		cmocka_unit_test(reports_beyond_the_cap_are_counted),
		cmocka_unit_test(long_lines_are_judged_once),
		cmocka_unit_test(results_give_the_outcome),
		cmocka_unit_test(kernel_report_fails_passing_checks),
		cmocka_unit_test(lockdep_reports_are_named),
		cmocka_unit_test(sleep_in_atomic_is_reported),
		cmocka_unit_test(kasan_and_kfence_are_reported),
		cmocka_unit_test(debugobjects_are_reported),
		cmocka_unit_test(rxe_mr_copy_read_is_allowed),
		cmocka_unit_test(rxe_mr_copy_kfence_read_is_allowed),
		cmocka_unit_test(rxe_mr_copy_write_is_not_allowed),
		cmocka_unit_test(rxe_completer_error_warn_is_allowed),
		cmocka_unit_test(allowed_report_needs_its_next_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
