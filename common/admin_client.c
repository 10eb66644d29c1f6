// SPDX-License-Identifier: GPL-2.0
/* admin_client: see admin_client.h; the framing is admin_frame.h's. */
#include "admin_client.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "admin_frame.h"

/* Bytes read at first; an answer grows the buffer up to a whole frame. */
#define ADMIN_CLIENT_BUF 4096

/* Connect @fd to @ai within @timeout_ms: 0, or -1 with errno set. */
static int connect_timed(int fd, const struct addrinfo *ai, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int flags = fcntl(fd, F_GETFL), soerr = 0, ret;
	socklen_t len = sizeof(soerr);

	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK))
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) && errno != EINPROGRESS)
		return -1;
	/* A signal that interrupts the wait restarts it (once per signal). */
	while ((ret = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
		;
	if (ret != 1) {
		errno = ETIMEDOUT;
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) || soerr) {
		errno = soerr ? soerr : errno;
		return -1;
	}
	return fcntl(fd, F_SETFL, flags);
}

int admin_dial(const char *host, const char *port, int timeout_ms, char *err, size_t err_size)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = timeout_ms % 1000 * 1000 };
	struct addrinfo *res;
	int fd, ret;

	ret = getaddrinfo(host, port, &hints, &res);
	if (ret) {
		snprintf(err, err_size, "%s:%s: %s", host, port, gai_strerror(ret));
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ||
	    connect_timed(fd, res, timeout_ms)) {
		snprintf(err, err_size, "cannot reach the admin API at %s:%s: %s", host, port,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	return fd;
}

int admin_write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read one whole frame; NULL with @err if the peer closes first or sends junk. */
static uint8_t *read_frame(int fd, uint32_t *len, char *err, size_t err_size)
{
	size_t cap = ADMIN_CLIENT_BUF, have = 0;
	uint8_t *buf = malloc(cap);

	snprintf(err, err_size, "out of memory");
	while (buf) {
		enum frame_status st = admin_frame_parse(buf, have, len);
		ssize_t n;

		if (st == FRAME_DONE)
			return buf;
		if (st != FRAME_MORE) {
			snprintf(err, err_size, "bad answer from the server");
			break;
		}
		if (have == cap) {
			uint8_t *nb = cap * 2 > ADMIN_FRAME_MAX + ADMIN_FRAME_HDR ? NULL :
				realloc(buf, cap * 2);

			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		/* With SO_RCVTIMEO a signal ends recv with EINTR, even under SA_RESTART. */
		n = recv(fd, buf + have, cap - have, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, err_size, "%s", n ? strerror(errno) :
				 "the server closed the connection");
			break;
		}
		have += (size_t)n;
	}
	free(buf);
	return NULL;
}

Rswap__AdminResponse *admin_ask(const char *host, const char *port, const Rswap__AdminRequest *req,
				int timeout_ms, char *err, size_t err_size)
{
	size_t len = rswap__admin_request__get_packed_size(req);
	uint8_t *out = malloc(ADMIN_FRAME_HDR + len), *in;
	Rswap__AdminResponse *resp = NULL;
	uint32_t in_len;
	int fd = -1;

	if (!out) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	fd = admin_dial(host, port, timeout_ms, err, err_size);
	if (fd < 0)
		goto out;
	admin_frame_header(out, (uint32_t)len);
	rswap__admin_request__pack(req, out + ADMIN_FRAME_HDR);
	if (admin_write_all(fd, out, ADMIN_FRAME_HDR + len)) {
		snprintf(err, err_size, "sending to %s:%s: %s", host, port, strerror(errno));
		goto out;
	}
	in = read_frame(fd, &in_len, err, err_size);
	if (!in)
		goto out;
	resp = rswap__admin_response__unpack(NULL, in_len, in + ADMIN_FRAME_HDR);
	free(in);
	if (!resp)
		snprintf(err, err_size, "the answer of %s:%s does not parse", host, port);
out:
	if (fd >= 0)
		close(fd);
	free(out);
	return resp;
}
