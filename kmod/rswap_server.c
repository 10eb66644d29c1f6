// SPDX-License-Identifier: GPL-2.0
/*
 * rswap_server: the control protocol with one memory server, and the
 * server's life, above the transport (rswap_transport.c: queue pairs,
 * control message transport, teardown, recovery).
 *
 * Life of a server (states: rswap_lifecycle.h): connect_work connects the
 * transport, authenticates (HELLO/CHALLENGE/AUTH/WELCOME; HELLO says FRESH
 * on the first connection since the load, and the server then frees what
 * an earlier boot of this client id left), attaches the other queue pairs
 * and reattaches the slabs the server kept for us (REATTACH). Then READY:
 * GRANT_REQ and RETURN for the slab table (rswap_slabs.c), MIGRATE_MAP and
 * MIGRATE for moves (rswap_migrate.c), KEEPALIVE every few seconds so a
 * hung server or a dead link is noticed with no I/O in flight. Any error
 * fails the connection (rswap_server_fail); reconnects back off
 * exponentially, never past the loss deadline. A server down for longer
 * than loss_timeout is LOST: reads of pages only it held fail with EIO;
 * if it comes back with them they are reattached.
 *
 * Everything here sleeps, so it runs in work items on the device's
 * WQ_MEM_RECLAIM workqueues with GFP_NOIO implied: it makes progress while
 * the system is swapping to this very device.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <crypto/algapi.h>
#include <linux/ctype.h>
#include <linux/random.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/utsname.h>
#include <net/ipv6.h>

#include "rswap.h"
#include "rswap_trace.h"
#include "rswap_transport.h"

#define RSWAP_BACKOFF_MIN_MS	500
#define RSWAP_BACKOFF_MAX_MS	30000

/* READY: its queue pairs may be posted to. */
bool rswap_server_usable(struct rswap_server *srv)
{
	/*
	 * Acquire, paired with rswap_server_set_state's release: a reader
	 * without dev->lock (the read path) that sees READY sees the queue
	 * pairs set up before it.
	 */
	return smp_load_acquire(&srv->state) == RSWAP_SRV_READY;
}

/*
 * The one place a server's state changes (rswap_lifecycle.h). Under
 * ctrl_mutex, so the work items that decide on a state (connect, error
 * recovery, removal) see one another's decisions; written under dev->lock
 * too, so queue_rq sees the state and the slab table agree. A transition
 * the diagram does not have is refused with a warning.
 */
bool rswap_server_set_state(struct rswap_server *srv, enum rswap_server_state st)
{
	enum rswap_server_state old = srv->state;

	lockdep_assert_held(&srv->ctrl_mutex);
	if (!rswap_server_may(old, st)) {
		WARN_ONCE(1, "rswap: %s: %s -> %s refused\n", srv->name,
			  rswap_server_state_name(old), rswap_server_state_name(st));
		return false;
	}
	write_seqlock(&srv->dev->lock);
	smp_store_release(&srv->state, st);	/* rswap_server_usable */
	write_sequnlock(&srv->dev->lock);
	trace_rswap_server_state(srv->dev->name, srv->name, rswap_server_state_name(old),
				 rswap_server_state_name(st));
	return true;
}

/* What the server last said it could still grant us, and when. */
static void set_free_hint(struct rswap_server *srv, u32 slabs)
{
	srv->free_hint = slabs;
	srv->hint_at = jiffies;
}


/* HELLO .. WELCOME. Returns 0, a transport error, or -EACCES (key). */
static int srv_authenticate(struct rswap_server *srv, u8 *reply)
{
	struct rswap_dev *dev = srv->dev;
	u8 server_nonce[RSWAP_NONCE_LEN], nonce[RSWAP_NONCE_LEN], mac[RSWAP_MAC_LEN];
	struct rswap_auth_binding bind;
	struct rswap_hello hello = {};
	struct rswap_auth auth = {};
	const struct rswap_challenge *ch = (const void *)reply;
	const struct rswap_welcome *w = (const void *)reply;
	u32 flags = RSWAP_HELLO_KEEPALIVE;
	u64 slab_size;
	int ret;

	lockdep_assert_held(&srv->ctrl_mutex);
	/*
	 * The first connection since the load holds nothing there: the
	 * server frees whatever an earlier boot of this client id left.
	 */
	if (!srv->connected_once)
		flags |= RSWAP_HELLO_FRESH;
	rswap_hdr_init(&hello.hdr, RSWAP_MSG_HELLO, ++srv->seq);
	memcpy(hello.id, dev->client_id, RSWAP_ID_LEN);
	hello.page_size = cpu_to_le32(RSWAP_PAGE_SIZE);
	hello.flags = cpu_to_le32(flags);
	strscpy(hello.name, utsname()->nodename, sizeof(hello.name));
	ret = rswap_ctrl_call(srv, &hello, RSWAP_MSG_CHALLENGE, reply);
	if (ret < 0)
		goto refused;

	/* A new identity has none of our slabs: the sweep after REATTACH says so. */
	if (srv->have_server_id && memcmp(srv->server_id, ch->id, RSWAP_ID_LEN))
		pr_warn("%s: a different server answers now (new identity): its slabs are lost\n",
			srv->name);
	memcpy(srv->server_id, ch->id, RSWAP_ID_LEN);
	srv->have_server_id = true;
	memcpy(server_nonce, ch->nonce, RSWAP_NONCE_LEN);
	get_random_bytes(nonce, sizeof(nonce));

	/* The proof names this server (its id) and both endpoints. */
	ret = rswap_auth_binding(srv->qps[0].cm_id, &bind);
	if (ret) {
		pr_err("%s: not an IP address: cannot bind the handshake to it\n", srv->name);
		return ret;
	}
	rswap_hdr_init(&auth.hdr, RSWAP_MSG_AUTH, ++srv->seq);
	memcpy(auth.nonce, nonce, RSWAP_NONCE_LEN);
	ret = rswap_auth_mac(dev->hmac, RSWAP_AUTH_CLIENT_LABEL, server_nonce, nonce, dev->client_id,
			     srv->server_id, &bind, auth.mac);
	if (ret)
		return ret;
	ret = rswap_ctrl_call(srv, &auth, RSWAP_MSG_WELCOME, reply);
	if (ret < 0)
		goto refused;
	ret = rswap_auth_mac(dev->hmac, RSWAP_AUTH_SERVER_LABEL, nonce, server_nonce, dev->client_id,
			     srv->server_id, &bind, mac);
	if (ret)
		return ret;
	if (crypto_memneq(mac, w->mac, RSWAP_MAC_LEN)) {
		pr_err("%s: the server could not prove it has the key: not using it\n", srv->name);
		return -EACCES;
	}
	srv->connected_once = true;
	slab_size = le64_to_cpu(w->slab_size);
	srv->quota = le32_to_cpu(w->quota);
	set_free_hint(srv, le32_to_cpu(w->free));
	ret = rswap_slabs_setup(dev, slab_size);
	if (ret) {
		if (ret == -EINVAL)
			pr_err("%s: slab size %llu differs from the pool's %llu: not using it\n",
			       srv->name, slab_size, dev->slab_size);
		return ret;
	}
	srv->slab_size = slab_size;
	return 0;
refused:
	if (ret == RSWAP_REFUSED(RSWAP_ERR_AUTH)) {
		pr_err("%s: refused our key: key_file= must hold this client's own key (rswapctl client-key --client-id %s)\n",
		       srv->name, dev->client_id_text);
		return -EACCES;
	}
	if (ret <= RSWAP_REFUSED(0)) {
		pr_err("%s: refused us: %s\n", srv->name, rswap_refusal_text(reply));
		return -ECONNREFUSED;
	}
	return ret;
}

/* RETURN @remote; the caller holds ctrl_mutex. 0 when the slab is given back. */
static int srv_return_locked(struct rswap_server *srv, u32 remote)
{
	struct rswap_slab_msg req = {};
	u8 reply[RSWAP_MSG_MAX];
	int ret;

	lockdep_assert_held(&srv->ctrl_mutex);
	rswap_hdr_init(&req.hdr, RSWAP_MSG_RETURN, ++srv->seq);
	req.slab = cpu_to_le32(remote);
	ret = rswap_ctrl_call(srv, &req, RSWAP_MSG_RETURNED, reply);
	trace_rswap_slab_return(srv->dev->name, srv->name, remote, min(ret, 0));
	if (ret == RSWAP_REFUSED(RSWAP_ERR_NO_SLAB))
		return 0;	/* not ours any more: nothing to give back */
	if (ret <= RSWAP_REFUSED(0)) {
		pr_warn("%s: RETURN of slab %u refused: %s\n", srv->name, remote,
			rswap_refusal_text(reply));
		return -EIO;
	}
	if (ret < 0)
		return ret;
	atomic64_inc(&srv->returns);
	return 0;
}

/*
 * REATTACH: take back the slabs the server kept for us, with their new
 * rkeys. Each one it lists is marked with this connection's epoch; a slab
 * it lists that we do not know enters the table RETURNING and is given
 * back by return_work, however many there are. Then whatever of ours it
 * did not list is swept (rswap_slabs_sweep_unlisted).
 */
static int srv_reattach(struct rswap_server *srv, u8 *reply)
{
	struct rswap_dev *dev = srv->dev;
	u32 count = 0, unknown = 0, untracked = 0;
	struct rswap_request req = {};
	int type;

	lockdep_assert_held(&srv->ctrl_mutex);
	rswap_hdr_init(&req.hdr, RSWAP_MSG_REATTACH, ++srv->seq);
	type = rswap_ctrl_call(srv, &req, 0, reply);
	for (;;) {
		const struct rswap_grant *g = (const void *)reply;
		u32 remote, rkey;
		u64 addr;

		if (type == RSWAP_MSG_REATTACHED)
			break;
		if (type != RSWAP_MSG_GRANT) {
			if (type >= 0)
				rswap_server_fail(srv);
			return type < 0 ? type : -EPROTO;
		}
		/* A server lists at most what our table can name: no endless stream. */
		if (count + unknown + untracked > dev->slots.max_slabs) {
			pr_warn("%s: lists more slabs than we can hold (%u); reconnecting\n",
				srv->name, dev->slots.max_slabs);
			rswap_server_fail(srv);
			return -EPROTO;
		}
		remote = le32_to_cpu(g->slab);
		rkey = le32_to_cpu(g->rkey);
		addr = le64_to_cpu(g->addr);
		if (!rswap_slab_reattach(dev, srv, remote, rkey, addr))
			count++;
		else if (rswap_slab_add(dev, srv, remote, rkey, addr, RSWAP_SLAB_RETURNING,
						RSWAP_NO_SLAB, 0) >= 0)
			unknown++;
		else
			untracked++;
		type = rswap_ctrl_reply(srv, srv->seq, reply, RSWAP_CTRL_TIMEOUT);
	}
	rswap_slabs_sweep_unlisted(dev, srv);
	if (count)
		pr_info("%s: reattached %u slabs\n", srv->name, count);
	if (unknown)
		pr_info("%s: %u slabs kept for us that we do not know: giving them back\n",
			srv->name, unknown);
	if (untracked)
		pr_warn("%s: %u slabs kept for us stay there: our slab table is full\n",
			srv->name, untracked);
	atomic64_add(count, &srv->reattached);
	return 0;
}

/* Give up on the pages of a server unreachable for loss_timeout. Under ctrl_mutex. */
static void srv_declare_lost(struct rswap_server *srv)
{
	struct rswap_dev *dev = srv->dev;

	lockdep_assert_held(&srv->ctrl_mutex);
	pr_err("%s: unreachable for %us: pages only it held are lost (they come back if it does)\n",
	       srv->name, rswap_dev_loss_timeout(srv->dev));
	rswap_server_set_state(srv, RSWAP_SRV_LOST);
	rswap_slabs_lose(dev, srv);
	blk_mq_kick_requeue_list(dev->disk->queue);
	/* The sets that had a copy there get a new one elsewhere. */
	rswap_copies_kick(dev);
}

static void connect_work(struct work_struct *work)
{
	struct rswap_server *srv = container_of(to_delayed_work(work), struct rswap_server,
						connect_work);
	struct rswap_dev *dev = srv->dev;
	unsigned int noio = memalloc_noio_save();
	u8 buf[RSWAP_MSG_MAX];
	unsigned long deadline;
	int ret;

	mutex_lock(&srv->ctrl_mutex);
	if (srv->state == RSWAP_SRV_REMOVED || srv->state == RSWAP_SRV_READY)
		goto out_unlock;
	/* Read without ctrl_mutex by a doorbell batch's post (rswap_dev.c). */
	WRITE_ONCE(srv->epoch, srv->epoch + 1);
	ret = rswap_conn_connect(srv);
	if (!ret) {
		ret = srv_authenticate(srv, buf);
		if (!ret) {
			const struct rswap_welcome *w = (const void *)buf;

			memcpy(srv->token, w->token, RSWAP_TOKEN_LEN);
			rswap_conn_attach_qps(srv, w->token, le32_to_cpu(w->max_attach));
			memzero_explicit(buf, sizeof(buf));
			ret = srv_reattach(srv, buf);
		}
		if (ret)
			rswap_conn_teardown(srv);
	}
	if (!ret && !READ_ONCE(srv->ctrl_broken) && rswap_server_set_state(srv, RSWAP_SRV_READY)) {
		/* Only now do the slabs it listed take pages and serve reads. */
		rswap_slabs_activate(dev, srv);
		srv->backoff_ms = 0;
		trace_rswap_connect(dev->name, srv->name, srv->epoch, 0, 0);
		atomic64_inc(&srv->connects);
		pr_info("%s: connected (quota %u slabs, %u queue pairs)\n", srv->name, srv->quota,
			srv->nr_qps);
		queue_delayed_work(dev->wq, &srv->keepalive_work,
				   msecs_to_jiffies(RSWAP_KEEPALIVE_INTERVAL_MS));
		mutex_unlock(&srv->ctrl_mutex);
		memalloc_noio_restore(noio);
		/* Parked requests may go now; new slabs may come from here. */
		blk_mq_kick_requeue_list(dev->disk->queue);
		if (!READ_ONCE(dev->dying)) {
			queue_work(dev->refill_wq, &dev->refill_work);
			queue_work(dev->wq, &dev->return_work);
			queue_work(dev->wq, &dev->migrate_work);
			/* Sets made short, or that lost copies it did not list. */
			rswap_copies_kick(dev);
		}
		return;
	}
	if (!ret)
		rswap_conn_teardown(srv);
	/* A lost server's slabs it listed this time wait no more: lost again. */
	if (srv->state == RSWAP_SRV_LOST)
		rswap_slabs_lose(dev, srv);
	/* Not this time: back off, and give up on its pages after loss_timeout. */
	deadline = srv->down_since + (unsigned long)rswap_dev_loss_timeout(dev) * HZ;
	if (srv->state == RSWAP_SRV_DOWN && time_after_eq(jiffies, deadline))
		srv_declare_lost(srv);
	srv->backoff_ms = clamp(srv->backoff_ms * 2, RSWAP_BACKOFF_MIN_MS, RSWAP_BACKOFF_MAX_MS);
	/* A server back before its deadline is always tried before it. */
	if (srv->state == RSWAP_SRV_DOWN)
		srv->backoff_ms = min_t(unsigned long, srv->backoff_ms,
					max_t(long, jiffies_to_msecs(deadline - jiffies), 100));
	trace_rswap_connect(dev->name, srv->name, srv->epoch, ret ?: -ECONNRESET, srv->backoff_ms);
	if (!READ_ONCE(dev->dying))
		queue_delayed_work(dev->wq, &srv->connect_work, msecs_to_jiffies(srv->backoff_ms));
out_unlock:
	mutex_unlock(&srv->ctrl_mutex);
	memalloc_noio_restore(noio);
}

/*
 * KEEPALIVE every RSWAP_KEEPALIVE_INTERVAL_MS while READY. A server that
 * does not answer in RSWAP_KEEPALIVE_TIMEOUT is treated as dead (rswap_ctrl_reply
 * fails the connection): a hung server or a dead link is noticed even
 * when no I/O is in flight, instead of at the next grant.
 */
#define RSWAP_KEEPALIVE_TIMEOUT	(2 * msecs_to_jiffies(RSWAP_KEEPALIVE_INTERVAL_MS))

static void keepalive_work(struct work_struct *work)
{
	struct rswap_server *srv = container_of(to_delayed_work(work), struct rswap_server,
						keepalive_work);
	unsigned int noio = memalloc_noio_save();
	struct rswap_request req = {};
	u8 reply[RSWAP_MSG_MAX];
	int ret;

	mutex_lock(&srv->ctrl_mutex);
	if (srv->state != RSWAP_SRV_READY)
		goto out;
	rswap_hdr_init(&req.hdr, RSWAP_MSG_KEEPALIVE, ++srv->seq);
	ret = rswap_ctrl_call_wait(srv, &req, RSWAP_MSG_KEEPALIVE_ACK, reply, RSWAP_KEEPALIVE_TIMEOUT);
	if (ret == -ETIMEDOUT)
		atomic64_inc(&srv->keepalive_timeouts);
	if (ret <= RSWAP_REFUSED(0))
		pr_info("%s: does not take KEEPALIVE (an older server?): a hung one is noticed at the next request\n",
			srv->name);
	if (ret >= 0 && srv->state == RSWAP_SRV_READY)
		queue_delayed_work(srv->dev->wq, &srv->keepalive_work,
				   msecs_to_jiffies(RSWAP_KEEPALIVE_INTERVAL_MS));
out:
	mutex_unlock(&srv->ctrl_mutex);
	if (!READ_ONCE(srv->dev->dying))
		rswap_copies_retry_due(srv->dev);
	memalloc_noio_restore(noio);
}

/* ---- requests for the slab table (rswap_slabs.c) ---- */

/* GRANT_REQ; the caller holds ctrl_mutex. The slab is not in the table yet. */
static int srv_grant_locked(struct rswap_server *srv, u32 *remote, u32 *rkey, u64 *addr)
{
	struct rswap_request req = {};
	const struct rswap_grant *g;
	u8 reply[RSWAP_MSG_MAX];
	int ret;

	lockdep_assert_held(&srv->ctrl_mutex);
	if (!rswap_server_usable(srv))
		return -ENOTCONN;
	rswap_hdr_init(&req.hdr, RSWAP_MSG_GRANT_REQ, ++srv->seq);
	ret = rswap_ctrl_call(srv, &req, RSWAP_MSG_GRANT, reply);
	if (ret <= RSWAP_REFUSED(0)) {
		atomic64_inc(&srv->refusals);
		set_free_hint(srv, 0);
		pr_info_ratelimited("%s: no grant: %s\n", srv->name, rswap_refusal_text(reply));
		return -ENOSPC;
	}
	if (ret < 0)
		return ret;
	g = (const void *)reply;
	if (le64_to_cpu(g->size) != srv->slab_size) {
		pr_warn("%s: granted a slab of %llu bytes, not %llu; reconnecting\n", srv->name,
			le64_to_cpu(g->size), srv->slab_size);
		rswap_server_fail(srv);
		return -EPROTO;
	}
	set_free_hint(srv, le32_to_cpu(g->free));
	*remote = le32_to_cpu(g->slab);
	*rkey = le32_to_cpu(g->rkey);
	*addr = le64_to_cpu(g->addr);
	atomic64_inc(&srv->grants);
	return 0;
}

/*
 * A new slab from @srv into the table in state @st, under ctrl_mutex: an
 * EVACUATE for it that arrives meanwhile waits for the mutex
 * (rswap_server_return_unknown) and then finds it in the table. Returns
 * the entry, -ENOSPC (refused, or no room in our table: then it goes back
 * at once), or a transport error.
 */
static int srv_grant_into(struct rswap_server *srv, enum rswap_slab_state st, u32 *remote,
			  u32 set, u32 copy)
{
	ktime_t asked = ktime_get();
	u32 rkey;
	u64 addr;
	int ret;

	mutex_lock(&srv->ctrl_mutex);
	ret = srv_grant_locked(srv, remote, &rkey, &addr);
	trace_rswap_slab_grant(srv->dev->name, srv->name, rswap_slab_state_name(st), set, copy,
			       ret ? 0 : *remote, ret, ktime_to_ns(ktime_sub(ktime_get(), asked)));
	if (!ret) {
		ret = rswap_slab_add(srv->dev, srv, *remote, rkey, addr, st, set, copy);
		if (ret == -EEXIST) {
			rswap_server_fail(srv);
			ret = -EPROTO;
		/* No room in our table (cannot happen while the reserve logic is right). */
		} else if (ret < 0 && srv_return_locked(srv, *remote)) {
			pr_warn("%s: slab %u stays there: our table is full\n", srv->name, *remote);
		}
	}
	mutex_unlock(&srv->ctrl_mutex);
	return ret;
}

/*
 * A new slab for the table, starting a set (@set RSWAP_NO_SLAB) or as copy
 * @copy of @set: its entry, -ENOSPC (refused), or a transport error.
 */
int rswap_server_grant(struct rswap_server *srv, u32 set, u32 copy)
{
	u32 remote;

	return srv_grant_into(srv, RSWAP_SLAB_ACTIVE, &remote, set, copy);
}

/*
 * Up to @want (2..RSWAP_GRANTS_MAX) new slabs from @srv at once, each
 * starting a set (ACTIVE): their table entries in @sets. Returns how many
 * (at least 1), -ENOSPC (refused), or a transport error. A slab our table
 * has no room for goes back at once. Under ctrl_mutex, as srv_grant_into.
 */
int rswap_server_grant_many(struct rswap_server *srv, u32 want, u32 *sets)
{
	struct rswap_grant_many req = {};
	const struct rswap_grants *g;
	ktime_t asked = ktime_get();
	u8 reply[RSWAP_MSG_MAX];
	u32 i, n, got = 0;
	int ret, err = -ENOSPC;

	mutex_lock(&srv->ctrl_mutex);
	ret = -ENOTCONN;
	if (!rswap_server_usable(srv))
		goto out;
	rswap_hdr_init(&req.hdr, RSWAP_MSG_GRANT_MANY, ++srv->seq);
	req.count = cpu_to_le32(want);
	ret = rswap_ctrl_call(srv, &req, RSWAP_MSG_GRANTS, reply);
	if (ret <= RSWAP_REFUSED(0)) {
		atomic64_inc(&srv->refusals);
		set_free_hint(srv, 0);
		pr_info_ratelimited("%s: no grant: %s\n", srv->name, rswap_refusal_text(reply));
		ret = -ENOSPC;
	}
	if (ret < 0) {
		trace_rswap_slab_grant(srv->dev->name, srv->name,
				       rswap_slab_state_name(RSWAP_SLAB_ACTIVE), RSWAP_NO_SLAB, 0, 0,
				       ret, ktime_to_ns(ktime_sub(ktime_get(), asked)));
		goto out;
	}
	g = (const void *)reply;
	n = le16_to_cpu(g->count);
	/* rswap_msg_check: 1..RSWAP_GRANTS_MAX; more than asked is a lie. */
	if (le64_to_cpu(g->size) != srv->slab_size || n > want) {
		pr_warn("%s: granted %u slabs of %llu bytes for %u of %llu; reconnecting\n",
			srv->name, n, le64_to_cpu(g->size), want, srv->slab_size);
		rswap_server_fail(srv);
		ret = -EPROTO;
		goto out;
	}
	set_free_hint(srv, le32_to_cpu(g->free));
	for (i = 0; i < n; i++) {
		u32 remote = le32_to_cpu(g->slab[i].slab);
		int idx;

		atomic64_inc(&srv->grants);
		idx = rswap_slab_add(srv->dev, srv, remote, le32_to_cpu(g->slab[i].rkey),
				     le64_to_cpu(g->slab[i].addr), RSWAP_SLAB_ACTIVE, RSWAP_NO_SLAB, 0);
		trace_rswap_slab_grant(srv->dev->name, srv->name,
				       rswap_slab_state_name(RSWAP_SLAB_ACTIVE), RSWAP_NO_SLAB, 0,
				       remote, idx < 0 ? idx : 0,
				       ktime_to_ns(ktime_sub(ktime_get(), asked)));
		if (idx >= 0) {
			sets[got++] = idx;
			continue;
		}
		if (idx == -EEXIST) {
			/* What we took so far is ours; the rest waits for the reconnect. */
			rswap_server_fail(srv);
			err = -EPROTO;
			break;
		}
		/* No room in our table (cannot happen while the reserve logic is right). */
		if (srv_return_locked(srv, remote))
			pr_warn("%s: slab %u stays there: our table is full\n", srv->name, remote);
	}
	ret = got ? got : err;
out:
	mutex_unlock(&srv->ctrl_mutex);
	return ret;
}

/*
 * A slab for a new copy of @set at position @copy, to be filled server to
 * server: its table entry (COPYING; RETURNING if the set no longer wants
 * it), or an error.
 */
int rswap_server_grant_copy(struct rswap_server *srv, u32 set, u32 copy, u32 *remote)
{
	return srv_grant_into(srv, RSWAP_SLAB_COPYING, remote, set, copy);
}

/* A slab to move one of ours into: its table entry (FILLING), or an error. */
int rswap_server_grant_slab(struct rswap_server *srv, u32 *remote)
{
	return srv_grant_into(srv, RSWAP_SLAB_FILLING, remote, RSWAP_NO_SLAB, 0);
}

int rswap_server_return(struct rswap_server *srv, u32 remote)
{
	int ret;

	mutex_lock(&srv->ctrl_mutex);
	ret = rswap_server_usable(srv) ? srv_return_locked(srv, remote) : -ENOTCONN;
	mutex_unlock(&srv->ctrl_mutex);
	return ret;
}

/*
 * @srv asks us to move its slab @remote: our table entry for it, or, if
 * there is none, RETURN it (nothing of ours is in it) and -ENOENT. Under
 * ctrl_mutex, so a GRANT of that very slab still being answered is in the
 * table before we look.
 */
int rswap_server_return_unknown(struct rswap_server *srv, u32 remote)
{
	int idx, ret;

	mutex_lock(&srv->ctrl_mutex);
	idx = rswap_slab_find(srv->dev, srv, remote);
	if (idx >= 0) {
		mutex_unlock(&srv->ctrl_mutex);
		return idx;
	}
	ret = rswap_server_usable(srv) ? srv_return_locked(srv, remote) : -ENOTCONN;
	mutex_unlock(&srv->ctrl_mutex);
	return ret ? ret : -ENOENT;
}

/* NOT_MOVED: we cannot move @remote now (@code: enum rswap_err). */
void rswap_server_not_moved(struct rswap_server *srv, u32 remote, u32 code)
{
	struct rswap_evacuate req = {};
	u8 reply[RSWAP_MSG_MAX];

	mutex_lock(&srv->ctrl_mutex);
	if (rswap_server_usable(srv)) {
		rswap_hdr_init(&req.hdr, RSWAP_MSG_NOT_MOVED, ++srv->seq);
		req.slab = cpu_to_le32(remote);
		req.code = cpu_to_le32(code);
		rswap_ctrl_call(srv, &req, RSWAP_MSG_NOT_MOVED, reply);
	}
	mutex_unlock(&srv->ctrl_mutex);
}

/* The target as the wire names it: false for an address family it cannot carry. */
static bool migrate_target(const struct rswap_server *target, struct rswap_migrate *m)
{
	const struct sockaddr_in *in4 = (const void *)&target->addr;
	const struct sockaddr_in6 *in6 = (const void *)&target->addr;

	switch (target->addr.ss_family) {
	case AF_INET:
		m->family = cpu_to_le16(RSWAP_ADDR_IPV4);
		m->port = cpu_to_le16(ntohs(in4->sin_port));
		memcpy(m->ip, &in4->sin_addr, 4);
		return true;
	case AF_INET6:
		m->family = cpu_to_le16(RSWAP_ADDR_IPV6);
		m->port = cpu_to_le16(ntohs(in6->sin6_port));
		memcpy(m->ip, &in6->sin6_addr, 16);
		return true;
	}
	return false;
}

/* Is the MIGRATE of @t answered, or is waiting pointless? */
static bool migrate_over(struct rswap_server *src, const struct rswap_migrate_ticket *t)
{
	return READ_ONCE(src->migrates[t->slot].answered) || READ_ONCE(src->ctrl_broken) ||
	       READ_ONCE(src->epoch) != t->epoch || !rswap_server_usable(src) ||
	       READ_ONCE(src->dev->dying);
}

/* A free answer slot on @src for MIGRATE @seq, into @t: 0, or -EBUSY. */
static int migrate_slot_take(struct rswap_server *src, u32 seq, struct rswap_migrate_ticket *t)
{
	unsigned int i;
	int ret = -EBUSY;

	spin_lock_bh(&src->reply_lock);
	for (i = 0; i < RSWAP_MOVES_IN_FLIGHT; i++) {
		if (src->migrates[i].seq)
			continue;
		src->migrates[i].seq = seq;
		src->migrates[i].answered = false;
		t->slot = i;
		ret = 0;
		break;
	}
	spin_unlock_bh(&src->reply_lock);
	return ret;
}

static void migrate_slot_put(struct rswap_server *src, const struct rswap_migrate_ticket *t)
{
	spin_lock_bh(&src->reply_lock);
	src->migrates[t->slot].seq = 0;
	src->migrates[t->slot].answered = false;
	spin_unlock_bh(&src->reply_lock);
}

/*
 * Ask @src to copy the used slots of its slab @remote (our table entry
 * @idx, frozen or in a set taking no pages) into the slab of FILLING (a
 * move) or COPYING (a new copy) entry @tidx on @target, server to
 * server: the map of used slots, then MIGRATE, whose answer comes when the
 * copy is in place (rswap_server_migrate_wait with @t). The maps and the
 * MIGRATE go out under ctrl_mutex, so up to RSWAP_MOVES_IN_FLIGHT copies
 * can run on @src at once, each with its own map. 0, or a negative error
 * (nothing to wait for).
 */
int rswap_server_migrate_start(struct rswap_server *src, u32 remote, u32 idx,
			       struct rswap_server *target, u32 tidx, u32 tremote,
			       struct rswap_migrate_ticket *t)
{
	struct rswap_dev *dev = src->dev;
	struct rswap_migrate_map map = {};
	struct rswap_migrate req = {};
	u8 reply[RSWAP_MSG_MAX];
	u32 first;
	int ret = 0;

	if (!migrate_target(target, &req))
		return -EAFNOSUPPORT;
	mutex_lock(&src->ctrl_mutex);
	if (!rswap_server_usable(src)) {
		ret = -ENOTCONN;
		goto out_unlock;
	}
	for (first = 0; first < dev->pages_per_slab && !ret; first += RSWAP_MAP_BITS) {
		rswap_hdr_init(&map.hdr, RSWAP_MSG_MIGRATE_MAP, ++src->seq);
		map.slab = cpu_to_le32(remote);
		map.first = cpu_to_le32(first);
		rswap_slab_used_map(dev, idx, first, map.bits, sizeof(map.bits));
		ret = rswap_ctrl_call(src, &map, RSWAP_MSG_MIGRATE_MAP, reply);
		if (ret > 0)
			ret = 0;
	}
	if (ret) {
		if (ret <= RSWAP_REFUSED(0)) {
			pr_warn("%s: moving slab %u to %s refused: %s\n", src->name, remote,
				target->name, rswap_refusal_text(reply));
			ret = -EREMOTEIO;
		}
		goto out_unlock;
	}
	rswap_hdr_init(&req.hdr, RSWAP_MSG_MIGRATE, ++src->seq);
	req.slab = cpu_to_le32(remote);
	/*
	 * Where the target slab is now (a reconnect of the target updates
	 * it), if entry @tidx is still it: an entry freed meanwhile may name
	 * a live slab now, and the copy would write over its pages.
	 */
	write_seqlock(&dev->lock);
	if ((dev->slabs[tidx].state == RSWAP_SLAB_FILLING ||
	     dev->slabs[tidx].state == RSWAP_SLAB_COPYING) && dev->slabs[tidx].srv == target &&
	    dev->slabs[tidx].remote == tremote) {
		req.target_slab = cpu_to_le32(tremote);
		req.target_addr = cpu_to_le64(dev->slabs[tidx].addr);
		req.target_rkey = cpu_to_le32(dev->slabs[tidx].rkey);
	} else {
		ret = -ENOENT;
	}
	write_sequnlock(&dev->lock);
	if (ret)
		goto out_unlock;
	memcpy(req.token, target->token, RSWAP_TOKEN_LEN);
	/* The answer may come before the send returns: its slot first. */
	ret = migrate_slot_take(src, src->seq, t);
	if (ret)
		goto out_wipe;
	t->epoch = src->epoch;
	t->remote = remote;
	t->target = target;
	/* The copy runs at the servers' pace: allow 1 MiB/s, and a minute more. */
	t->deadline = jiffies + RSWAP_CTRL_TIMEOUT + 60 * HZ + (long)(dev->slab_size >> 20) * HZ;
	ret = rswap_ctrl_send(src, &req);
	if (ret)
		migrate_slot_put(src, t);
out_wipe:
	memzero_explicit(&req, sizeof(req));
out_unlock:
	mutex_unlock(&src->ctrl_mutex);
	return ret;
}

/*
 * The answer to the MIGRATE of @t: the pages copied, or a negative error.
 * No answer by its deadline fails the source's connection (the copy's
 * state there is unknown).
 */
int rswap_server_migrate_wait(struct rswap_server *src, struct rswap_migrate_ticket *t)
{
	const struct rswap_migrated *done;
	u8 reply[RSWAP_MSG_MAX];
	long left = (long)(t->deadline - jiffies);
	int ret;

	if (!wait_event_timeout(src->reply_wait, migrate_over(src, t), max(left, 1L))) {
		pr_warn("%s: no answer to moving slab %u; reconnecting\n", src->name, t->remote);
		rswap_server_fail(src);
	}
	spin_lock_bh(&src->reply_lock);
	ret = src->migrates[t->slot].answered ? 0 : -ECONNRESET;
	if (!ret)
		memcpy(reply, src->migrates[t->slot].reply, RSWAP_MSG_MAX);
	src->migrates[t->slot].seq = 0;
	src->migrates[t->slot].answered = false;
	spin_unlock_bh(&src->reply_lock);
	if (ret)
		return ret;
	switch (le16_to_cpu(((const struct rswap_hdr *)reply)->type)) {
	case RSWAP_MSG_MIGRATED:
		done = (const void *)reply;
		return le32_to_cpu(done->slab) == t->remote ? le32_to_cpu(done->pages) : -EPROTO;
	case RSWAP_MSG_ERROR:
		pr_warn("%s: moving slab %u to %s refused: %s\n", src->name, t->remote,
			t->target->name, rswap_refusal_text(reply));
		return -EREMOTEIO;
	default:
		pr_warn("%s: answer of another type to MIGRATE, reconnecting\n", src->name);
		rswap_server_fail(src);
		return -EPROTO;
	}
}

/* ---- adding and removing ---- */

/* "ADDRESS:PORT" or "[IPv6]:PORT" into @addr: 0 or -EINVAL. */
int rswap_parse_addr(const char *name, struct sockaddr_storage *addr)
{
	char host[64];
	const char *colon = strrchr(name, ':');
	size_t hlen;

	if (!colon || colon == name || !colon[1])
		return -EINVAL;
	hlen = colon - name;
	if (hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, name, hlen);
	host[hlen] = '\0';
	/* [v6]:port */
	if (host[0] == '[' && hlen > 2 && host[hlen - 1] == ']') {
		memmove(host, host + 1, hlen - 2);
		host[hlen - 2] = '\0';
	}
	return inet_pton_with_scope(&init_net, AF_UNSPEC, host, colon + 1, addr) ? -EINVAL : 0;
}

static bool same_address(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	const struct sockaddr_in *a4 = (const void *)a, *b4 = (const void *)b;
	const struct sockaddr_in6 *a6 = (const void *)a, *b6 = (const void *)b;

	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return a4->sin_port == b4->sin_port && a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return a6->sin6_port == b6->sin6_port &&
		       ipv6_addr_equal(&a6->sin6_addr, &b6->sin6_addr);
	return false;
}

/* A failure domain's name into @domain: 0, or -EINVAL with the reason logged. */
static int parse_domain(const char *spec, const char *text, char *domain)
{
	size_t i;

	if (domain[0] || !text[0] || strlen(text) > RSWAP_DOMAIN_MAX) {
		pr_err("server '%s': one domain name of 1 to %d characters\n", spec,
		       RSWAP_DOMAIN_MAX);
		return -EINVAL;
	}
	for (i = 0; text[i]; i++) {
		if (!isalnum(text[i]) && !strchr(".-_", text[i])) {
			pr_err("server '%s': a domain name is letters, digits, '.', '-' and '_'\n",
			       spec);
			return -EINVAL;
		}
	}
	strscpy(domain, text, RSWAP_DOMAIN_MAX + 1);
	return 0;
}

/*
 * "ADDRESS:PORT", "ADDRESS:PORT domain=NAME" or "ADDRESS:PORT@NAME" (the
 * form without a space, for servers= on a command line): the address into
 * @name (@name_len bytes) and @addr, the failure domain into @domain
 * (RSWAP_DOMAIN_MAX + 1 bytes; "" when none). 0, or -EINVAL with the
 * reason logged. A domain name is letters, digits, '.', '-' and '_'.
 */
int rswap_parse_server(const char *spec, char *name, size_t name_len, char *domain,
		       struct sockaddr_storage *addr)
{
	char buf[128], *p, *addr_part, *opt, *at;

	if (strscpy(buf, spec, sizeof(buf)) < 0)
		goto bad;
	p = strim(buf);
	addr_part = strsep(&p, " \t");
	domain[0] = '\0';
	at = strrchr(addr_part, '@');
	if (at) {
		*at = '\0';
		if (parse_domain(spec, at + 1, domain))
			return -EINVAL;
	}
	while (p && (opt = strsep(&p, " \t")) != NULL) {
		if (!*opt)
			continue;
		if (strncmp(opt, "domain=", 7)) {
			pr_err("server '%s': after the address, only domain=NAME\n", spec);
			return -EINVAL;
		}
		if (parse_domain(spec, opt + 7, domain))
			return -EINVAL;
	}
	if (strscpy(name, addr_part, name_len) < 0 || rswap_parse_addr(name, addr))
		goto bad;
	return 0;
bad:
	pr_err("server '%s': want ADDRESS:PORT (an IPv4 or [IPv6] address), then domain=NAME if it has one\n",
	       spec);
	return -EINVAL;
}

int rswap_server_add(struct rswap_dev *dev, const char *spec)
{
	struct rswap_server *srv;
	int ret, i, slot = -1;

	/* sysfs add_server and configfs servers alike: no key, no servers. */
	if (dev->ram) {
		pr_err("%s: backend=ram takes no servers\n", dev->name);
		return -EOPNOTSUPP;
	}
	srv = kzalloc(sizeof(*srv), GFP_KERNEL);
	if (!srv)
		return -ENOMEM;
	ret = rswap_parse_server(spec, srv->name, sizeof(srv->name), srv->domain, &srv->addr);
	if (ret) {
		kfree(srv);
		return ret;
	}
	srv->max_qps = dev->tag_set.nr_hw_queues;
	srv->qps = kcalloc(srv->max_qps, sizeof(*srv->qps), GFP_KERNEL);
	if (!srv->qps) {
		kfree(srv);
		return -ENOMEM;
	}
	srv->dev = dev;
	srv->state = RSWAP_SRV_DOWN;
	srv->down_since = jiffies;
	mutex_init(&srv->ctrl_mutex);
	rswap_conn_init(srv);
	INIT_DELAYED_WORK(&srv->connect_work, connect_work);
	INIT_DELAYED_WORK(&srv->keepalive_work, keepalive_work);

	mutex_lock(&dev->servers_mutex);
	for (i = 0; i < RSWAP_MAX_SERVERS; i++) {
		if (!dev->servers[i]) {
			if (slot < 0)
				slot = i;
		} else if (same_address(&dev->servers[i]->addr, &srv->addr)) {
			/*
			 * Two entries for one server would replace each other's
			 * connection, and one's FRESH would free the other's
			 * slabs: one address, one entry, however it is spelt.
			 */
			ret = -EEXIST;
		}
	}
	if (!ret && slot < 0)
		ret = -ENOSPC;
	if (ret) {
		mutex_unlock(&dev->servers_mutex);
		pr_err("server %s: %s\n", srv->name, ret == -EEXIST ? "added already" :
		       "too many servers");
		goto out_free;
	}
	srv->idx = slot;
	dev->servers[slot] = srv;
	write_seqlock(&dev->lock);
	dev->no_room = false;	/* it may have room */
	write_sequnlock(&dev->lock);
	pr_info("%s: added to %s%s%s\n", srv->name, dev->name, srv->domain[0] ? ", failure domain " : "",
		srv->domain);
	/* Before the mutex goes: a removal right after must find it queued. */
	queue_delayed_work(dev->wq, &srv->connect_work, 0);
	mutex_unlock(&dev->servers_mutex);
	return 0;

out_free:
	kfree(srv->qps);
	kfree(srv);
	return ret;
}

/*
 * Stop the server's work and free it; it is unlinked from the device
 * already. REMOVED first, under ctrl_mutex: from then on no work item
 * queues another (each checks the state under the mutex) and, after the
 * grace period, rswap_server_fail queues nothing either. Then the work is
 * cancelled, moves that use it end, the connection goes, and one more
 * grace period lets rswap_timeout, which looks at a request's servers
 * under rcu_read_lock, finish before the memory goes.
 */
void rswap_server_destroy(struct rswap_server *srv)
{
	rswap_server_stop(srv);
	rswap_server_free(srv);
}

/*
 * First half of destroy: REMOVED (if the removal has not set it already),
 * its work cancelled, its connection gone, nothing of the device's work
 * still using it.
 */
void rswap_server_stop(struct rswap_server *srv)
{
	struct rswap_dev *dev = srv->dev;

	mutex_lock(&srv->ctrl_mutex);
	if (srv->state != RSWAP_SRV_REMOVED)
		rswap_server_set_state(srv, RSWAP_SRV_REMOVED);
	mutex_unlock(&srv->ctrl_mutex);
	wake_up(&srv->reply_wait);	/* a MIGRATE wait on it ends */
	synchronize_rcu();
	cancel_delayed_work_sync(&srv->connect_work);
	cancel_delayed_work_sync(&srv->keepalive_work);
	cancel_work_sync(&srv->error_work);
	mutex_lock(&srv->ctrl_mutex);
	rswap_conn_teardown(srv);
	mutex_unlock(&srv->ctrl_mutex);
	cancel_work_sync(&srv->error_work);
	/* No EVACUATE can arrive now; a give-back may still hold it. */
	rswap_evacuate_forget(srv);
	flush_work(&dev->return_work);
}

/* Second half: no table entry names it, and no RCU reader sees it. */
void rswap_server_free(struct rswap_server *srv)
{
	rswap_slabs_forget_server(srv->dev, srv);
	synchronize_rcu();
	kfree(srv->qps);
	kfree(srv);
}

/*
 * The device's servers as servers= takes them, "ADDRESS:PORT[@DOMAIN]"
 * comma-separated, into @buf (@size bytes, NUL-terminated; what does not
 * fit is left out). Returns the length.
 */
int rswap_servers_text(struct rswap_dev *dev, char *buf, size_t size)
{
	size_t n = 0;
	int i;

	if (!size)
		return 0;
	buf[0] = '\0';
	mutex_lock(&dev->servers_mutex);
	for (i = 0; i < RSWAP_MAX_SERVERS; i++) {
		const struct rswap_server *srv = dev->servers[i];

		if (srv)
			n += scnprintf(buf + n, size - n, "%s%s%s%s", n ? "," : "", srv->name,
				       srv->domain[0] ? "@" : "", srv->domain);
	}
	mutex_unlock(&dev->servers_mutex);
	return n;
}

int rswap_server_remove(struct rswap_dev *dev, const char *name)
{
	struct rswap_server *srv = NULL;
	char want[64];
	bool busy;
	int i;

	strscpy(want, name, sizeof(want));
	strim(want);
	mutex_lock(&dev->servers_mutex);
	for (i = 0; i < RSWAP_MAX_SERVERS; i++)
		if (dev->servers[i] && !strcmp(dev->servers[i]->name, want))
			srv = dev->servers[i];
	if (!srv) {
		mutex_unlock(&dev->servers_mutex);
		return -ENOENT;
	}
	/*
	 * Pages it holds must not vanish; a lost server's are gone already.
	 * Under its ctrl_mutex, so no reconnect adds entries meanwhile, and
	 * REMOVED before the mutex goes, so none does afterwards.
	 */
	mutex_lock(&srv->ctrl_mutex);
	busy = atomic_read(&srv->slabs) && !rswap_slabs_release_server(dev, srv);
	if (!busy)
		rswap_server_set_state(srv, RSWAP_SRV_REMOVED);
	mutex_unlock(&srv->ctrl_mutex);
	if (busy) {
		mutex_unlock(&dev->servers_mutex);
		pr_err("%s: holds %d slabs of %s (pages, or slabs being given back); swapoff first (or drain it)\n",
		       srv->name, atomic_read(&srv->slabs), dev->name);
		return -EBUSY;
	}
	dev->servers[srv->idx] = NULL;
	mutex_unlock(&dev->servers_mutex);
	rswap_server_destroy(srv);
	pr_info("%s: removed from %s\n", want, dev->name);
	return 0;
}

/* Wake every waiter for a server's answer (the device is going away). */
void rswap_servers_wake(struct rswap_dev *dev)
{
	int i;

	mutex_lock(&dev->servers_mutex);
	for (i = 0; i < RSWAP_MAX_SERVERS; i++)
		if (dev->servers[i])
			wake_up(&dev->servers[i]->reply_wait);
	mutex_unlock(&dev->servers_mutex);
}

/*
 * At device removal: every server goes, whatever it holds. All are stopped
 * before any is freed, so no work of one (a give-back, a move) can reach
 * another already freed.
 */
void rswap_servers_destroy(struct rswap_dev *dev)
{
	struct rswap_server *gone[RSWAP_MAX_SERVERS];
	int i, n = 0;

	mutex_lock(&dev->servers_mutex);
	for (i = 0; i < RSWAP_MAX_SERVERS; i++) {
		if (dev->servers[i])
			gone[n++] = dev->servers[i];
		dev->servers[i] = NULL;
	}
	mutex_unlock(&dev->servers_mutex);
	for (i = 0; i < n; i++)
		rswap_server_stop(gone[i]);
	for (i = 0; i < n; i++)
		rswap_server_free(gone[i]);
}
