/*
 * Password hashes and secrets (crypto.h): bcrypt through libxcrypt's
 * re-entrant crypt_rn with a struct crypt_data per call (no crypt(), whose
 * static buffer threads would share), randomness from getrandom(2).
 *
 * bcrypt hashes only the first 72 bytes of a password: two passwords that
 * share them verify against each other's hash. Keystone has the same limit
 * (passlib's bcrypt) and refuses nothing longer either.
 */
#include <crypt.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/crypto.h>

#include "common/common.h"
#include "common/crypto.h"

#define SECRET_MAX 1024   /* bytes of one crypto_secret */

bool crypto_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

int crypto_random(void *buf, size_t n)
{
	unsigned char *p = buf;
	ssize_t got;

	while (n > 0) {
		if ((got = getrandom(p, n, 0)) < 0) {
			if (errno == EINTR)
				continue;
			log_warn("getrandom");
			return -1;
		}
		p += got;
		n -= (size_t)got;
	}
	return 0;
}

int crypto_secret(size_t n, char *out, size_t outlen)
{
	unsigned char buf[SECRET_MAX];
	int rc = -1;

	if (n == 0 || n > sizeof buf || crypto_random(buf, n) < 0)
		goto fail;
	if (b64url_encode(buf, n, false, out, outlen) < 0)
		goto fail;
	rc = 0;
fail:
	explicit_bzero(buf, sizeof buf);
	return rc;
}

/* crypt_rn of pw under setting (a salt or a whole hash) into out:
 * 0, or -1 when libxcrypt refuses it (it answers "*0" or "*1" then). */
static int bcrypt_run(const char *pw, const char *setting, char *out,
    size_t outlen)
{
	struct crypt_data *cd = calloc(1, sizeof *cd);
	const char *h;
	int rc = -1;

	if (cd == NULL)
		return -1;
	h = crypt_rn(pw, setting, cd, (int)sizeof *cd);
	if (h == NULL || h[0] == '*' || str_copy(out, h, outlen) < 0)
		goto fail;
	rc = 0;
fail:
	explicit_bzero(cd, sizeof *cd);
	free(cd);
	return rc;
}

int password_hash(const char *pw, int rounds, char out[PASSWORD_HASH_MAX])
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];

	out[0] = '\0';
	if (pw == NULL || rounds < 4 || rounds > 31)
		return -1;
	if (crypt_gensalt_rn("$2b$", (unsigned long)rounds, NULL, 0, salt,
	    (int)sizeof salt) == NULL) {
		log_warn("crypt_gensalt_rn");
		return -1;
	}
	if (bcrypt_run(pw, salt, out, PASSWORD_HASH_MAX) < 0) {
		log_warnx("bcrypt failed");
		out[0] = '\0';
		return -1;
	}
	return 0;
}

bool password_verify(const char *pw, const char *hash)
{
	char again[PASSWORD_HASH_MAX];
	size_t len;
	bool ok;

	if (pw == NULL || hash == NULL || strncmp(hash, "$2", 2) != 0)
		return false;
	len = strnlen(hash, PASSWORD_HASH_MAX);
	if (len == PASSWORD_HASH_MAX || bcrypt_run(pw, hash, again,
	    sizeof again) < 0 || strlen(again) != len)
		return false;
	ok = crypto_equal(again, hash, len);
	explicit_bzero(again, sizeof again);
	return ok;
}
