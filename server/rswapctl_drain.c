// SPDX-License-Identifier: GPL-2.0
/*
 * rswapctl drain, rebalance, undrain, drain-status: start a drain or a
 * rebalance on a server, follow it to its end with a progress line a
 * second, and say what moved and what remains.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rswapctl.h"
#include "settings.h"

/* How often the status is asked while a drain runs, and printed. */
#define POLL_MS 500
#define PROGRESS_MS 1000
/* A drain's start waits for the server to ask each of its peers (2 s each). */
#define START_TIMEOUT_MS ((CTL_TIMEOUT_S + 2 * SETTINGS_PEERS_MAX) * 1000)
#define MIB (1024.0 * 1024.0)

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static double mib_s(const Rswap__DrainStatus *d)
{
	return d->elapsed_ms ? d->bytes_moved / MIB / (d->elapsed_ms / 1000.0) : 0;
}

static void json_drain(const Rswap__DrainStatus *d)
{
	printf("{\"state\":");
	ctl_json_str(d->state);
	printf(",\"kind\":");
	ctl_json_str(d->kind);
	printf(",\"slabs_goal\":%u,\"slabs_moved\":%u,\"slabs_not_moved\":%u,"
	       "\"slabs_remaining\":%u,\"bytes_moved\":%llu,\"pages_copied\":%llu,"
	       "\"elapsed_ms\":%llu,\"migrations_failed\":%u,\"refusing_grants\":%s,\"message\":",
	       d->slabs_goal, d->slabs_moved, d->slabs_not_moved, d->slabs_remaining,
	       (unsigned long long)d->bytes_moved, (unsigned long long)d->pages_copied,
	       (unsigned long long)d->elapsed_ms, d->migrations_failed,
	       d->refusing_grants ? "true" : "false");
	ctl_json_str(d->message);
	printf("}\n");
}

static void text_drain(const Rswap__DrainStatus *d)
{
	printf("state        %s (%s)\n", d->state, d->kind);
	printf("slabs        %u moved of %u, %u not moved, %u remaining\n", d->slabs_moved,
	       d->slabs_goal, d->slabs_not_moved, d->slabs_remaining);
	printf("copied       %.1f MiB (%llu pages) in %.1f s (%.1f MiB/s)\n",
	       d->bytes_moved / MIB, (unsigned long long)d->pages_copied, d->elapsed_ms / 1000.0,
	       mib_s(d));
	printf("failures     %u copies failed\n", d->migrations_failed);
	printf("grants       %s\n", d->refusing_grants ? "refused (draining)" : "served");
	printf("message      %s\n", d->message[0] ? d->message : "-");
}

static Rswap__AdminResponse *ask_drain(const char *host, const char *port,
				       Rswap__AdminRequest *req, int timeout_ms)
{
	Rswap__AdminResponse *resp = ctl_ask(host, port, req, timeout_ms);

	if (resp && resp->resp_case != RSWAP__ADMIN_RESPONSE__RESP_DRAIN_STATUS) {
		fprintf(stderr, "rswapctl: %s:%s: unexpected answer\n", host, port);
		rswap__admin_response__free_unpacked(resp, NULL);
		return NULL;
	}
	return resp;
}

static Rswap__AdminResponse *ask_drain_status(const char *host, const char *port)
{
	Rswap__AdminRequest req = RSWAP__ADMIN_REQUEST__INIT;
	Rswap__DrainStatusRequest ds = RSWAP__DRAIN_STATUS_REQUEST__INIT;

	req.req_case = RSWAP__ADMIN_REQUEST__REQ_DRAIN_STATUS;
	req.drain_status = &ds;
	return ask_drain(host, port, &req, CTL_TIMEOUT_S * 1000);
}

/* Slabs still to move: a drain's are those held; a rebalance's, its goal's rest. */
static bool something_remains(const Rswap__DrainStatus *d)
{
	return d->slabs_remaining != 0;
}

static void progress(const char *host, const char *port, const Rswap__DrainStatus *d)
{
	printf("%s %s:%s: %u/%u slabs moved, %.1f MiB copied (%.1f MiB/s), %u remaining, %.1f s\n",
	       d->kind, host, port, d->slabs_moved, d->slabs_goal, d->bytes_moved / MIB, mib_s(d),
	       d->slabs_remaining, d->elapsed_ms / 1000.0);
	fflush(stdout);
}

/* Start @req on @host:@port, follow it, summarize: 0 nothing remains, 1 otherwise. */
static int follow(const char *host, const char *port, Rswap__AdminRequest *req, bool json)
{
	Rswap__AdminResponse *resp = ask_drain(host, port, req, START_TIMEOUT_MS);
	bool rebalance = req->req_case == RSWAP__ADMIN_REQUEST__REQ_REBALANCE;
	uint64_t printed = mono_ms();
	const Rswap__DrainStatus *d;
	int ret;

	if (!resp)
		return 1;
	/* The first line says at once what the drain set out to move. */
	if (!json && !strcmp(resp->drain_status->state, "running"))
		progress(host, port, resp->drain_status);
	/* Bounded by the server: a drain ends when nothing is outstanding,
	 * and an EVACUATE is outstanding for 120 s at most. */
	while (!strcmp(resp->drain_status->state, "running")) {
		Rswap__AdminResponse *next;

		sleep_ms(POLL_MS);
		next = ask_drain_status(host, port);
		if (!next) {
			rswap__admin_response__free_unpacked(resp, NULL);
			return 1;
		}
		rswap__admin_response__free_unpacked(resp, NULL);
		resp = next;
		d = resp->drain_status;
		if (!json && mono_ms() - printed >= PROGRESS_MS && !strcmp(d->state, "running")) {
			printed = mono_ms();
			progress(host, port, d);
		}
	}
	d = resp->drain_status;
	if (json)
		json_drain(d);
	else
		printf("%s %s:%s: %u slab%s moved, %.1f MiB copied server to server in %.1f s "
		       "(%.1f MiB/s); %s\n", rebalance ? "rebalanced" : "drained", host, port,
		       d->slabs_moved, d->slabs_moved == 1 ? "" : "s", d->bytes_moved / MIB,
		       d->elapsed_ms / 1000.0, mib_s(d), d->message);
	ret = something_remains(d) ? 1 : 0;
	rswap__admin_response__free_unpacked(resp, NULL);
	return ret;
}

int ctl_drain(const char *host, const char *port, bool partial, bool json)
{
	Rswap__AdminRequest req = RSWAP__ADMIN_REQUEST__INIT;
	Rswap__DrainRequest dr = RSWAP__DRAIN_REQUEST__INIT;

	dr.partial = partial;
	req.req_case = RSWAP__ADMIN_REQUEST__REQ_DRAIN;
	req.drain = &dr;
	return follow(host, port, &req, json);
}

/* Status of @host:@port, or NULL after saying why. */
static Rswap__AdminResponse *ask_status(const char *host, const char *port)
{
	Rswap__AdminRequest req = RSWAP__ADMIN_REQUEST__INIT;
	Rswap__StatusRequest sr = RSWAP__STATUS_REQUEST__INIT;
	Rswap__AdminResponse *resp;

	req.req_case = RSWAP__ADMIN_REQUEST__REQ_STATUS;
	req.status = &sr;
	resp = ctl_ask(host, port, &req, CTL_TIMEOUT_S * 1000);
	if (resp && resp->resp_case != RSWAP__ADMIN_RESPONSE__RESP_STATUS) {
		rswap__admin_response__free_unpacked(resp, NULL);
		return NULL;
	}
	return resp;
}

int ctl_rebalance(const char *host, const char *port, bool json)
{
	Rswap__RebalanceRequest rr = RSWAP__REBALANCE_REQUEST__INIT;
	Rswap__AdminRequest req = RSWAP__ADMIN_REQUEST__INIT;
	struct settings_peer servers[SETTINGS_PEERS_MAX + 1];
	Rswap__AdminResponse *st = ask_status(host, port);
	unsigned int n = 1, i;
	uint64_t held = 0, total = 0;
	int ret = 0;

	if (!st)
		return 1;
	snprintf(servers[0].host, sizeof(servers[0].host), "%s", host);
	snprintf(servers[0].port, sizeof(servers[0].port), "%s", port);
	for (i = 0; i < st->status->n_peers && n <= SETTINGS_PEERS_MAX; i++)
		if (!parse_hostport(st->status->peers[i], servers[n].host, sizeof(servers[n].host),
				    servers[n].port, sizeof(servers[n].port)))
			n++;
	rswap__admin_response__free_unpacked(st, NULL);
	req.req_case = RSWAP__ADMIN_REQUEST__REQ_REBALANCE;
	req.rebalance = &rr;
	/* One at a time: each one's fair share counts what the others moved. */
	for (i = 0; i < n; i++)
		ret |= follow(servers[i].host, servers[i].port, &req, json);
	if (json)
		return ret;
	printf("pool:");
	for (i = 0; i < n; i++) {
		st = ask_status(servers[i].host, servers[i].port);
		if (!st) {
			printf(" %s:%s unreachable;", servers[i].host, servers[i].port);
			ret = 1;
			continue;
		}
		printf(" %s:%s %u/%u held;", servers[i].host, servers[i].port,
		       st->status->slabs_total - st->status->slabs_free, st->status->slabs_total);
		held += (uint64_t)(st->status->slabs_total - st->status->slabs_free) *
			st->status->slab_bytes;
		total += (uint64_t)st->status->slabs_total * st->status->slab_bytes;
		rswap__admin_response__free_unpacked(st, NULL);
	}
	printf(" %.1f of %.1f MiB used (%.0f%%)\n", held / MIB, total / MIB,
	       total ? 100.0 * held / total : 0);
	return ret;
}

/* Ask @req_case (undrain or drain status) and print the status. */
static int show(const char *host, const char *port, Rswap__AdminRequest *req, bool json)
{
	Rswap__AdminResponse *resp = ask_drain(host, port, req, CTL_TIMEOUT_S * 1000);

	if (!resp)
		return 1;
	if (json)
		json_drain(resp->drain_status);
	else
		text_drain(resp->drain_status);
	rswap__admin_response__free_unpacked(resp, NULL);
	return 0;
}

int ctl_undrain(const char *host, const char *port, bool json)
{
	Rswap__AdminRequest req = RSWAP__ADMIN_REQUEST__INIT;
	Rswap__UndrainRequest ur = RSWAP__UNDRAIN_REQUEST__INIT;

	req.req_case = RSWAP__ADMIN_REQUEST__REQ_UNDRAIN;
	req.undrain = &ur;
	if (!json)
		printf("%s:%s grants slabs again\n", host, port);
	return show(host, port, &req, json);
}

int ctl_drain_status(const char *host, const char *port, bool json)
{
	Rswap__AdminRequest req = RSWAP__ADMIN_REQUEST__INIT;
	Rswap__DrainStatusRequest ds = RSWAP__DRAIN_STATUS_REQUEST__INIT;

	req.req_case = RSWAP__ADMIN_REQUEST__REQ_DRAIN_STATUS;
	req.drain_status = &ds;
	return show(host, port, &req, json);
}
