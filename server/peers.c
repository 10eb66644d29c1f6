// SPDX-License-Identifier: GPL-2.0
/* peers: see peers.h. */
#include "peers.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "admin_client.h"
#include "drain.h"
#include "server.h"

static struct peers *peers_of(struct server *s)
{
	return &s->peers;
}

/* A peer that listens on every address: the first address of its admin
 * host, which is the best guess the configuration gives. */
static bool admin_host_addr(const char *host, struct peer_source *out)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
	bool ok = false;

	if (getaddrinfo(host, NULL, &hints, &res))
		return false;
	if (res) {
		peer_source_of(res->ai_addr, out);
		ok = out->family == AF_INET || out->family == AF_INET6;
	}
	freeaddrinfo(res);
	return ok;
}

/* One peer's answer (NULL: none, @err says why) as a peer_seen. */
static void take_answer(const struct settings_peer *cfg, const Rswap__AdminResponse *resp,
			const char *err, struct peer_seen *out)
{
	const Rswap__ServerStatus *st = NULL;
	const char *bad;
	int r;

	memset(out, 0, sizeof(*out));
	out->st.addr = cfg->text;
	if (resp && resp->resp_case == RSWAP__ADMIN_RESPONSE__RESP_STATUS)
		st = resp->status;
	bad = st ? drain_peer_check(st->slab_bytes, st->slabs_total, st->slabs_free) :
		   resp ? "no status in its answer" : err;
	if (bad) {
		snprintf(out->why, sizeof(out->why), "%.150s", bad);
		return;
	}
	out->st.reachable = true;
	out->st.draining = st->draining;
	out->st.slab_bytes = st->slab_bytes;
	out->st.slabs_total = st->slabs_total;
	out->st.slabs_free = st->slabs_free;
	r = peer_listen_ip(st->listen, &out->rdma);
	if (r == 0)
		out->has_rdma = true;
	else if (r == 1)
		out->has_rdma = admin_host_addr(cfg->host, &out->rdma);
	if (!out->has_rdma)
		snprintf(out->why, sizeof(out->why), "its listen address '%.64s' names no "
			 "address a copy could go to", st->listen ? st->listen : "");
}

/* Ask every peer, all at once, within PEERS_TIMEOUT_MS in all. */
static void ask_all(const struct settings *set, struct peer_seen *seen)
{
	Rswap__StatusRequest sr = RSWAP__STATUS_REQUEST__INIT;
	Rswap__AdminRequest req = RSWAP__ADMIN_REQUEST__INIT;
	struct admin_target t[SETTINGS_PEERS_MAX] = { 0 };
	Rswap__AdminResponse *resp[SETTINGS_PEERS_MAX];
	char err[SETTINGS_PEERS_MAX][ADMIN_ERR_LEN];
	unsigned int i, n = set->n_peers;

	req.req_case = RSWAP__ADMIN_REQUEST__REQ_STATUS;
	req.status = &sr;
	for (i = 0; i < n; i++)
		t[i] = (struct admin_target){ .host = set->peers[i].host,
					      .port = set->peers[i].port };
	admin_call_all(t, n, &req, PEERS_TIMEOUT_MS, resp, err);
	for (i = 0; i < n; i++) {
		take_answer(&set->peers[i], resp[i], err[i], &seen[i]);
		if (resp[i])
			rswap__admin_response__free_unpacked(resp[i], NULL);
	}
}

/* A line when what a peer is changes (reachable, why not), not every round. */
static void log_changes(const struct peer_seen *old, const struct peer_seen *now,
			unsigned int n, bool first)
{
	char ip[INET6_ADDRSTRLEN];

	for (unsigned int i = 0; i < n; i++) {
		if (!first && old[i].st.reachable == now[i].st.reachable &&
		    !strcmp(old[i].why, now[i].why) && old[i].has_rdma == now[i].has_rdma &&
		    peer_source_equal(&old[i].rdma, &now[i].rdma))
			continue;
		if (now[i].why[0])
			log_msg(LOG_INFO, "peer %s: %s", now[i].st.addr, now[i].why);
		if (now[i].has_rdma &&
		    inet_ntop(now[i].rdma.family, now[i].rdma.addr, ip, sizeof(ip)))
			log_msg(LOG_INFO, "peer %s: reachable; copies to it go to %s",
				now[i].st.addr, ip);
	}
}

static void *peers_thread(void *arg)
{
	struct peers *p = arg;
	struct peer_seen fresh[SETTINGS_PEERS_MAX];
	struct timespec next;
	uint64_t one = 1, ticket;
	bool first = true;

	pthread_mutex_lock(&p->lock);
	while (!p->stop) {
		clock_gettime(CLOCK_MONOTONIC, &next);
		ticket = p->wanted;
		pthread_mutex_unlock(&p->lock);

		ask_all(p->set, fresh);

		pthread_mutex_lock(&p->lock);
		log_changes(p->seen, fresh, p->n, first);
		first = false;
		memcpy(p->seen, fresh, sizeof(fresh));
		p->done = ticket;
		pthread_cond_broadcast(&p->cond);
		if (write(p->wake_fd, &one, sizeof(one)) != (ssize_t)sizeof(one))
			log_msg(LOG_ERR, "peers: cannot wake the loop: %s", strerror(errno));
		next.tv_sec += PEERS_REFRESH_S;
		while (!p->stop && p->wanted == p->done &&
		       pthread_cond_timedwait(&p->cond, &p->lock, &next) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static void peers_wake(struct loop_src *src)
{
	struct server *s = (struct server *)((char *)src - offsetof(struct server, peers_src));
	uint64_t n;

	if (read(src->fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_msg(LOG_ERR, "peers eventfd: %s", strerror(errno));
	drain_on_peers(s);
}

int peers_start(struct server *s, char *err, size_t err_size)
{
	struct peers *p = peers_of(s);
	pthread_condattr_t ca;

	p->set = &s->set;
	p->n = s->set.n_peers;
	for (unsigned int i = 0; i < p->n; i++) {
		p->seen[i].st.addr = s->set.peers[i].text;
		snprintf(p->seen[i].why, sizeof(p->seen[i].why), "not asked yet");
	}
	if (!p->n)
		return 0;
	s->peers_src.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->peers_src.fd < 0) {
		snprintf(err, err_size, "eventfd: %s", strerror(errno));
		return -1;
	}
	s->peers_src.ready = peers_wake;
	p->wake_fd = s->peers_src.fd;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&p->lock, NULL);
	p->wanted = 1;			/* the first round */
	if (pthread_create(&p->thread, NULL, peers_thread, p)) {
		snprintf(err, err_size, "cannot start the peers' thread");
		return -1;
	}
	p->started = true;
	if (loop_watch(s, &s->peers_src)) {
		snprintf(err, err_size, "io_uring: cannot watch the peers' eventfd");
		return -1;
	}
	return 0;
}

void peers_stop(struct server *s)
{
	struct peers *p = peers_of(s);

	if (!p->started)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	/* At most one round's PEERS_TIMEOUT_MS. */
	pthread_join(p->thread, NULL);
	p->started = false;
}

uint64_t peers_refresh(struct peers *p)
{
	uint64_t t;

	if (!p->n)
		return 0;
	pthread_mutex_lock(&p->lock);
	t = ++p->wanted;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	return t;
}

bool peers_covered(struct peers *p, uint64_t ticket)
{
	bool ok;

	if (!p->n)
		return true;
	pthread_mutex_lock(&p->lock);
	ok = p->done >= ticket;
	pthread_mutex_unlock(&p->lock);
	return ok;
}

unsigned int peers_snapshot(struct peers *p, struct peer_seen *out)
{
	if (!p->n)
		return 0;
	pthread_mutex_lock(&p->lock);
	memcpy(out, p->seen, p->n * sizeof(*out));
	pthread_mutex_unlock(&p->lock);
	return p->n;
}

/* Under p->lock. */
static bool names_peer(const struct peers *p, const struct peer_source *want)
{
	for (unsigned int i = 0; i < p->n; i++)
		if (p->seen[i].has_rdma && peer_source_equal(&p->seen[i].rdma, want))
			return true;
	return false;
}

enum peers_verdict peers_copy_allowed(struct peers *p, int family, const uint8_t *ip,
				      int wait_ms)
{
	struct peer_source want = { .family = (sa_family_t)family };
	struct timespec until;
	uint64_t ticket;
	bool found;

	if (p->set->copy_targets_any)
		return PEERS_ALLOWED;
	if (p->set->n_copy_targets)
		return settings_copy_target_ok(p->set, family, ip) ? PEERS_ALLOWED :
								      PEERS_NOT_COPY_TARGET;
	if (!p->n)
		return PEERS_NO_PEERS;
	memcpy(want.addr, ip, family == AF_INET ? 4 : 16);
	pthread_mutex_lock(&p->lock);
	found = names_peer(p, &want);
	if (!found && wait_ms > 0) {
		ticket = ++p->wanted;
		pthread_cond_broadcast(&p->cond);
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += wait_ms / 1000;
		until.tv_nsec += (long)(wait_ms % 1000) * 1000000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		while (!p->stop && p->done < ticket &&
		       pthread_cond_timedwait(&p->cond, &p->lock, &until) != ETIMEDOUT)
			;
		found = names_peer(p, &want);
	}
	pthread_mutex_unlock(&p->lock);
	return found ? PEERS_ALLOWED : PEERS_NOT_PEER;
}

const char *peers_verdict_text(enum peers_verdict v)
{
	switch (v) {
	case PEERS_ALLOWED:
		return "allowed";
	case PEERS_NOT_COPY_TARGET:
		return "not one of --copy-targets";
	case PEERS_NOT_PEER:
		return "not the RDMA address of any --peer";
	case PEERS_NO_PEERS:
		return "this server has no --peer (nor --copy-targets) to copy to";
	}
	return "?";
}
