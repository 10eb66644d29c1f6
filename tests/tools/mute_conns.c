// SPDX-License-Identifier: GPL-2.0
/*
 * rswap-mute-conns: open many rdma_cm connections to rswap-server and never
 * say HELLO on any of them, as a peer exhausting the server before
 * authentication would; hold the ones accepted and report what became of
 * them.
 *
 *   1. --count connect requests, at most --parallel of them unanswered at
 *      once (the server's listen backlog is not what is measured), each
 *      from --source if given. Each ends ESTABLISHED (accepted), REJECTED
 *      by the server (rejected: rdma_reject, status 28) or otherwise
 *      (failed: unreachable, a reject by the CM itself, a timeout).
 *   2. Then one line, also written to --ready FILE:
 *        mute: N requests: A accepted, R rejected, F failed
 *   3. The accepted ones are held, silent, until the server has closed all
 *      of them or --hold seconds have passed (default 60), then:
 *        mute: A held: C closed by the server, after S1 to S2 s
 *      (S1, S2: the shortest and longest time from accepted to closed)
 *
 * One event channel, one protection domain and one CQ for every queue pair
 * (nothing is ever posted): a few thousand requests cost the tool no fds.
 * Exit status: 0 when it ran (the numbers are the caller's to judge), 1 on
 * a setup error, 2 on usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rdma/rdma_cma.h>

#include "tool_args.h"

#define MUTE_COUNT_MAX 100000
#define MUTE_PARALLEL_DEFAULT 16
#define MUTE_HOLD_DEFAULT_S 60
/* rdma_cm's address and route resolution: rxe answers in well under this. */
#define MUTE_RESOLVE_MS 5000
/* Every request is answered by the CM within its own retries; this is the
 * bound should one never be. */
#define MUTE_CONNECT_PHASE_S 180
/* rdma_reject's reason as the active side sees it (IB_CM_REJ_CONSUMER_DEFINED). */
#define MUTE_REJ_CONSUMER 28

enum mute_state { MUTE_IDLE, MUTE_PENDING, MUTE_ACCEPTED, MUTE_DONE };

struct mute_conn {
	struct rdma_cm_id *id;
	enum mute_state state;
	uint64_t established_ms;
};

struct mute {
	struct rdma_event_channel *chan;
	struct ibv_context *verbs;	/* of the first route: all share it */
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	struct sockaddr_storage src, dst;
	bool have_src;
	struct mute_conn *conns;
	unsigned int count, parallel, started, pending;
	unsigned int accepted, rejected, failed, closed;
	uint64_t start_ms;
	uint64_t held_min_ms, held_max_ms;	/* accepted to closed, of the closed */
	unsigned int failed_said;	/* failures described so far */
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void usage(FILE *out)
{
	fprintf(out,
"Usage: rswap-mute-conns --server ADDR:PORT --count N [--source ADDR]\n"
"                        [--parallel P] [--hold SECONDS] [--ready FILE]\n"
"Open N rdma_cm connections to rswap-server and never send HELLO; print how\n"
"many were accepted, rejected and failed (also into FILE), hold the accepted\n"
"ones until the server closes them or SECONDS pass (default %d), and print\n"
"how many it closed and when. Exit 0: ran, 1: setup error, 2: usage.\n",
		MUTE_HOLD_DEFAULT_S);
}

/* "HOST:PORT" ("[v6]:PORT" too) or, with @port NULL, "HOST", into @ss. */
static int parse_addr(const char *text, const char *what, struct sockaddr_storage *ss,
		      bool with_port)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV }, *res;
	char host[128];
	const char *port = NULL;
	int ret;

	snprintf(host, sizeof(host), "%s", text);
	if (with_port) {
		char *colon = strrchr(host, ':');

		if (!colon) {
			fprintf(stderr, "rswap-mute-conns: %s '%s': want ADDR:PORT\n", what, text);
			return -1;
		}
		*colon = '\0';
		port = colon + 1;
	}
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	ret = getaddrinfo(host, port, &hints, &res);
	if (ret) {
		fprintf(stderr, "rswap-mute-conns: %s '%s': %s\n", what, text, gai_strerror(ret));
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return 0;
}

/* Start request @i: address resolution, then route, then connect. */
static int start_one(struct mute *m, unsigned int i)
{
	struct mute_conn *mc = &m->conns[i];

	if (rdma_create_id(m->chan, &mc->id, mc, RDMA_PS_TCP)) {
		perror("rswap-mute-conns: rdma_create_id");
		return -1;
	}
	mc->state = MUTE_PENDING;
	m->started++;
	m->pending++;
	if (rdma_resolve_addr(mc->id, m->have_src ? (struct sockaddr *)&m->src : NULL,
			      (struct sockaddr *)&m->dst, MUTE_RESOLVE_MS)) {
		perror("rswap-mute-conns: rdma_resolve_addr");
		return -1;
	}
	return 0;
}

/* The shared PD and CQ, on the device of the first route. */
static int shared_verbs(struct mute *m, struct ibv_context *verbs)
{
	if (m->verbs)
		return m->verbs == verbs ? 0 : -1;
	m->pd = ibv_alloc_pd(verbs);
	m->cq = m->pd ? ibv_create_cq(verbs, 1, NULL, NULL, 0) : NULL;
	if (!m->cq) {
		perror("rswap-mute-conns: ibv_alloc_pd/ibv_create_cq");
		return -1;
	}
	m->verbs = verbs;
	return 0;
}

static int connect_one(struct mute *m, struct mute_conn *mc)
{
	struct ibv_qp_init_attr attr = {
		.cap = { .max_send_wr = 1, .max_recv_wr = 1, .max_send_sge = 1,
			 .max_recv_sge = 1 },
		.qp_type = IBV_QPT_RC,
	};
	struct rdma_conn_param param = { .initiator_depth = 1, .responder_resources = 1,
					 .retry_count = 7, .rnr_retry_count = 7 };

	if (shared_verbs(m, mc->id->verbs))
		return -1;
	attr.send_cq = m->cq;
	attr.recv_cq = m->cq;
	if (rdma_create_qp(mc->id, m->pd, &attr)) {
		perror("rswap-mute-conns: rdma_create_qp");
		return -1;
	}
	if (rdma_connect(mc->id, &param)) {
		perror("rswap-mute-conns: rdma_connect");
		return -1;
	}
	return 0;
}

/* Free @mc's id; its event must have been acked already. */
static void finish(struct mute *m, struct mute_conn *mc)
{
	if (mc->state == MUTE_PENDING)
		m->pending--;
	mc->state = MUTE_DONE;
	if (mc->id->qp)
		rdma_destroy_qp(mc->id);
	rdma_destroy_id(mc->id);
	mc->id = NULL;
}

static void failed(struct mute *m, struct mute_conn *mc, const char *what, int status)
{
	m->failed++;
	/* The first few are described; the count says the rest. */
	if (m->failed_said++ < 5)
		fprintf(stderr, "rswap-mute-conns: request %ld: %s (status %d)\n",
			(long)(mc - m->conns), what, status);
	finish(m, mc);
}

/* The server ended accepted @mc. */
static void closed(struct mute *m, struct mute_conn *mc)
{
	uint64_t held = mono_ms() - mc->established_ms;

	if (!m->closed++ || held < m->held_min_ms)
		m->held_min_ms = held;
	if (held > m->held_max_ms)
		m->held_max_ms = held;
	finish(m, mc);
}

/* Handle one event; -1 on a local setup error. */
static int on_event(struct mute *m, struct rdma_cm_event *ev)
{
	struct rdma_cm_event e = *ev;
	struct mute_conn *mc = e.id->context;

	rdma_ack_cm_event(ev);
	if (!mc || mc->state == MUTE_DONE)
		return 0;
	switch (e.event) {
	case RDMA_CM_EVENT_ADDR_RESOLVED:
		if (rdma_resolve_route(mc->id, MUTE_RESOLVE_MS)) {
			perror("rswap-mute-conns: rdma_resolve_route");
			return -1;
		}
		return 0;
	case RDMA_CM_EVENT_ROUTE_RESOLVED:
		return connect_one(m, mc);
	case RDMA_CM_EVENT_ESTABLISHED:
		m->pending--;
		m->accepted++;
		mc->state = MUTE_ACCEPTED;
		mc->established_ms = mono_ms();
		return 0;
	case RDMA_CM_EVENT_REJECTED:
		if (e.status == MUTE_REJ_CONSUMER) {
			m->rejected++;
			finish(m, mc);
		} else {
			failed(m, mc, "rejected, not by the server", e.status);
		}
		return 0;
	case RDMA_CM_EVENT_DISCONNECTED:
		if (mc->state == MUTE_ACCEPTED)
			closed(m, mc);
		else
			failed(m, mc, "disconnected before it was established", e.status);
		return 0;
	case RDMA_CM_EVENT_ADDR_ERROR:
	case RDMA_CM_EVENT_ROUTE_ERROR:
	case RDMA_CM_EVENT_CONNECT_ERROR:
	case RDMA_CM_EVENT_UNREACHABLE:
	case RDMA_CM_EVENT_DEVICE_REMOVAL:
		/* after ESTABLISHED: the server went, which closed it too */
		if (mc->state == MUTE_ACCEPTED)
			closed(m, mc);
		else
			failed(m, mc, rdma_event_str(e.event), e.status);
		return 0;
	default:
		return 0;
	}
}

/* Wait up to @ms for events and handle them all: 0, or -1 on an error. */
static int pump(struct mute *m, int ms)
{
	struct pollfd p = { .fd = m->chan->fd, .events = POLLIN };
	struct rdma_cm_event *ev;

	if (poll(&p, 1, ms) < 0 && errno != EINTR) {
		perror("rswap-mute-conns: poll");
		return -1;
	}
	while (!rdma_get_cm_event(m->chan, &ev))
		if (on_event(m, ev))
			return -1;
	if (errno != EAGAIN) {
		perror("rswap-mute-conns: rdma_get_cm_event");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "source", required_argument, NULL, 'S' },
		{ "count", required_argument, NULL, 'n' },
		{ "parallel", required_argument, NULL, 'p' },
		{ "hold", required_argument, NULL, 'H' },
		{ "ready", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct mute m = { .parallel = MUTE_PARALLEL_DEFAULT };
	const char *server = NULL, *source = NULL, *ready = NULL;
	uint64_t v, hold_s = MUTE_HOLD_DEFAULT_S, end;
	char line[160];
	unsigned int i;
	int opt, ret = 1;

	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			server = optarg;
			break;
		case 'S':
			source = optarg;
			break;
		case 'n':
			if (tool_parse_u64("rswap-mute-conns", "--count", optarg, MUTE_COUNT_MAX, &v))
				return 2;
			m.count = (unsigned int)v;
			break;
		case 'p':
			if (tool_parse_u64("rswap-mute-conns", "--parallel", optarg, 1024, &v) || !v)
				return 2;
			m.parallel = (unsigned int)v;
			break;
		case 'H':
			if (tool_parse_u64("rswap-mute-conns", "--hold", optarg, 86400, &hold_s))
				return 2;
			break;
		case 'r':
			ready = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!server || !m.count || optind < argc) {
		usage(stderr);
		return 2;
	}
	if (parse_addr(server, "--server", &m.dst, true) ||
	    (source && parse_addr(source, "--source", &m.src, false)))
		return 2;
	m.have_src = source != NULL;
	m.conns = calloc(m.count, sizeof(*m.conns));
	m.chan = rdma_create_event_channel();
	if (!m.conns || !m.chan) {
		perror("rswap-mute-conns: setup");
		goto out;
	}
	if (fcntl(m.chan->fd, F_SETFL, fcntl(m.chan->fd, F_GETFL) | O_NONBLOCK)) {
		perror("rswap-mute-conns: fcntl");
		goto out;
	}
	m.start_ms = mono_ms();
	end = m.start_ms + MUTE_CONNECT_PHASE_S * 1000ull;
	while (m.started < m.count || m.pending) {
		while (m.started < m.count && m.pending < m.parallel)
			if (start_one(&m, m.started))
				goto out;
		if (mono_ms() > end) {
			fprintf(stderr, "rswap-mute-conns: %u requests unanswered after %d s\n",
				m.pending, MUTE_CONNECT_PHASE_S);
			break;
		}
		if (pump(&m, 100))
			goto out;
	}
	for (i = 0; i < m.count; i++)
		if (m.conns[i].state == MUTE_PENDING)
			failed(&m, &m.conns[i], "never answered", 0);
	snprintf(line, sizeof(line), "mute: %u requests: %u accepted, %u rejected, %u failed",
		 m.count, m.accepted, m.rejected, m.failed);
	printf("%s\n", line);
	fflush(stdout);
	if (ready) {
		FILE *f = fopen(ready, "w");

		if (!f || fprintf(f, "%s\n", line) < 0 || fclose(f)) {
			perror(ready);
			goto out;
		}
	}
	end = mono_ms() + hold_s * 1000;
	while (m.closed < m.accepted && mono_ms() < end)
		if (pump(&m, 200))
			goto out;
	if (m.closed)
		printf("mute: %u held: %u closed by the server, after %.1f to %.1f s\n",
		       m.accepted, m.closed, (double)m.held_min_ms / 1000,
		       (double)m.held_max_ms / 1000);
	else
		printf("mute: %u held: 0 closed by the server in %llu s\n", m.accepted,
		       (unsigned long long)hold_s);
	ret = 0;
out:
	for (i = 0; m.conns && i < m.count; i++)
		if (m.conns[i].id)
			finish(&m, &m.conns[i]);
	if (m.cq)
		ibv_destroy_cq(m.cq);
	if (m.pd)
		ibv_dealloc_pd(m.pd);
	if (m.chan)
		rdma_destroy_event_channel(m.chan);
	free(m.conns);
	return ret;
}
