// SPDX-License-Identifier: GPL-2.0
/* admin_frame: see admin_frame.h. */
#include "admin_frame.h"

#include <string.h>

enum frame_status admin_frame_parse(const uint8_t *buf, size_t have, uint32_t *len)
{
	uint32_t n;

	if (have >= 4 && !memcmp(buf, "GET ", 4))
		return FRAME_HTTP;
	if (have < ADMIN_FRAME_HDR)
		return FRAME_MORE;
	n = (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 | (uint32_t)buf[2] << 8 | buf[3];
	if (n > ADMIN_FRAME_MAX)
		return FRAME_TOO_BIG;
	if (have - ADMIN_FRAME_HDR < n)
		return FRAME_MORE;
	*len = n;
	return FRAME_DONE;
}

void admin_frame_header(uint8_t hdr[ADMIN_FRAME_HDR], uint32_t len)
{
	hdr[0] = (uint8_t)(len >> 24);
	hdr[1] = (uint8_t)(len >> 16);
	hdr[2] = (uint8_t)(len >> 8);
	hdr[3] = (uint8_t)len;
}
