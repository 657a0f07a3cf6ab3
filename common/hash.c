/*
 * Digests through libcrypto's EVP interface (crypto.h): SHA-256, SHA-224,
 * MD5, and HMAC-SHA256. A struct hash_ctx owns one EVP_MD_CTX from init
 * until final or abort.
 */
#include <limits.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/common.h"
#include "common/crypto.h"

static int hash_init(struct hash_ctx *c, const EVP_MD *type)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	c->md = NULL;
	if (md == NULL || EVP_DigestInit_ex(md, type, NULL) != 1) {
		log_warnx("cannot start a %s digest", EVP_MD_get0_name(type));
		EVP_MD_CTX_free(md);
		return -1;
	}
	c->md = md;
	return 0;
}

int sha256_init(struct hash_ctx *c)
{
	return hash_init(c, EVP_sha256());
}

int sha224_init(struct hash_ctx *c)
{
	return hash_init(c, EVP_sha224());
}

int md5_init(struct hash_ctx *c)
{
	return hash_init(c, EVP_md5());
}

void hash_update(struct hash_ctx *c, const void *data, size_t len)
{
	if (c->md != NULL && len > 0)
		EVP_DigestUpdate(c->md, data, len);
}

static void to_hex(const unsigned char *d, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[2 * n] = '\0';
}

/* A ctx that init did not start gives "" (init has logged why). */
void hash_final_hex(struct hash_ctx *c, char *out)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (c->md == NULL || EVP_DigestFinal_ex(c->md, d, &n) != 1)
		n = 0;
	to_hex(d, n, out);
	hash_abort(c);
}

void hash_abort(struct hash_ctx *c)
{
	EVP_MD_CTX_free(c->md);
	c->md = NULL;
}

static void hash_hex(int (*init)(struct hash_ctx *), const void *data,
    size_t len, char *out)
{
	struct hash_ctx c;

	out[0] = '\0';
	if (init(&c) < 0)
		return;
	hash_update(&c, data, len);
	hash_final_hex(&c, out);
}

void sha256_hex(const void *data, size_t len, char out[65])
{
	hash_hex(sha256_init, data, len, out);
}

void sha224_hex(const void *data, size_t len, char out[57])
{
	hash_hex(sha224_init, data, len, out);
}

void md5_hex(const void *data, size_t len, char out[33])
{
	hash_hex(md5_init, data, len, out);
}

/* HMAC() fails only without memory; out is then all zeros, which no
 * caller may take for a match: fernet.c checks HMAC() itself. */
void hmac_sha256(const void *key, size_t keylen, const void *data,
    size_t len, unsigned char out[32])
{
	static const unsigned char none[1];
	unsigned int n = 0;

	if (keylen > INT_MAX ||
	    HMAC(EVP_sha256(), keylen > 0 ? key : none, (int)keylen,
	    len > 0 ? data : none, len, out, &n) == NULL || n != 32) {
		log_warnx("HMAC-SHA256 failed");
		memset(out, 0, 32);
	}
}
