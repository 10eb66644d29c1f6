/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rswap_trace: the module's tracepoints (system "rswap", under
 * /sys/kernel/tracing/events/rswap/ and in perf list):
 *
 *   rswap_req_submit     a request first reaches queue_rq: its operation,
 *                        first page and pages, and whether it is our own
 *                        read ahead
 *   rswap_req_complete   it ends: status, the pages it moved by RDMA, the
 *                        tries it took (parks for a server or a full send
 *                        queue, and checksum retries), and its latency
 *                        from first submit to end, in ns (0 for a request
 *                        submitted before the event was enabled)
 *   rswap_csum_error     a page read back with a wrong checksum: the
 *                        server it came from, and whether it is read again
 *   rswap_repair         a page whose bad copy was written again ended
 *                        (read-repair): error 0 when its entry moved to
 *                        the new slot, -ESTALE when the page changed
 *                        meanwhile, -EIO when the write failed
 *   rswap_slab_grant     a GRANT answered: what for (active: new pages;
 *                        copying: a new copy; filling: a move's target),
 *                        the set and copy, the server's slab and the round
 *                        trip
 *   rswap_slab_return    a RETURN answered
 *   rswap_slab_move      a slab moved server to server (a drain,
 *                        rebalance or evacuation), or left where it is
 *   rswap_resync         a new copy of a set made server to server after a
 *                        copy was lost, or not made
 *   rswap_server_state   a server changes state (rswap_lifecycle.h)
 *   rswap_connect        a connection attempt ends: its result, and the
 *                        back-off before the next one (0 when connected)
 *
 * error is 0, a -errno, or for a GRANT or RETURN the server refused,
 * -1000 minus its refusal code (proto/rswap_wire.h). set=-1 is a slab that
 * starts a set.
 *
 * Names are copied into fixed arrays (the string helpers' signature
 * changed in 6.10; this builds on 6.1 and 6.12 alike). Nothing here takes
 * a lock or sleeps: every event is fired where its values are at hand.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM rswap

#if !defined(RSWAP_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define RSWAP_TRACE_H

#include <linux/blk_types.h>
#include <linux/blkdev.h>
#include <linux/tracepoint.h>

#define RSWAP_TRACE_NAME	64	/* struct rswap_server's name */

TRACE_EVENT(rswap_req_submit,
	TP_PROTO(const char *dev, unsigned int op, u64 page, unsigned int pages, bool prefetch),
	TP_ARGS(dev, op, page, pages, prefetch),
	TP_STRUCT__entry(
		__array(char, dev, DISK_NAME_LEN)
		__field(unsigned int, op)
		__field(u64, page)
		__field(unsigned int, pages)
		__field(bool, prefetch)
	),
	TP_fast_assign(
		strscpy(__entry->dev, dev, DISK_NAME_LEN);
		__entry->op = op;
		__entry->page = page;
		__entry->pages = pages;
		__entry->prefetch = prefetch;
	),
	TP_printk("%s %s page=%llu pages=%u prefetch=%d", __entry->dev,
		  __print_symbolic(__entry->op, { REQ_OP_READ, "read" },
				   { REQ_OP_WRITE, "write" }, { REQ_OP_FLUSH, "flush" },
				   { REQ_OP_DISCARD, "discard" },
				   { REQ_OP_WRITE_ZEROES, "write_zeroes" }), __entry->page, __entry->pages,
		  __entry->prefetch)
);

TRACE_EVENT(rswap_req_complete,
	TP_PROTO(const char *dev, unsigned int op, u64 page, unsigned int pages,
		 unsigned int remote, unsigned int lost, unsigned int tries, int error,
		 u64 latency_ns),
	TP_ARGS(dev, op, page, pages, remote, lost, tries, error, latency_ns),
	TP_STRUCT__entry(
		__array(char, dev, DISK_NAME_LEN)
		__field(unsigned int, op)
		__field(u64, page)
		__field(unsigned int, pages)
		__field(unsigned int, remote)
		__field(unsigned int, lost)
		__field(unsigned int, tries)
		__field(int, error)
		__field(u64, latency_ns)
	),
	TP_fast_assign(
		strscpy(__entry->dev, dev, DISK_NAME_LEN);
		__entry->op = op;
		__entry->page = page;
		__entry->pages = pages;
		__entry->remote = remote;
		__entry->lost = lost;
		__entry->tries = tries;
		__entry->error = error;
		__entry->latency_ns = latency_ns;
	),
	TP_printk("%s %s page=%llu pages=%u remote=%u lost=%u tries=%u error=%d latency_ns=%llu",
		  __entry->dev, __print_symbolic(__entry->op, { REQ_OP_READ, "read" },
				   { REQ_OP_WRITE, "write" }, { REQ_OP_FLUSH, "flush" },
				   { REQ_OP_DISCARD, "discard" },
				   { REQ_OP_WRITE_ZEROES, "write_zeroes" }), __entry->page,
		  __entry->pages, __entry->remote, __entry->lost, __entry->tries, __entry->error,
		  __entry->latency_ns)
);

TRACE_EVENT(rswap_repair,
	TP_PROTO(const char *dev, u64 page, int error),
	TP_ARGS(dev, page, error),
	TP_STRUCT__entry(
		__array(char, dev, DISK_NAME_LEN)
		__field(u64, page)
		__field(int, error)
	),
	TP_fast_assign(
		strscpy(__entry->dev, dev, DISK_NAME_LEN);
		__entry->page = page;
		__entry->error = error;
	),
	TP_printk("%s page=%llu error=%d", __entry->dev, __entry->page, __entry->error)
);

TRACE_EVENT(rswap_csum_error,
	TP_PROTO(const char *dev, u64 page, const char *server, bool again),
	TP_ARGS(dev, page, server, again),
	TP_STRUCT__entry(
		__array(char, dev, DISK_NAME_LEN)
		__field(u64, page)
		__array(char, server, RSWAP_TRACE_NAME)
		__field(bool, again)
	),
	TP_fast_assign(
		strscpy(__entry->dev, dev, DISK_NAME_LEN);
		__entry->page = page;
		strscpy(__entry->server, server, RSWAP_TRACE_NAME);
		__entry->again = again;
	),
	TP_printk("%s page=%llu server=%s read_again=%d", __entry->dev, __entry->page,
		  __entry->server, __entry->again)
);

TRACE_EVENT(rswap_slab_grant,
	TP_PROTO(const char *dev, const char *server, const char *purpose, u32 set, u32 copy,
		 u32 remote, int error, u64 rtt_ns),
	TP_ARGS(dev, server, purpose, set, copy, remote, error, rtt_ns),
	TP_STRUCT__entry(
		__array(char, dev, DISK_NAME_LEN)
		__array(char, server, RSWAP_TRACE_NAME)
		__array(char, purpose, 16)
		__field(u32, set)
		__field(u32, copy)
		__field(u32, remote)
		__field(int, error)
		__field(u64, rtt_ns)
	),
	TP_fast_assign(
		strscpy(__entry->dev, dev, DISK_NAME_LEN);
		strscpy(__entry->server, server, RSWAP_TRACE_NAME);
		strscpy(__entry->purpose, purpose, 16);
		__entry->set = set;
		__entry->copy = copy;
		__entry->remote = remote;
		__entry->error = error;
		__entry->rtt_ns = rtt_ns;
	),
	TP_printk("%s server=%s for=%s set=%d copy=%u slab=%u error=%d rtt_ns=%llu",
		  __entry->dev, __entry->server, __entry->purpose, (int)__entry->set,
		  __entry->copy, __entry->remote, __entry->error, __entry->rtt_ns)
);

TRACE_EVENT(rswap_slab_return,
	TP_PROTO(const char *dev, const char *server, u32 remote, int error),
	TP_ARGS(dev, server, remote, error),
	TP_STRUCT__entry(
		__array(char, dev, DISK_NAME_LEN)
		__array(char, server, RSWAP_TRACE_NAME)
		__field(u32, remote)
		__field(int, error)
	),
	TP_fast_assign(
		strscpy(__entry->dev, dev, DISK_NAME_LEN);
		strscpy(__entry->server, server, RSWAP_TRACE_NAME);
		__entry->remote = remote;
		__entry->error = error;
	),
	TP_printk("%s server=%s slab=%u error=%d", __entry->dev, __entry->server,
		  __entry->remote, __entry->error)
);

/* One class for the two server-to-server copies: a move and a resync. */
DECLARE_EVENT_CLASS(rswap_copy_class,
	TP_PROTO(const char *dev, const char *from, u32 from_slab, const char *to, u32 to_slab,
		 int pages, int error),
	TP_ARGS(dev, from, from_slab, to, to_slab, pages, error),
	TP_STRUCT__entry(
		__array(char, dev, DISK_NAME_LEN)
		__array(char, from, RSWAP_TRACE_NAME)
		__field(u32, from_slab)
		__array(char, to, RSWAP_TRACE_NAME)
		__field(u32, to_slab)
		__field(int, pages)
		__field(int, error)
	),
	TP_fast_assign(
		strscpy(__entry->dev, dev, DISK_NAME_LEN);
		strscpy(__entry->from, from, RSWAP_TRACE_NAME);
		__entry->from_slab = from_slab;
		strscpy(__entry->to, to, RSWAP_TRACE_NAME);
		__entry->to_slab = to_slab;
		__entry->pages = pages;
		__entry->error = error;
	),
	TP_printk("%s from=%s slab=%u to=%s slab=%d pages=%d error=%d", __entry->dev,
		  __entry->from, __entry->from_slab, __entry->to, (int)__entry->to_slab,
		  __entry->pages, __entry->error)
);

DEFINE_EVENT(rswap_copy_class, rswap_slab_move,
	TP_PROTO(const char *dev, const char *from, u32 from_slab, const char *to, u32 to_slab,
		 int pages, int error),
	TP_ARGS(dev, from, from_slab, to, to_slab, pages, error)
);

DEFINE_EVENT(rswap_copy_class, rswap_resync,
	TP_PROTO(const char *dev, const char *from, u32 from_slab, const char *to, u32 to_slab,
		 int pages, int error),
	TP_ARGS(dev, from, from_slab, to, to_slab, pages, error)
);

TRACE_EVENT(rswap_server_state,
	TP_PROTO(const char *dev, const char *server, const char *from, const char *to),
	TP_ARGS(dev, server, from, to),
	TP_STRUCT__entry(
		__array(char, dev, DISK_NAME_LEN)
		__array(char, server, RSWAP_TRACE_NAME)
		__array(char, from, 16)
		__array(char, to, 16)
	),
	TP_fast_assign(
		strscpy(__entry->dev, dev, DISK_NAME_LEN);
		strscpy(__entry->server, server, RSWAP_TRACE_NAME);
		strscpy(__entry->from, from, 16);
		strscpy(__entry->to, to, 16);
	),
	TP_printk("%s server=%s %s -> %s", __entry->dev, __entry->server, __entry->from,
		  __entry->to)
);

TRACE_EVENT(rswap_connect,
	TP_PROTO(const char *dev, const char *server, u32 epoch, int error,
		 unsigned long backoff_ms),
	TP_ARGS(dev, server, epoch, error, backoff_ms),
	TP_STRUCT__entry(
		__array(char, dev, DISK_NAME_LEN)
		__array(char, server, RSWAP_TRACE_NAME)
		__field(u32, epoch)
		__field(int, error)
		__field(unsigned long, backoff_ms)
	),
	TP_fast_assign(
		strscpy(__entry->dev, dev, DISK_NAME_LEN);
		strscpy(__entry->server, server, RSWAP_TRACE_NAME);
		__entry->epoch = epoch;
		__entry->error = error;
		__entry->backoff_ms = backoff_ms;
	),
	TP_printk("%s server=%s attempt=%u error=%d next_try_ms=%lu", __entry->dev,
		  __entry->server, __entry->epoch, __entry->error, __entry->backoff_ms)
);

#endif /* RSWAP_TRACE_H */

/* Out of tree: the header is found beside the sources (Kbuild adds -I$(src)). */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE rswap_trace
#include <trace/define_trace.h>
