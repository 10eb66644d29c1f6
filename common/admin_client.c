// SPDX-License-Identifier: GPL-2.0
/*
 * admin_client: see admin_client.h; the framing is admin_frame.h's.
 *
 * A call is an exchange on a non-blocking socket, stepped by poll(2):
 *   CONNECTING (TCP: until POLLOUT and SO_ERROR says connected)
 *     -> SENDING (the framed request) -> RECEIVING (until a whole frame)
 *     -> DONE; or FAILED, the reason in the exchange's err, from any state,
 *   the deadline passing included. A keyed call runs two exchanges on one
 * socket, the challenge and then the proved request, under one deadline.
 */
#include "admin_client.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

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

int admin_dial_unix(const char *name, int timeout_ms, char *err, size_t err_size)
{
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = timeout_ms % 1000 * 1000 };
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t len = strlen(name);
	socklen_t alen;
	int fd, saved;

	if (len >= sizeof(sun.sun_path) || len < 2) {
		snprintf(err, err_size, "admin socket '%s': bad name", name);
		errno = EINVAL;
		return -1;
	}
	memcpy(sun.sun_path, name, len);
	if (name[0] == '@')
		sun.sun_path[0] = '\0';	/* the abstract namespace */
	alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (name[0] != '@'));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ||
	    connect(fd, (struct sockaddr *)&sun, alen)) {
		saved = errno;
		snprintf(err, err_size, "cannot reach the admin socket %s: %s", name,
			 strerror(saved));
		if (fd >= 0)
			close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

enum exch_state { EXCH_CONNECTING, EXCH_SENDING, EXCH_RECEIVING, EXCH_DONE, EXCH_FAILED };

struct exchange {
	enum exch_state state;
	int fd;
	char name[ADMIN_ERR_LEN / 2];	/* HOST:PORT or the socket, for messages */
	uint8_t *out;
	size_t out_len, out_off;
	uint8_t *in;
	size_t in_cap, have;
	uint32_t in_len;		/* payload bytes of the frame received */
	char err[ADMIN_ERR_LEN];
};

static void exch_fail(struct exchange *x, const char *why)
{
	if (x->state == EXCH_FAILED)
		return;
	x->state = EXCH_FAILED;
	snprintf(x->err, sizeof(x->err), "%.100s: %.150s", x->name, why);
}

static void exch_free(struct exchange *x)
{
	if (x->fd >= 0)
		close(x->fd);
	x->fd = -1;
	free(x->out);
	free(x->in);
	x->out = x->in = NULL;
}

/* Start connecting @x to TCP @host:@port (non-blocking). */
static void exch_open_tcp(struct exchange *x, const char *host, const char *port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res;
	char why[ADMIN_ERR_LEN];
	int ret;

	x->fd = -1;
	x->state = EXCH_CONNECTING;
	snprintf(x->name, sizeof(x->name), "%s:%s", host, port);
	ret = getaddrinfo(host, port, &hints, &res);
	if (ret) {
		exch_fail(x, gai_strerror(ret));
		return;
	}
	x->fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (x->fd < 0 || (connect(x->fd, res->ai_addr, res->ai_addrlen) && errno != EINPROGRESS)) {
		snprintf(why, sizeof(why), "cannot reach the admin API: %s", strerror(errno));
		exch_fail(x, why);
	}
	freeaddrinfo(res);
}

/* Frame @req as @x's request, to be sent once connected. */
static void exch_request(struct exchange *x, const Rswap__AdminRequest *req)
{
	size_t len = rswap__admin_request__get_packed_size(req);

	free(x->out);
	free(x->in);
	x->in = NULL;
	x->in_cap = x->have = 0;
	x->out = malloc(ADMIN_FRAME_HDR + len);
	if (!x->out) {
		exch_fail(x, "out of memory");
		return;
	}
	admin_frame_header(x->out, (uint32_t)len);
	rswap__admin_request__pack(req, x->out + ADMIN_FRAME_HDR);
	x->out_len = ADMIN_FRAME_HDR + len;
	x->out_off = 0;
	if (x->state != EXCH_FAILED && x->state != EXCH_CONNECTING)
		x->state = EXCH_SENDING;
}

static short exch_events(const struct exchange *x)
{
	return x->state == EXCH_RECEIVING ? POLLIN : POLLOUT;
}

/* One step of @x on @revents from poll. */
static void exch_step(struct exchange *x, short revents)
{
	char why[ADMIN_ERR_LEN];
	int soerr = 0;
	socklen_t sl = sizeof(soerr);
	ssize_t n;

	if (x->state == EXCH_CONNECTING) {
		if (getsockopt(x->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) || soerr) {
			snprintf(why, sizeof(why), "cannot reach the admin API: %s",
				 strerror(soerr ? soerr : errno));
			exch_fail(x, why);
			return;
		}
		x->state = EXCH_SENDING;
		return;
	}
	if (x->state == EXCH_SENDING) {
		n = send(x->fd, x->out + x->out_off, x->out_len - x->out_off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			snprintf(why, sizeof(why), "sending: %s", strerror(errno));
			exch_fail(x, why);
			return;
		}
		x->out_off += (size_t)n;
		if (x->out_off == x->out_len)
			x->state = EXCH_RECEIVING;
		return;
	}
	if (x->state != EXCH_RECEIVING || !(revents & (POLLIN | POLLHUP | POLLERR)))
		return;
	if (x->have == x->in_cap) {
		size_t cap = x->in_cap ? x->in_cap * 2 : ADMIN_CLIENT_BUF;
		uint8_t *nb = cap > ADMIN_FRAME_MAX + ADMIN_FRAME_HDR ? NULL : realloc(x->in, cap);

		if (!nb) {
			exch_fail(x, "answer too large");
			return;
		}
		x->in = nb;
		x->in_cap = cap;
	}
	n = recv(x->fd, x->in + x->have, x->in_cap - x->have, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		exch_fail(x, n ? strerror(errno) : "the server closed the connection");
		return;
	}
	x->have += (size_t)n;
	switch (admin_frame_parse(x->in, x->have, &x->in_len)) {
	case FRAME_DONE:
		x->state = EXCH_DONE;
		break;
	case FRAME_MORE:
		break;
	default:
		exch_fail(x, "bad answer from the server");
	}
}

/* Step the @n exchanges @xs until each is DONE or FAILED, or @deadline. */
static void exch_run(struct exchange *xs, unsigned int n, uint64_t deadline)
{
	struct pollfd *p = calloc(n ? n : 1, sizeof(*p));
	unsigned int i, live;
	uint64_t now;
	int ret;

	if (!p) {
		for (i = 0; i < n; i++)
			exch_fail(&xs[i], "out of memory");
		return;
	}
	for (;;) {
		live = 0;
		for (i = 0; i < n; i++) {
			p[i].fd = -1;
			p[i].revents = 0;
			if (xs[i].state == EXCH_DONE || xs[i].state == EXCH_FAILED)
				continue;
			p[i].fd = xs[i].fd;
			p[i].events = exch_events(&xs[i]);
			live++;
		}
		if (!live)
			break;
		now = now_ms();
		if (now >= deadline) {
			for (i = 0; i < n; i++)
				if (p[i].fd >= 0)
					exch_fail(&xs[i], "no answer in time");
			break;
		}
		ret = poll(p, n, (int)(deadline - now));
		if (ret < 0 && errno != EINTR) {
			for (i = 0; i < n; i++)
				if (p[i].fd >= 0)
					exch_fail(&xs[i], strerror(errno));
			break;
		}
		for (i = 0; ret > 0 && i < n; i++)
			if (p[i].fd >= 0 && p[i].revents)
				exch_step(&xs[i], p[i].revents);
	}
	free(p);
}

/* The answer @x received, unpacked; NULL with x->err if it does not parse. */
static Rswap__AdminResponse *exch_answer(struct exchange *x)
{
	Rswap__AdminResponse *resp;

	if (x->state != EXCH_DONE)
		return NULL;
	resp = rswap__admin_response__unpack(NULL, x->in_len, x->in + ADMIN_FRAME_HDR);
	if (!resp)
		exch_fail(x, "the answer does not parse");
	return resp;
}

/* The proved form of @req for the nonce of @challenge: *@authed set up to
 * point into @packed and @mac. 0, or -1 with a reason in @x. */
static int prove(struct exchange *x, const struct auth_key *key, const Rswap__AdminResponse *ch,
		 const Rswap__AdminRequest *req, uint8_t **packed, uint8_t mac[RSWAP_MAC_LEN],
		 Rswap__AuthedRequest *authed)
{
	size_t len = rswap__admin_request__get_packed_size(req);

	if (ch->resp_case != RSWAP__ADMIN_RESPONSE__RESP_CHALLENGE ||
	    ch->challenge->nonce.len != RSWAP_NONCE_LEN) {
		exch_fail(x, "no challenge in the answer (a server without admin keys?)");
		return -1;
	}
	*packed = malloc(len ? len : 1);
	if (!*packed) {
		exch_fail(x, "out of memory");
		return -1;
	}
	rswap__admin_request__pack(req, *packed);
	if (auth_admin_mac(key, ch->challenge->nonce.data, *packed, len, mac)) {
		exch_fail(x, "HMAC failed");
		return -1;
	}
	authed->request.data = *packed;
	authed->request.len = len;
	authed->mac.data = mac;
	authed->mac.len = RSWAP_MAC_LEN;
	return 0;
}

Rswap__AdminResponse *admin_call(const struct admin_target *t, const Rswap__AdminRequest *req,
				 int timeout_ms, char *err, size_t err_size)
{
	uint64_t deadline = now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
	Rswap__AdminRequest outer = RSWAP__ADMIN_REQUEST__INIT;
	Rswap__AuthChallengeRequest chreq = RSWAP__AUTH_CHALLENGE_REQUEST__INIT;
	Rswap__AuthedRequest authed = RSWAP__AUTHED_REQUEST__INIT;
	struct exchange x = { .fd = -1 };
	Rswap__AdminResponse *resp = NULL, *ch;
	uint8_t *packed = NULL, mac[RSWAP_MAC_LEN];

	if (t->socket) {
		snprintf(x.name, sizeof(x.name), "%s", t->socket);
		x.fd = admin_dial_unix(t->socket, timeout_ms, x.err, sizeof(x.err));
		if (x.fd < 0 || fcntl(x.fd, F_SETFL, fcntl(x.fd, F_GETFL) | O_NONBLOCK))
			x.state = EXCH_FAILED;
		else
			x.state = EXCH_SENDING;
	} else {
		exch_open_tcp(&x, t->host, t->port);
	}
	if (t->key && !t->socket) {
		outer.req_case = RSWAP__ADMIN_REQUEST__REQ_CHALLENGE;
		outer.challenge = &chreq;
		exch_request(&x, &outer);
		exch_run(&x, 1, deadline);
		ch = exch_answer(&x);
		if (!ch)
			goto out;
		if (ch->resp_case == RSWAP__ADMIN_RESPONSE__RESP_ERROR) {
			resp = ch;	/* the server's reason, for the caller */
			goto out;
		}
		if (prove(&x, t->key, ch, req, &packed, mac, &authed)) {
			rswap__admin_response__free_unpacked(ch, NULL);
			goto out;
		}
		rswap__admin_response__free_unpacked(ch, NULL);
		outer.req_case = RSWAP__ADMIN_REQUEST__REQ_AUTHED;
		outer.authed = &authed;
		exch_request(&x, &outer);
	} else {
		exch_request(&x, req);
	}
	exch_run(&x, 1, deadline);
	resp = exch_answer(&x);
out:
	if (!resp)
		snprintf(err, err_size, "%s", x.err);
	OPENSSL_cleanse(mac, sizeof(mac));
	free(packed);
	exch_free(&x);
	return resp;
}

void admin_call_all(const struct admin_target *t, unsigned int n, const Rswap__AdminRequest *req,
		    int timeout_ms, Rswap__AdminResponse **resp, char (*err)[ADMIN_ERR_LEN])
{
	uint64_t deadline = now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
	struct exchange *xs = calloc(n ? n : 1, sizeof(*xs));
	unsigned int i;

	for (i = 0; i < n; i++) {
		resp[i] = NULL;
		snprintf(err[i], ADMIN_ERR_LEN, "out of memory");
	}
	if (!xs)
		return;
	for (i = 0; i < n; i++) {
		exch_open_tcp(&xs[i], t[i].host, t[i].port);
		exch_request(&xs[i], req);
	}
	exch_run(xs, n, deadline);
	for (i = 0; i < n; i++) {
		size_t nl = strlen(xs[i].name);

		resp[i] = exch_answer(&xs[i]);
		/* The caller names the target: the reason alone. */
		if (!resp[i])
			snprintf(err[i], ADMIN_ERR_LEN, "%s", strncmp(xs[i].err, xs[i].name, nl) ?
				 xs[i].err : xs[i].err + nl + 2);
		exch_free(&xs[i]);
	}
	free(xs);
}
