/* Number parsing, uuids, clocks and bounded strings. */
#include <dlfcn.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <uuid/uuid.h>

#include "common.h"

int num_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0' || *s == ' ' || *s == '\t')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int num_parse_int(const char *s, int min, int max, int *out)
{
	int64_t v;

	if (num_parse_i64(s, min, max, &v) < 0)
		return -1;
	*out = (int)v;
	return 0;
}

int num_parse_double(const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	if (s == NULL || *s == '\0' || *s == ' ' || *s == '\t')
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !isfinite(v) || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* A version 4 uuid from one getrandom(2): libuuid's uuid_generate_random
 * also reseeds random(3) from getpid, getuid, getppid and gettid at every
 * call, six system calls more for each request id and RPC message id. */
static void uuid_random(uuid_t u)
{
	size_t got = 0;
	ssize_t n;

	while (got < sizeof(uuid_t)) {
		if ((n = getrandom(u + got, sizeof(uuid_t) - got, 0)) < 0) {
			if (errno == EINTR)
				continue;
			uuid_generate_random(u);  /* no getrandom: libuuid's way */
			return;
		}
		got += (size_t)n;
	}
	u[6] = (u[6] & 0x0f) | 0x40;  /* version 4 */
	u[8] = (u[8] & 0x3f) | 0x80;  /* variant 1 (RFC 4122) */
}

void uuid_new_str(char out[UUID_STR_LEN])
{
	uuid_t u;

	uuid_random(u);
	uuid_unparse_lower(u, out);
}

void uuid_new_hex(char out[UUID_HEX_LEN])
{
	static const char hex[] = "0123456789abcdef";
	uuid_t u;

	uuid_random(u);
	for (int i = 0; i < 16; i++) {
		out[2 * i] = hex[u[i] >> 4];
		out[2 * i + 1] = hex[u[i] & 15];
	}
	out[32] = '\0';
}

bool uuid_valid(const char *s)
{
	if (s == NULL || strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		char c = s[i];
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return false;
		} else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		    (c >= 'A' && c <= 'F'))) {
			return false;
		}
	}
	return true;
}

uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t now_ms(void) { return now_us() / 1000u; }

void time_iso8601_at(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void time_iso8601(char out[32])
{
	time_iso8601_at((int64_t)time(NULL), out);
}

int time_parse_utc(const char *s, int64_t *out)
{
	struct tm tm;
	const char *p;
	time_t t;

	memset(&tm, 0, sizeof tm);
	if ((p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return -1;
	if (*p == '.') {
		if (!isdigit((unsigned char)*++p))
			return -1;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (strcmp(p, "Z") != 0 || (t = timegm(&tm)) == (time_t)-1)
		return -1;
	*out = t;
	return 0;
}

int str_copy(char *dst, const char *src, size_t size)
{
	size_t n;

	if (size == 0)
		return -1;
	n = strlen(src);
	if (n >= size) {
		memcpy(dst, src, size - 1);
		dst[size - 1] = '\0';
		return -1;
	}
	memcpy(dst, src, n + 1);
	return 0;
}

size_t utf8_seq_len(const unsigned char *p, size_t n)
{
	uint32_t cp;

	return utf8_decode(p, n, &cp);
}

size_t utf8_decode(const unsigned char *p, size_t n, uint32_t *cp_out)
{
	size_t need;
	uint32_t cp;

	if (p[0] < 0x80) {
		*cp_out = p[0];
		return 1;
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		need = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		need = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		need = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (n < need)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((need == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (need == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	*cp_out = cp;
	return need;
}

/* Unicode 15's general categories Cc, Cf, Zs (but the space), Zl, Zp. */
static const struct { uint32_t lo, hi; } unprintable[] = {
	{ 0x0000, 0x001f }, { 0x007f, 0x00a0 }, { 0x00ad, 0x00ad },
	{ 0x0600, 0x0605 }, { 0x061c, 0x061c }, { 0x06dd, 0x06dd },
	{ 0x070f, 0x070f }, { 0x0890, 0x0891 }, { 0x08e2, 0x08e2 },
	{ 0x1680, 0x1680 }, { 0x180e, 0x180e }, { 0x2000, 0x200f },
	{ 0x2028, 0x202f }, { 0x205f, 0x2064 }, { 0x2066, 0x206f },
	{ 0x3000, 0x3000 }, { 0xfeff, 0xfeff }, { 0xfff9, 0xfffb },
	{ 0x110bd, 0x110bd }, { 0x110cd, 0x110cd }, { 0x13430, 0x1343f },
	{ 0x1bca0, 0x1bca3 }, { 0x1d173, 0x1d17a }, { 0xe0001, 0xe0001 },
	{ 0xe0020, 0xe007f },
};

bool unicode_printable(uint32_t cp)
{
	for (size_t i = 0; i < sizeof unprintable / sizeof *unprintable; i++)
		if (cp >= unprintable[i].lo && cp <= unprintable[i].hi)
			return false;
	return true;
}

bool utf8_printable(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), len;
	uint32_t cp;

	while (n > 0) {
		if ((len = utf8_decode(p, n, &cp)) == 0 || !unicode_printable(cp))
			return false;
		p += len;
		n -= len;
	}
	return true;
}

int str_to_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "1", "t", "true", "on", "y", "yes" };
	static const char *const no[] = { "0", "f", "false", "off", "n", "no" };
	size_t n;

	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
	    s[n - 1] == '\n' || s[n - 1] == '\r'))
		n--;
	for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
		if (strlen(yes[i]) == n && strncasecmp(s, yes[i], n) == 0) {
			*out = true;
			return 0;
		}
		if (strlen(no[i]) == n && strncasecmp(s, no[i], n) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

int str_copy_utf8(char *dst, const char *src, size_t size)
{
	size_t n, i;

	if (str_copy(dst, src, size) == 0)
		return 0;
	/* Find the last character's lead byte; drop that character when the
	 * cut left it short of the bytes its lead byte announces. */
	n = strlen(dst);
	i = n;
	while (i > 0 && ((unsigned char)dst[i - 1] & 0xC0) == 0x80)
		i--;
	if (i > 0) {
		unsigned char lead = (unsigned char)dst[i - 1];
		size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
		if (n - (i - 1) < need)
			n = i - 1;
	}
	dst[n] = '\0';
	return -1;
}

int str_fmt(char *dst, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(dst, size, fmt, ap);
	va_end(ap);
	return (n < 0 || (size_t)n >= size) ? -1 : 0;
}

_Static_assert(sizeof(void *) == sizeof(void (*)(void)),
    "dlsym's void * must hold a function's address");

int dl_load_table(const char *soname, const struct dl_symbol *syms, size_t n,
    void *table, const char *need, char *err, size_t errlen)
{
	const char *e;
	void *h, *f;

	if ((h = dlopen(soname, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		e = dlerror();
		snprintf(err, errlen, "%s: %s", need, e != NULL ? e : "not found");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if ((f = dlsym(h, syms[i].name)) == NULL) {
			snprintf(err, errlen, "%s has no %s", soname, syms[i].name);
			dlclose(h);
			return -1;
		}
		/* POSIX: a function's address from dlsym converts back. */
		memcpy((char *)table + syms[i].offset, &f, sizeof f);
	}
	return 0;
}
