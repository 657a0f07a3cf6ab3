/*
 * transport_url parsing, as oslo.messaging reads it:
 *   rabbit://user:pass@host:port,user:pass@host2:port/vhost?query
 * user, password and vhost are percent-decoded; the port defaults to 5672;
 * an empty path or "/" is the vhost "/", "/kumo1" the vhost "kumo1".
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "common/common.h"
#include "common/rpc/rpc_internal.h"

#define DEFAULT_PORT 5672

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Percent-decodes src[0..n) into dst. -1 on a bad escape, a NUL byte or
 * when it does not fit. */
static int pct_decode(char *dst, size_t size, const char *src, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)src[i];
		if (c == '%') {
			int hi, lo;
			if (i + 2 >= n)
				return -1;
			hi = hexval((unsigned char)src[i + 1]);
			lo = hexval((unsigned char)src[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = hi * 16 + lo;
			i += 2;
		}
		if (c == 0 || o + 1 >= size)
			return -1;
		dst[o++] = (char)c;
	}
	dst[o] = '\0';
	return 0;
}

/* host, [v6]:port, host:port from s[0..n). */
static int parse_hostport(const char *s, size_t n, struct rpc_host *h,
    char *err, size_t errlen)
{
	const char *end = s + n, *hs = s, *he, *port = NULL;
	char pbuf[16];
	size_t hlen, plen;

	if (n > 0 && s[0] == '[') {
		he = memchr(s, ']', n);
		if (he == NULL || (he + 1 < end && he[1] != ':')) {
			str_fmt(err, errlen, "bad [address] in host");
			return -1;
		}
		hs = s + 1;
		if (he + 1 < end)
			port = he + 2;
	} else {
		he = memchr(s, ':', n);
		if (he != NULL)
			port = he + 1;
		else
			he = end;
	}
	hlen = (size_t)(he - hs);
	if (hlen == 0 || hlen >= sizeof h->host) {
		str_fmt(err, errlen, "empty or too long host");
		return -1;
	}
	memcpy(h->host, hs, hlen);
	h->host[hlen] = '\0';
	for (size_t i = 0; i < hlen; i++) {
		if (!isalnum((unsigned char)h->host[i]) && !strchr(".-_:", h->host[i])) {
			str_fmt(err, errlen, "bad character in host");
			return -1;
		}
	}
	h->port = DEFAULT_PORT;
	if (port == NULL)
		return 0;
	plen = (size_t)(end - port);
	if (plen == 0 || plen >= sizeof pbuf) {
		str_fmt(err, errlen, "bad port");
		return -1;
	}
	memcpy(pbuf, port, plen);
	pbuf[plen] = '\0';
	if (num_parse_int(pbuf, 1, 65535, &h->port) == -1) {
		str_fmt(err, errlen, "bad port '%s'", pbuf);
		return -1;
	}
	return 0;
}

/* One "user:pass@host:port" entry of the host list. */
static int parse_entry(const char *s, size_t n, struct rpc_host *h,
    const struct rpc_host *prev, char *err, size_t errlen)
{
	const char *at = NULL;

	for (size_t i = n; i > 0; i--) {
		if (s[i - 1] == '@') {
			at = s + i - 1;
			break;
		}
	}
	if (at != NULL) {
		size_t clen = (size_t)(at - s);
		const char *colon = memchr(s, ':', clen);
		size_t ulen = colon ? (size_t)(colon - s) : clen;
		if (pct_decode(h->user, sizeof h->user, s, ulen) == -1) {
			str_fmt(err, errlen, "bad user name");
			return -1;
		}
		h->pass[0] = '\0';
		if (colon && pct_decode(h->pass, sizeof h->pass, colon + 1,
		    clen - ulen - 1) == -1) {
			str_fmt(err, errlen, "bad password");
			return -1;
		}
		n -= clen + 1;
		s = at + 1;
	} else {
		str_copy(h->user, prev ? prev->user : "guest", sizeof h->user);
		str_copy(h->pass, prev ? prev->pass : "guest", sizeof h->pass);
	}
	return parse_hostport(s, n, h, err, errlen);
}

int rpc_url_parse(const char *url, struct rpc_url *out, char *err, size_t errlen)
{
	static const char scheme[] = "rabbit://";
	const char *p, *end, *path;

	memset(out, 0, sizeof *out);
	if (url == NULL || strncmp(url, scheme, sizeof scheme - 1) != 0) {
		str_fmt(err, errlen, "transport_url must start with %s", scheme);
		return -1;
	}
	p = url + sizeof scheme - 1;
	end = p + strcspn(p, "?#");
	path = memchr(p, '/', (size_t)(end - p));
	if (path == NULL)
		path = end;
	while (p < path) {
		const char *comma = memchr(p, ',', (size_t)(path - p));
		const char *e = comma ? comma : path;
		if (out->n_hosts == RPC_MAX_HOSTS) {
			str_fmt(err, errlen, "more than %d hosts", RPC_MAX_HOSTS);
			return -1;
		}
		if (parse_entry(p, (size_t)(e - p), &out->hosts[out->n_hosts],
		    out->n_hosts ? &out->hosts[out->n_hosts - 1] : NULL,
		    err, errlen) == -1)
			return -1;
		out->n_hosts++;
		p = comma ? comma + 1 : path;
	}
	if (out->n_hosts == 0) {
		str_fmt(err, errlen, "no host in transport_url");
		return -1;
	}
	if (path >= end || path + 1 == end) {
		str_copy(out->vhost, "/", sizeof out->vhost);
	} else if (pct_decode(out->vhost, sizeof out->vhost, path + 1,
	    (size_t)(end - path - 1)) == -1) {
		str_fmt(err, errlen, "bad virtual host");
		return -1;
	}
	if (*end != '\0')
		log_info("rpc: transport_url options '%s' ignored", end);
	return 0;
}
