// SPDX-License-Identifier: GPL-2.0
/*
 * Description: proto/rswap_wire.h message validation. Every well-formed
 * message of every type passes with its type; each way a message can be
 * malformed (magic, version, type, length, truncation, flags, reserved
 * fields, unterminated strings, bad sizes) is refused with the right code;
 * and every single-byte corruption of every valid message is either still
 * valid or refused, never read past its end (run under ASan). KEEPALIVE
 * and KEEPALIVE_ACK are a bare header: any body, flag or other length is
 * malformed. GRANT_MANY asks for 1..RSWAP_GRANTS_MAX slabs; GRANTS names
 * 1..RSWAP_GRANTS_MAX of a valid size, none wrapping the address space,
 * and its unused entries are zero. The copy attach and accept of MIGRATE have their layout, fit
 * the CM's private data, and a copy attach is recognized and checked apart
 * from a plain attach; the copy accept's transcript is laid out as
 * documented.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rswap_wire.h"

static union {
	struct rswap_hdr hdr;
	struct rswap_hello hello;
	struct rswap_challenge challenge;
	struct rswap_auth auth;
	struct rswap_welcome welcome;
	struct rswap_request request;
	struct rswap_grant grant;
	struct rswap_grant_many grant_many;
	struct rswap_grants grants;
	struct rswap_slab_msg slab;
	struct rswap_reattached reattached;
	struct rswap_error error;
	struct rswap_evacuate evacuate;
	struct rswap_migrate_map map;
	struct rswap_migrate migrate;
	struct rswap_migrated migrated;
	unsigned char bytes[RSWAP_MSG_MAX];
} m;

/* Build a valid message of @type in m; returns its size. */
static size_t build(unsigned int type)
{
	memset(&m, 0, sizeof(m));
	rswap_hdr_init(&m.hdr, type, 7);
	switch (type) {
	case RSWAP_MSG_HELLO:
		m.hello.page_size = rswap_cpu32(RSWAP_PAGE_SIZE);
		strcpy(m.hello.name, "client-1");
		memset(m.hello.id, 0xab, sizeof(m.hello.id));
		break;
	case RSWAP_MSG_WELCOME:
		m.welcome.slab_size = rswap_cpu64(1 << 20);
		m.welcome.quota = rswap_cpu32(16);
		break;
	case RSWAP_MSG_GRANT:
		m.grant.slab = rswap_cpu32(3);
		m.grant.addr = rswap_cpu64(0x7f0000000000ull);
		m.grant.size = rswap_cpu64(1 << 20);
		m.grant.rkey = rswap_cpu32(0x1234);
		break;
	case RSWAP_MSG_GRANT_MANY:
		m.grant_many.count = rswap_cpu32(3);
		break;
	case RSWAP_MSG_GRANTS:
		m.grants.size = rswap_cpu64(1 << 20);
		m.grants.free = rswap_cpu32(10);
		m.grants.count = rswap_cpu16(2);
		m.grants.slab[0].slab = rswap_cpu32(3);
		m.grants.slab[0].rkey = rswap_cpu32(0x1234);
		m.grants.slab[1].slab = rswap_cpu32(4);
		m.grants.slab[1].rkey = rswap_cpu32(0x1235);
		m.grants.slab[1].addr = rswap_cpu64(0x7f0000000000ull);
		break;
	case RSWAP_MSG_ERROR:
		m.error.code = rswap_cpu32(RSWAP_ERR_QUOTA);
		m.error.ref_type = rswap_cpu16(RSWAP_MSG_GRANT_REQ);
		strcpy(m.error.text, "quota of 16 slabs reached");
		break;
	case RSWAP_MSG_EVACUATE:
		m.evacuate.slab = rswap_cpu32(5);
		m.evacuate.code = rswap_cpu32(RSWAP_EVAC_DRAIN);
		break;
	case RSWAP_MSG_NOT_MOVED:
		m.evacuate.slab = rswap_cpu32(5);
		m.evacuate.code = rswap_cpu32(RSWAP_ERR_NO_MEMORY);
		break;
	case RSWAP_MSG_MIGRATE_MAP:
		m.map.slab = rswap_cpu32(5);
		m.map.first = rswap_cpu32(RSWAP_MAP_BITS);
		m.map.bits[0] = 0x81;
		break;
	case RSWAP_MSG_MIGRATE:
		m.migrate.slab = rswap_cpu32(5);
		m.migrate.target_slab = rswap_cpu32(9);
		m.migrate.target_addr = rswap_cpu64(0x7f0000100000ull);
		m.migrate.target_rkey = rswap_cpu32(0x4321);
		m.migrate.family = rswap_cpu16(RSWAP_ADDR_IPV4);
		m.migrate.port = rswap_cpu16(7471);
		m.migrate.ip[0] = 10;
		m.migrate.ip[3] = 2;
		memset(m.migrate.token, 0x5a, sizeof(m.migrate.token));
		break;
	case RSWAP_MSG_MIGRATED:
		m.migrated.slab = rswap_cpu32(5);
		m.migrated.pages = rswap_cpu32(200);
		break;
	default:
		break;
	}
	return rswap_msg_size(type);
}

static void valid_messages_pass(void **state)
{
	unsigned int type;

	(void)state;
	for (type = 1; type < RSWAP_MSG_TYPE_END; type++) {
		size_t len = build(type);

		assert_true(len >= sizeof(struct rswap_hdr));
		assert_int_equal(rswap_msg_check(&m, len), (int)type);
		assert_int_equal(rswap_le32(m.hdr.seq), 7);
	}
	build(RSWAP_MSG_GRANT);
	m.hdr.flags = rswap_cpu16(RSWAP_GRANT_REATTACHED);
	assert_int_equal(rswap_msg_check(&m, sizeof(m.grant)), RSWAP_MSG_GRANT);
}

static void grant_many_and_grants_checked(void **state)
{
	size_t len;

	(void)state;
	len = build(RSWAP_MSG_GRANT_MANY);
	assert_int_equal(len, 24);
	m.grant_many.count = 0;
	assert_int_equal(rswap_msg_check(&m, len), -RSWAP_ERR_MALFORMED);
	m.grant_many.count = rswap_cpu32(RSWAP_GRANTS_MAX);
	assert_int_equal(rswap_msg_check(&m, len), RSWAP_MSG_GRANT_MANY);
	m.grant_many.count = rswap_cpu32(RSWAP_GRANTS_MAX + 1);
	assert_int_equal(rswap_msg_check(&m, len), -RSWAP_ERR_MALFORMED);
	m.grant_many.count = rswap_cpu32(1);
	m.grant_many.reserved = rswap_cpu32(1);
	assert_int_equal(rswap_msg_check(&m, len), -RSWAP_ERR_MALFORMED);
	/* a bare GRANT_REQ's length for GRANT_MANY: malformed */
	len = build(RSWAP_MSG_GRANT_MANY);
	m.hdr.length = rswap_cpu16(sizeof(struct rswap_request));
	assert_int_equal(rswap_msg_check(&m, sizeof(struct rswap_request)), -RSWAP_ERR_MALFORMED);

	len = build(RSWAP_MSG_GRANTS);
	assert_int_equal(len, RSWAP_MSG_MAX);
	assert_int_equal(rswap_msg_check(&m, len), RSWAP_MSG_GRANTS);
	m.grants.count = 0;
	assert_int_equal(rswap_msg_check(&m, len), -RSWAP_ERR_MALFORMED);
	m.grants.count = rswap_cpu16(RSWAP_GRANTS_MAX + 1);
	assert_int_equal(rswap_msg_check(&m, len), -RSWAP_ERR_MALFORMED);
	/* an entry past count must be zero: the client reads count of them only */
	len = build(RSWAP_MSG_GRANTS);
	m.grants.slab[2].rkey = rswap_cpu32(9);
	assert_int_equal(rswap_msg_check(&m, len), -RSWAP_ERR_MALFORMED);
	len = build(RSWAP_MSG_GRANTS);
	m.grants.slab[RSWAP_GRANTS_MAX - 1].addr = rswap_cpu64(4096);
	assert_int_equal(rswap_msg_check(&m, len), -RSWAP_ERR_MALFORMED);
	m.grants.count = rswap_cpu16(RSWAP_GRANTS_MAX);
	for (unsigned int i = 2; i < RSWAP_GRANTS_MAX; i++)
		m.grants.slab[i].slab = rswap_cpu32(20 + i);
	assert_int_equal(rswap_msg_check(&m, len), RSWAP_MSG_GRANTS);
	/* one slab twice: refused, however far apart */
	len = build(RSWAP_MSG_GRANTS);
	m.grants.slab[1].slab = m.grants.slab[0].slab;
	assert_int_equal(rswap_msg_check(&m, len), -RSWAP_ERR_MALFORMED);
	len = build(RSWAP_MSG_GRANTS);
	m.grants.count = rswap_cpu16(RSWAP_GRANTS_MAX);
	for (unsigned int i = 2; i < RSWAP_GRANTS_MAX; i++)
		m.grants.slab[i].slab = rswap_cpu32(10 + i);
	assert_int_equal(rswap_msg_check(&m, len), RSWAP_MSG_GRANTS);
	m.grants.slab[RSWAP_GRANTS_MAX - 1].slab = m.grants.slab[0].slab;
	assert_int_equal(rswap_msg_check(&m, len), -RSWAP_ERR_MALFORMED);
	/* a slab that wraps the address space, a size not of whole pages, none */
	len = build(RSWAP_MSG_GRANTS);
	m.grants.slab[1].addr = rswap_cpu64(UINT64_MAX - 4095);
	assert_int_equal(rswap_msg_check(&m, len), -RSWAP_ERR_MALFORMED);
	len = build(RSWAP_MSG_GRANTS);
	m.grants.size = rswap_cpu64((1 << 20) + 512);
	assert_int_equal(rswap_msg_check(&m, len), -RSWAP_ERR_MALFORMED);
	m.grants.size = 0;
	assert_int_equal(rswap_msg_check(&m, len), -RSWAP_ERR_MALFORMED);
	len = build(RSWAP_MSG_GRANTS);
	m.grants.reserved = rswap_cpu16(1);
	assert_int_equal(rswap_msg_check(&m, len), -RSWAP_ERR_MALFORMED);
}

static void header_errors_are_refused(void **state)
{
	size_t len;

	(void)state;
	assert_int_equal(rswap_msg_check(NULL, 16), -RSWAP_ERR_MALFORMED);

	len = build(RSWAP_MSG_HELLO);
	m.hdr.magic ^= 1;
	assert_int_equal(rswap_msg_check(&m, len), -RSWAP_ERR_MALFORMED);

	len = build(RSWAP_MSG_HELLO);
	m.hdr.version = rswap_cpu16(RSWAP_WIRE_VERSION + 1);
	assert_int_equal(rswap_msg_check(&m, len), -RSWAP_ERR_VERSION);

	len = build(RSWAP_MSG_HELLO);
	m.hdr.type = 0;
	assert_int_equal(rswap_msg_check(&m, len), -RSWAP_ERR_MALFORMED);
	m.hdr.type = rswap_cpu16(RSWAP_MSG_TYPE_END);
	assert_int_equal(rswap_msg_check(&m, len), -RSWAP_ERR_MALFORMED);

	/* header length disagrees with the bytes received */
	len = build(RSWAP_MSG_GRANT);
	assert_int_equal(rswap_msg_check(&m, len + 1), -RSWAP_ERR_MALFORMED);
	m.hdr.length = rswap_cpu16(len + 8);
	assert_int_equal(rswap_msg_check(&m, len + 8), -RSWAP_ERR_MALFORMED);
	assert_int_equal(rswap_msg_check(&m, RSWAP_MSG_MAX + 1), -RSWAP_ERR_MALFORMED);

	/* a type of one size claiming another's: GRANT_REQ sized as a GRANT */
	len = build(RSWAP_MSG_GRANT);
	m.hdr.type = rswap_cpu16(RSWAP_MSG_GRANT_REQ);
	assert_int_equal(rswap_msg_check(&m, len), -RSWAP_ERR_MALFORMED);

	/* flags only where defined */
	len = build(RSWAP_MSG_RETURN);
	m.hdr.flags = rswap_cpu16(RSWAP_GRANT_REATTACHED);
	assert_int_equal(rswap_msg_check(&m, len), -RSWAP_ERR_MALFORMED);
	len = build(RSWAP_MSG_GRANT);
	m.hdr.flags = rswap_cpu16(0x2);
	assert_int_equal(rswap_msg_check(&m, len), -RSWAP_ERR_MALFORMED);
}

static void truncated_messages_are_refused(void **state)
{
	unsigned int type;
	size_t len, cut;

	(void)state;
	for (type = 1; type < RSWAP_MSG_TYPE_END; type++) {
		len = build(type);
		for (cut = 0; cut < len; cut++)
			assert_int_equal(rswap_msg_check(&m, cut), -RSWAP_ERR_MALFORMED);
	}
}

static void body_errors_are_refused(void **state)
{
	size_t len;

	(void)state;
	len = build(RSWAP_MSG_HELLO);
	m.hello.page_size = rswap_cpu32(8192);
	assert_int_equal(rswap_msg_check(&m, len), -RSWAP_ERR_MALFORMED);
	len = build(RSWAP_MSG_HELLO);
	memset(m.hello.name, 'x', sizeof(m.hello.name));
	assert_int_equal(rswap_msg_check(&m, len), -RSWAP_ERR_MALFORMED);
	len = build(RSWAP_MSG_HELLO);
	m.hello.flags = rswap_cpu32(RSWAP_HELLO_FLAGS_KNOWN + 1);	/* an unknown bit */
	assert_int_equal(rswap_msg_check(&m, len), -RSWAP_ERR_MALFORMED);
	len = build(RSWAP_MSG_HELLO);
	m.hello.flags = rswap_cpu32(RSWAP_HELLO_FRESH | RSWAP_HELLO_KEEPALIVE);
	assert_int_equal(rswap_msg_check(&m, len), RSWAP_MSG_HELLO);

	len = build(RSWAP_MSG_WELCOME);
	m.welcome.slab_size = rswap_cpu64(4096 + 1);
	assert_int_equal(rswap_msg_check(&m, len), -RSWAP_ERR_MALFORMED);
	m.welcome.slab_size = 0;
	assert_int_equal(rswap_msg_check(&m, len), -RSWAP_ERR_MALFORMED);
	len = build(RSWAP_MSG_WELCOME);
	m.welcome.free = rswap_cpu32(7);	/* any count is fine */
	m.welcome.max_attach = rswap_cpu32(64);
	memset(m.welcome.token, 0xa5, sizeof(m.welcome.token));
	assert_int_equal(rswap_msg_check(&m, len), RSWAP_MSG_WELCOME);

	len = build(RSWAP_MSG_GRANT);
	m.grant.size = rswap_cpu64(100);
	assert_int_equal(rswap_msg_check(&m, len), -RSWAP_ERR_MALFORMED);
	len = build(RSWAP_MSG_GRANT);
	m.grant.addr = rswap_cpu64(UINT64_MAX - 4095);
	assert_int_equal(rswap_msg_check(&m, len), -RSWAP_ERR_MALFORMED);
	len = build(RSWAP_MSG_GRANT);
	m.grant.free = rswap_cpu32(3);
	assert_int_equal(rswap_msg_check(&m, len), RSWAP_MSG_GRANT);
	m.grant.reserved = rswap_cpu32(2);
	assert_int_equal(rswap_msg_check(&m, len), -RSWAP_ERR_MALFORMED);

	len = build(RSWAP_MSG_RETURN);
	m.slab.reserved = rswap_cpu32(1);
	assert_int_equal(rswap_msg_check(&m, len), -RSWAP_ERR_MALFORMED);

	len = build(RSWAP_MSG_REATTACHED);
	m.reattached.reserved = rswap_cpu32(9);
	assert_int_equal(rswap_msg_check(&m, len), -RSWAP_ERR_MALFORMED);

	len = build(RSWAP_MSG_ERROR);
	m.error.code = 0;
	assert_int_equal(rswap_msg_check(&m, len), -RSWAP_ERR_MALFORMED);
	m.error.code = rswap_cpu32(RSWAP_ERR_END);
	assert_int_equal(rswap_msg_check(&m, len), -RSWAP_ERR_MALFORMED);
	len = build(RSWAP_MSG_ERROR);
	memset(m.error.text, 'y', sizeof(m.error.text));
	assert_int_equal(rswap_msg_check(&m, len), -RSWAP_ERR_MALFORMED);

	/* moving slabs */
	len = build(RSWAP_MSG_EVACUATE);
	m.evacuate.code = 0;
	assert_int_equal(rswap_msg_check(&m, len), -RSWAP_ERR_MALFORMED);
	m.evacuate.code = rswap_cpu32(RSWAP_EVAC_END);
	assert_int_equal(rswap_msg_check(&m, len), -RSWAP_ERR_MALFORMED);
	len = build(RSWAP_MSG_NOT_MOVED);
	m.evacuate.code = rswap_cpu32(RSWAP_ERR_END);
	assert_int_equal(rswap_msg_check(&m, len), -RSWAP_ERR_MALFORMED);
	len = build(RSWAP_MSG_MIGRATE_MAP);
	m.map.first = rswap_cpu32(RSWAP_MAP_BITS + 8);
	assert_int_equal(rswap_msg_check(&m, len), -RSWAP_ERR_MALFORMED);
	len = build(RSWAP_MSG_MIGRATE);
	m.migrate.family = rswap_cpu16(2);	/* AF_INET's value is not the wire's */
	assert_int_equal(rswap_msg_check(&m, len), -RSWAP_ERR_MALFORMED);
	len = build(RSWAP_MSG_MIGRATE);
	m.migrate.port = 0;
	assert_int_equal(rswap_msg_check(&m, len), -RSWAP_ERR_MALFORMED);
	len = build(RSWAP_MSG_MIGRATE);
	m.migrate.target_addr = rswap_cpu64(0x7f0000100008ull);
	assert_int_equal(rswap_msg_check(&m, len), -RSWAP_ERR_MALFORMED);
	len = build(RSWAP_MSG_MIGRATE);
	m.migrate.ip[8] = 1;	/* junk after an IPv4 address */
	assert_int_equal(rswap_msg_check(&m, len), -RSWAP_ERR_MALFORMED);
	m.migrate.family = rswap_cpu16(RSWAP_ADDR_IPV6);
	assert_int_equal(rswap_msg_check(&m, len), RSWAP_MSG_MIGRATE);
}

/* The CM pads private data: an attach request is recognized in any length
 * that holds it, a plain connection's zeros are not one, and another
 * version is refused. */
static void keepalive_is_header_only(void **state)
{
	static const unsigned int types[] = { RSWAP_MSG_KEEPALIVE, RSWAP_MSG_KEEPALIVE_ACK };
	size_t i, len;

	(void)state;
	for (i = 0; i < 2; i++) {
		len = build(types[i]);
		assert_int_equal(len, sizeof(struct rswap_hdr));
		assert_int_equal(rswap_msg_check(&m, len), (int)types[i]);
		/* the answer echoes seq: the header carries it as any other */
		assert_int_equal(rswap_le32(m.hdr.seq), 7);
		m.hdr.flags = rswap_cpu16(1);
		assert_int_equal(rswap_msg_check(&m, len), -RSWAP_ERR_MALFORMED);
		/* a body, said or not said in the length */
		build(types[i]);
		assert_int_equal(rswap_msg_check(&m, len + 8), -RSWAP_ERR_MALFORMED);
		m.hdr.length = rswap_cpu16((uint16_t)(len + 8));
		assert_int_equal(rswap_msg_check(&m, len + 8), -RSWAP_ERR_MALFORMED);
		build(types[i]);
		m.hdr.length = rswap_cpu16((uint16_t)(len - 1));
		assert_int_equal(rswap_msg_check(&m, len), -RSWAP_ERR_MALFORMED);
		assert_int_equal(rswap_msg_check(&m, len - 1), -RSWAP_ERR_MALFORMED);
	}
	/* the type after them is unknown */
	build(RSWAP_MSG_KEEPALIVE);
	m.hdr.type = rswap_cpu16(RSWAP_MSG_TYPE_END);
	assert_int_equal(rswap_msg_check(&m, sizeof(struct rswap_hdr)), -RSWAP_ERR_MALFORMED);
}

static void attach_private_data(void **state)
{
	uint8_t buf[56];
	struct rswap_attach a = {
		.magic = rswap_cpu32(RSWAP_ATTACH_MAGIC),
		.version = rswap_cpu16(RSWAP_WIRE_VERSION),
		.queue = rswap_cpu16(3),
	};

	(void)state;
	memset(buf, 0, sizeof(buf));
	assert_int_equal(rswap_attach_check(buf, sizeof(buf)), 0);
	assert_int_equal(rswap_attach_check(NULL, 0), 0);
	memcpy(buf, &a, sizeof(a));
	assert_int_equal(rswap_attach_check(buf, sizeof(buf)), 1);
	assert_int_equal(rswap_attach_check(buf, sizeof(a)), 1);
	assert_int_equal(rswap_attach_check(buf, sizeof(a) - 1), 0);
	a.version = rswap_cpu16(RSWAP_WIRE_VERSION + 1);
	memcpy(buf, &a, sizeof(a));
	assert_int_equal(rswap_attach_check(buf, sizeof(buf)), -RSWAP_ERR_VERSION);
	/* A message header is not an attach request. */
	memset(buf, 0, sizeof(buf));
	rswap_hdr_init((struct rswap_hdr *)buf, RSWAP_MSG_HELLO, 1);
	assert_int_equal(rswap_attach_check(buf, sizeof(buf)), 0);
}

/* The copy attach and its accept: the layout both servers rely on (the
 * CM's private data limits hold), and what a target checks before it
 * reads one: magic, version, queue and reserved field, in any padded
 * length that holds it. A plain attach is not a copy attach, nor the
 * other way round. */
static void copy_attach_private_data(void **state)
{
	uint8_t buf[RSWAP_CM_REQ_PDATA_MAX];
	struct rswap_copy_attach a = {
		.magic = rswap_cpu32(RSWAP_COPY_ATTACH_MAGIC),
		.version = rswap_cpu16(RSWAP_WIRE_VERSION),
		.queue = rswap_cpu16(RSWAP_QUEUE_MIGRATION),
		.target_slab = rswap_cpu32(5),
	};

	(void)state;
	assert_int_equal(sizeof(struct rswap_copy_attach), 48);
	assert_int_equal(offsetof(struct rswap_copy_attach, token), 8);
	assert_int_equal(offsetof(struct rswap_copy_attach, target_slab), 24);
	assert_int_equal(offsetof(struct rswap_copy_attach, nonce), 32);
	assert_int_equal(sizeof(struct rswap_copy_accept), 64);
	assert_int_equal(offsetof(struct rswap_copy_accept, rkey), 4);
	assert_int_equal(offsetof(struct rswap_copy_accept, addr), 8);
	assert_int_equal(offsetof(struct rswap_copy_accept, size), 16);
	assert_int_equal(offsetof(struct rswap_copy_accept, slab), 24);
	assert_int_equal(offsetof(struct rswap_copy_accept, mac), 32);
	assert_true(sizeof(struct rswap_copy_accept) <= RSWAP_CM_REP_PDATA_MAX);

	memset(buf, 0, sizeof(buf));
	assert_int_equal(rswap_copy_attach_check(buf, sizeof(buf)), 0);
	assert_int_equal(rswap_copy_attach_check(NULL, 0), 0);
	memcpy(buf, &a, sizeof(a));
	assert_int_equal(rswap_copy_attach_check(buf, sizeof(buf)), 1);
	assert_int_equal(rswap_copy_attach_check(buf, sizeof(a)), 1);
	assert_int_equal(rswap_copy_attach_check(buf, sizeof(a) - 1), 0);
	/* not a plain attach: its magic differs */
	assert_int_equal(rswap_attach_check(buf, sizeof(buf)), 0);
	a.version = rswap_cpu16(RSWAP_WIRE_VERSION + 1);
	memcpy(buf, &a, sizeof(a));
	assert_int_equal(rswap_copy_attach_check(buf, sizeof(buf)), -RSWAP_ERR_VERSION);
	a.version = rswap_cpu16(RSWAP_WIRE_VERSION);
	a.queue = rswap_cpu16(3);
	memcpy(buf, &a, sizeof(a));
	assert_int_equal(rswap_copy_attach_check(buf, sizeof(buf)), -RSWAP_ERR_MALFORMED);
	a.queue = rswap_cpu16(RSWAP_QUEUE_MIGRATION);
	a.reserved = rswap_cpu32(1);
	memcpy(buf, &a, sizeof(a));
	assert_int_equal(rswap_copy_attach_check(buf, sizeof(buf)), -RSWAP_ERR_MALFORMED);
	/* a plain attach is not a copy attach */
	memset(buf, 0, sizeof(buf));
	((struct rswap_attach *)buf)->magic = rswap_cpu32(RSWAP_ATTACH_MAGIC);
	((struct rswap_attach *)buf)->version = rswap_cpu16(RSWAP_WIRE_VERSION);
	assert_int_equal(rswap_copy_attach_check(buf, sizeof(buf)), 0);
}

/* The transcript the accept's MAC covers: label, nonce, token, then slab,
 * addr, rkey, size little-endian, in that order. */
static void copy_transcript_layout(void **state)
{
	uint8_t out[RSWAP_COPY_TRANSCRIPT_LEN], nonce[RSWAP_COPY_NONCE_LEN], token[RSWAP_TOKEN_LEN];
	size_t len;

	(void)state;
	memset(nonce, 0xa5, sizeof(nonce));
	memset(token, 0x5a, sizeof(token));
	len = rswap_copy_transcript(out, nonce, token, 0x01020304u, 0x1122334455667788ull,
				    0xdeadbeefu, 0x100000ull);
	assert_int_equal(len, RSWAP_COPY_TRANSCRIPT_LEN);
	assert_int_equal(len, 17 + 16 + 16 + 4 + 8 + 4 + 8);
	assert_memory_equal(out, "rswap-copy-accept", 17);
	assert_memory_equal(out + 17, nonce, sizeof(nonce));
	assert_memory_equal(out + 33, token, sizeof(token));
	assert_memory_equal(out + 49, "\x04\x03\x02\x01", 4);
	assert_memory_equal(out + 53, "\x88\x77\x66\x55\x44\x33\x22\x11", 8);
	assert_memory_equal(out + 61, "\xef\xbe\xad\xde", 4);
	assert_memory_equal(out + 65, "\x00\x00\x10\x00\x00\x00\x00\x00", 8);
}

static void every_corruption_is_safe(void **state)
{
	static const unsigned char values[] = { 0x00, 0x01, 0x7f, 0x80, 0xff };
	unsigned int type, v;
	size_t len, i;

	(void)state;
	for (type = 1; type < RSWAP_MSG_TYPE_END; type++) {
		len = build(type);
		for (i = 0; i < len; i++) {
			for (v = 0; v < sizeof(values); v++) {
				unsigned char *copy = test_malloc(len);
				int ret;

				build(type);
				m.bytes[i] = values[v];
				/* exact-size heap copy: ASan catches any read past it */
				memcpy(copy, m.bytes, len);
				ret = rswap_msg_check(copy, len);
				assert_true(ret == (int)type ||
					    ret == -RSWAP_ERR_MALFORMED ||
					    ret == -RSWAP_ERR_VERSION);
				test_free(copy);
			}
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(valid_messages_pass),
		cmocka_unit_test(grant_many_and_grants_checked),
		cmocka_unit_test(header_errors_are_refused),
		cmocka_unit_test(truncated_messages_are_refused),
		cmocka_unit_test(body_errors_are_refused),
		cmocka_unit_test(keepalive_is_header_only),
		cmocka_unit_test(attach_private_data),
		cmocka_unit_test(copy_attach_private_data),
		cmocka_unit_test(copy_transcript_layout),
		cmocka_unit_test(every_corruption_is_safe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
