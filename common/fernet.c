/*
 * Fernet tokens (crypto.h), as the spec Keystone's tokens follow:
 *
 *   0x80 | timestamp (8 bytes, big-endian) | IV (16) |
 *   AES-128-CBC ciphertext, PKCS#7 padded | HMAC-SHA256 of all before (32)
 *
 * as url-safe base64; a key is 16 bytes of HMAC key then 16 of AES key.
 * Tokens are written without "=" padding, as Keystone writes them, and
 * read with or without. The HMAC is checked (in constant time) before
 * anything is decrypted.
 */
#define OPENSSL_SUPPRESS_DEPRECATED   /* AES_*: see aes_cbc */
#include <stdlib.h>
#include <string.h>

#include <openssl/aes.h>

#include "common/common.h"
#include "common/crypto.h"

#define VERSION 0x80
#define IV_LEN 16
#define HDR_LEN (1 + 8 + IV_LEN)
#define MAC_LEN 32
#define BLOCK 16
#define MSG_MAX 65536   /* the largest plaintext fernet_open considers */

/*
 * AES-128-CBC with PKCS#7 padding; out needs inlen + BLOCK bytes. libcrypto's
 * direct AES functions (the same AES-NI code as EVP's) rather than EVP, for
 * the reason hash.c gives: EVP's first use costs every daemon 2 MB resident.
 * Padding is only ever checked after the HMAC (fernet_open), so a bad pad
 * tells an attacker nothing.
 */
static int aes_cbc(int enc, const unsigned char *key, const unsigned char *iv,
    const unsigned char *in, size_t inlen, unsigned char *out, size_t *outlen)
{
	unsigned char ivc[IV_LEN], pad;
	AES_KEY k;
	size_t n;
	int rc = -1;

	memcpy(ivc, iv, IV_LEN);   /* AES_cbc_encrypt advances it */
	if (enc) {
		n = inlen / BLOCK * BLOCK + BLOCK;
		pad = (unsigned char)(n - inlen);
		if (inlen > 0)
			memcpy(out, in, inlen);
		memset(out + inlen, pad, pad);
		if (AES_set_encrypt_key(key, 128, &k) != 0)
			goto done;
		AES_cbc_encrypt(out, out, n, &k, ivc, AES_ENCRYPT);
	} else {
		if (inlen == 0 || inlen % BLOCK != 0 ||
		    AES_set_decrypt_key(key, 128, &k) != 0)
			goto done;
		AES_cbc_encrypt(in, out, inlen, &k, ivc, AES_DECRYPT);
		pad = out[inlen - 1];
		if (pad < 1 || pad > BLOCK)
			goto done;
		for (size_t i = inlen - pad; i < inlen; i++)
			if (out[i] != pad)
				goto done;
		n = inlen - pad;
	}
	*outlen = n;
	rc = 0;
done:
	explicit_bzero(&k, sizeof k);
	return rc;
}

static int mac(const unsigned char *key, const unsigned char *data,
    size_t len, unsigned char out[MAC_LEN])
{
	hmac_sha256(key, 16, data, len, out);
	return 0;
}

int fernet_seal_iv(const struct fernet_keys *k, const void *msg, size_t len,
    uint64_t ts, const unsigned char iv[16], char *out, size_t outlen)
{
	size_t ctlen = 0, max = HDR_LEN + len / BLOCK * BLOCK + BLOCK + MAC_LEN;
	unsigned char *buf = NULL;
	int rc = -1;

	if (k->n < 1 || len > MSG_MAX || (buf = malloc(max)) == NULL)
		goto fail;
	buf[0] = VERSION;
	for (int i = 0; i < 8; i++)
		buf[1 + i] = (unsigned char)(ts >> (56 - 8 * i));
	memcpy(buf + 9, iv, IV_LEN);
	if (aes_cbc(1, k->key[0] + 16, iv, msg, len, buf + HDR_LEN, &ctlen) < 0 ||
	    mac(k->key[0], buf, HDR_LEN + ctlen, buf + HDR_LEN + ctlen) < 0 ||
	    b64url_encode(buf, HDR_LEN + ctlen + MAC_LEN, false, out, outlen) < 0)
		goto fail;
	rc = 0;
fail:
	free(buf);
	return rc;
}

int fernet_seal(const struct fernet_keys *k, const void *msg, size_t len,
    uint64_t ts, char *out, size_t outlen)
{
	unsigned char iv[IV_LEN];

	if (crypto_random(iv, sizeof iv) < 0)
		return -1;
	return fernet_seal_iv(k, msg, len, ts, iv, out, outlen);
}

/* The key of k whose HMAC the decoded token buf (n bytes) carries, or -1. */
static int key_of(const struct fernet_keys *k, const unsigned char *buf,
    size_t n)
{
	unsigned char m[MAC_LEN];
	int found = -1;

	for (int i = 0; i < k->n && i < FERNET_MAX_KEYS; i++)
		if (mac(k->key[i], buf, n - MAC_LEN, m) == 0 &&
		    crypto_equal(m, buf + n - MAC_LEN, MAC_LEN) && found < 0)
			found = i;
	return found;
}

int fernet_open(const struct fernet_keys *k, const char *token, void *msg,
    size_t cap, size_t *len, uint64_t *ts)
{
	size_t lim = cap < MSG_MAX ? cap : MSG_MAX;
	size_t max = HDR_LEN + lim / BLOCK * BLOCK + BLOCK + MAC_LEN;
	size_t chars = (max + 2) / 3 * 4, slen, ctlen = 0, plen = 0;
	unsigned char *buf = NULL, *plain = NULL;
	long n;
	int i, rc = -1;

	if ((slen = strnlen(token, chars + 1)) > chars ||
	    (buf = malloc(max)) == NULL ||
	    (n = b64url_decode(token, slen, buf, max)) < 0)
		goto fail;
	ctlen = (size_t)n - HDR_LEN - MAC_LEN;
	if ((size_t)n < HDR_LEN + BLOCK + MAC_LEN || ctlen % BLOCK != 0 ||
	    buf[0] != VERSION || (i = key_of(k, buf, (size_t)n)) < 0 ||
	    (plain = malloc(ctlen + BLOCK)) == NULL ||
	    aes_cbc(0, k->key[i] + 16, buf + 9, buf + HDR_LEN, ctlen, plain,
	    &plen) < 0 || plen > cap)
		goto fail;
	memcpy(msg, plain, plen);
	*len = plen;
	*ts = 0;
	for (int j = 1; j <= 8; j++)
		*ts = *ts << 8 | buf[j];
	rc = 0;
fail:
	if (plain != NULL)
		explicit_bzero(plain, ctlen + BLOCK);
	free(plain);
	free(buf);
	return rc;
}
