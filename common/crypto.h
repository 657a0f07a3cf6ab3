/*
 * common/crypto: every cryptographic primitive kumo uses, each from a
 * maintained library (libcrypto, libxcrypt); nothing here is hand-written
 * cryptography.
 *
 *   hash.c      SHA-256 (image os_hash_value), SHA-224 (Nova's hostId),
 *               MD5 (Glance's checksum): streaming digests, libcrypto;
 *               HMAC-SHA256 (RFC 2104 over libcrypto's SHA-256)
 *   fernet.c    Fernet tokens (the spec Keystone's tokens follow)
 *   fernet_repo.c  a Keystone-style key repository (setup, rotate, load)
 *   token.c     kumo's token payload: user, scope, methods, expiry, audit
 *               ids, sealed in a Fernet token of at most 255 characters
 *   password.c  salted slow password hashes (bcrypt through libxcrypt),
 *               constant-time checks, random secrets
 *   b64url.c    url-safe base64, canonical form only
 */
#ifndef KUMO_CRYPTO_H
#define KUMO_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- hash.c -------------------------------------------------------------- */

/* A digest in progress. init allocates (returns -1 on failure), final
 * writes lower-case hex and frees; a digest abandoned before final must be
 * released with hash_abort (hash_abort of a finished or zeroed ctx does
 * nothing). */
struct hash_ctx {
	void *md;    /* EVP_MD_CTX */
};

int sha256_init(struct hash_ctx *c);
int sha224_init(struct hash_ctx *c);
int md5_init(struct hash_ctx *c);
void hash_update(struct hash_ctx *c, const void *data, size_t len);
/* Hex into out: 65 bytes for SHA-256, 57 for SHA-224, 33 for MD5. */
void hash_final_hex(struct hash_ctx *c, char *out);
void hash_abort(struct hash_ctx *c);

/* One-shot helpers. */
void sha256_hex(const void *data, size_t len, char out[65]);
void sha224_hex(const void *data, size_t len, char out[57]);
void md5_hex(const void *data, size_t len, char out[33]);
/* HMAC-SHA256 of data under key into out (32 bytes). */
void hmac_sha256(const void *key, size_t keylen, const void *data,
    size_t len, unsigned char out[32]);

/* ---- fernet.c, fernet_repo.c --------------------------------------------- */

#define FERNET_KEY_LEN 32     /* 16 bytes signing, 16 bytes encryption */
#define FERNET_MAX_KEYS 64

/* The keys of a repository: key[0] is the primary (the highest-numbered
 * file; it seals new tokens); every key opens tokens. */
struct fernet_keys {
	int n;
	unsigned char key[FERNET_MAX_KEYS][FERNET_KEY_LEN];
};

/* As keystone-manage fernet_setup: creates dir (0700) and, when it holds
 * no key, the staged key "0" and the primary "1" (files 0600, 44
 * characters of url-safe base64 each). An existing repository is left as
 * it is. 0, or -1 with a message in err. */
int fernet_setup(const char *dir, char *err, size_t errlen);
/* As keystone-manage fernet_rotate: the staged key 0 becomes the new
 * primary (highest number + 1), a new staged key 0 is written, and the
 * oldest secondary keys are removed so that at most max_active remain.
 * Files are written to a temporary name and renamed. 0, or -1 with err. */
int fernet_rotate(const char *dir, int max_active, char *err, size_t errlen);
/* Loads every key of dir (files named by a decimal number, 44 characters
 * of url-safe base64 decoding to 32 bytes, an optional final newline):
 * 0, or -1 with err naming the file that is wrong. A repository readable
 * by others than its owner is refused. */
int fernet_load(const char *dir, struct fernet_keys *k, char *err,
    size_t errlen);

/* The numbers of the key files of dir, ascending, into ids: their count,
 * or -1 with err (no such directory, more than FERNET_MAX_KEYS keys). */
int fernet_list(const char *dir, int ids[FERNET_MAX_KEYS], char *err,
    size_t errlen);
/* One key as written in a key file (44 characters, or 43 without the
 * padding) into key: 0, or -1. */
int fernet_key_decode(const char *s, size_t len,
    unsigned char key[FERNET_KEY_LEN]);

/* Seals msg (len bytes) with the primary key at time ts: the token
 * (url-safe base64 without padding, NUL-terminated) into out. 0, or -1
 * when out is too small. */
int fernet_seal(const struct fernet_keys *k, const void *msg, size_t len,
    uint64_t ts, char *out, size_t outlen);
/* fernet_seal with a given IV instead of a random one: for the spec's
 * test vectors only; never seal two messages with one IV. */
int fernet_seal_iv(const struct fernet_keys *k, const void *msg, size_t len,
    uint64_t ts, const unsigned char iv[16], char *out, size_t outlen);
/* Opens a token with any key: the plaintext into msg (at most cap bytes),
 * its length and the token's timestamp. 0, or -1 when the token is not
 * one of ours (bad encoding, version, HMAC or padding, or too long). */
int fernet_open(const struct fernet_keys *k, const char *token, void *msg,
    size_t cap, size_t *len, uint64_t *ts);

/* ---- token.c ------------------------------------------------------------- */

/* Authentication methods, as Keystone's bitmask. */
enum {
	TOKEN_M_PASSWORD = 2,
	TOKEN_M_TOKEN = 4,
	TOKEN_M_APPCRED = 32,
};

enum token_scope {
	TOKEN_UNSCOPED = 0,
	TOKEN_PROJECT = 1,
	TOKEN_DOMAIN = 2,
	TOKEN_SYSTEM = 3,    /* scope_id "all" */
};

#define TOKEN_ID_LEN 65        /* ids: at most 64 bytes */
#define TOKEN_AUDIT_LEN 23     /* 22 characters of base64url + NUL */
#define TOKEN_MAX 256          /* a token: at most 255 characters */

struct token {
	unsigned methods;                 /* TOKEN_M_* */
	char user_id[TOKEN_ID_LEN];
	enum token_scope scope;
	char scope_id[TOKEN_ID_LEN];      /* project or domain id; "" unscoped */
	char appcred_id[TOKEN_ID_LEN];    /* "" unless TOKEN_M_APPCRED */
	int64_t issued_at;                /* unix seconds */
	int64_t expires_at;
	char audit_ids[2][TOKEN_AUDIT_LEN]; /* [0] this token's; [1] the
	                                     * token it was rescoped from, or "" */
};

/* A new audit id: 16 random bytes as 22 characters of base64url. */
void token_audit_id(char out[TOKEN_AUDIT_LEN]);
/* Seals t (issued_at is the Fernet timestamp) into out (TOKEN_MAX bytes):
 * 0, or -1 when a field does not fit. Ids of 32 hex characters take 16
 * bytes, others their length. */
int token_seal(const struct fernet_keys *k, const struct token *t,
    char out[TOKEN_MAX]);
/* Opens and parses a token: 0, or -1 when it is not a valid token of
 * these keys (any malformed payload included). Expiry is not checked. */
int token_open(const struct fernet_keys *k, const char *s, struct token *t);

/* ---- password.c ---------------------------------------------------------- */

#define PASSWORD_HASH_MAX 128

/* A bcrypt ($2b$) hash of pw with a random salt at cost rounds (4..31):
 * 0, or -1. Only the first 72 bytes of pw count (bcrypt's limit). */
int password_hash(const char *pw, int rounds, char out[PASSWORD_HASH_MAX]);
/* True when pw matches hash (compared in constant time); false for an
 * empty or malformed hash. */
bool password_verify(const char *pw, const char *hash);
/* Constant-time comparison of two equal-length buffers. */
bool crypto_equal(const void *a, const void *b, size_t len);
/* n random bytes from the kernel: 0, or -1. */
int crypto_random(void *buf, size_t n);
/* A random secret of n bytes as url-safe base64 without padding into out
 * (4 * n / 3 + 2 bytes): Keystone's generated application credential
 * secrets are 64 bytes (86 characters). */
int crypto_secret(size_t n, char *out, size_t outlen);

/* ---- b64url.c ------------------------------------------------------------ */

/* url-safe base64 of n bytes into out (NUL-terminated), with "=" padding
 * when pad: its length, or -1 when out is too small. */
int b64url_encode(const void *in, size_t n, bool pad, char *out,
    size_t outlen);
/* Decodes len characters of s, padded or not, into out (at most cap
 * bytes): the byte count, or -1 for anything else than the canonical
 * encoding (other characters, incomplete padding, non-zero left-over
 * bits) or more than cap bytes. */
long b64url_decode(const char *s, size_t len, void *out, size_t cap);
/* Standard base64 (+/), blanks and line breaks skipped, padding optional:
 * the byte count, or -1 (another character, a bad length, > cap bytes). */
long b64std_decode(const char *s, size_t len, void *out, size_t cap);

#endif
