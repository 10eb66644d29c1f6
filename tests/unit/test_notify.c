// SPDX-License-Identifier: GPL-2.0
/*
 * Description: server/notify.c speaks systemd's notify protocol: with
 * NOTIFY_SOCKET unset it does nothing; with a path or an abstract ("@")
 * socket it sends exactly the state given; a bad NOTIFY_SOCKET is an error.
 * The watchdog interval comes from WATCHDOG_USEC, only for the PID that
 * WATCHDOG_PID names (when set), and malformed values mean no watchdog.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <stdbool.h>
#include <unistd.h>

#include <cmocka.h>

#include "notify.h"

static int listen_on(const char *name, bool abstract)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(name));
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	memcpy(sa.sun_path, name, strlen(name));
	if (abstract)
		sa.sun_path[0] = '\0';
	else
		unlink(name);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, len), 0);
	return fd;
}

static void expect_datagram(int fd, const char *want)
{
	char buf[64];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	assert_int_equal(n, (ssize_t)strlen(want));
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

static void not_under_systemd(void **state)
{
	(void)state;
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(notify_systemd("READY=1"), 0);
}

static void path_socket(void **state)
{
	char path[64];
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/rswap-notify-%d", (int)getpid());
	fd = listen_on(path, false);
	setenv("NOTIFY_SOCKET", path, 1);
	assert_int_equal(notify_systemd("READY=1"), 1);
	expect_datagram(fd, "READY=1");
	assert_int_equal(notify_systemd("STOPPING=1"), 1);
	expect_datagram(fd, "STOPPING=1");
	close(fd);
	unlink(path);
}

static void abstract_socket(void **state)
{
	char name[64];
	int fd;

	(void)state;
	snprintf(name, sizeof(name), "@rswap-notify-%d", (int)getpid());
	fd = listen_on(name, true);
	setenv("NOTIFY_SOCKET", name, 1);
	assert_int_equal(notify_systemd("READY=1"), 1);
	expect_datagram(fd, "READY=1");
	close(fd);
}

static void bad_socket(void **state)
{
	(void)state;
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	assert_int_equal(notify_systemd("READY=1"), -1);
	setenv("NOTIFY_SOCKET", "/nonexistent/socket", 1);
	assert_int_equal(notify_systemd("READY=1"), -1);
	unsetenv("NOTIFY_SOCKET");
}

static void watchdog_interval(void **state)
{
	char pid[32];

	(void)state;
	unsetenv("WATCHDOG_PID");
	unsetenv("WATCHDOG_USEC");
	assert_int_equal(notify_watchdog_usec(), 0);
	setenv("WATCHDOG_USEC", "120000000", 1);
	assert_int_equal(notify_watchdog_usec(), 120000000ull);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(notify_watchdog_usec(), 120000000ull);
	unsetenv("WATCHDOG_PID");
	unsetenv("WATCHDOG_USEC");
}

/* Meant for another process (a parent that did not unset it), or garbage. */
static void watchdog_not_ours(void **state)
{
	static const char *const bad_usec[] = { "", "abc", "12s", "-5", " 5", "99999999999999999999999" };
	char pid[32];
	size_t i;

	(void)state;
	setenv("WATCHDOG_USEC", "120000000", 1);
	snprintf(pid, sizeof(pid), "%d", (int)getpid() + 1);
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(notify_watchdog_usec(), 0);
	setenv("WATCHDOG_PID", "x1", 1);
	assert_int_equal(notify_watchdog_usec(), 0);
	unsetenv("WATCHDOG_PID");
	for (i = 0; i < sizeof(bad_usec) / sizeof(bad_usec[0]); i++) {
		setenv("WATCHDOG_USEC", bad_usec[i], 1);
		assert_int_equal(notify_watchdog_usec(), 0);
	}
	unsetenv("WATCHDOG_USEC");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(not_under_systemd),
		cmocka_unit_test(path_socket),
		cmocka_unit_test(abstract_socket),
		cmocka_unit_test(bad_socket),
		cmocka_unit_test(watchdog_interval),
		cmocka_unit_test(watchdog_not_ours),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
