// SPDX-License-Identifier: GPL-2.0
/*
 * rswap_auth: the pre-shared key, and the HMAC-SHA256 proofs of
 * proto/rswap_wire.h computed with the kernel's crypto API. The key file is
 * this client's own key Kc (rswapctl client-key makes it from the pool key
 * and the client id): 16..256 bytes, one trailing newline ignored.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <crypto/hash.h>
#include <crypto/sha2.h>
#include <linux/fs.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <rdma/rdma_cm.h>

#include "rswap.h"

#define RSWAP_KEY_MIN 16
#define RSWAP_KEY_MAX 256

/*
 * Read the key file with filp_open/kernel_read rather than
 * kernel_read_file(): that one is for firmware, modules and policies, and
 * LSMs such as IPE (6.12) warn about any other kind of file.
 */
static ssize_t read_key_file(const char *path, u8 *buf, size_t size)
{
	struct file *f;
	loff_t pos = 0;
	umode_t mode;
	ssize_t n;

	f = filp_open(path, O_RDONLY | O_NOFOLLOW, 0);
	if (IS_ERR(f)) {
		pr_err("key_file %s: cannot read it (error %ld)\n", path, PTR_ERR(f));
		return PTR_ERR(f);
	}
	mode = file_inode(f)->i_mode;
	if (!S_ISREG(mode)) {
		pr_err("key_file %s: not a regular file\n", path);
		n = -EINVAL;
	} else if (mode & 0077) {
		pr_err("key_file %s: readable by others (mode %03o); chmod 600 it\n", path,
		       mode & 0777);
		n = -EACCES;
	} else {
		n = kernel_read(f, buf, size, &pos);
		if (n < 0)
			pr_err("key_file %s: cannot read it (error %zd)\n", path, n);
	}
	filp_close(f, NULL);
	return n;
}

/*
 * The HMAC of this client's key in @path (a device's key_file): the tfm
 * holds the key, nothing else keeps it. An ERR_PTR, said in the log, if
 * the file is not a key we can use.
 */
struct crypto_shash *rswap_auth_load_key(const char *path)
{
	struct crypto_shash *hmac;
	u8 *buf;
	ssize_t n;
	int ret;

	buf = kzalloc(RSWAP_KEY_MAX + 2, GFP_KERNEL);
	if (!buf)
		return ERR_PTR(-ENOMEM);
	n = read_key_file(path, buf, RSWAP_KEY_MAX + 2);
	if (n < 0) {
		hmac = ERR_PTR(n);
		goto out_free_buf;
	}
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	if (n < RSWAP_KEY_MIN || n > RSWAP_KEY_MAX) {
		pr_err("key_file %s: key must be %d..%d bytes, has %zd\n", path, RSWAP_KEY_MIN,
		       RSWAP_KEY_MAX, n);
		hmac = ERR_PTR(-EINVAL);
		goto out_free_buf;
	}
	hmac = crypto_alloc_shash("hmac(sha256)", 0, 0);
	if (IS_ERR(hmac)) {
		pr_err("no hmac(sha256) in this kernel (error %ld)\n", PTR_ERR(hmac));
		goto out_free_buf;
	}
	ret = crypto_shash_setkey(hmac, buf, n);
	if (ret) {
		pr_err("hmac(sha256) refused the key (error %d)\n", ret);
		crypto_free_shash(hmac);
		hmac = ERR_PTR(ret);
	}
out_free_buf:
	kfree_sensitive(buf);
	return hmac;
}

/*
 * HMAC-SHA256(Kc, transcript) with the transcript of rswap_wire.h, as
 * common/auth.c computes it: @label, the nonces in its order, the client
 * and server ids, and @b, the handshake's endpoints.
 */
int rswap_auth_mac(struct crypto_shash *hmac, const char *label, const u8 *first,
		   const u8 *second, const u8 *client_id, const u8 *server_id,
		   const struct rswap_auth_binding *b, u8 mac[RSWAP_MAC_LEN])
{
	u8 msg[RSWAP_AUTH_TRANSCRIPT_LEN];
	size_t len;
	int ret;

	if (strlen(label) != RSWAP_AUTH_LABEL_LEN)
		return -EINVAL;
	len = rswap_auth_transcript(msg, label, first, second, client_id, server_id, b);
	ret = crypto_shash_tfm_digest(hmac, msg, len, mac);
	memzero_explicit(msg, sizeof(msg));
	return ret;
}

/*
 * The binding of the handshake on @cm_id: our address, the server's
 * address and port, as rdma_resolve_addr left them. 0, or -EAFNOSUPPORT
 * for an address that is not IP.
 */
int rswap_auth_binding(struct rdma_cm_id *cm_id, struct rswap_auth_binding *b)
{
	memset(b, 0, sizeof(*b));
	if (rswap_auth_endpoint((struct sockaddr *)&cm_id->route.addr.src_addr,
				b->client_addr, NULL) ||
	    rswap_auth_endpoint((struct sockaddr *)&cm_id->route.addr.dst_addr,
				b->server_addr, b->server_port))
		return -EAFNOSUPPORT;
	return 0;
}

/*
 * The client id sent in HELLO, from its text (client_id=, or host name and
 * device): the first RSWAP_ID_LEN bytes of SHA-256("rswap-client-id" NUL
 * text). The same text gives the same id on every load, so a rebooted
 * client is the same client to the servers. At device creation only.
 */
int rswap_auth_client_id(const char *text, u8 id[RSWAP_ID_LEN])
{
	static const char label[] = "rswap-client-id";
	u8 digest[SHA256_DIGEST_SIZE];
	struct crypto_shash *sha;
	size_t len = strlen(text);
	u8 *msg;
	int ret;

	BUILD_BUG_ON(RSWAP_ID_LEN > SHA256_DIGEST_SIZE);
	msg = kmalloc(sizeof(label) + len, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	memcpy(msg, label, sizeof(label));
	memcpy(msg + sizeof(label), text, len);
	sha = crypto_alloc_shash("sha256", 0, 0);
	if (IS_ERR(sha)) {
		ret = PTR_ERR(sha);
		pr_err("no sha256 in this kernel (error %d)\n", ret);
		goto out_msg;
	}
	ret = crypto_shash_tfm_digest(sha, msg, sizeof(label) + len, digest);
	crypto_free_shash(sha);
	if (!ret)
		memcpy(id, digest, RSWAP_ID_LEN);
	memzero_explicit(digest, sizeof(digest));
out_msg:
	kfree(msg);
	return ret;
}
