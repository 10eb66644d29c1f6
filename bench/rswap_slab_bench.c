// SPDX-License-Identifier: GPL-2.0
/*
 * rswap_slab_bench: what a client gets from rswap-server's granted slabs,
 * measured the way perftest measures the raw link, so the two can be
 * compared in one guest run:
 *   - 4 KiB RDMA READ latency, one in flight (as ib_read_lat): p50, p99;
 *   - 4 KiB RDMA WRITE throughput, a window in flight (as ib_write_bw).
 * Prints one line "read_p50_us=.. read_p99_us=.. write_MBps=.." for
 * scripts, after a line for people.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <rdma/rdma_verbs.h>

#include "rswap_client.h"

#define WINDOW 16	/* WRITEs in flight; the client QP allows 32 */

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void usage(FILE *out)
{
	fprintf(out,
"Usage: rswap_slab_bench --server ADDR:PORT --key FILE [--iters N] [--slabs N]\n"
"Measure 4 KiB RDMA READ latency (p50, p99) and WRITE throughput through\n"
"slabs granted by rswap-server. Pages are patterned (never zero), spread\n"
"over --slabs slabs (default 4). --iters: READs and WRITEs each (default 2000).\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "server", required_argument, NULL, 's' },
		{ "key", required_argument, NULL, 'k' },
		{ "iters", required_argument, NULL, 'n' },
		{ "slabs", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct rswap_client *c = calloc(1, sizeof(*c));
	char host[64] = "", err[256], *colon, *port = NULL;
	uint32_t iters = 2000, n_slabs = 4, i, per_slab, pages;
	uint8_t id[RSWAP_ID_LEN], *buf;
	const char *key_file = NULL;
	struct auth_key key, kc;
	struct ibv_mr *mr;
	double *lat, t0, secs;
	uint32_t posted = 0, inflight = 0;
	int opt, ret = 1;

	while ((opt = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (opt) {
		case 's':
			snprintf(host, sizeof(host), "%s", optarg);
			colon = strrchr(host, ':');
			if (colon) {
				*colon = '\0';
				port = colon + 1;
			}
			break;
		case 'k':
			key_file = optarg;
			break;
		case 'n':
			iters = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'l':
			n_slabs = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!port || !key_file || !iters || !n_slabs || n_slabs > RSWAP_CLIENT_SLABS_MAX || !c) {
		usage(stderr);
		return 2;
	}
	if (auth_key_load(&key, key_file, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	/* A made-up client id: its key derived from the pool key, as
	 * rswapctl client-key does. */
	if (getrandom(id, sizeof(id), 0) != (ssize_t)sizeof(id) ||
	    auth_client_key(&key, id, &kc) ||
	    rswap_client_connect(c, host, port, &kc, id, "slab-bench")) {
		fprintf(stderr, "connect: %s\n", c->error);
		return 1;
	}
	for (i = 0; i < n_slabs; i++) {
		if (rswap_client_grant(c) < 0) {
			fprintf(stderr, "grant: %s\n", c->error);
			goto out_close;
		}
	}
	per_slab = (uint32_t)(c->slab_size / RSWAP_PAGE_SIZE);
	pages = per_slab * n_slabs;
	buf = aligned_alloc(RSWAP_PAGE_SIZE, (size_t)WINDOW * RSWAP_PAGE_SIZE);
	lat = calloc(iters, sizeof(*lat));
	if (!buf || !lat)
		goto out_close;
	memset(buf, 0xa5, (size_t)WINDOW * RSWAP_PAGE_SIZE);
	mr = rswap_client_reg(c, buf, (size_t)WINDOW * RSWAP_PAGE_SIZE);
	if (!mr)
		goto out_close;

	/* WRITE throughput: WINDOW 4 KiB WRITEs in flight, pages in turn. */
	t0 = now_us();
	while (posted < iters || inflight) {
		struct ibv_wc wc;

		while (posted < iters && inflight < WINDOW) {
			uint32_t p = posted % pages;
			const struct rswap_client_slab *sl = &c->slabs[p / per_slab];

			if (rdma_post_write(c->id, NULL, buf + (size_t)(posted % WINDOW) * RSWAP_PAGE_SIZE,
					    RSWAP_PAGE_SIZE, mr, IBV_SEND_SIGNALED,
					    sl->addr + (uint64_t)(p % per_slab) * RSWAP_PAGE_SIZE,
					    sl->rkey)) {
				perror("rdma_post_write");
				goto out_dereg;
			}
			posted++;
			inflight++;
		}
		if (rdma_get_send_comp(c->id, &wc) <= 0 || wc.status != IBV_WC_SUCCESS) {
			fprintf(stderr, "write: %s\n", ibv_wc_status_str(wc.status));
			goto out_dereg;
		}
		inflight--;
	}
	secs = (now_us() - t0) / 1e6;

	/* READ latency: one at a time, spread over the slabs. */
	for (i = 0; i < iters; i++) {
		uint32_t p = (uint32_t)((i * 2654435761u) % pages);

		t0 = now_us();
		if (rswap_client_read(c, p / per_slab, p % per_slab, buf, 1, mr)) {
			fprintf(stderr, "read: %s\n", c->error);
			goto out_dereg;
		}
		lat[i] = now_us() - t0;
	}
	qsort(lat, iters, sizeof(*lat), cmp_double);
	printf("rswap slabs: 4 KiB READ p50 %.1f us, p99 %.1f us (%u reads); "
	       "4 KiB WRITE %.1f MB/s (%u writes, %d in flight)\n",
	       lat[iters / 2], lat[(size_t)(iters * 0.99)], iters,
	       iters * (double)RSWAP_PAGE_SIZE / 1e6 / secs, iters, WINDOW);
	printf("read_p50_us=%.2f read_p99_us=%.2f write_MBps=%.2f\n", lat[iters / 2],
	       lat[(size_t)(iters * 0.99)], iters * (double)RSWAP_PAGE_SIZE / 1e6 / secs);
	ret = 0;
out_dereg:
	ibv_dereg_mr(mr);
out_close:
	rswap_client_close(c);
	free(c);
	return ret;
}
