/*
 * Key pairs made for os-keypairs when the client sends no public key (below
 * 2.92), as Nova makes them: RSA 2048, the private key as a PKCS#1 PEM
 * ("BEGIN RSA PRIVATE KEY", what paramiko writes), the public key as an
 * OpenSSH line with the comment "Generated-by-Nova". Type x509 (WinRM
 * certificate logins): a self-signed certificate for CN=<user id>, ten
 * years, client authentication, the UPN <user id>@localhost as subject
 * alternative name; the private key is the base64 of a PKCS#12 bundle with
 * an empty password; the fingerprint is the SHA-1 of the certificate. The
 * only file of kumo-api that includes OpenSSL (libcrypto).
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
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

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

/* ---- x509 ---- */

#define X509_DAYS 3650
#define UPN_OID "1.3.6.1.4.1.311.20.2.3"   /* Microsoft's User Principal Name */

/* subjectAltName = otherName:UPN;UTF8:<upn>, built as ASN.1 (never through
 * OpenSSL's config syntax, which a user id could extend). */
static int add_upn(X509 *x, const char *upn)
{
	GENERAL_NAMES *names = sk_GENERAL_NAME_new_null();
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_UTF8STRING *str = ASN1_UTF8STRING_new();
	ASN1_OBJECT *oid = OBJ_txt2obj(UPN_OID, 1);
	ASN1_TYPE *val = ASN1_TYPE_new();
	int rc = -1;

	if (names == NULL || gn == NULL || str == NULL || oid == NULL ||
	    val == NULL || !ASN1_STRING_set(str, upn, -1))
		goto fail;
	ASN1_TYPE_set(val, V_ASN1_UTF8STRING, str);
	str = NULL;
	if (!GENERAL_NAME_set0_othername(gn, oid, val))
		goto fail;
	oid = NULL;
	val = NULL;
	if (!sk_GENERAL_NAME_push(names, gn))
		goto fail;
	gn = NULL;
	rc = X509_add1_ext_i2d(x, NID_subject_alt_name, names, 0,
	    X509V3_ADD_DEFAULT) == 1 ? 0 : -1;
fail:
	GENERAL_NAMES_free(names);
	GENERAL_NAME_free(gn);
	ASN1_UTF8STRING_free(str);
	ASN1_OBJECT_free(oid);
	ASN1_TYPE_free(val);
	return rc;
}

static int add_client_auth(X509 *x)
{
	EXTENDED_KEY_USAGE *eku = sk_ASN1_OBJECT_new_null();
	int rc = -1;

	if (eku != NULL && sk_ASN1_OBJECT_push(eku, OBJ_nid2obj(NID_client_auth)))
		rc = X509_add1_ext_i2d(x, NID_ext_key_usage, eku, 0,
		    X509V3_ADD_DEFAULT) == 1 ? 0 : -1;
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	return rc;
}

/* A random positive 64-bit serial. */
static int set_serial(X509 *x)
{
	unsigned char b[8];
	BIGNUM *bn;
	int ok;

	if (RAND_bytes(b, sizeof b) != 1)
		return -1;
	b[0] &= 0x7f;
	b[0] |= 0x01;
	if ((bn = BN_bin2bn(b, sizeof b, NULL)) == NULL)
		return -1;
	ok = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
	BN_free(bn);
	return ok ? 0 : -1;
}

static X509 *self_signed(EVP_PKEY *pkey, const char *user_id)
{
	X509 *x = X509_new();
	X509_NAME *name;
	char upn[320];

	if (x == NULL || snprintf(upn, sizeof upn, "%s@localhost", user_id) >=
	    (int)sizeof upn || !X509_set_version(x, 2) || set_serial(x) < 0 ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), 0) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), (long)X509_DAYS * 86400) ||
	    !X509_set_pubkey(x, pkey) ||
	    (name = X509_get_subject_name(x)) == NULL ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)user_id, -1, -1, 0) ||
	    !X509_set_issuer_name(x, name) || add_client_auth(x) < 0 ||
	    add_upn(x, upn) < 0 || X509_sign(x, pkey, EVP_sha256()) <= 0) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* Nova's x509 fingerprint: SHA-1 of the DER, "aa:bb:..." lower case. */
static int cert_fingerprint(X509 *x, char out[60])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!X509_digest(x, EVP_sha1(), md, &n) || n != 20)
		return -1;
	for (unsigned int i = 0; i < n; i++)
		snprintf(out + i * 3, 4, "%02x%s", md[i], i + 1 < n ? ":" : "");
	return 0;
}

/* The PEM of x into out: 0, or -1 when it does not fit. */
static int cert_pem(X509 *x, char *out, size_t len)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long n;
	int rc = -1;

	if (bio != NULL && PEM_write_bio_X509(bio, x) == 1 &&
	    (n = BIO_get_mem_data(bio, &data)) > 0 && (size_t)n < len) {
		memcpy(out, data, (size_t)n);
		out[n] = '\0';
		rc = 0;
	}
	BIO_free(bio);
	return rc;
}

/* base64 of the PKCS#12 bundle (key and certificate, password ""). */
static char *pkcs12_b64(EVP_PKEY *pkey, X509 *x)
{
	PKCS12 *p12 = PKCS12_create("", NULL, pkey, x, NULL, 0, 0, 0, 0, 0);
	unsigned char *der = NULL;
	char *out = NULL;
	int n;

	if (p12 != NULL && (n = i2d_PKCS12(p12, &der)) > 0 &&
	    (out = malloc(4 * (((size_t)n + 2) / 3) + 1)) != NULL)
		EVP_EncodeBlock((unsigned char *)out, der, n);
	if (der != NULL)
		OPENSSL_clear_free(der, (size_t)n);
	PKCS12_free(p12);
	return out;
}

int keygen_x509(const char *user_id, char *cert, size_t certlen,
    char fingerprint[60], char **private_key)
{
	EVP_PKEY *pkey = EVP_RSA_gen(RSA_BITS);
	X509 *x = pkey ? self_signed(pkey, user_id) : NULL;

	*private_key = NULL;
	if (x == NULL || cert_pem(x, cert, certlen) != 0 ||
	    cert_fingerprint(x, fingerprint) != 0 ||
	    (*private_key = pkcs12_b64(pkey, x)) == NULL) {
		log_warnx("x509 certificate generation for user %s failed",
		    user_id);
		X509_free(x);
		EVP_PKEY_free(pkey);
		return -1;
	}
	X509_free(x);
	EVP_PKEY_free(pkey);
	return 0;
}

int keygen_x509_fingerprint(const char *pem, char fingerprint[60])
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	int rc = x != NULL ? cert_fingerprint(x, fingerprint) : -1;

	X509_free(x);
	BIO_free(bio);
	return rc;
}

void keygen_secret_free(char *secret)
{
	if (secret == NULL)
		return;
	OPENSSL_cleanse(secret, strlen(secret));
	free(secret);
}
