/* SPDX-License-Identifier: GPL-2.0 */
/*
 * admin_frame: the admin API's framing (see proto/rswap.proto): a 4-byte
 * big-endian length, then that many bytes of protobuf. The decoder takes
 * bytes as they arrive from a stream and says when a frame is complete.
 */
#ifndef RSWAP_ADMIN_FRAME_H
#define RSWAP_ADMIN_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define ADMIN_FRAME_MAX (1u << 20)	/* bytes of payload */
#define ADMIN_FRAME_HDR 4

enum frame_status {
	FRAME_MORE,	/* need more bytes */
	FRAME_DONE,	/* a whole frame: payload at buf + 4, *len bytes */
	FRAME_TOO_BIG,	/* the length exceeds ADMIN_FRAME_MAX */
	FRAME_HTTP,	/* starts with "GET ": an HTTP request, not a frame */
};

/*
 * Look at the @have bytes received so far at @buf. On FRAME_DONE, *len is the
 * payload length and the frame occupies ADMIN_FRAME_HDR + *len bytes.
 */
enum frame_status admin_frame_parse(const uint8_t *buf, size_t have, uint32_t *len);

/* Write the 4-byte header for a payload of @len bytes. */
void admin_frame_header(uint8_t hdr[ADMIN_FRAME_HDR], uint32_t len);

#endif
