// SPDX-License-Identifier: GPL-2.0
/* logcheck: see logcheck.h for the contract. */
#include "logcheck.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A console line longer than this is judged on its first part only. */
#define LC_LINE_MAX 4096

static const char *const kind_names[LC_KIND_COUNT] = {
	[LC_WARNING] = "warning",
	[LC_BUG] = "BUG",
	[LC_OOPS] = "oops",
	[LC_PANIC] = "panic",
	[LC_HUNG_TASK] = "hung task",
	[LC_RCU_STALL] = "RCU stall",
	[LC_SOFT_LOCKUP] = "soft lockup",
	[LC_ALLOC_FAILURE] = "allocation failure",
	[LC_UBSAN] = "UBSAN",
	[LC_USER_CRASH] = "userspace crash",
	[LC_LOCKDEP] = "lockdep report",
	[LC_ATOMIC_SLEEP] = "sleep in atomic context",
	[LC_KASAN] = "KASAN report",
	[LC_KFENCE] = "KFENCE report",
	[LC_DEBUGOBJECTS] = "debugobjects report",
};

/*
 * The headlines of lockdep's reports (kernel/locking/lockdep.c, 6.1 and
 * 6.12). Each is a WARNING: or BUG: line, matched here first so the verdict
 * names the report rather than a bare "warning".
 */
static const char *const lockdep_headlines[] = {
	"WARNING: possible circular locking dependency detected",
	"WARNING: possible recursive locking detected",
	"WARNING: inconsistent lock state",
	"WARNING: possible irq lock inversion dependency detected",
	"WARNING: suspicious RCU usage",
	"WARNING: lock held when returning to user space",
	"WARNING: bad unlock balance detected",
	"WARNING: held lock freed",
	"WARNING: Nested lock was not taken",
	"WARNING: bad contention detected",
	"WARNING: chain_key collision",
	"INFO: trying to register non-static key",
	"[ BUG: Invalid wait context ]",
	"BUG: MAX_LOCK",		/* lockdep ran out of room: it stops checking */
	"BUG: MAX_STACK_TRACE_ENTRIES too low",
	"BUG: key ",
	"BUG: looking up invalid subclass",
};

/*
 * Reports that do not fail a run. Each is a known bug of kernel code that
 * is not ours, matched as narrowly as the report allows: the report line's
 * start and end (the function and its module) and the line the kernel
 * prints next. Keep the reason next to each: it is printed with the
 * report.
 */
struct lc_allow_rule {
	enum lc_kind kind;
	const char *prefix;	/* the report line starts with this */
	const char *infix;	/* ... holds this (NULL: anything) */
	const char *suffix;	/* ... and ends with this */
	const char *next;	/* the kernel's next non-empty line starts with this */
	const char *next_has;	/* ... and holds this (NULL: anything) */
	const char *reason;
};

static const struct lc_allow_rule allow_rules[] = {
	/*
	 * rdma_rxe in 6.1 (drivers/infiniband/sw/rxe/rxe_mr.c): rxe_mr_copy()
	 * steps to the next map after the last chunk it copies, even when
	 * nothing is left to copy. A copy that ends on the last page of an MR
	 * whose page count is a multiple of RXE_BUF_PER_MAP (256 4K pages:
	 * 1 MiB) reads mr->map[num_map], one pointer past the array, and never
	 * uses it. The work request is inside its MR (mr_check_range() passed);
	 * rdma_pagecheck's 256-page buffers hit it on every run. Upstream
	 * rewrote the MR map (xarray) in a later series. A write, or a read of
	 * any other size, is not this bug and still fails the run.
	 */
	{ LC_KASAN, "BUG: KASAN: slab-out-of-bounds in rxe_mr_copy+", NULL, " [rdma_rxe]",
	  "Read of size 8 at addr ", NULL,
	  "rdma_rxe 6.1 bug: rxe_mr_copy() reads one map pointer past mr->map after "
	  "its last chunk (tests/vm/logcheck.c)" },
	/* The same read when KFENCE sampled the 8-byte mr->map array. */
	{ LC_KFENCE, "BUG: KFENCE: out-of-bounds read in rxe_mr_copy+", NULL, " [rdma_rxe]",
	  "Out-of-bounds read at ", "(8B right of kfence-#",
	  "rdma_rxe 6.1 bug: rxe_mr_copy() reads one map pointer past mr->map after "
	  "its last chunk (tests/vm/logcheck.c)" },
	/*
	 * rdma_rxe in 6.1 (drivers/infiniband/sw/rxe/rxe_comp.c): when a READ
	 * response packet is lost, the requester retries the READ from the
	 * first byte not yet received, and the responder answers with a READ
	 * RESPONSE FIRST at that PSN. check_ack() accepts a FIRST only at the
	 * WQE's first PSN, so it returns COMPST_ERROR without setting an error
	 * status, and rxe_completer's WARN_ON_ONCE(wqe->status ==
	 * IB_WC_SUCCESS) fires: the READ completes as a success with part of
	 * its data, and the QP goes to the error state. Packet loss causes it
	 * (the cluster's QEMU multicast segment drops packets under load), not
	 * the verbs' user. rswap.ko's page checksums find such a page and read
	 * it again (rswap_dev.c). Only this line's WARN, in rdma_rxe, is
	 * allowed: rxe_comp.c's other WARN still fails the run, and so does a
	 * Debian update that moves the line (then check the new source).
	 */
	{ LC_WARNING, "WARNING: CPU: ",
	  " at drivers/infiniband/sw/rxe/rxe_comp.c:756 rxe_completer+", " [rdma_rxe]",
	  "Modules linked in: ", "rdma_rxe",
	  "rdma_rxe 6.1 bug: a READ retried from its middle completes as a success with "
	  "part of its data (rswap's page checksums catch it; tests/vm/logcheck.c)" },
};

const char *lc_kind_name(enum lc_kind kind)
{
	return kind < LC_KIND_COUNT ? kind_names[kind] : "?";
}

void lc_init(struct lc_verdict *v)
{
	memset(v, 0, sizeof(*v));
}

/*
 * Kernel messages carry a "[ seconds.micros] " stamp (the harness boots with
 * printk.time=1). Only text after such a stamp is judged, so a scenario that
 * echoes "BUG:" is not mistaken for the kernel. The stamp need not start the
 * line: on a shared console the kernel can cut into a half-written line.
 * Returns the text after the first stamp at or after @s, or NULL.
 */
static const char *after_stamp(const char *s)
{
	for (s = strchr(s, '['); s; s = strchr(s + 1, '[')) {
		const char *p = s + 1;
		size_t digits = 0, frac = 0;

		while (*p == ' ')
			p++;
		while (isdigit((unsigned char)*p)) {
			p++;
			digits++;
		}
		if (!digits || *p != '.')
			continue;
		p++;
		while (isdigit((unsigned char)*p)) {
			p++;
			frac++;
		}
		if (frac != 6 || p[0] != ']')
			continue;
		p++;
		if (*p == ' ')
			p++;
		return p;
	}
	return NULL;
}

static bool starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Classify the text of one kernel message; returns false if it is benign. */
static bool classify(const char *t, enum lc_kind *kind)
{
	size_t i;

	for (i = 0; i < sizeof(lockdep_headlines) / sizeof(lockdep_headlines[0]); i++) {
		if (starts(t, lockdep_headlines[i])) {
			*kind = LC_LOCKDEP;
			return true;
		}
	}
	/* "WARNING: HARDIRQ-safe -> HARDIRQ-unsafe lock order detected", ... */
	if (starts(t, "WARNING: ") && strstr(t, "-unsafe lock order detected")) {
		*kind = LC_LOCKDEP;
		return true;
	}
	if (starts(t, "BUG: sleeping function called from invalid context") ||
	    starts(t, "BUG: scheduling while atomic") ||
	    starts(t, "do not call blocking ops when !TASK_RUNNING")) {
		*kind = LC_ATOMIC_SLEEP;
		return true;
	}
	if (starts(t, "BUG: KASAN: ")) {
		*kind = LC_KASAN;
		return true;
	}
	if (starts(t, "BUG: KFENCE: ")) {
		*kind = LC_KFENCE;
		return true;
	}
	/* debugobjects: every message it prints is a problem found, or its
	 * checking stopped (out of memory); its self-test's success is not. */
	if (starts(t, "ODEBUG: ") && !starts(t, "ODEBUG: selftest passed")) {
		*kind = LC_DEBUGOBJECTS;
		return true;
	}
	/* Userspace faults the kernel logs: "traps: prog[12] general protection
	 * fault ip:..." or "prog[12]: segfault at 0 ip ...". Checked first so
	 * they are not taken for a kernel oops. */
	if (starts(t, "traps: ") || strstr(t, ": segfault at ")) {
		*kind = LC_USER_CRASH;
		return true;
	}
	if (starts(t, "Kernel panic - not syncing")) {
		*kind = LC_PANIC;
		return true;
	}
	if (starts(t, "WARNING:")) {
		*kind = LC_WARNING;
		return true;
	}
	if (strstr(t, "BUG: soft lockup") || strstr(t, "BUG: workqueue lockup")) {
		*kind = LC_SOFT_LOCKUP;
		return true;
	}
	if (starts(t, "BUG:") || starts(t, "kernel BUG at") ||
	    strstr(t, "list_add corruption") || strstr(t, "list_del corruption")) {
		*kind = LC_BUG;
		return true;
	}
	if (starts(t, "Oops:") || starts(t, "general protection fault") ||
	    starts(t, "invalid opcode:") || starts(t, "stack segment:")) {
		*kind = LC_OOPS;
		return true;
	}
	if (starts(t, "INFO: task ") && strstr(t, " blocked for more than ")) {
		*kind = LC_HUNG_TASK;
		return true;
	}
	if (strstr(t, "rcu: INFO:") && strstr(t, "detected stall")) {
		*kind = LC_RCU_STALL;
		return true;
	}
	if (starts(t, "rcu: INFO:") || starts(t, "INFO: rcu")) {
		*kind = LC_RCU_STALL;
		return true;
	}
	if (strstr(t, "page allocation failure:")) {
		*kind = LC_ALLOC_FAILURE;
		return true;
	}
	if (starts(t, "UBSAN:")) {
		*kind = LC_UBSAN;
		return true;
	}
	return false;
}

static void copy_trimmed(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	while (n && (src[n - 1] == '\r' || src[n - 1] == '\n' || src[n - 1] == ' '))
		n--;
	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void add_report(struct lc_verdict *v, const struct lc_report *r)
{
	if (v->n_reports < LC_REPORTS_MAX)
		v->reports[v->n_reports] = *r;
	v->n_reports++;
}

/* The allow rule that matches report @r, or -1. */
static int allow_rule(const struct lc_report *r)
{
	size_t i, n = strlen(r->text);

	for (i = 0; i < sizeof(allow_rules) / sizeof(allow_rules[0]); i++) {
		const struct lc_allow_rule *a = &allow_rules[i];
		size_t sl = strlen(a->suffix);

		if (a->kind == r->kind && starts(r->text, a->prefix) &&
		    (!a->infix || strstr(r->text, a->infix)) &&
		    n >= sl && strcmp(r->text + n - sl, a->suffix) == 0)
			return (int)i;
	}
	return -1;
}

/* The kernel line after an allowed report: it confirms the report or not. */
static void settle_pending(struct lc_verdict *v, const char *t)
{
	const struct lc_allow_rule *a = &allow_rules[v->allow_pending_rule];

	v->allow_pending = false;
	if (t && starts(t, a->next) && (!a->next_has || strstr(t, a->next_has))) {
		if (v->n_allowed < LC_ALLOWED_MAX) {
			v->allowed[v->n_allowed].report = v->allow_pending_report;
			v->allowed[v->n_allowed].reason = a->reason;
		}
		v->n_allowed++;
	} else {
		add_report(v, &v->allow_pending_report);
	}
}

bool lc_console_line(struct lc_verdict *v, const char *line, unsigned int lineno)
{
	const char *t;

	for (t = after_stamp(line); t; t = after_stamp(t)) {
		struct lc_report r;
		int rule;

		/* KFENCE puts an empty line after its headline */
		if (v->allow_pending && t[strspn(t, " \r\n")])
			settle_pending(v, t);
		if (starts(t, "Kernel command line:") && strstr(t, "kasan_multi_shot"))
			v->kasan_multi_shot = true;
		if (starts(t, "Disabling lock debugging due to kernel taint") &&
		    !v->lockdep_off_line)
			v->lockdep_off_line = lineno;
		if (!classify(t, &r.kind))
			continue;
		r.line = lineno;
		copy_trimmed(r.text, sizeof(r.text), t);
		rule = allow_rule(&r);
		if (rule >= 0) {
			v->allow_pending = true;
			v->allow_pending_rule = (unsigned int)rule;
			v->allow_pending_report = r;
			return false;
		}
		add_report(v, &r);
		return true;
	}
	return false;
}

static void add_check(struct lc_verdict *v, enum lc_status status, const char *rest)
{
	const char *colon = strstr(rest, ": ");
	size_t name_len = colon ? (size_t)(colon - rest) : strlen(rest);

	switch (status) {
	case LC_PASS:
		v->n_pass++;
		break;
	case LC_FAIL:
		v->n_fail++;
		break;
	case LC_SKIP:
		v->n_skip++;
		break;
	}
	if (v->n_checks < LC_CHECKS_MAX) {
		struct lc_check *c = &v->checks[v->n_checks];

		c->status = status;
		if (name_len >= sizeof(c->name))
			name_len = sizeof(c->name) - 1;
		memcpy(c->name, rest, name_len);
		c->name[name_len] = '\0';
		copy_trimmed(c->reason, sizeof(c->reason), colon ? colon + 2 : "");
	}
	v->n_checks++;
}

void lc_results_line(struct lc_verdict *v, const char *line)
{
	char buf[LC_LINE_MAX];

	copy_trimmed(buf, sizeof(buf), line);
	if (!buf[0])
		return;
	if (starts(buf, "PASS ") && buf[5]) {
		add_check(v, LC_PASS, buf + 5);
	} else if (starts(buf, "FAIL ") && buf[5]) {
		add_check(v, LC_FAIL, buf + 5);
	} else if (starts(buf, "SKIP ") && buf[5]) {
		add_check(v, LC_SKIP, buf + 5);
	} else if (starts(buf, "RSWAP-BEGIN")) {
		v->begun = true;
	} else if (starts(buf, "RSWAP-END ")) {
		char *end;
		long status = strtol(buf + 10, &end, 10);

		if (end == buf + 10 || *end) {
			v->n_malformed++;
			return;
		}
		v->ended = true;
		v->exit_status = (int)status;
	} else {
		v->n_malformed++;
	}
}

/* Reads lines of any length; longer than LC_LINE_MAX are cut, not split. */
static int each_line(FILE *f, void (*fn)(struct lc_verdict *, const char *, unsigned int),
		     struct lc_verdict *v)
{
	char buf[LC_LINE_MAX];
	unsigned int lineno = 0;
	bool continuation = false;

	while (fgets(buf, sizeof(buf), f)) {
		bool complete = strchr(buf, '\n') != NULL || feof(f);

		if (!continuation)
			fn(v, buf, ++lineno);
		continuation = !complete;
	}
	return ferror(f) ? -1 : 0;
}

static void console_cb(struct lc_verdict *v, const char *line, unsigned int lineno)
{
	lc_console_line(v, line, lineno);
}

static void results_cb(struct lc_verdict *v, const char *line, unsigned int lineno)
{
	(void)lineno;
	lc_results_line(v, line);
}

int lc_console_file(struct lc_verdict *v, FILE *f)
{
	int ret = each_line(f, console_cb, v);

	/* the log ended before the line that would confirm it */
	if (v->allow_pending)
		settle_pending(v, NULL);
	return ret;
}

int lc_results_file(struct lc_verdict *v, FILE *f)
{
	return each_line(f, results_cb, v);
}

enum lc_outcome lc_outcome(const struct lc_verdict *v)
{
	if (v->n_reports || v->allow_pending || v->n_fail || !v->ended ||
	    v->exit_status != 0 || v->n_malformed || v->n_checks == 0)
		return LC_OUTCOME_FAILED;
	if (v->n_pass == 0)
		return LC_OUTCOME_SKIPPED;
	return LC_OUTCOME_PASSED;
}
