// SPDX-License-Identifier: GPL-2.0
/*
 * rswapctl client-key: make one client's key file from the pool key.
 *
 * The servers of a pool hold the pool key; each client holds only its own
 * key Kc = hex(HMAC-SHA256(pool key, "rswap-client-key" || client id)) (see
 * proto/rswap_wire.h), so a client can prove no identity but its own. The
 * client id is the one rswap.ko sends: derived from its client_id= text,
 * or, without client_id=, from "HOSTNAME:DEVICE" (rswap0 for the first).
 * Run it where the pool key is (an admin host), and copy the file to the
 * client as its key_file=.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "auth.h"
#include "rswapctl.h"

static void usage(FILE *out)
{
	fprintf(out,
"Usage: rswapctl client-key --pool-key FILE --client-id TEXT [--out FILE] [--force]\n"
"Make the key file of one client: the client proves with it that it is the\n"
"client TEXT, and nobody else; the pool key itself stays on the servers.\n"
"\n"
"  --pool-key FILE   the servers' --key-file (mode 0600)\n"
"  --client-id TEXT  the client's id: rswap.ko's client_id= (rswap-client\n"
"                    passes MACHINE-ID:DEVICE), or without client_id= the\n"
"                    client's host name and device, e.g. host1:rswap0; up to\n"
"                    128 printable characters without spaces\n"
"  --out FILE        write the key there (created with mode 0600; an existing\n"
"                    file is refused without --force); else to stdout\n"
"  --force           replace an existing --out file\n"
"  -h, --help        this text\n"
"\n"
"On the client: modprobe rswap key_file=FILE client_id=TEXT ... (or no\n"
"client_id= when TEXT is its host name and device).\n"
"Exit status: 0 written, 1 failed, 2 usage.\n");
}

static int id_text_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > RSWAP_CLIENT_ID_MAX)
		return 0;
	for (; *s; s++)
		if (*s <= ' ' || *s > '~')
			return 0;
	return 1;
}

static int write_key(const char *path, int force, const struct auth_key *kc)
{
	int flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | (force ? O_TRUNC : O_EXCL);
	int fd = path ? open(path, flags, 0600) : STDOUT_FILENO;
	ssize_t n;

	if (fd < 0) {
		fprintf(stderr, "rswapctl client-key: %s: %s%s\n", path, strerror(errno),
			errno == EEXIST ? " (--force replaces it)" : "");
		return -1;
	}
	/* An existing file opened with --force keeps its mode: make it ours. */
	if (path && fchmod(fd, 0600)) {
		fprintf(stderr, "rswapctl client-key: chmod 600 %s: %s\n", path, strerror(errno));
		close(fd);
		return -1;
	}
	n = write(fd, kc->bytes, kc->len);
	if (n != (ssize_t)kc->len || write(fd, "\n", 1) != 1 || (path && fsync(fd))) {
		fprintf(stderr, "rswapctl client-key: writing %s: %s\n", path ? path : "stdout",
			strerror(errno));
		if (path)
			close(fd);
		return -1;
	}
	if (path && close(fd)) {
		fprintf(stderr, "rswapctl client-key: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

int ctl_client_key(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pool-key", required_argument, NULL, 'k' },
		{ "client-id", required_argument, NULL, 'c' },
		{ "out", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *pool_file = NULL, *id_text = NULL, *out = NULL;
	struct auth_key pool, kc;
	uint8_t id[RSWAP_ID_LEN];
	char err[300];
	int force = 0, opt, ret;
	unsigned int i;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'k':
			pool_file = optarg;
			break;
		case 'c':
			id_text = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'f':
			force = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || !pool_file || !id_text) {
		fprintf(stderr, "rswapctl client-key: --pool-key and --client-id are required\n");
		usage(stderr);
		return 2;
	}
	if (!id_text_ok(id_text)) {
		fprintf(stderr, "rswapctl client-key: --client-id: 1 to %d printable characters "
			"without spaces, as rswap.ko's client_id= takes\n", RSWAP_CLIENT_ID_MAX);
		return 2;
	}
	if (auth_key_load(&pool, pool_file, err, sizeof(err))) {
		fprintf(stderr, "rswapctl client-key: %s\n", err);
		return 1;
	}
	ret = auth_client_id(id_text, id) || auth_client_key(&pool, id, &kc);
	OPENSSL_cleanse(&pool, sizeof(pool));
	if (ret) {
		fprintf(stderr, "rswapctl client-key: deriving the key failed\n");
		return 1;
	}
	ret = write_key(out, force, &kc);
	OPENSSL_cleanse(&kc, sizeof(kc));
	if (ret)
		return 1;
	if (out) {
		fprintf(stderr, "rswapctl client-key: the key of client '%s' (id ", id_text);
		for (i = 0; i < RSWAP_ID_LEN; i++)
			fprintf(stderr, "%02x", id[i]);
		fprintf(stderr, ") is in %s\n", out);
	}
	return 0;
}
