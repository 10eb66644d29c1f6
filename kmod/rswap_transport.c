// SPDX-License-Identifier: GPL-2.0
/*
 * rswap_transport: how the client reaches one memory server, below the
 * protocol (rswap_server.c). As rtrs is to rnbd: queue pairs, CQs and the
 * RDMA CM, control message transport, teardown and error recovery.
 *
 * A server has an RC queue pair per hardware queue of the device, each
 * with its own CQ, all in one PD. The first is the connection the server
 * authenticates; control messages (proto/rswap_wire.h) go over SEND/RECV
 * on it: one request at a time (ctrl_mutex), its answer matched by seq in
 * a ring of buffered replies, except a MIGRATE's answer, which has a slot
 * of its own so its long wait holds no mutex. The other queue pairs attach
 * to it with the token WELCOME gave. Send queues are sized from the
 * device's limits with send credits (rswap_sq.h).
 *
 * Recovery: any error (a CM disconnect, a failed completion, a bad or
 * missing answer, a request the block layer timed out, the RDMA device
 * going away) calls rswap_server_fail, which queues error work: the QPs
 * are flushed (in-flight I/O fails and is requeued by rswap_dev.c), the
 * server's slabs are detached, and a reconnect is scheduled (connect_work,
 * rswap_server.c). Teardown works from any point of a connect.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/sched/mm.h>
#include <net/net_namespace.h>

#include "rswap.h"
#include "rswap_transport.h"

/*
 * Something is wrong with the connection: tear it down from the workqueue.
 * Any context. A REMOVED server queues nothing: rswap_server_destroy sets
 * REMOVED, then synchronize_rcu(), then cancels the work, so a caller that
 * saw another state has queued before the cancel.
 */
void rswap_server_fail(struct rswap_server *srv)
{
	WRITE_ONCE(srv->ctrl_broken, true);
	wake_up(&srv->reply_wait);
	rcu_read_lock();
	if (READ_ONCE(srv->state) != RSWAP_SRV_REMOVED)
		queue_work(srv->dev->wq, &srv->error_work);
	rcu_read_unlock();
}

/* ---- control messages ---- */

static int post_recv(struct rswap_server *srv, struct rswap_ctrl_msg *m)
{
	struct ib_sge sge = {
		.addr = m->dma,
		.length = RSWAP_MSG_MAX,
		.lkey = srv->pd->local_dma_lkey,
	};
	struct ib_recv_wr wr = {
		.wr_cqe = &m->cqe,
		.sg_list = &sge,
		.num_sge = 1,
	};

	ib_dma_sync_single_for_device(srv->pd->device, m->dma, RSWAP_MSG_MAX, DMA_FROM_DEVICE);
	return ib_post_recv(srv->qps[0].cm_id->qp, &wr, NULL);
}

/* The MIGRATE waiting for the answer @seq, or NULL. */
static struct rswap_migrate_slot *migrate_slot_of(struct rswap_server *srv, u32 seq)
{
	unsigned int i;

	lockdep_assert_held(&srv->reply_lock);
	for (i = 0; seq && i < RSWAP_MOVES_IN_FLIGHT; i++)
		if (srv->migrates[i].seq == seq)
			return &srv->migrates[i];
	return NULL;
}

static void recv_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct rswap_ctrl_msg *m = container_of(wc->wr_cqe, struct rswap_ctrl_msg, cqe);
	struct rswap_server *srv = m->srv;
	struct rswap_migrate_slot *slot;
	int type;

	if (wc->status != IB_WC_SUCCESS) {
		if (wc->status != IB_WC_WR_FLUSH_ERR)
			pr_warn("%s: receive failed: %s\n", srv->name,
				ib_wc_status_msg(wc->status));
		rswap_server_fail(srv);
		return;
	}
	ib_dma_sync_single_for_cpu(srv->pd->device, m->dma, RSWAP_MSG_MAX, DMA_FROM_DEVICE);
	type = rswap_msg_check(m->buf, wc->byte_len);
	if (type < 0) {
		pr_warn_ratelimited("%s: malformed control message (%u bytes), reconnecting\n",
				    srv->name, wc->byte_len);
		rswap_server_fail(srv);
		return;
	}
	if (type == RSWAP_MSG_EVACUATE) {
		/* Not an answer: the server asks us to move a slab away. */
		const struct rswap_evacuate *e = (const void *)m->buf;

		rswap_evacuate_request(srv, le32_to_cpu(e->slab), le32_to_cpu(e->code));
		if (!READ_ONCE(srv->ctrl_broken) && post_recv(srv, m))
			rswap_server_fail(srv);
		return;
	}
	spin_lock(&srv->reply_lock);
	slot = migrate_slot_of(srv, le32_to_cpu(((struct rswap_hdr *)m->buf)->seq));
	if (slot) {
		/* The answer to an outstanding MIGRATE (rswap_server_migrate_wait). */
		memcpy(slot->reply, m->buf, wc->byte_len);
		slot->answered = true;
		type = 0;
	} else if (srv->reply_head - srv->reply_tail < RSWAP_CTRL_REPLIES) {
		memcpy(srv->replies[srv->reply_head % RSWAP_CTRL_REPLIES], m->buf, wc->byte_len);
		srv->reply_head++;
		type = 0;
	}
	spin_unlock(&srv->reply_lock);
	if (type) {
		pr_warn_ratelimited("%s: control messages overflow, reconnecting\n", srv->name);
		rswap_server_fail(srv);
		return;
	}
	wake_up(&srv->reply_wait);
	if (!READ_ONCE(srv->ctrl_broken) && post_recv(srv, m))
		rswap_server_fail(srv);
}

static void send_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct rswap_ctrl_msg *m = container_of(wc->wr_cqe, struct rswap_ctrl_msg, cqe);
	struct rswap_server *srv = m->srv;

	if (wc->status != IB_WC_SUCCESS) {
		if (wc->status != IB_WC_WR_FLUSH_ERR)
			pr_warn("%s: send failed: %s\n", srv->name, ib_wc_status_msg(wc->status));
		rswap_server_fail(srv);
	}
	complete(&srv->send_done);
	wake_up(&srv->reply_wait);
}

int rswap_ctrl_send(struct rswap_server *srv, const void *msg)
{
	const struct rswap_hdr *h = msg;
	struct ib_sge sge = {
		.addr = srv->send.dma,
		.length = le16_to_cpu(h->length),
		.lkey = srv->pd->local_dma_lkey,
	};
	struct ib_send_wr wr = {
		.wr_cqe = &srv->send.cqe,
		.sg_list = &sge,
		.num_sge = 1,
		.opcode = IB_WR_SEND,
		.send_flags = IB_SEND_SIGNALED,
	};
	int ret;

	lockdep_assert_held(&srv->ctrl_mutex);
	/*
	 * A broken connection may still have the last SEND in flight: its
	 * buffer is not reused until the teardown has flushed it.
	 */
	if (READ_ONCE(srv->ctrl_broken))
		return -ECONNRESET;
	memcpy(srv->send.buf, msg, sge.length);
	ib_dma_sync_single_for_device(srv->pd->device, srv->send.dma, RSWAP_MSG_MAX,
				      DMA_TO_DEVICE);
	reinit_completion(&srv->send_done);
	ret = ib_post_send(srv->qps[0].cm_id->qp, &wr, NULL);
	if (ret)
		return ret;
	/*
	 * Wait for the completion, or give up when the connection breaks: the
	 * teardown that follows flushes the WR before the buffer is used again.
	 */
	if (!wait_event_timeout(srv->reply_wait, completion_done(&srv->send_done) ||
				READ_ONCE(srv->ctrl_broken), RSWAP_CTRL_TIMEOUT)) {
		rswap_server_fail(srv);
		return -ETIMEDOUT;
	}
	return READ_ONCE(srv->ctrl_broken) ? -ECONNRESET : 0;
}

/* Next buffered reply, for sequence @seq (older ones are dropped). */
int rswap_ctrl_reply(struct rswap_server *srv, u32 seq, u8 *out, long timeout)
{
	/* One deadline for the answer, however many stale replies come first. */
	unsigned long deadline = jiffies + timeout;

	lockdep_assert_held(&srv->ctrl_mutex);
	for (;;) {
		const struct rswap_hdr *h = (const struct rswap_hdr *)out;
		bool got = false;
		long left;

		timeout = max_t(long, (long)(deadline - jiffies), 1);
		left = wait_event_timeout(srv->reply_wait,
					  READ_ONCE(srv->reply_head) != READ_ONCE(srv->reply_tail) ||
					  READ_ONCE(srv->ctrl_broken), timeout);
		spin_lock_bh(&srv->reply_lock);
		if (srv->reply_head != srv->reply_tail) {
			memcpy(out, srv->replies[srv->reply_tail % RSWAP_CTRL_REPLIES],
			       RSWAP_MSG_MAX);
			srv->reply_tail++;
			got = true;
		}
		spin_unlock_bh(&srv->reply_lock);
		if (!got && !READ_ONCE(srv->ctrl_broken) && !left) {
			/*
			 * No answer in time: the server is stuck, or the link.
			 * The connection goes (and with it any late answer,
			 * which would otherwise grant a slab nobody knows);
			 * error recovery reconnects.
			 */
			pr_warn("%s: no answer to a control message in %ld s; reconnecting\n",
				srv->name, timeout / HZ);
			rswap_server_fail(srv);
			return -ETIMEDOUT;
		}
		if (!got)
			return -ECONNRESET;
		if (le32_to_cpu(h->seq) == seq)
			return le16_to_cpu(h->type);
	}
}

/*
 * Send @msg (its header already has a fresh seq) and wait for the answer of
 * type @want (0: any) into @out. A refusal (ERROR) is logged and returned as
 * -rswap_err - 1000 so callers can tell it from a transport error.
 */
int rswap_ctrl_call_wait(struct rswap_server *srv, const void *msg, int want, u8 *out,
			 long timeout)
{
	const struct rswap_hdr *h = msg;
	int type, ret;

	ret = rswap_ctrl_send(srv, msg);
	if (ret)
		return ret;
	type = rswap_ctrl_reply(srv, le32_to_cpu(h->seq), out, timeout);
	if (type < 0)
		return type;
	if (type == RSWAP_MSG_ERROR) {
		const struct rswap_error *e = (const struct rswap_error *)out;

		return RSWAP_REFUSED(le32_to_cpu(e->code));
	}
	if (want && type != want) {
		pr_warn("%s: answer of type %d to a request of type %u, reconnecting\n",
			srv->name, type, le16_to_cpu(h->type));
		rswap_server_fail(srv);
		return -EPROTO;
	}
	return type;
}

int rswap_ctrl_call(struct rswap_server *srv, const void *msg, int want, u8 *out)
{
	return rswap_ctrl_call_wait(srv, msg, want, out, RSWAP_CTRL_TIMEOUT);
}


/* ---- connection setup and teardown ---- */

static int cm_handler(struct rdma_cm_id *id, struct rdma_cm_event *ev)
{
	struct rswap_qp *q = id->context;

	switch (ev->event) {
	case RDMA_CM_EVENT_ESTABLISHED:
		WRITE_ONCE(q->established, true);
		fallthrough;
	case RDMA_CM_EVENT_ADDR_RESOLVED:
	case RDMA_CM_EVENT_ROUTE_RESOLVED:
		q->cm_error = 0;
		complete(&q->cm_done);
		break;
	case RDMA_CM_EVENT_REJECTED:
		q->cm_error = -ECONNREFUSED;
		complete(&q->cm_done);
		break;
	case RDMA_CM_EVENT_ADDR_ERROR:
	case RDMA_CM_EVENT_ROUTE_ERROR:
	case RDMA_CM_EVENT_CONNECT_ERROR:
	case RDMA_CM_EVENT_UNREACHABLE:
		q->cm_error = -EHOSTUNREACH;
		complete(&q->cm_done);
		break;
	case RDMA_CM_EVENT_DISCONNECTED:
	case RDMA_CM_EVENT_ADDR_CHANGE:
	case RDMA_CM_EVENT_DEVICE_REMOVAL:
		/*
		 * An attached queue pair that never came up fails only its
		 * own attach (rswap_conn_attach_qps falls back to fewer queue pairs);
		 * anything else takes the connection down. A connect still
		 * waiting stops waiting. The device's resources are freed by
		 * error recovery, or at once by rswap_ib_remove_one.
		 */
		q->cm_error = -ECONNRESET;
		complete(&q->cm_done);
		if (q->queue == 0 || READ_ONCE(q->established))
			rswap_server_fail(q->srv);
		break;
	default:
		break;
	}
	return 0;
}

static int cm_wait(struct rswap_qp *q, const char *what)
{
	if (!wait_for_completion_timeout(&q->cm_done,
					 msecs_to_jiffies(RSWAP_CM_TIMEOUT_MS + 1000))) {
		pr_info("%s: queue %u: %s: timed out\n", q->srv->name, q->queue, what);
		return -ETIMEDOUT;
	}
	if (q->cm_error)
		pr_info("%s: queue %u: %s: error %d\n", q->srv->name, q->queue, what,
			q->cm_error);
	return q->cm_error;
}

static void unmap_ctrl(struct rswap_server *srv)
{
	struct ib_device *ibdev = srv->pd->device;
	int i;

	for (i = 0; i < RSWAP_CTRL_RECVS; i++)
		if (srv->recv[i].dma)
			ib_dma_unmap_single(ibdev, srv->recv[i].dma, RSWAP_MSG_MAX,
					    DMA_FROM_DEVICE);
	if (srv->send.dma)
		ib_dma_unmap_single(ibdev, srv->send.dma, RSWAP_MSG_MAX, DMA_TO_DEVICE);
	memset(&srv->send.dma, 0, sizeof(srv->send.dma));
	for (i = 0; i < RSWAP_CTRL_RECVS; i++)
		srv->recv[i].dma = 0;
}

static int map_ctrl(struct rswap_server *srv)
{
	struct ib_device *ibdev = srv->pd->device;
	int i;

	for (i = 0; i < RSWAP_CTRL_RECVS; i++) {
		srv->recv[i].dma = ib_dma_map_single(ibdev, srv->recv[i].buf, RSWAP_MSG_MAX,
						     DMA_FROM_DEVICE);
		if (ib_dma_mapping_error(ibdev, srv->recv[i].dma)) {
			srv->recv[i].dma = 0;
			return -ENOMEM;
		}
	}
	srv->send.dma = ib_dma_map_single(ibdev, srv->send.buf, RSWAP_MSG_MAX, DMA_TO_DEVICE);
	if (ib_dma_mapping_error(ibdev, srv->send.dma)) {
		srv->send.dma = 0;
		return -ENOMEM;
	}
	return 0;
}

/* Undo qp_connect, whatever part of it was done. */
static void qp_teardown(struct rswap_qp *q)
{
	if (!q->cm_id)
		return;
	/* Our own disconnect's DISCONNECTED event must not fail the server. */
	WRITE_ONCE(q->established, false);
	if (q->connected)
		rdma_disconnect(q->cm_id);
	if (q->cm_id->qp) {
		/* Every posted WR completes (flushed) before the QP goes. */
		ib_drain_qp(q->cm_id->qp);
		/* Those posted without a signaled one are done too (wrs_unposted). */
		rswap_cmds_drained(llist_del_all(&q->orphans));
		rdma_destroy_qp(q->cm_id);
	}
	if (q->cq)
		ib_cq_pool_put(q->cq, q->cq_entries);
	rdma_destroy_id(q->cm_id);
	q->cq = NULL;
	q->cm_id = NULL;
	q->connected = false;
	WRITE_ONCE(q->established, false);
}

/*
 * Undo rswap_conn_connect and rswap_conn_attach_qps, from any point of them. Under
 * ctrl_mutex. Queue pair 0 is drained (every control RECV and SEND
 * flushed) before its buffers are unmapped; the PD goes last.
 */
void rswap_conn_teardown(struct rswap_server *srv)
{
	unsigned int i;

	lockdep_assert_held(&srv->ctrl_mutex);
	/* No control message goes out, and no RECV is posted again, from here. */
	WRITE_ONCE(srv->ctrl_broken, true);
	/* Requests' WRs for it still waiting for their doorbell never go. */
	rswap_batch_purge(srv);
	WRITE_ONCE(srv->nr_qps, 0);
	for (i = srv->max_qps; i-- > 1;)
		qp_teardown(&srv->qps[i]);
	qp_teardown(&srv->qps[0]);
	if (srv->pd) {
		unmap_ctrl(srv);
		ib_dealloc_pd(srv->pd);
	}
	srv->pd = NULL;
}

/*
 * Connect queue pair @q for @queues hardware queues: resolve, create its CQ
 * and QP (in srv->pd, which queue 0 allocates), then connect; @attach is
 * the private data of an attached queue pair, NULL for queue 0, whose
 * control RECVs are posted before the connect. The caller tears down on
 * error.
 */
static int qp_connect(struct rswap_server *srv, struct rswap_qp *q,
		      const struct rswap_attach *attach, unsigned int queues)
{
	struct rdma_conn_param param = {
		.retry_count = 7,
		.rnr_retry_count = 7,
		.private_data = attach,
		.private_data_len = attach ? sizeof(*attach) : 0,
	};
	struct ib_qp_init_attr attr = {};
	struct ib_device *ibdev;
	int ret, i, sq_depth;
	u32 max_wr;

	q->cm_id = rdma_create_id(&init_net, cm_handler, q, RDMA_PS_TCP, IB_QPT_RC);
	if (IS_ERR(q->cm_id)) {
		ret = PTR_ERR(q->cm_id);
		q->cm_id = NULL;
		return ret;
	}
	reinit_completion(&q->cm_done);
	ret = rdma_resolve_addr(q->cm_id, NULL, (struct sockaddr *)&srv->addr,
				RSWAP_CM_TIMEOUT_MS);
	if (!ret)
		ret = cm_wait(q, "resolving the address");
	if (ret)
		return ret;

	ibdev = q->cm_id->device;
	if (!srv->pd) {
		srv->pd = ib_alloc_pd(ibdev, 0);
		if (IS_ERR(srv->pd)) {
			ret = PTR_ERR(srv->pd);
			srv->pd = NULL;
			return ret;
		}
	} else if (srv->pd->device != ibdev) {
		pr_err("%s: queue %u resolves to another RDMA device\n", srv->name, q->queue);
		return -EXDEV;
	}
	/*
	 * The send queue from the device's limits (rswap_sq.h): asked for
	 * what @queues hardware queues typically post, halved while the
	 * device refuses; send credits make any depth correct.
	 */
	max_wr = ibdev->attrs.max_qp_wr;
	if (READ_ONCE(rswap_fault_sq_depth_max))	/* a test's small NIC */
		max_wr = min_t(u32, max_wr, max_t(u32, READ_ONCE(rswap_fault_sq_depth_max),
						   RSWAP_SQ_MIN_WRS));
	sq_depth = rswap_sq_depth(srv->dev->tag_set.queue_depth, queues, max_wr);
	if (!sq_depth) {
		pr_err("%s: %s allows %d WRs per send queue, fewer than one request needs\n",
		       srv->name, dev_name(&ibdev->dev), ibdev->attrs.max_qp_wr);
		return -EINVAL;
	}
	/*
	 * Room for every send and control receive completion of the QP, in
	 * a CQ of the device's pool on the vector of its hardware queue (one
	 * per CPU), as nvme-rdma takes them: the queue pairs of one hardware
	 * queue to every server share CQs and their interrupt, not a CQ each.
	 * The WR's QP (wc->qp) says whose completion it is.
	 */
	q->cq_entries = min_t(u32, ibdev->attrs.max_cqe, sq_depth + RSWAP_CTRL_RECVS + 2);
	q->cq = ib_cq_pool_get(ibdev, q->cq_entries, q->queue, IB_POLL_SOFTIRQ);
	if (IS_ERR(q->cq)) {
		ret = PTR_ERR(q->cq);
		q->cq = NULL;
		return ret;
	}
	attr.send_cq = q->cq;
	attr.recv_cq = q->cq;
	attr.qp_context = q;
	/* +1: ib_drain_rq */
	attr.cap.max_recv_wr = (attach ? 0 : RSWAP_CTRL_RECVS) + 1;
	attr.cap.max_send_sge = min_t(int, RSWAP_MAX_SEGS, ibdev->attrs.max_send_sge);
	attr.cap.max_recv_sge = 1;
	attr.sq_sig_type = IB_SIGNAL_REQ_WR;
	attr.qp_type = IB_QPT_RC;
	for (;;) {
		attr.cap.max_send_wr = sq_depth;
		ret = rdma_create_qp(q->cm_id, srv->pd, &attr);
		if (!ret)
			break;
		if (ret != -ENOMEM && ret != -EINVAL)
			return ret;
		sq_depth = rswap_sq_retry_depth(sq_depth);
		if (!sq_depth)
			return ret;
		pr_info("%s: queue %u: send queue refused (%d); trying %u WRs\n", srv->name,
			q->queue, ret, sq_depth);
	}
	/* The device may have given more than asked: count what we asked for. */
	q->sq_depth = min_t(u32, sq_depth, attr.cap.max_send_wr);
	atomic_set(&q->sq_credits, rswap_sq_credits(q->sq_depth));
	write_seqlock(&srv->dev->lock);
	srv->dev->max_sge = min_t(u32, srv->dev->max_sge, attr.cap.max_send_sge);
	srv->dev->max_sge_rd = min3(srv->dev->max_sge_rd, attr.cap.max_send_sge,
				    max_t(u32, ibdev->attrs.max_sge_rd, 1));
	write_sequnlock(&srv->dev->lock);
	if (!attach) {
		ret = map_ctrl(srv);
		if (ret)
			return ret;
		WRITE_ONCE(srv->ctrl_broken, false);
		srv->reply_head = 0;
		srv->reply_tail = 0;
		for (i = 0; i < RSWAP_CTRL_RECVS; i++) {
			ret = post_recv(srv, &srv->recv[i]);
			if (ret)
				return ret;
		}
	}

	reinit_completion(&q->cm_done);
	ret = rdma_resolve_route(q->cm_id, RSWAP_CM_TIMEOUT_MS);
	if (!ret)
		ret = cm_wait(q, "resolving the route");
	if (ret)
		return ret;
	param.initiator_depth = min_t(int, 16, ibdev->attrs.max_qp_init_rd_atom);
	param.responder_resources = 0;
	reinit_completion(&q->cm_done);
	ret = rdma_connect(q->cm_id, &param);
	if (!ret)
		ret = cm_wait(q, "connecting");
	if (ret)
		return ret;
	q->connected = true;
	return 0;
}

/*
 * The connection the server authenticates: queue 0, sized for every
 * hardware queue in case the server lets us attach no more.
 */
int rswap_conn_connect(struct rswap_server *srv)
{
	int ret;

	lockdep_assert_held(&srv->ctrl_mutex);
	ret = qp_connect(srv, &srv->qps[0], NULL, srv->max_qps);
	if (ret) {
		rswap_conn_teardown(srv);
		return ret;
	}
	WRITE_ONCE(srv->nr_qps, 1);
	return 0;
}

/*
 * A queue pair for every other hardware queue, attached to the
 * authenticated connection with its token. When the server allows fewer,
 * hardware queues share them; when one fails to attach, all of them share
 * queue 0 (sized for that), and a warning says so.
 */
void rswap_conn_attach_qps(struct rswap_server *srv, const u8 *token, u32 max_attach)
{
	struct rswap_attach req = {
		.magic = cpu_to_le32(RSWAP_ATTACH_MAGIC),
		.version = cpu_to_le16(RSWAP_WIRE_VERSION),
	};
	/* The server's count is untrusted: never 0 queue pairs, never a wrap. */
	unsigned int want = max_attach >= srv->max_qps ? srv->max_qps : max_attach + 1, i;
	int ret = 0;

	memcpy(req.token, token, RSWAP_TOKEN_LEN);
	for (i = 1; i < want && !ret; i++) {
		req.queue = cpu_to_le16(i);
		ret = qp_connect(srv, &srv->qps[i], &req, DIV_ROUND_UP(srv->max_qps, want));
	}
	memzero_explicit(&req, sizeof(req));
	if (ret) {
		pr_warn("%s: queue %u could not attach (error %d): all queues use one queue pair\n",
			srv->name, i - 1, ret);
		for (i = want; i-- > 1;)
			qp_teardown(&srv->qps[i]);
		return;
	}
	WRITE_ONCE(srv->nr_qps, want);
}

/*
 * The connection failed: no new pages go there, pages it holds wait for
 * the reconnect (DETACHED), in-flight I/O is flushed and requeued by
 * rswap_dev.c, and a reconnect is scheduled. Under ctrl_mutex; nothing if
 * the server was not READY (a connect in progress cleans up after itself).
 */
void rswap_conn_recover_locked(struct rswap_server *srv)
{
	struct rswap_dev *dev = srv->dev;

	lockdep_assert_held(&srv->ctrl_mutex);
	/*
	 * Not READY, or READY on a newer connection than the one that failed
	 * (a stale error work: the teardown's own flushes re-queue it; a new
	 * connection starts with ctrl_broken clear).
	 */
	if (srv->state != RSWAP_SRV_READY || !READ_ONCE(srv->ctrl_broken))
		return;
	pr_warn("%s: connection lost; reconnecting\n", srv->name);
	atomic64_inc(&srv->disconnects);
	srv->down_since = jiffies;
	rswap_server_set_state(srv, RSWAP_SRV_DOWN);
	rswap_slabs_detach(dev, srv);
	/* queue_rq posts under rcu_read_lock after seeing READY: let it finish. */
	synchronize_rcu();
	rswap_conn_teardown(srv);
	blk_mq_kick_requeue_list(dev->disk->queue);
	queue_work(dev->refill_wq, &dev->refill_work);
	if (!READ_ONCE(dev->dying))
		queue_delayed_work(dev->wq, &srv->connect_work, 0);
}

void rswap_conn_error_work(struct work_struct *work)
{
	struct rswap_server *srv = container_of(work, struct rswap_server, error_work);
	unsigned int noio = memalloc_noio_save();

	mutex_lock(&srv->ctrl_mutex);
	rswap_conn_recover_locked(srv);
	mutex_unlock(&srv->ctrl_mutex);
	memalloc_noio_restore(noio);
}

/*
 * The RDMA device @ibdev is going away (NIC reset, driver unload, rxe
 * deleted): before ib_unregister_device goes on, every server connected
 * through it lets go of its QPs, CQs, PD and DMA mappings. Its pages wait
 * (DETACHED) and it reconnects, on whatever device then reaches it.
 *
 * A server that rswap_server_remove has unlinked from dev->servers but not
 * yet stopped is not in the walk. That is safe: ib clients are removed in
 * reverse order of registration, so rdma_cm's removal runs after ours; it
 * sends DEVICE_REMOVAL to that server's cm ids and waits until they are
 * destroyed, which rswap_server_stop does without any lock this function
 * holds. The device goes once the removed server's teardown is done.
 */
void rswap_servers_device_removed(struct rswap_dev *dev, struct ib_device *ibdev)
{
	unsigned int noio = memalloc_noio_save();
	int i;

	mutex_lock(&dev->servers_mutex);
	for (i = 0; i < RSWAP_MAX_SERVERS; i++) {
		struct rswap_server *srv = dev->servers[i];

		if (!srv)
			continue;
		mutex_lock(&srv->ctrl_mutex);
		if (srv->pd && srv->pd->device == ibdev) {
			pr_warn("%s: RDMA device %s is going away\n", srv->name,
				dev_name(&ibdev->dev));
			WRITE_ONCE(srv->ctrl_broken, true);
			wake_up(&srv->reply_wait);
			if (srv->state == RSWAP_SRV_READY)
				rswap_conn_recover_locked(srv);
			else
				rswap_conn_teardown(srv);
		}
		mutex_unlock(&srv->ctrl_mutex);
	}
	mutex_unlock(&dev->servers_mutex);
	memalloc_noio_restore(noio);
}

/* A new server's transport state, before its first connect. */
void rswap_conn_init(struct rswap_server *srv)
{
	unsigned int i;

	for (i = 0; i < srv->max_qps; i++) {
		srv->qps[i].srv = srv;
		srv->qps[i].queue = i;
		init_completion(&srv->qps[i].cm_done);
		init_llist_head(&srv->qps[i].orphans);
	}
	init_completion(&srv->send_done);
	spin_lock_init(&srv->reply_lock);
	init_waitqueue_head(&srv->reply_wait);
	INIT_WORK(&srv->error_work, rswap_conn_error_work);
	for (i = 0; i < RSWAP_CTRL_RECVS; i++) {
		srv->recv[i].srv = srv;
		srv->recv[i].cqe.done = recv_done;
	}
	srv->send.srv = srv;
	srv->send.cqe.done = send_done;
}
