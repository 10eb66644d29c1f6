// SPDX-License-Identifier: GPL-2.0
/*
 * rswap_pagetest: drive rswap-server through the client library and check
 * every page.
 *
 *   store    connect as a new client, write N patterned pages (a share of
 *            them zero-filled: those are recorded, never sent), read every
 *            page back and compare, save the client's state to --state
 *   verify   connect with the saved identity, REATTACH (new rkeys), read
 *            every page back and compare
 *   steal    connect as another client and READ the saved client's first
 *            slab with its address and rkey: must get a remote access error;
 *            then take a slab of its own: granted at address 0 (zero-based),
 *            and a READ one page past its end must be refused too
 *   impersonate  HELLO with the saved client's id, proven with the key of
 *            another client id: must be refused for a wrong key
 *   badkey   connect with --key: must be refused for a wrong key
 *   garbage  send malformed control messages: each must get an ERROR, and
 *            the connection must still work after
 *   attach   attach two more queue pairs to a connection with its token;
 *            pages written on one read back right on the others; a wrong
 *            token is refused; once the connection ends, the server ends
 *            its queue pairs and refuses its token
 *   migrate  with a connection to --server (A) and to --target (B): write
 *            pages into some slots of a slab on A and junk into the others,
 *            canaries into a slab on B; MIGRATE_MAP and MIGRATE have A copy
 *            the used slots into B's slab server to server; B's slab must
 *            then hold exactly the used slots' pages and the canaries
 *            elsewhere. Refusals: MIGRATE without a map (STATE), a map or a
 *            MIGRATE of a slab not ours (NO_SLAB), a map beyond the slab
 *            (MALFORMED), a wrong attach token (INTERNAL)
 *   decoy    listen on --target as an RDMA service that is not an rswap
 *            server (pagetest_decoy.c), with a patterned buffer open to
 *            remote writes; MIGRATE a slab of --server there, naming that
 *            buffer's address and rkey, twice: the decoy answering without
 *            private data, then with a forged copy accept. Both must be
 *            refused (INTERNAL), both copies must have connected, and no
 *            byte of the buffer may change. With --max-copies 1 (the
 *            server's): a second client's MIGRATE while a copy waits for
 *            the decoy is refused at once ("too many copies")
 *   copyqp   play a source server (the tool holds the pool key) and connect
 *            copy queue pairs to --server for a client's slab there
 *            (pagetest_copy.c): a wrong token and another client's slab are
 *            refused; the accept's MAC verifies; a WRITE lands in that slab;
 *            a READ of it, and WRITEs at the client's other slab (with the
 *            copy's rkey or the client's), do not succeed; returning the
 *            slab ends the copy
 *   evacuee  hold --slabs slabs on --server with pages (the last one empty),
 *            write --ready FILE, then answer the server's EVACUATEs as
 *            rswap.ko does: a slab granted on a --target (connected at the
 *            first EVACUATE), the map, MIGRATE, the copy checked, RETURN
 *            (an empty slab is returned at once); NOT_MOVED when no target
 *            has room. Done when every slab moved, or --timeout seconds
 *   fresh    connect with the saved identity and RSWAP_HELLO_FRESH: WELCOME
 *            must say it holds no slab (the saved ones, of which there must
 *            be some, were freed) and REATTACH must hand back none
 *   replace, keepalive, silent, quiet, mute: a connection's life, see
 *            pagetest_session.c (--timeout: the server's client timeout, or
 *            for mute its handshake deadline)
 *
 *   residue  a tenant is granted --slabs slabs, fills every page with a
 *            pattern (read back), returns them and goes; a second tenant is
 *            granted as many, which must be the same slab numbers, and
 *            reads every page: all must be zero (the server scrubs freed
 *            slabs before it grants them again)
 *
 * Exit status: 0 when what was checked held, 1 when it did not, 2 on usage.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

#include "pt_connect.h"
#include "page_pattern.h"
#include "pagetest_migrate.h"
#include "pagetest_session.h"
#include "tool_args.h"
#include "rswap_client.h"

#define STATE_MAGIC 0x54535052u	/* "RPST" */
#define ZERO_SLOT UINT32_MAX
/* Pages per RDMA WRITE when they are consecutive in a slab. */
#define BATCH_PAGES 16

struct state_hdr {
	uint32_t magic;
	uint32_t pages;
	uint64_t seed;
	uint8_t id[RSWAP_ID_LEN];
	uint32_t zero_pct;
	uint32_t n_slabs;
};

/* Where page i lives: (server slab number, page in slab) or ZERO_SLOT. */
struct page_loc {
	uint32_t slab;
	uint32_t page;
};

struct opts {
	const char *cmd, *host, *port, *key_file, *state, *ready;
	uint32_t pages, zero_pct, slabs, timeout_s, max_copies;
	uint64_t seed;
	char target_buf[PT_TARGETS_MAX][64];
	struct pt_endpoint targets[PT_TARGETS_MAX];
	unsigned int n_targets;
};

static void usage(FILE *out)
{
	fprintf(out,
"Usage: rswap_pagetest store|verify|steal|impersonate|badkey|garbage|attach --server ADDR:PORT\n"
"                      --key FILE --state FILE [--pages N] [--zero-pct P] [--seed S]\n"
"       rswap_pagetest migrate --server ADDR:PORT --target ADDR:PORT --key FILE\n"
"       rswap_pagetest decoy --server ADDR:PORT --target ADDR:PORT --key FILE\n"
"                      [--max-copies 1]\n"
"       rswap_pagetest copyqp --server ADDR:PORT --key FILE\n"
"       rswap_pagetest evacuee --server ADDR:PORT --target ADDR:PORT... --key FILE\n"
"                      --ready FILE [--slabs N] [--timeout SECONDS]\n"
"       rswap_pagetest fresh --server ADDR:PORT --key FILE --state FILE\n"
"       rswap_pagetest residue --server ADDR:PORT --key FILE [--slabs N]\n"
"       rswap_pagetest replace --server ADDR:PORT --key FILE [--pages N]\n"
"       rswap_pagetest keepalive|silent|quiet|mute --server ADDR:PORT --key FILE\n"
"                      --timeout SECONDS\n"
"Store patterned pages in rswap-server and check every one; see the source's\n"
"--key is the pool key: the tool makes up client ids and derives each one's\n"
"own key from it (as rswapctl client-key does).\n"
"header for what each command checks. Exit 0: held, 1: did not, 2: usage.\n");
}

/* Pages 0..N-1: page i is zero-filled when its hash says so (P percent). */
static bool page_is_zero(const struct opts *o, uint32_t i)
{
	return pattern_mix(o->seed ^ (0x5a5a5a5aull + i)) % 100 < o->zero_pct;
}

static void make_page(const struct opts *o, uint32_t i, uint8_t *buf)
{
	if (page_is_zero(o, i))
		memset(buf, 0, PATTERN_PAGE_SIZE);
	else
		pattern_fill(buf, o->seed, i);
}

static int save_state(const struct opts *o, const struct rswap_client *c,
		      const struct page_loc *loc)
{
	struct state_hdr h = { STATE_MAGIC, o->pages, o->seed, { 0 }, o->zero_pct, c->n_slabs };
	FILE *f = fopen(o->state, "w");
	int ok;

	if (!f) {
		perror(o->state);
		return -1;
	}
	memcpy(h.id, c->client_id, RSWAP_ID_LEN);
	ok = fwrite(&h, sizeof(h), 1, f) == 1 &&
	     fwrite(c->slabs, sizeof(c->slabs[0]), c->n_slabs, f) == c->n_slabs &&
	     fwrite(loc, sizeof(*loc), o->pages, f) == o->pages;
	if (fclose(f) || !ok) {
		perror(o->state);
		return -1;
	}
	return 0;
}

static struct page_loc *load_state(struct opts *o, struct state_hdr *h,
				   struct rswap_client_slab *slabs)
{
	FILE *f = fopen(o->state, "r");
	struct page_loc *loc = NULL;

	if (!f) {
		perror(o->state);
		return NULL;
	}
	if (fread(h, sizeof(*h), 1, f) != 1 || h->magic != STATE_MAGIC ||
	    h->n_slabs > RSWAP_CLIENT_SLABS_MAX ||
	    fread(slabs, sizeof(*slabs), h->n_slabs, f) != h->n_slabs)
		goto out_bad;
	loc = calloc(h->pages, sizeof(*loc));
	if (!loc || fread(loc, sizeof(*loc), h->pages, f) != h->pages)
		goto out_bad;
	fclose(f);
	o->pages = h->pages;
	o->seed = h->seed;
	o->zero_pct = h->zero_pct;
	return loc;
out_bad:
	fprintf(stderr, "%s: not a pagetest state file\n", o->state);
	free(loc);
	fclose(f);
	return NULL;
}

/* Read every page back and compare; returns the number that differ. */
static long check_all(const struct opts *o, struct rswap_client *c, const struct page_loc *loc,
		      uint8_t *buf, struct ibv_mr *mr)
{
	long bad = 0;
	uint32_t i, j;

	for (i = 0; i < o->pages; i++) {
		long off;

		if (loc[i].slab == ZERO_SLOT) {
			if (!page_is_zero(o, i)) {
				fprintf(stderr, "page %u: recorded zero but is not\n", i);
				bad++;
			}
			continue;
		}
		for (j = 0; j < c->n_slabs && c->slabs[j].slab != loc[i].slab; j++)
			;
		if (j == c->n_slabs || rswap_client_read(c, j, loc[i].page, buf, 1, mr)) {
			fprintf(stderr, "page %u: cannot read slab %u: %s\n", i, loc[i].slab,
				c->error);
			bad++;
			continue;
		}
		off = pattern_check(buf, o->seed, i);
		if (off >= 0) {
			if (bad < 5)
				fprintf(stderr, "page %u differs at byte %ld\n", i, off);
			bad++;
		}
	}
	return bad;
}

static int cmd_store(struct opts *o, const struct auth_key *key)
{
	uint32_t per_slab, i, used = 0, zero = 0, batch_first = 0, batch_n = 0;
	struct rswap_client *c = calloc(1, sizeof(*c));
	struct page_loc *loc = calloc(o->pages, sizeof(*loc));
	uint8_t *buf = aligned_alloc(PATTERN_PAGE_SIZE, PATTERN_PAGE_SIZE * BATCH_PAGES);
	uint8_t id[RSWAP_ID_LEN];
	struct ibv_mr *mr = NULL;
	int slab = -1, ret = 1;
	long bad;

	if (!c || !loc || !buf || getrandom(id, sizeof(id), 0) != (ssize_t)sizeof(id))
		goto out;
	if (pt_connect(c, o->host, o->port, key, id, "pagetest")) {
		fprintf(stderr, "store: %s\n", c->error);
		goto out;
	}
	mr = rswap_client_reg(c, buf, PATTERN_PAGE_SIZE * BATCH_PAGES);
	if (!mr)
		goto out_close;
	per_slab = (uint32_t)(c->slab_size / PATTERN_PAGE_SIZE);
	/* Non-zero pages go to consecutive slots; runs of them go out as one
	 * WRITE of up to BATCH_PAGES pages. */
	for (i = 0; i <= o->pages; i++) {
		bool flush = i == o->pages || batch_n == BATCH_PAGES ||
			     (batch_n && used % per_slab == 0);

		if (flush && batch_n) {
			if (rswap_client_write(c, (uint32_t)slab, (used - batch_n) % per_slab,
					       buf, batch_n, mr)) {
				fprintf(stderr, "store: %s\n", c->error);
				goto out_close;
			}
			batch_n = 0;
		}
		if (i == o->pages)
			break;
		make_page(o, i, buf + (size_t)batch_n * PATTERN_PAGE_SIZE);
		if (rswap_page_is_zero(buf + (size_t)batch_n * PATTERN_PAGE_SIZE)) {
			c->stats.zero_pages++;
			loc[i].slab = ZERO_SLOT;
			zero++;
			continue;
		}
		if (used % per_slab == 0) {
			slab = rswap_client_grant(c);
			if (slab < 0) {
				fprintf(stderr, "store: grant: %s\n", c->error);
				goto out_close;
			}
		}
		if (!batch_n)
			batch_first = i;
		loc[i].slab = c->slabs[slab].slab;
		loc[i].page = used % per_slab;
		used++;
		batch_n++;
	}
	(void)batch_first;
	bad = check_all(o, c, loc, buf, mr);
	printf("store: %u pages: %u written in %u slabs (%" PRIu64 " bytes), %u zero (not sent), "
	       "%ld differ on read-back\n", o->pages, used, c->n_slabs, c->stats.bytes_written,
	       zero, bad);
	if (!bad && !save_state(o, c, loc))
		ret = 0;
out_close:
	if (mr)
		ibv_dereg_mr(mr);
	rswap_client_close(c);
out:
	free(buf);
	free(loc);
	free(c);
	return ret;
}

static int cmd_verify(struct opts *o, const struct auth_key *key)
{
	struct rswap_client *c = calloc(1, sizeof(*c));
	struct rswap_client_slab *old = calloc(RSWAP_CLIENT_SLABS_MAX, sizeof(*old));
	uint8_t *buf = aligned_alloc(PATTERN_PAGE_SIZE, PATTERN_PAGE_SIZE);
	struct page_loc *loc = NULL;
	struct ibv_mr *mr = NULL;
	struct state_hdr h;
	int n, ret = 1;
	long bad;

	if (!c || !old || !buf)
		goto out;
	loc = load_state(o, &h, old);
	if (!loc)
		goto out;
	if (pt_connect(c, o->host, o->port, key, h.id, "pagetest")) {
		fprintf(stderr, "verify: %s\n", c->error);
		goto out;
	}
	n = rswap_client_reattach(c);
	if (n < 0) {
		fprintf(stderr, "verify: reattach: %s\n", c->error);
		goto out_close;
	}
	if ((uint32_t)n != h.n_slabs)
		fprintf(stderr, "verify: server holds %d slabs for us, we had %u\n", n, h.n_slabs);
	mr = rswap_client_reg(c, buf, PATTERN_PAGE_SIZE);
	if (!mr)
		goto out_close;
	bad = check_all(o, c, loc, buf, mr);
	printf("verify: reattached %d slabs, %u pages checked, %ld differ\n", n, o->pages, bad);
	ret = bad || (uint32_t)n != h.n_slabs ? 1 : 0;
out_close:
	if (mr)
		ibv_dereg_mr(mr);
	rswap_client_close(c);
out:
	free(loc);
	free(buf);
	free(old);
	free(c);
	return ret;
}

static int cmd_fresh(struct opts *o, const struct auth_key *key)
{
	struct rswap_client_opts co = { .hello_flags = RSWAP_HELLO_FRESH };
	struct rswap_client *c = calloc(1, sizeof(*c));
	struct rswap_client_slab *old = calloc(RSWAP_CLIENT_SLABS_MAX, sizeof(*old));
	struct page_loc *loc = NULL;
	struct state_hdr h;
	int n, ret = 1;

	if (!c || !old)
		goto out;
	loc = load_state(o, &h, old);
	if (!loc)
		goto out;
	if (!h.n_slabs) {
		fprintf(stderr, "fresh: the saved client held no slab: nothing to see freed\n");
		goto out;
	}
	if (pt_connect_opts(c, o->host, o->port, key, h.id, "pagetest", &co)) {
		fprintf(stderr, "fresh: %s\n", c->error);
		goto out;
	}
	n = rswap_client_reattach(c);
	printf("fresh: the client held %u slabs; after a FRESH hello the server says it holds "
	       "%u, and reattaches %d\n", h.n_slabs, c->held, n);
	if (n < 0)
		fprintf(stderr, "fresh: reattach: %s\n", c->error);
	ret = c->held || n ? 1 : 0;
	rswap_client_close(c);
out:
	free(loc);
	free(old);
	free(c);
	return ret;
}

/* Fill or check every page of @n slabs of @c: 0 when all held, else 1. */
static int residue_pass(struct opts *o, struct rswap_client *c, uint32_t n, bool fill,
			uint8_t *buf, struct ibv_mr *mr)
{
	uint32_t per_slab = (uint32_t)(c->slab_size / PATTERN_PAGE_SIZE), i, pg;
	uint64_t dirty = 0;

	for (i = 0; i < n; i++) {
		for (pg = 0; pg < per_slab; pg++) {
			if (fill) {
				pattern_fill(buf, o->seed, (uint64_t)i * per_slab + pg);
				if (rswap_client_write(c, i, pg, buf, 1, mr))
					goto out_err;
			}
			memset(buf, 0x77, PATTERN_PAGE_SIZE);
			if (rswap_client_read(c, i, pg, buf, 1, mr))
				goto out_err;
			if (fill ? pattern_check(buf, o->seed, (uint64_t)i * per_slab + pg) >= 0 :
			    !rswap_page_is_zero(buf)) {
				if (dirty++ < 5)
					fprintf(stderr, "residue: slab %u page %u: %s\n",
						c->slabs[i].slab, pg, fill ? "pattern did not stick" :
						"not zero: the last tenant's bytes");
			}
		}
	}
	if (!fill)
		printf("residue: %u slabs, %u pages each, read by the new tenant: %" PRIu64
		       " not zero\n", n, per_slab, dirty);
	return dirty ? 1 : 0;
out_err:
	fprintf(stderr, "residue: slab %u page %u: %s\n", c->slabs[i].slab, pg, c->error);
	return 1;
}

static int cmd_residue(struct opts *o, const struct auth_key *key)
{
	struct rswap_client *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	uint8_t *buf = aligned_alloc(PATTERN_PAGE_SIZE, PATTERN_PAGE_SIZE);
	uint32_t slabs[RSWAP_CLIENT_SLABS_MAX], i, n = o->slabs;
	uint8_t id[RSWAP_ID_LEN];
	struct ibv_mr *mr = NULL;
	int ret = 1;

	if (!a || !b || !buf || !n || n > RSWAP_CLIENT_SLABS_MAX)
		goto out;
	if (getrandom(id, sizeof(id), 0) != (ssize_t)sizeof(id) ||
	    pt_connect(a, o->host, o->port, key, id, "residue-old")) {
		fprintf(stderr, "residue: first tenant: %s\n", a->error);
		goto out;
	}
	mr = rswap_client_reg(a, buf, PATTERN_PAGE_SIZE);
	for (i = 0; mr && i < n; i++) {
		if (rswap_client_grant(a) != (int)i) {
			fprintf(stderr, "residue: first tenant: grant: %s\n", a->error);
			goto out_a;
		}
		slabs[i] = a->slabs[i].slab;
	}
	if (!mr || residue_pass(o, a, n, true, buf, mr))
		goto out_a;
	/* rswap_client_return moves the last slab into the returned one's
	 * place: return the first one n times. */
	for (i = 0; i < n; i++) {
		if (rswap_client_return(a, 0)) {
			fprintf(stderr, "residue: first tenant: return: %s\n", a->error);
			goto out_a;
		}
	}
	ibv_dereg_mr(mr);
	mr = NULL;
	rswap_client_close(a);
	printf("residue: first tenant wrote %u slabs and returned them\n", n);

	if (getrandom(id, sizeof(id), 0) != (ssize_t)sizeof(id) ||
	    pt_connect(b, o->host, o->port, key, id, "residue-new")) {
		fprintf(stderr, "residue: second tenant: %s\n", b->error);
		goto out;
	}
	mr = rswap_client_reg(b, buf, PATTERN_PAGE_SIZE);
	for (i = 0; mr && i < n; i++) {
		if (rswap_client_grant(b) != (int)i) {
			fprintf(stderr, "residue: second tenant: grant: %s\n", b->error);
			goto out_b;
		}
		if (b->slabs[i].slab != slabs[i]) {
			fprintf(stderr, "residue: second tenant got slab %u, not %u: the check "
				"would prove nothing\n", b->slabs[i].slab, slabs[i]);
			goto out_b;
		}
	}
	if (mr)
		ret = residue_pass(o, b, n, false, buf, mr);
out_b:
	if (mr)
		ibv_dereg_mr(mr);
	rswap_client_close(b);
	goto out;
out_a:
	if (mr)
		ibv_dereg_mr(mr);
	rswap_client_close(a);
out:
	free(buf);
	free(a);
	free(b);
	return ret;
}

/* Did the last READ of @c fail as the NIC refuses a remote access? */
static bool refused_remotely(const struct rswap_client *c)
{
	return strstr(c->error, "remote access error") || strstr(c->error, "Remote");
}

/* Connect as @id with a FRESH hello (the server frees what @id held) and go. */
static int steal_fresh_goodbye(struct opts *o, const struct auth_key *key,
			       const uint8_t id[RSWAP_ID_LEN], struct rswap_client *c)
{
	struct rswap_client_opts co = { .hello_flags = RSWAP_HELLO_FRESH };

	memset(c, 0, sizeof(*c));
	if (pt_connect_opts(c, o->host, o->port, key, id, "thief2", &co)) {
		fprintf(stderr, "steal: reconnecting to free its slab: %s\n", c->error);
		return -1;
	}
	rswap_client_close(c);
	return 0;
}

/*
 * The thief's own slab, on a connection of its own (a refused READ leaves
 * a queue pair in error): granted zero-based (its address is an offset,
 * not where the server maps the pool), and a READ one page past its end,
 * where the next slab of the pool lies, is refused.
 */
static int steal_past_own_slab(struct opts *o, const struct auth_key *key, uint8_t *buf)
{
	struct rswap_client *c = calloc(1, sizeof(*c));
	const struct rswap_client_slab *own;
	struct ibv_mr *mr = NULL;
	uint8_t id[RSWAP_ID_LEN];
	int i = -1, ret = 1;

	if (!c || getrandom(id, sizeof(id), 0) != (ssize_t)sizeof(id))
		goto out;
	if (pt_connect(c, o->host, o->port, key, id, "thief2")) {
		fprintf(stderr, "steal: %s\n", c->error);
		goto out;
	}
	mr = rswap_client_reg(c, buf, PATTERN_PAGE_SIZE);
	i = mr ? rswap_client_grant(c) : -1;
	if (i < 0) {
		fprintf(stderr, "steal: no slab of its own: %s\n", c->error);
		goto out_close;
	}
	own = &c->slabs[i];
	if (own->addr != 0) {
		printf("steal: own slab granted at address 0x%llx, not 0: the server's "
		       "memory layout shows\n", (unsigned long long)own->addr);
		goto out_close;
	}
	if (!rswap_client_read_raw(c, own->addr + c->slab_size, own->rkey, buf, mr)) {
		printf("steal: READ past the end of its own slab SUCCEEDED: protection broken\n");
		goto out_close;
	}
	printf("steal: own slab at 0 (zero-based); READ past its end refused: %s\n", c->error);
	ret = refused_remotely(c) ? 0 : 1;
out_close:
	if (mr)
		ibv_dereg_mr(mr);
	rswap_client_close(c);
	/* Leave nothing behind: a FRESH hello frees the slab it was granted. */
	if (i >= 0 && steal_fresh_goodbye(o, key, id, c))
		ret = 1;
out:
	free(c);
	return ret;
}

static int cmd_steal(struct opts *o, const struct auth_key *key)
{
	struct rswap_client *c = calloc(1, sizeof(*c));
	struct rswap_client_slab *victim = calloc(RSWAP_CLIENT_SLABS_MAX, sizeof(*victim));
	uint8_t *buf = aligned_alloc(PATTERN_PAGE_SIZE, PATTERN_PAGE_SIZE);
	struct page_loc *loc = NULL;
	struct ibv_mr *mr = NULL;
	uint8_t id[RSWAP_ID_LEN];
	struct state_hdr h;
	int ret = 1;

	if (!c || !victim || !buf || getrandom(id, sizeof(id), 0) != (ssize_t)sizeof(id))
		goto out;
	loc = load_state(o, &h, victim);
	if (!loc || !h.n_slabs)
		goto out;
	if (pt_connect(c, o->host, o->port, key, id, "thief")) {
		fprintf(stderr, "steal: %s\n", c->error);
		goto out;
	}
	mr = rswap_client_reg(c, buf, PATTERN_PAGE_SIZE);
	if (!mr)
		goto out_close;
	if (!rswap_client_read_raw(c, victim[0].addr, victim[0].rkey, buf, mr)) {
		printf("steal: READ of another client's slab SUCCEEDED: protection broken\n");
		goto out_close;
	}
	printf("steal: READ of another client's slab refused: %s\n", c->error);
	if (!refused_remotely(c))
		goto out_close;
	ret = steal_past_own_slab(o, key, buf);
out_close:
	if (mr)
		ibv_dereg_mr(mr);
	rswap_client_close(c);
out:
	free(loc);
	free(buf);
	free(victim);
	free(c);
	return ret;
}

static int cmd_badkey(struct opts *o, const struct auth_key *key)
{
	struct rswap_client *c = calloc(1, sizeof(*c));
	uint8_t id[RSWAP_ID_LEN] = { 0xba, 0xd };
	int ret = 1;

	(void)o;
	if (!c)
		return 1;
	if (!pt_connect(c, o->host, o->port, key, id, "badkey")) {
		printf("badkey: connected: the key was accepted\n");
		rswap_client_close(c);
	} else {
		printf("badkey: refused: %s\n", c->error);
		ret = c->last_error == RSWAP_ERR_AUTH ? 0 : 1;
	}
	free(c);
	return ret;
}

/*
 * HELLO with the saved client's id, proven with the key of another id (a
 * real client key of this pool, the attacker's own): must be refused as
 * AUTH, and the saved client's slabs stay its own (verify afterwards).
 */
static int cmd_impersonate(struct opts *o, const struct auth_key *key)
{
	struct rswap_client *c = calloc(1, sizeof(*c));
	struct rswap_client_slab *victim = calloc(RSWAP_CLIENT_SLABS_MAX, sizeof(*victim));
	uint8_t own_id[RSWAP_ID_LEN];
	struct page_loc *loc = NULL;
	struct auth_key own_key;
	struct state_hdr h;
	int ret = 1;

	if (!c || !victim || getrandom(own_id, sizeof(own_id), 0) != (ssize_t)sizeof(own_id) ||
	    auth_client_key(key, own_id, &own_key))
		goto out;
	loc = load_state(o, &h, victim);
	if (!loc)
		goto out;
	if (!rswap_client_connect(c, o->host, o->port, &own_key, h.id, "impostor")) {
		printf("impersonate: authenticated as another client with our own key: "
		       "identity not bound to the key (holds %u slabs of the victim)\n", c->held);
		rswap_client_close(c);
	} else {
		printf("impersonate: refused: %s\n", c->error);
		ret = c->last_error == RSWAP_ERR_AUTH ? 0 : 1;
	}
out:
	free(loc);
	free(victim);
	free(c);
	return ret;
}

static int cmd_garbage(struct opts *o, const struct auth_key *key)
{
	struct rswap_client *c = calloc(1, sizeof(*c));
	uint8_t id[RSWAP_ID_LEN], msg[RSWAP_MSG_MAX];
	struct rswap_request r;
	int answered = 0, sent = 0, i, type, ret = 1;

	if (!c || getrandom(id, sizeof(id), 0) != (ssize_t)sizeof(id))
		goto out;
	if (pt_connect(c, o->host, o->port, key, id, "garbage")) {
		fprintf(stderr, "garbage: %s\n", c->error);
		goto out;
	}
	/* bad magic, wrong version, unknown type, truncated, oversized claim,
	 * random bytes, and a valid message at a wrong moment (CHALLENGE) */
	for (i = 0; i < 7; i++) {
		size_t len = sizeof(r);

		memset(&r, 0, sizeof(r));
		rswap_hdr_init(&r.hdr, RSWAP_MSG_GRANT_REQ, 1000 + i);
		memcpy(msg, &r, sizeof(r));
		switch (i) {
		case 0: msg[0] ^= 0xff; break;
		case 1: msg[4] = 9; break;
		case 2: msg[6] = 0xee; break;
		case 3: len = 7; break;
		case 4: msg[8] = 100; break;
		case 5: if (getrandom(msg, 64, 0) != 64) goto out_close; len = 64; break;
		case 6: {
			struct rswap_challenge ch;

			memset(&ch, 0, sizeof(ch));
			rswap_hdr_init(&ch.hdr, RSWAP_MSG_CHALLENGE, 1006);
			memcpy(msg, &ch, sizeof(ch));
			len = sizeof(ch);
			break;
		}
		}
		sent++;
		type = rswap_client_raw(c, msg, len);
		if (type == RSWAP_MSG_ERROR)
			answered++;
		else
			fprintf(stderr, "garbage %d: answer %d: %s\n", i, type, c->error);
	}
	/* still served: a real grant works */
	i = rswap_client_grant(c);
	printf("garbage: %d of %d bad messages answered with ERROR; grant afterwards %s\n",
	       answered, sent, i >= 0 ? "works" : c->error);
	if (i >= 0)
		rswap_client_return(c, (uint32_t)i);
	ret = answered == sent && i >= 0 ? 0 : 1;
out_close:
	rswap_client_close(c);
out:
	free(c);
	return ret;
}

/* Write --pages pages on queue pair @wq, read each back on @rq: pages that differ. */
static long write_read(struct opts *o, struct rswap_client *c, uint32_t slab, unsigned int wq,
		       unsigned int rq, uint8_t *buf, struct ibv_mr *mr)
{
	uint32_t per_slab = (uint32_t)(c->slab_size / PATTERN_PAGE_SIZE), i;
	long bad = 0;

	for (i = 0; i < o->pages && i < per_slab; i++) {
		pattern_fill(buf, o->seed + wq, i);
		if (rswap_client_use_qp(c, wq) || rswap_client_write(c, slab, i, buf, 1, mr) ||
		    rswap_client_use_qp(c, rq) || rswap_client_read(c, slab, i, buf, 1, mr)) {
			fprintf(stderr, "attach: page %u, qp %u -> %u: %s\n", i, wq, rq, c->error);
			return bad + 1;
		}
		bad += pattern_check(buf, o->seed + wq, i) >= 0;
	}
	return bad;
}

static int cmd_attach(struct opts *o, const struct auth_key *key)
{
	struct rswap_client *c = calloc(1, sizeof(*c));
	uint8_t *buf = aligned_alloc(PATTERN_PAGE_SIZE, PATTERN_PAGE_SIZE);
	uint8_t id[RSWAP_ID_LEN], wrong[RSWAP_TOKEN_LEN], token[RSWAP_TOKEN_LEN];
	struct ibv_mr *mr = NULL;
	int slab, fails = 0;
	unsigned int i;
	long bad = 0;

	if (!c || !buf || getrandom(id, sizeof(id), 0) != (ssize_t)sizeof(id))
		goto out;
	if (pt_connect(c, o->host, o->port, key, id, "attach")) {
		fprintf(stderr, "attach: %s\n", c->error);
		goto out;
	}
	mr = rswap_client_reg(c, buf, PATTERN_PAGE_SIZE);
	slab = rswap_client_grant(c);
	if (!mr || slab < 0) {
		fprintf(stderr, "attach: setup: %s\n", mr ? c->error : "ibv_reg_mr failed");
		goto out_close;
	}
	printf("attach: server allows %u queue pairs per connection\n", c->max_attach);
	if (rswap_client_attach(c, NULL) != 1 || rswap_client_attach(c, NULL) != 2) {
		printf("attach: FAILED to attach with the token: %s\n", c->error);
		goto out_close;
	}
	/* Every pair of queue pairs: written on one, read on another. */
	bad += write_read(o, c, (uint32_t)slab, 1, 2, buf, mr);
	bad += write_read(o, c, (uint32_t)slab, 2, 0, buf, mr);
	bad += write_read(o, c, (uint32_t)slab, 0, 1, buf, mr);
	printf("attach: 2 queue pairs attached; %u pages x 3 crossings, %ld differ\n",
	       o->pages, bad);
	fails += bad != 0;

	memcpy(wrong, c->token, sizeof(wrong));
	wrong[0] ^= 1;
	if (rswap_client_attach(c, wrong) >= 0) {
		printf("attach: a wrong token was ACCEPTED\n");
		fails++;
	} else {
		printf("attach: wrong token refused (%s)\n", c->error);
		fails += !strstr(c->error, "rejected");
	}

	/* End the connection; its queue pairs and token die with it. */
	memcpy(token, c->token, sizeof(token));
	rdma_disconnect(c->id);
	for (i = 1; i <= 2; i++) {
		if (rswap_client_qp_ended(c, i, 10000)) {
			printf("attach: queue pair %u ended by the server with the connection\n", i);
		} else {
			printf("attach: queue pair %u NOT ended with its connection\n", i);
			fails++;
		}
	}
	if (rswap_client_attach(c, token) >= 0) {
		printf("attach: the token of an ended connection was ACCEPTED\n");
		fails++;
	} else {
		printf("attach: token of the ended connection refused (%s)\n", c->error);
		fails += !strstr(c->error, "rejected");
	}
	goto out_close_ret;
out_close:
	fails++;
out_close_ret:
	if (mr)
		ibv_dereg_mr(mr);
	rswap_client_close(c);
	free(buf);
	free(c);
	return fails ? 1 : 0;
out:
	free(buf);
	free(c);
	return 1;
}

/* "ADDR:PORT" into @host and *port (pointing into @host): 0, or -1 said. */
static int split_hostport(const char *text, char *host, size_t size, const char **port)
{
	char *colon;

	snprintf(host, size, "%s", text);
	colon = strrchr(host, ':');
	if (!colon) {
		fprintf(stderr, "rswap_pagetest: want ADDR:PORT, got '%s'\n", text);
		return -1;
	}
	*colon = '\0';
	*port = colon + 1;
	return 0;
}

typedef int session_fn(const struct pt_session_opts *o, const struct auth_key *key);

/* The pagetest_session.c command named @cmd, or NULL. */
static session_fn *session_cmd(const char *cmd)
{
	static const struct {
		const char *name;
		session_fn *fn;
	} cmds[] = {
		{ "replace", pagetest_replace }, { "keepalive", pagetest_keepalive },
		{ "silent", pagetest_silent }, { "quiet", pagetest_quiet },
		{ "mute", pagetest_mute },
	};
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(cmd, cmds[i].name))
			return cmds[i].fn;
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "server", required_argument, NULL, 's' },
		{ "key", required_argument, NULL, 'k' },
		{ "state", required_argument, NULL, 'f' },
		{ "pages", required_argument, NULL, 'n' },
		{ "zero-pct", required_argument, NULL, 'z' },
		{ "seed", required_argument, NULL, 'r' },
		{ "target", required_argument, NULL, 't' },
		{ "ready", required_argument, NULL, 'y' },
		{ "slabs", required_argument, NULL, 'b' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "max-copies", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct opts o = { .pages = 10000, .zero_pct = 30, .slabs = 3, .timeout_s = 60 };
	struct pt_migrate_opts mo;
	char hostbuf[64], err[256];
	uint64_t v;
	struct auth_key key;
	int opt;

	if (argc < 2 || argv[1][0] == '-') {
		usage(argc > 1 && !strcmp(argv[1], "--help") ? stdout : stderr);
		return argc > 1 && !strcmp(argv[1], "--help") ? 0 : 2;
	}
	/* Line by line: a check that hangs still shows how far it got. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	o.cmd = argv[1];
	if (getrandom(&o.seed, sizeof(o.seed), 0) != (ssize_t)sizeof(o.seed))
		return 2;
	optind = 2;
	while ((opt = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (opt) {
		case 's':
			if (split_hostport(optarg, hostbuf, sizeof(hostbuf), &o.port))
				return 2;
			o.host = hostbuf;
			break;
		case 't':
			if (o.n_targets == PT_TARGETS_MAX ||
			    split_hostport(optarg, o.target_buf[o.n_targets],
					   sizeof(o.target_buf[0]), &o.targets[o.n_targets].port))
				return 2;
			o.targets[o.n_targets].host = o.target_buf[o.n_targets];
			o.n_targets++;
			break;
		case 'y':
			o.ready = optarg;
			break;
		case 'b':
			if (tool_parse_u64("rswap_pagetest", "--slabs", optarg, 64, &v) || !v)
				return 2;
			o.slabs = (uint32_t)v;
			break;
		case 'T':
			if (tool_parse_u64("rswap_pagetest", "--timeout", optarg, 3600, &v) || !v)
				return 2;
			o.timeout_s = (uint32_t)v;
			break;
		case 'C':
			if (tool_parse_u64("rswap_pagetest", "--max-copies", optarg, 256, &v) || !v)
				return 2;
			o.max_copies = (uint32_t)v;
			break;
		case 'k':
			o.key_file = optarg;
			break;
		case 'f':
			o.state = optarg;
			break;
		case 'n':
			if (tool_parse_u64("rswap_pagetest", "--pages", optarg, 1u << 24, &v) || !v)
				return 2;
			o.pages = (uint32_t)v;
			break;
		case 'z':
			if (tool_parse_u64("rswap_pagetest", "--zero-pct", optarg, 100, &v))
				return 2;
			o.zero_pct = (uint32_t)v;
			break;
		case 'r':
			if (tool_parse_u64("rswap_pagetest", "--seed", optarg, UINT64_MAX, &v))
				return 2;
			o.seed = v;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!o.host || !o.key_file || (!o.state && strcmp(o.cmd, "badkey") &&
				       strcmp(o.cmd, "garbage") && strcmp(o.cmd, "attach") &&
				       strcmp(o.cmd, "migrate") && strcmp(o.cmd, "evacuee") &&
				       strcmp(o.cmd, "decoy") && strcmp(o.cmd, "copyqp") &&
				       strcmp(o.cmd, "residue") &&
				       !session_cmd(o.cmd)) ||
	    ((!strcmp(o.cmd, "migrate") || !strcmp(o.cmd, "evacuee") ||
	      !strcmp(o.cmd, "decoy")) && !o.n_targets) ||
	    (!strcmp(o.cmd, "evacuee") && !o.ready) || !o.pages || o.zero_pct > 100) {
		usage(stderr);
		return 2;
	}
	if (auth_key_load(&key, o.key_file, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	if (!strcmp(o.cmd, "store"))
		return cmd_store(&o, &key);
	if (!strcmp(o.cmd, "verify"))
		return cmd_verify(&o, &key);
	if (!strcmp(o.cmd, "steal"))
		return cmd_steal(&o, &key);
	if (!strcmp(o.cmd, "badkey"))
		return cmd_badkey(&o, &key);
	if (!strcmp(o.cmd, "impersonate"))
		return cmd_impersonate(&o, &key);
	if (!strcmp(o.cmd, "garbage"))
		return cmd_garbage(&o, &key);
	if (!strcmp(o.cmd, "attach"))
		return cmd_attach(&o, &key);
	if (!strcmp(o.cmd, "fresh"))
		return cmd_fresh(&o, &key);
	if (!strcmp(o.cmd, "residue"))
		return cmd_residue(&o, &key);
	if (session_cmd(o.cmd)) {
		struct pt_session_opts so = { .host = o.host, .port = o.port, .seed = o.seed,
					      .pages = o.pages, .timeout_s = o.timeout_s };

		return session_cmd(o.cmd)(&so, &key);
	}
	mo = (struct pt_migrate_opts){ .source = { o.host, o.port }, .targets = o.targets,
				       .n_targets = o.n_targets, .seed = o.seed,
				       .slabs = o.slabs, .timeout_s = o.timeout_s,
				       .ready = o.ready, .max_copies = o.max_copies };
	if (!strcmp(o.cmd, "migrate"))
		return pagetest_migrate(&mo, &key);
	if (!strcmp(o.cmd, "evacuee"))
		return pagetest_evacuee(&mo, &key);
	if (!strcmp(o.cmd, "decoy"))
		return pagetest_decoy(&mo, &key);
	if (!strcmp(o.cmd, "copyqp"))
		return pagetest_copyqp(&mo, &key);
	usage(stderr);
	return 2;
}
