/* SPDX-License-Identifier: GPL-2.0 */
/* CRC-32C (Castagnoli), as used by iSCSI, ext4 and btrfs metadata. */
#ifndef RSWAP_CRC32C_H
#define RSWAP_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continue @crc (start with 0) over @len bytes at @buf. */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);

#endif
