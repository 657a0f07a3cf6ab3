/*
 * Digests through libcrypto (crypto.h): SHA-256, SHA-224, MD5, and
 * HMAC-SHA256 composed as RFC 2104 defines it over libcrypto's SHA-256.
 *
 * These are libcrypto's direct digest functions, not its EVP interface:
 * OpenSSL 3 answers the first EVP call by activating its default provider,
 * which touches about 2 MB of the library that then stays resident in every
 * daemon (measured in kumo-api: libcrypto 1.4 -> 3.5 MB after the first
 * Fernet token). The direct functions run the same assembly without it.
 * OpenSSL 3 marks them deprecated; Debian 12's OpenSSL 3.0 has them all.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <stdlib.h>
#include <string.h>

#include <openssl/md5.h>
#include <openssl/sha.h>

#include "common/common.h"
#include "common/crypto.h"

enum kind { SHA256_KIND, SHA224_KIND, MD5_KIND };

struct digest {
	enum kind kind;
	union {
		SHA256_CTX sha;   /* SHA-224 shares SHA-256's state */
		MD5_CTX md5;
	} u;
};

static int hash_init(struct hash_ctx *c, enum kind kind)
{
	struct digest *d = calloc(1, sizeof *d);
	int ok;

	c->md = NULL;
	if (d == NULL) {
		log_warnx("cannot start a digest: out of memory");
		return -1;
	}
	d->kind = kind;
	ok = kind == SHA256_KIND ? SHA256_Init(&d->u.sha) :
	    kind == SHA224_KIND ? SHA224_Init(&d->u.sha) : MD5_Init(&d->u.md5);
	if (ok != 1) {
		free(d);
		return -1;
	}
	c->md = d;
	return 0;
}

int sha256_init(struct hash_ctx *c)
{
	return hash_init(c, SHA256_KIND);
}

int sha224_init(struct hash_ctx *c)
{
	return hash_init(c, SHA224_KIND);
}

int md5_init(struct hash_ctx *c)
{
	return hash_init(c, MD5_KIND);
}

void hash_update(struct hash_ctx *c, const void *data, size_t len)
{
	struct digest *d = c->md;

	if (d == NULL || len == 0)
		return;
	if (d->kind == MD5_KIND)
		MD5_Update(&d->u.md5, data, len);
	else   /* SHA224_Update is SHA256_Update */
		SHA256_Update(&d->u.sha, data, len);
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
	struct digest *d = c->md;
	unsigned char md[SHA256_DIGEST_LENGTH];
	size_t n = 0;

	if (d != NULL && d->kind == SHA256_KIND && SHA256_Final(md, &d->u.sha))
		n = SHA256_DIGEST_LENGTH;
	else if (d != NULL && d->kind == SHA224_KIND &&
	    SHA224_Final(md, &d->u.sha))
		n = SHA224_DIGEST_LENGTH;
	else if (d != NULL && d->kind == MD5_KIND && MD5_Final(md, &d->u.md5))
		n = MD5_DIGEST_LENGTH;
	to_hex(md, n, out);
	hash_abort(c);
}

void hash_abort(struct hash_ctx *c)
{
	struct digest *d = c->md;

	if (d != NULL) {
		explicit_bzero(d, sizeof *d);
		free(d);
	}
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

/* RFC 2104: H((K ^ opad) || H((K ^ ipad) || data)), K zero-padded to the
 * block, hashed first when longer than the block. */
void hmac_sha256(const void *key, size_t keylen, const void *data,
    size_t len, unsigned char out[32])
{
	unsigned char k[SHA256_CBLOCK] = { 0 }, pad[SHA256_CBLOCK];
	SHA256_CTX s;

	if (keylen > sizeof k)
		SHA256(key, keylen, k);
	else if (keylen > 0)
		memcpy(k, key, keylen);
	for (size_t i = 0; i < sizeof pad; i++)
		pad[i] = k[i] ^ 0x36;
	SHA256_Init(&s);
	SHA256_Update(&s, pad, sizeof pad);
	if (len > 0)
		SHA256_Update(&s, data, len);
	SHA256_Final(out, &s);
	for (size_t i = 0; i < sizeof pad; i++)
		pad[i] = k[i] ^ 0x5c;
	SHA256_Init(&s);
	SHA256_Update(&s, pad, sizeof pad);
	SHA256_Update(&s, out, SHA256_DIGEST_LENGTH);
	SHA256_Final(out, &s);
	explicit_bzero(k, sizeof k);
	explicit_bzero(pad, sizeof pad);
	explicit_bzero(&s, sizeof s);
}
