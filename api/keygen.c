/*
 * Key pairs made for os-keypairs when the client sends no public key (below
 * 2.92), as Nova makes them: RSA 2048, the private key as a PKCS#1 PEM
 * ("BEGIN RSA PRIVATE KEY", what paramiko writes), the public key as an
 * OpenSSH line with the comment "Generated-by-Nova". The only file of kumo-api
 * that includes OpenSSL (libcrypto).
 *
 * Generating costs 50-200 ms of one CPU and runs on the HTTP worker
 * thread that asked. So that a client cannot occupy every worker with it,
 * at most half the workers (at least one) generate at once; a request
 * finding every slot taken is refused (429), not queued.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "api/api.h"

#define RSA_BITS 2048
#define BLOB_MAX 1024     /* "ssh-rsa", e and n of a 2048-bit key: 279 bytes */

int keygen_slots(const struct api *api)
{
	int n = api->conf != NULL ? api->conf->api_workers / 2 : 1;

	return n < 1 ? 1 : n;
}

bool keygen_slot_take(struct api *api)
{
	if (__atomic_add_fetch(&api->keygen_busy, 1, __ATOMIC_SEQ_CST) <=
	    keygen_slots(api))
		return true;
	__atomic_sub_fetch(&api->keygen_busy, 1, __ATOMIC_SEQ_CST);
	return false;
}

void keygen_slot_put(struct api *api)
{
	__atomic_sub_fetch(&api->keygen_busy, 1, __ATOMIC_SEQ_CST);
}

/* Appends an SSH string (u32 length, bytes) at *off; false when it overruns. */
static bool put_string(unsigned char *b, size_t *off, const void *p, size_t n)
{
	if (n > BLOB_MAX - 4 || *off > BLOB_MAX - 4 - n)
		return false;
	b[(*off)++] = (unsigned char)(n >> 24);
	b[(*off)++] = (unsigned char)(n >> 16);
	b[(*off)++] = (unsigned char)(n >> 8);
	b[(*off)++] = (unsigned char)n;
	memcpy(b + *off, p, n);
	*off += n;
	return true;
}

/* An SSH mpint of a positive bignum: big-endian, with a zero byte in front
 * when the top bit is set (else it would read as negative). */
static bool put_mpint(unsigned char *b, size_t *off, const BIGNUM *bn)
{
	unsigned char tmp[RSA_BITS / 8 + 1];
	int n = BN_num_bytes(bn);

	if (n <= 0 || (size_t)n >= sizeof tmp)
		return false;
	tmp[0] = 0;
	BN_bn2bin(bn, tmp + 1);
	return tmp[1] & 0x80 ? put_string(b, off, tmp, (size_t)n + 1) :
	    put_string(b, off, tmp + 1, (size_t)n);
}

/* "ssh-rsa <base64 blob> Generated-by-Nova" of pkey into out. */
static int public_line(EVP_PKEY *pkey, char *out, size_t len)
{
	static const char type[] = "ssh-rsa", comment[] = " Generated-by-Nova";
	unsigned char blob[BLOB_MAX];
	BIGNUM *n = NULL, *e = NULL;
	size_t off = 0, b64len;
	int rc = -1;

	if (!EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) ||
	    !EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) ||
	    !put_string(blob, &off, type, sizeof type - 1) ||
	    !put_mpint(blob, &off, e) || !put_mpint(blob, &off, n))
		goto fail;
	b64len = 4 * ((off + 2) / 3);
	if (sizeof type + b64len + sizeof comment > len)
		goto fail;
	memcpy(out, type, sizeof type - 1);
	out[sizeof type - 1] = ' ';
	EVP_EncodeBlock((unsigned char *)out + sizeof type, blob, (int)off);
	memcpy(out + sizeof type + b64len, comment, sizeof comment);
	rc = 0;
fail:
	BN_free(n);
	BN_free(e);
	return rc;
}

/* The PKCS#1 PEM of pkey: a malloc'd string, or NULL. */
static char *private_pem(EVP_PKEY *pkey)
{
	BIO *bio = BIO_new(BIO_s_secmem());
	char *data, *out = NULL;
	long n;

	if (bio == NULL)
		return NULL;
	if (PEM_write_bio_PrivateKey_traditional(bio, pkey, NULL, NULL, 0, NULL,
	    NULL) == 1 && (n = BIO_get_mem_data(bio, &data)) > 0 &&
	    (out = malloc((size_t)n + 1)) != NULL) {
		memcpy(out, data, (size_t)n);
		out[n] = '\0';
	}
	BIO_free(bio);
	return out;
}

int keygen_rsa(char *public_key, size_t publen, char **private_key)
{
	EVP_PKEY *pkey = EVP_RSA_gen(RSA_BITS);

	*private_key = NULL;
	if (pkey == NULL || public_line(pkey, public_key, publen) != 0 ||
	    (*private_key = private_pem(pkey)) == NULL) {
		log_warnx("RSA key generation failed");
		EVP_PKEY_free(pkey);
		return -1;
	}
	EVP_PKEY_free(pkey);
	return 0;
}

void keygen_secret_free(char *secret)
{
	if (secret == NULL)
		return;
	OPENSSL_cleanse(secret, strlen(secret));
	free(secret);
}
