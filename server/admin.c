// SPDX-License-Identifier: GPL-2.0
/*
 * admin: rswap-server's admin API on TCP (proto/rswap.proto), and
 * Prometheus text on "GET /metrics" at the same port.
 *
 * Runs in the server's event loop: the listener and each admin connection
 * are polled sources; reads and writes are non-blocking. Limits: at most
 * ADMIN_CONNS_MAX connections, requests of at most ADMIN_IN_MAX bytes, and
 * a connection idle for ADMIN_IDLE_S seconds is closed, so no admin client
 * can hang the server or hold its slots.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "admin_frame.h"
#include "clients.h"
#include "notify.h"
#include "rswap.pb-c.h"
#include "server.h"

#define ADMIN_CONNS_MAX 16
#define ADMIN_IN_MAX 8192	/* requests are a few bytes; HTTP headers fit */
#define ADMIN_IDLE_S 10
#define RSWAP_VERSION_STRING "0.1.0"

struct admin_conn {
	struct loop_src src;
	struct admin_conn *next;
	struct server *srv;
	uint8_t in[ADMIN_IN_MAX];
	size_t have;
	uint8_t *out;
	size_t out_len, out_off;
	bool close_after;
	bool closing;
	time_t last;
};

static time_t now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void admin_release(struct loop_src *src)
{
	struct admin_conn *a = (struct admin_conn *)src;

	close(a->src.fd);
	free(a->out);
	free(a);
}

static void admin_close(struct admin_conn *a)
{
	struct server *s = a->srv;
	struct admin_conn **pp;

	if (a->closing)
		return;
	a->closing = true;
	for (pp = &s->admins; *pp; pp = &(*pp)->next) {
		if (*pp == a) {
			*pp = a->next;
			s->n_admins--;
			break;
		}
	}
	loop_forget(s, &a->src);
}

/* ---- answers ---- */

static void fill_status(struct server *s, Rswap__ServerStatus *st, char *listen, size_t n,
			char **peers)
{
	rswap__server_status__init(st);
	st->server_id.data = s->id;
	st->server_id.len = RSWAP_ID_LEN;
	st->version = RSWAP_VERSION_STRING;
	snprintf(listen, n, "%s:%s", s->set.listen_host, s->set.listen_port);
	st->listen = listen;
	st->memory_bytes = s->set.memory;
	st->slab_bytes = s->pool.slab_size;
	st->slabs_total = s->pool.n_slabs;
	st->slabs_free = s->pool.n_free;
	for (uint32_t i = 0; i < s->pool.max_clients; i++)
		st->clients_known += s->pool.clients[i].known;
	st->connections = s->n_conns;
	st->uptime_seconds = (mono_ns() - s->started_ns) / 1000000000ull;
	st->backing_in_ram = s->mem.in_ram;
	st->draining = drain_refuses_grants(&s->drain);
	for (unsigned int i = 0; i < s->set.n_peers; i++)
		peers[i] = s->set.peers[i].text;
	st->n_peers = s->set.n_peers;
	st->peers = peers;
}

static void fill_drain_status(struct server *s, Rswap__DrainStatus *st)
{
	static char *const states[] = { "idle", "running", "done" };
	const struct drain *d = &s->drain;
	uint64_t end = d->state == DRAIN_RUNNING ? mono_ns() : d->ended_ns;

	rswap__drain_status__init(st);
	st->state = states[d->state];
	st->kind = d->rebalance ? "rebalance" : "drain";
	st->slabs_goal = d->goal;
	st->slabs_moved = d->moved;
	st->slabs_not_moved = d->not_moved;
	if (d->rebalance)
		st->slabs_remaining = d->goal > d->moved ? d->goal - d->moved : 0;
	else
		st->slabs_remaining = s->pool.n_slabs - s->pool.n_free;
	st->bytes_moved = d->bytes_moved;
	st->pages_copied = d->pages_copied;
	st->elapsed_ms = d->state == DRAIN_IDLE ? 0 : (end - d->started_ns) / 1000000ull;
	st->migrations_failed = d->failed;
	st->refusing_grants = drain_refuses_grants(d);
	st->message = (char *)d->message;
}

/* Client entries for every known client; *n set. Caller frees both arrays. */
static Rswap__ClientStats **fill_clients(struct server *s, size_t *n, Rswap__ClientStats **store,
					 uint32_t **index_of)
{
	Rswap__ClientStats **v = calloc(s->pool.max_clients, sizeof(*v));
	Rswap__ClientStats *cs = calloc(s->pool.max_clients, sizeof(*cs));
	uint32_t *idx = calloc(s->pool.max_clients, sizeof(*idx));
	uint32_t i;

	*n = 0;
	if (!v || !cs || !idx) {
		free(v);
		free(cs);
		free(idx);
		return NULL;
	}
	for (i = 0; i < s->pool.max_clients; i++) {
		struct pool_client *c = &s->pool.clients[i];
		Rswap__ClientStats *e = &cs[*n];

		if (!c->known)
			continue;
		rswap__client_stats__init(e);
		e->id.data = c->id;
		e->id.len = RSWAP_ID_LEN;
		e->name = c->name;
		e->quota_slabs = c->quota;
		e->held_slabs = c->held;
		e->grants_total = c->grants_total;
		e->returns_total = c->returns_total;
		e->refused_quota_total = c->refused_quota_total;
		e->refused_memory_total = c->refused_memory_total;
		e->connections = conn_count_for(s, i);
		idx[i] = (uint32_t)*n;
		v[(*n)++] = e;
	}
	*store = cs;
	*index_of = idx;
	return v;
}

static int answer(struct admin_conn *a, const Rswap__AdminResponse *resp)
{
	size_t len = rswap__admin_response__get_packed_size(resp);

	a->out = malloc(ADMIN_FRAME_HDR + len);
	if (!a->out)
		return -1;
	admin_frame_header(a->out, (uint32_t)len);
	rswap__admin_response__pack(resp, a->out + ADMIN_FRAME_HDR);
	a->out_len = ADMIN_FRAME_HDR + len;
	a->out_off = 0;
	return 0;
}

static int answer_error(struct admin_conn *a, const char *msg)
{
	Rswap__AdminResponse resp = RSWAP__ADMIN_RESPONSE__INIT;
	Rswap__Error e = RSWAP__ERROR__INIT;

	e.message = (char *)msg;
	resp.resp_case = RSWAP__ADMIN_RESPONSE__RESP_ERROR;
	resp.error = &e;
	a->close_after = true;
	return answer(a, &resp);
}

static int answer_request(struct admin_conn *a, const Rswap__AdminRequest *req)
{
	struct server *s = a->srv;
	Rswap__AdminResponse resp = RSWAP__ADMIN_RESPONSE__INIT;
	Rswap__ServerStatus st;
	Rswap__ServerStats stats = RSWAP__SERVER_STATS__INIT;
	Rswap__ServerCounters cnt = RSWAP__SERVER_COUNTERS__INIT;
	Rswap__ClientList list = RSWAP__CLIENT_LIST__INIT;
	Rswap__DrainStatus drain;
	char *peers[SETTINGS_PEERS_MAX], err[1024];
	Rswap__ClientStats **clients = NULL, *store = NULL;
	Rswap__SlabOwner *owners = NULL, **owner_v = NULL;
	uint32_t *index_of = NULL, slab;
	size_t n_clients = 0, n_owned = 0;
	char listen[96];
	int ret = -1;

	fill_status(s, &st, listen, sizeof(listen), peers);
	switch (req->req_case) {
	case RSWAP__ADMIN_REQUEST__REQ_DRAIN:
	case RSWAP__ADMIN_REQUEST__REQ_REBALANCE:
		if (drain_start(s, req->req_case == RSWAP__ADMIN_REQUEST__REQ_REBALANCE,
				req->drain && req->drain->partial, err, sizeof(err))) {
			s->stats.admin_requests_total++;
			return answer_error(a, err);
		}
		fill_drain_status(s, &drain);
		resp.resp_case = RSWAP__ADMIN_RESPONSE__RESP_DRAIN_STATUS;
		resp.drain_status = &drain;
		break;
	case RSWAP__ADMIN_REQUEST__REQ_UNDRAIN:
	case RSWAP__ADMIN_REQUEST__REQ_DRAIN_STATUS:
		if (req->req_case == RSWAP__ADMIN_REQUEST__REQ_UNDRAIN)
			drain_undrain(s);
		fill_drain_status(s, &drain);
		resp.resp_case = RSWAP__ADMIN_RESPONSE__RESP_DRAIN_STATUS;
		resp.drain_status = &drain;
		break;
	case RSWAP__ADMIN_REQUEST__REQ_STATUS:
		resp.resp_case = RSWAP__ADMIN_RESPONSE__RESP_STATUS;
		resp.status = &st;
		break;
	case RSWAP__ADMIN_REQUEST__REQ_CLIENTS:
	case RSWAP__ADMIN_REQUEST__REQ_STATS:
		clients = fill_clients(s, &n_clients, &store, &index_of);
		if (!clients)
			return answer_error(a, "out of memory");
		if (req->req_case == RSWAP__ADMIN_REQUEST__REQ_CLIENTS) {
			list.n_clients = n_clients;
			list.clients = clients;
			resp.resp_case = RSWAP__ADMIN_RESPONSE__RESP_CLIENTS;
			resp.clients = &list;
			break;
		}
#define X(name, help) cnt.name = s->stats.name;
		SERVER_COUNTERS(X)
#undef X
		cnt.metalog_records_total = s->log.records_written_total;
		cnt.metalog_errors_total = s->log.write_errors_total;
		owners = calloc(s->pool.n_slabs - s->pool.n_free + 1, sizeof(*owners));
		owner_v = calloc(s->pool.n_slabs - s->pool.n_free + 1, sizeof(*owner_v));
		if (!owners || !owner_v) {
			ret = answer_error(a, "out of memory");
			goto out;
		}
		for (slab = 0; slab < s->pool.n_slabs; slab++) {
			if (s->pool.owner[slab] == POOL_NONE)
				continue;
			rswap__slab_owner__init(&owners[n_owned]);
			owners[n_owned].slab = slab;
			owners[n_owned].client = index_of[s->pool.owner[slab]];
			owner_v[n_owned] = &owners[n_owned];
			n_owned++;
		}
		stats.status = &st;
		stats.counters = &cnt;
		stats.n_clients = n_clients;
		stats.clients = clients;
		stats.n_slabs = n_owned;
		stats.slabs = owner_v;
		resp.resp_case = RSWAP__ADMIN_RESPONSE__RESP_STATS;
		resp.stats = &stats;
		break;
	default:
		s->stats.admin_malformed_total++;
		return answer_error(a, "unknown request");
	}
	s->stats.admin_requests_total++;
	ret = answer(a, &resp);
out:
	free(owners);
	free(owner_v);
	free(clients);
	free(store);
	free(index_of);
	return ret;
}

#define METRIC(buf, name, type, help, fmt, ...) \
	fprintf(buf, "# HELP rswap_" name " " help "\n# TYPE rswap_" name " " type "\n" \
		"rswap_" name fmt "\n", __VA_ARGS__)

char *admin_metrics_text(struct server *s, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);
	uint32_t i;

	if (!f)
		return NULL;
#define X(name, help) \
	fprintf(f, "# HELP rswap_" #name " " help "\n# TYPE rswap_" #name " counter\n" \
		"rswap_" #name " %llu\n", (unsigned long long)s->stats.name);
	SERVER_COUNTERS(X)
#undef X
	METRIC(f, "memory_bytes", "gauge", "memory donated to the pool", " %llu",
	       (unsigned long long)s->set.memory);
	METRIC(f, "slab_bytes", "gauge", "bytes per slab", " %llu",
	       (unsigned long long)s->pool.slab_size);
	METRIC(f, "slabs_free", "gauge", "slabs held by no client", " %u", s->pool.n_free);
	METRIC(f, "connections", "gauge", "live RDMA connections", " %u", s->n_conns);
	fprintf(f, "# HELP rswap_client_held_slabs slabs a client holds\n"
		"# TYPE rswap_client_held_slabs gauge\n");
	for (i = 0; i < s->pool.max_clients; i++)
		if (s->pool.clients[i].known)
			fprintf(f, "rswap_client_held_slabs{client=\"%s\"} %u\n",
				s->pool.clients[i].name, s->pool.clients[i].held);
	fprintf(f, "# HELP rswap_client_grants_total slabs granted to a client\n"
		"# TYPE rswap_client_grants_total counter\n");
	for (i = 0; i < s->pool.max_clients; i++)
		if (s->pool.clients[i].known)
			fprintf(f, "rswap_client_grants_total{client=\"%s\"} %llu\n",
				s->pool.clients[i].name,
				(unsigned long long)s->pool.clients[i].grants_total);
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}

static int answer_http(struct admin_conn *a)
{
	static const char not_found[] =
		"HTTP/1.0 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 28\r\n\r\n"
		"try GET /metrics, or rswapctl\n";
	char *body = NULL, hdr[160];
	size_t blen = 0;
	int hlen;

	a->close_after = true;
	if (strncmp((const char *)a->in, "GET /metrics ", 13)) {
		a->out = malloc(sizeof(not_found));
		if (!a->out)
			return -1;
		memcpy(a->out, not_found, sizeof(not_found) - 1);
		a->out_len = sizeof(not_found) - 1;
		return 0;
	}
	body = admin_metrics_text(a->srv, &blen);
	if (!body)
		return -1;
	hlen = snprintf(hdr, sizeof(hdr), "HTTP/1.0 200 OK\r\nContent-Type: text/plain; "
			"version=0.0.4\r\nContent-Length: %zu\r\n\r\n", blen);
	a->out = malloc((size_t)hlen + blen);
	if (!a->out) {
		free(body);
		return -1;
	}
	memcpy(a->out, hdr, (size_t)hlen);
	memcpy(a->out + hlen, body, blen);
	a->out_len = (size_t)hlen + blen;
	free(body);
	a->srv->stats.admin_requests_total++;
	return 0;
}

/* Act on what has arrived: 0 to go on, -1 to close now. */
static int take_input(struct admin_conn *a)
{
	Rswap__AdminRequest *req;
	uint32_t len;
	int ret;

	switch (admin_frame_parse(a->in, a->have, &len)) {
	case FRAME_MORE:
		if (a->have == sizeof(a->in)) {
			a->srv->stats.admin_malformed_total++;
			return answer_error(a, "request too large");
		}
		return 0;
	case FRAME_TOO_BIG:
		a->srv->stats.admin_malformed_total++;
		return answer_error(a, "frame too large");
	case FRAME_HTTP:
		if (!memmem(a->in, a->have, "\r\n\r\n", 4) && !memmem(a->in, a->have, "\n\n", 2)) {
			if (a->have == sizeof(a->in))
				return -1;
			return 0;
		}
		return answer_http(a);
	case FRAME_DONE:
		break;
	}
	req = rswap__admin_request__unpack(NULL, len, a->in + ADMIN_FRAME_HDR);
	if (!req) {
		a->srv->stats.admin_malformed_total++;
		log_msg(LOG_INFO, "admin: malformed request (%u bytes), refused", len);
		return answer_error(a, "malformed request");
	}
	ret = answer_request(a, req);
	rswap__admin_request__free_unpacked(req, NULL);
	/* One request per frame; whatever follows waits for the next read. */
	memmove(a->in, a->in + ADMIN_FRAME_HDR + len, a->have - ADMIN_FRAME_HDR - len);
	a->have -= ADMIN_FRAME_HDR + len;
	return ret;
}

static void admin_ready(struct loop_src *src)
{
	struct admin_conn *a = (struct admin_conn *)src;
	ssize_t n;

	a->last = now_s();
	if (a->out) {
		n = send(src->fd, a->out + a->out_off, a->out_len - a->out_off,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			admin_close(a);
			return;
		}
		if (n > 0)
			a->out_off += (size_t)n;
		if (a->out_off < a->out_len)
			return;
		free(a->out);
		a->out = NULL;
		src->events = POLLIN;
		if (a->close_after)
			admin_close(a);
		return;
	}
	n = recv(src->fd, a->in + a->have, sizeof(a->in) - a->have, MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		admin_close(a);
		return;
	}
	if (n < 0)
		return;
	a->have += (size_t)n;
	if (take_input(a)) {
		admin_close(a);
		return;
	}
	if (a->out)
		src->events = POLLOUT;
}

static void listener_ready(struct loop_src *src)
{
	struct server *s = (struct server *)((char *)src - offsetof(struct server, admin_src));
	struct admin_conn *a;
	int fd = accept4(src->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (s->n_admins >= ADMIN_CONNS_MAX) {
		log_msg(LOG_INFO, "admin: %u connections open, refusing another", s->n_admins);
		close(fd);
		return;
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		close(fd);
		return;
	}
	a->srv = s;
	a->src.fd = fd;
	a->src.ready = admin_ready;
	a->src.release = admin_release;
	a->last = now_s();
	if (loop_watch(s, &a->src)) {
		close(fd);
		free(a);
		return;
	}
	a->next = s->admins;
	s->admins = a;
	s->n_admins++;
}

static void tick_ready(struct loop_src *src)
{
	struct server *s = (struct server *)((char *)src - offsetof(struct server, tick_src));
	struct admin_conn *a, *next;
	uint64_t expirations;
	time_t now = now_s();

	if (read(src->fd, &expirations, sizeof(expirations)) < 0)
		return;
	for (a = s->admins; a; a = next) {
		next = a->next;
		if (now - a->last > ADMIN_IDLE_S)
			admin_close(a);
	}
	drain_tick(s);
	conn_tick(s);
	clients_tick(s);
	server_listen_tick(s);
	/* Twice per interval, as sd_watchdog_enabled(3) advises: a loop stuck
	 * for a whole interval gets the server restarted. */
	if (s->watchdog_ns && mono_ns() - s->watchdog_sent_ns >= s->watchdog_ns / 2) {
		s->watchdog_sent_ns = mono_ns();
		notify_systemd("WATCHDOG=1");
	}
}

int admin_start(struct server *s, char *err, size_t err_size)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct itimerspec its = { .it_interval = { 1, 0 }, .it_value = { 1, 0 } };
	struct addrinfo *res;
	int fd, one = 1, ret;

	s->started_ns = mono_ns();
	ret = getaddrinfo(s->set.admin_host, s->set.admin_port, &hints, &res);
	if (ret) {
		snprintf(err, err_size, "--admin %s:%s: %s", s->set.admin_host, s->set.admin_port,
			 gai_strerror(ret));
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, ADMIN_CONNS_MAX)) {
		snprintf(err, err_size, "admin API on %s:%s: %s", s->set.admin_host,
			 s->set.admin_port, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	s->admin_src.fd = fd;
	s->admin_src.ready = listener_ready;
	s->tick_src.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (s->tick_src.fd < 0 || timerfd_settime(s->tick_src.fd, 0, &its, NULL)) {
		snprintf(err, err_size, "timerfd: %s", strerror(errno));
		return -1;
	}
	s->tick_src.ready = tick_ready;
	if (loop_watch(s, &s->admin_src) || loop_watch(s, &s->tick_src)) {
		snprintf(err, err_size, "io_uring: no room for the admin API");
		return -1;
	}
	return 0;
}

void admin_stop(struct server *s)
{
	while (s->admins)
		admin_close(s->admins);
	if (s->admin_src.fd > 0) {
		loop_forget(s, &s->admin_src);
		close(s->admin_src.fd);
	}
	if (s->tick_src.fd > 0) {
		loop_forget(s, &s->tick_src);
		close(s->tick_src.fd);
	}
}
