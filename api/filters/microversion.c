/*
 * microversion: "OpenStack-API-Version: compute X.Y" (or the legacy
 * "X-OpenStack-Nova-API-Version: X.Y"), "latest" = the maximum. Absent:
 * 2.1. Malformed: 400 without version headers; out of range: 406 that
 * echoes the version asked for (both as Nova). Replies carry the version
 * in both headers and two Vary headers.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"

/* A decimal without a leading zero (unless it is "0"), clamped to 999999. */
static int parse_part(const char *s, size_t n, int *out)
{
	int v = 0;

	if (n == 0 || n > 64 || (n > 1 && s[0] == '0'))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		if (v < 999999)
			v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int mv_parse(const char *s, int *mv)
{
	const char *dot;
	int major, minor;

	if (s == NULL)
		return -1;
	if (strcasecmp(s, "latest") == 0) {
		*mv = API_MV_MAX;
		return 0;
	}
	if ((dot = strchr(s, '.')) == NULL)
		return -1;
	if (parse_part(s, (size_t)(dot - s), &major) < 0 || major == 0 ||
	    parse_part(dot + 1, strlen(dot + 1), &minor) < 0)
		return -1;
	if (major > 999)
		return -1;
	/* Minors past 999 are well formed and simply unsupported. */
	*mv = API_MV(major, minor > 999 ? 999 : minor);
	return 0;
}

const char *mv_from_openstack_header(const char *v, char *buf, size_t len)
{
	const char *p = v;

	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		while (n > 0 && isspace((unsigned char)*p))
			p++, n--;
		while (n > 0 && isspace((unsigned char)p[n - 1]))
			n--;
		if (n > 8 && strncasecmp(p, "compute", 7) == 0 &&
		    isspace((unsigned char)p[7])) {
			const char *ver = p + 8;
			size_t vn = n - 8;

			while (vn > 0 && isspace((unsigned char)*ver))
				ver++, vn--;
			if (vn >= len)
				vn = len - 1;
			memcpy(buf, ver, vn);
			buf[vn] = '\0';
			return buf;
		}
		p = end ? end + 1 : NULL;
	}
	return NULL;
}

static enum api_rc microversion_request(struct api_req *r)
{
	char buf[64];
	const char *v;

	if (r->route != NULL && (r->route->flags & ROUTE_NOVERSION))
		return API_NEXT;
	v = mv_from_openstack_header(api_header_get(r, "OpenStack-API-Version"),
	    buf, sizeof buf);
	if (v == NULL)
		v = api_header_get(r, "X-OpenStack-Nova-API-Version");
	if (v == NULL) {
		r->mv = API_MV_MIN;
	} else if (mv_parse(v, &r->mv) < 0) {
		return api_error(r, ERR_MV_MALFORMED, v);
	} else if (r->mv < API_MV_MIN || r->mv > API_MV_MAX) {
		str_copy(r->mv_echo, v, sizeof r->mv_echo);
		return api_error(r, ERR_MV_UNSUPPORTED, r->mv_echo);
	}
	str_fmt(r->mv_echo, sizeof r->mv_echo, "%d.%d", r->mv / 1000,
	    r->mv % 1000);
	return API_NEXT;
}

static void microversion_response(struct api_req *r)
{
	if (r->mv_echo[0] == '\0')
		return;
	api_header_add(r, "OpenStack-API-Version", "compute %s", r->mv_echo);
	api_header_add(r, "X-OpenStack-Nova-API-Version", "%s", r->mv_echo);
	api_header_add(r, "Vary", "OpenStack-API-Version");
	api_header_add(r, "Vary", "X-OpenStack-Nova-API-Version");
}

const struct api_filter filter_microversion = {
	.name = "microversion",
	.request = microversion_request,
	.response = microversion_response,
};
