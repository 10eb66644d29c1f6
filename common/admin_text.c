// SPDX-License-Identifier: GPL-2.0
/* admin_text: see admin_text.h. */
#include "admin_text.h"

#include <stdio.h>
#include <string.h>

/* Append @piece of @len bytes if it fits whole with the NUL: 0, or -1. */
static int put(char *dst, size_t size, size_t *at, const char *piece, size_t len)
{
	if (*at + len + 1 > size)
		return -1;
	memcpy(dst + *at, piece, len);
	*at += len;
	dst[*at] = '\0';
	return 0;
}

void admin_escape_label(char *dst, size_t size, const char *src)
{
	size_t at = 0;

	if (!size)
		return;
	dst[0] = '\0';
	for (; *src; src++) {
		const char *piece = *src == '\\' ? "\\\\" : *src == '"' ? "\\\"" :
				    *src == '\n' ? "\\n" : NULL;

		if (piece ? put(dst, size, &at, piece, 2) : put(dst, size, &at, src, 1))
			return;
	}
}

void admin_escape_printable(char *dst, size_t size, const char *src)
{
	size_t at = 0;

	if (!size)
		return;
	dst[0] = '\0';
	for (; *src; src++) {
		unsigned char c = (unsigned char)*src;
		char hex[5];
		int ret;

		if (c == '\\')
			ret = put(dst, size, &at, "\\\\", 2);
		else if (c >= 0x20 && c < 0x7f)
			ret = put(dst, size, &at, src, 1);
		else {
			snprintf(hex, sizeof(hex), "\\x%02x", c);
			ret = put(dst, size, &at, hex, 4);
		}
		if (ret)
			return;
	}
}
