/*
 * OpenSSH public keys for os-keypairs: the "type base64 [comment]" line is
 * checked (the blob is a sequence of length-prefixed fields that starts with
 * the same type and holds that type's fields), and fingerprinted as Nova
 * does: MD5 of the blob as colon-separated hex pairs.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "common/crypto.h"

#define BLOB_MAX 8192

/* ---- base64 ---- */

static int b64_value(int c)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = c ? strchr(alphabet, c) : NULL;

	return p ? (int)(p - alphabet) : -1;
}

/* Strict base64 (padding required) of s[0..len) into out: its length, or -1. */
static long b64_decode(const char *s, size_t len, unsigned char *out, size_t cap)
{
	size_t o = 0;

	if (len == 0 || len % 4 != 0)
		return -1;
	for (size_t i = 0; i < len; i += 4) {
		int v[4], pads = 0;

		for (int j = 0; j < 4; j++) {
			v[j] = s[i + j] == '=' ? 0 : b64_value((unsigned char)s[i + j]);
			pads += s[i + j] == '=';
			if (v[j] < 0 || (pads && s[i + j] != '=') ||
			    (pads && i + 4 != len) || (s[i + j] == '=' && j < 2))
				return -1;
		}
		if (o + 3 > cap)
			return -1;
		out[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		out[o++] = (unsigned char)(v[1] << 4 | v[2] >> 2);
		out[o++] = (unsigned char)(v[2] << 6 | v[3]);
		o -= (size_t)pads;
	}
	return (long)o;
}

/* ---- the blob ---- */

/* The next length-prefixed field at *off; false when it overruns. */
static bool blob_field(const unsigned char *b, size_t len, size_t *off,
    const unsigned char **f, size_t *flen)
{
	uint32_t n;

	if (len - *off < 4)
		return false;
	n = (uint32_t)b[*off] << 24 | (uint32_t)b[*off + 1] << 16 |
	    (uint32_t)b[*off + 2] << 8 | b[*off + 3];
	*off += 4;
	if (n > len - *off)
		return false;
	*f = b + *off;
	*flen = n;
	*off += n;
	return true;
}

/* Key types and how many fields follow the type in their blob. */
static const struct {
	const char *type;
	int fields;
} key_types[] = {
	{ "ssh-rsa", 2 }, { "ssh-dss", 4 }, { "ssh-ed25519", 1 },
	{ "ecdsa-sha2-nistp256", 2 }, { "ecdsa-sha2-nistp384", 2 },
	{ "ecdsa-sha2-nistp521", 2 },
};

static bool blob_valid(const char *type, const unsigned char *b, size_t len)
{
	const unsigned char *f;
	size_t off = 0, flen;
	int want = -1;

	for (size_t i = 0; i < sizeof key_types / sizeof *key_types; i++)
		if (strcmp(type, key_types[i].type) == 0)
			want = key_types[i].fields;
	if (want < 0 || !blob_field(b, len, &off, &f, &flen) ||
	    flen != strlen(type) || memcmp(f, type, flen) != 0)
		return false;
	for (int i = 0; i < want; i++)
		if (!blob_field(b, len, &off, &f, &flen) || flen == 0)
			return false;
	return off == len;
}

int sshkey_fingerprint(const char *public_key, char out[48])
{
	unsigned char blob[BLOB_MAX];
	char hex[33];
	char type[32];
	const char *p = public_key, *b64;
	size_t tlen, blen;
	long n;

	p += strspn(p, " \t\r\n");
	tlen = strcspn(p, " \t\r\n");
	if (tlen == 0 || tlen >= sizeof type)
		return -1;
	memcpy(type, p, tlen);
	type[tlen] = '\0';
	b64 = p + tlen + strspn(p + tlen, " \t");
	blen = strcspn(b64, " \t\r\n");
	if ((n = b64_decode(b64, blen, blob, sizeof blob)) < 0 ||
	    !blob_valid(type, blob, (size_t)n))
		return -1;
	md5_hex(blob, (size_t)n, hex);
	for (int i = 0; i < 16; i++)
		snprintf(out + i * 3, 4, "%.2s%s", hex + 2 * i, i < 15 ? ":" : "");
	return 0;
}
