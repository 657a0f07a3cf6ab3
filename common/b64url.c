/*
 * url-safe base64 (RFC 4648, section 5), as Fernet and Keystone write it.
 * The decoder takes only the canonical form: the alphabet, padding that is
 * absent or complete, and zero bits in what the last character leaves
 * over, so that one byte string has exactly one (unpadded) encoding.
 */
#include <string.h>

#include "common/crypto.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int b64url_encode(const void *in, size_t n, bool pad, char *out,
    size_t outlen)
{
	const unsigned char *p = in;
	size_t len = n / 3 * 4 + (n % 3 == 0 ? 0 : pad ? 4 : n % 3 + 1), o = 0;

	if (len >= outlen || len > INT32_MAX)
		return -1;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		size_t left = n - i;

		if (left > 1)
			v |= (uint32_t)p[i + 1] << 8;
		if (left > 2)
			v |= p[i + 2];
		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		if (left > 1)
			out[o++] = alphabet[v >> 6 & 63];
		if (left > 2)
			out[o++] = alphabet[v & 63];
	}
	while (o < len)
		out[o++] = '=';
	out[o] = '\0';
	return (int)len;
}

static int b64url_value(char c)
{
	const char *p = c != '\0' ? strchr(alphabet, c) : NULL;

	return p != NULL ? (int)(p - alphabet) : -1;
}

long b64url_decode(const char *s, size_t len, void *out, size_t cap)
{
	unsigned char *o = out;
	size_t n = 0, chars = len;
	uint32_t acc = 0;
	int bits = 0, v;

	if (len % 4 == 0 && len > 0 && s[len - 1] == '=')
		chars = len - (s[len - 2] == '=' ? 2 : 1);
	if (chars % 4 == 1 || (chars != len && chars % 4 == 0))
		return -1;
	for (size_t i = 0; i < chars; i++) {
		if ((v = b64url_value(s[i])) < 0)
			return -1;
		acc = (acc << 6 | (uint32_t)v) & 0xffffff;
		if ((bits += 6) < 8)
			continue;
		bits -= 8;
		if (n == cap)
			return -1;
		o[n++] = (unsigned char)(acc >> bits);
	}
	/* The bits left over must be zero: a canonical encoding. */
	if ((acc & ((1u << bits) - 1)) != 0)
		return -1;
	return (long)n;
}

/* Standard base64 (RFC 4648, section 4), as user data comes to Nova:
 * line breaks and blanks between characters are skipped, padding may be
 * left out; anything else than the alphabet is refused. */
long b64std_decode(const char *s, size_t len, void *out, size_t cap)
{
	static const char std[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char *o = out;
	size_t n = 0, chars = 0, pads = 0;
	uint32_t acc = 0;
	int bits = 0;

	for (size_t i = 0; i < len; i++) {
		const char *p;

		if (s[i] == '\n' || s[i] == '\r' || s[i] == ' ' || s[i] == '\t')
			continue;
		if (s[i] == '=') {
			pads++;
			continue;
		}
		if (pads > 0 || s[i] == '\0' || (p = strchr(std, s[i])) == NULL)
			return -1;
		chars++;
		acc = (acc << 6 | (uint32_t)(p - std)) & 0xffffff;
		if ((bits += 6) < 8)
			continue;
		bits -= 8;
		if (n == cap)
			return -1;
		o[n++] = (unsigned char)(acc >> bits);
	}
	if (chars % 4 == 1 || pads > 2 || (pads > 0 && (chars + pads) % 4 != 0))
		return -1;
	return (long)n;
}
