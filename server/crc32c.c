// SPDX-License-Identifier: GPL-2.0
/* Table-driven CRC-32C; the log writes a record per grant, so speed is moot. */
#include "crc32c.h"

#define CRC32C_POLY_REFLECTED 0x82f63b78u

static uint32_t table[256];

static void table_init(void)
{
	uint32_t i, j, c;

	for (i = 0; i < 256; i++) {
		c = i;
		for (j = 0; j < 8; j++)
			c = c & 1 ? (c >> 1) ^ CRC32C_POLY_REFLECTED : c >> 1;
		table[i] = c;
	}
}

uint32_t crc32c(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	if (!table[1])
		table_init();
	crc = ~crc;
	while (len--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}
