/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rswap_transport.h: what the protocol (rswap_server.c) uses of the
 * transport (rswap_transport.c). Internal to the module.
 */
#ifndef RSWAP_TRANSPORT_H
#define RSWAP_TRANSPORT_H

#include "rswap.h"

/* A CM step (address, route, connect) gets this long; a connect is three. */
#define RSWAP_CM_TIMEOUT_MS	5000
/* A control request's answer: beyond it the connection is failed. */
#define RSWAP_CTRL_TIMEOUT	(10 * HZ)

/*
 * A refusal (ERROR) as the control calls return it: -1000 - code, so
 * callers can tell it from a transport error.
 */
#define RSWAP_REFUSED(code) (-1000 - (int)(code))

static inline const char *rswap_refusal_text(const u8 *msg)
{
	const struct rswap_error *e = (const struct rswap_error *)msg;

	return e->text;
}

/* Control messages; the caller holds ctrl_mutex. */
int rswap_ctrl_send(struct rswap_server *srv, const void *msg);
int rswap_ctrl_reply(struct rswap_server *srv, u32 seq, u8 *out, long timeout);
int rswap_ctrl_call_wait(struct rswap_server *srv, const void *msg, int want, u8 *out,
			 long timeout);
int rswap_ctrl_call(struct rswap_server *srv, const void *msg, int want, u8 *out);

/* The connection; under ctrl_mutex (rswap_conn_init: at rswap_server_add). */
void rswap_conn_init(struct rswap_server *srv);
int rswap_conn_connect(struct rswap_server *srv);
void rswap_conn_attach_qps(struct rswap_server *srv, const u8 *token, u32 max_attach);
void rswap_conn_teardown(struct rswap_server *srv);
void rswap_conn_recover_locked(struct rswap_server *srv);
void rswap_conn_error_work(struct work_struct *work);

/* rswap_server.c: the one place a server's state changes; under ctrl_mutex. */
bool rswap_server_set_state(struct rswap_server *srv, enum rswap_server_state st);

#endif
