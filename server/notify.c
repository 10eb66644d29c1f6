// SPDX-License-Identifier: GPL-2.0
/* notify: one datagram to the unix socket systemd names in NOTIFY_SOCKET. */
#include "notify.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int notify_systemd(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len;
	socklen_t sa_len;
	ssize_t n;
	int fd;

	if (!path || !*path)
		return 0;
	len = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || len >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';	/* abstract namespace */
	sa_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	n = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, sa_len);
	close(fd);
	return n == (ssize_t)strlen(state) ? 1 : -1;
}

/* A decimal number, all of @s, without sign or overflow; false if not. */
static bool parse_ull(const char *s, unsigned long long *v)
{
	char *end;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return !errno && !*end;
}

unsigned long long notify_watchdog_usec(void)
{
	unsigned long long usec, pid;
	const char *p = getenv("WATCHDOG_PID");

	if (p && (!parse_ull(p, &pid) || pid != (unsigned long long)getpid()))
		return 0;
	if (!parse_ull(getenv("WATCHDOG_USEC"), &usec))
		return 0;
	return usec;
}
