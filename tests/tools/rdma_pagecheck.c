// SPDX-License-Identifier: GPL-2.0
/*
 * rdma_pagecheck: move patterned pages with one-sided RDMA and compare them.
 *
 * The VM smoke scenario runs a server and a client over soft-RoCE:
 *
 *   1. server: registers a buffer of N pages for remote read and write and
 *      listens with librdmacm;
 *   2. client: connects; the server's accept carries (address, rkey, pages)
 *      in its private data;
 *   3. client: fills N patterned pages and RDMA WRITEs them, one page per
 *      work request for the first half and one large WRITE for the rest;
 *   4. client: clears its buffer, RDMA READs every page back and compares
 *      each byte with the pattern;
 *   5. client: SENDs "done" with the seed; the server compares its own
 *      buffer with the pattern, so the pages are known to have crossed to the
 *      server, not only to have come back.
 *
 * Both sides exit 0 only if every page compared equal.
 */
#include <endian.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rdma/rdma_cma.h>
#include <rdma/rdma_verbs.h>

#include "page_pattern.h"
#include "tool_args.h"

/* Work requests in flight at once: enough to keep the link busy. */
#define WINDOW 16
#define DEFAULT_PAGES 256
#define DEFAULT_PORT "7471"
#define DEFAULT_TIMEOUT_S 60

/* Sent by the server in its accept; little-endian. */
struct pc_grant {
	uint64_t addr;
	uint32_t rkey;
	uint32_t pages;
};

/* Sent by the client when it is done; little-endian. */
struct pc_done {
	uint64_t seed;
	uint32_t pages;
	uint32_t reserved;
};

struct pc_opts {
	bool server;
	const char *addr;
	const char *port;
	uint32_t pages;
	uint64_t seed;
	unsigned int timeout_s;
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: rdma_pagecheck server --bind ADDR [options]\n"
		"       rdma_pagecheck client --connect ADDR [options]\n"
		"Move patterned pages between two hosts with one-sided RDMA WRITE and READ\n"
		"and compare every byte on both sides.\n"
		"\n"
		"  --bind ADDR       server: address to listen on\n"
		"  --connect ADDR    client: server to connect to\n"
		"  --port PORT       rdma_cm port (default " DEFAULT_PORT ")\n"
		"  --pages N         server: pages to offer (default %d)\n"
		"  --seed S          client: pattern seed (default: from the time)\n"
		"  --timeout SECS    give up after SECS seconds (default %d)\n",
		DEFAULT_PAGES, DEFAULT_TIMEOUT_S);
}

static struct ibv_qp_init_attr qp_attr(void)
{
	struct ibv_qp_init_attr attr = {
		.cap = {
			.max_send_wr = WINDOW,
			.max_recv_wr = 1,
			.max_send_sge = 1,
			.max_recv_sge = 1,
		},
		.qp_type = IBV_QPT_RC,
		.sq_sig_all = 1,
	};
	return attr;
}

static struct rdma_addrinfo *resolve(const char *addr, const char *port, bool passive)
{
	struct rdma_addrinfo hints = { .ai_port_space = RDMA_PS_TCP }, *res;
	int ret;

	if (passive)
		hints.ai_flags = RAI_PASSIVE;
	ret = rdma_getaddrinfo(addr, port, &hints, &res);
	if (ret) {
		fprintf(stderr, "rdma_getaddrinfo %s:%s: %s\n", addr, port,
			ret == -1 ? strerror(errno) : gai_strerror(ret));
		return NULL;
	}
	return res;
}

static int wait_send(struct rdma_cm_id *id, const char *what)
{
	struct ibv_wc wc;
	int ret = rdma_get_send_comp(id, &wc);

	if (ret <= 0) {
		perror("rdma_get_send_comp");
		return -1;
	}
	if (wc.status != IBV_WC_SUCCESS) {
		fprintf(stderr, "%s completed with %s\n", what, ibv_wc_status_str(wc.status));
		return -1;
	}
	return 0;
}

/*
 * Post @n one-sided operations covering pages [first, first + n) of @buf,
 * @per_wr pages each, at most WINDOW in flight; wait for all of them.
 */
static int transfer(struct rdma_cm_id *id, struct ibv_mr *mr, uint8_t *buf,
		    const struct pc_grant *g, uint32_t first, uint32_t n,
		    uint32_t per_wr, bool write)
{
	uint32_t posted = 0, inflight = 0;
	const char *what = write ? "RDMA WRITE" : "RDMA READ";

	while (posted < n || inflight) {
		while (posted < n && inflight < WINDOW) {
			uint32_t cnt = n - posted < per_wr ? n - posted : per_wr;
			size_t off = (size_t)(first + posted) * PATTERN_PAGE_SIZE;
			size_t len = (size_t)cnt * PATTERN_PAGE_SIZE;
			int ret = write ?
				rdma_post_write(id, NULL, buf + off, len, mr, 0,
						g->addr + off, g->rkey) :
				rdma_post_read(id, NULL, buf + off, len, mr, 0,
					       g->addr + off, g->rkey);
			if (ret) {
				fprintf(stderr, "posting %s: %s\n", what, strerror(errno));
				return -1;
			}
			posted += cnt;
			inflight++;
		}
		if (wait_send(id, what))
			return -1;
		inflight--;
	}
	return 0;
}

static uint32_t compare_pages(const uint8_t *buf, uint32_t pages, uint64_t seed,
			      const char *side)
{
	uint32_t bad = 0, i;

	for (i = 0; i < pages; i++) {
		long off = pattern_check(buf + (size_t)i * PATTERN_PAGE_SIZE, seed, i);

		if (off >= 0) {
			if (bad < 5)
				fprintf(stderr, "%s: page %" PRIu32 " differs at byte %ld\n",
					side, i, off);
			bad++;
		}
	}
	return bad;
}

static int run_client(const struct pc_opts *o)
{
	struct ibv_qp_init_attr attr = qp_attr();
	struct rdma_addrinfo *res;
	struct rdma_cm_id *id = NULL;
	struct ibv_mr *mr = NULL, *msg_mr = NULL;
	struct pc_grant g;
	struct pc_done done_msg;
	uint8_t *buf = NULL;
	uint32_t i, half, bad;
	int ret = 1;

	res = resolve(o->addr, o->port, false);
	if (!res)
		return 1;
	if (rdma_create_ep(&id, res, NULL, &attr)) {
		perror("rdma_create_ep");
		goto out_free_addrinfo;
	}
	if (rdma_connect(id, NULL)) {
		perror("rdma_connect");
		goto out_destroy_ep;
	}
	if (!id->event || id->event->param.conn.private_data_len < sizeof(g)) {
		fprintf(stderr, "client: server's accept carries no grant\n");
		goto out_disconnect;
	}
	memcpy(&g, id->event->param.conn.private_data, sizeof(g));
	g.addr = le64toh(g.addr);
	g.rkey = le32toh(g.rkey);
	g.pages = le32toh(g.pages);
	if (!g.pages) {
		fprintf(stderr, "client: server granted no pages\n");
		goto out_disconnect;
	}

	buf = aligned_alloc(PATTERN_PAGE_SIZE, (size_t)g.pages * PATTERN_PAGE_SIZE);
	if (!buf) {
		perror("aligned_alloc");
		goto out_disconnect;
	}
	mr = ibv_reg_mr(id->pd, buf, (size_t)g.pages * PATTERN_PAGE_SIZE,
			IBV_ACCESS_LOCAL_WRITE);
	msg_mr = rdma_reg_msgs(id, &done_msg, sizeof(done_msg));
	if (!mr || !msg_mr) {
		perror("ibv_reg_mr");
		goto out_dereg;
	}

	for (i = 0; i < g.pages; i++)
		pattern_fill(buf + (size_t)i * PATTERN_PAGE_SIZE, o->seed, i);
	half = g.pages / 2;
	if (transfer(id, mr, buf, &g, 0, half, 1, true) ||
	    transfer(id, mr, buf, &g, half, g.pages - half, g.pages - half, true))
		goto out_dereg;

	memset(buf, 0xa5, (size_t)g.pages * PATTERN_PAGE_SIZE);
	if (transfer(id, mr, buf, &g, 0, g.pages, 1, false))
		goto out_dereg;
	bad = compare_pages(buf, g.pages, o->seed, "client");
	printf("client: wrote %" PRIu32 " pages (%" PRIu32 " single, 1 WRITE of %" PRIu32
	       "), read back %" PRIu32 ", %" PRIu32 " differ\n",
	       g.pages, half, g.pages - half, g.pages, bad);

	done_msg.seed = htole64(o->seed);
	done_msg.pages = htole32(g.pages);
	done_msg.reserved = 0;
	if (rdma_post_send(id, NULL, &done_msg, sizeof(done_msg), msg_mr, 0)) {
		perror("rdma_post_send");
		goto out_dereg;
	}
	if (wait_send(id, "SEND"))
		goto out_dereg;
	ret = bad ? 1 : 0;
out_dereg:
	if (msg_mr)
		rdma_dereg_mr(msg_mr);
	if (mr)
		ibv_dereg_mr(mr);
	free(buf);
out_disconnect:
	rdma_disconnect(id);
out_destroy_ep:
	rdma_destroy_ep(id);
out_free_addrinfo:
	rdma_freeaddrinfo(res);
	return ret;
}

static int run_server(const struct pc_opts *o)
{
	struct ibv_qp_init_attr attr = qp_attr();
	struct rdma_conn_param param = { 0 };
	struct rdma_addrinfo *res;
	struct rdma_cm_id *listen_id = NULL, *id = NULL;
	struct ibv_mr *mr = NULL, *msg_mr = NULL;
	struct pc_grant g;
	struct pc_done done_msg;
	struct ibv_wc wc;
	size_t len = (size_t)o->pages * PATTERN_PAGE_SIZE;
	uint8_t *buf;
	uint32_t bad;
	int ret = 1;

	buf = aligned_alloc(PATTERN_PAGE_SIZE, len);
	if (!buf) {
		perror("aligned_alloc");
		return 1;
	}
	memset(buf, 0, len);
	res = resolve(o->addr, o->port, true);
	if (!res)
		goto out_free_buf;
	if (rdma_create_ep(&listen_id, res, NULL, &attr)) {
		perror("rdma_create_ep");
		goto out_free_addrinfo;
	}
	if (rdma_listen(listen_id, 1)) {
		perror("rdma_listen");
		goto out_destroy_listen;
	}
	printf("server: listening on %s:%s with %" PRIu32 " pages\n", o->addr, o->port,
	       o->pages);
	fflush(stdout);
	if (rdma_get_request(listen_id, &id)) {
		perror("rdma_get_request");
		goto out_destroy_listen;
	}
	mr = ibv_reg_mr(id->pd, buf, len, IBV_ACCESS_LOCAL_WRITE |
			IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_WRITE);
	msg_mr = rdma_reg_msgs(id, &done_msg, sizeof(done_msg));
	if (!mr || !msg_mr) {
		perror("ibv_reg_mr");
		goto out_dereg;
	}
	if (rdma_post_recv(id, NULL, &done_msg, sizeof(done_msg), msg_mr)) {
		perror("rdma_post_recv");
		goto out_dereg;
	}
	g.addr = htole64((uintptr_t)buf);
	g.rkey = htole32(mr->rkey);
	g.pages = htole32(o->pages);
	param.private_data = &g;
	param.private_data_len = sizeof(g);
	param.responder_resources = 1;
	param.initiator_depth = 1;
	if (rdma_accept(id, &param)) {
		perror("rdma_accept");
		goto out_dereg;
	}
	if (rdma_get_recv_comp(id, &wc) <= 0) {
		perror("rdma_get_recv_comp");
		goto out_disconnect;
	}
	if (wc.status != IBV_WC_SUCCESS || wc.byte_len != sizeof(done_msg)) {
		fprintf(stderr, "server: bad done message (%s, %u bytes)\n",
			ibv_wc_status_str(wc.status), wc.byte_len);
		goto out_disconnect;
	}
	if (le32toh(done_msg.pages) != o->pages) {
		fprintf(stderr, "server: client wrote %u pages, %u offered\n",
			le32toh(done_msg.pages), o->pages);
		goto out_disconnect;
	}
	bad = compare_pages(buf, o->pages, le64toh(done_msg.seed), "server");
	printf("server: %" PRIu32 " pages in server memory, %" PRIu32 " differ\n", o->pages,
	       bad);
	ret = bad ? 1 : 0;
out_disconnect:
	rdma_disconnect(id);
out_dereg:
	if (msg_mr)
		rdma_dereg_mr(msg_mr);
	if (mr)
		ibv_dereg_mr(mr);
	if (id)
		rdma_destroy_ep(id);
out_destroy_listen:
	rdma_destroy_ep(listen_id);
out_free_addrinfo:
	rdma_freeaddrinfo(res);
out_free_buf:
	free(buf);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "bind", required_argument, NULL, 'b' },
		{ "connect", required_argument, NULL, 'c' },
		{ "port", required_argument, NULL, 'p' },
		{ "pages", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct pc_opts o = {
		.port = DEFAULT_PORT,
		.pages = DEFAULT_PAGES,
		.seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32),
		.timeout_s = DEFAULT_TIMEOUT_S,
	};
	const char *bind = NULL, *connect = NULL;
	uint64_t v;
	int opt;

	if (argc < 2 || (strcmp(argv[1], "server") && strcmp(argv[1], "client"))) {
		if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
			usage(stdout);
			return 0;
		}
		usage(stderr);
		return 2;
	}
	o.server = !strcmp(argv[1], "server");
	optind = 2;
	while ((opt = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		switch (opt) {
		case 'b':
			bind = optarg;
			break;
		case 'c':
			connect = optarg;
			break;
		case 'p':
			o.port = optarg;
			break;
		case 'n':
			if (tool_parse_u64("rdma_pagecheck", "--pages", optarg, 1u << 20, &v) || !v)
				return 2;
			o.pages = (uint32_t)v;
			break;
		case 's':
			if (tool_parse_u64("rdma_pagecheck", "--seed", optarg, UINT64_MAX, &o.seed))
				return 2;
			break;
		case 't':
			if (tool_parse_u64("rdma_pagecheck", "--timeout", optarg, 86400, &v) || !v)
				return 2;
			o.timeout_s = (unsigned int)v;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || (o.server && !bind) || (!o.server && !connect) ||
	    (o.server && connect) || (!o.server && bind)) {
		fprintf(stderr, "rdma_pagecheck: %s needs %s and nothing else positional\n",
			argv[1], o.server ? "--bind ADDR" : "--connect ADDR");
		return 2;
	}
	o.addr = o.server ? bind : connect;
	/* A peer that never comes must not hang the test: SIGALRM ends us. */
	alarm(o.timeout_s);
	return o.server ? run_server(&o) : run_client(&o);
}
