/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * rswap_wire.h: the control messages rswap.ko (or a userspace client) and
 * rswap-server exchange with RDMA SEND/RECV. Fixed layout, little-endian,
 * sizes checked at build time. Shared verbatim by the kernel module and
 * userspace: only <linux/types.h> and the endian helpers below are used.
 *
 * Every message starts with struct rswap_hdr. A receiver passes the bytes it
 * got to rswap_msg_check() before it reads anything else; a message that
 * fails is answered with RSWAP_MSG_ERROR (server) or ends the connection
 * (client), and is counted.
 *
 * The conversation on one connection:
 *
 *   client                                   server
 *   HELLO(client id, page size, name)  ->
 *                                      <-    CHALLENGE(server id, nonce S)
 *   AUTH(nonce C, mac)                 ->    mac = HMAC-SHA256(Kc, "rswap-auth-client" S C T)
 *                                      <-    WELCOME(mac', slab size, quota, slabs held)
 *                                            mac' = HMAC-SHA256(Kc, "rswap-auth-server" C S T)
 *
 * Kc is the client's own key: the 64 lowercase hex digits of
 * HMAC-SHA256(pool key, "rswap-client-key" || client id). The server holds
 * the pool key and derives Kc of whoever says HELLO; a client holds only
 * its Kc (rswapctl client-key makes it), so it can prove no other id than
 * its own. T binds the proof to this handshake's peers: client id, server
 * id, the client's IP address, the server's IP address and port (struct
 * rswap_auth_binding, rswap_auth_transcript below). A proof relayed to
 * another server, or made for another client id, does not verify.
 *   GRANT_REQ                          ->
 *                                      <-    GRANT(slab, addr, rkey, size) or ERROR
 *   GRANT_MANY(count)                  ->    up to RSWAP_GRANTS_MAX slabs at once,
 *                                            one metadata-log sync for all
 *                                      <-    GRANTS(1..count slabs) or ERROR
 *   RETURN(slab)                       ->
 *                                      <-    RETURNED(slab) or ERROR
 *   REATTACH                           ->    after a reconnect or a server restart:
 *                                      <-    GRANT(flags=REATTACHED) for each slab held
 *                                      <-    REATTACHED(count)
 *
 * Moving a slab to another server (drain, rebalance; no page goes through
 * the client):
 *                                      <-    EVACUATE(slab, reason)  unsolicited
 *   NOT_MOVED(slab, code)              ->    the client cannot move it now
 *                                      <-    NOT_MOVED (echo)
 *   MIGRATE_MAP(slab, first, bits)     ->    the slab's used slots, 512 a message
 *                                      <-    MIGRATE_MAP (echo)
 *   MIGRATE(slab, target, token, ...)  ->    the server connects a copy queue pair
 *                                            (up to RSWAP_MOVES_IN_FLIGHT run at
 *                                            once, each after its own map)
 *                                            to the target (the token, the target
 *                                            slab), checks that the target proves
 *                                            the pool key, and WRITEs the used
 *                                            slots into that slab alone
 *                                      <-    MIGRATED(slab, pages) or ERROR
 *   RETURN(slab)                       ->    once the client points at the copy
 *
 * Nothing but HELLO and AUTH is accepted before WELCOME. The client id is
 * the client's stable identity: the server keeps a client's slabs under it
 * across disconnects and restarts, for REATTACH.
 *
 * More queue pairs (one per CPU or hardware queue) join an authenticated
 * connection: the client connects them with struct rswap_attach, carrying
 * the WELCOME's attach token, as the rdma_cm private data. The server puts
 * them in the connection's protection domain, so the slabs' rkeys work on
 * them, and ends them with it. They carry only one-sided READ and WRITE.
 *
 * A server copying a slab in for MIGRATE (the source) connects with struct
 * rswap_copy_attach instead: the client's token, the target slab and a
 * fresh nonce. The target accepts only for a slab that token's client
 * holds there, into a protection domain of the copy's own in which only
 * that slab is registered, for remote WRITE (no READ), and answers with
 * struct rswap_copy_accept: where to write and an HMAC-SHA256 with the
 * pool key over the nonce and what it says (rswap_copy_transcript). The
 * source writes nothing before that MAC verifies: a peer that is not a
 * server of the pool gets no byte, and the addresses and rkeys the client
 * gave in MIGRATE are not used.
 */
#ifndef RSWAP_WIRE_H
#define RSWAP_WIRE_H

#include <linux/types.h>

#ifdef __KERNEL__
#include <linux/kernel.h>
#include <linux/string.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/socket.h>
#include <asm/byteorder.h>
#define rswap_le16(x) le16_to_cpu(x)
#define rswap_le32(x) le32_to_cpu(x)
#define rswap_le64(x) le64_to_cpu(x)
#define rswap_cpu16(x) cpu_to_le16(x)
#define rswap_cpu32(x) cpu_to_le32(x)
#define rswap_cpu64(x) cpu_to_le64(x)
#else
#include <endian.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#define rswap_le16(x) le16toh(x)
#define rswap_le32(x) le32toh(x)
#define rswap_le64(x) le64toh(x)
#define rswap_cpu16(x) htole16(x)
#define rswap_cpu32(x) htole32(x)
#define rswap_cpu64(x) htole64(x)
#endif

#define RSWAP_WIRE_MAGIC	0x50575352u	/* "RSWP" little-endian */
/* 2: per-client keys, bound handshake; 3: GRANT_MANY */
#define RSWAP_WIRE_VERSION	3
/* Largest message; receive buffers are this size. */
#define RSWAP_MSG_MAX		128
#define RSWAP_PAGE_SIZE		4096
#define RSWAP_ID_LEN		16
#define RSWAP_NONCE_LEN		32
#define RSWAP_MAC_LEN		32	/* HMAC-SHA256 */
#define RSWAP_NAME_LEN		32
#define RSWAP_TEXT_LEN		48
#define RSWAP_TOKEN_LEN		16
#define RSWAP_ATTACH_MAGIC	0x41575352u	/* "RSWA" little-endian */
/* Slots one MIGRATE_MAP describes. */
#define RSWAP_MAP_BITS		512
/*
 * Slab moves in flight at once for one client: MIGRATEs running on one
 * connection (one more is refused STATE), and EVACUATEs a draining server
 * leaves unanswered with one client. Several keep the link busy while
 * each copy connects, and each grant and RETURN waits for its fdatasync.
 */
#define RSWAP_MOVES_IN_FLIGHT	4
/*
 * struct rswap_copy_attach.queue: a server copying a slab in (MIGRATE). A
 * struct rswap_attach with it is refused: copies use their own attach.
 */
#define RSWAP_QUEUE_MIGRATION	0xffff
#define RSWAP_COPY_ATTACH_MAGIC	0x43575352u	/* "RSWC" little-endian */
#define RSWAP_COPY_ACCEPT_MAGIC	0x4b575352u	/* "RSWK" little-endian */
#define RSWAP_COPY_NONCE_LEN	16
/* IB CM limits on rdma_cm private data: a REQ carries 56 bytes, a REP 196. */
#define RSWAP_CM_REQ_PDATA_MAX	56
#define RSWAP_CM_REP_PDATA_MAX	196

enum rswap_msg_type {
	RSWAP_MSG_HELLO = 1,
	RSWAP_MSG_CHALLENGE,
	RSWAP_MSG_AUTH,
	RSWAP_MSG_WELCOME,
	RSWAP_MSG_GRANT_REQ,
	RSWAP_MSG_GRANT,
	RSWAP_MSG_RETURN,
	RSWAP_MSG_RETURNED,
	RSWAP_MSG_REATTACH,
	RSWAP_MSG_REATTACHED,
	RSWAP_MSG_ERROR,
	RSWAP_MSG_EVACUATE,
	RSWAP_MSG_NOT_MOVED,
	RSWAP_MSG_MIGRATE_MAP,
	RSWAP_MSG_MIGRATE,
	RSWAP_MSG_MIGRATED,
	RSWAP_MSG_KEEPALIVE,		/* client -> server: still here */
	RSWAP_MSG_KEEPALIVE_ACK,	/* server -> client: so am I */
	RSWAP_MSG_GRANT_MANY,
	RSWAP_MSG_GRANTS,
	RSWAP_MSG_TYPE_END
};

/* Codes carried by RSWAP_MSG_ERROR, and returned negated by rswap_msg_check. */
enum rswap_err {
	RSWAP_ERR_MALFORMED = 1,	/* failed rswap_msg_check */
	RSWAP_ERR_VERSION,		/* a version this side does not speak */
	RSWAP_ERR_STATE,		/* valid message, wrong moment */
	RSWAP_ERR_AUTH,			/* bad MAC: wrong key */
	RSWAP_ERR_QUOTA,		/* the client holds its quota of slabs */
	RSWAP_ERR_NO_MEMORY,		/* the server has no free slab */
	RSWAP_ERR_NO_SLAB,		/* no such slab, or not this client's */
	RSWAP_ERR_INTERNAL,		/* the server failed; try again later */
	RSWAP_ERR_END
};

/**
 * struct rswap_hdr - starts every message
 * @magic:	RSWAP_WIRE_MAGIC
 * @version:	RSWAP_WIRE_VERSION
 * @type:	enum rswap_msg_type
 * @length:	bytes in the message, header included; exactly the size of
 *		the type's struct
 * @flags:	per type; zero where a type defines none
 * @seq:	chosen by the requester, echoed in the answer
 */
struct rswap_hdr {
	__le32 magic;
	__le16 version;
	__le16 type;
	__le16 length;
	__le16 flags;
	__le32 seq;
};

/**
 * struct rswap_hello - client introduces itself
 * @id:		stable client identity (configured, or derived from the host;
 *		the same across reboots of one client)
 * @page_size:	RSWAP_PAGE_SIZE
 * @flags:	enum rswap_hello_flags; unknown bits are malformed
 * @name:	human-readable, NUL-terminated (host name)
 */
struct rswap_hello {
	struct rswap_hdr hdr;
	__u8 id[RSWAP_ID_LEN];
	__le32 page_size;
	__le32 flags;
	char name[RSWAP_NAME_LEN];
};

/**
 * enum rswap_hello_flags - what a client says of itself in HELLO
 * @RSWAP_HELLO_FRESH:	 this is the client's first connection to the server
 *			 since it was loaded: it holds nothing there, so once it
 *			 has authenticated, every slab the server keeps for its
 *			 id (left by an earlier boot) is freed, not reattached
 * @RSWAP_HELLO_KEEPALIVE: the client sends KEEPALIVE on the control
 *			 connection at least every RSWAP_KEEPALIVE_INTERVAL_MS;
 *			 the server may close a connection that stays silent
 *			 for longer than its client timeout
 */
enum rswap_hello_flags {
	RSWAP_HELLO_FRESH = 1u << 0,
	RSWAP_HELLO_KEEPALIVE = 1u << 1,
};

#define RSWAP_HELLO_FLAGS_KNOWN	(RSWAP_HELLO_FRESH | RSWAP_HELLO_KEEPALIVE)
/*
 * A client that sets RSWAP_HELLO_KEEPALIVE sends a KEEPALIVE (a struct
 * rswap_request; the answer is KEEPALIVE_ACK, same layout) at least this
 * often while it has nothing else to say, and treats a missing answer as
 * a dead server. A server should allow several intervals of silence.
 */
#define RSWAP_KEEPALIVE_INTERVAL_MS	5000

/**
 * struct rswap_challenge - server's nonce
 * @id:		stable server identity (kept in its metadata log)
 * @nonce:	random, fresh per connection
 */
struct rswap_challenge {
	struct rswap_hdr hdr;
	__u8 id[RSWAP_ID_LEN];
	__u8 nonce[RSWAP_NONCE_LEN];
};

/**
 * struct rswap_auth - client's proof of its key
 * @nonce:	client's random nonce
 * @mac:	HMAC-SHA256(Kc, rswap_auth_transcript("rswap-auth-client",
 *		server nonce, @nonce, ...))
 */
struct rswap_auth {
	struct rswap_hdr hdr;
	__u8 nonce[RSWAP_NONCE_LEN];
	__u8 mac[RSWAP_MAC_LEN];
};

/**
 * struct rswap_welcome - server accepts, and proves the key too
 * @mac:	HMAC-SHA256(Kc, rswap_auth_transcript("rswap-auth-server",
 *		client nonce, server nonce, ...))
 * @slab_size:	bytes per slab, a multiple of RSWAP_PAGE_SIZE
 * @quota:	slabs this client may hold
 * @held:	slabs this client holds already (REATTACH lists them)
 * @free:	slabs the server could still grant (to anyone): for placement
 * @max_attach:	queue pairs the client may attach to this connection
 * @token:	attach token: secret, fresh per connection, valid while it lives
 */
struct rswap_welcome {
	struct rswap_hdr hdr;
	__u8 mac[RSWAP_MAC_LEN];
	__le64 slab_size;
	__le32 quota;
	__le32 held;
	__le32 free;
	__le32 max_attach;
	__u8 token[RSWAP_TOKEN_LEN];
};

/* GRANT_REQ, REATTACH, KEEPALIVE and KEEPALIVE_ACK carry only the header. */
struct rswap_request {
	struct rswap_hdr hdr;
};

#define RSWAP_GRANT_REATTACHED	0x1	/* hdr.flags: an answer to REATTACH */

/**
 * struct rswap_grant - a slab the client may read and write
 * @slab:	server's slab number, names the slab in RETURN
 * @rkey:	remote key of the slab's memory region (new on each connection)
 * @addr:	remote address of the slab's first byte (rswap-server: 0, its
 *		slabs are registered zero-based)
 * @size:	bytes, equal to the welcome's slab_size
 * @free:	slabs the server could still grant after this one
 * @reserved:	zero
 */
struct rswap_grant {
	struct rswap_hdr hdr;
	__le32 slab;
	__le32 rkey;
	__le64 addr;
	__le64 size;
	__le32 free;
	__le32 reserved;
};

/* Slabs one GRANTS carries at most: what fits RSWAP_MSG_MAX. */
#define RSWAP_GRANTS_MAX	6

/**
 * struct rswap_grant_many - GRANT_MANY: several slabs in one round trip
 * @count:	slabs wanted, 1..RSWAP_GRANTS_MAX
 * @reserved:	zero
 */
struct rswap_grant_many {
	struct rswap_hdr hdr;
	__le32 count;
	__le32 reserved;
};

/**
 * struct rswap_grants - GRANTS: the answer to GRANT_MANY
 * @size:	bytes of each slab, equal to the welcome's slab_size
 * @free:	slabs the server could still grant after these
 * @count:	slabs granted, 1..the count asked (fewer when the server had
 *		fewer, or its quota for the client allowed fewer)
 * @reserved:	zero
 * @slab:	each as in struct rswap_grant, no slab twice; entries from
 *		@count on are zero
 */
struct rswap_grants {
	struct rswap_hdr hdr;
	__le64 size;
	__le32 free;
	__le16 count;
	__le16 reserved;
	struct {
		__le32 slab;
		__le32 rkey;
		__le64 addr;
	} slab[RSWAP_GRANTS_MAX];
};

/**
 * struct rswap_slab_msg - RETURN (client) and RETURNED (server)
 * @slab:	the slab
 * @reserved:	zero
 */
struct rswap_slab_msg {
	struct rswap_hdr hdr;
	__le32 slab;
	__le32 reserved;
};

/**
 * struct rswap_reattached - end of a REATTACH answer
 * @count:	GRANT messages sent before this one
 * @reserved:	zero
 */
struct rswap_reattached {
	struct rswap_hdr hdr;
	__le32 count;
	__le32 reserved;
};

/**
 * struct rswap_error - server refuses a request
 * @code:	enum rswap_err
 * @ref_type:	type of the refused message (0 if it could not be parsed)
 * @reserved:	zero
 * @text:	human-readable, NUL-terminated
 */
struct rswap_error {
	struct rswap_hdr hdr;
	__le32 code;
	__le16 ref_type;
	__le16 reserved;
	char text[RSWAP_TEXT_LEN];
};

/* Why a server asks for a slab to be moved (EVACUATE.reason). */
enum rswap_evac_reason {
	RSWAP_EVAC_DRAIN = 1,		/* the server is draining: it grants no more */
	RSWAP_EVAC_REBALANCE,		/* the pool is uneven: move it to an emptier server */
	RSWAP_EVAC_END
};

/**
 * struct rswap_evacuate - EVACUATE (server) and NOT_MOVED (client, and its echo)
 * @slab:	the server's slab number
 * @code:	EVACUATE: enum rswap_evac_reason; NOT_MOVED: enum rswap_err
 *		(RSWAP_ERR_NO_MEMORY: no other server has room)
 */
struct rswap_evacuate {
	struct rswap_hdr hdr;
	__le32 slab;
	__le32 code;
};

/**
 * struct rswap_migrate_map - slots @first .. @first + RSWAP_MAP_BITS - 1 of
 * @slab that hold pages (bit i of byte j: slot @first + 8j + i); answered
 * with the same message. Slots no map covers are not copied.
 * @slab:	the server's slab number
 * @first:	a multiple of RSWAP_MAP_BITS below the slab's slot count
 * @bits:	bit set: the slot holds a page
 */
struct rswap_migrate_map {
	struct rswap_hdr hdr;
	__le32 slab;
	__le32 first;
	__u8 bits[RSWAP_MAP_BITS / 8];
};

#define RSWAP_ADDR_IPV4		4
#define RSWAP_ADDR_IPV6		6

/**
 * struct rswap_migrate - copy the mapped slots of @slab into a slab the
 * client holds on another server, at the same slot numbers
 * @slab:	the server's slab number (MIGRATE_MAP sent for it)
 * @target_slab: the target's slab number: the copy attach names it, and
 *		the client must hold it on the target
 * @target_addr: remote address of the target slab (only compared: the
 *		source writes where the target's struct rswap_copy_accept says)
 * @target_rkey: its rkey on the client's connection to the target (not
 *		used: the copy has a region of its own there)
 * @family:	RSWAP_ADDR_IPV4 (first 4 bytes of @ip) or RSWAP_ADDR_IPV6
 * @port:	the target's RDMA port
 * @ip:		the target's RDMA address, network byte order
 * @token:	the attach token of the client's connection to the target
 */
struct rswap_migrate {
	struct rswap_hdr hdr;
	__le32 slab;
	__le32 target_slab;
	__le64 target_addr;
	__le32 target_rkey;
	__le16 family;
	__le16 port;
	__u8 ip[16];
	__u8 token[RSWAP_TOKEN_LEN];
};

/**
 * struct rswap_migrated - the copy is in place at the target
 * @slab:	the server's slab number
 * @pages:	pages copied
 */
struct rswap_migrated {
	struct rswap_hdr hdr;
	__le32 slab;
	__le32 pages;
};

/**
 * struct rswap_attach - rdma_cm private data of a queue pair joining a
 * connection (not a message: no header, never on SEND/RECV)
 * @magic:	RSWAP_ATTACH_MAGIC
 * @version:	RSWAP_WIRE_VERSION
 * @queue:	the client's queue number, for logs; RSWAP_QUEUE_MIGRATION for
 *		a server copying a slab in on the client's behalf
 * @token:	the WELCOME's token
 */
struct rswap_attach {
	__le32 magic;
	__le16 version;
	__le16 queue;
	__u8 token[RSWAP_TOKEN_LEN];
};

/**
 * struct rswap_copy_attach - rdma_cm private data of a server's queue pair
 * copying a slab in for MIGRATE (not a message: no header)
 * @magic:	RSWAP_COPY_ATTACH_MAGIC
 * @version:	RSWAP_WIRE_VERSION
 * @queue:	RSWAP_QUEUE_MIGRATION
 * @token:	the attach token of the client's connection to the target
 * @target_slab: the target's slab number, which that client must hold
 * @reserved:	zero
 * @nonce:	random, fresh per copy, chosen by the source: the accept's MAC
 *		covers it
 */
struct rswap_copy_attach {
	__le32 magic;
	__le16 version;
	__le16 queue;
	__u8 token[RSWAP_TOKEN_LEN];
	__le32 target_slab;
	__le32 reserved;
	__u8 nonce[RSWAP_COPY_NONCE_LEN];
};

/**
 * struct rswap_copy_accept - rdma_cm private data of the target's accept of
 * a struct rswap_copy_attach
 * @magic:	RSWAP_COPY_ACCEPT_MAGIC
 * @rkey:	rkey of the copy's own region: the target slab, remote WRITE
 *		only, valid on this queue pair alone
 * @addr:	remote address of the target slab's first byte
 * @size:	bytes of the region (the target's slab size)
 * @slab:	the target slab, as asked
 * @reserved:	zero
 * @mac:	HMAC-SHA256(pool key, rswap_copy_transcript(...))
 */
struct rswap_copy_accept {
	__le32 magic;
	__le32 rkey;
	__le64 addr;
	__le64 size;
	__le32 slab;
	__le32 reserved;
	__u8 mac[RSWAP_MAC_LEN];
};

_Static_assert(sizeof(struct rswap_hdr) == 16, "rswap_hdr layout");
_Static_assert(sizeof(struct rswap_hello) == 72, "rswap_hello layout");
_Static_assert(sizeof(struct rswap_challenge) == 64, "rswap_challenge layout");
_Static_assert(sizeof(struct rswap_auth) == 80, "rswap_auth layout");
_Static_assert(sizeof(struct rswap_welcome) == 88, "rswap_welcome layout");
_Static_assert(sizeof(struct rswap_request) == 16, "rswap_request layout");
_Static_assert(sizeof(struct rswap_grant) == 48, "rswap_grant layout");
_Static_assert(sizeof(struct rswap_grant_many) == 24, "rswap_grant_many layout");
_Static_assert(sizeof(struct rswap_grants) == 128, "rswap_grants layout");
_Static_assert(sizeof(struct rswap_grants) <= RSWAP_MSG_MAX, "rswap_grants fits a message");
_Static_assert(sizeof(struct rswap_slab_msg) == 24, "rswap_slab_msg layout");
_Static_assert(sizeof(struct rswap_reattached) == 24, "rswap_reattached layout");
_Static_assert(sizeof(struct rswap_error) == 72, "rswap_error layout");
_Static_assert(sizeof(struct rswap_attach) == 24, "rswap_attach layout");
_Static_assert(sizeof(struct rswap_evacuate) == 24, "rswap_evacuate layout");
_Static_assert(sizeof(struct rswap_migrate_map) == 88, "rswap_migrate_map layout");
_Static_assert(sizeof(struct rswap_migrate) == 72, "rswap_migrate layout");
_Static_assert(sizeof(struct rswap_migrated) == 24, "rswap_migrated layout");
_Static_assert(sizeof(struct rswap_copy_attach) == 48, "rswap_copy_attach layout");
_Static_assert(sizeof(struct rswap_copy_attach) <= RSWAP_CM_REQ_PDATA_MAX,
	       "rswap_copy_attach fits a CM REQ");
_Static_assert(offsetof(struct rswap_copy_attach, nonce) == 32, "rswap_copy_attach layout");
_Static_assert(sizeof(struct rswap_copy_accept) == 64, "rswap_copy_accept layout");
_Static_assert(sizeof(struct rswap_copy_accept) <= RSWAP_CM_REP_PDATA_MAX,
	       "rswap_copy_accept fits a CM REP");
_Static_assert(offsetof(struct rswap_copy_accept, mac) == 32, "rswap_copy_accept layout");

/* Size of a message of @type, or 0 for an unknown type. */
static inline size_t rswap_msg_size(unsigned int type)
{
	switch (type) {
	case RSWAP_MSG_HELLO:
		return sizeof(struct rswap_hello);
	case RSWAP_MSG_CHALLENGE:
		return sizeof(struct rswap_challenge);
	case RSWAP_MSG_AUTH:
		return sizeof(struct rswap_auth);
	case RSWAP_MSG_WELCOME:
		return sizeof(struct rswap_welcome);
	case RSWAP_MSG_GRANT_REQ:
	case RSWAP_MSG_REATTACH:
	case RSWAP_MSG_KEEPALIVE:
	case RSWAP_MSG_KEEPALIVE_ACK:
		return sizeof(struct rswap_request);
	case RSWAP_MSG_GRANT:
		return sizeof(struct rswap_grant);
	case RSWAP_MSG_GRANT_MANY:
		return sizeof(struct rswap_grant_many);
	case RSWAP_MSG_GRANTS:
		return sizeof(struct rswap_grants);
	case RSWAP_MSG_RETURN:
	case RSWAP_MSG_RETURNED:
		return sizeof(struct rswap_slab_msg);
	case RSWAP_MSG_REATTACHED:
		return sizeof(struct rswap_reattached);
	case RSWAP_MSG_ERROR:
		return sizeof(struct rswap_error);
	case RSWAP_MSG_EVACUATE:
	case RSWAP_MSG_NOT_MOVED:
		return sizeof(struct rswap_evacuate);
	case RSWAP_MSG_MIGRATE_MAP:
		return sizeof(struct rswap_migrate_map);
	case RSWAP_MSG_MIGRATE:
		return sizeof(struct rswap_migrate);
	case RSWAP_MSG_MIGRATED:
		return sizeof(struct rswap_migrated);
	default:
		return 0;
	}
}

static inline int rswap_str_terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

/*
 * rswap_msg_check - validate @len received bytes at @buf before any use.
 * Returns the message type (> 0), or a negated enum rswap_err:
 * -RSWAP_ERR_VERSION for a good header of another version, else
 * -RSWAP_ERR_MALFORMED. Checks the header (magic, version, known type,
 * length equal to both @len and the type's size), that flags, reserved
 * fields and strings are as the type defines, and per-type constants
 * (page size, slab size). Ids (slab numbers) are the caller's to check.
 */
static inline int rswap_msg_check(const void *buf, size_t len)
{
	const struct rswap_hdr *h = (const struct rswap_hdr *)buf;
	unsigned int type, flags;
	size_t size;

	if (!buf || len < sizeof(*h) || len > RSWAP_MSG_MAX)
		return -RSWAP_ERR_MALFORMED;
	if (rswap_le32(h->magic) != RSWAP_WIRE_MAGIC)
		return -RSWAP_ERR_MALFORMED;
	if (rswap_le16(h->version) != RSWAP_WIRE_VERSION)
		return -RSWAP_ERR_VERSION;
	type = rswap_le16(h->type);
	flags = rswap_le16(h->flags);
	size = rswap_msg_size(type);
	if (!size || (size_t)rswap_le16(h->length) != size || len != size)
		return -RSWAP_ERR_MALFORMED;
	if (flags && !(type == RSWAP_MSG_GRANT && flags == RSWAP_GRANT_REATTACHED))
		return -RSWAP_ERR_MALFORMED;

	switch (type) {
	case RSWAP_MSG_HELLO: {
		const struct rswap_hello *m = (const struct rswap_hello *)buf;

		if (rswap_le32(m->page_size) != RSWAP_PAGE_SIZE ||
		    (rswap_le32(m->flags) & ~(__u32)RSWAP_HELLO_FLAGS_KNOWN) ||
		    !rswap_str_terminated(m->name, sizeof(m->name)))
			return -RSWAP_ERR_MALFORMED;
		break;
	}
	case RSWAP_MSG_WELCOME: {
		const struct rswap_welcome *m = (const struct rswap_welcome *)buf;
		__u64 slab = rswap_le64(m->slab_size);

		if (!slab || slab % RSWAP_PAGE_SIZE)
			return -RSWAP_ERR_MALFORMED;
		break;
	}
	case RSWAP_MSG_GRANT: {
		const struct rswap_grant *m = (const struct rswap_grant *)buf;
		__u64 size = rswap_le64(m->size), addr = rswap_le64(m->addr);

		if (!size || size % RSWAP_PAGE_SIZE || addr + size < addr || m->reserved)
			return -RSWAP_ERR_MALFORMED;
		break;
	}
	case RSWAP_MSG_GRANT_MANY: {
		const struct rswap_grant_many *m = (const struct rswap_grant_many *)buf;
		__u32 count = rswap_le32(m->count);

		if (!count || count > RSWAP_GRANTS_MAX || m->reserved)
			return -RSWAP_ERR_MALFORMED;
		break;
	}
	case RSWAP_MSG_GRANTS: {
		const struct rswap_grants *m = (const struct rswap_grants *)buf;
		__u64 size = rswap_le64(m->size);
		__u16 count = rswap_le16(m->count);
		size_t i;

		if (!size || size % RSWAP_PAGE_SIZE || !count || count > RSWAP_GRANTS_MAX ||
		    m->reserved)
			return -RSWAP_ERR_MALFORMED;
		for (i = 0; i < RSWAP_GRANTS_MAX; i++) {
			__u64 addr = rswap_le64(m->slab[i].addr);
			size_t j;

			if (i < count ? addr + size < addr :
			    m->slab[i].slab || m->slab[i].rkey || m->slab[i].addr)
				return -RSWAP_ERR_MALFORMED;
			/* one slab named twice would be two slabs to the client */
			for (j = 0; i < count && j < i; j++)
				if (m->slab[j].slab == m->slab[i].slab)
					return -RSWAP_ERR_MALFORMED;
		}
		break;
	}
	case RSWAP_MSG_RETURN:
	case RSWAP_MSG_RETURNED: {
		const struct rswap_slab_msg *m = (const struct rswap_slab_msg *)buf;

		if (m->reserved)
			return -RSWAP_ERR_MALFORMED;
		break;
	}
	case RSWAP_MSG_REATTACHED: {
		const struct rswap_reattached *m = (const struct rswap_reattached *)buf;

		if (m->reserved)
			return -RSWAP_ERR_MALFORMED;
		break;
	}
	case RSWAP_MSG_ERROR: {
		const struct rswap_error *m = (const struct rswap_error *)buf;
		__u32 code = rswap_le32(m->code);

		if (!code || code >= RSWAP_ERR_END || m->reserved ||
		    !rswap_str_terminated(m->text, sizeof(m->text)))
			return -RSWAP_ERR_MALFORMED;
		break;
	}
	case RSWAP_MSG_EVACUATE: {
		const struct rswap_evacuate *m = (const struct rswap_evacuate *)buf;
		__u32 code = rswap_le32(m->code);

		if (!code || code >= RSWAP_EVAC_END)
			return -RSWAP_ERR_MALFORMED;
		break;
	}
	case RSWAP_MSG_NOT_MOVED: {
		const struct rswap_evacuate *m = (const struct rswap_evacuate *)buf;
		__u32 code = rswap_le32(m->code);

		if (!code || code >= RSWAP_ERR_END)
			return -RSWAP_ERR_MALFORMED;
		break;
	}
	case RSWAP_MSG_MIGRATE_MAP: {
		const struct rswap_migrate_map *m = (const struct rswap_migrate_map *)buf;

		if (rswap_le32(m->first) % RSWAP_MAP_BITS)
			return -RSWAP_ERR_MALFORMED;
		break;
	}
	case RSWAP_MSG_MIGRATE: {
		const struct rswap_migrate *m = (const struct rswap_migrate *)buf;
		__u16 family = rswap_le16(m->family);
		__u64 addr = rswap_le64(m->target_addr);
		size_t i;

		if ((family != RSWAP_ADDR_IPV4 && family != RSWAP_ADDR_IPV6) ||
		    !rswap_le16(m->port) || addr % RSWAP_PAGE_SIZE)
			return -RSWAP_ERR_MALFORMED;
		for (i = 4; family == RSWAP_ADDR_IPV4 && i < sizeof(m->ip); i++)
			if (m->ip[i])
				return -RSWAP_ERR_MALFORMED;
		break;
	}
	default:
		break;
	}
	return (int)type;
}

/*
 * rswap_attach_check - is the rdma_cm private data at @buf (@len bytes,
 * possibly padded by the CM) an attach request? Returns 1, 0 for a plain
 * connection (no attach magic), or -RSWAP_ERR_VERSION.
 */
static inline int rswap_attach_check(const void *buf, size_t len)
{
	const struct rswap_attach *a = (const struct rswap_attach *)buf;

	if (!buf || len < sizeof(*a) || rswap_le32(a->magic) != RSWAP_ATTACH_MAGIC)
		return 0;
	if (rswap_le16(a->version) != RSWAP_WIRE_VERSION)
		return -RSWAP_ERR_VERSION;
	return 1;
}

/*
 * rswap_copy_attach_check - is the rdma_cm private data at @buf (@len bytes,
 * possibly padded by the CM) a copy attach? 1, 0 when it has not the copy
 * attach magic, -RSWAP_ERR_VERSION for another version, -RSWAP_ERR_MALFORMED
 * for a wrong queue or reserved field.
 */
static inline int rswap_copy_attach_check(const void *buf, size_t len)
{
	const struct rswap_copy_attach *a = (const struct rswap_copy_attach *)buf;

	if (!buf || len < sizeof(*a) || rswap_le32(a->magic) != RSWAP_COPY_ATTACH_MAGIC)
		return 0;
	if (rswap_le16(a->version) != RSWAP_WIRE_VERSION)
		return -RSWAP_ERR_VERSION;
	if (rswap_le16(a->queue) != RSWAP_QUEUE_MIGRATION || a->reserved)
		return -RSWAP_ERR_MALFORMED;
	return 1;
}

/*
 * What the MAC of struct rswap_copy_accept covers: the label (no NUL), the
 * source's nonce, the token, then the slab (le32), the address (le64), the
 * rkey (le32) and the size (le64) the accept states.
 */
#define RSWAP_COPY_ACCEPT_LABEL	"rswap-copy-accept"
#define RSWAP_COPY_LABEL_LEN	17
#define RSWAP_COPY_TRANSCRIPT_LEN (RSWAP_COPY_LABEL_LEN + RSWAP_COPY_NONCE_LEN + \
				   RSWAP_TOKEN_LEN + 4 + 8 + 4 + 8)

static inline size_t rswap_copy_transcript(__u8 out[RSWAP_COPY_TRANSCRIPT_LEN],
					   const __u8 *nonce, const __u8 *token, __u32 slab,
					   __u64 addr, __u32 rkey, __u64 size)
{
	__le32 slab_le = rswap_cpu32(slab), rkey_le = rswap_cpu32(rkey);
	__le64 addr_le = rswap_cpu64(addr), size_le = rswap_cpu64(size);
	__u8 *p = out;

	memcpy(p, RSWAP_COPY_ACCEPT_LABEL, RSWAP_COPY_LABEL_LEN);
	p += RSWAP_COPY_LABEL_LEN;
	memcpy(p, nonce, RSWAP_COPY_NONCE_LEN);
	p += RSWAP_COPY_NONCE_LEN;
	memcpy(p, token, RSWAP_TOKEN_LEN);
	p += RSWAP_TOKEN_LEN;
	memcpy(p, &slab_le, sizeof(slab_le));
	p += sizeof(slab_le);
	memcpy(p, &addr_le, sizeof(addr_le));
	p += sizeof(addr_le);
	memcpy(p, &rkey_le, sizeof(rkey_le));
	p += sizeof(rkey_le);
	memcpy(p, &size_le, sizeof(size_le));
	p += sizeof(size_le);
	return (size_t)(p - out);
}

/* Fill the header of a message of @type; the body is the caller's. */
static inline void rswap_hdr_init(struct rswap_hdr *h, unsigned int type, __u32 seq)
{
	h->magic = rswap_cpu32(RSWAP_WIRE_MAGIC);
	h->version = rswap_cpu16(RSWAP_WIRE_VERSION);
	h->type = rswap_cpu16((__u16)type);
	h->length = rswap_cpu16((__u16)rswap_msg_size(type));
	h->flags = 0;
	h->seq = rswap_cpu32(seq);
}

/*
 * The handshake's transcript: what both MACs cover. @label is
 * "rswap-auth-client" or "rswap-auth-server" (RSWAP_AUTH_LABEL_LEN bytes,
 * no NUL); then the nonces in the label's order, the client id, the server
 * id and the binding.
 */
#define RSWAP_CLIENT_KEY_LABEL	"rswap-client-key"
/* Longest client id text (client_id=): printable ASCII, no spaces. */
#define RSWAP_CLIENT_ID_MAX	128
#define RSWAP_CLIENT_KEY_HEX	64	/* bytes of Kc: hex of an HMAC-SHA256 */
#define RSWAP_AUTH_LABEL_LEN	17
#define RSWAP_AUTH_CLIENT_LABEL	"rswap-auth-client"
#define RSWAP_AUTH_SERVER_LABEL	"rswap-auth-server"

/**
 * struct rswap_auth_binding - the peers of one handshake, as both sides see
 * them on the connection (no NAT between RDMA peers)
 * @client_addr: the client's IP address; IPv4 as ::ffff:a.b.c.d
 * @server_addr: the server's IP address (the one the client dialled)
 * @server_port: the server's port, network byte order
 */
struct rswap_auth_binding {
	__u8 client_addr[16];
	__u8 server_addr[16];
	__u8 server_port[2];
};

#define RSWAP_AUTH_TRANSCRIPT_LEN (RSWAP_AUTH_LABEL_LEN + 2 * RSWAP_NONCE_LEN + \
				   2 * RSWAP_ID_LEN + sizeof(struct rswap_auth_binding))

static inline size_t rswap_auth_transcript(__u8 out[RSWAP_AUTH_TRANSCRIPT_LEN],
					   const char *label, const __u8 *first_nonce,
					   const __u8 *second_nonce, const __u8 *client_id,
					   const __u8 *server_id,
					   const struct rswap_auth_binding *b)
{
	__u8 *p = out;

	memcpy(p, label, RSWAP_AUTH_LABEL_LEN);
	p += RSWAP_AUTH_LABEL_LEN;
	memcpy(p, first_nonce, RSWAP_NONCE_LEN);
	p += RSWAP_NONCE_LEN;
	memcpy(p, second_nonce, RSWAP_NONCE_LEN);
	p += RSWAP_NONCE_LEN;
	memcpy(p, client_id, RSWAP_ID_LEN);
	p += RSWAP_ID_LEN;
	memcpy(p, server_id, RSWAP_ID_LEN);
	p += RSWAP_ID_LEN;
	memcpy(p, b->client_addr, sizeof(b->client_addr));
	p += sizeof(b->client_addr);
	memcpy(p, b->server_addr, sizeof(b->server_addr));
	p += sizeof(b->server_addr);
	memcpy(p, b->server_port, sizeof(b->server_port));
	p += sizeof(b->server_port);
	return (size_t)(p - out);
}

/*
 * One endpoint of a binding from a socket address: @addr gets the IP
 * address (IPv4 mapped into IPv6), @port, when not NULL, the port in network
 * order. 0, or -1 for a family other than AF_INET and AF_INET6.
 */
static inline int rswap_auth_endpoint(const struct sockaddr *sa, __u8 addr[16], __u8 *port)
{
	const __u8 *p;

	memset(addr, 0, 16);
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		addr[10] = 0xff;
		addr[11] = 0xff;
		memcpy(addr + 12, &in->sin_addr.s_addr, 4);
		p = (const __u8 *)&in->sin_port;
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		memcpy(addr, in6->sin6_addr.s6_addr, 16);
		p = (const __u8 *)&in6->sin6_port;
	} else {
		return -1;
	}
	if (port)
		memcpy(port, p, 2);
	return 0;
}

#endif /* RSWAP_WIRE_H */
