// SPDX-License-Identifier: GPL-2.0
/*
 * admin: rswap-server's admin API (proto/rswap.proto) on TCP and on the
 * admin socket, and Prometheus text on "GET /metrics" at the TCP port.
 *
 * Who may ask what (the top of proto/rswap.proto has the exchange):
 *   - the admin socket, peer uid root or this server's own (SO_PEERCRED):
 *     every call;
 *   - anyone else (TCP, or the socket under another uid): status,
 *     drain_status, GET /metrics, and a challenge; any other call only as
 *     an AuthedRequest proved with --admin-key-file's key over the nonce of
 *     that connection's last challenge. A wrong proof closes the connection.
 *
 * One admin connection, in the server's event loop (non-blocking):
 *
 *   READING --whole request--> WRITING --answer taken--> READING
 *      |   \                       ^  |
 *      |    +--drain, peers asked--> WAITING (admin_drain_decided)
 *      |                              |  |
 *      +--deadline, error, evicted, hang-up, or an answer that closes--> closed
 *
 * WAITING reads nothing more (its poll waits for a hang-up only); the
 * decision comes within the peers' round (drain.h) and is sent at once.
 *
 * READING has ADMIN_REQUEST_S from the accept or the last answer to bring
 * a whole request (a peer trickling one byte a second gets no longer), and
 * WRITING ADMIN_ANSWER_S for the answer to be taken. At most
 * ADMIN_CONNS_MAX connections per listener and ADMIN_CONNS_PER_SOURCE per
 * TCP source address; a full listener or source makes room by closing its
 * READING connection nearest its deadline, so idle or slow sockets cannot
 * lock rswapctl and Prometheus out (a source holding its share hurts only
 * itself).
 * Out of file descriptors (EMFILE), a spare one is given up to accept the
 * connection and close it, so the listener does not spin.
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
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "admin_frame.h"
#include "admin_text.h"
#include "clients.h"
#include "notify.h"
#include "rswap.pb-c.h"
#include "server.h"

#define ADMIN_CONNS_MAX 16		/* per listener: TCP, the socket */
#define ADMIN_CONNS_PER_SOURCE 4	/* TCP, per source address */
#define ADMIN_IN_MAX 8192	/* requests are a few bytes; HTTP headers fit */
#define ADMIN_REQUEST_S 5	/* to bring a whole request */
#define ADMIN_ANSWER_S 10	/* to take the whole answer */
/* Held slabs per STATS answer: with the clients it stays under a frame. */
#define ADMIN_STATS_PAGE 32768
#define RSWAP_VERSION_STRING "0.1.0"

struct admin_conn {
	struct loop_src src;
	struct admin_conn *next;
	struct server *srv;
	bool via_socket;		/* accepted on the admin socket */
	bool privileged;		/* every call: the socket, root or our uid */
	bool nonce_valid;		/* a challenge is out, not yet spent */
	uint8_t nonce[RSWAP_NONCE_LEN];
	struct sockaddr_storage peer;	/* TCP: the source, for its cap */
	char peer_text[INET6_ADDRSTRLEN + 8];
	uint8_t in[ADMIN_IN_MAX];
	size_t have;
	uint8_t *out;
	size_t out_len, out_off;
	bool close_after;
	bool closing;
	bool awaiting_drain;		/* WAITING: drain_start asked the peers */
	uint64_t deadline_ns;		/* READING or WRITING must end by then */
};

/* One line a second at most per kind of trouble (struct log_limit). */
static struct log_limit rl_refused, rl_full, rl_fds, rl_auth;

/* log_limit_due, with " (and N more like it)" in @note when lines were
 * held back since the last one, else "". */
static bool admin_log_due(struct log_limit *l, char *note, size_t size)
{
	uint64_t held;

	if (!log_limit_due(l, mono_ns(), &held))
		return false;
	if (held)
		snprintf(note, size, " (and %llu more like it)", (unsigned long long)held);
	else
		note[0] = '\0';
	return true;
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
	st->slabs_remaining = drain_remaining(s);
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

static int answer_error(struct admin_conn *a, const char *msg);

static int answer(struct admin_conn *a, const Rswap__AdminResponse *resp)
{
	size_t len = rswap__admin_response__get_packed_size(resp);

	if (len > ADMIN_FRAME_MAX)
		return answer_error(a, "the answer would be too large (ask for fewer slabs)");
	a->deadline_ns = mono_ns() + ADMIN_ANSWER_S * 1000000000ull;
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

/* Calls anyone may make: what a peer's drain and a status check need. */
static bool open_call(Rswap__AdminRequest__ReqCase c)
{
	return c == RSWAP__ADMIN_REQUEST__REQ_STATUS || c == RSWAP__ADMIN_REQUEST__REQ_DRAIN_STATUS ||
	       c == RSWAP__ADMIN_REQUEST__REQ_CHALLENGE;
}

static const char *call_name(Rswap__AdminRequest__ReqCase c)
{
	switch (c) {
	case RSWAP__ADMIN_REQUEST__REQ_STATS: return "stats";
	case RSWAP__ADMIN_REQUEST__REQ_CLIENTS: return "clients";
	case RSWAP__ADMIN_REQUEST__REQ_DRAIN: return "drain";
	case RSWAP__ADMIN_REQUEST__REQ_REBALANCE: return "rebalance";
	case RSWAP__ADMIN_REQUEST__REQ_UNDRAIN: return "undrain";
	case RSWAP__ADMIN_REQUEST__REQ_FORGET: return "forget";
	default: return "this call";
	}
}

static int answer_challenge(struct admin_conn *a)
{
	Rswap__AdminResponse resp = RSWAP__ADMIN_RESPONSE__INIT;
	Rswap__AuthChallenge ch = RSWAP__AUTH_CHALLENGE__INIT;

	if (!a->srv->admin_key.len)
		return answer_error(a, "this server has no --admin-key-file: over TCP only "
				    "status, drain-status and metrics (use its admin socket)");
	if (RAND_bytes(a->nonce, sizeof(a->nonce)) != 1)
		return answer_error(a, "no random bytes for a challenge");
	a->nonce_valid = true;
	ch.nonce.data = a->nonce;
	ch.nonce.len = sizeof(a->nonce);
	resp.resp_case = RSWAP__ADMIN_RESPONSE__RESP_CHALLENGE;
	resp.challenge = &ch;
	return answer(a, &resp);
}

static int answer_forget(struct admin_conn *a, const Rswap__ForgetRequest *f)
{
	Rswap__AdminResponse resp = RSWAP__ADMIN_RESPONSE__INIT;
	Rswap__ForgetResult res = RSWAP__FORGET_RESULT__INIT;
	char err[512], who[ADMIN_ESCAPED_MAX(RSWAP_NAME_LEN)];
	uint32_t freed = 0;

	if (!f->client || !f->client[0])
		return answer_error(a, "forget: which client? (its name or id)");
	admin_escape_printable(who, sizeof(who), f->client);
	if (clients_forget(a->srv, f->client, &freed, err, sizeof(err))) {
		log_msg(LOG_INFO, "admin: forget %s refused: %s", who, err);
		return answer_error(a, err);
	}
	res.slabs_freed = freed;
	resp.resp_case = RSWAP__ADMIN_RESPONSE__RESP_FORGET;
	resp.forget = &res;
	return answer(a, &resp);
}

static int answer_request(struct admin_conn *a, const Rswap__AdminRequest *req, bool privileged)
{
	struct server *s = a->srv;
	Rswap__AdminResponse resp = RSWAP__ADMIN_RESPONSE__INIT;
	Rswap__ServerStatus st;
	Rswap__ServerStats stats = RSWAP__SERVER_STATS__INIT;
	Rswap__ServerCounters cnt = RSWAP__SERVER_COUNTERS__INIT;
	Rswap__ClientList list = RSWAP__CLIENT_LIST__INIT;
	Rswap__DrainStatus drain;
	char *peers[SETTINGS_PEERS_MAX], err[1024], note[48];
	Rswap__ClientStats **clients = NULL, *store = NULL;
	Rswap__SlabOwner *owners = NULL, **owner_v = NULL;
	uint32_t *index_of = NULL, slab;
	size_t n_clients = 0, n_owned = 0;
	char listen[96];
	uint32_t page = ADMIN_STATS_PAGE, max_owned;
	int ret = -1;

	if (!privileged && !open_call(req->req_case) &&
	    req->req_case != RSWAP__ADMIN_REQUEST__REQ__NOT_SET) {
		s->stats.admin_refused_total++;
		if (admin_log_due(&rl_refused, note, sizeof(note)))
			log_msg(LOG_INFO, "admin: %s from %s refused: neither the admin socket as "
				"root or this server's user, nor proved with the admin key%s",
				call_name(req->req_case), a->peer_text, note);
		snprintf(err, sizeof(err), "%s needs the admin socket (rswapctl on the server's "
			 "host, as root or its user) or the admin key (rswapctl --admin-key)",
			 call_name(req->req_case));
		return answer_error(a, err);
	}
	fill_status(s, &st, listen, sizeof(listen), peers);
	switch (req->req_case) {
	case RSWAP__ADMIN_REQUEST__REQ_CHALLENGE:
		return answer_challenge(a);
	case RSWAP__ADMIN_REQUEST__REQ_FORGET:
		s->stats.admin_requests_total++;
		return answer_forget(a, req->forget);
	case RSWAP__ADMIN_REQUEST__REQ_DRAIN:
	case RSWAP__ADMIN_REQUEST__REQ_REBALANCE:
		ret = drain_start(s, req->req_case == RSWAP__ADMIN_REQUEST__REQ_REBALANCE,
				  req->drain && req->drain->partial, err, sizeof(err));
		if (ret < 0) {
			s->stats.admin_requests_total++;
			return answer_error(a, err);
		}
		if (ret > 0) {
			s->stats.admin_requests_total++;
			a->awaiting_drain = true;
			a->src.events = POLLRDHUP;
			a->deadline_ns = mono_ns() + (ADMIN_ANSWER_S * 1000ull +
						      2 * PEERS_TIMEOUT_MS) * 1000000ull;
			return 0;
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
		if (req->stats && req->stats->max_slabs && req->stats->max_slabs < page)
			page = req->stats->max_slabs;
		max_owned = s->pool.n_slabs - s->pool.n_free;
		if (max_owned > page)
			max_owned = page;
		owners = calloc(max_owned + 1, sizeof(*owners));
		owner_v = calloc(max_owned + 1, sizeof(*owner_v));
		if (!owners || !owner_v) {
			ret = answer_error(a, "out of memory");
			goto out;
		}
		for (slab = req->stats ? req->stats->slab_offset : 0; slab < s->pool.n_slabs;
		     slab++) {
			if (s->pool.owner[slab] == POOL_NONE)
				continue;
			if (n_owned == max_owned) {
				stats.slabs_more = true;
				stats.slabs_next = slab;
				break;
			}
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
	char name[ADMIN_ESCAPED_MAX(RSWAP_NAME_LEN)];
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
	hist_print_prom(f, "grant_seconds", "time to answer a GRANT or GRANTS: scrub, reserve, "
			"the durable log write, registration", &s->grant_hist);
	hist_print_prom(f, "migration_seconds", "time a slab copy to another server took, "
			"connect to last completion (the copies that succeeded)",
			&s->migration_hist);
	fprintf(f, "# HELP rswap_client_held_slabs slabs a client holds\n"
		"# TYPE rswap_client_held_slabs gauge\n");
	/* Client names come from the network: escaped as label values. */
	for (i = 0; i < s->pool.max_clients; i++) {
		if (!s->pool.clients[i].known)
			continue;
		admin_escape_label(name, sizeof(name), s->pool.clients[i].name);
		fprintf(f, "rswap_client_held_slabs{client=\"%s\"} %u\n", name,
			s->pool.clients[i].held);
	}
	fprintf(f, "# HELP rswap_client_grants_total slabs granted to a client\n"
		"# TYPE rswap_client_grants_total counter\n");
	for (i = 0; i < s->pool.max_clients; i++) {
		if (!s->pool.clients[i].known)
			continue;
		admin_escape_label(name, sizeof(name), s->pool.clients[i].name);
		fprintf(f, "rswap_client_grants_total{client=\"%s\"} %llu\n", name,
			(unsigned long long)s->pool.clients[i].grants_total);
	}
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

/*
 * An AuthedRequest: the nonce of this connection's challenge is spent
 * whatever comes of it; the inner request is answered with every right
 * when the proof holds, and the connection closed when it does not.
 */
static int answer_authed(struct admin_conn *a, const Rswap__AuthedRequest *ar)
{
	struct server *s = a->srv;
	Rswap__AdminRequest *inner;
	uint8_t mac[RSWAP_MAC_LEN];
	const char *why = NULL;
	bool had_nonce = a->nonce_valid;
	char note[48];
	int ret;

	a->nonce_valid = false;
	if (!s->admin_key.len)
		why = "this server has no --admin-key-file";
	else if (!had_nonce)
		why = "no challenge before the proved call";
	else if (ar->mac.len != RSWAP_MAC_LEN ||
		 auth_admin_mac(&s->admin_key, a->nonce, ar->request.data, ar->request.len, mac) ||
		 CRYPTO_memcmp(mac, ar->mac.data, RSWAP_MAC_LEN))
		why = "wrong admin key";
	OPENSSL_cleanse(a->nonce, sizeof(a->nonce));
	if (why) {
		s->stats.admin_auth_failures_total++;
		if (admin_log_due(&rl_auth, note, sizeof(note)))
			log_msg(LOG_INFO, "admin: %s: %s%s", a->peer_text, why, note);
		return answer_error(a, why);
	}
	inner = rswap__admin_request__unpack(NULL, ar->request.len, ar->request.data);
	if (!inner || inner->req_case == RSWAP__ADMIN_REQUEST__REQ_AUTHED ||
	    inner->req_case == RSWAP__ADMIN_REQUEST__REQ_CHALLENGE) {
		if (inner)
			rswap__admin_request__free_unpacked(inner, NULL);
		s->stats.admin_malformed_total++;
		return answer_error(a, "malformed proved request");
	}
	ret = answer_request(a, inner, true);
	rswap__admin_request__free_unpacked(inner, NULL);
	return ret;
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
		if (a->via_socket)
			return -1;
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
	if (req->req_case == RSWAP__ADMIN_REQUEST__REQ_AUTHED)
		ret = answer_authed(a, req->authed);
	else
		ret = answer_request(a, req, a->privileged);
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

	if (a->awaiting_drain) {	/* hung up before the decision */
		admin_close(a);
		return;
	}
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
		a->deadline_ns = mono_ns() + ADMIN_REQUEST_S * 1000000000ull;
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

void admin_drain_decided(struct server *s, const char *refusal)
{
	Rswap__AdminResponse resp = RSWAP__ADMIN_RESPONSE__INIT;
	Rswap__DrainStatus drain;
	struct admin_conn *a, *next;

	fill_drain_status(s, &drain);
	resp.resp_case = RSWAP__ADMIN_RESPONSE__RESP_DRAIN_STATUS;
	resp.drain_status = &drain;
	for (a = s->admins; a; a = next) {
		next = a->next;
		if (!a->awaiting_drain)
			continue;
		a->awaiting_drain = false;
		if (refusal ? answer_error(a, refusal) : answer(a, &resp)) {
			admin_close(a);
			continue;
		}
		/* Its poll waits for a hang-up: have it come back now, to send. */
		a->src.events = POLLOUT;
		loop_rearm(s, &a->src);
	}
}

static bool same_source(const struct sockaddr_storage *x, const struct sockaddr_storage *y)
{
	if (x->ss_family != y->ss_family)
		return false;
	if (x->ss_family == AF_INET)
		return !memcmp(&((const struct sockaddr_in *)x)->sin_addr,
			       &((const struct sockaddr_in *)y)->sin_addr, sizeof(struct in_addr));
	if (x->ss_family == AF_INET6)
		return !memcmp(&((const struct sockaddr_in6 *)x)->sin6_addr,
			       &((const struct sockaddr_in6 *)y)->sin6_addr, sizeof(struct in6_addr));
	return false;
}

/*
 * Room for one more connection on the listener @via_socket from @peer? A
 * TCP source at ADMIN_CONNS_PER_SOURCE, or the listener at
 * ADMIN_CONNS_MAX: the READING connection nearest its deadline (of that
 * source, or of the listener) is closed to make room; none READING: no.
 */
static bool make_room(struct server *s, bool via_socket, const struct sockaddr_storage *peer)
{
	struct admin_conn *a, *victim = NULL, *victim_here = NULL;
	unsigned int n = 0, from_peer = 0;
	bool here;

	for (a = s->admins; a; a = a->next) {
		if (a->via_socket != via_socket)
			continue;
		here = !via_socket && same_source(&a->peer, peer);
		n++;
		from_peer += here;
		if (a->out)
			continue;
		if (!victim || a->deadline_ns < victim->deadline_ns)
			victim = a;
		if (here && (!victim_here || a->deadline_ns < victim_here->deadline_ns))
			victim_here = a;
	}
	if (!via_socket && from_peer >= ADMIN_CONNS_PER_SOURCE)
		victim = victim_here;
	else if (n < ADMIN_CONNS_MAX)
		return true;
	if (!victim)
		return false;
	s->stats.admin_dropped_total++;
	log_msg(LOG_DEBUG, "admin: %s closed to make room", victim->peer_text);
	admin_close(victim);
	return true;
}

/* accept4 failed with EMFILE or ENFILE: give up the spare fd to take the
 * connection and drop it, so the listener is not readable for ever. */
static void accept_without_fds(struct server *s, int lfd)
{
	char note[48];
	int fd;

	s->stats.admin_dropped_total++;
	if (admin_log_due(&rl_fds, note, sizeof(note)))
		log_msg(LOG_ERR, "admin: out of file descriptors: an admin connection dropped%s "
			"(raise LimitNOFILE or ulimit -n)", note);
	if (s->admin_reserve_fd <= 0)
		return;
	close(s->admin_reserve_fd);
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd >= 0)
		close(fd);
	s->admin_reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void accept_one(struct server *s, struct loop_src *src, bool via_socket)
{
	struct sockaddr_storage peer = { 0 };
	socklen_t plen = sizeof(peer);
	struct admin_conn *a;
	struct ucred cred = { .uid = (uid_t)-1 };
	char note[48];
	socklen_t clen = sizeof(cred);
	int fd = accept4(src->fd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE)
			accept_without_fds(s, src->fd);
		return;
	}
	if (!make_room(s, via_socket, &peer)) {
		s->stats.admin_dropped_total++;
		if (admin_log_due(&rl_full, note, sizeof(note)))
			log_msg(LOG_INFO, "admin: too many connections%s, refusing another%s",
				via_socket ? " on the socket" : " from one source", note);
		close(fd);
		return;
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		close(fd);
		return;
	}
	a->srv = s;
	a->via_socket = via_socket;
	a->peer = peer;
	if (via_socket) {
		a->privileged = !getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) &&
				(cred.uid == 0 || cred.uid == geteuid());
		if (a->privileged)
			snprintf(a->peer_text, sizeof(a->peer_text), "the admin socket");
		else
			snprintf(a->peer_text, sizeof(a->peer_text), "the admin socket (uid %u)",
				 (unsigned int)cred.uid);
	} else {
		char host[INET6_ADDRSTRLEN] = "?", port[8] = "?";

		getnameinfo((struct sockaddr *)&peer, plen, host, sizeof(host), port, sizeof(port),
			    NI_NUMERICHOST | NI_NUMERICSERV);
		snprintf(a->peer_text, sizeof(a->peer_text), peer.ss_family == AF_INET6 ?
			 "[%s]:%s" : "%s:%s", host, port);
	}
	a->src.fd = fd;
	a->src.ready = admin_ready;
	a->src.release = admin_release;
	a->deadline_ns = mono_ns() + ADMIN_REQUEST_S * 1000000000ull;
	if (loop_watch(s, &a->src)) {
		close(fd);
		free(a);
		return;
	}
	a->next = s->admins;
	s->admins = a;
	s->n_admins++;
}

static void listener_ready(struct loop_src *src)
{
	struct server *s = (struct server *)((char *)src - offsetof(struct server, admin_src));

	accept_one(s, src, false);
}

static void socket_ready(struct loop_src *src)
{
	struct server *s = (struct server *)((char *)src - offsetof(struct server, admin_unix_src));

	accept_one(s, src, true);
}

static void tick_ready(struct loop_src *src)
{
	struct server *s = (struct server *)((char *)src - offsetof(struct server, tick_src));
	struct admin_conn *a, *next;
	uint64_t expirations, now = mono_ns();

	if (read(src->fd, &expirations, sizeof(expirations)) < 0)
		return;
	for (a = s->admins; a; a = next) {
		next = a->next;
		if (now > a->deadline_ns) {
			s->stats.admin_dropped_total++;
			log_msg(LOG_DEBUG, "admin: %s too slow, closed", a->peer_text);
			admin_close(a);
		}
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

/*
 * A socket file at @path may be replaced only if it is a socket nobody
 * listens on, in a directory others cannot write to (else they could swap
 * it for their own between our checks). 0, or -1 with the reason in @err.
 */
static int socket_path_check(const char *path, char *err, size_t err_size)
{
	char dir[SETTINGS_SOCK_MAX], *slash;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
		snprintf(err, err_size, "--admin-socket %s: its directory %s: %s", path, dir,
			 errno ? strerror(errno) : "not a directory");
		return -1;
	}
	if ((st.st_uid != 0 && st.st_uid != geteuid()) ||
	    ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX))) {
		snprintf(err, err_size, "--admin-socket %s: its directory %s may be written by "
			 "others: use one of root's or this user's only", path, dir);
		return -1;
	}
	if (lstat(path, &st)) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, err_size, "--admin-socket %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode) || (st.st_uid != 0 && st.st_uid != geteuid())) {
		snprintf(err, err_size, "--admin-socket %s exists and is not this user's socket",
			 path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && !connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		close(fd);
		snprintf(err, err_size, "--admin-socket %s is in use by another server", path);
		return -1;
	}
	if (fd >= 0)
		close(fd);
	if (unlink(path) && errno != ENOENT) {
		snprintf(err, err_size, "--admin-socket %s: cannot remove the stale socket: %s",
			 path, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * The admin socket: @NAME in the abstract namespace, or a path made mode
 * 0600. The default one taken by another server (two servers on one admin
 * port in a network namespace, on different addresses) is not fatal: this
 * one has no socket, and says so.
 */
static int socket_start(struct server *s, char *err, size_t err_size)
{
	const char *name = s->set.admin_socket;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char def[SETTINGS_SOCK_MAX];
	size_t len = strlen(name);
	socklen_t alen;
	mode_t old;
	int fd, ret;

	if (!strcmp(name, "off"))
		return 0;
	if (name[0] != '@' && socket_path_check(name, err, err_size))
		return -1;
	memcpy(sun.sun_path, name, len);
	if (name[0] == '@')
		sun.sun_path[0] = '\0';
	alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (name[0] != '@'));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, err_size, "admin socket: %s", strerror(errno));
		return -1;
	}
	old = umask(0177);
	ret = bind(fd, (struct sockaddr *)&sun, alen);
	umask(old);
	if (ret && errno == EADDRINUSE && name[0] == '@' &&
	    !settings_default_admin_socket(def, sizeof(def), s->set.admin_host, s->set.admin_port) &&
	    !strcmp(def, name)) {
		log_msg(LOG_ERR, "admin socket %s is another server's: this one has none "
			"(set --admin-socket; rswapctl then needs --socket or --admin-key)", name);
		close(fd);
		return 0;
	}
	if (ret || (name[0] == '/' && chmod(name, 0600)) || listen(fd, ADMIN_CONNS_MAX)) {
		snprintf(err, err_size, "admin socket %s: %s", name, strerror(errno));
		close(fd);
		return -1;
	}
	s->admin_unix_src.fd = fd;
	s->admin_unix_src.ready = socket_ready;
	if (loop_watch(s, &s->admin_unix_src)) {
		snprintf(err, err_size, "io_uring: no room for the admin socket");
		return -1;
	}
	log_msg(LOG_INFO, "admin socket %s", name);
	return 0;
}

int admin_start(struct server *s, char *err, size_t err_size)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct itimerspec its = { .it_interval = { 1, 0 }, .it_value = { 1, 0 } };
	struct addrinfo *res;
	int fd, one = 1, ret;

	s->started_ns = mono_ns();
	if (s->set.admin_key_file[0] &&
	    auth_key_load(&s->admin_key, s->set.admin_key_file, err, err_size))
		return -1;
	s->admin_reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
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
	return socket_start(s, err, err_size);
}

void admin_stop(struct server *s)
{
	while (s->admins)
		admin_close(s->admins);
	if (s->admin_src.fd > 0) {
		loop_forget(s, &s->admin_src);
		close(s->admin_src.fd);
	}
	if (s->admin_unix_src.fd > 0) {
		loop_forget(s, &s->admin_unix_src);
		close(s->admin_unix_src.fd);
		if (s->set.admin_socket[0] == '/')
			unlink(s->set.admin_socket);
	}
	if (s->tick_src.fd > 0) {
		loop_forget(s, &s->tick_src);
		close(s->tick_src.fd);
	}
	if (s->admin_reserve_fd > 0)
		close(s->admin_reserve_fd);
	OPENSSL_cleanse(&s->admin_key, sizeof(s->admin_key));
}
