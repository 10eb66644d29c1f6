// SPDX-License-Identifier: GPL-2.0
/*
 * server: start-up, the io_uring event loop, the rdma_cm listener.
 *
 * The listener lives on one event channel for the server's life. When its
 * RDMA device goes away (RDMA_CM_EVENT_DEVICE_REMOVAL), the connections on
 * it and the listener are freed, and every tick tries to listen again until
 * the address has a device again; the backing file, and so every stored
 * page, stays. The server exits only on a signal (or a drain on stop).
 */
#include "server.h"
#include "migrate.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* While the listener's device is gone, a failed retry is logged the first
 * time and then once this many seconds (the retries run every tick). */
#define LISTEN_RETRY_LOG_S 60

/* Poll requests in the ring at once: one per fd, plus cancellations. */
#define LOOP_RING_DEPTH 256
/* user_data of cancellations, whose completions carry nothing. */
#define LOOP_CANCEL_TAG 1

int log_level = LOG_INFO;

void log_msg(int level, const char *fmt, ...)
{
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	/* Copy threads log too: one line at a time. */
	flockfile(stderr);
	fputs("rswap-server: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	funlockfile(stderr);
	va_end(ap);
}

/* One line a second at most (struct log_limit). */
#define LOG_LIMIT_NS 1000000000ull

bool log_limit_due(struct log_limit *l, uint64_t now_ns, uint64_t *held)
{
	if (l->last_ns && now_ns - l->last_ns < LOG_LIMIT_NS) {
		l->held++;
		return false;
	}
	*held = l->held;
	l->held = 0;
	l->last_ns = now_ns;
	return true;
}

uint64_t log_limit_flush(struct log_limit *l, uint64_t now_ns)
{
	uint64_t held = l->held;

	if (!held || now_ns - l->last_ns < LOG_LIMIT_NS)
		return 0;
	l->held = 0;
	l->last_ns = now_ns;
	return held;
}

uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int loop_watch(struct server *s, struct loop_src *src)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&s->ring);

	if (!sqe) {
		io_uring_submit(&s->ring);
		sqe = io_uring_get_sqe(&s->ring);
		if (!sqe)
			return -1;
	}
	io_uring_prep_poll_add(sqe, src->fd, src->events ? (unsigned int)src->events : POLLIN);
	io_uring_sqe_set_data(sqe, src);
	src->armed = true;
	return 0;
}

void loop_forget(struct server *s, struct loop_src *src)
{
	struct io_uring_sqe *sqe;

	src->dying = true;
	if (!src->armed)
		return;		/* the loop releases it after its handler */
	sqe = io_uring_get_sqe(&s->ring);
	if (!sqe) {
		io_uring_submit(&s->ring);
		sqe = io_uring_get_sqe(&s->ring);
	}
	if (sqe) {
		io_uring_prep_poll_remove(sqe, (__u64)(uintptr_t)src);
		io_uring_sqe_set_data64(sqe, LOOP_CANCEL_TAG);
	}
}

void loop_rearm(struct server *s, struct loop_src *src)
{
	struct io_uring_sqe *sqe;

	if (!src->armed || src->dying)
		return;		/* the loop re-arms it after its handler */
	sqe = io_uring_get_sqe(&s->ring);
	if (!sqe) {
		io_uring_submit(&s->ring);
		sqe = io_uring_get_sqe(&s->ring);
	}
	if (!sqe) {
		log_msg(LOG_ERR, "io_uring: no room to re-arm a poll");
		return;
	}
	/* The cancelled poll completes with -ECANCELED: server_run runs its
	 * handler, then arms it again with src->events. */
	io_uring_prep_poll_remove(sqe, (__u64)(uintptr_t)src);
	io_uring_sqe_set_data64(sqe, LOOP_CANCEL_TAG);
}

static void forget_dead_devices(void);

/*
 * The listener's RDMA device is going away (NIC reset, driver unload, rxe
 * deleted). The kernel finishes the removal only once every resource on it
 * is gone: our connections there (their PDs, CQs, QPs, MRs), the listener,
 * and librdmacm's own handle of the device (see release_lost_device). The
 * stored pages are in the backing file, not the device: they stay, and
 * clients reattach once server_listen_tick() listens again.
 */
static void listener_lost(struct server *s)
{
	struct ibv_context *verbs = s->listen_id->verbs;
	struct stat st;

	s->stats.device_removals_total++;
	s->lost_verbs = verbs;
	s->n_lost_fds = 0;
	if (verbs) {
		int fds[2] = { verbs->cmd_fd, verbs->async_fd };
		unsigned int i;

		/* What the handle's files are, to know them again later
		 * without touching the handle, which may be freed by then. */
		for (i = 0; i < 2; i++) {
			if (fds[i] < 0 || fstat(fds[i], &st))
				continue;
			s->lost_fds[s->n_lost_fds].fd = fds[i];
			s->lost_fds[s->n_lost_fds].dev = st.st_dev;
			s->lost_fds[s->n_lost_fds].ino = st.st_ino;
			s->n_lost_fds++;
		}
	}
	log_msg(LOG_ERR, "RDMA device %s removed: closing its connections; the stored pages "
		"stay; listening on %s:%s again once it can", verbs ?
		ibv_get_device_name(verbs->device) : "?", s->set.listen_host, s->set.listen_port);
	if (verbs)
		conn_close_device(s, verbs);
	rdma_destroy_id(s->listen_id);
	s->listen_id = NULL;
	s->listen_lost_ns = mono_ns();
	s->listen_retries = 0;
	forget_dead_devices();
}

static void cm_ready(struct loop_src *src)
{
	struct server *s = (struct server *)((char *)src - offsetof(struct server, cm_src));
	struct rdma_cm_event *ev;

	/* The channel is non-blocking: take every event there is. */
	while (!rdma_get_cm_event(s->cm_chan, &ev)) {
		struct rdma_cm_event copy = *ev;

		if (copy.event == RDMA_CM_EVENT_CONNECT_REQUEST) {
			int refused = 1;

			if (s->stop)
				rdma_reject(copy.id, NULL, 0);
			else
				refused = conn_accept(s, copy.id, copy.param.conn.private_data,
						      copy.param.conn.private_data_len);
			rdma_ack_cm_event(ev);
			/* A refused id is ours to destroy, once its event is acked. */
			if (refused)
				rdma_destroy_id(copy.id);
			continue;
		}
		rdma_ack_cm_event(ev);
		if (copy.id == s->listen_id) {
			if (copy.event == RDMA_CM_EVENT_DEVICE_REMOVAL)
				listener_lost(s);
			else
				log_msg(LOG_ERR, "listener: %s", rdma_event_str(copy.event));
			continue;
		}
		if (copy.id->context)
			conn_cm_event(s, copy.id->context, &copy);
	}
}

static void sig_ready(struct loop_src *src)
{
	struct server *s = (struct server *)((char *)src - offsetof(struct server, sig_src));
	struct signalfd_siginfo si;

	if (read(src->fd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return;
	if (si.ssi_signo == SIGTERM && s->set.drain_on_stop && !s->drain.exit_when_done) {
		char err[512];

		int ret;

		/* partial: move what fits, then stop either way */
		ret = drain_start(s, false, true, err, sizeof(err));
		s->drain.exit_when_done = true;
		if (ret > 0) {		/* drain_on_peers goes on from here */
			log_msg(LOG_INFO, "SIGTERM: asking the peers for room before stopping");
			return;
		}
		if (ret < 0)
			log_msg(LOG_ERR, "SIGTERM: cannot drain (%s): stopping", err);
		if (s->drain.state == DRAIN_RUNNING && !s->drain.rebalance) {
			log_msg(LOG_INFO, "SIGTERM: draining before stopping (SIGTERM again "
				"stops at once)");
			return;
		}
	}
	log_msg(LOG_INFO, "signal %u: stopping", si.ssi_signo);
	s->stop = true;
}

/* Have librdmacm look at the device list again: it closes its handle of a
 * device that is gone once no id uses it, which lets the removal finish. */
static void forget_dead_devices(void)
{
	struct ibv_context **devs = rdma_get_devices(NULL);

	if (devs)
		rdma_free_devices(devs);
}

/* Listen on --listen, on the event channel: 0, or -1 with @err. */
static int listener_open(struct server *s, char *err, size_t err_size)
{
	struct rdma_addrinfo hints = { .ai_flags = RAI_PASSIVE, .ai_port_space = RDMA_PS_TCP };
	struct rdma_addrinfo *res;
	struct rdma_cm_id *id;
	int ret;

	ret = rdma_getaddrinfo(s->set.listen_host, s->set.listen_port, &hints, &res);
	if (ret) {
		snprintf(err, err_size, "--listen %s:%s: %s", s->set.listen_host,
			 s->set.listen_port, ret == -1 ? strerror(errno) : gai_strerror(ret));
		return -1;
	}
	ret = rdma_create_id(s->cm_chan, &id, NULL, RDMA_PS_TCP);
	if (ret) {
		rdma_freeaddrinfo(res);
		snprintf(err, err_size, "rdma_create_id: %s", strerror(errno));
		return -1;
	}
	ret = rdma_bind_addr(id, res->ai_src_addr);
	if (!ret)
		ret = rdma_listen(id, 64);
	rdma_freeaddrinfo(res);
	if (ret) {
		snprintf(err, err_size, "listening on %s:%s: %s", s->set.listen_host,
			 s->set.listen_port, strerror(errno));
		rdma_destroy_id(id);
		return -1;
	}
	s->listen_id = id;
	return 0;
}

/*
 * librdmacm keeps an open handle (ibv_context) of every device it used and
 * closes that of a removed one only when it rescans the device list and the
 * device is missing; but with no device left at all the rescan gives up
 * before comparing (rdma-core 44's sync_devices_list returns ENODEV), so the
 * last device's handle stays open. A device without disassociate_ucontext
 * (rxe among them) finishes its removal only once every process has closed
 * its files: 'rdma link delete' would hang until this server exited. So
 * once nothing of ours is left on the device, the handle's two files are
 * replaced (dup2) by /dev/null under the same numbers: the device's files
 * close, and librdmacm, when it does close the handle later, closes the
 * stand-ins. Numbers that no longer hold the recorded files are left alone.
 */
static void release_lost_device(struct server *s)
{
	unsigned int i, released = 0;
	struct stat st;
	int null_fd;

	if (!s->n_lost_fds || s->migrations)
		return;
	/* Every connection on it freed first (a dying one may be on it). */
	if (conn_any_on(s, s->lost_verbs) || s->n_conns_dying)
		return;
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null_fd < 0) {
		log_msg(LOG_ERR, "releasing the removed device: /dev/null: %s", strerror(errno));
		return;
	}
	for (i = 0; i < s->n_lost_fds; i++) {
		const struct lost_fd *l = &s->lost_fds[i];

		if (fstat(l->fd, &st) || st.st_dev != l->dev || st.st_ino != l->ino)
			continue;	/* librdmacm closed it already */
		if (dup2(null_fd, l->fd) < 0)
			log_msg(LOG_ERR, "releasing the removed device: dup2: %s", strerror(errno));
		else
			released++;
	}
	close(null_fd);
	s->n_lost_fds = 0;
	if (released)
		log_msg(LOG_INFO, "let go of librdmacm's %u files of the removed device so its "
			"removal can finish", released);
}

void server_listen_tick(struct server *s)
{
	uint64_t gone_s;
	char err[256];

	if (s->listen_id || s->stop)
		return;
	s->listen_retries++;
	gone_s = (mono_ns() - s->listen_lost_ns) / 1000000000ull;
	forget_dead_devices();
	release_lost_device(s);
	if (listener_open(s, err, sizeof(err))) {
		if (s->listen_retries == 1 || !(s->listen_retries % LISTEN_RETRY_LOG_S))
			log_msg(LOG_INFO, "still not listening after %llu s (%u tries): %s",
				(unsigned long long)gone_s, s->listen_retries, err);
		return;
	}
	log_msg(LOG_INFO, "listening again on %s:%s (%s), %llu s after the device went",
		s->set.listen_host, s->set.listen_port,
		s->listen_id->verbs ? ibv_get_device_name(s->listen_id->verbs->device) : "any device",
		(unsigned long long)gone_s);
}

static int listen_rdma(struct server *s, char *err, size_t err_size)
{
	int flags;

	/* The channel outlives listeners: a device that goes takes only them. */
	s->cm_chan = rdma_create_event_channel();
	if (!s->cm_chan) {
		snprintf(err, err_size, "rdma_create_event_channel: %s (is an RDMA device up? "
			 "try 'rdma link show')", strerror(errno));
		return -1;
	}
	flags = fcntl(s->cm_chan->fd, F_GETFL);
	if (flags < 0 || fcntl(s->cm_chan->fd, F_SETFL, flags | O_NONBLOCK)) {
		snprintf(err, err_size, "fcntl: %s", strerror(errno));
		return -1;
	}
	if (listener_open(s, err, err_size))
		return -1;
	s->cm_src.fd = s->cm_chan->fd;
	s->cm_src.ready = cm_ready;
	return loop_watch(s, &s->cm_src);
}

int server_start(struct server *s, char *err, size_t err_size)
{
	sigset_t mask;
	int ret;

	ret = io_uring_queue_init(LOOP_RING_DEPTH, &s->ring, 0);
	if (ret) {
		snprintf(err, err_size, "io_uring_queue_init: %s", strerror(-ret));
		return -1;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	s->sig_src.fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (s->sig_src.fd < 0) {
		snprintf(err, err_size, "signalfd: %s", strerror(errno));
		return -1;
	}
	s->sig_src.ready = sig_ready;
	if (loop_watch(s, &s->sig_src)) {
		snprintf(err, err_size, "io_uring: no room to watch signals");
		return -1;
	}
	if (drain_init(s)) {
		snprintf(err, err_size, "out of memory for the drain tables");
		return -1;
	}
	if (listen_rdma(s, err, err_size) || migrate_start(s, err, err_size) ||
	    peers_start(s, err, err_size))
		return -1;
	return admin_start(s, err, err_size);
}

int server_run(struct server *s)
{
	while (!s->stop) {
		struct io_uring_cqe *cqe;
		struct loop_src *src;
		int ret;

		ret = io_uring_submit_and_wait(&s->ring, 1);
		if (ret < 0 && ret != -EINTR) {
			log_msg(LOG_ERR, "io_uring: %s", strerror(-ret));
			return -1;
		}
		while (io_uring_peek_cqe(&s->ring, &cqe) == 0) {
			src = io_uring_cqe_get_data(cqe);
			io_uring_cqe_seen(&s->ring, cqe);
			if ((uintptr_t)src == LOOP_CANCEL_TAG || !src)
				continue;
			src->armed = false;
			if (!src->dying)
				src->ready(src);
			if (src->dying) {
				if (src->release)
					src->release(src);
			} else if (loop_watch(s, src)) {
				log_msg(LOG_ERR, "io_uring: cannot re-arm a poll");
				return -1;
			}
		}
	}
	return 0;
}

void server_stop(struct server *s)
{
	struct io_uring_cqe *cqe;

	/* Copies first: they read slabs that close with their connections
	 * (the peers' thread before them: a copy may wait for its round). */
	peers_stop(s);
	migrate_stop(s);
	conn_close_all(s);
	admin_stop(s);
	io_uring_submit(&s->ring);
	/* Collect cancelled polls so their connections are released; bounded
	 * by a short wait each, as a client may never answer. */
	for (;;) {
		struct __kernel_timespec ts = { .tv_nsec = 200 * 1000 * 1000 };
		struct loop_src *src;

		if (io_uring_wait_cqe_timeout(&s->ring, &cqe, &ts))
			break;
		src = io_uring_cqe_get_data(cqe);
		io_uring_cqe_seen(&s->ring, cqe);
		if (src && (uintptr_t)src != LOOP_CANCEL_TAG) {
			src->armed = false;
			if (src->dying && src->release)
				src->release(src);
		}
	}
	if (s->listen_id)
		rdma_destroy_id(s->listen_id);
	if (s->cm_chan)
		rdma_destroy_event_channel(s->cm_chan);
	if (s->sig_src.fd > 0)
		close(s->sig_src.fd);
	io_uring_queue_exit(&s->ring);
	drain_fini(s);
}
