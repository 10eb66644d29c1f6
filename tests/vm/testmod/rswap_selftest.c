// SPDX-License-Identifier: GPL-2.0
/*
 * rswap_selftest: a deliberately broken module for testing the VM harness.
 *
 * Loading it with mode=warn, mode=oops or mode=hung makes the kernel print
 * the kind of report that must fail a scenario even when the scenario's own
 * checks pass. The harness tests load it and expect a failure; the console
 * logs they produce are also the real samples the log checker's unit tests
 * are fed.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/init.h>
#include <linux/kthread.h>
#include <linux/delay.h>
#include <linux/sched.h>
#include <linux/string.h>

static char *mode = "none";
module_param(mode, charp, 0444);
MODULE_PARM_DESC(mode, "What to break: none, warn, oops or hung (default: none)");

static struct task_struct *hung_task;

/* Sleeps uninterruptibly, without end, to trigger a hung-task report. */
static int rswap_selftest_hang(void *unused)
{
	while (!kthread_should_stop()) {
		set_current_state(TASK_UNINTERRUPTIBLE);
		schedule_timeout(3600 * HZ);
	}
	return 0;
}

/* Always NULL; read with READ_ONCE so the compiler cannot see through it. */
static int *rswap_selftest_null;

static noinline void rswap_selftest_oops(void)
{
	int *p = READ_ONCE(rswap_selftest_null);

	*p = 1;
}

static int __init rswap_selftest_init(void)
{
	pr_info("mode=%s\n", mode);
	if (!strcmp(mode, "warn")) {
		WARN(1, "rswap_selftest: deliberate warning\n");
	} else if (!strcmp(mode, "oops")) {
		rswap_selftest_oops();
	} else if (!strcmp(mode, "hung")) {
		hung_task = kthread_run(rswap_selftest_hang, NULL, "rswap_hung");
		if (IS_ERR(hung_task))
			return PTR_ERR(hung_task);
	} else if (strcmp(mode, "none")) {
		pr_err("unknown mode '%s'\n", mode);
		return -EINVAL;
	}
	return 0;
}

static void __exit rswap_selftest_exit(void)
{
	if (hung_task)
		kthread_stop(hung_task);
}

module_init(rswap_selftest_init);
module_exit(rswap_selftest_exit);

MODULE_DESCRIPTION("rswap VM harness self-test: deliberately broken module");
MODULE_LICENSE("GPL");
