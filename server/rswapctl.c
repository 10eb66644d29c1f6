// SPDX-License-Identifier: GPL-2.0
/*
 * rswapctl: ask an rswap-server about itself, through its admin API
 * (proto/rswap.proto), for a person or as JSON.
 *
 * Which way a call goes: --socket if given; else the server's default
 * admin socket for the --server address (settings_default_admin_socket,
 * also tried for the wildcard addresses the server may listen on) when it
 * answers here; else TCP, every call proved with --admin-key when given.
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "admin_client.h"
#include "admin_text.h"
#include "auth.h"
#include "rswap.pb-c.h"
#include "rswap_wire.h"
#include "rswapctl.h"
#include "settings.h"

#define DEFAULT_SERVER "127.0.0.1:7472"

static char server_host[SETTINGS_ADDR_MAX], server_port[8];
static const char *server_socket;	/* --socket */
static bool tcp_only;			/* --tcp */
static struct auth_key admin_key;	/* --admin-key; len 0: none */

static void usage(FILE *out)
{
	fprintf(out,
"Usage: rswapctl [--server ADDR:PORT] [--socket PATH|@NAME] [--admin-key FILE] [--tcp]\n"
"                [--json] COMMAND [--partial] [CLIENT]\n"
"Ask a running rswap-server about itself through its admin API, or have it\n"
"move its slabs to the other servers of the pool.\n"
"\n"
"Commands:\n"
"  status     memory, slabs held and free, clients, connections, uptime\n"
"  stats      status, every counter, each client's slabs and grants,\n"
"             and which client holds which slab\n"
"  clients    the clients the server knows (held across restarts)\n"
"  metrics    the Prometheus text the server serves at GET /metrics\n"
"  drain      empty the server: its clients move every slab held there to\n"
"             other servers (copied server to server over RDMA, no page goes\n"
"             through the client); it grants nothing from then on, until\n"
"             undrain or a restart. Refused, with nothing changed, when its\n"
"             --peer servers have no room for all of it (--partial: move what\n"
"             fits). Prints progress each second and what remains, and why\n"
"  rebalance  move slabs from the server and each of its --peer servers, one\n"
"             after the other, until none holds more than its fair share of\n"
"             the pool's used memory; grants go on\n"
"  undrain    the server grants slabs again (a running drain stops asking)\n"
"  drain-status  the last or running drain or rebalance: slabs moved, MiB\n"
"             copied, what remains and why\n"
"  forget CLIENT  free every slab a client that is gone holds (scrubbed\n"
"             before reuse) and drop it from the table; CLIENT is its name\n"
"             or its id (rswapctl clients). Refused while it is connected\n"
"  client-key --pool-key FILE --client-id TEXT [--out FILE]\n"
"             make one client's key file (no server asked; see\n"
"             rswapctl client-key --help)\n"
"\n"
"Options:\n"
"  --server ADDR:PORT  the server's --admin address (default " DEFAULT_SERVER ")\n"
"  --socket PATH|@NAME  its admin socket (default: the one rswap-server makes\n"
"                      for its --admin address, @rswap-admin/ADDR/PORT, when\n"
"                      it is on this host and network namespace)\n"
"  --admin-key FILE    over TCP, prove every call with the server's\n"
"                      --admin-key-file (HMAC challenge-response)\n"
"  --tcp               TCP even when the server's admin socket is here\n"
"  --json              print JSON instead of text (status, stats, clients;\n"
"                      drain and rebalance: the final status)\n"
"  --partial           drain: move what the peers have room for\n"
"  -h, --help          this text\n"
"\n"
"Who may do what: on the admin socket, as root or the server's user, every\n"
"command. Over TCP without --admin-key: status, drain-status and metrics\n"
"only; the server refuses the others and says so.\n"
"\n"
"Exit status: 0 answered (drain, rebalance: nothing remains to move), 1 the\n"
"server could not be reached or refused (drain, rebalance: or something\n"
"remains), 2 usage.\n");
}

/* The default admin socket of a server at @host:@port that answers here,
 * into @buf; NULL if none does. */
static const char *local_socket(const char *host, const char *port, char *buf, size_t size)
{
	static const char *const wildcard[] = { NULL, "0.0.0.0", "::" };
	char err[ADMIN_ERR_LEN];
	unsigned int i;
	int fd;

	for (i = 0; i < sizeof(wildcard) / sizeof(wildcard[0]); i++) {
		if (settings_default_admin_socket(buf, size, wildcard[i] ? wildcard[i] : host, port))
			continue;
		fd = admin_dial_unix(buf, 1000, err, sizeof(err));
		if (fd >= 0) {
			close(fd);
			return buf;
		}
	}
	return NULL;
}

Rswap__AdminResponse *ctl_ask(const char *host, const char *port, Rswap__AdminRequest *req,
			      int timeout_ms)
{
	struct admin_target t = { .host = host, .port = port };
	char sock[SETTINGS_SOCK_MAX];
	Rswap__AdminResponse *resp;
	char err[512];

	if (server_socket && !strcmp(host, server_host) && !strcmp(port, server_port))
		t.socket = server_socket;
	else if (!tcp_only)
		t.socket = local_socket(host, port, sock, sizeof(sock));
	if (!t.socket && admin_key.len)
		t.key = &admin_key;
	resp = admin_call(&t, req, timeout_ms, err, sizeof(err));
	if (!resp) {
		fprintf(stderr, "rswapctl: %s%s\n", err, strstr(err, "cannot reach") ?
			" (is rswap-server running? its --admin address?)" : "");
		return NULL;
	}
	if (resp->resp_case == RSWAP__ADMIN_RESPONSE__RESP_ERROR) {
		fprintf(stderr, "rswapctl: %s:%s refused: %s\n", host, port, resp->error->message);
		rswap__admin_response__free_unpacked(resp, NULL);
		return NULL;
	}
	return resp;
}

static Rswap__AdminResponse *ask(Rswap__AdminRequest *req)
{
	return ctl_ask(server_host, server_port, req, CTL_TIMEOUT_S * 1000);
}

static void hex(char *dst, const ProtobufCBinaryData *b)
{
	size_t i;

	for (i = 0; i < b->len && i < RSWAP_ID_LEN; i++)
		sprintf(dst + 2 * i, "%02x", b->data[i]);
	dst[2 * i] = '\0';
}

void ctl_json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void json_status(const Rswap__ServerStatus *st)
{
	char id[2 * RSWAP_ID_LEN + 1];

	hex(id, &st->server_id);
	printf("{\"server_id\":\"%s\",\"version\":", id);
	ctl_json_str(st->version);
	printf(",\"listen\":");
	ctl_json_str(st->listen);
	printf(",\"memory_bytes\":%llu,\"slab_bytes\":%llu,\"slabs_total\":%u,"
	       "\"slabs_free\":%u,\"clients_known\":%u,\"connections\":%u,"
	       "\"uptime_seconds\":%llu,\"backing_in_ram\":%s,\"draining\":%s,\"peers\":[",
	       (unsigned long long)st->memory_bytes, (unsigned long long)st->slab_bytes,
	       st->slabs_total, st->slabs_free, st->clients_known, st->connections,
	       (unsigned long long)st->uptime_seconds, st->backing_in_ram ? "true" : "false",
	       st->draining ? "true" : "false");
	for (size_t i = 0; i < st->n_peers; i++) {
		if (i)
			putchar(',');
		ctl_json_str(st->peers[i]);
	}
	printf("]}");
}

static void json_clients(Rswap__ClientStats **c, size_t n)
{
	char id[2 * RSWAP_ID_LEN + 1];
	size_t i;

	putchar('[');
	for (i = 0; i < n; i++) {
		hex(id, &c[i]->id);
		printf("%s{\"id\":\"%s\",\"name\":", i ? "," : "", id);
		ctl_json_str(c[i]->name);
		printf(",\"quota_slabs\":%u,\"held_slabs\":%u,\"grants_total\":%llu,"
		       "\"returns_total\":%llu,\"refused_quota_total\":%llu,"
		       "\"refused_memory_total\":%llu,\"connections\":%u}",
		       c[i]->quota_slabs, c[i]->held_slabs,
		       (unsigned long long)c[i]->grants_total,
		       (unsigned long long)c[i]->returns_total,
		       (unsigned long long)c[i]->refused_quota_total,
		       (unsigned long long)c[i]->refused_memory_total, c[i]->connections);
	}
	putchar(']');
}

static void text_status(const Rswap__ServerStatus *st)
{
	char id[2 * RSWAP_ID_LEN + 1];

	hex(id, &st->server_id);
	printf("server       %s (rswap %s), up %llu s\n", id, st->version,
	       (unsigned long long)st->uptime_seconds);
	printf("rdma         %s\n", st->listen);
	printf("memory       %llu MiB in %u slabs of %llu KiB%s\n",
	       (unsigned long long)(st->memory_bytes >> 20), st->slabs_total,
	       (unsigned long long)(st->slab_bytes >> 10),
	       st->backing_in_ram ? "" : " (backing file NOT in RAM)");
	printf("slabs        %u held, %u free\n", st->slabs_total - st->slabs_free, st->slabs_free);
	printf("clients      %u known, %u RDMA connections\n", st->clients_known, st->connections);
	if (st->draining)
		printf("grants       refused: draining (rswapctl undrain)\n");
	if (st->n_peers) {
		printf("peers       ");
		for (size_t i = 0; i < st->n_peers; i++)
			printf(" %s", st->peers[i]);
		printf("\n");
	}
}

static void text_clients(Rswap__ClientStats **c, size_t n, uint64_t slab_bytes)
{
	char id[2 * RSWAP_ID_LEN + 1], name[ADMIN_ESCAPED_MAX(RSWAP_NAME_LEN)];
	size_t i;

	printf("%-32s %-16s %6s %6s %10s %8s %8s %4s\n", "client id", "name", "held",
	       "quota", "held MiB", "grants", "returns", "conn");
	for (i = 0; i < n; i++) {
		char mib[24] = "-";

		hex(id, &c[i]->id);
		if (slab_bytes)
			snprintf(mib, sizeof(mib), "%llu",
				 (unsigned long long)(c[i]->held_slabs * slab_bytes >> 20));
		admin_escape_printable(name, sizeof(name), c[i]->name);
		printf("%-32s %-16s %6u %6u %10s %8llu %8llu %4u\n", id, name,
		       c[i]->held_slabs, c[i]->quota_slabs, mib,
		       (unsigned long long)c[i]->grants_total,
		       (unsigned long long)c[i]->returns_total, c[i]->connections);
	}
}

static int metrics(void)
{
	static const char req[] = "GET /metrics HTTP/1.0\r\n\r\n";
	char buf[4096], err[512];
	int fd = admin_dial(server_host, server_port, CTL_TIMEOUT_S * 1000, err, sizeof(err)),
	    in_body = 0;
	ssize_t n;
	size_t got = 0;

	if (fd < 0) {
		fprintf(stderr, "rswapctl: %s\n", err);
		return 1;
	}
	if (admin_write_all(fd, req, sizeof(req) - 1)) {
		close(fd);
		return 1;
	}
	/* Print the body: what follows the blank line after the headers. */
	while ((n = recv(fd, buf, sizeof(buf) - 1, 0)) > 0) {
		char *body = buf;

		buf[n] = '\0';
		if (!in_body) {
			body = strstr(buf, "\r\n\r\n");
			if (!body)
				continue;
			body += 4;
			in_body = 1;
		}
		got += fwrite(body, 1, (size_t)(n - (body - buf)), stdout);
	}
	close(fd);
	return got ? 0 : 1;
}

/*
 * The slab list of STATS comes in pages: ask for the rest and append it to
 * @first's, so the output is as one answer. 0, or 1 after saying why.
 */
static int stats_rest(Rswap__AdminResponse *first)
{
	Rswap__ServerStats *st = first->stats;
	Rswap__AdminRequest req = RSWAP__ADMIN_REQUEST__INIT;
	Rswap__StatsRequest sr = RSWAP__STATS_REQUEST__INIT;
	Rswap__AdminResponse *more;
	Rswap__SlabOwner **all;
	bool again = st->slabs_more;
	uint32_t next = st->slabs_next;
	size_t i;

	req.req_case = RSWAP__ADMIN_REQUEST__REQ_STATS;
	req.stats = &sr;
	while (again) {
		sr.slab_offset = next;
		more = ask(&req);
		if (!more)
			return 1;
		if (more->resp_case != RSWAP__ADMIN_RESPONSE__RESP_STATS ||
		    (more->stats->slabs_more && more->stats->slabs_next <= next)) {
			fprintf(stderr, "rswapctl: the server's slab pages do not add up\n");
			rswap__admin_response__free_unpacked(more, NULL);
			return 1;
		}
		all = realloc(st->slabs, (st->n_slabs + more->stats->n_slabs) * sizeof(*all));
		if (!all) {
			rswap__admin_response__free_unpacked(more, NULL);
			return 1;
		}
		st->slabs = all;
		/* Move the entries over: the later page gives them up. */
		for (i = 0; i < more->stats->n_slabs; i++) {
			all[st->n_slabs + i] = malloc(sizeof(**all));
			if (!all[st->n_slabs + i]) {
				st->n_slabs += i;
				rswap__admin_response__free_unpacked(more, NULL);
				return 1;
			}
			*all[st->n_slabs + i] = *more->stats->slabs[i];
		}
		st->n_slabs += more->stats->n_slabs;
		again = more->stats->slabs_more;
		next = more->stats->slabs_next;
		rswap__admin_response__free_unpacked(more, NULL);
	}
	return 0;
}

static int forget(const char *who, bool json)
{
	Rswap__AdminRequest req = RSWAP__ADMIN_REQUEST__INIT;
	Rswap__ForgetRequest fr = RSWAP__FORGET_REQUEST__INIT;
	Rswap__AdminResponse *resp;
	char name[ADMIN_ESCAPED_MAX(256)];

	fr.client = (char *)who;
	req.req_case = RSWAP__ADMIN_REQUEST__REQ_FORGET;
	req.forget = &fr;
	resp = ask(&req);
	if (!resp)
		return 1;
	if (resp->resp_case != RSWAP__ADMIN_RESPONSE__RESP_FORGET) {
		fprintf(stderr, "rswapctl: unexpected answer\n");
		rswap__admin_response__free_unpacked(resp, NULL);
		return 1;
	}
	if (json) {
		printf("{\"client\":");
		ctl_json_str(who);
		printf(",\"slabs_freed\":%u}\n", resp->forget->slabs_freed);
	} else {
		admin_escape_printable(name, sizeof(name), who);
		printf("client %s forgotten: %u slabs freed\n", name, resp->forget->slabs_freed);
	}
	rswap__admin_response__free_unpacked(resp, NULL);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "socket", required_argument, NULL, 'S' },
		{ "admin-key", required_argument, NULL, 'k' },
		{ "tcp", no_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "partial", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	Rswap__AdminRequest req = RSWAP__ADMIN_REQUEST__INIT;
	Rswap__StatusRequest status = RSWAP__STATUS_REQUEST__INIT;
	Rswap__StatsRequest stats = RSWAP__STATS_REQUEST__INIT;
	Rswap__ClientsRequest clients = RSWAP__CLIENTS_REQUEST__INIT;
	Rswap__AdminResponse *resp;
	const char *cmd, *arg = NULL;
	char err[512];

	/* client-key talks to no server: its own options (rswapctl_keys.c). */
	if (argc > 1 && !strcmp(argv[1], "client-key"))
		return ctl_client_key(argc - 1, argv + 1);
	parse_hostport(DEFAULT_SERVER, server_host, sizeof(server_host), server_port,
		       sizeof(server_port));
	int json = 0, partial = 0, opt;
	size_t i;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			if (parse_hostport(optarg, server_host, sizeof(server_host), server_port,
					   sizeof(server_port))) {
				fprintf(stderr, "rswapctl: --server wants ADDR:PORT, got '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'S':
			if ((optarg[0] != '/' && optarg[0] != '@') ||
			    strlen(optarg) >= SETTINGS_SOCK_MAX) {
				fprintf(stderr, "rswapctl: --socket wants a path or @NAME, got '%s'\n",
					optarg);
				return 2;
			}
			server_socket = optarg;
			break;
		case 'k':
			if (auth_key_load(&admin_key, optarg, err, sizeof(err))) {
				fprintf(stderr, "rswapctl: --admin-key: %s\n", err);
				return 2;
			}
			break;
		case 't':
			tcp_only = true;
			break;
		case 'p':
			partial = 1;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind == argc - 2 && !strcmp(argv[optind], "forget")) {
		arg = argv[optind + 1];
	} else if (optind != argc - 1 || !strcmp(argv[optind], "forget")) {
		if (optind < argc && !strcmp(argv[optind], "forget"))
			fprintf(stderr, "rswapctl: forget wants one CLIENT (its name or id)\n");
		else
			usage(stderr);
		return 2;
	}
	cmd = argv[optind];
	if (partial && strcmp(cmd, "drain")) {
		fprintf(stderr, "rswapctl: --partial goes with drain only\n");
		return 2;
	}
	if (!strcmp(cmd, "metrics"))
		return metrics();
	if (!strcmp(cmd, "drain"))
		return ctl_drain(server_host, server_port, partial, json);
	if (!strcmp(cmd, "rebalance"))
		return ctl_rebalance(server_host, server_port, json);
	if (!strcmp(cmd, "undrain"))
		return ctl_undrain(server_host, server_port, json);
	if (!strcmp(cmd, "drain-status"))
		return ctl_drain_status(server_host, server_port, json);
	if (!strcmp(cmd, "forget"))
		return forget(arg, json);
	if (!strcmp(cmd, "status")) {
		req.req_case = RSWAP__ADMIN_REQUEST__REQ_STATUS;
		req.status = &status;
	} else if (!strcmp(cmd, "stats")) {
		req.req_case = RSWAP__ADMIN_REQUEST__REQ_STATS;
		req.stats = &stats;
	} else if (!strcmp(cmd, "clients")) {
		req.req_case = RSWAP__ADMIN_REQUEST__REQ_CLIENTS;
		req.clients = &clients;
	} else {
		fprintf(stderr, "rswapctl: unknown command '%s' (try --help)\n", cmd);
		return 2;
	}
	resp = ask(&req);
	if (!resp)
		return 1;
	if (resp->resp_case == RSWAP__ADMIN_RESPONSE__RESP_STATS && stats_rest(resp)) {
		rswap__admin_response__free_unpacked(resp, NULL);
		return 1;
	}
	switch (resp->resp_case) {
	case RSWAP__ADMIN_RESPONSE__RESP_STATUS:
		if (json) {
			json_status(resp->status);
			putchar('\n');
		} else {
			text_status(resp->status);
		}
		break;
	case RSWAP__ADMIN_RESPONSE__RESP_CLIENTS:
		if (json) {
			json_clients(resp->clients->clients, resp->clients->n_clients);
			putchar('\n');
		} else {
			text_clients(resp->clients->clients, resp->clients->n_clients, 0);
		}
		break;
	case RSWAP__ADMIN_RESPONSE__RESP_STATS: {
		const Rswap__ServerStats *s = resp->stats;
		const Rswap__ServerCounters *k = s->counters;
		const ProtobufCFieldDescriptor *f;

		if (json) {
			printf("{\"status\":");
			json_status(s->status);
			printf(",\"counters\":{");
		} else {
			text_status(s->status);
			printf("\ncounters\n");
		}
		/* Every counter the message has, by its descriptor: nothing to
		 * keep in step with the proto file. */
		for (i = 0; i < rswap__server_counters__descriptor.n_fields; i++) {
			uint64_t v;

			f = &rswap__server_counters__descriptor.fields[i];
			memcpy(&v, (const char *)k + f->offset, sizeof(v));
			if (json)
				printf("%s\"%s\":%llu", i ? "," : "", f->name, (unsigned long long)v);
			else
				printf("  %-36s %llu\n", f->name, (unsigned long long)v);
		}
		if (json) {
			printf("},\"clients\":");
			json_clients(s->clients, s->n_clients);
			printf(",\"slabs\":[");
			for (i = 0; i < s->n_slabs; i++)
				printf("%s{\"slab\":%u,\"client\":%u}", i ? "," : "", s->slabs[i]->slab,
				       s->slabs[i]->client);
			printf("]}\n");
		} else {
			printf("\n");
			text_clients(s->clients, s->n_clients, s->status->slab_bytes);
			printf("\nslabs held   %zu", s->n_slabs);
			for (i = 0; i < s->n_slabs && i < 64; i++)
				printf("%s%u:%u", i ? " " : " (slab:client) ", s->slabs[i]->slab,
				       s->slabs[i]->client);
			printf("%s\n", s->n_slabs > 64 ? " ..." : "");
		}
		break;
	}
	default:
		fprintf(stderr, "rswapctl: unexpected answer\n");
		rswap__admin_response__free_unpacked(resp, NULL);
		return 1;
	}
	rswap__admin_response__free_unpacked(resp, NULL);
	return 0;
}
