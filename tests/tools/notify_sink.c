// SPDX-License-Identifier: GPL-2.0
/*
 * rswap-notify-sink: systemd's end of the notify protocol, for tests.
 *
 * Binds a datagram socket at PATH (as systemd does for a Type=notify
 * service's NOTIFY_SOCKET) and prints every message it receives, one line
 * each: the seconds since it started (CLOCK_MONOTONIC, 0.01 s) and the
 * message with newlines shown as spaces. Exits 0 after SECONDS, or at once
 * when a message contains STOPPING=1, so a test can start the service with
 * NOTIFY_SOCKET=PATH, stop it, and read what it said and when.
 */
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "tool_args.h"

#define PROG "rswap-notify-sink"
/* systemd reads at most one page of state; longer messages are cut. */
#define MSG_MAX 4096

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char msg[MSG_MAX + 1];
	double start, left;
	uint64_t seconds;
	ssize_t n, i;
	int fd, ret = 0;

	if (argc != 3 || !strcmp(argv[1], "--help")) {
		fprintf(argc == 2 ? stdout : stderr,
			"usage: %s PATH SECONDS\n"
			"Receive systemd notify messages on the datagram socket PATH and print\n"
			"each with its time; stop after SECONDS or on STOPPING=1.\n", PROG);
		return argc == 2 ? 0 : 2;
	}
	if (tool_parse_u64(PROG, "SECONDS", argv[2], 3600, &seconds))
		return 2;
	if (strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "%s: socket path too long: %s\n", PROG, argv[1]);
		return 2;
	}
	memcpy(sa.sun_path, argv[1], strlen(argv[1]));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror(PROG ": socket");
		return 1;
	}
	unlink(argv[1]);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		fprintf(stderr, "%s: bind %s: %s\n", PROG, argv[1], strerror(errno));
		close(fd);
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	start = mono_s();
	while ((left = (double)seconds - (mono_s() - start)) > 0) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r = poll(&p, 1, (int)(left * 1000) + 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			perror(PROG ": poll");
			ret = 1;
			break;
		}
		if (!r)
			continue;
		n = recv(fd, msg, MSG_MAX, 0);
		if (n < 0) {
			perror(PROG ": recv");
			ret = 1;
			break;
		}
		msg[n] = '\0';
		for (i = 0; i < n; i++)
			if (msg[i] == '\n' || msg[i] == '\0')
				msg[i] = ' ';
		printf("%.2f %s\n", mono_s() - start, msg);
		if (strstr(msg, "STOPPING=1"))
			break;
	}
	close(fd);
	unlink(argv[1]);
	return ret;
}
