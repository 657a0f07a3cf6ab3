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

#define BLOB_MAX 8192

/* ---- MD5 (RFC 1321) ---- */

struct md5 {
	uint32_t h[4];
	uint64_t len;
	unsigned char buf[64];
	size_t n;
};

static const uint32_t md5_k[64] = {
	0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a,
	0xa8304613, 0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be,
	0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340,
	0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
	0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8,
	0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c,
	0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
	0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
	0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92,
	0xffeff47d, 0x85845dd1, 0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1,
	0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};
static const unsigned char md5_r[64] = {
	7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
	5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
	4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
	6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
};

static void md5_block(struct md5 *m, const unsigned char *p)
{
	uint32_t w[16], a = m->h[0], b = m->h[1], c = m->h[2], d = m->h[3];

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[i * 4] | (uint32_t)p[i * 4 + 1] << 8 |
		    (uint32_t)p[i * 4 + 2] << 16 | (uint32_t)p[i * 4 + 3] << 24;
	for (int i = 0; i < 64; i++) {
		uint32_t f, t;
		int g;

		if (i < 16) { f = (b & c) | (~b & d); g = i; }
		else if (i < 32) { f = (d & b) | (~d & c); g = (5 * i + 1) % 16; }
		else if (i < 48) { f = b ^ c ^ d; g = (3 * i + 5) % 16; }
		else { f = c ^ (b | ~d); g = (7 * i) % 16; }
		t = d;
		d = c;
		c = b;
		f += a + md5_k[i] + w[g];
		b += (f << md5_r[i]) | (f >> (32 - md5_r[i]));
		a = t;
	}
	m->h[0] += a;
	m->h[1] += b;
	m->h[2] += c;
	m->h[3] += d;
}

static void md5_update(struct md5 *m, const unsigned char *p, size_t len)
{
	m->len += len;
	while (len > 0) {
		size_t take = 64 - m->n < len ? 64 - m->n : len;

		memcpy(m->buf + m->n, p, take);
		m->n += take;
		p += take;
		len -= take;
		if (m->n == 64) {
			md5_block(m, m->buf);
			m->n = 0;
		}
	}
}

static void md5_digest(const unsigned char *p, size_t len, unsigned char out[16])
{
	struct md5 m = { { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476 }, 0, { 0 }, 0 };
	unsigned char pad[72] = { 0x80 };
	uint64_t bits = 0;
	size_t padlen;

	md5_update(&m, p, len);
	bits = m.len * 8;
	padlen = m.n < 56 ? 56 - m.n : 120 - m.n;
	for (int i = 0; i < 8; i++)
		pad[padlen + (size_t)i] = (unsigned char)(bits >> (8 * i));
	md5_update(&m, pad, padlen + 8);
	for (int i = 0; i < 16; i++)
		out[i] = (unsigned char)(m.h[i / 4] >> (8 * (i % 4)));
}

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
	unsigned char blob[BLOB_MAX], digest[16];
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
	md5_digest(blob, (size_t)n, digest);
	for (int i = 0; i < 16; i++)
		snprintf(out + i * 3, 4, "%02x%s", digest[i], i < 15 ? ":" : "");
	return 0;
}
