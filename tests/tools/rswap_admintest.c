// SPDX-License-Identifier: GPL-2.0
/*
 * rswap_admintest: attacks on rswap-server's admin API, for the guest
 * scenarios, and fake peers for its drain.
 *
 *   replay --server H:P --admin-key F
 *       A proved call (clients) is answered; the same AuthedRequest frame
 *       sent again on that connection, on a new connection without a
 *       challenge, and on a new connection after a fresh challenge, is
 *       refused each time. Exit 0 when all three are refused.
 *   trickle --server H:P --conns N [--from ADDR]... [--seconds S]
 *       N connections (source addresses round-robin over --from) that each
 *       send a 100-byte frame a byte a second, held for S seconds (default
 *       10). Prints "trickle: C of N connected, K closed by the server";
 *       exit 0.
 *   socket-call --socket NAME --uid U
 *       As uid U (and its gid), ask "clients" on the admin socket NAME.
 *       Exit 0 when refused, 1 when answered.
 *   fake-peer --listen H:P --mode trickle|liar [--seconds S]
 *       An admin API that is not a server's: "trickle" answers a byte a
 *       second; "liar" answers STATUS at once with more free slabs than
 *       slabs. Serves S seconds (default 60), one connection at a time.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "admin_client.h"
#include "admin_frame.h"
#include "auth.h"
#include "rswap.pb-c.h"
#include "tool_args.h"

#define PROG "rswap_admintest"
#define TIMEOUT_MS 5000
#define FROM_MAX 8

static int split_hostport(const char *text, char *host, size_t hsize, char *port, size_t psize)
{
	const char *colon = strrchr(text, ':');

	if (!colon || colon == text || !colon[1] || (size_t)(colon - text) >= hsize ||
	    strlen(colon + 1) >= psize) {
		fprintf(stderr, PROG ": want HOST:PORT, got '%s'\n", text);
		return -1;
	}
	memcpy(host, text, (size_t)(colon - text));
	host[colon - text] = '\0';
	strcpy(port, colon + 1);
	return 0;
}

/*
 * Read one admin frame from @fd into @buf (blocking, with the socket's
 * timeouts): true when it all came, with its payload length in *plen.
 */
static bool read_frame(int fd, uint8_t *buf, size_t size, uint32_t *plen)
{
	size_t have = 0;

	for (;;) {
		enum frame_status fs = admin_frame_parse(buf, have, plen);
		ssize_t n;

		if (fs == FRAME_DONE)
			return true;
		if (fs != FRAME_MORE || have == size)
			return false;
		n = recv(fd, buf + have, size - have, 0);
		if (n <= 0)
			return false;
		have += (size_t)n;
	}
}

/* Send one framed @req on @fd and read one framed answer. NULL if none came. */
static Rswap__AdminResponse *roundtrip_frame(int fd, const uint8_t *frame, size_t len)
{
	uint8_t buf[65536];
	uint32_t plen;

	if (admin_write_all(fd, frame, len) || !read_frame(fd, buf, sizeof(buf), &plen))
		return NULL;
	return rswap__admin_response__unpack(NULL, plen, buf + ADMIN_FRAME_HDR);
}

/* Frame @req into a malloc'ed buffer; its length in *@len. */
static uint8_t *frame_of(const Rswap__AdminRequest *req, size_t *len)
{
	size_t n = rswap__admin_request__get_packed_size(req);
	uint8_t *f = malloc(ADMIN_FRAME_HDR + n);

	if (!f)
		return NULL;
	admin_frame_header(f, (uint32_t)n);
	rswap__admin_request__pack(req, f + ADMIN_FRAME_HDR);
	*len = ADMIN_FRAME_HDR + n;
	return f;
}

static Rswap__AdminResponse *challenge(int fd)
{
	Rswap__AdminRequest req = RSWAP__ADMIN_REQUEST__INIT;
	Rswap__AuthChallengeRequest cr = RSWAP__AUTH_CHALLENGE_REQUEST__INIT;
	Rswap__AdminResponse *resp;
	uint8_t *f;
	size_t len;

	req.req_case = RSWAP__ADMIN_REQUEST__REQ_CHALLENGE;
	req.challenge = &cr;
	f = frame_of(&req, &len);
	resp = f ? roundtrip_frame(fd, f, len) : NULL;
	free(f);
	if (resp && (resp->resp_case != RSWAP__ADMIN_RESPONSE__RESP_CHALLENGE ||
		     resp->challenge->nonce.len != RSWAP_NONCE_LEN)) {
		rswap__admin_response__free_unpacked(resp, NULL);
		return NULL;
	}
	return resp;
}

/* Did @fd's answer to @frame refuse it? Prints what came. */
static bool refused(const char *what, int fd, const uint8_t *frame, size_t len)
{
	Rswap__AdminResponse *resp = roundtrip_frame(fd, frame, len);
	bool ok = !resp || resp->resp_case == RSWAP__ADMIN_RESPONSE__RESP_ERROR;

	printf("replay %s: %s%s\n", what, ok ? "refused" : "ANSWERED",
	       resp && resp->resp_case == RSWAP__ADMIN_RESPONSE__RESP_ERROR ? ": " : "");
	if (resp && resp->resp_case == RSWAP__ADMIN_RESPONSE__RESP_ERROR)
		printf("  %s\n", resp->error->message);
	if (resp)
		rswap__admin_response__free_unpacked(resp, NULL);
	return ok;
}

static int replay(const char *host, const char *port, const struct auth_key *key)
{
	Rswap__AdminRequest inner = RSWAP__ADMIN_REQUEST__INIT, outer = RSWAP__ADMIN_REQUEST__INIT;
	Rswap__ClientsRequest cl = RSWAP__CLIENTS_REQUEST__INIT;
	Rswap__AuthedRequest ar = RSWAP__AUTHED_REQUEST__INIT;
	Rswap__AdminResponse *ch, *resp;
	uint8_t packed[64], mac[RSWAP_MAC_LEN], *frame;
	char err[ADMIN_ERR_LEN];
	size_t plen, flen;
	int fd, fails = 0;

	inner.req_case = RSWAP__ADMIN_REQUEST__REQ_CLIENTS;
	inner.clients = &cl;
	plen = rswap__admin_request__pack(&inner, packed);
	fd = admin_dial(host, port, TIMEOUT_MS, err, sizeof(err));
	if (fd < 0) {
		fprintf(stderr, PROG ": %s\n", err);
		return 1;
	}
	ch = challenge(fd);
	if (!ch) {
		fprintf(stderr, PROG ": no challenge from the server\n");
		return 1;
	}
	if (auth_admin_mac(key, ch->challenge->nonce.data, packed, plen, mac))
		return 1;
	rswap__admin_response__free_unpacked(ch, NULL);
	ar.request.data = packed;
	ar.request.len = plen;
	ar.mac.data = mac;
	ar.mac.len = sizeof(mac);
	outer.req_case = RSWAP__ADMIN_REQUEST__REQ_AUTHED;
	outer.authed = &ar;
	frame = frame_of(&outer, &flen);
	if (!frame)
		return 1;
	resp = roundtrip_frame(fd, frame, flen);
	if (!resp || resp->resp_case != RSWAP__ADMIN_RESPONSE__RESP_CLIENTS) {
		fprintf(stderr, PROG ": the proved call was not answered with clients%s%s\n",
			resp && resp->resp_case == RSWAP__ADMIN_RESPONSE__RESP_ERROR ? ": " : "",
			resp && resp->resp_case == RSWAP__ADMIN_RESPONSE__RESP_ERROR ?
			resp->error->message : "");
		return 1;
	}
	printf("replay: the proved call was answered (%zu clients)\n", resp->clients->n_clients);
	rswap__admin_response__free_unpacked(resp, NULL);
	fails += !refused("again on the same connection", fd, frame, flen);
	close(fd);
	fd = admin_dial(host, port, TIMEOUT_MS, err, sizeof(err));
	if (fd < 0)
		return 1;
	fails += !refused("on a new connection, no challenge", fd, frame, flen);
	close(fd);
	fd = admin_dial(host, port, TIMEOUT_MS, err, sizeof(err));
	if (fd < 0)
		return 1;
	ch = challenge(fd);
	if (!ch) {
		fprintf(stderr, PROG ": no second challenge\n");
		return 1;
	}
	rswap__admin_response__free_unpacked(ch, NULL);
	fails += !refused("on a new connection after a new challenge", fd, frame, flen);
	close(fd);
	free(frame);
	return fails ? 1 : 0;
}

static int dial_from(const char *host, const char *port, const char *from)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *to, *src = NULL;
	int fd = -1;

	if (getaddrinfo(host, port, &hints, &to))
		return -1;
	if (from && getaddrinfo(from, NULL, &hints, &src)) {
		freeaddrinfo(to);
		return -1;
	}
	fd = socket(to->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && ((src && bind(fd, src->ai_addr, src->ai_addrlen)) ||
			connect(fd, to->ai_addr, to->ai_addrlen))) {
		close(fd);
		fd = -1;
	}
	freeaddrinfo(to);
	if (src)
		freeaddrinfo(src);
	return fd;
}

static int trickle(const char *host, const char *port, unsigned int n, const char **from,
		   unsigned int n_from, unsigned int seconds)
{
	/* A frame of 100 bytes, a byte a second: never whole in time. */
	static const uint8_t frame[] = { 0, 0, 0, 100 };
	int *fd = calloc(n, sizeof(*fd));
	unsigned int i, t, open_n = 0, closed = 0;

	if (!fd)
		return 1;
	for (i = 0; i < n; i++) {
		fd[i] = dial_from(host, port, n_from ? from[i % n_from] : NULL);
		open_n += fd[i] >= 0;
	}
	for (t = 0; t < seconds; t++) {
		for (i = 0; i < n; i++) {
			uint8_t c = t < sizeof(frame) ? frame[t] : 0;
			char got[64];
			ssize_t r;

			if (fd[i] < 0)
				continue;
			/* Closed by the server: a read returns 0 (or an error). */
			r = recv(fd[i], got, sizeof(got), MSG_DONTWAIT);
			if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK) ||
			    send(fd[i], &c, 1, MSG_NOSIGNAL) < 0) {
				close(fd[i]);
				fd[i] = -1;
				closed++;
			}
		}
		sleep(1);
	}
	printf("trickle: %u of %u connected, %u closed by the server\n", open_n, n, closed);
	for (i = 0; i < n; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	free(fd);
	return 0;
}

static int fake_peer(const char *host, const char *port, const char *mode, unsigned int seconds)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE }, *res;
	Rswap__AdminResponse resp = RSWAP__ADMIN_RESPONSE__INIT;
	Rswap__ServerStatus st = RSWAP__SERVER_STATUS__INIT;
	bool liar = !strcmp(mode, "liar");
	time_t end = time(NULL) + seconds;
	uint8_t out[512], in[256];
	uint32_t plen;
	size_t len;
	int lfd, one = 1;

	if (!liar && strcmp(mode, "trickle")) {
		fprintf(stderr, PROG ": --mode trickle or liar, not '%s'\n", mode);
		return 2;
	}
	if (getaddrinfo(host, port, &hints, &res))
		return 1;
	lfd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd, res->ai_addr, res->ai_addrlen) || listen(lfd, 16)) {
		perror(PROG ": listen");
		return 1;
	}
	freeaddrinfo(res);
	st.version = "0.0.0-fake";
	st.listen = "";
	st.slab_bytes = 1 << 20;
	st.slabs_total = 10;
	st.slabs_free = 1000000;	/* more free than there are: a lie */
	resp.resp_case = RSWAP__ADMIN_RESPONSE__RESP_STATUS;
	resp.status = &st;
	len = rswap__admin_response__get_packed_size(&resp);
	admin_frame_header(out, (uint32_t)len);
	rswap__admin_response__pack(&resp, out + ADMIN_FRAME_HDR);
	len += ADMIN_FRAME_HDR;
	printf("fake-peer: %s on %s:%s\n", mode, host, port);
	fflush(stdout);
	while (time(NULL) < end) {
		struct pollfd p = { .fd = lfd, .events = POLLIN };
		size_t off = 0;
		int fd;

		if (poll(&p, 1, 1000) != 1)
			continue;
		fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			continue;
		/*
		 * The whole request before the answer: closing with part of it
		 * unread would reset the connection, and the caller could see
		 * the reset before the answer ("unreachable", not the lie).
		 */
		if (!read_frame(fd, in, sizeof(in), &plen)) {
			close(fd);
			continue;
		}
		if (liar) {
			admin_write_all(fd, out, len);
		} else {
			/* A byte a second, for as long as the caller stays. */
			while (off < len && time(NULL) < end &&
			       send(fd, out + off, 1, MSG_NOSIGNAL) == 1) {
				off++;
				sleep(1);
			}
		}
		close(fd);
	}
	close(lfd);
	return 0;
}

static int socket_call(const char *name, unsigned int uid)
{
	Rswap__AdminRequest req = RSWAP__ADMIN_REQUEST__INIT;
	Rswap__ClientsRequest cl = RSWAP__CLIENTS_REQUEST__INIT;
	struct admin_target t = { .socket = name };
	Rswap__AdminResponse *resp;
	char err[ADMIN_ERR_LEN];
	bool answered;

	if (setgroups(0, NULL) || setgid(uid) || setuid(uid)) {
		perror(PROG ": becoming the other user");
		return 2;
	}
	req.req_case = RSWAP__ADMIN_REQUEST__REQ_CLIENTS;
	req.clients = &cl;
	resp = admin_call(&t, &req, TIMEOUT_MS, err, sizeof(err));
	if (!resp) {
		fprintf(stderr, PROG ": socket-call: %s\n", err);
		return 2;
	}
	answered = resp->resp_case == RSWAP__ADMIN_RESPONSE__RESP_CLIENTS;
	printf("socket-call as uid %u: %s%s%s\n", uid, answered ? "ANSWERED" : "refused",
	       answered ? "" : ": ", answered ? "" : resp->error->message);
	rswap__admin_response__free_unpacked(resp, NULL);
	return answered ? 1 : 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: " PROG " replay --server H:P --admin-key FILE\n"
		   "       " PROG " trickle --server H:P --conns N [--from ADDR]... [--seconds S]\n"
		   "       " PROG " socket-call --socket NAME --uid U\n"
		   "       " PROG " fake-peer --listen H:P --mode trickle|liar [--seconds S]\n");
}

int main(int argc, char **argv)
{
	char host[256] = "", port[16] = "", err[ADMIN_ERR_LEN];
	const char *from[FROM_MAX], *mode = NULL, *keyfile = NULL, *cmd, *sock = NULL;
	unsigned int n_from = 0;
	uint64_t conns = 0, seconds = 0, uid = 65534;
	struct auth_key key;
	int i;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	cmd = argv[1];
	for (i = 2; i < argc; i++) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!val) {
			usage(stderr);
			return 2;
		}
		i++;
		if (!strcmp(opt, "--server") || !strcmp(opt, "--listen")) {
			if (split_hostport(val, host, sizeof(host), port, sizeof(port)))
				return 2;
		} else if (!strcmp(opt, "--admin-key")) {
			keyfile = val;
		} else if (!strcmp(opt, "--conns")) {
			if (tool_parse_u64(PROG, "--conns", val, 4096, &conns))
				return 2;
		} else if (!strcmp(opt, "--seconds")) {
			if (tool_parse_u64(PROG, "--seconds", val, 86400, &seconds))
				return 2;
		} else if (!strcmp(opt, "--from") && n_from < FROM_MAX) {
			from[n_from++] = val;
		} else if (!strcmp(opt, "--mode")) {
			mode = val;
		} else if (!strcmp(opt, "--socket")) {
			sock = val;
		} else if (!strcmp(opt, "--uid")) {
			if (tool_parse_u64(PROG, "--uid", val, 65534, &uid))
				return 2;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (!strcmp(cmd, "socket-call") && sock)
		return socket_call(sock, (unsigned int)uid);
	if (!host[0]) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(cmd, "replay")) {
		if (!keyfile || auth_key_load(&key, keyfile, err, sizeof(err))) {
			fprintf(stderr, PROG ": replay: --admin-key: %s\n", keyfile ? err : "missing");
			return 2;
		}
		return replay(host, port, &key);
	}
	if (!strcmp(cmd, "trickle") && conns)
		return trickle(host, port, (unsigned int)conns, from, n_from,
			       seconds ? (unsigned int)seconds : 10);
	if (!strcmp(cmd, "fake-peer") && mode)
		return fake_peer(host, port, mode, seconds ? (unsigned int)seconds : 60);
	usage(stderr);
	return 2;
}
