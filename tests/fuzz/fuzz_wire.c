// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: proto/rswap_wire.h's rswap_msg_check on any bytes. It
 * must never read past them and must agree with itself: a message it
 * accepts has the size of its type and re-validates after a copy. The
 * same bytes go to rswap_attach_check and rswap_copy_attach_check as
 * rdma_cm private data.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rswap_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t copy[RSWAP_MSG_MAX];
	int type = rswap_msg_check(data, size);
	int attach = rswap_attach_check(data, size);

	if (attach != 0 && attach != 1 && attach != -RSWAP_ERR_VERSION)
		abort();
	if (attach && size < sizeof(struct rswap_attach))
		abort();
	attach = rswap_copy_attach_check(data, size);
	if (attach != 0 && attach != 1 && attach != -RSWAP_ERR_VERSION &&
	    attach != -RSWAP_ERR_MALFORMED)
		abort();
	if (attach && size < sizeof(struct rswap_copy_attach))
		abort();

	if (type > 0) {
		if (rswap_msg_size((unsigned int)type) != size)
			abort();
		memcpy(copy, data, size);
		if (rswap_msg_check(copy, size) != type)
			abort();
	} else if (type != -RSWAP_ERR_MALFORMED && type != -RSWAP_ERR_VERSION) {
		abort();
	}
	return 0;
}
