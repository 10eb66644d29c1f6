// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the admin API's input path as rswap-server runs it:
 * admin_frame_parse on the bytes received so far, then protobuf-c's unpack
 * of a complete frame. Anything that unpacks without unknown fields must
 * pack again to bytes that unpack to the same request kind. (With unknown
 * fields, in the request or any message in it, it need not: protobuf-c
 * keeps a field-0 tag given as a non-minimal varint, then refuses its own
 * minimal re-encoding; see corpus-admin/unknown-field-zero-nonminimal-tag
 * and corpus-admin/nested-unknown-field-zero. The server never
 * re-packs a request, so only memory safety matters there.) A proved
 * request (AuthedRequest) carries another AdminRequest as bytes: the server
 * unpacks that one too once the proof holds, so it is unpacked here.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "admin_frame.h"
#include "rswap.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Does @m, or any message in it, keep fields it did not know? */
static int has_unknown(const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d;
	unsigned int i;

	if (!m)
		return 0;
	if (m->n_unknown_fields)
		return 1;
	d = m->descriptor;
	for (i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *at = (const char *)m + f->offset;

		if (f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n, k;
			ProtobufCMessage *const *v;

			memcpy(&n, (const char *)m + f->quantifier_offset, sizeof(n));
			memcpy(&v, at, sizeof(v));
			for (k = 0; k < n; k++)
				if (has_unknown(v[k]))
					return 1;
			continue;
		}
		/* a oneof member other than the one set holds no message */
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			uint32_t which;

			memcpy(&which, (const char *)m + f->quantifier_offset, sizeof(which));
			if (which != f->id)
				continue;
		}
		{
			const ProtobufCMessage *sub;

			memcpy(&sub, at, sizeof(sub));
			if (has_unknown(sub))
				return 1;
		}
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Rswap__AdminRequest *req, *again;
	uint8_t *buf;
	uint32_t len;
	size_t n;

	if (admin_frame_parse(data, size, &len) != FRAME_DONE)
		return 0;
	if ((size_t)len + ADMIN_FRAME_HDR > size)
		abort();
	req = rswap__admin_request__unpack(NULL, len, data + ADMIN_FRAME_HDR);
	if (!req)
		return 0;
	if (req->req_case == RSWAP__ADMIN_REQUEST__REQ_AUTHED && req->authed) {
		Rswap__AdminRequest *inner = rswap__admin_request__unpack(
			NULL, req->authed->request.len, req->authed->request.data);

		if (inner)
			rswap__admin_request__free_unpacked(inner, NULL);
	}
	if (has_unknown(&req->base)) {
		rswap__admin_request__free_unpacked(req, NULL);
		return 0;
	}
	n = rswap__admin_request__get_packed_size(req);
	buf = malloc(n ? n : 1);
	if (!buf)
		abort();
	if (rswap__admin_request__pack(req, buf) != n)
		abort();
	again = rswap__admin_request__unpack(NULL, n, buf);
	if (!again || again->req_case != req->req_case)
		abort();
	rswap__admin_request__free_unpacked(again, NULL);
	rswap__admin_request__free_unpacked(req, NULL);
	free(buf);
	return 0;
}
